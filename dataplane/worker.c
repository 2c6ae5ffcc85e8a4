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
#include "dataplane/graph_walk.h"

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
		graph_walk(w->graph, __atomic_load_n(&dp.graph_profile, __ATOMIC_RELAXED));
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
	fib4_compact_set_qs(qs);
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
	fib4_compact_set_qs(NULL);
	rte_free(dp.qs);
	dp.qs = NULL;
}

#define DP_MAX_HANDOFF_RINGS 256
static struct rte_ring *handoff_rings[DP_MAX_HANDOFF_RINGS];
static unsigned n_handoff_rings;

int dp_handoff_ring_register(struct rte_ring *r)
{
	if (n_handoff_rings == DP_MAX_HANDOFF_RINGS)
		return -1;
	handoff_rings[n_handoff_rings++] = r;
	return 0;
}

void dp_handoff_ring_unregister(struct rte_ring *r)
{
	for (unsigned i = 0; i < n_handoff_rings; i++)
		if (handoff_rings[i] == r) {
			handoff_rings[i] = handoff_rings[--n_handoff_rings];
			return;
		}
}

/* How long a grace period waits for the hand-off rings to drain before it gives up on a stuck worker. */
#define HANDOFF_DRAIN_MAX_MS 1000

void dp_synchronize(void)
{
	if (dp.qs == NULL)
		return;
	rte_rcu_qsbr_synchronize(dp.qs, RTE_QSBR_THRID_INVALID);
	/*
	 * A packet handed to another worker carries indexes (next hop, VRF) its sender read before the grace period,
	 * and waits on the ring across the quiescent states. Every such packet is on a ring by now (its sender went
	 * quiescent after queuing it): wait until the consumers took everything queued so far, then for the walks
	 * that took them to end.
	 */
	uint32_t snap[DP_MAX_HANDOFF_RINGS];
	bool pending = false;
	for (unsigned i = 0; i < n_handoff_rings; i++) {
		snap[i] = __atomic_load_n(&handoff_rings[i]->prod.tail, __ATOMIC_ACQUIRE);
		pending |= snap[i] != __atomic_load_n(&handoff_rings[i]->cons.tail, __ATOMIC_ACQUIRE);
	}
	if (!pending)
		return;
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * HANDOFF_DRAIN_MAX_MS / 1000;
	for (unsigned i = 0; i < n_handoff_rings; i++)
		while ((int32_t)(__atomic_load_n(&handoff_rings[i]->cons.tail, __ATOMIC_ACQUIRE) - snap[i]) < 0) {
			if (rte_get_timer_cycles() > deadline) {
				dp.ctl_counters[CTL_handoff_drain_timeout]++;
				break;
			}
			rte_pause();
		}
	rte_rcu_qsbr_synchronize(dp.qs, RTE_QSBR_THRID_INVALID);
}
