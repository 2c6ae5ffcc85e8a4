# SPDX-License-Identifier: BSD-3-Clause
"""Two workers: flows whose sessions another worker owns are handed to it, in order, with every direction, every
fragment and every related ICMP error of a flow reaching the same session. Which worker owns what is the daemon's
business (fw_owner_hash): the case spreads 16 address pairs per family over the two rx queues (one queue per
flow, so a flow's frames keep their order) and reads the owners back from `fw show sessions`."""
from harness import case
from scapy.layers.inet6 import ICMPv6DestUnreach
from cases_fw_common import (IP, IPv6, UDP, ICMP, Raw, TcpConv, Plan, fw_router, fw_counters, expect_fw, s2i, i2s,
                             out_i, out_s, payload, sessions, ip4_frags, ip6_frags)
from cases_fw_badinput import RULESETS

N_PAIRS = 16
ROUTES = [{"vrf": "main", "prefix": "172.16.0.0/24", "via": "10.0.0.2"},
          {"vrf": "main", "prefix": "203.0.113.0/24", "via": "10.1.0.2"},
          {"vrf": "main", "prefix": "2001:db8:172::/48", "via": "2001:db8:a::2"},
          {"vrf": "main", "prefix": "2001:db8:203::/48", "via": "2001:db8:1a::2"}]


def pair(i, v6):
    if v6:
        return "2001:db8:172::%x" % (i + 1), "2001:db8:203::%x" % (i + 1)
    return "172.16.0.%d" % (i + 1), "203.0.113.%d" % (i + 1)


@case("fw-handoff", workers=(2,))
def fw_handoff(c):
    r = fw_router(c, RULESETS, routes=ROUTES)
    p = Plan()
    queues = {0: [], 1: []}
    flows = []  # (v6, cli, srv, queue, packets reaching the firewall)
    for v6 in (False, True):
        for i in range(N_PAIRS):
            cli, srv = pair(i, v6)
            q = i % 2
            n0 = len(p.frames)
            t = TcpConv(43000 + i, 80, v6=v6, cli=cli, srv=srv)
            p.fwd(t.c("S"), allowed_new=1)
            for f in (t.s("SA"), t.c("A"), t.c("PA", 100), t.s("PA", 300), t.c("FA"), t.s("FA"), t.c("A")):
                p.fwd(f, allowed_session=1)
            mk = IPv6 if v6 else IP
            u = s2i(mk(src=cli, dst=srv) / UDP(sport=44000 + i, dport=33434) / payload(12))
            p.fwd((u, out_i(u)), allowed_new=1)
            if v6:  # port unreachable from the far end, quoting the datagram as it arrived there
                quoted = bytes(IPv6(src=cli, dst=srv, hlim=63) / UDP(sport=44000 + i, dport=33434) / payload(12))
                e = i2s(IPv6(src=srv, dst=cli) / ICMPv6DestUnreach(code=4) / Raw(quoted))
            else:
                quoted = bytes(IP(src=cli, dst=srv, ttl=63) / UDP(sport=44000 + i, dport=33434) / payload(12))
                e = i2s(IP(src=srv, dst=cli) / ICMP(type=3, code=3) / Raw(quoted))
            p.fwd((e, out_s(e)), allowed_related=1)
            fr = (ip6_frags if v6 else ip4_frags)(mk(src=cli, dst=srv) / UDP(sport=45000 + i, dport=53) /
                                                  payload(64, i), [(48, 24), (0, 24), (24, 24)], 500 + i)
            p.frames.append(s2i(fr[0]))
            p.fw.update(frag_held=1, frag_released=1)
            for f in fr[1:2]:
                p.fwd((s2i(f), out_i(s2i(f))), allowed_new=1)
            p.out["p0"].append(out_i(s2i(fr[0])))
            p.fwd((s2i(fr[2]), out_i(s2i(fr[2]))))
            queues[q] += p.frames[n0:]
            flows.append((v6, cli, srv, q, len(p.frames) - n0))
    r.start({"p0": queues})
    s = r.last_stats
    fwc = fw_counters(r)
    rows_ = sessions(r, "limit", "1000")
    r.stop()
    r.expect_output("p0", p.out["p0"])
    r.expect_output("p1", [])
    r.expect_counters(s, drops={}, totals={"tx": len(p.out["p0"]), "punted": 0})
    owners, handed = set(), 0
    for v6, cli, srv, q, n in flows:
        ss = [x for x in rows_ if x["src"] == cli and x["dst"] == srv]
        if not c.check(len(ss) == 3, "%s -> %s: %d sessions, expected 3 (tcp, udp, fragmented udp)"
                       % (cli, srv, len(ss))):
            continue
        w = {int(x["worker"]) for x in ss}
        c.check(len(w) == 1, "%s -> %s: sessions on workers %s (one owner per address pair)" % (cli, srv, w))
        owner = w.pop()
        owners.add(owner)
        if owner != q:
            handed += n
    c.check(owners == {0, 1}, "every session on worker(s) %s: spread 16 pairs over both" % owners)
    c.check(len(rows_) == 3 * 2 * N_PAIRS, "%d sessions, expected %d" % (len(rows_), 6 * N_PAIRS))
    p.fw.update(handoff_out=handed, handoff_in=handed)
    expect_fw(c, r, dict(p.fw), got=fwc)
