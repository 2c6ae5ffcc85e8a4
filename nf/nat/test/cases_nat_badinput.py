# SPDX-License-Identifier: BSD-3-Clause
"""NAT44 bad input: every malformed, impossible or forged packet is dropped under its own reason (exact counts,
every other reason 0), the NAT counters are exact, and a good flow in the same run is translated as before."""
from harness import case
from cases_nat_common import (IP, UDP, TCP, ICMP, Raw, A, I, I2, P, SUB1, NEW, Plan, nat_router, from_t1,
                              from_net, to_t1, to_net, payload, xl, icmp_err, ip4_of, ip4_frags, pres_port, run_plan,
                              xl_err)

MOD = 1 << 32


def good_flow(p, h, port, first=False, seed=0):
    """A UDP request h:port -> I:53 and its answer, both translated."""
    q = from_t1(IP(src=h, dst=I) / UDP(sport=port, dport=53) / payload(20, seed))
    p.fwd(q, to_net(xl(ip4_of(q), src=P)), NEW(**SUB1) if first else {"in2out": 1})
    a = from_net(IP(src=I, dst=P) / UDP(sport=53, dport=port) / payload(30, seed))
    p.fwd(a, to_t1(xl(ip4_of(a), dst=h)), out2in=1)


@case("nat-bad-l4", group="badinput", workers=(1, 2))
def nat_bad_l4(c):
    """Transport headers truncated (inside to outside and outside to a public address): UDP of 4 bytes, TCP of 12,
    TCP with a data offset beyond the packet or below 5, ICMP of 4, a first fragment too short for the TCP
    header (RFC 1858): nat_l4_truncated."""
    r = nat_router(c)
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    good_flow(p, A, pa, first=True)
    tcp = bytes(TCP(sport=pa, dport=80, flags="S", seq=1))
    bad = [(17, bytes(UDP(sport=pa, dport=53))[:4]),
           (6, tcp[:12]),
           (6, tcp[:12] + bytes([0xF0]) + tcp[13:]),  # data offset 15: 60 bytes announced, 20 there
           (6, tcp[:12] + bytes([0x40]) + tcp[13:]),  # data offset 4
           (1, bytes(ICMP(type=8, id=pa))[:4])]
    for proto, l4 in bad:
        p.drop(from_t1(IP(src=A, dst=I, proto=proto) / Raw(l4)), "nat_l4_truncated")
        p.drop(from_net(IP(src=I, dst=P, proto=proto) / Raw(l4)), "nat_l4_truncated")
    # first fragment with 8 bytes of TCP: no flags, no data offset
    dg = IP(src=A, dst=I, id=99) / TCP(sport=pa, dport=80, flags="S", seq=1) / payload(40)
    p.drop(from_t1(ip4_frags(dg, [(0, 8)], 99)[0]), "nat_l4_truncated")
    good_flow(p, A, pa, seed=1)
    run_plan(c, r, p)


@case("nat-bad-proto", group="badinput", workers=(1,))
def nat_bad_proto(c):
    """Protocols NAT does not translate: GRE, SCTP, an ICMP type that is neither a query nor an error (router
    advertisement), both ways: nat_proto_unsupported; ICMP timestamp (a query) is translated."""
    r = nat_router(c)
    p = Plan()
    good_flow(p, A, 5000, first=True)
    for proto in (47, 132):
        p.drop(from_t1(IP(src=A, dst=I, proto=proto) / payload(24)), "nat_proto_unsupported")
        p.drop(from_net(IP(src=I, dst=P, proto=proto) / payload(24)), "nat_proto_unsupported")
    p.drop(from_t1(IP(src=A, dst=I) / ICMP(type=9, code=0) / payload(8)), "nat_proto_unsupported")
    p.drop(from_net(IP(src=I, dst=P) / ICMP(type=9, code=0) / payload(8)), "nat_proto_unsupported")
    ts = from_t1(IP(src=A, dst=I) / ICMP(type=13, id=5100, seq=1) / Raw(b"\0" * 12))
    p.fwd(ts, to_net(xl(ip4_of(ts), src=P)), NEW())
    tr = from_net(IP(src=I, dst=P) / ICMP(type=14, id=5100, seq=1) / Raw(b"\1" * 12))
    p.fwd(tr, to_t1(xl(ip4_of(tr), dst=A)), out2in=1)
    good_flow(p, A, 5000, seed=1)
    run_plan(c, r, p)


def tcp_l3(src, dst, sport, dport, flags, seq=0, ack=0, data=0):
    return IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=65535) / \
        payload(data, seq & 0xFF)


@case("nat-bad-tcp", group="badinput", workers=(1, 2))
def nat_bad_tcp(c):
    """Impossible TCP flags (with and without a session, either side): nat_tcp_bad_flags; segments outside the
    tracked window: nat_tcp_out_of_window; the session carries on afterwards."""
    r = nat_router(c)
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    cs, ss = 1000, 70000

    def cli(flags, data=0, seq=None, ack=None):
        q = from_t1(tcp_l3(A, I, pa, 80, flags, cs if seq is None else seq, (ss if ack is None else ack)
                           if "A" in flags else 0, data))
        return q, to_net(xl(ip4_of(q), src=P))

    def srv(flags, data=0, seq=None, ack=None):
        q = from_net(tcp_l3(I, P, 80, pa, flags, ss if seq is None else seq, (cs if ack is None else ack)
                            if "A" in flags else 0, data))
        return q, to_t1(xl(ip4_of(q), dst=A))

    p.fwd(*cli("S"), counters=NEW(**SUB1))
    cs += 1
    p.fwd(*srv("SA"), out2in=1)
    ss += 1
    p.fwd(*cli("A"), in2out=1)
    for f in ("SF", "SR", "", "FPU", "F"):
        p.drop(cli(f)[0], "nat_tcp_bad_flags")
    for f in ("SF", "", "FPU"):
        p.drop(srv(f)[0], "nat_tcp_bad_flags")
    # no session: a would-be opener with impossible flags
    p.drop(from_t1(tcp_l3(A, I, pa + 1, 80, "SF", 5)), "nat_tcp_bad_flags")
    # out of window, both sides
    p.drop(cli("PA", 10, seq=(cs + 10000000) % MOD)[0], "nat_tcp_out_of_window")
    p.drop(cli("A", ack=(ss + 1000000) % MOD)[0], "nat_tcp_out_of_window")
    p.drop(srv("PA", 10, seq=(ss + 2000000) % MOD)[0], "nat_tcp_out_of_window")
    p.fwd(*cli("PA", 100), in2out=1)
    cs += 100
    p.fwd(*srv("A"), out2in=1)
    run_plan(c, r, p)


@case("nat-bad-icmp", group="badinput", workers=(1, 2))
def nat_bad_icmp(c):
    """ICMP errors with forged or broken quotes: quoting a public endpoint with no session, a session's endpoint
    with another remote, a quote truncated below IPv4 + 8 bytes, a quote whose source is not the error's
    destination, an error quoting an error, a quote of a non-first fragment; inside to outside: an error quoting a
    packet no mapping let in. Each under its reason; the real errors still pass."""
    r = nat_router(c)
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    q = from_t1(IP(src=A, dst=I) / UDP(sport=pa, dport=53) / payload(20))
    p.fwd(q, to_net(xl(ip4_of(q), src=P)), NEW(**SUB1))
    seen = bytes(xl(ip4_of(q), src=P))  # the request as I got it
    qi = IP(seen)
    no_sess = IP(src=P, dst=I, ttl=63) / UDP(sport=pa + 7, dport=53) / payload(8)
    other_remote = IP(src=P, dst=I2, ttl=63) / UDP(sport=pa, dport=53) / payload(8)
    for quoted in (no_sess, other_remote):
        p.drop(from_net(icmp_err(I, P, quoted)), "nat_icmp_no_session")
    not_from_dst = IP(src=I2, dst=I, ttl=63) / UDP(sport=pa, dport=53) / payload(8)
    err_of_err = IP(src=P, dst=I) / ICMP(type=3, code=3) / Raw(seen[:28])
    nf = bytearray(seen[:28])
    nf[6:8] = b"\x00\x10"  # fragment offset 16: a non-first fragment (no ports)
    nf[10:12] = b"\0\0"
    for quoted in (seen[:24], seen[:12], not_from_dst, err_of_err, bytes(nf)):
        p.drop(from_net(icmp_err(I, P, quoted)), "nat_icmp_bad_embedded")
    # inside to outside: A's error about a packet from I2 that no session let in
    p.drop(from_t1(icmp_err(A, I2, IP(src=I2, dst=A, ttl=63) / UDP(sport=53, dport=pa) / payload(8))),
           "nat_icmp_no_session")
    # the real error still passes
    e = from_net(icmp_err(I, P, qi))
    p.fwd(e, to_t1(xl_err(ip4_of(e), dst=A, q_src=A, q_sport=pa)), icmp_error_out2in=1, out2in=1)
    run_plan(c, r, p)


@case("nat-bad-frag", group="badinput", workers=(1,))
def nat_bad_frag(c):
    """Non-first fragments whose first fragment was not seen (inside to outside, and outside to a public address):
    nat_frag_no_first; the datagram whose first fragment comes first is translated."""
    r = nat_router(c)
    p = Plan()
    dg = IP(src=A, dst=I, id=0x77) / UDP(sport=5000, dport=53) / payload(100)
    f = ip4_frags(dg, [(0, 56), (56, 52)], 0x77)
    p.drop(from_t1(f[1]), "nat_frag_no_first")
    rp = IP(src=I, dst=P, id=0x88) / UDP(sport=53, dport=5000) / payload(100)
    p.drop(from_net(ip4_frags(rp, [(0, 56), (56, 52)], 0x88)[1]), "nat_frag_no_first")
    dg2 = IP(src=A, dst=I, id=0x78) / UDP(sport=5000, dport=53) / payload(100, 3)
    out2 = xl(dg2, src=P)
    for fi, o in zip(ip4_frags(dg2, [(0, 56), (56, 52)], 0x78), ip4_frags(out2, [(0, 56), (56, 52)], 0x78)):
        p.fwd(from_t1(fi), to_net(o), NEW(**SUB1) if fi.frag == 0 else {"in2out": 1, "frag_translated": 1})
    run_plan(c, r, p)
