# SPDX-License-Identifier: BSD-3-Clause
"""A strict little pcapng reader for the tests: checks every block's framing (both length fields equal, multiples of
4, options terminated and padded) and returns the interfaces and packets. Independent of lib/pcapng."""
import struct


class PcapngError(Exception):
    pass


def _options(body, where, strict=True):
    """[(code, bytes)] of an option list; raises on bad framing."""
    opts, off = [], 0
    while True:
        if off == len(body):
            return opts  # options may be absent entirely
        if off + 4 > len(body):
            raise PcapngError("%s: option header truncated at %d" % (where, off))
        code, length = struct.unpack_from("<HH", body, off)
        off += 4
        if code == 0:
            if length != 0 or off != len(body):
                raise PcapngError("%s: opt_endofopt with length %d or data after it" % (where, length))
            return opts
        padded = (length + 3) & ~3
        if off + padded > len(body):
            raise PcapngError("%s: option %d (length %d) runs past the block" % (where, code, length))
        if strict and any(body[off + length:off + padded]):
            raise PcapngError("%s: option %d padding not zero" % (where, code))
        opts.append((code, bytes(body[off:off + length])))
        off += padded


def read(data, strict=True):
    """{'application', 'interfaces': [{'name', 'description', 'linktype', 'snaplen', 'tsresol'}],
    'packets': [{'if_id', 'ts', 'caplen', 'origlen', 'data', 'comment'}]}
    strict=False accepts non-zero option padding (DPDK's rte_pcapng, used by dpdk-dumpcap, leaves garbage there)."""
    if isinstance(data, str):
        with open(data, "rb") as f:
            data = f.read()
    out = {"application": None, "interfaces": [], "packets": []}
    off, n = 0, 0
    while off < len(data):
        if off + 12 > len(data):
            raise PcapngError("block %d at %d: truncated header" % (n, off))
        btype, blen = struct.unpack_from("<II", data, off)
        where = "block %d (type 0x%x) at %d" % (n, btype, off)
        if blen % 4 or blen < 12 or off + blen > len(data):
            raise PcapngError("%s: bad total length %d (file %d bytes)" % (where, blen, len(data)))
        if struct.unpack_from("<I", data, off + blen - 4)[0] != blen:
            raise PcapngError("%s: trailing length differs from %d" % (where, blen))
        body = data[off + 8:off + blen - 4]
        if n == 0 and btype != 0x0A0D0D0A:
            raise PcapngError("first block is not a section header")
        if btype == 0x0A0D0D0A:
            magic, major, minor = struct.unpack_from("<IHH", body, 0)
            if magic != 0x1A2B3C4D or (major, minor) != (1, 0):
                raise PcapngError("%s: magic 0x%x version %d.%d" % (where, magic, major, minor))
            for code, v in _options(body[16:], where, strict):
                if code == 4:
                    out["application"] = v.decode()
        elif btype == 1:
            linktype, _, snaplen = struct.unpack_from("<HHI", body, 0)
            i = {"linktype": linktype, "snaplen": snaplen, "name": None, "description": None, "tsresol": None}
            for code, v in _options(body[8:], where, strict):
                if code == 2:
                    i["name"] = v.decode()
                elif code == 3:
                    i["description"] = v.decode()
                elif code == 9:
                    i["tsresol"] = v[0]
            out["interfaces"].append(i)
        elif btype == 6:
            if_id, ts_hi, ts_lo, caplen, origlen = struct.unpack_from("<IIIII", body, 0)
            if if_id >= len(out["interfaces"]):
                raise PcapngError("%s: interface %d not described yet" % (where, if_id))
            padded = (caplen + 3) & ~3
            if 20 + padded > len(body):
                raise PcapngError("%s: caplen %d runs past the block" % (where, caplen))
            if caplen > origlen:
                raise PcapngError("%s: caplen %d > origlen %d" % (where, caplen, origlen))
            if any(body[20 + caplen:20 + padded]):
                raise PcapngError("%s: packet padding not zero" % where)
            p = {"if_id": if_id, "ts": (ts_hi << 32) | ts_lo, "caplen": caplen, "origlen": origlen,
                 "data": bytes(body[20:20 + caplen]), "comment": None}
            for code, v in _options(body[20 + padded:], where, strict):
                if code == 1:
                    p["comment"] = v.decode()
            p["if_name"] = out["interfaces"][if_id]["name"]
            out["packets"].append(p)
        off += blen
        n += 1
    if n == 0:
        raise PcapngError("empty file")
    return out
