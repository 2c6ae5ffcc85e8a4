#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build DPDK's ipsec-secgw example (the IPsec reference for bench/run) into a scratch directory, from the sources
# the dpdk-doc package installs. Nothing of it is kept in the repository: the copy, the patched file and the binary
# live under OUT (default build/bench). One local patch, bench/ipsec-secgw-vdev.patch, lets it start on vdevs (see
# the patch). Its configuration files are written per case by bench/bench.py (bench/ipsec_cfg.py --secgw-cfg).
#
#   bash bench/build-ipsec-secgw.sh [OUT]      prints the path of the binary
#
# The compile line is the one of the example's Makefile (-O3, pkg-config libdpdk, experimental API,
# -Wno-address-of-packed-member) plus -march=native, as l3fwd (bench/build-l3fwd.sh: npsd keeps pkg-config's
# baseline), and DPDK linked as npsd links it (see bench/build-l3fwd.sh):
#   cc -O3 $(pkg-config --cflags libdpdk) -march=native -DALLOW_EXPERIMENTAL_API -Wno-address-of-packed-member \
#      -I../common parser.c ipsec.c esp.c sp4.c sp6.c sa.c sad.c rt.c ipsec_process.c ipsec-secgw.c \
#      ipsec_worker.c event_helper.c flow.c -o ipsec-secgw $(make -s dpdk-link-flags)
# Crypto at run time: the crypto_aesni_mb vdev (DPDK's ipsec_mb driver, librte-crypto-ipsec-mb23, on the same
# intel-ipsec-mb library npsd uses), SAs of type cpu-crypto (synchronous, on the worker's core).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/bench}
src=/usr/share/dpdk/examples
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/ipsec-secgw
patch_file=$here/ipsec-secgw-vdev.patch
srcs="parser.c ipsec.c esp.c sp4.c sp6.c sa.c sad.c rt.c ipsec_process.c ipsec-secgw.c ipsec_worker.c event_helper.c
flow.c"

if [ ! -f "$src/ipsec-secgw/ipsec-secgw.c" ]; then
	echo "build-ipsec-secgw: $src/ipsec-secgw not found (apt-get install dpdk-doc)" >&2
	exit 1
fi
# Linked as npsd is (the Makefile's DPDK_LINK), so that the ratio compares code, not linkage.
link_flags=$(make -s --no-print-directory -C "$here/.." dpdk-link-flags)
# The ipsec_mb driver: a plugin, or built in from libdpdk-dev's static library.
if [[ "$link_flags" != *librte_crypto_ipsec_mb.a* ]] &&
	! ls "$(pkg-config --variable=libdir libdpdk)"/dpdk/pmds-*/librte_crypto_ipsec_mb.so* >/dev/null 2>&1; then
	echo "build-ipsec-secgw: DPDK's ipsec_mb crypto driver is missing (apt-get install librte-crypto-ipsec-mb23)" >&2
	exit 1
fi
# Rebuild when the binary is missing or older than the patch, this script or the installed sources.
if [ -x "$bin" ] && [ "$(cat "$bin.link" 2>/dev/null)" = "$link_flags" ] && [ "$bin" -nt "$patch_file" ] &&
	[ "$bin" -nt "$0" ] &&
	[ "$bin" -nt "$src/ipsec-secgw/ipsec-secgw.c" ] &&
	[ "$bin" -nt "$(pkg-config --variable=libdir libdpdk)/librte_eal.so" ]; then
	echo "$bin"
	exit 0
fi

work=$out/ipsec-secgw-src
rm -rf "$work"
mkdir -p "$work"
cp -r "$src/ipsec-secgw" "$src/common" "$work/"
patch -s -d "$work/ipsec-secgw" -p1 <"$patch_file"
(
	cd "$work/ipsec-secgw"
	# shellcheck disable=SC2046,SC2086 # pkg-config output and the source list are lists of words
	cc -O3 $(pkg-config --cflags libdpdk) -march=native -DALLOW_EXPERIMENTAL_API -Wno-address-of-packed-member \
		-I../common $srcs -o "$bin.tmp" $link_flags 2>"$out/ipsec-secgw-build.log"
) || {
	echo "build-ipsec-secgw: compile failed, see $out/ipsec-secgw-build.log" >&2
	exit 1
}
mv "$bin.tmp" "$bin"
echo "$link_flags" >"$bin.link"
echo "$bin"
