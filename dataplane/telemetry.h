/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (/npsgw/...) over the counter snapshot (dataplane/metrics.h): dpdk-telemetry.py and any
 * client of /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 read the counters of `npsctl show stats`.
 * The callbacks run on DPDK's telemetry thread and read nothing but snapshots.
 */
#ifndef NPSGW_TELEMETRY_H
#define NPSGW_TELEMETRY_H

/* Register the commands; after rte_eal_init(). Returns 0 or a negative errno (a command could not be registered). */
int telemetry_init(void);

#endif
