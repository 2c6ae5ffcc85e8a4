#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
pcap-in/pcap-out test harness for npsd (test tiers 2 and 4). Run with /usr/bin/python3 (needs python3-scapy).

Each case writes a configuration and input pcaps into a directory of its own, starts the real build/npsd with
net_pcap devices, waits for the control socket and for every input frame to be received, reads counters and
tables over the control socket (the real build/npsctl), stops npsd with SIGTERM, then reads the output pcaps and
compares them with the exact frames expected (byte for byte) and every drop counter with its exact value.

  harness.py --list [GROUP]     case names, one a line (GROUP: forward, badinput, or all)
  harness.py --run NAME         run one case; exit 0 = pass, 1 = fail (details on stdout), 2 = harness error

The case directory is $NPSGW_PCAP_TMP/NAME (default: a fresh /tmp directory), removed after a pass unless
NPSGW_PCAP_KEEP=1; kept after a failure only with NPSGW_PCAP_KEEP=1 (the log is printed either way).
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, IP, UDP, TCP, Dot1Q, Ether, IPv6, Raw, rdpcap, wrpcap, conf as scapy_conf)  # noqa
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA,  # noqa
                                ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr)

scapy_conf.verb = 0

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NPSD = os.environ.get("NPSD", os.path.join(REPO, "build", "npsd"))
NPSCTL = os.environ.get("NPSCTL", os.path.join(REPO, "build", "npsctl"))


def _port_rx_burst():
    """Frames port_rx reads per graph walk (PORT_RX_BURST in dataplane/nodes/port_rx.c): cases that need frames in
    separate walks put more dropped fillers than this between them."""
    src = open(os.path.join(REPO, "dataplane", "nodes", "port_rx.c")).read()
    m = re.search(r"^#define PORT_RX_BURST (\d+)", src, re.M)
    if m is None:
        raise RuntimeError("no PORT_RX_BURST in dataplane/nodes/port_rx.c")
    return int(m.group(1))


PORT_RX_BURST = _port_rx_burst()

DROP_REASONS = []  # filled from dataplane/drop_reasons.h


def _load_drop_reasons():
    import re
    with open(os.path.join(REPO, "dataplane", "drop_reasons.h")) as f:
        for m in re.finditer(r"^\s*X\((\w+),", f.read(), re.M):
            DROP_REASONS.append(m.group(1))


_load_drop_reasons()


class CaseFail(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Raw packet helpers: expected frames are built byte by byte, so nothing in scapy's defaults hides a difference.

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_b(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip4_b(a):
    return socket.inet_pton(socket.AF_INET, a)


def ip6_b(a):
    return socket.inet_pton(socket.AF_INET6, a)


def eth_hdr(dst, src, ethertype, vlan=None):
    h = mac_b(dst) + mac_b(src)
    if vlan:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", ethertype)


def l3_of(frame):
    """(ethertype, vlan or None, L3 bytes) of an Ethernet frame (bytes)."""
    et = struct.unpack("!H", frame[12:14])[0]
    if et == 0x8100:
        vlan = struct.unpack("!H", frame[14:16])[0] & 0xFFF
        return struct.unpack("!H", frame[16:18])[0], vlan, frame[18:]
    return et, None, frame[14:]


def ip4_trim(b):
    return b[:struct.unpack("!H", b[2:4])[0]]


def ip6_trim(b):
    return b[:40 + struct.unpack("!H", b[4:6])[0]]


def ip4_fix_csum(b):
    b = bytearray(b)
    ihl = (b[0] & 0xF) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", csum(bytes(b[:ihl])))
    return bytes(b)


def ip4_header(src, dst, proto, payload_len, ttl=64, ident=0, tos=0, flags_frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + payload_len, ident, flags_frag, ttl, proto, 0, ip4_b(src),
                    ip4_b(dst))
    return ip4_fix_csum(h)


def ip_fragments(l3, cuts, ident, order=None):
    """The fragments of IP packet l3 (bytes; IPv6 without extension headers) cut at the payload offsets in cuts
    (multiples of 8), in order (or in the order of the fragment indexes given): IPv4 with its header copied,
    identification ident, offset, MF and checksum set; IPv6 with a fragment header (identification ident) after the
    fixed one."""
    b = bytes(l3)
    v4 = b[0] >> 4 == 4
    hl = (b[0] & 0xF) * 4 if v4 else 40
    data = b[hl:]
    bounds = [0] + list(cuts) + [len(data)]
    out = []
    for k in range(len(bounds) - 1):
        off, end = bounds[k], bounds[k + 1]
        assert off % 8 == 0, "fragment offsets are multiples of 8"
        more = end < len(data)
        piece = data[off:end]
        if v4:
            h = bytearray(b[:hl])
            struct.pack_into("!HHH", h, 2, hl + len(piece), ident & 0xFFFF, (0x2000 if more else 0) | (off // 8))
            struct.pack_into("!H", h, 10, 0)
            struct.pack_into("!H", h, 10, csum(bytes(h)))
            out.append(bytes(h) + piece)
        else:
            h = bytearray(b[:40])
            h[6] = 44
            struct.pack_into("!H", h, 4, 8 + len(piece))
            fh = struct.pack("!BBHI", b[6], 0, (off // 8) << 3 | (1 if more else 0), ident)
            out.append(bytes(h) + fh + piece)
    return [out[k] for k in order] if order is not None else out


def ip6_pseudo(src, dst, ulen, nh):
    return src + dst + struct.pack("!IxxxB", ulen, nh)


def ip6_header(src, dst, nh, plen, hlim=64, tc_flow=0):
    return struct.pack("!IHBB", (6 << 28) | tc_flow, plen, nh, hlim) + ip6_b(src) + ip6_b(dst)


def frame_bytes(p):
    return bytes(p)


def fwd_frame(inp, src_mac, dst_mac, vlan=None):
    """The frame the router should send for input frame inp (scapy or bytes): TTL / hop limit one less, IPv4
    checksum updated, Ethernet padding gone, new MACs and the outgoing VLAN tag (or none)."""
    et, _, l3 = l3_of(bytes(inp))
    if et == 0x0800:
        b = bytearray(ip4_trim(l3))
        b[8] -= 1
        l3 = ip4_fix_csum(b)
    elif et == 0x86DD:
        b = bytearray(ip6_trim(l3))
        b[7] -= 1
        l3 = bytes(b)
    else:
        raise ValueError("not IP")
    return eth_hdr(dst_mac, src_mac, et, vlan) + l3


def icmp4_error(inp, rsrc, type_, code, src_mac, dst_mac, vlan=None, info=0, ttl=64, quote_max=548):
    """ICMP error the router sends for input frame inp: from rsrc to the packet's source, quoting the IP packet
    as received (up to 576 bytes in all)."""
    _, _, l3 = l3_of(bytes(inp))
    orig = ip4_trim(l3)
    quoted = orig[:quote_max]
    icmp = struct.pack("!BBHHH", type_, code, 0, 0, info) + quoted
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    osrc = socket.inet_ntop(socket.AF_INET, orig[12:16])
    ip = ip4_header(rsrc, osrc, 1, len(icmp), ttl=ttl)
    return eth_hdr(dst_mac, src_mac, 0x0800, vlan) + ip + icmp


def icmp6_error(inp, rsrc, type_, code, src_mac, dst_mac, vlan=None, info=0, hlim=64, quote_max=1232):
    _, _, l3 = l3_of(bytes(inp))
    orig = ip6_trim(l3)
    quoted = orig[:quote_max]
    osrc = socket.inet_ntop(socket.AF_INET6, orig[8:24])
    icmp = struct.pack("!BBHI", type_, code, 0, info) + quoted
    c = csum(ip6_pseudo(ip6_b(rsrc), ip6_b(osrc), len(icmp), 58) + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    return eth_hdr(dst_mac, src_mac, 0x86DD, vlan) + ip6_header(rsrc, osrc, 58, len(icmp), hlim=hlim) + icmp


def echo4_reply(inp, src_mac, dst_mac, vlan=None, ttl=64):
    """Echo reply: the request with addresses swapped, a fresh TTL, type 0 (id, tos, flags and data kept)."""
    _, _, l3 = l3_of(bytes(inp))
    b = bytearray(ip4_trim(l3))
    ihl = (b[0] & 0xF) * 4
    b[12:16], b[16:20] = b[16:20], b[12:16]
    b[8] = ttl
    b = bytearray(ip4_fix_csum(b))
    b[ihl] = 0
    b[ihl + 2:ihl + 4] = b"\0\0"
    b[ihl + 2:ihl + 4] = struct.pack("!H", csum(bytes(b[ihl:])))
    return eth_hdr(dst_mac, src_mac, 0x0800, vlan) + bytes(b)


def echo6_reply(inp, src_mac, dst_mac, vlan=None, hlim=64, src=None):
    _, _, l3 = l3_of(bytes(inp))
    b = bytearray(ip6_trim(l3))
    s, d = bytes(b[8:24]), bytes(b[24:40])
    b[8:24] = ip6_b(src) if src else d
    b[24:40] = s
    b[7] = hlim
    b[40] = 129
    b[42:44] = b"\0\0"
    b[42:44] = struct.pack("!H", csum(ip6_pseudo(bytes(b[8:24]), bytes(b[24:40]), len(b) - 40, 58) + bytes(b[40:])))
    return eth_hdr(dst_mac, src_mac, 0x86DD, vlan) + bytes(b)


def arp_frame(op, sha, spa, tha, tpa, dst=None, src=None, vlan=None):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac_b(sha) + ip4_b(spa) + mac_b(tha) + ip4_b(tpa)
    return eth_hdr(dst or "ff:ff:ff:ff:ff:ff", src or sha, 0x0806, vlan) + body


def ndp_frame(type_, flags, src, dst, target, opt_type, opt_mac, eth_src, eth_dst, vlan=None, hlim=255):
    """NS/NA as the router builds them: 24 bytes + one link-layer address option."""
    icmp = struct.pack("!BBHB3x", type_, 0, 0, flags) + ip6_b(target) + struct.pack("!BB", opt_type, 1) + \
        mac_b(opt_mac)
    c = csum(ip6_pseudo(ip6_b(src), ip6_b(dst), len(icmp), 58) + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    return eth_hdr(eth_dst, eth_src, 0x86DD, vlan) + ip6_header(src, dst, 58, len(icmp), hlim=hlim) + icmp


def solicited_node(addr):
    b = ip6_b(addr)
    return socket.inet_ntop(socket.AF_INET6, bytes([0xFF, 0x02] + [0] * 9 + [0x01, 0xFF]) + b[13:])


def mcast_mac6(addr):
    b = ip6_b(addr)
    return "33:33:" + ":".join("%02x" % x for x in b[12:])


def describe(frame):
    try:
        return Ether(bytes(frame)).summary() + " len=%d" % len(bytes(frame))
    except Exception:
        return "%d bytes %s" % (len(frame), bytes(frame)[:32].hex())


def frame_diff(exp, got):
    exp, got = bytes(exp), bytes(got)
    n = min(len(exp), len(got))
    first = next((i for i in range(n) if exp[i] != got[i]), n)
    return "first difference at byte %d (expected len %d, got %d): expected %s.. got %s..; expected %s; got %s" % (
        first, len(exp), len(got), exp[first:first + 8].hex(), got[first:first + 8].hex(), describe(exp),
        describe(got))


# ---------------------------------------------------------------------------------------------------------------
# The router under test

STD_ANNOUNCE = "auto"


class Router:
    """One npsd run. devices: [{"name", "mtu"?}]; interfaces: conf dicts; routes/neighbours: conf dicts."""

    def __init__(self, case, workers=1, vrfs=None, devices=None, interfaces=None, routes=None, neighbours=None,
                 memory_mb=2048, extra_conf="", icmp_rate=None):
        self.case = case
        self.dir = case.dir
        self.workers = workers
        self.vrfs = vrfs or [{"name": "main", "id": 0}]
        self.devices = devices or [{"name": "p0"}, {"name": "p1"}]
        self.interfaces = interfaces or []
        self.routes = routes or []
        self.neighbours = neighbours or []
        self.memory_mb = memory_mb
        self.extra_conf = extra_conf
        self.icmp_rate = icmp_rate
        self.sock = os.path.join(self.dir, "npsd.sock")
        self.prefix = "npt%d_%s" % (os.getpid(), case.name.replace("-", "_"))[:40]
        self.proc = None
        self.n_input = 0
        self.outputs = {}
        self.announcements = {}
        self.log_path = os.path.join(self.dir, "npsd.log")

    # -- configuration
    @staticmethod
    def _val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, (list, tuple)):
            return "[ " + ", ".join(Router._val(x) for x in v) + " ]"
        return '"%s"' % v

    @staticmethod
    def _group(d):
        return "{ " + " ".join("%s = %s;" % (k, Router._val(v)) for k, v in d.items()) + " }"

    def conf_text(self):
        W = self.workers
        lines = []
        if W == 1:
            lines.append('eal: { lcores = "0-1"; hugepages = "no"; memory_mb = %d; file_prefix = "%s"; };'
                         % (self.memory_mb, self.prefix))
        else:
            lmap = ",".join(["0@0"] + ["%d@1" % (i + 1) for i in range(W)])
            lines.append('eal: { lcores = "0-%d"; hugepages = "no"; memory_mb = %d; file_prefix = "%s"; '
                         'extra_args = [ "--lcores=%s" ]; };' % (W, self.memory_mb, self.prefix, lmap))
        lines.append('control: { socket = "%s"; mode = "0660"; };' % self.sock)
        if self.icmp_rate is not None:
            lines.append("limits: { icmp_rate = %d; };" % self.icmp_rate)
        devs = []
        for i, d in enumerate(self.devices):
            parts = ["net_pcap%d" % i]
            # relative to the case directory (npsd runs there): vdev strings are limited to 255 characters
            parts += ["rx_pcap=%s" % os.path.basename(self.rx_path(d["name"], q)) for q in range(W)]
            parts += ["tx_pcap=%s" % os.path.basename(self.tx_path(d["name"], q)) for q in range(W)]
            g = {"name": d["name"], "vdev": ",".join(parts), "rx_queues": W}
            if "mtu" in d:
                g["mtu"] = d["mtu"]
            devs.append(self._group(g))
        lines.append("devices = (\n  " + ",\n  ".join(devs) + "\n);")
        ws = []
        for w in range(W):
            rx = ", ".join('"%s:%d"' % (d["name"], w) for d in self.devices)
            ws.append("{ lcore = %d; rx = ( %s ); }" % (w + 1, rx))
        lines.append("workers = ( " + ", ".join(ws) + " );")
        lines.append("vrfs = (\n  " + ",\n  ".join(self._group(v) for v in self.vrfs) + "\n);")
        lines.append("interfaces = (\n  " + ",\n  ".join(self._group(i) for i in self.interfaces) + "\n);")
        if self.routes:
            lines.append("routes = (\n  " + ",\n  ".join(self._group(r) for r in self.routes) + "\n);")
        if self.neighbours:
            lines.append("neighbours = (\n  " + ",\n  ".join(self._group(n) for n in self.neighbours) + "\n);")
        lines.append(self.extra_conf)
        return "\n".join(lines) + "\n"

    def rx_path(self, dev, q):
        return os.path.join(self.dir, "in-%s-q%d.pcap" % (dev, q))

    def tx_path(self, dev, q):
        return os.path.join(self.dir, "out-%s-q%d.pcap" % (dev, q))

    # -- run
    def start(self, inputs=None, spread=True):
        """inputs: {device: [frames]} (spread round robin over the rx queues when spread and several workers) or
        {device: {queue: [frames]}}. Frames are scapy packets or bytes."""
        inputs = inputs or {}
        W = self.workers
        self.n_input = 0
        self.per_queue = [0] * W
        for d in self.devices:
            name = d["name"]
            spec = inputs.get(name, [])
            if isinstance(spec, dict):
                perq = {q: list(spec.get(q, [])) for q in range(W)}
            elif spread:
                perq = {q: list(spec[q::W]) for q in range(W)}
            else:
                perq = {q: (list(spec) if q == 0 else []) for q in range(W)}
            for q in range(W):
                frames = [Raw(bytes(f)) if not isinstance(f, (bytes, bytearray)) else Raw(bytes(f))
                          for f in perq[q]]
                wrpcap(self.rx_path(name, q), frames, linktype=1)
                self.n_input += len(frames)
                self.per_queue[q] += len(frames)
        conf_path = os.path.join(self.dir, "npsd.conf")
        with open(conf_path, "w") as f:
            f.write(self.conf_text())
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([NPSD, "-c", conf_path], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        # for run.sh's clean-up when this process is killed: the daemon and its EAL runtime directory
        with open(os.path.join(self.dir, "npsd.prefix"), "w") as f:
            f.write(self.prefix + "\n")
        with open(os.path.join(self.dir, "npsd.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise CaseFail("npsd exited with %d during start-up:\n%s" % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.sock):
                rc, _, _ = self.ctl_raw(["version"], timeout_ms=1000)
                if rc == 0:
                    break
            if time.time() > deadline:
                raise CaseFail("control socket not answering after 30 s:\n" + self.log_text())
            time.sleep(0.05)
        self.wait_idle(self.n_input)
        if W > 1:
            # each worker polls queue i of every device: it must have received exactly those frames
            for w in range(W):
                d = self.ctl_ok("show", "stats", "worker", str(w))
                got = d["totals"][0]["rx"]
                if got != self.per_queue[w]:
                    self.case.fail("worker %d received %d frames, expected the %d of rx queue %d"
                                   % (w, got, self.per_queue[w], w))
        return self

    def wait_for(self, what, pred, timeout=10):
        """Poll show stats until pred(stats) is true; then wait for idle again. Returns the stats."""
        deadline = time.time() + timeout
        while True:
            s = self.stats()
            if pred(s):
                return self.wait_idle(self.n_input)
            if time.time() > deadline:
                raise CaseFail("timed out waiting for %s (totals %s)" % (what, s["totals"]))
            time.sleep(0.05)

    def log_text(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def ctl_raw(self, words, json_=False, timeout_ms=5000):
        cmd = [NPSCTL, "-s", self.sock, "--timeout", str(timeout_ms)] + (["--json"] if json_ else []) + list(words)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout_ms / 1000 + 5)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def ctl(self, *words):
        """Run a command with --json; returns the parsed reply (any status). Raises on a transport failure."""
        rc, out, err = self.ctl_raw(words, json_=True)
        if rc == 2:
            raise CaseFail("npsctl %s: exit 2: %s %s" % (" ".join(words), out, err))
        try:
            j = json.loads(out)
        except ValueError:
            raise CaseFail("npsctl %s: reply is not JSON: %r (stderr %r)" % (" ".join(words), out, err))
        j["_exit"] = rc
        j["_stderr"] = err
        return j

    def ctl_ok(self, *words):
        j = self.ctl(*words)
        if j["status"] != 0 or j["_exit"] != 0:
            raise CaseFail("npsctl %s failed: status %s exit %s: %s" % (" ".join(words), j["status"], j["_exit"],
                                                                         j.get("error")))
        return j["data"]

    def stats(self):
        d = self.ctl_ok("show", "stats")
        s = {
            "ports": {p["port"]: p for p in d["ports"]},
            "nodes": {n["node"]: n["packets"] for n in d["nodes"]},
            "drops": {x["reason"]: x["packets"] for x in d["drops"]},
            "control": {x["counter"]: x["value"] for x in d["control"]},
            "totals": d["totals"][0],
            "interfaces": {i["interface"]: i for i in d.get("interfaces", [])},
        }
        return s

    def neighbours_table(self):
        return self.ctl_ok("show", "neighbours")["neighbours"]

    def wait_idle(self, n_rx, timeout=20):
        """Wait until the workers received n_rx frames, then until nothing changes for a few polls."""
        deadline = time.time() + timeout
        last, same = None, 0
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise CaseFail("npsd died (exit %d):\n%s" % (self.proc.returncode, self.log_text()))
            s = self.stats()
            key = (json.dumps(s["totals"], sort_keys=True), json.dumps(s["control"], sort_keys=True),
                   json.dumps(s["drops"], sort_keys=True))
            t = s["totals"]
            ports_tx = sum(p["tx_packets"] for p in s["ports"].values())
            drained = (s["control"].get("punt_received", 0) == t["punted"] and  # control thread has them all
                       (s["drops"].get("tx_full") or ports_tx == t["tx"] + s["control"].get("ctl_tx", 0)))
            if t["rx"] >= n_rx and drained:
                same = same + 1 if key == last else 0
                if same >= 3:
                    self.last_stats = s
                    return s
            last = key
            time.sleep(0.05)
        raise CaseFail("input not consumed within %d s: totals %s (expected rx %d)" % (timeout, s["totals"], n_rx))

    def check_ports(self, s):
        """The ports' own counters agree with the graph's: frames received = totals.rx; frames sent = what the
        workers transmitted + what the control thread sent (ARP, NDP, released held packets)."""
        rx = sum(p["rx_packets"] for p in s["ports"].values())
        tx = sum(p["tx_packets"] for p in s["ports"].values())
        if rx != s["totals"]["rx"]:
            self.case.fail("ports received %d frames, totals.rx is %d" % (rx, s["totals"]["rx"]))
        if tx != s["totals"]["tx"] + s["control"].get("ctl_tx", 0):
            self.case.fail("ports sent %d frames, totals.tx %d + control ctl_tx %d" % (tx, s["totals"]["tx"],
                                                                                       s["control"].get("ctl_tx", 0)))
        for p in s["ports"].values():
            for k in ("rx_missed", "rx_errors", "tx_errors", "rx_nombuf"):
                if p.get(k):
                    self.case.fail("port %s %s = %d" % (p["port"], k, p[k]))

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise CaseFail("npsd did not stop within 20 s of SIGTERM")
        rc = self.proc.returncode
        self.log.close()
        self.proc = None
        try:
            os.unlink(os.path.join(self.dir, "npsd.pid"))
        except OSError:
            pass
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)
        if rc != 0:
            raise CaseFail("npsd exit status %d after SIGTERM (expected 0):\n%s" % (rc, self.log_text()))
        if os.path.exists(self.sock):
            self.case.fail("control socket %s left behind after a clean stop" % self.sock)
        for d in self.devices:
            frames, ann = [], []
            for q in range(self.workers):
                path = self.tx_path(d["name"], q)
                if not os.path.exists(path) or os.path.getsize(path) == 0:
                    continue
                for p in rdpcap(path):
                    b = bytes(p)
                    (ann if is_announcement(b) else frames).append(b)
            self.outputs[d["name"]] = frames
            self.announcements[d["name"]] = ann

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)

    # -- common assertions
    def expect_iface_counters(self, s, want):
        """want: {interface: {rx_packets, rx_bytes, tx_packets, tx_bytes}} (only the keys given are checked)."""
        for name, counters in want.items():
            got = s["interfaces"].get(name)
            if got is None:
                self.case.fail("interface %s missing from show stats" % name)
                continue
            for k, v in counters.items():
                if got[k] != v:
                    self.case.fail("interface %s %s = %d, expected %d" % (name, k, got[k], v))

    def expect_counters(self, s=None, drops=None, totals=None, control=None, rx=None):
        """drops: {reason: n}, every other reason must be 0. totals: {rx, tx, drops, punted} (missing keys: derived
        checks only). control: {counter: n} for the named ones."""
        s = s or self.last_stats
        drops = drops or {}
        c = self.case
        self.check_ports(s)
        for r in drops:
            if r not in s["drops"]:
                c.fail("drop reason %s does not exist (show drops has %s)" % (r, sorted(s["drops"])))
        for r, v in s["drops"].items():
            exp = drops.get(r, 0)
            if v != exp:
                c.fail("drop %s = %d, expected %d" % (r, v, exp))
        t = s["totals"]
        if rx is not None and t["rx"] != rx:
            c.fail("totals.rx = %d, expected %d" % (t["rx"], rx))
        elif t["rx"] != self.n_input:
            c.fail("totals.rx = %d, expected the %d input frames" % (t["rx"], self.n_input))
        for k, v in (totals or {}).items():
            if not k.startswith("_") and t[k] != v:
                c.fail("totals.%s = %d, expected %d" % (k, t[k], v))
        # every frame received ends in exactly one of tx, a drop node, the punt node or a reassembled packet
        # ("absorbed"); fragmentation makes more packets than it receives ("created")
        if t["rx"] + t.get("created", 0) != t["tx"] + t["drops"] + t["punted"] + t.get("absorbed", 0):
            c.fail("totals do not add up: rx %d + created %d != tx %d + drops %d + punted %d + absorbed %d"
                   % (t["rx"], t.get("created", 0), t["tx"], t["drops"], t["punted"], t.get("absorbed", 0)))
        for k, v in (control or {}).items():
            if s["control"].get(k) != v:
                c.fail("control counter %s = %s, expected %d" % (k, s["control"].get(k), v))

    def expect_output(self, dev, expected, ordered=False, what=""):
        """Exact multiset (or sequence) comparison of a device's output with expected frames."""
        got = list(self.outputs.get(dev, []))
        exp = [bytes(e) for e in expected]
        c = self.case
        label = "%s output%s" % (dev, " (" + what + ")" if what else "")
        if ordered:
            for i, (e, g) in enumerate(zip(exp, got)):
                if e != g:
                    c.fail("%s frame %d: %s" % (label, i, frame_diff(e, g)))
            if len(exp) != len(got):
                c.fail("%s: %d frames, expected %d; got: %s" % (label, len(got), len(exp),
                                                                "; ".join(describe(g) for g in got[:10])))
            return
        remaining = list(got)
        missing = []
        for e in exp:
            if e in remaining:
                remaining.remove(e)
            else:
                missing.append(e)
        for m in missing:
            # pair with the closest candidate (same length, longest common prefix) to show the difference once
            cand = [g for g in remaining if len(g) == len(m)]
            if cand:
                best = max(cand, key=lambda g: sum(1 for x, y in zip(g, m) if x == y))
                remaining.remove(best)
                c.fail("%s: frame differs: %s" % (label, frame_diff(m, best)))
            else:
                c.fail("%s: expected frame not sent: %s" % (label, describe(m)))
        for g in remaining:
            c.fail("%s: unexpected frame: %s" % (label, describe(g)))

    def expect_announcements(self, counts):
        """counts: {device: n} gratuitous ARPs + unsolicited NAs sent."""
        for dev, n in counts.items():
            got = len(self.announcements.get(dev, []))
            if got != n:
                self.case.fail("%s: %d address announcements (gratuitous ARP / unsolicited NA), expected %d"
                               % (dev, got, n))


def is_announcement(b):
    """Gratuitous ARP (sender IP == target IP) or unsolicited NA to all-nodes (S flag clear)."""
    try:
        et, _, l3 = l3_of(b)
        if et == 0x0806 and len(l3) >= 28:
            return l3[14:18] == l3[24:28] and l3[6:8] == b"\0\x01"
        if et == 0x86DD and len(l3) >= 48:
            return l3[6] == 58 and l3[24:40] == ip6_b("ff02::1") and l3[40] == 136 and not (l3[44] & 0x40)
    except Exception:
        pass
    return False


# ---------------------------------------------------------------------------------------------------------------
# Cases

CASES = {}  # name -> (group, fn, kwargs)


def case(name, group="forward", workers=(1,)):
    """Register fn(c) as case NAME (or NAME-w1, NAME-w2... when several worker counts)."""

    def deco(fn):
        for w in workers:
            n = name if len(workers) == 1 and w == 1 else "%s-w%d" % (name, w)
            CASES[n] = (group, fn, {"workers": w})
        return fn

    return deco


class Case:
    def __init__(self, name, workers, root):
        self.name = name
        self.workers = workers
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.failures = []
        self.routers = []

    def fail(self, msg):
        self.failures.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return cond

    def router(self, **kw):
        kw.setdefault("workers", self.workers)
        r = Router(self, **kw)
        self.routers.append(r)
        return r


def load_cases():
    sys.path.insert(0, HERE)
    sys.modules.setdefault("harness", sys.modules[__name__])
    # NPSGW_PCAP_CASES_DIR: run the cases_*.py of another folder (a network function's, e.g. nf/fw/test) instead
    cases_dir = os.path.abspath(os.environ.get("NPSGW_PCAP_CASES_DIR") or HERE)
    if cases_dir != HERE:
        sys.path.insert(0, cases_dir)
    for mod in sorted(os.listdir(cases_dir)):
        if mod.startswith("cases_") and mod.endswith(".py"):
            __import__(mod[:-3])


def run_case(name):
    group, fn, kw = CASES[name]
    root = os.environ.get("NPSGW_PCAP_TMP") or tempfile.mkdtemp(prefix="npsgw-pcap.")
    c = Case(name, kw["workers"], root)

    def on_term(sig, frm):
        raise CaseFail("terminated (timeout)")

    signal.signal(signal.SIGTERM, on_term)
    err = None
    try:
        fn(c)
    except CaseFail as e:
        err = str(e)
    except Exception:
        err = "harness exception:\n" + traceback.format_exc()
    finally:
        for r in c.routers:
            r.kill()
    if err:
        c.failures.append(err)
    if c.failures:
        print("---- %s: %d problem(s)" % (name, len(c.failures)))
        for f in c.failures[:40]:
            print("  - " + f.replace("\n", "\n    "))
        if len(c.failures) > 40:
            print("  ... %d more" % (len(c.failures) - 40))
        for r in c.routers:
            lt = r.log_text()
            if lt and os.environ.get("NPSGW_PCAP_VERBOSE"):
                print("  npsd log (%s):\n    %s" % (r.log_path, lt.replace("\n", "\n    ")))
    if not os.environ.get("NPSGW_PCAP_KEEP"):
        shutil.rmtree(c.dir, ignore_errors=True)
        if not os.environ.get("NPSGW_PCAP_TMP"):
            shutil.rmtree(root, ignore_errors=True)
    return 0 if not c.failures else 1


def main(argv):
    load_cases()
    if len(argv) >= 2 and argv[1] == "--list":
        group = argv[2] if len(argv) > 2 else "all"
        for n, (g, _, _) in CASES.items():
            if group in ("all", g):
                print(n)
        return 0
    if len(argv) == 3 and argv[1] == "--run":
        if argv[2] not in CASES:
            print("unknown case %s" % argv[2])
            return 2
        return run_case(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
