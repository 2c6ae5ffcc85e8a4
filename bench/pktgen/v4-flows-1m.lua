-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: IPv4 UDP, 64-byte frames, 1,048,576 destinations 16.0.0.1..16.16.0.0
-- (pktgen range mode; npsd scenario v4-1r or v4-1m). NPSGW_SIZE=1500 for 1518-byte frames.
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/v4-flows-1m.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

local size = os.getenv("NPSGW_SIZE") or "64"
npsgw.run("v4-flows-1m-" .. size, function() npsgw.range4({ndst = 1048576, size = size}) end)
