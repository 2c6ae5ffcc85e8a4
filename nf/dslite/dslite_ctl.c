/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DS-Lite's commands: `dslite show aftrs`, `dslite show b4s` (filtered, paged), `dslite show stats`, and the
 * counters of `show stats`. The B4 tables and the engine's subscribers are read in place on the control thread (a
 * row being written may show torn, which a display tolerates); a subscriber found through the engine's hash is
 * checked against its realm before use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>

#include "dataplane/cp.h"
#include "dataplane/ctl_cmds.h"
#include "nf/dslite/dslite_int.h"

#define B4S_LIMIT_DEFAULT 100
#define B4S_LIMIT_MAX 100000
#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

CTL_HANDLER(dslite_cmd_show_aftrs);
CTL_HANDLER(dslite_cmd_show_b4s);
CTL_HANDLER(dslite_cmd_show_stats);

const struct ctl_cmd dslite_commands[DSLITE_N_COMMANDS] = {
	{"dslite show aftrs", "", "", "DS-Lite AFTRs: endpoint, VRFs, pool, MTU, MSS clamp, B4 prefixes, B4s known",
	 dslite_cmd_show_aftrs},
	{"dslite show b4s", "", "aftr b4 worker skip limit",
	 "B4 elements with their softwire, sessions, port blocks and public address (filters: aftr name, b4 address "
	 "or prefix, worker; paged: default limit 100)",
	 dslite_cmd_show_b4s},
	{"dslite show stats", "", "", "DS-Lite counters, summed over the workers", dslite_cmd_show_stats},
};

static const char *v6_fmt(const uint8_t a[16], char *buf, size_t len)
{
	struct addr x = {.family = 6};
	memcpy(x.bytes, a, 16);
	return addr_fmt(&x, buf, len);
}

/* B4s known per AFTR slot, over every worker. */
static void b4_counts(uint64_t n[DSLITE_MAX_AFTRS])
{
	memset(n, 0, sizeof(uint64_t) * DSLITE_MAX_AFTRS);
	for (unsigned w = 0; dsl.workers != NULL && w < dsl.n_workers; w++) {
		const struct dslite_worker *dw = &dsl.workers[w];
		if (dw->n_b4 == 0)
			continue;
		for (uint32_t i = 0; i < dw->max_b4; i++)
			if (__atomic_load_n(&dw->b4[i].used, __ATOMIC_ACQUIRE) && dw->b4[i].aftr < DSLITE_MAX_AFTRS)
				n[dw->b4[i].aftr]++;
	}
}

int dslite_cmd_show_aftrs(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	uint64_t counts[DSLITE_MAX_AFTRS];
	b4_counts(counts);
	struct ctl_table *t = ctl_reply_table(r, "aftrs", "name", "address", "transport_vrf", "vrf", "pool", "#mtu",
					      "#mss_clamp", "b4_prefixes", "filtering", "#max_sessions", "#max_blocks",
					      "#b4s", "state", NULL);
	for (size_t i = 0; dsl.conf != NULL && i < dsl.conf->n_aftrs; i++) {
		const struct dslite_aftr_conf *c = &dsl.conf->aftrs[i];
		const struct dslite_aftr_rt *rt = NULL;
		for (int s = 0; s < DSLITE_MAX_AFTRS && rt == NULL; s++)
			if (dsl.aftrs[s] != NULL && strcmp(dsl.aftrs[s]->name, c->name) == 0)
				rt = dsl.aftrs[s];
		char addr[ADDR_STR_MAX], pfx[512] = "", mtu[8], mss[8], ms[16], mb[16], nb[24];
		addr_fmt(&c->address, addr, sizeof(addr));
		for (size_t k = 0; k < c->n_b4_prefixes; k++) {
			char p[ADDR_STR_MAX + 4];
			addr_prefix_fmt(&c->b4_prefixes[k], p, sizeof(p));
			size_t l = strlen(pfx);
			snprintf(pfx + l, sizeof(pfx) - l, "%s%s", k ? "," : "", p);
		}
		snprintf(mtu, sizeof(mtu), "%u", c->mtu);
		snprintf(mss, sizeof(mss), "%u", c->mss_clamp);
		snprintf(ms, sizeof(ms), "%u", c->max_sessions);
		snprintf(mb, sizeof(mb), "%u", c->max_blocks);
		ctl_table_row(t, c->name, addr, c->transport_vrf, c->vrf, c->pool, mtu, mss, pfx,
			      nat_filtering_name(c->filtering), ms, mb, U64(nb, rt ? counts[rt->slot] : 0),
			      rt != NULL ? (rt->icmp_iface != IFACE_NONE ? "active" : "active (no IPv4 address in vrf: "
										       "ICMPv6 errors not relayed)")
					 : "dormant (VRF or NAT pool missing)");
	}
	return 0;
}

struct b4_filter {
	int aftr;   /* slot, -1 any */
	int worker; /* -1 any */
	bool has_prefix;
	struct addr_prefix prefix;
};

static bool b4_match(const struct b4_filter *f, const struct dslite_b4 *e)
{
	if (f->aftr >= 0 && e->aftr != f->aftr)
		return false;
	if (f->has_prefix) {
		struct addr x = {.family = 6};
		memcpy(x.bytes, e->addr, 16);
		return addr_prefix_contains(&f->prefix, &x);
	}
	return true;
}

/* The engine's subscriber of a softwire (display only), NULL when none. */
static const struct nat_sub *sub_of(unsigned w, uint32_t sw)
{
	struct nat_worker *nw = nat.workers != NULL && w < nat.n_workers ? &nat.workers[w] : NULL;
	if (nw == NULL || nw->subs == NULL)
		return NULL;
	struct nat_skey k = {.realm = NAT_REALM_B4 | sw, .addr = 0};
	int32_t pos = rte_hash_lookup(nw->subs, &k);
	if (pos < 0 || (uint32_t)pos >= nw->max_subs || nw->sub[pos].realm != k.realm)
		return NULL;
	return &nw->sub[pos];
}

int dslite_cmd_show_b4s(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	struct b4_filter f = {.aftr = -1, .worker = -1};
	uint32_t skip = 0, limit = B4S_LIMIT_DEFAULT, v;
	const char *an = ctl_arg(a, "aftr"), *b4 = ctl_arg(a, "b4");
	if (an != NULL) {
		for (int s = 0; s < DSLITE_MAX_AFTRS && f.aftr < 0; s++)
			if (dsl.aftrs[s] != NULL && strcmp(dsl.aftrs[s]->name, an) == 0)
				f.aftr = s;
		if (f.aftr < 0)
			return ctl_reply_error(r, ENOENT, "no running AFTR '%s'", an);
	}
	if (b4 != NULL) {
		if (addr_prefix_parse(b4, &f.prefix, false) != 0 || f.prefix.addr.family != 6)
			return ctl_reply_error(r, EINVAL, "bad b4 '%s' (expected an IPv6 address or prefix)", b4);
		f.has_prefix = true;
	}
	if (ctl_arg(a, "worker") != NULL) {
		if (ctl_arg_u32(a, "worker", 0, dsl.n_workers ? dsl.n_workers - 1 : 0, &v, err, sizeof(err)))
			return ctl_reply_error(r, EINVAL, "%s", err);
		f.worker = (int)v;
	}
	if (ctl_arg(a, "skip") != NULL && ctl_arg_u32(a, "skip", 0, UINT32_MAX, &skip, err, sizeof(err)))
		return ctl_reply_error(r, EINVAL, "%s", err);
	if (ctl_arg(a, "limit") != NULL && ctl_arg_u32(a, "limit", 1, B4S_LIMIT_MAX, &limit, err, sizeof(err)))
		return ctl_reply_error(r, EINVAL, "%s", err);

	struct ctl_table *t = ctl_reply_table(r, "b4s", "b4", "aftr", "#worker", "#softwire", "#sessions", "#blocks",
					      "public", "#pkts_in", "#pkts_out", "#idle_s", NULL);
	uint64_t matched = 0, now = cp_now_ms();
	bool more = false;
	for (unsigned w = 0; dsl.workers != NULL && w < dsl.n_workers && !more; w++) {
		if (f.worker >= 0 && (unsigned)f.worker != w)
			continue;
		const struct dslite_worker *dw = &dsl.workers[w];
		for (uint32_t i = 0; dw->n_b4 > 0 && i < dw->max_b4; i++) {
			const struct dslite_b4 *e = &dw->b4[i];
			if (!__atomic_load_n(&e->used, __ATOMIC_ACQUIRE) || !b4_match(&f, e))
				continue;
			if (matched++ < skip)
				continue;
			if (matched > (uint64_t)skip + limit) {
				more = true;
				break;
			}
			const struct nat_sub *s = sub_of(w, i);
			const struct nat_paddr *pa = s != NULL ? nat_paddr_get(s->paddr) : NULL;
			const struct dslite_aftr_rt *ar = dslite_aftr_get(e->aftr);
			char ab[ADDR_STR_MAX], pub[ADDR_STR_MAX] = "-", c[8][24];
			if (pa != NULL) {
				struct addr x;
				addr_from_v4_host(&x, pa->addr);
				addr_fmt(&x, pub, sizeof(pub));
			}
			uint64_t last = e->last_ms;
			ctl_table_row(t, v6_fmt(e->addr, ab, sizeof(ab)), ar != NULL ? ar->name : "(removed)", U64(c[0], w),
				      U64(c[1], i), U64(c[2], s ? s->n_sessions : 0), U64(c[3], s ? s->n_blocks : 0), pub,
				      U64(c[4], e->pkts_in), U64(c[5], e->pkts_out),
				      U64(c[6], now > last ? (now - last) / 1000 : 0));
		}
	}
	if (more)
		sbuf_printf(&r->text, "(more: skip %" PRIu64 ")\n", (uint64_t)skip + limit);
	return 0;
}

static void stats_table(struct ctl_reply *r)
{
	static const char *const names[] = {
#define DSLITE_COUNTER_NAME(n, d) #n,
		DSLITE_COUNTERS(DSLITE_COUNTER_NAME)
#undef DSLITE_COUNTER_NAME
	};
	static const char *const descs[] = {
#define DSLITE_COUNTER_DESC(n, d) d,
		DSLITE_COUNTERS(DSLITE_COUNTER_DESC)
#undef DSLITE_COUNTER_DESC
	};
	uint64_t cnt[DSLITE_CNT_COUNT], b4s = 0;
	char b[24];
	dslite_counters_sum(cnt);
	for (unsigned w = 0; dsl.workers != NULL && w < dsl.n_workers; w++)
		b4s += dsl.workers[w].n_b4;
	struct ctl_table *t = ctl_reply_table(r, "dslite", "counter", "#value", "description", NULL);
	ctl_table_row(t, "b4s", U64(b, b4s), "B4 elements known now (all workers)");
	for (int i = 0; i < DSLITE_CNT_COUNT; i++)
		ctl_table_row(t, names[i], U64(b, cnt[i]), descs[i]);
}

int dslite_cmd_show_stats(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	stats_table(r);
	return 0;
}

void dslite_nf_stats(struct ctl_reply *r)
{
	if (dsl.workers != NULL)
		stats_table(r);
}
