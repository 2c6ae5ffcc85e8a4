/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading and checking the "dslite" section, and the model's free/copy/compare. Syntax (every key optional unless
 * marked required; "N..M" is the accepted range):
 *
 *   dslite: {
 *     reassembly_max = 4096;         # IPv6 tunnel datagrams being reassembled at once, per worker; 1..1048576
 *     reassembly_timeout_ms = 2000;  # a datagram still incomplete after this is dropped; 1..60000
 *     aftrs = (
 *       { name = "aftr1";            # required, unique
 *         address = "2001:db8:ffff::1";   # required: the AFTR's IPv6 unicast address (softwire end), unique
 *         transport_vrf = "access";  # required: VRF of the IPv6 access network (softwires arrive, replies leave)
 *         vrf = "internet";          # required: VRF where the decapsulated, translated IPv4 is routed
 *         pool = "pub";              # required: a pool of the nat section
 *         b4_prefixes = [ "2001:db8:100::/40" ];   # required, at least one: IPv6 prefixes of accepted B4s
 *         mtu = 1500;                # IPv6 MTU of the softwire path; 1280..9000
 *         mss_clamp = 1420;          # TCP MSS clamped on SYNs both ways: mtu - 80 (the IPv6, IPv4 and TCP
 *                                    # headers around it); 0 (off) or 536..mtu - 80
 *         max_sessions = 2000;       # per B4; 1..2^31
 *         max_blocks = 4;            # port blocks per B4; 1..32
 *         filtering = "address-and-port-dependent";  # | "address-dependent" | "endpoint-independent"
 *       } );
 *   };
 *
 * Checks and their reasons:
 * - address: IPv6 and unicast: not ::, ::1, an IPv4-mapped ::ffff:0:0/96, link-local fe80::/10 or multicast
 *   ff00::/8; no two AFTRs share one (a softwire's destination names its AFTR);
 * - b4_prefixes are written as routes are (host bits set are refused), IPv6 only, not overlapping each other;
 * - the pool must exist in the nat section of the same file (no nat section: every pool name is unknown);
 * - VRF names are checked against the vrfs section when the core model is known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_route.h"
#include "nf/dslite/dslite_conf.h"
#include "nf/nat/nat_conf.h"

#define DSLITE_MAX_SESSIONS (1ULL << 31)
#define DSLITE_MAX_REASSEMBLY 1048576
#define DSLITE_MAX_REASSEMBLY_MS 60000
#define DSLITE_MTU_MIN 1280 /* IPv6's minimum link MTU */
#define DSLITE_MTU_MAX 9000
#define DSLITE_MSS_MIN 536 /* the TCP default MSS (RFC 879): no clamp below what every host accepts */

/* The MSS that fills an mtu-sized softwire packet: IPv6 40 + IPv4 20 + TCP 20 bytes of headers around it. */
static uint16_t mss_default(uint16_t mtu)
{
	return (uint16_t)(mtu - 40 - 20 - 20);
}

struct dslite_reader {
	struct conf_ctx ctx; /* lib/conf's error reporting: "FILE:LINE: path: message" into err */
	char err[CONF_ERR_MAX];
	const struct npsgw_conf *core;	/* NULL: VRF names unchecked */
	const struct nat_conf *nat;	/* NULL: no nat section, every pool is unknown */
};

/* filtering: one of nat_filtering_name(0..2), as nat.tenants reads it. */
static int read_filtering(struct dslite_reader *r, const config_setting_t *g, uint8_t *out)
{
	const char *const names[] = {nat_filtering_name(NAT_FILTER_EIF), nat_filtering_name(NAT_FILTER_ADF),
				     nat_filtering_name(NAT_FILTER_APDF)};
	uint8_t i = 0;
	int rc = conf_read_choice(&r->ctx, g, "filtering", names, 3, &i);
	if (rc > 0)
		*out = (uint8_t)(NAT_FILTER_EIF + i);
	return rc;
}

/* Why a is no unicast address an AFTR may own, NULL when it may. */
static const char *v6_not_unicast(const struct addr *a)
{
	static const uint8_t zero[16], loopback[16] = {[15] = 1};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	if (memcmp(a->bytes, zero, 16) == 0)
		return "the unspecified address";
	if (memcmp(a->bytes, loopback, 16) == 0)
		return "the loopback address";
	if (memcmp(a->bytes, mapped, 12) == 0)
		return "IPv4-mapped";
	if (a->bytes[0] == 0xff)
		return "multicast";
	if (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80)
		return "link-local";
	return NULL;
}

static int read_address(struct dslite_reader *r, const config_setting_t *g, const struct dslite_conf *c,
			size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct dslite_aftr_conf *a = &c->aftrs[index];
	const config_setting_t *s = config_setting_get_member(g, "address");
	if (s == NULL)
		return conf_fail_missing(ctx, g, "address", "an IPv6 address such as \"2001:db8::1\"");
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, s, "an IPv6 address string such as \"2001:db8::1\"");
	const char *text = config_setting_get_string(s);
	if (addr_parse(text, &a->address) < 0)
		return conf_fail(ctx, s,
				 "\"%.64s\" is not an address (expected an IPv6 address such as \"2001:db8::1\")",
				 text);
	char buf[ADDR_STR_MAX];
	addr_fmt(&a->address, buf, sizeof(buf));
	if (a->address.family != 6)
		return conf_fail(ctx, s, "%s is IPv4 (expected an IPv6 address: softwires arrive over IPv6)", buf);
	const char *why = v6_not_unicast(&a->address);
	if (why != NULL)
		return conf_fail(ctx, s, "%s is %s (expected a global or unique-local IPv6 unicast address)", buf, why);
	for (size_t i = 0; i < index; i++)
		if (addr_equal(&c->aftrs[i].address, &a->address))
			return conf_fail(ctx, s, "address %s is already AFTR %s's (expected one address per AFTR)", buf,
					 c->aftrs[i].name);
	return 0;
}

static int read_b4_prefixes(struct dslite_reader *r, const config_setting_t *g, struct dslite_aftr_conf *a)
{
	struct conf_ctx *ctx = &r->ctx;
	size_t count;
	const config_setting_t *list = conf_read_string_list(ctx, g, "b4_prefixes", &count);
	if (list == NULL)
		return ctx->failed ? -1
				   : conf_fail_missing(ctx, g, "b4_prefixes",
						       "a list of IPv6 prefixes [ \"...\", ... ]");
	if (count == 0)
		return conf_fail(ctx, list, "empty prefix list (expected at least one IPv6 prefix)");
	a->b4_prefixes = calloc(count, sizeof(*a->b4_prefixes));
	if (a->b4_prefixes == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct addr_prefix *p = &a->b4_prefixes[i];
		char why[192], text[ADDR_STR_MAX], other[ADDR_STR_MAX];
		if (conf_prefix_parse_strict(config_setting_get_string(e), p, why, sizeof(why)) < 0)
			return conf_fail(ctx, e, "%s", why);
		addr_prefix_fmt(p, text, sizeof(text));
		if (p->addr.family != 6)
			return conf_fail(ctx, e, "%s is IPv4 (expected an IPv6 prefix: B4s are IPv6 addresses)", text);
		for (size_t k = 0; k < i; k++) {
			const struct addr_prefix *q = &a->b4_prefixes[k];
			const struct addr_prefix *wider = q->len <= p->len ? q : p, *narrower = wider == q ? p : q;
			if (addr_prefix_contains(wider, &narrower->addr))
				return conf_fail(ctx, e, "%s overlaps %s, b4_prefixes[%zu] (expected prefixes that do "
						 "not overlap)", text, addr_prefix_fmt(q, other, sizeof(other)), k);
		}
		a->n_b4_prefixes = i + 1;
	}
	return 0;
}

static int read_mtu_mss(struct dslite_reader *r, const config_setting_t *g, struct dslite_aftr_conf *a)
{
	struct conf_ctx *ctx = &r->ctx;
	if (conf_read_u16(ctx, g, "mtu", DSLITE_MTU_MIN, DSLITE_MTU_MAX, &a->mtu) < 0)
		return -1;
	uint16_t max = mss_default(a->mtu);
	a->mss_clamp = max;
	uint16_t mss = 0;
	int rc = conf_read_u16(ctx, g, "mss_clamp", 0, 65535, &mss);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (mss != 0 && (mss < DSLITE_MSS_MIN || mss > max))
		return conf_fail(ctx, config_setting_get_member(g, "mss_clamp"),
				 "%u is out of range (expected 0 (off) or %u..%u: mtu %u - 80 bytes of IPv6, IPv4 and "
				 "TCP headers)", mss, DSLITE_MSS_MIN, max, a->mtu);
	a->mss_clamp = mss;
	return 0;
}

static const char *const aftr_keys[] = {"name",	     "address",	  "transport_vrf", "vrf",
					"pool",	     "b4_prefixes", "mtu",	   "mss_clamp",
					"max_sessions", "max_blocks",  "filtering",	   NULL};

static int read_aftr(struct dslite_reader *r, const config_setting_t *g, struct dslite_conf *c, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct dslite_aftr_conf *a = &c->aftrs[index];
	a->mtu = 1500;
	a->max_sessions = 2000;
	a->max_blocks = 4;
	a->filtering = NAT_FILTER_APDF;
	char name[CONF_NAME_MAX];
	if (conf_check_keys(ctx, g, aftr_keys) < 0 || conf_read_name_required(ctx, g, "name", name) < 0)
		return -1;
	snprintf(a->name, sizeof(a->name), "%s", name);
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->aftrs[i].name, a->name) == 0)
			return conf_fail(ctx, config_setting_get_member(g, "name"),
					 "duplicate AFTR name %s (expected unique names)", a->name);
	if (read_address(r, g, c, index) < 0 ||
	    conf_read_vrf_required(ctx, r->core, g, "transport_vrf", a->transport_vrf) < 0 ||
	    conf_read_vrf_required(ctx, r->core, g, "vrf", a->vrf) < 0 || conf_read_name_required(ctx, g, "pool", name) < 0)
		return -1;
	snprintf(a->pool, sizeof(a->pool), "%s", name);
	if (nat_conf_pool(r->nat, a->pool) == NULL)
		return conf_fail(ctx, config_setting_get_member(g, "pool"), "unknown pool %s (expected a name from "
				 "nat.pools%s)", a->pool, r->nat == NULL ? "; this file has no nat section" : "");
	if (read_b4_prefixes(r, g, a) < 0 || read_mtu_mss(r, g, a) < 0 ||
	    conf_read_u32(ctx, g, "max_sessions", 1, (uint32_t)DSLITE_MAX_SESSIONS, &a->max_sessions) < 0 ||
	    conf_read_u32(ctx, g, "max_blocks", 1, NAT_CONF_MAX_BLOCKS, &a->max_blocks) < 0 ||
	    read_filtering(r, g, &a->filtering) < 0)
		return -1;
	return 0;
}

static const char *const dslite_keys[] = {"reassembly_max", "reassembly_timeout_ms", "aftrs", NULL};

static int read_dslite(struct dslite_reader *r, const config_setting_t *s, struct dslite_conf *c)
{
	struct conf_ctx *ctx = &r->ctx;
	if (!config_setting_is_group(s))
		return conf_fail_type(&r->ctx, s, "a group { ... }");
	c->reassembly_max = 4096;
	c->reassembly_timeout_ms = 2000;
	if (conf_check_keys(ctx, s, dslite_keys) < 0 ||
	    conf_read_u32(ctx, s, "reassembly_max", 1, DSLITE_MAX_REASSEMBLY, &c->reassembly_max) < 0 ||
	    conf_read_u32(ctx, s, "reassembly_timeout_ms", 1, DSLITE_MAX_REASSEMBLY_MS, &c->reassembly_timeout_ms) < 0)
		return -1;
	const config_setting_t *list = conf_read_group_list(ctx, s, "aftrs");
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	c->aftrs = calloc(count > 0 ? count : 1, sizeof(*c->aftrs));
	if (c->aftrs == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		/* Counted before reading so that dslite_conf_free frees a half-read AFTR. */
		c->n_aftrs = i + 1;
		if (read_aftr(r, config_setting_get_elem(list, (unsigned)i), c, i) < 0)
			return -1;
	}
	return 0;
}

int dslite_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const void *nat_model,
		     const char *file, struct dslite_conf **out, char *err, size_t errlen)
{
	struct dslite_reader r;
	memset(&r, 0, sizeof(r));
	r.ctx.name = file;
	r.ctx.err = r.err;
	r.core = core;
	r.nat = nat_model;
	struct dslite_conf *c = calloc(1, sizeof(*c));
	int rc = c == NULL ? conf_fail_nomem(&r.ctx) : read_dslite(&r, s, c);
	if (rc < 0) {
		dslite_conf_free(c);
		if (errlen > 0)
			snprintf(err, errlen, "%s", r.err[0] != '\0' ? r.err : "unknown error");
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- free, copy, compare ---- */

void dslite_conf_free(struct dslite_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_aftrs; i++)
		free(c->aftrs[i].b4_prefixes);
	free(c->aftrs);
	free(c);
}

struct dslite_conf *dslite_conf_dup(const struct dslite_conf *c)
{
	struct dslite_conf *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	*d = *c;
	d->aftrs = NULL;
	d->n_aftrs = 0;
	if (c->n_aftrs > 0 && (d->aftrs = calloc(c->n_aftrs, sizeof(*d->aftrs))) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_aftrs; i++) {
		const struct dslite_aftr_conf *a = &c->aftrs[i];
		d->aftrs[i] = *a;
		d->aftrs[i].b4_prefixes = NULL;
		d->n_aftrs = i + 1;
		if (a->n_b4_prefixes > 0) {
			d->aftrs[i].b4_prefixes = malloc(a->n_b4_prefixes * sizeof(*a->b4_prefixes));
			if (d->aftrs[i].b4_prefixes == NULL)
				goto fail;
			memcpy(d->aftrs[i].b4_prefixes, a->b4_prefixes, a->n_b4_prefixes * sizeof(*a->b4_prefixes));
		}
	}
	return d;
fail:
	dslite_conf_free(d);
	return NULL;
}

static bool aftr_equal(const struct dslite_aftr_conf *a, const struct dslite_aftr_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || !addr_equal(&a->address, &b->address) ||
	    strcmp(a->transport_vrf, b->transport_vrf) != 0 || strcmp(a->vrf, b->vrf) != 0 ||
	    strcmp(a->pool, b->pool) != 0 || a->n_b4_prefixes != b->n_b4_prefixes || a->mtu != b->mtu ||
	    a->mss_clamp != b->mss_clamp || a->max_sessions != b->max_sessions || a->max_blocks != b->max_blocks ||
	    a->filtering != b->filtering)
		return false;
	for (size_t i = 0; i < a->n_b4_prefixes; i++)
		if (a->b4_prefixes[i].len != b->b4_prefixes[i].len ||
		    !addr_equal(&a->b4_prefixes[i].addr, &b->b4_prefixes[i].addr))
			return false;
	return true;
}

bool dslite_conf_equal(const struct dslite_conf *a, const struct dslite_conf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->reassembly_max != b->reassembly_max || a->reassembly_timeout_ms != b->reassembly_timeout_ms ||
	    a->n_aftrs != b->n_aftrs)
		return false;
	for (size_t i = 0; i < a->n_aftrs; i++)
		if (!aftr_equal(&a->aftrs[i], &b->aftrs[i]))
			return false;
	return true;
}
