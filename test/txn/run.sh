#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Test tier: transactional configuration (config diff / commit / rollback / save, reload, SIGHUP) on the real
# build/npsd with a steady stream of packets through a route no candidate touches (txn_test.py says what is checked).
#
#   bash test/txn/run.sh
#
# One PASS/FAIL line per check and a summary; exits 1 when a check fails, 2 when it cannot run. The daemon and the
# temporary files are removed even when the run is interrupted; NPSGW_TXN_KEEP=1 keeps the files.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3 # the system interpreter: python3-scapy is installed for it
TIMEOUT=${NPSGW_TXN_TIMEOUT:-170}

for f in "$REPO/build/npsd" "$REPO/build/npsctl"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f missing: run make first" >&2
		exit 2
	fi
done
if ! "$PY" -c 'import scapy' 2>/dev/null; then
	echo "run.sh: $PY cannot import scapy (apt-get install python3-scapy)" >&2
	exit 2
fi

ROOT=$(mktemp -d /tmp/npsgw-txn.XXXXXX)
child=""
cleanup() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
	if [ -f "$ROOT/npsd.pid" ]; then
		pid=$(cat "$ROOT/npsd.pid")
		kill -TERM "$pid" 2>/dev/null && sleep 1 && kill -KILL "$pid" 2>/dev/null
	fi
	[ -f "$ROOT/npsd.prefix" ] && rm -rf "/var/run/dpdk/$(cat "$ROOT/npsd.prefix")"
	if [ -z "${NPSGW_TXN_KEEP:-}" ]; then
		rm -rf "$ROOT"
	else
		echo "run.sh: kept $ROOT"
	fi
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted"; exit 130' INT TERM

start=$(date +%s)
# in the background so that a signal to this script is handled at once
timeout -k 10 "$TIMEOUT" "$PY" "$HERE/txn_test.py" "$ROOT" &
child=$!
wait "$child"
rc=$?
child=""
[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "FAIL  timeout after ${TIMEOUT}s"
if [ $rc -ne 0 ] && [ -d "$ROOT" ]; then
	for log in "$ROOT"/npsd-*.log; do
		[ -f "$log" ] && { echo "---- $log (last lines)"; tail -n 15 "$log" | sed 's/^/      /'; }
	done
fi
echo "txn tier: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start))s"
exit $((rc == 0 ? 0 : rc == 2 ? 2 : 1))
