#!/usr/bin/env bash
# Usage: create-vfs.sh [--dry-run] [--trust on|off] [--spoofchk on|off] [--mtu N] PF COUNT
# On the host: create COUNT SR-IOV virtual functions on the physical function PF (a netdev name) and set each the
# way a router inside the VM needs it (defaults: trust on, spoofchk off):
# - trust on: the VF may turn on promiscuous and all-multicast mode and add MACs (IPv6 neighbour discovery needs the
#   solicited-node multicast groups; sub-interfaces may use their own MACs);
# - spoofchk off: the VF may send from MACs other than its own (interfaces with their own MAC);
# - --mtu N: the PF's MTU, which caps every VF's (jumbo frames in the VM need it here first).
# Idempotent: the VF count and every setting are read first and changed only when different; each change is said.
# Not persistent across reboots: run it from a systemd unit or udev rule at boot (docs/DEPLOY-KVM.md).
# SYSFS (default /sys) and IP (default ip) let the tests run this against a fake tree.
set -u

SYSFS=${SYSFS:-/sys}
IP=${IP:-ip}
dry=0 trust=on spoofchk=off mtu=
args=()
while (($#)); do
	case $1 in
	--dry-run) dry=1 ;;
	--trust) trust=${2:-}; shift ;;
	--spoofchk) spoofchk=${2:-}; shift ;;
	--mtu) mtu=${2:-}; shift ;;
	-h | --help) sed -n '2,13p' "$0"; exit 0 ;;
	*) args+=("$1") ;;
	esac
	shift
done
say() { echo "create-vfs: $*"; }
die() { echo "create-vfs: error: $*" >&2; exit 1; }
run() { # WHY COMMAND...: run it (or in a dry run, say it would)
	local why=$1
	shift
	if ((dry)); then
		say "dry run: would run: $* ($why)"
		return 0
	fi
	"$@" || die "failed: $* ($why)"
	say "ran: $* ($why)"
}
((${#args[@]} == 2)) || die "usage: create-vfs.sh [--dry-run] [--trust on|off] [--spoofchk on|off] [--mtu N] PF COUNT"
pf=${args[0]} count=${args[1]}
[[ $count =~ ^[0-9]+$ ]] || die "COUNT must be a number, got '$count'"
[[ $trust == on || $trust == off ]] || die "--trust on|off, got '$trust'"
[[ $spoofchk == on || $spoofchk == off ]] || die "--spoofchk on|off, got '$spoofchk'"
dev=$SYSFS/class/net/$pf/device
[ -d "$SYSFS/class/net/$pf" ] || die "$pf: no such interface (ip link lists them)"
[ -r "$dev/sriov_totalvfs" ] || die "$pf: not an SR-IOV capable device (no $dev/sriov_totalvfs; is SR-IOV on in the BIOS?)"
total=$(cat "$dev/sriov_totalvfs")
((count <= total)) || die "$pf supports at most $total VFs, $count asked"

if [ -n "$mtu" ] && [ "$(cat "$SYSFS/class/net/$pf/mtu" 2>/dev/null)" != "$mtu" ]; then
	run "a VF's MTU cannot exceed its PF's" "$IP" link set "$pf" mtu "$mtu"
fi
now=$(cat "$dev/sriov_numvfs")
if ((now == count)); then
	say "$pf already has $count VF(s)"
else
	# The kernel changes a non-zero count only through zero (VFs in use by VMs would vanish: say so).
	((now == 0)) || run "the kernel changes a VF count only through 0 (VMs using the $now VF(s) lose them)" \
		sh -c "echo 0 > '$dev/sriov_numvfs'"
	run "create $count VF(s) on $pf" sh -c "echo $count > '$dev/sriov_numvfs'"
fi

# Current per-VF settings, from `ip link show PF`: "vf 0 ... spoof checking on, link-state auto, trust off".
state=$("$IP" link show "$pf" 2>/dev/null)
for ((i = 0; i < count; i++)); do
	line=$(grep -E "^ *vf $i[ ,]" <<<"$state")
	cur_trust=$(grep -o 'trust [a-z]*' <<<"$line" | cut -d' ' -f2)
	cur_spoof=$(grep -o 'spoof checking [a-z]*' <<<"$line" | cut -d' ' -f3)
	if [ "$cur_trust" != "$trust" ]; then
		run "VF $i: trust $trust (promiscuous/all-multicast/extra MACs for the router)" \
			"$IP" link set "$pf" vf "$i" trust "$trust"
	fi
	if [ "$cur_spoof" != "$spoofchk" ]; then
		run "VF $i: spoof checking $spoofchk (frames from the router's other MACs)" \
			"$IP" link set "$pf" vf "$i" spoofchk "$spoofchk"
	fi
	[ "$cur_trust" = "$trust" ] && [ "$cur_spoof" = "$spoofchk" ] && say "VF $i: trust $trust, spoofchk $spoofchk already"
	pci=$(basename "$(readlink "$dev/virtfn$i" 2>/dev/null)" 2>/dev/null)
	[ -z "$pci" ] || say "VF $i is PCI $pci (pass it to the VM as a hostdev, or bind it here: bind-vfio.sh $pci)"
done
