/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's control-plane operations, shared by its registry hooks (fw.c), its command handlers (fw_ctl*.c)
 * and tests. Control thread only. Each operation returns 0 or a positive errno with a message in err, and changes
 * nothing when it fails (a new running state is built whole, then published under RCU, then the old one freed).
 *
 * Lifecycle: the session tables, rings and fragment tables are sized at boot (fw_tables_create) and only when the
 * boot file has a firewall section; without one, applying a firewall section later fails with "restart needed".
 */
#ifndef NPSGW_FW_CP_H
#define NPSGW_FW_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ctlproto/ctlproto.h"
#include "nf/fw/fw_int.h"

#define FW_HANDOFF_RING_SIZE 4096 /* packets queued to an owner worker */
#define FW_LOG_RING_SIZE 1024     /* log records queued to the control thread, per worker */
#define FW_FLUSH_WAIT_MS 2000     /* how long `fw flush` waits for the workers */

/* Per-worker tables for the boot model c (its sessions.max_sessions is split between the workers). */
int fw_tables_create(const struct fw_conf *c, char *err, size_t errlen);
/* Everything: tables, rule sets, the running configuration (after the workers stopped). */
void fw_tables_free(void);
/* sessions.max_sessions the tables were sized for (0 when the firewall was not enabled at boot). */
uint32_t fw_boot_max_sessions(void);
/* Find fw.feat4 / fw.feat6 on the arcs; EINVAL when the core did not register the nodes. */
int fw_features_resolve(char *err, size_t errlen);

/* Make model the running firewall (NULL: none; every VRF loses its rule set and sessions are flushed). */
int fw_cp_apply(const struct fw_conf *model, char *err, size_t errlen);
/* Replace (or add) one VRF's rule set; the running configuration keeps it for export and config save. */
int fw_cp_ruleset_replace(const struct fw_ruleset_conf *rs, uint32_t *gen, char *err, size_t errlen);
/* The VRF goes back to no firewall; its sessions are flushed. */
int fw_cp_ruleset_delete(const char *vrf, char *err, size_t errlen);
/*
 * Remove the sessions of VRF slot vrf (CT_VRF_ANY: all) on every worker and wait up to wait_ms for the workers to
 * finish; *removed = sessions removed meanwhile, *complete = every worker finished.
 */
int fw_cp_flush(uint32_t vrf, uint32_t wait_ms, uint64_t *removed, bool *complete, char *err, size_t errlen);

/* Free a rule set built for publication (classifiers, counters, its configuration copy). NULL is fine. */
void fw_vrf_free(struct fw_vrf *v);

/*
 * Drain the workers' log rings: syslog and, with events, a control-socket event per record (at most budget per
 * worker). Shutdown drains without events: the control socket is closed by then.
 */
void fw_log_drain(unsigned budget, bool events);

/* Sums over the workers. */
void fw_counters_sum(uint64_t cnt[FW_CNT_COUNT]);
void fw_ct_stats_sum(struct ct_stats *s, uint64_t *capacity);
/* The "firewall" counters table (show stats, fw show stats). */
void fw_stats_table(struct ctl_reply *r);

/* Display helpers: the protocol's name (or number) written into buf; a VRF slot's name ("?" when none). */
const char *fw_proto_name(uint8_t proto, char *buf, size_t len);
const char *fw_vrf_name(uint32_t slot);

/* The registry hooks (struct nf_desc, nf/nf.h), in fw.c. */
struct npsgw_conf;
int fw_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen);
int fw_nf_apply(const void *model, char *err, size_t errlen);
void *fw_nf_export(void);
void fw_nf_iface_changed(void);
void fw_nf_poll(uint64_t now_ms);
void fw_nf_stats(struct ctl_reply *r);
void fw_nf_fini(void);

#endif
