# SPDX-License-Identifier: BSD-3-Clause
"""The standard test topology: two ports, an untagged interface and a VLAN sub-interface on each, one VRF.

  host A (10.0.0.2, 2001:db8:a::2)      --- p0 untagged  iface a    10.0.0.1/24  2001:db8:a::1/64
  host A100 (10.1.0.2, 2001:db8:1a::2)  --- p0 VLAN 100  iface a100 10.1.0.1/24  2001:db8:1a::1/64
  gateway B (10.0.1.2, 2001:db8:b::2)   --- p1 untagged  iface b    10.0.1.1/24  2001:db8:b::1/64
  gateway B200 (10.1.1.2, 2001:db8:1b::2) - p1 VLAN 200  iface b200 10.1.1.1/24  2001:db8:1b::1/64

  192.0.2.0/24, 2001:db8:100::/48 via gateway B; 198.18.0.0/24, 2001:db8:200::/48 via gateway B200.
  All hosts and gateways are static neighbours.
"""
from harness import UDP, TCP, ICMP, IP, IPv6, Dot1Q, Ether, Raw  # noqa

R_A, R_A100, R_B, R_B200 = "02:00:00:00:00:01", "02:00:00:00:01:00", "02:00:00:00:00:02", "02:00:00:00:02:00"
H_A, H_A100, GW_B, GW_B200 = "02:00:00:00:00:aa", "02:00:00:00:01:aa", "02:00:00:00:00:99", "02:00:00:00:02:99"


def std_interfaces(b_mtu=None):
    b = {"name": "b", "device": "p1", "vrf": "main", "mac": R_B, "addresses": ["10.0.1.1/24", "2001:db8:b::1/64"]}
    if b_mtu:
        b["mtu"] = b_mtu
    return [
        {"name": "a", "device": "p0", "vrf": "main", "mac": R_A, "addresses": ["10.0.0.1/24", "2001:db8:a::1/64"]},
        {"name": "a100", "device": "p0", "vlan": 100, "vrf": "main", "mac": R_A100,
         "addresses": ["10.1.0.1/24", "2001:db8:1a::1/64"]},
        b,
        {"name": "b200", "device": "p1", "vlan": 200, "vrf": "main", "mac": R_B200,
         "addresses": ["10.1.1.1/24", "2001:db8:1b::1/64"]},
    ]


STD_ROUTES = [
    {"vrf": "main", "prefix": "192.0.2.0/24", "via": "10.0.1.2"},
    {"vrf": "main", "prefix": "2001:db8:100::/48", "via": "2001:db8:b::2"},
    {"vrf": "main", "prefix": "198.18.0.0/24", "via": "10.1.1.2"},
    {"vrf": "main", "prefix": "2001:db8:200::/48", "via": "2001:db8:1b::2"},
]

STD_NEIGHBOURS = [
    {"interface": "a", "ip": "10.0.0.2", "mac": H_A},
    {"interface": "a", "ip": "2001:db8:a::2", "mac": H_A},
    {"interface": "a100", "ip": "10.1.0.2", "mac": H_A100},
    {"interface": "a100", "ip": "2001:db8:1a::2", "mac": H_A100},
    {"interface": "b", "ip": "10.0.1.2", "mac": GW_B},
    {"interface": "b", "ip": "2001:db8:b::2", "mac": GW_B},
    {"interface": "b200", "ip": "10.1.1.2", "mac": GW_B200},
    {"interface": "b200", "ip": "2001:db8:1b::2", "mac": GW_B200},
]

# address announcements at start: one per address on each port
STD_ANNOUNCE = {"p0": 4, "p1": 4}


def std_router(c, routes=(), neighbours=(), b_mtu=None, **kw):
    return c.router(interfaces=std_interfaces(b_mtu), routes=STD_ROUTES + list(routes),
                    neighbours=STD_NEIGHBOURS + list(neighbours), **kw)


def from_a(l3, vlan=None):
    """A frame from host A (or A100 when vlan=100) to the router."""
    if vlan:
        return Ether(src=H_A100, dst=R_A100) / Dot1Q(vlan=vlan) / l3
    return Ether(src=H_A, dst=R_A) / l3


def from_b(l3, vlan=None):
    if vlan:
        return Ether(src=GW_B200, dst=R_B200) / Dot1Q(vlan=vlan) / l3
    return Ether(src=GW_B, dst=R_B) / l3


def payload(n, seed=0):
    return Raw(bytes((seed + i * 7) & 0xFF for i in range(n)))
