-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: IPv4 UDP on 802.1Q VLANs 1..N, one VRF per VLAN (npsd scenario vrf-N:
-- VLAN i is the sub-interface of VRF t(i-1) on both sides). NPSGW_VRFS=N (default 100), NPSGW_SIZE (64).
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/vrf-vlans.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

local n = tonumber(os.getenv("NPSGW_VRFS") or "100")
local size = os.getenv("NPSGW_SIZE") or "64"
npsgw.run("vrf-" .. n .. "-" .. size, function() npsgw.range4({ndst = 65536, vlans = n, size = size}) end)
