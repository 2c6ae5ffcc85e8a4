# SPDX-License-Identifier: BSD-3-Clause
"""Router-originated replies: echo, port unreachable, TTL / hop limit expiry, blackhole and reject routes, MTU."""
import struct

from harness import (case, fwd_frame, icmp4_error, icmp6_error, echo4_reply, echo6_reply, l3_of, ip4_fix_csum,
                     eth_hdr, IP as _IP)
from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6EchoReply
from scapy.layers.inet import defragment  # noqa
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6DestUnreach
from harness import Ether
from topo import (IP, IPv6, UDP, TCP, ICMP, R_A, R_A100, R_B, GW_B, H_A, H_A100, STD_ANNOUNCE,
                  std_router, from_a, payload)

# Router-originated packets (echo replies, ICMP errors) leave with this TTL / hop limit.
ORIG_TTL = 64


@case("local-echo", workers=(1, 2))
def local_echo(c):
    r = std_router(c)
    e1 = from_a(IP(src="10.0.0.2", dst="10.0.0.1", id=77, tos=0x10, flags="DF") / ICMP(id=1, seq=1) / payload(56))
    e2 = from_a(IP(src="10.0.0.2", dst="10.0.1.1", id=78) / ICMP(id=1, seq=2) / payload(1000, 3))
    e3 = from_a(IP(src="10.1.0.2", dst="10.1.0.1", ttl=1) / ICMP(id=2, seq=3) / payload(0), vlan=100)
    e4 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:a::1", tc=0x20, fl=7) / ICMPv6EchoRequest(id=5, seq=1) /
                payload(56))
    e5 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:b::1") / ICMPv6EchoRequest(id=5, seq=2) / payload(1200, 9))
    e6 = from_a(IPv6(src="2001:db8:1a::2", dst="2001:db8:1a::1", hlim=1) / ICMPv6EchoRequest(id=6, seq=3), vlan=100)
    u4 = from_a(IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=33434, dport=33435) / payload(12))
    u6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:a::1") / UDP(sport=33434, dport=33435) / payload(12))
    t4 = from_a(IP(src="10.0.0.2", dst="10.0.0.1") / TCP(dport=22, flags="S"))
    t6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:a::1") / TCP(dport=22, flags="S"))
    ts = from_a(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=13))
    pkts = [e1, e2, e3, e4, e5, e6, u4, u6, t4, t6, ts]
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    exp = [
        echo4_reply(e1, R_A, H_A, ttl=ORIG_TTL),
        echo4_reply(e2, R_A, H_A, ttl=ORIG_TTL),
        echo4_reply(e3, R_A100, H_A100, vlan=100, ttl=ORIG_TTL),
        echo6_reply(e4, R_A, H_A, hlim=ORIG_TTL),
        echo6_reply(e5, R_A, H_A, hlim=ORIG_TTL),
        echo6_reply(e6, R_A100, H_A100, vlan=100, hlim=ORIG_TTL),
        icmp4_error(u4, "10.0.0.1", 3, 3, R_A, H_A, ttl=ORIG_TTL),
        icmp6_error(u6, "2001:db8:a::1", 1, 4, R_A, H_A, hlim=ORIG_TTL),
    ]
    r.expect_output("p0", exp)
    r.expect_output("p1", [])
    r.expect_counters(s, drops={"local_unhandled": 2, "icmp_unhandled": 1}, totals={"tx": 8, "punted": 0})
    r.expect_announcements(STD_ANNOUNCE)


@case("local-echo-linklocal")
def local_echo_linklocal(c):
    """Echo to all nodes (ff02::1) from a global source is answered from the interface's global address; echo to
    the interface's link-local address from a global source keeps that address as the reply's source; echo from a
    link-local source (learned by its neighbour solicitation) is answered from our link-local address, out of the
    interface it came in on (link-local destinations have no FIB route: the control thread sends it)."""
    r = std_router(c)
    ll = "fe80::ff:fe00:1"  # modified EUI-64 of R_A
    peer_ll = "fe80::aa"
    e1 = Ether(src=H_A, dst="33:33:00:00:00:01") / IPv6(src="2001:db8:a::2", dst="ff02::1") / \
        ICMPv6EchoRequest(id=9, seq=1) / payload(8)
    e2 = from_a(IPv6(src="2001:db8:a::2", dst=ll) / ICMPv6EchoRequest(id=9, seq=2) / payload(8))
    ns = from_a(IPv6(src=peer_ll, dst=ll, hlim=255) / ICMPv6ND_NS(tgt=ll) / ICMPv6NDOptSrcLLAddr(lladdr=H_A))
    e3 = from_a(IPv6(src=peer_ll, dst=ll) / ICMPv6EchoRequest(id=9, seq=3) / payload(8))
    r.start({"p0": [e1, e2, ns, e3]})
    s = r.last_stats
    neigh = r.neighbours_table()
    r.stop()
    out = [Ether(f) for f in r.outputs.get("p0", [])]
    replies = [f for f in out if IPv6 in f and ICMPv6EchoReply in f]
    c.check(len(replies) == 3, "expected 3 echo replies, got %d" % len(replies))
    if len(replies) == 3:
        c.check(bytes(replies[0]) == echo6_reply(e1, R_A, H_A, src="2001:db8:a::1", hlim=ORIG_TTL),
                "reply to ff02::1 from a global source: %s" % replies[0].summary())
        c.check(bytes(replies[1]) == echo6_reply(e2, R_A, H_A, hlim=ORIG_TTL), "reply to our link-local address")
        c.check(bytes(replies[2]) == echo6_reply(e3, R_A, H_A, hlim=ORIG_TTL),
                "reply to a link-local source: %s" % replies[2].summary())
    nas = [f for f in out if ICMPv6ND_NA in f and f[IPv6].dst == peer_ll]
    c.check(len(nas) == 1, "expected one NA answering the NS, got %d" % len(nas))
    c.check(any(n["ip"] == peer_ll for n in neigh), "link-local neighbour learned: %s" % neigh)
    c.check(sum(s["drops"].values()) == 0, "no drops: %s" % {k: v for k, v in s["drops"].items() if v})


@case("ttl-expired", workers=(1, 2))
def ttl_expired(c):
    r = std_router(c)
    t1 = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=1, id=5) / UDP(sport=1, dport=33434) / payload(30))
    t0 = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=0, id=6) / UDP(sport=1, dport=33434) / payload(30))
    tv = from_a(IP(src="10.1.0.2", dst="198.18.0.9", ttl=1, id=7) / TCP(dport=80) / payload(600), vlan=100)
    t2 = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=2, id=8) / UDP(sport=1, dport=33434))  # forwarded, TTL 1
    h1 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::9", hlim=1) / UDP(sport=1, dport=33434) / payload(30))
    h0 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::9", hlim=0) / UDP(sport=1, dport=33434))
    hv = from_a(IPv6(src="2001:db8:1a::2", dst="2001:db8:200::9", hlim=1) / UDP() / payload(1400), vlan=100)
    # an ICMP error itself is never answered with one, nor a non-first fragment: counted as ttl_exceeded
    ie = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=1) / ICMP(type=3, code=1) / bytes(IP(dst="1.2.3.4") / UDP()))
    fr = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=1, frag=100, proto=17) / payload(40))
    # an ICMPv6 error with hop limit 1 neither
    ie6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::9", hlim=1) / ICMPv6DestUnreach() /
                 bytes(IPv6(src="2001:db8:100::9", dst="2001:db8:a::2") / UDP()))
    pkts = [t1, t0, tv, t2, h1, h0, hv, ie, fr, ie6]
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    exp0 = [
        icmp4_error(t1, "10.0.0.1", 11, 0, R_A, H_A, ttl=ORIG_TTL),
        icmp4_error(t0, "10.0.0.1", 11, 0, R_A, H_A, ttl=ORIG_TTL),
        icmp4_error(tv, "10.1.0.1", 11, 0, R_A100, H_A100, vlan=100, ttl=ORIG_TTL),
        icmp6_error(h1, "2001:db8:a::1", 3, 0, R_A, H_A, hlim=ORIG_TTL),
        icmp6_error(h0, "2001:db8:a::1", 3, 0, R_A, H_A, hlim=ORIG_TTL),
        icmp6_error(hv, "2001:db8:1a::1", 3, 0, R_A100, H_A100, vlan=100, hlim=ORIG_TTL),
    ]
    r.expect_output("p0", exp0)
    r.expect_output("p1", [fwd_frame(t2, R_B, GW_B)])
    r.expect_counters(s, drops={"ttl_exceeded": 3}, totals={"tx": 7, "punted": 0})


@case("blackhole-reject", workers=(1, 2))
def blackhole_reject(c):
    routes = [
        {"vrf": "main", "prefix": "198.51.100.0/24", "blackhole": True},
        {"vrf": "main", "prefix": "2001:db8:bad::/48", "blackhole": True},
        {"vrf": "main", "prefix": "203.0.113.0/24", "reject": True},
        {"vrf": "main", "prefix": "2001:db8:dead::/48", "reject": True},
    ]
    r = std_router(c, routes=routes)
    bh = [from_a(IP(src="10.0.0.2", dst="198.51.100.%d" % i) / UDP() / payload(i)) for i in range(1, 6)]
    bh6 = [from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:bad::%d" % i) / UDP()) for i in range(1, 4)]
    rj = from_a(IP(src="10.0.0.2", dst="203.0.113.7", id=99) / TCP(sport=5555, dport=443, flags="S") / payload(900))
    rjv = from_a(IP(src="10.1.0.2", dst="203.0.113.8") / UDP(dport=53) / payload(10), vlan=100)
    rj6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:dead::1") / UDP(dport=53) / payload(1300))
    fw = from_a(IP(src="10.0.0.2", dst="192.0.2.1") / UDP())
    # no ICMP error for a non-first fragment, nor for an ICMP error: icmp_suppressed
    rjf = from_a(IP(src="10.0.0.2", dst="203.0.113.9", frag=64, proto=17) / payload(30))
    rji = from_a(IP(src="10.0.0.2", dst="203.0.113.9") / ICMP(type=11) / bytes(IP(dst="1.2.3.4") / UDP()))
    rji6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:dead::9") / ICMPv6DestUnreach() /
                  bytes(IPv6(src="2001:db8:dead::9", dst="2001:db8:a::2") / UDP()))
    pkts = bh + bh6 + [rj, rjv, rj6, fw, rjf, rji, rji6]
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    r.expect_output("p0", [
        icmp4_error(rj, "10.0.0.1", 3, 1, R_A, H_A, ttl=ORIG_TTL),
        icmp4_error(rjv, "10.1.0.1", 3, 1, R_A100, H_A100, vlan=100, ttl=ORIG_TTL),
        icmp6_error(rj6, "2001:db8:a::1", 1, 0, R_A, H_A, hlim=ORIG_TTL),
    ])
    r.expect_output("p1", [fwd_frame(fw, R_B, GW_B)])
    r.expect_counters(s, drops={"blackhole": 8, "icmp_suppressed": 3}, totals={"tx": 4, "punted": 0})


def fragments4(inp, mtu, src_mac, dst_mac):
    """The fragments rte_ipv4_fragment_packet makes of the forwarded packet (TTL already decremented)."""
    _, _, l3 = l3_of(bytes(fwd_frame(inp, src_mac, dst_mac)))
    hdr, data = bytearray(l3[:20]), l3[20:]
    step = (mtu - 20) & ~7
    out = []
    for off in range(0, len(data), step):
        chunk = data[off:off + step]
        h = bytearray(hdr)
        more = off + step < len(data)
        h[2:4] = struct.pack("!H", 20 + len(chunk))
        h[6:8] = struct.pack("!H", (0x2000 if more else 0) | (off // 8))
        out.append(eth_hdr(dst_mac, src_mac, 0x0800) + ip4_fix_csum(h) + chunk)
    return out


@case("mtu", workers=(1, 2))
def mtu(c):
    r = std_router(c, b_mtu=1280)
    df = from_a(IP(src="10.0.0.2", dst="192.0.2.1", flags="DF", id=1) / UDP(sport=7, dport=9) / payload(1372))
    df_fit = from_a(IP(src="10.0.0.2", dst="192.0.2.2", flags="DF", id=2) / UDP(sport=7, dport=9) / payload(1252))
    df_over = from_a(IP(src="10.0.0.2", dst="192.0.2.3", flags="DF", id=3) / UDP(sport=7, dport=9) / payload(1253))
    nodf = from_a(IP(src="10.0.0.2", dst="192.0.2.4", id=0x4242, ttl=30) / UDP(sport=7, dport=9) / payload(1372, 5))
    nodf_big = from_a(IP(src="10.0.0.2", dst="192.0.2.5", id=0x4343) / ICMP() / payload(1472 - 8, 1))
    v6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::1") / UDP(sport=7, dport=9) / payload(1352))
    v6_fit = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::2") / UDP(sport=7, dport=9) / payload(1232))
    v6_over = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::3") / UDP(sport=7, dport=9) / payload(1233))
    # the other sub-interface keeps the device MTU
    big_vlan = from_a(IP(src="10.1.0.2", dst="198.18.0.1", flags="DF") / UDP() / payload(1400), vlan=100)
    pkts = [df, df_fit, df_over, nodf, nodf_big, v6, v6_fit, v6_over, big_vlan]
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    from topo import R_B200, GW_B200
    r.expect_output("p0", [
        icmp4_error(df, "10.0.0.1", 3, 4, R_A, H_A, info=1280, ttl=ORIG_TTL),
        icmp4_error(df_over, "10.0.0.1", 3, 4, R_A, H_A, info=1280, ttl=ORIG_TTL),
        icmp6_error(v6, "2001:db8:a::1", 2, 0, R_A, H_A, info=1280, hlim=ORIG_TTL),
        icmp6_error(v6_over, "2001:db8:a::1", 2, 0, R_A, H_A, info=1280, hlim=ORIG_TTL),
    ])
    frags = fragments4(nodf, 1280, R_B, GW_B) + fragments4(nodf_big, 1280, R_B, GW_B)
    exp1 = [fwd_frame(df_fit, R_B, GW_B), fwd_frame(v6_fit, R_B, GW_B)] + frags
    r.expect_output("p1", exp1 + [fwd_frame(big_vlan, R_B200, GW_B200, vlan=200)])
    # reassembly gives back the packet (TTL one less)
    got = [_IP(l3_of(f)[2]) for f in r.outputs.get("p1", []) if l3_of(f)[0] == 0x0800 and
           l3_of(f)[2][6:8] != b"\x40\x00" and l3_of(f)[1] is None]
    for f in got:
        c.check(len(f) <= 1280, "fragment of %d bytes exceeds the MTU of 1280" % len(f))
    whole = defragment(got)
    for orig in (nodf, nodf_big):
        _, _, l3 = l3_of(fwd_frame(orig, R_B, GW_B))
        c.check(any(bytes(w) == l3 for w in whole), "fragments of id %#x do not reassemble to the packet"
                % orig[IP].id)
    # two packets became len(frags) fragments
    r.expect_counters(s, drops={}, totals={"tx": len(exp1) + 1 + 4, "punted": 0, "created": len(frags) - 2})


@case("mtu-fragment-details")
def mtu_fragment_details(c):
    """Fragmenting a packet with options (only the first fragment keeps a non-copied option, RFC 791) and a
    fragment of a fragment (offsets continue from the original, MF stays set on the last piece)."""
    from scapy.layers.inet import IPOption_RR
    r = std_router(c, b_mtu=1280)
    a = from_a(IP(src="10.0.0.2", dst="192.0.2.1", id=5, options=[IPOption_RR(routers=["0.0.0.0"])]) / UDP() /
               payload(1400, 1))
    b = from_a(IP(src="10.0.0.2", dst="192.0.2.2", id=6, flags="MF", frag=100) / payload(1400, 2))
    r.start({"p0": [a, b]})
    s = r.last_stats
    r.stop()
    out = [_IP(l3_of(f)[2]) for f in r.outputs.get("p1", [])]
    fa = sorted([p for p in out if p.id == 5], key=lambda p: p.frag)
    fb = sorted([p for p in out if p.id == 6], key=lambda p: p.frag)
    c.check(len(fa) == 2 and len(fb) == 2, "fragments: %d of the packet with options, %d of the fragment, expected"
            " 2 and 2" % (len(fa), len(fb)))
    if len(fa) == 2:
        c.check(fa[0].ihl == 7 and fa[1].ihl == 5, "record-route option: IHL %d and %d, expected 7 (first) and 5"
                % (fa[0].ihl, fa[1].ihl))
        c.check(fa[0].flags == "MF" and fa[1].flags == 0 and fa[1].frag * 8 == fa[0].len - 28,
                "packet with options: flags %s/%s offset %d" % (fa[0].flags, fa[1].flags, fa[1].frag))
        c.check(all(p.ttl == 63 and len(p) <= 1280 for p in fa), "fragments with options: TTL or size")
        c.check(bytes(fa[0].payload) + bytes(fa[1].payload) == bytes(a[IP].payload),
                "fragments with options do not carry the payload")
    if len(fb) == 2:
        c.check(fb[0].frag == 100 and fb[1].frag == 100 + (fb[0].len - 20) // 8,
                "refragmented offsets %d, %d (expected 100 and following)" % (fb[0].frag, fb[1].frag))
        c.check(fb[0].flags == "MF" and fb[1].flags == "MF", "refragmented: MF must stay set on the last piece")
        c.check(bytes(fb[0].payload) + bytes(fb[1].payload) == bytes(b[IP].payload),
                "refragmented data differs")
    for p in out:
        c.check(csum_ok(p), "fragment with a bad header checksum")
    r.expect_counters(s, drops={}, totals={"tx": 4, "punted": 0, "created": 2})


def csum_ok(p):
    from harness import csum
    return csum(bytes(p)[:p.ihl * 4]) == 0


@case("icmp-rate-limit", workers=(1, 2))
def icmp_rate_limit(c):
    """limits.icmp_rate = 10 per worker and second, with a burst of one second's worth: of 40 expiring packets
    arriving at once each worker answers 10 and counts the rest as icmp_rate_limited."""
    r = std_router(c, icmp_rate=10)
    pkts = [from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=1, id=i) / UDP(sport=i) / payload(8)) for i in range(40)]
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    n = 10 * c.workers
    got = r.outputs.get("p0", [])
    c.check(len(got) == n, "%d ICMP errors sent, expected %d" % (len(got), n))
    allowed = [icmp4_error(p, "10.0.0.1", 11, 0, R_A, H_A, ttl=ORIG_TTL) for p in pkts]
    c.check(all(g in allowed for g in got), "an ICMP error differs from the expected ones")
    r.expect_counters(s, drops={"icmp_rate_limited": 40 - n}, totals={"tx": n, "punted": 0})
