#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# DS-Lite's pcap tier: the cases of nf/dslite/test/cases_dslite_*.py (they share nf/nat/test/cases_nat_common.py:
# topology, frames, counter checks) run by the pcap harness of test/pcap, with the real npsd and npsctl.
#
#   bash nf/dslite/test/run_pcap.sh              every DS-Lite case
#   bash nf/dslite/test/run_pcap.sh badinput     the bad-input cases; "forward": the behaviour ones
#   bash nf/dslite/test/run_pcap.sh NAME...      the cases whose names start with NAME
#
# NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default: build); the other NPSGW_PCAP_* variables as in
# test/pcap/run.sh. Exits 1 when a case fails.
# The runner is shared with the other functions' tiers: test/pcap/run_nf.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/../../../test/pcap/run_nf.sh" "$HERE" "$@"
