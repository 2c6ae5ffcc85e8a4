-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: IPv4 UDP simple IMIX (7 x 64, 4 x 594, 1 x 1518 bytes),
-- 12 flows (npsd scenario v4-1r).
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/v4-imix.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

npsgw.run("v4-imix", function() npsgw.imix4() end)
