/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nat show pools | subscribers | sessions | stats | statics`: read-only views of the running NAT. The workers'
 * tables are read in place (the control thread only reads; a row being written may show torn, which a display
 * tolerates). Subscribers and sessions are filtered and paged: the walk skips `skip` matches, stops after `limit`
 * rows and one more match (the "more" marker), so a reply never grows with the tables.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/cp.h"
#include "nf/nat/nat_cp.h"
#include "nf/nat/nat_ctl.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 100000
#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

static int check_tables(struct ctl_reply *r)
{
	if (nat.workers != NULL)
		return 0;
	return ctl_reply_error(r, ENOTSUP, "NAT is not enabled (the boot configuration has no nat section)");
}

/* ---- nat show pools ---- */

/* Blocks used, owned, and ports in use of one address on one worker (display: torn reads tolerated). */
static void share_usage(const struct nat_ports *np, uint32_t slot, uint32_t *used, uint32_t *owned, uint64_t *ports)
{
	const struct nat_addr_share *a = &np->addr[slot];
	*used = *owned = 0;
	*ports = 0;
	if (!a->active)
		return;
	*used = a->n_used;
	*owned = a->n_owned;
	for (uint32_t k = 0; a->mem != NULL && k < a->n_owned; k++)
		if (nat_ports_block_at(a, k)->sub != NAT_NIL)
			*ports += nat_ports_block_at(a, k)->used;
}

static void address_row(struct ctl_table *t, const struct nat_paddr *p)
{
	char ab[ADDR_STR_MAX], c[4][24];
	struct sbuf per;
	uint32_t used_sum = 0, total = 0;
	uint64_t ports_sum = 0;
	sbuf_init(&per);
	for (unsigned w = 0; w < nat.n_workers; w++) {
		uint32_t used, owned;
		uint64_t ports;
		share_usage(nat.workers[w].ports, p->slot, &used, &owned, &ports);
		sbuf_printf(&per, "%s%u:%u/%u", w ? " " : "", w, used, owned);
		used_sum += used;
		total += owned;
		ports_sum += ports;
	}
	ctl_table_row(t, nat_cp_pool_name(p->pool), nat_vrf_name(p->vrf), nat_ip4_fmt(p->addr, ab, sizeof(ab)),
		      nat.addr_draining[p->slot] ? "draining" : "active", U64(c[0], used_sum), U64(c[1], total),
		      per.data != NULL ? per.data : "", U64(c[2], ports_sum), U64(c[3], p->slot));
	sbuf_free(&per);
}

/* Addresses of the running pools that wait for their old slot (another port range or block size) to drain. */
static void pending_rows(struct ctl_table *t)
{
	for (size_t i = 0; nat.conf != NULL && i < nat.conf->n_pools; i++) {
		const struct nat_pool_conf *pc = &nat.conf->pools[i];
		const struct vrf *v = vrf_by_name(pc->vrf);
		for (size_t k = 0; v != NULL && k < pc->n_prefixes; k++) {
			uint32_t base = addr_v4_host(&pc->prefixes[k].addr);
			uint32_t size = (uint32_t)1 << (32 - RTE_MAX(pc->prefixes[k].len, (uint8_t)16));
			for (uint32_t n = 0; n < size; n++) {
				char ab[ADDR_STR_MAX], blocks[24];
				if (!nat_cp_addr_pending(v->slot, base + n, pc->port_lo, pc->port_hi, pc->block_size))
					continue;
				snprintf(blocks, sizeof(blocks), "%u", nat_ports_n_blocks(pc->port_lo, pc->port_hi,
											   pc->block_size));
				ctl_table_row(t, pc->name, pc->vrf, nat_ip4_fmt(base + n, ab, sizeof(ab)),
					      "pending (old port range draining)", "0", blocks, "", "0", "0");
			}
		}
	}
}

int nat_cmd_show_pools(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (check_tables(r))
		return r->status;
	struct ctl_table *pt = ctl_reply_table(r, "pools", "pool", "vrf", "ports", "#block_size", "#blocks_per_address",
					       "#addresses", "#draining", NULL);
	struct ctl_table *at = ctl_reply_table(r, "addresses", "pool", "vrf", "address", "state", "#blocks_used",
					       "#blocks_total", "per_worker", "#ports_in_use", "#slot", NULL);
	for (unsigned id = 0; id < NAT_MAX_POOLS; id++) {
		const struct nat_pool *p = nat.pools[id];
		char c[5][24], ports[16];
		uint32_t draining = 0;
		if (p == NULL)
			continue;
		for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++)
			draining += nat.paddrs[s] != NULL && nat.paddrs[s]->pool == id && nat.addr_draining[s];
		snprintf(ports, sizeof(ports), "%u-%u", p->port_lo, p->port_hi);
		ctl_table_row(pt, p->name, p->vrf != NAT_NIL ? nat_vrf_name(p->vrf) : "(no such VRF)", ports,
			      U64(c[0], p->block_size), U64(c[1], p->n_blocks), U64(c[2], p->n_addrs),
			      U64(c[3], draining));
	}
	/* Pool by pool, then the draining addresses of removed pools. */
	for (unsigned id = 0; id <= NAT_MAX_POOLS; id++)
		for (uint32_t s = 0; s < NAT_MAX_ADDRS; s++) {
			const struct nat_paddr *p = nat.paddrs[s];
			bool removed_pool = p != NULL && (p->pool >= NAT_MAX_POOLS || nat.pools[p->pool] == NULL);
			if (p != NULL && (id < NAT_MAX_POOLS ? p->pool == id && !removed_pool : removed_pool))
				address_row(at, p);
		}
	pending_rows(at);
	return 0;
}

/* ---- filters shared by subscribers and sessions ---- */

struct walk {
	int64_t vrf, proto, port; /* -1: any */
	bool has_prefix;
	struct addr_prefix prefix;
	struct ctl_table *t;
	uint64_t skip, limit, matched, now;
	bool more;
};

static int walk_parse(const struct ctl_args *a, struct walk *w, bool sessions, char *err, size_t errlen)
{
	const char *vname = ctl_arg(a, "vrf"), *proto = ctl_arg(a, "proto"), *addr = ctl_arg(a, "addr");
	const struct vrf *v = vname != NULL ? vrf_by_name(vname) : NULL;
	uint32_t u;
	*w = (struct walk){.vrf = -1, .proto = -1, .port = -1, .limit = LIMIT_DEFAULT};
	if (vname != NULL && v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", vname);
		return ENOENT;
	}
	w->vrf = v != NULL ? (int64_t)v->slot : -1;
	if (sessions && proto != NULL) {
		static const char *const names[] = {"icmp", "tcp", "udp"};
		static const int numbers[] = {1, 6, 17};
		for (int i = 0; i < 3; i++)
			if (strcmp(proto, names[i]) == 0)
				w->proto = numbers[i];
		if (w->proto < 0) {
			snprintf(err, errlen, "bad proto '%s' (expected tcp, udp or icmp)", proto);
			return EINVAL;
		}
	}
	if (addr != NULL && addr_prefix_parse(addr, &w->prefix, false) != 0) {
		snprintf(err, errlen, "bad addr '%s' (expected an IPv4 %saddress or prefix)", addr,
			 sessions ? "" : "or IPv6 (B4) ");
		return EINVAL;
	}
	w->has_prefix = addr != NULL;
	if (sessions && ctl_arg(a, "port")) {
		if (ctl_arg_u32(a, "port", 0, 65535, &u, err, errlen))
			return EINVAL;
		w->port = u;
	}
	if (ctl_arg(a, "skip")) {
		if (ctl_arg_u32(a, "skip", 0, UINT32_MAX, &u, err, errlen))
			return EINVAL;
		w->skip = u;
	}
	if (ctl_arg(a, "limit")) {
		if (ctl_arg_u32(a, "limit", 1, LIMIT_MAX, &u, err, errlen))
			return EINVAL;
		w->limit = u;
	}
	w->now = cp_now_ms();
	return 0;
}

static bool v4_in(const struct walk *w, uint32_t host_order)
{
	struct addr a;
	addr_from_v4_host(&a, host_order);
	return addr_prefix_contains(&w->prefix, &a);
}

/* Count a match; false when it is skipped, or the page is full (then "more" is set). */
static bool walk_take(struct walk *w)
{
	if (w->matched++ < w->skip)
		return false;
	if (w->t->nrows >= w->limit) {
		w->more = true;
		return false;
	}
	return true;
}

static void walk_footer(struct ctl_reply *r, const struct walk *w, const char *what)
{
	if (w->more)
		sbuf_printf(&r->text, "(more %s match: showing %zu from %" PRIu64 "; next page: skip %" PRIu64 ")\n",
			    what, w->t->nrows, w->skip, w->skip + w->t->nrows);
}

/* ---- nat show subscribers ---- */

static bool sub_matches(const struct walk *w, const struct nat_sub *s)
{
	bool b4 = (s->realm & NAT_REALM_B4) != 0;
	if (w->vrf >= 0 && (b4 || s->realm != (uint32_t)w->vrf))
		return false;
	if (!w->has_prefix)
		return true;
	if (w->prefix.addr.family == 6) {
		struct addr a = {.family = 6};
		memcpy(a.bytes, s->b4, 16);
		return b4 && addr_prefix_contains(&w->prefix, &a);
	}
	return !b4 && v4_in(w, s->addr);
}

static void sub_row(struct walk *w, unsigned worker, const struct nat_worker *nw, const struct nat_sub *s)
{
	char in[ADDR_STR_MAX], pub[ADDR_STR_MAX] = "-", c[5][24];
	const struct nat_paddr *p = s->paddr < NAT_MAX_ADDRS ? nat.paddrs[s->paddr] : NULL; /* NAT_NIL: not pinned */
	struct sbuf blocks;
	sbuf_init(&blocks);
	if ((s->realm & NAT_REALM_B4) != 0)
		nat_ip6_fmt(s->b4, in, sizeof(in));
	else
		nat_ip4_fmt(s->addr, in, sizeof(in));
	if (p != NULL)
		nat_ip4_fmt(p->addr, pub, sizeof(pub));
	for (unsigned b = 0; b < s->n_blocks && b < NAT_SUB_MAX_BLOCKS; b++) {
		uint16_t lo, hi;
		nat_ports_block_range(nw->ports, s->blocks[b], &lo, &hi);
		sbuf_printf(&blocks, "%s%u-%u", b ? "," : "", lo, hi);
	}
	ctl_table_row(w->t, nat_realm_name(s->realm), in, pub, nat_cp_pool_name(s->pool), U64(c[0], s->n_blocks),
		      blocks.data != NULL ? blocks.data : "", U64(c[1], s->n_sessions), U64(c[2], s->n_maps),
		      U64(c[3], worker));
	sbuf_free(&blocks);
}

int nat_cmd_show_subscribers(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	struct walk w;
	int rc;
	if (check_tables(r))
		return r->status;
	if ((rc = walk_parse(a, &w, false, err, sizeof(err))))
		return ctl_reply_error(r, rc, "%s", err);
	w.t = ctl_reply_table(r, "subscribers", "realm", "inside", "public", "pool", "#blocks", "port_blocks",
			      "#sessions", "#mappings", "#worker", NULL);
	for (unsigned i = 0; i < nat.n_workers && !w.more; i++) {
		const struct nat_worker *nw = &nat.workers[i];
		for (uint32_t k = 0; k < nw->max_subs && !w.more; k++) {
			const struct nat_sub *s = &nw->sub[k];
			/* A free entry has nothing (a subscriber goes with its last block, mapping and session). */
			if ((s->n_blocks == 0 && s->n_maps == 0 && s->n_sessions == 0) || !sub_matches(&w, s))
				continue;
			if (walk_take(&w))
				sub_row(&w, i, nw, s);
		}
	}
	walk_footer(r, &w, "subscribers");
	return 0;
}

/* ---- nat show sessions ---- */

struct sess_view {
	uint32_t realm, in_addr, rem_addr, out_vrf, pub_addr;
	uint16_t in_port, rem_port, pub_port;
	const struct nat_mapping *m;
};

static bool sess_view(const struct nat_worker *nw, const struct ct_key *k, const struct ct_session *s,
		      struct sess_view *v)
{
	unsigned in = s->user[NAT_SESS_FLAGS] & NAT_SF_INSIDE_SIDE1;
	uint32_t mi = s->user[NAT_SESS_MAP];
	rte_be32_t a;
	if (mi >= nw->max_maps)
		return false;
	v->m = &nw->maps[mi];
	v->realm = k->vrf;
	memcpy(&a, k->addr[in], 4);
	v->in_addr = rte_be_to_cpu_32(a);
	memcpy(&a, k->addr[in ^ 1], 4);
	v->rem_addr = rte_be_to_cpu_32(a);
	v->in_port = k->port[in];
	v->rem_port = k->port[in ^ 1];
	v->out_vrf = v->m->out_vrf;
	v->pub_addr = v->m->pub_addr;
	v->pub_port = v->m->pub_port;
	return true;
}

static bool sess_matches(const struct walk *w, const struct ct_key *k, const struct sess_view *v)
{
	if (w->vrf >= 0 && v->realm != (uint32_t)w->vrf && v->out_vrf != (uint32_t)w->vrf)
		return false;
	if (w->proto >= 0 && k->proto != w->proto)
		return false;
	if (w->port >= 0 && v->in_port != w->port && v->pub_port != w->port && v->rem_port != w->port)
		return false;
	return !w->has_prefix || v4_in(w, v->in_addr) || v4_in(w, v->pub_addr) || v4_in(w, v->rem_addr);
}

static void sess_row(struct walk *w, unsigned worker, const struct nat_worker *nw, const struct ct_key *k,
		     const struct ct_session *s, const struct sess_view *v)
{
	char in[2 * ADDR_STR_MAX + 16], pub[ADDR_STR_MAX + 8], rem[ADDR_STR_MAX + 8], ab[ADDR_STR_MAX], c[8][24];
	unsigned inside = s->user[NAT_SESS_FLAGS] & NAT_SF_INSIDE_SIDE1;
	/* The inside endpoint's packets are the original direction when it opened the session. */
	unsigned out_dir = s->init_side == inside ? CT_DIR_ORIG : CT_DIR_REPLY;
	const char *realm = nat_realm_name(v->realm);
	if ((v->realm & NAT_REALM_B4) != 0 && v->m->sub != NAT_NIL && v->m->sub < nw->max_subs) {
		/* DS-Lite: the B4 names the subscriber, its private address and port follow */
		nat_ip6_fmt(nw->sub[v->m->sub].b4, ab, sizeof(ab));
		size_t n = (size_t)snprintf(in, sizeof(in), "[%s]", ab);
		snprintf(in + n, sizeof(in) - n, "%s:%u", nat_ip4_fmt(v->in_addr, ab, sizeof(ab)), v->in_port);
	} else {
		snprintf(in, sizeof(in), "%s:%u", nat_ip4_fmt(v->in_addr, ab, sizeof(ab)), v->in_port);
	}
	snprintf(pub, sizeof(pub), "%s:%u", nat_ip4_fmt(v->pub_addr, ab, sizeof(ab)), v->pub_port);
	snprintf(rem, sizeof(rem), "%s:%u", nat_ip4_fmt(v->rem_addr, ab, sizeof(ab)), v->rem_port);
	uint64_t age = w->now > s->created_ms ? w->now - s->created_ms : 0;
	uint64_t left = s->expires_ms > w->now ? s->expires_ms - w->now : 0;
	ctl_table_row(w->t, realm, nat_proto_name(k->proto), in, pub, rem, nat_vrf_name(v->out_vrf),
		      ct_state_name(s->state), (s->user[NAT_SESS_FLAGS] & NAT_SF_INBOUND) ? "in" : "out",
		      (v->m->flags & NAT_MAP_STATIC) ? "static" : "dynamic", U64(c[0], age / 1000),
		      U64(c[1], left / 1000), U64(c[2], s->pkts[out_dir]), U64(c[3], s->bytes[out_dir]),
		      U64(c[4], s->pkts[out_dir ^ 1]), U64(c[5], s->bytes[out_dir ^ 1]), U64(c[6], worker));
}

int nat_cmd_show_sessions(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	struct walk w;
	int rc;
	if (check_tables(r))
		return r->status;
	if ((rc = walk_parse(a, &w, true, err, sizeof(err))))
		return ctl_reply_error(r, rc, "%s", err);
	if (w.has_prefix && w.prefix.addr.family != 4)
		return ctl_reply_error(r, EINVAL, "bad addr '%s' (expected an IPv4 address or prefix)", ctl_arg(a, "addr"));
	w.t = ctl_reply_table(r, "sessions", "realm", "proto", "inside", "outside", "remote", "outside_vrf", "state",
			      "opened", "mapping", "#age_s", "#expires_s", "#pkts_out", "#bytes_out", "#pkts_in",
			      "#bytes_in", "#worker", NULL);
	for (unsigned i = 0; i < nat.n_workers && !w.more; i++) {
		const struct nat_worker *nw = &nat.workers[i];
		uint32_t cap = ct_table_capacity(nw->ct);
		for (uint32_t idx = 0; idx < cap && !w.more; idx++) {
			const struct ct_session *s = ct_session_const(nw->ct, idx);
			struct sess_view v;
			if (s->state == CT_S_FREE)
				continue;
			const struct ct_key *k = ct_session_key(nw->ct, idx);
			if (k == NULL || !sess_view(nw, k, s, &v) || !sess_matches(&w, k, &v))
				continue;
			if (walk_take(&w))
				sess_row(&w, i, nw, k, s, &v);
		}
	}
	walk_footer(r, &w, "sessions");
	return 0;
}

/* ---- nat show stats, nat show statics ---- */

int nat_cmd_show_stats(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	nat_stats_table(r);
	return 0;
}

/* Is the public port in a dynamic block of its address (that block is then reserved)? */
static bool in_dynamic_range(const struct nat_pool_conf *pc, uint16_t port)
{
	uint32_t n = nat_ports_n_blocks(pc->port_lo, pc->port_hi, pc->block_size);
	return port >= pc->port_lo && (uint32_t)(port - pc->port_lo) / pc->block_size < n;
}

int nat_cmd_show_statics(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (nat.conf == NULL)
		return ctl_reply_error(r, ENOTSUP, "NAT is not enabled (the %s configuration has no nat section)",
				       nat.workers == NULL ? "boot" : "running");
	struct ctl_table *t = ctl_reply_table(r, "statics", "vrf", "proto", "inside", "public", "pool", "state",
					      "reserved_block", NULL);
	for (size_t i = 0; i < nat.conf->n_tenants; i++) {
		const struct nat_tenant_conf *tc = &nat.conf->tenants[i];
		const struct vrf *v = vrf_by_name(tc->vrf);
		const struct nat_pool_conf *pc = nat_conf_pool(nat.conf, tc->pool);
		bool active = v != NULL && nat.tenants != NULL && nat.tenants[v->slot] != NULL;
		for (size_t k = 0; k < tc->n_statics; k++) {
			const struct nat_static_conf *sc = &tc->statics[k];
			char in[ADDR_STR_MAX + 8], pub[ADDR_STR_MAX + 8], ab[ADDR_STR_MAX];
			snprintf(in, sizeof(in), "%s:%u", addr_fmt(&sc->inside, ab, sizeof(ab)), sc->inside_port);
			snprintf(pub, sizeof(pub), "%s:%u", addr_fmt(&sc->public, ab, sizeof(ab)), sc->public_port);
			ctl_table_row(t, tc->vrf, nat_proto_name(sc->proto), in, pub, tc->pool,
				      active ? "active" : "dormant (VRF missing)",
				      pc != NULL && in_dynamic_range(pc, sc->public_port) ? "yes" : "no");
		}
	}
	return 0;
}
