/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building and publishing NAT's running state (nat_int.h, "what the control side sets up", 2 and 3): public
 * address slots, the address index, pools, static mappings and tenants are built whole off to the side (new
 * address slots are added to every worker's port allocator first: no worker can reach them yet); only then are
 * the pointers swapped (release stores), the features switched, the workers waited for (dp_synchronize) and the
 * replaced objects freed. A failure frees what was built and leaves the running state as it was.
 *
 * Pools grow and shrink without touching sessions: an address that stays keeps its slot (and its blocks, mappings
 * and sessions); an address that leaves its pool drains (nat.addr_draining: no new block on it, out2in still finds
 * it) until no worker holds a block of it, then poll retires its slot (nat_cp_drain_retire). An address whose port
 * range or block size changes would need two slots at once (the index holds one per address): its running slot
 * drains and the new one is pending, left out of its pool until poll retired the old slot and applied the running
 * configuration again (the commit itself succeeds: a pool's port range or block size may change at run time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "nf/nat/nat_cp.h"
#include "nf/nat/nat_engine.h"

/* Names of pool ids, kept while the id is used by a pool or by a draining address of a removed pool. */
static char pool_names[NAT_MAX_POOLS][NAT_NAME_MAX];
/* Outside VRF slots whose out2in feature this code turned on (dp.max_vrfs entries, allocated on first use). */
static uint8_t *out2in_on;
/* The running configuration has pending addresses (their old geometry still drains): apply it again once gone. */
static bool pending_addrs;

/* A public address the model wants, before its paddr object exists. */
struct addr_want {
	bool wanted;
	uint16_t pool;
	uint32_t vrf, addr;
	uint16_t port_lo, port_hi, block_size;
	uint32_t n_blocks;
	uint64_t *reserved; /* NULL: no static port in its dynamic blocks */
};

/* A running state being built; after publication it holds the replaced objects, freed by build_free. */
struct nat_build {
	struct addr_want want[NAT_MAX_ADDRS];
	struct nat_paddr *paddrs[NAT_MAX_ADDRS]; /* new state by slot; after publication: replaced objects */
	bool added[NAT_MAX_ADDRS];               /* slot made in this build: its ports are on every worker */
	uint8_t draining[NAT_MAX_ADDRS];
	struct nat_pool *pools[NAT_MAX_POOLS];
	bool pool_used[NAT_MAX_POOLS];
	int pool_of[NAT_MAX_POOLS]; /* model pool index -> id (check_model refuses more pools than ids) */
	uint32_t *slot_of[NAT_MAX_POOLS]; /* by pool id: each model address's slot in prefix order, NAT_NIL pending */
	bool pending;
	struct nat_addr_index *index;
	struct nat_statics *statics;
	struct nat_tenant **tenants; /* dp.max_vrfs */
	struct nat_conf *conf;
	bool published;
};

static void paddr_free(struct nat_paddr *p)
{
	free(p); /* the reserved bitmap lives in the same allocation */
}

static bool paddr_is_running(const struct nat_paddr *p)
{
	return p != NULL && p->slot < NAT_MAX_ADDRS && nat.paddrs[p->slot] == p;
}

static void build_free(struct nat_build *b)
{
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
		free(b->want[s].reserved);
		if (b->paddrs[s] != NULL && (b->published || !paddr_is_running(b->paddrs[s])))
			paddr_free(b->paddrs[s]);
		if (!b->published && b->added[s])
			for (unsigned w = 0; w < nat.n_workers; w++)
				nat_ports_addr_remove(nat.workers[w].ports, s);
	}
	for (unsigned p = 0; p < NAT_MAX_POOLS; p++) {
		if (b->pools[p] != NULL && (b->published || b->pools[p] != nat.pools[p]))
			free(b->pools[p]);
		free(b->slot_of[p]);
	}
	if (b->index != NULL && (b->published || b->index != nat.addr_index))
		nat_addr_index_free(b->index);
	if (b->statics != NULL && (b->published || b->statics != nat.statics))
		nat_statics_free(b->statics);
	for (uint32_t v = 0; b->tenants != NULL && v < dp.max_vrfs; v++)
		if (b->tenants[v] != NULL && (b->published || b->tenants[v] != nat.tenants[v]))
			free(b->tenants[v]);
	free(b->tenants);
	nat_conf_free(b->conf);
	free(b);
}

int nat_cp_pool_id(const char *name)
{
	for (int id = 0; id < NAT_MAX_POOLS; id++)
		if (nat.pools[id] != NULL && strcmp(nat.pools[id]->name, name) == 0)
			return id;
	return -1;
}

const char *nat_cp_pool_name(uint16_t id)
{
	return id < NAT_MAX_POOLS && pool_names[id][0] != '\0' ? pool_names[id] : "?";
}

/* ---- checks ---- */

static int check_model(const struct nat_conf *m, char *err, size_t errlen)
{
	if (nat.workers == NULL) {
		snprintf(err, errlen, "restart needed to enable NAT (its tables are sized at boot, and the boot "
			 "configuration had no nat section)");
		return ENOTSUP;
	}
	if (m->sessions.max_sessions != nat_boot_max_sessions()) {
		snprintf(err, errlen, "restart needed to change nat.sessions.max from %u to %u (the tables are sized at "
			 "boot)", nat_boot_max_sessions(), m->sessions.max_sessions);
		return ENOTSUP;
	}
	nat.feat_in2out = feat_index(FEAT_IP4_FWD, NODE_NAT_IN2OUT);
	nat.feat_out2in = feat_index(FEAT_IP4_IN, NODE_NAT_OUT2IN);
	nat.feat_hairpin = feat_index(FEAT_IP4_IN, NODE_NAT_HAIRPIN);
	if (nat.feat_in2out < 0 || nat.feat_out2in < 0 || nat.feat_hairpin < 0) {
		snprintf(err, errlen, "NAT nodes %s/%s/%s are not registered on the IPv4 arcs", NODE_NAT_IN2OUT,
			 NODE_NAT_OUT2IN, NODE_NAT_HAIRPIN);
		return EINVAL;
	}
	if (m->n_pools > NAT_MAX_POOLS) {
		snprintf(err, errlen, "%zu pools (expected at most %d)", m->n_pools, NAT_MAX_POOLS);
		return EINVAL;
	}
	for (size_t i = 0; i < m->n_tenants; i++)
		if (m->tenants[i].max_blocks > NAT_SUB_MAX_BLOCKS) {
			snprintf(err, errlen, "tenant %s: max_blocks %u (expected at most %d)", m->tenants[i].vrf,
				 m->tenants[i].max_blocks, NAT_SUB_MAX_BLOCKS);
			return EINVAL;
		}
	return 0;
}

/* ---- pools and address slots ---- */

/* Is pool id still named by a running address (a draining address of a removed pool keeps its id)? */
static bool pool_id_held(uint16_t id)
{
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++)
		if (nat.paddrs[s] != NULL && nat.paddrs[s]->pool == id)
			return true;
	return false;
}

/* Ids: a pool keeps its id across applies (by name); a new one takes an id no running object names. */
static int pool_ids_assign(struct nat_build *b, const struct nat_conf *m, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->n_pools; i++) {
		int id = nat_cp_pool_id(m->pools[i].name);
		b->pool_of[i] = id;
		if (id >= 0)
			b->pool_used[id] = true;
	}
	for (size_t i = 0; i < m->n_pools; i++) {
		if (b->pool_of[i] >= 0)
			continue;
		int id = 0;
		while (id < NAT_MAX_POOLS && (b->pool_used[id] || nat.pools[id] != NULL || pool_id_held((uint16_t)id)))
			id++;
		if (id == NAT_MAX_POOLS) {
			snprintf(err, errlen, "pool %s: no pool id left (%d pools, counting removed pools whose addresses "
				 "still drain)", m->pools[i].name, NAT_MAX_POOLS);
			return ENOSPC;
		}
		b->pool_of[i] = id;
		b->pool_used[id] = true;
	}
	return 0;
}

static uint32_t prefix_size(const struct addr_prefix *p)
{
	return p->len == 0 ? UINT32_MAX : (uint32_t)1 << (32 - p->len);
}

static uint32_t free_slot(const struct nat_build *b, uint32_t from)
{
	for (uint32_t s = from; s < NAT_MAX_ADDRS; s++)
		if (nat.paddrs[s] == NULL && !nat.addr_draining[s] && !b->want[s].wanted)
			return s;
	return NAT_NIL;
}

static int slot_ports_add(struct nat_build *b, uint32_t s, const struct addr_want *a, char *err, size_t errlen)
{
	for (unsigned w = 0; w < nat.n_workers; w++) {
		int rc = nat_ports_addr_add(nat.workers[w].ports, s, a->port_lo, a->port_hi, a->block_size);
		if (rc != 0) {
			for (unsigned k = 0; k < w; k++)
				nat_ports_addr_remove(nat.workers[k].ports, s);
			char ab[ADDR_STR_MAX];
			snprintf(err, errlen, "public address %s: worker %u port allocator: %s", nat_ip4_fmt(a->addr, ab,
				 sizeof(ab)), w, strerror(rc));
			return rc;
		}
	}
	b->added[s] = true;
	return 0;
}

/* One address of a pool: its running slot when it has one (same geometry), else a new slot. */
static int addr_claim(struct nat_build *b, const struct nat_pool_conf *pc, uint16_t id, uint32_t vrf, uint32_t addr,
		      uint32_t *next_free, uint32_t *slot_out, char *err, size_t errlen)
{
	char ab[ADDR_STR_MAX];
	struct addr_want a = {.wanted = true, .pool = id, .vrf = vrf, .addr = addr, .port_lo = pc->port_lo,
			      .port_hi = pc->port_hi, .block_size = pc->block_size,
			      .n_blocks = nat_ports_n_blocks(pc->port_lo, pc->port_hi, pc->block_size)};
	uint32_t s = nat_addr_lookup(nat.addr_index, vrf, addr);
	if (s != NAT_NIL) {
		const struct nat_paddr *old = nat.paddrs[s];
		if (b->want[s].wanted) {
			snprintf(err, errlen, "pool %s: address %s is in two pools of VRF %s", pc->name,
				 nat_ip4_fmt(addr, ab, sizeof(ab)), pc->vrf);
			return EEXIST;
		}
		if (old->port_lo != a.port_lo || old->port_hi != a.port_hi || old->block_size != a.block_size) {
			b->pending = true; /* the running slot drains; this one waits for it (file comment) */
			*slot_out = NAT_NIL;
			return 0;
		}
		b->want[s] = a;
		*slot_out = s;
		return 0;
	}
	if ((s = free_slot(b, *next_free)) == NAT_NIL) {
		snprintf(err, errlen, "pool %s: more than %d public addresses (all pools, draining addresses included)",
			 pc->name, NAT_MAX_ADDRS);
		return ENOSPC;
	}
	*next_free = s + 1;
	b->want[s] = a;
	*slot_out = s;
	return slot_ports_add(b, s, &b->want[s], err, errlen);
}

/* A pool's addresses (slots claimed) and its published object (addresses offered to new subscribers). */
static int pool_build(struct nat_build *b, const struct nat_pool_conf *pc, uint16_t id, uint32_t *next_free,
		      char *err, size_t errlen)
{
	const struct vrf *v = vrf_by_name(pc->vrf);
	uint64_t n = 0;
	for (size_t i = 0; v != NULL && i < pc->n_prefixes; i++)
		n += prefix_size(&pc->prefixes[i]);
	if (n > NAT_MAX_ADDRS) {
		snprintf(err, errlen, "pool %s: %llu addresses (expected at most %d public addresses in all)", pc->name,
			 (unsigned long long)n, NAT_MAX_ADDRS);
		return ENOSPC;
	}
	struct nat_pool *p = calloc(1, sizeof(*p) + sizeof(p->addr_slot[0]) * (n > 0 ? n : 1));
	b->slot_of[id] = calloc(n > 0 ? n : 1, sizeof(uint32_t));
	if (p == NULL || b->slot_of[id] == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory for pool %s", pc->name);
		return ENOMEM;
	}
	b->pools[id] = p;
	*p = (struct nat_pool){.id = id, .vrf = v != NULL ? v->slot : NAT_NIL, .port_lo = pc->port_lo,
			       .port_hi = pc->port_hi, .block_size = pc->block_size,
			       .n_blocks = nat_ports_n_blocks(pc->port_lo, pc->port_hi, pc->block_size)};
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	uint32_t n_model = 0;
	for (size_t i = 0; v != NULL && i < pc->n_prefixes; i++) {
		uint32_t base = addr_v4_host(&pc->prefixes[i].addr), size = prefix_size(&pc->prefixes[i]);
		for (uint32_t k = 0; k < size; k++) {
			uint32_t s;
			int rc = addr_claim(b, pc, id, v->slot, base + k, next_free, &s, err, errlen);
			if (rc)
				return rc;
			b->slot_of[id][n_model++] = s;
			if (s != NAT_NIL)
				p->addr_slot[p->n_addrs++] = (uint16_t)s;
		}
	}
	return 0;
}

/* ---- static mappings ---- */

/* The slot the build gave a pool's address (NAT_NIL when not one of its addresses, or pending). */
static uint32_t pool_addr_slot(const struct nat_build *b, const struct nat_pool *p, const struct nat_pool_conf *pc,
			       uint32_t addr)
{
	uint32_t idx = 0;
	for (size_t i = 0; p->vrf != NAT_NIL && i < pc->n_prefixes; i++) {
		uint32_t base = addr_v4_host(&pc->prefixes[i].addr), size = prefix_size(&pc->prefixes[i]);
		if (addr - base < size)
			return b->slot_of[p->id][idx + (addr - base)];
		idx += size;
	}
	return NAT_NIL;
}

/* The block holding a static public port inside the dynamic range is reserved (never given to a subscriber). */
static int reserve_block(struct addr_want *a, uint16_t port)
{
	if (port < a->port_lo || (uint32_t)(port - a->port_lo) / a->block_size >= a->n_blocks)
		return 0;
	if (a->reserved == NULL && (a->reserved = calloc((a->n_blocks + 63) / 64, sizeof(uint64_t))) == NULL)
		return ENOMEM;
	uint32_t blk = (uint32_t)(port - a->port_lo) / a->block_size;
	a->reserved[blk / 64] |= 1ull << (blk % 64);
	return 0;
}

static int statics_build(struct nat_build *b, const struct nat_conf *m, char *err, size_t errlen)
{
	size_t total = 0, n = 0;
	for (size_t t = 0; t < m->n_tenants; t++)
		total += m->tenants[t].n_statics;
	if (total == 0)
		return 0;
	struct nat_static_rt *e = calloc(total, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory for %zu static mappings", total);
		return ENOMEM;
	}
	for (size_t t = 0; t < m->n_tenants; t++) {
		const struct nat_tenant_conf *tc = &m->tenants[t];
		const struct vrf *v = vrf_by_name(tc->vrf);
		const struct nat_pool_conf *pc = nat_conf_pool(m, tc->pool);
		size_t pi = pc != NULL ? (size_t)(pc - m->pools) : 0;
		const struct nat_pool *p = pc != NULL ? b->pools[b->pool_of[pi]] : NULL;
		if (v == NULL || p == NULL || p->vrf == NAT_NIL)
			continue; /* dormant tenant: its VRF or its pool's VRF does not exist */
		for (size_t i = 0; i < tc->n_statics; i++) {
			const struct nat_static_conf *sc = &tc->statics[i];
			uint32_t pub = addr_v4_host(&sc->public), slot = pool_addr_slot(b, p, pc, pub);
			if (slot == NAT_NIL)
				continue; /* a pending address: the static comes with it */
			if (reserve_block(&b->want[slot], sc->public_port) != 0) {
				free(e);
				snprintf(err, errlen, "out of memory for the reserved blocks");
				return ENOMEM;
			}
			e[n++] = (struct nat_static_rt){.proto = sc->proto, .in_port = sc->inside_port,
							.pub_port = sc->public_port, .realm = v->slot,
							.in_addr = addr_v4_host(&sc->inside), .out_vrf = p->vrf,
							.pub_addr = pub, .pool = p->id, .paddr = (uint16_t)slot,
							.filtering = tc->filtering};
		}
	}
	if (n > 0 && (b->statics = nat_statics_build(e, (uint32_t)n)) == NULL) {
		free(e);
		snprintf(err, errlen, "out of memory for the static mapping table (%zu mappings)", n);
		return ENOMEM;
	}
	free(e);
	return 0;
}

/* ---- paddr objects and the index ---- */

static bool reserved_equal(const uint64_t *a, const uint64_t *b, uint32_t n_blocks)
{
	if (a == NULL || b == NULL)
		return a == b;
	return memcmp(a, b, sizeof(uint64_t) * ((n_blocks + 63) / 64)) == 0;
}

static struct nat_paddr *paddr_make(uint32_t s, const struct addr_want *a)
{
	size_t words = a->reserved != NULL ? (a->n_blocks + 63) / 64 : 0;
	struct nat_paddr *p = calloc(1, sizeof(*p) + sizeof(uint64_t) * words);
	if (p == NULL)
		return NULL;
	*p = (struct nat_paddr){.addr = a->addr, .vrf = a->vrf, .slot = (uint16_t)s, .pool = a->pool,
				.port_lo = a->port_lo, .port_hi = a->port_hi, .block_size = a->block_size,
				.n_blocks = a->n_blocks};
	if (words > 0) {
		uint64_t *bits = (uint64_t *)(p + 1);
		memcpy(bits, a->reserved, sizeof(uint64_t) * words);
		p->reserved = bits;
	}
	return p;
}

/* Every slot of the new state: wanted ones (kept object when unchanged), the others running drain. */
static int paddrs_build(struct nat_build *b, char *err, size_t errlen)
{
	const struct nat_paddr *live[NAT_MAX_ADDRS];
	uint32_t n = 0;
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
		struct nat_paddr *old = nat.paddrs[s];
		const struct addr_want *a = &b->want[s];
		if (!a->wanted) {
			b->paddrs[s] = old;
			b->draining[s] = old != NULL ? 1 : nat.addr_draining[s];
		} else if (old != NULL && old->pool == a->pool && reserved_equal(old->reserved, a->reserved, a->n_blocks)) {
			b->paddrs[s] = old;
		} else if ((b->paddrs[s] = paddr_make(s, a)) == NULL) {
			snprintf(err, errlen, "out of memory for the public addresses");
			return ENOMEM;
		}
		if (b->paddrs[s] != NULL)
			live[n++] = b->paddrs[s];
	}
	if ((b->index = nat_addr_index_build(live, n)) == NULL) {
		snprintf(err, errlen, "out of memory for the public address index (%u addresses)", n);
		return ENOMEM;
	}
	return 0;
}

/* ---- tenants ---- */

static int tenants_build(struct nat_build *b, const struct nat_conf *m, char *err, size_t errlen)
{
	if ((b->tenants = calloc(dp.max_vrfs, sizeof(*b->tenants))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	for (size_t i = 0; i < m->n_tenants; i++) {
		const struct nat_tenant_conf *tc = &m->tenants[i];
		const struct vrf *v = vrf_by_name(tc->vrf);
		const struct nat_pool_conf *pc = nat_conf_pool(m, tc->pool);
		const struct nat_pool *p = pc != NULL ? b->pools[b->pool_of[pc - m->pools]] : NULL;
		if (v == NULL || p == NULL || p->vrf == NAT_NIL)
			continue; /* dormant until the VRFs exist (vrf add applies again: nat_nf_iface_changed) */
		struct nat_tenant *t = calloc(1, sizeof(*t));
		if (t == NULL) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		*t = (struct nat_tenant){.realm = v->slot, .pool = p->id, .out_vrf = p->vrf, .filtering = tc->filtering,
					 .hairpinning = tc->hairpinning, .max_sessions = tc->max_sessions,
					 .max_blocks = tc->max_blocks};
		snprintf(t->vrf_name, sizeof(t->vrf_name), "%s", tc->vrf);
		const struct nat_tenant *old = nat.tenants[v->slot];
		if (old != NULL && memcmp(old, t, sizeof(*t)) == 0) {
			free(t);
			t = nat.tenants[v->slot];
		}
		b->tenants[v->slot] = t;
	}
	return 0;
}

/* m NULL: no section (no pool, no tenant: every address drains; the tables stay for a later section). */
static int build_all(struct nat_build *b, const struct nat_conf *model, char *err, size_t errlen)
{
	static const struct nat_conf empty;
	const struct nat_conf *m = model != NULL ? model : &empty;
	uint32_t next_free = 0;
	int rc;
	if (model != NULL && (b->conf = nat_conf_dup(model)) == NULL) {
		snprintf(err, errlen, "out of memory for the NAT configuration");
		return ENOMEM;
	}
	if ((rc = pool_ids_assign(b, m, err, errlen)))
		return rc;
	for (size_t i = 0; i < m->n_pools; i++)
		if ((rc = pool_build(b, &m->pools[i], (uint16_t)b->pool_of[i], &next_free, err, errlen)))
			return rc;
	if ((rc = statics_build(b, m, err, errlen)) || (rc = paddrs_build(b, err, errlen)) ||
	    (rc = tenants_build(b, m, err, errlen)))
		return rc;
	return 0;
}

/* ---- publication ---- */

/* The out2in feature is on in every outside VRF holding a public address (draining ones too). */
static void out2in_sync(void)
{
	if (out2in_on == NULL && (out2in_on = calloc(dp.max_vrfs, 1)) == NULL)
		return;
	uint8_t *want = calloc(dp.max_vrfs, 1);
	if (want == NULL)
		return;
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++)
		if (nat.paddrs[s] != NULL && nat.paddrs[s]->vrf < dp.max_vrfs)
			want[nat.paddrs[s]->vrf] = 1;
	for (uint32_t v = 0; v < dp.max_vrfs; v++) {
		if (want[v] != out2in_on[v] && nat.feat_out2in >= 0)
			feat_enable(FEAT_IP4_IN, v, nat.feat_out2in, want[v] != 0);
		out2in_on[v] = want[v];
	}
	free(want);
}

static void params_publish(const struct nat_conf *c)
{
	if (c == NULL)
		return;
	__atomic_store_n(&nat.block_idle_ms, (uint64_t)c->block_idle_s * 1000, __ATOMIC_RELAXED);
	__atomic_store_n(&nat.log_rate, c->log_rate, __ATOMIC_RELAXED);
	for (unsigned w = 0; w < nat.n_workers; w++) {
		struct ct_params p = c->sessions;
		p.max_sessions = ct_table_params(nat.workers[w].ct)->max_sessions; /* sized at boot */
		ct_table_set_params(nat.workers[w].ct, &p);
	}
}

/* Swap pointer *slot to new, leaving the replaced one in *keep (NULL when unchanged). */
#define SWAP_PUBLISH(slot, keep)                                                                                      \
	do {                                                                                                          \
		__typeof__(*(slot)) old_ = *(slot);                                                                   \
		if (old_ != *(keep)) {                                                                                \
			__atomic_store_n((slot), *(keep), __ATOMIC_RELEASE);                                          \
			*(keep) = old_;                                                                               \
		} else {                                                                                              \
			*(keep) = NULL;                                                                               \
		}                                                                                                     \
	} while (0)

static void tenants_publish(struct nat_build *b)
{
	for (uint32_t v = 0; v < dp.max_vrfs; v++) {
		struct nat_tenant *old = nat.tenants[v], *new = b->tenants[v];
		b->tenants[v] = old != new ? old : NULL;
		if (old == new)
			continue;
		/* hairpinning is decided on the tenant's input arc (nat4_hairpin), before its route lookup */
		bool hp_old = old != NULL && old->hairpinning, hp_new = new != NULL && new->hairpinning;
		if (new == NULL)
			feat_enable(FEAT_IP4_FWD, v, nat.feat_in2out, false);
		if (hp_old && !hp_new)
			feat_enable(FEAT_IP4_IN, v, nat.feat_hairpin, false);
		__atomic_store_n(&nat.tenants[v], new, __ATOMIC_RELEASE);
		if (new != NULL && old == NULL)
			feat_enable(FEAT_IP4_FWD, v, nat.feat_in2out, true);
		if (hp_new && !hp_old)
			feat_enable(FEAT_IP4_IN, v, nat.feat_hairpin, true);
		if (new == NULL)
			for (unsigned w = 0; w < nat.n_workers; w++)
				ct_flush_request(nat.workers[w].ct, v); /* no longer translated: free its ports now */
	}
}

static void publish(struct nat_build *b)
{
	params_publish(b->conf);
	/* Draining first: a worker still reading the old pool gets no new block on a leaving address. */
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++)
		if (b->draining[s])
			__atomic_store_n(&nat.addr_draining[s], 1, __ATOMIC_RELAXED);
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++)
		SWAP_PUBLISH(&nat.paddrs[s], &b->paddrs[s]);
	SWAP_PUBLISH(&nat.addr_index, &b->index);
	SWAP_PUBLISH(&nat.statics, &b->statics);
	for (unsigned p = 0; p < NAT_MAX_POOLS; p++) {
		if (b->pools[p] != NULL)
			snprintf(pool_names[p], sizeof(pool_names[p]), "%s", b->pools[p]->name);
		SWAP_PUBLISH(&nat.pools[p], &b->pools[p]);
	}
	/* Back in a pool: offered again (its blocks and sessions never left). */
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++)
		if (b->want[s].wanted && nat.addr_draining[s])
			__atomic_store_n(&nat.addr_draining[s], 0, __ATOMIC_RELAXED);
	tenants_publish(b);
	out2in_sync();
	struct nat_conf *old = nat.conf;
	nat.conf = b->conf;
	b->conf = old;
	pending_addrs = b->pending;
	b->published = true;
	dp_synchronize();
	build_free(b);
}

int nat_cp_apply(const struct nat_conf *model, char *err, size_t errlen)
{
	int rc;
	if (model == NULL && nat.workers == NULL)
		return 0;
	if (model != NULL && (rc = check_model(model, err, errlen)) != 0)
		return rc;
	struct nat_build *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	if ((rc = build_all(b, model, err, errlen)) != 0) {
		build_free(b);
		return rc;
	}
	publish(b); /* model is not read from here on: it may be the running configuration being replaced */
	return 0;
}

/* ---- draining ---- */

static bool slot_drained(uint32_t s)
{
	for (unsigned w = 0; w < nat.n_workers; w++)
		if (nat_ports_addr_used(nat.workers[w].ports, s) != 0)
			return false;
	return true;
}

unsigned nat_cp_drain_retire(void)
{
	bool gone[NAT_MAX_ADDRS] = {false};
	const struct nat_paddr *live[NAT_MAX_ADDRS];
	struct nat_paddr *old[NAT_MAX_ADDRS];
	unsigned n_gone = 0, n_live = 0;
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
		if (nat.paddrs[s] == NULL)
			continue;
		if (nat.addr_draining[s] && slot_drained(s)) {
			gone[s] = true;
			n_gone++;
		} else {
			live[n_live++] = nat.paddrs[s];
		}
	}
	if (n_gone == 0)
		return 0;
	struct nat_addr_index *ix = nat_addr_index_build(live, n_live), *old_ix = nat.addr_index;
	if (ix == NULL)
		return 0; /* out of memory: again at the next check */
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
		old[s] = gone[s] ? nat.paddrs[s] : NULL;
		if (gone[s])
			__atomic_store_n(&nat.paddrs[s], NULL, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&nat.addr_index, ix, __ATOMIC_RELEASE);
	out2in_sync();
	dp_synchronize();
	if (old_ix != NULL)
		nat_addr_index_free(old_ix);
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
		if (!gone[s])
			continue;
		bool busy = false;
		for (unsigned w = 0; w < nat.n_workers; w++)
			busy |= nat_ports_addr_remove(nat.workers[w].ports, s) == EBUSY;
		if (busy) { /* cannot happen (no block on a draining address): keep the slot out of use */
			char ab[ADDR_STR_MAX];
			fprintf(stderr, "npsd: nat: drained address %s still has blocks on a worker: slot %u left unused\n",
				nat_ip4_fmt(old[s]->addr, ab, sizeof(ab)), s);
		} else {
			__atomic_store_n(&nat.addr_draining[s], 0, __ATOMIC_RELAXED);
		}
		paddr_free(old[s]);
	}
	if (pending_addrs && nat.conf != NULL) {
		char err[CP_ERR_MAX];
		if (nat_cp_apply(nat.conf, err, sizeof(err)) != 0)
			fprintf(stderr, "npsd: nat: cannot bring in the addresses that waited for their old port range "
				"to drain (again at the next drain): %s\n", err);
	}
	return n_gone;
}

bool nat_cp_addr_pending(uint32_t vrf, uint32_t addr, uint16_t port_lo, uint16_t port_hi, uint16_t block_size)
{
	uint32_t s = nat_addr_lookup(nat.addr_index, vrf, addr);
	const struct nat_paddr *p = s != NAT_NIL ? nat.paddrs[s] : NULL;
	return p != NULL && (p->port_lo != port_lo || p->port_hi != port_hi || p->block_size != block_size);
}

void nat_cp_objects_free(void)
{
	for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
		paddr_free(nat.paddrs[s]);
		nat.paddrs[s] = NULL;
	}
	for (unsigned p = 0; p < NAT_MAX_POOLS; p++) {
		free(nat.pools[p]);
		nat.pools[p] = NULL;
	}
	for (uint32_t v = 0; nat.tenants != NULL && v < dp.max_vrfs; v++) {
		free(nat.tenants[v]);
		nat.tenants[v] = NULL;
	}
	if (nat.addr_index != NULL)
		nat_addr_index_free(nat.addr_index);
	nat.addr_index = NULL;
	if (nat.statics != NULL)
		nat_statics_free(nat.statics);
	nat.statics = NULL;
	free(out2in_on);
	out2in_on = NULL;
	pending_addrs = false;
	memset(pool_names, 0, sizeof(pool_names));
}
