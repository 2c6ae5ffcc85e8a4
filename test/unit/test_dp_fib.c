/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/fib.c: API basics, a randomized comparison with a naive longest-prefix match, the undo of
 * a half-applied edit, the DPDK 22.11 bugs fib.c works around, and the RCU path (a reader thread doing bulk lookups
 * while the control thread edits). FIB_TEST_SEED=<n> replays another random sequence.
 * IPv4 and IPv6 run through one "family" driver so every test covers both; addresses are 16 bytes in network
 * order (IPv4 uses the first 4). A third family, "v4c", runs the same tests on compact IPv4 handles
 * (fib4_create_compact), whose routes share one table; more tests cover that sharing: thousands of handles within
 * RTE_MAX_MEMZONE, isolation of the VRFs, random edits in many VRFs at once, and rebuilds of the shared table.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/fib.h"
#include "lib/hdr/addr.h"

#define LOOKUP_BATCH 64

struct addr16 {
	uint8_t b[16];
};

struct route {
	struct addr16 ip;
	uint8_t depth;
	uint32_t nh;
};

/* A growable array of routes: the naive reference FIB, and the result of a walk. */
struct route_list {
	struct route *v;
	size_t n;
	size_t cap;
};

/* ---- helpers on 16-byte addresses ---- */

static void set_bit(struct addr16 *a, unsigned int bit, bool value)
{
	uint8_t m = (uint8_t)(0x80 >> (bit % 8));
	a->b[bit / 8] = value ? (a->b[bit / 8] | m) : (a->b[bit / 8] & ~m);
}

static void mask_addr(struct addr16 *a, uint8_t depth)
{
	for (unsigned int bit = depth; bit < 128; bit++)
		set_bit(a, bit, false);
}

static bool prefix_contains(const struct addr16 *p, uint8_t depth, const struct addr16 *a)
{
	unsigned int full = depth / 8, rest = depth % 8;

	if (memcmp(p->b, a->b, full) != 0)
		return false;
	return rest == 0 || ((p->b[full] ^ a->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static uint32_t v4_host(const struct addr16 *a)
{
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

static struct addr16 v4_bytes(uint32_t ip)
{
	struct addr16 a = {{(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip}};
	return a;
}

static const char *fmt_addr(const struct addr16 *a, uint8_t max_depth, char *buf, size_t len)
{
	struct addr printable = {.family = max_depth == 32 ? 4 : 6};
	memcpy(printable.bytes, a->b, sizeof(printable.bytes));
	return addr_fmt(&printable, buf, len);
}

/* ---- route lists ---- */

static void list_append(struct route_list *l, const struct addr16 *ip, uint8_t depth, uint32_t nh)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			abort();
	}
	l->v[l->n++] = (struct route){.ip = *ip, .depth = depth, .nh = nh};
}

static int route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	int c = memcmp(x->ip.b, y->ip.b, 16);
	return c != 0 ? c : (int)x->depth - (int)y->depth;
}

static bool lists_equal_sorted(struct route_list *a, struct route_list *b)
{
	if (a->n != b->n)
		return false;
	if (a->n == 0)
		return true; /* v may be NULL, which qsort does not take */
	qsort(a->v, a->n, sizeof(*a->v), route_cmp);
	qsort(b->v, b->n, sizeof(*b->v), route_cmp);
	for (size_t i = 0; i < a->n; i++)
		if (route_cmp(&a->v[i], &b->v[i]) != 0 || a->v[i].nh != b->v[i].nh)
			return false;
	return true;
}

static ssize_t ref_find(const struct route_list *ref, const struct addr16 *ip, uint8_t depth)
{
	for (size_t i = 0; i < ref->n; i++)
		if (ref->v[i].depth == depth && memcmp(ref->v[i].ip.b, ip->b, 16) == 0)
			return (ssize_t)i;
	return -1;
}

static void ref_remove(struct route_list *ref, size_t idx)
{
	ref->v[idx] = ref->v[--ref->n];
}

/* The deliberately naive longest-prefix match the FIB is checked against. */
static uint32_t ref_lpm(const struct route_list *ref, const struct addr16 *a)
{
	int best_depth = -1;
	uint32_t nh = NH_NONE;

	for (size_t i = 0; i < ref->n; i++)
		if (ref->v[i].depth > best_depth && prefix_contains(&ref->v[i].ip, ref->v[i].depth, a)) {
			best_depth = ref->v[i].depth;
			nh = ref->v[i].nh;
		}
	return nh;
}

/* ---- the family driver: one set of tests for fib4 and fib6 ---- */

struct family {
	const char *label;
	uint8_t max_depth;
	struct addr16 test_base; /* documentation prefix the RCU test builds its routes under */
	void *(*create)(const char *name, uint32_t max_routes, bool compact);
	void (*destroy)(void *fib);
	int (*add)(void *fib, const struct addr16 *ip, uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs);
	int (*del)(void *fib, const struct addr16 *ip, uint8_t depth, struct rte_rcu_qsbr *qs);
	int (*get)(void *fib, const struct addr16 *ip, uint8_t depth, uint32_t *nh);
	uint32_t (*lookup_one)(void *fib, const struct addr16 *ip);
	/* rte_fib*_lookup_bulk on fib*_reader() when copy_idx < 0, else on that copy */
	void (*lookup_bulk)(void *fib, int copy_idx, const struct addr16 *ips, uint32_t *nhs, unsigned int n);
	/* fib*_walk when copy_idx < 0, else fib*_walk_copy; replaces the list's content */
	void (*walk)(void *fib, int copy_idx, struct route_list *out, unsigned int stop_after);
	uint32_t (*n_routes)(void *fib);
	unsigned int (*active_idx)(void *fib);
	/* rte_fib*_add / delete on one copy only, to break the "both copies alike" invariant on purpose */
	int (*raw_add)(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth, uint32_t nh);
	int (*raw_del)(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth);
};

struct walk_cookie {
	struct route_list *out;
	unsigned int stop_after; /* 0: never */
};

static int walk_collect(struct walk_cookie *c, const struct addr16 *ip, uint8_t depth, uint32_t nh)
{
	list_append(c->out, ip, depth, nh);
	return c->stop_after != 0 && c->out->n >= c->stop_after;
}

static void *v4_create(const char *name, uint32_t max_routes, bool compact)
{
	return fib4_create(name, SOCKET_ID_ANY, max_routes, compact);
}

static void v4_destroy(void *fib)
{
	fib4_destroy(fib);
}

static int v4_add(void *fib, const struct addr16 *ip, uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs)
{
	return fib4_add(fib, v4_host(ip), depth, nh, qs);
}

static int v4_del(void *fib, const struct addr16 *ip, uint8_t depth, struct rte_rcu_qsbr *qs)
{
	return fib4_del(fib, v4_host(ip), depth, qs);
}

static int v4_get(void *fib, const struct addr16 *ip, uint8_t depth, uint32_t *nh)
{
	return fib4_get(fib, v4_host(ip), depth, nh);
}

static uint32_t v4_lookup_one(void *fib, const struct addr16 *ip)
{
	return fib4_lookup_one(fib, v4_host(ip));
}

static void v4_lookup_bulk(void *fib, int copy_idx, const struct addr16 *ips, uint32_t *nhs, unsigned int n)
{
	struct fib4 *f = fib;
	uint32_t keys[LOOKUP_BATCH];
	uint64_t out[LOOKUP_BATCH];

	for (unsigned int done = 0; done < n; done += LOOKUP_BATCH) {
		unsigned int batch = RTE_MIN(n - done, (unsigned int)LOOKUP_BATCH);
		for (unsigned int i = 0; i < batch; i++)
			keys[i] = v4_host(&ips[done + i]);
		/* the reader fetches the active copy once per batch, as a worker does once per burst */
		if (copy_idx < 0)
			fib4_lookup_bulk(f, keys, out, batch);
		else
			rte_fib_lookup_bulk(f->copy[copy_idx], keys, out, (int)batch);
		for (unsigned int i = 0; i < batch; i++)
			nhs[done + i] = (uint32_t)out[i];
	}
}

static int v4_collect(void *cookie, uint32_t ip, uint8_t depth, uint32_t nh)
{
	struct addr16 a = v4_bytes(ip);
	return walk_collect(cookie, &a, depth, nh);
}

static void v4_walk(void *fib, int copy_idx, struct route_list *out, unsigned int stop_after)
{
	struct walk_cookie c = {.out = out, .stop_after = stop_after};

	out->n = 0;
	if (copy_idx < 0)
		fib4_walk(fib, v4_collect, &c);
	else
		fib4_walk_copy(fib, (unsigned int)copy_idx, v4_collect, &c);
}

static uint32_t v4_n_routes(void *fib)
{
	return ((struct fib4 *)fib)->n_routes;
}

static unsigned int v4_active_idx(void *fib)
{
	struct fib4 *f = fib;
	return fib4_reader(f) == f->copy[1];
}

static int v4_raw_add(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth, uint32_t nh)
{
	return rte_fib_add(((struct fib4 *)fib)->copy[copy_idx], v4_host(ip), depth, nh);
}

static int v4_raw_del(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth)
{
	return rte_fib_delete(((struct fib4 *)fib)->copy[copy_idx], v4_host(ip), depth);
}

static void *v6_create(const char *name, uint32_t max_routes, bool compact)
{
	return fib6_create(name, SOCKET_ID_ANY, max_routes, compact);
}

static void v6_destroy(void *fib)
{
	fib6_destroy(fib);
}

static int v6_add(void *fib, const struct addr16 *ip, uint8_t depth, uint32_t nh, struct rte_rcu_qsbr *qs)
{
	return fib6_add(fib, ip->b, depth, nh, qs);
}

static int v6_del(void *fib, const struct addr16 *ip, uint8_t depth, struct rte_rcu_qsbr *qs)
{
	return fib6_del(fib, ip->b, depth, qs);
}

static int v6_get(void *fib, const struct addr16 *ip, uint8_t depth, uint32_t *nh)
{
	return fib6_get(fib, ip->b, depth, nh);
}

static uint32_t v6_lookup_one(void *fib, const struct addr16 *ip)
{
	return fib6_lookup_one(fib, ip->b);
}

static void v6_lookup_bulk(void *fib, int copy_idx, const struct addr16 *ips, uint32_t *nhs, unsigned int n)
{
	struct fib6 *f = fib;
	uint8_t keys[LOOKUP_BATCH][16];
	uint64_t out[LOOKUP_BATCH];

	for (unsigned int done = 0; done < n; done += LOOKUP_BATCH) {
		unsigned int batch = RTE_MIN(n - done, (unsigned int)LOOKUP_BATCH);
		for (unsigned int i = 0; i < batch; i++)
			memcpy(keys[i], ips[done + i].b, 16);
		if (copy_idx < 0) /* the workers' lookup: the TRIE walked level by level, as they do */
			fib6_lookup_bulk(f, keys, out, batch);
		else
			rte_fib6_lookup_bulk(f->copy[copy_idx], keys, out, (int)batch);
		for (unsigned int i = 0; i < batch; i++)
			nhs[done + i] = (uint32_t)out[i];
	}
}

static int v6_collect(void *cookie, const uint8_t ip[16], uint8_t depth, uint32_t nh)
{
	struct addr16 a;
	memcpy(a.b, ip, 16);
	return walk_collect(cookie, &a, depth, nh);
}

static void v6_walk(void *fib, int copy_idx, struct route_list *out, unsigned int stop_after)
{
	struct walk_cookie c = {.out = out, .stop_after = stop_after};

	out->n = 0;
	if (copy_idx < 0)
		fib6_walk(fib, v6_collect, &c);
	else
		fib6_walk_copy(fib, (unsigned int)copy_idx, v6_collect, &c);
}

static uint32_t v6_n_routes(void *fib)
{
	return ((struct fib6 *)fib)->n_routes;
}

static unsigned int v6_active_idx(void *fib)
{
	struct fib6 *f = fib;
	return fib6_reader(f) == f->copy[1];
}

static int v6_raw_add(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth, uint32_t nh)
{
	return rte_fib6_add(((struct fib6 *)fib)->copy[copy_idx], ip->b, depth, nh);
}

static int v6_raw_del(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth)
{
	return rte_fib6_delete(((struct fib6 *)fib)->copy[copy_idx], ip->b, depth);
}

static const struct family fam_v4 = {
	.label = "v4",
	.max_depth = 32,
	.test_base = {{10}},
	.create = v4_create,
	.destroy = v4_destroy,
	.add = v4_add,
	.del = v4_del,
	.get = v4_get,
	.lookup_one = v4_lookup_one,
	.lookup_bulk = v4_lookup_bulk,
	.walk = v4_walk,
	.n_routes = v4_n_routes,
	.active_idx = v4_active_idx,
	.raw_add = v4_raw_add,
	.raw_del = v4_raw_del,
};

static const struct family fam_v6 = {
	.label = "v6",
	.max_depth = 128,
	.test_base = {{0x20, 0x01, 0x0d, 0xb8}},
	.create = v6_create,
	.destroy = v6_destroy,
	.add = v6_add,
	.del = v6_del,
	.get = v6_get,
	.lookup_one = v6_lookup_one,
	.lookup_bulk = v6_lookup_bulk,
	.walk = v6_walk,
	.n_routes = v6_n_routes,
	.active_idx = v6_active_idx,
	.raw_add = v6_raw_add,
	.raw_del = v6_raw_del,
};

/* Compact IPv4 handles: the name and compact arguments do not apply; each handle takes the next VRF slot. */
static uint32_t next_slot = 1;

static void *v4c_create(const char *name, uint32_t max_routes, bool compact)
{
	return fib4_create_compact(next_slot++, SOCKET_ID_ANY, max_routes);
}

static void v4c_lookup_bulk(void *fib, int copy_idx, const struct addr16 *ips, uint32_t *nhs, unsigned int n)
{
	struct fib4 *f = fib;
	uint32_t addrs[LOOKUP_BATCH];
	uint8_t keys[LOOKUP_BATCH][16];
	uint64_t out[LOOKUP_BATCH];

	for (unsigned int done = 0; done < n; done += LOOKUP_BATCH) {
		unsigned int batch = RTE_MIN(n - done, (unsigned int)LOOKUP_BATCH);
		if (copy_idx < 0) {
			for (unsigned int i = 0; i < batch; i++)
				addrs[i] = v4_host(&ips[done + i]);
			fib4_lookup_bulk(f, addrs, out, batch);
		} else {
			for (unsigned int i = 0; i < batch; i++)
				fib4_compact_key(f->slot, v4_host(&ips[done + i]), keys[i]);
			rte_fib6_lookup_bulk(f->shared->copy[copy_idx], keys, out, (int)batch);
		}
		for (unsigned int i = 0; i < batch; i++)
			nhs[done + i] = (uint32_t)out[i];
	}
}

static unsigned int v4c_active_idx(void *fib)
{
	struct fib4 *f = fib;
	return fib6_reader(f->shared) == f->shared->copy[1];
}

static int v4c_raw_add(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth, uint32_t nh)
{
	struct fib4 *f = fib;
	uint8_t key[16];
	fib4_compact_key(f->slot, v4_host(ip), key);
	return rte_fib6_add(f->shared->copy[copy_idx], key, 32 + depth, nh);
}

static int v4c_raw_del(void *fib, unsigned int copy_idx, const struct addr16 *ip, uint8_t depth)
{
	struct fib4 *f = fib;
	uint8_t key[16];
	fib4_compact_key(f->slot, v4_host(ip), key);
	return rte_fib6_delete(f->shared->copy[copy_idx], key, 32 + depth);
}

static const struct family fam_v4c = {
	.label = "v4c",
	.max_depth = 32,
	.test_base = {{10}},
	.create = v4c_create,
	.destroy = v4_destroy,
	.add = v4_add,
	.del = v4_del,
	.get = v4_get,
	.lookup_one = v4_lookup_one,
	.lookup_bulk = v4c_lookup_bulk,
	.walk = v4_walk,
	.n_routes = v4_n_routes,
	.active_idx = v4c_active_idx,
	.raw_add = v4c_raw_add,
	.raw_del = v4c_raw_del,
};

/* ---- shared state and small utilities ---- */

/* The compact shared table of this test: 2 x ~106 MiB, and a third copy while a rebuild runs (see main's -m). */
#define TEST_COMPACT_ROUTES 65536
#define TEST_COMPACT_TBL8 16384

/* A QSBR variable nobody registers with: synchronize returns at once, but the double-buffer path still runs. */
static struct rte_rcu_qsbr *idle_qs;
static uint64_t seed = 0x6e70736777666962ull;

struct rng {
	uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
	/* splitmix64: reproducible from the printed seed */
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t bound)
{
	return (uint32_t)(rng_next(r) % bound);
}

static const char *unique_name(char *buf, size_t len)
{
	static unsigned int counter;
	snprintf(buf, len, "tfib-%u", counter++);
	return buf;
}

static struct rte_rcu_qsbr *qsbr_create(void)
{
	struct rte_rcu_qsbr *qs = rte_zmalloc("test-qs", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (qs == NULL || rte_rcu_qsbr_init(qs, 1) != 0)
		abort();
	return qs;
}

/* Literal addresses of the tests, "192.0.2.1" or "2001:db8::1", parsed by lib/hdr (same byte layout). */
static struct addr16 addr_from(const struct family *fam, const char *text)
{
	struct addr parsed;
	struct addr16 a = {{0}};

	if (addr_parse(text, &parsed) != 0 || parsed.family != (fam->max_depth == 32 ? 4 : 6)) {
		fprintf(stderr, "bad test address %s\n", text);
		abort();
	}
	memcpy(a.b, parsed.bytes, sizeof(a.b));
	return a;
}

/* Both copies hold the same routes: the invariant every edit must restore. */
static bool copies_alike(const struct family *fam, void *fib)
{
	struct route_list a = {0}, b = {0};
	fam->walk(fib, 0, &a, 0);
	fam->walk(fib, 1, &b, 0);
	bool same = lists_equal_sorted(&a, &b);
	free(a.v);
	free(b.v);
	return same;
}

/* ---- creation arguments ---- */

static void test_create_args(void)
{
	const struct family *fams[] = {&fam_v4, &fam_v6};
	char longest[FIB_NAME_MAX + 2];

	for (unsigned int i = 0; i < RTE_DIM(fams); i++) {
		const struct family *fam = fams[i];

		memset(longest, 'n', FIB_NAME_MAX + 1);
		longest[FIB_NAME_MAX + 1] = '\0';
		rte_errno = 0;
		CU_ASSERT_PTR_NULL(fam->create(longest, 16, true));
		CU_ASSERT_EQUAL(rte_errno, EINVAL);

		longest[FIB_NAME_MAX] = '\0';
		void *fib = fam->create(longest, 16, true);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
		rte_errno = 0;
		CU_ASSERT_PTR_NULL(fam->create(longest, 16, true));
		CU_ASSERT_EQUAL(rte_errno, EEXIST);
		fam->destroy(fib);
		/* the name is free again once destroyed */
		fib = fam->create(longest, 16, true);
		CU_ASSERT_PTR_NOT_NULL(fib);
		fam->destroy(fib);

		rte_errno = 0;
		CU_ASSERT_PTR_NULL(fam->create("", 16, true));
		CU_ASSERT_EQUAL(rte_errno, EINVAL);
		rte_errno = 0;
		CU_ASSERT_PTR_NULL(fam->create("zero-routes", 0, true));
		CU_ASSERT_EQUAL(rte_errno, EINVAL);
		fam->destroy(NULL);
	}
}

/* ---- basics ---- */

struct basic_route {
	const char *ip;
	uint8_t depth;
	uint32_t nh;
};

struct basic_probe {
	const char *ip;
	uint32_t nh;
};

struct basic_plan {
	struct basic_route routes[5];
	const char *host_bits_ip; /* same prefix as routes[2] with host bits set */
	struct basic_probe probes[6];
	struct basic_probe probes_after_edits[6];
};

static const struct basic_plan basic_v4 = {
	.routes = {{"0.0.0.0", 0, 4}, {"10.0.0.0", 8, 1}, {"10.1.0.0", 16, 2}, {"10.1.2.3", 32, 3},
		   {"10.1.2.0", 26, 7}},
	.host_bits_ip = "10.1.77.99",
	.probes = {{"10.1.2.3", 3}, {"10.1.2.4", 7}, {"10.1.2.64", 2}, {"10.2.0.1", 1}, {"192.0.2.1", 4},
		   {"10.1.255.255", 2}},
	/* after: 10.1/16 -> 5 (replace), 10.1.2.0/26 deleted, 0/0 deleted */
	.probes_after_edits = {{"10.1.2.3", 3}, {"10.1.2.4", 5}, {"10.1.2.64", 5}, {"10.2.0.1", 1},
			       {"192.0.2.1", NH_NONE}, {"10.1.255.255", 5}},
};

static const struct basic_plan basic_v6 = {
	.routes = {{"::", 0, 4}, {"2001:db8::", 32, 1}, {"2001:db8:1::", 48, 2}, {"2001:db8:1::3", 128, 3},
		   {"2001:db8:1::", 122, 7}},
	.host_bits_ip = "2001:db8:1:7766::9900",
	.probes = {{"2001:db8:1::3", 3}, {"2001:db8:1::4", 7}, {"2001:db8:1::40", 2}, {"2001:db8:2::1", 1},
		   {"3000::1", 4}, {"2001:db8:1:ffff:ffff:ffff:ffff:ffff", 2}},
	.probes_after_edits = {{"2001:db8:1::3", 3}, {"2001:db8:1::4", 5}, {"2001:db8:1::40", 5},
			       {"2001:db8:2::1", 1}, {"3000::1", NH_NONE},
			       {"2001:db8:1:ffff:ffff:ffff:ffff:ffff", 5}},
};

static void check_probes(const struct family *fam, void *fib, const struct basic_probe *probes, unsigned int n)
{
	struct addr16 ips[8];
	uint32_t nhs[8];

	for (unsigned int i = 0; i < n; i++) {
		ips[i] = addr_from(fam, probes[i].ip);
		CU_ASSERT_EQUAL(fam->lookup_one(fib, &ips[i]), probes[i].nh);
	}
	for (int copy = -1; copy < 2; copy++) {
		fam->lookup_bulk(fib, copy, ips, nhs, n);
		for (unsigned int i = 0; i < n; i++)
			CU_ASSERT_EQUAL(nhs[i], probes[i].nh);
	}
}

static void run_basics(const struct family *fam, const struct basic_plan *plan, bool compact,
		       struct rte_rcu_qsbr *qs)
{
	char name[32];
	void *fib = fam->create(unique_name(name, sizeof(name)), 64, compact);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	const unsigned int n_routes = RTE_DIM(plan->routes), n_probes = RTE_DIM(plan->probes);

	for (unsigned int i = 0; i < n_routes; i++) {
		struct addr16 ip = addr_from(fam, plan->routes[i].ip);
		CU_ASSERT_EQUAL(fam->add(fib, &ip, plan->routes[i].depth, plan->routes[i].nh, qs), 0);
	}
	CU_ASSERT_EQUAL(fam->n_routes(fib), n_routes);
	for (unsigned int i = 0; i < n_routes; i++) {
		struct addr16 ip = addr_from(fam, plan->routes[i].ip);
		uint32_t nh = 0;
		CU_ASSERT_EQUAL(fam->get(fib, &ip, plan->routes[i].depth, &nh), 0);
		CU_ASSERT_EQUAL(nh, plan->routes[i].nh);
	}
	check_probes(fam, fib, plan->probes, n_probes);

	/* walk: every route once, the default route included; and early stop */
	struct route_list seen = {0}, want = {0};
	fam->walk(fib, -1, &seen, 0);
	for (unsigned int i = 0; i < n_routes; i++) {
		struct addr16 ip = addr_from(fam, plan->routes[i].ip);
		mask_addr(&ip, plan->routes[i].depth);
		list_append(&want, &ip, plan->routes[i].depth, plan->routes[i].nh);
	}
	CU_ASSERT(lists_equal_sorted(&seen, &want));
	fam->walk(fib, -1, &seen, 2);
	CU_ASSERT_EQUAL(seen.n, 2);

	/* host bits are ignored; replacing keeps the count */
	struct addr16 prefix2 = addr_from(fam, plan->routes[2].ip), messy = addr_from(fam, plan->host_bits_ip);
	uint8_t depth2 = plan->routes[2].depth;
	uint32_t nh = 0;
	CU_ASSERT_EQUAL(fam->add(fib, &messy, depth2, 5, qs), 0);
	CU_ASSERT_EQUAL(fam->n_routes(fib), n_routes);
	CU_ASSERT_EQUAL(fam->get(fib, &prefix2, depth2, &nh), 0);
	CU_ASSERT_EQUAL(nh, 5);

	/* deletes: missing prefix, wrong depth, then real ones */
	struct addr16 absent = addr_from(fam, plan->probes[4].ip);
	CU_ASSERT_EQUAL(fam->del(fib, &absent, fam->max_depth, qs), -ENOENT);
	CU_ASSERT_EQUAL(fam->del(fib, &prefix2, depth2 + 1, qs), -ENOENT);
	CU_ASSERT_EQUAL(fam->get(fib, &prefix2, depth2 + 1, &nh), -ENOENT);
	struct addr16 prefix4 = addr_from(fam, plan->routes[4].ip), any = {{0}};
	CU_ASSERT_EQUAL(fam->del(fib, &prefix4, plan->routes[4].depth, qs), 0);
	CU_ASSERT_EQUAL(fam->del(fib, &prefix4, plan->routes[4].depth, qs), -ENOENT);
	CU_ASSERT_EQUAL(fam->del(fib, &any, 0, qs), 0);
	CU_ASSERT_EQUAL(fam->n_routes(fib), n_routes - 2);
	check_probes(fam, fib, plan->probes_after_edits, n_probes);
	CU_ASSERT(copies_alike(fam, fib));

	/* argument checks */
	CU_ASSERT_EQUAL(fam->add(fib, &any, fam->max_depth + 1, 1, qs), -EINVAL);
	CU_ASSERT_EQUAL(fam->del(fib, &any, fam->max_depth + 1, qs), -EINVAL);
	CU_ASSERT_EQUAL(fam->add(fib, &any, 1, (uint32_t)FIB_NH_MAX + 1, qs), -EINVAL);
	CU_ASSERT_EQUAL(fam->add(fib, &any, 1, FIB_NH_MAX, qs), 0);
	CU_ASSERT_EQUAL(fam->lookup_one(fib, &any), FIB_NH_MAX);
	CU_ASSERT_EQUAL(fam->n_routes(fib), n_routes - 1);

	free(seen.v);
	free(want.v);
	fam->destroy(fib);
}

static void test_basics_v4_fast(void)
{
	run_basics(&fam_v4, &basic_v4, false, NULL);
	run_basics(&fam_v4, &basic_v4, false, idle_qs);
}

static void test_basics_v4_compact(void)
{
	run_basics(&fam_v4, &basic_v4, true, NULL);
	run_basics(&fam_v4, &basic_v4, true, idle_qs);
}

static void test_basics_v4_shared(void)
{
	run_basics(&fam_v4c, &basic_v4, true, NULL);
	run_basics(&fam_v4c, &basic_v4, true, idle_qs);
}

static void test_basics_v6_fast(void)
{
	run_basics(&fam_v6, &basic_v6, false, NULL);
	run_basics(&fam_v6, &basic_v6, false, idle_qs);
}

static void test_basics_v6_compact(void)
{
	run_basics(&fam_v6, &basic_v6, true, NULL);
	run_basics(&fam_v6, &basic_v6, true, idle_qs);
}

/* ---- capacity: max_routes distinct prefixes, whatever the table kind ---- */

static void run_capacity(const struct family *fam, bool compact)
{
	const uint32_t max_routes = 8;
	char name[32];
	void *fib = fam->create(unique_name(name, sizeof(name)), max_routes, compact);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	struct addr16 ip = fam->test_base;
	uint8_t depth = fam->max_depth; /* host routes: the ones that cost tbl8 groups */

	for (uint32_t i = 0; i < max_routes; i++) {
		ip.b[fam->max_depth / 8 - 1] = (uint8_t)(i * 16);
		ip.b[fam->max_depth / 8 - 2] = (uint8_t)i;
		CU_ASSERT_EQUAL(fam->add(fib, &ip, depth, i + 1, idle_qs), 0);
	}
	struct addr16 extra = fam->test_base;
	CU_ASSERT_EQUAL(fam->add(fib, &extra, 24, 99, idle_qs), -ENOSPC);
	CU_ASSERT_EQUAL(fam->add(fib, &ip, depth, 42, idle_qs), 0); /* replacing still works */
	CU_ASSERT_EQUAL(fam->n_routes(fib), max_routes);
	CU_ASSERT_EQUAL(fam->del(fib, &ip, depth, idle_qs), 0);
	CU_ASSERT_EQUAL(fam->add(fib, &extra, 24, 99, idle_qs), 0);
	CU_ASSERT_EQUAL(fam->n_routes(fib), max_routes);
	CU_ASSERT(copies_alike(fam, fib));
	fam->destroy(fib);
}

static void test_capacity(void)
{
	run_capacity(&fam_v4, false);
	run_capacity(&fam_v4, true);
	run_capacity(&fam_v4c, true);
	run_capacity(&fam_v6, false);
	run_capacity(&fam_v6, true);
}

/* ---- undo when the second copy refuses an edit ---- */

static void run_undo(const struct family *fam, struct rte_rcu_qsbr *qs)
{
	char name[32];
	/* compact, 4 routes: each copy's RIB pool has 8 nodes, easy to exhaust by hand */
	void *fib = fam->create(unique_name(name, sizeof(name)), 4, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	struct addr16 kept = fam->test_base;
	CU_ASSERT_EQUAL(fam->add(fib, &kept, 16, 1, qs), 0);

	/* fill the pool of the copy that fib*_add edits second (the active one) behind the wrapper's back */
	unsigned int polluted = fam->active_idx(fib);
	struct addr16 junk[16];
	unsigned int n_junk = 0;
	for (; n_junk < RTE_DIM(junk); n_junk++) {
		junk[n_junk] = (struct addr16){{(uint8_t)(192 + n_junk % 2), (uint8_t)(n_junk * 8)}};
		if (fam->raw_add(fib, polluted, &junk[n_junk], 16, 9) != 0)
			break;
	}
	CU_ASSERT_FATAL(n_junk < RTE_DIM(junk));

	struct addr16 fresh = fam->test_base;
	fresh.b[1] ^= 0x80;
	uint32_t nh;
	CU_ASSERT(fam->add(fib, &fresh, 24, 2, qs) < 0);
	CU_ASSERT_EQUAL(fam->n_routes(fib), 1);
	CU_ASSERT_EQUAL(fam->get(fib, &fresh, 24, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fam->lookup_one(fib, &fresh), NH_NONE);
	struct route_list other = {0};
	fam->walk(fib, (int)(1 - polluted), &other, 0);
	CU_ASSERT_EQUAL(other.n, 1); /* only "kept": the half-applied add was reverted */
	free(other.v);

	for (unsigned int i = 0; i < n_junk; i++)
		CU_ASSERT_EQUAL(fam->raw_del(fib, polluted, &junk[i], 16), 0);
	CU_ASSERT(copies_alike(fam, fib));
	CU_ASSERT_EQUAL(fam->add(fib, &fresh, 24, 2, qs), 0);
	CU_ASSERT_EQUAL(fam->n_routes(fib), 2);
	CU_ASSERT(copies_alike(fam, fib));
	fam->destroy(fib);
}

static void test_undo(void)
{
	run_undo(&fam_v4, NULL);
	run_undo(&fam_v4, idle_qs);
	run_undo(&fam_v6, NULL);
	run_undo(&fam_v6, idle_qs);
	/* a shared table as small as the compact FIBs' above (4 routes, 8 RIB nodes a copy) */
	fib4_compact_configure(4, 256);
	run_undo(&fam_v4c, NULL);
	run_undo(&fam_v4c, idle_qs);
	fib4_compact_configure(TEST_COMPACT_ROUTES, TEST_COMPACT_TBL8);
}

/* ---- the top of the address space (DPDK 22.11 rewrote the whole table there; fib.c works around it) ---- */

static struct addr16 top_prefix(const struct family *fam, uint8_t depth, unsigned int steps_below)
{
	struct addr16 a = {{0}};
	memset(a.b, 0xff, fam->max_depth / 8);
	mask_addr(&a, depth);
	/* step down by whole prefixes of this depth */
	for (unsigned int bit = depth; steps_below > 0 && bit-- > 0;) {
		bool one = a.b[bit / 8] & (0x80 >> (bit % 8));
		set_bit(&a, bit, !one);
		if (one)
			steps_below--;
	}
	return a;
}

static void expect_lookup(const struct family *fam, void *fib, const struct addr16 *ip, uint32_t want)
{
	uint32_t got;
	for (int copy = -1; copy < 2; copy++) {
		fam->lookup_bulk(fib, copy, ip, &got, 1);
		CU_ASSERT_EQUAL(got, want);
	}
	CU_ASSERT_EQUAL(fam->lookup_one(fib, ip), want);
}

static void run_top_of_space(const struct family *fam, bool compact, struct rte_rcu_qsbr *qs)
{
	char name[32];
	void *fib = fam->create(unique_name(name, sizeof(name)), 64, compact);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	const uint8_t max = fam->max_depth;
	struct addr16 any = {{0}}, low = fam->test_base, top = top_prefix(fam, max, 0);
	struct addr16 upper = top_prefix(fam, 4, 0), lower = top_prefix(fam, 4, 1);
	struct addr16 in_lower = lower;
	set_bit(&in_lower, max - 1, true);

	/* like 224/4 and 240/4 blackholed, then the default route comes, changes and goes */
	CU_ASSERT_EQUAL(fam->add(fib, &lower, 4, 7, qs), 0);
	CU_ASSERT_EQUAL(fam->add(fib, &upper, 4, 8, qs), 0);
	for (uint32_t nh = 2; nh <= 3; nh++) {
		CU_ASSERT_EQUAL(fam->add(fib, &any, 0, nh, qs), 0);
		expect_lookup(fam, fib, &low, nh);
		expect_lookup(fam, fib, &in_lower, 7);
		expect_lookup(fam, fib, &top, 8);
	}
	CU_ASSERT_EQUAL(fam->del(fib, &any, 0, qs), 0);
	expect_lookup(fam, fib, &low, NH_NONE);
	expect_lookup(fam, fib, &in_lower, 7);
	expect_lookup(fam, fib, &top, 8);

	/* the last two host routes, then the prefix around them */
	struct addr16 last = top_prefix(fam, max, 0), before_last = top_prefix(fam, max, 1);
	struct addr16 around = top_prefix(fam, max - 8, 0), in_around = around;
	CU_ASSERT_EQUAL(fam->add(fib, &before_last, max, 9, qs), 0);
	CU_ASSERT_EQUAL(fam->add(fib, &last, max, 10, qs), 0);
	CU_ASSERT_EQUAL(fam->add(fib, &around, max - 8, 11, qs), 0);
	set_bit(&in_around, max - 4, true);
	expect_lookup(fam, fib, &low, NH_NONE);
	expect_lookup(fam, fib, &in_lower, 7);
	expect_lookup(fam, fib, &in_around, 11);
	expect_lookup(fam, fib, &before_last, 9);
	expect_lookup(fam, fib, &last, 10);
	CU_ASSERT_EQUAL(fam->del(fib, &upper, 4, qs), 0);
	expect_lookup(fam, fib, &in_around, 11);
	expect_lookup(fam, fib, &last, 10);
	CU_ASSERT_EQUAL(fam->n_routes(fib), 4);
	CU_ASSERT(copies_alike(fam, fib));
	fam->destroy(fib);
}

static void test_top_of_space(void)
{
	const struct family *fams[] = {&fam_v4, &fam_v6};
	for (unsigned int i = 0; i < RTE_DIM(fams); i++) {
		run_top_of_space(fams[i], false, NULL);
		run_top_of_space(fams[i], false, idle_qs);
		run_top_of_space(fams[i], true, idle_qs);
	}
	run_top_of_space(&fam_v4c, true, NULL);
	run_top_of_space(&fam_v4c, true, idle_qs);
	/* the last slot holds the last address of the shared table: the wrap-around bug is back in play */
	uint32_t saved = next_slot;
	next_slot = UINT32_MAX;
	run_top_of_space(&fam_v4c, true, idle_qs);
	next_slot = saved;
}

/* ---- tbl8 accounting (DPDK 22.11 lost track of it; fib.c works around it) ---- */

/* A long route with its parent's next hop, added and deleted: DIR24_8's counter went below zero. */
static void run_same_nh_churn4(struct rte_rcu_qsbr *qs)
{
	const uint32_t max_routes = 64;
	char name[32];
	void *fib = fam_v4.create(unique_name(name, sizeof(name)), max_routes, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	struct addr16 parent = addr_from(&fam_v4, "10.0.0.0"), child = addr_from(&fam_v4, "10.0.1.16");
	CU_ASSERT_EQUAL(fam_v4.add(fib, &parent, 16, 5, qs), 0);
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(fam_v4.add(fib, &child, 28, 5, qs), 0);
		CU_ASSERT_EQUAL(fam_v4.del(fib, &child, 28, qs), 0);
	}
	/* every other route is a /25 alone in its /24: each needs its own tbl8 group */
	unsigned int refused = 0;
	for (uint32_t i = 1; i < max_routes; i++) {
		struct addr16 ip = {{20, 0, (uint8_t)i, 0x80}};
		refused += fam_v4.add(fib, &ip, 25, i, qs) != 0;
		expect_lookup(&fam_v4, fib, &ip, i);
	}
	CU_ASSERT_EQUAL(refused, 0);
	CU_ASSERT_EQUAL(fam_v4.n_routes(fib), max_routes);
	CU_ASSERT(copies_alike(&fam_v4, fib));
	fam_v4.destroy(fib);
}

/* Host routes added and deleted over and over: TRIE never gave its tbl8 groups back. */
static void run_host_churn6(struct rte_rcu_qsbr *qs)
{
	const uint32_t max_routes = 16; /* 256 tbl8 groups: 19 host routes' worth */
	char name[32];
	void *fib = fam_v6.create(unique_name(name, sizeof(name)), max_routes, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	struct rng r = {seed ^ 0xc0ffee};
	unsigned int refused = 0;

	for (uint32_t i = 1; i <= 100; i++) {
		struct addr16 ip;
		for (unsigned int k = 0; k < 16; k++)
			ip.b[k] = (uint8_t)rng_next(&r);
		refused += fam_v6.add(fib, &ip, 128, i, qs) != 0;
		expect_lookup(&fam_v6, fib, &ip, i);
		CU_ASSERT_EQUAL(fam_v6.del(fib, &ip, 128, qs), 0);
	}
	struct addr16 kept[16];
	for (uint32_t i = 0; i < max_routes; i++) {
		for (unsigned int k = 0; k < 16; k++)
			kept[i].b[k] = (uint8_t)rng_next(&r);
		refused += fam_v6.add(fib, &kept[i], 128, i + 1, qs) != 0;
	}
	for (uint32_t i = 0; i < max_routes; i++)
		expect_lookup(&fam_v6, fib, &kept[i], i + 1);
	CU_ASSERT_EQUAL(refused, 0);
	CU_ASSERT_EQUAL(fam_v6.n_routes(fib), max_routes);
	CU_ASSERT(copies_alike(&fam_v6, fib));
	fam_v6.destroy(fib);
}

static void test_tbl8_accounting(void)
{
	run_same_nh_churn4(NULL);
	run_same_nh_churn4(idle_qs);
	run_host_churn6(NULL);
	run_host_churn6(idle_qs);
}

/* ---- randomized comparison with the naive reference ---- */

#define RANDOM_BASES 6
#define RANDOM_OPS 6000
#define RANDOM_MAX_ROUTES 4096
#define RANDOM_CHECK_EVERY 250
#define RANDOM_PROBES 256

/* Prefixes from a few base addresses with a random suffix: many nested routes, diverging at every depth. */
static void random_prefix(struct rng *r, const struct family *fam, const struct addr16 *bases, struct addr16 *ip,
			  uint8_t *depth)
{
	unsigned int max = fam->max_depth;
	unsigned int diverge = rng_below(r, max + 1);

	*ip = bases[rng_below(r, RANDOM_BASES)];
	for (unsigned int bit = diverge; bit < max; bit++)
		set_bit(ip, bit, rng_below(r, 2));
	*depth = (uint8_t)(diverge + rng_below(r, max - diverge + 1));
}

/* Mostly small values so that a route often has its parent's next hop (a special case inside rte_fib). */
static uint32_t random_nh(struct rng *r)
{
	return rng_below(r, 5) != 0 ? 1 + rng_below(r, 8) : 1 + rng_below(r, FIB_NH_MAX);
}

static unsigned int compare_lookups(const struct family *fam, void *fib, const struct route_list *ref, struct rng *r,
				    const struct addr16 *bases)
{
	struct addr16 probes[RANDOM_PROBES];
	uint32_t got[RANDOM_PROBES];
	unsigned int wrong = 0;
	char text[ADDR_STR_MAX];

	for (unsigned int i = 0; i < RANDOM_PROBES; i++) {
		uint8_t unused;
		if (rng_below(r, 10) == 0)
			for (unsigned int k = 0; k < 16; k++)
				probes[i].b[k] = (uint8_t)rng_next(r);
		else
			random_prefix(r, fam, bases, &probes[i], &unused);
		if (fam->max_depth == 32)
			memset(probes[i].b + 4, 0, 12);
	}
	for (int copy = -1; copy < 2; copy++) {
		fam->lookup_bulk(fib, copy, probes, got, RANDOM_PROBES);
		for (unsigned int i = 0; i < RANDOM_PROBES; i++) {
			uint32_t want = ref_lpm(ref, &probes[i]);
			uint32_t one = copy < 0 ? fam->lookup_one(fib, &probes[i]) : want;
			if (got[i] == want && one == want)
				continue;
			if (wrong++ < 5)
				printf("\n  %s copy %d: %s -> bulk %u, one %u, want %u", fam->label, copy,
				       fmt_addr(&probes[i], fam->max_depth, text, sizeof(text)), got[i], one, want);
		}
	}
	return wrong;
}

static void run_random(const struct family *fam, bool compact, struct rte_rcu_qsbr *qs)
{
	struct rng r = {seed};
	r.state = rng_next(&r) ^ (fam->max_depth * 131u + compact * 7u + (qs != NULL));
	struct addr16 bases[RANDOM_BASES];
	/* the two ends of the address space are bases too: DPDK had wrap-around bugs there */
	memset(bases, 0, sizeof(bases));
	memset(bases[0].b, 0xff, fam->max_depth / 8);
	for (unsigned int i = 2; i < RANDOM_BASES; i++)
		for (unsigned int k = 0; k < fam->max_depth / 8u; k++)
			bases[i].b[k] = (uint8_t)rng_next(&r);

	char name[32];
	void *fib = fam->create(unique_name(name, sizeof(name)), RANDOM_MAX_ROUTES, compact);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	struct route_list ref = {0}, walked = {0};
	unsigned int bad_rc = 0, bad_get = 0, bad_count = 0, unlike = 0, wrong_lookups = 0, full = 0;

	for (unsigned int op = 0; op < RANDOM_OPS; op++) {
		unsigned int dice = rng_below(&r, 100);
		struct addr16 ip;
		uint8_t depth;
		bool add = dice < 70 || ref.n == 0;

		if (ref.n > 0 && ((dice >= 55 && dice < 70) || (dice >= 70 && dice < 95))) {
			const struct route *pick = &ref.v[rng_below(&r, (uint32_t)ref.n)];
			ip = pick->ip;
			depth = pick->depth;
		} else {
			random_prefix(&r, fam, bases, &ip, &depth);
		}
		struct addr16 prefix = ip;
		mask_addr(&prefix, depth);
		ssize_t idx = ref_find(&ref, &prefix, depth);
		uint32_t nh = random_nh(&r);
		int rc;

		if (add) {
			rc = fam->add(fib, &ip, depth, nh, qs);
			/* an IPv6 TRIE may run out of tbl8 groups before max_routes: a refused add changes nothing */
			bool may_be_full = idx < 0 && !compact && fam->max_depth == 128;
			if (rc == -ENOSPC && may_be_full) {
				full++;
			} else if (rc != 0) {
				bad_rc++;
			} else if (idx >= 0) {
				ref.v[idx].nh = nh;
			} else {
				list_append(&ref, &prefix, depth, nh);
			}
		} else {
			rc = fam->del(fib, &ip, depth, qs);
			if (rc != (idx >= 0 ? 0 : -ENOENT))
				bad_rc++;
			else if (idx >= 0)
				ref_remove(&ref, (size_t)idx);
		}
		idx = ref_find(&ref, &prefix, depth);
		uint32_t got_nh = 0;
		int got = fam->get(fib, &prefix, depth, &got_nh);
		if (idx >= 0 ? got != 0 || got_nh != ref.v[idx].nh : got != -ENOENT)
			bad_get++;
		if (fam->n_routes(fib) != ref.n)
			bad_count++;
		if (qs != NULL && !copies_alike(fam, fib))
			unlike++;
		if (op % RANDOM_CHECK_EVERY == 0 || op == RANDOM_OPS - 1)
			wrong_lookups += compare_lookups(fam, fib, &ref, &r, bases);
	}
	fam->walk(fib, -1, &walked, 0);
	struct route_list expected = {0};
	for (size_t i = 0; i < ref.n; i++)
		list_append(&expected, &ref.v[i].ip, ref.v[i].depth, ref.v[i].nh);
	bool walk_ok = lists_equal_sorted(&walked, &expected);

	printf("\n    %s %s%s: %zu routes left, %u adds refused for lack of tbl8 groups ", fam->label,
	       compact ? "compact" : "fast", qs ? " qs" : "", ref.n, full);
	CU_ASSERT_EQUAL(bad_rc, 0);
	CU_ASSERT_EQUAL(bad_get, 0);
	CU_ASSERT_EQUAL(bad_count, 0);
	CU_ASSERT_EQUAL(unlike, 0);
	CU_ASSERT_EQUAL(wrong_lookups, 0);
	CU_ASSERT(walk_ok);
	CU_ASSERT(copies_alike(fam, fib));
	free(ref.v);
	free(walked.v);
	free(expected.v);
	fam->destroy(fib);
}

static void test_random_v4_fast(void)
{
	run_random(&fam_v4, false, idle_qs);
	run_random(&fam_v4, false, NULL);
}

static void test_random_v4_compact(void)
{
	run_random(&fam_v4, true, idle_qs);
}

static void test_random_v4_shared(void)
{
	run_random(&fam_v4c, true, idle_qs);
	run_random(&fam_v4c, true, NULL);
}

static void test_random_v6_fast(void)
{
	run_random(&fam_v6, false, idle_qs);
	run_random(&fam_v6, false, NULL);
}

static void test_random_v6_compact(void)
{
	run_random(&fam_v6, true, idle_qs);
}

/* ---- the IPv6 TRIE read directly: fib6_trie_lookup_bulk() equals rte_fib6_lookup_bulk(), in both copies ---- */

#define TRIE_ROUTES 4000
#define TRIE_PROBES 20000

/* The 4-byte first-level entry of address ip. */
static uint32_t trie_entry24(const struct fib6_trie *t, const uint8_t ip[16])
{
	return t->tbl24[(uint32_t)ip[0] << 16 | (uint32_t)ip[1] << 8 | ip[2]];
}

/*
 * TRIE_PROBES addresses near the routes, looked up in batches of random sizes (some over FIB6_TRIE_BULK_MAX) both
 * ways; *direct and *extended count those that end in the first-level table or go past it, *deep those whose
 * walk went three levels past it, so the test exercises the level-by-level walk and not only its first step.
 */
static unsigned int compare_trie(const struct fib6 *f, struct rng *r, uint8_t (*bases)[16], unsigned int *direct,
				 unsigned int *extended, unsigned int *deep)
{
	static uint8_t ips[TRIE_PROBES][16];
	static uint64_t mine[TRIE_PROBES], dpdk[TRIE_PROBES];
	struct fib6_trie t;
	CU_ASSERT_FATAL(fib6_trie_get(f, &t));
	for (unsigned int i = 0; i < TRIE_PROBES; i++) {
		memcpy(ips[i], bases[rng_below(r, 64)], 16);
		ips[i][2] ^= (uint8_t)rng_below(r, 4);
		/* keep a random number of the base's bytes; a quarter anywhere (mostly one read: the default) */
		for (unsigned int k = rng_below(r, 4) == 0 ? 0 : 3 + rng_below(r, 14); k < 16; k++)
			ips[i][k] = (uint8_t)rng_next(r);
	}
	for (unsigned int done = 0; done < TRIE_PROBES;) {
		unsigned int n = RTE_MIN(1 + rng_below(r, 300), TRIE_PROBES - done);
		fib6_trie_lookup_bulk(&t, (const uint8_t(*)[16])&ips[done], &mine[done], n);
		done += n;
	}
	rte_fib6_lookup_bulk(fib6_reader(f), ips, dpdk, TRIE_PROBES);
	unsigned int wrong = 0;
	for (unsigned int i = 0; i < TRIE_PROBES; i++) {
		wrong += mine[i] != dpdk[i];
		uint32_t e = trie_entry24(&t, ips[i]);
		*direct += (e & 1) == 0;
		if (e & 1) {
			(*extended)++;
			unsigned int levels = 1;
			for (unsigned int byte = 3; (e & 1) && byte < 16; byte++, levels++)
				e = t.tbl8[(size_t)(e >> 1) * FIB6_TRIE_GROUP + ips[i][byte]];
			*deep += levels > 3;
		}
	}
	return wrong;
}

static void test_trie_v6(void)
{
	struct rng r = {seed ^ 0x74726965u};
	char name[32];
	struct fib6 *f = fib6_create(unique_name(name, sizeof(name)), SOCKET_ID_ANY, TRIE_ROUTES + 1, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	uint8_t bases[64][16];
	for (unsigned int i = 0; i < 64; i++)
		for (unsigned int k = 0; k < 16; k++)
			bases[i][k] = (uint8_t)rng_next(&r);
	unsigned int direct = 0, extended = 0, deep = 0, wrong = 0, added = 0;
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < TRIE_ROUTES / 2; i++) {
			uint8_t ip[16];
			memcpy(ip, bases[rng_below(&r, 64)], 16);
			ip[2] ^= (uint8_t)rng_below(&r, 4);
			uint8_t depth = (uint8_t)(12 + rng_below(&r, 117)); /* /12 to /128 */
			int rc = fib6_add(f, ip, depth, 1 + rng_below(&r, 1000), idle_qs);
			CU_ASSERT(rc == 0 || rc == -ENOSPC);
			added += rc == 0;
		}
		/* the copy now active (each add publishes the other one, so two rounds may compare the same copy: the
		 * single add below makes sure the other one is compared too) */
		wrong += compare_trie(f, &r, bases, &direct, &extended, &deep);
	}
	/* a change publishes the other copy: fib6_trie_get() follows it, and shows the change */
	struct fib6_trie before, after;
	CU_ASSERT_FATAL(fib6_trie_get(f, &before));
	uint8_t net[16] = {0};
	memcpy(net, bases[0], 3);
	while (trie_entry24(&before, net) & 1)
		net[2]++; /* a /24 without longer routes: its entry holds the next hop itself */
	CU_ASSERT_EQUAL(fib6_add(f, net, 24, 4242, idle_qs), 0);
	CU_ASSERT_FATAL(fib6_trie_get(f, &after));
	CU_ASSERT_PTR_NOT_EQUAL(before.tbl24, after.tbl24);
	CU_ASSERT_PTR_NOT_EQUAL(before.tbl8, after.tbl8);
	CU_ASSERT_EQUAL(trie_entry24(&after, net), 4242u << 1);
	wrong += compare_trie(f, &r, bases, &direct, &extended, &deep);
	printf("\n    %u routes; of %u lookups, %u in the first level, %u past it, %u over three levels ", added,
	       3 * TRIE_PROBES, direct, extended, deep);
	CU_ASSERT(added > TRIE_ROUTES / 2);
	CU_ASSERT(direct > TRIE_PROBES / 8);
	CU_ASSERT(extended > TRIE_PROBES / 4);
	CU_ASSERT(deep > 100);
	CU_ASSERT_EQUAL(wrong, 0);
	fib6_destroy(f);

	f = fib6_create(unique_name(name, sizeof(name)), SOCKET_ID_ANY, 16, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct fib6_trie none;
	CU_ASSERT_FALSE(fib6_trie_get(f, &none));
	fib6_destroy(f);
}

/* ---- RCU: a worker never sees a wrong next hop for routes nobody touches ---- */

#define STABLE_GROUPS 32
#define STABLE_PROBES (3 * STABLE_GROUPS)
#define CHURN_OPS 3000

struct reader {
	const struct family *fam;
	void *fib;
	struct rte_rcu_qsbr *qs;
	struct addr16 probes[STABLE_PROBES];
	uint32_t expected[STABLE_PROBES];
	bool stop;
	uint64_t rounds;
	uint64_t wrong;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	uint32_t got[STABLE_PROBES];

	rte_rcu_qsbr_thread_register(rd->qs, 0);
	rte_rcu_qsbr_thread_online(rd->qs, 0);
	while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
		rd->fam->lookup_bulk(rd->fib, -1, rd->probes, got, STABLE_PROBES);
		for (unsigned int i = 0; i < STABLE_PROBES; i++)
			if (got[i] != rd->expected[i])
				__atomic_fetch_add(&rd->wrong, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&rd->rounds, 1, __ATOMIC_RELEASE);
		rte_rcu_qsbr_quiescent(rd->qs, 0);
	}
	rte_rcu_qsbr_thread_offline(rd->qs, 0);
	rte_rcu_qsbr_thread_unregister(rd->qs, 0);
	return NULL;
}

/*
 * Per group i, three nested stable routes (at 1/2, 3/4 and all-but-4 bits of the address) and one probe that only
 * each of them answers. The churn routes sit in the same groups, down to the same tbl8 groups as the stable ones.
 */
static void stable_plan(const struct family *fam, void *fib, struct reader *rd)
{
	unsigned int d1 = fam->max_depth / 2, d2 = fam->max_depth * 3 / 4, last = fam->max_depth / 8 - 1;

	for (unsigned int i = 0; i < STABLE_GROUPS; i++) {
		struct addr16 r1 = fam->test_base, r2, r3;
		r1.b[d1 / 8 - 1] = (uint8_t)i;
		r2 = r1;
		r2.b[d2 / 8 - 1] = (uint8_t)i;
		r3 = r2;
		r3.b[last] = 0x10;
		CU_ASSERT_EQUAL(fam->add(fib, &r1, (uint8_t)d1, 1000 + i, NULL), 0);
		CU_ASSERT_EQUAL(fam->add(fib, &r2, (uint8_t)d2, 2000 + i, NULL), 0);
		CU_ASSERT_EQUAL(fam->add(fib, &r3, fam->max_depth - 4, 3000 + i, NULL), 0);

		struct addr16 *p = &rd->probes[3 * i];
		p[0] = r1;
		p[0].b[d2 / 8 - 1] = (uint8_t)(i + 100);
		p[0].b[last] = 1;
		p[1] = r2;
		p[1].b[last] = 200;
		p[2] = r3;
		p[2].b[last] = 0x14;
		rd->expected[3 * i] = 1000 + i;
		rd->expected[3 * i + 1] = 2000 + i;
		rd->expected[3 * i + 2] = 3000 + i;
	}
}

static void churn_prefix(const struct family *fam, struct rng *r, const struct reader *rd, struct addr16 *ip,
			 uint8_t *depth)
{
	unsigned int d1 = fam->max_depth / 2, d2 = fam->max_depth * 3 / 4;
	bool covers_probe;

	do {
		*ip = fam->test_base;
		ip->b[d1 / 8 - 1] = (uint8_t)rng_below(r, STABLE_GROUPS);
		for (unsigned int bit = d1; bit < fam->max_depth; bit++)
			set_bit(ip, bit, rng_below(r, 2));
		if (rng_below(r, 2))
			ip->b[d2 / 8 - 1] = ip->b[d1 / 8 - 1];
		*depth = (uint8_t)(d1 + 1 + rng_below(r, fam->max_depth - d1));
		mask_addr(ip, *depth);
		covers_probe = false;
		for (unsigned int i = 0; i < STABLE_PROBES && !covers_probe; i++)
			covers_probe = prefix_contains(ip, *depth, &rd->probes[i]);
	} while (covers_probe);
}

static void run_rcu(const struct family *fam, bool compact)
{
	struct rng r = {seed ^ (0x5eed + fam->max_depth + compact)};
	struct rte_rcu_qsbr *qs = qsbr_create();
	char name[32];
	void *fib = fam->create(unique_name(name, sizeof(name)), 8192, compact);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fib);
	struct reader rd = {.fam = fam, .fib = fib, .qs = qs};
	stable_plan(fam, fib, &rd);
	/* compact IPv4: another VRF of the shared table has routes over every probe, which the reader must never see */
	void *sibling = NULL;
	struct route_list sibling_routes = {0};
	if (fam == &fam_v4c) {
		struct addr16 any = {{0}};
		sibling = fam->create(unique_name(name, sizeof(name)), 8192, compact);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sibling);
		CU_ASSERT_EQUAL(fam->add(sibling, &any, 0, 77, NULL), 0);
		for (unsigned int i = 0; i < STABLE_PROBES; i++)
			CU_ASSERT_EQUAL(fam->add(sibling, &rd.probes[i], fam->max_depth, 78, NULL), 0);
	}

	/* main runs pinned to lcore 0; let the reader use any CPU so synchronize does not wait for a time slice */
	pthread_attr_t attr;
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_ONLN) && cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	pthread_t thread;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&thread, &attr, reader_main, &rd), 0);
	pthread_attr_destroy(&attr);
	while (__atomic_load_n(&rd.rounds, __ATOMIC_ACQUIRE) == 0)
		sched_yield();

	struct route_list churn = {0};
	unsigned int bad_rc = 0, unlike = 0;
	for (unsigned int op = 0; op < CHURN_OPS; op++) {
		if (churn.n == 0 || rng_below(&r, 5) < 3) {
			struct addr16 ip;
			uint8_t depth;
			uint32_t nh = random_nh(&r);
			churn_prefix(fam, &r, &rd, &ip, &depth);
			int rc = fam->add(fib, &ip, depth, nh, qs);
			ssize_t idx = ref_find(&churn, &ip, depth);
			if (rc != 0 && !(rc == -ENOSPC && !compact && fam->max_depth == 128 && idx < 0))
				bad_rc++;
			else if (rc == 0 && idx >= 0)
				churn.v[idx].nh = nh;
			else if (rc == 0)
				list_append(&churn, &ip, depth, nh);
		} else {
			size_t idx = rng_below(&r, (uint32_t)churn.n);
			if (fam->del(fib, &churn.v[idx].ip, churn.v[idx].depth, qs) != 0)
				bad_rc++;
			ref_remove(&churn, idx);
		}
		if (!copies_alike(fam, fib))
			unlike++;
		if (sibling != NULL && sibling_routes.n > 0 && rng_below(&r, 2)) {
			size_t idx = rng_below(&r, (uint32_t)sibling_routes.n);
			if (fam->del(sibling, &sibling_routes.v[idx].ip, sibling_routes.v[idx].depth, qs) != 0)
				bad_rc++;
			ref_remove(&sibling_routes, idx);
		} else if (sibling != NULL) {
			struct addr16 ip = rd.probes[rng_below(&r, STABLE_PROBES)];
			uint8_t depth = (uint8_t)(1 + rng_below(&r, fam->max_depth - 1));
			mask_addr(&ip, depth);
			if (ref_find(&sibling_routes, &ip, depth) < 0) {
				bad_rc += fam->add(sibling, &ip, depth, 79, qs) != 0;
				list_append(&sibling_routes, &ip, depth, 79);
			}
		}
	}
	if (sibling != NULL)
		fam->destroy(sibling); /* with its routes, while the reader runs */
	free(sibling_routes.v);
	__atomic_store_n(&rd.stop, true, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(pthread_join(thread, NULL), 0);

	printf("\n    %s %s: %" PRIu64 " reader rounds, %zu churn routes left ", fam->label,
	       compact ? "compact" : "fast", rd.rounds, churn.n);
	CU_ASSERT_EQUAL(rd.wrong, 0);
	CU_ASSERT(rd.rounds > 1);
	CU_ASSERT_EQUAL(bad_rc, 0);
	CU_ASSERT_EQUAL(unlike, 0);
	CU_ASSERT_EQUAL(fam->n_routes(fib), 3 * STABLE_GROUPS + churn.n);
	free(churn.v);
	fam->destroy(fib);
	rte_free(qs);
}

static void test_rcu_v4(void)
{
	run_rcu(&fam_v4, false);
	run_rcu(&fam_v4, true);
}

static void test_rcu_v4_shared(void)
{
	run_rcu(&fam_v4c, true);
}

static void test_rcu_v6(void)
{
	run_rcu(&fam_v6, false);
	run_rcu(&fam_v6, true);
}

/* ---- compact IPv4: many VRFs in one shared table ---- */

static void count_one_memzone(const struct rte_memzone *mz, void *arg)
{
	(*(unsigned int *)arg)++;
}

static unsigned int memzones_in_use(void)
{
	unsigned int n = 0;
	rte_memzone_walk(count_one_memzone, &n);
	return n;
}

#define MANY_VRFS 2000

/* Far more VRFs than RTE_MAX_MEMZONE allowed with a RIB each (6 memzones a VRF: ~420 VRFs). */
static void test_compact_many(void)
{
	static struct fib4 *vrfs[MANY_VRFS];
	unsigned int memzones_before = memzones_in_use();
	unsigned int created = 0, wrong = 0;

	rte_errno = 0;
	CU_ASSERT_PTR_NULL(fib4_create_compact(7, SOCKET_ID_ANY, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(fib4_create_compact(7, SOCKET_ID_ANY, UINT32_MAX));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	for (uint32_t i = 0; i < MANY_VRFS; i++) {
		/* slots across the whole 32-bit space, both ends included */
		uint32_t slot = i == MANY_VRFS - 1 ? UINT32_MAX : i * 2147483u;
		vrfs[i] = fib4_create_compact(slot, SOCKET_ID_ANY, 16);
		if (vrfs[i] == NULL)
			break;
		created++;
	}
	CU_ASSERT_EQUAL_FATAL(created, MANY_VRFS);
	printf("\n    %u compact VRFs: %u memzones more ", created, memzones_in_use() - memzones_before);
	CU_ASSERT(memzones_in_use() <= memzones_before + 6);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(fib4_create_compact(vrfs[5]->slot, SOCKET_ID_ANY, 16));
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	CU_ASSERT_PTR_NULL(fib4_reader(vrfs[0]));

	/* the same prefix everywhere with each VRF's own next hop; a default route in even VRFs only */
	for (uint32_t i = 0; i < MANY_VRFS; i++) {
		CU_ASSERT_EQUAL(fib4_add(vrfs[i], 0x0a000000, 8, i + 1, idle_qs), 0);
		if (i % 2 == 0)
			CU_ASSERT_EQUAL(fib4_add(vrfs[i], 0, 0, 100000 + i, idle_qs), 0);
	}
	CU_ASSERT_EQUAL(vrfs[0]->shared->n_routes, MANY_VRFS + MANY_VRFS / 2);
	for (uint32_t i = 0; i < MANY_VRFS; i++) {
		uint32_t ips[2] = {0x0a010203, 0xc0000201};
		uint64_t nhs[2];
		fib4_lookup_bulk(vrfs[i], ips, nhs, 2);
		wrong += nhs[0] != i + 1 || nhs[1] != (i % 2 == 0 ? 100000 + i : NH_NONE);
		wrong += fib4_lookup_one(vrfs[i], ips[1]) != (i % 2 == 0 ? 100000 + i : NH_NONE);
	}
	CU_ASSERT_EQUAL(wrong, 0);
	/* destroyed with their routes, in an order that leaves the others in place for a while */
	for (uint32_t i = 0; i < MANY_VRFS; i += 2)
		fib4_destroy(vrfs[i]);
	for (uint32_t i = 1; i < MANY_VRFS; i += 2) {
		uint32_t ips[2] = {0x0a010203, 0xc0000201};
		uint64_t nhs[2];
		fib4_lookup_bulk(vrfs[i], ips, nhs, 2);
		wrong += nhs[0] != i + 1 || nhs[1] != NH_NONE;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(vrfs[1]->shared->n_routes, MANY_VRFS / 2);
	for (uint32_t i = 1; i < MANY_VRFS; i += 2)
		fib4_destroy(vrfs[i]);
	/* the shared table went with the last handle */
	CU_ASSERT_EQUAL(memzones_in_use(), memzones_before);
}

/* One compact VRF of the isolation test, with its naive reference. */
struct iso_vrf {
	uint32_t slot;
	struct fib4 *fib;
	struct route_list ref;
};

static void iso_add(struct iso_vrf *v, const char *ip, uint8_t depth, uint32_t nh)
{
	struct addr16 a = addr_from(&fam_v4, ip);
	mask_addr(&a, depth);
	CU_ASSERT_EQUAL(fib4_add(v->fib, v4_host(&a), depth, nh, idle_qs), 0);
	list_append(&v->ref, &a, depth, nh);
}

#define ISO_PROBES 1000

/* Every VRF answers from its own routes only, through every lookup path; walk reports its routes only. */
static unsigned int iso_check(struct iso_vrf *vrfs, unsigned int n_vrfs, const struct addr16 *probes)
{
	static uint32_t ips[ISO_PROBES];
	static uint64_t nhs[ISO_PROBES];
	unsigned int wrong = 0;

	for (unsigned int k = 0; k < n_vrfs; k++) {
		struct iso_vrf *v = &vrfs[k];
		if (v->fib == NULL)
			continue;
		for (unsigned int i = 0; i < ISO_PROBES; i++)
			ips[i] = v4_host(&probes[i]);
		/* more than FIB4_BULK_MAX in one call */
		fib4_lookup_bulk(v->fib, ips, nhs, ISO_PROBES);
		for (unsigned int i = 0; i < ISO_PROBES; i++) {
			uint32_t want = ref_lpm(&v->ref, &probes[i]);
			if (nhs[i] != want || fib4_lookup_one(v->fib, ips[i]) != want)
				wrong++;
		}
		struct route_list walked = {0}, expected = {0};
		fam_v4c.walk(v->fib, -1, &walked, 0);
		for (size_t i = 0; i < v->ref.n; i++)
			list_append(&expected, &v->ref.v[i].ip, v->ref.v[i].depth, v->ref.v[i].nh);
		wrong += !lists_equal_sorted(&walked, &expected);
		wrong += v->fib->n_routes != v->ref.n;
		wrong += !copies_alike(&fam_v4c, v->fib);
		free(walked.v);
		free(expected.v);
	}
	return wrong;
}

static void test_compact_isolation(void)
{
	/* neighbours in one group of 256 slots (one tbl8 group), one in another group, and the last slot */
	struct iso_vrf vrfs[] = {{.slot = 0}, {.slot = 1}, {.slot = 2}, {.slot = 256}, {.slot = UINT32_MAX}};
	const unsigned int n_vrfs = RTE_DIM(vrfs);
	static struct addr16 probes[ISO_PROBES];
	const char *probe_text[] = {"10.1.2.3", "10.1.2.4", "10.1.3.1", "10.2.0.1", "192.0.2.1", "0.0.0.0",
				    "255.255.255.255", "10.255.255.255", "11.0.0.0", "9.255.255.255"};
	struct rng r = {seed ^ 0x150};

	for (unsigned int i = 0; i < ISO_PROBES; i++) {
		if (i < RTE_DIM(probe_text))
			probes[i] = addr_from(&fam_v4, probe_text[i]);
		else
			probes[i] = v4_bytes(rng_below(&r, 4) == 0 ? (uint32_t)rng_next(&r)
								   : 0x0a000000 | rng_below(&r, 1u << 18));
	}
	for (unsigned int k = 0; k < n_vrfs; k++) {
		vrfs[k].fib = fib4_create_compact(vrfs[k].slot, SOCKET_ID_ANY, 64);
		CU_ASSERT_PTR_NOT_NULL_FATAL(vrfs[k].fib);
	}
	/* overlapping prefixes, each VRF with its own next hops; default routes in VRFs 0 and 4 only */
	iso_add(&vrfs[0], "0.0.0.0", 0, 1);
	iso_add(&vrfs[0], "10.0.0.0", 8, 2);
	iso_add(&vrfs[1], "10.0.0.0", 8, 3);
	iso_add(&vrfs[1], "10.1.0.0", 16, 4);
	iso_add(&vrfs[1], "10.1.2.3", 32, 5);
	iso_add(&vrfs[2], "10.1.2.0", 24, 6);
	iso_add(&vrfs[3], "10.1.2.3", 32, 7);
	iso_add(&vrfs[3], "255.255.255.255", 32, 8);
	iso_add(&vrfs[4], "0.0.0.0", 0, 9);
	iso_add(&vrfs[4], "255.255.255.255", 32, 10);
	iso_add(&vrfs[4], "240.0.0.0", 4, 11);
	CU_ASSERT_EQUAL(iso_check(vrfs, n_vrfs, probes), 0);
	/* no default route: nothing, whatever the other VRFs have */
	CU_ASSERT_EQUAL(fib4_lookup_one(vrfs[2].fib, 0xc0000201), NH_NONE);
	CU_ASSERT_EQUAL(fib4_lookup_one(vrfs[1].fib, 0xc0000201), NH_NONE);
	/* another VRF's prefix is not this one's */
	uint32_t nh;
	CU_ASSERT_EQUAL(fib4_get(vrfs[2].fib, 0, 0, &nh), -ENOENT);
	CU_ASSERT_EQUAL(fib4_del(vrfs[2].fib, 0, 0, idle_qs), -ENOENT);
	CU_ASSERT_EQUAL(fib4_del(vrfs[2].fib, 0x0a010203, 32, idle_qs), -ENOENT);
	CU_ASSERT_EQUAL(fib4_get(vrfs[1].fib, 0x0a010203, 33, &nh), -ENOENT);

	/* a VRF destroyed with its routes: the others keep theirs; its slot comes back empty */
	fib4_destroy(vrfs[1].fib);
	vrfs[1].fib = NULL;
	vrfs[1].ref.n = 0;
	CU_ASSERT_EQUAL(iso_check(vrfs, n_vrfs, probes), 0);
	vrfs[1].fib = fib4_create_compact(vrfs[1].slot, SOCKET_ID_ANY, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vrfs[1].fib);
	CU_ASSERT_EQUAL(iso_check(vrfs, n_vrfs, probes), 0);
	iso_add(&vrfs[1], "10.1.0.0", 16, 12);
	/* the default route of VRF 0 goes: VRF 4's stays */
	CU_ASSERT_EQUAL(fib4_del(vrfs[0].fib, 0, 0, idle_qs), 0);
	ref_remove(&vrfs[0].ref, (size_t)ref_find(&vrfs[0].ref, &(struct addr16){{0}}, 0));
	CU_ASSERT_EQUAL(iso_check(vrfs, n_vrfs, probes), 0);
	CU_ASSERT_EQUAL(vrfs[0].fib->shared->n_routes, 8);

	for (unsigned int k = 0; k < n_vrfs; k++) {
		fib4_destroy(vrfs[k].fib);
		free(vrfs[k].ref.v);
	}
}

#define MANY_RANDOM_VRFS 48
#define MANY_RANDOM_OPS 12000
#define MANY_RANDOM_MAX_ROUTES 400

/* Random edits spread over many VRFs with the same prefixes, VRFs destroyed and recreated among them. */
static void run_compact_random(struct rte_rcu_qsbr *qs)
{
	struct iso_vrf vrfs[MANY_RANDOM_VRFS];
	struct rng r = {seed ^ 0x3a4d0 ^ (qs != NULL)};
	struct addr16 bases[RANDOM_BASES];
	memset(bases, 0, sizeof(bases));
	memset(bases[0].b, 0xff, 4);
	for (unsigned int i = 2; i < RANDOM_BASES; i++)
		for (unsigned int k = 0; k < 4; k++)
			bases[i].b[k] = (uint8_t)rng_next(&r);
	for (unsigned int k = 0; k < MANY_RANDOM_VRFS; k++) {
		vrfs[k] = (struct iso_vrf){.slot = k < 4 ? UINT32_MAX - k : 97 * k};
		vrfs[k].fib = fib4_create_compact(vrfs[k].slot, SOCKET_ID_ANY, MANY_RANDOM_MAX_ROUTES);
		CU_ASSERT_PTR_NOT_NULL_FATAL(vrfs[k].fib);
	}
	unsigned int bad_rc = 0, bad_get = 0, wrong = 0, recreated = 0, full = 0;
	static struct addr16 probes[ISO_PROBES];

	for (unsigned int op = 0; op < MANY_RANDOM_OPS; op++) {
		struct iso_vrf *v = &vrfs[rng_below(&r, MANY_RANDOM_VRFS)];
		struct route_list *ref = &v->ref;
		unsigned int dice = rng_below(&r, 1000);
		if (dice < 2) {
			fib4_destroy(v->fib);
			v->fib = fib4_create_compact(v->slot, SOCKET_ID_ANY, MANY_RANDOM_MAX_ROUTES);
			CU_ASSERT_PTR_NOT_NULL_FATAL(v->fib);
			ref->n = 0;
			recreated++;
			continue;
		}
		struct addr16 ip;
		uint8_t depth;
		bool add = dice < 650 || ref->n == 0;
		if (ref->n > 0 && dice >= 550) {
			const struct route *pick = &ref->v[rng_below(&r, (uint32_t)ref->n)];
			ip = pick->ip;
			depth = pick->depth;
		} else {
			random_prefix(&r, &fam_v4c, bases, &ip, &depth);
		}
		mask_addr(&ip, depth);
		ssize_t idx = ref_find(ref, &ip, depth);
		uint32_t nh = random_nh(&r);
		if (add) {
			int rc = fib4_add(v->fib, v4_host(&ip), depth, nh, qs);
			if (rc == -ENOSPC && idx < 0 && ref->n >= MANY_RANDOM_MAX_ROUTES)
				full++;
			else if (rc != 0)
				bad_rc++;
			else if (idx >= 0)
				ref->v[idx].nh = nh;
			else
				list_append(ref, &ip, depth, nh);
		} else {
			int rc = fib4_del(v->fib, v4_host(&ip), depth, qs);
			if (rc != (idx >= 0 ? 0 : -ENOENT))
				bad_rc++;
			else if (idx >= 0)
				ref_remove(ref, (size_t)idx);
		}
		idx = ref_find(ref, &ip, depth);
		uint32_t got_nh = 0;
		int got = fib4_get(v->fib, v4_host(&ip), depth, &got_nh);
		if (idx >= 0 ? got != 0 || got_nh != ref->v[idx].nh : got != -ENOENT)
			bad_get++;
		if (op % 2000 == 0 || op == MANY_RANDOM_OPS - 1) {
			for (unsigned int i = 0; i < ISO_PROBES; i++) {
				uint8_t unused;
				random_prefix(&r, &fam_v4c, bases, &probes[i], &unused);
			}
			wrong += iso_check(vrfs, MANY_RANDOM_VRFS, probes);
		}
	}
	size_t total = 0;
	for (unsigned int k = 0; k < MANY_RANDOM_VRFS; k++)
		total += vrfs[k].ref.n;
	printf("\n    %s: %zu routes in %u VRFs, %u VRFs recreated, %u adds over max_routes ", qs ? "qs" : "no qs",
	       total, MANY_RANDOM_VRFS, recreated, full);
	CU_ASSERT_EQUAL(bad_rc, 0);
	CU_ASSERT_EQUAL(bad_get, 0);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(vrfs[0].fib->shared->n_routes, total);
	for (unsigned int k = 0; k < MANY_RANDOM_VRFS; k++) {
		fib4_destroy(vrfs[k].fib);
		free(vrfs[k].ref.v);
	}
}

static void test_compact_random(void)
{
	run_compact_random(idle_qs);
	run_compact_random(NULL);
}

#define REBUILD_VRFS 16
#define REBUILD_CHURN 800

/* ---- compact purges under the workers' RCU variable ---- */

struct destroyer {
	struct fib4 *f;
	bool done;
};

static void *destroyer_main(void *arg)
{
	struct destroyer *d = arg;
	fib4_destroy(d->f);
	__atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Routes loaded before the workers start (no RCU variable), then the workers start (fib4_compact_set_qs) and the
 * handle is destroyed with its routes: the purge must wait for the readers, not edit the copy they read in place.
 * The "reader" is thread 0 of a variable, online and reporting nothing until the destroy has had time to finish.
 */
static void test_compact_purge_qs(void)
{
	struct fib4 *f = fib4_create_compact(next_slot++, SOCKET_ID_ANY, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (uint32_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(fib4_add(f, 0x0a000000u + (i << 8), 24, 10 + i, NULL), 0);
	struct rte_rcu_qsbr *qs = qsbr_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(qs);
	CU_ASSERT_EQUAL_FATAL(rte_rcu_qsbr_thread_register(qs, 0), 0);
	rte_rcu_qsbr_thread_online(qs, 0);
	fib4_compact_set_qs(qs);

	struct destroyer d = {.f = f};
	pthread_t thread;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&thread, NULL, destroyer_main, &d), 0);
	usleep(200 * 1000);
	bool waited = !__atomic_load_n(&d.done, __ATOMIC_ACQUIRE);
	unsigned int reports = 0;
	for (; !__atomic_load_n(&d.done, __ATOMIC_ACQUIRE) && reports < 5000; reports++) {
		rte_rcu_qsbr_quiescent(qs, 0);
		usleep(1000);
	}
	pthread_join(thread, NULL);
	printf("\n    purge waited for the reader: %s, %u quiescent reports ", waited ? "yes" : "no", reports);
	CU_ASSERT(waited);
	CU_ASSERT(__atomic_load_n(&d.done, __ATOMIC_ACQUIRE));

	fib4_compact_set_qs(NULL);
	rte_rcu_qsbr_thread_offline(qs, 0);
	rte_rcu_qsbr_thread_unregister(qs, 0);
	rte_free(qs);
}

/*
 * Host routes added and deleted in many VRFs: TRIE never gives its tbl8 reservations back, so the shared table is
 * rebuilt from scratch again and again; every VRF's routes must come through each rebuild.
 */
static void test_compact_rebuild(void)
{
	fib4_compact_configure(4096, 512);
	struct iso_vrf vrfs[REBUILD_VRFS];
	struct rng r = {seed ^ 0x4eb1d};
	static struct addr16 probes[ISO_PROBES];

	for (unsigned int k = 0; k < REBUILD_VRFS; k++) {
		vrfs[k] = (struct iso_vrf){.slot = 1000 + 300 * k};
		vrfs[k].fib = fib4_create_compact(vrfs[k].slot, SOCKET_ID_ANY, 64);
		CU_ASSERT_PTR_NOT_NULL_FATAL(vrfs[k].fib);
		char text[32];
		if (k % 2 == 0)
			iso_add(&vrfs[k], "0.0.0.0", 0, 1000 + k);
		snprintf(text, sizeof(text), "10.%u.0.0", k);
		iso_add(&vrfs[k], text, 16, 2000 + k);
		snprintf(text, sizeof(text), "10.%u.1.0", k);
		iso_add(&vrfs[k], text, 24, 3000 + k);
		snprintf(text, sizeof(text), "10.%u.1.1", k);
		iso_add(&vrfs[k], text, 32, 4000 + k);
	}
	struct fib6 *shared = vrfs[0].fib->shared;
	struct rte_fib6 *first_copies[2] = {shared->copy[0], shared->copy[1]};
	unsigned int refused = 0, rebuilds = 0;

	for (unsigned int op = 0; op < REBUILD_CHURN; op++) {
		struct iso_vrf *v = &vrfs[rng_below(&r, REBUILD_VRFS)];
		/* alone in its /24, so that it needs tbl8 groups of its own */
		uint32_t host = (uint32_t)rng_next(&r) | 0x01000000;
		struct rte_fib6 *before = shared->copy[0];
		refused += fib4_add(v->fib, host, 32, 5000 + op, idle_qs) != 0;
		refused += fib4_lookup_one(v->fib, host) != 5000 + op;
		refused += fib4_del(v->fib, host, 32, idle_qs) != 0;
		rebuilds += shared->copy[0] != before;
	}
	for (unsigned int i = 0; i < ISO_PROBES; i++)
		probes[i] = v4_bytes(rng_below(&r, 8) == 0 ? (uint32_t)rng_next(&r)
							   : 0x0a000000 | rng_below(&r, REBUILD_VRFS) << 16 |
								     rng_below(&r, 4) << 8 | rng_below(&r, 4));
	printf("\n    %u rebuilds of the shared table's copy 0 ", rebuilds);
	CU_ASSERT_EQUAL(refused, 0);
	CU_ASSERT(rebuilds > 0);
	CU_ASSERT(shared->copy[0] != first_copies[0] && shared->copy[1] != first_copies[1]);
	CU_ASSERT_EQUAL(iso_check(vrfs, REBUILD_VRFS, probes), 0);
	for (unsigned int k = 0; k < REBUILD_VRFS; k++) {
		fib4_destroy(vrfs[k].fib);
		free(vrfs[k].ref.v);
	}
	fib4_compact_configure(TEST_COMPACT_ROUTES, TEST_COMPACT_TBL8);
}

/* ---- main ---- */

int main(void)
{
	char *eal_args[] = {"test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
			    "-l", "0"};
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	const char *seed_text = getenv("FIB_TEST_SEED");
	if (seed_text != NULL)
		seed = strtoull(seed_text, NULL, 0);
	printf("test_dp_fib: FIB_TEST_SEED=%#" PRIx64 "\n", seed);
	idle_qs = qsbr_create();
	fib6_trie_probe();
	fib4_compact_configure(TEST_COMPACT_ROUTES, TEST_COMPACT_TBL8);

	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"create arguments", test_create_args},
		{"basics v4 fast", test_basics_v4_fast},
		{"basics v4 compact", test_basics_v4_compact},
		{"basics v4 shared", test_basics_v4_shared},
		{"basics v6 fast", test_basics_v6_fast},
		{"basics v6 compact", test_basics_v6_compact},
		{"capacity", test_capacity},
		{"undo of a half-applied edit", test_undo},
		{"top of the address space", test_top_of_space},
		{"tbl8 accounting", test_tbl8_accounting},
		{"random v4 fast", test_random_v4_fast},
		{"random v4 compact", test_random_v4_compact},
		{"random v4 shared", test_random_v4_shared},
		{"random v6 fast", test_random_v6_fast},
		{"random v6 compact", test_random_v6_compact},
		{"IPv6 TRIE read directly", test_trie_v6},
		{"rcu v4", test_rcu_v4},
		{"rcu v4 shared", test_rcu_v4_shared},
		{"rcu v6", test_rcu_v6},
		{"compact: 2000 VRFs", test_compact_many},
		{"compact: isolation", test_compact_isolation},
		{"compact: random edits in many VRFs", test_compact_random},
		{"compact: rebuilds of the shared table", test_compact_rebuild},
		{"compact: purges wait for the workers", test_compact_purge_qs},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("dataplane/fib", NULL, NULL);
	for (unsigned int i = 0; suite != NULL && i < RTE_DIM(tests); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	rte_free(idle_qs);
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
