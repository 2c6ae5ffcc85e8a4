/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fragment table (fw_frag.h): a fixed array of 4-way buckets indexed by a CRC of the datagram key. A full
 * bucket refuses the datagram (counted) instead of evicting: a flood of bogus fragments then costs the flood, not
 * the table's other datagrams. Entries are 128 bytes: key, verdict, ranges and the hold queue in two cache lines.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "nf/fw/fw_frag.h"

#define FRAG_WAYS 4
#define FRAG_EXPIRE_BUCKETS 32 /* buckets looked at per fw_frag_expire() call */

#define FRAG_TCP_SEGMENT 0x01 /* tcp_base and the flags below are set */
#define FRAG_TCP_SIDE1 0x02   /* the sender is key side 1 */
#define FRAG_TCP_FIN 0x04
#define FRAG_TCP_DONE 0x08    /* the session was extended */

struct frag_range {
	uint16_t lo, hi; /* [lo, hi) in bytes of the fragmentable part; hi <= 65535 */
};

struct fw_frag_entry {
	struct fw_frag_key key;
	uint8_t used;
	uint8_t verdict; /* enum fw_frag_verdict */
	uint8_t n_ranges;
	uint8_t n_held;
	int32_t session;
	uint16_t end; /* the datagram's length once its last fragment was seen; 0: not yet */
	uint8_t tcp;  /* FRAG_TCP_* */
	uint8_t pad;
	uint32_t tcp_base;   /* struct fw_frag_tcp.base */
	uint32_t expires_ms; /* the worker's clock, modulo 2^32 (compared as a difference) */
	struct frag_range ranges[FW_FRAG_MAX_RANGES];
	struct rte_mbuf *held[FW_FRAG_HOLD];
} __rte_aligned(64);

struct fw_frag_table {
	uint32_t mask; /* buckets - 1 */
	uint32_t in_use;
	uint32_t cursor; /* next bucket fw_frag_expire() looks at */
	struct fw_frag_entry *e; /* (mask + 1) * FRAG_WAYS entries */
};

_Static_assert(sizeof(struct fw_frag_entry) == 128, "fragment entry: two cache lines");

struct fw_frag_table *fw_frag_create(const char *name, uint32_t entries, int socket)
{
	uint32_t n = rte_align32pow2(RTE_MAX(entries, 16u));
	struct fw_frag_table *t = rte_zmalloc_socket(name, sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL)
		return NULL;
	t->e = rte_zmalloc_socket(name, (size_t)n * sizeof(struct fw_frag_entry), RTE_CACHE_LINE_SIZE, socket);
	if (t->e == NULL) {
		rte_free(t);
		return NULL;
	}
	t->mask = n / FRAG_WAYS - 1;
	return t;
}

void fw_frag_free(struct fw_frag_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < (t->mask + 1) * FRAG_WAYS; i++)
		for (unsigned h = 0; t->e[i].used && h < t->e[i].n_held; h++)
			rte_pktmbuf_free(t->e[i].held[h]);
	rte_free(t->e);
	rte_free(t);
}

uint32_t fw_frag_capacity(const struct fw_frag_table *t)
{
	return (t->mask + 1) * FRAG_WAYS;
}

uint32_t fw_frag_in_use(const struct fw_frag_table *t)
{
	return t->in_use;
}

static inline bool key_eq(const struct fw_frag_key *a, const struct fw_frag_key *b)
{
	return a->id == b->id && a->vrf == b->vrf && a->family == b->family && a->proto == b->proto &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

/* The datagram's entry, a new one (create), or NULL: not there (create false) or its bucket is full. */
static struct fw_frag_entry *frag_find(struct fw_frag_table *t, const struct fw_frag_key *k, bool create,
				       uint64_t now_ms)
{
	uint32_t h = rte_hash_crc_4byte(k->id, k->vrf ^ ((uint32_t)k->proto << 8 | k->family));
	h = rte_hash_crc(k->dst, 16, rte_hash_crc(k->src, 16, h));
	struct fw_frag_entry *b = &t->e[(h & t->mask) * FRAG_WAYS], *free_e = NULL;
	for (unsigned i = 0; i < FRAG_WAYS; i++) {
		if (b[i].used) {
			if (key_eq(&b[i].key, k))
				return &b[i];
		} else if (free_e == NULL) {
			free_e = &b[i];
		}
	}
	if (!create || free_e == NULL)
		return NULL;
	memset(free_e, 0, sizeof(*free_e));
	free_e->key = *k;
	free_e->used = 1;
	free_e->session = -1;
	free_e->expires_ms = (uint32_t)(now_ms + FW_FRAG_TIMEOUT_MS);
	t->in_use++;
	return free_e;
}

static void frag_remove(struct fw_frag_table *t, struct fw_frag_entry *e)
{
	e->used = 0;
	t->in_use--;
}

/* Can [lo, hi) be added? FW_FR_OK, FW_FR_OVERLAP or FW_FR_BAD; changes nothing. */
static int range_check(const struct fw_frag_entry *e, uint32_t lo, uint32_t hi, bool last)
{
	if (hi > 65535 || hi <= lo)
		return FW_FR_BAD;
	for (unsigned i = 0; i < e->n_ranges; i++)
		if (lo < e->ranges[i].hi && e->ranges[i].lo < hi)
			return FW_FR_OVERLAP;
	if (e->end != 0 && (hi > e->end || last))
		return FW_FR_BAD; /* data past the end, or a second last fragment */
	if (last)
		for (unsigned i = 0; i < e->n_ranges; i++)
			if (e->ranges[i].hi > hi)
				return FW_FR_BAD; /* the "last" fragment ends before data already seen */
	/* Room: a range that touches none of the others needs a free slot. */
	if (e->n_ranges < FW_FRAG_MAX_RANGES)
		return FW_FR_OK;
	for (unsigned i = 0; i < e->n_ranges; i++)
		if (e->ranges[i].hi == lo || e->ranges[i].lo == hi)
			return FW_FR_OK;
	return FW_FR_BAD;
}

/* Add a checked range, merging it with the ranges it touches. */
static void range_add(struct fw_frag_entry *e, uint32_t lo, uint32_t hi, bool last)
{
	unsigned j = 0;
	for (unsigned i = 0; i < e->n_ranges; i++) {
		if (e->ranges[i].hi == lo)
			lo = e->ranges[i].lo;
		else if (e->ranges[i].lo == hi)
			hi = e->ranges[i].hi;
		else
			e->ranges[j++] = e->ranges[i];
	}
	e->ranges[j++] = (struct frag_range){.lo = (uint16_t)lo, .hi = (uint16_t)hi};
	e->n_ranges = (uint8_t)j;
	if (last)
		e->end = (uint16_t)hi;
}

/* The first fragment's range is in (its verdict may still be pending: decided later in the same burst). */
static inline bool first_recorded(const struct fw_frag_entry *e)
{
	for (unsigned i = 0; i < e->n_ranges; i++)
		if (e->ranges[i].lo == 0)
			return true;
	return false;
}

static inline bool frag_complete(const struct fw_frag_entry *e)
{
	return e->end != 0 && e->n_ranges == 1 && e->ranges[0].lo == 0 && e->ranges[0].hi == e->end;
}

int fw_frag_first(struct fw_frag_table *t, const struct fw_frag_key *k, uint32_t len, bool last, uint64_t now_ms,
		  uint32_t *slot)
{
	struct fw_frag_entry *e = frag_find(t, k, true, now_ms);
	if (e == NULL)
		return FW_FR_FULL;
	int rc = range_check(e, 0, len, last);
	if (rc != FW_FR_OK) {
		if (e->n_ranges == 0)
			frag_remove(t, e); /* just created for it */
		return rc;
	}
	range_add(e, 0, len, last);
	e->expires_ms = (uint32_t)(now_ms + FW_FRAG_TIMEOUT_MS);
	*slot = (uint32_t)(e - t->e);
	return FW_FR_OK;
}

/* The TCP segment's end once the datagram is allowed with a session and its length known; once. */
static void tcp_ext(struct fw_frag_entry *e, struct fw_frag_ext *ext)
{
	ext->session = -1;
	if ((e->tcp & (FRAG_TCP_SEGMENT | FRAG_TCP_DONE)) != FRAG_TCP_SEGMENT || e->end == 0 ||
	    e->verdict != FW_FV_ALLOW || e->session < 0)
		return;
	e->tcp |= FRAG_TCP_DONE;
	ext->session = e->session;
	ext->side = (e->tcp & FRAG_TCP_SIDE1) ? 1 : 0;
	ext->end = e->tcp_base + e->end + ((e->tcp & FRAG_TCP_FIN) ? 1 : 0);
}

unsigned fw_frag_set_verdict(struct fw_frag_table *t, uint32_t slot, uint8_t verdict, int32_t session,
			     const struct fw_frag_tcp *tcp, struct rte_mbuf **held, struct fw_frag_ext *ext)
{
	struct fw_frag_entry *e = &t->e[slot];
	ext->session = -1;
	if (!e->used)
		return 0;
	e->verdict = verdict;
	e->session = session;
	if (tcp != NULL) {
		e->tcp = FRAG_TCP_SEGMENT | (tcp->side ? FRAG_TCP_SIDE1 : 0) | (tcp->fin ? FRAG_TCP_FIN : 0);
		e->tcp_base = tcp->base;
	}
	tcp_ext(e, ext);
	unsigned n = e->n_held;
	for (unsigned i = 0; i < n; i++)
		held[i] = e->held[i];
	e->n_held = 0;
	if (frag_complete(e))
		frag_remove(t, e); /* every byte seen: nothing more to follow */
	return n;
}

int fw_frag_later(struct fw_frag_table *t, const struct fw_frag_key *k, uint32_t off, uint32_t len, bool last,
		  struct rte_mbuf *m, uint64_t now_ms, uint8_t *verdict, int32_t *session, uint32_t *slot,
		  struct fw_frag_ext *ext)
{
	ext->session = -1;
	struct fw_frag_entry *e = frag_find(t, k, true, now_ms);
	if (e == NULL)
		return FW_FR_FULL;
	bool fresh = e->n_ranges == 0;
	int rc = range_check(e, off, off + len, last);
	if (rc == FW_FR_OK && e->verdict == FW_FV_PENDING && !first_recorded(e) && e->n_held == FW_FRAG_HOLD)
		rc = FW_FR_FULL;
	if (rc != FW_FR_OK) {
		if (fresh)
			frag_remove(t, e);
		return rc;
	}
	bool first_seen = e->verdict == FW_FV_PENDING && first_recorded(e);
	range_add(e, off, off + len, last);
	e->expires_ms = (uint32_t)(now_ms + FW_FRAG_TIMEOUT_MS);
	if (first_seen) {
		*slot = (uint32_t)(e - t->e);
		return FW_FR_WAIT;
	}
	if (e->verdict == FW_FV_PENDING) {
		e->held[e->n_held++] = m;
		return FW_FR_HELD;
	}
	*verdict = e->verdict;
	*session = e->session;
	tcp_ext(e, ext);
	if (frag_complete(e))
		frag_remove(t, e);
	return FW_FR_OK;
}

unsigned fw_frag_expire(struct fw_frag_table *t, uint64_t now_ms, struct rte_mbuf **dropped)
{
	if (likely(t->in_use == 0))
		return 0;
	unsigned n = 0;
	for (unsigned b = 0; b < FRAG_EXPIRE_BUCKETS && n + FW_FRAG_HOLD * FRAG_WAYS <= FW_FRAG_EXPIRE_MAX; b++) {
		struct fw_frag_entry *e = &t->e[t->cursor * FRAG_WAYS];
		for (unsigned i = 0; i < FRAG_WAYS; i++) {
			if (!e[i].used || (int32_t)(e[i].expires_ms - (uint32_t)now_ms) > 0)
				continue;
			for (unsigned h = 0; h < e[i].n_held; h++)
				dropped[n++] = e[i].held[h];
			frag_remove(t, &e[i]);
		}
		t->cursor = (t->cursor + 1) & t->mask;
	}
	return n;
}
