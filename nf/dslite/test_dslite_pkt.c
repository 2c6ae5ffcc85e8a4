/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of nf/dslite/dslite_pkt.h: B4 prefix match, outer fragment size, ICMPv6 error relay parsing and the
 * restored quote's checksums (against full recomputation). */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib/hdr/ip_checks.h"
#include "nf/dslite/dslite_pkt.h"

static const uint8_t AFTR[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1};
static const uint8_t B4[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 4, [15] = 0x10};

static void test_prefix_match(void)
{
	uint8_t p[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 4, [15] = 0x10};
	CU_ASSERT_TRUE(dslite_prefix_match(B4, p, 127));
	CU_ASSERT_TRUE(dslite_prefix_match(B4, p, 128));
	uint8_t b[16];
	memcpy(b, B4, 16);
	b[15] = 0x11;
	CU_ASSERT_TRUE(dslite_prefix_match(b, p, 127));
	CU_ASSERT_FALSE(dslite_prefix_match(b, p, 128));
	b[15] = 0x20;
	CU_ASSERT_FALSE(dslite_prefix_match(b, p, 127));
	CU_ASSERT_TRUE(dslite_prefix_match(b, p, 64));
	CU_ASSERT_TRUE(dslite_prefix_match(b, p, 0));
	b[5] = 5; /* differs in bit 47 */
	CU_ASSERT_FALSE(dslite_prefix_match(b, p, 48));
	CU_ASSERT_TRUE(dslite_prefix_match(b, p, 45));
	CU_ASSERT_FALSE(dslite_prefix_match(b, p, 200));
}

static void test_frag_mtu(void)
{
	for (unsigned mtu = 1280; mtu <= 9000; mtu++) {
		uint16_t f = dslite_frag_mtu((uint16_t)mtu);
		CU_ASSERT_TRUE(f <= mtu && f + 8u > mtu);
		CU_ASSERT_EQUAL((f - 48) % 8, 0);
	}
	CU_ASSERT_EQUAL(dslite_ptb_mtu4(1300, 1500), 1260);
	CU_ASSERT_EQUAL(dslite_ptb_mtu4(1000, 1500), 1240); /* below the IPv6 minimum: 1280 */
	CU_ASSERT_EQUAL(dslite_ptb_mtu4(9000, 1500), 1460); /* never above the softwire's own */
}

/* A full checksum of data (RFC 1071). */
static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	return inet_csum_fold(inet_csum_add(s, p, n));
}

/* IPv6 to AFTR: ICMPv6 PTB quoting AFTR -> B4 softwire packet with inner IPv4 proto from 203.0.113.2:53 to
 * 192.168.1.2:port (payload n bytes); quote cut at qcut bytes of the inner packet. Returns the length. */
static uint32_t build_ptb(uint8_t *p, uint8_t proto, uint16_t port, uint32_t n, uint32_t qcut)
{
	uint8_t inner[1600];
	uint32_t l4 = proto == NAT_PROTO_TCP ? 20 : 8, tot = 20 + l4 + n;
	memset(inner, 0, sizeof(inner));
	inner[0] = 0x45;
	csum_wr16(inner + 2, (uint16_t)tot);
	inner[8] = 60;
	inner[9] = proto;
	csum_wr32(inner + 12, 0xcb007102);
	csum_wr32(inner + 16, 0xc0a80102);
	csum_wr16(inner + 10, sum16(inner, 20, 0));
	uint8_t *t = inner + 20;
	for (uint32_t i = 0; i < n; i++)
		t[l4 + i] = (uint8_t)(i * 7 + 1);
	if (proto == NAT_PROTO_ICMP) {
		t[0] = 0; /* echo reply, id = port */
		csum_wr16(t + 4, port);
		csum_wr16(t + 2, sum16(t, l4 + n, 0));
	} else {
		csum_wr16(t, 53);
		csum_wr16(t + 2, port);
		if (proto == NAT_PROTO_TCP)
			t[12] = 0x50;
		else
			csum_wr16(t + 4, (uint16_t)(l4 + n));
		uint8_t ph[12];
		memcpy(ph, inner + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		csum_wr16(ph + 10, (uint16_t)(l4 + n));
		csum_wr16(t + (proto == NAT_PROTO_TCP ? 16 : 6),
			  sum16(t, l4 + n, inet_csum_add(0, ph, 12)));
	}
	uint32_t q = qcut < tot ? qcut : tot;
	memset(p, 0, 40 + 8 + 40);
	p[0] = 0x60;
	csum_wr16(p + 4, (uint16_t)(8 + 40 + q));
	p[6] = DSLITE_ICMP6;
	p[7] = 64;
	memcpy(p + 24, AFTR, 16);
	p[40] = 2; /* packet too big */
	csum_wr32(p + 44, 1300);
	uint8_t *q6 = p + 48;
	q6[0] = 0x60;
	csum_wr16(q6 + 4, (uint16_t)tot);
	q6[6] = NAT_PROTO_IPIP;
	q6[7] = 64;
	memcpy(q6 + 8, AFTR, 16);
	memcpy(q6 + 24, B4, 16);
	memcpy(q6 + 40, inner, q);
	return 88 + q;
}

static void check_restored(uint8_t proto, uint32_t n, uint32_t qcut)
{
	uint8_t p[2000];
	uint32_t len = build_ptb(p, proto, 1234, n, qcut);
	struct dslite_icmp6_err e = {0};
	CU_ASSERT_EQUAL_FATAL(dslite_icmp6_parse(p, len, 40, AFTR, &e), DSLITE_I6_OK);
	CU_ASSERT_EQUAL(e.type, 2);
	CU_ASSERT_EQUAL(e.mtu, 1300);
	CU_ASSERT_EQUAL(memcmp(e.b4, B4, 16), 0);
	CU_ASSERT_EQUAL(e.inner_off, 88);
	CU_ASSERT_EQUAL(e.proto, proto);
	CU_ASSERT_EQUAL(e.src, 0xcb007102);
	CU_ASSERT_EQUAL(e.dst, 0xc0a80102);
	CU_ASSERT_EQUAL(e.dport, 1234);
	uint8_t *ip = p + e.inner_off;
	dslite_quote_restore(ip, e.inner_len, &e, 0xc6336408, 40000);
	CU_ASSERT_EQUAL(csum_rd32(ip + 16), 0xc6336408);
	CU_ASSERT_EQUAL(sum16(ip, 20, 0), 0); /* header checksum right */
	uint8_t *t = ip + 20;
	uint32_t l4 = proto == NAT_PROTO_TCP ? 20 : 8;
	CU_ASSERT_EQUAL(csum_rd16(t + (proto == NAT_PROTO_ICMP ? 4 : 2)), 40000);
	if (e.inner_len >= 20 + l4 + n) { /* whole quote: the transport checksum verifies from scratch */
		uint32_t s = 0;
		if (proto != NAT_PROTO_ICMP) {
			uint8_t ph[12];
			memcpy(ph, ip + 12, 8);
			ph[8] = 0;
			ph[9] = proto;
			csum_wr16(ph + 10, (uint16_t)(l4 + n));
			s = inet_csum_add(0, ph, 12);
		}
		CU_ASSERT_EQUAL(sum16(t, l4 + n, s), 0);
	}
}

static void test_icmp6_relay(void)
{
	check_restored(NAT_PROTO_UDP, 100, 2000);
	check_restored(NAT_PROTO_TCP, 333, 2000);
	check_restored(NAT_PROTO_ICMP, 64, 2000);
	check_restored(NAT_PROTO_UDP, 1400, 1184); /* cut quote: only header and port rewritten */
	check_restored(NAT_PROTO_TCP, 1400, 30);

	uint8_t p[2000];
	struct dslite_icmp6_err e = {0};
	uint32_t len = build_ptb(p, NAT_PROTO_UDP, 1, 10, 2000);
	p[40] = 128; /* echo request: not an error */
	CU_ASSERT_EQUAL(dslite_icmp6_parse(p, len, 40, AFTR, &e), DSLITE_I6_PASS);
	p[40] = 1;
	uint8_t other[16] = {0x20, 0x01, [15] = 9};
	CU_ASSERT_EQUAL(dslite_icmp6_parse(p, len, 40, other, &e), DSLITE_I6_PASS); /* not quoting this AFTR */
	p[48 + 6] = 17; /* quote not IPv4-in-IPv6 */
	CU_ASSERT_EQUAL(dslite_icmp6_parse(p, len, 40, AFTR, &e), DSLITE_I6_PASS);
	len = build_ptb(p, NAT_PROTO_UDP, 1, 10, 24); /* quote of 24 inner bytes: no ports */
	CU_ASSERT_EQUAL(dslite_icmp6_parse(p, len, 40, AFTR, &e), DSLITE_I6_TRUNCATED);
	len = build_ptb(p, NAT_PROTO_UDP, 1, 10, 2000);
	csum_wr16(p + 88 + 6, 0x0010); /* quoting a non-first fragment */
	CU_ASSERT_EQUAL(dslite_icmp6_parse(p, len, 40, AFTR, &e), DSLITE_I6_TRUNCATED);
	CU_ASSERT_EQUAL(dslite_icmp6_parse(p, 60, 40, AFTR, &e), DSLITE_I6_PASS); /* too short to quote anything */
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("dslite_pkt", NULL, NULL);
	CU_add_test(s, "B4 prefix match", test_prefix_match);
	CU_add_test(s, "outer fragment size, relayed MTU", test_frag_mtu);
	CU_add_test(s, "ICMPv6 error relay: parse, quote restored", test_icmp6_relay);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
