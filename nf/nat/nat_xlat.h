/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet rewrites of NAT44 and DS-Lite, on bytes: parse what a translation needs of an IPv4 packet, rewrite
 * an address and a port (or ICMP identifier) with every checksum updated incrementally (RFC 1624, lib/hdr/csum.h),
 * rewrite ICMP errors and the packet they quote (RFC 5508), clamp the TCP MSS of a SYN, and add or check the IPv6
 * header of a DS-Lite softwire (RFC 6333). Pure C, all inline, no mbuf or EAL: the nodes run exactly what
 * nf/nat/test_nat_xlat.c tests.
 *
 * Conventions: ip points at the IPv4 header; addresses and ports are host-order numbers (192.0.2.1 = 0xc0000201).
 * A translation reads the old values from the packet, not from the parse result, so two of them compose (hairpin:
 * source, then destination). Fragments: the first fragment carries the transport header, and its checksum covers
 * the whole datagram and the pseudo-header, so adjusting it for the address and port change is right for the
 * reassembled datagram; a non-first fragment only has its address (and IPv4 header checksum) changed.
 *
 * Why not nf/fw/fw_parse.h: the translations need offsets (quoted header, quoted transport header, quote length)
 * and IPv4 addresses as numbers, and NAT runs where no firewall does; the checks below are the same in spirit.
 */
#ifndef NPSGW_NAT_XLAT_H
#define NPSGW_NAT_XLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/hdr/csum.h"
#include "lib/hdr/ip_checks.h"

#define NAT_PROTO_ICMP 1
#define NAT_PROTO_TCP 6
#define NAT_PROTO_UDP 17
#define NAT_PROTO_IPIP 4 /* IPv6 next header of an IPv4 packet (DS-Lite) */

#define NAT_TCP_SYN 0x02

enum nat_parse_err {
	NAT_PARSE_OK = 0,
	NAT_PARSE_TRUNCATED,     /* fewer than 20 bytes or than IHL*4, or a total length beyond the bytes received */
	NAT_PARSE_BAD_HDR,       /* version not 4, IHL below 5, or a total length below IHL*4 */
	NAT_PARSE_L4_TRUNCATED,  /* TCP (20 bytes, data offset 5+ within the packet), UDP or ICMP (8) header short */
	NAT_PARSE_TINY_FRAG,     /* first fragment without the whole transport header (RFC 1858) */
	NAT_PARSE_EMB_TRUNCATED, /* ICMP error quoting less than an IPv4 header + 8 bytes */
	NAT_PARSE_EMB_BAD,       /* quote not IPv4, an ICMP error, a non-first fragment, or not from the error's dst */
	NAT_PARSE_ERR_COUNT
};

/* What a translation rewrites besides the address. */
enum nat_kind {
	NAT_KIND_PORTS = 0,  /* TCP or UDP (whole, or first fragment): port and L4 checksum */
	NAT_KIND_ICMP_QUERY, /* ICMP echo, timestamp, information, address mask: identifier and ICMP checksum */
	NAT_KIND_ICMP_ERROR, /* ICMP error (dest. unreachable, source quench, redirect, time exceeded, parameter) */
	NAT_KIND_FRAG_LATER, /* non-first fragment, any protocol: address only (follows its first fragment) */
	NAT_KIND_OTHER,      /* any other protocol or ICMP type: address only */
};

/* Direction of a translation: which address (and port) of the packet is rewritten. */
enum nat_dir {
	NAT_IN2OUT = 0, /* the source: inside -> public */
	NAT_OUT2IN = 1, /* the destination: public -> inside */
};

/* The packet an ICMP error quotes, as it was sent (from src to dst). */
struct nat_emb {
	uint8_t proto;
	uint8_t ihl;        /* bytes */
	uint8_t icmp_type;  /* quoted ICMP query's type */
	bool has_ports;     /* TCP, UDP or ICMP query: sport/dport are meaningful */
	uint16_t sport, dport; /* quoted TCP/UDP ports; ICMP query: its identifier on both */
	uint16_t len;       /* bytes quoted in this packet, quoted IPv4 header included */
	uint32_t src, dst;
};

/* What nat_parse() found; offsets are from the IPv4 header. */
struct nat_pkt {
	uint8_t kind;       /* enum nat_kind */
	uint8_t proto;
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;
	bool fragment;      /* first or later fragment (MF set or offset non-zero); first: fragment && !frag_off */
	bool mf;
	uint16_t ihl;       /* bytes: the transport header's offset */
	uint16_t total_len;
	uint16_t sport, dport; /* TCP/UDP ports; ICMP query: identifier on both; else 0 */
	uint16_t frag_id;
	uint16_t frag_off;  /* bytes */
	uint32_t src, dst;
	struct nat_emb emb; /* NAT_KIND_ICMP_ERROR only */
};

/*
 * Fields that are read together (the tuple a caller copies out: both addresses, both ports) are written with one
 * store each: a load of two fields written by two narrower stores cannot be forwarded from the store buffer and
 * waits until they reach the cache, every packet.
 */
_Static_assert(offsetof(struct nat_pkt, dport) == offsetof(struct nat_pkt, sport) + 2, "ports adjacent");
_Static_assert(offsetof(struct nat_pkt, dst) == offsetof(struct nat_pkt, src) + 4, "addresses adjacent");

static inline void nat_pkt_set_ports(struct nat_pkt *k, uint16_t sport, uint16_t dport)
{
	const struct {
		uint16_t s, d;
	} both = {sport, dport};
	memcpy(&k->sport, &both, sizeof(both));
}

static inline void nat_pkt_set_addrs(struct nat_pkt *k, uint32_t src, uint32_t dst)
{
	const struct {
		uint32_t s, d;
	} both = {src, dst};
	memcpy(&k->src, &both, sizeof(both));
}

/* ICMPv4 types that are errors (RFC 792, RFC 1812): a packet is quoted after the 8-byte header. */
static inline bool nat_icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* ICMPv4 queries with an identifier (bytes 4-5), which NAT treats as a port (RFC 5508 section 3.1). */
static inline bool nat_icmp_has_id(uint8_t type)
{
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/* The packet quoted by an ICMP error: e, elen bytes (after the 8-byte ICMP header); outer_dst: the error's dst. */
static inline enum nat_parse_err nat_parse_emb(const uint8_t *e, uint32_t elen, uint32_t outer_dst, struct nat_emb *m)
{
	if (elen < 20)
		return NAT_PARSE_EMB_TRUNCATED;
	uint32_t ihl = (e[0] & 0xfu) * 4;
	if ((e[0] >> 4) != 4 || ihl < 20)
		return NAT_PARSE_EMB_BAD;
	if (elen < ihl + 8) /* RFC 792: the header and the first 64 bits of data, where ports and ids are */
		return NAT_PARSE_EMB_TRUNCATED;
	if (csum_rd16(e + 6) & 0x1fff) /* no error is sent about a non-first fragment (RFC 1812 4.3.2.7) */
		return NAT_PARSE_EMB_BAD;
	m->src = csum_rd32(e + 12);
	m->dst = csum_rd32(e + 16);
	if (m->src != outer_dst) /* an error goes back to the sender of what it quotes */
		return NAT_PARSE_EMB_BAD;
	m->proto = e[9];
	m->ihl = (uint8_t)ihl;
	m->len = (uint16_t)elen;
	const uint8_t *l4 = e + ihl;
	if (m->proto == NAT_PROTO_TCP || m->proto == NAT_PROTO_UDP) {
		m->sport = csum_rd16(l4);
		m->dport = csum_rd16(l4 + 2);
		m->has_ports = true;
	} else if (m->proto == NAT_PROTO_ICMP) {
		if (nat_icmp_is_error(l4[0]))
			return NAT_PARSE_EMB_BAD; /* never an error about an error (RFC 1122 3.2.2) */
		m->icmp_type = l4[0];
		if (nat_icmp_has_id(l4[0])) {
			m->sport = m->dport = csum_rd16(l4 + 4);
			m->has_ports = true;
		}
	}
	return NAT_PARSE_OK;
}

/* Parse the IPv4 packet at p (len bytes available from its header on) for translation. */
static inline enum nat_parse_err nat_parse(const uint8_t *p, uint32_t len, struct nat_pkt *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = NAT_KIND_OTHER;
	if (len < 20)
		return NAT_PARSE_TRUNCATED;
	uint32_t ihl = (p[0] & 0xfu) * 4, total = csum_rd16(p + 2);
	if ((p[0] >> 4) != 4 || ihl < 20)
		return NAT_PARSE_BAD_HDR;
	if (len < ihl)
		return NAT_PARSE_TRUNCATED;
	if (total < ihl)
		return NAT_PARSE_BAD_HDR;
	if (total > len)
		return NAT_PARSE_TRUNCATED;
	k->proto = p[9];
	k->ihl = (uint16_t)ihl;
	k->total_len = (uint16_t)total;
	nat_pkt_set_addrs(k, csum_rd32(p + 12), csum_rd32(p + 16));
	uint16_t fo = csum_rd16(p + 6);
	k->frag_id = csum_rd16(p + 4);
	k->frag_off = (uint16_t)((fo & 0x1fffu) * 8);
	k->mf = fo & 0x2000;
	k->fragment = k->mf || k->frag_off;
	if (k->frag_off) {
		k->kind = NAT_KIND_FRAG_LATER;
		return NAT_PARSE_OK;
	}
	const uint8_t *l4 = p + ihl;
	uint32_t l4len = total - ihl;
	enum nat_parse_err short_l4 = k->mf ? NAT_PARSE_TINY_FRAG : NAT_PARSE_L4_TRUNCATED;
	switch (k->proto) {
	case NAT_PROTO_TCP: {
		if (l4len < 20)
			return short_l4;
		uint32_t doff = (l4[12] >> 4) * 4u;
		if (doff < 20 || doff > l4len)
			return short_l4;
		nat_pkt_set_ports(k, csum_rd16(l4), csum_rd16(l4 + 2));
		k->tcp_flags = l4[13];
		k->kind = NAT_KIND_PORTS;
		return NAT_PARSE_OK;
	}
	case NAT_PROTO_UDP:
		if (l4len < 8)
			return short_l4;
		nat_pkt_set_ports(k, csum_rd16(l4), csum_rd16(l4 + 2));
		k->kind = NAT_KIND_PORTS;
		return NAT_PARSE_OK;
	case NAT_PROTO_ICMP:
		if (l4len < 8)
			return short_l4;
		k->icmp_type = l4[0];
		k->icmp_code = l4[1];
		if (nat_icmp_is_error(l4[0])) {
			k->kind = NAT_KIND_ICMP_ERROR;
			return nat_parse_emb(l4 + 8, l4len - 8, k->dst, &k->emb);
		}
		if (nat_icmp_has_id(l4[0])) {
			nat_pkt_set_ports(k, csum_rd16(l4 + 4), csum_rd16(l4 + 4));
			k->kind = NAT_KIND_ICMP_QUERY;
		}
		return NAT_PARSE_OK;
	default:
		return NAT_PARSE_OK;
	}
}

/* Offset in an IPv4 header of the address a direction rewrites. */
static inline unsigned nat_addr_off(enum nat_dir dir)
{
	return dir == NAT_IN2OUT ? 12 : 16;
}

/* Rewrite the IPv4 address at a (in the header at ip) to addr, fix the header checksum; returns the change's delta. */
static inline uint32_t nat_set_addr(uint8_t *ip, uint8_t *a, uint32_t addr)
{
	uint32_t delta = csum_delta32(csum_rd32(a), addr);
	csum_wr32(a, addr);
	csum_field_apply(ip + 10, delta, 0);
	return delta;
}

/* Whether the len bytes at p are all zero. */
static inline bool nat_all_zero(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Translate a packet parsed by nat_parse() (any kind but NAT_KIND_ICMP_ERROR): the source (in2out) or destination
 * (out2in) address becomes addr, and for NAT_KIND_PORTS the matching port, for NAT_KIND_ICMP_QUERY the identifier,
 * becomes port (ignored for other kinds). IPv4 header, TCP, UDP (0 stays 0) and ICMP checksums are updated.
 * An ICMP query has one identifier for both directions: a second translation (hairpin) rewrites it again.
 */
static inline void nat_xlat(uint8_t *ip, const struct nat_pkt *k, enum nat_dir dir, uint32_t addr, uint16_t port)
{
	uint32_t da = nat_set_addr(ip, ip + nat_addr_off(dir), addr);
	uint8_t *l4 = ip + k->ihl;
	if (k->kind == NAT_KIND_PORTS) {
		uint8_t *pp = l4 + (dir == NAT_IN2OUT ? 0 : 2);
		uint32_t d = da + csum_delta16(csum_rd16(pp), port); /* the address is in the pseudo-header */
		csum_wr16(pp, port);
		if (k->proto == NAT_PROTO_TCP)
			csum_field_apply(l4 + 16, d, 0);
		else
			csum_field_apply(l4 + 6, d, 1);
	} else if (k->kind == NAT_KIND_ICMP_QUERY) {
		uint32_t d = csum_delta16(csum_rd16(l4 + 4), port); /* ICMPv4: no pseudo-header */
		csum_wr16(l4 + 4, port);
		csum_field_apply(l4 + 2, d, 0);
		/* Eqn. 3 gives 0x0000 where a full sum gives 0xffff only when every byte is zero (an echo reply with
		 * identifier, sequence and data all zero), and such a message verifies only with 0xffff. */
		if (port == 0 && csum_rd16(l4 + 2) == 0 && nat_all_zero(l4, k->total_len - k->ihl))
			csum_wr16(l4 + 2, 0xffff);
	}
}

/*
 * Rewrite a 16-bit checksum field at p of the quoted packet by delta (udp: RFC 768 zero rule); returns the delta
 * this change makes to the enclosing ICMP message.
 */
static inline uint32_t nat_emb_csum_apply(uint8_t *p, uint32_t delta, int udp)
{
	uint16_t old = csum_rd16(p);
	csum_field_apply(p, delta, udp);
	return csum_delta16(old, csum_rd16(p));
}

/*
 * Translate an ICMP error parsed by nat_parse() (RFC 5508 section 4.2). The quoted packet travels the other way:
 * - NAT_OUT2IN: outer destination -> outer_addr; the quote's SOURCE address:port -> emb_addr:emb_port (the public
 *   side of the mapping turned back into the inside host that sent it);
 * - NAT_IN2OUT: outer source -> outer_addr; the quote's DESTINATION address:port -> emb_addr:emb_port.
 * A quoted ICMP query has its identifier rewritten instead of a port. Fixed: the outer IPv4 header checksum, the
 * quoted IPv4 header checksum, the quoted transport checksum where the quote holds it (UDP bytes 6-7: 0 stays 0;
 * TCP bytes 16-17; ICMP bytes 2-3) and the outer ICMP checksum, all incrementally (every quoted field lies at an
 * even offset of the ICMP message, so each change feeds the outer checksum as it is).
 */
static inline void nat_xlat_icmp_error(uint8_t *ip, const struct nat_pkt *k, enum nat_dir dir, uint32_t outer_addr,
				       uint32_t emb_addr, uint16_t emb_port)
{
	nat_set_addr(ip, ip + nat_addr_off(dir), outer_addr);
	uint8_t *icmp = ip + k->ihl;
	uint8_t *e = icmp + 8;
	uint8_t *ea = e + (dir == NAT_IN2OUT ? 16 : 12);
	uint32_t dea = csum_delta32(csum_rd32(ea), emb_addr);
	csum_wr32(ea, emb_addr);
	uint32_t outer = dea + nat_emb_csum_apply(e + 10, dea, 0);
	if (k->emb.has_ports) {
		uint8_t *el4 = e + k->emb.ihl;
		uint32_t quoted = k->emb.len - k->emb.ihl; /* >= 8, checked by the parser */
		if (k->emb.proto == NAT_PROTO_ICMP) {
			uint32_t dp = csum_delta16(csum_rd16(el4 + 4), emb_port);
			csum_wr16(el4 + 4, emb_port);
			outer += dp + nat_emb_csum_apply(el4 + 2, dp, 0);
		} else {
			uint8_t *pp = el4 + (dir == NAT_IN2OUT ? 2 : 0);
			uint32_t dp = csum_delta16(csum_rd16(pp), emb_port);
			csum_wr16(pp, emb_port);
			outer += dp;
			if (k->emb.proto == NAT_PROTO_UDP)
				outer += nat_emb_csum_apply(el4 + 6, dea + dp, 1);
			else if (quoted >= 18)
				outer += nat_emb_csum_apply(el4 + 16, dea + dp, 0);
		}
	}
	csum_field_apply(icmp + 2, outer, 0);
}

enum nat_mss_rc {
	NAT_MSS_NOT_SYN = 0, /* not a SYN: nothing to do */
	NAT_MSS_ABSENT,      /* a SYN without an MSS option */
	NAT_MSS_KEPT,        /* the MSS is already no bigger than the limit */
	NAT_MSS_CLAMPED,     /* lowered to the limit, TCP checksum updated */
	NAT_MSS_MALFORMED,   /* header or options malformed (short, bad length, MSS length not 4): left untouched */
};

/*
 * Lower the MSS option of a TCP SYN at tcp (len bytes of TCP header and data in this packet) to max_mss when it is
 * bigger, updating the TCP checksum incrementally (the option may sit at an odd offset). The whole option list is
 * checked before anything is written.
 */
static inline enum nat_mss_rc nat_tcp_mss_clamp(uint8_t *tcp, uint32_t len, uint16_t max_mss)
{
	if (len < 20)
		return NAT_MSS_MALFORMED;
	uint32_t doff = (tcp[12] >> 4) * 4u;
	if (doff < 20 || doff > len)
		return NAT_MSS_MALFORMED;
	if (!(tcp[13] & NAT_TCP_SYN))
		return NAT_MSS_NOT_SYN;
	uint32_t i = 20, mss_at = 0;
	while (i < doff) {
		uint8_t kind = tcp[i];
		if (kind == 0) /* end of option list */
			break;
		if (kind == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= doff || tcp[i + 1] < 2 || i + tcp[i + 1] > doff)
			return NAT_MSS_MALFORMED;
		if (kind == 2) {
			if (tcp[i + 1] != 4)
				return NAT_MSS_MALFORMED;
			if (!mss_at)
				mss_at = i + 2;
		}
		i += tcp[i + 1];
	}
	if (!mss_at)
		return NAT_MSS_ABSENT;
	uint16_t mss = csum_rd16(tcp + mss_at);
	if (mss <= max_mss)
		return NAT_MSS_KEPT;
	uint32_t d = (mss_at & 1) ? csum_delta16_odd(mss, max_mss) : csum_delta16(mss, max_mss);
	csum_wr16(tcp + mss_at, max_mss);
	csum_field_apply(tcp + 16, d, 0);
	return NAT_MSS_CLAMPED;
}

enum nat_ds_err {
	NAT_DS_OK = 0,
	NAT_DS_TRUNCATED,    /* fewer than 40 bytes, or an IPv6 payload length beyond the bytes received */
	NAT_DS_NOT_IP4IP6,   /* not IPv6, or its next header is not IPv4 (4) */
	NAT_DS_INCONSISTENT, /* the payload is not an IPv4 header whose total length equals the IPv6 payload length */
	NAT_DS_INNER_BAD,    /* the inner IPv4 header fails ip4_check() (checksum, martian address): see *verdict */
};

#define NAT_DS_HOP_LIMIT 64

/*
 * DS-Lite encapsulation (RFC 6333, RFC 2473): write an IPv6 header into the 40 bytes at ip6, in front of the IPv4
 * packet at ip6 + 40 (len4 bytes of it there): src, dst, payload length = the IPv4 total length, next header 4,
 * hop limit 64, traffic class = the inner TOS, flow label 0. The IPv4 packet is not changed.
 */
static inline enum nat_ds_err nat_dslite_push(uint8_t *ip6, uint32_t len4, const uint8_t src[16],
					      const uint8_t dst[16])
{
	const uint8_t *ip4 = ip6 + 40;
	if (len4 < 20)
		return NAT_DS_TRUNCATED;
	uint32_t total = csum_rd16(ip4 + 2);
	if ((ip4[0] >> 4) != 4 || total < 20)
		return NAT_DS_INCONSISTENT;
	if (total > len4)
		return NAT_DS_TRUNCATED;
	uint8_t tos = ip4[1];
	ip6[0] = (uint8_t)(0x60 | (tos >> 4));
	ip6[1] = (uint8_t)(tos << 4);
	ip6[2] = ip6[3] = 0;
	csum_wr16(ip6 + 4, (uint16_t)total);
	ip6[6] = NAT_PROTO_IPIP;
	ip6[7] = NAT_DS_HOP_LIMIT;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	return NAT_DS_OK;
}

/*
 * DS-Lite decapsulation check of the IPv6 packet at ip6 (len bytes; reassembled if it came in fragments): on
 * NAT_DS_OK the IPv4 packet starts at ip6 + 40 and is *len4 bytes long. verdict (may be NULL) gets the inner
 * ip4_check() result.
 */
static inline enum nat_ds_err nat_dslite_pull(const uint8_t *ip6, uint32_t len, uint32_t *len4,
					      enum ip4_verdict *verdict)
{
	if (len < 40)
		return NAT_DS_TRUNCATED;
	if ((ip6[0] >> 4) != 6 || ip6[6] != NAT_PROTO_IPIP)
		return NAT_DS_NOT_IP4IP6;
	uint32_t plen = csum_rd16(ip6 + 4);
	if (40 + plen > len)
		return NAT_DS_TRUNCATED;
	const uint8_t *ip4 = ip6 + 40;
	if (plen < 20 || (ip4[0] >> 4) != 4 || (ip4[0] & 0xf) < 5 || (ip4[0] & 0xfu) * 4 > plen ||
	    csum_rd16(ip4 + 2) != plen)
		return NAT_DS_INCONSISTENT;
	enum ip4_verdict v = ip4_check(ip4, plen);
	if (verdict)
		*verdict = v;
	if (v != IP4_OK)
		return NAT_DS_INNER_BAD;
	*len4 = plen;
	return NAT_DS_OK;
}

#endif
