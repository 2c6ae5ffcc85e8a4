/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nat section written back as the boot file says it (syntax: nf/nat/nat_conf.c). Every value is explicit, so
 * reading the output back gives an equal model (nat_conf_equal), which the tests check.
 */
#include <inttypes.h>
#include <stdio.h>

#include "lib/conf/conf_write.h"
#include "nf/nat/nat_conf.h"
#include "nf/nf_conf.h"

static void write_pool(FILE *out, const struct nat_pool_conf *p, bool last)
{
	fprintf(out, "\t\t{ name = \"%s\"; vrf = \"%s\"; prefixes = [", p->name, p->vrf);
	for (size_t i = 0; i < p->n_prefixes; i++) {
		char text[ADDR_STR_MAX];
		fprintf(out, "%s\"%s\"", i == 0 ? " " : ", ", addr_prefix_fmt(&p->prefixes[i], text, sizeof(text)));
	}
	fprintf(out, " ];\n\t\t  ports = \"%u-%u\"; block_size = %u; }%s\n", p->port_lo, p->port_hi, p->block_size,
		last ? "" : ",");
}

static void write_static(FILE *out, const struct nat_static_conf *m, bool last)
{
	char inside[ADDR_STR_MAX], public[ADDR_STR_MAX];
	fprintf(out, "\t\t\t{ proto = \"%s\"; inside = \"%s:%u\"; public = \"%s:%u\"; }%s\n",
		m->proto == 17 ? "udp" : "tcp", addr_fmt(&m->inside, inside, sizeof(inside)), m->inside_port,
		addr_fmt(&m->public, public, sizeof(public)), m->public_port, last ? "" : ",");
}

static void write_tenant(FILE *out, const struct nat_tenant_conf *t, bool last)
{
	fprintf(out, "\t\t{ vrf = \"%s\"; pool = \"%s\"; filtering = \"%s\";\n\t\t  ", t->vrf, t->pool,
		nat_filtering_name(t->filtering));
	conf_write_u32(out, "max_sessions", t->max_sessions);
	fprintf(out, " ");
	conf_write_u32(out, "max_blocks", t->max_blocks);
	fprintf(out, " hairpinning = %s;\n\t\t  static = (%s", t->hairpinning ? "true" : "false",
		t->n_statics > 0 ? "\n" : "");
	for (size_t i = 0; i < t->n_statics; i++)
		write_static(out, &t->statics[i], i + 1 == t->n_statics);
	fprintf(out, "%s); }%s\n", t->n_statics > 0 ? "\t\t  " : "", last ? "" : ",");
}

void nat_conf_write(FILE *out, const struct nat_conf *c)
{
	fprintf(out, "nat: {\n");
	nf_conf_write_sessions(out, &c->sessions);
	fprintf(out, "\t");
	conf_write_u32(out, "block_idle", c->block_idle_s);
	fprintf(out, "\n\t");
	conf_write_u32(out, "log_rate", c->log_rate);
	fprintf(out, "\n\tpools = (%s", c->n_pools > 0 ? "\n" : "");
	for (size_t i = 0; i < c->n_pools; i++)
		write_pool(out, &c->pools[i], i + 1 == c->n_pools);
	fprintf(out, "%s);\n", c->n_pools > 0 ? "\t" : "");
	fprintf(out, "\ttenants = (%s", c->n_tenants > 0 ? "\n" : "");
	for (size_t i = 0; i < c->n_tenants; i++)
		write_tenant(out, &c->tenants[i], i + 1 == c->n_tenants);
	fprintf(out, "%s);\n", c->n_tenants > 0 ? "\t" : "");
	fprintf(out, "};\n");
}
