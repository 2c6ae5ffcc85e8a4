# SPDX-License-Identifier: BSD-3-Clause
"""NAT44 behaviour through the real npsd, one case per RFC requirement: RFC 4787 (EIM, paired pooling, port
preservation and range, filtering modes, hairpinning, UDP timeout), RFC 5382 (TCP through NAT, unsolicited SYN,
timeouts), RFC 5508 (ICMP query identifiers, ICMP errors with the quoted packet and every checksum), two tenants
with one private prefix, static mappings, fragments. Quotas, exhaustion and block logs: cases_nat_quota.py."""
import ipaddress
import os
import subprocess

from harness import case, NPSD
from cases_nat_common import (IP, UDP, TCP, ICMP, Ether, A, A2, A3, B, I, I2, U, P, SUB1, NEW, SESS, Plan,
                              nat_router, nat_section, pool, tenant, from_t1, from_t2, from_net, to_t1, to_t2,
                              to_net, payload, xl, icmp_err, ip4_of, pres_port, run_plan, learn, nat_sessions,
                              find_sessions, field, ep, xl_err, ip4_frags)


def udp_out(src, sport, dst, dport, n=20, seed=0, frm=from_t1):
    return frm(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload(n, seed))


def udp_in(src, sport, dport, n=30, seed=1, dst=P):
    return from_net(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / payload(n, seed))


def out_of(frame, **kw):
    """frame (from inside) translated to the internet."""
    return to_net(xl(ip4_of(frame), **kw))


def in_to(frame, to=to_t1, **kw):
    """frame (from the internet) translated to the inside."""
    return to(xl(ip4_of(frame), **kw))


def show_sessions_hint(rows):
    return "nat show sessions: %s" % (rows[:3],)


# ---------------------------------------------------------------------------------------------------------------
# RFC 4787

@case("nat-eim", workers=(1, 2))
def nat_eim(c):
    """REQ-1: one inside address:port to three remote endpoints uses one public address:port (kept: the inside
    port is free); every reply comes back to the inside endpoint; a UDP checksum of 0 stays 0."""
    r = nat_router(c)
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    q = udp_out(A, pa, I, 53)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    for dst, dport in ((I2, 53), (I, 54)):
        q = udp_out(A, pa, dst, dport, seed=dport)
        p.fwd(q, out_of(q, src=P), SESS())
    for src, sport in ((I, 53), (I2, 53), (I, 54)):
        a = udp_in(src, sport, pa, seed=sport)
        p.fwd(a, in_to(a, dst=A), out2in=1)
    z = bytearray(bytes(udp_out(A, pa, I, 53, seed=9)))
    z[14 + 20 + 6:14 + 20 + 8] = b"\0\0"  # no UDP checksum (RFC 768): must stay 0, not become a wrong one
    p.fwd(bytes(z), out_of(bytes(z), src=P), in2out=1)
    za = bytearray(bytes(udp_in(I, 53, pa, seed=8)))
    za[18 + 20 + 6:18 + 20 + 8] = b"\0\0"
    p.fwd(bytes(za), in_to(bytes(za), dst=A), out2in=1)

    def after(r, natc):
        rows = nat_sessions(r)
        mine = find_sessions(rows, "udp", inside=(A, pa))
        c.check(len(mine) == 3, "3 sessions of %s:%d expected: %s" % (A, pa, show_sessions_hint(rows)))
        pubs = set(ep(x, "outside") for x in mine)
        c.check(pubs == {(P, pa)}, "sessions of %s:%d have public endpoints %s, expected %s:%d" % (A, pa, pubs, P, pa))
    run_plan(c, r, p, after)


@case("nat-paired-pool", workers=(1, 2))
def nat_paired_pool(c):
    """REQ-2 (paired): a pool of four addresses; every flow of one inside address (UDP, TCP, ICMP, several ports
    and destinations) uses the same public address; the three hosts' flows are all translated (checked frame by
    frame: the source is a pool address, every checksum right)."""
    prefix = "198.51.100.16/30"
    r = nat_router(c, nat_section(pools=[pool(prefixes=[prefix])]))
    p = Plan()
    flows = []  # (inside host, frame, marker): each flow carries a payload of its own
    k = 0
    for h in (A, A2, A3):
        for i, (dst, dport) in enumerate(((I, 53), (I2, 53), (I, 123))):
            k += 1
            flows.append((h, udp_out(h, 6000 + i, dst, dport, n=24, seed=k), bytes(payload(24, k))))
        k += 1
        flows.append((h, from_t1(IP(src=h, dst=I) / TCP(sport=40000, dport=80, flags="S", seq=1) / payload(24, k)),
                      bytes(payload(24, k))))
        k += 1
        flows.append((h, from_t1(IP(src=h, dst=I2) / ICMP(type=8, id=0x4321, seq=1) / payload(24, k)),
                      bytes(payload(24, k))))
    for h, q, _ in flows:
        p.fwd(q, None)
    pool_addrs = set(str(a) for a in ipaddress.ip_network(prefix))

    def rest(frames):
        src_of = {}
        for h, q, mark in flows:
            cands = [g for g in frames if bytes(g).endswith(mark)]
            if not c.check(len(cands) == 1, "flow %s: %d outputs" % (Ether(bytes(q))[IP].summary(), len(cands))):
                continue
            o = Ether(cands[0])[IP]
            c.check(o.src in pool_addrs, "flow %s left with source %s, not a pool address" % (o.summary(), o.src))
            src_of.setdefault(h, set()).add(o.src)
        for h, s_ in src_of.items():
            c.check(len(s_) == 1, "inside %s used public addresses %s (paired pooling: one)" % (h, sorted(s_)))
    n = len(flows)
    p.nat.update(in2out=n, sessions_created=n, mappings_created=n, subscribers_created=3, blocks_allocated=3)

    def after(r, natc):
        # port preservation depends on the block each subscriber got: any split, but every mapping counted once
        c.check(natc.get("port_preserved", 0) + natc.get("port_changed", 0) == n,
                "port_preserved %s + port_changed %s != %d mappings" % (natc.get("port_preserved"),
                                                                          natc.get("port_changed"), n))
        p.nat["port_preserved"] = natc.get("port_preserved", 0)
        p.nat["port_changed"] = natc.get("port_changed", 0)
    run_plan(c, r, p, after=after, rest=rest)


@case("nat-port-range", workers=(1,))
def nat_port_range(c):
    """No port 0 and no port below the pool's range is ever assigned (REQ-3 / RFC 7857): t1's pool is 1024-65535,
    t2's pool 2000-2999 (blocks of 100); inside ports 0, 80 and 1500 get a port of the range, 2500 is kept; an
    ICMP identifier 0 gets one of the range too."""
    r = nat_router(c, nat_section(pools=[pool(), pool("low", ["198.51.100.2/32"], "2000-2999", 100)],
                                  tenants=[tenant(), tenant("t2", "low")]))
    p = Plan()
    cases_ = []
    # B's first flow: its block is the one holding 2500, so the port is kept (later ports are kept only when they
    # lie in one of the subscriber's blocks: 0, 80 and 1500 get ports of that block or of another in 2000-2999)
    q = udp_out(B, 2500, I, 53, seed=77, frm=from_t2)
    p.fwd(q, out_of(q, src="198.51.100.2"))
    for sp in (0, 80):
        q = udp_out(A, sp, I, 53, seed=sp)
        p.fwd(q, None)
        cases_.append((q, P, 1024, 65535))
    for sp in (0, 80, 1500):
        q = udp_out(B, sp, I, 53, seed=sp + 1, frm=from_t2)
        p.fwd(q, None)
        cases_.append((q, "198.51.100.2", 2000, 2999))
    q = from_t2(IP(src=B, dst=I) / ICMP(type=8, id=0, seq=5) / payload(8))
    p.fwd(q, None)
    cases_.append((q, "198.51.100.2", 2000, 2999))
    p.nat.update(in2out=7, sessions_created=7, mappings_created=7, port_preserved=1, port_changed=6,
                 subscribers_created=2, blocks_allocated=2)

    def rest(frames):
        seen = []
        for q, pub, lo, hi in cases_:
            qi = Ether(bytes(q))[IP]
            m = [g for g in frames if bytes(Ether(g)[IP].payload)[8:] == bytes(qi.payload)[8:] and
                 Ether(g)[IP].proto == qi.proto and Ether(g)[IP].dst == qi.dst]
            if not c.check(len(m) == 1, "flow %s: %d outputs" % (qi.summary(), len(m))):
                continue
            o = Ether(m[0])[IP]
            port = o[UDP].sport if UDP in o else o[ICMP].id
            c.check(o.src == pub and lo <= port <= hi and port != 0,
                    "flow %s went out as %s:%d (expected %s, port in %d-%d)" % (qi.summary(), o.src, port, pub, lo,
                                                                               hi))
            seen.append((o.src, o.proto, port))
        c.check(len(set(seen)) == len(seen), "two flows share a public endpoint: %s" % seen)
    run_plan(c, r, p, rest=rest)


def filtering_plan(c, mode):
    r = nat_router(c, nat_section(tenants=[tenant(filtering=mode)]))
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    q = udp_out(A, pa, I, 53)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    a = udp_in(I, 53, pa)
    p.fwd(a, in_to(a, dst=A), out2in=1)
    # same remote address, another port
    a = udp_in(I, 54, pa, seed=2)
    if mode in ("eif", "adf"):
        p.fwd(a, in_to(a, dst=A), out2in=1, sessions_created=1, sessions_inbound=1)
    else:
        p.drop(a, "nat_filtered")
    # another remote address
    a = udp_in(I2, 53, pa, seed=3)
    if mode == "eif":
        p.fwd(a, in_to(a, dst=A), out2in=1, sessions_created=1, sessions_inbound=1)
        # the inside host answers on the session the inbound packet opened
        q = udp_out(A, pa, I2, 53, seed=4)
        p.fwd(q, out_of(q, src=P), in2out=1)
    else:
        p.drop(a, "nat_filtered")
    # to a public port with no mapping: not NAT's, routed on like any transit packet (to the upstream U)
    a = udp_in(I2, 53, pa + 1, seed=5)
    p.fwd(a, to_net(xl(ip4_of(a))), out2in_passed=1)
    # TCP SYN from outside to the mapping's port (TCP has no mapping there): passed too
    s = from_net(IP(src=I, dst=P) / TCP(sport=4444, dport=pa, flags="S", seq=7))
    p.fwd(s, to_net(xl(ip4_of(s))), out2in_passed=1)
    return r, p


@case("nat-filter-eif", workers=(1, 2))
def nat_filter_eif(c):
    """REQ-8 endpoint-independent filtering: any remote endpoint reaches a mapping (and opens a session)."""
    r, p = filtering_plan(c, "eif")
    run_plan(c, r, p)


@case("nat-filter-adf", workers=(1,))
def nat_filter_adf(c):
    """REQ-8 address-dependent filtering: only remote addresses the inside endpoint sent to."""
    r, p = filtering_plan(c, "adf")
    run_plan(c, r, p)


@case("nat-filter-apdf", workers=(1, 2))
def nat_filter_apdf(c):
    """REQ-8 address-and-port-dependent filtering (the default): only the remote address:port sent to."""
    r, p = filtering_plan(c, "apdf")
    run_plan(c, r, p)


@case("nat-hairpin", workers=(1, 2))
def nat_hairpin(c):
    """REQ-9: A2 sends to A's public address:port and A receives it from A2's public address:port (not its inside
    one); A answers the same way. Endpoint-independent filtering (the inbound leg passes A's mapping's filter)."""
    r = nat_router(c, nat_section(tenants=[tenant(filtering="eif", hairpinning=True)]))
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    pb = pres_port(c, "t1", A2, 7000)
    for h, sp in ((A, pa), (A2, pb)):
        q = udp_out(h, sp, I, 53, seed=sp & 0xFF)
        p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    h1 = from_t1(IP(src=A2, dst=P) / UDP(sport=pb, dport=pa) / payload(24, 3))
    p.fwd(h1, to_t1(xl(ip4_of(h1), src=P, sport=pb, dst=A, dport=pa)), in2out=1, out2in=1, hairpinned=1,
          sessions_created=2, sessions_inbound=1)
    p.barrier()  # a hairpinned packet crosses in2out then out2in: the next one must not overtake it in one burst
    h2 = from_t1(IP(src=A, dst=P) / UDP(sport=pa, dport=pb) / payload(26, 4))
    p.fwd(h2, to_t1(xl(ip4_of(h2), src=P, sport=pa, dst=A2, dport=pb)), in2out=1, out2in=1, hairpinned=1)
    run_plan(c, r, p)


@case("nat-hairpin-filtered", workers=(1,))
def nat_hairpin_filtered(c):
    """Hairpinning under address-and-port-dependent filtering: the hairpinned packet is an inbound packet for A's
    mapping, refused (nat_filtered) until A sent to A2's public endpoint; hairpinning = false: not hairpinned at
    all (the packet goes to the pool's VRF as sent, translated source only, and is routed on)."""
    r = nat_router(c, nat_section(tenants=[tenant(hairpinning=True)]))
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    pb = pres_port(c, "t1", A2, 7000)
    for h, sp in ((A, pa), (A2, pb)):
        q = udp_out(h, sp, I, 53, seed=sp & 0xFF)
        p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    h1 = from_t1(IP(src=A2, dst=P) / UDP(sport=pb, dport=pa) / payload(24, 3))
    p.drop(h1, "nat_filtered", in2out=1, hairpinned=1, sessions_created=1)
    p.barrier()
    # A opens towards A2's public endpoint; now A2's packet passes
    h2 = from_t1(IP(src=A, dst=P) / UDP(sport=pa, dport=pb) / payload(26, 4))
    p.fwd(h2, to_t1(xl(ip4_of(h2), src=P, sport=pa, dst=A2, dport=pb)), in2out=1, out2in=1, hairpinned=1,
          sessions_created=1)
    p.barrier()
    h3 = from_t1(IP(src=A2, dst=P) / UDP(sport=pb, dport=pa) / payload(24, 5))
    p.fwd(h3, to_t1(xl(ip4_of(h3), src=P, sport=pb, dst=A, dport=pa)), in2out=1, out2in=1, hairpinned=1)
    run_plan(c, r, p)


# ---------------------------------------------------------------------------------------------------------------
# Timeouts (RFC 4787 REQ-5, RFC 5382 REQ-5, RFC 5508 REQ-1): no fake clock here, so the configured values are
# checked in `nat show sessions` (expires) and the values below the RFC minimums are refused by the config.

def check_config(c, nat_text):
    """npsd --check-config on the standard router with this nat section: (exit status, output)."""
    r = nat_router(c, nat_text)
    path = os.path.join(c.dir, "check-%d.conf" % len(os.listdir(c.dir)))
    with open(path, "w") as f:
        f.write(r.conf_text())
    c.routers.remove(r)
    pr = subprocess.run([NPSD, "--check-config", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=30)
    return pr.returncode, pr.stdout.decode(errors="replace")


@case("nat-timeouts", workers=(1,))
def nat_timeouts(c):
    """The configured timeouts are what sessions get (UDP 150 s, TCP established 7500 s, transitory 300 s, ICMP
    90 s: `nat show sessions` expires), and values below the RFC minimums are refused: udp < 120 (RFC 4787 REQ-5),
    tcp_established < 7440 and tcp_transitory < 240 (RFC 5382 REQ-5), icmp < 60 (RFC 5508 REQ-1)."""
    for key, bad, good in (("udp", 119, 120), ("tcp_established", 7439, 7440), ("tcp_transitory", 239, 240),
                           ("icmp", 59, 60)):
        rc, out = check_config(c, nat_section(sessions={"timeouts": {key: bad}}))
        c.check(rc != 0 and key in out, "%s = %d accepted (or no message naming it): exit %d: %s"
                % (key, bad, rc, out.strip()[-300:]))
        rc, out = check_config(c, nat_section(sessions={"timeouts": {key: good}}))
        c.check(rc == 0, "%s = %d refused: %s" % (key, good, out.strip()[-300:]))
    tmo = {"udp": 150, "tcp_established": 7500, "tcp_transitory": 300, "icmp": 90}
    r = nat_router(c, nat_section(sessions={"timeouts": tmo}))
    p = Plan()
    q = udp_out(A, 5000, I, 53)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    a = udp_in(I, 53, 5000)
    p.fwd(a, in_to(a, dst=A), out2in=1)
    syn = from_t1(IP(src=A, dst=I) / TCP(sport=5001, dport=80, flags="S", seq=100))
    p.fwd(syn, out_of(syn, src=P), NEW())
    sa = from_net(IP(src=I, dst=P) / TCP(sport=80, dport=5001, flags="SA", seq=900, ack=101))
    p.fwd(sa, in_to(sa, dst=A), out2in=1)
    ack = from_t1(IP(src=A, dst=I) / TCP(sport=5001, dport=80, flags="A", seq=101, ack=901))
    p.fwd(ack, out_of(ack, src=P), in2out=1)
    syn2 = from_t1(IP(src=A, dst=I) / TCP(sport=5002, dport=81, flags="S", seq=100))
    p.fwd(syn2, out_of(syn2, src=P), NEW())
    e = from_t1(IP(src=A, dst=I) / ICMP(type=8, id=5003, seq=1) / payload(8))
    p.fwd(e, out_of(e, src=P), NEW())

    def after(r, natc):
        rows = nat_sessions(r)
        for proto, sp, want in (("udp", 5000, 150), ("tcp", 5001, 7500), ("tcp", 5002, 300), ("icmp", 5003, 90)):
            m = find_sessions(rows, proto, inside=(A, sp))
            if not c.check(len(m) == 1, "%s session of port %d: %s" % (proto, sp, show_sessions_hint(rows))):
                continue
            ex = field(m[0], "expires_s", "expires", "timeout_s")
            c.check(ex is not None and want - 5 <= int(ex) <= want, "%s %d: expires in %s s, expected %d"
                    % (proto, sp, ex, want))
    run_plan(c, r, p, after)


# ---------------------------------------------------------------------------------------------------------------
# RFC 5382: TCP

class Tcp:
    """A TCP conversation inside (A:sport) <-> remote (dst:dport) through the NAT (public P:sport: port kept)."""

    def __init__(self, sport, dst=I, dport=80, cseq=1000, sseq=500000, h=A, pub=None):
        self.h, self.sport, self.dst, self.dport = h, sport, dst, dport
        self.pub = pub if pub is not None else sport
        self.cn, self.sn = cseq, sseq

    def c(self, flags, data=0):
        q = from_t1(IP(src=self.h, dst=self.dst) / TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.cn,
                                                         ack=self.sn if "A" in flags else 0, window=65535) /
                    payload(data, self.cn & 0xFF))
        self.cn += data + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
        return q, out_of(q, src=P, sport=self.pub)

    def s(self, flags, data=0):
        q = from_net(IP(src=self.dst, dst=P) / TCP(sport=self.dport, dport=self.pub, flags=flags, seq=self.sn,
                                                     ack=self.cn if "A" in flags else 0, window=65535) /
                     payload(data, self.sn & 0xFF))
        self.sn += data + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
        return q, in_to(q, dst=self.h, dport=self.sport)


@case("nat-tcp", workers=(1, 2))
def nat_tcp(c):
    """RFC 5382: handshake, data both ways and the close through the NAT (REQ-1: EIM for TCP, the port kept),
    the session left in time-wait; an unsolicited SYN to the mapping from another endpoint is refused
    (filtering, REQ-4: silently); a segment other than SYN opens nothing (nat_tcp_no_session)."""
    r = nat_router(c)
    p = Plan()
    t = Tcp(pres_port(c, "t1", A, 5000))
    p.fwd(*t.c("S"), counters=NEW(**SUB1))
    p.fwd(*t.s("SA"), out2in=1)
    p.fwd(*t.c("A"), in2out=1)
    p.fwd(*t.c("PA", 100), in2out=1)
    p.fwd(*t.s("PA", 1000), out2in=1)
    p.fwd(*t.c("A"), in2out=1)
    # the same inside endpoint to a second server: same public port (EIM)
    t2 = Tcp(t.sport, dst=I2, dport=443, cseq=77000)
    p.fwd(*t2.c("S"), counters=SESS())
    p.fwd(*t2.s("SA"), out2in=1)
    # unsolicited SYN to the mapping's public port from an endpoint it never sent to
    p.drop(from_net(IP(src=I2, dst=P) / TCP(sport=4444, dport=t.pub, flags="S", seq=1)), "nat_filtered")
    # an ACK from inside with no session
    p.drop(from_t1(IP(src=A, dst=I) / TCP(sport=t.sport + 1, dport=80, flags="A", seq=5, ack=5)),
           "nat_tcp_no_session")
    p.fwd(*t.c("FA"), in2out=1)
    p.fwd(*t.s("A"), out2in=1)
    p.fwd(*t.s("FA"), out2in=1)
    p.fwd(*t.c("A"), in2out=1)

    def after(r, natc):
        rows = nat_sessions(r)
        for dst, state in ((I, "time-wait"), (I2, "syn-recv")):
            m = find_sessions(rows, "tcp", inside=(A, t.sport), remote=(dst, 80 if dst == I else 443))
            if c.check(len(m) == 1, "tcp session to %s: %s" % (dst, show_sessions_hint(rows))):
                st = str(field(m[0], "state"))
                c.check(st.replace("_", "-") == state, "tcp to %s in state %s, expected %s" % (dst, st, state))
    run_plan(c, r, p, after)


# ---------------------------------------------------------------------------------------------------------------
# RFC 5508: ICMP

@case("nat-icmp-query", workers=(1, 2))
def nat_icmp_query(c):
    """REQ-1/2: echo identifiers are mapped like ports (kept when free) and translated back in the replies; two
    hosts with the same identifier get distinct public identifiers."""
    r = nat_router(c)
    p = Plan()
    ida = pres_port(c, "t1", A, 0x1234)
    for i in range(2):
        q = from_t1(IP(src=A, dst=I) / ICMP(type=8, id=ida, seq=i) / payload(32, i))
        p.fwd(q, out_of(q, src=P), NEW(**SUB1) if i == 0 else {"in2out": 1})
        a = from_net(IP(src=I, dst=P) / ICMP(type=0, id=ida, seq=i) / payload(32, i))
        p.fwd(a, in_to(a, dst=A), out2in=1)
    # a reply with an identifier no mapping has: not NAT's (routed on)
    a = from_net(IP(src=I, dst=P) / ICMP(type=0, id=ida + 1, seq=0) / payload(8))
    p.fwd(a, to_net(xl(ip4_of(a))), out2in_passed=1)
    # A2 with A's identifier: its own public identifier (learned from a first run without the reply)
    q2 = from_t1(IP(src=A2, dst=I) / ICMP(type=8, id=ida, seq=7) / payload(32, 7))
    first = learn(c, lambda c_: nat_router(c_), p.frames + [q2])
    o = [Ether(g)[IP] for g in first if Ether(g)[IP].dst == I and ICMP in Ether(g) and Ether(g)[ICMP].seq == 7]
    if not c.check(len(o) == 1, "A2's echo request not sent once: %d" % len(o)):
        return
    id2 = o[0][ICMP].id
    c.check(o[0].src == P and id2 != ida and id2 != 0, "A2's request went out as %s id %d (A has %d)"
            % (o[0].src, id2, ida))
    p.fwd(q2, out_of(q2, src=P, icmp_id=id2), NEW(preserved=False, **SUB1))
    a2 = from_net(IP(src=I, dst=P) / ICMP(type=0, id=id2, seq=7) / payload(32, 7))
    p.fwd(a2, in_to(a2, dst=A2, icmp_id=ida), out2in=1)
    run_plan(c, r, p)


@case("nat-icmp-error", workers=(1, 2))
def nat_icmp_error(c):
    """REQ-3/4: ICMP errors about translated flows are translated both ways with the packet they quote: outer
    destination (or source), quoted source (or destination) and port, the quoted IPv4 checksum, the quoted UDP /
    TCP checksum and the ICMP checksum all right (checked against scapy's full computation); errors from the far
    host and from a router on the path (U)."""
    r = nat_router(c)
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    # UDP A:pa -> I:33434, port unreachable from I
    q = udp_out(A, pa, I, 33434, n=12)
    p.fwd(q, out_of(q, src=P), NEW(**SUB1))
    seen_by_i = xl(ip4_of(q), src=P)
    e = from_net(icmp_err(I, P, seen_by_i, 3, 3))
    p.fwd(e, to_t1(xl_err(ip4_of(e), dst=A, q_src=A, q_sport=pa)), icmp_error_out2in=1, out2in=1)
    # time exceeded from the router U on the way, quoting only 8 bytes of UDP (no whole transport packet)
    e = from_net(icmp_err(U, P, bytes(seen_by_i)[:28], 11, 0))
    p.fwd(e, to_t1(xl_err(ip4_of(e), dst=A, q_src=A, q_sport=pa, full=seen_by_i)), icmp_error_out2in=1, out2in=1)
    # TCP SYN, time exceeded from U quoting the whole segment (20 + 20 bytes): the quoted TCP checksum is updated
    syn = from_t1(IP(src=A, dst=I, ttl=2) / TCP(sport=pa + 1, dport=80, flags="S", seq=1000, window=1024))
    p.fwd(syn, out_of(syn, src=P), NEW())
    q_syn = xl(ip4_of(syn), src=P)
    e = from_net(icmp_err(U, P, q_syn, 11, 0))
    p.fwd(e, to_t1(xl_err(ip4_of(e), dst=A, q_src=A, q_sport=pa + 1)), icmp_error_out2in=1, out2in=1)
    # an echo request and a host unreachable about it (identifier translated in the quote)
    ping = from_t1(IP(src=A, dst=I2) / ICMP(type=8, id=pa + 2, seq=3) / payload(16))
    p.fwd(ping, out_of(ping, src=P), NEW())
    e = from_net(icmp_err(U, P, xl(ip4_of(ping), src=P), 3, 1))
    p.fwd(e, to_t1(xl_err(ip4_of(e), dst=A, q_src=A, q_id=pa + 2)), icmp_error_out2in=1, out2in=1)
    # inside -> outside: I sends to A's mapping, A answers port unreachable quoting what it received
    q3 = udp_out(A, pa + 3, I, 53)
    p.fwd(q3, out_of(q3, src=P), NEW())
    a3 = udp_in(I, 53, pa + 3, n=16)
    p.fwd(a3, in_to(a3, dst=A), out2in=1)
    got_by_a = xl(ip4_of(a3), dst=A)
    e = from_t1(icmp_err(A, I, got_by_a, 3, 3))
    p.fwd(e, to_net(xl_err(ip4_of(e), src=P, q_dst=P, q_dport=pa + 3)), icmp_error_in2out=1, in2out=1)
    run_plan(c, r, p)


# ---------------------------------------------------------------------------------------------------------------
# Tenants, statics, fragments

@case("nat-two-tenants", workers=(1, 2))
def nat_two_tenants(c):
    """Two tenants with the same private address and port to one server: distinct public ports (the server tells
    them apart), each reply back to its own tenant."""
    nat = nat_section(tenants=[tenant(), tenant("t2")])
    r = nat_router(c, nat)
    pa = pres_port(c, "t1", A, 5000)
    qa = udp_out(A, pa, I, 53, seed=1)
    qb = udp_out(B, pa, I, 53, seed=2, frm=from_t2)
    first = learn(c, lambda c_: nat_router(c_, nat), [qa, qb])
    ports = {}
    for g in first:
        ip = Ether(g)[IP]
        ports[bytes(ip[UDP].payload)[:4]] = (ip.src, ip[UDP].sport)
    pka = ports.get(bytes(Ether(bytes(qa))[UDP].payload)[:4])
    pkb = ports.get(bytes(Ether(bytes(qb))[UDP].payload)[:4])
    if not c.check(pka and pkb, "first run: outputs %s" % ports):
        return
    c.check(pka[0] == P and pkb[0] == P and pka[1] != pkb[1], "public endpoints %s and %s" % (pka, pkb))
    p = Plan()
    # which of the two kept the port depends on the worker that serves them first; counters by what was seen
    for q, pk in ((qa, pka), (qb, pkb)):
        p.fwd(q, out_of(q, src=P, sport=pk[1]), NEW(preserved=pk[1] == pa, **SUB1))
    for i, (pk, to, h) in enumerate(((pka, to_t1, A), (pkb, to_t2, B))):
        a = udp_in(I, 53, pk[1], seed=10 + i)
        p.fwd(a, in_to(a, to=to, dst=h, dport=pa), out2in=1)
    run_plan(c, r, p)


@case("nat-static", workers=(1, 2))
def nat_static(c):
    """Static mappings: inbound to the public address:port reaches the inside host (TCP P:8080 -> A:80 inside the
    dynamic range: its block reserved; UDP P:53 -> A2:53 below the range); the inside host's own outbound flows
    from that port use the static public port."""
    st = [{"proto": "tcp", "inside": A + ":80", "public": P + ":8080"},
          {"proto": "udp", "inside": A2 + ":53", "public": P + ":53"}]
    r = nat_router(c, nat_section(tenants=[tenant(statics=st)]))
    p = Plan()
    t = Tcp(80, dst=I, dport=40000, pub=8080, cseq=300, sseq=9000)
    s = from_net(IP(src=I, dst=P) / TCP(sport=40000, dport=8080, flags="S", seq=9000))
    p.fwd(s, in_to(s, dst=A, dport=80), out2in=1, sessions_created=1, sessions_inbound=1, mappings_created=1,
          static_used=1)
    t.sn = 9001
    p.fwd(*t.c("SA"), in2out=1)
    p.fwd(*t.s("A"), out2in=1)
    # outbound from the static inside endpoint to another server: the static public port
    t2 = Tcp(80, dst=I2, dport=443, pub=8080, cseq=555)
    p.fwd(*t2.c("S"), in2out=1, sessions_created=1)
    p.fwd(*t2.s("SA"), out2in=1)
    u = udp_in(I, 5353, 53)
    p.fwd(u, in_to(u, dst=A2, dport=53), out2in=1, sessions_created=1, sessions_inbound=1, mappings_created=1,
          static_used=1)
    q = udp_out(A2, 53, I, 5353, seed=3)
    p.fwd(q, out_of(q, src=P, sport=53), in2out=1)
    # a dynamic flow of A from another port still gets a dynamic port (not 8080)
    q = udp_out(A, 8080, I, 53, seed=4)
    p.fwd(q, None, in2out=1, sessions_created=1, mappings_created=1, port_changed=1, **SUB1)

    def rest(frames):
        o = Ether(frames[0])[IP]
        c.check(o.src == P and o[UDP].sport != 8080 and o[UDP].sport >= 1024,
                "dynamic flow from port 8080 went out as %s:%d" % (o.src, o[UDP].sport))
    run_plan(c, r, p, rest=rest)


@case("nat-fragments", workers=(1, 2))
def nat_fragments(c):
    """A fragmented UDP datagram: the first fragment is translated with its ports (its checksum, which covers the
    whole datagram, updated), the later ones follow it (address only), in order and out of order."""
    r = nat_router(c)
    p = Plan()
    pa = pres_port(c, "t1", A, 5000)
    dg = IP(src=A, dst=I, id=0x4242) / UDP(sport=pa, dport=53) / payload(200, 5)
    out_dg = xl(dg, src=P)
    rg = [(0, 72), (72, 64), (136, 72)]
    for f, o in zip(ip4_frags(dg, rg, 0x4242), ip4_frags(out_dg, rg, 0x4242)):
        first = f.frag == 0
        p.fwd(from_t1(f), to_net(o), NEW(**SUB1) if first else {"in2out": 1, "frag_translated": 1})
    # the reply, fragmented, last fragment first is not possible for NAT (no ports): first, then the others
    rp = IP(src=I, dst=P, id=0x5151) / UDP(sport=53, dport=pa) / payload(300, 6)
    out_rp = xl(rp, dst=A)
    rg2 = [(0, 104), (104, 104), (208, 100)]
    for f, o in zip(ip4_frags(rp, rg2, 0x5151), ip4_frags(out_rp, rg2, 0x5151)):
        p.fwd(from_net(f), to_t1(o), out2in=1, **({} if f.frag == 0 else {"frag_translated": 1}))
    run_plan(c, r, p)
