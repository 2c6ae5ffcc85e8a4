/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus endpoint: GET /metrics in text format 0.0.4, served by libmicrohttpd on its own thread from the
 * counter snapshot (dataplane/metrics.h). Off unless the configuration has metrics.listen.
 */
#ifndef NPSGW_PROMETHEUS_H
#define NPSGW_PROMETHEUS_H

#include <stddef.h>

#include "dataplane/metrics.h"
#include "lib/conf/conf.h"
#include "lib/ctlproto/ctlproto.h"

/* Start listening when m->listen_enabled (else do nothing). Returns 0, or an errno with err set. */
int prometheus_start(const struct conf_metrics *m, char *err, size_t errlen);
void prometheus_stop(void);
/* The exposition of one snapshot (pure: unit-tested alone). */
void prometheus_render(const struct metrics_snapshot *s, struct sbuf *out);

#endif
