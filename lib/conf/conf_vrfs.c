/* SPDX-License-Identifier: BSD-3-Clause */
/* The vrfs section: routing tables with unique names and ids. */
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

static const char *const vrf_keys[] = {"name", "id", "fib", "max_routes", NULL};

static bool vrf_name_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	return strcmp(c->conf->vrfs[index].name, key) == 0;
}

static bool vrf_id_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	return c->conf->vrfs[index].id == *(const uint32_t *)key;
}

long conf_vrf_index(const struct conf_ctx *ctx, const char *name)
{
	return conf_index_find(&ctx->vrf_names, conf_hash_string(CONF_HASH_SEED, name), vrf_name_same, ctx, name);
}

static int read_fib(struct conf_ctx *ctx, const config_setting_t *group, struct conf_vrf *vrf)
{
	char fib[16] = "fast";
	const config_setting_t *s = config_setting_get_member(group, "fib");
	if (s == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *value = config_setting_get_string(s);
		if (strcmp(value, "fast") != 0 && strcmp(value, "compact") != 0)
			return conf_fail(ctx, s, "\"%.32s\" is not a FIB kind (expected \"fast\" or \"compact\")",
					 value);
	}
	if (conf_read_string(ctx, group, "fib", fib, sizeof(fib), false) < 0)
		return -1;
	vrf->fib = strcmp(fib, "compact") == 0 ? CONF_FIB_COMPACT : CONF_FIB_FAST;
	return 0;
}

static int read_vrf(struct conf_ctx *ctx, const config_setting_t *group, size_t index, struct conf_index *ids)
{
	struct conf_vrf *vrf = &ctx->conf->vrfs[index];
	*vrf = (struct conf_vrf){.fib = CONF_FIB_FAST, .max_routes = 65536};
	if (conf_check_keys(ctx, group, vrf_keys) < 0 || conf_read_name_required(ctx, group, "name", vrf->name) < 0)
		return -1;
	if (conf_vrf_index(ctx, vrf->name) >= 0)
		return conf_fail(ctx, config_setting_get_member(group, "name"),
				 "duplicate vrf name %s (expected unique names)", vrf->name);
	if (conf_index_add(&ctx->vrf_names, conf_hash_string(CONF_HASH_SEED, vrf->name), (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);
	int rc = conf_read_u32(ctx, group, "id", 0, 4294967294U, &vrf->id);
	if (rc <= 0)
		return rc < 0 ? -1 : conf_fail_missing(ctx, group, "id", "an integer 0..4294967294");
	uint64_t id_hash = conf_hash_bytes(CONF_HASH_SEED, &vrf->id, sizeof(vrf->id));
	long other = conf_index_find(ids, id_hash, vrf_id_same, ctx, &vrf->id);
	if (other >= 0)
		return conf_fail(ctx, config_setting_get_member(group, "id"),
				 "id %u is already used by vrf %s (expected unique ids)", vrf->id,
				 ctx->conf->vrfs[other].name);
	if (conf_index_add(ids, id_hash, (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);
	if (read_fib(ctx, group, vrf) < 0 ||
	    conf_read_u32(ctx, group, "max_routes", 16, 16777216, &vrf->max_routes) < 0)
		return -1;
	return 0;
}

int conf_read_vrfs(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *list = conf_read_group_list(ctx, root, "vrfs");
	if (list == NULL)
		return ctx->failed ? -1
				   : conf_fail(ctx, root,
					       "missing section 'vrfs' (expected a list of at least one vrf: "
					       "vrfs = ( { name = \"main\"; id = 0; } );)");
	size_t count = (size_t)config_setting_length(list);
	if (count == 0)
		return conf_fail(ctx, list, "no vrfs (expected at least one)");
	uint32_t max = ctx->conf->limits.max_vrfs;
	if (count > max)
		return conf_fail(ctx, config_setting_get_elem(list, max),
				 "%zu vrfs exceed limits.max_vrfs (expected at "
				 "most %u)",
				 count, max);
	ctx->conf->vrfs = calloc(count, sizeof(*ctx->conf->vrfs));
	ctx->vrf_route_count = calloc(count, sizeof(*ctx->vrf_route_count));
	if (ctx->conf->vrfs == NULL || ctx->vrf_route_count == NULL)
		return conf_fail_nomem(ctx);
	ctx->conf->n_vrfs = count;
	struct conf_index ids = {0};
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = read_vrf(ctx, config_setting_get_elem(list, (unsigned)i), i, &ids);
	conf_index_free(&ids);
	return rc;
}
