/* SPDX-License-Identifier: BSD-3-Clause */
/* ip6_rewrite: hop limit, MTU ("packet too big": routers never fragment IPv6), neighbour, L2 header, port. */
#include <rte_ip.h>

#include "dataplane/nodes/l2_rewrite.h"

rte_edge_t ip6_rewrite_tx_edge[DP_MAX_OUT_PORTS];

/* The home-run guess must be a port_tx edge: the other edges take packets one by one. */
static int ip6_rewrite_init(const struct rte_graph *graph, struct rte_node *node)
{
	return node_worker_init_port_home(graph, node, ip6_rewrite_tx_edge);
}

/* The full per-packet path: every case, every drop named. */
static __rte_always_inline void ip6_rewrite_one(struct rte_graph *graph, struct rte_node *node,
						struct node_batch *b, struct rte_mbuf *m)
{
	struct node_worker_ctx *ctx = (struct node_worker_ctx *)node->ctx;
	struct worker *w = ctx->w;
	struct pkt_meta *pm = pkt_meta(m);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);

	bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
	if (unlikely(ip->hop_limits <= 1 && !local)) {
		pkt_set_icmp(m, 3, 0, 0); /* time exceeded: hop limit exceeded in transit */
		rte_node_enqueue_x1(graph, node, RW_NEXT_ICMP_ERROR, m);
		return;
	}
	const struct iface *out = NULL;
	uint64_t l2;
	rte_edge_t e = rw_check_hop(pm, w->now_ms, PUNT_RESOLVE6, &out, &l2);
	if (unlikely(e != RW_NEXT_COUNT)) {
		rte_node_enqueue_x1(graph, node, e, m);
		return;
	}
	if (unlikely(rte_pktmbuf_pkt_len(m) > out->mtu)) {
		pkt_set_icmp(m, 2, 0, out->mtu); /* packet too big */
		rte_node_enqueue_x1(graph, node, RW_NEXT_ICMP_ERROR, m);
		return;
	}
	pm->out_iface = out->id;
	if (likely(!local))
		ip->hop_limits--;
	if (unlikely(!rw_finish_one(w, m, out, l2, RTE_ETHER_TYPE_IPV6))) {
		rte_node_enqueue_x1(graph, node, RW_NEXT_DROP_FRAG_FAILED, m);
		return;
	}
	rte_edge_t tx = ip6_rewrite_tx_edge[out->port];
	if (!iface_is_tunnel(out))
		ctx->home_edge = tx; /* a port's edge only (rw_batch_edge) */
	batch_add(graph, node, b, tx, m);
}

/* A packet alone on a tunnel interface's next hop (rw_tunnel_lone_hop). False: the full path takes it. */
static __rte_always_inline bool ip6_rewrite_tunnel_lone(struct rte_graph *graph, struct rte_node *node,
							 struct node_batch *b, struct worker *w, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint64_t t;
	if ((ip->hop_limits <= 1 && !local) || (t = rw_tunnel_lone_hop(pm, len)) == 0)
		return false;
	rw_tunnel_lone_send(w, pm, t, len);
	if (likely(!local))
		ip->hop_limits--;
	batch_add(graph, node, b, ip6_rewrite_tx_edge[nh_tun_port(t)], m);
	return true;
}

/* As ip4_rewrite: the plain packet of a resolved next hop takes the run's resolution, the others the full path. */
static uint16_t ip6_rewrite_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct node_worker_ctx *ctx = (struct node_worker_ctx *)node->ctx;
	struct worker *w = ctx->w;
	struct node_batch b;
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct rw_hop hop = {.nh = UINT32_MAX};

	if (unlikely(nb_objs == 0))
		return 0;
	batch_start(graph, node, &b, rw_batch_edge(pkts[0], ctx->home_edge, ip6_rewrite_tx_edge), nb_objs);
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = pkt_meta(m);
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
		/* A next hop is resolved for a run of two packets or more; a lone packet takes the full path. */
		if (unlikely(pm->nh != hop.nh) &&
		    (i + 1 == nb_objs || pkt_meta(pkts[i + 1])->nh != pm->nh ||
		     !rw_hop_resolve(&hop, w->ifc_stats, pm->nh, w->now_ms, ip6_rewrite_tx_edge,
				    RTE_ETHER_TYPE_IPV6))) {
			if (!ip6_rewrite_tunnel_lone(graph, node, &b, w, m))
				ip6_rewrite_one(graph, node, &b, m);
			continue;
		}
		/*
		 * the router's own packets (ICMP errors, echo replies, firewall rejects, encapsulations) keep their
		 * hop limit
		 */
		bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
		if (unlikely((ip->hop_limits <= 1 && !local) ||
			     rte_pktmbuf_pkt_len(m) > hop.mtu || rte_pktmbuf_headroom(m) < hop.l2_len)) {
			ip6_rewrite_one(graph, node, &b, m);
			continue;
		}
		pm->out_iface = hop.out_id;
		if (likely(!local))
			ip->hop_limits--;
		rw_hop_send(&hop, m);
		batch_add(graph, node, &b, hop.edge, m);
	}
	if (hop.nh != UINT32_MAX && !hop.tunnel)
		ctx->home_edge = hop.edge;
	rw_hop_flush(&hop, w->ifc_stats, w->now_ms);
	batch_end(graph, node, &b);
	return nb_objs;
}

static struct rte_node_register ip6_rewrite_node = {
	.name = NODE_IP6_REWRITE,
	.process = ip6_rewrite_process,
	.init = ip6_rewrite_init,
	.nb_edges = RW_NEXT_COUNT,
	.next_nodes =
		{
			[RW_NEXT_PUNT] = NODE_PUNT,
			[RW_NEXT_ICMP_ERROR] = NODE_ICMP6_ERROR,
			[RW_NEXT_DROP_NO_IFACE] = DROP_NODE(no_iface),
			[RW_NEXT_DROP_IFACE_DOWN] = DROP_NODE(iface_down),
			[RW_NEXT_DROP_FRAG_FAILED] = DROP_NODE(frag_failed),
		},
};
RTE_NODE_REGISTER(ip6_rewrite_node);
