# SPDX-License-Identifier: BSD-3-Clause
"""Bad input to the IPsec gateway, each dropped with its own reason (nf/ipsec/ipsec_drops.h), while the other
tunnels (and the same tunnel's good packets) are unaffected: ESP shorter than header + IV + ICV or not block
aligned, bad padding, bad next header, dummy packets, wrong ICV (the window does not move), unknown SPI, ESP in the
wrong transport VRF, UDP 4500 with a non-ESP marker, NAT-T keepalives (absorbed, counted), truncated outer UDP,
a tunnel without outbound SA, an ipsec interface without a tunnel. Every frame on one rx queue. Outer fragments:
cases_ipsec_frag.py.
"""
import struct

from harness import case
from ipsec_pcap_common import (Tun, Plan, run_plan, ipsec_router, inner4, inner6, from_tenant, to_tenant, fwd_l3,
                               tunnel_rows, wan_frame, VLAN_OTHER, OTHER4, X4, H_X, ALGS)
from peer import SA, pad_len  # noqa: E402

WORKERS = (1, 2)
UDP_RX = {"udp_encap_rx": 1}  # counted for every ESP-in-UDP packet whose outer headers parse, dropped later or not


def wrong_padding(alg, payload_len):
    """Padding of a valid length (alignment kept) whose last byte is not its index."""
    n = pad_len(alg, payload_len)
    if n < 2:
        n += max(ALGS[alg]["block"], 4)
    pad = bytearray(range(1, n + 1))
    pad[-1] ^= 0x80
    return bytes(pad)


def tunnels():
    t1 = Tun(1, alg="aes-gcm-128", window=64)
    t2 = Tun(2, alg="aes-cbc-128-sha256", v6=True, udp=True)
    t3 = Tun(3, alg="aes-gcm-256", udp=True)
    t4 = Tun(4, out_sa=False)  # inbound SA only: sending into it is ipsec_no_sa
    t5 = Tun(5, conf=False)  # an ipsec interface with routes but no tunnel
    return t1, t2, t3, t4, t5


@case("ipsec-badinput", group="badinput", workers=WORKERS)
def badinput(c):
    t1, t2, t3, t4, t5 = tunnels()
    p = Plan()
    n = [0]

    def good_in(t, seq=None):
        n[0] += 1
        inner = inner4(t.i, n[0], 24 + n[0] % 11, dst_site=False) if n[0] % 2 else \
            inner6(t.i, n[0], 24 + n[0] % 11, dst_site=False)
        cnt = {"decrypted": 1}
        if t.udp:
            cnt["udp_encap_rx"] = 1
        p.plain(t.esp_in(inner, seq=seq), to_tenant(inner), cnt)

    def good_out(t):
        n[0] += 1
        inner = inner4(t.i, n[0], 30 + n[0] % 5)
        cnt = {"encrypted": 1}
        if t.udp:
            cnt["udp_encap_tx"] = 1
        p.esp(from_tenant(inner), t, fwd_l3(inner), cnt)

    x = bytes(inner4(1, 99, 33, dst_site=False))
    x6 = bytes(inner6(1, 98, 33, dst_site=False))
    for t in (t1, t2, t3):
        good_in(t, seq=1)
        good_out(t)
    # ESP shorter than header + IV + trailer + ICV; not aligned to the CBC block; shorter than the ESP header
    full = t1.seal(2, x)
    p.drop(t1.raw_in(full[:8 + 8 + 16 + 1]), "esp_truncated")
    p.drop(t1.raw_in(full[:5]), "esp_truncated")
    cbc = t2.seal(2, x)
    p.drop(t2.raw_in(cbc[:30] + cbc[34:]), "esp_truncated", UDP_RX)
    p.drop(t3.raw_in(udp_payload=b"\x01\x02"), "esp_truncated")  # 2 bytes in UDP 4500: not a keepalive, no SPI
    # padding bytes not 1, 2, 3...; pad length beyond the payload (ICV right: found after decryption)
    p.drop(t1.raw_in(t1.seal(3, x, padding=wrong_padding(t1.alg, len(x)))), "esp_bad_padding")
    p.drop(t1.raw_in(t1.seal(4, x, pad_len_byte=250)), "esp_bad_padding")
    p.drop(t2.raw_in(t2.seal(3, x6, padding=wrong_padding(t2.alg, len(x6)))), "esp_bad_padding", UDP_RX)
    # next header: UDP (transport mode), IPv4 claimed for an IPv6 packet, IPv6 whose length exceeds the payload
    p.drop(t1.raw_in(t1.seal(5, x, nh=17)), "esp_bad_next_header")
    p.drop(t1.raw_in(t1.seal(6, x6, nh=4)), "esp_bad_next_header")
    short6 = bytearray(x6)
    short6[4:6] = struct.pack("!H", len(x6))  # payload length 40 more than it carries
    p.drop(t1.raw_in(t1.seal(7, bytes(short6))), "esp_bad_next_header")
    # a dummy packet (next header 59, RFC 4303 2.6)
    p.drop(t1.raw_in(t1.seal(8, b"\0" * 16, nh=59)), "esp_dummy", {"dummy": 1})
    # wrong ICV: flipped tag, flipped ciphertext; on the CBC tunnel too. Seq 9 is accepted later: the window did not
    # move on a packet whose ICV failed.
    p.drop(t1.raw_in(t1.seal(9, x, icv_xor=0x01)), "esp_icv_failed")
    ct = bytearray(t1.seal(10, x))
    ct[20] ^= 0x10
    p.drop(t1.raw_in(bytes(ct)), "esp_icv_failed")
    p.drop(t2.raw_in(t2.seal(4, x6, icv_xor=0x80)), "esp_icv_failed", UDP_RX)
    # unknown SPIs (IPv4 and IPv6, direct and in UDP)
    stray = SA("aes-gcm-128", 0x9999)
    p.drop(t1.raw_in(stray.seal(1, x, 4)), "esp_unknown_spi")
    p.drop(t2.raw_in(stray.seal(1, x, 4)), "esp_unknown_spi", UDP_RX)
    # t1's own ESP (good ICV, seq 11) arriving in another VRF at the router's address there
    wrong = t1.peer.encrypt(inner4(1, 11, 20, dst_site=False), seq=11, src=X4, dst=OTHER4)
    p.drop(wan_frame(wrong, H_X, VLAN_OTHER), "esp_wrong_vrf")
    # UDP 4500 with the non-ESP marker (an IKE message)
    p.drop(t3.raw_in(udp_payload=b"\0\0\0\0" + b"\x11" * 28), "udp_encap_not_esp")
    p.drop(t2.raw_in(udp_payload=b"\0\0\0\0" + b"\x22" * 28), "udp_encap_not_esp")
    # NAT-T keepalives (RFC 3948 2.3): absorbed and counted
    p.absorb(t3.raw_in(udp_payload=b"\xff"), {"natt_keepalive": 1})
    p.absorb(t2.raw_in(udp_payload=b"\xff"), {"natt_keepalive": 1})
    # outer UDP length beyond the IP packet
    u4 = bytearray(t3.peer.encrypt_raw(t3.seal(12, x)))
    struct.pack_into("!H", u4, 24, len(u4) - 20 + 40)
    struct.pack_into("!H", u4, 10, 0)
    from peer import inet_csum
    struct.pack_into("!H", u4, 10, inet_csum(bytes(u4[:20])))
    p.drop(wan_frame(u4, t3.mac), "ipsec_outer_truncated")
    u6 = bytearray(t2.peer.encrypt_raw(t2.seal(12, x6)))
    struct.pack_into("!H", u6, 44, len(u6) - 40 + 16)
    p.drop(wan_frame(u6, t2.mac), "ipsec_outer_truncated")
    # a tunnel without outbound SA; an ipsec interface without tunnel
    p.drop(from_tenant(inner4(4, 1, 20)), "ipsec_no_sa")
    p.drop(from_tenant(inner6(4, 2, 20)), "ipsec_no_sa")
    p.drop(from_tenant(inner4(5, 1, 20)), "ipsec_no_tunnel")
    # everything still works: t1's seq 9 (its ICV failure did not move the window) and 11 (the wrong-VRF copy was
    # not taken), newer numbers; the other tunnels
    good_in(t1, seq=9)
    good_in(t1, seq=11)
    good_in(t1, seq=20)
    for t in (t2, t3):
        good_in(t, seq=20)
        good_out(t)
    good_out(t1)

    def after(r):
        rows = tunnel_rows(r)
        # rx, integrity failures, tx, decrypt errors (bad padding / next header after a good ICV; not dummies)
        want = {"t1": (4, 2, 2, 5), "t2": (2, 1, 2, 1), "t3": (2, 0, 2, 0)}
        for name, (rx, icv, tx, dec) in want.items():
            row = rows.get(name)
            if not c.check(row is not None, "no ipsec show tunnels row for %s" % name):
                continue
            for keys, w in ((("rx_packets", "rx"), rx), (("integrity_failures", "icv_failed", "auth_failures"), icv),
                            (("tx_packets", "tx"), tx), (("replay_drops", "replayed", "replay"), 0),
                            (("decrypt_errors",), dec)):
                k = next((k for k in keys if k in row), None)
                if c.check(k is not None, "%s row lacks %s: %s" % (name, "/".join(keys), sorted(row))):
                    c.check(row[k] == w, "%s: %s = %s, expected %d" % (name, k, row[k], w))
    run_plan(c, ipsec_router(c, [t1, t2, t3, t4, t5]), p, after=after)
