/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The other direction of conf_load: a model written as a libconfig file that conf_load reads back to the same
 * model, and the comparison that says where two models differ. No DPDK here.
 */
#ifndef NPSGW_CONF_WRITE_H
#define NPSGW_CONF_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/conf/conf.h"

/*
 * Write c to out. Every value is explicit (defaults too), workers are listed, routes are written inline (route_file
 * is not kept: its routes are already in c->routes). header (may be NULL) becomes "# " comment lines at the top.
 * Returns 0, or -1 when out reports an error.
 */
int conf_write(FILE *out, const struct npsgw_conf *c, const char *header);

/*
 * Write c to path atomically: into "PATH.tmp", load that back with conf_load and check it is the same model, then
 * rename it over path. Returns 0, or an errno value with a message in err (nothing is left at path then).
 */
int conf_write_file(const struct npsgw_conf *c, const char *path, const char *header, char *err, size_t errlen);

/* "key = V;" with the L suffix beyond 32 bits (libconfig reads larger integers only with it); no newline. */
void conf_write_u32(FILE *out, const char *key, uint32_t v);

/* Sections compared by conf_differs. */
#define CONF_CMP_BOOT 0x1   /* eal, control, limits, neighbour, metrics, devices, workers: fixed while npsd runs */
#define CONF_CMP_TABLES 0x2 /* vrfs, interfaces, routes, neighbours (in order) */
#define CONF_CMP_EXT 0x4    /* network functions' sections (conf_ext.h) */
#define CONF_CMP_ALL (CONF_CMP_BOOT | CONF_CMP_TABLES | CONF_CMP_EXT)

/*
 * Do a and b differ in the sections of mask? When they do, what gets the first difference as a setting path and
 * both values: "limits.mbufs: 16384 / 32768". route_file is never compared (its routes are).
 */
bool conf_differs(const struct npsgw_conf *a, const struct npsgw_conf *b, unsigned mask, char *what, size_t len);

#endif
