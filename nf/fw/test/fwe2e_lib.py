# SPDX-License-Identifier: BSD-3-Clause
"""
Helpers of the firewall's end-to-end tier (fw_e2e.py): the daemon, network namespaces entered from this process
(setns) so that sockets of either host are opened here, echo servers, probes (TCP, UDP, ICMP capture) and the
external tools (ping, traceroute, iperf3).
"""
import ctypes
import errno
import json
import os
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
E2E_LIB = os.path.join(REPO, "test", "e2e", "lib.sh")

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_ns_lock = threading.RLock()
_root_ns_fd = os.open("/proc/self/ns/net", os.O_RDONLY)


class Abort(Exception):
    """The harness cannot go on (npsd did not start, a host could not be set up)."""


def log(logf, *lines):
    for line in lines:
        logf.write(line.rstrip("\n") + "\n")
    logf.flush()


def sh(cmd, logf=None, timeout=60, check=False):
    """Run a command (a list, or a string for bash); return (rc, output). The output goes to the log."""
    args = ["bash", "-c", cmd] if isinstance(cmd, str) else cmd
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=timeout)
        rc, out = p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, out = 124, (e.stdout or b"").decode(errors="replace") + "\n(timeout after %ss)" % timeout
    if logf is not None:
        log(logf, "$ " + (cmd if isinstance(cmd, str) else " ".join(cmd)), out)
    if check and rc != 0:
        raise Abort("%s failed (%d): %s" % (cmd, rc, out[-500:]))
    return rc, out


# ---------------------------------------------------------------------------------------------- namespaces

class Host:
    """A network namespace made by test/e2e/lib.sh (nps_host): eth0 towards one npsd port."""

    def __init__(self, name, rootif):
        self.name, self.rootif = name, rootif
        self.fd = None

    def create(self, addrs, logf):
        self.delete(logf)
        sh(". %s; nps_host %s %s" % (E2E_LIB, self.name, self.rootif), logf, check=True)
        for a, gw in addrs:
            sh(". %s; nps_addr %s %s %s" % (E2E_LIB, self.name, a, gw or ""), logf, check=True)
        self.fd = os.open("/run/netns/" + self.name, os.O_RDONLY)

    def delete(self, logf=None):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        sh(". %s; nps_del_host %s %s" % (E2E_LIB, self.name, self.rootif), logf)

    @contextmanager
    def entered(self):
        """This thread in the namespace: sockets opened meanwhile belong to it."""
        with _ns_lock:
            if _libc.setns(self.fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + self.name)
            try:
                yield
            finally:
                if _libc.setns(_root_ns_fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back to the root namespace")

    def socket(self, family, kind, proto=0):
        with self.entered():
            return socket.socket(family, kind, proto)

    def exec(self, args, logf=None, timeout=60):
        return sh(["ip", "netns", "exec", self.name] + args, logf, timeout)

    def popen(self, args, out):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

    def snmp(self, proto, field):
        """A counter of the namespace's /proc/net/snmp (or snmp6 when proto starts with Icmp6/Udp6/Ip6)."""
        if proto.endswith("6"):
            _, out = self.exec(["cat", "/proc/net/snmp6"])
            for line in out.splitlines():
                k, _, v = line.partition(" ")
                if k == proto + field:
                    return int(v.strip())
            raise KeyError(proto + field)
        _, out = self.exec(["cat", "/proc/net/snmp"])
        rows = [line.split() for line in out.splitlines() if line.startswith(proto + ":")]
        return int(rows[1][rows[0].index(field)])


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


# ---------------------------------------------------------------------------------------------- servers

class EchoServers:
    """TCP and UDP echo servers in one namespace, dual-stack, recording who reached them. Subclasses change the
    socket (_bound) and what is recorded (_note); the serving is the same."""

    def __init__(self, host, tcp_ports, udp_ports):
        self.host = host
        self.seen = []  # (proto, port, peer address) of every connection or datagram received
        self.lock = threading.Lock()
        self.stop = False
        self.socks = []
        for port in tcp_ports:
            s = self._bound(socket.SOCK_STREAM, port)
            s.listen(64)
            self._thread(self._accept, s, port)
        for port in udp_ports:
            self._thread(self._udp, self._bound(socket.SOCK_DGRAM, port), port)

    def _bound(self, kind, port):
        s = self.host.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        return self._serving(s)

    def _serving(self, s):
        s.settimeout(0.2)
        self.socks.append(s)
        return s

    def _thread(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()

    def _note(self, proto, port, peer, data):
        """peer: the (address, port, ...) tuple; data: the datagram (b"" for a TCP connection)."""
        with self.lock:
            self.seen.append((proto, port, peer[0].replace("::ffff:", "")))

    def _accept(self, s, port):
        while not self.stop:
            try:
                c, peer = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._note("tcp", port, peer, b"")
            self._thread(self._echo, c)

    def _echo(self, c):
        c.settimeout(0.5)
        with c:
            while not self.stop:
                try:
                    data = c.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    c.sendall(data)
                except OSError:
                    return

    def _udp(self, s, port):
        while not self.stop:
            try:
                data, peer = s.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self._note("udp", port, peer, data)
            try:
                s.sendto(data, peer)
            except OSError:
                pass

    def count(self, proto=None, port=None, peer=None):
        with self.lock:
            return sum(1 for p, n, a in self.seen
                       if (proto is None or p == proto) and (port is None or n == port) and (peer is None or a == peer))

    def close(self):
        self.stop = True
        for s in self.socks:
            s.close()


# ---------------------------------------------------------------------------------------------- probes

def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if isinstance(e, OSError) and e.errno else type(e).__name__


def tcp_connect(host, addr, port, timeout=3.0, src=None, sport=0):
    """Connect from host; return (outcome, socket or None): outcome "ok", "refused", "timeout" or an errno name."""
    s = host.socket(family_of(addr), socket.SOCK_STREAM)
    if src or sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src or ("::" if ":" in addr else "0.0.0.0"), sport))
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        return "ok", s
    except ConnectionRefusedError:
        outcome = "refused"
    except socket.timeout:
        outcome = "timeout"
    except OSError as e:
        outcome = err_name(e)
    s.close()
    return outcome, None


def tcp_echo(s, payload=b"firewall e2e\n", timeout=3.0):
    """Send on a connected socket and wait for the echo: True when all of it came back."""
    s.settimeout(timeout)
    try:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                return False
            got += chunk
        return got == payload
    except OSError:
        return False


def tcp_roundtrip(host, addr, port, timeout=3.0):
    """Connect, echo, close: "ok" when the echo came back, else the connect outcome or "no-echo"."""
    outcome, s = tcp_connect(host, addr, port, timeout)
    if s is None:
        return outcome
    with s:
        return "ok" if tcp_echo(s, timeout=timeout) else "no-echo"


def udp_query(host, addr, port, timeout=2.0, payload=b"fw e2e udp", sock=None):
    """A connected UDP socket sends one datagram: "reply", "timeout" or the errno name of the ICMP error reported."""
    s = sock or host.socket(family_of(addr), socket.SOCK_DGRAM)
    try:
        if sock is None:
            s.connect((addr, port))
        s.settimeout(timeout)
        s.send(payload)
        data = s.recv(65536)
        return "reply" if data == payload else "bad-reply"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return err_name(e)
    finally:
        if sock is None:
            s.close()


class IcmpWatch:
    """Capture the ICMP (or ICMPv6) messages a namespace receives, with a raw socket, until stop()."""

    def __init__(self, host, family):
        self.family = family
        proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
        self.sock = host.socket(family, socket.SOCK_RAW, proto)
        self.sock.setblocking(False)
        self.msgs = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                continue
            self.msgs.append(self._parse(data, peer[0]))

    def _parse(self, data, peer):
        """Type, code and, for errors, the embedded packet's protocol, addresses and ports."""
        if self.family == socket.AF_INET:
            data = data[(data[0] & 0xF) * 4:]  # a raw IPv4 socket gets the IP header too
            errors, inner_at = (3, 4, 5, 11, 12), 8
        else:
            errors, inner_at = (1, 2, 3, 4), 8
        m = {"from": peer, "type": data[0], "code": data[1]}
        if m["type"] in errors and len(data) >= inner_at + 20:
            inner = data[inner_at:]
            if self.family == socket.AF_INET:
                ihl = (inner[0] & 0xF) * 4
                m.update(proto=inner[9], src=socket.inet_ntop(socket.AF_INET, inner[12:16]),
                         dst=socket.inet_ntop(socket.AF_INET, inner[16:20]))
                l4 = inner[ihl:]
            else:
                m.update(proto=inner[6], src=socket.inet_ntop(socket.AF_INET6, inner[8:24]),
                         dst=socket.inet_ntop(socket.AF_INET6, inner[24:40]))
                l4 = inner[40:]
            if m["proto"] in (6, 17) and len(l4) >= 4:
                m["sport"], m["dport"] = struct.unpack("!HH", l4[:4])
        return m

    def stop(self, linger=0.3):
        time.sleep(linger)
        self.stopping = True
        self.thread.join()
        self.sock.close()
        return self.msgs

    def errors(self, itype, icode):
        return [m for m in self.msgs if m["type"] == itype and m["code"] == icode]


# ---------------------------------------------------------------------------------------------- the daemon

class Npsd:
    def __init__(self, npsd, npsctl, work, tag, conf_path):
        self.npsd, self.npsctl, self.work, self.tag, self.conf_path = npsd, npsctl, work, tag, conf_path
        self.sock = os.path.join(work, "npsd.sock")
        self.log_path = os.path.join(work, "npsd-%s.log" % tag)
        self.proc = None

    def start(self, timeout=60):
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.npsd, "-c", self.conf_path], cwd=self.work, stdout=self.logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with open(os.path.join(self.work, "npsd.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        deadline = time.time() + timeout
        while self.ctl("version")["status"] != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise Abort("npsd (%s) did not start:\n%s" % (self.tag, self.log_tail()))
            time.sleep(0.2)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def ctl_text(self, *words, timeout=30):
        return sh([self.npsctl, "-s", self.sock, "--timeout", str(timeout * 1000)] + [str(w) for w in words],
                  timeout=timeout + 10)

    def ctl(self, *words, timeout=30):
        try:
            p = subprocess.run([self.npsctl, "-s", self.sock, "--json", "--timeout", str(timeout * 1000)]
                               + [str(w) for w in words], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout + 10)
            return json.loads(p.stdout.decode())
        except (ValueError, subprocess.TimeoutExpired) as e:
            return {"status": -1, "error": "no JSON reply: %s" % e, "data": {}}

    def ok(self, *words, timeout=30):
        j = self.ctl(*words, timeout=timeout)
        if j.get("status") != 0:
            raise AssertionError("npsctl %s: %s" % (" ".join(str(w) for w in words), j.get("error")))
        return j

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL. Returns the exit status (None when it had to be killed)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        self.proc = None
        self.logf.close()
        try:
            os.unlink(os.path.join(self.work, "npsd.pid"))
        except OSError:
            pass
        return rc


# ---------------------------------------------------------------------------------------------- npsd's views

def rows(j, table=None):
    """The rows of a reply's table (the named one, else the first that is a list)."""
    d = j.get("data") or {}
    if table is not None:
        return d.get(table, [])
    for v in d.values():
        if isinstance(v, list):
            return v
    return []


def counters(j, columns=False):
    """A stats reply flattened to name -> value: rows of counter/value pairs; with columns, the numeric columns of
    other rows summed over the rows too (worker and lcore excepted)."""
    flat = {}
    for trows in (j.get("data") or {}).values():
        for r in trows if isinstance(trows, list) else []:
            key = next((r[k] for k in ("counter", "name", "reason", "stat") if isinstance(r.get(k), str)), None)
            val = next((r[k] for k in ("value", "count", "packets", "total") if isinstance(r.get(k), (int, float))),
                       None)
            if key is not None and val is not None:
                flat[key] = flat.get(key, 0) + val
                continue
            for k, v in r.items() if columns else ():
                if isinstance(v, (int, float)) and k not in ("worker", "lcore"):
                    flat[k] = flat.get(k, 0) + v
    return flat


class Gw:
    """npsd as the checks read it; each tier adds its function's views."""

    def __init__(self, npsd):
        self.n = npsd

    def drops(self, reason):
        for r in rows(self.n.ok("show", "drops"), "drops"):
            if r.get("reason") == reason:
                return int(r["packets"])
        raise AssertionError("show drops has no reason %s" % reason)


# ---------------------------------------------------------------------------------------------- a tier's main

def tier_main(argv, doc, prog, title, tier_class, binaries):
    """`PROG WORKDIR [WORKERS...]`: setup, one round per worker count (default 1 and 2), teardown; the summary line
    "--- TITLE: N passed, M failed in S s". Returns the exit status (2: usage, binaries missing or aborted)."""
    if len(argv) < 2:
        print(doc)
        return 2
    work = argv[1]
    workers = [int(w) for w in argv[2:]] or [1, 2]
    for f in binaries:
        if not os.access(f, os.X_OK):
            print("%s: %s missing: run make first" % (prog, f))
            return 2
    t = tier_class(work, workers)
    t0 = time.time()
    try:
        t.setup()
        for w in workers:
            t.run_round(w)
            if t.n is not None and t.n.alive():
                t.stop()
    except Abort as e:
        print("%s: %s" % (prog, e))
        return 2
    finally:
        if t.n is not None and t.n.alive():
            t.stop()
        t.teardown()
    print("--- %s: %d passed, %d failed in %d s" % (title, t.passed, len(t.failures), time.time() - t0))
    for f in t.failures:
        print("    failed: %s" % f)
    return 1 if t.failures else 0
