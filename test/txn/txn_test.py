#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Transactional configuration tier: the real build/npsd with a steady stream of packets (net_pcap replaying a pcap
forever) through a route no candidate changes, driven by the real build/npsctl.

  txn_test.py DIR     run every step in DIR (npsd pid and EAL prefix files there for run.sh's clean-up)

One PASS/FAIL line per check; exit 0 when every check passed, 1 otherwise, 2 on a harness error.
"""
import json
import os
import signal
import subprocess
import sys
import time

import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, UDP, Ether, Raw, wrpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NPSD = os.environ.get("NPSD", os.path.join(REPO, "build", "npsd"))
NPSCTL = os.environ.get("NPSCTL", os.path.join(REPO, "build", "npsctl"))

R_A, R_B, H_A, GW_B = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:aa", "02:00:00:00:00:99"
failures = []


class Abort(Exception):
    pass


def check(cond, what, detail=""):
    print("%s  %s%s" % ("PASS" if cond else "FAIL", what, "" if cond or not detail else "\n      " + detail),
          flush=True)
    if not cond:
        failures.append(what)
    return cond


# ---- configuration files

def boot_sections(d):
    return """eal: { lcores = "0-1"; hugepages = "no"; memory_mb = 2048; file_prefix = "%s"; };
control: { socket = "%s"; mode = "0660"; };
devices = (
  { name = "p0"; vdev = "net_pcap0,rx_pcap=stream.pcap,infinite_rx=1,tx_pcap=/dev/null"; },
  { name = "p1"; vdev = "net_pcap1,rx_pcap=empty.pcap,tx_pcap=/dev/null"; }
);
""" % (d["prefix"], d["sock"])


IFACE_A = '{ name = "a"; device = "p0"; vrf = "main"; mac = "%s"; addresses = [ "10.0.0.1/24" ]; }' % R_A
IFACE_B = '{ name = "b"; device = "p1"; vrf = "main"; mac = "%s"; addresses = [ "10.0.1.1/24", "2001:db8:b::1/64" ]; }' \
    % R_B
STREAM_ROUTE = '{ vrf = "main"; prefix = "192.0.2.0/24"; via = "10.0.1.2"; }'
GW_NEIGH = '{ interface = "b"; ip = "10.0.1.2"; mac = "%s"; }' % GW_B


def conf(d, vrfs, interfaces, routes, neighbours, extra=""):
    return boot_sections(d) + "vrfs = ( %s );\ninterfaces = (\n  %s\n);\nroutes = (\n  %s\n);\n" \
        "neighbours = ( %s );\n%s" % (", ".join(vrfs), ",\n  ".join(interfaces), ",\n  ".join(routes),
                                       ", ".join(neighbours), extra)


def boot_conf(d):
    """The first running state: VRF main, a stream route, a VLAN interface and a route the candidate removes."""
    return conf(d, ['{ name = "main"; id = 0; }'],
                [IFACE_A, IFACE_B, '{ name = "b200"; device = "p1"; vlan = 200; vrf = "main"; '
                                   'addresses = [ "10.1.1.1/24" ]; }'],
                [STREAM_ROUTE, '{ vrf = "main"; prefix = "198.51.100.0/24"; via = "10.1.1.2"; }',
                 '{ vrf = "main"; prefix = "203.0.113.0/24"; blackhole = true; }'],
                [GW_NEIGH])


C1_ROUTES = [STREAM_ROUTE,
             '{ vrf = "main"; prefix = "100.64.0.0/10"; via = "10.0.1.2"; }',
             '{ vrf = "main"; prefix = "2001:db8:100::/48"; via = "2001:db8:b::2"; }',
             '{ vrf = "main"; prefix = "203.0.113.0/24"; reject = true; }',
             '{ vrf = "main"; prefix = "10.30.0.0/16"; target_vrf = "blue"; }',
             '{ vrf = "blue"; prefix = "10.30.0.0/16"; via = "10.3.0.2"; }',
             '{ vrf = "blue"; prefix = "0.0.0.0/0"; target_vrf = "main"; }']
N_BULK = 1000  # routes of the candidate's route file: a commit long enough for thousands of packets to cross it


def c1_conf(d, extra_route=None):
    """The candidate: new VRF blue with an interface, routes and a neighbour; one route replaced, one added, one
    removed; interface b200 removed; b's MTU lowered; 1000 more routes from a route file."""
    routes = C1_ROUTES + ([extra_route] if extra_route else [])
    return conf(d, ['{ name = "main"; id = 0; }', '{ name = "blue"; id = 7; fib = "compact"; max_routes = 1024; }'],
                [IFACE_A, IFACE_B.replace("addresses", "mtu = 1400; addresses"),
                 '{ name = "c300"; device = "p1"; vlan = 300; vrf = "blue"; addresses = [ "10.3.0.1/24" ]; }'],
                routes, [GW_NEIGH, '{ interface = "c300"; ip = "10.3.0.2"; mac = "02:00:00:00:03:02"; }'],
                'route_file = "bulk.routes";\n')


# ---- the daemon

class Npsd:
    def __init__(self, d, conf_path, tag):
        self.d, self.conf_path, self.tag = d, conf_path, tag
        self.log_path = os.path.join(d["dir"], "npsd-%s.log" % tag)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([NPSD, "-c", os.path.basename(self.conf_path)], cwd=self.d["dir"],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with open(os.path.join(self.d["dir"], "npsd.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        deadline = time.time() + 60  # generous: the host may be busy with other DPDK processes
        while self.ctl("version")["status"] != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                raise Abort("npsd (%s) did not start:\n%s" % (self.tag, self.log_text()))
            time.sleep(0.1)
        return self

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def ctl(self, *words):
        p = subprocess.run([NPSCTL, "-s", self.d["sock"], "--json", "--timeout", "60000"] + list(words),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=70)
        try:
            return json.loads(p.stdout.decode())
        except ValueError:
            return {"status": -1, "error": "no JSON reply: %r %r" % (p.stdout, p.stderr), "data": {}}

    def ok(self, *words):
        j = self.ctl(*words)
        if j["status"] != 0:
            raise Abort("npsctl %s: %s" % (" ".join(words), j.get("error")))
        return j

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "none: killed after 60 s"
        self.log.close()
        os.unlink(os.path.join(self.d["dir"], "npsd.pid"))
        return rc


def snapshot(n):
    """The state a configuration decides, in a form that does not depend on interface ids or ages."""
    g = lambda what: n.ok("show", what)["data"][what]  # noqa: E731
    return {
        "interfaces": sorted(g("interfaces"), key=lambda x: x["name"]),
        "vrfs": sorted(g("vrfs"), key=lambda x: x["name"]),
        "routes": sorted(g("routes"), key=lambda x: (x["vrf"], x["prefix"])),
        "neighbours": sorted((x["interface"], x["ip"], x["mac"]) for x in g("neighbours") if x["state"] == "static"),
    }


def first_difference(a, b):
    for k in a:
        if a[k] != b[k]:
            extra = [x for x in b[k] if x not in a[k]][:3]
            missing = [x for x in a[k] if x not in b[k]][:3]
            return "%s: missing %s, unexpected %s" % (k, missing, extra)
    return ""


def traffic(n):
    s = n.ok("show", "stats")["data"]
    ports = {p["port"]: p for p in s["ports"]}
    return {"tx": ports["p1"]["tx_packets"], "drops": {x["reason"]: x["packets"] for x in s["drops"] if x["packets"]},
            "totals": s["totals"][0]}


def check_traffic(before, after, what, n=None):
    # a busy shared host may stall the worker for a moment: flowing means it moves on within seconds
    deadline = time.time() + 10
    while n is not None and after["tx"] <= before["tx"] and time.time() < deadline:
        time.sleep(0.05)
        after = traffic(n)
    check(after["tx"] > before["tx"], "%s: the stream kept flowing (%d packets forwarded across it)"
          % (what, after["tx"] - before["tx"]), "p1 tx %d -> %d" % (before["tx"], after["tx"]))
    check(after["drops"] == before["drops"], "%s: no packet dropped" % what,
          "drops %s -> %s" % (before["drops"], after["drops"]))


def operator_routes(snap):
    return {(r["vrf"], r["prefix"]): (r["type"], r["via"], r["dev"], r["target_vrf"]) for r in snap["routes"]
            if r["type"] not in ("local", "broadcast", "neighbour", "connected")}


def write(d, name, text):
    path = os.path.join(d["dir"], name)
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- the steps

def invalid_candidates(d, n, s0):
    cases = [
        ("bad syntax", boot_conf(d).replace('vrfs = (', 'vrfs = (('), ["nothing changed", "bad-syntax.conf:"]),
        ("unknown VRF reference", c1_conf(d).replace('vrf = "blue"; addresses', 'vrf = "green"; addresses'),
         ["nothing changed", "unknown vrf green"]),
        ("route failing at apply time (gateway on no connected subnet)",
         c1_conf(d, '{ vrf = "blue"; prefix = "10.99.0.0/16"; via = "10.77.0.1"; }'),
         ["nothing changed: step", "route add vrf blue prefix 10.99.0.0/16 via 10.77.0.1",
          "not on a connected subnet"]),
        ("recreated interface then a failing route (undo of deletions)",
         boot_conf(d).replace("vlan = 200;", "vlan = 201;").replace(
             STREAM_ROUTE, STREAM_ROUTE + ', { vrf = "main"; prefix = "10.0.1.0/24"; blackhole = true; }'),
         ["nothing changed: step 6/7", "route 10.0.1.0/24 exists"]),
        ("boot-only change (limits)", c1_conf(d).replace("control:", "limits: { mbufs = 32768; };\ncontrol:"),
         ["needs a restart", "limits.mbufs"]),
        ("boot-only change (devices)", c1_conf(d).replace('empty.pcap,tx_pcap=/dev/null"; }',
                                                          'empty.pcap,tx_pcap=/dev/null"; mtu = 9000; }'),
         ["needs a restart", "devices[1].mtu"]),
    ]
    for what, text, needles in cases:
        path = write(d, what.split(" (")[0].replace(" ", "-") + ".conf", text)
        t0 = traffic(n)
        j = n.ctl("config", "commit", "file", path)
        err = j.get("error") or ""
        check(j["status"] != 0 and all(x in err for x in needles), "invalid candidate refused: %s" % what,
              "status %s, error %r (expected %s)" % (j["status"], err, needles))
        s = snapshot(n)
        check(s == s0, "invalid candidate changed nothing: %s" % what, first_difference(s0, s))
        check_traffic(t0, traffic(n), "invalid candidate " + what, n)
    # the failing one is planned, so diff lists what a commit would have tried
    j = n.ok("config", "diff", "file", os.path.join(d["dir"], "route-failing-at-apply-time.conf"))
    ops = [x["operation"] for x in j["data"]["operations"]]
    check(len(ops) > 3 and ops[0].startswith("vrf add name blue") and any("10.99.0.0/16" in x for x in ops),
          "config diff lists the planned operations of a candidate that fails later", "%s" % ops[:5])


def commit_under_traffic(d, n, s0):
    c1 = write(d, "c1.conf", c1_conf(d))
    ops = [x["operation"] for x in n.ok("config", "diff", "file", c1)["data"]["operations"]]
    check(ops[:3] == ["vrf add name blue id 7 fib compact max_routes 1024",
                      "interface add name c300 device p1 vrf blue vlan 300 mtu 1500",
                      "address add interface c300 prefix 10.3.0.1/24"]
          and ops[-4:] == ["route del vrf main prefix 198.51.100.0/24", "address del interface b200 prefix 10.1.1.1/24",
                           "interface set name b mtu 1400", "interface del name b200"]
          and "route replace vrf main prefix 203.0.113.0/24 type reject (was type blackhole)" in ops,
          "config diff: additions first (VRF, interface, address...), deletions last, in dependency order",
          "\n      ".join(ops[:6] + ["..."] + ops[-6:]))
    check(not any("192.0.2.0/24" in x for x in ops), "config diff: nothing touches the unchanged stream route")
    t0 = traffic(n)
    j = n.ok("config", "commit", "file", c1)
    t1 = traffic(n)
    check(j.get("message", "").startswith("committed: %d operation(s)" % len(ops)), "commit applies the plan",
          j.get("message"))
    print("      (%s)" % j.get("message", "").strip())
    check_traffic(t0, t1, "commit", n)
    s1 = snapshot(n)
    routes = operator_routes(s1)
    want = {("main", "192.0.2.0/24"): ("via", "10.0.1.2", "b", ""),
            ("main", "100.64.0.0/10"): ("via", "10.0.1.2", "b", ""),
            ("main", "2001:db8:100::/48"): ("via", "2001:db8:b::2", "b", ""),
            ("main", "203.0.113.0/24"): ("reject", "", "", ""),
            ("main", "10.30.0.0/16"): ("vrf", "", "", "blue"),
            ("blue", "10.30.0.0/16"): ("via", "10.3.0.2", "c300", ""),
            ("blue", "0.0.0.0/0"): ("vrf", "", "", "main")}
    bulk = {k: v for k, v in routes.items() if k[1].startswith("10.200.")}
    rest = {k: v for k, v in routes.items() if k not in bulk}
    check(rest == want and len(bulk) == N_BULK, "the committed routes are exactly the candidate's",
          "got %s and %d bulk routes" % (sorted(rest.items()), len(bulk)))
    ifs = {i["name"]: i for i in s1["interfaces"]}
    check(sorted(ifs) == ["a", "b", "c300"] and ifs["c300"]["vrf"] == "blue" and ifs["c300"]["vlan"] == 300
          and ifs["b"]["mtu"] == 1400, "new interface present, removed one gone, MTU changed", str(sorted(ifs)))
    check([v["name"] for v in s1["vrfs"]] == ["blue", "main"] and s1["vrfs"][0]["fib"] == "compact",
          "new VRF present")
    check(("c300", "10.3.0.2", "02:00:00:00:03:02") in s1["neighbours"], "new static neighbour present")
    return s1


def rollbacks(d, n, s0, s1):
    t0 = traffic(n)
    j = n.ok("config", "rollback")
    s = snapshot(n)
    check(s == s0, "rollback restores exactly the state before the commit", first_difference(s0, s))
    check_traffic(t0, traffic(n), "rollback", n)
    print("      (%s)" % j.get("message", "").strip())
    n.ok("config", "rollback")
    s = snapshot(n)
    check(s == s1, "a second rollback goes forward again", first_difference(s1, s))


def save_and_boot(d, n, s1):
    saved = os.path.join(d["dir"], "saved.conf")
    j = n.ctl("config", "save", "file", "relative.conf")
    check(j["status"] != 0 and "absolute" in (j.get("error") or ""), "save refuses a relative path")
    n.ok("config", "save", "file", saved)
    p = subprocess.run([NPSD, "--check-config", saved], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(p.returncode == 0, "npsd --check-config accepts the saved file", p.stdout.decode())
    j = n.ok("config", "diff", "file", saved)
    check(j["data"]["operations"] == [], "diff of the saved file against the running state is empty",
          str(j["data"]["operations"][:3]))
    rc = n.stop()
    check(rc == 0, "first npsd stops cleanly", "exit status %s" % rc)
    n2 = Npsd(d, saved, "saved").start()
    s = snapshot(n2)
    check(s == s1, "npsd booted from the saved file has the same state", first_difference(s1, s))
    return n2, saved


def reloads(d, n, path):
    with open(path) as f:
        text = f.read()
    text = text.replace('{ vrf = "main"; prefix = "100.64.0.0/10"; via = "10.0.1.2"; dev = "b"; }',
                        '{ vrf = "main"; prefix = "172.16.0.0/12"; via = "10.0.1.2"; }')
    write(d, os.path.basename(path), text)
    n.ok("interface", "set", "name", "c300", "state", "down")
    t0 = traffic(n)
    j = n.ok("reload")
    s = snapshot(n)
    r = operator_routes(s)
    check([i["state"] for i in s["interfaces"] if i["name"] == "c300"] == ["down"],
          "a file does not manage interface state: reload keeps c300 down")
    j2 = n.ok("config", "save", "file", os.path.join(d["dir"], "down.conf"))
    check("1 interface(s) are down" in j2.get("message", ""), "save says a down interface boots up", j2.get("message"))
    n.ok("interface", "set", "name", "c300", "state", "up")
    check(("main", "172.16.0.0/12") in r and ("main", "100.64.0.0/10") not in r,
          "reload commits the edited boot file", j.get("message"))
    check_traffic(t0, traffic(n), "reload", n)
    text = text.replace('{ vrf = "main"; prefix = "172.16.0.0/12"; via = "10.0.1.2"; }',
                        '{ vrf = "main"; prefix = "172.32.0.0/16"; blackhole = true; }')
    write(d, os.path.basename(path), text)
    n.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline:
        r = operator_routes(snapshot(n))
        if ("main", "172.32.0.0/16") in r:
            break
        time.sleep(0.1)
    check(("main", "172.32.0.0/16") in r and ("main", "172.16.0.0/12") not in r, "SIGHUP reloads the boot file")
    check("SIGHUP: reloaded" in n.log_text(), "SIGHUP's outcome is logged", n.log_text()[-300:])
    with open(path, "w") as f:
        f.write(text.replace("vrfs = (", "vrfs = ( oops"))
    n.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "SIGHUP: reload of" not in n.log_text() and time.time() < deadline:
        time.sleep(0.1)
    check("SIGHUP: reload of" in n.log_text() and n.ctl("version")["status"] == 0,
          "SIGHUP with a broken boot file is refused and logged, npsd keeps running")


def main(argv):
    root = argv[1]
    d = {"dir": root, "sock": os.path.join(root, "npsd.sock"), "prefix": "nptxn%d" % os.getpid()}
    with open(os.path.join(root, "npsd.prefix"), "w") as f:
        f.write(d["prefix"] + "\n")
    stream = [Ether(src=H_A, dst=R_A) / IP(src="10.0.0.2", dst="192.0.2.%d" % (1 + i)) / UDP(sport=1000 + i,
                                                                                             dport=53) / Raw(b"x" * 64)
              for i in range(16)]
    wrpcap(os.path.join(root, "stream.pcap"), stream)
    wrpcap(os.path.join(root, "empty.pcap"), [], linktype=1)
    write(d, "bulk.routes", "".join("main 10.200.%d.%d/32 blackhole\n" % (i // 256, i % 256) for i in range(N_BULK)))
    n = Npsd(d, write(d, "boot.conf", boot_conf(d)), "boot").start()
    try:
        time.sleep(0.5)
        t = traffic(n)
        if not check(t["tx"] > 0 and not t["drops"], "the stream flows through 192.0.2.0/24 before any change",
                     str(t)):
            raise Abort("no traffic")
        s0 = snapshot(n)
        invalid_candidates(d, n, s0)
        s1 = commit_under_traffic(d, n, s0)
        rollbacks(d, n, s0, s1)
        n, saved = save_and_boot(d, n, s1)
        reloads(d, n, saved)
        rc = n.stop()
        check(rc == 0, "npsd stops cleanly", "exit status %s" % rc)
    except Abort as e:
        check(False, "harness", str(e))
        if n.proc and n.proc.poll() is None:
            n.proc.kill()
    print("txn tests: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
