/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-VRF FIBs (rte_fib for IPv4, rte_fib6 for IPv6) that workers read while the control thread changes them.
 *
 * Why two copies: DPDK 22.11's rte_fib has no RCU hook, and an in-place delete may recycle a tbl8 group a worker is
 * still reading. So each FIB is double-buffered: the control thread applies a change to the copy workers do not
 * read, publishes it (one atomic pointer store), waits for every worker to pass a quiescent state
 * (rte_rcu_qsbr_synchronize), then applies the same change to the other copy. Readers never see a table being
 * edited. Before the workers start (qs == NULL) both copies are edited directly.
 *
 * Next hops are 32-bit indexes into the next-hop table (dataplane/tables.h); NH_NONE (0) means "no route".
 * compact FIBs use the RIB only (RTE_FIB_DUMMY / RTE_FIB6_DUMMY): a few hundred bytes per route instead of the
 * 64 MiB DIR24_8 / TRIE tables, for tenants with few routes; lookups are slower.
 *
 * Compact IPv4 FIBs made by fib4_create_compact() own no table: every RIB is an rte_mempool (~3 memzones per copy)
 * and RTE_MAX_MEMZONE (2560 in DPDK 22.11) would cap them at ~420 VRFs. Their routes all live in ONE process-wide
 * double-buffered rte_fib6 TRIE, the "shared table", keyed by (VRF slot, IPv4 address): key bytes 0-3 are the slot,
 * 4-7 the address (both network order), the rest zero; ip/depth of slot s is stored as key(s, ip)/(32 + depth).
 * Nothing shorter than /32 is ever stored and the default next hop is NH_NONE, so the longest match for key(s, ip)
 * is exactly the longest match of ip among slot s's routes. The shared table goes through the same double-buffer,
 * RCU and workaround code as an IPv6 FIB (fib.c), its tbl8 exhaustion rebuild included (it copies every VRF's
 * routes). It is created by the first fib4_create_compact() and freed by the fib4_destroy() of the last compact
 * handle, so a process without compact IPv4 VRFs pays nothing.
 *
 * Memory of the shared table, per copy (there are two, and a third exists while a rebuild runs):
 *   64 MiB first-level table (2^24 4-byte entries, fixed)
 *   + 1 KiB per tbl8 group
 *   + ~420 B per route of max_routes_total (room for 2 RIB nodes of 192 B in the mempool, plus its ring)
 * The defaults (FIB4_COMPACT_ROUTES_DEFAULT, FIB4_COMPACT_TBL8_DEFAULT) make ~200 MiB per copy, ~400 MiB in all;
 * 1M routes with 65536 groups would make ~550 MiB per copy, 1.1 GiB in all.
 * A route of depth d needs up to ceil(d / 8) tbl8 groups of its own (shared with the routes around it), and each
 * 256 consecutive slots with routes share one more.
 *
 * Threading: create/add/del/destroy/walk (and fib6_trie_probe()) on the control thread only; fib4_lookup_bulk(),
 * fib6_lookup_bulk(), fib6_trie_get() + fib6_trie_lookup_bulk(), or fib*_reader() + rte_fib*_lookup_bulk(), on
 * workers inside their RCU read side (between two quiescent-state reports).
 */
#ifndef NPSGW_FIB_H
#define NPSGW_FIB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#define NH_NONE 0u
/* Largest next hop: the DIR24_8 / TRIE 4-byte entries keep one bit as the "extended" flag. */
#define FIB_NH_MAX INT32_MAX
/*
 * Longest name fib*_create accepts. The copies are "<name>-a"/"-b" and each RIB keeps its nodes in a mempool
 * "MP_<copy>" whose ring is "MP_MP_<copy>": that must fit RTE_RING_NAMESIZE (29 with the NUL), so 28 - 6 - 2.
 */
#define FIB_NAME_MAX 20

struct fib6;

/* Defaults of fib4_compact_configure(); see the memory cost above. */
#define FIB4_COMPACT_ROUTES_DEFAULT 262144u
#define FIB4_COMPACT_TBL8_DEFAULT 32768u
/* fib4_lookup_bulk() builds at most this many shared-table keys on the stack at a time (RTE_GRAPH_BURST_SIZE) */
#define FIB4_BULK_MAX 256u

struct fib4 {
	struct rte_fib *active; /* read by workers with an acquire load; NULL in a compact handle */
	struct fib6 *shared; /* compact handle: the shared table; NULL otherwise (even for fib4_create(compact)) */
	uint32_t slot; /* compact handle: its VRF slot, bytes 0-3 of its keys */
	uint32_t n_routes;
	uint32_t max_routes; /* adding a new prefix beyond this fails with -ENOSPC */
	struct rte_fib *copy[2]; /* NULL in a compact handle */
	struct fib4 *next_compact; /* list of the compact handles (fib.c) */
};

struct fib6 {
	struct rte_fib6 *copy[2];
	struct rte_fib6 *active;
	uint32_t n_routes;
	uint32_t max_routes;
	/* kept to rebuild a copy from scratch (see fib.c) */
	char name[FIB_NAME_MAX + 1];
	int socket;
	uint32_t num_tbl8; /* of each TRIE copy */
	bool compact;
};

/*
 * name (at most FIB_NAME_MAX characters) must be unique per process across fib4 and fib6 (e.g. "v4-<vrf id>"),
 * because the RIB mempools of both families share one namespace; "v4-shared" is the shared table's. Returns NULL
 * with rte_errno set. compact here still means a RIB of its own (6 memzones): fib4_create_compact() has none.
 */
struct fib4 *fib4_create(const char *name, int socket, uint32_t max_routes, bool compact);
/*
 * Sizes the shared table of the compact handles: max_routes_total routes of all compact VRFs together, tbl8_groups
 * groups per copy (0: the default). Takes effect when the shared table is next created, i.e. call it before the
 * first fib4_create_compact() (or while none exists).
 */
void fib4_compact_configure(uint32_t max_routes_total, uint32_t tbl8_groups);
/*
 * A compact IPv4 FIB for VRF slot vrf_slot, with routes in the shared table (created on first use, on socket).
 * Returns NULL with rte_errno: EINVAL (max_routes 0 or too large), EEXIST (the slot has a compact handle), or the
 * error of creating the shared table. fib4_reader() does not apply to it: use fib4_lookup_bulk().
 */
struct fib4 *fib4_create_compact(uint32_t vrf_slot, int socket, uint32_t max_routes);
/*
 * The RCU variable of the workers, from when they start (qs) to when they stop (NULL): creating or destroying a
 * compact handle may have to purge routes of its slot from the shared table, and with no edit since the workers
 * started (every route loaded at boot) it would otherwise edit the copy they read in place.
 */
void fib4_compact_set_qs(struct rte_rcu_qsbr *qs);
/*
 * Frees f; call it once no worker can reach f any more (unpublished, then synchronized). A compact handle that still
 * has routes is emptied first, under fib4_compact_set_qs()'s variable, else the one last passed to fib4_add/fib4_del
 * for any compact handle (NULL: both copies in place), which must therefore still be valid.
 */
void fib4_destroy(struct fib4 *f);
/*
 * Add or replace ip/depth (ip in host byte order; host bits are ignored) -> nh. Returns 0 or -errno: EINVAL for a
 * depth over 32 or nh over FIB_NH_MAX, ENOSPC when max_routes prefixes exist or the tables are full.
 * The IPv6 functions below behave the same (ip in network byte order, depth up to 128).
 */
int fib4_add(struct fib4 *f, uint32_t ip, uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs);
/* Returns 0, -ENOENT, or -EINVAL for a bad depth. */
int fib4_del(struct fib4 *f, uint32_t ip, uint8_t depth, struct rte_rcu_qsbr *qs);
/* Exact-match read on the control thread: 0 and *nh, or -ENOENT. */
int fib4_get(const struct fib4 *f, uint32_t ip, uint8_t depth, uint32_t *nh);
/* Longest-prefix match on the control thread (slow path): next hop or NH_NONE. */
uint32_t fib4_lookup_one(const struct fib4 *f, uint32_t ip);
/* Visit every route; stop early when cb returns non-zero. cb must not change f. */
typedef int (*fib4_walk_fn)(void *cookie, uint32_t ip, uint8_t depth, uint32_t nh);
void fib4_walk(const struct fib4 *f, fib4_walk_fn cb, void *cookie);
/* Same, over copy 0 or 1 whether active or not: for consistency checks (tests, debug commands). */
void fib4_walk_copy(const struct fib4 *f, unsigned int copy_idx, fib4_walk_fn cb, void *cookie);

/* The active copy of a fast FIB (or of one from fib4_create); NULL for a compact handle. */
static inline struct rte_fib *fib4_reader(const struct fib4 *f)
{
	return __atomic_load_n(&f->active, __ATOMIC_ACQUIRE);
}

struct fib6 *fib6_create(const char *name, int socket, uint32_t max_routes, bool compact);
void fib6_destroy(struct fib6 *f);
int fib6_add(struct fib6 *f, const uint8_t ip[16], uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs);
int fib6_del(struct fib6 *f, const uint8_t ip[16], uint8_t depth, struct rte_rcu_qsbr *qs);
int fib6_get(const struct fib6 *f, const uint8_t ip[16], uint8_t depth, uint32_t *nh);
uint32_t fib6_lookup_one(const struct fib6 *f, const uint8_t ip[16]);
typedef int (*fib6_walk_fn)(void *cookie, const uint8_t ip[16], uint8_t depth, uint32_t nh);
void fib6_walk(const struct fib6 *f, fib6_walk_fn cb, void *cookie);
void fib6_walk_copy(const struct fib6 *f, unsigned int copy_idx, fib6_walk_fn cb, void *cookie);

static inline struct rte_fib6 *fib6_reader(const struct fib6 *f)
{
	return __atomic_load_n(&f->active, __ATOMIC_ACQUIRE);
}

/*
 * The IPv6 TRIE's own tables, for the workers' lookups (fib6_trie.c): fib6_trie_probe() finds, once, where
 * DPDK keeps them (control thread, before the workers start); fib6_trie_get() then gives a worker the active copy's
 * (false: not known, or a compact FIB: use rte_fib6_lookup_bulk()). Entries are 4 bytes (RTE_FIB6_TRIE_4B): bit 0
 * set, "extended", the rest a tbl8 group number (the next level, by the address's next byte); clear, the next hop
 * << 1.
 */
#define FIB6_TRIE_NH_SZ RTE_FIB6_TRIE_4B /* every TRIE copy's entries (fib.c): the walk below reads uint32_t */
#define FIB6_TRIE_GROUP 256u     /* entries of a tbl8 group */
#define FIB6_TRIE_BULK_MAX 256u  /* fib6_trie_lookup_bulk() walks at most this many addresses at a time */

struct fib6_trie {
	const uint32_t *tbl24; /* 2^24 entries, by the address's first 3 bytes */
	const uint32_t *tbl8;  /* groups of FIB6_TRIE_GROUP entries */
};

void fib6_trie_probe(void);
bool fib6_trie_known(void); /* the probe found the tables: `graph express` shows it */
bool fib6_trie_get(const struct fib6 *f, struct fib6_trie *t);

static inline uint32_t fib6_trie_index24(const uint8_t ip[16])
{
	uint32_t first4;
	memcpy(&first4, ip, sizeof(first4));
	return rte_be_to_cpu_32(first4) >> 8;
}

/* A hint, a burst before the lookup: address ip's first-level entry. */
static inline void fib6_trie_prefetch(const uint32_t *tbl24, const uint8_t ip[16])
{
	rte_prefetch0(tbl24 + fib6_trie_index24(ip));
}

/*
 * Longest-prefix match of n addresses on a worker, as rte_fib6_lookup_bulk() on the copy t was taken from, but a
 * level at a time for all of them: an address whose entry is extended has its next level's entry prefetched at
 * once and read only in the next pass, after the other addresses' reads were issued, so the misses of one level
 * overlap instead of following each other.
 */
static inline void fib6_trie_lookup_bulk(const struct fib6_trie *t, const uint8_t (*ips)[16], uint64_t *nhs,
					 unsigned int n)
{
	uint16_t pending[FIB6_TRIE_BULK_MAX]; /* the addresses whose walk goes on, and their last entries */
	uint32_t entry[FIB6_TRIE_BULK_MAX];

	for (unsigned int done = 0; done < n; done += FIB6_TRIE_BULK_MAX) {
		const uint8_t(*ip)[16] = ips + done;
		uint64_t *nh = nhs + done;
		unsigned int batch = RTE_MIN(n - done, FIB6_TRIE_BULK_MAX), np = 0;
		for (unsigned int i = 0; i < batch; i++) {
			uint32_t e = t->tbl24[fib6_trie_index24(ip[i])];
			nh[i] = e >> 1;
			if (unlikely(e & 1)) {
				rte_prefetch0(&t->tbl8[(size_t)(e >> 1) * FIB6_TRIE_GROUP + ip[i][3]]);
				pending[np] = (uint16_t)i;
				entry[np++] = e;
			}
		}
		/* an entry at byte 15 (a /128's) is never extended: the walk ends there */
		for (unsigned int byte = 3; np > 0 && byte < 16; byte++) {
			unsigned int still = 0;
			for (unsigned int k = 0; k < np; k++) {
				unsigned int i = pending[k];
				uint32_t e = t->tbl8[(size_t)(entry[k] >> 1) * FIB6_TRIE_GROUP + ip[i][byte]];
				nh[i] = e >> 1;
				if (e & 1) {
					rte_prefetch0(&t->tbl8[(size_t)(e >> 1) * FIB6_TRIE_GROUP + ip[i][(byte + 1) & 15]]);
					pending[still] = (uint16_t)i;
					entry[still++] = e;
				}
			}
			np = still;
		}
	}
}

/*
 * Longest-prefix match of n addresses on a worker: the TRIE read directly where its layout is known, else DPDK's
 * lookup (a compact FIB, or no layout found). Loads the active copy once per call.
 */
static inline void fib6_lookup_bulk(const struct fib6 *f, uint8_t (*ips)[16], uint64_t *nhs, unsigned int n)
{
	struct fib6_trie t;
	if (likely(fib6_trie_get(f, &t)))
		fib6_trie_lookup_bulk(&t, (const uint8_t(*)[16])ips, nhs, n);
	else
		rte_fib6_lookup_bulk(fib6_reader(f), ips, nhs, (int)n);
}

/* The shared-table key of IPv4 address ip (host order) in VRF slot; see the top of this file. */
static inline void fib4_compact_key(uint32_t slot, uint32_t ip, uint8_t key[RTE_FIB6_IPV6_ADDR_SIZE])
{
	const uint32_t words[4] = {rte_cpu_to_be_32(slot), rte_cpu_to_be_32(ip), 0, 0};

	memcpy(key, words, sizeof(words));
}

/*
 * Longest-prefix match of n addresses (host order) on a worker: nhs[i] gets the next hop or NH_NONE. Loads the
 * active copy once per call, so a burst sees one consistent table.
 */
static inline void fib4_lookup_bulk(const struct fib4 *f, uint32_t *ips, uint64_t *nhs, unsigned int n)
{
	if (likely(f->shared == NULL)) {
		rte_fib_lookup_bulk(fib4_reader(f), ips, nhs, (int)n);
		return;
	}
	/*
	 * DPDK's lookup, not the level-by-level walk: every compact VRF's keys share the shared table's few top groups,
	 * which stay cached, and the walk measured no faster here (vrf-10, vrf-1000).
	 */
	struct rte_fib6 *table = fib6_reader(f->shared);
	uint8_t keys[FIB4_BULK_MAX][RTE_FIB6_IPV6_ADDR_SIZE];

	for (unsigned int done = 0; done < n; done += FIB4_BULK_MAX) {
		unsigned int batch = RTE_MIN(n - done, FIB4_BULK_MAX);
		for (unsigned int i = 0; i < batch; i++)
			fib4_compact_key(f->slot, ips[done + i], keys[i]);
		rte_fib6_lookup_bulk(table, keys, nhs + done, (int)batch);
	}
}

#endif
