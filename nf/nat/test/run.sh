#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The NAT44 / DS-Lite end-to-end tier: npsd between two tenant sites with the same private prefix, the internet and
# an IPv6 access network with a scapy DS-Lite B4, all in network namespaces; real Linux tools and sockets; one round
# with one worker, then one with two (nat_e2e.py says what each round checks).
#
#   bash nf/nat/test/run.sh                       both rounds
#   NAT_E2E_WORKERS="2" bash nf/nat/test/run.sh   only the two-worker round
#
# Needs root, build/npsd and build/npsctl (BUILD=build-x picks another build directory, NPSD/NPSCTL name the
# binaries), ip, ping, iperf3 and /usr/bin/python3 with scapy. One PASS/FAIL line per check; exit 1 when a check
# fails, 2 when the tier cannot run. npsd, the namespaces and the veth pairs are removed even on failure or
# interruption; the work directory (logs, configurations, iperf3 results) is kept when a check failed, or always with
# NPSGW_NAT_E2E_KEEP=1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PY=/usr/bin/python3
BUILD=${BUILD:-build}
export NPSD=${NPSD:-$REPO/$BUILD/npsd}
export NPSCTL=${NPSCTL:-$REPO/$BUILD/npsctl}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
TIMEOUT=${NPSGW_NAT_E2E_TIMEOUT:-900}
HOSTS=(nat-t1 nat-t2 nat-inet nat-b4)
PREFIX=npsnate2e # the EAL file prefix of nat_e2e.py's configurations

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, veth pairs)" >&2; exit 2; }
for f in "$NPSD" "$NPSCTL"; do
	[ -x "$f" ] || { echo "run.sh: $f missing: run make first" >&2; exit 2; }
done
for c in ip ping iperf3 "$PY"; do
	command -v "$c" >/dev/null || { echo "run.sh: $c not installed (scripts/install-deps.sh)" >&2; exit 2; }
done
"$PY" -c 'import scapy.all' 2>/dev/null || { echo "run.sh: scapy missing for $PY (python3-scapy)" >&2; exit 2; }
# shellcheck source=../../../test/e2e/lib.sh
. "$REPO/test/e2e/lib.sh"

WORK=$(mktemp -d /tmp/npsgw-nate2e.XXXXXX)
child=
# shellcheck disable=SC2317 # run by the traps
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -f "$WORK/npsd.pid" ]; then
		pid=$(cat "$WORK/npsd.pid")
		nps_stop_pid "$pid" 5
	fi
	for h in "${HOSTS[@]}"; do nps_del_host "$h" "$h"; done
	rm -rf "/run/dpdk/$PREFIX"
	if [ "$rc" = 0 ] && [ -z "${NPSGW_NAT_E2E_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "run.sh: logs kept in $WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for h in "${HOSTS[@]}"; do nps_del_host "$h" "$h"; done # leftovers of an interrupted run
# shellcheck disable=SC2086 # one word per worker count
timeout -k 10 "$TIMEOUT" "$PY" "$HERE/nat_e2e.py" "$WORK" ${NAT_E2E_WORKERS:-1 2} &
child=$!
wait "$child"
rc=$?
child=
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "FAIL  timeout after ${TIMEOUT}s"
	rc=1
fi
if [ $rc -ne 0 ]; then
	for l in "$WORK"/npsd-*.log; do
		[ -f "$l" ] && { echo "--- tail of $l"; tail -n 8 "$l" | sed 's/^/      /'; }
	done
	echo "--- details of every check: $WORK/log"
fi
exit $rc
