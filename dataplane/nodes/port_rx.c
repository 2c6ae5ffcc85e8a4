/* SPDX-License-Identifier: BSD-3-Clause */
/* port_rx-<port>q<queue>: a source node per polled queue; bursts go to eth_input whole. */
#include <rte_ethdev.h>

#include "dataplane/nodes/nodes.h"
#include "dataplane/nodes/port_nodes.h"

/*
 * Packets read per poll. Bigger bursts spread each node call's fixed cost over more packets and give the FIB's bulk
 * lookups and the crypto library's multi-buffer lanes more to overlap. Measured (net_pcap to net_null, one worker,
 * stop 12, cycles/packet at 64 B / IMIX): IPv4 with 1M routes 125 / 248 at 32, 124 / 227 at 64, 84 / 214 at 128,
 * 88 / 212 at 256; IPsec outbound AES-CBC+HMAC-SHA-256 446 / 988 at 32, 397 / 741 at 128 (crypto bursts of 128).
 * Early in the project (more per-packet work, fewer nodes batching) 32 had measured best.
 */
#define PORT_RX_BURST 128

struct port_rx_ctx {
	uint16_t port;
	uint16_t queue;
};

static struct port_rx_ctx rx_ctx_by_node[RTE_MAX_LCORE * 4];
static rte_node_t rx_node_ids[RTE_DIM(rx_ctx_by_node)];
static unsigned n_rx_nodes;

int port_rx_clone(uint16_t port, uint16_t queue, const char *port_name, char *name_out, size_t len)
{
	char suffix[RTE_NODE_NAMESIZE];
	if (n_rx_nodes == RTE_DIM(rx_ctx_by_node))
		return -ENOSPC;
	snprintf(suffix, sizeof(suffix), "%sq%u", port_name, queue);
	rte_node_t id = rte_node_clone(rte_node_from_name(NODE_PORT_RX), suffix);
	if (id == RTE_NODE_ID_INVALID)
		return -rte_errno;
	rx_node_ids[n_rx_nodes] = id;
	rx_ctx_by_node[n_rx_nodes] = (struct port_rx_ctx){.port = port, .queue = queue};
	n_rx_nodes++;
	snprintf(name_out, len, "%s-%s", NODE_PORT_RX, suffix);
	return 0;
}

static int port_rx_init(const struct rte_graph *graph, struct rte_node *node)
{
	for (unsigned i = 0; i < n_rx_nodes; i++) {
		if (rx_node_ids[i] == node->id) {
			memcpy(node->ctx, &rx_ctx_by_node[i], sizeof(rx_ctx_by_node[i]));
			return 0;
		}
	}
	return -ENOENT;
}

static uint16_t port_rx_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	const struct port_rx_ctx *ctx = (const struct port_rx_ctx *)node->ctx;
	uint16_t n = rte_eth_rx_burst(ctx->port, ctx->queue, (struct rte_mbuf **)node->objs, PORT_RX_BURST);
	if (n == 0)
		return 0;
	node->idx = n;
	rte_node_next_stream_move(graph, node, 0);
	return n;
}

static struct rte_node_register port_rx_node = {
	.name = NODE_PORT_RX,
	.flags = RTE_NODE_SOURCE_F,
	.process = port_rx_process,
	.init = port_rx_init,
	.nb_edges = 1,
	.next_nodes = {NODE_ETH_INPUT},
};
RTE_NODE_REGISTER(port_rx_node);
