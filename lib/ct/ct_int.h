/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracker internals shared by the lib/ct sources (and the unit test). Not for users of the library.
 *
 * Ownership: everything in struct ct_table belongs to the owning worker except
 *   - params: written by the control thread (ct_table_set_params), field by field with relaxed atomics; the worker
 *     reads each field with a relaxed load (a packet may see a mix of old and new fields, which is harmless);
 *   - flush_posted: written by the control thread only (one poster at a time);
 *   - flush_pending[], flush_pending_sum[], flush_pending_all: set by the control thread (atomic OR / store), taken
 *     by the worker (atomic exchange with 0) when a flush walk starts;
 *   - flush_done: written by the worker (release), read by the control thread (acquire).
 * The control thread may also read sessions and stats for display (torn reads tolerated).
 */
#ifndef NPSGW_CT_INT_H
#define NPSGW_CT_INT_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "lib/ct/ct.h"

/* Timer wheel: 1-second slots. 8192 s (2 h 16 min) covers tcp_established's default 7440 s in one turn; a longer
 * timeout is filed at the far end of the wheel and re-filed when reached early. */
#define CT_WHEEL_SLOTS 8192u
#define CT_WHEEL_MASK (CT_WHEEL_SLOTS - 1)
/* The first session of a slot has wheel_prev = CT_WHEEL_HEAD | slot, so it can be unlinked without a search. */
#define CT_WHEEL_HEAD 0x80000000u

/* Flush requests name VRFs below this (a bit each in the pending set); the summary has a bit per 64 VRFs. */
#define CT_FLUSH_VRFS 65536u
#define CT_FLUSH_WORDS (CT_FLUSH_VRFS / 64)
#define CT_FLUSH_SUMMARY_WORDS (CT_FLUSH_WORDS / 64)
/* Session slots a flush walks per ct_expire() call. */
#define CT_FLUSH_CHUNK 1024u

/* Work bound of ct_expire(): re-filing a refreshed session is cheaper than expiring one but still counts; a call
 * examines at most budget * CT_REFILE_PER_EXPIRY sessions. */
#define CT_REFILE_PER_EXPIRY 4u

/* rte_hash needs at least one bucket's worth of entries. */
#define CT_MIN_HASH_ENTRIES 8u
/*
 * Bucket headroom: the hash's buckets hold at most 2/3 of their entries when max_sessions keys are in, so an insert
 * finds room in the key's own two buckets instead of shuffling keys along cuckoo paths, as it must in a full
 * table. rte_hash makes pow2(entries) / 8 buckets of 8 entries and entries + 1 key slots; the table asks for
 * max_sessions entries when pow2(max_sessions) is already >= 3/2 x max_sessions, else for pow2(max_sessions) + 1
 * (which doubles the buckets): the key store (64 bytes a slot) stays between 1x and 3/2 x max_sessions, 1x for a
 * power of two. See ct_hash_entries().
 */
#define CT_HASH_HEADROOM_NUM 3u
#define CT_HASH_HEADROOM_DEN 2u

/* Window scale of a side that did not offer the option. */
#define CT_WSCALE_NONE 0xff
/* RFC 7323 section 2.3: a shift above 14 is treated as 14. */
#define CT_WSCALE_MAX 14

struct ct_table {
	/* Worker-owned. */
	struct rte_hash *hash;        /* key -> session index (the key slot's data word) */
	struct ct_session *sessions;
	uint32_t *free_idx;           /* stack of free session indexes */
	uint32_t n_free;
	uint32_t n_slots;             /* session array length: max_sessions */
	uint32_t max_sessions;        /* sessions allowed at once */
	uint32_t hash_entries;        /* rte_hash entries: ct_hash_entries(max_sessions) */
	struct ct_stats stats;
	ct_release_fn release;
	void *release_arg;
	uint32_t gen;        /* bumped when a flush starts: sessions older than the flush have gen < flush_gen */
	uint32_t trans_head; /* transitory list: oldest first */
	uint32_t trans_tail;
	uint64_t wheel_sec; /* next second (slot) to process; valid once wheel_started */
	bool wheel_started;

	/* Worker-owned state of the flush being carried out. */
	bool flush_active;
	bool flush_all;
	uint32_t flush_gen;
	uint32_t flush_pos;
	uint64_t flush_upto; /* ticket published when the walk ends */
	uint64_t flush_taken; /* last ticket the worker has taken into a walk (== flush_done when idle) */
	uint64_t flush_sum[CT_FLUSH_SUMMARY_WORDS]; /* the walk's words of flush_vrfs[] that may be non-zero */
	uint64_t flush_vrfs[CT_FLUSH_WORDS];         /* the walk's VRFs, a bit each */

	/* Control-thread side (see the ownership note above). */
	alignas(RTE_CACHE_LINE_SIZE) struct ct_params params;
	uint64_t flush_posted;
	uint32_t flush_pending_all;                             /* a flush of every VRF is pending */
	uint64_t flush_pending_sum[CT_FLUSH_SUMMARY_WORDS];     /* bit w: flush_pending[w] may be non-zero */
	alignas(RTE_CACHE_LINE_SIZE) uint64_t flush_pending[CT_FLUSH_WORDS]; /* VRFs to flush, a bit each */

	/* Worker-published. */
	alignas(RTE_CACHE_LINE_SIZE) uint64_t flush_done;

	alignas(RTE_CACHE_LINE_SIZE) uint32_t wheel[CT_WHEEL_SLOTS]; /* first session of each slot, CT_NIL if none */
};


/* The table's rte_hash function and seed (ct_key.c): the same as ct_key_hash(). */
uint32_t ct_hash_func(const void *key, uint32_t key_len, uint32_t init_val);
uint32_t ct_hash_seed(void);

/* Per-field relaxed read of a parameter. */
#define CT_PARAM(t, field) __atomic_load_n(&(t)->params.field, __ATOMIC_RELAXED)

/* Transitory: every TCP state but ESTABLISHED; NEW for the others (ct_state_transitory()). */
static inline bool ct_transitory(uint8_t proto, uint8_t state)
{
	if (proto == IPPROTO_TCP)
		return state != CT_S_ESTABLISHED && state != CT_S_FREE;
	return state == CT_S_NEW;
}

/* Timeout in seconds of a session of proto in state (relaxed read of the run-time parameters). */
static inline uint32_t ct_timeout_s(const struct ct_table *t, uint8_t proto, uint8_t state)
{
	switch (proto) {
	case IPPROTO_TCP:
		switch (state) {
		case CT_S_ESTABLISHED:
			return CT_PARAM(t, timeouts.tcp_established);
		case CT_S_TIME_WAIT:
			return CT_PARAM(t, timeouts.tcp_time_wait);
		case CT_S_CLOSED:
			return CT_PARAM(t, timeouts.tcp_closed);
		default:
			return CT_PARAM(t, timeouts.tcp_transitory);
		}
	case IPPROTO_UDP:
		return CT_PARAM(t, timeouts.udp);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return CT_PARAM(t, timeouts.icmp);
	default:
		return CT_PARAM(t, timeouts.other);
	}
}

/* Wheel and transitory list maintenance (ct_table.c). */
void ct_wheel_start(struct ct_table *t, uint64_t now_ms); /* first use: the cursor starts at now */
void ct_wheel_file(struct ct_table *t, uint32_t idx);
void ct_wheel_unlink(struct ct_table *t, uint32_t idx);
void ct_trans_append(struct ct_table *t, uint32_t idx); /* to the tail (newest) */
void ct_trans_unlink(struct ct_table *t, uint32_t idx);

/*
 * Put the session on the transitory list or take it off, as its state says. Re-entry goes to the tail. Inline:
 * every packet asks, and the answer is nearly always "nothing to do".
 */
static inline void ct_trans_update(struct ct_table *t, uint32_t idx)
{
	const struct ct_session *s = &t->sessions[idx];
	bool want = ct_transitory(s->proto, s->state);
	bool on = (s->flags & CT_F_IN_TRANS) != 0;

	if (unlikely(want != on)) {
		if (want)
			ct_trans_append(t, idx);
		else
			ct_trans_unlink(t, idx);
	}
}

/*
 * A packet moved the expiry. Later (the usual case): only the field changes, the wheel re-files the session when
 * it reaches the old slot. Earlier (e.g. ESTABLISHED -> CLOSED after a RST): the session is re-filed now, or it
 * would live until its old slot. Invariant: a session is filed no later than its expiry's second.
 */
static inline void ct_wheel_set_expiry(struct ct_table *t, uint32_t idx, uint64_t expires_ms)
{
	struct ct_session *s = &t->sessions[idx];
	uint64_t old = s->expires_ms;

	s->expires_ms = expires_ms;
	if (unlikely(expires_ms < old) && (expires_ms + 999) / 1000 < (old + 999) / 1000) {
		ct_wheel_unlink(t, idx);
		ct_wheel_file(t, idx);
	}
}

/* Free a slot (off the wheel, off the transitory list, out of the hash); counting is the caller's. */
void ct_remove(struct ct_table *t, uint32_t idx);
/* The same after calling the release callback. */
void ct_release_and_remove(struct ct_table *t, uint32_t idx);

/* Free up to max sessions whose expiry has passed (a full table's insert): the due wheel slots, then the slot of
 * the current second. Returns how many went (counted expired). */
#define CT_REAP_ON_FULL 8u
unsigned ct_reap(struct ct_table *t, uint64_t now_ms, unsigned max);

/* TCP tracking (ct_tcp.c): checks a segment and, when CT_OK, applies it to s (state, windows, flags). */
int ct_tcp_track(const struct ct_table *t, struct ct_session *s, unsigned side, const struct ct_pkt *p);

#endif
