# SPDX-License-Identifier: BSD-3-Clause
"""
Helpers of the NAT / DS-Lite end-to-end tier (nat_e2e.py). The namespaces, the daemon and the socket probes are the
firewall tier's (nf/fw/test/fwe2e_lib.py); added here: echo servers that record every peer's address AND port (the
internet host must see distinct public endpoints), an AF_PACKET sniffer opened inside a namespace, the scapy B4
(IPv4-in-IPv6 frames built with scapy and sent on an AF_PACKET socket of the B4's namespace: the kernel has no
ip6tnl), a control-socket event subscriber, and readers of the nat commands.
"""
import json
import os
import select
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "fw", "test"))
from fwe2e_lib import (REPO, Abort, EchoServers, Host, Npsd, counters, log, rows, sh,  # noqa: E402,F401
                       tcp_connect, tcp_echo, tier_main, udp_query)
from fwe2e_lib import Gw as GwBase  # noqa: E402

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_PMTUDISC_PROBE, IP_PMTUDISC_OMIT = 10, 2, 3, 5


def scapy():
    """scapy.all, imported on first use (a couple of seconds)."""
    import scapy.all as s  # noqa: E402 - only /usr/bin/python3 has it
    s.conf.verb = 0
    return s


# ---------------------------------------------------------------------------------------------- servers

class PeerServers(EchoServers):
    """TCP and UDP echo servers (IPv4) in one namespace, recording (proto, port, peer address, peer port, size)."""

    def _bound(self, kind, port):
        s = self.host.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        return self._serving(s)

    def _note(self, proto, port, peer, data):
        with self.lock:
            self.seen.append({"proto": proto, "port": port, "addr": peer[0], "peer_port": peer[1], "size": len(data),
                              "data": data, "time": time.time()})

    def find(self, proto=None, port=None, addr=None, since=0.0):
        with self.lock:
            return [r for r in self.seen if (proto is None or r["proto"] == proto) and (port is None or
                    r["port"] == port) and (addr is None or r["addr"] == addr) and r["time"] >= since]


# ---------------------------------------------------------------------------------------------- capture

class Sniffer:
    """Every frame eth0 of a namespace receives (and sends, marked out) from start to stop, AF_PACKET."""

    def __init__(self, host, ifname="eth0"):
        with host.entered():
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((ifname, ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.frames = []  # (time, outgoing, bytes)
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                continue
            with self.lock:
                self.frames.append((time.time(), addr[2] == PACKET_OUTGOING, data))

    def send(self, frame):
        self.sock.send(bytes(frame))

    def mark(self):
        with self.lock:
            return len(self.frames)

    def packets(self, since=0, incoming=True):
        """scapy Ether packets captured after mark `since`."""
        s = scapy()
        with self.lock:
            got = self.frames[since:]
        return [s.Ether(d) for _, out, d in got if out != incoming]

    def wait(self, pred, since=0, timeout=3.0, n=1, incoming=True):
        """The first n incoming packets after `since` for which pred(pkt) is true (fewer when the time ran out)."""
        deadline = time.time() + timeout
        while True:
            got = [p for p in self.packets(since, incoming) if pred(p)]
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.05)

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


# ---------------------------------------------------------------------------------------------- the B4

class ScapyB4:
    """A DS-Lite B4 element: IPv4 packets (scapy layers) wrapped in IPv6 to the AFTR and sent on the B4 namespace's
    eth0; the AFTR's replies are read off the same link. A raw IPv6 socket for next header 4 stays open in the
    namespace so that its kernel swallows the softwire packets instead of answering parameter problem."""

    def __init__(self, host, b4, aftr, inner, gw_mac):
        s = scapy()
        self.s, self.b4, self.aftr, self.inner, self.gw_mac = s, b4, aftr, inner, gw_mac
        self.sniff = Sniffer(host)
        with host.entered():
            self.sink = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 4)
        # sysfs shows the namespace it was mounted in: read the MAC from inside the namespace
        rc, out = host.exec(["cat", "/sys/class/net/eth0/address"])
        if rc != 0:
            raise Abort("B4: no MAC for eth0: %s" % out)
        self.mac = out.strip()

    def frame(self, inner, src=None):
        s = self.s
        return s.Ether(src=self.mac, dst=self.gw_mac) / s.IPv6(src=src or self.b4, dst=self.aftr, hlim=64) / inner

    def send(self, inner, src=None):
        self.sniff.send(self.frame(inner, src))

    def send_fragmented(self, inner, frag_size):
        """The softwire packet cut into IPv6 fragments (scapy fragment6); returns how many were sent."""
        s = self.s
        pkt = s.IPv6(src=self.b4, dst=self.aftr, hlim=64) / s.IPv6ExtHdrFragment(id=0x5e1f) / inner
        frags = s.fragment6(pkt, frag_size)
        for f in frags:
            self.sniff.send(s.Ether(src=self.mac, dst=self.gw_mac) / f)
        return len(frags)

    def is_softwire_reply(self, p):
        s = self.s
        return s.IPv6 in p and p[s.IPv6].src == self.aftr and p[s.IPv6].dst == self.b4 and s.IP in p and \
            p[s.IP].dst == self.inner

    def replies(self, pred, since, timeout=3.0, n=1):
        """Unfragmented softwire replies (outer AFTR -> B4, inner to the B4's address) that match pred(inner IP)."""
        s = self.s
        return self.sniff.wait(lambda p: s.IPv6ExtHdrFragment not in p and self.is_softwire_reply(p) and
                               pred(p[s.IP]), since, timeout, n)

    def close(self):
        self.sniff.close()
        self.sink.close()


def inner_checksums_ok(ip):
    """The inner IPv4 header checksum and its TCP/UDP/ICMP checksum are what scapy computes from scratch."""
    s = scapy()
    raw = bytes(ip)
    fresh = s.IP(raw)
    del fresh.chksum
    for layer in (s.TCP, s.UDP, s.ICMP):
        if layer in fresh:
            del fresh[layer].chksum
    fresh = s.IP(bytes(fresh))
    ok = fresh.chksum == s.IP(raw).chksum
    for layer in (s.TCP, s.UDP, s.ICMP):
        if layer in fresh:
            ok = ok and fresh[layer].chksum == s.IP(raw)[layer].chksum
    return ok


def tcp_mss(tcp):
    for k, v in tcp.options:
        if k == "MSS":
            return v
    return None


# ---------------------------------------------------------------------------------------------- events

class EventSub:
    """A control-socket connection subscribed to events (framing of docs/CONTROL.md: "NPSGW/1 STATUS|EVENT LEN")."""

    def __init__(self, path, topics="nat"):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.events = []
        self.lock = threading.Lock()
        self.s.sendall(("subscribe events %s --json\n" % topics).encode())
        kind, status, body = self._frame(5)
        if kind != "reply" or status != 0:
            raise Abort("subscribe events %s: %s %s %r" % (topics, kind, status, body))
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _frame(self, timeout):
        deadline = time.time() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                head = self.buf[:nl].decode(errors="replace").split(" ")
                n = int(head[2])
                if len(self.buf) >= nl + 1 + n:
                    body = self.buf[nl + 1:nl + 1 + n]
                    self.buf = self.buf[nl + 1 + n:]
                    return ("event", None, body) if head[1] == "EVENT" else ("reply", int(head[1]), body)
            left = deadline - time.time()
            if left <= 0:
                return None, None, None
            r, _, _ = select.select([self.s], [], [], min(left, 0.1))
            if not r:
                continue
            data = self.s.recv(65536)
            if not data:
                return "closed", None, None
            self.buf += data

    def _run(self):
        while not self.stopping:
            try:
                kind, _, body = self._frame(0.2)
            except OSError:
                return
            if kind == "closed":
                return
            if kind == "event":
                try:
                    ev = json.loads(body)
                except ValueError:
                    ev = {"unparsed": body.decode(errors="replace")}
                with self.lock:
                    self.events.append(ev)

    def find(self, pred, timeout=3.0):
        deadline = time.time() + timeout
        while True:
            with self.lock:
                got = [e for e in self.events if pred(e)]
            if got or time.time() > deadline:
                return got
            time.sleep(0.1)

    def all(self):
        with self.lock:
            return list(self.events)

    def close(self):
        self.stopping = True
        self.thread.join()
        self.s.close()


# ---------------------------------------------------------------------------------------------- npsd's views

class Gw(GwBase):
    """npsd as the checks read it: NAT and DS-Lite views."""

    def all_drops(self):
        return {r["reason"]: int(r["packets"]) for r in rows(self.n.ok("show", "drops"), "drops")}

    def nat_stats(self):
        return counters(self.n.ok("nat", "show", "stats"))

    def dslite_stats(self):
        j = self.n.ctl("dslite", "show", "stats")
        if j.get("status") != 0:
            raise AssertionError("npsctl dslite show stats: %s (the AFTR's counters are not shown)" % j.get("error"))
        return counters(j)

    def sessions(self, *filt):
        return rows(self.n.ok("nat", "show", "sessions", "limit", 100000, *filt), "sessions")

    def subscribers(self, *filt):
        return rows(self.n.ok("nat", "show", "subscribers", "limit", 100000, *filt), "subscribers")

    def addresses(self):
        return rows(self.n.ok("nat", "show", "pools"), "addresses")


def ep(text):
    """"ADDR:PORT" or "[B4]ADDR:PORT" -> (ADDR, PORT) of the IPv4 endpoint."""
    text = str(text)
    if "]" in text:
        text = text.split("]", 1)[1]
    a, _, p = text.rpartition(":")
    try:
        return a, int(p)
    except ValueError:
        return a, None


def in_ranges(port, ranges_text):
    """Is port in one of "lo-hi,lo-hi"?"""
    for r in str(ranges_text).split(","):
        lo, _, hi = r.partition("-")
        if lo.strip().isdigit() and hi.strip().isdigit() and int(lo) <= port <= int(hi):
            return True
    return False


def delta(after, before, *names):
    return {n: after.get(n, 0) - before.get(n, 0) for n in names}


def unpack_icmp_mtu(icmp):
    """Next-hop MTU of an ICMP fragmentation-needed (scapy ICMP layer)."""
    v = getattr(icmp, "nexthopmtu", None)
    if v is None:
        v = struct.unpack("!H", bytes(icmp)[6:8])[0]
    return int(v)
