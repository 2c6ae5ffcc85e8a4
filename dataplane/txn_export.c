/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The running tables as a config model: VRFs, interfaces, operator routes and static neighbours as they are now,
 * plus the boot-only sections (eal, control, limits, neighbour timers, metrics, devices, workers) copied from the
 * boot model, since nothing changes them at run time. System routes (local, connected, broadcast, neighbour host
 * routes) are left out: the addresses and neighbours that own them bring them back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/txn.h"
#include "nf/nf.h"

static void *memdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q != NULL && n)
		memcpy(q, p, n);
	return q;
}

static int copy_boot(struct npsgw_conf *c, const struct npsgw_conf *boot)
{
	c->path = strdup("running");
	c->eal = boot->eal;
	c->eal.extra_args = calloc(boot->eal.n_extra_args + 1, sizeof(char *));
	c->eal.n_extra_args = 0;
	if (c->path == NULL || c->eal.extra_args == NULL)
		return -1;
	for (size_t i = 0; i < boot->eal.n_extra_args; i++) {
		if ((c->eal.extra_args[i] = strdup(boot->eal.extra_args[i])) == NULL)
			return -1;
		c->eal.n_extra_args = i + 1;
	}
	c->control = boot->control;
	c->limits = boot->limits;
	c->neigh = boot->neigh;
	c->metrics = boot->metrics;
	if ((c->devices = memdup(boot->devices, boot->n_devices * sizeof(*c->devices))) == NULL ||
	    (c->workers = calloc(boot->n_workers + 1, sizeof(*c->workers))) == NULL)
		return -1;
	c->n_devices = boot->n_devices;
	for (size_t i = 0; i < boot->n_workers; i++) {
		const struct conf_worker *w = &boot->workers[i];
		c->workers[i] = (struct conf_worker){.lcore = w->lcore, .n_rxqs = w->n_rxqs};
		c->n_workers = i + 1;
		if ((c->workers[i].rxqs = memdup(w->rxqs, w->n_rxqs * sizeof(*w->rxqs))) == NULL)
			return -1;
	}
	return 0;
}

static int export_vrfs(struct npsgw_conf *c)
{
	c->vrfs = calloc(dp.max_vrfs, sizeof(*c->vrfs));
	if (c->vrfs == NULL)
		return -1;
	for (uint32_t i = 0; i < dp.max_vrfs; i++) {
		const struct vrf *v = dp.vrfs[i];
		if (v == NULL)
			continue;
		struct conf_vrf *o = &c->vrfs[c->n_vrfs++];
		snprintf(o->name, sizeof(o->name), "%s", v->name);
		o->id = v->id;
		o->fib = v->compact ? CONF_FIB_COMPACT : CONF_FIB_FAST;
		o->max_routes = v->max_routes;
	}
	return 0;
}

static int export_interfaces(struct txn_model *m)
{
	struct npsgw_conf *c = m->conf;
	c->interfaces = calloc(dp.max_ifaces, sizeof(*c->interfaces));
	m->down = calloc(dp.max_ifaces, sizeof(*m->down));
	if (c->interfaces == NULL || m->down == NULL)
		return -1;
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL)
			continue;
		m->down[c->n_interfaces] = !ifc->up;
		struct conf_interface *o = &c->interfaces[c->n_interfaces++];
		snprintf(o->name, sizeof(o->name), "%s", ifc->name);
		snprintf(o->vrf, sizeof(o->vrf), "%s", dp.vrfs[ifc->vrf]->name);
		o->mtu = ifc->mtu;
		if ((o->addresses = memdup(ifc->addrs, ifc->n_addrs * sizeof(*o->addresses))) == NULL)
			return -1;
		o->n_addresses = ifc->n_addrs;
		if (iface_is_tunnel(ifc)) {
			snprintf(o->kind, sizeof(o->kind), "%s", nf_registry[ifc->tunnel_fn - 1]->name);
			continue;
		}
		const struct port *port = &dp.ports[ifc->port];
		snprintf(o->device, sizeof(o->device), "%s", port->name);
		o->vlan = ifc->vlan;
		/* The device's own MAC stays implicit, as in a hand-written file. */
		o->has_mac = memcmp(ifc->mac.addr_bytes, port->mac.addr_bytes, 6) != 0;
		if (o->has_mac)
			memcpy(o->mac, ifc->mac.addr_bytes, 6);
	}
	return 0;
}

struct route_export {
	struct npsgw_conf *c;
	size_t cap;
	const struct vrf *v;
	bool failed;
};

static void route_add(struct route_export *e, const struct addr_prefix *p, uint32_t nh_idx)
{
	if (e->failed || route_is_system(p, nh_idx))
		return;
	const struct nexthop *nh = &dp.nhs[nh_idx];
	struct conf_route r = {.prefix = *p};
	snprintf(r.vrf, sizeof(r.vrf), "%s", e->v->name);
	const struct iface *ifc = iface_get(nh->iface);
	switch (nh->type) {
	case NH_T_GATEWAY:
		r.kind = CONF_ROUTE_VIA;
		r.via.family = nh->family;
		memcpy(r.via.bytes, nh->addr, nh->family == 4 ? 4 : 16);
		/* The interface it resolved to, so the route comes back the same whatever the order of a boot. */
		snprintf(r.dev, sizeof(r.dev), "%s", ifc ? ifc->name : "");
		break;
	case NH_T_CONNECTED:
		r.kind = CONF_ROUTE_DEV;
		snprintf(r.dev, sizeof(r.dev), "%s", ifc ? ifc->name : "");
		break;
	case NH_T_BLACKHOLE:
		r.kind = CONF_ROUTE_BLACKHOLE;
		break;
	case NH_T_REJECT:
		r.kind = CONF_ROUTE_REJECT;
		break;
	case NH_T_LEAK:
		r.kind = CONF_ROUTE_LEAK;
		snprintf(r.target_vrf, sizeof(r.target_vrf), "%s", dp.vrfs[nh->target_vrf]->name);
		break;
	default:
		return;
	}
	struct npsgw_conf *c = e->c;
	if (c->n_routes == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		struct conf_route *grown = realloc(c->routes, cap * sizeof(*grown));
		if (grown == NULL) {
			e->failed = true;
			return;
		}
		c->routes = grown;
		e->cap = cap;
	}
	c->routes[c->n_routes++] = r;
}

static int walk4(void *cookie, uint32_t ip, uint8_t depth, uint32_t nh)
{
	struct addr_prefix p = {.len = depth};
	addr_from_v4_host(&p.addr, ip);
	route_add(cookie, &p, nh);
	return 0;
}

static int walk6(void *cookie, const uint8_t ip[16], uint8_t depth, uint32_t nh)
{
	struct addr_prefix p = {.addr = {.family = 6}, .len = depth};
	memcpy(p.addr.bytes, ip, 16);
	route_add(cookie, &p, nh);
	return 0;
}

static int export_routes(struct npsgw_conf *c)
{
	struct route_export e = {.c = c};
	for (uint32_t i = 0; i < dp.max_vrfs && !e.failed; i++) {
		e.v = dp.vrfs[i];
		if (e.v == NULL)
			continue;
		if (e.v->fib4)
			fib4_walk(e.v->fib4, walk4, &e);
		if (e.v->fib6)
			fib6_walk(e.v->fib6, walk6, &e);
	}
	return e.failed ? -1 : 0;
}

struct neigh_export {
	struct npsgw_conf *c;
	size_t cap;
	bool failed;
};

static int neigh_add(void *cookie, const struct neigh_view *n)
{
	struct neigh_export *e = cookie;
	const struct iface *ifc = dp.ifaces[n->iface];
	if (strcmp(n->state, "static") != 0 || !n->has_mac || ifc == NULL)
		return 0; /* learned neighbours are not configuration */
	struct npsgw_conf *c = e->c;
	if (c->n_neighbours == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct conf_neighbour *grown = realloc(c->neighbours, cap * sizeof(*grown));
		if (grown == NULL) {
			e->failed = true;
			return 1;
		}
		c->neighbours = grown;
		e->cap = cap;
	}
	struct conf_neighbour *o = &c->neighbours[c->n_neighbours++];
	*o = (struct conf_neighbour){.ip = n->ip};
	snprintf(o->interface, sizeof(o->interface), "%s", ifc->name);
	memcpy(o->mac, n->mac, 6);
	return 0;
}

int txn_export(struct txn_model *out, char *err, size_t errlen)
{
	*out = (struct txn_model){.conf = calloc(1, sizeof(struct npsgw_conf))};
	struct neigh_export ne = {.c = out->conf};
	if (out->conf == NULL || copy_boot(out->conf, dp.conf) < 0 || export_vrfs(out->conf) < 0 ||
	    export_interfaces(out) < 0 || export_routes(out->conf) < 0 || (neigh_walk(neigh_add, &ne), ne.failed) ||
	    nf_export_sections(out->conf) < 0) {
		txn_model_free(out);
		snprintf(err, errlen, "out of memory while reading the running configuration");
		return ENOMEM;
	}
	return 0;
}

void txn_model_free(struct txn_model *m)
{
	conf_free(m->conf);
	free(m->down);
	*m = (struct txn_model){0};
}
