/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 4303 anti-replay window (3.4.3, appendix A) with extended sequence numbers (appendix A2.2 inference of the
 * high-order 32 bits), and an underlay loss estimate.
 *
 * The bitmap is a ring of 64-bit words (RFC 6479 style): bit (n % 64) of word ((n / 64) % n_words) says whether
 * sequence number n arrived. It holds one word more than the window needs, so moving the top of the window clears
 * whole words and never shifts. A number whose bit was still clear when its word is recycled never arrived within
 * the window: it counts as lost (the estimate lags the window by up to window + 64 numbers).
 *
 * Single writer (the SA's owner worker); check before decryption (read only), update after the ICV verified.
 * Window 0 turns anti-replay off for the SA (RFC 4303 3.4.3 leaves it to the receiver; benchmarks replaying one
 * capture need it): every number passes, nothing counts lost; with ESN the high half is the one that puts the number
 * nearest the highest seen (within 2^31).
 */
#ifndef NPSGW_IPSEC_REPLAY_H
#define NPSGW_IPSEC_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define IPSEC_REPLAY_WINDOW_MIN 32
#define IPSEC_REPLAY_WINDOW_MAX 4096
#define IPSEC_REPLAY_WORDS (IPSEC_REPLAY_WINDOW_MAX / 64 + 1)

struct ipsec_replay {
	uint64_t top;     /* highest sequence number accepted (64 bits with ESN); 0: none yet */
	uint64_t lost;    /* numbers that left the window unseen */
	uint32_t window;  /* packets (IPSEC_REPLAY_WINDOW_MIN .. IPSEC_REPLAY_WINDOW_MAX); 0: anti-replay off */
	uint32_t n_words; /* ring words in use: ceil(window / 64) + 1 */
	uint64_t bits[IPSEC_REPLAY_WORDS];
};

enum ipsec_replay_result {
	IPSEC_REPLAY_OK = 0,
	IPSEC_REPLAY_DUP = 1, /* already received */
	IPSEC_REPLAY_OLD = 2, /* left of the window (or 0, or below 2^32 * 0 with ESN) */
};

/* A fresh window of window packets (clamped to [MIN, MAX]; 0: anti-replay off), nothing received yet. */
void ipsec_replay_init(struct ipsec_replay *r, uint32_t window);

/*
 * Is the packet with low-order sequence number seq acceptable? With esn, infers the high-order half from the window
 * (RFC 4303 A2.2); *full = the 64-bit number (the ICV must be checked with its high half). Read only.
 */
enum ipsec_replay_result ipsec_replay_check(const struct ipsec_replay *r, uint32_t seq, bool esn, uint64_t *full);

/*
 * The two halves of ipsec_replay_check, for callers checking several packets against a window that earlier ones
 * may move (nf/ipsec/ipsec_node_in.c): the 64-bit number of low half seq as seen from a window whose top is top
 * (false: it would come before number 0); and the verdict of the window as it is now on a 64-bit number.
 */
bool ipsec_replay_infer(const struct ipsec_replay *r, uint64_t top, uint32_t seq, bool esn, uint64_t *full);
enum ipsec_replay_result ipsec_replay_check_full(const struct ipsec_replay *r, uint64_t full);

/*
 * Record full (after its ICV verified): checks again (a duplicate earlier in the same burst may have been recorded
 * since the check) and moves the window. Returns OK when recorded; *newly_lost = numbers counted lost by this move.
 */
enum ipsec_replay_result ipsec_replay_update(struct ipsec_replay *r, uint64_t full, uint64_t *newly_lost);

#endif
