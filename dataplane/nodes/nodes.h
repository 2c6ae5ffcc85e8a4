/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of the graph nodes and helpers shared by the node files. Fast path only: no control-plane headers. */
#ifndef NPSGW_NODES_H
#define NPSGW_NODES_H

#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "dataplane/dp.h"

#define NODE_PORT_RX "port_rx"
#define NODE_PORT_TX "port_tx"
#define NODE_ETH_INPUT "eth_input"
#define NODE_ARP_INPUT "arp_input"
#define NODE_IP4_INPUT "ip4_input"
#define NODE_IP4_LOOKUP "ip4_lookup"
#define NODE_IP4_LOCAL "ip4_local"
#define NODE_IP4_REWRITE "ip4_rewrite"
#define NODE_ICMP4_ERROR "icmp4_error"
#define NODE_IP6_INPUT "ip6_input"
#define NODE_IP6_LOOKUP "ip6_lookup"
#define NODE_IP6_LOCAL "ip6_local"
#define NODE_IP6_REWRITE "ip6_rewrite"
#define NODE_ICMP6_ERROR "icmp6_error"
#define NODE_PUNT "punt"
#define DROP_NODE(reason) "drop_" #reason

/* Node context: every node that needs its worker keeps a pointer to it in ctx (16 bytes at most). */
struct node_worker_ctx {
	struct worker *w;
	rte_edge_t home_edge; /* where the previous burst's last packet went: the next burst's "home run" guess */
};

static inline struct worker *node_worker(const struct rte_node *node)
{
	return ((const struct node_worker_ctx *)node->ctx)->w;
}

/* The worker whose graph rte_graph_create() is building: node init callbacks read it. */
extern struct worker *graph_build_worker;
/* Init callback for nodes that only need their worker in ctx. */
int node_worker_init(const struct rte_graph *graph, struct rte_node *node);
/* node_worker_init(), and the home edge set to the first port's edge in tx_edge (nodes that batch to port_tx). */
int node_worker_init_port_home(const struct rte_graph *graph, struct rte_node *node, const rte_edge_t *tx_edge);

/*
 * What the rewrite of a packet forwarded to next hop nh will touch, requested by the lookup (a burst ahead): the
 * output interface's line; for a tunnel's next hop, which carries its copy of the interface (tunnel_out), the
 * interface's counters in stats instead (with a thousand tunnels, a line per packet out of L1).
 */
static inline void nh_prefetch_out(const struct nexthop *nh, const struct iface_counters *stats)
{
	uint64_t t = __atomic_load_n(&nh->tunnel_out, __ATOMIC_RELAXED);
	if (t == 0)
		rte_prefetch0(iface_get(nh->iface));
	else
		rte_prefetch0(&stats[nh_tun_iface(t)]);
}

/* Edge ids, filled when the graph is built: port_tx clone per port, for each node that transmits. */
extern rte_edge_t ip4_rewrite_tx_edge[DP_MAX_OUT_PORTS];
extern rte_edge_t ip6_rewrite_tx_edge[DP_MAX_OUT_PORTS];
extern rte_edge_t eth_input_tx_edge[DP_MAX_OUT_PORTS]; /* the express path's (express.h) */

/*
 * Packets for the router that network functions take (nf_desc.local): edge of ip4_local / ip6_local per IP
 * protocol (0 = none: edge 0 is the core's own), and per UDP destination port. The node gets the packet at its
 * outer IP header with m->l3_len = that header's length (IPv6: with its extension headers).
 */
#define LOCAL_UDP_MAX 8
struct local_dispatch {
	rte_edge_t proto_edge[256];
	rte_edge_t frag_edge[256]; /* fragments of the protocol, to the function that reassembles them; 0 = dropped */
	unsigned n_udp;
	uint16_t udp_port[LOCAL_UDP_MAX];
	rte_edge_t udp_edge[LOCAL_UDP_MAX];
};
extern struct local_dispatch local4_dispatch, local6_dispatch;

static inline rte_edge_t local_udp_edge(const struct local_dispatch *d, uint16_t dst_port_host)
{
	for (unsigned i = 0; i < d->n_udp; i++)
		if (d->udp_port[i] == dst_port_host)
			return d->udp_edge[i];
	return 0;
}

/* Move one packet to edge, the simple way (rte_node_enqueue_x1). */
static inline void node_send(struct rte_graph *g, struct rte_node *n, rte_edge_t edge, struct rte_mbuf *m)
{
	rte_node_enqueue_x1(g, n, edge, m);
}

/*
 * The "home run": reserve room on the edge most packets take and move them there with one store each; the others
 * go one by one. batch_end() must follow batch_start() in the same process call.
 */
struct node_batch {
	rte_edge_t edge;
	uint16_t held;
	void **to;
};

static inline void batch_start(struct rte_graph *g, struct rte_node *n, struct node_batch *b, rte_edge_t edge,
			       uint16_t nb_objs)
{
	b->edge = edge;
	b->held = 0;
	b->to = rte_node_next_stream_get(g, n, edge, nb_objs);
}

static inline void batch_add(struct rte_graph *g, struct rte_node *n, struct node_batch *b, rte_edge_t edge,
			     struct rte_mbuf *m)
{
	if (likely(edge == b->edge))
		b->to[b->held++] = m;
	else
		rte_node_enqueue_x1(g, n, edge, m);
}

static inline void batch_end(struct rte_graph *g, struct rte_node *n, struct node_batch *b)
{
	rte_node_next_stream_put(g, n, b->edge, b->held);
}

/*
 * A node whose bursts mostly go where their first packet goes (ip4_local / ip6_local: ESP to ipsec_in on a VPN
 * gateway): that edge takes them in one stream, the others one by one. classify: the packet's edge.
 */
static inline uint16_t batch_by_first(struct rte_graph *g, struct rte_node *n, void **objs, uint16_t nb_objs,
				      rte_edge_t (*classify)(struct rte_mbuf *))
{
	if (nb_objs == 0)
		return 0;
	struct node_batch b;
	rte_edge_t e = classify(objs[0]);
	batch_start(g, n, &b, e, nb_objs);
	batch_add(g, n, &b, e, objs[0]);
	for (uint16_t i = 1; i < nb_objs; i++)
		batch_add(g, n, &b, classify(objs[i]), objs[i]);
	batch_end(g, n, &b);
	return nb_objs;
}

/* ICMP error generation, shared: marks the packet and returns the edge to the ICMP error node. */
static inline void pkt_set_icmp(struct rte_mbuf *m, uint8_t type, uint8_t code, uint32_t info)
{
	struct pkt_meta *pm = pkt_meta(m);
	pm->icmp_type = type;
	pm->icmp_code = code;
	pm->icmp_info = info;
}

#endif
