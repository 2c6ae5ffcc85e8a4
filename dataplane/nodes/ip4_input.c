/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4_input: RFC 1812 header checks (lib/hdr/ip_checks.h); trims Ethernet padding; multicast is not routed. Frames
 * from a port pass the same checks inline in eth_input, which sends here only what it cannot pass straight to the
 * lookup (a drop to name, or input features); packets of the functions (decapsulated, hairpinned) come here.
 */
#include <rte_ip.h>

#include "dataplane/nodes/ip4_input.h"

enum {
	IP4_IN_NEXT_LOOKUP,
	IP4_IN_NEXT_DROP_TRUNCATED,
	IP4_IN_NEXT_DROP_BAD_VERSION,
	IP4_IN_NEXT_DROP_BAD_IHL,
	IP4_IN_NEXT_DROP_BAD_LENGTH,
	IP4_IN_NEXT_DROP_BAD_CHECKSUM,
	IP4_IN_NEXT_DROP_MARTIAN_SRC,
	IP4_IN_NEXT_DROP_MARTIAN_DST,
	IP4_IN_NEXT_DROP_MCAST,
	IP4_IN_NEXT_DROP_L2_GROUP,
	IP4_IN_NEXT_COUNT
};

/* ip4_input_verdict() -> edge; IP4_IN_FEATURES is handled apart (the VRF's first feature). */
static const rte_edge_t verdict_edge[] = {
	[IP4_OK] = IP4_IN_NEXT_LOOKUP,
	[IP4_TRUNCATED] = IP4_IN_NEXT_DROP_TRUNCATED,
	[IP4_BAD_VERSION] = IP4_IN_NEXT_DROP_BAD_VERSION,
	[IP4_BAD_IHL] = IP4_IN_NEXT_DROP_BAD_IHL,
	[IP4_BAD_LENGTH] = IP4_IN_NEXT_DROP_BAD_LENGTH,
	[IP4_BAD_CHECKSUM] = IP4_IN_NEXT_DROP_BAD_CHECKSUM,
	[IP4_MARTIAN_SRC] = IP4_IN_NEXT_DROP_MARTIAN_SRC,
	[IP4_MARTIAN_DST] = IP4_IN_NEXT_DROP_MARTIAN_DST,
	[IP4_IN_MCAST] = IP4_IN_NEXT_DROP_MCAST,
	[IP4_IN_L2_GROUP] = IP4_IN_NEXT_DROP_L2_GROUP,
};

static inline rte_edge_t ip4_classify(struct rte_mbuf *m)
{
	unsigned v = ip4_input_verdict(m);
	if (likely(v == IP4_OK))
		return IP4_IN_NEXT_LOOKUP;
	if (v == IP4_IN_FEATURES)
		return feat_next_edge(FEAT_IP4_IN, FEAT_FROM_SOURCE, pkt_meta(m)->vrf); /* network functions */
	return verdict_edge[v];
}

static uint16_t ip4_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct node_batch b;
	batch_start(graph, node, &b, IP4_IN_NEXT_LOOKUP, nb_objs);
	for (uint16_t i = 0; i < nb_objs; i++)
		batch_add(graph, node, &b, ip4_classify(pkts[i]), pkts[i]);
	batch_end(graph, node, &b);
	return nb_objs;
}

static struct rte_node_register ip4_input_node = {
	.name = NODE_IP4_INPUT,
	.process = ip4_input_process,
	.nb_edges = IP4_IN_NEXT_COUNT,
	.next_nodes =
		{
			[IP4_IN_NEXT_LOOKUP] = NODE_IP4_LOOKUP,
			[IP4_IN_NEXT_DROP_TRUNCATED] = DROP_NODE(ip4_truncated),
			[IP4_IN_NEXT_DROP_BAD_VERSION] = DROP_NODE(ip4_bad_version),
			[IP4_IN_NEXT_DROP_BAD_IHL] = DROP_NODE(ip4_bad_ihl),
			[IP4_IN_NEXT_DROP_BAD_LENGTH] = DROP_NODE(ip4_bad_length),
			[IP4_IN_NEXT_DROP_BAD_CHECKSUM] = DROP_NODE(ip4_bad_checksum),
			[IP4_IN_NEXT_DROP_MARTIAN_SRC] = DROP_NODE(ip4_martian_src),
			[IP4_IN_NEXT_DROP_MARTIAN_DST] = DROP_NODE(ip4_martian_dst),
			[IP4_IN_NEXT_DROP_MCAST] = DROP_NODE(ip4_mcast),
			[IP4_IN_NEXT_DROP_L2_GROUP] = DROP_NODE(l2_group_unicast_ip),
		},
};
RTE_NODE_REGISTER(ip4_input_node);
