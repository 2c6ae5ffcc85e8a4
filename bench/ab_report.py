# SPDX-License-Identifier: BSD-3-Clause
"""bench/ab's figures: one line per case after each build's turn (--round), and the verdict at the end (--summary):
per build, the median over the rounds of its core cycles per packet, and the median of each round's ratio to the
first build (the builds of a round ran minutes apart at most, so the host's drift mostly cancels in the ratio).
Exit status 1 when a run produced no figures or counted no packets: the smoke check of `make test`."""
import argparse
import glob
import json
import os
import statistics
import sys


def load(run_dir):
    files = sorted(glob.glob(os.path.join(run_dir, "bench-*.json")))
    if not files:
        raise SystemExit("bench/ab: no results in %s" % run_dir)
    with open(files[-1]) as f:
        return json.load(f)


def cases(doc):
    """(scenario, size) -> npsd's result, checked: windows that forwarded packets, cycles per packet measured."""
    out = {}
    for fail in doc.get("failures", []):
        raise SystemExit("bench/ab: a case failed: %s" % json.dumps(fail)[:300])
    for r in doc.get("results", []):
        if r.get("app") != "npsd":
            continue
        wins = r.get("windows", [])
        if not wins or any(w.get("packets", 0) <= 0 or not w.get("cpp_core") for w in wins):
            raise SystemExit("bench/ab: %s %s: a window forwarded nothing" % (r.get("scenario"), r.get("size")))
        out[(r["scenario"], str(r["size"]))] = r
    if not out:
        raise SystemExit("bench/ab: no npsd results")
    return out


def core(r):
    return statistics.median(w["cpp_core"] for w in r["windows"])


def nodes(r):
    """Cycles per forwarded packet of each node that took any, from the profiled warm-up window."""
    prof = r.get("profile_window") or {}
    parts = []
    for name, v in (prof.get("nodes") or {}).items():
        c = v.get("cycles_per_forwarded_packet") or 0
        if c >= 0.5:
            parts.append("%s %.0f" % (name, c))
    return ", ".join(parts)


def report_round(args):
    for (sc, size), r in sorted(cases(load(args.dirs[0])).items()):
        wins = [w["cpp_core"] for w in r["windows"]]
        print("round %-3s %-10s %-18s %-5s core %6.1f (%.1f-%.1f)  %s"
              % (args.round, args.name, sc, size, core(r), min(wins), max(wins), nodes(r)))


def report_summary(args):
    out_dir, names = args.dirs[0], args.dirs[1:]
    per = {}  # (scenario, size) -> name -> [core per round]
    for rnd in range(1, args.rounds + 1):
        for name in names:
            for key, r in cases(load(os.path.join(out_dir, "r%d-%s" % (rnd, name)))).items():
                per.setdefault(key, {}).setdefault(name, []).append(core(r))
    base = names[0]
    print()
    print("Core cycles per packet: median over %d round(s) (min-max); ratio to %s: the median of the rounds' "
          "ratios (min-max), below 1 = fewer cycles than %s" % (args.rounds, base, base))
    print()
    print("%-18s %-5s %-12s %20s %22s" % ("scenario", "size", "build", "cycles/pkt", "ratio"))
    for (sc, size), by in sorted(per.items()):
        for name in names:
            vals = by.get(name, [])
            if len(vals) != args.rounds or len(by.get(base, [])) != args.rounds:
                raise SystemExit("bench/ab: %s %s: %s has %d of %d rounds" % (sc, size, name, len(vals), args.rounds))
            ratios = [v / b for v, b in zip(vals, by[base])]
            ratio = "-" if name == base else "%.3f (%.3f-%.3f)" % (statistics.median(ratios), min(ratios), max(ratios))
            print("%-18s %-5s %-12s %8.1f (%5.1f-%5.1f) %22s"
                  % (sc, size, name, statistics.median(vals), min(vals), max(vals), ratio))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--round")
    ap.add_argument("--name")
    ap.add_argument("--summary", action="store_true")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    if args.summary:
        report_summary(args)
    else:
        report_round(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
