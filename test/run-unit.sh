#!/usr/bin/env bash
# Runs each CUnit program; fails if any test fails. Programs need no hugepages and no NIC.
set -u
fail=0
for t in "$@"; do
	echo "== $t"
	if ! "$t"; then
		echo "FAILED: $t"
		fail=1
	fi
done
exit $fail
