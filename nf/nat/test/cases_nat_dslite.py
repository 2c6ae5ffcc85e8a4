# SPDX-License-Identifier: BSD-3-Clause
"""DS-Lite AFTR (RFC 6333) through the real npsd, B4s built with scapy on the access VLAN: UDP, TCP and ICMP from
a B4 to an internet host and the replies encapsulated back (outer source the AFTR, destination the B4), two B4s
with one private address, reassembly of fragmented tunnel packets, outer fragmentation of big replies and ICMPv4
fragmentation needed for DF ones, MSS clamping both ways, ICMPv6 packet too big relayed as ICMPv4."""
from harness import case, icmp4_error
from cases_nat_common import (IP, IPv6, UDP, TCP, ICMP, Raw, Ether, I, PD, AFTR, B4A, B4B, R6, H4, NET_IF4,
                              R_NET, HOSTS, SUB1, DNEW, Plan, nat_router, nat_section, dslite_section, pool, aftr,
                              from_b4, from_net, to_net, to_access, payload, xl, ip4_of, b4_port, run_plan, learn,
                              nat_sessions, find_sessions, b4_of, ip6_frags, b4_owner, checksums_ok)
from scapy.layers.inet6 import ICMPv6PacketTooBig, IPv6ExtHdrFragment


def ds_router(c, **aftr_kw):
    return nat_router(c, nat_section(pools=[pool(), pool("ds", [PD + "/32"])]), dslite_section([aftr(**aftr_kw)]))


def sw(b4, inner):
    """A softwire packet from b4 carrying inner (IPv4)."""
    return from_b4(IPv6(src=b4, dst=AFTR, hlim=64) / inner)


def decap_out(inner, pub):
    """inner as it must leave to the internet: source PD:pub."""
    b = bytes(inner)
    ip = IP(b)
    if ICMP in ip and ip.proto == 1:
        return to_net(xl(b, src=PD, icmp_id=pub))
    return to_net(xl(b, src=PD, sport=pub))


def encap(b4, inner_l3):
    """The softwire packet the AFTR sends to b4 (hop limit 64, traffic class and flow label 0)."""
    return to_access(IPv6(src=AFTR, dst=b4, hlim=64, nh=4) / IP(bytes(inner_l3)))


def back(frame, b4, port=None, icmp_id=None):
    """A reply from the internet as it must reach b4: destination H4:port, TTL - 1, encapsulated."""
    b = ip4_of(frame)
    if icmp_id is not None:
        return encap(b4, xl(b, dst=H4, icmp_id=icmp_id))
    return encap(b4, xl(b, dst=H4, dport=port))


FIRST = {"decapsulated": 1, "b4_created": 1}


def ds(**kw):
    return {"ds": kw}


@case("dslite-basic", workers=(1, 2))
def dslite_basic(c):
    """UDP, TCP and ICMP echo from a B4 through the AFTR (inner ports kept), the replies encapsulated back to the
    B4; `nat show sessions` shows the B4 with the inner endpoint."""
    r = ds_router(c)
    p = Plan()
    pt = b4_port(c, B4A, 5000)
    u = IP(src=H4, dst=I) / UDP(sport=pt, dport=53) / payload(40)
    p.fwd(sw(B4A, u), decap_out(u, pt), DNEW(**SUB1), ds=FIRST)
    t = IP(src=H4, dst=I) / TCP(sport=pt + 1, dport=80, flags="S", seq=10, window=8192)
    p.fwd(sw(B4A, t), decap_out(t, pt + 1), DNEW(), ds={"decapsulated": 1})
    e = IP(src=H4, dst=I) / ICMP(type=8, id=pt + 2, seq=1) / payload(24)
    p.fwd(sw(B4A, e), decap_out(e, pt + 2), DNEW(), ds={"decapsulated": 1})
    ru = from_net(IP(src=I, dst=PD) / UDP(sport=53, dport=pt) / payload(60, 1))
    p.fwd(ru, back(ru, B4A, pt), out2in=1, ds={"encapsulated": 1})
    rt = from_net(IP(src=I, dst=PD) / TCP(sport=80, dport=pt + 1, flags="SA", seq=900, ack=11, window=8192))
    p.fwd(rt, back(rt, B4A, pt + 1), out2in=1, ds={"encapsulated": 1})
    re_ = from_net(IP(src=I, dst=PD) / ICMP(type=0, id=pt + 2, seq=1) / payload(24))
    p.fwd(re_, back(re_, B4A, icmp_id=pt + 2), out2in=1, ds={"encapsulated": 1})
    # second packet of the UDP flow: the session is found, nothing new
    u2 = IP(src=H4, dst=I) / UDP(sport=pt, dport=53) / payload(30, 2)
    p.fwd(sw(B4A, u2), decap_out(u2, pt), ds={"decapsulated": 1})

    def after(r, natc):
        rows = nat_sessions(r)
        for proto, port in (("udp", pt), ("tcp", pt + 1), ("icmp", pt + 2)):
            m = find_sessions(rows, proto, inside=(H4, port), public=(PD, port))
            c.check(len(m) == 1 and b4_of(m[0]) == B4A, "%s session of [%s]%s:%d: %s" % (proto, B4A, H4, port,
                                                                                          rows[:4]))
    run_plan(c, r, p, after)


@case("dslite-two-b4", workers=(1, 2))
def dslite_two_b4(c):
    """Two B4s with the same inner address and port: distinct public ports, each reply to its own B4."""
    pt = b4_port(c, B4A, 5000)
    u = IP(src=H4, dst=I) / UDP(sport=pt, dport=53)
    qa, qb = sw(B4A, u / payload(20, 1)), sw(B4B, u / payload(20, 2))
    first = learn(c, ds_router, [qa, qb], queue=(b4_owner(B4A, c.workers) + 1) % c.workers if c.workers > 1
                  else None)
    pub = {}
    for g in first:
        ip = Ether(g)[IP]
        pub[bytes(ip[UDP].payload)[:1]] = ip[UDP].sport
        c.check(ip.src == PD, "B4 flow left with source %s" % ip.src)
    pa, pb = pub.get(bytes(payload(20, 1))[:1]), pub.get(bytes(payload(20, 2))[:1])
    if not c.check(pa and pb and pa != pb, "public ports of the two B4s: %s" % pub):
        return
    r = ds_router(c)
    p = Plan()
    for q, pk, inner in ((qa, pa, u / payload(20, 1)), (qb, pb, u / payload(20, 2))):
        p.fwd(q, decap_out(inner, pk), DNEW(preserved=pk == pt, **SUB1), ds=FIRST)
    for i, (pk, b4) in enumerate(((pa, B4A), (pb, B4B))):
        a = from_net(IP(src=I, dst=PD) / UDP(sport=53, dport=pk) / payload(30, 5 + i))
        p.fwd(a, back(a, b4, pt), out2in=1, ds={"encapsulated": 1})
    run_plan(c, r, p)


@case("dslite-reassembly", workers=(1, 2))
def dslite_reassembly(c):
    """Fragmented softwire packets (an IPv6 fragment header, 1232 + 196 bytes) are reassembled and translated as
    one IPv4 packet, in order and out of order."""
    r = ds_router(c)
    p = Plan()
    pt = b4_port(c, B4A, 5000)
    for n, order in ((0, (0, 1)), (1, (1, 0))):
        inner = IP(src=H4, dst=I, id=0x100 + n) / UDP(sport=pt, dport=53) / payload(1400, n)
        frags = ip6_frags(IPv6(src=B4A, dst=AFTR, hlim=64) / inner, [(0, 1232), (1232, 196)], 0xabc0 + n)
        fr = [from_b4(frags[i]) for i in order]
        p.drop(fr[0], None, ds={"frag_in": 1})
        p.fwd(fr[1], decap_out(inner, pt), DNEW(**SUB1) if n == 0 else {},
              ds=dict(frag_in=1, reassembled=1, decapsulated=1, **({"b4_created": 1} if n == 0 else {})))
    run_plan(c, r, p)


@case("dslite-encap-mtu", workers=(1,))
def dslite_encap_mtu(c):
    """AFTR mtu 1280: a reply whose softwire packet would be 1340 bytes with DF clear is sent as IPv6 fragments
    (each within the mtu, reassembling to the encapsulated reply); with DF set the sender gets ICMPv4
    fragmentation needed (mtu 1240) quoting what it sent, and nothing goes to the B4; 1240 bytes with DF fit."""
    r = ds_router(c, mtu=1280)
    p = Plan()
    pt = 5000
    u = IP(src=H4, dst=I) / UDP(sport=pt, dport=53) / payload(20)
    p.fwd(sw(B4A, u), decap_out(u, pt), DNEW(**SUB1), ds=FIRST)
    big = from_net(IP(src=I, dst=PD, id=77) / UDP(sport=53, dport=pt) / payload(1272, 3))  # 1300 bytes
    p.fwd(big, None, out2in=1, ds=dict(encapsulated=1, encap_fragmented=1, encap_fragments=2))
    p.unknown += 1  # two fragments out for one frame in
    df = from_net(IP(src=I, dst=PD, id=78, flags="DF") / UDP(sport=53, dport=pt) / payload(1272, 4))
    p.fwd(df, icmp4_error(df, NET_IF4, 3, 4, R_NET, HOSTS[("a100", I)], vlan=100, info=1240), out2in=1,
          ds={"too_big_icmp": 1})
    fit = from_net(IP(src=I, dst=PD, id=79, flags="DF") / UDP(sport=53, dport=pt) / payload(1212, 5))  # 1240
    p.fwd(fit, back(fit, B4A, pt), out2in=1, ds={"encapsulated": 1})
    want = bytes(back(big, B4A, pt))

    def rest(frames):
        if not c.check(len(frames) == 2, "%d fragments" % len(frames)):
            return
        fr = sorted((Ether(g) for g in frames), key=lambda e: e[IPv6ExtHdrFragment].offset)
        data = b""
        for e in fr:
            c.check(len(bytes(e[IPv6])) <= 1280, "fragment of %d bytes > mtu 1280" % len(bytes(e[IPv6])))
            ip6 = e[IPv6]
            c.check(ip6.src == AFTR and ip6.dst == B4A and ip6.nh == 44 and ip6.hlim == 64,
                    "fragment header fields: %s" % ip6.summary())
            fh = e[IPv6ExtHdrFragment]
            c.check(fh.nh == 4 and fh.offset * 8 == len(data), "fragment at %d, expected %d (nh %d)"
                    % (fh.offset * 8, len(data), fh.nh))
            data += bytes(fh.payload)
        c.check(fr[0][IPv6ExtHdrFragment].m == 1 and fr[1][IPv6ExtHdrFragment].m == 0 and
                fr[0][IPv6ExtHdrFragment].id == fr[1][IPv6ExtHdrFragment].id, "fragment M flags / ids")
        c.check(bytes(frames[0])[:18] == want[:18], "fragment Ethernet header %s, expected %s"
                % (bytes(frames[0])[:18].hex(), want[:18].hex()))
        if data != want[18 + 40:]:  # Ethernet + VLAN tag + IPv6 header
            from harness import frame_diff
            c.fail("reassembled fragments differ from the encapsulated reply: %s" % frame_diff(want[58:], data))
        c.check(not checksums_ok(data), "inner packet checksums: %s" % checksums_ok(data))
    run_plan(c, r, p, rest=rest)


def mss_syn(src, dst, sport, dport, mss, flags="S", seq=1, ack=0):
    return IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=8192,
                                      options=[("MSS", mss), ("NOP", None), ("NOP", None), ("SAckOK", b"")])


@case("dslite-mss", workers=(1, 2))
def dslite_mss(c):
    """mtu 1400: MSS clamped to 1320 (mtu - 80) on the B4's SYN and on the SYN-ACK towards it (the TCP checksum
    right after the change); a smaller MSS is left alone."""
    r = ds_router(c, mtu=1400)
    p = Plan()
    pt = b4_port(c, B4A, 5000)
    syn = mss_syn(H4, I, pt, 80, 1460)
    p.fwd(sw(B4A, syn), decap_out(mss_syn(H4, I, pt, 80, 1320), pt), DNEW(**SUB1),
          ds=dict(FIRST, mss_clamped_in=1))
    sa = from_net(mss_syn(I, PD, 80, pt, 1460, "SA", 500, 2))
    p.fwd(sa, encap(B4A, xl(mss_syn(I, PD, 80, pt, 1320, "SA", 500, 2), dst=H4)), out2in=1,
          ds=dict(encapsulated=1, mss_clamped_out=1))
    small = mss_syn(H4, I, pt + 1, 80, 1000)
    p.fwd(sw(B4A, small), decap_out(small, pt + 1), DNEW(), ds={"decapsulated": 1})
    run_plan(c, r, p)


@case("dslite-ptb", workers=(1, 2))
def dslite_ptb(c):
    """An ICMPv6 packet too big (mtu 1300) from a router of the access network about a softwire packet to the B4
    is relayed as ICMPv4 fragmentation needed (1300 - 40) to the inner packet's sender, quoting what it sent
    (destination the public endpoint again)."""
    r = ds_router(c)
    p = Plan()
    pt = b4_port(c, B4A, 5000)
    u = IP(src=H4, dst=I) / UDP(sport=pt, dport=53) / payload(20)
    p.fwd(sw(B4A, u), decap_out(u, pt), DNEW(**SUB1), ds=FIRST)
    big = from_net(IP(src=I, dst=PD, id=55) / UDP(sport=53, dport=pt) / payload(1372, 6))  # 1400 bytes
    enc = back(big, B4A, pt)
    p.fwd(big, enc, out2in=1, ds={"encapsulated": 1})
    enc6 = Ether(enc)[IPv6]
    ptb = from_b4(IPv6(src=R6, dst=AFTR, hlim=64) / ICMPv6PacketTooBig(mtu=1300) / Raw(bytes(enc6)[:1232]))
    # what I sent, as the AFTR forwarded it (TTL one less), is what the error quotes
    sent = bytearray(ip4_of(big))
    sent[8] -= 1
    sent = bytes(xl(bytes(sent), ttl_dec=0))
    quoted_frame = from_net(IP(sent))
    p.fwd(ptb, icmp4_error(quoted_frame, NET_IF4, 3, 4, R_NET, HOSTS[("a100", I)], vlan=100, info=1260),
          ds={"icmp6_ptb_relayed": 1})
    # the B4's worker reads everything: the reply must not overtake the request (it would on another worker, where
    # the request goes through DS-Lite's hand-off ring and the reply through NAT's: see /tmp/npsgw-bugs.md)
    run_plan(c, r, p, queue=b4_owner(B4A, c.workers) if c.workers > 1 else None)
