-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: IPv6 UDP, 1518-byte frames (IP length 1500), one flow (npsd scenario v6-1r).
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/v6-1500.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

npsgw.run("v6-1500", function() npsgw.single({family = 6, size = "1500"}) end)
