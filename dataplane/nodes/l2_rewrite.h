/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by ip4_rewrite and ip6_rewrite: choose the neighbour of a next hop and write the L2 header. */
#ifndef NPSGW_L2_REWRITE_H
#define NPSGW_L2_REWRITE_H

#include "dataplane/nodes/nodes.h"

/*
 * The neighbour entry a next hop transmits through: itself for NEIGH, the gateway's for GATEWAY; NULL for
 * CONNECTED (the destination has no host route yet: the control thread must create one), except a tunnel's.
 */
static inline struct nexthop *nh_neighbour(struct nexthop *nh)
{
	if (likely(nh->type == NH_T_NEIGH))
		return nh;
	if (nh->type == NH_T_GATEWAY)
		return &dp.nhs[nh->neigh];
	if (nh->l2 & NH_L2_VALID)
		return nh; /* connected to a tunnel: resolved for good (dataplane/nexthop.c) */
	return NULL;
}

/* Tell the control thread (at most once a second per entry) that traffic uses this neighbour. */
static inline void nh_touch(struct nexthop *n, uint64_t now_ms)
{
	if (unlikely(n->last_used + 1000 <= now_ms))
		__atomic_store_n(&n->last_used, now_ms, __ATOMIC_RELAXED);
}

/* Prepend Ethernet (+ 802.1Q when the interface is a sub-interface). Returns false without headroom. */
static inline bool l2_prepend(struct rte_mbuf *m, const struct iface *out, uint64_t l2, uint16_t ether_type)
{
	uint16_t len = sizeof(struct rte_ether_hdr) + (out->vlan ? sizeof(struct rte_vlan_hdr) : 0);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, len);
	if (unlikely(eh == NULL))
		return false;
	pkt_meta(m)->flags &= ~PKT_F_L3;
	nh_l2_unpack(l2, &eh->dst_addr);
	rte_ether_addr_copy(&out->mac, &eh->src_addr);
	if (out->vlan) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);
		eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(out->vlan);
		vh->eth_proto = rte_cpu_to_be_16(ether_type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(ether_type);
	}
	return true;
}

#endif
