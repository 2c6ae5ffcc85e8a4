#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/instructions.sh: instructions per packet of npsd's worker, counted by valgrind (callgrind), for a change too
# small for the cycle figures of a noisy host: the count is the same from run to run, whatever the host is doing.
#
#   bash bench/instructions.sh [--npsd PATH] [--family 4|6] [--seconds N] [--keep FILE] PCAP
#
# npsd (default build/npsd, npsctl beside it) forwards PCAP, replayed forever (net_pcap infinite_rx, no hugepages),
# to net_null: one worker, one route to the bench's destinations (16.0.0.0/4, or 2000::/4 for IPv6) via a static
# neighbour, the bench's MACs. PCAP is one of the bench's own (build/bench/data/v4-p1-vl0-64.pcap after a `make
# bench`, or bench/gen_traffic.py). Counted: the worker loop (worker_main and all it calls) over a window of
# --seconds (default 20) of valgrind's time, divided by the packets received in it. Printed: instructions per packet
# in all, then by library and by function. To compare two builds, run it on each: there is no noise to average out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
npsd=$here/../build/npsd
family=4
seconds=20
keep=
while [ $# -gt 1 ]; do
	case $1 in
	--npsd) npsd=$2; shift ;;
	--family) family=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--keep) keep=$2; shift ;;
	*) echo "instructions.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ $# -eq 1 ] || { sed -n '4,5p' "$0" >&2; exit 2; }
pcap=$(readlink -f "$1")
npsctl=$(dirname "$npsd")/npsctl
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind missing (apt-get install valgrind)" >&2; exit 2; }
[ -r "$pcap" ] || { echo "instructions.sh: $pcap: not readable" >&2; exit 2; }

work=$(mktemp -d /tmp/npsgw-instr.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/npsinstr$$"
}
trap cleanup EXIT
if [ "$family" = 4 ]; then route="main 16.0.0.0/4 via 10.1.0.2"; else route="main 2000::/4 via fd00:1::2"; fi
echo "$route" >"$work/routes"
cat >"$work/npsd.conf" <<EOF
eal: { lcores = "0-1"; memory_mb = 1024; hugepages = "no"; file_prefix = "npsinstr$$"; };
control: { socket = "$work/npsd.sock"; mode = "0600"; };
limits: { mbufs = 131072; };
devices = (
  { name = "in"; vdev = "net_pcap0,rx_pcap=$pcap,infinite_rx=1"; rx_queues = 1; },
  { name = "out"; vdev = "net_null0,no-rx=1"; }
);
vrfs = ( { name = "main"; id = 0; fib = "fast"; max_routes = 2048; } );
interfaces = (
  { name = "in0"; device = "in"; vrf = "main"; mac = "02:00:00:00:00:01"; addresses = [ "10.0.0.1/24", "fd00::1/64" ]; },
  { name = "out0"; device = "out"; vrf = "main"; mac = "02:00:00:00:01:01"; addresses = [ "10.1.0.1/24", "fd00:1::1/64" ]; }
);
neighbours = ( { interface = "out0"; ip = "10.1.0.2"; mac = "02:00:00:00:02:02"; },
               { interface = "out0"; ip = "fd00:1::2"; mac = "02:00:00:00:02:02"; } );
route_file = "$work/routes";
EOF
valgrind --tool=callgrind --fair-sched=yes --toggle-collect=worker_main --callgrind-out-file="$work/cg.out" \
	"$npsd" -c "$work/npsd.conf" >"$work/npsd.log" 2>&1 &
pid=$!
ctl() { "$npsctl" -s "$work/npsd.sock" --timeout 20000 --json "$@"; }
received() { ctl show stats | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["totals"][0]["rx"])'; }
for _ in $(seq 300); do
	[ -S "$work/npsd.sock" ] && ctl version >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/npsd.log" >&2; exit 1; }
	sleep 1
done
sleep 5 # past the first bursts (cold caches, first neighbour use)
# The window: packets counted between the two reads, instructions between the zeroing and the dump (inside them).
rx0=$(received)
callgrind_control -z "$pid" >/dev/null
sleep "$seconds"
callgrind_control -d "$pid" >/dev/null
rx1=$(received)
stats=$(ctl show stats)
kill -TERM "$pid"
wait "$pid" || true
pid=
dump=$(ls "$work"/cg.out.* | head -1)
[ -z "$keep" ] || cp "$dump" "$keep" # for callgrind_annotate FILE SOURCE... (instructions per source line)
/usr/bin/python3 - "$dump" "$((rx1 - rx0))" "$stats" <<'EOF'
import json, re, subprocess, sys
out, packets, stats = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])["data"]
t = stats["totals"][0]
ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--tree=none", "--auto=no", "--threshold=100", out],
                     capture_output=True, text=True, check=True).stdout
total, funcs = 0, {}
for line in ann.splitlines():
    m = re.match(r"\s*([\d,]+) \([^)]*\)\s+PROGRAM TOTALS", line)
    if m:
        total = int(m.group(1).replace(",", ""))
        continue
    m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*)$", line)
    if m:
        name = m.group(2)
        obj = re.search(r"\[([^\]]+)\]", name)
        fn = re.sub(r"\s*\[.*\]", "", name).rsplit(":", 1)[-1]
        key = (obj.group(1).rsplit("/", 1)[-1] if obj else "?", fn)
        funcs[key] = funcs.get(key, 0) + int(m.group(1).replace(",", ""))
print("window: %d packets; instructions per packet: %.1f (the whole run: rx %d, tx %d, express %d, drops %d)"
      % (packets, total / packets, t["rx"], t["tx"], t.get("express", 0), t["drops"]))
# callgrind_annotate names a function once per source file it has lines from (its inlined headers' without the
# object): summed by name. The thread's entry points (as much as the whole) are left out.
by_fn, obj_of = {}, {}
for (obj, fn), n in funcs.items():
    by_fn[fn] = by_fn.get(fn, 0) + n
    if obj != "?":
        obj_of[fn] = obj
print("functions (instructions per packet, their own):")
for fn, n in sorted(by_fn.items(), key=lambda x: -x[1]):
    if n / packets >= 0.5 and n < 0.99 * total:
        print("  %6.1f  %s (%s)" % (n / packets, fn, obj_of.get(fn, "?")))
EOF
