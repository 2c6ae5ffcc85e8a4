/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracker internals shared by the lib/ct sources (and the unit test). Not for users of the library.
 *
 * Ownership: everything in struct ct_table belongs to the owning worker except
 *   - params: written by the control thread (ct_table_set_params), field by field with relaxed atomics; the worker
 *     reads each field with a relaxed load (a packet may see a mix of old and new fields, which is harmless);
 *   - flush_posted, flush_any_upto, flush_vrf[]: written by the control thread only (one poster at a time);
 *   - flush_done: written by the worker (release), read by the control thread (acquire).
 * The control thread may also read sessions and stats for display (torn reads tolerated).
 */
#ifndef NPSGW_CT_INT_H
#define NPSGW_CT_INT_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "lib/ct/ct.h"

/* Timer wheel: 1-second slots. 8192 s (2 h 16 min) covers tcp_established's default 7440 s in one turn; a longer
 * timeout is filed at the far end of the wheel and re-filed when reached early. */
#define CT_WHEEL_SLOTS 8192u
#define CT_WHEEL_MASK (CT_WHEEL_SLOTS - 1)
/* The first session of a slot has wheel_prev = CT_WHEEL_HEAD | slot, so it can be unlinked without a search. */
#define CT_WHEEL_HEAD 0x80000000u

/* Flush requests the control thread may have outstanding before a new one turns into a flush of everything. */
#define CT_FLUSH_QUEUE 16u
/* Session slots a flush walks per ct_expire() call. */
#define CT_FLUSH_CHUNK 1024u

/* Work bound of ct_expire(): re-filing a refreshed session is cheaper than expiring one but still counts; a call
 * examines at most budget * CT_REFILE_PER_EXPIRY sessions. */
#define CT_REFILE_PER_EXPIRY 4u

/* rte_hash needs at least one bucket's worth of entries. */
#define CT_MIN_HASH_ENTRIES 8u

/* Window scale of a side that did not offer the option. */
#define CT_WSCALE_NONE 0xff
/* RFC 7323 section 2.3: a shift above 14 is treated as 14. */
#define CT_WSCALE_MAX 14

struct ct_table {
	/* Worker-owned. */
	struct rte_hash *hash;
	struct ct_session *sessions;
	uint32_t n_slots;      /* session array length (>= max_sessions, rte_hash needs >= 8) */
	uint32_t max_sessions; /* sessions allowed at once */
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
	uint32_t flush_n_vrf;
	uint32_t flush_gen;
	uint32_t flush_pos;
	uint64_t flush_upto; /* ticket published when the walk ends */
	uint64_t flush_taken; /* last ticket the worker has taken into a walk (== flush_done when idle) */
	uint32_t flush_vrfs[CT_FLUSH_QUEUE];

	/* Control-thread side (see the ownership note above). */
	alignas(RTE_CACHE_LINE_SIZE) struct ct_params params;
	uint64_t flush_posted;
	uint64_t flush_any_upto;
	uint32_t flush_vrf[CT_FLUSH_QUEUE];

	/* Worker-published. */
	alignas(RTE_CACHE_LINE_SIZE) uint64_t flush_done;

	alignas(RTE_CACHE_LINE_SIZE) uint32_t wheel[CT_WHEEL_SLOTS]; /* first session of each slot, CT_NIL if none */
};

/* The table's rte_hash function and seed (ct_key.c): the same as ct_key_hash(). */
uint32_t ct_hash_func(const void *key, uint32_t key_len, uint32_t init_val);
uint32_t ct_hash_seed(void);

/* Timeout in seconds of a session of proto in state (relaxed read of the run-time parameters). */
uint32_t ct_timeout_s(const struct ct_table *t, uint8_t proto, uint8_t state);
/* Per-field relaxed read of a boolean parameter. */
#define CT_PARAM(t, field) __atomic_load_n(&(t)->params.field, __ATOMIC_RELAXED)

/* Wheel and transitory list maintenance (ct_table.c). */
void ct_wheel_start(struct ct_table *t, uint64_t now_ms); /* first use: the cursor starts at now */
void ct_wheel_file(struct ct_table *t, uint32_t idx);
void ct_wheel_unlink(struct ct_table *t, uint32_t idx);
void ct_wheel_set_expiry(struct ct_table *t, uint32_t idx, uint64_t expires_ms);
void ct_trans_update(struct ct_table *t, uint32_t idx);
/* Free a slot (off the wheel, off the transitory list, out of the hash); counting is the caller's. */
void ct_remove(struct ct_table *t, uint32_t idx);
/* The same after calling the release callback. */
void ct_release_and_remove(struct ct_table *t, uint32_t idx);

/* TCP tracking (ct_tcp.c): checks a segment and, when CT_OK, applies it to s (state, windows, flags). */
int ct_tcp_track(const struct ct_table *t, struct ct_session *s, unsigned side, const struct ct_pkt *p);

#endif
