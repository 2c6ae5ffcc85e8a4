#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build DPDK's l3fwd example (the reference for bench/run) into a scratch directory, from the sources the dpdk-doc
# package installs. Nothing of it is kept in the repository: the copy, the patched file and the binary live under
# OUT (default build/bench). One local patch, bench/l3fwd-vdev.patch, lets it start on vdevs (see the patch).
#
#   bash bench/build-l3fwd.sh [OUT]      prints the path of the binary
#
# The compile line is the one of the example's Makefile (-O3, pkg-config libdpdk, experimental API) plus
# -march=native, which gives the reference every instruction of this CPU. npsd is built with pkg-config's baseline
# (-march=corei7 in Debian's DPDK); building it with -march=native measured no difference (docs/BENCHMARKS.md).
# It links DPDK as npsd does (`make dpdk-link-flags`: the example Makefile's `shared` target's libraries by default,
# its `static` target's with DPDK_LINK=static):
#   cc -O3 $(pkg-config --cflags libdpdk) -march=native -DALLOW_EXPERIMENTAL_API -I../common \
#      main.c l3fwd_{acl,lpm,fib,em,event,event_generic,event_internal_port}.c -o l3fwd $(make -s dpdk-link-flags)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/bench}
src=/usr/share/dpdk/examples
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/l3fwd
patch_file=$here/l3fwd-vdev.patch

if [ ! -f "$src/l3fwd/main.c" ]; then
	echo "build-l3fwd: $src/l3fwd not found (apt-get install dpdk-doc)" >&2
	exit 1
fi
# Rebuild when the binary is missing or older than the patch or the installed sources.
# Linked as npsd is (the Makefile's DPDK_LINK), so that the ratio compares code, not linkage.
link_flags=$(make -s --no-print-directory -C "$here/.." dpdk-link-flags)
if [ -x "$bin" ] && [ "$(cat "$bin.link" 2>/dev/null)" = "$link_flags" ] && [ "$bin" -nt "$patch_file" ] && [ "$bin" -nt "$src/l3fwd/main.c" ] &&
	[ "$bin" -nt "$(pkg-config --variable=libdir libdpdk)/librte_eal.so" ]; then
	echo "$bin"
	exit 0
fi

work=$out/l3fwd-src
rm -rf "$work"
mkdir -p "$work"
cp -r "$src/l3fwd" "$src/common" "$work/"
patch -s -d "$work/l3fwd" -p1 <"$patch_file"
(
	cd "$work/l3fwd"
	# shellcheck disable=SC2046,SC2086 # pkg-config output and the link flags are lists of words
	cc -O3 $(pkg-config --cflags libdpdk) -march=native -DALLOW_EXPERIMENTAL_API -I../common \
		main.c l3fwd_acl.c l3fwd_lpm.c l3fwd_fib.c l3fwd_em.c l3fwd_event.c l3fwd_event_generic.c \
		l3fwd_event_internal_port.c -o "$bin.tmp" $link_flags 2>"$out/l3fwd-build.log"
) || {
	echo "build-l3fwd: compile failed, see $out/l3fwd-build.log" >&2
	exit 1
}
mv "$bin.tmp" "$bin"
echo "$link_flags" >"$bin.link"
echo "$bin"
