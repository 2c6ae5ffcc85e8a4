/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port-block allocator (nat_ports.c) against a deliberately naive reference on random workloads: block and port
 * allocation and release, preservation, exhaustion, reserved blocks, worker shares, idle expiry on a fake clock.
 * Pure C: no EAL. NAT_PORTS_TEST_SEED=n picks the random seed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "nf/nat/nat_ports.h"

static uint64_t seed = 1;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 11);
}

/* ---- The naive reference: one address, every port of every block as a byte ---- */
#define REF_MAX_BLOCKS 1024

struct ref {
	unsigned worker, n_workers;
	uint16_t port_lo, block_size;
	uint32_t n_blocks;
	uint32_t owner[REF_MAX_BLOCKS];    /* subscriber, NAT_NIL free */
	uint8_t *used[NAT_PI_COUNT];       /* by port */
	uint32_t n_used[REF_MAX_BLOCKS];
	int64_t idle_since[REF_MAX_BLOCKS]; /* -1: not idle */
	uint64_t reserved[REF_MAX_BLOCKS / 64];
};

static void ref_init(struct ref *r, unsigned worker, unsigned n_workers, uint16_t lo, uint16_t hi, uint16_t bs)
{
	memset(r, 0, sizeof(*r));
	r->worker = worker;
	r->n_workers = n_workers;
	r->port_lo = lo;
	r->block_size = bs;
	r->n_blocks = nat_ports_n_blocks(lo, hi, bs);
	for (uint32_t b = 0; b < REF_MAX_BLOCKS; b++) {
		r->owner[b] = NAT_NIL;
		r->idle_since[b] = -1;
	}
	for (unsigned pi = 0; pi < NAT_PI_COUNT; pi++)
		r->used[pi] = calloc(65536, 1);
}

static void ref_fini(struct ref *r)
{
	for (unsigned pi = 0; pi < NAT_PI_COUNT; pi++)
		free(r->used[pi]);
}

static bool ref_eligible(const struct ref *r, uint32_t b)
{
	return b < r->n_blocks && b % r->n_workers == r->worker && r->owner[b] == NAT_NIL &&
	       !((r->reserved[b / 64] >> (b % 64)) & 1);
}

static uint32_t ref_block_of(const struct ref *r, uint16_t port)
{
	return port < r->port_lo ? NAT_NIL : ((uint32_t)port - r->port_lo) / r->block_size;
}

static uint16_t ref_first(const struct ref *r, uint32_t b)
{
	return (uint16_t)(r->port_lo + b * r->block_size);
}

static bool ref_block_full(const struct ref *r, uint32_t b, unsigned pi)
{
	for (uint32_t i = 0; i < r->block_size; i++) {
		uint16_t p = (uint16_t)(ref_first(r, b) + i);
		if (p != 0 && !r->used[pi][p])
			return false;
	}
	return true;
}

/* Check the block the allocator gave (or its refusal) against the reference, then apply it there. */
static void check_block_alloc(struct nat_ports *np, struct ref *r, uint32_t sub, uint16_t want)
{
	uint32_t ref;
	int rc = nat_ports_block_alloc(np, 0, sub, want, r->reserved, &ref);
	bool any = false;
	for (uint32_t b = 0; b < r->n_blocks && !any; b++)
		any = ref_eligible(r, b);
	if (!any) {
		CU_ASSERT_EQUAL(rc, ENOSPC);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	uint16_t lo, hi;
	nat_ports_block_range(np, ref, &lo, &hi);
	uint32_t b = ref_block_of(r, lo);
	CU_ASSERT_EQUAL(hi, lo + r->block_size - 1);
	CU_ASSERT_EQUAL(lo, ref_first(r, b));
	CU_ASSERT_TRUE_FATAL(ref_eligible(r, b));
	uint32_t wb = ref_block_of(r, want);
	if (wb != NAT_NIL && ref_eligible(r, wb))
		CU_ASSERT_EQUAL(b, wb); /* the wanted port's block when it can */
	CU_ASSERT_EQUAL(nat_ports_block_sub(np, ref), sub);
	CU_ASSERT_EQUAL(nat_ports_block_of(np, 0, lo), ref);
	r->owner[b] = sub;
	r->n_used[b] = 0;
	r->idle_since[b] = -1;
}

static void check_port_alloc(struct nat_ports *np, struct ref *r, uint32_t b, unsigned pi, uint16_t want,
			     uint64_t now)
{
	uint32_t ref = nat_ports_block_of(np, 0, ref_first(r, b));
	CU_ASSERT_NOT_EQUAL_FATAL(ref, NAT_NIL);
	uint16_t port = 0;
	int rc = nat_ports_port_alloc(np, ref, pi, want, &port);
	if (ref_block_full(r, b, pi)) {
		CU_ASSERT_EQUAL(rc, ENOSPC);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_NOT_EQUAL(port, 0);
	CU_ASSERT_TRUE(port >= r->port_lo);
	CU_ASSERT_EQUAL_FATAL(ref_block_of(r, port), b);
	CU_ASSERT_FALSE_FATAL(r->used[pi][port]);
	if (ref_block_of(r, want) == b && want != 0 && !r->used[pi][want])
		CU_ASSERT_EQUAL(port, want); /* preserved */
	r->used[pi][port] = 1;
	r->n_used[b]++;
	r->idle_since[b] = -1;
	CU_ASSERT_TRUE(nat_ports_port_used(np, 0, pi, port));
	(void)now;
}

static void free_port(struct nat_ports *np, struct ref *r, unsigned pi, uint16_t port, uint64_t now)
{
	nat_ports_port_free(np, 0, pi, port, now);
	CU_ASSERT_FALSE(nat_ports_port_used(np, 0, pi, port));
	uint32_t b = ref_block_of(r, port);
	r->used[pi][port] = 0;
	if (--r->n_used[b] == 0)
		r->idle_since[b] = (int64_t)now;
}

/* Idle blocks due at now, oldest first, as the reference sees them; then released in both. */
static void check_idle(struct nat_ports *np, struct ref *r, uint64_t now, uint64_t idle_ms)
{
	uint32_t refs[REF_MAX_BLOCKS];
	unsigned n = nat_ports_idle_expired(np, now, idle_ms, refs, REF_MAX_BLOCKS);
	unsigned expect = 0;
	for (uint32_t b = 0; b < r->n_blocks; b++)
		if (r->owner[b] != NAT_NIL && r->idle_since[b] >= 0 && (uint64_t)r->idle_since[b] + idle_ms <= now)
			expect++;
	CU_ASSERT_EQUAL(n, expect);
	int64_t last = -1;
	for (unsigned i = 0; i < n; i++) {
		uint16_t lo, hi;
		nat_ports_block_range(np, refs[i], &lo, &hi);
		uint32_t b = ref_block_of(r, lo);
		CU_ASSERT_TRUE_FATAL(r->owner[b] != NAT_NIL && r->idle_since[b] >= 0);
		CU_ASSERT_TRUE((uint64_t)r->idle_since[b] + idle_ms <= now);
		CU_ASSERT_TRUE(r->idle_since[b] >= last); /* oldest first */
		last = r->idle_since[b];
		CU_ASSERT_EQUAL(r->n_used[b], 0);
		nat_ports_block_free(np, refs[i]);
		r->owner[b] = NAT_NIL;
		r->idle_since[b] = -1;
	}
}

static void random_workload(unsigned worker, unsigned n_workers, uint16_t lo, uint16_t hi, uint16_t bs,
			    unsigned steps, bool with_reserved)
{
	struct nat_ports *np = nat_ports_create(4, worker, n_workers);
	CU_ASSERT_PTR_NOT_NULL_FATAL(np);
	CU_ASSERT_EQUAL_FATAL(nat_ports_addr_add(np, 0, lo, hi, bs), 0);
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 0, lo, hi, bs), EEXIST);
	struct ref *r = malloc(sizeof(*r));
	ref_init(r, worker, n_workers, lo, hi, bs);
	if (with_reserved)
		for (uint32_t b = 0; b < r->n_blocks; b++)
			if (rnd() % 5 == 0)
				r->reserved[b / 64] |= 1ull << (b % 64);
	uint64_t now = 1000, idle_ms = 50;
	for (unsigned s = 0; s < steps; s++) {
		now += rnd() % 3;
		unsigned op = rnd() % 100;
		if (op < 10) {
			uint16_t want = (uint16_t)(rnd() % 3 == 0 ? rnd() : lo + rnd() % (hi - lo + 1u));
			check_block_alloc(np, r, rnd() % 50, want);
		} else if (op < 70) {
			uint32_t b = rnd() % r->n_blocks;
			if (r->owner[b] == NAT_NIL)
				continue;
			uint16_t want = rnd() % 2 ? (uint16_t)(ref_first(r, b) + rnd() % bs) : (uint16_t)rnd();
			check_port_alloc(np, r, b, rnd() % NAT_PI_COUNT, want, now);
		} else if (op < 95) {
			uint32_t b = rnd() % r->n_blocks;
			if (r->owner[b] == NAT_NIL || r->n_used[b] == 0)
				continue;
			unsigned pi = rnd() % NAT_PI_COUNT;
			uint32_t i0 = rnd() % bs;
			for (uint32_t i = 0; i < bs; i++) {
				uint16_t p = (uint16_t)(ref_first(r, b) + (i0 + i) % bs);
				if (r->used[pi][p]) {
					free_port(np, r, pi, p, now);
					break;
				}
			}
		} else {
			check_idle(np, r, now, idle_ms);
		}
		uint32_t used = 0, eligible = 0;
		for (uint32_t b = 0; b < r->n_blocks; b++) {
			used += r->owner[b] != NAT_NIL;
			eligible += b % n_workers == worker;
		}
		CU_ASSERT_EQUAL(nat_ports_addr_used(np, 0), used);
		CU_ASSERT_EQUAL(nat_ports_addr_free(np, 0), eligible - used);
	}
	CU_ASSERT_EQUAL(nat_ports_addr_remove(np, 0), nat_ports_addr_used(np, 0) ? EBUSY : 0);
	ref_fini(r);
	free(r);
	nat_ports_free(np);
}

static void test_random_one_worker(void)
{
	random_workload(0, 1, 1024, 65535, 512, 20000, false);
}

static void test_random_small_blocks(void)
{
	random_workload(0, 1, 1024, 2047, 8, 30000, true); /* small: exhaustion and full blocks are frequent */
}

static void test_random_two_workers(void)
{
	random_workload(1, 2, 1024, 4095, 64, 20000, false);
	random_workload(0, 2, 1024, 4095, 64, 20000, true);
}

static void test_random_port_zero_and_tail(void)
{
	random_workload(0, 3, 0, 1000, 100, 20000, false); /* port 0 in the first block; 1000: a short tail */
}

/* Port 0 never, nothing below port_lo, a tail shorter than a block unused. */
static void test_edges(void)
{
	struct nat_ports *np = nat_ports_create(2, 0, 1);
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 0, 0, 15, 8), 0);
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 1, 100, 50, 8), EINVAL);
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 1, 100, 104, 8), EINVAL); /* no whole block */
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 2, 100, 200, 8), EINVAL); /* no such slot */
	uint32_t ref;
	CU_ASSERT_EQUAL_FATAL(nat_ports_block_alloc(np, 0, 7, 0, NULL, &ref), 0);
	uint16_t port, seen = 0;
	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(nat_ports_port_alloc(np, ref, NAT_PI_UDP, 0, &port), 0);
		CU_ASSERT_NOT_EQUAL(port, 0);
		seen |= (uint16_t)(1u << port);
	}
	CU_ASSERT_EQUAL(seen, 0xfe);
	CU_ASSERT_EQUAL(nat_ports_port_alloc(np, ref, NAT_PI_UDP, 0, &port), ENOSPC);
	CU_ASSERT_EQUAL(nat_ports_port_alloc(np, ref, NAT_PI_TCP, 3, &port), 0); /* own space per protocol */
	CU_ASSERT_EQUAL(port, 3);
	CU_ASSERT_EQUAL(nat_ports_addr_remove(np, 0), EBUSY);
	nat_ports_free(np);

	np = nat_ports_create(1, 1, 2);
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 0, 1024, 1024 + 4 * 256 + 100, 256), 0);
	CU_ASSERT_EQUAL(nat_ports_addr_free(np, 0), 2); /* blocks 1 and 3 of 4 */
	CU_ASSERT_EQUAL(nat_ports_block_of(np, 0, 1024), NAT_NIL);      /* block 0: worker 0's */
	CU_ASSERT_EQUAL(nat_ports_block_of(np, 0, 1024 + 1100), NAT_NIL); /* the tail */
	CU_ASSERT_EQUAL(nat_ports_owner(1024, 256, 4, 2, 1024 + 256), 1);
	CU_ASSERT_EQUAL(nat_ports_owner(1024, 256, 4, 2, 1000), -1);
	CU_ASSERT_EQUAL(nat_ports_owner(1024, 256, 4, 2, 1024 + 1100), -1);
	nat_ports_free(np);
}

/* Idle expiry on a fake clock: a block goes block_idle after its last port, not before; reuse cancels it. */
static void test_idle_clock(void)
{
	struct nat_ports *np = nat_ports_create(1, 0, 1);
	CU_ASSERT_EQUAL(nat_ports_addr_add(np, 0, 1024, 2047, 256), 0);
	uint32_t a, b, out[8];
	uint16_t pa, pb;
	CU_ASSERT_EQUAL(nat_ports_block_alloc(np, 0, 1, 1100, NULL, &a), 0);
	CU_ASSERT_EQUAL(nat_ports_block_alloc(np, 0, 2, 1100, NULL, &b), 0);
	CU_ASSERT_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(nat_ports_port_alloc(np, a, NAT_PI_TCP, 1100, &pa), 0);
	CU_ASSERT_EQUAL(pa, 1100);
	CU_ASSERT_EQUAL(nat_ports_port_alloc(np, b, NAT_PI_TCP, 1100, &pb), 0);
	CU_ASSERT_NOT_EQUAL(pb, 1100);
	nat_ports_port_free(np, 0, NAT_PI_TCP, pa, 1000);
	nat_ports_port_free(np, 0, NAT_PI_TCP, pb, 1500);
	CU_ASSERT_EQUAL(nat_ports_idle_expired(np, 120999, 120000, out, 8), 0);
	CU_ASSERT_EQUAL(nat_ports_idle_expired(np, 121000, 120000, out, 8), 1);
	CU_ASSERT_EQUAL(out[0], a);
	nat_ports_block_free(np, a);
	CU_ASSERT_EQUAL(nat_ports_port_alloc(np, b, NAT_PI_UDP, 0, &pb), 0); /* b used again: not idle any more */
	CU_ASSERT_EQUAL(nat_ports_idle_expired(np, 999999, 120000, out, 8), 0);
	nat_ports_port_free(np, 0, NAT_PI_UDP, pb, 200000);
	CU_ASSERT_EQUAL(nat_ports_idle_expired(np, 319999, 120000, out, 8), 0);
	CU_ASSERT_EQUAL(nat_ports_idle_expired(np, 320000, 120000, out, 8), 1);
	nat_ports_block_free(np, b);
	CU_ASSERT_EQUAL(nat_ports_addr_used(np, 0), 0);
	CU_ASSERT_EQUAL(nat_ports_addr_remove(np, 0), 0);
	nat_ports_free(np);
}

int main(void)
{
	const char *s = getenv("NAT_PORTS_TEST_SEED");
	if (s != NULL)
		seed = strtoull(s, NULL, 0);
	if (seed == 0)
		seed = 1;
	printf("test_nat_ports: NAT_PORTS_TEST_SEED=%#" PRIx64 "\n", seed);
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"edges: port 0, range, tail, shares", test_edges},
		{"idle expiry on a fake clock", test_idle_clock},
		{"random vs reference: one worker", test_random_one_worker},
		{"random vs reference: small blocks, reserved, exhaustion", test_random_small_blocks},
		{"random vs reference: two workers", test_random_two_workers},
		{"random vs reference: port 0 and tail", test_random_port_zero_and_tail},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nat ports", NULL, NULL);
	for (unsigned i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}
