/* SPDX-License-Identifier: BSD-3-Clause */
/* Route checks shared by the routes section and the route file (internal to lib/conf). */
#ifndef NPSGW_CONF_ROUTE_H
#define NPSGW_CONF_ROUTE_H

#include "lib/conf/conf_int.h"

/* Where a route was written: a setting of the config file, or a line of the route file. */
struct conf_route_origin {
	const config_setting_t *setting; /* NULL for the route file */
	const char *file;
	size_t line;
};

/* Validate route against the model (vrf, next hop, duplicates, max_routes) and append it. Returns 0 or -1. */
int conf_route_add(struct conf_ctx *ctx, const struct conf_route *route, const struct conf_route_origin *origin);

/* Parse a prefix whose host bits must be zero. Returns 0, or -1 with a reason in why. */
int conf_prefix_parse_strict(const char *text, struct addr_prefix *out, char *why, size_t why_len);

#endif
