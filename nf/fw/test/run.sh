#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The firewall's end-to-end tier: npsd between a site host and an internet host in network namespaces, real Linux
# tools and sockets, one round with one worker, then one with two (fw_e2e.py says what each round checks).
#
#   bash nf/fw/test/run.sh               both rounds
#   FW_E2E_WORKERS="2" bash nf/fw/test/run.sh   only the two-worker round
#
# Needs root, build/npsd and build/npsctl (BUILD=build-x picks another build directory, NPSD/NPSCTL name the
# binaries), ip, ping, traceroute, iperf3 and /usr/bin/python3. One PASS/FAIL line per check; exit 1 when a check
# fails, 2 when the tier cannot run. npsd, the namespaces and the veth pairs are removed even on failure or
# interruption; the work directory (logs, configurations, iperf3 results) is kept when a check failed, or always with
# NPSGW_FW_E2E_KEEP=1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
PY=/usr/bin/python3
BUILD=${BUILD:-build}
export NPSD=${NPSD:-$REPO/$BUILD/npsd}
export NPSCTL=${NPSCTL:-$REPO/$BUILD/npsctl}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
TIMEOUT=${NPSGW_FW_E2E_TIMEOUT:-900}
HOSTS=(fw-site fw-inet)
PREFIX=npsfwe2e # the EAL file prefix of fw_e2e.py's configurations

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, veth pairs)" >&2; exit 2; }
for f in "$NPSD" "$NPSCTL"; do
	[ -x "$f" ] || { echo "run.sh: $f missing: run make first" >&2; exit 2; }
done
for c in ip ping traceroute iperf3 "$PY"; do
	command -v "$c" >/dev/null || { echo "run.sh: $c not installed (scripts/install-deps.sh)" >&2; exit 2; }
done
# shellcheck source=../../../test/e2e/lib.sh
. "$REPO/test/e2e/lib.sh"

WORK=$(mktemp -d /tmp/npsgw-fwe2e.XXXXXX)
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
	if [ "$rc" = 0 ] && [ -z "${NPSGW_FW_E2E_KEEP:-}" ]; then
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
timeout -k 10 "$TIMEOUT" "$PY" "$HERE/fw_e2e.py" "$WORK" ${FW_E2E_WORKERS:-1 2} &
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
