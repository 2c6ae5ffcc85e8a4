# SPDX-License-Identifier: BSD-3-Clause
"""Tunnel MTU and TCP MSS clamping: an inner IPv4 packet over the tunnel MTU with DF set gets ICMP fragmentation
needed (the tunnel MTU) from the router, with DF clear it is fragmented before encryption (each fragment its own ESP
packet, reassembling to the packet forwarded); IPv6 gets packet too big; a packet of exactly the MTU passes. TCP SYNs
through a tunnel with mss_clamp have their MSS lowered both ways (checksums right), smaller MSS and other segments
untouched.
"""
from harness import case, icmp4_error, icmp6_error
from ipsec_pcap_common import (Tun, Plan, run_plan, ipsec_router, from_tenant, to_tenant, fwd_l3, payload,
                               check_esp_out, site4, site6, T4, T6, LAN4, LAN6, R_LAN, H_T, IP, IPv6, UDP, TCP)

WORKERS = (1, 2)


@case("ipsec-mtu", workers=WORKERS)
def mtu(c):
    """Tunnel MTU 1400 (outer v4, GCM) and 1280 (outer v6, CBC, UDP): DF / IPv6 over it -> ICMP error quoting the
    packet as received; exactly the MTU -> one ESP packet; IPv4 DF clear over it -> fragments, each encrypted."""
    t1 = Tun(1, mtu=1400)
    t2 = Tun(2, alg="aes-cbc-256-sha256", v6=True, udp=True, mtu=1280)
    p = Plan()
    big = {}
    for t in (t1, t2):
        m = t.mtu
        df_over = IP(src=T4, dst=site4(t.i), flags="DF", id=1) / UDP(sport=7, dport=9) / payload(m - 28 + 1)
        df_fit = IP(src=T4, dst=site4(t.i), flags="DF", id=2) / UDP(sport=7, dport=9) / payload(m - 28)
        v6_over = IPv6(src=T6, dst=site6(t.i)) / UDP(sport=7, dport=9) / payload(m - 48 + 1)
        v6_fit = IPv6(src=T6, dst=site6(t.i)) / UDP(sport=7, dport=9) / payload(m - 48)
        nodf = IP(src=T4, dst=site4(t.i), id=0x4242 + t.i) / UDP(sport=7, dport=9) / payload(m + 200, 3)
        enc = {"encrypted": 1}
        if t.udp:
            enc["udp_encap_tx"] = 1
        p.plain(from_tenant(df_over), icmp4_error(from_tenant(df_over), LAN4, 3, 4, R_LAN, H_T, info=m))
        p.plain(from_tenant(v6_over), icmp6_error(from_tenant(v6_over), LAN6, 2, 0, R_LAN, H_T, info=m))
        # the packets that fit and the two fragments of the DF-clear one: four ESP packets, checked by rest()
        for f in (df_fit, v6_fit, nodf):
            p.frames.append(from_tenant(f))
        p.other += 4
        p.ipsec.update({k: 4 * v for k, v in enc.items()})
        big[t.name] = (t, nodf, [fwd_l3(df_fit), fwd_l3(v6_fit)])

    def rest(plain_left, wan_left):
        c.check(not plain_left, "unexpected plain frames: %d" % len(plain_left))
        for name, (t, nodf, fits) in big.items():
            got = check_esp_out(c, None, t, fits, wan_left, extra=2)
            frags = [IP(g) for g in got]
            c.check(len(frags) == 2, "%s: %d packets carried the DF-clear packet, expected 2 fragments" % (name,
                                                                                                        len(frags)))
            for f in frags:
                c.check(len(bytes(f)) <= t.mtu, "%s: fragment of %d bytes over the tunnel MTU %d" % (name, len(f),
                                                                                                  t.mtu))
            frags.sort(key=lambda f: f.frag)
            want = fwd_l3(nodf)
            if len(frags) == 2:
                data = b"".join(bytes(f.payload) for f in frags)
                c.check(data == want[20:] and frags[0].flags == "MF" and frags[1].flags == 0 and
                        all(f.id == nodf.id and f.ttl == 63 for f in frags),
                        "%s: fragments do not reassemble to the packet forwarded" % name)
        c.check(not wan_left, "unexpected frames to the peers: %d" % len(wan_left))
    r = ipsec_router(c, [t1, t2])
    # two packets became four fragments: created 2
    run_plan(c, r, p, rest=rest)


def syn(src, dst, mss, sport=40000, flags="S", v6=False):
    ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst, id=5)
    opts = [("MSS", mss), ("SAckOK", b""), ("WScale", 7)] if mss else [("NOP", None)] * 4
    return ip / TCP(sport=sport, dport=80, flags=flags, seq=1000, ack=0 if flags == "S" else 5, options=opts)


def clamped(pkt, mss):
    """pkt (scapy) with its MSS option set to mss and the TCP checksum recomputed from scratch."""
    x = pkt.__class__(bytes(pkt))
    x[TCP].options = [(k, mss if k == "MSS" else v) for k, v in x[TCP].options]
    del x[TCP].chksum
    return x.__class__(bytes(x))


@case("ipsec-mss-clamp", workers=WORKERS)
def mss_clamp(c):
    """mss_clamp 1300 on t1 (inner v4 and v6 both ways): SYN and SYN-ACK with MSS 1460 lowered to 1300, MSS 1200
    kept, a non-SYN segment kept; t2 (no clamp) keeps 1460."""
    t1 = Tun(1, mss=1300)
    t2 = Tun(2, alg="aes-cbc-128-sha256")
    p = Plan()
    for v6 in (False, True):
        T, S1, S2 = (T6, site6(1), site6(2)) if v6 else (T4, site4(1), site4(2))
        out = syn(T, S1, 1460, v6=v6)
        # the configured value is the IPv4 MSS: IPv6 SYNs get 20 less (their IP header is 20 bytes longer)
        want = 1280 if v6 else 1300
        p.esp(from_tenant(out), t1, fwd_l3(clamped(out, want)), {"encrypted": 1, "mss_clamped": 1})
        back = syn(S1, T, 1460, flags="SA", v6=v6)
        p.plain(t1.esp_in(back), to_tenant(clamped(back, want)), {"decrypted": 1, "mss_clamped": 1})
        small = syn(T, S1, 1200, sport=40001, v6=v6)
        p.esp(from_tenant(small), t1, fwd_l3(small), {"encrypted": 1})
        ack = syn(S1, T, 1460, sport=40002, flags="A", v6=v6)
        p.plain(t1.esp_in(ack), to_tenant(ack), {"decrypted": 1})
        other = syn(T, S2, 1460, sport=40003, v6=v6)
        p.esp(from_tenant(other), t2, fwd_l3(other), {"encrypted": 1})
    run_plan(c, ipsec_router(c, [t1, t2]), p, spread=True)
