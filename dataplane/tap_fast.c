/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tap's fast path: tap_process() wraps the process function of tapped nodes (see tap.h), and the tap_inject
 * source node feeds path-check packets into eth_input. Workers only: no control-plane calls here.
 */
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_graph_worker.h>
#include <rte_ip.h>

#include "dataplane/nodes/nodes.h"
#include "dataplane/tap.h"

struct tap_shared tap;

static struct worker *worker_of_lcore[RTE_MAX_LCORE];

static inline struct worker *current_worker(void)
{
	unsigned lc = rte_lcore_id();
	if (unlikely(lc >= RTE_MAX_LCORE))
		return NULL;
	if (unlikely(worker_of_lcore[lc] == NULL)) {
		for (unsigned i = 0; i < dp.n_workers; i++)
			if (dp.workers[i].lcore == lc)
				worker_of_lcore[lc] = &dp.workers[i];
	}
	return worker_of_lcore[lc];
}

static inline bool take_budget(uint64_t *left)
{
	uint64_t v = __atomic_load_n(left, __ATOMIC_RELAXED);
	while (v > 0)
		if (__atomic_compare_exchange_n(left, &v, v - 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	return false;
}

static inline bool take_budget32(uint32_t *left)
{
	uint32_t v = __atomic_load_n(left, __ATOMIC_RELAXED);
	while (v > 0)
		if (__atomic_compare_exchange_n(left, &v, v - 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	return false;
}

/* Did this frame arrive on port/VLAN (the interface of an "rx:IFACE" capture)? */
static inline bool frame_on(struct rte_mbuf *m, uint16_t port, uint16_t vlan)
{
	if (m->port != port || rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr))
		return false;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t tag = 0;
	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN) &&
	    rte_pktmbuf_data_len(m) >= sizeof(*eh) + sizeof(struct rte_vlan_hdr))
		tag = rte_be_to_cpu_16(((const struct rte_vlan_hdr *)(eh + 1))->vlan_tci) & 0xfff;
	return tag == vlan;
}

/* Is the packet's data at L3 at this point? Ingress and transmit points see frames; drops depend on where. */
static inline bool at_l3(const struct tap_point *pt, const struct pkt_meta *pm)
{
	switch (pt->kind) {
	case TAP_KIND_ETH_IN:
	case TAP_KIND_TX:
		return false;
	case TAP_KIND_DROP:
		return (pm->flags & (PKT_F_META | PKT_F_L3)) == (PKT_F_META | PKT_F_L3);
	default:
		return true;
	}
}

/*
 * Copy of the frame as the node sees it (an Ethernet header with zero MACs is made up where the data starts at
 * L3, so every capture point is Ethernet and one BPF filter fits all), filtered, then queued to the control thread.
 */
static struct rte_mbuf *tap_copy(const struct tap_config *cfg, const struct tap_point *pt, uint16_t node_id,
				 struct rte_mbuf *m, struct worker *w, bool meta_valid)
{
	struct pkt_meta *pm = pkt_meta(m);
	bool l3 = at_l3(pt, pm);
	struct rte_mbuf *c = rte_pktmbuf_alloc(tap.copy_pool);
	if (c == NULL) {
		__atomic_fetch_add(&tap.capture_lost, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t room = rte_pktmbuf_tailroom(c) - sizeof(struct tap_copy_hdr) - RTE_ETHER_HDR_LEN;
	uint32_t caplen = RTE_MIN(RTE_MIN(len, cfg->snaplen), room);
	struct tap_copy_hdr *h = (struct tap_copy_hdr *)rte_pktmbuf_append(c, sizeof(*h));
	*h = (struct tap_copy_hdr){
		.ts_ns = rte_rdtsc(),
		.if_id = (uint32_t)pt->if_id,
		.origlen = len + (l3 ? RTE_ETHER_HDR_LEN : 0),
		.vrf = meta_valid ? pm->vrf : UINT32_MAX,
		.node = node_id,
		.worker = w ? (uint16_t)w->index : 0,
		.in_iface = meta_valid ? pm->in_iface : 0,
		.has_meta = meta_valid,
	};
	if (l3) {
		struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_append(c, RTE_ETHER_HDR_LEN);
		memset(eh, 0, sizeof(*eh));
		uint8_t version = len ? (*rte_pktmbuf_mtod(m, uint8_t *) >> 4) : 0;
		eh->ether_type = pt->ether_type_hint == 1 ? RTE_BE16(RTE_ETHER_TYPE_ARP)
				 : version == 6	      ? RTE_BE16(RTE_ETHER_TYPE_IPV6)
							: RTE_BE16(RTE_ETHER_TYPE_IPV4);
	}
	uint8_t *dst = (uint8_t *)rte_pktmbuf_append(c, caplen);
	const void *src = rte_pktmbuf_read(m, 0, caplen, dst);
	if (src != dst)
		memcpy(dst, src, caplen);
	if (cfg->filter != NULL) {
		rte_pktmbuf_adj(c, sizeof(*h));
		uint64_t match = rte_bpf_exec(cfg->filter, c);
		rte_pktmbuf_prepend(c, sizeof(*h));
		if (!match) {
			rte_pktmbuf_free(c);
			return NULL;
		}
	}
	return c;
}

static inline void trace_record(const struct tap_config *cfg, struct worker *w, uint16_t node_id, struct rte_mbuf *m,
				bool l3)
{
	struct trace_buf *tb = cfg->tbuf[w->index];
	if (tb == NULL)
		return;
	uint32_t n = tb->n;
	if (n >= TAP_TRACE_RECORDS) {
		tb->dropped++;
		return;
	}
	const struct pkt_meta *pm = pkt_meta(m);
	struct trace_rec *r = &tb->rec[n];
	*r = (struct trace_rec){
		.trace_id = pm->trace_id,
		.node = node_id,
		.in_iface = pm->in_iface,
		.out_iface = pm->out_iface,
		.flags = pm->flags,
		.icmp_type = pm->icmp_type,
		.icmp_code = pm->icmp_code,
		.vrf = pm->vrf,
		.nh = pm->nh,
		.ts_ns = rte_rdtsc(),
	};
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	if (l3 && rte_pktmbuf_data_len(m) >= 40 && (p[0] >> 4) == 6) {
		r->family = 6;
		memcpy(r->dst, p + 24, 16);
	} else if (l3 && rte_pktmbuf_data_len(m) >= 20 && (p[0] >> 4) == 4) {
		r->family = 4;
		memcpy(r->dst, p + 16, 4);
	}
	__atomic_store_n(&tb->n, n + 1, __ATOMIC_RELEASE);
}

uint16_t tap_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	const struct tap_config *cfg = __atomic_load_n(&tap.cfg, __ATOMIC_ACQUIRE);
	rte_node_process_t orig = tap.orig[node->id];
	if (cfg == NULL || node->id >= TAP_NODE_MAX)
		return orig(graph, node, objs, nb_objs);
	const struct tap_point *pt = &cfg->points[node->id];
	struct worker *w = current_worker();
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;

	/* Capture: the packet as it reaches this node. */
	if (cfg->capture && pt->if_id >= 0) {
		for (uint16_t i = 0; i < nb_objs; i++) {
			const struct pkt_meta *pm = pkt_meta(pkts[i]);
			if (pkts[i]->pool == tap.inject_pool)
				continue; /* a path check is not traffic */
			bool meta_valid = pt->kind != TAP_KIND_ETH_IN && (pm->flags & PKT_F_META);
			if (cfg->rx_iface && pt->kind == TAP_KIND_ETH_IN && !frame_on(pkts[i], cfg->rx_port, cfg->rx_vlan))
				continue;
			if (cfg->tx_iface && pt->kind == TAP_KIND_TX && pm->out_iface != cfg->tx_iface)
				continue;
			if (cfg->vrf != UINT32_MAX && (!meta_valid || pm->vrf != cfg->vrf))
				continue;
			if (__atomic_load_n(&tap.capture_left, __ATOMIC_RELAXED) == 0)
				break;
			struct rte_mbuf *c = tap_copy(cfg, pt, node->id, pkts[i], w, meta_valid);
			if (c == NULL)
				continue;
			if (!take_budget(&tap.capture_left) || rte_ring_enqueue(tap.copy_ring, c) != 0) {
				if (__atomic_load_n(&tap.capture_left, __ATOMIC_RELAXED) > 0)
					__atomic_fetch_add(&tap.capture_lost, 1, __ATOMIC_RELAXED);
				rte_pktmbuf_free(c);
			}
		}
	}
	if (!cfg->trace || w == NULL)
		return orig(graph, node, objs, nb_objs);

	/* Trace: ingress picks packets (filter on the frame), every other node records the traced ones. */
	if (pt->kind == TAP_KIND_ETH_IN) {
		uint64_t pick[(RTE_GRAPH_BURST_SIZE * 4 + 63) / 64] = {0};
		uint16_t limit = RTE_MIN(nb_objs, (uint16_t)(RTE_DIM(pick) * 64));
		for (uint16_t i = 0; i < limit; i++) {
			struct rte_mbuf *m = pkts[i];
			bool injected = m->pool == tap.inject_pool;
			if (!injected && (__atomic_load_n(&tap.trace_left, __ATOMIC_RELAXED) == 0 ||
					  (cfg->trace_filter && !rte_bpf_exec(cfg->trace_filter, m))))
				continue;
			if (!injected && !take_budget32(&tap.trace_left))
				continue;
			pick[i / 64] |= 1ull << (i % 64);
		}
		uint16_t rc = orig(graph, node, objs, nb_objs);
		/* eth_input copied the pointers to the next nodes' streams: objs still names the same packets. */
		for (uint16_t i = 0; i < limit; i++) {
			if (!(pick[i / 64] & (1ull << (i % 64))))
				continue;
			struct rte_mbuf *m = pkts[i];
			struct pkt_meta *pm = pkt_meta(m);
			if (m->pool == tap.inject_pool) {
				pm->trace_id = pm->icmp_info; /* assigned by the path check */
				pm->flags |= PKT_F_TRACED | PKT_F_DRY_RUN;
			} else {
				pm->trace_id = __atomic_fetch_add(&tap.trace_next_id, 1, __ATOMIC_RELAXED);
				pm->flags |= PKT_F_TRACED;
			}
			trace_record(cfg, w, node->id, m, false);
		}
		return rc;
	}
	bool l3 = pt->kind == TAP_KIND_L3 || pt->kind == TAP_KIND_PUNT;
	uint16_t kept = 0;
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = pkt_meta(m);
		/* Fragments come from another pool with uninitialised metadata: never traced. */
		bool traced = m->pool == dp.pool || m->pool == tap.inject_pool;
		traced = traced && (pm->flags & PKT_F_TRACED);
		if (traced)
			trace_record(cfg, w, node->id, m, pt->kind == TAP_KIND_DROP ? at_l3(pt, pm) : l3);
		/* A path-check packet ends here instead of leaving the router or reaching the control thread. */
		if (traced && (pm->flags & PKT_F_DRY_RUN) && (pt->kind == TAP_KIND_TX || pt->kind == TAP_KIND_PUNT)) {
			rte_pktmbuf_free(m);
			continue;
		}
		pkts[kept++] = m;
	}
	if (kept == 0)
		return nb_objs;
	return orig(graph, node, objs, kept) + (nb_objs - kept);
}

/* tap_inject: a source node per worker that feeds path-check packets to eth_input (usually an empty ring). */
struct inject_ctx {
	struct rte_ring *ring;
};

static int inject_init(const struct rte_graph *graph, struct rte_node *node)
{
	if (graph_build_worker == NULL)
		return -EINVAL;
	((struct inject_ctx *)node->ctx)->ring = tap.inject_ring[graph_build_worker->index];
	return 0;
}

static uint16_t inject_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_ring *r = ((struct inject_ctx *)node->ctx)->ring;
	if (likely(r == NULL || rte_ring_empty(r)))
		return 0;
	unsigned n = rte_ring_dequeue_burst(r, node->objs, RTE_GRAPH_BURST_SIZE, NULL);
	if (n == 0)
		return 0;
	node->idx = (uint16_t)n;
	rte_node_next_stream_move(graph, node, 0);
	return (uint16_t)n;
}

static struct rte_node_register inject_node = {
	.name = "tap_inject",
	.flags = RTE_NODE_SOURCE_F,
	.process = inject_process,
	.init = inject_init,
	.nb_edges = 1,
	.next_nodes = {NODE_ETH_INPUT},
};
RTE_NODE_REGISTER(inject_node);
