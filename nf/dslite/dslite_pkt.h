/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DS-Lite packet helpers on bytes (no mbuf, no EAL): B4 prefix match, the outer fragment size, and the relay of ICMPv6 errors about softwire packets (RFC 6333 section 6, RFC 2473
 * section 8): parse the error, find the IPv4 packet it quotes, turn that quote back into what the remote host sent
 * (destination = the public address and port). Tested by nf/dslite/test_dslite_pkt.c.
 *
 * Addresses: IPv6 as 16 bytes, IPv4 host-order numbers (as nf/nat/nat_xlat.h).
 */
#ifndef NPSGW_DSLITE_PKT_H
#define NPSGW_DSLITE_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/hdr/csum.h"
#include "nf/nat/nat_xlat.h"

#define DSLITE_IP6_HDR 40
#define DSLITE_FRAG_HDR 8
#define DSLITE_ICMP6 58
/* Bytes of the inner packet the translation reads or writes at most (IPv4 header 60, TCP header 60, or an ICMP
 * error's 8 bytes + quoted header 60 + 18 of its transport header): must lie in the first segment. */
#define DSLITE_INNER_HDR_NEED 192
/* The AFTR's well-known IPv4 subnet (RFC 6333 section 5.7): 192.0.0.0/29; inner packets to it are for the AFTR. */
#define DSLITE_WK_NET 0xc0000000u
#define DSLITE_WK_MASK 0xfffffff8u

/* Does the IPv6 address a lie in prefix p/len? */
static inline bool dslite_prefix_match(const uint8_t a[16], const uint8_t p[16], uint8_t len)
{
	unsigned full = len / 8u, rest = len % 8u;
	if (full > 16)
		return false;
	if (memcmp(a, p, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ p[full]) & mask) == 0;
}

/* The MTU to give rte_ipv6_fragment_packet(): each fragment's data (MTU - IPv6 - fragment header) a multiple of 8. */
static inline uint16_t dslite_frag_mtu(uint16_t mtu)
{
	uint32_t data = (uint32_t)mtu - DSLITE_IP6_HDR - DSLITE_FRAG_HDR;
	return (uint16_t)(DSLITE_IP6_HDR + DSLITE_FRAG_HDR + (data & ~7u));
}

enum dslite_icmp6_rc {
	DSLITE_I6_PASS = 0,   /* not an ICMPv6 error about a softwire packet of this AFTR: not ours */
	DSLITE_I6_OK,         /* *e filled */
	DSLITE_I6_TRUNCATED,  /* about a softwire packet, but the quote lacks the inner IPv4 header + 8 bytes */
};

/* An ICMPv6 error about a packet the AFTR sent into a softwire. Offsets from the outer IPv6 header. */
struct dslite_icmp6_err {
	uint8_t type, code;
	uint32_t mtu;         /* packet too big: the MTU it reports */
	const uint8_t *b4;    /* the quoted packet's destination: the B4 */
	uint32_t inner_off;   /* the quoted inner IPv4 header */
	uint32_t inner_len;   /* bytes of it quoted */
	/* the quoted inner IPv4 packet (sent by a remote host to an inside host, as translated) */
	uint8_t proto, ihl;
	uint32_t src, dst;
	uint16_t sport, dport; /* ICMP query: the identifier in both */
	bool has_ports;
};

/*
 * p: an IPv6 packet (len bytes) whose upper-layer header is ICMPv6 at offset icmp_off, addressed to aftr. An error
 * (type 1 to 4) quoting an IPv6 packet from aftr with next header 4 is about a softwire: DSLITE_I6_OK when the quote
 * holds the inner IPv4 header and 8 bytes of what follows it.
 */
static inline enum dslite_icmp6_rc dslite_icmp6_parse(const uint8_t *p, uint32_t len, uint32_t icmp_off,
						      const uint8_t aftr[16], struct dslite_icmp6_err *e)
{
	if (icmp_off + 8 > len || p[icmp_off] < 1 || p[icmp_off] > 4)
		return DSLITE_I6_PASS;
	uint32_t q6 = icmp_off + 8;
	if (q6 + DSLITE_IP6_HDR > len)
		return DSLITE_I6_PASS;
	const uint8_t *q = p + q6;
	if ((q[0] >> 4) != 6 || q[6] != NAT_PROTO_IPIP || memcmp(q + 8, aftr, 16) != 0)
		return DSLITE_I6_PASS;
	memset(e, 0, sizeof(*e));
	e->type = p[icmp_off];
	e->code = p[icmp_off + 1];
	e->mtu = csum_rd32(p + icmp_off + 4);
	e->b4 = q + 24;
	e->inner_off = q6 + DSLITE_IP6_HDR;
	e->inner_len = len - e->inner_off;
	const uint8_t *ip = p + e->inner_off;
	if (e->inner_len < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
		return DSLITE_I6_TRUNCATED;
	e->ihl = (uint8_t)((ip[0] & 0xf) * 4);
	if (e->inner_len < (uint32_t)e->ihl + 8u || (csum_rd16(ip + 6) & 0x1fff) != 0)
		return DSLITE_I6_TRUNCATED; /* no ports in a non-first fragment: no session to name */
	e->proto = ip[9];
	e->src = csum_rd32(ip + 12);
	e->dst = csum_rd32(ip + 16);
	const uint8_t *l4 = ip + e->ihl;
	if (e->proto == NAT_PROTO_TCP || e->proto == NAT_PROTO_UDP) {
		e->sport = csum_rd16(l4);
		e->dport = csum_rd16(l4 + 2);
		e->has_ports = true;
	} else if (e->proto == NAT_PROTO_ICMP && nat_icmp_has_id(l4[0])) {
		e->sport = e->dport = csum_rd16(l4 + 4);
		e->has_ports = true;
	}
	return DSLITE_I6_OK;
}

/*
 * The quoted inner IPv4 packet at ip (qlen bytes of it, header included, parsed into e) back to what its remote
 * sender sent: destination address pub_addr, destination port (ICMP query: identifier) pub_port. The IPv4 header
 * checksum is fixed, and the transport checksum when the quote holds it (UDP: 0 stays 0).
 */
static inline void dslite_quote_restore(uint8_t *ip, uint32_t qlen, const struct dslite_icmp6_err *e,
					uint32_t pub_addr, uint16_t pub_port)
{
	uint32_t da = nat_set_addr(ip, ip + 16, pub_addr);
	uint8_t *l4 = ip + e->ihl;
	uint32_t l4len = qlen - e->ihl;
	if (e->proto == NAT_PROTO_TCP || e->proto == NAT_PROTO_UDP) {
		uint32_t d = da + csum_delta16(csum_rd16(l4 + 2), pub_port);
		csum_wr16(l4 + 2, pub_port);
		if (e->proto == NAT_PROTO_TCP && l4len >= 18)
			csum_field_apply(l4 + 16, d, 0);
		else if (e->proto == NAT_PROTO_UDP && l4len >= 8)
			csum_field_apply(l4 + 6, d, 1);
	} else if (e->proto == NAT_PROTO_ICMP && e->has_ports) {
		uint32_t d = csum_delta16(csum_rd16(l4 + 4), pub_port);
		csum_wr16(l4 + 4, pub_port);
		csum_field_apply(l4 + 2, d, 0);
	}
}

/* The ICMPv4 "fragmentation needed" MTU relayed for an ICMPv6 packet too big (RFC 6333 section 6): the IPv6 path
 * MTU less the IPv6 header, never above the softwire's own (aftr_mtu - 40), never below 1280 - 40. */
static inline uint16_t dslite_ptb_mtu4(uint32_t mtu6, uint16_t aftr_mtu)
{
	if (mtu6 < 1280)
		mtu6 = 1280;
	if (mtu6 > aftr_mtu)
		mtu6 = aftr_mtu;
	return (uint16_t)(mtu6 - DSLITE_IP6_HDR);
}

#endif
