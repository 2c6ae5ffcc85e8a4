/* SPDX-License-Identifier: BSD-3-Clause */
/* Static routes: the routes section, and the checks every route passes (also those from route_file). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_route.h"

static const char *const route_keys[] = {"vrf", "prefix", "via", "dev", "blackhole", "reject", "target_vrf", NULL};

static int route_fail(struct conf_ctx *ctx, const struct conf_route_origin *origin, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int route_fail(struct conf_ctx *ctx, const struct conf_route_origin *origin, const char *fmt, ...)
{
	char message[CONF_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (origin->setting != NULL)
		return conf_fail(ctx, origin->setting, "%s", message);
	return conf_fail_at(ctx, origin->file, origin->line, "%s", message);
}

int conf_prefix_parse_strict(const char *text, struct addr_prefix *out, char *why, size_t why_len)
{
	if (addr_prefix_parse(text, out, false) < 0) {
		snprintf(why, why_len,
			 "\"%.64s\" is not a prefix (expected such as \"192.0.2.0/24\" or "
			 "\"2001:db8::/32\")",
			 text);
		return -1;
	}
	struct addr_prefix masked = *out;
	addr_prefix_mask(&masked);
	if (!addr_equal(&masked.addr, &out->addr)) {
		char expected[ADDR_STR_MAX];
		snprintf(why, why_len, "host bits set in %s (expected %s)", text,
			 addr_prefix_fmt(&masked, expected, sizeof(expected)));
		return -1;
	}
	return 0;
}

static bool route_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	const struct conf_route *a = &c->conf->routes[index], *b = key;
	return a->prefix.len == b->prefix.len && addr_equal(&a->prefix.addr, &b->prefix.addr) &&
	       strcmp(a->vrf, b->vrf) == 0;
}

/* An interface of the route's own VRF: forwarding out of another VRF's interface would bypass its table. */
static int check_interface(struct conf_ctx *ctx, const struct conf_route *route, const struct conf_route_origin *origin)
{
	long index = conf_interface_index(ctx, route->dev);
	if (index < 0)
		return route_fail(ctx, origin, "unknown interface %s (expected a name from interfaces)", route->dev);
	const struct conf_interface *iface = &ctx->conf->interfaces[index];
	if (strcmp(iface->vrf, route->vrf) != 0)
		return route_fail(ctx, origin, "interface %s is in vrf %s (expected an interface of vrf %s)",
				  route->dev, iface->vrf, route->vrf);
	return 0;
}

static int check_next_hop(struct conf_ctx *ctx, const struct conf_route *route, const struct conf_route_origin *origin)
{
	char via[ADDR_STR_MAX], prefix[ADDR_STR_MAX];
	switch (route->kind) {
	case CONF_ROUTE_VIA:
		if (route->via.family != route->prefix.addr.family)
			return route_fail(ctx, origin,
					  "gateway %s is IPv%u but prefix %s is IPv%u (expected a gateway of "
					  "the prefix's family)",
					  addr_fmt(&route->via, via, sizeof(via)), route->via.family,
					  addr_prefix_fmt(&route->prefix, prefix, sizeof(prefix)),
					  route->prefix.addr.family);
		return route->dev[0] != '\0' ? check_interface(ctx, route, origin) : 0;
	case CONF_ROUTE_DEV:
		return check_interface(ctx, route, origin);
	case CONF_ROUTE_LEAK:
		if (conf_vrf_index(ctx, route->target_vrf) < 0)
			return route_fail(ctx, origin, "unknown target vrf %s (expected a name from vrfs)",
					  route->target_vrf);
		if (strcmp(route->target_vrf, route->vrf) == 0)
			return route_fail(ctx, origin, "target vrf %s is the route's own vrf (expected another vrf)",
					  route->target_vrf);
		return 0;
	default:
		return 0;
	}
}

int conf_route_add(struct conf_ctx *ctx, const struct conf_route *route, const struct conf_route_origin *origin)
{
	struct npsgw_conf *conf = ctx->conf;
	char prefix[ADDR_STR_MAX];
	long vrf = conf_vrf_index(ctx, route->vrf);
	if (vrf < 0)
		return route_fail(ctx, origin, "unknown vrf %s (expected a name from vrfs)", route->vrf);
	if (check_next_hop(ctx, route, origin) < 0)
		return -1;
	uint64_t hash =
		conf_hash_bytes(conf_hash_string(CONF_HASH_SEED, route->vrf), &route->prefix, sizeof(route->prefix));
	if (conf_index_find(&ctx->route_keys, hash, route_same, ctx, route) >= 0)
		return route_fail(ctx, origin, "duplicate route %s in vrf %s (expected each prefix once per vrf)",
				  addr_prefix_fmt(&route->prefix, prefix, sizeof(prefix)), route->vrf);
	uint32_t *count = &ctx->vrf_route_count[vrf][route->prefix.addr.family == 6];
	if (*count >= conf->vrfs[vrf].max_routes)
		return route_fail(ctx, origin, "vrf %s already has %u IPv%u routes (expected at most max_routes %u)",
				  route->vrf, *count, route->prefix.addr.family, conf->vrfs[vrf].max_routes);
	if (conf_grow((void **)&conf->routes, &ctx->routes_capacity, conf->n_routes + 1, sizeof(*conf->routes)) < 0 ||
	    conf_index_add(&ctx->route_keys, hash, (uint32_t)conf->n_routes) < 0)
		return conf_fail_nomem(ctx);
	conf->routes[conf->n_routes++] = *route;
	(*count)++;
	return 0;
}

/* Which next-hop keys a routes entry has; exactly one kind must result. */
static int route_kind(struct conf_ctx *ctx, const config_setting_t *group, struct conf_route *route)
{
	bool blackhole = false, reject = false;
	if (conf_read_bool(ctx, group, "blackhole", &blackhole) < 0 ||
	    conf_read_bool(ctx, group, "reject", &reject) < 0)
		return -1;
	bool via = config_setting_get_member(group, "via") != NULL;
	bool dev = config_setting_get_member(group, "dev") != NULL;
	bool leak = config_setting_get_member(group, "target_vrf") != NULL;
	int kinds = (via || dev) + blackhole + reject + leak;
	if (kinds != 1)
		return conf_fail(ctx, group,
				 "%s (expected exactly one of: via (with optional dev), dev, blackhole = true, "
				 "reject = true, target_vrf)",
				 kinds == 0 ? "no next hop" : "conflicting next hops");
	route->kind = via	  ? CONF_ROUTE_VIA
		      : dev	  ? CONF_ROUTE_DEV
		      : blackhole ? CONF_ROUTE_BLACKHOLE
		      : reject	  ? CONF_ROUTE_REJECT
				  : CONF_ROUTE_LEAK;
	return 0;
}

static int read_route(struct conf_ctx *ctx, const config_setting_t *group)
{
	struct conf_route route = {0};
	char text[ADDR_STR_MAX], why[256];
	if (conf_check_keys(ctx, group, route_keys) < 0 || conf_read_name_required(ctx, group, "vrf", route.vrf) < 0)
		return -1;
	int rc = conf_read_string(ctx, group, "prefix", text, sizeof(text), false);
	if (rc <= 0)
		return rc < 0 ? -1 : conf_fail_missing(ctx, group, "prefix", "a prefix such as \"192.0.2.0/24\"");
	if (conf_prefix_parse_strict(text, &route.prefix, why, sizeof(why)) < 0)
		return conf_fail(ctx, config_setting_get_member(group, "prefix"), "%s", why);
	if (route_kind(ctx, group, &route) < 0 || conf_read_name(ctx, group, "dev", route.dev) < 0 ||
	    conf_read_name(ctx, group, "target_vrf", route.target_vrf) < 0)
		return -1;
	if (route.kind == CONF_ROUTE_VIA) {
		if (conf_read_string(ctx, group, "via", text, sizeof(text), false) < 0)
			return -1;
		if (addr_parse(text, &route.via) < 0)
			return conf_fail(ctx, config_setting_get_member(group, "via"),
					 "\"%s\" is not an IP address "
					 "(expected a gateway such as \"10.0.0.2\")",
					 text);
	}
	struct conf_route_origin origin = {.setting = group};
	return conf_route_add(ctx, &route, &origin);
}

int conf_read_routes(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *list = conf_read_group_list(ctx, root, "routes");
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	for (int i = 0; i < config_setting_length(list); i++)
		if (read_route(ctx, config_setting_get_elem(list, (unsigned)i)) < 0)
			return -1;
	return 0;
}
