# SPDX-License-Identifier: BSD-3-Clause
"""NAT44 cases of helper natfix: the rx-burst ordering of the pcap tier, static mappings with several workers,
hairpinning when the pool's VRF blackholes the pool prefix.

nat-fix-burst-*: why a reply in the rx burst of its request is not translated (a property of the graph walk, not a
NAT bug). port_rx reads at most PORT_RX_BURST frames per graph walk (read from dataplane/nodes/port_rx.c); in one
walk ip4_input hands the pool VRF's packets to nat4_out2in (IPv4 input arc) before the tenant's packets reach
nat4_in2out (forward arc, after ip4_lookup), so a reply read in the same walk as its request is looked up before the
request made the mapping, and passes untouched (out2in_passed). With PORT_RX_BURST - 2 dropped fillers between
them, request + fillers + reply are one rx burst: one walk, the reply passes. With one filler more the reply is in
the next burst: next walk, translated.
"""
from harness import PORT_RX_BURST, case
from cases_nat_common import (IP, UDP, TCP, A, B, I, P, SUB1, NEW, ROUTES, VRFS, Plan, nat_router, nat_section,
                              tenant, interfaces, neighbours, from_t1, from_t2, from_net, to_t1, to_t2, to_net,
                              payload, xl, ip4_of, pres_port, run_plan, barrier_frame, sub_owner, block_owner)

def fillers(p, n):
    """n frames dropped at once (eth_unknown_vlan), without NAT."""
    p.frames += [barrier_frame()] * n
    p.drops["eth_unknown_vlan"] += n


def burst_plan(c, gap):
    """UDP request A:pa -> I:53, `gap` fillers, then the reply I:53 -> P:pa."""
    r = nat_router(c)
    p = Plan(barriers=False)
    pa = pres_port(c, "t1", A, 5000)
    q = from_t1(IP(src=A, dst=I) / UDP(sport=pa, dport=53) / payload(20, 1))
    p.fwd(q, to_net(xl(ip4_of(q), src=P)), NEW(**SUB1))
    fillers(p, gap)
    a = from_net(IP(src=I, dst=P) / UDP(sport=53, dport=pa) / payload(30, 2))
    return r, p, a, pa


@case("nat-fix-burst-same")
def nat_fix_burst_same(c):
    """Request and reply read in one graph walk (2 + PORT_RX_BURST - 2 fillers = one rx burst): the reply reaches
    nat4_out2in before nat4_in2out opened the mapping, so it passes untouched (out2in_passed) and is routed on to
    the upstream gateway like any transit packet."""
    r, p, a, pa = burst_plan(c, PORT_RX_BURST - 2)
    p.fwd(a, to_net(xl(ip4_of(a))), out2in_passed=1)  # to the upstream gateway U
    run_plan(c, r, p)


@case("nat-fix-burst-next")
def nat_fix_burst_next(c):
    """Same input with one filler more: the reply is frame PORT_RX_BURST + 1, read by the next walk, after the
    request made the mapping: translated to the inside host."""
    r, p, a, pa = burst_plan(c, PORT_RX_BURST - 1)
    p.fwd(a, to_t1(xl(ip4_of(a), dst=A)), out2in=1)
    run_plan(c, r, p)


def static_owner_port(c, base=8080):
    """A public port >= base whose block's worker is not the static inside host's subscriber worker (with one
    worker: base)."""
    if c.workers == 1:
        return base
    w = sub_owner("t1", A, c.workers)
    port = base
    while block_owner(port, c.workers) == w:
        port += 512
    return port


@case("nat-fix-static-owner", workers=(1, 2))
def nat_fix_static_owner(c):
    """A static mapping whose public port lies in a block owned by another worker than its inside host's subscriber
    worker: the inbound SYN must open the session on the subscriber's worker (where the inside host's SYN-ACK
    goes), so the handshake and the data pass both ways; then an inbound UDP datagram to the same kind of static."""
    pub = static_owner_port(c)
    st = [{"proto": "tcp", "inside": A + ":80", "public": "%s:%d" % (P, pub)},
          {"proto": "udp", "inside": A + ":53", "public": "%s:%d" % (P, pub)}]
    r = nat_router(c, nat_section(tenants=[tenant(statics=st)]))
    p = Plan()
    syn = from_net(IP(src=I, dst=P) / TCP(sport=40000, dport=pub, flags="S", seq=9000))
    p.fwd(syn, to_t1(xl(ip4_of(syn), dst=A, dport=80)), out2in=1, sessions_created=1, sessions_inbound=1,
          mappings_created=1, static_used=1)
    sa = from_t1(IP(src=A, dst=I) / TCP(sport=80, dport=40000, flags="SA", seq=300, ack=9001))
    p.fwd(sa, to_net(xl(ip4_of(sa), src=P, sport=pub)), in2out=1)
    ack = from_net(IP(src=I, dst=P) / TCP(sport=40000, dport=pub, flags="A", seq=9001, ack=301) / payload(10, 3))
    p.fwd(ack, to_t1(xl(ip4_of(ack), dst=A, dport=80)), out2in=1)
    d = from_t1(IP(src=A, dst=I) / TCP(sport=80, dport=40000, flags="PA", seq=301, ack=9011) / payload(12, 4))
    p.fwd(d, to_net(xl(ip4_of(d), src=P, sport=pub)), in2out=1)
    u = from_net(IP(src=I, dst=P) / UDP(sport=5353, dport=pub) / payload(16, 5))
    p.fwd(u, to_t1(xl(ip4_of(u), dst=A, dport=53)), out2in=1, sessions_created=1, sessions_inbound=1,
          mappings_created=1, static_used=1)
    v = from_t1(IP(src=A, dst=I) / UDP(sport=53, dport=5353) / payload(16, 6))
    p.fwd(v, to_net(xl(ip4_of(v), src=P, sport=pub)), in2out=1)
    # every frame enters the queue of a worker that owns neither the subscriber nor (2 workers) the port's block
    run_plan(c, r, p)


# what an operator configures so that unsolicited traffic to the pool does not loop back upstream
POOL_BLACKHOLE = [{"vrf": "internet", "prefix": P + "/32", "blackhole": True}]


@case("nat-fix-hairpin-blackhole", workers=(1, 2))
def nat_fix_hairpin_blackhole(c):
    """Hairpinning when the pool's VRF blackholes the pool prefix (the usual operator setup): t2's host reaches
    t1's static P:8080 -> A:80 with its public source; t1's answer goes back to t2 the same way. A packet to a public
    port with no mapping still meets the blackhole (its source translated)."""
    st = [{"proto": "tcp", "inside": A + ":80", "public": P + ":8080"}]
    r = c.router(vrfs=VRFS, devices=[{"name": "p0"}], interfaces=interfaces(), routes=ROUTES + POOL_BLACKHOLE,
                 neighbours=neighbours(), extra_conf=nat_section(tenants=[tenant(statics=st), tenant("t2")]))
    p = Plan()
    bp = pres_port(c, "t2", B, 6000)
    # t2 (B:bp) -> P:8080: source P:bp (t2's mapping), destination A:80 (the static), into t1
    syn = from_t2(IP(src=B, dst=P) / TCP(sport=bp, dport=8080, flags="S", seq=100))
    p.fwd(syn, to_t1(xl(ip4_of(syn), src=P, sport=bp, dst=A, dport=80)),
          NEW(subscribers_created=1, blocks_allocated=1, hairpinned=1, out2in=1, sessions_created=1,
              sessions_inbound=1, mappings_created=1, static_used=1))
    # t1's SYN-ACK (A:80 -> P:bp): source P:8080 (the static), then destination B:bp (t2's mapping, filtering:
    # t2's session with P:8080 exists), into t2
    sa = from_t1(IP(src=A, dst=P) / TCP(sport=80, dport=bp, flags="SA", seq=700, ack=101))
    p.fwd(sa, to_t2(xl(ip4_of(sa), src=P, sport=8080, dst=B, dport=bp)), in2out=1, hairpinned=1, out2in=1)
    ack = from_t2(IP(src=B, dst=P) / TCP(sport=bp, dport=8080, flags="A", seq=101, ack=701))
    p.fwd(ack, to_t1(xl(ip4_of(ack), src=P, sport=bp, dst=A, dport=80)), in2out=1, hairpinned=1, out2in=1)
    # no mapping at P:9999: source translated, then the pool VRF's blackhole
    nm = from_t2(IP(src=B, dst=P) / UDP(sport=bp, dport=9999) / payload(8, 7))
    p.drop(nm, "blackhole", NEW(hairpinned=1, out2in_passed=1))
    # 2 workers: fed on the queue of t1's host's worker. Fed elsewhere, the hairpinned SYN and t1's SYN-ACK can
    # leave one hand-off ring in one walk (the pcap tier's workers share a CPU) and reach nat4_in2out together:
    # the SYN-ACK is looked up before the SYN's second half (nat4_out2in, later in the walk) opened the static's
    # session. On the wire the SYN-ACK exists only after that SYN left the router.
    run_plan(c, r, p, queue=sub_owner("t1", A, c.workers) if c.workers > 1 else None)

