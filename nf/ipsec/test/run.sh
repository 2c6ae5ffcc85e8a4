#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The IPsec end-to-end tier: npsd terminating a route-based ESP tunnel from a site whose IPsec router is the scapy
# peer (nf/ipsec/test/peer.py) bridging in a namespace; ping, TCP, roaming (controller and follow_peer), rekey under
# load with zero loss, SA lifetimes; one round with one worker, then one with two (ips_e2e.py says what each checks).
#
#   bash nf/ipsec/test/run.sh                       both rounds
#   IPS_E2E_WORKERS="2" bash nf/ipsec/test/run.sh   only the two-worker round
#
# Needs root, build/npsd and build/npsctl (BUILD=build-x picks another build directory, NPSD/NPSCTL name the
# binaries), ip, ping and /usr/bin/python3 with scapy. Namespaces and links are named ips-*. One PASS/FAIL/SKIP line
# per check; exit 1 when a check fails, 2 when the tier cannot run. npsd, the namespaces and the veth pairs are
# removed even on failure or interruption; the work directory (logs, configurations) is kept when a check failed, or
# always with NPSGW_IPS_E2E_KEEP=1.
HERE=$(cd "$(dirname "$0")" && pwd)
NF_NAME=ips
NF_PY=$HERE/ips_e2e.py
NF_PREFIX=npsipse2e # the EAL file prefix of ips_e2e.py's configurations
NF_HOSTS=(ips-ten ips-peer ips-site)
NF_TOOLS=(ping)
NF_WORKERS=${IPS_E2E_WORKERS:-1 2}
# shellcheck source=../../../test/e2e/nf_tier.sh
. "$HERE/../../../test/e2e/nf_tier.sh"
nf_tier_main
