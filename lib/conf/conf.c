/* SPDX-License-Identifier: BSD-3-Clause */
/* Entry points of the boot-config loader: read the text, run the section readers in dependency order, clean up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_ext.h"
#include "lib/conf/conf_int.h"

static const char *const top_level_keys[] = {"eal",	"control", "limits",	 "neighbour",  "devices", "workers",
					     "vrfs",	"interfaces", "routes", "neighbours", "route_file", "metrics",
					     NULL};

static void conf_defaults(struct npsgw_conf *conf)
{
	snprintf(conf->eal.lcores, sizeof(conf->eal.lcores), "0-1");
	conf->eal.huge_auto = true;
	snprintf(conf->eal.file_prefix, sizeof(conf->eal.file_prefix), "npsd");
	snprintf(conf->control.socket_path, sizeof(conf->control.socket_path), "/run/npsgw/npsd.sock");
	conf->control.socket_mode = 0660;
	conf->limits = (struct conf_limits){
		.max_vrfs = 4096, .max_interfaces = 1024, .max_nexthops = 131072, .mbufs = 16384, .icmp_rate = 1000};
	conf->metrics.interval_ms = 500;
	conf->neigh = (struct conf_neigh_params){.reachable_ms = 30000,
						 .retrans_ms = 1000,
						 .delay_ms = 5000,
						 .max_mcast_probes = 3,
						 .max_ucast_probes = 3,
						 .stale_ms = 600000,
						 .hold_packets = 16,
						 .max_neighbours = 65536};
}

/* Directory part of a file name ("." when it has none); relative route_file paths are resolved against it. */
static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

static int read_sections(struct conf_ctx *ctx, const config_setting_t *root)
{
	/* The core's keys, then the network functions' (conf_ext.h). */
	const char *keys[sizeof(top_level_keys) / sizeof(top_level_keys[0]) + CONF_EXT_MAX];
	size_t n_keys = 0;
	for (; top_level_keys[n_keys] != NULL; n_keys++)
		keys[n_keys] = top_level_keys[n_keys];
	for (size_t i = 0; i < conf_ext_count(); i++)
		keys[n_keys++] = conf_ext_ops((int)i)->key;
	keys[n_keys] = NULL;
	if (conf_check_keys(ctx, root, keys) < 0)
		return -1;
	/* Order matters: later sections refer to names defined by earlier ones. */
	int (*const readers[])(struct conf_ctx *, const config_setting_t *) = {
		conf_read_eal,	   conf_read_control,	 conf_read_limits,     conf_read_neighbour_params,
		conf_read_devices, conf_read_workers,	 conf_read_vrfs,       conf_read_interfaces,
		conf_read_routes,  conf_read_neighbours, conf_read_route_file, conf_read_metrics,
		conf_read_ext_sections,
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		if (readers[i](ctx, root) < 0)
			return -1;
	return 0;
}

static void ctx_release(struct conf_ctx *ctx)
{
	conf_index_free(&ctx->device_names);
	conf_index_free(&ctx->vrf_names);
	conf_index_free(&ctx->interface_names);
	conf_index_free(&ctx->route_keys);
	free(ctx->vrf_route_count);
	free(ctx->base_dir);
}

/* Shrink the route array: it grew by doubling while the route file was read. */
static void trim_routes(struct npsgw_conf *conf)
{
	if (conf->n_routes == 0)
		return;
	struct conf_route *trimmed = realloc(conf->routes, conf->n_routes * sizeof(*conf->routes));
	if (trimmed != NULL)
		conf->routes = trimmed;
}

static struct npsgw_conf *conf_load_text(const char *text, const char *name, char err[CONF_ERR_MAX])
{
	struct conf_ctx ctx = {.name = name, .err = err};
	err[0] = '\0';
	ctx.conf = calloc(1, sizeof(*ctx.conf));
	ctx.base_dir = dir_of(name);
	if (ctx.conf == NULL || ctx.base_dir == NULL || (ctx.conf->path = strdup(name)) == NULL) {
		conf_fail_nomem(&ctx);
		conf_free(ctx.conf);
		ctx_release(&ctx);
		return NULL;
	}
	conf_defaults(ctx.conf);

	char *scanned = conf_prescan(&ctx, text);
	config_t cfg;
	config_init(&cfg);
	if (scanned != NULL && config_read_string(&cfg, scanned) != CONFIG_TRUE) {
		const char *file = config_error_file(&cfg);
		conf_fail_at(&ctx, file != NULL ? file : name, (size_t)config_error_line(&cfg), "%s",
			     config_error_text(&cfg));
	}
	free(scanned);
	if (!ctx.failed)
		read_sections(&ctx, config_root_setting(&cfg));
	config_destroy(&cfg);
	ctx_release(&ctx);
	if (ctx.failed) {
		conf_free(ctx.conf);
		return NULL;
	}
	trim_routes(ctx.conf);
	return ctx.conf;
}

struct npsgw_conf *conf_load_string(const char *text, const char *name, char err[CONF_ERR_MAX])
{
	return conf_load_text(text, name, err);
}

struct npsgw_conf *conf_load(const char *file, char err[CONF_ERR_MAX])
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		snprintf(err, CONF_ERR_MAX, "%s:0: cannot open the configuration file: %s", file, strerror(errno));
		return NULL;
	}
	char *text = NULL;
	size_t size = 0, used = 0;
	for (;;) {
		if (conf_grow((void **)&text, &size, used + 65536, 1) < 0) {
			snprintf(err, CONF_ERR_MAX, "%s:0: out of memory while reading the file", file);
			free(text);
			fclose(f);
			return NULL;
		}
		size_t n = fread(text + used, 1, size - used - 1, f);
		used += n;
		if (n == 0)
			break;
	}
	bool failed = ferror(f) != 0;
	int saved_errno = errno;
	fclose(f);
	if (failed) {
		snprintf(err, CONF_ERR_MAX, "%s:0: cannot read the configuration file: %s", file,
			 strerror(saved_errno));
		free(text);
		return NULL;
	}
	text[used] = '\0';
	struct npsgw_conf *conf = conf_load_text(text, file, err);
	free(text);
	return conf;
}

void conf_free(struct npsgw_conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->path);
	for (size_t i = 0; i < conf->eal.n_extra_args; i++)
		free(conf->eal.extra_args[i]);
	free(conf->eal.extra_args);
	free(conf->devices);
	for (size_t i = 0; i < conf->n_workers; i++)
		free(conf->workers[i].rxqs);
	free(conf->workers);
	free(conf->vrfs);
	for (size_t i = 0; i < conf->n_interfaces; i++)
		free(conf->interfaces[i].addresses);
	free(conf->interfaces);
	free(conf->routes);
	free(conf->neighbours);
	free(conf->route_file);
	conf_free_ext(conf);
	free(conf);
}

const struct conf_device *conf_find_device(const struct npsgw_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (strcmp(c->devices[i].name, name) == 0)
			return &c->devices[i];
	return NULL;
}

const struct conf_vrf *conf_find_vrf(const struct npsgw_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_vrfs; i++)
		if (strcmp(c->vrfs[i].name, name) == 0)
			return &c->vrfs[i];
	return NULL;
}

const struct conf_interface *conf_find_interface(const struct npsgw_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_interfaces; i++)
		if (strcmp(c->interfaces[i].name, name) == 0)
			return &c->interfaces[i];
	return NULL;
}
