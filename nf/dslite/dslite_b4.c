/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker B4 table: (AFTR, B4 IPv6 address) -> softwire index, the index naming the B4 in the NAT realm
 * (NAT_REALM_B4 | index). An entry lives while the engine has a subscriber for its realm; once that is gone (its
 * last block released) and the B4 has been quiet for DSLITE_B4_GRACE_MS, the house recycles the index: no session,
 * mapping or fragment-map entry can name it any more. Worker only (its own table).
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>

#include "nf/dslite/dslite_int.h"

int32_t dslite_b4_find(struct dslite_worker *dw, uint16_t aftr, const uint8_t b4[16])
{
	struct dslite_b4_key k = {.aftr = aftr};
	memcpy(k.addr, b4, 16);
	int32_t pos = rte_hash_lookup(dw->b4s, &k);
	return pos >= 0 && (uint32_t)pos < dw->max_b4 ? pos : -1;
}

/* A B4 the lookup missed: a new entry (worker clock now), or -1 when the table is full. */
static int32_t b4_add(struct dslite_worker *dw, const struct dslite_b4_key *k, hash_sig_t sig, uint64_t now)
{
	int32_t pos = rte_hash_add_key_with_hash(dw->b4s, k, sig);
	if (pos < 0 || (uint32_t)pos >= dw->max_b4) {
		if (pos >= 0)
			rte_hash_del_key_with_hash(dw->b4s, k, sig);
		return -1;
	}
	struct dslite_b4 *e = &dw->b4[pos];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, k->addr, 16);
	e->aftr = (uint16_t)k->aftr;
	e->created_ms = e->last_ms = now;
	__atomic_store_n(&e->used, 1, __ATOMIC_RELEASE);
	dw->n_b4++;
	dw->cnt[DSLITE_CNT_b4_created]++;
	return pos;
}

int32_t dslite_b4_get(struct dslite_worker *dw, const struct dslite_aftr_rt *a, const uint8_t b4[16], uint64_t now)
{
	struct dslite_b4_key k = {.aftr = a->slot};
	memcpy(k.addr, b4, 16);
	hash_sig_t sig = rte_hash_hash(dw->b4s, &k);
	int32_t pos = rte_hash_lookup_with_hash(dw->b4s, &k, sig);
	if (likely(pos >= 0)) {
		dw->b4[pos].last_ms = now;
		return pos;
	}
	return b4_add(dw, &k, sig, now);
}

void dslite_b4_get_bulk(struct dslite_worker *dw, const struct dslite_b4_key *const *keys, unsigned n, uint64_t now,
			int32_t *pos)
{
	if (n == 0)
		return;
	if (rte_hash_lookup_bulk(dw->b4s, (const void **)(uintptr_t)keys, n, pos) != 0)
		for (unsigned i = 0; i < n; i++)
			pos[i] = -ENOENT;
	for (unsigned i = 0; i < n; i++) {
		if (likely(pos[i] >= 0)) {
			dw->b4[pos[i]].last_ms = now;
			continue;
		}
		/* A new B4 (in order: a later packet of the same B4 finds the entry this one makes). */
		hash_sig_t sig = rte_hash_hash(dw->b4s, keys[i]);
		pos[i] = rte_hash_lookup_with_hash(dw->b4s, keys[i], sig);
		if (pos[i] >= 0)
			dw->b4[pos[i]].last_ms = now;
		else
			pos[i] = b4_add(dw, keys[i], sig, now);
	}
}

void dslite_b4_reap(struct dslite_worker *dw, struct nat_worker *nw, uint64_t now)
{
	if (dw->n_b4 == 0)
		return;
	for (unsigned n = 0; n < DSLITE_B4_REAP_BATCH; n++) {
		uint32_t i = dw->reap_pos;
		dw->reap_pos = i + 1 < dw->max_b4 ? i + 1 : 0;
		struct dslite_b4 *e = &dw->b4[i];
		if (!e->used || now - e->last_ms < DSLITE_B4_GRACE_MS)
			continue;
		struct nat_skey sk = {.realm = NAT_REALM_B4 | i, .addr = 0};
		if (nw != NULL && rte_hash_lookup(nw->subs, &sk) >= 0)
			continue; /* its subscriber still holds blocks: sessions or mappings may name the realm */
		struct dslite_b4_key k = {.aftr = e->aftr};
		memcpy(k.addr, e->addr, 16);
		__atomic_store_n(&e->used, 0, __ATOMIC_RELEASE);
		rte_hash_del_key(dw->b4s, &k);
		dw->n_b4--;
		dw->cnt[DSLITE_CNT_b4_freed]++;
	}
}
