# SPDX-License-Identifier: BSD-3-Clause
"""
Helpers of the IPsec end-to-end tier (ips_e2e.py): the scapy peer as a bridge in a namespace, and readers of the
ipsec commands. The namespaces, the daemon, the event subscriber and the socket probes are the firewall's and NAT's
tiers' (nf/fw/test/fwe2e_lib.py, nf/nat/test/nat_e2e_lib.py).

The bridge (PeerBridge) plays a site's IPsec router with the scapy peer of peer.py: in the peer namespace, an
AF_PACKET socket on the site-facing link takes the site host's IP packets to the tenant prefixes, encrypts them
(peer.Tunnel.encrypt: scapy's SecurityAssociation) and sends them to npsd on the outer link; ESP from npsd (direct or
in UDP 4500) is decrypted (peer.Tunnel.decrypt: scapy + the strict trailer check) and handed to the site host. The
peer's kernel does no forwarding; a raw ESP socket and a UDP 4500 socket keep it from answering the ESP with ICMP.
"""
import os
import select
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "..", "nat", "test"))
from nat_e2e_lib import (REPO, Abort, EventSub, Host, Npsd, log, rows, sh, tcp_connect, tcp_echo,  # noqa: E402,F401
                         tier_main, udp_query, counters)
from peer import SA, Tunnel, PeerError, parse_outer  # noqa: E402,F401

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def mac_of(host, ifname):
    """The MAC of an interface inside a namespace (sysfs shows the namespace it was mounted in: ask ip)."""
    rc, out = host.exec(["cat", "/sys/class/net/%s/address" % ifname])
    if rc != 0:
        raise Abort("no MAC for %s in %s: %s" % (ifname, host.name, out))
    return out.strip()


def mac_b(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def in_prefix(addr, prefix):
    net, _, plen = prefix.partition("/")
    fam = socket.AF_INET6 if ":" in net else socket.AF_INET
    if (":" in addr) != (fam == socket.AF_INET6):
        return False
    a, n = socket.inet_pton(fam, addr), socket.inet_pton(fam, net)
    bits = int(plen)
    ai, ni = int.from_bytes(a, "big"), int.from_bytes(n, "big")
    width = len(a) * 8
    mask = ((1 << bits) - 1) << (width - bits) if bits else 0
    return ai & mask == ni & mask


class PeerBridge:
    """The site's IPsec router. host: the peer namespace; site_if / wan_if: its links to the site host and to
    npsd; gw_mac: npsd's MAC on the outer link; site_mac: the site host's. tunnel: peer.Tunnel (its to_gw SA
    encrypts; inbound SAs by SPI in self.rx_sas). remote_prefixes: destinations taken from the site (the tenant's)."""

    def __init__(self, host, site_if, wan_if, gw_mac, site_mac, tunnel, remote_prefixes, logf=None):
        self.host, self.tunnel, self.prefixes, self.logf = host, tunnel, list(remote_prefixes), logf
        self.gw_mac, self.site_mac = mac_b(gw_mac), mac_b(site_mac)
        self.my_wan_mac = mac_b(mac_of(host, wan_if))
        self.my_site_mac = mac_b(mac_of(host, site_if))
        self.lock = threading.RLock()
        self.rx_sas = {tunnel.from_gw.spi: tunnel.from_gw}
        self.src = tunnel.peer  # outer source address used now (roaming changes it)
        self.sport = tunnel.peer_port
        self.stats = {"enc": {}, "dec": {}, "dec_err": 0, "enc_err": 0, "not_ours": 0, "last_err": ""}
        self.dec_from = {}  # (outer src, dst, udp dport or None) of npsd's packets -> count
        with host.entered():
            self.site = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            self.wan = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            fam = socket.AF_INET6 if tunnel.v6 else socket.AF_INET
            self.sink_esp = socket.socket(fam, socket.SOCK_RAW, 50)  # the kernel leaves ESP to us: no ICMP
            self.sink_udp = socket.socket(fam, socket.SOCK_DGRAM)
            self.sink_udp.bind(("::" if tunnel.v6 else "0.0.0.0", 4500))
            self.sink_udp2 = socket.socket(fam, socket.SOCK_DGRAM)  # the port the peer roams to
            self.sink_udp2.bind(("::" if tunnel.v6 else "0.0.0.0", 4600))
        self.site.bind((site_if, ETH_P_ALL))
        self.wan.bind((wan_if, ETH_P_ALL))
        for s in (self.site, self.wan):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        self.stopping = False
        self.threads = [threading.Thread(target=self._loop, daemon=True)]
        for t in self.threads:
            t.start()

    # -- control (main thread)
    def add_rx_sa(self, sa_):
        with self.lock:
            self.rx_sas[sa_.spi] = sa_

    def del_rx_sa(self, spi):
        with self.lock:
            self.rx_sas.pop(spi, None)

    def set_tx_sa(self, sa_):
        """Encrypt with sa_ from now on (the next packet has its sequence number 1)."""
        with self.lock:
            self.tunnel.to_gw = sa_
            self.tunnel.next_seq = 1

    def move(self, src=None, sport=None):
        """Send from another outer address (and UDP source port) from now on: the peer roams."""
        with self.lock:
            if src:
                self.src = src
            if sport:
                self.sport = sport

    def snapshot(self):
        with self.lock:
            return {"enc": dict(self.stats["enc"]), "dec": dict(self.stats["dec"]), "dec_err": self.stats["dec_err"],
                    "enc_err": self.stats["enc_err"], "last_err": self.stats["last_err"],
                    "dec_from": dict(self.dec_from)}

    def close(self):
        self.stopping = True
        for t in self.threads:
            t.join()
        for s in (self.site, self.wan, self.sink_esp, self.sink_udp, self.sink_udp2):
            s.close()

    # -- the loop
    def _loop(self):
        socks = [self.site, self.wan, self.sink_esp, self.sink_udp, self.sink_udp2]
        while not self.stopping:
            r, _, _ = select.select(socks, [], [], 0.05)
            for s in r:
                try:
                    data, addr = s.recvfrom(65536)
                except OSError:
                    continue
                if s is self.site and addr[2] != PACKET_OUTGOING:
                    self._from_site(data)
                elif s is self.wan and addr[2] != PACKET_OUTGOING:
                    self._from_gw(data)
                # the sinks: drained, nothing else

    def _from_site(self, frame):
        et = struct.unpack("!H", frame[12:14])[0]
        if et not in (0x0800, 0x86DD) or len(frame) < 34:
            return
        l3 = frame[14:]
        if et == 0x0800:
            dst = socket.inet_ntop(socket.AF_INET, l3[16:20])
            l3 = l3[:struct.unpack("!H", l3[2:4])[0]]
        else:
            dst = socket.inet_ntop(socket.AF_INET6, l3[24:40])
            l3 = l3[:40 + struct.unpack("!H", l3[4:6])[0]]
        if not any(in_prefix(dst, p) for p in self.prefixes):
            return
        with self.lock:
            t = self.tunnel
            try:
                outer = t.encrypt(l3, src=self.src, sport=self.sport if t.udp_encap else None)
            except Exception as e:  # noqa: BLE001 - counted and logged: the checks look at the counts
                self.stats["enc_err"] += 1
                self.stats["last_err"] = "encrypt: %s" % e
                return
            spi = t.to_gw.spi
            self.stats["enc"][spi] = self.stats["enc"].get(spi, 0) + 1
        et_out = 0x86DD if t.v6 else 0x0800
        try:
            self.wan.send(self.gw_mac + self.my_wan_mac + struct.pack("!H", et_out) + outer)
        except OSError as e:
            with self.lock:
                self.stats["enc_err"] += 1
                self.stats["last_err"] = "send to npsd: %s" % e

    def _from_gw(self, frame):
        et = struct.unpack("!H", frame[12:14])[0]
        if et not in (0x0800, 0x86DD):
            return
        l3 = frame[14:]
        try:
            info = parse_outer(l3)
        except Exception:  # noqa: BLE001
            return
        if info.get("esp") is None or len(info["esp"]) < 8:
            return  # ARP answers, NDP, ICMP: the kernel's business
        spi = struct.unpack("!I", info["esp"][:4])[0]
        with self.lock:
            sa_ = self.rx_sas.get(spi)
            if sa_ is None:
                self.stats["not_ours"] += 1
                self.stats["last_err"] = "ESP with unknown SPI %#x" % spi
                return
            t = self.tunnel
            saved = t.from_gw
            t.from_gw = sa_
            try:
                d = t.decrypt(l3[:info["length"]], check_udp=False)
            except PeerError as e:
                self.stats["dec_err"] += 1
                self.stats["last_err"] = "decrypt spi %#x: %s" % (spi, e)
                return
            finally:
                t.from_gw = saved
            self.stats["dec"][spi] = self.stats["dec"].get(spi, 0) + 1
            key = (info["src"], info["dst"], info["udp"]["dport"] if info["udp"] else None)
            self.dec_from[key] = self.dec_from.get(key, 0) + 1
        et_in = 0x0800 if d.inner[0] >> 4 == 4 else 0x86DD
        try:
            self.site.send(self.site_mac + self.my_site_mac + struct.pack("!H", et_in) + d.inner)
        except OSError as e:
            with self.lock:
                self.stats["dec_err"] += 1
                self.stats["last_err"] = "send to the site: %s" % e


class UdpCounter:
    """A UDP sink in a namespace counting distinct sequence-numbered datagrams ("TAG NUMBER ...") per tag."""

    def __init__(self, host, family, port):
        self.sock = host.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.seen = {}
        self.dups = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError:
                continue
            parts = data.split(b" ", 2)
            if len(parts) < 2 or not parts[1].isdigit():
                continue
            with self.lock:
                s = self.seen.setdefault(parts[0].decode(), set())
                n = int(parts[1])
                if n in s:
                    self.dups += 1
                s.add(n)

    def got(self, tag):
        with self.lock:
            return set(self.seen.get(tag, set()))

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


class UdpStream:
    """Paced sequence-numbered datagrams from a namespace to addr:port ("TAG N padding"), in a thread."""

    def __init__(self, host, tag, addr, port, pps=200, size=200):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = host.socket(fam, socket.SOCK_DGRAM)
        self.sock.connect((addr, port))
        self.tag, self.pps, self.size = tag, pps, size
        self.sent = 0
        self.errors = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        t0 = time.time()
        while not self.stopping:
            msg = ("%s %d " % (self.tag, self.sent)).encode()
            try:
                self.sock.send(msg + b"x" * max(0, self.size - len(msg)))
                self.sent += 1
            except OSError:
                self.errors += 1
            due = t0 + self.sent / self.pps
            d = due - time.time()
            if d > 0:
                time.sleep(d)

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()
        return self.sent


# ---------------------------------------------------------------------------------------------- npsd's views

class IpsecView:
    """npsd's ipsec commands as the checks read them."""

    def __init__(self, npsd):
        self.n = npsd

    def tunnels(self):
        d = self.n.ok("ipsec", "show", "tunnels")
        return {r.get("interface", r.get("name")): r for r in rows(d, "tunnels")}

    def sas(self, iface=None):
        return rows(self.n.ok("ipsec", "show", "sas", *(("interface", iface) if iface else ())), "sas")

    def stats(self):
        return counters(self.n.ok("ipsec", "show", "stats"))

    def drops(self):
        return {r["reason"]: int(r["packets"]) for r in rows(self.n.ok("show", "drops"), "drops")}
