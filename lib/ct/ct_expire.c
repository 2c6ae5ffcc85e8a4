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
 * Flush: the control thread posts requests in a small ring (CT_FLUSH_QUEUE) with increasing tickets. The worker
 * takes every posted request at once, walks the session array CT_FLUSH_CHUNK slots per call deleting the sessions
 * that match any of them and that existed when the walk started (generation older than the walk), then publishes
 * the last ticket it took as done. Requests posted during a walk wait for the next walk. If the control thread
 * posts more than CT_FLUSH_QUEUE requests that the worker has not finished, the extra ones become a flush of every
 * VRF (a superset of what was asked): requests are rare, this only keeps the ring lock-free and bounded.
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
	/* Read after posted (acquire): an overflowed ticket <= posted is visible here. */
	bool all = __atomic_load_n(&t->flush_any_upto, __ATOMIC_ACQUIRE) > t->flush_taken;

	t->flush_n_vrf = 0;
	for (uint64_t ticket = t->flush_taken + 1; !all && ticket <= posted; ticket++) {
		uint32_t vrf = __atomic_load_n(&t->flush_vrf[ticket % CT_FLUSH_QUEUE], __ATOMIC_RELAXED);
		if (vrf == CT_VRF_ANY)
			all = true;
		else
			t->flush_vrfs[t->flush_n_vrf++] = vrf;
	}
	t->flush_all = all;
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
	if (k == NULL)
		return false;
	for (uint32_t i = 0; i < t->flush_n_vrf; i++)
		if (k->vrf == t->flush_vrfs[i])
			return true;
	return false;
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

uint64_t ct_flush_request(struct ct_table *t, uint32_t vrf)
{
	uint64_t done = __atomic_load_n(&t->flush_done, __ATOMIC_ACQUIRE);
	uint64_t ticket = t->flush_posted + 1; /* only this thread writes flush_posted */

	/* The ring slot of this ticket is free once ticket - CT_FLUSH_QUEUE is done (the worker read it). */
	if (ticket - done > CT_FLUSH_QUEUE)
		__atomic_store_n(&t->flush_any_upto, ticket, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&t->flush_vrf[ticket % CT_FLUSH_QUEUE], vrf, __ATOMIC_RELAXED);
	__atomic_store_n(&t->flush_posted, ticket, __ATOMIC_RELEASE);
	return ticket;
}

bool ct_flush_done(const struct ct_table *t, uint64_t ticket)
{
	return __atomic_load_n(&t->flush_done, __ATOMIC_ACQUIRE) >= ticket;
}
