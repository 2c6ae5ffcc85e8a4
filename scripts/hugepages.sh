#!/usr/bin/env bash
# Usage: hugepages.sh [--dry-run] [--size 2M|1G] [--node N] [PAGES]
#   (default: 512 pages of 2 MiB, spread by the kernel over the NUMA nodes)
# Tries to have PAGES free hugepages of the size and hugetlbfs mounted for it (2M: /dev/hugepages, 1G:
# /dev/hugepages-1G). Idempotent, never fails. With --node N the pages are reserved on NUMA node N (put them where
# the NIC and the worker cores are: scripts/check-host.sh tells). --dry-run changes nothing and says what it would do.
# stdout: exactly one word, "huge" when DPDK can use hugepages, else "nohuge" (the caller then passes --no-huge).
# stderr: what was changed (or would be), or why it could not be.
#
# 1 GiB pages: the kernel can rarely find 1 GiB of contiguous memory once the host has run for a while. Reserve them
# at boot instead (kernel command line: default_hugepagesz=1G hugepagesz=1G hugepages=N) and this script only
# mounts them.
set -u

want=512
size=2M
node=
dry=0
while (($#)); do
	case $1 in
	--dry-run) dry=1 ;;
	--size) size=${2:-}; shift ;;
	--node) node=${2:-}; shift ;;
	*) want=$1 ;;
	esac
	shift
done

note() { echo "hugepages: $*" >&2; }
answer() {
	echo "$1"
	exit 0
}
would() { # DESCRIPTION: in a dry run only say it
	((dry)) && note "dry run: would $*"
	((!dry))
}

case $size in
2M | 2m | 2048k) kb=2048 mount_point=/dev/hugepages ;;
1G | 1g | 1048576k) kb=1048576 mount_point=/dev/hugepages-1G ;;
*)
	note "size must be 2M or 1G, got '$size'"
	answer nohuge
	;;
esac
label=$([ $kb = 2048 ] && echo "2 MiB" || echo "1 GiB")

if ! [[ "$want" =~ ^[0-9]+$ ]] || ((want == 0)); then
	note "page count must be a positive integer, got '$want'"
	answer nohuge
fi
if [ -n "$node" ] && ! [[ "$node" =~ ^[0-9]+$ ]]; then
	note "node must be a NUMA node number, got '$node'"
	answer nohuge
fi

# The pool's own counters (per node with --node); /proc/sys/vm/nr_hugepages is the same pool only when 2 MiB is
# the default size.
if [ -n "$node" ]; then
	sysfs=/sys/devices/system/node/node$node/hugepages/hugepages-${kb}kB
else
	sysfs=/sys/kernel/mm/hugepages/hugepages-${kb}kB
fi
if [[ -r $sysfs/nr_hugepages ]]; then
	nr_file=$sysfs/nr_hugepages
	free_file=$sysfs/free_hugepages
elif [ -z "$node" ] && [ $kb = 2048 ] && grep -qs '^Hugepagesize: *2048 kB' /proc/meminfo; then
	nr_file=/proc/sys/vm/nr_hugepages
	free_file=
else
	note "this kernel offers no $label hugepages${node:+ on node $node}"
	answer nohuge
fi

free_pages() {
	if [[ -n $free_file ]]; then
		cat "$free_file" 2>/dev/null || echo 0
	else
		awk '/^HugePages_Free:/ { print $2; found = 1 } END { if (!found) print 0 }' /proc/meminfo
	fi
}

free=$(free_pages)
if ((free < want)); then
	total=$(cat "$nr_file" 2>/dev/null || echo 0)
	target=$((total + want - free))
	if would "write $target to $nr_file (now $total pages of $label, $free free; $want wanted)"; then
		if echo "$target" 2>/dev/null >"$nr_file"; then
			note "asked for $target $label pages in $nr_file (was $total), kernel gave $(cat "$nr_file")"
			[ $kb = 2048 ] || [ "$(cat "$nr_file")" -ge "$target" ] ||
				note "1 GiB pages are best reserved at boot: default_hugepagesz=1G hugepagesz=1G hugepages=$want"
		else
			note "cannot write $nr_file (not root, or a read-only /sys in a container)"
		fi
		free=$(free_pages)
	fi
else
	note "$free free $label pages already${node:+ on node $node}, $want wanted: nr_hugepages left alone"
fi

hugetlbfs_mounted() {
	awk -v dir="$mount_point" '$2 == dir && $3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}
if hugetlbfs_mounted; then
	note "hugetlbfs already mounted at $mount_point"
elif ! would "mount hugetlbfs (pagesize=$size) at $mount_point"; then
	:
elif mkdir -p "$mount_point" 2>/dev/null && mount -t hugetlbfs -o "pagesize=$size" nodev "$mount_point" 2>/dev/null; then
	note "mounted hugetlbfs ($label pages) at $mount_point"
else
	note "cannot mount hugetlbfs at $mount_point (not root, or no mount permission)"
fi

if ((free >= want)) && hugetlbfs_mounted; then
	answer huge
fi
note "$free of $want $label pages free$(hugetlbfs_mounted || echo ", hugetlbfs not mounted at $mount_point"): use --no-huge"
answer nohuge
