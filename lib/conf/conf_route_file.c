/* SPDX-License-Identifier: BSD-3-Clause */
/* The route file: one route per line, for tables too large to write as libconfig groups. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_route.h"

#define ROUTE_LINE_GRAMMAR                                                                                             \
	"expected '<vrf> <prefix> via <gateway> [dev <interface>]', '<vrf> <prefix> dev <interface>', "                \
	"'<vrf> <prefix> blackhole', '<vrf> <prefix> reject' or '<vrf> <prefix> vrf <target>'"
#define ROUTE_LINE_MAX_TOKENS 7 /* one more than the longest form, to catch trailing words */

static int line_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int line_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int copy_name(const char *token, char out[CONF_NAME_MAX], const char *what, char *err, size_t errlen)
{
	if (!conf_name_valid(token))
		return line_fail(err, errlen,
				 "\"%.64s\" is not a valid %s name (expected 1..%d characters of A-Z a-z "
				 "0-9 _ . -)",
				 token, what, CONF_NAME_MAX - 1);
	snprintf(out, CONF_NAME_MAX, "%s", token);
	return 0;
}

static int parse_next_hop(char **tokens, size_t n, struct conf_route *out, char *err, size_t errlen)
{
	const char *keyword = tokens[2];
	size_t wanted;
	if (strcmp(keyword, "via") == 0) {
		out->kind = CONF_ROUTE_VIA;
		wanted = n >= 5 ? 6 : 4;
		if (n >= 4 && addr_parse(tokens[3], &out->via) < 0)
			return line_fail(err, errlen, "\"%.64s\" is not a gateway address (expected such as 10.0.0.2)",
					 tokens[3]);
		if (n >= 5 && strcmp(tokens[4], "dev") != 0)
			return line_fail(err, errlen,
					 "unexpected \"%.64s\" after the gateway (expected 'dev <interface>' "
					 "or the end of the line)",
					 tokens[4]);
		if (n == 6 && copy_name(tokens[5], out->dev, "interface", err, errlen) < 0)
			return -1;
	} else if (strcmp(keyword, "dev") == 0) {
		out->kind = CONF_ROUTE_DEV;
		wanted = 4;
		if (n >= 4 && copy_name(tokens[3], out->dev, "interface", err, errlen) < 0)
			return -1;
	} else if (strcmp(keyword, "blackhole") == 0 || strcmp(keyword, "reject") == 0) {
		out->kind = keyword[0] == 'b' ? CONF_ROUTE_BLACKHOLE : CONF_ROUTE_REJECT;
		wanted = 3;
	} else if (strcmp(keyword, "vrf") == 0) {
		out->kind = CONF_ROUTE_LEAK;
		wanted = 4;
		if (n >= 4 && copy_name(tokens[3], out->target_vrf, "vrf", err, errlen) < 0)
			return -1;
	} else {
		return line_fail(err, errlen, "unknown next hop \"%.64s\" (%s)", keyword, ROUTE_LINE_GRAMMAR);
	}
	if (n < wanted)
		return line_fail(err, errlen, "missing word after '%s' (%s)", tokens[n - 1], ROUTE_LINE_GRAMMAR);
	if (n > wanted)
		return line_fail(err, errlen, "unexpected \"%.64s\" (%s)", tokens[wanted], ROUTE_LINE_GRAMMAR);
	return 0;
}

int conf_parse_route_line(const char *line, struct conf_route *out, char *err, size_t errlen)
{
	char buf[CONF_MAX_LINE_TEXT];
	*out = (struct conf_route){0};
	if (strlen(line) >= sizeof(buf))
		return line_fail(err, errlen, "line longer than %zu characters", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", line);
	char *tokens[ROUTE_LINE_MAX_TOKENS], *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(buf, " \t\r\n", &save); t != NULL && n < ROUTE_LINE_MAX_TOKENS;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tokens[n++] = t;
	if (n < 3)
		return line_fail(err, errlen, "too few words (%s)", ROUTE_LINE_GRAMMAR);
	if (copy_name(tokens[0], out->vrf, "vrf", err, errlen) < 0 ||
	    conf_prefix_parse_strict(tokens[1], &out->prefix, err, errlen) < 0)
		return -1;
	return parse_next_hop(tokens, n, out, err, errlen);
}

/* Blank lines and lines whose first non-blank character is '#' carry no route. */
static bool line_is_route(const char *line)
{
	line += strspn(line, " \t\r\n");
	return *line != '\0' && *line != '#';
}

static char *resolve_path(const struct conf_ctx *ctx, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	size_t len = strlen(ctx->base_dir) + 1 + strlen(path) + 1;
	char *full = malloc(len);
	if (full != NULL)
		snprintf(full, len, "%s/%s", ctx->base_dir, path);
	return full;
}

static int read_lines(struct conf_ctx *ctx, FILE *f, const char *path)
{
	char *line = NULL, why[CONF_ERR_MAX];
	size_t size = 0, number = 0;
	int rc = 0;
	struct conf_route route;
	while (rc == 0 && getline(&line, &size, f) >= 0) {
		number++;
		if (!line_is_route(line))
			continue;
		line[strcspn(line, "\r\n")] = '\0'; /* the line limit counts the route, not its line end */
		struct conf_route_origin origin = {.file = path, .line = number};
		if (conf_parse_route_line(line, &route, why, sizeof(why)) < 0)
			rc = conf_fail_at(ctx, path, number, "%s", why);
		else
			rc = conf_route_add(ctx, &route, &origin);
	}
	if (rc == 0 && ferror(f))
		rc = conf_fail_at(ctx, path, number, "read error: %s", strerror(errno));
	free(line);
	return rc;
}

int conf_read_route_file(struct conf_ctx *ctx, const config_setting_t *root)
{
	char path[4096];
	int rc = conf_read_string(ctx, root, "route_file", path, sizeof(path), false);
	if (rc <= 0)
		return rc;
	const config_setting_t *setting = config_setting_get_member(root, "route_file");
	ctx->conf->route_file = resolve_path(ctx, path);
	if (ctx->conf->route_file == NULL)
		return conf_fail_nomem(ctx);
	FILE *f = fopen(ctx->conf->route_file, "r");
	if (f == NULL)
		return conf_fail(ctx, setting, "cannot open \"%s\": %s (expected a readable file of routes)",
				 ctx->conf->route_file, strerror(errno));
	rc = read_lines(ctx, f, ctx->conf->route_file);
	fclose(f);
	return rc;
}
