/* SPDX-License-Identifier: BSD-3-Clause */
/* The core's side of the registry (nf/nf.h): each hook called on every function that has it, in order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/dp.h"
#include "dataplane/flow_steer.h"
#include "lib/conf/conf.h"
#include "nf/nf.h"

void nf_register_conf(void)
{
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->conf != NULL && conf_ext_register(nf_registry[i]->conf) < 0)
			fprintf(stderr, "npsd: config section '%s' of %s not registered (duplicate or too many)\n",
				nf_registry[i]->conf->key, nf_registry[i]->name);
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->tunnel_out[0] != NULL || nf_registry[i]->tunnel_out[1] != NULL)
			conf_kind_register(nf_registry[i]->name);
}

int nf_register_features(char *err, size_t errlen)
{
	for (size_t i = 0; i < nf_count; i++)
		for (const struct nf_feature_reg *f = nf_registry[i]->features; f != NULL && f->node != NULL; f++)
			if (feat_register(f->arc, f->node, f->order) < 0) {
				snprintf(err, errlen, "%s: cannot attach node %s to its feature arc (full or duplicate)",
					 nf_registry[i]->name, f->node);
				return EINVAL;
			}
	return 0;
}

static const struct nf_desc *nf_of_slot(int ext_slot)
{
	const struct conf_ext_ops *ops = conf_ext_ops(ext_slot);
	for (size_t i = 0; ops != NULL && i < nf_count; i++)
		if (nf_registry[i]->conf == ops)
			return nf_registry[i];
	return NULL;
}

int nf_boot(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	for (size_t i = 0; i < nf_count; i++) {
		const struct nf_desc *d = nf_registry[i];
		int rc = d->init != NULL ? d->init(conf, err, errlen) : 0;
		if (rc != 0)
			return rc;
		if (d->conf == NULL || d->apply == NULL)
			continue;
		int slot = conf_ext_slot(d->conf->key);
		if ((rc = d->apply(slot >= 0 ? conf->ext[slot] : NULL, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

int nf_kind_index(const char *kind)
{
	for (size_t i = 0; i < nf_count; i++) {
		const struct nf_desc *d = nf_registry[i];
		if ((d->tunnel_out[0] != NULL || d->tunnel_out[1] != NULL) && strcmp(d->name, kind) == 0)
			return (int)i;
	}
	return -1;
}

void nf_started(void)
{
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->started != NULL)
			nf_registry[i]->started();
}

int nf_apply_section(int ext_slot, const void *model, char *err, size_t errlen)
{
	const struct nf_desc *d = nf_of_slot(ext_slot);
	if (d == NULL || d->apply == NULL) {
		snprintf(err, errlen, "no network function owns config section %d", ext_slot);
		return EINVAL;
	}
	int rc = d->apply(model, err, errlen);
	/* Steering follows the new tables (NAT port blocks, AFTR addresses); until the rules are in, the software
	 * hand-off takes any packet that lands on the wrong worker. */
	if (rc == 0 && d->steer != NULL && dp.qs != NULL)
		flow_steer_apply(NULL);
	return rc;
}

int nf_export_sections(struct npsgw_conf *conf)
{
	for (size_t i = 0; i < nf_count; i++) {
		const struct nf_desc *d = nf_registry[i];
		int slot = d->conf != NULL ? conf_ext_slot(d->conf->key) : -1;
		if (slot < 0 || d->export == NULL)
			continue;
		conf->ext[slot] = d->export(); /* NULL: the function runs without configuration */
	}
	return 0;
}

void nf_iface_changed(void)
{
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->iface_changed != NULL)
			nf_registry[i]->iface_changed();
}

void nf_poll(uint64_t now_ms)
{
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->poll != NULL)
			nf_registry[i]->poll(now_ms);
}

void nf_stats(struct ctl_reply *r)
{
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->stats != NULL)
			nf_registry[i]->stats(r);
}

void nf_metrics(nf_metric_fn *add, void *sink)
{
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->metrics != NULL)
			nf_registry[i]->metrics(add, sink);
}

void nf_fini(void)
{
	for (size_t i = nf_count; i-- > 0;)
		if (nf_registry[i]->fini != NULL)
			nf_registry[i]->fini();
}

/* Does the boot configuration run this function? (a function with a config section runs only with it) */
bool nf_configured(const struct nf_desc *d, const struct npsgw_conf *boot)
{
	if (d->conf == NULL)
		return true;
	int slot = conf_ext_slot(d->conf->key);
	return slot >= 0 && boot != NULL && boot->ext[slot] != NULL;
}

size_t nf_graph_nodes(const char **out, size_t max)
{
	/* A function absent from the boot file (its tables are sized at boot: it cannot start later) adds no node:
	 * its source nodes would be polled for nothing on every walk. Its feature nodes stay reachable through the
	 * arcs' edges, and no VRF enables them. */
	size_t n = 0;
	for (size_t i = 0; i < nf_count; i++) {
		if (!nf_configured(nf_registry[i], dp.conf))
			continue;
		for (const char *const *p = nf_registry[i]->nodes; p != NULL && *p != NULL && n < max; p++)
			out[n++] = *p;
	}
	return n;
}

size_t nf_ctl_tables(struct ctl_cmd_table *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < nf_count && n < max; i++)
		if (nf_registry[i]->n_cmds > 0)
			out[n++] = (struct ctl_cmd_table){nf_registry[i]->cmds, nf_registry[i]->n_cmds};
	return n;
}
