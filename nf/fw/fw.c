/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's running state and its registry hooks (nf/nf.h): boot sizing, apply, export, interface changes,
 * log draining, counters, shutdown. Control thread only; the workers read fw under RCU (fw_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "lib/conf/conf_ext.h"
#include "nf/nf_util.h"
#include "nf/fw/fw_cp.h"

struct fw_state fw;

static uint32_t boot_max_sessions;

_Static_assert(sizeof(struct fw_log_rec) % 4 == 0, "rte_ring elements are a multiple of 4 bytes");

uint32_t fw_boot_max_sessions(void)
{
	return boot_max_sessions;
}

int fw_features_resolve(char *err, size_t errlen)
{
	fw.feat4 = feat_index(FEAT_IP4_FWD, NODE_FW4);
	fw.feat6 = feat_index(FEAT_IP6_FWD, NODE_FW6);
	if (fw.feat4 >= 0 && fw.feat6 >= 0)
		return 0;
	snprintf(err, errlen, "firewall nodes %s/%s are not registered on the forwarding arcs", NODE_FW4, NODE_FW6);
	return EINVAL;
}

/* One worker's session table, rings and fragment table, on the socket of its lcore. */
static int worker_tables_create(unsigned i, const struct fw_conf *c, char *err, size_t errlen)
{
	struct fw_worker *w = &fw.workers[i];
	int socket = (int)rte_lcore_to_socket_id(dp.workers[i].lcore);
	struct ct_params p = c->sessions;
	char name[32];
	p.max_sessions = (c->sessions.max_sessions + fw.n_workers - 1) / fw.n_workers;
	snprintf(name, sizeof(name), "ct-w%u", i);
	if ((w->ct = ct_table_create(name, socket, &p)) == NULL) {
		snprintf(err, errlen,
			 "worker %u: cannot allocate a session table of %u sessions (%u bytes each): raise "
			 "eal.memory_mb or lower firewall.sessions.max",
			 i, p.max_sessions, ct_bytes_per_session());
		return ENOMEM;
	}
	snprintf(name, sizeof(name), "fw-handoff-w%u", i);
	w->handoff = nf_handoff_ring_create(name, FW_HANDOFF_RING_SIZE, socket);
	snprintf(name, sizeof(name), "fw-log-w%u", i);
	w->log = rte_ring_create_elem(name, sizeof(struct fw_log_rec), FW_LOG_RING_SIZE, socket,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->handoff == NULL || w->log == NULL) {
		snprintf(err, errlen, "worker %u: cannot allocate the firewall rings", i);
		return ENOMEM;
	}
	snprintf(name, sizeof(name), "fw-frag-w%u", i);
	if ((w->frags = fw_frag_create(name, FW_FRAG_DEFAULT_ENTRIES, socket)) == NULL) {
		snprintf(err, errlen, "worker %u: cannot allocate the firewall fragment table", i);
		return ENOMEM;
	}
	return 0;
}

int fw_tables_create(const struct fw_conf *c, char *err, size_t errlen)
{
	fw.n_workers = dp.n_workers;
	fw.vrfs = rte_zmalloc("fw-vrfs", sizeof(*fw.vrfs) * dp.max_vrfs, 0);
	fw.workers = rte_zmalloc("fw-workers", sizeof(*fw.workers) * fw.n_workers, RTE_CACHE_LINE_SIZE);
	fw.zone_of_iface = rte_zmalloc("fw-zones", dp.max_ifaces, 0);
	if (fw.vrfs == NULL || fw.workers == NULL || fw.zone_of_iface == NULL) {
		snprintf(err, errlen, "out of memory for the firewall tables");
		return ENOMEM;
	}
	for (unsigned i = 0; i < fw.n_workers; i++) {
		int rc = worker_tables_create(i, c, err, errlen);
		if (rc)
			return rc;
	}
	boot_max_sessions = c->sessions.max_sessions;
	return 0;
}

void fw_tables_free(void)
{
	for (uint32_t s = 0; fw.vrfs != NULL && s < dp.max_vrfs; s++)
		fw_vrf_free(fw.vrfs[s]);
	for (unsigned i = 0; fw.workers != NULL && i < fw.n_workers; i++) {
		struct fw_worker *w = &fw.workers[i];
		if (w->ct != NULL)
			ct_table_free(w->ct);
		/* The workers are stopped: packets still queued for one go back to their pool. */
		if (w->handoff != NULL) {
			void *m[64];
			unsigned n;
			while ((n = rte_ring_sc_dequeue_burst(w->handoff, m, RTE_DIM(m), NULL)) > 0)
				rte_pktmbuf_free_bulk((struct rte_mbuf **)m, n);
		}
		nf_handoff_ring_free(w->handoff);
		rte_ring_free(w->log);
		if (w->frags != NULL)
			fw_frag_free(w->frags);
	}
	rte_free(fw.vrfs);
	rte_free(fw.workers);
	rte_free(fw.zone_of_iface);
	fw_conf_free(fw.conf);
	memset(&fw, 0, sizeof(fw));
	boot_max_sessions = 0;
}

int fw_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	int slot = conf_ext_slot("firewall");
	const struct fw_conf *c = slot >= 0 ? conf->ext[slot] : NULL;
	char unused[CP_ERR_MAX];
	memset(&fw, 0, sizeof(fw));
	fw.feat4 = fw.feat6 = -1;
	fw_features_resolve(unused, sizeof(unused)); /* again at apply, should the core register after init */
	if (c == NULL)
		return 0; /* no firewall at boot: no tables (fw.workers == NULL), nodes pass everything */
	int rc = fw_tables_create(c, err, errlen);
	if (rc)
		fw_tables_free();
	return rc;
}

int fw_nf_apply(const void *model, char *err, size_t errlen)
{
	return fw_cp_apply(model, err, errlen);
}

void *fw_nf_export(void)
{
	return fw.conf != NULL ? fw_conf_dup(fw.conf) : NULL;
}

/* Interface ids name the rules' interfaces and the zone map: build both again from the running configuration. */
void fw_nf_iface_changed(void)
{
	char err[CP_ERR_MAX];
	if (fw.conf == NULL)
		return;
	if (fw_cp_apply(fw.conf, err, sizeof(err)) != 0)
		fprintf(stderr, "npsd: firewall: interfaces changed but the rule sets could not be rebuilt (the old "
			"ones stay): %s\n", err);
}

void fw_nf_poll(uint64_t now_ms)
{
	fw_log_drain(256, true);
}

void fw_nf_stats(struct ctl_reply *r)
{
	fw_stats_table(r);
}

void fw_nf_fini(void)
{
	fw_log_drain(FW_LOG_RING_SIZE, false); /* the last records: syslog only */
	fw_tables_free();
}

int fw_cp_flush(uint32_t vrf, uint32_t wait_ms, uint64_t *removed, bool *complete, char *err, size_t errlen)
{
	uint64_t tickets[DP_MAX_WORKERS], capacity;
	struct ct_stats before, after;
	if (fw.workers == NULL) {
		snprintf(err, errlen, "the firewall is not enabled (the boot configuration has no firewall section)");
		return ENOTSUP;
	}
	fw_ct_stats_sum(&before, &capacity);
	for (unsigned w = 0; w < fw.n_workers; w++)
		tickets[w] = ct_flush_request(fw.workers[w].ct, vrf);
	uint64_t deadline = cp_now_ms() + wait_ms;
	unsigned done = 0;
	while (done < fw.n_workers) {
		for (done = 0; done < fw.n_workers && ct_flush_done(fw.workers[done].ct, tickets[done]); done++)
			;
		if (done < fw.n_workers && cp_now_ms() >= deadline)
			break;
		if (done < fw.n_workers)
			rte_delay_us_sleep(1000);
	}
	fw_ct_stats_sum(&after, &capacity);
	*removed = after.flushed - before.flushed;
	*complete = done == fw.n_workers;
	return 0;
}
