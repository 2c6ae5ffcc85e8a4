# SPDX-License-Identifier: BSD-3-Clause
"""The firewall's bad-input corpus: every malformed or impossible packet is dropped under its own reason (exact
counts, every other reason 0), the firewall's counters are exact, and a good flow in the same run is untouched."""
import struct

from harness import case
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, ICMPv6DestUnreach
from cases_fw_common import (IP, IPv6, UDP, ICMP, Raw, S4, S6, I4, I6, S4_OTHER, S6_OTHER, TcpConv, Plan, fw_router,
                             run_plan, s2i, i2s, out_i, out_s, payload, ip4_frags, ip6_frags, sessions,
                             find_session, session_state, rule_hits, tcp4, tcp6)

MOD = 1 << 32

# site -> internet allowed (stateful), everything else denied; UDP to port 9 denied by a rule (for fragments of a
# denied datagram)
RULESETS = [{
    "vrf": "main", "default": "deny",
    "policies": [{"from": "site", "to": "internet", "action": "allow"}],
    "rules": [{"name": "discard", "action": "deny", "proto": "udp", "dport": 9}],
}]


def udp_flow(p, sport, v6=False, n=1):
    """The good flow: n UDP requests S -> I:53 and their replies, all forwarded (one new session)."""
    src, dst, mk = (S6, I6, IPv6) if v6 else (S4, I4, IP)
    for i in range(n):
        q = s2i(mk(src=src, dst=dst) / UDP(sport=sport, dport=53) / payload(20, i))
        if i == 0:
            p.fwd((q, out_i(q)), allowed_new=1)
        else:
            p.fwd((q, out_i(q)), allowed_session=1)
        a = i2s(mk(src=dst, dst=src) / UDP(sport=53, dport=sport) / payload(40, i))
        p.fwd((a, out_s(a)), allowed_session=1)


def handshake(p, t):
    syn, synack, ack = t.handshake()
    p.fwd(syn, allowed_new=1)
    p.fwd(synack, allowed_session=1)
    p.fwd(ack, allowed_session=1)


def check_established(c, r, flows):
    """flows: [(TcpConv, state)]: each session is shown in that state."""
    rows_ = sessions(r)
    for t, state in flows:
        s = find_session(rows_, "tcp", t.sport, t.dport)
        if c.check(len(s) == 1, "session of tcp %d -> %d: %s" % (t.sport, t.dport, s)):
            c.check(session_state(s[0]) == state, "tcp %d -> %d in state %s, expected %s"
                    % (t.sport, t.dport, session_state(s[0]), state))
    return rows_


@case("fw-bad-tcp-flags", group="badinput", workers=(1, 2))
def fw_bad_tcp_flags(c):
    r = fw_router(c, RULESETS)
    p = Plan()
    udp_flow(p, 2000)
    t = TcpConv(40001, 80)
    handshake(p, t)
    bad = ["SF", "SR", "", "FPU", "F", "SFA", "SRA", "FU"]  # SYN+FIN, SYN+RST, null, xmas, FIN w/o ACK, ...
    # on the established session, from either side: refused, session untouched
    for f in bad:
        p.drop(t.c(f, seq=t.cnext), "fw_tcp_bad_flags")
    for f in ("SF", "", "FPU"):
        p.drop(t.s(f, seq=t.snext), "fw_tcp_bad_flags")
    # without a session (would-be openers)
    u = TcpConv(40002, 80)
    for f in bad:
        p.drop(u.c(f, seq=u.cnext), "fw_tcp_bad_flags")
    u6 = TcpConv(40003, 80, v6=True)
    for f in ("SF", "SR", "", "FPU", "F"):
        p.drop(u6.c(f, seq=u6.cnext), "fw_tcp_bad_flags")
    # the session still carries data both ways
    p.fwd(t.c("PA", 100), allowed_session=1)
    p.fwd(t.s("A"), allowed_session=1)
    udp_flow(p, 2001)

    def after(r, fwc):
        rows_ = check_established(c, r, [(t, "established")])
        c.check(len(rows_) == 3, "%d sessions, expected 3 (tcp 40001, udp 2000, udp 2001): %s" % (len(rows_), rows_))
        # dropped before any lookup (docs/FIREWALL.md): counted as the drop only, the tracker never saw them
        c.check(fwc["tcp_invalid_flags"] == 0, "tracker counted %d invalid flags" % fwc["tcp_invalid_flags"])
    run_plan(c, r, p, after)


@case("fw-bad-tcp-window", group="badinput", workers=(1, 2))
def fw_bad_tcp_window(c):
    r = fw_router(c, RULESETS, sessions={"tcp_window_check": True})
    p = Plan()
    udp_flow(p, 2002)
    t = TcpConv(40010, 80)
    handshake(p, t)
    p.fwd(t.c("PA", 100), allowed_session=1)
    p.fwd(t.s("A"), allowed_session=1)
    oow = [
        t.c("PA", 10, seq=(t.cnext + 10000000) % MOD),  # far beyond what the server's window allows
        t.c("PA", 10, seq=(t.cnext - 5000000) % MOD),  # far behind anything still unacknowledged
        t.c("A", seq=t.cnext, ack=(t.snext + 1000000) % MOD),  # acknowledges data the server never sent
        t.s("PA", 10, seq=(t.snext + 2000000) % MOD),
        t.s("A", seq=t.snext, ack=(t.cnext + 500000) % MOD),
        t.c("R", seq=(t.cnext + 10000000) % MOD),  # blind reset outside the window
    ]
    for f in oow:
        p.drop(f, "fw_tcp_out_of_window")
    # IPv6: the same on a second session
    t6 = TcpConv(40011, 443, v6=True)
    handshake(p, t6)
    p.drop(t6.c("PA", 10, seq=(t6.cnext + 10000000) % MOD), "fw_tcp_out_of_window")
    p.drop(t6.c("A", seq=t6.cnext, ack=(t6.snext + 1000000) % MOD), "fw_tcp_out_of_window")
    # both sessions carry on
    p.fwd(t.c("PA", 50), allowed_session=1)
    p.fwd(t.s("PA", 70), allowed_session=1)
    p.fwd(t.c("A"), allowed_session=1)
    p.fwd(t6.c("PA", 30), allowed_session=1)
    p.fwd(t6.s("A"), allowed_session=1)
    udp_flow(p, 2003)

    def after(r, fwc):
        c.check(fwc["tcp_out_of_window"] == 8, "session table counted %d out of window, expected 8"
                % fwc["tcp_out_of_window"])
        check_established(c, r, [(t, "established"), (t6, "established")])
    run_plan(c, r, p, after)


def icmp4_err(src, dst, quoted, type_=3, code=3):
    return IP(src=src, dst=dst) / ICMP(type=type_, code=code) / Raw(bytes(quoted))


def icmp6_err(src, dst, quoted, type_=1, code=4):
    return IPv6(src=src, dst=dst) / ICMPv6DestUnreach(type=type_, code=code) / Raw(bytes(quoted))


@case("fw-bad-icmp", group="badinput", workers=(1, 2))
def fw_bad_icmp(c):
    r = fw_router(c, RULESETS)
    p = Plan()
    # sessions: UDP S:3000 -> I:53 (v4, v6), TCP S:40020 -> I:80
    q4 = IP(src=S4, dst=I4, ttl=63) / UDP(sport=3000, dport=53) / payload(20)  # as it reached I
    q6 = IPv6(src=S6, dst=I6, hlim=63) / UDP(sport=3000, dport=53) / payload(20)
    udp_flow(p, 3000)
    udp_flow(p, 3000, v6=True)
    t = TcpConv(40020, 80)
    handshake(p, t)
    # related errors pass (the good flow of this case)
    e = i2s(icmp4_err(I4, S4, q4))
    p.fwd((e, out_s(e)), allowed_related=1)
    e = i2s(icmp6_err(I6, S6, q6))
    p.fwd((e, out_s(e)), allowed_related=1)
    qb = bytes(q4)
    # truncated embedded headers
    for quoted in (b"", qb[:12], qb[:19], qb[:22], b"\x46" + qb[1:20] + b"\0" * 4 + qb[20:24]):  # IHL 6: 24 + 8 needed
        p.drop(i2s(icmp4_err(I4, S4, quoted)), "fw_icmp_bad_embedded")
    q6b = bytes(q6)
    for quoted in (q6b[:30], q6b[:39], q6b[:44]):
        p.drop(i2s(icmp6_err(I6, S6, quoted)), "fw_icmp_bad_embedded")
    # forged: sent to another host than the quoted packet's source (the quote matches a live session)
    p.drop(i2s(icmp4_err(I4, S4_OTHER, q4)), "fw_icmp_bad_embedded")
    p.drop(i2s(icmp6_err(I6, S6_OTHER, q6)), "fw_icmp_bad_embedded")
    # forged: an error about an ICMP error
    inner = IP(src=S4, dst=I4) / ICMP(type=3, code=1) / Raw(qb[:28])
    p.drop(i2s(icmp4_err(I4, S4, inner)), "fw_icmp_bad_embedded")
    # well formed, but the quoted packet belongs to no session
    for quoted in (IP(src=S4, dst=I4, ttl=63) / UDP(sport=3999, dport=53) / payload(8),
                   IP(src=S4, dst=I4, ttl=63) / UDP(sport=3000, dport=54) / payload(8),
                   IP(src=S4, dst=I4, ttl=63) / syn_hdr(41000, 80),
                   IP(src=S4, dst=I4, ttl=63) / ICMP(type=8, id=77, seq=1) / payload(8)):
        p.drop(i2s(icmp4_err(I4, S4, quoted)), "fw_icmp_no_session")
    p.drop(i2s(icmp6_err(I6, S6, IPv6(src=S6, dst=I6) / UDP(sport=3999, dport=53) / payload(8))),
           "fw_icmp_no_session")
    # the sessions are intact
    p.fwd(t.c("PA", 10), allowed_session=1)
    p.fwd(t.s("A"), allowed_session=1)
    udp_flow(p, 3001)
    run_plan(c, r, p)


def syn_hdr(sport, dport):
    """A bare TCP SYN header (for quoted packets and fragmented datagrams)."""
    from scapy.all import TCP
    return TCP(sport=sport, dport=dport, flags="S", seq=1)


def ext6(kinds, sport, big=False):
    """IPv6 S -> I, UDP sport -> 53 behind the extension headers kinds (0 hop-by-hop, 60 destination options, 43
    routing type 253, 51 AH), built byte by byte. big: the last header is 520 bytes long."""
    udp = bytes(IPv6(src=S6, dst=I6) / UDP(sport=sport, dport=53) / payload(8))[40:]
    nhs = list(kinds[1:]) + [17]
    chain = b""
    for i, (k, nh) in enumerate(zip(kinds, nhs)):
        if k in (0, 60):
            if big and i == len(kinds) - 1:
                chain += bytes([nh, 64]) + b"\x01\xff" + b"\0" * 255 + \
                    b"\x01\xff" + b"\0" * 255 + b"\x01\x02\0\0"  # (64 + 1) * 8 = 520 bytes of PadN
            else:
                chain += bytes([nh, 0, 1, 4, 0, 0, 0, 0])
        elif k == 43:
            chain += bytes([nh, 0, 253, 0, 0, 0, 0, 0])
        elif k == 51:
            chain += bytes([nh, 2, 0, 0]) + struct.pack("!II", 0x100, 1) + b"\0" * 4
    body = chain + udp
    return IPv6(src=S6, dst=I6, nh=kinds[0], plen=len(body)) / Raw(body)


@case("fw-bad-ext", group="badinput", workers=(1, 2))
def fw_bad_ext(c):
    """IPv6 extension header chains: truncated, too long (9 headers: the limit is 8), hop-by-hop not first, routing
    type 0, and the good ones beside them (hop-by-hop + destination options pass)."""
    r = fw_router(c, RULESETS)
    p = Plan()
    udp_flow(p, 4000, v6=True)
    base = IPv6(src=S6, dst=I6)
    good = s2i(base / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(sport=4001, dport=53) / payload(8))
    p.fwd((good, out_i(good)), allowed_new=1)
    # truncated: a destination options header claiming 24 bytes, 8 present (the payload length says so)
    d = bytearray(bytes(base / IPv6ExtHdrDestOpt(nh=17) / payload(0)))
    d[41] = 2
    p.drop(s2i(IPv6(bytes(d))), "fw_ext_bad")
    # truncated: the chain ends inside a header's first 8 bytes
    d = bytes(base / IPv6ExtHdrDestOpt(nh=60) / payload(0)) + b"\x11\x00\x01\x04"
    d = d[:4] + struct.pack("!H", len(d) - 40) + d[6:]
    p.drop(s2i(IPv6(d)), "fw_ext_bad")
    # too long: 9 extension headers (the limit is 8), then more than 512 bytes of them in 2
    p.drop(s2i(ext6([0, 60, 43, 60, 51, 51, 51, 51, 51], 4010)), "fw_ext_bad")
    p.drop(s2i(ext6([0, 60], 4011, big=True)), "fw_ext_bad")
    # the longest chain allowed passes: 8 headers
    ok8 = s2i(ext6([0, 60, 43, 60, 51, 51, 51, 51], 4012))
    p.fwd((ok8, out_i(ok8)), allowed_new=1)
    # hop-by-hop not first
    p.drop(s2i(base / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / UDP(sport=4003, dport=53)), "fw_ext_bad")
    # routing header type 0 (RFC 5095), with and without segments left
    p.drop(s2i(base / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8:1a::9"]) /
               UDP(sport=4004, dport=53)), "fw_ext_bad")
    p.drop(s2i(base / IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8:1a::9"]) /
               UDP(sport=4005, dport=53)), "fw_ext_bad")
    # two routing headers
    p.drop(s2i(ext6([43, 43], 4006)), "fw_ext_bad")
    # three destination options headers
    p.drop(s2i(ext6([60, 43, 60, 60], 4013)), "fw_ext_bad")
    udp_flow(p, 4007, v6=True)

    def after(r, fwc):
        rows_ = sessions(r)
        c.check(len(rows_) == 4, "%d sessions, expected 4 (udp 4000, 4001, 4012, 4007): %s" % (len(rows_), rows_))
    run_plan(c, r, p, after)


@case("fw-bad-tcp-no-session", group="badinput", workers=(1, 2))
def fw_bad_tcp_no_session(c):
    """TCP segments other than a SYN with no session: not picked up mid-stream (tcp_loose is off by default)."""
    r = fw_router(c, RULESETS)
    p = Plan()
    udp_flow(p, 5000)
    u = TcpConv(40030, 80)
    p.drop(u.c("A"), "fw_tcp_no_session")
    p.drop(u.c("PA", 100), "fw_tcp_no_session")
    p.drop(u.c("FA"), "fw_tcp_no_session")
    p.drop(u.c("SA"), "fw_tcp_no_session")  # a SYN-ACK opens nothing
    u6 = TcpConv(40031, 80, v6=True)
    p.drop(u6.c("A"), "fw_tcp_no_session")
    p.drop(u6.c("PA", 10), "fw_tcp_no_session")
    # the same tuple then opens properly
    handshake(p, u)
    p.fwd(u.c("PA", 10), allowed_session=1)
    # a SYN-ACK from the side that sent the SYN: not valid in syn-sent; the handshake then completes
    v = TcpConv(40032, 80)
    p.fwd(v.c("S"), allowed_new=1)
    p.drop(v.c("SA", seq=v.cnext, ack=123456), "fw_tcp_bad_state")
    p.fwd(v.s("SA"), allowed_session=1)
    p.fwd(v.c("A"), allowed_session=1)
    udp_flow(p, 5001)

    def after(r, fwc):
        check_established(c, r, [(u, "established"), (v, "established")])
        c.check(fwc["tcp_invalid_state"] == 1, "session table counted %d invalid state" % fwc["tcp_invalid_state"])
        # the policy that allows site -> internet decided 4 new flows (udp 5000, 5001, the SYNs of u and v); the
        # segments that could not open a session are no hit of it
        _, rs = rule_hits(r)
        c.check(rs and int(rs["policy_packets"]) == 4, "policy packets %s, expected 4" % (rs and rs["policy_packets"]))
    run_plan(c, r, p, after)


# ---------------------------------------------------------------------------------------------------------------
# Fragments

def dgram4(sport, dport, n=64, seed=0):
    return IP(src=S4, dst=I4) / UDP(sport=sport, dport=dport) / payload(n, seed)


def dgram6(sport, dport, n=64, seed=0):
    return IPv6(src=S6, dst=I6) / UDP(sport=sport, dport=dport) / payload(n, seed)


THIRDS = [(0, 24), (24, 24), (48, 24)]  # 72 bytes of UDP (8 + 64)


@case("fw-bad-frag", group="badinput", workers=(1, 2))
def fw_bad_frag(c):
    r = fw_router(c, RULESETS)
    p = Plan()
    udp_flow(p, 6000)

    def fwd(f, **cnt):
        f = s2i(f)
        p.fwd((f, out_i(f)), **cnt)

    for fr, mk, d in ((ip4_frags, dgram4, 0), (ip6_frags, dgram6, 1000)):
        # allowed, in order: the first opens the session, the others follow its verdict (no counter of their own)
        a, b, cc = fr(mk(6001, 53), THIRDS, 101 + d)
        fwd(a, allowed_new=1)
        fwd(b)
        fwd(cc)
        # allowed, out of order: the later ones are held until the first came, then released
        a, b, cc = fr(mk(6002, 53), THIRDS, 102 + d)
        p.frames += [s2i(cc), s2i(b)]
        p.fw.update(frag_held=2)
        fwd(a, allowed_new=1)
        p.out["p0"] += [out_i(s2i(cc)), out_i(s2i(b))]
        p.fw.update(frag_released=2)
        # denied first fragment: the later ones are dropped with it (also one held before it came)
        a, b, cc = fr(mk(6003, 9), THIRDS, 103 + d)
        p.drop(s2i(a), "fw_deny")
        p.drop(s2i(b), "fw_frag_denied")
        p.drop(s2i(cc), "fw_frag_denied")
        a, b, cc = fr(mk(6004, 9), THIRDS, 104 + d)
        p.drop(s2i(cc), "fw_frag_denied", frag_held=1)
        p.drop(s2i(a), "fw_deny", frag_released=1)  # the held one leaves the queue with the verdict: dropped
        # overlapping: a later fragment covering part of one already seen
        a, b = fr(mk(6005, 53), [(0, 24), (16, 24)], 105 + d)
        fwd(a, allowed_new=1)
        p.drop(s2i(b), "fw_frag_overlap")
        # tiny first fragment: 16 bytes, not the whole TCP header
        tcp_dgram = (IP(src=S4, dst=I4) if d == 0 else IPv6(src=S6, dst=I6)) / syn_hdr(40040, 80) / payload(40)
        (tiny,) = fr(tcp_dgram, [(0, 16, True)], 106 + d)
        p.drop(s2i(tiny), "fw_frag_bad")
        # TCP fragment at offset 8 (could rewrite the first one's flags, RFC 1858)
        (off8,) = fr(tcp_dgram, [(8, 24, True)], 107 + d)
        p.drop(s2i(off8), "fw_frag_bad")
        # a fragment that is not the last with a length that is not a multiple of 8
        (odd,) = fr(mk(6008, 53), [(0, 20, True)], 108 + d)
        p.drop(s2i(odd), "fw_frag_bad")
    # a later fragment whose first never comes: held, dropped when the datagram times out (2 s)
    (orphan,) = ip4_frags(dgram4(6010, 53), [(24, 24)], 110)
    p.drop(s2i(orphan), "fw_frag_no_first", frag_held=1)
    udp_flow(p, 6009)
    run_plan(c, r, p, wait=("the held orphan fragment to time out",
                            lambda s: s["drops"].get("fw_frag_no_first", 0) >= 1))


@case("fw-frag-tcp", group="badinput", workers=(1, 2))
def fw_frag_tcp(c):
    """A TCP segment sent IP-fragmented: tracked by its first fragment, extended to the whole segment once the last
    fragment passed, so that the peer's ACK of all of it is in the window (in order, and with the last fragment
    ahead of the first)."""
    r = fw_router(c, RULESETS, sessions={"tcp_window_check": True})
    p = Plan()
    udp_flow(p, 6100)
    for v6, sport, ident in ((False, 41700, 201), (True, 41701, 202)):
        t = TcpConv(sport, 80, v6=v6)
        handshake(p, t)
        mk, frags = (tcp6, ip6_frags) if v6 else (tcp4, ip4_frags)
        seg = mk(t.cli, t.srv, sport, 80, "PA", t.cnext, t.snext, data=1000)
        # 20 bytes of TCP header + 1000 of data: the first fragment carries 4 of them
        a, b, last = [s2i(f) for f in frags(seg, [(0, 24), (24, 496), (520, 500)], ident)]
        t.cnext += 1000
        if not v6:
            p.fwd((a, out_i(a)), allowed_session=1)
            p.fwd((b, out_i(b)))
            p.fwd((last, out_i(last)))
        else:
            p.frames.append(last)  # held until the first fragment came
            p.fw.update(frag_held=1)
            p.fwd((a, out_i(a)), allowed_session=1)
            p.out["p0"].append(out_i(last))
            p.fw.update(frag_released=1)
            p.fwd((b, out_i(b)))
        # the server acknowledges the whole segment, then both go on
        p.fwd(t.s("A"), allowed_session=1)
        p.fwd(t.s("PA", 10), allowed_session=1)
        p.fwd(t.c("A"), allowed_session=1)
    udp_flow(p, 6101)
    run_plan(c, r, p)
