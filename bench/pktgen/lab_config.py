#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the npsd configuration of a bench/run scenario for a lab gateway on real ports (e.g. SR-IOV VFs), to be
measured with the pktgen profiles of this directory (README.md). Same interfaces, addresses, VRFs and routes as
bench/run uses; the devices are PCI addresses and the static neighbour behind "out" is the pktgen port that
receives.

  bench/pktgen/lab_config.py --scenario v4-1r --in 0000:3b:02.0 --out 0000:3b:02.1 \\
      --peer-mac 3c:fd:fe:aa:bb:01 --conf /etc/npsgw/bench.conf [--data DIR] [--lcores 0-1] [--memory-mb N]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", required=True, help="v4-1r, v4-1m, v6-1r, v6-100k, vrf-100, flows-1m, ...")
    ap.add_argument("--in", dest="dev_in", required=True, help="PCI address of the device facing pktgen's tx port")
    ap.add_argument("--out", dest="dev_out", required=True, help="PCI address of the device facing pktgen's rx port")
    ap.add_argument("--peer-mac", required=True, help="MAC of pktgen's rx port (npsd's static next hop)")
    ap.add_argument("--conf", required=True, help="configuration file to write")
    ap.add_argument("--socket", default="/run/npsgw/bench.sock", help="npsd control socket")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--data", default=os.path.join(bench.REPO, "build", "bench", "data"),
                    help="where generated route files go")
    a = ap.parse_args()
    sc = bench.scenario(a.scenario)
    if sc is None:
        raise SystemExit("unknown scenario %r" % a.scenario)
    os.makedirs(a.data, exist_ok=True)
    bench.npsd_config(a.conf, sc, None, a.workers, True, a.socket, "npsdbench", a.data,
                      devices=("pci:" + a.dev_in, "pci:" + a.dev_out), gw_mac=a.peer_mac)
    print("%s: %s; npsd in0 MAC %s (pktgen's destination: NPSGW_GW_MAC), next hop %s" % (
        a.conf, sc["doc"], bench.IN_MAC, a.peer_mac))
    return 0


if __name__ == "__main__":
    sys.exit(main())
