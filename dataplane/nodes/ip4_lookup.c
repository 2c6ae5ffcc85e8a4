/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4_lookup: longest-prefix match in the packet's VRF (rte_fib, bulk per run of packets of the same VRF), then
 * dispatch by next-hop type. A LEAK next hop is looked up once more in its target VRF (route leaking); a leak
 * that lands on another leak is dropped rather than followed, so a misconfiguration can never loop.
 */
#include <rte_ip.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "dataplane/nodes/vrf_group.h"

enum {
	IP4_LK_NEXT_REWRITE,
	IP4_LK_NEXT_LOCAL,
	IP4_LK_NEXT_ICMP_ERROR,
	IP4_LK_NEXT_DROP_NO_ROUTE,
	IP4_LK_NEXT_DROP_BLACKHOLE,
	IP4_LK_NEXT_DROP_LEAK_LOOP,
	IP4_LK_NEXT_DROP_BCAST,
	IP4_LK_NEXT_COUNT
};

/* Not an edge (feature edges follow the static ones): dispatch()'s answer for a leak still to follow. */
#define IP4_LK_FOLLOW_LEAK RTE_EDGE_ID_INVALID

static inline rte_edge_t dispatch(struct rte_mbuf *m, uint32_t nh_idx, bool follow_leak,
				  const struct iface_counters *stats)
{
	struct pkt_meta *pm = pkt_meta(m);
	const struct nexthop *nh = &dp.nhs[nh_idx];
	if (unlikely(nh->type == NH_T_LEAK))
		return follow_leak ? IP4_LK_FOLLOW_LEAK : IP4_LK_NEXT_DROP_LEAK_LOOP; /* a leak that landed on a leak */
	pm->nh = nh_idx;
	switch (nh->type) {
	case NH_T_GATEWAY:
	case NH_T_NEIGH:
	case NH_T_CONNECTED:
		/* ip4_rewrite reads the output interface's line: fetched a burst ahead, it waits in L2 at worst. A lone
		 * packet to a tunnel reads the copy on the next hop's line instead (rw_tunnel_lone_hop), and writes the
		 * interface's counters. */
		nh_prefetch_out(nh, stats);
		if (unlikely(feat_any(FEAT_IP4_FWD, pm->vrf)))
			return feat_next_edge(FEAT_IP4_FWD, FEAT_FROM_SOURCE, pm->vrf); /* network functions */
		return IP4_LK_NEXT_REWRITE;
	case NH_T_LOCAL:
		return IP4_LK_NEXT_LOCAL;
	case NH_T_BLACKHOLE:
		return IP4_LK_NEXT_DROP_BLACKHOLE;
	case NH_T_BCAST:
		return IP4_LK_NEXT_DROP_BCAST; /* directed broadcasts are not forwarded (RFC 2644) */
	case NH_T_REJECT:
		pkt_set_icmp(m, 3, 1, 0); /* destination unreachable: host unreachable */
		return IP4_LK_NEXT_ICMP_ERROR;
	default:
		return IP4_LK_NEXT_DROP_NO_ROUTE;
	}
}

static inline void lookup_bulk(uint32_t vrf_slot, uint32_t *dst, uint64_t *nh, uint16_t n)
{
	const struct vrf *v = vrf_get(vrf_slot);
	const struct fib4 *f = v ? __atomic_load_n(&v->fib4, __ATOMIC_ACQUIRE) : NULL;
	if (likely(f != NULL))
		fib4_lookup_bulk(f, dst, nh, n);
	else
		for (uint16_t i = 0; i < n; i++)
			nh[i] = NH_NONE;
}

/*
 * A run of packets of one VRF to one next hop goes where the first of them went, without reading the next hop
 * again (ICMP errors and leak loops are decided per packet).
 */
struct lookup_run {
	uint64_t nh;
	uint32_t vrf;
	rte_edge_t edge;
	const struct iface_counters *stats; /* the worker's, for nh_prefetch_out */
};

static inline rte_edge_t dispatch_run(struct lookup_run *r, struct rte_mbuf *m, uint64_t nh, bool follow_leak)
{
	struct pkt_meta *pm = pkt_meta(m);
	if (likely(nh == r->nh && pm->vrf == r->vrf)) {
		pm->nh = (uint32_t)nh;
		return r->edge;
	}
	rte_edge_t e = dispatch(m, (uint32_t)nh, follow_leak, r->stats);
	if (e != IP4_LK_NEXT_ICMP_ERROR && e != IP4_LK_NEXT_DROP_LEAK_LOOP) {
		r->nh = nh;
		r->vrf = pm->vrf;
		r->edge = e;
	}
	return e;
}

/*
 * Route leaks: packets whose next hop is a LEAK are looked up again in the target VRF, one bulk lookup per run of
 * one target (tenants whose default route leaks into an internet VRF send most of their packets this way), then
 * dispatched after the others of the chunk. A leak that lands on another leak is dropped, never followed.
 */
static void follow_leaks(struct rte_graph *graph, struct rte_node *node, struct node_batch *b, struct rte_mbuf **pkts,
			 const uint16_t *at, const uint32_t *ldst, uint16_t nl)
{
	uint32_t target[RTE_GRAPH_BURST_SIZE], dst[RTE_GRAPH_BURST_SIZE];
	uint64_t nh[RTE_GRAPH_BURST_SIZE];
	for (uint16_t k = 0; k < nl; k++) {
		/* dispatch_run() kept the leak's next hop in pm->nh */
		target[k] = dp.nhs[pkt_meta(pkts[at[k]])->nh].target_vrf;
		dst[k] = ldst[k];
	}
	for (uint16_t start = 0; start < nl;) {
		uint16_t end = start + 1;
		while (end < nl && target[end] == target[start])
			end++;
		lookup_bulk(target[start], &dst[start], &nh[start], end - start);
		start = end;
	}
	struct lookup_run run = {.nh = UINT64_MAX, .stats = node_worker(node)->ifc_stats};
	for (uint16_t k = 0; k < nl; k++) {
		struct rte_mbuf *m = pkts[at[k]];
		batch_add(graph, node, b, dispatch_run(&run, m, nh[k], false), m);
	}
}

/* One chunk of at most RTE_GRAPH_BURST_SIZE packets (a node's stream may hold more: several nodes feed it). */
static void ip4_lookup_chunk(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf **pkts, uint16_t nb_objs)
{
	uint32_t dst[RTE_GRAPH_BURST_SIZE];
	uint64_t nh[RTE_GRAPH_BURST_SIZE];
	struct node_batch b;

	for (uint16_t i = 0; i < nb_objs; i++) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(pkts[i], const struct rte_ipv4_hdr *);
		dst[i] = rte_be_to_cpu_32(ip->dst_addr);
	}
	/* One bulk lookup per VRF: the whole burst when it is one tenant's, else grouped by VRF. */
	uint32_t first = pkt_meta(pkts[0])->vrf;
	uint16_t same = 1;
	while (same < nb_objs && pkt_meta(pkts[same])->vrf == first)
		same++;
	struct vrf_groups g;
	if (same == nb_objs) {
		lookup_bulk(first, dst, nh, nb_objs);
	} else if (vrf_group(pkts, nb_objs, &g)) {
		uint32_t gdst[RTE_GRAPH_BURST_SIZE];
		uint64_t gnh[RTE_GRAPH_BURST_SIZE];
		for (uint16_t k = 0; k < nb_objs; k++)
			gdst[k] = dst[g.order[k]];
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
	batch_start(graph, node, &b, IP4_LK_NEXT_REWRITE, nb_objs);
	struct lookup_run run = {.nh = UINT64_MAX, .stats = node_worker(node)->ifc_stats};
	uint16_t leak_at[RTE_GRAPH_BURST_SIZE];
	uint32_t leak_dst[RTE_GRAPH_BURST_SIZE];
	uint16_t nl = 0;
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = pkts[i];
		rte_edge_t e = dispatch_run(&run, m, nh[i], true);
		if (unlikely(e == IP4_LK_FOLLOW_LEAK)) {
			pkt_meta(m)->nh = (uint32_t)nh[i];
			leak_at[nl] = i;
			leak_dst[nl++] = dst[i];
			continue;
		}
		batch_add(graph, node, &b, e, m);
	}
	if (unlikely(nl > 0))
		follow_leaks(graph, node, &b, pkts, leak_at, leak_dst, nl);
	batch_end(graph, node, &b);
}

static uint16_t ip4_lookup_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	for (uint16_t done = 0; done < nb_objs; done += RTE_GRAPH_BURST_SIZE)
		ip4_lookup_chunk(graph, node, (struct rte_mbuf **)objs + done,
				  RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)RTE_GRAPH_BURST_SIZE));
	return nb_objs;
}

static struct rte_node_register ip4_lookup_node = {
	.name = NODE_IP4_LOOKUP,
	.process = ip4_lookup_process,
	.init = node_worker_init,
	.nb_edges = IP4_LK_NEXT_COUNT,
	.next_nodes =
		{
			[IP4_LK_NEXT_REWRITE] = NODE_IP4_REWRITE,
			[IP4_LK_NEXT_LOCAL] = NODE_IP4_LOCAL,
			[IP4_LK_NEXT_ICMP_ERROR] = NODE_ICMP4_ERROR,
			[IP4_LK_NEXT_DROP_NO_ROUTE] = DROP_NODE(no_route),
			[IP4_LK_NEXT_DROP_BLACKHOLE] = DROP_NODE(blackhole),
			[IP4_LK_NEXT_DROP_LEAK_LOOP] = DROP_NODE(leak_loop),
			[IP4_LK_NEXT_DROP_BCAST] = DROP_NODE(ip4_mcast),
		},
};
RTE_NODE_REGISTER(ip4_lookup_node);
