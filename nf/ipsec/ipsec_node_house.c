/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec_house: IPsec's per-worker source node. Each walk it feeds the ESP packets other workers handed to this one
 * (the owner of their inbound SA's anti-replay window) into ipsec_in, in ring order. Idle, it costs two loads and a
 * compare. Also the workers' engines (ipsec_worker_init/fini: they need the core's hand-off ring registry).
 */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_graph_worker.h>
#include <rte_ring.h>

#include "nf/ipsec/ipsec_node.h"
#include "nf/nf_util.h"

enum {
	HOUSE_NEXT_IN,
	HOUSE_NEXT_COUNT
};

static uint16_t house_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ipsec_worker *w = ipsec_worker_of(node_worker(node));
	if (w == NULL || rte_ring_empty(w->handoff))
		return 0;
	void *m[RTE_GRAPH_BURST_SIZE];
	unsigned n = rte_ring_sc_dequeue_burst(w->handoff, m, RTE_GRAPH_BURST_SIZE, NULL);
	if (n > 0) {
		rte_node_enqueue(graph, node, HOUSE_NEXT_IN, m, (uint16_t)n);
		w->cnt[IPSEC_CNT_handoff_in] += n;
	}
	return (uint16_t)n;
}

static struct rte_node_register ipsec_house_node = {
	.name = NODE_IPSEC_HOUSE,
	.flags = RTE_NODE_SOURCE_F,
	.process = house_process,
	.init = node_worker_init,
	.nb_edges = HOUSE_NEXT_COUNT,
	.next_nodes = {[HOUSE_NEXT_IN] = NODE_IPSEC_IN},
};
RTE_NODE_REGISTER(ipsec_house_node);

int ipsec_worker_init(struct ipsec_worker *w, unsigned index, int socket, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->mb = ipsec_crypto_mgr_create();
	if (w->mb == NULL) {
		snprintf(err, errlen, "ipsec: intel-ipsec-mb cannot create the manager of worker %u", index);
		return -1;
	}
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "ipsec_ho_%u", index);
	w->handoff = nf_handoff_ring_create(name, IPSEC_HANDOFF_RING_SIZE, socket);
	if (w->handoff == NULL) {
		snprintf(err, errlen, "ipsec: cannot create ring %s: %s", name, rte_strerror(rte_errno));
		ipsec_crypto_mgr_free(w->mb);
		w->mb = NULL;
		return -1;
	}
	/* Workers start evenly apart in the 16-bit ID space (index << 12 overflowed past 16 workers: collisions). */
	unsigned n = ipsec.n_workers != 0 ? ipsec.n_workers : IPSEC_MAX_WORKERS;
	w->ip_id = index * (65536u / n);
	w->round = 1;
	return 0;
}

void ipsec_worker_fini(struct ipsec_worker *w)
{
	ipsec_crypto_mgr_free(w->mb);
	nf_handoff_ring_free(w->handoff);
	w->mb = NULL;
	w->handoff = NULL;
}
