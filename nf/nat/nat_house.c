/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_house: NAT's per-worker source node (one in every worker graph). Each walk it feeds the packets other
 * workers handed to this one into nat4_in2out, nat4_out2in or (DS-Lite's tunnel packets) dslite_decap; once per
 * millisecond it expires sessions (and carries out flush requests), and releases the port blocks idle for
 * block_idle (log records). The fragment map needs no walk: its entries carry their expiry and are overwritten.
 * Idle, it costs two loads and a compare.
 */
#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_peek.h>

#include "dataplane/nodes/nodes.h"
#include "nf/nat/nat_engine.h"
#include "nf/nat/nat_xlat.h"

#define NAT_EXPIRE_BUDGET 256 /* sessions expired per millisecond at most */

enum {
	HOUSE_NEXT_IN2OUT,
	HOUSE_NEXT_OUT2IN,
	HOUSE_NEXT_COUNT
};

/*
 * Which node a handed-off packet came from: IPv6 ones are DS-Lite tunnel packets (dslite_decap, edge decap_edge);
 * out2in's are addressed to a public address of their VRF (the pool's, hairpinned ones included); in2out's are in
 * a tenant VRF, where no public address is indexed.
 */
static inline rte_edge_t edge_of(void *p, const struct nat_addr_index *ix, rte_edge_t decap)
{
	struct rte_mbuf *m = p;
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	if (unlikely((ip[0] >> 4) == 6))
		return decap;
	return nat_addr_lookup(ix, pkt_meta(m)->vrf, csum_rd32(ip + 16)) != NAT_NIL ? HOUSE_NEXT_OUT2IN
										      : HOUSE_NEXT_IN2OUT;
}

/* Will in2out send this packet on to out2in (a tenant's packet to a public address of its pool, hairpinning on)? */
static inline bool hairpins(void *p, const struct nat_addr_index *ix)
{
	struct rte_mbuf *m = p;
	const struct nat_tenant *ten = nat_tenant_get(pkt_meta(m)->vrf);
	return ten != NULL && ten->hairpinning &&
	       nat_addr_lookup(ix, ten->out_vrf, csum_rd32(rte_pktmbuf_mtod(m, const uint8_t *) + 16)) != NAT_NIL;
}

/*
 * Keep the ring's order across the two directions of a flow. The graph runs the nodes in the order they first
 * received packets in the walk (the house is a source node: its runs decide that order), and a node's packets form
 * one stream: [SYN-ACK (out2in), ACK (in2out), data (out2in)] fed in one walk would put the data before the ACK.
 * So per walk: a run for out2in, then at most one run for in2out, which ends the batch (in2out sends hairpinned
 * packets on to out2in: a later out2in run would overtake them). The in2out run also ends before its second
 * hairpinned packet: in2out would handle it before out2in handles the first one's inbound leg (A2 -> A's public
 * endpoint, then A -> A2's: A's reply would open A's session outbound and the inbound leg find it). The ring merges
 * the senders' rx bursts; a single worker sees that overtaking only within one rx burst. DS-Lite's tunnel packets are the in2out direction of their flows: a
 * dslite_decap run ends the batch as well. The rest stays on the ring (peek API: the consumer is single-threaded)
 * for the next walk.
 */
static uint16_t house_handoff(struct rte_graph *graph, struct rte_node *node, struct nat_worker *w)
{
	void *m[RTE_GRAPH_BURST_SIZE];
	unsigned n = rte_ring_dequeue_burst_start(w->handoff, m, RTE_GRAPH_BURST_SIZE, NULL);
	const struct nat_addr_index *ix = __atomic_load_n(&nat.addr_index, __ATOMIC_ACQUIRE);
	/* IPv6 only ever comes from dslite_decap, which enqueues nothing without the edge: the fallback is not taken */
	rte_edge_t decap = nat.has_decap_edge ? nat.decap_edge : HOUSE_NEXT_IN2OUT;
	unsigned a = 0;
	while (a < n) {
		rte_edge_t e = edge_of(m[a], ix, decap);
		unsigned b = a + 1;
		bool hp = e == HOUSE_NEXT_IN2OUT && hairpins(m[a], ix);
		for (; b < n && edge_of(m[b], ix, decap) == e; b++) {
			bool hp_b = e == HOUSE_NEXT_IN2OUT && hairpins(m[b], ix);
			if (hp && hp_b)
				break; /* a second hairpinned packet: in a later walk, after the first one's out2in */
			hp |= hp_b;
		}
		rte_node_enqueue(graph, node, e, &m[a], (uint16_t)(b - a));
		if (e == decap && nat.has_decap_edge)
			w->decap_handoff_in += b - a;
		else
			w->cnt[NAT_CNT_handoff_in] += b - a;
		a = b;
		if (e != HOUSE_NEXT_OUT2IN)
			break;
	}
	rte_ring_dequeue_finish(w->handoff, a);
	return (uint16_t)a;
}

static uint16_t house_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *wk = node_worker(node);
	struct nat_worker *workers = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	if (workers == NULL || wk->index >= nat.n_workers)
		return 0;
	struct nat_worker *w = &workers[wk->index];
	uint16_t moved = 0;
	if (w->handoff != NULL && !rte_ring_empty(w->handoff))
		moved = house_handoff(graph, node, w);
	uint64_t now = wk->now_ms;
	if (likely(now == w->last_house_ms))
		return moved;
	w->last_house_ms = now;
	if (w->ct != NULL)
		nat_house_tick(w, now, NAT_EXPIRE_BUDGET);
	return moved;
}

static struct rte_node_register nat_house_node = {
	.name = NODE_NAT_HOUSE,
	.flags = RTE_NODE_SOURCE_F,
	.process = house_process,
	.init = node_worker_init,
	.nb_edges = HOUSE_NEXT_COUNT,
	.next_nodes =
		{
			[HOUSE_NEXT_IN2OUT] = NODE_NAT_IN2OUT,
			[HOUSE_NEXT_OUT2IN] = NODE_NAT_OUT2IN,
		},
};
RTE_NODE_REGISTER(nat_house_node);
