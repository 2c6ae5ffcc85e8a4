#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Visibility tests: capture (pcapng at nodes, ports, drops; filter, count, vrf, snaplen, status, streaming),
packet trace (1 and 2 workers), path check (verdicts; never transmitted), dpdk-dumpcap, bad requests.

  vis.py GROUP...   groups: capture trace1 trace2 pathcheck badinput dumpcap (default: all)

One PASS/FAIL/SKIP line per check; exit 1 when a check fails. Run through run.sh (veths, hugepages, clean-up).
Environment: NPSGW_VIS_TAG (veth name prefix), NPSGW_VIS_HUGE (huge|nohuge, from scripts/hugepages.sh),
NPSGW_VIS_HUGE_MB (the hugepage memory run.sh reserved for the dumpcap group's npsd), NPSGW_VIS_TMP (work directory).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapng_read  # noqa: E402
from vtopo import (harness, Case, CaseFail, VRouter, veths_create, veths_delete, from_a, from_ra, payload,  # noqa: E402
                   Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, R_A, R_B, R_RB, H_A, GW_B, GW_RB)

RESULTS = []
ROUTERS = []
TMP = None


class Fail(Exception):
    pass


def check(name, fn, *a):
    """Run one check: PASS, FAIL (with why) or SKIP (fn returns a string)."""
    t0 = time.time()
    try:
        skip = fn(*a)
        status, why = ("SKIP", skip) if isinstance(skip, str) else ("PASS", "")
    except (Fail, CaseFail, pcapng_read.PcapngError) as e:
        status, why = "FAIL", str(e)
    except Exception:
        status, why = "FAIL", "exception:\n" + traceback.format_exc()
    RESULTS.append((name, status))
    print("%-4s  %-44s %5.1fs%s" % (status, name, time.time() - t0, ("  " + why.replace("\n", "\n      "))
                                     if why else ""), flush=True)


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


def zero_eth(l3):
    """The Ethernet header npsd makes up at L3 capture points: zero MACs, the EtherType of the IP version."""
    return b"\0" * 12 + (b"\x86\xdd" if l3[0] >> 4 == 6 else b"\x08\x00") + l3


def l3(frame):
    et, _, b = harness.l3_of(bytes(frame))
    return harness.ip6_trim(b) if et == 0x86DD else harness.ip4_trim(b)


def multiset_diff(exp, got):
    """(missing, unexpected) between two lists of bytes."""
    rest = list(got)
    missing = []
    for e in exp:
        if e in rest:
            rest.remove(e)
        else:
            missing.append(e)
    return missing, rest


def expect_frames(what, exp, got):
    missing, extra = multiset_diff([bytes(e) for e in exp], [bytes(g) for g in got])
    msg = []
    for m in missing[:5]:
        msg.append("missing: %s" % harness.describe(m))
    for x in extra[:5]:
        msg.append("unexpected: %s" % harness.describe(x))
    expect(not missing and not extra, "%s: %d expected, %d captured; %s" % (what, len(exp), len(got), "; ".join(msg)))


def tshark_fields(path_or_stdin, fields, stdin=None):
    cmd = ["tshark", "-r", path_or_stdin, "-T", "fields", "-E", "separator=|"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    expect(p.returncode == 0, "tshark failed: %s" % p.stderr.decode(errors="replace")[-300:])
    return [line.split("|") for line in p.stdout.decode().splitlines()]


def ctl_ok_text(r, *words, write=None):
    rc, out, err = r.ctl_text(*words, write=write)
    expect(rc == 0, "npsctl %s: exit %d: %s" % (" ".join(words), rc, err.strip()))
    return out


def capture_status(r, settle=False):
    """The capture status row; settle: read until two reads agree (copies still queued to the control thread)."""
    st = r.ctl_ok("capture", "status")["capture"][0]
    for _ in range(40 if settle else 0):
        time.sleep(0.05)
        again = r.ctl_ok("capture", "status")["capture"][0]
        if again == st:
            break
        st = again
    return st


def wait_capture_done(r, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = capture_status(r)
        if st["active"] == "no":
            return st
        time.sleep(0.05)
    raise Fail("capture still active after %ds: %s" % (timeout, capture_status(r)))


def new_router(name, workers=1, **kw):
    c = Case(name, workers, TMP)
    r = VRouter(c, workers=workers, **kw)
    ROUTERS.append(r)
    r.start()
    return r


def finish(r):
    """Stop a router: a clean exit and no problem noted by the harness."""
    r.stop()
    expect(not r.case.failures, "; ".join(r.case.failures))


# ---------------------------------------------------------------------------------------------------------------
# Traffic

def rnd_payload(rng, lo=0, hi=300):
    n = rng.randint(lo, hi)
    return payload(n, rng.randint(0, 255))


def traffic(rng):
    """(name, frame, where it ends) for one of each kind; all from host A (main) unless noted."""
    t = []
    for i in range(3):
        t.append(("fwd4", from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (10 + i), id=i) / UDP(sport=1000 + i) /
                                 rnd_payload(rng)), "p1"))
    for i in range(2):
        t.append(("fwd6", from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::%d" % (10 + i)) /
                                 UDP(sport=2000 + i) / rnd_payload(rng)), "p1"))
    t.append(("echo4", from_a(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(id=7, seq=1) / rnd_payload(rng, 0, 64)),
              "p0"))
    t.append(("noroute4", from_a(IP(src="10.0.0.2", dst="8.8.8.8") / UDP() / rnd_payload(rng)), "drop_no_route"))
    t.append(("blackhole6", from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:dead::5") / UDP() / rnd_payload(rng)),
              "drop_blackhole"))
    t.append(("badvlan", Ether(src=H_A, dst=R_A) / Dot1Q(vlan=30) / IP(src="10.0.0.2", dst="192.0.2.1") / UDP(),
              "drop_eth_unknown_vlan"))
    t.append(("red4", from_ra(IP(src="10.2.0.2", dst="198.51.100.20") / UDP() / rnd_payload(rng)), "p1"))
    t.append(("leak4", from_a(IP(src="10.0.0.2", dst="198.51.100.21") / UDP() / rnd_payload(rng)), "p1"))
    return t


# ---------------------------------------------------------------------------------------------------------------
# Capture

def cap_nodes_ports_drops(r, rng):
    path = os.path.join(r.dir, "c1.pcapng")
    out = ctl_ok_text(r, "capture", "start", "point", "ip4_lookup,port_tx-p1,drops", write=path)
    expect("capturing 1000 packets at ip4_lookup,port_tx-p1,drops" in out, "reply: %r" % out)
    before_p1, before_p0 = len(r.tx_frames("p1")), len(r.tx_frames("p0"))
    t = traffic(rng)
    r.send([f for _, f, _ in t])
    st = capture_status(r, settle=True)
    sent_p1 = r.tx_frames("p1")[before_p1:]
    sent_p0 = r.tx_frames("p0")[before_p0:]
    out = ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path)
    graph = ctl_ok_text(r, "show", "graph")
    drop_nodes = sorted(set(re.findall(r'"?\b(drop_\w+)', graph)))
    expect("drop_no_route" in drop_nodes, "no drop nodes in show graph: %r" % graph[:300])
    # one interface per capture point, named after the node
    names = [i["name"] for i in cap["interfaces"]]
    expect(sorted(names) == sorted(["ip4_lookup", "port_tx-p1"] + drop_nodes),
           "interfaces %s, expected ip4_lookup, port_tx-p1 and the %d drop nodes" % (names, len(drop_nodes)))
    for i in cap["interfaces"]:
        expect(i["description"] == "npsgw capture point %s" % i["name"] and i["linktype"] == 1 and
               i["tsresol"] == 9 and i["snaplen"] == 1600, "interface block %s" % i)
    expect(cap["application"] and cap["application"].startswith("npsd"), "application %r" % cap["application"])
    by = {}
    for p in cap["packets"]:
        by.setdefault(p["if_name"], []).append(p)
    # ip4_lookup: every IPv4 packet routed, as the node sees it (L3: made-up Ethernet header), + the echo reply
    v4_in = [zero_eth(l3(f)) for n, f, _ in t if n in ("fwd4", "echo4", "noroute4", "red4", "leak4")]
    echo_reply = [zero_eth(l3(f)) for f in sent_p0 if f[12:14] == b"\x08\x00" and l3(f)[9] == 1 and l3(f)[20] == 0]
    expect(len(echo_reply) == 1, "p0 sent %d echo replies, expected 1" % len(echo_reply))
    expect_frames("ip4_lookup", v4_in + echo_reply, [p["data"] for p in by.get("ip4_lookup", [])])
    # port_tx-p1: exactly the frames p1 sent
    expect(len(sent_p1) == 7, "p1 sent %d frames, expected 7" % len(sent_p1))
    expect_frames("port_tx-p1", sent_p1, [p["data"] for p in by.get("port_tx-p1", [])])
    # drops: each at its reason's node; L3 drops with the made-up header, Ethernet-level drops as received
    exp_drop = {"drop_no_route": [zero_eth(l3(f)) for n, f, _ in t if n == "noroute4"],
                "drop_blackhole": [zero_eth(l3(f)) for n, f, _ in t if n == "blackhole6"],
                "drop_eth_unknown_vlan": [bytes(f) for n, f, _ in t if n == "badvlan"]}
    for node in drop_nodes:
        expect_frames(node, exp_drop.get(node, []), [p["data"] for p in by.get(node, [])])
    # a comment per packet: node, worker, VRF and input interface, and the drop reason at drop nodes
    for p in cap["packets"]:
        c = p["comment"] or ""
        expect(c.startswith("node=%s worker=0" % p["if_name"]), "comment %r at %s" % (c, p["if_name"]))
        if p["if_name"].startswith("drop_"):
            expect(c.endswith(" drop=%s" % p["if_name"][5:]), "comment %r at %s" % (c, p["if_name"]))
        if p["if_name"] in ("ip4_lookup", "drop_no_route", "drop_blackhole"):
            red = p["data"][26:30] == bytes([10, 2, 0, 2])
            want = " vrf=red in=ra" if red else " vrf=main in=a"
            expect(want in c, "comment %r: expected%s" % (c, want))
        expect(p["caplen"] == p["origlen"] == len(p["data"]), "caplen/origlen %d/%d" % (p["caplen"], p["origlen"]))
    # the same seen by tshark
    rows = tshark_fields(path, ["frame.interface_name", "frame.comment", "frame.len"])
    expect(len(rows) == len(cap["packets"]), "tshark reads %d packets, we read %d" % (len(rows), len(cap["packets"])))
    for row, p in zip(rows, cap["packets"]):
        expect(row[0] == p["if_name"] and row[1] == p["comment"] and int(row[2]) == p["origlen"],
               "tshark %s vs %s %r" % (row, p["if_name"], p["comment"]))
    # status while it ran: written = what the file has, nothing lost
    n = len(cap["packets"])
    expect(st["active"] == "yes" and st["written"] == n and st["remaining"] == 1000 - n and st["lost"] == 0 and
           st["file"] == path and st["points"] == "ip4_lookup,port_tx-p1,drops", "capture status %s (file has %d)"
           % (st, n))
    expect("capture stopped: %d packets written" % n in out, "stop reply %r" % out)


def cap_filter(r, rng):
    path = os.path.join(r.dir, "filter.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "ip4_lookup,ip6_lookup", "filter", "udp and dst port 5353",
                write=path)
    match = [from_a(IP(src="10.0.0.2", dst="192.0.2.40") / UDP(dport=5353) / rnd_payload(rng)),
             from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::40") / UDP(dport=5353) / rnd_payload(rng)),
             from_ra(IP(src="10.2.0.2", dst="198.51.100.40") / UDP(dport=5353) / rnd_payload(rng))]
    other = [from_a(IP(src="10.0.0.2", dst="192.0.2.41") / UDP(dport=53) / rnd_payload(rng)),
             from_a(IP(src="10.0.0.2", dst="192.0.2.42") / TCP(dport=5353) / rnd_payload(rng)),
             from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::41") / UDP(sport=5353, dport=1) / rnd_payload(rng))]
    frames = match + other
    rng.shuffle(frames)
    r.send(frames)
    ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path)
    expect_frames("filtered capture", [zero_eth(l3(f)) for f in match], [p["data"] for p in cap["packets"]])


def cap_filter_percent(r, rng):
    """A filter with '%' (libpcap's modulo) and no blanks reaches the daemon unchanged."""
    path = os.path.join(r.dir, "modulo.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "ip4_lookup", "filter", "ip[8]%64=0", write=path)
    f = [from_a(IP(src="10.0.0.2", dst="192.0.2.45", ttl=t) / UDP() / rnd_payload(rng)) for t in (64, 65, 128, 63)]
    r.send(f)
    ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path)
    expect_frames("ip[8]%64=0", [zero_eth(l3(x)) for x in f if x[IP].ttl % 64 == 0],
                  [p["data"] for p in cap["packets"]])


def cap_vrf_rx(r, rng):
    """vrf with the rx point: either refused, or the VRF's frames are captured (not silently nothing)."""
    path = os.path.join(r.dir, "vrf-rx.pcapng")
    rc, out, err = r.ctl_text("capture", "start", "point", "rx", "vrf", "red", write=path)
    if rc == 1:
        return
    expect(rc == 0, "exit %d %r" % (rc, err))
    f = [from_ra(IP(src="10.2.0.2", dst="198.51.100.46") / UDP()),
         from_a(IP(src="10.0.0.2", dst="192.0.2.46") / UDP())]
    r.send(f)
    st = capture_status(r)
    ctl_ok_text(r, "capture", "stop")
    expect_frames("rx vrf red (accepted, so it must capture red's frames)", [bytes(f[0])],
                  [p["data"] for p in pcapng_read.read(path)["packets"]])


def cap_count_status(r, rng):
    path = os.path.join(r.dir, "count.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "port_tx-p1", "count", "10", write=path)
    st = capture_status(r)
    expect(st == {"active": "yes", "points": "port_tx-p1", "file": path, "written": 0, "remaining": 10, "lost": 0},
           "status at start %s" % st)
    before = len(r.tx_frames("p1"))
    r.send([from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (50 + i)) / UDP() / rnd_payload(rng)) for i in range(4)])
    st = capture_status(r, settle=True)
    expect(st == {"active": "yes", "points": "port_tx-p1", "file": path, "written": 4, "remaining": 6, "lost": 0},
           "status after 4 of 10 %s" % st)
    r.send([from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (60 + i)) / UDP() / rnd_payload(rng)) for i in range(9)])
    st = wait_capture_done(r)
    expect(st["written"] == 10 and st["remaining"] == 0 and st["lost"] == 0, "status after the count %s" % st)
    cap = pcapng_read.read(path)
    sent = r.tx_frames("p1")[before:]
    expect(len(sent) == 13, "p1 sent %d, expected 13" % len(sent))
    expect_frames("count 10", sent[:10], [p["data"] for p in cap["packets"]])
    rc, _, err = r.ctl_text("capture", "stop")
    expect(rc == 1 and "no capture is running" in err, "capture stop after the count: %d %r" % (rc, err))


def cap_vrf(r, rng):
    path = os.path.join(r.dir, "vrf.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "ip4_lookup,drops", "vrf", "red", write=path)
    red = [from_ra(IP(src="10.2.0.2", dst="198.51.100.%d" % (70 + i)) / UDP() / rnd_payload(rng)) for i in range(3)]
    red_drop = [from_ra(IP(src="10.2.0.2", dst="8.8.4.4") / UDP() / rnd_payload(rng))]
    main = [from_a(IP(src="10.0.0.2", dst="192.0.2.70") / UDP() / rnd_payload(rng)),
            from_a(IP(src="10.0.0.2", dst="8.8.8.8") / UDP() / rnd_payload(rng))]
    r.send(red + main + red_drop)
    ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path)
    expect_frames("vrf red at ip4_lookup", [zero_eth(l3(f)) for f in red + red_drop],
                  [p["data"] for p in cap["packets"] if p["if_name"] == "ip4_lookup"])
    expect_frames("vrf red at drops", [zero_eth(l3(f)) for f in red_drop],
                  [p["data"] for p in cap["packets"] if p["if_name"] != "ip4_lookup"])
    for p in cap["packets"]:
        expect(" vrf=red in=ra" in p["comment"], "comment %r" % p["comment"])


def cap_snaplen(r, rng):
    path = os.path.join(r.dir, "snap.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "port_tx-p1,rx", "snaplen", "64", write=path)
    f = from_a(IP(src="10.0.0.2", dst="192.0.2.80") / UDP() / payload(300))
    r.send([f])
    ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path)
    expect(len(cap["packets"]) == 2, "%d packets, expected 2" % len(cap["packets"]))
    out = r.tx_frames("p1")[-1]
    for p in cap["packets"]:
        full = bytes(f) if p["if_name"] == "eth_input" else out
        expect(p["caplen"] == 64 and p["origlen"] == len(full) and p["data"] == full[:64],
               "%s: caplen %d origlen %d (expected 64, %d)" % (p["if_name"], p["caplen"], p["origlen"], len(full)))
    expect(all(i["snaplen"] == 64 for i in cap["interfaces"]), "interface snaplen %s" % cap["interfaces"])


def cap_stream(r, rng):
    """npsctl -w - ... | tshark -r -: streams through a FIFO until the count is reached."""
    sh = "'%s' -s '%s' -w - capture start point port_tx-p1 count 3 | tee '%s' | tshark -r - -T fields " \
         "-E separator='|' -e frame.interface_name -e ip.dst -e frame.comment" % \
         (harness.NPSCTL, r.sock, os.path.join(r.dir, "stream.pcapng"))
    p = subprocess.Popen(["bash", "-o", "pipefail", "-c", sh], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while capture_status(r)["active"] != "yes":
            expect(time.time() < deadline and p.poll() is None, "the streamed capture did not start")
            time.sleep(0.05)
        before = len(r.tx_frames("p1"))
        r.send([from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (90 + i)) / UDP() / rnd_payload(rng))
                for i in range(5)])
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    expect(p.returncode == 0, "pipeline exit %d: %s" % (p.returncode, err.decode(errors="replace")[-300:]))
    rows = [line.split("|") for line in out.decode().splitlines()]
    expect(rows == [["port_tx-p1", "192.0.2.%d" % (90 + i), "node=port_tx-p1 worker=0 vrf=main in=a"]
                    for i in range(3)], "tshark read from the pipe: %s" % rows)
    cap = pcapng_read.read(os.path.join(r.dir, "stream.pcapng"))
    expect_frames("streamed", r.tx_frames("p1")[before:before + 3], [x["data"] for x in cap["packets"]])
    st = capture_status(r)
    expect(st["active"] == "no" and st["written"] == 3, "status after the stream %s" % st)


def group_capture():
    rng = random.Random(1)
    r = new_router("capture")
    try:
        check("capture: ip4_lookup, port_tx-p1, drops", cap_nodes_ports_drops, r, rng)
        check("capture: filter (blanks percent-encoded)", cap_filter, r, rng)
        check("capture: filter with % and no blanks", cap_filter_percent, r, rng)
        check("capture: count and status", cap_count_status, r, rng)
        check("capture: vrf red only", cap_vrf, r, rng)
        check("capture: vrf with the rx point", cap_vrf_rx, r, rng)
        check("capture: snaplen", cap_snaplen, r, rng)
        check("capture: -w - streamed into tshark", cap_stream, r, rng)
    finally:
        check("capture: daemon stops cleanly", finish, r)


# ---------------------------------------------------------------------------------------------------------------
# Trace

def trace_packets(r):
    """{packet id: {'worker', 'steps': [(node, detail)]}} from trace show."""
    pk = {}
    for row in r.ctl_ok("trace", "show")["trace"]:
        e = pk.setdefault(row["packet"], {"worker": row["worker"], "steps": []})
        expect(row["step"] == len(e["steps"]), "packet %s: step %s out of order" % (row["packet"], row["step"]))
        e["steps"].append((row["node"], row["detail"]))
    return pk


def dst_of(steps):
    for node, detail in steps:
        if node.endswith("_lookup"):
            return detail.split("dst ")[1].split(",")[0]
    return None


EXPECTED_PATHS = {
    # dst: (input interface and VRF, nodes, what the last node says)
    "192.0.2.5": ("in a, VRF main", ["eth_input", "ip4_lookup", "ip4_rewrite", "port_tx-p1"],
                  "sent on p1, interface b"),
    "2001:db8:100::5": ("in a, VRF main", ["eth_input", "ip6_lookup", "ip6_rewrite", "port_tx-p1"],
                        "sent on p1, interface b"),
    "10.0.0.1": ("in a, VRF main", ["eth_input", "ip4_lookup", "ip4_local", "ip4_lookup",
                                    "ip4_rewrite", "port_tx-p0"], "sent on p0, interface a"),
    "2001:db8:a::1": ("in a, VRF main", ["eth_input", "ip6_lookup", "ip6_local", "ip6_lookup",
                                         "ip6_rewrite", "port_tx-p0"], "sent on p0, interface a"),
    "8.8.8.8": ("in a, VRF main", ["eth_input", "ip4_lookup", "drop_no_route"],
                "dropped: no route in the VRF"),
    "2001:db8:dead::5": ("in a, VRF main", ["eth_input", "ip6_lookup", "drop_blackhole"],
                         "dropped: blackhole route"),
    "2001:db8:ffff::1": ("in a, VRF main", ["eth_input", "ip6_lookup", "drop_no_route"],
                         "dropped: no route in the VRF"),
    "198.51.100.5": ("in a, VRF main", ["eth_input", "ip4_lookup", "ip4_rewrite", "port_tx-p1"],
                     "sent on p1, interface rb"),
    "2001:db8:300::5": ("in a, VRF main", ["eth_input", "ip6_lookup", "ip6_rewrite", "port_tx-p1"],
                        "sent on p1, interface rb"),
    "198.51.100.6": ("in ra, VRF red", ["eth_input", "ip4_lookup", "ip4_rewrite", "port_tx-p1"],
                     "sent on p1, interface rb"),
}


def trace_frames():
    return [from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP() / payload(20)),
            from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::5") / UDP() / payload(20)),
            from_a(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP() / payload(20)),
            from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:a::1") / ICMPv6EchoRequest() / payload(20)),
            from_a(IP(src="10.0.0.2", dst="8.8.8.8") / UDP() / payload(20)),
            from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:dead::5") / UDP() / payload(20)),
            from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:ffff::1") / UDP() / payload(20)),
            from_a(IP(src="10.0.0.2", dst="198.51.100.5") / UDP() / payload(20)),
            from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:300::5") / UDP() / payload(20)),
            from_ra(IP(src="10.2.0.2", dst="198.51.100.6") / UDP() / payload(20))]


def trace_paths(r, workers):
    out = ctl_ok_text(r, "trace", "start", "count", "100")
    expect("tracing the next 100 packets" in out, "reply %r" % out)
    frames = trace_frames()
    # worker w gets the frames sent to rx queue w
    for w in range(workers):
        r.send(frames[w::workers], "p0", w)
    pk = trace_packets(r)
    expect(len(pk) == len(frames), "%d packets traced, expected %d" % (len(pk), len(frames)))
    seen = {}
    for pid, e in pk.items():
        dst = dst_of(e["steps"])
        expect(dst in EXPECTED_PATHS, "packet %s: unexpected path %s" % (pid, e["steps"]))
        seen[dst] = e
        first, nodes, last = EXPECTED_PATHS[dst]
        got = [n for n, _ in e["steps"]]
        expect(got == nodes, "%s: nodes %s, expected %s" % (dst, got, nodes))
        expect(e["steps"][0][1] == first, "%s: eth_input says %r, expected %r" % (dst, e["steps"][0][1], first))
        expect(e["steps"][-1][1] == last, "%s: last step says %r, expected %r" % (dst, e["steps"][-1][1], last))
        vrf = "VRF red" if "red" in first else "VRF main"
        look = e["steps"][nodes.index("ip4_lookup" if "." in dst else "ip6_lookup")][1]  # the first lookup
        expect(look.startswith("%s, dst %s, route " % (vrf, dst)) and not look.endswith("route none") or
               nodes[-1] == "drop_no_route" and look.endswith("route none"), "%s: lookup says %r" % (dst, look))
        idx = [i for i, f in enumerate(frames) if dst in (f.getlayer(IP).dst if f.haslayer(IP)
                                                          else f.getlayer(IPv6).dst,)][0]
        expect(e["worker"] == idx % workers, "%s: traced on worker %s, sent to worker %d" % (dst, e["worker"],
                                                                                            idx % workers))
    ctl_ok_text(r, "trace", "stop")
    return seen


def trace_leak_shown(r):
    """The lookup step of a leaked packet says that it leaked (into which VRF), not only the matching prefix."""
    ctl_ok_text(r, "trace", "start", "count", "2")
    r.send([from_a(IP(src="10.0.0.2", dst="198.51.100.9") / UDP()),
            from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:300::9") / UDP())])
    pk = trace_packets(r)
    expect(len(pk) == 2, "%d packets traced" % len(pk))
    for e in pk.values():
        looks = [d for n, d in e["steps"] if n.endswith("_lookup")]
        expect(any("red" in d and "leak" in d.lower() or "VRF red" in d for d in looks),
               "no lookup step mentions the leak into VRF red: %s" % looks)


def trace_filter_count(r):
    ctl_ok_text(r, "trace", "start", "count", "2", "filter", "udp and dst host 192.0.2.77")
    frames = [from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % d) / UDP(sport=i) / payload(10))
              for i, d in enumerate([76, 77, 78, 77, 79, 77, 77])]
    r.send(frames)
    pk = trace_packets(r)
    expect(len(pk) == 2, "%d packets traced, expected 2 (count 2 of 4 matching)" % len(pk))
    expect(all(dst_of(e["steps"]) == "192.0.2.77" for e in pk.values()), "traced %s" % pk)
    # the count is spent: nothing more is recorded; trace stop works and trace show keeps the records
    r.send(frames[1:2])
    expect(len(trace_packets(r)) == 2, "more packets traced after the count")
    ctl_ok_text(r, "trace", "stop")
    expect(len(trace_packets(r)) == 2, "trace show after stop lost the records")


def group_trace(workers):
    r = new_router("trace-w%d" % workers, workers=workers)
    try:
        tag = "trace w%d: " % workers
        check(tag + "forwarded, local, dropped; v4, v6, VRFs", trace_paths, r, workers)
        if workers == 1:
            check(tag + "filter and count", trace_filter_count, r)
        check(tag + "lookup step shows the route leak", trace_leak_shown, r)
    finally:
        check(tag + "daemon stops cleanly", finish, r)


# ---------------------------------------------------------------------------------------------------------------
# Path check

def path_check(r, *args):
    j = r.ctl("path-check", *args)
    expect(j["status"] == 0 and j["_exit"] == 0, "path-check %s: %s" % (" ".join(args), j.get("error")))
    steps = [(x["node"], x["detail"]) for x in j["data"]["path"]]
    return steps, j.get("message", "").strip()


PATH_CASES = [
    # (args, nodes, verdict)
    (["in", "a", "src", "10.0.0.2", "dst", "192.0.2.199"],
     ["eth_input", "ip4_lookup", "ip4_rewrite", "port_tx-p1"],
     "verdict: would leave on port p1 (interface b) via 10.0.1.2 dev b (%s)" % GW_B),
    (["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:100::199", "proto", "tcp", "dport", "443"],
     ["eth_input", "ip6_lookup", "ip6_rewrite", "port_tx-p1"],
     "verdict: would leave on port p1 (interface b) via 2001:db8:b::2 dev b (%s)" % GW_B),
    (["in", "a", "src", "10.0.0.2", "dst", "8.8.8.8"], ["eth_input", "ip4_lookup", "drop_no_route"],
     "verdict: dropped at ip4_lookup: no route in the VRF (drop_no_route)"),
    (["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:ffff::1"],
     ["eth_input", "ip6_lookup", "drop_no_route"],
     "verdict: dropped at ip6_lookup: no route in the VRF (drop_no_route)"),
    (["in", "a", "src", "10.0.0.2", "dst", "203.0.113.199"], ["eth_input", "ip4_lookup", "drop_blackhole"],
     "verdict: dropped at ip4_lookup: blackhole route (drop_blackhole)"),
    (["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:dead::199", "size", "1000"],
     ["eth_input", "ip6_lookup", "drop_blackhole"],
     "verdict: dropped at ip6_lookup: blackhole route (drop_blackhole)"),
    (["in", "a", "src", "10.0.0.2", "dst", "10.0.0.1", "proto", "icmp"],
     ["eth_input", "ip4_lookup", "ip4_local", "ip4_lookup", "ip4_rewrite", "port_tx-p0"],
     "verdict: would leave on port p0 (interface a) via 10.0.0.2 dev a (%s)" % H_A),
    (["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:a::1", "proto", "icmp"],
     ["eth_input", "ip6_lookup", "ip6_local", "ip6_lookup", "ip6_rewrite", "port_tx-p0"],
     "verdict: would leave on port p0 (interface a) via 2001:db8:a::2 dev a (%s)" % H_A),
    (["in", "a", "src", "10.0.0.2", "dst", "192.0.2.199", "ttl", "1"],
     ["eth_input", "ip4_lookup", "ip4_rewrite", "icmp4_error", "ip4_lookup", "ip4_rewrite",
      "port_tx-p0"], "verdict: would leave on port p0 (interface a) via 10.0.0.2 dev a (%s)" % H_A),
    (["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:100::199", "ttl", "1"],
     ["eth_input", "ip6_lookup", "ip6_rewrite", "icmp6_error", "ip6_lookup", "ip6_rewrite",
      "port_tx-p0"], "verdict: would leave on port p0 (interface a) via 2001:db8:a::2 dev a (%s)" % H_A),
    (["in", "a", "src", "10.0.0.2", "dst", "198.51.100.199"],
     ["eth_input", "ip4_lookup", "ip4_rewrite", "port_tx-p1"],
     "verdict: would leave on port p1 (interface rb) via 10.2.1.2 dev rb (%s)" % GW_RB),
    (["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:300::199", "proto", "icmp"],
     ["eth_input", "ip6_lookup", "ip6_rewrite", "port_tx-p1"],
     "verdict: would leave on port p1 (interface rb) via 2001:db8:2b::2 dev rb (%s)" % GW_RB),
    (["in", "ra", "vrf", "red", "src", "10.2.0.2", "dst", "198.51.100.199"],
     ["eth_input", "ip4_lookup", "ip4_rewrite", "port_tx-p1"],
     "verdict: would leave on port p1 (interface rb) via 10.2.1.2 dev rb (%s)" % GW_RB),
    (["in", "ra", "src", "10.2.0.2", "dst", "192.0.2.199"], ["eth_input", "ip4_lookup",
                                                             "drop_no_route"],
     "verdict: dropped at ip4_lookup: no route in the VRF (drop_no_route)"),
    # Valid unicast packets go from eth_input straight to the lookup; the others pass ip4_input / ip6_input,
    # which name their drop.
    (["in", "a", "src", "127.0.0.1", "dst", "192.0.2.199"], ["eth_input", "ip4_input", "drop_ip4_martian_src"],
     "verdict: dropped at ip4_input: IPv4 source is 0/8, 127/8, multicast, class E or broadcast "
     "(drop_ip4_martian_src)"),
    (["in", "a", "src", "2001:db8:a::2", "dst", "ff0e::1"], ["eth_input", "ip6_input", "drop_ip6_mcast"],
     "verdict: dropped at ip6_input: IPv6 multicast destination not handled (only NDP and echo to all-nodes are) "
     "(drop_ip6_mcast)"),
]


def pathcheck_verdicts(r):
    ports0 = {p: (v["tx_packets"], v["rx_packets"]) for p, v in r.stats()["ports"].items()}
    out0 = {d: len(r.tx_frames(d)) for d in ("p0", "p1")}
    errs = []
    for args, nodes, verdict in PATH_CASES:
        steps, v = path_check(r, *args)
        got = [n for n, _ in steps]
        if got != nodes:
            errs.append("%s: nodes %s, expected %s" % (" ".join(args), got, nodes))
        if v != verdict:
            errs.append("%s: %r, expected %r" % (" ".join(args), v, verdict))
        if "ttl" in args:
            icmp = [d for n, d in steps if n.startswith("icmp")]
            want = "ICMP error type %d code 0" % (11 if "." in args[args.index("dst") + 1] else 3)
            if icmp != [want]:
                errs.append("%s: ICMP step %s, expected %r" % (" ".join(args), icmp, want))
        if nodes[-1].startswith("port_tx") and not steps[-1][1].startswith("would leave on"):
            errs.append("%s: last step %r" % (" ".join(args), steps[-1][1]))
    expect(not errs, "\n".join(errs))
    # never transmitted: the ports sent nothing and the output pcaps did not grow
    time.sleep(0.3)
    ports1 = {p: (v["tx_packets"], v["rx_packets"]) for p, v in r.stats()["ports"].items()}
    expect(ports0 == ports1, "port counters changed by path checks: %s -> %s" % (ports0, ports1))
    out1 = {d: len(r.tx_frames(d)) for d in ("p0", "p1")}
    expect(out0 == out1, "output pcaps grew during path checks: %s -> %s" % (out0, out1))
    for d in ("p0", "p1"):
        for f in r.tx_frames(d):
            expect(b"\x02\x00\x00\x00\x00\xfe" not in f[:12] and b"\xc6\x33\x64\xc7" not in f and
                   b"\xc0\x00\x02\xc7" not in f, "a path-check packet left on %s: %s" % (d, harness.describe(f)))


def pathcheck_leak_shown(r):
    for dst in ("198.51.100.199", "2001:db8:300::199"):
        src = "10.0.0.2" if "." in dst else "2001:db8:a::2"
        steps, _ = path_check(r, "in", "a", "src", src, "dst", dst)
        looks = [d for n, d in steps if n.endswith("_lookup")]
        expect(any("red" in d and "leak" in d.lower() or "VRF red" in d for d in looks),
               "no lookup step mentions the leak into VRF red: %s" % looks)


def pathcheck_not_counted(r):
    """Path checks leave show stats and show drops alone: nothing was received, sent or dropped."""
    s0 = r.stats()
    for args in (["in", "a", "src", "10.0.0.2", "dst", "8.8.8.8"], ["in", "a", "src", "10.0.0.2", "dst", "192.0.2.1"],
                 ["in", "a", "src", "2001:db8:a::2", "dst", "2001:db8:dead::1"]):
        path_check(r, *args)
    s1 = r.stats()
    diff = ["totals.%s %d -> %d" % (k, s0["totals"][k], s1["totals"][k]) for k in s0["totals"]
            if s0["totals"][k] != s1["totals"][k]]
    diff += ["drops.%s %d -> %d" % (k, s0["drops"][k], s1["drops"][k]) for k in s0["drops"]
             if s0["drops"][k] != s1["drops"][k]]
    expect(not diff, "path checks counted as traffic: %s" % ", ".join(diff))


def pathcheck_not_captured(r):
    """A capture at tx and drops during path checks: the dry-run packets, which never leave, are not in it (or are
    marked as path checks in their comment)."""
    path = os.path.join(r.dir, "pc.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "tx,drops", write=path)
    path_check(r, "in", "a", "src", "10.0.0.2", "dst", "192.0.2.1")
    path_check(r, "in", "a", "src", "10.0.0.2", "dst", "8.8.8.8")
    time.sleep(0.2)
    ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path)
    bad = [p["comment"] for p in cap["packets"] if "path-check" not in p["comment"] and "dry" not in p["comment"]]
    expect(not bad, "%d path-check packets captured as real traffic: %s" % (len(bad), bad))


def pathcheck_while_tracing(r):
    """A path check during an operator trace: both work, the trace keeps its own packets."""
    ctl_ok_text(r, "trace", "start", "count", "1")
    steps, v = path_check(r, "in", "a", "src", "10.0.0.2", "dst", "192.0.2.199")
    expect(v.startswith("verdict: would leave on port p1"), "verdict %r" % v)
    r.send([from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP())])
    pk = trace_packets(r)
    mine = [e for e in pk.values() if dst_of(e["steps"]) == "192.0.2.5"]
    expect(len(mine) == 1 and [n for n, _ in mine[0]["steps"]][-1] == "port_tx-p1", "trace show %s" % pk)
    expect(mine[0]["steps"][-1][1] == "sent on p1, interface b", "trace show %s" % mine)
    ctl_ok_text(r, "trace", "stop")


def pathcheck_forwarding_still(r):
    """Real traffic after the path checks: forwarded as usual."""
    before = len(r.tx_frames("p1"))
    f = from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP() / payload(40))
    r.send([f])
    time.sleep(0.2)
    got = r.tx_frames("p1")[before:]
    expect(got == [harness.fwd_frame(f, R_B, GW_B)], "p1 sent %s" % [harness.describe(g) for g in got])


def iface_down_dropped(r):
    """Interface b set down: packets routed out of it (a run of three and a lone one, both families) are dropped and
    counted as iface_down, path-check names the drop; set up again, they are forwarded."""
    v4 = [from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (5 + i)) / UDP() / payload(40)) for i in range(4)]
    v6 = [from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::%d" % (5 + i)) / UDP() / payload(40)) for i in range(4)]
    fwd = {harness.fwd_frame(f, R_B, GW_B) for f in v4 + v6}  # p1 also carries rb's frames: only these count
    ctl_ok_text(r, "interface", "set", "name", "b", "state", "down")
    try:
        d0 = r.stats()["drops"].get("iface_down", 0)
        before = len(r.tx_frames("p1"))
        for fam in (v4, v6):
            r.send(fam[:3])  # one burst: a run to one next hop
            time.sleep(0.1)
            r.send(fam[3:])
        time.sleep(0.3)
        d1 = r.stats()["drops"].get("iface_down", 0)
        expect(d1 - d0 == 8, "iface_down drops %d -> %d (expected 8 more)" % (d0, d1))
        got = [g for g in r.tx_frames("p1")[before:] if g in fwd]
        expect(not got, "p1 sent %s while b was down" % [harness.describe(g) for g in got])
        for src, dst, fam in (("10.0.0.2", "192.0.2.199", "4"), ("2001:db8:a::2", "2001:db8:100::199", "6")):
            steps, v = path_check(r, "in", "a", "src", src, "dst", dst)
            expect([n for n, _ in steps] == ["eth_input", "ip%s_lookup" % fam, "ip%s_rewrite" % fam, "drop_iface_down"]
                   and v.startswith("verdict: dropped at ip%s_rewrite" % fam) and "(drop_iface_down)" in v,
                   "path-check to %s with b down: %s, %r" % (dst, steps, v))
    finally:
        ctl_ok_text(r, "interface", "set", "name", "b", "state", "up")
    before = len(r.tx_frames("p1"))
    r.send(v4[:3] + v6[:3])
    time.sleep(0.3)
    got = [g for g in r.tx_frames("p1")[before:] if g in fwd]
    want = [harness.fwd_frame(f, R_B, GW_B) for f in v4[:3] + v6[:3]]
    # the two families leave from two nodes: each keeps its order, not the order between them
    expect(sorted(got) == sorted(want), "p1 sent %s after b came up" % [harness.describe(g) for g in got])


def group_pathcheck():
    r = new_router("pathcheck")
    try:
        check("path-check: verdicts; nothing transmitted", pathcheck_verdicts, r)
        check("path-check: lookup step shows the route leak", pathcheck_leak_shown, r)
        check("path-check: during a trace", pathcheck_while_tracing, r)
        check("path-check: not counted in show stats/drops", pathcheck_not_counted, r)
        check("path-check: not in a capture as real traffic", pathcheck_not_captured, r)
        check("path-check: forwarding unaffected", pathcheck_forwarding_still, r)
        check("interface down: routed packets dropped as iface_down, named by path-check", iface_down_dropped, r)
    finally:
        check("path-check: daemon stops cleanly", finish, r)


# ---------------------------------------------------------------------------------------------------------------
# Bad requests

def bad_requests(r):
    d = r.dir
    fifo = os.path.join(d, "noreader.fifo")
    os.mkfifo(fifo)
    f = os.path.join(d, "bad.pcapng")
    cases = [
        (["capture", "start", "point", "nosuch", "file", f], "unknown capture point 'nosuch'"),
        (["capture", "start", "point", "ip4_lookup,nosuch", "file", f], "unknown capture point 'nosuch'"),
        (["capture", "start", "point", "port_rx-p0", "file", f], "unknown capture point 'port_rx-p0'"),
        (["capture", "start", "point", ",", "file", f], "capture point"),
        (["capture", "start", "point", "rx", "file", f, "filter", "udp port"], "bad filter 'udp port'"),
        (["capture", "start", "point", "rx", "file", f, "filter", "nosuchproto"], "bad filter"),
        (["capture", "start", "point", "rx"], "missing key 'file'"),
        (["capture", "start", "file", f], "missing key 'point'"),
        (["capture", "start", "point", "rx", "file", "/nonexistent-dir/x.pcapng"], "No such file or directory"),
        (["capture", "start", "point", "rx", "file", "/tmp"], "Is a directory"),
        (["capture", "start", "point", "rx", "file", "/etc/hostname/x"], "Not a directory"),
        (["capture", "start", "point", "rx", "file", "/proc/version"], "/proc/version"),
        (["capture", "start", "point", "rx", "file", fifo], "FIFO without a reader"),
        (["capture", "start", "point", "rx", "file", f, "count", "0"], "bad count"),
        (["capture", "start", "point", "rx", "file", f, "snaplen", "10"], "bad snaplen"),
        (["capture", "start", "point", "rx", "file", f, "vrf", "nosuch"], "no VRF 'nosuch'"),
        (["capture", "start", "point", "rx", "file", f, "colour", "red"], "colour"),
        (["capture", "stop"], "no capture is running"),
        (["trace", "start", "filter", "bogus expr"], "bad filter"),
        (["trace", "start", "count", "0"], "bad count"),
        (["trace", "start", "count", "many"], "bad count"),
        (["trace", "stop"], "no trace is running"),
        (["path-check", "in", "a", "src", "10.0.0.300", "dst", "192.0.2.1"], "bad src/dst"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "2001:db8:100::1"], "bad src/dst"),
        (["path-check", "in", "a", "src", "2001:db8:a::2", "dst", "192.0.2.1"], "bad src/dst"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "192.0.2.0/24"], "bad src/dst"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "gateway"], "bad src/dst"),
        (["path-check", "in", "nosuch", "src", "10.0.0.2", "dst", "192.0.2.1"], "no interface 'nosuch'"),
        (["path-check", "in", "a", "vrf", "red", "src", "10.0.0.2", "dst", "192.0.2.1"], "is in VRF 'main'"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "192.0.2.1", "proto", "sctp"], "bad proto"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "192.0.2.1", "ttl", "256"], "bad ttl"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "192.0.2.1", "sport", "65536"], "bad sport"),
        (["path-check", "in", "a", "src", "10.0.0.2", "dst", "192.0.2.1", "size", "9000"], "bad size"),
        (["path-check", "in", "a", "src", "10.0.0.2"], "missing key 'dst'"),
    ]
    # a path check enters at a device interface, never at a tunnel's
    ctl_ok_text(r, "interface", "add", "name", "tun9", "vrf", "main", "kind", "ipsec")
    cases.append((["path-check", "in", "tun9", "src", "10.0.0.2", "dst", "192.0.2.1"], "'tun9' is a tunnel"))
    errs = []
    for words, want in cases:
        rc, out, err = r.ctl_text(*words)
        if rc != 1 or want not in err or out:
            errs.append("npsctl %s: exit %d, stdout %r, stderr %r (expected exit 1 and %r)"
                        % (" ".join(words), rc, out.strip(), err.strip(), want))
            if rc == 0 and words[:2] == ["capture", "start"]:
                r.ctl_text("capture", "stop")
        rc, _, err = r.ctl_text("version")
        if rc != 0 or r.proc.poll() is not None:
            raise Fail("daemon stopped serving after npsctl %s: %s" % (" ".join(words), err))
    # a second capture while one runs
    ctl_ok_text(r, "capture", "start", "point", "rx", "file", os.path.join(d, "first.pcapng"))
    rc, _, err = r.ctl_text("capture", "start", "point", "tx", "file", os.path.join(d, "second.pcapng"))
    if rc != 1 or "a capture is running (to %s)" % os.path.join(d, "first.pcapng") not in err:
        errs.append("second capture start: exit %d %r" % (rc, err))
    if os.path.exists(os.path.join(d, "second.pcapng")):
        errs.append("the refused capture created its file")
    st = capture_status(r)
    if st["file"] != os.path.join(d, "first.pcapng"):
        errs.append("status after the refused start: %s" % st)
    ctl_ok_text(r, "capture", "stop")
    ctl_ok_text(r, "interface", "del", "name", "tun9")
    for p in ("bad.pcapng",):
        if os.path.exists(os.path.join(d, p)):
            errs.append("a refused capture left %s behind" % p)
    expect(not errs, "\n".join(errs))


def reader_gone(r):
    """The reader of a streamed capture goes away: the capture ends (or at least says it lost the packets)."""
    p = subprocess.Popen([harness.NPSCTL, "-s", r.sock, "-w", "-", "capture", "start", "point", "rx", "count", "100"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.time() + 5
    while capture_status(r)["active"] != "yes":
        expect(time.time() < deadline, "streamed capture did not start")
        time.sleep(0.05)
    fifo_dir = os.path.dirname(capture_status(r)["file"])
    p.kill()
    p.wait()
    r.send([from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP()) for _ in range(3)])
    time.sleep(0.3)
    st = capture_status(r)
    if st["active"] == "yes":
        r.ctl_text("capture", "stop")
    if fifo_dir.startswith("/tmp/npsctl."):
        shutil.rmtree(fifo_dir, ignore_errors=True)  # npsctl was killed: it could not remove its FIFO
    expect(st["active"] == "no" or st["lost"] >= 3,
           "reader gone, capture still active and counts the packets written: %s" % st)


def serving_after(r):
    before = len(r.tx_frames("p1"))
    f = from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP() / payload(40))
    r.send([f])
    time.sleep(0.2)
    expect(r.tx_frames("p1")[before:] == [harness.fwd_frame(f, R_B, GW_B)], "not forwarded after the bad requests")
    steps, v = path_check(r, "in", "a", "src", "10.0.0.2", "dst", "192.0.2.5")
    expect(v.startswith("verdict: would leave on port p1"), "path-check %r" % v)


def node_cycles(r):
    return {n["node"]: (n["packets"], n["cycles"]) for n in r.ctl_ok("show", "stats")["nodes"]}


def graph_profile(r):
    """Node timing is off by default: packets are counted, cycles do not grow; on, they do; off again, they stop.
    While it is on, the express path is held off: ip4_lookup sees the forwarded packets and is timed."""
    expect(r.ctl_ok("graph", "profile")["graph"] == [{"profile": "off"}], "profile not off by default")
    j = r.ctl("graph", "profile", "state", "maybe")
    expect(j["status"] != 0 and j["_exit"] == 1 and "bad state 'maybe' (expected on or off)" in j.get("error", ""),
           "bad state accepted: %s" % j)
    f = from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP() / payload(40))

    def send_and_read(node):
        before = node_cycles(r)
        r.send([f] * 20)
        time.sleep(0.3)
        after = node_cycles(r)
        a, b = before.get(node, (0, 0)), after.get(node, (0, 0))  # listed once it has run
        pk, cyc = b[0] - a[0], b[1] - a[1]
        return pk, cyc
    pk, cyc = send_and_read("eth_input")
    expect(pk == 20 and cyc == 0, "profile off: eth_input +%d packets, +%d cycles (want 20, 0)" % (pk, cyc))
    expect(r.ctl_ok("graph", "profile", "state", "on")["graph"] == [{"profile": "on"}], "profile not on")
    expect(r.ctl_ok("graph", "express")["express"] == [{"state": "on", "running": "no", "held_off_by": "profile"}],
           "express path not held off by the profile: %s" % r.ctl_ok("graph", "express"))
    pk, cyc = send_and_read("ip4_lookup")
    expect(pk == 20 and cyc > 0, "profile on: ip4_lookup +%d packets, +%d cycles (want 20, > 0)" % (pk, cyc))
    r.ctl_ok("graph", "profile", "state", "off")
    pk, cyc = send_and_read("eth_input")
    expect(pk == 20 and cyc == 0, "profile off again: eth_input +%d packets, +%d cycles" % (pk, cyc))
    expect(r.ctl_ok("graph", "express")["express"] == [{"state": "on", "running": "yes", "held_off_by": "-"}],
           "express path not back after the profile: %s" % r.ctl_ok("graph", "express"))


def graph_express(r):
    """The express path: on by default, plain forwarded IPv4 and IPv6 go by it (totals.express, not ip4_lookup nor
    ip6_lookup); the operator's off sends every packet node by node, forwarded the same; a capture holds it off while
    it runs."""
    def express_row():
        return r.ctl_ok("graph", "express")["express"]

    f = from_a(IP(src="10.0.0.2", dst="192.0.2.5") / UDP() / payload(40))
    f6 = from_a(IPv6(src="2001:db8:a::2", dst="2001:db8:100::5") / UDP() / payload(40))
    want = [harness.fwd_frame(f, R_B, GW_B)] * 20 + [harness.fwd_frame(f6, R_B, GW_B)] * 20

    def send_and_count():
        """(totals.express, ip4_lookup, ip6_lookup) over 20 IPv4 then 20 IPv6 packets."""
        s0 = r.ctl_ok("show", "stats")
        before = len(r.tx_frames("p1"))
        r.send([f] * 20 + [f6] * 20)
        time.sleep(0.3)
        s1 = r.ctl_ok("show", "stats")
        lk = [[{n["node"]: n["packets"] for n in s["nodes"]}.get(node, 0) for s in (s0, s1)]
              for node in ("ip4_lookup", "ip6_lookup")]
        expect_frames("p1 output", want, r.tx_frames("p1")[before:])
        return (s1["totals"][0]["express"] - s0["totals"][0]["express"], lk[0][1] - lk[0][0], lk[1][1] - lk[1][0])

    expect(express_row() == [{"state": "on", "running": "yes", "held_off_by": "-"}],
           "express path not on by default: %s" % express_row())
    # DPDK 22.11's TRIE layout is known to the probe (dataplane/fib6_trie.c): the level-by-level walk, not DPDK's
    walk = r.ctl_ok("graph", "express").get("ip6_lookup")
    expect(walk == [{"walk": "level-by-level"}], "IPv6 lookups not walked level by level: %s" % walk)
    got = send_and_count()
    expect(got == (40, 0, 0), "express on: totals.express, ip4_lookup, ip6_lookup +%s (want 40, 0, 0)" % (got,))
    j = r.ctl("graph", "express", "state", "fast")
    expect(j["status"] != 0 and j["_exit"] == 1 and "bad state 'fast' (expected on or off)" in j.get("error", ""),
           "bad state accepted: %s" % j)
    expect(r.ctl_ok("graph", "express", "state", "off")["express"] ==
           [{"state": "off", "running": "no", "held_off_by": "operator"}], "off: %s" % express_row())
    got = send_and_count()
    expect(got == (0, 20, 20), "express off: totals.express, ip4_lookup, ip6_lookup +%s (want 0, 20, 20)" % (got,))
    r.ctl_ok("graph", "express", "state", "on")
    path = os.path.join(r.dir, "express.pcapng")
    ctl_ok_text(r, "capture", "start", "point", "ip4_lookup", write=path)
    try:
        expect(express_row() == [{"state": "on", "running": "no", "held_off_by": "capture-or-trace"}],
               "express path not held off by the capture: %s" % express_row())
        got = send_and_count()
        expect(got == (0, 20, 20), "capturing: totals.express, ip4_lookup, ip6_lookup +%s (want 0, 20, 20)" % (got,))
    finally:
        ctl_ok_text(r, "capture", "stop")
    cap = pcapng_read.read(path, strict=False)
    expect(len(cap["packets"]) == 20, "capture at ip4_lookup has %d packets, want the 20 sent" % len(cap["packets"]))
    expect(express_row() == [{"state": "on", "running": "yes", "held_off_by": "-"}],
           "express path not back after the capture: %s" % express_row())
    got = send_and_count()
    expect(got == (40, 0, 0), "after the capture: totals.express, ip4_lookup, ip6_lookup +%s (want 40, 0, 0)" % (got,))


def group_badinput():
    r = new_router("badinput")
    try:
        check("graph profile: node cycles only while on", graph_profile, r)
        check("graph express: on, off, held off by a capture", graph_express, r)
        check("bad requests: clear errors, exit 1, still serving", bad_requests, r)
        check("bad requests: streamed capture, reader killed", reader_gone, r)
        check("bad requests: forwarding and path-check after", serving_after, r)
    finally:
        check("bad requests: daemon stops cleanly", finish, r)


# ---------------------------------------------------------------------------------------------------------------
# dpdk-dumpcap

def dumpcap(r):
    out = os.path.join(r.dir, "dumpcap.pcapng")
    lst = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + r.prefix, "-D"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=30)
    before = len(r.tx_frames("p1"))
    expect(b"net_pcap1" in lst.stdout, "dpdk-dumpcap -D: %s" % lst.stdout.decode(errors="replace")[-400:])
    p = subprocess.Popen(["dpdk-dumpcap", "--file-prefix=" + r.prefix, "-i", "net_pcap1", "-c", "3", "-q",
                          "-w", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # dumpcap is attached once it captures: send until it has its 3 packets
        deadline, sent = time.time() + 30, []
        while p.poll() is None:
            expect(time.time() < deadline, "dpdk-dumpcap still running after 30 s")
            f = from_a(IP(src="10.0.0.2", dst="192.0.2.%d" % (100 + len(sent) % 100)) / UDP() / payload(50))
            sent.append(f)
            r.send([f])
            time.sleep(0.2)
        log = p.stdout.read().decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    expect(p.returncode == 0, "dpdk-dumpcap exit %d: %s" % (p.returncode, log[-400:]))
    cap = pcapng_read.read(out, strict=False)
    got = [x["data"] for x in cap["packets"]]
    fwd = [harness.fwd_frame(f, R_B, GW_B) for f in sent]
    expect(len(got) >= 3, "dpdk-dumpcap wrote %d packets" % len(got))
    missing, extra = multiset_diff(got, fwd)
    expect(not missing, "dpdk-dumpcap captured frames p1 did not send: %s" % [harness.describe(m) for m in missing])
    expect_frames("p1 output", fwd, r.tx_frames("p1")[before:])


def npsd_links_dpdk_statically():
    ldd = subprocess.run(["ldd", harness.NPSD], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return b"librte_eal.so" not in ldd.stdout


def dumpcap_refused(r):
    p = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + r.prefix, "-i", "net_pcap1", "-c", "1", "-q",
                        "-w", os.path.join(r.dir, "refused.pcapng")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    # npsd runs with --no-shconf: no shared configuration for a secondary process to attach to
    expect(p.returncode != 0 and "is primary process running?" in out,
           "dpdk-dumpcap exit %d: %s" % (p.returncode, out[-400:]))
    with open(r.log_path, errors="replace") as log:
        expect("are not served" in log.read(), "npsd's log does not say why dpdk-dumpcap is not served")
    f = from_a(IP(src="10.0.0.2", dst="192.0.2.100") / UDP() / payload(50))
    before = len(r.tx_frames("p1"))
    r.send([f])
    deadline = time.time() + 5
    while len(r.tx_frames("p1")) <= before and time.time() < deadline:
        time.sleep(0.1)
    expect_frames("p1 output", [harness.fwd_frame(f, R_B, GW_B)], r.tx_frames("p1")[before:])


def group_dumpcap():
    huge = os.environ.get("NPSGW_VIS_HUGE", "nohuge")
    if huge != "huge":
        check("dpdk-dumpcap from a running npsd", lambda: "no hugepages (scripts/hugepages.sh said %s)" % huge)
        return
    r = new_router("dumpcap", hugepages=True, memory_mb=int(os.environ.get("NPSGW_VIS_HUGE_MB", "1280")))
    try:
        if npsd_links_dpdk_statically():
            # A secondary process's mempool names its handler by an index into each process's own table, which a
            # static npsd fills in another order than Debian's dpdk-dumpcap: npsd does not serve it (dataplane/main.c)
            check("dpdk-dumpcap refused by a static npsd (DPDK_LINK=static), which keeps forwarding",
                  dumpcap_refused, r)
        else:
            check("dpdk-dumpcap from a running npsd", dumpcap, r)
    finally:
        check("dpdk-dumpcap: daemon stops cleanly", finish, r)


# ---------------------------------------------------------------------------------------------------------------

GROUPS = {
    "capture": (group_capture, 1),
    "trace1": (lambda: group_trace(1), 1),
    "trace2": (lambda: group_trace(2), 2),
    "pathcheck": (group_pathcheck, 1),
    "badinput": (group_badinput, 1),
    "dumpcap": (group_dumpcap, 1),
}


def main(argv):
    global TMP
    names = argv[1:] or list(GROUPS)
    for n in names:
        if n not in GROUPS:
            print(__doc__)
            return 2
    TMP = os.environ.get("NPSGW_VIS_TMP") or tempfile.mkdtemp(prefix="npsgw-vis.")
    workers = max(GROUPS[n][1] for n in names)
    veths_create(["p0", "p1"], workers)
    try:
        for n in names:
            try:
                GROUPS[n][0]()
            except Exception:
                RESULTS.append((n, "FAIL"))
                print("FAIL  %s: %s" % (n, traceback.format_exc().replace("\n", "\n      ")), flush=True)
    finally:
        for r in ROUTERS:
            r.kill()
        veths_delete(["p0", "p1"], workers)
        if not os.environ.get("NPSGW_VIS_TMP"):
            shutil.rmtree(TMP, ignore_errors=True)
    failed = [n for n, s in RESULTS if s == "FAIL"]
    print("visibility tests: %d passed, %d failed, %d skipped" %
          (sum(s == "PASS" for _, s in RESULTS), len(failed), sum(s == "SKIP" for _, s in RESULTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
