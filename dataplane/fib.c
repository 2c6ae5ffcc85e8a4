/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Double-buffered per-VRF FIBs over rte_fib / rte_fib6; fib.h explains the edit protocol.
 *
 * Three bugs of DPDK 22.11's fast tables are worked around here (the unit test has a case for each):
 *  1. Wrap-around, DIR24_8 and TRIE: when a change rewrites a prefix that reaches the last address of the space and
 *     a more-specific route reaching that address follows another one with no gap, the range walk wraps to address 0
 *     and writes the prefix's next hop over the whole table (with 224/4 and 240/4 in place, adding 0/0 sends
 *     everything to the default route). It cannot happen while no more-specific route contains the last address, so
 *     those routes (the "top spine") are taken out deepest first, the change is made, and they go back shallowest
 *     first, each one again without its more-specifics on the spine.
 *  2. DIR24_8 tbl8 count: a route longer than /24 that has its parent's next hop is not counted when added but is
 *     uncounted when deleted; the counter wraps below zero and every later long route fails with ENOSPC. Such a route
 *     is added with another next hop first, then set to its own (add4).
 *  3. TRIE tbl8 count: reservations are never given back on delete, so after enough churn every long route fails
 *     with ENOSPC in a nearly empty table. On ENOSPC the copy is rebuilt from scratch and the change retried
 *     (rebuild6).
 * All of this happens on a copy no worker reads.
 *
 * Compact IPv4 handles (fib4_create_compact) are views of one shared IPv6 FIB, edited through the IPv6 code, so all
 * of the above applies to it; see the end of this file.
 */
#include "dataplane/fib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rib.h>
#include <rte_rib6.h>

/*
 * tbl8 groups are 256 entries (1 KiB with 4-byte next hops). An IPv4 route longer than /24 needs at most one, so
 * max_routes groups always suffice; an IPv6 route needs one per byte past /24 (up to 13), mostly shared with the
 * routes around it, hence a multiplier. The caps bound the memory of one copy (64 / 128 MiB on top of the 64 MiB
 * first-level table).
 */
#define FIB_TBL8_MIN 256u
#define FIB4_TBL8_MAX 65536u
#define FIB6_TBL8_PER_ROUTE 4u
#define FIB6_TBL8_MAX 131072u
/* fib4_compact_configure's cap: 4 GiB of tbl8 groups per copy */
#define FIB4_COMPACT_TBL8_MAX (1u << 22)
/* rte_fib sizes its RIB node pool as 2 * max_routes, in an int. */
#define FIB_MAX_ROUTES ((uint32_t)(INT_MAX / 2))
/* DIR24_8 and TRIE keep routes up to this depth in the first-level table, without tbl8 groups */
#define FIB_TBL24_DEPTH 24

/* Where a prefix should end up in a copy (present with nh, or absent); also its prior state, to undo an edit. */
struct route_state {
	bool present;
	uint32_t nh;
};

static uint32_t tbl8_groups(uint32_t max_routes, uint32_t per_route, uint32_t cap)
{
	uint64_t wanted = (uint64_t)max_routes * per_route;

	return (uint32_t)RTE_MAX((uint64_t)FIB_TBL8_MIN, RTE_MIN(wanted, (uint64_t)cap));
}

static bool create_args_ok(const char *name, uint32_t max_routes)
{
	return name != NULL && name[0] != '\0' && strnlen(name, FIB_NAME_MAX + 1) <= FIB_NAME_MAX && max_routes > 0 &&
	       max_routes <= FIB_MAX_ROUTES;
}

/* "<name>-a" / "-b"; a rebuilt copy takes "-A" / "-B" (and back) so that it can exist next to the one it replaces. */
static void copy_name(char *buf, size_t len, const char *name, unsigned int idx, bool alternate)
{
	snprintf(buf, len, "%s-%c", name, (alternate ? 'A' : 'a') + idx);
}

/* ---- IPv4 ---- */

/* Compact handles, at the end of this file. */
static int edit_compact4(struct fib4 *f, uint32_t ip, uint8_t depth, const struct route_state *want,
			 struct rte_rcu_qsbr *qs);
static void destroy_compact4(struct fib4 *f);
static void walk_compact4(struct rte_fib6 *table, uint32_t slot, fib4_walk_fn cb, void *cookie);
static void compact_key4(const struct fib4 *f, uint32_t ip, uint8_t depth, uint8_t key[16], uint8_t *key_depth);

struct route4 {
	uint32_t ip;
	uint8_t depth;
	uint64_t nh;
};

/* Next hop of the longest route shorter than depth that contains ip, if there is one. */
static bool parent_nh4(struct rte_rib *rib, uint32_t ip, uint8_t depth, uint64_t *nh)
{
	struct rte_rib_node *node = rte_rib_lookup(rib, ip);
	uint8_t node_depth;

	while (node != NULL && rte_rib_get_depth(node, &node_depth) == 0 && node_depth >= depth)
		node = rte_rib_lookup_parent(node);
	return node != NULL && rte_rib_get_nh(node, nh) == 0;
}

/* rte_fib_add, keeping DIR24_8's tbl8 count right (bug 2 above). */
static int add4(struct rte_fib *copy, uint32_t ip, uint8_t depth, uint64_t nh)
{
	struct rte_rib *rib = rte_fib_get_rib(copy);
	uint64_t parent_nh;

	if (depth > FIB_TBL24_DEPTH && rte_rib_lookup_exact(rib, ip, depth) == NULL &&
	    parent_nh4(rib, ip, depth, &parent_nh) && parent_nh == nh) {
		int rc = rte_fib_add(copy, ip, depth, nh ^ 1);
		if (rc < 0)
			return rc;
	}
	return rte_fib_add(copy, ip, depth, nh);
}

/* Routes strictly inside ip/depth that contain 255.255.255.255, shallowest first (bug 1 above). */
static unsigned int top_spine4(struct rte_rib *rib, uint32_t ip, uint8_t depth, struct route4 *spine)
{
	if ((ip | ~rte_rib_depth_to_mask(depth)) != UINT32_MAX)
		return 0;
	unsigned int n = 0;
	for (struct rte_rib_node *node = rte_rib_lookup(rib, UINT32_MAX); node != NULL;
	     node = rte_rib_lookup_parent(node)) {
		struct route4 *r = &spine[n];
		rte_rib_get_depth(node, &r->depth);
		if (r->depth <= depth)
			break;
		rte_rib_get_ip(node, &r->ip);
		rte_rib_get_nh(node, &r->nh);
		n++;
	}
	for (unsigned int i = 0; i < n / 2; i++)
		RTE_SWAP(spine[i], spine[n - 1 - i]);
	return n;
}

/*
 * Brings ip/depth to want in one copy. Putting the spine back cannot fail: it needs only what taking it out freed,
 * and the change in between needs no tbl8 group in the spine's /24.
 */
static int set_route4(struct rte_fib *copy, uint32_t ip, uint8_t depth, const struct route_state *want)
{
	struct route4 spine[RTE_FIB_MAXDEPTH + 1];
	unsigned int n = top_spine4(rte_fib_get_rib(copy), ip, depth, spine);

	for (unsigned int i = n; i-- > 0;)
		rte_fib_delete(copy, spine[i].ip, spine[i].depth);
	int rc = want->present ? add4(copy, ip, depth, want->nh) : rte_fib_delete(copy, ip, depth);
	for (unsigned int i = 0; i < n; i++) {
		int put_back = add4(copy, spine[i].ip, spine[i].depth, spine[i].nh);
		if (put_back < 0 && rc == 0)
			rc = put_back;
	}
	return rc;
}

static void publish4(struct fib4 *f, unsigned int idx, struct rte_rcu_qsbr *qs)
{
	__atomic_store_n(&f->active, f->copy[idx], __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(qs, RTE_QSBR_THRID_INVALID);
}

/* Brings ip/depth to want in both copies; on failure both copies keep (or get back) the prior state. */
static int update4(struct fib4 *f, uint32_t ip, uint8_t depth, const struct route_state *want,
		   const struct route_state *prior, struct rte_rcu_qsbr *qs)
{
	unsigned int first = fib4_reader(f) == f->copy[0] ? 1 : 0;
	unsigned int second = 1 - first;

	int rc = set_route4(f->copy[first], ip, depth, want);
	if (rc < 0)
		return rc;
	if (qs != NULL)
		publish4(f, first, qs);
	rc = set_route4(f->copy[second], ip, depth, want);
	if (rc == 0)
		return 0;
	/* Cannot happen with equal capacities and histories; if it does, readers go back to the untouched copy. */
	if (qs != NULL)
		publish4(f, second, qs);
	set_route4(f->copy[first], ip, depth, prior);
	return rc;
}

struct fib4 *fib4_create(const char *name, int socket, uint32_t max_routes, bool compact)
{
	if (!create_args_ok(name, max_routes)) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct fib4 *f = rte_zmalloc_socket("fib4", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	struct rte_fib_conf conf = {
		.type = compact ? RTE_FIB_DUMMY : RTE_FIB_DIR24_8,
		.default_nh = NH_NONE,
		.max_routes = (int)max_routes,
		.dir24_8 = {
			.nh_sz = RTE_FIB_DIR24_8_4B,
			.num_tbl8 = tbl8_groups(max_routes, 1, FIB4_TBL8_MAX),
		},
	};
	char name_buf[FIB_NAME_MAX + 3];
	for (unsigned int i = 0; i < 2; i++) {
		copy_name(name_buf, sizeof(name_buf), name, i, false);
		f->copy[i] = rte_fib_create(name_buf, socket, &conf);
		if (f->copy[i] == NULL) {
			int err = rte_errno;
			fib4_destroy(f);
			rte_errno = err;
			return NULL;
		}
	}
	f->active = f->copy[0];
	f->max_routes = max_routes;
	return f;
}

void fib4_destroy(struct fib4 *f)
{
	if (f == NULL)
		return;
	if (f->shared != NULL) {
		destroy_compact4(f);
		return;
	}
	rte_fib_free(f->copy[0]);
	rte_fib_free(f->copy[1]);
	rte_free(f);
}

int fib4_add(struct fib4 *f, uint32_t ip, uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs)
{
	if (depth > RTE_FIB_MAXDEPTH || nh > FIB_NH_MAX)
		return -EINVAL;
	ip &= rte_rib_depth_to_mask(depth);

	struct route_state prior;
	prior.present = fib4_get(f, ip, depth, &prior.nh) == 0;
	if (!prior.present && f->n_routes >= f->max_routes)
		return -ENOSPC;

	struct route_state want = {.present = true, .nh = nh};
	int rc = f->shared != NULL ? edit_compact4(f, ip, depth, &want, qs) : update4(f, ip, depth, &want, &prior, qs);
	if (rc == 0 && !prior.present)
		f->n_routes++;
	return rc;
}

int fib4_del(struct fib4 *f, uint32_t ip, uint8_t depth, struct rte_rcu_qsbr *qs)
{
	if (depth > RTE_FIB_MAXDEPTH)
		return -EINVAL;
	ip &= rte_rib_depth_to_mask(depth);

	struct route_state prior = {.present = true};
	if (fib4_get(f, ip, depth, &prior.nh) != 0)
		return -ENOENT;

	struct route_state want = {.present = false};
	int rc = f->shared != NULL ? edit_compact4(f, ip, depth, &want, qs) : update4(f, ip, depth, &want, &prior, qs);
	if (rc == 0)
		f->n_routes--;
	return rc;
}

int fib4_get(const struct fib4 *f, uint32_t ip, uint8_t depth, uint32_t *nh)
{
	if (f->shared != NULL) {
		uint8_t key[16], key_depth;
		if (depth > RTE_FIB_MAXDEPTH)
			return -ENOENT;
		compact_key4(f, ip, depth, key, &key_depth);
		return fib6_get(f->shared, key, key_depth, nh);
	}
	struct rte_rib_node *node = rte_rib_lookup_exact(rte_fib_get_rib(fib4_reader(f)), ip, depth);
	uint64_t value;

	if (node == NULL || rte_rib_get_nh(node, &value) != 0)
		return -ENOENT;
	*nh = (uint32_t)value;
	return 0;
}

uint32_t fib4_lookup_one(const struct fib4 *f, uint32_t ip)
{
	if (f->shared != NULL) {
		uint8_t key[16], key_depth;
		compact_key4(f, ip, RTE_FIB_MAXDEPTH, key, &key_depth);
		return fib6_lookup_one(f->shared, key);
	}
	struct rte_rib_node *node = rte_rib_lookup(rte_fib_get_rib(fib4_reader(f)), ip);
	uint64_t value;

	if (node == NULL || rte_rib_get_nh(node, &value) != 0)
		return NH_NONE;
	return (uint32_t)value;
}

static int visit4(const struct rte_rib_node *node, fib4_walk_fn cb, void *cookie)
{
	uint32_t ip;
	uint8_t depth;
	uint64_t nh;

	rte_rib_get_ip(node, &ip);
	rte_rib_get_depth(node, &depth);
	rte_rib_get_nh(node, &nh);
	return cb(cookie, ip, depth, (uint32_t)nh);
}

static void walk_rib4(struct rte_rib *rib, fib4_walk_fn cb, void *cookie)
{
	/* rte_rib_get_nxt only returns prefixes longer than the one it starts from: the default route goes first. */
	struct rte_rib_node *node = rte_rib_lookup_exact(rib, 0, 0);
	if (node != NULL && visit4(node, cb, cookie) != 0)
		return;
	node = NULL;
	while ((node = rte_rib_get_nxt(rib, 0, 0, node, RTE_RIB_GET_NXT_ALL)) != NULL)
		if (visit4(node, cb, cookie) != 0)
			return;
}

void fib4_walk(const struct fib4 *f, fib4_walk_fn cb, void *cookie)
{
	if (f->shared != NULL)
		walk_compact4(fib6_reader(f->shared), f->slot, cb, cookie);
	else
		walk_rib4(rte_fib_get_rib(fib4_reader(f)), cb, cookie);
}

void fib4_walk_copy(const struct fib4 *f, unsigned int copy_idx, fib4_walk_fn cb, void *cookie)
{
	if (copy_idx < 2 && f->shared != NULL)
		walk_compact4(f->shared->copy[copy_idx], f->slot, cb, cookie);
	else if (copy_idx < 2)
		walk_rib4(rte_fib_get_rib(f->copy[copy_idx]), cb, cookie);
}

/* ---- IPv6 ---- */

struct route6 {
	uint8_t ip[16];
	uint8_t depth;
	uint64_t nh;
};

static const uint8_t all_ones6[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void mask6(uint8_t out[16], const uint8_t ip[16], uint8_t depth)
{
	for (int i = 0; i < 16; i++) {
		int bits = depth - 8 * i;
		out[i] = bits >= 8 ? ip[i] : bits <= 0 ? 0 : ip[i] & (uint8_t)(0xff << (8 - bits));
	}
}

static bool same_prefix6(const struct route6 *r, const uint8_t ip[16], uint8_t depth)
{
	return r->depth == depth && memcmp(r->ip, ip, 16) == 0;
}

static struct rte_fib6 *create_copy6(const char *copy_name, int socket, uint32_t max_routes, uint32_t num_tbl8,
				     bool compact)
{
	struct rte_fib6_conf conf = {
		.type = compact ? RTE_FIB6_DUMMY : RTE_FIB6_TRIE,
		.default_nh = NH_NONE,
		.max_routes = (int)max_routes,
		.trie = {
			.nh_sz = FIB6_TRIE_NH_SZ,
			.num_tbl8 = num_tbl8,
		},
	};
	return rte_fib6_create(copy_name, socket, &conf);
}

/* Routes strictly inside ip/depth that contain ffff:...:ffff, shallowest first (bug 1 above). */
static unsigned int top_spine6(struct rte_rib6 *rib, const uint8_t ip[16], uint8_t depth, struct route6 *spine)
{
	uint8_t top_prefix[16];
	mask6(top_prefix, all_ones6, depth);
	if (memcmp(top_prefix, ip, sizeof(top_prefix)) != 0)
		return 0;
	unsigned int n = 0;
	for (struct rte_rib6_node *node = rte_rib6_lookup(rib, all_ones6); node != NULL;
	     node = rte_rib6_lookup_parent(node)) {
		struct route6 *r = &spine[n];
		rte_rib6_get_depth(node, &r->depth);
		if (r->depth <= depth)
			break;
		rte_rib6_get_ip(node, r->ip);
		rte_rib6_get_nh(node, &r->nh);
		n++;
	}
	for (unsigned int i = 0; i < n / 2; i++)
		RTE_SWAP(spine[i], spine[n - 1 - i]);
	return n;
}

struct route6_list {
	struct route6 *v;
	size_t n;
	size_t cap;
	bool out_of_memory;
};

static int route6_append(void *cookie, const uint8_t ip[16], uint8_t depth, uint32_t nh)
{
	struct route6_list *list = cookie;

	if (list->n == list->cap) {
		size_t cap = list->cap != 0 ? 2 * list->cap : 1024;
		struct route6 *v = realloc(list->v, cap * sizeof(*v));
		if (v == NULL) {
			list->out_of_memory = true;
			return 1;
		}
		list->v = v;
		list->cap = cap;
	}
	struct route6 *r = &list->v[list->n++];
	memcpy(r->ip, ip, 16);
	r->depth = depth;
	r->nh = nh;
	return 0;
}

static int by_depth6(const void *a, const void *b)
{
	return (int)((const struct route6 *)a)->depth - (int)((const struct route6 *)b)->depth;
}

static void walk_rib6(struct rte_rib6 *rib, fib6_walk_fn cb, void *cookie);

/*
 * Bug 3 above: replaces copy idx with a fresh table holding its routes plus missing (spine routes that could not go
 * back), with ip/depth brought to want. Shorter prefixes go in first, so no route ever has a more-specific one when
 * added (which also keeps clear of bug 1). On failure copy idx stays as it was.
 */
static int rebuild6(struct fib6 *f, unsigned int idx, const uint8_t ip[16], uint8_t depth,
		    const struct route_state *want, const struct route6 *missing, unsigned int n_missing)
{
	struct rte_fib6 *old = f->copy[idx];
	struct route6_list routes = {0};

	walk_rib6(rte_fib6_get_rib(old), route6_append, &routes);
	for (unsigned int i = 0; i < n_missing; i++)
		route6_append(&routes, missing[i].ip, missing[i].depth, (uint32_t)missing[i].nh);
	for (size_t i = 0; i < routes.n;) {
		if (same_prefix6(&routes.v[i], ip, depth))
			routes.v[i] = routes.v[--routes.n];
		else
			i++;
	}
	if (want->present)
		route6_append(&routes, ip, depth, want->nh);
	if (routes.out_of_memory) {
		free(routes.v);
		return -ENOMEM;
	}
	qsort(routes.v, routes.n, sizeof(*routes.v), by_depth6);

	char name_buf[FIB_NAME_MAX + 3];
	copy_name(name_buf, sizeof(name_buf), f->name, idx, false);
	bool alternate = rte_fib6_find_existing(name_buf) == old;
	copy_name(name_buf, sizeof(name_buf), f->name, idx, alternate);
	struct rte_fib6 *fresh = create_copy6(name_buf, f->socket, f->max_routes, f->num_tbl8, false);
	int rc = fresh != NULL ? 0 : -rte_errno;
	for (size_t i = 0; i < routes.n && rc == 0; i++)
		rc = rte_fib6_add(fresh, routes.v[i].ip, routes.v[i].depth, routes.v[i].nh);
	free(routes.v);
	if (rc < 0) {
		rte_fib6_free(fresh);
		return rc;
	}
	f->copy[idx] = fresh;
	/* Only before the workers start (qs == NULL) can the copy being edited be the active one. */
	if (fib6_reader(f) == old)
		__atomic_store_n(&f->active, fresh, __ATOMIC_RELEASE);
	rte_fib6_free(old);
	return 0;
}

/*
 * Brings ip/depth to want in copy idx, as set_route4 does. A refusal for lack of tbl8 groups, for the change or for
 * putting the spine back, rebuilds the copy; only a failed rebuild (out of memory, or truly full) can leave spine
 * routes out of this copy.
 */
static int set_route6(struct fib6 *f, unsigned int idx, const uint8_t ip[16], uint8_t depth,
		      const struct route_state *want)
{
	struct rte_fib6 *copy = f->copy[idx];
	struct route6 spine[RTE_FIB6_MAXDEPTH + 1], missing[RTE_FIB6_MAXDEPTH + 1];
	unsigned int n = top_spine6(rte_fib6_get_rib(copy), ip, depth, spine), n_missing = 0;

	for (unsigned int i = n; i-- > 0;)
		rte_fib6_delete(copy, spine[i].ip, spine[i].depth);
	int rc = want->present ? rte_fib6_add(copy, ip, depth, want->nh) : rte_fib6_delete(copy, ip, depth);
	for (unsigned int i = 0; i < n; i++)
		if (rte_fib6_add(copy, spine[i].ip, spine[i].depth, spine[i].nh) < 0)
			missing[n_missing++] = spine[i];
	if (!f->compact && (rc == -ENOSPC || n_missing > 0))
		return rebuild6(f, idx, ip, depth, want, missing, n_missing);
	return rc < 0 ? rc : n_missing > 0 ? -ENOSPC : 0;
}

static void publish6(struct fib6 *f, unsigned int idx, struct rte_rcu_qsbr *qs)
{
	__atomic_store_n(&f->active, f->copy[idx], __ATOMIC_RELEASE);
	rte_rcu_qsbr_synchronize(qs, RTE_QSBR_THRID_INVALID);
}

/* Same protocol as update4. */
static int update6(struct fib6 *f, const uint8_t ip[16], uint8_t depth, const struct route_state *want,
		   const struct route_state *prior, struct rte_rcu_qsbr *qs)
{
	unsigned int first = fib6_reader(f) == f->copy[0] ? 1 : 0;
	unsigned int second = 1 - first;

	int rc = set_route6(f, first, ip, depth, want);
	if (rc < 0)
		return rc;
	if (qs != NULL)
		publish6(f, first, qs);
	rc = set_route6(f, second, ip, depth, want);
	if (rc == 0)
		return 0;
	if (qs != NULL)
		publish6(f, second, qs);
	set_route6(f, first, ip, depth, prior);
	return rc;
}

static struct fib6 *create6(const char *name, int socket, uint32_t max_routes, uint32_t num_tbl8, bool compact)
{
	struct fib6 *f = rte_zmalloc_socket("fib6", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	char name_buf[FIB_NAME_MAX + 3];
	for (unsigned int i = 0; i < 2; i++) {
		copy_name(name_buf, sizeof(name_buf), name, i, false);
		f->copy[i] = create_copy6(name_buf, socket, max_routes, num_tbl8, compact);
		if (f->copy[i] == NULL) {
			int err = rte_errno;
			fib6_destroy(f);
			rte_errno = err;
			return NULL;
		}
	}
	f->active = f->copy[0];
	f->max_routes = max_routes;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->socket = socket;
	f->num_tbl8 = num_tbl8;
	f->compact = compact;
	return f;
}

struct fib6 *fib6_create(const char *name, int socket, uint32_t max_routes, bool compact)
{
	if (!create_args_ok(name, max_routes)) {
		rte_errno = EINVAL;
		return NULL;
	}
	return create6(name, socket, max_routes, tbl8_groups(max_routes, FIB6_TBL8_PER_ROUTE, FIB6_TBL8_MAX), compact);
}

void fib6_destroy(struct fib6 *f)
{
	if (f == NULL)
		return;
	rte_fib6_free(f->copy[0]);
	rte_fib6_free(f->copy[1]);
	rte_free(f);
}

int fib6_add(struct fib6 *f, const uint8_t ip[16], uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs)
{
	if (depth > RTE_FIB6_MAXDEPTH || nh > FIB_NH_MAX)
		return -EINVAL;
	uint8_t prefix[16];
	mask6(prefix, ip, depth);

	struct route_state prior;
	prior.present = fib6_get(f, prefix, depth, &prior.nh) == 0;
	if (!prior.present && f->n_routes >= f->max_routes)
		return -ENOSPC;

	struct route_state want = {.present = true, .nh = nh};
	int rc = update6(f, prefix, depth, &want, &prior, qs);
	if (rc == 0 && !prior.present)
		f->n_routes++;
	return rc;
}

int fib6_del(struct fib6 *f, const uint8_t ip[16], uint8_t depth, struct rte_rcu_qsbr *qs)
{
	if (depth > RTE_FIB6_MAXDEPTH)
		return -EINVAL;
	uint8_t prefix[16];
	mask6(prefix, ip, depth);

	struct route_state prior = {.present = true};
	if (fib6_get(f, prefix, depth, &prior.nh) != 0)
		return -ENOENT;

	struct route_state want = {.present = false};
	int rc = update6(f, prefix, depth, &want, &prior, qs);
	if (rc == 0)
		f->n_routes--;
	return rc;
}

int fib6_get(const struct fib6 *f, const uint8_t ip[16], uint8_t depth, uint32_t *nh)
{
	struct rte_rib6_node *node = rte_rib6_lookup_exact(rte_fib6_get_rib(fib6_reader(f)), ip, depth);
	uint64_t value;

	if (node == NULL || rte_rib6_get_nh(node, &value) != 0)
		return -ENOENT;
	*nh = (uint32_t)value;
	return 0;
}

uint32_t fib6_lookup_one(const struct fib6 *f, const uint8_t ip[16])
{
	struct rte_rib6_node *node = rte_rib6_lookup(rte_fib6_get_rib(fib6_reader(f)), ip);
	uint64_t value;

	if (node == NULL || rte_rib6_get_nh(node, &value) != 0)
		return NH_NONE;
	return (uint32_t)value;
}

static int visit6(const struct rte_rib6_node *node, fib6_walk_fn cb, void *cookie)
{
	uint8_t ip[16];
	uint8_t depth;
	uint64_t nh;

	rte_rib6_get_ip(node, ip);
	rte_rib6_get_depth(node, &depth);
	rte_rib6_get_nh(node, &nh);
	return cb(cookie, ip, depth, (uint32_t)nh);
}

/* Visits prefix/depth and every route inside it. */
static void walk_under6(struct rte_rib6 *rib, const uint8_t prefix[16], uint8_t depth, fib6_walk_fn cb, void *cookie)
{
	/* As in walk_rib4, prefix/depth itself is not among the prefixes rte_rib6_get_nxt returns. */
	struct rte_rib6_node *node = rte_rib6_lookup_exact(rib, prefix, depth);
	if (node != NULL && visit6(node, cb, cookie) != 0)
		return;
	node = NULL;
	while ((node = rte_rib6_get_nxt(rib, prefix, depth, node, RTE_RIB6_GET_NXT_ALL)) != NULL)
		if (visit6(node, cb, cookie) != 0)
			return;
}

static void walk_rib6(struct rte_rib6 *rib, fib6_walk_fn cb, void *cookie)
{
	static const uint8_t any[16];

	walk_under6(rib, any, 0, cb, cookie);
}

void fib6_walk(const struct fib6 *f, fib6_walk_fn cb, void *cookie)
{
	walk_rib6(rte_fib6_get_rib(fib6_reader(f)), cb, cookie);
}

void fib6_walk_copy(const struct fib6 *f, unsigned int copy_idx, fib6_walk_fn cb, void *cookie)
{
	if (copy_idx < 2)
		walk_rib6(rte_fib6_get_rib(f->copy[copy_idx]), cb, cookie);
}

/* ---- compact IPv4: the routes of every compact handle in one shared IPv6 FIB (fib.h) ---- */

#define SHARED4_NAME "v4-shared"
/* Key bits before the IPv4 address: the VRF slot. */
#define SLOT_BITS 32

static struct {
	uint32_t max_routes;
	uint32_t num_tbl8;
	struct fib6 *table; /* NULL while no compact handle exists */
	struct fib4 *handles;
	/* the RCU variable of the last edit: fib4_destroy has none but may have to delete routes */
	struct rte_rcu_qsbr *qs;
	/* fib4_compact_set_qs()'s: the workers' while they run; purges prefer it to the last edit's */
	struct rte_rcu_qsbr *workers_qs;
} shared4 = {.max_routes = FIB4_COMPACT_ROUTES_DEFAULT, .num_tbl8 = FIB4_COMPACT_TBL8_DEFAULT};

void fib4_compact_set_qs(struct rte_rcu_qsbr *qs)
{
	if (qs == NULL && shared4.qs == shared4.workers_qs)
		shared4.qs = NULL; /* not left pointing at a variable the caller is about to free */
	shared4.workers_qs = qs;
}

void fib4_compact_configure(uint32_t max_routes_total, uint32_t tbl8_groups)
{
	shared4.max_routes =
		max_routes_total == 0 ? FIB4_COMPACT_ROUTES_DEFAULT : RTE_MIN(max_routes_total, FIB_MAX_ROUTES);
	shared4.num_tbl8 = tbl8_groups == 0 ? FIB4_COMPACT_TBL8_DEFAULT : RTE_MIN(tbl8_groups, FIB4_COMPACT_TBL8_MAX);
}

static void compact_key4(const struct fib4 *f, uint32_t ip, uint8_t depth, uint8_t key[16], uint8_t *key_depth)
{
	fib4_compact_key(f->slot, ip, key);
	*key_depth = (uint8_t)(SLOT_BITS + depth);
}

struct walk_compact4_cookie {
	fib4_walk_fn cb;
	void *cookie;
};

static int visit_compact4(void *cookie, const uint8_t key[16], uint8_t key_depth, uint32_t nh)
{
	const struct walk_compact4_cookie *w = cookie;
	uint32_t ip;

	memcpy(&ip, key + SLOT_BITS / 8, sizeof(ip));
	return w->cb(w->cookie, rte_be_to_cpu_32(ip), (uint8_t)(key_depth - SLOT_BITS), nh);
}

static void walk_compact4(struct rte_fib6 *table, uint32_t slot, fib4_walk_fn cb, void *cookie)
{
	struct walk_compact4_cookie w = {.cb = cb, .cookie = cookie};
	uint8_t key[16];

	fib4_compact_key(slot, 0, key);
	walk_under6(rte_fib6_get_rib(table), key, SLOT_BITS, visit_compact4, &w);
}

/* The shared table counts every compact route against its own max_routes; the handle's limit is fib4_add's. */
static int edit_compact4(struct fib4 *f, uint32_t ip, uint8_t depth, const struct route_state *want,
			 struct rte_rcu_qsbr *qs)
{
	uint8_t key[16], key_depth;

	compact_key4(f, ip, depth, key, &key_depth);
	if (qs != NULL)
		shared4.qs = qs;
	return want->present ? fib6_add(f->shared, key, key_depth, want->nh, qs)
			     : fib6_del(f->shared, key, key_depth, qs);
}

/*
 * Deletes every route of slot from the shared table, deepest first (a parent then goes in one range write). Routes
 * a failed purge leaves belong to no handle: the next purge of the slot (creating or destroying a handle) retries.
 */
static int purge_slot4(uint32_t slot)
{
	struct fib6 *table = shared4.table;
	struct route6_list routes = {0};
	uint8_t key[16];

	fib4_compact_key(slot, 0, key);
	walk_under6(rte_fib6_get_rib(fib6_reader(table)), key, SLOT_BITS, route6_append, &routes);
	int rc = routes.out_of_memory ? -ENOMEM : 0;
	if (routes.n > 1)
		qsort(routes.v, routes.n, sizeof(*routes.v), by_depth6);
	for (size_t i = routes.n; i-- > 0 && rc == 0;)
		rc = fib6_del(table, routes.v[i].ip, routes.v[i].depth,
			      shared4.workers_qs != NULL ? shared4.workers_qs : shared4.qs);
	free(routes.v);
	return rc;
}

struct fib4 *fib4_create_compact(uint32_t vrf_slot, int socket, uint32_t max_routes)
{
	if (max_routes == 0 || max_routes > FIB_MAX_ROUTES) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (const struct fib4 *h = shared4.handles; h != NULL; h = h->next_compact)
		if (h->slot == vrf_slot) {
			rte_errno = EEXIST;
			return NULL;
		}
	struct fib4 *f = rte_zmalloc_socket("fib4", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	int rc = 0;
	if (shared4.table == NULL) {
		shared4.table = create6(SHARED4_NAME, socket, shared4.max_routes, shared4.num_tbl8, false);
		rc = shared4.table != NULL ? 0 : -rte_errno;
	} else {
		rc = purge_slot4(vrf_slot);
	}
	if (rc < 0) {
		rte_free(f);
		rte_errno = -rc;
		return NULL;
	}
	f->shared = shared4.table;
	f->slot = vrf_slot;
	f->max_routes = max_routes;
	f->next_compact = shared4.handles;
	shared4.handles = f;
	return f;
}

static void destroy_compact4(struct fib4 *f)
{
	purge_slot4(f->slot);
	for (struct fib4 **link = &shared4.handles; *link != NULL; link = &(*link)->next_compact)
		if (*link == f) {
			*link = f->next_compact;
			break;
		}
	rte_free(f);
	if (shared4.handles == NULL && shared4.table->n_routes == 0) {
		fib6_destroy(shared4.table);
		shared4.table = NULL;
		shared4.qs = NULL;
	}
}
