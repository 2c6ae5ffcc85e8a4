#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate a random route table for the benchmarks (npsd route_file format, optionally also l3fwd's format).

Prefixes are random, distinct, and their lengths follow a distribution shaped like a real Internet table:
IPv4 /8../32 with most routes /24 (then /22, /23, /21, /20...), IPv6 /16../128 with most routes /48 and /32.
Where a length has less address space than its share asks for (there are only ~220 usable /8s), the surplus goes
to the most common length. Every route goes via one gateway.

IPv4 prefixes avoid 0/8, 10/8 (the benchmark's interface subnets), 127/8 and 224/3. IPv6 prefixes cluster as in
a real table: allocations (/19../32) inside a few registry blocks of 2000::/3, longer prefixes inside a random
allocation. The same seed gives the same table.

  gen_routes.py --family 4 --count 1000000 --via 10.1.0.2 --out routes.txt [--vrf main] [--seed 1]
"""
import argparse
import ipaddress
import random
import sys

# Share of each prefix length (percent; normalised). Shaped after public BGP table statistics.
V4_WEIGHTS = {
    8: 0.02, 9: 0.02, 10: 0.04, 11: 0.08, 12: 0.15, 13: 0.3, 14: 0.5, 15: 0.8, 16: 1.3, 17: 0.8, 18: 1.3,
    19: 2.5, 20: 3.5, 21: 4.0, 22: 9.0, 23: 8.0, 24: 59.0,
    25: 0.4, 26: 0.4, 27: 0.3, 28: 0.3, 29: 0.5, 30: 0.5, 31: 0.1, 32: 1.5,
}
V4_MAIN = 24
V6_WEIGHTS = {
    16: 0.01, 19: 0.02, 20: 0.05, 22: 0.05, 24: 0.2, 28: 1.0, 29: 3.0, 30: 0.5, 32: 12.0, 33: 0.8, 34: 0.8,
    35: 0.5, 36: 3.0, 40: 5.0, 42: 1.0, 44: 6.0, 45: 0.5, 46: 2.0, 47: 2.0, 48: 50.0, 52: 0.5, 56: 3.0,
    60: 0.3, 64: 5.0, 96: 0.3, 112: 0.2, 124: 0.1, 127: 0.1, 128: 2.0,
}
V6_MAIN = 48

V4_FIRST_OCTETS = [o for o in range(1, 224) if o not in (10, 127)]


def v4_prefixes(count, rng):
    """Yield (network int, length) distinct IPv4 prefixes."""
    total_w = sum(V4_WEIGHTS.values())
    want = {ln: int(round(count * w / total_w)) for ln, w in V4_WEIGHTS.items()}
    # Cap each length at a quarter of its space (random picks slow down past that), surplus to /24.
    usable = len(V4_FIRST_OCTETS) / 256.0
    for ln in want:
        cap = int((2 ** ln) * usable / 4)
        if want[ln] > cap:
            want[V4_MAIN] += want[ln] - cap
            want[ln] = cap
    want[V4_MAIN] += count - sum(want.values())
    seen = set()
    for ln, n in sorted(want.items()):
        mask = (0xFFFFFFFF << (32 - ln)) & 0xFFFFFFFF
        got = 0
        while got < n:
            ip = (rng.choice(V4_FIRST_OCTETS) << 24) | rng.getrandbits(24)
            net = ip & mask
            if (net, ln) in seen:
                continue
            seen.add((net, ln))
            got += 1
            yield net, ln


# IPv6 space is handed out by the registries from a few large blocks, operators announce their allocation
# (mostly /32../28) and more specifics inside it (mostly /48): routes cluster, and a uniformly random table would
# share almost no trie nodes, which no real table looks like.
V6_BLOCKS = ["2001::/16", "2400::/12", "2600::/12", "2800::/12", "2a00::/12", "2a10::/12", "2c00::/12"]
V6_ALLOC_MAX = 32  # lengths up to this are allocations; longer ones are more specifics of an allocation


def v6_prefixes(count, rng):
    total_w = sum(V6_WEIGHTS.values())
    want = {ln: int(round(count * w / total_w)) for ln, w in V6_WEIGHTS.items()}
    blocks = [ipaddress.ip_network(b) for b in V6_BLOCKS]
    for ln in want:
        cap = int(sum(2 ** max(0, ln - b.prefixlen) for b in blocks) / 4)
        if want[ln] > cap:
            want[V6_MAIN] += want[ln] - cap
            want[ln] = cap
    want[V6_MAIN] += count - sum(want.values())
    seen = set()
    full = (1 << 128) - 1
    allocs = []  # (net, length) of the allocations, parents of the more specifics
    for ln, n in sorted(want.items()):
        mask = (full << (128 - ln)) & full
        got = 0
        while got < n:
            if ln <= V6_ALLOC_MAX or not allocs:
                b = blocks[rng.randrange(len(blocks))]
                if ln < b.prefixlen:
                    b = ipaddress.ip_network("2000::/3")
                base, free = int(b.network_address), 128 - b.prefixlen
            else:
                base, plen = allocs[rng.randrange(len(allocs))]
                free = 128 - plen
            net = (base | rng.getrandbits(free)) & mask
            if (net, ln) in seen:
                continue
            seen.add((net, ln))
            if ln <= V6_ALLOC_MAX and ln >= 19:
                allocs.append((net, ln))
            got += 1
            yield net, ln


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", type=int, choices=(4, 6), required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--via", required=True, help="gateway of every route")
    ap.add_argument("--vrf", default="main")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="npsd route_file")
    ap.add_argument("--l3fwd-out", help="also write the table in l3fwd's --rule_ipv4/6 format")
    ap.add_argument("--l3fwd-port", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed * 1000003 + a.family)
    gen = v4_prefixes if a.family == 4 else v6_prefixes
    to_str = (lambda n: str(ipaddress.IPv4Address(n))) if a.family == 4 else (
        lambda n: str(ipaddress.IPv6Address(n)))
    prefixes = list(gen(a.count, rng))
    rng.shuffle(prefixes)  # a real table does not arrive sorted by length
    with open(a.out, "w") as f:
        f.write("# generated by bench/gen_routes.py --family %d --count %d --seed %d\n" % (a.family, a.count, a.seed))
        for net, ln in prefixes:
            f.write("%s %s/%d via %s\n" % (a.vrf, to_str(net), ln, a.via))
    if a.l3fwd_out:
        with open(a.l3fwd_out, "w") as f:
            for net, ln in prefixes:
                f.write("R%s/%d %d\n" % (to_str(net), ln, a.l3fwd_port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
