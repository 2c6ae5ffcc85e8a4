/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop table: a fixed array workers index by the number the FIB returns. Entries are shared (one per
 * gateway, per neighbour, per connected interface...) through a hash on their key and reference-counted by the
 * routes and next hops that use them; an index is recycled only after a grace period.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"

static struct rte_hash *nh_hash;

static const char *const nh_type_names[NH_T_COUNT] = {
	[NH_T_NONE] = "none",	       [NH_T_LOCAL] = "local",	   [NH_T_CONNECTED] = "connected",
	[NH_T_GATEWAY] = "via",	       [NH_T_NEIGH] = "neighbour", [NH_T_BLACKHOLE] = "blackhole",
	[NH_T_REJECT] = "reject",      [NH_T_LEAK] = "vrf",	   [NH_T_BCAST] = "broadcast",
};

const char *nh_type_name(uint8_t type)
{
	return type < NH_T_COUNT ? nh_type_names[type] : "?";
}

int nh_table_init(uint32_t max_nhs, char *err, size_t errlen)
{
	dp.max_nhs = max_nhs;
	dp.nhs = rte_zmalloc("nexthops", sizeof(struct nexthop) * max_nhs, RTE_CACHE_LINE_SIZE);
	dp.nh_free = rte_malloc("nexthop-free", sizeof(uint32_t) * max_nhs, 0);
	struct rte_hash_parameters hp = {
		.name = "nexthop-keys",
		.entries = max_nhs,
		.key_len = sizeof(struct nh_key),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
	};
	nh_hash = rte_hash_create(&hp);
	if (dp.nhs == NULL || dp.nh_free == NULL || nh_hash == NULL) {
		snprintf(err, errlen, "cannot allocate %u next hops (limits.max_nexthops): out of memory", max_nhs);
		return ENOMEM;
	}
	/* Index 0 is NH_NONE; hand out low indexes first. */
	dp.n_nh_free = 0;
	for (uint32_t i = max_nhs - 1; i >= 1; i--)
		dp.nh_free[dp.n_nh_free++] = i;
	struct nh_key local = {.type = NH_T_LOCAL};
	dp.nh_local = nh_get(&local); /* permanent */
	return 0;
}

/*
 * Out of a tunnel interface there is no link layer: its connected next hop and its gateways' neighbour entries are
 * resolved for good when created (l2 valid, no neighbour state), so the rewrite node never asks for resolution.
 */
static bool key_on_tunnel(const struct nh_key *k)
{
	if (k->type != NH_T_CONNECTED && k->type != NH_T_NEIGH)
		return false;
	const struct iface *ifc = k->iface < dp.max_ifaces ? dp.ifaces[k->iface] : NULL;
	return ifc != NULL && iface_is_tunnel(ifc);
}

static void key_normalise(struct nh_key *k, const struct nh_key *in)
{
	memset(k, 0, sizeof(*k));
	k->type = in->type;
	k->family = in->family;
	k->iface = in->iface;
	k->target_vrf = in->target_vrf;
	memcpy(k->addr, in->addr, 16);
}

uint32_t nh_find(const struct nh_key *key)
{
	struct nh_key k;
	void *data;
	key_normalise(&k, key);
	if (rte_hash_lookup_data(nh_hash, &k, &data) < 0)
		return NH_NONE;
	return (uint32_t)(uintptr_t)data;
}

uint32_t nh_get(const struct nh_key *key)
{
	struct nh_key k;
	key_normalise(&k, key);
	uint32_t idx = nh_find(&k);
	if (idx != NH_NONE) {
		dp.nhs[idx].refs++;
		return idx;
	}
	if (dp.n_nh_free == 0)
		return NH_NONE;
	idx = dp.nh_free[--dp.n_nh_free];
	struct nexthop *nh = &dp.nhs[idx];
	memset(nh, 0, sizeof(*nh));
	nh->family = k.family;
	nh->iface = k.iface;
	nh->target_vrf = k.target_vrf;
	memcpy(nh->addr, k.addr, 16);
	nh->refs = 1;
	if (k.type == NH_T_GATEWAY) {
		struct nh_key nk = k;
		nk.type = NH_T_NEIGH;
		nh->neigh = nh_get(&nk);
		if (nh->neigh == NH_NONE) {
			dp.nh_free[dp.n_nh_free++] = idx;
			return NH_NONE;
		}
	}
	bool tunnel = key_on_tunnel(&k);
	if (tunnel) {
		nh->l2 = NH_L2_VALID; /* nothing to resolve: the tunnel's function takes the packet (nh_neighbour) */
		nh->tunnel_out = nh_tunnel_out_pack(dp.ifaces[k.iface]);
	} else if (k.type == NH_T_NEIGH && neigh_attach(idx) != 0) {
		dp.nh_free[dp.n_nh_free++] = idx;
		return NH_NONE;
	}
	if (rte_hash_add_key_data(nh_hash, &k, (void *)(uintptr_t)idx) < 0) {
		if (k.type == NH_T_NEIGH && !tunnel)
			neigh_detach(idx);
		if (k.type == NH_T_GATEWAY)
			nh_put(nh->neigh);
		dp.nh_free[dp.n_nh_free++] = idx;
		return NH_NONE;
	}
	/* Publish the type last: a worker that reaches this entry through a FIB sees it complete. */
	__atomic_store_n(&nh->type, k.type, __ATOMIC_RELEASE);
	return idx;
}

void nh_tunnel_out_refresh(uint16_t id, const struct iface *ifc)
{
	if (ifc != NULL && !iface_is_tunnel(ifc))
		return;
	uint64_t word = nh_tunnel_out_pack(ifc);
	for (uint32_t i = 1; i < dp.max_nhs; i++) {
		struct nexthop *nh = &dp.nhs[i];
		if (nh->refs != 0 && nh->iface == id && nh->tunnel_out != 0)
			__atomic_store_n(&nh->tunnel_out, word, __ATOMIC_RELEASE);
	}
}

void nh_ref(uint32_t idx)
{
	if (idx != NH_NONE)
		dp.nhs[idx].refs++;
}

void nh_put(uint32_t idx)
{
	if (idx == NH_NONE)
		return;
	struct nexthop *nh = &dp.nhs[idx];
	if (nh->refs == 0 || --nh->refs > 0)
		return;
	struct nh_key k = {.type = nh->type, .family = nh->family, .iface = nh->iface, .target_vrf = nh->target_vrf};
	memcpy(k.addr, nh->addr, 16);
	struct nh_key nk;
	key_normalise(&nk, &k);
	rte_hash_del_key(nh_hash, &nk);
	if (nh->type == NH_T_NEIGH && !key_on_tunnel(&nk))
		neigh_detach(idx);
	uint32_t neigh = nh->type == NH_T_GATEWAY ? nh->neigh : NH_NONE;
	/* No FIB and no next hop points here any more; wait out readers that may still hold the index. */
	dp_synchronize();
	memset(nh, 0, sizeof(*nh));
	dp.nh_free[dp.n_nh_free++] = idx;
	nh_put(neigh);
}
