/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/flow_plan.c: the NAT port-block rules must send every port of the dynamic range to the
 * worker owning its block (block b -> worker b % n_workers, as nf/nat/nat_ports.h allocates), checked port by port
 * against a naive owner for many geometries; the masked form, the per-block form, the refusals, the expansion into
 * exact ports for drivers without port masks, and a full plan.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/flow_steer.h"

static struct flow_plan plan;
static const uint8_t addr[4] = {198, 51, 100, 7};

static int naive_owner(uint32_t port, uint32_t lo, uint32_t bs, uint32_t n_blocks, unsigned nw)
{
	if (port < lo || (port - lo) / bs >= n_blocks)
		return -1;
	return (int)(((port - lo) / bs) % nw);
}

/* The workers whose rules match port p (bitmask); a port must match exactly one. */
static uint64_t matching_workers(const struct flow_plan *pl, uint16_t p)
{
	uint64_t mask = 0;
	for (uint32_t i = 0; i < pl->n; i++) {
		const struct flow_match *m = &pl->rules[i].m;
		if ((p & m->dport_mask) == (m->dport & m->dport_mask))
			mask |= 1ull << pl->rules[i].worker;
	}
	return mask;
}

/* Every port of the range goes to its block's owner, and only there. */
static void check_geometry(uint16_t lo, uint16_t hi, uint16_t bs, unsigned nw, int expect_rules)
{
	flow_plan_init(&plan, nw);
	int n = flow_plan_port_blocks(&plan, "nat", 3, addr, IPPROTO_UDP, lo, hi, bs);
	CU_ASSERT_EQUAL(n, expect_rules);
	CU_ASSERT_EQUAL(plan.n, (uint32_t)expect_rules);
	if (nw == 1)
		return; /* one worker: nothing is steered */
	uint32_t n_blocks = ((uint32_t)hi - lo + 1) / bs;
	unsigned wrong = 0;
	for (uint32_t p = lo; p < lo + n_blocks * bs; p++) {
		int owner = naive_owner(p, lo, bs, n_blocks, nw);
		if (matching_workers(&plan, (uint16_t)p) != 1ull << owner)
			wrong++;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	for (uint32_t i = 0; i < plan.n; i++) {
		const struct flow_rule *r = &plan.rules[i];
		CU_ASSERT_EQUAL(r->action, FLOW_TO_WORKER);
		CU_ASSERT_EQUAL(r->m.family, 4);
		CU_ASSERT_EQUAL(r->m.proto, IPPROTO_UDP);
		CU_ASSERT_EQUAL(r->m.dst_len, 32);
		CU_ASSERT(memcmp(r->m.dst, addr, 4) == 0);
		CU_ASSERT_EQUAL(r->m.vrf, 3);
		CU_ASSERT_STRING_EQUAL(r->owner, "nat");
	}
}

static void test_masked_one_rule_per_worker(void)
{
	check_geometry(1024, 65535, 512, 2, 2);  /* the defaults */
	check_geometry(1024, 65535, 512, 4, 4);
	check_geometry(1024, 65535, 64, 8, 8);
	check_geometry(1536, 65535, 512, 2, 2);  /* lo an odd block: the owner bit is rotated */
	check_geometry(1536, 65535, 512, 4, 4);
	check_geometry(1024, 1087, 16, 2, 2);    /* the deploy test's small pool */
	check_geometry(0, 65535, 32768, 2, 2);   /* two blocks, the top bit */
}

static void test_per_block_when_workers_not_pow2(void)
{
	check_geometry(1024, 65535, 512, 3, 126); /* (65535 - 1024 + 1) / 512 = 126 blocks */
	check_geometry(1024, 4095, 256, 6, 12);
	/* 4 workers but the owner bits would not fit 16 bits: per block */
	check_geometry(0, 65535, 32768, 4, 2);
}

static void test_unmaskable_and_one_worker(void)
{
	flow_plan_init(&plan, 2);
	CU_ASSERT_EQUAL(flow_plan_port_blocks(&plan, "nat", 0, addr, IPPROTO_TCP, 1024, 65535, 500), -EINVAL);
	CU_ASSERT_EQUAL(flow_plan_port_blocks(&plan, "nat", 0, addr, IPPROTO_TCP, 1000, 65535, 512), -EINVAL);
	CU_ASSERT_EQUAL(plan.n, 0);
	flow_plan_init(&plan, 1);
	CU_ASSERT_EQUAL(flow_plan_port_blocks(&plan, "nat", 0, addr, IPPROTO_TCP, 1024, 65535, 512), 0);
	CU_ASSERT_EQUAL(plan.n, 0);
}

static void test_expansion(void)
{
	static uint16_t ports[65536];
	flow_plan_init(&plan, 2);
	CU_ASSERT_EQUAL(flow_plan_port_blocks(&plan, "nat", 0, addr, IPPROTO_UDP, 1024, 1087, 16), 2);
	for (uint32_t i = 0; i < plan.n; i++) {
		const struct flow_match *m = &plan.rules[i].m;
		uint32_t n = flow_ports_expand(m->dport, m->dport_mask, m->dport_lo, m->dport_hi, ports, 65536);
		CU_ASSERT_EQUAL(n, 32);
		for (uint32_t k = 0; k < n && k < 65536; k++)
			CU_ASSERT_EQUAL(naive_owner(ports[k], 1024, 16, 4, 2), (int)plan.rules[i].worker);
	}
	/* More ports than room: the count still says how many, nothing is written past max. */
	ports[5] = 0xbeef;
	CU_ASSERT_EQUAL(flow_ports_expand(0x0000, 0x0010, 1024, 65535, ports, 5), 32256);
	CU_ASSERT_EQUAL(ports[5], 0xbeef);
	/* An exact match expands to itself, inside the range only. */
	CU_ASSERT_EQUAL(flow_ports_expand(5353, 0xffff, 5353, 5353, ports, 4), 1);
	CU_ASSERT_EQUAL(ports[0], 5353);
	CU_ASSERT_EQUAL(flow_ports_expand(5353, 0xffff, 1024, 2047, ports, 4), 0);
}

static void test_plan_full_and_note(void)
{
	flow_plan_init(&plan, 3);
	/* 126 rules per call: the ninth call overflows FLOW_PLAN_MAX (1024). */
	int rc = 0;
	for (int i = 0; i < 9 && rc >= 0; i++)
		rc = flow_plan_port_blocks(&plan, "nat", 0, addr, IPPROTO_UDP, 1024, 65535, 512);
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_EQUAL(plan.n, FLOW_PLAN_MAX);
	CU_ASSERT_EQUAL(plan.refused, 1);
	struct flow_rule r = {.action = FLOW_DROP};
	CU_ASSERT_EQUAL(flow_plan_add(&plan, &r), -ENOSPC);
	CU_ASSERT_EQUAL(plan.refused, 2);
	flow_plan_note(&plan, "first %d", 1);
	flow_plan_note(&plan, "second");
	CU_ASSERT_STRING_EQUAL(plan.note, "first 1");
	flow_plan_init(&plan, 2);
	CU_ASSERT_EQUAL(plan.n, 0);
	CU_ASSERT_EQUAL(plan.refused, 0);
	CU_ASSERT_STRING_EQUAL(plan.note, "");
}

/* Random aligned geometries against the naive owner. */
static void test_random_geometries(void)
{
	srand(8);
	for (int t = 0; t < 200; t++) {
		unsigned nw = 1u + (unsigned)(rand() % 8);
		uint16_t bs = (uint16_t)(1u << (2 + rand() % 10));
		uint32_t lo = (uint32_t)(rand() % (60000 / bs)) * bs;
		uint32_t hi = lo + (uint32_t)(rand() % (65536 - lo));
		uint32_t n_blocks = (hi - lo + 1) / bs;
		bool pow2 = (nw & (nw - 1)) == 0 && ((uint32_t)(nw - 1) * bs) <= 0xffff;
		int expect = nw == 1 ? 0 : pow2 ? (int)nw : (int)n_blocks;
		if (expect > FLOW_PLAN_MAX)
			continue;
		check_geometry((uint16_t)lo, (uint16_t)hi, bs, nw, expect);
	}
}

int main(void)
{
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"masked: one rule per worker", test_masked_one_rule_per_worker},
		{"per block when workers are not a power of two", test_per_block_when_workers_not_pow2},
		{"unmaskable geometry, one worker", test_unmaskable_and_one_worker},
		{"expansion into exact ports", test_expansion},
		{"full plan, note", test_plan_full_and_note},
		{"random geometries", test_random_geometries},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("dataplane/flow_plan", NULL, NULL);
	for (unsigned i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}
