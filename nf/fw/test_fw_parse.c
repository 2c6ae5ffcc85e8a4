/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's packet parser (nf/fw/fw_parse.h): every field of normal TCP/UDP/ICMP packets of both families,
 * IPv6 extension header chains, fragments, ICMP errors and their quoted packets, and each parse error provoked by
 * the smallest change to a valid packet. Inputs are copied into heap blocks of exactly their length so that ASan
 * or valgrind see any over-read; random mutations of valid packets check that nothing reads out of bounds.
 */
#include "nf/fw/fw_parse.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A4_SRC "192.0.2.1"
#define A4_DST "198.51.100.7"
#define A6_SRC "2001:db8::1"
#define A6_DST "2001:db8:1::99"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static enum fw_parse_err parse_exact(const uint8_t *p, uint32_t len, struct fw_pkt *k)
{
	uint8_t *c = malloc(len ? len : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memcpy(c, p, len);
	enum fw_parse_err rc = fw_parse(c, len, k);
	free(c);
	return rc;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static void addr(int af, const char *s, uint8_t *out)
{
	CU_ASSERT_FATAL(inet_pton(af, s, out) == 1);
}

/* Transport headers: each writes at b and returns its length. */
static uint32_t tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		    uint16_t win, const uint8_t *opts, uint32_t optlen, uint32_t payload)
{
	uint32_t hl = 20 + optlen;
	memset(b, 0, hl + payload);
	wr16(b, sport);
	wr16(b + 2, dport);
	wr32(b + 4, seq);
	wr32(b + 8, ack);
	b[12] = (uint8_t)((hl / 4) << 4);
	b[13] = flags;
	wr16(b + 14, win);
	if (optlen)
		memcpy(b + 20, opts, optlen);
	return hl + payload;
}

static uint32_t udp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t payload)
{
	memset(b, 0, 8 + payload);
	wr16(b, sport);
	wr16(b + 2, dport);
	wr16(b + 4, (uint16_t)(8 + payload));
	return 8 + payload;
}

static uint32_t icmp(uint8_t *b, uint8_t type, uint8_t code, uint16_t id, const uint8_t *quote, uint32_t qlen)
{
	memset(b, 0, 8);
	b[0] = type;
	b[1] = code;
	wr16(b + 4, id);
	wr16(b + 6, 1);
	if (qlen)
		memcpy(b + 8, quote, qlen);
	return 8 + qlen;
}

/* IPv4 packet around l4 (copied after the header). frag: the flags/offset field. */
static uint32_t ip4(uint8_t *b, uint8_t proto, const char *src, const char *dst, uint16_t id, uint16_t frag,
		    const uint8_t *l4, uint32_t l4len)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	wr16(b + 2, (uint16_t)(20 + l4len));
	wr16(b + 4, id);
	wr16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	addr(AF_INET, src, b + 12);
	addr(AF_INET, dst, b + 16);
	memmove(b + 20, l4, l4len);
	return 20 + l4len;
}

static uint32_t ip6(uint8_t *b, uint8_t nh, const char *src, const char *dst, const uint8_t *payload, uint32_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	wr16(b + 4, (uint16_t)plen);
	b[6] = nh;
	b[7] = 64;
	addr(AF_INET6, src, b + 8);
	addr(AF_INET6, dst, b + 24);
	memmove(b + 40, payload, plen);
	return 40 + plen;
}

/* Generic extension header (hop-by-hop, destination options, routing) of (units + 1) * 8 bytes. */
static uint32_t ext(uint8_t *b, uint8_t nh, uint8_t units)
{
	uint32_t len = (units + 1u) * 8;
	memset(b, 0, len);
	b[0] = nh;
	b[1] = units;
	b[2] = 1; /* options: PadN; routing: type 1 (not 0) */
	b[3] = (uint8_t)(len - 4);
	return len;
}

static uint32_t routing(uint8_t *b, uint8_t nh, uint8_t type)
{
	uint32_t len = ext(b, nh, 2);
	b[2] = type;
	b[3] = 1; /* segments left */
	return len;
}

static uint32_t ah(uint8_t *b, uint8_t nh)
{
	memset(b, 0, 24);
	b[0] = nh;
	b[1] = 4; /* (4 + 2) * 4 = 24 bytes */
	return 24;
}

static uint32_t frag6(uint8_t *b, uint8_t nh, uint16_t off_bytes, bool more, uint32_t id)
{
	memset(b, 0, 8);
	b[0] = nh;
	wr16(b + 2, (uint16_t)(off_bytes | (more ? 1 : 0)));
	wr32(b + 4, id);
	return 8;
}

static const uint8_t wscale_opts[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7}; /* MSS 1460, NOP, window scale 7 */

static void test_ip4_tcp(void)
{
	uint8_t l4[64], pkt[128];
	struct fw_pkt k;
	uint32_t l = tcp(l4, 40000, 443, 1000, 0, FW_TCP_SYN, 29200, wscale_opts, 8, 0);
	uint32_t n = ip4(pkt, 6, A4_SRC, A4_DST, 7, 0x4000 /* DF */, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	uint8_t s[4], d[4];
	addr(AF_INET, A4_SRC, s);
	addr(AF_INET, A4_DST, d);
	CU_ASSERT_EQUAL(k.family, 4);
	CU_ASSERT_EQUAL(k.proto, 6);
	CU_ASSERT_EQUAL(memcmp(k.src, s, 4), 0);
	CU_ASSERT_EQUAL(memcmp(k.dst, d, 4), 0);
	static const uint8_t zero[12];
	CU_ASSERT_EQUAL(memcmp(k.src + 4, zero, 12), 0);
	CU_ASSERT_EQUAL(k.sport, 40000);
	CU_ASSERT_EQUAL(k.dport, 443);
	CU_ASSERT_EQUAL(k.seq, 1000);
	CU_ASSERT_EQUAL(k.tcp_flags, FW_TCP_SYN);
	CU_ASSERT_EQUAL(k.win, 29200);
	CU_ASSERT_EQUAL(k.wscale, 7);
	CU_ASSERT_EQUAL(k.payload_len, 0);
	CU_ASSERT_EQUAL(k.l3_len, n);
	CU_ASSERT_EQUAL(k.l4_off, 20);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_NONE);
	CU_ASSERT_FALSE(k.icmp_error);

	/* A data segment: no window scale read (not a SYN), payload counted, bytes past total length ignored. */
	l = tcp(l4, 443, 40000, 5000, 1001, FW_TCP_ACK | 0x08, 512, wscale_opts, 8, 10);
	n = ip4(pkt, 6, A4_DST, A4_SRC, 8, 0, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n + 6, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.ack, 1001);
	CU_ASSERT_EQUAL(k.wscale, FW_WSCALE_NONE);
	CU_ASSERT_EQUAL(k.payload_len, 10);

	/* Window scale above 14 is clamped (RFC 7323 2.3); a malformed option list ends the walk quietly. */
	uint8_t big[4] = {3, 3, 20, 0};
	l = tcp(l4, 1, 2, 0, 0, FW_TCP_SYN, 1, big, 4, 0);
	n = ip4(pkt, 6, A4_SRC, A4_DST, 9, 0, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.wscale, 14);
	uint8_t bad[4] = {1, 8, 0, 0}; /* NOP, then an option claiming to run past the header */
	l = tcp(l4, 1, 2, 0, 0, FW_TCP_SYN, 1, bad, 4, 0);
	n = ip4(pkt, 6, A4_SRC, A4_DST, 9, 0, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.wscale, FW_WSCALE_NONE);
}

static void test_ip4_udp_icmp_other(void)
{
	uint8_t l4[64], pkt[128];
	struct fw_pkt k;
	uint32_t n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 0, l4, udp(l4, 5353, 53, 12));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 17);
	CU_ASSERT_EQUAL(k.sport, 5353);
	CU_ASSERT_EQUAL(k.dport, 53);

	n = ip4(pkt, 1, A4_SRC, A4_DST, 1, 0, l4, icmp(l4, 8, 0, 0x1234, NULL, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 1);
	CU_ASSERT_EQUAL(k.icmp_type, 8);
	CU_ASSERT_EQUAL(k.icmp_code, 0);
	CU_ASSERT_EQUAL(k.sport, 0x1234);
	CU_ASSERT_EQUAL(k.dport, 0x1234);
	CU_ASSERT_FALSE(k.icmp_error);

	/* An ICMP type without identifier (router advertisement): ports 0 */
	n = ip4(pkt, 1, A4_SRC, A4_DST, 1, 0, l4, icmp(l4, 9, 0, 0x1234, NULL, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.sport, 0);
	CU_ASSERT_EQUAL(k.icmp_type, 9);

	/* GRE: no ports, nothing read past the IP header */
	memset(l4, 0xaa, 4);
	n = ip4(pkt, 47, A4_SRC, A4_DST, 1, 0, l4, 4);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 47);
	CU_ASSERT_EQUAL(k.sport, 0);
	CU_ASSERT_EQUAL(k.dport, 0);
	/* ICMPv6 inside IPv4 is just another protocol */
	n = ip4(pkt, 58, A4_SRC, A4_DST, 1, 0, l4, 4);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_FALSE(k.icmp_error);
}

static void test_ip4_l3_bad(void)
{
	uint8_t l4[64], pkt[128];
	struct fw_pkt k;
	uint32_t n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 0, l4, udp(l4, 1, 2, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, 19, &k), FW_PARSE_L3_BAD);
	CU_ASSERT_EQUAL(parse_exact(pkt, n - 1, &k), FW_PARSE_L3_BAD); /* total length past the buffer */
	pkt[0] = 0x44;
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L3_BAD);
	pkt[0] = 0x55;
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L3_BAD);
	pkt[0] = 0x47; /* IHL 28 > total 28? total is 28: header 28 leaves 0 bytes of UDP */
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L4_TRUNCATED);
	pkt[0] = 0x48; /* IHL 32 > total length 28 */
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L3_BAD);
}

static void test_l4_truncated(void)
{
	uint8_t l4[64], pkt[128];
	struct fw_pkt k;
	uint32_t l = tcp(l4, 1, 2, 3, 4, FW_TCP_ACK, 5, NULL, 0, 0);
	uint32_t n = ip4(pkt, 6, A4_SRC, A4_DST, 1, 0, l4, 19); /* one byte short of a TCP header */
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L4_TRUNCATED);
	l4[12] = 4 << 4; /* data offset 4: below the minimum */
	n = ip4(pkt, 6, A4_SRC, A4_DST, 1, 0, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L4_TRUNCATED);
	l4[12] = 6 << 4; /* data offset 6: options past the segment */
	n = ip4(pkt, 6, A4_SRC, A4_DST, 1, 0, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L4_TRUNCATED);
	l4[12] = 5 << 4;
	n = ip4(pkt, 6, A4_SRC, A4_DST, 1, 0, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);

	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 0, l4, 7);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L4_TRUNCATED);
	n = ip4(pkt, 1, A4_SRC, A4_DST, 1, 0, l4, 7);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L4_TRUNCATED);

	uint8_t p6[128];
	n = ip6(p6, 6, A6_SRC, A6_DST, l4, 19);
	CU_ASSERT_EQUAL(parse_exact(p6, n, &k), FW_PARSE_L4_TRUNCATED);
	n = ip6(p6, 58, A6_SRC, A6_DST, l4, 7);
	CU_ASSERT_EQUAL(parse_exact(p6, n, &k), FW_PARSE_L4_TRUNCATED);
}

static void test_ip4_fragments(void)
{
	uint8_t l4[128], pkt[256];
	struct fw_pkt k;
	/* First fragment: MF, offset 0, whole TCP header plus 20 bytes of data (40 bytes, a multiple of 8). */
	uint32_t l = tcp(l4, 1000, 80, 1, 0, FW_TCP_SYN, 100, NULL, 0, 20);
	uint32_t n = ip4(pkt, 6, A4_SRC, A4_DST, 0xbeef, 0x2000, l4, l);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_FIRST);
	CU_ASSERT_EQUAL(k.frag_id, 0xbeef);
	CU_ASSERT_EQUAL(k.frag_off, 0);
	CU_ASSERT_EQUAL(k.frag_len, 40);
	CU_ASSERT_TRUE(k.mf);
	CU_ASSERT_EQUAL(k.frag_proto, 6);
	CU_ASSERT_EQUAL(k.sport, 1000);
	CU_ASSERT_EQUAL(k.dport, 80);

	/* Later fragment: offset 40 bytes (5 units), last: no transport header read, ports 0. */
	memset(l4, 0xff, 13);
	n = ip4(pkt, 6, A4_SRC, A4_DST, 0xbeef, 5, l4, 13);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_LATER);
	CU_ASSERT_EQUAL(k.frag_off, 40);
	CU_ASSERT_EQUAL(k.frag_len, 13);
	CU_ASSERT_FALSE(k.mf);
	CU_ASSERT_EQUAL(k.proto, 6);
	CU_ASSERT_EQUAL(k.sport, 0);
	CU_ASSERT_EQUAL(k.tcp_flags, 0);

	/* Tiny first fragment: 16 bytes of a TCP header. */
	l = tcp(l4, 1000, 80, 1, 0, FW_TCP_SYN, 100, NULL, 0, 0);
	n = ip4(pkt, 6, A4_SRC, A4_DST, 1, 0x2000, l4, 16);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* ... and a UDP one with 0 bytes... is a zero-length fragment */
	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 0x2000, l4, 0);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* TCP fragment at offset 8 (RFC 1858) */
	n = ip4(pkt, 6, A4_SRC, A4_DST, 1, 1, l4, 8);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* ... while UDP at offset 8 is fine */
	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 1, l4, 8);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	/* MF with a length that is not a multiple of 8 */
	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 0x2000 | 2, l4, 12);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* Past 64 KiB with its header: offset 8189 units (65512 bytes) + 20 + 4 bytes */
	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 8189, l4, 4);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 8189, l4, 3);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	/* DF alone is not a fragment */
	n = ip4(pkt, 17, A4_SRC, A4_DST, 1, 0x4000, l4, udp(l4, 1, 2, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_NONE);
}

static void test_ip4_icmp_error(void)
{
	uint8_t l4[128], inner[128], pkt[256];
	struct fw_pkt k;
	/* The original: A4_DST:33434 -> A4_SRC:53 UDP; the error goes back to its source A4_DST from a router. */
	uint32_t il = ip4(inner, 17, A4_DST, A4_SRC, 9, 0, l4, udp(l4, 33434, 53, 30));
	uint32_t n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_TRUE(k.icmp_error);
	CU_ASSERT_EQUAL(k.icmp_type, 11);
	CU_ASSERT_EQUAL(k.emb.proto, 17);
	CU_ASSERT_EQUAL(k.emb.sport, 33434);
	CU_ASSERT_EQUAL(k.emb.dport, 53);
	uint8_t s[4], d[4];
	addr(AF_INET, A4_DST, s);
	addr(AF_INET, A4_SRC, d);
	CU_ASSERT_EQUAL(memcmp(k.emb.src, s, 4), 0);
	CU_ASSERT_EQUAL(memcmp(k.emb.dst, d, 4), 0);
	CU_ASSERT_EQUAL(k.sport, 0); /* the error's own ports stay 0: it is matched by its quoted packet */
	(void)il;

	/* Quoting a TCP segment: its ports. */
	ip4(inner, 6, A4_DST, A4_SRC, 9, 0, l4, tcp(l4, 5000, 22, 1, 2, FW_TCP_ACK, 3, NULL, 0, 0));
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 3, 4, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.emb.proto, 6);
	CU_ASSERT_EQUAL(k.emb.sport, 5000);
	CU_ASSERT_EQUAL(k.emb.dport, 22);

	/* Quoting an echo request: its identifier on both sides. */
	uint8_t echo[16];
	ip4(inner, 1, A4_DST, A4_SRC, 9, 0, echo, icmp(echo, 8, 0, 0x4242, NULL, 0));
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 3, 1, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.emb.proto, 1);
	CU_ASSERT_EQUAL(k.emb.sport, 0x4242);
	CU_ASSERT_EQUAL(k.emb.dport, 0x4242);

	/* Truncated: IP header + 7 bytes; only 19 bytes of IP header. */
	ip4(inner, 17, A4_DST, A4_SRC, 9, 0, l4, udp(l4, 33434, 53, 0));
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 27));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_TRUNCATED);
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 19));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_TRUNCATED);
	/* Inner IHL 6 (options): 24 + 8 needed, 28 given */
	inner[0] = 0x46;
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_TRUNCATED);
	/* Forged: the error's destination is not the quoted source. */
	inner[0] = 0x45;
	n = ip4(pkt, 1, "203.0.113.1", "192.0.2.77", 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	/* Forged: not IPv4 inside, or IHL below 5 */
	inner[0] = 0x65;
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	inner[0] = 0x44;
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	/* Forged: quoting a non-first fragment */
	inner[0] = 0x45;
	wr16(inner + 6, 3);
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	/* Forged: an error about an error */
	uint8_t err[16];
	ip4(inner, 1, A4_DST, A4_SRC, 9, 0, err, icmp(err, 3, 3, 0, NULL, 0));
	n = ip4(pkt, 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, 28));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
}

static void test_ip6_basic(void)
{
	uint8_t l4[64], pkt[256];
	struct fw_pkt k;
	uint32_t n = ip6(pkt, 6, A6_SRC, A6_DST, l4, tcp(l4, 1111, 22, 7, 0, FW_TCP_SYN, 65535, wscale_opts, 8, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	uint8_t s[16], d[16];
	addr(AF_INET6, A6_SRC, s);
	addr(AF_INET6, A6_DST, d);
	CU_ASSERT_EQUAL(k.family, 6);
	CU_ASSERT_EQUAL(k.proto, 6);
	CU_ASSERT_EQUAL(memcmp(k.src, s, 16), 0);
	CU_ASSERT_EQUAL(memcmp(k.dst, d, 16), 0);
	CU_ASSERT_EQUAL(k.sport, 1111);
	CU_ASSERT_EQUAL(k.dport, 22);
	CU_ASSERT_EQUAL(k.wscale, 7);
	CU_ASSERT_EQUAL(k.l4_off, 40);
	CU_ASSERT_EQUAL(k.l3_len, n);

	n = ip6(pkt, 17, A6_SRC, A6_DST, l4, udp(l4, 5000, 5001, 3));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 17);
	CU_ASSERT_EQUAL(k.dport, 5001);

	n = ip6(pkt, 58, A6_SRC, A6_DST, l4, icmp(l4, 128, 0, 0x77, NULL, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 58);
	CU_ASSERT_EQUAL(k.icmp_type, 128);
	CU_ASSERT_EQUAL(k.sport, 0x77);
	CU_ASSERT_EQUAL(k.dport, 0x77);
	CU_ASSERT_FALSE(k.icmp_error);

	/* ICMP (v4) in IPv6: another protocol */
	n = ip6(pkt, 1, A6_SRC, A6_DST, l4, icmp(l4, 8, 0, 0x77, NULL, 0));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.sport, 0);

	/* L3: payload length 0, past the buffer, wrong version, too short */
	n = ip6(pkt, 17, A6_SRC, A6_DST, l4, udp(l4, 5000, 5001, 3));
	CU_ASSERT_EQUAL(parse_exact(pkt, n - 1, &k), FW_PARSE_L3_BAD);
	CU_ASSERT_EQUAL(parse_exact(pkt, 39, &k), FW_PARSE_L3_BAD);
	wr16(pkt + 4, 0);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_L3_BAD);
}

/* Build hop-by-hop, destination options, routing (type 2), destination options, AH, then UDP. */
static uint32_t build_chain(uint8_t *pkt)
{
	uint8_t pl[512];
	uint32_t o = 0;
	o += ext(pl + o, 60, 0);
	o += ext(pl + o, 43, 1);
	o += routing(pl + o, 60, 2);
	o += ext(pl + o, 51, 0);
	o += ah(pl + o, 17);
	o += udp(pl + o, 4000, 4001, 0);
	return ip6(pkt, 0, A6_SRC, A6_DST, pl, o);
}

static void test_ip6_chain(void)
{
	uint8_t pkt[600];
	struct fw_pkt k;
	uint32_t n = build_chain(pkt);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 17);
	CU_ASSERT_EQUAL(k.sport, 4000);
	CU_ASSERT_EQUAL(k.dport, 4001);
	CU_ASSERT_EQUAL(k.l4_off, 40 + 8 + 16 + 24 + 8 + 24);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_NONE);

	/* ESP and "no next header" end the walk: no ports */
	uint8_t pl[64];
	memset(pl, 0, sizeof(pl));
	n = ip6(pkt, 50, A6_SRC, A6_DST, pl, 16);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 50);
	uint32_t o = ext(pl, 59, 0);
	n = ip6(pkt, 60, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.proto, 59);
	CU_ASSERT_EQUAL(k.l4_off, 48);
}

/* Every truncation of a chain (payload length following the cut) is an extension or transport error. */
static void test_ip6_chain_truncated_everywhere(void)
{
	uint8_t pkt[600], cut[600];
	struct fw_pkt k;
	uint32_t n = build_chain(pkt);
	uint32_t l4_off = 40 + 8 + 16 + 24 + 8 + 24;
	for (uint32_t len = 41; len < n; len++) {
		memcpy(cut, pkt, len);
		wr16(cut + 4, (uint16_t)(len - 40));
		enum fw_parse_err rc = parse_exact(cut, len, &k);
		CU_ASSERT_EQUAL(rc, len < l4_off ? FW_PARSE_EXT_TRUNCATED : FW_PARSE_L4_TRUNCATED);
	}
}

static void test_ip6_chain_bad(void)
{
	uint8_t pkt[4096], pl[4096];
	struct fw_pkt k;
	uint32_t o, n;

	/* Hop-by-hop after destination options */
	o = ext(pl, 0, 0);
	o += ext(pl + o, 17, 0);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 60, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_BAD);
	/* Hop-by-hop twice */
	o = ext(pl, 0, 0);
	o += ext(pl + o, 17, 0);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 0, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_BAD);
	/* Routing type 0 */
	o = routing(pl, 17, 0);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 43, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_BAD);
	/* ... type 4 (segment routing) is fine, twice is not */
	o = routing(pl, 17, 4);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 43, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	o = routing(pl, 43, 4);
	o += routing(pl + o, 17, 4);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 43, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_BAD);
	/* Two fragment headers */
	o = frag6(pl, 44, 0, true, 1);
	o += frag6(pl + o, 17, 0, true, 1);
	o += udp(pl + o, 1, 2, 8);
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_BAD);
	/* Three destination options headers */
	o = ext(pl, 60, 0);
	o += ext(pl + o, 60, 0);
	o += ext(pl + o, 17, 0);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 60, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_BAD);

	/* Too many: hop-by-hop and 7 AH make 8 (fine), 8 AH make 9 */
	for (unsigned n_ah = 7; n_ah <= 8; n_ah++) {
		o = ext(pl, 51, 0);
		for (unsigned i = 0; i < n_ah; i++)
			o += ah(pl + o, i + 1 < n_ah ? 51 : 17);
		o += udp(pl + o, 1, 2, 0);
		n = ip6(pkt, 0, A6_SRC, A6_DST, pl, o);
		CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), n_ah == 7 ? FW_PARSE_OK : FW_PARSE_EXT_TOO_LONG);
	}
	/* Too many bytes: one hop-by-hop header of 520 bytes (64 + 1 units); 512 is the limit */
	o = ext(pl, 17, 64);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 0, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_TOO_LONG);
	o = ext(pl, 17, 63);
	o += udp(pl + o, 1, 2, 0);
	n = ip6(pkt, 0, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	/* A header whose length runs past the packet */
	o = ext(pl, 17, 3);
	n = ip6(pkt, 60, A6_SRC, A6_DST, pl, 24);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_TRUNCATED);
	/* An extension header cut before its 8 first bytes */
	n = ip6(pkt, 60, A6_SRC, A6_DST, pl, 6);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EXT_TRUNCATED);
}

static void test_ip6_fragments(void)
{
	uint8_t pkt[256], pl[256], l4[64];
	struct fw_pkt k;
	/* First fragment: TCP header + 12 bytes data = 32 bytes (multiple of 8) */
	uint32_t o = frag6(pl, 6, 0, true, 0xdeadbeef);
	o += tcp(pl + o, 3000, 80, 1, 0, FW_TCP_SYN, 100, NULL, 0, 12);
	uint32_t n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_FIRST);
	CU_ASSERT_EQUAL(k.frag_id, 0xdeadbeef);
	CU_ASSERT_EQUAL(k.frag_off, 0);
	CU_ASSERT_EQUAL(k.frag_len, 32);
	CU_ASSERT_EQUAL(k.frag_proto, 6);
	CU_ASSERT_EQUAL(k.proto, 6);
	CU_ASSERT_EQUAL(k.sport, 3000);
	CU_ASSERT_TRUE(k.mf);

	/* Later fragment, with a destination options header before the fragment header */
	o = ext(pl, 44, 0);
	o += frag6(pl + o, 6, 32, false, 0xdeadbeef);
	memset(pl + o, 0xee, 5);
	o += 5;
	n = ip6(pkt, 60, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_LATER);
	CU_ASSERT_EQUAL(k.frag_off, 32);
	CU_ASSERT_EQUAL(k.frag_len, 5);
	CU_ASSERT_EQUAL(k.frag_proto, 6);
	CU_ASSERT_EQUAL(k.l4_off, 56);
	CU_ASSERT_FALSE(k.mf);

	/* First fragment with destination options after the fragment header: proto from the chain, key from the
	 * fragment header */
	o = frag6(pl, 60, 0, true, 5);
	o += ext(pl + o, 17, 0);
	o += udp(pl + o, 7, 8, 8);
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_FIRST);
	CU_ASSERT_EQUAL(k.proto, 17);
	CU_ASSERT_EQUAL(k.frag_proto, 60);
	CU_ASSERT_EQUAL(k.dport, 8);

	/* Atomic fragment (offset 0, no M): parsed as a whole packet (RFC 6946) */
	o = frag6(pl, 17, 0, false, 9);
	o += udp(pl + o, 7, 8, 1);
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.frag, FW_FRAG_NONE);
	CU_ASSERT_EQUAL(k.sport, 7);

	/* Tiny first fragment: 8 bytes of TCP */
	tcp(l4, 3000, 80, 1, 0, FW_TCP_SYN, 100, NULL, 0, 0);
	o = frag6(pl, 6, 0, true, 1);
	memcpy(pl + o, l4, 8);
	o += 8;
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* MF with 12 bytes */
	o = frag6(pl, 17, 16, true, 1);
	o += 12;
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* Past 64 KiB: 65528 + 8 bytes is the limit with nothing before the fragment header */
	o = frag6(pl, 17, 65528, false, 1);
	o += 7;
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	o = frag6(pl, 17, 65528, false, 1);
	o += 8;
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
	/* TCP at offset 8 */
	o = frag6(pl, 6, 8, true, 1);
	o += 16;
	n = ip6(pkt, 44, A6_SRC, A6_DST, pl, o);
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_FRAG_BAD);
}

static void test_ip6_icmp_error(void)
{
	uint8_t pkt[512], inner[256], pl[256], l4[64];
	struct fw_pkt k;
	/* Original: A6_DST -> A6_SRC UDP; "packet too big" back to A6_DST from a router */
	uint32_t il = ip6(inner, 17, A6_DST, A6_SRC, l4, udp(l4, 6000, 53, 20));
	uint32_t n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 2, 0, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_TRUE(k.icmp_error);
	CU_ASSERT_EQUAL(k.emb.proto, 17);
	CU_ASSERT_EQUAL(k.emb.sport, 6000);
	CU_ASSERT_EQUAL(k.emb.dport, 53);
	uint8_t s[16];
	addr(AF_INET6, A6_DST, s);
	CU_ASSERT_EQUAL(memcmp(k.emb.src, s, 16), 0);

	/* Quoting a packet with a destination options header and an echo request */
	uint32_t o = ext(l4, 58, 0);
	o += icmp(l4 + o, 128, 0, 0x99, NULL, 0);
	il = ip6(inner, 60, A6_DST, A6_SRC, l4, o);
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 1, 4, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_OK);
	CU_ASSERT_EQUAL(k.emb.proto, 58);
	CU_ASSERT_EQUAL(k.emb.sport, 0x99);

	/* Truncated: 40 + 7 bytes; the quoted chain cut inside its destination options */
	il = ip6(inner, 17, A6_DST, A6_SRC, l4, udp(l4, 6000, 53, 20));
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 3, 0, 0, inner, 47));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_TRUNCATED);
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 3, 0, 0, inner, 39));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_TRUNCATED);
	o = ext(l4, 58, 2);
	il = ip6(inner, 60, A6_DST, A6_SRC, l4, o);
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 1, 0, 0, inner, 40 + 16));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_TRUNCATED);
	/* Forged: sent to someone other than the quoted source; quoting IPv4; quoting an error */
	il = ip6(inner, 17, A6_DST, A6_SRC, l4, udp(l4, 6000, 53, 20));
	n = ip6(pkt, 58, "2001:db8:ffff::1", "2001:db8::bad", pl, icmp(pl, 1, 0, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	inner[0] = 0x45;
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 1, 0, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	il = ip6(inner, 58, A6_DST, A6_SRC, l4, icmp(l4, 1, 0, 0, NULL, 0));
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 1, 0, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	/* Forged: the quoted chain is malformed (routing type 0) */
	o = routing(l4, 17, 0);
	o += udp(l4 + o, 1, 2, 0);
	il = ip6(inner, 43, A6_DST, A6_SRC, l4, o);
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 1, 0, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
	/* Forged: quoting a non-first fragment */
	o = frag6(l4, 17, 64, false, 3);
	o += 16;
	il = ip6(inner, 44, A6_DST, A6_SRC, l4, o);
	n = ip6(pkt, 58, "2001:db8:ffff::1", A6_DST, pl, icmp(pl, 1, 0, 0, inner, il));
	CU_ASSERT_EQUAL(parse_exact(pkt, n, &k), FW_PARSE_EMB_FORGED);
}

/* Random bytes over valid packets of both families: any answer, but no read past the buffer (ASan/valgrind). */
static void test_random_mutations(void)
{
	uint8_t base[3][600], buf[600];
	uint32_t len[3];
	uint8_t l4[64];
	len[0] = build_chain(base[0]);
	len[1] = ip4(base[1], 6, A4_SRC, A4_DST, 1, 0, l4, tcp(l4, 1, 2, 3, 4, FW_TCP_SYN, 5, wscale_opts, 8, 0));
	uint8_t inner[64];
	uint32_t il = ip4(inner, 17, A4_DST, A4_SRC, 9, 0, l4, udp(l4, 33434, 53, 0));
	len[2] = ip4(base[2], 1, "203.0.113.1", A4_DST, 1, 0, l4, icmp(l4, 11, 0, 0, inner, il));
	unsigned counts[FW_PARSE_ERR_COUNT] = {0};
	for (int i = 0; i < 200000; i++) {
		unsigned b = rnd(3);
		uint32_t n = len[b];
		memcpy(buf, base[b], n);
		unsigned flips = 1 + rnd(4);
		for (unsigned f = 0; f < flips; f++)
			buf[rnd(n)] = (uint8_t)rnd(256);
		n = rnd(n + 1);
		struct fw_pkt k;
		enum fw_parse_err rc = parse_exact(buf, n, &k);
		CU_ASSERT_FATAL(rc < FW_PARSE_ERR_COUNT);
		counts[rc]++;
		if (rc == FW_PARSE_OK)
			CU_ASSERT(k.l4_off <= k.l3_len && k.l3_len <= n);
	}
	CU_ASSERT(counts[FW_PARSE_OK] > 0);
	CU_ASSERT(counts[FW_PARSE_L3_BAD] > 0);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("fw_parse", NULL, NULL);
	CU_add_test(s, "ipv4 tcp", test_ip4_tcp);
	CU_add_test(s, "ipv4 udp, icmp, other", test_ip4_udp_icmp_other);
	CU_add_test(s, "ipv4 header bad", test_ip4_l3_bad);
	CU_add_test(s, "transport truncated", test_l4_truncated);
	CU_add_test(s, "ipv4 fragments", test_ip4_fragments);
	CU_add_test(s, "ipv4 icmp errors", test_ip4_icmp_error);
	CU_add_test(s, "ipv6 tcp, udp, icmpv6", test_ip6_basic);
	CU_add_test(s, "ipv6 extension chain", test_ip6_chain);
	CU_add_test(s, "ipv6 chain truncated everywhere", test_ip6_chain_truncated_everywhere);
	CU_add_test(s, "ipv6 chain malformed or too long", test_ip6_chain_bad);
	CU_add_test(s, "ipv6 fragments", test_ip6_fragments);
	CU_add_test(s, "ipv6 icmp errors", test_ip6_icmp_error);
	CU_add_test(s, "random mutations", test_random_mutations);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
