#!/usr/bin/env bash
# Usage: check-host.sh [--config FILE] [--strict] [--dry-run]
# Reads (never changes) what decides npsd's performance and stability on this host or VM, and says what to fix:
# - CPU isolation: the worker lcores should be isolated from the scheduler (isolcpus / nohz_full / rcu_nocbs on the
#   kernel command line) and not be CPU 0 (housekeeping and interrupts);
# - NUMA: each PCI device's node, the nodes of the worker lcores and the free hugepages per node should match;
# - IOMMU for vfio-pci, hugepages, the CPU frequency governor, irqbalance.
# With --config, the lcores and PCI devices of that npsd configuration are checked; without, only the host.
# Exit status 0; with --strict, 1 when there is a warning. --dry-run is accepted (nothing is ever changed).
# SYSFS and PROC (defaults /sys, /proc) let the tests run it against a fake tree.
set -u

SYSFS=${SYSFS:-/sys}
PROC=${PROC:-/proc}
config= strict=0 warnings=0
while (($#)); do
	case $1 in
	--config) config=${2:-}; shift ;;
	--strict) strict=1 ;;
	--dry-run) ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "check-host: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
ok() { echo "check-host: ok    $*"; }
info() { echo "check-host: info  $*"; }
warn() {
	echo "check-host: WARN  $*"
	warnings=$((warnings + 1))
}

# "0-2,5" -> "0 1 2 5"
expand_list() {
	local part out=""
	for part in ${1//,/ }; do
		if [[ $part == *-* ]]; then
			out+=" $(seq -s' ' "${part%-*}" "${part#*-}")"
		elif [[ -n $part ]]; then
			out+=" $part"
		fi
	done
	echo $out
}
in_list() { [[ " $2 " == *" $1 "* ]]; }

cmdline=$(cat "$PROC/cmdline" 2>/dev/null)
isolated=$(expand_list "$(cat "$SYSFS/devices/system/cpu/isolated" 2>/dev/null)")
nohz=$(grep -o 'nohz_full=[^ ]*' <<<"$cmdline" | cut -d= -f2)
ncpu=$(ls -d "$SYSFS"/devices/system/cpu/cpu[0-9]* 2>/dev/null | wc -l)
info "$ncpu CPU(s); isolated: ${isolated:-none}; nohz_full: ${nohz:-none}"

# The configuration's worker CPUs (EAL lcores after the first, or --lcores=L@CPU maps) and PCI devices.
workers="" devices=""
if [ -n "$config" ]; then
	[ -r "$config" ] || { echo "check-host: cannot read $config" >&2; exit 2; }
	map=$(grep -o -- '--lcores=[^"]*' "$config" | head -1 | cut -d= -f2)
	if [ -n "$map" ]; then
		# "0@0,1@1,2@1": lcore@cpu; the first lcore is the main (control) one.
		first=1
		for m in ${map//,/ }; do
			((first)) && { first=0; continue; }
			workers+=" ${m#*@}"
		done
	else
		lc=$(sed -n 's/.*lcores *= *"\([^"]*\)".*/\1/p' "$config" | head -1)
		set -- $(expand_list "${lc:-0-1}")
		shift
		workers="$*"
	fi
	workers=$(echo $workers | tr ' ' '\n' | sort -un | tr '\n' ' ')
	devices=$(sed -n 's/.*pci *= *"\([^"]*\)".*/\1/p' "$config" | tr '\n' ' ')
	info "config $config: worker CPU(s) ${workers:-none}; PCI device(s) ${devices:-none}"
	for c in $workers; do
		[ "$c" = 0 ] && warn "worker on CPU 0: CPU 0 takes most interrupts and housekeeping; start workers at CPU 2"
		if in_list "$c" "$isolated"; then
			ok "worker CPU $c is isolated"
		else
			warn "worker CPU $c is not isolated: add isolcpus=$c nohz_full=$c rcu_nocbs=$c (or the whole worker list) to the kernel command line"
		fi
	done
fi

# NUMA placement.
nodes=$(ls -d "$SYSFS"/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
info "$nodes NUMA node(s)"
for d in $devices; do
	[[ $d == *:*:*.* ]] || d=0000:$d
	node=$(cat "$SYSFS/bus/pci/devices/$d/numa_node" 2>/dev/null || echo "?")
	if [ "$node" = "?" ]; then
		warn "PCI $d not found on this host"
		continue
	fi
	((node < 0)) && node=0 # -1: no NUMA information (single node or a VM)
	cpus=$(expand_list "$(cat "$SYSFS/devices/system/node/node$node/cpulist" 2>/dev/null)")
	for c in $workers; do
		if [ -n "$cpus" ] && ! in_list "$c" "$cpus"; then
			warn "PCI $d is on NUMA node $node but worker CPU $c is not (node $node CPUs: $cpus): every packet crosses the interconnect"
		fi
	done
	free=$(cat "$SYSFS/devices/system/node/node$node/hugepages/hugepages-2048kB/free_hugepages" 2>/dev/null || echo 0)
	free1g=$(cat "$SYSFS/devices/system/node/node$node/hugepages/hugepages-1048576kB/free_hugepages" 2>/dev/null || echo 0)
	if ((free == 0 && free1g == 0)); then
		warn "no free hugepages on NUMA node $node (PCI $d): scripts/hugepages.sh --node $node PAGES"
	else
		ok "PCI $d on NUMA node $node, $free free 2 MiB and $free1g free 1 GiB pages there"
	fi
done

# IOMMU (vfio-pci), hugepages, governor, irqbalance.
if [ -n "$(ls -A "$SYSFS/kernel/iommu_groups" 2>/dev/null)" ]; then
	ok "IOMMU on ($(ls "$SYSFS/kernel/iommu_groups" | wc -l) groups)"
elif [ -n "$devices" ]; then
	warn "no IOMMU: vfio-pci needs intel_iommu=on iommu=pt (host) or a vIOMMU, else bind-vfio.sh --noiommu (VM only)"
else
	info "no IOMMU (only needed for PCI devices with vfio-pci)"
fi
for kb in 2048 1048576; do
	f=$SYSFS/kernel/mm/hugepages/hugepages-${kb}kB
	[ -r "$f/nr_hugepages" ] && info "hugepages ${kb} kB: $(cat "$f/nr_hugepages") reserved, $(cat "$f/free_hugepages") free"
done
gov=$(cat "$SYSFS/devices/system/cpu/cpu0/cpufreq/scaling_governor" 2>/dev/null)
if [ -z "$gov" ]; then
	info "no CPU frequency scaling visible (a VM, or fixed frequency)"
elif [ "$gov" = performance ]; then
	ok "CPU governor performance"
else
	warn "CPU governor '$gov': set performance (cpupower frequency-set -g performance) for steady latency"
fi
if pgrep -x irqbalance >/dev/null 2>&1 && [ -n "$isolated" ]; then
	info "irqbalance runs: make it keep off the isolated CPUs (IRQBALANCE_BANNED_CPULIST=${isolated// /,})"
fi

echo "check-host: $warnings warning(s)"
((strict && warnings > 0)) && exit 1
exit 0
