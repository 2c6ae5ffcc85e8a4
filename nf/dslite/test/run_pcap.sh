#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# DS-Lite's pcap tier: the cases of nf/dslite/test/cases_dslite_*.py (they share nf/nat/test/cases_nat_common.py:
# topology, frames, counter checks) run by the pcap harness of test/pcap, with the real npsd and npsctl.
#
#   bash nf/dslite/test/run_pcap.sh              every DS-Lite case
#   bash nf/dslite/test/run_pcap.sh badinput     the bad-input cases; "forward": the behaviour ones
#   bash nf/dslite/test/run_pcap.sh NAME...      the cases whose names start with NAME
#
# NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default: build). Exits 1 when a case fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
BUILD_DIR=${NPSGW_BUILD:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$REPO/$BUILD_DIR" ;; esac
for f in "$BUILD_DIR/npsd" "$BUILD_DIR/npsctl"; do
	if [ ! -x "$f" ]; then
		echo "run_pcap.sh: $f missing: run make first" >&2
		exit 2
	fi
done
export NPSD="$BUILD_DIR/npsd" NPSCTL="$BUILD_DIR/npsctl"
export NPSGW_PCAP_CASES_DIR="$HERE"
exec bash "$REPO/test/pcap/run.sh" "$@"
