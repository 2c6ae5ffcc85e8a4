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
HERE=$(cd "$(dirname "$0")" && pwd)
NF_NAME=fw
NF_PY=$HERE/fw_e2e.py
NF_PREFIX=npsfwe2e # the EAL file prefix of fw_e2e.py's configurations
NF_HOSTS=(fw-site fw-inet)
NF_TOOLS=(ping traceroute iperf3)
NF_WORKERS=${FW_E2E_WORKERS:-1 2}
# shellcheck source=../../../test/e2e/nf_tier.sh
. "$HERE/../../../test/e2e/nf_tier.sh"
nf_tier_main
