# SPDX-License-Identifier: BSD-3-Clause
"""SA sets, roaming and the control socket: a tunnel with two inbound SAs accepts both and sends with the last
outbound one listed; follow_peer moves the tunnel's peer on an authenticated packet from a new outer source only
(not on a bad ICV or a replay), a tunnel without follow_peer stays; anti-replay disabled (replay_window 0) accepts
duplicates; the SA control API refuses what it must (and never echoes a key); an ICMP error about a decrypted
packet goes back through the tunnel.
"""
from harness import case
from ipsec_pcap_common import (Tun, Plan, run_plan, ipsec_router, inner4, inner6, from_tenant, to_tenant, fwd_l3,
                               tunnel_rows, sa_rows, peer_addr, peer_mac, spi_owner, IP, ICMP, UDP, Raw, T4,
                               site4)
from peer import SA

WORKERS = (1, 2)


def spi_of(x):
    v = x.get("spi")
    return int(v, 0) if isinstance(v, str) else v


@case("ipsec-sa-set", workers=WORKERS)
def sa_set(c):
    """Inbound SAs A and B of one tunnel both decrypt (rekey overlap); of outbound C then D (listed last) D is
    active: every ESP packet carries D's SPI, and ipsec show sas says active / inactive."""
    b_in = SA("aes-gcm-256", 0x3101)
    c_out = SA("aes-gcm-256", 0x3201)
    t = Tun(1, alg="aes-gcm-256", extra_sas=[(b_in, "in"), (c_out, "out")])
    p = Plan()
    from peer import Tunnel
    via_b = Tunnel(t.remote, t.local, b_in)
    for n in range(3):
        x = inner4(1, n, 30 + n, dst_site=False)
        p.plain(t.esp_in(x), to_tenant(x), {"decrypted": 1})
        y = inner6(1, 10 + n, 30 + n, dst_site=False)
        from ipsec_pcap_common import wan_frame
        p.plain(wan_frame(via_b.encrypt(y), t.mac), to_tenant(y), {"decrypted": 1})
        z = inner4(1, 20 + n, 40 + n)
        p.esp(from_tenant(z), t, fwd_l3(z), {"encrypted": 1})

    def after(r):
        rows = {spi_of(x): x for x in sa_rows(r, "t1")}
        c.check(set(rows) == {t.spi_in, b_in.spi, c_out.spi, t.spi_out}, "ipsec show sas t1: SPIs %s" % sorted(rows))
        st = {k: x.get("state") for k, x in rows.items()}
        c.check(st.get(t.spi_out) == "active" and st.get(c_out.spi) == "inactive" and
                st.get(t.spi_in) == "active" and st.get(b_in.spi) == "active", "SA states %s" % st)
        pk = {k: x.get("packets") for k, x in rows.items()}
        c.check(pk.get(t.spi_in) == 3 and pk.get(b_in.spi) == 3 and pk.get(t.spi_out) == 3 and pk.get(c_out.spi) == 0,
                "SA packet counts %s" % pk)
        row = tunnel_rows(r).get("t1", {})
        c.check(row.get("out_spi") == "0x%x" % t.spi_out, "tunnel out_spi %s" % row.get("out_spi"))
    run_plan(c, ipsec_router(c, [t]), p, spread=True, after=after)


@case("ipsec-follow-peer", workers=WORKERS)
def follow_peer(c):
    """t1 (follow_peer, UDP) gets a good packet from a new address and port: its peer moves there (shown, counted
    once); a packet with a bad ICV from a third address and a replay from a fourth move nothing. t2 (no follow_peer)
    accepts a good packet from a new address and keeps its peer."""
    t1 = Tun(1, follow_peer=True, udp=True)
    t2 = Tun(2, alg="aes-cbc-128-sha256")
    p = Plan()
    new1, new2 = peer_addr(1, False, alt=True), peer_addr(2, False, alt=True)
    x = [inner4(1, n, 20 + n, dst_site=False) for n in range(5)]
    p.plain(t1.esp_in(x[0], seq=1), to_tenant(x[0]), {"decrypted": 1, "udp_encap_rx": 1})
    p.barrier()
    p.plain(t1.esp_in(x[1], seq=2, src=new1, sport=4777, mac=peer_mac(1, True)), to_tenant(x[1]),
            {"decrypted": 1, "udp_encap_rx": 1, "peer_moved": 1})
    p.barrier()
    p.drop(t1.raw_in(t1.seal(3, bytes(x[2]), icv_xor=4), src="192.0.2.200", sport=4888), "esp_icv_failed",
           {"udp_encap_rx": 1})
    p.barrier()
    p.drop(t1.esp_in(x[3], seq=2, src="192.0.2.201", sport=4999), "esp_replay", {"udp_encap_rx": 1})
    y = inner4(2, 0, 20, dst_site=False)
    p.barrier()
    p.plain(t2.esp_in(y, src=new2, mac=peer_mac(2, True)), to_tenant(y), {"decrypted": 1})

    def after(r):
        import time
        deadline = time.time() + 3
        while True:  # the control thread republishes the endpoint on its next loop
            rows = tunnel_rows(r)
            if rows.get("t1", {}).get("remote") == new1 or time.time() > deadline:
                break
            time.sleep(0.05)
        a, b = rows.get("t1", {}), rows.get("t2", {})
        c.check(a.get("remote") == new1 and a.get("remote_port") == 4777 and a.get("peer_moves") == 1,
                "t1 follows its peer to %s port 4777 once: %s %s moves %s" % (new1, a.get("remote"),
                                                                           a.get("remote_port"), a.get("peer_moves")))
        c.check(b.get("remote") == t2.remote and b.get("peer_moves") == 0, "t2 keeps its peer %s: %s moves %s"
                % (t2.remote, b.get("remote"), b.get("peer_moves")))
        from ipsec_pcap_common import ipsec_counters
        st = ipsec_counters(r)
        c.check(st.get("peer_moves_applied") == 1, "ipsec show stats peer_moves_applied %s" %
                st.get("peer_moves_applied"))
    q = spi_owner(t1.spi_in, c.workers)  # in order, one per burst, on the owner: the move follows packet 2
    run_plan(c, ipsec_router(c, [t1, t2]), p, queue=q, after=after)


@case("ipsec-replay-off", workers=WORKERS)
def replay_off(c):
    """replay_window = 0: anti-replay disabled on that SA (RFC 4303 3.4.3): duplicates and old numbers are
    decrypted and forwarded, nothing counted lost."""
    t = Tun(1, window=0)
    p = Plan()
    for n, seq in enumerate((1, 2, 2, 100000, 1, 1)):
        x = inner4(1, n, 25, dst_site=False)
        if n:
            p.barrier()
        p.plain(t.esp_in(x, seq=seq), to_tenant(x), {"decrypted": 1})
    run_plan(c, ipsec_router(c, [t]), p, queue=spi_owner(t.spi_in, c.workers))


@case("ipsec-ctl")
def ctl(c):
    """The SA control API end to end: refused additions (duplicate inbound SPI, a fifth inbound SA, key length,
    window 0 with ESN, unknown tunnel, SPI below 256) with errors that never quote the key; tunnel add / set / del;
    sa del of inbound and outbound SAs; ESP for a deleted SA is esp_unknown_spi."""
    t = Tun(1)
    r = ipsec_router(c, [t])
    r.start({"p0": []})

    def refused(words, what, *hints):
        """The command fails, its error names one of hints (the reason) and never quotes a key."""
        j = r.ctl(*words)
        if not c.check(j["status"] != 0, "%s accepted: %s" % (what, " ".join(words[:8]))):
            return
        err = str(j.get("error"))
        if hints:
            c.check(any(h in err.lower() for h in hints), "%s refused for another reason: %s" % (what, err))
        for w in words:
            if len(w) >= 32:  # key material
                c.check(w not in err and w[:16] not in err, "%s: the error quotes the key: %s" % (what, err))

    refused(SA("aes-gcm-128", t.spi_in).ctl_add("t1", "in"), "a second inbound SA with SPI %#x" % t.spi_in, "spi")
    bad = SA("aes-gcm-128", 0x4010)
    w = bad.ctl_add("t1", "in")
    w[w.index("key") + 1] = bad.key.hex()[:-2]  # 19 bytes
    refused(w, "a 19-byte aes-gcm-128 key", "key")
    refused(SA("aes-cbc-128-sha256", 0x4011).ctl_add("t1", "in")[:-4] + ["esn", "off"], "CBC without auth_key",
            "auth_key", "auth")
    refused(SA("aes-gcm-128", 0x4012, esn=True).ctl_add("t1", "in", window=0), "replay_window 0 with ESN", "esn")
    refused(SA("aes-gcm-128", 0x4013).ctl_add("nosuch", "in"), "an SA on an unknown tunnel", "nosuch", "tunnel")
    refused(SA("aes-gcm-128", 0x80).ctl_add("t1", "in"), "SPI 0x80 (reserved)", "spi", "256")
    for i in range(3):
        r.ctl_ok(*SA("aes-gcm-128", 0x4000 + i).ctl_add("t1", "in"))
    refused(SA("aes-gcm-128", 0x4003).ctl_add("t1", "in"), "a fifth inbound SA", "4", "inbound")
    # tunnel life cycle on a second interface added at run time
    r.ctl_ok("interface", "add", "name", "t9", "kind", "ipsec", "vrf", "tenant", "mtu", "1300")
    r.ctl_ok("ipsec", "tunnel", "add", "interface", "t9", "transport_vrf", "underlay", "local", "192.0.2.1",
             "remote", "192.0.2.99")
    refused(["ipsec", "tunnel", "add", "interface", "t9", "transport_vrf", "underlay", "local", "192.0.2.1",
             "remote", "192.0.2.98"], "a second tunnel on t9")
    refused(["ipsec", "tunnel", "add", "interface", "lan", "transport_vrf", "underlay", "local", "192.0.2.1",
             "remote", "192.0.2.98"], "a tunnel on a port interface")
    refused(["ipsec", "tunnel", "set", "interface", "t9", "remote", "2001:db8::1"], "an IPv6 remote on an IPv4 tunnel")
    r.ctl_ok("ipsec", "tunnel", "set", "interface", "t9", "remote", "192.0.2.97", "mss_clamp", "1200")
    r.ctl_ok(*SA("aes-gcm-128", 0x4014).ctl_add("t9", "in", window=0))  # anti-replay off: accepted without ESN
    row = tunnel_rows(r).get("t9", {})
    c.check(row.get("remote") == "192.0.2.97" and row.get("mss_clamp") == 1200 and "no outbound" in
            str(row.get("state")), "t9 after set: %s" % row)
    o1, o2 = SA("aes-cbc-256-sha256", 0x4101), SA("aes-cbc-256-sha256", 0x4102)
    r.ctl_ok(*o1.ctl_add("t9", "out"))
    r.ctl_ok(*o2.ctl_add("t9", "out"))
    st = {spi_of(x): x.get("state") for x in sa_rows(r, "t9") if x.get("direction") == "out"}
    c.check(st == {0x4101: "inactive", 0x4102: "active"}, "t9 outbound SA states %s" % st)
    r.ctl_ok("ipsec", "sa", "del", "spi", str(0x4102), "interface", "t9", "direction", "out")
    refused(["ipsec", "sa", "del", "spi", str(0x4102), "interface", "t9", "direction", "out"], "deleting it twice")
    refused(["ipsec", "sa", "del", "spi", str(0x4999)], "deleting an unknown SPI")
    r.ctl_ok("ipsec", "sa", "del", "spi", str(0x4000))
    spis = {spi_of(x) for x in sa_rows(r)}
    c.check(0x4000 not in spis and 0x4102 not in spis and 0x4101 in spis, "SPIs after the deletions %s"
            % sorted(spis))
    r.ctl_ok("ipsec", "tunnel", "del", "interface", "t9")
    c.check("t9" not in tunnel_rows(r), "t9 still listed after ipsec tunnel del")
    left = {spi_of(x) for x in sa_rows(r)} & {0x4101, 0x4014}
    c.check(not left, "t9's SAs outlive ipsec tunnel del: %s" % sorted(left))
    r.stop()


@case("ipsec-icmp-back", workers=WORKERS)
def icmp_back(c):
    """A decrypted packet that cannot be delivered (TTL 1; UDP to the router's tunnel address) gets its ICMP error
    from the tunnel interface's address, and the error goes back through the tunnel to the site."""
    t = Tun(1)
    p = Plan()
    ttl1 = IP(src=site4(1), dst=T4, ttl=1, id=77) / UDP(sport=5, dport=6) / Raw(b"expire me")
    p.drop(t.esp_in(ttl1), None, {"decrypted": 1})
    p.other += 1  # the ICMP error, encrypted: checked below
    p.ipsec["encrypted"] += 1
    r = ipsec_router(c, [t])
    for i in r.interfaces:
        if i["name"] == "t1":
            i["addresses"] = ["169.254.10.1/30"]

    def rest(plain, wan):
        from ipsec_pcap_common import check_esp_out
        got = check_esp_out(c, r, t, [], wan, extra=1)
        if got:
            e = IP(got[0])
            c.check(e.src == "169.254.10.1" and e.dst == site4(1) and ICMP in e and e[ICMP].type == 11 and
                    e[ICMP].code == 0 and bytes(e[ICMP].payload)[:28] == bytes(ttl1)[:28],
                    "ICMP error back through the tunnel: %s" % e.summary())
        c.check(not plain and not wan, "other frames: %d plain, %d to the peers" % (len(plain), len(wan)))
    run_plan(c, r, p, rest=rest)
