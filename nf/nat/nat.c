/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT's running state and its registry hooks (nf/nf.h): boot sizing of the per-worker tables (nat_int.h, "what
 * the control side sets up", 1), apply, export, interface changes, poll (log draining, retiring drained public
 * addresses), counters, flush and shutdown. Control thread only; the workers read `nat` under RCU.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "lib/conf/conf_ext.h"
#include "nf/nat/nat_cp.h"
#include "nf/nat/nat_engine.h"

struct nat_state nat;

static uint32_t boot_max_sessions;
static uint64_t last_drain_check_ms;

_Static_assert(sizeof(struct nat_log_rec) % 4 == 0, "rte_ring elements are a multiple of 4 bytes");

uint32_t nat_boot_max_sessions(void)
{
	return boot_max_sessions;
}

static void workers_free(void)
{
	for (unsigned i = 0; nat.workers != NULL && i < nat.n_workers; i++) {
		dp_handoff_ring_unregister(nat.workers[i].handoff);
		nat_worker_free(&nat.workers[i]);
	}
	rte_free(nat.workers);
	nat.workers = NULL;
	rte_free(nat.tenants);
	nat.tenants = NULL;
}

/* Every worker's tables on the socket of its lcore; nat.workers is published last. */
static int workers_create(const struct nat_conf *c, char *err, size_t errlen)
{
	unsigned n = dp.n_workers;
	struct nat_worker *ws = rte_zmalloc("nat-workers", sizeof(*ws) * n, RTE_CACHE_LINE_SIZE);
	nat.tenants = rte_zmalloc("nat-tenants", sizeof(*nat.tenants) * dp.max_vrfs, 0);
	if (ws == NULL || nat.tenants == NULL) {
		rte_free(ws);
		snprintf(err, errlen, "out of memory for the NAT tables");
		return ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		int socket = (int)rte_lcore_to_socket_id(dp.workers[i].lcore);
		if (nat_worker_create(&ws[i], i, n, socket, &c->sessions) != 0) {
			snprintf(err, errlen,
				 "worker %u: cannot allocate the NAT tables for %u sessions (%u per worker, %u bytes "
				 "each and more for mappings and subscribers): raise eal.memory_mb or lower "
				 "nat.sessions.max",
				 i, c->sessions.max_sessions, (c->sessions.max_sessions + n - 1) / n,
				 ct_bytes_per_session());
			for (unsigned k = 0; k < i; k++)
				nat_worker_free(&ws[k]);
			rte_free(ws);
			return ENOMEM;
		}
	}
	for (unsigned i = 0; i < n; i++)
		dp_handoff_ring_register(ws[i].handoff); /* grace periods wait for packets on it (dp_synchronize) */
	nat.n_workers = n;
	__atomic_store_n(&nat.workers, ws, __ATOMIC_RELEASE);
	return 0;
}

int nat_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	int slot = conf_ext_slot("nat");
	const struct nat_conf *c = slot >= 0 ? conf->ext[slot] : NULL;
	memset(&nat, 0, sizeof(nat));
	boot_max_sessions = 0;
	nat.feat_in2out = feat_index(FEAT_IP4_FWD, NODE_NAT_IN2OUT);
	nat.feat_out2in = feat_index(FEAT_IP4_IN, NODE_NAT_OUT2IN);
	nat.feat_hairpin = feat_index(FEAT_IP4_IN, NODE_NAT_HAIRPIN);
	if (c == NULL)
		return 0; /* no NAT at boot: nat.workers == NULL, the nodes pass everything */
	int rc = workers_create(c, err, errlen);
	if (rc) {
		workers_free();
		return rc;
	}
	boot_max_sessions = c->sessions.max_sessions;
	return 0;
}

int nat_nf_apply(const void *model, char *err, size_t errlen)
{
	return nat_cp_apply(model, err, errlen);
}

void *nat_nf_export(void)
{
	return nat.conf != NULL ? nat_conf_dup(nat.conf) : NULL;
}

/* VRF slots name tenants, pools' outside VRFs and the features: build everything again from the running model. */
void nat_nf_iface_changed(void)
{
	char err[CP_ERR_MAX];
	if (nat.conf == NULL)
		return;
	if (nat_cp_apply(nat.conf, err, sizeof(err)) != 0)
		fprintf(stderr, "npsd: nat: VRFs changed but the NAT state could not be rebuilt (the old one stays): %s\n",
			err);
}

void nat_nf_poll(uint64_t now_ms)
{
	nat_log_drain(512, true);
	if (nat.workers != NULL && now_ms - last_drain_check_ms >= NAT_DRAIN_CHECK_MS) {
		last_drain_check_ms = now_ms;
		nat_cp_drain_retire();
	}
}

void nat_nf_stats(struct ctl_reply *r)
{
	nat_stats_table(r);
}

void nat_nf_fini(void)
{
	nat_log_drain(NAT_LOG_RING_SIZE, false); /* the last records: syslog only */
	nat_cp_objects_free();
	workers_free();
	nat_conf_free(nat.conf);
	memset(&nat, 0, sizeof(nat));
	boot_max_sessions = 0;
}

int nat_cp_flush(uint32_t vrf, uint32_t wait_ms, uint64_t *removed, bool *complete, char *err, size_t errlen)
{
	uint64_t tickets[DP_MAX_WORKERS], capacity;
	struct ct_stats before, after;
	if (nat.workers == NULL) {
		snprintf(err, errlen, "NAT is not enabled (the boot configuration has no nat section)");
		return ENOTSUP;
	}
	nat_ct_stats_sum(&before, &capacity);
	for (unsigned w = 0; w < nat.n_workers; w++)
		tickets[w] = ct_flush_request(nat.workers[w].ct, vrf);
	uint64_t deadline = cp_now_ms() + wait_ms;
	unsigned done = 0;
	while (done < nat.n_workers) {
		for (done = 0; done < nat.n_workers && ct_flush_done(nat.workers[done].ct, tickets[done]); done++)
			;
		if (done < nat.n_workers && cp_now_ms() >= deadline)
			break;
		if (done < nat.n_workers)
			rte_delay_us_sleep(1000);
	}
	nat_ct_stats_sum(&after, &capacity);
	*removed = after.flushed - before.flushed;
	*complete = done == nat.n_workers;
	return 0;
}
