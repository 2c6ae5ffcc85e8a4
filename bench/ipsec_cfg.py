#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The IPsec benchmark's tunnels, SAs and keys, and the configurations built from them: npsd's (interfaces of kind
"ipsec", the "ipsec" section with static SAs) and DPDK ipsec-secgw's (an ep0.cfg-style file of sp, sa and rt rules).
bench/gen_esp.py builds the traffic from the same tunnels and keys, so both gateways and the pcaps always agree.
docs/BENCHMARKS.md, section "IPsec", has the picture. No scapy here: bench/bench.py imports this file.

Tunnel i (0-based) of a scenario with N tunnels:
  peer (outer remote)   PEER_BASE + 1 + i           172.16.0.1, 172.16.0.2, ...
  gateway (outer local) LOCAL                       192.0.2.1, the same for every tunnel
  site network          16.(i >> 8).(i & 255).0/24  the hosts behind the peer (inner addresses)
  tenant network        TENANT_NET                  the hosts behind the gateway, in the tenant VRF
  inbound SA            SPI IN_SPI_BASE + i         peer -> gateway (ESP in the inbound pcaps)
  outbound SA           SPI OUT_SPI_BASE + i        gateway -> peer (made by the gateway from plain traffic)
Keys are derived from (algorithm, SPI): deterministic, different for every SA, and obviously not secret.

As a script: write the ipsec-secgw configuration of a case (the file bench/bench.py writes for each case):
  ipsec_cfg.py --secgw-cfg ep.cfg --alg gcm --tunnels 1000
"""
import argparse
import hashlib
import ipaddress
import sys

LOCAL = "192.0.2.1"  # the gateway's tunnel endpoint (npsd: address of "wan" in the underlay VRF)
LOCAL_NET = "192.0.2.1/24"
UNDERLAY_GW = "192.0.2.2"  # next hop towards the peers, static neighbour on "wan"
PEER_BASE = int(ipaddress.IPv4Address("172.16.0.0"))
PEER_NET = "172.16.0.0/12"
TENANT_NET = "10.128.0.0/9"
LAN_NET = "10.1.0.1/24"  # the gateway's address on the tenant side ("lan")
LAN_GW = "10.1.0.2"  # next hop towards the tenant hosts, static neighbour on "lan"
SITE_NET = "16.0.0.0/8"  # all the sites' /24s (at most 65,536 tunnels)
IN_SPI_BASE = 0x10000
OUT_SPI_BASE = 0x20000
# Tunnel MTU: the largest inner packet whose ESP packet (IPv4 outer) still fits in 1500 bytes with either algorithm
# (CBC: 1438 + 2 = 1440 is a multiple of 16; + 20 outer IP + 8 ESP + 16 IV + 16 ICV = 1500). The 1420-byte inner
# packets of the "1420" size fit without fragmentation.
TUNNEL_MTU = 1438

# Algorithms: npsd's name, ipsec-secgw's SA words, scapy's names, key sizes. The GCM key includes the 4-byte salt
# (RFC 4106), as npsd, ipsec-secgw (aead_key: 20 bytes) and scapy all take it.
ALGS = {
    "gcm": {"npsd": "aes-gcm-128", "key_len": 20, "auth_len": 0, "iv": 8, "block": 4,
            "secgw": "aead_algo aes-128-gcm aead_key {key}", "scapy": ("AES-GCM", None),
            "doc": "AES-GCM-128 (RFC 4106)"},
    "cbc": {"npsd": "aes-cbc-128-sha256", "key_len": 16, "auth_len": 32, "iv": 16, "block": 16,
            "secgw": "cipher_algo aes-128-cbc cipher_key {key} auth_algo sha256-hmac auth_key {auth}",
            "scapy": ("AES-CBC", "SHA2-256-128"), "doc": "AES-CBC-128 + HMAC-SHA-256-128 (RFC 4868)"},
}
ICV_LEN = 16


def _derive(label, alg, spi, n):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"npsgw-bench|%s|%s|%d|%d" % (label, alg.encode(), spi, i)).digest()
        i += 1
    return out[:n]


def sa_keys(alg, spi):
    """(key, auth_key) of an SA: bytes; auth_key is None for GCM (the key then ends with the salt)."""
    a = ALGS[alg]
    return _derive(b"key", alg, spi, a["key_len"]), (_derive(b"auth", alg, spi, a["auth_len"])
                                                     if a["auth_len"] else None)


def peer(i):
    return str(ipaddress.IPv4Address(PEER_BASE + 1 + i))


def site(i):
    if not 0 <= i < 65536:
        raise ValueError("at most 65,536 tunnels")
    return "16.%d.%d.0/24" % (i >> 8, i & 255)


def tunnel(alg, i):
    """Everything about tunnel i: name, peer, site, SPIs and keys."""
    in_spi, out_spi = IN_SPI_BASE + i, OUT_SPI_BASE + i
    ik, ia = sa_keys(alg, in_spi)
    ok, oa = sa_keys(alg, out_spi)
    return {"index": i, "name": "site%d" % i, "peer": peer(i), "site": site(i), "in_spi": in_spi,
            "out_spi": out_spi, "in_key": ik, "in_auth": ia, "out_key": ok, "out_auth": oa}


def tunnels(alg, n):
    return [tunnel(alg, i) for i in range(n)]


# ---------------------------------------------------------------------------------------------------------------
# npsd

def npsd_topology(direction, n, in_mac, out_mac, gw_mac):
    """VRFs, interfaces, neighbours and routes of npsd for an IPsec case (a list of config lines). Two VRFs:
    "underlay" with "wan" (the tunnels' outer side, LOCAL) and "tenant" with "lan" (the inner side) and the N tunnel
    interfaces site0..siteN-1 (kind "ipsec"). Inbound: ESP arrives on "wan" (device "in"), the decrypted packets
    leave on "lan" (device "out"); outbound: plain packets arrive on "lan" (device "in"), ESP leaves on "wan"."""
    wan_dev, lan_dev = ("in", "out") if direction == "in" else ("out", "in")
    wan_mac, lan_mac = (in_mac, out_mac) if direction == "in" else (out_mac, in_mac)
    L = ['vrfs = ( { name = "underlay"; id = 1; fib = "fast"; max_routes = 1024; },',
         '         { name = "tenant"; id = 2; fib = "fast"; max_routes = %d; } );' % (max(1024, n + 1024)),
         'interfaces = (',
         '  { name = "wan"; device = "%s"; vrf = "underlay"; mac = "%s"; addresses = [ "%s" ]; },'
         % (wan_dev, wan_mac, LOCAL_NET),
         '  { name = "lan"; device = "%s"; vrf = "tenant"; mac = "%s"; addresses = [ "%s" ]; }%s'
         % (lan_dev, lan_mac, LAN_NET, "," if n else "")]
    L += ['  { name = "site%d"; kind = "ipsec"; vrf = "tenant"; mtu = %d; }%s'
          % (i, TUNNEL_MTU, "," if i < n - 1 else "") for i in range(n)]
    L += [');',
          'neighbours = ( { interface = "wan"; ip = "%s"; mac = "%s"; },' % (UNDERLAY_GW, gw_mac),
          '               { interface = "lan"; ip = "%s"; mac = "%s"; } );' % (LAN_GW, gw_mac)]
    return L


def npsd_routes(n):
    """The route file lines ("VRF PREFIX via GW" / "VRF PREFIX dev IFACE"): peers via the underlay next hop, the
    tenant network via the lan next hop, each site through its tunnel."""
    r = ["underlay %s via %s" % (PEER_NET, UNDERLAY_GW), "tenant %s via %s" % (TENANT_NET, LAN_GW)]
    r += ["tenant %s dev site%d" % (site(i), i) for i in range(n)]
    return r


def npsd_section(alg, n, replay_window=0, esn=False):
    """The boot file's ipsec section: one tunnel per site interface with its inbound and outbound SA (static keys).
    Anti-replay is off by default: the input pcap is replayed in a loop, so its sequence numbers repeat (docs)."""
    name = ALGS[alg]["npsd"]
    L = ["ipsec: {", "  tunnels = ("]
    for t in tunnels(alg, n):
        sas = []
        for d in ("in", "out"):
            key, auth = t[d + "_key"], t[d + "_auth"]
            sas.append('{ spi = 0x%x; direction = "%s"; alg = "%s"; key = "%s"; %sesn = %s; replay_window = %d; }'
                       % (t[d + "_spi"], d, name, key.hex(), 'auth_key = "%s"; ' % auth.hex() if auth else "",
                          "true" if esn else "false", replay_window))
        L.append('    { interface = "%s"; transport_vrf = "underlay"; local = "%s"; remote = "%s"; '
                 'udp_encap = false;\n      sas = ( %s,\n              %s ); }%s'
                 % (t["name"], LOCAL, t["peer"], sas[0], sas[1], "," if t["index"] < n - 1 else ""))
    L += ["  );", "};"]
    return "\n".join(L)


# ---------------------------------------------------------------------------------------------------------------
# ipsec-secgw

def _colon_hex(b):
    return ":".join("%02x" % x for x in b)


def secgw_cfg(alg, n, sa_type="cpu-crypto"):
    """ipsec-secgw's configuration (ep0.cfg style) for N tunnels, both directions: port 0 is the input (net_pcap),
    port 1 the output (net_null); the command line's -u says which one is unprotected (inbound: port 0, outbound:
    port 1), and the worker lcore polls both ports (--config '(0,0,1),(1,0,1)'), as npsd's worker polls both.
      outbound: sp ipv4 out ... protect OUT_SPI dst SITE_i: plain packets to a site are encrypted with its SA;
                sa out OUT_SPI ... ipv4-tunnel src LOCAL dst PEER_i; rt: the peers via port 1
      inbound:  sa in IN_SPI ... ipv4-tunnel src PEER_i dst LOCAL; sp ipv4 in ... protect IN_SPI src SITE_i;
                rt: the tenant network via port 1. ipsec-secgw's library mode refuses an SA that no policy uses,
                and after decryption checks with an ACL that the inner packet matches its SA's policy: the inner
                source must be in the tunnel's site (npsd's route-based tunnels have no such selector; documented)
    Both directions' SAs must be there: ipsec-secgw refuses an unprotected port without inbound SAs, and gives the
    SAs of each direction crypto queues of the lcores polling a port of that side (hence the lcore on both ports).
    SAs are type cpu-crypto: synchronous crypto on the worker's core through the crypto_aesni_mb driver (the
    intel-ipsec-mb library, as npsd), which needs ipsec-secgw's library mode (-l)."""
    a = ALGS[alg]
    L = ["# generated by bench/ipsec_cfg.py: %d tunnel%s, %s" % (n, "s" if n != 1 else "", a["doc"])]
    ts = tunnels(alg, n)
    for t in ts:
        L.append("sp ipv4 out esp protect %d pri 1 dst %s sport 0:65535 dport 0:65535" % (t["out_spi"], t["site"]))
    for t in ts:
        L.append("sp ipv4 in esp protect %d pri 1 src %s sport 0:65535 dport 0:65535" % (t["in_spi"], t["site"]))
    for t in ts:
        for d, src, dst in (("out", LOCAL, t["peer"]), ("in", t["peer"], LOCAL)):
            key, auth = t[d + "_key"], t[d + "_auth"]
            words = a["secgw"].format(key=_colon_hex(key), auth=_colon_hex(auth) if auth else "")
            L.append("sa %s %d %s mode ipv4-tunnel src %s dst %s type %s" % (d, t[d + "_spi"], words, src, dst,
                                                                              sa_type))
    L.append("rt ipv4 dst %s port 1" % PEER_NET)
    L.append("rt ipv4 dst %s port 1" % TENANT_NET)
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description="write the ipsec-secgw configuration of an IPsec bench case")
    ap.add_argument("--secgw-cfg", required=True, help="output file")
    ap.add_argument("--alg", choices=sorted(ALGS), required=True)
    ap.add_argument("--tunnels", type=int, default=1)
    ap.add_argument("--sa-type", choices=("cpu-crypto", "no-offload"), default="cpu-crypto",
                    help="cpu-crypto: synchronous on the worker; no-offload: lookaside through the crypto queue pair")
    a = ap.parse_args()
    with open(a.secgw_cfg, "w") as f:
        f.write(secgw_cfg(a.alg, a.tunnels, a.sa_type))
    return 0


if __name__ == "__main__":
    sys.exit(main())
