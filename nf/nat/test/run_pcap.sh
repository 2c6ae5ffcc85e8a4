#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# NAT44 and DS-Lite pcap tier: behaviour and bad-input cases (nf/nat/test/cases_nat_*.py) run by the pcap harness of
# test/pcap (same runner, same output, same clean-up), with the real npsd and npsctl.
#
#   bash nf/nat/test/run_pcap.sh              every NAT and DS-Lite case
#   bash nf/nat/test/run_pcap.sh badinput     the bad-input cases; "forward": the behaviour ones
#   bash nf/nat/test/run_pcap.sh NAME...      the cases whose names start with NAME (nat-, dslite-)
#
# NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default: build); the other NPSGW_PCAP_* variables as in
# test/pcap/run.sh. Exits 1 when a case fails.
# The runner is shared with the other functions' tiers: test/pcap/run_nf.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/../../../test/pcap/run_nf.sh" "$HERE" "$@"
