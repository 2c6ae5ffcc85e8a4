/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NAT engine (nat_engine.c) on one worker's real tables (EAL --no-huge): endpoint-independent mapping and
 * port preservation, each filtering mode, session and block quotas, pool exhaustion, static mappings, and the
 * release chain on a fake clock (session expiry -> mapping freed -> block idle -> block released, with its log
 * records -> subscriber forgotten).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ring_elem.h>

#include "nf/nat/nat_engine.h"

struct nat_state nat; /* the control side's (nat.c) in the daemon */

#define PUB 0xc6336401u  /* 198.51.100.1 */
#define OUT_VRF 1
#define REALM 5
#define H1 0x0a000001u   /* 10.0.0.1 */
#define H2 0x0a000002u
#define R1 0xcb007101u   /* 203.0.113.1 */
#define R2 0xcb007102u

static struct nat_worker W;
static struct nat_pool *pool;
static struct nat_paddr paddr;
static uint64_t now = 1000000;

/* One pool of one address, ports [lo, hi] in blocks of bs; a session table of max_sessions with policy full. */
static void setup_table(uint16_t lo, uint16_t hi, uint16_t bs, uint32_t max_sessions, enum ct_full_policy full)
{
	struct ct_params p;
	ct_params_default(&p);
	p.max_sessions = max_sessions;
	p.full_policy = full;
	memset(&nat, 0, sizeof(nat));
	nat.n_workers = 1;
	nat.block_idle_ms = 120000;
	nat.log_rate = 1000;
	CU_ASSERT_EQUAL_FATAL(nat_worker_create(&W, 0, 1, SOCKET_ID_ANY, &p), 0);
	paddr = (struct nat_paddr){.addr = PUB, .vrf = OUT_VRF, .slot = 0, .pool = 0, .port_lo = lo, .port_hi = hi,
				   .block_size = bs, .n_blocks = nat_ports_n_blocks(lo, hi, bs)};
	CU_ASSERT_EQUAL_FATAL(nat_ports_addr_add(W.ports, 0, lo, hi, bs), 0);
	pool = calloc(1, sizeof(*pool) + sizeof(uint16_t));
	pool->vrf = OUT_VRF;
	pool->n_addrs = 1;
	pool->addr_slot[0] = 0;
	nat.pools[0] = pool;
	nat.paddrs[0] = &paddr;
	const struct nat_paddr *pa[1] = {&paddr};
	nat.addr_index = nat_addr_index_build(pa, 1);
	nat.workers = &W;
}

static void setup(uint16_t lo, uint16_t hi, uint16_t bs)
{
	setup_table(lo, hi, bs, 4096, CT_FULL_REFUSE);
}

static void teardown(void)
{
	nat_worker_free(&W);
	free(pool);
	nat_addr_index_free(nat.addr_index);
	nat_statics_free(nat.statics);
	memset(&nat, 0, sizeof(nat));
}

static const struct nat_limits lim_default = {.pool = 0, .filtering = NAT_FILTER_APDF, .max_sessions = 100,
					      .max_blocks = 4};

/* An outbound UDP packet opening or reusing its session: the session index or NAT_ERR(...). */
static int32_t out_udp(const struct nat_limits *lim, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct nat_tuple t = {.vrf = REALM, .proto = 17, .src = src, .dst = dst, .sport = sport, .dport = dport};
	struct ct_key k;
	unsigned side = nat_in_key(&k, &t);
	uint32_t h = ct_key_hash(&k);
	struct ct_pkt cp = {.wscale = 0xff, .bytes = 100};
	int32_t idx = ct_lookup(W.ct, &k, h);
	if (idx >= 0)
		return nat_track(&W, idx, false, &cp, now) == 0 ? idx : -1000;
	return nat_in2out_open(&W, lim, NULL, &t, &k, h, side, &cp, now);
}

/* An inbound UDP packet from rem:rport to PUB:pport: session index, NAT_PASS or NAT_ERR(...). */
static int32_t in_udp(uint32_t rem, uint16_t rport, uint16_t pport)
{
	struct nat_tuple t = {.vrf = OUT_VRF, .proto = 17, .src = rem, .dst = PUB, .sport = rport, .dport = pport};
	struct nat_okey ok;
	nat_out_key(&ok, &t);
	struct ct_pkt cp = {.wscale = 0xff, .bytes = 100};
	int32_t idx = nat_out_lookup(&W, &ok);
	if (idx >= 0)
		return nat_track(&W, idx, true, &cp, now) == 0 ? idx : -1000;
	return nat_out2in_open(&W, &t, &cp, now);
}

static const struct nat_mapping *map_of(int32_t idx)
{
	return nat_sess_map(&W, idx);
}

static unsigned drain_logs(struct nat_log_rec *out, unsigned max)
{
	return rte_ring_dequeue_burst_elem(W.log, out, sizeof(*out), max, NULL);
}

static void test_eim_and_preservation(void)
{
	setup(1024, 65535, 512);
	int32_t a = out_udp(&lim_default, H1, 5000, R1, 53);
	int32_t b = out_udp(&lim_default, H1, 5000, R2, 123);
	CU_ASSERT_TRUE_FATAL(a >= 0 && b >= 0 && a != b);
	CU_ASSERT_EQUAL(map_of(a), map_of(b)); /* one mapping for every destination (EIM) */
	CU_ASSERT_EQUAL(map_of(a)->pub_addr, PUB);
	CU_ASSERT_EQUAL(map_of(a)->pub_port, 5000); /* preserved */
	CU_ASSERT_EQUAL(W.n_maps, 1);
	/* the same inside port of another host: its block is another, the port cannot be kept */
	int32_t c = out_udp(&lim_default, H2, 5000, R1, 53);
	CU_ASSERT_TRUE_FATAL(c >= 0);
	CU_ASSERT_NOT_EQUAL(map_of(c)->pub_port, 5000);
	CU_ASSERT_TRUE(map_of(c)->pub_port >= 1024);
	/* the reply finds its session by the outside key */
	CU_ASSERT_EQUAL(in_udp(R1, 53, 5000), a);
	/* a port below the range is never kept */
	int32_t d = out_udp(&lim_default, H1, 53, R1, 53);
	CU_ASSERT_TRUE_FATAL(d >= 0);
	CU_ASSERT_TRUE(map_of(d)->pub_port >= 1024);
	CU_ASSERT_EQUAL(W.cnt[NAT_CNT_port_preserved], 1);
	CU_ASSERT_EQUAL(W.cnt[NAT_CNT_port_changed], 2);
	teardown();
}

static void filtering(uint8_t mode, bool other_port_ok, bool other_addr_ok)
{
	setup(1024, 65535, 512);
	struct nat_limits lim = lim_default;
	lim.filtering = mode;
	int32_t a = out_udp(&lim, H1, 6000, R1, 53);
	CU_ASSERT_TRUE_FATAL(a >= 0);
	uint16_t pp = map_of(a)->pub_port;
	CU_ASSERT_EQUAL(in_udp(R1, 53, pp), a); /* the session's own remote: always */
	int32_t r = in_udp(R1, 54, pp);
	if (other_port_ok) {
		CU_ASSERT_TRUE(r >= 0 && r != a);
		CU_ASSERT_EQUAL(map_of(r), map_of(a));
	} else {
		CU_ASSERT_EQUAL(r, NAT_ERR(NAT_DROP_nat_filtered));
	}
	r = in_udp(R2, 53, pp);
	if (other_addr_ok) {
		CU_ASSERT_TRUE(r >= 0);
	} else {
		CU_ASSERT_EQUAL(r, NAT_ERR(NAT_DROP_nat_filtered));
	}
	CU_ASSERT_EQUAL(in_udp(R1, 53, (uint16_t)(pp + 1)), NAT_PASS); /* no mapping there: not NAT's */
	/* an inbound session keeps the mapping alive: the outbound one ends, the mapping stays */
	teardown();
}

static void test_filter_eif(void)
{
	filtering(NAT_FILTER_EIF, true, true);
}

static void test_filter_adf(void)
{
	filtering(NAT_FILTER_ADF, true, false);
}

static void test_filter_apdf(void)
{
	filtering(NAT_FILTER_APDF, false, false);
}

static void test_quota_sessions(void)
{
	setup(1024, 65535, 512);
	struct nat_limits lim = lim_default;
	lim.max_sessions = 3;
	lim.filtering = NAT_FILTER_EIF;
	CU_ASSERT_TRUE(out_udp(&lim, H1, 1000, R1, 1) >= 0);
	CU_ASSERT_TRUE(out_udp(&lim, H1, 1001, R1, 1) >= 0);
	int32_t c = out_udp(&lim, H1, 1000, R2, 1);
	CU_ASSERT_TRUE_FATAL(c >= 0);
	CU_ASSERT_EQUAL(out_udp(&lim, H1, 1002, R1, 1), NAT_ERR(NAT_DROP_nat_quota_sessions));
	CU_ASSERT_EQUAL(out_udp(&lim, H1, 1000, R1, 2), NAT_ERR(NAT_DROP_nat_quota_sessions));
	CU_ASSERT_EQUAL(in_udp(R2, 9, map_of(c)->pub_port), NAT_ERR(NAT_DROP_nat_quota_sessions));
	CU_ASSERT_TRUE(out_udp(&lim, H1, 1000, R1, 1) >= 0); /* existing sessions go on */
	CU_ASSERT_TRUE(out_udp(&lim, H2, 1000, R1, 1) >= 0); /* another subscriber is not affected */
	struct nat_log_rec lr[16];
	unsigned n = drain_logs(lr, 16), q = 0;
	for (unsigned i = 0; i < n; i++)
		q += lr[i].type == NAT_LOG_QUOTA_SESSIONS && lr[i].inside_addr == H1 && lr[i].realm == REALM;
	CU_ASSERT_EQUAL(q, 3);
	teardown();
}

/* Blocks of 8 ports: max_blocks 2 gives 16 mappings, the 17th is a quota drop; another subscriber still gets one. */
static void test_quota_blocks(void)
{
	setup(1024, 1024 + 8 * 4 - 1, 8);
	struct nat_limits lim = lim_default;
	lim.max_blocks = 2;
	for (uint16_t i = 0; i < 16; i++)
		CU_ASSERT_TRUE(out_udp(&lim, H1, (uint16_t)(2000 + i), R1, 1) >= 0);
	CU_ASSERT_EQUAL(out_udp(&lim, H1, 3000, R1, 1), NAT_ERR(NAT_DROP_nat_quota_blocks));
	CU_ASSERT_EQUAL(W.sub[0].n_blocks, 2);
	CU_ASSERT_TRUE(out_udp(&lim, H1, 3000, R1, 1) < 0);
	/* another protocol has its own ports in the same blocks */
	struct nat_tuple t = {.vrf = REALM, .proto = 6, .src = H1, .dst = R1, .sport = 3000, .dport = 80};
	struct ct_key k;
	unsigned side = nat_in_key(&k, &t);
	struct ct_pkt syn = {.tcp_flags = 0x02, .wscale = 0xff, .win = 1000, .seq = 1, .bytes = 40};
	CU_ASSERT_TRUE(nat_in2out_open(&W, &lim, NULL, &t, &k, ct_key_hash(&k), side, &syn, now) >= 0);
	CU_ASSERT_TRUE(out_udp(&lim, H2, 3000, R1, 1) >= 0);
	teardown();
}

/* One block in the whole pool: the second subscriber finds none (exhaustion, logged), the first goes on. */
static void test_exhaustion(void)
{
	setup(1024, 1024 + 63, 64);
	CU_ASSERT_TRUE(out_udp(&lim_default, H1, 1100, R1, 1) >= 0);
	CU_ASSERT_EQUAL(out_udp(&lim_default, H2, 1100, R1, 1), NAT_ERR(NAT_DROP_nat_pool_exhausted));
	CU_ASSERT_TRUE(out_udp(&lim_default, H1, 1101, R1, 1) >= 0);
	CU_ASSERT_EQUAL(W.n_subs, 1); /* the refused subscriber is not kept */
	nat.addr_draining[0] = 1;     /* a draining address: existing blocks serve, no new one */
	CU_ASSERT_TRUE(out_udp(&lim_default, H1, 1102, R1, 1) >= 0);
	struct nat_log_rec lr[16];
	unsigned n = drain_logs(lr, 16), ex = 0, alloc = 0;
	for (unsigned i = 0; i < n; i++) {
		ex += lr[i].type == NAT_LOG_EXHAUSTED && lr[i].inside_addr == H2;
		alloc += lr[i].type == NAT_LOG_BLOCK_ALLOC && lr[i].inside_addr == H1 && lr[i].public_addr == PUB &&
			 lr[i].port_lo == 1024 && lr[i].port_hi == 1087;
	}
	CU_ASSERT_EQUAL(ex, 1);
	CU_ASSERT_EQUAL(alloc, 1);
	teardown();
}

/* Expiry on the fake clock frees sessions, then the mapping; the block goes block_idle later, logged. */
static void test_release_chain(void)
{
	setup(1024, 65535, 512);
	int32_t a = out_udp(&lim_default, H1, 7000, R1, 53);
	CU_ASSERT_TRUE_FATAL(a >= 0);
	CU_ASSERT_TRUE(out_udp(&lim_default, H1, 7000, R2, 53) >= 0);
	CU_ASSERT_EQUAL(W.n_maps, 1);
	CU_ASSERT_EQUAL(W.n_subs, 1);
	CU_ASSERT_TRUE(nat_ports_port_used(W.ports, 0, NAT_PI_UDP, 7000));
	uint64_t t0 = now;
	nat_house_tick(&W, t0 + 60000, 1000); /* UDP timeout 120 s: nothing yet */
	CU_ASSERT_EQUAL(W.n_maps, 1);
	now = t0 + 60000;
	CU_ASSERT_TRUE(out_udp(&lim_default, H1, 7000, R1, 53) >= 0); /* refreshes one session only */
	nat_house_tick(&W, t0 + 122000, 1000);
	CU_ASSERT_EQUAL(W.n_maps, 1); /* one session left */
	CU_ASSERT_EQUAL(ct_table_stats(W.ct)->active, 1);
	nat_house_tick(&W, t0 + 60000 + 122000, 1000);
	CU_ASSERT_EQUAL(ct_table_stats(W.ct)->active, 0);
	CU_ASSERT_EQUAL(W.n_maps, 0);
	CU_ASSERT_FALSE(nat_ports_port_used(W.ports, 0, NAT_PI_UDP, 7000));
	CU_ASSERT_EQUAL(nat_ports_addr_used(W.ports, 0), 1); /* the block stays block_idle */
	CU_ASSERT_EQUAL(W.n_subs, 1);
	struct nat_okey ok = {.vrf = OUT_VRF, .pub_addr = PUB, .rem_addr = R1, .pub_port = 7000, .rem_port = 53,
			      .proto = 17};
	CU_ASSERT_EQUAL(nat_out_lookup(&W, &ok), -1);
	uint64_t t1 = t0 + 60000 + 122000;
	nat_house_tick(&W, t1 + 100000, 1000);
	CU_ASSERT_EQUAL(nat_ports_addr_used(W.ports, 0), 1);
	nat_house_tick(&W, t1 + 121000, 1000);
	CU_ASSERT_EQUAL(nat_ports_addr_used(W.ports, 0), 0);
	CU_ASSERT_EQUAL(W.n_subs, 0);
	CU_ASSERT_EQUAL(W.cnt[NAT_CNT_blocks_released], 1);
	struct nat_log_rec lr[16];
	unsigned n = drain_logs(lr, 16), alloc = 0, rel = 0;
	for (unsigned i = 0; i < n; i++) {
		alloc += lr[i].type == NAT_LOG_BLOCK_ALLOC && lr[i].port_lo == 6656 && lr[i].port_hi == 7167;
		rel += lr[i].type == NAT_LOG_BLOCK_RELEASE && lr[i].port_lo == 6656 && lr[i].port_hi == 7167 &&
		       lr[i].public_addr == PUB && lr[i].inside_addr == H1 && lr[i].time_ms >= t1 + 120000;
	}
	CU_ASSERT_EQUAL(alloc, 1);
	CU_ASSERT_EQUAL(rel, 1);
	/* deleting a session by hand does the same as expiry */
	a = out_udp(&lim_default, H2, 8000, R1, 53);
	CU_ASSERT_TRUE_FATAL(a >= 0);
	nat_session_delete(&W, a);
	CU_ASSERT_EQUAL(W.n_maps, 0);
	CU_ASSERT_FALSE(nat_ports_port_used(W.ports, 0, NAT_PI_UDP, 8000));
	now = 1000000;
	teardown();
}

/* A static mapping: inbound from anyone opens a session to the inside host; its outbound uses the static port. */
static void test_static(void)
{
	setup(1024, 65535, 512);
	struct nat_static_rt st = {.proto = 17, .in_port = 53, .pub_port = 53, .realm = REALM, .in_addr = H2,
				   .out_vrf = OUT_VRF, .pub_addr = PUB, .pool = 0, .paddr = 0};
	nat.statics = nat_statics_build(&st, 1);
	int32_t a = in_udp(R1, 4000, 53);
	CU_ASSERT_TRUE_FATAL(a >= 0);
	CU_ASSERT_EQUAL(map_of(a)->in_addr, H2);
	CU_ASSERT_EQUAL(map_of(a)->in_port, 53);
	CU_ASSERT_TRUE(map_of(a)->flags & NAT_MAP_STATIC);
	CU_ASSERT_EQUAL(out_udp(&lim_default, H2, 53, R1, 4000), a); /* the reply: the same session */
	int32_t b = out_udp(&lim_default, H2, 53, R2, 9);
	CU_ASSERT_TRUE_FATAL(b >= 0);
	CU_ASSERT_EQUAL(map_of(b)->pub_port, 53);
	CU_ASSERT_TRUE(in_udp(R2, 7777, 53) >= 0); /* statics filter nothing */
	CU_ASSERT_EQUAL(W.n_subs, 0);              /* no blocks for a static */
	teardown();
}

/* The public address index against a linear scan: addresses in several VRFs, probes at, around and between them
 * (the range check must not hide an address), and the empty index. */
static void test_addr_index(void)
{
	enum { N = 300 };
	static struct nat_paddr pa[N];
	const struct nat_paddr *pp[N];
	srand(7);
	for (unsigned i = 0; i < N; i++) {
		/* clustered (a few /24s) plus a few far apart, VRFs 1..3 */
		uint32_t a = i % 50 == 0 ? (uint32_t)rand() * 2654435761u : 0xc6336400u + (uint32_t)(rand() % 1024);
		pa[i] = (struct nat_paddr){.addr = a, .vrf = 1 + (uint32_t)(rand() % 3), .slot = (uint16_t)i};
		pp[i] = &pa[i];
	}
	struct nat_addr_index *ix = nat_addr_index_build(pp, N);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
	unsigned found = 0;
	for (unsigned q = 0; q < 200000; q++) {
		const struct nat_paddr *b = &pa[rand() % N];
		uint32_t addr = b->addr + (uint32_t)(rand() % 5) - 2, vrf = (uint32_t)(rand() % 5);
		if (q % 4 == 0)
			addr = (uint32_t)rand() * 2654435761u;
		uint32_t want = NAT_NIL;
		for (unsigned i = 0; i < N; i++)
			if (pa[i].addr == addr && pa[i].vrf == vrf)
				want = i; /* a duplicate (vrf, addr) (not in a real configuration): the last one built */
		uint32_t got = nat_addr_lookup(ix, vrf, addr);
		if (got != want) {
			CU_FAIL("lookup differs from the linear scan");
			break;
		}
		found += got != NAT_NIL;
	}
	CU_ASSERT_TRUE(found > 1000); /* the probes did hit addresses */
	nat_addr_index_free(ix);
	struct nat_addr_index *empty = nat_addr_index_build(pp, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(empty);
	CU_ASSERT_EQUAL(nat_addr_lookup(empty, 1, pa[0].addr), NAT_NIL);
	CU_ASSERT_EQUAL(nat_addr_lookup(empty, 0, 0), NAT_NIL);
	nat_addr_index_free(empty);
}

/* nat_sess_removed() moves when an open evicts a session from a full table, whose index the new session may take
 * over at once: what makes a session index looked up before the open stale (the nodes look it up again). */
static void test_removed_on_evict(void)
{
	setup_table(1024, 65535, 512, 64, CT_FULL_EVICT_TRANSITORY);
	uint32_t cap = ct_table_capacity(W.ct);
	int32_t first = -1;
	for (uint32_t i = 0; i < cap; i++) {
		int32_t idx = out_udp(&lim_default, H1 + i % 8, (uint16_t)(2000 + i), R1, 53);
		CU_ASSERT_TRUE_FATAL(idx >= 0);
		if (i == 0)
			first = idx;
	}
	uint64_t before = nat_sess_removed(&W);
	int32_t stale = first; /* as a bulk lookup of the oldest flow would have found it */
	int32_t idx = out_udp(&lim_default, H2 + 100, 9999, R2, 53);
	CU_ASSERT_TRUE_FATAL(idx >= 0);
	CU_ASSERT_EQUAL(nat_sess_removed(&W), before + 1);
	CU_ASSERT_EQUAL(idx, stale); /* the evicted session's index now holds another flow */
	CU_ASSERT_NOT_EQUAL(map_of(idx)->in_addr, H1);
	/* a delete moves it too */
	before = nat_sess_removed(&W);
	nat_session_delete(&W, idx);
	CU_ASSERT_EQUAL(nat_sess_removed(&W), before + 1);
	teardown();
}

/* A burst's bulk lookup as the nodes use it (nat_burst_session()): a miss finds the session an earlier packet of
 * the burst opened; a hit on a session an earlier open evicted is a miss, not the evicted index's new tenant. */
static void test_burst(void)
{
	setup_table(1024, 65535, 512, 64, CT_FULL_EVICT_TRANSITORY);
	struct ct_pkt cp = {.wscale = 0xff, .bytes = 100};
	struct nat_tuple t[3] = {
		{.vrf = REALM, .proto = 17, .src = H1, .dst = R1, .sport = 1111, .dport = 53},
		{.vrf = REALM, .proto = 17, .src = H1, .dst = R1, .sport = 1111, .dport = 53}, /* the same flow again */
		{.vrf = REALM, .proto = 17, .src = H2, .dst = R1, .sport = 2222, .dport = 53},
	};
	struct ct_key keys[3];
	uint32_t hash[3];
	int32_t idx[3];
	unsigned side[3];
	for (unsigned j = 0; j < 3; j++) {
		side[j] = nat_in_key_hash(&keys[j], &hash[j], &t[j]);
		idx[j] = ct_lookup(W.ct, &keys[j], hash[j]);
		CU_ASSERT_EQUAL(idx[j], -1);
	}
	struct nat_burst b;
	nat_burst_start(&b, &W);
	CU_ASSERT_EQUAL(nat_burst_session(&b, &W, keys, hash, idx, 0), -1);
	b.touched = true;
	int32_t s0 = nat_in2out_open(&W, &lim_default, NULL, &t[0], &keys[0], hash[0], side[0], &cp, now);
	CU_ASSERT_TRUE_FATAL(s0 >= 0);
	CU_ASSERT_EQUAL(nat_burst_session(&b, &W, keys, hash, idx, 1), s0); /* opened by packet 0 */
	CU_ASSERT_EQUAL(nat_burst_session(&b, &W, keys, hash, idx, 2), -1);

	/* fill the table; the oldest flow is t[0] */
	uint32_t cap = ct_table_capacity(W.ct);
	for (uint32_t i = 1; i < cap; i++)
		CU_ASSERT_TRUE_FATAL(out_udp(&lim_default, H1 + 1 + i % 8, (uint16_t)(3000 + i), R2, 53) >= 0);
	/* a burst: a new flow, then t[0] (a hit in the bulk lookup) */
	struct nat_tuple u[2] = {{.vrf = REALM, .proto = 17, .src = H2 + 50, .dst = R2, .sport = 4444, .dport = 9},
				 t[0]};
	for (unsigned j = 0; j < 2; j++) {
		side[j] = nat_in_key_hash(&keys[j], &hash[j], &u[j]);
		idx[j] = ct_lookup(W.ct, &keys[j], hash[j]);
	}
	CU_ASSERT_EQUAL(idx[0], -1);
	CU_ASSERT_EQUAL(idx[1], s0);
	nat_burst_start(&b, &W);
	CU_ASSERT_EQUAL(nat_burst_session(&b, &W, keys, hash, idx, 0), -1);
	b.touched = true;
	int32_t n0 = nat_in2out_open(&W, &lim_default, NULL, &u[0], &keys[0], hash[0], side[0], &cp, now);
	CU_ASSERT_TRUE_FATAL(n0 >= 0);
	CU_ASSERT_EQUAL(n0, s0); /* t[0]'s session was evicted and its index reused */
	CU_ASSERT_EQUAL(nat_burst_session(&b, &W, keys, hash, idx, 1), -1); /* not the new flow's session */
	teardown();
}

int main(void)
{
	char *eal_args[] = {"test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
			    "-l", "0"};
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"EIM mapping reuse and port preservation", test_eim_and_preservation},
		{"filtering: endpoint-independent", test_filter_eif},
		{"filtering: address-dependent", test_filter_adf},
		{"filtering: address-and-port-dependent", test_filter_apdf},
		{"quota: sessions per subscriber", test_quota_sessions},
		{"quota: blocks per subscriber", test_quota_blocks},
		{"pool exhaustion and draining", test_exhaustion},
		{"release chain on a fake clock", test_release_chain},
		{"static mapping", test_static},
		{"public address index against a linear scan", test_addr_index},
		{"sessions removed: eviction and delete", test_removed_on_evict},
		{"burst lookups stay fresh across opens and evictions", test_burst},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nat engine", NULL, NULL);
	for (unsigned i = 0; suite != NULL && i < RTE_DIM(tests); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
