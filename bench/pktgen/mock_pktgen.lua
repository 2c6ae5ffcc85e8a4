-- SPDX-License-Identifier: BSD-3-Clause
-- A stand-in for pktgen-dpdk's Lua API, to check the profiles without pktgen or NICs (check.sh): every function the
-- profiles call exists with the argument count that pktgen's app/lpktgenlib.c accepts, and a simulated gateway
-- forwards up to MOCK_CAPACITY percent of line rate (10 Gb/s, 64-byte frames: 14.88 Mpps) without loss.
local capacity = tonumber(os.getenv("MOCK_CAPACITY") or "63.7")
local line_pps = 14880952
local calls = {}
MOCK_CALLS = calls

local state = {rate = 100, sending = false, ms = 0, tx = 0, rx = 0, started = false}

local function want(name, n, ...)
	local got = select("#", ...)
	local ok = false
	for _, k in ipairs(type(n) == "table" and n or {n}) do
		ok = ok or (got == k)
	end
	if not ok then
		error(string.format("pktgen.%s: %d arguments, pktgen accepts %s", name, got,
			type(n) == "table" and table.concat(n, " or ") or tostring(n)), 3)
	end
	for i = 1, got do
		local v = select(i, ...)
		if type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "table" then
			error(string.format("pktgen.%s: argument %d is a %s", name, i, type(v)), 3)
		end
	end
	calls[#calls + 1] = name
end

local function portlist(name, p)
	if type(p) ~= "string" then
		error(string.format("pktgen.%s: the port list must be a string, got %s", name, type(p)), 3)
	end
end

local function fn(name, n, body)
	return function(...)
		want(name, n, ...)
		if body then
			return body(...)
		end
	end
end

local function smmi(name, value_kind)
	return fn("range." .. name, 3, function(p, what, v)
		portlist("range." .. name, p)
		if what ~= "start" and what ~= "min" and what ~= "max" and what ~= "inc" then
			error("pktgen.range." .. name .. ": start|min|max|inc expected, got " .. tostring(what), 2)
		end
		if value_kind == "int" and math.type(v) ~= "integer" then
			error("pktgen.range." .. name .. ": integer value expected, got " .. tostring(v), 2)
		end
	end)
end

pktgen = {
	screen = fn("screen", 1),
	stop = fn("stop", 1, function(p)
		portlist("stop", p)
		if state.sending then
			local pps = line_pps * state.rate / 100
			state.tx = math.floor(pps * state.ms / 1000)
			state.rx = state.rate <= capacity and state.tx or math.floor(line_pps * capacity / 100 * state.ms / 1000)
			state.sending = false
		end
	end),
	start = fn("start", 1, function(p)
		portlist("start", p)
		state.sending, state.ms, state.started = true, 0, true
	end),
	set = fn("set", 3, function(p, what, v)
		portlist("set", p)
		if what == "rate" then
			state.rate = tonumber(v)
		end
	end),
	set_type = fn("set_type", 2),
	set_proto = fn("set_proto", 2),
	set_mac = fn("set_mac", 3),
	set_ipaddr = fn("set_ipaddr", 3),
	vlan = fn("vlan", 2),
	vlanid = fn("vlanid", 2),
	seqTable = fn("seqTable", 3, function(i, p, t)
		if math.type(i) ~= "integer" or i < 0 or i > 15 then
			error("pktgen.seqTable: sequence index 0..15 expected", 2)
		end
		for _, k in ipairs({"eth_dst_addr", "eth_src_addr", "ip_dst_addr", "ip_src_addr", "sport", "dport",
			"ethType", "ipProto", "pktSize"}) do
			if t[k] == nil then
				error("pktgen.seqTable: field " .. k .. " missing", 2)
			end
		end
	end),
	set_range = fn("set_range", 2),
	pcap = fn("pcap", 2),
	latency = fn("latency", 2),
	clr = fn("clr", 0, function()
		state.tx, state.rx = 0, 0
	end),
	delay = fn("delay", 1, function(ms)
		if state.sending then
			state.ms = state.ms + ms
		end
	end),
	portStats = fn("portStats", 2, function(p, kind)
		local t = {n = 2}
		t[0] = {opackets = state.tx, ipackets = 0}
		t[1] = {opackets = 0, ipackets = state.rx}
		return t
	end),
	pktStats = fn("pktStats", 1, function(p)
		return {n = 1, [tonumber(p)] = {latency = {num_pkts = 10, avg_us = 12}}}
	end),
	portInfo = fn("portInfo", 1, function(p)
		return {n = 1, [tonumber(p)] = {l2_l3_info = {src_mac = "3c:fd:fe:00:00:01"}}}
	end),
	range = {
		dst_mac = fn("range.dst_mac", 3), src_mac = fn("range.src_mac", 3),
		dst_ip = smmi("dst_ip"), src_ip = smmi("src_ip"),
		src_port = smmi("src_port", "int"), dst_port = smmi("dst_port", "int"),
		vlan_id = smmi("vlan_id", "int"), pkt_size = smmi("pkt_size", "int"),
	},
}

function MOCK_CAPACITY()
	return capacity
end
