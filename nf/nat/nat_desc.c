/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT as the core's registry sees it (nf/nf.h): its config section, nodes, arc features, commands, hooks. */
#include "nf/nat/nat_cp.h"
#include "nf/nat/nat_ctl.h"
#include "nf/nf.h"

static int ops_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
		    char *err, size_t errlen)
{
	struct nat_conf *c;
	if (nat_conf_read(s, core, file, &c, err, errlen) != 0)
		return -1;
	*model = c;
	return 0;
}

static void ops_free(void *model)
{
	nat_conf_free(model);
}

static bool ops_equal(const void *a, const void *b)
{
	return nat_conf_equal(a, b);
}

static void *ops_dup(const void *model)
{
	return nat_conf_dup(model);
}

static void ops_write(FILE *out, const void *model)
{
	nat_conf_write(out, model);
}

const struct conf_ext_ops nat_conf_ops = {
	.key = "nat",
	.read = ops_read,
	.free = ops_free,
	.equal = ops_equal,
	.dup = ops_dup,
	.write = ops_write,
};

static const char *const nat_nodes[] = {NODE_NAT_HOUSE, NODE_NAT_IN2OUT, NODE_NAT_OUT2IN, NODE_NAT_HAIRPIN, NULL};

/*
 * In2out after the firewall's forwarding feature (order 100: the firewall sees the private addresses); out2in on
 * the input arc, before the route lookup, so routing and the firewall see the inside view of replies; hairpin on
 * the input arc of tenant VRFs, before their route lookup (which would follow the leak into the pool's VRF and meet
 * its blackhole for the pool prefix). Out2in runs in pool VRFs, hairpin in tenant VRFs: their order is moot.
 */
static const struct nf_feature_reg nat_features[] = {
	{FEAT_IP4_FWD, NODE_NAT_IN2OUT, 200},
	{FEAT_IP4_IN, NODE_NAT_OUT2IN, 200},
	{FEAT_IP4_IN, NODE_NAT_HAIRPIN, 200},
	{FEAT_IP4_FWD, NULL, 0},
};

void nat_steer(struct flow_plan *plan); /* nf/nat/nat_steer.c */

const struct nf_desc nat_nf = {
	.name = "nat",
	.conf = &nat_conf_ops,
	.nodes = nat_nodes,
	.features = nat_features,
	.cmds = nat_commands,
	.n_cmds = NAT_N_COMMANDS,
	.init = nat_nf_init,
	.apply = nat_nf_apply,
	.export = nat_nf_export,
	.iface_changed = nat_nf_iface_changed,
	.poll = nat_nf_poll,
	.stats = nat_nf_stats,
	.steer = nat_steer,
	.fini = nat_nf_fini,
};
