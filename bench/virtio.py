#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""virtio_user / vhost-user scenario: npsd's forwarding rate through the virtio driver
as a KVM guest with vhost-user NICs would run it, without a VM.

dpdk-testpmd owns two vhost-user ports (net_vhost, server sockets) and generates traffic on both in flowgen mode
(UDP flows, 64-byte frames, destinations 10.253.x.x); it also receives and frees what comes back. npsd has two
virtio_user ports on those sockets in one VRF that routes 10.253.0.0/16 out of vb to testpmd's MAC there: every
generated packet crosses npsd once, routed (what enters vb leaves by vb again, as a router does). Reported per window: npsd's transmitted
packets per second on both ports (Mpps), testpmd's received rate, the worker's cycles per packet (graph nodes), and
the drops npsd counted; the median window of --runs.

  bench/virtio.py [--npsd build/npsd] [--seconds 3] [--runs 3] [--queues 1] [--workers 1] [--json FILE]

Needs hugepages (vhost-user shares the guest memory: scripts/hugepages.sh 1024) and root. Exit 0 when every window
forwarded packets, 1 otherwise (the smoke check of `bench/run --smoke` can rely on it).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PREFIX_NPSD, PREFIX_VHOST = "dpl-bench-v", "dpl-bench-vh"
TP_MAC = ["02:00:00:00:0b:00", "02:00:00:00:0b:01"]  # the next hop's MAC on vb (vhost accepts any destination)
# testpmd's flowgen (22.11) sends from 00:01:02:03:04:00 to 00:01:02:03:04:01 whatever --eth-peer says: npsd's two
# virtio_user ports take that MAC (one per port, so both may).
NPSD_MAC = ["00:01:02:03:04:01", "00:01:02:03:04:01"]


class BenchError(Exception):
    pass


def npsd_conf(work, queues, workers):
    lcores = "0-%d" % workers
    mapping = ",".join(["0@0"] + ["%d@1" % (i + 1) for i in range(workers)])
    rx = [[] for _ in range(workers)]
    for port in ("va", "vb"):
        for q in range(queues):
            rx[q % workers].append('"%s:%d"' % (port, q))
    workers_cfg = ", ".join("{ lcore = %d; rx = ( %s ); }" % (i + 1, ", ".join(r)) for i, r in enumerate(rx))
    return """eal: { lcores = "%s"; memory_mb = 1024; hugepages = "yes"; file_prefix = "%s";
       extra_args = [ "--lcores=%s", "--single-file-segments" ]; };
limits: { max_vrfs = 8; };
control: { socket = "%s/npsd.sock"; };
devices = (
  { name = "va"; vdev = "virtio_user0,path=%s/vh0.sock,queues=%d,mac=%s"; rx_queues = %d; },
  { name = "vb"; vdev = "virtio_user1,path=%s/vh1.sock,queues=%d,mac=%s"; rx_queues = %d; }
);
workers = ( %s );
vrfs = ( { name = "a"; id = 1; fib = "compact"; } );
interfaces = (
  { name = "va"; device = "va"; vrf = "a"; addresses = [ "10.90.0.1/24" ]; },
  { name = "vb"; device = "vb"; vrf = "a"; addresses = [ "10.91.0.1/24" ]; }
);
routes = ( { vrf = "a"; prefix = "10.253.0.0/16"; via = "10.91.0.2"; dev = "vb"; } );
neighbours = ( { interface = "vb"; ip = "10.91.0.2"; mac = "%s"; } );
""" % (lcores, PREFIX_NPSD, mapping, work, work, queues, NPSD_MAC[0], queues, work, queues, NPSD_MAC[1], queues,
       workers_cfg, TP_MAC[1])


class Testpmd:
    """dpdk-testpmd in interactive mode, driven through its stdin."""

    def __init__(self, work, queues):
        self.work = work
        self.log = open(os.path.join(work, "testpmd.log"), "w")
        vdevs = []
        for i in range(2):
            vdevs += ["--vdev", "net_vhost%d,iface=%s/vh%d.sock,queues=%d" % (i, work, i, queues)]
        cmd = ["dpdk-testpmd", "--lcores=0@0,1@0", "--file-prefix", PREFIX_VHOST, "-m", "512", "--no-pci"] + vdevs + [
            "--", "-i", "--rxq=%d" % queues, "--txq=%d" % queues, "--nb-cores=1", "--forward-mode=flowgen",
            "--total-num-mbufs=32768"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.w = self.proc.stdin

    def send(self, line):
        self.w.write(line + "\n")
        self.w.flush()

    def wait_sockets(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if all(os.path.exists(os.path.join(self.work, "vh%d.sock" % i)) for i in range(2)):
                return
            if self.proc.poll() is not None:
                raise BenchError("dpdk-testpmd exited: see %s/testpmd.log" % self.work)
            time.sleep(0.1)
        raise BenchError("dpdk-testpmd created no vhost-user socket")

    def stop(self):
        try:
            self.send("stop")
            self.send("quit")
            self.w.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def npsctl(bin_dir, work, *args):
    r = subprocess.run([os.path.join(bin_dir, "npsctl"), "-s", os.path.join(work, "npsd.sock"), "--json"] + list(args),
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise BenchError("npsctl %s: %s" % (" ".join(args), r.stderr.strip() or r.stdout.strip()))
    return json.loads(r.stdout)["data"]


def snapshot(bin_dir, work):
    d = npsctl(bin_dir, work, "show", "stats")
    ports = {p["port"]: p for p in d["ports"]}
    nodes = d.get("nodes", [])
    drops = sum(int(x.get("packets", 0)) for x in npsctl(bin_dir, work, "show", "drops").get("drops", []))
    return {"t": time.time(), "tx": sum(int(p["tx_packets"]) for p in ports.values()),
            "rx": sum(int(p["rx_packets"]) for p in ports.values()),
            "cycles": sum(int(n["cycles"]) for n in nodes), "drops": drops}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--npsd", default=os.path.join(REPO, "build", "npsd"))
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--queues", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    bin_dir = os.path.dirname(os.path.abspath(args.npsd))
    if shutil.which("dpdk-testpmd") is None:
        raise BenchError("dpdk-testpmd missing (apt-get install dpdk)")
    huge = subprocess.run(["bash", os.path.join(REPO, "scripts", "hugepages.sh"), "1024"], capture_output=True,
                          text=True).stdout.strip()
    if huge != "huge":
        raise BenchError("virtio_user needs hugepages (scripts/hugepages.sh 1024 said %s)" % huge)
    work = tempfile.mkdtemp(prefix="npsgw-bench-virtio.")
    tp = npsd = None
    try:
        tp = Testpmd(work, args.queues)
        tp.wait_sockets()
        with open(os.path.join(work, "npsd.conf"), "w") as f:
            f.write(npsd_conf(work, args.queues, args.workers))
        nlog = open(os.path.join(work, "npsd.log"), "w")
        npsd = subprocess.Popen([args.npsd, "-c", os.path.join(work, "npsd.conf")], stdout=nlog,
                                stderr=subprocess.STDOUT)
        end = time.time() + 40
        while True:
            try:
                npsctl(bin_dir, work, "version")
                break
            except (BenchError, json.JSONDecodeError):
                if npsd.poll() is not None or time.time() > end:
                    raise BenchError("npsd did not start: see %s/npsd.log" % work)
                time.sleep(0.2)
        npsctl(bin_dir, work, "graph", "profile", "state", "on")  # its cycles column is made of node cycles
        tp.send("start")
        time.sleep(args.warmup)
        windows = []
        for _ in range(args.runs):
            a = snapshot(bin_dir, work)
            time.sleep(args.seconds)
            b = snapshot(bin_dir, work)
            dt = b["t"] - a["t"]
            tx = b["tx"] - a["tx"]
            windows.append({"seconds": round(dt, 3), "mpps": tx / dt / 1e6, "rx_mpps": (b["rx"] - a["rx"]) / dt / 1e6,
                            "cycles_per_packet": (b["cycles"] - a["cycles"]) / tx if tx else None,
                            "drops": b["drops"] - a["drops"]})
        tp.send("stop")
        drops = sorted(npsctl(bin_dir, work, "show", "drops").get("drops", []), key=lambda x: -int(x.get("packets", 0)))
        top_drops = {x["reason"]: int(x["packets"]) for x in drops[:3] if int(x.get("packets", 0)) > 0}
        med = sorted(windows, key=lambda w: w["mpps"])[len(windows) // 2]
        result = {"scenario": "virtio-user-vhost", "frame": 64, "queues": args.queues, "workers": args.workers,
                  "median": med, "windows": windows, "top_drops": top_drops,
                  "mpps_min": min(w["mpps"] for w in windows), "mpps_max": max(w["mpps"] for w in windows)}
        print("| scenario | queues | workers | npsd Mpps (min-max) | rx Mpps | cycles/pkt (nodes) | drops/window |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        cpp = med["cycles_per_packet"]
        print("| virtio-user-vhost 64B | %d | %d | %.2f (%.2f-%.2f) | %.2f | %s | %d |" % (
            args.queues, args.workers, med["mpps"], result["mpps_min"], result["mpps_max"], med["rx_mpps"],
            "%.0f" % cpp if cpp else "-", med["drops"]))
        if top_drops:
            print("drops by reason (whole run): %s" % ", ".join("%s %d" % kv for kv in top_drops.items()))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        return 0 if all(w["mpps"] > 0 for w in windows) else 1
    finally:
        if npsd is not None and npsd.poll() is None:
            npsd.send_signal(signal.SIGTERM)
            try:
                npsd.wait(10)
            except subprocess.TimeoutExpired:
                npsd.kill()
                npsd.wait()
        if tp is not None:
            tp.stop()
        for prefix in (PREFIX_NPSD, PREFIX_VHOST):  # EAL's runtime directories (hugepage files are npsd's to free)
            shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
        if os.environ.get("NPSGW_BENCH_KEEP"):
            print("kept %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print("bench/virtio.py: %s" % e, file=sys.stderr)
        sys.exit(1)
