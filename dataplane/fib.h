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
 * Threading: create/add/del/destroy/walk on the control thread only; fib*_reader() + rte_fib*_lookup_bulk() on
 * workers inside their RCU read side (between two quiescent-state reports).
 */
#ifndef NPSGW_FIB_H
#define NPSGW_FIB_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_rcu_qsbr.h>

#define NH_NONE 0u
/* Largest next hop: the DIR24_8 / TRIE 4-byte entries keep one bit as the "extended" flag. */
#define FIB_NH_MAX INT32_MAX
/*
 * Longest name fib*_create accepts. The copies are "<name>-a"/"-b" and each RIB keeps its nodes in a mempool
 * "MP_<copy>" whose ring is "MP_MP_<copy>": that must fit RTE_RING_NAMESIZE (29 with the NUL), so 28 - 6 - 2.
 */
#define FIB_NAME_MAX 20

struct fib4 {
	struct rte_fib *copy[2];
	struct rte_fib *active; /* read by workers with an acquire load */
	uint32_t n_routes;
	uint32_t max_routes; /* adding a new prefix beyond this fails with -ENOSPC */
};

struct fib6 {
	struct rte_fib6 *copy[2];
	struct rte_fib6 *active;
	uint32_t n_routes;
	uint32_t max_routes;
	/* kept to rebuild a copy from scratch (see fib.c) */
	char name[FIB_NAME_MAX + 1];
	int socket;
	bool compact;
};

/*
 * name (at most FIB_NAME_MAX characters) must be unique per process across fib4 and fib6 (e.g. "v4-<vrf id>"),
 * because the RIB mempools of both families share one namespace. Returns NULL with rte_errno set.
 */
struct fib4 *fib4_create(const char *name, int socket, uint32_t max_routes, bool compact);
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

#endif
