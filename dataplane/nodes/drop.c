/* SPDX-License-Identifier: BSD-3-Clause */
/* One sink node per drop reason (drop_reasons.h): graph statistics then count every reason on its own. */
#include "dataplane/nodes/nodes.h"

static uint16_t drop_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, nb_objs);
	return nb_objs;
}

#define DROP_NODE_REGISTER(reason, desc)                                                                              \
	static struct rte_node_register drop_##reason##_node = {                                                      \
		.name = DROP_NODE(reason),                                                                             \
		.process = drop_process,                                                                               \
	};                                                                                                             \
	RTE_NODE_REGISTER(drop_##reason##_node);
NPSGW_DROP_REASONS(DROP_NODE_REGISTER)
