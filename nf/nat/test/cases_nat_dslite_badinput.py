# SPDX-License-Identifier: BSD-3-Clause
"""DS-Lite bad input: softwire packets from unknown B4s, with extension headers, truncated or inconsistent inner
IPv4, inner packets to the AFTR itself or to a pool address, inner transport headers truncated, inner non-first
fragments without their first, forged ICMP errors (inner, from the internet, ICMPv6 about no session): each
dropped under its own reason, every other reason 0, and the good flow before and after translated as usual."""
from harness import case
from cases_nat_common import (IP, IPv6, UDP, Raw, I, P, PD, AFTR, B4A, B4X, R6, H4, NET_IF4, SUB1, DNEW,
                              Plan, from_b4, from_net, payload, ip4_frags, b4_port, run_plan, icmp_err, xl)
from cases_nat_dslite import ds_router, sw, decap_out, back, FIRST
from scapy.layers.inet6 import ICMPv6PacketTooBig, IPv6ExtHdrHopByHop


def good(p, pt, first=False, seed=0):
    u = IP(src=H4, dst=I) / UDP(sport=pt, dport=53) / payload(20, seed)
    p.fwd(sw(B4A, u), decap_out(u, pt), DNEW(**SUB1) if first else {}, ds=FIRST if first else {"decapsulated": 1})
    a = from_net(IP(src=I, dst=PD) / UDP(sport=53, dport=pt) / payload(30, seed))
    p.fwd(a, back(a, B4A, pt), out2in=1, ds={"encapsulated": 1})


def raw_sw(b4, inner_bytes, nh=4):
    return from_b4(IPv6(src=b4, dst=AFTR, hlim=64, nh=nh) / Raw(inner_bytes))


@case("dslite-bad-softwire", group="badinput", workers=(1, 2))
def dslite_bad_softwire(c):
    r = ds_router(c)
    p = Plan()
    pt = b4_port(c, B4A, 5000)
    good(p, pt, first=True)
    u = IP(src=H4, dst=I) / UDP(sport=pt, dport=53) / payload(20, 9)
    ub = bytes(u)
    p.drop(sw(B4X, u), "dslite_b4_unknown")
    p.drop(from_b4(IPv6(src=B4A, dst=AFTR) / IPv6ExtHdrHopByHop() / u), "dslite_bad_ext")
    p.drop(raw_sw(B4A, ub[:12]), "dslite_inner_truncated")  # shorter than an IPv4 header
    longer = bytearray(ub)
    longer[2:4] = (len(ub) + 20).to_bytes(2, "big")  # total length beyond the IPv6 payload
    p.drop(raw_sw(B4A, bytes(xl(bytes(longer[:20]), ttl_dec=0))[:20] + ub[20:]), "dslite_inner_inconsistent")
    p.drop(raw_sw(B4A, ub + b"\0" * 8), "dslite_inner_inconsistent")  # IPv6 payload longer than the IPv4 packet
    p.drop(raw_sw(B4A, b"\x60" + ub[1:]), "dslite_inner_inconsistent")  # not IPv4
    badsum = bytearray(ub)
    badsum[10] ^= 0xFF
    p.drop(raw_sw(B4A, bytes(badsum)), "dslite_inner_bad")
    p.drop(sw(B4A, IP(src="127.0.0.1", dst=I) / UDP(sport=pt, dport=53) / payload(8)), "dslite_inner_bad")
    for dst in ("192.0.0.1", NET_IF4):
        p.drop(sw(B4A, IP(src=H4, dst=dst) / UDP(sport=pt, dport=53) / payload(8)), "dslite_inner_to_aftr")
    for dst in (P, PD):
        p.drop(sw(B4A, IP(src=H4, dst=dst) / UDP(sport=pt, dport=53) / payload(8)), "dslite_inner_to_pool")
    good(p, pt, seed=1)
    run_plan(c, r, p)


@case("dslite-bad-inner", group="badinput", workers=(1, 2))
def dslite_bad_inner(c):
    """Inner packets the NAT engine refuses, through the softwire: truncated UDP, an unsupported protocol, a
    non-first fragment without its first, an ICMP error from the B4 quoting no session; from the internet an error
    quoting a public port with no session; an ICMPv6 packet too big about a softwire packet of no session."""
    r = ds_router(c)
    p = Plan()
    pt = b4_port(c, B4A, 5000)
    good(p, pt, first=True)
    p.drop(sw(B4A, IP(src=H4, dst=I, proto=17) / Raw(bytes(UDP(sport=pt, dport=53))[:4])), "nat_l4_truncated")
    p.drop(sw(B4A, IP(src=H4, dst=I, proto=47) / payload(24)), "nat_proto_unsupported")
    dg = IP(src=H4, dst=I, id=0x99) / UDP(sport=pt, dport=53) / payload(100)
    p.drop(sw(B4A, ip4_frags(dg, [(0, 56), (56, 52)], 0x99)[1]), "nat_frag_no_first")
    p.drop(sw(B4A, icmp_err(H4, I, IP(src=I, dst=H4, ttl=60) / UDP(sport=53, dport=pt + 9) / payload(8))),
           "nat_icmp_no_session")
    p.drop(from_net(icmp_err(I, PD, IP(src=PD, dst=I, ttl=60) / UDP(sport=pt + 9, dport=53) / payload(8))),
           "nat_icmp_no_session")
    ghost = IPv6(src=AFTR, dst=B4A, hlim=64) / IP(src=I, dst=H4, ttl=63) / UDP(sport=53, dport=pt + 9) / payload(8)
    p.drop(from_b4(IPv6(src=R6, dst=AFTR) / ICMPv6PacketTooBig(mtu=1300) / Raw(bytes(ghost))),
           "dslite_icmp6_not_relayed")
    # an inner fragmented datagram whose first fragment comes first is translated (both fragments)
    dg2 = IP(src=H4, dst=I, id=0x9a) / UDP(sport=pt, dport=53) / payload(100, 3)
    out2 = xl(dg2, src=PD)
    from cases_nat_common import to_net
    f_in, f_out = ip4_frags(dg2, [(0, 56), (56, 52)], 0x9a), ip4_frags(out2, [(0, 56), (56, 52)], 0x9a)
    p.fwd(sw(B4A, f_in[0]), to_net(f_out[0]), ds={"decapsulated": 1})
    p.fwd(sw(B4A, f_in[1]), to_net(f_out[1]), ds={"decapsulated": 1, "inner_frag_translated": 1})
    good(p, pt, seed=2)
    run_plan(c, r, p)
