/* SPDX-License-Identifier: BSD-3-Clause */
/* punt: hands packets to the control thread through one multi-producer ring (ARP, NDP, unresolved next hops). */
#include "dataplane/nodes/nodes.h"

enum { PUNT_NEXT_DROP_FULL, PUNT_NEXT_COUNT };

static uint16_t punt_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	unsigned n = rte_ring_enqueue_burst(dp.punt, objs, nb_objs, NULL);
	if (unlikely(n < nb_objs))
		rte_node_enqueue(graph, node, PUNT_NEXT_DROP_FULL, &objs[n], nb_objs - n);
	return (uint16_t)n; /* the node's count is what reached the control thread */
}

static struct rte_node_register punt_node = {
	.name = NODE_PUNT,
	.process = punt_process,
	.nb_edges = PUNT_NEXT_COUNT,
	.next_nodes = {[PUNT_NEXT_DROP_FULL] = DROP_NODE(punt_full)},
};
RTE_NODE_REGISTER(punt_node);
