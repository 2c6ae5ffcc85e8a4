/* SPDX-License-Identifier: BSD-3-Clause */
/* arp_input: validates ARP (RFC 826, Ethernet/IPv4 only) and hands it to the control thread, which owns neighbours. */
#include <rte_arp.h>

#include "dataplane/nodes/nodes.h"

enum { ARP_NEXT_PUNT, ARP_NEXT_DROP_MALFORMED, ARP_NEXT_DROP_BAD_SENDER, ARP_NEXT_COUNT };

static inline rte_edge_t arp_classify(struct rte_mbuf *m)
{
	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_arp_hdr))
		return ARP_NEXT_DROP_MALFORMED;
	const struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, const struct rte_arp_hdr *);
	if (a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) || a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4 ||
	    (a->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) && a->arp_opcode != RTE_BE16(RTE_ARP_OP_REPLY)))
		return ARP_NEXT_DROP_MALFORMED;
	if (!rte_is_unicast_ether_addr(&a->arp_data.arp_sha) || rte_is_zero_ether_addr(&a->arp_data.arp_sha))
		return ARP_NEXT_DROP_BAD_SENDER;
	uint8_t s0 = ((const uint8_t *)&a->arp_data.arp_sip)[0];
	if (s0 >= 224 || s0 == 127)
		return ARP_NEXT_DROP_BAD_SENDER;
	pkt_meta(m)->punt_reason = PUNT_ARP;
	return ARP_NEXT_PUNT;
}

static uint16_t arp_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		node_send(graph, node, arp_classify(m), m);
	}
	return nb_objs;
}

static struct rte_node_register arp_input_node = {
	.name = NODE_ARP_INPUT,
	.process = arp_input_process,
	.nb_edges = ARP_NEXT_COUNT,
	.next_nodes =
		{
			[ARP_NEXT_PUNT] = NODE_PUNT,
			[ARP_NEXT_DROP_MALFORMED] = DROP_NODE(arp_malformed),
			[ARP_NEXT_DROP_BAD_SENDER] = DROP_NODE(arp_bad_sender),
		},
};
RTE_NODE_REGISTER(arp_input_node);
