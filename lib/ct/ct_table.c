/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: the session table (rte_hash + session array), its transitory list and lookups, inserts and
 * deletes. Expiry and flush are in ct_expire.c, per-packet tracking in ct_track.c and ct_tcp.c.
 *
 * The session array is indexed by the key slot rte_hash returns, so a lookup gives the session directly and the
 * key is stored once (in the hash's key store). A free slot has state CT_S_FREE (an all-zero session).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#include "lib/ct/ct.h"
#include "lib/ct/ct_int.h"

static void params_store(struct ct_table *t, const struct ct_params *p)
{
	/* Field by field so that the worker's relaxed loads never read a half-written field. */
#define CT_STORE(field) __atomic_store_n(&t->params.field, p->field, __ATOMIC_RELAXED)
	CT_STORE(timeouts.tcp_established);
	CT_STORE(timeouts.tcp_transitory);
	CT_STORE(timeouts.tcp_time_wait);
	CT_STORE(timeouts.tcp_closed);
	CT_STORE(timeouts.udp);
	CT_STORE(timeouts.icmp);
	CT_STORE(timeouts.other);
	CT_STORE(tcp_window_check);
	CT_STORE(tcp_loose);
	CT_STORE(full_policy);
#undef CT_STORE
}

struct ct_table *ct_table_create(const char *name, int socket, const struct ct_params *p)
{
	if (name == NULL || p == NULL || p->max_sessions == 0 || p->max_sessions > (CT_WHEEL_HEAD >> 1)) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* rte_hash would find out too, after logging an allocation failure for its ring. */
	if (rte_hash_find_existing(name) != NULL) {
		rte_errno = EEXIST;
		return NULL;
	}
	struct ct_table *t = rte_zmalloc_socket("ct_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->max_sessions = p->max_sessions;
	t->n_slots = RTE_MAX(p->max_sessions, CT_MIN_HASH_ENTRIES);
	t->params.max_sessions = p->max_sessions;
	params_store(t, p);
	t->trans_head = t->trans_tail = CT_NIL;
	for (uint32_t i = 0; i < CT_WHEEL_SLOTS; i++)
		t->wheel[i] = CT_NIL;

	/* Single writer, no locks: only the owning worker adds, deletes and looks up. The extendable buckets make an
	 * insert fail only when all n_slots key slots are taken, never because a bucket pair is crowded. */
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = t->n_slots,
		.key_len = sizeof(struct ct_key),
		.hash_func = ct_hash_func,
		.hash_func_init_val = ct_hash_seed(),
		.socket_id = socket,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL)
		goto err_table;
	t->sessions = rte_zmalloc_socket("ct_sessions", sizeof(struct ct_session) * (size_t)t->n_slots,
					 RTE_CACHE_LINE_SIZE, socket);
	if (t->sessions == NULL) {
		rte_errno = ENOMEM;
		goto err_hash;
	}
	return t;

err_hash:
	rte_hash_free(t->hash);
err_table:
	rte_free(t);
	return NULL;
}

void ct_table_free(struct ct_table *t)
{
	if (t == NULL)
		return;
	rte_free(t->sessions);
	rte_hash_free(t->hash);
	rte_free(t);
}

void ct_table_set_params(struct ct_table *t, const struct ct_params *p)
{
	params_store(t, p);
}

const struct ct_params *ct_table_params(const struct ct_table *t)
{
	return &t->params;
}

uint32_t ct_table_capacity(const struct ct_table *t)
{
	return t->n_slots;
}

const struct ct_stats *ct_table_stats(const struct ct_table *t)
{
	return &t->stats;
}

void ct_set_release_cb(struct ct_table *t, ct_release_fn fn, void *arg)
{
	t->release = fn;
	t->release_arg = arg;
}

/*
 * Memory one session costs, for a table whose capacity is a power of two (the default 65536); an approximation
 * of rte_hash's layout in DPDK 22.11 (lib/hash/rte_cuckoo_hash.c), which is not public API:
 *   - the session itself: 128 bytes;
 *   - its key slot in the key store: an 8-byte data pointer + the 48-byte key, aligned to 16: 64 bytes;
 *   - its share of the buckets: a bucket is one cache line (8 x 2-byte signature, 8 x 4-byte key index, 8 flag
 *     bytes, a next pointer) holding 8 entries; there are capacity/8 main buckets and as many extendable ones:
 *     2 x 64 / 8 = 16 bytes;
 *   - its share of the free-slot ring: 4-byte entries in a ring rounded up to a power of two above capacity + 1,
 *     so twice the capacity for a power of two: 8 bytes.
 * Fixed costs (the table struct with its 32 KB wheel, the extendable-bucket ring) are left out.
 */
uint32_t ct_bytes_per_session(void)
{
	const uint32_t bucket_bytes = RTE_CACHE_LINE_SIZE, bucket_entries = 8;
	uint32_t session = sizeof(struct ct_session);
	uint32_t key_slot = RTE_ALIGN(sizeof(void *) + sizeof(struct ct_key), 16);
	uint32_t buckets = 2 * bucket_bytes / bucket_entries;
	uint32_t free_ring = 2 * sizeof(uint32_t);

	return session + key_slot + buckets + free_ring;
}

/* ---- transitory list (oldest first) ---- */

static void trans_unlink(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];

	if (s->trans_prev == CT_NIL)
		t->trans_head = s->trans_next;
	else
		t->sessions[s->trans_prev].trans_next = s->trans_next;
	if (s->trans_next == CT_NIL)
		t->trans_tail = s->trans_prev;
	else
		t->sessions[s->trans_next].trans_prev = s->trans_prev;
	s->trans_next = s->trans_prev = CT_NIL;
	s->flags &= ~CT_F_IN_TRANS;
}

static void trans_append(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];

	s->trans_next = CT_NIL;
	s->trans_prev = t->trans_tail;
	if (t->trans_tail == CT_NIL)
		t->trans_head = idx;
	else
		t->sessions[t->trans_tail].trans_next = idx;
	t->trans_tail = idx;
	s->flags |= CT_F_IN_TRANS;
}

/* Put the session on the transitory list or take it off, as its state says. Re-entry goes to the tail. */
void ct_trans_update(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];
	bool want = ct_state_transitory(s->proto, s->state);
	bool on = (s->flags & CT_F_IN_TRANS) != 0;

	if (want && !on)
		trans_append(t, idx);
	else if (!want && on)
		trans_unlink(t, idx);
}

/* ---- timer wheel: filing (walking is in ct_expire.c) ---- */

void ct_wheel_unlink(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];

	if (!(s->flags & CT_F_ON_WHEEL))
		return;
	if (s->wheel_prev & CT_WHEEL_HEAD) /* session indexes stay below CT_WHEEL_HEAD */
		t->wheel[s->wheel_prev & CT_WHEEL_MASK] = s->wheel_next;
	else
		t->sessions[s->wheel_prev].wheel_next = s->wheel_next;
	if (s->wheel_next != CT_NIL)
		t->sessions[s->wheel_next].wheel_prev = s->wheel_prev;
	s->wheel_next = s->wheel_prev = CT_NIL;
	s->flags &= ~CT_F_ON_WHEEL;
}

/* The second whose slot must hold a session expiring at expires_ms: the first whole second at or after it (a slot
 * is walked once the clock reaches its second), never behind the cursor, at most one turn ahead of it. */
static uint64_t wheel_target_sec(const struct ct_table *t, uint64_t expires_ms)
{
	uint64_t sec = (expires_ms + 999) / 1000;

	if (sec < t->wheel_sec)
		sec = t->wheel_sec;
	if (sec > t->wheel_sec + CT_WHEEL_SLOTS - 1)
		sec = t->wheel_sec + CT_WHEEL_SLOTS - 1;
	return sec;
}

void ct_wheel_start(struct ct_table *t, uint64_t now_ms)
{
	if (!t->wheel_started) {
		t->wheel_sec = now_ms / 1000;
		t->wheel_started = true;
	}
}

void ct_wheel_file(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];
	uint32_t slot = (uint32_t)(wheel_target_sec(t, s->expires_ms) & CT_WHEEL_MASK);
	uint32_t first = t->wheel[slot];

	s->wheel_prev = CT_WHEEL_HEAD | slot;
	s->wheel_next = first;
	if (first != CT_NIL)
		t->sessions[first].wheel_prev = idx;
	t->wheel[slot] = idx;
	s->flags |= CT_F_ON_WHEEL;
}

/*
 * A packet moved the expiry. Later (the usual case): only the field changes, the wheel re-files the session when
 * it reaches the old slot. Earlier (e.g. ESTABLISHED -> CLOSED after a RST): the session is re-filed now, or it
 * would live until its old slot. Invariant: a session is filed no later than its expiry's second.
 */
void ct_wheel_set_expiry(struct ct_table *t, uint32_t idx, uint64_t expires_ms)
{
	struct ct_session *s = &t->sessions[idx];
	uint64_t old = s->expires_ms;

	s->expires_ms = expires_ms;
	if ((expires_ms + 999) / 1000 < (old + 999) / 1000) {
		ct_wheel_unlink(t, idx);
		ct_wheel_file(t, idx);
	}
}

/* ---- lookup, insert, delete ---- */

void ct_lookup_bulk(struct ct_table *t, const struct ct_key *const *keys, const uint32_t *hashes, unsigned n,
		    int32_t *idx)
{
	if (n == 0)
		return;
	/* rte_hash takes the signatures through a non-const pointer but only reads them. */
	if (rte_hash_lookup_with_hash_bulk(t->hash, (const void **)(uintptr_t)keys, (hash_sig_t *)(uintptr_t)hashes,
					   n, idx) < 0) {
		for (unsigned i = 0; i < n; i++)
			idx[i] = -1;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (idx[i] < 0)
			idx[i] = -1;
}

int32_t ct_lookup(struct ct_table *t, const struct ct_key *k, uint32_t hash)
{
	int32_t pos = rte_hash_lookup_with_hash(t->hash, k, hash);
	return pos < 0 ? -1 : pos;
}

struct ct_session *ct_session(struct ct_table *t, int32_t idx)
{
	if (idx < 0 || (uint32_t)idx >= t->n_slots)
		return NULL;
	return &t->sessions[idx];
}

const struct ct_session *ct_session_const(const struct ct_table *t, uint32_t idx)
{
	if (idx >= t->n_slots)
		return NULL;
	return &t->sessions[idx];
}

const struct ct_key *ct_session_key(const struct ct_table *t, uint32_t idx)
{
	void *key;

	if (idx >= t->n_slots || t->sessions[idx].state == CT_S_FREE)
		return NULL;
	if (rte_hash_get_key_with_position(t->hash, (int32_t)idx, &key) != 0)
		return NULL;
	return key;
}

/* Unlink and free a slot; the caller counts why. */
void ct_remove(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];

	if (s->state == CT_S_FREE)
		return;
	const struct ct_key *k = ct_session_key(t, idx);
	ct_wheel_unlink(t, idx);
	if (s->flags & CT_F_IN_TRANS)
		trans_unlink(t, idx);
	if (k != NULL)
		rte_hash_del_key(t->hash, k);
	memset(s, 0, sizeof(*s));
	t->stats.active--;
}

/* Expired, flushed or evicted: the owner releases what it attached to the session first. */
void ct_release_and_remove(struct ct_table *t, uint32_t idx)
{
	if (t->release != NULL)
		t->release(t->release_arg, t, idx);
	ct_remove(t, idx);
}

void ct_delete(struct ct_table *t, int32_t idx)
{
	if (idx < 0 || (uint32_t)idx >= t->n_slots || t->sessions[idx].state == CT_S_FREE)
		return;
	ct_remove(t, (uint32_t)idx);
	t->stats.deleted++;
}

int32_t ct_insert(struct ct_table *t, const struct ct_key *k, uint32_t hash, unsigned init_side, uint64_t now_ms)
{
	if (t->stats.active >= t->max_sessions) {
		/* rte_hash takes a free slot before looking for the key, so ask first whether it is there. */
		if (rte_hash_lookup_with_hash(t->hash, k, hash) >= 0)
			return -EEXIST;
		if (CT_PARAM(t, full_policy) != CT_FULL_EVICT_TRANSITORY || t->trans_head == CT_NIL) {
			t->stats.refused_full++;
			return -ENOSPC;
		}
		ct_release_and_remove(t, t->trans_head);
		t->stats.evicted++;
	}
	int32_t pos = rte_hash_add_key_with_hash(t->hash, k, hash);
	if (pos < 0) {
		t->stats.refused_full++;
		return -ENOSPC;
	}
	struct ct_session *s = &t->sessions[pos];
	if (s->state != CT_S_FREE)
		return -EEXIST; /* rte_hash returned the existing key's slot */

	s->state = CT_S_NEW;
	s->init_side = (uint8_t)(init_side & 1);
	s->proto = k->proto;
	s->flags = 0;
	s->gen = t->gen;
	s->created_ms = now_ms;
	s->wheel_next = s->wheel_prev = CT_NIL;
	s->trans_next = s->trans_prev = CT_NIL;
	s->tcp[0].wscale = s->tcp[1].wscale = CT_WSCALE_NONE;
	s->expires_ms = now_ms + (uint64_t)ct_timeout_s(t, s->proto, s->state) * 1000;
	ct_wheel_start(t, now_ms);
	ct_wheel_file(t, (uint32_t)pos);
	trans_append(t, (uint32_t)pos); /* NEW is transitory for every protocol */
	t->stats.created++;
	t->stats.active++;
	return pos;
}

uint32_t ct_timeout_s(const struct ct_table *t, uint8_t proto, uint8_t state)
{
	const struct ct_timeouts *to = &t->params.timeouts;

#define CT_LOAD(field) __atomic_load_n(&to->field, __ATOMIC_RELAXED)
	switch (proto) {
	case IPPROTO_TCP:
		switch (state) {
		case CT_S_ESTABLISHED:
			return CT_LOAD(tcp_established);
		case CT_S_TIME_WAIT:
			return CT_LOAD(tcp_time_wait);
		case CT_S_CLOSED:
			return CT_LOAD(tcp_closed);
		default:
			return CT_LOAD(tcp_transitory);
		}
	case IPPROTO_UDP:
		return CT_LOAD(udp);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return CT_LOAD(icmp);
	default:
		return CT_LOAD(other);
	}
#undef CT_LOAD
}
