/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4/IPv6 header checks, the extension header walker and the Internet checksum. Each verdict is provoked by the
 * smallest corruption of a valid header; random headers and buffers are compared with naive references written
 * here. Truncated inputs are copied into buffers of exactly that size so that valgrind sees any over-read.
 */
#include "lib/hdr/ip_checks.h"
#include "dataplane/nodes/ip4_util.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

/* Copy of the first len bytes in a heap block of exactly len bytes (at least 1 so that malloc returns one). */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memcpy(c, p, len);
	return c;
}

static enum ip4_verdict ip4_check_exact(const uint8_t *p, size_t len)
{
	uint8_t *c = exact_copy(p, len);
	enum ip4_verdict v = ip4_check(c, len);
	free(c);
	return v;
}

static bool ip4_plain_ok_exact(const uint8_t *p, size_t len, unsigned *total, bool csum_verified)
{
	uint8_t *c = exact_copy(p, len);
	bool ok = ip4_plain_ok(c, len, total, csum_verified);
	free(c);
	return ok;
}

static enum ip6_verdict ip6_check_exact(const uint8_t *p, size_t len)
{
	uint8_t *c = exact_copy(p, len);
	enum ip6_verdict v = ip6_check(c, len);
	free(c);
	return v;
}

/* Naive reference checksum: byte by byte, 64-bit accumulator, end-around carry done with a modulo. */
static uint16_t naive_csum(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += i % 2 == 0 ? (uint64_t)p[i] * 256 : p[i];
	uint64_t folded = sum % 0xffff;
	if (folded == 0 && sum != 0)
		folded = 0xffff; /* one's complement: a non-zero multiple of 0xffff is "negative zero" */
	return (uint16_t)(0xffff - folded);
}

/* ---- IPv4 ---- */

static void ip4_set_checksum(uint8_t *h)
{
	unsigned ihl = (h[0] & 0xf) * 4u;
	h[10] = h[11] = 0;
	uint16_t c = naive_csum(h, ihl);
	h[10] = c >> 8;
	h[11] = c & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Valid header of ihl_words 32-bit words (options: NOPs), announcing total bytes, with the given addresses. */
static void ip4_build(uint8_t *h, unsigned ihl_words, unsigned total, uint32_t src, uint32_t dst)
{
	memset(h, 0, ihl_words * 4);
	h[0] = 0x40 | ihl_words;
	h[2] = total >> 8;
	h[3] = total & 0xff;
	h[4] = 0x12; /* id */
	h[5] = 0x34;
	h[6] = 0x40; /* DF */
	h[8] = 64;   /* TTL */
	h[9] = 17;   /* UDP */
	put_be32(h + 12, src);
	put_be32(h + 16, dst);
	memset(h + 20, 1, ihl_words * 4 - 20);
	ip4_set_checksum(h);
}

#define SRC_OK 0xc0000201u /* 192.0.2.1 */
#define DST_OK 0xc6336402u /* 198.51.100.2 */

static void test_ip4_valid(void)
{
	uint8_t pkt[100];
	for (unsigned ihl = 5; ihl <= 15; ihl++) {
		memset(pkt, 0xee, sizeof(pkt));
		ip4_build(pkt, ihl, 100, SRC_OK, DST_OK);
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, 100), IP4_OK);
		ip4_build(pkt, ihl, ihl * 4, SRC_OK, DST_OK);
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, ihl * 4), IP4_OK); /* header only */
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, 100), IP4_OK);      /* frame longer than the packet: padding */
	}
}

static void test_ip4_truncated(void)
{
	uint8_t pkt[60];
	/* A 40-byte header (IHL 10): any shorter buffer is truncated. */
	ip4_build(pkt, 10, 40, SRC_OK, DST_OK);
	for (size_t len = 0; len < 40; len++)
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, len), IP4_TRUNCATED);
	CU_ASSERT_EQUAL(ip4_check_exact(pkt, 40), IP4_OK);
	/* A 20-byte header announcing 40 bytes: truncated below 20, then the total length is too big. */
	ip4_build(pkt, 5, 40, SRC_OK, DST_OK);
	for (size_t len = 0; len < 40; len++)
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, len), len < 20 ? IP4_TRUNCATED : IP4_BAD_LENGTH);
	CU_ASSERT_EQUAL(ip4_check_exact(pkt, 40), IP4_OK);
	/* Maximum header, 60 bytes. */
	ip4_build(pkt, 15, 60, SRC_OK, DST_OK);
	for (size_t len = 0; len < 60; len++)
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, len), IP4_TRUNCATED);
	CU_ASSERT_EQUAL(ip4_check_exact(pkt, 60), IP4_OK);
}

static void test_ip4_version_and_ihl(void)
{
	uint8_t pkt[40];
	for (unsigned v = 0; v < 16; v++) {
		ip4_build(pkt, 5, 40, SRC_OK, DST_OK);
		pkt[0] = (uint8_t)(v << 4 | 5);
		ip4_set_checksum(pkt);
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, 40), v == 4 ? IP4_OK : IP4_BAD_VERSION);
	}
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		ip4_build(pkt, 5, 40, SRC_OK, DST_OK);
		pkt[0] = (uint8_t)(0x40 | ihl);
		CU_ASSERT_EQUAL(ip4_check_exact(pkt, 40), IP4_BAD_IHL);
	}
}

static void test_ip4_total_length(void)
{
	uint8_t pkt[80];
	for (unsigned ihl = 5; ihl <= 15; ihl += 5) {
		for (unsigned total = 0; total <= 80; total++) {
			ip4_build(pkt, ihl, total, SRC_OK, DST_OK);
			enum ip4_verdict want = total < ihl * 4 || total > 64 ? IP4_BAD_LENGTH : IP4_OK;
			CU_ASSERT_EQUAL(ip4_check_exact(pkt, 64), want);
		}
	}
	ip4_build(pkt, 5, 0xffff, SRC_OK, DST_OK);
	CU_ASSERT_EQUAL(ip4_check_exact(pkt, 80), IP4_BAD_LENGTH);
}

static void test_ip4_checksum(void)
{
	uint8_t pkt[60];
	for (unsigned ihl = 5; ihl <= 15; ihl++) {
		ip4_build(pkt, ihl, 60, SRC_OK, DST_OK);
		unsigned c = (unsigned)pkt[10] << 8 | pkt[11];
		/* 0x0000 and 0xffff are both zero in one's complement: an off-by-one there would go unnoticed. */
		CU_ASSERT_FATAL(c != 0 && c != 0xffff);
		for (int delta = -1; delta <= 1; delta += 2) {
			unsigned bad = (c + (unsigned)delta) & 0xffff;
			pkt[10] = bad >> 8;
			pkt[11] = bad & 0xff;
			CU_ASSERT_EQUAL(ip4_check_exact(pkt, 60), IP4_BAD_CHECKSUM);
		}
		/* One bit flipped anywhere in the header, option bytes included. */
		for (unsigned byte = 0; byte < ihl * 4; byte++) {
			if (byte < 4)
				continue; /* version, IHL and total length have verdicts of their own */
			ip4_build(pkt, ihl, 60, SRC_OK, DST_OK);
			pkt[byte] ^= 0x01;
			CU_ASSERT_EQUAL(ip4_check_exact(pkt, 60), IP4_BAD_CHECKSUM);
		}
	}
}

static void test_ip4_martians(void)
{
	static const struct {
		uint32_t src, dst;
		enum ip4_verdict want;
	} cases[] = {
		{0x00000000, DST_OK, IP4_MARTIAN_SRC},     /* 0.0.0.0 */
		{0x00ffffff, DST_OK, IP4_MARTIAN_SRC},     /* 0/8 top */
		{0x7f000001, DST_OK, IP4_MARTIAN_SRC},     /* loopback */
		{0x7fffffff, DST_OK, IP4_MARTIAN_SRC},     /* 127/8 top */
		{0xe0000001, DST_OK, IP4_MARTIAN_SRC},     /* multicast */
		{0xefffffff, DST_OK, IP4_MARTIAN_SRC},     /* 224/4 top */
		{0xf0000000, DST_OK, IP4_MARTIAN_SRC},     /* class E */
		{0xfffffffe, DST_OK, IP4_MARTIAN_SRC},     /* class E top */
		{0xffffffff, DST_OK, IP4_MARTIAN_SRC},     /* limited broadcast */
		{SRC_OK, 0x00000000, IP4_MARTIAN_DST},     /* 0/8 */
		{SRC_OK, 0x00123456, IP4_MARTIAN_DST},
		{SRC_OK, 0x7f000001, IP4_MARTIAN_DST},     /* loopback */
		{SRC_OK, 0x7fffffff, IP4_MARTIAN_DST},
		{0x7f000001, 0x7f000001, IP4_MARTIAN_SRC}, /* source is checked first */
		/* Boundaries that are fine. */
		{0x01000000, DST_OK, IP4_OK},
		{0x7effffff, DST_OK, IP4_OK},
		{0x80000000, DST_OK, IP4_OK},
		{0xdfffffff, DST_OK, IP4_OK},
		{SRC_OK, 0x01000000, IP4_OK},
		{SRC_OK, 0x80000000, IP4_OK},
		{SRC_OK, 0xe0000001, IP4_OK}, /* multicast destination */
		{SRC_OK, 0xf0000001, IP4_OK},
		{SRC_OK, 0xffffffff, IP4_OK}, /* broadcast destination */
	};
	uint8_t pkt[20];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ip4_build(pkt, 5, 20, cases[i].src, cases[i].dst);
		enum ip4_verdict got = ip4_check_exact(pkt, 20);
		if (got != cases[i].want)
			printf("\nmartian case %zu: got %d want %d\n", i, got, cases[i].want);
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
}

/* Independent reading of RFC 1812 5.2.2 plus the martian rules, in the order the header documents. */
static enum ip4_verdict naive_ip4_check(const uint8_t *p, size_t len)
{
	if (len < 20)
		return IP4_TRUNCATED;
	unsigned version = p[0] / 16, header_bytes = (p[0] % 16) * 4;
	if (version != 4)
		return IP4_BAD_VERSION;
	if (header_bytes < 20)
		return IP4_BAD_IHL;
	if (header_bytes > len)
		return IP4_TRUNCATED;
	unsigned total = p[2] * 256u + p[3];
	if (total < header_bytes || total > len)
		return IP4_BAD_LENGTH;
	/* A correct header sums to negative zero, so checksumming it (field included) yields 0. */
	if (naive_csum(p, header_bytes) != 0)
		return IP4_BAD_CHECKSUM;
	uint32_t src = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
	uint32_t dst = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
	bool this_net = src >> 24 == 0, loopback = src >> 24 == 127, multicast = src >> 28 == 0xe;
	bool class_e = src >> 28 == 0xf, broadcast = src == 0xffffffffu;
	if (this_net || loopback || multicast || class_e || broadcast)
		return IP4_MARTIAN_SRC;
	if (dst >> 24 == 0 || dst >> 24 == 127)
		return IP4_MARTIAN_DST;
	return IP4_OK;
}

/* Addresses: fully random, random first octet, or a class boundary. */
static uint32_t random_v4(void)
{
	static const uint32_t edges[] = {
		0x00000000, 0x00ffffff, 0x01000000, 0x7effffff, 0x7f000000, 0x7fffffff, 0x80000000,
		0xdfffffff, 0xe0000000, 0xefffffff, 0xf0000000, 0xfffffffe, 0xffffffff,
	};
	switch (rnd(4)) {
	case 0:
		return edges[rnd(sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return (uint32_t)rnd(256) << 24 | rnd(1u << 24);
	default:
		return (uint32_t)rnd(1u << 31) * 2 + rnd(2);
	}
}

static void test_ip4_random_vs_reference(void)
{
	enum { RUNS = 100000 };
	unsigned seen[IP4_MARTIAN_DST + 1] = {0}, plain_seen = 0, verified_seen = 0;
	uint8_t pkt[80];
	for (int run = 0; run < RUNS; run++) {
		unsigned ihl = 5 + rnd(11);
		unsigned total = rnd(4) ? ihl * 4 + rnd(81 - ihl * 4) : rnd(0x10000);
		size_t len = rnd(2) && total <= 80 ? total + rnd(81 - total) : rnd(81);
		uint32_t src = random_v4(), dst = random_v4();
		for (size_t i = 0; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)rnd(256);
		ip4_build(pkt, ihl, total, src, dst);
		for (size_t i = ihl * 4 - (ihl > 5 ? 4 : 0); i < ihl * 4; i++)
			pkt[i] = (uint8_t)rnd(256); /* random option bytes */
		if (rnd(2))
			ip4_set_checksum(pkt);
		unsigned mutations = rnd(4);
		for (unsigned m = 0; m < mutations; m++) {
			unsigned at = rnd(rnd(2) ? 20 : 60);
			pkt[at] ^= (uint8_t)(1u << rnd(8));
		}
		if (rnd(3) == 0 && (pkt[0] & 0xf) >= 5)
			ip4_set_checksum(pkt); /* let corruptions of other fields reach their own verdicts */
		enum ip4_verdict want = naive_ip4_check(pkt, len);
		enum ip4_verdict got = ip4_check_exact(pkt, len);
		if (got != want) {
			printf("\nrun %d len %zu: got %d want %d\n", run, len, got, want);
			CU_FAIL("ip4_check differs from the reference");
			return;
		}
		seen[want]++;
		/* The fast path's one-pass judgement: valid, no options, a destination the router forwards. */
		unsigned total_field = 0;
		bool plain_want = want == IP4_OK && (pkt[0] & 0xf) == 5 && pkt[16] < 224;
		bool plain_got = ip4_plain_ok_exact(pkt, len, &total_field, false);
		if (plain_got != plain_want || (plain_got && total_field != (pkt[2] * 256u + pkt[3]))) {
			printf("\nrun %d len %zu: ip4_plain_ok %d, want %d\n", run, len, plain_got, plain_want);
			CU_FAIL("ip4_plain_ok differs from ip4_check");
			return;
		}
		plain_seen += plain_got;
		/* With the NIC's "checksum good": the same judgement as ip4_check on the header with its checksum right. */
		bool verified_want = false;
		if (len >= 20 && (pkt[0] & 0xf) == 5) {
			uint8_t fixed[sizeof(pkt)];
			memcpy(fixed, pkt, sizeof(fixed));
			ip4_set_checksum(fixed);
			verified_want = naive_ip4_check(fixed, len) == IP4_OK && fixed[16] < 224;
		}
		total_field = 0;
		bool verified_got = ip4_plain_ok_exact(pkt, len, &total_field, true);
		if (verified_got != verified_want || (verified_got && total_field != (pkt[2] * 256u + pkt[3]))) {
			printf("\nrun %d len %zu: ip4_plain_ok (checksum verified) %d, want %d\n", run, len, verified_got,
			       verified_want);
			CU_FAIL("ip4_plain_ok with a verified checksum differs from ip4_check");
			return;
		}
		verified_seen += verified_got && !plain_got; /* a bad checksum the NIC's verdict overrides */
	}
	for (int v = 0; v <= IP4_MARTIAN_DST; v++) {
		if (seen[v] < 100)
			printf("\nverdict %d seen only %u times\n", v, seen[v]);
		CU_ASSERT(seen[v] >= 100);
	}
	CU_ASSERT(plain_seen >= 100);
	CU_ASSERT(verified_seen >= 100);
}

/* ---- IPv6 ---- */

static void ip6_build(uint8_t *h, unsigned payload_len, uint8_t next_header)
{
	static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0x12, [15] = 2};
	memset(h, 0, 40);
	h[0] = 0x60;
	h[1] = 0x0a; /* traffic class / flow label bits must not matter */
	h[3] = 0x77;
	h[4] = payload_len >> 8;
	h[5] = payload_len & 0xff;
	h[6] = next_header;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
}

static void test_ip6_checks(void)
{
	uint8_t pkt[100];
	memset(pkt, 0, sizeof(pkt));
	ip6_build(pkt, 60, 17);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 100), IP6_OK);
	for (size_t len = 0; len < 40; len++)
		CU_ASSERT_EQUAL(ip6_check_exact(pkt, len), IP6_TRUNCATED);
	for (size_t len = 40; len < 100; len++)
		CU_ASSERT_EQUAL(ip6_check_exact(pkt, len), IP6_BAD_LENGTH);
	/* Padding after the payload is fine; a zero payload length (jumbogram) is refused. */
	ip6_build(pkt, 1, 17);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 41), IP6_OK);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 100), IP6_OK);
	ip6_build(pkt, 0, 17);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 100), IP6_BAD_LENGTH);
	ip6_build(pkt, 0xffff, 17);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 100), IP6_BAD_LENGTH);
	for (unsigned v = 0; v < 16; v++) {
		ip6_build(pkt, 60, 17);
		pkt[0] = (uint8_t)(v << 4);
		CU_ASSERT_EQUAL(ip6_check_exact(pkt, 100), v == 6 ? IP6_OK : IP6_BAD_VERSION);
	}
}

/* An address of one of the classes the express path tells apart, boundaries included. */
static void random_v6(uint8_t a[16])
{
	for (int i = 0; i < 16; i++)
		a[i] = (uint8_t)rnd(256);
	switch (rnd(8)) {
	case 0: /* ::/64: ::, ::1, ::2, IPv4-compatible forms */
		memset(a, 0, 8);
		if (rnd(2)) {
			memset(a + 8, 0, 7);
			a[15] = (uint8_t)rnd(3);
		}
		break;
	case 1: /* multicast */
		a[0] = 0xff;
		break;
	case 2: /* fe80::/10 and its neighbours fe40::/10, fec0::/10 */
		a[0] = 0xfe;
		a[1] = (uint8_t)(rnd(4) << 6 | rnd(64));
		break;
	case 3: /* a first half with one non-zero byte */
		memset(a, 0, 8);
		a[rnd(8)] = (uint8_t)(1 + rnd(255));
		break;
	default: /* global unicast, mostly */
		a[0] = (uint8_t)(0x20 + rnd(2));
		break;
	}
}

static bool ip6_addr_plain_ref(const uint8_t *a)
{
	static const uint8_t zero[8];
	bool in_zero_64 = memcmp(a, zero, 8) == 0;
	bool multicast = a[0] == 0xff;
	bool link_local = a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
	return !in_zero_64 && !multicast && !link_local;
}

/* The express path's one-pass judgement: plain exactly when ip6_check() says OK and both addresses are plain. */
static void test_ip6_plain_vs_reference(void)
{
	enum { RUNS = 100000 };
	unsigned plain_seen = 0, ok_not_plain = 0;
	uint8_t pkt[100];
	for (int run = 0; run < RUNS; run++) {
		size_t len = rnd(4) ? 40 + rnd(61) : rnd(100);
		unsigned plen = rnd(4) ? (len > 40 ? rnd((unsigned)(len - 40) + 2) : rnd(3)) : rnd(0x10000);
		ip6_build(pkt, plen, (uint8_t)rnd(256));
		for (size_t i = 40; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)rnd(256);
		if (rnd(8) == 0)
			pkt[0] = (uint8_t)(rnd(16) << 4 | (pkt[0] & 0xf));
		pkt[1] = (uint8_t)rnd(256);
		pkt[7] = (uint8_t)rnd(256); /* hop limit: the send loop's, not this check's */
		random_v6(pkt + 8);
		random_v6(pkt + 24);
		bool want = ip6_check_exact(pkt, len) == IP6_OK && ip6_addr_plain_ref(pkt + 8) &&
			    ip6_addr_plain_ref(pkt + 24);
		uint8_t *c = exact_copy(pkt, len);
		unsigned total = 0;
		bool got = ip6_plain_ok(c, len, &total);
		free(c);
		if (got != want || (got && total != 40u + (pkt[4] * 256u + pkt[5]))) {
			printf("\nrun %d len %zu: ip6_plain_ok %d, want %d\n", run, len, got, want);
			CU_FAIL("ip6_plain_ok differs from the reference");
			return;
		}
		plain_seen += got;
		ok_not_plain += !got && ip6_check_exact(pkt, len) == IP6_OK;
	}
	CU_ASSERT(plain_seen >= 1000);
	CU_ASSERT(ok_not_plain >= 1000);
}

static void test_ip6_martians(void)
{
	uint8_t pkt[48];
	memset(pkt, 0, sizeof(pkt));
	/* Source: multicast (any ff00::/8) and loopback. */
	ip6_build(pkt, 8, 17);
	pkt[8] = 0xff;
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_MARTIAN_SRC);
	pkt[9] = 0x02;
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_MARTIAN_SRC);
	ip6_build(pkt, 8, 17);
	memset(pkt + 8, 0, 16);
	pkt[23] = 1;
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_MARTIAN_SRC);
	pkt[23] = 2; /* ::2 is not loopback */
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_OK);
	pkt[23] = 0; /* :: as a source (duplicate address detection) is allowed */
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_OK);
	ip6_build(pkt, 8, 17);
	pkt[8] = 0xfe; /* fe80::/10 link-local is fine */
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_OK);
	/* Destination: unspecified and loopback; multicast destination is fine. */
	ip6_build(pkt, 8, 17);
	memset(pkt + 24, 0, 16);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_MARTIAN_DST);
	pkt[39] = 1;
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_MARTIAN_DST);
	pkt[24] = 0xff; /* ff00::1 */
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_OK);
	pkt[24] = 0;
	pkt[38] = 1; /* ::101 */
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_OK);
	/* Both martian: source first. */
	ip6_build(pkt, 8, 17);
	pkt[8] = 0xff;
	memset(pkt + 24, 0, 16);
	CU_ASSERT_EQUAL(ip6_check_exact(pkt, 48), IP6_MARTIAN_SRC);
}

/* ---- IPv6 extension headers ---- */

#define NH_HOP 0
#define NH_TCP 6
#define NH_UDP 17
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_AH 51
#define NH_NONE 59
#define NH_DSTOPTS 60

struct ext_spec {
	uint8_t type;
	uint8_t len_field;    /* hdr ext len (or AH payload len) */
	uint16_t frag_offset; /* fragment only */
	bool more;            /* fragment only */
};

static size_t ext_size(const struct ext_spec *e)
{
	if (e->type == NH_FRAGMENT)
		return 8;
	if (e->type == NH_AH)
		return ((size_t)e->len_field + 2) * 4;
	return ((size_t)e->len_field + 1) * 8;
}

/* IPv6 packet with the chain of n extension headers followed by upper-layer protocol upper; returns the offset of
 * the upper-layer header. pkt must hold that offset plus 8 bytes of upper-layer data. */
static size_t build_chain(uint8_t *pkt, const struct ext_spec *chain, int n, uint8_t upper)
{
	size_t off = 40;
	for (int i = 0; i < n; i++)
		off += ext_size(&chain[i]);
	ip6_build(pkt, (unsigned)(off + 8 - 40), n ? chain[0].type : upper);
	off = 40;
	for (int i = 0; i < n; i++) {
		const struct ext_spec *e = &chain[i];
		size_t sz = ext_size(e);
		memset(pkt + off, 0xa5, sz); /* option/payload filler */
		pkt[off] = i + 1 < n ? chain[i + 1].type : upper;
		if (e->type == NH_FRAGMENT) {
			pkt[off + 1] = 0;
			unsigned field = (unsigned)e->frag_offset << 3 | (e->more ? 1 : 0);
			pkt[off + 2] = field >> 8;
			pkt[off + 3] = field & 0xff;
		} else {
			pkt[off + 1] = e->len_field;
		}
		off += sz;
	}
	memset(pkt + off, 0x5a, 8);
	return off;
}

struct walk_result {
	enum ip6_ext_verdict v;
	uint8_t proto;
	size_t offset;
	bool is_fragment;
	uint16_t frag_offset;
};

static struct walk_result walk_exact(const uint8_t *pkt, size_t len)
{
	struct walk_result r = {.proto = 0xee, .offset = 9999};
	uint8_t *c = exact_copy(pkt, len);
	r.v = ip6_walk_ext(c, len, &r.proto, &r.offset, &r.is_fragment, &r.frag_offset);
	free(c);
	return r;
}

static void test_ext_none(void)
{
	uint8_t pkt[48];
	build_chain(pkt, NULL, 0, NH_UDP);
	struct walk_result r = walk_exact(pkt, 48);
	CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
	CU_ASSERT_EQUAL(r.proto, NH_UDP);
	CU_ASSERT_EQUAL(r.offset, 40);
	CU_ASSERT_FALSE(r.is_fragment);
	CU_ASSERT_EQUAL(r.frag_offset, 0);
	/* No next header straight after the fixed header; it needs no bytes after itself. */
	build_chain(pkt, NULL, 0, NH_NONE);
	r = walk_exact(pkt, 40);
	CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
	CU_ASSERT_EQUAL(r.proto, NH_NONE);
	CU_ASSERT_EQUAL(r.offset, 40);
}

static const struct ext_spec FULL_CHAIN[] = {
	{NH_HOP, 0, 0, false},     /* 8 bytes */
	{NH_ROUTING, 2, 0, false}, /* 24 bytes */
	{NH_FRAGMENT, 0, 0, true}, /* 8 bytes, first fragment */
	{NH_DSTOPTS, 1, 0, false}, /* 16 bytes */
	{NH_AH, 4, 0, false},      /* 24 bytes */
};
#define FULL_CHAIN_BYTES (8 + 24 + 8 + 16 + 24)

static void test_ext_chain(void)
{
	uint8_t pkt[256];
	static const uint8_t uppers[] = {NH_TCP, NH_UDP, NH_NONE, 58 /* ICMPv6 */};
	for (size_t u = 0; u < sizeof(uppers); u++) {
		size_t upper_off = build_chain(pkt, FULL_CHAIN, 5, uppers[u]);
		CU_ASSERT_EQUAL_FATAL(upper_off, 40 + FULL_CHAIN_BYTES);
		struct walk_result r = walk_exact(pkt, upper_off + 8);
		CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
		CU_ASSERT_EQUAL(r.proto, uppers[u]);
		CU_ASSERT_EQUAL(r.offset, upper_off);
		CU_ASSERT_TRUE(r.is_fragment);
		CU_ASSERT_EQUAL(r.frag_offset, 0);
	}
	/* Each header type alone, at several lengths. */
	static const uint8_t types[] = {NH_HOP, NH_ROUTING, NH_DSTOPTS, NH_AH};
	for (size_t t = 0; t < sizeof(types); t++) {
		for (unsigned lf = 0; lf < 20; lf += 3) {
			struct ext_spec one = {types[t], (uint8_t)lf, 0, false};
			size_t upper_off = build_chain(pkt, &one, 1, NH_TCP);
			CU_ASSERT_EQUAL(upper_off, 40 + ext_size(&one));
			struct walk_result r = walk_exact(pkt, upper_off + 8);
			CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
			CU_ASSERT_EQUAL(r.proto, NH_TCP);
			CU_ASSERT_EQUAL(r.offset, upper_off);
			CU_ASSERT_FALSE(r.is_fragment);
		}
	}
}

/* Cut the packet at every byte: truncated until the last extension header is complete. */
static void test_ext_truncated_everywhere(void)
{
	uint8_t pkt[256];
	size_t upper_off = build_chain(pkt, FULL_CHAIN, 5, NH_UDP);
	for (size_t len = 40; len <= upper_off + 8; len++) {
		struct walk_result r = walk_exact(pkt, len);
		CU_ASSERT_EQUAL(r.v, len < upper_off ? IP6_EXT_TRUNCATED : IP6_EXT_OK);
	}
	/* A long header whose length byte claims more than the packet holds. */
	struct ext_spec big = {NH_DSTOPTS, 255, 0, false};
	uint8_t *huge = calloc(1, 40 + 2048 + 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(huge);
	upper_off = build_chain(huge, &big, 1, NH_TCP);
	CU_ASSERT_EQUAL(upper_off, 40 + 2048);
	CU_ASSERT_EQUAL(walk_exact(huge, upper_off - 1).v, IP6_EXT_TRUNCATED);
	CU_ASSERT_EQUAL(walk_exact(huge, 48).v, IP6_EXT_TRUNCATED);
	CU_ASSERT_EQUAL(walk_exact(huge, upper_off).v, IP6_EXT_OK);
	free(huge);
}

static void test_ext_too_many(void)
{
	uint8_t pkt[256];
	struct ext_spec chain[10];
	for (int i = 0; i < 10; i++)
		chain[i] = (struct ext_spec){i % 2 ? NH_DSTOPTS : NH_ROUTING, 0, 0, false};
	for (int n = 0; n <= 10; n++) {
		for (int last = 0; last < 2; last++) {
			uint8_t upper = last ? NH_NONE : NH_TCP;
			size_t upper_off = build_chain(pkt, chain, n, upper);
			struct walk_result r = walk_exact(pkt, upper_off + 8);
			if (n <= 8) {
				CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
				CU_ASSERT_EQUAL(r.proto, upper);
				CU_ASSERT_EQUAL(r.offset, upper_off);
			} else {
				CU_ASSERT_EQUAL(r.v, IP6_EXT_TOO_MANY);
			}
		}
	}
	/* Eight with a first fragment among them still count as eight. */
	chain[3] = (struct ext_spec){NH_FRAGMENT, 0, 0, true};
	size_t upper_off = build_chain(pkt, chain, 8, NH_UDP);
	CU_ASSERT_EQUAL(walk_exact(pkt, upper_off + 8).v, IP6_EXT_OK);
	upper_off = build_chain(pkt, chain, 9, NH_UDP);
	CU_ASSERT_EQUAL(walk_exact(pkt, upper_off + 8).v, IP6_EXT_TOO_MANY);
}

static void test_ext_fragment(void)
{
	uint8_t pkt[128];
	static const uint16_t offsets[] = {0, 1, 2, 0x100, 0x555, 0x1000, 0x1fff};
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		for (int more = 0; more <= 1; more++) {
			struct ext_spec chain[] = {{NH_HOP, 0, 0, false}, {NH_FRAGMENT, 0, offsets[i], more}};
			size_t upper_off = build_chain(pkt, chain, 2, NH_UDP);
			pkt[40 + 8 + 3] |= 0x06; /* reserved bits between offset and M must not leak into the offset */
			pkt[40 + 8 + 1] = 0xff;  /* nor the reserved byte */
			struct walk_result r = walk_exact(pkt, upper_off + 8);
			CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
			CU_ASSERT_TRUE(r.is_fragment);
			CU_ASSERT_EQUAL(r.frag_offset, offsets[i]);
			CU_ASSERT_EQUAL(r.proto, NH_UDP);
			CU_ASSERT_EQUAL(r.offset, upper_off);
		}
	}
	/* A fragment header truncated at every byte. */
	struct ext_spec frag = {NH_FRAGMENT, 0, 0, true};
	size_t upper_off = build_chain(pkt, &frag, 1, NH_TCP);
	for (size_t len = 40; len < upper_off; len++)
		CU_ASSERT_EQUAL(walk_exact(pkt, len).v, IP6_EXT_TRUNCATED);
}

/*
 * A later fragment carries data right after its fragment header, even when the header's next header names an
 * extension header (it belongs to the first fragment): the walk must stop there rather than parse the data.
 */
static void test_ext_non_first_fragment(void)
{
	uint8_t pkt[128];
	struct ext_spec chain[] = {{NH_HOP, 0, 0, false}, {NH_FRAGMENT, 0, 185, false}};
	size_t data_off = build_chain(pkt, chain, 2, NH_DSTOPTS);
	pkt[data_off + 1] = 0xff; /* data that would read as a 2 KiB destination options header */
	struct walk_result r = walk_exact(pkt, data_off + 8);
	CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
	CU_ASSERT_TRUE(r.is_fragment);
	CU_ASSERT_EQUAL(r.frag_offset, 185);
	CU_ASSERT_EQUAL(r.proto, NH_DSTOPTS);
	CU_ASSERT_EQUAL(r.offset, data_off);
	/* Even with no data bytes at all. */
	r = walk_exact(pkt, data_off);
	CU_ASSERT_EQUAL(r.v, IP6_EXT_OK);
	CU_ASSERT_EQUAL(r.offset, data_off);
}

/* ---- Checksum ---- */

static void test_csum_known_values(void)
{
	/* RFC 1071 section 3 example: the sum of these words is 0xddf2. */
	static const uint8_t rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CU_ASSERT_EQUAL(inet_csum_fold(inet_csum_add(0, rfc1071, sizeof(rfc1071))), (uint16_t)~0xddf2);
	CU_ASSERT_EQUAL(inet_csum_fold(inet_csum_add(0, rfc1071, 0)), 0xffff);
	/* Odd length: the last byte is the high half of a zero-padded word. */
	static const uint8_t odd[] = {0x12, 0x34, 0x56};
	CU_ASSERT_EQUAL(inet_csum_fold(inet_csum_add(0, odd, 3)), (uint16_t)~(0x1234 + 0x5600));
	/* Carries around the end. */
	static const uint8_t ones[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
	CU_ASSERT_EQUAL(inet_csum_fold(inet_csum_add(0, ones, sizeof(ones))), (uint16_t)~0x0001);
	/* A header with its own checksum in place sums to zero after folding. */
	uint8_t hdr[20];
	ip4_build(hdr, 5, 20, SRC_OK, DST_OK);
	CU_ASSERT_EQUAL(inet_csum_fold(inet_csum_add(0, hdr, 20)), 0);
	CU_ASSERT_EQUAL(inet_csum_fold(0x1fffe), 0);
	CU_ASSERT_EQUAL(inet_csum_fold(0xffff), 0);
	CU_ASSERT_EQUAL(inet_csum_fold(0), 0xffff);
}

static void test_csum_random_vs_naive(void)
{
	enum { RUNS = 20000, MAX_LEN = 1600 };
	uint8_t *buf = malloc(MAX_LEN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	for (int run = 0; run < RUNS; run++) {
		size_t len = rnd(MAX_LEN + 1);
		int fill = rnd(4); /* all-ones and all-zero buffers stress the carries and the zero cases */
		for (size_t i = 0; i < len; i++)
			buf[i] = fill == 0 ? 0xff : fill == 1 ? 0 : (uint8_t)rnd(256);
		uint8_t *exact = exact_copy(buf, len);
		uint16_t got = inet_csum_fold(inet_csum_add(0, exact, len));
		uint16_t want = naive_csum(buf, len);
		/* Split at an even boundary: incremental sums must agree with the whole. */
		size_t split = len ? rnd((uint32_t)len + 1) & ~(size_t)1 : 0;
		uint32_t head = inet_csum_add(0, exact, split);
		uint16_t split_sum = inet_csum_fold(inet_csum_add(head, exact + split, len - split));
		free(exact);
		if (got != want || split_sum != want) {
			printf("\nlen %zu: got %#x split %#x want %#x\n", len, got, split_sum, want);
			CU_FAIL("checksum differs from the naive reference");
			break;
		}
	}
	free(buf);
}

static void test_ip6_pseudo_sum(void)
{
	uint8_t hdr[40], pseudo[40];
	for (int run = 0; run < 10000; run++) {
		for (int i = 0; i < 40; i++)
			hdr[i] = (uint8_t)rnd(256);
		uint32_t ulen = rnd(4) ? rnd(0x10000) : (uint32_t)rnd(1u << 31) * 2 + rnd(2);
		uint8_t proto = (uint8_t)rnd(256);
		/* RFC 8200 8.1: source, destination, 32-bit length, three zero bytes, next header. */
		memcpy(pseudo, hdr + 8, 32);
		put_be32(pseudo + 32, ulen);
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = proto;
		uint16_t got = inet_csum_fold(ip6_pseudo_sum(hdr, ulen, proto));
		if (got != naive_csum(pseudo, 40)) {
			CU_FAIL("pseudo-header sum differs from the naive reference");
			break;
		}
	}
}

/*
 * ttl_decrement (the forwarding nodes' incremental update) against the checksum computed anew: every identification
 * value, so that the checksum field takes each value it can (0x0000-0xfffe), at random TTLs; and a header whose
 * checksum 0x0000 was written as 0xffff (the same sum, "negative zero"), which must come out as computed.
 */
static void test_ip4_ttl_decrement(void)
{
	unsigned seen_zero = 0, seen_negative_zero = 0;
	for (unsigned id = 0; id < 0x10000; id++) {
		uint8_t h[20], want[20];
		ip4_build(h, 5, 20, SRC_OK, DST_OK);
		h[4] = id >> 8;
		h[5] = id & 0xff;
		h[8] = (uint8_t)(2 + rnd(254));
		ip4_set_checksum(h);
		for (int negative_zero = 0; negative_zero < 2; negative_zero++) {
			if (negative_zero) {
				if (h[10] != 0 || h[11] != 0)
					break;
				h[10] = h[11] = 0xff; /* the same header sum */
				seen_negative_zero++;
			}
			seen_zero += h[10] == 0 && h[11] == 0;
			memcpy(want, h, sizeof(h));
			want[8]--;
			ip4_set_checksum(want);
			uint8_t got[20];
			memcpy(got, h, sizeof(h));
			ttl_decrement((struct rte_ipv4_hdr *)got);
			if (memcmp(got, want, sizeof(got)) != 0) {
				printf("\nid %#x ttl %u checksum %02x%02x: got %02x%02x want %02x%02x\n", id, h[8], h[10], h[11],
				       got[10], got[11], want[10], want[11]);
				CU_FAIL("ttl_decrement differs from the checksum computed anew");
				return;
			}
		}
	}
	CU_ASSERT(seen_zero >= 1);
	CU_ASSERT(seen_negative_zero >= 1);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("ip_checks", NULL, NULL);
	CU_add_test(s, "ip4 valid", test_ip4_valid);
	CU_add_test(s, "ip4 truncated", test_ip4_truncated);
	CU_add_test(s, "ip4 version and ihl", test_ip4_version_and_ihl);
	CU_add_test(s, "ip4 total length", test_ip4_total_length);
	CU_add_test(s, "ip4 checksum", test_ip4_checksum);
	CU_add_test(s, "ip4 martians", test_ip4_martians);
	CU_add_test(s, "ip4 random vs reference", test_ip4_random_vs_reference);
	CU_add_test(s, "ip4 ttl decrement", test_ip4_ttl_decrement);
	CU_add_test(s, "ip6 checks", test_ip6_checks);
	CU_add_test(s, "ip6 martians", test_ip6_martians);
	CU_add_test(s, "ip6 plain vs reference", test_ip6_plain_vs_reference);
	CU_add_test(s, "ext: none", test_ext_none);
	CU_add_test(s, "ext: chain", test_ext_chain);
	CU_add_test(s, "ext: truncated everywhere", test_ext_truncated_everywhere);
	CU_add_test(s, "ext: too many", test_ext_too_many);
	CU_add_test(s, "ext: fragment offset", test_ext_fragment);
	CU_add_test(s, "ext: non-first fragment", test_ext_non_first_fragment);
	CU_add_test(s, "csum known values", test_csum_known_values);
	CU_add_test(s, "csum random vs naive", test_csum_random_vs_naive);
	CU_add_test(s, "ip6 pseudo-header sum", test_ip6_pseudo_sum);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
