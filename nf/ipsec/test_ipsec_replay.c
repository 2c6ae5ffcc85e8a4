/* SPDX-License-Identifier: BSD-3-Clause */
/* nf/ipsec/ipsec_replay.c: RFC 4303 anti-replay window, ESN inference (appendix A2.2), loss estimate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_common.h>

#include "nf/ipsec/ipsec_replay.h"

static struct ipsec_replay R;

/* check then update, as the node does around the ICV. */
static enum ipsec_replay_result rx(struct ipsec_replay *r, uint32_t seq, bool esn, uint64_t *full)
{
	uint64_t f, lost;
	enum ipsec_replay_result res = ipsec_replay_check(r, seq, esn, &f);
	if (full != NULL)
		*full = f;
	if (res != IPSEC_REPLAY_OK)
		return res;
	return ipsec_replay_update(r, f, &lost);
}

static void test_in_order_and_duplicates(void)
{
	ipsec_replay_init(&R, 64);
	CU_ASSERT_EQUAL(rx(&R, 0, false, NULL), IPSEC_REPLAY_OLD); /* 0 is never sent */
	for (uint32_t s = 1; s <= 1000; s++)
		CU_ASSERT_EQUAL(rx(&R, s, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(R.top, 1000);
	CU_ASSERT_EQUAL(rx(&R, 1000, false, NULL), IPSEC_REPLAY_DUP);
	CU_ASSERT_EQUAL(rx(&R, 990, false, NULL), IPSEC_REPLAY_DUP);
	CU_ASSERT_EQUAL(R.lost, 0);

	/* Two copies of one number in a burst: both pass the check, the second update refuses. */
	uint64_t f1, f2, lost;
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 1005, false, &f1), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 1005, false, &f2), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_replay_update(&R, f1, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_replay_update(&R, f2, &lost), IPSEC_REPLAY_DUP);
	/* 1001..1004 are late but inside: accepted once. */
	CU_ASSERT_EQUAL(rx(&R, 1003, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 1003, false, NULL), IPSEC_REPLAY_DUP);
}

/* For several window sizes: top - (W - 1) is the last number inside, top - W the first outside. */
static void test_window_edges(void)
{
	const uint32_t sizes[] = {32, 64, 100, 128, 1000, 1024, 4096};
	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		uint32_t w = sizes[i], top = 3 * w + 77;
		ipsec_replay_init(&R, w);
		CU_ASSERT_EQUAL(R.window, w);
		CU_ASSERT_EQUAL(rx(&R, top, false, NULL), IPSEC_REPLAY_OK);
		CU_ASSERT_EQUAL(rx(&R, top - w, false, NULL), IPSEC_REPLAY_OLD);
		CU_ASSERT_EQUAL(rx(&R, top - (w - 1), false, NULL), IPSEC_REPLAY_OK);
		CU_ASSERT_EQUAL(rx(&R, top - (w - 1), false, NULL), IPSEC_REPLAY_DUP);
		CU_ASSERT_EQUAL(rx(&R, top - 1, false, NULL), IPSEC_REPLAY_OK);
		/* Every number in between, once; then each of them again is a duplicate. */
		for (uint32_t s = top - (w - 2); s < top - 1; s++)
			CU_ASSERT_EQUAL(rx(&R, s, false, NULL), IPSEC_REPLAY_OK);
		unsigned dups = 0;
		for (uint32_t s = top - (w - 1); s <= top; s++)
			dups += rx(&R, s, false, NULL) == IPSEC_REPLAY_DUP;
		CU_ASSERT_EQUAL(dups, w);
		/* Moving the top by one pushes the bottom out. */
		CU_ASSERT_EQUAL(rx(&R, top + 1, false, NULL), IPSEC_REPLAY_OK);
		CU_ASSERT_EQUAL(rx(&R, top - (w - 1), false, NULL), IPSEC_REPLAY_OLD);
	}
	ipsec_replay_init(&R, 8);
	CU_ASSERT_EQUAL(R.window, IPSEC_REPLAY_WINDOW_MIN);
	ipsec_replay_init(&R, 1);
	CU_ASSERT_EQUAL(R.window, IPSEC_REPLAY_WINDOW_MIN);
	ipsec_replay_init(&R, 100000);
	CU_ASSERT_EQUAL(R.window, IPSEC_REPLAY_WINDOW_MAX);
}

static void test_big_jumps(void)
{
	ipsec_replay_init(&R, 1024);
	CU_ASSERT_EQUAL(rx(&R, 1, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 4000000000u, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 4000000000u - 1023, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 4000000000u - 1024, false, NULL), IPSEC_REPLAY_OLD);
	CU_ASSERT_EQUAL(rx(&R, 2, false, NULL), IPSEC_REPLAY_OLD);
	CU_ASSERT_EQUAL(rx(&R, 4000000000u, false, NULL), IPSEC_REPLAY_DUP);
	/* Everything skipped is lost except what is still in the ring (its words are counted when recycled). */
	CU_ASSERT(R.lost >= 4000000000ull - 2 - 1024 - 128);
	CU_ASSERT(R.lost <= 4000000000ull - 2);
	/* Without ESN the space ends at 2^32 - 1. */
	CU_ASSERT_EQUAL(rx(&R, UINT32_MAX, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 3, false, NULL), IPSEC_REPLAY_OLD);
}

static void test_esn_inference(void)
{
	uint64_t full;
	const uint64_t two32 = 1ull << 32;
	ipsec_replay_init(&R, 64);
	/* Nothing received: a number "just below 0" belongs to no subspace. */
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, UINT32_MAX, true, &full), IPSEC_REPLAY_OLD);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 0, true, &full), IPSEC_REPLAY_OLD);
	CU_ASSERT_EQUAL(rx(&R, 1, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, 1);
	/* Straight from 1 to near 2^32: inferred as the subspace before 0 (the window straddles 0), refused. */
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, UINT32_MAX - 10, true, &full), IPSEC_REPLAY_OLD);
	/* Traffic went on up to the end of the first subspace. */
	uint64_t lost;
	CU_ASSERT_EQUAL(ipsec_replay_update(&R, two32 - 1000, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, UINT32_MAX - 10, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, UINT32_MAX - 10);
	/* A low number below the window's bottom: the next subspace (window within one subspace, case A). */
	CU_ASSERT_EQUAL(rx(&R, 5, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, two32 + 5);
	/* Now the window straddles (case B): late numbers of the previous subspace are still accepted once. */
	CU_ASSERT_EQUAL(rx(&R, UINT32_MAX - 2, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, UINT32_MAX - 2);
	CU_ASSERT_EQUAL(rx(&R, UINT32_MAX - 2, true, &full), IPSEC_REPLAY_DUP);
	CU_ASSERT_EQUAL(rx(&R, 0, true, &full), IPSEC_REPLAY_OK); /* 2^32 itself */
	CU_ASSERT_EQUAL(full, two32);
	CU_ASSERT_EQUAL(rx(&R, 3, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, two32 + 3);
	/* Top is 2^32 + 5, window 64: 2^32 - 59 is left of the window (but in the previous subspace). */
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, UINT32_MAX - 58 + 1, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, two32 - 58);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, UINT32_MAX - 59 + 1, true, &full), IPSEC_REPLAY_OK);
	/* Below the wrapped bottom: RFC A2.2 takes it for the current subspace (a big jump the ICV will refuse). */
	CU_ASSERT_EQUAL(full, two32 + two32 - 59);
	/* Without ESN the same numbers are plainly old. */
	struct ipsec_replay plain;
	ipsec_replay_init(&plain, 64);
	CU_ASSERT_EQUAL(rx(&plain, UINT32_MAX - 10, false, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&plain, 5, false, &full), IPSEC_REPLAY_OLD);

	/* Well inside a high subspace (case A): below the bottom means the next one. */
	ipsec_replay_init(&R, 1024);
	CU_ASSERT_EQUAL(ipsec_replay_update(&R, 7 * two32 + 5000, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 4000, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, 7 * two32 + 4000);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 3976, true, &full), IPSEC_REPLAY_OK); /* bottom is 5000 - 1023 */
	CU_ASSERT_EQUAL(full, 8 * two32 + 3976);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 3977, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, 7 * two32 + 3977);
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 5000, true, &full), IPSEC_REPLAY_DUP);
}

/*
 * The loss estimate against a model: a number counts lost once its 64-number word has been recycled (the ring
 * holds ceil(W / 64) + 1 words ending with the top's) without it having been accepted.
 */
static uint64_t model_lost(const uint8_t *accepted, uint64_t top, uint32_t n_words)
{
	uint64_t top_word = top >> 6;
	if (top_word + 1 < n_words)
		return 0;
	uint64_t first_kept = (top_word + 1 - n_words) * 64, lost = 0;
	for (uint64_t n = 1; n < first_kept; n++)
		lost += !accepted[n];
	return lost;
}

static void test_loss_estimate_model(void)
{
	const uint32_t sizes[] = {32, 64, 100, 1024, 4096};
	const uint64_t space = 300000;
	uint8_t *accepted = calloc(space + 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(accepted);
	srand(11);
	for (unsigned i = 0; i < RTE_DIM(sizes); i++) {
		uint32_t w = sizes[i];
		memset(accepted, 0, space + 1);
		ipsec_replay_init(&R, w);
		uint64_t top = 0, sum_newly = 0, next = 1;
		unsigned mismatches = 0;
		for (unsigned step = 0; step < 60000 && next < space - 10000; step++) {
			uint64_t n;
			int r = rand() % 100;
			if (r < 70)
				n = next++;                                 /* in order */
			else if (r < 80)
				n = next > 2 * w ? next - 1 - (uint64_t)rand() % (2 * w) : next; /* late or too late */
			else if (r < 90)
				n = next > 5 ? next - 1 - (uint64_t)rand() % 5 : next;         /* duplicate-ish */
			else if (r < 99)
				n = (next += 1 + (uint64_t)rand() % 40);    /* a few lost */
			else
				n = (next += (uint64_t)rand() % 9000);      /* burst loss */
			if (n == 0 || n > space)
				continue;
			enum ipsec_replay_result want;
			if (n > top)
				want = IPSEC_REPLAY_OK;
			else if (top - n >= w)
				want = IPSEC_REPLAY_OLD;
			else
				want = accepted[n] ? IPSEC_REPLAY_DUP : IPSEC_REPLAY_OK;
			uint64_t full, newly = 0;
			enum ipsec_replay_result got = ipsec_replay_check(&R, (uint32_t)n, false, &full);
			if (got == IPSEC_REPLAY_OK)
				got = ipsec_replay_update(&R, full, &newly);
			sum_newly += newly;
			mismatches += got != want;
			if (want == IPSEC_REPLAY_OK) {
				accepted[n] = 1;
				if (n > top)
					top = n;
			}
			if (step % 97 == 0)
				mismatches += R.lost != model_lost(accepted, top, R.n_words);
		}
		CU_ASSERT_EQUAL(mismatches, 0);
		CU_ASSERT_EQUAL(R.lost, model_lost(accepted, top, R.n_words));
		CU_ASSERT_EQUAL(R.lost, sum_newly);
		CU_ASSERT(R.lost > 0);
	}
	free(accepted);
}

/* Reordering inside the window loses nothing; exact figures for a simple pattern. */
static void test_loss_reorder_and_gaps(void)
{
	uint64_t full, lost;
	ipsec_replay_init(&R, 64); /* ring of 2 words */
	for (uint32_t s = 1; s <= 200; s++)
		if (s != 150 && s != 160 && s != 170)
			CU_ASSERT_EQUAL(rx(&R, s, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 150, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 160, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(R.lost, 0);
	/* 170 never comes; jump to 1000: words of 128..191 and 192..255 recycled (170 and 201..255 lost), then the
	 * words 256..895 never were in the ring (640 lost); 896..1000 still in the ring. */
	CU_ASSERT_EQUAL(ipsec_replay_check(&R, 1000, false, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_replay_update(&R, full, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(lost, 1 + 55 + 640);
	CU_ASSERT_EQUAL(R.lost, 696);
}

/* Window 0: anti-replay off; ESN still inferred around the highest number seen. */
static void test_window_off(void)
{
	uint64_t full, lost;
	ipsec_replay_init(&R, 0);
	CU_ASSERT_EQUAL(R.window, 0);
	for (int pass = 0; pass < 3; pass++) /* a capture replayed in a loop */
		for (uint32_t s = 1; s <= 100; s++)
			CU_ASSERT_EQUAL(rx(&R, s, false, NULL), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 0, false, NULL), IPSEC_REPLAY_OLD);
	CU_ASSERT_EQUAL(R.lost, 0);
	CU_ASSERT_EQUAL(ipsec_replay_update(&R, (1ull << 32) - 5, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(rx(&R, 7, true, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(full, (1ull << 32) + 7);
	CU_ASSERT_EQUAL(rx(&R, UINT32_MAX - 100, true, &full), IPSEC_REPLAY_OK); /* late, previous subspace */
	CU_ASSERT_EQUAL(full, UINT32_MAX - 100);
	CU_ASSERT_EQUAL(R.top, (1ull << 32) + 7);
	CU_ASSERT_EQUAL(R.lost, 0);
}

int main(void)
{
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"in order, duplicates, duplicates in one burst", test_in_order_and_duplicates},
		{"window edges for sizes 32..4096", test_window_edges},
		{"big jumps", test_big_jumps},
		{"ESN: high-order inference around 2^32 (RFC 4303 A2.2)", test_esn_inference},
		{"loss estimate against a model (random traffic)", test_loss_estimate_model},
		{"loss estimate: reordering is not loss", test_loss_reorder_and_gaps},
		{"window 0: anti-replay off", test_window_off},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("ipsec replay", NULL, NULL);
	for (unsigned i = 0; suite != NULL && i < RTE_DIM(tests); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}
