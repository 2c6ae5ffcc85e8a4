/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking housekeeping on the worker: the timer wheel walk and flush requests, a bounded amount of
 * work per call (never a full scan in one go).
 *
 * Wheel: slot s (second s modulo CT_WHEEL_SLOTS) is walked once the clock reaches s * 1000 ms. A session in a due
 * slot whose expiry has passed is released and deleted; one whose expiry moved later (a packet refreshed it, or
 * its timeout is longer than the wheel) is re-filed further on. The cursor stops in a slot when the budget runs
 * out and carries on there next call.
 *
 * Flush: the control thread posts a request by setting its VRF's bit in a pending set (one bit per VRF below
 * CT_FLUSH_VRFS, a summary bit per 64 of them, a flag for "every VRF") and then a new ticket. The worker takes the
 * whole pending set at once (atomic exchanges with 0) when a walk starts, walks the session array CT_FLUSH_CHUNK
 * slots per call deleting the sessions of those VRFs that existed when the walk started (generation older than the
 * walk), then publishes the last ticket it had seen before taking the set. Requests posted during a walk wait for
 * the next one. Any number of requests may be outstanding: a request is never widened to other VRFs.
 * A bit set after the worker read the ticket may still be taken by that walk: the walk started after the request,
 * so it removes every session the request names; the request's own ticket is published by the next walk.
 * One poster at a time (the control thread).
 */
#include <string.h>

#include <rte_hash.h>

#include "lib/ct/ct.h"
#include "lib/ct/ct_int.h"

static unsigned wheel_walk(struct ct_table *t, uint64_t now_ms, unsigned budget)
{
	uint64_t now_sec = now_ms / 1000;
	unsigned expired = 0, work = 0, max_work = budget * CT_REFILE_PER_EXPIRY;

	ct_wheel_start(t, now_ms);
	/* After a long pause every slot is due: one turn from here visits each of them, the older seconds add
	 * nothing (a session is judged by its expiry, not by the slot it sits in). */
	if (now_sec >= t->wheel_sec + CT_WHEEL_SLOTS)
		t->wheel_sec = now_sec - CT_WHEEL_SLOTS + 1;

	while (t->wheel_sec <= now_sec) {
		uint32_t *head = &t->wheel[t->wheel_sec & CT_WHEEL_MASK];

		while (*head != CT_NIL) {
			if (expired >= budget || work >= max_work)
				return expired;
			uint32_t idx = *head;
			struct ct_session *s = &t->sessions[idx];

			work++;
			ct_wheel_unlink(t, idx);
			if (s->expires_ms <= now_ms) {
				ct_release_and_remove(t, idx);
				t->stats.expired++;
				expired++;
			} else {
				/* Expiry > now >= this slot's second: files into a later slot, never this one. */
				ct_wheel_file(t, idx);
			}
		}
		t->wheel_sec++;
	}
	return expired;
}

/* Take every posted request into a new walk. False when there is none. */
static bool flush_start(struct ct_table *t)
{
	uint64_t posted = __atomic_load_n(&t->flush_posted, __ATOMIC_ACQUIRE);

	if (posted == t->flush_taken)
		return false;
	/* After reading posted (acquire): every bit of a ticket <= posted is set by now. */
	t->flush_all = __atomic_exchange_n(&t->flush_pending_all, 0, __ATOMIC_ACQ_REL) != 0;
	for (uint32_t s = 0; s < CT_FLUSH_SUMMARY_WORDS; s++) {
		/* Clear what the previous walk took, then take this walk's words. */
		for (uint64_t m = t->flush_sum[s]; m != 0; m &= m - 1)
			t->flush_vrfs[s * 64 + (uint32_t)__builtin_ctzll(m)] = 0;
		uint64_t sum = __atomic_exchange_n(&t->flush_pending_sum[s], 0, __ATOMIC_ACQ_REL);
		t->flush_sum[s] = sum;
		for (uint64_t m = sum; m != 0; m &= m - 1) {
			uint32_t w = s * 64 + (uint32_t)__builtin_ctzll(m);
			t->flush_vrfs[w] = __atomic_exchange_n(&t->flush_pending[w], 0, __ATOMIC_ACQ_REL);
		}
	}
	t->flush_upto = posted;
	t->flush_taken = posted;
	t->gen++;
	t->flush_gen = t->gen; /* sessions created from now on are not part of this flush */
	t->flush_pos = 0;
	t->flush_active = true;
	return true;
}

static bool flush_matches(const struct ct_table *t, uint32_t idx)
{
	const struct ct_session *s = &t->sessions[idx];

	if (s->state == CT_S_FREE || (int32_t)(s->gen - t->flush_gen) >= 0)
		return false;
	if (t->flush_all)
		return true;
	const struct ct_key *k = ct_session_key(t, idx);
	return k != NULL && k->vrf < CT_FLUSH_VRFS && (t->flush_vrfs[k->vrf / 64] >> (k->vrf % 64) & 1);
}

static unsigned flush_step(struct ct_table *t)
{
	unsigned removed = 0;

	if (!t->flush_active && !flush_start(t))
		return 0;
	uint32_t end = RTE_MIN(t->flush_pos + CT_FLUSH_CHUNK, t->n_slots);
	for (uint32_t idx = t->flush_pos; idx < end; idx++) {
		if (!flush_matches(t, idx))
			continue;
		ct_release_and_remove(t, idx);
		t->stats.flushed++;
		removed++;
	}
	t->flush_pos = end;
	if (end == t->n_slots) {
		t->flush_active = false;
		__atomic_store_n(&t->flush_done, t->flush_upto, __ATOMIC_RELEASE);
	}
	return removed;
}

unsigned ct_expire(struct ct_table *t, uint64_t now_ms, unsigned budget)
{
	unsigned removed = flush_step(t);
	return removed + wheel_walk(t, now_ms, budget);
}

bool ct_expire_behind(const struct ct_table *t, uint64_t now_ms)
{
	return t->wheel_started && t->wheel_sec <= now_ms / 1000;
}

void ct_expire_session(struct ct_table *t, int32_t idx)
{
	if (idx < 0 || (uint32_t)idx >= t->n_slots || t->sessions[idx].state == CT_S_FREE)
		return;
	ct_release_and_remove(t, (uint32_t)idx);
	t->stats.expired++;
}

unsigned ct_reap(struct ct_table *t, uint64_t now_ms, unsigned max)
{
	unsigned n = wheel_walk(t, now_ms, max);

	if (n > 0 || t->wheel_sec != now_ms / 1000 + 1)
		return n;
	/* Caught up: the next slot holds the sessions expiring during the current second, some of them already. */
	uint32_t idx = t->wheel[t->wheel_sec & CT_WHEEL_MASK];
	for (unsigned k = 0; idx != CT_NIL && k < max * CT_REFILE_PER_EXPIRY && n < max; k++) {
		uint32_t next = t->sessions[idx].wheel_next;
		if (t->sessions[idx].expires_ms <= now_ms) {
			ct_release_and_remove(t, idx);
			t->stats.expired++;
			n++;
		}
		idx = next;
	}
	return n;
}

uint64_t ct_flush_request(struct ct_table *t, uint32_t vrf)
{
	uint64_t ticket = t->flush_posted + 1; /* only this thread writes flush_posted */

	if (vrf == CT_VRF_ANY) {
		__atomic_store_n(&t->flush_pending_all, 1, __ATOMIC_RELEASE);
	} else if (vrf < CT_FLUSH_VRFS) {
		uint32_t w = vrf / 64;
		__atomic_fetch_or(&t->flush_pending[w], 1ull << (vrf % 64), __ATOMIC_RELEASE);
		__atomic_fetch_or(&t->flush_pending_sum[w / 64], 1ull << (w % 64), __ATOMIC_RELEASE);
	} /* else: no session can be flushed by VRF there (ct.h); the ticket still completes with the next walk */
	__atomic_store_n(&t->flush_posted, ticket, __ATOMIC_RELEASE);
	return ticket;
}

bool ct_flush_done(const struct ct_table *t, uint64_t ticket)
{
	return __atomic_load_n(&t->flush_done, __ATOMIC_ACQUIRE) >= ticket;
}
