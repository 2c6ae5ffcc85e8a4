# SPDX-License-Identifier: BSD-3-Clause
"""Interoperability with scapy's ESP (scapy.layers.ipsec.SecurityAssociation): packets the scapy peer encrypts are
decrypted and forwarded by npsd in the clear, byte for byte; packets npsd encrypts are decrypted by the peer (scapy,
then a strict check of the trailer: padding 1, 2, 3..., next header 4/41) and carry exactly the packet forwarded.
Every algorithm, outer IPv4 and IPv6, with and without UDP encapsulation (RFC 3948), with and without ESN, inner
IPv4 and IPv6, one and two workers.

Topology and helpers: ipsec_pcap_common.py.
"""
from harness import case
from ipsec_pcap_common import (Tun, Plan, run_plan, ipsec_router, inner4, inner6, from_tenant, to_tenant, fwd_l3,
                               ALGS, spi_owner)

WORKERS = (1, 2)


def interop_tunnels(alg):
    """Eight tunnels: outer v4 / v6 x UDP encapsulation x ESN (one v4 UDP tunnel answers a NAT'ed port 4501)."""
    tuns = []
    i = 1
    for v6 in (False, True):
        for udp in (False, True):
            for esn in (False, True):
                port = 4501 if (udp and not v6 and not esn) else 4500
                tuns.append(Tun(i, alg=alg, v6=v6, udp=udp, esn=esn, remote_port=port, peer_port=port))
                i += 1
    return tuns


def interop_plan(tuns, per_tunnel=2):
    """Each tunnel: per_tunnel IPv4 and IPv6 packets each way, sizes varied so every padding length shows up."""
    p = Plan()
    for t in tuns:
        for n in range(per_tunnel):
            size = 17 + 5 * t.i + 3 * n
            for inner in (inner4(t.i, n, size, dst_site=False), inner6(t.i, n, size + 1, dst_site=False)):
                c = {"decrypted": 1}
                if t.udp:
                    c["udp_encap_rx"] = 1
                p.plain(t.esp_in(inner), to_tenant(inner), c)
            for inner in (inner4(t.i, n, size + 2), inner6(t.i, n, size + 3)):
                c = {"encrypted": 1}
                if t.udp:
                    c["udp_encap_tx"] = 1
                p.esp(from_tenant(inner), t, fwd_l3(inner), c)
    return p


def make_interop(alg):
    def fn(c):
        """scapy-encrypted in -> plain out; plain in -> ESP out that scapy decrypts; 8 tunnels of one algorithm."""
        tuns = interop_tunnels(alg)
        p = interop_plan(tuns)

        def after(r):
            check_tunnel_counters(c, r, tuns, per_dir=4)
        run_plan(c, ipsec_router(c, tuns), p, spread=True, after=after)
    return fn


for _alg in ALGS:
    case("ipsec-interop-" + _alg, workers=WORKERS)(make_interop(_alg))


def check_tunnel_counters(c, r, tuns, per_dir):
    """`ipsec show tunnels`: each tunnel received and sent per_dir packets, no integrity / replay trouble."""
    from ipsec_pcap_common import tunnel_rows
    rows = tunnel_rows(r)
    for t in tuns:
        row = rows.get(t.name)
        if not c.check(row is not None, "ipsec show tunnels has no row for %s (rows: %s)" % (t.name, sorted(rows))):
            continue
        for keys, want in ((("rx_packets", "rx"), per_dir), (("tx_packets", "tx"), per_dir),
                           (("integrity_failures", "icv_failed", "auth_failures"), 0),
                           (("replay_drops", "replayed", "replay"), 0)):
            k = next((k for k in keys if k in row), None)
            if c.check(k is not None, "%s row lacks %s: %s" % (t.name, "/".join(keys), sorted(row))):
                c.check(row[k] == want, "%s: %s = %s, expected %d" % (t.name, k, row[k], want))
        for k in ("key", "auth_key"):
            c.check(k not in row, "ipsec show tunnels prints %s" % k)


@case("ipsec-smoke", workers=WORKERS)
def smoke(c):
    """One AES-GCM-128 tunnel over IPv4: one packet each way."""
    t = Tun(1)
    p = Plan()
    inner = inner4(1, 0, 30, dst_site=False)
    p.plain(t.esp_in(inner), to_tenant(inner), {"decrypted": 1})
    out = inner4(1, 1, 30)
    p.esp(from_tenant(out), t, fwd_l3(out), {"encrypted": 1})
    run_plan(c, ipsec_router(c, [t]), p)


@case("ipsec-handoff", workers=(2,))
def handoff(c):
    """Two workers, every ESP frame on the queue of the worker that does not own its SA (spi % 2): handed to the
    owner in order (the replay window sees 1, 2, 3...), decrypted there."""
    t = Tun(1, alg="aes-cbc-128-sha256", esn=True)
    other = 1 - spi_owner(t.spi_in, 2)
    p = Plan()
    for n in range(6):
        inner = inner4(1, n, 30 + n, dst_site=False)
        p.plain(t.esp_in(inner), to_tenant(inner), {"decrypted": 1, "handoff_out": 1, "handoff_in": 1})
    run_plan(c, ipsec_router(c, [t]), p, queue=other)
