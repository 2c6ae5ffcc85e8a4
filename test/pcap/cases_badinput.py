# SPDX-License-Identifier: BSD-3-Clause
"""Tier 4: the bad-input corpus. Malformed and unwanted frames, interleaved with valid ones, must each land in
their own named drop counter (exact counts), the valid frames must still be forwarded, nothing may go uncounted,
and the daemon must keep running."""
import struct
from collections import Counter

from harness import (case, fwd_frame, icmp4_error, icmp6_error, eth_hdr, ip4_fix_csum, ip6_header, ip6_b,
                     ip6_pseudo, csum, arp_frame, solicited_node, mcast_mac6, Ether, Dot1Q, ICMPv6EchoRequest, Raw)
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
from topo import (IP, IPv6, UDP, TCP, ICMP, R_A, R_B, H_A, GW_B, std_router, from_a, payload)

LL_A = "fe80::ff:fe00:1"
ZERO = "00:00:00:00:00:00"


def eth4(l3, dst=R_A, src=H_A):
    return eth_hdr(dst, src, 0x0800) + bytes(l3)


def eth6(l3, dst=R_A, src=H_A):
    return eth_hdr(dst, src, 0x86DD) + bytes(l3)


def ip4(src="10.0.0.2", dst="192.0.2.1", **kw):
    return IP(src=src, dst=dst, **kw) / UDP(sport=9, dport=9) / payload(8)


def raw_ip4(b):
    """Edit an IPv4 header with a valid checksum afterwards."""
    return ip4_fix_csum(bytes(b))


def icmp6_body(src, dst, icmp):
    c = csum(ip6_pseudo(ip6_b(src), ip6_b(dst), len(icmp), 58) + icmp)
    return icmp[:2] + struct.pack("!H", c) + icmp[4:]


def ndp_raw(src, dst, icmp, hlim=255, eth_dst=None):
    """An NDP message with a correct checksum (so the NDP checks, not the checksum, decide)."""
    icmp = icmp6_body(src, dst, icmp)
    return eth_hdr(eth_dst or mcast_mac6(dst), H_A, 0x86DD) + ip6_header(src, dst, 58, len(icmp), hlim=hlim) + icmp


def corpus():
    """[(frame, drop reason or None, expected output frame or None)] in order."""
    C = []

    def bad(frame, reason):
        C.append((bytes(frame), reason, None))

    # --- Ethernet
    bad(bytes(Ether(src=H_A, dst=R_A))[:10], "eth_runt")
    bad(eth_hdr(R_A, H_A, 0x8100)[:14] + b"\x00", "eth_runt")  # VLAN tag cut short
    bad(Ether(src=H_A, dst=R_A) / Dot1Q(vlan=999) / ip4(), "eth_unknown_vlan")
    bad(Ether(src=H_A, dst=R_B) / Dot1Q(vlan=100) / ip4(), "eth_not_for_us")  # right VLAN, wrong MAC
    bad(eth_hdr(R_A, H_A, 0x88B5) + b"\x01" * 46, "eth_unknown_type")
    bad(eth_hdr(R_A, H_A, 0x8847) + b"\x00\x01\x01\x40" + bytes(ip4()), "eth_unknown_type")  # MPLS
    bad(eth4(ip4(), dst="02:00:00:00:99:88"), "eth_not_for_us")
    bad(eth4(ip4(), dst="01:00:5e:00:00:05"), "eth_not_for_us")  # IPv4 multicast MAC: not listened to
    bad(eth4(ip4(), dst="33:33:00:00:00:01"), "eth_not_for_us")  # IPv6 multicast MAC with IPv4 inside
    # --- IPv4 header
    good = bytes(ip4())
    bad(eth4(good[:10]), "ip4_truncated")
    bad(eth4(good[:19]), "ip4_truncated")
    bad(eth4(raw_ip4(b"\x4f" + good[1:])), "ip4_truncated")  # IHL 15 = 60 bytes, 36 present
    bad(eth4(raw_ip4(b"\x65" + good[1:])), "ip4_bad_version")
    bad(eth4(raw_ip4(b"\x05" + good[1:])), "ip4_bad_version")
    bad(eth4(raw_ip4(b"\x44" + good[1:])), "ip4_bad_ihl")
    bad(eth4(raw_ip4(b"\x40" + good[1:])), "ip4_bad_ihl")
    bad(eth4(raw_ip4(good[:2] + struct.pack("!H", len(good) + 1) + good[4:])), "ip4_bad_length")
    bad(eth4(raw_ip4(good[:2] + struct.pack("!H", 1500) + good[4:])), "ip4_bad_length")
    bad(eth4(raw_ip4(good[:2] + struct.pack("!H", 12) + good[4:])), "ip4_bad_length")  # total < IHL
    bad(eth4(good[:10] + bytes([good[10] ^ 0xFF, good[11]]) + good[12:]), "ip4_bad_checksum")
    bad(eth4(good[:10] + b"\0\0" + good[12:]), "ip4_bad_checksum")
    for src in ("0.1.2.3", "127.0.0.1", "224.0.0.5", "239.255.255.250", "240.0.0.1", "255.255.255.255"):
        bad(eth4(ip4(src=src)), "ip4_martian_src")
    for dst in ("0.0.0.7", "127.0.0.1"):
        bad(eth4(ip4(dst=dst)), "ip4_martian_dst")
    bad(eth4(ip4(dst="239.1.1.1")), "ip4_mcast")
    bad(eth4(ip4(dst="255.255.255.255"), dst="ff:ff:ff:ff:ff:ff"), "ip4_mcast")
    # --- IPv4 to the router
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1", flags="MF") / ICMP() / payload(16)), "local_fragment")
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1", frag=10) / payload(16)), "local_fragment")
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(chksum=0x1234) / payload(16)), "icmp_bad_checksum")
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1", proto=1) / b"\x08\x00\xf7"), "icmp_truncated")
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=13)), "icmp_unhandled")
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=0)), "icmp_unhandled")  # unsolicited echo reply
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1") / TCP(dport=179)), "local_unhandled")
    bad(eth4(IP(src="10.0.0.2", dst="10.0.0.1", proto=89) / payload(20)), "local_unhandled")  # OSPF
    bad(eth4(ip4(dst="10.99.0.1")), "no_route")
    # --- IPv6 header
    g6 = bytes(IPv6(src="2001:db8:a::2", dst="2001:db8:100::1") / UDP() / payload(8))
    bad(eth6(g6[:39]), "ip6_truncated")
    bad(eth6(b"\x40" + g6[1:]), "ip6_bad_version")
    bad(eth6(b"\x00" + g6[1:]), "ip6_bad_version")
    bad(eth6(g6[:4] + b"\0\0" + g6[6:]), "ip6_bad_length")
    bad(eth6(g6[:4] + struct.pack("!H", len(g6) - 40 + 1) + g6[6:]), "ip6_bad_length")
    bad(eth6(IPv6(src="::1", dst="2001:db8:100::1") / UDP()), "ip6_martian_src")
    bad(eth6(IPv6(src="ff02::1", dst="2001:db8:100::1") / UDP()), "ip6_martian_src")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="::") / UDP()), "ip6_martian_dst")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="::1") / UDP()), "ip6_martian_dst")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="ff05::1:3") / UDP(), dst="33:33:00:01:00:03"), "ip6_mcast")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="ff02::1") / UDP(), dst="33:33:00:00:00:01"), "ip6_mcast")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="ff02::2") / ICMPv6EchoRequest(), dst="33:33:00:00:00:02"), "ip6_mcast")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="fe80::99") / UDP()), "ip6_linklocal_fwd")
    bad(eth6(IPv6(src="fe80::5", dst="2001:db8:100::1") / UDP()), "ip6_linklocal_fwd")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="2001:db8:99::1") / UDP()), "no_route")
    # --- IPv6 to the router: extension headers, fragments, ICMPv6
    base = IPv6(src="2001:db8:a::2", dst="2001:db8:a::1")
    hbh = bytes(base / IPv6ExtHdrHopByHop() / UDP())
    # hop-by-hop claiming 16 bytes with only 8 (+ 8 of UDP) present... and then cut to 4 bytes
    bad(eth6(hbh[:4] + struct.pack("!H", 4) + hbh[6:44]), "ip6_ext_truncated")
    h2 = bytearray(bytes(base / IPv6ExtHdrHopByHop() / payload(0)))
    h2[41] = 5  # 48 bytes claimed
    bad(eth6(bytes(h2)), "ip6_ext_truncated")
    many = base
    for _ in range(9):
        many = many / IPv6ExtHdrDestOpt()
    bad(eth6(many / UDP()), "ip6_ext_truncated")  # more than 8 extension headers
    bad(eth6(base / IPv6ExtHdrFragment(m=1, id=7) / ICMPv6EchoRequest() / payload(16)), "local_fragment")
    bad(eth6(base / TCP(dport=179)), "local_unhandled")
    bad(eth6(base / ICMPv6EchoRequest(cksum=0x1234)), "icmp_bad_checksum")
    bad(eth6(ip6_header("2001:db8:a::2", "2001:db8:a::1", 58, 2) + b"\x80\x00"), "icmp_truncated")  # 2 bytes
    echo_short = icmp6_body("2001:db8:a::2", "2001:db8:a::1", b"\x80\x00\x00\x00\x00\x01")
    bad(eth6(ip6_header("2001:db8:a::2", "2001:db8:a::1", 58, 6) + echo_short), "icmp_truncated")
    bad(eth6(base / ICMPv6EchoRequest(code=1)), "icmp_unhandled")
    bad(eth6(IPv6(src="2001:db8:a::2", dst="2001:db8:a::1", nh=58) /
             Raw(icmp6_body("2001:db8:a::2", "2001:db8:a::1", b"\x90\x00\x00\x00" + b"\0" * 4))), "icmp_unhandled")
    # --- ARP
    req = arp_frame(1, H_A, "10.0.0.2", ZERO, "10.0.0.1")
    body = bytearray(req[14:])
    for off, val in ((4, 8), (5, 6), (0, 6), (7, 3)):  # hlen, plen, htype (high byte 0: value 6 -> 0x0600), op 3
        b = bytearray(body)
        if off == 0:
            b[0:2] = struct.pack("!H", 6)
        else:
            b[off] = val
        bad(req[:14] + bytes(b), "arp_malformed")
    pb = bytearray(body)
    pb[2:4] = b"\x86\xdd"
    bad(req[:14] + bytes(pb), "arp_malformed")  # protocol type not IPv4
    bad(req[:14 + 20], "arp_malformed")  # truncated
    bad(arp_frame(1, "01:00:5e:00:00:01", "10.0.0.9", ZERO, "10.0.0.1"), "arp_bad_sender")
    bad(arp_frame(1, "ff:ff:ff:ff:ff:ff", "10.0.0.9", ZERO, "10.0.0.1", src=H_A), "arp_bad_sender")
    bad(arp_frame(1, ZERO, "10.0.0.9", ZERO, "10.0.0.1", src=H_A), "arp_bad_sender")
    bad(arp_frame(1, H_A, "127.0.0.1", ZERO, "10.0.0.1"), "arp_bad_sender")
    bad(arp_frame(1, H_A, "224.0.0.1", ZERO, "10.0.0.1"), "arp_bad_sender")
    # --- NDP
    tgt = ip6_b("2001:db8:a::1")
    sn = solicited_node("2001:db8:a::1")
    ns_ok = b"\x87\x00\x00\x00\x00\x00\x00\x00" + tgt + b"\x01\x01" + bytes.fromhex("0200000000aa")
    bad(ndp_raw("2001:db8:a::2", sn, ns_ok, hlim=64), "ndp_bad_hop_limit")
    bad(ndp_raw("2001:db8:a::2", sn, ns_ok, hlim=254), "ndp_bad_hop_limit")
    bad(ndp_raw("2001:db8:a::2", sn, ns_ok[:24] + b"\x01\x00" + b"\0" * 6), "ndp_malformed")  # option length 0
    bad(ndp_raw("2001:db8:a::2", sn, ns_ok[:24] + b"\x01\x02" + b"\0" * 6), "ndp_malformed")  # option past end
    bad(ndp_raw("2001:db8:a::2", sn, b"\x87\x01" + ns_ok[2:]), "ndp_malformed")  # code 1
    bad(ndp_raw("2001:db8:a::2", sn, ns_ok[:8] + ip6_b("ff02::1") + ns_ok[24:]), "ndp_malformed")  # mcast target
    na_short = b"\x88\x00\x00\x00\x60\x00\x00\x00" + tgt[:12]  # 20 bytes: truncated NA
    bad(ndp_raw("2001:db8:a::2", "2001:db8:a::1", na_short, eth_dst=R_A), "ndp_malformed")
    na_mcast_sol = b"\x88\x00\x00\x00\x40\x00\x00\x00" + ip6_b("2001:db8:a::2")  # solicited NA to a group
    bad(ndp_raw("2001:db8:a::2", "ff02::1", na_mcast_sol), "ndp_malformed")
    bad(ndp_raw("2001:db8:a::2", sn, b"\x87\x00\x12\x34" + ns_ok[4:])[:-2] + b"\xff\xff", "icmp_bad_checksum")
    return C


def valid(i):
    """Valid packets interleaved with the corpus: forwarded (v4 and v6, untagged and VLAN)."""
    if i % 2:
        return from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (i % 250 + 1), id=i) / UDP(sport=i, dport=7) /
                      payload(i % 50, i))
    return from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::%x" % i) / UDP(sport=i, dport=7) / payload(i % 50, i))


@case("badinput-frames", group="badinput", workers=(1, 2))
def badinput_frames(c):
    r = std_router(c)
    corp = corpus()
    frames, exp1, drops = [], [], Counter()
    for i, (f, reason, _) in enumerate(corp):
        frames.append(f)
        drops[reason] += 1
        v = valid(i + 1)
        frames.append(v)
        exp1.append(fwd_frame(v, R_B, GW_B))
    # expiring TTL / hop limit: ICMP errors back to the sender
    t0 = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=0) / UDP() / payload(20))
    t1 = from_a(IP(src="10.0.0.2", dst="192.0.2.9", ttl=1) / UDP() / payload(20))
    h1 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::9", hlim=1) / UDP() / payload(20))
    frames += [t0, t1, h1]
    exp0 = [icmp4_error(t0, "10.0.0.1", 11, 0, R_A, H_A), icmp4_error(t1, "10.0.0.1", 11, 0, R_A, H_A),
            icmp6_error(h1, "2001:db8:a::1", 3, 0, R_A, H_A)]
    r.start({"p0": frames})
    s = r.last_stats
    d = r.ctl_ok("version")
    c.check(d["version"], "daemon not answering after the corpus")
    r.stop()
    r.expect_output("p1", exp1)
    r.expect_output("p0", exp0)
    r.expect_counters(s, drops=dict(drops), totals={"tx": len(exp1) + len(exp0), "punted": 0})
    c.check(s["control"]["punt_received"] == 0, "malformed frames reached the control thread")


@case("badinput-jumbo", group="badinput")
def badinput_jumbo(c):
    """Frames larger than the device MTU. One that fits an mbuf is routed like any other packet (DF: ICMP
    "fragmentation needed", else fragmented); a 9000-byte frame arrives as a chain of mbufs (net_pcap) and must be
    dropped under a named counter. Which one is recorded here: ip4_bad_length / ip6_bad_length (the headers are
    checked against the first segment only)."""
    r = std_router(c)
    df = from_a(IP(src="10.0.0.2", dst="192.0.2.1", flags="DF") / UDP() / payload(1600 - 42))
    jumbo4 = from_a(IP(src="10.0.0.2", dst="192.0.2.1") / UDP() / payload(9000 - 42))
    jumbo6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::1") / UDP() / payload(9000 - 62))
    ok = from_a(IP(src="10.0.0.2", dst="192.0.2.2") / UDP() / payload(10))
    r.start({"p0": [df, jumbo4, ok, jumbo6, ok]})
    s = r.last_stats
    r.stop()
    r.expect_output("p0", [icmp4_error(df, "10.0.0.1", 3, 4, R_A, H_A, info=1500)])
    r.expect_output("p1", [fwd_frame(ok, R_B, GW_B)] * 2)
    r.expect_counters(s, drops={"ip4_bad_length": 1, "ip6_bad_length": 1}, totals={"tx": 3, "punted": 0})


@case("badinput-l2-broadcast", group="badinput")
def badinput_l2_broadcast(c):
    """RFC 1812 5.3.4: a unicast IP packet received as a link-layer broadcast or multicast is not forwarded. Both
    frames must be dropped, each under one named reason (which one is the daemon's choice)."""
    r = std_router(c)
    b4 = Ether(src=H_A, dst="ff:ff:ff:ff:ff:ff") / IP(src="10.0.0.2", dst="192.0.2.1") / UDP() / payload(8)
    b6 = Ether(src=H_A, dst="33:33:00:00:00:01") / IPv6(src="2001:db8:a::2", dst="2001:db8:100::1") / UDP()
    ok = from_a(IP(src="10.0.0.2", dst="192.0.2.2") / UDP())
    r.start({"p0": [b4, ok, b6]})
    s = r.last_stats
    r.stop()
    r.expect_output("p1", [fwd_frame(ok, R_B, GW_B)])
    r.expect_output("p0", [])
    nz = {k: v for k, v in s["drops"].items() if v}
    c.check(sum(nz.values()) == 2 and s["totals"]["drops"] == 2, "drops %s, expected the 2 frames" % nz)
    r.expect_counters(s, drops=nz, totals={"tx": 1, "punted": 0})


@case("badinput-subnet-broadcast", group="badinput")
def badinput_subnet_broadcast(c):
    """The broadcast and network addresses of a connected IPv4 subnet are not neighbours: packets to them are
    dropped under a named reason (ip4_mcast: "multicast or broadcast destination") and nobody is ARPed for."""
    r = std_router(c)
    b1 = from_a(IP(src="10.0.0.2", dst="10.0.1.255") / UDP())  # directed broadcast of b's subnet
    b2 = from_a(IP(src="10.0.0.2", dst="10.0.0.255") / UDP())  # broadcast of the subnet it came from
    b3 = from_a(IP(src="10.0.0.2", dst="10.0.1.0") / UDP())  # network address
    r.start({"p0": [b1, b2, b3]})
    s = r.last_stats
    r.stop()
    r.expect_output("p0", [])
    r.expect_output("p1", [])
    r.expect_counters(s, drops={"ip4_mcast": 3}, totals={"tx": 0, "punted": 0})
