#!/usr/bin/env bash
# End-to-end tests: npsd forwarding between real Linux hosts in network namespaces, with one worker and again
# with two. Run as root from the repository (after `make`): bash test/e2e/run.sh
#
#                                 root namespace: build/npsd
#         +---------------------------------------------------------------------------------+
#         |  VRF core (fast)           VRF red (compact)     VRF blue (compact)   VRF inet     |
#         |  h1         h2             red-a      red-b      blue-a     blue-b     inet         |
#         |  p0         p1             p2         p3         p4         p5         p6           |
#         +--|----------|--------------|----------|----------|----------|----------|-----------+
#   veth e2e-h1    e2e-h2         e2e-ra     e2e-rb     e2e-ba     e2e-bb     e2e-in   (net_af_packet)
#            |          |              |          |          |          |          |
#   netns e2e-h1   e2e-h2         e2e-ra     e2e-rb     e2e-ba     e2e-bb     e2e-in   (eth0 in each)
#   172.31.1.2   172.31.2.2     10.1.0.2   10.2.0.2   10.1.0.2   10.3.0.2   198.18.0.2
#   2001:db8:1::2 2001:db8:2::2 fd00:a:1::2 fd00:a:2::2
#                lo: 203.0.113.2, 198.51.100.2, 2001:db8:f::2
#
# Gateway addresses are .1 / ::1 of each subnet (10.1.0.1 exists twice: in red and in blue).
#
# Routes:
#   core  203.0.113.0/24  via 172.31.2.2      the prefix that is deleted and re-added while traffic runs
#   core  2001:db8:f::/64 via 2001:db8:2::2   its IPv6 twin
#   core  198.51.100.0/24 via 172.31.2.2      an unrelated static route that must not lose a packet meanwhile
#   red   198.18.0.0/24   -> VRF inet         route leaking: the tenants reach the internet host...
#   blue  198.18.0.0/24   -> VRF inet
#   inet  10.2.0.0/24     -> VRF red          ...and the internet VRF leaks the replies back
#   inet  10.3.0.0/24     -> VRF blue
#
# Overlapping tenants and the internet (the honest part): red and blue both number their site A 10.1.0.0/24, so
# the inet VRF cannot know which tenant a packet to 10.1.0.2 belongs to. Each tenant therefore owns one site with
# a prefix that is unique across tenants (red 10.2.0.0/24, blue 10.3.0.0/24) and only that site talks to the
# internet; inet leaks exactly those prefixes back. From an overlapping site the request does reach the internet
# host (red has the leak) but the reply dies in VRF inet with no_route: asserted below, until the NAT network
# function makes overlapping sites reachable.
#
# Checksums: the namespace ends of the veths have tx checksum offload turned off (see nps_txcsum_off in lib.sh):
# otherwise TCP/UDP from a namespace reaches npsd with a partial checksum and the receiving host drops it.
set -u

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
. test/e2e/lib.sh

NPSD=${NPSD:-$ROOT/build/npsd}
NPSCTL=${NPSCTL:-$ROOT/build/npsctl}
PREFIX=npse2e
HOSTS=(e2e-h1 e2e-h2 e2e-ra e2e-rb e2e-ba e2e-bb e2e-in)
WORK=
NPSD_PID=
FAILS=()
NPASS=0
ROUND=

[ "$(id -u)" = 0 ] || { echo "test/e2e/run.sh: needs root (network namespaces, veth pairs)" >&2; exit 1; }
for f in "$NPSD" "$NPSCTL"; do
	[ -x "$f" ] || { echo "test/e2e/run.sh: $f missing: run make first" >&2; exit 1; }
done
for c in ip ping traceroute tracepath iperf3; do
	command -v "$c" >/dev/null || { echo "test/e2e/run.sh: $c not installed (scripts/install-deps.sh)" >&2; exit 1; }
done

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	jobs -p | xargs -r kill 2>/dev/null
	stop_npsd
	for h in "${HOSTS[@]}"; do nps_del_host "$h" "$h"; done
	rm -rf "/run/dpdk/$PREFIX"
	if [ -n "$WORK" ]; then
		if [ ${#FAILS[@]} -eq 0 ] && [ "$rc" = 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ctl() { "$NPSCTL" -s "$WORK/npsd.sock" "$@"; }
alive() { [ -n "$NPSD_PID" ] && kill -0 "$NPSD_PID" 2>/dev/null && ctl --timeout 2000 version >/dev/null 2>&1; }

# check NAME CMD...: run one assertion; its output goes to the log.
check() {
	local name="[$ROUND] $1"
	shift
	printf '\n=== %s\n' "$name" >>"$WORK/log"
	if ! alive && [ "$1" != t_stop ]; then
		printf 'FAIL  %s (npsd is not running)\n' "$name"
		FAILS+=("$name")
		return
	fi
	if "$@" >>"$WORK/log" 2>&1; then
		printf 'PASS  %s\n' "$name"
		NPASS=$((NPASS + 1))
	else
		printf 'FAIL  %s\n' "$name"
		FAILS+=("$name")
	fi
}

# ---------------------------------------------------------------------------------------------- topology

setup_hosts() {
	for h in "${HOSTS[@]}"; do nps_host "$h" "$h"; done
	nps_addr e2e-h1 172.31.1.2/24 172.31.1.1
	nps_addr e2e-h1 2001:db8:1::2/64 2001:db8:1::1
	nps_addr e2e-h2 172.31.2.2/24 172.31.2.1
	nps_addr e2e-h2 2001:db8:2::2/64 2001:db8:2::1
	ip -n e2e-h2 addr add 203.0.113.2/32 dev lo
	ip -n e2e-h2 addr add 198.51.100.2/32 dev lo
	ip -n e2e-h2 -6 addr add 2001:db8:f::2/128 dev lo
	nps_addr e2e-ra 10.1.0.2/24 10.1.0.1
	nps_addr e2e-ra fd00:a:1::2/64 fd00:a:1::1
	nps_addr e2e-rb 10.2.0.2/24 10.2.0.1
	nps_addr e2e-rb fd00:a:2::2/64 fd00:a:2::1
	nps_addr e2e-ba 10.1.0.2/24 10.1.0.1
	nps_addr e2e-bb 10.3.0.2/24 10.3.0.1
	nps_addr e2e-in 198.18.0.2/24 198.18.0.1
}

# gen_conf WORKERS: the npsd configuration for one or two workers.
gen_conf() {
	local w=$1 q i rx0="" rx1=""
	if [ "$w" = 1 ]; then
		q=1
		printf 'eal: { lcores = "0-1"; memory_mb = 2048; hugepages = "no"; file_prefix = "%s"; };\n' "$PREFIX"
	else
		# 2 CPUs: the main lcore on CPU 0, both workers share CPU 1.
		q=2
		printf 'eal: { lcores = "0-2"; memory_mb = 2048; hugepages = "no"; file_prefix = "%s";\n' "$PREFIX"
		printf '       extra_args = [ "--lcores=0@0,1@1,2@1" ]; };\n'
	fi
	printf 'control: { socket = "%s"; };\n' "$WORK/npsd.sock"
	printf 'devices = (\n'
	for i in "${!HOSTS[@]}"; do
		printf '  { name = "p%d"; vdev = "net_af_packet%d,iface=%s,qpairs=%d"; rx_queues = %d; }%s\n' \
			"$i" "$i" "${HOSTS[$i]}" "$q" "$q" "$([ "$i" -lt $((${#HOSTS[@]} - 1)) ] && echo ,)"
		rx0+="${rx0:+, }\"p$i:0\""
		rx1+="${rx1:+, }\"p$i:1\""
	done
	printf ');\n'
	if [ "$w" = 1 ]; then
		printf 'workers = ( { lcore = 1; rx = ( %s ); } );\n' "$rx0"
	else
		printf 'workers = ( { lcore = 1; rx = ( %s ); },\n            { lcore = 2; rx = ( %s ); } );\n' "$rx0" "$rx1"
	fi
	cat <<'EOF'
vrfs = (
  { name = "core"; id = 0;  fib = "fast"; },
  { name = "red";  id = 10; fib = "compact"; max_routes = 1024; },
  { name = "blue"; id = 20; fib = "compact"; max_routes = 1024; },
  { name = "inet"; id = 30; fib = "compact"; max_routes = 1024; }
);
interfaces = (
  { name = "h1";     device = "p0"; vrf = "core"; addresses = [ "172.31.1.1/24", "2001:db8:1::1/64" ]; },
  { name = "h2";     device = "p1"; vrf = "core"; addresses = [ "172.31.2.1/24", "2001:db8:2::1/64" ]; },
  { name = "red-a";  device = "p2"; vrf = "red";  addresses = [ "10.1.0.1/24", "fd00:a:1::1/64" ]; },
  { name = "red-b";  device = "p3"; vrf = "red";  addresses = [ "10.2.0.1/24", "fd00:a:2::1/64" ]; },
  { name = "blue-a"; device = "p4"; vrf = "blue"; addresses = [ "10.1.0.1/24" ]; },
  { name = "blue-b"; device = "p5"; vrf = "blue"; addresses = [ "10.3.0.1/24" ]; },
  { name = "inet";   device = "p6"; vrf = "inet"; addresses = [ "198.18.0.1/24" ]; }
);
routes = (
  { vrf = "core"; prefix = "203.0.113.0/24";  via = "172.31.2.2"; },
  { vrf = "core"; prefix = "2001:db8:f::/64"; via = "2001:db8:2::2"; },
  { vrf = "core"; prefix = "198.51.100.0/24"; via = "172.31.2.2"; dev = "h2"; },
  { vrf = "red";  prefix = "198.18.0.0/24";   target_vrf = "inet"; },
  { vrf = "blue"; prefix = "198.18.0.0/24";   target_vrf = "inet"; },
  { vrf = "inet"; prefix = "10.2.0.0/24";     target_vrf = "red"; },
  { vrf = "inet"; prefix = "10.3.0.0/24";     target_vrf = "blue"; }
);
EOF
}

start_npsd() {
	"$NPSD" -c "$WORK/npsd-$1w.conf" >"$WORK/npsd-$1w.log" 2>&1 &
	NPSD_PID=$!
	nps_wait_ready "$NPSCTL" "$WORK/npsd.sock" "$NPSD_PID" 30
}

stop_npsd() {
	[ -n "$NPSD_PID" ] || return 0
	nps_stop_pid "$NPSD_PID" 5
	wait "$NPSD_PID" 2>/dev/null
	local rc=$?
	NPSD_PID=
	return $rc
}

# ---------------------------------------------------------------------------------------------- probes

# json_get EXPR: evaluate a Python expression over the JSON reply on stdin (bound to d = its "data").
json_get() { "$NPS_PY" -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(eval(sys.argv[1]))' "$1"; }
drops() { ctl --json show drops | json_get "next(r['packets'] for r in d['drops'] if r['reason']=='$1')"; }
# snmp NS FIELD [PROTO]: a counter of the namespace's /proc/net/snmp, Icmp by default (InEchos: echo requests
# received).
snmp() {
	ip netns exec "$1" cat /proc/net/snmp | awk -v f="$2" -v p="${3:-Icmp}:" \
		'$1 == p { if (!c) { for (i = 2; i <= NF; i++) if ($i == f) c = i } else print $c }'
}
ifmac() { ctl --json show interfaces | json_get "next(i['mac'] for i in d['interfaces'] if i['name']=='$1')"; }
hostmac() { ip netns exec "$1" cat /sys/class/net/eth0/address; }

# t_ping NS DST: 3 echo requests, all answered.
t_ping() { ip netns exec "$1" ping -n -c 3 -i 0.2 -w 5 "$2"; }

# t_unreachable NS DST [MIN_RECEIVED_NS]: no answer, and npsd counted the drops as no_route. With
# MIN_RECEIVED_NS the request must still have arrived there (the reply is what is lost).
t_unreachable() {
	local ns=$1 dst=$2 via=${3:-} b a e0 e1
	b=$(drops no_route)
	[ -z "$via" ] || e0=$(snmp "$via" InEchos)
	if ip netns exec "$ns" ping -n -c 3 -i 0.2 -w 2 "$dst"; then
		echo "unexpected: $dst answered"
		return 1
	fi
	a=$(drops no_route)
	echo "no_route drops: $b -> $a"
	[ $((a - b)) -ge 3 ] || return 1
	if [ -n "$via" ]; then
		e1=$(snmp "$via" InEchos)
		echo "echo requests received by $via: $e0 -> $e1"
		[ $((e1 - e0)) -ge 3 ] || return 1
	fi
}

# t_same_prefix SRC DST GOOD BAD: a ping from SRC to DST is answered by host GOOD and never seen by BAD, a
# host in the other tenant with the same address.
t_same_prefix() {
	local src=$1 dst=$2 good=$3 bad=$4 g0 b0 g1 b1
	g0=$(snmp "$good" InEchos)
	b0=$(snmp "$bad" InEchos)
	t_ping "$src" "$dst" || return 1
	g1=$(snmp "$good" InEchos)
	b1=$(snmp "$bad" InEchos)
	echo "echo requests: $good $g0 -> $g1, $bad $b0 -> $b1"
	[ $((g1 - g0)) -ge 3 ] && [ "$b1" = "$b0" ]
}

# t_host_neigh NS GW_IP IFACE: the host's neighbour entry for the gateway has npsd's MAC, REACHABLE or STALE.
t_host_neigh() {
	local mac line
	mac=$(ifmac "$3")
	line=$(ip -n "$1" neigh show "$2" dev eth0)
	echo "npsd $3 MAC $mac; host entry: $line"
	echo "$line" | grep -Eiq "lladdr $mac (router )?(REACHABLE|STALE|DELAY)"
}

# t_gw_neigh IFACE IP NS: npsd's neighbour table has the host with its MAC.
t_gw_neigh() {
	local mac
	mac=$(hostmac "$3")
	ctl --json show neighbours >"$WORK/neigh.json"
	echo "host $3 MAC $mac"
	ctl show neighbours
	json_get "any(n['interface']=='$1' and n['ip']=='$2' and n['mac']=='$mac' and
		n['state'] in ('reachable','stale','delay','probe') for n in d['neighbours'])" <"$WORK/neigh.json" |
		grep -qx True
}

# t_traceroute NS DST HOP1 [-6]: UDP traceroute shows the gateway as hop 1 and ends at DST.
t_traceroute() {
	local out hops
	out=$(ip netns exec "$1" traceroute ${4:+"$4"} -n -q 1 -w 2 -m 6 "$2" 2>&1)
	echo "$out"
	hops=$(echo "$out" | awk 'NR > 1 { print $2 }')
	[ "$(echo "$hops" | head -1)" = "$3" ] && [ "$(echo "$hops" | tail -1)" = "$2" ] && [ "$(echo "$hops" | wc -l)" = 2 ]
}

# t_tracepath NS DST HOP1 [-6]
t_tracepath() {
	local out
	out=$(timeout 20 ip netns exec "$1" tracepath ${4:+"$4"} -n -m 6 "$2" 2>&1)
	echo "$out"
	echo "$out" | grep -Eq "^ *1: +$3 " && echo "$out" | grep -Eq "^ *2: +$2 .*reached"
}

# t_iperf SRV_NS SRV_IP CLI_NS SECONDS: TCP through the gateway, with non-zero throughput and no segment
# dropped by the receiver for a bad checksum (the tx checksum offload trap, see lib.sh).
t_iperf() {
	local bps c0 c1
	c0=$(snmp "$1" InCsumErrors Tcp)
	ip netns exec "$1" iperf3 -s -1 -D -p 5201 -I "$WORK/iperf3.pid" || return 1
	for _ in $(seq 50); do
		ip netns exec "$1" ss -ltn | grep -q ':5201 ' && break
		sleep 0.1
	done
	timeout $(($4 + 15)) ip netns exec "$3" iperf3 -c "$2" -p 5201 -t "$4" -J >"$WORK/iperf3.json" 2>&1
	[ -f "$WORK/iperf3.pid" ] && kill "$(cat "$WORK/iperf3.pid")" 2>/dev/null
	rm -f "$WORK/iperf3.pid"
	bps=$("$NPS_PY" -c '
import json, sys
try:
    print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))
except Exception as e:
    print(0)' "$WORK/iperf3.json")
	c1=$(snmp "$1" InCsumErrors Tcp)
	echo "received: $bps bit/s; TCP checksum errors at the receiver: $c0 -> $c1"
	[ "$bps" -gt 0 ] || { tail -20 "$WORK/iperf3.json"; return 1; }
	[ "$c1" = "$c0" ] || return 1
	echo "$bps" >"$WORK/iperf3.bps"
}

# t_route_stop_resume FAMILY DST PREFIX VIA: traffic to DST stops after `route del`, resumes after `route add`.
t_route_stop_resume() {
	local f=$1 dst=$2 prefix=$3 via=$4 b a
	t_ping e2e-h1 "$dst" || return 1
	ctl route del vrf core prefix "$prefix" || return 1
	b=$(drops no_route)
	if ip netns exec e2e-h1 ping "$f" -n -c 3 -i 0.2 -w 2 "$dst"; then
		echo "unexpected: $dst still answers after route del"
		return 1
	fi
	a=$(drops no_route)
	echo "no_route drops after del: $b -> $a"
	[ $((a - b)) -ge 3 ] || return 1
	ctl route add vrf core prefix "$prefix" via "$via" || return 1
	t_ping e2e-h1 "$dst"
}

# flap N: N route changes (del/add of 203.0.113.0/24 and 2001:db8:f::/64, alternately), ending with both present.
flap() {
	local n=$1 ok=0 i
	for ((i = 0; i < n / 4; i++)); do
		ctl route del vrf core prefix 203.0.113.0/24 && ok=$((ok + 1))
		ctl route del vrf core prefix 2001:db8:f::/64 && ok=$((ok + 1))
		sleep 0.05
		ctl route add vrf core prefix 203.0.113.0/24 via 172.31.2.2 && ok=$((ok + 1))
		ctl route add vrf core prefix 2001:db8:f::/64 via 2001:db8:2::2 && ok=$((ok + 1))
		sleep 0.05
	done
	echo "$ok of $n route changes accepted"
	[ "$ok" = "$n" ]
}

# t_flap_no_loss: while 20 route changes hit 203.0.113.0/24 and 2001:db8:f::/64 (under a ping flood), pings to
# unrelated prefixes (a static route and a connected IPv6 subnet in the same VRF) lose nothing.
t_flap_no_loss() {
	local rc=0
	ip netns exec e2e-h1 ping -q -n -i 0.002 -c 1500 -W 1 203.0.113.2 >"$WORK/flood.txt" 2>&1 &
	local flood=$!
	ip netns exec e2e-h1 ping -q -n -i 0.01 -c 300 198.51.100.2 >"$WORK/unrel4.txt" 2>&1 &
	local p4=$!
	ip netns exec e2e-h1 ping -6 -q -n -i 0.01 -c 300 2001:db8:2::2 >"$WORK/unrel6.txt" 2>&1 &
	local p6=$!
	sleep 0.3
	flap 20 || rc=1
	wait "$p4"
	wait "$p6"
	wait "$flood"
	echo "flood to the flapping prefix: $(grep -o '[0-9.]*% packet loss' "$WORK/flood.txt")"
	echo "unrelated IPv4: $(grep 'packet loss' "$WORK/unrel4.txt")"
	echo "unrelated IPv6: $(grep 'packet loss' "$WORK/unrel6.txt")"
	grep -q '300 received, 0% packet loss' "$WORK/unrel4.txt" || rc=1
	grep -q '300 received, 0% packet loss' "$WORK/unrel6.txt" || rc=1
	t_ping e2e-h1 203.0.113.2 || rc=1
	return $rc
}

# t_iperf_flap: iperf3 through the gateway while 20 route changes are made; throughput non-zero.
t_iperf_flap() {
	(sleep 0.5 && flap 20 >"$WORK/flap.txt" 2>&1) &
	local f=$!
	t_iperf e2e-h2 172.31.2.2 e2e-h1 3 || { wait "$f"; return 1; }
	wait "$f" || { cat "$WORK/flap.txt"; return 1; }
	cat "$WORK/flap.txt"
}

t_workers() {
	ctl show workers
	[ "$(ctl --json show workers | json_get "len(next(iter(d.values())))")" = "$1" ]
}

t_stop() {
	ctl show drops | awk 'NR == 1 || $2 > 0'
	stop_npsd
}

# ---------------------------------------------------------------------------------------------- rounds

run_round() {
	local w=$1
	ROUND="${w} worker$([ "$w" = 1 ] || echo s)"
	gen_conf "$w" >"$WORK/npsd-${w}w.conf"
	for h in "${HOSTS[@]}"; do ip -n "$h" neigh flush all 2>/dev/null; done
	echo "--- $ROUND"
	if ! start_npsd "$w"; then
		echo "FAIL  [$ROUND] npsd starts"
		FAILS+=("[$ROUND] npsd starts")
		tail -20 "$WORK/npsd-${w}w.log"
		stop_npsd
		return
	fi
	check "npsd runs $w worker(s)" t_workers "$w"

	check "IPv4 forwarding h1 -> h2" t_ping e2e-h1 172.31.2.2
	check "IPv6 forwarding h1 -> h2 (ping -6)" t_ping e2e-h1 2001:db8:2::2
	check "IPv4 echo to the gateway" t_ping e2e-h1 172.31.1.1
	check "IPv6 echo to the gateway" t_ping e2e-h1 2001:db8:1::1

	check "ARP: h1 has the gateway's MAC" t_host_neigh e2e-h1 172.31.1.1 h1
	check "NDP: h1 has the gateway's MAC" t_host_neigh e2e-h1 2001:db8:1::1 h1
	check "ARP: npsd has h1" t_gw_neigh h1 172.31.1.2 e2e-h1
	check "NDP: npsd has h1" t_gw_neigh h1 2001:db8:1::2 e2e-h1

	check "red site A -> red site B" t_ping e2e-ra 10.2.0.2
	check "red IPv6 site A -> site B" t_ping e2e-ra fd00:a:2::2
	check "blue site A -> blue site B" t_ping e2e-ba 10.3.0.2
	check "red B -> 10.1.0.2 reaches red A only" t_same_prefix e2e-rb 10.1.0.2 e2e-ra e2e-ba
	check "blue B -> 10.1.0.2 reaches blue A only" t_same_prefix e2e-bb 10.1.0.2 e2e-ba e2e-ra
	check "npsd has both 10.1.0.2 (red-a, blue-a)" eval 't_gw_neigh red-a 10.1.0.2 e2e-ra && t_gw_neigh blue-a 10.1.0.2 e2e-ba'
	check "isolation: red A cannot reach blue B" t_unreachable e2e-ra 10.3.0.2
	check "isolation: blue A cannot reach red B" t_unreachable e2e-ba 10.2.0.2
	check "isolation: red B cannot reach blue B" t_unreachable e2e-rb 10.3.0.2

	check "leak: red B -> internet" t_ping e2e-rb 198.18.0.2
	check "leak: blue B -> internet" t_ping e2e-bb 198.18.0.2
	check "leak: internet -> red B" t_ping e2e-in 10.2.0.2
	check "leak: internet -> blue B" t_ping e2e-in 10.3.0.2
	check "leak: overlapping red A gets no reply (no_route in inet)" t_unreachable e2e-ra 198.18.0.2 e2e-in

	check "traceroute -n h1 -> h2" t_traceroute e2e-h1 172.31.2.2 172.31.1.1
	check "traceroute -6 -n h1 -> h2" t_traceroute e2e-h1 2001:db8:2::2 2001:db8:1::1 -6
	check "tracepath h1 -> h2" t_tracepath e2e-h1 172.31.2.2 172.31.1.1
	check "tracepath -6 h1 -> h2" t_tracepath e2e-h1 2001:db8:2::2 2001:db8:1::1 -6
	check "traceroute -n red B -> internet (leak)" t_traceroute e2e-rb 198.18.0.2 10.2.0.1

	check "iperf3 TCP h1 -> h2, 3 s" t_iperf e2e-h2 172.31.2.2 e2e-h1 3
	[ -f "$WORK/iperf3.bps" ] && echo "      throughput $(($(cat "$WORK/iperf3.bps") / 1000000)) Mbit/s"
	rm -f "$WORK/iperf3.bps"

	check "route del stops / route add resumes IPv4" t_route_stop_resume -4 203.0.113.2 203.0.113.0/24 172.31.2.2
	check "route del stops / route add resumes IPv6" t_route_stop_resume -6 2001:db8:f::2 2001:db8:f::/64 2001:db8:2::2
	check "20 route changes under flood: 0% loss to unrelated prefixes" t_flap_no_loss
	check "20 route changes during iperf3" t_iperf_flap
	check "npsd still answers" alive
	check "npsd stops cleanly on SIGTERM" t_stop
}

WORK=$(mktemp -d /tmp/npsgw-e2e.XXXXXX)
START=$SECONDS
for h in "${HOSTS[@]}"; do nps_del_host "$h" "$h"; done # leftovers of an interrupted run
setup_hosts
run_round 1
run_round 2
echo "--- e2e: $NPASS passed, ${#FAILS[@]} failed in $((SECONDS - START)) s"
for f in "${FAILS[@]}"; do echo "    failed: $f"; done
if [ ${#FAILS[@]} -gt 0 ]; then
	for l in "$WORK"/npsd-*.log; do
		[ -f "$l" ] && { echo "--- tail of $l"; tail -5 "$l"; }
	done
	echo "--- details of every check: $WORK/log"
fi
[ ${#FAILS[@]} -eq 0 ]
