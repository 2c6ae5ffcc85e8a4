-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: IPv6 UDP, 66-byte frames (the smallest UDP/IPv6 frame, IP
-- length 48), one flow to 2000::1 (npsd scenario v6-1r).
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/v6-64.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

npsgw.run("v6-64", function() npsgw.single({family = 6, size = "64"}) end)
