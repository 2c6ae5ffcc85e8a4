#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Telemetry tier: the counters of `npsctl show stats` read through DPDK telemetry (dpdk-telemetry.py) and the
# Prometheus endpoint agree with npsctl, and control-socket subscribers get their events (test/telemetry/check.py).
#
#   bash test/telemetry/run.sh       needs build/npsd and build/npsctl; about 10 seconds
#
# Exits 0 when every check passes, 1 on a failure. The daemon and its temporary files are removed even when the
# script is interrupted; NPSGW_TELEMETRY_KEEP=1 keeps the directory (configuration, pcaps, npsd.log).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3

for f in "$REPO/build/npsd" "$REPO/build/npsctl" /usr/bin/dpdk-telemetry.py; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "run.sh: $f missing (make; apt-get install dpdk)" >&2
		exit 2
	fi
done

DIR=$(mktemp -d /tmp/npsgw-telemetry.XXXXXX)
child=""
cleanup() {
	if [ -f "$DIR/npsd.pid" ]; then
		pid=$(cat "$DIR/npsd.pid")
		kill -TERM "$pid" 2>/dev/null && sleep 1 && kill -KILL "$pid" 2>/dev/null
	fi
	[ -f "$DIR/npsd.prefix" ] && rm -rf "/var/run/dpdk/$(cat "$DIR/npsd.prefix")"
	if [ -n "${NPSGW_TELEMETRY_KEEP:-}" ]; then
		echo "run.sh: kept $DIR"
	else
		rm -rf "$DIR"
	fi
}
interrupted() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
	exit 130
}
trap cleanup EXIT
trap interrupted INT TERM

timeout -k 10 120 "$PY" "$HERE/check.py" "$DIR" &
child=$!
wait "$child"
rc=$?
child=""
if [ $rc -ne 0 ] && [ -f "$DIR/npsd.log" ]; then
	echo "---- npsd.log (last lines)"
	tail -n 30 "$DIR/npsd.log"
fi
if [ $rc -eq 0 ]; then
	echo "telemetry tests: 1 passed, 0 failed"
else
	echo "telemetry tests: 0 passed, 1 failed"
fi
[ $rc -eq 0 ]
