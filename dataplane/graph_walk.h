/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One pass over a worker's graph: the source nodes, then every node with packets pending, in order. It is
 * rte_graph_walk() with the node timing made a run-time choice: the per-node packet and call counts are always
 * kept (drop counters and `show stats` are made of them), the two TSC reads around every node call only while
 * profiling is on (`graph profile on`, the benchmarks). Reading the TSC costs about 25 cycles each time; with
 * eight node calls per walk of 32 packets that is ~10 cycles per packet, a tenth of a router's budget.
 */
#ifndef NPSGW_GRAPH_WALK_H
#define NPSGW_GRAPH_WALK_H

#include <rte_cycles.h>
#include <rte_graph_worker.h>

static inline void graph_walk(struct rte_graph *graph, bool timed)
{
	const rte_graph_off_t *cir_start = graph->cir_start;
	const rte_node_t mask = graph->cir_mask;
	uint32_t head = graph->head; /* negative offsets first: the source nodes sit before cir_start */

	while (likely(head != graph->tail)) {
		struct rte_node *node = (struct rte_node *)RTE_PTR_ADD(graph, cir_start[(int32_t)head++]);
		void **objs = node->objs;
		rte_prefetch0(objs);
		uint16_t done;
		if (unlikely(timed)) {
			uint64_t t0 = rte_rdtsc();
			done = node->process(graph, node, objs, node->idx);
			node->total_cycles += rte_rdtsc() - t0;
		} else {
			done = node->process(graph, node, objs, node->idx);
		}
		node->total_calls++;
		node->total_objs += done;
		node->idx = 0;
		if (likely((int32_t)head > 0))
			head &= mask;
	}
	graph->tail = 0;
}

#endif
