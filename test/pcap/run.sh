#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Test tiers 2 and 4: pcap-in/pcap-out runs of the real npsd (build/npsd, build/npsctl) and the bad-input corpus.
#
#   bash test/pcap/run.sh              every case
#   bash test/pcap/run.sh badinput     the bad-input corpus only (tier 4); "forward" = tier 2 only
#   bash test/pcap/run.sh NAME...      the cases whose names start with NAME (harness.py --list shows them)
#
# One PASS/FAIL line per case, the details of each failure, a summary; exits 1 when a case fails.
# Each case runs in its own process under a timeout (NPSGW_PCAP_TIMEOUT seconds, default 90); its daemon and
# temporary files are removed even when the case or this script is interrupted. NPSGW_PCAP_KEEP=1 keeps them.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3 # the system interpreter: python3-scapy is installed for it
CASE_TIMEOUT=${NPSGW_PCAP_TIMEOUT:-90}

for f in "${NPSD:-$REPO/build/npsd}" "${NPSCTL:-$REPO/build/npsctl}"; do # the harness runs these too
	if [ ! -x "$f" ]; then
		echo "run.sh: $f missing: run make first" >&2
		exit 2
	fi
done
if ! "$PY" -c 'import scapy' 2>/dev/null; then
	echo "run.sh: $PY cannot import scapy (apt-get install python3-scapy)" >&2
	exit 2
fi

ROOT=$(mktemp -d /tmp/npsgw-pcap.XXXXXX)
cleanup() {
	local f pid
	for f in "$ROOT"/*/npsd.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null && sleep 1 && kill -KILL "$pid" 2>/dev/null
	done
	for f in "$ROOT"/*/npsd.prefix; do
		[ -f "$f" ] && rm -rf "/var/run/dpdk/$(cat "$f")"
	done
	if [ -z "${NPSGW_PCAP_KEEP:-}" ]; then
		rm -rf "$ROOT"
	else
		echo "run.sh: kept $ROOT"
	fi
}
child=""
interrupted() {
	echo "run.sh: interrupted"
	# timeout passes the signal on to the harness, which stops its daemon
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
	exit 130
}
trap cleanup EXIT
trap interrupted INT TERM

ALL=$("$PY" "$HERE/harness.py" --list all) || { echo "run.sh: cannot list the cases" >&2; exit 2; }
if [ $# -eq 0 ]; then
	CASES=$ALL
elif [ $# -eq 1 ] && { [ "$1" = badinput ] || [ "$1" = forward ] || [ "$1" = all ]; }; then
	CASES=$("$PY" "$HERE/harness.py" --list "$1")
else
	CASES=""
	for want in "$@"; do
		m=$(printf '%s\n' $ALL | grep -e "^$want" || true)
		if [ -z "$m" ]; then
			echo "run.sh: no case matches '$want'" >&2
			exit 2
		fi
		CASES="$CASES $m"
	done
fi

pass=0
failed=()
start_all=$(date +%s)
for c in $CASES; do
	t0=$EPOCHREALTIME
	# in the background so that a signal to this script is handled at once (wait returns)
	NPSGW_PCAP_TMP="$ROOT" timeout -k 10 "$CASE_TIMEOUT" "$PY" "$HERE/harness.py" --run "$c" >"$ROOT/$c.out" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=""
	dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if [ $rc -eq 0 ]; then
		printf 'PASS  %-28s %5ss\n' "$c" "$dt"
		pass=$((pass + 1))
	else
		why=""
		[ $rc -eq 124 ] || [ $rc -eq 137 ] && why=" (timeout after ${CASE_TIMEOUT}s)"
		printf 'FAIL  %-28s %5ss%s\n' "$c" "$dt" "$why"
		sed 's/^/      /' "$ROOT/$c.out"
		failed+=("$c")
	fi
	# a case killed by its timeout may leave its daemon: stop it before the next one
	for f in "$ROOT/$c"/npsd.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
done
total=$((pass + ${#failed[@]}))
echo "pcap tests: $pass/$total passed in $(($(date +%s) - start_all))s${failed:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
