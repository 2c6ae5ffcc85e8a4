/* SPDX-License-Identifier: BSD-3-Clause */
/* ip6_lookup: longest-prefix match in the packet's VRF (rte_fib6), then dispatch by next-hop type; see ip4_lookup. */
#include <rte_ip.h>

#include "dataplane/nodes/ip6_util.h"
#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "dataplane/nodes/vrf_group.h"

enum {
	IP6_LK_NEXT_REWRITE,
	IP6_LK_NEXT_LOCAL,
	IP6_LK_NEXT_ICMP_ERROR,
	IP6_LK_NEXT_DROP_NO_ROUTE,
	IP6_LK_NEXT_DROP_BLACKHOLE,
	IP6_LK_NEXT_DROP_LEAK_LOOP,
	IP6_LK_NEXT_DROP_LINKLOCAL,
	IP6_LK_NEXT_PUNT,
	IP6_LK_NEXT_COUNT
};

static inline uint32_t lookup_one(uint32_t vrf_slot, const uint8_t *dst)
{
	const struct vrf *v = vrf_get(vrf_slot);
	if (unlikely(v == NULL || v->fib6 == NULL))
		return NH_NONE;
	uint64_t nh;
	uint8_t ip[1][16];
	memcpy(ip[0], dst, 16);
	fib6_lookup_bulk(v->fib6, ip, &nh, 1);
	return (uint32_t)nh;
}

static inline void lookup_bulk(uint32_t vrf_slot, uint8_t (*dst)[16], uint64_t *nh, uint16_t n)
{
	const struct vrf *v = vrf_get(vrf_slot);
	const struct fib6 *f = v ? __atomic_load_n(&v->fib6, __ATOMIC_ACQUIRE) : NULL;
	if (likely(f != NULL))
		fib6_lookup_bulk(f, dst, nh, n);
	else
		for (uint16_t i = 0; i < n; i++)
			nh[i] = NH_NONE;
}

static inline rte_edge_t dispatch(struct rte_mbuf *m, uint32_t nh_idx, const struct iface_counters *stats)
{
	struct pkt_meta *pm = pkt_meta(m);
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	bool local = pm->flags & PKT_F_LOCAL_ORIGIN;
	if (unlikely(local && ip6_is_linklocal(ip->dst_addr))) {
		/* A reply to a link-local address (no FIB route): the control thread sends it out of the incoming
		 * interface, resolving the neighbour like any on-link host. */
		pm->punt_reason = PUNT_RESOLVE6;
		return IP6_LK_NEXT_PUNT;
	}
	const struct nexthop *nh = &dp.nhs[nh_idx];
	if (unlikely(nh->type == NH_T_LEAK)) {
		nh_idx = lookup_one(nh->target_vrf, ip->dst_addr);
		nh = &dp.nhs[nh_idx];
		if (unlikely(nh->type == NH_T_LEAK))
			return IP6_LK_NEXT_DROP_LEAK_LOOP;
	}
	pm->nh = nh_idx;
	switch (nh->type) {
	case NH_T_GATEWAY:
	case NH_T_NEIGH:
	case NH_T_CONNECTED:
		nh_prefetch_out(nh, stats); /* for ip6_rewrite, a burst ahead (as ip4_lookup) */
		if (unlikely(ip6_is_linklocal(ip->src_addr) && !local))
			return IP6_LK_NEXT_DROP_LINKLOCAL; /* RFC 4291 2.5.6: never forwarded off-link */
		if (unlikely(feat_any(FEAT_IP6_FWD, pm->vrf)))
			return feat_next_edge(FEAT_IP6_FWD, FEAT_FROM_SOURCE, pm->vrf); /* network functions */
		return IP6_LK_NEXT_REWRITE;
	case NH_T_LOCAL:
		return IP6_LK_NEXT_LOCAL;
	case NH_T_BLACKHOLE:
		return IP6_LK_NEXT_DROP_BLACKHOLE;
	case NH_T_REJECT:
		pkt_set_icmp(m, 1, 0, 0); /* destination unreachable: no route */
		return IP6_LK_NEXT_ICMP_ERROR;
	default:
		return IP6_LK_NEXT_DROP_NO_ROUTE;
	}
}

/* One chunk of at most RTE_GRAPH_BURST_SIZE packets (a node's stream may hold more: several nodes feed it). */
static void ip6_lookup_chunk(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf **pkts, uint16_t nb_objs)
{
	uint8_t dst[RTE_GRAPH_BURST_SIZE][16];
	uint64_t nh[RTE_GRAPH_BURST_SIZE];
	struct node_batch b;
	const struct iface_counters *stats = node_worker(node)->ifc_stats;

	for (uint16_t i = 0; i < nb_objs; i++) {
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(pkts[i], const struct rte_ipv6_hdr *);
		memcpy(dst[i], ip->dst_addr, 16);
	}
	uint32_t first = pkt_meta(pkts[0])->vrf;
	uint16_t same = 1;
	while (same < nb_objs && pkt_meta(pkts[same])->vrf == first)
		same++;
	struct vrf_groups g;
	if (same == nb_objs) {
		lookup_bulk(first, dst, nh, nb_objs);
	} else if (vrf_group(pkts, nb_objs, &g)) {
		uint8_t gdst[RTE_GRAPH_BURST_SIZE][16];
		uint64_t gnh[RTE_GRAPH_BURST_SIZE];
		for (uint16_t k = 0; k < nb_objs; k++)
			memcpy(gdst[k], dst[g.order[k]], 16);
		for (unsigned k = 0; k < g.n; k++)
			lookup_bulk(g.vrf[k], &gdst[g.start[k]], &gnh[g.start[k]], g.start[k + 1] - g.start[k]);
		for (uint16_t k = 0; k < nb_objs; k++)
			nh[g.order[k]] = gnh[k];
	} else {
		for (uint16_t start = 0; start < nb_objs;) {
			uint32_t vrf_slot = pkt_meta(pkts[start])->vrf;
			uint16_t end = start + 1;
			while (end < nb_objs && pkt_meta(pkts[end])->vrf == vrf_slot)
				end++;
			lookup_bulk(vrf_slot, &dst[start], &nh[start], end - start);
			start = end;
		}
	}
	batch_start(graph, node, &b, IP6_LK_NEXT_REWRITE, nb_objs);
	/*
	 * A run of forwarded packets (not the router's own, source not link-local) of one VRF to one next hop that is
	 * not a leak goes where the first of them went, without reading the next hop again.
	 */
	uint64_t run_nh = UINT64_MAX;
	uint32_t run_vrf = 0;
	rte_edge_t run_edge = IP6_LK_NEXT_REWRITE;
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = pkt_meta(m);
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
		bool plain = !(pm->flags & PKT_F_LOCAL_ORIGIN) && !ip6_is_linklocal(ip->src_addr);
		if (likely(plain && nh[i] == run_nh && pm->vrf == run_vrf)) {
			pm->nh = (uint32_t)run_nh;
			batch_add(graph, node, &b, run_edge, m);
			continue;
		}
		rte_edge_t e = dispatch(m, (uint32_t)nh[i], stats);
		if (plain && e != IP6_LK_NEXT_ICMP_ERROR && dp.nhs[(uint32_t)nh[i]].type != NH_T_LEAK) {
			run_nh = nh[i];
			run_vrf = pm->vrf;
			run_edge = e;
		}
		batch_add(graph, node, &b, e, m);
	}
	batch_end(graph, node, &b);
}

static uint16_t ip6_lookup_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	for (uint16_t done = 0; done < nb_objs; done += RTE_GRAPH_BURST_SIZE)
		ip6_lookup_chunk(graph, node, (struct rte_mbuf **)objs + done,
				  RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)RTE_GRAPH_BURST_SIZE));
	return nb_objs;
}

static struct rte_node_register ip6_lookup_node = {
	.name = NODE_IP6_LOOKUP,
	.process = ip6_lookup_process,
	.init = node_worker_init,
	.nb_edges = IP6_LK_NEXT_COUNT,
	.next_nodes =
		{
			[IP6_LK_NEXT_REWRITE] = NODE_IP6_REWRITE,
			[IP6_LK_NEXT_LOCAL] = NODE_IP6_LOCAL,
			[IP6_LK_NEXT_ICMP_ERROR] = NODE_ICMP6_ERROR,
			[IP6_LK_NEXT_DROP_NO_ROUTE] = DROP_NODE(no_route),
			[IP6_LK_NEXT_DROP_BLACKHOLE] = DROP_NODE(blackhole),
			[IP6_LK_NEXT_DROP_LEAK_LOOP] = DROP_NODE(leak_loop),
			[IP6_LK_NEXT_DROP_LINKLOCAL] = DROP_NODE(ip6_linklocal_fwd),
			[IP6_LK_NEXT_PUNT] = NODE_PUNT,
		},
};
RTE_NODE_REGISTER(ip6_lookup_node);
