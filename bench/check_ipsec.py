#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check that a gateway really does the IPsec of a bench scenario, before trusting its figures: run npsd or
ipsec-secgw with the scenario's configuration over ONE pass of the scenario's pcap (net_pcap without infinite_rx)
and its output port writing a pcap (net_pcap tx_pcap instead of net_null), then check every output packet:

  outbound (plain in, ESP out): each output frame is ESP from 192.0.2.1 to the right peer with that tunnel's
    outbound SPI, sequence numbers 1, 2, 3... per SA; it decrypts (own decryption with the `cryptography`
    primitives for every packet, scapy's SecurityAssociation for the first 32: an independent implementation) to
    the input packet of the same 5-tuple, unchanged but for TTL and header checksum;
  inbound (ESP in, plain out): each output frame is the inner packet of the input ESP packet with the same inner
    5-tuple, unchanged but for TTL and header checksum;
  and every input packet came out exactly once. The TTL is reported: npsd decrements it, ipsec-secgw does not.

  check_ipsec.py --app npsd --npsd build/npsd --npsctl build/npsctl --scenario ipsec-out-gcm-1k --size 64
  check_ipsec.py --app secgw --secgw build/bench/ipsec-secgw --scenario ipsec-in-cbc-1 --size imix

Exit status 0 when every check passed. Runs on CPU 1 like the bench, a few seconds, no hugepages.
"""
import argparse
import hmac
import ipaddress
import os
import signal
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import bench  # noqa: E402
import gen_traffic  # noqa: E402
import ipsec_cfg  # noqa: E402


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return frames
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            frames.append(f.read(incl))
    return frames


def five_tuple(ip):
    """(src, dst, proto, sport, dport) of an IPv4 packet (bytes from the IP header)."""
    ihl = (ip[0] & 15) * 4
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    return ip[12:16], ip[16:20], ip[9], sport, dport


def same_but_ttl(a, b):
    """a and b are the same IPv4 packet but for TTL and header checksum (b's checksum must be valid); returns the
    TTL difference a - b, or None."""
    if len(a) != len(b) or a[:8] != b[:8] or a[9:10] != b[9:10] or a[12:] != b[12:]:
        return None
    if gen_traffic.fold(gen_traffic.csum_words(b[:20])) != 0xFFFF:
        return None
    return a[8] - b[8]


class Decryptor:
    def __init__(self, alg, n):
        self.alg = alg
        self.by_spi = {}
        for t in ipsec_cfg.tunnels(alg, n):
            self.by_spi[t["out_spi"]] = t

    def decrypt(self, esp):
        """(tunnel, seq, inner IP bytes) of an ESP payload made with a tunnel's outbound SA; raises ValueError."""
        spi, seq = struct.unpack("!II", esp[:8])
        t = self.by_spi.get(spi)
        if t is None:
            raise ValueError("unknown SPI 0x%x" % spi)
        key, auth = t["out_key"], t["out_auth"]
        if self.alg == "gcm":
            iv, body = esp[8:16], esp[16:]
            plain = AESGCM(key[:-4]).decrypt(key[-4:] + iv, body, esp[:8])
        else:
            iv, ct, icv = esp[8:24], esp[24:-16], esp[-16:]
            if not hmac.compare_digest(hmac.new(auth, esp[:-16], "sha256").digest()[:16], icv):
                raise ValueError("ICV mismatch (SPI 0x%x seq %d)" % (spi, seq))
            d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
            plain = d.update(ct) + d.finalize()
        pad, nh = plain[-2], plain[-1]
        if nh != 4:
            raise ValueError("next header %d, expected 4 (IPv4)" % nh)
        if plain[-2 - pad:-2] != bytes(range(1, pad + 1)):
            raise ValueError("bad padding")
        return t, seq, plain[:-2 - pad]


def scapy_decrypt(t, alg, outer):
    from scapy.all import IP, raw  # noqa: E402 (slow import: only here)
    from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
    crypt, auth = ipsec_cfg.ALGS[alg]["scapy"]
    sa = SecurityAssociation(ESP, spi=t["out_spi"], crypt_algo=crypt, crypt_key=t["out_key"], auth_algo=auth,
                             auth_key=t["out_auth"], tunnel_header=IP(src=ipsec_cfg.LOCAL, dst=t["peer"]))
    return raw(sa.decrypt(IP(outer)))


def check(sc, in_frames, out_frames, report):
    """Returns the list of failures."""
    ip = sc["ipsec"]
    fails = []
    expect = {}  # inner 5-tuple -> inner IP packet as sent
    for fr in in_frames:
        l3 = fr[14:]
        if ip["direction"] == "in":  # the inner packet of the ESP frame: decrypt with the inbound SA
            spi = struct.unpack("!I", l3[20:24])[0]
            i = spi - ipsec_cfg.IN_SPI_BASE
            t = ipsec_cfg.tunnel(ip["alg"], i)
            inner = inbound_plain(ip["alg"], t, l3[20:])
        else:
            inner = l3
        expect[five_tuple(inner)] = inner
    report("input: %d packets, %d distinct inner 5-tuples" % (len(in_frames), len(expect)))
    dec = Decryptor(ip["alg"], ip["tunnels"]) if ip["direction"] == "out" else None
    seqs, ttl_diffs, seen, scapy_done, arp = {}, {}, set(), 0, 0
    for k, fr in enumerate(out_frames):
        if fr[12:14] == b"\x08\x06":  # the gateway's own ARP (npsd announces its addresses at start)
            arp += 1
            continue
        if fr[12:14] != b"\x08\x00":
            fails.append("frame %d: not IPv4 (ethertype %s)" % (k, fr[12:14].hex()))
            continue
        l3 = fr[14:]
        try:
            if dec is not None:
                if l3[9] != 50:
                    raise ValueError("not ESP (protocol %d)" % l3[9])
                t, seq, inner = dec.decrypt(l3[20:])
                if l3[12:16] != ipaddress.IPv4Address(ipsec_cfg.LOCAL).packed or \
                        l3[16:20] != ipaddress.IPv4Address(t["peer"]).packed:
                    raise ValueError("outer %s -> %s, expected %s -> %s" % (
                        ipaddress.IPv4Address(l3[12:16]), ipaddress.IPv4Address(l3[16:20]), ipsec_cfg.LOCAL,
                        t["peer"]))
                if gen_traffic.fold(gen_traffic.csum_words(l3[:20])) != 0xFFFF:
                    raise ValueError("bad outer header checksum")
                last = seqs.get(t["out_spi"], 0)
                if seq != last + 1:
                    raise ValueError("SPI 0x%x: seq %d after %d" % (t["out_spi"], seq, last))
                seqs[t["out_spi"]] = seq
                if scapy_done < 32:
                    if scapy_decrypt(t, ip["alg"], l3[:struct.unpack("!H", l3[2:4])[0]]) != inner:
                        raise ValueError("scapy decrypts it to something else")
                    scapy_done += 1
                if not ipaddress.IPv4Address(inner[16:20]) in ipaddress.IPv4Network(t["site"]):
                    raise ValueError("inner destination %s is not in the tunnel's site %s"
                                     % (ipaddress.IPv4Address(inner[16:20]), t["site"]))
            else:
                inner = l3[:struct.unpack("!H", l3[2:4])[0]]
            key = five_tuple(inner)
            sent = expect.get(key)
            if sent is None:
                raise ValueError("no input packet with this inner 5-tuple")
            if key in seen:
                raise ValueError("inner packet seen twice")
            seen.add(key)
            d = same_but_ttl(sent, inner)
            if d is None:
                raise ValueError("inner packet differs from the input (beyond TTL and checksum)")
            ttl_diffs[d] = ttl_diffs.get(d, 0) + 1
        except ValueError as e:
            fails.append("frame %d: %s" % (k, e))
    report("output: %d packets (%d ARP), %d matched an input packet; TTL decremented by %s; scapy decrypted %d"
           % (len(out_frames), arp, len(seen),
              ", ".join("%d in %d packets" % kv for kv in sorted(ttl_diffs.items())), scapy_done))
    if dec is not None:
        report("outbound SAs used: %d of %d, sequence numbers contiguous from 1" % (len(seqs), ip["tunnels"]))
    missing = len(expect) - len(seen)
    if missing:
        fails.append("%d input packets never came out" % missing)
    return fails


def inbound_plain(alg, t, esp):
    key, auth = t["in_key"], t["in_auth"]
    if alg == "gcm":
        plain = AESGCM(key[:-4]).decrypt(key[-4:] + esp[8:16], esp[16:], esp[:8])
    else:  # the generator's own packets: the ICV must hold
        if hmac.new(auth, esp[:-16], "sha256").digest()[:16] != esp[-16:]:
            raise SystemExit("check_ipsec: the input pcap's ICV does not verify (regenerate it)")
        d = Cipher(algorithms.AES(key), modes.CBC(esp[8:24])).decryptor()
        plain = d.update(esp[24:-16]) + d.finalize()
    return plain[:-2 - plain[-2]]


def run_once(a, sc, pcap, meta, workdir):
    """Run the gateway over one pass of pcap, its output port writing out.pcap; returns the output's path."""
    out = os.path.join(workdir, "out.pcap")
    empty = os.path.join(workdir, "empty.pcap")
    gen_traffic.write_pcap(empty, [])
    prefix = "npscheck%d" % os.getpid()
    out_vdev = "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, out)
    n = meta["packets"]
    if a.app == "npsd":
        sock = os.path.join(workdir, "npsd.sock")
        conf = os.path.join(workdir, "npsd.conf")
        bench.npsd_config(conf, sc, pcap, 1, False, sock, prefix, a.data)
        with open(conf) as f:
            text = f.read()
        text = text.replace(",infinite_rx=1", "").replace("net_null0,no-rx=1", out_vdev)
        with open(conf, "w") as f:
            f.write(text)
        proc = bench.Proc([a.npsd, "-c", conf], os.path.join(workdir, "npsd.log"), prefix)

        def done():
            d = bench.npsd_stats(a.npsctl, sock)
            ports = {p["port"]: p for p in d.get("ports", [])}
            t = (d.get("totals") or [{}])[0]
            return ports["in"]["rx_packets"] >= n and t.get("rx", 0) <= (
                t.get("tx", 0) + t.get("drops", 0) + t.get("punted", 0) + t.get("absorbed", 0)), d
        stop = signal.SIGTERM
    else:
        cfg = os.path.join(workdir, "secgw.cfg")
        with open(cfg, "w") as f:
            f.write(ipsec_cfg.secgw_cfg(sc["ipsec"]["alg"], sc["ipsec"]["tunnels"],
                                        bench.SECGW_SA_TYPE[a.secgw_mode]))
        a.huge = False
        argv = [x.replace(",infinite_rx=1", "").replace("net_null0,no-rx=1", out_vdev)
                for x in bench.secgw_argv(a, sc, pcap, prefix, cfg, n + bench.IPSEC_MBUFS - bench.FLOWS)]
        proc = bench.Proc(argv, os.path.join(workdir, "secgw.log"), prefix, main_is_worker=True)
        tel = bench.Telemetry(prefix)

        def done():
            s = {p: tel.get("/ethdev/stats,%d" % p)["/ethdev/stats"] for p in (0, 1)}
            return s[0]["ipackets"] >= n and s[1]["opackets"] + s[0]["opackets"] >= s[0]["ipackets"] - 64, s
        stop = signal.SIGINT
    try:
        state = {}

        def ready():
            ok, state["last"] = done()
            return ok
        bench.wait_for(ready, proc, 120, a.app)
        time.sleep(1)  # let the last bursts leave (tx buffers drained by timers)
        final = done()[1]
    finally:
        proc.stop(stop)
    return out, final


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--app", choices=("npsd", "secgw"), required=True)
    ap.add_argument("--npsd", default=os.path.join(bench.REPO, "build", "npsd"))
    ap.add_argument("--npsctl")
    ap.add_argument("--secgw", default=os.path.join(bench.REPO, "build", "bench", "ipsec-secgw"))
    ap.add_argument("--secgw-mode", choices=("cpu-crypto", "lookaside"), default="cpu-crypto")
    ap.add_argument("--scenario", required=True, help="an IPsec scenario, e.g. ipsec-out-gcm-1k")
    ap.add_argument("--size", default="64", choices=("64", "imix", "1420"))
    ap.add_argument("--packets", type=int, default=4096, help="packets in the (one-pass) pcap")
    ap.add_argument("--data", default=os.path.join(bench.REPO, "build", "bench", "data"))
    a = ap.parse_args()
    a.npsctl = a.npsctl or os.path.join(os.path.dirname(a.npsd), "npsctl")
    a.data = os.path.abspath(a.data)  # npsd resolves a relative route_file against the config's directory
    sc = bench.scenario(a.scenario)
    if sc is None or not sc["ipsec"]:
        raise SystemExit("not an IPsec scenario: %s" % a.scenario)
    sc = dict(sc, packets=a.packets, destinations=a.packets)
    os.makedirs(a.data, exist_ok=True)
    workdir = os.path.join(a.data, "check-%d" % os.getpid())
    os.makedirs(workdir)
    try:
        os.sched_setaffinity(0, {0})
    except OSError:
        pass
    pcap, meta = bench.traffic(a.data, sc, a.size)

    def report(msg):
        print("check_ipsec: %s" % msg, flush=True)
    report("%s, %s %s, %d packets (%s)" % (a.app, a.scenario, a.size, meta["packets"], sc["doc"]))
    out, counters = run_once(a, sc, pcap, meta, workdir)
    fails = check(sc, read_pcap(pcap), read_pcap(out), report)
    for f in fails[:20]:
        report("FAIL %s" % f)
    if len(fails) > 20:
        report("... %d failures in all" % len(fails))
    if fails:
        if a.app == "npsd":  # the totals, ports and the drops that moved
            counters = {"totals": counters.get("totals"), "ports": counters.get("ports"),
                        "drops": [d for d in counters.get("drops", []) if d.get("packets")],
                        "ipsec": [c for c in counters.get("ipsec", []) if c.get("value")]}
        report("counters at the end: %s" % counters)
        report("FAILED; files in %s" % workdir)
        return 1
    report("passed")
    import shutil
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
