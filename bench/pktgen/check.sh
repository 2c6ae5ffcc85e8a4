#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Check the pktgen profiles without pktgen: Lua syntax (luac -p), then a run of each profile against
# mock_pktgen.lua (pktgen's Lua API as app/lpktgenlib.c defines it, and a simulated gateway that forwards up to
# 63.7 % of line rate): every call must exist with pktgen's argument count, and the search must end within its
# resolution below that capacity. Needs a Lua 5.3 or 5.4 (Debian: apt-get install lua5.4).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
lua=$(command -v lua5.4 || command -v lua5.3 || command -v lua || true)
luac=$(command -v luac5.4 || command -v luac5.3 || command -v luac || true)
if [ -z "$lua" ] || [ -z "$luac" ]; then
	echo "check.sh: needs lua5.4 or lua5.3 (luac and lua)" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "$here"/*.lua; do
	"$luac" -p "$f" || fail=1
done
cd "$repo"
for f in "$here"/*.lua; do
	name=$(basename "$f")
	case $name in npsgw.lua | mock_pktgen.lua) continue ;; esac
	out=$tmp/$name.txt
	if ! NPSGW_OUT=$out NPSGW_SRC_MAC='' "$lua" -e 'dofile("bench/pktgen/mock_pktgen.lua")' "$f" >"$tmp/log" 2>&1; then
		echo "check.sh: $name failed:"; cat "$tmp/log"; fail=1; continue
	fi
	res=$(grep -o 'zero-loss throughput [0-9.]*' "$out" | awk '{print $3}')
	if [ -z "$res" ] || ! awk -v r="$res" 'BEGIN { exit !(r <= 63.7 && r >= 63.7 - 0.5) }'; then
		echo "check.sh: $name: search ended at '${res:-nothing}' (expected within 0.5 below 63.7)"; cat "$out"; fail=1
		continue
	fi
	echo "check.sh: ok $name (search: $res % of line rate)"
done
exit $fail
