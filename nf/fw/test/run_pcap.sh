#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The firewall's pcap tier: behaviour and bad-input cases (nf/fw/test/cases_fw_*.py) run by the pcap harness of
# test/pcap (same runner, same output, same clean-up), with the real npsd and npsctl.
#
#   bash nf/fw/test/run_pcap.sh              every firewall case
#   bash nf/fw/test/run_pcap.sh badinput     the bad-input and exhaustion cases; "forward": the behaviour ones
#   bash nf/fw/test/run_pcap.sh NAME...      the cases whose names start with NAME
#
# NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default: build); the other NPSGW_PCAP_* variables as in
# test/pcap/run.sh. Exits 1 when a case fails.
# The runner is shared with the other functions' tiers: test/pcap/run_nf.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/../../../test/pcap/run_nf.sh" "$HERE" "$@"
