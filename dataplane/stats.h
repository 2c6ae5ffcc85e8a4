/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters gathered on the control thread: per-node graph statistics summed over workers, drops by reason. */
#ifndef NPSGW_STATS_H
#define NPSGW_STATS_H

#include <stdint.h>

#include <rte_graph.h>

struct node_stat {
	char name[RTE_NODE_NAMESIZE];
	uint64_t calls, packets, cycles;
};

/* Fill up to max entries, one per node, summed over all workers (or over one: worker >= 0). Returns the count. */
int stats_nodes(int worker, struct node_stat *out, int max);
/* Packets dropped for a reason: its drop node plus the control thread's own drops. */
uint64_t stats_drop(const struct node_stat *nodes, int n, int reason);
void stats_free(void);

#endif
