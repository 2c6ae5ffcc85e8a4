#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The NAT44 / DS-Lite end-to-end tier: npsd (net_af_packet ports on veth pairs) between two tenant sites that use the
same private prefix, the internet, and an IPv6 access network with a DS-Lite B4 built with scapy (the kernel here
has no ip6tnl), with real tools (ping, iperf3) and sockets opened in the hosts.

  nat_e2e.py WORKDIR [WORKERS...]     default: 1 2 (one round with one worker, then one with two)
  NAT_E2E_NO_DSLITE=1 nat_e2e.py ...  without the dslite section and the DS-Lite checks (debugging aid)

   nat-t1 (VRF t1)   eth0 10.0.0.2/24 --- p0 t1-lan 10.0.0.1/24 \\
   nat-t2 (VRF t2)   eth0 10.0.0.2/24 --- p1 t2-lan 10.0.0.1/24  }- npsd -- p2 wan 203.0.113.1/24 --- nat-inet
   nat-b4 (VRF access) 2001:db8:100::2 --- p3 access 2001:db8:100::1/64 /                 eth0 203.0.113.2/24
        scapy B4, inner 192.0.0.2, AFTR 2001:db8:ffff::1, mtu 1400         route 198.51.100.0/28 via 203.0.113.1

The tenants t1 and t2 leak their default route into VRF internet and are translated to pool inet44 (one address,
198.51.100.1, so the two tenants' flows must differ by public port); the AFTR translates its B4s to pool b4pool
(198.51.100.8/29). The pool prefix is a blackhole route in VRF internet: traffic to a public address that no
mapping takes is dropped there and counted. Static mappings: 198.51.100.1:8080/tcp -> t1 10.0.0.2:8080 and
198.51.100.1:8081/tcp -> t2 10.0.0.2:8080.

Every host runs TCP echo servers on 8080 and UDP echo servers on 7000, recording each peer's address and port; the
internet host runs iperf3 servers (one-off, JSON) per iperf3 check. Each round: ping, UDP, TCP and concurrent
iperf3 from both tenants (distinct public endpoints seen by the internet host, each reply back at its tenant),
unsolicited inbound dropped and counted (no mapping: blackhole; APDF filter: nat_filtered), port forwarding and
hairpinning, `nat show pools|subscribers|sessions|stats|statics`, block allocation events; DS-Lite UDP, TCP (scapy
handshake, MSS clamped both ways), ICMP echo, a B4 outside the prefixes refused, a fragmented tunnel packet
reassembled, a reply over the AFTR mtu fragmented (DF clear) or answered with ICMP fragmentation needed (DF set);
with two workers the hand-off; nat flush then block release events; npsd stops cleanly on SIGTERM.

One PASS/FAIL line per check; details of every check in WORKDIR/log. Exit 0 when all passed, 1 otherwise, 2 when
the harness could not run. npsd's pid is kept in WORKDIR/npsd.pid for run.sh's clean-up.
"""
import json
import os
import random
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nat_e2e_lib import (IP_MTU_DISCOVER, IP_PMTUDISC_OMIT, IP_PMTUDISC_PROBE, REPO, Abort, EventSub,  # noqa: E402
                         Gw, Host, Npsd, PeerServers, ScapyB4, Sniffer, delta, ep, in_ranges, inner_checksums_ok, log,
                         scapy, tcp_connect, tcp_echo, tcp_mss, tier_main, udp_query, unpack_icmp_mtu)

NPSD = os.environ.get("NPSD", os.path.join(REPO, os.environ.get("BUILD", "build"), "npsd"))
NPSCTL = os.environ.get("NPSCTL", os.path.join(REPO, os.environ.get("BUILD", "build"), "npsctl"))
PREFIX = "npsnate2e"
# NAT_E2E_NO_DSLITE=1: no dslite section and no DS-Lite check (a debugging aid for a build without the AFTR)
DSLITE = os.environ.get("NAT_E2E_NO_DSLITE", "") in ("", "0")

SITE4, SITE_GW = "10.0.0.2", "10.0.0.1"
INET4, WAN4 = "203.0.113.2", "203.0.113.1"
POOL44, POOL_B4, POOL_ALL = "198.51.100.1", "198.51.100.8/29", "198.51.100.0/28"
B4_6, ACCESS6, AFTR6, B4_INNER = "2001:db8:100::2", "2001:db8:100::1", "2001:db8:ffff::1", "192.0.0.2"
B4_UNKNOWN6 = "2001:db8:200::2"
AFTR_MTU, MSS_CLAMP, BLOCK_SIZE = 1400, 1320, 512
TCP_PORT, UDP_PORT, FWD_T1, FWD_T2 = 8080, 7000, 8080, 8081
IPERF_PORTS = {"t1": 5201, "t2": 5202}
SITES = ("t1", "t2")


def in_b4pool(addr):
    parts = addr.split(".")
    return len(parts) == 4 and ".".join(parts[:3]) == "198.51.100" and 8 <= int(parts[3]) <= 15


def nat_conf():
    text = """nat: {
  sessions: { max = 16384; };
  block_idle = 2;
  pools = (
    { name = "inet44"; vrf = "internet"; prefixes = [ "%s/32" ]; ports = "1024-65535"; block_size = %d; },
    { name = "b4pool"; vrf = "internet"; prefixes = [ "%s" ]; block_size = %d; } );
  tenants = (
    { vrf = "t1"; pool = "inet44"; filtering = "address-and-port-dependent"; max_sessions = 4000; max_blocks = 8;
      hairpinning = true;
      static = ( { proto = "tcp"; inside = "%s:%d"; public = "%s:%d"; } ); },
    { vrf = "t2"; pool = "inet44"; filtering = "address-and-port-dependent"; max_sessions = 4000; max_blocks = 8;
      hairpinning = true;
      static = ( { proto = "tcp"; inside = "%s:%d"; public = "%s:%d"; } ); } );
};
""" % (POOL44, BLOCK_SIZE, POOL_B4, BLOCK_SIZE, SITE4, TCP_PORT, POOL44, FWD_T1, SITE4, TCP_PORT, POOL44, FWD_T2)
    if DSLITE:
        text += """dslite: {
  aftrs = (
    { name = "aftr1"; address = "%s"; transport_vrf = "access"; vrf = "internet"; pool = "b4pool";
      b4_prefixes = [ "2001:db8:100::/48" ]; mtu = %d; mss_clamp = %d; max_sessions = 2000; max_blocks = 4; } );
};
""" % (AFTR6, AFTR_MTU, MSS_CLAMP)
    return text


def boot_conf(work, workers):
    q = workers
    out = []
    if workers == 1:
        out.append('eal: { lcores = "0-1"; memory_mb = 1024; hugepages = "no"; file_prefix = "%s"; };' % PREFIX)
    else:  # 2 CPUs: the main lcore on CPU 0, both workers on CPU 1 (as test/e2e does)
        out.append('eal: { lcores = "0-2"; memory_mb = 1024; hugepages = "no"; file_prefix = "%s";\n'
                   '       extra_args = [ "--lcores=0@0,1@1,2@1" ]; };' % PREFIX)
    out.append('control: { socket = "%s"; };' % os.path.join(work, "npsd.sock"))
    devs = ["nat-t1", "nat-t2", "nat-inet", "nat-b4"]
    out.append("devices = (\n%s\n);" % ",\n".join(
        '  { name = "p%d"; vdev = "net_af_packet%d,iface=%s,qpairs=%d"; rx_queues = %d; }' % (i, i, d, q, q)
        for i, d in enumerate(devs)))
    rx = lambda k: ", ".join('"p%d:%d"' % (i, k) for i in range(len(devs)))  # noqa: E731
    out.append("workers = ( %s );" % ",\n            ".join(
        "{ lcore = %d; rx = ( %s ); }" % (k + 1, rx(k)) for k in range(workers)))
    # four VRFs: compact FIBs (a fast one takes 64 MB and more each) and a small VRF limit (it sizes the shared one)
    out.append('limits = { max_vrfs = 8; };')
    out.append('vrfs = ( { name = "t1"; id = 10; fib = "compact"; }, { name = "t2"; id = 20; fib = "compact"; },\n'
               '         { name = "internet"; id = 100; fib = "compact"; },\n'
               '         { name = "access"; id = 200; fib = "compact"; } );')
    out.append('interfaces = (\n'
               '  { name = "t1-lan"; device = "p0"; vrf = "t1"; addresses = [ "10.0.0.1/24" ]; },\n'
               '  { name = "t2-lan"; device = "p1"; vrf = "t2"; addresses = [ "10.0.0.1/24" ]; },\n'
               '  { name = "wan"; device = "p2"; vrf = "internet"; addresses = [ "203.0.113.1/24" ]; },\n'
               '  { name = "access"; device = "p3"; vrf = "access"; addresses = [ "2001:db8:100::1/64" ]; }\n);')
    out.append('routes = (\n'
               '  { vrf = "t1"; prefix = "0.0.0.0/0"; target_vrf = "internet"; },\n'
               '  { vrf = "t2"; prefix = "0.0.0.0/0"; target_vrf = "internet"; },\n'
               '  { vrf = "internet"; prefix = "%s"; blackhole = true; }\n);' % POOL_ALL)
    out.append(nat_conf())
    return "\n".join(out) + "\n"


class Tier:
    def __init__(self, work, workers):
        self.work, self.workers = work, workers
        self.logf = open(os.path.join(work, "log"), "a")
        self.failures, self.passed = [], 0
        self.hosts = {n: Host("nat-" + n, "nat-" + n) for n in ("t1", "t2", "inet", "b4")}
        self.round = ""
        self.n = self.gw = self.ev = self.b4 = None
        self.seen_pub = {}  # what the checks learned: tenant -> public UDP port, "b4" -> (address, port)

    # one check: fn raises AssertionError (or anything) to fail; its notes go to the log
    def check(self, name, fn, *args):
        name = "[%s] %s" % (self.round, name)
        log(self.logf, "", "=== " + name)
        if self.n is None or not self.n.alive():
            print("FAIL  %s (npsd is not running)" % name, flush=True)
            self.failures.append(name)
            return False
        try:
            fn(*args)
            print("PASS  %s" % name, flush=True)
            self.passed += 1
            return True
        except Exception as e:  # noqa: BLE001 - any error is this check's failure
            detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
            log(self.logf, "FAILED: " + detail)
            print("FAIL  %s\n      %s" % (name, "\n      ".join(detail.strip().splitlines()[-6:])), flush=True)
            self.failures.append(name)
            return False

    def note(self, *lines):
        log(self.logf, *[str(x) for x in lines])

    def expect(self, cond, what):
        self.note(("ok: " if cond else "NOT: ") + what)
        if not cond:
            raise AssertionError(what)

    # ------------------------------------------------------------------------------------------ topology

    def setup(self):
        h = self.hosts
        for t in SITES:
            h[t].create([(SITE4 + "/24", SITE_GW)], self.logf)
        h["inet"].create([(INET4 + "/24", None)], self.logf)
        h["inet"].exec(["ip", "route", "add", POOL_ALL, "via", WAN4], self.logf)
        h["b4"].create([(B4_6 + "/64", ACCESS6)], self.logf)
        self.srv = {n: PeerServers(h[n], [TCP_PORT], [UDP_PORT]) for n in ("t1", "t2", "inet")}

    def teardown(self):
        for s in getattr(self, "srv", {}).values():
            s.close()
        for h in self.hosts.values():
            h.delete(self.logf)

    def start(self, tag, conf_text):
        for h in self.hosts.values():
            h.exec(["ip", "neigh", "flush", "all"])
        # forget path MTUs learnt in an earlier round (the AFTR's frag-needed): the SYN-ACK must carry MSS 1460 again
        self.hosts["inet"].exec(["ip", "route", "flush", "cache"], self.logf)
        path = os.path.join(self.work, "npsd-%s.conf" % tag)
        with open(path, "w") as f:
            f.write(conf_text)
        self.conf_path = path
        self.n = Npsd(NPSD, NPSCTL, self.work, tag, path)
        self.n.start()
        self.gw = Gw(self.n)
        # subscribed before the first translated packet: every block allocation event of the round is seen
        self.ev = EventSub(self.n.sock, "nat")
        # the hosts learn the gateway (and npsd the hosts) before the first timed probe
        for t in SITES:
            self.hosts[t].exec(["ping", "-n", "-c", "1", "-W", "2", SITE_GW], self.logf)
        self.hosts["inet"].exec(["ping", "-n", "-c", "1", "-W", "2", WAN4], self.logf)
        self.hosts["b4"].exec(["ping", "-6", "-n", "-c", "1", "-W", "2", ACCESS6], self.logf)
        _, out = self.hosts["b4"].exec(["ip", "-6", "neigh", "show", ACCESS6, "dev", "eth0"], self.logf)
        words = out.split()
        gw_mac = words[words.index("lladdr") + 1] if "lladdr" in words else None
        if gw_mac is None:
            with open("/sys/class/net/nat-b4/address") as f:  # npsd's af_packet port takes its veth's MAC
                gw_mac = f.read().strip()
        self.b4 = ScapyB4(self.hosts["b4"], B4_6, AFTR6, B4_INNER, gw_mac)
        self.seen_pub = {}

    def stop(self):
        for attr in ("ev", "b4"):
            obj = getattr(self, attr)
            if obj is not None:
                obj.close()
                setattr(self, attr, None)
        return self.n.stop() if self.n else None

    # ------------------------------------------------------------------------------------------ probes

    def ping(self, host, dst, count=3, wait=5):
        return host.exec(["ping", "-n", "-c", str(count), "-i", "0.2", "-w", str(wait), dst], self.logf,
                         timeout=wait + 10)

    def udp_socket(self, tenant, sport):
        s = self.hosts[tenant].socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", sport))
        s.connect((INET4, UDP_PORT))
        return s

    def srv_peer(self, proto, port, payload=None, since=0.0, addr=None):
        recs = self.srv["inet"].find(proto, port, addr, since)
        if payload is not None:
            recs = [r for r in recs if r["data"] == payload]
        return recs

    def snapshot(self):
        return self.gw.nat_stats(), self.gw.all_drops()

    def note_changes(self, snap):
        """What changed in the NAT counters and the drops since snapshot() (the log of a failing check)."""
        st0, dr0 = snap
        st1, dr1 = self.snapshot()
        self.note("nat show stats changes: %s" % {k: v - st0.get(k, 0) for k, v in st1.items() if v != st0.get(k)})
        self.note("show drops changes: %s" % {k: v - dr0.get(k, 0) for k, v in dr1.items() if v != dr0.get(k)})

    # ------------------------------------------------------------------------------------------ NAT44 checks

    def t_workers(self):
        j = self.n.ok("show", "workers")
        n = len(next(iter(j["data"].values())))
        self.expect(n == self.workers_now, "show workers lists %d worker(s) (%d expected)" % (n, self.workers_now))
        st = self.gw.nat_stats()
        self.expect(st.get("enabled") == 1 and st.get("public_addresses") == 9,
                    "nat show stats: enabled, 9 public addresses (1 + 8): %s / %s"
                    % (st.get("enabled"), st.get("public_addresses")))

    def t_ping(self):
        procs = {t: self.hosts[t].popen(["ping", "-n", "-c", "4", "-i", "0.2", "-w", "6", INET4],
                                        subprocess.PIPE) for t in SITES}
        for t, p in procs.items():
            out = p.communicate(timeout=20)[0].decode(errors="replace")
            self.note("%s: %s" % (t, out))
            self.expect(p.returncode == 0 and " 0% packet loss" in out, "%s pings %s, every echo answered" % (t, INET4))
        for t in SITES:
            icmp = self.gw.sessions("vrf", t, "proto", "icmp")
            self.note("%s icmp sessions: %s" % (t, icmp))
            self.expect(any(ep(r["inside"])[0] == SITE4 and ep(r["outside"])[0] == POOL44 for r in icmp),
                        "nat show sessions vrf %s proto icmp: inside %s, outside %s" % (t, SITE4, POOL44))

    def t_udp(self):
        """Both tenants send from the same inside address and port: the internet host sees the one public address
        with two distinct ports, and each tenant gets its own replies. The port lies in t1's first block, so t1
        keeps it (port preservation) and t2, whose blocks do not hold it, gets another."""
        for t in SITES:  # each subscriber has its first block (the pings made them; a datagram when they failed)
            if not self.gw.subscribers("vrf", t):
                udp_query(self.hosts[t], INET4, UDP_PORT)
        blocks = self.gw.subscribers("vrf", "t1")[0]["port_blocks"]
        sport = int(blocks.split(",")[0].split("-")[0]) + 300 + self.workers_now
        self.note("t1's blocks %s: inside port %d" % (blocks, sport))
        s0 = self.gw.nat_stats()
        socks = {t: self.udp_socket(t, sport) for t in SITES}
        t0 = time.time()
        try:
            for i in range(5):
                for t in SITES:
                    payload = ("udp from %s #%d" % (t, i)).encode()
                    r = udp_query(None, INET4, UDP_PORT, sock=socks[t], payload=payload)
                    self.expect(r == "reply", "%s: datagram %d answered with its own payload (%s)" % (t, i, r))
            pub = {}
            for t in SITES:
                recs = [r for r in self.srv_peer("udp", UDP_PORT, since=t0) if r["data"].startswith(
                    ("udp from %s " % t).encode())]
                peers = {(r["addr"], r["peer_port"]) for r in recs}
                self.note("%s seen by the internet host as %s" % (t, peers))
                self.expect(len(recs) == 5 and len(peers) == 1, "the internet host got %s's 5 datagrams from one "
                            "endpoint (%d, %s)" % (t, len(recs), peers))
                pub[t] = peers.pop()
                self.seen_pub[t] = pub[t][1]
            self.expect(pub["t1"][0] == POOL44 and pub["t2"][0] == POOL44,
                        "both tenants appear as the pool address %s (%s, %s)" % (POOL44, pub["t1"][0], pub["t2"][0]))
            self.expect(pub["t1"][1] != pub["t2"][1], "with distinct public ports (%d, %d) though both sent from "
                        "%s:%d" % (pub["t1"][1], pub["t2"][1], SITE4, sport))
            self.expect(all(p[1] >= 1024 for p in pub.values()), "public ports in the pool's range 1024-65535")
            self.expect(pub["t1"][1] == sport, "port preservation: t1 keeps port %d (in its block): %d"
                        % (sport, pub["t1"][1]))
            s1 = self.gw.nat_stats()
            d = delta(s1, s0, "in2out", "out2in", "mappings_created", "sessions_created", "port_preserved",
                      "port_changed")
            self.note("nat show stats deltas: %s" % d)
            self.expect(d["in2out"] >= 10 and d["out2in"] >= 10, "nat show stats: in2out +%d, out2in +%d (>= 10 each)"
                        % (d["in2out"], d["out2in"]))
            self.expect(d["mappings_created"] >= 2 and d["sessions_created"] >= 2,
                        "mappings_created +%d, sessions_created +%d (>= 2)"
                        % (d["mappings_created"], d["sessions_created"]))
            self.expect(d["port_preserved"] >= 1 and d["port_changed"] >= 1,
                        "port_preserved +%d, port_changed +%d" % (d["port_preserved"], d["port_changed"]))
            self.check_show(pub, sport)
        finally:
            for s in socks.values():
                s.close()

    def check_show(self, pub, sport):
        """While the UDP mappings exist: pools, subscribers and sessions show them."""
        addrs = [r for r in self.gw.addresses() if r.get("address") == POOL44]
        self.note("nat show pools addresses: %s" % addrs)
        self.expect(len(addrs) == 1 and addrs[0]["state"] == "active", "nat show pools: %s active" % POOL44)
        self.expect(addrs[0]["blocks_used"] >= 2 and addrs[0]["ports_in_use"] >= 2,
                    "%s: blocks_used %s >= 2 (one per tenant subscriber), ports_in_use %s >= 2"
                    % (POOL44, addrs[0]["blocks_used"], addrs[0]["ports_in_use"]))
        for t in SITES:
            subs = self.gw.subscribers("vrf", t)
            self.note("nat show subscribers vrf %s: %s" % (t, subs))
            self.expect(len(subs) == 1, "nat show subscribers vrf %s: one subscriber (%d)" % (t, len(subs)))
            s = subs[0]
            self.expect(s["realm"] == t and s["inside"] == SITE4 and s["public"] == POOL44 and s["pool"] == "inet44",
                        "%s's subscriber: realm %s inside %s public %s pool %s" % (t, s["realm"], s["inside"],
                                                                                   s["public"], s["pool"]))
            self.expect(s["blocks"] >= 1 and in_ranges(pub[t][1], s["port_blocks"]),
                        "%s's port blocks %s hold its public port %d" % (t, s["port_blocks"], pub[t][1]))
            udp = self.gw.sessions("vrf", t, "proto", "udp", "port", sport)
            self.note("nat show sessions vrf %s proto udp port %d: %s" % (t, sport, udp))
            want = [r for r in udp if ep(r["inside"]) == (SITE4, sport) and ep(r["outside"]) == pub[t] and
                    ep(r["remote"]) == (INET4, UDP_PORT)]
            self.expect(len(want) == 1, "%s: one UDP session %s:%d -> %s:%d -> %s:%d"
                        % (t, SITE4, sport, pub[t][0], pub[t][1], INET4, UDP_PORT))
            self.expect(all(r["realm"] == t for r in udp), "vrf %s lists only its own realm" % t)
            self.expect(want[0]["pkts_out"] >= 5 and want[0]["pkts_in"] >= 5,
                        "its counters: pkts_out %s, pkts_in %s (>= 5)" % (want[0]["pkts_out"], want[0]["pkts_in"]))
        byport = self.gw.sessions("port", pub["t2"][1], "proto", "udp")
        self.expect(len(byport) >= 1 and all(r["realm"] == "t2" or pub["t2"][1] in (ep(r["inside"])[1],
                                             ep(r["remote"])[1]) for r in byport),
                    "port %d (t2's public port) selects t2's session" % pub["t2"][1])
        page = self.gw.n.ok("nat", "show", "sessions", "limit", 1)
        self.expect(len(page["data"].get("sessions", [])) == 1, "limit 1 gives one row")

    def t_tcp(self):
        sport = 40001 + 10 * self.workers_now
        t0 = time.time()
        conns = {}
        try:
            for t in SITES:
                out, s = tcp_connect(self.hosts[t], INET4, TCP_PORT, sport=sport)
                self.expect(out == "ok", "%s connects to %s:%d from port %d (%s)" % (t, INET4, TCP_PORT, sport, out))
                conns[t] = s
            for t in SITES:
                self.expect(tcp_echo(conns[t], ("tcp from %s\n" % t).encode() * 50),
                            "%s's data comes back to %s (its own echo)" % (t, t))
            recs = self.srv_peer("tcp", TCP_PORT, since=t0)
            peers = {(r["addr"], r["peer_port"]) for r in recs}
            self.note("TCP peers seen by the internet host: %s" % peers)
            self.expect(len(recs) == 2 and len(peers) == 2 and all(a == POOL44 for a, _ in peers),
                        "the internet host accepted 2 connections from %s with distinct ports %s" % (POOL44, peers))
            for t in SITES:
                rows_ = [r for r in self.gw.sessions("vrf", t, "proto", "tcp", "port", sport)
                         if ep(r["inside"]) == (SITE4, sport)]
                self.expect(len(rows_) == 1 and rows_[0]["state"] in ("established", "ESTABLISHED"),
                            "%s's TCP session is shown established (%s)" % (t, rows_))
        finally:
            for s in conns.values():
                s.close()

    def iperf_server(self, port, tag):
        path = os.path.join(self.work, "iperf3-server-%s.json" % tag)
        f = open(path, "w")
        p = self.hosts["inet"].popen(["timeout", "40", "iperf3", "-s", "-1", "-J", "-p", str(port)], f)
        p.outfile, p.path = f, path
        return p

    def iperf_client(self, tenant, port, seconds, tag):
        path = os.path.join(self.work, "iperf3-%s.json" % tag)
        f = open(path, "w")
        p = self.hosts[tenant].popen(["timeout", str(seconds + 20), "iperf3", "-c", INET4, "-p", str(port), "-t",
                                      str(seconds), "-i", "1", "-J"], f)
        p.outfile, p.path = f, path
        return p

    def iperf_json(self, p):
        rc = p.wait()
        p.outfile.close()
        try:
            with open(p.path) as f:
                return rc, json.load(f)
        except (OSError, ValueError) as e:
            with open(p.path, errors="replace") as f:
                self.note("iperf3 output: " + f.read()[-1500:])
            raise AssertionError("iperf3 gave no JSON result (rc %d, %s)" % (rc, e))

    def t_iperf(self):
        seconds = 4
        snap = self.snapshot()
        full0, handed0 = self.gw.drops("nat_handoff_full"), snap[0].get("handoff_out", 0)
        servers = {t: self.iperf_server(IPERF_PORTS[t], "%s-%dw" % (t, self.workers_now)) for t in SITES}
        time.sleep(1.0)
        clients = {t: self.iperf_client(t, IPERF_PORTS[t], seconds, "%s-%dw" % (t, self.workers_now)) for t in SITES}
        res = {}
        for t in SITES:
            rc, j = self.iperf_json(clients[t])
            try:
                bps = j["end"]["sum_received"]["bits_per_second"]
                intervals = [iv["sum"]["bytes"] for iv in j["intervals"]]
            except KeyError as e:
                raise AssertionError("iperf3 %s: no result (%s): %s" % (t, e, j.get("error")))
            self.note("iperf3 %s rc %d: %.1f Mbit/s, bytes per 1 s interval %s" % (t, rc, bps / 1e6, intervals))
            self.expect(rc == 0 and bps > 0, "iperf3 from %s completed (%.1f Mbit/s)" % (t, bps / 1e6))
            self.expect(len(intervals) >= seconds and all(b > 0 for b in intervals),
                        "%s: every 1 s interval moved data %s" % (t, intervals))
            res[t] = bps
        self.note_changes(snap)
        # Two saturating TCP streams on a machine with as many cores as workers: a descheduled owner worker can let
        # its hand-off ring fill. Those drops are counted, and stay a small share; t_handoff holds the rest at zero.
        self.iperf_handoff_full = self.gw.drops("nat_handoff_full") - full0
        handed = self.gw.nat_stats().get("handoff_out", 0) - handed0
        self.expect(self.iperf_handoff_full * 50 <= handed,
                    "hand-off overflow under iperf3 at most 2 %% of the packets handed off (%d of %d)"
                    % (self.iperf_handoff_full, handed))
        peers = {}
        for t in SITES:
            rc, j = self.iperf_json(servers[t])
            conn = j.get("start", {}).get("connected", [])
            ctrl = j.get("start", {}).get("accepted_connection", {})
            peers[t] = {(c["remote_host"].replace("::ffff:", ""), c["remote_port"]) for c in conn}
            if ctrl:
                peers[t].add((ctrl["host"].replace("::ffff:", ""), ctrl["port"]))
            self.note("iperf3 server %s saw %s" % (t, sorted(peers[t])))
            self.expect(peers[t] and all(a == POOL44 for a, _ in peers[t]),
                        "the iperf3 server of %s saw only %s (%s)" % (t, POOL44, sorted(peers[t])))
        self.expect(not (peers["t1"] & peers["t2"]), "the two tenants' iperf3 connections had distinct public ports")

    def t_unsolicited(self):
        """Inbound to the pool without a mapping: blackholed; to a mapping from a remote it never sent to: filtered
        (APDF). Neither tenant receives anything."""
        inet = self.hosts["inet"]
        t0 = time.time()
        b0, st0 = self.gw.drops("blackhole"), self.gw.nat_stats()
        out, s = tcp_connect(inet, POOL44, 9999, timeout=2)
        if s is not None:
            s.close()
        rc, pout = self.ping(inet, POOL44, count=2, wait=2)
        u = inet.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"unsolicited", (POOL44, 9998))
        u.close()
        time.sleep(0.3)
        b1, st1 = self.gw.drops("blackhole"), self.gw.nat_stats()
        self.expect(out == "timeout", "TCP inet -> %s:9999 (no mapping) times out (%s)" % (POOL44, out))
        self.expect(rc != 0, "ping inet -> %s gets no answer" % POOL44)
        self.expect(b1 - b0 >= 4, "dropped and counted: blackhole +%d (SYN, its retry or more, 2 pings, 1 UDP)"
                    % (b1 - b0))
        self.expect(st1["out2in_passed"] - st0["out2in_passed"] >= 4, "out2in_passed +%d"
                    % (st1["out2in_passed"] - st0["out2in_passed"]))
        for t in SITES:
            self.expect(not self.srv[t].find(since=t0), "%s received nothing" % t)

        # APDF: t1 has a mapping towards INET4:7000; a datagram from INET4:7003 to it is refused
        sport = 40002 + 10 * self.workers_now
        # not connected: whatever reaches the port is received (a connected socket would refuse other remotes)
        s1 = self.hosts["t1"].socket(socket.AF_INET, socket.SOCK_DGRAM)
        s1.bind(("0.0.0.0", sport))
        try:
            t1 = time.time()
            s1.settimeout(2)
            s1.sendto(b"apdf probe", (INET4, UDP_PORT))
            try:
                echo = s1.recvfrom(100)
            except socket.timeout:
                echo = None
            self.expect(echo == (b"apdf probe", (INET4, UDP_PORT)), "t1 opens a mapping from port %d (%s)"
                        % (sport, echo))
            recs = self.srv_peer("udp", UDP_PORT, payload=b"apdf probe", since=t1)
            self.expect(len(recs) == 1, "its public endpoint is known (%s)" % recs)
            pub = (recs[0]["addr"], recs[0]["peer_port"])
            snap = self.snapshot()
            f0 = snap[1]["nat_filtered"]
            other = inet.socket(socket.AF_INET, socket.SOCK_DGRAM)
            other.bind(("0.0.0.0", 7003))
            for _ in range(3):
                other.sendto(b"from another port", pub)
            other.close()
            s1.settimeout(1.0)
            try:
                got = s1.recv(1000)
            except socket.timeout:
                got = None
            f1 = self.gw.drops("nat_filtered")
            self.note_changes(snap)
            self.expect(got is None, "t1 receives nothing from %s:7003 (%r)" % (INET4, got))
            self.expect(f1 - f0 == 3, "nat_filtered +%d (3 datagrams)" % (f1 - f0))
        finally:
            s1.close()

    def t_static(self):
        inet = self.hosts["inet"]
        statics = self.gw.n.ok("nat", "show", "statics")["data"].get("statics", [])
        self.note("nat show statics: %s" % statics)
        for t, port in (("t1", FWD_T1), ("t2", FWD_T2)):
            self.expect(any(r["vrf"] == t and r["public"] == "%s:%d" % (POOL44, port) and
                            r["inside"] == "%s:%d" % (SITE4, TCP_PORT) and r["state"] == "active" for r in statics),
                        "nat show statics: %s %s:%d -> %s:%d active" % (t, POOL44, port, SITE4, TCP_PORT))
        for t, port in (("t1", FWD_T1), ("t2", FWD_T2)):
            other = "t2" if t == "t1" else "t1"
            t0, snap = time.time(), self.snapshot()
            out, s = tcp_connect(inet, POOL44, port)
            if out != "ok":
                self.note_changes(snap)
            self.expect(out == "ok", "inet connects to the port forward %s:%d (%s)" % (POOL44, port, out))
            with s:
                self.expect(tcp_echo(s, b"port forward\n"), "the echo of %s's server comes back" % t)
            recs = self.srv[t].find("tcp", TCP_PORT, since=t0)
            self.expect(len(recs) == 1 and recs[0]["addr"] == INET4,
                        "%s's server accepted it from %s (source untouched): %s" % (t, INET4, recs))
            self.expect(not self.srv[other].find("tcp", since=t0), "%s's server saw nothing" % other)
        st = self.gw.nat_stats()
        self.expect(st["static_used"] >= 2 and st["sessions_inbound"] >= 2,
                    "static_used %d, sessions_inbound %d (>= 2)" % (st["static_used"], st["sessions_inbound"]))

    def t_hairpin(self):
        t0 = time.time()
        snap = self.snapshot()
        h0 = snap[0]["hairpinned"]
        out, s = tcp_connect(self.hosts["t2"], POOL44, FWD_T1)
        if out != "ok":
            self.note_changes(snap)
        self.expect(out == "ok", "t2 connects to t1's port forward %s:%d (%s)" % (POOL44, FWD_T1, out))
        with s:
            sport = s.getsockname()[1]
            self.expect(tcp_echo(s, b"hairpin\n"), "the echo of t1's server comes back to t2")
            recs = self.srv["t1"].find("tcp", TCP_PORT, since=t0)
            self.note("t1's server saw %s" % recs)
            self.expect(len(recs) == 1 and recs[0]["addr"] == POOL44,
                        "t1's server saw t2 with its public address %s (%s)" % (POOL44, recs))
            self.expect(not self.srv["t2"].find("tcp", since=t0), "t2's own server saw nothing")
        h1 = self.gw.nat_stats()["hairpinned"]
        self.expect(h1 > h0, "hairpinned %d -> %d" % (h0, h1))
        self.wait_closed(sport)

    def wait_closed(self, sport, timeout=5.0):
        """Wait until the TCP connection from inside port sport is closed (its sessions in time-wait or closed) and
        the NAT is quiet: its closing packets must not land in a later check's counter deltas."""
        deadline = time.time() + timeout
        quiet, last = 0, None
        while time.time() < deadline:
            st = self.gw.nat_stats()
            now = (st.get("in2out"), st.get("out2in"))
            rows_ = self.gw.sessions("proto", "tcp", "port", sport)
            open_ = [r for r in rows_ if str(r["state"]).lower() not in ("time-wait", "closed")]
            quiet = quiet + 1 if now == last and not open_ else 0
            if quiet >= 3:
                return
            last = now
            time.sleep(0.1)
        self.note("the connection from port %d did not settle: sessions %s" % (sport, rows_))

    def t_block_events(self):
        evs = self.ev.all()
        self.note("nat events so far: %s" % json.dumps(evs)[:3000])
        for t in SITES:
            port = self.seen_pub.get(t)
            self.expect(port is not None, "the UDP check learned %s's public port" % t)
            got = [e for e in evs if e.get("event") == "nat" and e.get("type") == "block-alloc" and
                   e.get("vrf") == t and e.get("inside") == SITE4]
            self.expect(got, "a block-alloc event for subscriber vrf %s inside %s" % (t, SITE4))
            self.expect(all(e.get("public") == POOL44 and e.get("pool") == "inet44" for e in got),
                        "its public address is %s, pool inet44" % POOL44)
            self.expect(all(e["port_hi"] - e["port_lo"] + 1 == BLOCK_SIZE for e in got),
                        "each range is one block of %d ports" % BLOCK_SIZE)
            self.expect(any(e["port_lo"] <= port <= e["port_hi"] for e in got),
                        "one range holds %s's public port %d: %s" % (t, port,
                                                                     [(e["port_lo"], e["port_hi"]) for e in got]))
            self.expect(all(isinstance(e.get("logged"), str) and e["logged"].endswith("Z") for e in got),
                        "each carries its UTC time stamp (logged)")
        rc, out = self.n.ctl_text("subscribe", "events", "nat")
        self.expect(rc == 0 and "nat" in out, "npsctl subscribe events nat is accepted (%s)" % out.strip())

    # ------------------------------------------------------------------------------------------ DS-Lite checks

    def b4_udp(self, sport, payload, dport=UDP_PORT):
        s = scapy()
        mark = self.b4.sniff.mark()
        t0 = time.time()
        self.b4.send(s.IP(src=B4_INNER, dst=INET4, id=random.randrange(65536)) / s.UDP(sport=sport, dport=dport) /
                     payload)
        return mark, t0

    def t_dslite_udp(self):
        s = scapy()
        payload = b"dslite udp " + os.urandom(16).hex().encode()
        d0, c0 = self.gw.nat_stats(), self.gw.dslite_stats()
        mark, t0 = self.b4_udp(5001, payload)
        got = self.b4.replies(lambda ip: s.UDP in ip and ip[s.UDP].dport == 5001 and bytes(ip[s.UDP].payload) ==
                              payload, mark)
        recs = self.srv_peer("udp", UDP_PORT, payload, t0)
        self.note("internet host got %s" % recs)
        self.expect(len(recs) == 1 and in_b4pool(recs[0]["addr"]),
                    "the internet host got the datagram from an address of b4pool %s (%s)" % (POOL_B4, recs))
        self.seen_pub["b4"] = (recs[0]["addr"], recs[0]["peer_port"])
        self.expect(len(got) == 1, "the B4 got the echo back in a softwire packet (%d)" % len(got))
        p = got[0]
        self.note(p.show(dump=True))
        self.expect(p[s.IPv6].src == AFTR6 and p[s.IPv6].dst == B4_6 and p[s.IPv6].nh == 4,
                    "outer IPv6 %s -> %s, next header 4" % (p[s.IPv6].src, p[s.IPv6].dst))
        ip = p[s.IP]
        self.expect(ip.src == INET4 and ip.dst == B4_INNER and ip[s.UDP].sport == UDP_PORT,
                    "inner %s:%d -> %s:%d" % (ip.src, ip[s.UDP].sport, ip.dst, ip[s.UDP].dport))
        self.expect(inner_checksums_ok(ip), "inner IPv4 and UDP checksums are right")
        self.expect(p[s.IPv6].plen == ip.len, "IPv6 payload length %d == inner total length %d"
                    % (p[s.IPv6].plen, ip.len))
        d1, c1 = self.gw.nat_stats(), self.gw.dslite_stats()
        self.note("nat show stats changes: %s" % {k: v - d0.get(k, 0) for k, v in d1.items() if v != d0.get(k)})
        d = delta(c1, c0, "decapsulated", "encapsulated", "b4_created")
        self.expect(d == {"decapsulated": 1, "encapsulated": 1, "b4_created": 1},
                    "dslite show stats: decapsulated, encapsulated, b4_created +1 each (%s)" % d)
        self.expect(d1["out2in"] - d0["out2in"] == 1 and d1["mappings_created"] - d0["mappings_created"] == 1,
                    "nat show stats: out2in +1, mappings_created +1")
        subs = self.gw.subscribers("addr", B4_6)
        self.note("nat show subscribers addr %s: %s" % (B4_6, subs))
        self.expect(len(subs) == 1 and subs[0]["realm"] == "dslite" and subs[0]["inside"] == B4_6 and
                    subs[0]["public"] == recs[0]["addr"] and in_ranges(recs[0]["peer_port"], subs[0]["port_blocks"]),
                    "nat show subscribers: the B4 %s, public %s, a block holding port %d"
                    % (B4_6, recs[0]["addr"], recs[0]["peer_port"]))
        sess = [r for r in self.gw.sessions("proto", "udp", "port", 5001) if r["realm"] == "dslite"]
        self.note("sessions: %s" % sess)
        self.expect(len(sess) == 1 and B4_6 in str(sess[0]["inside"]) and ep(sess[0]["inside"]) == (B4_INNER, 5001)
                    and ep(sess[0]["outside"]) == self.seen_pub["b4"],
                    "nat show sessions: [%s]%s:5001 -> %s:%d" % ((B4_6, B4_INNER) + self.seen_pub["b4"]))
        evs = self.ev.find(lambda e: e.get("type") == "block-alloc" and e.get("b4") == B4_6)
        self.note("B4 events: %s" % evs)
        port = recs[0]["peer_port"]
        self.expect(any(e.get("public") == recs[0]["addr"] and e["port_lo"] <= port <= e["port_hi"] and
                        e.get("pool") == "b4pool" for e in evs),
                    "a block-alloc event for b4 %s, public %s, a range holding %d" % (B4_6, recs[0]["addr"], port))

    def t_dslite_ping(self):
        s = scapy()
        mark = self.b4.sniff.mark()
        for seq in range(1, 4):
            self.b4.send(s.IP(src=B4_INNER, dst=INET4) / s.ICMP(type=8, id=0x4242, seq=seq) /
                         (b"ds-lite ping %d" % seq))
        got = self.b4.replies(lambda ip: s.ICMP in ip and ip[s.ICMP].type == 0 and ip[s.ICMP].id == 0x4242, mark, n=3)
        self.expect(len(got) == 3, "3 echo replies came back in softwire packets (%d)" % len(got))
        self.expect(sorted(p[s.ICMP].seq for p in got) == [1, 2, 3], "sequence numbers 1, 2, 3")
        self.expect(all(p[s.IP].src == INET4 and inner_checksums_ok(p[s.IP]) for p in got),
                    "from %s, inner checksums right" % INET4)
        sess = [r for r in self.gw.sessions("proto", "icmp") if r["realm"] == "dslite"]
        self.expect(sess and ep(sess[0]["outside"])[0] == self.seen_pub.get("b4", ("?",))[0],
                    "an ICMP session of the B4 on its public address (%s)" % sess)

    def t_dslite_tcp(self):
        s = scapy()
        b4, sport = self.b4, 40100 + self.workers_now
        inet_sniff = Sniffer(self.hosts["inet"])
        try:
            t0 = time.time()
            c0 = self.safe_dslite_stats()
            mark = b4.sniff.mark()
            isn = random.randrange(1 << 31)
            b4.send(s.IP(src=B4_INNER, dst=INET4) / s.TCP(sport=sport, dport=TCP_PORT, flags="S", seq=isn,
                                                          window=65535, options=[("MSS", 1460)]))
            sa = b4.replies(lambda ip: s.TCP in ip and ip[s.TCP].dport == sport and ip[s.TCP].flags == "SA", mark)
            self.expect(len(sa) == 1, "the SYN-ACK came back to the B4 in a softwire packet")
            sa = sa[0][s.IP]
            self.expect(sa[s.TCP].ack == isn + 1 and inner_checksums_ok(sa), "SYN-ACK acks the SYN, checksums right")
            sent = inet_sniff.wait(lambda p: s.TCP in p and p[s.TCP].sport == TCP_PORT and p[s.TCP].flags == "SA"
                                   and in_b4pool(p[s.IP].dst), timeout=1, incoming=False)
            mss_sent, mss_back = tcp_mss(sent[0][s.TCP]) if sent else None, tcp_mss(sa[s.TCP])
            self.expect(mss_sent is not None and mss_sent > MSS_CLAMP,
                        "the internet host's SYN-ACK left with MSS %s (> %d)" % (mss_sent, MSS_CLAMP))
            self.expect(mss_back == MSS_CLAMP, "the SYN-ACK's MSS is clamped to %d towards the B4 (%s)"
                        % (MSS_CLAMP, mss_back))
            syn = inet_sniff.wait(lambda p: s.TCP in p and p[s.TCP].dport == TCP_PORT and p[s.TCP].flags == "S" and
                                  in_b4pool(p[s.IP].src), timeout=1)
            self.expect(len(syn) == 1, "the internet host received the SYN from b4pool")
            mss_in = tcp_mss(syn[0][s.TCP])
            self.expect(mss_in == MSS_CLAMP, "the SYN the internet host received carries MSS %d (clamped from 1460): %s"
                        % (MSS_CLAMP, mss_in))
            seq, ack = isn + 1, sa[s.TCP].seq + 1
            data = b"ds-lite tcp " + os.urandom(8).hex().encode()
            mark = b4.sniff.mark()
            b4.send(s.IP(src=B4_INNER, dst=INET4) / s.TCP(sport=sport, dport=TCP_PORT, flags="A", seq=seq, ack=ack))
            b4.send(s.IP(src=B4_INNER, dst=INET4) / s.TCP(sport=sport, dport=TCP_PORT, flags="PA", seq=seq, ack=ack) /
                    data)
            echo = b4.replies(lambda ip: s.TCP in ip and ip[s.TCP].dport == sport and bytes(ip[s.TCP].payload) == data,
                              mark)
            self.expect(len(echo) == 1, "the echo of the data came back through the AFTR")
            self.expect(inner_checksums_ok(echo[0][s.IP]), "its inner checksums are right")
            recs = self.srv["inet"].find("tcp", TCP_PORT, since=t0)
            self.expect(len(recs) == 1 and in_b4pool(recs[0]["addr"]), "the server accepted the connection from "
                        "b4pool (%s)" % recs)
            rows_ = [r for r in self.gw.sessions("proto", "tcp", "port", sport) if r["realm"] == "dslite"]
            self.expect(len(rows_) == 1 and rows_[0]["state"] in ("established", "ESTABLISHED"),
                        "nat show sessions: the B4's TCP session is established (%s)" % rows_)
            b4.send(s.IP(src=B4_INNER, dst=INET4) / s.TCP(sport=sport, dport=TCP_PORT, flags="R",
                                                          seq=seq + len(data)))
            c1 = self.safe_dslite_stats()
            self.note("dslite show stats changes: %s" % {k: v - (c0 or {}).get(k, 0) for k, v in (c1 or {}).items()
                                                         if v != (c0 or {}).get(k)})
            if c0 is not None:
                self.expect(c1.get("mss_clamped_in", 0) > c0.get("mss_clamped_in", 0) and
                            c1.get("mss_clamped_out", 0) > c0.get("mss_clamped_out", 0),
                            "dslite show stats: mss_clamped_in and mss_clamped_out counted")
        finally:
            inet_sniff.close()

    def safe_dslite_stats(self):
        try:
            return self.gw.dslite_stats()
        except AssertionError as e:
            self.note("(no DS-Lite counters: %s)" % e)
            return None

    def t_dslite_unknown_b4(self):
        s = scapy()
        d0, t0 = self.gw.drops("dslite_b4_unknown"), time.time()
        for i in range(2):
            self.b4.send(s.IP(src=B4_INNER, dst=INET4) / s.UDP(sport=5002, dport=UDP_PORT) / b"unknown b4",
                         src=B4_UNKNOWN6)
        time.sleep(0.5)
        d1 = self.gw.drops("dslite_b4_unknown")
        self.expect(d1 - d0 == 2, "dslite_b4_unknown +%d (2 packets from %s)" % (d1 - d0, B4_UNKNOWN6))
        self.expect(not self.srv_peer("udp", UDP_PORT, b"unknown b4", t0), "the internet host got none of them")

    def t_dslite_reassembly(self):
        s = scapy()
        payload = os.urandom(600).hex().encode()  # 1200 bytes: inner 1228, the tunnel packet 1268 + 8
        c0 = self.gw.dslite_stats()
        mark, t0 = self.b4.sniff.mark(), time.time()
        n = self.b4.send_fragmented(s.IP(src=B4_INNER, dst=INET4, id=0x7777) / s.UDP(sport=5003, dport=UDP_PORT) /
                                    payload, 500)
        self.expect(n >= 3, "the tunnel packet went out as %d IPv6 fragments" % n)
        recs = []
        deadline = time.time() + 3
        while not recs and time.time() < deadline:
            recs = self.srv_peer("udp", UDP_PORT, payload, t0)
            time.sleep(0.1)
        self.expect(len(recs) == 1 and recs[0]["size"] == len(payload) and in_b4pool(recs[0]["addr"]),
                    "the internet host got the whole %d-byte datagram from b4pool (%s)"
                    % (len(payload), [(r["addr"], r["size"]) for r in recs]))
        got = self.b4.replies(lambda ip: s.UDP in ip and ip[s.UDP].dport == 5003 and bytes(ip[s.UDP].payload) ==
                              payload, mark)
        self.expect(len(got) == 1, "its echo (inner %d bytes, under the AFTR mtu) came back" % (len(payload) + 28))
        c1 = self.gw.dslite_stats()
        d = delta(c1, c0, "frag_in", "reassembled")
        self.expect(d["frag_in"] == n and d["reassembled"] == 1, "dslite show stats: frag_in +%d (%d), reassembled "
                    "+%d (1)" % (d["frag_in"], n, d["reassembled"]))

    def b4_mapping(self, sport, inet_port):
        """The B4 sends one datagram to a socket of the internet host's; returns (that socket, public endpoint)."""
        u = self.hosts["inet"].socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", inet_port))
        u.settimeout(3)
        self.b4_udp(sport, b"open the mapping", dport=inet_port)
        try:
            data, peer = u.recvfrom(2000)
        except socket.timeout:
            u.close()
            raise AssertionError("the internet host's port %d got nothing from the B4" % inet_port)
        self.expect(data == b"open the mapping" and in_b4pool(peer[0]), "the B4's mapping is %s:%d" % peer)
        return u, peer

    def t_dslite_encap_frag(self):
        """DF clear, bigger than the AFTR mtu once encapsulated: the outer IPv6 packet is fragmented."""
        s = scapy()
        sport = 5004
        u, pub = self.b4_mapping(sport, 7001)
        try:
            c0 = self.gw.dslite_stats()
            payload = os.urandom(700).hex().encode()  # inner 1428 bytes: 1468 encapsulated > mtu 1400
            u.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT)  # DF clear, interface MTU
            mark = self.b4.sniff.mark()
            u.sendto(payload, pub)
            frags = self.b4.sniff.wait(lambda p: s.IPv6ExtHdrFragment in p and p[s.IPv6].src == AFTR6 and
                                       p[s.IPv6].dst == B4_6, mark, n=2, timeout=3)
            time.sleep(0.3)
            frags = [p for p in self.b4.sniff.packets(mark) if s.IPv6ExtHdrFragment in p and p[s.IPv6].src == AFTR6]
            self.note("fragments: %s" % [(p[s.IPv6].plen, p[s.IPv6ExtHdrFragment].offset, p[s.IPv6ExtHdrFragment].m)
                                         for p in frags])
            self.expect(len(frags) >= 2, "the reply reached the B4 as %d IPv6 fragments (AFTR -> B4)" % len(frags))
            self.expect(all(40 + p[s.IPv6].plen <= AFTR_MTU for p in frags),
                        "every fragment fits the AFTR mtu %d (%s)" % (AFTR_MTU, [40 + p[s.IPv6].plen for p in frags]))
            whole = s.defragment6(s.PacketList([p[s.IPv6] for p in frags]))
            ip = s.IP(bytes(whole[s.IPv6].payload)) if whole is not None else None
            self.expect(ip is not None and ip.dst == B4_INNER and s.UDP in ip and ip[s.UDP].dport == sport and
                        bytes(ip[s.UDP].payload) == payload,
                        "reassembled, the inner datagram is %s:%d -> %s:%d with the whole payload"
                        % (INET4, 7001, B4_INNER, sport))
            self.expect(not (ip.flags & 2) and inner_checksums_ok(ip), "inner DF clear, inner checksums right")
            c1 = self.gw.dslite_stats()
            d = delta(c1, c0, "encap_fragmented", "encap_fragments")
            self.expect(d["encap_fragmented"] == 1 and d["encap_fragments"] == len(frags),
                        "dslite show stats: encap_fragmented +%d (1), encap_fragments +%d (%d)"
                        % (d["encap_fragmented"], d["encap_fragments"], len(frags)))
        finally:
            u.close()

    def t_dslite_too_big(self):
        """DF set, bigger than the AFTR mtu once encapsulated: ICMP fragmentation needed (MTU mtu - 40) back to the
        sender, quoting its packet as it sent it (to the public address and port); nothing reaches the B4."""
        s = scapy()
        sport = 5005
        u, pub = self.b4_mapping(sport, 7002)
        inet_sniff = Sniffer(self.hosts["inet"])
        try:
            c0 = self.gw.dslite_stats()
            payload = os.urandom(700).hex().encode()
            u.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)  # DF set, the path MTU ignored
            mark = self.b4.sniff.mark()
            u.sendto(payload, pub)
            icmp = inet_sniff.wait(lambda p: s.ICMP in p and p[s.ICMP].type == 3 and p[s.ICMP].code == 4, timeout=3)
            self.expect(len(icmp) == 1, "the internet host got ICMP fragmentation needed (%d)" % len(icmp))
            m = icmp[0]
            mtu = unpack_icmp_mtu(m[s.ICMP])
            self.expect(m[s.IP].dst == INET4 and mtu == AFTR_MTU - 40,
                        "to %s, next-hop MTU %d (AFTR mtu %d - 40)" % (m[s.IP].dst, mtu, AFTR_MTU))
            qip = m.getlayer(s.IPerror)
            self.expect(qip is not None and qip.src == INET4 and qip.dst == pub[0] and
                        qip.getlayer(s.UDPerror) is not None and qip[s.UDPerror].dport == pub[1] and
                        qip[s.UDPerror].sport == 7002,
                        "it quotes the datagram as sent: %s:7002 -> %s:%d" % ((INET4,) + pub))
            time.sleep(0.3)
            big = [p for p in self.b4.sniff.packets(mark) if s.IPv6 in p and p[s.IPv6].src == AFTR6]
            self.expect(not big, "nothing of it reached the B4 (%d frames)" % len(big))
            c1 = self.gw.dslite_stats()
            self.expect(c1.get("too_big_icmp", 0) - c0.get("too_big_icmp", 0) == 1, "dslite show stats: "
                        "too_big_icmp +%d" % (c1.get("too_big_icmp", 0) - c0.get("too_big_icmp", 0)))
        finally:
            inet_sniff.close()
            u.close()

    # ------------------------------------------------------------------------------------------ the rest

    def t_handoff(self):
        st = self.gw.nat_stats()
        self.note(json.dumps(st))
        self.expect(st.get("handoff_out", 0) > 0 and st.get("handoff_in", 0) > 0,
                    "packets were handed to the owning worker (out %s, in %s)"
                    % (st.get("handoff_out"), st.get("handoff_in")))
        full = self.gw.drops("nat_handoff_full") - self.iperf_handoff_full
        self.expect(full == 0, "no hand-off queue overflow outside the iperf3 run (%d)" % full)

    def t_flush_release(self):
        """nat flush removes every session; the blocks go block_idle (2 s) later, each with a block-release event."""
        allocs = [e for e in self.ev.all() if e.get("type") == "block-alloc"]
        self.expect(len(allocs) >= (3 if DSLITE else 2), "block-alloc events so far: %d (t1, t2, the B4)" % len(allocs))
        rc, out = self.n.ctl_text("nat", "flush")
        self.note(out)
        self.expect(rc == 0, "nat flush accepted")
        self.expect(self.gw.nat_stats()["sessions_active"] == 0 or not self.gw.sessions(),
                    "no session left after the flush")
        want = {(e.get("vrf"), e.get("inside"), e.get("b4"), e["public"], e["port_lo"], e["port_hi"]) for e in allocs}
        deadline = time.time() + 15
        rel = set()
        while time.time() < deadline and not want <= rel:
            rel = {(e.get("vrf"), e.get("inside"), e.get("b4"), e["public"], e["port_lo"], e["port_hi"])
                   for e in self.ev.all() if e.get("type") == "block-release"}
            time.sleep(0.2)
        self.note("allocated %s, released %s" % (sorted(map(str, want)), sorted(map(str, rel))))
        self.expect(want <= rel, "every allocated block was released with an event (missing %s)"
                    % sorted(map(str, want - rel)))
        subs = self.gw.subscribers()
        self.expect(subs == [], "nat show subscribers is empty (%s)" % subs)
        st = self.gw.nat_stats()
        self.expect(st["subscribers_active"] == 0 and st["mappings_active"] == 0,
                    "subscribers_active %d, mappings_active %d" % (st["subscribers_active"], st["mappings_active"]))

    def t_after_flush(self):
        r = {t: udp_query(self.hosts[t], INET4, UDP_PORT) for t in SITES}
        self.expect(all(v == "reply" for v in r.values()), "both tenants' new flows work after the flush (%s)" % r)

    def t_stop(self):
        rc = self.stop()
        self.expect(rc == 0, "npsd exits 0 on SIGTERM (%s)" % rc)

    # ------------------------------------------------------------------------------------------ rounds

    def run_round(self, w):
        self.workers_now = w
        self.iperf_handoff_full = 0  # hand-off overflow counted under iperf3 (t_iperf), this npsd
        self.round = "%d worker%s" % (w, "" if w == 1 else "s")
        print("--- %s" % self.round, flush=True)
        try:
            self.start("%dw" % w, boot_conf(self.work, w))
        except Abort as e:
            print("FAIL  [%s] npsd starts with the nat and dslite sections\n      %s" % (self.round, str(e)[-800:]))
            self.failures.append("[%s] npsd starts" % self.round)
            return
        c = self.check
        c("npsd runs %d worker(s), NAT enabled with 9 public addresses" % w, self.t_workers)
        c("ping from both tenants (same private address) to the internet, each answered", self.t_ping)
        c("UDP from both tenants, same inside address:port: distinct public ports, replies back; nat show "
          "pools/subscribers/sessions/stats", self.t_udp)
        c("TCP from both tenants, same inside address:port: distinct public ports, each echo back", self.t_tcp)
        c("iperf3 from both tenants at once: no stall, the servers see the pool address, distinct ports",
          self.t_iperf)
        c("unsolicited inbound dropped and counted (blackhole, nat_filtered), nothing reaches a tenant",
          self.t_unsolicited)
        c("static mappings: the internet reaches each tenant's port forward", self.t_static)
        c("hairpinning: t2 reaches t1's port forward, t1 sees t2's public address", self.t_hairpin)
        c("block-alloc events: subscriber, public address, port range of each tenant", self.t_block_events)
        if not DSLITE:
            print("SKIP  [%s] DS-Lite checks (NAT_E2E_NO_DSLITE)" % self.round, flush=True)
        d = c if DSLITE else (lambda *a: None)
        d("DS-Lite UDP: B4 -> internet and back encapsulated (AFTR -> B4, inner to %s)" % B4_INNER, self.t_dslite_udp)
        d("DS-Lite ICMP echo through the AFTR", self.t_dslite_ping)
        d("DS-Lite TCP (scapy handshake, data echoed), MSS clamped to %d both ways" % MSS_CLAMP, self.t_dslite_tcp)
        d("DS-Lite: a B4 outside the prefixes is refused and counted", self.t_dslite_unknown_b4)
        d("DS-Lite: a fragmented tunnel packet is reassembled and reaches the internet host", self.t_dslite_reassembly)
        d("DS-Lite: a reply over the AFTR mtu with DF clear is fragmented in IPv6", self.t_dslite_encap_frag)
        d("DS-Lite: a reply over the AFTR mtu with DF set is answered with ICMP frag-needed", self.t_dslite_too_big)
        if w > 1:
            c("2 workers: packets handed to the owning worker", self.t_handoff)
        c("nat flush: sessions gone, every block released after block_idle with an event", self.t_flush_release)
        c("new flows work after the flush", self.t_after_flush)
        c("npsd stops cleanly on SIGTERM", self.t_stop)


def main():
    return tier_main(sys.argv, __doc__, "nat_e2e.py", "NAT / DS-Lite e2e", Tier, (NPSD, NPSCTL))


if __name__ == "__main__":
    sys.exit(main())
