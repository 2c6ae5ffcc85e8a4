/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's running state, shared by its graph nodes (fw_node*.c, workers) and its control side (fw.c,
 * fw_ctl.c, control thread). Threading follows dataplane/dp.h: the control thread is the only writer of the
 * pointers here and frees old objects after dp_synchronize(); each worker writes only its own struct fw_worker.
 */
#ifndef NPSGW_FW_INT_H
#define NPSGW_FW_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "lib/ct/ct.h"
#include "nf/fw/fw_classify.h"
#include "nf/fw/fw_conf.h"
#include "nf/fw/fw_counters.h"
#include "nf/fw/fw_frag.h"

#define NODE_FW4 "fw_ip4"
#define NODE_FW6 "fw_ip6"
#define NODE_FW_HOUSE "fw_house" /* per-worker source node: hand-off ring, expiry, flushes */

#define FW_POLICY_NONE 0xff

/* A rule as the fast path needs it. */
struct fw_rule_rt {
	uint8_t action;
	bool log;
};

/* Per-rule hit counters of one worker (indexed by rule; the last two entries: zone policy, VRF default). */
struct fw_hits {
	uint64_t pkts, bytes;
};

/* One VRF's rules: immutable once published; a replace builds a new one and swaps it under RCU. */
struct fw_vrf {
	uint32_t gen; /* rule-set generation: sessions record it (user[1]) for on_rule_change = revalidate */
	uint8_t default_action;
	bool default_log;
	uint8_t zone_policy[FW_MAX_ZONES + 1][FW_MAX_ZONES + 1]; /* [from][to] action or FW_POLICY_NONE; 0 = any */
	uint8_t zone_policy_log[FW_MAX_ZONES + 1][FW_MAX_ZONES + 1];
	/* The zone map (by interface id) this rule set's zone ids refer to: published with it, so that a worker
	 * never combines a new zone map with old rules or policies (fw_state.zone_of_iface is the control thread's
	 * current map; freed after the rule sets that point to it). */
	const uint8_t *zone_of_iface;
	struct fw_classifier *cls[2]; /* IPv4, IPv6; NULL: no rule of that family */
	uint32_t n_rules;
	struct fw_rule_rt *rules;
	struct fw_hits *hits;   /* n_workers rows of (n_rules + 2) entries, each row cache-aligned */
	uint32_t hits_stride;   /* entries per row */
	struct fw_ruleset_conf conf; /* what it was built from (show, export) */
};

/* Hit counter rows: rule i (0-based), then these two. */
#define FW_HIT_POLICY(v) ((v)->n_rules)
#define FW_HIT_DEFAULT(v) ((v)->n_rules + 1)

/* A log record, worker -> control thread (never a syscall on a worker). */
struct fw_log_rec {
	uint64_t time_ms;
	uint32_t vrf;
	uint32_t rule; /* rule index + 1; 0 = zone policy or default */
	uint8_t action, family, proto, pad;
	uint16_t in_iface, out_iface;
	uint16_t sport, dport; /* ICMP/ICMPv6: type and code */
	uint8_t src[16], dst[16];
};

/* A session's owner data (ct_session.user[]): [0] = opening rule index + 1 (0: zone policy or default),
 * [1] = the fw_vrf gen it was classified under. */
#define FW_SESS_RULE 0
#define FW_SESS_GEN 1

struct fw_worker {
	struct ct_table *ct;
	struct rte_ring *handoff; /* packets other workers send to this one (multi-producer, single consumer) */
	/*
	 * Log records to the control thread, by value: an element ring (rte_ring_create_elem, esize
	 * sizeof(struct fw_log_rec), a multiple of 4; single producer, single consumer): the worker enqueues with
	 * rte_ring_enqueue_elem, fw_log.c drains with rte_ring_dequeue_burst_elem. log_pool is unused (NULL).
	 */
	struct rte_ring *log;
	struct rte_mempool *log_pool;
	struct fw_frag_table *frags;
	uint64_t reject_tokens, reject_last_ms;
	uint64_t log_tokens, log_last_ms;
	uint64_t last_expire_ms;
	bool expire_behind; /* the session wheel is behind the clock: fw_house expires every loop until caught up */
	uint64_t cnt[FW_CNT_COUNT]; /* counters that are not drops (drops are drop nodes) */
} __rte_cache_aligned;

struct fw_state {
	bool enabled; /* a firewall section is running */
	unsigned n_workers;
	struct fw_worker *workers;  /* by worker index; NULL when the boot config had no firewall section (no tables) */
	struct fw_vrf **vrfs;       /* by VRF slot, dp.max_vrfs entries */
	uint8_t *zone_of_iface;     /* by interface id: the current map (control thread); workers read each rule set's */
	uint32_t reject_rate, log_rate;
	uint8_t on_rule_change;
	uint32_t next_gen;
	int feat4, feat6;           /* feature indexes on the arcs */
	struct fw_conf *conf;       /* running configuration (zones, session params, rulesets as applied) */
};

extern struct fw_state fw;

/* NULL is possible on the arc: a packet may have passed the feature check just before its VRF's rule set was
 * removed (the control thread turns the feature off first, then clears the pointer): pass such a packet on. */
static inline struct fw_vrf *fw_vrf_get(uint32_t slot)
{
	return __atomic_load_n(&fw.vrfs[slot], __ATOMIC_ACQUIRE);
}

/* The worker that owns the sessions of a key: the same for both directions and for every fragment of a datagram
 * (the hash covers VRF, family and the two addresses: not the ports, nor the protocol, which a later IPv6 fragment
 * does not name). */
uint32_t fw_owner_hash(uint32_t vrf, uint8_t family, uint8_t proto, const uint8_t *a, const uint8_t *b);

#endif
