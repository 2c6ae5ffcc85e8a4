/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat4_hairpin: hairpinning (RFC 4787 REQ-9) decided before the route lookup, on the IPv4 input arc of each NAT
 * tenant VRF with hairpinning on. The pool's VRF usually blackholes its own prefix (or has no route for it), so a
 * tenant's packet to a public address would die in ip4_lookup (following the tenant's leak into the pool's VRF)
 * before nat4_in2out on the forward arc could see it.
 *
 * A packet to a public address of the tenant's pool goes to nat4_in2out marked as a hairpin entry
 * (pkt_meta.nh = NAT_NH_HAIRPIN: no next hop yet): its source is translated there (on the subscriber's worker),
 * then nat4_out2in translates its destination (on the public port's worker, with the mapping's filtering) and it
 * is routed in the target realm's VRF. Whether a mapping holds that public port is known only to the worker owning
 * it: a packet to a port with none passes out2in untouched (source translated) and meets the pool VRF's route, as
 * unsolicited traffic from outside does. Everything else goes on along the arc.
 *
 * Hot path: one address-index probe per packet of such a VRF; no lock, no allocation.
 */
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "nf/nat/nat_engine.h"
#include "nf/nat/nat_xlat.h"

enum {
	HP_NEXT_IN2OUT,
	HP_NEXT_COUNT /* the feature arc's edges follow (feat_edges_create) */
};

static inline rte_edge_t pass_edge(uint32_t vrf)
{
	return feat_next_edge(FEAT_IP4_IN, (unsigned)nat.feat_hairpin + 1, vrf);
}

/* Is m (of a tenant VRF, data at its IPv4 header, validated by ip4_input) addressed to a public address? */
static inline bool hairpin_dst(struct rte_mbuf *m, const struct nat_addr_index *ix)
{
	const struct pkt_meta *pm = pkt_meta(m);
	const struct nat_tenant *ten = nat_tenant_get(pm->vrf);
	if (ten == NULL || !ten->hairpinning || (pm->flags & PKT_F_LOCAL_ORIGIN))
		return false;
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	return nat_addr_lookup(ix, ten->out_vrf, csum_rd32(ip + 16)) != NAT_NIL;
}

#define HP_CHUNK 64

static uint16_t hairpin_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	const struct nat_addr_index *ix = __atomic_load_n(&nat.addr_index, __ATOMIC_ACQUIRE);
	bool on = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE) != NULL && ix != NULL;
	rte_edge_t e[HP_CHUNK];
	/* Usually every packet goes on along the arc: while they all take one edge, they are not enqueued (held back
	 * packets are objs[0, held)); at the end the whole stream moves to that node at once. */
	rte_edge_t first = RTE_EDGE_ID_INVALID;
	uint16_t held = 0;
	for (uint16_t d = 0; d < nb_objs; d += HP_CHUNK) {
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - d), (uint16_t)HP_CHUNK);
		bool same = held == d;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[d + i];
			if (on && hairpin_dst(m, ix)) {
				pkt_meta(m)->nh = NAT_NH_HAIRPIN;
				e[i] = HP_NEXT_IN2OUT;
			} else {
				e[i] = pass_edge(pkt_meta(m)->vrf);
			}
			if (first == RTE_EDGE_ID_INVALID)
				first = e[i];
			same = same && e[i] == first;
		}
		if (same) {
			held = (uint16_t)(d + n);
			continue;
		}
		if (held > 0) {
			rte_node_enqueue(graph, node, first, objs, held);
			held = 0;
		}
		for (uint16_t a = 0; a < n;) { /* runs of one edge, enqueued together */
			uint16_t b = a + 1;
			while (b < n && e[b] == e[a])
				b++;
			rte_node_enqueue(graph, node, e[a], &objs[d + a], (uint16_t)(b - a));
			a = b;
		}
	}
	if (held > 0)
		rte_node_next_stream_move(graph, node, first); /* held == nb_objs: every packet */
	return nb_objs;
}

static struct rte_node_register nat_hairpin_node = {
	.name = NODE_NAT_HAIRPIN,
	.process = hairpin_process,
	.nb_edges = HP_NEXT_COUNT,
	.next_nodes =
		{
			[HP_NEXT_IN2OUT] = NODE_NAT_IN2OUT,
		},
};
RTE_NODE_REGISTER(nat_hairpin_node);
