/* SPDX-License-Identifier: BSD-3-Clause */
/* nf/ipsec/ipsec_spi.c: the inbound SPI table (add, find, replace, delete, tombstones, rebuild, iteration). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "nf/ipsec/ipsec_spi.h"

/* Fake SA pointers: the table never dereferences them. */
static struct ipsec_sa *sa_of(uint32_t n)
{
	return (struct ipsec_sa *)(uintptr_t)(0x10000 + (uintptr_t)n * 64);
}

/* The live entries of t, each found with its SA in other. */
static unsigned count_live_in(const struct ipsec_spi_table *t, const struct ipsec_spi_table *other)
{
	uint32_t pos = 0, spi;
	struct ipsec_sa *sa;
	unsigned n = 0;
	while (ipsec_spi_next(t, &pos, &spi, &sa)) {
		CU_ASSERT_PTR_EQUAL(ipsec_spi_find(other, spi), sa);
		n++;
	}
	return n;
}

static unsigned count_live(const struct ipsec_spi_table *t)
{
	return count_live_in(t, t);
}

static void test_basic(void)
{
	struct ipsec_spi_table *t = ipsec_spi_table_create(16, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL(t->mask + 1, 64); /* at least 64 slots */
	CU_ASSERT_PTR_NULL(ipsec_spi_find(t, 0x1001));
	CU_ASSERT_EQUAL(ipsec_spi_add(t, 0x1001, sa_of(1)), 0);
	CU_ASSERT_EQUAL(ipsec_spi_add(t, 0x1002, sa_of(2)), 0);
	CU_ASSERT_EQUAL(ipsec_spi_add(t, 0x1001, sa_of(3)), EEXIST);
	CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, 0x1001), sa_of(1));
	CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, 0x1002), sa_of(2));
	CU_ASSERT_PTR_NULL(ipsec_spi_find(t, 0x1003));
	CU_ASSERT_PTR_NULL(ipsec_spi_find(NULL, 0x1001)); /* no table: nothing found */

	CU_ASSERT_EQUAL(ipsec_spi_replace(t, 0x1001, sa_of(9)), 0);
	CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, 0x1001), sa_of(9));
	CU_ASSERT_EQUAL(ipsec_spi_replace(t, 0x1003, sa_of(9)), ENOENT);

	CU_ASSERT_EQUAL(ipsec_spi_del(t, 0x1001), 0);
	CU_ASSERT_EQUAL(ipsec_spi_del(t, 0x1001), ENOENT);
	CU_ASSERT_PTR_NULL(ipsec_spi_find(t, 0x1001));
	CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, 0x1002), sa_of(2));
	CU_ASSERT(t->n_live == 1 && t->n_dead == 1);
	/* the same SPI again: a new slot, the tombstone stays */
	CU_ASSERT_EQUAL(ipsec_spi_add(t, 0x1001, sa_of(4)), 0);
	CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, 0x1001), sa_of(4));
	CU_ASSERT(t->n_live == 2 && t->n_dead == 1);
	CU_ASSERT_EQUAL(count_live(t), 2);
	ipsec_spi_table_free(t);
	CU_ASSERT_PTR_NULL(ipsec_spi_table_create(0, SOCKET_ID_ANY));
}

/* SPIs that share a home slot probe past each other, and past tombstones. */
static void test_collisions(void)
{
	struct ipsec_spi_table *t = ipsec_spi_table_create(16, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(t != NULL);
	uint32_t same[6], n = 0;
	uint32_t home = ipsec_spi_home(t, 1);
	for (uint32_t spi = 1; n < RTE_DIM(same) && spi < 1000000; spi++)
		if (ipsec_spi_home(t, spi) == home)
			same[n++] = spi;
	CU_ASSERT_FATAL(n == RTE_DIM(same));
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_EQUAL(ipsec_spi_add(t, same[i], sa_of(i)), 0);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, same[i]), sa_of(i));
	/* delete the first three: the others are found beyond the tombstones */
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(ipsec_spi_del(t, same[i]), 0);
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_PTR_EQUAL(ipsec_spi_find(t, same[i]), i < 3 ? NULL : sa_of(i));
	/* a bulk lookup agrees with the single ones */
	uint32_t keys[8] = {same[0], same[3], same[5], 77, same[4], same[1], same[2], same[3]};
	struct ipsec_sa *got[8];
	ipsec_spi_find_bulk(t, keys, 8, got);
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_PTR_EQUAL(got[i], ipsec_spi_find(t, keys[i]));
	ipsec_spi_find_bulk(NULL, keys, 8, got);
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_PTR_NULL(got[i]);
	ipsec_spi_table_free(t);
}

/* max_sas live entries, not one more; churn fills the table with tombstones until a rebuild is asked for. */
static void test_capacity_and_rebuild(void)
{
	struct ipsec_spi_table *t = ipsec_spi_table_create(100, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_EQUAL(t->mask + 1, 256);
	for (uint32_t i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(ipsec_spi_add(t, 0x5000 + i, sa_of(i)), 0);
	CU_ASSERT_EQUAL(ipsec_spi_add(t, 0x6000, sa_of(0)), ENOSPC);
	CU_ASSERT_EQUAL(count_live(t), 100);

	/* rekeys: delete one, add a new SPI; after 192 - 100 of them the table has no empty slot to spare */
	uint32_t next = 0x7000, oldest = 0x5000, churn = 0;
	int rc;
	for (;;) {
		CU_ASSERT_EQUAL_FATAL(ipsec_spi_del(t, oldest++), 0);
		if (oldest == 0x5000 + 100)
			oldest = 0x7000;
		rc = ipsec_spi_add(t, next, sa_of(next));
		if (rc != 0)
			break;
		next++;
		churn++;
	}
	CU_ASSERT_EQUAL(rc, EAGAIN);
	CU_ASSERT_EQUAL(churn, 192 - 100);
	CU_ASSERT(t->n_live + t->n_dead == 192);
	unsigned empty = 0;
	for (uint32_t i = 0; i <= t->mask; i++)
		empty += t->slots[i].word == IPSEC_SPI_EMPTY;
	CU_ASSERT_EQUAL(empty, 256 - 192); /* a quarter stays empty: every probe ends */
	CU_ASSERT_PTR_NULL(ipsec_spi_find(t, 0xdead)); /* a miss ends too */

	struct ipsec_spi_table *fresh = ipsec_spi_rebuild(t);
	CU_ASSERT_FATAL(fresh != NULL);
	CU_ASSERT(fresh->n_live == t->n_live && fresh->n_dead == 0 && fresh->max_live == 100);
	CU_ASSERT_EQUAL(count_live_in(t, fresh), 99); /* every live entry moved */
	CU_ASSERT_EQUAL(count_live(fresh), 99);
	CU_ASSERT_EQUAL(ipsec_spi_add(fresh, next, sa_of(next)), 0);
	CU_ASSERT_PTR_EQUAL(ipsec_spi_find(fresh, next), sa_of(next));
	CU_ASSERT_PTR_NULL(ipsec_spi_find(t, next)); /* the old table is left as it was: workers may still read it */
	ipsec_spi_table_free(t);
	ipsec_spi_table_free(fresh);
}

int main(void)
{
	char *eal_args[] = {"test", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
			    "-l", "0", "--file-prefix=ipsspi_unit"};
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/ipsec/ipsec_spi", NULL, NULL);
	if (suite == NULL || CU_add_test(suite, "add, find, replace, delete, re-add", test_basic) == NULL ||
	    CU_add_test(suite, "collisions probe past each other and past tombstones", test_collisions) == NULL ||
	    CU_add_test(suite, "max_sas, tombstones, rebuild", test_capacity_and_rebuild) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return failed == 0 ? 0 : 1;
}
