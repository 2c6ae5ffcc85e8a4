/* SPDX-License-Identifier: BSD-3-Clause */
/* DS-Lite as the core's registry sees it (nf/nf.h): its config section, nodes, arc feature, commands, hooks. */
#include "lib/conf/conf.h"
#include "nf/dslite/dslite_int.h"
#include "nf/nf.h"

/* The section names pools of the "nat" section: read after it (registration order), checked against its model. */
static int ops_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
		    char *err, size_t errlen)
{
	int nat_slot = conf_ext_slot("nat");
	const void *nat_model = core != NULL && nat_slot >= 0 ? core->ext[nat_slot] : NULL;
	struct dslite_conf *c;
	if (dslite_conf_read(s, core, nat_model, file, &c, err, errlen) != 0)
		return -1;
	*model = c;
	return 0;
}

static void ops_free(void *model)
{
	dslite_conf_free(model);
}

static bool ops_equal(const void *a, const void *b)
{
	return dslite_conf_equal(a, b);
}

static void *ops_dup(const void *model)
{
	return dslite_conf_dup(model);
}

static void ops_write(FILE *out, const void *model)
{
	dslite_conf_write(out, model);
}

const struct conf_ext_ops dslite_conf_ops = {
	.key = "dslite",
	.read = ops_read,
	.free = ops_free,
	.equal = ops_equal,
	.dup = ops_dup,
	.write = ops_write,
};

static const char *const dslite_nodes[] = {NODE_DSLITE_HOUSE, NODE_DSLITE_DECAP, NODE_DSLITE_ENCAP, NULL};

/* Softwires are taken off the IPv6 input arc before the route lookup (the AFTR address may be the router's). */
static const struct nf_feature_reg dslite_features[] = {
	{FEAT_IP6_IN, NODE_DSLITE_DECAP, 200},
	{FEAT_IP6_IN, NULL, 0},
};

void dslite_steer(struct flow_plan *plan); /* nf/dslite/dslite_steer.c */

const struct nf_desc dslite_nf = {
	.name = "dslite",
	.conf = &dslite_conf_ops,
	.nodes = dslite_nodes,
	.features = dslite_features,
	.cmds = dslite_commands,
	.n_cmds = DSLITE_N_COMMANDS,
	.init = dslite_nf_init,
	.apply = dslite_nf_apply,
	.export = dslite_nf_export,
	.iface_changed = dslite_nf_iface_changed,
	.poll = dslite_nf_poll,
	.stats = dslite_nf_stats,
	.steer = dslite_steer,
	.fini = dslite_nf_fini,
};
