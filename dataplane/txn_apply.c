/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Running a plan all or nothing: each operation is one or two cp_* calls, and each has an inverse that is also
 * cp_* calls. When an operation fails, the operations done are undone in reverse order, so the tables end as they
 * began (cp_* operations leave the tables unchanged when they fail).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/txn.h"
#include "nf/nf.h"

static const char *route_nh_fmt(const struct conf_route *r, char *buf, size_t len)
{
	char via[ADDR_STR_MAX];
	switch (r->kind) {
	case CONF_ROUTE_VIA:
		snprintf(buf, len, "via %s%s%s", addr_fmt(&r->via, via, sizeof(via)), r->dev[0] ? " dev " : "", r->dev);
		break;
	case CONF_ROUTE_DEV:
		snprintf(buf, len, "dev %s", r->dev);
		break;
	case CONF_ROUTE_BLACKHOLE:
		snprintf(buf, len, "type blackhole");
		break;
	case CONF_ROUTE_REJECT:
		snprintf(buf, len, "type reject");
		break;
	case CONF_ROUTE_LEAK:
		snprintf(buf, len, "target_vrf %s", r->target_vrf);
		break;
	}
	return buf;
}

static const char *iface_set_fmt(const struct txn_op *op, char *buf, size_t len)
{
	char mtu[24] = "";
	if (op->mtu)
		snprintf(mtu, sizeof(mtu), " mtu %u", op->mtu);
	snprintf(buf, len, "interface set name %s%s%s", ((const struct conf_interface *)op->obj)->name, mtu,
		 op->up < 0 ? "" : op->up ? " state up" : " state down");
	return buf;
}

const char *txn_op_fmt(const struct txn_op *op, char *buf, size_t len)
{
	char a[ADDR_STR_MAX], b[ADDR_STR_MAX], nh[96], old[96];
	const struct conf_vrf *v = op->obj;
	const struct conf_interface *in = op->obj;
	const struct conf_route *r = op->obj, *ro = op->old;
	const struct conf_neighbour *n = op->obj, *no = op->old;
	switch (op->kind) {
	case TXN_VRF_ADD:
		snprintf(buf, len, "vrf add name %s id %u fib %s max_routes %u", v->name, v->id,
			 v->fib == CONF_FIB_COMPACT ? "compact" : "fast", v->max_routes);
		break;
	case TXN_VRF_DEL:
		snprintf(buf, len, "vrf del name %s", v->name);
		break;
	case TXN_IFACE_ADD:
		snprintf(buf, len, "interface add name %s %s %s vrf %s vlan %u mtu %u%s%s%s", in->name,
			 in->kind[0] ? "kind" : "device", in->kind[0] ? in->kind : in->device, in->vrf, in->vlan, in->mtu,
			 in->has_mac ? " mac " : "",
			 in->has_mac ? mac_fmt(in->mac, a, sizeof(a)) : "", op->down ? " (state down)" : "");
		break;
	case TXN_IFACE_DEL:
		snprintf(buf, len, "interface del name %s", in->name);
		break;
	case TXN_IFACE_SET:
		iface_set_fmt(op, buf, len);
		break;
	case TXN_ADDR_ADD:
	case TXN_ADDR_DEL:
		snprintf(buf, len, "address %s interface %s prefix %s", op->kind == TXN_ADDR_ADD ? "add" : "del",
			 op->iface, addr_prefix_fmt(op->obj, a, sizeof(a)));
		break;
	case TXN_ROUTE_ADD:
		snprintf(buf, len, "route add vrf %s prefix %s %s", r->vrf, addr_prefix_fmt(&r->prefix, a, sizeof(a)),
			 route_nh_fmt(r, nh, sizeof(nh)));
		break;
	case TXN_ROUTE_DEL:
		snprintf(buf, len, "route del vrf %s prefix %s", r->vrf, addr_prefix_fmt(&r->prefix, a, sizeof(a)));
		break;
	case TXN_ROUTE_REPLACE:
		snprintf(buf, len, "route replace vrf %s prefix %s %s (was %s)", r->vrf,
			 addr_prefix_fmt(&r->prefix, a, sizeof(a)), route_nh_fmt(r, nh, sizeof(nh)),
			 route_nh_fmt(ro, old, sizeof(old)));
		break;
	case TXN_NEIGH_ADD:
	case TXN_NEIGH_REPLACE:
		snprintf(buf, len, "neighbour %s interface %s ip %s mac %s%s%s%s",
			 op->kind == TXN_NEIGH_ADD ? "add" : "replace", n->interface, addr_fmt(&n->ip, a, sizeof(a)),
			 mac_fmt(n->mac, b, sizeof(b)), no ? " (was " : "",
			 no ? mac_fmt(no->mac, old, sizeof(old)) : "", no ? ")" : "");
		break;
	case TXN_NEIGH_DEL:
		snprintf(buf, len, "neighbour del interface %s ip %s", n->interface, addr_fmt(&n->ip, a, sizeof(a)));
		break;
	case TXN_NF_APPLY: {
		const struct conf_ext_ops *ops = conf_ext_ops(op->ext_slot);
		snprintf(buf, len, "%s section %s", ops ? ops->key : "?",
			 op->obj == NULL ? "removed" : op->old == NULL ? "added" : "replaced");
		break;
	}
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

static int vrf_add(const struct conf_vrf *v, char *err, size_t len)
{
	return cp_vrf_add(v->name, v->id, v->fib == CONF_FIB_COMPACT, v->max_routes, err, len);
}

/* Add an interface in the given state (cp_iface_add makes it up). */
static int iface_add(const struct conf_interface *in, bool down, char *err, size_t len)
{
	int rc = cp_iface_add_conf(in, err, len);
	if (rc == 0 && down && (rc = cp_iface_set(in->name, 0, 0, err, len)) != 0) {
		char ignored[CP_ERR_MAX];
		cp_iface_del(in->name, ignored, sizeof(ignored));
	}
	return rc;
}

/* Replace route old by route r: delete, then add; when the add fails, put old back. */
static int route_replace(const struct conf_route *r, const struct conf_route *old, char *err, size_t len)
{
	int rc = cp_route_del(old->vrf, &old->prefix, err, len);
	if (rc == 0 && (rc = cp_route_add(r, err, len)) != 0) {
		char ignored[CP_ERR_MAX];
		cp_route_add(old, ignored, sizeof(ignored));
	}
	return rc;
}

/* Do op (undo: its inverse). */
static int op_run(const struct txn_op *op, bool undo, char *err, size_t len)
{
	const struct conf_vrf *v = op->obj;
	const struct conf_interface *in = op->obj;
	const struct conf_route *r = op->obj;
	const struct conf_neighbour *n = op->obj;
	switch (op->kind) {
	case TXN_VRF_ADD:
		return undo ? cp_vrf_del(v->name, err, len) : vrf_add(v, err, len);
	case TXN_VRF_DEL:
		return undo ? vrf_add(v, err, len) : cp_vrf_del(v->name, err, len);
	case TXN_IFACE_ADD:
		return undo ? cp_iface_del(in->name, err, len) : iface_add(in, op->down, err, len);
	case TXN_IFACE_DEL:
		return undo ? iface_add(in, op->old_down, err, len) : cp_iface_del(in->name, err, len);
	case TXN_IFACE_SET:
		if (undo)
			return cp_iface_set(in->name, op->mtu ? op->old_mtu : 0, op->up >= 0 ? op->old_up : -1, err,
					    len);
		return cp_iface_set(in->name, op->mtu, op->up, err, len);
	case TXN_ADDR_ADD:
		return undo ? cp_addr_del(op->iface, op->obj, err, len) : cp_addr_add(op->iface, op->obj, err, len);
	case TXN_ADDR_DEL:
		return undo ? cp_addr_add(op->iface, op->obj, err, len) : cp_addr_del(op->iface, op->obj, err, len);
	case TXN_ROUTE_ADD:
		return undo ? cp_route_del(r->vrf, &r->prefix, err, len) : cp_route_add(r, err, len);
	case TXN_ROUTE_DEL:
		return undo ? cp_route_add(r, err, len) : cp_route_del(r->vrf, &r->prefix, err, len);
	case TXN_ROUTE_REPLACE:
		return undo ? route_replace(op->old, r, err, len) : route_replace(r, op->old, err, len);
	case TXN_NEIGH_ADD:
		return undo ? cp_neigh_del(n->interface, &n->ip, err, len)
			    : cp_neigh_add_static(n->interface, &n->ip, n->mac, err, len);
	case TXN_NEIGH_DEL:
		return undo ? cp_neigh_add_static(n->interface, &n->ip, n->mac, err, len)
			    : cp_neigh_del(n->interface, &n->ip, err, len);
	case TXN_NEIGH_REPLACE: {
		const struct conf_neighbour *m = undo ? op->old : op->obj;
		return cp_neigh_add_static(m->interface, &m->ip, m->mac, err, len);
	}
	case TXN_NF_APPLY:
		return nf_apply_section(op->ext_slot, undo ? op->old : op->obj, err, len);
	}
	snprintf(err, len, "unknown operation %u", op->kind);
	return EINVAL;
}

int txn_plan_apply(const struct txn_plan *plan, char *err, size_t errlen)
{
	char why[CP_ERR_MAX], text[512];
	size_t i = 0;
	int rc = 0;
	for (; i < plan->n; i++)
		if ((rc = op_run(&plan->ops[i], false, why, sizeof(why))) != 0)
			break;
	if (rc == 0)
		return 0;
	txn_op_fmt(&plan->ops[i], text, sizeof(text));
	size_t failed = i;
	int undo_rc = 0;
	char undo_why[CP_ERR_MAX], undo_text[512] = "";
	size_t undo_at = 0;
	while (i-- > 0) {
		char e[CP_ERR_MAX];
		/* Keep undoing after a failure: the fewer leftovers the better; report the first. */
		int u = op_run(&plan->ops[i], true, e, sizeof(e));
		if (u != 0 && undo_rc == 0) {
			undo_rc = u;
			undo_at = i;
			snprintf(undo_why, sizeof(undo_why), "%s", e);
			txn_op_fmt(&plan->ops[i], undo_text, sizeof(undo_text));
		}
	}
	if (undo_rc == 0)
		snprintf(err, errlen, "nothing changed: step %zu/%zu (%s): %s", failed + 1, plan->n, text, why);
	else
		snprintf(err, errlen,
			 "step %zu/%zu (%s): %s; undo failed at step %zu (%s): %s: compare with config diff",
			 failed + 1, plan->n, text, why, undo_at + 1, undo_text, undo_why);
	return rc;
}
