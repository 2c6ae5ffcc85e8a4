/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec_house: IPsec's per-worker source node. Each walk it feeds the ESP packets other workers handed to this one
 * (the owner of their inbound SA's anti-replay window, or of their outer fragments' reassembly) into ipsec_in, in
 * ring order; every 10 ms it gives up outer datagrams whose reassembly timed out (their fragments to
 * drop_ipsec_reass_timeout). Idle, it costs a few loads and compares. Also the workers' engines and tables
 * (ipsec_worker_init/fini: they need the core's hand-off ring registry).
 */
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_graph_worker.h>
#include <rte_ring.h>

#include "nf/ipsec/ipsec_node.h"
#include "nf/nf_reass.h"
#include "nf/nf_util.h"

#define HOUSE_PERIOD_MS 10

enum {
	HOUSE_NEXT_IN,
	HOUSE_NEXT_DROP_REASS_TIMEOUT,
	HOUSE_NEXT_COUNT
};

/* Datagrams past their reassembly timeout: their fragments dropped (counted). */
static uint16_t expire_reassemblies(struct rte_graph *graph, struct rte_node *node, struct ipsec_worker *w,
				    uint64_t now_ms)
{
	if (w->reass == NULL || now_ms - w->last_house_ms < HOUSE_PERIOD_MS)
		return 0;
	w->last_house_ms = now_ms;
	nf_reass_expire(w->reass, &w->dr, rte_rdtsc());
	uint16_t n = (uint16_t)w->dr.cnt;
	if (n > 0) {
		rte_node_enqueue(graph, node, HOUSE_NEXT_DROP_REASS_TIMEOUT, (void **)w->dr.row, n);
		w->dr.cnt = 0;
	}
	return n;
}

static uint16_t house_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *wk = node_worker(node);
	struct ipsec_worker *w = ipsec_worker_of(wk);
	if (w == NULL)
		return 0;
	uint16_t moved = expire_reassemblies(graph, node, w, wk->now_ms);
	if (rte_ring_empty(w->handoff))
		return moved;
	void *m[RTE_GRAPH_BURST_SIZE];
	unsigned n = rte_ring_sc_dequeue_burst(w->handoff, m, RTE_GRAPH_BURST_SIZE, NULL);
	if (n > 0) {
		rte_node_enqueue(graph, node, HOUSE_NEXT_IN, m, (uint16_t)n);
		w->cnt[IPSEC_CNT_handoff_in] += n;
	}
	return (uint16_t)(moved + n);
}

static struct rte_node_register ipsec_house_node = {
	.name = NODE_IPSEC_HOUSE,
	.flags = RTE_NODE_SOURCE_F,
	.process = house_process,
	.init = node_worker_init,
	.nb_edges = HOUSE_NEXT_COUNT,
	.next_nodes =
		{
			[HOUSE_NEXT_IN] = NODE_IPSEC_IN,
			[HOUSE_NEXT_DROP_REASS_TIMEOUT] = DROP_NODE(ipsec_reass_timeout),
		},
};
RTE_NODE_REGISTER(ipsec_house_node);

int ipsec_worker_init(struct ipsec_worker *w, unsigned index, int socket, uint32_t reass_max, uint64_t reass_cycles,
		      char *err, size_t errlen)
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
	if (reass_max > 0 && (w->reass = nf_reass_create(reass_max, reass_cycles, socket)) == NULL) {
		snprintf(err, errlen,
			 "ipsec: worker %u: cannot allocate the reassembly table (%u datagrams): raise eal.memory_mb or "
			 "lower ipsec.reassembly_max", index, reass_max);
		nf_handoff_ring_free(w->handoff);
		ipsec_crypto_mgr_free(w->mb);
		w->handoff = NULL;
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
	/* held fragments go back to the pool (the workers are stopped: nothing counts them any more) */
	rte_ip_frag_free_death_row(&w->dr, 0);
	nf_reass_free(w->reass);
	w->mb = NULL;
	w->handoff = NULL;
	w->reass = NULL;
}
