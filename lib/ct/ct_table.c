/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: the session table (rte_hash + session array), its transitory list and lookups, inserts and
 * deletes. Expiry and flush are in ct_expire.c, per-packet tracking in ct_track.c and ct_tcp.c.
 *
 * The hash maps a key to its session index, kept as the data word of the key's slot: a lookup reads it from the
 * slot it compared anyway (no further memory access), and the key is stored once (in the hash's key store; the
 * session remembers the slot for ct_session_key()). The hash has more entries than the session array (headroom,
 * see CT_HASH_HEADROOM_NUM); the array has exactly max_sessions entries and its own stack of free indexes. A free
 * session has state CT_S_FREE (an all-zero session).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

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

uint32_t ct_hash_entries(uint32_t max_sessions)
{
	uint64_t entries = RTE_MAX(max_sessions, CT_MIN_HASH_ENTRIES);
	uint64_t bucket_entries = rte_align64pow2(entries);

	if (bucket_entries * CT_HASH_HEADROOM_DEN < (uint64_t)max_sessions * CT_HASH_HEADROOM_NUM)
		entries = bucket_entries + 1; /* the next power of two up: twice the buckets */
	return entries > RTE_HASH_ENTRIES_MAX ? 0 : (uint32_t)entries;
}

struct ct_table *ct_table_create(const char *name, int socket, const struct ct_params *p)
{
	if (name == NULL || p == NULL || p->max_sessions == 0 || p->max_sessions > (CT_WHEEL_HEAD >> 1)) {
		rte_errno = EINVAL;
		return NULL;
	}
	uint32_t entries = ct_hash_entries(p->max_sessions);
	if (entries == 0) {
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
	t->n_slots = p->max_sessions;
	t->hash_entries = entries;
	t->params.max_sessions = p->max_sessions;
	params_store(t, p);
	t->trans_head = t->trans_tail = CT_NIL;
	for (uint32_t i = 0; i < CT_WHEEL_SLOTS; i++)
		t->wheel[i] = CT_NIL;

	/* Single writer, no locks: only the owning worker adds, deletes and looks up. The extendable buckets make an
	 * insert fail only when all key slots are taken, never because a bucket pair is crowded; with the headroom
	 * they are rarely used. */
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = t->hash_entries,
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
	t->free_idx = rte_malloc_socket("ct_free_idx", sizeof(uint32_t) * (size_t)t->n_slots, RTE_CACHE_LINE_SIZE,
					socket);
	if (t->sessions == NULL || t->free_idx == NULL) {
		rte_errno = ENOMEM;
		goto err_arrays;
	}
	/* Popped from the top: index 0 first, then upwards. */
	for (uint32_t i = 0; i < t->n_slots; i++)
		t->free_idx[i] = t->n_slots - 1 - i;
	t->n_free = t->n_slots;
	return t;

err_arrays:
	rte_free(t->free_idx);
	rte_free(t->sessions);
	rte_hash_free(t->hash);
err_table:
	rte_free(t);
	return NULL;
}

void ct_table_free(struct ct_table *t)
{
	if (t == NULL)
		return;
	rte_free(t->free_idx);
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
 * Memory one session costs, for a table whose max_sessions M is a power of two (the default 65536); an
 * approximation of rte_hash's layout in DPDK 22.11 (lib/hash/rte_cuckoo_hash.c), which is not public API. Such a
 * table's hash has M + 1 entries (ct_hash_entries()):
 *   - the session itself: 128 bytes;
 *   - its key slot: an 8-byte data word (the session index) + the 48-byte key, aligned to 16: 64 bytes;
 *   - its share of the buckets: a bucket is one cache line (8 x 2-byte signature, 8 x 4-byte key index, 8 flag
 *     bytes, a next pointer) holding 8 entries; there are pow2(M + 1) / 8 = 2M / 8 main buckets (the headroom) and
 *     as many extendable ones: 2 x 2 x 64 / 8 = 32 bytes;
 *   - its share of the hash's free-slot ring: 4-byte entries, pow2(M + 2) = 2M of them: 8 bytes;
 *   - the session array's free-index stack: 4 bytes.
 * Other sizes cost up to 32 bytes more (key slots up to 3/2 M). Fixed costs (the table struct with its 32 KB
 * wheel, the extendable-bucket ring) are left out.
 */
uint32_t ct_bytes_per_session(void)
{
	const uint32_t bucket_bytes = RTE_CACHE_LINE_SIZE, bucket_entries = 8;
	const uint32_t doubled = 2; /* pow2(M + 1) / M for a power of two M */
	uint32_t session = sizeof(struct ct_session);
	uint32_t key_slot = RTE_ALIGN(sizeof(void *) + sizeof(struct ct_key), 16);
	uint32_t buckets = 2 * doubled * bucket_bytes / bucket_entries;
	uint32_t hash_free_ring = doubled * sizeof(uint32_t);
	uint32_t free_stack = sizeof(uint32_t);

	return session + key_slot + buckets + hash_free_ring + free_stack;
}

/* ---- transitory list (oldest first) ---- */

void ct_trans_unlink(struct ct_table *t, uint32_t idx)
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

void ct_trans_append(struct ct_table *t, uint32_t idx)
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

/* ---- lookup, insert, delete ---- */

void ct_lookup_bulk(struct ct_table *t, const struct ct_key *const *keys, const uint32_t *hashes, unsigned n,
		    int32_t *idx)
{
	uint64_t hits = 0;
	void *data[RTE_HASH_LOOKUP_BULK_MAX];

	if (n == 0)
		return;
	/* rte_hash takes the signatures through a non-const pointer but only reads them. */
	if (rte_hash_lookup_with_hash_bulk_data(t->hash, (const void **)(uintptr_t)keys,
						(hash_sig_t *)(uintptr_t)hashes, n, &hits, data) < 0)
		hits = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!(hits & (1ull << i))) {
			idx[i] = -1;
			continue;
		}
		idx[i] = (int32_t)(uintptr_t)data[i];
		const char *s = (const char *)&t->sessions[idx[i]];
		rte_prefetch0(s);
		if (keys[i]->proto == IPPROTO_TCP)
			rte_prefetch0(s + RTE_CACHE_LINE_SIZE);
	}
}

int32_t ct_lookup(struct ct_table *t, const struct ct_key *k, uint32_t hash)
{
	void *data;

	if (rte_hash_lookup_with_hash_data(t->hash, k, hash, &data) < 0)
		return -1;
	return (int32_t)(uintptr_t)data;
}

struct ct_session *ct_session(struct ct_table *t, int32_t idx)
{
	if (idx < 0 || (uint32_t)idx >= t->n_slots)
		return NULL;
	return &t->sessions[idx];
}

struct ct_session *ct_sessions(struct ct_table *t)
{
	return t->sessions;
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
	if (rte_hash_get_key_with_position(t->hash, t->sessions[idx].hash_pos, &key) != 0)
		return NULL;
	return key;
}

/* Unlink and free a session; the caller counts why. */
void ct_remove(struct ct_table *t, uint32_t idx)
{
	struct ct_session *s = &t->sessions[idx];

	if (s->state == CT_S_FREE)
		return;
	const struct ct_key *k = ct_session_key(t, idx);
	ct_wheel_unlink(t, idx);
	if (s->flags & CT_F_IN_TRANS)
		ct_trans_unlink(t, idx);
	if (k != NULL)
		rte_hash_del_key_with_hash(t->hash, k, s->hash_sig);
	memset(s, 0, sizeof(*s));
	t->free_idx[t->n_free++] = idx;
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
	/* Adding a key that is present would overwrite its data word: ask first (the key's buckets are usually in
	 * cache: the caller's lookup just missed there). */
	if (rte_hash_lookup_with_hash(t->hash, k, hash) >= 0)
		return -EEXIST;
	if (t->stats.active >= t->max_sessions)
		ct_reap(t, now_ms, CT_REAP_ON_FULL); /* dead sessions the wheel has not reached yet go first */
	if (t->stats.active >= t->max_sessions) {
		if (CT_PARAM(t, full_policy) != CT_FULL_EVICT_TRANSITORY || t->trans_head == CT_NIL) {
			t->stats.refused_full++;
			return -ENOSPC;
		}
		ct_release_and_remove(t, t->trans_head);
		t->stats.evicted++;
	}
	uint32_t idx = t->free_idx[t->n_free - 1]; /* active < max_sessions: the stack is not empty */
	if (rte_hash_add_key_with_hash_data(t->hash, k, hash, (void *)(uintptr_t)idx) != 0) {
		t->stats.refused_full++; /* not expected: the hash has room for more keys than there are sessions */
		return -ENOSPC;
	}
	int32_t pos = rte_hash_lookup_with_hash(t->hash, k, hash);
	t->n_free--;
	struct ct_session *s = &t->sessions[idx];

	s->state = CT_S_NEW;
	s->init_side = (uint8_t)(init_side & 1);
	s->proto = k->proto;
	s->flags = 0;
	s->gen = t->gen;
	s->created_ms = now_ms;
	s->hash_pos = pos;
	s->hash_sig = hash;
	s->wheel_next = s->wheel_prev = CT_NIL;
	s->trans_next = s->trans_prev = CT_NIL;
	s->tcp[0].wscale = s->tcp[1].wscale = CT_WSCALE_NONE;
	s->expires_ms = now_ms + (uint64_t)ct_timeout_s(t, s->proto, s->state) * 1000;
	ct_wheel_start(t, now_ms);
	ct_wheel_file(t, idx);
	ct_trans_append(t, idx); /* NEW is transitory for every protocol */
	t->stats.created++;
	t->stats.active++;
	return (int32_t)idx;
}
