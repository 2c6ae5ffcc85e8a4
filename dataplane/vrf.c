/* SPDX-License-Identifier: BSD-3-Clause */
/* VRFs: a slot table of published pointers; each VRF owns an IPv4 and an IPv6 FIB, created on first use. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "nf/nf.h"

struct vrf *vrf_by_name(const char *name)
{
	static uint32_t last; /* route files name the same VRF line after line */
	if (last < dp.max_vrfs && dp.vrfs[last] != NULL && strcmp(dp.vrfs[last]->name, name) == 0)
		return dp.vrfs[last];
	for (uint32_t i = 0; i < dp.max_vrfs; i++) {
		if (dp.vrfs[i] != NULL && strcmp(dp.vrfs[i]->name, name) == 0) {
			last = i;
			return dp.vrfs[i];
		}
	}
	return NULL;
}

static bool vrf_id_used(uint32_t id)
{
	for (uint32_t i = 0; i < dp.max_vrfs; i++)
		if (dp.vrfs[i] != NULL && dp.vrfs[i]->id == id)
			return true;
	return false;
}

int cp_vrf_add(const char *name, uint32_t id, bool compact, uint32_t max_routes, char *err, size_t errlen)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= CONF_NAME_MAX) {
		snprintf(err, errlen, "bad VRF name (expected 1 to %d characters)", CONF_NAME_MAX - 1);
		return EINVAL;
	}
	if (vrf_by_name(name) != NULL) {
		snprintf(err, errlen, "VRF '%s' exists", name);
		return EEXIST;
	}
	if (vrf_id_used(id)) {
		snprintf(err, errlen, "VRF id %u is used by another VRF", id);
		return EEXIST;
	}
	if (max_routes < 16) {
		snprintf(err, errlen, "max_routes %u too small (expected at least 16)", max_routes);
		return EINVAL;
	}
	uint32_t slot = 0;
	while (slot < dp.max_vrfs && dp.vrfs[slot] != NULL)
		slot++;
	if (slot == dp.max_vrfs) {
		snprintf(err, errlen, "VRF table full (limits.max_vrfs = %u)", dp.max_vrfs);
		return ENOSPC;
	}
	struct vrf *v = rte_zmalloc("vrf", sizeof(*v), 0);
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	v->slot = slot;
	v->id = id;
	v->compact = compact;
	v->max_routes = max_routes;
	snprintf(v->name, sizeof(v->name), "%s", name);
	__atomic_store_n(&dp.vrfs[slot], v, __ATOMIC_RELEASE);
	nf_iface_changed(); /* rule sets name VRFs */
	return 0;
}

struct fib4 *vrf_fib4(struct vrf *v, char *err, size_t errlen)
{
	if (v->fib4 == NULL) {
		char name[32];
		snprintf(name, sizeof(name), "v4-%u", v->slot);
		/* Compact VRFs share one table keyed by (VRF, address): per-VRF FIBs would run out of memzones. */
		struct fib4 *f = v->compact ? fib4_create_compact(v->slot, SOCKET_ID_ANY, v->max_routes)
					    : fib4_create(name, SOCKET_ID_ANY, v->max_routes, false);
		if (f == NULL) {
			snprintf(err, errlen, "cannot create the IPv4 FIB of VRF '%s': %s", v->name,
				 rte_strerror(rte_errno));
			return NULL;
		}
		__atomic_store_n(&v->fib4, f, __ATOMIC_RELEASE);
	}
	return v->fib4;
}

struct fib6 *vrf_fib6(struct vrf *v, char *err, size_t errlen)
{
	if (v->fib6 == NULL) {
		char name[32];
		snprintf(name, sizeof(name), "v6-%u", v->slot);
		struct fib6 *f = fib6_create(name, SOCKET_ID_ANY, v->max_routes, v->compact);
		if (f == NULL) {
			snprintf(err, errlen, "cannot create the IPv6 FIB of VRF '%s': %s", v->name,
				 rte_strerror(rte_errno));
			return NULL;
		}
		__atomic_store_n(&v->fib6, f, __ATOMIC_RELEASE);
	}
	return v->fib6;
}

static bool vrf_is_leak_target(uint32_t slot)
{
	for (uint32_t i = 1; i < dp.max_nhs; i++)
		if (dp.nhs[i].type == NH_T_LEAK && dp.nhs[i].refs > 0 && dp.nhs[i].target_vrf == slot)
			return true;
	return false;
}

int cp_vrf_del(const char *name, char *err, size_t errlen)
{
	struct vrf *v = vrf_by_name(name);
	if (v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", name);
		return ENOENT;
	}
	if (v->n_ifaces > 0) {
		snprintf(err, errlen, "VRF '%s' still has %u interface(s): delete them first", name, v->n_ifaces);
		return EBUSY;
	}
	if ((v->fib4 && v->fib4->n_routes) || (v->fib6 && v->fib6->n_routes)) {
		snprintf(err, errlen, "VRF '%s' still has routes: delete them first", name);
		return EBUSY;
	}
	if (vrf_is_leak_target(v->slot)) {
		snprintf(err, errlen, "routes in other VRFs leak into VRF '%s': delete them first", name);
		return EBUSY;
	}
	uint32_t slot = v->slot;
	__atomic_store_n(&dp.vrfs[slot], NULL, __ATOMIC_RELEASE);
	dp_synchronize();
	if (v->fib4)
		fib4_destroy(v->fib4);
	if (v->fib6)
		fib6_destroy(v->fib6);
	rte_free(v);
	feat_clear_vrf(slot);
	nf_iface_changed();
	return 0;
}
