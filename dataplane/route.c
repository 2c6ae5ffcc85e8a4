/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes: what the FIBs hold. A route is a prefix and a next-hop index; the next hop carries the rest. System
 * routes (an address's local /32 or /128 and its connected subnet, a neighbour's host route) are owned by the
 * address or neighbour; operators manage their own with cp_route_add/cp_route_del.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"

uint32_t vrf_route_get(const struct vrf *v, const struct addr_prefix *p)
{
	uint32_t nh = NH_NONE;
	if (p->addr.family == 4) {
		if (v->fib4 == NULL || fib4_get(v->fib4, addr_v4_host(&p->addr), p->len, &nh) != 0)
			return NH_NONE;
	} else {
		if (v->fib6 == NULL || fib6_get(v->fib6, p->addr.bytes, p->len, &nh) != 0)
			return NH_NONE;
	}
	return nh;
}

/* Takes over the caller's reference on nh; drops the replaced route's. */
int route_install(struct vrf *v, const struct addr_prefix *p, uint32_t nh, char *err, size_t errlen)
{
	uint32_t old = vrf_route_get(v, p);
	int rc;
	if (p->addr.family == 4) {
		struct fib4 *f = vrf_fib4(v, err, errlen);
		if (f == NULL)
			return ENOMEM;
		rc = fib4_add(f, addr_v4_host(&p->addr), p->len, nh, dp.qs);
	} else {
		struct fib6 *f = vrf_fib6(v, err, errlen);
		if (f == NULL)
			return ENOMEM;
		rc = fib6_add(f, p->addr.bytes, p->len, nh, dp.qs);
	}
	if (rc < 0) {
		char pb[ADDR_STR_MAX];
		snprintf(err, errlen, "cannot add %s to VRF '%s': %s%s", addr_prefix_fmt(p, pb, sizeof(pb)), v->name,
			 strerror(-rc), rc == -ENOSPC ? " (raise the VRF's max_routes)" : "");
		return -rc;
	}
	if (old != NH_NONE && old != nh && dp.nhs[old].type == NH_T_NEIGH)
		neigh_host_route_lost(old);
	if (old != NH_NONE)
		nh_put(old);
	return 0;
}

int route_remove(struct vrf *v, const struct addr_prefix *p)
{
	uint32_t nh = vrf_route_get(v, p);
	if (nh == NH_NONE)
		return ENOENT;
	int rc = p->addr.family == 4 ? fib4_del(v->fib4, addr_v4_host(&p->addr), p->len, dp.qs)
				     : fib6_del(v->fib6, p->addr.bytes, p->len, dp.qs);
	if (rc < 0)
		return -rc;
	nh_put(nh);
	return 0;
}

bool route_is_system(const struct addr_prefix *p, uint32_t nh)
{
	uint8_t t = dp.nhs[nh].type;
	if (t == NH_T_LOCAL || t == NH_T_NEIGH || t == NH_T_BCAST)
		return true;
	if (t != NH_T_CONNECTED)
		return false;
	const struct iface *ifc = iface_get(dp.nhs[nh].iface);
	for (unsigned i = 0; ifc != NULL && i < ifc->n_addrs; i++) {
		struct addr_prefix c = ifc->addrs[i];
		addr_prefix_mask(&c);
		if (c.len == p->len && addr_equal(&c.addr, &p->addr))
			return true;
	}
	return false;
}

static int resolve_gateway_iface(struct vrf *v, const struct conf_route *r, uint16_t *iface, char *err,
				 size_t errlen)
{
	char gb[ADDR_STR_MAX];
	if (r->dev[0] != '\0') {
		struct iface *ifc = iface_by_name(r->dev);
		if (ifc == NULL || ifc->vrf != v->slot) {
			snprintf(err, errlen, "no interface '%s' in VRF '%s'", r->dev, v->name);
			return ENOENT;
		}
		*iface = ifc->id;
		return 0;
	}
	uint32_t nh = NH_NONE;
	if (r->via.family == 4 && v->fib4)
		nh = fib4_lookup_one(v->fib4, addr_v4_host(&r->via));
	else if (r->via.family == 6 && v->fib6)
		nh = fib6_lookup_one(v->fib6, r->via.bytes);
	uint8_t t = dp.nhs[nh].type;
	if (nh == NH_NONE || (t != NH_T_CONNECTED && t != NH_T_NEIGH)) {
		snprintf(err, errlen, "gateway %s is not on a connected subnet of VRF '%s' (add an address, or give dev)",
			 addr_fmt(&r->via, gb, sizeof(gb)), v->name);
		return EINVAL;
	}
	*iface = dp.nhs[nh].iface;
	return 0;
}

int cp_route_add(const struct conf_route *r, char *err, size_t errlen)
{
	char pb[ADDR_STR_MAX];
	struct vrf *v = vrf_by_name(r->vrf);
	if (v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", r->vrf);
		return ENOENT;
	}
	struct addr_prefix p = r->prefix;
	addr_prefix_mask(&p);
	if (!addr_equal(&p.addr, &r->prefix.addr)) {
		snprintf(err, errlen, "host bits set in %s (expected a network prefix)",
			 addr_prefix_fmt(&r->prefix, pb, sizeof(pb)));
		return EINVAL;
	}
	uint32_t old = vrf_route_get(v, &p);
	if (old != NH_NONE && dp.nhs[old].type != NH_T_NEIGH) {
		snprintf(err, errlen, "route %s exists in VRF '%s' (delete it first)", addr_prefix_fmt(&p, pb, sizeof(pb)),
			 v->name);
		return EEXIST;
	}
	struct nh_key key = {.family = p.addr.family};
	switch (r->kind) {
	case CONF_ROUTE_VIA: {
		if (r->via.family != p.addr.family) {
			snprintf(err, errlen, "gateway family differs from the prefix family");
			return EINVAL;
		}
		key.type = NH_T_GATEWAY;
		memcpy(key.addr, r->via.bytes, 16);
		int rc = resolve_gateway_iface(v, r, &key.iface, err, errlen);
		if (rc)
			return rc;
		break;
	}
	case CONF_ROUTE_DEV: {
		struct iface *ifc = iface_by_name(r->dev);
		if (ifc == NULL || ifc->vrf != v->slot) {
			snprintf(err, errlen, "no interface '%s' in VRF '%s'", r->dev, v->name);
			return ENOENT;
		}
		key.type = NH_T_CONNECTED;
		key.iface = ifc->id;
		break;
	}
	case CONF_ROUTE_BLACKHOLE:
		key = (struct nh_key){.type = NH_T_BLACKHOLE};
		break;
	case CONF_ROUTE_REJECT:
		key = (struct nh_key){.type = NH_T_REJECT};
		break;
	case CONF_ROUTE_LEAK: {
		struct vrf *t = vrf_by_name(r->target_vrf);
		if (t == NULL || t == v) {
			snprintf(err, errlen, "bad target VRF '%s' (expected another existing VRF)", r->target_vrf);
			return t == NULL ? ENOENT : EINVAL;
		}
		key = (struct nh_key){.type = NH_T_LEAK, .target_vrf = t->slot};
		break;
	}
	default:
		snprintf(err, errlen, "unknown route kind");
		return EINVAL;
	}
	uint32_t nh = nh_get(&key);
	if (nh == NH_NONE) {
		snprintf(err, errlen, "next-hop table full (limits.max_nexthops = %u)", dp.max_nhs);
		return ENOSPC;
	}
	int rc = route_install(v, &p, nh, err, errlen);
	if (rc)
		nh_put(nh);
	return rc;
}

int cp_route_del(const char *vrf, const struct addr_prefix *prefix, char *err, size_t errlen)
{
	char pb[ADDR_STR_MAX];
	struct vrf *v = vrf_by_name(vrf);
	if (v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", vrf);
		return ENOENT;
	}
	struct addr_prefix p = *prefix;
	addr_prefix_mask(&p);
	uint32_t nh = vrf_route_get(v, &p);
	if (nh == NH_NONE) {
		snprintf(err, errlen, "no route %s in VRF '%s'", addr_prefix_fmt(&p, pb, sizeof(pb)), vrf);
		return ENOENT;
	}
	if (route_is_system(&p, nh)) {
		snprintf(err, errlen, "route %s belongs to an interface address or a neighbour: remove that instead",
			 addr_prefix_fmt(&p, pb, sizeof(pb)));
		return EPERM;
	}
	return route_remove(v, &p);
}

/* Longest match by exact probes from the longest length down: control path only (trace, path check). */
int route_lookup_prefix(uint32_t vrf, const struct addr *dst, struct addr_prefix *out)
{
	const struct vrf *v = vrf < dp.max_vrfs ? dp.vrfs[vrf] : NULL;
	if (v == NULL)
		return -ENOENT;
	for (int len = dst->family == 4 ? 32 : 128; len >= 0; len--) {
		struct addr_prefix p = {.addr = *dst, .len = (uint8_t)len};
		addr_prefix_mask(&p);
		if (vrf_route_get(v, &p) != NH_NONE) {
			*out = p;
			return 0;
		}
	}
	return -ENOENT;
}
