/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT's control-plane operations, shared by its registry hooks (nat.c), apply (nat_apply.c), log draining
 * (nat_log.c), counters (nat_stats.c) and command handlers (nat_ctl*.c). Control thread only. Each operation
 * returns 0 or a positive errno with a message in err and changes nothing when it fails.
 *
 * Lifecycle: the per-worker tables (sessions, mappings, subscribers, port allocator, rings) are sized at boot and
 * only when the boot file has a "nat" section; without one, applying a nat section later fails with "restart
 * needed". DS-Lite uses the same tables (nat.workers) and finds its pools with nat_cp_pool_id().
 */
#ifndef NPSGW_NAT_CP_H
#define NPSGW_NAT_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ctlproto/ctlproto.h"
#include "nf/nat/nat_int.h"

#define NAT_FLUSH_WAIT_MS 2000   /* how long `nat flush` waits for the workers */
#define NAT_DRAIN_CHECK_MS 1000  /* how often poll looks for drained public addresses */

/* Make model the running NAT (NULL: none: every address drains, every tenant's sessions are flushed). */
int nat_cp_apply(const struct nat_conf *model, char *err, size_t errlen);
/*
 * Retire draining public addresses no worker holds a block of any more (poll), then bring in the pending ones (an
 * address whose port range or block size changed waits for its old slot: nat_apply.c). Returns how many went.
 */
unsigned nat_cp_drain_retire(void);
/* Is (outside VRF slot, address) of a running pool pending: its slot still runs with another geometry? */
bool nat_cp_addr_pending(uint32_t vrf, uint32_t addr, uint16_t port_lo, uint16_t port_hi, uint16_t block_size);
/* Remove the sessions of realm vrf (a VRF slot; CT_VRF_ANY: all) on every worker, waiting up to wait_ms. */
int nat_cp_flush(uint32_t vrf, uint32_t wait_ms, uint64_t *removed, bool *complete, char *err, size_t errlen);
/* The id of a running pool (nat.pools[id]) by name, -1 when none (DS-Lite resolves its AFTRs' pools with it). */
int nat_cp_pool_id(const char *name);
/* The name of pool id, also for a removed pool whose addresses still drain ("?" when unknown). */
const char *nat_cp_pool_name(uint16_t id);
/* Free every published object (fini, after the workers stopped). */
void nat_cp_objects_free(void);
/* sessions.max the tables were sized for (0 when NAT was not enabled at boot). */
uint32_t nat_boot_max_sessions(void);

/* Log rings -> syslog (and control-socket events when events is true), at most budget records per worker. */
void nat_log_drain(unsigned budget, bool events);

/* Sums over the workers, and the "nat" counters table (show stats, nat show stats). */
void nat_counters_sum(uint64_t cnt[NAT_CNT_COUNT]);
void nat_ct_stats_sum(struct ct_stats *s, uint64_t *capacity);
void nat_stats_table(struct ctl_reply *r);

/* Display helpers. */
const char *nat_proto_name(uint8_t proto);
const char *nat_vrf_name(uint32_t slot);
/* A realm in words: the VRF name, or "dslite" for a B4 realm. */
const char *nat_realm_name(uint32_t realm);
const char *nat_ip4_fmt(uint32_t host_order, char *buf, size_t len);
const char *nat_ip6_fmt(const uint8_t b[16], char *buf, size_t len);

/* The registry hooks (struct nf_desc, nf/nf.h), in nat.c. */
struct npsgw_conf;
int nat_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen);
int nat_nf_apply(const void *model, char *err, size_t errlen);
void *nat_nf_export(void);
void nat_nf_iface_changed(void);
void nat_nf_poll(uint64_t now_ms);
void nat_nf_stats(struct ctl_reply *r);
void nat_nf_fini(void);

#endif
