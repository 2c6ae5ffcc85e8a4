/* SPDX-License-Identifier: BSD-3-Clause */
/* The scalar sections: eal, control, limits and neighbour. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

static const char *const eal_keys[] = {"lcores", "memory_mb", "hugepages", "file_prefix", "extra_args", NULL};
static const char *const control_keys[] = {"socket", "mode", "group", NULL};
static const char *const limits_keys[] = {"max_vrfs", "max_interfaces", "max_nexthops", "mbufs", "icmp_rate", NULL};
static const char *const neighbour_keys[] = {"reachable_ms",	 "retrans_ms",	     "delay_ms",
					     "max_mcast_probes", "max_ucast_probes", "stale_ms",
					     "hold_packets",	 "max_neighbours",   NULL};

/* Read one lcore id at *p, advancing past its digits. */
static int parse_lcore_id(const char **p, uint32_t *id, char *why, size_t why_len)
{
	if (!isdigit((unsigned char)**p)) {
		snprintf(why, why_len, "'%c' where an lcore number belongs", **p != '\0' ? **p : ' ');
		return -1;
	}
	unsigned long value = 0;
	while (isdigit((unsigned char)**p)) {
		if (value < CONF_MAX_LCORE)
			value = value * 10 + (unsigned long)(**p - '0');
		(*p)++;
	}
	if (value >= CONF_MAX_LCORE) {
		snprintf(why, why_len, "lcore %lu is out of range (expected 0..%d)", value, CONF_MAX_LCORE - 1);
		return -1;
	}
	*id = (uint32_t)value;
	return 0;
}

int conf_parse_lcores(const char *s, uint32_t *ids, size_t *n_ids, char *why, size_t why_len)
{
	bool seen[CONF_MAX_LCORE] = {false};
	const char *p = s;
	*n_ids = 0;
	for (;;) {
		uint32_t first, last;
		if (parse_lcore_id(&p, &first, why, why_len) < 0)
			return -1;
		last = first;
		if (*p == '-') {
			p++;
			if (parse_lcore_id(&p, &last, why, why_len) < 0)
				return -1;
			if (last < first) {
				snprintf(why, why_len, "range %u-%u runs backwards", first, last);
				return -1;
			}
		}
		for (uint32_t id = first; id <= last; id++) {
			if (seen[id]) {
				snprintf(why, why_len, "lcore %u is listed twice", id);
				return -1;
			}
			seen[id] = true;
			ids[(*n_ids)++] = id;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			snprintf(why, why_len, "unexpected '%c'", *p);
			return -1;
		}
		p++;
	}
}

static bool file_prefix_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static int read_extra_args(struct conf_ctx *ctx, const config_setting_t *eal)
{
	size_t count;
	const config_setting_t *list = conf_read_string_list(ctx, eal, "extra_args", &count);
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	if (count > CONF_MAX_EXTRA_ARGS)
		return conf_fail(ctx, list, "%zu arguments (expected at most %d)", count, CONF_MAX_EXTRA_ARGS);
	struct conf_eal *out = &ctx->conf->eal;
	out->extra_args = calloc(count > 0 ? count : 1, sizeof(*out->extra_args));
	if (out->extra_args == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *arg = config_setting_get_elem(list, (unsigned)i);
		const char *value = config_setting_get_string(arg);
		if (value[0] == '\0')
			return conf_fail(ctx, arg, "empty string (expected an EAL argument such as \"--log-level=8\")");
		if ((out->extra_args[i] = strdup(value)) == NULL)
			return conf_fail_nomem(ctx);
		out->n_extra_args = i + 1;
	}
	return 0;
}

int conf_read_eal(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *eal = conf_read_group(ctx, root, "eal");
	struct conf_eal *out = &ctx->conf->eal;
	char why[128];
	if (eal == NULL) {
		if (ctx->failed)
			return -1;
		return conf_parse_lcores(out->lcores, ctx->lcores, &ctx->n_lcores, why, sizeof(why));
	}
	if (conf_check_keys(ctx, eal, eal_keys) < 0 ||
	    conf_read_string(ctx, eal, "lcores", out->lcores, sizeof(out->lcores), false) < 0)
		return -1;
	if (conf_parse_lcores(out->lcores, ctx->lcores, &ctx->n_lcores, why, sizeof(why)) < 0)
		return conf_fail(ctx, config_setting_get_member(eal, "lcores"),
				 "\"%s\": %s (expected lcore numbers and ranges such as \"0-2\" or \"0,2-3\")",
				 out->lcores, why);
	if (conf_read_u32(ctx, eal, "memory_mb", 0, 1048576, &out->memory_mb) < 0)
		return -1;
	char hugepages[8] = "auto";
	const config_setting_t *huge = config_setting_get_member(eal, "hugepages");
	if (huge != NULL && config_setting_type(huge) == CONFIG_TYPE_STRING &&
	    strlen(config_setting_get_string(huge)) >= sizeof(hugepages))
		return conf_fail(ctx, huge, "\"%.32s\" is not a hugepages mode (expected \"auto\", \"yes\" or \"no\")",
				 config_setting_get_string(huge));
	if (conf_read_string(ctx, eal, "hugepages", hugepages, sizeof(hugepages), true) < 0)
		return -1;
	if (strcmp(hugepages, "auto") != 0 && strcmp(hugepages, "yes") != 0 && strcmp(hugepages, "no") != 0)
		return conf_fail(ctx, huge, "\"%s\" is not a hugepages mode (expected \"auto\", \"yes\" or \"no\")",
				 hugepages);
	out->huge_auto = strcmp(hugepages, "auto") == 0;
	out->no_huge = strcmp(hugepages, "no") == 0;
	if (conf_read_string(ctx, eal, "file_prefix", out->file_prefix, sizeof(out->file_prefix), false) < 0)
		return -1;
	if (!file_prefix_valid(out->file_prefix))
		return conf_fail(ctx, config_setting_get_member(eal, "file_prefix"),
				 "\"%s\" is not a valid file prefix (expected characters of A-Z a-z 0-9 _ . -)",
				 out->file_prefix);
	return read_extra_args(ctx, eal);
}

static int read_socket_mode(struct conf_ctx *ctx, const config_setting_t *control)
{
	char mode[8];
	const config_setting_t *s = config_setting_get_member(control, "mode");
	if (s == NULL)
		return 0;
	const char *expected = "expected octal permission bits as a string, such as \"0660\"";
	if (config_setting_type(s) == CONFIG_TYPE_STRING && strlen(config_setting_get_string(s)) >= sizeof(mode))
		return conf_fail(ctx, s, "\"%.32s\" is not a permission mode (%s)", config_setting_get_string(s),
				 expected);
	if (conf_read_string(ctx, control, "mode", mode, sizeof(mode), false) < 0)
		return -1;
	uint32_t value = 0;
	for (const char *p = mode; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return conf_fail(ctx, s, "\"%s\" is not a permission mode (%s)", mode, expected);
		value = value * 8 + (uint32_t)(*p - '0');
	}
	if (value > 0777)
		return conf_fail(ctx, s, "mode %s has bits beyond 0777 (expected at most 0777)", mode);
	if (value & 0002)
		return conf_fail(ctx, s, "mode %s makes the control socket world-writable (expected no 0002 bit)",
				 mode);
	ctx->conf->control.socket_mode = value;
	return 0;
}

int conf_read_control(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *control = conf_read_group(ctx, root, "control");
	struct conf_control *out = &ctx->conf->control;
	if (control == NULL)
		return ctx->failed ? -1 : 0;
	if (conf_check_keys(ctx, control, control_keys) < 0 ||
	    conf_read_string(ctx, control, "socket", out->socket_path, sizeof(out->socket_path), false) < 0 ||
	    read_socket_mode(ctx, control) < 0 ||
	    conf_read_string(ctx, control, "group", out->socket_group, sizeof(out->socket_group), true) < 0)
		return -1;
	return 0;
}

int conf_read_limits(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *limits = conf_read_group(ctx, root, "limits");
	struct conf_limits *out = &ctx->conf->limits;
	if (limits == NULL)
		return ctx->failed ? -1 : 0;
	if (conf_check_keys(ctx, limits, limits_keys) < 0 ||
	    conf_read_u32(ctx, limits, "max_vrfs", 1, 65536, &out->max_vrfs) < 0 ||
	    conf_read_u32(ctx, limits, "max_interfaces", 1, 65536, &out->max_interfaces) < 0 ||
	    conf_read_u32(ctx, limits, "max_nexthops", 16, 16777216, &out->max_nexthops) < 0 ||
	    conf_read_u32(ctx, limits, "mbufs", 512, 16777216, &out->mbufs) < 0 ||
	    conf_read_u32(ctx, limits, "icmp_rate", 1, 1000000, &out->icmp_rate) < 0)
		return -1;
	return 0;
}

int conf_read_neighbour_params(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *neighbour = conf_read_group(ctx, root, "neighbour");
	struct conf_neigh_params *out = &ctx->conf->neigh;
	if (neighbour == NULL)
		return ctx->failed ? -1 : 0;
	if (conf_check_keys(ctx, neighbour, neighbour_keys) < 0 ||
	    conf_read_u32(ctx, neighbour, "reachable_ms", 1000, 3600000, &out->reachable_ms) < 0 ||
	    conf_read_u32(ctx, neighbour, "retrans_ms", 100, 60000, &out->retrans_ms) < 0 ||
	    conf_read_u32(ctx, neighbour, "delay_ms", 100, 60000, &out->delay_ms) < 0 ||
	    conf_read_u32(ctx, neighbour, "max_mcast_probes", 1, 10, &out->max_mcast_probes) < 0 ||
	    conf_read_u32(ctx, neighbour, "max_ucast_probes", 1, 10, &out->max_ucast_probes) < 0 ||
	    conf_read_u32(ctx, neighbour, "stale_ms", 1000, 86400000, &out->stale_ms) < 0 ||
	    conf_read_u32(ctx, neighbour, "hold_packets", 1, 1024, &out->hold_packets) < 0 ||
	    conf_read_u32(ctx, neighbour, "max_neighbours", 16, 16777216, &out->max_neighbours) < 0)
		return -1;
	return 0;
}
