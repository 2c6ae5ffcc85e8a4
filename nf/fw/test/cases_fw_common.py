# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the firewall's pcap cases (no cases here): topology, config text, frames, counter checks.

Topology: the pcap tier's standard one (test/pcap/topo.py) with the interfaces put in zones.

  host S  10.0.0.2 2001:db8:a::2    --- p0 untagged  iface a     zone "site"
  host I  10.1.0.2 2001:db8:1a::2   --- p0 VLAN 100  iface a100  zone "internet"
  gw   B  10.0.1.2 (192.0.2/24)     --- p1 untagged  iface b     zone "dc"
  gw B200 10.1.1.2 (198.18.0/24)    --- p1 VLAN 200  iface b200  zone "cloud"

Both ends of a stateful flow (S <-> I) sit behind p0, so every frame of a conversation is in one input pcap and the
worker reads them in exactly that order (frames of two ports in one burst would otherwise be read port by port).
With two workers every frame goes to rx queue 0 of p0: the flows whose owner is worker 1 are handed over in order.
"""
import os
import re
import struct
from collections import Counter

from harness import REPO, fwd_frame, Raw  # noqa
from topo import (IP, IPv6, UDP, TCP, ICMP, Ether, Dot1Q, R_A, R_A100, R_B, R_B200, H_A, H_A100, GW_B, GW_B200,  # noqa
                  std_router, from_a, from_b, payload)
from scapy.layers.inet6 import IPv6ExtHdrFragment

S4, S6 = "10.0.0.2", "2001:db8:a::2"
I4, I6 = "10.1.0.2", "2001:db8:1a::2"
S4_OTHER, S6_OTHER = "10.0.0.5", "2001:db8:a::5"  # other hosts on a (static neighbours): targets of forged errors
H_OTHER = "02:00:00:00:00:ab"

FW_COUNTER_NAMES = []  # from nf/fw/fw_counters.h


def _load_counter_names():
    with open(os.path.join(REPO, "nf", "fw", "fw_counters.h")) as f:
        for m in re.finditer(r"^\s*X\((\w+),", f.read(), re.M):
            FW_COUNTER_NAMES.append(m.group(1))


_load_counter_names()

EXTRA_NEIGHBOURS = [{"interface": "a", "ip": S4_OTHER, "mac": H_OTHER},
                    {"interface": "a", "ip": S6_OTHER, "mac": H_OTHER}]

STD_ZONES = [
    {"name": "site", "interfaces": ["a"]},
    {"name": "internet", "interfaces": ["a100"]},
    {"name": "dc", "interfaces": ["b"]},
    {"name": "cloud", "interfaces": ["b200"]},
]


# ---------------------------------------------------------------------------------------------------------------
# libconfig text of the firewall section

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


def fw_section(rulesets, zones=STD_ZONES, sessions=None, **top):
    """The firewall: section. rulesets: [{vrf, default, policies, rules}]; sessions: {max, when_full, ...}; top: other
    keys of the section (reject_rate, log_rate, on_rule_change)."""
    d = {}
    if sessions:
        d["sessions"] = sessions
    d.update(top)
    d["zones"] = zones
    d["rulesets"] = rulesets
    return "firewall: " + lc(d) + ";\n"


def fw_router(c, rulesets, zones=STD_ZONES, sessions=None, extra_conf="", neighbours=(), routes=(), **top):
    return std_router(c, neighbours=EXTRA_NEIGHBOURS + list(neighbours), routes=routes,
                      extra_conf=fw_section(rulesets, zones, sessions, **top) + extra_conf)


def _crc32c(data, crc):
    """CRC32-C as the SSE4.2 instruction (rte_hash_crc) computes it: reflected, no inversion."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def owner_model(vrf, a, b, n_workers):
    """fw_owner_hash() % n_workers as nf/fw/fw_node.c defines it today (a model: only used to pick the rx queue that
    makes hand-off happen; nothing fails when it goes out of date, the hand-off is then just not exercised)."""
    import ipaddress
    a, b = sorted([ipaddress.ip_address(a).packed, ipaddress.ip_address(b).packed])
    h = _crc32c(struct.pack("<I", vrf), 4 if len(a) == 4 else 6)
    return _crc32c(b, _crc32c(a, h)) % n_workers


def input_queue(c):
    """With several workers every frame enters one rx queue (order kept): that of a worker which does not own the
    S <-> I sessions, so that they are all handed over to their owner."""
    return (owner_model(0, S4, I4, c.workers) + 1) % c.workers


def start(c, r, frames):
    """Every frame on p0 in this order (one rx queue with two workers: order kept, flows handed to their owner)."""
    if c.workers > 1:
        return r.start({"p0": {input_queue(c): frames}})
    return r.start({"p0": frames})


# ---------------------------------------------------------------------------------------------------------------
# Frames. s2i = from site host S to internet host I (in on a, out on a100); i2s the other way.

def s2i(l3):
    return from_a(l3)


def i2s(l3):
    return from_a(l3, vlan=100)


def out_i(inp):
    """inp forwarded to the internet side (out a100)."""
    return fwd_frame(inp, R_A100, H_A100, vlan=100)


def out_s(inp):
    """inp forwarded to the site side (out a)."""
    return fwd_frame(inp, R_A, H_A)


def out_s_other(inp):
    return fwd_frame(inp, R_A, H_OTHER)


def out_b(inp):
    return fwd_frame(inp, R_B, GW_B)


def out_b200(inp):
    return fwd_frame(inp, R_B200, GW_B200, vlan=200)


def tcp4(src, dst, sport, dport, flags, seq=0, ack=0, data=0, win=65535, **kw):
    p = IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=win, **kw)
    return p / payload(data, seq & 0xFF) if data else p


def tcp6(src, dst, sport, dport, flags, seq=0, ack=0, data=0, win=65535, **kw):
    p = IPv6(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=win, **kw)
    return p / payload(data, seq & 0xFF) if data else p


class TcpConv:
    """A TCP conversation between S (client, site) and I (server, internet), sequence numbers kept; each method
    returns (input frame, expected output frame)."""

    def __init__(self, sport, dport, v6=False, cseq=1000, sseq=500000, cli=None, srv=None):
        self.v6 = v6
        self.cli = cli or (S6 if v6 else S4)
        self.srv = srv or (I6 if v6 else I4)
        self.sport, self.dport = sport, dport
        self.cnext, self.snext = cseq, sseq  # next sequence number each side sends

    def _mk(self, from_client, flags, data, seq=None, ack=None, win=65535):
        mk = tcp6 if self.v6 else tcp4
        if from_client:
            s = self.cnext if seq is None else seq
            a = self.snext if ack is None else ack
            l3 = mk(self.cli, self.srv, self.sport, self.dport, flags, s, a if "A" in flags else 0, data, win)
            f = s2i(l3)
            return f, out_i(f)
        s = self.snext if seq is None else seq
        a = self.cnext if ack is None else ack
        l3 = mk(self.srv, self.cli, self.dport, self.sport, flags, s, a if "A" in flags else 0, data, win)
        f = i2s(l3)
        return f, out_s(f)

    def _adv(self, from_client, flags, data):
        n = data + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
        if from_client:
            self.cnext += n
        else:
            self.snext += n

    def c(self, flags, data=0, **kw):
        """Segment from the client; advances its sequence unless seq is forced."""
        r = self._mk(True, flags, data, **kw)
        if "seq" not in kw:
            self._adv(True, flags, data)
        return r

    def s(self, flags, data=0, **kw):
        r = self._mk(False, flags, data, **kw)
        if "seq" not in kw:
            self._adv(False, flags, data)
        return r

    def handshake(self):
        return [self.c("S"), self.s("SA"), self.c("A")]


# ---------------------------------------------------------------------------------------------------------------
# Control-socket views of the firewall

def rows(r, *words):
    d = r.ctl_ok(*words)
    if isinstance(d, dict) and len(d) == 1:
        return next(iter(d.values()))
    return d


def fw_counters(r):
    """{counter: value} of `fw show stats` (summed over workers): the fw_counters.h ones and the session table's
    (sessions_active, sessions_evicted, tcp_invalid_flags, ...)."""
    return {x["counter"]: int(x["value"]) for x in r.ctl_ok("fw", "show", "stats")["firewall"]}


def expect_fw(c, r, counts, got=None):
    """counts: {counter: n}; every other firewall counter must be 0 (hand-off counters: equal in and out when several
    workers, 0 with one)."""
    got = got if got is not None else fw_counters(r)
    for k in counts:
        if k not in FW_COUNTER_NAMES:
            c.fail("firewall counter %s does not exist (fw_counters.h has %s)" % (k, FW_COUNTER_NAMES))
    for k in FW_COUNTER_NAMES:
        if k not in got:
            c.fail("fw show counters lacks %s (got %s)" % (k, sorted(got)))
            continue
        if k in ("handoff_out", "handoff_in") and k not in counts:
            if c.workers == 1:
                c.check(got[k] == 0, "firewall counter %s = %d with one worker" % (k, got[k]))
            continue
        exp = counts.get(k, 0)
        c.check(got[k] == exp, "firewall counter %s = %d, expected %d" % (k, got[k], exp))
    if c.workers > 1:
        c.check(got.get("handoff_out") == got.get("handoff_in"), "hand-off out %s != in %s"
                % (got.get("handoff_out"), got.get("handoff_in")))
    return got


def _norm(s):
    return str(s).lower().replace("-", "_").replace(" ", "_")


def _field(row, *names):
    for n in names:
        if n in row:
            return row[n]
    return None


def sessions(r, *filt):
    return rows(r, "fw", "show", "sessions", *filt)


def find_session(rows_, proto=None, sport=None, dport=None, src=None, dst=None):
    """Sessions of the flow opened from src:sport to dst:dport (the opening direction as `fw show sessions` shows
    it)."""
    out = []
    for x in rows_:
        if proto is not None and _norm(_field(x, "proto", "protocol")) not in (_norm(proto), str(
                {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}.get(proto, proto))):
            continue
        if sport is not None and int(_field(x, "sport", "src_port")) != sport:
            continue
        if dport is not None and int(_field(x, "dport", "dst_port")) != dport:
            continue
        if src is not None and _field(x, "src", "src_addr") != src:
            continue
        if dst is not None and _field(x, "dst", "dst_addr") != dst:
            continue
        out.append(x)
    return out


def session_state(x):
    return x["state"]


def rule_hits(r, vrf="main"):
    """({rule name: packets}, ruleset row) from `fw show rules vrf VRF` (the ruleset row has policy_packets and
    default_packets)."""
    d = r.ctl_ok("fw", "show", "rules", "vrf", vrf)
    rs = [x for x in d["rulesets"] if x["vrf"] == vrf]
    return {x["name"]: int(x["packets"]) for x in d["rules"] if x["vrf"] == vrf}, (rs[0] if rs else None)


# ---------------------------------------------------------------------------------------------------------------
# A run's plan: input frames in order with what each must give (an output frame, a drop, counters)

class Plan:
    """frames: the p0 input in order; frames_p1: the p1 input (single-packet flows only: the two ports are read in
    turn, so order between them is not kept)."""

    def __init__(self):
        self.frames = []
        self.frames_p1 = []
        self.out = {"p0": [], "p1": []}
        self.drops = Counter()
        self.fw = Counter()

    def _in(self, frame, inp):
        (self.frames if inp == "p0" else self.frames_p1).append(frame)

    def fwd(self, pair, dev="p0", inp="p0", **counters):
        """pair: (input frame, expected output frame) going out on dev; counters: firewall counters it adds."""
        f, o = pair
        self._in(f, inp)
        self.out[dev].append(o)
        self.fw.update(counters)
        return pair

    def drop(self, frame, reason, inp="p0", **counters):
        if isinstance(frame, tuple):
            frame = frame[0]
        self._in(frame, inp)
        self.drops[reason] += 1
        self.fw.update(counters)

    def answer(self, frame, expected, dev="p0", inp="p0", **counters):
        """frame is turned into expected (a reject's RST or ICMP error, sent back; None: checked by the case). The
        answer goes through the forward arc again as a packet of the router's own (local_origin)."""
        self._in(frame, inp)
        if expected is not None:
            self.out[dev].append(expected)
        self.fw.update(counters)
        self.fw.update(local_origin=1)

    def start(self, c, r):
        if not self.frames_p1:
            return start(c, r, self.frames)
        if c.workers > 1:
            q = input_queue(c)
            return r.start({"p0": {q: self.frames}, "p1": {q: self.frames_p1}})
        return r.start({"p0": self.frames, "p1": self.frames_p1})


def check_handoff(c, r, fwc):
    """Every frame entered one worker: what the other workers' sessions saw came by hand-off."""
    rows_ = sessions(r, "limit", "10000")
    q = input_queue(c)
    other = sum(int(x["pkts_orig"]) + int(x["pkts_reply"]) for x in rows_ if int(x["worker"]) != q)
    c.check(fwc["handoff_in"] >= other, "sessions of workers 1.. counted %d packets, only %d handed over"
            % (other, fwc["handoff_in"]))
    if os.environ.get("NPSGW_PCAP_VERBOSE"):
        print("  hand-off: %d in, %d packets in sessions of workers 1.." % (fwc["handoff_in"], other))


def run_plan(c, r, p, after=None, wait=None):
    """Feed the plan's frames, then check everything: outputs, drops (others 0), firewall counters (others 0).
    wait: (what, predicate on the stats) to wait for after the input is consumed (a timeout's effect). after(r, fwc)
    runs while the daemon is still up (session and rule views); its result is returned."""
    p.start(c, r)
    s = r.wait_for(wait[0], wait[1]) if wait else r.last_stats
    fwc = fw_counters(r)
    res = after(r, fwc) if after else None
    if c.workers > 1:
        check_handoff(c, r, fwc)
    r.stop()
    for dev, exp in p.out.items():
        r.expect_output(dev, exp)
    r.expect_counters(s, drops=dict(p.drops), totals={"tx": sum(len(x) for x in p.out.values()), "punted": 0})
    expect_fw(c, r, dict(p.fw), got=fwc)
    return res


def ip4_frags(l3, ranges, ident):
    """IPv4 fragments of datagram l3 (scapy IP, checksums computed on the whole): ranges [(offset, length[, more])]
    in bytes of the IP payload; MF set unless the range reaches the end (or as the third item says)."""
    b = bytes(l3)
    ihl = (b[0] & 0xF) * 4
    data = b[ihl:]
    ip = IP(b[:ihl])
    out = []
    for rg in ranges:
        off, ln = rg[0], rg[1]
        more = rg[2] if len(rg) > 2 else off + ln < len(data)
        out.append(IP(src=ip.src, dst=ip.dst, id=ident, proto=ip.proto, ttl=ip.ttl, flags="MF" if more else 0,
                      frag=off // 8) / Raw(data[off:off + ln]))
    return out


def ip6_frags(l3, ranges, ident):
    """IPv6 fragments of l3 (scapy IPv6 / upper layer, no extension header): a fragment header after the fixed one."""
    b = bytes(l3)
    nh = b[6]
    data = b[40:]
    ip = IPv6(b[:40])
    out = []
    for rg in ranges:
        off, ln = rg[0], rg[1]
        more = rg[2] if len(rg) > 2 else off + ln < len(data)
        out.append(IPv6(src=ip.src, dst=ip.dst, hlim=ip.hlim) /
                   IPv6ExtHdrFragment(nh=nh, offset=off // 8, m=1 if more else 0, id=ident) / Raw(data[off:off + ln]))
    return out
