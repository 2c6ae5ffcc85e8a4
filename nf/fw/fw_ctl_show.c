/* SPDX-License-Identifier: BSD-3-Clause */
/* `fw show rules`, `fw show zones`, `fw show stats`: read-only views of the running firewall. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"
#include "nf/fw/fw_cp.h"
#include "nf/fw/fw_ctl.h"

#define MATCH_TEXT_MAX 480 /* a rule's match summary is cut here ("...") */
#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

static int check_enabled(struct ctl_reply *r)
{
	if (fw.conf != NULL)
		return 0;
	return ctl_reply_error(r, ENOTSUP, "the firewall is not enabled (the %s configuration has no firewall section)",
			       fw.workers == NULL ? "boot" : "running");
}

static void prefixes_fmt(struct sbuf *b, const char *key, const struct addr_prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char pb[ADDR_STR_MAX];
		sbuf_printf(b, "%s%s", i ? "," : key, addr_prefix_fmt(&p[i], pb, sizeof(pb)));
	}
}

static void ports_fmt(struct sbuf *b, const char *key, const struct fw_port_range *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(b, "%s%u", i ? "," : key, p[i].lo);
		if (p[i].hi != p[i].lo)
			sbuf_printf(b, "-%u", p[i].hi);
	}
}

/* TCP flags as letters (FSRPAUEC), e.g. "S/SA": set / mask. */
static void flags_fmt(struct sbuf *b, uint8_t set, uint8_t mask)
{
	static const char letters[] = "FSRPAUEC";
	sbuf_printf(b, " flags ");
	for (int i = 0; i < 8; i++)
		if (set & (1u << i))
			sbuf_append(b, &letters[i], 1);
	sbuf_append(b, "/", 1);
	for (int i = 0; i < 8; i++)
		if (mask & (1u << i))
			sbuf_append(b, &letters[i], 1);
}

static void match_fmt(struct sbuf *b, const struct fw_rule_conf *rule)
{
	char pn[16];
	if (rule->family)
		sbuf_printf(b, " ipv%u", rule->family);
	if (rule->proto >= 0)
		sbuf_printf(b, " proto %s", fw_proto_name((uint8_t)rule->proto, pn, sizeof(pn)));
	prefixes_fmt(b, " src ", rule->src, rule->n_src);
	prefixes_fmt(b, " dst ", rule->dst, rule->n_dst);
	ports_fmt(b, " sport ", rule->sport, rule->n_sport);
	ports_fmt(b, " dport ", rule->dport, rule->n_dport);
	if (rule->icmp_type >= 0)
		sbuf_printf(b, " icmp_type %d", rule->icmp_type);
	if (rule->icmp_code >= 0)
		sbuf_printf(b, " icmp_code %d", rule->icmp_code);
	if (rule->tcp_flags_mask)
		flags_fmt(b, rule->tcp_flags_set, rule->tcp_flags_mask);
	if (rule->from_zone[0])
		sbuf_printf(b, " from %s", rule->from_zone);
	if (rule->to_zone[0])
		sbuf_printf(b, " to %s", rule->to_zone);
	if (rule->in_iface[0])
		sbuf_printf(b, " in %s", rule->in_iface);
	if (rule->out_iface[0])
		sbuf_printf(b, " out %s", rule->out_iface);
	if (b->len == 0)
		sbuf_printf(b, " any");
	if (b->len > MATCH_TEXT_MAX) {
		b->len = MATCH_TEXT_MAX - 3;
		sbuf_printf(b, "...");
	}
}

static struct fw_hits hits_sum(const struct fw_vrf *v, uint32_t entry)
{
	struct fw_hits s = {0};
	for (unsigned w = 0; w < fw.n_workers; w++) {
		const struct fw_hits *h = &v->hits[(size_t)w * v->hits_stride + entry];
		s.pkts += __atomic_load_n(&h->pkts, __ATOMIC_RELAXED);
		s.bytes += __atomic_load_n(&h->bytes, __ATOMIC_RELAXED);
	}
	return s;
}

static void rules_rows(struct ctl_table *t, const char *vrf, const struct fw_vrf *v)
{
	for (uint32_t i = 0; i < v->n_rules; i++) {
		const struct fw_rule_conf *rule = &v->conf.rules[i];
		struct fw_hits h = hits_sum(v, i);
		struct sbuf m;
		char idx[24], p[24], b[24];
		sbuf_init(&m);
		match_fmt(&m, rule);
		ctl_table_row(t, vrf, U64(idx, i + 1), rule->name, fw_action_name(rule->action),
			      rule->log ? "yes" : "no", m.data != NULL ? m.data + 1 : "", U64(p, h.pkts),
			      U64(b, h.bytes));
		sbuf_free(&m);
	}
}

static void policies_rows(struct ctl_table *t, const char *vrf, const struct fw_vrf *v)
{
	for (size_t i = 0; i < v->conf.n_policies; i++) {
		const struct fw_policy_conf *p = &v->conf.policies[i];
		ctl_table_row(t, vrf, p->from, p->to, fw_action_name(p->action), p->log ? "yes" : "no");
	}
}

static void ruleset_row(struct ctl_table *t, const char *vrf, const struct fw_vrf *v)
{
	struct fw_hits hp = hits_sum(v, FW_HIT_POLICY(v)), hd = hits_sum(v, FW_HIT_DEFAULT(v));
	uint32_t entries = 0;
	char c[7][24];
	for (int f = 0; f < 2; f++)
		entries += v->cls[f] != NULL ? fw_classifier_entries(v->cls[f]) : 0;
	ctl_table_row(t, vrf, U64(c[0], v->gen), U64(c[1], v->n_rules), U64(c[2], entries),
		      fw_action_name(v->default_action), v->default_log ? "yes" : "no", U64(c[3], hp.pkts),
		      U64(c[4], hp.bytes), U64(c[5], hd.pkts), U64(c[6], hd.bytes));
}

int fw_cmd_show_rules(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	const char *vname = ctl_arg(a, "vrf");
	if (check_enabled(r))
		return r->status;
	if (vname != NULL && vrf_by_name(vname) == NULL)
		return ctl_reply_error(r, ENOENT, "no VRF '%s'", vname);
	struct ctl_table *rs = ctl_reply_table(r, "rulesets", "vrf", "#generation", "#rules", "#acl_entries", "default",
					       "default_log", "#policy_packets", "#policy_bytes", "#default_packets",
					       "#default_bytes", NULL);
	struct ctl_table *rt = ctl_reply_table(r, "rules", "vrf", "#index", "name", "action", "log", "match",
					       "#packets", "#bytes", NULL);
	struct ctl_table *pt = ctl_reply_table(r, "policies", "vrf", "from", "to", "action", "log", NULL);
	for (uint32_t s = 0; s < dp.max_vrfs; s++) {
		const struct fw_vrf *v = fw.vrfs[s];
		const char *name = fw_vrf_name(s);
		if (v == NULL || (vname != NULL && strcmp(vname, name) != 0))
			continue;
		ruleset_row(rs, name, v);
		rules_rows(rt, name, v);
		policies_rows(pt, name, v);
	}
	if (vname != NULL && rs->nrows == 0)
		sbuf_printf(&r->text, "(VRF %s has no firewall rule set: its traffic is not filtered)\n", vname);
	return 0;
}

int fw_cmd_show_zones(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (check_enabled(r))
		return r->status;
	struct ctl_table *t = ctl_reply_table(r, "zones", "#id", "zone", "interfaces", "missing", NULL);
	for (size_t z = 0; z < fw.conf->n_zones; z++) {
		const struct fw_zone_conf *zc = &fw.conf->zones[z];
		struct sbuf present, missing;
		char id[24];
		sbuf_init(&present);
		sbuf_init(&missing);
		for (size_t i = 0; i < zc->n_ifaces; i++) {
			struct sbuf *b = iface_by_name(zc->ifaces[i]) != NULL ? &present : &missing;
			sbuf_printf(b, "%s%s", b->len ? "," : "", zc->ifaces[i]);
		}
		ctl_table_row(t, U64(id, z + 1), zc->name, present.data != NULL ? present.data : "",
			      missing.data != NULL ? missing.data : "");
		sbuf_free(&present);
		sbuf_free(&missing);
	}
	return 0;
}

int fw_cmd_show_stats(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	fw_stats_table(r);
	return 0;
}
