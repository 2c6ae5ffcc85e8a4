/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/ct (connection tracking): the canonical key, the TCP state machine and window checks, timeouts
 * on a fake clock (the timer wheel), the table against a naive reference on random operations (both full
 * policies), and flush requests. CT_TEST_SEED=<n> replays another random sequence.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_tcp.h>

#include "lib/ct/ct.h"
#include "lib/ct/ct_int.h"

static uint64_t seed = 0x5eed0c7u;

#define SYN RTE_TCP_SYN_FLAG
#define ACK RTE_TCP_ACK_FLAG
#define FIN RTE_TCP_FIN_FLAG
#define RST RTE_TCP_RST_FLAG
#define PSH RTE_TCP_PSH_FLAG
#define URG RTE_TCP_URG_FLAG
#define ECE RTE_TCP_ECE_FLAG
#define CWR RTE_TCP_CWR_FLAG
#define NOWS 0xff

#define T0 1000000u /* fake clock start, ms (a whole second) */

/* ---- helpers ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct ct_table *new_table(struct ct_params *p)
{
	static unsigned n;
	char name[32];
	struct ct_params def;

	if (p == NULL) {
		ct_params_default(&def);
		def.max_sessions = 1024;
		p = &def;
	}
	snprintf(name, sizeof(name), "ct_test_%u", n++);
	return ct_table_create(name, SOCKET_ID_ANY, p);
}

/* Release callback log: how often each slot was released and the keys seen. */
#define MAX_LOG 70000
static struct {
	uint32_t n;
	uint32_t idx[MAX_LOG];
	struct ct_key key[MAX_LOG];
	uint8_t state[MAX_LOG];
	uint32_t key_missing;
} rel;

static void release_cb(void *arg, struct ct_table *t, uint32_t idx)
{
	const struct ct_key *k = ct_session_key(t, idx);

	(void)arg;
	if (rel.n >= MAX_LOG)
		return;
	if (k == NULL)
		rel.key_missing++;
	else
		rel.key[rel.n] = *k;
	rel.state[rel.n] = ct_session(t, (int32_t)idx)->state;
	rel.idx[rel.n++] = idx;
}

static void rel_reset(void)
{
	rel.n = 0;
	rel.key_missing = 0;
}

static struct ct_key v4key(uint32_t vrf, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			   unsigned *side)
{
	struct ct_key k;
	uint32_t s = htonl(src), d = htonl(dst);
	unsigned sd = ct_key_build(&k, vrf, 4, proto, &s, &d, sport, dport);
	if (side != NULL)
		*side = sd;
	return k;
}

static int32_t insert(struct ct_table *t, const struct ct_key *k, unsigned side, uint64_t now)
{
	return ct_insert(t, k, ct_key_hash(k), side, now);
}

static int32_t lookup(struct ct_table *t, const struct ct_key *k)
{
	return ct_lookup(t, k, ct_key_hash(k));
}

/* A TCP connection under test: client (the opener) and server sides of the key. */
struct conn {
	struct ct_table *t;
	int32_t idx;
	unsigned cli, srv; /* key sides */
	uint64_t now;
};

enum { C, S }; /* who sends */

static int seg_ws(struct conn *c, int who, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len,
		  uint8_t wscale)
{
	struct ct_pkt p = {
		.tcp_flags = flags,
		.wscale = wscale,
		.win = win,
		.seq = seq,
		.ack = ack,
		.payload_len = len,
		.bytes = 40 + len,
	};
	return ct_track(c->t, c->idx, who == C ? c->cli : c->srv, &p, c->now);
}

static int seg(struct conn *c, int who, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len)
{
	return seg_ws(c, who, flags, seq, ack, win, len, NOWS);
}

static uint8_t state(const struct conn *c)
{
	return ct_session_const(c->t, (uint32_t)c->idx)->state;
}

/* Insert a TCP session for 10.0.0.1:40000 -> 10.0.0.2:80 (client has the lower address: key side 0). */
static void conn_open(struct conn *c, struct ct_table *t)
{
	struct ct_key k = v4key(0, IPPROTO_TCP, 0x0a000001, 0x0a000002, 40000, 80, &c->cli);
	c->t = t;
	c->srv = !c->cli;
	c->now = T0;
	c->idx = insert(t, &k, c->cli, c->now);
	CU_ASSERT_FATAL(c->idx >= 0);
}

/* Client ISN ci, server ISN si; windows 65535 (scaled by ws when both offer it). */
static void handshake(struct conn *c, uint32_t ci, uint32_t si, uint8_t ws_c, uint8_t ws_s)
{
	CU_ASSERT_EQUAL(seg_ws(c, C, SYN, ci, 0, 65535, 0, ws_c), CT_OK);
	CU_ASSERT_EQUAL(state(c), CT_S_SYN_SENT);
	CU_ASSERT_EQUAL(seg_ws(c, S, SYN | ACK, si, ci + 1, 65535, 0, ws_s), CT_OK);
	CU_ASSERT_EQUAL(state(c), CT_S_SYN_RECV);
	CU_ASSERT_EQUAL(seg(c, C, ACK, ci + 1, si + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(c), CT_S_ESTABLISHED);
}

/* A refused packet must leave the session exactly as it was. */
#define ASSERT_REFUSED(c, expr, verdict)                                                                               \
	do {                                                                                                           \
		struct ct_session before_ = *ct_session((c)->t, (c)->idx);                                               \
		CU_ASSERT_EQUAL((expr), (verdict));                                                                    \
		CU_ASSERT(memcmp(&before_, ct_session((c)->t, (c)->idx), sizeof(before_)) == 0);                       \
	} while (0)

/* ---- 1. key ---- */

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void test_key_v4(void)
{
	struct ct_key k1, k2;
	uint32_t a = htonl(0x0a000001), b = htonl(0x0a000002);

	memset(&k1, 0xaa, sizeof(k1));
	memset(&k2, 0x55, sizeof(k2));
	unsigned s1 = ct_key_build(&k1, 7, 4, IPPROTO_TCP, &a, &b, 40000, 80);
	unsigned s2 = ct_key_build(&k2, 7, 4, IPPROTO_TCP, &b, &a, 80, 40000);
	CU_ASSERT_EQUAL(s1, 0);
	CU_ASSERT_EQUAL(s2, 1);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CU_ASSERT_EQUAL(ct_key_hash(&k1), ct_key_hash(&k2));
	CU_ASSERT_EQUAL(k1.vrf, 7);
	CU_ASSERT_EQUAL(k1.family, 4);
	CU_ASSERT_EQUAL(k1.proto, IPPROTO_TCP);
	CU_ASSERT(memcmp(k1.addr[0], &a, 4) == 0);
	CU_ASSERT(memcmp(k1.addr[1], &b, 4) == 0);
	CU_ASSERT_EQUAL(k1.port[0], 40000);
	CU_ASSERT_EQUAL(k1.port[1], 80);
	CU_ASSERT_EQUAL(k1.pad, 0);
	CU_ASSERT(zero(k1.pad2, sizeof(k1.pad2)));
	CU_ASSERT(zero(&k1.addr[0][4], 12));
	CU_ASSERT(zero(&k1.addr[1][4], 12));

	/* The higher address sends: it is side 1 and the key is the same. */
	uint32_t hi = htonl(0xc0a80001), lo = htonl(0x01020304);
	CU_ASSERT_EQUAL(ct_key_build(&k1, 0, 4, IPPROTO_UDP, &hi, &lo, 53, 53), 1);
	CU_ASSERT(memcmp(k1.addr[1], &hi, 4) == 0);
	CU_ASSERT_EQUAL(ct_key_build(&k2, 0, 4, IPPROTO_UDP, &lo, &hi, 53, 53), 0);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
	/* Byte order matters: 10.0.0.255 < 10.0.1.0 although 0xff > 0x00 in the last byte. */
	uint32_t x = htonl(0x0a0000ff), y = htonl(0x0a000100);
	CU_ASSERT_EQUAL(ct_key_build(&k1, 0, 4, IPPROTO_UDP, &x, &y, 1, 1), 0);
	CU_ASSERT_EQUAL(ct_key_build(&k1, 0, 4, IPPROTO_UDP, &y, &x, 1, 1), 1);

	/* Same address: the port decides. */
	CU_ASSERT_EQUAL(ct_key_build(&k1, 0, 4, IPPROTO_TCP, &a, &a, 1000, 80), 1);
	CU_ASSERT_EQUAL(ct_key_build(&k2, 0, 4, IPPROTO_TCP, &a, &a, 80, 1000), 0);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CU_ASSERT_EQUAL(k1.port[0], 80);

	/* VRF, protocol and ports are part of the key. */
	ct_key_build(&k1, 1, 4, IPPROTO_TCP, &a, &b, 40000, 80);
	ct_key_build(&k2, 2, 4, IPPROTO_TCP, &a, &b, 40000, 80);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) != 0);
	ct_key_build(&k2, 1, 4, IPPROTO_UDP, &a, &b, 40000, 80);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) != 0);
	ct_key_build(&k2, 1, 4, IPPROTO_TCP, &a, &b, 40001, 80);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) != 0);
}

static void test_key_v6(void)
{
	struct ct_key k1, k2;
	uint8_t a[16], b[16];

	inet_pton(AF_INET6, "2001:db8::1", a);
	inet_pton(AF_INET6, "2001:db8::1:0", b);
	memset(&k1, 0xff, sizeof(k1));
	memset(&k2, 0x11, sizeof(k2));
	unsigned s1 = ct_key_build(&k1, 3, 6, IPPROTO_UDP, b, a, 5000, 6000);
	unsigned s2 = ct_key_build(&k2, 3, 6, IPPROTO_UDP, a, b, 6000, 5000);
	CU_ASSERT_EQUAL(s1, 1);
	CU_ASSERT_EQUAL(s2, 0);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CU_ASSERT(memcmp(k1.addr[0], a, 16) == 0);
	CU_ASSERT(memcmp(k1.addr[1], b, 16) == 0);
	CU_ASSERT_EQUAL(k1.port[0], 6000);
	CU_ASSERT_EQUAL(k1.port[1], 5000);
	CU_ASSERT_EQUAL(k1.family, 6);
	CU_ASSERT_EQUAL(k1.pad, 0);
	CU_ASSERT(zero(k1.pad2, sizeof(k1.pad2)));
	CU_ASSERT_EQUAL(ct_key_hash(&k1), ct_key_hash(&k2));

	/* ICMP echo: identifier on both sides. */
	CU_ASSERT_EQUAL(ct_key_build(&k1, 0, 6, IPPROTO_ICMPV6, a, b, 77, 77), 0);
	CU_ASSERT_EQUAL(ct_key_build(&k2, 0, 6, IPPROTO_ICMPV6, b, a, 77, 77), 1);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
}

/* The key as the specification says: side 0 has the lower (address, port), compared as byte strings. */
static unsigned ref_key_build(struct ct_key *k, uint32_t vrf, uint8_t family, uint8_t proto, const uint8_t *src,
			      const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	size_t alen = family == 4 ? 4 : 16;
	int cmp = memcmp(src, dst, alen);
	unsigned side = (cmp > 0 || (cmp == 0 && sport > dport)) ? 1 : 0;

	memset(k, 0, sizeof(*k));
	k->vrf = vrf;
	k->family = family;
	k->proto = proto;
	memcpy(k->addr[side], src, alen);
	memcpy(k->addr[!side], dst, alen);
	k->port[side] = sport;
	k->port[!side] = dport;
	return side;
}

/* ct_key_build (word compares, word stores) against the reference, with addresses that often share prefixes. */
static void test_key_random(void)
{
	rng_state = seed;
	for (unsigned n = 0; n < 200000; n++) {
		uint8_t a[16], b[16];
		uint8_t family = (rnd() & 1) ? 4 : 6;
		for (unsigned i = 0; i < 16; i++) {
			a[i] = (uint8_t)(rnd() & 3);
			b[i] = (rnd() & 7) == 0 ? (uint8_t)(rnd() & 3) : a[i]; /* mostly equal bytes: ties at any byte */
		}
		uint16_t sport = (uint16_t)(rnd() & 3), dport = (uint16_t)(rnd() & 3);
		uint32_t vrf = (uint32_t)rnd();
		uint8_t proto = (uint8_t)rnd();
		struct ct_key got, want;
		memset(&got, 0xa5, sizeof(got));
		uint32_t hash = 0;
		unsigned gs = ct_key_build_hash(&got, &hash, vrf, family, proto, a, b, sport, dport);
		unsigned ws = ref_key_build(&want, vrf, family, proto, a, b, sport, dport);
		if (gs != ws || memcmp(&got, &want, sizeof(got)) != 0 || hash != ct_key_hash(&want)) {
			CU_FAIL("ct_key_build differs from the reference");
			break;
		}
	}
}

/* ct_key_hash must be the table's own hash, so callers can use the *_with_hash calls. */
static void test_key_hash_is_table_hash(void)
{
	struct ct_table *t = new_table(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint32_t i = 0; i < 100; i++) {
		struct ct_key k = v4key(i, IPPROTO_UDP, 0x0a000000 + i, 0x0b000000 + i * 7, (uint16_t)i, 53, NULL);
		CU_ASSERT_EQUAL(ct_key_hash(&k), rte_hash_hash(t->hash, &k));
		int32_t idx = insert(t, &k, 0, T0);
		CU_ASSERT(idx >= 0);
		/* Plain rte_hash_lookup (hashing itself) finds what the caller's hash inserted: the session index is
		 * the key's data. */
		void *data = NULL;
		CU_ASSERT(rte_hash_lookup_data(t->hash, &k, &data) >= 0);
		CU_ASSERT_EQUAL((uintptr_t)data, (uintptr_t)idx);
	}
	ct_table_free(t);
}

/* ---- 2. TCP state machine ---- */

static void test_tcp_flags_valid(void)
{
	static const struct {
		uint8_t flags;
		bool valid;
	} cases[] = {
		{SYN, true},
		{SYN | ECE | CWR, true},
		{SYN | ACK, true},
		{SYN | ACK | ECE, true},
		{ACK, true},
		{ACK | PSH, true},
		{ACK | URG, true},
		{ACK | PSH | URG, true},
		{FIN | ACK, true},
		{FIN | ACK | PSH, true},
		{FIN | ACK | PSH | URG, true},
		{RST, true},
		{RST | ACK, true},
		{RST | ACK | PSH, true},
		{ACK | ECE | CWR, true},
		{0, false},
		{ECE | CWR, false},
		{FIN, false},
		{PSH, false},
		{URG, false},
		{FIN | PSH | URG, false},
		{SYN | FIN, false},
		{SYN | FIN | ACK, false},
		{SYN | RST, false},
		{SYN | RST | ACK, false},
		{SYN | URG, false},
		{SYN | PSH, false},
		{FIN | RST, false},
		{FIN | RST | ACK, false},
		{RST | URG | ACK, false},
		{RST | PSH, false},
		{0xff, false},
		{0x3f, false},
	};
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		if (ct_tcp_flags_valid(cases[i].flags) != cases[i].valid)
			printf("\n  flags %#x: expected %s\n", cases[i].flags, cases[i].valid ? "valid" : "invalid");
		CU_ASSERT_EQUAL(ct_tcp_flags_valid(cases[i].flags), cases[i].valid);
	}
}

static void test_tcp_full_lifecycle(void)
{
	struct ct_table *t = new_table(NULL);
	struct conn c;
	const uint32_t ci = 1000, si = 0xfffffff0; /* the server's numbers wrap around 2^32 */

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	conn_open(&c, t);
	const struct ct_session *s = ct_session_const(t, (uint32_t)c.idx);
	CU_ASSERT_EQUAL(s->state, CT_S_NEW);
	CU_ASSERT(s->flags & CT_F_IN_TRANS);

	CU_ASSERT_EQUAL(seg(&c, C, SYN, ci, 0, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_SYN_SENT);
	CU_ASSERT_EQUAL(seg(&c, C, SYN, ci, 0, 65535, 0), CT_OK); /* retransmitted SYN */
	CU_ASSERT_EQUAL(s->state, CT_S_SYN_SENT);
	CU_ASSERT_EQUAL(seg(&c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_SYN_RECV);
	CU_ASSERT_EQUAL(seg(&c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK); /* retransmitted SYN-ACK */
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 1, si + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_ESTABLISHED);
	CU_ASSERT_FALSE(s->flags & CT_F_IN_TRANS);

	/* Data both ways (the server's crosses 2^32). */
	CU_ASSERT_EQUAL(seg(&c, C, ACK | PSH, ci + 1, si + 1, 65535, 100), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, ACK | PSH, si + 1, ci + 101, 65535, 500), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 101, si + 501, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->tcp[c.srv].end, si + 501);
	CU_ASSERT_EQUAL(s->state, CT_S_ESTABLISHED);
	/* A SYN-ACK repeated after the handshake (the client's ACK was lost beyond us) is tolerated. */
	CU_ASSERT_EQUAL(seg(&c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_ESTABLISHED);
	/* A new SYN inside an established session is not. */
	ASSERT_REFUSED(&c, seg(&c, C, SYN, ci + 5000, 0, 65535, 0), CT_INVALID_STATE);

	/* Client closes, server acks, server closes, client acks. */
	CU_ASSERT_EQUAL(seg(&c, C, FIN | ACK, ci + 101, si + 501, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_FIN_WAIT);
	CU_ASSERT(s->flags & CT_F_IN_TRANS); /* back on the transitory list */
	CU_ASSERT_EQUAL(s->tcp[c.cli].fin, 1);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 501, ci + 102, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->tcp[c.cli].fin, 2);
	CU_ASSERT_EQUAL(s->state, CT_S_FIN_WAIT);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 501, ci + 102, 65535, 20), CT_OK); /* half-closed: server still sends */
	CU_ASSERT_EQUAL(seg(&c, S, FIN | ACK, si + 521, ci + 102, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_CLOSE_WAIT);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 102, si + 522, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(s->state, CT_S_TIME_WAIT);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 102, si + 522, 65535, 0), CT_OK); /* repeated last ACK */
	CU_ASSERT_EQUAL(seg(&c, S, FIN | ACK, si + 521, ci + 102, 65535, 0), CT_OK); /* repeated FIN */
	CU_ASSERT_EQUAL(s->state, CT_S_TIME_WAIT);

	/* Counters by direction (refused packets do not count): 8 accepted each way. */
	CU_ASSERT_EQUAL(s->pkts[CT_DIR_ORIG], 8);
	CU_ASSERT_EQUAL(s->pkts[CT_DIR_REPLY], 8);
	CU_ASSERT_EQUAL(s->bytes[CT_DIR_ORIG], 8 * 40 + 100);
	CU_ASSERT_EQUAL(s->bytes[CT_DIR_REPLY], 8 * 40 + 500 + 20);

	/* The port pair is reused: a new SYN restarts the session (the caller deletes and opens again). */
	uint64_t restarted = ct_table_stats(t)->restarted;
	ASSERT_REFUSED(&c, seg(&c, C, SYN, ci + 100000, 0, 65535, 0), CT_RESTART);
	CU_ASSERT_EQUAL(ct_table_stats(t)->restarted, restarted + 1);
	ct_table_free(t);
}

static void test_tcp_rst(void)
{
	struct ct_table *t = new_table(NULL);
	struct conn c;
	const uint32_t ci = 7000, si = 90000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	conn_open(&c, t);
	handshake(&c, ci, si, NOWS, NOWS);
	/* A RST whose sequence number is far outside the window is refused (blind reset). */
	ASSERT_REFUSED(&c, seg(&c, S, RST, si + 1 + 10000000, 0, 0, 0), CT_OUT_OF_WINDOW);
	ASSERT_REFUSED(&c, seg(&c, S, RST, si + 1 - 10000000, 0, 0, 0), CT_OUT_OF_WINDOW);
	CU_ASSERT_EQUAL(state(&c), CT_S_ESTABLISHED);
	CU_ASSERT_EQUAL(ct_table_stats(t)->out_of_window, 2);
	/* In window: accepted, CLOSED, back on the transitory list. */
	CU_ASSERT_EQUAL(seg(&c, S, RST | ACK, si + 1, ci + 1, 0, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_CLOSED);
	CU_ASSERT(ct_session(t, c.idx)->flags & CT_F_IN_TRANS);
	/* Nothing but a RST or a new SYN after that. */
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 1, si + 1, 65535, 10), CT_INVALID_STATE);
	CU_ASSERT_EQUAL(seg(&c, S, RST, si + 1, 0, 0, 0), CT_OK);
	ASSERT_REFUSED(&c, seg(&c, C, SYN, ci + 50000, 0, 65535, 0), CT_RESTART);
	ct_delete(t, c.idx);

	/* The server refuses the SYN: RST+ACK acking the SYN closes; a wrong ack does not. */
	conn_open(&c, t);
	CU_ASSERT_EQUAL(seg(&c, C, SYN, ci, 0, 65535, 0), CT_OK);
	ASSERT_REFUSED(&c, seg(&c, S, RST | ACK, 0, ci + 5, 0, 0), CT_OUT_OF_WINDOW);
	ASSERT_REFUSED(&c, seg(&c, S, RST, 0, 0, 0, 0), CT_OUT_OF_WINDOW);
	CU_ASSERT_EQUAL(seg(&c, S, RST | ACK, 0, ci + 1, 0, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_CLOSED);
	ct_delete(t, c.idx);

	/* The client aborts during the handshake. */
	conn_open(&c, t);
	CU_ASSERT_EQUAL(seg(&c, C, SYN, ci, 0, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, RST, ci + 1, 0, 0, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_CLOSED);
	CU_ASSERT_EQUAL(ct_table_stats(t)->deleted, 2);
	ct_table_free(t);
}

static void test_tcp_simultaneous(void)
{
	struct ct_table *t = new_table(NULL);
	struct conn c;
	const uint32_t ci = 1, si = 2000000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* Simultaneous close: both FINs cross, then both ACKs. */
	conn_open(&c, t);
	handshake(&c, ci, si, NOWS, NOWS);
	CU_ASSERT_EQUAL(seg(&c, C, FIN | ACK, ci + 1, si + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_FIN_WAIT);
	CU_ASSERT_EQUAL(seg(&c, S, FIN | ACK, si + 1, ci + 1, 65535, 0), CT_OK); /* does not ack the client's FIN */
	CU_ASSERT_EQUAL(state(&c), CT_S_CLOSE_WAIT);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 2, si + 2, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_CLOSE_WAIT);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 2, ci + 2, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_TIME_WAIT);
	ct_delete(t, c.idx);

	/* Simultaneous open: both send a SYN, then each a SYN-ACK. */
	conn_open(&c, t);
	CU_ASSERT_EQUAL(seg(&c, C, SYN, ci, 0, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, SYN, si, 0, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_SYN_SENT);
	CU_ASSERT(ct_session(t, c.idx)->flags & CT_F_TCP_SIMOPEN);
	CU_ASSERT_EQUAL(seg(&c, C, SYN | ACK, ci, si + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_SYN_RECV);
	CU_ASSERT_EQUAL(seg(&c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 1, ci + 1, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_ESTABLISHED);
	ct_table_free(t);
}

static void test_tcp_refused(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 64;
	struct ct_table *t = new_table(&p);
	struct conn c;
	const uint32_t ci = 5, si = 777;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* What may open a session. */
	struct ct_pkt pk = {.tcp_flags = SYN};
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_OK);
	pk.tcp_flags = SYN | ECE | CWR;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_OK);
	pk.tcp_flags = SYN | ACK;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_INVALID_STATE);
	pk.tcp_flags = ACK;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_INVALID_STATE);
	pk.tcp_flags = RST;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_INVALID_STATE);
	pk.tcp_flags = SYN | FIN;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_INVALID_FLAGS);

	/* A first packet that is not a SYN does not start tracking. */
	conn_open(&c, t);
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci, si, 65535, 10), CT_INVALID_STATE);
	ASSERT_REFUSED(&c, seg(&c, S, SYN, si, 0, 65535, 0), CT_INVALID_STATE); /* from the wrong side */
	ASSERT_REFUSED(&c, seg(&c, C, SYN | FIN, ci, 0, 65535, 0), CT_INVALID_FLAGS);
	CU_ASSERT_EQUAL(state(&c), CT_S_NEW);

	CU_ASSERT_EQUAL(seg(&c, C, SYN, ci, 0, 65535, 0), CT_OK);
	/* Data before the handshake, from either side; a SYN-ACK from the opener. */
	ASSERT_REFUSED(&c, seg(&c, C, ACK | PSH, ci + 1, 0, 65535, 100), CT_INVALID_STATE);
	ASSERT_REFUSED(&c, seg(&c, S, ACK | PSH, si + 1, ci + 1, 65535, 100), CT_INVALID_STATE);
	ASSERT_REFUSED(&c, seg(&c, C, SYN | ACK, ci, si + 1, 65535, 0), CT_INVALID_STATE);
	ASSERT_REFUSED(&c, seg(&c, C, FIN | ACK, ci + 1, 0, 65535, 0), CT_INVALID_STATE);
	/* A SYN-ACK that does not ack the SYN. */
	ASSERT_REFUSED(&c, seg(&c, S, SYN | ACK, si, ci + 1000, 65535, 0), CT_OUT_OF_WINDOW);
	CU_ASSERT_EQUAL(seg(&c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK);
	/* The server may not send data before the client's ACK. */
	ASSERT_REFUSED(&c, seg(&c, S, ACK | PSH, si + 1, ci + 1, 65535, 100), CT_INVALID_STATE);
	ASSERT_REFUSED(&c, seg(&c, S, SYN, si, 0, 65535, 0), CT_INVALID_STATE);
	/* Impossible flags are refused in any state. */
	ASSERT_REFUSED(&c, seg(&c, C, 0, ci + 1, si + 1, 65535, 0), CT_INVALID_FLAGS);
	ASSERT_REFUSED(&c, seg(&c, C, FIN | PSH | URG, ci + 1, si + 1, 65535, 0), CT_INVALID_FLAGS);
	CU_ASSERT_EQUAL(state(&c), CT_S_SYN_RECV);
	const struct ct_stats *st = ct_table_stats(t);
	CU_ASSERT_EQUAL(st->invalid_flags, 3);
	CU_ASSERT_EQUAL(st->invalid_state, 8);
	CU_ASSERT_EQUAL(st->out_of_window, 1);
	ct_table_free(t);
}

static void test_tcp_loose(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 64;
	p.tcp_loose = true;
	struct ct_table *t = new_table(&p);
	struct conn c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	struct ct_pkt pk = {.tcp_flags = ACK | PSH};
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_OK);
	pk.tcp_flags = RST | ACK;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_INVALID_STATE);
	pk.tcp_flags = SYN | ACK;
	CU_ASSERT_EQUAL(ct_tcp_may_open(t, &pk), CT_INVALID_STATE);

	conn_open(&c, t);
	CU_ASSERT_EQUAL(seg(&c, C, ACK | PSH, 123456, 654321, 500, 1000), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_ESTABLISHED);
	CU_ASSERT(ct_session(t, c.idx)->flags & CT_F_TCP_LIBERAL);
	CU_ASSERT_FALSE(ct_session(t, c.idx)->flags & CT_F_IN_TRANS);
	/* The window scale is unknown: a picked-up session is tracked but not enforced. */
	CU_ASSERT_EQUAL(seg(&c, S, ACK, 654321, 124456, 500, 100), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, 654421 + 300000, 124456, 500, 100), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, FIN | ACK, 124456, 654421, 500, 0), CT_OK);
	CU_ASSERT_EQUAL(state(&c), CT_S_FIN_WAIT);
	ct_table_free(t);
}

/* ---- 3. windows ---- */

static void test_window_basic(void)
{
	struct ct_table *t = new_table(NULL);
	struct conn c;
	const uint32_t ci = 0x7ffffff0, si = 3000; /* the client's numbers cross 2^31 (signed compare) */

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	conn_open(&c, t);
	handshake(&c, ci, si, NOWS, NOWS);
	/* In window: the full window in one segment. */
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 1, si + 1, 65535, 60000), CT_OK);
	/* Beyond what the server allowed (65535 from ci + 1). */
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 1 + 70000, si + 1, 65535, 100), CT_OUT_OF_WINDOW);
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 1 + 10000000, si + 1, 65535, 100), CT_OUT_OF_WINDOW);
	/* Acks data the server never sent. */
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 60001, si + 2, 65535, 0), CT_OUT_OF_WINDOW);
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 60001, si + 100000, 65535, 0), CT_OUT_OF_WINDOW);
	/* Acks far in the past. */
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 60001, si + 1 - 1000000, 65535, 0), CT_OUT_OF_WINDOW);
	/* The server acks what it got and opens more: the client may go on. */
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 1, ci + 60001, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 60001, si + 1, 65535, 60000), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 1, ci + 120001, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 120001, si + 1, 65535, 60000), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 1, ci + 180001, 65535, 0), CT_OK);
	/* A retransmission within the last window is fine; one older than a window is not. */
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 170001, si + 1, 65535, 10000), CT_OK);
	ASSERT_REFUSED(&c, seg(&c, C, ACK, ci + 1, si + 1, 65535, 1000), CT_OUT_OF_WINDOW);
	/* An ack of data the server did send. */
	CU_ASSERT_EQUAL(seg(&c, S, ACK | PSH, si + 1, ci + 180001, 65535, 5000), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 180001, si + 5001, 65535, 0), CT_OK);
	CU_ASSERT_EQUAL(ct_table_stats(t)->out_of_window, 6);

	/* With the check off, the same bad segments pass. */
	struct ct_params p = *ct_table_params(t);
	p.tcp_window_check = false;
	ct_table_set_params(t, &p);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 1 + 10000000, si + 5001, 65535, 100), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, ci + 1, si + 5001, 65535, 1000), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, si + 5001, ci + 99999999, 65535, 0), CT_OK);
	/* ... but not bad states or flags. */
	ASSERT_REFUSED(&c, seg(&c, C, SYN, 1, 0, 65535, 0), CT_INVALID_STATE);
	ASSERT_REFUSED(&c, seg(&c, C, SYN | FIN, 1, 0, 65535, 0), CT_INVALID_FLAGS);
	ct_table_free(t);
}

/* The server sends far ahead (segments before it lost): allowed only as far as the client's scaled window. */
static int scaled_case(uint8_t ws_c, uint8_t ws_s, uint32_t offset)
{
	struct ct_table *t = new_table(NULL);
	struct conn c;
	const uint32_t ci = 100, si = 200;

	conn_open(&c, t);
	handshake(&c, ci, si, ws_c, ws_s);
	/* The client's ACK announced 65535 << ws_c when both offered scaling, 65535 otherwise. */
	int v = seg(&c, S, ACK | PSH, si + 1 + offset, ci + 1, 1000, 1000);
	ct_table_free(t);
	return v;
}

static void test_window_scaling(void)
{
	/* 65535 << 7 = 8388480: 1 MB ahead is in the window. */
	CU_ASSERT_EQUAL(scaled_case(7, 7, 1000000), CT_OK);
	CU_ASSERT_EQUAL(scaled_case(7, 2, 1000000), CT_OK);
	CU_ASSERT_EQUAL(scaled_case(7, 7, 8388480), CT_OK);
	CU_ASSERT_EQUAL(scaled_case(7, 7, 8388481), CT_OUT_OF_WINDOW);
	/* Only one side offered: no scaling in either direction (RFC 7323). */
	CU_ASSERT_EQUAL(scaled_case(7, NOWS, 1000000), CT_OUT_OF_WINDOW);
	CU_ASSERT_EQUAL(scaled_case(NOWS, 7, 1000000), CT_OUT_OF_WINDOW);
	CU_ASSERT_EQUAL(scaled_case(NOWS, NOWS, 65535), CT_OK);
	CU_ASSERT_EQUAL(scaled_case(NOWS, NOWS, 65536), CT_OUT_OF_WINDOW);
	/* Scale 0 offered by both: windows as announced. */
	CU_ASSERT_EQUAL(scaled_case(0, 0, 65536), CT_OUT_OF_WINDOW);
	/* A shift above 14 counts as 14: 65535 << 14 = 1073725440. */
	CU_ASSERT_EQUAL(scaled_case(20, 20, 1073725440), CT_OK);
	CU_ASSERT_EQUAL(scaled_case(20, 20, 1073725441), CT_OUT_OF_WINDOW);

	/* The window of a SYN is never scaled: the client may send 65535 past its ISN before the server's scaled
	 * window arrives... the SYN-ACK's 1000 (unscaled) limits it to 1000. */
	struct ct_table *t = new_table(NULL);
	struct conn c;
	conn_open(&c, t);
	CU_ASSERT_EQUAL(seg_ws(&c, C, SYN, 100, 0, 65535, 0, 7), CT_OK);
	CU_ASSERT_EQUAL(seg_ws(&c, S, SYN | ACK, 200, 101, 1000, 0, 7), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, 101, 201, 1000, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, 101 + 1000, 201, 1000, 10), CT_OK);
	ASSERT_REFUSED(&c, seg(&c, C, ACK, 101 + 1001, 201, 1000, 10), CT_OUT_OF_WINDOW);
	/* The server's next ACK carries a scaled window: 1000 << 7. */
	CU_ASSERT_EQUAL(seg(&c, S, ACK, 201, 101, 1000, 0), CT_OK);
	CU_ASSERT_EQUAL(seg(&c, C, ACK, 101 + 100000, 201, 1000, 10), CT_OK);
	ct_table_free(t);
}

/* ---- 4. timeouts on a fake clock ---- */

/* Expire at now with a large budget; returns how many went. */
static unsigned expire(struct ct_table *t, uint64_t now)
{
	return ct_expire(t, now, 1000000);
}

/* The session idx must survive until expires (walking the wheel on the way) and go at expires exactly. */
static void check_expires_at(struct ct_table *t, int32_t idx, uint64_t from, uint64_t expires)
{
	for (uint64_t now = from; now + 1 < expires; now += 37000)
		CU_ASSERT_EQUAL(expire(t, now), 0);
	CU_ASSERT_EQUAL(expire(t, expires - 1), 0);
	CU_ASSERT_NOT_EQUAL(ct_session(t, idx)->state, CT_S_FREE);
	rel_reset();
	CU_ASSERT_EQUAL(expire(t, expires), 1);
	CU_ASSERT_EQUAL(ct_session(t, idx)->state, CT_S_FREE);
	CU_ASSERT_EQUAL(rel.n, 1);
	CU_ASSERT_EQUAL(rel.idx[0], (uint32_t)idx);
	CU_ASSERT_EQUAL(rel.key_missing, 0);
}

enum tcp_goal { G_SYN_SENT, G_SYN_RECV, G_ESTABLISHED, G_FIN_WAIT, G_CLOSE_WAIT, G_TIME_WAIT, G_CLOSED };

static void tcp_drive(struct conn *c, enum tcp_goal goal)
{
	const uint32_t ci = 10, si = 20;
	CU_ASSERT_EQUAL(seg(c, C, SYN, ci, 0, 65535, 0), CT_OK);
	if (goal == G_SYN_SENT)
		return;
	CU_ASSERT_EQUAL(seg(c, S, SYN | ACK, si, ci + 1, 65535, 0), CT_OK);
	if (goal == G_SYN_RECV)
		return;
	CU_ASSERT_EQUAL(seg(c, C, ACK, ci + 1, si + 1, 65535, 0), CT_OK);
	if (goal == G_CLOSED) {
		CU_ASSERT_EQUAL(seg(c, S, RST, si + 1, 0, 0, 0), CT_OK);
		return;
	}
	if (goal == G_ESTABLISHED)
		return;
	CU_ASSERT_EQUAL(seg(c, C, FIN | ACK, ci + 1, si + 1, 65535, 0), CT_OK);
	if (goal == G_FIN_WAIT)
		return;
	CU_ASSERT_EQUAL(seg(c, S, FIN | ACK, si + 1, ci + 2, 65535, 0), CT_OK);
	if (goal == G_CLOSE_WAIT)
		return;
	CU_ASSERT_EQUAL(seg(c, C, ACK, ci + 2, si + 2, 65535, 0), CT_OK);
}

static void test_timeouts_each(void)
{
	static const struct {
		enum tcp_goal goal;
		uint8_t state;
		uint32_t timeout;
	} tcp[] = {
		{G_SYN_SENT, CT_S_SYN_SENT, 240},      {G_SYN_RECV, CT_S_SYN_RECV, 240},
		{G_ESTABLISHED, CT_S_ESTABLISHED, 7440}, {G_FIN_WAIT, CT_S_FIN_WAIT, 240},
		{G_CLOSE_WAIT, CT_S_CLOSE_WAIT, 240},  {G_TIME_WAIT, CT_S_TIME_WAIT, 120},
		{G_CLOSED, CT_S_CLOSED, 10},
	};
	for (unsigned i = 0; i < RTE_DIM(tcp); i++) {
		struct ct_table *t = new_table(NULL);
		struct conn c;
		ct_set_release_cb(t, release_cb, NULL);
		conn_open(&c, t);
		tcp_drive(&c, tcp[i].goal);
		CU_ASSERT_EQUAL(state(&c), tcp[i].state);
		CU_ASSERT_EQUAL(ct_session(t, c.idx)->expires_ms, T0 + tcp[i].timeout * 1000ull);
		check_expires_at(t, c.idx, T0, T0 + tcp[i].timeout * 1000ull);
		CU_ASSERT_EQUAL(ct_table_stats(t)->expired, 1);
		CU_ASSERT_EQUAL(ct_table_stats(t)->active, 0);
		ct_table_free(t);
	}

	/* UDP, ICMP, ICMPv6 and another protocol, before and after a reply; custom timeouts. */
	static const struct {
		uint8_t proto;
		bool reply;
		uint32_t timeout;
	} other[] = {
		{IPPROTO_UDP, false, 121}, {IPPROTO_UDP, true, 121},  {IPPROTO_ICMP, false, 61},
		{IPPROTO_ICMP, true, 61},  {IPPROTO_ICMPV6, true, 61}, {IPPROTO_GRE, false, 333},
		{IPPROTO_GRE, true, 333},
	};
	for (unsigned i = 0; i < RTE_DIM(other); i++) {
		struct ct_params p;
		ct_params_default(&p);
		p.max_sessions = 16;
		p.timeouts.udp = 121;
		p.timeouts.icmp = 61;
		p.timeouts.other = 333;
		struct ct_table *t = new_table(&p);
		unsigned side;
		struct ct_key k = v4key(0, other[i].proto, 0x0a000002, 0x0a000001, 1, 2, &side);
		ct_set_release_cb(t, release_cb, NULL);
		int32_t idx = insert(t, &k, side, T0);
		CU_ASSERT_FATAL(idx >= 0);
		struct ct_pkt pk = {.bytes = 100};
		CU_ASSERT_EQUAL(ct_track(t, idx, side, &pk, T0), CT_OK);
		CU_ASSERT_EQUAL(ct_session(t, idx)->state, CT_S_NEW);
		if (other[i].reply) {
			CU_ASSERT_EQUAL(ct_track(t, idx, !side, &pk, T0), CT_OK);
			CU_ASSERT_EQUAL(ct_session(t, idx)->state, CT_S_ESTABLISHED);
			CU_ASSERT(ct_session(t, idx)->flags & CT_F_SEEN_REPLY);
			CU_ASSERT_FALSE(ct_session(t, idx)->flags & CT_F_IN_TRANS);
		}
		check_expires_at(t, idx, T0, T0 + other[i].timeout * 1000ull);
		ct_table_free(t);
	}
}

static void test_timeouts_refresh_and_shorten(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 64;
	struct ct_table *t = new_table(&p);
	unsigned side;
	ct_set_release_cb(t, release_cb, NULL);

	/* A packet at +100 s pushes a UDP session's expiry to +220 s; the original +120 s passes harmlessly. */
	struct ct_key k = v4key(0, IPPROTO_UDP, 1, 2, 3, 4, &side);
	int32_t idx = insert(t, &k, side, T0);
	struct ct_pkt pk = {.bytes = 1};
	CU_ASSERT_EQUAL(expire(t, T0 + 99999), 0);
	CU_ASSERT_EQUAL(ct_track(t, idx, side, &pk, T0 + 100000), CT_OK);
	CU_ASSERT_EQUAL(expire(t, T0 + 120000), 0);
	check_expires_at(t, idx, T0 + 120000, T0 + 220000);

	/* Off the second: a session created at +0.5 s expires no earlier than its timeout, within a second after. */
	idx = insert(t, &k, side, T0 + 300500);
	CU_ASSERT_EQUAL(expire(t, T0 + 300500 + 119999), 0);
	CU_ASSERT_EQUAL(expire(t, T0 + 300500 + 120000 + 999), 1);

	ct_table_free(t);

	/* ESTABLISHED (7440 s) then a RST: the CLOSED timeout (10 s) applies from the RST, not the old expiry. */
	t = new_table(&p);
	ct_set_release_cb(t, release_cb, NULL);
	struct conn c;
	conn_open(&c, t);
	tcp_drive(&c, G_ESTABLISHED);
	c.now = T0 + 5000;
	CU_ASSERT_EQUAL(seg(&c, S, RST, 21, 0, 0, 0), CT_OK);
	check_expires_at(t, c.idx, T0, T0 + 15000);
	ct_table_free(t);
}

static void test_timeouts_budget(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 256;
	struct ct_table *t = new_table(&p);
	ct_set_release_cb(t, release_cb, NULL);
	rel_reset();

	for (uint32_t i = 0; i < 5; i++) {
		struct ct_key k = v4key(0, IPPROTO_UDP, 1, 2, (uint16_t)i, 4, NULL);
		CU_ASSERT(insert(t, &k, 0, T0) >= 0);
	}
	for (unsigned i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(ct_expire(t, T0 + 120000, 1), 1);
		CU_ASSERT_EQUAL(ct_table_stats(t)->active, 4 - i);
	}
	CU_ASSERT_EQUAL(ct_expire(t, T0 + 120000, 1), 0);
	CU_ASSERT_EQUAL(rel.n, 5);

	/* Budget 0: nothing expires; leftovers carry over to later calls. */
	for (uint32_t i = 0; i < 10; i++) {
		struct ct_key k = v4key(0, IPPROTO_UDP, 1, 2, (uint16_t)i, 4, NULL);
		CU_ASSERT(insert(t, &k, 0, T0 + 200000 + i * 1000) >= 0);
	}
	CU_ASSERT_EQUAL(ct_expire(t, T0 + 400000, 0), 0);
	CU_ASSERT_EQUAL(ct_expire(t, T0 + 400000, 3), 3);
	CU_ASSERT_EQUAL(ct_expire(t, T0 + 400001, 3), 3);
	CU_ASSERT_EQUAL(ct_expire(t, T0 + 400002, 3), 3);
	CU_ASSERT_EQUAL(ct_expire(t, T0 + 400003, 3), 1);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 0);

	/* Refreshed sessions are re-filed, a bounded number per call: 100 refreshed ones cost several calls. */
	int32_t idx[100];
	for (uint32_t i = 0; i < 100; i++) {
		struct ct_key k = v4key(1, IPPROTO_UDP, 1, 2, (uint16_t)i, 4, NULL);
		idx[i] = insert(t, &k, 0, T0 + 500000);
		CU_ASSERT_FATAL(idx[i] >= 0);
		struct ct_pkt pk = {0};
		CU_ASSERT_EQUAL(ct_track(t, idx[i], 0, &pk, T0 + 600000), CT_OK);
	}
	unsigned calls = 0;
	while (t->wheel[((T0 + 620000) / 1000) & CT_WHEEL_MASK] != CT_NIL || calls == 0) {
		CU_ASSERT_EQUAL(ct_expire(t, T0 + 620000, 2), 0);
		if (++calls > 1000)
			break;
	}
	CU_ASSERT(calls >= 100 / (2 * CT_REFILE_PER_EXPIRY));
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 100);
	CU_ASSERT_EQUAL(expire(t, T0 + 720000 - 1), 0);
	CU_ASSERT_EQUAL(expire(t, T0 + 720000), 100);
	ct_table_free(t);
}

static void test_timeouts_long(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 64;
	p.timeouts.tcp_established = 20000; /* more than the wheel's 8192 s */
	p.timeouts.udp = 100000;
	struct ct_table *t = new_table(&p);
	struct conn c;
	ct_set_release_cb(t, release_cb, NULL);

	conn_open(&c, t);
	tcp_drive(&c, G_ESTABLISHED);
	check_expires_at(t, c.idx, T0, T0 + 20000000ull);

	/* The same with the wheel walked rarely (big steps) and a refresh half way. */
	struct ct_key k = v4key(0, IPPROTO_UDP, 1, 2, 3, 4, NULL);
	uint64_t start = T0 + 30000000ull;
	int32_t idx = insert(t, &k, 0, start);
	CU_ASSERT_EQUAL(expire(t, start + 7000000), 0);
	CU_ASSERT_EQUAL(expire(t, start + 50000000), 0);
	struct ct_pkt pk = {0};
	CU_ASSERT_EQUAL(ct_track(t, idx, 0, &pk, start + 50000000), CT_OK);
	CU_ASSERT_EQUAL(expire(t, start + 100000000), 0);
	CU_ASSERT_EQUAL(expire(t, start + 150000000 - 1), 0);
	CU_ASSERT_EQUAL(expire(t, start + 150000000), 1);

	/* A jump of days expires everything due at once. */
	for (uint32_t i = 0; i < 50; i++) {
		struct ct_key k2 = v4key(2, IPPROTO_UDP, 1, 2, (uint16_t)i, 4, NULL);
		CU_ASSERT(insert(t, &k2, 0, start + 200000000 + i * 1000000ull) >= 0);
	}
	CU_ASSERT_EQUAL(expire(t, start + 200000000 + 10ull * 86400000), 50);
	ct_table_free(t);
}

/* ---- 5. table vs a naive reference ---- */

#define REF_KEYS 3000

struct ref {
	struct ct_key key[REF_KEYS];
	int32_t idx[REF_KEYS];       /* -1 when absent */
	int32_t owner[REF_KEYS * 2]; /* slot -> key number */
	uint32_t count;
	/* transitory order (evict policy): key numbers, oldest first */
	uint32_t trans[REF_KEYS];
	uint32_t n_trans;
};

static struct ref ref;

static void ref_init(void)
{
	for (uint32_t i = 0; i < REF_KEYS; i++) {
		ref.key[i] = v4key(i % 4, IPPROTO_UDP, 0x0a000000 + (i % 97), 0x0a010000 + (i / 97), (uint16_t)(i * 13),
				   53, NULL);
		ref.idx[i] = -1;
	}
	for (uint32_t i = 0; i < RTE_DIM(ref.owner); i++)
		ref.owner[i] = -1;
	ref.count = 0;
	ref.n_trans = 0;
}

static void ref_trans_remove(uint32_t key)
{
	for (uint32_t i = 0; i < ref.n_trans; i++)
		if (ref.trans[i] == key) {
			memmove(&ref.trans[i], &ref.trans[i + 1], (ref.n_trans - i - 1) * sizeof(ref.trans[0]));
			ref.n_trans--;
			return;
		}
}

static void ref_remove(uint32_t key)
{
	ref.owner[ref.idx[key]] = -1;
	ref.idx[key] = -1;
	ref.count--;
	ref_trans_remove(key);
}

static void ref_check_all(struct ct_table *t)
{
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, ref.count);
	for (uint32_t i = 0; i < REF_KEYS; i++) {
		int32_t idx = lookup(t, &ref.key[i]);
		CU_ASSERT_EQUAL(idx, ref.idx[i]);
		if (ref.idx[i] >= 0) {
			const struct ct_key *k = ct_session_key(t, (uint32_t)ref.idx[i]);
			CU_ASSERT(k != NULL && memcmp(k, &ref.key[i], sizeof(*k)) == 0);
		}
	}
	/* The transitory list in the table matches the reference order. */
	uint32_t n = 0;
	for (uint32_t idx = t->trans_head; idx != CT_NIL && n <= ref.n_trans; idx = t->sessions[idx].trans_next) {
		if (n < ref.n_trans)
			CU_ASSERT_EQUAL(idx, (uint32_t)ref.idx[ref.trans[n]]);
		n++;
	}
	CU_ASSERT_EQUAL(n, ref.n_trans);
}

static void random_run(enum ct_full_policy policy, uint32_t max_sessions, unsigned n_ops)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = max_sessions;
	p.full_policy = policy;
	struct ct_table *t = new_table(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_FATAL(ct_table_capacity(t) <= RTE_DIM(ref.owner));
	ct_set_release_cb(t, release_cb, NULL);
	ref_init();
	rng_state = seed;
	uint64_t refused = 0, evicted = 0, failures = 0;
	uint64_t now = T0;

	for (unsigned op = 0; op < n_ops; op++) {
		uint32_t r = (uint32_t)(rnd() % 100);
		uint32_t key = (uint32_t)(rnd() % REF_KEYS);
		now += 1;
		unsigned before = CU_get_number_of_failures();

		if (r < 45) {
			rel_reset();
			int32_t idx = insert(t, &ref.key[key], 0, now);
			if (ref.idx[key] >= 0) {
				CU_ASSERT_EQUAL(idx, -EEXIST);
			} else if (ref.count == max_sessions &&
				   (policy == CT_FULL_REFUSE || ref.n_trans == 0)) {
				CU_ASSERT_EQUAL(idx, -ENOSPC);
				refused++;
			} else {
				if (ref.count == max_sessions) {
					/* The oldest transitory session made room. */
					uint32_t victim = ref.trans[0];
					CU_ASSERT_EQUAL(rel.n, 1);
					CU_ASSERT(rel.n == 1 && rel.idx[0] == (uint32_t)ref.idx[victim] &&
						  memcmp(&rel.key[0], &ref.key[victim], sizeof(struct ct_key)) == 0);
					CU_ASSERT(rel.n == 1 && rel.state[0] == CT_S_NEW);
					ref_remove(victim);
					evicted++;
				} else {
					CU_ASSERT_EQUAL(rel.n, 0);
				}
				CU_ASSERT(idx >= 0 && (uint32_t)idx < ct_table_capacity(t));
				if (idx >= 0 && (uint32_t)idx < ct_table_capacity(t)) {
					CU_ASSERT_EQUAL(ref.owner[idx], -1);
					ref.owner[idx] = (int32_t)key;
					ref.idx[key] = idx;
					ref.count++;
					ref.trans[ref.n_trans++] = key;
				}
			}
		} else if (r < 65) {
			if (ref.idx[key] >= 0) {
				ct_delete(t, ref.idx[key]);
				ref_remove(key);
			}
			CU_ASSERT_EQUAL(lookup(t, &ref.key[key]), -1);
		} else if (r < 80) {
			CU_ASSERT_EQUAL(lookup(t, &ref.key[key]), ref.idx[key]);
		} else if (r < 88) {
			const struct ct_key *keys[64];
			uint32_t hashes[64], which[64];
			int32_t idx[64];
			unsigned n = 1 + (unsigned)(rnd() % 64);
			for (unsigned i = 0; i < n; i++) {
				which[i] = (uint32_t)(rnd() % REF_KEYS);
				keys[i] = &ref.key[which[i]];
				hashes[i] = ct_key_hash(keys[i]);
			}
			ct_lookup_bulk(t, keys, hashes, n, idx);
			for (unsigned i = 0; i < n; i++)
				CU_ASSERT_EQUAL(idx[i], ref.idx[which[i]]);
		} else {
			/* A reply (side 1) takes a present session off the transitory list. */
			if (ref.idx[key] >= 0) {
				struct ct_pkt pk = {.bytes = 10};
				CU_ASSERT_EQUAL(ct_track(t, ref.idx[key], (unsigned)(rnd() & 1), &pk, now), CT_OK);
				if (ct_session(t, ref.idx[key])->flags & CT_F_SEEN_REPLY)
					ref_trans_remove(key);
			}
		}
		if (op % 5000 == 0)
			ref_check_all(t);
		if (CU_get_number_of_failures() != before && failures++ == 0)
			printf("\n  first mismatch at op %u (r %u key %u)\n", op, r, key);
	}
	ref_check_all(t);
	const struct ct_stats *st = ct_table_stats(t);
	CU_ASSERT_EQUAL(st->refused_full, refused);
	CU_ASSERT_EQUAL(st->evicted, evicted);
	CU_ASSERT_EQUAL(st->created - st->deleted - st->evicted, ref.count);
	/* The run must have reached the full table, or it tested nothing about it. */
	CU_ASSERT(policy == CT_FULL_REFUSE ? refused > 100 : evicted > 100);
	ct_table_free(t);
}

static void test_random_refuse(void)
{
	random_run(CT_FULL_REFUSE, 1000, 60000);
}

static void test_random_evict(void)
{
	random_run(CT_FULL_EVICT_TRANSITORY, 1000, 60000);
}

static void test_random_small(void)
{
	/* Smaller than rte_hash's minimum (8 entries): the limit still holds. */
	random_run(CT_FULL_EVICT_TRANSITORY, 5, 20000);
	random_run(CT_FULL_REFUSE, 5, 20000);
}

static void test_full_policies(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 4;
	p.full_policy = CT_FULL_EVICT_TRANSITORY;
	struct ct_table *t = new_table(&p);
	ct_set_release_cb(t, release_cb, NULL);
	struct ct_key k[8];
	int32_t idx[8];
	struct ct_pkt pk = {0};

	for (uint32_t i = 0; i < 8; i++)
		k[i] = v4key(0, IPPROTO_UDP, 1, 2, (uint16_t)(100 + i), 53, NULL);
	for (uint32_t i = 0; i < 4; i++)
		idx[i] = insert(t, &k[i], 0, T0 + i);
	/* 0 and 2 established; 1 then 3 are the transitory ones, 1 the oldest. */
	CU_ASSERT_EQUAL(ct_track(t, idx[0], 1, &pk, T0), CT_OK);
	CU_ASSERT_EQUAL(ct_track(t, idx[2], 1, &pk, T0), CT_OK);
	/* Full with an existing key: -EEXIST, nothing evicted. */
	rel_reset();
	CU_ASSERT_EQUAL(insert(t, &k[3], 0, T0), -EEXIST);
	CU_ASSERT_EQUAL(rel.n, 0);
	idx[4] = insert(t, &k[4], 0, T0);
	CU_ASSERT(idx[4] >= 0);
	CU_ASSERT_EQUAL(rel.n, 1);
	CU_ASSERT_EQUAL(lookup(t, &k[1]), -1);
	CU_ASSERT(lookup(t, &k[3]) >= 0);
	CU_ASSERT_EQUAL(ct_table_stats(t)->evicted, 1);
	/* Establish the rest: nothing left to evict, refused. */
	CU_ASSERT_EQUAL(ct_track(t, lookup(t, &k[3]), 1, &pk, T0), CT_OK);
	CU_ASSERT_EQUAL(ct_track(t, idx[4], 1, &pk, T0), CT_OK);
	CU_ASSERT_EQUAL(insert(t, &k[5], 0, T0), -ENOSPC);
	CU_ASSERT_EQUAL(ct_table_stats(t)->refused_full, 1);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 4);
	for (uint32_t i = 0; i < 5; i++)
		if (i != 1)
			CU_ASSERT(lookup(t, &k[i]) >= 0);

	/* The refuse policy never evicts. */
	p.full_policy = CT_FULL_REFUSE;
	ct_table_set_params(t, &p);
	ct_delete(t, idx[0]);
	CU_ASSERT(insert(t, &k[6], 0, T0) >= 0); /* transitory */
	rel_reset();
	CU_ASSERT_EQUAL(insert(t, &k[7], 0, T0), -ENOSPC);
	CU_ASSERT_EQUAL(rel.n, 0);
	CU_ASSERT_EQUAL(ct_table_stats(t)->refused_full, 2);
	ct_table_free(t);
}

static void test_table_api(void)
{
	struct ct_params p;
	ct_params_default(&p);
	CU_ASSERT_EQUAL(p.max_sessions, 65536);
	CU_ASSERT(p.tcp_window_check);
	CU_ASSERT_FALSE(p.tcp_loose);
	CU_ASSERT_EQUAL(p.full_policy, CT_FULL_REFUSE);
	CU_ASSERT_EQUAL(p.timeouts.tcp_established, 7440);

	struct ct_table *t = ct_table_create("ct_api", SOCKET_ID_ANY, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NULL(ct_table_create("ct_api", SOCKET_ID_ANY, &p)); /* the name is taken */
	CU_ASSERT_EQUAL(ct_table_capacity(t), 65536);
	p.max_sessions = 0;
	CU_ASSERT_PTR_NULL(ct_table_create("ct_api0", SOCKET_ID_ANY, &p));

	struct ct_key k = v4key(0, IPPROTO_TCP, 1, 2, 3, 4, NULL);
	CU_ASSERT_EQUAL(lookup(t, &k), -1);
	int32_t idx = insert(t, &k, 1, T0);
	CU_ASSERT(idx >= 0);
	CU_ASSERT_EQUAL(insert(t, &k, 1, T0), -EEXIST);
	const struct ct_session *s = ct_session_const(t, (uint32_t)idx);
	CU_ASSERT_EQUAL(s->state, CT_S_NEW);
	CU_ASSERT_EQUAL(s->init_side, 1);
	CU_ASSERT_EQUAL(s->proto, IPPROTO_TCP);
	CU_ASSERT_EQUAL(s->created_ms, T0);
	CU_ASSERT_EQUAL(ct_dir_of(s, 1), CT_DIR_ORIG);
	CU_ASSERT_EQUAL(ct_dir_of(s, 0), CT_DIR_REPLY);
	CU_ASSERT(memcmp(ct_session_key(t, (uint32_t)idx), &k, sizeof(k)) == 0);
	CU_ASSERT_PTR_NULL(ct_session_key(t, (uint32_t)idx ^ 1));
	CU_ASSERT_PTR_NULL(ct_session_key(t, 1u << 30));
	CU_ASSERT_PTR_NULL(ct_session(t, -1));
	ct_delete(t, idx);
	CU_ASSERT_EQUAL(lookup(t, &k), -1);
	CU_ASSERT_PTR_NULL(ct_session_key(t, (uint32_t)idx));
	CU_ASSERT_EQUAL(ct_table_stats(t)->deleted, 1);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 0);
	ct_delete(t, idx); /* twice: no effect */
	CU_ASSERT_EQUAL(ct_table_stats(t)->deleted, 1);

	CU_ASSERT_STRING_EQUAL(ct_state_name(CT_S_TIME_WAIT), "time-wait");
	CU_ASSERT_STRING_EQUAL(ct_verdict_name(CT_OUT_OF_WINDOW), "out-of-window");
	CU_ASSERT(ct_state_transitory(IPPROTO_TCP, CT_S_SYN_SENT));
	CU_ASSERT(ct_state_transitory(IPPROTO_TCP, CT_S_TIME_WAIT));
	CU_ASSERT_FALSE(ct_state_transitory(IPPROTO_TCP, CT_S_ESTABLISHED));
	CU_ASSERT(ct_state_transitory(IPPROTO_UDP, CT_S_NEW));
	CU_ASSERT_FALSE(ct_state_transitory(IPPROTO_UDP, CT_S_ESTABLISHED));

	/* 128 session + 64 key slot + 32 buckets (twice as many as keys) + 8 hash free ring + 4 free-index stack. */
	CU_ASSERT_EQUAL(ct_bytes_per_session(), 236);
	/* Bucket headroom: pow2(entries) >= 3/2 x max_sessions, the key slots between 1x and 3/2 x. */
	static const uint32_t sizes[] = {1, 5, 8, 9, 1000, 65535, 65536, 65537, 80000, 90000, 100000, 1u << 20, 3000000};
	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		uint32_t m = sizes[i], e = ct_hash_entries(m);
		CU_ASSERT(e >= m && e >= 8);
		CU_ASSERT((uint64_t)rte_align32pow2(e) * 2 >= (uint64_t)m * 3);
		CU_ASSERT((uint64_t)e * 2 <= (uint64_t)RTE_MAX(m, 8u) * 3 + 2);
	}
	CU_ASSERT_EQUAL(ct_hash_entries(65536), 65537);
	CU_ASSERT_EQUAL(ct_hash_entries(80000), 80000);
	ct_table_free(t);
}

/* ct_table_free gives back everything ct_table_create took (valgrind does not see rte_malloc's heap). */
static size_t heap_allocated(void)
{
	size_t total = 0;
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

static void count_zone(const struct rte_memzone *mz, void *arg)
{
	(void)mz;
	(*(unsigned *)arg)++;
}

static void test_table_free(void)
{
	unsigned zones_before = 0, zones_after = 0;
	rte_memzone_walk(count_zone, &zones_before);
	size_t before = heap_allocated();
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 10000;
	struct ct_table *t = new_table(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint32_t i = 0; i < 5000; i++) {
		struct ct_key k = v4key(0, IPPROTO_UDP, i, 2, 3, 4, NULL);
		CU_ASSERT(insert(t, &k, 0, T0) >= 0);
	}
	CU_ASSERT(heap_allocated() > before + 10000 * sizeof(struct ct_session));
	ct_table_free(t);
	rte_memzone_walk(count_zone, &zones_after);
	CU_ASSERT_EQUAL(heap_allocated(), before);
	CU_ASSERT_EQUAL(zones_after, zones_before);
}

/* ---- 6. flush ---- */

static void run_until_done(struct ct_table *t, uint64_t ticket, unsigned max_calls)
{
	unsigned calls = 0;
	while (!ct_flush_done(t, ticket) && calls < max_calls) {
		ct_expire(t, T0, 0);
		calls++;
	}
	CU_ASSERT(ct_flush_done(t, ticket));
}

static void test_flush(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 4000; /* four chunks */
	struct ct_table *t = new_table(&p);
	ct_set_release_cb(t, release_cb, NULL);
	static uint8_t released[4096];
	int32_t idx[300];

	/* 300 sessions spread over the array (some churn first so slots are not simply 0..299). */
	for (uint32_t i = 0; i < 3000; i++) {
		struct ct_key k = v4key(9, IPPROTO_UDP, 5, 6, (uint16_t)i, 7, NULL);
		insert(t, &k, 0, T0);
	}
	for (uint32_t i = 0; i < 300; i++) {
		struct ct_key k = v4key(i % 3, IPPROTO_UDP, 1, 2, (uint16_t)i, 53, NULL);
		idx[i] = insert(t, &k, 0, T0);
		CU_ASSERT_FATAL(idx[i] >= 0);
	}
	uint64_t t9 = ct_flush_request(t, 9);
	run_until_done(t, t9, 10);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 300);

	rel_reset();
	uint64_t t1 = ct_flush_request(t, 1);
	CU_ASSERT_FALSE(ct_flush_done(t, t1));
	unsigned removed = ct_expire(t, T0, 0);
	removed += ct_expire(t, T0, 0);
	removed += ct_expire(t, T0, 0);
	CU_ASSERT_EQUAL(removed, rel.n);
	CU_ASSERT_FALSE(ct_flush_done(t, t1)); /* 3 of 4 chunks */
	ct_expire(t, T0, 0);
	CU_ASSERT(ct_flush_done(t, t1));
	CU_ASSERT_EQUAL(rel.n, 100);
	CU_ASSERT_EQUAL(rel.key_missing, 0);
	memset(released, 0, sizeof(released));
	for (uint32_t i = 0; i < rel.n; i++) {
		released[rel.idx[i]]++;
		CU_ASSERT_EQUAL(rel.key[i].vrf, 1);
	}
	for (uint32_t i = 0; i < 300; i++) {
		CU_ASSERT_EQUAL(released[idx[i]], i % 3 == 1 ? 1 : 0);
		CU_ASSERT_EQUAL(ct_session(t, idx[i])->state == CT_S_FREE, i % 3 == 1);
	}
	CU_ASSERT_EQUAL(ct_table_stats(t)->flushed, 3000 + 100);

	/* Two requests back to back (the second queues behind the first); sessions created during the walk stay. */
	rel_reset();
	uint64_t t2 = ct_flush_request(t, 2);
	uint64_t tall = ct_flush_request(t, CT_VRF_ANY);
	CU_ASSERT(tall > t2);
	ct_expire(t, T0, 0);
	struct ct_key late = v4key(0, IPPROTO_UDP, 8, 8, 8, 8, NULL);
	int32_t late_idx = insert(t, &late, 0, T0);
	CU_ASSERT(late_idx >= 0);
	run_until_done(t, tall, 10);
	CU_ASSERT(ct_flush_done(t, t2));
	CU_ASSERT_EQUAL(rel.n, 200);
	memset(released, 0, sizeof(released));
	for (uint32_t i = 0; i < rel.n; i++)
		released[rel.idx[i]]++;
	for (uint32_t i = 0; i < 300; i++)
		CU_ASSERT_EQUAL(released[idx[i]], i % 3 == 1 ? 0 : 1);
	CU_ASSERT_EQUAL(lookup(t, &late), late_idx);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 1);

	/* Many requests for one VRF: all get done, and they flush no other VRF (the late session stays). */
	uint64_t last = 0;
	for (unsigned i = 0; i < 21; i++)
		last = ct_flush_request(t, 77);
	run_until_done(t, last, 20);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 1);
	CU_ASSERT_EQUAL(lookup(t, &late), late_idx);
	run_until_done(t, ct_flush_request(t, CT_VRF_ANY), 20);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 0);
	/* A flushed session does not also expire. */
	rel_reset();
	CU_ASSERT_EQUAL(expire(t, T0 + 10000000), 0);
	CU_ASSERT_EQUAL(rel.n, 0);
	ct_table_free(t);
}

/* 40 VRFs flushed at once (a commit that removes 40 rule sets posts one request each): only theirs go. */
static void test_flush_many_vrfs(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 3000;
	struct ct_table *t = new_table(&p);
	ct_set_release_cb(t, release_cb, NULL);
	const uint32_t n_vrf = 100, per_vrf = 5;

	for (uint32_t v = 0; v < n_vrf; v++)
		for (uint32_t i = 0; i < per_vrf; i++) {
			struct ct_key k = v4key(v * 613, IPPROTO_UDP, 1, 2, (uint16_t)(1000 + i), 53, NULL);
			CU_ASSERT_FATAL(insert(t, &k, 0, T0) >= 0);
		}
	/* VRF ids spread over the bitmap (v * 613 reaches 60000), the last one past what a flush can name. */
	uint64_t tickets[41];
	for (uint32_t v = 0; v < 40; v++)
		tickets[v] = ct_flush_request(t, v * 613);
	tickets[40] = ct_flush_request(t, 70000);
	rel_reset();
	run_until_done(t, tickets[40], 10);
	for (unsigned i = 0; i < 41; i++)
		CU_ASSERT(ct_flush_done(t, tickets[i]));
	CU_ASSERT_EQUAL(rel.n, 40 * per_vrf);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, (n_vrf - 40) * per_vrf);
	for (uint32_t v = 0; v < n_vrf; v++) {
		struct ct_key k = v4key(v * 613, IPPROTO_UDP, 1, 2, 1000, 53, NULL);
		CU_ASSERT_EQUAL(lookup(t, &k) >= 0, v >= 40);
	}
	/* Requests posted while a walk runs: the next walk carries them out, other VRFs still untouched. */
	uint64_t a = ct_flush_request(t, 40 * 613);
	ct_expire(t, T0, 0); /* the walk of a's VRF starts */
	uint64_t b = ct_flush_request(t, 41 * 613);
	uint64_t c = ct_flush_request(t, 41 * 613); /* merges with b */
	run_until_done(t, c, 20);
	CU_ASSERT(ct_flush_done(t, a) && ct_flush_done(t, b));
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, (n_vrf - 42) * per_vrf);
	struct ct_key k42 = v4key(42 * 613, IPPROTO_UDP, 1, 2, 1000, 53, NULL);
	CU_ASSERT(lookup(t, &k42) >= 0);
	ct_table_free(t);
}

/* A full table of sessions whose time has passed, before the wheel got to them: a new one still gets in. */
static void test_full_of_expired(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 64;
	p.full_policy = CT_FULL_REFUSE;
	struct ct_table *t = new_table(&p);
	ct_set_release_cb(t, release_cb, NULL);
	int32_t first = -1;

	/* Opened at T0 + 500: they expire at T0 + 120500, in the wheel slot of second T0/1000 + 121. */
	for (uint32_t i = 0; i < 64; i++) {
		struct ct_key k = v4key(0, IPPROTO_UDP, 1, 2, (uint16_t)(100 + i), 53, NULL);
		int32_t idx = insert(t, &k, 0, T0 + 500);
		CU_ASSERT_FATAL(idx >= 0);
		if (i == 0)
			first = idx;
	}
	struct ct_key k1 = v4key(0, IPPROTO_UDP, 1, 2, 999, 53, NULL);
	CU_ASSERT_EQUAL(insert(t, &k1, 0, T0 + 120499), -ENOSPC); /* all alive: refused */
	CU_ASSERT_EQUAL(ct_table_stats(t)->refused_full, 1);
	/* Dead since 200 ms, no ct_expire() call since (a busy worker): reaped from the current second's slot. */
	CU_ASSERT(ct_session_expired(ct_session(t, first), T0 + 120700));
	CU_ASSERT_FALSE(ct_session_expired(ct_session(t, first), T0 + 120499));
	rel_reset();
	CU_ASSERT(insert(t, &k1, 0, T0 + 120700) >= 0);
	CU_ASSERT(rel.n >= 1);
	CU_ASSERT_EQUAL(ct_table_stats(t)->expired, rel.n);
	CU_ASSERT_EQUAL(ct_table_stats(t)->refused_full, 1);
	/* Long dead, the wheel far behind (due slots): the same, until the table holds only live sessions. */
	for (uint32_t i = 0; i < 200; i++) {
		struct ct_key k = v4key(0, IPPROTO_UDP, 1, 3, (uint16_t)(100 + i), 53, NULL);
		int32_t idx = insert(t, &k, 0, T0 + 500000);
		CU_ASSERT_EQUAL(idx >= 0, i < 64);
	}
	CU_ASSERT_EQUAL(ct_table_stats(t)->refused_full, 1 + 200 - 64);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 64);
	/* ct_expire_session(): a dead session a lookup found goes at once, released. */
	struct ct_key k2 = v4key(0, IPPROTO_UDP, 1, 3, 100, 53, NULL);
	int32_t i2 = lookup(t, &k2);
	CU_ASSERT_FATAL(i2 >= 0);
	rel_reset();
	ct_expire_session(t, i2);
	CU_ASSERT_EQUAL(rel.n, 1);
	CU_ASSERT_EQUAL(lookup(t, &k2), -1);
	CU_ASSERT_EQUAL(ct_table_stats(t)->active, 63);
	ct_table_free(t);
}

/* The wheel behind now after a budget-limited call: ct_expire_behind() says so until it caught up. */
static void test_expire_behind(void)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = 4096;
	struct ct_table *t = new_table(&p);
	for (uint32_t i = 0; i < 3000; i++) {
		struct ct_key k = v4key(0, IPPROTO_UDP, 1, 2, (uint16_t)i, 53, NULL);
		CU_ASSERT_FATAL(insert(t, &k, 0, T0) >= 0);
	}
	uint64_t now = T0 + 200000;
	CU_ASSERT_EQUAL(ct_expire(t, now, 256), 256);
	CU_ASSERT(ct_expire_behind(t, now));
	unsigned calls = 0, gone = 256;
	while (ct_expire_behind(t, now) && calls++ < 100)
		gone += ct_expire(t, now, 1024);
	CU_ASSERT_EQUAL(gone, 3000);
	CU_ASSERT_FALSE(ct_expire_behind(t, now));
	ct_table_free(t);
}

/* An IP-fragmented segment: tracked by its first fragment's bytes, extended once the whole datagram passed. */
static void test_tcp_extend(void)
{
	struct ct_table *t = new_table(NULL);
	struct conn c;
	conn_open(&c, t);
	handshake(&c, 1000, 5000, NOWS, NOWS);
	/* 1400 bytes of data, the first fragment carries 4 of them (20 TCP header + 4 = 24 bytes of IP payload). */
	CU_ASSERT_EQUAL(seg(&c, C, ACK | PSH, 1001, 5001, 65535, 4), CT_OK);
	ASSERT_REFUSED(&c, seg(&c, S, ACK, 5001, 1001 + 1400, 65535, 0), CT_OUT_OF_WINDOW);
	ct_tcp_extend(t, c.idx, c.cli, 1001 + 1400);
	CU_ASSERT_EQUAL(seg(&c, S, ACK, 5001, 1001 + 1400, 65535, 0), CT_OK);
	/* Never shrinks, and an older end changes nothing. */
	ct_tcp_extend(t, c.idx, c.cli, 1001 + 10);
	CU_ASSERT_EQUAL(ct_session(t, c.idx)->tcp[c.cli].end, 1001 + 1400);
	ct_table_free(t);
}

int main(void)
{
	char *eal_args[] = {"test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
			    "-l", "0"};
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	const char *seed_text = getenv("CT_TEST_SEED");
	if (seed_text != NULL)
		seed = strtoull(seed_text, NULL, 0);
	if (seed == 0)
		seed = 1;
	printf("test_ct: CT_TEST_SEED=%#" PRIx64 "\n", seed);

	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"key: IPv4 canonical", test_key_v4},
		{"key: IPv6 canonical", test_key_v6},
		{"key: random vs reference", test_key_random},
		{"key: hash is the table's", test_key_hash_is_table_hash},
		{"tcp: flag validity", test_tcp_flags_valid},
		{"tcp: handshake to time-wait and restart", test_tcp_full_lifecycle},
		{"tcp: rst", test_tcp_rst},
		{"tcp: simultaneous open and close", test_tcp_simultaneous},
		{"tcp: refused segments", test_tcp_refused},
		{"tcp: loose pick-up", test_tcp_loose},
		{"window: checks", test_window_basic},
		{"window: scaling", test_window_scaling},
		{"timeouts: each protocol and state", test_timeouts_each},
		{"timeouts: refresh and shorten", test_timeouts_refresh_and_shorten},
		{"timeouts: budget", test_timeouts_budget},
		{"timeouts: longer than the wheel", test_timeouts_long},
		{"table: api", test_table_api},
		{"table: full policies", test_full_policies},
		{"table: free returns the memory", test_table_free},
		{"table: random vs reference, refuse", test_random_refuse},
		{"table: random vs reference, evict", test_random_evict},
		{"table: random vs reference, tiny", test_random_small},
		{"flush", test_flush},
		{"flush: 40 VRFs at once, others survive", test_flush_many_vrfs},
		{"table: full of expired sessions accepts a new one", test_full_of_expired},
		{"timeouts: behind the clock", test_expire_behind},
		{"tcp: extend a fragmented segment", test_tcp_extend},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("lib/ct", NULL, NULL);
	for (unsigned int i = 0; suite != NULL && i < RTE_DIM(tests); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
