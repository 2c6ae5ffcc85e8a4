/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec as the core's registry sees it (nf/nf.h): its config section, nodes, the tunnel output nodes of interfaces
 * of kind "ipsec", the local traffic it takes (ESP and NAT-T UDP 4500 addressed to the router), commands, hooks.
 */
#include <netinet/in.h>

#include "nf/ipsec/ipsec_cp.h"
#include "nf/ipsec/ipsec_ctl.h"
#include "nf/nf.h"

static int ops_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
		    char *err, size_t errlen)
{
	struct ipsec_conf *c;
	if (ipsec_conf_read(s, core, file, &c, err, errlen) != 0)
		return -1;
	*model = c;
	return 0;
}

static void ops_free(void *model)
{
	ipsec_conf_free(model);
}

static bool ops_equal(const void *a, const void *b)
{
	return ipsec_conf_equal(a, b);
}

static void *ops_dup(const void *model)
{
	return ipsec_conf_dup(model);
}

static void ops_write(FILE *out, const void *model)
{
	ipsec_conf_write(out, model);
}

const struct conf_ext_ops ipsec_conf_ops = {
	.key = "ipsec",
	.read = ops_read,
	.free = ops_free,
	.equal = ops_equal,
	.dup = ops_dup,
	.write = ops_write,
};

static const char *const ipsec_nodes[] = {NODE_IPSEC_IN, NODE_IPSEC4_OUT, NODE_IPSEC6_OUT, NODE_IPSEC_HOUSE, NULL};

/* ESP (RFC 4303) and ESP in UDP (RFC 3948) addressed to the router, over IPv4 and IPv6. */
static const struct nf_local_reg ipsec_local[] = {
	{4, IPPROTO_ESP, 0, NODE_IPSEC_IN, true},
	{6, IPPROTO_ESP, 0, NODE_IPSEC_IN, true},
	/* UDP fragments too: their port is known after reassembly (ipsec_in drops those not to 4500) */
	{4, IPPROTO_UDP, IPSEC_NATT_PORT, NODE_IPSEC_IN, true},
	{6, IPPROTO_UDP, IPSEC_NATT_PORT, NODE_IPSEC_IN, true},
	{0, 0, 0, NULL, false},
};

const struct nf_desc ipsec_nf = {
	.name = "ipsec",
	.conf = &ipsec_conf_ops,
	.nodes = ipsec_nodes,
	.tunnel_out = {NODE_IPSEC4_OUT, NODE_IPSEC6_OUT},
	.local = ipsec_local,
	.cmds = ipsec_commands,
	.n_cmds = IPSEC_N_COMMANDS,
	.init = ipsec_nf_init,
	.apply = ipsec_nf_apply,
	.export = ipsec_nf_export,
	.iface_changed = ipsec_nf_iface_changed,
	.poll = ipsec_nf_poll,
	.stats = ipsec_nf_stats,
	.steer = ipsec_steer,
	.metrics = ipsec_tunnel_metrics,
	.fini = ipsec_nf_fini,
};
