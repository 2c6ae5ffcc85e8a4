# SPDX-License-Identifier: BSD-3-Clause
"""DS-Lite AFTR behaviour (RFC 6333): softwire in and out, B4 checks, reassembly, MTU handling, ICMPv6 relay.

Topology, frames and counter checks: nf/nat/test/cases_nat_common.py (B4s 2001:db8:4::10/::11 on a400 in VRF
access; the AFTR 2001:db8:ffff::1 routes the inner IPv4 in VRF internet with pool "ds" 198.51.100.8).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "nat", "test"))

from harness import case  # noqa: E402
from cases_nat_common import (IP, IPv6, UDP, TCP, ICMP, Raw, Plan, run_plan, nat_router, nat_section,  # noqa: E402
                              dslite_section, aftr, pool, from_b4, from_net, to_net, to_access, xl, payload,
                              ip6_frags, b4_port, DNEW, SUB1, AFTR, B4A, B4X, I, PD, H4, NET_IF4, R6)
from scapy.layers.inet6 import ICMPv6PacketTooBig  # noqa: E402

WORKERS = (1, 2)


def owner_queue(c):
    """Every frame on the B4 owner's rx queue. Hand-offs are exercised by dslite-handoff alone: the B4's packets go
    through DS-Lite's hand-off ring and the replies through NAT's, and the owner may serve NAT's ring first, so a
    reply in the same input burst as its B4's first packet could find no mapping yet (a test artefact: a real reply
    comes a round trip later)."""
    from cases_nat_common import b4_owner
    return b4_owner(B4A, c.workers) if c.workers > 1 else None


def ds_router(c, **aftr_kw):
    nat = nat_section(pools=[pool(), pool("ds", (PD + "/32",))])
    return nat_router(c, nat=nat, dslite=dslite_section([aftr(**aftr_kw)]))


def sw(inner, b4=B4A, tc=0):
    """A softwire packet from a B4 to the AFTR carrying inner (IPv4, scapy)."""
    return IPv6(src=b4, dst=AFTR, nh=4, hlim=64, tc=tc) / inner


def sw_reply(inner4, b4=B4A):
    """What the AFTR sends to a B4: IPv6 (traffic class = the inner TOS, hop limit 64) + the inner IPv4 bytes."""
    b = bytes(inner4)
    return IPv6(src=AFTR, dst=b4, nh=4, hlim=64, tc=b[1]) / Raw(b)


@case("dslite-udp-roundtrip", workers=WORKERS)
def udp_roundtrip(c):
    """A B4's UDP goes out translated to the pool address (inside port kept); the reply comes back encapsulated
    to that B4 (RFC 6333 section 6.6, 7)."""
    port = b4_port(c, B4A, 5000)
    inner = IP(src=H4, dst=I, ttl=64, id=7) / UDP(sport=port, dport=53) / payload(40)
    reply = IP(src=I, dst=PD, ttl=60, id=9) / UDP(sport=53, dport=port) / payload(60, 3)
    p = Plan()
    p.fwd(from_b4(sw(inner)), to_net(xl(inner, src=PD)), DNEW(True, **SUB1), ds={"decapsulated": 1, "b4_created": 1})
    p.fwd(from_net(reply), to_access(sw_reply(xl(reply, dst=H4))), {"out2in": 1}, ds={"encapsulated": 1})

    def after(r, natc):
        b4s = r.ctl_ok("dslite", "show", "b4s")["b4s"]
        c.check(len(b4s) == 1, "dslite show b4s: %d rows, expected 1: %s" % (len(b4s), b4s))
        if b4s:
            x = b4s[0]
            c.check(x["b4"] == B4A and x["aftr"] == "aftr1" and x["sessions"] == 1 and x["blocks"] == 1 and
                    x["public"] == PD and x["pkts_in"] == 1 and x["pkts_out"] == 1, "dslite show b4s row: %s" % x)
        c.check(r.ctl_ok("dslite", "show", "b4s", "b4", "2001:db8:5::/48")["b4s"] == [], "b4 filter ignored")
        aftrs = r.ctl_ok("dslite", "show", "aftrs")["aftrs"]
        c.check(len(aftrs) == 1 and aftrs[0]["state"] == "active" and aftrs[0]["b4s"] == 1,
                "dslite show aftrs: %s" % aftrs)
    run_plan(c, ds_router(c), p, queue=owner_queue(c), after=after)


@case("dslite-b4-unknown", group="badinput", workers=WORKERS)
def b4_unknown(c):
    """A softwire packet from outside the B4 prefixes is dropped and counted; nothing is translated."""
    inner = IP(src=H4, dst=I) / UDP(sport=5000, dport=53) / payload(8)
    p = Plan()
    p.drop(from_b4(sw(inner, b4=B4X)), "dslite_b4_unknown", ds={})
    run_plan(c, ds_router(c), p, queue=owner_queue(c))


@case("dslite-inner-bad", group="badinput", workers=WORKERS)
def inner_bad(c):
    """Inner packets that are truncated, inconsistent with the IPv6 payload length, addressed to the AFTR or to a
    public address of the pools: each dropped with its own reason."""
    good = IP(src=H4, dst=I) / UDP(sport=5000, dport=53) / payload(8)
    gb = bytes(good)
    p = Plan()
    # IPv6 payload longer than the inner total length
    p.drop(from_b4(IPv6(src=B4A, dst=AFTR, nh=4) / Raw(gb + b"\0" * 8)), "dslite_inner_inconsistent", ds={})
    # inner header cut short (IPv6 payload of 12 bytes)
    p.drop(from_b4(IPv6(src=B4A, dst=AFTR, nh=4) / Raw(gb[:12])), "dslite_inner_truncated", ds={})
    # inner IPv4 header checksum wrong
    bad = bytearray(gb)
    bad[10] ^= 0xFF
    p.drop(from_b4(IPv6(src=B4A, dst=AFTR, nh=4) / Raw(bytes(bad))), "dslite_inner_bad", ds={})
    p.drop(from_b4(sw(IP(src=H4, dst="192.0.0.1") / UDP(sport=5000, dport=53))), "dslite_inner_to_aftr", ds={})
    p.drop(from_b4(sw(IP(src=H4, dst=NET_IF4) / UDP(sport=5000, dport=53))), "dslite_inner_to_aftr", ds={})
    p.drop(from_b4(sw(IP(src=H4, dst=PD) / UDP(sport=5000, dport=53))), "dslite_inner_to_pool", ds={})
    run_plan(c, ds_router(c), p, queue=owner_queue(c))


@case("dslite-reassembly", workers=WORKERS)
def reassembly(c):
    """A softwire packet sent in two IPv6 fragments is reassembled, then translated as a whole (RFC 6333 5.3)."""
    port = b4_port(c, B4A, 6000)
    inner = IP(src=H4, dst=I, id=11) / UDP(sport=port, dport=9) / payload(1200)
    frags = ip6_frags(sw(inner), [(0, 608), (608, len(bytes(inner)) - 608)], ident=0x1234)
    p = Plan()
    p.fwd(from_b4(frags[0]), [], DNEW(True, **SUB1), ds={"frag_in": 1})
    p.fwd(from_b4(frags[1]), to_net(xl(inner, src=PD)), ds={"frag_in": 1, "reassembled": 1, "decapsulated": 1,
                                                              "b4_created": 1})
    run_plan(c, ds_router(c), p, queue=owner_queue(c))


@case("dslite-too-big-df", workers=WORKERS)
def too_big_df(c):
    """A reply that would exceed the softwire MTU with DF set is answered with ICMPv4 fragmentation needed
    (mtu - 40) to its sender, quoting what it sent (RFC 6333 5.3); with DF clear the IPv6 packet is fragmented."""
    port = b4_port(c, B4A, 7000)
    out = IP(src=H4, dst=I, id=1) / UDP(sport=port, dport=7) / payload(8)
    big_df = IP(src=I, dst=PD, id=2, flags="DF", ttl=60) / UDP(sport=7, dport=port) / payload(1400)
    frag_needed = IP(src=NET_IF4, dst=I, ttl=64, id=0) / ICMP(type=3, code=4, nexthopmtu=1400 - 40) / \
        Raw(bytes(big_df)[:548])
    p = Plan()
    p.fwd(from_b4(sw(out)), to_net(xl(out, src=PD)), DNEW(True, **SUB1), ds={"decapsulated": 1, "b4_created": 1})
    p.fwd(from_net(big_df), to_net(frag_needed), {"out2in": 1}, ds={"too_big_icmp": 1})
    run_plan(c, ds_router(c, mtu=1400, mss_clamp=1320), p, queue=owner_queue(c))


@case("dslite-too-big-fragment", workers=WORKERS)
def too_big_fragment(c):
    """A reply that exceeds the softwire MTU with DF clear: the IPv6 packet is fragmented (RFC 2473 section 7),
    each fragment at most mtu bytes, the inner packet whole once reassembled."""
    port = b4_port(c, B4A, 7000)
    out = IP(src=H4, dst=I, id=1) / UDP(sport=port, dport=7) / payload(8)
    big = IP(src=I, dst=PD, id=2, ttl=60) / UDP(sport=7, dport=port) / payload(1400)
    p = Plan()
    p.fwd(from_b4(sw(out)), to_net(xl(out, src=PD)), DNEW(True, **SUB1), ds={"decapsulated": 1, "b4_created": 1})
    p.fwd(from_net(big), None, {"out2in": 1}, ds={"encapsulated": 1, "encap_fragmented": 1, "encap_fragments": 2})
    want = bytes(sw_reply(xl(big, dst=H4)))
    r = ds_router(c, mtu=1400, mss_clamp=1320)
    p.start(c, r, owner_queue(c))
    st = r.last_stats
    from cases_nat_common import nat_counters, expect_nat, expect_dslite
    natc, dsc = nat_counters(r), nat_counters(r, "dslite")
    r.stop()
    from scapy.all import Ether
    from scapy.layers.inet6 import IPv6ExtHdrFragment
    got = list(r.outputs.get("p0", []))
    frags = [f for f in got if IPv6ExtHdrFragment in Ether(f)]
    r.expect_output("p0", p.out + frags)  # the first reply exactly; the fragments checked below
    c.check(len(frags) == 2, "%d IPv6 fragments sent, expected 2" % len(frags))
    parts = []
    for f in frags:
        e = Ether(f)
        ip6 = bytes(e[IPv6])
        c.check(len(ip6) <= 1400, "fragment of %d bytes exceeds the softwire MTU 1400" % len(ip6))
        fh = e[IPv6ExtHdrFragment]
        c.check(fh.nh == 4 and e[IPv6].src == AFTR and e[IPv6].dst == B4A, "fragment: %s" % e.summary())
        parts.append((fh.offset * 8, bytes(fh.payload)))
    data = b"".join(d for _, d in sorted(parts))
    c.check(data == want[40:], "the fragments do not reassemble to the encapsulated reply")
    r.expect_counters(st, drops=dict(p.drops), totals={"tx": 3, "punted": 0})
    expect_nat(c, dict(p.nat), natc)
    expect_dslite(c, dict(p.ds), dsc)


@case("dslite-ptb-relay", workers=WORKERS)
def ptb_relay(c):
    """An ICMPv6 packet too big about a softwire packet (from a router of the access network to the AFTR) becomes
    an ICMPv4 fragmentation needed (MTU - 40) to the inner packet's sender, quoting what it sent (RFC 6333 6)."""
    port = b4_port(c, B4A, 7000)
    out = IP(src=H4, dst=I, id=1) / UDP(sport=port, dport=7) / payload(8)
    reply = IP(src=I, dst=PD, id=2, ttl=60, flags="DF") / UDP(sport=7, dport=port) / payload(1300)
    enc = bytes(sw_reply(xl(reply, dst=H4)))
    ptb = IPv6(src=R6, dst=AFTR, hlim=64) / ICMPv6PacketTooBig(mtu=1300) / Raw(enc[:1232])
    quoted = bytes(xl(reply, dst=PD, ttl_dec=1))  # what I sent, TTL as the AFTR forwarded it
    frag_needed = IP(src=NET_IF4, dst=I, ttl=64, id=0) / ICMP(type=3, code=4, nexthopmtu=1300 - 40) / \
        Raw(quoted[:1192][:548])
    p = Plan()
    p.fwd(from_b4(sw(out)), to_net(xl(out, src=PD)), DNEW(True, **SUB1), ds={"decapsulated": 1, "b4_created": 1})
    p.fwd(from_net(reply), to_access(IPv6(enc)), {"out2in": 1}, ds={"encapsulated": 1})
    p.fwd(from_b4_router(ptb), to_net(frag_needed), ds={"icmp6_ptb_relayed": 1})
    run_plan(c, ds_router(c), p, queue=owner_queue(c))


def from_b4_router(l3):
    from cases_nat_common import frame_in
    return frame_in("a400", l3)


@case("dslite-mss-clamp", workers=WORKERS)
def mss_clamp(c):
    """TCP SYNs through the softwire have their MSS lowered to mss_clamp both ways."""
    port = b4_port(c, B4A, 8000)
    syn = IP(src=H4, dst=I, id=1) / TCP(sport=port, dport=80, flags="S", seq=1000, options=[("MSS", 1460)])
    synack = IP(src=I, dst=PD, id=2, ttl=60) / TCP(sport=80, dport=port, flags="SA", seq=5000, ack=1001,
                                                    options=[("MSS", 1460)])
    syn_x = IP(bytes(syn))
    syn_x[TCP].options = [("MSS", 1300)]
    sa_x = IP(bytes(synack))
    sa_x[TCP].options = [("MSS", 1300)]
    del syn_x[TCP].chksum, sa_x[TCP].chksum
    p = Plan()
    p.fwd(from_b4(sw(syn)), to_net(xl(IP(bytes(syn_x)), src=PD)), DNEW(True, **SUB1),
          ds={"decapsulated": 1, "b4_created": 1, "mss_clamped_in": 1})
    p.fwd(from_net(synack), to_access(sw_reply(xl(IP(bytes(sa_x)), dst=H4))), {"out2in": 1},
          ds={"encapsulated": 1, "mss_clamped_out": 1})
    run_plan(c, ds_router(c, mss_clamp=1300), p, queue=owner_queue(c))


@case("dslite-handoff", workers=(2,))
def handoff(c):
    """Two workers, every frame on the queue of the worker that does not own the B4: its softwire packets are
    handed to the owner (dslite hand-off ring) and translated there."""
    port = b4_port(c, B4A, 5000)
    p = Plan()
    for i in range(3):
        inner = IP(src=H4, dst=I, ttl=64, id=20 + i) / UDP(sport=port, dport=53) / payload(20, i)
        ds = {"decapsulated": 1, "handoff_out": 1, "handoff_in": 1}
        if i == 0:
            ds["b4_created"] = 1
        p.fwd(from_b4(sw(inner)), to_net(xl(inner, src=PD)), DNEW(True, **SUB1) if i == 0 else {"in2out": 0},
              ds=ds)
    run_plan(c, ds_router(c), p)
