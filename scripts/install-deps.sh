#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages npsgw needs to build, test and benchmark.
# Idempotent: when every package is already installed it does not touch apt at all.
set -euo pipefail

# libsystemd-dev: `pkg-config --static --libs libdpdk` names -lsystemd (make DPDK_LINK=static, Makefile).
PACKAGES=(
	build-essential pkg-config
	libdpdk-dev dpdk dpdk-dev dpdk-doc
	libconfig-dev libcunit1-dev libpcap-dev libnuma-dev libipsec-mb-dev libmicrohttpd-dev librte-crypto-ipsec-mb23
	libsystemd-dev
	python3-scapy python3-cryptography systemd iperf3 iproute2 iputils-ping iputils-tracepath traceroute tcpdump tshark procps
)

# Answers for packages that would otherwise ask a question during installation.
DEBCONF_ANSWERS='wireshark-common wireshark-common/install-setuid boolean false
iperf3 iperf3/start_daemon boolean false'

say() { echo "install-deps: $*"; }
die() {
	echo "install-deps: error: $*" >&2
	exit 1
}

is_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing_packages() {
	local pkg
	for pkg in "${PACKAGES[@]}"; do
		is_installed "$pkg" || echo "$pkg"
	done
}

command -v dpkg-query >/dev/null || die "dpkg-query not found: this script supports Debian-based systems only"

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
	say "all ${#PACKAGES[@]} packages already installed; nothing to do"
	exit 0
fi

as_root=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || die "root needed to install: ${missing[*]} (run as root or install sudo)"
	as_root=(sudo)
fi

say "installing ${#missing[@]} package(s): ${missing[*]}"
echo "$DEBCONF_ANSWERS" | "${as_root[@]}" debconf-set-selections || die "debconf-set-selections failed"
apt_env=(env DEBIAN_FRONTEND=noninteractive)
"${as_root[@]}" "${apt_env[@]}" apt-get update -q || die "apt-get update failed (network or sources.list?)"
"${as_root[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" ||
	die "apt-get install failed for: ${missing[*]}"

mapfile -t still_missing < <(missing_packages)
((${#still_missing[@]} == 0)) || die "still not installed after apt-get: ${still_missing[*]}"
say "done: installed ${missing[*]}"
