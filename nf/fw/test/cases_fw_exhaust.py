# SPDX-License-Identifier: BSD-3-Clause
"""A full session table (sessions.max = 8, one worker): new flows refused and counted while the existing ones keep
flowing; with when_full = "evict-transitory" the oldest not-established session makes room, established ones
never do."""
from harness import case
from cases_fw_common import (IP, UDP, S4, I4, TcpConv, Plan, fw_router, run_plan, s2i, i2s, out_i, out_s, payload,
                             sessions, find_session, session_state)
from cases_fw_badinput import RULESETS, handshake


def udp_q(p, sport, seed=0, **cnt):
    q = s2i(IP(src=S4, dst=I4) / UDP(sport=sport, dport=53) / payload(16, seed))
    p.fwd((q, out_i(q)), **cnt)


def udp_a(p, sport, seed=0, **cnt):
    a = i2s(IP(src=I4, dst=S4) / UDP(sport=53, dport=sport) / payload(24, seed))
    p.fwd((a, out_s(a)), **cnt)


def udp_q_drop(p, sport, reason, **cnt):
    p.drop(s2i(IP(src=S4, dst=I4) / UDP(sport=sport, dport=53) / payload(16)), reason, **cnt)


@case("fw-full-refuse", group="badinput")
def fw_full_refuse(c):
    r = fw_router(c, RULESETS, sessions={"max": 8})
    p = Plan()
    flows = list(range(7001, 7009))
    for sp in flows:
        udp_q(p, sp, allowed_new=1)
    # table full: the 9th and 10th flows and a TCP SYN are refused
    udp_q_drop(p, 7009, "fw_session_full")
    udp_q_drop(p, 7010, "fw_session_full")
    t = TcpConv(41500, 80)
    p.drop(t.c("S"), "fw_session_full")
    # the 8 keep flowing both ways
    for sp in flows:
        udp_a(p, sp, allowed_session=1)
        udp_q(p, sp, 1, allowed_session=1)
    # still refused afterwards
    udp_q_drop(p, 7009, "fw_session_full")

    def after(r, fwc):
        rows_ = sessions(r)
        c.check(sorted(int(x["sport"]) for x in rows_) == flows, "sessions %s" % rows_)
        c.check(all(session_state(x) == "established" for x in rows_), "states %s" % [session_state(x) for x in rows_])
        c.check(fwc["sessions_refused_full"] == 4 and fwc["sessions_active"] == 8 and fwc["sessions_evicted"] == 0,
                "refused_full %d active %d evicted %d" % (fwc["sessions_refused_full"], fwc["sessions_active"],
                                                          fwc["sessions_evicted"]))
    run_plan(c, r, p, after)


@case("fw-full-evict", group="badinput")
def fw_full_evict(c):
    r = fw_router(c, RULESETS, sessions={"max": 8, "when_full": "evict-transitory"})
    p = Plan()
    est = [TcpConv(41600 + i, 80) for i in range(4)]
    for t in est:
        handshake(p, t)
    trans = [TcpConv(41610 + i, 80) for i in range(4)]
    for t in trans:
        p.fwd(t.c("S"), allowed_new=1)  # SYN_SENT: transitory
    # full: each new flow evicts the oldest transitory session: the 4 SYN_SENT ones, then the first new UDP one
    news = list(range(7101, 7106))
    for sp in news:
        udp_q(p, sp, allowed_new=1)
    # the evicted ones are gone
    p.drop(trans[0].c("A", ack=1), "fw_tcp_no_session")
    p.drop(i2s(IP(src=I4, dst=S4) / UDP(sport=53, dport=7101)), "fw_deny")
    # the rest get their answers: now nothing is transitory
    for sp in news[1:]:
        udp_a(p, sp, allowed_session=1)
    # the established sessions were never evicted
    for t in est:
        p.fwd(t.c("PA", 10), allowed_session=1)
        p.fwd(t.s("A"), allowed_session=1)
    # full with nothing transitory: refused
    udp_q_drop(p, 7106, "fw_session_full")
    p.drop(TcpConv(41620, 80).c("S"), "fw_session_full")

    def after(r, fwc):
        rows_ = sessions(r)
        for t in est:
            s = find_session(rows_, "tcp", t.sport, 80)
            c.check(len(s) == 1 and session_state(s[0]) == "established", "tcp %d: %s" % (t.sport, s))
        for t in trans:
            c.check(not find_session(rows_, "tcp", t.sport, 80), "tcp %d (transitory) not evicted" % t.sport)
        c.check(not find_session(rows_, "udp", 7101, 53), "udp 7101 (the oldest transitory) not evicted")
        for sp in news[1:]:
            s = find_session(rows_, "udp", sp, 53)
            c.check(len(s) == 1 and session_state(s[0]) == "established", "udp %d: %s" % (sp, s))
        c.check(len(rows_) == 8, "%d sessions" % len(rows_))
        c.check(fwc["sessions_evicted"] == 5 and fwc["sessions_refused_full"] == 2,
                "evicted %d refused_full %d" % (fwc["sessions_evicted"], fwc["sessions_refused_full"]))
    run_plan(c, r, p, after)
