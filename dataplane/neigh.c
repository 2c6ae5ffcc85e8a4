/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbours (ARP and IPv6 ND) on the control thread. Each neighbour is an NH_T_NEIGH next hop (what workers
 * read: MAC + valid bit in one 64-bit word) plus the state kept here: the RFC 4861 state machine
 * (lib/neigh/neigh_fsm.c), a bounded hold queue of packets waiting for resolution, and the host route that lets
 * workers reach it in one FIB lookup.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "dataplane/events.h"
#include "dataplane/neigh_int.h"

struct neigh_fsm_params neigh_params;
static struct neigh **neigh_by_nh; /* max_nhs entries */
static uint32_t n_neighbours;
/* Packets held across all neighbours: bounded so a scan of a subnet cannot pin the mbuf pool. */
static uint32_t held_total, held_max;

uint64_t cp_now_ms(void)
{
	return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
}

int neigh_table_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	neigh_params = (struct neigh_fsm_params){
		.reachable_ms = conf->neigh.reachable_ms,
		.retrans_ms = conf->neigh.retrans_ms,
		.delay_ms = conf->neigh.delay_ms,
		.stale_ms = conf->neigh.stale_ms,
		.max_mcast_probes = conf->neigh.max_mcast_probes,
		.max_ucast_probes = conf->neigh.max_ucast_probes,
	};
	held_max = conf->limits.mbufs / 4;
	neigh_by_nh = rte_zmalloc("neighbours", sizeof(*neigh_by_nh) * dp.max_nhs, 0);
	if (neigh_by_nh == NULL) {
		snprintf(err, errlen, "out of memory for the neighbour table");
		return ENOMEM;
	}
	return 0;
}

struct neigh *neigh_of(uint32_t nh)
{
	return nh < dp.max_nhs ? neigh_by_nh[nh] : NULL;
}

int neigh_attach(uint32_t nh_idx)
{
	if (n_neighbours >= dp.conf->neigh.max_neighbours) {
		CTL_COUNT(neigh_table_full);
		return ENOSPC;
	}
	struct neigh *n = rte_zmalloc("neigh", sizeof(*n), 0);
	struct rte_mbuf **hold = rte_zmalloc("neigh-hold", sizeof(*hold) * (dp.conf->neigh.hold_packets + 1), 0);
	if (n == NULL || hold == NULL) {
		rte_free(n);
		rte_free(hold);
		return ENOMEM;
	}
	n->nh = nh_idx;
	n->hold = hold;
	n->created_ms = cp_now_ms();
	n->fsm.state = NEIGH_FAILED;
	n->ev_state = NEIGH_FAILED;
	neigh_by_nh[nh_idx] = n;
	n_neighbours++;
	return 0;
}

static void hold_drop(struct neigh *n, enum npsgw_drop reason)
{
	for (uint32_t i = 0; i < n->n_hold; i++) {
		rte_pktmbuf_free(n->hold[i]);
		dp.ctl_drops[reason]++;
		CTL_COUNT(neigh_hold_dropped);
	}
	held_total -= n->n_hold;
	n->n_hold = 0;
}

void neigh_detach(uint32_t nh_idx)
{
	struct neigh *n = neigh_by_nh[nh_idx];
	if (n == NULL)
		return;
	hold_drop(n, DROP_neigh_unresolved);
	neigh_by_nh[nh_idx] = NULL;
	n_neighbours--;
	rte_free(n->hold);
	rte_free(n);
}

static struct addr neigh_addr(const struct neigh *n)
{
	const struct nexthop *nh = &dp.nhs[n->nh];
	struct addr a = {.family = nh->family};
	memcpy(a.bytes, nh->addr, 16);
	return a;
}

/* Is ip on a connected subnet of the interface (and not one of its own addresses)? */
static void neigh_report(struct neigh *n, const char *state)
{
	const struct iface *ifc = iface_get(dp.nhs[n->nh].iface);
	struct addr a = neigh_addr(n);
	if (ifc != NULL)
		event_neighbour(ifc->name, &a, state, n->fsm.has_mac ? n->fsm.mac : NULL);
}

static bool on_link(const struct iface *ifc, const struct addr *ip)
{
	if (ip->family == 6 && ip->bytes[0] == 0xfe && (ip->bytes[1] & 0xc0) == 0x80)
		return !iface_has_addr(ifc, ip);
	for (unsigned i = 0; i < ifc->n_addrs; i++)
		if (addr_prefix_contains(&ifc->addrs[i], ip))
			return !iface_has_addr(ifc, ip);
	return false;
}

static void host_route_add(struct neigh *n)
{
	const struct nexthop *nh = &dp.nhs[n->nh];
	const struct iface *ifc = iface_get(nh->iface);
	struct addr a = neigh_addr(n);
	if (n->host_route || ifc == NULL || (a.family == 6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80))
		return; /* link-local neighbours are reached through their gateway routes only */
	struct vrf *v = dp.vrfs[ifc->vrf];
	struct addr_prefix host = {.addr = a, .len = a.family == 4 ? 32 : 128};
	uint32_t cur = a.family == 4 ? (v->fib4 ? fib4_lookup_one(v->fib4, addr_v4_host(&a)) : NH_NONE)
				     : (v->fib6 ? fib6_lookup_one(v->fib6, a.bytes) : NH_NONE);
	uint32_t exact = NH_NONE;
	if (a.family == 4 && v->fib4)
		fib4_get(v->fib4, addr_v4_host(&a), 32, &exact);
	else if (a.family == 6 && v->fib6)
		fib6_get(v->fib6, a.bytes, 128, &exact);
	if (exact != NH_NONE || dp.nhs[cur].type != NH_T_CONNECTED)
		return; /* an operator route or a local address owns this host; do not shadow it */
	char err[CP_ERR_MAX];
	nh_ref(n->nh);
	if (route_install(v, &host, n->nh, err, sizeof(err)) != 0) {
		nh_put(n->nh);
		return;
	}
	n->host_route = true;
}

struct neigh *neigh_lookup(uint16_t iface, const struct addr *ip, bool create)
{
	struct nh_key key = {.type = NH_T_NEIGH, .family = ip->family, .iface = iface};
	memcpy(key.addr, ip->bytes, 16);
	uint32_t idx = nh_find(&key);
	if (idx != NH_NONE)
		return neigh_of(idx);
	if (!create)
		return NULL;
	const struct iface *ifc = iface_get(iface);
	if (ifc == NULL || !on_link(ifc, ip))
		return NULL;
	idx = nh_get(&key);
	if (idx == NH_NONE)
		return NULL;
	struct neigh *n = neigh_of(idx);
	n->self_ref = true; /* dropped by neigh_delete */
	return n;
}

void neigh_activate(struct neigh *n)
{
	n->active = true;
	host_route_add(n);
}

void neigh_host_route_lost(uint32_t nh)
{
	struct neigh *n = neigh_of(nh);
	if (n != NULL)
		n->host_route = false;
}

static void publish_l2(struct neigh *n)
{
	uint64_t l2 = 0;
	if (neigh_fsm_usable(&n->fsm)) {
		struct rte_ether_addr mac;
		memcpy(mac.addr_bytes, n->fsm.mac, 6);
		l2 = nh_l2_pack(&mac);
	}
	__atomic_store_n(&dp.nhs[n->nh].l2, l2, __ATOMIC_RELEASE);
}

static void send_probe(struct neigh *n, bool unicast)
{
	const struct nexthop *nh = &dp.nhs[n->nh];
	const struct iface *ifc = iface_get(nh->iface);
	if (ifc == NULL)
		return;
	struct addr a = neigh_addr(n);
	const uint8_t *dst = unicast && n->fsm.has_mac ? n->fsm.mac : NULL;
	if (a.family == 4)
		arp_send_request(ifc, &a, dst);
	else
		ndp_send_ns(ifc, &a, dst);
}

/* Transmit held packets now that the MAC is known (the worker already checked TTL; we rewrite here). */
static void hold_flush(struct neigh *n)
{
	const struct nexthop *nh = &dp.nhs[n->nh];
	const struct iface *ifc = iface_get(nh->iface);
	uint64_t l2 = dp.nhs[n->nh].l2;
	for (uint32_t i = 0; i < n->n_hold; i++) {
		struct rte_mbuf *m = n->hold[i];
		if (ifc == NULL || !(l2 & NH_L2_VALID) || rte_pktmbuf_pkt_len(m) > ifc->mtu) {
			rte_pktmbuf_free(m);
			dp.ctl_drops[DROP_neigh_unresolved]++;
			continue;
		}
		uint16_t type;
		bool forwarded = !(pkt_meta(m)->flags & PKT_F_LOCAL_ORIGIN);
		if (nh->family == 4) {
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
			if (forwarded) {
				ip->time_to_live--;
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
			}
			type = RTE_ETHER_TYPE_IPV4;
		} else {
			struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
			if (forwarded)
				ip->hop_limits--;
			type = RTE_ETHER_TYPE_IPV6;
		}
		uint16_t len = sizeof(struct rte_ether_hdr) + (ifc->vlan ? sizeof(struct rte_vlan_hdr) : 0);
		struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, len);
		if (eh == NULL) {
			rte_pktmbuf_free(m);
			dp.ctl_drops[DROP_neigh_unresolved]++;
			continue;
		}
		nh_l2_unpack(l2, &eh->dst_addr);
		eh->src_addr = ifc->mac;
		if (ifc->vlan) {
			struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);
			eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
			vh->vlan_tci = rte_cpu_to_be_16(ifc->vlan);
			vh->eth_proto = rte_cpu_to_be_16(type);
		} else {
			eh->ether_type = rte_cpu_to_be_16(type);
		}
		CTL_COUNT(neigh_hold_flushed);
		ctl_tx(ifc->port, m);
	}
	held_total -= n->n_hold;
	n->n_hold = 0;
}

/*
 * Deactivate: drop held packets, hide the MAC, remove the host route and the entry's own reference (which may
 * free n; a gateway route may still hold the entry, idle).
 */
static void neigh_delete(struct neigh *n)
{
	uint32_t idx = n->nh;
	if (n->active)
		neigh_report(n, "deleted");
	n->ev_state = NEIGH_FAILED;
	hold_drop(n, DROP_neigh_unresolved);
	n->active = false;
	n->is_static = false;
	n->fsm = (struct neigh_fsm){.state = NEIGH_FAILED};
	publish_l2(n);
	bool self_ref = n->self_ref, host_route = n->host_route;
	n->self_ref = false;
	n->host_route = false;
	const struct iface *ifc = iface_get(dp.nhs[idx].iface);
	if (host_route && ifc != NULL) {
		struct addr a = neigh_addr(n);
		struct addr_prefix host = {.addr = a, .len = a.family == 4 ? 32 : 128};
		struct vrf *v = dp.vrfs[ifc->vrf];
		uint32_t exact = NH_NONE;
		if (a.family == 4 && v->fib4)
			fib4_get(v->fib4, addr_v4_host(&a), 32, &exact);
		else if (a.family == 6 && v->fib6)
			fib6_get(v->fib6, a.bytes, 128, &exact);
		if (exact == idx)
			route_remove(v, &host); /* the entry keeps its own reference here, if it has one */
	}
	if (self_ref)
		nh_put(idx); /* may free n */
}

void neigh_apply(struct neigh *n, uint32_t act)
{
	if (act & (NEIGH_ACT_MAC_CHANGED | NEIGH_ACT_FLUSH_HOLD) || neigh_fsm_usable(&n->fsm) !=
								       !!(dp.nhs[n->nh].l2 & NH_L2_VALID))
		publish_l2(n);
	if (act & NEIGH_ACT_MCAST_PROBE)
		send_probe(n, false);
	if (act & NEIGH_ACT_UCAST_PROBE)
		send_probe(n, true);
	if (act & NEIGH_ACT_FLUSH_HOLD) {
		CTL_COUNT(neigh_resolved);
		hold_flush(n);
	}
	if (act & NEIGH_ACT_DROP_HOLD) {
		CTL_COUNT(neigh_failed);
		hold_drop(n, DROP_neigh_unresolved);
	}
	if (!(act & NEIGH_ACT_DELETE) && (n->fsm.state != n->ev_state || (act & NEIGH_ACT_MAC_CHANGED))) {
		n->ev_state = (uint8_t)n->fsm.state;
		neigh_report(n, neigh_state_name(n->fsm.state));
	}
	if (act & NEIGH_ACT_DELETE)
		neigh_delete(n);
}

/* Longest-prefix match on the control thread, following one leak like the workers do. */
static uint32_t lookup_dst(uint32_t vrf_slot, const struct addr *dst)
{
	for (int hops = 0; hops < 2; hops++) {
		const struct vrf *v = vrf_slot < dp.max_vrfs ? dp.vrfs[vrf_slot] : NULL;
		if (v == NULL)
			return NH_NONE;
		uint32_t nh = NH_NONE;
		if (dst->family == 4 && v->fib4)
			nh = fib4_lookup_one(v->fib4, addr_v4_host(dst));
		else if (dst->family == 6 && v->fib6)
			nh = fib6_lookup_one(v->fib6, dst->bytes);
		if (dp.nhs[nh].type != NH_T_LEAK)
			return nh;
		vrf_slot = dp.nhs[nh].target_vrf;
	}
	return NH_NONE;
}

/*
 * A packet is waiting for a neighbour: hold it and start resolution if nobody has. The worker's next-hop index is
 * not trusted (it may have been recycled while the packet sat in the ring): the destination is looked up again.
 */
static void resolve_punt(struct rte_mbuf *m, uint8_t family)
{
	struct pkt_meta *pm = pkt_meta(m);
	struct addr dst = {.family = family};
	if (family == 4)
		memcpy(dst.bytes, &rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)->dst_addr, 4);
	else
		memcpy(dst.bytes, rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *)->dst_addr, 16);
	bool linklocal = family == 6 && dst.bytes[0] == 0xfe && (dst.bytes[1] & 0xc0) == 0x80;
	uint32_t idx = linklocal ? NH_NONE : lookup_dst(pm->vrf, &dst);
	const struct nexthop *nh = &dp.nhs[idx];
	struct neigh *n = NULL;
	if (linklocal)
		n = neigh_lookup(pm->in_iface, &dst, true); /* replies to link-local senders leave where they came in */
	else if (nh->type == NH_T_NEIGH)
		n = neigh_of(idx);
	else if (nh->type == NH_T_GATEWAY)
		n = neigh_of(nh->neigh);
	else if (nh->type == NH_T_CONNECTED)
		n = neigh_lookup(nh->iface, &dst, true);
	if (n == NULL) {
		rte_pktmbuf_free(m);
		dp.ctl_drops[DROP_neigh_unresolved]++;
		return;
	}
	if (n->n_hold >= dp.conf->neigh.hold_packets || held_total >= held_max) {
		rte_pktmbuf_free(m);
		dp.ctl_drops[DROP_neigh_hold_full]++;
		CTL_COUNT(neigh_hold_full);
		return;
	}
	n->hold[n->n_hold++] = m;
	held_total++;
	if (neigh_fsm_usable(&n->fsm)) {
		hold_flush(n); /* resolved while the packet was in flight */
		return;
	}
	CTL_COUNT(neigh_held);
	if (!n->active || n->fsm.state == NEIGH_FAILED) {
		neigh_activate(n);
		neigh_apply(n, neigh_fsm_start(&n->fsm, &neigh_params, cp_now_ms()));
	}
}

void neigh_handle_punt(struct rte_mbuf *m)
{
	CTL_COUNT(punt_received);
	const struct iface *in = iface_get(pkt_meta(m)->in_iface);
	if (pkt_meta(m)->punt_reason == PUNT_NDP && in != NULL && iface_is_tunnel(in)) {
		dp.ctl_drops[DROP_ndp_on_tunnel]++;
		rte_pktmbuf_free(m);
		return;
	}
	switch (pkt_meta(m)->punt_reason) {
	case PUNT_ARP:
		arp_input(m);
		break;
	case PUNT_NDP:
		ndp_input(m);
		break;
	case PUNT_RESOLVE4:
		resolve_punt(m, 4);
		break;
	case PUNT_RESOLVE6:
		resolve_punt(m, 6);
		break;
	default:
		rte_pktmbuf_free(m);
	}
}

void neigh_timers(uint64_t now)
{
	for (uint32_t i = 1; i < dp.max_nhs; i++) {
		struct neigh *n = neigh_by_nh[i];
		if (n == NULL || !n->active || n->is_static)
			continue;
		uint64_t used = __atomic_load_n(&dp.nhs[i].last_used, __ATOMIC_RELAXED);
		if (used > n->fsm.last_used)
			neigh_apply(n, neigh_fsm_used(&n->fsm, &neigh_params, used));
		n = neigh_by_nh[i];
		if (n != NULL && n->fsm.deadline != 0 && now >= n->fsm.deadline)
			neigh_apply(n, neigh_fsm_timer(&n->fsm, &neigh_params, now));
	}
}

int cp_neigh_add_static(const char *name, const struct addr *ip, const uint8_t mac[6], char *err, size_t errlen)
{
	char ab[ADDR_STR_MAX];
	const struct iface *ifc = iface_by_name(name);
	if (ifc == NULL) {
		snprintf(err, errlen, "no interface '%s'", name);
		return ENOENT;
	}
	if (!on_link(ifc, ip)) {
		snprintf(err, errlen, "%s is not on a connected subnet of '%s' (expected a neighbour on the link)",
			 addr_fmt(ip, ab, sizeof(ab)), name);
		return EINVAL;
	}
	if (mac[0] & 1 || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0) {
		snprintf(err, errlen, "bad MAC (expected a unicast address)");
		return EINVAL;
	}
	struct neigh *n = neigh_lookup(ifc->id, ip, true);
	if (n == NULL) {
		snprintf(err, errlen, "neighbour table full (neighbour.max_neighbours / limits.max_nexthops)");
		return ENOSPC;
	}
	n->is_static = true;
	neigh_fsm_static(&n->fsm, mac);
	neigh_activate(n);
	publish_l2(n);
	hold_flush(n);
	n->ev_state = NEIGH_STATIC;
	neigh_report(n, "static");
	return 0;
}

int cp_neigh_del(const char *name, const struct addr *ip, char *err, size_t errlen)
{
	char ab[ADDR_STR_MAX];
	const struct iface *ifc = iface_by_name(name);
	if (ifc == NULL) {
		snprintf(err, errlen, "no interface '%s'", name);
		return ENOENT;
	}
	struct neigh *n = neigh_lookup(ifc->id, ip, false);
	if (n == NULL || !n->active) {
		snprintf(err, errlen, "no neighbour %s on '%s'", addr_fmt(ip, ab, sizeof(ab)), name);
		return ENOENT;
	}
	neigh_delete(n);
	return 0;
}

void neigh_flush_offlink(uint16_t iface)
{
	const struct iface *ifc = iface_get(iface);
	for (uint32_t i = 1; ifc != NULL && i < dp.max_nhs; i++) {
		struct neigh *n = neigh_by_nh[i];
		if (n == NULL || !n->active || dp.nhs[i].iface != iface)
			continue;
		struct addr a = neigh_addr(n);
		if (!on_link(ifc, &a))
			neigh_delete(n);
	}
}

void neigh_flush_iface(uint16_t iface)
{
	for (uint32_t i = 1; i < dp.max_nhs; i++) {
		struct neigh *n = neigh_by_nh[i];
		if (n != NULL && dp.nhs[i].iface == iface)
			neigh_delete(n);
	}
}

void neigh_announce(const struct iface *ifc, const struct addr *a)
{
	if (dp.qs == NULL)
		return; /* ports not started yet: workers_start announces every address */
	if (iface_is_tunnel(ifc))
		return; /* no link layer */
	if (a->family == 4)
		arp_send_gratuitous(ifc, a);
	else
		ndp_send_unsolicited_na(ifc, a);
}

void neigh_walk(neigh_walk_fn fn, void *cookie)
{
	uint64_t now = cp_now_ms();
	for (uint32_t i = 1; i < dp.max_nhs; i++) {
		const struct neigh *n = neigh_by_nh[i];
		if (n == NULL || !n->active)
			continue;
		struct neigh_view v = {
			.iface = dp.nhs[i].iface,
			.ip = neigh_addr(n),
			.has_mac = n->fsm.has_mac,
			.state = n->is_static ? "static" : neigh_state_name(n->fsm.state),
			.probes = n->fsm.probes,
			.held = n->n_hold,
			.age_ms = now - n->created_ms,
			.nh = i,
		};
		memcpy(v.mac, n->fsm.mac, 6);
		if (fn(cookie, &v))
			break;
	}
}
