# SPDX-License-Identifier: BSD-3-Clause
"""Two-process mode of the npsgw benchmark (bench/run --mode two-process), and the smoke run (bench/run --smoke).

npsd runs as in production, its ports being two net_memif servers; the traffic comes from another process over
shared memory:

  memif_gen (bench/memif_gen.c) --memif "in"--> npsd --memif "out"--> memif_gen

memif_gen sends a pcap of the scenario at a paced rate and receives what npsd forwards, with a timestamp in every
frame that has room for one. For each case: one unpaced trial (saturation: the generator offers as fast as it
can), then an RFC 2544 style binary search for the highest offered rate with no loss, then latency trials at
fractions of that rate. Loss of a trial = packets offered - packets received back, and every packet is accounted
for from both sides: refused by the full input ring (the gateway did not keep up), counted by npsd (its ports
table, its totals, its drops by reason), received by the generator. npsd's counters are read before and after each
trial, after the generator has drained the rings, so they balance exactly.

dpdk-testpmd (Debian's dpdk package) is the second generator: flowgen mode, as fast as it can, on one memif whose
traffic npsd routes back out of the same interface to it (testpmd's flowgen has fixed MAC addresses and
destination 10.253.0.0/16, and sends on every port it has, so one port carrying both directions is the setup in
which every packet it sends is a forwarded packet it receives). testpmd cannot pace its transmission on a
software port, so it gives the saturation figures only, with the same accounting.

On a 2-CPU host the generator runs on CPU 0 with npsd's main lcore and this driver, npsd's worker on CPU 1: the
figures are labelled "generator shares the cores".
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import time

import bench as B

LABEL = "generator shares the cores"
FLOWGEN_SRC_MAC = "00:01:02:03:04:00"  # testpmd flowgen's fixed addresses (DPDK 22.11 app/test-pmd/flowgen.c)
FLOWGEN_DST_MAC = "00:01:02:03:04:01"
FLOWGEN_DST = "10.253.0.0/16"
GEN_CPU = 0


class ProcessDied(subprocess.SubprocessError):
    """A process we started is gone (not caught by bench.wait_for, which retries on BenchError)."""


def runtime_cleanup(prefix):
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")):
        shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)


def thread_sched(pid, tid=None):
    """(ns on CPU, ns waiting) of one thread (default: the main thread) from /proc schedstat, or None."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid or pid)) as f:
            r, w, _ = f.read().split()
        return int(r), int(w)
    except (OSError, ValueError):
        return None


class Gen:
    """memif_gen, driven line by line through its stdin; answers are the '@@ {json}' lines of its stdout."""

    def __init__(self, opts, pcap, prefix, socks, logpath):
        self.prefix = prefix
        argv = [opts.memif_gen, "-l", str(GEN_CPU), "--file-prefix=" + prefix, "--no-pci", "-m", "512",
                "--log-level=lib.eal:warning"]
        if not opts.huge:
            argv.append("--no-huge")
        for i, s in enumerate(socks):
            argv.append("--vdev=net_memif%d,role=client,socket=%s,id=0,rsize=%d" % (i, s, opts.memif_rsize))
        argv += ["--", "--pcap", pcap, "--tx-port", "0", "--rx-port", "1"]
        self.argv = argv
        self.logpath = logpath
        self.log = open(logpath, "w")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.buf = b""
        self.ready = self.read(120)

    def tail(self, n=12):
        self.log.flush()
        with open(self.logpath, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def read(self, timeout):
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith("@@ "):
                    ans = json.loads(text[3:])
                    if not ans.get("ok"):
                        raise B.BenchError("memif_gen: %s" % ans.get("error", "failed"))
                    return ans
                self.log.write(text + "\n")
            left = end - time.monotonic()
            if left <= 0:
                raise B.BenchError("memif_gen: no answer within %ds:\n%s" % (timeout, self.tail()))
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    self.p.wait()
                    raise B.BenchError("memif_gen exited (status %s):\n%s" % (self.p.returncode, self.tail()))
                self.buf += chunk

    def cmd(self, line, timeout):
        try:
            self.p.stdin.write((line + "\n").encode())
            self.p.stdin.flush()
        except BrokenPipeError:
            raise B.BenchError("memif_gen is gone:\n%s" % self.tail())
        return self.read(timeout)

    def sched(self):
        return thread_sched(self.p.pid)

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write(b"quit\n")
                self.p.stdin.flush()
                self.p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.p.send_signal(signal.SIGTERM)
                try:
                    self.p.wait(10)
                except subprocess.TimeoutExpired:
                    self.p.kill()
                    self.p.wait()
        self.log.close()
        runtime_cleanup(self.prefix)


# ---------------------------------------------------------------------------------------------------------------
# Accounting of one trial

def gw_delta(a, b):
    """What npsd counted between two samples (sample_npsd): its ports "in" and "out", its totals, its drops."""
    def port(name, key):
        return b["ports"].get(name, {}).get(key, 0) - a["ports"].get(name, {}).get(key, 0)

    def tot(key):
        return b["totals"].get(key, 0) - a["totals"].get(key, 0)

    d = {"in_rx": port("in", "rx_packets"), "in_tx": port("in", "tx_packets"), "in_missed": port("in", "rx_missed"),
         "out_tx": port("out", "tx_packets"), "out_rx": port("out", "rx_packets"),
         "rx": tot("rx"), "created": tot("created"), "tx": tot("tx"), "drops": tot("drops"), "punted": tot("punted"),
         "absorbed": tot("absorbed"),
         "drop_reasons": {k: v - a["drops"].get(k, 0) for k, v in b["drops"].items() if v - a["drops"].get(k, 0)},
         "links": {n: p.get("link") for n, p in b["ports"].items()}}
    d["balance"] = d["rx"] + d["created"] - d["tx"] - d["drops"] - d["punted"] - d["absorbed"]
    # Node cycles: per forwarded packet, without the rx nodes (whose idle polls depend on the load), and with them.
    cyc_proc = cyc_all = 0
    nodes = {}
    for name, nb in b["nodes"].items():
        na = a["nodes"].get(name, {"calls": 0, "packets": 0, "cycles": 0})
        cyc, objs = nb["cycles"] - na["cycles"], nb["packets"] - na["packets"]
        cyc_all += cyc
        if not name.startswith("port_rx-"):
            cyc_proc += cyc
        if objs:
            nodes[name] = {"packets": objs, "cycles_per_node_packet": round(cyc / objs, 2)}
    fwd = d["tx"] - d["created"]
    d["cpp_processing"] = cyc_proc / fwd if fwd > 0 else None
    d["cpp_nodes"] = cyc_all / fwd if fwd > 0 else None
    for n in nodes.values():
        n["cycles_per_forwarded_packet"] = round(n["cycles_per_node_packet"] * n["packets"] / fwd, 2) if fwd > 0 \
            else None
    d["nodes"] = nodes
    return d


def share(a, b, dt):
    if not a or not b or dt <= 0:
        return None
    return (b[0] - a[0]) / (dt * 1e9)


class Case:
    """One running npsd + memif_gen pair; trial() runs one trial and accounts for it."""

    def __init__(self, opts, npsd_proc, sock, gen):
        self.opts, self.npsd, self.sock, self.gen = opts, npsd_proc, sock, gen

    def sample(self):
        return B.sample_npsd(self.opts.npsctl, self.sock, self.npsd)

    def trial(self, rate, seconds, tol):
        if not self.npsd.alive():
            raise B.BenchError("npsd died:\n%s" % self.npsd.tail())
        a = self.sample()
        ga, t0 = self.gen.sched(), time.monotonic()
        r = self.gen.cmd("trial %.0f %g %d" % (rate, seconds, self.opts.drain_ms),
                         seconds + self.opts.drain_ms / 1e3 + 60)
        gb, t1 = self.gen.sched(), time.monotonic()
        b = self.sample()
        gw = gw_delta(a, b)
        offered = r["attempted"]
        t = {"rate": rate, "seconds": r["seconds"], "offered": offered, "tx": r["tx"], "refused": r["refused"],
             "alloc_fail": r["alloc_fail"], "rx": r["rx"], "rx_other": r["rx_other"], "rx_stale": r["rx_stale"],
             "offered_pps": offered / r["seconds"] if r["seconds"] else 0,
             "received_pps": r["rx"] / r["seconds"] if r["seconds"] else 0,
             "latency_ns": r["latency_ns"], "gen_ports": {"tx": r["tx_port"], "rx": r["rx_port"]}, "gateway": gw}
        t["loss"] = offered - r["rx"]
        t["loss_ratio"] = t["loss"] / offered if offered else 0.0
        # Where the lost packets went: refused at the gateway's input ring, dropped by npsd (tx_full on "out":
        # the generator's receive ring was full), and whatever is left (should be 0).
        t["lost_in_gateway"] = gw["drops"] + gw["punted"]
        t["lost_at_generator_rx"] = gw["drop_reasons"].get("tx_full", 0)
        t["unaccounted"] = t["loss"] - t["refused"] - t["alloc_fail"] - t["lost_in_gateway"]
        gtx, grx = r["tx_port"], r["rx_port"]
        checks = []
        if not gtx["opackets"] == r["tx"] == gw["in_rx"]:
            checks.append("generator sent %d (its port counted %d), npsd port in received %d"
                          % (r["tx"], gtx["opackets"], gw["in_rx"]))
        if gw["balance"] != 0:
            checks.append("npsd totals do not balance: rx + created - tx - drops - punted = %d" % gw["balance"])
        if gw["out_tx"] != grx["ipackets"] or gw["in_tx"] != gtx["ipackets"]:
            checks.append("npsd ports sent %d (out) and %d (in), the generator's ports received %d and %d"
                          % (gw["out_tx"], gw["in_tx"], grx["ipackets"], gtx["ipackets"]))
        if grx["ipackets"] + gtx["ipackets"] != r["rx"] + r["rx_other"] + r["rx_stale"]:
            checks.append("generator ports received %d, it classified %d"
                          % (grx["ipackets"] + gtx["ipackets"], r["rx"] + r["rx_other"] + r["rx_stale"]))
        t["accounting"] = checks or "exact"
        t["worker_on_cpu_share"] = B.sched_share(a, b, 1, 1, 1).get("worker_on_cpu_share") if a.get("sched") else None
        t["gen_on_cpu_share"] = share(ga, gb, t1 - t0)
        t["passed"] = t["loss"] <= tol * offered and offered > 0 and \
            (rate == 0 or t["offered_pps"] >= 0.99 * rate)
        return t


def brief(t):
    lat = t["latency_ns"]
    return "offered %.3f Mpps, received %.3f Mpps, loss %d (%.4f%%)%s%s" % (
        t["offered_pps"] / 1e6, t["received_pps"] / 1e6, t["loss"], 100 * t["loss_ratio"],
        ", p50 %.1f us p99 %.1f us" % (lat["p50"] / 1e3, lat["p99"] / 1e3) if lat.get("samples") else "",
        "" if t["accounting"] == "exact" else "; ACCOUNTING: " + "; ".join(t["accounting"]))


def search(case, opts, log):
    """RFC 2544 throughput: the highest offered rate with loss <= tolerance, by bisection between 0 and the
    saturation rate. Returns (saturation trial, search trials, best passing trial or None)."""
    T, tol = opts.trial_seconds, opts.loss_tolerance
    case.trial(0, min(0.5, T), 1.0)  # warm-up: caches, memif rings, the first packets
    sat = case.trial(0, T, tol)
    log("        saturation: %s" % brief(sat))
    gen_max = sat["offered_pps"]
    fwd = sat["received_pps"]
    hi = min(gen_max, max(fwd * 1.1, 1000.0))
    lo, best, trials = 0.0, None, []
    probe = min(fwd, hi) if fwd > 0 else hi / 2
    for _ in range(opts.search_trials):
        t = case.trial(probe, T, tol)
        trials.append(t)
        log("        %7.3f Mpps: %s %s" % (probe / 1e6, "pass" if t["passed"] else "FAIL", brief(t)))
        if t["passed"]:
            lo, best = probe, t
            if probe >= hi * 0.999:
                if hi >= gen_max * 0.999:
                    break  # the generator's own limit
                hi = min(gen_max, hi * 1.5)
        else:
            if t["offered_pps"] < 0.99 * probe:  # the generator could not offer that much
                hi = min(hi, t["offered_pps"])
            hi = min(hi, probe)
        if hi - lo <= opts.resolution * hi:
            break
        probe = (lo + hi) / 2
    return sat, trials, best


def latency_trials(case, opts, rate, log):
    out = []
    for pct in opts.latency_loads:
        t = case.trial(rate * pct / 100.0, opts.trial_seconds, opts.loss_tolerance)
        t["load_pct"] = pct
        out.append(t)
        log("        latency at %d%%: %s" % (pct, brief(t)))
    return out


def memif_devices(wd, prefix):
    socks = (os.path.join(wd, prefix + "-in.sock"), os.path.join(wd, prefix + "-out.sock"))
    return socks, ("net_memif0,role=server,socket=%s,id=0" % socks[0],
                   "net_memif1,role=server,socket=%s,id=0" % socks[1])


def start_npsd(opts, sc, pcap, prefix, devices, **kw):
    wd = opts.workdir
    sock = os.path.join(wd, prefix + ".sock")
    conf = os.path.join(wd, prefix + ".conf")
    B.npsd_config(conf, sc, pcap, 1, opts.huge, sock, prefix, opts.data, devices=devices, **kw)
    proc = B.Proc([opts.npsd, "-c", conf], os.path.join(wd, prefix + ".log"), prefix)
    B.wait_for(lambda: B.npsd_stats(opts.npsctl, sock)["totals"], proc, opts.start_timeout, "npsd")
    B.graph_profile(opts.npsctl, sock, True)  # the proc column is made of node cycles: a little slower, documented
    return proc, sock, conf


def run_memif_case(opts, name, sc, size, seq, log):
    pcap, meta = B.traffic(opts.data, sc, size)
    prefix = "npsbench%d-%d" % (os.getpid(), seq)
    socks, devices = memif_devices(opts.workdir, prefix)
    t_start = time.monotonic()
    proc, sock, conf = start_npsd(opts, sc, pcap, prefix, devices)
    gen = None
    try:
        gen = Gen(opts, pcap, prefix + "g", socks, os.path.join(opts.workdir, prefix + "-gen.log"))
        meta = dict(meta, stamped_frames=gen.ready.get("stamped_frames"))
        if not gen.cmd("link 30", 40).get("ok"):
            raise B.BenchError("memif links did not come up")
        startup = time.monotonic() - t_start
        case = Case(opts, proc, sock, gen)
        sat, trials, best = search(case, opts, log)
        base = best["rate"] if best else sat["received_pps"]
        lat = latency_trials(case, opts, base, log) if base > 0 else []
        mem = proc.memory()
    finally:
        if gen is not None:
            gen.stop()
        proc.stop(signal.SIGTERM)
    warnings = [LABEL]
    tput = best["rate"] if best else 0.0
    if best is None:
        warnings.append("no trial without loss: the latency loads are fractions of the saturation rate")
    elif trials and best is trials[-1] and best["rate"] >= sat["offered_pps"] * 0.99:
        warnings.append("zero loss up to the generator's own maximum: the gateway's limit is higher")
    bad = [t for t in [sat] + trials + lat if t["accounting"] != "exact"]
    if bad:
        warnings.append("accounting: %s" % "; ".join(bad[0]["accounting"]))
    shares = [t["worker_on_cpu_share"] for t in [sat] + trials + lat if t.get("worker_on_cpu_share") is not None]
    if shares and min(shares) < 0.97:
        warnings.append("busy host: npsd's worker had its CPU %.0f%%..%.0f%% of the time"
                        % (100 * min(shares), 100 * max(shares)))
    if best is not None and best["latency_ns"].get("samples"):
        best = dict(best, load_pct=100)
        lat = lat + [best]
    return {"app": "npsd", "mode": "two-process", "generator": "memif_gen", "label": LABEL, "scenario": name,
            "size": size, "family": sc["family"], "routes": sc["routes"], "vrfs": max(1, sc["vrfs"]),
            "destinations": sc["destinations"], "doc": sc["doc"], "pcap": meta, "startup_seconds": round(startup, 2),
            "memory": mem, "config": os.path.basename(conf), "gen_argv": gen.argv[1:] if gen else None,
            "zero_loss_pps": tput, "zero_loss_mpps": tput / 1e6,
            "zero_loss_gbps": tput * meta["mean_frame_bytes"] * 8 / 1e9,
            "loss_tolerance": opts.loss_tolerance, "saturation": sat, "search": trials, "latency": lat,
            "cpp_processing": sat["gateway"]["cpp_processing"], "cpp_nodes": sat["gateway"]["cpp_nodes"],
            "warnings": warnings,
            # In the shape of the in-process results, for the scale tables: Mpps = the zero-loss rate, the cycles
            # from the saturation trial.
            "summary": {k: {"median": v, "min": v, "max": v} for k, v in (
                ("mpps", tput / 1e6), ("cpp_processing", sat["gateway"]["cpp_processing"]),
                ("cpp_nodes", sat["gateway"]["cpp_nodes"]),
                ("worker_on_cpu_share", sat["worker_on_cpu_share"])) if v is not None},
            "median_window_nodes": sat["gateway"]["nodes"]}


# ---------------------------------------------------------------------------------------------------------------
# testpmd (flowgen) as the generator

FWD_RE = re.compile(r"Forward statistics for port 0\s+-+\s+RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)\s+"
                    r"RX-total:\s*(\d+)\s+TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)\s+TX-total:\s*(\d+)")


def run_testpmd_case(opts, size, seq, log):
    """dpdk-testpmd flowgen over one memif; npsd routes the flowgen destinations back out of the same interface."""
    name = "v4-1r"
    sc = B.scenario(name)
    frame = {"64": 60, "1500": 1514}.get(size)
    if frame is None:
        raise B.BenchError("testpmd flowgen sends one frame size: 64 or 1500 only")
    prefix = "npsbench%d-%d" % (os.getpid(), seq)
    wd = opts.workdir
    sock_mem = os.path.join(wd, prefix + "-in.sock")
    devices = ("net_memif0,role=server,socket=%s,id=0" % sock_mem, "net_null0,no-rx=1")
    # A pcap is still named in the config (unused with these devices); take the scenario's.
    pcap, _ = B.traffic(opts.data, sc, size)
    proc, sock, conf = start_npsd(opts, sc, pcap, prefix, devices, in_mac=FLOWGEN_DST_MAC,
                                  extra=(["%s via 10.0.0.2" % FLOWGEN_DST], [("in0", "10.0.0.2", FLOWGEN_SRC_MAC)]))
    tprefix = prefix + "t"
    argv = [opts.testpmd, "--lcores=0@%d,1@%d" % (GEN_CPU, GEN_CPU), "--file-prefix=" + tprefix, "--no-pci", "-m",
            "512", "--vdev=net_memif0,role=client,socket=%s,id=0,rsize=%d" % (sock_mem, opts.memif_rsize)]
    if not opts.huge:
        argv.insert(1, "--no-huge")
    argv += ["--", "-i", "--forward-mode=flowgen", "--nb-cores=1", "--total-num-mbufs=16384",
             "--txpkts=%d" % (frame + 4),  # flowgen counts the 4-byte FCS in the length
             "--flowgen-flows=%d" % B.FLOWS]
    logpath = os.path.join(wd, prefix + "-testpmd.log")
    logf = open(logpath, "w")
    # Line-buffered stdout (testpmd prints with stdio), so that its statistics reach the log when it prints them.
    stdbuf = shutil.which("stdbuf")
    tp = subprocess.Popen(([stdbuf, "-oL"] if stdbuf else []) + argv, stdin=subprocess.PIPE, stdout=logf,
                          stderr=subprocess.STDOUT)
    tel = B.Telemetry(tprefix)

    def send(c):
        tp.stdin.write((c + "\n").encode())
        tp.stdin.flush()

    def logtext():
        logf.flush()
        with open(logpath, errors="replace") as f:
            return f.read()

    def sample():
        t0 = time.monotonic()
        st = tel.get("/ethdev/stats,0")["/ethdev/stats"]
        s = B.sample_npsd(opts.npsctl, sock, proc)
        s["tp"] = st
        s["t"] = (t0 + time.monotonic()) / 2
        return s

    def alive_and(cond):
        def check():
            if tp.poll() is not None:
                raise ProcessDied("testpmd exited (status %s):\n%s" % (tp.returncode,
                                                                        "".join(logtext().splitlines(True)[-12:])))
            return cond()
        return check

    try:
        B.wait_for(alive_and(lambda: B.npsd_stats(opts.npsctl, sock)["ports"][0]["link"] == "up"), proc, 60,
                   "testpmd link")
        B.wait_for(alive_and(lambda: tel.get("/ethdev/stats,0")), proc, 30, "testpmd telemetry")
        p0 = B.sample_npsd(opts.npsctl, sock, proc)
        t_run = time.monotonic()
        send("start")
        time.sleep(opts.warmup)
        a = sample()
        time.sleep(opts.trial_seconds)
        b = sample()
        send("stop")
        B.wait_for(alive_and(lambda: len(FWD_RE.findall(logtext())) >= 1), proc, 30, "testpmd stop")
        t_run = time.monotonic() - t_run
        time.sleep(0.3)
        c = B.sample_npsd(opts.npsctl, sock, proc)
        send("quit")
        try:
            tp.wait(20)
        except subprocess.TimeoutExpired:
            tp.kill()
            tp.wait()
        m = FWD_RE.findall(logtext())
    finally:
        tel.close()
        if tp.poll() is None:
            tp.kill()
            tp.wait()
        logf.close()
        runtime_cleanup(tprefix)
        proc.stop(signal.SIGTERM)
    rx_pk, _, _, tx_pk, tx_drop, tx_total = (int(x) for x in m[-1])
    gw = gw_delta(p0, c)
    win = gw_delta(a, b)
    dt = b["t"] - a["t"]
    checks = []
    if gw["in_rx"] != tx_pk:
        checks.append("testpmd sent %d, npsd port in received %d" % (tx_pk, gw["in_rx"]))
    if gw["balance"] != 0:
        checks.append("npsd totals do not balance: rx + created - tx - drops - punted = %d" % gw["balance"])
    left = gw["in_tx"] - rx_pk  # still in testpmd's receive ring when it stopped polling
    if not 0 <= left <= (1 << opts.memif_rsize):
        checks.append("npsd sent %d back, testpmd received %d" % (gw["in_tx"], rx_pk))
    window = {"seconds": dt, "testpmd_tx_pps": (b["tp"]["opackets"] - a["tp"]["opackets"]) / dt,
              "testpmd_rx_pps": (b["tp"]["ipackets"] - a["tp"]["ipackets"]) / dt,
              "npsd_forwarded_pps": win["in_tx"] / dt, "cpp_processing": win["cpp_processing"],
              "cpp_nodes": win["cpp_nodes"],
              "worker_on_cpu_share": B.sched_share(a, b, 1, 1, 1).get("worker_on_cpu_share")}
    run = {"seconds": t_run, "offered": tx_total, "refused": tx_drop, "tx": tx_pk, "rx": rx_pk,
           "offered_pps": tx_total / t_run, "gateway": gw, "left_in_ring": left, "accounting": checks or "exact"}
    warnings = [LABEL]
    if checks:
        warnings.append("accounting: " + "; ".join(checks))
    log("        testpmd: offered %.3f Mpps, npsd forwarded %.3f Mpps (window), refused %.1f%% of the run; "
        "accounting %s" % (run["offered_pps"] / 1e6, window["npsd_forwarded_pps"] / 1e6,
                           100.0 * tx_drop / max(tx_total, 1), "exact" if not checks else "; ".join(checks)))
    return {"app": "npsd", "mode": "two-process", "generator": "testpmd", "label": LABEL, "scenario": "flowgen",
            "size": size, "family": 4, "routes": 2, "vrfs": 1, "destinations": B.FLOWS,
            "doc": "testpmd flowgen to %s, routed back out of the same memif" % FLOWGEN_DST,
            "config": os.path.basename(conf), "testpmd_argv": argv[1:], "window": window, "run": run,
            "frame_bytes": frame, "warnings": warnings}


# ---------------------------------------------------------------------------------------------------------------
# Output

def fmt_us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1e3)


def print_tables(results, out):
    w = out.write
    mem = [r for r in results if r.get("generator") == "memif_gen"]
    tpm = [r for r in results if r.get("generator") == "testpmd"]
    if mem:
        w("\nTwo-process mode (%s): npsd with two memif ports, memif_gen on CPU %d. zero-loss = highest offered\n"
          "rate of the binary search with loss <= tolerance; saturation = unpaced trial: what the generator offered\n"
          "and what came back; proc = npsd node cycles per forwarded packet without rx (saturation trial); cpu%% =\n"
          "lowest share of a trial the worker / the generator had its CPU.\n\n" % (LABEL, GEN_CPU))
        w("%-9s %-5s %9s %6s %6s %10s %9s %6s %5s %5s %5s\n" % (
            "scenario", "size", "zero-loss", "Gbps", "trials", "sat.offer", "sat.recv", "proc", "wcpu%", "gcpu%",
            "acct"))
        w("%-9s %-5s %9s %6s %6s %10s %9s %6s\n" % ("", "", "Mpps", "", "", "Mpps", "Mpps", "cyc/p"))
        for r in mem:
            trials = [r["saturation"]] + r["search"] + r["latency"]
            ws = [t["worker_on_cpu_share"] for t in trials if t.get("worker_on_cpu_share") is not None]
            gs = [t["gen_on_cpu_share"] for t in trials if t.get("gen_on_cpu_share") is not None]
            ok = all(t["accounting"] == "exact" for t in trials)
            w("%-9s %-5s %9s %6s %6d %10s %9s %6s %5s %5s %5s\n" % (
                r["scenario"], r["size"], B.fmt(r["zero_loss_mpps"], 3), B.fmt(r["zero_loss_gbps"], 2),
                len(r["search"]), B.fmt(r["saturation"]["offered_pps"] / 1e6), B.fmt(r["saturation"]["received_pps"]
                                                                                      / 1e6, 3),
                B.fmt(r["cpp_processing"], 0), B.fmt(100 * min(ws), 0) if ws else "-",
                B.fmt(100 * min(gs), 0) if gs else "-", "exact" if ok else "NO"))
        w("\nLatency (memif_gen timestamps, TSC at transmission to TSC at reception, microseconds; load = share of\n"
          "the zero-loss rate)\n\n")
        w("%-9s %-5s %5s %9s %8s %8s %8s %8s %8s %9s %8s\n" % ("scenario", "size", "load", "Mpps", "min", "p50",
                                                             "p99", "p99.9", "max", "samples", "loss"))
        for r in mem:
            for t in sorted(r["latency"], key=lambda t: t["load_pct"]):
                lat = t["latency_ns"]
                if not lat.get("samples") and r["pcap"].get("stamped_frames") == 0:
                    w("%-9s %-5s %4d%% %9s %44s %9d %8d\n" % (
                        r["scenario"], r["size"], t["load_pct"], B.fmt(t["offered_pps"] / 1e6, 3),
                        "no room for a timestamp in these frames", 0, t["loss"]))
                    continue
                w("%-9s %-5s %4d%% %9s %8s %8s %8s %8s %8s %9d %8d\n" % (
                    r["scenario"], r["size"], t["load_pct"], B.fmt(t["offered_pps"] / 1e6, 3), fmt_us(lat.get("min")),
                    fmt_us(lat.get("p50")), fmt_us(lat.get("p99")), fmt_us(lat.get("p99.9")), fmt_us(lat.get("max")),
                    lat.get("samples", 0), t["loss"]))
        for r in mem:
            for x in r["warnings"][1:]:
                w("  %s %s: %s\n" % (r["scenario"], r["size"], x))
    if tpm:
        w("\ntestpmd flowgen over one memif (%s; unpaced: saturation only). Window rates; the run columns count\n"
          "from start to stop: offered = what testpmd tried to send, refused = not taken by the full ring.\n\n"
          % LABEL)
        w("%-5s %10s %10s %10s %6s %6s %9s %9s %6s\n" % ("size", "tx Mpps", "npsd fwd", "rx Mpps", "proc", "wcpu%",
                                                        "offered", "refused%", "acct"))
        for r in tpm:
            win, run = r["window"], r["run"]
            sh_ = win.get("worker_on_cpu_share")
            w("%-5s %10s %10s %10s %6s %6s %9d %9s %6s\n" % (
                r["size"], B.fmt(win["testpmd_tx_pps"] / 1e6, 3), B.fmt(win["npsd_forwarded_pps"] / 1e6, 3),
                B.fmt(win["testpmd_rx_pps"] / 1e6, 3), B.fmt(win["cpp_processing"], 0),
                B.fmt(100 * sh_, 0) if sh_ is not None else "-", run["offered"],
                B.fmt(100.0 * run["refused"] / max(run["offered"], 1), 1),
                "exact" if run["accounting"] == "exact" else "NO"))


def markdown(results, w):
    mem = [r for r in results if r.get("generator") == "memif_gen"]
    tpm = [r for r in results if r.get("generator") == "testpmd"]
    if mem:
        w("\nTwo-process mode, memif_gen (%s):\n\n" % LABEL)
        w("| scenario | size | zero-loss Mpps | Gbps | saturation offered / received Mpps | proc cycles/pkt | "
          "latency p50 / p99 / p99.9 us at 50% | at 100% |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
        for r in mem:
            def lat_at(p):
                t = next((t for t in r["latency"] if t["load_pct"] == p), None)
                if not t or not t["latency_ns"].get("samples"):
                    return "–"
                L = t["latency_ns"]
                return "%s / %s / %s" % (fmt_us(L["p50"]), fmt_us(L["p99"]), fmt_us(L["p99.9"]))
            s = r["saturation"]
            w("| %s | %s | %s | %s | %s / %s | %s | %s | %s |\n" % (
                r["scenario"], r["size"], B.fmt(r["zero_loss_mpps"], 3), B.fmt(r["zero_loss_gbps"]),
                B.fmt(s["offered_pps"] / 1e6), B.fmt(s["received_pps"] / 1e6, 3), B.fmt(r["cpp_processing"], 0),
                lat_at(50), lat_at(100)))
    if tpm:
        w("\ntestpmd flowgen, one memif (%s):\n\n| size | testpmd tx Mpps | npsd forwarded Mpps | refused %% | "
          "accounting |\n|---|---:|---:|---:|---|\n" % LABEL)
        for r in tpm:
            w("| %s | %s | %s | %s | %s |\n" % (
                r["size"], B.fmt(r["window"]["testpmd_tx_pps"] / 1e6, 3),
                B.fmt(r["window"]["npsd_forwarded_pps"] / 1e6, 3),
                B.fmt(100.0 * r["run"]["refused"] / max(r["run"]["offered"], 1), 1),
                "exact" if r["run"]["accounting"] == "exact" else "; ".join(r["run"]["accounting"])))
