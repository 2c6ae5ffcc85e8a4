/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building and publishing the firewall's running state: every VRF's rule set (classifiers, zone-pair policies, hit
 * counters) and the zone map are built whole off to the side; only then are the pointers swapped (release stores),
 * the features enabled, the workers waited for (dp_synchronize) and the old objects freed. A failure frees what was
 * built and leaves the running state as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "nf/fw/fw_cp.h"

/* A running state being built; after publication it holds the replaced objects, freed by build_free. */
struct fw_build {
	struct fw_vrf **vrfs;    /* by slot (dp.max_vrfs); unchanged slots NULL after publication */
	uint8_t *zone_of_iface;  /* NULL: keep the running map */
	struct fw_conf *conf;    /* the new running configuration */
	bool set_conf;           /* publish conf (even NULL) */
};

void fw_vrf_free(struct fw_vrf *v)
{
	if (v == NULL)
		return;
	fw_classifier_free(v->cls[0]);
	fw_classifier_free(v->cls[1]);
	rte_free(v->rules);
	rte_free(v->hits);
	fw_ruleset_clear(&v->conf);
	rte_free(v);
}

static void build_free(struct fw_build *b)
{
	for (uint32_t s = 0; b->vrfs != NULL && s < dp.max_vrfs; s++)
		fw_vrf_free(b->vrfs[s]);
	free(b->vrfs);
	rte_free(b->zone_of_iface);
	fw_conf_free(b->conf);
	memset(b, 0, sizeof(*b));
}

static uint16_t resolve_iface(void *arg, const char *name)
{
	const struct iface *ifc = iface_by_name(name);
	return ifc != NULL ? ifc->id : 0;
}

static int zone_side(const struct fw_conf *c, const char *name, unsigned *id)
{
	*id = strcmp(name, "any") == 0 ? 0 : fw_zone_id(c, name);
	return strcmp(name, "any") == 0 || *id != 0 ? 0 : ENOENT;
}

static int policies_build(struct fw_vrf *v, const struct fw_ruleset_conf *rs, const struct fw_conf *c, char *err,
			  size_t errlen)
{
	memset(v->zone_policy, FW_POLICY_NONE, sizeof(v->zone_policy));
	for (size_t i = 0; i < rs->n_policies; i++) {
		const struct fw_policy_conf *p = &rs->policies[i];
		unsigned from, to;
		if (zone_side(c, p->from, &from) || zone_side(c, p->to, &to)) {
			snprintf(err, errlen, "VRF %s: policy %s -> %s names an unknown zone", rs->vrf, p->from, p->to);
			return ENOENT;
		}
		v->zone_policy[from][to] = p->action;
		v->zone_policy_log[from][to] = p->log;
	}
	return 0;
}

static bool has_family(const struct fw_ruleset_conf *rs, uint8_t family)
{
	for (size_t i = 0; i < rs->n_rules; i++)
		if (rs->rules[i].family == 0 || rs->rules[i].family == family)
			return true;
	return false;
}

static int classifiers_build(struct fw_vrf *v, uint32_t slot, const struct fw_conf *c, char *err, size_t errlen)
{
	const struct fw_resolver res = {.iface_id = resolve_iface, .conf = c};
	for (unsigned f = 0; f < 2; f++) {
		uint8_t family = f == 0 ? 4 : 6;
		char name[32], sub[CP_ERR_MAX];
		if (!has_family(&v->conf, family))
			continue;
		snprintf(name, sizeof(name), "fw%u-v%u-g%u", family, slot, v->gen);
		v->cls[f] = fw_classifier_build(&v->conf, family, &res, name, SOCKET_ID_ANY, sub, sizeof(sub));
		if (v->cls[f] == NULL) {
			snprintf(err, errlen, "VRF %s: IPv%u rules: %s", v->conf.vrf, family, sub);
			return ENOMEM;
		}
	}
	return 0;
}

/* Rules as the fast path reads them, and a cache-aligned row of hit counters per worker. */
static int rules_build(struct fw_vrf *v, char *err, size_t errlen)
{
	unsigned per_line = RTE_CACHE_LINE_SIZE / sizeof(struct fw_hits);
	v->n_rules = (uint32_t)v->conf.n_rules;
	v->hits_stride = RTE_ALIGN_CEIL(v->n_rules + 2, per_line);
	v->rules = rte_zmalloc("fw-rules", sizeof(*v->rules) * RTE_MAX(v->n_rules, 1u), 0);
	v->hits = rte_zmalloc("fw-hits", sizeof(*v->hits) * v->hits_stride * fw.n_workers, RTE_CACHE_LINE_SIZE);
	if (v->rules == NULL || v->hits == NULL) {
		snprintf(err, errlen, "VRF %s: out of memory for %u rules", v->conf.vrf, v->n_rules);
		return ENOMEM;
	}
	for (uint32_t i = 0; i < v->n_rules; i++)
		v->rules[i] = (struct fw_rule_rt){.action = v->conf.rules[i].action, .log = v->conf.rules[i].log};
	return 0;
}

/* One VRF's rule set, ready to publish: NULL with err on failure. c gives the zones, zones the map it uses. */
static struct fw_vrf *vrf_build(const struct fw_ruleset_conf *rs, uint32_t slot, const struct fw_conf *c,
				const uint8_t *zones, char *err, size_t errlen)
{
	struct fw_vrf *v = rte_zmalloc("fw-vrf", sizeof(*v), RTE_CACHE_LINE_SIZE);
	if (v == NULL || fw_ruleset_copy(&v->conf, rs) != 0) {
		snprintf(err, errlen, "VRF %s: out of memory for the rule set", rs->vrf);
		rte_free(v);
		return NULL;
	}
	v->gen = ++fw.next_gen;
	v->zone_of_iface = zones;
	v->default_action = rs->default_action;
	v->default_log = rs->default_log;
	if (policies_build(v, rs, c, err, errlen) || rules_build(v, err, errlen) ||
	    classifiers_build(v, slot, c, err, errlen)) {
		fw_vrf_free(v);
		return NULL;
	}
	return v;
}

static bool ruleset_same(const struct fw_ruleset_conf *a, const struct fw_ruleset_conf *b)
{
	const struct fw_conf ca = {.rulesets = (struct fw_ruleset_conf *)a, .n_rulesets = 1};
	const struct fw_conf cb = {.rulesets = (struct fw_ruleset_conf *)b, .n_rulesets = 1};
	return fw_conf_equal(&ca, &cb);
}

/*
 * An unchanged rule set rebuilt (interfaces or zones changed, or another VRF's rules): it keeps its generation, so
 * sessions keep naming their rule and are not revalidated, and its hit counters (increments made between this copy
 * and the swap are lost: a few packets at most).
 */
static void vrf_carry_over(struct fw_vrf *v, const struct fw_vrf *old)
{
	if (old == NULL || !ruleset_same(&v->conf, &old->conf))
		return;
	v->gen = old->gen;
	memcpy(v->hits, old->hits, sizeof(*v->hits) * v->hits_stride * fw.n_workers);
}

static uint8_t *zone_map_build(const struct fw_conf *c)
{
	uint8_t *map = rte_zmalloc("fw-zones", dp.max_ifaces, 0);
	for (size_t z = 0; map != NULL && z < c->n_zones; z++) {
		for (size_t i = 0; i < c->zones[z].n_ifaces; i++) {
			const struct iface *ifc = iface_by_name(c->zones[z].ifaces[i]);
			if (ifc != NULL)
				map[ifc->id] = (uint8_t)(z + 1);
		}
	}
	return map;
}

static int vrf_slot(const char *name, uint32_t *slot, char *err, size_t errlen)
{
	const struct vrf *v = vrf_by_name(name);
	if (v == NULL) {
		snprintf(err, errlen, "firewall rule set for VRF '%s': no such VRF", name);
		return ENOENT;
	}
	*slot = v->slot;
	return 0;
}

/* Every VRF's rule set, the zone map and the configuration copy of model. */
static int build_all(struct fw_build *b, const struct fw_conf *model, char *err, size_t errlen)
{
	b->set_conf = true;
	b->vrfs = calloc(dp.max_vrfs, sizeof(*b->vrfs));
	b->conf = fw_conf_dup(model);
	b->zone_of_iface = zone_map_build(model);
	if (b->vrfs == NULL || b->conf == NULL || b->zone_of_iface == NULL) {
		snprintf(err, errlen, "out of memory for the firewall configuration");
		return ENOMEM;
	}
	for (size_t i = 0; i < model->n_rulesets; i++) {
		const struct vrf *vrf = vrf_by_name(model->rulesets[i].vrf);
		if (vrf == NULL)
			continue; /* dormant until the VRF exists (vrf add re-applies: fw_nf_iface_changed) */
		uint32_t slot = vrf->slot;
		if (b->vrfs[slot] != NULL) {
			snprintf(err, errlen, "VRF %s has two firewall rule sets", model->rulesets[i].vrf);
			return EEXIST;
		}
		if ((b->vrfs[slot] = vrf_build(&model->rulesets[i], slot, model, b->zone_of_iface, err, errlen)) ==
		    NULL)
			return ENOMEM;
		vrf_carry_over(b->vrfs[slot], fw.vrfs[slot]);
	}
	return 0;
}

static void feature_set(uint32_t slot, bool on)
{
	feat_enable(FEAT_IP4_FWD, slot, fw.feat4, on);
	feat_enable(FEAT_IP6_FWD, slot, fw.feat6, on);
}

/*
 * Swap every changed VRF pointer: a new rule set is published before its feature is turned on, a removed one is
 * turned off before its pointer is cleared (a packet already on the arc may still find NULL: the nodes pass it).
 */
static void vrfs_publish(struct fw_build *b)
{
	for (uint32_t s = 0; s < dp.max_vrfs; s++) {
		struct fw_vrf *old = fw.vrfs[s], *new = b->vrfs[s];
		b->vrfs[s] = old != new ? old : NULL;
		if (old == new)
			continue;
		if (new == NULL)
			feature_set(s, false);
		__atomic_store_n(&fw.vrfs[s], new, __ATOMIC_RELEASE);
		if (new != NULL && old == NULL)
			feature_set(s, true);
		if (new == NULL && fw.workers != NULL)
			for (unsigned w = 0; w < fw.n_workers; w++)
				ct_flush_request(fw.workers[w].ct, s); /* its sessions would only wait for expiry */
	}
}

static void params_publish(const struct fw_conf *c)
{
	if (c == NULL)
		return;
	__atomic_store_n(&fw.reject_rate, c->reject_rate, __ATOMIC_RELAXED);
	__atomic_store_n(&fw.log_rate, c->log_rate, __ATOMIC_RELAXED);
	__atomic_store_n(&fw.on_rule_change, c->on_rule_change, __ATOMIC_RELAXED);
	for (unsigned w = 0; w < fw.n_workers; w++) {
		struct ct_params p = c->sessions;
		p.max_sessions = ct_table_params(fw.workers[w].ct)->max_sessions; /* sized at boot */
		ct_table_set_params(fw.workers[w].ct, &p);
	}
}

/*
 * Make b the running state, wait for the workers, free what it replaced. Workers read the zone map through the rule
 * set it was built with (fw_vrf.zone_of_iface): a new map comes only with a full rebuild (build_all), whose rule
 * sets all point to it, and the old map is freed with the old rule sets, after dp_synchronize().
 */
static void publish(struct fw_build *b)
{
	if (b->zone_of_iface != NULL) {
		uint8_t *old = fw.zone_of_iface;
		fw.zone_of_iface = b->zone_of_iface;
		b->zone_of_iface = old;
	}
	params_publish(b->conf);
	vrfs_publish(b);
	if (b->set_conf) {
		struct fw_conf *old = fw.conf;
		fw.conf = b->conf;
		b->conf = old;
		fw.enabled = fw.conf != NULL;
	}
	dp_synchronize();
	build_free(b);
}

static int check_model(const struct fw_conf *model, char *err, size_t errlen)
{
	if (fw.workers == NULL) {
		snprintf(err, errlen,
			 "restart needed to enable the firewall (session tables are sized at boot, and the boot "
			 "configuration had no firewall section)");
		return ENOTSUP;
	}
	if (model->sessions.max_sessions != fw_boot_max_sessions()) {
		snprintf(err, errlen,
			 "restart needed to change firewall.sessions.max from %u to %u (session tables are sized at "
			 "boot)",
			 fw_boot_max_sessions(), model->sessions.max_sessions);
		return ENOTSUP;
	}
	return fw_features_resolve(err, errlen);
}

int fw_cp_apply(const struct fw_conf *model, char *err, size_t errlen)
{
	struct fw_build b = {0};
	int rc;
	if (model == NULL) {
		if (fw.workers == NULL)
			return 0;
		b.set_conf = true;
		b.vrfs = calloc(dp.max_vrfs, sizeof(*b.vrfs));
		b.zone_of_iface = rte_zmalloc("fw-zones", dp.max_ifaces, 0);
		if (b.vrfs == NULL || b.zone_of_iface == NULL) {
			build_free(&b);
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		publish(&b);
		return 0;
	}
	if ((rc = check_model(model, err, errlen)) != 0 || (rc = build_all(&b, model, err, errlen)) != 0) {
		build_free(&b);
		return rc;
	}
	publish(&b); /* model is not read from here on: it may be the running configuration being replaced */
	return 0;
}

/* b: the running rule sets with vrf's replaced by v (NULL: removed; vrf NULL: none changes), and conf. */
static int build_one(struct fw_build *b, const struct vrf *vrf, struct fw_vrf *v, struct fw_conf *conf, char *err,
		     size_t errlen)
{
	b->set_conf = true;
	b->conf = conf;
	b->vrfs = calloc(dp.max_vrfs, sizeof(*b->vrfs));
	if (b->vrfs == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	memcpy(b->vrfs, fw.vrfs, sizeof(*b->vrfs) * dp.max_vrfs);
	if (vrf != NULL)
		b->vrfs[vrf->slot] = v;
	return 0;
}

static ssize_t ruleset_find(const struct fw_conf *c, const char *vrf)
{
	for (size_t i = 0; i < c->n_rulesets; i++)
		if (strcmp(c->rulesets[i].vrf, vrf) == 0)
			return (ssize_t)i;
	return -1;
}

/* Put a deep copy of rs into c, in place of c's rule set for the same VRF or appended. */
static int conf_ruleset_set(struct fw_conf *c, const struct fw_ruleset_conf *rs)
{
	struct fw_ruleset_conf copy = {0};
	if (fw_ruleset_copy(&copy, rs) != 0)
		return ENOMEM;
	ssize_t i = ruleset_find(c, rs->vrf);
	if (i >= 0) {
		fw_ruleset_clear(&c->rulesets[i]);
		c->rulesets[i] = copy;
		return 0;
	}
	struct fw_ruleset_conf *grown = realloc(c->rulesets, sizeof(*grown) * (c->n_rulesets + 1));
	if (grown == NULL) {
		fw_ruleset_clear(&copy);
		return ENOMEM;
	}
	c->rulesets = grown;
	c->rulesets[c->n_rulesets++] = copy;
	return 0;
}

static int check_running(char *err, size_t errlen)
{
	if (fw.workers == NULL || !fw.enabled) {
		snprintf(err, errlen, "the firewall is not enabled (the %s configuration has no firewall section)",
			 fw.workers == NULL ? "boot" : "running");
		return ENOTSUP;
	}
	return 0;
}

/* What the rule set reader cannot check alone: the rules' interfaces exist and belong to the VRF. */
static int ruleset_ifaces_check(const struct fw_ruleset_conf *rs, uint32_t slot, char *err, size_t errlen)
{
	for (size_t i = 0; i < rs->n_rules; i++) {
		const char *names[2] = {rs->rules[i].in_iface, rs->rules[i].out_iface};
		for (int k = 0; k < 2; k++) {
			const struct iface *ifc = names[k][0] ? iface_by_name(names[k]) : NULL;
			if (names[k][0] && (ifc == NULL || ifc->vrf != slot)) {
				snprintf(err, errlen, "rule %s: %s interface '%s' is not an interface of VRF %s",
					 rs->rules[i].name, k ? "out" : "in", names[k], rs->vrf);
				return ENOENT;
			}
		}
	}
	return 0;
}

int fw_cp_ruleset_replace(const struct fw_ruleset_conf *rs, uint32_t *gen, char *err, size_t errlen)
{
	struct fw_build b = {0};
	uint32_t slot;
	int rc;
	if ((rc = check_running(err, errlen)) || (rc = vrf_slot(rs->vrf, &slot, err, errlen)) ||
	    (rc = ruleset_ifaces_check(rs, slot, err, errlen)))
		return rc;
	const struct vrf *vrf = dp.vrfs[slot];
	struct fw_conf *conf = fw_conf_dup(fw.conf);
	if (conf == NULL || conf_ruleset_set(conf, rs) != 0) {
		fw_conf_free(conf);
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	struct fw_vrf *v = vrf_build(rs, slot, conf, fw.zone_of_iface, err, errlen); /* zones unchanged */
	if (v == NULL) {
		fw_conf_free(conf);
		return ENOMEM;
	}
	if ((rc = build_one(&b, vrf, v, conf, err, errlen)) != 0) {
		fw_vrf_free(v);
		build_free(&b); /* frees conf */
		return rc;
	}
	*gen = v->gen;
	publish(&b);
	return 0;
}

int fw_cp_ruleset_delete(const char *vrf, char *err, size_t errlen)
{
	struct fw_build b = {0};
	int rc;
	if ((rc = check_running(err, errlen)))
		return rc;
	ssize_t i = ruleset_find(fw.conf, vrf);
	if (i < 0) {
		snprintf(err, errlen, "VRF '%s' has no firewall rule set", vrf);
		return ENOENT;
	}
	const struct vrf *v = vrf_by_name(vrf); /* NULL: a dormant rule set, only in the configuration */
	struct fw_conf *conf = fw_conf_dup(fw.conf);
	if (conf == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	fw_ruleset_clear(&conf->rulesets[i]);
	memmove(&conf->rulesets[i], &conf->rulesets[i + 1], sizeof(*conf->rulesets) * (conf->n_rulesets - i - 1));
	conf->n_rulesets--;
	if ((rc = build_one(&b, v, NULL, conf, err, errlen)) != 0) {
		build_free(&b);
		return rc;
	}
	publish(&b);
	return 0;
}
