/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading and checking the "nat" section, and the model's free/copy/compare. Syntax (every key optional unless
 * marked required; "N..M" is the accepted range):
 *
 *   nat: {
 *     sessions: {                    # the NAT session table (NAT44 and DS-Lite), keys as firewall.sessions
 *       max = 1000000;               # sessions for the whole gateway, split evenly between workers: 65536; 1..2^31
 *       when_full = "refuse";        # "refuse" | "evict-transitory" (the oldest not-established session makes room)
 *       tcp_window_check = true;     # sequence/window checks: true
 *       tcp_loose = false;           # a TCP session may start mid-stream (not only with a SYN): false
 *       timeouts: {                  # seconds, ..2592000 each; the RFC minimums are refused below them
 *         tcp_established = 7440;    # >= 7440 (RFC 5382 REQ-5)
 *         tcp_transitory = 240;      # >= 240 (RFC 5382 REQ-5)
 *         tcp_time_wait = 120; tcp_closed = 10;   # >= 1
 *         udp = 120;                 # >= 120 (RFC 4787 REQ-5)
 *         icmp = 60;                 # >= 60 (RFC 5508 REQ-1)
 *         other = 120;               # >= 1
 *       };
 *     };
 *     block_idle = 120;              # seconds a subscriber's port block is kept after its last mapping went;
 *                                    # 1..86400
 *     log_rate = 100;                # quota / exhaustion log records per second per worker; 0..1000000
 *                                    # (block allocation / release records are never rate-limited)
 *     pools = (
 *       { name = "pub";              # required, unique
 *         vrf = "internet";          # required: the outside VRF, where the public addresses are reached
 *         prefixes = [ "198.51.100.0/28" ];   # required, at least one: IPv4, every address is used
 *         ports = "1024-65535";      # dynamic port range "lo-hi": "1024-65535"; lo >= 1
 *         block_size = 512;          # ports per block: 512; 1..65535 and at most the range's size
 *       } );
 *     tenants = (
 *       { vrf = "t1";                # required: an inside VRF, a tenant once
 *         pool = "pub";              # required: a pool of a VRF other than the tenant's
 *         filtering = "address-and-port-dependent";  # | "address-dependent" | "endpoint-independent"
 *         max_sessions = 2000;       # per subscriber (inside address); 1..2^31
 *         max_blocks = 4;            # port blocks per subscriber; 1..32
 *         hairpinning = true;        # inside hosts reach each other through their public addresses
 *         static = (                 # port forwarding; proto, inside and public required
 *           { proto = "tcp";         # "tcp" | "udp"
 *             inside = "10.0.0.5:80";          # IPv4 address:port of the tenant, port 1..65535
 *             public = "198.51.100.1:8080";    # an address of the pool:port, port 1..65535
 *           } );
 *       } );
 *   };
 *
 * Checks and their reasons:
 * - pool prefixes are written as routes are (host bits set are refused, a bare address is a /32); they must be
 *   IPv4 unicast (not in 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4), must not overlap each other nor the
 *   prefixes of another pool of the same VRF (a public address belongs to one pool), and a pool holds at most
 *   65536 addresses (per-address state is sized from it);
 * - ports below 1024 are assigned only when the range says so ("1-65535"); port 0 is never assigned;
 * - a block is block_size consecutive ports from lo; a tail shorter than a block is unused;
 * - a tenant's VRF is not its pool's VRF (inside and outside must differ), and each VRF is a tenant once;
 * - a static public address must be an address of the tenant's pool; a public address:port/proto is mapped once
 *   per pool (over all tenants using it), an inside address:port/proto once per tenant. A public port inside the
 *   dynamic range is allowed: the block that holds it is reserved.
 * VRF names are checked against the vrfs section when the core model is known.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_route.h"
#include "nf/nat/nat_conf.h"
#include "nf/nf_conf.h"

#define NAT_MAX_SESSIONS (1ULL << 31)
#define NAT_MAX_RATE 1000000
#define NAT_MAX_BLOCK_IDLE 86400
#define NAT_POOL_MAX_ADDRESSES 65536

static const char *const filtering_names[] = {
	[NAT_FILTER_EIF] = "endpoint-independent",
	[NAT_FILTER_ADF] = "address-dependent",
	[NAT_FILTER_APDF] = "address-and-port-dependent",
};
#define N_FILTERING (sizeof(filtering_names) / sizeof(filtering_names[0]))

const char *nat_filtering_name(uint8_t f)
{
	return f < N_FILTERING ? filtering_names[f] : "?";
}

const struct nat_pool_conf *nat_conf_pool(const struct nat_conf *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_pools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

/* ---- reading ---- */

struct nat_reader {
	struct conf_ctx ctx; /* lib/conf's error reporting: "FILE:LINE: path: message" into err */
	char err[CONF_ERR_MAX];
	const struct npsgw_conf *core; /* NULL: VRF names unchecked */
};

/* ---- sessions ---- */

/* Each timeout with the least value the NAT RFCs allow and why, in the order of struct ct_timeouts. */
static const struct nf_timeout_floor timeout_floors[NF_SESSION_TIMEOUTS] = {
	{7440, "; RFC 5382 REQ-5: established TCP at least 2 h 4 min"}, /* tcp_established */
	{240, "; RFC 5382 REQ-5: transitory TCP at least 4 min"},	 /* tcp_transitory */
	{1, ""},							 /* tcp_time_wait */
	{1, ""},							 /* tcp_closed */
	{120, "; RFC 4787 REQ-5: UDP mappings at least 2 min"},	 /* udp */
	{60, "; RFC 5508 REQ-1: ICMP query mappings at least 60 s"},	 /* icmp */
	{1, ""},							 /* other */
};

/* The block shared with firewall.sessions (nf/nf_conf.c), with the RFC minimums above. */
static int read_sessions(struct nat_reader *r, const config_setting_t *nat, struct ct_params *p)
{
	return nf_conf_read_sessions(&r->ctx, nat, (uint32_t)NAT_MAX_SESSIONS, timeout_floors, p);
}

/* ---- pools ---- */

static bool prefixes_overlap(const struct addr_prefix *a, const struct addr_prefix *b)
{
	const struct addr_prefix *wider = a->len <= b->len ? a : b, *narrower = wider == a ? b : a;
	return addr_prefix_contains(wider, &narrower->addr);
}

/* Ranges no router may translate to: "this network", loopback, multicast, reserved and broadcast. */
static bool v4_unusable(const struct addr_prefix *p, char *range, size_t len)
{
	static const struct {
		uint32_t net;
		uint8_t len;
		const char *text;
	} ranges[] = {
		{0x00000000, 8, "0.0.0.0/8"},
		{0x7f000000, 8, "127.0.0.0/8"},
		{0xe0000000, 4, "224.0.0.0/4 (multicast)"},
		{0xf0000000, 4, "240.0.0.0/4 (reserved)"},
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		struct addr_prefix q = {.len = ranges[i].len};
		addr_from_v4_host(&q.addr, ranges[i].net);
		if (prefixes_overlap(p, &q)) {
			snprintf(range, len, "%s", ranges[i].text);
			return true;
		}
	}
	return false;
}

static int read_pool_prefixes(struct nat_reader *r, const config_setting_t *g, const struct nat_conf *c,
			      struct nat_pool_conf *pool, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	size_t count;
	const config_setting_t *list = conf_read_string_list(ctx, g, "prefixes", &count);
	if (list == NULL)
		return ctx->failed ? -1
				   : conf_fail_missing(ctx, g, "prefixes", "a list of IPv4 prefixes [ \"...\", ... ]");
	if (count == 0)
		return conf_fail(ctx, list, "empty prefix list (expected at least one IPv4 prefix)");
	pool->prefixes = calloc(count, sizeof(*pool->prefixes));
	if (pool->prefixes == NULL)
		return conf_fail_nomem(ctx);
	uint64_t addresses = 0;
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct addr_prefix *p = &pool->prefixes[i];
		char why[192], text[ADDR_STR_MAX], other[ADDR_STR_MAX];
		if (conf_prefix_parse_strict(config_setting_get_string(e), p, why, sizeof(why)) < 0)
			return conf_fail(ctx, e, "%s", why);
		addr_prefix_fmt(p, text, sizeof(text));
		if (p->addr.family != 4)
			return conf_fail(ctx, e, "%s is IPv6 (expected an IPv4 prefix: NAT44 pools are IPv4)", text);
		if (v4_unusable(p, why, sizeof(why)))
			return conf_fail(ctx, e, "%s overlaps %s (expected public IPv4 unicast addresses)", text, why);
		for (size_t k = 0; k < i; k++)
			if (prefixes_overlap(p, &pool->prefixes[k]))
				return conf_fail(ctx, e, "%s overlaps %s, prefixes[%zu] (expected prefixes that do not "
						 "overlap)", text, addr_prefix_fmt(&pool->prefixes[k], other,
										sizeof(other)), k);
		for (size_t o = 0; o < index; o++) {
			const struct nat_pool_conf *q = &c->pools[o];
			for (size_t k = 0; k < q->n_prefixes && strcmp(q->vrf, pool->vrf) == 0; k++) {
				if (!prefixes_overlap(p, &q->prefixes[k]))
					continue;
				addr_prefix_fmt(&q->prefixes[k], other, sizeof(other));
				return conf_fail(ctx, e, "%s overlaps %s of pool %s in vrf %s (expected pools of "
						 "one vrf not to share addresses)", text, other, q->name, q->vrf);
			}
		}
		addresses += 1ULL << (32 - p->len);
		if (addresses > NAT_POOL_MAX_ADDRESSES)
			return conf_fail(ctx, e, "the pool reaches %llu addresses with %s (expected at most %d)",
					 (unsigned long long)addresses, text, NAT_POOL_MAX_ADDRESSES);
		pool->n_prefixes = i + 1;
	}
	return 0;
}

/* A decimal port number ending at *end; -1 when not one (empty, not digits, too long). */
static long parse_port_number(const char *s, const char **end)
{
	long v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9' && p - s < 6; p++)
		v = v * 10 + (*p - '0');
	*end = p;
	return p == s || (*p >= '0' && *p <= '9') ? -1 : v;
}

static int read_pool_ports(struct nat_reader *r, const config_setting_t *g, struct nat_pool_conf *pool)
{
	struct conf_ctx *ctx = &r->ctx;
	const config_setting_t *s = config_setting_get_member(g, "ports");
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, s, "a port range string \"lo-hi\" such as \"1024-65535\"");
	const char *text = config_setting_get_string(s), *end;
	long lo = parse_port_number(text, &end), hi = -1;
	if (lo >= 0 && *end == '-')
		hi = parse_port_number(end + 1, &end);
	if (lo < 0 || hi < 0 || *end != '\0')
		return conf_fail(ctx, s, "\"%.64s\" is not a port range (expected \"lo-hi\" such as \"1024-65535\")",
				 text);
	if (lo == 0)
		return conf_fail(ctx, s, "port 0 is never assigned (expected a range from 1 up, such as "
				 "\"1024-65535\")");
	if (hi > 65535)
		return conf_fail(ctx, s, "port %ld is out of range (expected 1..65535)", hi);
	if (lo > hi)
		return conf_fail(ctx, s, "port range %ld-%ld runs backwards (expected lo <= hi)", lo, hi);
	pool->port_lo = (uint16_t)lo;
	pool->port_hi = (uint16_t)hi;
	return 0;
}

static const char *const pool_keys[] = {"name", "vrf", "prefixes", "ports", "block_size", NULL};

static int read_pool(struct nat_reader *r, const config_setting_t *g, struct nat_conf *c, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct nat_pool_conf *pool = &c->pools[index];
	pool->port_lo = 1024;
	pool->port_hi = 65535;
	pool->block_size = 512;
	if (conf_check_keys(ctx, g, pool_keys) < 0 || conf_read_name_required(ctx, g, "name", pool->name) < 0)
		return -1;
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->pools[i].name, pool->name) == 0)
			return conf_fail(ctx, config_setting_get_member(g, "name"),
					 "duplicate pool name %s (expected unique names)", pool->name);
	if (conf_read_vrf_required(ctx, r->core, g, "vrf", pool->vrf) < 0 ||
	    read_pool_prefixes(r, g, c, pool, index) < 0 || read_pool_ports(r, g, pool) < 0 ||
	    conf_read_u16(ctx, g, "block_size", 1, 65535, &pool->block_size) < 0)
		return -1;
	uint32_t range = (uint32_t)pool->port_hi - pool->port_lo + 1;
	if (pool->block_size > range) {
		const config_setting_t *where = config_setting_get_member(g, "block_size");
		return conf_fail(ctx, where != NULL ? where : config_setting_get_member(g, "ports"),
				 "block_size %u is larger than the port range %u-%u of %u ports (expected a block size "
				 "of at most %u)", pool->block_size, pool->port_lo, pool->port_hi, range, range);
	}
	return 0;
}

static int read_pools(struct nat_reader *r, const config_setting_t *nat, struct nat_conf *c)
{
	const config_setting_t *list = conf_read_group_list(&r->ctx, nat, "pools");
	if (list == NULL)
		return r->ctx.failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	c->pools = calloc(count > 0 ? count : 1, sizeof(*c->pools));
	if (c->pools == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < count; i++) {
		/* Counted before reading so that nat_conf_free frees a half-read pool. */
		c->n_pools = i + 1;
		if (read_pool(r, config_setting_get_elem(list, (unsigned)i), c, i) < 0)
			return -1;
	}
	return 0;
}

/* ---- tenants and static mappings ---- */

/* "a.b.c.d:port" (port 1..65535) of key, required. */
static int read_endpoint(struct nat_reader *r, const config_setting_t *g, const char *key, struct addr *a,
			 uint16_t *port)
{
	struct conf_ctx *ctx = &r->ctx;
	const char *example = "an IPv4 address:port such as \"192.0.2.1:80\"";
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return conf_fail_missing(ctx, g, key, example);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, s, "a string: an IPv4 address:port such as \"192.0.2.1:80\"");
	const char *text = config_setting_get_string(s), *colon = strrchr(text, ':'), *end;
	char host[ADDR_STR_MAX];
	if (colon == NULL)
		return conf_fail(ctx, s, "\"%.64s\" has no port (expected %s)", text, example);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - text < ADDR_STR_MAX ? colon - text : 0), text);
	long value = parse_port_number(colon + 1, &end);
	if (addr_parse(host, a) < 0 || a->family != 4 || value < 0 || *end != '\0')
		return conf_fail(ctx, s, "\"%.64s\" is not an IPv4 address:port (expected %s)", text, example);
	if (value < 1 || value > 65535)
		return conf_fail(ctx, s, "port %ld of \"%.64s\" is out of range (expected 1..65535)", value, text);
	*port = (uint16_t)value;
	return 0;
}

static const char *proto_name(uint8_t proto)
{
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : "?";
}

static const char *const static_keys[] = {"proto", "inside", "public", NULL};
static const char *const proto_names[] = {"tcp", "udp"};

static int read_static(struct nat_reader *r, const config_setting_t *g, const struct nat_conf *c, size_t tenant,
		       size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct nat_tenant_conf *t = &c->tenants[tenant];
	struct nat_static_conf *m = &t->statics[index];
	uint8_t proto = 0;
	if (conf_check_keys(ctx, g, static_keys) < 0)
		return -1;
	int rc = conf_read_choice(&r->ctx, g, "proto", proto_names, 2, &proto);
	if (rc == 0)
		return conf_fail_missing(ctx, g, "proto", "\"tcp\" or \"udp\"");
	if (rc < 0 || read_endpoint(r, g, "inside", &m->inside, &m->inside_port) < 0 ||
	    read_endpoint(r, g, "public", &m->public, &m->public_port) < 0)
		return -1;
	m->proto = proto == 0 ? 6 : 17;

	char text[ADDR_STR_MAX];
	const struct nat_pool_conf *pool = nat_conf_pool(c, t->pool);
	bool in_pool = false;
	for (size_t i = 0; i < pool->n_prefixes && !in_pool; i++)
		in_pool = addr_prefix_contains(&pool->prefixes[i], &m->public);
	if (!in_pool) {
		char first[ADDR_STR_MAX];
		return conf_fail(ctx, config_setting_get_member(g, "public"),
				 "%s is not an address of pool %s (expected an address in its prefixes, such as %s%s)",
				 addr_fmt(&m->public, text, sizeof(text)), pool->name,
				 addr_prefix_fmt(&pool->prefixes[0], first, sizeof(first)),
				 pool->n_prefixes > 1 ? ", ..." : "");
	}
	for (size_t i = 0; i < index; i++) {
		const struct nat_static_conf *o = &t->statics[i];
		if (o->proto == m->proto && o->inside_port == m->inside_port && addr_equal(&o->inside, &m->inside))
			return conf_fail(ctx, config_setting_get_member(g, "inside"),
					 "inside %s:%u/%s is already mapped by static[%zu] (expected each inside "
					 "address, port and proto once per tenant)",
					 addr_fmt(&m->inside, text, sizeof(text)), m->inside_port, proto_name(m->proto),
					 i);
	}
	/* The public side is shared by every tenant of the pool. */
	for (size_t k = 0; k <= tenant; k++) {
		const struct nat_tenant_conf *u = &c->tenants[k];
		if (strcmp(u->pool, t->pool) != 0)
			continue;
		size_t n = k == tenant ? index : u->n_statics;
		for (size_t i = 0; i < n; i++) {
			const struct nat_static_conf *o = &u->statics[i];
			if (o->proto == m->proto && o->public_port == m->public_port &&
			    addr_equal(&o->public, &m->public))
				return conf_fail(ctx, config_setting_get_member(g, "public"),
						 "public %s:%u/%s is already mapped by tenants[%zu].static[%zu] "
						 "(expected each public address, port and proto once per pool)",
						 addr_fmt(&m->public, text, sizeof(text)), m->public_port,
						 proto_name(m->proto), k, i);
		}
	}
	return 0;
}

static const char *const tenant_keys[] = {"vrf",	 "pool",	"filtering", "max_sessions",
					  "max_blocks", "hairpinning", "static",	 NULL};

static int read_tenant(struct nat_reader *r, const config_setting_t *g, struct nat_conf *c, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct nat_tenant_conf *t = &c->tenants[index];
	t->filtering = NAT_FILTER_APDF;
	t->max_sessions = 2000;
	t->max_blocks = 4;
	t->hairpinning = true;
	if (conf_check_keys(ctx, g, tenant_keys) < 0 || conf_read_vrf_required(ctx, r->core, g, "vrf", t->vrf) < 0)
		return -1;
	const config_setting_t *vrf = config_setting_get_member(g, "vrf");
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->tenants[i].vrf, t->vrf) == 0)
			return conf_fail(ctx, vrf,
					 "vrf %s is already a tenant, tenants[%zu] (expected one tenant per vrf)",
					 t->vrf, i);
	if (conf_read_name_required(ctx, g, "pool", t->pool) < 0)
		return -1;
	const struct nat_pool_conf *pool = nat_conf_pool(c, t->pool);
	if (pool == NULL)
		return conf_fail(ctx, config_setting_get_member(g, "pool"),
				 "unknown pool %s (expected a name from nat.pools)", t->pool);
	if (strcmp(pool->vrf, t->vrf) == 0)
		return conf_fail(ctx, vrf,
				 "vrf %s is the vrf of pool %s (expected an inside vrf other than the pool's)", t->vrf,
				 pool->name);
	if (conf_read_choice(&r->ctx, g, "filtering", filtering_names, N_FILTERING, &t->filtering) < 0 ||
	    conf_read_u32(ctx, g, "max_sessions", 1, (uint32_t)NAT_MAX_SESSIONS, &t->max_sessions) < 0 ||
	    conf_read_u32(ctx, g, "max_blocks", 1, NAT_CONF_MAX_BLOCKS, &t->max_blocks) < 0 ||
	    conf_read_bool(ctx, g, "hairpinning", &t->hairpinning) < 0)
		return -1;
	const config_setting_t *list = conf_read_group_list(ctx, g, "static");
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	t->statics = calloc(count > 0 ? count : 1, sizeof(*t->statics));
	if (t->statics == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		if (read_static(r, config_setting_get_elem(list, (unsigned)i), c, index, i) < 0)
			return -1;
		t->n_statics = i + 1;
	}
	return 0;
}

static int read_tenants(struct nat_reader *r, const config_setting_t *nat, struct nat_conf *c)
{
	const config_setting_t *list = conf_read_group_list(&r->ctx, nat, "tenants");
	if (list == NULL)
		return r->ctx.failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	c->tenants = calloc(count > 0 ? count : 1, sizeof(*c->tenants));
	if (c->tenants == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < count; i++) {
		c->n_tenants = i + 1;
		if (read_tenant(r, config_setting_get_elem(list, (unsigned)i), c, i) < 0)
			return -1;
	}
	return 0;
}

static const char *const nat_keys[] = {"sessions", "block_idle", "log_rate", "pools", "tenants", NULL};

static int read_nat(struct nat_reader *r, const config_setting_t *s, struct nat_conf *c)
{
	struct conf_ctx *ctx = &r->ctx;
	if (!config_setting_is_group(s))
		return conf_fail_type(&r->ctx, s, "a group { ... }");
	ct_params_default(&c->sessions);
	c->block_idle_s = 120;
	c->log_rate = 100;
	if (conf_check_keys(ctx, s, nat_keys) < 0 || read_sessions(r, s, &c->sessions) < 0 ||
	    conf_read_u32(ctx, s, "block_idle", 1, NAT_MAX_BLOCK_IDLE, &c->block_idle_s) < 0 ||
	    conf_read_u32(ctx, s, "log_rate", 0, NAT_MAX_RATE, &c->log_rate) < 0 || read_pools(r, s, c) < 0 ||
	    read_tenants(r, s, c) < 0)
		return -1;
	return 0;
}

int nat_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, struct nat_conf **out,
		  char *err, size_t errlen)
{
	struct nat_reader r;
	memset(&r, 0, sizeof(r));
	r.ctx.name = file;
	r.ctx.err = r.err;
	r.core = core;
	struct nat_conf *c = calloc(1, sizeof(*c));
	int rc = c == NULL ? conf_fail_nomem(&r.ctx) : read_nat(&r, s, c);
	if (rc < 0) {
		nat_conf_free(c);
		if (errlen > 0)
			snprintf(err, errlen, "%s", r.err[0] != '\0' ? r.err : "unknown error");
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- free, copy, compare ---- */

void nat_conf_free(struct nat_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_pools; i++)
		free(c->pools[i].prefixes);
	free(c->pools);
	for (size_t i = 0; i < c->n_tenants; i++)
		free(c->tenants[i].statics);
	free(c->tenants);
	free(c);
}

/* A copy of n elements of size bytes (NULL for none); false when out of memory. */
static bool dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return true;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return false;
	memcpy(*dst, src, n * size);
	return true;
}

struct nat_conf *nat_conf_dup(const struct nat_conf *c)
{
	struct nat_conf *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	*d = *c;
	d->pools = NULL;
	d->tenants = NULL;
	d->n_pools = d->n_tenants = 0;
	if (c->n_pools > 0 && (d->pools = calloc(c->n_pools, sizeof(*d->pools))) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_pools; i++) {
		d->pools[i] = c->pools[i];
		d->n_pools = i + 1;
		if (!dup_array((void **)&d->pools[i].prefixes, c->pools[i].prefixes, c->pools[i].n_prefixes,
			       sizeof(*c->pools[i].prefixes)))
			goto fail;
	}
	if (c->n_tenants > 0 && (d->tenants = calloc(c->n_tenants, sizeof(*d->tenants))) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_tenants; i++) {
		d->tenants[i] = c->tenants[i];
		d->n_tenants = i + 1;
		if (!dup_array((void **)&d->tenants[i].statics, c->tenants[i].statics, c->tenants[i].n_statics,
			       sizeof(*c->tenants[i].statics)))
			goto fail;
	}
	return d;
fail:
	nat_conf_free(d);
	return NULL;
}

static bool pool_equal(const struct nat_pool_conf *a, const struct nat_pool_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || strcmp(a->vrf, b->vrf) != 0 || a->n_prefixes != b->n_prefixes ||
	    a->port_lo != b->port_lo || a->port_hi != b->port_hi || a->block_size != b->block_size)
		return false;
	for (size_t i = 0; i < a->n_prefixes; i++)
		if (a->prefixes[i].len != b->prefixes[i].len || !addr_equal(&a->prefixes[i].addr, &b->prefixes[i].addr))
			return false;
	return true;
}

static bool static_equal(const struct nat_static_conf *a, const struct nat_static_conf *b)
{
	return a->proto == b->proto && a->inside_port == b->inside_port && a->public_port == b->public_port &&
	       addr_equal(&a->inside, &b->inside) && addr_equal(&a->public, &b->public);
}

static bool tenant_equal(const struct nat_tenant_conf *a, const struct nat_tenant_conf *b)
{
	if (strcmp(a->vrf, b->vrf) != 0 || strcmp(a->pool, b->pool) != 0 || a->filtering != b->filtering ||
	    a->max_sessions != b->max_sessions || a->max_blocks != b->max_blocks || a->hairpinning != b->hairpinning ||
	    a->n_statics != b->n_statics)
		return false;
	for (size_t i = 0; i < a->n_statics; i++)
		if (!static_equal(&a->statics[i], &b->statics[i]))
			return false;
	return true;
}

bool nat_conf_equal(const struct nat_conf *a, const struct nat_conf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (!nf_conf_sessions_equal(&a->sessions, &b->sessions) || a->block_idle_s != b->block_idle_s ||
	    a->log_rate != b->log_rate || a->n_pools != b->n_pools || a->n_tenants != b->n_tenants)
		return false;
	for (size_t i = 0; i < a->n_pools; i++)
		if (!pool_equal(&a->pools[i], &b->pools[i]))
			return false;
	for (size_t i = 0; i < a->n_tenants; i++)
		if (!tenant_equal(&a->tenants[i], &b->tenants[i]))
			return false;
	return true;
}
