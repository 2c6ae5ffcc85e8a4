/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth_input: finds the interface of a frame (port + 802.1Q VLAN), checks the destination MAC, strips the L2
 * header and dispatches by EtherType. Ports run promiscuous; the MAC filter is here, per interface. IPv4 and IPv6
 * packets that pass the input node's checks here go straight to the lookup (one node hop less, ~8 cycles a packet).
 */
#include <rte_ether.h>

#include "dataplane/nodes/ip4_input.h"
#include "dataplane/nodes/ip6_input.h"

enum {
	ETH_NEXT_IP4_LOOKUP,
	ETH_NEXT_IP4,
	ETH_NEXT_IP6_LOOKUP,
	ETH_NEXT_IP6,
	ETH_NEXT_ARP,
	ETH_NEXT_DROP_RUNT,
	ETH_NEXT_DROP_NOT_FOR_US,
	ETH_NEXT_DROP_UNKNOWN_VLAN,
	ETH_NEXT_DROP_UNKNOWN_TYPE,
	ETH_NEXT_DROP_IFACE_DOWN,
	ETH_NEXT_COUNT
};

static inline bool mac_accepted(const struct rte_ether_addr *dst, const struct iface *ifc, uint16_t type)
{
	if (rte_is_same_ether_addr(dst, &ifc->mac))
		return true;
	if (rte_is_broadcast_ether_addr(dst))
		return true; /* ARP; broadcast IP is dropped later with its own reason */
	/* IPv6 multicast (33:33:...): NDP solicited-node and all-nodes; ip6_input decides further. */
	return dst->addr_bytes[0] == 0x33 && dst->addr_bytes[1] == 0x33 && type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
}

static inline rte_edge_t eth_classify(struct rte_mbuf *m, uint16_t port, struct iface_counters *stats)
{
	struct pkt_meta *pm = pkt_meta(m);
	pm->flags = 0;
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)))
		return ETH_NEXT_DROP_RUNT;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t type = eh->ether_type;
	uint16_t vlan = VLAN_UNTAGGED;
	uint16_t l2len = sizeof(*eh);
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(struct rte_vlan_hdr)))
			return ETH_NEXT_DROP_RUNT;
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eh + 1);
		vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		type = vh->eth_proto;
		l2len += sizeof(*vh);
		if (unlikely(vlan == VLAN_UNTAGGED)) /* priority-tagged frames belong to the untagged interface */
			vlan = VLAN_UNTAGGED;
	}
	uint16_t ifid = __atomic_load_n(&dp.ports[port].vlan_map[vlan], __ATOMIC_RELAXED);
	const struct iface *ifc = ifid ? iface_get(ifid) : NULL;
	if (unlikely(ifc == NULL))
		return ETH_NEXT_DROP_UNKNOWN_VLAN;
	if (unlikely(!mac_accepted(&eh->dst_addr, ifc, type)))
		return ETH_NEXT_DROP_NOT_FOR_US;
	if (unlikely(!ifc->up))
		return ETH_NEXT_DROP_IFACE_DOWN;
	stats[ifid].rx_packets++;
	stats[ifid].rx_bytes += rte_pktmbuf_pkt_len(m);
	pm->in_iface = ifid;
	pm->vrf = ifc->vrf;
	pm->flags = PKT_F_META | PKT_F_L3 | (rte_is_multicast_ether_addr(&eh->dst_addr) ? PKT_F_L2_GROUP : 0);
	rte_pktmbuf_adj(m, l2len);
	switch (type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		/* A valid packet skips ip4_input; ip4_input redoes the checks of the others to name their drop. */
		return likely(ip4_input_verdict(m) == IP4_OK) ? ETH_NEXT_IP4_LOOKUP : ETH_NEXT_IP4;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		return likely(ip6_input_plain(m)) ? ETH_NEXT_IP6_LOOKUP : ETH_NEXT_IP6;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		return ETH_NEXT_ARP;
	default:
		return ETH_NEXT_DROP_UNKNOWN_TYPE;
	}
}

static uint16_t eth_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct iface_counters *stats = node_worker(node)->ifc_stats;
	struct node_batch b;
	if (unlikely(nb_objs == 0))
		return 0;
	for (uint16_t i = 0; i < nb_objs && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/* The first packet's way is the burst's guess (IPv4 or IPv6 traffic: the others then follow in bulk). */
	batch_start(graph, node, &b, eth_classify(pkts[0], pkts[0]->port, stats), nb_objs);
	b.to[b.held++] = pkts[0];
	for (uint16_t i = 1; i < nb_objs; i++) {
		if (i + 4 < nb_objs)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		struct rte_mbuf *m = pkts[i];
		batch_add(graph, node, &b, eth_classify(m, m->port, stats), m);
	}
	batch_end(graph, node, &b);
	return nb_objs;
}

static struct rte_node_register eth_input_node = {
	.name = NODE_ETH_INPUT,
	.process = eth_input_process,
	.init = node_worker_init,
	.nb_edges = ETH_NEXT_COUNT,
	.next_nodes =
		{
			[ETH_NEXT_IP4_LOOKUP] = NODE_IP4_LOOKUP,
			[ETH_NEXT_IP4] = NODE_IP4_INPUT,
			[ETH_NEXT_IP6_LOOKUP] = NODE_IP6_LOOKUP,
			[ETH_NEXT_IP6] = NODE_IP6_INPUT,
			[ETH_NEXT_ARP] = NODE_ARP_INPUT,
			[ETH_NEXT_DROP_RUNT] = DROP_NODE(eth_runt),
			[ETH_NEXT_DROP_NOT_FOR_US] = DROP_NODE(eth_not_for_us),
			[ETH_NEXT_DROP_UNKNOWN_VLAN] = DROP_NODE(eth_unknown_vlan),
			[ETH_NEXT_DROP_UNKNOWN_TYPE] = DROP_NODE(eth_unknown_type),
			[ETH_NEXT_DROP_IFACE_DOWN] = DROP_NODE(iface_down),
		},
};
RTE_NODE_REGISTER(eth_input_node);
