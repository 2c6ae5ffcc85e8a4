#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# IPsec's pcap tier: the cases of nf/ipsec/test/cases_ipsec_*.py (topology, scapy peer and checks in
# ipsec_pcap_common.py and peer.py) run by the pcap harness of test/pcap, with the real npsd and npsctl. The scapy
# peer's own self-test (peer.py: every algorithm x outer family x UDP x ESN round trip) runs first: a peer that
# cannot talk to itself would make every case fail for the wrong reason.
#
#   bash nf/ipsec/test/run_pcap.sh              every IPsec case
#   bash nf/ipsec/test/run_pcap.sh badinput     the bad-input cases; "forward": the others
#   bash nf/ipsec/test/run_pcap.sh NAME...      the cases whose names start with NAME (ipsec-interop, ipsec-replay...)
#
# NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default: build); the other NPSGW_PCAP_* variables as in
# test/pcap/run.sh. Exits 1 when a case fails, 2 when the peer's self-test fails or the binaries are missing.
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
HERE=$(cd "$(dirname "$0")" && pwd)
if ! out=$(/usr/bin/python3 "$HERE/peer.py" 2>&1); then
	echo "run_pcap.sh: the scapy peer fails its self-test:" >&2
	echo "$out" | tail -20 >&2
	exit 2
fi
echo "$out" | tail -1
exec bash "$HERE/../../../test/pcap/run_nf.sh" "$HERE" "$@"
