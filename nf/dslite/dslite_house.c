/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dslite_house: DS-Lite's per-worker source node (the tunnel packets other workers hand to this one come in through
 * nat_house: dslite_int.h). Every 10 ms it gives up reassemblies past their timeout (their fragments to
 * drop_dslite_reass_timeout) and recycles B4 entries whose subscriber is gone. Idle, it costs two loads and a
 * compare.
 */
#include <rte_cycles.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include "dataplane/nodes/nodes.h"
#include "nf/dslite/dslite_int.h"
#include "nf/nf_reass.h"

#define HOUSE_PERIOD_MS 10

enum {
	HOUSE_NEXT_DROP_REASS_TIMEOUT,
	HOUSE_NEXT_COUNT
};

static uint16_t house_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *w = node_worker(node);
	struct dslite_worker *workers = __atomic_load_n(&dsl.workers, __ATOMIC_ACQUIRE);
	if (workers == NULL || w->index >= dsl.n_workers)
		return 0;
	struct dslite_worker *dw = &workers[w->index];
	uint16_t moved = 0;
	uint64_t now = w->now_ms;
	if (likely(now - dw->last_house_ms < HOUSE_PERIOD_MS))
		return moved;
	dw->last_house_ms = now;
	if (dw->reass != NULL) {
		nf_reass_expire(dw->reass, &dw->dr, rte_rdtsc());
		if (dw->dr.cnt > 0) {
			rte_node_enqueue(graph, node, HOUSE_NEXT_DROP_REASS_TIMEOUT, (void **)dw->dr.row, (uint16_t)dw->dr.cnt);
			moved += (uint16_t)dw->dr.cnt;
			dw->dr.cnt = 0;
		}
	}
	struct nat_worker *nws = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	dslite_b4_reap(dw, nws != NULL && w->index < nat.n_workers ? &nws[w->index] : NULL, now);
	return moved;
}

static struct rte_node_register dslite_house_node = {
	.name = NODE_DSLITE_HOUSE,
	.flags = RTE_NODE_SOURCE_F,
	.process = house_process,
	.init = node_worker_init,
	.nb_edges = HOUSE_NEXT_COUNT,
	.next_nodes =
		{
			[HOUSE_NEXT_DROP_REASS_TIMEOUT] = DROP_NODE(dslite_reass_timeout),
		},
};
RTE_NODE_REGISTER(dslite_house_node);
