#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Telemetry tier: one npsd on pcap devices, then the same counters read three ways must agree, and control-socket
subscribers must get their events.

  check.py DIR     run in DIR (created by run.sh, which also cleans up); exit 0 = pass, 1 = fail, 2 = setup error

1. npsd forwards, answers and drops frames from pcap files (two VRFs, a VLAN sub-interface).
2. `npsctl --json show stats`, DPDK telemetry through /usr/bin/dpdk-telemetry.py (commands on stdin) and a
   Prometheus scrape of /metrics (urllib) return the same values. Packet, byte, drop and control counters must be
   equal; calls and cycles of nodes that poll all the time only grow, so they must lie between the npsctl reads
   taken before and after.
3. A subscriber gets config events for route and neighbour changes and neighbour events for a static neighbour
   added and deleted; an unsubscribed connection gets nothing; the HTTP endpoint answers 404 and 405 properly.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NPSD = os.environ.get("NPSD", os.path.join(REPO, "build", "npsd"))
NPSCTL = os.environ.get("NPSCTL", os.path.join(REPO, "build", "npsctl"))
TELEMETRY = "/usr/bin/dpdk-telemetry.py"

R_A, R_B, R_C = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:02:00"
H_A, GW_B, H_C = "02:00:00:00:00:aa", "02:00:00:00:00:99", "02:00:00:00:02:99"

N_VLANS = 600  # idle sub-interfaces, so that /npsgw/interfaces comes in pages
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


class SetupError(Exception):
    pass


# ---- frames and pcap files: the byte-level helpers of the pcap tier ----

sys.path.insert(0, os.path.join(REPO, "test", "pcap"))
from harness import csum, eth_hdr  # noqa: E402


def ip4(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(src, dst, n):
    return ip4(src, dst, 17, struct.pack("!HHHH", 1234, 5678, 8 + n, 0) + bytes(n))


def echo(src, dst, ident):
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"telemetry"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return ip4(src, dst, 1, icmp)


def eth(dst, src, l3, vlan=None):
    return eth_hdr(dst, src, 0x0800, vlan) + l3


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)


def traffic():
    """Frames for p0 and p1, and how many in all."""
    p0 = [eth(R_A, H_A, udp("10.0.0.2", "192.0.2.%d" % (i + 1), 100 + i)) for i in range(20)]  # forwarded to b
    p0 += [eth(R_A, H_A, echo("10.0.0.2", "10.0.0.1", i)) for i in range(5)]  # answered
    p0 += [eth(R_A, H_A, udp("10.0.0.2", "203.0.113.9", 10)) for _ in range(3)]  # no route: ICMP unreachable
    p0 += [eth(R_A, "02:00:00:00:00:bb", udp("10.0.0.2", "192.0.2.1", 10), vlan=999)]  # unknown VLAN
    p1 = [eth(R_C, H_C, echo("10.2.0.2", "10.2.0.1", i), vlan=200) for i in range(4)]  # tenant VRF blue
    p1 += [eth(R_C, H_C, udp("10.2.0.2", "10.2.9.9", 10), vlan=200) for _ in range(2)]  # blackhole in blue
    return p0, p1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def conf_text(d, prefix, port):
    dev = 'net_pcap%d,rx_pcap=in-%s.pcap,tx_pcap=out-%s.pcap'
    return "\n".join([
        'eal: { lcores = "0-1"; hugepages = "no"; memory_mb = 2048; file_prefix = "%s"; };' % prefix,
        'control: { socket = "%s/npsd.sock"; mode = "0600"; };' % d,
        'metrics: { listen = "127.0.0.1:%d"; interval_ms = 500; };' % port,
        'devices = ( { name = "p0"; vdev = "%s"; }, { name = "p1"; vdev = "%s"; } );'
        % (dev % (0, "p0", "p0"), dev % (1, "p1", "p1")),
        'vrfs = ( { name = "main"; id = 0; }, { name = "blue"; id = 1; fib = "compact"; } );',
        'interfaces = (',
        '  { name = "a"; device = "p0"; vrf = "main"; mac = "%s"; addresses = [ "10.0.0.1/24" ]; },' % R_A,
        '  { name = "b"; device = "p1"; vrf = "main"; mac = "%s"; addresses = [ "10.0.1.1/24" ]; },' % R_B,
        '  { name = "c.200"; device = "p1"; vlan = 200; vrf = "blue"; mac = "%s"; addresses = [ "10.2.0.1/24" ]; }'
        % R_C,
        "".join(',\n  { name = "v%d"; device = "p0"; vlan = %d; vrf = "blue"; }' % (i, 1000 + i)
                for i in range(N_VLANS)),
        ');',
        'routes = ( { vrf = "main"; prefix = "192.0.2.0/24"; via = "10.0.1.2"; },',
        '           { vrf = "blue"; prefix = "10.2.9.0/24"; blackhole = true; } );',
        'neighbours = ( { interface = "a"; ip = "10.0.0.2"; mac = "%s"; },' % H_A,
        '               { interface = "b"; ip = "10.0.1.2"; mac = "%s"; },' % GW_B,
        '               { interface = "c.200"; ip = "10.2.0.2"; mac = "%s"; } );' % H_C,
        ""])


# ---- the three readers ----

class Npsd:
    def __init__(self, d):
        self.dir = d
        self.sock = os.path.join(d, "npsd.sock")
        self.prefix = "nptel%d" % os.getpid()
        self.port = free_port()
        self.proc = None

    def start(self):
        p0, p1 = traffic()
        write_pcap(os.path.join(self.dir, "in-p0.pcap"), p0)
        write_pcap(os.path.join(self.dir, "in-p1.pcap"), p1)
        self.n_input = len(p0) + len(p1)
        conf = os.path.join(self.dir, "npsd.conf")
        with open(conf, "w") as f:
            f.write(conf_text(self.dir, self.prefix, self.port))
        with open(os.path.join(self.dir, "npsd.prefix"), "w") as f:
            f.write(self.prefix + "\n")
        self.log = open(os.path.join(self.dir, "npsd.log"), "w")
        self.proc = subprocess.Popen([NPSD, "-c", conf], cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "npsd.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        deadline = time.time() + 30
        while self.ctl_raw(["version"])[0] != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                raise SetupError("npsd did not start:\n" + self.log_text())
            time.sleep(0.1)

    def log_text(self):
        with open(os.path.join(self.dir, "npsd.log")) as f:
            return f.read()[-3000:]

    def ctl_raw(self, words):
        p = subprocess.run([NPSCTL, "-s", self.sock, "--json"] + words, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def ctl(self, *words):
        rc, out, err = self.ctl_raw(list(words))
        if rc != 0:
            raise SetupError("npsctl %s: exit %d: %s %s" % (" ".join(words), rc, out, err))
        return json.loads(out)["data"]

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("npsd did not stop within 20 s of SIGTERM")
            return
        if rc != 0:
            fail("npsd exit status %d after SIGTERM:\n%s" % (rc, self.log_text()))


def telemetry(prefix, cmds):
    """Run dpdk-telemetry.py non-interactively: one command a line on stdin, one JSON reply a line on stdout."""
    p = subprocess.run(["/usr/bin/python3", TELEMETRY, "-f", prefix], input="\n".join(cmds) + "\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    replies = [json.loads(line) for line in p.stdout.splitlines() if line.strip().startswith("{")]
    if p.returncode != 0 or len(replies) != len(cmds) or \
            any(list(r) != [c.split(",")[0]] for r, c in zip(replies, cmds)):
        raise SetupError("dpdk-telemetry.py exit %d, replies do not match %s:\n%s\n%s" % (p.returncode, cmds,
                                                                                       p.stdout, p.stderr))
    return [r[c.split(",")[0]] for r, c in zip(replies, cmds)]


def http_get(port, path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """{(name, frozenset(labels)): value}; checks text format 0.0.4: HELP and TYPE before each family's samples."""
    samples, typed, helped, seen_families = {}, {}, set(), []
    if not text.endswith("\n"):
        fail("exposition does not end with a newline")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if typ not in ("counter", "gauge"):
                fail("unexpected type %r" % line)
            if name in typed:
                fail("family %s typed twice" % name)
            typed[name] = typ
            seen_families.append(name)
            continue
        m = SAMPLE.match(line)
        if not m:
            fail("malformed sample line %r" % line)
            continue
        name, labels = m.group(1), {}
        if m.group(3):
            pos, raw = 0, m.group(3)
            while pos < len(raw):
                lm = LABEL.match(raw, pos)
                if not lm:
                    fail("malformed labels in %r" % line)
                    break
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        if not seen_families or seen_families[-1] != name:
            fail("sample %s outside its family's block (TYPE line first)" % name)
        if name not in helped:
            fail("sample %s without HELP" % name)
        if typed.get(name) == "counter" and not name.endswith("_total"):
            fail("counter %s does not end in _total" % name)
        key = (name, frozenset(labels.items()))
        if key in samples:
            fail("duplicate sample %s %s" % (name, labels))
        samples[key] = float(m.group(4)) if "." in m.group(4) else int(m.group(4))
    return samples


def prom(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


# ---- comparisons ----

GROWING = ("calls", "cycles", "cycles_per_packet")  # nodes polled in every loop: only bounds hold


def stats_view(d):
    """npsctl show stats as {section: {row key: {column: value}}}."""
    v = {
        "ports": {r["port"]: r for r in d["ports"]},
        "nodes": {r["node"]: r for r in d["nodes"]},
        "drops": {r["reason"]: r["packets"] for r in d["drops"]},
        "control": {r["counter"]: r["value"] for r in d["control"]},
        "totals": d["totals"][0],
        "interfaces": {r["interface"]: r for r in d["interfaces"]},
        "vrfs": {r["vrf"]: r for r in d["vrfs"]},
    }
    return v


def exact_part(v):
    """Everything that must not move once traffic stopped (the growing node columns left out)."""
    nodes = {n: {k: x for k, x in r.items() if k not in GROWING} for n, r in v["nodes"].items()}
    return json.dumps(dict(v, nodes=nodes), sort_keys=True)


def check_value(what, got, s1, s2, growing=False):
    if growing:
        if got is None or not (s1 <= got <= s2):
            fail("%s = %s, expected between %s and %s (npsctl before and after)" % (what, got, s1, s2))
    elif got != s1:
        fail("%s = %s, npsctl says %s" % (what, got, s1))


def columns_to_rows(t, key):
    """A telemetry table (dict of columns) as {key value: row dict}."""
    return {t[key][i]: {c: t[c][i] for c in t if c != "next"} for i in range(len(t[key]))}


def telemetry_table(prefix, cmd, first):
    """All rows of a table, following "next" from page to page; also returns the number of pages."""
    page, pages, rows = first, 1, {}
    key = {"/npsgw/ports": "port", "/npsgw/nodes": "node", "/npsgw/interfaces": "interface", "/npsgw/vrfs": "vrf"}[cmd]
    while True:
        rows.update(columns_to_rows(page, key))
        if "next" not in page:
            return rows, pages
        page = telemetry(prefix, ["%s,%d" % (cmd, page["next"])])[0]
        pages += 1


def compare_telemetry(tel, s1, s2):
    for section, cmd in (("ports", "/npsgw/ports"), ("nodes", "/npsgw/nodes"), ("interfaces", "/npsgw/interfaces"),
                         ("vrfs", "/npsgw/vrfs")):
        rows, pages = tel[cmd]
        if cmd == "/npsgw/interfaces" and pages < 2:
            fail("%d interfaces came in %d telemetry page(s), expected paging" % (len(rows), pages))
        if set(rows) != set(s1[section]):
            fail("telemetry %s rows %s, npsctl has %s" % (cmd, sorted(rows), sorted(s1[section])))
            continue
        for name, row in s1[section].items():
            if set(rows[name]) != set(row):
                fail("telemetry %s %s columns %s, npsctl has %s" % (cmd, name, sorted(rows[name]), sorted(row)))
            for col, val in row.items():
                check_value("telemetry %s %s.%s" % (cmd, name, col), rows[name].get(col), val,
                            s2[section][name][col], section == "nodes" and col in GROWING)
    for section, cmd in (("drops", "/npsgw/drops"), ("control", "/npsgw/control"), ("totals", "/npsgw/totals")):
        if tel[cmd] != s1[section]:
            fail("telemetry %s = %s, npsctl says %s" % (cmd, tel[cmd], s1[section]))


def compare_prometheus(p, s1, s2):
    for name, row in s1["ports"].items():
        check_value("npsgw_port_link_up{port=%s}" % name, prom(p, "npsgw_port_link_up", port=name),
                    1 if row["link"] == "up" else 0, None)
        for col, val in row.items():
            if col not in ("port", "link"):
                check_value("port %s %s" % (name, col), prom(p, "npsgw_port_%s_total" % col, port=name), val, None)
    for name, row in s1["nodes"].items():
        for col in ("calls", "packets", "cycles"):
            check_value("node %s %s" % (name, col), prom(p, "npsgw_node_%s_total" % col, node=name), row[col],
                        s2["nodes"][name][col], col != "packets")
    for (metric, labels), val in p.items():
        lab = dict(labels)
        if metric.startswith("npsgw_node_") and lab["node"] not in s1["nodes"] and val != 0:
            fail("node %s has %s = %s in Prometheus but is not in show stats" % (lab["node"], metric, val))
    for reason, val in s1["drops"].items():
        check_value("drops %s" % reason, prom(p, "npsgw_drops_total", reason=reason), val, None)
    for counter, val in s1["control"].items():
        check_value("control %s" % counter, prom(p, "npsgw_control_total", counter=counter), val, None)
    names = {"rx": "received", "created": "created", "tx": "sent", "drops": "dropped", "punted": "punted",
             "absorbed": "absorbed", "express": "express"}
    for k, val in s1["totals"].items():
        check_value("totals %s" % k, prom(p, "npsgw_%s_packets_total" % names[k]), val, None)
    for name, row in s1["interfaces"].items():
        for col in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
            check_value("interface %s %s" % (name, col),
                        prom(p, "npsgw_interface_%s_total" % col, interface=name, vrf=row["vrf"], tenant=row["vrf"]),
                        row[col], None)
    for name, row in s1["vrfs"].items():
        for col in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
            check_value("vrf %s %s" % (name, col), prom(p, "npsgw_vrf_%s_total" % col, vrf=name), row[col], None)


# ---- events ----

class Subscriber:
    def __init__(self, path, words):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(5)
        self.buf = b""
        self.s.sendall((words + "\n").encode())
        kind, status, body = self.frame()
        if kind != "reply" or status != 0:
            raise SetupError("%s: %s %s %r" % (words, kind, status, body))
        self.reply = json.loads(body) if body.startswith(b"{") else body

    def frame(self, timeout=5):
        """("reply", status, body) or ("event", None, body); (None, None, None) on timeout."""
        deadline = time.time() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                head = self.buf[:nl].decode().split(" ")
                n = int(head[2])
                if len(self.buf) >= nl + 1 + n:
                    body = self.buf[nl + 1:nl + 1 + n]
                    self.buf = self.buf[nl + 1 + n:]
                    if head[0] != "NPSGW/1":
                        raise SetupError("bad frame header %r" % head)
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
                raise SetupError("subscriber connection closed")
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


def check_events(r):
    sub = Subscriber(r.sock, "subscribe events neighbour,config --json")
    if sub.reply["data"]["subscription"] != [{"events": "neighbour,config"}]:
        fail("subscribe reply %s" % sub.reply)
    quiet = Subscriber(r.sock, "version")
    r.ctl("route", "add", "vrf", "main", "prefix", "198.51.100.0/24", "via", "10.0.1.2")
    ev = sub.events(1)
    want = {"event": "config", "command": "route add",
            "args": {"vrf": "main", "prefix": "198.51.100.0/24", "via": "10.0.1.2"}}
    if len(ev) != 1 or {k: v for k, v in ev[0].items() if k != "time"} != want:
        fail("after route add: events %s, expected %s" % (ev, want))
    elif not (time.time() - 60 < ev[0]["time"] < time.time() + 1):
        fail("event time %s is not now" % ev[0]["time"])
    r.ctl("neighbour", "add", "interface", "a", "ip", "10.0.0.7", "mac", "02:00:00:00:00:77")
    ev = sorted(sub.events(2), key=lambda e: e["event"])
    exp_n = {"event": "neighbour", "interface": "a", "vrf": "main", "ip": "10.0.0.7", "state": "static",
             "mac": "02:00:00:00:00:77"}
    if len(ev) != 2 or ev[0]["event"] != "config" or ev[0]["command"] != "neighbour add" or \
            {k: v for k, v in ev[1].items() if k != "time"} != exp_n:
        fail("after neighbour add: events %s, expected a config event and %s" % (ev, exp_n))
    r.ctl("neighbour", "del", "interface", "a", "ip", "10.0.0.7")
    ev = [e for e in sub.events(2) if e["event"] == "neighbour"]
    if len(ev) != 1 or ev[0]["state"] != "deleted" or ev[0]["ip"] != "10.0.0.7":
        fail("after neighbour del: neighbour events %s, expected one 'deleted'" % ev)
    # a failed command changes nothing and says nothing
    rc, _, _ = r.ctl_raw(["route", "add", "vrf", "main", "prefix", "198.51.100.0/24", "via", "10.0.1.2"])
    if rc == 0:
        fail("adding an existing route succeeded")
    extra = sub.events(1, timeout=1)
    if extra:
        fail("events after a failed command: %s" % extra)
    if quiet.events(1, timeout=0.5):
        fail("a connection that did not subscribe got events")
    sub.s.sendall(b"unsubscribe\n")
    kind, status, _ = sub.frame()
    r.ctl("route", "del", "vrf", "main", "prefix", "198.51.100.0/24")
    if kind != "reply" or status != 0 or sub.events(1, timeout=1):
        fail("events after unsubscribe (reply %s %s)" % (kind, status))
    rc, out, _ = r.ctl_raw(["subscribe", "events", "link,bogus"])
    if rc != 1 or "bad events 'bogus'" not in out:
        fail("subscribe events link,bogus: exit %d %s" % (rc, out))


def check_http(port):
    status, headers, body = http_get(port, "/metrics")
    if status != 200 or headers.get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8":
        fail("GET /metrics: %s %s" % (status, headers.get("Content-Type")))
    status, _, _ = http_get(port, "/")
    if status != 404:
        fail("GET /: %s, expected 404" % status)
    status, headers, _ = http_get(port, "/metrics", method="POST")
    if status != 405 or "GET" not in (headers.get("Allow") or ""):
        fail("POST /metrics: %s (Allow %s), expected 405" % (status, headers.get("Allow")))


def check_telemetry_extras(prefix):
    one, nodes, page, nope, events, snap = telemetry(prefix, [
        "/npsgw/interface,c.200", "/npsgw/nodes", "/npsgw/nodes,2", "/npsgw/interface,nope", "/npsgw/events",
        "/npsgw/snapshot"])
    if not one or one.get("interface") != "c.200" or one.get("vrf") != "blue" or one.get("rx_packets") != 6:
        fail("/npsgw/interface,c.200 = %s" % one)
    if not page or page["node"] != nodes["node"][2:]:
        fail("/npsgw/nodes,2 = %s, expected the rows of /npsgw/nodes from the third on" % page)
    if nope is not None:
        fail("/npsgw/interface,nope = %s, expected null" % nope)
    if events is None or events.get("dropped") != 0:
        fail("/npsgw/events = %s" % events)
    if not snap or snap["seq"] < 1 or abs(snap["time_ms"] / 1000 - time.time()) > 60:
        fail("/npsgw/snapshot = %s" % snap)


def wait_idle(r, timeout=30):
    deadline = time.time() + timeout
    last, same = None, 0
    while time.time() < deadline:
        v = stats_view(r.ctl("show", "stats"))
        key = exact_part(v)
        if v["totals"]["rx"] >= r.n_input:
            same = same + 1 if key == last else 0
            if same >= 3:
                return
        last = key
        time.sleep(0.1)
    raise SetupError("input not consumed within %d s" % timeout)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    r = Npsd(sys.argv[1])
    try:
        r.start()
        wait_idle(r)
        cmds = ["/npsgw/ports", "/npsgw/nodes", "/npsgw/drops", "/npsgw/interfaces", "/npsgw/vrfs", "/npsgw/control",
                "/npsgw/totals"]
        for attempt in range(5):
            s1 = stats_view(r.ctl("show", "stats"))
            tel = dict(zip(cmds, telemetry(r.prefix, cmds)))
            for c in ("/npsgw/ports", "/npsgw/nodes", "/npsgw/interfaces", "/npsgw/vrfs"):
                tel[c] = telemetry_table(r.prefix, c, tel[c])
            status, _, text = http_get(r.port, "/metrics")
            s2 = stats_view(r.ctl("show", "stats"))
            if exact_part(s1) == exact_part(s2):
                break
            time.sleep(0.5)
        else:
            raise SetupError("counters never stood still")
        if status != 200:
            fail("GET /metrics: status %s" % status)
        if s1["totals"]["rx"] != r.n_input or s1["drops"]["no_route"] != 3 or s1["drops"]["blackhole"] != 2:
            fail("traffic not as sent: totals %s, drops no_route %d blackhole %d" % (
                s1["totals"], s1["drops"]["no_route"], s1["drops"]["blackhole"]))
        before = len(failures)
        compare_telemetry(tel, s1, s2)
        print("telemetry: %s" % ("agrees with npsctl" if len(failures) == before else "DIFFERS"))
        before = len(failures)
        compare_prometheus(parse_prometheus(text), s1, s2)
        print("prometheus: %s" % ("agrees with npsctl" if len(failures) == before else "DIFFERS"))
        before = len(failures)
        check_telemetry_extras(r.prefix)
        check_http(r.port)
        check_events(r)
        print("events, HTTP, telemetry extras: %s" % ("ok" if len(failures) == before else "FAILED"))
    except SetupError as e:
        fail(str(e))
    finally:
        r.stop()
    if failures:
        print("telemetry tier: %d problem(s)" % len(failures))
        return 1
    print("telemetry tier: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
