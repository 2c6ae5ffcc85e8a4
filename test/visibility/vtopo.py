# SPDX-License-Identifier: BSD-3-Clause
"""Topology and plumbing of the visibility tests (see run.sh).

npsd runs on net_pcap vdevs whose transmit side writes pcap files (as in test/pcap) and whose receive side reads a
veth (rx_iface_in=): packets must reach the daemon AFTER a capture or a trace has been started, which a pcap file
read at start-up cannot do. The test sends frames with scapy into the peer end of each veth; rx queue q of device
pD reads veth <tag>dDqQ, so the sender also picks the worker.

  VRF main                                  VRF red
  a   p0 untagged 10.0.0.1/24 2001:db8:a::1/64    ra  p0 VLAN 10 10.2.0.1/24 2001:db8:2a::1/64
  b   p1 untagged 10.0.1.1/24 2001:db8:b::1/64    rb  p1 VLAN 10 10.2.1.1/24 2001:db8:2b::1/64

  main 192.0.2.0/24, 2001:db8:100::/48     via 10.0.1.2 / 2001:db8:b::2 (gateway B on b)
  main 203.0.113.0/24, 2001:db8:dead::/48  blackhole
  main 198.51.100.0/24, 2001:db8:300::/48  leak to VRF red
  red  198.51.100.0/24, 2001:db8:300::/48  via 10.2.1.2 / 2001:db8:2b::2 (gateway RB on rb)
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # nothing written into test/pcap or here
sys.path.insert(0, os.path.join(REPO, "test", "pcap"))

import harness  # noqa: E402
from harness import Router, Case, CaseFail  # noqa: E402,F401
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP, Raw, sendp  # noqa: E402,F401
from scapy.layers.inet6 import ICMPv6EchoRequest  # noqa: E402,F401

R_A, R_B, R_RA, R_RB = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:10:01", "02:00:00:00:10:02"
H_A, GW_B, H_RA, GW_RB = "02:00:00:00:00:aa", "02:00:00:00:00:99", "02:00:00:00:10:aa", "02:00:00:00:10:99"

INTERFACES = [
    {"name": "a", "device": "p0", "vrf": "main", "mac": R_A, "addresses": ["10.0.0.1/24", "2001:db8:a::1/64"]},
    {"name": "b", "device": "p1", "vrf": "main", "mac": R_B, "addresses": ["10.0.1.1/24", "2001:db8:b::1/64"]},
    {"name": "ra", "device": "p0", "vlan": 10, "vrf": "red", "mac": R_RA,
     "addresses": ["10.2.0.1/24", "2001:db8:2a::1/64"]},
    {"name": "rb", "device": "p1", "vlan": 10, "vrf": "red", "mac": R_RB,
     "addresses": ["10.2.1.1/24", "2001:db8:2b::1/64"]},
]
ROUTES = [
    {"vrf": "main", "prefix": "192.0.2.0/24", "via": "10.0.1.2"},
    {"vrf": "main", "prefix": "2001:db8:100::/48", "via": "2001:db8:b::2"},
    {"vrf": "main", "prefix": "203.0.113.0/24", "blackhole": True},
    {"vrf": "main", "prefix": "2001:db8:dead::/48", "blackhole": True},
    {"vrf": "main", "prefix": "198.51.100.0/24", "target_vrf": "red"},
    {"vrf": "main", "prefix": "2001:db8:300::/48", "target_vrf": "red"},
    {"vrf": "red", "prefix": "198.51.100.0/24", "via": "10.2.1.2"},
    {"vrf": "red", "prefix": "2001:db8:300::/48", "via": "2001:db8:2b::2"},
]
NEIGHBOURS = [
    {"interface": "a", "ip": "10.0.0.2", "mac": H_A},
    {"interface": "a", "ip": "2001:db8:a::2", "mac": H_A},
    {"interface": "b", "ip": "10.0.1.2", "mac": GW_B},
    {"interface": "b", "ip": "2001:db8:b::2", "mac": GW_B},
    {"interface": "ra", "ip": "10.2.0.2", "mac": H_RA},
    {"interface": "ra", "ip": "2001:db8:2a::2", "mac": H_RA},
    {"interface": "rb", "ip": "10.2.1.2", "mac": GW_RB},
    {"interface": "rb", "ip": "2001:db8:2b::2", "mac": GW_RB},
]
VRFS = [{"name": "main", "id": 0}, {"name": "red", "id": 10, "fib": "compact"}]


def veth_tag():
    return os.environ.get("NPSGW_VIS_TAG", "nv%d" % (os.getpid() % 100000))


def veth_name(dev, q, end):
    """Root end 'a' (npsd reads it), peer end 'b' (the test writes into it)."""
    return "%sd%sq%d%s" % (veth_tag(), dev[1:], q, end)


def veths_create(devices, workers):
    for d in devices:
        for q in range(workers):
            a, b = veth_name(d, q, "a"), veth_name(d, q, "b")
            subprocess.run(["ip", "link", "del", a], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=True)
            for e in (a, b):
                # no IPv6 on the veths: the kernel would send router solicitations and MLD reports into npsd
                subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % e], check=True)
                subprocess.run(["ip", "link", "set", e, "up"], check=True)


def veths_delete(devices, workers):
    for d in devices:
        for q in range(workers):
            subprocess.run(["ip", "link", "del", veth_name(d, q, "a")], stderr=subprocess.DEVNULL)


class VRouter(Router):
    """harness.Router whose devices receive from veths instead of pcap files (transmit: pcap files as before)."""

    def __init__(self, case, hugepages=False, **kw):
        kw.setdefault("vrfs", VRFS)
        kw.setdefault("interfaces", INTERFACES)
        kw.setdefault("routes", ROUTES)
        kw.setdefault("neighbours", NEIGHBOURS)
        Router.__init__(self, case, **kw)
        self.hugepages = hugepages
        case.routers.append(self)

    def conf_text(self):
        t = Router.conf_text(self)
        for d in self.devices:
            for q in range(self.workers):
                t = t.replace("rx_pcap=%s" % os.path.basename(self.rx_path(d["name"], q)),
                              "rx_iface_in=%s" % veth_name(d["name"], q, "a"))
        if self.hugepages:
            t = t.replace('hugepages = "no"', 'hugepages = "yes"')
        return t

    def send(self, frames, dev="p0", q=0):
        """Send frames into device dev, rx queue q (= worker q); returns once the workers received them all."""
        before = self.stats()["totals"]["rx"]
        sendp([Ether(bytes(f)) for f in frames], iface=veth_name(dev, q, "b"), verbose=0)
        self.n_input = before + len(frames)
        return self.settle(self.n_input)

    def settle(self, n_rx, timeout=10):
        """Wait until the workers received n_rx frames in all and the counters stop changing. (harness's wait_idle
        also wants rx = tx + drops + punted, which path-check packets break: they are counted but never received.)"""
        deadline = time.time() + timeout
        last, same = None, 0
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise CaseFail("npsd died (exit %d):\n%s" % (self.proc.returncode, self.log_text()))
            s = self.stats()
            key = json.dumps([s["totals"], s["ports"], s["control"]], sort_keys=True)
            if s["totals"]["rx"] >= n_rx:
                same = same + 1 if key == last else 0
                if same >= 2:
                    self.last_stats = s
                    return s
            last = key
            time.sleep(0.05)
        raise CaseFail("input not consumed within %d s: totals %s (expected rx %d)" % (timeout, s["totals"], n_rx))

    def ctl_text(self, *words, write=None):
        """(exit status, stdout, stderr) of a plain-text npsctl call."""
        w = ["-w", write] if write else []
        return self.ctl_raw(w + list(words))

    def tx_frames(self, dev):
        frames = []
        for q in range(self.workers):
            p = self.tx_path(dev, q)
            if os.path.exists(p) and os.path.getsize(p) > 0:
                frames += [bytes(x) for x in harness.rdpcap(p)]
        return frames


def from_a(l3):
    return Ether(src=H_A, dst=R_A) / l3


def from_ra(l3):
    return Ether(src=H_RA, dst=R_RA) / Dot1Q(vlan=10) / l3


def payload(n, seed=0):
    return Raw(bytes((seed + i * 7) & 0xFF for i in range(n)))
