/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interfaces (a port, an 802.1Q sub-interface of one, or a network function's tunnel; bound to a VRF) and their
 * addresses. An interface is
 * immutable once published: a change builds a copy, swaps the pointer and frees the old one after a grace period.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "nf/nf.h"

struct iface *iface_by_name(const char *name)
{
	for (uint32_t i = 1; i < dp.max_ifaces; i++)
		if (dp.ifaces[i] != NULL && strcmp(dp.ifaces[i]->name, name) == 0)
			return dp.ifaces[i];
	return NULL;
}

bool iface_has_addr(const struct iface *ifc, const struct addr *a)
{
	for (unsigned i = 0; i < ifc->n_addrs; i++)
		if (addr_equal(&ifc->addrs[i].addr, a))
			return true;
	if (a->family == 6 && memcmp(a->bytes, ifc->ip6_ll, 16) == 0)
		return true;
	return false;
}

/* fe80::/64 with the modified EUI-64 interface identifier (RFC 4291 appendix A). */
static void linklocal_from_mac(const struct rte_ether_addr *mac, uint8_t ll[16])
{
	const uint8_t *m = mac->addr_bytes;
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	ll[8] = m[0] ^ 0x02;
	ll[9] = m[1];
	ll[10] = m[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = m[3];
	ll[14] = m[4];
	ll[15] = m[5];
}

static void iface_set_primaries(struct iface *ifc)
{
	ifc->ip4_primary = 0;
	memcpy(ifc->ip6_primary, ifc->ip6_ll, 16);
	bool have6 = false;
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		const struct addr *a = &ifc->addrs[i].addr;
		if (a->family == 4 && ifc->ip4_primary == 0)
			memcpy(&ifc->ip4_primary, a->bytes, 4);
		if (a->family == 6 && !have6) {
			memcpy(ifc->ip6_primary, a->bytes, 16);
			have6 = true;
		}
	}
}

/* Replace the published interface by next (same id); frees the old one after a grace period. */
static void iface_publish(struct iface *next)
{
	struct iface *old = dp.ifaces[next->id];
	__atomic_store_n(&dp.ifaces[next->id], next, __ATOMIC_RELEASE);
	/* A tunnel's next hops carry a copy of what the rewrites need (a new interface has no next hops yet). */
	if (old != NULL && iface_is_tunnel(next) && nh_tunnel_out_pack(old) != nh_tunnel_out_pack(next))
		nh_tunnel_out_refresh(next->id, next);
	if (old != NULL && old != next) {
		dp_synchronize();
		rte_free(old);
	}
}

static struct iface *iface_copy(const struct iface *ifc)
{
	struct iface *c = rte_malloc("iface", sizeof(*c), 0);
	if (c != NULL)
		memcpy(c, ifc, sizeof(*c));
	return c;
}

/* A new interface with a free id (errno and err set when none or out of memory); the caller fills port and MAC. */
static struct iface *iface_alloc(const char *name, const struct vrf *v, uint16_t mtu, char *err, size_t errlen)
{
	uint32_t id = 1;
	while (id < dp.max_ifaces && dp.ifaces[id] != NULL)
		id++;
	if (id >= dp.max_ifaces) {
		snprintf(err, errlen, "interface table full (limits.max_interfaces = %u)", dp.max_ifaces);
		errno = ENOSPC;
		return NULL;
	}
	struct iface *ifc = rte_zmalloc("iface", sizeof(*ifc), 0);
	if (ifc == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ifc->id = (uint16_t)id;
	ifc->mtu = mtu;
	ifc->vrf = v->slot;
	ifc->up = true;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	return ifc;
}

static void iface_install(struct iface *ifc, struct vrf *v)
{
	linklocal_from_mac(&ifc->mac, ifc->ip6_ll);
	iface_set_primaries(ifc);
	/* Counters of a reused id start from zero (no worker writes them: the id is unreachable until published). */
	for (unsigned w = 0; w < dp.n_workers; w++)
		if (dp.workers[w].ifc_stats != NULL)
			memset(&dp.workers[w].ifc_stats[ifc->id], 0, sizeof(struct iface_counters));
	iface_publish(ifc);
	v->n_ifaces++;
}

int cp_iface_add(const char *name, const char *device, uint16_t vlan, const char *vrf, uint16_t mtu,
		 const uint8_t *mac, char *err, size_t errlen)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= CONF_NAME_MAX) {
		snprintf(err, errlen, "bad interface name (expected 1 to %d characters)", CONF_NAME_MAX - 1);
		return EINVAL;
	}
	if (iface_by_name(name) != NULL) {
		snprintf(err, errlen, "interface '%s' exists", name);
		return EEXIST;
	}
	struct port *port = port_by_name(device);
	if (port == NULL) {
		snprintf(err, errlen, "no device '%s'", device);
		return ENOENT;
	}
	if (vlan > 4094) {
		snprintf(err, errlen, "bad VLAN %u (expected 0 for untagged, or 1..4094)", vlan);
		return EINVAL;
	}
	if (port->vlan_map[vlan] != IFACE_NONE) {
		snprintf(err, errlen, "device '%s' VLAN %u already belongs to interface '%s'", device, vlan,
			 dp.ifaces[port->vlan_map[vlan]]->name);
		return EEXIST;
	}
	struct vrf *v = vrf_by_name(vrf);
	if (v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", vrf);
		return ENOENT;
	}
	if (mtu == 0)
		mtu = port->mtu;
	if (mtu < 68 || mtu > port->mtu) {
		snprintf(err, errlen, "bad MTU %u (expected 68..%u, the device MTU)", mtu, port->mtu);
		return EINVAL;
	}
	struct iface *ifc = iface_alloc(name, v, mtu, err, errlen);
	if (ifc == NULL)
		return errno;
	ifc->port = port->port_id;
	ifc->vlan = vlan;
	if (mac != NULL)
		memcpy(ifc->mac.addr_bytes, mac, 6);
	else
		ifc->mac = port->mac;
	iface_install(ifc, v);
	__atomic_store_n(&port->vlan_map[vlan], ifc->id, __ATOMIC_RELEASE);
	nf_iface_changed(); /* zones name interfaces */
	return 0;
}

int cp_iface_add_kind(const char *name, const char *kind, const char *vrf, uint16_t mtu, char *err, size_t errlen)
{
	int fn = kind != NULL ? nf_kind_index(kind) : -1;
	if (fn < 0 || fn >= DP_MAX_TUNNEL_KINDS) {
		snprintf(err, errlen, "unknown interface kind '%s' (expected ipsec)", kind ? kind : "");
		return EINVAL;
	}
	if (name == NULL || name[0] == '\0' || strlen(name) >= CONF_NAME_MAX) {
		snprintf(err, errlen, "bad interface name (expected 1 to %d characters)", CONF_NAME_MAX - 1);
		return EINVAL;
	}
	if (iface_by_name(name) != NULL) {
		snprintf(err, errlen, "interface '%s' exists", name);
		return EEXIST;
	}
	struct vrf *v = vrf_by_name(vrf);
	if (v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", vrf);
		return ENOENT;
	}
	if (mtu == 0)
		mtu = IFACE_TUNNEL_MTU_DEFAULT;
	if (mtu < 68 || mtu > IFACE_TUNNEL_MTU_MAX) {
		snprintf(err, errlen, "bad MTU %u (expected 68..%u)", mtu, IFACE_TUNNEL_MTU_MAX);
		return EINVAL;
	}
	struct iface *ifc = iface_alloc(name, v, mtu, err, errlen);
	if (ifc == NULL)
		return errno;
	ifc->port = DP_TUNNEL_PORT(fn);
	ifc->tunnel_fn = (uint8_t)(fn + 1);
	/* No link layer; a locally administered MAC from the id only gives the interface a stable link-local address. */
	uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, (uint8_t)(ifc->id >> 8), (uint8_t)ifc->id};
	memcpy(ifc->mac.addr_bytes, mac, 6);
	iface_install(ifc, v);
	nf_iface_changed();
	return 0;
}

int cp_iface_add_conf(const struct conf_interface *ci, char *err, size_t errlen)
{
	if (ci->kind[0] != '\0')
		return cp_iface_add_kind(ci->name, ci->kind, ci->vrf, ci->mtu, err, errlen);
	return cp_iface_add(ci->name, ci->device, ci->vlan, ci->vrf, ci->mtu, ci->has_mac ? ci->mac : NULL, err, errlen);
}

int cp_iface_set(const char *name, uint16_t mtu, int up, char *err, size_t errlen)
{
	struct iface *ifc = iface_by_name(name);
	if (ifc == NULL) {
		snprintf(err, errlen, "no interface '%s'", name);
		return ENOENT;
	}
	uint16_t max_mtu = iface_is_tunnel(ifc) ? IFACE_TUNNEL_MTU_MAX : dp.ports[ifc->port].mtu;
	if (mtu != 0 && (mtu < 68 || mtu > max_mtu)) {
		snprintf(err, errlen, "bad MTU %u (expected 68..%u%s)", mtu, max_mtu,
			 iface_is_tunnel(ifc) ? "" : ", the device MTU");
		return EINVAL;
	}
	for (unsigned i = 0; mtu != 0 && mtu < 1280 && i < ifc->n_addrs; i++) {
		if (ifc->addrs[i].addr.family == 6) {
			snprintf(err, errlen, "MTU %u is below the IPv6 minimum of 1280 and '%s' has IPv6 addresses", mtu,
				 name);
			return EINVAL;
		}
	}
	struct iface *c = iface_copy(ifc);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	if (mtu != 0)
		c->mtu = mtu;
	if (up >= 0)
		c->up = up != 0;
	iface_publish(c);
	return 0;
}

static void connected_prefix(const struct addr_prefix *a, struct addr_prefix *out)
{
	*out = *a;
	addr_prefix_mask(out);
}

static struct addr_prefix host_prefix(const struct addr *a)
{
	return (struct addr_prefix){.addr = *a, .len = a->family == 4 ? 32 : 128};
}

/*
 * The network and broadcast addresses of a connected IPv4 subnet (/30 and shorter) are never neighbours: they get
 * host routes that drop (counted as ip4_mcast) instead of ARP requests for them. Returns how many were installed.
 */
static void subnet_bcast_addrs(const struct addr_prefix *net, struct addr_prefix out[2])
{
	uint32_t base = addr_v4_host(&net->addr), mask = net->len ? ~0u << (32 - net->len) : 0;
	out[0] = (struct addr_prefix){.len = 32};
	out[1] = (struct addr_prefix){.len = 32};
	addr_from_v4_host(&out[0].addr, base & mask);
	addr_from_v4_host(&out[1].addr, (base & mask) | ~mask);
}

static void subnet_bcast_install(struct vrf *v, const struct addr_prefix *net)
{
	if (net->addr.family != 4 || net->len > 30)
		return;
	struct addr_prefix b[2];
	subnet_bcast_addrs(net, b);
	for (int i = 0; i < 2; i++) {
		uint32_t cur = vrf_route_get(v, &b[i]);
		if (cur != NH_NONE && dp.nhs[cur].type != NH_T_NEIGH)
			continue; /* an operator route owns it */
		struct nh_key key = {.type = NH_T_BCAST};
		uint32_t nh = nh_get(&key);
		char err[CP_ERR_MAX];
		if (nh != NH_NONE && route_install(v, &b[i], nh, err, sizeof(err)) != 0)
			nh_put(nh);
	}
}

static void subnet_bcast_remove(struct vrf *v, const struct addr_prefix *net)
{
	if (net->addr.family != 4 || net->len > 30)
		return;
	struct addr_prefix b[2];
	subnet_bcast_addrs(net, b);
	for (int i = 0; i < 2; i++)
		if (dp.nhs[vrf_route_get(v, &b[i])].type == NH_T_BCAST)
			route_remove(v, &b[i]);
}

static bool addr_in_vrf(uint32_t vrf, const struct addr *a)
{
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *o = dp.ifaces[i];
		if (o != NULL && o->vrf == vrf)
			for (unsigned j = 0; j < o->n_addrs; j++)
				if (addr_equal(&o->addrs[j].addr, a))
					return true;
	}
	return false;
}

int cp_addr_add(const char *name, const struct addr_prefix *p, char *err, size_t errlen)
{
	char pb[ADDR_STR_MAX];
	struct iface *ifc = iface_by_name(name);
	if (ifc == NULL) {
		snprintf(err, errlen, "no interface '%s'", name);
		return ENOENT;
	}
	unsigned maxlen = p->addr.family == 4 ? 32 : 128;
	if (p->addr.family == 0 || p->len == 0 || p->len > maxlen) {
		snprintf(err, errlen, "bad address (expected ADDRESS/LENGTH with a length of 1..%u)", maxlen);
		return EINVAL;
	}
	if (p->addr.family == 6 && ifc->mtu < 1280) {
		snprintf(err, errlen, "interface '%s' MTU %u is below the IPv6 minimum of 1280", name, ifc->mtu);
		return EINVAL;
	}
	if (addr_in_vrf(ifc->vrf, &p->addr)) {
		snprintf(err, errlen, "address %s is already configured in this VRF", addr_fmt(&p->addr, pb, sizeof(pb)));
		return EEXIST;
	}
	if (ifc->n_addrs == IFACE_MAX_ADDRS) {
		snprintf(err, errlen, "interface '%s' has the maximum of %d addresses", name, IFACE_MAX_ADDRS);
		return ENOSPC;
	}
	struct vrf *v = dp.vrfs[ifc->vrf];
	struct addr_prefix host = host_prefix(&p->addr);
	struct addr_prefix net;
	connected_prefix(p, &net);

	/*
	 * Check both routes before changing anything: the local host route may replace a neighbour's host route only;
	 * the connected route may be shared with another address of this interface only.
	 */
	struct nh_key ckey = {.type = NH_T_CONNECTED, .family = p->addr.family, .iface = ifc->id};
	uint32_t host_nh = vrf_route_get(v, &host), net_nh = vrf_route_get(v, &net);
	if (host_nh != NH_NONE && dp.nhs[host_nh].type != NH_T_NEIGH) {
		snprintf(err, errlen, "%s is already routed in VRF '%s' (delete that route first)",
			 addr_prefix_fmt(&host, pb, sizeof(pb)), v->name);
		return EEXIST;
	}
	bool net_shared = p->len < maxlen && net_nh != NH_NONE && net_nh == nh_find(&ckey);
	if (p->len < maxlen && net_nh != NH_NONE && !net_shared) {
		snprintf(err, errlen, "%s is already routed in VRF '%s' (another interface's subnet or a route)",
			 addr_prefix_fmt(&net, pb, sizeof(pb)), v->name);
		return EEXIST;
	}
	nh_ref(dp.nh_local);
	int rc = route_install(v, &host, dp.nh_local, err, errlen);
	if (rc) {
		nh_put(dp.nh_local);
		return rc;
	}
	if (p->len < maxlen && !net_shared) {
		struct nh_key key = ckey;
		uint32_t nh = nh_get(&key);
		if (nh == NH_NONE) {
			route_remove(v, &host);
			snprintf(err, errlen, "next-hop table full (limits.max_nexthops = %u)", dp.max_nhs);
			return ENOSPC;
		}
		rc = route_install(v, &net, nh, err, errlen);
		if (rc) {
			nh_put(nh);
			route_remove(v, &host);
			return rc;
		}
		subnet_bcast_install(v, &net);
	}
	struct iface *c = iface_copy(ifc);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	c->addrs[c->n_addrs++] = *p;
	iface_set_primaries(c);
	iface_publish(c);
	neigh_announce(c, &p->addr);
	return 0;
}

int cp_addr_del(const char *name, const struct addr_prefix *p, char *err, size_t errlen)
{
	char pb[ADDR_STR_MAX];
	struct iface *ifc = iface_by_name(name);
	if (ifc == NULL) {
		snprintf(err, errlen, "no interface '%s'", name);
		return ENOENT;
	}
	unsigned idx = 0;
	while (idx < ifc->n_addrs && !(addr_equal(&ifc->addrs[idx].addr, &p->addr) && ifc->addrs[idx].len == p->len))
		idx++;
	if (idx == ifc->n_addrs) {
		snprintf(err, errlen, "interface '%s' has no address %s", name, addr_prefix_fmt(p, pb, sizeof(pb)));
		return ENOENT;
	}
	struct vrf *v = dp.vrfs[ifc->vrf];
	struct iface *c = iface_copy(ifc);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	struct addr_prefix removed = c->addrs[idx];
	c->addrs[idx] = c->addrs[--c->n_addrs];
	iface_set_primaries(c);
	/* Keep the connected route while another address of the interface covers the same subnet. */
	struct addr_prefix net;
	connected_prefix(&removed, &net);
	bool shared = false;
	for (unsigned i = 0; i < c->n_addrs; i++) {
		struct addr_prefix o;
		connected_prefix(&c->addrs[i], &o);
		shared |= o.len == net.len && addr_equal(&o.addr, &net.addr);
	}
	iface_publish(c);
	struct addr_prefix host = host_prefix(&removed.addr);
	if (vrf_route_get(v, &host) == dp.nh_local)
		route_remove(v, &host);
	struct nh_key ckey = {.type = NH_T_CONNECTED, .family = removed.addr.family, .iface = c->id};
	if (!shared && removed.len < (removed.addr.family == 4 ? 32 : 128) && vrf_route_get(v, &net) == nh_find(&ckey)) {
		route_remove(v, &net);
		subnet_bcast_remove(v, &net);
	}
	neigh_flush_offlink(c->id); /* neighbours of the removed subnet are no longer on the link */
	return 0;
}

/* Is any operator route still sending traffic through this interface? */
static bool iface_in_use(const struct iface *ifc)
{
	unsigned connected_owned = 0;
	for (unsigned i = 0; i < ifc->n_addrs; i++)
		connected_owned += ifc->addrs[i].len < (ifc->addrs[i].addr.family == 4 ? 32 : 128);
	unsigned connected_refs = 0;
	for (uint32_t i = 1; i < dp.max_nhs; i++) {
		const struct nexthop *nh = &dp.nhs[i];
		if (nh->refs == 0 || nh->iface != ifc->id)
			continue;
		if (nh->type == NH_T_GATEWAY)
			return true;
		if (nh->type == NH_T_CONNECTED)
			connected_refs += nh->refs;
	}
	return connected_refs > connected_owned;
}

int cp_iface_del(const char *name, char *err, size_t errlen)
{
	struct iface *ifc = iface_by_name(name);
	if (ifc == NULL) {
		snprintf(err, errlen, "no interface '%s'", name);
		return ENOENT;
	}
	if (iface_in_use(ifc)) {
		snprintf(err, errlen, "routes still point through interface '%s': delete them first", name);
		return EBUSY;
	}
	while (ifc->n_addrs > 0) {
		struct addr_prefix p = ifc->addrs[0];
		int rc = cp_addr_del(name, &p, err, errlen);
		if (rc)
			return rc;
		ifc = iface_by_name(name);
	}
	neigh_flush_iface(ifc->id);
	if (!iface_is_tunnel(ifc))
		__atomic_store_n(&dp.ports[ifc->port].vlan_map[ifc->vlan], IFACE_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.ifaces[ifc->id], NULL, __ATOMIC_RELEASE);
	if (iface_is_tunnel(ifc))
		nh_tunnel_out_refresh(ifc->id, NULL);
	dp_synchronize();
	dp.vrfs[ifc->vrf]->n_ifaces--;
	rte_free(ifc);
	nf_iface_changed();
	return 0;
}
