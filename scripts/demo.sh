#!/usr/bin/env bash
# The npsgw demo (`make demo`): two tenants with the same private prefix, an IPv4+IPv6 tenant and an internet
# host reached by route leaking, all real Linux hosts in network namespaces forwarding through npsd.
# Topology and addresses: conf/demo.conf. Run as root; idempotent (leftovers of an earlier run are removed
# first); everything it creates is removed at the end, also on Ctrl-C or failure.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
. test/e2e/lib.sh

CONF=$ROOT/conf/demo.conf
NPSD=$ROOT/build/npsd
NPSCTL=$ROOT/build/npsctl
SOCK=/run/npsgw/demo.sock
RUN=/run/npsgw/demo
HOSTS=(demo-ra demo-rb demo-ba demo-bb demo-in)
NPSD_PID=

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces and veth pairs)" >&2; exit 1; }

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# show NS CMD...: print the command as typed on the host, then run it there.
show() {
	local ns=$1
	shift
	printf '\033[36m[%s]$ %s\033[0m\n' "$ns" "$*"
	ip netns exec "$ns" "$@"
}
ctl() {
	printf '\033[36m$ npsctl %s\033[0m\n' "$*"
	"$NPSCTL" -s "$SOCK" "$@"
}

cleanup() {
	trap - EXIT INT TERM
	[ -n "$NPSD_PID" ] && nps_stop_pid "$NPSD_PID" 5
	# A previous run killed before its own clean-up left its pid here.
	if [ -f "$RUN/npsd.pid" ]; then
		local old
		old=$(cat "$RUN/npsd.pid")
		[ "$(cat "/proc/$old/comm" 2>/dev/null)" = npsd ] && nps_stop_pid "$old" 5
	fi
	for h in "${HOSTS[@]}"; do nps_del_host "$h" "$h"; done
	rm -rf "$RUN" /run/dpdk/npsdemo
}

step "dependencies and build"
bash scripts/install-deps.sh || exit 1
make -j2 || exit 1

cleanup # leftovers of an interrupted run
trap 'cleanup; echo "demo: cleaned up"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$RUN"

step "hugepages"
mode=nohuge
[ -f scripts/hugepages.sh ] && mode=$(bash scripts/hugepages.sh 512)
if [ "$mode" = huge ]; then
	sed 's/^\([[:space:]]*hugepages[[:space:]]*=[[:space:]]*\)"auto"/\1"yes"/' "$CONF" >"$RUN/demo.conf"
	echo "using 2 MiB hugepages"
else
	sed 's/^\([[:space:]]*hugepages[[:space:]]*=[[:space:]]*\)"auto"/\1"no"/' "$CONF" >"$RUN/demo.conf"
	echo "no hugepages available: npsd runs with --no-huge (fine for a demo, slower for benchmarks)"
fi
if [ "$(nproc)" -lt 2 ]; then # one CPU: main and worker lcores share it
	sed -i 's/^\([[:space:]]*lcores = "0-1";\)/\1 extra_args = [ "--lcores=0@0,1@0" ];/' "$RUN/demo.conf"
fi

step "hosts: one network namespace per site, each behind a veth pair"
for h in "${HOSTS[@]}"; do nps_host "$h" "$h" || exit 1; done
nps_addr demo-ra 10.1.0.2/24 10.1.0.1
nps_addr demo-ra fd00:a:1::2/64 fd00:a:1::1
nps_addr demo-rb 10.2.0.2/24 10.2.0.1
nps_addr demo-rb fd00:a:2::2/64 fd00:a:2::1
nps_addr demo-ba 10.1.0.2/24 10.1.0.1
nps_addr demo-bb 10.3.0.2/24 10.3.0.1
nps_addr demo-in 198.18.0.2/24 198.18.0.1
for h in "${HOSTS[@]}"; do
	printf '  %-8s %s\n' "$h" "$(ip -n "$h" -br addr show eth0 | awk '{ $1 = $2 = ""; print }')"
done

step "start npsd -c conf/demo.conf"
"$NPSD" -c "$RUN/demo.conf" >"$RUN/npsd.log" 2>&1 &
NPSD_PID=$!
echo "$NPSD_PID" >"$RUN/npsd.pid"
if ! nps_wait_ready "$NPSCTL" "$SOCK" "$NPSD_PID" 30; then
	echo "demo: npsd did not start:" >&2
	cat "$RUN/npsd.log" >&2
	exit 1
fi
grep '^npsd' "$RUN/npsd.log"

ok=1
step "tenant red, IPv4 and IPv6: site A -> site B"
show demo-ra ping -n -c 3 -i 0.2 10.2.0.2 || ok=0
show demo-ra ping -6 -n -c 3 -i 0.2 fd00:a:2::2 || ok=0

step "tenant blue: site A -> site B"
show demo-ba ping -n -c 3 -i 0.2 10.3.0.2 || ok=0

step "same private prefix in both tenants: 10.1.0.2 is a different host for red and for blue"
# shellcheck disable=SC2016 # awk program
icmp_in() { ip netns exec "$1" awk '$1 == "Icmp:" { if (!c) { for (i = 2; i <= NF; i++) if ($i == "InEchos") c = i } else print $c }' /proc/net/snmp; }
before_r=$(icmp_in demo-ra)
before_b=$(icmp_in demo-ba)
show demo-rb ping -n -c 3 -i 0.2 10.1.0.2 || ok=0
echo "  echo requests received: red site A $before_r -> $(icmp_in demo-ra), blue site A $before_b -> $(icmp_in demo-ba)"

step "isolation: red cannot reach blue's site B (no route in VRF red)"
show demo-ra ping -n -c 2 -i 0.2 -W 1 10.3.0.2 && ok=0
"$NPSCTL" -s "$SOCK" show drops | awk 'NR == 1 || $1 == "no_route"'

step "route leaking: both tenants reach the internet host in VRF inet"
show demo-rb ping -n -c 3 -i 0.2 198.18.0.2 || ok=0
show demo-bb ping -n -c 3 -i 0.2 198.18.0.2 || ok=0
show demo-rb traceroute -n -q 1 -w 1 -m 4 198.18.0.2 || ok=0

step "TCP through the gateway: iperf3, 3 seconds, blue site B -> internet"
ip netns exec demo-in iperf3 -s -1 -D -I "$RUN/iperf3.pid"
sleep 0.5
show demo-bb iperf3 -c 198.18.0.2 -t 3 -f m || ok=0

step "seeing inside: path check, trace and capture"
ctl path-check in red-a src 10.1.0.2 dst 10.3.0.2 proto icmp
ctl path-check in red-b src 10.2.0.2 dst 198.18.0.2 proto udp dport 53
ctl trace start count 1 filter "icmp and host 198.18.0.2"
show demo-rb ping -n -c 1 198.18.0.2 >/dev/null || ok=0
ctl trace show
ctl capture start point drops count 2 file "$RUN/drops.pcapng"
show demo-ra ping -n -c 2 -i 0.2 -W 1 10.3.0.2 >/dev/null
sleep 0.5
if command -v tshark >/dev/null; then
	tshark -r "$RUN/drops.pcapng" -T fields -e frame.interface_name -e ip.src -e ip.dst -e frame.comment 2>/dev/null
fi

step "the gateway's view"
ctl show interfaces
ctl show vrfs
ctl show routes
ctl show neighbours
ctl show stats | awk '/^REASON / { drops = 1 } /^$/ { drops = 0 } !(drops && $2 == "0")'
echo "(drop reasons that counted nothing are left out above; npsctl show drops lists them all)"

step "done"
if [ "$ok" = 1 ]; then
	echo "every demo step worked; npsd stops and the namespaces are removed now"
else
	echo "demo: some step above did not work as expected (npsd log: $RUN/npsd.log)" >&2
	cp "$RUN/npsd.log" /tmp/npsgw-demo-npsd.log 2>/dev/null && echo "npsd log copied to /tmp/npsgw-demo-npsd.log" >&2
	exit 1
fi
