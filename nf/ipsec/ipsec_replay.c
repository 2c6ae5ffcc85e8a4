/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 4303 anti-replay window with ESN inference and a loss estimate (nf/ipsec/ipsec_replay.h). */
#include <string.h>

#include "nf/ipsec/ipsec_replay.h"

void ipsec_replay_init(struct ipsec_replay *r, uint32_t window)
{
	if (window == 0) {
		/* Anti-replay off (RFC 4303 3.4.3: the receiver's choice): only the top is kept, for ESN inference. */
		memset(r, 0, sizeof(*r));
		return;
	}
	if (window < IPSEC_REPLAY_WINDOW_MIN)
		window = IPSEC_REPLAY_WINDOW_MIN;
	if (window > IPSEC_REPLAY_WINDOW_MAX)
		window = IPSEC_REPLAY_WINDOW_MAX;
	memset(r, 0, sizeof(*r));
	r->window = window;
	r->n_words = (window + 63) / 64 + 1;
	/*
	 * The top is 0 in word 0. The other ring words stand for words "before" 0 that hold no sequence number: marked
	 * received, so recycling them counts nothing lost. Number 0 is never sent: marked received too.
	 */
	for (uint32_t i = 1; i < r->n_words; i++)
		r->bits[i] = ~0ull;
	r->bits[0] = 1;
}

bool ipsec_replay_infer(const struct ipsec_replay *r, uint64_t top, uint32_t seq, bool esn, uint64_t *full)
{
	if (!esn) {
		*full = seq;
		return true;
	}
	/* RFC 4303 A2.2: the window's bottom b = top - W + 1 decides which 2^32 subspace seq falls in. Without a
	 * window: the subspace that puts seq nearest the top (half the space either side). */
	uint32_t w = r->window != 0 ? r->window : 1u << 31;
	uint32_t tl = (uint32_t)top, th = (uint32_t)(top >> 32);
	uint32_t bottom_lo = tl - w + 1; /* modulo 2^32 */
	if (tl >= w - 1) {
		/* The window lies within one subspace: below its bottom means the next subspace. */
		*full = ((uint64_t)(seq >= bottom_lo ? th : th + 1) << 32) | seq;
		return true;
	}
	/* The window straddles two subspaces: at or above bottom_lo (wrapped) means the previous one. */
	if (seq < bottom_lo) {
		*full = ((uint64_t)th << 32) | seq;
		return true;
	}
	if (th == 0)
		return false; /* before sequence number 0 */
	*full = ((uint64_t)(th - 1) << 32) | seq;
	return true;
}

enum ipsec_replay_result ipsec_replay_check_full(const struct ipsec_replay *r, uint64_t n)
{
	if (n == 0)
		return IPSEC_REPLAY_OLD;
	if (r->window == 0 || n > r->top)
		return IPSEC_REPLAY_OK;
	if (r->top - n >= r->window)
		return IPSEC_REPLAY_OLD;
	uint64_t word = r->bits[(n >> 6) % r->n_words];
	return (word >> (n & 63)) & 1 ? IPSEC_REPLAY_DUP : IPSEC_REPLAY_OK;
}

enum ipsec_replay_result ipsec_replay_check(const struct ipsec_replay *r, uint32_t seq, bool esn, uint64_t *full)
{
	if (!ipsec_replay_infer(r, r->top, seq, esn, full)) {
		*full = 0;
		return IPSEC_REPLAY_OLD;
	}
	return ipsec_replay_check_full(r, *full);
}

/* Zero the words after the top's up to n's, counting the numbers they held that never arrived. */
static uint64_t advance(struct ipsec_replay *r, uint64_t n)
{
	uint64_t top_word = r->top >> 6, new_word = n >> 6, steps = new_word - top_word, lost = 0;
	if (steps >= r->n_words) {
		/* Every word recycled, and whole words skipped without ever being in the ring. */
		for (uint32_t i = 0; i < r->n_words; i++) {
			lost += 64 - (uint64_t)__builtin_popcountll(r->bits[i]);
			r->bits[i] = 0;
		}
		lost += (steps - r->n_words) * 64;
	} else {
		for (uint64_t w = top_word + 1; w <= new_word; w++) {
			uint64_t *b = &r->bits[w % r->n_words];
			lost += 64 - (uint64_t)__builtin_popcountll(*b);
			*b = 0;
		}
	}
	r->top = n;
	return lost;
}

enum ipsec_replay_result ipsec_replay_update(struct ipsec_replay *r, uint64_t n, uint64_t *newly_lost)
{
	*newly_lost = 0;
	if (n == 0)
		return IPSEC_REPLAY_OLD;
	if (r->window == 0) {
		if (n > r->top)
			r->top = n;
		return IPSEC_REPLAY_OK;
	}
	if (n > r->top) {
		*newly_lost = advance(r, n);
		r->lost += *newly_lost;
	} else if (r->top - n >= r->window) {
		return IPSEC_REPLAY_OLD;
	}
	uint64_t *word = &r->bits[(n >> 6) % r->n_words];
	uint64_t bit = 1ull << (n & 63);
	if (*word & bit)
		return IPSEC_REPLAY_DUP;
	*word |= bit;
	return IPSEC_REPLAY_OK;
}
