/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a candidate changes, object by object: the running and candidate models matched by key (VRF and interface
 * names, (VRF, prefix) of routes, (interface, address) of neighbours), then each object marked: kept, deleted,
 * re-created (deleted early, with whatever depends on it), added or replaced. txn_plan.c turns marks into operations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/txn_plan_int.h"

/* ---- keys and indexes */

static uint64_t hash_route(const char *vrf, const struct addr_prefix *p)
{
	return conf_hash_bytes(conf_hash_string(CONF_HASH_SEED, vrf), p, sizeof(*p));
}

static uint64_t hash_neigh(const char *iface, const struct addr *ip)
{
	return conf_hash_bytes(conf_hash_string(CONF_HASH_SEED, iface), ip, sizeof(*ip));
}

static bool vrf_same(const void *ctx, uint32_t i, const void *key)
{
	return strcmp(((const struct npsgw_conf *)ctx)->vrfs[i].name, key) == 0;
}

static bool iface_same(const void *ctx, uint32_t i, const void *key)
{
	return strcmp(((const struct npsgw_conf *)ctx)->interfaces[i].name, key) == 0;
}

static bool route_key_same(const void *ctx, uint32_t i, const void *key)
{
	const struct conf_route *a = &((const struct npsgw_conf *)ctx)->routes[i], *b = key;
	return a->prefix.len == b->prefix.len && addr_equal(&a->prefix.addr, &b->prefix.addr) &&
	       strcmp(a->vrf, b->vrf) == 0;
}

static bool neigh_key_same(const void *ctx, uint32_t i, const void *key)
{
	const struct conf_neighbour *a = &((const struct npsgw_conf *)ctx)->neighbours[i], *b = key;
	return addr_equal(&a->ip, &b->ip) && strcmp(a->interface, b->interface) == 0;
}

static long find_vrf(const struct side *s, const char *name)
{
	return conf_index_find(&s->vrfs, conf_hash_string(CONF_HASH_SEED, name), vrf_same, s->c, name);
}

static long find_iface(const struct side *s, const char *name)
{
	return conf_index_find(&s->ifaces, conf_hash_string(CONF_HASH_SEED, name), iface_same, s->c, name);
}

static long find_route(const struct side *s, const struct conf_route *r)
{
	return conf_index_find(&s->routes, hash_route(r->vrf, &r->prefix), route_key_same, s->c, r);
}

static long find_neigh(const struct side *s, const struct conf_neighbour *n)
{
	return conf_index_find(&s->neighs, hash_neigh(n->interface, &n->ip), neigh_key_same, s->c, n);
}

/* The running address (flat index) at (vrf, address), whatever its length; -1 when none. */
struct addr_key {
	const char *vrf;
	const struct addr *a;
};

static const struct conf_interface *addr_owner(const struct side *s, size_t flat, size_t *j)
{
	size_t lo = 0, hi = s->c->n_interfaces; /* the last interface whose first address is at or before flat */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->addr_base[mid] <= flat)
			lo = mid;
		else
			hi = mid;
	}
	size_t i = lo;
	*j = flat - s->addr_base[i];
	return &s->c->interfaces[i];
}

static bool addr_key_same(const void *ctx, uint32_t flat, const void *key)
{
	const struct addr_key *k = key;
	size_t j;
	const struct conf_interface *in = addr_owner(ctx, flat, &j);
	return addr_equal(&in->addresses[j].addr, k->a) && strcmp(in->vrf, k->vrf) == 0;
}

struct claim_key {
	const char *vrf;
	const struct addr_prefix *p;
};

/* The prefixes an address puts in its VRF's FIB: its host route and (shorter than host) its subnet. */
static int address_claims(const struct addr_prefix *a, struct addr_prefix out[2])
{
	unsigned max = a->addr.family == 4 ? 32 : 128;
	out[0] = (struct addr_prefix){.addr = a->addr, .len = (uint8_t)max};
	if (a->len >= max)
		return 1;
	out[1] = *a;
	addr_prefix_mask(&out[1]);
	return 2;
}

static bool claim_same(const void *ctx, uint32_t k, const void *key)
{
	const struct side *s = ctx;
	const struct claim_key *ck = key;
	size_t j;
	const struct conf_interface *in = addr_owner(s, s->claim_addr[k], &j);
	struct addr_prefix cl[2];
	int n = address_claims(&in->addresses[j], cl);
	if (strcmp(in->vrf, ck->vrf) != 0)
		return false;
	for (int i = 0; i < n; i++)
		if (cl[i].len == ck->p->len && addr_equal(&cl[i].addr, &ck->p->addr))
			return true;
	return false;
}

static int side_init(struct side *s, const struct txn_model *m, bool running)
{
	const struct npsgw_conf *c = m->conf;
	s->c = c;
	s->down = m->down;
	s->vrf_mark = calloc(c->n_vrfs + 1, 1);
	s->if_mark = calloc(c->n_interfaces + 1, 1);
	s->route_mark = calloc(c->n_routes + 1, 1);
	s->neigh_mark = calloc(c->n_neighbours + 1, 1);
	s->vrf_peer = calloc(c->n_vrfs + 1, sizeof(long));
	s->if_peer = calloc(c->n_interfaces + 1, sizeof(long));
	s->route_peer = calloc(c->n_routes + 1, sizeof(long));
	s->neigh_peer = calloc(c->n_neighbours + 1, sizeof(long));
	s->addr_base = calloc(c->n_interfaces + 1, sizeof(size_t));
	if (!s->vrf_mark || !s->if_mark || !s->route_mark || !s->neigh_mark || !s->vrf_peer || !s->if_peer ||
	    !s->route_peer || !s->neigh_peer || !s->addr_base)
		return -1;
	for (size_t i = 0; i < c->n_interfaces; i++) {
		s->addr_base[i] = s->n_addrs;
		s->n_addrs += c->interfaces[i].n_addresses;
	}
	s->addr_mark = calloc(s->n_addrs + 1, 1);
	s->claim_addr = calloc(2 * s->n_addrs + 1, sizeof(size_t));
	if (s->addr_mark == NULL || s->claim_addr == NULL)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < c->n_vrfs && rc == 0; i++)
		rc = conf_index_add(&s->vrfs, conf_hash_string(CONF_HASH_SEED, c->vrfs[i].name), (uint32_t)i);
	for (size_t i = 0; i < c->n_interfaces && rc == 0; i++)
		rc = conf_index_add(&s->ifaces, conf_hash_string(CONF_HASH_SEED, c->interfaces[i].name), (uint32_t)i);
	for (size_t i = 0; i < c->n_routes && rc == 0; i++)
		rc = conf_index_add(&s->routes, hash_route(c->routes[i].vrf, &c->routes[i].prefix), (uint32_t)i);
	for (size_t i = 0; i < c->n_neighbours && rc == 0; i++)
		rc = conf_index_add(&s->neighs, hash_neigh(c->neighbours[i].interface, &c->neighbours[i].ip),
				    (uint32_t)i);
	for (size_t i = 0; running && i < c->n_interfaces && rc == 0; i++) {
		const struct conf_interface *in = &c->interfaces[i];
		for (size_t j = 0; j < in->n_addresses && rc == 0; j++) {
			size_t flat = s->addr_base[i] + j;
			struct addr_prefix cl[2];
			int n = address_claims(&in->addresses[j], cl);
			rc = conf_index_add(&s->addrs, hash_neigh(in->vrf, &in->addresses[j].addr), (uint32_t)flat);
			for (int k = 0; k < n && rc == 0; k++) {
				s->claim_addr[s->n_claims] = flat;
				rc = conf_index_add(&s->claims, hash_route(in->vrf, &cl[k]), (uint32_t)s->n_claims++);
			}
		}
	}
	return rc;
}

static void side_free(struct side *s)
{
	conf_index_free(&s->vrfs);
	conf_index_free(&s->ifaces);
	conf_index_free(&s->routes);
	conf_index_free(&s->neighs);
	conf_index_free(&s->addrs);
	conf_index_free(&s->claims);
	free(s->vrf_mark);
	free(s->if_mark);
	free(s->route_mark);
	free(s->neigh_mark);
	free(s->addr_mark);
	free(s->vrf_peer);
	free(s->if_peer);
	free(s->route_peer);
	free(s->neigh_peer);
	free(s->addr_base);
	free(s->claim_addr);
}

/* ---- what changes */

static void mark_vrfs(struct planner *p)
{
	struct side *r = &p->r, *c = &p->c;
	for (size_t j = 0; j < c->c->n_vrfs; j++)
		c->vrf_peer[j] = -1;
	for (size_t i = 0; i < r->c->n_vrfs; i++) {
		const struct conf_vrf *a = &r->c->vrfs[i];
		long j = find_vrf(c, a->name);
		r->vrf_peer[i] = j;
		if (j < 0) {
			r->vrf_mark[i] = DEL;
			continue;
		}
		c->vrf_peer[j] = (long)i;
		const struct conf_vrf *b = &c->c->vrfs[j];
		if (a->id != b->id || a->fib != b->fib || a->max_routes != b->max_routes) {
			r->vrf_mark[i] = EARLY; /* these cannot change in place: the VRF is re-created */
			c->vrf_mark[j] = ADD;
		}
	}
	for (size_t j = 0; j < c->c->n_vrfs; j++) {
		if (c->vrf_peer[j] < 0)
			c->vrf_mark[j] = ADD;
		if (c->vrf_mark[j] != ADD)
			continue;
		/* A new VRF taking the id of one that goes: that one goes first. */
		for (size_t i = 0; i < r->c->n_vrfs; i++)
			if (r->c->vrfs[i].id == c->c->vrfs[j].id && r->vrf_mark[i] == DEL)
				r->vrf_mark[i] = EARLY;
	}
}

static void effective_mac(const struct conf_interface *in, uint8_t mac[6])
{
	const struct port *port = port_by_name(in->device);
	if (in->has_mac)
		memcpy(mac, in->mac, 6);
	else if (port != NULL)
		memcpy(mac, port->mac.addr_bytes, 6);
	else
		memset(mac, 0, 6);
}

static bool iface_recreated(const struct planner *p, size_t i, size_t j)
{
	const struct conf_interface *a = &p->r.c->interfaces[i], *b = &p->c.c->interfaces[j];
	uint8_t ma[6], mb[6];
	effective_mac(a, ma);
	effective_mac(b, mb);
	long v = find_vrf(&p->r, a->vrf);
	return strcmp(a->kind, b->kind) != 0 || strcmp(a->device, b->device) != 0 || a->vlan != b->vlan ||
	       strcmp(a->vrf, b->vrf) != 0 ||
	       memcmp(ma, mb, 6) != 0 || (v >= 0 && p->r.vrf_mark[v] == EARLY);
}

static void mark_interfaces(struct planner *p)
{
	struct side *r = &p->r, *c = &p->c;
	for (size_t j = 0; j < c->c->n_interfaces; j++)
		c->if_peer[j] = -1;
	for (size_t i = 0; i < r->c->n_interfaces; i++) {
		long j = find_iface(c, r->c->interfaces[i].name), v = find_vrf(r, r->c->interfaces[i].vrf);
		r->if_peer[i] = j;
		if (j < 0) {
			/* In a VRF re-created early, it must go before the VRF does. */
			r->if_mark[i] = v >= 0 && r->vrf_mark[v] == EARLY ? EARLY : DEL;
			continue;
		}
		c->if_peer[j] = (long)i;
		if (iface_recreated(p, i, (size_t)j)) {
			r->if_mark[i] = EARLY;
			c->if_mark[j] = ADD;
		}
	}
	for (size_t j = 0; j < c->c->n_interfaces; j++) {
		if (c->if_peer[j] < 0)
			c->if_mark[j] = ADD;
		if (c->if_mark[j] != ADD)
			continue;
		/* A new interface on the (device, VLAN) of one that goes: that one goes first. */
		const struct conf_interface *b = &c->c->interfaces[j];
		for (size_t i = 0; i < r->c->n_interfaces; i++) {
			const struct conf_interface *a = &r->c->interfaces[i];
			if (b->kind[0] == '\0' && a->kind[0] == '\0' && a->vlan == b->vlan &&
			    strcmp(a->device, b->device) == 0 && r->if_mark[i] == DEL)
				r->if_mark[i] = EARLY;
		}
	}
}

static bool has_address(const struct conf_interface *in, const struct addr_prefix *a)
{
	for (size_t k = 0; k < in->n_addresses; k++)
		if (in->addresses[k].len == a->len && addr_equal(&in->addresses[k].addr, &a->addr))
			return true;
	return false;
}

static void mark_addresses(struct planner *p)
{
	struct side *r = &p->r, *c = &p->c;
	for (size_t i = 0; i < r->c->n_interfaces; i++) {
		const struct conf_interface *a = &r->c->interfaces[i];
		for (size_t k = 0; k < a->n_addresses; k++) {
			uint8_t *m = &r->addr_mark[r->addr_base[i] + k];
			if (r->if_mark[i] != KEEP)
				*m = r->if_mark[i];
			else if (!has_address(&c->c->interfaces[r->if_peer[i]], &a->addresses[k]))
				*m = DEL;
		}
	}
	for (size_t j = 0; j < c->c->n_interfaces; j++) {
		const struct conf_interface *b = &c->c->interfaces[j];
		for (size_t k = 0; k < b->n_addresses; k++) {
			uint8_t *m = &c->addr_mark[c->addr_base[j] + k];
			if (c->if_mark[j] == ADD || !has_address(&r->c->interfaces[c->if_peer[j]], &b->addresses[k]))
				*m = ADD;
			if (*m != ADD)
				continue;
			/* The same address elsewhere in the VRF (or with another length) goes first. */
			struct addr_key key = {.vrf = b->vrf, .a = &b->addresses[k].addr};
			long f = conf_index_find(&r->addrs, hash_neigh(b->vrf, key.a), addr_key_same, r, &key);
			if (f >= 0 && r->addr_mark[f] == DEL)
				r->addr_mark[f] = EARLY;
		}
	}
}

/* The interface a candidate gateway resolves to: the longest connected prefix (address subnet or dev route). */
static const char *resolve_gateway(const struct planner *p, const char *vrf, const struct addr *gw)
{
	const struct npsgw_conf *c = p->c.c;
	const char *best = NULL;
	int best_len = -1;
	for (size_t i = 0; i < c->n_interfaces; i++) {
		const struct conf_interface *in = &c->interfaces[i];
		if (strcmp(in->vrf, vrf) != 0)
			continue;
		for (size_t k = 0; k < in->n_addresses; k++) {
			if (addr_equal(&in->addresses[k].addr, gw))
				return NULL; /* the router's own address */
			if (addr_prefix_contains(&in->addresses[k], gw) && in->addresses[k].len > best_len) {
				best = in->name;
				best_len = in->addresses[k].len;
			}
		}
	}
	for (size_t i = 0; i < p->n_dev_routes; i++) {
		const struct conf_route *rt = p->dev_routes[i];
		if (rt->prefix.len > best_len && strcmp(rt->vrf, vrf) == 0 && addr_prefix_contains(&rt->prefix, gw)) {
			best = rt->dev;
			best_len = rt->prefix.len;
		}
	}
	return best;
}

static bool gateway_same(const void *ctx, uint32_t i, const void *key)
{
	const struct gateway *a = &((const struct gateway *)ctx)[i], *b = key;
	return addr_equal(&a->via, &b->via) && strcmp(a->vrf, b->vrf) == 0;
}

static const char *gateway_dev(struct planner *p, const char *vrf, const struct addr *via)
{
	struct gateway key = {.vrf = vrf, .via = *via};
	uint64_t h = hash_neigh(vrf, via);
	long i = conf_index_find(&p->gateway_index, h, gateway_same, p->gateways, &key);
	if (i >= 0)
		return p->gateways[i].dev;
	key.dev = resolve_gateway(p, vrf, via);
	if (p->n_gateways == p->cap_gateways) {
		size_t cap = p->cap_gateways ? 2 * p->cap_gateways : 64;
		struct gateway *grown = realloc(p->gateways, cap * sizeof(*grown));
		if (grown == NULL) {
			p->oom = true;
			return key.dev;
		}
		p->gateways = grown;
		p->cap_gateways = cap;
	}
	if (conf_index_add(&p->gateway_index, h, (uint32_t)p->n_gateways) < 0)
		p->oom = true;
	else
		p->gateways[p->n_gateways++] = key;
	return key.dev;
}

/* Does the running route a (its dev: the interface it resolved to) do what candidate route b says? */
static bool route_equal(struct planner *p, const struct conf_route *a, const struct conf_route *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case CONF_ROUTE_VIA: {
		const char *dev = b->dev[0] ? b->dev : gateway_dev(p, b->vrf, &b->via);
		return addr_equal(&a->via, &b->via) && dev != NULL && strcmp(a->dev, dev) == 0;
	}
	case CONF_ROUTE_DEV:
		return strcmp(a->dev, b->dev) == 0;
	case CONF_ROUTE_LEAK:
		return strcmp(a->target_vrf, b->target_vrf) == 0;
	default:
		return true;
	}
}

static bool route_recreated(const struct planner *p, const struct conf_route *a)
{
	long v = find_vrf(&p->r, a->vrf), t = a->kind == CONF_ROUTE_LEAK ? find_vrf(&p->r, a->target_vrf) : -1;
	long dev = a->dev[0] ? find_iface(&p->r, a->dev) : -1;
	return (v >= 0 && p->r.vrf_mark[v] == EARLY) || (t >= 0 && p->r.vrf_mark[t] == EARLY) ||
	       (dev >= 0 && p->r.if_mark[dev] == EARLY);
}

static void mark_routes(struct planner *p)
{
	struct side *r = &p->r, *c = &p->c;
	for (size_t j = 0; j < c->c->n_routes; j++)
		c->route_peer[j] = -1;
	for (size_t i = 0; i < r->c->n_routes; i++) {
		const struct conf_route *a = &r->c->routes[i];
		long j = find_route(c, a);
		r->route_peer[i] = j;
		if (j >= 0)
			c->route_peer[j] = (long)i;
		if (route_recreated(p, a)) {
			r->route_mark[i] = EARLY;
			if (j >= 0)
				c->route_mark[j] = ADD;
		} else if (j < 0) {
			r->route_mark[i] = DEL;
		} else if (!route_equal(p, a, &c->c->routes[j])) {
			c->route_mark[j] = REPLACE;
		}
	}
	for (size_t j = 0; j < c->c->n_routes; j++) {
		if (c->route_peer[j] < 0)
			c->route_mark[j] = ADD;
		if (c->route_mark[j] == SAME)
			continue;
		/* An address whose host or subnet route is where this route goes: the address goes first. */
		const struct conf_route *b = &c->c->routes[j];
		struct claim_key key = {.vrf = b->vrf, .p = &b->prefix};
		long k = conf_index_find(&r->claims, hash_route(b->vrf, &b->prefix), claim_same, r, &key);
		if (k >= 0 && r->addr_mark[r->claim_addr[k]] == DEL)
			r->addr_mark[r->claim_addr[k]] = EARLY;
	}
	/* A route where a new address's host or subnet route goes: the route goes first. */
	for (size_t j = 0; j < c->c->n_interfaces; j++) {
		const struct conf_interface *b = &c->c->interfaces[j];
		for (size_t k = 0; k < b->n_addresses; k++) {
			if (c->addr_mark[c->addr_base[j] + k] != ADD)
				continue;
			struct addr_prefix cl[2];
			int n = address_claims(&b->addresses[k], cl);
			for (int q = 0; q < n; q++) {
				struct conf_route key = {.prefix = cl[q]};
				snprintf(key.vrf, sizeof(key.vrf), "%s", b->vrf);
				long i = find_route(r, &key);
				if (i >= 0 && r->route_mark[i] == DEL)
					r->route_mark[i] = EARLY;
			}
		}
	}
}

/* Is a running address of interface i that covers ip deleted early? (Its removal flushes the neighbour.) */
static bool covering_address_early(const struct side *r, size_t i, const struct addr *ip)
{
	const struct conf_interface *in = &r->c->interfaces[i];
	for (size_t k = 0; k < in->n_addresses; k++)
		if (r->addr_mark[r->addr_base[i] + k] == EARLY && addr_prefix_contains(&in->addresses[k], ip))
			return true;
	return false;
}

static void mark_neighbours(struct planner *p)
{
	struct side *r = &p->r, *c = &p->c;
	for (size_t j = 0; j < c->c->n_neighbours; j++)
		c->neigh_peer[j] = -1;
	for (size_t i = 0; i < r->c->n_neighbours; i++) {
		const struct conf_neighbour *a = &r->c->neighbours[i];
		long j = find_neigh(c, a), f = find_iface(r, a->interface);
		r->neigh_peer[i] = j;
		if (j >= 0)
			c->neigh_peer[j] = (long)i;
		if (f >= 0 && (r->if_mark[f] == EARLY || covering_address_early(r, (size_t)f, &a->ip))) {
			r->neigh_mark[i] = EARLY;
			if (j >= 0)
				c->neigh_mark[j] = ADD;
		} else if (j < 0) {
			r->neigh_mark[i] = DEL;
		} else if (memcmp(a->mac, c->c->neighbours[j].mac, 6) != 0) {
			c->neigh_mark[j] = REPLACE;
		}
	}
	for (size_t j = 0; j < c->c->n_neighbours; j++)
		if (c->neigh_peer[j] < 0)
			c->neigh_mark[j] = ADD;
}

int txn_planner_init(struct planner *p)
{
	const struct npsgw_conf *cc = p->plan->cand.conf;
	p->dev_routes = calloc(cc->n_routes + 1, sizeof(*p->dev_routes));
	if (p->dev_routes == NULL)
		return -1;
	for (size_t i = 0; i < cc->n_routes; i++)
		if (cc->routes[i].kind == CONF_ROUTE_DEV)
			p->dev_routes[p->n_dev_routes++] = &cc->routes[i];
	if (side_init(&p->r, &p->plan->running, true) < 0 || side_init(&p->c, &p->plan->cand, false) < 0)
		return -1;
	return 0;
}

void txn_planner_free(struct planner *p)
{
	side_free(&p->r);
	side_free(&p->c);
	free(p->dev_routes);
	free(p->gateways);
	conf_index_free(&p->gateway_index);
}

void txn_mark(struct planner *p)
{
	mark_vrfs(p);
	mark_interfaces(p);
	mark_addresses(p);
	mark_routes(p);
	mark_neighbours(p);
}
