/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `fw show sessions`: filtered and paged for tables of millions. Each worker's session array is read in place
 * (ct_session_const/ct_session_key: the control thread only reads; a row being written may show torn, which a
 * display tolerates); the walk skips `skip` matches, stops after `limit` rows and one more match (the "more"
 * marker), so a reply never grows with the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataplane/cp.h"
#include "nf/fw/fw_cp.h"
#include "nf/fw/fw_ctl.h"

#define SESSIONS_LIMIT_DEFAULT 100
#define SESSIONS_LIMIT_MAX 100000
#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

struct sess_filter {
	int64_t vrf, proto, port, state, worker; /* -1: any */
	bool has_prefix;
	struct addr_prefix prefix; /* either endpoint inside */
};

struct sess_walk {
	struct sess_filter f;
	struct ctl_table *t;
	uint64_t skip, limit, matched, now;
	bool more;
};

static int proto_parse(const char *s, int64_t *out)
{
	static const char *const names[] = {"icmp", "tcp", "udp", "icmpv6", "sctp"};
	static const int numbers[] = {1, 6, 17, 58, 132};
	char *end;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = numbers[i];
			return 0;
		}
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v > 255)
		return EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int state_parse(const char *s, int64_t *out)
{
	for (int st = CT_S_FREE + 1; st < CT_S_COUNT; st++)
		if (strcasecmp(s, ct_state_name((uint8_t)st)) == 0) {
			*out = st;
			return 0;
		}
	return EINVAL;
}

static int states_error(const char *state, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "bad state '%s' (expected one of", state);
	for (int st = CT_S_FREE + 1; st < CT_S_COUNT && n > 0 && (size_t)n < errlen; st++)
		n += snprintf(err + n, errlen - (size_t)n, " %s", ct_state_name((uint8_t)st));
	if (n > 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ")");
	return EINVAL;
}

static int u32_opt(const struct ctl_args *a, const char *key, uint32_t max, int64_t *out, char *err, size_t errlen)
{
	uint32_t v;
	if (ctl_arg(a, key) == NULL)
		return 0;
	if (ctl_arg_u32(a, key, 0, max, &v, err, errlen))
		return EINVAL;
	*out = v;
	return 0;
}

static int filter_parse(const struct ctl_args *a, struct sess_filter *f, char *err, size_t errlen)
{
	const char *vname = ctl_arg(a, "vrf"), *proto = ctl_arg(a, "proto"), *addr = ctl_arg(a, "addr");
	const char *state = ctl_arg(a, "state");
	const struct vrf *v = vname != NULL ? vrf_by_name(vname) : NULL;
	*f = (struct sess_filter){.vrf = -1, .proto = -1, .port = -1, .state = -1, .worker = -1};
	if (vname != NULL && v == NULL) {
		snprintf(err, errlen, "no VRF '%s'", vname);
		return ENOENT;
	}
	f->vrf = v != NULL ? (int64_t)v->slot : -1;
	if (proto != NULL && proto_parse(proto, &f->proto)) {
		snprintf(err, errlen, "bad proto '%s' (expected tcp, udp, icmp, icmpv6, sctp or 0..255)", proto);
		return EINVAL;
	}
	if (addr != NULL && addr_prefix_parse(addr, &f->prefix, false) != 0) {
		snprintf(err, errlen, "bad addr '%s' (expected an IPv4 or IPv6 address or prefix)", addr);
		return EINVAL;
	}
	f->has_prefix = addr != NULL;
	if (state != NULL && state_parse(state, &f->state))
		return states_error(state, err, errlen);
	if (u32_opt(a, "port", 65535, &f->port, err, errlen) ||
	    u32_opt(a, "worker", fw.n_workers ? fw.n_workers - 1 : 0, &f->worker, err, errlen))
		return EINVAL;
	return 0;
}

static bool addr_in(const struct sess_filter *f, const struct ct_key *k, unsigned side)
{
	struct addr a = {.family = k->family};
	memcpy(a.bytes, k->addr[side], 16);
	return addr_prefix_contains(&f->prefix, &a);
}

static bool matches(const struct sess_filter *f, const struct ct_key *k, const struct ct_session *s)
{
	return (f->vrf < 0 || k->vrf == f->vrf) && (f->proto < 0 || k->proto == f->proto) &&
	       (f->state < 0 || s->state == f->state) &&
	       (f->port < 0 || k->port[0] == f->port || k->port[1] == f->port) &&
	       (!f->has_prefix || addr_in(f, k, 0) || addr_in(f, k, 1));
}

/* The rule that opened the session (user[0] = rule index + 1, 0 = zone policy or default; user[1] = generation). */
static void rule_of(const struct ct_key *k, const struct ct_session *s, char *buf, size_t len)
{
	const struct fw_vrf *v = k->vrf < dp.max_vrfs ? fw.vrfs[k->vrf] : NULL;
	uint32_t rule = s->user[FW_SESS_RULE];
	if (rule == 0)
		snprintf(buf, len, "(policy or default)");
	else if (v != NULL && v->gen == s->user[FW_SESS_GEN] && rule <= v->n_rules)
		snprintf(buf, len, "%s", v->conf.rules[rule - 1].name);
	else
		snprintf(buf, len, "#%" PRIu32 " (replaced rule set)", rule);
}

static void session_row(struct sess_walk *w, unsigned worker, const struct ct_key *k, const struct ct_session *s)
{
	unsigned o = s->init_side & 1;
	struct addr src = {.family = k->family}, dst = {.family = k->family};
	char sb[ADDR_STR_MAX], db[ADDR_STR_MAX], pn[16], rule[FW_NAME_MAX + 32], c[10][24];
	memcpy(src.bytes, k->addr[o], 16);
	memcpy(dst.bytes, k->addr[o ^ 1], 16);
	rule_of(k, s, rule, sizeof(rule));
	uint64_t age = w->now > s->created_ms ? w->now - s->created_ms : 0;
	uint64_t left = s->expires_ms > w->now ? s->expires_ms - w->now : 0;
	ctl_table_row(w->t, fw_vrf_name(k->vrf), fw_proto_name(k->proto, pn, sizeof(pn)),
		      addr_fmt(&src, sb, sizeof(sb)), U64(c[0], k->port[o]), addr_fmt(&dst, db, sizeof(db)),
		      U64(c[1], k->port[o ^ 1]), ct_state_name(s->state), U64(c[2], age / 1000), U64(c[3], left / 1000),
		      U64(c[4], s->pkts[CT_DIR_ORIG]), U64(c[5], s->bytes[CT_DIR_ORIG]),
		      U64(c[6], s->pkts[CT_DIR_REPLY]), U64(c[7], s->bytes[CT_DIR_REPLY]), rule, U64(c[8], worker));
}

/* Walk one worker's table; false once the page is full and one more match was seen. */
static bool walk_worker(struct sess_walk *w, unsigned worker)
{
	const struct ct_table *t = fw.workers[worker].ct;
	uint32_t cap = ct_table_capacity(t);
	for (uint32_t i = 0; i < cap; i++) {
		const struct ct_session *s = ct_session_const(t, i);
		if (s->state == CT_S_FREE)
			continue;
		const struct ct_key *k = ct_session_key(t, i);
		if (k == NULL || !matches(&w->f, k, s) || w->matched++ < w->skip)
			continue;
		if (w->t->nrows >= w->limit) {
			w->more = true;
			return false;
		}
		session_row(w, worker, k, s);
	}
	return true;
}

int fw_cmd_show_sessions(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	uint32_t skip = 0, limit = SESSIONS_LIMIT_DEFAULT;
	struct sess_walk w = {0};
	int rc;
	if (fw.workers == NULL)
		return ctl_reply_error(r, ENOTSUP,
				       "the firewall is not enabled (the boot configuration has no firewall section)");
	if ((rc = filter_parse(a, &w.f, err, sizeof(err))) ||
	    (ctl_arg(a, "skip") && (rc = ctl_arg_u32(a, "skip", 0, UINT32_MAX, &skip, err, sizeof(err)))) ||
	    (ctl_arg(a, "limit") && (rc = ctl_arg_u32(a, "limit", 1, SESSIONS_LIMIT_MAX, &limit, err, sizeof(err)))))
		return ctl_reply_error(r, rc, "%s", err);
	w.skip = skip;
	w.limit = limit;
	w.now = cp_now_ms();
	w.t = ctl_reply_table(r, "sessions", "vrf", "proto", "src", "#sport", "dst", "#dport", "state", "#age_s",
			      "#expires_s", "#pkts_orig", "#bytes_orig", "#pkts_reply", "#bytes_reply", "rule",
			      "#worker", NULL);
	for (unsigned i = 0; i < fw.n_workers; i++)
		if ((w.f.worker < 0 || w.f.worker == i) && !walk_worker(&w, i))
			break;
	if (w.more)
		sbuf_printf(&r->text, "(more sessions match: showing %zu from %u; next page: skip %" PRIu64 ")\n",
			    w.t->nrows, skip, (uint64_t)skip + w.t->nrows);
	return 0;
}
