#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Visibility tests: capture into pcapng (nodes, ports, drops; filter, count, vrf, snaplen, status, streaming into
# tshark), packet trace (1 and 2 workers), path check (verdicts; never transmitted), dpdk-dumpcap, bad requests.
#
#   bash test/visibility/run.sh            every group
#   bash test/visibility/run.sh GROUP...   capture trace1 trace2 pathcheck badinput dumpcap
#
# Needs root (veth pairs: npsd's net_pcap ports read them with rx_iface_in=, so frames can be sent after a capture
# or trace has started; transmit goes to pcap files), build/npsd and build/npsctl, python3-scapy for /usr/bin/python3,
# tshark, dpdk-dumpcap. The dpdk-dumpcap check needs hugepages for its npsd's memory (NPSGW_VIS_HUGE_MB, asked of
# scripts/hugepages.sh as 2 MiB pages): SKIP when there are none.
# One PASS/FAIL/SKIP line per check; exit 1 when one fails. NPSGW_VIS_KEEP=1 keeps the work directory.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
TIMEOUT=${NPSGW_VIS_TIMEOUT:-170}

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (veth pairs)" >&2; exit 2; }
for f in "$REPO/build/npsd" "$REPO/build/npsctl"; do
	[ -x "$f" ] || { echo "run.sh: $f missing: run make first" >&2; exit 2; }
done
"$PY" -c 'import scapy' 2>/dev/null || { echo "run.sh: $PY cannot import scapy" >&2; exit 2; }
for c in tshark dpdk-dumpcap ip; do
	command -v "$c" >/dev/null || { echo "run.sh: $c not installed" >&2; exit 2; }
done

TAG="nv$(($$ % 100000))"
WORK=$(mktemp -d /tmp/npsgw-vis.XXXXXX)
child=""
cleanup() {
	local f pid l
	trap - EXIT INT TERM
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
	for f in "$WORK"/*/npsd.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null && sleep 1 && kill -KILL "$pid" 2>/dev/null
	done
	for f in "$WORK"/*/npsd.prefix; do
		[ -f "$f" ] && rm -rf "/var/run/dpdk/$(cat "$f")"
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^${TAG}d"); do
		ip link del "$l" 2>/dev/null
	done
	if [ -n "${NPSGW_VIS_KEEP:-}" ]; then echo "run.sh: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# the dumpcap group's npsd preallocates this much (EAL -m; it uses ~1220 MB: two VRFs' FIBs, the mbuf pools)
# in 2 MiB pages, and a few more for dpdk-dumpcap's own
HUGE_MB=1280
HUGE=$(bash "$REPO/scripts/hugepages.sh" $((HUGE_MB / 2 + 16)) 2>/dev/null)
echo "hugepages: $HUGE"
t0=$(date +%s)
NPSGW_VIS_TAG=$TAG NPSGW_VIS_TMP=$WORK NPSGW_VIS_HUGE=$HUGE NPSGW_VIS_HUGE_MB=$HUGE_MB \
	timeout -k 10 "$TIMEOUT" "$PY" "$HERE/vis.py" "$@" &
child=$!
wait "$child"
rc=$?
child=""
[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "FAIL  timeout after ${TIMEOUT}s"
echo "visibility: exit $rc after $(($(date +%s) - t0))s"
exit $((rc == 0 ? 0 : 1))
