/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DS-Lite's control side and registry hooks (nf/nf.h): boot sizing (per-worker B4 table, reassembly table), the
 * edges from NAT's out2in node to dslite_encap and from nat_house to dslite_decap, apply (AFTRs published under RCU, the decap
 * feature enabled on their transport VRFs), export, interface changes, poll, counters, shutdown. Control thread
 * only; the workers read dsl under RCU (dslite_int.h).
 *
 * An AFTR whose VRFs do not exist, or whose pool the running NAT does not have, is dormant: kept in the
 * configuration, not published (its softwire packets pass on the arc as any IPv6); interface/VRF changes and the
 * poll (NAT's pools change on their own transactions) build the AFTRs again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "lib/conf/conf_ext.h"
#include "nf/dslite/dslite_int.h"
#include "nf/nf_reass.h"

struct dslite_state dsl;

static uint32_t boot_reass_max, boot_reass_timeout_ms;
static uint64_t last_check_ms;

/* NAT's out2in node sends the replies of B4 realms to dslite_encap: add that edge before any graph is built. */
static void b4_edge_create(void)
{
	rte_node_t id = rte_node_from_name(NODE_NAT_OUT2IN);
	const char *names[1] = {NODE_DSLITE_ENCAP};
	if (id == RTE_NODE_ID_INVALID)
		return; /* no NAT node in this build: replies of B4 realms cannot happen */
	if (rte_node_edge_update(id, RTE_EDGE_ID_INVALID, names, 1) == RTE_EDGE_ID_INVALID) {
		fprintf(stderr, "npsd: dslite: cannot add the edge %s -> %s\n", NODE_NAT_OUT2IN, NODE_DSLITE_ENCAP);
		return;
	}
	nat.b4_edge = (rte_edge_t)(rte_node_edge_count(id) - 1);
	nat.has_b4_edge = true;
}

/* DS-Lite's tunnel packets are handed to a B4's worker on NAT's ring (dslite_int.h): nat_house sends them here. */
static void decap_edge_create(void)
{
	rte_node_t id = rte_node_from_name(NODE_NAT_HOUSE);
	const char *names[1] = {NODE_DSLITE_DECAP};
	if (id == RTE_NODE_ID_INVALID)
		return; /* no NAT in this build: no hand-off (dslite_handoff_full) */
	if (rte_node_edge_update(id, RTE_EDGE_ID_INVALID, names, 1) == RTE_EDGE_ID_INVALID) {
		fprintf(stderr, "npsd: dslite: cannot add the edge %s -> %s\n", NODE_NAT_HOUSE, NODE_DSLITE_DECAP);
		return;
	}
	nat.decap_edge = (rte_edge_t)(rte_node_edge_count(id) - 1);
	nat.has_decap_edge = true;
}

static int worker_create(unsigned i, const struct dslite_conf *c, char *err, size_t errlen)
{
	struct dslite_worker *dw = &dsl.workers[i];
	int socket = (int)rte_lcore_to_socket_id(dp.workers[i].lcore);
	char name[RTE_HASH_NAMESIZE];
	dw->index = i;
	uint32_t max = nat.workers[i].max_subs;
	dw->max_b4 = max == 0 || max > DSLITE_B4_MAX ? DSLITE_B4_MAX : RTE_MAX(max, 1024u);
	snprintf(name, sizeof(name), "dsl-b4-w%u", i);
	dw->b4s = nat_hash_create(name, dw->max_b4, sizeof(struct dslite_b4_key), 0, socket);
	dw->b4 = rte_zmalloc_socket("dsl-b4", sizeof(*dw->b4) * dw->max_b4, RTE_CACHE_LINE_SIZE, socket);
	dw->reass = nf_reass_create(c->reassembly_max, dsl.reass_cycles, socket);
	if (dw->b4s == NULL || dw->b4 == NULL || dw->reass == NULL) {
		snprintf(err, errlen, "worker %u: cannot allocate the DS-Lite tables (%u B4s, %u reassemblies): raise "
			 "eal.memory_mb or lower dslite.reassembly_max", i, dw->max_b4, c->reassembly_max);
		return ENOMEM;
	}
	return 0;
}

static void tables_free(void)
{
	for (unsigned i = 0; dsl.workers != NULL && i < dsl.n_workers; i++) {
		struct dslite_worker *dw = &dsl.workers[i];
		rte_hash_free(dw->b4s);
		rte_free(dw->b4);
		nf_reass_free(dw->reass);
		for (uint32_t k = 0; k < dw->dr.cnt; k++)
			rte_pktmbuf_free(dw->dr.row[k]);
	}
	rte_free(dsl.workers);
	dsl.workers = NULL;
}

int dslite_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	int slot = conf_ext_slot("dslite");
	const struct dslite_conf *c = slot >= 0 ? conf->ext[slot] : NULL;
	memset(&dsl, 0, sizeof(dsl));
	dsl.feat_decap = feat_index(FEAT_IP6_IN, NODE_DSLITE_DECAP);
	b4_edge_create();
	decap_edge_create();
	if (c == NULL)
		return 0; /* no DS-Lite at boot: no tables, the nodes pass everything */
	if (nat.workers == NULL) {
		snprintf(err, errlen, "dslite: the NAT engine is not running (DS-Lite translates with the pools and the "
			 "session table of the nat section)");
		return EINVAL;
	}
	dsl.n_workers = dp.n_workers;
	dsl.reass_cycles = (uint64_t)c->reassembly_timeout_ms * rte_get_tsc_hz() / 1000;
	struct dslite_worker *workers = rte_zmalloc("dsl-workers", sizeof(*workers) * dsl.n_workers,
						     RTE_CACHE_LINE_SIZE);
	if (workers == NULL) {
		snprintf(err, errlen, "dslite: out of memory for the worker tables");
		return ENOMEM;
	}
	dsl.workers = workers;
	for (unsigned i = 0; i < dsl.n_workers; i++) {
		int rc = worker_create(i, c, err, errlen);
		if (rc) {
			tables_free();
			return rc;
		}
	}
	boot_reass_max = c->reassembly_max;
	boot_reass_timeout_ms = c->reassembly_timeout_ms;
	return 0;
}

/* The running pool id of a nat pool name; -1 when NAT does not run it. */
static int pool_id(const char *name)
{
	for (uint16_t i = 0; i < NAT_MAX_POOLS; i++) {
		const struct nat_pool *p = nat_pool_get(i);
		if (p != NULL && strcmp(p->name, name) == 0)
			return i;
	}
	return -1;
}

/* The router's IPv4 addresses in VRF slot vrf, and an interface there with one (source of relayed errors). */
static void local4_fill(struct dslite_aftr_rt *a)
{
	for (uint32_t id = 1; id < dp.max_ifaces; id++) {
		const struct iface *ifc = dp.ifaces[id];
		if (ifc == NULL || ifc->vrf != a->vrf)
			continue;
		if (a->icmp_iface == IFACE_NONE && ifc->ip4_primary != 0)
			a->icmp_iface = ifc->id;
		for (unsigned k = 0; k < ifc->n_addrs && a->n_local4 < DSLITE_MAX_LOCAL4; k++)
			if (ifc->addrs[k].addr.family == 4)
				a->local4[a->n_local4++] = addr_v4_host(&ifc->addrs[k].addr);
	}
}

/* The runtime form of AFTR c, or NULL when dormant (VRF or pool missing) or out of memory (*oom). */
static struct dslite_aftr_rt *aftr_build(const struct dslite_aftr_conf *c, uint16_t slot, bool *oom)
{
	const struct vrf *tv = vrf_by_name(c->transport_vrf), *v4 = vrf_by_name(c->vrf);
	int pool = pool_id(c->pool);
	if (tv == NULL || v4 == NULL || pool < 0)
		return NULL;
	struct dslite_aftr_rt *a = calloc(1, sizeof(*a) + sizeof(a->prefixes[0]) * c->n_b4_prefixes);
	if (a == NULL) {
		*oom = true;
		return NULL;
	}
	a->slot = slot;
	memcpy(a->addr, c->address.bytes, 16);
	a->tvrf = tv->slot;
	a->vrf = v4->slot;
	a->pool_vrf = nat_pool_get((uint16_t)pool)->vrf;
	a->mtu = c->mtu;
	a->mss_clamp = c->mss_clamp;
	a->lim = (struct nat_limits){.pool = (uint16_t)pool, .filtering = c->filtering,
				     .max_sessions = c->max_sessions, .max_blocks = c->max_blocks};
	snprintf(a->name, sizeof(a->name), "%s", c->name);
	snprintf(a->pool, sizeof(a->pool), "%s", c->pool);
	a->n_prefixes = (uint32_t)c->n_b4_prefixes;
	for (size_t i = 0; i < c->n_b4_prefixes; i++) {
		memcpy(a->prefixes[i].addr, c->b4_prefixes[i].addr.bytes, 16);
		a->prefixes[i].len = c->b4_prefixes[i].len;
	}
	local4_fill(a);
	return a;
}

/* The slot an AFTR named name keeps (its B4 entries name the slot), or a free one not in taken. */
static int slot_for(const char *name, const bool *taken)
{
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++)
		if (dsl.aftrs[s] != NULL && strcmp(dsl.aftrs[s]->name, name) == 0 && !taken[s])
			return s;
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++)
		if (!taken[s] && (dsl.aftrs[s] == NULL))
			return s;
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++)
		if (!taken[s])
			return s;
	return -1;
}

/* Build every AFTR of model, then publish them all (all or nothing). */
static int publish(const struct dslite_conf *model, char *err, size_t errlen)
{
	struct dslite_aftr_rt *next[DSLITE_MAX_AFTRS] = {NULL};
	bool taken[DSLITE_MAX_AFTRS] = {false}, oom = false;
	size_t n = model != NULL ? model->n_aftrs : 0;
	if (n > DSLITE_MAX_AFTRS) {
		snprintf(err, errlen, "dslite: %zu AFTRs (at most %d)", n, DSLITE_MAX_AFTRS);
		return EINVAL;
	}
	struct dslite_aftr_index *ix = calloc(1, sizeof(*ix) + sizeof(ix->e[0]) * (n ? n : 1));
	for (size_t i = 0; i < n && ix != NULL; i++) {
		int s = slot_for(model->aftrs[i].name, taken);
		taken[s] = true;
		next[s] = aftr_build(&model->aftrs[i], (uint16_t)s, &oom);
		if (next[s] != NULL) {
			ix->e[ix->n].tvrf = next[s]->tvrf;
			ix->e[ix->n].slot = (uint16_t)s;
			memcpy(ix->e[ix->n].addr, next[s]->addr, 16);
			ix->n++;
		}
	}
	if (ix == NULL || oom) {
		for (int s = 0; s < DSLITE_MAX_AFTRS; s++)
			free(next[s]);
		free(ix);
		snprintf(err, errlen, "dslite: out of memory for the AFTRs");
		return ENOMEM;
	}
	/* Decap feature: on for the new transport VRFs first, off for the ones no AFTR uses any more. */
	struct dslite_aftr_rt *old[DSLITE_MAX_AFTRS];
	memcpy(old, dsl.aftrs, sizeof(old));
	struct dslite_aftr_index *old_ix = dsl.index;
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++)
		__atomic_store_n(&dsl.aftrs[s], next[s], __ATOMIC_RELEASE);
	__atomic_store_n(&dsl.index, ix, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < ix->n; i++)
		feat_enable(FEAT_IP6_IN, ix->e[i].tvrf, dsl.feat_decap, true);
	for (uint32_t i = 0; old_ix != NULL && i < old_ix->n; i++) {
		bool used = false;
		for (uint32_t k = 0; k < ix->n; k++)
			used |= ix->e[k].tvrf == old_ix->e[i].tvrf;
		if (!used && vrf_get(old_ix->e[i].tvrf) != NULL)
			feat_enable(FEAT_IP6_IN, old_ix->e[i].tvrf, dsl.feat_decap, false);
	}
	dp_synchronize();
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++)
		free(old[s]);
	free(old_ix);
	return 0;
}

int dslite_nf_apply(const void *model_v, char *err, size_t errlen)
{
	const struct dslite_conf *model = model_v;
	if (model != NULL && model->n_aftrs > 0 && dsl.workers == NULL) {
		snprintf(err, errlen, "dslite: DS-Lite was not configured at boot (its tables are sized then): restart "
			 "npsd with the dslite section");
		return ENOTSUP;
	}
	if (model != NULL && dsl.workers != NULL &&
	    (model->reassembly_max != boot_reass_max || model->reassembly_timeout_ms != boot_reass_timeout_ms)) {
		snprintf(err, errlen, "dslite: reassembly_max and reassembly_timeout_ms are fixed at boot (%u, %u ms): "
			 "restart npsd to change them", boot_reass_max, boot_reass_timeout_ms);
		return ENOTSUP;
	}
	if (dsl.feat_decap < 0)
		dsl.feat_decap = feat_index(FEAT_IP6_IN, NODE_DSLITE_DECAP);
	if (dsl.feat_decap < 0 && model != NULL && model->n_aftrs > 0) {
		snprintf(err, errlen, "dslite: node %s is not registered on the IPv6 input arc", NODE_DSLITE_DECAP);
		return EINVAL;
	}
	struct dslite_conf *copy = NULL;
	if (model != NULL && (copy = dslite_conf_dup(model)) == NULL) {
		snprintf(err, errlen, "dslite: out of memory for the configuration");
		return ENOMEM;
	}
	int rc = publish(model, err, errlen);
	if (rc) {
		dslite_conf_free(copy);
		return rc;
	}
	dslite_conf_free(dsl.conf);
	dsl.conf = copy;
	return 0;
}

void *dslite_nf_export(void)
{
	return dsl.conf != NULL ? dslite_conf_dup(dsl.conf) : NULL;
}

/* VRF slots, interface addresses: build the AFTRs again from the running configuration. */
void dslite_nf_iface_changed(void)
{
	char err[CP_ERR_MAX];
	if (dsl.conf != NULL && publish(dsl.conf, err, sizeof(err)) != 0)
		fprintf(stderr, "npsd: dslite: interfaces changed but the AFTRs could not be rebuilt: %s\n", err);
}

/* Is every AFTR still in step with NAT's pools (ids, VRFs) and published unless dormant? */
static bool aftrs_current(void)
{
	size_t published = 0;
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++) {
		const struct dslite_aftr_rt *a = dsl.aftrs[s];
		if (a == NULL)
			continue;
		published++;
		const struct nat_pool *p = nat_pool_get(a->lim.pool);
		if (p == NULL || strcmp(p->name, a->pool) != 0 || p->vrf != a->pool_vrf)
			return false;
	}
	for (size_t i = 0; published < dsl.conf->n_aftrs && i < dsl.conf->n_aftrs; i++)
		if (pool_id(dsl.conf->aftrs[i].pool) >= 0 && vrf_by_name(dsl.conf->aftrs[i].vrf) != NULL &&
		    vrf_by_name(dsl.conf->aftrs[i].transport_vrf) != NULL) {
			bool found = false;
			for (int s = 0; s < DSLITE_MAX_AFTRS && !found; s++)
				found = dsl.aftrs[s] != NULL && strcmp(dsl.aftrs[s]->name, dsl.conf->aftrs[i].name) == 0;
			if (!found)
				return false; /* a dormant AFTR could run now */
		}
	return true;
}

/* NAT's pools change in their own transactions: once a second, follow them. */
void dslite_nf_poll(uint64_t now_ms)
{
	if (dsl.conf == NULL || now_ms - last_check_ms < 1000)
		return;
	last_check_ms = now_ms;
	if (!aftrs_current())
		dslite_nf_iface_changed();
}

void dslite_counters_sum(uint64_t cnt[DSLITE_CNT_COUNT])
{
	memset(cnt, 0, sizeof(uint64_t) * DSLITE_CNT_COUNT);
	for (unsigned w = 0; dsl.workers != NULL && w < dsl.n_workers; w++)
		for (int i = 0; i < DSLITE_CNT_COUNT; i++)
			cnt[i] += __atomic_load_n(&dsl.workers[w].cnt[i], __ATOMIC_RELAXED);
	/* the hand-offs DS-Lite receives are dequeued by nat_house (NAT's ring) */
	for (unsigned w = 0; dsl.workers != NULL && nat.workers != NULL && w < dsl.n_workers && w < nat.n_workers; w++)
		cnt[DSLITE_CNT_handoff_in] += __atomic_load_n(&nat.workers[w].decap_handoff_in, __ATOMIC_RELAXED);
}

void dslite_nf_fini(void)
{
	tables_free();
	for (int s = 0; s < DSLITE_MAX_AFTRS; s++) {
		free(dsl.aftrs[s]);
		dsl.aftrs[s] = NULL;
	}
	free(dsl.index);
	dslite_conf_free(dsl.conf);
	memset(&dsl, 0, sizeof(dsl));
}
