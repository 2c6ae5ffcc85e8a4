"""The NAT control side (helper natctl): boot npsd with a nat section; nat commands, events, syslog lines, pool changes."""
import json
import os
import time

from harness import case, IP, UDP, TCP, Ether, Raw

R_A, R_B = "02:00:00:00:00:01", "02:00:00:00:00:02"
H_A, GW_B = "02:00:00:00:00:aa", "02:00:00:00:00:99"


def nat_section(prefixes='"198.51.100.0/30"', extra_tenant="", block=512, statics=True):
    return """
nat: {
  sessions: { max = 4096; };
  block_idle = 1;
  pools = ( { name = "pub"; vrf = "main"; prefixes = [ %s ]; ports = "1024-65535"; block_size = %d; } );
  tenants = ( { vrf = "t1"; pool = "pub"; max_blocks = 2;
                %s %s } );
};
""" % (prefixes, block, 'static = ( { proto = "tcp"; inside = "10.0.0.5:80"; public = "198.51.100.1:8080"; } );'
       if statics else "", extra_tenant)


def router(c, nat=None):
    return c.router(
        vrfs=[{"name": "main", "id": 0}, {"name": "t1", "id": 1}],
        interfaces=[
            {"name": "a", "device": "p0", "vrf": "t1", "mac": R_A, "addresses": ["10.0.0.1/24"]},
            {"name": "b", "device": "p1", "vrf": "main", "mac": R_B, "addresses": ["10.0.1.1/24"]},
        ],
        routes=[{"vrf": "t1", "prefix": "0.0.0.0/0", "target_vrf": "main"},
                {"vrf": "main", "prefix": "192.0.2.0/24", "via": "10.0.1.2"}],
        neighbours=[{"interface": "a", "ip": "10.0.0.2", "mac": H_A},
                    {"interface": "a", "ip": "10.0.0.3", "mac": H_A},
                    {"interface": "a", "ip": "10.0.0.5", "mac": H_A},
                    {"interface": "b", "ip": "10.0.1.2", "mac": GW_B}],
        extra_conf=nat if nat is not None else nat_section())


def show(c, r, *words):
    rc, out, err = r.ctl_raw(list(words))
    print("$ npsctl " + " ".join(words) + "  (exit %d)\n%s%s" % (rc, out, err))
    return r.ctl(*words)


def subscribe(r):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(r.sock)
    s.sendall(b"subscribe events nat\n")
    s.settimeout(2)
    buf = b""
    while b"\n" not in buf:
        buf += s.recv(4096)
    head, rest = buf.split(b"\n", 1)
    n = int(head.split()[2])
    while len(rest) < n:
        rest += s.recv(4096)
    return s


def read_events(s):
    import socket
    buf, out = b"", []
    s.settimeout(0.5)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    while buf:
        head, rest = buf.split(b"\n", 1)
        n = int(head.split()[2])
        out.append(json.loads(rest[:n]))
        buf = rest[n:]
    return out


@case("nat-ctl-basic", group="forward", workers=(1, 2))
def natctl_basic(c):
    frames = []
    for i in range(6):
        src = "10.0.0.2" if i < 4 else "10.0.0.3"
        frames.append(Ether(src=H_A, dst=R_A) / IP(src=src, dst="192.0.2.10") / UDP(sport=5000 + i, dport=53) /
                      Raw(b"x" * 10))
    inbound = [Ether(src=GW_B, dst=R_B) / IP(src="192.0.2.20", dst="198.51.100.3") / UDP(sport=7, dport=9999),
               Ether(src=GW_B, dst=R_B) / IP(src="192.0.2.20", dst="198.51.100.1") /
               TCP(sport=40000, dport=8080, flags="S", seq=1)]
    r = router(c).start({"p0": frames, "p1": inbound})
    st = {x["counter"]: x["value"] for x in r.ctl_ok("nat", "show", "stats")["nat"]}
    c.check(st["out2in_passed"] == 1, "out2in_passed %s, expected 1 (out2in feature on in main)" % st["out2in_passed"])
    c.check(st["static_used"] == 1 and st["out2in"] == 1, "static mapping not used: %s" % st)
    for words in (["nat", "show", "pools"], ["nat", "show", "subscribers"], ["nat", "show", "sessions"],
                  ["nat", "show", "sessions", "proto", "udp", "port", "5001"],
                  ["nat", "show", "sessions", "limit", "2"], ["nat", "show", "sessions", "skip", "2", "limit", "2"],
                  ["nat", "show", "subscribers", "addr", "10.0.0.3"], ["nat", "show", "statics"],
                  ["nat", "show", "stats"]):
        show(c, r, *words)
    d = r.ctl_ok("nat", "show", "sessions")
    c.check(len(d["sessions"]) == 7, "7 sessions expected, got %d" % len(d["sessions"]))
    st = [x for x in d["sessions"] if x["mapping"] == "static"]
    c.check(len(st) == 1 and st[0]["inside"] == "10.0.0.5:80" and st[0]["outside"] == "198.51.100.1:8080" and
            st[0]["remote"] == "192.0.2.20:40000" and st[0]["opened"] == "in" and st[0]["pkts_in"] == 1,
            "static session row: %s" % st)
    d = r.ctl_ok("nat", "show", "subscribers")
    c.check(len(d["subscribers"]) == 2, "2 subscribers expected, got %d" % len(d["subscribers"]))
    d = r.ctl_ok("show", "stats")
    c.check(any(t for t in d if t == "nat"), "show stats has no nat table: %s" % list(d))
    # pool shrink: 198.51.100.0/30 -> 198.51.100.2/31 ... keep the subscribers' addresses? see which drain
    conf = open(os.path.join(r.dir, "npsd.conf")).read()
    new = conf.replace('prefixes = [ "198.51.100.0/30" ]', 'prefixes = [ "198.51.100.1/32" ]')
    path = os.path.join(r.dir, "new.conf")
    open(path, "w").write(new)
    show(c, r, "config", "diff", "file", path)
    show(c, r, "config", "commit", "file", path)
    show(c, r, "nat", "show", "pools")
    ev = subscribe(r)
    show(c, r, "nat", "flush")
    time.sleep(3)
    evs = read_events(ev)
    print("events:", "\n".join(json.dumps(e) for e in evs))
    rel = [e for e in evs if e.get("event") == "nat" and e.get("type") == "block-release"]
    c.check(len(rel) == 2, "2 block-release events expected, got %d" % len(rel))
    c.check(all(e.get("vrf") == "t1" and e.get("pool") == "pub" and e.get("port_hi", 0) - e.get("port_lo", 0) == 511 and e.get("public", "").startswith("198.51.100.") for e in rel), "release events: %s" % rel)
    show(c, r, "nat", "show", "pools")
    show(c, r, "nat", "show", "subscribers")
    # geometry change on a live address: refused
    new2 = new.replace("block_size = 512", "block_size = 256")
    open(path, "w").write(new2)
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] == 0, "block size change refused: %s" % j.get("error"))
    time.sleep(1.5)
    rows = r.ctl_ok("nat", "show", "pools")["addresses"]
    show(c, r, "nat", "show", "pools")
    c.check(len(rows) == 1 and rows[0]["state"] == "active" and rows[0]["blocks_total"] == 252,
            "198.51.100.1 with blocks of 256 expected: %s" % rows)
    # section removed: every address drains, then goes
    import re
    new3 = re.sub(r"\nnat: \{.*?\n\};\n", "\n", new, flags=re.S)
    open(path, "w").write(new3)
    show(c, r, "config", "commit", "file", path)
    time.sleep(2.5)
    show(c, r, "nat", "show", "pools")
    show(c, r, "nat", "show", "stats")
    # back again
    open(path, "w").write(conf)
    show(c, r, "config", "commit", "file", path)
    show(c, r, "nat", "show", "pools")
    r.stop()
    print(open(r.log_path).read()[-3000:])


def pools_rows(r):
    return {x["address"]: x for x in r.ctl_ok("nat", "show", "pools")["addresses"]}


@case("nat-ctl-drain", group="forward", workers=(1, 2))
def natctl_drain(c):
    frames = [Ether(src=H_A, dst=R_A) / IP(src="10.0.0.%d" % (2 + i % 2), dst="192.0.2.10") /
              UDP(sport=6000 + i, dport=53) / Raw(b"y" * 8) for i in range(4)]
    r = router(c, nat=nat_section(statics=False)).start({"p0": frames})
    conf = open(os.path.join(r.dir, "npsd.conf")).read()
    before = pools_rows(r)
    used = sorted(a for a, x in before.items() if x["blocks_used"] > 0)
    c.check(len(used) >= 1, "no address with blocks: %s" % before)
    sess_before = r.ctl_ok("nat", "show", "sessions")["sessions"]
    # keep only an address nobody uses: the used ones drain, sessions stay
    free = [a for a in ["198.51.100.%d" % i for i in range(4)] if a not in used][0]
    path = os.path.join(r.dir, "shrink.conf")
    open(path, "w").write(conf.replace('prefixes = [ "198.51.100.0/30" ]', 'prefixes = [ "%s/32" ]' % free))
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] == 0, "shrink refused: %s" % j.get("error"))
    time.sleep(1.5)
    rows = pools_rows(r)
    show(c, r, "nat", "show", "pools")
    for a in used:
        c.check(a in rows and rows[a]["state"] == "draining", "%s not draining: %s" % (a, rows.get(a)))
    c.check(rows.get(free, {}).get("state") == "active", "%s not active: %s" % (free, rows.get(free)))
    c.check(len(rows) == 1 + len(used), "unused addresses not retired: %s" % sorted(rows))
    sess_after = r.ctl_ok("nat", "show", "sessions")["sessions"]
    c.check(len(sess_after) == len(sess_before), "sessions changed by the shrink: %d -> %d" %
            (len(sess_before), len(sess_after)))
    # grow back while they drain: same slots, active again, sessions untouched
    j = show(c, r, "config", "commit", "file", os.path.join(r.dir, "npsd.conf"))
    rows2 = pools_rows(r)
    show(c, r, "nat", "show", "pools")
    for a in used:
        c.check(rows2[a]["state"] == "active" and rows2[a]["slot"] == rows[a]["slot"],
                "%s after regrow: %s (was %s)" % (a, rows2[a], rows[a]))
    c.check(len(r.ctl_ok("nat", "show", "sessions")["sessions"]) == len(sess_before), "sessions lost by regrow")
    # block size change while blocks are in use: the old slots drain, the new geometry waits ("pending")
    path = os.path.join(r.dir, "block.conf")
    open(path, "w").write(conf.replace("block_size = 512", "block_size = 1024"))
    frames_sessions = len(r.ctl_ok("nat", "show", "sessions")["sessions"])
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] == 0, "block size change refused: %s" % j.get("error"))
    time.sleep(1.5)
    rows = r.ctl_ok("nat", "show", "pools")["addresses"]
    show(c, r, "nat", "show", "pools")
    states = sorted((x["address"], x["state"].split()[0]) for x in rows)
    c.check(states.count((used[0], "pending")) == 1 and states.count((used[0], "draining")) == 1,
            "%s: draining + pending expected: %s" % (used[0], states))
    c.check(len(r.ctl_ok("nat", "show", "sessions")["sessions"]) == frames_sessions, "sessions lost")
    r.ctl_ok("nat", "flush")
    time.sleep(3)
    frames_sessions = 0
    rows = r.ctl_ok("nat", "show", "pools")["addresses"]
    show(c, r, "nat", "show", "pools")
    c.check(len(rows) == 4 and all(x["state"] == "active" and x["blocks_total"] == 63 for x in rows),
            "4 active addresses with blocks of 1024 expected: %s" % rows)
    # tenant removed: its sessions are flushed, blocks released after block_idle, addresses stay active
    path = os.path.join(r.dir, "notenant.conf")
    import re
    conf = conf.replace("block_size = 512", "block_size = 1024")
    open(path, "w").write(re.sub(r"tenants = \(.*?\} \);\n", "", conf, flags=re.S))
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] == 0, "tenant removal refused: %s" % j.get("error"))
    time.sleep(2.5)
    c.check(len(r.ctl_ok("nat", "show", "sessions")["sessions"]) == 0, "sessions left after the tenant went")
    show(c, r, "nat", "show", "subscribers")
    show(c, r, "nat", "show", "statics")
    # max_sessions change: restart needed
    path = os.path.join(r.dir, "max.conf")
    open(path, "w").write(conf.replace("max = 4096", "max = 8192"))
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] != 0, "sessions.max change accepted")
    path = os.path.join(r.dir, "big.conf")
    open(path, "w").write(conf.replace("max_blocks = 2;", "max_blocks = 40;"))
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] != 0, "max_blocks 40 accepted")
    open(path, "w").write(conf.replace('"198.51.100.0/30"', '"198.51.96.0/19"'))
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] != 0, "a pool of 4096+ addresses accepted")
    # errors of the commands
    for words in (["nat", "show", "sessions", "vrf", "nope"], ["nat", "show", "sessions", "proto", "gre"],
                  ["nat", "show", "subscribers", "addr", "x"], ["nat", "flush", "vrf", "nope"],
                  ["nat", "show", "sessions", "limit", "0"]):
        j = show(c, r, *words)
        c.check(j["status"] != 0, "%s accepted" % " ".join(words))
    j = show(c, r, "nat", "flush", "vrf", "t1")
    c.check(j["status"] == 0, "flush vrf t1: %s" % j.get("error"))
    r.stop()


@case("nat-ctl-quota", group="forward")
def natctl_quota(c):
    frames = [Ether(src=H_A, dst=R_A) / IP(src="10.0.0.2", dst="192.0.2.10") / UDP(sport=6000 + i, dport=53)
              for i in range(4)]
    r = router(c, nat=nat_section(extra_tenant="max_sessions = 2;", statics=False)).start({"p0": frames})
    st = {x["counter"]: x["value"] for x in r.ctl_ok("nat", "show", "stats")["nat"]}
    show(c, r, "nat", "show", "subscribers")
    d = r.ctl_ok("show", "stats")
    drops = {x["reason"]: x["packets"] for x in d["drops"]}
    c.check(drops.get("nat_quota_sessions") == 2, "nat_quota_sessions drops: %s" % drops.get("nat_quota_sessions"))
    c.check(st["log_written"] == 3, "log_written %d (1 alloc + 2 quota)" % st["log_written"])
    r.stop()
    log = open(r.log_path).read()
    lines = [l for l in log.splitlines() if "SYSLOG" in l and "nat:" in l]
    print("\n".join(lines))
    if os.environ.get("LD_PRELOAD"):
        q = [l for l in lines if " quota limit=sessions proto=udp pool=pub vrf=t1 inside=10.0.0.2 " in l]
        c.check(len(q) == 2, "quota syslog lines: %s" % lines)


@case("nat-ctl-noboot", group="forward")
def natctl_noboot(c):
    r = router(c, nat="").start({})
    j = show(c, r, "nat", "show", "pools")
    c.check(j["status"] != 0, "nat show pools without NAT succeeded")
    show(c, r, "nat", "show", "stats")
    conf = open(os.path.join(r.dir, "npsd.conf")).read() + nat_section()
    path = os.path.join(r.dir, "with.conf")
    open(path, "w").write(conf)
    j = show(c, r, "config", "commit", "file", path)
    c.check(j["status"] != 0, "nat section accepted without boot tables")
    r.stop()
