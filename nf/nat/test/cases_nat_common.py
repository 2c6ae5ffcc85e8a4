# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the NAT44 and DS-Lite pcap cases (no cases here): topology, config text, frames, the expected
translations (built from scratch by scapy, so every checksum of an expected frame is a full recomputation), the
NAT counter and session views, and a plan runner.

Topology: every interface on p0 (one input pcap, so the worker reads a conversation's frames in order), one VRF
each.

  inside t1   A 10.0.0.2, A2 10.0.0.3, A3 10.0.0.4   --- p0 untagged  iface a     vrf t1       10.0.0.1/24
  internet    I 203.0.113.2, I2 203.0.113.3,
              upstream gateway U 203.0.113.254        --- p0 VLAN 100  iface a100  vrf internet 203.0.113.1/24
  inside t2   B 10.0.0.2 (same as A), B2 10.0.0.3     --- p0 VLAN 300  iface a300  vrf t2       10.0.0.1/24
  access      B4s 2001:db8:4::10, ::11, ::20 (unknown) --- p0 VLAN 400 iface a400  vrf access   2001:db8:4::1/64

  t1, t2: 0.0.0.0/0 leaked to internet; internet: 0.0.0.0/0 via U (the pool is not routed locally: a packet to a
  public address that NAT does not take goes on to U, as any transit packet would).
  NAT pool "pub" 198.51.100.1 (one address unless a case says otherwise) in internet; tenants t1 and t2 use it.
  DS-Lite AFTR 2001:db8:ffff::1 (transport VRF access, vrf internet), pool "ds" 198.51.100.8, B4 prefix
  2001:db8:4::10/127 (::10 and ::11; ::20 is an unknown B4).

With several workers every frame enters one rx queue (order kept): that of a worker which does not own the
subscriber of host A, so its flows are handed over (nat_sub_owner() is modelled only to pick that queue).
"""
import json
import os
import re
import socket
import struct
import time
from collections import Counter

from harness import PORT_RX_BURST, REPO, CaseFail, Raw, csum  # noqa
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP  # noqa
from scapy.layers.inet6 import IPv6ExtHdrFragment

# ---------------------------------------------------------------------------------------------------------------
# Topology

R_A, R_NET, R_T2, R_AC = "02:00:00:00:00:01", "02:00:00:00:01:00", "02:00:00:00:03:00", "02:00:00:00:04:00"
A, A2, A3 = "10.0.0.2", "10.0.0.3", "10.0.0.4"
B, B2 = "10.0.0.2", "10.0.0.3"
I, I2, U = "203.0.113.2", "203.0.113.3", "203.0.113.254"
P = "198.51.100.1"  # the pool's public address
PD = "198.51.100.8"  # DS-Lite's pool
AFTR = "2001:db8:ffff::1"
B4A, B4B, B4X = "2001:db8:4::10", "2001:db8:4::11", "2001:db8:4::20"
AC_ROUTER = "2001:db8:4::1"
R6 = "2001:db8:4::fe"  # a router of the access network (sends ICMPv6 errors about softwire packets)
H4 = "192.168.1.2"  # the inner (private) address behind a B4
NET_IF4 = "203.0.113.1"  # the router's address on a100: source of its ICMPv4 errors in internet

IFACES = {  # name: (vlan, vrf, router MAC, addresses)
    "a": (None, "t1", R_A, ["10.0.0.1/24"]),
    "a100": (100, "internet", R_NET, ["203.0.113.1/24"]),
    "a300": (300, "t2", R_T2, ["10.0.0.1/24"]),
    "a400": (400, "access", R_AC, ["2001:db8:4::1/64"]),
}
HOSTS = {  # (iface, address): MAC
    ("a", A): "02:00:00:00:00:a2", ("a", A2): "02:00:00:00:00:a3", ("a", A3): "02:00:00:00:00:a4",
    ("a100", I): "02:00:00:00:01:02", ("a100", I2): "02:00:00:00:01:03", ("a100", U): "02:00:00:00:01:fe",
    ("a300", B): "02:00:00:00:03:02", ("a300", B2): "02:00:00:00:03:03",
    ("a400", R6): "02:00:00:00:04:fe",
    ("a400", B4A): "02:00:00:00:04:10", ("a400", B4B): "02:00:00:00:04:11", ("a400", B4X): "02:00:00:00:04:20",
}
VRFS = [{"name": "t1", "id": 1}, {"name": "internet", "id": 2}, {"name": "t2", "id": 3}, {"name": "access", "id": 4}]
VRF_SLOT = {"t1": 0, "internet": 1, "t2": 2, "access": 3}  # model: slots in configuration order
ROUTES = [{"vrf": "t1", "prefix": "0.0.0.0/0", "target_vrf": "internet"},
          {"vrf": "t2", "prefix": "0.0.0.0/0", "target_vrf": "internet"},
          {"vrf": "internet", "prefix": "0.0.0.0/0", "via": U}]

NAT_COUNTER_NAMES = []  # from nf/nat/nat_counters.h
with open(os.path.join(REPO, "nf", "nat", "nat_counters.h")) as _f:
    NAT_COUNTER_NAMES += re.findall(r"^\s*X\((\w+),", _f.read(), re.M)


def interfaces():
    out = []
    for name, (vlan, vrf, mac, addrs) in IFACES.items():
        d = {"name": name, "device": "p0", "vrf": vrf, "mac": mac, "addresses": addrs}
        if vlan:
            d["vlan"] = vlan
        out.append(d)
    return out


def neighbours():
    return [{"interface": i, "ip": a, "mac": m} for (i, a), m in HOSTS.items()]


# ---------------------------------------------------------------------------------------------------------------
# Configuration text (libconfig)

def lc(v, ind=""):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, dict):
        return "{ " + " ".join("%s = %s;" % (k, lc(x, ind + "  ")) for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        if v and isinstance(v[0], dict):
            return "(\n" + ind + "  " + (",\n" + ind + "  ").join(lc(x, ind + "  ") for x in v) + "\n" + ind + ")"
        return "[ " + ", ".join(lc(x) for x in v) + " ]"
    raise TypeError(v)


def pool(name="pub", prefixes=(P + "/32",), ports=None, block_size=None):
    d = {"name": name, "vrf": "internet", "prefixes": list(prefixes)}
    if ports:
        d["ports"] = ports
    if block_size:
        d["block_size"] = block_size
    return d


FILTER = {"eif": "endpoint-independent", "adf": "address-dependent", "apdf": "address-and-port-dependent"}


def tenant(vrf="t1", pool_="pub", filtering=None, statics=None, **kw):
    d = {"vrf": vrf, "pool": pool_}
    if filtering:
        d["filtering"] = FILTER.get(filtering, filtering)
    d.update(kw)
    if statics:
        d["static"] = statics
    return d


def nat_section(pools=None, tenants=None, sessions=None, **top):
    d = {}
    if sessions:
        d["sessions"] = sessions
    d.update(top)
    d["pools"] = pools if pools is not None else [pool()]
    d["tenants"] = tenants if tenants is not None else [tenant()]
    return "nat: " + lc(d) + ";\n"


def aftr(name="aftr1", pool_="ds", **kw):
    d = {"name": name, "address": AFTR, "transport_vrf": "access", "vrf": "internet", "pool": pool_,
         "b4_prefixes": ["2001:db8:4::10/127"]}
    d.update(kw)
    if "filtering" in d:
        d["filtering"] = FILTER.get(d["filtering"], d["filtering"])
    return d


def dslite_section(aftrs=None, **top):
    d = dict(top)
    d["aftrs"] = aftrs if aftrs is not None else [aftr()]
    return "dslite: " + lc(d) + ";\n"


def nat_router(c, nat=None, dslite=None, extra_conf="", **kw):
    """The router of the topology above; nat / dslite: section texts (nat_section(), dslite_section())."""
    conf = (nat if nat is not None else nat_section()) + (dslite or "") + extra_conf
    return c.router(vrfs=VRFS, devices=[{"name": "p0"}], interfaces=interfaces(), routes=ROUTES,
                    neighbours=neighbours(), extra_conf=conf, **kw)


# ---------------------------------------------------------------------------------------------------------------
# Frames: from_X(l3) = a frame host -> router on interface X; to_X(l3) = the frame the router sends on X

def _iface_of(name):
    return IFACES[name]


def frame_in(iface, l3):
    vlan, _, rmac, _ = _iface_of(iface)
    src = l3.src if IP in l3 and IPv6 not in l3 else l3[IPv6].src if IPv6 in l3 else l3.src
    mac = HOSTS[(iface, src)]
    e = Ether(src=mac, dst=rmac)
    return (e / Dot1Q(vlan=vlan) / l3) if vlan else (e / l3)


def frame_out(iface, l3, dst_host=None):
    """l3: scapy layer or bytes (IPv4 or IPv6); sent to the neighbour dst_host (default: the packet's destination,
    else U on a100)."""
    vlan, _, rmac, _ = _iface_of(iface)
    b = bytes(l3)
    if dst_host is None:
        d = socket.inet_ntop(socket.AF_INET, b[16:20]) if b[0] >> 4 == 4 else socket.inet_ntop(socket.AF_INET6,
                                                                                               b[24:40])
        dst_host = d if (iface, d) in HOSTS else U
    mac = HOSTS[(iface, dst_host)]
    et = 0x0800 if b[0] >> 4 == 4 else 0x86DD
    h = bytes.fromhex(mac.replace(":", "")) + bytes.fromhex(rmac.replace(":", ""))
    if vlan:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", et) + b


def l2_iface(frame):
    """The interface of a frame the router sent (by its VLAN)."""
    b = bytes(frame)
    vlan = struct.unpack("!H", b[14:16])[0] & 0xFFF if b[12:14] == b"\x81\x00" else None
    return next(n for n, v in IFACES.items() if v[0] == vlan)


def from_t1(l3):
    return frame_in("a", l3)


def from_t2(l3):
    return frame_in("a300", l3)


def from_net(l3):
    return frame_in("a100", l3)


def from_b4(l3):
    return frame_in("a400", l3)


def to_t1(l3):
    return frame_out("a", l3)


def to_t2(l3):
    return frame_out("a300", l3)


def to_net(l3):
    return frame_out("a100", l3)


def to_access(l3):
    return frame_out("a400", l3)


def payload(n, seed=0):
    return Raw(bytes((seed + i * 7) & 0xFF for i in range(n)))


def ip4_of(frame):
    """The (outermost) IPv4 packet of a frame as bytes, trimmed to its total length (inner one of IPv4-in-IPv6)."""
    e = Ether(bytes(frame))
    ip = e[IP]
    b = bytes(ip)
    return b[:struct.unpack("!H", b[2:4])[0]]


def xl(l3, src=None, dst=None, sport=None, dport=None, icmp_id=None, ttl_dec=1):
    """The IPv4 packet l3 (scapy or bytes) as the NAT must send it: addresses / ports / ICMP identifier replaced,
    TTL decremented, and every checksum computed from scratch by scapy (a UDP checksum of 0 stays 0: RFC 768)."""
    b = bytes(l3)
    p = IP(b[:struct.unpack("!H", b[2:4])[0]])
    if src:
        p.src = src
    if dst:
        p.dst = dst
    p.ttl -= ttl_dec
    del p.chksum
    first = p.frag == 0
    if first and UDP in p and p.proto == 17:
        if sport is not None:
            p[UDP].sport = sport
        if dport is not None:
            p[UDP].dport = dport
        if p[UDP].chksum != 0:
            del p[UDP].chksum
    elif first and TCP in p and p.proto == 6:
        if sport is not None:
            p[TCP].sport = sport
        if dport is not None:
            p[TCP].dport = dport
        del p[TCP].chksum
    elif first and ICMP in p and p.proto == 1:
        if icmp_id is not None:
            p[ICMP].id = icmp_id
        del p[ICMP].chksum
    return IP(bytes(p))


def icmp_err(src, dst, quoted, type_=3, code=3, info=0, ttl=64):
    """IPv4 ICMP error (scapy builds the checksum over the quote as given)."""
    if type_ == 3 and code == 4:
        return IP(src=src, dst=dst, ttl=ttl) / ICMP(type=3, code=4, nexthopmtu=info) / Raw(bytes(quoted))
    return IP(src=src, dst=dst, ttl=ttl) / ICMP(type=type_, code=code) / Raw(bytes(quoted))


def xl_err(l3, src=None, dst=None, q_src=None, q_dst=None, q_sport=None, q_dport=None, q_id=None, ttl_dec=1,
           full=None):
    """An ICMP error translated: outer addresses, and the quoted packet's addresses and ports (or identifier);
    the quoted IPv4 header checksum, the quoted transport checksum and the ICMP checksum recomputed from scratch;
    the quoted TTL unchanged. full: the whole quoted datagram when the quote is cut short: its transport checksum
    (in the quote) must be what it is for the whole translated datagram (RFC 5508: updated, not left stale)."""
    b = bytes(l3)
    ip = IP(b)
    quote = bytes(ip[ICMP].payload)
    qi = IP(bytes(full) if full is not None else quote)
    qlen = qi.len
    if q_src:
        qi.src = q_src
    if q_dst:
        qi.dst = q_dst
    del qi.chksum
    whole = full is not None or len(quote) >= qlen
    if UDP in qi:
        if q_sport is not None:
            qi[UDP].sport = q_sport
        if q_dport is not None:
            qi[UDP].dport = q_dport
        if whole and qi[UDP].chksum:
            del qi[UDP].chksum
    elif TCP in qi:
        if q_sport is not None:
            qi[TCP].sport = q_sport
        if q_dport is not None:
            qi[TCP].dport = q_dport
        if whole:
            del qi[TCP].chksum
    elif ICMP in qi and q_id is not None:
        qi[ICMP].id = q_id
        if whole:
            del qi[ICMP].chksum
    nq = bytes(qi)[:len(quote)]
    out = IP(src=src or ip.src, dst=dst or ip.dst, ttl=ip.ttl - ttl_dec, id=ip.id, tos=ip.tos, flags=ip.flags) / \
        ICMP(type=ip[ICMP].type, code=ip[ICMP].code, unused=ip[ICMP].unused) / Raw(nq)
    return IP(bytes(out))


def checksums_ok(l3):
    """Every checksum of an IPv4 packet (bytes) right: header, transport (TCP/UDP over the pseudo-header, ICMP),
    and for an ICMP error the quoted header's and, when the quote holds the whole quoted datagram, its transport
    checksum. Returns a list of problems."""
    probs = []
    b = bytes(l3)
    ihl = (b[0] & 0xF) * 4
    if csum(b[:ihl]) != 0:
        probs.append("IPv4 header checksum")
    proto = b[9]
    l4 = b[ihl:struct.unpack("!H", b[2:4])[0]]
    frag = struct.unpack("!H", b[6:8])[0]
    if frag & 0x3FFF:
        return probs  # a fragment: its transport checksum covers the whole datagram
    ph = b[12:20] + struct.pack("!BBH", 0, proto, len(l4))
    if proto == 6 and csum(ph + l4) != 0:
        probs.append("TCP checksum")
    if proto == 17 and l4[6:8] != b"\0\0" and csum(ph + l4) != 0:
        probs.append("UDP checksum")
    if proto == 1:
        if csum(l4) != 0:
            probs.append("ICMP checksum")
        if l4[0] in (3, 4, 5, 11, 12) and len(l4) >= 28:
            q = l4[8:]
            qihl = (q[0] & 0xF) * 4
            if csum(q[:qihl]) != 0:
                probs.append("quoted IPv4 header checksum")
            qlen = struct.unpack("!H", q[2:4])[0]
            if len(q) >= qlen and q[9] in (6, 17):
                ql4 = q[qihl:qlen]
                qph = q[12:20] + struct.pack("!BBH", 0, q[9], len(ql4))
                if not (q[9] == 17 and ql4[6:8] == b"\0\0") and csum(qph + ql4) != 0:
                    probs.append("quoted %s checksum" % ("TCP" if q[9] == 6 else "UDP"))
    return probs


# ---------------------------------------------------------------------------------------------------------------
# Models (only used to choose rx queues and ports so that hand-off and port preservation are exercised)

def nat_mix32(a, b):
    x = (((a << 32) | b) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    return ((x >> 32) ^ x) & 0xFFFFFFFF


def sub_owner(vrf, addr, n_workers):
    """nat_sub_owner(realm, inside address) % n_workers (nf/nat/nat_int.h) for a NAT44 subscriber."""
    a = struct.unpack("!I", socket.inet_aton(addr))[0]
    return (nat_mix32(VRF_SLOT[vrf], a) >> 8) % n_workers


def block_owner(port, n_workers, port_lo=1024, block_size=512):
    return ((port - port_lo) // block_size) % n_workers


def pres_port(c, vrf, addr, base, port_lo=1024, block_size=512):
    """A port >= base in a block the subscriber's worker owns (so the engine can preserve it)."""
    w = sub_owner(vrf, addr, c.workers)
    p = base
    while block_owner(p, c.workers, port_lo, block_size) != w:
        p += block_size
    return p


def crc32c(data, crc):
    """CRC32-C as rte_hash_crc computes it (SSE4.2 instruction): reflected, no inversion."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def b4_owner(b4, n_workers):
    """dslite_owner(B4 address) % n_workers (nf/dslite/dslite_int.h)."""
    return crc32c(socket.inet_pton(socket.AF_INET6, b4), 0x64736C74) % n_workers


def b4_port(c, b4, base, port_lo=1024, block_size=512):
    """A port >= base in a block the B4's worker owns (so the engine can keep it)."""
    w = b4_owner(b4, c.workers)
    p = base
    while block_owner(p, c.workers, port_lo, block_size) != w:
        p += block_size
    return p


def input_queue(c, vrf="t1", addr=A):
    return (sub_owner(vrf, addr, c.workers) + 1) % c.workers


# ---------------------------------------------------------------------------------------------------------------
# Control-socket views

def table_rows(d, *names):
    """Rows of the first table of reply data d named one of names (else the only table)."""
    if isinstance(d, dict):
        for n in names:
            if n in d:
                return d[n]
        tabs = [v for v in d.values() if isinstance(v, list)]
        if len(tabs) == 1:
            return tabs[0]
    return d if isinstance(d, list) else []


def nat_counters(r, fn="nat"):
    """{counter: value} of `nat show stats` (or `dslite show stats`), summed over the workers."""
    d = r.ctl_ok(fn, "show", "stats")
    out = {}
    for v in d.values():
        if isinstance(v, list):
            for x in v:
                if isinstance(x, dict) and "counter" in x and "value" in x:
                    out[x["counter"]] = int(x["value"])
    return out


DSLITE_COUNTER_NAMES = []  # from nf/dslite/dslite_counters.h
with open(os.path.join(REPO, "nf", "dslite", "dslite_counters.h")) as _f:
    DSLITE_COUNTER_NAMES += re.findall(r"^\s*X\((\w+),", _f.read(), re.M)


def expect_dslite(c, counts, got):
    """counts: {counter: n}; every other counter of dslite_counters.h must be 0 (hand-off: in == out)."""
    for k in counts:
        if k not in DSLITE_COUNTER_NAMES:
            c.fail("DS-Lite counter %s does not exist (dslite_counters.h: %s)" % (k, DSLITE_COUNTER_NAMES))
    for k in DSLITE_COUNTER_NAMES:
        if k not in got:
            c.fail("dslite show stats lacks counter %s (got %s)" % (k, sorted(got)))
            continue
        if k in ("handoff_out", "handoff_in") and k not in counts:
            if c.workers == 1:
                c.check(got[k] == 0, "DS-Lite counter %s = %d with one worker" % (k, got[k]))
            continue
        c.check(got[k] == counts.get(k, 0), "DS-Lite counter %s = %d, expected %d" % (k, got[k], counts.get(k, 0)))
    if c.workers > 1:
        c.check(got.get("handoff_out") == got.get("handoff_in"), "DS-Lite hand-off out %s != in %s"
                % (got.get("handoff_out"), got.get("handoff_in")))


def expect_nat(c, counts, got, drops=None):
    """counts: {counter: n}; every other counter of nat_counters.h must be 0. Hand-off: in == out (0 with one
    worker). log_written, when not given: one record per block allocated or released and per quota or exhaustion
    drop (the cases stay under log_rate)."""
    counts = dict(counts)
    drops = drops or {}
    if "log_written" not in counts:
        counts["log_written"] = (counts.get("blocks_allocated", 0) + counts.get("blocks_released", 0) +
                                 sum(drops.get(k, 0) for k in ("nat_quota_blocks", "nat_quota_sessions",
                                                               "nat_pool_exhausted")))
    for k in counts:
        if k not in NAT_COUNTER_NAMES:
            c.fail("NAT counter %s does not exist (nat_counters.h: %s)" % (k, NAT_COUNTER_NAMES))
    for k in NAT_COUNTER_NAMES:
        if k not in got:
            c.fail("nat show stats lacks counter %s (got %s)" % (k, sorted(got)))
            continue
        if k in ("handoff_out", "handoff_in") and k not in counts:
            if c.workers == 1:
                c.check(got[k] == 0, "NAT counter %s = %d with one worker" % (k, got[k]))
            continue
        exp = counts.get(k, 0)
        c.check(got[k] == exp, "NAT counter %s = %d, expected %d" % (k, got[k], exp))
    if c.workers > 1:
        c.check(got.get("handoff_out") == got.get("handoff_in"), "hand-off out %s != in %s"
                % (got.get("handoff_out"), got.get("handoff_in")))


def _norm(s):
    return str(s).lower().replace("-", "_").replace(" ", "_")


def field(row, *names):
    for n in names:
        if n in row:
            return row[n]
    return None


def nat_sessions(r, *filt):
    return table_rows(r.ctl_ok("nat", "show", "sessions", *filt), "sessions")


def nat_subscribers(r, *filt):
    return table_rows(r.ctl_ok("nat", "show", "subscribers", *filt), "subscribers", "blocks")


def ep(row, *prefixes):
    """(address, port) of a session row's endpoint column ("addr:port"; DS-Lite inside: "[b4]addr:port")."""
    for pre in prefixes:
        a = field(row, pre)
        if a is None:
            continue
        a = str(a)
        if "]" in a:
            a = a.split("]", 1)[1]
        addr, _, port = a.rpartition(":")
        return addr, int(port)
    return None, None


def b4_of(row):
    """The B4 of a DS-Lite session row ("[b4]addr:port"), None for NAT44."""
    a = str(field(row, "inside"))
    return a[1:a.index("]")] if a.startswith("[") else None


def find_sessions(rows, proto=None, inside=None, public=None, remote=None):
    """Rows whose inside / public / remote endpoints (addr, port) match (None: any)."""
    out = []
    for x in rows:
        if proto is not None and _norm(field(x, "proto", "protocol")) != _norm(proto):
            continue
        if inside is not None and ep(x, "inside") != inside:
            continue
        if public is not None and ep(x, "outside") != public:
            continue
        if remote is not None and ep(x, "remote") != remote:
            continue
        out.append(x)
    return out


class Subscriber:
    """A control-socket connection subscribed to events (the framing of lib/ctlproto: "NPSGW/1 STATUS LEN\\n")."""

    def __init__(self, path, words):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.s.sendall((words + "\n").encode())
        kind, status, body = self.frame()
        if kind != "reply" or status != 0:
            raise CaseFail("%s: %s %s %r" % (words, kind, status, body))

    def frame(self, timeout=5):
        deadline = time.time() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                head = self.buf[:nl].decode().split(" ")
                n = int(head[2])
                if len(self.buf) >= nl + 1 + n:
                    body = self.buf[nl + 1:nl + 1 + n]
                    self.buf = self.buf[nl + 1 + n:]
                    return ("event", None, body) if head[1] == "EVENT" else ("reply", int(head[1]), body)
            left = deadline - time.time()
            if left <= 0:
                return None, None, None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None, None, None
            if not data:
                raise CaseFail("subscriber connection closed")
            self.buf += data

    def events(self, n, timeout=5):
        got = []
        deadline = time.time() + timeout
        while len(got) < n and time.time() < deadline:
            kind, _, body = self.frame(max(0.05, deadline - time.time()))
            if kind == "event":
                got.append(json.loads(body))
        return got

    def close(self):
        self.s.close()


# ---------------------------------------------------------------------------------------------------------------
# A run's plan: p0 input frames in order, the p0 output expected, drops and NAT counters

SUB1 = {"subscribers_created": 1, "blocks_allocated": 1}  # a subscriber's first flow


def NEW(preserved=True, **kw):
    """Counters of an outbound packet that opens a new mapping and session (plus kw)."""
    d = Counter(in2out=1, sessions_created=1, mappings_created=1)
    d["port_preserved" if preserved else "port_changed"] += 1
    d.update(kw)
    return d


def DNEW(preserved=True, **kw):
    """A softwire packet opening a new mapping and session (DS-Lite: the engine counts, not nat4_in2out)."""
    d = NEW(preserved, **kw)
    del d["in2out"]
    return d


def SESS(**kw):
    """An outbound packet opening a new session on an existing mapping."""
    d = Counter(in2out=1, sessions_created=1)
    d.update(kw)
    return d


BARRIER_FRAMES = PORT_RX_BURST + 8  # more than an rx burst


def barrier_frame():
    """A frame dropped at once (eth_unknown_vlan): fillers that put what follows in a later rx burst."""
    return Ether(src=HOSTS[("a", A)], dst=R_A) / Dot1Q(vlan=999) / IP(src=A, dst=I) / UDP(sport=9, dport=9)


def _direction(frame):
    """Which node translates a frame: "out" (arrives on the internet side: nat4_out2in on the IPv4 input arc) or
    "in" (inside or softwire: nat4_in2out on the forward arc, dslite_decap on the IPv6 input arc)."""
    b = bytes(frame)
    vlan = struct.unpack("!H", b[14:16])[0] & 0xFFF if b[12:14] == b"\x81\x00" else None
    return "out" if vlan == 100 else "in:%s" % vlan


class Plan:
    """Input frames in order with what each must give. Frames of one rx burst go through the graph node by node:
    nat4_out2in (IPv4 input arc) runs before nat4_in2out (forward arc, after the route lookup) in the same walk, so a
    reply in the burst of its request would be looked up before the request made the mapping (on the wire a reply
    never arrives before its request left). When the translating node changes, a barrier of dropped filler frames
    puts the next frame in a later burst (counted: eth_unknown_vlan)."""

    def __init__(self, barriers=True):
        self.barriers = barriers
        self.last_dir = None
        self.frames = []
        self.out = []
        self.unknown = 0  # output frames the case checks itself (rest callback of run_plan)
        self.drops = Counter()
        self.nat = Counter()
        self.ds = None  # Counter of DS-Lite counters when the case checks them (dslite=...)

    def fwd(self, frame, expected, counters=None, **kw):
        """frame must come out as expected (bytes, a list of frames, or None: one frame the case checks itself);
        counters: NAT counters it adds."""
        self._add(frame)
        if expected is None:
            self.unknown += 1
        else:
            self.out += expected if isinstance(expected, list) else [expected]
        self._count(counters, kw)
        # a packet out2in sent into a NAT44 tenant crosses that VRF's forward arc, where nat4_in2out lets it pass
        # (it did not come in on an interface of the VRF): counted in2out_passed
        n = dict(counters or {}, **kw).get("out2in", 0)
        if n and expected is not None and not isinstance(expected, list) and l2_iface(expected) in ("a", "a300"):
            self.nat["in2out_passed"] += n

    def _add(self, frame):
        d = _direction(frame)
        if self.barriers and self.last_dir is not None and d != self.last_dir:
            self.barrier()
        self.last_dir = d
        self.frames.append(frame)

    def barrier(self):
        self.frames += [barrier_frame()] * BARRIER_FRAMES
        self.drops["eth_unknown_vlan"] += BARRIER_FRAMES

    def drop(self, frame, reason, counters=None, **kw):
        self._add(frame)
        if reason:
            self.drops[reason] += 1
        self._count(counters, kw)

    def _count(self, counters, kw):
        kw = dict(kw)
        ds = kw.pop("ds", None)
        if ds:
            if self.ds is None:
                self.ds = Counter()
            self.ds.update(ds)
        self.nat.update(counters or {})
        self.nat.update(kw)

    def start(self, c, r, queue=None):
        if c.workers > 1 and queue is None and self.ds is not None:
            queue = (b4_owner(B4A, c.workers) + 1) % c.workers
        if c.workers > 1:
            return r.start({"p0": {input_queue(c) if queue is None else queue: self.frames}})
        return r.start({"p0": self.frames})


def run_plan(c, r, p, after=None, wait=None, queue=None, rest=None):
    """Feed the plan's frames, then check everything: the output (exact multiset; the frames left over are given
    to rest(frames), which must accept exactly p.unknown of them), drops (others 0), NAT counters (others 0),
    every checksum of every IPv4 output frame. wait: (what, predicate on the stats); after(r, natc) runs while the
    daemon is up; its result is returned."""
    p.start(c, r, queue)
    s = r.wait_for(wait[0], wait[1]) if wait else r.last_stats
    natc = nat_counters(r)
    dsc = nat_counters(r, "dslite") if p.ds is not None else None
    res = after(r, natc) if after else None
    r.stop()
    got = list(r.outputs.get("p0", []))
    left = list(got)
    missing = []
    for e in p.out:
        e = bytes(e)
        if e in left:
            left.remove(e)
        else:
            missing.append(e)
    if missing or len(left) != p.unknown:
        # the harness's report: closest frame and first difference (frames for the case's own checks are listed
        # as unexpected)
        r.expect_output("p0", p.out)
        c.fail("%d output frames missing, %d left over (%d expected for the case's own checks)"
               % (len(missing), len(left), p.unknown))
    elif rest is not None:
        rest(left)
    for g in got:
        e = Ether(g)
        if IP in e and IPv6ExtHdrFragment not in e:  # an IPv6 fragment holds part of the inner packet only
            for prob in checksums_ok(ip4_of(g)):
                c.fail("output %s: %s wrong" % (e.summary(), prob))
    r.expect_counters(s, drops=dict(p.drops), totals={"tx": len(p.out) + p.unknown, "punted": 0})
    expect_nat(c, dict(p.nat), natc, drops=p.drops)
    if p.ds is not None:
        expect_dslite(c, dict(p.ds), dsc)
    return res


def learn(c, build, frames, queue=None):
    """Run a router (build(c) makes it) on frames alone and return its p0 output: for the public ports the engine
    chooses when it cannot keep the inside one (the allocation is deterministic for the same input)."""
    r = build(c)
    if c.workers > 1:
        r.start({"p0": {input_queue(c) if queue is None else queue: frames}})
    else:
        r.start({"p0": frames})
    r.stop()
    c.routers.remove(r)
    return r.outputs.get("p0", [])


def ip4_frags(l3, ranges, ident):
    """IPv4 fragments of datagram l3 (checksums computed on the whole): ranges [(offset, length[, more])] in bytes
    of the IP payload; MF set unless the range reaches the end (or as the third item says)."""
    b = bytes(l3)
    b = b[:struct.unpack("!H", b[2:4])[0]]
    ihl = (b[0] & 0xF) * 4
    data = b[ihl:]
    ip = IP(b[:ihl])
    out = []
    for rg in ranges:
        off, ln = rg[0], rg[1]
        more = rg[2] if len(rg) > 2 else off + ln < len(data)
        out.append(IP(src=ip.src, dst=ip.dst, id=ident, proto=ip.proto, ttl=ip.ttl, tos=ip.tos,
                      flags=(1 if more else 0) | (int(ip.flags) & 2), frag=off // 8) / Raw(data[off:off + ln]))
    return out


def ip6_frags(l3, ranges, ident, nh=None):
    """IPv6 fragments of l3 (no extension header): a fragment header after the fixed one."""
    b = bytes(l3)
    nh = b[6] if nh is None else nh
    data = b[40:]
    ip = IPv6(b[:40])
    out = []
    for rg in ranges:
        off, ln = rg[0], rg[1]
        more = rg[2] if len(rg) > 2 else off + ln < len(data)
        out.append(IPv6(src=ip.src, dst=ip.dst, hlim=ip.hlim, tc=ip.tc, fl=ip.fl) /
                   IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=1 if more else 0, id=ident) / Raw(data[off:off + ln]))
    return out
