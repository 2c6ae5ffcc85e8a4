#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate a firewall rule set for the benchmarks: one VRF's rules in the format of an entry of
firewall.rulesets (also what `npsctl fw ruleset replace FILE` reads): `vrf = ...; default = ...; rules = (...);`.

The benchmark traffic (bench/gen_traffic.py) is UDP from --match-src to --match-dst with ports 1024..65535. One
rule allows it (stateful: --match-action allow), placed at --match-at (default: near the end, so that a first-match
classifier walks almost the whole list, and rte_acl's tries hold every rule). Every other rule is random-ish, like
a real tenant policy (mostly deny, some allow, TCP and UDP with single ports and ranges, some ICMP, some IPv6), and
is drawn so that it can never match the benchmark traffic, yet shares fields with it where a classifier must look
further to tell them apart:
  - 40 % destination outside --match-dst (any protocol);
  - 20 % UDP to a sub-prefix of --match-dst but destination ports below 1024;
  - 20 % from a sub-prefix of --match-src to a sub-prefix of --match-dst, but TCP or ICMP;
  - 15 % UDP to a sub-prefix of --match-dst from a source outside --match-src;
  -  5 % IPv6.
The generator checks each rule against the traffic's space (protocol, both prefixes, both port ranges) and redraws
any that overlaps it, so every benchmark packet reaches the one matching rule. The same seed gives the same rules.

  gen_rules.py --count 10000 --vrf main --out rules.conf [--match-at N] [--seed 1]
"""
import argparse
import ipaddress
import random
import sys

TRAFFIC_PORTS = (1024, 65535)  # gen_traffic.py: ports random in 1024..65535
PORTS = [22, 25, 53, 80, 110, 123, 143, 161, 179, 389, 443, 445, 465, 514, 587, 636, 993, 995, 1194, 1433, 1521,
         1723, 2049, 3306, 3389, 5060, 5432, 5900, 6379, 8080, 8443, 9000, 9092, 11211, 27017]


def rand_subprefix(rng, net, lo, hi):
    """A random prefix of length lo..hi (clamped to net's length..32) inside net."""
    plen = rng.randint(max(lo, net.prefixlen), max(hi, net.prefixlen))
    host_bits = 32 - net.prefixlen
    addr = int(net.network_address) | (rng.getrandbits(host_bits) if host_bits else 0)
    return ipaddress.ip_network((addr, plen), strict=False)


def rand_outside(rng, avoid, lo=8, hi=32):
    """A random IPv4 prefix of length lo..hi, not overlapping any prefix of avoid, in unicast space."""
    while True:
        plen = rng.choice([8, 12, 16, 16, 20, 22, 24, 24, 24, 24, 28, 32])
        plen = min(max(plen, lo), hi)
        first = rng.randint(1, 223)
        if first in (10, 127):
            continue
        addr = (first << 24) | rng.getrandbits(24)
        n = ipaddress.ip_network((addr, plen), strict=False)
        if not any(n.overlaps(a) for a in avoid):
            return n


def rand_ports(rng, below=None):
    """A destination port spec: a well-known port, or a range; below: everything under this port."""
    if below is not None:
        if rng.random() < 0.6:
            return [rng.choice([p for p in PORTS if p < below])]
        lo = rng.randint(1, below - 2)
        return [(lo, rng.randint(lo + 1, below - 1))]
    r = rng.random()
    if r < 0.6:
        return [rng.choice(PORTS)]
    if r < 0.8:
        return rng.sample(PORTS, rng.randint(2, 4))
    lo = rng.randint(1, 60000)
    return [(lo, min(65535, lo + rng.choice([9, 99, 999, 4999])))]


def ports_overlap(spec, rng_):
    if not spec:
        return True
    lo, hi = rng_
    for p in spec:
        a, b = p if isinstance(p, tuple) else (p, p)
        if a <= hi and b >= lo:
            return True
    return False


def may_match(rule, match_src, match_dst):
    """Can this rule match a packet of the benchmark traffic (UDP, match_src -> match_dst, ports 1024..65535)?"""
    if rule.get("family") == 6:
        return False
    if rule.get("proto") not in (None, "udp"):
        return False
    if rule.get("src") and not any(ipaddress.ip_network(p).overlaps(match_src) for p in rule["src"]):
        return False
    if rule.get("dst") and not any(ipaddress.ip_network(p).overlaps(match_dst) for p in rule["dst"]):
        return False
    return ports_overlap(rule.get("sport"), TRAFFIC_PORTS) and ports_overlap(rule.get("dport"), TRAFFIC_PORTS)


def random_rule(rng, match_src, match_dst):
    r = {"action": "deny" if rng.random() < 0.85 else "allow"}
    k = rng.random()
    if k < 0.40:  # elsewhere
        r["proto"] = rng.choice(["tcp", "tcp", "udp", "udp", "icmp", None])
        r["dst"] = [str(rand_outside(rng, [match_dst], 12, 32)) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        if rng.random() < 0.5:
            r["src"] = [str(rand_outside(rng, [], 8, 24))]
        if r["proto"] in ("tcp", "udp"):
            r["dport"] = rand_ports(rng)
    elif k < 0.60:  # to our destinations, UDP, but well-known ports only
        r["proto"] = "udp"
        r["dst"] = [str(rand_subprefix(rng, match_dst, 8, 28))]
        r["dport"] = rand_ports(rng, below=TRAFFIC_PORTS[0])
    elif k < 0.80:  # our sources and destinations, another protocol
        r["proto"] = rng.choice(["tcp", "tcp", "icmp"])
        r["src"] = [str(rand_subprefix(rng, match_src, 16, 28))]
        r["dst"] = [str(rand_subprefix(rng, match_dst, 8, 24))]
        if r["proto"] == "tcp":
            r["dport"] = rand_ports(rng)
    elif k < 0.95:  # UDP to our destinations from other sources
        r["proto"] = "udp"
        r["src"] = [str(rand_outside(rng, [match_src], 8, 24)) for _ in range(rng.choice([1, 1, 2]))]
        r["dst"] = [str(rand_subprefix(rng, match_dst, 8, 24))]
        if rng.random() < 0.5:
            r["dport"] = rand_ports(rng)
    else:  # IPv6
        r["family"] = 6
        r["proto"] = rng.choice(["tcp", "udp", "icmpv6"])
        a = (0x2001 << 112) | (rng.getrandbits(32) << 80)
        r["dst"] = [str(ipaddress.ip_network((a, rng.choice([32, 48, 56, 64])), strict=False))]
        if r["proto"] != "icmpv6":
            r["dport"] = rand_ports(rng)
    return r


def fmt_ports(spec):
    return "( %s )" % ", ".join('"%d-%d"' % p if isinstance(p, tuple) else str(p) for p in spec)


def fmt_rule(i, r):
    f = ['name = "%s"' % r.get("name", "r%d" % i), 'action = "%s"' % r["action"]]
    if r.get("proto"):
        f.append('proto = "%s"' % r["proto"])
    for k in ("src", "dst"):
        if r.get(k):
            f.append('%s = [ %s ]' % (k, ", ".join('"%s"' % p for p in r[k])))
    for k in ("sport", "dport"):
        if r.get(k):
            f.append("%s = %s" % (k, fmt_ports(r[k])))
    return "  { %s; }" % "; ".join(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, required=True, help="rules in the set (the matching one included)")
    ap.add_argument("--vrf", default="main")
    ap.add_argument("--default", default="deny", choices=("deny", "reject", "allow", "pass"))
    ap.add_argument("--match-src", default="198.18.0.0/15", help="sources of the benchmark traffic")
    ap.add_argument("--match-dst", default="16.0.0.0/4", help="destinations of the benchmark traffic")
    ap.add_argument("--match-action", default="allow", choices=("allow", "pass"))
    ap.add_argument("--match-at", type=int, help="1-based position of the matching rule (default: count - count "
                                                 "// 1000, near the end)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.count < 1:
        raise SystemExit("--count must be >= 1")
    at = a.match_at if a.match_at is not None else a.count - a.count // 1000
    if not 1 <= at <= a.count:
        raise SystemExit("--match-at must be 1..--count")
    msrc, mdst = ipaddress.ip_network(a.match_src), ipaddress.ip_network(a.match_dst)
    rng = random.Random(a.seed * 104729 + a.count)
    rules = []
    for i in range(1, a.count + 1):
        if i == at:
            rules.append({"name": "bench-flows", "action": a.match_action, "proto": "udp", "src": [str(msrc)],
                          "dst": [str(mdst)]})
            continue
        while True:
            r = random_rule(rng, msrc, mdst)
            if not may_match(r, msrc, mdst):
                break
        rules.append(r)
    with open(a.out, "w") as f:
        f.write("# generated by bench/gen_rules.py --count %d --seed %d: %d rules, the benchmark traffic (UDP %s -> %s)"
                " matches rule %d only\n" % (a.count, a.seed, a.count, msrc, mdst, at))
        f.write('vrf = "%s";\ndefault = "%s";\nrules = (\n' % (a.vrf, a.default))
        f.write(",\n".join(fmt_rule(i + 1, r) for i, r in enumerate(rules)))
        f.write("\n);\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
