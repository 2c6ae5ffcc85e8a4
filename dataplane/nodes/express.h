/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The express path: eth_input forwards the plain IPv4 or IPv6 packet itself, from its Ethernet header to a port_tx
 * node, without the lookup and rewrite nodes. Those two nodes cost the common packet two node hops, its metadata
 * line (written by one node, read by the next) and an L2 header stripped then put back; here the header is rewritten
 * in place and the metadata is never touched.
 *
 * Plain: a frame eth_input's fast check accepts as IPv4 (valid header without options) or IPv6 (valid header, neither
 * address multicast, link-local or in ::/64: ip6_plain_ok()), for the interface's MAC, in a VRF with no input and no
 * forwarding feature of its family, to a next hop that forwards on a device port (gateway, neighbour or connected)
 * whose neighbour is resolved, on an interface that is up, with TTL / hop limit left, within the MTU, and leaving
 * with an L2 header as long as the one it came with. Anything else (a punt, an ICMP error, a fragment, a leak, a
 * tunnel, a VLAN added or removed) goes to ip4_lookup / ip6_lookup as if the express path did not exist: the full
 * path decides it and names every drop. The express path never drops.
 *
 * It is off while anything must see the packet at each node (dp.express_off): a capture or a trace, the node
 * timing of `graph profile on`, or the operator's `graph express off`.
 */
#ifndef NPSGW_EXPRESS_H
#define NPSGW_EXPRESS_H

#include "dataplane/fib.h"
#include "dataplane/nodes/ip4_util.h"
#include "dataplane/nodes/l2_rewrite.h"

/*
 * The frames of one family a chunk of a burst gives the express path (nothing of them written yet), in arrays the
 * passes read in order: the frame, its lengths (IP packet length | L2 header length << 16: the frame may carry
 * padding), its destination and next hop. The interface and VRF are per run of frames of one interface (a burst is
 * usually one).
 */
struct xp_run {
	uint16_t start; /* index of its first frame; it ends where the next run starts */
	uint16_t in_iface;
	uint32_t vrf;
};

struct xp_burst {
	uint16_t n, n_runs;
	struct rte_mbuf *m[RTE_GRAPH_BURST_SIZE];
	uint32_t len[RTE_GRAPH_BURST_SIZE];
	union {
		uint32_t dst[RTE_GRAPH_BURST_SIZE];      /* IPv4, host order */
		uint8_t dst6[RTE_GRAPH_BURST_SIZE][16]; /* IPv6 */
	};
	uint64_t nh[RTE_GRAPH_BURST_SIZE + 1]; /* + XP_NH_END after the last */
	struct xp_run run[RTE_GRAPH_BURST_SIZE];
};

#define XP_L2_SHIFT 16
#define XP_NH_END UINT64_MAX /* no route lookup returns it */

static inline bool express_on(void)
{
	return __atomic_load_n(&dp.express_off, __ATOMIC_RELAXED) == 0;
}

/* The frames added from now on are in_iface's (in VRF vrf). */
static inline void xp_run_start(struct xp_burst *x, uint16_t in_iface, uint32_t vrf)
{
	if (x->n_runs > 0 && x->run[x->n_runs - 1].in_iface == in_iface)
		return;
	if (x->n_runs > 0 && x->run[x->n_runs - 1].start == x->n)
		x->n_runs--; /* the previous run got no frame */
	x->run[x->n_runs++] = (struct xp_run){.start = x->n, .in_iface = in_iface, .vrf = vrf};
}

static inline uint16_t xp_run_end(const struct xp_burst *x, uint16_t r)
{
	return r + 1 < x->n_runs ? x->run[r + 1].start : x->n;
}

/* The route lookups: one bulk lookup per run. */
static inline void xp_lookup(struct xp_burst *x, bool ip6)
{
	for (uint16_t r = 0; r < x->n_runs; r++) {
		uint16_t start = x->run[r].start, end = xp_run_end(x, r);
		if (start == end)
			continue;
		const struct vrf *v = vrf_get(x->run[r].vrf);
		if (ip6) {
			const struct fib6 *f = v ? __atomic_load_n(&v->fib6, __ATOMIC_ACQUIRE) : NULL;
			if (likely(f != NULL)) {
				fib6_lookup_bulk(f, &x->dst6[start], &x->nh[start], end - start);
				continue;
			}
		} else {
			const struct fib4 *f = v ? __atomic_load_n(&v->fib4, __ATOMIC_ACQUIRE) : NULL;
			if (likely(f != NULL)) {
				fib4_lookup_bulk(f, &x->dst[start], &x->nh[start], end - start);
				continue;
			}
		}
		for (uint16_t i = start; i < end; i++)
			x->nh[i] = NH_NONE;
	}
}

/*
 * Resolve next hop nh_idx for a run of express frames (rw_hop_resolve, on eth_input's own port edges); false when
 * it does not forward on a device port with its neighbour known and the interface up.
 */
static inline bool xp_hop_resolve(struct rw_hop *h, struct iface_counters *stats, uint32_t nh_idx, uint64_t now,
				  bool ip6)
{
	const struct nexthop *nh = &dp.nhs[nh_idx];
	bool forwards = nh->type == NH_T_GATEWAY || nh->type == NH_T_NEIGH || nh->type == NH_T_CONNECTED;
	if (!forwards || __atomic_load_n(&nh->tunnel_out, __ATOMIC_RELAXED) != 0 ||
	    !rw_hop_resolve(h, stats, nh_idx, now, eth_input_tx_edge, ip6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4))
		return false;
	if (unlikely(h->tunnel)) {
		h->nh = UINT32_MAX;
		return false;
	}
	return true;
}

/* Hand frame k to the full path as eth_input's fast check would have: metadata written, L2 and padding stripped. */
static inline void xp_to_full_path(const struct xp_burst *x, uint16_t k)
{
	uint16_t r = x->n_runs - 1;
	while (x->run[r].start > k)
		r--;
	struct rte_mbuf *m = x->m[k];
	struct pkt_meta *pm = pkt_meta(m);
	pm->in_iface = x->run[r].in_iface;
	pm->vrf = x->run[r].vrf;
	pm->flags = PKT_F_META | PKT_F_L3;
	uint16_t l3_len = (uint16_t)x->len[k];
	m->data_off += x->len[k] >> XP_L2_SHIFT;
	m->data_len = l3_len;
	m->pkt_len = l3_len;
}

/*
 * The run of frames from k on whose next hop is the one hop resolves, forwarded into the stream *out of its port's
 * edge, which it moves on (those that do not fit, too big or without TTL left, go through b to the full path,
 * counted in *full). Returns the first frame of another next hop. l2_len (the hop's L2 header length) and ip6:
 * constants in each of the four copies xp_send_run() calls. The hop's header and MTU are kept in locals (registers):
 * the packet stores could otherwise alias them.
 */
static __rte_always_inline unsigned xp_send_run_l2(struct rte_graph *graph, struct rte_node *node,
						   struct node_batch *b, rte_edge_t full_path_edge, struct xp_burst *x,
						   size_t k, struct rw_hop *hop, uint32_t *full, void ***out,
						   const unsigned l2_len, const bool ip6)
{
	const uint64_t nh = x->nh[k];
	uint64_t macs;            /* the hop's L2 header: bytes 0-7, 8-11, 12-15 (the 802.1Q tag) */
	uint32_t macs_hi, tag;
	memcpy(&macs, &hop->l2.bytes[0], sizeof(macs));
	memcpy(&macs_hi, &hop->l2.bytes[8], sizeof(macs_hi));
	memcpy(&tag, &hop->l2.bytes[12], sizeof(tag));
	const uint32_t mtu = hop->mtu;
	const uint32_t l2_shifted = l2_len << XP_L2_SHIFT;
	void **const to = *out;
	void **next = to;
	uint64_t bytes = 0;
	for (; x->nh[k] == nh; k++) { /* x->nh[x->n] ends the last run */
		struct rte_mbuf *m = x->m[k];
		uint32_t l3_len = x->len[k] - l2_shifted; /* beyond the MTU too when the L2 lengths differ */
		uint8_t *eh = rte_pktmbuf_mtod(m, uint8_t *);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + l2_len);
		struct rte_ipv6_hdr *ip6h = (struct rte_ipv6_hdr *)(eh + l2_len);
		if (unlikely(l3_len > mtu || (ip6 ? ip6h->hop_limits : ip->time_to_live) <= 1)) {
			(*full)++;
			xp_to_full_path(x, k);
			batch_add(graph, node, b, full_path_edge, m);
			continue;
		}
		/* The EtherType (or the tag's inner one) is the family's already: the addresses, and the tag if any. */
		memcpy(eh, &macs, sizeof(macs));
		memcpy(eh + 8, &macs_hi, sizeof(macs_hi));
		if (l2_len != RTE_ETHER_HDR_LEN)
			memcpy(eh + 12, &tag, sizeof(tag));
		if (ip6)
			ip6h->hop_limits--;
		else
			ttl_decrement(ip);
		uint32_t len = l2_len + l3_len; /* no more than the frame had: 16 bits */
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		bytes += len;
		*next++ = m;
	}
	*out = next;
	hop->packets += (uint32_t)(next - to);
	hop->bytes += bytes;
	return k;
}

/* The four copies (L2 length, family), out of line: the loop gets the registers to itself. */
#define XP_SEND_RUN_COPY(name, l2_len, ip6)                                                                            \
	static __rte_noinline unsigned name(struct rte_graph *graph, struct rte_node *node, struct node_batch *b,     \
					    rte_edge_t full_path_edge, struct xp_burst *x, unsigned k,               \
					    struct rw_hop *hop, uint32_t *full, void ***out)                         \
	{                                                                                                              \
		return xp_send_run_l2(graph, node, b, full_path_edge, x, k, hop, full, out, l2_len, ip6);              \
	}
XP_SEND_RUN_COPY(xp_send_run_untagged, RTE_ETHER_HDR_LEN, false)
XP_SEND_RUN_COPY(xp_send_run_tagged, RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr), false)
XP_SEND_RUN_COPY(xp6_send_run_untagged, RTE_ETHER_HDR_LEN, true)
XP_SEND_RUN_COPY(xp6_send_run_tagged, RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr), true)

static inline unsigned xp_send_run(struct rte_graph *graph, struct rte_node *node, struct node_batch *b,
				   rte_edge_t full_path_edge, struct xp_burst *x, unsigned k, struct rw_hop *hop,
				   uint32_t *full, void ***out, bool ip6)
{
	if (likely(hop->l2_len == RTE_ETHER_HDR_LEN))
		return (ip6 ? xp6_send_run_untagged : xp_send_run_untagged)(graph, node, b, full_path_edge, x, k, hop,
									    full, out);
	return (ip6 ? xp6_send_run_tagged : xp_send_run_tagged)(graph, node, b, full_path_edge, x, k, hop, full, out);
}

/*
 * The express frames of a chunk, of one family (ip6), looked up and forwarded to their ports, a run of one next hop
 * at a time (node: eth_input, with its port edges); those the express path does not take to the end go, as the full
 * path's, through b to full_path_edge (ip4_lookup or ip6_lookup). The stream of a port's edge stays open while the
 * runs go to that port (next hops that alternate on one port, as on VLAN sub-interfaces, share it).
 */
static inline void xp_send(struct rte_graph *graph, struct rte_node *node, struct node_batch *b,
			   rte_edge_t full_path_edge, struct xp_burst *x, bool ip6)
{
	struct worker *w = node_worker(node);
	struct rw_hop hop = {.nh = UINT32_MAX};
	uint64_t unusable = XP_NH_END; /* the last next hop xp_hop_resolve() refused: not asked again */
	uint32_t full = 0;             /* frames to the full path */
	void **out_start = NULL, **out = NULL; /* the open stream (none: NULL) and where its next frame goes */
	rte_edge_t out_edge = 0;

	xp_lookup(x, ip6);
	x->nh[x->n] = XP_NH_END;
	for (unsigned k = 0; k < x->n;) {
		uint64_t nh = x->nh[k];
		if (nh != unusable && xp_hop_resolve(&hop, w->ifc_stats, (uint32_t)nh, w->now_ms, ip6)) {
			if (out == NULL || hop.edge != out_edge) {
				if (out != NULL)
					rte_node_next_stream_put(graph, node, out_edge, (uint16_t)(out - out_start));
				out_start = out = rte_node_next_stream_get(graph, node, hop.edge, x->n - k);
				out_edge = hop.edge;
			}
			k = xp_send_run(graph, node, b, full_path_edge, x, k, &hop, &full, &out, ip6);
			continue;
		}
		unusable = nh;
		full++;
		xp_to_full_path(x, k);
		batch_add(graph, node, b, full_path_edge, x->m[k]);
		k++;
	}
	if (out != NULL)
		rte_node_next_stream_put(graph, node, out_edge, (uint16_t)(out - out_start));
	w->pkts_express += x->n - full;
	rw_hop_flush(&hop, w->ifc_stats, w->now_ms);
}

#endif
