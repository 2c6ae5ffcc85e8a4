# SPDX-License-Identifier: BSD-3-Clause
"""NAT port blocks and limits through the real npsd: the max_blocks and max_sessions quotas and pool exhaustion
(counted drops, a rate-limited log record, existing sessions untouched), and the block allocation / release log
records seen on the control socket (`subscribe events nat`) and in `nat show subscribers`."""
import time

from harness import case
from cases_nat_common import (IP, UDP, A, A2, A3, I, I2, P, SUB1, NEW, SESS, Plan, nat_router, nat_section, pool,
                              tenant, from_t1, to_t1, to_net, payload, xl, ip4_of, run_plan, nat_subscribers,
                              nat_counters, field, Subscriber, expect_nat)


def udp_out(src, sport, dst=I, dport=53, seed=0):
    return from_t1(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload(20, seed))


def udp_in(sport_remote, dport, src=I, seed=1):
    return from_net(IP(src=src, dst=P) / UDP(sport=sport_remote, dport=dport) / payload(30, seed))


def from_net(l3):
    from cases_nat_common import from_net as fn
    return fn(l3)


def out_of(q, **kw):
    return to_net(xl(ip4_of(q), **kw))


def in_to(a, **kw):
    return to_t1(xl(ip4_of(a), **kw))


def sub_row(r, addr):
    rows = [x for x in nat_subscribers(r) if field(x, "inside") == addr]
    return rows[0] if len(rows) == 1 else None


@case("nat-quota-blocks", workers=(1,))
def nat_quota_blocks(c):
    """max_blocks = 2 with blocks of 4 ports: eight mappings fill both blocks (every inside port kept: each lies in
    the block allocated for it), the ninth is refused (nat_quota_blocks); the existing mappings still carry
    traffic both ways and still open new sessions."""
    r = nat_router(c, nat_section(pools=[pool(ports="1024-1055", block_size=4)], tenants=[tenant(max_blocks=2)]))
    p = Plan()
    for i, port in enumerate(range(1024, 1032)):
        q = udp_out(A, port, seed=i)
        extra = SUB1 if i == 0 else {"blocks_allocated": 1} if i == 4 else {}
        p.fwd(q, out_of(q, src=P), NEW(**extra))
    p.drop(udp_out(A, 1032, seed=9), "nat_quota_blocks")
    p.drop(udp_out(A, 2000, seed=10), "nat_quota_blocks")
    a = udp_in(53, 1024)
    p.fwd(a, in_to(a, dst=A), out2in=1)
    q = udp_out(A, 1027, dst=I2, seed=11)
    p.fwd(q, out_of(q, src=P), SESS())
    # another subscriber is not affected by A's quota
    q = udp_out(A2, 1040, seed=12)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))

    def after(r, natc):
        s = sub_row(r, A)
        if c.check(s is not None, "no subscriber row for %s: %s" % (A, nat_subscribers(r))):
            c.check(int(s["blocks"]) == 2 and s["port_blocks"] == "1024-1027,1028-1031" and s["public"] == P and
                    int(s["mappings"]) == 8 and int(s["sessions"]) == 9, "subscriber %s: %s" % (A, s))
    run_plan(c, r, p, after)


@case("nat-quota-sessions", workers=(1, 2))
def nat_quota_sessions(c):
    """max_sessions = 3: a fourth session is refused (nat_quota_sessions) whether on an existing mapping or a new
    one; the three sessions keep working."""
    r = nat_router(c, nat_section(tenants=[tenant(max_sessions=3)]))
    p = Plan()
    from cases_nat_common import pres_port
    pa = pres_port(c, "t1", A, 5000)
    q = udp_out(A, pa)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    for dst, dport in ((I, 54), (I2, 53)):
        q = udp_out(A, pa, dst, dport, seed=dport)
        p.fwd(q, out_of(q, src=P), SESS())
    p.drop(udp_out(A, pa, I2, 54, seed=3), "nat_quota_sessions")
    p.drop(udp_out(A, pa + 1, I, 53, seed=4), "nat_quota_sessions")
    for sport, src in ((53, I), (54, I), (53, I2)):
        a = udp_in(sport, pa, src=src, seed=sport)
        p.fwd(a, in_to(a, dst=A), out2in=1)

    def after(r, natc):
        s = sub_row(r, A)
        if c.check(s is not None, "no subscriber row for %s" % A):
            c.check(int(s["sessions"]) == 3 and int(s["mappings"]) == 1, "subscriber %s: %s" % (A, s))
    run_plan(c, r, p, after)


@case("nat-pool-exhausted", workers=(1,))
def nat_pool_exhausted(c):
    """A one-address pool with two blocks: two subscribers take them, the third is refused (nat_pool_exhausted)
    and so is every new flow it tries; the two others keep working and still open sessions."""
    r = nat_router(c, nat_section(pools=[pool(ports="1024-1031", block_size=4)]))
    p = Plan()
    for h, port in ((A, 1024), (A2, 1028)):
        q = udp_out(h, port)
        p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    # the refused host's subscriber entry is made for the attempt and forgotten at once (no block)
    p.drop(udp_out(A3, 1024, seed=2), "nat_pool_exhausted", subscribers_created=1, subscribers_freed=1)
    p.drop(udp_out(A3, 3000, seed=3), "nat_pool_exhausted", subscribers_created=1, subscribers_freed=1)
    for h, port in ((A, 1024), (A2, 1028)):
        a = udp_in(53, port, seed=port & 0xFF)
        p.fwd(a, in_to(a, dst=h), out2in=1)
        q = udp_out(h, port, dst=I2, seed=5)
        p.fwd(q, out_of(q, src=P), SESS())

    def after(r, natc):
        c.check(sub_row(r, A3) is None, "the refused host %s has a subscriber row" % A3)
    run_plan(c, r, p, after)


@case("nat-block-log", workers=(1,))
def nat_block_log(c):
    """Block allocation and release: `nat show subscribers` shows the block (public address, port range); after
    `nat flush` the block is released block_idle (1 s) later with a "nat" event carrying the subscriber (VRF and
    inside address), the public address and the port range (RFC 6908 fields), and the subscriber goes."""
    r = nat_router(c, nat_section(block_idle=1))
    p = Plan()
    q = udp_out(A, 5000)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    q = udp_out(A, 5001, dst=I2)
    p.fwd(q, out_of(q, src=P), NEW())
    p.start(c, r)
    s = sub_row(r, A)
    if c.check(s is not None, "no subscriber row for %s: %s" % (A, nat_subscribers(r))):
        c.check(s["public"] == P and s["port_blocks"] == "4608-5119" and int(s["blocks"]) == 1 and
                s["realm"] == "t1", "subscriber %s: %s" % (A, s))
    sub = Subscriber(r.sock, "subscribe events nat --json")
    r.ctl_ok("nat", "flush")
    evs = sub.events(1, timeout=5)
    sub.close()
    if c.check(len(evs) == 1, "events after the flush: %s" % evs):
        e = evs[0]
        want = {"event": "nat", "type": "block-release", "pool": "pub", "vrf": "t1", "inside": A, "public": P,
                "port_lo": 4608, "port_hi": 5119}
        for k, v in want.items():
            c.check(e.get(k) == v, "release event %s = %r, expected %r (event %s)" % (k, e.get(k), v, e))
        c.check("logged" in e and str(e["logged"]).endswith("Z"), "release event without its time: %s" % e)
    deadline = time.time() + 3
    while time.time() < deadline and sub_row(r, A) is not None:
        time.sleep(0.1)
    c.check(sub_row(r, A) is None, "subscriber still shown after its block was released")
    natc = nat_counters(r)
    r.stop()
    r.expect_output("p0", p.out)
    p.nat.update(sessions_freed=2, mappings_freed=2, blocks_released=1, subscribers_freed=1)
    expect_nat(c, dict(p.nat), natc)
