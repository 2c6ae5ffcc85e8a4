-- SPDX-License-Identifier: BSD-3-Clause
-- npsgw benchmark profile for pktgen-dpdk: replay a pcap of bench/gen_traffic.py (any scenario of
-- bench/run: IPv6 IMIX, 1M routes, 1000 VRFs...). Load it with pktgen's -s TX:FILE; NPSGW_NAME names the results.
-- Run from the repository root: pktgen ... -- ... -f bench/pktgen/pcap.lua (README.md; settings: npsgw.lua).
package.path = package.path .. ";" .. (os.getenv("NPSGW_PKTGEN_DIR") or "bench/pktgen") .. "/?.lua"
local npsgw = require("npsgw")

npsgw.run(os.getenv("NPSGW_NAME") or "pcap", function() npsgw.pcap() end)
