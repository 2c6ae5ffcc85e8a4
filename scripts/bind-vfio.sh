#!/usr/bin/env bash
# Usage: bind-vfio.sh [--dry-run] [--force] [--noiommu] PCI_ADDR...     bind devices to vfio-pci for DPDK
#        bind-vfio.sh [--dry-run] --restore PCI_ADDR...                   give them back to their kernel driver
# Idempotent: a device already on vfio-pci is left alone. Says each change it makes (or would make, --dry-run).
# - Loads vfio-pci when it is not loaded.
# - Refuses a device whose kernel interface is up (it probably carries this host's traffic) unless --force.
# - Without an IOMMU (a VM without a virtual IOMMU), vfio needs its no-IOMMU mode: --noiommu turns it on (no DMA
#   isolation between devices: acceptable inside a dedicated VM, not on a shared host).
# The binding does not survive a reboot: `driverctl set-override ADDR vfio-pci` makes it permanent.
# SYSFS (default /sys) lets the tests run this against a fake tree.
set -u

SYSFS=${SYSFS:-/sys}
dry=0 force=0 noiommu=0 restore=0
addrs=()
for a in "$@"; do
	case $a in
	--dry-run) dry=1 ;;
	--force) force=1 ;;
	--noiommu) noiommu=1 ;;
	--restore) restore=1 ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*) addrs+=("$a") ;;
	esac
done
say() { echo "bind-vfio: $*"; }
die() { echo "bind-vfio: error: $*" >&2; exit 1; }
# do_write VALUE FILE WHY: write (or in a dry run, say it would).
do_write() {
	if ((dry)); then
		say "dry run: would write '$1' to $2 ($3)"
		return 0
	fi
	echo "$1" >"$2" 2>/dev/null || die "cannot write '$1' to $2 ($3): not root, or /sys read-only?"
	say "wrote '$1' to $2 ($3)"
}
((${#addrs[@]})) || die "no PCI address given (lspci -D -nn | grep -i ether lists the NICs)"

driver_of() { basename "$(readlink "$SYSFS/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }

if ((!restore)) && [ ! -d "$SYSFS/bus/pci/drivers/vfio-pci" ]; then
	if ((dry)); then
		say "dry run: would load the vfio-pci module (modprobe vfio-pci)"
	else
		modprobe vfio-pci 2>/dev/null || die "cannot load vfio-pci (modprobe vfio-pci): is the module installed?"
		say "loaded vfio-pci"
	fi
fi
if ((!restore)) && [ -z "$(ls -A "$SYSFS/kernel/iommu_groups" 2>/dev/null)" ]; then
	param=$SYSFS/module/vfio/parameters/enable_unsafe_noiommu_mode
	if [ "$(cat "$param" 2>/dev/null)" = "Y" ]; then
		say "no IOMMU: vfio's no-IOMMU mode is already on"
	elif ((noiommu)); then
		do_write 1 "$param" "no IOMMU on this host: vfio without DMA isolation"
	else
		die "no IOMMU (no $SYSFS/kernel/iommu_groups): enable it (intel_iommu=on iommu=pt / a vIOMMU for the VM) or pass --noiommu"
	fi
fi

for addr in "${addrs[@]}"; do
	[[ $addr == *:*:*.* ]] || addr=0000:$addr
	dev=$SYSFS/bus/pci/devices/$addr
	[ -d "$dev" ] || die "$addr: no such PCI device (lspci -D lists them)"
	cur=$(driver_of "$addr")
	if ((restore)); then
		if [ "$cur" != vfio-pci ] && [ -z "$(cat "$dev/driver_override" 2>/dev/null | grep -v '(null)')" ]; then
			say "$addr: on ${cur:-no driver}, not vfio-pci: nothing to restore"
			continue
		fi
		do_write "" "$dev/driver_override" "$addr: forget the vfio-pci override"
		[ -z "$cur" ] || do_write "$addr" "$dev/driver/unbind" "$addr: release it from $cur"
		do_write "$addr" "$SYSFS/bus/pci/drivers_probe" "$addr: let its kernel driver take it"
		continue
	fi
	if [ "$cur" = vfio-pci ]; then
		say "$addr: already bound to vfio-pci: nothing to do"
		continue
	fi
	for net in "$dev"/net/*; do
		[ -e "$net" ] || continue
		ifname=$(basename "$net")
		if grep -qs up "$net/operstate" && ((!force)); then
			die "$addr: its interface $ifname is up (it may carry this host's traffic): ip link set $ifname down, or --force"
		fi
	done
	do_write vfio-pci "$dev/driver_override" "$addr: only vfio-pci may take it"
	[ -z "$cur" ] || do_write "$addr" "$dev/driver/unbind" "$addr: release it from $cur"
	do_write "$addr" "$SYSFS/bus/pci/drivers_probe" "$addr: vfio-pci takes it"
	((dry)) || [ "$(driver_of "$addr")" = vfio-pci ] || [ "$SYSFS" != /sys ] ||
		die "$addr: still on $(driver_of "$addr"), not vfio-pci (dmesg tells why)"
	((dry)) || say "$addr: bound to vfio-pci (was ${cur:-unbound}); put it in the config as pci = \"$addr\""
done
