/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dslite section written back as the boot file says it (syntax: nf/dslite/dslite_conf.c). Every value is
 * explicit, so reading the output back gives an equal model (dslite_conf_equal), which the tests check.
 */
#include <inttypes.h>
#include <stdio.h>

#include "lib/conf/conf_write.h"
#include "nf/dslite/dslite_conf.h"
#include "nf/nat/nat_conf.h"

static void write_aftr(FILE *out, const struct dslite_aftr_conf *a, bool last)
{
	char text[ADDR_STR_MAX];
	fprintf(out, "\t\t{ name = \"%s\"; address = \"%s\"; transport_vrf = \"%s\"; vrf = \"%s\"; pool = \"%s\";\n",
		a->name, addr_fmt(&a->address, text, sizeof(text)), a->transport_vrf, a->vrf, a->pool);
	fprintf(out, "\t\t  b4_prefixes = [");
	for (size_t i = 0; i < a->n_b4_prefixes; i++)
		fprintf(out, "%s\"%s\"", i == 0 ? " " : ", ", addr_prefix_fmt(&a->b4_prefixes[i], text, sizeof(text)));
	fprintf(out, " ];\n\t\t  mtu = %u; mss_clamp = %u; ", a->mtu, a->mss_clamp);
	conf_write_u32(out, "max_sessions", a->max_sessions);
	fprintf(out, " ");
	conf_write_u32(out, "max_blocks", a->max_blocks);
	fprintf(out, " filtering = \"%s\"; }%s\n", nat_filtering_name(a->filtering), last ? "" : ",");
}

void dslite_conf_write(FILE *out, const struct dslite_conf *c)
{
	fprintf(out, "dslite: {\n\t");
	conf_write_u32(out, "reassembly_max", c->reassembly_max);
	fprintf(out, "\n\t");
	conf_write_u32(out, "reassembly_timeout_ms", c->reassembly_timeout_ms);
	fprintf(out, "\n\taftrs = (%s", c->n_aftrs > 0 ? "\n" : "");
	for (size_t i = 0; i < c->n_aftrs; i++)
		write_aftr(out, &c->aftrs[i], i + 1 == c->n_aftrs);
	fprintf(out, "%s);\n};\n", c->n_aftrs > 0 ? "\t" : "");
}
