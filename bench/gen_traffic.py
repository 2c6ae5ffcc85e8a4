#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate a benchmark traffic pcap: UDP over IPv4 or IPv6, one packet per flow, random destinations.

Frame sizes (--size) are given by the IP packet length, so IPv4, IPv6 and VLAN-tagged traffic are comparable:
  64    IP length 46 (IPv4) or 48 (IPv6, the smallest UDP packet): a 64-byte Ethernet frame on the wire for
        untagged IPv4 (60 bytes captured + 4 bytes FCS), 66 bytes for IPv6
  1500  IP length 1500: 1518-byte frames on the wire (1514 captured)
  imix  "simple IMIX", 7:4:1 of IP lengths 46 (48 for IPv6), 576 and 1500, in a fixed shuffled order
VLAN-tagged traffic (--vlans) has the same IP lengths and 4 more bytes per frame.

Destinations: uniformly random inside --dst PREFIX, or (--routes FILE) a random route of an npsd route file and a
random host inside it, so lookups hit every prefix length of the table in proportion. --destinations N (default:
one per packet) draws N distinct destinations first and spreads the packets evenly over them in random order.
Sources are random in 198.18.0.0/15 (IPv4) or fd00:ff::/32 (IPv6), ports random; every packet is a distinct
5-tuple. Checksums are
valid (IPv4 header, UDP). With --vlans N each packet carries 802.1Q VLAN 1..N, chosen at random.

--reply (the firewall's established-flow scenarios): each flow is two packets, the packet and right after it its
reply (addresses and ports swapped, same length and VLAN), so the file holds 2 x --flows packets. Replaying it, a
stateful firewall sees each flow open (first packet) and become established (the reply) in the first pass; from
the second pass on, every packet belongs to an established session. The reply's destinations are the sources, so
198.18.0.0/15 (fd00:ff::/32) must be routed too.

--sources N (the NAT scenarios): the flows come from N distinct source addresses (drawn in --src, default the
prefixes above), spread evenly (flow i from source i mod N, in the shuffled order): N subscribers of a NAT pool.

--softwire AFTR (the DS-Lite scenarios): every IPv4 packet is carried in an IPv6 header (next header 4, hop limit
64) from its B4 to the AFTR address: the sources (--src, an IPv6 prefix, default fd00:ff::/32; --sources of them)
are the B4s, and the inner IPv4 source is --inner-src (default 192.168.1.2, the same behind every B4, as home
networks are). --size counts the inner packet: a 64-byte inner frame is a 104-byte one on the wire (40 bytes of
IPv6 more).

scapy builds one template per IP length; the per-packet fields are then patched in place (with the checksums
computed here), which is ~50x faster than building 64k packets with scapy (1M packets: ~5 s); a reply is its packet
with the fields swapped (the checksums do not change). The first packets are re-parsed with
scapy and their checksums compared, so a mistake here fails loudly. Writes FILE and FILE.json (packet count,
bytes, mean frame size).

  gen_traffic.py --family 4 --size 64 --dst 16.0.0.0/4 --dst-mac 02:00:00:00:00:01 --out v4-64.pcap
"""
import argparse
import ipaddress
import json
import random
import struct
import sys

from scapy.all import IP, UDP, Dot1Q, Ether, IPv6, Raw, raw  # noqa: E402

SRC_MAC = "02:00:00:00:00:aa"
V4_SRC = ipaddress.ip_network("198.18.0.0/15")
V6_SRC = ipaddress.ip_network("fd00:ff::/32")


def ip_lengths(size, family, n, rng):
    small = 46 if family == 4 else 48
    if size == "64":
        return [small] * n
    if size == "1500":
        return [1500] * n
    if size == "imix":
        pattern = [small] * 7 + [576] * 4 + [1500]
        out = []
        while len(out) < n:
            p = pattern[:]
            rng.shuffle(p)
            out.extend(p)
        return out[:n]
    raise SystemExit("unknown size %r (64, imix, 1500)" % size)


def csum_words(data):
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


class Template:
    """One frame of a given IP length; patch() fills in addresses, ports and checksums."""

    def __init__(self, family, ip_len, vlan, dst_mac, softwire=None):
        l2 = Ether(dst=dst_mac, src=SRC_MAC)
        if vlan:
            l2 = l2 / Dot1Q(vlan=1)
        if softwire is not None:  # IPv4-in-IPv6 (DS-Lite): the outer source (the B4) is patched per packet
            l2 = l2 / IPv6(src="::", dst=softwire, nh=4, hlim=64)
        hdr = 20 if family == 4 else 40
        pay = ip_len - hdr - 8
        payload = (b"npsgw-bench " * (pay // 12 + 1))[:pay]
        l3 = IP(src="0.0.0.0", dst="0.0.0.0", ttl=64) if family == 4 else IPv6(src="::", dst="::", hlim=64)
        pkt = l2 / l3 / UDP(sport=1, dport=1) / Raw(payload)
        self.buf = bytearray(raw(pkt))
        self.family, self.vlan = family, vlan
        self.outer = (18 if vlan else 14) if softwire is not None else None  # offset of the outer IPv6 header
        self.l3 = (18 if vlan else 14) + (40 if softwire is not None else 0)
        self.l4 = self.l3 + hdr
        self.udp_len = 8 + pay
        self.pay_sum = csum_words(payload)
        if family == 4:
            h = bytearray(self.buf[self.l3:self.l3 + 20])
            h[10:12] = b"\0\0"
            self.hdr_sum = csum_words(bytes(h))  # addresses are zero in the template

    def patch(self, src, dst, sport, dport, vlan, b4=None):
        """b4: the outer IPv6 source of a softwire template (src is then the inner IPv4 source)."""
        b = bytearray(self.buf)
        if self.vlan:
            b[14:16] = struct.pack("!H", vlan & 0xFFF)
        if self.outer is not None:
            b[self.outer + 8:self.outer + 24] = b4.to_bytes(16, "big")
        l3, l4 = self.l3, self.l4
        if self.family == 4:
            sb, db = src.to_bytes(4, "big"), dst.to_bytes(4, "big")
            b[l3 + 12:l3 + 16] = sb
            b[l3 + 16:l3 + 20] = db
            addr_sum = csum_words(sb + db)
            b[l3 + 10:l3 + 12] = struct.pack("!H", (~fold(self.hdr_sum + addr_sum)) & 0xFFFF)
            pseudo = addr_sum + 17 + self.udp_len
        else:
            sb, db = src.to_bytes(16, "big"), dst.to_bytes(16, "big")
            b[l3 + 8:l3 + 24] = sb
            b[l3 + 24:l3 + 40] = db
            pseudo = csum_words(sb + db) + self.udp_len + 17
        b[l4:l4 + 8] = struct.pack("!HHHH", sport, dport, self.udp_len, 0)
        c = (~fold(pseudo + sport + dport + self.udp_len + self.pay_sum)) & 0xFFFF
        b[l4 + 6:l4 + 8] = struct.pack("!H", c or 0xFFFF)
        return bytes(b)

    def reply(self, frame):
        """The reply of a frame made by patch(): addresses and ports swapped. The one's complement sums are
        commutative, so both checksums stay valid as they are."""
        b = bytearray(frame)
        l3, l4 = self.l3, self.l4
        s, d, n = (l3 + 12, l3 + 16, 4) if self.family == 4 else (l3 + 8, l3 + 24, 16)
        b[s:s + n], b[d:d + n] = frame[d:d + n], frame[s:s + n]
        b[l4:l4 + 2], b[l4 + 2:l4 + 4] = frame[l4 + 2:l4 + 4], frame[l4:l4 + 2]
        return bytes(b)


def load_routes(path, family):
    nets = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) < 2 or w[0].startswith("#"):
                continue
            n = ipaddress.ip_network(w[1], strict=False)
            if n.version == family:
                nets.append((int(n.network_address), n.prefixlen))
    if not nets:
        raise SystemExit("%s: no IPv%d routes" % (path, family))
    return nets


def self_check(frames, family, softwire=None, b4s=()):
    """Re-parse some frames with scapy: our checksums must equal the ones scapy computes (softwire: and the outer
    IPv6 header goes from one of the B4s to the AFTR, next header 4, with the right payload length)."""
    for fr in frames:
        p = Ether(fr)
        if softwire is not None:
            o = p[IPv6]
            if (o.nh != 4 or o.dst != str(ipaddress.ip_address(softwire)) or
                    int(ipaddress.ip_address(o.src)) not in b4s or o.plen != len(bytes(o.payload))):
                raise SystemExit("gen_traffic: softwire self-check failed: %s" % o.summary())
        l3 = p[IP] if family == 4 else p[IPv6]
        got = (l3.chksum if family == 4 else None, p[UDP].chksum)
        if family == 4:
            del l3.chksum
        del p[UDP].chksum
        q = Ether(raw(p))
        want = (q[IP].chksum if family == 4 else None, q[UDP].chksum)
        if got != want:
            raise SystemExit("gen_traffic: checksum self-check failed: %r != %r" % (got, want))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", type=int, choices=(4, 6), required=True)
    ap.add_argument("--size", required=True, choices=("64", "imix", "1500"))
    ap.add_argument("--flows", type=int, default=65536, help="packets (= distinct 5-tuples) in the file")
    ap.add_argument("--reply", action="store_true", help="follow each packet by its reply (2 x --flows packets)")
    ap.add_argument("--destinations", type=int, help="distinct destination addresses (default: --flows)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--dst", help="destinations random inside this prefix")
    g.add_argument("--routes", help="destinations inside random routes of this npsd route file")
    ap.add_argument("--vlans", type=int, default=0, help="tag with a random VLAN 1..N (0 = untagged)")
    ap.add_argument("--sources", type=int, help="distinct source addresses (B4s with --softwire), the flows spread "
                    "evenly over them (default: one per flow, at random)")
    ap.add_argument("--src", help="sources inside this prefix (default 198.18.0.0/15, fd00:ff::/32; IPv6 with "
                    "--softwire)")
    ap.add_argument("--softwire", help="carry each IPv4 packet in IPv6 from its source (a B4) to this AFTR address")
    ap.add_argument("--inner-src", default="192.168.1.2", help="--softwire: the inner IPv4 source")
    ap.add_argument("--dst-mac", required=True, help="MAC of the receiving interface")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    rng = random.Random(a.seed * 7919 + a.family)
    bits = 32 if a.family == 4 else 128
    if a.dst:
        n = ipaddress.ip_network(a.dst)
        if n.version != a.family:
            raise SystemExit("--dst %s is not IPv%d" % (a.dst, a.family))
        nets = [(int(n.network_address), n.prefixlen)]
    else:
        nets = load_routes(a.routes, a.family)
    if a.softwire and a.family != 4:
        raise SystemExit("--softwire carries IPv4 (--family 4)")
    src_fam = 6 if a.softwire or a.family == 6 else 4
    src_net = ipaddress.ip_network(a.src) if a.src else (V4_SRC if src_fam == 4 else V6_SRC)
    if src_net.version != src_fam:
        raise SystemExit("--src %s is not IPv%d" % (src_net, src_fam))
    src_base, src_bits = int(src_net.network_address), (32 if src_fam == 4 else 128) - src_net.prefixlen
    inner_src = int(ipaddress.IPv4Address(a.inner_src))
    sources = []  # --sources: the fixed set, flow i takes sources[i % N]
    if a.sources:
        if not 1 <= a.sources <= a.flows or a.sources > (1 << min(src_bits, 62)) // 2:
            raise SystemExit("--sources must be 1..--flows and at most half of --src")
        sset = set()
        while len(sources) < a.sources:
            s = src_base | rng.getrandbits(src_bits)
            if s not in sset:
                sset.add(s)
                sources.append(s)

    ndst = a.destinations or a.flows
    if not 1 <= ndst <= a.flows:
        raise SystemExit("--destinations must be 1..--flows")
    dsts, dset = [], set()
    for _ in range(100 * ndst):
        if len(dsts) == ndst:
            break
        net, plen = nets[rng.randrange(len(nets))]
        host_bits = bits - plen
        dst = net | (rng.getrandbits(host_bits) if host_bits else 0)
        if dst not in dset:
            dset.add(dst)
            dsts.append(dst)
    if len(dsts) < ndst:
        raise SystemExit("gen_traffic: cannot draw %d distinct destinations from the given space" % ndst)
    order = [dsts[i % ndst] for i in range(a.flows)]
    rng.shuffle(order)

    lengths = ip_lengths(a.size, a.family, a.flows, rng)
    templates = {}
    frames, seen = [], set()
    for i, (ln, dst) in enumerate(zip(lengths, order)):
        while True:
            src = sources[i % len(sources)] if sources else src_base | rng.getrandbits(src_bits)
            sport, dport = rng.randrange(1024, 65536), rng.randrange(1024, 65536)
            key = (src, dst, sport, dport)
            if key not in seen and not (a.reply and (dst, src, dport, sport) in seen):
                seen.add(key)
                break
        vlan = rng.randrange(1, a.vlans + 1) if a.vlans else 0
        t = templates.get(ln)
        if t is None:
            t = templates[ln] = Template(a.family, ln, a.vlans > 0, a.dst_mac, a.softwire)
        if a.softwire:
            fr = t.patch(inner_src, dst, sport, dport, vlan, b4=src)
        else:
            fr = t.patch(src, dst, sport, dport, vlan)
        frames.append(fr)
        if a.reply:
            frames.append(t.reply(fr))
    self_check(frames[:48], a.family, a.softwire, set(sources) if a.softwire and sources else
               range(src_base, src_base + (1 << src_bits)))
    write_pcap(a.out, frames)
    total = sum(len(f) for f in frames)
    meta = {
        "family": a.family, "size": a.size, "packets": len(frames), "flows": len(seen),
        "distinct_destinations": len({k[1] for k in seen}), "vlans": a.vlans, "bytes": total,
        "mean_frame_bytes": total / len(frames), "dst": a.dst, "routes": a.routes, "seed": a.seed,
        "reply": a.reply, "sources": len({k[0] for k in seen}), "softwire": a.softwire,
    }
    with open(a.out + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
