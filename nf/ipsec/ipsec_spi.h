/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inbound SPI table: SPI (host order) -> struct ipsec_sa *, read by ipsec_in for every ESP packet.
 *
 * Open addressing with linear probing over one array of 16-byte slots, four to a cache line, at most 3/4 full: a
 * lookup reads one line almost always. (rte_hash, before it, read a bucket line and a key-store line and compared
 * keys out of line: ~20 cycles/packet with a single tunnel.)
 *
 * One writer (the control thread), lock-free readers (workers, inside their RCU read side):
 * - a slot's word is spi | state << 32; add stores the slot's sa, then the word (release); readers load the word
 *   (acquire), then the sa (acquire: ipsec_spi_replace swaps it in place, release);
 * - delete turns the slot DEAD: a tombstone, skipped by lookups and never reused, so a reader that matched a
 *   word reads the sa stored with it or its replacement, never another SPI's;
 * - when live + dead slots would pass 3/4 of the table, ipsec_spi_add says EAGAIN: the writer builds a fresh table
 *   of the live entries (ipsec_spi_rebuild), publishes it and frees the old one after the workers' grace period.
 * Sized at twice max_sas (rounded up to a power of two, 64 slots at least): a rebuild comes after at least a quarter
 * of the slots' worth of deletes.
 */
#ifndef NPSGW_IPSEC_SPI_H
#define NPSGW_IPSEC_SPI_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_branch_prediction.h>
#include <rte_prefetch.h>

struct ipsec_sa;

enum { IPSEC_SPI_EMPTY = 0, IPSEC_SPI_LIVE = 1, IPSEC_SPI_DEAD = 2 };

struct ipsec_spi_slot {
	uint64_t word; /* spi | state << 32; 0 = empty */
	struct ipsec_sa *sa;
};

struct ipsec_spi_table {
	uint32_t mask;     /* slots - 1 (a power of two) */
	uint32_t shift;    /* 32 - log2(slots): a slot index is the top bits of the hash */
	uint32_t max_live; /* max_sas: more live entries are refused (ENOSPC) */
	int socket;
	uint32_t n_live __rte_cache_aligned; /* writer only: off the line every lookup reads */
	uint32_t n_dead;
	struct ipsec_spi_slot slots[] __rte_cache_aligned;
};

/* Fibonacci hashing: controllers often number SPIs in sequence; the multiply spreads them over the table. */
static inline uint32_t ipsec_spi_home(const struct ipsec_spi_table *t, uint32_t spi)
{
	return (uint32_t)(spi * 0x9e3779b1u) >> t->shift;
}

static inline struct ipsec_sa *ipsec_spi_find_from(const struct ipsec_spi_table *t, uint32_t spi, uint32_t i)
{
	const uint64_t want = (uint64_t)IPSEC_SPI_LIVE << 32 | spi;
	for (;; i = (i + 1) & t->mask) {
		const struct ipsec_spi_slot *s = &t->slots[i];
		uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
		if (w == want)
			return __atomic_load_n(&s->sa, __ATOMIC_ACQUIRE);
		if (w == IPSEC_SPI_EMPTY)
			return NULL; /* a quarter of the slots at least are empty: the probe ends */
	}
}

static inline struct ipsec_sa *ipsec_spi_find(const struct ipsec_spi_table *t, uint32_t spi)
{
	return t != NULL ? ipsec_spi_find_from(t, spi, ipsec_spi_home(t, spi)) : NULL;
}

/* n lookups: every home line requested first (in pieces of 64), then the probes (t NULL: none found). */
static inline void ipsec_spi_find_bulk(const struct ipsec_spi_table *t, const uint32_t *spi, unsigned n,
				       struct ipsec_sa **sa)
{
	if (unlikely(t == NULL)) {
		for (unsigned i = 0; i < n; i++)
			sa[i] = NULL;
		return;
	}
	uint32_t home[64];
	for (unsigned at = 0; at < n; at += 64) {
		unsigned m = RTE_MIN(n - at, 64u);
		for (unsigned i = 0; i < m; i++) {
			home[i] = ipsec_spi_home(t, spi[at + i]);
			rte_prefetch0(&t->slots[home[i]]);
		}
		for (unsigned i = 0; i < m; i++)
			sa[at + i] = ipsec_spi_find_from(t, spi[at + i], home[i]);
	}
}

/* ---- the writer (control thread) ---- */

/* An empty table for max_sas live entries (1..2^30), in hugepage memory of socket. NULL: out of memory. */
struct ipsec_spi_table *ipsec_spi_table_create(uint32_t max_sas, int socket);
void ipsec_spi_table_free(struct ipsec_spi_table *t);

/*
 * Add spi -> sa. 0; EEXIST (spi is live); ENOSPC (max_sas live entries); EAGAIN (no room left without reusing
 * tombstones: publish ipsec_spi_rebuild(t), retire t, add to the new one).
 */
int ipsec_spi_add(struct ipsec_spi_table *t, uint32_t spi, struct ipsec_sa *sa);
/* Point the live spi at sa (readers see the old SA or the new one). 0 or ENOENT. */
int ipsec_spi_replace(struct ipsec_spi_table *t, uint32_t spi, struct ipsec_sa *sa);
/* Remove spi (its slot becomes a tombstone). 0 or ENOENT. */
int ipsec_spi_del(struct ipsec_spi_table *t, uint32_t spi);
/* A new table (same size and limit) holding t's live entries and no tombstone. NULL: out of memory. */
struct ipsec_spi_table *ipsec_spi_rebuild(const struct ipsec_spi_table *t);
/* The live entries, in slot order: *pos = 0 to start; false at the end. */
bool ipsec_spi_next(const struct ipsec_spi_table *t, uint32_t *pos, uint32_t *spi, struct ipsec_sa **sa);

#endif
