/* SPDX-License-Identifier: BSD-3-Clause */
/* The counter snapshot behind DPDK telemetry and the Prometheus endpoint: taken on the control thread only. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include <rte_ethdev.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"
#include "dataplane/metrics.h"
#include "nf/nf.h"

#define MAX_NODES 256
#define MIN_GAP_MS 10 /* readers asking for fresh counters get at most one snapshot per this: floods cost little */

/* Publication. Readers wait on `published` for a fresh snapshot; the control thread never waits for readers. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t published;
static struct metrics_snapshot *current; /* under lock */
static bool closed = true;               /* under lock: before metrics_init and after metrics_fini */
static uint64_t seq;                     /* under lock */
static int want_fresh;                   /* atomic: a reader waits for a new snapshot */
static uint64_t next_ms, last_ms, interval; /* control thread only */

static void snapshot_free(struct metrics_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->nodes);
	free(s->ifaces);
	free(s->vrfs);
	free(s->nf);
	free(s);
}

struct nf_sink {
	struct metrics_snapshot *s;
	uint32_t cap;
	bool failed;
};

static void nf_sample_add(void *cookie, const char *family, const char *type, const char *help, const char *iface,
			  const char *vrf, uint64_t value)
{
	struct nf_sink *k = cookie;
	if (k->failed)
		return;
	if (k->s->n_nf == k->cap) {
		uint32_t cap = k->cap ? k->cap * 2 : 64;
		struct metrics_nf_sample *grown = realloc(k->s->nf, cap * sizeof(*grown));
		if (grown == NULL) {
			k->failed = true;
			return;
		}
		k->s->nf = grown;
		k->cap = cap;
	}
	struct metrics_nf_sample *o = &k->s->nf[k->s->n_nf++];
	snprintf(o->family, sizeof(o->family), "%s", family);
	snprintf(o->type, sizeof(o->type), "%s", type);
	o->help = help;
	snprintf(o->iface, sizeof(o->iface), "%s", iface ? iface : "");
	snprintf(o->vrf, sizeof(o->vrf), "%s", vrf ? vrf : "");
	o->value = value;
}

static void take_ports(struct metrics_snapshot *s)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		if (!p->used)
			continue;
		struct metrics_port *o = &s->ports[s->n_ports++];
		struct rte_eth_stats st = {0};
		struct rte_eth_link link = {0};
		rte_eth_stats_get(p->port_id, &st);
		rte_eth_link_get_nowait(p->port_id, &link);
		snprintf(o->name, sizeof(o->name), "%s", p->name);
		o->link_up = link.link_status != 0;
		o->c[MP_rx_packets] = st.ipackets;
		o->c[MP_rx_bytes] = st.ibytes;
		o->c[MP_tx_packets] = st.opackets;
		o->c[MP_tx_bytes] = st.obytes;
		o->c[MP_rx_missed] = st.imissed;
		o->c[MP_rx_errors] = st.ierrors;
		o->c[MP_tx_errors] = st.oerrors;
		o->c[MP_rx_nombuf] = st.rx_nombuf;
	}
}

/* Nodes, drops and totals, summed the way show stats sums them. */
static int take_nodes(struct metrics_snapshot *s)
{
	static struct node_stat ns[MAX_NODES];
	int n = stats_nodes(-1, ns, MAX_NODES);
	s->nodes = malloc((size_t)(n > 0 ? n : 1) * sizeof(*s->nodes));
	if (s->nodes == NULL)
		return -1;
	memcpy(s->nodes, ns, (size_t)n * sizeof(*ns));
	s->n_nodes = (unsigned)n;
	for (int i = 0; i < n; i++) {
		if (strncmp(ns[i].name, "port_rx-", 8) == 0)
			s->totals[MT_rx] += ns[i].packets;
		else if (strncmp(ns[i].name, "port_tx-", 8) == 0)
			s->totals[MT_tx] += ns[i].packets;
		else if (strncmp(ns[i].name, "drop_", 5) == 0)
			s->totals[MT_drops] += ns[i].packets;
		else if (strcmp(ns[i].name, "punt") == 0)
			s->totals[MT_punted] += ns[i].packets;
	}
	for (int d = 0; d < DROP_COUNT; d++)
		s->drops[d] = stats_drop(ns, n, d);
	for (unsigned w = 0; w < dp.n_workers; w++) {
		s->totals[MT_created] += __atomic_load_n(&dp.workers[w].pkts_created, __ATOMIC_RELAXED);
		s->totals[MT_absorbed] += __atomic_load_n(&dp.workers[w].pkts_absorbed, __ATOMIC_RELAXED);
		s->totals[MT_express] += __atomic_load_n(&dp.workers[w].pkts_express, __ATOMIC_RELAXED);
	}
	return 0;
}

static void add_counters(struct iface_counters *sum, const struct iface_counters *c)
{
	sum->rx_packets += c->rx_packets;
	sum->rx_bytes += c->rx_bytes;
	sum->tx_packets += c->tx_packets;
	sum->tx_bytes += c->tx_bytes;
}

static int take_ifaces_vrfs(struct metrics_snapshot *s)
{
	s->ifaces = calloc(dp.max_ifaces ? dp.max_ifaces : 1, sizeof(*s->ifaces));
	s->vrfs = calloc(dp.max_vrfs ? dp.max_vrfs : 1, sizeof(*s->vrfs));
	uint32_t *vrf_row = calloc(dp.max_vrfs ? dp.max_vrfs : 1, sizeof(*vrf_row));
	if (s->ifaces == NULL || s->vrfs == NULL || vrf_row == NULL) {
		free(vrf_row);
		return -1;
	}
	for (uint32_t v = 0; v < dp.max_vrfs; v++) {
		if (dp.vrfs[v] == NULL)
			continue;
		vrf_row[v] = s->n_vrfs;
		snprintf(s->vrfs[s->n_vrfs++].name, CONF_NAME_MAX, "%s", dp.vrfs[v]->name);
	}
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL)
			continue;
		struct metrics_iface *o = &s->ifaces[s->n_ifaces++];
		snprintf(o->name, sizeof(o->name), "%s", ifc->name);
		snprintf(o->vrf, sizeof(o->vrf), "%s", dp.vrfs[ifc->vrf]->name);
		for (unsigned w = 0; w < dp.n_workers; w++)
			add_counters(&o->c, &dp.workers[w].ifc_stats[i]);
		add_counters(&s->vrfs[vrf_row[ifc->vrf]].c, &o->c);
	}
	free(vrf_row);
	return 0;
}

static struct metrics_snapshot *take(void)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->time_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	take_ports(s);
	memcpy(s->control, dp.ctl_counters, sizeof(s->control));
	events_stats(&s->events_queued, &s->events_dropped);
	struct nf_sink sink = {.s = s};
	nf_metrics(nf_sample_add, &sink);
	if (sink.failed || take_nodes(s) < 0 || take_ifaces_vrfs(s) < 0) {
		snapshot_free(s);
		return NULL;
	}
	return s;
}

void metrics_init(uint32_t interval_ms)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&published, &ca);
	pthread_condattr_destroy(&ca);
	interval = interval_ms;
	next_ms = last_ms = 0;
	pthread_mutex_lock(&lock);
	closed = false;
	pthread_mutex_unlock(&lock);
}

void metrics_snapshot_update(uint64_t now_ms)
{
	bool asked = __atomic_load_n(&want_fresh, __ATOMIC_ACQUIRE) != 0 && now_ms >= last_ms + MIN_GAP_MS;
	if (!asked && now_ms < next_ms)
		return;
	last_ms = now_ms;
	__atomic_store_n(&want_fresh, 0, __ATOMIC_RELEASE); /* before taking: a later request gets a later one */
	next_ms = now_ms + interval;
	struct metrics_snapshot *s = take(), *old = NULL;
	pthread_mutex_lock(&lock);
	if (s != NULL && !closed) {
		s->seq = ++seq;
		s->refs = 1;
		old = current;
		current = s;
		s = NULL;
		if (old != NULL && --old->refs != 0)
			old = NULL; /* its last reader frees it */
	}
	pthread_cond_broadcast(&published); /* also when the snapshot failed: waiters take the old one */
	pthread_mutex_unlock(&lock);
	snapshot_free(old);
	snapshot_free(s);
}

void metrics_fini(void)
{
	pthread_mutex_lock(&lock);
	struct metrics_snapshot *old = current;
	current = NULL;
	closed = true;
	if (old != NULL && --old->refs != 0)
		old = NULL;
	pthread_cond_broadcast(&published);
	pthread_mutex_unlock(&lock);
	snapshot_free(old);
}

const struct metrics_snapshot *metrics_snapshot_get(int fresh_wait_ms)
{
	pthread_mutex_lock(&lock);
	if (fresh_wait_ms > 0 && !closed) {
		struct timespec deadline;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += fresh_wait_ms / 1000;
		deadline.tv_nsec += (long)(fresh_wait_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		uint64_t want = seq + 1;
		__atomic_store_n(&want_fresh, 1, __ATOMIC_RELEASE);
		while (seq < want && !closed)
			if (pthread_cond_timedwait(&published, &lock, &deadline) == ETIMEDOUT)
				break;
	}
	struct metrics_snapshot *s = current;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&lock);
	return s;
}

void metrics_snapshot_put(const struct metrics_snapshot *cs)
{
	struct metrics_snapshot *s = (struct metrics_snapshot *)cs;
	if (s == NULL)
		return;
	pthread_mutex_lock(&lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		snapshot_free(s);
}
