# SPDX-License-Identifier: BSD-3-Clause
"""VRF isolation (two VRFs with the same addresses and prefixes on VLANs of the same ports) and route leaking."""
from harness import case, fwd_frame, Ether, Dot1Q
from topo import IP, IPv6, UDP, TCP, payload

# red on VLAN 10, blue on VLAN 20, on both ports; identical addressing in both VRFs
MAC = {("red", "in"): "02:00:00:00:10:01", ("red", "out"): "02:00:00:00:10:02",
       ("blue", "in"): "02:00:00:00:20:01", ("blue", "out"): "02:00:00:00:20:02"}
HOST = {"red": "02:00:00:00:10:aa", "blue": "02:00:00:00:20:aa"}
GW = {"red": "02:00:00:00:10:99", "blue": "02:00:00:00:20:99"}
VLAN = {"red": 10, "blue": 20}


def vrf_router(c, extra_routes=()):
    ifs, nbs, routes = [], [], []
    for v in ("red", "blue"):
        ifs.append({"name": v + "-in", "device": "p0", "vlan": VLAN[v], "vrf": v, "mac": MAC[(v, "in")],
                    "addresses": ["10.0.0.1/24", "2001:db8:a::1/64"]})
        ifs.append({"name": v + "-out", "device": "p1", "vlan": VLAN[v], "vrf": v, "mac": MAC[(v, "out")],
                    "addresses": ["10.0.1.1/24", "2001:db8:b::1/64"]})
        nbs += [{"interface": v + "-in", "ip": "10.0.0.2", "mac": HOST[v]},
                {"interface": v + "-in", "ip": "2001:db8:a::2", "mac": HOST[v]},
                {"interface": v + "-out", "ip": "10.0.1.2", "mac": GW[v]},
                {"interface": v + "-out", "ip": "2001:db8:b::2", "mac": GW[v]}]
        routes += [{"vrf": v, "prefix": "192.0.2.0/24", "via": "10.0.1.2"},
                   {"vrf": v, "prefix": "2001:db8:100::/48", "via": "2001:db8:b::2"}]
    routes += [{"vrf": "red", "prefix": "198.51.100.0/24", "via": "10.0.1.2"},
               {"vrf": "red", "prefix": "2001:db8:300::/48", "via": "2001:db8:b::2"}]
    routes += list(extra_routes)
    return c.router(vrfs=[{"name": "red", "id": 10, "fib": "fast"}, {"name": "blue", "id": 20, "fib": "compact"}],
                    interfaces=ifs, routes=routes, neighbours=nbs)


def pkt(vrf, l3):
    return Ether(src=HOST[vrf], dst=MAC[(vrf, "in")]) / Dot1Q(vlan=VLAN[vrf]) / l3


def out(vrf, p):
    return fwd_frame(p, MAC[(vrf, "out")], GW[vrf], vlan=VLAN[vrf])


@case("vrf-isolation", workers=(1, 2))
def vrf_isolation(c):
    r = vrf_router(c)
    fwd, exp = [], []
    for i in range(12):
        v = ("red", "blue")[i % 2]
        if i % 3 == 0:
            p = pkt(v, IPv6(src="2001:db8:a::2", dst="2001:db8:100::%d" % i) / UDP(sport=i) / payload(20 + i, i))
        else:
            p = pkt(v, IP(src="10.0.0.2", dst="192.0.2.%d" % i, id=i) / TCP(sport=i) / payload(20 + i, i))
        fwd.append(p)
        exp.append(out(v, p))
    # red-only prefixes: forwarded in red, no_route in blue
    red_only = [pkt("red", IP(src="10.0.0.2", dst="198.51.100.1") / UDP()),
                pkt("red", IPv6(src="2001:db8:a::2", dst="2001:db8:300::1") / UDP())]
    blue_lost = [pkt("blue", IP(src="10.0.0.2", dst="198.51.100.1") / UDP()),
                 pkt("blue", IPv6(src="2001:db8:a::2", dst="2001:db8:300::1") / UDP()),
                 pkt("blue", IP(src="10.0.0.2", dst="198.51.100.2") / UDP())]
    # a frame on a VLAN of no interface
    stray = Ether(src=HOST["red"], dst=MAC[("red", "in")]) / Dot1Q(vlan=30) / IP(src="10.0.0.2", dst="192.0.2.1")
    r.start({"p0": fwd + red_only + blue_lost + [stray]})
    s = r.last_stats
    r.stop()
    r.expect_output("p1", exp + [out("red", p) for p in red_only])
    r.expect_output("p0", [])
    r.expect_counters(s, drops={"no_route": 3, "eth_unknown_vlan": 1}, totals={"tx": len(exp) + 2, "punted": 0})
    r.expect_announcements({"p0": 4, "p1": 4})


LEAKS = [
    {"vrf": "blue", "prefix": "203.0.113.0/24", "target_vrf": "red"},
    {"vrf": "red", "prefix": "203.0.113.0/24", "via": "10.0.1.2"},
    {"vrf": "blue", "prefix": "2001:db8:400::/48", "target_vrf": "red"},
    {"vrf": "red", "prefix": "2001:db8:400::/48", "via": "2001:db8:b::2"},
    # a leak that lands on a leak is dropped, not followed
    {"vrf": "blue", "prefix": "100.64.0.0/24", "target_vrf": "red"},
    {"vrf": "red", "prefix": "100.64.0.0/24", "target_vrf": "blue"},
    # a leak into a VRF without a route for the destination
    {"vrf": "blue", "prefix": "100.65.0.0/24", "target_vrf": "red"},
]


@case("route-leak", workers=(1, 2))
def route_leak(c):
    r = vrf_router(c, LEAKS)
    leaked = [pkt("blue", IP(src="10.0.0.2", dst="203.0.113.%d" % i, id=i) / UDP(sport=i) / payload(i * 10, i))
              for i in range(1, 7)]
    leaked6 = [pkt("blue", IPv6(src="2001:db8:a::2", dst="2001:db8:400::%d" % i) / UDP(sport=i) / payload(i, i))
               for i in range(1, 4)]
    red_direct = [pkt("red", IP(src="10.0.0.2", dst="203.0.113.99") / UDP())]
    loop = [pkt("blue", IP(src="10.0.0.2", dst="100.64.0.5") / UDP()),
            pkt("red", IP(src="10.0.0.2", dst="100.64.0.6") / UDP())]
    nowhere = [pkt("blue", IP(src="10.0.0.2", dst="100.65.0.1") / UDP())]
    r.start({"p0": leaked + leaked6 + red_direct + loop + nowhere})
    s = r.last_stats
    r.stop()
    # blue traffic leaked into red leaves through red's interface (VLAN 10, red's gateway)
    r.expect_output("p1", [out("red", p) for p in leaked + leaked6 + red_direct])
    r.expect_output("p0", [])
    r.expect_counters(s, drops={"leak_loop": 2, "no_route": 1}, totals={"tx": 10, "punted": 0})
