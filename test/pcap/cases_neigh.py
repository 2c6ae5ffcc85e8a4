# SPDX-License-Identifier: BSD-3-Clause
"""ARP and NDP answered by the router, learning, and resolution of unknown next hops with held packets."""
from harness import (case, fwd_frame, describe, arp_frame, ndp_frame, solicited_node, mcast_mac6, Ether, Dot1Q,
                     ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr)
from topo import (IP, IPv6, UDP, TCP, R_A, R_A100, R_B, R_B200, STD_ANNOUNCE, std_router, from_a, payload)

ZERO = "00:00:00:00:00:00"
BCAST = "ff:ff:ff:ff:ff:ff"
LL_A = "fe80::ff:fe00:1"  # modified EUI-64 of R_A 02:00:00:00:00:01


def learned(r, c, expect):
    """expect: {(iface, ip): (mac, state)}: the non-static neighbour rows must be exactly these."""
    rows = r.neighbours_table()
    got = {(n["interface"], n["ip"]): (n["mac"], n["state"]) for n in rows if n["state"] != "static"}
    for k, v in expect.items():
        if got.get(k) != v:
            c.fail("neighbour %s on %s: %s, expected %s" % (k[1], k[0], got.get(k), v))
    for k in got:
        if k not in expect:
            c.fail("unexpected neighbour %s on %s: %s" % (k[1], k[0], got[k]))
    return rows


@case("arp", workers=(1, 2))
def arp(c):
    r = std_router(c)
    h50, h60, h51, h52, h53, h54 = ("02:00:00:00:00:%d" % i for i in (50, 60, 51, 52, 53, 54))
    req = arp_frame(1, h50, "10.0.0.50", ZERO, "10.0.0.1")
    req_vlan = arp_frame(1, h60, "10.1.0.60", ZERO, "10.1.0.1", vlan=100)
    req_other = arp_frame(1, h51, "10.0.0.51", ZERO, "10.0.0.77")  # not our address
    req_b = arp_frame(1, h53, "10.0.0.53", ZERO, "10.0.1.1")  # address of another interface
    grat = arp_frame(1, h54, "10.0.0.54", ZERO, "10.0.0.54")
    rep = arp_frame(2, h52, "10.0.0.52", R_A, "10.0.0.1", dst=R_A)  # unsolicited reply to us: learned
    r.start({"p0": [req, req_vlan, req_other, req_b, grat, rep]}, spread=False)
    s = r.last_stats
    learned(r, c, {("a", "10.0.0.50"): (h50, "stale"), ("a100", "10.1.0.60"): (h60, "stale"),
                   ("a", "10.0.0.52"): (h52, "stale")})
    r.stop()
    r.expect_output("p0", [
        arp_frame(2, R_A, "10.0.0.1", h50, "10.0.0.50", dst=h50),
        arp_frame(2, R_A100, "10.1.0.1", h60, "10.1.0.60", dst=h60, vlan=100),
    ], ordered=True)
    r.expect_output("p1", [])
    r.expect_counters(s, drops={}, totals={"tx": 0, "punted": 6}, control={
        "arp_rx_request": 4, "arp_rx_reply": 1, "arp_rx_gratuitous": 1, "arp_rx_not_for_us": 3, "arp_tx_reply": 2,
        "arp_tx_request": 0, "arp_tx_gratuitous": 4, "punt_received": 6})
    r.expect_announcements(STD_ANNOUNCE)


def ns(src, target, smac, dst=None, vlan=None, slla=True, hlim=255, eth_dst=None):
    dst = dst or solicited_node(target)
    p = IPv6(src=src, dst=dst, hlim=hlim) / ICMPv6ND_NS(tgt=target)
    if slla:
        p = p / ICMPv6NDOptSrcLLAddr(lladdr=smac)
    e = Ether(src=smac, dst=eth_dst or mcast_mac6(dst))
    return e / Dot1Q(vlan=vlan) / p if vlan else e / p


@case("ndp", workers=(1, 2))
def ndp(c):
    r = std_router(c)
    h50, h51, h60, h70 = "02:00:00:00:00:50", "02:00:00:00:00:51", "02:00:00:00:01:60", "02:00:00:00:00:70"
    n1 = ns("2001:db8:a::50", "2001:db8:a::1", h50)
    n2 = ns("fe80::50", LL_A, h50)  # for our link-local address
    n3 = ns("2001:db8:1a::60", "2001:db8:1a::1", h60, vlan=100)
    n4 = ns("2001:db8:a::51", "2001:db8:a::1", h51, dst="2001:db8:a::1", eth_dst=R_A)  # unicast (NUD)
    n5 = ns("2001:db8:a::70", "2001:db8:a::77", h70)  # unknown target: nothing
    n6 = ns("2001:db8:a::70", "2001:db8:b::1", h70)  # address of another interface: nothing
    dad = ns("::", "2001:db8:a::1", h70, slla=False)  # DAD probe for our address: defended
    na = Ether(src=h70, dst="33:33:00:00:00:01") / IPv6(src="2001:db8:a::71", dst="ff02::1", hlim=255) / \
        ICMPv6ND_NA(tgt="2001:db8:a::71", R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=h70)  # no entry: ignored
    r.start({"p0": [n1, n2, n3, n4, n5, n6, dad, na]}, spread=False)
    s = r.last_stats
    # RFC 4861 7.2.3: an NS with a source link-layer option creates or updates the sender's entry (link-local too)
    learned(r, c, {("a", "2001:db8:a::50"): (h50, "stale"), ("a", "fe80::50"): (h50, "stale"),
                   ("a100", "2001:db8:1a::60"): (h60, "stale"), ("a", "2001:db8:a::51"): (h51, "stale")})
    r.stop()
    rso = 0xE0
    r.expect_output("p0", [
        ndp_frame(136, rso, "2001:db8:a::1", "2001:db8:a::50", "2001:db8:a::1", 2, R_A, R_A, h50),
        ndp_frame(136, rso, LL_A, "fe80::50", LL_A, 2, R_A, R_A, h50),
        ndp_frame(136, rso, "2001:db8:1a::1", "2001:db8:1a::60", "2001:db8:1a::1", 2, R_A100, R_A100, h60,
                  vlan=100),
        ndp_frame(136, rso, "2001:db8:a::1", "2001:db8:a::51", "2001:db8:a::1", 2, R_A, R_A, h51),
    ])  # any order: the unicast NS (n4) skips ip6_input and can overtake the multicast ones
    r.expect_output("p1", [])
    r.expect_counters(s, drops={}, totals={"tx": 0, "punted": 8}, control={
        "ndp_rx_ns": 7, "ndp_rx_na": 1, "ndp_tx_na": 4, "ndp_rx_ns_not_for_us": 2, "ndp_rx_dad": 1,
        "ndp_tx_ns": 0, "ndp_tx_unsolicited_na": 5})
    # the DAD defence is an NA to all nodes for 2001:db8:a::1 (counted with the start-up announcements)
    r.expect_announcements({"p0": 5, "p1": 4})
    dad_na = ndp_frame(136, 0xA0, "2001:db8:a::1", "ff02::1", "2001:db8:a::1", 2, R_A, R_A, "33:33:00:00:00:01")
    c.check(r.announcements["p0"].count(dad_na) == 2,
            "expected the start-up NA and the DAD defence NA for 2001:db8:a::1 (R+O, to ff02::1)")


FILL_MAC = "02:00:00:00:77:77"  # not ours: eth_not_for_us


def filler(n):
    return [Ether(src="02:00:00:00:66:66", dst=FILL_MAC) / IP(src="10.0.1.9", dst="10.0.1.1") / UDP()] * n


@case("neigh-resolve", workers=(1, 2))
def neigh_resolve(c):
    """Packets for unknown hosts on a connected subnet are held while the router resolves them; the answers come
    on the other port more than one rx burst (256 frames) later, so they reach the control thread after the held
    packets (one worker polls both ports: queue 0 of each)."""
    r = std_router(c)
    hb = "02:00:00:00:0b:50"
    p1 = from_a(IP(src="10.0.0.2", dst="10.0.1.50", id=1) / UDP(sport=1, dport=2) / payload(100, 1))
    p2 = from_a(IP(src="10.0.0.2", dst="10.0.1.50", id=2, ttl=3) / TCP(sport=1, dport=2) / payload(10, 2))
    p3 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:b::50") / UDP(sport=1, dport=2) / payload(200, 3))
    p4 = from_a(IP(src="10.1.0.2", dst="10.0.1.50", id=4) / UDP(sport=1, dport=2), vlan=100)
    p5 = from_a(IP(src="10.0.0.2", dst="10.1.1.50", id=5) / UDP(sport=1, dport=2) / payload(30, 5))  # on VLAN 200
    hv = "02:00:00:00:0c:50"
    arp_rep_v = arp_frame(2, hv, "10.1.1.50", R_B200, "10.1.1.1", dst=R_B200, vlan=200)
    arp_rep = arp_frame(2, hb, "10.0.1.50", R_B, "10.0.1.1", dst=R_B)
    na = Ether(src=hb, dst=R_B) / IPv6(src="2001:db8:b::50", dst="2001:db8:b::1", hlim=255) / \
        ICMPv6ND_NA(tgt="2001:db8:b::50", R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=hb)
    fill = filler(300)
    r.start({"p0": {0: [p1, p2, p3, p4, p5]}, "p1": {0: fill + [arp_rep] + fill + [na, arp_rep_v]}})
    s = r.last_stats
    learned(r, c, {("b", "10.0.1.50"): (hb, "reachable"), ("b", "2001:db8:b::50"): (hb, "reachable"),
                   ("b200", "10.1.1.50"): (hv, "reachable")})
    r.stop()
    arp_req = arp_frame(1, R_B, "10.0.1.1", ZERO, "10.0.1.50", dst=BCAST)
    ns_req = ndp_frame(135, 0, "2001:db8:b::1", solicited_node("2001:db8:b::50"), "2001:db8:b::50", 1, R_B, R_B,
                       mcast_mac6(solicited_node("2001:db8:b::50")))
    arp_req_v = arp_frame(1, R_B200, "10.1.1.1", ZERO, "10.1.1.50", dst=BCAST, vlan=200)
    f1, f2, f3, f4 = (fwd_frame(p, R_B, hb) for p in (p1, p2, p3, p4))
    f5 = fwd_frame(p5, R_B200, hv, vlan=200)
    r.expect_output("p1", [arp_req, ns_req, arp_req_v, f1, f2, f3, f4, f5])
    # the requests go out before the held packets; IPv4 ones keep their order (IPv4 and IPv6 may interleave)
    out = r.outputs["p1"]
    if sorted(out) == sorted([arp_req, ns_req, arp_req_v, f1, f2, f3, f4, f5]):
        c.check(max(out.index(arp_req), out.index(ns_req), out.index(arp_req_v)) <
                min(out.index(f) for f in (f1, f2, f3, f4, f5)),
                "a held packet left before the ARP request / NS: %s" % [describe(f) for f in out])
        c.check(out.index(f1) < out.index(f2) < out.index(f4), "held IPv4 packets reordered")
    r.expect_output("p0", [])
    r.expect_counters(s, drops={"eth_not_for_us": 600}, totals={"tx": 0, "punted": 8}, control={
        "arp_tx_request": 2, "ndp_tx_ns": 1, "neigh_held": 5, "neigh_resolved": 3, "neigh_hold_flushed": 5,
        "neigh_failed": 0, "arp_rx_reply": 2, "ndp_rx_na": 1})


@case("neigh-unresolved")
def neigh_unresolved(c):
    """No answer: three multicast probes retrans_ms apart, then the held packets are dropped (neigh_unresolved);
    beyond hold_packets they are dropped at once (neigh_hold_full)."""
    r = std_router(c, extra_conf="neighbour: { retrans_ms = 100; hold_packets = 2; };")
    v4 = [from_a(IP(src="10.0.0.2", dst="10.0.1.51", id=i) / UDP()) for i in range(4)]
    v6 = [from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:b::51") / UDP(sport=i)) for i in range(1)]
    r.start({"p0": v4 + v6})
    s = r.wait_for("resolution to fail", lambda s: s["control"]["neigh_failed"] == 2)
    rows = r.neighbours_table()
    c.check(not [n for n in rows if n["ip"] in ("10.0.1.51", "2001:db8:b::51")],
            "failed neighbours still listed: %s" % rows)
    r.stop()
    arp_req = arp_frame(1, R_B, "10.0.1.1", ZERO, "10.0.1.51", dst=BCAST)
    ns_req = ndp_frame(135, 0, "2001:db8:b::1", solicited_node("2001:db8:b::51"), "2001:db8:b::51", 1, R_B, R_B,
                       mcast_mac6(solicited_node("2001:db8:b::51")))
    r.expect_output("p1", [arp_req] * 3 + [ns_req] * 3)
    r.expect_output("p0", [])
    r.expect_counters(s, drops={"neigh_hold_full": 2, "neigh_unresolved": 3}, totals={"tx": 0, "punted": 5},
                      control={"arp_tx_request": 3, "ndp_tx_ns": 3, "neigh_held": 3, "neigh_hold_full": 2,
                               "neigh_failed": 2, "neigh_hold_dropped": 3, "neigh_resolved": 0})


@case("neigh-resolve-gateway", workers=(1, 2))
def neigh_resolve_gateway(c):
    """Routes via gateways that are not static neighbours: the router resolves the gateway (not the destination),
    an IPv6 gateway given by its link-local address included, and sends the held packets to the gateway's MAC."""
    r = std_router(c, routes=[{"vrf": "main", "prefix": "203.0.113.0/24", "via": "10.0.1.3"},
                              {"vrf": "main", "prefix": "2001:db8:500::/48", "via": "fe80::1", "dev": "b"}])
    g4, g6 = "02:00:00:00:0b:03", "02:00:00:00:0b:01"
    ll_b = "fe80::ff:fe00:2"  # modified EUI-64 of R_B
    p1 = from_a(IP(src="10.0.0.2", dst="203.0.113.5", id=1) / UDP(sport=1) / payload(20, 1))
    p2 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:500::5") / UDP(sport=2) / payload(20, 2))
    p3 = from_a(IP(src="10.0.0.2", dst="203.0.113.6", id=3) / UDP(sport=3) / payload(20, 3))
    arp_rep = arp_frame(2, g4, "10.0.1.3", R_B, "10.0.1.1", dst=R_B)
    na = Ether(src=g6, dst=R_B) / IPv6(src="fe80::1", dst=ll_b, hlim=255) / \
        ICMPv6ND_NA(tgt="fe80::1", R=1, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=g6)
    fill = filler(300)
    r.start({"p0": {0: [p1, p2, p3]}, "p1": {0: fill + [arp_rep, na]}})
    s = r.last_stats
    learned(r, c, {("b", "10.0.1.3"): (g4, "reachable"), ("b", "fe80::1"): (g6, "reachable")})
    r.stop()
    arp_req = arp_frame(1, R_B, "10.0.1.1", ZERO, "10.0.1.3", dst=BCAST)
    ns_req = ndp_frame(135, 0, ll_b, solicited_node("fe80::1"), "fe80::1", 1, R_B, R_B,
                       mcast_mac6(solicited_node("fe80::1")))
    f1, f2, f3 = fwd_frame(p1, R_B, g4), fwd_frame(p2, R_B, g6), fwd_frame(p3, R_B, g4)
    r.expect_output("p1", [arp_req, ns_req, f1, f2, f3])
    out = r.outputs["p1"]
    if sorted(out) == sorted([arp_req, ns_req, f1, f2, f3]):
        c.check(max(out.index(arp_req), out.index(ns_req)) < min(out.index(f) for f in (f1, f2, f3)),
                "a held packet left before the ARP request / NS")
    r.expect_output("p0", [])
    r.expect_counters(s, drops={"eth_not_for_us": 300}, totals={"tx": 0, "punted": 5}, control={
        "arp_tx_request": 1, "ndp_tx_ns": 1, "neigh_held": 3, "neigh_resolved": 2, "neigh_hold_flushed": 3})
