#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Dry run of the IPsec pcap cases without a daemon: each case builds its configuration and input frames (the scapy
peer encrypts), and the run stops where npsd would start. Catches errors in the case generators themselves; with
--check-config NPSD, also has npsd --check-config validate every configuration written.

  dryrun.py [--check-config NPSD] [NAME-PREFIX...]
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "test", "pcap"))
os.environ["NPSGW_PCAP_CASES_DIR"] = HERE
import harness  # noqa: E402


class Stop(Exception):
    pass


def main(argv):
    npsd = None
    if len(argv) > 2 and argv[1] == "--check-config":
        npsd = os.path.abspath(argv[2])
        argv = argv[2:]
    prefixes = argv[1:]
    harness.load_cases()
    root = tempfile.mkdtemp(prefix="ipsec-dry.")
    written = []

    def fake_start(self, inputs=None, spread=True):
        self.n_input = 0
        conf = os.path.join(self.dir, "npsd.conf")
        with open(conf, "w") as f:
            f.write(self.conf_text())
        frames = inputs.get("p0", []) if inputs else []
        n = sum(len(v) for v in frames.values()) if isinstance(frames, dict) else len(frames)
        written.append((self.case.name, conf, n))
        raise Stop()

    harness.Router.start = fake_start
    bad = 0
    for name, (group, fn, kw) in harness.CASES.items():
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        c = harness.Case(name, kw["workers"], root)
        try:
            fn(c)
            print("??    %s: returned without starting npsd" % name)
        except Stop:
            print("ok    %s (%d frames)" % (name, written[-1][2]))
        except Exception:  # noqa: BLE001
            import traceback
            bad += 1
            print("FAIL  %s\n%s" % (name, traceback.format_exc()))
    if npsd:
        for name, conf, _ in written:
            p = subprocess.run([npsd, "--check-config", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               cwd=os.path.dirname(conf))
            ok = p.returncode == 0
            bad += not ok
            print("%s  config of %s%s" % ("ok  " if ok else "FAIL", name, "" if ok else ":\n" +
                                           p.stdout.decode(errors="replace")))
    print("dry run: %d problem(s); files in %s" % (bad, root))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
