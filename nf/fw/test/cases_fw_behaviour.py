# SPDX-License-Identifier: BSD-3-Clause
"""The firewall's behaviour through the real npsd: TCP state tracking, UDP and ICMP sessions, RELATED ICMP errors,
reject answers, zone-pair policies and VRF defaults, stateless pass rules, rule hit counters."""
import struct

from harness import case, icmp4_error, icmp6_error, csum, ip4_b, ip6_b, ip6_pseudo
from scapy.all import Ether, TCP as STCP
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6TimeExceeded, ICMPv6EchoRequest, ICMPv6EchoReply,
                                 ICMPv6PacketTooBig)
from topo import std_interfaces, STD_ROUTES, STD_NEIGHBOURS
from cases_fw_common import (IP, IPv6, UDP, ICMP, Raw, Dot1Q, S4, S6, I4, I6, R_A, H_A, R_B, GW_B, TcpConv, Plan,
                             fw_router, fw_section, run_plan, s2i, i2s, out_i, out_s, out_b, out_b200, from_a,
                             from_b, payload, sessions, find_session, session_state, rule_hits, fw_counters,
                             expect_fw, EXTRA_NEIGHBOURS)
from cases_fw_badinput import RULESETS, udp_flow, handshake

@case("fw-tcp-lifecycle", workers=(1, 2))
def fw_tcp_lifecycle(c):
    """Sessions left in every TCP state, each shown by `fw show sessions` with its packet counts."""
    r = fw_router(c, RULESETS)
    p = Plan()
    expect = []  # (conv, state, pkts_orig, pkts_reply)

    def fwd(pair, new=False):
        if new:
            p.fwd(pair, allowed_new=1)
        else:
            p.fwd(pair, allowed_session=1)

    for v6, base in ((False, 41000), (True, 42000)):
        # full life: handshake, data both ways, FIN from the client, ACK, FIN from the server, last ACK
        a = TcpConv(base + 1, 80, v6=v6)
        handshake(p, a)
        fwd(a.c("PA", 200))
        fwd(a.s("PA", 1000))
        fwd(a.c("A"))
        fwd(a.c("FA"))
        fwd(a.s("A"))
        fwd(a.s("FA"))
        fwd(a.c("A"))
        expect.append((a, "time-wait", 6, 4))
        # established only
        b = TcpConv(base + 2, 80, v6=v6)
        handshake(p, b)
        expect.append((b, "established", 2, 1))
        # SYN only
        s = TcpConv(base + 3, 80, v6=v6)
        fwd(s.c("S"), new=True)
        expect.append((s, "syn-sent", 1, 0))
        # SYN, SYN-ACK
        sr = TcpConv(base + 4, 80, v6=v6)
        fwd(sr.c("S"), new=True)
        fwd(sr.s("SA"))
        expect.append((sr, "syn-recv", 1, 1))
        # one FIN
        fw_ = TcpConv(base + 5, 80, v6=v6)
        handshake(p, fw_)
        fwd(fw_.c("FA"))
        expect.append((fw_, "fin-wait", 3, 1))
        # both FINs, the second not acknowledged
        cw = TcpConv(base + 6, 80, v6=v6)
        handshake(p, cw)
        fwd(cw.c("FA"))
        fwd(cw.s("FA"))
        expect.append((cw, "close-wait", 3, 2))
        # reset
        rs = TcpConv(base + 7, 80, v6=v6)
        handshake(p, rs)
        fwd(rs.s("R"))
        expect.append((rs, "closed", 2, 2))

    def after(r, fwc):
        rows_ = sessions(r)
        c.check(len(rows_) == len(expect), "%d sessions, expected %d" % (len(rows_), len(expect)))
        for t, state, po, pr in expect:
            s = find_session(rows_, "tcp", t.sport, t.dport)
            what = "tcp %s:%d -> %s:%d" % (t.cli, t.sport, t.srv, t.dport)
            if not c.check(len(s) == 1, "%s: sessions %s" % (what, s)):
                continue
            s = s[0]
            c.check(session_state(s) == state, "%s: state %s, expected %s" % (what, session_state(s), state))
            c.check(s["src"] == t.cli and s["dst"] == t.srv, "%s: shown as %s -> %s (the opener first)"
                    % (what, s["src"], s["dst"]))
            c.check(int(s["pkts_orig"]) == po and int(s["pkts_reply"]) == pr, "%s: packets %s/%s, expected %d/%d"
                    % (what, s["pkts_orig"], s["pkts_reply"], po, pr))
            c.check(s["rule"] == "(policy or default)", "%s: rule %r" % (what, s["rule"]))
        c.check(fwc["sessions_active"] == len(expect), "sessions_active %d" % fwc["sessions_active"])
        # the state filter
        tw = sessions(r, "state", "time-wait")
        c.check(len(tw) == 2 and all(session_state(x) == "time-wait" for x in tw), "state filter: %s" % tw)
    run_plan(c, r, p, after)


@case("fw-tcp-restart", workers=(1,))
def fw_tcp_restart(c):
    """A new SYN on a session in time-wait opens it again (the 4-tuple is reused)."""
    r = fw_router(c, RULESETS)
    p = Plan()
    a = TcpConv(41100, 80)
    handshake(p, a)
    for f in (a.c("FA"), a.s("FA"), a.c("A")):
        p.fwd(f, allowed_session=1)
    b = TcpConv(41100, 80, cseq=900000, sseq=77)
    handshake(p, b)
    p.fwd(b.c("PA", 10), allowed_session=1)

    def after(r, fwc):
        s = find_session(sessions(r), "tcp", 41100, 80)
        c.check(len(s) == 1 and session_state(s[0]) == "established", "restarted session: %s" % s)
        c.check(fwc["sessions_restarted"] == 1, "sessions_restarted %d" % fwc["sessions_restarted"])
    run_plan(c, r, p, after)


def icmp4_err(src, dst, quoted, type_=3, code=3):
    return IP(src=src, dst=dst) / ICMP(type=type_, code=code) / Raw(bytes(quoted))


@case("fw-udp-icmp", workers=(1, 2))
def fw_udp_icmp(c):
    """UDP and ICMP echo sessions (both families), unsolicited packets from the internet denied, RELATED ICMP
    errors passed (from the far host and from a router on the way, like traceroute's)."""
    r = fw_router(c, RULESETS)
    p = Plan()
    udp_flow(p, 7000, n=2)
    udp_flow(p, 7000, v6=True, n=2)
    # echo, both families: the identifier is the session's port on both sides
    for v6 in (False, True):
        for i in range(2):
            if v6:
                q = s2i(IPv6(src=S6, dst=I6) / ICMPv6EchoRequest(id=0x1234, seq=i) / payload(32))
                a = i2s(IPv6(src=I6, dst=S6) / ICMPv6EchoReply(id=0x1234, seq=i) / payload(32))
            else:
                q = s2i(IP(src=S4, dst=I4) / ICMP(type=8, id=0x1234, seq=i) / payload(32))
                a = i2s(IP(src=I4, dst=S4) / ICMP(type=0, id=0x1234, seq=i) / payload(32))
            p.fwd((q, out_i(q)), **({"allowed_new": 1} if i == 0 else {"allowed_session": 1}))
            p.fwd((a, out_s(a)), allowed_session=1)
    # unsolicited from the internet: a reply with another identifier, a UDP "reply" from another port, a request
    p.drop(i2s(IP(src=I4, dst=S4) / ICMP(type=0, id=0x1235, seq=0)), "fw_deny")
    p.drop(i2s(IPv6(src=I6, dst=S6) / ICMPv6EchoReply(id=0x1235)), "fw_deny")
    p.drop(i2s(IP(src=I4, dst=S4) / UDP(sport=54, dport=7000)), "fw_deny")
    p.drop(i2s(IP(src=I4, dst=S4) / ICMP(type=8, id=1)), "fw_deny")
    p.drop(i2s(IPv6(src=I6, dst=S6) / UDP(sport=53, dport=7001)), "fw_deny")
    # RELATED: port unreachable for a UDP session that got no answer (its session is NEW)
    q = s2i(IP(src=S4, dst=I4) / UDP(sport=7002, dport=33434) / payload(12))
    p.fwd((q, out_i(q)), allowed_new=1)
    e = i2s(icmp4_err(I4, S4, IP(src=S4, dst=I4, ttl=63) / UDP(sport=7002, dport=33434) / payload(12)))
    p.fwd((e, out_s(e)), allowed_related=1)
    q6 = s2i(IPv6(src=S6, dst=I6) / UDP(sport=7002, dport=33434) / payload(12))
    p.fwd((q6, out_i(q6)), allowed_new=1)
    e = i2s(IPv6(src=I6, dst=S6) / ICMPv6DestUnreach(code=4) /
            Raw(bytes(IPv6(src=S6, dst=I6, hlim=63) / UDP(sport=7002, dport=33434) / payload(12))))
    p.fwd((e, out_s(e)), allowed_related=1)
    # RELATED: time exceeded from a router on the way (its address is not the session's), for a TCP SYN
    t = TcpConv(41200, 443)
    p.fwd(t.c("S"), allowed_new=1)
    e = i2s(icmp4_err("10.1.0.99", S4, bytes(IP(src=S4, dst=I4, ttl=1) / STCP(sport=41200, dport=443, flags="S",
                                                                               seq=1000))[:28], 11, 0))
    p.fwd((e, out_s(e)), allowed_related=1)
    t6 = TcpConv(41201, 443, v6=True)
    p.fwd(t6.c("S"), allowed_new=1)
    e = i2s(IPv6(src="2001:db8:1a::99", dst=S6) / ICMPv6TimeExceeded() /
            Raw(bytes(IPv6(src=S6, dst=I6, hlim=1) / STCP(sport=41201, dport=443, flags="S", seq=1000))))
    p.fwd((e, out_s(e)), allowed_related=1)

    def after(r, fwc):
        rows_ = sessions(r)
        for proto, sp, dp, st in (("udp", 7000, 53, "established"), ("icmp", 0x1234, 0x1234, "established"),
                                  ("icmpv6", 0x1234, 0x1234, "established"), ("udp", 7002, 33434, "new")):
            s = find_session(rows_, proto, sp, dp)
            n = 2 if proto == "udp" and sp == 7000 or proto == "udp" and sp == 7002 else 1
            if c.check(len(s) == n, "%s %d -> %d: %d sessions, expected %d: %s" % (proto, sp, dp, len(s), n, s)):
                c.check(all(session_state(x) == st for x in s), "%s %d: states %s, expected %s"
                        % (proto, sp, [session_state(x) for x in s], st))
        c.check(len(rows_) == 8, "%d sessions, expected 8: %s" % (len(rows_), rows_))
    run_plan(c, r, p, after)


def check_rst(c, got, syn, seq, ack, flags):
    """got: the frame the router sent; syn: the input segment (IPv4 or IPv6) it answers."""
    e = Ether(got)
    v6 = IPv6 in syn
    ip_in = syn[IPv6] if v6 else syn[IP]
    t_in = syn[STCP]
    c.check(e.src == R_A and e.dst == H_A, "RST: MACs %s -> %s" % (e.src, e.dst))
    ip = e[IPv6] if v6 else e[IP]
    c.check(ip.src == ip_in.dst and ip.dst == ip_in.src, "RST: addresses %s -> %s" % (ip.src, ip.dst))
    t = e[STCP]
    c.check(t.sport == t_in.dport and t.dport == t_in.sport, "RST: ports %d -> %d" % (t.sport, t.dport))
    c.check(str(t.flags) == flags and t.seq == seq and t.ack == ack,
            "RST: flags %s seq %d ack %d, expected %s %d %d" % (t.flags, t.seq, t.ack, flags, seq, ack))
    c.check(len(t.payload) == 0 and t.dataofs == 5, "RST: options or data: %s" % t.summary())
    if v6:
        c.check(ip.hlim == 64 and ip.plen == 20 and ip.nh == 6, "RST: IPv6 header %s" % ip.summary())
        ph = ip6_pseudo(ip6_b(ip.src), ip6_b(ip.dst), 20, 6)
    else:
        c.check(ip.ttl == 64 and ip.len == 40 and ip.proto == 6 and ip.ihl == 5 and ip.frag == 0,
                "RST: IPv4 header %s ttl %d len %d" % (ip.summary(), ip.ttl, ip.len))
        raw_ip = bytes(ip)[:20]
        c.check(csum(raw_ip) == 0, "RST: IPv4 header checksum wrong")
        ph = ip4_b(ip.src) + ip4_b(ip.dst) + struct.pack("!BBH", 0, 6, 20)
    c.check(csum(ph + bytes(t)[:20]) == 0, "RST: TCP checksum wrong")


@case("fw-reject", workers=(1, 2))
def fw_reject(c):
    """reject: TCP gets a RST (RFC 793: to a SYN seq 0, ack = its seq + 1; to a segment with ACK, seq = its ack),
    UDP an ICMP administratively prohibited (3/13; IPv6 1/1) from the incoming interface's address."""
    rules = [{"name": "telnet", "action": "reject", "proto": "tcp", "dport": 23},
             {"name": "tftp", "action": "reject", "proto": "udp", "dport": 69}]
    r = fw_router(c, [dict(RULESETS[0], rules=rules)])
    p = Plan()
    udp_flow(p, 8000)
    syn4 = s2i(IP(src=S4, dst=I4) / STCP(sport=40100, dport=23, flags="S", seq=7777, window=1000))
    syn6 = s2i(IPv6(src=S6, dst=I6) / STCP(sport=40101, dport=23, flags="S", seq=0xFFFFFFFF, window=1000))
    syn_data = s2i(IP(src=S4, dst=I4) / STCP(sport=40102, dport=23, flags="S", seq=100) / payload(10))
    u4 = s2i(IP(src=S4, dst=I4) / UDP(sport=5555, dport=69) / payload(30))
    u6 = s2i(IPv6(src=S6, dst=I6) / UDP(sport=5555, dport=69) / payload(30))
    p.answer(syn4, None, rst_sent=1)
    p.answer(syn6, None, rst_sent=1)
    p.answer(syn_data, None, rst_sent=1)
    p.answer(u4, icmp4_error(u4, "10.0.0.1", 3, 13, R_A, H_A), icmp_sent=1)
    p.answer(u6, icmp6_error(u6, "2001:db8:a::1", 1, 1, R_A, H_A), icmp_sent=1)
    udp_flow(p, 8001)
    p.start(c, r)
    s = r.last_stats
    fwc = fw_counters(r)
    rows_ = sessions(r)
    hits, _ = rule_hits(r)
    r.stop()
    got = list(r.outputs["p0"])
    rsts = [g for g in got if STCP in Ether(g) and Ether(g)[STCP].flags.R]
    others = [g for g in got if g not in rsts]
    r.expect_output("p1", [])
    r.outputs["p0"] = others
    r.expect_output("p0", p.out["p0"])
    if c.check(len(rsts) == 3, "%d RSTs sent, expected 3: %s" % (len(rsts), [Ether(x).summary() for x in rsts])):
        by_port = {Ether(x)[STCP].dport: x for x in rsts}
        for syn, seq, ack in ((syn4, 0, 7778), (syn6, 0, 0), (syn_data, 0, 111)):
            sp = syn[STCP].sport
            if c.check(sp in by_port, "no RST to port %d" % sp):
                check_rst(c, by_port[sp], syn, seq, ack, "RA")
    r.expect_counters(s, drops={}, totals={"tx": len(p.out["p0"]) + 3, "punted": 0})
    expect_fw(c, r, dict(p.fw), got=fwc)
    c.check(len(rows_) == 2, "rejected flows opened sessions: %s" % rows_)
    c.check(hits.get("telnet") == 3 and hits.get("tftp") == 2, "rule hits %s" % hits)


@case("fw-reject-rate")
def fw_reject_rate(c):
    """reject_rate = 2: two answers per second per worker, the others dropped silently (fw_reject)."""
    rules = [{"name": "tftp", "action": "reject", "proto": "udp", "dport": 69}]
    r = fw_router(c, [dict(RULESETS[0], rules=rules)], reject_rate=2)
    p = Plan()
    udp_flow(p, 8100)
    us = [s2i(IP(src=S4, dst=I4) / UDP(sport=5600 + i, dport=69) / payload(30)) for i in range(5)]
    for u in us[:2]:
        p.answer(u, icmp4_error(u, "10.0.0.1", 3, 13, R_A, H_A), icmp_sent=1)
    for u in us[2:]:
        p.drop(u, "fw_reject", reject_rate_limited=1)
    udp_flow(p, 8101)
    run_plan(c, r, p)


# ---------------------------------------------------------------------------------------------------------------

@case("fw-zones", workers=(1,))
def fw_zones(c):
    """Zone-pair policies (with "any"), the VRF default when no policy matches, and a rule before both."""
    rs = [{
        "vrf": "main", "default": "deny",
        "policies": [{"from": "site", "to": "dc", "action": "allow"},
                     {"from": "site", "to": "cloud", "action": "deny"},
                     {"from": "cloud", "to": "any", "action": "allow"},
                     {"from": "any", "to": "internet", "action": "reject"}],
        "rules": [{"name": "cloud-ntp", "action": "allow", "proto": "udp", "dport": 123, "from": "site",
                   "to": "cloud"}],
    }]
    r = fw_router(c, rs)
    p = Plan()
    f = from_a(IP(src=S4, dst="192.0.2.1") / UDP(sport=9000, dport=80) / payload(8))  # site -> dc: allow
    p.fwd((f, out_b(f)), dev="p1", allowed_new=1)
    f = from_a(IP(src=S4, dst="198.18.0.1") / UDP(sport=9001, dport=80))  # site -> cloud: deny
    p.drop(f, "fw_deny")
    f = from_a(IP(src=S4, dst="198.18.0.1") / UDP(sport=9002, dport=123))  # the rule before the policy
    p.fwd((f, out_b200(f)), dev="p1", allowed_new=1)
    f = from_b(IP(src="192.0.2.7", dst=S4) / UDP(sport=9003, dport=80))  # dc -> site: no policy, default
    p.drop(f, "fw_deny", inp="p1")
    f = from_b(IP(src="198.18.0.9", dst=S4) / UDP(sport=9004, dport=80), vlan=200)  # cloud -> any
    p.fwd((f, out_s(f)), inp="p1", allowed_new=1)
    f = from_b(IP(src="198.18.0.9", dst="192.0.2.1") / UDP(sport=9005, dport=80), vlan=200)  # cloud -> dc
    p.fwd((f, out_b(f)), dev="p1", inp="p1", allowed_new=1)
    f = from_b(IP(src="192.0.2.7", dst=I4) / UDP(sport=9006, dport=80))  # dc -> internet: reject (any -> internet)
    p.answer(f, icmp4_error(f, "10.0.1.1", 3, 13, R_B, GW_B), dev="p1", inp="p1", icmp_sent=1)

    def after(r, fwc):
        hits, rs_row = rule_hits(r)
        c.check(hits == {"cloud-ntp": 1}, "rule hits %s" % hits)
        c.check(rs_row and int(rs_row["policy_packets"]) == 5 and int(rs_row["default_packets"]) == 1,
                "policy/default packets: %s" % rs_row)
    run_plan(c, r, p, after)


@case("fw-vrf-default", workers=(1, 2))
def fw_vrf_default(c):
    """Each VRF its own rule set: main denies by default, blue allows (statefully), green has none (unfiltered)."""
    ifs = std_interfaces() + [
        {"name": "blue0", "device": "p0", "vlan": 300, "vrf": "blue", "mac": "02:00:00:00:03:00",
         "addresses": ["10.30.0.1/24"]},
        {"name": "blue1", "device": "p0", "vlan": 301, "vrf": "blue", "mac": "02:00:00:00:03:01",
         "addresses": ["10.31.0.1/24"]},
        {"name": "green0", "device": "p0", "vlan": 400, "vrf": "green", "mac": "02:00:00:00:04:00",
         "addresses": ["10.40.0.1/24"]},
        {"name": "green1", "device": "p0", "vlan": 401, "vrf": "green", "mac": "02:00:00:00:04:01",
         "addresses": ["10.41.0.1/24"]},
    ]
    nbs = STD_NEIGHBOURS + EXTRA_NEIGHBOURS + [
        {"interface": "blue0", "ip": "10.30.0.2", "mac": "02:00:00:00:03:aa"},
        {"interface": "blue1", "ip": "10.31.0.2", "mac": "02:00:00:00:03:ab"},
        {"interface": "green0", "ip": "10.40.0.2", "mac": "02:00:00:00:04:aa"},
        {"interface": "green1", "ip": "10.41.0.2", "mac": "02:00:00:00:04:ab"},
    ]
    rulesets = [{k: v for k, v in RULESETS[0].items() if k != "policies"}, {"vrf": "blue", "default": "allow"}]
    r = c.router(vrfs=[{"name": "main", "id": 0}, {"name": "blue", "id": 1}, {"name": "green", "id": 2}],
                 interfaces=ifs, routes=STD_ROUTES, neighbours=nbs, extra_conf=fw_section(rulesets))
    p = Plan()

    def fr(vlan, mac_src, mac_dst, l3):
        return Ether(src=mac_src, dst=mac_dst) / Dot1Q(vlan=vlan) / l3

    def fwd(f, vlan, rmac, hmac):
        from harness import fwd_frame
        return f, fwd_frame(f, rmac, hmac, vlan=vlan)

    # main: site -> internet has no policy any more: the default denies
    p.drop(s2i(IP(src=S4, dst=I4) / UDP(sport=9100, dport=53)), "fw_deny")
    # blue: allowed by its default, the reply by the session
    q = fr(300, "02:00:00:00:03:aa", "02:00:00:00:03:00", IP(src="10.30.0.2", dst="10.31.0.2") / UDP(sport=9101,
                                                                                                   dport=53))
    p.fwd(fwd(q, 301, "02:00:00:00:03:01", "02:00:00:00:03:ab"), allowed_new=1)
    a = fr(301, "02:00:00:00:03:ab", "02:00:00:00:03:01", IP(src="10.31.0.2", dst="10.30.0.2") / UDP(sport=53,
                                                                                                   dport=9101))
    p.fwd(fwd(a, 300, "02:00:00:00:03:00", "02:00:00:00:03:aa"), allowed_session=1)
    # green: no rule set, not filtered (no session, no counter)
    g = fr(400, "02:00:00:00:04:aa", "02:00:00:00:04:00", IP(src="10.40.0.2", dst="10.41.0.2") / UDP(sport=9102,
                                                                                                   dport=53))
    p.fwd(fwd(g, 401, "02:00:00:00:04:01", "02:00:00:00:04:ab"))
    g = fr(401, "02:00:00:00:04:ab", "02:00:00:00:04:01", IP(src="10.41.0.2", dst="10.40.0.2") / ack_hdr())
    p.fwd(fwd(g, 400, "02:00:00:00:04:00", "02:00:00:00:04:aa"))

    def after(r, fwc):
        rows_ = sessions(r)
        c.check(len(rows_) == 1 and rows_[0]["vrf"] == "blue", "sessions %s" % rows_)
        c.check(sessions(r, "vrf", "main") == [], "main has sessions")
        _, rs = rule_hits(r, "blue")
        c.check(rs and int(rs["default_packets"]) == 1, "blue default packets: %s" % rs)
    run_plan(c, r, p, after)


def ack_hdr():
    return STCP(sport=80, dport=9103, flags="A", seq=5, ack=6)


@case("fw-pass-stateless", workers=(1, 2))
def fw_pass_stateless(c):
    """pass: allowed without a session, both ways only when a rule passes each direction."""
    rules = [{"name": "out5000", "action": "pass", "proto": "udp", "dport": 5000, "from": "site", "to": "internet"},
             {"name": "in5000", "action": "pass", "proto": "udp", "sport": 5000, "from": "internet", "to": "site"},
             {"name": "out6000", "action": "pass", "proto": "udp", "dport": 6000}]
    r = fw_router(c, [{"vrf": "main", "default": "deny", "rules": rules}])
    p = Plan()
    for i in range(3):
        q = s2i(IP(src=S4, dst=I4) / UDP(sport=7100, dport=5000) / payload(10, i))
        p.fwd((q, out_i(q)), passed_stateless=1)
        a = i2s(IP(src=I4, dst=S4) / UDP(sport=5000, dport=7100) / payload(10, i))
        p.fwd((a, out_s(a)), passed_stateless=1)
    q = s2i(IPv6(src=S6, dst=I6) / UDP(sport=7101, dport=6000))
    p.fwd((q, out_i(q)), passed_stateless=1)
    # no session: the reply to the 6000 flow is denied
    p.drop(i2s(IPv6(src=I6, dst=S6) / UDP(sport=6000, dport=7101)), "fw_deny")

    def after(r, fwc):
        c.check(sessions(r) == [], "a pass rule opened sessions: %s" % sessions(r))
        c.check(fwc["sessions_created"] == 0, "sessions_created %d" % fwc["sessions_created"])
        hits, rs = rule_hits(r)
        c.check(hits == {"out5000": 3, "in5000": 3, "out6000": 1}, "rule hits %s" % hits)
        c.check(rs and int(rs["default_packets"]) == 1, "default packets %s" % rs)
    run_plan(c, r, p, after)


@case("fw-rule-hits", workers=(1, 2))
def fw_rule_hits(c):
    """Hit counters: a new flow is classified once (its first packet), later ones match the session; denied and
    passed packets are classified each."""
    rules = [{"name": "dns", "action": "allow", "proto": "udp", "dport": 53},
             {"name": "discard", "action": "deny", "proto": "udp", "dport": 9},
             {"name": "telnet", "action": "reject", "proto": "tcp", "dport": 23},
             {"name": "ping", "action": "allow", "proto": "icmp", "icmp_type": 8},
             {"name": "v6only", "action": "allow", "proto": "udp", "dst": "2001:db8:1a::/48", "dport": "1000-1999"},
             {"name": "unused", "action": "deny", "proto": "tcp", "dport": 25}]
    r = fw_router(c, [dict(RULESETS[0], rules=rules)])
    p = Plan()
    for sp in (100, 101, 102):
        udp_flow(p, sp, n=2)  # 3 flows, 4 packets each: 3 hits
    for i in range(4):
        p.drop(s2i(IP(src=S4, dst=I4) / UDP(sport=200 + i, dport=9) / payload(i)), "fw_deny")
    syn = s2i(IP(src=S4, dst=I4) / STCP(sport=300, dport=23, flags="S"))
    p.answer(syn, None, rst_sent=1)
    q = s2i(IP(src=S4, dst=I4) / ICMP(type=8, id=9))
    p.fwd((q, out_i(q)), allowed_new=1)
    for dp in (1000, 1999):
        q = s2i(IPv6(src=S6, dst=I6) / UDP(sport=400, dport=dp))
        p.fwd((q, out_i(q)), allowed_new=1)
    q = s2i(IP(src=S4, dst=I4) / UDP(sport=400, dport=1000))  # IPv4: not v6only, the policy
    p.fwd((q, out_i(q)), allowed_new=1)
    t = TcpConv(41300, 80)
    handshake(p, t)  # the policy

    def after(r, fwc):
        hits, rs = rule_hits(r)
        c.check(hits == {"dns": 3, "discard": 4, "telnet": 1, "ping": 1, "v6only": 2, "unused": 0},
                "rule hits %s" % hits)
        c.check(rs and int(rs["policy_packets"]) == 2 and int(rs["default_packets"]) == 0, "ruleset row %s" % rs)
        d = r.ctl_ok("fw", "show", "rules", "vrf", "main")["rules"]
        b = [x for x in d if x["name"] == "discard"]
        c.check(b and int(b[0]["bytes"]) == sum(28 + i for i in range(4)), "discard bytes %s" % b)
    p.start(c, r)
    s = r.last_stats
    fwc = fw_counters(r)
    after(r, fwc)
    r.stop()
    rst = [g for g in r.outputs["p0"] if STCP in Ether(g) and Ether(g)[STCP].flags.R]
    r.outputs["p0"] = [g for g in r.outputs["p0"] if g not in rst]
    c.check(len(rst) == 1, "%d RSTs" % len(rst))
    r.expect_output("p0", p.out["p0"])
    r.expect_counters(s, drops=dict(p.drops), totals={"tx": len(p.out["p0"]) + 1, "punted": 0})
    expect_fw(c, r, dict(p.fw), got=fwc)


@case("fw-icmp-error-rules", workers=(1, 2))
def fw_icmp_error_rules(c):
    """An ICMP error that quotes no session is judged by the rules as itself: passed by a pass rule (a stateless
    flow's "packet too big" or "fragmentation needed": PMTUD) or an allow rule (no session for an error), dropped
    as fw_icmp_no_session otherwise."""
    rules = [{"name": "frag-needed", "action": "pass", "proto": "icmp", "icmp_type": 3, "from": "internet",
              "to": "site"},
             {"name": "too-big", "action": "pass", "proto": "icmpv6", "icmp_type": 2, "from": "internet",
              "to": "site"},
             {"name": "ttl", "action": "allow", "proto": "icmp", "icmp_type": 11, "from": "internet", "to": "site"},
             {"name": "out", "action": "pass", "proto": "udp", "dport": 4500}]
    r = fw_router(c, [{"vrf": "main", "default": "deny", "rules": rules}])
    p = Plan()
    q = s2i(IP(src=S4, dst=I4, flags="DF") / UDP(sport=4500, dport=4500) / payload(600))
    p.fwd((q, out_i(q)), passed_stateless=1)
    quoted = IP(src=S4, dst=I4, ttl=63, flags="DF") / UDP(sport=4500, dport=4500) / payload(600)
    e = i2s(icmp4_err(I4, S4, bytes(quoted)[:548], 3, 4))
    p.fwd((e, out_s(e)), passed_stateless=1)
    e = i2s(icmp4_err("10.1.0.99", S4, bytes(quoted)[:28], 11, 0))
    p.fwd((e, out_s(e)), passed_stateless=1)
    q6 = IPv6(src=S6, dst=I6, hlim=63) / UDP(sport=4500, dport=4500) / payload(600)
    e = i2s(IPv6(src=I6, dst=S6) / ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(q6)))
    p.fwd((e, out_s(e)), passed_stateless=1)
    # no rule passes these: the default denies, and an error is never rejected
    e = i2s(icmp4_err(I4, S4, bytes(quoted)[:28], 12, 0))
    p.drop(e, "fw_icmp_no_session")
    e = i2s(IPv6(src=I6, dst=S6) / ICMPv6DestUnreach(code=4) / Raw(bytes(q6)))
    p.drop(e, "fw_icmp_no_session")

    def after(r, fwc):
        c.check(sessions(r) == [], "an ICMP error opened a session: %s" % sessions(r))
        hits, rs = rule_hits(r)
        c.check(hits == {"frag-needed": 1, "too-big": 1, "ttl": 1, "out": 1}, "rule hits %s" % hits)
        c.check(rs and int(rs["default_packets"]) == 2, "default packets %s" % rs)
    run_plan(c, r, p, after)
