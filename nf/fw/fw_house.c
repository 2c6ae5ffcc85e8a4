/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fw_house: the firewall's per-worker source node (one in every worker graph). Each walk it moves the packets
 * other workers handed to this one (their sessions live here) into fw_ip4/fw_ip6, and once per millisecond it
 * expires sessions (and carries out flush requests: ct_expire) and fragment table entries. When the session wheel
 * falls behind the clock (more sessions due than one call's budget: short timeouts under a high new-flow rate), it
 * expires every loop with a larger budget until it has caught up, so that expiry keeps pace with any session
 * rate the worker can open. Idle, it costs two loads and a compare.
 */
#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/nodes/nodes.h"
#include "nf/fw/fw_int.h"

#define FW_EXPIRE_BUDGET 256          /* sessions expired per millisecond when the wheel keeps up */
#define FW_EXPIRE_CATCHUP_BUDGET 2048 /* per loop while it is behind the clock */

enum {
	HOUSE_NEXT_FW4,
	HOUSE_NEXT_FW6,
	HOUSE_NEXT_DROP_NO_FIRST,
	HOUSE_NEXT_COUNT
};

static inline rte_edge_t edge_of(void *m)
{
	return (*rte_pktmbuf_mtod((struct rte_mbuf *)m, const uint8_t *) >> 4) == 6 ? HOUSE_NEXT_FW6 : HOUSE_NEXT_FW4;
}

/* Hand-offs (data at the L3 header, as fw_ip4/fw_ip6 left them): by IP version, in runs per edge. */
static uint16_t house_handoff(struct rte_graph *graph, struct rte_node *node, struct fw_worker *fww)
{
	void *m[RTE_GRAPH_BURST_SIZE];
	unsigned n = rte_ring_sc_dequeue_burst(fww->handoff, m, RTE_GRAPH_BURST_SIZE, NULL);
	for (unsigned a = 0; a < n;) {
		rte_edge_t e = edge_of(m[a]);
		unsigned b = a + 1;
		while (b < n && edge_of(m[b]) == e)
			b++;
		rte_node_enqueue(graph, node, e, &m[a], (uint16_t)(b - a));
		a = b;
	}
	fww->cnt[FW_CNT_handoff_in] += n;
	return (uint16_t)n;
}

static uint16_t house_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *w = node_worker(node);
	struct fw_worker *workers = __atomic_load_n(&fw.workers, __ATOMIC_ACQUIRE);
	if (workers == NULL || w->index >= fw.n_workers)
		return 0;
	struct fw_worker *fww = &workers[w->index];
	uint16_t moved = 0;
	if (fww->handoff != NULL && !rte_ring_empty(fww->handoff))
		moved = house_handoff(graph, node, fww);
	uint64_t now = w->now_ms;
	if (unlikely(fww->expire_behind) && fww->ct != NULL) {
		ct_expire(fww->ct, now, FW_EXPIRE_CATCHUP_BUDGET);
		fww->expire_behind = ct_expire_behind(fww->ct, now);
	}
	if (likely(now == fww->last_expire_ms))
		return moved;
	fww->last_expire_ms = now;
	if (fww->ct != NULL && !fww->expire_behind) {
		ct_expire(fww->ct, now, FW_EXPIRE_BUDGET);
		fww->expire_behind = ct_expire_behind(fww->ct, now);
	}
	if (fww->frags != NULL) {
		struct rte_mbuf *dropped[FW_FRAG_EXPIRE_MAX];
		unsigned n = fw_frag_expire(fww->frags, now, dropped);
		if (n > 0) {
			rte_node_enqueue(graph, node, HOUSE_NEXT_DROP_NO_FIRST, (void **)dropped, (uint16_t)n);
			moved += (uint16_t)n;
		}
	}
	return moved;
}

static struct rte_node_register house_node = {
	.name = NODE_FW_HOUSE,
	.flags = RTE_NODE_SOURCE_F,
	.process = house_process,
	.init = node_worker_init,
	.nb_edges = HOUSE_NEXT_COUNT,
	.next_nodes =
		{
			[HOUSE_NEXT_FW4] = NODE_FW4,
			[HOUSE_NEXT_FW6] = NODE_FW6,
			[HOUSE_NEXT_DROP_NO_FIRST] = DROP_NODE(fw_frag_no_first),
		},
};
RTE_NODE_REGISTER(house_node);
