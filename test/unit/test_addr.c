/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address, prefix and MAC parsing and formatting; prefix masking and containment against a naive bit-by-bit
 * reference on random input.
 */
#include "lib/hdr/addr.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 0x13198a2e03707344ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_addr_parse_good(void)
{
	static const struct {
		const char *text;
		uint8_t family;
		uint8_t bytes[16];
	} cases[] = {
		{"0.0.0.0", 4, {0}},
		{"192.0.2.1", 4, {192, 0, 2, 1}},
		{"255.255.255.255", 4, {255, 255, 255, 255}},
		{"::", 6, {0}},
		{"::1", 6, {[15] = 1}},
		{"2001:db8::1", 6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"2001:DB8:0:0:0:0:0:1", 6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
		{"fe80::1:2:3:4", 6, {0xfe, 0x80, [9] = 1, [11] = 2, [13] = 3, [15] = 4}},
		{"1:2:3:4:5:6:7:8", 6, {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
		{"::ffff:192.0.2.1", 6, {[10] = 0xff, [11] = 0xff, [12] = 192, [13] = 0, [14] = 2, [15] = 1}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6,
		 {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr a;
		memset(&a, 0xcc, sizeof(a));
		CU_ASSERT_EQUAL(addr_parse(cases[i].text, &a), 0);
		CU_ASSERT_EQUAL(a.family, cases[i].family);
		CU_ASSERT_EQUAL(memcmp(a.bytes, cases[i].bytes, 16), 0); /* IPv4 leaves bytes 4..15 zero */
	}
}

static void test_addr_parse_bad(void)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-1", "1.2.3.4/32",
		"a.b.c.d", "1..2.3", ":::", "1::2::3", "12345::", "g::1", "2001:db8::/64", "1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7", "fe80::1%eth0", "::1 ", "localhost",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct addr a;
		memset(&a, 0xcc, sizeof(a));
		int rc = addr_parse(bad[i], &a);
		if (rc == 0)
			printf("\naccepted bad address '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(a.family, 0); /* the output is cleared, never half-filled */
	}
	struct addr a;
	CU_ASSERT_EQUAL(addr_parse(NULL, &a), -1);
}

static void test_prefix_parse(void)
{
	struct addr_prefix p;
	CU_ASSERT_EQUAL(addr_prefix_parse("10.0.0.0/8", &p, true), 0);
	CU_ASSERT_EQUAL(p.addr.family, 4);
	CU_ASSERT_EQUAL(p.len, 8);
	CU_ASSERT_EQUAL(p.addr.bytes[0], 10);
	CU_ASSERT_EQUAL(addr_prefix_parse("0.0.0.0/0", &p, true), 0);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(addr_prefix_parse("192.0.2.1/32", &p, true), 0);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(addr_prefix_parse("192.0.2.1", &p, true), 0); /* bare address: host prefix */
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(addr_prefix_parse("::/0", &p, true), 0);
	CU_ASSERT_EQUAL(p.addr.family, 6);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(addr_prefix_parse("2001:db8::/32", &p, true), 0);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(addr_prefix_parse("2001:db8::1", &p, true), 0);
	CU_ASSERT_EQUAL(p.len, 128);
	CU_ASSERT_EQUAL(addr_prefix_parse("2001:db8::1/128", &p, true), 0);
	CU_ASSERT_EQUAL(p.len, 128);

	/* Host bits: refused when strict, kept as given otherwise. */
	CU_ASSERT_EQUAL(addr_prefix_parse("10.0.0.1/8", &p, true), -1);
	CU_ASSERT_EQUAL(addr_prefix_parse("10.0.0.1/8", &p, false), 0);
	CU_ASSERT_EQUAL(p.len, 8);
	CU_ASSERT_EQUAL(p.addr.bytes[3], 1);
	CU_ASSERT_EQUAL(addr_prefix_parse("2001:db8::1/64", &p, true), -1);
	CU_ASSERT_EQUAL(addr_prefix_parse("2001:db8::1/64", &p, false), 0);
	CU_ASSERT_EQUAL(addr_prefix_parse("10.128.0.0/9", &p, true), 0);
	CU_ASSERT_EQUAL(addr_prefix_parse("10.128.0.0/8", &p, true), -1);

	static const char *const bad[] = {
		"1.2.3.0/33", "::/129", "2001:db8::/200", "/", "1.2.3.4/", "/24", "x/24", "1.2.3.4/x",
		"1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/ 8", "1.2.3.4/8 ", "1.2.3.4/8/8", "1.2.3.4//8",
		"1.2.3.4/8x", "1.2.3.4/0x8", "", "1.2.3.4/99999999999999999999", "1.2.3/24", "::1::/64",
		" 10.0.0.0/8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int strict = 0; strict <= 1; strict++) {
			int rc = addr_prefix_parse(bad[i], &p, strict);
			if (rc == 0)
				printf("\naccepted bad prefix '%s'\n", bad[i]);
			CU_ASSERT_EQUAL(rc, -1);
		}
	}
	CU_ASSERT_EQUAL(addr_prefix_parse(NULL, &p, false), -1);
	/* Longer than any valid prefix text: refused without overflowing the copy. */
	char lengthy[200];
	memset(lengthy, '1', sizeof(lengthy) - 1);
	lengthy[sizeof(lengthy) - 1] = '\0';
	CU_ASSERT_EQUAL(addr_prefix_parse(lengthy, &p, false), -1);
	/* The longest valid text fits. */
	CU_ASSERT_EQUAL(addr_prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", &p, true), 0);
}

/* Strict parsing at every length: exactly the prefixes whose host bits are zero are accepted. */
static void test_prefix_strict_every_length(void)
{
	char text[ADDR_STR_MAX];
	struct addr_prefix p;
	for (unsigned len = 0; len <= 32; len++) {
		snprintf(text, sizeof(text), "255.255.255.255/%u", len);
		CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, true), len == 32 ? 0 : -1);
		CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, false), 0);
		uint32_t net = len ? 0xffffffffu << (32 - len) : 0;
		snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", net >> 24, net >> 16 & 0xff, net >> 8 & 0xff, net & 0xff,
			 len);
		CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, true), 0);
		CU_ASSERT_EQUAL(p.len, len);
		/* Only the first host bit set. */
		if (len < 32) {
			uint32_t host_bit = 1u << (31 - len);
			snprintf(text, sizeof(text), "%u.%u.%u.%u/%u", host_bit >> 24, host_bit >> 16 & 0xff,
				 host_bit >> 8 & 0xff, host_bit & 0xff, len);
			CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, true), -1);
		}
	}
	for (unsigned len = 0; len <= 128; len++) {
		snprintf(text, sizeof(text), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/%u", len);
		CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, true), len == 128 ? 0 : -1);
		struct addr_prefix built = {.addr = {.family = 6}, .len = (uint8_t)len};
		for (unsigned bit = 0; bit < len; bit++)
			built.addr.bytes[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		char addr_text[ADDR_STR_MAX];
		snprintf(text, sizeof(text), "%s/%u", addr_fmt(&built.addr, addr_text, sizeof(addr_text)), len);
		CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, true), 0);
		CU_ASSERT(addr_equal(&p.addr, &built.addr));
		if (len < 128) {
			struct addr host = {.family = 6};
			host.bytes[len / 8] = (uint8_t)(0x80 >> (len % 8));
			snprintf(text, sizeof(text), "%s/%u", addr_fmt(&host, addr_text, sizeof(addr_text)), len);
			CU_ASSERT_EQUAL(addr_prefix_parse(text, &p, true), -1);
		}
	}
}

static void test_mac_parse(void)
{
	uint8_t mac[6];
	static const uint8_t want[6] = {0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef};
	CU_ASSERT_EQUAL(mac_parse("00:1b:21:ab:cd:ef", mac), 0);
	CU_ASSERT_EQUAL(memcmp(mac, want, 6), 0);
	CU_ASSERT_EQUAL(mac_parse("00:1B:21:AB:Cd:eF", mac), 0);
	CU_ASSERT_EQUAL(memcmp(mac, want, 6), 0);
	CU_ASSERT_EQUAL(mac_parse("ff:ff:ff:ff:ff:ff", mac), 0);
	CU_ASSERT(mac[0] == 0xff && mac[5] == 0xff);

	static const char *const bad[] = {
		"", "00:1b:21:ab:cd", "00:1b:21:ab:cd:e", "0:1b:21:ab:cd:ef", "00:1b:21:ab:cd:ef:",
		"00:1b:21:ab:cd:ef:01", "00:1b:21:ab:cd:eff", "00:1b:21:ab:cd:ef ", " 00:1b:21:ab:cd:ef",
		"0g:1b:21:ab:cd:ef", "00:1b:21:ab:cd:xz", "00-1b-21-ab-cd-ef", "001b.21ab.cdef",
		"+0:1b:21:ab:cd:ef", "-1:1b:21:ab:cd:ef", " 0:1b:21:ab:cd:ef", "0x:1b:21:ab:cd:ef",
		"00:1b:21:ab:cd: f", "00:1b:21:ab:cd:+f", "00::1b:21:ab:cd:e", "1:2:3:4:5:6",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(mac, 0x77, 6);
		int rc = mac_parse(bad[i], mac);
		if (rc == 0)
			printf("\naccepted bad MAC '%s'\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT(mac[0] == 0x77 && mac[5] == 0x77); /* not written on failure */
	}
	CU_ASSERT_EQUAL(mac_parse(NULL, mac), -1);
}

static void test_format(void)
{
	char buf[ADDR_STR_MAX];
	static const char *const canonical[] = {
		"0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "::1", "2001:db8::1", "fe80::1:2:3:4",
		"1:2:3:4:5:6:7:8", "2001:db8:0:1::",
	};
	for (size_t i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++) {
		struct addr a;
		CU_ASSERT_EQUAL_FATAL(addr_parse(canonical[i], &a), 0);
		CU_ASSERT_STRING_EQUAL(addr_fmt(&a, buf, sizeof(buf)), canonical[i]);
	}
	struct addr unset = {0};
	CU_ASSERT_STRING_EQUAL(addr_fmt(&unset, buf, sizeof(buf)), "-");
	/* A buffer too small for the text gives "-" rather than a truncated address. */
	struct addr a;
	addr_parse("192.0.2.123", &a);
	char small[8];
	CU_ASSERT_STRING_EQUAL(addr_fmt(&a, small, sizeof(small)), "-");

	static const char *const prefixes[] = {"10.0.0.0/8", "0.0.0.0/0", "192.0.2.1/32", "::/0", "2001:db8::/32",
					       "2001:db8::1/128"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		struct addr_prefix p;
		CU_ASSERT_EQUAL_FATAL(addr_prefix_parse(prefixes[i], &p, true), 0);
		CU_ASSERT_STRING_EQUAL(addr_prefix_fmt(&p, buf, sizeof(buf)), prefixes[i]);
	}
	struct addr_prefix p;
	addr_prefix_parse("192.0.2.1", &p, true);
	CU_ASSERT_STRING_EQUAL(addr_prefix_fmt(&p, buf, sizeof(buf)), "192.0.2.1/32");

	static const uint8_t mac[6] = {0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef};
	CU_ASSERT_STRING_EQUAL(mac_fmt(mac, buf, sizeof(buf)), "00:1b:21:ab:cd:ef");
}

static void random_addr(struct addr *a)
{
	*a = (struct addr){.family = rnd(2) ? 4 : 6};
	size_t n = a->family == 4 ? 4 : 16;
	int style = rnd(4); /* zero runs make "::" compression happen */
	for (size_t i = 0; i < n; i++)
		a->bytes[i] = style == 0 && rnd(2) ? 0 : (uint8_t)rnd(256);
}

static void test_round_trips_random(void)
{
	char buf[ADDR_STR_MAX], again[ADDR_STR_MAX];
	for (int run = 0; run < 20000; run++) {
		struct addr a, b;
		random_addr(&a);
		addr_fmt(&a, buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(addr_parse(buf, &b), 0);
		CU_ASSERT_FATAL(addr_equal(&a, &b));
		CU_ASSERT_STRING_EQUAL_FATAL(addr_fmt(&b, again, sizeof(again)), buf);

		struct addr_prefix p = {.addr = a, .len = (uint8_t)rnd(a.family == 4 ? 33 : 129)}, q;
		addr_prefix_mask(&p);
		addr_prefix_fmt(&p, buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(addr_prefix_parse(buf, &q, true), 0);
		CU_ASSERT_FATAL(addr_equal(&p.addr, &q.addr) && p.len == q.len);

		uint8_t mac[6], mac2[6];
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)rnd(256);
		CU_ASSERT_EQUAL_FATAL(mac_parse(mac_fmt(mac, buf, sizeof(buf)), mac2), 0);
		CU_ASSERT_FATAL(memcmp(mac, mac2, 6) == 0);
	}
}

static void test_equal_and_v4_host(void)
{
	struct addr a, b;
	addr_parse("192.0.2.1", &a);
	addr_parse("192.0.2.1", &b);
	CU_ASSERT(addr_equal(&a, &b));
	addr_parse("192.0.2.2", &b);
	CU_ASSERT_FALSE(addr_equal(&a, &b));
	addr_parse("::ffff:192.0.2.1", &b); /* same bytes 12..15 in another family */
	CU_ASSERT_FALSE(addr_equal(&a, &b));
	CU_ASSERT_EQUAL(addr_v4_host(&a), 0xc0000201u);
	addr_from_v4_host(&b, 0xc0000201u);
	CU_ASSERT(addr_equal(&a, &b));
	for (int run = 0; run < 1000; run++) {
		uint32_t ip = (uint32_t)rnd(1u << 31) * 2 + rnd(2);
		addr_from_v4_host(&b, ip);
		CU_ASSERT_EQUAL(b.family, 4);
		CU_ASSERT(all_zero(b.bytes + 4, 12));
		CU_ASSERT_EQUAL(addr_v4_host(&b), ip);
	}
}

/* Naive references: one bit at a time, bit 0 being the most significant bit of byte 0. */
static bool bit_of(const uint8_t *bytes, unsigned i)
{
	return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

static void naive_mask(struct addr_prefix *p)
{
	unsigned bits = p->addr.family == 4 ? 32 : 128;
	for (unsigned i = p->len; i < bits; i++)
		p->addr.bytes[i / 8] &= (uint8_t)~(1u << (7 - i % 8));
}

static bool naive_contains(const struct addr_prefix *p, const struct addr *a)
{
	if (p->addr.family != a->family)
		return false;
	for (unsigned i = 0; i < p->len; i++)
		if (bit_of(p->addr.bytes, i) != bit_of(a->bytes, i))
			return false;
	return true;
}

static void test_mask_and_contains_random(void)
{
	unsigned inside = 0, outside = 0;
	for (int run = 0; run < 100000; run++) {
		struct addr_prefix p;
		random_addr(&p.addr);
		unsigned bits = p.addr.family == 4 ? 32 : 128;
		p.len = (uint8_t)rnd(bits + 1);

		struct addr_prefix masked = p, want = p;
		addr_prefix_mask(&masked);
		naive_mask(&want);
		CU_ASSERT_FATAL(addr_equal(&masked.addr, &want.addr) && masked.len == want.len);

		/* Candidate: the prefix's own address with one bit flipped (or none), the tail sometimes randomised. */
		struct addr a = p.addr;
		if (rnd(4)) {
			unsigned flip = rnd(bits);
			a.bytes[flip / 8] ^= (uint8_t)(0x80 >> (flip % 8));
		}
		if (rnd(4) == 0) {
			for (unsigned i = bits / 2 / 8; i < bits / 8; i++)
				a.bytes[i] = (uint8_t)rnd(256);
		}
		if (rnd(20) == 0)
			random_addr(&a);
		/* Both the prefix as parsed non-strictly (host bits kept) and masked must answer like the reference. */
		bool expect = naive_contains(&p, &a);
		CU_ASSERT_EQUAL_FATAL(addr_prefix_contains(&p, &a), expect);
		CU_ASSERT_EQUAL_FATAL(addr_prefix_contains(&masked, &a), expect);
		if (expect)
			inside++;
		else
			outside++;
	}
	CU_ASSERT(inside > 10000 && outside > 10000);

	/* Families never mix; /0 holds every address of its family. */
	struct addr_prefix v4all, v6all;
	struct addr v4, v6;
	addr_prefix_parse("0.0.0.0/0", &v4all, true);
	addr_prefix_parse("::/0", &v6all, true);
	addr_parse("0.0.0.0", &v4);
	addr_parse("::", &v6);
	CU_ASSERT(addr_prefix_contains(&v4all, &v4));
	CU_ASSERT(addr_prefix_contains(&v6all, &v6));
	CU_ASSERT_FALSE(addr_prefix_contains(&v4all, &v6));
	CU_ASSERT_FALSE(addr_prefix_contains(&v6all, &v4));
	/* An interface address with its subnet length, as configured. */
	struct addr_prefix ifaddr;
	struct addr peer;
	addr_prefix_parse("10.1.2.3/24", &ifaddr, false);
	addr_parse("10.1.2.200", &peer);
	CU_ASSERT(addr_prefix_contains(&ifaddr, &peer));
	addr_parse("10.1.3.1", &peer);
	CU_ASSERT_FALSE(addr_prefix_contains(&ifaddr, &peer));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("addr", NULL, NULL);
	CU_add_test(s, "addr_parse good", test_addr_parse_good);
	CU_add_test(s, "addr_parse bad", test_addr_parse_bad);
	CU_add_test(s, "prefix parse", test_prefix_parse);
	CU_add_test(s, "prefix strict at every length", test_prefix_strict_every_length);
	CU_add_test(s, "mac parse", test_mac_parse);
	CU_add_test(s, "format", test_format);
	CU_add_test(s, "round trips random", test_round_trips_random);
	CU_add_test(s, "equal and v4 host order", test_equal_and_v4_host);
	CU_add_test(s, "mask and contains random", test_mask_and_contains_random);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
