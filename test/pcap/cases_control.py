# SPDX-License-Identifier: BSD-3-Clause
"""Runtime changes over the control socket, malformed control requests, and configuration files npsd refuses."""
import os
import re
import socket
import subprocess
import time

from harness import case, CaseFail, NPSD, arp_frame
from topo import std_router


def rows(r, *words):
    d = r.ctl_ok(*words)
    return next(iter(d.values())) if len(d) == 1 else d


def find(rows_, **kv):
    return [x for x in rows_ if all(str(x.get(k)) == str(v) for k, v in kv.items())]


def ok(c, r, *words):
    j = r.ctl(*words)
    c.check(j["status"] == 0 and j["_exit"] == 0 and j["error"] is None,
            "'%s': status %s exit %s error %r (expected success)" % (" ".join(words), j["status"], j["_exit"],
                                                                      j["error"]))
    return j


def refused(c, r, status, needle, *words):
    """The request must fail with status and an error message containing needle; npsctl exits 1 and prints
    'npsctl: <message>' on stderr, in text mode as in JSON mode."""
    j = r.ctl(*words)
    what = "'%s'" % " ".join(words)
    c.check(j["status"] == status, "%s: status %s, expected %d (%r)" % (what, j["status"], status, j.get("error")))
    c.check(j["_exit"] == 1, "%s: npsctl exit %s, expected 1" % (what, j["_exit"]))
    c.check(j["data"] == {}, "%s: error reply with data %r" % (what, j["data"]))
    err = j.get("error") or ""
    c.check(needle.lower() in err.lower(), "%s: error %r does not name %r" % (what, err, needle))
    rc, out, stderr = r.ctl_raw(words)
    c.check(rc == 1 and stderr.startswith("npsctl: ") and needle.lower() in stderr.lower(),
            "%s (text): exit %d stderr %r" % (what, rc, stderr))


@case("control-runtime")
def control_runtime(c):
    r = std_router(c)
    r.start({})
    # --- good changes, each visible in the show commands
    ok(c, r, "vrf", "add", "name", "green", "id", "30", "fib", "compact")
    v = find(rows(r, "show", "vrfs"), name="green")
    c.check(len(v) == 1 and v[0]["id"] == 30 and v[0]["fib"] == "compact" and v[0]["interfaces"] == 0,
            "show vrfs: green is %s" % v)
    ok(c, r, "interface", "add", "name", "g1", "device", "p1", "vlan", "300", "vrf", "green", "mac",
       "02:00:00:00:30:01")
    ok(c, r, "address", "add", "interface", "g1", "prefix", "10.30.0.1/24")
    ok(c, r, "address", "add", "interface", "g1", "prefix", "2001:db8:30::1/64")
    i = find(rows(r, "show", "interfaces"), name="g1")
    c.check(len(i) == 1 and i[0]["device"] == "p1" and i[0]["vlan"] == 300 and i[0]["vrf"] == "green" and
            i[0]["mac"] == "02:00:00:00:30:01" and i[0]["mtu"] == 1500 and i[0]["state"] == "up" and
            set(i[0]["addresses"].split(",")) == {"10.30.0.1/24", "2001:db8:30::1/64"} and
            i[0]["link_local"] == "fe80::ff:fe00:3001", "show interfaces: g1 is %s" % i)
    ok(c, r, "neighbour", "add", "interface", "g1", "ip", "10.30.0.2", "mac", "02:00:00:00:30:99")
    n = find(r.neighbours_table(), interface="g1", ip="10.30.0.2")
    c.check(len(n) == 1 and n[0]["mac"] == "02:00:00:00:30:99" and n[0]["state"] == "static",
            "show neighbours: 10.30.0.2 on g1 is %s" % n)
    ok(c, r, "route", "add", "vrf", "green", "prefix", "192.0.2.0/24", "via", "10.30.0.2")
    ok(c, r, "route", "add", "vrf", "green", "prefix", "198.51.100.0/24", "type", "blackhole")
    ok(c, r, "route", "add", "vrf", "green", "prefix", "2001:db8:dead::/48", "type", "reject")
    ok(c, r, "route", "add", "vrf", "green", "prefix", "203.0.113.0/24", "target_vrf", "main")
    ok(c, r, "route", "add", "vrf", "green", "prefix", "10.31.0.0/16", "dev", "g1")
    rt = rows(r, "show", "routes", "vrf", "green")
    c.check(all(x["vrf"] == "green" for x in rt), "show routes vrf green lists other VRFs")
    want = {("192.0.2.0/24", "10.30.0.2", "g1"), ("198.51.100.0/24", "", ""), ("2001:db8:dead::/48", "", ""),
            ("203.0.113.0/24", "", ""), ("10.31.0.0/16", "", "g1"), ("10.30.0.0/24", "", "g1")}
    got = {(x["prefix"], x["via"], x["dev"]) for x in rt}
    c.check(want <= got, "show routes vrf green: missing %s (got %s)" % (want - got, sorted(got)))
    types = {x["prefix"]: x["type"] for x in rt}
    leak = find(rt, prefix="203.0.113.0/24")
    c.check(leak and leak[0]["target_vrf"] == "main", "leak route shows target_vrf %s" % leak)
    c.check(len({types.get("198.51.100.0/24"), types.get("2001:db8:dead::/48"), types.get("192.0.2.0/24")}) == 3,
            "route types not told apart: %s" % types)
    v = find(rows(r, "show", "vrfs"), name="green")
    c.check(v and v[0]["interfaces"] == 1 and v[0]["routes4"] >= 6 and v[0]["routes6"] >= 2,
            "show vrfs: green after the adds is %s" % v)
    rt6 = rows(r, "show", "routes", "vrf", "green", "family", "6")
    c.check(rt6 and all(":" in x["prefix"] for x in rt6), "show routes family 6: %s" % rt6)
    # route del
    ok(c, r, "route", "del", "vrf", "green", "prefix", "198.51.100.0/24")
    c.check(not find(rows(r, "show", "routes", "vrf", "green"), prefix="198.51.100.0/24"),
            "route 198.51.100.0/24 still shown after route del")
    # interface set
    ok(c, r, "interface", "set", "name", "g1", "mtu", "1400")
    ok(c, r, "interface", "set", "name", "a", "state", "down")
    i = {x["name"]: x for x in rows(r, "show", "interfaces")}
    c.check(i["g1"]["mtu"] == 1400 and i["a"]["state"] == "down", "interface set not shown: %s %s"
            % (i["g1"], i["a"]))
    ok(c, r, "interface", "set", "name", "a", "state", "up")
    # neighbour del, address del
    ok(c, r, "neighbour", "add", "interface", "b", "ip", "10.0.1.77", "mac", "02:00:00:00:00:77")
    ok(c, r, "neighbour", "del", "interface", "b", "ip", "10.0.1.77")
    c.check(not find(r.neighbours_table(), ip="10.0.1.77"), "neighbour 10.0.1.77 still shown after del")

    # --- bad changes: refused with a status and a message naming the problem
    refused(c, r, 2, "nosuch", "route", "add", "vrf", "nosuch", "prefix", "10.0.0.0/8", "type", "blackhole")
    refused(c, r, 22, "host bits", "route", "add", "vrf", "main", "prefix", "10.0.0.1/8", "type", "blackhole")
    refused(c, r, 22, "300.0.0.0/8", "route", "add", "vrf", "main", "prefix", "300.0.0.0/8", "type", "blackhole")
    refused(c, r, 22, "prefix", "route", "add", "vrf", "main")
    refused(c, r, 22, "exactly one", "route", "add", "vrf", "main", "prefix", "10.50.0.0/16")
    refused(c, r, 22, "exactly one", "route", "add", "vrf", "main", "prefix", "10.50.0.0/16", "via", "10.0.1.2",
            "type", "blackhole")
    refused(c, r, 22, "connected", "route", "add", "vrf", "main", "prefix", "10.50.0.0/16", "via", "10.99.9.9")
    refused(c, r, 22, "frob", "route", "add", "vrf", "main", "prefix", "10.50.0.0/16", "type", "frob")
    refused(c, r, 17, "exists", "route", "add", "vrf", "green", "prefix", "192.0.2.0/24", "via", "10.30.0.2")
    refused(c, r, 2, "no route", "route", "del", "vrf", "green", "prefix", "198.51.100.0/24")
    refused(c, r, 2, "nosuch", "route", "add", "vrf", "green", "prefix", "100.64.0.0/10", "target_vrf", "nosuch")
    refused(c, r, 22, "colour", "route", "add", "vrf", "main", "prefix", "10.50.0.0/16", "colour", "red")
    refused(c, r, 17, "green", "vrf", "add", "name", "green", "id", "31")
    refused(c, r, 17, "30", "vrf", "add", "name", "other", "id", "30")
    refused(c, r, 22, "id", "vrf", "add", "name", "other", "id", "abc")
    refused(c, r, 22, "fib", "vrf", "add", "name", "other", "id", "32", "fib", "slow")
    refused(c, r, 16, "interface", "vrf", "del", "name", "green")
    refused(c, r, 17, "g1", "interface", "add", "name", "g1", "device", "p1", "vrf", "green")
    refused(c, r, 2, "nosuch", "interface", "add", "name", "g2", "device", "nosuch", "vrf", "main")
    refused(c, r, 17, "300", "interface", "add", "name", "g3", "device", "p1", "vlan", "300", "vrf", "main")
    refused(c, r, 22, "vlan", "interface", "add", "name", "g4", "device", "p1", "vlan", "5000", "vrf", "main")
    refused(c, r, 2, "nosuch", "interface", "add", "name", "g5", "device", "p1", "vlan", "301", "vrf", "nosuch")
    refused(c, r, 22, "mtu", "interface", "add", "name", "g6", "device", "p1", "vlan", "302", "vrf", "main", "mtu",
            "9000")
    refused(c, r, 22, "mac", "interface", "add", "name", "g7", "device", "p1", "vlan", "303", "vrf", "main", "mac",
            "zz:00:00:00:00:00")
    refused(c, r, 2, "nosuch", "address", "add", "interface", "nosuch", "prefix", "10.0.0.1/24")
    refused(c, r, 17, "10.30.0.1", "address", "add", "interface", "g1", "prefix", "10.30.0.1/24")
    refused(c, r, 22, "bogus", "address", "add", "interface", "g1", "prefix", "bogus")
    refused(c, r, 22, "connected", "neighbour", "add", "interface", "g1", "ip", "10.99.0.2", "mac",
            "02:00:00:00:30:98")
    refused(c, r, 22, "mac", "neighbour", "add", "interface", "g1", "ip", "10.30.0.3", "mac", "01:00:5e:00:00:01")
    refused(c, r, 22, "mac", "neighbour", "add", "interface", "g1", "ip", "10.30.0.3", "mac", "nonsense")
    refused(c, r, 2, "nosuch", "neighbour", "add", "interface", "nosuch", "ip", "10.30.0.3", "mac",
            "02:00:00:00:30:98")
    refused(c, r, 2, "10.30.0.9", "neighbour", "del", "interface", "g1", "ip", "10.30.0.9")
    refused(c, r, 2, "frobnicate", "frobnicate")
    refused(c, r, 22, "state", "interface", "set", "name", "g1", "state", "sideways")
    refused(c, r, 22, "worker", "show", "stats", "worker", "7")
    # nothing above changed the tables
    c.check(not find(rows(r, "show", "vrfs"), name="other"), "a refused vrf add created a VRF")
    c.check(not [x for x in rows(r, "show", "interfaces") if x["name"] in ("g2", "g3", "g4", "g5", "g6", "g7")],
            "a refused interface add created an interface")
    c.check(len(rows(r, "show", "vrfs")) == 2, "VRF count changed")
    # the daemon still serves and forwards nothing by itself
    s = r.stats()
    c.check(not any(s["totals"].values()), "totals changed: %s" % s["totals"])
    # help lists the commands
    h = rows(r, "help")
    c.check(len(h) >= 15 and any(x["usage"].startswith("route add") for x in h), "help: %s" % h)
    r.stop()
    # the runtime addresses were announced on p1 (VLAN 300): gratuitous ARP + unsolicited NA
    c.check(len(r.announcements["p1"]) == 4 + 2, "p1 announcements: %d, expected 6" % len(r.announcements["p1"]))
    c.check(any(f == arp_frame(1, "02:00:00:00:30:01", "10.30.0.1", "00:00:00:00:00:00", "10.30.0.1",
                               vlan=300) for f in r.announcements["p1"]),
            "no gratuitous ARP for 10.30.0.1 on VLAN 300")


# ---------------------------------------------------------------------------------------------------------------

class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """(status, body) of the next reply; None when the server closed the connection."""
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        m = re.fullmatch(rb"NPSGW/1 (\d+) (\d+)", line)
        if not m:
            raise CaseFail("malformed reply header %r" % line)
        n = int(m.group(2))
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise CaseFail("connection closed inside a reply body")
            self.buf += d
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(m.group(1)), body.decode(errors="replace")

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.s.close()


@case("control-malformed", group="badinput")
def control_malformed(c):
    r = std_router(c)
    r.start({})

    def expect(conn, status, needle, what):
        rep = conn.reply()
        if rep is None:
            c.fail("%s: connection closed without a reply" % what)
            return None
        c.check(rep[0] == status, "%s: status %d, expected %d (%r)" % (what, rep[0], status, rep[1][:200]))
        c.check(needle.lower() in rep[1].lower(), "%s: reply %r does not mention %r" % (what, rep[1][:200], needle))
        return rep

    k = Conn(r.sock)
    k.send(b"\x00\x01\x02garbage\xff\xfe\x7f\n")
    expect(k, 22, "", "binary garbage")
    k.send(b"version\n")
    expect(k, 0, "npsd", "version after garbage (connection must stay usable)")
    k.send(b"frobnicate now please\n")
    expect(k, 2, "frobnicate", "unknown command")
    k.send(b"route add vrf main\n")
    expect(k, 22, "prefix", "missing key")
    k.send(b"route add vrf main prefix 10.9.0.0/16 prefix 10.8.0.0/16 type blackhole\n")
    expect(k, 22, "duplicate", "duplicate key")
    k.send(b"route add vrf main prefix 10.9.0.0/16 wibble 1 type blackhole\n")
    expect(k, 22, "wibble", "unknown key")
    k.send(b"\n")
    expect(k, 22, "", "empty line")
    k.send(b"show vrfs " + b"x " * 70 + b"\n")
    expect(k, 7, "", "more than 64 words")
    k.send(b"route add --json vrf main\n")
    rep = expect(k, 22, '"status":22', "--json error")
    k.send(b"version\r\n")
    expect(k, 0, "npsd", "CRLF")
    # pipelining: several requests in one write, answered in order
    k.send(b"version\nfrobnicate\nshow vrfs\n")
    expect(k, 0, "npsd", "pipelined 1")
    expect(k, 2, "frobnicate", "pipelined 2")
    expect(k, 0, "main", "pipelined 3")
    # a request split over several writes
    k.send(b"ver")
    time.sleep(0.05)
    k.send(b"sion\n")
    expect(k, 0, "npsd", "split request")

    # a client sending half a line does not hold up another one
    slow = Conn(r.sock)
    slow.send(b"show interf")
    k2 = Conn(r.sock)
    k2.send(b"version\n")
    expect(k2, 0, "npsd", "second client while another is mid-request")
    slow.close()
    k2.close()

    # an oversized line: E2BIG, then the connection is closed
    big = Conn(r.sock)
    big.send(b"show vrfs " + b"a" * 6000 + b"\n")
    expect(big, 7, "", "oversized line")
    c.check(big.closed(), "connection still open after an oversized request")
    big.close()
    big = Conn(r.sock)
    big.send(b"b" * 5000)
    rep = big.reply()
    c.check(rep is not None and rep[0] == 7, "oversized line without newline: %s" % (rep,))
    big.close()
    # half-close after the request: the reply still comes
    h = Conn(r.sock)
    h.send(b"version\n")
    h.s.shutdown(socket.SHUT_WR)
    expect(h, 0, "npsd", "half-closed client")
    h.close()
    # a client that disconnects mid-request is forgotten
    g = Conn(r.sock)
    g.send(b"route add vrf main prefix 10.77.0.0/16 type black")
    g.close()
    time.sleep(0.1)
    c.check(not find(rows(r, "show", "routes", "vrf", "main"), prefix="10.77.0.0/16"),
            "a partial request from a vanished client was executed")
    # client limit: 64 connected, the next gets EBUSY and is disconnected
    k.send(b"version\n")
    expect(k, 0, "npsd", "first client still served")
    many = [Conn(r.sock) for _ in range(63)]  # with k: 64
    for m in many:
        m.send(b"version\n")
        expect(m, 0, "npsd", "client within the limit")
    extra = Conn(r.sock)
    rep = extra.reply()
    c.check(rep is not None and rep[0] == 16, "65th client: %s, expected EBUSY (16)" % (rep,))
    c.check(extra.closed(), "65th client not disconnected")
    extra.close()
    for m in many:
        m.close()
    k.close()
    time.sleep(0.1)
    # the daemon keeps serving, with npsctl too
    d = r.ctl_ok("version")
    c.check(d["version"][0]["protocol"] == 1, "version after the abuse: %s" % d)
    s = r.stats()
    c.check(s["totals"]["rx"] == 0, "totals changed: %s" % s["totals"])
    r.stop()


# ---------------------------------------------------------------------------------------------------------------

GOOD_CONF = """\
eal: { lcores = "0-1"; hugepages = "no"; memory_mb = 256; file_prefix = "badconf"; };
control: { socket = "/tmp/npsgw-badconf.sock"; mode = "0660"; };
devices = ( { name = "p0"; vdev = "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap"; } );
vrfs = ( { name = "main"; id = 0; } );
interfaces = (
  { name = "a"; device = "p0"; vrf = "main"; addresses = [ "10.0.0.1/24", "2001:db8::1/64" ]; }
);
routes = (
  { vrf = "main"; prefix = "192.0.2.0/24"; via = "10.0.0.2"; }
);
neighbours = (
  { interface = "a"; ip = "10.0.0.2"; mac = "02:00:00:00:00:99"; }
);
"""

# (name, line to replace (1-based), new text, expected line in the message, words the message must contain)
BAD_CONFS = [
    ("unknown-key", 1, 'eal: { lcores = "0-1"; hugepages = "no"; colour = "red"; };', 1, ["colour"]),
    ("unknown-top-key", 14, 'frobnicate = 1;', 14, ["frobnicate"]),
    ("bad-prefix", 9, '  { vrf = "main"; prefix = "192.0.2.0/33"; via = "10.0.0.2"; }', 9, ["192.0.2.0/33"]),
    ("bad-prefix-host-bits", 9, '  { vrf = "main"; prefix = "192.0.2.1/24"; via = "10.0.0.2"; }', 9, ["192.0.2.1/24"]),
    ("undefined-vrf", 6, '  { name = "a"; device = "p0"; vrf = "blue"; addresses = [ "10.0.0.1/24" ]; }', 6, ["blue"]),
    ("route-undefined-vrf", 9, '  { vrf = "blue"; prefix = "192.0.2.0/24"; via = "10.0.0.2"; }', 9, ["blue"]),
    ("undefined-device", 6, '  { name = "a"; device = "p9"; vrf = "main"; addresses = [ "10.0.0.1/24" ]; }', 6,
     ["p9"]),
    ("bad-address", 6, '  { name = "a"; device = "p0"; vrf = "main"; addresses = [ "10.0.0.256/24" ]; }', 6,
     ["10.0.0.256"]),
    ("two-next-hops", 9, '  { vrf = "main"; prefix = "192.0.2.0/24"; via = "10.0.0.2"; blackhole = true; }', 9, []),
    ("bad-mac", 12, '  { interface = "a"; ip = "10.0.0.2"; mac = "02:00:00:00:00"; }', 12, ["mac"]),
    ("world-writable", 2, 'control: { socket = "/tmp/x.sock"; mode = "0666"; };', 2, ["mode"]),
    ("bad-vlan", 6, '  { name = "a"; device = "p0"; vlan = 5000; vrf = "main"; addresses = [ "10.0.0.1/24" ]; }', 6,
     ["vlan"]),
    ("syntax", 4, 'vrfs = ( { name = "main"; id = 0; } ', 5, []),
    ("wrong-type", 4, 'vrfs = ( { name = "main"; id = "zero"; } );', 4, ["id"]),
]


@case("bad-config", group="badinput")
def bad_config(c):
    d = c.dir
    good = os.path.join(d, "good.conf")
    with open(good, "w") as f:
        f.write(GOOD_CONF)
    p = subprocess.run([NPSD, "--check-config", good], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    c.check(p.returncode == 0, "the base config is refused: %s" % p.stdout.decode(errors="replace"))
    for name, line, text, eline, words in BAD_CONFS:
        lines = GOOD_CONF.split("\n")
        lines[line - 1] = text
        path = os.path.join(d, name + ".conf")
        with open(path, "w") as f:
            f.write("\n".join(lines))
        p = subprocess.run([NPSD, "--check-config", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=20)
        msg = p.stdout.decode(errors="replace").strip()
        if not c.check(p.returncode != 0, "%s: --check-config exit 0 (%s)" % (name, msg)):
            continue
        c.check("%s:%d:" % (path, eline) in msg, "%s: message %r lacks %s:%d:" % (name, msg, path, eline))
        for w in words:
            c.check(w.lower() in msg.lower(), "%s: message %r does not name %r" % (name, msg, w))
    # a missing file
    p = subprocess.run([NPSD, "--check-config", os.path.join(d, "nonexistent.conf")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    c.check(p.returncode != 0 and b"nonexistent.conf" in p.stdout, "missing file: exit %d %r" % (p.returncode,
                                                                                                p.stdout))
