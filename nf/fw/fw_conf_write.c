/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall section written back as the boot file says it (syntax: nf/fw/fw_conf.c). Every value is explicit;
 * prefix lists are not kept by the model, so rules carry their resolved prefixes. Reading the output back gives an
 * equal model (fw_conf_equal), which the tests check.
 */
#include <inttypes.h>
#include <stdio.h>

#include "lib/conf/conf_write.h"
#include "nf/fw/fw_conf.h"
#include "nf/nf_conf.h"

static const char *const tcp_flag_names[8] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};

static void write_prefixes(FILE *out, const char *key, const struct addr_prefix *p, size_t n)
{
	if (n == 0)
		return;
	fprintf(out, " %s = [", key);
	for (size_t i = 0; i < n; i++) {
		char text[ADDR_STR_MAX];
		fprintf(out, "%s\"%s\"", i == 0 ? " " : ", ", addr_prefix_fmt(&p[i], text, sizeof(text)));
	}
	fprintf(out, " ];");
}

/* A list ( ) since it may mix numbers and "lo-hi" strings. */
static void write_ports(FILE *out, const char *key, const struct fw_port_range *r, size_t n)
{
	if (n == 0)
		return;
	fprintf(out, " %s = (", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s", i == 0 ? " " : ", ");
		if (r[i].lo == r[i].hi)
			fprintf(out, "%u", r[i].lo);
		else
			fprintf(out, "\"%u-%u\"", r[i].lo, r[i].hi);
	}
	fprintf(out, " );");
}

static void write_proto(FILE *out, int16_t proto)
{
	switch (proto) {
	case -1:
		return;
	case 1:
		fprintf(out, " proto = \"icmp\";");
		return;
	case 6:
		fprintf(out, " proto = \"tcp\";");
		return;
	case 17:
		fprintf(out, " proto = \"udp\";");
		return;
	case 58:
		fprintf(out, " proto = \"icmpv6\";");
		return;
	default:
		fprintf(out, " proto = %d;", proto);
	}
}

static void write_tcp_flags(FILE *out, uint8_t mask, uint8_t set)
{
	if (mask == 0)
		return;
	fprintf(out, " tcp_flags = \"");
	bool first = true;
	for (unsigned bit = 0; bit < 8; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		fprintf(out, "%s%s%s", first ? "" : ",", set & (1u << bit) ? "" : "!", tcp_flag_names[bit]);
		first = false;
	}
	fprintf(out, "\";");
}

static void write_name(FILE *out, const char *key, const char *value)
{
	if (value[0] != '\0')
		fprintf(out, " %s = \"%s\";", key, value);
}

static void write_rule(FILE *out, const struct fw_rule_conf *r, bool last)
{
	fprintf(out, "\t\t\t\t{ name = \"%s\"; action = \"%s\"; log = %s;", r->name, fw_action_name(r->action),
		r->log ? "true" : "false");
	if (r->family != 0)
		fprintf(out, " family = %u;", r->family);
	write_proto(out, r->proto);
	write_prefixes(out, "src", r->src, r->n_src);
	write_prefixes(out, "dst", r->dst, r->n_dst);
	write_ports(out, "sport", r->sport, r->n_sport);
	write_ports(out, "dport", r->dport, r->n_dport);
	if (r->icmp_type >= 0)
		fprintf(out, " icmp_type = %d;", r->icmp_type);
	if (r->icmp_code >= 0)
		fprintf(out, " icmp_code = %d;", r->icmp_code);
	write_tcp_flags(out, r->tcp_flags_mask, r->tcp_flags_set);
	write_name(out, "from", r->from_zone);
	write_name(out, "to", r->to_zone);
	write_name(out, "in", r->in_iface);
	write_name(out, "out", r->out_iface);
	fprintf(out, " }%s\n", last ? "" : ",");
}

static void write_ruleset(FILE *out, const struct fw_ruleset_conf *rs, bool last)
{
	fprintf(out, "\t\t{\n\t\t\tvrf = \"%s\";\n\t\t\tdefault = \"%s\";\n\t\t\tdefault_log = %s;\n", rs->vrf,
		fw_action_name(rs->default_action), rs->default_log ? "true" : "false");
	fprintf(out, "\t\t\tpolicies = (%s", rs->n_policies > 0 ? "\n" : "");
	for (size_t i = 0; i < rs->n_policies; i++) {
		const struct fw_policy_conf *p = &rs->policies[i];
		fprintf(out, "\t\t\t\t{ from = \"%s\"; to = \"%s\"; action = \"%s\"; log = %s; }%s\n", p->from, p->to,
			fw_action_name(p->action), p->log ? "true" : "false", i + 1 == rs->n_policies ? "" : ",");
	}
	fprintf(out, "%s);\n", rs->n_policies > 0 ? "\t\t\t" : "");
	fprintf(out, "\t\t\trules = (%s", rs->n_rules > 0 ? "\n" : "");
	for (size_t i = 0; i < rs->n_rules; i++)
		write_rule(out, &rs->rules[i], i + 1 == rs->n_rules);
	fprintf(out, "%s);\n", rs->n_rules > 0 ? "\t\t\t" : "");
	fprintf(out, "\t\t}%s\n", last ? "" : ",");
}

void fw_conf_write(FILE *out, const struct fw_conf *c)
{
	fprintf(out, "firewall: {\n");
	nf_conf_write_sessions(out, &c->sessions);
	fprintf(out, "\t");
	conf_write_u32(out, "reject_rate", c->reject_rate);
	fprintf(out, "\n\t");
	conf_write_u32(out, "log_rate", c->log_rate);
	fprintf(out, "\n\ton_rule_change = \"%s\";\n", c->on_rule_change == FW_REVALIDATE ? "revalidate" : "keep");
	fprintf(out, "\tzones = (%s", c->n_zones > 0 ? "\n" : "");
	for (size_t i = 0; i < c->n_zones; i++) {
		const struct fw_zone_conf *z = &c->zones[i];
		fprintf(out, "\t\t{ name = \"%s\"; interfaces = [", z->name);
		for (size_t k = 0; k < z->n_ifaces; k++)
			fprintf(out, "%s\"%s\"", k == 0 ? " " : ", ", z->ifaces[k]);
		fprintf(out, " ]; }%s\n", i + 1 == c->n_zones ? "" : ",");
	}
	fprintf(out, "%s);\n", c->n_zones > 0 ? "\t" : "");
	fprintf(out, "\trulesets = (%s", c->n_rulesets > 0 ? "\n" : "");
	for (size_t i = 0; i < c->n_rulesets; i++)
		write_ruleset(out, &c->rulesets[i], i + 1 == c->n_rulesets);
	fprintf(out, "%s);\n", c->n_rulesets > 0 ? "\t" : "");
	fprintf(out, "};\n");
}
