/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DS-Lite's running state (RFC 6333 AFTR), shared by its graph nodes (dslite_node_decap.c, dslite_node_encap.c,
 * dslite_house.c: workers) and its control side (dslite.c, dslite_ctl.c: control thread). The NAT itself is the
 * engine's (nf/nat/nat_engine.h): DS-Lite's sessions, mappings and subscribers live in nat.workers[i].
 *
 * Pipeline:
 * - dslite_decap on FEAT_IP6_IN of each AFTR's transport VRF: IPv6 to an AFTR address with next header 4 (after
 *   reassembly when fragmented) from one of its B4 prefixes -> the B4's softwire index (this worker's B4 table),
 *   inner IPv4 checked, MSS clamped, translated in2out by the engine with realm NAT_REALM_B4 | softwire index,
 *   -> ip4_lookup in the AFTR's IPv4 VRF. ICMPv6 errors about softwire packets are relayed as ICMPv4 (packet too
 *   big) or dropped. Anything else passes on the arc.
 * - nat4_out2in translates a reply whose mapping's realm is a B4 and sends it on nat.b4_edge (set up by dslite.c)
 *   to dslite_encap with pm->icmp_info = the realm (pm->vrf stays the pool's VRF): IPv6 header added
 *   (AFTR -> B4), MSS clamped, fragmented when bigger than the AFTR's mtu (DF clear; DF set: ICMPv4 fragmentation
 *   needed to the sender instead), -> ip6_lookup in the transport VRF as the router's own packet.
 *
 * Multi-worker: a B4 belongs to worker dslite_owner(B4 address) % n_workers: its subscriber, blocks and sessions
 * live in that worker's engine tables, so replies (routed to the owner of their public port, which only the
 * subscriber's worker allocates from) meet its softwire index there. Tunnel packets (and their fragments: same
 * source) arriving elsewhere go to the owner's NAT hand-off ring (nat.workers[owner].handoff, the ring the B4's
 * replies take too, so a reply never overtakes its request) before reassembly; nat_house feeds them to dslite_decap
 * (nat.decap_edge, added by dslite.c) under its per-walk ordering rule and counts them (decap_handoff_in).
 *
 * Threading: as nf/nat/nat_int.h. The AFTRs (struct dslite_aftr_rt) and their index are immutable once published
 * (release store; the control thread frees the old ones after dp_synchronize()). A struct dslite_worker is written
 * by its worker only (the control thread reads its B4 table and counters for display, torn rows tolerated).
 */
#ifndef NPSGW_DSLITE_INT_H
#define NPSGW_DSLITE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>

#include "lib/ctlproto/ctlproto.h"
#include "nf/dslite/dslite_conf.h"
#include "nf/dslite/dslite_counters.h"
#include "nf/dslite/dslite_drops.h"
#include "nf/dslite/dslite_pkt.h"
#include "nf/nat/nat_engine.h"
#include "nf/nat/nat_int.h"

#define NODE_DSLITE_DECAP "dslite_decap"
#define NODE_DSLITE_HOUSE "dslite_house" /* per-worker source node: hand-offs, reassembly timeouts, B4 recycling */
/* NODE_DSLITE_ENCAP ("dslite_encap") is named by nf/nat/nat_int.h: NAT's out2in node sends to it. */

#define DSLITE_MAX_AFTRS 64
#define DSLITE_MAX_LOCAL4 16           /* IPv4 addresses of an AFTR's VRF checked as "addressed to the AFTR" */
#define DSLITE_B4_MAX 1048576u         /* per worker, at most (else the NAT worker's subscriber table size) */
#define DSLITE_B4_GRACE_MS 10000       /* a B4 with no subscriber left is forgotten after this long idle */
#define DSLITE_B4_REAP_BATCH 256       /* B4 entries examined per house pass (every 10 ms) */
#define DSLITE_MAX_FRAGS_OUT 16        /* fragments of one encapsulated packet, at most */

/* An AFTR as the fast path needs it (immutable once published). */
struct dslite_aftr_rt {
	uint16_t slot;          /* index in dsl.aftrs[] (B4 entries name it) */
	uint8_t addr[16];       /* the AFTR's IPv6 endpoint */
	uint32_t tvrf;          /* transport VRF slot (IPv6 access network) */
	uint32_t vrf;           /* IPv4 VRF slot where decapsulated packets are routed */
	uint32_t pool_vrf;      /* the pool's (outside) VRF slot */
	uint16_t mtu, mss_clamp;
	struct nat_limits lim;  /* pool id, filtering, per-B4 max_sessions / max_blocks */
	uint16_t icmp_iface;    /* an interface of vrf with an IPv4 address: source of relayed ICMPv4 errors; 0 none */
	uint32_t n_local4;
	uint32_t local4[DSLITE_MAX_LOCAL4]; /* the router's own IPv4 addresses in vrf (host order) */
	char name[32];
	char pool[32];
	uint32_t n_prefixes;
	struct dslite_prefix {
		uint8_t addr[16];
		uint8_t len;
	} prefixes[];           /* the B4 prefixes */
};

/* (transport VRF, AFTR address) -> slot, for the decap node: one immutable array, scanned (few AFTRs). */
struct dslite_aftr_index {
	uint32_t n;
	struct dslite_aftr_ix_ent {
		uint32_t tvrf;
		uint16_t slot;
		uint8_t addr[16];
	} e[];
};

/* B4 table key: the B4 is known per AFTR (one B4 address reaching two AFTRs makes two softwires). */
struct dslite_b4_key {
	uint8_t addr[16];
	uint32_t aftr;
};

/* A softwire: index = key position in the worker's b4s hash; realm NAT_REALM_B4 | index. */
struct dslite_b4 {
	uint8_t addr[16];
	uint16_t aftr;     /* AFTR slot */
	uint8_t used;
	uint64_t created_ms, last_ms; /* worker clock; last_ms: last packet from the B4 */
	uint64_t pkts_in, pkts_out;
};

struct dslite_worker {
	unsigned index;
	struct rte_hash *b4s;     /* struct dslite_b4_key -> position = softwire index */
	struct dslite_b4 *b4;     /* max_b4 */
	uint32_t max_b4, n_b4;
	uint32_t reap_pos;
	uint64_t last_house_ms;
	struct rte_ip_frag_tbl *reass; /* IPv6 tunnel datagrams being reassembled */
	struct rte_ip_frag_death_row dr; /* fragments given up: flushed into drop nodes by the node that filled it */
	uint64_t cnt[DSLITE_CNT_COUNT];
} __rte_cache_aligned;

struct dslite_state {
	unsigned n_workers;
	struct dslite_worker *workers;        /* NULL: no dslite section at boot (nodes pass everything) */
	struct dslite_aftr_rt *aftrs[DSLITE_MAX_AFTRS];
	struct dslite_aftr_index *index;
	int feat_decap;                       /* feature index on FEAT_IP6_IN (-1: not registered) */
	uint64_t reass_cycles;                /* reassembly timeout in TSC cycles (fixed at boot) */
	struct dslite_conf *conf;             /* running configuration */
};

extern struct dslite_state dsl;

static inline struct dslite_aftr_rt *dslite_aftr_get(uint32_t slot)
{
	return slot < DSLITE_MAX_AFTRS ? __atomic_load_n(&dsl.aftrs[slot], __ATOMIC_ACQUIRE) : NULL;
}

/* The worker owning a B4 (before % n_workers): the same for every fragment and every ICMPv6 error about it. */
static inline uint32_t dslite_owner(const uint8_t b4[16])
{
	return rte_hash_crc(b4, 16, 0x64736c74u /* "dslt" */);
}

static inline bool dslite_is_local4(const struct dslite_aftr_rt *a, uint32_t dst)
{
	if ((dst & DSLITE_WK_MASK) == DSLITE_WK_NET)
		return true;
	for (uint32_t i = 0; i < a->n_local4; i++)
		if (a->local4[i] == dst)
			return true;
	return false;
}

/* Worker: the softwire index of (aftr, B4), created when new; -1 when the table is full. */
int32_t dslite_b4_get(struct dslite_worker *dw, const struct dslite_aftr_rt *a, const uint8_t b4[16], uint64_t now);
/*
 * Worker: dslite_b4_get() for n <= 64 keys (aftr and addr set, the rest zero) with one bulk hash lookup; the B4s it
 * misses are made in order, so a later key of the same new B4 finds the entry an earlier one made. pos[i] = the
 * softwire index, or -1 when the table is full.
 */
void dslite_b4_get_bulk(struct dslite_worker *dw, const struct dslite_b4_key *const *keys, unsigned n, uint64_t now,
			int32_t *pos);
/* Worker: the softwire index of (aftr, B4) when known, else -1 (no creation). */
int32_t dslite_b4_find(struct dslite_worker *dw, uint16_t aftr, const uint8_t b4[16]);
/* Worker: recycle B4s whose subscriber is gone (a budget per call). */
void dslite_b4_reap(struct dslite_worker *dw, struct nat_worker *nw, uint64_t now);

/* Control side (dslite.c) for the registry descriptor (dslite_desc.c) and commands (dslite_ctl.c). */
int dslite_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen);
int dslite_nf_apply(const void *model, char *err, size_t errlen);
void *dslite_nf_export(void);
void dslite_nf_iface_changed(void);
void dslite_nf_poll(uint64_t now_ms);
void dslite_nf_stats(struct ctl_reply *r);
void dslite_nf_fini(void);
void dslite_counters_sum(uint64_t cnt[DSLITE_CNT_COUNT]);

#define DSLITE_N_COMMANDS 3
extern const struct ctl_cmd dslite_commands[DSLITE_N_COMMANDS];

#endif
