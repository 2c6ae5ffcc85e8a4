#!/usr/bin/env bash
# Usage: hugepages.sh [PAGES]   (default 512 pages of 2 MiB)
# Tries to have PAGES free 2 MiB hugepages and hugetlbfs mounted at /dev/hugepages. Idempotent, never fails.
# stdout: exactly one word, "huge" when DPDK can use hugepages, else "nohuge" (the caller then passes --no-huge).
# stderr: what was changed, or why it could not be.
set -u

want=${1:-512}
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB
mount_point=/dev/hugepages

note() { echo "hugepages: $*" >&2; }
answer() {
	echo "$1"
	exit 0
}

if ! [[ "$want" =~ ^[0-9]+$ ]] || ((want == 0)); then
	note "page count must be a positive integer, got '$want'"
	answer nohuge
fi

# The 2 MiB pool's own counters; /proc/sys/vm/nr_hugepages is the same pool only when 2 MiB is the default size.
if [[ -r $sysfs/nr_hugepages ]]; then
	nr_file=$sysfs/nr_hugepages
	free_file=$sysfs/free_hugepages
elif grep -qs '^Hugepagesize: *2048 kB' /proc/meminfo; then
	nr_file=/proc/sys/vm/nr_hugepages
	free_file=
else
	note "this kernel offers no 2 MiB hugepages"
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
	if echo "$target" 2>/dev/null >"$nr_file"; then
		note "asked for $target 2 MiB pages in $nr_file (was $total), kernel gave $(cat "$nr_file")"
	else
		note "cannot write $nr_file (not root, or a read-only /sys in a container)"
	fi
	free=$(free_pages)
else
	note "$free free 2 MiB pages already, $want wanted: nr_hugepages left alone"
fi

hugetlbfs_mounted() {
	awk -v dir="$mount_point" '$2 == dir && $3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}
if hugetlbfs_mounted; then
	note "hugetlbfs already mounted at $mount_point"
elif mkdir -p "$mount_point" 2>/dev/null && mount -t hugetlbfs -o pagesize=2M nodev "$mount_point" 2>/dev/null; then
	note "mounted hugetlbfs (2 MiB pages) at $mount_point"
else
	note "cannot mount hugetlbfs at $mount_point (not root, or no mount permission)"
fi

if ((free >= want)) && hugetlbfs_mounted; then
	answer huge
fi
note "$free of $want pages free$(hugetlbfs_mounted || echo ', hugetlbfs not mounted'): use --no-huge"
answer nohuge
