# SPDX-License-Identifier: BSD-3-Clause
"""Anti-replay (RFC 4303 3.4.3, appendix A): duplicates, packets just inside and just outside the window, large
jumps, extended sequence numbers around 2^32 (A2.2 inference of the high half, which the ICV covers), sequence
number 0, the window moved only by packets whose ICV verified, and the underlay loss estimate (numbers that left
the window unseen).

Every frame on the rx queue of the SA's owner worker, one ESP packet per rx burst (barrier frames between them):
ipsec_in checks a whole burst against the window before it decrypts any of it and records the good ones after, so
within one burst the inference and the duplicate check see the window as the burst found it (a duplicate of a
packet of the same burst is caught after its ICV instead: esp_replay if the ICV is good, esp_icv_failed if not).
These cases test the window itself; hand-off order is ipsec-handoff's.
"""
from harness import case
from ipsec_pcap_common import (Tun, Plan, run_plan, ipsec_router, inner4, inner6, to_tenant, spi_owner, tunnel_rows,
                               sa_rows)

WORKERS = (1, 2)


def replay_plan(c, t, seqs, v6_every=3):
    """seqs: [(sequence number (64-bit), "ok" | "replay" | "icv" | ..., kw for the peer's encrypt)]."""
    p = Plan()
    for n, item in enumerate(seqs):
        seq, outcome = item[0], item[1]
        kw = item[2] if len(item) > 2 else {}
        inner = inner6(t.i, n, 20 + n % 7, dst_site=False) if n % v6_every == 2 else \
            inner4(t.i, n, 20 + n % 9, dst_site=False)
        frame = t.esp_in(inner, seq=seq, **kw)
        if n:
            p.barrier()
        if outcome == "ok":
            p.plain(frame, to_tenant(inner), dict(decrypted=1))
        else:
            p.drop(frame, {"replay": "esp_replay", "icv": "esp_icv_failed"}[outcome])
    return p


def loss_bounds(received, top, window):
    """The loss estimate's range after the window's top reached top: numbers 1.. that never arrived and left the
    window for sure (their ring word was recycled: below (top // 64 - n_words + 1) * 64, n_words = window / 64 + 1)
    at least; those left of the window (below top - window + 1) at most."""
    n_words = (window + 63) // 64 + 1
    recycled = (top // 64 - n_words + 1) * 64
    seen = set(received)

    def unseen_below(limit):  # numbers 1 .. limit - 1 not received
        return max(0, limit - 1) - sum(1 for s in seen if 1 <= s < limit)
    return unseen_below(recycled), unseen_below(top - window + 1)


def run_replay(c, t, seqs, check_lost=True):
    p = replay_plan(c, t, seqs)
    ok = [s for s, o, *_ in seqs if o == "ok"]
    window = t.window or 1024
    lo, hi = loss_bounds(ok, max(ok), window)
    n_replay = sum(1 for _, o, *_ in seqs if o == "replay")
    n_icv = sum(1 for _, o, *_ in seqs if o == "icv")

    def after(r):
        rows = tunnel_rows(r)
        row = rows.get(t.name)
        if c.check(row is not None, "no ipsec show tunnels row for %s" % t.name):
            for keys, want in ((("replay_drops", "replayed", "replay"), n_replay),
                               (("integrity_failures", "icv_failed", "auth_failures"), n_icv),
                               (("rx_packets", "rx"), len(ok))):
                k = next((k for k in keys if k in row), None)
                if c.check(k is not None, "%s row lacks %s: %s" % (t.name, "/".join(keys), sorted(row))):
                    c.check(row[k] == want, "%s: %s = %s, expected %d" % (t.name, k, row[k], want))
            if check_lost:
                k = next((k for k in ("lost", "lost_estimate") if k in row), None)
                if c.check(k is not None, "%s row lacks the loss estimate: %s" % (t.name, sorted(row))):
                    c.check(lo <= row[k] <= hi, "%s: lost = %s, expected %d..%d" % (t.name, row[k], lo, hi))
        sas = [x for x in sa_rows(r, t.name) if x.get("spi") in (t.spi_in, "0x%x" % t.spi_in, hex(t.spi_in))]
        c.check(len(sas) == 1, "ipsec show sas %s: %d rows for inbound SPI %#x" % (t.name, len(sas), t.spi_in))
    run_plan(c, ipsec_router(c, [t]), p, after=after, loose={"lost": (lo, hi)} if check_lost else None,
             queue=spi_owner(t.spi_in, c.workers))


@case("ipsec-replay-duplicate", workers=WORKERS)
def duplicate(c):
    """Duplicates (right after, and later) dropped as esp_replay; an out-of-order packet inside the window is
    accepted once."""
    t = Tun(1, window=64)
    run_replay(c, t, [(1, "ok"), (2, "ok"), (3, "ok"), (2, "replay"), (3, "replay"), (5, "ok"), (4, "ok"),
                      (1, "replay"), (5, "replay"), (6, "ok")])


@case("ipsec-replay-window-edge", workers=WORKERS)
def window_edge(c):
    """Window 64: after 200, 137 (= 200 - 64 + 1) is just inside and 136 just outside; after 201, 138 is inside and
    137 (received, and now outside) refused."""
    t = Tun(1, window=64, alg="aes-cbc-256-sha256")
    run_replay(c, t, [(1, "ok"), (200, "ok"), (137, "ok"), (136, "replay"), (200, "replay"), (201, "ok"),
                      (138, "ok"), (137, "replay"), (139, "ok")])


@case("ipsec-replay-large-jump", workers=WORKERS)
def large_jump(c):
    """Window 4096 (the largest): jumps of 10^5 and 10^6 move the window at once; 4095 behind the top is inside,
    4096 behind outside; numbers far behind are refused."""
    t = Tun(1, window=4096, alg="aes-gcm-256")
    top1, top2 = 100000, 1100000
    run_replay(c, t, [(1, "ok"), (2, "ok"), (top1, "ok"), (top1 - 4095, "ok"), (top1 - 4096, "replay"),
                      (3, "replay"), (top2, "ok"), (top1, "replay"), (top2 - 4095, "ok"), (top2 - 4096, "replay"),
                      (top2 + 1, "ok")])


@case("ipsec-replay-seq-zero", workers=WORKERS)
def seq_zero(c):
    """Without ESN sequence number 0 is never valid (RFC 4303 3.3.3: the first packet has 1); 2^32 - 1 is."""
    t = Tun(1, window=64)
    run_replay(c, t, [(0, "replay"), (1, "ok"), (0xFFFFFFFF, "ok"), (0xFFFFFFFE, "ok"), (0, "replay")])


@case("ipsec-esn-wrap", workers=WORKERS)
def esn_wrap(c):
    """ESN (window 64): the high half is inferred from the window (RFC 4303 A2.2) and covered by the ICV: 2^31 and
    2^32 - 16 on seq-hi 0, low 5 after them is 2^32 + 5 (seq-hi 1), 2^32 - 8 (low half behind the top, seq-hi 0
    again) inside the window; low 0 on seq-hi 1 is valid; a packet the peer sealed with seq-hi 2 where the window
    says 1 fails its ICV (and does not move the window); a low half far behind the top's (2^32 - 256 sent on
    seq-hi 0 when the top is 2^32 + 7) is read as seq-hi 1, far ahead, and fails its ICV too."""
    t = Tun(1, window=64, esn=True, alg="aes-cbc-128-sha256")
    H = 1 << 32
    run_replay(c, t, [(1, "ok"), (1 << 31, "ok"), (H - 16, "ok"), (H + 5, "ok"), (H - 8, "ok"), (H - 16, "replay"),
                      (H, "ok"), (2 * H + 7, "icv"), (H + 7, "ok"), (H - 0x100, "icv"), (H + 5, "replay"),
                      (H + 6, "ok")])


@case("ipsec-esn-wrap-gcm", workers=WORKERS)
def esn_wrap_gcm(c):
    """The same inference with AES-GCM (seq-hi in the AAD instead of after the trailer)."""
    t = Tun(1, window=64, esn=True, alg="aes-gcm-128")
    H = 1 << 32
    run_replay(c, t, [(1, "ok"), (1 << 31, "ok"), (H - 3, "ok"), (H + 1, "ok"), (H - 2, "ok"), (2 * H + 2, "icv"),
                      (H + 2, "ok"), (H - 3, "replay")])


@case("ipsec-replay-icv-first", workers=WORKERS)
def icv_first(c):
    """A packet with a wrong ICV and a far-ahead sequence number does not move the window (update only after the
    ICV verified): 10 is still accepted after a forged 100000; a duplicate of a good packet is refused before any
    decryption (esp_replay even though its ICV is also wrong)."""
    t = Tun(1, window=64)
    p = Plan()
    good = [inner4(1, n, 30, dst_site=False) for n in range(4)]
    p.plain(t.esp_in(good[0], seq=1), to_tenant(good[0]), {"decrypted": 1})
    p.barrier()
    p.drop(t.raw_in(t.seal(100000, bytes(good[1]), icv_xor=0x40)), "esp_icv_failed")
    p.barrier()
    p.plain(t.esp_in(good[2], seq=10), to_tenant(good[2]), {"decrypted": 1})
    p.barrier()
    p.drop(t.raw_in(t.seal(10, bytes(good[3]), icv_xor=0x40)), "esp_replay")
    run_plan(c, ipsec_router(c, [t]), p, loose={"lost": (0, 8)}, queue=spi_owner(t.spi_in, c.workers))
