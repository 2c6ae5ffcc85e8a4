#!/usr/bin/env bash
# Usage: packaging/mkdeb.sh BUILD_DIR   (run by `make deb`, from the repository root, after `make all`)
# Builds BUILD_DIR/npsgw_VERSION_ARCH.deb with dpkg-deb alone (no debhelper): installs into a staging tree with
# `make install DESTDIR=... PREFIX=/usr`, writes DEBIAN/control with the shared-library packages npsd and npsctl
# link against, and the DPDK drivers npsd is meant to drive (loaded as plugins, so ldd cannot see them); an npsd
# linked with DPDK's static libraries (make DPDK_LINK=static) has every driver built in and needs none of them.
set -euo pipefail

build=${1:?usage: mkdeb.sh BUILD_DIR}
version=$(sed -n 's/.*-DNPSGW_VERSION=\\"\([^\\]*\)\\".*/\1/p' Makefile | head -1)
arch=$(dpkg --print-architecture)
stage=$build/deb/npsgw_${version}_$arch
out=$build/npsgw_${version}_$arch.deb

say() { echo "mkdeb: $*"; }

rm -rf "$stage"
mkdir -p "$stage/DEBIAN"
${MAKE:-make} --no-print-directory BUILD="$build" install DESTDIR="$PWD/$stage" PREFIX=/usr >/dev/null

# Packages owning the libraries the binaries load (Debian is usr-merged: dpkg may know either path).
owner() {
	local lib=$1 p
	for p in "$lib" "/usr${lib#/usr}" "${lib#/usr}"; do
		dpkg-query -S "$p" 2>/dev/null | head -1 | cut -d: -f1 && return 0
	done
	return 0
}
mapfile -t libs < <(ldd "$build/npsd" "$build/npsctl" | awk '/=> \// { print $3 }' | sort -u)
declare -A pkgs=()
for lib in "${libs[@]}"; do
	real=$(readlink -f "$lib")
	p=$(owner "$lib")
	[ -n "$p" ] || p=$(owner "$real")
	[ -n "$p" ] && pkgs[$p]=1
done
# Poll-mode drivers for the NICs npsgw supports (SR-IOV VFs, vmxnet3, virtio) and the software ones it tests with.
if grep -q 'librte_eal\.so' <<<"$(ldd "$build/npsd")"; then
	for p in librte-mempool-ring23 librte-net-iavf23 librte-net-ixgbe23 librte-net-i40e23 librte-net-ice23 \
		librte-net-mlx5-23 librte-net-vmxnet3-23 librte-net-virtio23 librte-net-af-packet23 librte-net-tap23; do
		pkgs[$p]=1
	done
fi
depends=$(printf '%s\n' "${!pkgs[@]}" | sort | paste -sd, | sed 's/,/, /g')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)

sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" -e "s|@SIZE@|$size|" \
	packaging/debian/control.in >"$stage/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"

dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
say "built $out ($(du -h "$out" | cut -f1), depends on ${#pkgs[@]} packages)"
