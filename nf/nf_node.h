/* SPDX-License-Identifier: BSD-3-Clause */
/* Fast-path helpers the network functions' nodes share: sending a chunk's outputs in runs, handing packets off. */
#ifndef NPSGW_NF_NODE_H
#define NPSGW_NF_NODE_H

#include <stdbool.h>

#include <rte_graph_worker.h>
#include <rte_ring.h>

/* Send cnt packets m[i] to edges e[i], one enqueue per run of the same edge. */
static inline void nf_flush_runs(struct rte_graph *graph, struct rte_node *node, void **m, const rte_edge_t *e,
				 unsigned cnt)
{
	for (unsigned a = 0; a < cnt;) {
		unsigned b = a + 1;
		while (b < cnt && e[b] == e[a])
			b++;
		if (b - a == 1)
			rte_node_enqueue_x1(graph, node, e[a], m[a]);
		else
			rte_node_enqueue(graph, node, e[a], &m[a], (uint16_t)(b - a));
		a = b;
	}
}

/*
 * Hand n packets to their owner workers: one burst per owner onto ring_of(owner) (multi-producer), in arrival order
 * per owner. Returns how many were queued; those that did not fit (a full ring) go to unsent[] (*n_unsent), for the
 * caller's drop node. n <= 64.
 */
static inline unsigned nf_hand_off(struct rte_mbuf *const *pkts, const uint16_t *owner, unsigned n,
				   struct rte_ring *(*ring_of)(unsigned owner), void **unsent, unsigned *n_unsent)
{
	bool taken[64] = {false};
	void *burst[64];
	unsigned queued = 0;
	*n_unsent = 0;
	for (unsigned k0 = 0; k0 < n; k0++) {
		if (taken[k0])
			continue;
		unsigned nb = 0;
		for (unsigned k = k0; k < n; k++)
			if (!taken[k] && owner[k] == owner[k0]) {
				taken[k] = true;
				burst[nb++] = pkts[k];
			}
		unsigned sent = rte_ring_mp_enqueue_burst(ring_of(owner[k0]), burst, nb, NULL);
		queued += sent;
		for (unsigned k = sent; k < nb; k++)
			unsent[(*n_unsent)++] = burst[k];
	}
	return queued;
}

#endif
