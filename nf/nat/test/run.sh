#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The NAT44 / DS-Lite end-to-end tier: npsd between two tenant sites with the same private prefix, the internet and
# an IPv6 access network with a scapy DS-Lite B4, all in network namespaces; real Linux tools and sockets; one round
# with one worker, then one with two (nat_e2e.py says what each round checks).
#
#   bash nf/nat/test/run.sh                       both rounds
#   NAT_E2E_WORKERS="2" bash nf/nat/test/run.sh   only the two-worker round
#
# Needs root, build/npsd and build/npsctl (BUILD=build-x picks another build directory, NPSD/NPSCTL name the
# binaries), ip, ping, iperf3 and /usr/bin/python3 with scapy. One PASS/FAIL line per check; exit 1 when a check
# fails, 2 when the tier cannot run. npsd, the namespaces and the veth pairs are removed even on failure or
# interruption; the work directory (logs, configurations, iperf3 results) is kept when a check failed, or always with
# NPSGW_NAT_E2E_KEEP=1.
HERE=$(cd "$(dirname "$0")" && pwd)
NF_NAME=nat
NF_PY=$HERE/nat_e2e.py
NF_PREFIX=npsnate2e # the EAL file prefix of nat_e2e.py's configurations
NF_HOSTS=(nat-t1 nat-t2 nat-inet nat-b4)
NF_TOOLS=(ping iperf3)
NF_WORKERS=${NAT_E2E_WORKERS:-1 2}
# shellcheck source=../../../test/e2e/nf_tier.sh
. "$HERE/../../../test/e2e/nf_tier.sh"
nf_tier_main
