-- SPDX-License-Identifier: BSD-3-Clause
--
-- npsgw benchmark profiles for pktgen-dpdk: shared settings, the traffic set-ups of the scenarios, and an RFC 2544
-- throughput search (binary search on the offered rate, loss = packets sent on the tx port - packets received on
-- the rx port) with a confirmation trial that also measures latency. Read by the profile scripts of this
-- directory (v4-64.lua, vrf-vlans.lua, ...); see README.md for the lab set-up.
--
-- Topology: pktgen port NPSGW_TX_PORT -> npsd device "in" (interface in0, 10.0.0.1/24, fd00::1/64, MAC
-- NPSGW_GW_MAC) ... npsd device "out" (out0, 10.1.0.1/24, fd00:1::1/64) -> pktgen port NPSGW_RX_PORT, whose MAC is
-- npsd's static neighbour 10.1.0.2 / fd00:1::2. The addresses are those of bench/bench.py's scenarios.
--
-- Settings come from the environment (pktgen's Lua has os.getenv):
--   NPSGW_TX_PORT (0), NPSGW_RX_PORT (1)   pktgen port numbers
--   NPSGW_GW_MAC (02:00:00:00:00:01)        MAC of npsd's receiving interface
--   NPSGW_SRC_MAC                           MAC of the tx port (default: asked from pktgen, else 02:00:00:00:00:aa)
--   NPSGW_MODE (search)                     search: RFC 2544 search; run: send at NPSGW_RATE % and return
--   NPSGW_RATE (100)                        rate of "run" mode, percent of the tx port's line rate
--   NPSGW_TRIAL_MS (10000), NPSGW_CONFIRM_MS (60000), NPSGW_SETTLE_MS (2000)
--   NPSGW_RESOLUTION (0.5)                  stop the search when hi - lo <= this, in percent of line rate
--   NPSGW_MAX_TRIALS (12), NPSGW_LOSS (0)   search trials; loss ratio still counted as zero loss
--   NPSGW_OUT (npsgw-pktgen-results.txt)    results are appended to this file as well as printed

local M = {}

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		return default
	end
	return v
end

M.cfg = {
	tx = env("NPSGW_TX_PORT", "0"),
	rx = env("NPSGW_RX_PORT", "1"),
	gw_mac = env("NPSGW_GW_MAC", "02:00:00:00:00:01"),
	src_mac = env("NPSGW_SRC_MAC", nil),
	mode = env("NPSGW_MODE", "search"),
	rate = tonumber(env("NPSGW_RATE", "100")),
	trial_ms = tonumber(env("NPSGW_TRIAL_MS", "10000")),
	confirm_ms = tonumber(env("NPSGW_CONFIRM_MS", "60000")),
	settle_ms = tonumber(env("NPSGW_SETTLE_MS", "2000")),
	resolution = tonumber(env("NPSGW_RESOLUTION", "0.5")),
	max_trials = tonumber(env("NPSGW_MAX_TRIALS", "12")),
	loss = tonumber(env("NPSGW_LOSS", "0")),
	out = env("NPSGW_OUT", "npsgw-pktgen-results.txt"),
}
local cfg = M.cfg

-- Addresses of bench/bench.py: destinations inside the routed prefixes, sources in the benchmarking ranges.
M.V4_DST, M.V4_SRC = "16.0.0.1", "198.18.0.1/15"
M.V6_DST, M.V6_SRC = "2000::1", "fd00:ff::1/32"

-- Frame sizes as pktgen counts them (with the 4-byte FCS), by the IP length of bench/gen_traffic.py: "64" is
-- IP length 46 for IPv4 (a 64-byte frame) and 48 for IPv6 (66 bytes: the smallest UDP/IPv6 frame), "1500" is
-- IP length 1500 (1518 bytes). IMIX: 7:4:1 of the small size, 594 and 1518.
M.SIZES = {[4] = {["64"] = 64, ["594"] = 594, ["1500"] = 1518}, [6] = {["64"] = 66, ["594"] = 594, ["1500"] = 1518}}

local function log(fmt, ...)
	local line = string.format(fmt, ...)
	print(line)
	local f = io.open(cfg.out, "a")
	if f then
		f:write(line, "\n")
		f:close()
	end
end
M.log = log

-- The tx port's own MAC, for the modes whose packets carry an explicit source MAC (sequence, range).
function M.src_mac()
	if cfg.src_mac then
		return cfg.src_mac
	end
	local ok, info = pcall(pktgen.portInfo, cfg.tx)
	if ok and type(info) == "table" then
		local p = info[tonumber(cfg.tx)]
		if type(p) == "table" and type(p.l2_l3_info) == "table" and p.l2_l3_info.src_mac then
			return p.l2_l3_info.src_mac
		end
	end
	return "02:00:00:00:00:aa"
end

-- One flow: pktgen's "single" mode.
function M.single(t)
	local fam = t.family or 4
	local tx = cfg.tx
	pktgen.set_type(tx, fam == 4 and "ipv4" or "ipv6")
	pktgen.set_proto(tx, "udp")
	pktgen.set_mac(tx, "dst", cfg.gw_mac)
	pktgen.set_ipaddr(tx, "dst", t.dst or (fam == 4 and M.V4_DST or M.V6_DST))
	pktgen.set_ipaddr(tx, "src", t.src or (fam == 4 and M.V4_SRC or M.V6_SRC))
	pktgen.set(tx, "sport", t.sport or 1024)
	pktgen.set(tx, "dport", t.dport or 1024)
	pktgen.set(tx, "size", M.SIZES[fam][t.size or "64"])
	if t.vlan then
		pktgen.vlanid(tx, t.vlan)
		pktgen.vlan(tx, "on")
	end
end

-- IPv4 simple IMIX in pktgen's "sequence" mode: 12 packets, 7 x 64, 4 x 594, 1 x 1518 bytes, in the same kind of
-- shuffled order as bench/gen_traffic.py, each to its own destination inside 16.0.0.0/4.
M.IMIX_ORDER = {"64", "594", "64", "64", "1500", "64", "594", "64", "64", "594", "64", "594"}

function M.imix4()
	local src = M.src_mac()
	for i, size in ipairs(M.IMIX_ORDER) do
		pktgen.seqTable(i - 1, cfg.tx, {
			eth_dst_addr = cfg.gw_mac,
			eth_src_addr = src,
			ip_dst_addr = string.format("16.%d.%d.1", i, i * 7 % 256),
			ip_src_addr = M.V4_SRC,
			sport = 1024 + i,
			dport = 2048 + i,
			ethType = "ipv4",
			ipProto = "udp",
			vlanid = 1,
			pktSize = M.SIZES[4][size],
		})
	end
	pktgen.set(cfg.tx, "seq_cnt", #M.IMIX_ORDER)
end

-- Many flows in pktgen's "range" mode (IPv4: pktgen's ranges take IPv4 addresses): NDST consecutive destinations
-- from 16.0.0.1, source ports 1024..65535; with VLANS, 802.1Q tags 1..VLANS (the vrf-N scenarios: VLAN i is the
-- sub-interface of VRF i-1 on both sides). Every field steps once per packet.
local function ip4(n)
	return string.format("%d.%d.%d.%d", (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end
M.ip4 = ip4

function M.range4(t)
	local tx = cfg.tx
	local first = (16 << 24) + 1
	local last = first + (t.ndst or 65536) - 1
	local size = M.SIZES[4][t.size or "64"]
	pktgen.set_type(tx, "ipv4")
	pktgen.set_proto(tx, "udp")
	pktgen.range.dst_mac(tx, "start", cfg.gw_mac)
	pktgen.range.src_mac(tx, "start", M.src_mac())
	pktgen.range.dst_ip(tx, "start", ip4(first))
	pktgen.range.dst_ip(tx, "min", ip4(first))
	pktgen.range.dst_ip(tx, "max", ip4(last))
	pktgen.range.dst_ip(tx, "inc", "0.0.0.1")
	pktgen.range.src_ip(tx, "start", "198.18.0.1")
	pktgen.range.src_ip(tx, "min", "198.18.0.1")
	pktgen.range.src_ip(tx, "max", "198.19.255.254")
	pktgen.range.src_ip(tx, "inc", "0.0.0.1")
	pktgen.range.src_port(tx, "start", 1024)
	pktgen.range.src_port(tx, "min", 1024)
	pktgen.range.src_port(tx, "max", 65535)
	pktgen.range.src_port(tx, "inc", 1)
	pktgen.range.dst_port(tx, "start", 1024)
	pktgen.range.dst_port(tx, "min", 1024)
	pktgen.range.dst_port(tx, "max", 1024)
	pktgen.range.dst_port(tx, "inc", 0)
	pktgen.range.pkt_size(tx, "start", size)
	pktgen.range.pkt_size(tx, "min", size)
	pktgen.range.pkt_size(tx, "max", size)
	pktgen.range.pkt_size(tx, "inc", 0)
	if t.vlans then
		pktgen.range.vlan_id(tx, "start", 1)
		pktgen.range.vlan_id(tx, "min", 1)
		pktgen.range.vlan_id(tx, "max", t.vlans)
		pktgen.range.vlan_id(tx, "inc", 1)
		pktgen.vlan(tx, "on")
	end
	pktgen.set_range(tx, "on")
end

-- A pcap written by bench/gen_traffic.py, loaded with pktgen's -s TX:FILE option, replayed in a loop.
function M.pcap()
	pktgen.pcap(cfg.tx, "on")
end

-- One trial: clear the counters, send at RATE percent for MS milliseconds, wait for the gateway to drain, count.
local function port_stats(port)
	local s = pktgen.portStats(port, "port")
	return s[tonumber(port)]
end

function M.trial(rate, ms)
	pktgen.clr()
	pktgen.set(cfg.tx, "rate", rate)
	pktgen.start(cfg.tx)
	pktgen.delay(ms)
	pktgen.stop(cfg.tx)
	pktgen.delay(cfg.settle_ms)
	local tx = port_stats(cfg.tx).opackets
	local rx = port_stats(cfg.rx).ipackets
	local lost = tx - rx
	if lost < 0 then
		lost = 0 -- the rx port also counts what the gateway originates (ARP, NDP)
	end
	local t = {rate = rate, ms = ms, tx = tx, rx = rx, lost = lost, ratio = tx > 0 and lost / tx or 1,
		pps = tx * 1000 / ms}
	t.passed = tx > 0 and t.ratio <= cfg.loss
	return t
end

local function show(name, what, t)
	log("%s %s: rate %.2f%%, sent %d (%.3f Mpps), received %d, lost %d (%.6f%%) -> %s", name, what, t.rate, t.tx,
		t.pps / 1e6, t.rx, t.lost, 100 * t.ratio, t.passed and "pass" or "loss")
end

-- pktgen's latency statistics differ between versions: print every field whose name speaks of latency or jitter.
local function dump_latency(name, tbl, prefix, depth)
	if type(tbl) ~= "table" or depth > 3 then
		return
	end
	for k, v in pairs(tbl) do
		local key = prefix .. tostring(k)
		if type(v) == "table" then
			dump_latency(name, v, key .. ".", depth + 1)
		elseif string.find(string.lower(key), "lat") or string.find(string.lower(key), "jitter") then
			log("%s latency %s = %s", name, key, tostring(v))
		end
	end
end

-- RFC 2544 throughput: binary search for the highest rate without loss, from 100 % down, then a confirmation trial
-- of NPSGW_CONFIRM_MS at that rate with pktgen's latency packets enabled.
function M.search(name)
	local lo, hi, r, best = 0, 100, 100, nil
	for i = 1, cfg.max_trials do
		local t = M.trial(r, cfg.trial_ms)
		show(name, "trial " .. i, t)
		if t.passed then
			lo, best = r, t
			if r >= 100 then
				break
			end
		else
			hi = r
		end
		if hi - lo <= cfg.resolution then
			break
		end
		r = (lo + hi) / 2
	end
	if not best then
		log("%s: loss at every rate tried (lowest %.2f%%)", name, r)
		return nil
	end
	pktgen.latency(cfg.tx, "enable")
	local c = M.trial(lo, cfg.confirm_ms)
	pktgen.latency(cfg.tx, "disable")
	show(name, "confirmation", c)
	local ok, st = pcall(pktgen.pktStats, cfg.rx)
	if ok then
		dump_latency(name, st, "", 0)
	end
	if c.passed then
		log("%s: zero-loss throughput %.2f%% of line rate, %.3f Mpps", name, lo, c.pps / 1e6)
	else
		log("%s: %.2f%% passed the search but lost packets over the confirmation trial", name, lo)
	end
	return c
end

-- Entry point of the profiles: set up the traffic with SETUP, then search or just send.
function M.run(name, setup)
	pktgen.screen("off")
	pktgen.stop("all")
	pktgen.set(cfg.tx, "count", 0) -- send until stopped
	setup()
	log("%s: tx port %s -> npsd (%s) -> rx port %s; mode %s", name, cfg.tx, cfg.gw_mac, cfg.rx, cfg.mode)
	if cfg.mode == "run" then
		pktgen.set(cfg.tx, "rate", cfg.rate)
		pktgen.start(cfg.tx)
		return nil
	end
	return M.search(name)
end

return M
