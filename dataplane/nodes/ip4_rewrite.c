/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4_rewrite: TTL, MTU (fragment when DF is clear, ICMP "fragmentation needed" otherwise), neighbour and L2
 * header, then the port of the outgoing interface (or, for a tunnel interface, its function's output node).
 * Packets whose neighbour is not resolved go to the control thread, which holds them (bounded) while it resolves.
 */
#include <rte_ip.h>
#include <rte_ip_frag.h>

#include "dataplane/nodes/ip4_util.h"
#include "dataplane/nodes/l2_rewrite.h"

rte_edge_t ip4_rewrite_tx_edge[DP_MAX_OUT_PORTS];

#define IP4_MAX_FRAGS 8

/* Fragment m (DF clear) to mtu and send each fragment; consumes m. */
static void fragment_and_send(struct rte_graph *graph, struct rte_node *node, struct worker *w, struct rte_mbuf *m,
			      const struct iface *out, uint64_t l2)
{
	struct rte_mbuf *frags[IP4_MAX_FRAGS];
	int n = rte_ipv4_fragment_packet(m, frags, IP4_MAX_FRAGS, out->mtu, w->frag_direct, w->frag_indirect);
	if (n < 0) {
		rte_node_enqueue_x1(graph, node, RW_NEXT_DROP_FRAG_FAILED, m);
		return;
	}
	w->pkts_created += (uint64_t)n - 1; /* for the accounting: one packet in, n out */
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *f = frags[i];
		*pkt_meta(f) = *pkt_meta(m); /* a tunnel's function reads it (out_iface, vrf, flags) */
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		f->port = out->port;
		if (!rw_finish_one(w, f, out, l2, RTE_ETHER_TYPE_IPV4)) {
			rte_node_enqueue_x1(graph, node, RW_NEXT_DROP_FRAG_FAILED, f);
			continue;
		}
		rte_node_enqueue_x1(graph, node, ip4_rewrite_tx_edge[out->port], f);
	}
	rte_pktmbuf_free(m);
}

/* The home-run guess must be a port_tx edge: the other edges take packets one by one. */
static int ip4_rewrite_init(const struct rte_graph *graph, struct rte_node *node)
{
	return node_worker_init_port_home(graph, node, ip4_rewrite_tx_edge);
}

/* The full per-packet path: every case, every drop named. */
static __rte_always_inline void ip4_rewrite_one(struct rte_graph *graph, struct rte_node *node,
						struct node_batch *b, struct rte_mbuf *m, uint16_t nb_left)
{
	struct node_worker_ctx *ctx = (struct node_worker_ctx *)node->ctx;
	struct worker *w = ctx->w;
	struct pkt_meta *pm = pkt_meta(m);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
	if (unlikely(ip->time_to_live <= 1 && !local)) {
		pkt_set_icmp(m, 11, 0, 0); /* time exceeded in transit */
		rte_node_enqueue_x1(graph, node, RW_NEXT_ICMP_ERROR, m);
		return;
	}
	const struct iface *out = NULL;
	uint64_t l2;
	rte_edge_t e = rw_check_hop(pm, w->now_ms, PUNT_RESOLVE4, &out, &l2);
	if (unlikely(e != RW_NEXT_COUNT)) {
		rte_node_enqueue_x1(graph, node, e, m);
		return;
	}
	pm->out_iface = out->id;
	if (likely(!local))
		ttl_decrement(ip);
	if (unlikely(rte_pktmbuf_pkt_len(m) > out->mtu)) {
		if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) {
			if (likely(!local)) {
				ip->time_to_live++; /* the ICMP error quotes the packet as received */
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
			}
			pkt_set_icmp(m, 3, 4, out->mtu); /* fragmentation needed and DF set */
			rte_node_enqueue_x1(graph, node, RW_NEXT_ICMP_ERROR, m);
		} else {
			/* Fragments go to a port_tx edge one by one: close the batch around them. */
			batch_end(graph, node, b);
			fragment_and_send(graph, node, w, m, out, l2);
			batch_start(graph, node, b, ctx->home_edge, nb_left);
		}
		return;
	}
	if (unlikely(!rw_finish_one(w, m, out, l2, RTE_ETHER_TYPE_IPV4))) {
		rte_node_enqueue_x1(graph, node, RW_NEXT_DROP_FRAG_FAILED, m);
		return;
	}
	rte_edge_t tx = ip4_rewrite_tx_edge[out->port];
	if (!iface_is_tunnel(out))
		ctx->home_edge = tx; /* a port's edge only (rw_batch_edge) */
	batch_add(graph, node, b, tx, m);
}

/* A packet alone on a tunnel interface's next hop (rw_tunnel_lone_hop). False: the full path takes it. */
static __rte_always_inline bool ip4_rewrite_tunnel_lone(struct rte_graph *graph, struct rte_node *node,
							 struct node_batch *b, struct worker *w, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint64_t t;
	if ((ip->time_to_live <= 1 && !local) || (t = rw_tunnel_lone_hop(pm, len)) == 0)
		return false;
	rw_tunnel_lone_send(w, pm, t, len);
	if (likely(!local))
		ttl_decrement(ip);
	batch_add(graph, node, b, ip4_rewrite_tx_edge[nh_tun_port(t)], m);
	return true;
}

/*
 * The plain packet (forwarded with TTL left, or the router's own; fits the MTU; headroom for L2) of a resolved next
 * hop takes the run's resolution; the others, and every packet of a next hop that does not resolve, take
 * ip4_rewrite_one().
 */
static uint16_t ip4_rewrite_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct node_worker_ctx *ctx = (struct node_worker_ctx *)node->ctx;
	struct worker *w = ctx->w;
	struct node_batch b;
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct rw_hop hop = {.nh = UINT32_MAX};

	if (unlikely(nb_objs == 0))
		return 0;
	batch_start(graph, node, &b, rw_batch_edge(pkts[0], ctx->home_edge, ip4_rewrite_tx_edge), nb_objs);
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = pkt_meta(m);
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		/* A next hop is resolved for a run of two packets or more; a lone packet takes the full path. */
		if (unlikely(pm->nh != hop.nh) &&
		    (i + 1 == nb_objs || pkt_meta(pkts[i + 1])->nh != pm->nh ||
		     !rw_hop_resolve(&hop, w->ifc_stats, pm->nh, w->now_ms, ip4_rewrite_tx_edge,
				    RTE_ETHER_TYPE_IPV4))) {
			if (!ip4_rewrite_tunnel_lone(graph, node, &b, w, m))
				ip4_rewrite_one(graph, node, &b, m, nb_objs - i);
			continue;
		}
		/*
		 * the router's own packets (ICMP errors, echo replies, firewall rejects, encapsulations) keep their
		 * TTL
		 */
		bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
		if (unlikely((ip->time_to_live <= 1 && !local) ||
			     rte_pktmbuf_pkt_len(m) > hop.mtu || rte_pktmbuf_headroom(m) < hop.l2_len)) {
			ip4_rewrite_one(graph, node, &b, m, nb_objs - i);
			continue;
		}
		pm->out_iface = hop.out_id;
		if (likely(!local))
			ttl_decrement(ip);
		rw_hop_send(&hop, m);
		batch_add(graph, node, &b, hop.edge, m);
	}
	if (hop.nh != UINT32_MAX && !hop.tunnel)
		ctx->home_edge = hop.edge;
	rw_hop_flush(&hop, w->ifc_stats, w->now_ms);
	batch_end(graph, node, &b);
	return nb_objs;
}

static struct rte_node_register ip4_rewrite_node = {
	.name = NODE_IP4_REWRITE,
	.process = ip4_rewrite_process,
	.init = ip4_rewrite_init,
	.nb_edges = RW_NEXT_COUNT,
	.next_nodes =
		{
			[RW_NEXT_PUNT] = NODE_PUNT,
			[RW_NEXT_ICMP_ERROR] = NODE_ICMP4_ERROR,
			[RW_NEXT_DROP_NO_IFACE] = DROP_NODE(no_iface),
			[RW_NEXT_DROP_IFACE_DOWN] = DROP_NODE(iface_down),
			[RW_NEXT_DROP_FRAG_FAILED] = DROP_NODE(frag_failed),
		},
};
RTE_NODE_REGISTER(ip4_rewrite_node);
