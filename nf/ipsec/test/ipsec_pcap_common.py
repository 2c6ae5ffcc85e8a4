# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the IPsec pcap cases (no cases here): topology, tunnels and their scapy peers, configuration
text, frames, the IPsec counter views and a plan runner that decrypts what npsd sends.

Topology: everything on p0 (one input pcap: a worker reads the frames in the order given).

  tenant host T  10.1.0.2 2001:db8:1::2     --- p0 untagged  iface lan   vrf tenant    10.1.0.1/24 2001:db8:1::1/64
  peers P<i>     192.0.2.<10+i>, 2001:db8:ff::<10+i>
                 (a second address .<100+i> / ::1<i>:1 for roaming)
                                            --- p0 VLAN 100  iface wan   vrf underlay  192.0.2.1/24 2001:db8:ff::1/64
  a host X       198.51.100.2 2001:db8:ee::2 --- p0 VLAN 200 iface other vrf elsewhere 198.51.100.1/24 2001:db8:ee::1/64
                 (a transport VRF no tunnel uses: ESP arriving there is esp_wrong_vrf)

  Tunnel i: interface "t<i>" (kind ipsec, vrf tenant, mtu 1400 unless said) from 192.0.2.1 / 2001:db8:ff::1 to peer
  P<i>; the tenant routes 10.9.<i>.0/24 and 2001:db8:9:<i>::/64 (site i's prefixes) into it.
"""
import os
import re
import struct
import sys
from collections import Counter

from harness import PORT_RX_BURST, REPO, CaseFail, Raw, csum  # noqa: F401
from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP  # noqa: F401
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6ExtHdrFragment  # noqa: F401

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer import SA, Tunnel, PeerError, parse_outer, esp_overhead, ALGS  # noqa: E402,F401

R_LAN, R_WAN, R_OTHER = "02:00:00:00:00:01", "02:00:00:00:01:00", "02:00:00:00:02:00"
H_T, H_X = "02:00:00:00:00:aa", "02:00:00:00:02:aa"
T4, T6 = "10.1.0.2", "2001:db8:1::2"
LAN4, LAN6 = "10.1.0.1", "2001:db8:1::1"
GW4, GW6 = "192.0.2.1", "2001:db8:ff::1"
X4, X6 = "198.51.100.2", "2001:db8:ee::2"
OTHER4, OTHER6 = "198.51.100.1", "2001:db8:ee::1"
VLAN_WAN, VLAN_OTHER = 100, 200
VRFS = [{"name": "tenant", "id": 1, "fib": "compact"}, {"name": "underlay", "id": 2, "fib": "compact"},
        {"name": "elsewhere", "id": 3, "fib": "compact"}]
DEFAULT_MTU = 1400

DROP_NAMES = []  # nf/ipsec/ipsec_drops.h
COUNTER_NAMES = []  # nf/ipsec/ipsec_counters.h


def _load_names():
    for path, out in (("ipsec_drops.h", DROP_NAMES), ("ipsec_counters.h", COUNTER_NAMES)):
        try:
            with open(os.path.join(REPO, "nf", "ipsec", path)) as f:
                out += re.findall(r"^\s*X\((\w+),", f.read(), re.M)
        except OSError:
            pass


_load_names()


def peer_addr(i, v6, alt=False):
    if v6:
        return "2001:db8:ff::%x" % (0x10 + i) if not alt else "2001:db8:ff::1%x:1" % i
    return "192.0.2.%d" % (10 + i) if not alt else "192.0.2.%d" % (100 + i)


def peer_mac(i, alt=False):
    return "02:00:00:00:%02x:%02x" % (0x11 if alt else 0x10, i)


def site4(i, host=2):
    return "10.9.%d.%d" % (i, host)


def site6(i, host=2):
    return "2001:db8:9:%x::%x" % (i, host)


# ---------------------------------------------------------------------------------------------------------------
# libconfig text

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
        if not v:
            return "( )"
        return "[ " + ", ".join(lc(x) for x in v) + " ]"
    raise TypeError(v)


# ---------------------------------------------------------------------------------------------------------------
# Tunnels

class Tun:
    """Tunnel i as both ends see it: npsd's configuration (interface, routes, ipsec section entry) and the peer
    (peer.Tunnel: its to_gw SA is npsd's inbound SA, from_gw npsd's outbound one)."""

    def __init__(self, i, alg="aes-gcm-128", v6=False, esn=False, udp=False, remote_port=4500, peer_port=4500,
                 mtu=DEFAULT_MTU, mss=0, window=None, follow_peer=False, out_sa=True, in_sa=True, spi_in=None,
                 spi_out=None, conf=True, extra_sas=(), sa_extra=None):
        self.i, self.alg, self.v6, self.esn, self.udp = i, alg, v6, esn, udp
        self.name = "t%d" % i
        self.remote_port, self.mtu, self.mss, self.window, self.follow_peer = remote_port, mtu, mss, window, follow_peer
        self.local = GW6 if v6 else GW4
        self.remote = peer_addr(i, v6)
        self.mac = peer_mac(i)
        self.spi_in = spi_in if spi_in is not None else 0x1000 + i * 17  # parity (owner worker) alternates
        self.spi_out = spi_out if spi_out is not None else 0x2000 + i * 16
        self.in_sa = SA(alg, self.spi_in, esn=esn) if in_sa else None
        self.out_sa = SA(alg, self.spi_out, esn=esn) if out_sa else None
        self.sa_extra = sa_extra or {}
        self.extra_sas = list(extra_sas)  # (SA, direction)
        self.conf_tunnel = conf
        # the peer: npsd's inbound SA is the one it encrypts with; it sends from port peer_port to 4500 (a NAT in
        # between would make peer_port what npsd sees, and npsd answers to remote_port)
        self.peer = Tunnel(self.remote, self.local, self.in_sa or SA(alg, self.spi_in, esn=esn), self.out_sa,
                           udp_encap=udp, peer_port=peer_port, gw_port=4500)

    def interface(self):
        return {"name": self.name, "kind": "ipsec", "vrf": "tenant", "mtu": self.mtu}

    def routes(self):
        return [{"vrf": "tenant", "prefix": "10.9.%d.0/24" % self.i, "dev": self.name},
                {"vrf": "tenant", "prefix": "2001:db8:9:%x::/64" % self.i, "dev": self.name}]

    def neighbours(self):
        return [{"interface": "wan", "ip": self.remote, "mac": self.mac},
                {"interface": "wan", "ip": peer_addr(self.i, self.v6, alt=True), "mac": peer_mac(self.i, True)}]

    def section(self):
        sas = []
        if self.in_sa:
            sas.append(self.in_sa.conf("in", window=self.window, **self.sa_extra.get("in", {})))
        for sa_, d in self.extra_sas:
            sas.append(sa_.conf(d))
        if self.out_sa:
            sas.append(self.out_sa.conf("out", **self.sa_extra.get("out", {})))
        t = {"interface": self.name, "transport_vrf": "underlay", "local": self.local, "remote": self.remote,
             "udp_encap": self.udp}
        if self.udp:
            t["remote_port"] = self.remote_port
        t["follow_peer"] = self.follow_peer
        if self.mss:
            t["mss_clamp"] = self.mss
        t["sas"] = sas
        return t

    # -- frames
    def esp_in(self, inner, seq=None, src=None, mac=None, vlan=VLAN_WAN, **kw):
        """The frame peer -> npsd carrying inner (scapy) encrypted by scapy, seq (default: the next)."""
        outer = self.peer.encrypt(inner, seq=seq, src=src, **kw)
        return wan_frame(outer, mac or self.mac, vlan)

    def raw_in(self, esp=None, src=None, mac=None, vlan=VLAN_WAN, **kw):
        """A hand-made ESP (bytes from SA.seal) or UDP payload (udp_payload=...) from the peer."""
        return wan_frame(self.peer.encrypt_raw(esp, src=src, **kw), mac or self.mac, vlan)

    def seal(self, seq, inner, nh=None, **kw):
        b = bytes(inner)
        return self.peer.to_gw.seal(seq, b, nh if nh is not None else (4 if b[0] >> 4 == 4 else 41), **kw)


def wan_frame(l3, src_mac, vlan=VLAN_WAN):
    l3 = bytes(l3)
    et = 0x0800 if l3[0] >> 4 == 4 else 0x86DD
    e = Ether(src=src_mac, dst=R_WAN if vlan == VLAN_WAN else R_OTHER, type=0x8100)
    return bytes(e / Dot1Q(vlan=vlan, type=et) / Raw(l3))


def from_tenant(l3):
    return bytes(Ether(src=H_T, dst=R_LAN) / l3)


def fwd_l3(l3):
    """An IP packet (scapy or bytes) as the router forwards it: TTL / hop limit one less (checksum updated)."""
    b = bytearray(bytes(l3))
    if b[0] >> 4 == 4:
        b = b[:struct.unpack("!H", b[2:4])[0]]
        b[8] -= 1
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", csum(bytes(b[:(b[0] & 0xF) * 4])))
    else:
        b = b[:40 + struct.unpack("!H", b[4:6])[0]]
        b[7] -= 1
    return bytes(b)


def to_tenant(l3, ttl_dec=True):
    """The frame npsd sends to host T with l3 (TTL decremented unless ttl_dec=False)."""
    b = fwd_l3(l3) if ttl_dec else bytes(l3)
    et = 0x0800 if b[0] >> 4 == 4 else 0x86DD
    return bytes.fromhex(H_T.replace(":", "")) + bytes.fromhex(R_LAN.replace(":", "")) + struct.pack("!H", et) + b


def payload(n, seed=0):
    return Raw(bytes((seed + i * 7) & 0xFF for i in range(n)))


def inner4(i, n=0, size=40, dst_site=True, **kw):
    """A tenant <-> site i IPv4 UDP packet (dst_site: tenant -> site, else site -> tenant)."""
    src, dst = (T4, site4(i)) if dst_site else (site4(i), T4)
    return IP(src=src, dst=dst, id=0x100 + n, ttl=64, **kw) / UDP(sport=1000 + n, dport=7) / payload(size, n)


def inner6(i, n=0, size=40, dst_site=True):
    src, dst = (T6, site6(i)) if dst_site else (site6(i), T6)
    return IPv6(src=src, dst=dst, hlim=64) / UDP(sport=2000 + n, dport=7) / payload(size, n + 100)


# ---------------------------------------------------------------------------------------------------------------
# The router

def interfaces(tuns, extra=()):
    out = [{"name": "lan", "device": "p0", "vrf": "tenant", "mac": R_LAN, "addresses": [LAN4 + "/24", LAN6 + "/64"]},
           {"name": "wan", "device": "p0", "vlan": VLAN_WAN, "vrf": "underlay", "mac": R_WAN,
            "addresses": [GW4 + "/24", GW6 + "/64"]},
           {"name": "other", "device": "p0", "vlan": VLAN_OTHER, "vrf": "elsewhere", "mac": R_OTHER,
            "addresses": [OTHER4 + "/24", OTHER6 + "/64"]}]
    return out + [t.interface() for t in tuns] + list(extra)


def ipsec_section(tuns, **top):
    d = dict(top)
    d["tunnels"] = [t.section() for t in tuns if t.conf_tunnel]
    return "ipsec: " + lc(d) + ";\n"


def ipsec_router(c, tuns, extra_ifaces=(), extra_routes=(), section=None, **kw):
    routes, neigh = [], [{"interface": "lan", "ip": T4, "mac": H_T}, {"interface": "lan", "ip": T6, "mac": H_T},
                         {"interface": "other", "ip": X4, "mac": H_X}, {"interface": "other", "ip": X6, "mac": H_X}]
    for t in tuns:
        routes += t.routes()
        neigh += t.neighbours()
    return c.router(vrfs=VRFS, devices=[{"name": "p0"}], interfaces=interfaces(tuns, extra_ifaces),
                    routes=routes + list(extra_routes), neighbours=neigh,
                    extra_conf=section if section is not None else ipsec_section(tuns), **kw)


def spi_owner(spi, workers):
    """The worker owning an inbound SA (spi % n_workers, docs of the design)."""
    return spi % workers


# ---------------------------------------------------------------------------------------------------------------
# npsd's IPsec views

def ipsec_counters(r):
    """{counter: value} of `ipsec show stats` summed over the workers (rows of counter / value)."""
    d = r.ctl_ok("ipsec", "show", "stats")
    out = Counter()

    def walk(v):
        if isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            if "counter" in v and "value" in v and isinstance(v["value"], int):
                out[v["counter"]] += v["value"]
            else:
                for x in v.values():
                    if isinstance(x, (list, dict)):
                        walk(x)
    walk(d)
    return dict(out)


def table(d, *names):
    if isinstance(d, dict):
        for n in names:
            if n in d and isinstance(d[n], list):
                return d[n]
        tabs = [v for v in d.values() if isinstance(v, list)]
        if len(tabs) == 1:
            return tabs[0]
    return d if isinstance(d, list) else []


def tunnel_rows(r):
    """`ipsec show tunnels` rows by interface name."""
    rows = table(r.ctl_ok("ipsec", "show", "tunnels"), "tunnels")
    return {x.get("interface", x.get("name")): x for x in rows}


def sa_rows(r, iface=None):
    return table(r.ctl_ok("ipsec", "show", "sas", *(("interface", iface) if iface else ())), "sas")


def field(row, *names):
    for n in names:
        if n in row:
            return row[n]
    raise KeyError("none of %s in %s" % (names, sorted(row)))


def expect_ipsec(c, counts, got, loose=None):
    """counts: {counter: n}; every other counter of ipsec_counters.h must be 0 (hand-off: in == out, any number
    with two workers unless given); loose: {counter: (lo, hi)} ranges instead."""
    loose = loose or {}
    for k, (lo, hi) in loose.items():
        v = got.get(k)
        c.check(v is not None and lo <= v <= hi, "IPsec counter %s = %s, expected %d..%d" % (k, v, lo, hi))
    for k in counts:
        if k not in COUNTER_NAMES:
            c.fail("IPsec counter %s does not exist (ipsec_counters.h: %s)" % (k, COUNTER_NAMES))
    for k in COUNTER_NAMES:
        if k not in got:
            c.fail("ipsec show stats lacks counter %s (got %s)" % (k, sorted(got)))
            continue
        if k in loose:
            continue
        if k in ("handoff_out", "handoff_in") and k not in counts:
            if c.workers == 1:
                c.check(got[k] == 0, "IPsec counter %s = %d with one worker" % (k, got[k]))
            continue
        c.check(got[k] == counts.get(k, 0), "IPsec counter %s = %d, expected %d" % (k, got[k], counts.get(k, 0)))
    if c.workers > 1:
        c.check(got.get("handoff_out") == got.get("handoff_in"), "IPsec hand-off out %s != in %s"
                % (got.get("handoff_out"), got.get("handoff_in")))


# ---------------------------------------------------------------------------------------------------------------
# A run's plan

BARRIER_FRAMES = PORT_RX_BURST + 8  # more than an rx burst


def barrier_frame():
    """A frame dropped at once (eth_unknown_vlan): fillers that put what follows in a later rx burst."""
    return bytes(Ether(src=H_T, dst=R_LAN) / Dot1Q(vlan=999) / IP(src=T4, dst=LAN4) / UDP(sport=9, dport=9))


class Plan:
    """Input frames in order and what each must give:
      plain(frame, expected_frame)  forwarded in the clear (exact bytes; None: nothing)
      esp(frame, tun, inner)        must leave as ESP of tunnel tun carrying inner (bytes, TTL already as expected);
                                    the peer decrypts it (its sequence numbers: 1, 2, ... of the SA)
      drop(frame, reason)           dropped with that reason
    counters: IPsec counters (ipsec show stats) the frame adds."""

    def __init__(self):
        self.frames = []
        self.out_plain = []
        self.out_esp = {}  # tunnel name -> [expected inner bytes]
        self.tuns = {}
        self.drops = Counter()
        self.ipsec = Counter()
        self.other = 0  # output frames the case checks itself
        self.absorbed = 0

    def _count(self, counters):
        self.ipsec.update(counters or {})

    def plain(self, frame, expected, counters=None):
        self.frames.append(bytes(frame))
        if expected is not None:
            self.out_plain += expected if isinstance(expected, list) else [expected]
        self._count(counters)

    def esp(self, frame, tun, inner, counters=None):
        self.frames.append(bytes(frame))
        self.tuns[tun.name] = tun
        self.out_esp.setdefault(tun.name, []).extend(inner if isinstance(inner, list) else [bytes(inner)])
        self._count(counters)

    def drop(self, frame, reason, counters=None):
        self.frames.append(bytes(frame))
        if reason:
            self.drops[reason] += 1
        self._count(counters)

    def absorb(self, frame, counters=None):
        self.frames.append(bytes(frame))
        self.absorbed += 1
        self._count(counters)

    def barrier(self):
        self.frames += [barrier_frame()] * BARRIER_FRAMES
        self.drops["eth_unknown_vlan"] += BARRIER_FRAMES

    def n_out(self):
        return len(self.out_plain) + sum(len(v) for v in self.out_esp.values()) + self.other


def split_output(frames):
    """(plain frames on lan/other, {peer dst IP: [outer l3 bytes]} of wan frames)."""
    plain, wan = [], []
    for f in frames:
        if f[12:14] == b"\x81\x00" and struct.unpack("!H", f[14:16])[0] & 0xFFF == VLAN_WAN:
            wan.append(f)
        else:
            plain.append(f)
    return plain, wan


def check_wan_frame(c, f, tun):
    """Ethernet + outer header of an ESP frame npsd sent to tunnel tun's peer; returns the outer l3 bytes."""
    src = ":".join("%02x" % x for x in f[6:12])
    et = struct.unpack("!H", f[16:18])[0]
    l3 = f[18:]
    c.check(src == R_WAN, "ESP frame source MAC %s, expected wan's %s" % (src, R_WAN))
    exp_et = 0x86DD if tun.v6 else 0x0800
    c.check(et == exp_et, "ESP frame ethertype %#x, expected %#x" % (et, exp_et))
    info = parse_outer(l3)
    c.check(info["hdr_ok"], "%s: outer IPv4 header checksum wrong" % tun.name)
    c.check(len(l3) == info["length"], "%s: frame carries %d bytes of L3, outer length says %d (padding?)"
            % (tun.name, len(l3), info["length"]))
    c.check(info["src"] == tun.local, "%s: outer source %s, expected %s" % (tun.name, info["src"], tun.local))
    c.check(info["ttl"] == 64, "%s: outer TTL / hop limit %d, expected 64" % (tun.name, info["ttl"]))
    if tun.udp:
        u = info["udp"]
        if not c.check(u is not None, "%s: udp_encap tunnel sent protocol %d, expected UDP" % (tun.name,
                                                                                            info["proto"])):
            return l3, info
        c.check(u["sport"] == 4500 and u["dport"] == tun.remote_port, "%s: UDP ports %d -> %d, expected 4500 -> %d"
                % (tun.name, u["sport"], u["dport"], tun.remote_port))
        c.check(u["len"] == info["length"] - (40 if tun.v6 else 20), "%s: UDP length %d" % (tun.name, u["len"]))
        if not tun.v6:
            c.check(u["csum"] == 0, "%s: UDP checksum %#x, expected 0 (RFC 3948 2.1)" % (tun.name, u["csum"]))
        elif c.check(u["csum"] != 0, "%s: UDP checksum 0 over IPv6 (RFC 8200 8.1 wants one)" % tun.name):
            from harness import ip6_b
            body = l3[40:info["length"]]
            ph = ip6_b(info["src"]) + ip6_b(info["dst"]) + struct.pack("!IxxxB", len(body), 17)
            c.check(csum(ph + body) == 0, "%s: UDP checksum over IPv6 wrong" % tun.name)
    else:
        c.check(info["proto"] == 50, "%s: outer protocol %d, expected ESP (50)" % (tun.name, info["proto"]))
    return l3, info


def check_esp_out(c, r, tun, expected_inners, wan_frames, start_seq=1, seqs=None, extra=0):
    """Every ESP frame npsd sent to tun's peer decrypts (the peer: scapy + strict trailer check) to one of
    expected_inners (multiset) and `extra` more (returned: the case checks them), with sequence numbers
    start_seq.. (or seqs), MAC of the peer. Removes the frames it used from wan_frames. Returns the inner packets
    not expected."""
    mine = []
    for f in list(wan_frames):
        l3 = f[18:]
        info = parse_outer(l3)
        if info.get("dst") in (tun.remote, peer_addr(tun.i, tun.v6, alt=True)) and \
                (info.get("esp") is not None and len(info["esp"]) >= 4 and
                 struct.unpack("!I", info["esp"][:4])[0] in ([tun.spi_out] + [s.spi for s, d in tun.extra_sas
                                                                               if d == "out"])):
            mine.append(f)
            wan_frames.remove(f)
    got_inners, got_seqs = [], []
    for f in mine:
        dmac = ":".join("%02x" % x for x in f[:6])
        l3, info = check_wan_frame(c, f, tun)
        c.check(dmac in (tun.mac, peer_mac(tun.i, True)), "%s: ESP frame to MAC %s, expected the peer's %s"
                % (tun.name, dmac, tun.mac))
        try:
            d = tun.peer.decrypt(l3)
        except PeerError as e:
            c.fail("%s: the peer cannot decrypt npsd's packet (%s): %s" % (tun.name, e, l3[:64].hex()))
            continue
        got_inners.append(d.inner)
        got_seqs.append(d.seq)
        itos = d.inner[1] if d.inner[0] >> 4 == 4 else ((struct.unpack("!I", d.inner[:4])[0] >> 20) & 0xFF)
        c.check(d.tos == itos, "%s: outer TOS / traffic class %#x, expected the inner one %#x (RFC 4301 5.1.2)"
                % (tun.name, d.tos, itos))
    exp = [bytes(x) for x in expected_inners]
    left = list(got_inners)
    for e in exp:
        if e in left:
            left.remove(e)
        else:
            from harness import frame_diff
            cand = [g for g in left if len(g) == len(e)]
            if cand:
                best = max(cand, key=lambda g: sum(1 for x, y in zip(g, e) if x == y))
                left.remove(best)
                c.fail("%s: decrypted inner packet differs: %s" % (tun.name, frame_diff(b"\0" * 14 + e,
                                                                                          b"\0" * 14 + best)))
            else:
                c.fail("%s: expected inner packet not sent through the tunnel: %s" % (tun.name, describe_l3(e)))
    if len(left) != extra:
        for g in left:
            c.fail("%s: unexpected packet through the tunnel: %s" % (tun.name, describe_l3(g)))
        c.fail("%s: %d packets not expected through the tunnel, %d were to be checked by the case" % (
            tun.name, len(left), extra))
    want = sorted(seqs) if seqs is not None else list(range(start_seq, start_seq + len(exp) + extra))
    c.check(sorted(got_seqs) == want, "%s: ESP sequence numbers %s, expected %s" % (tun.name, sorted(got_seqs)[:20],
                                                                                   want[:20]))
    return left


def describe_l3(b):
    try:
        return (IP(b) if b[0] >> 4 == 4 else IPv6(b)).summary() + " len=%d" % len(b)
    except Exception:  # noqa: BLE001
        return b[:32].hex()


def run_plan(c, r, p, queue=None, after=None, rest=None, ipsec=True, spread=False, loose=None):
    """Feed the plan's frames (with several workers: all on rx queue `queue`, default 0; spread=True: round robin
    over the queues), then check: the plain output exactly (multiset), every tunnel's ESP output decrypted by the
    peer, drops (others 0), IPsec counters (others 0), totals. after(r) runs while npsd is up; rest(plain_left,
    wan_left) gets the frames the plan did not expect (p.other of them)."""
    if c.workers > 1 and not spread:
        r.start({"p0": {queue or 0: p.frames}})
    else:
        r.start({"p0": p.frames})
    s = r.last_stats
    got_ipsec = ipsec_counters(r) if ipsec else None
    res = after(r) if after else None
    r.stop()
    out = list(r.outputs.get("p0", []))
    plain, wan = split_output(out)
    left = list(plain)
    for e in p.out_plain:
        e = bytes(e)
        if e in left:
            left.remove(e)
        else:
            from harness import frame_diff, describe
            cand = [g for g in left if len(g) == len(e)]
            if cand:
                best = max(cand, key=lambda g: sum(1 for x, y in zip(g, e) if x == y))
                left.remove(best)
                c.fail("plain output frame differs: %s" % frame_diff(e, best))
            else:
                c.fail("expected plain frame not sent: %s" % describe(e))
    for name, inners in p.out_esp.items():
        check_esp_out(c, r, p.tuns[name], inners, wan)
    if rest is not None:
        rest(left, wan)
    elif left or wan:
        from harness import describe
        for g in left + wan:
            c.fail("unexpected output frame: %s" % describe(g))
    r.expect_counters(s, drops=dict(p.drops), totals={"tx": p.n_out(), "punted": 0})
    t = s["totals"]
    if p.absorbed:
        c.check(t.get("absorbed", 0) == p.absorbed, "totals.absorbed = %s, expected %d" % (t.get("absorbed"),
                                                                                         p.absorbed))
    if ipsec:
        expect_ipsec(c, dict(p.ipsec), got_ipsec, loose)
    return res
