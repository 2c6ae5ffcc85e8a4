/* SPDX-License-Identifier: BSD-3-Clause */
/* The NAT engine: subscribers, mappings, sessions, filtering (nat_engine.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "nf/nat/nat_engine.h"

_Static_assert(sizeof(struct nat_log_rec) % 4 == 0, "rte_ring elements are a multiple of 4 bytes");
_Static_assert(sizeof(struct nat_mkey) == 12 && sizeof(struct nat_okey) == 20, "hash keys without holes");

/* ---- Builders (control thread) ---- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n)
		p <<= 1;
	return p;
}

struct nat_addr_index *nat_addr_index_build(const struct nat_paddr *const *paddrs, uint32_t n)
{
	uint32_t size = pow2_at_least(2 * n);
	struct nat_addr_index *ix = calloc(1, sizeof(*ix) + size * sizeof(ix->e[0]));
	if (ix == NULL)
		return NULL;
	ix->mask = size - 1;
	ix->lo = UINT32_MAX;
	ix->hi = 0;
	for (uint32_t i = 0; i < size; i++)
		ix->e[i].slot = NAT_NIL;
	for (uint32_t k = 0; k < n; k++) {
		const struct nat_paddr *p = paddrs[k];
		ix->lo = RTE_MIN(ix->lo, p->addr);
		ix->hi = RTE_MAX(ix->hi, p->addr);
		uint32_t i = nat_mix32(p->vrf, p->addr) & ix->mask;
		while (ix->e[i].slot != NAT_NIL && !(ix->e[i].vrf == p->vrf && ix->e[i].addr == p->addr))
			i = (i + 1) & ix->mask;
		ix->e[i] = (struct nat_addr_index_ent){.vrf = p->vrf, .addr = p->addr, .slot = p->slot};
	}
	return ix;
}

void nat_addr_index_free(struct nat_addr_index *ix)
{
	free(ix);
}

static inline uint32_t static_hash(uint32_t vrf, uint8_t proto, uint32_t addr, uint16_t port)
{
	return nat_mix32(vrf ^ ((uint32_t)proto << 24), addr ^ ((uint32_t)port << 16) ^ port);
}

struct nat_statics *nat_statics_build(const struct nat_static_rt *e, uint32_t n)
{
	uint32_t size = pow2_at_least(2 * n);
	struct nat_statics *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->e = calloc(n ? n : 1, sizeof(*s->e));
	s->by_in = malloc(size * sizeof(uint32_t));
	s->by_out = malloc(size * sizeof(uint32_t));
	if (s->e == NULL || s->by_in == NULL || s->by_out == NULL) {
		nat_statics_free(s);
		return NULL;
	}
	s->n = n;
	s->mask = size - 1;
	memcpy(s->e, e, n * sizeof(*e));
	memset(s->by_in, 0xff, size * sizeof(uint32_t));
	memset(s->by_out, 0xff, size * sizeof(uint32_t));
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = static_hash(e[k].realm, e[k].proto, e[k].in_addr, e[k].in_port) & s->mask;
		while (s->by_in[i] != NAT_NIL)
			i = (i + 1) & s->mask;
		s->by_in[i] = k;
		i = static_hash(e[k].out_vrf, e[k].proto, e[k].pub_addr, e[k].pub_port) & s->mask;
		while (s->by_out[i] != NAT_NIL)
			i = (i + 1) & s->mask;
		s->by_out[i] = k;
	}
	return s;
}

void nat_statics_free(struct nat_statics *s)
{
	if (s == NULL)
		return;
	free(s->e);
	free(s->by_in);
	free(s->by_out);
	free(s);
}

const struct nat_static_rt *nat_static_by_in(const struct nat_statics *s, uint32_t realm, uint8_t proto,
					     uint32_t addr, uint16_t port)
{
	if (s == NULL || s->n == 0)
		return NULL;
	for (uint32_t i = static_hash(realm, proto, addr, port) & s->mask; s->by_in[i] != NAT_NIL;
	     i = (i + 1) & s->mask) {
		const struct nat_static_rt *e = &s->e[s->by_in[i]];
		if (e->realm == realm && e->proto == proto && e->in_addr == addr && e->in_port == port)
			return e;
	}
	return NULL;
}

const struct nat_static_rt *nat_static_by_out(const struct nat_statics *s, uint32_t vrf, uint8_t proto,
					      uint32_t addr, uint16_t port)
{
	if (s == NULL || s->n == 0)
		return NULL;
	for (uint32_t i = static_hash(vrf, proto, addr, port) & s->mask; s->by_out[i] != NAT_NIL;
	     i = (i + 1) & s->mask) {
		const struct nat_static_rt *e = &s->e[s->by_out[i]];
		if (e->out_vrf == vrf && e->proto == proto && e->pub_addr == addr && e->pub_port == port)
			return e;
	}
	return NULL;
}

/* ---- Worker tables ---- */

static void sess_release(struct nat_worker *w, uint32_t idx);

static void release_cb(void *arg, struct ct_table *t, uint32_t idx)
{
	(void)t;
	sess_release(arg, idx);
}

/* The engine's keys (8, 12 and 20 bytes, DS-Lite's B4 key 20) hashed and compared in a few instructions: rte_hash
 * would run its generic CRC loop and memcmp() on every operation. Same values as rte_hash_crc(). */
static inline uint64_t rd64(const void *p, unsigned off)
{
	uint64_t v;
	memcpy(&v, (const char *)p + off, sizeof(v));
	return v;
}

static inline uint32_t rd32(const void *p, unsigned off)
{
	uint32_t v;
	memcpy(&v, (const char *)p + off, sizeof(v));
	return v;
}

static uint32_t key8_hash(const void *k, uint32_t len, uint32_t init)
{
	return rte_hash_crc_8byte(rd64(k, 0), init);
}

static uint32_t key12_hash(const void *k, uint32_t len, uint32_t init)
{
	return rte_hash_crc_4byte(rd32(k, 8), rte_hash_crc_8byte(rd64(k, 0), init));
}

static uint32_t key20_hash(const void *k, uint32_t len, uint32_t init)
{
	return rte_hash_crc_4byte(rd32(k, 16), rte_hash_crc_8byte(rd64(k, 8), rte_hash_crc_8byte(rd64(k, 0), init)));
}

static int key8_cmp(const void *a, const void *b, size_t len)
{
	return rd64(a, 0) != rd64(b, 0);
}

static int key12_cmp(const void *a, const void *b, size_t len)
{
	return ((rd64(a, 0) ^ rd64(b, 0)) | (rd32(a, 8) ^ rd32(b, 8))) != 0;
}

static int key20_cmp(const void *a, const void *b, size_t len)
{
	return ((rd64(a, 0) ^ rd64(b, 0)) | (rd64(a, 8) ^ rd64(b, 8)) | (rd32(a, 16) ^ rd32(b, 16))) != 0;
}

struct rte_hash *nat_hash_create(const char *name, uint32_t entries, uint32_t key_len, uint32_t extra_flag,
				 int socket)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.hash_func = key_len == 8 ? key8_hash : key_len == 12 ? key12_hash : key_len == 20 ? key20_hash
										: rte_hash_crc,
		.hash_func_init_val = 0x5a17c0de,
		.socket_id = socket,
		.extra_flag = (uint8_t)extra_flag,
	};
	struct rte_hash *h = rte_hash_create(&hp);
	if (h != NULL && (key_len == 8 || key_len == 12 || key_len == 20))
		rte_hash_set_cmp_func(h, key_len == 8 ? key8_cmp : key_len == 12 ? key12_cmp : key20_cmp);
	return h;
}

/* The engine's hashes get the session table's bucket headroom (ct_hash_entries()): at steady state (table full,
 * evicting) an insert finds room in the key's own buckets. Arrays indexed by key positions are sized to the
 * entries, not to the live maximum. */
static struct rte_hash *hash_create(const char *what, unsigned index, uint32_t entries, uint32_t key_len, int socket)
{
	char name[RTE_HASH_NAMESIZE];
	snprintf(name, sizeof(name), "nat-%s-w%u", what, index);
	/* extendable buckets: an insert fails only when every key slot is taken */
	return nat_hash_create(name, entries, key_len, RTE_HASH_EXTRA_FLAGS_EXT_TABLE, socket);
}

int nat_worker_create(struct nat_worker *w, unsigned index, unsigned n_workers, int socket,
		      const struct ct_params *sessions)
{
	char name[32];
	memset(w, 0, sizeof(*w));
	w->index = index;
	struct ct_params p = *sessions;
	p.max_sessions = (sessions->max_sessions + n_workers - 1) / n_workers;
	if (p.max_sessions < 64)
		p.max_sessions = 64;
	snprintf(name, sizeof(name), "nat-ct-w%u", index);
	if ((w->ct = ct_table_create(name, socket, &p)) == NULL)
		goto err;
	ct_set_release_cb(w->ct, release_cb, w);
	w->sess = ct_sessions(w->ct);
	uint32_t cap = ct_table_capacity(w->ct);
	/* The limits are enforced with n_maps / n_subs; the hashes (and the arrays indexed by their key positions)
	 * are larger for bucket headroom. */
	/* A mapping lives only while it has sessions, so mappings <= sessions <= cap, except for the one an open makes
	 * before its session: with cap + 1 a full table that evicts (when_full) still takes a new flow when every
	 * session has a mapping of its own. */
	w->map_limit = cap + 1;
	w->sub_limit = RTE_MAX(1024u, cap / 8);
	w->max_maps = ct_hash_entries(w->map_limit);
	w->max_subs = ct_hash_entries(w->sub_limit);
	uint32_t sess_entries = ct_hash_entries(cap);
	if (w->max_maps == 0 || w->max_subs == 0 || sess_entries == 0)
		goto err;
	w->map_in = hash_create("mi", index, w->max_maps, sizeof(struct nat_mkey), socket);
	w->map_out = hash_create("mo", index, w->max_maps, sizeof(struct nat_mkey), socket);
	w->sess_out = hash_create("so", index, sess_entries, sizeof(struct nat_okey), socket);
	w->subs = hash_create("sub", index, w->max_subs, sizeof(struct nat_skey), socket);
	w->maps = rte_zmalloc_socket("nat-maps", sizeof(*w->maps) * w->max_maps, RTE_CACHE_LINE_SIZE, socket);
	w->sub = rte_zmalloc_socket("nat-subs", sizeof(*w->sub) * w->max_subs, RTE_CACHE_LINE_SIZE, socket);
	w->frags = rte_zmalloc_socket("nat-frags", sizeof(*w->frags) * NAT_FRAG_ENTRIES, RTE_CACHE_LINE_SIZE, socket);
	w->ports = nat_ports_create(NAT_MAX_ADDRS, index, n_workers);
	snprintf(name, sizeof(name), "nat-handoff-w%u", index);
	w->handoff = rte_ring_create(name, NAT_HANDOFF_RING_SIZE, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "nat-log-w%u", index);
	w->log = rte_ring_create_elem(name, sizeof(struct nat_log_rec), NAT_LOG_RING_SIZE, socket,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->map_in == NULL || w->map_out == NULL || w->sess_out == NULL || w->subs == NULL || w->maps == NULL ||
	    w->sub == NULL || w->frags == NULL || w->ports == NULL || w->handoff == NULL || w->log == NULL)
		goto err;
	return 0;
err:
	nat_worker_free(w);
	return ENOMEM;
}

void nat_worker_free(struct nat_worker *w)
{
	if (w->ct != NULL)
		ct_table_free(w->ct);
	rte_hash_free(w->map_in);
	rte_hash_free(w->map_out);
	rte_hash_free(w->sess_out);
	rte_hash_free(w->subs);
	rte_free(w->maps);
	rte_free(w->sub);
	rte_free(w->frags);
	nat_ports_free(w->ports);
	rte_ring_free(w->handoff);
	rte_ring_free(w->log);
	memset(w, 0, sizeof(*w));
}

/* ---- Logs ---- */

/* Tokens in thousandths (rates below 1000/s accrue between milliseconds); burst: one second's worth. */
static bool take_token(struct nat_worker *w, uint64_t now)
{
	uint64_t rate = nat.log_rate;
	if (now != w->log_last_ms) {
		w->log_tokens += (now - w->log_last_ms) * rate;
		if (w->log_tokens > rate * 1000)
			w->log_tokens = rate * 1000;
		w->log_last_ms = now;
	}
	if (w->log_tokens < 1000)
		return false;
	w->log_tokens -= 1000;
	return true;
}

void nat_log(struct nat_worker *w, const struct nat_log_rec *r, bool rate_limited)
{
	if (rate_limited && !take_token(w, r->time_ms)) {
		w->cnt[NAT_CNT_log_rate_limited]++;
		return;
	}
	struct nat_log_rec copy = *r; /* the ring API takes a non-const pointer */
	if (w->log == NULL || rte_ring_sp_enqueue_elem(w->log, &copy, sizeof(copy)) != 0)
		w->cnt[NAT_CNT_log_queue_full]++;
	else
		w->cnt[NAT_CNT_log_written]++;
}

static void log_sub(struct nat_worker *w, const struct nat_sub *sub, uint8_t type, uint8_t proto, uint32_t pub,
		    uint16_t lo, uint16_t hi, bool rate_limited)
{
	struct nat_log_rec r = {.time_ms = w->now_ms, .type = type, .proto = proto, .pool = sub->pool,
				.realm = sub->realm, .inside_addr = sub->addr, .public_addr = pub,
				.port_lo = lo, .port_hi = hi};
	memcpy(r.b4, sub->b4, 16);
	nat_log(w, &r, rate_limited);
}

static uint32_t sub_public_addr(const struct nat_sub *sub)
{
	const struct nat_paddr *p = sub->paddr != NAT_NIL ? nat_paddr_get(sub->paddr) : NULL;
	return p != NULL ? p->addr : 0;
}

/* ---- Subscribers ---- */

static uint32_t sub_get(struct nat_worker *w, uint32_t realm, uint32_t addr, const uint8_t *b4)
{
	struct nat_skey k = {.realm = realm, .addr = addr};
	int32_t pos = rte_hash_lookup(w->subs, &k);
	if (pos >= 0)
		return (uint32_t)pos;
	if (w->n_subs >= w->sub_limit)
		return NAT_NIL;
	pos = rte_hash_add_key(w->subs, &k);
	if (pos < 0 || (uint32_t)pos >= w->max_subs) {
		if (pos >= 0)
			rte_hash_del_key(w->subs, &k);
		return NAT_NIL;
	}
	struct nat_sub *s = &w->sub[pos];
	memset(s, 0, sizeof(*s));
	s->realm = realm;
	s->addr = addr;
	s->paddr = NAT_NIL;
	if (b4 != NULL)
		memcpy(s->b4, b4, 16);
	w->n_subs++;
	w->cnt[NAT_CNT_subscribers_created]++;
	return (uint32_t)pos;
}

static void sub_maybe_free(struct nat_worker *w, uint32_t si)
{
	struct nat_sub *s = &w->sub[si];
	if (s->n_blocks > 0 || s->n_maps > 0 || s->n_sessions > 0)
		return;
	struct nat_skey k = {.realm = s->realm, .addr = s->addr};
	rte_hash_del_key(w->subs, &k);
	s->paddr = NAT_NIL;
	w->n_subs--;
	w->cnt[NAT_CNT_subscribers_freed]++;
}

/* ---- Mappings ---- */

static void map_free(struct nat_worker *w, uint32_t mi)
{
	struct nat_mapping *m = &w->maps[mi];
	struct nat_mkey ik = {.vrf = m->realm, .addr = m->in_addr, .port = m->in_port, .proto = m->proto};
	struct nat_mkey ok = {.vrf = m->out_vrf, .addr = m->pub_addr, .port = m->pub_port, .proto = m->proto};
	rte_hash_del_key(w->map_out, &ok);
	rte_hash_del_key(w->map_in, &ik);
	if (!(m->flags & NAT_MAP_STATIC))
		nat_ports_port_free(w->ports, m->paddr, nat_proto_index(m->proto), m->pub_port, w->now_ms);
	if (m->sub != NAT_NIL) {
		w->sub[m->sub].n_maps--;
		sub_maybe_free(w, m->sub);
	}
	w->n_maps--;
	w->cnt[NAT_CNT_mappings_freed]++;
}

static int32_t map_new_static(struct nat_worker *w, const struct nat_static_rt *st)
{
	struct nat_mkey ik = {.vrf = st->realm, .addr = st->in_addr, .port = st->in_port, .proto = st->proto};
	struct nat_mkey ok = {.vrf = st->out_vrf, .addr = st->pub_addr, .port = st->pub_port, .proto = st->proto};
	/* Either endpoint taken by a dynamic mapping (the static came later): that one goes on until it ends. */
	if (rte_hash_lookup(w->map_in, &ik) >= 0 || rte_hash_lookup(w->map_out, &ok) >= 0)
		return -1;
	if (w->n_maps >= w->map_limit)
		return -1;
	int32_t pos = rte_hash_add_key(w->map_in, &ik);
	if (pos < 0)
		return -1;
	if ((uint32_t)pos >= w->max_maps ||
	    rte_hash_add_key_data(w->map_out, &ok, (void *)(uintptr_t)pos) != 0) {
		rte_hash_del_key(w->map_in, &ik);
		return -1;
	}
	w->maps[pos] = (struct nat_mapping){.realm = st->realm, .in_addr = st->in_addr, .in_port = st->in_port,
					    .proto = st->proto, .flags = NAT_MAP_STATIC, .out_vrf = st->out_vrf,
					    .pub_addr = st->pub_addr, .pub_port = st->pub_port, .paddr = st->paddr,
					    .filtering = NAT_FILTER_EIF, .sub = NAT_NIL, .first_sess = CT_NIL};
	w->n_maps++;
	w->cnt[NAT_CNT_mappings_created]++;
	w->cnt[NAT_CNT_static_used]++;
	return pos;
}

/* A new block for subscriber si: on its pinned address, or (none yet) the first address of its pool with room,
 * starting from a hash of the subscriber so subscribers spread. 0 with *ref, or a drop reason + 1. */
static int new_block(struct nat_worker *w, uint32_t si, const struct nat_limits *lim, uint8_t proto, uint16_t want,
		     uint32_t *ref)
{
	struct nat_sub *sub = &w->sub[si];
	if (sub->n_blocks >= sub->max_blocks) {
		log_sub(w, sub, NAT_LOG_QUOTA_BLOCKS, proto, sub_public_addr(sub), 0, 0, true);
		return NAT_DROP_nat_quota_blocks + 1;
	}
	if (sub->paddr != NAT_NIL) {
		const struct nat_paddr *p = nat_paddr_get(sub->paddr);
		if (p == NULL || nat_addr_draining(sub->paddr) ||
		    nat_ports_block_alloc(w->ports, sub->paddr, si, want, p->reserved, ref) != 0) {
			log_sub(w, sub, NAT_LOG_EXHAUSTED, proto, p ? p->addr : 0, 0, 0, true);
			return NAT_DROP_nat_pool_exhausted + 1;
		}
	} else {
		const struct nat_pool *pool = nat_pool_get(lim->pool);
		if (pool == NULL || pool->n_addrs == 0)
			return NAT_DROP_nat_no_address + 1;
		uint32_t start = nat_mix32(sub->realm, sub->addr) % pool->n_addrs, slot = NAT_NIL;
		for (uint32_t i = 0; i < pool->n_addrs && slot == NAT_NIL; i++) {
			uint32_t s = pool->addr_slot[(start + i) % pool->n_addrs];
			const struct nat_paddr *p = nat_paddr_get(s);
			if (p != NULL && !nat_addr_draining(s) && nat_ports_addr_free(w->ports, s) > 0 &&
			    nat_ports_block_alloc(w->ports, s, si, want, p->reserved, ref) == 0)
				slot = s;
		}
		if (slot == NAT_NIL) {
			log_sub(w, sub, NAT_LOG_EXHAUSTED, proto, 0, 0, 0, true);
			return NAT_DROP_nat_pool_exhausted + 1;
		}
		sub->paddr = slot;
	}
	sub->blocks[sub->n_blocks++] = *ref;
	uint16_t lo, hi;
	nat_ports_block_range(w->ports, *ref, &lo, &hi);
	log_sub(w, sub, NAT_LOG_BLOCK_ALLOC, 0, sub_public_addr(sub), lo, hi, false);
	w->cnt[NAT_CNT_blocks_allocated]++;
	return 0;
}

/* A public port for a new mapping of subscriber si: the inside port if it is in one of its blocks and free, else
 * the next free port of its blocks, else from a new block (the inside port's block if it can). 0 or reason + 1. */
static int dyn_port(struct nat_worker *w, uint32_t si, const struct nat_limits *lim, uint8_t proto, uint16_t want,
		    uint16_t *port)
{
	struct nat_sub *sub = &w->sub[si];
	unsigned pi = nat_proto_index(proto);
	if (sub->paddr != NAT_NIL && sub->n_blocks > 0) {
		/* the block holding the inside port, when it is one of the subscriber's (its own list: the allocator's
		 * record of that block's owner is a cache miss on a random block) */
		uint32_t ref = nat_ports_block_of(w->ports, sub->paddr, want);
		bool own = false;
		for (unsigned b = 0; ref != NAT_NIL && b < sub->n_blocks && !own; b++)
			own = sub->blocks[b] == ref;
		if (own && nat_ports_port_alloc(w->ports, ref, pi, want, port) == 0)
			return 0;
		for (unsigned b = 0; b < sub->n_blocks; b++)
			if (nat_ports_port_alloc(w->ports, sub->blocks[b], pi, want, port) == 0)
				return 0;
	}
	uint32_t ref;
	int rc = new_block(w, si, lim, proto, want, &ref);
	if (rc != 0)
		return rc;
	return nat_ports_port_alloc(w->ports, ref, pi, want, port) == 0 ? 0 : NAT_DROP_nat_pool_exhausted + 1;
}

/* A dynamic mapping for t; sig: the hash of its inside key in map_in (the caller's lookup computed it). */
static int32_t map_new_dynamic(struct nat_worker *w, const struct nat_limits *lim, const uint8_t *b4,
			       const struct nat_tuple *t, hash_sig_t sig)
{
	uint32_t si = sub_get(w, t->vrf, (t->vrf & NAT_REALM_B4) ? 0 : t->src, b4);
	if (si == NAT_NIL)
		return NAT_ERR(NAT_DROP_nat_session_full);
	struct nat_sub *sub = &w->sub[si];
	if (sub->n_blocks > 0) /* where dyn_port() usually finds the port, below */
		nat_ports_block_prefetch(w->ports, sub->blocks[0]);
	sub->max_sessions = lim->max_sessions;
	sub->max_blocks = (uint8_t)RTE_MIN(lim->max_blocks, (uint32_t)NAT_SUB_MAX_BLOCKS);
	sub->pool = lim->pool;
	if (sub->n_sessions >= sub->max_sessions) {
		log_sub(w, sub, NAT_LOG_QUOTA_SESSIONS, t->proto, sub_public_addr(sub), 0, 0, true);
		sub_maybe_free(w, si);
		return NAT_ERR(NAT_DROP_nat_quota_sessions);
	}
	struct nat_mkey ik = {.vrf = t->vrf, .addr = t->src, .port = t->sport, .proto = t->proto};
	int32_t pos = w->n_maps < w->map_limit ? rte_hash_add_key_with_hash(w->map_in, &ik, sig) : -ENOSPC;
	if (pos < 0 || (uint32_t)pos >= w->max_maps) {
		if (pos >= 0)
			rte_hash_del_key_with_hash(w->map_in, &ik, sig);
		sub_maybe_free(w, si);
		return NAT_ERR(NAT_DROP_nat_session_full);
	}
	uint16_t port;
	int rc = dyn_port(w, si, lim, t->proto, t->sport, &port);
	if (rc != 0) {
		rte_hash_del_key_with_hash(w->map_in, &ik, sig);
		sub_maybe_free(w, si);
		return NAT_ERR(rc - 1);
	}
	const struct nat_paddr *p = nat_paddr_get(sub->paddr);
	struct nat_mkey ok = {.vrf = p->vrf, .addr = p->addr, .port = port, .proto = t->proto};
	if (rte_hash_add_key_data(w->map_out, &ok, (void *)(uintptr_t)pos) != 0) {
		nat_ports_port_free(w->ports, sub->paddr, nat_proto_index(t->proto), port, w->now_ms);
		rte_hash_del_key_with_hash(w->map_in, &ik, sig);
		sub_maybe_free(w, si);
		return NAT_ERR(NAT_DROP_nat_session_full);
	}
	w->maps[pos] = (struct nat_mapping){.realm = t->vrf, .in_addr = t->src, .in_port = t->sport,
					    .proto = t->proto, .out_vrf = p->vrf, .pub_addr = p->addr,
					    .pub_port = port, .paddr = (uint16_t)sub->paddr,
					    .filtering = lim->filtering, .sub = si, .first_sess = CT_NIL};
	sub->n_maps++;
	w->n_maps++;
	w->cnt[NAT_CNT_mappings_created]++;
	w->cnt[port == t->sport ? NAT_CNT_port_preserved : NAT_CNT_port_changed]++;
	return pos;
}

/* ---- Sessions ---- */

static void okey_of(struct nat_worker *w, uint32_t idx, struct nat_okey *ok)
{
	const struct ct_session *s = ct_session(w->ct, (int32_t)idx);
	const struct nat_mapping *m = &w->maps[s->user[NAT_SESS_MAP]];
	const struct ct_key *k = ct_session_key(w->ct, idx);
	unsigned rs = 1 - (s->user[NAT_SESS_FLAGS] & NAT_SF_INSIDE_SIDE1);
	uint32_t rem;
	memcpy(&rem, k->addr[rs], 4);
	*ok = (struct nat_okey){.vrf = m->out_vrf, .pub_addr = m->pub_addr, .rem_addr = rte_be_to_cpu_32(rem),
				.pub_port = m->pub_port, .rem_port = m->proto == 1 ? m->pub_port : k->port[rs],
				.proto = m->proto};
}

/* Everything a session holds, before its slot goes (expiry, flush, eviction: ct calls back; or a delete). */
static void sess_release(struct nat_worker *w, uint32_t idx)
{
	struct ct_session *s = ct_session(w->ct, (int32_t)idx);
	uint32_t mi = s->user[NAT_SESS_MAP];
	struct nat_mapping *m = &w->maps[mi];
	struct nat_okey ok;
	okey_of(w, idx, &ok);
	rte_hash_del_key(w->sess_out, &ok);
	uint32_t next = s->user[NAT_SESS_NEXT], prev = s->user[NAT_SESS_PREV];
	if (prev != CT_NIL)
		ct_session(w->ct, (int32_t)prev)->user[NAT_SESS_NEXT] = next;
	else
		m->first_sess = next;
	if (next != CT_NIL)
		ct_session(w->ct, (int32_t)next)->user[NAT_SESS_PREV] = prev;
	if ((s->user[NAT_SESS_FLAGS] & NAT_SF_COUNTED) && m->sub != NAT_NIL)
		w->sub[m->sub].n_sessions--;
	s->user[NAT_SESS_FLAGS] = 0;
	w->cnt[NAT_CNT_sessions_freed]++;
	if (--m->n_sessions == 0)
		map_free(w, mi);
}

void nat_session_delete(struct nat_worker *w, int32_t idx)
{
	sess_release(w, (uint32_t)idx);
	ct_delete(w->ct, idx);
}

int32_t nat_out_lookup(struct nat_worker *w, const struct nat_okey *k)
{
	void *data;
	return rte_hash_lookup_data(w->sess_out, k, &data) >= 0 ? (int32_t)(uintptr_t)data : -1;
}

/*
 * Open a session of mapping mi for ct key k (init_side opened it; inside_side is the inside endpoint's side),
 * remote rem_addr:rem_port as the outside key names it. The packet (from init_side) is tracked.
 */
static int32_t sess_open(struct nat_worker *w, uint32_t mi, const struct ct_key *k, uint32_t hash, unsigned init_side,
			 unsigned inside_side, uint32_t rem_addr, uint16_t rem_port, uint32_t flags,
			 const struct ct_pkt *cp, uint64_t now)
{
	struct nat_mapping *m = &w->maps[mi];
	m->n_sessions++; /* held: an eviction by ct_insert may end this mapping's last session */
	int32_t idx = ct_insert(w->ct, k, hash, init_side, now);
	struct nat_okey ok = {.vrf = m->out_vrf, .pub_addr = m->pub_addr, .rem_addr = rem_addr,
			      .pub_port = m->pub_port, .rem_port = rem_port, .proto = m->proto};
	if (idx >= 0 && rte_hash_add_key_data(w->sess_out, &ok, (void *)(uintptr_t)idx) != 0) {
		ct_delete(w->ct, idx);
		idx = -ENOSPC;
	}
	if (idx < 0) {
		if (--m->n_sessions == 0)
			map_free(w, mi);
		return NAT_ERR(idx == -EEXIST ? NAT_DROP_nat_tcp_bad_state : NAT_DROP_nat_session_full);
	}
	struct ct_session *s = ct_session(w->ct, idx);
	s->user[NAT_SESS_MAP] = mi;
	s->user[NAT_SESS_FLAGS] = inside_side | flags | (m->sub != NAT_NIL ? NAT_SF_COUNTED : 0);
	s->user[NAT_SESS_PREV] = CT_NIL;
	s->user[NAT_SESS_NEXT] = m->first_sess;
	if (m->first_sess != CT_NIL)
		ct_session(w->ct, (int32_t)m->first_sess)->user[NAT_SESS_PREV] = (uint32_t)idx;
	m->first_sess = (uint32_t)idx;
	if (m->sub != NAT_NIL)
		w->sub[m->sub].n_sessions++;
	w->cnt[NAT_CNT_sessions_created]++;
	if (flags & NAT_SF_INBOUND)
		w->cnt[NAT_CNT_sessions_inbound]++;
	int v = ct_track(w->ct, idx, init_side, cp, now);
	if (v != CT_OK) {
		nat_session_delete(w, idx);
		return NAT_ERR(nat_verdict_drop(v));
	}
	return idx;
}

static int tcp_may_open(struct nat_worker *w, uint8_t proto, const struct ct_pkt *cp)
{
	if (proto != 6)
		return 0;
	int mo = ct_tcp_may_open(w->ct, cp);
	if (mo == CT_OK)
		return 0;
	return (mo == CT_INVALID_FLAGS ? NAT_DROP_nat_tcp_bad_flags : NAT_DROP_nat_tcp_no_session) + 1;
}

int32_t nat_in2out_open(struct nat_worker *w, const struct nat_limits *lim, const uint8_t *b4,
			const struct nat_tuple *t, const struct ct_key *k, uint32_t hash, unsigned side,
			const struct ct_pkt *cp, uint64_t now)
{
	w->now_ms = now;
	int rc = tcp_may_open(w, t->proto, cp);
	if (rc != 0)
		return NAT_ERR(rc - 1);
	struct nat_mkey ik = {.vrf = t->vrf, .addr = t->src, .port = t->sport, .proto = t->proto};
	hash_sig_t sig = rte_hash_hash(w->map_in, &ik);
	int32_t mi = rte_hash_lookup_with_hash(w->map_in, &ik, sig);
	if (mi >= 0) {
		const struct nat_mapping *m = &w->maps[mi];
		if (m->sub != NAT_NIL && w->sub[m->sub].n_sessions >= w->sub[m->sub].max_sessions) {
			const struct nat_sub *sub = &w->sub[m->sub];
			log_sub(w, sub, NAT_LOG_QUOTA_SESSIONS, t->proto, m->pub_addr, 0, 0, true);
			return NAT_ERR(NAT_DROP_nat_quota_sessions);
		}
	} else {
		const struct nat_static_rt *st =
			nat_static_by_in(__atomic_load_n(&nat.statics, __ATOMIC_ACQUIRE), t->vrf, t->proto, t->src,
					 t->sport);
		if (st != NULL)
			mi = map_new_static(w, st);
		if (mi < 0) {
			mi = map_new_dynamic(w, lim, b4, t, sig);
			if (mi < 0)
				return mi;
		}
	}
	uint16_t rem_port = t->proto == 1 ? w->maps[mi].pub_port : t->dport;
	return sess_open(w, (uint32_t)mi, k, hash, side, side, t->dst, rem_port, 0, cp, now);
}

/* ADF: has the mapping a session with this remote address? */
static bool adf_allows(struct nat_worker *w, const struct nat_mapping *m, uint32_t rem)
{
	unsigned n = 0;
	for (uint32_t i = m->first_sess; i != CT_NIL && n < NAT_ADF_WALK_MAX; n++) {
		const struct ct_session *s = ct_session(w->ct, (int32_t)i);
		const struct ct_key *k = ct_session_key(w->ct, i);
		unsigned rs = 1 - (s->user[NAT_SESS_FLAGS] & NAT_SF_INSIDE_SIDE1);
		uint32_t a;
		memcpy(&a, k->addr[rs], 4);
		if (rte_be_to_cpu_32(a) == rem)
			return true;
		i = s->user[NAT_SESS_NEXT];
	}
	return false;
}

int32_t nat_out2in_open(struct nat_worker *w, const struct nat_tuple *t, const struct ct_pkt *cp, uint64_t now)
{
	w->now_ms = now;
	struct nat_mkey ok = {.vrf = t->vrf, .addr = t->dst, .port = t->dport, .proto = t->proto};
	void *data;
	int32_t mi = -1;
	const struct nat_static_rt *st = NULL;
	if (rte_hash_lookup_data(w->map_out, &ok, &data) >= 0) {
		mi = (int32_t)(uintptr_t)data;
	} else {
		st = nat_static_by_out(__atomic_load_n(&nat.statics, __ATOMIC_ACQUIRE), t->vrf, t->proto, t->dst,
				       t->dport);
		if (st == NULL)
			return NAT_PASS;
	}
	if (mi >= 0) {
		const struct nat_mapping *m = &w->maps[mi];
		if (!(m->flags & NAT_MAP_STATIC) &&
		    (m->filtering == NAT_FILTER_APDF || (m->filtering == NAT_FILTER_ADF && !adf_allows(w, m, t->src))))
			return NAT_ERR(NAT_DROP_nat_filtered);
	}
	int rc = tcp_may_open(w, t->proto, cp);
	if (rc != 0)
		return NAT_ERR(rc - 1);
	if (mi < 0 && (mi = map_new_static(w, st)) < 0)
		return NAT_ERR(NAT_DROP_nat_session_full);
	struct nat_mapping *m = &w->maps[mi];
	if (m->sub != NAT_NIL && w->sub[m->sub].n_sessions >= w->sub[m->sub].max_sessions) {
		log_sub(w, &w->sub[m->sub], NAT_LOG_QUOTA_SESSIONS, t->proto, m->pub_addr, 0, 0, true);
		return NAT_ERR(NAT_DROP_nat_quota_sessions);
	}
	/* the inside view: remote -> inside endpoint; ICMP query: the identifier on both sides */
	struct nat_tuple it = {.vrf = m->realm, .proto = t->proto, .src = m->in_addr, .dst = t->src,
			       .sport = m->in_port, .dport = t->proto == 1 ? m->in_port : t->sport};
	struct ct_key k;
	unsigned inside_side = nat_in_key(&k, &it);
	return sess_open(w, (uint32_t)mi, &k, ct_key_hash(&k), 1 - inside_side, inside_side, t->src, t->sport,
			 NAT_SF_INBOUND, cp, now);
}

/* ---- Housekeeping ---- */

void nat_house_tick(struct nat_worker *w, uint64_t now, unsigned budget)
{
	w->now_ms = now;
	ct_expire(w->ct, now, budget);
	uint32_t refs[64];
	unsigned n = nat_ports_idle_expired(w->ports, now, nat.block_idle_ms, refs, RTE_DIM(refs));
	for (unsigned i = 0; i < n; i++) {
		uint32_t si = nat_ports_block_sub(w->ports, refs[i]);
		struct nat_sub *sub = &w->sub[si];
		uint16_t lo, hi;
		nat_ports_block_range(w->ports, refs[i], &lo, &hi);
		log_sub(w, sub, NAT_LOG_BLOCK_RELEASE, 0, sub_public_addr(sub), lo, hi, false);
		for (unsigned b = 0; b < sub->n_blocks; b++) {
			if (sub->blocks[b] == refs[i]) {
				sub->blocks[b] = sub->blocks[--sub->n_blocks];
				break;
			}
		}
		nat_ports_block_free(w->ports, refs[i]);
		w->cnt[NAT_CNT_blocks_released]++;
		if (sub->n_blocks == 0)
			sub->paddr = NAT_NIL; /* may be pinned elsewhere next time */
		sub_maybe_free(w, si);
	}
}

/* ---- Fragment map ---- */

#define NAT_FRAG_WAYS 4

static inline uint32_t frag_slot(uint32_t vrf, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	return nat_mix32(vrf ^ src, dst ^ ((uint32_t)id << 8) ^ proto) & (NAT_FRAG_ENTRIES - 1);
}

static inline bool frag_match(const struct nat_frag_ent *e, uint32_t vrf, uint32_t src, uint32_t dst, uint16_t id,
			      uint8_t proto)
{
	return e->dir != 0 && e->vrf == vrf && e->src == src && e->dst == dst && e->id == id && e->proto == proto;
}

bool nat_frag_put(struct nat_worker *w, uint32_t vrf, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto,
		  uint8_t dir, uint32_t new_src, uint32_t new_dst, uint32_t new_vrf, uint64_t now)
{
	uint32_t h = frag_slot(vrf, src, dst, id, proto);
	struct nat_frag_ent *free_e = NULL;
	for (unsigned i = 0; i < NAT_FRAG_WAYS; i++) {
		struct nat_frag_ent *e = &w->frags[(h + i) & (NAT_FRAG_ENTRIES - 1)];
		if (frag_match(e, vrf, src, dst, id, proto) || e->dir == 0 || e->expires_ms <= now) {
			free_e = e;
			break;
		}
	}
	if (free_e == NULL)
		return false;
	*free_e = (struct nat_frag_ent){.vrf = vrf, .src = src, .dst = dst, .id = id, .proto = proto, .dir = dir,
					.new_src = new_src, .new_dst = new_dst, .new_vrf = new_vrf,
					.expires_ms = now + NAT_FRAG_TIMEOUT_MS};
	return true;
}

const struct nat_frag_ent *nat_frag_get(struct nat_worker *w, uint32_t vrf, uint32_t src, uint32_t dst, uint16_t id,
					uint8_t proto, uint64_t now)
{
	uint32_t h = frag_slot(vrf, src, dst, id, proto);
	for (unsigned i = 0; i < NAT_FRAG_WAYS; i++) {
		const struct nat_frag_ent *e = &w->frags[(h + i) & (NAT_FRAG_ENTRIES - 1)];
		if (frag_match(e, vrf, src, dst, id, proto))
			return e->expires_ms > now ? e : NULL;
	}
	return NULL;
}
