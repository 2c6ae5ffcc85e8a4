/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT packet rewrites (nf/nat/nat_xlat.h) and incremental checksums (lib/hdr/csum.h).
 *
 * The oracle: a packet is described by a model (addresses, ports, payload seed...) and built with every checksum
 * computed in full by a naive reference sum written here (not lib/hdr/ip_checks.h). Translating the packet built
 * from model m must give, byte for byte, the packet built from the translated model m'. Fragmented datagrams are
 * built whole (so their transport checksum is that of the reassembled datagram), then cut; each fragment is
 * translated alone and must equal the same cut of m'. ICMP errors quote the first bytes of a whole packet built from
 * the quoted model, so even a quoted transport checksum is checked against a full computation.
 */
#include "nf/nat/nat_xlat.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANDOM_PACKETS 120000

/* ---- reference checksum: big-endian 16-bit words, one at a time, odd byte padded ---- */

static uint32_t ref_sum(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 2)
		sum += ((uint32_t)p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t ref_csum(const uint8_t *p, uint32_t len)
{
	return ref_fold(ref_sum(0, p, len));
}

/* TCP/UDP checksum over the pseudo-header (from the IPv4 header ip) and the segment l4 of len bytes. */
static uint16_t ref_l4_csum(const uint8_t *ip, const uint8_t *l4, uint32_t len)
{
	uint32_t s = ref_sum(0, ip + 12, 8);
	s += ip[9];
	s += len;
	return ref_fold(ref_sum(s, l4, len));
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
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

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

/* ---- packet models and the builder ---- */

struct l4m {
	uint8_t proto;       /* 6, 17, 1 or another */
	bool udp_nocsum;
	uint16_t sport, dport; /* ICMP query: the identifier is sport */
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;
	uint8_t tcp_optlen;  /* multiple of 4 */
	uint32_t paylen;
	uint32_t seed;       /* every other byte (payload, options, seq...) derives from it */
};

struct pktm {
	uint8_t ihl_words;
	uint8_t tos;
	uint16_t id;
	uint32_t src, dst;
	struct l4m l4;
	/* ICMP error (l4.proto 1, l4.icmp_type an error): quotes the first quote bytes of the packet built from emb */
	const struct pktm *emb;
	uint32_t quote;
	uint32_t err_rest;   /* bytes 4-7 of the ICMP error */
};

static void fill(uint8_t *p, uint32_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 12345;
	for (uint32_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345;
		p[i] = (uint8_t)(x >> 16);
	}
}

static uint32_t build(const struct pktm *m, uint8_t *out);

/* The transport part at l4 (ip: its IPv4 header, addresses and protocol already written); returns its length. */
static uint32_t build_l4(const struct pktm *m, uint8_t *ip, uint8_t *l4)
{
	const struct l4m *t = &m->l4;
	uint32_t len;
	switch (t->proto) {
	case 6: {
		uint32_t hl = 20 + t->tcp_optlen;
		len = hl + t->paylen;
		fill(l4, len, t->seed);
		wr16(l4, t->sport);
		wr16(l4 + 2, t->dport);
		l4[12] = (uint8_t)((hl / 4) << 4);
		l4[13] = t->tcp_flags;
		wr16(l4 + 16, 0);
		break;
	}
	case 17:
		len = 8 + t->paylen;
		fill(l4, len, t->seed);
		wr16(l4, t->sport);
		wr16(l4 + 2, t->dport);
		wr16(l4 + 4, (uint16_t)len);
		wr16(l4 + 6, 0);
		break;
	case 1:
		fill(l4, 8, t->seed);
		l4[0] = t->icmp_type;
		l4[1] = t->icmp_code;
		wr16(l4 + 2, 0);
		if (m->emb) {
			static uint8_t quoted[70000];
			uint32_t n = build(m->emb, quoted);
			CU_ASSERT_FATAL(m->quote <= n);
			wr32(l4 + 4, m->err_rest);
			memcpy(l4 + 8, quoted, m->quote);
			len = 8 + m->quote;
		} else {
			if (nat_icmp_has_id(t->icmp_type))
				wr16(l4 + 4, t->sport);
			fill(l4 + 8, t->paylen, t->seed + 1);
			len = 8 + t->paylen;
		}
		break;
	default:
		len = t->paylen;
		fill(l4, len, t->seed);
		break;
	}
	(void)ip;
	return len;
}

/* The whole datagram with every checksum computed in full; returns its length. */
static uint32_t build(const struct pktm *m, uint8_t *out)
{
	uint32_t ihl = m->ihl_words * 4u;
	fill(out, ihl, m->id);
	out[0] = (uint8_t)(0x40 | m->ihl_words);
	out[1] = m->tos;
	wr16(out + 4, m->id);
	wr16(out + 6, 0);
	out[8] = 64;
	out[9] = m->l4.proto;
	wr32(out + 12, m->src);
	wr32(out + 16, m->dst);
	uint8_t *l4 = out + ihl;
	uint32_t l4len = build_l4(m, out, l4);
	wr16(out + 2, (uint16_t)(ihl + l4len));
	wr16(out + 10, 0);
	wr16(out + 10, ref_csum(out, ihl));
	if (m->l4.proto == 6) {
		wr16(l4 + 16, ref_l4_csum(out, l4, l4len));
	} else if (m->l4.proto == 17) {
		uint16_t c = ref_l4_csum(out, l4, l4len);
		wr16(l4 + 6, m->l4.udp_nocsum ? 0 : (c ? c : 0xffff));
	} else if (m->l4.proto == 1) {
		wr16(l4 + 2, ref_csum(l4, l4len));
	}
	return ihl + l4len;
}

/* Fragment k (cut at the offsets in cuts[], n_cuts of them, increasing multiples of 8) of datagram d. */
static uint32_t fragment(const uint8_t *d, uint32_t dlen, const uint32_t *cuts, unsigned n_cuts, unsigned k,
			 uint8_t *out)
{
	uint32_t ihl = (d[0] & 0xfu) * 4, data = dlen - ihl;
	uint32_t from = k ? cuts[k - 1] : 0, to = k < n_cuts ? cuts[k] : data;
	memcpy(out, d, ihl);
	memcpy(out + ihl, d + ihl + from, to - from);
	wr16(out + 2, (uint16_t)(ihl + to - from));
	wr16(out + 6, (uint16_t)((from / 8) | (k < n_cuts ? 0x2000 : 0)));
	wr16(out + 10, 0);
	wr16(out + 10, ref_csum(out, ihl));
	return ihl + to - from;
}

/*
 * A quote that ends in the middle of the quoted TCP checksum (17 transport bytes): that byte cannot be updated
 * (the new value depends on the byte that is not there), so the translation leaves it; so does the expectation,
 * whose ICMP checksum is then computed again. want/orig: whole ICMP error packets.
 */
static void keep_cut_tcp_csum(uint8_t *want, const uint8_t *orig, uint32_t n)
{
	uint32_t ihl = (want[0] & 0xfu) * 4, eihl = (want[ihl + 8] & 0xfu) * 4;
	if (want[ihl + 8 + 9] != 6 || n - ihl - 8 - eihl != 17)
		return;
	want[ihl + 8 + eihl + 16] = orig[ihl + 8 + eihl + 16];
	wr16(want + ihl + 2, 0);
	wr16(want + ihl + 2, ref_csum(want + ihl, n - ihl));
}

/* ---- csum.h ---- */

static void test_csum_rfc1624(void)
{
	/* RFC 1624 section 4: m 0x5555 -> 0x3285 with the rest summing to 0xCD7A; eqn. 3 gives 0x0000, as a full
	 * computation does, where eqn. 2 would give 0xFFFF. */
	CU_ASSERT_EQUAL(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
	CU_ASSERT_EQUAL(ref_fold(0xcd7a + 0x3285), 0x0000);
	CU_ASSERT_EQUAL(csum_update16(0x0000, 0x3285, 0x5555), 0xdd2f);
	/* A no-op change is a no-op. */
	CU_ASSERT_EQUAL(csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
	CU_ASSERT_EQUAL(csum_update32(0x1234, 0xc0a80001, 0xc0a80001), 0x1234);
	/* UDP: 0 = no checksum stays 0, a computed 0 becomes 0xffff. */
	CU_ASSERT_EQUAL(csum_apply_udp(0, csum_delta16(1, 2)), 0);
	CU_ASSERT_EQUAL(csum_apply_udp(0xdd2f, csum_delta16(0x5555, 0x3285)), 0xffff);
	/* The classic IPv4 header (checksum 0xb861): change its source 192.168.0.1 -> 10.0.0.1. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t zeroed[20];
	memcpy(zeroed, h, 20);
	zeroed[10] = zeroed[11] = 0;
	CU_ASSERT_EQUAL(ref_csum(zeroed, 20), 0xb861);
	CU_ASSERT_EQUAL(inet_csum_fold(inet_csum_add(0, zeroed, 20)), 0xb861);
	wr16(h + 10, csum_update32(rd16(h + 10), 0xc0a80001, 0x0a000001));
	wr32(h + 12, 0x0a000001);
	memcpy(zeroed, h, 20);
	zeroed[10] = zeroed[11] = 0;
	CU_ASSERT_EQUAL(rd16(h + 10), ref_csum(zeroed, 20));
	CU_ASSERT_EQUAL(ref_csum(h, 20), 0);
}

/* Random buffers: change random 16/32-bit fields at even and odd offsets; incremental == full every time. */
static void test_csum_random(void)
{
	uint8_t buf[64];
	unsigned bad = 0;
	for (int i = 0; i < 200000; i++) {
		uint32_t len = 8 + rnd(56);
		for (uint32_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rnd(256);
		if (rnd(8) == 0)
			memset(buf, 0, len); /* sums of zero, where 0x0000 and 0xffff part ways */
		uint16_t c = ref_csum(buf, len);
		uint32_t off = rnd(len - 3);
		uint16_t nc;
		if (rnd(2)) {
			uint32_t old = ((uint32_t)rd16(buf + off) << 16) | rd16(buf + off + 2);
			uint32_t nw = rnd(4) ? (uint32_t)rnd(0xffffffffu) : 0;
			if (off & 1)
				nc = csum_apply(c, csum_delta16_odd((uint16_t)(old >> 16), (uint16_t)(nw >> 16)) +
						     csum_delta16_odd((uint16_t)old, (uint16_t)nw));
			else
				nc = csum_update32(c, old, nw);
			wr32(buf + off, nw);
		} else {
			uint16_t old = rd16(buf + off), nw = rnd(4) ? (uint16_t)rnd(0x10000) : 0;
			nc = (off & 1) ? csum_apply(c, csum_delta16_odd(old, nw)) : csum_update16(c, old, nw);
			wr16(buf + off, nw);
		}
		bool all_zero = true;
		for (uint32_t j = 0; j < len; j++)
			all_zero = all_zero && buf[j] == 0;
		/* All bytes zero: the one place eqn. 3 (0x0000) and a full sum (0xffff) part ways; no IPv4, TCP or UDP
		 * sum is ever all zero (version, pseudo-header protocol), ICMP is handled by nat_xlat(). */
		if (nc != ref_csum(buf, len) && !all_zero)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- hand-made packets ---- */

#define IN_HOST 0xc0a80a05u  /* 192.168.10.5 */
#define PUB 0xcb00710au      /* 203.0.113.10 */
#define REMOTE 0xc6336407u   /* 198.51.100.7 */
#define ROUTER 0xc0000201u   /* 192.0.2.1 */

static struct pktm udp_model(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t paylen)
{
	struct pktm m = {.ihl_words = 5, .id = 0x1234, .src = src, .dst = dst};
	m.l4 = (struct l4m){.proto = 17, .sport = sport, .dport = dport, .paylen = paylen, .seed = 7};
	return m;
}

/* Every checksum of a (whole) packet, verified by the reference sum. */
static void assert_valid(const uint8_t *p)
{
	uint32_t ihl = (p[0] & 0xfu) * 4, total = rd16(p + 2);
	const uint8_t *l4 = p + ihl;
	CU_ASSERT_EQUAL(ref_csum(p, ihl), 0);
	if (p[9] == 6)
		CU_ASSERT_EQUAL(ref_l4_csum(p, l4, total - ihl), 0);
	if (p[9] == 17 && rd16(l4 + 6) != 0)
		CU_ASSERT_EQUAL(ref_l4_csum(p, l4, total - ihl), 0);
	if (p[9] == 1)
		CU_ASSERT_EQUAL(ref_csum(l4, total - ihl), 0);
}

static void test_udp_tcp(void)
{
	uint8_t p[2048], want[2048];
	struct nat_pkt k;
	/* UDP in2out: the source becomes PUB:40000. */
	struct pktm m = udp_model(IN_HOST, REMOTE, 5353, 53, 33);
	uint32_t n = build(&m, p);
	assert_valid(p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_PORTS);
	CU_ASSERT_EQUAL(k.proto, 17);
	CU_ASSERT_EQUAL(k.src, IN_HOST);
	CU_ASSERT_EQUAL(k.dst, REMOTE);
	CU_ASSERT_EQUAL(k.sport, 5353);
	CU_ASSERT_EQUAL(k.dport, 53);
	CU_ASSERT_EQUAL(k.ihl, 20);
	CU_ASSERT_EQUAL(k.total_len, n);
	CU_ASSERT_FALSE(k.fragment);
	nat_xlat(p, &k, NAT_IN2OUT, PUB, 40000);
	assert_valid(p);
	CU_ASSERT_EQUAL(rd16(p + 20), 40000);
	CU_ASSERT_EQUAL(rd16(p + 22), 53);
	m.src = PUB;
	m.l4.sport = 40000;
	CU_ASSERT_EQUAL(build(&m, want), n);
	CU_ASSERT(memcmp(p, want, n) == 0);
	/* ... and back out2in (the reply): destination PUB:40000 -> IN_HOST:5353. */
	m = udp_model(REMOTE, PUB, 53, 40000, 101);
	n = build(&m, p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	nat_xlat(p, &k, NAT_OUT2IN, IN_HOST, 5353);
	m.dst = IN_HOST;
	m.l4.dport = 5353;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);
	assert_valid(p);
	/* UDP without checksum: stays 0 (RFC 768). */
	m = udp_model(IN_HOST, REMOTE, 5353, 53, 10);
	m.l4.udp_nocsum = true;
	n = build(&m, p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	nat_xlat(p, &k, NAT_IN2OUT, PUB, 1024);
	CU_ASSERT_EQUAL(rd16(p + 26), 0);
	CU_ASSERT_EQUAL(ref_csum(p, 20), 0);
	CU_ASSERT_EQUAL(rd16(p + 20), 1024);
	/* TCP with options and an odd payload, both ways. */
	m = (struct pktm){.ihl_words = 5, .id = 9, .src = IN_HOST, .dst = REMOTE};
	m.l4 = (struct l4m){.proto = 6, .sport = 33000, .dport = 443, .tcp_flags = 0x18, .tcp_optlen = 12,
			    .paylen = 517, .seed = 3};
	n = build(&m, p);
	assert_valid(p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_PORTS);
	CU_ASSERT_EQUAL(k.tcp_flags, 0x18);
	nat_xlat(p, &k, NAT_IN2OUT, PUB, 61000);
	assert_valid(p);
	nat_xlat(p, &k, NAT_OUT2IN, ROUTER, 8443); /* hairpin: then the destination too */
	assert_valid(p);
	m.src = PUB;
	m.l4.sport = 61000;
	m.dst = ROUTER;
	m.l4.dport = 8443;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);
	/* An address-only change (e.g. port preserved) and an identity translation. */
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	nat_xlat(p, &k, NAT_IN2OUT, PUB, 61000);
	CU_ASSERT(memcmp(p, want, n) == 0);
	nat_xlat(p, &k, NAT_IN2OUT, PUB + 1, 61000);
	assert_valid(p);
}

static void test_icmp_query(void)
{
	uint8_t p[2048], want[2048];
	struct nat_pkt k;
	struct pktm m = {.ihl_words = 5, .id = 77, .src = IN_HOST, .dst = REMOTE};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 8, .sport = 0x0101, .paylen = 56, .seed = 11};
	uint32_t n = build(&m, p);
	assert_valid(p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_ICMP_QUERY);
	CU_ASSERT_EQUAL(k.icmp_type, 8);
	CU_ASSERT_EQUAL(k.sport, 0x0101);
	CU_ASSERT_EQUAL(k.dport, 0x0101);
	nat_xlat(p, &k, NAT_IN2OUT, PUB, 2000);
	assert_valid(p);
	m.src = PUB;
	m.l4.sport = 2000;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);
	/* Echo reply back in; a timestamp request too. */
	uint8_t types[] = {0, 13, 14, 15, 16, 17, 18};
	for (unsigned i = 0; i < sizeof(types); i++) {
		m = (struct pktm){.ihl_words = 6, .id = 78, .src = REMOTE, .dst = PUB};
		m.l4 = (struct l4m){.proto = 1, .icmp_type = types[i], .sport = 2000, .paylen = 12 + i, .seed = i};
		n = build(&m, p);
		CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
		CU_ASSERT_EQUAL(k.kind, NAT_KIND_ICMP_QUERY);
		nat_xlat(p, &k, NAT_OUT2IN, IN_HOST, 0x0101);
		m.dst = IN_HOST;
		m.l4.sport = 0x0101;
		build(&m, want);
		CU_ASSERT(memcmp(p, want, n) == 0);
	}
	/* An all-zero echo reply (identifier 5 -> 0): a full sum gives 0xffff, and only 0xffff verifies. */
	m = (struct pktm){.ihl_words = 5, .id = 80, .src = REMOTE, .dst = PUB};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 0, .sport = 5};
	n = build(&m, p);
	memset(p + 26, 0, 2); /* sequence 0 */
	wr16(p + 22, 0);
	wr16(p + 22, ref_csum(p + 20, 8));
	CU_ASSERT_EQUAL(rd16(p + 22), 0xfffa);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	nat_xlat(p, &k, NAT_OUT2IN, IN_HOST, 0);
	CU_ASSERT_EQUAL(rd16(p + 22), 0xffff);
	assert_valid(p);
	/* ... and a message that sums to zero without being all zero keeps the canonical 0x0000. */
	wr16(p + 24, 5);
	wr16(p + 26, 0xffff); /* identifier 0 + sequence 0xffff sum to (negative) zero */
	wr16(p + 22, 0);
	wr16(p + 22, ref_csum(p + 20, 8));
	nat_xlat(p, &k, NAT_OUT2IN, IN_HOST, 0);
	CU_ASSERT_EQUAL(rd16(p + 22), 0);
	CU_ASSERT_EQUAL(ref_csum(p + 20, 8), 0);
	/* Router advertisement (9): no identifier, address only. */
	m = (struct pktm){.ihl_words = 5, .id = 79, .src = REMOTE, .dst = PUB};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 9, .paylen = 8, .seed = 5};
	n = build(&m, p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_OTHER);
	nat_xlat(p, &k, NAT_OUT2IN, IN_HOST, 1234);
	m.dst = IN_HOST;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);
}

/* A UDP datagram in 3 fragments: each translated alone; the reassembled datagram's UDP checksum is right. */
static void test_fragments(void)
{
	uint8_t d[4096], f[3][2048], r[4096];
	struct nat_pkt k;
	for (int tcp = 0; tcp < 2; tcp++) {
		struct pktm m = udp_model(IN_HOST, REMOTE, 4000, 4500, 2001);
		if (tcp)
			m.l4 = (struct l4m){.proto = 6, .sport = 4000, .dport = 4500, .tcp_flags = 0x10, .paylen = 1999,
					    .seed = 8};
		uint32_t n = build(&m, d);
		uint32_t cuts[2] = {1480, 1480 + 296};
		uint32_t fl[3];
		for (unsigned i = 0; i < 3; i++) {
			fl[i] = fragment(d, n, cuts, 2, i, f[i]);
			CU_ASSERT_EQUAL_FATAL(nat_parse(f[i], fl[i], &k), NAT_PARSE_OK);
			CU_ASSERT(k.fragment);
			CU_ASSERT_EQUAL(k.frag_id, 0x1234);
			CU_ASSERT_EQUAL(k.frag_off, i ? cuts[i - 1] : 0);
			CU_ASSERT_EQUAL(k.mf, i < 2);
			CU_ASSERT_EQUAL(k.kind, i ? NAT_KIND_FRAG_LATER : NAT_KIND_PORTS);
			uint8_t before[2048];
			memcpy(before, f[i], fl[i]);
			nat_xlat(f[i], &k, NAT_IN2OUT, PUB, 50001);
			CU_ASSERT_EQUAL(ref_csum(f[i], 20), 0);
			if (i) /* a later fragment: only the address and header checksum changed */
				CU_ASSERT(memcmp(before + 20, f[i] + 20, fl[i] - 20) == 0);
		}
		/* Reassemble and check the transport checksum over the whole datagram. */
		memcpy(r, f[0], 20);
		uint32_t at = 20;
		for (unsigned i = 0; i < 3; i++) {
			memcpy(r + at, f[i] + 20, fl[i] - 20);
			at += fl[i] - 20;
		}
		CU_ASSERT_EQUAL(at, n);
		wr16(r + 2, (uint16_t)n);
		wr16(r + 6, 0);
		wr16(r + 10, 0);
		wr16(r + 10, ref_csum(r, 20));
		assert_valid(r);
		CU_ASSERT_EQUAL(rd16(r + 20), 50001);
		CU_ASSERT_EQUAL(rd16(r + 12), PUB >> 16);
	}
}

/* ICMP errors both ways, quoting UDP, TCP (with and without its checksum in the quote) and an echo request. */
static void test_icmp_errors(void)
{
	uint8_t p[2048], want[2048];
	struct nat_pkt k;
	/* Out2in: port unreachable from REMOTE about PUB:40000 -> REMOTE:53, back to IN_HOST:5353. */
	struct pktm e = udp_model(PUB, REMOTE, 40000, 53, 20);
	struct pktm m = {.ihl_words = 5, .id = 5, .src = REMOTE, .dst = PUB, .emb = &e, .quote = 48};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 3, .icmp_code = 3};
	uint32_t n = build(&m, p);
	assert_valid(p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_ICMP_ERROR);
	CU_ASSERT_EQUAL(k.emb.proto, 17);
	CU_ASSERT_EQUAL(k.emb.src, PUB);
	CU_ASSERT_EQUAL(k.emb.dst, REMOTE);
	CU_ASSERT_EQUAL(k.emb.sport, 40000);
	CU_ASSERT_EQUAL(k.emb.dport, 53);
	CU_ASSERT_EQUAL(k.emb.len, 48);
	CU_ASSERT(k.emb.has_ports);
	nat_xlat_icmp_error(p, &k, NAT_OUT2IN, IN_HOST, IN_HOST, 5353);
	assert_valid(p);
	assert_valid(p + 28); /* the quote is whole here: its UDP checksum can be verified too */
	struct pktm e2 = udp_model(IN_HOST, REMOTE, 5353, 53, 20);
	m.dst = IN_HOST;
	m.emb = &e2;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);

	/* In2out: an inside host refuses REMOTE:53 -> PUB:40000 (translated to IN_HOST:5353 on the way in). */
	e = udp_model(REMOTE, IN_HOST, 53, 5353, 20);
	e.l4.udp_nocsum = true;
	m = (struct pktm){.ihl_words = 5, .id = 6, .src = IN_HOST, .dst = REMOTE, .emb = &e, .quote = 48};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 3, .icmp_code = 3};
	n = build(&m, p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	nat_xlat_icmp_error(p, &k, NAT_IN2OUT, PUB, PUB, 40000);
	assert_valid(p);
	CU_ASSERT_EQUAL(rd16(p + 28 + 26), 0); /* the quoted UDP checksum stays 0 */
	e2 = e;
	e2.dst = PUB;
	e2.l4.dport = 40000;
	m.src = PUB;
	m.emb = &e2;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);

	/* Time exceeded from a router about TCP, quoting 28 bytes (no TCP checksum) and then 68 bytes (with it). */
	struct pktm t = {.ihl_words = 5, .id = 8, .src = PUB, .dst = REMOTE};
	t.l4 = (struct l4m){.proto = 6, .sport = 40001, .dport = 80, .tcp_flags = 2, .tcp_optlen = 20, .seed = 9};
	uint32_t quotes[] = {28, 37, 38, 60};
	for (unsigned i = 0; i < 4; i++) {
		m = (struct pktm){.ihl_words = 5, .id = 10, .src = ROUTER, .dst = PUB, .emb = &t, .quote = quotes[i]};
		m.l4 = (struct l4m){.proto = 1, .icmp_type = 11};
		n = build(&m, p);
		CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
		CU_ASSERT_EQUAL(k.emb.sport, 40001);
		uint16_t tcp_csum_before = rd16(p + 28 + 20 + 16);
		uint8_t orig[2048];
		memcpy(orig, p, n);
		nat_xlat_icmp_error(p, &k, NAT_OUT2IN, IN_HOST, IN_HOST, 1234);
		assert_valid(p);
		struct pktm t2 = t;
		t2.src = IN_HOST;
		t2.l4.sport = 1234;
		m.dst = IN_HOST;
		m.emb = &t2;
		build(&m, want);
		keep_cut_tcp_csum(want, orig, n);
		CU_ASSERT(memcmp(p, want, n) == 0);
		if (quotes[i] < 38) /* checksum not quoted: the bytes after the quote (not in it) are untouched */
			CU_ASSERT_EQUAL(rd16(p + 28 + 20 + 16), tcp_csum_before);
		if (quotes[i] == 60)
			assert_valid(p + 28);
	}

	/* Time exceeded about an echo request from PUB id 2000: back to IN_HOST id 0x0101; outer to IN_HOST. */
	struct pktm q = {.ihl_words = 5, .id = 12, .src = PUB, .dst = REMOTE};
	q.l4 = (struct l4m){.proto = 1, .icmp_type = 8, .sport = 2000, .paylen = 24, .seed = 2};
	m = (struct pktm){.ihl_words = 5, .id = 13, .src = ROUTER, .dst = PUB, .emb = &q, .quote = 52};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 11};
	n = build(&m, p);
	CU_ASSERT_EQUAL_FATAL(nat_parse(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.emb.proto, 1);
	CU_ASSERT_EQUAL(k.emb.sport, 2000);
	CU_ASSERT(k.emb.has_ports);
	nat_xlat_icmp_error(p, &k, NAT_OUT2IN, IN_HOST, IN_HOST, 0x0101);
	assert_valid(p);
	assert_valid(p + 28);
	struct pktm q2 = q;
	q2.src = IN_HOST;
	q2.l4.sport = 0x0101;
	m.dst = IN_HOST;
	m.emb = &q2;
	build(&m, want);
	CU_ASSERT(memcmp(p, want, n) == 0);
}

/* ---- parse errors ---- */

static enum nat_parse_err parse_exact(const uint8_t *p, uint32_t len, struct nat_pkt *k)
{
	uint8_t *c = malloc(len ? len : 1); /* exactly len bytes: ASan/valgrind see any over-read */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memcpy(c, p, len);
	enum nat_parse_err rc = nat_parse(c, len, k);
	free(c);
	return rc;
}

static void fix_ip_csum(uint8_t *p)
{
	wr16(p + 10, 0);
	wr16(p + 10, ref_csum(p, (p[0] & 0xfu) * 4));
}

static void test_parse_errors(void)
{
	uint8_t p[2048];
	struct nat_pkt k;
	struct pktm m = udp_model(IN_HOST, REMOTE, 1, 2, 4);
	uint32_t n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(parse_exact(p, 19, &k), NAT_PARSE_TRUNCATED);
	CU_ASSERT_EQUAL(parse_exact(p, n - 1, &k), NAT_PARSE_TRUNCATED); /* total length beyond the bytes */
	p[0] = 0x65;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_BAD_HDR);
	p[0] = 0x44;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_BAD_HDR);
	p[0] = 0x4f; /* 60-byte header in a 32-byte packet */
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_TRUNCATED);
	p[0] = 0x45;
	wr16(p + 2, 19);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_BAD_HDR);
	/* UDP header cut short: 7 bytes of it. */
	wr16(p + 2, 27);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_L4_TRUNCATED);
	/* ... in a first fragment: a tiny fragment. */
	wr16(p + 6, 0x2000);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_TINY_FRAG);
	/* ... a later fragment has no header to check. */
	wr16(p + 6, 0x0003);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_FRAG_LATER);
	CU_ASSERT_EQUAL(k.frag_off, 24);
	CU_ASSERT_FALSE(k.mf);
	CU_ASSERT(k.fragment);
	/* TCP: short, and a data offset below 5 or beyond the packet. */
	m.l4 = (struct l4m){.proto = 6, .sport = 1, .dport = 2, .paylen = 4};
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	p[32] = 0x40;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_L4_TRUNCATED);
	p[32] = 0x70;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_L4_TRUNCATED);
	p[32] = 0x60;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	wr16(p + 2, 39);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_L4_TRUNCATED);
	/* ICMP: 7 bytes. */
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 8, .paylen = 0};
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	wr16(p + 2, 27);
	CU_ASSERT_EQUAL(parse_exact(p, 27, &k), NAT_PARSE_L4_TRUNCATED);
	/* Another protocol: fine, address only. */
	m.l4 = (struct l4m){.proto = 47, .paylen = 3};
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.kind, NAT_KIND_OTHER);
	CU_ASSERT_EQUAL(k.proto, 47);

	/* ICMP errors: quote too short, not IPv4, a later fragment, an error, not from the error's destination. */
	struct pktm e = udp_model(PUB, REMOTE, 40000, 53, 0);
	m = (struct pktm){.ihl_words = 5, .src = REMOTE, .dst = PUB, .emb = &e, .quote = 28};
	m.l4 = (struct l4m){.proto = 1, .icmp_type = 3, .icmp_code = 1};
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_EQUAL(k.emb.len, 28);
	m.quote = 27;
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_TRUNCATED);
	m.quote = 19;
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_TRUNCATED);
	m.quote = 28;
	n = build(&m, p);
	p[28] = 0x65;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_BAD);
	p[28] = 0x44;
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_BAD);
	p[28] = 0x46; /* 24-byte quoted header: 28 bytes quote less than 24 + 8 */
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_TRUNCATED);
	p[28] = 0x45;
	wr16(p + 28 + 6, 0x2001);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_BAD);
	wr16(p + 28 + 6, 0x2000); /* a first fragment is fine */
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	wr32(p + 16, ROUTER); /* the error is not going to the quoted packet's source */
	fix_ip_csum(p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_BAD);
	struct pktm inner = {.ihl_words = 5, .src = PUB, .dst = REMOTE};
	inner.l4 = (struct l4m){.proto = 1, .icmp_type = 3};
	struct pktm inner_q = udp_model(REMOTE, PUB, 1, 2, 0);
	inner.emb = &inner_q;
	inner.quote = 28;
	m.emb = &inner;
	m.quote = 36;
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_EMB_BAD); /* an error about an error */
	/* A quoted ICMP without identifier, and a quoted other protocol: parsed, no ports. */
	inner.emb = NULL;
	inner.l4.icmp_type = 9;
	inner.l4.paylen = 0;
	m.quote = 28;
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_FALSE(k.emb.has_ports);
	CU_ASSERT_EQUAL(k.emb.icmp_type, 9);
	inner.l4 = (struct l4m){.proto = 50, .paylen = 8};
	n = build(&m, p);
	CU_ASSERT_EQUAL(parse_exact(p, n, &k), NAT_PARSE_OK);
	CU_ASSERT_FALSE(k.emb.has_ports);
	CU_ASSERT_EQUAL(k.emb.proto, 50);
	/* Even then the addresses and both IPv4 checksums are translated. */
	nat_xlat_icmp_error(p, &k, NAT_OUT2IN, IN_HOST, IN_HOST, 0);
	assert_valid(p);
	CU_ASSERT_EQUAL(ref_csum(p + 28, 20), 0);
	CU_ASSERT_EQUAL(rd16(p + 28 + 12), IN_HOST >> 16);
}

/* ---- random packets against full recomputation ---- */

static uint32_t rnd_addr(void)
{
	switch (rnd(6)) {
	case 0:
		return 0;
	case 1:
		return 0xffffffffu;
	case 2:
		return (uint32_t)rnd(0x10000); /* a zero upper word */
	default:
		return rnd(0xffffffffu);
	}
}

static uint16_t rnd_port(void)
{
	switch (rnd(5)) {
	case 0:
		return 0;
	case 1:
		return 0xffff;
	default:
		return (uint16_t)rnd(0x10000);
	}
}

/* A random transport for a packet of kind: 0 TCP, 1 UDP, 2 UDP without checksum, 3 ICMP query, 4 other. */
static void rnd_l4(struct l4m *t, unsigned kind, uint32_t max_pay)
{
	static const uint8_t queries[] = {0, 8, 13, 14, 15, 16, 17, 18};
	*t = (struct l4m){.sport = rnd_port(), .dport = rnd_port(), .seed = rnd(1u << 30)};
	t->paylen = rnd(4) ? rnd(max_pay + 1) : rnd(16);
	switch (kind) {
	case 0:
		t->proto = 6;
		t->tcp_flags = (uint8_t)rnd(256);
		t->tcp_optlen = (uint8_t)(rnd(11) * 4);
		break;
	case 1:
	case 2:
		t->proto = 17;
		t->udp_nocsum = kind == 2;
		break;
	case 3:
		t->proto = 1;
		t->icmp_type = queries[rnd(sizeof(queries))];
		t->icmp_code = (uint8_t)rnd(4);
		break;
	default:
		t->proto = rnd(2) ? 47 : 1;
		t->icmp_type = 9; /* ICMP router advertisement when 1: no identifier */
		break;
	}
}

static void rnd_ip(struct pktm *m)
{
	m->ihl_words = (uint8_t)(rnd(3) ? 5 : 5 + rnd(11));
	m->tos = (uint8_t)rnd(256);
	m->id = (uint16_t)rnd(0x10000);
	m->src = rnd_addr();
	m->dst = rnd_addr();
	m->emb = NULL;
}

/* The model after a translation of a non-error packet. */
static void xlat_model(struct pktm *m, enum nat_dir dir, uint32_t addr, uint16_t port, unsigned kind)
{
	if (dir == NAT_IN2OUT)
		m->src = addr;
	else
		m->dst = addr;
	if (kind <= 2) {
		if (dir == NAT_IN2OUT)
			m->l4.sport = port;
		else
			m->l4.dport = port;
	} else if (kind == 3) {
		m->l4.sport = port;
	}
}

struct rnd_stats {
	unsigned packets, fragments, errors, mismatches, parse_failures;
};

static void one_plain(struct rnd_stats *st, uint8_t *d, uint8_t *want, uint8_t *f, uint8_t *g)
{
	unsigned kind = rnd(5);
	bool frag = rnd(3) == 0;
	struct pktm m;
	rnd_ip(&m);
	rnd_l4(&m.l4, kind, frag ? 3000 : 1400);
	enum nat_dir dir = rnd(2) ? NAT_IN2OUT : NAT_OUT2IN;
	uint32_t addr = rnd_addr();
	uint16_t port = rnd_port();
	uint32_t n = build(&m, d);
	struct pktm m2 = m;
	xlat_model(&m2, dir, addr, port, kind);
	CU_ASSERT_EQUAL_FATAL(build(&m2, want), n);

	uint32_t ihl = m.ihl_words * 4u, data = n - ihl;
	uint32_t cuts[8];
	unsigned n_cuts = 0;
	if (frag) {
		/* The first fragment holds the whole transport header; the rest in pieces of multiples of 8. */
		uint32_t l4h = kind == 0 ? 20u + m.l4.tcp_optlen : kind == 4 ? 0 : 8;
		uint32_t at = (l4h + 7) / 8 * 8;
		if (at == 0)
			at = 8;
		at += 8 * rnd(64);
		while (at < data && n_cuts < 8) {
			cuts[n_cuts++] = at;
			at += 8 * (1 + rnd(200));
		}
	}
	st->packets++;
	for (unsigned i = 0; i <= n_cuts; i++) {
		uint32_t fl = n_cuts ? fragment(d, n, cuts, n_cuts, i, f) : n;
		uint32_t wl = n_cuts ? fragment(want, n, cuts, n_cuts, i, g) : n;
		uint8_t *pkt = n_cuts ? f : d, *exp = n_cuts ? g : want;
		struct nat_pkt k;
		if (nat_parse(pkt, fl, &k) != NAT_PARSE_OK) {
			st->parse_failures++;
			return;
		}
		/* The parse agrees with the model. */
		bool later = n_cuts && i > 0;
		unsigned want_kind = later ? NAT_KIND_FRAG_LATER
				     : kind <= 2 ? NAT_KIND_PORTS
				     : kind == 3 ? NAT_KIND_ICMP_QUERY
						 : NAT_KIND_OTHER;
		if (k.kind != want_kind || k.src != m.src || k.dst != m.dst || k.proto != m.l4.proto ||
		    k.fragment != (n_cuts > 0) || k.frag_id != m.id || k.total_len != fl ||
		    (want_kind == NAT_KIND_PORTS && (k.sport != m.l4.sport || k.dport != m.l4.dport)) ||
		    (want_kind == NAT_KIND_ICMP_QUERY && (k.sport != m.l4.sport || k.dport != m.l4.sport))) {
			st->parse_failures++;
			return;
		}
		nat_xlat(pkt, &k, dir, addr, port);
		if (fl != wl || memcmp(pkt, exp, fl) != 0) {
			if (st->mismatches++ < 5)
				fprintf(stderr, "\nmismatch: kind %u frag %u/%u dir %d len %u\n", kind, i, n_cuts, dir,
					fl);
		}
		if (n_cuts)
			st->fragments++;
	}
}

static void one_error(struct rnd_stats *st, uint8_t *p, uint8_t *want)
{
	static const uint8_t err_types[] = {3, 4, 5, 11, 12};
	unsigned ekind = rnd(5); /* the quoted packet: TCP, UDP, UDP without checksum, ICMP query, other */
	enum nat_dir dir = rnd(2) ? NAT_IN2OUT : NAT_OUT2IN;
	struct pktm e, m;
	rnd_ip(&e);
	rnd_l4(&e.l4, ekind, 600);
	if (ekind == 4 && e.l4.paylen < 8)
		e.l4.paylen = 8; /* a quote holds the quoted header + 8 bytes */
	rnd_ip(&m);
	m.l4 = (struct l4m){.proto = 1, .icmp_type = err_types[rnd(sizeof(err_types))], .icmp_code = (uint8_t)rnd(16)};
	m.dst = e.src; /* an error goes back to the sender of what it quotes */
	m.emb = &e;
	m.err_rest = rnd(0xffffffffu);
	uint8_t tmp[4096];
	uint32_t en = build(&e, tmp), min = e.ihl_words * 4u + 8;
	m.quote = rnd(4) ? min + rnd(en - min + 1) : en;
	uint32_t n = build(&m, p);
	uint32_t outer_addr = rnd_addr(), emb_addr = rnd(2) ? outer_addr : rnd_addr();
	uint16_t emb_port = rnd_port();
	struct pktm e2 = e, m2 = m;
	m2.emb = &e2;
	if (dir == NAT_IN2OUT) {
		m2.src = outer_addr;
		e2.dst = emb_addr;
		if (ekind <= 2)
			e2.l4.dport = emb_port;
	} else {
		m2.dst = outer_addr;
		e2.src = emb_addr;
		if (ekind <= 2)
			e2.l4.sport = emb_port;
	}
	if (ekind == 3)
		e2.l4.sport = emb_port;
	CU_ASSERT_EQUAL_FATAL(build(&m2, want), n);
	st->packets++;
	st->errors++;
	keep_cut_tcp_csum(want, p, n);
	struct nat_pkt k;
	if (nat_parse(p, n, &k) != NAT_PARSE_OK || k.kind != NAT_KIND_ICMP_ERROR || k.emb.src != e.src ||
	    k.emb.dst != e.dst || k.emb.proto != e.l4.proto || k.emb.len != m.quote ||
	    k.emb.has_ports != (ekind <= 3) ||
	    (ekind <= 2 && (k.emb.sport != e.l4.sport || k.emb.dport != e.l4.dport)) ||
	    (ekind == 3 && (k.emb.sport != e.l4.sport || k.emb.dport != e.l4.sport))) {
		st->parse_failures++;
		return;
	}
	nat_xlat_icmp_error(p, &k, dir, outer_addr, emb_addr, emb_port);
	if (memcmp(p, want, n) != 0 && st->mismatches++ < 5)
		fprintf(stderr, "\nerror mismatch: ekind %u dir %d quote %u of %u\n", ekind, dir, m.quote, en);
}

static void test_random(void)
{
	static uint8_t d[70000], want[70000], f[70000], g[70000];
	struct rnd_stats st = {0};
	rng_state = 0x0123456789abcdefull;
	for (int i = 0; i < RANDOM_PACKETS; i++) {
		if (rnd(4) == 0)
			one_error(&st, d, want);
		else
			one_plain(&st, d, want, f, g);
	}
	printf("\n  %u packets (%u ICMP errors), %u fragments: %u mismatches, %u parse failures ... ", st.packets,
	       st.errors, st.fragments, st.mismatches, st.parse_failures);
	CU_ASSERT_EQUAL(st.packets, RANDOM_PACKETS);
	CU_ASSERT(st.errors > RANDOM_PACKETS / 5);
	CU_ASSERT(st.fragments > RANDOM_PACKETS / 10);
	CU_ASSERT_EQUAL(st.mismatches, 0);
	CU_ASSERT_EQUAL(st.parse_failures, 0);
}

/* Truncations and byte flips of valid packets: the parser never reads out of bounds, and OK means consistent. */
static void test_random_mutations(void)
{
	uint8_t p[4096];
	unsigned ok = 0, err = 0;
	for (int i = 0; i < 30000; i++) {
		struct pktm m, e;
		rnd_ip(&m);
		if (rnd(3) == 0) {
			rnd_ip(&e);
			rnd_l4(&e.l4, rnd(5), 60);
			m.l4 = (struct l4m){.proto = 1, .icmp_type = 3};
			m.dst = e.src;
			m.emb = &e;
			uint8_t tmp[4096];
			m.quote = build(&e, tmp);
		} else {
			rnd_l4(&m.l4, rnd(5), 60);
		}
		uint32_t n = build(&m, p);
		for (int j = rnd(4); j > 0; j--)
			p[rnd(n)] = (uint8_t)rnd(256);
		uint32_t len = rnd(2) ? n : rnd(n + 1);
		struct nat_pkt k;
		enum nat_parse_err rc = parse_exact(p, len, &k);
		CU_ASSERT_FATAL(rc < NAT_PARSE_ERR_COUNT);
		if (rc == NAT_PARSE_OK) {
			ok++;
			CU_ASSERT(k.ihl >= 20 && k.ihl <= k.total_len && k.total_len <= len);
			if (k.kind == NAT_KIND_ICMP_ERROR)
				CU_ASSERT(k.emb.ihl + 8u <= k.emb.len && k.ihl + 8u + k.emb.len == k.total_len);
		} else {
			err++;
		}
	}
	CU_ASSERT(ok > 1000);
	CU_ASSERT(err > 1000);
}

/* ---- MSS clamping ---- */

/* A TCP SYN with options opts (optlen, padded with zeros to a multiple of 4); returns the packet length. */
static uint32_t syn(uint8_t *p, const uint8_t *opts, uint32_t optlen, uint8_t flags)
{
	struct pktm m = {.ihl_words = 5, .id = 1, .src = IN_HOST, .dst = REMOTE};
	uint32_t padded = (optlen + 3) / 4 * 4;
	m.l4 = (struct l4m){.proto = 6, .sport = 1000, .dport = 80, .tcp_flags = flags, .tcp_optlen = (uint8_t)padded,
			    .paylen = 3, .seed = 4};
	uint32_t n = build(&m, p);
	memset(p + 40, 0, padded);
	if (optlen)
		memcpy(p + 40, opts, optlen);
	wr16(p + 36, 0);
	wr16(p + 36, ref_l4_csum(p, p + 20, n - 20));
	return n;
}

static void test_mss_clamp(void)
{
	uint8_t p[256], before[256];
	static const uint8_t mss_first[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
	static const uint8_t after_nop[] = {1, 2, 4, 0x05, 0xb4}; /* MSS at an odd offset */
	static const uint8_t after_nops[] = {1, 1, 2, 4, 0x23, 0x28};
	static const uint8_t after_sackp[] = {4, 2, 2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t after_sackp_odd[] = {1, 4, 2, 2, 4, 0xff, 0xff};
	static const uint8_t small[] = {2, 4, 0x04, 0xb0};
	static const uint8_t absent[] = {1, 1, 4, 2, 1, 3, 3, 7};
	static const uint8_t after_eol[] = {0, 0, 2, 4, 0x05, 0xb4}; /* after end-of-list: not an option */
	static const uint8_t bad_len0[] = {1, 8, 0, 2, 4, 0x05, 0xb4};
	static const uint8_t bad_len_past[] = {2, 4, 0x05, 0xb4, 8, 12, 0, 0};
	static const uint8_t bad_mss_len[] = {2, 3, 0x05, 1}; /* a NOP where the MSS low byte would be */
	static const uint8_t bad_last[] = {2, 4, 0x05, 0xb4, 1, 1, 1, 3};
	struct {
		const uint8_t *opts;
		uint32_t len;
		enum nat_mss_rc rc;
		uint32_t mss_at;
	} cases[] = {
		{mss_first, sizeof(mss_first), NAT_MSS_CLAMPED, 2},
		{after_nop, sizeof(after_nop), NAT_MSS_CLAMPED, 3},
		{after_nops, sizeof(after_nops), NAT_MSS_CLAMPED, 4},
		{after_sackp, sizeof(after_sackp), NAT_MSS_CLAMPED, 4},
		{after_sackp_odd, sizeof(after_sackp_odd), NAT_MSS_CLAMPED, 5},
		{small, sizeof(small), NAT_MSS_KEPT, 0},
		{absent, sizeof(absent), NAT_MSS_ABSENT, 0},
		{after_eol, sizeof(after_eol), NAT_MSS_ABSENT, 0},
		{NULL, 0, NAT_MSS_ABSENT, 0},
		{bad_len0, sizeof(bad_len0), NAT_MSS_MALFORMED, 0},
		{bad_len_past, sizeof(bad_len_past), NAT_MSS_MALFORMED, 0},
		{bad_mss_len, sizeof(bad_mss_len), NAT_MSS_MALFORMED, 0},
		{bad_last, sizeof(bad_last), NAT_MSS_MALFORMED, 0},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t n = syn(p, cases[i].opts, cases[i].len, 0x02);
		assert_valid(p);
		memcpy(before, p, n);
		enum nat_mss_rc rc = nat_tcp_mss_clamp(p + 20, n - 20, 1200);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc != cases[i].rc)
			fprintf(stderr, "\nmss case %u: rc %d\n", i, rc);
		assert_valid(p);
		if (cases[i].rc == NAT_MSS_CLAMPED) {
			CU_ASSERT_EQUAL(rd16(p + 40 + cases[i].mss_at), 1200);
			/* Nothing else but the MSS and the checksum changed. */
			memcpy(before + 40 + cases[i].mss_at, p + 40 + cases[i].mss_at, 2);
			memcpy(before + 36, p + 36, 2);
		}
		CU_ASSERT(memcmp(before, p, n) == 0);
	}
	/* Not a SYN (an ACK), and a SYN-ACK (clamped too). */
	uint32_t n = syn(p, mss_first, sizeof(mss_first), 0x10);
	CU_ASSERT_EQUAL(nat_tcp_mss_clamp(p + 20, n - 20, 1200), NAT_MSS_NOT_SYN);
	n = syn(p, after_nop, sizeof(after_nop), 0x12);
	CU_ASSERT_EQUAL(nat_tcp_mss_clamp(p + 20, n - 20, 536), NAT_MSS_CLAMPED);
	CU_ASSERT_EQUAL(rd16(p + 43), 536);
	assert_valid(p);
	CU_ASSERT_EQUAL(nat_tcp_mss_clamp(p + 20, n - 20, 536), NAT_MSS_KEPT);
	/* Header itself malformed: short, data offset too small or past the bytes. */
	CU_ASSERT_EQUAL(nat_tcp_mss_clamp(p + 20, 19, 536), NAT_MSS_MALFORMED);
	CU_ASSERT_EQUAL(nat_tcp_mss_clamp(p + 20, 27, 536), NAT_MSS_MALFORMED);
	p[32] = 0x40;
	CU_ASSERT_EQUAL(nat_tcp_mss_clamp(p + 20, n - 20, 536), NAT_MSS_MALFORMED);
	/* Random option layouts with an MSS somewhere: the checksum always verifies afterwards. */
	unsigned clamped = 0;
	for (int i = 0; i < 20000; i++) {
		uint8_t opts[40];
		uint32_t len = 0;
		while (len < 36) {
			uint32_t r = rnd(6);
			if (r == 0) {
				opts[len++] = 1;
			} else if (r == 1 && len + 4 <= 40) {
				opts[len++] = 2;
				opts[len++] = 4;
				wr16(opts + len, (uint16_t)rnd(0x10000));
				len += 2;
			} else if (r == 2 && len + 3 <= 40) {
				opts[len++] = 3;
				opts[len++] = 3;
				opts[len++] = (uint8_t)rnd(15);
			} else if (r == 3 && len + 2 <= 40) {
				opts[len++] = 4;
				opts[len++] = 2;
			} else {
				break;
			}
		}
		n = syn(p, opts, len, 0x02);
		if (nat_tcp_mss_clamp(p + 20, n - 20, (uint16_t)rnd(0x10000)) == NAT_MSS_CLAMPED)
			clamped++;
		CU_ASSERT_EQUAL(ref_l4_csum(p, p + 20, n - 20), 0);
	}
	CU_ASSERT(clamped > 1000);
}

/* ---- DS-Lite ---- */

static void test_dslite(void)
{
	static const uint8_t aftr[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t b4[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x42};
	uint8_t buf[2048], copy[2048];
	struct pktm m = udp_model(0xc0000002u, REMOTE, 1234, 53, 41);
	m.tos = 0xb9; /* DSCP EF + ECN 01 */
	uint32_t n = build(&m, buf + 40);
	memcpy(copy, buf + 40, n);
	CU_ASSERT_EQUAL(nat_dslite_push(buf, n, aftr, b4), NAT_DS_OK);
	CU_ASSERT(memcmp(copy, buf + 40, n) == 0); /* the IPv4 packet untouched */
	CU_ASSERT_EQUAL(buf[0], 0x6b);            /* version 6, traffic class 0xb9 */
	CU_ASSERT_EQUAL(buf[1], 0x90);            /* ... and flow label 0 */
	CU_ASSERT_EQUAL(buf[2], 0);
	CU_ASSERT_EQUAL(buf[3], 0);
	CU_ASSERT_EQUAL(rd16(buf + 4), n);
	CU_ASSERT_EQUAL(buf[6], 4);
	CU_ASSERT_EQUAL(buf[7], 64);
	CU_ASSERT(memcmp(buf + 8, aftr, 16) == 0);
	CU_ASSERT(memcmp(buf + 24, b4, 16) == 0);
	CU_ASSERT_EQUAL(ip6_check(buf, n + 40), IP6_OK);

	uint32_t len4 = 0;
	enum ip4_verdict v = IP4_TRUNCATED;
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, &v), NAT_DS_OK);
	CU_ASSERT_EQUAL(len4, n);
	CU_ASSERT_EQUAL(v, IP4_OK);
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 41, &len4, NULL), NAT_DS_OK); /* trailing frame padding */
	/* Truncated: under 40 bytes, payload length past the bytes. */
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, 39, &len4, NULL), NAT_DS_TRUNCATED);
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 39, &len4, NULL), NAT_DS_TRUNCATED);
	/* Not IPv4-in-IPv6. */
	buf[6] = 41;
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, NULL), NAT_DS_NOT_IP4IP6);
	buf[6] = 4;
	buf[0] = 0x4b;
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, NULL), NAT_DS_NOT_IP4IP6);
	buf[0] = 0x6b;
	/* Inconsistent: payload length differs from the IPv4 total length (both ways), too short, not IPv4. */
	wr16(buf + 4, (uint16_t)(n - 1));
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, NULL), NAT_DS_INCONSISTENT);
	wr16(buf + 4, (uint16_t)(n + 1));
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 41, &len4, NULL), NAT_DS_INCONSISTENT);
	wr16(buf + 4, 19);
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, NULL), NAT_DS_INCONSISTENT);
	wr16(buf + 4, (uint16_t)n);
	buf[40] = 0x65;
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, NULL), NAT_DS_INCONSISTENT);
	buf[40] = 0x44;
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, NULL), NAT_DS_INCONSISTENT);
	buf[40] = 0x45;
	/* The inner header checks: a bad checksum, a martian source. */
	buf[40 + 8]--;
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, &v), NAT_DS_INNER_BAD);
	CU_ASSERT_EQUAL(v, IP4_BAD_CHECKSUM);
	buf[40 + 8]++;
	wr32(buf + 40 + 12, 0x7f000001u);
	fix_ip_csum(buf + 40);
	CU_ASSERT_EQUAL(nat_dslite_pull(buf, n + 40, &len4, &v), NAT_DS_INNER_BAD);
	CU_ASSERT_EQUAL(v, IP4_MARTIAN_SRC);

	/* Push refuses what is not a whole IPv4 packet. */
	build(&m, buf + 40);
	CU_ASSERT_EQUAL(nat_dslite_push(buf, 19, aftr, b4), NAT_DS_TRUNCATED);
	CU_ASSERT_EQUAL(nat_dslite_push(buf, n - 1, aftr, b4), NAT_DS_TRUNCATED);
	buf[40] = 0x65;
	CU_ASSERT_EQUAL(nat_dslite_push(buf, n, aftr, b4), NAT_DS_INCONSISTENT);
	buf[40] = 0x45;
	/* Round trip with a packet of every size from 20 bytes on: push then pull gives the packet back. */
	for (uint32_t pay = 0; pay < 200; pay++) {
		struct pktm r = udp_model(0xc0000002u, REMOTE, 1, 2, pay);
		r.tos = (uint8_t)pay;
		uint32_t rn = build(&r, buf + 40);
		CU_ASSERT_EQUAL(nat_dslite_push(buf, rn, b4, aftr), NAT_DS_OK);
		CU_ASSERT_EQUAL(nat_dslite_pull(buf, rn + 40, &len4, NULL), NAT_DS_OK);
		CU_ASSERT_EQUAL(len4, rn);
		CU_ASSERT_EQUAL(((buf[0] & 0xf) << 4) | (buf[1] >> 4), (uint8_t)pay);
	}
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	CU_pSuite s = CU_add_suite("nat_xlat", NULL, NULL);
	CU_add_test(s, "csum: RFC 1624 cases", test_csum_rfc1624);
	CU_add_test(s, "csum: random fields vs full", test_csum_random);
	CU_add_test(s, "udp and tcp", test_udp_tcp);
	CU_add_test(s, "icmp queries", test_icmp_query);
	CU_add_test(s, "fragments", test_fragments);
	CU_add_test(s, "icmp errors", test_icmp_errors);
	CU_add_test(s, "parse errors", test_parse_errors);
	CU_add_test(s, "random packets vs full recompute", test_random);
	CU_add_test(s, "random mutations", test_random_mutations);
	CU_add_test(s, "mss clamp", test_mss_clamp);
	CU_add_test(s, "ds-lite", test_dslite);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
