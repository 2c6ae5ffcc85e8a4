-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: IPv4 UDP, 64-byte frames, one flow to 16.0.0.1 (npsd scenario v4-1r).
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/v4-64.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

npsgw.run("v4-64", function() npsgw.single({family = 4, size = "64"}) end)
