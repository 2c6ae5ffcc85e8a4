#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The firewall's live cases: what needs packets after a control command, which the pcap tier (input read at
start-up) cannot do. npsd as in the pcap tier (nf/fw/test/cases_fw_*.py topology, transmit to pcap files) but
receiving from veths (test/visibility/vtopo.py's VRouter): the test sends frames, runs a command, sends more.

  fw_live.py [CASE...]     needs root (veth pairs); NPSGW_BUILD=DIR runs DIR/npsd and DIR/npsctl (default build)

Cases:
  revalidate-deny   on_rule_change = "revalidate": a replace that denies a live flow removes its session on its next
                    packet (fw_revalidate_denied), the flow is not forwarded any more
  revalidate-pass   the same when the new rules `pass` the flow: the packet is forwarded, the session goes
  bad-flags-session impossible TCP flags on a live session: dropped before lookup (fw_tcp_bad_flags only)
  log               log = true: records written up to log_rate per second, the rest counted as rate limited, and
                    each record delivered as a "firewall" event to a `subscribe events firewall` client
One PASS/FAIL line per case; exit 1 when one failed.
"""
import json
import os
import socket
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("NPSGW_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(REPO, BUILD)
os.environ.setdefault("NPSD", os.path.join(BUILD, "npsd"))
os.environ.setdefault("NPSCTL", os.path.join(BUILD, "npsctl"))
os.environ.setdefault("NPSGW_VIS_TAG", "fl%d" % (os.getpid() % 100000))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "test", "visibility"))
sys.path.insert(0, HERE)

import vtopo  # noqa: E402  (puts test/pcap on the path, imports harness)
from vtopo import VRouter, veths_create, veths_delete  # noqa: E402
import harness  # noqa: E402
from harness import Case, CaseFail  # noqa: E402
from topo import std_interfaces, STD_ROUTES, STD_NEIGHBOURS  # noqa: E402
from cases_fw_common import (IP, UDP, S4, I4, TcpConv, s2i, i2s, payload, fw_section, fw_counters, sessions, find_session,  # noqa
                             EXTRA_NEIGHBOURS)
from cases_fw_badinput import RULESETS  # noqa: E402

DEVICES = ["p0", "p1"]


def router(c, rulesets, **top):
    r = VRouter(c, workers=1, vrfs=[{"name": "main", "id": 0}], interfaces=std_interfaces(), routes=STD_ROUTES,
                neighbours=STD_NEIGHBOURS + EXTRA_NEIGHBOURS, extra_conf=fw_section(rulesets, **top))
    r.start()
    return r


def query(sport, seed=0):
    return s2i(IP(src=S4, dst=I4) / UDP(sport=sport, dport=53) / payload(20, seed))


def reply(sport, seed=0):
    return i2s(IP(src=I4, dst=S4) / UDP(sport=53, dport=sport) / payload(20, seed))


def drops(r):
    return r.stats()["drops"]


def replace(c, r, text):
    path = os.path.join(c.dir, "ruleset-%d.conf" % time.monotonic_ns())
    with open(path, "w") as f:
        f.write(text + "\n")
    r.ctl_ok("fw", "ruleset", "replace", "file", path)


def revalidate(c, new_rules, expect_pass):
    """A UDP flow allowed by the policy; the rule set replaced by one with new_rules (default deny); the flow's next
    query is denied (expect_pass False) or passed statelessly."""
    r = router(c, RULESETS, on_rule_change="revalidate")
    r.send([query(5300), reply(5300)])
    fwc = fw_counters(r)
    c.check(fwc["allowed_new"] == 1 and fwc["allowed_session"] == 1, "before: %s" % fwc)
    c.check(len(find_session(sessions(r), "udp", 5300, 53)) == 1, "no session before the replace")
    replace(c, r, 'vrf = "main"; default = "deny"; rules = ( %s );' % new_rules)
    r.send([query(5300, 1)])
    fwc = fw_counters(r)
    d = drops(r)
    c.check(fwc["revalidated"] == 1, "revalidated %d, expected 1" % fwc["revalidated"])
    c.check(find_session(sessions(r), "udp", 5300, 53) == [], "the session is still there: %s" % sessions(r))
    c.check(fwc["sessions_deleted"] == 1, "sessions_deleted %d" % fwc["sessions_deleted"])
    if expect_pass:
        c.check(d.get("fw_revalidate_denied", 0) == 0, "dropped: %s" % d)
        c.check(fwc["passed_stateless"] == 1, "passed_stateless %d, expected 1" % fwc["passed_stateless"])
        c.check(fwc["allowed_session"] == 1, "allowed_session %d (the session passed it)" % fwc["allowed_session"])
        # stateless from now on: the reply has no session and no rule
        r.send([reply(5300, 1)])
        c.check(drops(r).get("fw_deny", 0) == 1, "the reply after the pass: drops %s" % drops(r))
    else:
        c.check(d.get("fw_revalidate_denied", 0) == 1, "fw_revalidate_denied: drops %s" % d)
        c.check(fwc["allowed_session"] == 1, "allowed_session %d" % fwc["allowed_session"])
        # later packets are new flows for the new rules: denied by the rule
        r.send([query(5300, 2)])
        c.check(drops(r).get("fw_deny", 0) == 1, "the next query: drops %s" % drops(r))
    r.stop()
    n_out = len(r.outputs["p0"])
    c.check(n_out == (3 if expect_pass else 2), "%d frames sent on p0" % n_out)


def case_revalidate_deny(c):
    revalidate(c, '{ name = "no-dns"; action = "deny"; proto = "udp"; dport = 53; }', False)


def case_revalidate_pass(c):
    revalidate(c, '{ name = "dns-stateless"; action = "pass"; proto = "udp"; dport = 53; from = "site"; }', True)


class Subscriber:
    """A control-socket client subscribed to events (framing as in docs/CONTROL.md: "NPSGW/1 <status|EVENT> <len>")."""

    def __init__(self, path, words):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.s.sendall((words + "\n").encode())
        kind, status, body = self.frame()
        if kind != "reply" or status != 0:
            raise CaseFail("%s: %s %s %r" % (words, kind, status, body))

    def frame(self, timeout=5):
        deadline = time.time() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                head = self.buf[:nl].decode().split(" ")
                n = int(head[2])
                if len(self.buf) >= nl + 1 + n:
                    body = self.buf[nl + 1:nl + 1 + n]
                    self.buf = self.buf[nl + 1 + n:]
                    return ("event", None, body) if head[1] == "EVENT" else ("reply", int(head[1]), body)
            left = deadline - time.time()
            if left <= 0:
                return None, None, None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None, None, None
            if not data:
                raise CaseFail("subscriber connection closed")
            self.buf += data

    def events(self, n, timeout=5):
        got = []
        while len(got) < n:
            kind, _, body = self.frame(timeout)
            if kind is None:
                break
            if kind == "event":
                got.append(json.loads(body))
        return got


def case_log(c):
    rs = [dict(RULESETS[0], rules=[{"name": "dns-log", "action": "allow", "proto": "udp", "dport": 53,
                                   "log": True}])]
    r = router(c, rs, log_rate=2)
    sub = Subscriber(r.sock, "subscribe events firewall --json")
    # 6 new flows within well under a second: 2 records (the bucket holds one second's worth), 4 rate limited
    r.send([query(5400 + i) for i in range(6)])
    fwc = fw_counters(r)
    c.check(fwc["allowed_new"] == 6, "allowed_new %d" % fwc["allowed_new"])
    c.check(fwc["log_written"] == 2 and fwc["log_rate_limited"] == 4,
            "log_written %d log_rate_limited %d, expected 2 and 4" % (fwc["log_written"], fwc["log_rate_limited"]))
    ev = sub.events(2)
    c.check(len(ev) == 2, "%d firewall events, expected 2: %s" % (len(ev), ev))
    ports = []
    for e in ev:
        text = json.dumps(e)
        c.check("firewall" in text and '"dns-log"' in text and S4 in text and I4 in text, "event %s" % text)
        ports += [p for p in range(5400, 5406) if '"%d"' % p in text or ": %d" % p in text]
    c.check(sorted(ports) == [5400, 5401], "events for source ports %s, expected the first two flows: %s"
            % (ports, ev))
    c.check(sub.events(1, timeout=1) == [], "more than 2 events")
    # session packets are never logged
    r.send([reply(5400)])
    c.check(fw_counters(r)["log_written"] == 2, "a session packet was logged")
    r.stop()


def case_bad_flags_session(c):
    """Impossible TCP flags on an established session (a later burst: the session is found by the lookup) are
    dropped before any lookup, like those of no session: fw_tcp_bad_flags, the tracker never sees them."""
    r = router(c, RULESETS)
    t = TcpConv(41800, 80)
    r.send([f for f, _ in t.handshake()])
    bad = [t.c(f, seq=t.cnext)[0] for f in ("SF", "SR", "", "FPU", "F")]
    r.send(bad)
    fwc = fw_counters(r)
    c.check(drops(r).get("fw_tcp_bad_flags", 0) == 5, "drops %s" % {k: v for k, v in drops(r).items() if v})
    c.check(fwc["tcp_invalid_flags"] == 0, "the tracker saw %d invalid flags" % fwc["tcp_invalid_flags"])
    r.send([t.c("PA", 10)[0], t.s("A")[0]])
    c.check(fw_counters(r)["allowed_session"] == 4, "the session after: %s" % fw_counters(r))
    r.stop()


CASES = {"revalidate-deny": case_revalidate_deny, "revalidate-pass": case_revalidate_pass, "log": case_log,
         "bad-flags-session": case_bad_flags_session}


def main(argv):
    if os.getuid() != 0:
        print("fw_live.py: needs root (veth pairs)", file=sys.stderr)
        return 2
    names = argv or list(CASES)
    root = tempfile.mkdtemp(prefix="npsgw-fwlive.")
    failed = 0
    veths_create(DEVICES, 1)
    try:
        for name in names:
            c = Case(name, 1, root)
            t0 = time.time()
            err = None
            try:
                CASES[name](c)
            except CaseFail as e:
                err = str(e)
            except Exception:
                err = "harness exception:\n" + traceback.format_exc()
            finally:
                for r in c.routers:
                    r.kill()
            if err:
                c.failures.append(err)
            print("%-5s %-30s %.1fs" % ("FAIL" if c.failures else "PASS", name, time.time() - t0))
            for f in c.failures:
                print("  - " + f.replace("\n", "\n    "))
            failed += bool(c.failures)
    finally:
        veths_delete(DEVICES, 1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
