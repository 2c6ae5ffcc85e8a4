#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Deployment tier (issue 8): the virtio driver path through virtio_user against a vhost-user back end (dpdk-testpmd
# with net_vhost, 2 queues, 2 workers), the lifecycle (SIGTERM drain and hugepage release, link flap, a host
# interface that disappears, missing devices at start-up), systemd readiness and watchdog notifications, the
# SR-IOV self-checks with refusing VFs simulated, rte_flow steering (rules generated through a test rte_flow engine,
# the fallback on drivers without rte_flow), the host scripts, `make install` and the Debian package (install and
# removal).
#
#   bash test/deploy/run.sh          needs build/npsd and build/npsctl (NPSGW_BUILD=dir to use another), root
#                                    about one minute
#   DEPLOY_SECTIONS="virtio flow"    run only those sections (virtio lifecycle missing notify selfcheck flow
#                                    scripts package)
#   DEPLOY_MAKE=cmd                  the make used for `make install` / `make deb` (default: make)
#
# Namespaces, veths and DPDK file prefixes are named dpl-*. Exits 0 when every check passes, 1 otherwise; what was
# started is stopped, by pid, even on Ctrl-C. NPSGW_DEPLOY_KEEP=1 keeps the work directory.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${NPSGW_BUILD:-build}
NPSD=$REPO/$BUILD/npsd
NPSCTL=$REPO/$BUILD/npsctl
PY=/usr/bin/python3
MAKE_CMD=${DEPLOY_MAKE:-make}
SECTIONS=${DEPLOY_SECTIONS:-virtio lifecycle missing notify selfcheck flow scripts package}
# shellcheck source=../e2e/lib.sh
. "$REPO/test/e2e/lib.sh"

for f in "$NPSD" "$NPSCTL"; do
	[ -x "$f" ] || { echo "run.sh: $f missing (make)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (namespaces, hugepages, dpkg)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/npsgw-deploy.XXXXXX)
export SOCK=""
PIDS=()
PASS=0
FAIL=0
SKIP=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	nps_del_host dpl-h1 dpl-h1
	nps_del_host dpl-h2 dpl-h2
	ip link del dpl-l1 2>/dev/null
	for p in dpl-vio dpl-vhost dpl-life dpl-sc dpl-flow dpl-shim dpl-esp dpl-note; do
		rm -rf "/var/run/dpdk/$p"
		rm -f /dev/hugepages/${p}map_*
	done
	if [ -n "${NPSGW_DEPLOY_KEEP:-}" ]; then echo "run.sh: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() { # NAME COMMAND...: a check passes when the command succeeds
	local name=$1
	shift
	if "$@" >>"$WORK/checks.log" 2>&1; then
		PASS=$((PASS + 1))
		printf '  ok    %s\n' "$name"
	else
		FAIL=$((FAIL + 1))
		printf '  FAIL  %s\n' "$name"
		echo "---- FAILED: $name" >>"$WORK/checks.log"
	fi
}
skip() {
	SKIP=$((SKIP + 1))
	printf '  skip  %s\n' "$1"
}
section() { printf '\n== %s\n' "$1"; }
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

ctl() { "$NPSCTL" -s "$SOCK" --timeout 3000 "$@"; }
# jq-like: evaluate a Python expression over the JSON reply's "data" (d) read on stdin.
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(eval(sys.argv[1]))' "$1"; }
port_field() { ctl --json show ports | jget "next(p['$2'] for p in d['ports'] if p['port']=='$1')"; }

# start_npsd NAME CONF [ENV...]: run npsd in the background (log in $WORK/NAME.log), wait for its socket.
start_npsd() {
	local name=$1 conf=$2
	shift 2
	env "$@" "$NPSD" -c "$conf" >"$WORK/$name.log" 2>&1 &
	NPSD_PID=$!
	PIDS+=("$NPSD_PID")
	nps_wait_ready "$NPSCTL" "$SOCK" "$NPSD_PID" 40
}
# stop_npsd: SIGTERM and wait; sets STOP_RC to npsd's exit status (124 when it had to be killed).
stop_npsd() {
	local i
	STOP_RC=124
	kill -TERM "$NPSD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$NPSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NPSD_PID" 2>/dev/null; then
		kill -KILL "$NPSD_PID"
		wait "$NPSD_PID" 2>/dev/null
	else
		wait "$NPSD_PID"
		STOP_RC=$?
	fi
}
eal_line() { # PREFIX MEMORY HUGE(yes|no) [EXTRA ARGS...]: the eal section, 2 workers sharing CPU 1
	local prefix=$1 mem=$2 huge=$3 extra='"--lcores=0@0,1@1,2@1"'
	shift 3
	for a in "$@"; do extra+=", \"$a\""; done
	printf 'eal: { lcores = "0-2"; memory_mb = %s; hugepages = "%s"; file_prefix = "%s"; extra_args = [ %s ]; };\n' \
		"$mem" "$huge" "$prefix" "$extra"
	printf 'limits: { max_vrfs = 8; };\ncontrol: { socket = "%s"; };\n' "$SOCK"
}
huge_files() { find /dev/hugepages -maxdepth 1 -name "${1}map_*" 2>/dev/null | wc -l; }

# ------------------------------------------------------------------------------------------ virtio_user + vhost
# testpmd owns two vhost-user ports (server sockets, 2 queue pairs each) and forwards io between them: a wire.
# npsd: host dpl-h1 -- af_packet -- [VRF red] -- virtio_user va ==wire== virtio_user vb -- [VRF blue] -- af_packet --
# host dpl-h2. Each packet crosses the virtio path once; which of the 2 queues it uses is chosen by the worker that
# sent it (vhost has no RSS: testpmd keeps the queue), so both workers' queues carry traffic.
virtio_section() {
	section "virtio_user against net_vhost (dpdk-testpmd), 2 queues, 2 workers"
	command -v dpdk-testpmd >/dev/null || { skip "dpdk-testpmd missing (apt-get install dpdk)"; return; }
	if [ "$(bash "$REPO/scripts/hugepages.sh" 512 2>/dev/null)" != huge ]; then
		skip "virtio_user needs hugepages (vhost-user shares the memory): scripts/hugepages.sh found none"
		return
	fi
	nps_host dpl-h1 dpl-h1
	nps_host dpl-h2 dpl-h2
	nps_addr dpl-h1 10.81.1.2/24 10.81.1.1
	nps_addr dpl-h2 10.81.3.2/24 10.81.3.1
	SOCK=$WORK/virtio.sock
	mkfifo "$WORK/testpmd.in"
	sleep 600 >"$WORK/testpmd.in" &
	PIDS+=($!)
	local hold=$!
	dpdk-testpmd --lcores=0@0,1@0 --file-prefix dpl-vhost -m 256 --no-pci \
		--vdev "net_vhost0,iface=$WORK/vh0.sock,queues=2" --vdev "net_vhost1,iface=$WORK/vh1.sock,queues=2" -- \
		-i --rxq=2 --txq=2 --nb-cores=1 --forward-mode=io --total-num-mbufs=16384 \
		<"$WORK/testpmd.in" >"$WORK/testpmd.log" 2>&1 &
	local tp=$!
	PIDS+=("$tp")
	for ((i = 0; i < 100; i++)); do [ -S "$WORK/vh1.sock" ] && break; sleep 0.1; done
	echo start >"$WORK/testpmd.in"
	{
		eal_line dpl-vio 512 yes --single-file-segments
		cat <<EOF
devices = (
  { name = "h1"; vdev = "net_af_packet0,iface=dpl-h1,qpairs=2"; rx_queues = 2; },
  { name = "h2"; vdev = "net_af_packet1,iface=dpl-h2,qpairs=2"; rx_queues = 2; },
  { name = "va"; vdev = "virtio_user0,path=$WORK/vh0.sock,queues=2"; rx_queues = 2; },
  { name = "vb"; vdev = "virtio_user1,path=$WORK/vh1.sock,queues=2"; rx_queues = 2; }
);
workers = ( { lcore = 1; rx = ( "h1:0", "h2:0", "va:0", "vb:0" ); },
            { lcore = 2; rx = ( "h1:1", "h2:1", "va:1", "vb:1" ); } );
vrfs = ( { name = "red"; id = 10; fib = "compact"; }, { name = "blue"; id = 20; fib = "compact"; } );
interfaces = (
  { name = "h1"; device = "h1"; vrf = "red";  addresses = [ "10.81.1.1/24" ]; },
  { name = "va"; device = "va"; vrf = "red";  addresses = [ "10.81.2.1/24" ]; },
  { name = "vb"; device = "vb"; vrf = "blue"; addresses = [ "10.81.2.2/24" ]; },
  { name = "h2"; device = "h2"; vrf = "blue"; addresses = [ "10.81.3.1/24" ]; }
);
routes = ( { vrf = "red";  prefix = "10.81.3.0/24"; via = "10.81.2.2"; },
           { vrf = "blue"; prefix = "10.81.1.0/24"; via = "10.81.2.1"; } );
EOF
	} >"$WORK/virtio.conf"
	if ! start_npsd virtio "$WORK/virtio.conf"; then
		check "npsd starts with two virtio_user ports" false
		tail -20 "$WORK/virtio.log"
		return
	fi
	check "virtio_user ports va and vb: driver net_virtio_user, link up" \
		test "$(port_field va driver) $(port_field va link) $(port_field vb link)" = "net_virtio_user up up"
	check "no RSS requested from virtio (the vhost back end offers none): configure succeeded, rss=no" \
		test "$(port_field vb rss)" = no
	check "ping dpl-h1 -> dpl-h2 crosses the virtio path (ARP over vhost, 2 routed hops: TTL 62)" \
		bash -c "ip netns exec dpl-h1 ping -c 3 -i 0.2 -W 2 10.81.3.2 | grep -q 'ttl=62'"
	ip netns exec dpl-h2 timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 9000)); s.settimeout(2); n = 0
try:
    while True: s.recv(2048); n += 1
except socket.timeout: pass
print(n)' >"$WORK/udp.count" &
	local rcv=$!
	sleep 0.5
	ip netns exec dpl-h1 "$PY" -c '
import socket, time
for sport in range(20000, 20064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", sport))
    for i in range(5): s.sendto(b"x" * 200, ("10.81.3.2", 9000))
    s.close(); time.sleep(0.005)'
	wait "$rcv"
	check "64 UDP flows x 5 datagrams through virtio_user/vhost: all 320 arrive at dpl-h2" \
		test "$(cat "$WORK/udp.count")" = 320
	local q
	q=$(port_field vb rx_queue_packets)
	echo "vb rx queues: $q" >>"$WORK/checks.log"
	check "multi-queue: both rx queues of vb received traffic from the two workers' tx queues ($q)" \
		"$PY" -c 'import sys; q=[int(x) for x in sys.argv[1].split(",")]; sys.exit(not (len(q)==2 and min(q)>=20 and sum(q)>=320))' "$q"
	local before
	before=$(huge_files dpl-vio)
	stop_npsd
	check "SIGTERM: npsd exits 0 ($STOP_RC) after draining" test "$STOP_RC" = 0
	check "SIGTERM: drained, then stopped (log)" \
		bash -c "grep -q 'draining' '$WORK/virtio.log' && grep -q 'npsd: stopped' '$WORK/virtio.log'"
	check "SIGTERM: the instance's hugepage files are gone ($before before, $(huge_files dpl-vio) after)" \
		test "$before" -gt 0 -a "$(huge_files dpl-vio)" = 0
	# testpmd's statistics reach its log when it exits (its stdout is a file: buffered).
	echo stop >"$WORK/testpmd.in"
	echo quit >"$WORK/testpmd.in"
	kill "$hold" 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 "$tp" 2>/dev/null || break; sleep 0.1; done
	kill "$tp" 2>/dev/null
	check "testpmd forwarded it: >= 320 packets in total, both queue streams of the vhost port carried >= 20" \
		bash -c "grep -o 'RX-total: *[0-9]*' '$WORK/testpmd.log' | awk '{ if (\$2 >= 320) ok = 1 } END { exit !ok }' &&
			[ \$(grep -Eo 'RX-packets: *[0-9]+ +TX-packets' '$WORK/testpmd.log' | awk '\$2 >= 20' | wc -l) -ge 2 ]"
	nps_del_host dpl-h1 dpl-h1
	nps_del_host dpl-h2 dpl-h2
}

# ------------------------------------------------------------------------------------------ lifecycle
tap_conf() { # PREFIX: net_tap t0 (+ an af_packet port on dpl-l1 when it exists), 2 workers, no hugepages
	eal_line "$1" 1024 no
	printf 'devices = (\n  { name = "t0"; vdev = "net_tap0,iface=dpl-tap0"; rx_queues = 2; }'
	[ -e /sys/class/net/dpl-l1 ] && printf ',\n  { name = "a0"; vdev = "net_af_packet0,iface=dpl-l1,qpairs=2"; rx_queues = 2; }'
	printf '\n);\n'
	if [ -e /sys/class/net/dpl-l1 ]; then
		echo 'workers = ( { lcore = 1; rx = ( "t0:0", "a0:0" ); }, { lcore = 2; rx = ( "t0:1", "a0:1" ); } );'
	else
		echo 'workers = ( { lcore = 1; rx = ( "t0:0" ); }, { lcore = 2; rx = ( "t0:1" ); } );'
	fi
	echo 'vrfs = ( { name = "core"; id = 0; fib = "compact"; } );'
	printf 'interfaces = (\n  { name = "out0"; device = "t0"; vrf = "core"; addresses = [ "192.0.2.1/24", "2001:db8:5::1/64" ]; }'
	[ -e /sys/class/net/dpl-l1 ] && printf ',\n  { name = "l1"; device = "a0"; vrf = "core"; addresses = [ "192.0.3.1/24" ]; }'
	printf '\n);\n'
}

lifecycle_section() {
	section "lifecycle: link flap, a host interface that disappears, SIGTERM"
	ip link add dpl-l1 type veth peer name dpl-l1p
	ip link set dpl-l1 up
	ip link set dpl-l1p up
	SOCK=$WORK/life.sock
	tap_conf dpl-life >"$WORK/life.conf"
	start_npsd life "$WORK/life.conf" || { check "npsd starts on net_tap + af_packet" false; return; }
	# A subscriber to link events for the next seconds.
	"$PY" - "$SOCK" >"$WORK/events.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
s.sendall(b"subscribe events link --json\n"); s.settimeout(0.2); end = time.time() + 5; data = b""
while time.time() < end:
    try:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    except socket.timeout: pass
sys.stdout.write(data.decode(errors="replace"))
EOF
	local sub=$!
	sleep 0.7
	local garp0
	garp0=$(ctl --json show stats | jget "next(c['value'] for c in d['control'] if c['counter']=='arp_tx_gratuitous')")
	ip link set dpl-tap0 down
	sleep 0.6
	ip link set dpl-tap0 up
	sleep 0.6
	check "link flap on t0 counted: 1 down, 1 up, link up again" \
		test "$(port_field t0 link_downs) $(port_field t0 link_ups) $(port_field t0 link)" = "1 1 up"
	check "link back up: t0's address announced again (gratuitous ARP count $garp0 -> more)" \
		bash -c "[ \$(ctl --json show stats | jget \"next(c['value'] for c in d['control'] if c['counter']=='arp_tx_gratuitous')\") -gt $garp0 ]"
	check "link flap logged (journal under systemd)" \
		bash -c "grep -q \"port 't0': link down\" '$WORK/life.log' && grep -q \"port 't0': link up\" '$WORK/life.log'"
	ip link del dpl-l1
	sleep 0.6
	check "host interface of a0 deleted: reported gone, link down" \
		test "$(port_field a0 device) / $(port_field a0 link)" = "host interface gone / down"
	wait "$sub"
	check "link events published to subscribers (t0 down and up, a0 down)" \
		bash -c "grep -q '\"port\":\"t0\",\"state\":\"down\"' '$WORK/events.log' &&
			grep -q '\"port\":\"t0\",\"state\":\"up\"' '$WORK/events.log' &&
			grep -q '\"port\":\"a0\",\"state\":\"down\"' '$WORK/events.log'"
	check "npsd still runs and answers after the flap and the lost device" \
		bash -c "kill -0 $NPSD_PID && '$NPSCTL' -s '$SOCK' version >/dev/null"
	stop_npsd
	check "SIGTERM with a lost device: exit 0 ($STOP_RC)" test "$STOP_RC" = 0
}

# ------------------------------------------------------------------------------------------ missing devices
missing_section() {
	section "start-up with a missing device: clear message, nonzero exit"
	local base rc
	SOCK=$WORK/miss.sock
	base="$(eal_line dpl-miss 256 no)
vrfs = ( { name = \"core\"; id = 0; fib = \"compact\"; } );
interfaces = ( { name = \"x\"; device = \"d0\"; vrf = \"core\"; } );"
	printf '%s\ndevices = ( { name = "d0"; vdev = "net_af_packet0,iface=dpl-absent0"; } );\n' "$base" >"$WORK/m1.conf"
	printf '%s\ndevices = ( { name = "d0"; vdev = "virtio_user0,path=%s/absent.sock"; } );\n' "$base" "$WORK" >"$WORK/m2.conf"
	printf '%s\ndevices = ( { name = "d0"; pci = "0000:7f:1f.7"; } );\n' "$base" >"$WORK/m3.conf"
	local n what
	for n in 1 2 3; do
		what=$(sed -n "${n}p" <<<$'host interface \'dpl-absent0\' does not exist\nno vhost-user socket at\nPCI device 0000:7f:1f.7 not found')
		timeout 20 "$NPSD" -c "$WORK/m$n.conf" >"$WORK/m$n.log" 2>&1
		rc=$?
		check "missing device $n: exit $rc (nonzero), says \"$what\"" \
			bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF \"$what\" '$WORK/m$n.log' && ! grep -q EAL: '$WORK/m$n.log'"
	done
}

# ------------------------------------------------------------------------------------------ systemd notify
notify_section() {
	section "systemd readiness and watchdog (NOTIFY_SOCKET protocol; unit verified in the package section)"
	local state
	state=$(systemctl is-system-running 2>/dev/null)
	[ "$state" = offline ] || [ -z "$state" ] &&
		echo "  (systemd is not PID 1 here: the protocol is tested with a listener instead of systemd itself)"
	ip link del dpl-l1 2>/dev/null
	SOCK=$WORK/note.sock
	tap_conf dpl-note >"$WORK/note.conf"
	"$PY" - "$WORK/notify.sock" "$NPSCTL" "$SOCK" >"$WORK/notify.log" 2>&1 <<'EOF' &
import os, socket, subprocess, sys, time
path, npsctl, ctl_sock = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); s.settimeout(0.5)
start = time.time()
while time.time() - start < 40:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        continue
    for line in msg.split("\n"):
        print("%.2f %s" % (time.time() - start, line), flush=True)
    if "READY=1" in msg:  # ready means the control socket answers and the ports run
        rc = subprocess.call([npsctl, "-s", ctl_sock, "version"], stdout=subprocess.DEVNULL)
        print("control-socket-at-ready rc=%d" % rc, flush=True)
    if "STOPPING=1" in msg:
        break
EOF
	local lst=$!
	PIDS+=("$lst")
	sleep 0.3
	start_npsd note "$WORK/note.conf" NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=400000 ||
		{ check "npsd starts under a NOTIFY_SOCKET" false; return; }
	sleep 1.5
	stop_npsd
	wait "$lst" 2>/dev/null
	check "READY=1 sent once the ports run (the control socket answered at that moment)" \
		bash -c "grep -q ' READY=1' '$WORK/notify.log' && grep -q 'control-socket-at-ready rc=0' '$WORK/notify.log'"
	check "STATUS= with workers, links up and the steering mode" \
		bash -c "grep -q 'STATUS=2 worker(s), 1/1 port link(s) up, self-check: 0 warning(s), steering: ' '$WORK/notify.log'"
	check "MAINPID= is npsd's pid" grep -q "MAINPID=$NPSD_PID\$" "$WORK/notify.log"
	check "WATCHDOG=1 every WATCHDOG_USEC/2 (>= 4 in ~1.5 s at 400 ms)" \
		bash -c "[ \$(grep -c ' WATCHDOG=1' '$WORK/notify.log') -ge 4 ]"
	check "STOPPING=1 on SIGTERM, exit 0 ($STOP_RC)" \
		bash -c "grep -q ' STOPPING=1' '$WORK/notify.log' && [ $STOP_RC = 0 ]"
	# The watchdog belongs to another pid: npsd must not send keep-alives.
	: >"$WORK/notify.log"
	"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(4); end = time.time() + 4
while time.time() < end:
    try: print(s.recv(4096).decode(), flush=True)
    except socket.timeout: break' "$WORK/notify2.sock" >"$WORK/notify2.log" 2>&1 &
	lst=$!
	PIDS+=("$lst")
	sleep 0.3
	start_npsd note2 "$WORK/note.conf" NOTIFY_SOCKET="$WORK/notify2.sock" WATCHDOG_USEC=200000 WATCHDOG_PID=1 ||
		{ check "npsd starts (WATCHDOG_PID of another process)" false; return; }
	sleep 1
	stop_npsd
	wait "$lst" 2>/dev/null
	check "WATCHDOG_PID of another process: READY=1 but no WATCHDOG=1" \
		bash -c "grep -q READY=1 '$WORK/notify2.log' && ! grep -q WATCHDOG=1 '$WORK/notify2.log'"
}

# ------------------------------------------------------------------------------------------ self-checks
# net_tap verifies IPv4 header checksums when asked (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM): npsd asks, trusts only its
# "good" verdict, and a header with a bad checksum is still dropped and counted by the software path. (The drops
# alone would look the same without the offload; what they catch is a fast path that takes "bad" for "good".)
bad_cksum_drops() { ctl --json show drops | jget "sum(r['packets'] for r in d['drops'] if r['reason']=='ip4_bad_checksum')"; }
rx_cksum_checks() {
	check "show ports: t0 (net_tap) verifies IPv4 checksums in the NIC" test "$(port_field t0 rx_ip4_cksum)" = nic
	local mac d0 d1
	mac=$(ctl --json show interfaces | jget "next(i['mac'] for i in d['interfaces'] if i['name']=='out0')")
	d0=$(bad_cksum_drops)
	"$PY" - "$mac" <<'EOF' >"$WORK/cksum.log" 2>&1
import sys
from scapy.all import Ether, IP, ICMP, sendp
good = Ether(dst=sys.argv[1]) / IP(src="192.0.2.9", dst="192.0.2.1") / ICMP()
bad = Ether(dst=sys.argv[1]) / IP(src="192.0.2.9", dst="192.0.2.1", chksum=0x1234) / ICMP()
sendp([good, bad, bad, good, bad], iface="dpl-tap0", verbose=False)
EOF
	check "scapy sent the test frames into dpl-tap0 ($WORK/cksum.log)" test $? = 0
	sleep 0.5
	d1=$(bad_cksum_drops)
	check "net_tap checksum offload: 3 headers with a bad checksum dropped as ip4_bad_checksum ($d0 -> $d1), 2 good not" \
		test "$((d1 - d0))" = 3
}

sc_conf() { # a tap port with an IPv6 address and a VLAN sub-interface with its own MAC
	eal_line dpl-sc 1024 no
	cat <<'EOF'
devices = ( { name = "t0"; vdev = "net_tap0,iface=dpl-tap0"; rx_queues = 2; mtu = 1500; } );
workers = ( { lcore = 1; rx = ( "t0:0" ); }, { lcore = 2; rx = ( "t0:1" ); } );
vrfs = ( { name = "core"; id = 0; fib = "compact"; } );
interfaces = (
  { name = "out0"; device = "t0"; vrf = "core"; addresses = [ "192.0.2.1/24", "2001:db8:5::1/64" ]; },
  { name = "v10"; device = "t0"; vlan = 10; mac = "02:00:00:00:10:10"; vrf = "core"; addresses = [ "2001:db8:10::1/64" ]; }
);
EOF
}
# sc_row CHECK FIELD [INDEX]: a field of the self-check row of that check (first one, or the INDEX-th)
sc_row() { ctl --json show selfcheck | jget "[r for r in d['selfcheck'] if r['check']=='$1'][${3:-0}]['$2']"; }

selfcheck_section() {
	section "self-checks: a healthy port, then a refusing VF simulated (NPSD_SELFCHECK_SIMULATE)"
	SOCK=$WORK/sc.sock
	sc_conf >"$WORK/sc.conf"
	start_npsd sc0 "$WORK/sc.conf" || { check "npsd starts for the self-checks" false; tail "$WORK/sc0.log"; return; }
	check "healthy net_tap port: no warning, no failure" \
		bash -c "'$NPSCTL' -s '$SOCK' --json show selfcheck | $PY -c 'import json,sys; d=json.load(sys.stdin)[\"data\"][\"selfcheck\"]; sys.exit(any(r[\"status\"] in (\"warn\",\"FAIL\") for r in d))'"
	rx_cksum_checks
	stop_npsd
	start_npsd sc1 "$WORK/sc.conf" NPSD_SELFCHECK_SIMULATE=vf,promisc_refused,allmulti_refused,mac_add_refused,mtu_mismatch ||
		{ check "npsd starts with the simulated VF" false; return; }
	check "device seen as an SR-IOV VF (simulated)" bash -c "sc_row device detail | grep -q 'SR-IOV VF'"
	check "promiscuous refused -> warn: VF not trusted, fix 'ip link set PF vf N trust on'" \
		bash -c "[ \"\$(sc_row promiscuous status)\" = warn ] && sc_row promiscuous detail | grep -q 'not trusted' && sc_row promiscuous fix | grep -q 'vf N trust on'"
	check "all-multicast refused -> warn: the IPv6 solicited-node groups programmed instead" \
		bash -c "[ \"\$(sc_row multicast status)\" = warn ] && sc_row multicast detail | grep -q 'IPv6 groups of the current addresses are programmed'"
	check "extra MAC of v10 refused -> FAIL with the trust fix" \
		bash -c "[ \"\$(sc_row mac-filter status)\" = FAIL ] && sc_row mac-filter detail | grep -q '02:00:00:00:10:10 refused' && sc_row mac-filter fix | grep -q 'trust on'"
	check "spoof checking -> warn, fix 'ip link set PF vf N spoofchk off'" \
		bash -c "[ \"\$(sc_row spoof-check status)\" = warn ] && sc_row spoof-check fix | grep -q 'spoofchk off'"
	check "MTU below the configured one -> FAIL, fix raises the PF's MTU" \
		bash -c "[ \"\$(sc_row mtu status)\" = FAIL ] && sc_row mtu detail | grep -q 'device MTU is 1400, the configuration says 1500' && sc_row mtu fix | grep -q 'ip link set PF mtu 1500'"
	check "findings logged at start-up with their fix" \
		bash -c "grep -q \"self-check FAIL: port 't0' mtu\" '$WORK/sc1.log' && grep -q 'fix: on the host: ip link set PF vf N spoofchk off' '$WORK/sc1.log'"
	check "'selfcheck run' runs them again (same findings)" \
		bash -c "'$NPSCTL' -s '$SOCK' selfcheck run | grep -q 'spoofchk off'"
	stop_npsd
	start_npsd sc2 "$WORK/sc.conf" NPSD_SELFCHECK_SIMULATE=vf,promisc_refused,allmulti_refused,mc_list_refused ||
		{ check "npsd starts with multicast fully refused" false; return; }
	check "all-multicast and the multicast list refused -> FAIL: neighbour discovery will fail" \
		bash -c "[ \"\$(sc_row multicast status)\" = FAIL ] && sc_row multicast detail | grep -q 'neighbour discovery will fail'"
	stop_npsd
	check "npsd exits 0 after the self-check runs ($STOP_RC)" test "$STOP_RC" = 0
}

# ------------------------------------------------------------------------------------------ rte_flow steering
flow_conf() { # PREFIX DEV0 DEV1 DEV2: NAT (small geometry) and DS-Lite on three ports; worker queues crossed on t0
	eal_line "$1" 1024 no
	cat <<EOF
devices = ( { name = "t0"; vdev = "$2"; rx_queues = 2; }, { name = "n0"; vdev = "$3"; rx_queues = 2; },
            { name = "n1"; vdev = "$4"; rx_queues = 2; } );
workers = ( { lcore = 1; rx = ( "t0:1", "n0:0", "n1:0" ); }, { lcore = 2; rx = ( "t0:0", "n0:1", "n1:1" ); } );
vrfs = ( { name = "out"; id = 1; fib = "compact"; }, { name = "t1"; id = 2; fib = "compact"; },
         { name = "acc"; id = 3; fib = "compact"; }, { name = "dsl"; id = 4; fib = "compact"; } );
interfaces = (
  { name = "out0"; device = "t0"; vrf = "out"; addresses = [ "192.0.2.1/24" ]; },
  { name = "in0";  device = "n0"; vrf = "t1";  addresses = [ "10.9.0.1/24" ]; },
  { name = "acc0"; device = "n1"; vrf = "acc"; addresses = [ "2001:db8:1::1/64" ]; }
);
routes = ( { vrf = "t1"; prefix = "0.0.0.0/0"; target_vrf = "out"; },
           { vrf = "dsl"; prefix = "0.0.0.0/0"; target_vrf = "out"; } );
nat: {
  pools = ( { name = "pub"; vrf = "out"; prefixes = [ "198.51.100.8/31" ]; ports = "1024-1087"; block_size = 16; } );
  tenants = ( { vrf = "t1"; pool = "pub";
                static = ( { proto = "udp"; inside = "10.9.0.5:53"; public = "198.51.100.8:5353"; } ); } );
};
dslite: { aftrs = ( { name = "aftr1"; address = "2001:db8:ffff::1"; transport_vrf = "acc"; vrf = "dsl";
                      pool = "pub"; b4_prefixes = [ "2001:db8:100::/40" ]; } ); };
EOF
}
flow_port() { ctl --json show flow | jget "next(p['$2'] for p in d['ports'] if p['port']=='$1')"; }

flow_section() {
	section "rte_flow steering: the plan, rules through a test rte_flow engine, fallback on real drivers"
	# 1. Real drivers: net_tap (rte_flow only where the kernel has flower, multiq and skbedit), net_null and
	#    net_af_packet (no rte_flow): each port says which mode it uses.
	ip link add dpl-l1 type veth peer name dpl-l1p
	ip link set dpl-l1 up
	SOCK=$WORK/flow.sock
	flow_conf dpl-flow "net_tap0,iface=dpl-tap0" net_null0 "net_af_packet0,iface=dpl-l1,qpairs=2" >"$WORK/flow.conf"
	start_npsd flow "$WORK/flow.conf" || { check "npsd starts with NAT and DS-Lite" false; tail "$WORK/flow.log"; return; }
	check "plan: 9 NAT rules (1 static + 2 addresses x 2 protocols x 2 workers) and 1 DS-Lite rule" \
		test "$(ctl --json show flow | jget "len(d['rules'])")" = 10
	check "af_packet port: software hand-off, 'driver has no rte_flow'" \
		test "$(flow_port n1 mode) / $(flow_port n1 reason)" = "software hand-off / driver has no rte_flow"
	check "null port of the tenant VRF: no NAT rule is meant for it" test "$(flow_port n0 rules)" = 0
	if [ "$(flow_port t0 rules)" -gt 0 ]; then
		check "net_tap: rte_flow rules installed by the kernel's flower classifier" test "$(flow_port t0 mode)" != ""
	else
		check "net_tap on a kernel without flower/multiq: every rule refused, software hand-off with the reason" \
			bash -c "[ \"\$(flow_port t0 mode)\" = 'software hand-off' ] && [ \"\$(flow_port t0 refused)\" = 9 ] && [ -n \"\$(flow_port t0 reason)\" ]"
	fi
	check "the summary says software hand-off when no port took a rule" \
		bash -c "[ \"\$(flow_port t0 rules)\" -gt 0 ] || ctl show flow | grep -q 'software hand-off (no port takes the 10 rule(s))'"
	stop_npsd
	ip link del dpl-l1

	# 2. The test rte_flow engine (test/deploy/flow_shim.c) on ports 0 and 2, refusing partial port masks as
	#    net_tap does: the masked NAT rules are expanded into exact ports.
	#    LD_PRELOAD reaches DPDK's rte_flow calls only through its shared libraries: a static npsd (make
	#    DPDK_LINK=static) is stood in for by npsd-shared, the same objects linked with them.
	gcc -shared -fPIC -O2 -Wall $(pkg-config --cflags libdpdk) -o "$WORK/flow_shim.so" "$HERE/flow_shim.c" ||
		{ check "build the test rte_flow engine" false; return; }
	local npsd_saved=$NPSD
	if ! grep -q 'librte_eal\.so' <<<"$(ldd "$NPSD")"; then
		(cd "$REPO" && $MAKE_CMD -s BUILD="$BUILD" "$BUILD/npsd-shared") >>"$WORK/install.log" 2>&1 ||
			{ check "link npsd-shared (DPDK's shared libraries) for the test rte_flow engine" false; return; }
		NPSD=$REPO/$BUILD/npsd-shared
	fi
	SOCK=$WORK/shim.sock
	flow_conf dpl-shim net_null0 net_null1 net_null2 >"$WORK/shim.conf"
	start_npsd shim "$WORK/shim.conf" LD_PRELOAD="$WORK/flow_shim.so" FLOW_SHIM_PORTS=0,2 \
		FLOW_SHIM_LOG="$WORK/flows.log" FLOW_SHIM_NO_PORT_MASK=1 || { check "npsd starts with the engine" false; NPSD=$npsd_saved; return; }
	local F=$WORK/flows.log
	check "static mapping 198.51.100.8:5353/udp -> its owner worker's queue, priority 0" \
		grep -qx 'port=0 prio=0 eth ipv4 dst=198.51.100.8/32 proto=17 udp dport=0x14e9/0xffff -> queue [01]' "$F"
	check "no port mask on this engine: 2 addresses x 2 protocols x 64 ports expanded to exact rules (256)" \
		test "$(grep -c '^port=0 prio=1 .*/0xffff -> queue' "$F")" = 256
	check "port 1024 (block 0: worker 0, which polls t0 queue 1) -> queue 1" \
		grep -qx 'port=0 prio=1 eth ipv4 dst=198.51.100.9/32 proto=6 tcp dport=0x0400/0xffff -> queue 1' "$F"
	check "port 1040 (block 1: worker 1, which polls t0 queue 0) -> queue 0" \
		grep -qx 'port=0 prio=1 eth ipv4 dst=198.51.100.8/32 proto=17 udp dport=0x0410/0xffff -> queue 0' "$F"
	check "port 1087 (block 3: worker 1) -> queue 0, port 1088 (outside the range) has no rule" \
		bash -c "grep -q 'dport=0x043f/0xffff -> queue 0' '$F' && ! grep -q 'dport=0x0440/' '$F'"
	check "each worker gets exactly its 32 ports per address and protocol (128 rules per queue)" \
		test "$(grep -c 'prio=1 .* -> queue 0$' "$F") $(grep -c 'prio=1 .* -> queue 1$' "$F")" = "128 128"
	check "DS-Lite AFTR: softwires spread over both workers' queues by the B4 (source) address only" \
		grep -qx 'port=2 prio=1 eth ipv6 dst=2001:db8:ffff::1/128 proto=4 -> rss l3-src-only queues 0,1' "$F"
	check "nothing on the port without rte_flow (port 1)" bash -c "! grep -q '^port=1 ' '$F'"
	check "show flow: t0 rte_flow with 257 rules, n0 software hand-off" \
		test "$(flow_port t0 mode) $(flow_port t0 rules) / $(flow_port n0 mode)" = "rte_flow 257 / software hand-off"
	check "rule status says how: 32 exact-port rules for a masked NAT rule" \
		bash -c "ctl show flow | grep -q 'rte_flow: 32 exact-port rules'"
	stop_npsd
	check "every rule destroyed at stop (258 created, $(grep -c '^destroy' "$F") destroyed)" \
		test "$(grep -c '^destroy' "$F")" = 258

	# 3. An engine with port masks: one masked rule per worker, address and protocol.
	: >"$F"
	start_npsd shim2 "$WORK/shim.conf" LD_PRELOAD="$WORK/flow_shim.so" FLOW_SHIM_PORTS=0,2 FLOW_SHIM_LOG="$F" ||
		{ check "npsd starts with the masking engine" false; NPSD=$npsd_saved; return; }
	check "with port masks: 8 masked rules, the owner bit of the port (0x0010) picks the worker's queue" \
		bash -c "[ \$(grep -c 'prio=1 .*/0x0010 -> queue' '$F') = 8 ] && grep -q 'dport=0x0000/0x0010 -> queue 1' '$F' && grep -q 'dport=0x0010/0x0010 -> queue 0' '$F'"
	stop_npsd

	# 4. IPsec: inbound ESP by SPI to the SA's owner worker (spi % 2), SAs added over the control socket as a
	#    controller does (the plan follows within a second); ESP in UDP stays with the software hand-off.
	: >"$F"
	SOCK=$WORK/esp.sock
	{
		eal_line dpl-esp 1024 no
		cat <<EOF2
devices = ( { name = "t0"; vdev = "net_null0"; rx_queues = 2; }, { name = "n0"; vdev = "net_null1"; rx_queues = 2; } );
workers = ( { lcore = 1; rx = ( "t0:1", "n0:0" ); }, { lcore = 2; rx = ( "t0:0", "n0:1" ); } );
vrfs = ( { name = "underlay"; id = 1; fib = "compact"; }, { name = "t1"; id = 2; fib = "compact"; } );
interfaces = ( { name = "wan0"; device = "t0"; vrf = "underlay"; addresses = [ "192.0.2.1/24" ]; },
               { name = "lan0"; device = "n0"; vrf = "t1"; addresses = [ "10.1.0.1/24" ]; },
               { name = "site1"; kind = "ipsec"; vrf = "t1"; },
               { name = "site2"; kind = "ipsec"; vrf = "t1"; } );
ipsec: { tunnels = ( { interface = "site1"; transport_vrf = "underlay"; local = "192.0.2.1"; remote = "192.0.2.2"; },
                     { interface = "site2"; transport_vrf = "underlay"; local = "192.0.2.1"; remote = "192.0.2.3";
                       udp_encap = true; } ); };
EOF2
	} >"$WORK/esp.conf"
	start_npsd esp "$WORK/esp.conf" LD_PRELOAD="$WORK/flow_shim.so" FLOW_SHIM_PORTS=0 FLOW_SHIM_LOG="$F" ||
		{ check "npsd starts with IPsec tunnels" false; NPSD=$npsd_saved; return; }
	ctl ipsec sa add interface site1 direction in spi 4096 alg aes-gcm-128 key 000102030405060708090a0b0c0d0e0f10111213 >/dev/null
	ctl ipsec sa add interface site1 direction in spi 4097 alg aes-gcm-128 key 101112131415161718191a1b1c1d1e1f20212223 >/dev/null
	ctl ipsec sa add interface site2 direction in spi 4098 alg aes-gcm-128 key 202122232425262728292a2b2c2d2e2f30313233 >/dev/null
	sleep 1.5
	check "ESP spi 0x1000 (owner worker 0, which polls t0 queue 1) -> queue 1, spi 0x1001 (worker 1) -> queue 0" \
		bash -c "grep -q 'dst=192.0.2.1/32 proto=50 esp spi=0x00001000 -> queue 1' '$F' && grep -q 'dst=192.0.2.1/32 proto=50 esp spi=0x00001001 -> queue 0' '$F'"
	check "ESP in UDP (site2, udp_encap) gets no SPI rule: software hand-off, said in show flow" \
		bash -c "! grep -q 'spi=0x00001002' '$F' && ctl show flow | grep -q 'ipsec: 1 SAs of udp_encap tunnels'"
	ctl ipsec sa del spi 4097 >/dev/null
	sleep 1.5
	check "an SA deleted over the control socket loses its rule within a second (the other keeps its own)" \
		bash -c "[ \"\$(ctl --json show flow | jget \"[sum(1 for r in d['rules'] if 'spi 0x%x ' % s in r['match']) for s in (4096, 4097)]\")\" = '[1, 0]' ]"
	stop_npsd
	NPSD=$npsd_saved
}

# ------------------------------------------------------------------------------------------ host scripts
scripts_section() {
	section "host scripts: syntax, dry runs, idempotence on a fake sysfs"
	local s
	for s in hugepages bind-vfio create-vfs check-host; do
		check "scripts/$s.sh parses (bash -n)" bash -n "$REPO/scripts/$s.sh"
	done
	check "hugepages.sh --dry-run asks for nothing it has, says what it would write" \
		bash -c "out=\$(bash '$REPO/scripts/hugepages.sh' --dry-run 99999999 2>&1 >/dev/null); grep -q 'dry run: would write' <<<\"\$out\""
	check "hugepages.sh --size 1G --dry-run: the 1 GiB pool and its own mount point" \
		bash -c "bash '$REPO/scripts/hugepages.sh' --dry-run --size 1G 1 2>&1 | grep -Eq 'hugepages-1048576kB|no 1 GiB'"
	# A fake PCI device on ixgbevf with a down interface.
	local F=$WORK/sys
	mkdir -p "$F/bus/pci/drivers/vfio-pci" "$F/bus/pci/drivers/ixgbevf" "$F/kernel/iommu_groups/7" \
		"$F/bus/pci/devices/0000:00:05.0/net/eth9"
	: >"$F/bus/pci/drivers_probe"
	: >"$F/bus/pci/drivers/ixgbevf/unbind"
	: >"$F/bus/pci/devices/0000:00:05.0/driver_override"
	echo down >"$F/bus/pci/devices/0000:00:05.0/net/eth9/operstate"
	ln -s ../../drivers/ixgbevf "$F/bus/pci/devices/0000:00:05.0/driver"
	SYSFS=$F bash "$REPO/scripts/bind-vfio.sh" --dry-run 00:05.0 >"$WORK/bind0.log" 2>&1
	check "bind-vfio.sh --dry-run: says the 3 writes, changes nothing" \
		bash -c "[ \$(grep -c 'dry run: would write' '$WORK/bind0.log') = 3 ] && [ ! -s '$F/bus/pci/devices/0000:00:05.0/driver_override' ]"
	SYSFS=$F bash "$REPO/scripts/bind-vfio.sh" 00:05.0 >"$WORK/bind1.log" 2>&1
	check "bind-vfio.sh: override vfio-pci, unbind from ixgbevf, reprobe" \
		bash -c "[ \"\$(cat '$F/bus/pci/devices/0000:00:05.0/driver_override')\" = vfio-pci ] &&
			[ \"\$(cat '$F/bus/pci/drivers/ixgbevf/unbind')\" = 0000:00:05.0 ] && [ \"\$(cat '$F/bus/pci/drivers_probe')\" = 0000:00:05.0 ]"
	rm "$F/bus/pci/devices/0000:00:05.0/driver"
	ln -s ../../drivers/vfio-pci "$F/bus/pci/devices/0000:00:05.0/driver"
	SYSFS=$F bash "$REPO/scripts/bind-vfio.sh" 00:05.0 >"$WORK/bind2.log" 2>&1
	check "bind-vfio.sh again: already bound, nothing written" grep -q 'already bound to vfio-pci: nothing to do' "$WORK/bind2.log"
	echo up >"$F/bus/pci/devices/0000:00:05.0/net/eth9/operstate"
	rm "$F/bus/pci/devices/0000:00:05.0/driver"
	ln -s ../../drivers/ixgbevf "$F/bus/pci/devices/0000:00:05.0/driver"
	check "bind-vfio.sh refuses a device whose interface is up (without --force)" \
		bash -c "! SYSFS='$F' bash '$REPO/scripts/bind-vfio.sh' 00:05.0 >/dev/null 2>&1"
	# A fake SR-IOV PF and a fake `ip` that keeps the VF settings in a file.
	mkdir -p "$F/class/net/pf0/device"
	echo 8 >"$F/class/net/pf0/device/sriov_totalvfs"
	echo 0 >"$F/class/net/pf0/device/sriov_numvfs"
	echo 1500 >"$F/class/net/pf0/mtu"
	cat >"$WORK/fakeip" <<EOF
#!/bin/bash
# fake ip: "link show pf0" prints the VF lines of $WORK/vfstate; "link set pf0 vf N trust|spoofchk X" updates them.
echo "ip \$*" >>"$WORK/ip.log"
st=$WORK/vfstate
[ -f \$st ] || for i in 0 1 2 3; do echo "    vf \$i link/ether 00:00:00:00:00:0\$i, spoof checking on, link-state auto, trust off" >>\$st; done
if [ "\$2" = show ]; then echo "2: pf0: <UP> mtu 1500"; cat \$st; exit 0; fi
if [ "\$4" = vf ]; then
	case \$6 in
	trust) sed -i "/vf \$5 /s/trust [a-z]*/trust \$7/" \$st ;;
	spoofchk) sed -i "/vf \$5 /s/spoof checking [a-z]*/spoof checking \$7/" \$st ;;
	esac
fi
EOF
	chmod +x "$WORK/fakeip"
	SYSFS=$F IP=$WORK/fakeip bash "$REPO/scripts/create-vfs.sh" pf0 2 >"$WORK/vfs1.log" 2>&1
	check "create-vfs.sh pf0 2: 2 VFs, each trust on and spoofchk off" \
		bash -c "[ \$(cat '$F/class/net/pf0/device/sriov_numvfs') = 2 ] && [ \$(grep -c 'vf [01] trust on' '$WORK/ip.log') = 2 ] &&
			[ \$(grep -c 'vf [01] spoofchk off' '$WORK/ip.log') = 2 ]"
	: >"$WORK/ip.log"
	SYSFS=$F IP=$WORK/fakeip bash "$REPO/scripts/create-vfs.sh" pf0 2 >"$WORK/vfs2.log" 2>&1
	check "create-vfs.sh again: nothing changed (only 'link show')" \
		bash -c "! grep -q 'link set' '$WORK/ip.log' && grep -q 'already has 2 VF' '$WORK/vfs2.log'"
	SYSFS=$F IP=$WORK/fakeip bash "$REPO/scripts/create-vfs.sh" --dry-run pf0 4 >"$WORK/vfs3.log" 2>&1
	check "create-vfs.sh --dry-run pf0 4: says it goes through 0, changes nothing" \
		bash -c "grep -q 'only through 0' '$WORK/vfs3.log' && [ \$(cat '$F/class/net/pf0/device/sriov_numvfs') = 2 ]"
	# check-host: the worker CPUs of a config against isolation.
	mkdir -p "$F/devices/system/cpu/cpu0" "$F/devices/system/cpu/cpu1" "$F/devices/system/cpu/cpu2" \
		"$F/devices/system/node/node0" "$WORK/proc"
	echo 2 >"$F/devices/system/cpu/isolated"
	echo "BOOT_IMAGE=/vmlinuz isolcpus=2" >"$WORK/proc/cmdline"
	printf 'eal: { lcores = "0-2"; };\n' >"$WORK/ch.conf"
	SYSFS=$F PROC=$WORK/proc bash "$REPO/scripts/check-host.sh" --config "$WORK/ch.conf" --strict >"$WORK/ch.log" 2>&1
	local rc=$?
	check "check-host.sh: CPU 2 isolated ok, CPU 1 not isolated -> warning, --strict exits 1" \
		bash -c "[ $rc = 1 ] && grep -q 'ok    worker CPU 2 is isolated' '$WORK/ch.log' && grep -q 'WARN  worker CPU 1 is not isolated' '$WORK/ch.log'"
}

# ------------------------------------------------------------------------------------------ packaging
package_section() {
	section "make install, make deb, dpkg -i / -r / -P, the systemd unit"
	local D=$WORK/stage
	(cd "$REPO" && $MAKE_CMD -s install DESTDIR="$D" BUILD="$BUILD") >"$WORK/install.log" 2>&1
	check "make install DESTDIR: binaries, unit, scripts, config, docs under /usr/local" \
		bash -c "[ -x '$D/usr/local/sbin/npsd' ] && [ -x '$D/usr/local/bin/npsctl' ] &&
			[ -f '$D/usr/local/lib/systemd/system/npsgw.service' ] && [ -x '$D/usr/local/share/npsgw/scripts/bind-vfio.sh' ] &&
			[ -f '$D/usr/local/etc/npsgw/npsd.conf' ] && [ -f '$D/usr/local/share/doc/npsgw/DEPLOY-KVM.md' ]"
	check "the installed unit runs the installed npsd with the installed config" \
		grep -qx 'ExecStart=/usr/local/sbin/npsd -c /usr/local/etc/npsgw/npsd.conf' "$D/usr/local/lib/systemd/system/npsgw.service"
	# The staged unit names /usr/local paths that exist only under DESTDIR: verify a copy pointing there.
	sed "s|/usr/local/|$D/usr/local/|g" "$D/usr/local/lib/systemd/system/npsgw.service" >"$WORK/npsgw.service"
	check "systemd-analyze verify of the staged unit" \
		bash -c "systemd-analyze verify '$WORK/npsgw.service' 2>&1 | tee -a '$WORK/verify.log' | { ! grep -q .; }"
	echo '# the operator edited this' >>"$D/usr/local/etc/npsgw/npsd.conf"
	(cd "$REPO" && $MAKE_CMD -s install DESTDIR="$D" BUILD="$BUILD") >>"$WORK/install.log" 2>&1
	check "make install again keeps an existing configuration" grep -q 'the operator edited this' "$D/usr/local/etc/npsgw/npsd.conf"
	(cd "$REPO" && $MAKE_CMD -s uninstall DESTDIR="$D") >>"$WORK/install.log" 2>&1
	check "make uninstall removes the files, keeps the configuration" \
		bash -c "[ ! -e '$D/usr/local/sbin/npsd' ] && [ ! -e '$D/usr/local/lib/systemd/system/npsgw.service' ] && [ -f '$D/usr/local/etc/npsgw/npsd.conf' ]"

	(cd "$REPO" && $MAKE_CMD -s deb BUILD="$BUILD") >"$WORK/deb.log" 2>&1
	local deb
	deb=$(ls "$REPO/$BUILD"/npsgw_*.deb 2>/dev/null | head -1)
	check "make deb builds $BUILD/npsgw_VERSION_ARCH.deb" test -f "$deb"
	[ -f "$deb" ] || return
	# npsd loads DPDK's drivers as plugins (the package must pull them), or has them built in (make DPDK_LINK=static).
	if grep -q 'librte_eal\.so' <<<"$(ldd "$REPO/$BUILD/npsd")"; then
		check "package metadata: Depends lists DPDK's libraries and drivers (virtio, vmxnet3, iavf)" \
			bash -c "dpkg-deb -f '$deb' Depends | grep -q librte-ethdev23 && dpkg-deb -f '$deb' Depends | grep -q librte-net-virtio23 &&
				dpkg-deb -f '$deb' Depends | grep -q librte-net-vmxnet3-23 && dpkg-deb -f '$deb' Depends | grep -q librte-net-iavf23"
	else
		check "package: the static npsd carries the drivers (virtio, vmxnet3, iavf, mlx5); Depends lists its libraries (libpcap, libconfig), no DPDK driver package" \
			bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/sbin/npsd >'$WORK/npsd.packaged' &&
				grep -q net_virtio '$WORK/npsd.packaged' && grep -q net_vmxnet3 '$WORK/npsd.packaged' &&
				grep -q net_iavf '$WORK/npsd.packaged' && grep -q net_mlx5 '$WORK/npsd.packaged' &&
				dpkg-deb -f '$deb' Depends | grep -q libpcap0.8 && dpkg-deb -f '$deb' Depends | grep -q libconfig9 &&
				! dpkg-deb -f '$deb' Depends | grep -q librte-net-"
	fi
	check "package contents: /usr/sbin/npsd, the unit, /etc/npsgw/npsd.conf as a conffile" \
		bash -c "dpkg-deb -c '$deb' >'$WORK/deb.list' && grep -q ' ./usr/sbin/npsd$' '$WORK/deb.list' && grep -q 'lib/systemd/system/npsgw.service$' '$WORK/deb.list' &&
			dpkg-deb -I '$deb' conffiles | grep -qx /etc/npsgw/npsd.conf"
	if dpkg-query -W -f='${Status}' npsgw 2>/dev/null | grep -q 'install ok'; then
		skip "npsgw is already installed on this host: install/removal test not run (would replace it)"
		return
	fi
	dpkg -i "$deb" >"$WORK/dpkg.log" 2>&1
	check "dpkg -i installs it" bash -c "dpkg-query -W -f='\${Status}' npsgw | grep -q 'install ok installed'"
	check "installed npsd runs (--help) and validates the shipped example (--check-config)" \
		bash -c "/usr/sbin/npsd --help >/dev/null && /usr/sbin/npsd --check-config /etc/npsgw/npsd.conf"
	check "systemd-analyze verify npsgw.service (installed)" \
		bash -c "systemd-analyze verify /usr/lib/systemd/system/npsgw.service 2>&1 | tee -a '$WORK/verify.log' | { ! grep -q .; }"
	dpkg -r npsgw >>"$WORK/dpkg.log" 2>&1
	check "dpkg -r removes binaries and unit, keeps /etc/npsgw/npsd.conf (conffile)" \
		bash -c "[ ! -e /usr/sbin/npsd ] && [ ! -e /usr/lib/systemd/system/npsgw.service ] && [ -f /etc/npsgw/npsd.conf ]"
	dpkg -P npsgw >>"$WORK/dpkg.log" 2>&1
	check "dpkg -P purges the configuration; the package is gone" \
		bash -c "[ ! -e /etc/npsgw ] && ! dpkg-query -W -f='\${Status}' npsgw 2>/dev/null | grep -q installed"
}

export -f sc_row ctl jget flow_port
export NPSCTL PY
for s in $SECTIONS; do
	case $s in
	virtio) virtio_section ;;
	lifecycle) lifecycle_section ;;
	missing) missing_section ;;
	notify) notify_section ;;
	selfcheck) selfcheck_section ;;
	flow) flow_section ;;
	scripts) scripts_section ;;
	package) package_section ;;
	*) echo "run.sh: unknown section $s" >&2 ;;
	esac
done

printf '\ndeploy tests: %d passed, %d failed, %d skipped\n' "$PASS" "$FAIL" "$SKIP"
if ((FAIL)); then
	echo "(details: $WORK/checks.log and the npsd logs; NPSGW_DEPLOY_KEEP=1 keeps them)"
	NPSGW_DEPLOY_KEEP=1
fi
((FAIL == 0))
