#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate the IPsec benchmark's traffic: plain UDP to the sites (outbound: the gateway encrypts it) or the same
kind of packets already in ESP tunnel mode from the peers (inbound: the gateway decrypts them), over N tunnels.
The tunnels, SPIs and keys are bench/ipsec_cfg.py's, which also writes npsd's and ipsec-secgw's configurations.

Sizes (--size) count the INNER IP packet, as the plain side sees it:
  64    IP length 46: a 64-byte inner Ethernet frame (ESP frames: 114 bytes with GCM, 122 with CBC, without FCS)
  imix  46, 576 and 1420 in the proportion 7:4:1, fixed shuffled order (the simple IMIX, its 1500 replaced by 1420
        so that every packet fits the tunnel MTU without fragmentation)
  1420  IP length 1420 (ESP packet 1476 bytes with GCM, 1484 with CBC: under 1500)

Packets: --packets (default 65,536) distinct UDP 5-tuples, spread evenly over the tunnels in a shuffled order.
Outbound packet to tunnel i: source random in the tenant network, destination random in site i's /24. Inbound:
the reverse (source in site i, destination in the tenant network), encrypted with tunnel i's inbound SA (SPI
IN_SPI_BASE + i), outer IPv4 from peer i to the gateway, sequence numbers 1, 2, 3... per SA in file order.
GCM IVs are the sequence number (unique per key), CBC IVs random. Padding: the minimum that aligns the trailer
(to 4 bytes for GCM, 16 for CBC), bytes 1, 2, 3... (RFC 4303).

The ESP packets are built here with the `cryptography` primitives (scapy's SecurityAssociation takes ~1 ms per
packet); then a sample of them (the first 32 and 64 more across the tunnels) is checked against scapy's
scapy.layers.ipsec.SecurityAssociation, an independent implementation: scapy encrypts the same inner packet with
the same sequence number and IV and must produce the same bytes, and decrypts ours back to the inner packet. A
mismatch fails loudly. Writes FILE and FILE.json (packets, bytes, mean frame sizes: input, plain, ESP).

  gen_esp.py --direction in --alg gcm --tunnels 1000 --size 64 --dst-mac 02:00:00:00:00:01 --out in.pcap
"""
import argparse
import hmac
import ipaddress
import json
import os
import random
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen_traffic  # noqa: E402
import ipsec_cfg  # noqa: E402

PACKETS = 65536
PROTO_ESP = 50
PROTO_IPIP = 4  # ESP next header of an inner IPv4 packet (tunnel mode)


def inner_lengths(size, n, rng):
    if size == "64":
        return [46] * n
    if size == "1420":
        return [1420] * n
    if size == "imix":
        pattern = [46] * 7 + [576] * 4 + [1420]
        out = []
        while len(out) < n:
            p = pattern[:]
            rng.shuffle(p)
            out.extend(p)
        return out[:n]
    raise SystemExit("unknown size %r (64, imix, 1420)" % size)


def esp_frame_len(inner_len, alg):
    """Length of the Ethernet frame (no FCS) carrying an inner IPv4 packet of inner_len bytes in ESP tunnel mode
    over IPv4 with this algorithm: outer header, ESP header, IV, padded payload and trailer, ICV."""
    a = ipsec_cfg.ALGS[alg]
    return 14 + 20 + 8 + a["iv"] + inner_len + 2 + (-(inner_len + 2) % a["block"]) + ipsec_cfg.ICV_LEN


def ipv4_header(src, dst, payload_len, proto):
    """The outer header as scapy's tunnel_header IP(src=, dst=) makes it: id 1, ttl 64, no flags."""
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 1, 0, 64, proto, 0,
                              ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed))
    h[10:12] = struct.pack("!H", (~gen_traffic.fold(gen_traffic.csum_words(bytes(h)))) & 0xFFFF)
    return bytes(h)


class Sa:
    """One ESP SA on the sending side (the peer's outbound = the gateway's inbound SA)."""

    def __init__(self, alg, spi, key, auth_key, rng):
        self.alg, self.spi, self.rng = alg, spi, rng
        a = ipsec_cfg.ALGS[alg]
        self.block, self.iv_len = a["block"], a["iv"]
        if alg == "gcm":
            self.aead, self.salt = AESGCM(key[:-4]), key[-4:]
        else:
            self.key, self.auth_key = key, auth_key
        self.seq = 0

    def encrypt(self, inner):
        """(ESP payload bytes: header, IV, ciphertext, ICV; seq; iv) for one inner IPv4 packet."""
        self.seq += 1
        seq = self.seq
        pad = -(len(inner) + 2) % self.block
        plain = inner + bytes(range(1, pad + 1)) + bytes([pad, PROTO_IPIP])
        hdr = struct.pack("!II", self.spi, seq)
        if self.alg == "gcm":
            iv = struct.pack("!Q", seq)
            ct = self.aead.encrypt(self.salt + iv, plain, hdr)  # ciphertext || 16-byte tag
            return hdr + iv + ct, seq, iv
        iv = bytes(self.rng.getrandbits(8) for _ in range(16))
        enc = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
        ct = enc.update(plain) + enc.finalize()
        icv = hmac.new(self.auth_key, hdr + iv + ct, "sha256").digest()[:ipsec_cfg.ICV_LEN]
        return hdr + iv + ct + icv, seq, iv


def scapy_check(samples, alg, n_tunnels):
    """samples: (tunnel index, inner IP bytes, outer IP bytes, seq, iv). scapy must encrypt the inner packet to the
    same bytes and decrypt ours back to the inner packet."""
    from scapy.all import IP, raw  # noqa: E402 (slow import: only here)
    from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
    crypt, auth = ipsec_cfg.ALGS[alg]["scapy"]
    for i, inner, outer, seq, iv in samples:
        t = ipsec_cfg.tunnel(alg, i)
        sa = SecurityAssociation(ESP, spi=t["in_spi"], crypt_algo=crypt, crypt_key=t["in_key"], auth_algo=auth,
                                 auth_key=t["in_auth"], tunnel_header=IP(src=t["peer"], dst=ipsec_cfg.LOCAL))
        theirs = raw(sa.encrypt(IP(inner), seq_num=seq, iv=iv))
        if theirs != outer:
            raise SystemExit("gen_esp: scapy encrypts tunnel %d seq %d differently:\n ours   %s\n scapy  %s"
                             % (i, seq, outer.hex(), theirs.hex()))
        back = raw(sa.decrypt(IP(outer)))
        if back != inner:
            raise SystemExit("gen_esp: scapy decrypts tunnel %d seq %d to something else" % (i, seq))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--direction", choices=("in", "out"), required=True,
                    help="in: ESP from the peers; out: plain packets to the sites")
    ap.add_argument("--alg", choices=sorted(ipsec_cfg.ALGS), help="inbound: the SAs' algorithm")
    ap.add_argument("--tunnels", type=int, default=1)
    ap.add_argument("--size", required=True, choices=("64", "imix", "1420"))
    ap.add_argument("--packets", type=int, default=PACKETS)
    ap.add_argument("--dst-mac", required=True, help="MAC of the receiving interface")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.direction == "in" and not a.alg:
        raise SystemExit("--direction in needs --alg")
    if not 1 <= a.tunnels <= min(a.packets, 65536):
        raise SystemExit("--tunnels must be 1..min(--packets, 65536)")

    rng = random.Random(a.seed * 7919 + a.tunnels)
    tenant = ipaddress.ip_network(ipsec_cfg.TENANT_NET)
    t_base, t_bits = int(tenant.network_address), 32 - tenant.prefixlen
    lengths = inner_lengths(a.size, a.packets, rng)
    which = [k % a.tunnels for k in range(a.packets)]
    rng.shuffle(which)
    sas = {}
    templates = {}
    frames, seen, samples = [], set(), []
    plain_bytes = esp_bytes = 0
    sample_at = set(range(32)) | set(rng.sample(range(a.packets), min(64, a.packets)))
    src_mac = bytes.fromhex(gen_traffic.SRC_MAC.replace(":", ""))
    dst_mac = bytes.fromhex(a.dst_mac.replace(":", ""))
    for k, (ln, i) in enumerate(zip(lengths, which)):
        site_base = int(ipaddress.IPv4Network(ipsec_cfg.site(i)).network_address)
        while True:
            host = site_base | rng.randrange(1, 255)
            other = t_base | rng.getrandbits(t_bits)
            sport, dport = rng.randrange(1024, 65536), rng.randrange(1024, 65536)
            src, dst = (host, other) if a.direction == "in" else (other, host)
            key = (src, dst, sport, dport)
            if key not in seen:
                seen.add(key)
                break
        t = templates.get(ln)
        if t is None:
            t = templates[ln] = gen_traffic.Template(4, ln, False, a.dst_mac)
        plain = t.patch(src, dst, sport, dport, 0)
        plain_bytes += len(plain)
        if a.direction == "out":
            frames.append(plain)
            continue
        sa = sas.get(i)
        if sa is None:
            tn = ipsec_cfg.tunnel(a.alg, i)
            sa = sas[i] = Sa(a.alg, tn["in_spi"], tn["in_key"], tn["in_auth"], rng)
            sa.peer = tn["peer"]
        inner = plain[14:]
        esp, seq, iv = sa.encrypt(inner)
        outer = ipv4_header(sa.peer, ipsec_cfg.LOCAL, len(esp), PROTO_ESP) + esp
        fr = dst_mac + src_mac + b"\x08\x00" + outer
        frames.append(fr)
        esp_bytes += len(fr)
        assert len(fr) == esp_frame_len(len(inner), a.alg)
        if k in sample_at:
            samples.append((i, inner, outer, seq, iv))
    if samples:
        scapy_check(samples, a.alg, a.tunnels)
    gen_traffic.write_pcap(a.out, frames)
    total = sum(len(f) for f in frames)
    meta = {
        "direction": a.direction, "alg": a.alg, "tunnels": a.tunnels, "size": a.size, "packets": len(frames),
        "flows": len(seen), "bytes": total, "mean_frame_bytes": total / len(frames),
        "mean_plain_frame_bytes": plain_bytes / len(frames),
        "mean_esp_frame_bytes": esp_bytes / len(frames) if esp_bytes else None,
        "mean_esp_frame_bytes_by_alg": {alg: sum(esp_frame_len(n, alg) for n in lengths) / len(lengths)
                                        for alg in sorted(ipsec_cfg.ALGS)},
        "max_sa_seq": max((s.seq for s in sas.values()), default=0), "seed": a.seed,
        "scapy_checked": len(samples),
    }
    with open(a.out + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
