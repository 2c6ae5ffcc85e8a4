/* SPDX-License-Identifier: BSD-3-Clause */
/* Error reporting and typed readers over libconfig settings: every message names the file, line and setting path. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

static int conf_vfail(struct conf_ctx *ctx, const char *file, size_t line, const char *path, const char *fmt,
		      va_list ap)
{
	if (ctx->failed)
		return -1;
	ctx->failed = true;
	int n = path != NULL ? snprintf(ctx->err, CONF_ERR_MAX, "%s:%zu: %s: ", file, line, path)
			     : snprintf(ctx->err, CONF_ERR_MAX, "%s:%zu: ", file, line);
	if (n >= 0 && n < CONF_ERR_MAX)
		vsnprintf(ctx->err + n, CONF_ERR_MAX - (size_t)n, fmt, ap);
	return -1;
}

int conf_fail(struct conf_ctx *ctx, const config_setting_t *setting, const char *fmt, ...)
{
	const char *file = config_setting_source_file(setting);
	size_t line = config_setting_source_line(setting);
	char path[256];
	bool root = config_setting_is_root(setting);
	va_list ap;
	va_start(ap, fmt);
	/* The root has no line of its own: point at the top of the file. */
	conf_vfail(ctx, file != NULL ? file : ctx->name, root || line == 0 ? 1 : line,
		   root ? NULL : conf_setting_path(setting, path, sizeof(path)), fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_at(struct conf_ctx *ctx, const char *file, size_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conf_vfail(ctx, file, line, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_nomem(struct conf_ctx *ctx)
{
	return conf_fail_at(ctx, ctx->name, 0, "out of memory while loading the configuration");
}

const char *conf_setting_path(const config_setting_t *setting, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(setting);
	if (parent == NULL || config_setting_is_root(parent)) {
		snprintf(buf, len, "%s", config_setting_name(setting) != NULL ? config_setting_name(setting) : "?");
		return buf;
	}
	conf_setting_path(parent, buf, len);
	size_t used = strlen(buf);
	if (config_setting_name(setting) != NULL)
		snprintf(buf + used, len - used, ".%s", config_setting_name(setting));
	else
		snprintf(buf + used, len - used, "[%d]", config_setting_index(setting));
	return buf;
}

const char *conf_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	default:
		return "an unknown type";
	}
}

int conf_fail_type(struct conf_ctx *ctx, const config_setting_t *s, const char *expected)
{
	return conf_fail(ctx, s, "wrong type, got %s (expected %s)", conf_type_name(s), expected);
}

int conf_check_keys(struct conf_ctx *ctx, const config_setting_t *group, const char *const *accepted)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *member = config_setting_get_elem(group, (unsigned)i);
		const char *key = config_setting_name(member);
		bool known = false;
		for (const char *const *a = accepted; *a != NULL && !known; a++)
			known = strcmp(*a, key) == 0;
		if (known)
			continue;
		char list[512] = "";
		size_t used = 0;
		for (const char *const *a = accepted; *a != NULL && used < sizeof(list); a++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", a == accepted ? "" : ", ",
						 *a);
		/* Point at the key's line, but name the group: the key's own path would repeat the key. */
		const char *file = config_setting_source_file(member);
		char path[256];
		if (config_setting_is_root(group))
			return conf_fail_at(ctx, file != NULL ? file : ctx->name, config_setting_source_line(member),
					    "unknown key '%s' at top level (expected one of: %s)", key, list);
		return conf_fail_at(ctx, file != NULL ? file : ctx->name, config_setting_source_line(member),
				    "%s: unknown key '%s' (expected one of: %s)",
				    conf_setting_path(group, path, sizeof(path)), key, list);
	}
	return 0;
}

int conf_fail_missing(struct conf_ctx *ctx, const config_setting_t *group, const char *key, const char *expected)
{
	return conf_fail(ctx, group, "missing key '%s' (expected %s)", key, expected);
}

int conf_read_uint(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (s == NULL)
		return 0;
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return conf_fail_type(ctx, s, "an integer");
	long long value = config_setting_get_int64(s);
	if (value < 0 || (uint64_t)value < min || (uint64_t)value > max)
		return conf_fail(ctx, s, "%lld is out of range (expected %" PRIu64 "..%" PRIu64 ")", value, min, max);
	*out = (uint64_t)value;
	return 1;
}

int conf_read_u32(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint32_t min, uint32_t max,
		  uint32_t *out)
{
	uint64_t value = 0;
	int rc = conf_read_uint(ctx, group, key, min, max, &value);
	if (rc == 1)
		*out = (uint32_t)value;
	return rc;
}

int conf_read_u16(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint16_t min, uint16_t max,
		  uint16_t *out)
{
	uint64_t value = 0;
	int rc = conf_read_uint(ctx, group, key, min, max, &value);
	if (rc == 1)
		*out = (uint16_t)value;
	return rc;
}

int conf_read_bool(struct conf_ctx *ctx, const config_setting_t *group, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return conf_fail_type(ctx, s, "a boolean: true or false");
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

static int check_string(struct conf_ctx *ctx, const config_setting_t *s, size_t size, bool allow_empty)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(ctx, s, "a string");
	size_t len = strlen(config_setting_get_string(s));
	if (len == 0 && !allow_empty)
		return conf_fail(ctx, s, "empty string (expected a non-empty string)");
	if (len >= size)
		return conf_fail(ctx, s, "string too long, %zu characters (expected at most %zu)", len, size - 1);
	return 0;
}

int conf_read_string(struct conf_ctx *ctx, const config_setting_t *group, const char *key, char *out, size_t size,
		     bool allow_empty)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (s == NULL)
		return 0;
	if (check_string(ctx, s, size, allow_empty) < 0)
		return -1;
	snprintf(out, size, "%s", config_setting_get_string(s));
	return 1;
}

bool conf_name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

int conf_read_name(struct conf_ctx *ctx, const config_setting_t *group, const char *key, char out[CONF_NAME_MAX])
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(ctx, s, "a string");
	const char *name = config_setting_get_string(s);
	if (!conf_name_valid(name))
		return conf_fail(ctx, s,
				 "\"%.64s\" is not a valid name (expected 1..%d characters of A-Z a-z 0-9 _ . -)", name,
				 CONF_NAME_MAX - 1);
	snprintf(out, CONF_NAME_MAX, "%s", name);
	return 1;
}

int conf_read_name_required(struct conf_ctx *ctx, const config_setting_t *group, const char *key,
			    char out[CONF_NAME_MAX])
{
	int rc = conf_read_name(ctx, group, key, out);
	if (rc == 0)
		return conf_fail_missing(ctx, group, key, "a name");
	return rc;
}

int conf_read_choice(struct conf_ctx *ctx, const config_setting_t *group, const char *key, const char *const *names,
		     size_t n, uint8_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (s == NULL)
		return 0;
	char expected[160] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof(expected); i++)
		used += (size_t)snprintf(expected + used, sizeof(expected) - used, "%s\"%s\"",
					 i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		char what[192];
		snprintf(what, sizeof(what), "one of %s", expected);
		return conf_fail_type(ctx, s, what);
	}
	const char *text = config_setting_get_string(s);
	for (size_t i = 0; i < n; i++)
		if (strcmp(text, names[i]) == 0) {
			*out = (uint8_t)i;
			return 1;
		}
	return conf_fail(ctx, s, "\"%.64s\" is not a valid %s (expected %s)", text, key, expected);
}

int conf_read_vrf_required(struct conf_ctx *ctx, const struct npsgw_conf *core, const config_setting_t *group,
			   const char *key, char out[CONF_NAME_MAX])
{
	if (conf_read_name_required(ctx, group, key, out) < 0)
		return -1;
	if (core != NULL && conf_find_vrf(core, out) == NULL)
		return conf_fail(ctx, config_setting_get_member(group, key), "unknown vrf %s (expected a name from vrfs)",
				 out);
	return 0;
}

const config_setting_t *conf_read_string_list(struct conf_ctx *ctx, const config_setting_t *group, const char *key,
					      size_t *count)
{
	*count = 0;
	const config_setting_t *s = config_setting_get_member(group, key);
	if (s == NULL)
		return NULL;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		conf_fail_type(ctx, s, "an array of strings [ \"...\", ... ]");
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
			conf_fail_type(ctx, elem, "a string");
			return NULL;
		}
	}
	*count = (size_t)config_setting_length(s);
	return s;
}

const config_setting_t *conf_read_group_list(struct conf_ctx *ctx, const config_setting_t *root, const char *key)
{
	const config_setting_t *s = config_setting_get_member(root, key);
	if (s == NULL)
		return NULL;
	/* An empty "( )" or "[ ]" parses as a list or an array; both mean "none". */
	if (!config_setting_is_list(s) && !(config_setting_is_array(s) && config_setting_length(s) == 0)) {
		conf_fail_type(ctx, s, "a list of groups ( { ... }, ... )");
		return NULL;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
		if (!config_setting_is_group(elem)) {
			conf_fail_type(ctx, elem, "a group { ... }");
			return NULL;
		}
	}
	return s;
}

const config_setting_t *conf_read_group(struct conf_ctx *ctx, const config_setting_t *root, const char *key)
{
	const config_setting_t *s = config_setting_get_member(root, key);
	if (s == NULL)
		return NULL;
	if (!config_setting_is_group(s)) {
		conf_fail_type(ctx, s, "a group { ... }");
		return NULL;
	}
	return s;
}

int conf_grow(void **array, size_t *capacity, size_t need, size_t elem_size)
{
	if (need <= *capacity)
		return 0;
	size_t capacity_new = *capacity < 16 ? 16 : *capacity;
	while (capacity_new < need)
		capacity_new *= 2;
	void *grown = realloc(*array, capacity_new * elem_size);
	if (grown == NULL)
		return -1;
	*array = grown;
	*capacity = capacity_new;
	return 0;
}
