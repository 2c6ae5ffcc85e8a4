/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the firewall needs to know of a packet, read from its L3 header on: addresses, protocol, ports or ICMP
 * type/code/identifier, the TCP fields the tracker checks, fragment information, and for an ICMP error the tuple of
 * the packet it quotes. IPv6 extension headers are walked (bounded) to the transport header.
 *
 * Pure C on a byte buffer, all inline (like lib/hdr/ip_checks.h): the fast path runs exactly what
 * nf/fw/test_fw_parse.c tests, without an mbuf or the EAL. Every way a packet can be refused is its own error,
 * mapped 1:1 (or many:1) onto the firewall's drop reasons by the node.
 */
#ifndef NPSGW_FW_PARSE_H
#define NPSGW_FW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FW_IP6_EXT_MAX 8         /* extension headers walked; one more and the chain is refused as too long */
#define FW_IP6_EXT_MAX_BYTES 512 /* bytes of extension headers; more is refused (RFC 7112 wants them small) */
#define FW_WSCALE_NONE 0xff

#define FW_TCP_FIN 0x01
#define FW_TCP_SYN 0x02
#define FW_TCP_RST 0x04
#define FW_TCP_ACK 0x10

enum fw_parse_err {
	FW_PARSE_OK = 0,
	FW_PARSE_L3_BAD,        /* IP header truncated, wrong version or length (the input nodes let none through) */
	FW_PARSE_L4_TRUNCATED,  /* transport header incomplete, or TCP data offset below 5 */
	FW_PARSE_EXT_TRUNCATED, /* an IPv6 extension header runs past the packet */
	FW_PARSE_EXT_TOO_LONG,  /* more than FW_IP6_EXT_MAX headers or FW_IP6_EXT_MAX_BYTES bytes of them */
	FW_PARSE_EXT_BAD,       /* hop-by-hop not first, routing type 0, repeated routing/fragment, 3+ dest options */
	FW_PARSE_FRAG_BAD,      /* tiny first fragment, TCP fragment at offset 8, length not a multiple of 8, > 64k */
	FW_PARSE_EMB_TRUNCATED, /* ICMP error quoting less than an IP header (and its extension headers) + 8 bytes */
	FW_PARSE_EMB_FORGED,    /* ICMP error not addressed to the quoted packet's source, or quoting the impossible */
	FW_PARSE_ERR_COUNT
};

enum fw_frag_kind {
	FW_FRAG_NONE = 0, /* not a fragment (an IPv6 atomic fragment, RFC 6946, counts as none) */
	FW_FRAG_FIRST,    /* offset 0, more fragments: carries the transport header */
	FW_FRAG_LATER,    /* offset > 0: no transport header, follows the first fragment's verdict */
};

/* The packet an ICMP error quotes, as it was sent: from src to dst. */
struct fw_tuple {
	uint8_t proto;
	uint16_t sport, dport; /* host order; ICMP query: its identifier on both; other protocols: 0 */
	uint8_t src[16], dst[16];
};

struct fw_pkt {
	/* Scalars first: the parser clears them in one go. */
	uint8_t family;      /* 4 or 6 */
	uint8_t proto;       /* upper-layer protocol (IPv6: after the extension headers; non-first fragment: named) */
	uint8_t frag;        /* enum fw_frag_kind */
	uint8_t frag_proto;  /* fragment key protocol: IPv4 protocol field, IPv6 fragment header's next header */
	uint8_t tcp_flags;
	uint8_t wscale;      /* window scale option of a SYN; FW_WSCALE_NONE when absent */
	uint8_t icmp_type, icmp_code;
	bool icmp_error;     /* emb is valid */
	bool mf;             /* more fragments */
	uint16_t sport, dport; /* session key ports, host order: TCP/UDP ports, ICMP query identifier on both, else 0 */
	uint16_t win;        /* raw TCP window */
	uint16_t l4_off;     /* offset of the transport header (non-first fragment: of the fragment data) */
	uint32_t l3_len;     /* IP total length (IPv6: 40 + payload length) */
	uint32_t seq, ack;   /* host order */
	uint32_t payload_len; /* TCP payload bytes in this packet (a first fragment: the part it carries) */
	uint32_t frag_id;
	uint32_t frag_off;   /* in bytes */
	uint32_t frag_len;   /* fragment data bytes (after the IPv4 header / the IPv6 fragment header) */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes, the rest zero */
	struct fw_tuple emb;
};

static inline uint16_t fw_rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t fw_rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void fw_addr4_copy(uint8_t dst[16], const uint8_t *src)
{
	memcpy(dst, src, 4);
	memset(dst + 4, 0, 12);
}

static inline bool fw_icmp_is_error(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* ICMP queries whose identifier (bytes 4-5) tells sessions apart: echo, timestamp, information, address mask. */
static inline bool fw_icmp_has_id(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == 0 || type == 8 || (type >= 13 && type <= 18);
	return type == 128 || type == 129;
}

static inline uint8_t fw_icmp_proto(uint8_t family)
{
	return family == 4 ? 1 : 58;
}

/*
 * Walk the IPv6 extension headers of the packet at p (len bytes, the IPv6 header included) to the upper layer.
 * Sets *proto and *off (its offset from p) and *frag_hdr (offset of the fragment header, 0 when none). A non-first
 * fragment stops at its fragment header: what follows is data. ESP (50), no next header (59) and any protocol that
 * is not an extension header end the walk as the upper layer.
 */
static inline enum fw_parse_err fw_ip6_walk(const uint8_t *p, uint32_t len, uint8_t *proto, uint32_t *off,
					    uint32_t *frag_hdr)
{
	uint8_t nh = p[6];
	uint32_t o = 40;
	unsigned n = 0, n_dst = 0;
	bool routing = false;
	*frag_hdr = 0;
	for (;;) {
		uint32_t hl;
		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			break;
		if (++n > FW_IP6_EXT_MAX)
			return FW_PARSE_EXT_TOO_LONG;
		if (o + 8 > len) /* every extension header is at least 8 bytes */
			return FW_PARSE_EXT_TRUNCATED;
		switch (nh) {
		case 0: /* hop-by-hop: only right after the IPv6 header (RFC 8200 4.3) */
			if (o != 40)
				return FW_PARSE_EXT_BAD;
			hl = (p[o + 1] + 1u) * 8;
			break;
		case 43: /* routing: at most one; type 0 deprecated (RFC 5095) */
			if (routing || p[o + 2] == 0)
				return FW_PARSE_EXT_BAD;
			routing = true;
			hl = (p[o + 1] + 1u) * 8;
			break;
		case 60: /* destination options: before the routing header and before the upper layer */
			if (++n_dst > 2)
				return FW_PARSE_EXT_BAD;
			hl = (p[o + 1] + 1u) * 8;
			break;
		case 44:
			if (*frag_hdr != 0)
				return FW_PARSE_EXT_BAD;
			*frag_hdr = o;
			hl = 8;
			if (fw_rd16(p + o + 2) & 0xfff8) { /* non-first fragment */
				*proto = p[o];
				*off = o + 8;
				return FW_PARSE_OK;
			}
			break;
		default: /* 51, authentication header: its length counts 4-byte words, minus 2 */
			hl = (p[o + 1] + 2u) * 4;
			break;
		}
		if (o + hl - 40 > FW_IP6_EXT_MAX_BYTES)
			return FW_PARSE_EXT_TOO_LONG;
		if (o + hl > len)
			return FW_PARSE_EXT_TRUNCATED;
		nh = p[o];
		o += hl;
	}
	*proto = nh;
	*off = o;
	return FW_PARSE_OK;
}

/* The transport header of an ICMP error's quoted packet (l4len bytes of it quoted), into t. */
static inline enum fw_parse_err fw_parse_emb_l4(uint8_t family, const uint8_t *l4, uint32_t l4len,
						struct fw_tuple *t)
{
	if (l4len < 8)
		return FW_PARSE_EMB_TRUNCATED;
	t->sport = t->dport = 0;
	if (t->proto == 6 || t->proto == 17) {
		t->sport = fw_rd16(l4);
		t->dport = fw_rd16(l4 + 2);
	} else if (t->proto == fw_icmp_proto(family)) {
		if (fw_icmp_is_error(family, l4[0]))
			return FW_PARSE_EMB_FORGED; /* never an error about an error (RFC 1122 3.2.2, RFC 4443 2.4) */
		if (fw_icmp_has_id(family, l4[0]))
			t->sport = t->dport = fw_rd16(l4 + 4);
	}
	return FW_PARSE_OK;
}

/* The packet quoted by an ICMP error (e, elen bytes after the 8-byte ICMP header); outer_dst: the error's dst. */
static inline enum fw_parse_err fw_parse_embedded(uint8_t family, const uint8_t *e, uint32_t elen,
						  const uint8_t *outer_dst, struct fw_tuple *t)
{
	if (family == 4) {
		if (elen < 20)
			return FW_PARSE_EMB_TRUNCATED;
		uint32_t ihl = (e[0] & 0xfu) * 4;
		if ((e[0] >> 4) != 4 || ihl < 20)
			return FW_PARSE_EMB_FORGED;
		if (elen < ihl + 8)
			return FW_PARSE_EMB_TRUNCATED;
		if (memcmp(e + 12, outer_dst, 4) != 0)
			return FW_PARSE_EMB_FORGED;
		if (fw_rd16(e + 6) & 0x1fff) /* no error is ever sent about a non-first fragment (RFC 1812 4.3.2.7) */
			return FW_PARSE_EMB_FORGED;
		t->proto = e[9];
		fw_addr4_copy(t->src, e + 12);
		fw_addr4_copy(t->dst, e + 16);
		return fw_parse_emb_l4(4, e + ihl, elen - ihl, t);
	}
	if (elen < 40)
		return FW_PARSE_EMB_TRUNCATED;
	if ((e[0] >> 4) != 6)
		return FW_PARSE_EMB_FORGED;
	if (memcmp(e + 8, outer_dst, 16) != 0)
		return FW_PARSE_EMB_FORGED;
	uint8_t proto;
	uint32_t off, frag_hdr;
	enum fw_parse_err rc = fw_ip6_walk(e, elen, &proto, &off, &frag_hdr);
	if (rc == FW_PARSE_EXT_TRUNCATED)
		return FW_PARSE_EMB_TRUNCATED;
	if (rc != FW_PARSE_OK)
		return FW_PARSE_EMB_FORGED;
	if (frag_hdr != 0 && (fw_rd16(e + frag_hdr + 2) & 0xfff8))
		return FW_PARSE_EMB_FORGED;
	t->proto = proto;
	memcpy(t->src, e + 8, 16);
	memcpy(t->dst, e + 24, 16);
	return fw_parse_emb_l4(6, e + off, elen - off, t);
}

/* TCP window scale option of a SYN (RFC 7323); malformed options end the walk without an error. */
static inline uint8_t fw_tcp_wscale(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;
	while (i < len) {
		uint8_t kind = opt[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			break;
		if (kind == 3 && opt[i + 1] == 3)
			return opt[i + 2] > 14 ? 14 : opt[i + 2];
		i += opt[i + 1];
	}
	return FW_WSCALE_NONE;
}

/* The transport header at l4 (l4len bytes of it in this packet). */
static inline enum fw_parse_err fw_parse_l4(const uint8_t *l4, uint32_t l4len, struct fw_pkt *k)
{
	switch (k->proto) {
	case 6: {
		if (l4len < 20)
			return FW_PARSE_L4_TRUNCATED;
		uint32_t doff = (l4[12] >> 4) * 4u;
		if (doff < 20 || doff > l4len)
			return FW_PARSE_L4_TRUNCATED;
		k->sport = fw_rd16(l4);
		k->dport = fw_rd16(l4 + 2);
		k->seq = fw_rd32(l4 + 4);
		k->ack = fw_rd32(l4 + 8);
		k->tcp_flags = l4[13];
		k->win = fw_rd16(l4 + 14);
		k->payload_len = l4len - doff;
		if (k->tcp_flags & FW_TCP_SYN)
			k->wscale = fw_tcp_wscale(l4 + 20, doff - 20);
		return FW_PARSE_OK;
	}
	case 17:
		if (l4len < 8)
			return FW_PARSE_L4_TRUNCATED;
		k->sport = fw_rd16(l4);
		k->dport = fw_rd16(l4 + 2);
		return FW_PARSE_OK;
	case 1:
	case 58:
		if (k->proto != fw_icmp_proto(k->family))
			return FW_PARSE_OK; /* ICMPv4 in IPv6 or the reverse: just another protocol */
		if (l4len < 8)
			return FW_PARSE_L4_TRUNCATED;
		k->icmp_type = l4[0];
		k->icmp_code = l4[1];
		if (fw_icmp_is_error(k->family, l4[0])) {
			k->icmp_error = true;
			return fw_parse_embedded(k->family, l4 + 8, l4len - 8, k->dst, &k->emb);
		}
		if (fw_icmp_has_id(k->family, l4[0]))
			k->sport = k->dport = fw_rd16(l4 + 4);
		return FW_PARSE_OK;
	default:
		return FW_PARSE_OK;
	}
}

/* Fragment sanity shared by both families; max: the most bytes the fragmentable part may reach. */
static inline enum fw_parse_err fw_frag_check(struct fw_pkt *k, uint32_t max)
{
	if (k->frag_off + k->frag_len > max || k->frag_len == 0) /* e.g. the "ping of death" */
		return FW_PARSE_FRAG_BAD;
	if (k->mf && (k->frag_len & 7))
		return FW_PARSE_FRAG_BAD; /* only the last fragment may end off an 8-byte boundary */
	if (k->frag_off == 8 && k->frag_proto == 6)
		return FW_PARSE_FRAG_BAD; /* could rewrite the first fragment's TCP flags (RFC 1858) */
	return FW_PARSE_OK;
}

/* A first fragment must carry the whole transport header (RFC 1858, RFC 7112): otherwise it is a tiny one. */
static inline enum fw_parse_err fw_parse_l4_of(const uint8_t *l4, uint32_t l4len, struct fw_pkt *k)
{
	enum fw_parse_err rc = fw_parse_l4(l4, l4len, k);
	if (rc == FW_PARSE_L4_TRUNCATED && k->frag == FW_FRAG_FIRST)
		return FW_PARSE_FRAG_BAD;
	return rc;
}

/* Parse the IPv4 packet at p (len bytes available from its header on). */
static inline enum fw_parse_err fw_parse_ip4(const uint8_t *p, uint32_t len, struct fw_pkt *k)
{
	memset(k, 0, offsetof(struct fw_pkt, src));
	k->wscale = FW_WSCALE_NONE;
	if (len < 20 || (p[0] >> 4) != 4)
		return FW_PARSE_L3_BAD;
	uint32_t ihl = (p[0] & 0xfu) * 4, total = fw_rd16(p + 2);
	if (ihl < 20 || total < ihl || total > len)
		return FW_PARSE_L3_BAD;
	k->family = 4;
	k->proto = k->frag_proto = p[9];
	k->l3_len = total;
	k->l4_off = (uint16_t)ihl;
	fw_addr4_copy(k->src, p + 12);
	fw_addr4_copy(k->dst, p + 16);
	uint16_t fo = fw_rd16(p + 6);
	if (fo & 0x3fff) {
		k->frag_id = fw_rd16(p + 4);
		k->frag_off = (fo & 0x1fffu) * 8;
		k->frag_len = total - ihl;
		k->mf = fo & 0x2000;
		k->frag = k->frag_off ? FW_FRAG_LATER : FW_FRAG_FIRST;
		enum fw_parse_err rc = fw_frag_check(k, 65535 - ihl);
		if (rc != FW_PARSE_OK || k->frag == FW_FRAG_LATER)
			return rc;
	}
	return fw_parse_l4_of(p + ihl, total - ihl, k);
}

/* Parse the IPv6 packet at p (len bytes available from its header on). */
static inline enum fw_parse_err fw_parse_ip6(const uint8_t *p, uint32_t len, struct fw_pkt *k)
{
	memset(k, 0, offsetof(struct fw_pkt, src));
	k->wscale = FW_WSCALE_NONE;
	if (len < 40 || (p[0] >> 4) != 6)
		return FW_PARSE_L3_BAD;
	uint32_t total = 40u + fw_rd16(p + 4);
	if (total == 40 || total > len)
		return FW_PARSE_L3_BAD;
	k->family = 6;
	k->l3_len = total;
	memcpy(k->src, p + 8, 16);
	memcpy(k->dst, p + 24, 16);
	uint8_t proto;
	uint32_t off, fh;
	enum fw_parse_err rc = fw_ip6_walk(p, total, &proto, &off, &fh);
	if (rc != FW_PARSE_OK)
		return rc;
	k->proto = k->frag_proto = proto;
	k->l4_off = (uint16_t)off;
	if (fh != 0) {
		uint16_t fo = fw_rd16(p + fh + 2);
		if (fo & 0xfff9) { /* offset or M set: a real fragment, not an atomic one (RFC 6946) */
			k->frag_proto = p[fh];
			k->frag_id = fw_rd32(p + fh + 4);
			k->frag_off = fo & 0xfff8u;
			k->frag_len = total - (fh + 8);
			k->mf = fo & 1;
			k->frag = k->frag_off ? FW_FRAG_LATER : FW_FRAG_FIRST;
			rc = fw_frag_check(k, 65535 - (fh - 40)); /* reassembled payload: unfragmentable part + data */
			if (rc != FW_PARSE_OK || k->frag == FW_FRAG_LATER)
				return rc;
		}
	}
	return fw_parse_l4_of(p + off, total - off, k);
}

/* Either family, by the version nibble. */
static inline enum fw_parse_err fw_parse(const uint8_t *p, uint32_t len, struct fw_pkt *k)
{
	if (len >= 1 && (p[0] >> 4) == 6)
		return fw_parse_ip6(p, len, k);
	return fw_parse_ip4(p, len, k);
}

#endif
