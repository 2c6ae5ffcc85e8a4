#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
The IPsec end-to-end tier: npsd (net_af_packet ports on veth pairs) terminating a route-based ESP tunnel from a
site whose IPsec router is the scapy peer (peer.py) running as a bridge in a namespace; real tools (ping) and
sockets in the site and tenant hosts.

  ips_e2e.py WORKDIR [WORKERS...]     default: 1 2 (one round with one worker, then one with two)

   ips-site  eth0 10.9.1.2/24 2001:db8:9:1::2/64 (mtu 1400)
        |  veth (no npsd port)
   ips-peer  site0 10.9.1.1/24 2001:db8:9:1::1/64       the scapy peer bridge (AF_PACKET on site0 and eth0)
             eth0  192.0.2.2/24 2001:db8:ff::2/64 (+ .3/::3, .4/::4 when it roams) --- p1 wan (vrf underlay)
                                                                                     192.0.2.1/24 2001:db8:ff::1/64
   ips-ten   eth0  10.1.0.2/24 2001:db8:1::2/64 --- p0 lan (vrf tenant) 10.1.0.1/24 2001:db8:1::1/64
   npsd: interface t1 kind ipsec (vrf tenant, mtu 1400, mss clamp 1360), routes 10.9.1.0/24 and 2001:db8:9:1::/64
   dev t1; the tunnel from the gateway's wan address to the peer's.

Round 1 (one worker): outer IPv4, aes-gcm-128 with ESN, tunnel and SAs from the boot configuration. Round 2 (two
workers): outer IPv6 with UDP encapsulation, aes-cbc-256-sha256, tunnel and SAs added over the control socket as a
controller would. Each round: ping both ways (IPv4, IPv6), TCP both ways, the counters of ipsec show tunnels / sas /
stats against the peer's own counts; roaming by the controller (`ipsec tunnel set remote`) and by the gateway
(follow_peer: peer_moved event, remote shown updated) with paced UDP streams both ways and no datagram lost; rekey
under load (new inbound SA added, the peer switches, new outbound SA, old ones deleted) with no datagram lost; SA
lifetimes (soft / hard packets: events, ipsec_sa_expired drops) and sequence-number exhaustion when `ipsec sa add`
offers an initial sequence number (else SKIP); npsd stops cleanly.

One PASS/FAIL/SKIP line per check; details in WORKDIR/log. Exit 0 when all passed, 1 otherwise, 2 when the
harness could not run. npsd's pid is kept in WORKDIR/npsd.pid for run.sh's clean-up.
"""
import os
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ips_e2e_lib import (REPO, Abort, EventSub, Host, IpsecView, Npsd, PeerBridge, SA, Tunnel, UdpCounter,  # noqa
                         UdpStream, log, mac_of, sh, tcp_connect, tcp_echo, tier_main)

NPSD = os.environ.get("NPSD", os.path.join(REPO, os.environ.get("BUILD", "build"), "npsd"))
NPSCTL = os.environ.get("NPSCTL", os.path.join(REPO, os.environ.get("BUILD", "build"), "npsctl"))
PREFIX = "npsipse2e"
E2E_LIB = os.path.join(REPO, "test", "e2e", "lib.sh")

TEN4, TEN6, LAN4, LAN6 = "10.1.0.2", "2001:db8:1::2", "10.1.0.1", "2001:db8:1::1"
SITE4, SITE6, SGW4, SGW6 = "10.9.1.2", "2001:db8:9:1::2", "10.9.1.1", "2001:db8:9:1::1"
GW = {4: "192.0.2.1", 6: "2001:db8:ff::1"}
PEER = {4: ["192.0.2.2", "192.0.2.3", "192.0.2.4"], 6: ["2001:db8:ff::2", "2001:db8:ff::3", "2001:db8:ff::4"]}
TUN_MTU, MSS = 1400, 1360
ECHO_PORT, STREAM_PORT = 8080, 7100
TENANT_PREFIXES = ["10.1.0.0/24", "2001:db8:1::/64"]

ROUNDS = {  # worker count -> the tunnel of that round
    1: {"outer": 4, "alg": "aes-gcm-128", "esn": True, "udp": False, "via_ctl": False},
    2: {"outer": 6, "alg": "aes-cbc-256-sha256", "esn": False, "udp": True, "via_ctl": True},
}


METRICS_PORT = 19471  # Prometheus endpoint of the tier's npsd (the tunnel health metrics are checked there)


def scrape_tunnel(family, iface):
    """The value of npsgw_ipsec_tunnel_<family>_total{interface=iface,...} on the metrics endpoint, or None."""
    import urllib.request
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % METRICS_PORT, timeout=5).read().decode()
    prefix = 'npsgw_ipsec_tunnel_%s_total{interface="%s",' % (family, iface)
    for line in text.splitlines():
        if line.startswith(prefix):
            return int(line.rsplit(" ", 1)[1])
    return None


def boot_conf(work, workers, spec, sas):
    out = []
    if workers == 1:
        out.append('eal: { lcores = "0-1"; memory_mb = 1024; hugepages = "no"; file_prefix = "%s"; };' % PREFIX)
    else:  # 2 CPUs: the main lcore on CPU 0, both workers on CPU 1 (as test/e2e does)
        out.append('eal: { lcores = "0-2"; memory_mb = 1024; hugepages = "no"; file_prefix = "%s";\n'
                   '       extra_args = [ "--lcores=0@0,1@1,2@1" ]; };' % PREFIX)
    out.append('control: { socket = "%s"; };' % os.path.join(work, "npsd.sock"))
    out.append('metrics: { listen = "127.0.0.1:%d"; interval_ms = 100; };' % METRICS_PORT)
    devs = ["ips-ten", "ips-peer"]
    out.append("devices = (\n%s\n);" % ",\n".join(
        '  { name = "p%d"; vdev = "net_af_packet%d,iface=%s,qpairs=%d"; rx_queues = %d; }'
        % (i, i, d, workers, workers) for i, d in enumerate(devs)))
    rx = lambda k: ", ".join('"p%d:%d"' % (i, k) for i in range(len(devs)))  # noqa: E731
    out.append("workers = ( %s );" % ",\n            ".join(
        "{ lcore = %d; rx = ( %s ); }" % (k + 1, rx(k)) for k in range(workers)))
    out.append('limits = { max_vrfs = 8; };')
    out.append('vrfs = ( { name = "tenant"; id = 10; fib = "compact"; }, { name = "underlay"; id = 20; fib = '
               '"compact"; } );')
    out.append('interfaces = (\n'
               '  { name = "lan"; device = "p0"; vrf = "tenant"; addresses = [ "%s/24", "%s/64" ]; },\n'
               '  { name = "wan"; device = "p1"; vrf = "underlay"; addresses = [ "%s/24", "%s/64" ]; },\n'
               '  { name = "t1"; kind = "ipsec"; vrf = "tenant"; mtu = %d; }\n);' % (LAN4, LAN6, GW[4], GW[6], TUN_MTU))
    out.append('routes = (\n'
               '  { vrf = "tenant"; prefix = "10.9.1.0/24"; dev = "t1"; },\n'
               '  { vrf = "tenant"; prefix = "2001:db8:9:1::/64"; dev = "t1"; }\n);')
    if not spec["via_ctl"]:
        o = spec["outer"]
        tun = ('    { interface = "t1"; transport_vrf = "underlay"; local = "%s"; remote = "%s"; udp_encap = %s;\n'
               '      mss_clamp = %d;\n      sas = ( %s ); }' % (GW[o], PEER[o][0], "true" if spec["udp"] else "false",
                                                                  MSS, ",\n              ".join(sas)))
        out.append("ipsec: {\n  tunnels = (\n%s\n  );\n};" % tun)
    else:
        # IPsec runs only when its section is in the boot file (its tables are sized at boot); the controller adds
        # the tunnels and SAs. max_sas 16: the smallest SPI table (64 slots), which t_spi_churn's deleted SPIs fill
        out.append("ipsec: { max_sas = 16; };")
    return "\n".join(out) + "\n"


def sa_conf_text(sa_, direction):
    d = sa_.conf(direction)
    return "{ " + " ".join("%s = %s;" % (k, ("true" if v else "false") if isinstance(v, bool) else
                                         (str(v) if isinstance(v, int) else '"%s"' % v)) for k, v in d.items()) + " }"


class Tier:
    def __init__(self, work, workers):
        self.work, self.workers = work, workers
        self.logf = open(os.path.join(work, "log"), "a")
        self.failures, self.passed, self.skipped = [], 0, 0
        self.hosts = {n: Host("ips-" + n, "ips-" + n) for n in ("ten", "peer", "site")}
        self.round = ""
        self.n = self.ev = self.bridge = None
        self.spi_base = 0x5000
        self.all_sas = []

    # one check: fn raises AssertionError (or anything) to fail; "skip" return value: SKIP line
    def check(self, name, fn, *args):
        name = "[%s] %s" % (self.round, name)
        log(self.logf, "", "=== " + name)
        if self.n is None or not self.n.alive():
            print("FAIL  %s (npsd is not running)" % name, flush=True)
            self.failures.append(name)
            return False
        try:
            res = fn(*args)
            if isinstance(res, str) and res.startswith("skip"):
                print("SKIP  %s (%s)" % (name, res[5:]), flush=True)
                self.skipped += 1
                return True
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
        h["ten"].create([(TEN4 + "/24", LAN4), (TEN6 + "/64", LAN6)], self.logf)
        h["peer"].create([(PEER[4][0] + "/24", None), (PEER[6][0] + "/64", None)], self.logf)
        # the site host hangs off the peer namespace only: a veth pair between the two namespaces
        site = h["site"]
        site.delete(self.logf)
        for link in ("ips-s0", "ips-s1"):  # leftovers of an interrupted run
            sh(["ip", "link", "del", link], self.logf)
        sh(["ip", "netns", "add", site.name], self.logf, check=True)
        sh(["ip", "link", "add", "ips-s0", "type", "veth", "peer", "name", "ips-s1"], self.logf, check=True)
        sh(". %s; nps_txcsum_off ips-s0; nps_txcsum_off ips-s1" % E2E_LIB, self.logf, check=True)
        sh(["ip", "link", "set", "ips-s0", "netns", site.name], self.logf, check=True)
        sh(["ip", "link", "set", "ips-s1", "netns", h["peer"].name], self.logf, check=True)
        site.fd = os.open("/run/netns/" + site.name, os.O_RDONLY)
        pe = h["peer"]
        for cmd in (["ip", "link", "set", "ips-s1", "name", "site0"], ["ip", "link", "set", "site0", "up"],
                    ["ip", "addr", "add", SGW4 + "/24", "dev", "site0"],
                    ["ip", "-6", "addr", "add", SGW6 + "/64", "dev", "site0", "nodad"],
                    ["sysctl", "-qw", "net.ipv4.ip_forward=0"], ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=0"],
                    ["sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0"],
                    # routes to the tenant, or the kernel answers the site's IPv6 with "no route" (with one and
                    # forwarding off it drops them quietly: the bridge takes them)
                    ["ip", "route", "add", "default", "via", GW[4]],
                    ["ip", "-6", "route", "add", "default", "via", GW[6]]):
            pe.exec(cmd, self.logf)
        for cmd in (["ip", "link", "set", "ips-s0", "name", "eth0"], ["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "set", "eth0", "mtu", str(TUN_MTU)], ["ip", "link", "set", "eth0", "up"],
                    ["ip", "addr", "add", SITE4 + "/24", "dev", "eth0"],
                    ["ip", "-6", "addr", "add", SITE6 + "/64", "dev", "eth0", "nodad"],
                    ["ip", "route", "add", "default", "via", SGW4],
                    ["ip", "-6", "route", "add", "default", "via", SGW6]):
            site.exec(cmd, self.logf)
        # the peer's extra outer addresses (roaming) are there from the start: the kernel answers ARP / NDP for them
        for v in (4, 6):
            for a in PEER[v][1:]:
                pe.exec(["ip"] + (["-6"] if v == 6 else []) + ["addr", "add", a + ("/64" if v == 6 else "/24"),
                                                                "dev", "eth0"] + (["nodad"] if v == 6 else []),
                        self.logf)
        self.servers = []

    def teardown(self):
        for h in self.hosts.values():
            h.delete(self.logf)
        for link in ("ips-s0", "ips-s1"):
            sh(["ip", "link", "del", link], self.logf)

    # ------------------------------------------------------------------------------------------ a round

    def new_sa(self, tag):
        """A fresh SA of the round's algorithm (SPIs unique over the run)."""
        self.spi_base += 1
        sa_ = SA(self.spec["alg"], self.spi_base, esn=self.spec["esn"], seed="%s-%d-%s" % (tag, self.spi_base,
                                                                                             self.round))
        self.all_sas.append(sa_)
        return sa_

    def start(self, w):
        self.spec = spec = ROUNDS.get(w, ROUNDS[2])
        o = spec["outer"]
        self.sa_in, self.sa_out = self.new_sa("in"), self.new_sa("out")  # npsd's inbound / outbound
        for h in self.hosts.values():
            h.exec(["ip", "neigh", "flush", "all"])
        path = os.path.join(self.work, "npsd-%dw.conf" % w)
        with open(path, "w") as f:
            f.write(boot_conf(self.work, w, spec, [sa_conf_text(self.sa_in, "in"), sa_conf_text(self.sa_out, "out")]))
        self.n = Npsd(NPSD, NPSCTL, self.work, "%dw" % w, path)
        self.n.start()
        self.v = IpsecView(self.n)
        self.ev = EventSub(self.n.sock, "ipsec,config")  # config: the key check covers its events too
        if spec["via_ctl"]:
            words = ["ipsec", "tunnel", "add", "interface", "t1", "transport_vrf", "underlay", "local", GW[o],
                     "remote", PEER[o][0], "udp_encap", "on" if spec["udp"] else "off", "mss_clamp", str(MSS)]
            self.n.ok(*words)
            self.n.ok(*self.sa_in.ctl_add("t1", "in"))
            self.n.ok(*self.sa_out.ctl_add("t1", "out"))
        with open("/sys/class/net/ips-peer/address") as f:  # npsd's af_packet port takes its veth's MAC
            gw_mac = f.read().strip()
        tun = Tunnel(PEER[o][0], GW[o], self.sa_in, self.sa_out, udp_encap=spec["udp"])
        self.bridge = PeerBridge(self.hosts["peer"], "site0", "eth0", gw_mac, mac_of(self.hosts["site"], "eth0"),
                                 tun, TENANT_PREFIXES, self.logf)
        # the hosts learn their gateways (and npsd its neighbours) before the first timed probe
        self.hosts["ten"].exec(["ping", "-n", "-c", "1", "-W", "2", LAN4], self.logf)
        self.hosts["ten"].exec(["ping", "-6", "-n", "-c", "1", "-W", "2", LAN6], self.logf)
        self.hosts["peer"].exec(["ping", "-n", "-c", "1", "-W", "2", GW[o]], self.logf)

    def stop(self):
        for attr in ("ev", "bridge"):
            obj = getattr(self, attr)
            if obj is not None:
                obj.close()
                setattr(self, attr, None)
        rc = self.n.stop() if self.n else None
        return rc

    # ------------------------------------------------------------------------------------------ helpers

    def ping(self, host, dst, count=5):
        return host.exec(["ping", "-n", "-c", str(count), "-i", "0.2", "-w", "8", dst], self.logf, timeout=20)

    def state(self, what=""):
        t = self.v.tunnels().get("t1", {})
        b = self.bridge.snapshot()
        drops = {k: v for k, v in self.v.drops().items() if v}
        ports = [{k: v for k, v in x.items() if k in ("port", "rx_packets", "tx_packets", "rx_missed", "rx_errors")}
                 for x in (self.n.ctl("show", "stats").get("data") or {}).get("ports", [])]
        self.note("%s ipsec show tunnels t1: %s" % (what, t), "%s bridge: %s" % (what, b),
                  "%s drops: %s" % (what, drops), "%s ports: %s" % (what, ports))
        return t, b

    def streams(self, seconds, pps, tag, during=None):
        """UDP datagrams tenant -> site and site -> tenant (IPv4 and IPv6 alternately by direction) for seconds;
        during(): called once in the middle. Returns {stream: (sent, received set)}."""
        v6 = self.spec["outer"] == 6  # vary the inner family with the round
        sink_site = UdpCounter(self.hosts["site"], socket.AF_INET6 if v6 else socket.AF_INET, STREAM_PORT)
        sink_ten = UdpCounter(self.hosts["ten"], socket.AF_INET, STREAM_PORT)
        out_tag, in_tag = "%s-out" % tag, "%s-in" % tag
        s_out = UdpStream(self.hosts["ten"], out_tag, SITE6 if v6 else SITE4, STREAM_PORT, pps)
        s_in = UdpStream(self.hosts["site"], in_tag, TEN4, STREAM_PORT, pps)
        try:
            time.sleep(seconds / 2)
            res_during = during() if during else None
            time.sleep(seconds / 2)
        finally:
            n_out, n_in = s_out.stop(), s_in.stop()
            # the last ones through the bridge (scapy's ESP, slower while the controller churns SAs): at least 1 s,
            # then while datagrams are still coming in, up to 5 s; what is missing after that is lost
            deadline, before = time.time() + 5.0, -1
            time.sleep(1.0)
            while True:
                got_out, got_in = sink_site.got(out_tag), sink_ten.got(in_tag)
                now = len(got_out) + len(got_in)
                if now >= n_out + n_in or now == before or time.time() > deadline:
                    break
                before = now
                time.sleep(0.5)
            dups = sink_site.dups + sink_ten.dups
            sink_site.close()
            sink_ten.close()
        res = {"out": (n_out, got_out), "in": (n_in, got_in), "dups": dups, "during": res_during}
        self.note("streams %s: tenant->site sent %d got %d; site->tenant sent %d got %d; dups %d" % (
            tag, n_out, len(got_out), n_in, len(got_in), dups))
        return res

    def expect_no_loss(self, res):
        for k in ("out", "in"):
            sent, got = res[k]
            missing = sorted(set(range(sent)) - got)
            self.expect(sent > 0 and not missing, "%s stream: %d sent, all received (missing %d: %s)"
                        % ({"out": "tenant->site", "in": "site->tenant"}[k], sent, len(missing), missing[:20]))
        self.expect(res["dups"] == 0, "no datagram received twice (%d)" % res["dups"])

    # ------------------------------------------------------------------------------------------ checks

    def t_ping(self):
        for host, dsts in ((self.hosts["site"], (TEN4, TEN6)), (self.hosts["ten"], (SITE4, SITE6))):
            for d in dsts:
                rc, out = self.ping(host, d)
                if rc != 0:
                    self.state("after a failed ping")
                self.expect(rc == 0 and " 0% packet loss" in out, "%s pings %s through the tunnel, every echo "
                            "answered" % (host.name, d))
        t, b = self.state("after ping")
        self.expect(b["dec_err"] == 0 and b["enc_err"] == 0, "the peer decrypted everything npsd sent (%s)"
                    % b["last_err"])

    def t_tcp(self):
        servers = []
        try:
            for srv_host, cli_host, dst in ((self.hosts["ten"], self.hosts["site"], TEN4),
                                            (self.hosts["site"], self.hosts["ten"], SITE6)):
                srv = EchoServer(srv_host, ECHO_PORT)
                servers.append(srv)
                out, s = tcp_connect(cli_host, dst, ECHO_PORT, timeout=5)
                self.expect(out == "ok", "%s connects to %s:%d through the tunnel (%s)" % (cli_host.name, dst,
                                                                                        ECHO_PORT, out))
                with s:
                    data = bytes((i * 7) & 0xFF for i in range(200000))
                    self.expect(tcp_echo(s, data, timeout=15), "%s: 200 kB echoed back" % cli_host.name)
        finally:
            for srv in servers:
                srv.close()
        t, b = self.state("after tcp")
        self.expect(b["dec_err"] == 0, "the peer decrypted everything (%s)" % b["last_err"])

    def t_counters(self):
        t, b = self.state()
        tx_peer = sum(b["dec"].values())  # what npsd sent the peer
        rx_peer = sum(b["enc"].values())  # what the peer sent npsd
        rx = t.get("rx_packets", t.get("rx"))
        tx = t.get("tx_packets", t.get("tx"))
        self.expect(rx == rx_peer, "ipsec show tunnels t1 rx_packets %s = what the peer sent (%d)" % (rx, rx_peer))
        self.expect(tx == tx_peer, "ipsec show tunnels t1 tx_packets %s = what the peer decrypted (%d)"
                    % (tx, tx_peer))
        for k in ("integrity_failures", "replay_drops", "decrypt_errors"):
            if k in t:
                self.expect(t[k] == 0, "%s = %s" % (k, t[k]))
        sas = self.v.sas("t1")
        self.note("ipsec show sas t1: %s" % sas)
        spis = {int(str(r.get("spi")), 0) if isinstance(r.get("spi"), str) else r.get("spi") for r in sas}
        self.expect({self.sa_in.spi, self.sa_out.spi} <= spis, "ipsec show sas t1 lists SPIs %#x and %#x (%s)"
                    % (self.sa_in.spi, self.sa_out.spi, spis))
        self.expect_no_keys()
        st = self.v.stats()
        self.note("ipsec show stats: %s" % st)
        self.expect(st.get("encrypted", 0) >= tx_peer and st.get("decrypted", 0) >= rx_peer,
                    "ipsec show stats: encrypted %s >= %d, decrypted %s >= %d" % (st.get("encrypted"), tx_peer,
                                                                                 st.get("decrypted"), rx_peer))
        drops = {k: v for k, v in self.v.drops().items() if v and (k.startswith("esp_") or k.startswith("ipsec_"))}
        self.expect(not drops, "no IPsec drops (%s)" % drops)
        # The same health counters on the Prometheus endpoint (snapshots every 100 ms).
        time.sleep(0.5)
        m_rx, m_tx = scrape_tunnel("rx_packets", "t1"), scrape_tunnel("tx_packets", "t1")
        self.expect(m_rx == rx and m_tx == tx, "Prometheus npsgw_ipsec_tunnel_{rx,tx}_packets_total{interface=\"t1\"} "
                    "%s/%s = ipsec show tunnels %s/%s" % (m_rx, m_tx, rx, tx))

    def expect_no_keys(self):
        """No key of any SA of the run (nor a 16-hex-digit piece of one) in ipsec show tunnels / sas / stats, show
        stats, the events received or npsd's log."""
        texts = {"ipsec show tunnels": self.n.ctl_text("ipsec", "show", "tunnels")[1],
                 "ipsec show sas": self.n.ctl_text("ipsec", "show", "sas")[1],
                 "ipsec show sas --json": str(self.n.ctl("ipsec", "show", "sas")),
                 "ipsec show stats": self.n.ctl_text("ipsec", "show", "stats")[1],
                 "show stats": self.n.ctl_text("show", "stats")[1],
                 "events": str(self.ev.all()), "npsd log": self.n.log_tail(1 << 20)}
        for sa_ in self.all_sas:
            for key in (sa_.key, sa_.auth_key):
                if key is None:
                    continue
                pieces = {key.hex()[i:i + 16] for i in range(0, len(key.hex()) - 15, 8)}
                for what, text in texts.items():
                    low = text.lower()
                    self.expect(not any(p in low for p in pieces), "no key material of SPI %#x in %s"
                                % (sa_.spi, what))

    def t_roam_controller(self):
        o = self.spec["outer"]
        new = PEER[o][1]

        def move():
            self.n.ok("ipsec", "tunnel", "set", "interface", "t1", "remote", new)
            self.bridge.move(src=new)
            return self.v.tunnels().get("t1", {})
        res = self.streams(4, 100, "roam-ctl", move)
        t, b = self.state("after the controller's move")
        self.expect(str(t.get("remote", "")).startswith(new) or new in str(t.get("remote")),
                    "ipsec show tunnels t1: remote %s (%s)" % (new, t.get("remote")))
        after = [k for k, n in b["dec_from"].items() if k[1] == new]
        self.expect(after, "npsd's packets reach the peer's new address %s (%s)" % (new, b["dec_from"]))
        self.expect_no_loss(res)

    def t_roam_follow(self):
        o = self.spec["outer"]
        new = PEER[o][2]
        self.n.ok("ipsec", "tunnel", "set", "interface", "t1", "follow_peer", "on")
        t0 = time.time()
        sport = 4600 if self.spec["udp"] else None

        def move():
            self.bridge.move(src=new, sport=sport)
            return time.time()
        res = self.streams(4, 100, "roam-follow", move)
        evs = self.ev.find(lambda e: "peer_moved" in str(e), timeout=3)
        self.note("events: %s" % evs)
        self.expect(len(evs) >= 1, "a peer_moved event on topic ipsec (%d)" % len(evs))
        self.expect(new in str(evs[0]), "the event names the new address %s: %s" % (new, evs[0]))
        t, b = self.state("after the peer roamed")
        self.expect(new in str(t.get("remote")), "ipsec show tunnels t1: remote %s (%s)" % (new, t.get("remote")))
        if sport:
            self.expect(str(sport) in str(t.get("remote_port", t.get("remote"))),
                        "remote port followed the peer to %d (%s)" % (sport, t))
            used = [k for k in b["dec_from"] if k[1] == new and k[2] == sport]
            self.expect(used, "npsd sends to %s port %d (%s)" % (new, sport, b["dec_from"]))
        self.expect_no_loss(res)
        self.note("moved within %.1f s" % (time.time() - t0))
        # back to a fixed endpoint for the next checks
        self.n.ok("ipsec", "tunnel", "set", "interface", "t1", "follow_peer", "off")

    def t_rekey(self):
        old_in, old_out = self.sa_in, self.sa_out
        new_in, new_out = self.new_sa("rekey-in"), self.new_sa("rekey-out")

        def rekey():
            self.bridge.add_rx_sa(new_out)  # the peer accepts npsd's next SA before npsd uses it
            self.n.ok(*new_in.ctl_add("t1", "in"))
            time.sleep(0.3)
            self.bridge.set_tx_sa(new_in)  # the peer switches: both inbound SAs are accepted by npsd meanwhile
            time.sleep(0.3)
            self.n.ok(*new_out.ctl_add("t1", "out"))
            time.sleep(0.5)
            self.n.ok("ipsec", "sa", "del", "spi", str(old_in.spi))
            self.n.ok("ipsec", "sa", "del", "spi", str(old_out.spi), "interface", "t1", "direction", "out")
            return self.v.sas("t1")
        res = self.streams(6, 200, "rekey", rekey)
        self.note("sas after the rekey: %s" % res["during"])
        t, b = self.state("after the rekey")
        self.expect(b["enc"].get(new_in.spi, 0) > 0 and b["dec"].get(new_out.spi, 0) > 0,
                    "traffic flows on the new SAs both ways (peer sent %d on %#x, decrypted %d on %#x)"
                    % (b["enc"].get(new_in.spi, 0), new_in.spi, b["dec"].get(new_out.spi, 0), new_out.spi))
        spis = {r.get("spi") for r in self.v.sas("t1")}
        spis = {int(s, 0) if isinstance(s, str) else s for s in spis}
        self.expect(old_in.spi not in spis and old_out.spi not in spis, "the old SAs are gone from ipsec show sas "
                    "(%s)" % spis)
        self.expect_no_loss(res)
        self.sa_in, self.sa_out = new_in, new_out
        self.bridge.del_rx_sa(old_out.spi)

    def t_spi_churn(self):
        """A controller rekeying many tunnels: 60 inbound SAs added and deleted while traffic flows. Their tombstones
        use up the SPI table's spare slots (max_sas 16: 64 slots, 48 usable), so fresh tables are published under
        traffic; every packet still finds its SA."""
        r0 = self.v.stats().get("spi_table_rebuilds", 0)

        def churn():
            for _ in range(60):
                sa_ = self.new_sa("churn")
                self.n.ok(*sa_.ctl_add("t1", "in"))
                self.n.ok("ipsec", "sa", "del", "spi", str(sa_.spi))
        res = self.streams(6, 200, "churn", churn)
        rebuilt = self.v.stats().get("spi_table_rebuilds", 0) - r0
        self.expect(rebuilt >= 1, "ipsec show stats: spi_table_rebuilds +%d (at least 1)" % rebuilt)
        spis = {int(r["spi"], 0) if isinstance(r.get("spi"), str) else r.get("spi") for r in self.v.sas("t1")}
        self.expect(spis == {self.sa_in.spi, self.sa_out.spi}, "t1 keeps its own two SAs (%s)" % sorted(spis))
        self.expect_no_loss(res)

    def t_lifetimes(self):
        """A new outbound SA with soft 10 / hard 20 packets: events, then ipsec_sa_expired drops; a fresh SA
        restores traffic."""
        sa_ = self.new_sa("life")
        self.bridge.add_rx_sa(sa_)
        prev = self.sa_out
        self.n.ok(*sa_.ctl_add("t1", "out", soft_packets=10, hard_packets=20))
        self.del_out(prev)
        d0 = self.v.drops().get("ipsec_sa_expired", 0)
        rc, out = self.hosts["ten"].exec(["ping", "-n", "-c", "40", "-i", "0.1", "-w", "8", SITE4], self.logf,
                                         timeout=20)
        soft = self.ev.find(lambda e: "sa_soft_lifetime" in str(e) and str(sa_.spi) in str(e) or
                            ("sa_soft_lifetime" in str(e) and hex(sa_.spi) in str(e)), timeout=3)
        hard = self.ev.find(lambda e: "sa_hard_lifetime" in str(e), timeout=3)
        d1 = self.v.drops().get("ipsec_sa_expired", 0)
        self.note("events: %s" % self.ev.all())
        self.expect(soft, "sa_soft_lifetime event for SPI %#x" % sa_.spi)
        self.expect(hard, "sa_hard_lifetime event")
        self.expect(d1 - d0 > 0, "ipsec_sa_expired drops +%d" % (d1 - d0))
        b = self.bridge.snapshot()
        n = b["dec"].get(sa_.spi, 0)
        self.expect(20 <= n <= 25, "the peer got %d packets on the SA: its hard limit 20 (+ the documented lag "
                    "of one control loop)" % n)
        fresh = self.new_sa("after-life")
        self.bridge.add_rx_sa(fresh)
        self.n.ok(*fresh.ctl_add("t1", "out"))
        self.del_out(sa_)
        rc, out = self.ping(self.hosts["ten"], SITE4)
        self.expect(rc == 0, "a fresh outbound SA restores traffic")
        self.sa_out = fresh

    def t_tunnel_iface_set(self):
        """The tunnel interface changed at run time is followed at once by its next hop's copy (struct nexthop
        tunnel_out): MTU lowered -> a DF ping over it gets fragmentation needed with the new MTU, one that fits
        passes; state down -> iface_down drops, up -> traffic again."""
        ten = self.hosts["ten"]
        low = TUN_MTU - 100

        def df_ping(size):
            return ten.exec(["ping", "-n", "-M", "do", "-s", str(size), "-c", "2", "-i", "0.2", "-w", "4", SITE4],
                            self.logf, timeout=20)
        rc, out = df_ping(TUN_MTU - 28)
        self.expect(rc == 0, "a DF ping of the tunnel MTU %d passes before the change" % TUN_MTU)
        self.n.ok("interface", "set", "name", "t1", "mtu", str(low))
        rc, out = df_ping(TUN_MTU - 28)
        self.expect(rc != 0 and "mtu = %d" % low in out, "MTU %d: fragmentation needed with the new MTU (%s)"
                    % (low, " ".join(out.split())[-160:]))
        rc, out = df_ping(low - 28)
        self.expect(rc == 0, "MTU %d: a DF ping that fits passes" % low)
        d0 = self.v.drops().get("iface_down", 0)
        self.n.ok("interface", "set", "name", "t1", "state", "down")
        rc, out = self.ping(ten, SITE4, count=3)
        d1 = self.v.drops().get("iface_down", 0)
        self.expect(rc != 0 and d1 - d0 >= 3, "tunnel down: no reply, iface_down drops +%d" % (d1 - d0))
        self.n.ok("interface", "set", "name", "t1", "state", "up")
        self.n.ok("interface", "set", "name", "t1", "mtu", str(TUN_MTU))
        ten.exec(["ip", "route", "flush", "cache"], self.logf, timeout=10)
        rc, out = df_ping(TUN_MTU - 28)
        self.expect(rc == 0, "up again with MTU %d: a DF ping of the MTU passes" % TUN_MTU)

    def t_seq_exhaustion(self):
        rc, out = self.n.ctl_text("help")
        line = next((x for x in out.splitlines() if "ipsec sa add" in x), "")
        if "seq" not in line:
            return "skip: `ipsec sa add` has no initial sequence number option (%s)" % line.strip()[:100]
        sa_ = self.new_sa("exhaust")
        # With ESN the last usable number leaves 64 workers x 128 packets of headroom below 2^64 (docs/IPSEC.md).
        top = (1 << 64) - 1 - 64 * 128 if sa_.esn else (1 << 32) - 1
        sa_.rx_top = top - 3  # the peer infers seq-hi from the last number it saw
        self.bridge.add_rx_sa(sa_)
        prev = self.sa_out
        self.n.ok(*(sa_.ctl_add("t1", "out") + ["seq", str(top - 3)]))
        self.del_out(prev)
        d0 = self.v.drops().get("ipsec_seq_exhausted", 0)
        self.hosts["ten"].exec(["ping", "-n", "-c", "6", "-i", "0.2", "-w", "4", SITE4], self.logf, timeout=20)
        d1 = self.v.drops().get("ipsec_seq_exhausted", 0)
        ev = self.ev.find(lambda e: "sa_seq_exhausted" in str(e), timeout=3)
        b = self.bridge.snapshot()
        self.expect(b["dec"].get(sa_.spi, 0) == 3, "3 packets sent before the sequence space ran out (%d)"
                    % b["dec"].get(sa_.spi, 0))
        self.expect(d1 - d0 >= 3, "ipsec_seq_exhausted drops +%d" % (d1 - d0))
        self.expect(ev, "sa_seq_exhausted event")
        fresh = self.new_sa("after-exhaust")
        self.bridge.add_rx_sa(fresh)
        self.n.ok(*fresh.ctl_add("t1", "out"))
        self.del_out(sa_)
        rc, out = self.ping(self.hosts["ten"], SITE4)
        self.expect(rc == 0, "a fresh outbound SA restores traffic")
        self.sa_out = fresh

    def del_out(self, sa_):
        """The controller removes an outbound SA it replaced (a tunnel lists 4 at most)."""
        self.n.ok("ipsec", "sa", "del", "spi", str(sa_.spi), "interface", "t1", "direction", "out")

    def t_stop(self):
        rc = self.stop()
        self.expect(rc == 0, "npsd exits 0 on SIGTERM (%s)" % rc)
        self.n = None

    def run_round(self, w):
        self.round = "%d worker%s" % (w, "" if w == 1 else "s")
        print("--- %s" % self.round, flush=True)
        try:
            self.start(w)
        except (Abort, AssertionError) as e:
            print("FAIL  [%s] npsd starts with the ipsec tunnel\n      %s" % (self.round, str(e)[-800:]))
            self.failures.append("[%s] npsd starts" % self.round)
            if self.n is not None:
                self.stop()
            return
        s = self.spec
        c = self.check
        c("ping both ways through the tunnel (outer IPv%d, %s%s%s)" % (s["outer"], s["alg"],
                                                                        ", ESN" if s["esn"] else "",
                                                                        ", UDP 4500" if s["udp"] else ""), self.t_ping)
        c("TCP both ways through the tunnel (200 kB echoed)", self.t_tcp)
        c("ipsec show tunnels / sas / stats agree with the peer, no key printed, no IPsec drop", self.t_counters)
        c("roaming by the controller (ipsec tunnel set remote) under load: no datagram lost", self.t_roam_controller)
        c("roaming followed by the gateway (follow_peer): peer_moved event, no datagram lost", self.t_roam_follow)
        c("rekey under load (in SA added, peer switches, out SA added, old ones deleted): no datagram lost",
          self.t_rekey)
        if s["via_ctl"]:
            c("60 inbound SAs added and deleted under load: fresh SPI tables published, no datagram lost",
              self.t_spi_churn)
        c("SA lifetimes: soft and hard packet limits, events, ipsec_sa_expired", self.t_lifetimes)
        c("sequence number exhaustion refused (ipsec_seq_exhausted, event)", self.t_seq_exhaustion)
        c("tunnel interface MTU and state changed at run time: followed at once", self.t_tunnel_iface_set)
        c("no key of any SA in shows, events or the log", self.expect_no_keys)
        c("npsd stops cleanly", self.t_stop)


class EchoServer:
    """A TCP echo server (dual stack) in a namespace, one connection at a time."""

    def __init__(self, host, port):
        import threading
        self.sock = host.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        self.sock.bind(("::", port))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            c.settimeout(0.5)
            with c:
                while not self.stopping:
                    try:
                        d = c.recv(65536)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not d:
                        break
                    try:
                        c.sendall(d)
                    except OSError:
                        break

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


def main():
    rc = tier_main(sys.argv, __doc__, "ips_e2e.py", "IPsec e2e", Tier, (NPSD, NPSCTL))
    return rc


if __name__ == "__main__":
    sys.exit(main())
