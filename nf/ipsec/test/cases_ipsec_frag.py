# SPDX-License-Identifier: BSD-3-Clause
"""Outer fragments addressed to the gateway (a peer's stack fragments the ESP packet when it does not fit the path
MTU, e.g. on an IPv6 IPoE line): ESP and ESP in UDP, over IPv4 and IPv6, reassembled on the worker that owns their
source (ipsec_frag_owner), then decrypted like any ESP packet; fragments out of order, two datagrams of one peer
interleaved; with two workers, the fragments of one datagram arriving on different rx queues. What reassembly
refuses, each with its own drop: a duplicated first fragment (ipsec_reass_failed, every fragment held), a
datagram larger than a packet buffer (ipsec_reass_too_big), UDP to another port than 4500 (ipsec_reass_not_natt),
an IPv6 header before the fragment header (ipsec_fragment), fragments that never complete (ipsec_reass_timeout),
and every fragment when reassembly_max is 0 (ipsec_fragment).
"""
import struct

from harness import case, ip_fragments
from ipsec_pcap_common import (Tun, Plan, run_plan, ipsec_router, ipsec_section, inner4, inner6, to_tenant,
                               wan_frame)

WORKERS = (1, 2)


def frag_tunnels():
    return [Tun(1, alg="aes-gcm-128"), Tun(2, alg="aes-cbc-128-sha256", v6=True, udp=True),
            Tun(3, alg="aes-gcm-256", udp=True), Tun(4, alg="aes-cbc-256-sha256", v6=True)]


def esp_fragments(t, inner, cuts, ident, order=None, **kw):
    """Tunnel t's peer encrypts inner; its outer packet in fragments (frames from the peer)."""
    return [wan_frame(f, t.mac) for f in ip_fragments(t.peer.encrypt(inner, **kw), cuts, ident, order)]


def held(p, frames):
    """Fragments that wait for the rest of their datagram: absorbed into it when it completes."""
    for f in frames:
        p.absorb(f, {"frag_in": 1})


def completes(p, t, frame, inner):
    """The fragment that completes a datagram: the inner packet goes to the tenant."""
    cnt = {"frag_in": 1, "reassembled": 1, "decrypted": 1}
    if t.udp:
        cnt["udp_encap_rx"] = 1
    p.plain(frame, to_tenant(inner), cnt)


def good_in(p, t, inner):
    cnt = {"decrypted": 1}
    if t.udp:
        cnt["udp_encap_rx"] = 1
    p.plain(t.esp_in(inner), to_tenant(inner), cnt)


def reassembly_plan():
    t1, t2, t3, t4 = tuns = frag_tunnels()
    p = Plan()
    # outer IPv4 ESP in two fragments, in order; a whole packet of the same tunnel after it
    a = inner4(1, 1, 1200, dst_site=False)
    fa = esp_fragments(t1, a, [512], 0x101)
    held(p, fa[:1])
    completes(p, t1, fa[1], a)
    good_in(p, t1, inner4(1, 2, 60, dst_site=False))
    # outer IPv6, ESP in UDP, three fragments, last first
    b = inner6(2, 1, 1100, dst_site=False)
    fb = esp_fragments(t2, b, [400, 800], 0x202, order=[2, 0, 1])
    held(p, fb[:2])
    completes(p, t2, fb[2], b)
    # outer IPv4, ESP in UDP, two fragments in reverse order
    d = inner6(3, 1, 900, dst_site=False)
    fd = esp_fragments(t3, d, [480], 0x303, order=[1, 0])
    held(p, fd[:1])
    completes(p, t3, fd[1], d)
    # two datagrams of one IPv6 peer interleaved (told apart by their identification)
    e1, e2 = inner4(4, 1, 1300, dst_site=False), inner6(4, 2, 1000, dst_site=False)
    fe1 = esp_fragments(t4, e1, [640], 0x404)
    fe2 = esp_fragments(t4, e2, [512], 0x405)
    held(p, [fe1[0], fe2[0]])
    completes(p, t4, fe1[1], e1)
    completes(p, t4, fe2[1], e2)
    good_in(p, t4, inner6(4, 3, 70, dst_site=False))
    return tuns, p


@case("ipsec-reassembly", workers=WORKERS)
def reassembly(c):
    """Fragmented outer packets (IPv4 / IPv6, ESP / ESP in UDP, in and out of order, interleaved) are reassembled and
    decrypted; the fragments are absorbed (n in, one out); every frame on one rx queue."""
    tuns, p = reassembly_plan()
    run_plan(c, ipsec_router(c, tuns), p)


@case("ipsec-reassembly-spread", workers=(2,))
def reassembly_spread(c):
    """Two workers, frames round robin over the rx queues: the fragments of a datagram arrive on different workers
    and meet on the one that owns their source, which reassembles them."""
    tuns, p = reassembly_plan()
    run_plan(c, ipsec_router(c, tuns), p, spread=True)


def with_dest_options(frag6):
    """An IPv6 fragment with a destination options header (PadN only) between the fixed and the fragment header."""
    b = bytearray(frag6)
    opts = bytes([44, 0, 1, 4, 0, 0, 0, 0])
    b[6] = 60
    struct.pack_into("!H", b, 4, struct.unpack("!H", b[4:6])[0] + 8)
    return bytes(b[:40]) + opts + bytes(b[40:])


@case("ipsec-reassembly-refused", workers=WORKERS)
def reassembly_refused(c):
    """What reassembly refuses is dropped with its own reason; the same peers' whole packets still pass."""
    t1, t2, t3, t4 = tuns = frag_tunnels()
    p = Plan()
    # the first fragment twice: the datagram is given up at once, every fragment held so far dropped (fragments
    # sent after that would start a new datagram: the middle one is never sent)
    f = esp_fragments(t1, inner4(1, 1, 900, dst_site=False), [304, 608], 0x111)
    for x in (f[2], f[0], f[0]):
        p.drop(x, "ipsec_reass_failed", {"frag_in": 1})
    # a datagram larger than a packet buffer (2048 bytes of data room): reassembled, then refused
    big = inner6(2, 1, 2300, dst_site=False)
    f = esp_fragments(t2, big, [800, 1600], 0x222)
    held(p, f[:2])
    p.drop(f[2], "ipsec_reass_too_big", {"frag_in": 1, "reassembled": 1})
    # UDP fragments to another port of the router: reassembled, then not IPsec's
    f = esp_fragments(t3, inner4(3, 1, 700, dst_site=False), [400], 0x333, dport=4501)
    held(p, f[:1])
    p.drop(f[1], "ipsec_reass_not_natt", {"frag_in": 1, "reassembled": 1})
    # IPv6: a header before the fragment header (rte_ip_frag takes the fragment header only right after IPv6)
    f = ip_fragments(t4.peer.encrypt(inner4(4, 1, 700, dst_site=False)), [400], 0x444)
    p.drop(wan_frame(with_dest_options(f[0]), t4.mac), "ipsec_fragment")
    p.drop(wan_frame(with_dest_options(f[1]), t4.mac), "ipsec_fragment")
    for t in tuns:
        good_in(p, t, inner4(t.i, 9, 50, dst_site=False))
    run_plan(c, ipsec_router(c, tuns), p)


@case("ipsec-reassembly-timeout", workers=WORKERS)
def reassembly_timeout(c):
    """reassembly_timeout_ms = 1: a datagram whose other fragments never come is dropped (ipsec_reass_timeout, each
    fragment held) within the house keeping period (10 ms)."""
    t1, t2, t3, t4 = tuns = frag_tunnels()
    p = Plan()
    f = esp_fragments(t1, inner4(1, 1, 900, dst_site=False), [304, 608], 0x121)
    p.drop(f[0], "ipsec_reass_timeout", {"frag_in": 1})
    p.drop(f[2], "ipsec_reass_timeout", {"frag_in": 1})
    f = esp_fragments(t2, inner6(2, 1, 900, dst_site=False), [304], 0x122)
    p.drop(f[1], "ipsec_reass_timeout", {"frag_in": 1})
    for t in tuns:
        good_in(p, t, inner6(t.i, 9, 50, dst_site=False))
    run_plan(c, ipsec_router(c, tuns, section=ipsec_section(tuns, reassembly_timeout_ms=1)), p)


@case("ipsec-reassembly-off", workers=WORKERS)
def reassembly_off(c):
    """reassembly_max = 0: outer fragments are dropped as ipsec_fragment (as the documentation says)."""
    t1, t2, t3, t4 = tuns = frag_tunnels()
    p = Plan()
    for t, ident in ((t1, 0x131), (t2, 0x132)):
        for f in esp_fragments(t, inner4(t.i, 1, 700, dst_site=False), [400], ident):
            p.drop(f, "ipsec_fragment")
    for t in tuns:
        good_in(p, t, inner4(t.i, 9, 50, dst_site=False))
    run_plan(c, ipsec_router(c, tuns, section=ipsec_section(tuns, reassembly_max=0)), p)
