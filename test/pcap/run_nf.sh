#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A network function's pcap tier: the cases of CASES_DIR (cases_*.py) run by the pcap harness of test/pcap (same
# runner, same output, same clean-up), with the real npsd and npsctl. Called by nf/*/test/run_pcap.sh.
#
#   bash test/pcap/run_nf.sh CASES_DIR [badinput | forward | NAME...]
#
# NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default: build); the other NPSGW_PCAP_* variables as in
# test/pcap/run.sh. Exits 1 when a case fails, 2 when the binaries are missing.
set -u
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: run_nf.sh CASES_DIR [ARGS...]" >&2
	exit 2
fi
CASES_DIR=$(cd "$1" && pwd)
shift
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${NPSGW_BUILD:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$REPO/$BUILD_DIR" ;; esac
for f in "$BUILD_DIR/npsd" "$BUILD_DIR/npsctl"; do
	if [ ! -x "$f" ]; then
		echo "run_pcap.sh: $f missing: run make first" >&2
		exit 2
	fi
done
export NPSD="$BUILD_DIR/npsd" NPSCTL="$BUILD_DIR/npsctl"
export NPSGW_PCAP_CASES_DIR="$CASES_DIR"
exec bash "$REPO/test/pcap/run.sh" "$@"
