/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The operations that turn the running model into a candidate, in an order where each one can succeed:
 *
 *   1. early deletions: objects the candidate re-creates (a VRF whose id, FIB kind or max_routes changes; an
 *      interface whose device, VLAN, VRF or MAC changes) and whatever stands in the way of an addition (an address
 *      moving to another interface, a route where an address's subnet comes), with everything that depends on
 *      them: neighbours, routes, addresses, interfaces, VRFs;
 *   2. additions: VRFs, interfaces, interface MTU increases and state, addresses, routes (interface routes first:
 *      gateways may resolve through them), route replacements, neighbours;
 *   3. deletions: neighbours, routes, addresses, MTU decreases, interfaces, VRFs.
 *
 * Additions come before deletions, so traffic to prefixes the candidate keeps never loses its route. A changed
 * route is replaced (del + add of the same prefix, back to back). Objects equal in both models get no operation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "dataplane/txn_plan_int.h"
#include "lib/conf/conf_ext.h"

/* ---- the operations, in order */

static struct txn_op *emit(struct planner *p, uint8_t kind, const void *obj)
{
	struct txn_plan *plan = p->plan;
	if (plan->n == plan->cap) {
		size_t cap = plan->cap ? plan->cap * 2 : 64;
		struct txn_op *grown = realloc(plan->ops, cap * sizeof(*grown));
		if (grown == NULL) {
			p->oom = true;
			return NULL;
		}
		plan->ops = grown;
		plan->cap = cap;
	}
	struct txn_op *op = &plan->ops[plan->n++];
	*op = (struct txn_op){.kind = kind, .obj = obj, .up = -1, .old_up = -1};
	return op;
}

/* Deletions of the running objects marked `mark`, dependants first. */
static void emit_deletions(struct planner *p, uint8_t mark)
{
	const struct side *r = &p->r;
	const struct npsgw_conf *rc = r->c;
	for (size_t i = 0; i < rc->n_neighbours; i++)
		if (r->neigh_mark[i] == mark)
			emit(p, TXN_NEIGH_DEL, &rc->neighbours[i]);
	for (size_t i = 0; i < rc->n_routes; i++)
		if (r->route_mark[i] == mark)
			emit(p, TXN_ROUTE_DEL, &rc->routes[i]);
	for (size_t i = 0; i < rc->n_interfaces; i++) {
		const struct conf_interface *in = &rc->interfaces[i];
		for (size_t k = 0; k < in->n_addresses; k++) {
			struct txn_op *op;
			if (r->addr_mark[r->addr_base[i] + k] != mark)
				continue;
			if ((op = emit(p, TXN_ADDR_DEL, &in->addresses[k])))
				op->iface = in->name;
		}
	}
	for (size_t i = 0; mark == DEL && i < rc->n_interfaces; i++) {
		/* MTU decreases after the address deletions: an IPv6 address may need the old MTU until then. */
		long j = r->if_peer[i];
		const struct conf_interface *b = j >= 0 ? &p->c.c->interfaces[j] : NULL;
		struct txn_op *op;
		if (r->if_mark[i] == KEEP && b->mtu < rc->interfaces[i].mtu && (op = emit(p, TXN_IFACE_SET, b))) {
			op->mtu = b->mtu;
			op->old_mtu = rc->interfaces[i].mtu;
		}
	}
	for (size_t i = 0; i < rc->n_interfaces; i++) {
		struct txn_op *op;
		if (r->if_mark[i] == mark && (op = emit(p, TXN_IFACE_DEL, &rc->interfaces[i])))
			op->old_down = r->down != NULL && r->down[i];
	}
	for (size_t i = 0; i < rc->n_vrfs; i++)
		if (r->vrf_mark[i] == mark)
			emit(p, TXN_VRF_DEL, &rc->vrfs[i]);
}

static void emit_interface_changes(struct planner *p)
{
	const struct side *r = &p->r, *c = &p->c;
	const struct npsgw_conf *cc = c->c;
	for (size_t j = 0; j < cc->n_interfaces; j++) {
		long i = c->if_peer[j];
		bool r_down = i >= 0 && r->down != NULL && r->down[i];
		bool c_down = c->down != NULL ? c->down[j] : r_down; /* a file does not say: keep the running state */
		struct txn_op *op;
		if (c->if_mark[j] == ADD) {
			if ((op = emit(p, TXN_IFACE_ADD, &cc->interfaces[j])))
				op->down = c_down;
			continue;
		}
		const struct conf_interface *a = &r->c->interfaces[i], *b = &cc->interfaces[j];
		bool mtu_up = b->mtu > a->mtu;
		if (!mtu_up && c_down == r_down)
			continue;
		if ((op = emit(p, TXN_IFACE_SET, b)) == NULL)
			return;
		if (mtu_up) {
			op->mtu = b->mtu;
			op->old_mtu = a->mtu;
		}
		if (c_down != r_down) {
			op->up = !c_down;
			op->old_up = !r_down;
		}
	}
}

static void emit_additions(struct planner *p)
{
	const struct side *c = &p->c;
	const struct npsgw_conf *cc = c->c;
	for (size_t j = 0; j < cc->n_vrfs; j++)
		if (c->vrf_mark[j] == ADD)
			emit(p, TXN_VRF_ADD, &cc->vrfs[j]);
	emit_interface_changes(p);
	for (size_t j = 0; j < cc->n_interfaces; j++) {
		const struct conf_interface *in = &cc->interfaces[j];
		for (size_t k = 0; k < in->n_addresses; k++) {
			struct txn_op *op;
			if (c->addr_mark[c->addr_base[j] + k] == ADD && (op = emit(p, TXN_ADDR_ADD, &in->addresses[k])))
				op->iface = in->name;
		}
	}
	/* Interface routes first: a gateway may resolve through one. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < cc->n_routes; j++) {
			const struct conf_route *rt = &cc->routes[j];
			if ((rt->kind == CONF_ROUTE_DEV) != (pass == 0) || c->route_mark[j] == SAME)
				continue;
			struct txn_op *op = emit(p, c->route_mark[j] == ADD ? TXN_ROUTE_ADD : TXN_ROUTE_REPLACE, rt);
			if (op != NULL && op->kind == TXN_ROUTE_REPLACE)
				op->old = &p->r.c->routes[c->route_peer[j]];
		}
	}
	for (size_t j = 0; j < cc->n_neighbours; j++) {
		if (c->neigh_mark[j] == SAME)
			continue;
		uint8_t kind = c->neigh_mark[j] == ADD ? TXN_NEIGH_ADD : TXN_NEIGH_REPLACE;
		struct txn_op *op = emit(p, kind, &cc->neighbours[j]);
		if (op != NULL && op->kind == TXN_NEIGH_REPLACE)
			op->old = &p->r.c->neighbours[c->neigh_peer[j]];
	}
}

/* Network functions' sections are applied whole, after the objects they may name exist and before deletions. */
static void emit_nf_changes(struct planner *p)
{
	for (size_t i = 0; i < conf_ext_count(); i++) {
		const struct conf_ext_ops *ops = conf_ext_ops((int)i);
		const void *run = p->r.c->ext[i], *cand = p->c.c->ext[i];
		if ((run == NULL) == (cand == NULL) && (run == NULL || ops->equal(run, cand)))
			continue;
		struct txn_op *op = emit(p, TXN_NF_APPLY, cand);
		if (op != NULL) {
			op->old = run;
			op->ext_slot = (int)i;
		}
	}
}

int txn_plan_build(struct txn_plan *plan, char *err, size_t errlen)
{
	struct planner p = {.plan = plan};
	plan->n = 0;
	if (txn_planner_init(&p) == 0) {
		txn_mark(&p);
		emit_deletions(&p, EARLY);
		emit_additions(&p);
		emit_nf_changes(&p);
		emit_deletions(&p, DEL);
	} else {
		p.oom = true;
	}
	txn_planner_free(&p);
	if (p.oom) {
		snprintf(err, errlen, "out of memory while planning the change");
		return ENOMEM;
	}
	return 0;
}

void txn_plan_free(struct txn_plan *plan)
{
	txn_model_free(&plan->running);
	txn_model_free(&plan->cand);
	free(plan->ops);
	*plan = (struct txn_plan){0};
}
