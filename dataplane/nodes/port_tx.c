/* SPDX-License-Identifier: BSD-3-Clause */
/* port_tx-<port>: transmits on the worker's own tx queue; what the queue refuses goes to drop_tx_full. */
#include <rte_ethdev.h>

#include "dataplane/nodes/nodes.h"
#include "dataplane/nodes/port_nodes.h"

struct port_tx_ctx {
	uint16_t port;
	uint16_t queue;
};

static uint16_t tx_port_by_node[DP_MAX_PORTS];
static rte_node_t tx_node_ids[DP_MAX_PORTS];
static unsigned n_tx_nodes;

enum { PORT_TX_NEXT_DROP_FULL, PORT_TX_NEXT_COUNT };

int port_tx_clone(uint16_t port, const char *port_name, char *name_out, size_t len)
{
	if (n_tx_nodes == DP_MAX_PORTS)
		return -ENOSPC;
	rte_node_t id = rte_node_clone(rte_node_from_name(NODE_PORT_TX), port_name);
	if (id == RTE_NODE_ID_INVALID)
		return -rte_errno;
	tx_node_ids[n_tx_nodes] = id;
	tx_port_by_node[n_tx_nodes] = port;
	n_tx_nodes++;
	snprintf(name_out, len, "%s-%s", NODE_PORT_TX, port_name);
	return 0;
}

static int port_tx_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct port_tx_ctx *ctx = (struct port_tx_ctx *)node->ctx;
	if (graph_build_worker == NULL)
		return -EINVAL;
	ctx->queue = graph_build_worker->txq;
	for (unsigned i = 0; i < n_tx_nodes; i++) {
		if (tx_node_ids[i] == node->id) {
			ctx->port = tx_port_by_node[i];
			return 0;
		}
	}
	return -ENOENT;
}

static uint16_t port_tx_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	const struct port_tx_ctx *ctx = (const struct port_tx_ctx *)node->ctx;
	uint16_t sent = rte_eth_tx_burst(ctx->port, ctx->queue, (struct rte_mbuf **)objs, nb_objs);
	if (unlikely(sent < nb_objs))
		rte_node_enqueue(graph, node, PORT_TX_NEXT_DROP_FULL, &objs[sent], nb_objs - sent);
	return sent;
}

static struct rte_node_register port_tx_node = {
	.name = NODE_PORT_TX,
	.process = port_tx_process,
	.init = port_tx_init,
	.nb_edges = PORT_TX_NEXT_COUNT,
	.next_nodes = {[PORT_TX_NEXT_DROP_FULL] = DROP_NODE(tx_full)},
};
RTE_NODE_REGISTER(port_tx_node);
