/* SPDX-License-Identifier: BSD-3-Clause */
/* The metrics section: the Prometheus endpoint's listen address and the snapshot period. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

static const char *const metrics_keys[] = {"listen", "interval_ms", NULL};

int conf_parse_listen(const char *s, struct addr *addr, uint16_t *port, char *why, size_t why_len)
{
	char host[64];
	const char *colon;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':') {
			snprintf(why, why_len, "an IPv6 address needs brackets and a port, as in \"[::1]:9105\"");
			return -1;
		}
		colon = end + 1;
		snprintf(host, sizeof(host), "%.*s", (int)(end - s - 1), s + 1);
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(why, why_len, "no port");
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		if (strchr(host, ':') != NULL) {
			snprintf(why, why_len, "an IPv6 address needs brackets, as in \"[::1]:9105\"");
			return -1;
		}
	}
	if (addr_parse(host, addr) != 0 || (s[0] == '[') != (addr->family == 6)) {
		snprintf(why, why_len, "'%s' is not an IPv%c address", host, s[0] == '[' ? '6' : '4');
		return -1;
	}
	const char *p = colon + 1;
	unsigned long value = 0;
	if (*p == '\0') {
		snprintf(why, why_len, "no port");
		return -1;
	}
	for (; *p >= '0' && *p <= '9' && value <= 65535; p++)
		value = value * 10 + (unsigned long)(*p - '0');
	if (*p != '\0' || value == 0 || value > 65535) {
		snprintf(why, why_len, "bad port '%s' (expected 1..65535)", colon + 1);
		return -1;
	}
	*port = (uint16_t)value;
	return 0;
}

int conf_read_metrics(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *metrics = conf_read_group(ctx, root, "metrics");
	struct conf_metrics *out = &ctx->conf->metrics;
	if (metrics == NULL)
		return ctx->failed ? -1 : 0;
	if (conf_check_keys(ctx, metrics, metrics_keys) < 0 ||
	    conf_read_u32(ctx, metrics, "interval_ms", 100, 60000, &out->interval_ms) < 0)
		return -1;
	const config_setting_t *listen = config_setting_get_member(metrics, "listen");
	if (listen == NULL)
		return 0;
	if (config_setting_type(listen) == CONFIG_TYPE_STRING &&
	    strlen(config_setting_get_string(listen)) >= sizeof(out->listen))
		return conf_fail(ctx, listen, "\"%.32s...\" is too long (expected ADDRESS:PORT)",
				 config_setting_get_string(listen));
	int rc = conf_read_string(ctx, metrics, "listen", out->listen, sizeof(out->listen), false);
	if (rc < 0)
		return -1;
	char why[128];
	if (conf_parse_listen(out->listen, &out->addr, &out->port, why, sizeof(why)) < 0)
		return conf_fail(ctx, listen,
				 "\"%s\": %s (expected ADDRESS:PORT such as \"127.0.0.1:9105\" or \"[::1]:9105\")",
				 out->listen, why);
	out->listen_enabled = true;
	return 0;
}
