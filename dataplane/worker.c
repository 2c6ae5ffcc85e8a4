/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcores: walk the graph, report a quiescent state once per loop (so the control thread can reclaim old
 * tables), and on worker 0 also send what the control thread queued (ARP/NDP, released held packets).
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_graph_worker.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"

#define CTL_TX_BURST 32

static void drain_ctl_tx(const struct worker *w)
{
	struct rte_mbuf *m[CTL_TX_BURST];
	unsigned n = rte_ring_dequeue_burst(dp.ctl_txr, (void **)m, CTL_TX_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (rte_eth_tx_burst(m[i]->port, w->txq, &m[i], 1) != 1) {
			rte_pktmbuf_free(m[i]);
			dp.ctl_drops[DROP_tx_full]++; /* control-thread frames only; single writer: worker 0 */
		}
	}
}

static int worker_main(void *arg)
{
	struct worker *w = arg;
	rte_rcu_qsbr_thread_register(dp.qs, w->index);
	rte_rcu_qsbr_thread_online(dp.qs, w->index);
	while (!__atomic_load_n(&dp.quit, __ATOMIC_RELAXED)) {
		w->now_ms = cp_now_ms();
		rte_graph_walk(w->graph);
		if (w->index == 0)
			drain_ctl_tx(w);
		rte_rcu_qsbr_quiescent(dp.qs, w->index);
	}
	rte_rcu_qsbr_thread_offline(dp.qs, w->index);
	rte_rcu_qsbr_thread_unregister(dp.qs, w->index);
	return 0;
}

int workers_start(char *err, size_t errlen)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp.n_workers);
	struct rte_rcu_qsbr *qs = rte_zmalloc("rcu-qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (qs == NULL || rte_rcu_qsbr_init(qs, dp.n_workers) != 0) {
		snprintf(err, errlen, "cannot set up RCU for %u workers", dp.n_workers);
		rte_free(qs);
		return ENOMEM;
	}
	/* Register all before any runs, so a synchronize never misses a worker that has not started yet. */
	for (unsigned i = 0; i < dp.n_workers; i++)
		rte_rcu_qsbr_thread_register(qs, i);
	dp.qs = qs;
	for (unsigned i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		w->now_ms = cp_now_ms();
		w->icmp_last_ms = w->now_ms;
		int rc = rte_eal_remote_launch(worker_main, w, w->lcore);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start worker %u on lcore %u: %s", i, w->lcore, strerror(-rc));
			return -rc;
		}
	}
	return 0;
}

void workers_stop(void)
{
	__atomic_store_n(&dp.quit, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	rte_free(dp.qs);
	dp.qs = NULL;
}

void dp_synchronize(void)
{
	if (dp.qs != NULL)
		rte_rcu_qsbr_synchronize(dp.qs, RTE_QSBR_THRID_INVALID);
}
