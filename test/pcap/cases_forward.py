# SPDX-License-Identifier: BSD-3-Clause
"""Forwarding: IPv4 and IPv6 via a gateway, untagged and between VLAN sub-interfaces."""
from harness import case, fwd_frame, icmp4_error, icmp6_error
from scapy.layers.inet import IPOption, IPOption_RR
from scapy.layers.inet6 import IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrFragment
from topo import (IP, IPv6, TCP, UDP, ICMP, Ether, Dot1Q, R_A, R_B, R_B200, GW_B, GW_B200, H_A, H_A100, R_A100, STD_ANNOUNCE,
                  std_router,
                  from_a, payload)


def ip4_inputs():
    pkts = []
    for i in range(40):
        size = [0, 1, 18, 64, 500, 1000, 1460][i % 7]
        if i % 3 == 0:
            l4 = UDP(sport=1000 + i, dport=53) / payload(size, i)
        elif i % 3 == 1:
            l4 = TCP(sport=2000 + i, dport=80, flags="S", seq=i) / payload(size, i)
        else:
            l4 = ICMP(type=8, id=i, seq=i) / payload(size, i)
        ttl = [64, 2, 255, 17][i % 4]
        tos = [0, 0x10, 0xb8][i % 3]
        flags = "DF" if i % 2 else 0
        if i % 2:  # untagged a -> b
            pkts.append(from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (i + 1), ttl=ttl, tos=tos, flags=flags,
                                  id=i) / l4))
        else:  # VLAN 100 -> VLAN 200
            pkts.append(from_a(IP(src="10.1.0.2", dst="198.18.0.%d" % (i + 1), ttl=ttl, tos=tos, flags=flags,
                                  id=i) / l4, vlan=100))
    return pkts


def expected4(pkts):
    out = []
    for p in pkts:
        if p[IP].dst.startswith("192.0.2."):
            out.append(fwd_frame(p, R_B, GW_B))
        else:
            out.append(fwd_frame(p, R_B200, GW_B200, vlan=200))
    return out


@case("fwd-ipv4", workers=(1, 2))
def fwd_ipv4(c):
    r = std_router(c)
    pkts = ip4_inputs()
    # Ethernet padding on a short frame must not be forwarded
    short = from_a(IP(src="10.0.0.2", dst="192.0.2.200", ttl=9) / UDP(sport=1, dport=2) / b"x")
    padded = bytes(short) + b"\0" * (60 - len(bytes(short)))
    pkts.append(padded)
    # IP options (IHL 6, 8) are carried unchanged
    opt = [from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (201 + k), ttl=20, options=o) / UDP() / payload(30))
           for k, o in enumerate([IPOption_RR(routers=["0.0.0.0"]), IPOption(b"\x94\x04\x00\x00")])]
    # fragments in transit are forwarded as they are (TTL aside)
    opt += [from_a(IP(src="10.0.0.2", dst="192.0.2.210", id=300, flags="MF") / payload(64, 1)),
            from_a(IP(src="10.0.0.2", dst="192.0.2.210", id=300, frag=8, proto=17) / payload(30, 2))]
    pkts += opt
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    exp = expected4(pkts[:-1 - len(opt)]) + [fwd_frame(short, R_B, GW_B)] + [fwd_frame(p, R_B, GW_B) for p in opt]
    r.expect_output("p1", exp)
    r.expect_output("p0", [])
    # the express path: the 40, the padded one and the two fragments (plain headers); the options: the full path
    r.expect_counters(s, drops={}, totals={"tx": len(exp), "drops": 0, "punted": 0,
                                           "express": len(ip4_inputs()) + 1 + 2})
    r.expect_announcements(STD_ANNOUNCE)


def ip6_inputs():
    pkts = []
    for i in range(40):
        size = [0, 1, 18, 64, 500, 1000, 1440][i % 7]
        if i % 3 == 0:
            l4 = UDP(sport=1000 + i, dport=53) / payload(size, i)
        elif i % 3 == 1:
            l4 = TCP(sport=2000 + i, dport=80, flags="S", seq=i) / payload(size, i)
        else:
            l4 = payload(size + 8, i)  # nh 59 (no next header) with data: routers do not look
        hlim = [64, 2, 255, 17][i % 4]
        tc, fl = [(0, 0), (0x28, 0x12345), (0xb8, 1)][i % 3]
        nh = {} if i % 3 != 2 else {"nh": 59}
        if i % 2:
            pkts.append(from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::%x" % (i + 1), hlim=hlim, tc=tc, fl=fl,
                                    **nh) / l4))
        else:
            pkts.append(from_a(IPv6(src="2001:db8:1a::2", dst="2001:db8:200::%x" % (i + 1), hlim=hlim, tc=tc,
                                    fl=fl, **nh) / l4, vlan=100))
    return pkts


@case("fwd-ipv6", workers=(1, 2))
def fwd_ipv6(c):
    r = std_router(c)
    pkts = ip6_inputs()
    # extension headers are carried unchanged (routers do not look into them, RFC 8200 section 4)
    pkts += [from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::e%d" % k) / h / UDP() / payload(40, k))
             for k, h in enumerate([IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(),
                                    IPv6ExtHdrFragment(m=1, id=99), IPv6ExtHdrFragment(offset=10, id=99)])]
    r.start({"p0": pkts})
    s = r.last_stats
    r.stop()
    exp = []
    for p in pkts:
        if p[IPv6].dst.startswith("2001:db8:100:"):
            exp.append(fwd_frame(p, R_B, GW_B))
        else:
            exp.append(fwd_frame(p, R_B200, GW_B200, vlan=200))
    r.expect_output("p1", exp)
    r.expect_output("p0", [])
    # the express path takes them all: plain headers (extension headers are not looked at), same L2 length out
    r.expect_counters(s, drops={}, totals={"tx": len(exp), "drops": 0, "punted": 0, "express": len(exp)})
    r.expect_announcements(STD_ANNOUNCE)


@case("fwd-mixed-bursts", workers=(1, 2))
def fwd_mixed_bursts(c):
    """Bursts that mix the fast path's packets (plain IPv4 / IPv6 to a resolved next hop, untagged and on a VLAN
    sub-interface, interfaces alternating) with every kind it hands to the full path: options, a priority tag, TTL /
    hop limit expiry, a bad checksum, a multicast destination, a frame for another MAC; padding is trimmed on both.
    Each packet must end where the full path alone would send it, and the interface counters (added once per run
    on the fast path) must equal the frames. The express path (eth_input straight to the port) takes exactly the
    plain IPv4 and IPv6 packets that leave with an L2 header as long as the one they came with (totals.express); a
    VLAN added or removed on the way is the full path's."""
    r = std_router(c)
    frames, fwd_b, fwd_b200, errors = [], [], [], []
    drops = {"ip4_bad_checksum": 0, "ip4_mcast": 0, "eth_not_for_us": 0}
    rx = {"a": [0, 0], "a100": [0, 0]}
    express = 0

    def received(iface, f):
        rx[iface][0] += 1
        rx[iface][1] += len(bytes(f))

    for i in range(60):
        kind = i % 10
        if kind in (0, 4, 8):  # plain IPv4, the fast path; one in three priority-tagged (VLAN 0): the full path, on a
            f = from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (i + 1), ttl=30) / UDP(sport=i, dport=9) / payload(40, i))
            if kind == 4:
                f = Ether(src=H_A, dst=R_A) / Dot1Q(vlan=0) / f[IP]
            else:
                express += 1
            fwd_b.append(fwd_frame(f, R_B, GW_B))
        elif kind == 1:  # options: the full path, forwarded
            f = from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (i + 1), options=IPOption_RR(routers=["0.0.0.0"])) /
                       UDP() / payload(20, i))
            fwd_b.append(fwd_frame(f, R_B, GW_B))
        elif kind == 2:  # TTL 1: passes the input fast path, the rewrite hands it over: time exceeded
            f = from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (i + 1), ttl=1) / UDP() / payload(20, i))
            errors.append(icmp4_error(f, "10.0.0.1", 11, 0, R_A, H_A))
        elif kind == 3:  # Ethernet padding: trimmed on the fast path
            short = from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (i + 1), ttl=9) / UDP(sport=i, dport=2) / b"x")
            f = bytes(short) + b"\0" * (60 - len(bytes(short)))
            fwd_b.append(fwd_frame(short, R_B, GW_B))
            express += 1
        elif kind == 5:  # VLAN 100 (the fast path keeps a100 until the next untagged frame), out tagged on b200
            f = from_a(IP(src="10.1.0.2", dst="198.18.0.%d" % (i + 1)) / UDP() / payload(30, i), vlan=100)
            fwd_b200.append(fwd_frame(f, R_B200, GW_B200, vlan=200))
            received("a100", f)
            frames.append(f)
            express += 1
            continue
        elif kind == 6:  # plain IPv6, the fast path; every other one with hop limit 1
            hlim = 1 if i % 20 == 6 else 40
            f = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::%x" % (i + 1), hlim=hlim) / UDP() /
                       payload(30, i))
            if hlim == 1:
                errors.append(icmp6_error(f, "2001:db8:a::1", 3, 0, R_A, H_A))
            else:
                fwd_b.append(fwd_frame(f, R_B, GW_B))
                express += 1
        elif kind == 7:  # bad header checksum
            f = bytearray(bytes(from_a(IP(src="10.0.0.2", dst="192.0.2.1") / UDP() / payload(10, i))))
            f[14 + 10] ^= 0x01
            f = bytes(f)
            drops["ip4_bad_checksum"] += 1
        else:  # kind 9: alternately a multicast destination, a frame for another MAC
            if i % 20 == 9:
                f = from_a(IP(src="10.0.0.2", dst="239.1.2.3") / UDP() / payload(10, i))
                drops["ip4_mcast"] += 1
            else:
                f = Ether(src=H_A, dst="02:00:00:00:77:77") / IP(src="10.0.0.2", dst="192.0.2.1") / UDP()
                drops["eth_not_for_us"] += 1
                frames.append(f)
                continue
        received("a", f)
        frames.append(f)
    # a VLAN added (untagged a -> b200) and one removed (a100 -> untagged b): forwarded by the full path
    f = from_a(IP(src="10.0.0.2", dst="198.18.0.99") / UDP() / payload(30, 1))
    fwd_b200.append(fwd_frame(f, R_B200, GW_B200, vlan=200))
    received("a", f)
    frames.append(f)
    f = from_a(IP(src="10.1.0.2", dst="192.0.2.99") / UDP() / payload(30, 2), vlan=100)
    fwd_b.append(fwd_frame(f, R_B, GW_B))
    received("a100", f)
    frames.append(f)
    r.start({"p0": frames})
    s = r.last_stats
    r.stop()
    r.expect_output("p1", fwd_b + fwd_b200)
    r.expect_output("p0", errors)
    r.expect_counters(s, drops=drops, totals={"tx": len(fwd_b) + len(fwd_b200) + len(errors), "punted": 0,
                                              "express": express})

    out_bytes = lambda fs: sum(len(bytes(f)) for f in fs)  # noqa: E731
    r.expect_iface_counters(s, {
        "a": {"rx_packets": rx["a"][0], "rx_bytes": rx["a"][1], "tx_packets": len(errors),
              "tx_bytes": out_bytes(errors)},
        "a100": {"rx_packets": rx["a100"][0], "rx_bytes": rx["a100"][1], "tx_packets": 0},
        "b": {"rx_packets": 0, "tx_packets": len(fwd_b), "tx_bytes": out_bytes(fwd_b)},
        "b200": {"rx_packets": 0, "tx_packets": len(fwd_b200), "tx_bytes": out_bytes(fwd_b200)},
    })

def runs_receiver(frames, rx):
    """add(frame, tagged) for the express-runs cases: the frame goes out on p0 and is counted as received on a100
    (tagged) or a."""
    def add(f, tagged):
        b = bytes(f)
        rx["a100" if tagged else "a"][0] += 1
        rx["a100" if tagged else "a"][1] += len(b)
        frames.append(b)
    return add


@case("fwd-express-runs", workers=(1, 2))
def fwd_express_runs(c):
    """Runs of consecutive frames of one interface, untagged then on VLAN 100 (priority bits set on some) then
    untagged again: the express path's tight loop takes such runs frame after frame, so each run carries what it must
    stop at and hand on: a bad checksum, a frame for another MAC, TTL 1, padding. Outputs, drops and the express
    count must be those of the full path alone."""
    r = std_router(c)
    frames, fwd_b, fwd_b200, errors, errors100 = [], [], [], [], []
    drops = {"ip4_bad_checksum": 0, "eth_not_for_us": 0}
    express = 0
    rx = {"a": [0, 0], "a100": [0, 0]}
    add = runs_receiver(frames, rx)

    def run(n, tagged):
        nonlocal express
        for i in range(n):
            if tagged:
                ip = IP(src="10.1.0.2", dst="198.18.0.%d" % (i + 1), ttl=20 + i) / UDP(sport=i, dport=9) / payload(30, i)
                f = Ether(src=H_A100, dst=R_A100) / Dot1Q(prio=i % 8, vlan=100) / ip
            else:
                ip = IP(src="10.0.0.2", dst="192.0.2.%d" % (i + 1), ttl=20 + i) / UDP(sport=i, dport=9) / payload(30, i)
                f = from_a(ip)
            if i == 3:  # bad header checksum
                b = bytearray(bytes(f))
                b[len(b) - len(bytes(ip)) + 10] ^= 0x01
                add(b, tagged)
                drops["ip4_bad_checksum"] += 1
                continue
            if i == 5 and not tagged:  # another MAC
                frames.append(Ether(src=H_A, dst="02:00:00:00:77:77") / ip)
                drops["eth_not_for_us"] += 1
                continue
            if i == 7:  # TTL 1: time exceeded, from the interface it came in on
                ip[IP].ttl = 1
                f = Ether(src=H_A100, dst=R_A100) / Dot1Q(vlan=100) / ip if tagged else from_a(ip)
                if tagged:
                    errors100.append(icmp4_error(f, "10.1.0.1", 11, 0, R_A100, H_A100, vlan=100))
                else:
                    errors.append(icmp4_error(f, "10.0.0.1", 11, 0, R_A, H_A))
                add(f, tagged)
                continue
            if i == 9 and not tagged:  # padded to 60 bytes: trimmed
                short = from_a(IP(src="10.0.0.2", dst="192.0.2.210", ttl=9) / UDP(sport=i, dport=2) / b"x")
                add(bytes(short) + b"\0" * (60 - len(bytes(short))), tagged)
                fwd_b.append(fwd_frame(short, R_B, GW_B))
                express += 1
                continue
            add(f, tagged)
            if tagged:
                fwd_b200.append(fwd_frame(f, R_B200, GW_B200, vlan=200))
            else:
                fwd_b.append(fwd_frame(f, R_B, GW_B))
            express += 1

    run(16, False)
    run(16, True)
    run(12, False)
    expect_runs(r, frames, fwd_b, fwd_b200, errors, errors100, drops, express, rx)


def expect_runs(r, frames, fwd_b, fwd_b200, errors, errors100, drops, express, rx):
    """Send the frames of an express-runs case from a and a100; check outputs, drops, the express count and the
    interface counters."""
    r.start({"p0": frames})
    s = r.last_stats
    r.stop()
    r.expect_output("p1", fwd_b + fwd_b200)
    r.expect_output("p0", errors + errors100)
    r.expect_counters(s, drops=drops, totals={"tx": len(fwd_b) + len(fwd_b200) + len(errors) + len(errors100),
                                              "punted": 0, "express": express})
    out_bytes = lambda fs: sum(len(bytes(f)) for f in fs)  # noqa: E731
    r.expect_iface_counters(s, {
        "a": {"rx_packets": rx["a"][0], "rx_bytes": rx["a"][1], "tx_packets": len(errors)},
        "a100": {"rx_packets": rx["a100"][0], "rx_bytes": rx["a100"][1], "tx_packets": len(errors100)},
        "b": {"rx_packets": 0, "tx_packets": len(fwd_b), "tx_bytes": out_bytes(fwd_b)},
        "b200": {"rx_packets": 0, "tx_packets": len(fwd_b200), "tx_bytes": out_bytes(fwd_b200)},
    })


@case("fwd-express6-runs", workers=(1, 2))
def fwd_express6_runs(c):
    """fwd-express-runs for IPv6: runs of consecutive IPv6 frames, untagged (a -> b, whose MTU is 1280) then on VLAN
    100 (a100 -> b200, priority bits on some) then untagged again, each carrying what the express path's tight loop
    must stop at and hand to the full path: a link-local source, a frame for another MAC, hop limit 1, bytes after the
    payload, a packet too big for b, a zero payload length, an IPv4 frame in the middle of the run, a VLAN added on
    the way (a -> b200) or removed (a100 -> b), a bad version behind the VLAN tag. Outputs, drops, ICMPv6 errors,
    interface counters and the express count must be those of the full path alone."""
    r = std_router(c, b_mtu=1280)
    frames, fwd_b, fwd_b200, errors, errors100 = [], [], [], [], []
    drops = {"ip6_linklocal_fwd": 0, "eth_not_for_us": 0, "ip6_bad_length": 0, "ip6_bad_version": 0}
    express = 0
    rx = {"a": [0, 0], "a100": [0, 0]}
    add = runs_receiver(frames, rx)

    def frame(ip, tagged, prio=0):
        if tagged:
            return Ether(src=H_A100, dst=R_A100) / Dot1Q(prio=prio, vlan=100) / ip
        return from_a(ip)

    def out(f, to_b200):
        (fwd_b200 if to_b200 else fwd_b).append(fwd_frame(f, R_B200, GW_B200, vlan=200) if to_b200
                                                else fwd_frame(f, R_B, GW_B))

    def run(n, tagged):
        nonlocal express
        src = "2001:db8:1a::2" if tagged else "2001:db8:a::2"
        here, me = ("2001:db8:1a::1", (R_A100, H_A100)) if tagged else ("2001:db8:a::1", (R_A, H_A))
        for i in range(n):
            dst = ("2001:db8:200::%x" if tagged else "2001:db8:100::%x") % (i + 1)
            ip = IPv6(src=src, dst=dst, hlim=20 + i, tc=i * 4) / UDP(sport=i, dport=9) / payload(30, i)
            f = frame(ip, tagged, prio=i % 8)
            if i == 3:  # link-local source: never forwarded off-link
                ip[IPv6].src = "fe80::2"
                add(frame(ip, tagged), tagged)
                drops["ip6_linklocal_fwd"] += 1
                continue
            if i == 5 and not tagged:  # another MAC
                frames.append(Ether(src=H_A, dst="02:00:00:00:77:77") / ip)
                drops["eth_not_for_us"] += 1
                continue
            if i == 6:  # an IPv4 frame between IPv6 ones, express too
                ip4 = IP(src="10.1.0.2" if tagged else "10.0.0.2",
                         dst="198.18.0.%d" % (i + 1) if tagged else "192.0.2.%d" % (i + 1)) / UDP() / payload(20, i)
                f4 = frame(ip4, tagged)
                add(f4, tagged)
                out(f4, tagged)
                express += 1
                continue
            if i == 7:  # hop limit 1: time exceeded, from the interface it came in on
                ip[IPv6].hlim = 1
                f = frame(ip, tagged)
                (errors100 if tagged else errors).append(
                    icmp6_error(f, here, 3, 0, me[0], me[1], vlan=100 if tagged else None))
                add(f, tagged)
                continue
            if i == 9:  # bytes after the payload: cut
                add(bytes(f) + b"\0" * 10, tagged)
                out(f, tagged)
                express += 1
                continue
            if i == 11 and not tagged:  # too big for b (MTU 1280): packet too big, from a
                ip = IPv6(src=src, dst=dst, hlim=20) / UDP(sport=i, dport=9) / payload(1300, i)
                f = frame(ip, tagged)
                errors.append(icmp6_error(f, here, 2, 0, R_A, H_A, info=1280))
                add(f, tagged)
                continue
            if i == 12:  # payload length 0 (a jumbogram without its option): bad length
                b = bytearray(bytes(f))
                at = len(b) - len(bytes(ip)) + 4
                b[at:at + 2] = b"\0\0"
                add(b, tagged)
                drops["ip6_bad_length"] += 1
                continue
            if i == 13:  # to the other side's network: a VLAN added (a -> b200) or removed (a100 -> b), full path
                ip[IPv6].dst = ("2001:db8:100::%x" if tagged else "2001:db8:200::%x") % (0x100 + i)
                f = frame(ip, tagged)
                add(f, tagged)
                out(f, not tagged)
                continue
            if i == 14 and tagged:  # version 4 in an IPv6 EtherType behind the tag: bad version
                b = bytearray(bytes(f))
                b[len(b) - len(bytes(ip))] = 0x40 | (b[len(b) - len(bytes(ip))] & 0x0f)
                add(b, tagged)
                drops["ip6_bad_version"] += 1
                continue
            add(f, tagged)
            out(f, tagged)
            express += 1

    run(16, False)
    run(16, True)
    run(14, False)
    expect_runs(r, frames, fwd_b, fwd_b200, errors, errors100, drops, express, rx)
