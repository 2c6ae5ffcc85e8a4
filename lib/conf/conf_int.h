/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by the config loader's files: the load context, error reporting and typed setting readers. */
#ifndef NPSGW_CONF_INT_H
#define NPSGW_CONF_INT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/conf/conf.h"
#include "lib/conf/conf_index.h"

/* Lcore ids accepted in eal.lcores; matches RTE_MAX_LCORE of the DPDK build (EAL checks again at start-up). */
#define CONF_MAX_LCORE 128
#define CONF_MAX_EXTRA_ARGS 64
#define CONF_MAX_RX_QUEUES 64
#define CONF_MAX_LINE_TEXT 4096 /* route file lines longer than this are refused */

struct conf_ctx {
	const char *name; /* config file name used in messages */
	char *base_dir;	  /* directory of the config file: relative route_file paths start here */
	char *err;	  /* CONF_ERR_MAX bytes; the first error wins */
	bool failed;
	struct npsgw_conf *conf;
	size_t routes_capacity;
	uint32_t lcores[CONF_MAX_LCORE]; /* eal.lcores in listed order; lcores[0] is the main lcore */
	size_t n_lcores;
	struct conf_index device_names, vrf_names, interface_names, route_keys;
	uint32_t (*vrf_route_count)[2]; /* per VRF: routes per family (IPv4, IPv6), against max_routes */
};

/* Report an error at SETTING's line: "FILE:LINE: PATH: message". Returns -1. Later errors are ignored. */
int conf_fail(struct conf_ctx *ctx, const config_setting_t *setting, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Report an error at an explicit place: "FILE:LINE: message". Returns -1. */
int conf_fail_at(struct conf_ctx *ctx, const char *file, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Out of memory, reported against the config file. Returns -1. */
int conf_fail_nomem(struct conf_ctx *ctx);

/* "devices[1].mtu"-style path of a setting, for messages. */
const char *conf_setting_path(const config_setting_t *setting, char *buf, size_t len);

/* "an integer", "a group { ... }", ...: a setting's type in words, for messages. */
const char *conf_type_name(const config_setting_t *s);
/* "wrong type, got TYPE (expected EXPECTED)" at s. Returns -1. */
int conf_fail_type(struct conf_ctx *ctx, const config_setting_t *s, const char *expected);

/* Refuse keys of GROUP not in ACCEPTED (NULL-terminated). */
int conf_check_keys(struct conf_ctx *ctx, const config_setting_t *group, const char *const *accepted);

/*
 * Typed readers of GROUP.KEY. Each returns 1 when the key is present and valid, 0 when it is absent (the output
 * keeps its default) and -1 after reporting an error. The *_required variants report an absent key as an error.
 */
int conf_read_uint(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint64_t min, uint64_t max,
		   uint64_t *out);
int conf_read_u32(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint32_t min, uint32_t max,
		  uint32_t *out);
int conf_read_u16(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint16_t min, uint16_t max,
		  uint16_t *out);
int conf_read_bool(struct conf_ctx *ctx, const config_setting_t *group, const char *key, bool *out);
/* A string shorter than size (so it fits with its NUL); empty strings are refused unless allow_empty. */
int conf_read_string(struct conf_ctx *ctx, const config_setting_t *group, const char *key, char *out, size_t size,
		     bool allow_empty);
/* A name: [A-Za-z0-9_.-]{1,31}. */
int conf_read_name(struct conf_ctx *ctx, const config_setting_t *group, const char *key, char out[CONF_NAME_MAX]);
int conf_read_name_required(struct conf_ctx *ctx, const config_setting_t *group, const char *key,
			    char out[CONF_NAME_MAX]);
/* One of names[0..n) as a string: *out = its index (the message lists the names when it is none of them). */
int conf_read_choice(struct conf_ctx *ctx, const config_setting_t *group, const char *key, const char *const *names,
		     size_t n, uint8_t *out);
/* A VRF name (required), checked against core's vrfs section when core is not NULL. Returns 0 or -1. */
int conf_read_vrf_required(struct conf_ctx *ctx, const struct npsgw_conf *core, const config_setting_t *group,
			   const char *key, char out[CONF_NAME_MAX]);
/* Report a missing required KEY of GROUP; expected describes its type. Returns -1. */
int conf_fail_missing(struct conf_ctx *ctx, const config_setting_t *group, const char *key, const char *expected);

/* A list or array of strings (possibly empty); NULL after an error. Sets *count. */
const config_setting_t *conf_read_string_list(struct conf_ctx *ctx, const config_setting_t *group, const char *key,
					      size_t *count);
/* A list of groups at top level; NULL when absent or after an error (check ctx->failed). */
const config_setting_t *conf_read_group_list(struct conf_ctx *ctx, const config_setting_t *root, const char *key);
/* A group at top level; NULL when absent or after an error (check ctx->failed). */
const config_setting_t *conf_read_group(struct conf_ctx *ctx, const config_setting_t *root, const char *key);

bool conf_name_valid(const char *s);

/* Network functions' sections (conf_ext.c): read after the core's, freed, written and compared with them. */
int conf_read_ext_sections(struct conf_ctx *ctx, const config_setting_t *root);
void conf_free_ext(struct npsgw_conf *c);
void conf_write_ext(FILE *out, const struct npsgw_conf *c);
bool conf_ext_differs(const struct npsgw_conf *a, const struct npsgw_conf *b, char *what, size_t len);

/* Grow *array (of elem_size items, *capacity of them) to hold at least need items. Returns 0 or -1. */
int conf_grow(void **array, size_t *capacity, size_t need, size_t elem_size);

/*
 * Rewrite plain integer literals beyond 32 bits with an L suffix (libconfig 1.5 silently wraps them otherwise)
 * and refuse @include. Returns a new string, or NULL after reporting an error.
 */
char *conf_prescan(struct conf_ctx *ctx, const char *text);

/* Sections, in the order conf_load_text reads them. Each returns 0 or -1 (error reported). */
int conf_read_eal(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_control(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_limits(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_neighbour_params(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_devices(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_workers(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_vrfs(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_interfaces(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_routes(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_neighbours(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_route_file(struct conf_ctx *ctx, const config_setting_t *root);
int conf_read_metrics(struct conf_ctx *ctx, const config_setting_t *root);
/* "ADDRESS:PORT" or "[IPv6]:PORT", port 1..65535. Returns 0, or -1 with a reason in why. */
int conf_parse_listen(const char *s, struct addr *addr, uint16_t *port, char *why, size_t why_len);

/* Index lookups built while reading; -1 when absent. */
long conf_device_index(const struct conf_ctx *ctx, const char *name);
long conf_vrf_index(const struct conf_ctx *ctx, const char *name);
long conf_interface_index(const struct conf_ctx *ctx, const char *name);

/* Parse eal.lcores into ids (listed order, no duplicates). Returns 0, or -1 with a reason in why. */
int conf_parse_lcores(const char *s, uint32_t *ids, size_t *n_ids, char *why, size_t why_len);

#endif
