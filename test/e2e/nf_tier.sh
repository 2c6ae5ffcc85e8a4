# SPDX-License-Identifier: BSD-3-Clause
# Runner shared by the network functions' namespace tiers (nf/fw/test/run.sh, nf/nat/test/run.sh): checks the
# prerequisites, runs the tier's Python script with a timeout, and removes npsd, the namespaces and the EAL runtime
# directory even on failure or interruption. Sourced; the caller sets:
#   NF_NAME   short name: work directory /tmp/npsgw-${NF_NAME}e2e.*, variables NPSGW_<NAME>_E2E_{TIMEOUT,KEEP}
#   NF_PY     the tier's script (called as: NF_PY WORKDIR WORKER_COUNTS...)
#   NF_PREFIX the EAL file prefix its configurations use
#   NF_HOSTS  array: the namespaces it creates
#   NF_TOOLS  array: commands it needs besides ip and python
#   NF_WORKERS worker counts to run (default "1 2")
# then calls nf_tier_main.
set -u
NF_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
BUILD=${BUILD:-build}
export NPSD=${NPSD:-$NF_REPO/$BUILD/npsd}
export NPSCTL=${NPSCTL:-$NF_REPO/$BUILD/npsctl}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree

nf_tier_main() {
	local upper timeout_var keep_var
	upper=$(echo "$NF_NAME" | tr '[:lower:]' '[:upper:]')
	timeout_var="NPSGW_${upper}_E2E_TIMEOUT"
	keep_var="NPSGW_${upper}_E2E_KEEP"
	TIMEOUT=${!timeout_var:-900}
	[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, veth pairs)" >&2; exit 2; }
	for f in "$NPSD" "$NPSCTL"; do
		[ -x "$f" ] || { echo "run.sh: $f missing: run make first" >&2; exit 2; }
	done
	for c in ip "${NF_TOOLS[@]}" "$PY"; do
		command -v "$c" >/dev/null || { echo "run.sh: $c not installed (scripts/install-deps.sh)" >&2; exit 2; }
	done
	# shellcheck source=lib.sh
	. "$NF_REPO/test/e2e/lib.sh"
	WORK=$(mktemp -d "/tmp/npsgw-${NF_NAME}e2e.XXXXXX")
	KEEP=${!keep_var:-}
	child=
	trap nf_tier_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for h in "${NF_HOSTS[@]}"; do nps_del_host "$h" "$h"; done # leftovers of an interrupted run
	# shellcheck disable=SC2086 # one word per worker count
	timeout -k 10 "$TIMEOUT" "$PY" "$NF_PY" "$WORK" ${NF_WORKERS:-1 2} &
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
}

# shellcheck disable=SC2317 # run by the traps
nf_tier_cleanup() {
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
	for h in "${NF_HOSTS[@]}"; do nps_del_host "$h" "$h"; done
	rm -rf "/run/dpdk/$NF_PREFIX"
	if [ "$rc" = 0 ] && [ -z "$KEEP" ]; then
		rm -rf "$WORK"
	else
		echo "run.sh: logs kept in $WORK"
	fi
	exit "$rc"
}
