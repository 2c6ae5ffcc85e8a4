#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""npsgw benchmark driver; run it through bench/run, which builds what it needs first. docs/BENCHMARKS.md has the
method. In short, for each case (scenario x frame size): start npsd (or l3fwd) with one worker on lcore 1, input
net_pcap replaying a pcap forever (infinite_rx), output net_null; warm up; then take --runs windows of --seconds
each, reading the counters at the start and end of each window; report the median window with min and max.
"""
import argparse
import copy
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

IN_MAC = "02:00:00:00:00:01"
OUT_MAC = "02:00:00:00:01:01"
GW_MAC = "02:00:00:00:02:02"
V4_GW, V6_GW = "10.1.0.2", "fd00:1::2"
V4_ONE_ROUTE, V6_ONE_ROUTE = "16.0.0.0/4", "2000::/4"
FLOWS = 65536
MBUFS = 131072  # the pcap (65536 frames) is held in mbufs by net_pcap's infinite_rx, plus room for the pipeline
VRF_FAST = 4  # in the 1000-VRF scenario, this many VRFs are "fast", the rest "compact"

# Firewall scenarios (docs/BENCHMARKS.md, "Firewall"). fw-est-N: N UDP flows, each packet followed by its reply
# (gen_traffic.py --reply), through a rule set of FW_EST_RULES rules; after the first pass every packet belongs to an
# established session. fw-off-N: the same traffic without the firewall. fw-new-R: FW_NEW_FLOWS one-way flows through
# R rules, a table of FW_NEW_SESSIONS sessions evicting the oldest transitory one when full: every packet opens a
# session.
FW_EST_RULES = 4
FW_NEW_FLOWS = 1000000
FW_NEW_SESSIONS = 65536
FW_SESSION_BYTES = 256  # per session, rounded up from ct_bytes_per_session() (docs/FIREWALL.md), for eal.memory_mb
FW_REPLY_ROUTE = "198.18.0.0/15"  # the sources of gen_traffic.py: the replies' destinations
FW_TARGET_EST_CPP = 250  # issue 5: established flows, 1M sessions, 64 B, one worker: at most 250 cycles/packet
FW_TARGET_NEW_PER_S = 1.5e6  # and at least 1.5M new sessions per second per worker

# NAT44 and DS-Lite scenarios (docs/BENCHMARKS.md, "NAT44 and DS-Lite"). nat-est-N: N one-way UDP flows from a
# tenant VRF (sources: NAT_FLOWS_PER_SUB flows per inside address) through NAT to the internet VRF; after the first
# pass every packet hits its session (in2out). nat-off-N: the same traffic and VRFs without the nat section.
# dslite-est-N: the same flows carried in IPv4-in-IPv6 from N / NAT_FLOWS_PER_SUB B4s to the AFTR (decapsulation +
# in2out). nat-new / dslite-new: NAT_NEW_FLOWS one-way flows from NAT_NEW_SUBS subscribers, a table of
# NAT_NEW_SESSIONS sessions evicting the oldest transitory one when full: every packet opens a session (and a
# mapping). Quotas never bind: max_sessions / max_blocks per subscriber are far above what a subscriber uses, and
# the pool (NAT_POOL, blocks of NAT_BLOCK ports) holds far more blocks than there are subscribers.
NAT_FLOWS_PER_SUB = 16
NAT_INSIDE = "100.64.0.0/10"  # the tenant's hosts (inside sources)
NAT_POOL = "198.51.100.0/24"
NAT_BLOCK = 64  # 256 addresses x 1008 blocks of 64 ports (1024-65535): 258,048 blocks
NAT_MAX_BLOCKS = 8
NAT_SUB_SESSIONS = 4096
NAT_NEW_FLOWS = 1000000
NAT_NEW_SESSIONS = 65536
NAT_NEW_SUBS = 4096  # at most sessions / 8 (the engine's subscriber table): each keeps its block between passes
AFTR = "fd00:a::1"
B4_PREFIX = "fd00:ff::/32"
NAT_SESSION_BYTES = 512  # per session: ct session and key, three hashes, the mapping, a share of subscribers
NAT_TARGET_EST_CPP = 350  # issue 6: NAT44 established, 1M sessions, 64 B, one worker: at most 350 cycles/packet
DSLITE_TARGET_EST_CPP = 450  # DS-Lite established: at most 450
NAT_TARGET_NEW_PER_S = 1.5e6  # at least 1.5M new sessions per second per worker

# IPsec scenarios (docs/BENCHMARKS.md, "IPsec"): ipsec-DIR-ALG-N, DIR = in (ESP from the peers is decrypted) or out
# (plain traffic is encrypted), ALG = gcm (AES-GCM-128) or cbc (AES-CBC-128 + HMAC-SHA-256-128), N tunnels (1,
# 1000, 1k...), the packets spread evenly over them. Tunnels, SAs, keys and both gateways' configurations:
# bench/ipsec_cfg.py; the pcaps: bench/gen_esp.py. Sizes count the inner packet: 64, imix (46/576/1420 bytes
# 7:4:1) and 1420 (the "1500" of --sizes: a 1500-byte inner packet would not fit the tunnel without fragmentation).
# DPDK's ipsec-secgw (bench/build-ipsec-secgw.sh) runs the same pcaps as the reference.
IPSEC_SET = ["ipsec-%s-%s-%s" % (d, a, n) for d in ("in", "out") for a in ("gcm", "cbc") for n in ("1", "1k")]
IPSEC_MBUFS = 131072  # ipsec-secgw -s: the pcap held by infinite_rx, plus rings and crypto queues
IPSEC_SECGW_MEM_MB = 1024
# Issue 7's targets (engine mode, one worker): GCM 1420 B >= 22 Gbps, GCM 64 B >= 4.5 Mpps, CBC 1420 B >= 7 Gbps
# (Gbps of the plain side), 1000 tunnels at most 10 % slower than 1, ahead of ipsec-secgw in every scenario.
IPSEC_TARGET_GCM_1420_GBPS = 22.0
IPSEC_TARGET_GCM_64_MPPS = 4.5
IPSEC_TARGET_CBC_1420_GBPS = 7.0
IPSEC_TARGET_TUNNELS_SLOWDOWN = 0.10

def count(arg):
    """'1000', '10k', '64k', '1m' -> int (k = 1000, except 64k = 65536, the flow count of the default pcaps)."""
    if arg == "64k":
        return 65536
    mult = {"k": 1000, "m": 1000000}.get(arg[-1:], 1)
    return int(arg[:-1] if mult > 1 else arg) * mult


# Scenarios by name: v4-ROUTES, v6-ROUTES (ROUTES: 1r = the single prefix V4_ONE_ROUTE / V6_ONE_ROUTE, or a
# count such as 1000, 1k, 100k, 1m of generated routes), vrf-N (IPv4 on N VLAN sub-interfaces, one VRF each),
# flows-N (v4-1r with N distinct destination addresses; the pcap holds max(N, FLOWS) packets), and the firewall's
# fw-est-N, fw-off-N (N flows, both directions) and fw-new-R (R rules), see FW_EST_RULES.
def scenario(name):
    """name -> dict(family, routes, vrfs, destinations, packets, l3fwd, doc, fw, reply); None when the name is not
    a scenario. fw: None, or dict(rules, sessions, when_full, kind) of the firewall section; reply: the pcap holds
    each flow's packet and its reply (packets = 2 x flows)."""
    sc = _scenario(name)
    if sc is not None:
        sc.setdefault("destinations", FLOWS)
        sc.setdefault("packets", FLOWS)
        sc.setdefault("fw", None)
        sc.setdefault("nat", None)
        sc.setdefault("ipsec", None)
        sc.setdefault("secgw", False)
        sc.setdefault("reply", False)
    return sc


def _nat_scenario(arg, dslite):
    """nat-est-N, nat-off-N, nat-new, dslite-est-N, dslite-new (also nat-new-N / dslite-new-N: N flows)."""
    what = "DS-Lite" if dslite else "NAT44"
    kind, _, n = arg.partition("-")
    if kind == "new":
        flows = count(n) if n else NAT_NEW_FLOWS
        subs = NAT_NEW_SUBS
        nat = dict(kind="new", sessions=NAT_NEW_SESSIONS, when_full="evict-transitory", dslite=dslite,
                   subscribers=subs)
        doc = ("%s, %d one-way UDP flows from %d %s: every packet opens a session (table of %d, evicting)"
               % (what, flows, subs, "B4s" if dslite else "inside hosts", NAT_NEW_SESSIONS))
    elif kind in ("est", "off") and n and not (dslite and kind == "off"):
        flows = count(n)
        subs = -(-flows // NAT_FLOWS_PER_SUB)
        nat = dict(kind=kind, sessions=2 * flows, when_full="refuse", dslite=dslite, subscribers=subs)
        if kind == "off":
            doc = "IPv4 UDP, %d flows tenant VRF -> internet VRF (route leak), no NAT (compare with nat-est-%s)" % (
                flows, n)
        else:
            doc = ("%s, %d established UDP sessions (one-way flows, %d per %s, %d %ss)"
                   % (what, flows, NAT_FLOWS_PER_SUB, "B4" if dslite else "inside host", subs,
                      "B4" if dslite else "subscriber"))
    else:
        return None
    if flows < 1:
        return None
    return dict(family=4, routes=1, vrfs=0, l3fwd=False, destinations=flows, packets=flows, nat=nat, doc=doc)


def _ipsec_scenario(arg):
    """ipsec-DIR-ALG-N[-pP]: see IPSEC_SET; P packets in the pcap (default FLOWS, at least N): a small P keeps the
    input in cache, to tell what the input's stream costs from what the tunnels' own lines cost."""
    parts = arg.split("-")
    packets = FLOWS
    if len(parts) == 4 and parts[3].startswith("p"):
        packets = count(parts[3][1:])
        parts = parts[:3]
    if len(parts) != 3 or parts[0] not in ("in", "out") or parts[1] not in ("gcm", "cbc"):
        return None
    d, alg, n = parts[0], parts[1], count(parts[2])
    if not 1 <= n <= min(FLOWS, 65536) or not n <= packets <= FLOWS:
        return None
    doc = ("IPsec %s, %s, %d tunnel%s (%s)%s" % (
        "inbound" if d == "in" else "outbound", "AES-GCM-128" if alg == "gcm" else "AES-CBC-128+HMAC-SHA-256",
        n, "s" if n > 1 else "", "ESP in, plain out" if d == "in" else "plain in, ESP out",
        "" if packets == FLOWS else ", a pcap of %d packets" % packets))
    return dict(family=4, routes=1, vrfs=0, l3fwd=False, secgw=True, doc=doc, packets=packets,
                ipsec=dict(direction=d, alg=alg, tunnels=n))


def ipsec_peers(name):
    """What an IPsec scenario name is compared within (1 against 1000 tunnels): its name without the tunnel count,
    e.g. "ipsec-out-gcm-p2048" for "ipsec-out-gcm-1k-p2048"."""
    parts = name.split("-")
    return "-".join(parts[:3] + parts[4:])


def ipsec_one_tunnel(name):
    """The name of the same IPsec case with one tunnel."""
    parts = name.split("-")
    return "-".join(parts[:3] + ["1"] + parts[4:])


def ipsec_size(size):
    """The IPsec scenarios' name for a --sizes entry: 1500 becomes 1420 (the largest inner size, see IPSEC_SET)."""
    return "1420" if size == "1500" else size


def _fw_scenario(arg):
    kind, n = arg.split("-", 1)
    n = count(n)
    if n < 1:
        return None
    if kind in ("est", "off"):
        sc = dict(family=4, routes=1, vrfs=0, l3fwd=False, destinations=n, packets=2 * n, reply=True)
        if kind == "off":
            sc["doc"] = "IPv4 UDP, %d flows in both directions, no firewall (compare with fw-est-%s)" % (n, arg[4:])
        else:
            sc["fw"] = dict(kind="est", rules=FW_EST_RULES, sessions=2 * n, when_full="refuse")
            sc["doc"] = ("IPv4 UDP through the firewall (%d rules), %d established sessions (packet and reply "
                         "of %d flows)" % (FW_EST_RULES, n, n))
        return sc
    if kind == "new":
        return dict(family=4, routes=1, vrfs=0, l3fwd=False, destinations=FW_NEW_FLOWS, packets=FW_NEW_FLOWS,
                    fw=dict(kind="new", rules=n, sessions=FW_NEW_SESSIONS, when_full="evict-transitory"),
                    doc="IPv4 UDP through the firewall (%d rules), %d one-way flows: every packet opens a session "
                        "(table of %d, evicting)" % (n, FW_NEW_FLOWS, FW_NEW_SESSIONS))
    return None


def _scenario(name):
    try:
        kind, arg = name.split("-", 1)
        if kind == "fw":
            return _fw_scenario(arg)
        if kind in ("nat", "dslite"):
            return _nat_scenario(arg, kind == "dslite")
        if kind == "ipsec":
            return _ipsec_scenario(arg)
        if kind == "flows":
            n = count(arg)
            if n < 1:
                return None
            return dict(family=4, routes=1, vrfs=0, l3fwd=False, destinations=n, packets=max(n, FLOWS),
                        doc="IPv4, 1 route (%s), %d distinct destinations" % (V4_ONE_ROUTE, n))
        if kind in ("v4", "v6"):
            fam = int(kind[1])
            if arg == "1r":
                routes = 1
            else:
                routes = count(arg)
                if routes < 2:
                    return None
            doc = "IPv%d, %s" % (fam, "1 route (%s)" % (V4_ONE_ROUTE if fam == 4 else V6_ONE_ROUTE)
                                  if routes == 1 else "%s routes" % arg)
            return dict(family=fam, routes=routes, vrfs=0, l3fwd=routes == 1, doc=doc)
        if kind == "vrf":
            n = int(arg)
            if n < 1:
                return None
            doc = "IPv4 on %d VLAN sub-interface%s, %d VRF%s" % (n, "s" if n > 1 else "", n, "s" if n > 1 else "")
            if n > VRF_FAST:
                doc += " (%d fast, %d compact)" % (VRF_FAST, n - VRF_FAST)
            return dict(family=4, routes=1, vrfs=n, l3fwd=False, doc=doc)
    except ValueError:
        pass
    return None


# The scale curves: cycles per packet against one dimension, other things equal, at 64-byte frames. The pseudo-
# scenario "scale" runs the three, "scale-routes" / "scale-vrfs" / "scale-flows" one. The flows curve counts
# distinct destination addresses (v4-1r has 65,536, one per packet).
SCALE = {
    "routes": ["v4-1r", "v4-1k", "v4-100k", "v4-1m"],
    "vrfs": ["vrf-1", "vrf-10", "vrf-100", "vrf-400", "vrf-1000"],
    "flows": ["flows-1k", "v4-1r", "flows-1m"],
}
SCALE_X = {"routes": "routes", "vrfs": "vrfs", "flows": "destinations"}
# The pseudo-scenario "fw": the firewall scenarios of issue 5, at 64-byte frames (named one by one, they run at
# every --sizes).
FW_SET = ["fw-off-1k", "fw-est-1k", "fw-est-1m", "fw-new-10k"]
# The pseudo-scenario "nat": issue 6's NAT44 and DS-Lite scenarios, at 64-byte frames. Not in the default list:
# it would take `make bench` past 15 minutes (about 2.5 more); run it with --scenarios nat.
NAT_SET = ["nat-off-64k", "nat-est-64k", "nat-est-1m", "nat-new", "dslite-est-64k", "dslite-est-1m"]
DEFAULT_SCENARIOS = "v4-1r,v4-1m,v6-1r,v6-100k,vrf-1,vrf-1000,scale,fw"


def scale_members(name):
    """'scale' -> every curve's scenarios, 'scale-X' -> curve X's, 'fw' -> the firewall set, 'nat' -> the NAT and
    DS-Lite set, else None. These run at 64-byte frames only."""
    if name == "scale":
        return [m for k in SCALE for m in SCALE[k]]
    if name.startswith("scale-") and name[6:] in SCALE:
        return SCALE[name[6:]]
    if name == "fw":
        return FW_SET
    if name == "nat":
        return NAT_SET
    return None


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------------------------------------------
# Inputs: route files and pcaps, generated once into the data directory and reused while their generator and
# parameters are unchanged.

def fresh(path, *deps):
    return os.path.exists(path) and all(os.path.getmtime(path) >= os.path.getmtime(d) for d in deps)


def route_file(data, family, count):
    path = os.path.join(data, "routes-v%d-%d.txt" % (family, count))
    gen = os.path.join(HERE, "gen_routes.py")
    if not fresh(path, gen):
        log("  generating %d IPv%d routes" % (count, family))
        sh([sys.executable, gen, "--family", str(family), "--count", str(count),
            "--via", V4_GW if family == 4 else V6_GW, "--out", path + ".tmp"])
        os.replace(path + ".tmp", path)
    return path


def rules_file(data, count):
    """The firewall rule set of count rules (bench/gen_rules.py): the benchmark traffic matches one allow rule near
    the end."""
    path = os.path.join(data, "fw-rules-%d.conf" % count)
    gen = os.path.join(HERE, "gen_rules.py")
    if not fresh(path, gen):
        log("  generating %d firewall rules" % count)
        sh([sys.executable, gen, "--count", str(count), "--vrf", "main", "--match-src", FW_REPLY_ROUTE,
            "--match-dst", V4_ONE_ROUTE, "--out", path + ".tmp"])
        os.replace(path + ".tmp", path)
    return path


def traffic(data, sc, size):
    """The pcap of a scenario at a size; returns (path, meta)."""
    if sc.get("ipsec"):
        return ipsec_traffic(data, sc, size)
    fam = sc["family"]
    if sc["routes"] > 1:
        tag, dst = "r%d" % sc["routes"], ["--routes", route_file(data, fam, sc["routes"])]
    else:
        tag, dst = "p1", ["--dst", V4_ONE_ROUTE if fam == 4 else V6_ONE_ROUTE]
    vl = sc["vrfs"]
    pk, nd = sc["packets"], sc["destinations"]
    flows, reply = pk, []
    if sc["reply"]:  # flows = packets / 2, each followed by its reply
        flows, reply = pk // 2, ["--reply"]
        tag += "-reply"
    if (pk, nd) != (FLOWS, FLOWS):
        tag += "-p%d-d%d" % (pk, nd)
    nat, src = sc.get("nat"), []
    if nat:  # the flows come from the subscribers: inside hosts of the tenant, or B4s
        src = ["--sources", str(nat["subscribers"])]
        if nat["dslite"]:
            src += ["--softwire", AFTR, "--src", B4_PREFIX]
            tag += "-sw%d" % nat["subscribers"]
        else:
            src += ["--src", NAT_INSIDE]
            tag += "-in%d" % nat["subscribers"]
    path = os.path.join(data, "v%d-%s-vl%d-%s.pcap" % (fam, tag, vl, size))
    gen = os.path.join(HERE, "gen_traffic.py")
    deps = [gen] + ([dst[1]] if dst[0] == "--routes" else [])
    if not (fresh(path, *deps) and fresh(path + ".json", *deps)):
        log("  generating %s" % os.path.basename(path))
        sh(["/usr/bin/python3", gen, "--family", str(fam), "--size", size, "--flows", str(flows),
            "--destinations", str(nd), "--vlans", str(vl), "--dst-mac", IN_MAC, "--out", path + ".tmp"] + dst +
           reply + src)
        os.replace(path + ".tmp.json", path + ".json")
        os.replace(path + ".tmp", path)
    with open(path + ".json") as f:
        return path, json.load(f)


def ipsec_traffic(data, sc, size):
    """The pcap of an IPsec scenario (bench/gen_esp.py): ESP from the tunnels' peers (inbound; one file per
    algorithm) or plain packets to their sites (outbound; the same file for both algorithms)."""
    ip = sc["ipsec"]
    inbound = ip["direction"] == "in"
    path = os.path.join(data, "ipsec-%s-%s-t%d-p%d-%s.pcap" % (
        ip["direction"], ip["alg"] if inbound else "plain", ip["tunnels"], sc["packets"], size))
    gens = [os.path.join(HERE, "gen_esp.py"), os.path.join(HERE, "ipsec_cfg.py"), os.path.join(HERE, "gen_traffic.py")]
    if not (fresh(path, *gens) and fresh(path + ".json", *gens)):
        log("  generating %s" % os.path.basename(path))
        sh(["/usr/bin/python3", gens[0], "--direction", ip["direction"], "--tunnels", str(ip["tunnels"]),
            "--size", size, "--packets", str(sc["packets"]), "--dst-mac", IN_MAC, "--out", path + ".tmp"] +
           (["--alg", ip["alg"]] if inbound else []))
        os.replace(path + ".tmp.json", path + ".json")
        os.replace(path + ".tmp", path)
    with open(path + ".json") as f:
        return path, json.load(f)


def ipsec_cfg():
    """bench/ipsec_cfg.py, imported on use (the tunnels, keys and configurations of the IPsec scenarios)."""
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import ipsec_cfg as ic  # noqa: E402
    return ic


# ---------------------------------------------------------------------------------------------------------------
# npsd configuration

def npsd_mbufs(sc, inprocess=True):
    """limits.mbufs per worker: in-process, net_pcap's infinite_rx holds the whole pcap in mbufs of the port's pool,
    plus room for the pipeline; with memif the pool only needs the rings and the pipeline."""
    return sc["packets"] + MBUFS - FLOWS if inprocess else 32768


def mem_mb(sc, workers, inprocess=True):
    """EAL memory of npsd for a scenario: mbufs + FIBs (two copies each) + RIB node pools, with a margin.
    Calibrated on DPDK 22.11: 1M IPv4 routes use 2.7 GB of DPDK heap, 1 route 0.8 GB."""
    mbuf_mb = npsd_mbufs(sc, inprocess) * 2.6 / 1024  # 2176-byte data room + headers
    fast = 1 if sc["vrfs"] <= 1 else min(sc["vrfs"], VRF_FAST)
    compact = max(0, sc["vrfs"] - VRF_FAST)
    r = max(sc["routes"], 1024) + 1024  # max_routes of the VRF
    v4 = 2 * (64 + min(max(r, 256), 65536) / 1024)       # DIR24_8 + tbl8 groups of 1 KiB
    v6 = 2 * (64 + min(max(4 * r, 256), 131072) / 1024)  # TRIE: idem, 4 groups per route
    rib = 2 * 2 * 2 * r * 220 / (1 << 20)                 # 2 families x 2 copies x 2 nodes per route
    total = 256 + mbuf_mb * workers + fast * (v4 + v6) + rib + compact * 1
    if sc.get("fw"):  # session tables, rings, and the classifier (10k rules: ~170 MB of heap in all, measured)
        total += sc["fw"]["sessions"] * FW_SESSION_BYTES / (1 << 20) + 64 + sc["fw"]["rules"] * 16 / 1024
    if sc.get("nat"):  # a second VRF's FIBs, the session tables, the port allocator, rings
        total += v4 + v6 + sc["nat"]["sessions"] * NAT_SESSION_BYTES / (1 << 20) + 128
    if sc.get("ipsec"):  # a second VRF's FIBs; SAs (keys, expanded key schedules, counters) and tunnels
        total += v4 + v6 + 64 + sc["ipsec"]["tunnels"] * 64 / 1024
    return int((total * 1.15 + 255) // 256 * 256)


def l3fwd_mem_mb(workers):
    """l3fwd: LPM tables (IPv4 ~70 MB, IPv6 ~200 MB) and its mbuf pool, sized for the pcap (see run_l3fwd)."""
    return int((448 + (FLOWS * workers + 16384) * 2.6 / 1024 + 255) // 256 * 256)


def npsd_config(path, sc, pcap, workers, huge, sock, prefix, data, devices=None, in_mac=IN_MAC, extra=None,
                gw_mac=GW_MAC):
    """Write npsd's configuration for a scenario. devices: (vdev of "in", vdev of "out"), "pci:ADDRESS" for a PCI
    device; default: the pcap replayed by net_pcap (one rx queue per worker, each replaying the file) in, net_null
    out. extra: (routes, neighbours) added to the default VRF, as (vrf-less) "PREFIX via GW" strings and (interface,
    ip, mac) tuples. gw_mac: MAC of the next hop(s) behind "out" (static neighbours)."""
    fam, nvrf = sc["family"], sc["vrfs"]
    inprocess = devices is None
    L = []
    L.append('eal: { lcores = "0-%d"; memory_mb = %d; hugepages = "%s"; file_prefix = "%s"; };'
             % (workers, mem_mb(sc, workers, inprocess), "yes" if huge else "no", prefix))
    L.append('control: { socket = "%s"; mode = "0600"; };' % sock)
    tunnels = sc["ipsec"]["tunnels"] if sc.get("ipsec") else 0
    L.append('limits: { mbufs = %d; max_interfaces = %d; max_vrfs = %d; };'
             % (npsd_mbufs(sc, inprocess) * workers, max(1024, 2 * nvrf + 16, tunnels + 16), max(4096, nvrf + 16)))
    if devices is None:
        rx = ",".join(["rx_pcap=%s" % pcap] * workers)
        devices = ("net_pcap0,%s,infinite_rx=1" % rx, "net_null0,no-rx=1")
    def dev(d):
        return 'pci = "%s"' % d[4:] if d.startswith("pci:") else 'vdev = "%s"' % d
    L.append('devices = (')
    L.append('  { name = "in"; %s; rx_queues = %d; },' % (dev(devices[0]), workers))
    L.append('  { name = "out"; %s; }' % dev(devices[1]))
    L.append(');')
    routes = []
    if sc.get("ipsec"):
        ic = ipsec_cfg()
        L.extend(ic.npsd_topology(sc["ipsec"]["direction"], tunnels, in_mac, OUT_MAC, gw_mac))
        routes = ic.npsd_routes(tunnels)
        rfile = None
    elif sc.get("nat"):
        L.extend(nat_topology(sc["nat"], in_mac, gw_mac))
        rfile = None
    elif nvrf == 0:
        max_routes = max(sc["routes"], 1024) + 1024
        L.append('vrfs = ( { name = "main"; id = 0; fib = "fast"; max_routes = %d; } );' % max_routes)
        L.append('interfaces = (')
        L.append('  { name = "in0"; device = "in"; vrf = "main"; mac = "%s"; '
                 'addresses = [ "10.0.0.1/24", "fd00::1/64" ]; },' % in_mac)
        L.append('  { name = "out0"; device = "out"; vrf = "main"; mac = "%s"; '
                 'addresses = [ "10.1.0.1/24", "fd00:1::1/64" ]; }' % OUT_MAC)
        L.append(');')
        nbs = [("out0", V4_GW, gw_mac), ("out0", V6_GW, gw_mac)] + (list(extra[1]) if extra else [])
        L.append('neighbours = ( %s );' % ", ".join('{ interface = "%s"; ip = "%s"; mac = "%s"; }' % n
                                                    for n in nbs))
        if extra and extra[0]:
            L.append('routes = ( %s );' % ", ".join('{ vrf = "main"; prefix = "%s"; via = "%s"; }'
                                                    % tuple(r.split(" via ")) for r in extra[0]))
        if sc["routes"] == 1:
            routes.append("main %s via %s" % (V4_ONE_ROUTE if fam == 4 else V6_ONE_ROUTE,
                                              V4_GW if fam == 4 else V6_GW))
            if sc["reply"]:  # the replies go to the sources: out of the same port (sessions ignore interfaces)
                routes.append("main %s via %s" % (FW_REPLY_ROUTE, V4_GW))
            rfile = None
        else:
            rfile = route_file(data, fam, sc["routes"])
    else:
        # VRF i: ingress VLAN i+1 on "in" (172.16.0.0/12 space), egress VLAN i+1 on "out" (10.0.0.0/14 space),
        # gateway .2 with a static neighbour, one route to V4_ONE_ROUTE.
        vrfs, ifs, nbs = [], [], []
        for i in range(nvrf):
            kind = "fast" if (nvrf == 1 or i < VRF_FAST) else "compact"
            vrfs.append('  { name = "t%d"; id = %d; fib = "%s"; max_routes = %d; }'
                        % (i, i + 1, kind, 1024 if kind == "fast" else 16))
            ifs.append('  { name = "i%d"; device = "in"; vlan = %d; vrf = "t%d"; mac = "%s"; '
                       'addresses = [ "172.%d.%d.1/24" ]; }' % (i, i + 1, i, IN_MAC, 16 + (i >> 8), i & 255))
            ifs.append('  { name = "o%d"; device = "out"; vlan = %d; vrf = "t%d"; mac = "%s"; '
                       'addresses = [ "10.%d.%d.1/24" ]; }' % (i, i + 1, i, OUT_MAC, i >> 8, i & 255))
            gw = "10.%d.%d.2" % (i >> 8, i & 255)
            nbs.append('  { interface = "o%d"; ip = "%s"; mac = "%s"; }' % (i, gw, gw_mac))
            routes.append("t%d %s via %s" % (i, V4_ONE_ROUTE, gw))
        L.append('vrfs = (\n%s\n);' % ",\n".join(vrfs))
        L.append('interfaces = (\n%s\n);' % ",\n".join(ifs))
        L.append('neighbours = (\n%s\n);' % ",\n".join(nbs))
        rfile = None
    if routes:
        rfile = path + ".routes"
        with open(rfile, "w") as f:
            f.write("\n".join(routes) + "\n")
    if rfile:
        L.append('route_file = "%s";' % rfile)
    if sc["fw"]:
        L.append(firewall_section(sc["fw"], data))
    if sc.get("nat") and sc["nat"]["kind"] != "off":
        L.append(nat_section(sc["nat"]))
    if sc.get("ipsec"):
        L.append(ipsec_cfg().npsd_section(sc["ipsec"]["alg"], tunnels))
    with open(path, "w") as f:
        f.write("# generated by bench/bench.py\n" + "\n".join(L) + "\n")


def nat_topology(nat, in_mac, gw_mac):
    """VRFs, interfaces, neighbours and routes of the NAT scenarios. NAT44: in0 in the tenant VRF "t1" (10.0.0.1/24,
    the inside hosts NAT_INSIDE behind it), whose default route leaks into "internet"; out0 in "internet" with the
    route V4_ONE_ROUTE via V4_GW. DS-Lite: in0 in the access VRF "access" (fd00::1/64, the B4s behind it), out0 as
    for NAT44; the AFTR routes the decapsulated packets in "internet"."""
    inside = ("access", "fd00::1/64") if nat["dslite"] else ("t1", "10.0.0.1/24")
    L = ['vrfs = ( { name = "%s"; id = 1; fib = "fast"; max_routes = 1024; },' % inside[0],
         '         { name = "internet"; id = 2; fib = "fast"; max_routes = 1024; } );',
         'interfaces = (',
         '  { name = "in0"; device = "in"; vrf = "%s"; mac = "%s"; addresses = [ "%s" ]; },'
         % (inside[0], in_mac, inside[1]),
         '  { name = "out0"; device = "out"; vrf = "internet"; mac = "%s"; addresses = [ "10.1.0.1/24" ]; }'
         % OUT_MAC,
         ');',
         'neighbours = ( { interface = "out0"; ip = "%s"; mac = "%s"; } );' % (V4_GW, gw_mac)]
    routes = ['{ vrf = "internet"; prefix = "%s"; via = "%s"; }' % (V4_ONE_ROUTE, V4_GW)]
    if not nat["dslite"]:
        routes.append('{ vrf = "t1"; prefix = "0.0.0.0/0"; target_vrf = "internet"; }')
    L.append('routes = ( %s );' % ", ".join(routes))
    return L


def nat_section(nat):
    """The boot file's nat section (and dslite section): one pool NAT_POOL in "internet", the tenant "t1" or one
    AFTR whose B4 prefix holds every B4 of the traffic; limits that never bind."""
    L = ['nat: {',
         '  sessions: { max = %d; when_full = "%s"; };' % (nat["sessions"], nat["when_full"]),
         '  pools = ( { name = "pub"; vrf = "internet"; prefixes = [ "%s" ]; block_size = %d; } );'
         % (NAT_POOL, NAT_BLOCK)]
    limits = 'max_sessions = %d; max_blocks = %d;' % (NAT_SUB_SESSIONS, NAT_MAX_BLOCKS)
    if not nat["dslite"]:
        L.append('  tenants = ( { vrf = "t1"; pool = "pub"; %s } );' % limits)
    L.append('};')
    if nat["dslite"]:
        L += ['dslite: {',
              '  aftrs = ( { name = "aftr1"; address = "%s"; transport_vrf = "access"; vrf = "internet"; pool = "pub";'
              % AFTR,
              '              b4_prefixes = [ "%s" ]; %s } );' % (B4_PREFIX, limits),
              '};']
    return "\n".join(L)


def firewall_section(fw, data):
    """The boot file's firewall section: sessions sized for the scenario, one rule set (bench/gen_rules.py) on the
    VRF "main"."""
    with open(rules_file(data, fw["rules"])) as f:
        ruleset = "".join("    " + line for line in f if not line.startswith("#"))
    return ('firewall: {\n  sessions: { max = %d; when_full = "%s"; };\n  rulesets = ( {\n%s  } );\n};'
            % (fw["sessions"], fw["when_full"], ruleset))


# ---------------------------------------------------------------------------------------------------------------
# Talking to the processes

class Telemetry:
    """Minimal client of DPDK's telemetry socket (v2: SOCK_SEQPACKET, one JSON reply per command)."""

    def __init__(self, prefix):
        base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(
            os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
        self.path = os.path.join(base, prefix, "dpdk_telemetry.v2")
        self.s = None

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(self.path)
        s.recv(1 << 16)  # banner
        self.s = s

    def get(self, cmd):
        if self.s is None:
            self.connect()
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(1 << 20).decode())

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


# Drop the page cache before each process starts (--keep-page-cache: no). The physical pages a binary's code and
# read-only data land on decide which L2 sets they share with the packet path's tables, and a binary stays on the same
# pages for as long as it is cached: the same npsd file measured ip4_rewrite at 36 cycles/packet against 18 for a
# copy of it (1000 tunnels, every run, until the cache was dropped). Fresh pages per process make that a draw per
# round, which the medians over rounds absorb, instead of one bias for a whole run.
FRESH_PAGES = {"on": True, "dropped": 0, "failed": None}


def drop_page_cache():
    if not FRESH_PAGES["on"]:
        return
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1")
        FRESH_PAGES["dropped"] += 1
    except OSError as e:
        if FRESH_PAGES["failed"] is None:
            FRESH_PAGES["failed"] = str(e)
            log("page cache not dropped before the cases (%s): a binary keeps its pages for the whole run" % e)


class Proc:
    """A process we started; stopped by its pid only."""

    def __init__(self, argv, logpath, prefix, main_is_worker=False):
        drop_page_cache()
        self.main_is_worker = main_is_worker
        self.logpath = logpath
        self.prefix = prefix
        self.logf = open(logpath, "w")
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.t0 = time.monotonic()

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=15):
        self.logf.flush()
        with open(self.logpath, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self, sig=signal.SIGTERM):
        if self.alive():
            self.p.send_signal(sig)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()
        # EAL leaves its runtime directory behind; it is ours (unique prefix).
        for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")):
            shutil.rmtree(os.path.join(base, self.prefix), ignore_errors=True)

    def sched(self):
        """(ns on CPU, ns waiting for a CPU) summed over the worker threads, from /proc/PID/task/*/schedstat.
        npsd's workers are the EAL threads rte-worker-N; l3fwd -l 1 runs its loop on the main thread."""
        run = wait = 0
        base = "/proc/%d/task" % self.p.pid
        try:
            tids = os.listdir(base)
        except OSError:
            return None
        for tid in tids:
            try:
                with open(os.path.join(base, tid, "comm")) as f:
                    comm = f.read().strip()
                if not (comm.startswith("rte-worker-") or (self.main_is_worker and int(tid) == self.p.pid)):
                    continue
                with open(os.path.join(base, tid, "schedstat")) as f:
                    r, w_, _ = f.read().split()
                run += int(r)
                wait += int(w_)
            except (OSError, ValueError):
                continue
        return run, wait

    def memory(self):
        out = {}
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        out[line.split(":")[0].lower() + "_mb"] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        try:
            t = Telemetry(self.prefix)
            hi = t.get("/eal/heap_info,0")["/eal/heap_info"]
            t.close()
            out["dpdk_heap_alloc_mb"] = round(hi["Alloc_size"] / (1 << 20), 1)
            out["dpdk_heap_size_mb"] = round(hi["Heap_size"] / (1 << 20), 1)
        except (OSError, KeyError, ValueError, TypeError):
            pass
        return out


class BenchError(Exception):
    pass


def npsd_stats(npsctl, sock):
    r = subprocess.run([npsctl, "-s", sock, "--json", "show", "stats"], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise BenchError("npsctl show stats: %s" % (r.stderr.strip() or r.stdout.strip()))
    return json.loads(r.stdout)["data"]


def graph_profile(npsctl, sock, on):
    """Node timing on or off (`npsctl graph profile state on|off`): npsd runs without it (the TSC reads cost ~6
    cycles per packet), so the per-node figures come from a window of their own."""
    r = subprocess.run([npsctl, "-s", sock, "graph", "profile", "state", "on" if on else "off"], capture_output=True,
                       text=True, timeout=20)
    if r.returncode != 0:
        raise BenchError("npsctl graph profile: %s" % (r.stderr.strip() or r.stdout.strip()))


# The figures made of node cycles: measured in the profiled window only (graph_profile), not in the others.
NODE_KEYS = ("cpp_nodes", "cpp_processing", "cpp_rx", "cpp_idle_polls", "graph_share_of_core", "cpp_fw", "cpp_nat",
             "cpp_ipsec")


def flat_counters(data):
    """The counters of an npsctl --json reply as {"TABLE.NAME": value}: a table of (counter, value) rows gives one
    entry per row; any other table the sum of each numeric column over its rows (per-worker rows); a plain number
    itself."""
    out = {}

    def add(k, v):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = out.get(k, 0) + v

    for tname, rows in data.items():
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list):
            add(tname, rows)
            continue
        for row in rows:
            if not isinstance(row, dict):
                continue
            name = row.get("counter")
            if isinstance(name, str) and "value" in row:
                add("%s.%s" % (tname, name), row["value"])
                continue
            for k, v in row.items():
                if k not in ("worker", "lcore", "socket", "id"):
                    add("%s.%s" % (tname, k), v)
    return out


# Sessions created, by the names `fw show stats` may give the counter (first found wins).
FW_CREATED = ("sessions_created", "created", "allowed_new")


def fw_counter(flat, names):
    for n in names:
        for k, v in flat.items():
            if k == n or k.endswith("." + n):
                return v
    return None


def fw_stats(npsctl, sock):
    r = subprocess.run([npsctl, "-s", sock, "--json", "fw", "show", "stats"], capture_output=True, text=True,
                       timeout=20)
    if r.returncode != 0:
        raise BenchError("npsctl fw show stats: %s" % (r.stderr.strip() or r.stdout.strip()))
    return flat_counters(json.loads(r.stdout)["data"])


def sample_npsd(npsctl, sock, proc, fw=False, nat=False):
    """The counters of npsd at one moment; fw: also the firewall's (the "firewall" table of `show stats`, read in
    the same request; else `fw show stats`, with its own time); nat: also NAT's and DS-Lite's (the "nat" and
    "dslite" tables of `show stats`, as "nat.NAME" and "dslite.NAME")."""
    t0 = time.monotonic()
    d = npsd_stats(npsctl, sock)
    t1 = time.monotonic()
    out = {
        "t": (t0 + t1) / 2, "sched": proc.sched(),
        "ports": {p["port"]: p for p in d.get("ports", [])},
        "nodes": {n["node"]: n for n in d.get("nodes", [])},
        "drops": {x["reason"]: x["packets"] for x in d.get("drops", [])},
        "totals": (d.get("totals") or [{}])[0],
    }
    if fw and "firewall" in d:
        out["fw"], out["t_fw"] = flat_counters({"firewall": d["firewall"]}), out["t"]
    elif fw:
        out["fw"] = fw_stats(npsctl, sock)
        out["t_fw"] = (t1 + time.monotonic()) / 2
    if nat:
        if "nat" not in d:
            raise BenchError("no nat table in `show stats`")
        out["nat"] = flat_counters({k: d[k] for k in ("nat", "dslite") if k in d})
    return out


def nat_stat(flat, name):
    """A NAT / DS-Lite counter of a sample ("nat.sessions_created"); None when absent."""
    return flat.get(name)


def sample_l3fwd(tel, proc):
    t0 = time.monotonic()
    out = tel.get("/ethdev/stats,1")["/ethdev/stats"]
    back = tel.get("/ethdev/stats,0")["/ethdev/stats"]
    t1 = time.monotonic()
    return {"t": (t0 + t1) / 2, "sched": proc.sched(), "tx": out["opackets"], "back": back["opackets"],
            "rx": back["ipackets"]}


def wait_for(cond, proc, timeout, what):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if not proc.alive():
            raise BenchError("%s exited (status %s) while starting:\n%s" % (what, proc.p.returncode, proc.tail()))
        try:
            v = cond()
            if v:
                return v
        except (OSError, BenchError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired) as e:
            last = e
        time.sleep(0.2)
    raise BenchError("%s not ready after %ds (%s):\n%s" % (what, timeout, last, proc.tail()))


# ---------------------------------------------------------------------------------------------------------------
# Measurement

def sched_share(a, b, tsc_hz, workers, pkts):
    """Share of the window the worker threads were on a CPU / waiting for one, and TSC cycles per packet counted
    over the on-CPU time only (what the packets cost when the core is not taken by another process)."""
    if not a.get("sched") or not b.get("sched"):
        return {}
    dt_ns = (b["t"] - a["t"]) * 1e9 * workers
    run, wait = b["sched"][0] - a["sched"][0], b["sched"][1] - a["sched"][1]
    return {"worker_on_cpu_share": run / dt_ns, "worker_wait_share": wait / dt_ns,
            "cpp_on_cpu": tsc_hz * run / 1e9 / pkts}


def npsd_window(a, b, tsc_hz, workers, frame_bytes):
    dt = b["t"] - a["t"]
    pkts = b["ports"]["out"]["tx_packets"] - a["ports"]["out"]["tx_packets"]
    if pkts <= 0:
        raise BenchError("no packets forwarded in the window (check routes / neighbours); drops: %s" % {
            k: v - a["drops"].get(k, 0) for k, v in b["drops"].items() if v - a["drops"].get(k, 0)})
    d = lambda s, k: b[s].get(k, 0) - a[s].get(k, 0)  # noqa: E731
    nodes = {}
    cyc_rx_traffic = cyc_rx_idle = cyc_proc = 0
    for name, nb in b["nodes"].items():
        na = a["nodes"].get(name, {"calls": 0, "packets": 0, "cycles": 0})
        cyc, objs, calls = nb["cycles"] - na["cycles"], nb["packets"] - na["packets"], nb["calls"] - na["calls"]
        if name.startswith("port_rx-"):
            if objs > 0:
                cyc_rx_traffic += cyc
            else:
                cyc_rx_idle += cyc
        else:
            cyc_proc += cyc
        if calls or objs:
            nodes[name] = {"cycles_per_forwarded_packet": round(cyc / pkts, 2),
                           "cycles_per_node_packet": round(cyc / objs, 2) if objs else None,
                           "packets": objs, "calls": calls}
    core_cycles = tsc_hz * dt * workers
    fw = fw_window(a, b, pkts, workers) if "fw" in a and "fw" in b else {}
    fw["cpp_fw"] = sum(v["cycles_per_forwarded_packet"] for n, v in nodes.items() if n.startswith("fw_")) or None
    if "nat" in a and "nat" in b:
        fw.update(nat_window(a, b, pkts, workers))
    fw["cpp_nat"] = sum(v["cycles_per_forwarded_packet"] for n, v in nodes.items()
                        if n.startswith(("nat", "dslite"))) or None
    fw["cpp_ipsec"] = sum(v["cycles_per_forwarded_packet"] for n, v in nodes.items()
                          if n.startswith(("ipsec", "esp"))) or None
    return dict(sched_share(a, b, tsc_hz, workers, pkts), **fw, **{
        "seconds": round(dt, 4), "packets": pkts, "mpps": pkts / dt / 1e6,
        "gbps": pkts * frame_bytes * 8 / dt / 1e9,
        "cpp_core": core_cycles / pkts,
        "cpp_nodes": (cyc_proc + cyc_rx_traffic) / pkts,
        "cpp_processing": cyc_proc / pkts,
        "cpp_rx": cyc_rx_traffic / pkts,
        "cpp_idle_polls": cyc_rx_idle / pkts,
        "graph_share_of_core": (cyc_proc + cyc_rx_traffic + cyc_rx_idle) / core_cycles,
        "rx_packets": d("totals", "rx"), "drops": d("totals", "drops"), "punted": d("totals", "punted"),
        "drop_reasons": {k: v - a["drops"].get(k, 0) for k, v in b["drops"].items() if v - a["drops"].get(k, 0)},
        "nodes": nodes,
    })


def fw_window(a, b, pkts, workers):
    """Firewall figures of a window: sessions created per second (per worker), per forwarded packet, and every
    firewall counter that moved."""
    dt = b["t_fw"] - a["t_fw"]
    moved = {k: v - a["fw"].get(k, 0) for k, v in b["fw"].items() if v - a["fw"].get(k, 0)}
    out = {"fw_counters": moved}
    hits = fw_counter(moved, ("allowed_session",))
    if hits is not None:
        out["session_hits_per_packet"] = hits / pkts
    ca, cb = fw_counter(a["fw"], FW_CREATED), fw_counter(b["fw"], FW_CREATED)
    if ca is not None and cb is not None:
        out.update({"fw_created": cb - ca, "new_sessions_per_s": (cb - ca) / dt,
                    "new_sessions_per_s_per_worker": (cb - ca) / dt / workers,
                    "sessions_per_packet": (cb - ca) / pkts})
    return out


def nat_window(a, b, pkts, workers):
    """NAT figures of a window: sessions created per second (per worker) and per forwarded packet, packets
    translated (nat in2out; DS-Lite: decapsulated) per forwarded packet, and every NAT / DS-Lite counter that
    moved."""
    dt = b["t"] - a["t"]
    moved = {k: v - a["nat"].get(k, 0) for k, v in b["nat"].items() if v - a["nat"].get(k, 0)}
    out = {"nat_counters": moved}
    created = moved.get("nat.sessions_created", 0)
    out.update({"nat_created": created, "nat_new_sessions_per_s": created / dt,
                "nat_new_sessions_per_s_per_worker": created / dt / workers, "nat_sessions_per_packet": created / pkts})
    translated = moved.get("dslite.decapsulated") if "dslite.decapsulated" in b["nat"] else moved.get("nat.in2out")
    out["nat_translated_per_packet"] = (translated or 0) / pkts
    return out


def l3fwd_window(a, b, tsc_hz, workers, frame_bytes):
    dt = b["t"] - a["t"]
    pkts = b["tx"] - a["tx"]
    back = b["back"] - a["back"]
    if pkts <= 0:
        raise BenchError("l3fwd forwarded nothing in the window")
    return dict(sched_share(a, b, tsc_hz, workers, pkts), **{
        "seconds": round(dt, 4), "packets": pkts, "mpps": pkts / dt / 1e6,
        "gbps": pkts * frame_bytes * 8 / dt / 1e9, "cpp_core": tsc_hz * dt * workers / pkts,
        "rx_packets": b["rx"] - a["rx"], "misrouted": back})


def run_windows(sample, window, opts, tsc_hz, workers, frame_bytes, proc, warmup=None):
    time.sleep(opts.warmup if warmup is None else warmup)
    out = []
    a = sample()
    for _ in range(opts.runs):
        time.sleep(opts.seconds)
        if not proc.alive():
            raise BenchError("process died during the measurement:\n%s" % proc.tail())
        b = sample()
        out.append(window(a, b, tsc_hz, workers, frame_bytes))
        a = b
    return out


def summarize(windows, keys):
    s = {}
    for k in keys:
        vals = [w[k] for w in windows if w.get(k) is not None]
        if vals:
            s[k] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}
    return s


def contention(res):
    shares = [w["worker_on_cpu_share"] for w in res["windows"] if "worker_on_cpu_share" in w]
    if shares and min(shares) < 0.97:
        res["warnings"].append("busy host: the worker had its CPU %.0f%%..%.0f%% of the time"
                               % (100 * min(shares), 100 * max(shares)))


def run_npsd(opts, name, sc, size, tsc_hz, seq):
    pcap, meta = traffic(opts.data, sc, size)
    prefix = "npsbench%d-%d" % (os.getpid(), seq)
    wd = opts.workdir
    sock = os.path.join(wd, prefix + ".sock")
    conf = os.path.join(wd, prefix + ".conf")
    npsd_config(conf, sc, pcap, opts.workers, opts.huge, sock, prefix, opts.data)
    proc = Proc([opts.npsd, "-c", conf], os.path.join(wd, prefix + ".log"), prefix)
    fw = sc["fw"]
    nat = sc["nat"] if sc["nat"] and sc["nat"]["kind"] != "off" else None
    try:
        wait_for(lambda: npsd_stats(opts.npsctl, sock)["totals"][0]["tx"] > 0, proc, opts.start_timeout, "npsd")
        startup = time.monotonic() - proc.t0
        if nat and nat["kind"] == "est":
            # As for the firewall: the windows start once the first pass has opened every flow's session.
            def nat_all_open():
                return nat_stat(sample_npsd(opts.npsctl, sock, proc, nat=True)["nat"],
                                "nat.sessions_created") >= sc["destinations"]
            wait_for(nat_all_open, proc, opts.start_timeout, "npsd (opening %d NAT sessions)" % sc["destinations"])
        if fw and fw["kind"] == "est":
            # The first pass over the pcap opens every session: the windows start after it (then the warm-up).
            def all_open():
                c = fw_counter(fw_stats(opts.npsctl, sock), FW_CREATED)
                if c is None:
                    raise BenchError("no sessions-created counter in `fw show stats` (looked for %s)"
                                     % ", ".join(FW_CREATED))
                return c >= sc["destinations"]
            wait_for(all_open, proc, opts.start_timeout, "npsd (opening %d sessions)" % sc["destinations"])
        sample = lambda: sample_npsd(opts.npsctl, sock, proc, fw is not None, nat is not None)  # noqa: E731
        # The warm-up is the profiled window: node cycles (per-node table, nodes, proc) come from it; the measured
        # windows that follow run as npsd runs in service, without node timing.
        graph_profile(opts.npsctl, sock, True)
        a = sample()
        time.sleep(max(1.0, opts.warmup))
        prof = npsd_window(a, sample(), tsc_hz, opts.workers, frame_bytes(sc, meta))
        graph_profile(opts.npsctl, sock, False)
        wins = run_windows(sample, npsd_window, opts, tsc_hz, opts.workers, frame_bytes(sc, meta), proc, warmup=0.2)
        mem = proc.memory()
    finally:
        proc.stop(signal.SIGTERM)
    bad = [w for w in wins if w["drops"] + w["punted"] > 0.001 * w["packets"]]
    keys = ["mpps", "gbps", "cpp_core", "cpp_on_cpu", "cpp_nodes", "cpp_processing", "cpp_rx", "cpp_idle_polls",
            "graph_share_of_core", "worker_on_cpu_share"]
    if fw:
        keys += ["cpp_fw", "new_sessions_per_s", "new_sessions_per_s_per_worker", "sessions_per_packet",
                 "session_hits_per_packet"]
    if nat:
        keys += ["cpp_nat", "nat_new_sessions_per_s", "nat_new_sessions_per_s_per_worker", "nat_sessions_per_packet",
                 "nat_translated_per_packet"]
    if sc["ipsec"]:
        ipsec_windows(sc, meta, wins)
        keys += ["cpp_ipsec", "gbps_esp", "ipsec_node_share"]
    for w in wins:
        for k in NODE_KEYS:
            w.pop(k, None)
    res = {"app": "npsd", "scenario": name, "size": size, "family": sc["family"], "routes": sc["routes"],
           "vrfs": max(1, sc["vrfs"]), "destinations": sc["destinations"], "doc": sc["doc"], "pcap": meta,
           "startup_seconds": round(startup, 2),
           "memory": mem, "config": os.path.basename(conf), "windows": wins, "warnings": [],
           "summary": summarize(wins, keys), "profile_window": prof}
    res["summary"].update(summarize([prof], NODE_KEYS))
    if fw:
        res["firewall"] = dict(fw)
    if sc["nat"]:
        res["nat"] = dict(sc["nat"])
    if sc["ipsec"]:
        res["ipsec"] = dict(sc["ipsec"])
        low = [w.get("ipsec_node_share", 0) for w in wins if w.get("ipsec_node_share", 0) < 0.99]
        if low:
            res["warnings"].append("not every forwarded packet went through the IPsec nodes (packets of the ipsec* "
                                   "/ esp* nodes per forwarded packet: %s)" % [round(x, 3) for x in low])
    if bad:
        res["warnings"].append("drops/punts above 0.1%% of forwarded packets: %s" % bad[0]["drop_reasons"])
    if fw and fw["kind"] == "est" and any((w.get("fw_created") or 0) > 0.001 * w["packets"] or
                                          (w.get("session_hits_per_packet") or 0) < 0.99 for w in wins):
        res["warnings"].append("not every packet hit an established session (sessions opened in the windows: %s)"
                               % [w.get("fw_created") for w in wins])
    if fw and fw["kind"] == "new" and any((w.get("sessions_per_packet") or 0) < 0.99 for w in wins):
        res["warnings"].append("fewer sessions opened than packets forwarded (%.3f per packet)"
                               % min(w.get("sessions_per_packet") or 0 for w in wins))
    if nat and nat["kind"] == "est" and any(w.get("nat_created", 0) > 0.001 * w["packets"] or
                                            w.get("nat_translated_per_packet", 0) < 0.99 for w in wins):
        res["warnings"].append("not every packet was translated on an established session (translated per packet: "
                               "%s, sessions opened in the windows: %s)" % (
                                   [round(w.get("nat_translated_per_packet", 0), 3) for w in wins],
                                   [w.get("nat_created") for w in wins]))
    if nat and nat["kind"] == "new" and any(w.get("nat_sessions_per_packet", 0) < 0.99 for w in wins):
        res["warnings"].append("fewer NAT sessions opened than packets forwarded (%.3f per packet)"
                               % min(w.get("nat_sessions_per_packet", 0) for w in wins))
    contention(res)
    res["median_window_nodes"] = prof["nodes"]
    return res


TURN_APPS = ("npsd", "secgw")  # the order within a round


def in_turns(cases, app, name, size):
    """The cases that run in turns with (app, name, size), as (app, scenario) in round order (npsd first, fewest
    tunnels first), or None: the IPsec cases of one direction, algorithm and size, npsd's and ipsec-secgw's, with 1
    and 1000 tunnels, when two or more are in the run."""
    sc = scenario(name) if app in TURN_APPS else None
    if not sc or not sc["ipsec"]:
        return None
    base = ipsec_peers(name)
    group = [(a, n) for a, n, s in cases if a in TURN_APPS and s == size and scenario(n) and scenario(n)["ipsec"]
             and ipsec_peers(n) == base]
    group.sort(key=lambda m: (TURN_APPS.index(m[0]), scenario(m[1])["ipsec"]["tunnels"]))
    return group if len(group) > 1 else None


def run_in_turns(opts, members, size, tsc_hz, seq):
    """The cases members ((app, scenario): an IPsec direction, algorithm and size with 1 and 1000 tunnels, npsd's
    and ipsec-secgw's) in turns: opts.runs rounds, each a fresh process per case measuring one window, so that a host
    whose speed drifts over minutes weighs on every case alike. One result per member: its rounds' windows, the
    profile (npsd's per-node cycles) of its median round, and the rounds' paired ratios the verdicts read: a npsd
    case with more tunnels than the first gets "paired_cpp_ratio" (its core cycles per packet over the first's), a
    npsd case with an ipsec-secgw twin "paired_secgw_ratio" (its Mpps over the twin's)."""
    one = copy.copy(opts)
    one.runs = 1
    fns = {"npsd": run_npsd, "secgw": run_secgw}
    rounds = {m: [] for m in members}
    for r in range(opts.runs):
        for i, (app, n) in enumerate(members):
            rounds[(app, n)].append(fns[app](one, n, scenario(n), size, tsc_hz, seq * 1000 + r * len(members) + i))

    def per_round(m, key):
        return [x["windows"][0][key] for x in rounds[m]]
    out = []
    for m in members:
        rs = rounds[m]
        res = dict(sorted(rs, key=lambda x: x["windows"][0]["cpp_core"])[len(rs) // 2])  # the median round
        res["windows"] = [x["windows"][0] for x in rs]
        res["summary"] = summarize(res["windows"], [k for k in rs[0]["summary"] if k not in NODE_KEYS])
        if "profile_window" in res:
            res["summary"].update(summarize([res["profile_window"]], NODE_KEYS))
        res["warnings"] = list(dict.fromkeys(w for x in rs for w in x["warnings"]))
        res["rounds"] = {"count": len(rs), "cpp_core": per_round(m, "cpp_core"),
                         "in_turns_with": ["%s %s" % x for x in members if x != m]}
        first = members[0]
        if m[0] == "npsd" and m != first and first[0] == "npsd":
            res["paired_cpp_ratio"] = [a / b for a, b in zip(per_round(m, "cpp_core"), per_round(first, "cpp_core"))]
        twin = ("secgw", m[1])
        if m[0] == "npsd" and twin in rounds:
            res["paired_secgw_ratio"] = [a / b for a, b in zip(per_round(m, "mpps"), per_round(twin, "mpps"))]
        out.append(res)
    return out


def frame_bytes(sc, meta):
    """Mean frame length for the Gbps figure: the pcap's frames; IPsec: the plain (inner) frames, whichever side
    they are on, so that inbound and outbound compare (the ESP side's Gbps is reported as gbps_esp)."""
    return meta.get("mean_plain_frame_bytes") or meta["mean_frame_bytes"]


def ipsec_windows(sc, meta, wins):
    """IPsec figures of npsd's windows: Gbps of the ESP side, and the share of forwarded packets the IPsec nodes saw
    (inbound: the ESP input node; outbound: the encrypting one), which must be ~1: packets really went through."""
    esp = meta["mean_esp_frame_bytes_by_alg"][sc["ipsec"]["alg"]]
    for w in wins:
        w["gbps_esp"] = w["mpps"] * esp * 8 / 1e3
        seen = max([v["packets"] for n, v in w["nodes"].items() if n.startswith(("ipsec", "esp"))] or [0])
        w["ipsec_node_share"] = seen / w["packets"]


def run_l3fwd(opts, name, sc, size, tsc_hz, seq):
    pcap, meta = traffic(opts.data, sc, size)
    prefix = "npsbench%d-%d" % (os.getpid(), seq)
    wd = opts.workdir
    r4, r6 = os.path.join(wd, prefix + ".rules4"), os.path.join(wd, prefix + ".rules6")
    with open(r4, "w") as f:
        f.write("R%s 1\n" % V4_ONE_ROUTE)
    with open(r6, "w") as f:
        f.write("R%s 1\n" % V6_ONE_ROUTE)
    w = opts.workers
    # l3fwd sizes its mbuf pool from the rx ring size (2 ports x w queues x rxd + ...): the w stored copies of the
    # pcap must fit in it.
    rxd = min(65535, -(-(meta["packets"] * w + 16384) // (2 * w)))
    lcores = "1" if w == 1 else "1-%d" % w
    config = ",".join("(0,%d,%d)" % (q, 1 + q) for q in range(w))
    rx = ",".join(["rx_pcap=%s" % pcap] * w)
    if w > 1:  # l3fwd opens a tx queue per lcore on every port; a net_pcap port has one per tx file
        rx += "," + ",".join(["tx_pcap=/dev/null"] * w)
    argv = [opts.l3fwd, "-l", lcores, "--file-prefix=" + prefix, "--no-pci", "-m", str(l3fwd_mem_mb(w)),
            "--vdev=net_pcap0,%s,infinite_rx=1" % rx, "--vdev=net_null0,no-rx=1"]
    if not opts.huge:
        argv.insert(1, "--no-huge")
    argv += ["--", "-p", "0x3", "--config=" + config, "--parse-ptype", "--lookup=lpm",
             "--rule_ipv4=" + r4, "--rule_ipv6=" + r6, "--rx-queue-size=%d" % rxd]
    proc = Proc(argv, os.path.join(wd, prefix + ".log"), prefix, main_is_worker=(w == 1))
    tel = Telemetry(prefix)
    try:
        wait_for(lambda: sample_l3fwd(tel, proc)["tx"] > 0, proc, opts.start_timeout, "l3fwd")
        startup = time.monotonic() - proc.t0
        wins = run_windows(lambda: sample_l3fwd(tel, proc), l3fwd_window, opts, tsc_hz, w,
                           meta["mean_frame_bytes"], proc)
        mem = proc.memory()
    finally:
        tel.close()
        proc.stop(signal.SIGINT)
    res = {"app": "l3fwd", "scenario": name, "size": size, "family": sc["family"], "routes": 1, "vrfs": 1,
           "doc": "DPDK l3fwd (LPM), same pcap, route %s" % (V4_ONE_ROUTE if sc["family"] == 4 else V6_ONE_ROUTE),
           "pcap": meta, "startup_seconds": round(startup, 2), "memory": mem, "argv": argv[1:], "windows": wins,
           "warnings": [],
           "summary": summarize(wins, ["mpps", "gbps", "cpp_core", "cpp_on_cpu", "worker_on_cpu_share"])}
    if any(x["misrouted"] for x in wins):
        res["warnings"].append("l3fwd sent packets back to the input port: its routes do not match the traffic")
    contention(res)
    return res


def secgw_argv(opts, sc, pcap, prefix, cfg, mbufs):
    """ipsec-secgw's command line for an IPsec case (docs/BENCHMARKS.md, "IPsec"): one lcore (-l 1: the main lcore
    is the worker, on CPU 1, as l3fwd), net_pcap in (port 0), net_null out (port 1), the crypto_aesni_mb vdev;
    library mode (-l: librte_ipsec, which cpu-crypto SAs need); port 0 unprotected for inbound, port 1 for
    outbound; the lcore polls both ports (the SAs of each direction need an lcore on that side)."""
    argv = [opts.secgw, "-l", "1", "--file-prefix=" + prefix, "--no-pci", "-m", str(IPSEC_SECGW_MEM_MB),
            "--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--vdev=net_null0,no-rx=1",
            "--vdev=crypto_aesni_mb0"]
    if not opts.huge:
        argv.insert(1, "--no-huge")
    return argv + ["--", "-p", "0x3", "-P", "-u", "0x1" if sc["ipsec"]["direction"] == "in" else "0x2", "-l",
                   "--config=(0,0,1),(1,0,1)", "-f", cfg, "-s", str(mbufs)]


# ipsec-secgw's crypto modes (its SA "type"): cpu-crypto = synchronous rte_cryptodev_sym_cpu_crypto_process() on
# the worker, one call per run of packets of the same SA; lookaside = "no-offload", crypto operations enqueued to
# and dequeued from the crypto_aesni_mb queue pair of the worker (the same core: a software driver), in bursts that
# mix SAs. Neither is best everywhere (docs/BENCHMARKS.md, "IPsec"): with many tunnels, a burst holds one packet per
# SA and cpu-crypto runs intel-ipsec-mb one buffer at a time (CBC+HMAC 1000 tunnels: ~8x slower than lookaside),
# with one tunnel cpu-crypto saves the queue round trip (GCM: ~10 % faster). --secgw-mode auto takes the faster
# mode of each algorithm as measured on the development host; both runs the two and keeps the faster per case.
SECGW_SA_TYPE = {"cpu-crypto": "cpu-crypto", "lookaside": "no-offload"}
SECGW_AUTO = {"gcm": "cpu-crypto", "cbc": "lookaside"}


def secgw_modes(opts, alg):
    mode = getattr(opts, "secgw_mode", "auto")
    if mode == "both":
        return ["cpu-crypto", "lookaside"]
    return [SECGW_AUTO[alg] if mode == "auto" else mode]


def run_secgw(opts, name, sc, size, tsc_hz, seq):
    """DPDK ipsec-secgw on the same pcap as npsd's case, read like l3fwd (telemetry: port 1 opackets = sent,
    port 0 ipackets = received, port 0 opackets = sent back: must be 0). With several crypto modes (secgw_modes),
    each runs in turn and the faster (on-CPU cycles per packet, else Mpps) is the result; the others are kept
    under "alternatives"."""
    pcap, meta = traffic(opts.data, sc, size)
    ip = sc["ipsec"]
    runs = []
    for k, mode in enumerate(secgw_modes(opts, ip["alg"])):
        runs.append(run_secgw_mode(opts, name, sc, size, tsc_hz, "%d%s" % (seq, "abcdefgh"[k]), pcap, meta, mode))

    def cost(r):
        return med(r, "cpp_on_cpu") or 1e9 / med(r, "mpps")
    best = min(runs, key=cost)
    if len(runs) > 1:
        best["alternatives"] = {r["secgw_mode"]: r["summary"] for r in runs if r is not best}
    return best


def run_secgw_mode(opts, name, sc, size, tsc_hz, seq, pcap, meta, mode):
    prefix = "npsbench%d-%s" % (os.getpid(), seq)
    wd = opts.workdir
    cfg = os.path.join(wd, prefix + ".cfg")
    ip = sc["ipsec"]
    with open(cfg, "w") as f:
        f.write(ipsec_cfg().secgw_cfg(ip["alg"], ip["tunnels"], SECGW_SA_TYPE[mode]))
    argv = secgw_argv(opts, sc, pcap, prefix, cfg, meta["packets"] + IPSEC_MBUFS - FLOWS)
    proc = Proc(argv, os.path.join(wd, prefix + ".log"), prefix, main_is_worker=True)
    tel = Telemetry(prefix)
    try:
        wait_for(lambda: sample_l3fwd(tel, proc)["tx"] > 0, proc, opts.start_timeout, "ipsec-secgw")
        startup = time.monotonic() - proc.t0
        wins = run_windows(lambda: sample_l3fwd(tel, proc), l3fwd_window, opts, tsc_hz, 1, frame_bytes(sc, meta),
                           proc)
        mem = proc.memory()
    finally:
        tel.close()
        proc.stop(signal.SIGINT)
    esp = meta["mean_esp_frame_bytes_by_alg"][ip["alg"]]
    for w in wins:
        w["gbps_esp"] = w["mpps"] * esp * 8 / 1e3
        w["drops"] = max(0, w["rx_packets"] - w["packets"])
    res = {"app": "secgw", "secgw_mode": mode, "scenario": name, "size": size, "family": 4, "routes": 1, "vrfs": 1,
           "destinations": sc["destinations"], "doc": "DPDK ipsec-secgw (library mode, %s on crypto_aesni_mb), "
           "same pcap, %d tunnel%s" % (mode, ip["tunnels"], "s" if ip["tunnels"] > 1 else ""),
           "ipsec": dict(ip), "pcap": meta, "startup_seconds": round(startup, 2), "memory": mem, "argv": argv[1:],
           "config": os.path.basename(cfg), "windows": wins, "warnings": [],
           "summary": summarize(wins, ["mpps", "gbps", "gbps_esp", "cpp_core", "cpp_on_cpu", "worker_on_cpu_share"])}
    if any(x["misrouted"] for x in wins):
        res["warnings"].append("ipsec-secgw sent packets back to the input port: its routes do not match the traffic")
    bad = [w for w in wins if w["drops"] > 0.001 * w["packets"]]
    if bad:
        res["warnings"].append("ipsec-secgw received %d more packets than it sent in a window (dropped: policy, "
                               "SA or crypto failure?)" % bad[0]["drops"])
    contention(res)
    return res


# ---------------------------------------------------------------------------------------------------------------
# Output

def fmt(v, nd=2):
    return "-" if v is None else ("%.*f" % (nd, v))


def med(r, k):
    s = r["summary"].get(k)
    return s["median"] if s else None


def print_tables(results, scale, out):
    w = out.write
    w("\nForwarding: median of the windows, Mpps min-max in brackets. Cycles per packet: core = worker core TSC\n"
      "cycles over wall time / packets; on-cpu = the same over the time the worker thread was on its CPU; nodes =\n"
      "rte_graph node cycles (busy rx polls included); proc = nodes without rx. cpu% = share of the window the\n"
      "worker was on its CPU (below 100: another process took the core, figures are not trustworthy).\n\n")
    hdr = "%-10s %-5s %-6s %7s %-13s %6s %7s %6s %6s %5s %5s %6s  %s\n"
    w(hdr % ("scenario", "size", "app", "Mpps", "(min-max)", "Gbps", "core", "on-cpu", "nodes", "proc", "cpu%",
             "/l3fwd", "warnings"))
    ref = {(r["scenario"], r["size"]): r for r in results if r["app"] == "l3fwd"}
    for r in results:
        s = r["summary"]["mpps"]
        ratio = ""
        if r["app"] == "npsd" and (r["scenario"], r["size"]) in ref:
            ratio = "%.2f" % (s["median"] / med(ref[(r["scenario"], r["size"])], "mpps"))
        share = med(r, "worker_on_cpu_share")
        w(hdr % (r["scenario"], r["size"], r["app"], fmt(s["median"]), "(%s-%s)" % (fmt(s["min"]), fmt(s["max"])),
                 fmt(med(r, "gbps"), 1), fmt(med(r, "cpp_core"), 0), fmt(med(r, "cpp_on_cpu"), 0),
                 fmt(med(r, "cpp_nodes"), 0), fmt(med(r, "cpp_processing"), 0),
                 fmt(share * 100 if share is not None else None, 0), ratio, "; ".join(r["warnings"])))
    print_targets(forwarding_targets(results), w)
    if scale:
        print_scale(scale, w)
    print_firewall(fw_table(results), w)
    print_nat(nat_table(results), w)
    print_ipsec(ipsec_table(results), w)
    comp = comparison(results)
    if comp:
        w("\nnpsd against l3fwd: Mpps ratio, and l3fwd/npsd cycles per packet over on-CPU time (less disturbed by a\n"
          "busy host; equal to the Mpps ratio on a quiet one)\n\n")
        w("%-9s %-5s %8s %8s %6s %8s %8s %6s\n" % ("scenario", "size", "npsd", "l3fwd", "ratio", "npsd", "l3fwd",
                                                   "ratio"))
        w("%-9s %-5s %8s %8s %6s %8s %8s %6s\n" % ("", "", "Mpps", "Mpps", "", "on-cpu", "on-cpu", ""))
        for c in comp:
            w("%-9s %-5s %8s %8s %6s %8s %8s %6s\n" % (
                c["scenario"], c["size"], fmt(c["npsd_mpps"]), fmt(c["l3fwd_mpps"]), fmt(c["mpps_ratio"]),
                fmt(c["npsd_cpp_on_cpu"], 0), fmt(c["l3fwd_cpp_on_cpu"], 0), fmt(c.get("on_cpu_ratio"))))
    w("\nPer-node cycles per forwarded packet (npsd, median window)\n\n")
    for r in results:
        if r["app"] != "npsd":
            continue
        parts = ["%s %.0f" % (n.replace("port_rx-", "rx-").replace("port_tx-", "tx-"),
                              v["cycles_per_forwarded_packet"])
                 for n, v in r["median_window_nodes"].items() if v["cycles_per_forwarded_packet"] >= 0.5]
        w("%-10s %-5s %s\n" % (r["scenario"], r["size"], ", ".join(parts)))
    mems = [r for r in results if r["memory"]]
    if mems:
        w("\nMemory at the end of the windows (DPDK heap in use / process RSS, MB; RSS does not count hugepages)\n\n")
        seen = set()
        for r in mems:
            key = (r["app"], r["scenario"])
            if key in seen:
                continue
            seen.add(key)
            m = r["memory"]
            w("%-6s %-10s heap %7s  rss %7s  start %5.1fs\n" % (r["app"], r["scenario"],
                                                               fmt(m.get("dpdk_heap_alloc_mb"), 0),
                                                               fmt(m.get("vmrss_mb"), 0), r["startup_seconds"]))


def comparison(results):
    """npsd against l3fwd, per (scenario, size): the Mpps ratio, and the ratio of the cycles per packet counted over
    on-CPU time (l3fwd / npsd), which a busy host disturbs less."""
    rows = []
    ref = {(r["scenario"], r["size"]): r for r in results if r["app"] == "l3fwd"}
    for r in results:
        l3 = ref.get((r["scenario"], r["size"]))
        if r["app"] != "npsd" or l3 is None:
            continue
        row = {"scenario": r["scenario"], "size": r["size"], "npsd_mpps": med(r, "mpps"), "l3fwd_mpps": med(l3, "mpps"),
               "npsd_cpp_core": med(r, "cpp_core"), "l3fwd_cpp_core": med(l3, "cpp_core"),
               "npsd_cpp_on_cpu": med(r, "cpp_on_cpu"), "l3fwd_cpp_on_cpu": med(l3, "cpp_on_cpu")}
        row["mpps_ratio"] = row["npsd_mpps"] / row["l3fwd_mpps"]
        if row["npsd_cpp_on_cpu"] and row["l3fwd_cpp_on_cpu"]:
            row["on_cpu_ratio"] = row["l3fwd_cpp_on_cpu"] / row["npsd_cpp_on_cpu"]
        rows.append(row)
    return rows


# Issue 3's targets (engine mode, one worker, 64 B): IPv4 at least as fast as l3fwd in the same run, IPv4 with 1M
# routes at most 130 cycles/packet, IPv6 (1 route and 100k routes) at most 150.
FWD_TARGET_V4_1M_CPP = 130
FWD_TARGET_V6_CPP = 150


def forwarding_targets(results):
    """The forwarding targets the results can judge: one row each, with the figure and whether it is met."""
    npsd = {(r["scenario"], r["size"]): r for r in results if r["app"] == "npsd"}
    l3fwd = {(r["scenario"], r["size"]): r for r in results if r["app"] == "l3fwd"}
    rows = []
    a, b = npsd.get(("v4-1r", "64")), l3fwd.get(("v4-1r", "64"))
    if a and b and med(b, "mpps"):
        ratio = med(a, "mpps") / med(b, "mpps")
        rows.append({"target": "IPv4 64 B at least as fast as l3fwd", "scenario": "v4-1r", "value": ratio,
                     "unit": "x l3fwd", "met": ratio >= 1.0})
    for sc, limit in (("v4-1m", FWD_TARGET_V4_1M_CPP), ("v6-1r", FWD_TARGET_V6_CPP),
                      ("v6-100k", FWD_TARGET_V6_CPP)):
        r = npsd.get((sc, "64"))
        if r and med(r, "cpp_core") is not None:
            cpp = med(r, "cpp_core")
            rows.append({"target": "%s 64 B at most %d cycles/packet" % (sc, limit), "scenario": sc, "value": cpp,
                         "unit": "cycles/pkt", "met": cpp <= limit,
                         "worker_on_cpu_share": med(r, "worker_on_cpu_share")})
    return rows


def print_targets(rows, w):
    if not rows:
        return
    w("\nForwarding targets (issue 3: engine mode, one worker, 64 B)\n\n")
    for t in rows:
        share = t.get("worker_on_cpu_share")
        busy = " (worker on its CPU %.0f%% of the time)" % (share * 100) if share is not None and share < 0.97 else ""
        w("%-40s %8s %-11s %s%s\n" % (t["target"], fmt(t["value"], 2 if t["unit"] == "x l3fwd" else 0), t["unit"],
                                      "met" if t["met"] else "NOT MET", busy))


def fw_table(results):
    """The firewall scenarios side by side: per npsd fw-* result, its figures, the same traffic without the
    firewall (fw-off-N next to fw-est-N) and the issue's targets."""
    off = {(r["scenario"][7:], r["size"]): r for r in results
           if r["app"] == "npsd" and r["scenario"].startswith("fw-off-")}
    rows = []
    for r in results:
        if r["app"] != "npsd" or not r["scenario"].startswith("fw-"):
            continue
        fw = r.get("firewall") or {}
        row = {"scenario": r["scenario"], "size": r["size"], "kind": fw.get("kind", "off"),
               "rules": fw.get("rules"), "flows": r["destinations"], "sessions_max": fw.get("sessions"),
               "mpps": med(r, "mpps"), "cpp_core": med(r, "cpp_core"), "cpp_on_cpu": med(r, "cpp_on_cpu"),
               "cpp_processing": med(r, "cpp_processing"), "cpp_fw": med(r, "cpp_fw"),
               "new_sessions_per_s_per_worker": med(r, "new_sessions_per_s_per_worker"),
               "worker_on_cpu_share": med(r, "worker_on_cpu_share")}
        base = off.get((r["scenario"][7:], r["size"])) if fw.get("kind") == "est" else None
        if base is not None:
            row["nofw_mpps"], row["nofw_cpp_core"] = med(base, "mpps"), med(base, "cpp_core")
            row["nofw_cpp_on_cpu"] = med(base, "cpp_on_cpu")
            row["mpps_ratio_to_nofw"] = row["mpps"] / row["nofw_mpps"]
            row["fw_cost_cpp"] = row["cpp_core"] - row["nofw_cpp_core"]
            if row["cpp_on_cpu"] and row["nofw_cpp_on_cpu"]:
                row["fw_cost_cpp_on_cpu"] = row["cpp_on_cpu"] - row["nofw_cpp_on_cpu"]
        # The targets are for the core figures (the whole core's cycles / packets); on a busy host, the same over
        # the worker's on-CPU time says what the packets would cost on a quiet one.
        share = row["worker_on_cpu_share"]
        if r["size"] == "64" and fw.get("kind") == "est" and r["destinations"] >= 1000000:
            row["target"] = "cycles/packet <= %d" % FW_TARGET_EST_CPP
            row["target_met"] = row["cpp_core"] <= FW_TARGET_EST_CPP
            if row["cpp_on_cpu"]:
                row["target_met_on_cpu"] = row["cpp_on_cpu"] <= FW_TARGET_EST_CPP
        nps = row["new_sessions_per_s_per_worker"]
        if r["size"] == "64" and fw.get("kind") == "new" and nps is not None:
            row["target"] = "new sessions/s/worker >= %.1fM" % (FW_TARGET_NEW_PER_S / 1e6)
            row["target_met"] = nps >= FW_TARGET_NEW_PER_S
            if share:
                row["new_sessions_per_s_per_worker_on_cpu"] = nps / share
                row["target_met_on_cpu"] = nps / share >= FW_TARGET_NEW_PER_S
        rows.append(row)
    return rows


def print_firewall(rows, w):
    if not rows:
        return
    w("\nFirewall (IPv4 UDP, one VRF with a rule set): est = every packet hits an established session (the pcap holds\n"
      "each flow's packet and its reply), new = every packet opens a session (one-way flows, table full, oldest\n"
      "transitory session evicted), off = the est traffic without the firewall. Cycles per packet as in the table\n"
      "above; fw = the firewall nodes'; /off = Mpps relative to the same traffic without the firewall, +cyc = on-cpu\n"
      "cycles/packet above it; new/s = sessions opened per second per worker. Targets (issue 5) apply to core and\n"
      "new/s; on a busy host (cpu% < 97) the on-CPU figure is given too\n\n")
    hdr = "%-11s %-5s %6s %8s %7s %6s %6s %6s %5s %5s %5s %7s %5s  %s\n"
    w(hdr % ("scenario", "size", "rules", "sessions", "Mpps", "core", "on-cpu", "proc", "fw", "/off", "+cyc", "new/s",
             "cpu%", "target"))
    for r in rows:
        share = r["worker_on_cpu_share"]
        nps = r["new_sessions_per_s_per_worker"]
        tgt = ""
        if "target" in r:
            tgt = "%s: %s" % (r["target"], "met" if r["target_met"] else "NOT MET")
            if share is not None and share < 0.97 and "target_met_on_cpu" in r:
                tgt += " (on-cpu %s: %s)" % (
                    "%.0f" % r["cpp_on_cpu"] if r["kind"] == "est" else
                    "%.2fM" % (r["new_sessions_per_s_per_worker_on_cpu"] / 1e6),
                    "met" if r["target_met_on_cpu"] else "not met")
        w(hdr % (r["scenario"], r["size"], r["rules"] if r["rules"] is not None else "-",
                 r["sessions_max"] if r["sessions_max"] is not None else "-", fmt(r["mpps"]),
                 fmt(r["cpp_core"], 0), fmt(r["cpp_on_cpu"], 0), fmt(r["cpp_processing"], 0), fmt(r["cpp_fw"], 0),
                 fmt(r.get("mpps_ratio_to_nofw")), fmt(r.get("fw_cost_cpp_on_cpu"), 0),
                 "%.2fM" % (nps / 1e6) if nps is not None and r["kind"] == "new" else "-",
                 fmt(share * 100 if share is not None else None, 0), tgt))


def nat_table(results):
    """The NAT44 / DS-Lite scenarios side by side: per npsd nat-* / dslite-* result, its figures, the same traffic
    without NAT (nat-off-N next to nat-est-N and dslite-est-N) and the issue's targets."""
    off = {(r["scenario"][8:], r["size"]): r for r in results
           if r["app"] == "npsd" and r["scenario"].startswith("nat-off-")}
    rows = []
    for r in results:
        nat = r.get("nat")
        if r["app"] != "npsd" or not nat:
            continue
        row = {"scenario": r["scenario"], "size": r["size"], "kind": nat["kind"], "dslite": nat["dslite"],
               "flows": r["destinations"], "subscribers": nat["subscribers"],
               "sessions_max": nat["sessions"] if nat["kind"] != "off" else None,
               "mpps": med(r, "mpps"), "cpp_core": med(r, "cpp_core"), "cpp_on_cpu": med(r, "cpp_on_cpu"),
               "cpp_processing": med(r, "cpp_processing"), "cpp_nat": med(r, "cpp_nat"),
               "new_sessions_per_s_per_worker": med(r, "nat_new_sessions_per_s_per_worker"),
               "worker_on_cpu_share": med(r, "worker_on_cpu_share")}
        base = off.get((r["scenario"].split("-", 2)[2], r["size"])) if nat["kind"] == "est" else None
        if base is not None:
            row["nonat_mpps"], row["nonat_cpp_core"] = med(base, "mpps"), med(base, "cpp_core")
            row["nonat_cpp_on_cpu"] = med(base, "cpp_on_cpu")
            row["mpps_ratio_to_nonat"] = row["mpps"] / row["nonat_mpps"]
            row["nat_cost_cpp"] = row["cpp_core"] - row["nonat_cpp_core"]
            if row["cpp_on_cpu"] and row["nonat_cpp_on_cpu"]:
                row["nat_cost_cpp_on_cpu"] = row["cpp_on_cpu"] - row["nonat_cpp_on_cpu"]
        # As for the firewall: the targets are for the core figures; on a busy host the on-CPU ones say what the
        # packets would cost on a quiet one.
        share = row["worker_on_cpu_share"]
        if r["size"] == "64" and nat["kind"] == "est" and r["destinations"] >= 1000000:
            limit = DSLITE_TARGET_EST_CPP if nat["dslite"] else NAT_TARGET_EST_CPP
            row["target"] = "cycles/packet <= %d" % limit
            row["target_met"] = row["cpp_core"] <= limit
            if row["cpp_on_cpu"]:
                row["target_met_on_cpu"] = row["cpp_on_cpu"] <= limit
        nps = row["new_sessions_per_s_per_worker"]
        if r["size"] == "64" and nat["kind"] == "new" and nps is not None:
            row["target"] = "new sessions/s/worker >= %.1fM" % (NAT_TARGET_NEW_PER_S / 1e6)
            row["target_met"] = nps >= NAT_TARGET_NEW_PER_S
            if share:
                row["new_sessions_per_s_per_worker_on_cpu"] = nps / share
                row["target_met_on_cpu"] = nps / share >= NAT_TARGET_NEW_PER_S
        rows.append(row)
    return rows


def nat_target_text(r, markdown=False):
    if "target" not in r:
        return ""
    t = "%s: %s" % (r["target"], "met" if r["target_met"] else ("**not met**" if markdown else "NOT MET"))
    share = r["worker_on_cpu_share"]
    if share is not None and share < 0.97 and "target_met_on_cpu" in r:
        t += " (on-cpu %s: %s)" % ("%.0f" % r["cpp_on_cpu"] if r["kind"] == "est" else
                                   "%.2fM" % (r["new_sessions_per_s_per_worker_on_cpu"] / 1e6),
                                   "met" if r["target_met_on_cpu"] else "not met")
    return t


def print_nat(rows, w):
    if not rows:
        return
    w("\nNAT44 and DS-Lite (IPv4 UDP one-way flows, %d per subscriber; DS-Lite: in IPv6 from the B4s): est = every\n"
      "packet is translated on its session (nat: in2out; dslite: decapsulated + in2out), new = every packet opens a\n"
      "session (table full, oldest transitory session evicted), off = the nat-est traffic routed without NAT.\n"
      "nat = the NAT / DS-Lite nodes' cycles; /off = Mpps relative to nat-off of the same size, +cyc = on-cpu\n"
      "cycles/packet above it; new/s = sessions opened per second per worker. Targets (issue 6) apply to core and\n"
      "new/s; on a busy host (cpu%% < 97) the on-CPU figure is given too\n\n" % NAT_FLOWS_PER_SUB)
    hdr = "%-14s %-5s %7s %8s %7s %6s %6s %6s %5s %5s %5s %7s %5s  %s\n"
    w(hdr % ("scenario", "size", "subs", "sessions", "Mpps", "core", "on-cpu", "proc", "nat", "/off", "+cyc", "new/s",
             "cpu%", "target"))
    for r in rows:
        share = r["worker_on_cpu_share"]
        nps = r["new_sessions_per_s_per_worker"]
        w(hdr % (r["scenario"], r["size"], r["subscribers"],
                 r["sessions_max"] if r["sessions_max"] is not None else "-", fmt(r["mpps"]),
                 fmt(r["cpp_core"], 0), fmt(r["cpp_on_cpu"], 0), fmt(r["cpp_processing"], 0), fmt(r["cpp_nat"], 0),
                 fmt(r.get("mpps_ratio_to_nonat")), fmt(r.get("nat_cost_cpp_on_cpu"), 0),
                 "%.2fM" % (nps / 1e6) if nps is not None and r["kind"] == "new" else "-",
                 fmt(share * 100 if share is not None else None, 0), nat_target_text(r)))


def ipsec_table(results):
    """The IPsec scenarios: per (scenario, size), npsd's figures next to ipsec-secgw's on the same pcap, the Mpps
    ratio, the cost of 1000 tunnels against 1 (same direction, algorithm and size) and issue 7's targets."""
    ref = {(r["scenario"], r["size"]): r for r in results if r["app"] == "secgw"}
    npsd = {(r["scenario"], r["size"]): r for r in results if r["app"] == "npsd" and r.get("ipsec")}
    rows = []
    for key in list(npsd) + [k for k in ref if k not in npsd]:
        r, g = npsd.get(key), ref.get(key)
        ip = (r or g)["ipsec"]
        row = {"scenario": key[0], "size": key[1], "direction": ip["direction"], "alg": ip["alg"],
               "tunnels": ip["tunnels"]}
        if r is not None:
            row.update({"mpps": med(r, "mpps"), "gbps": med(r, "gbps"), "gbps_esp": med(r, "gbps_esp"),
                        "cpp_core": med(r, "cpp_core"), "cpp_on_cpu": med(r, "cpp_on_cpu"),
                        "cpp_processing": med(r, "cpp_processing"), "cpp_ipsec": med(r, "cpp_ipsec"),
                        "worker_on_cpu_share": med(r, "worker_on_cpu_share")})
        if g is not None:
            row.update({"secgw_mode": g.get("secgw_mode"), "secgw_mpps": med(g, "mpps"), "secgw_gbps": med(g, "gbps"),
                        "secgw_cpp_core": med(g, "cpp_core"), "secgw_cpp_on_cpu": med(g, "cpp_on_cpu"),
                        "secgw_on_cpu_share": med(g, "worker_on_cpu_share")})
        if r is not None and g is not None:
            row["mpps_ratio"] = row["mpps"] / row["secgw_mpps"]
            if r.get("paired_secgw_ratio"):  # the two ran in turns: the rounds' paired ratios, less drift-prone
                row["mpps_ratio_medians"] = row["mpps_ratio"]
                row["mpps_ratio"] = statistics.median(r["paired_secgw_ratio"])
            row["secgw_speed_differs"] = speeds_differ(r, g)
            if row["cpp_on_cpu"] and row["secgw_cpp_on_cpu"]:
                row["on_cpu_ratio"] = row["secgw_cpp_on_cpu"] / row["cpp_on_cpu"]
        if r is not None and ip["tunnels"] >= 1000:  # against the same case with one tunnel
            one = npsd.get((ipsec_one_tunnel(key[0]), key[1]))
            if one is not None:
                row["slowdown_vs_1_tunnel"] = 1 - row["mpps"] / med(one, "mpps")
                if r.get("paired_cpp_ratio"):  # the two ran in turns: the rounds' paired ratios, less drift-prone
                    row["slowdown_medians"] = row["slowdown_vs_1_tunnel"]
                    row["paired_cpp_ratio"] = statistics.median(r["paired_cpp_ratio"])
                    row["slowdown_vs_1_tunnel"] = 1 - 1 / row["paired_cpp_ratio"]
                row["tunnels_speed_differs"] = speeds_differ(r, one)
                c1 = med(one, "cpp_on_cpu")
                if row["cpp_on_cpu"] and c1:
                    row["slowdown_vs_1_tunnel_on_cpu"] = 1 - c1 / row["cpp_on_cpu"]
        if r is not None:
            row["speed_probe"] = case_speed(r)
            row["targets"] = ipsec_targets(row)
            if row["targets"]:
                row["target_met"] = all(t["met"] for t in row["targets"])
                if all("met_on_cpu" in t for t in row["targets"]):
                    row["target_met_on_cpu"] = all(t["met_on_cpu"] for t in row["targets"])
        rows.append(row)
    return rows


def ipsec_targets(row):
    """Issue 7's targets that apply to a row: [{target, value, met, met_on_cpu (when the worker was on its CPU less
    than the whole time: the same over on-CPU time)}]."""
    out = []
    share = row.get("worker_on_cpu_share") or None

    def check(text, value, limit, higher_is_better=True, value_cpu=None, speed_differs=None):
        t = {"target": text, "value": value, "met": value >= limit if higher_is_better else value <= limit}
        if value_cpu is not None:
            t["met_on_cpu"] = value_cpu >= limit if higher_is_better else value_cpu <= limit
        if speed_differs:
            t["speed_differs"] = True  # the two runs compared saw different speed probes: the verdict is unsure
        out.append(t)

    alg, size = row["alg"], row["size"]
    if alg == "gcm" and size == "1420":
        check("Gbps >= %g" % IPSEC_TARGET_GCM_1420_GBPS, row["gbps"], IPSEC_TARGET_GCM_1420_GBPS,
              value_cpu=row["gbps"] / share if share else None)
    if alg == "gcm" and size == "64":
        check("Mpps >= %g" % IPSEC_TARGET_GCM_64_MPPS, row["mpps"], IPSEC_TARGET_GCM_64_MPPS,
              value_cpu=row["mpps"] / share if share else None)
    if alg == "cbc" and size == "1420":
        check("Gbps >= %g" % IPSEC_TARGET_CBC_1420_GBPS, row["gbps"], IPSEC_TARGET_CBC_1420_GBPS,
              value_cpu=row["gbps"] / share if share else None)
    if "slowdown_vs_1_tunnel" in row:
        check("<= %d%% slower than 1 tunnel" % (IPSEC_TARGET_TUNNELS_SLOWDOWN * 100), row["slowdown_vs_1_tunnel"],
              IPSEC_TARGET_TUNNELS_SLOWDOWN, False, row.get("slowdown_vs_1_tunnel_on_cpu"),
              row.get("tunnels_speed_differs"))
    if "mpps_ratio" in row:
        check("ahead of ipsec-secgw", row["mpps_ratio"], 1.0, value_cpu=row.get("on_cpu_ratio"),
              speed_differs=row.get("secgw_speed_differs"))
    return out


def ipsec_target_text(r, markdown=False):
    """Each target with its verdict; on a busy host (cpu% < 97) also the verdict over on-CPU time."""
    busy = (r.get("worker_on_cpu_share") or 1) < 0.97
    parts = []
    for t in r.get("targets") or []:
        v = "met" if t["met"] else ("**not met**" if markdown else "NOT MET")
        if busy and "met_on_cpu" in t:
            v += " (on-cpu %s)" % ("met" if t["met_on_cpu"] else "not met")
        if t.get("speed_differs"):
            v += " (speed probes differ)"
        if "slower than 1 tunnel" in t["target"] and t["value"] < 1:  # value: the Mpps slowdown
            v = "cycles/packet %+.0f %%, %s" % ((1 / (1 - t["value"]) - 1) * 100, v)
        parts.append("%s: %s" % (t["target"], v))
    return "; ".join(parts)


def print_ipsec(rows, w):
    if not rows:
        return
    w("\nIPsec (ESP tunnel mode over IPv4, one worker; in = ESP decrypted to plain, out = plain encrypted to ESP).\n"
      "Size and Gbps count the inner (plain) packets: 64 = 46-byte inner IP packets, imix = 46/576/1420 7:4:1,\n"
      "1420 = 1420-byte inner IP packets; esp = Gbps of the ESP side. ipsec = npsd's IPsec nodes' cycles per\n"
      "packet; secgw = DPDK ipsec-secgw on the same pcap (intel-ipsec-mb through crypto_aesni_mb; mode: cpu =\n"
      "cpu-crypto, la = lookaside), its Mpps, Gbps and cycles/packet (core, on-cpu); /secgw = Mpps ratio. Targets\n"
      "(issue 7) on the core figures, with the on-CPU verdict when cpu% < 97\n\n")
    hdr = "%-17s %-5s %5s %7s %6s %6s %6s %6s %6s %5s %5s %4s %7s %6s %6s %6s %6s  %s\n"
    w(hdr % ("scenario", "size", "tuns", "Mpps", "Gbps", "esp", "core", "on-cpu", "proc", "ipsec", "cpu%",
             "mode", "secgw", "Gbps", "core", "on-cpu", "/secgw", "target"))
    for r in rows:
        share = r.get("worker_on_cpu_share")
        w(hdr % (r["scenario"], r["size"], r["tunnels"], fmt(r.get("mpps")), fmt(r.get("gbps"), 1),
                 fmt(r.get("gbps_esp"), 1), fmt(r.get("cpp_core"), 0), fmt(r.get("cpp_on_cpu"), 0),
                 fmt(r.get("cpp_processing"), 0), fmt(r.get("cpp_ipsec"), 0),
                 fmt(share * 100 if share is not None else None, 0),
                 {"cpu-crypto": "cpu", "lookaside": "la"}.get(r.get("secgw_mode"), "-"), fmt(r.get("secgw_mpps")),
                 fmt(r.get("secgw_gbps"), 1), fmt(r.get("secgw_cpp_core"), 0), fmt(r.get("secgw_cpp_on_cpu"), 0),
                 fmt(r.get("mpps_ratio")), ipsec_target_text(r)))


def print_crypto_alone(rows, w, markdown=False):
    if not rows:
        return
    w("\n%sintel-ipsec-mb alone%s (bench/imb_keys.c: the library calls npsd makes, keys used in a shuffled even "
      "spread,\ntheir lines requested ahead as npsd does, 4 MiB streamed alongside as net_pcap does; message = the "
      "ESP payload\nof the 64-byte, IMIX middle and 1420-byte cases):\n" % (("**", "**") if markdown else ("", "")))
    for line in crypto_alone_text(rows):
        w("%s%s\n" % ("- " if markdown else "  ", line))


def lookup_cycles(nodes):
    """Cycles per forwarded packet of the lookup nodes (ip4_lookup, ip6_lookup, ...) of a window."""
    v = [x["cycles_per_forwarded_packet"] for n, x in nodes.items() if "lookup" in n]
    return sum(v) if v else None


def scale_table(results, failures=()):
    """The scale curves: {dimension: [row per point]}, from the npsd results at 64 bytes; a point that failed has
    its error instead of figures, a point not run is left out."""
    out = {}
    for dim, names in SCALE.items():
        rows = []
        for name in names:
            sc = scenario(name)
            x = {"routes": sc["routes"], "vrfs": max(1, sc["vrfs"]), "destinations": sc["destinations"]}[SCALE_X[dim]]
            r = next((x for x in results if x["app"] == "npsd" and x["scenario"] == name and x["size"] == "64"
                      and x.get("generator") != "testpmd"), None)
            if r is None:
                f = next((f for f in failures if f["app"] == "npsd" and f["scenario"] == name and f["size"] == "64"),
                         None)
                if f is not None:
                    rows.append({"scenario": name, dim: x, "error": f["error"].strip().splitlines()[-1][:160]})
                continue
            if dim == "flows":
                x = r["pcap"].get("distinct_destinations", x)
            rows.append({"scenario": name, dim: x, "mpps": med(r, "mpps"), "cpp_core": med(r, "cpp_core"),
                         "cpp_on_cpu": med(r, "cpp_on_cpu"), "cpp_nodes": med(r, "cpp_nodes"),
                         "cpp_processing": med(r, "cpp_processing"),
                         "cpp_lookup": lookup_cycles(r.get("median_window_nodes", {})),
                         "worker_on_cpu_share": med(r, "worker_on_cpu_share")})
        if rows:
            out[dim] = rows
    return out


SCALE_DOC = {
    "routes": "IPv4, one VRF, 65,536 destinations inside the routes",
    "vrfs": "IPv4 on one VLAN sub-interface per VRF, traffic spread over them; 4 VRFs fast, the others compact",
    "flows": "IPv4, one route 16.0.0.0/4, N distinct destination addresses",
}


def print_scale(scale, w):
    """One small table per curve: how the cycles per packet grow along it (x1 = relative to the first point)."""
    for dim, rows in scale.items():
        if len(rows) < 2:
            continue
        w("\nScale, %s (64-byte frames; %s). lookup = the lookup node's cycles per packet; x1 = proc relative to "
          "the first point\n\n" % (dim, SCALE_DOC[dim]))
        w("%12s %-10s %7s %7s %7s %7s %7s %7s %5s %5s\n" % (dim, "scenario", "Mpps", "core", "on-cpu", "nodes",
                                                          "proc", "lookup", "x1", "cpu%"))
        base = next((r["cpp_processing"] for r in rows if r.get("cpp_processing")), None)
        for r in rows:
            if "error" in r:
                w("%12d %-10s failed: %s\n" % (r[dim], r["scenario"], r["error"]))
                continue
            share = r["worker_on_cpu_share"]
            w("%12d %-10s %7s %7s %7s %7s %7s %7s %5s %5s\n" % (
                r[dim], r["scenario"], fmt(r["mpps"]), fmt(r["cpp_core"], 0), fmt(r["cpp_on_cpu"], 0),
                fmt(r["cpp_nodes"], 0), fmt(r["cpp_processing"], 0), fmt(r["cpp_lookup"], 1),
                fmt(r["cpp_processing"] / base if base and r["cpp_processing"] else None),
                fmt(share * 100 if share is not None else None, 0)))


def markdown(path, out):
    """The tables of a results file as Markdown, for docs/BENCHMARKS.md."""
    with open(path) as f:
        doc = json.load(f)
    results, m = doc["results"], doc["meta"]
    w = out.write
    o = m["options"]
    if o.get("mode") == "two-process" or any(r.get("generator") for r in results):
        w("Host: %s, %d CPUs, TSC %.2f GHz, %s, kernel %s; DPDK %s; npsgw %s; %s; trials of %gs, at most %d search "
          "trials, loss tolerance %g, memif rings of %d slots. Load average at start: %s.\n"
          % (m["cpu"], m["cpus"], m["tsc_hz"] / 1e9, "hugepages" if m["hugepages"] else "no hugepages",
             m["kernel"], m["dpdk"], m["git"], m["date"], o.get("trial_seconds", 2), o.get("search_trials", 8),
             o.get("loss_tolerance", 0), 1 << o.get("memif_rsize", 14),
             " ".join("%.2f" % x for x in m["loadavg_at_start"] or [])))
        twoproc().markdown(results, w)
        for f in doc.get("failures", []):
            w("\nFailed: %s %s: %s\n" % (f["scenario"], f["size"], f["error"].strip().splitlines()[-1][:160]))
        return
    w("Host: %s, %d CPUs, TSC %.2f GHz, %s, kernel %s; DPDK %s; npsgw %s; %s; %s x %gs windows after %gs warm-up, "
      "%d worker(s). Load average at start: %s.%s\n\n"
      % (m["cpu"], m["cpus"], m["tsc_hz"] / 1e9, "hugepages" if m["hugepages"] else "no hugepages", m["kernel"],
         m["dpdk"], m["git"], m["date"], o["runs"], o["seconds"], o["warmup"], o["workers"],
         " ".join("%.2f" % x for x in m["loadavg_at_start"] or []),
         " Load latency on CPU 1 (TSC cycles per dependent load, 256 KiB/1 MiB/4 MiB/16 MiB): %s at start, %s at "
         "the end." % (memory_latency_text(m.get("memory_latency_start")),
                       memory_latency_text(m.get("memory_latency_end")))
         if m.get("memory_latency_start") else ""))
    ref = {(r["scenario"], r["size"]): r for r in results if r["app"] == "l3fwd"}
    w("| scenario | size | npsd Mpps (min-max) | Gbps | cycles/pkt core | on-cpu | nodes | proc | cpu % | "
      "l3fwd Mpps | l3fwd cycles/pkt | npsd/l3fwd |\n")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in results:
        if r["app"] != "npsd":
            continue
        s = r["summary"]["mpps"]
        l3 = ref.get((r["scenario"], r["size"]))
        share = med(r, "worker_on_cpu_share")
        w("| %s | %s | %s (%s-%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
            r["scenario"], r["size"], fmt(s["median"]), fmt(s["min"]), fmt(s["max"]), fmt(med(r, "gbps"), 1),
            fmt(med(r, "cpp_core"), 0), fmt(med(r, "cpp_on_cpu"), 0), fmt(med(r, "cpp_nodes"), 0),
            fmt(med(r, "cpp_processing"), 0), fmt(share * 100 if share is not None else None, 0),
            fmt(med(l3, "mpps")) if l3 else "–", fmt(med(l3, "cpp_core"), 0) if l3 else "–",
            fmt(s["median"] / med(l3, "mpps")) if l3 else "–"))
    for f in doc.get("failures", []):
        w("| %s | %s | failed: %s | | | | | | | | | |\n" % (f["scenario"], f["size"],
                                                         f["error"].splitlines()[-1][:100].replace("|", "/")))
    targets = doc.get("forwarding_targets")
    if targets is None:  # results files before the targets were judged here
        targets = forwarding_targets(results)
    if targets:
        w("\n| forwarding target (issue 3) | scenario | figure | verdict |\n|---|---|---:|---|\n")
        for t in targets:
            w("| %s | %s | %s %s | %s |\n" % (t["target"], t["scenario"],
                                             fmt(t["value"], 2 if t["unit"] == "x l3fwd" else 0), t["unit"],
                                             "met" if t["met"] else "**not met**"))
    scale = doc.get("scale") or {}
    if isinstance(scale, list):  # results files before the vrfs and flows curves
        scale = {"routes": [dict(r, cpp_lookup=r.get("cpp_ip4_lookup")) for r in scale]}
    for dim, rows in scale.items():
        w("\n| %s | Mpps | cycles/pkt core | on-cpu | proc | lookup | cpu %% |\n"
          "|---:|---:|---:|---:|---:|---:|---:|\n" % dim)
        for s in rows:
            if "error" in s:
                w("| %d | failed: %s | | | | | |\n" % (s[dim], s["error"].replace("|", "/")))
                continue
            share = s.get("worker_on_cpu_share")
            w("| %d | %s | %s | %s | %s | %s | %s |\n" % (
                s[dim], fmt(s["mpps"]), fmt(s["cpp_core"], 0), fmt(s.get("cpp_on_cpu"), 0),
                fmt(s["cpp_processing"], 0), fmt(s.get("cpp_lookup"), 1),
                fmt(share * 100 if share is not None else None, 0)))
    fw = doc.get("firewall") or []
    if fw:
        w("\n| firewall | size | rules | sessions | Mpps | cycles/pkt core | on-cpu | proc | fw nodes | Mpps / no fw | "
          "+cycles/pkt on-cpu | new sessions/s/worker | cpu % | target |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
        for r in fw:
            share, nps = r.get("worker_on_cpu_share"), r.get("new_sessions_per_s_per_worker")
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
                r["scenario"], r["size"], r["rules"] if r["rules"] is not None else "–",
                r["sessions_max"] if r["sessions_max"] is not None else "–", fmt(r["mpps"]), fmt(r["cpp_core"], 0),
                fmt(r.get("cpp_on_cpu"), 0), fmt(r["cpp_processing"], 0), fmt(r["cpp_fw"], 0),
                fmt(r.get("mpps_ratio_to_nofw")), fmt(r.get("fw_cost_cpp_on_cpu"), 0),
                "%.2f M" % (nps / 1e6) if nps is not None and r["kind"] == "new" else "–",
                fmt(share * 100 if share is not None else None, 0),
                "%s: %s" % (r["target"], "met" if r["target_met"] else "**not met**") if "target" in r else ""))
    nat = doc.get("nat") or []
    if nat:
        w("\n| NAT / DS-Lite | size | subscribers | sessions | Mpps | cycles/pkt core | on-cpu | proc | nat nodes | "
          "Mpps / no NAT | +cycles/pkt on-cpu | new sessions/s/worker | cpu % | target |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
        for r in nat:
            share, nps = r.get("worker_on_cpu_share"), r.get("new_sessions_per_s_per_worker")
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
                r["scenario"], r["size"], r["subscribers"],
                r["sessions_max"] if r["sessions_max"] is not None else "–", fmt(r["mpps"]), fmt(r["cpp_core"], 0),
                fmt(r.get("cpp_on_cpu"), 0), fmt(r["cpp_processing"], 0), fmt(r["cpp_nat"], 0),
                fmt(r.get("mpps_ratio_to_nonat")), fmt(r.get("nat_cost_cpp_on_cpu"), 0),
                "%.2f M" % (nps / 1e6) if nps is not None and r["kind"] == "new" else "–",
                fmt(share * 100 if share is not None else None, 0), nat_target_text(r, True)))
    ips = doc.get("ipsec") or []
    if ips:
        w("\n| IPsec | size | tunnels | Mpps | Gbps (plain) | Gbps (ESP) | cycles/pkt core | on-cpu | proc "
          "| ipsec nodes | cpu % | ipsec-secgw mode | ipsec-secgw Mpps | ipsec-secgw Gbps | ipsec-secgw cycles/pkt "
          "| npsd/ipsec-secgw | speed probe | target |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|\n")
        for r in ips:
            share = r.get("worker_on_cpu_share")
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
                r["scenario"], r["size"], r["tunnels"], fmt(r.get("mpps")), fmt(r.get("gbps"), 1),
                fmt(r.get("gbps_esp"), 1), fmt(r.get("cpp_core"), 0), fmt(r.get("cpp_on_cpu"), 0),
                fmt(r.get("cpp_processing"), 0), fmt(r.get("cpp_ipsec"), 0),
                fmt(share * 100 if share is not None else None, 0), r.get("secgw_mode") or "–",
                fmt(r.get("secgw_mpps")), fmt(r.get("secgw_gbps"), 1), fmt(r.get("secgw_cpp_core"), 0),
                fmt(r.get("mpps_ratio")), fmt(r.get("speed_probe")), ipsec_target_text(r, True)))
        print_crypto_alone(m.get("crypto_alone"), w, markdown=True)
    w("\nPer-node cycles per forwarded packet (median window):\n\n| scenario | size | nodes |\n|---|---|---|\n")
    for r in results:
        if r["app"] == "npsd":
            w("| %s | %s | %s |\n" % (r["scenario"], r["size"], ", ".join(
                "%s %.0f" % (n, v["cycles_per_forwarded_packet"]) for n, v in r["median_window_nodes"].items()
                if v["cycles_per_forwarded_packet"] >= 0.5)))


def host_info(opts, tsc_hz):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
    dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True, text=True)
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(), "cpu": cpu, "cpus": os.cpu_count(), "tsc_hz": tsc_hz,
            "kernel": platform.release(), "dpdk": dpdk.stdout.strip(), "git": rev.stdout.strip() +
            ("-dirty" if dirty.stdout.strip() else ""), "hugepages": opts.huge, "loadavg_at_start": load,
            "options": {"mode": opts.mode, "scenarios": opts.scenarios, "sizes": opts.sizes,
                        "seconds": opts.seconds, "runs": opts.runs, "warmup": opts.warmup, "workers": opts.workers,
                        "flows": FLOWS, "trial_seconds": opts.trial_seconds, "search_trials": opts.search_trials,
                        "resolution": opts.resolution, "loss_tolerance": opts.loss_tolerance,
                        "latency_loads": opts.latency_loads, "memif_rsize": opts.memif_rsize,
                        "secgw_mode": opts.secgw_mode,
                        "page_cache": "kept" if opts.keep_page_cache else "dropped before each process"}}


def on_sigterm(sig, frame):
    raise KeyboardInterrupt  # unwinds through the finally clauses that stop our processes


DEFAULT_TWO_PROCESS = "v4-1r,v6-1r,v4-1m,vrf-1"


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
        markdown(sys.argv[2], sys.stdout)
        return 0
    ap = argparse.ArgumentParser(description="npsgw benchmark driver (use bench/run; bench.py --markdown FILE "
                                             "prints a results file as Markdown tables)")
    ap.add_argument("--npsd", required=True)
    ap.add_argument("--npsctl", required=True)
    ap.add_argument("--mode", choices=("in-process", "two-process"), default="in-process")
    ap.add_argument("--smoke", action="store_true", help="the smoke run of `make test` (see docs/BENCHMARKS.md)")
    ap.add_argument("--l3fwd", help="l3fwd binary; omitted = no reference runs")
    ap.add_argument("--secgw", help="ipsec-secgw binary (IPsec scenarios); omitted = no ipsec-secgw runs")
    ap.add_argument("--secgw-mode", choices=("auto", "cpu-crypto", "lookaside", "both"), default="auto",
                    help="ipsec-secgw's crypto mode (see SECGW_AUTO); both = run the two, keep the faster")
    ap.add_argument("--memif-gen", help="memif_gen binary (two-process mode)")
    ap.add_argument("--testpmd", help="dpdk-testpmd binary (two-process mode); omitted = no testpmd runs")
    ap.add_argument("--tsc-hz", type=float, required=True)
    ap.add_argument("--cpuspeed", help="cpuspeed binary (bench/cpuspeed.c): the worker CPU's speed probe before and "
                    "after every case; omitted = not measured")
    ap.add_argument("--memlat", help="memlat binary (bench/memlat.c): load latency of the worker's CPU, before and "
                    "after the cases; omitted = not measured")
    ap.add_argument("--imb-keys", help="imb_keys binary (bench/imb_keys.c): intel-ipsec-mb alone, one key against "
                    "1000, with the IPsec scenarios and in the smoke run; omitted = not measured")
    ap.add_argument("--data", required=True, help="directory for generated pcaps and route files")
    ap.add_argument("--results", required=True)
    ap.add_argument("--scenarios")
    ap.add_argument("--sizes", default="64,imix,1500")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--huge", action="store_true", help="run on hugepages (default: --no-huge)")
    ap.add_argument("--start-timeout", type=float, default=300)
    ap.add_argument("--print-memory", action="store_true", help="print the largest EAL memory (MB) of the cases")
    ap.add_argument("--keep-page-cache", action="store_true",
                    help="do not drop the page cache before each process (see FRESH_PAGES)")
    g = ap.add_argument_group("two-process mode")
    g.add_argument("--trial-seconds", type=float, default=2, help="length of one trial")
    g.add_argument("--search-trials", type=int, default=8, help="at most this many trials in the binary search")
    g.add_argument("--resolution", type=float, default=0.02, help="stop when hi - lo <= this share of hi")
    g.add_argument("--loss-tolerance", type=float, default=0.0, help="loss share accepted as zero loss")
    g.add_argument("--latency-loads", default="10,50,90", help="latency trials at these %% of the zero-loss rate "
                                                              "(100 %% is the search's last passing trial)")
    g.add_argument("--drain-ms", type=float, default=300, help="receive at most this long after a trial")
    g.add_argument("--memif-rsize", type=int, default=14, help="log2 of the memif ring size (14 = 16384 slots)")
    opts = ap.parse_args()
    FRESH_PAGES["on"] = not opts.keep_page_cache
    opts.latency_loads = [int(x) for x in opts.latency_loads.split(",") if x.strip()]
    if opts.smoke:
        return smoke(opts)
    two = opts.mode == "two-process"
    if two and opts.workers != 1:
        raise SystemExit("two-process mode runs one worker")
    if opts.scenarios is None:
        opts.scenarios = DEFAULT_TWO_PROCESS if two else DEFAULT_SCENARIOS

    names = [s.strip() for s in opts.scenarios.split(",") if s.strip()]
    sizes = [s.strip() for s in opts.sizes.split(",") if s.strip()]
    for n in names:
        if n != "ipsec" and scale_members(n) is None and scenario(n) is None:
            raise SystemExit("unknown scenario %r (v4-1r, v4-1k, v4-100k, v4-1m, v6-1r, v6-100k, vrf-1, vrf-1000, "
                             "flows-1k, flows-1m, scale, scale-routes, scale-vrfs, scale-flows, fw, fw-est-1k, "
                             "fw-est-1m, fw-off-1k, fw-new-10k, nat, nat-est-64k, nat-est-1m, nat-off-64k, nat-new, "
                             "dslite-est-64k, dslite-est-1m, dslite-new, ipsec, ipsec-in-gcm-1, ipsec-out-cbc-1k...)"
                             % n)
        if two and (n == "ipsec" or n.startswith("ipsec-")):
            raise SystemExit("the IPsec scenarios run in-process only")
    for s in sizes:
        if s not in ("64", "imix", "1500", "1420"):
            raise SystemExit("unknown size %r (64, imix, 1500; 1420 = the IPsec scenarios' 1500)" % s)
    main_app = "memif" if two else "npsd"
    cases = []  # (app, scenario, size); app: npsd, l3fwd, secgw (in-process), memif, testpmd (two-process)
    # The IPsec group: every IPSEC_SET scenario at every size (1500 read as 1420), with ipsec-secgw after each.
    names = [m for n in names for m in (IPSEC_SET if n == "ipsec" else [n])]
    if opts.secgw and opts.workers != 1 and any(scenario(n) and scenario(n)["ipsec"] for n in names):
        log("bench: no ipsec-secgw reference with --workers %d (it runs one lcore here)" % opts.workers)
    for n in names:
        if scenario(n) is not None and scenario(n)["ipsec"]:
            # A scenario's tunnel counts back to back at each size (npsd's, then ipsec-secgw's): the verdict "1000
            # tunnels at most 10 % slower than 1" compares two runs, and a shared host's speed drifts over minutes.
            base = ipsec_peers(n)
            pair = [m for m in names if scenario(m) and scenario(m)["ipsec"] and ipsec_peers(m) == base]
            for s in dict.fromkeys(ipsec_size(x) for x in sizes):
                for app in (main_app, "secgw"):
                    if app == "secgw" and not (opts.secgw and opts.workers == 1):
                        continue
                    for m in pair:
                        if (app, m, s) not in cases:
                            cases.append((app, m, s))
            continue
        members = scale_members(n)
        if members is not None:
            for m in members:
                if (main_app, m, "64") not in cases:
                    cases.append((main_app, m, "64"))
            continue
        for s in sizes:
            if s == "1420":  # the IPsec scenarios' size only
                continue
            if (main_app, n, s) not in cases:
                cases.append((main_app, n, s))
            if not two and opts.l3fwd and scenario(n)["l3fwd"] and ("l3fwd", n, s) not in cases:
                cases.append(("l3fwd", n, s))
    if two and opts.testpmd:
        cases += [("testpmd", "flowgen", s) for s in sizes if s in ("64", "1500")]
    if opts.print_memory:
        npsd_mb = max([mem_mb(scenario(n), opts.workers, not two) for a, n, _ in cases if a != "testpmd"] + [768])
        print(npsd_mb + (1024 if two else 0))  # two-process: the generator's EAL memory (-m 512) and its pool
        return 0
    setup(opts)
    info = host_info(opts, opts.tsc_hz)
    info["memory_latency_start"] = memory_latency(opts)
    if any(a == "npsd" and scenario(n) and scenario(n)["ipsec"] for a, n, _ in cases):
        info["crypto_alone"] = crypto_alone(opts, [s for a, n, s in cases if scenario(n) and scenario(n)["ipsec"]])
        for line in crypto_alone_text(info["crypto_alone"] or []):
            log("intel-ipsec-mb alone, " + line)
        if opts.imb_keys and info["crypto_alone"] is None:
            log("intel-ipsec-mb alone: not measured (%s failed or printed something unexpected)" % opts.imb_keys)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_json = os.path.join(opts.results, "bench-%s.json" % stamp)
    if two:
        log("bench: two-process mode (%s), %d cases; trials of %gs, search of at most %d trials, loss tolerance %g; "
            "%s; results -> %s" % ("generator shares the cores" if (os.cpu_count() or 1) <= 2 else "2+ CPUs",
                                   len(cases), opts.trial_seconds, opts.search_trials, opts.loss_tolerance,
                                   "hugepages" if opts.huge else "no hugepages", out_json))
    else:
        log("bench: %d cases, %d x %gs windows each after %gs warm-up; TSC %.3f GHz; %s; results -> %s"
            % (len(cases), opts.runs, opts.seconds, opts.warmup, opts.tsc_hz / 1e9,
               "hugepages" if opts.huge else "no hugepages", out_json))
    if info["memory_latency_start"]:
        log("memory: TSC cycles per load on CPU 1, working sets of 256 KiB/1 MiB/4 MiB/16 MiB: %s"
            % memory_latency_text(info["memory_latency_start"]))
    results, failures = [], []
    t_start = time.monotonic()

    def save():
        if FRESH_PAGES["failed"] is not None:
            info["options"]["page_cache"] = "not dropped: %s" % FRESH_PAGES["failed"]
        doc = {"meta": info, "results": results, "scale": scale_table(results, failures),
               "comparison": comparison(results), "firewall": fw_table(results), "nat": nat_table(results),
               "ipsec": ipsec_table(results), "forwarding_targets": forwarding_targets(results),
               "failures": failures,
               "elapsed_seconds": round(time.monotonic() - t_start, 1)}
        with open(out_json + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(out_json + ".tmp", out_json)
        latest = os.path.join(opts.results, "latest.json" if not two else "latest-two-process.json")
        try:
            if os.path.lexists(latest):
                os.remove(latest)
            os.symlink(os.path.basename(out_json), latest)
        except OSError:
            pass

    done = set()
    for seq, (app, name, size) in enumerate(cases):
        if (app, name, size) in done:
            continue
        sc = scenario(name) if app != "testpmd" else None
        turns = in_turns(cases, app, name, size)
        if turns:
            log("[%d/%d] in turns, %d rounds of one window each: %s, %s (%s)"
                % (seq + 1, len(cases), opts.runs, ", ".join("%s %s" % m for m in turns), size,
                   scenario(name)["doc"].split(", 1")[0]))
            try:
                before = cpu_speed(opts)
                rs = run_in_turns(opts, turns, size, opts.tsc_hz, seq)
                speed = {"before": before, "after": cpu_speed(opts)} if before is not None else None
                for r in rs:
                    if speed:
                        r["host_speed"] = speed
                    log("        %s %s: %.2f Mpps  %.0f cycles/packet (core), rounds %s%s%s%s" % (
                        r["app"], r["scenario"], r["summary"]["mpps"]["median"], r["summary"]["cpp_core"]["median"],
                        " ".join("%.0f" % x for x in r["rounds"]["cpp_core"]),
                        "; against 1 tunnel %s" % " ".join("%.3f" % x for x in r["paired_cpp_ratio"])
                        if r.get("paired_cpp_ratio") else "",
                        "; Mpps against ipsec-secgw %s" % " ".join("%.2f" % x for x in r["paired_secgw_ratio"])
                        if r.get("paired_secgw_ratio") else "",
                        "".join("\n        WARNING " + x for x in r["warnings"])))
                    results.append(r)
            except (BenchError, subprocess.SubprocessError, OSError) as e:
                log("        FAILED: %s" % e)
                failures += [{"app": a, "scenario": n, "size": size, "error": str(e)} for a, n in turns]
            except Exception as e:  # a bug here: keep the other cases
                traceback.print_exc()
                failures += [{"app": a, "scenario": n, "size": size, "error": str(e)} for a, n in turns]
            done.update((a, n, size) for a, n in turns)
            save()
            continue
        log("[%d/%d] %s %s %s (%s)" % (seq + 1, len(cases), app, name, size,
                                       sc["doc"] if sc else "testpmd flowgen, routed back over the same memif"))
        try:
            if app == "memif":
                r = twoproc().run_memif_case(opts, name, sc, size, seq, log)
                log("        zero loss: %.3f Mpps%s" % (r["zero_loss_mpps"], "".join(
                    "\n        WARNING " + x for x in r["warnings"][1:])))
            elif app == "testpmd":
                r = twoproc().run_testpmd_case(opts, size, seq, log)
            else:
                fn = {"npsd": run_npsd, "l3fwd": run_l3fwd, "secgw": run_secgw}[app]
                before = cpu_speed(opts)
                r = fn(opts, name, sc, size, opts.tsc_hz, seq)
                if before is not None:
                    r["host_speed"] = {"before": before, "after": cpu_speed(opts)}
                s = r["summary"]
                log("        %.2f Mpps  %.0f cycles/packet (core)%s%s" % (
                    s["mpps"]["median"], s["cpp_core"]["median"],
                    "  speed probe %.2f / %s" % (before, "%.2f" % r["host_speed"]["after"]
                                                 if r["host_speed"]["after"] else "-") if before else "",
                    "".join("\n        WARNING " + x for x in r["warnings"])))
            results.append(r)
        except (BenchError, subprocess.SubprocessError, OSError) as e:
            log("        FAILED: %s" % e)
            failures.append({"app": "npsd" if app in ("memif", "testpmd") else app, "scenario": name, "size": size,
                             "error": str(e)})
        except Exception as e:  # a bug here: keep the other cases
            traceback.print_exc()
            failures.append({"app": app, "scenario": name, "size": size, "error": str(e)})
        save()
    info["memory_latency_end"] = memory_latency(opts)
    if info["memory_latency_end"]:
        log("memory: TSC cycles per load on CPU 1 after the cases: %s"
            % memory_latency_text(info["memory_latency_end"]))
        save()
    if two:
        twoproc().print_tables(results, sys.stdout)
        scale = scale_table(results, failures) if any(scale_members(n) for n in names) else None
        if scale:
            sys.stdout.write("\n(two-process: Mpps = zero-loss rate, proc = node cycles of the saturation trial)\n")
            print_scale(scale, sys.stdout.write)
    else:
        print_tables(results, scale_table(results, failures), sys.stdout)
        print_crypto_alone(info.get("crypto_alone"), sys.stdout.write)
    if failures:
        print("\nFailed cases:")
        for f in failures:
            print("  %s %s %s: %s" % (f["app"], f["scenario"], f["size"], f["error"].strip().splitlines()[-1]))
    print("\nresults: %s (%.0f s)" % (out_json, time.monotonic() - t_start))
    if not failures:  # else keep the configs and logs of the failed cases
        shutil.rmtree(opts.workdir, ignore_errors=True)
    else:
        print("configs and logs: %s" % opts.workdir)
    return 1 if failures else 0


def twoproc():
    """bench/twoproc.py, imported on use. It imports this file as the module "bench": make that this very module
    (run as __main__), so that both share one BenchError and one set of helpers."""
    if __name__ == "__main__":
        sys.modules.setdefault("bench", sys.modules["__main__"])
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    import twoproc as tp  # noqa: E402
    return tp


MEMLAT_SETS = ("256", "1024", "4096", "16384")  # KiB, as bench/memlat.c prints them


def memory_latency(opts):
    """TSC cycles per dependent load over 256 KiB .. 16 MiB on the first worker's CPU (1: setup() keeps this driver
    on CPU 0, EAL pins the workers to 1..N) as {KiB: cycles}, or None. On a
    shared host the cache a VM gets changes with its neighbours, and with it every case that misses (1000 tunnels)."""
    if not opts.memlat:
        return None
    try:
        out = subprocess.run(["taskset", "-c", "1", opts.memlat], capture_output=True, text=True, timeout=60)
        raw = dict(kv.split("=") for kv in out.stdout.split())
        lat = {k: float(raw[k]) for k in MEMLAT_SETS}
        if not all(v > 0 for v in lat.values()):
            return None
        if float(raw.get("rand64m", -1)) > 0:  # random reads over 64 MiB, many in flight: a memory line's rate
            lat["rand64m"] = float(raw["rand64m"])
        return lat
    except (OSError, ValueError, KeyError, subprocess.SubprocessError):
        return None


# The ESP payload the cipher covers for each IPsec size: the inner packet + 2 trailer bytes, padded to 4 (64: a
# 46-byte inner packet; imix's middle size, 576; 1420).
CRYPTO_ALONE_LENGTHS = {"64": 48, "imix": 580, "1420": 1424}


def crypto_alone(opts, sizes, messages=500000, rounds=9):
    """intel-ipsec-mb alone (bench/imb_keys.c on the worker's CPU): cycles per message of AES-GCM-128 and of
    AES-128-CBC + HMAC-SHA-256 with one key and with 1000, the keys requested ahead as npsd does and 4 MiB streamed
    alongside (as net_pcap streams its file): [{alg, len, keys, cycles, min, max, ratio}], or None. What 1000 tunnels
    cost the library itself."""
    lens = sorted({CRYPTO_ALONE_LENGTHS[s] for s in sizes if s in CRYPTO_ALONE_LENGTHS})
    if not opts.imb_keys or not lens:
        return None
    try:
        out = subprocess.run(["taskset", "-c", "1", opts.imb_keys, "-a", "gcm,cbc", "-k", "1,1000",
                              "-s", ",".join(map(str, lens)),
                              "-d", "1", "-m", "4096", "-n", str(messages), "-r", str(rounds)],
                             capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return None
    rows = []
    for line in out.stdout.splitlines():
        if line.startswith("#"):
            continue
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        try:
            cyc = [float(x) for x in line.split("cycles=")[1].split()[:3]]
            rows.append({"alg": f["alg"], "len": int(f["len"]), "keys": int(f["keys"]), "cycles": cyc[0],
                         "min": cyc[1], "max": cyc[2], "ratio": float(f["ratio"])})
        except (KeyError, IndexError, ValueError):
            return None
    return rows if out.returncode == 0 and len(rows) == 4 * len(lens) else None


CRYPTO_ALONE_ALGS = {"gcm": "AES-GCM-128", "cbc": "AES-128-CBC + HMAC-SHA-256"}


def crypto_alone_text(rows):
    """One line per algorithm and message length: cycles per message with 1 and 1000 keys, and the difference."""
    out = []
    for r1 in [r for r in rows if r["keys"] == 1]:
        rk = next(r for r in rows if (r["alg"], r["len"]) == (r1["alg"], r1["len"]) and r["keys"] != 1)
        out.append("%s, %d B: %.1f / %.1f cycles per message with 1 / %d keys (%+.1f %%)"
                   % (CRYPTO_ALONE_ALGS.get(r1["alg"], r1["alg"]), r1["len"], r1["cycles"], rk["cycles"], rk["keys"],
                      (rk["ratio"] - 1) * 100))
    return out


SPEED_DRIFT = 0.10  # probes further apart than this: the two cases ran on a differently loaded host


def cpu_speed(opts):
    """TSC cycles per iteration of bench/cpuspeed.c's integer loop on the first worker's CPU, or None. Constant on a
    quiet core; higher while the core is shared (another guest on its sibling thread)."""
    if not opts.cpuspeed:
        return None
    try:
        out = subprocess.run(["taskset", "-c", "1", opts.cpuspeed], capture_output=True, text=True, timeout=30)
        v = float(out.stdout.strip())
        return v if v > 0 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def case_speed(r):
    """The mean of a case's probes (before and after it), or None."""
    v = [x for x in (r.get("host_speed") or {}).values() if x]
    return sum(v) / len(v) if v else None


def speeds_differ(a, b):
    """Did cases a and b (results) run on a differently loaded core? None when a probe is missing."""
    sa, sb = case_speed(a), case_speed(b)
    if not sa or not sb:
        return None
    return abs(sa - sb) / min(sa, sb) > SPEED_DRIFT


def memory_latency_text(lat):
    if not lat:
        return "-"
    text = "/".join("%.0f" % lat[k] for k in MEMLAT_SETS)
    if "rand64m" in lat:
        text += " (random reads over 64 MiB, prefetched: %.0f each)" % lat["rand64m"]
    return text


def setup(opts):
    # This driver and what it starts (npsctl, the telemetry client, the generators) stay on CPU 0 with the main
    # lcore; EAL then pins the workers to CPUs 1..N itself.
    try:
        os.sched_setaffinity(0, {0})
    except OSError:
        pass
    os.makedirs(opts.data, exist_ok=True)
    os.makedirs(opts.results, exist_ok=True)
    opts.workdir = os.path.join(opts.data, "run-%d" % os.getpid())
    os.makedirs(opts.workdir, exist_ok=True)


# ---------------------------------------------------------------------------------------------------------------
# Smoke run (make test): one scenario, a few seconds, no hugepages; asserts that figures are produced and that
# every packet npsd received is accounted for. Never a timing assertion.

SMOKE_PACKETS = 4096


def smoke(opts):
    setup(opts)
    opts.huge = False
    sc = dict(scenario("v4-1r"), packets=SMOKE_PACKETS, destinations=SMOKE_PACKETS)
    fails = []

    def check(cond, what):
        print("smoke: %s %s" % ("ok  " if cond else "FAIL", what))
        if not cond:
            fails.append(what)

    # The IPsec verdicts pair cases by name: a pcap-size suffix keeps the pair, and never fewer packets than tunnels.
    small = scenario("ipsec-out-gcm-1k-p2048")
    check(small is not None and small["packets"] == 2048 and small["ipsec"]["tunnels"] == 1000
          and ipsec_peers("ipsec-out-gcm-1k-p2048") == ipsec_peers("ipsec-out-gcm-1-p2048")
          and ipsec_peers("ipsec-out-gcm-1k-p2048") != ipsec_peers("ipsec-out-gcm-1k")
          and ipsec_one_tunnel("ipsec-out-gcm-1k-p2048") == "ipsec-out-gcm-1-p2048"
          and ipsec_one_tunnel("ipsec-in-cbc-1k") == "ipsec-in-cbc-1" and scenario("ipsec-out-gcm-1k-p999") is None,
          "IPsec scenario names: the pcap-size suffix and the one-tunnel twin")
    t0 = time.monotonic()
    # In-process: one 1-second window of npsd forwarding the pcap (net_pcap infinite_rx -> net_null).
    try:
        pcap, meta = traffic(opts.data, sc, "64")
        prefix = "npsbench%d-smoke" % os.getpid()
        sock = os.path.join(opts.workdir, prefix + ".sock")
        conf = os.path.join(opts.workdir, prefix + ".conf")
        npsd_config(conf, sc, pcap, 1, False, sock, prefix, opts.data)
        dropped = FRESH_PAGES["dropped"]
        proc = Proc([opts.npsd, "-c", conf], os.path.join(opts.workdir, prefix + ".log"), prefix)
        if os.geteuid() == 0:
            check(FRESH_PAGES["dropped"] == dropped + 1 and FRESH_PAGES["failed"] is None,
                  "page cache dropped before the process started (%s)" % (FRESH_PAGES["failed"] or "as root"))
        try:
            wait_for(lambda: npsd_stats(opts.npsctl, sock)["totals"][0]["tx"] > 0, proc, 120, "npsd")
            graph_profile(opts.npsctl, sock, True)
            a = sample_npsd(opts.npsctl, sock, proc)
            time.sleep(1)
            b = sample_npsd(opts.npsctl, sock, proc)
        finally:
            proc.stop(signal.SIGTERM)
        w = npsd_window(a, b, opts.tsc_hz, 1, meta["mean_frame_bytes"])
        d = {k: b["totals"].get(k, 0) - a["totals"].get(k, 0)
             for k in ("rx", "created", "tx", "drops", "punted", "absorbed")}
        bal = d["rx"] + d["created"] - d["tx"] - d["drops"] - d["punted"] - d["absorbed"]
        print("smoke: in-process v4-1r 64: %.2f Mpps, %.0f cycles/packet (core), %.0f (proc); window totals %s"
              % (w["mpps"], w["cpp_core"], w["cpp_processing"], d))
        check(d["tx"] > 0 and w["packets"] > 0, "in-process: npsd transmitted packets (tx %d)" % d["tx"])
        check(all(v is not None and v == v and v > 0 for v in (w["mpps"], w["cpp_core"], w["cpp_processing"])),
              "in-process: figures produced")
        # The input never stops, so the two readings can each catch packets inside the graph: at most a few
        # bursts (256 packets per node) apart.
        check(abs(bal) <= 4096, "in-process: rx + created = tx + drops + punted + absorbed, up to the packets in "
              "flight (difference %d)" % bal)
    except (BenchError, subprocess.SubprocessError, OSError) as e:
        check(False, "in-process run: %s" % e)
    # Two-process: memif_gen -> npsd -> memif_gen, one paced and one unpaced trial; the rings are drained before
    # the counters are read, so everything balances exactly.
    if opts.memif_gen:
        try:
            pcap, meta = traffic(opts.data, sc, "64")
            prefix = "npsbench%d-smoke2" % os.getpid()
            tp = twoproc()
            socks, devices = tp.memif_devices(opts.workdir, prefix)
            proc, sock, _ = tp.start_npsd(opts, sc, pcap, prefix, devices)
            gen = None
            try:
                gen = tp.Gen(opts, pcap, prefix + "g", socks, os.path.join(opts.workdir, prefix + "-gen.log"))
                check(bool(gen.cmd("link 30", 40).get("ok")), "two-process: memif links up")
                case = tp.Case(opts, proc, sock, gen)
                trials = [case.trial(50000, 1, 1.0), case.trial(0, 0.5, 1.0)]
            finally:
                if gen is not None:
                    gen.stop()
                proc.stop(signal.SIGTERM)
            for t, what in zip(trials, ("50 kpps", "unpaced")):
                gw, lat = t["gateway"], t["latency_ns"]
                print("smoke: two-process %s: offered %d, refused %d, npsd rx %d tx %d drops %d punted %d created "
                      "%d, received %d; latency p50 %s us p99 %s us (%d samples)"
                      % (what, t["offered"], t["refused"], gw["rx"], gw["tx"], gw["drops"], gw["punted"],
                         gw["created"], t["rx"], tp.fmt_us(lat.get("p50")), tp.fmt_us(lat.get("p99")),
                         lat.get("samples", 0)))
                check(gw["tx"] > 0 and t["rx"] > 0, "two-process %s: packets went through npsd and back" % what)
                check(gw["balance"] == 0, "two-process %s: npsd rx + created = tx + drops + punted + absorbed "
                                          "(%d + %d = %d + %d + %d + %d)"
                                          % (what, gw["rx"], gw["created"], gw["tx"], gw["drops"], gw["punted"],
                                             gw.get("absorbed", 0)))
                check(t["accounting"] == "exact", "two-process %s: generator and npsd counters agree%s" % (
                    what, "" if t["accounting"] == "exact" else ": " + "; ".join(t["accounting"])))
                check(lat.get("samples", 0) > 0 and lat.get("p50") is not None, "two-process %s: latency "
                                                                                 "percentiles produced" % what)
        except (BenchError, subprocess.SubprocessError, OSError) as e:
            check(False, "two-process run: %s" % e)
    # The crypto library alone (bench/imb_keys.c): a short run, figures produced for both key counts.
    if opts.imb_keys:
        rows = crypto_alone(opts, ["64"], messages=20000, rounds=1)
        for line in crypto_alone_text(rows or []):
            print("smoke: intel-ipsec-mb alone, " + line)
        check(rows is not None and all(r["cycles"] > 0 for r in rows) and
              [(r["alg"], r["keys"]) for r in rows] == [("gcm", 1), ("gcm", 1000), ("cbc", 1), ("cbc", 1000)] and
              all(r["ratio"] == 1.0 for r in rows if r["keys"] == 1),
              "crypto alone: imb_keys measured both algorithms with 1 and 1000 keys")
    print("smoke: %s in %.0f s" % ("FAILED (%d)" % len(fails) if fails else "passed", time.monotonic() - t0))
    if not fails:
        shutil.rmtree(opts.workdir, ignore_errors=True)
    else:
        print("smoke: configs and logs in %s" % opts.workdir)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
