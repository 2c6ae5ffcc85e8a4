/* SPDX-License-Identifier: BSD-3-Clause */
/* The firewall as the core's registry sees it (nf/nf.h): its config section, nodes, arc features, commands, hooks. */
#include "nf/fw/fw_cp.h"
#include "nf/fw/fw_ctl.h"
#include "nf/nf.h"

static int ops_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
		     char *err, size_t errlen)
{
	struct fw_conf *c;
	if (fw_conf_read(s, core, file, &c, err, errlen) != 0)
		return -1;
	*model = c;
	return 0;
}

static void ops_free(void *model)
{
	fw_conf_free(model);
}

static bool ops_equal(const void *a, const void *b)
{
	return fw_conf_equal(a, b);
}

static void *ops_dup(const void *model)
{
	return fw_conf_dup(model);
}

static void ops_write(FILE *out, const void *model)
{
	fw_conf_write(out, model);
}

const struct conf_ext_ops fw_conf_ops = {
	.key = "firewall",
	.read = ops_read,
	.free = ops_free,
	.equal = ops_equal,
	.dup = ops_dup,
	.write = ops_write,
};

static const char *const fw_nodes[] = {NODE_FW_HOUSE, NODE_FW4, NODE_FW6, NULL};

/* The firewall runs first on both forwarding arcs (NAT, later, comes after it: order 200). */
static const struct nf_feature_reg fw_features[] = {
	{FEAT_IP4_FWD, NODE_FW4, 100},
	{FEAT_IP6_FWD, NODE_FW6, 100},
	{FEAT_IP4_FWD, NULL, 0},
};

const struct nf_desc fw_nf = {
	.name = "firewall",
	.conf = &fw_conf_ops,
	.nodes = fw_nodes,
	.features = fw_features,
	.cmds = fw_commands,
	.n_cmds = FW_N_COMMANDS,
	.init = fw_nf_init,
	.apply = fw_nf_apply,
	.export = fw_nf_export,
	.iface_changed = fw_nf_iface_changed,
	.poll = fw_nf_poll,
	.stats = fw_nf_stats,
	.fini = fw_nf_fini,
};
