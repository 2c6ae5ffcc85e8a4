/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT's running state, shared by its graph nodes (nat_node_*.c, nat_house.c: workers), the engine
 * (nat_engine.c: called by the nodes and by DS-Lite) and the control side (nat.c, nat_ctl*.c: control thread).
 *
 * IPv4 addresses are host-order numbers everywhere here (192.0.2.1 = 0xc0000201), as nf/nat/nat_xlat.h uses
 * them; ports host order. Only ct keys hold network-order bytes (ct_key_build()).
 *
 * Threading (dataplane/dp.h rules):
 * - Global objects (pools, public addresses, the address index, tenants, statics) are immutable once published.
 *   The control thread builds a new one, publishes it with a release store (__atomic_store_n(..., RELEASE)), and
 *   frees the old one after dp_synchronize(). Workers load them with the *_get() helpers below (acquire) and never
 *   keep a pointer across loop iterations.
 * - struct nat_worker belongs to its worker: only that worker writes it (tables, allocator, counters), except
 *   the rings (handoff: any worker enqueues, the owner dequeues; log: the owner enqueues, the control thread
 *   dequeues) and what lib/ct allows the control thread (flush requests, reading the session array for display).
 *   The control thread reads mappings, subscribers and counters for display only (torn rows tolerated).
 * - nat.addr_draining[] bytes: written by the control thread (relaxed store), read by workers.
 *
 * Ownership of flows (multi-worker):
 * - in2out: the subscriber's worker, nat_sub_owner(realm, inside address) % n_workers; a subscriber's mappings,
 *   sessions and blocks all live there.
 * - out2in: port p of public address A belongs to worker nat_ports_owner(geometry of A, p) (block % n_workers);
 *   the subscriber's worker allocates only its own blocks, so both directions meet on one worker. A static
 *   mapping's public endpoint (inside the dynamic range or not) belongs to its inside host's subscriber worker,
 *   nat_sub_owner(static realm, inside address) % n_workers: its sessions, in both directions, live there.
 * - ICMP errors go by their embedded packet (in2out: embedded destination; out2in: embedded source port).
 * - A packet on the wrong worker goes on the owner's handoff ring; the owner's nat_house feeds it back in.
 *
 * WHAT THE CONTROL SIDE SETS UP (nat.c), in this order:
 *  1. init (boot, even with no "nat" section: the nodes must find nat.workers == NULL and pass everything):
 *     memset(&nat, 0); nat.feat_in2out = feat_index(FEAT_IP4_FWD, NODE_NAT_IN2OUT); nat.feat_out2in =
 *     feat_index(FEAT_IP4_IN, NODE_NAT_OUT2IN); nat.feat_hairpin = feat_index(FEAT_IP4_IN, NODE_NAT_HAIRPIN).
 *     With a section: nat.n_workers = dp.n_workers; nat.workers =
 *     rte_zmalloc(n_workers * sizeof(struct nat_worker), cache aligned); for each worker i:
 *     nat_worker_create(&nat.workers[i], i, n_workers, socket of dp.workers[i].lcore, &conf->sessions) (engine:
 *     ct table of ceil(max / n_workers) sessions with the release callback, mapping/subscriber/outside-key
 *     hashes, port allocator, fragment map, hand-off ring (NAT_HANDOFF_RING_SIZE, MP/SC) and log ring
 *     (NAT_LOG_RING_SIZE elements of struct nat_log_rec, SP/SC)). Publish nat.workers last (release store).
 *  2. apply (all or nothing, build everything first, then publish):
 *     - nat.block_idle_ms = block_idle_s * 1000; nat.log_rate = log_rate; session timeouts via
 *       ct_table_set_params() on each worker's ct (max_sessions cannot change at run time).
 *     - public addresses: a slot in [0, NAT_MAX_ADDRS) per (outside VRF, address). For a new address: for every
 *       worker nat_ports_addr_add(workers[i].ports, slot, port_lo, port_hi, block_size) FIRST, then publish
 *       nat.paddrs[slot] (struct nat_paddr, immutable: a change of its reserved bitmap builds a new one).
 *       The geometry of a live slot never changes (a pool's port range / block size change = every old address
 *       drains and new slots are made; refuse when the same address would need two slots at once).
 *     - nat.addr_index: nat_addr_index_build() over every live slot (draining ones too: their sessions still
 *       need out2in). Published under RCU.
 *     - nat.pools[id]: struct nat_pool with addr_slot[] = the addresses offered to NEW subscribers (draining
 *       ones left out).
 *     - nat.statics: nat_statics_build() (inside realm = the tenant's VRF slot); the reserved bitmaps of the
 *       paddrs hold the blocks containing a static public port inside the dynamic range.
 *     - nat.tenants[vrf slot]: struct nat_tenant; then feat_enable(FEAT_IP4_FWD, tenant slot, nat.feat_in2out,
 *       true), feat_enable(FEAT_IP4_IN, tenant slot, nat.feat_hairpin, tenant's hairpinning) and
 *       feat_enable(FEAT_IP4_IN, pool's outside VRF slot, nat.feat_out2in, true). A removed tenant: its
 *       feature off, pointer NULL, free after dp_synchronize() (its sessions expire by themselves or are flushed
 *       with ct_flush_request(ct, vrf slot)).
 *  3. draining (pool shrinks): set nat.addr_draining[slot] = 1 (relaxed store) and leave it out of the pool's
 *     addr_slot[]: pinned subscribers keep its blocks but get no new block there, new subscribers never. poll():
 *     when nat_ports_addr_used() is 0 on every worker, unpublish nat.paddrs[slot] and its index entry,
 *     dp_synchronize(), nat_ports_addr_remove() on each worker, clear addr_draining[slot], reuse the slot.
 *  4. poll: drain every worker's log ring (rte_ring_sc_dequeue_burst_elem, struct nat_log_rec) to syslog and
 *     event_publish(EV_NAT, "nat", ...); record time_ms is the worker clock (dp worker now_ms, as the firewall's).
 *  5. fini: nat_worker_free() on each worker, free the published objects.
 */
#ifndef NPSGW_NAT_INT_H
#define NPSGW_NAT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_graph.h>
#include <rte_ring.h>

#include "lib/ct/ct.h"
#include "nf/nat/nat_conf.h"
#include "nf/nat/nat_counters.h"
#include "nf/nat/nat_drops.h"
#include "nf/nat/nat_ports.h"

#define NODE_NAT_IN2OUT "nat4_in2out"
#define NODE_NAT_OUT2IN "nat4_out2in"
#define NODE_NAT_HAIRPIN "nat4_hairpin" /* input arc of tenant VRFs: hairpinning decided before the route lookup */
#define NODE_NAT_HOUSE "nat_house" /* per-worker source node: hand-offs, expiry, idle blocks, fragment map */

/* pkt_meta.nh of a packet nat4_hairpin sends to nat4_in2out (no route looked up yet). NH_NONE (0) never reaches
 * the forward arc (ip4_lookup drops it as no_route), so a forward-arc packet never carries it. */
#define NAT_NH_HAIRPIN 0u
#define NODE_DSLITE_ENCAP "dslite_encap"

#define NAT_REALM_B4 0x80000000u /* realm of a DS-Lite subscriber: NAT_REALM_B4 | softwire index */

#define NAT_MAX_POOLS 64
#define NAT_MAX_ADDRS 4096      /* public address slots (all pools, draining ones included) */
#define NAT_SUB_MAX_BLOCKS NAT_CONF_MAX_BLOCKS /* hard ceiling of max_blocks (the config refuses more) */
#define NAT_HANDOFF_RING_SIZE 4096
#define NAT_LOG_RING_SIZE 8192  /* block records are not rate-limited: the control thread drains every poll */
#define NAT_FRAG_ENTRIES 1024   /* per worker, power of 2 */
#define NAT_FRAG_TIMEOUT_MS 2000
#define NAT_ADF_WALK_MAX 4096   /* ADF: sessions of a mapping examined at most for the remote address */

/* ---- Global, immutable objects (published under RCU) ---- */

/* A public address. */
struct nat_paddr {
	uint32_t addr;   /* host order */
	uint32_t vrf;    /* outside VRF slot */
	uint16_t slot;   /* index in nat.paddrs */
	uint16_t pool;   /* pool id */
	uint16_t port_lo, port_hi, block_size;
	uint32_t n_blocks;
	const uint64_t *reserved; /* bit b: block b holds a static public port (never allocated); NULL: none */
};

struct nat_pool {
	uint16_t id;
	uint32_t vrf; /* outside VRF slot */
	uint16_t port_lo, port_hi, block_size;
	uint32_t n_blocks;
	char name[NAT_NAME_MAX];
	uint32_t n_addrs;
	uint16_t addr_slot[]; /* addresses offered to new subscribers (not draining) */
};

/* A NAT44 tenant: an inside VRF (its slot is the realm). */
struct nat_tenant {
	uint32_t realm;   /* = the VRF slot */
	uint16_t pool;
	uint32_t out_vrf; /* the pool's VRF slot */
	uint8_t filtering; /* enum nat_filtering */
	bool hairpinning;
	uint32_t max_sessions, max_blocks;
	char vrf_name[CONF_NAME_MAX];
};

/* (outside VRF, public address) -> paddr slot: open addressing, linear probing. */
struct nat_addr_index_ent {
	uint32_t vrf, addr; /* addr host order */
	uint32_t slot;      /* NAT_NIL: empty */
};
struct nat_addr_index {
	uint32_t mask;   /* entries - 1 (power of 2, at least twice the addresses) */
	uint32_t lo, hi; /* the lowest and highest public address of any VRF: most packets are outside, no probe */
	struct nat_addr_index_ent e[];
};

struct nat_static_rt {
	uint8_t proto;
	uint16_t in_port, pub_port; /* host order */
	uint32_t realm, in_addr;    /* in_addr host order */
	uint32_t out_vrf, pub_addr; /* pub_addr host order */
	uint16_t pool, paddr;       /* paddr slot */
	uint8_t filtering;          /* the tenant's (for the sessions it opens outbound) */
};
struct nat_statics {
	uint32_t n, mask;
	struct nat_static_rt *e;
	uint32_t *by_in, *by_out; /* mask + 1 entries each: index into e, NAT_NIL empty */
};

/* ---- Per worker ---- */

/* rte_hash keys. */
struct nat_mkey { /* a mapping by inside (realm, addr, port) or by public (outside VRF, addr, port) endpoint */
	uint32_t vrf;   /* realm or outside VRF slot */
	uint32_t addr;  /* host order */
	uint16_t port;  /* host order */
	uint8_t proto;
	uint8_t pad;
};
struct nat_okey { /* a session by its outside tuple */
	uint32_t vrf;
	uint32_t pub_addr, rem_addr;
	uint16_t pub_port, rem_port; /* ICMP query: the public identifier in both */
	uint8_t proto;
	uint8_t pad[3];
};
struct nat_skey {
	uint32_t realm, addr;
};

#define NAT_MAP_STATIC 0x01

/* An endpoint-independent mapping (RFC 4787 EIM). Index = its key position in map_in. */
struct nat_mapping {
	uint32_t realm, in_addr; /* in_addr host order */
	uint16_t in_port;
	uint8_t proto;
	uint8_t flags;     /* NAT_MAP_* */
	uint32_t out_vrf, pub_addr;
	uint16_t pub_port, paddr;
	uint8_t filtering; /* enum nat_filtering, fixed at creation */
	uint32_t sub;      /* subscriber index; NAT_NIL for a static mapping */
	uint32_t n_sessions;
	uint32_t first_sess; /* its sessions, linked through user[NAT_SESS_NEXT/PREV] */
};

/* A subscriber (NAT44: realm + inside address; DS-Lite: the B4, inside address 0). Index = key position in subs. */
struct nat_sub {
	uint32_t realm, addr;
	uint8_t b4[16];         /* DS-Lite: the B4's IPv6 address (for the logs) */
	uint32_t paddr;         /* pinned public address slot; NAT_NIL: none yet */
	uint16_t pool;
	uint8_t n_blocks, max_blocks;
	uint32_t n_sessions, max_sessions, n_maps;
	uint32_t blocks[NAT_SUB_MAX_BLOCKS]; /* allocator refs */
};

/* ct_session.user[] words of a NAT session. */
#define NAT_SESS_MAP 0   /* mapping index */
#define NAT_SESS_NEXT 1  /* next session of the mapping (CT_NIL ends) */
#define NAT_SESS_PREV 2
#define NAT_SESS_FLAGS 3 /* NAT_SF_* */
#define NAT_SF_INSIDE_SIDE1 0x01 /* the inside endpoint is side 1 of the ct key */
#define NAT_SF_INBOUND 0x02      /* opened by an inbound packet */
#define NAT_SF_COUNTED 0x04      /* counted in its subscriber's n_sessions */

/* Non-first fragments follow their first fragment: (vrf, src, dst, id, proto) -> what was done to it. */
struct nat_frag_ent {
	uint32_t vrf, src, dst; /* before translation (addresses host order) */
	uint16_t id;
	uint8_t proto;
	uint8_t dir;            /* 0 empty, 1 in2out, 2 out2in, NAT_FRAG_HANDED: handed to worker new_vrf */
	uint32_t new_src, new_dst, new_vrf;
	uint64_t expires_ms;
};

/* Fragment map entry of the receiving worker: the first fragment went to worker new_vrf (out2in hand-off), so do the
 * later ones (they have no port to find the owner by). */
#define NAT_FRAG_HANDED 3

/* Log records, worker -> control thread, by value. */
enum nat_log_type {
	NAT_LOG_BLOCK_ALLOC = 1,
	NAT_LOG_BLOCK_RELEASE,
	NAT_LOG_QUOTA_BLOCKS,   /* rate-limited */
	NAT_LOG_QUOTA_SESSIONS, /* rate-limited */
	NAT_LOG_EXHAUSTED,      /* rate-limited: no block left on the address (port range: 0-0) */
};
struct nat_log_rec {
	uint64_t time_ms;     /* worker clock */
	uint8_t type;         /* enum nat_log_type */
	uint8_t proto;        /* quota / exhaustion: of the refused flow */
	uint16_t pool;
	uint32_t realm;       /* VRF slot, or NAT_REALM_B4 | softwire */
	uint32_t inside_addr; /* host order (NAT44) */
	uint32_t public_addr; /* host order; 0 when none */
	uint16_t port_lo, port_hi;
	uint8_t b4[16];       /* DS-Lite: the B4's IPv6 address */
};

struct nat_worker {
	unsigned index;
	struct ct_table *ct;         /* sessions keyed by the inside tuple, realm in ct_key.vrf */
	struct ct_session *sess;     /* ct_sessions(ct): the hot path indexes it directly */
	struct rte_hash *sess_out;   /* struct nat_okey -> session index (key data) */
	struct rte_hash *map_in;     /* struct nat_mkey (inside) -> key position = mapping index */
	struct rte_hash *map_out;    /* struct nat_mkey (public) -> mapping index (key data) */
	struct rte_hash *subs;       /* struct nat_skey -> key position = subscriber index */
	struct nat_mapping *maps;    /* max_maps (map_in's entries: key positions reach it) */
	struct nat_sub *sub;         /* max_subs (subs' entries) */
	uint32_t max_maps, max_subs, n_maps, n_subs;
	uint32_t map_limit, sub_limit; /* the most mappings / subscribers at once (< max_*: bucket headroom) */
	struct nat_ports *ports;
	struct nat_frag_ent *frags;  /* NAT_FRAG_ENTRIES */
	struct rte_ring *handoff;    /* packets other workers send to this one (MP/SC) */
	struct rte_ring *log;        /* struct nat_log_rec elements (SP/SC) */
	uint64_t log_tokens, log_last_ms;
	uint64_t now_ms;             /* clock of the current call (ct release callbacks read it) */
	uint64_t last_house_ms;
	uint64_t cnt[NAT_CNT_COUNT]; /* counters that are not drops */
	uint64_t decap_handoff_in;   /* DS-Lite tunnel packets nat_house fed to dslite_decap (DS-Lite's handoff_in) */
} __rte_cache_aligned;

struct nat_state {
	unsigned n_workers;
	struct nat_worker *workers; /* NULL: no NAT at boot (nodes pass everything) */
	struct nat_paddr *paddrs[NAT_MAX_ADDRS];
	uint8_t addr_draining[NAT_MAX_ADDRS];
	struct nat_pool *pools[NAT_MAX_POOLS];
	struct nat_addr_index *addr_index;
	struct nat_statics *statics;
	struct nat_tenant **tenants; /* by VRF slot, dp.max_vrfs entries (allocated at init) */
	uint64_t block_idle_ms;
	uint32_t log_rate;
	int feat_in2out, feat_out2in, feat_hairpin; /* feature indexes (-1: not registered) */
	/* DS-Lite: out2in of a B4 realm goes to dslite_encap. Set by DS-Lite (rte_node_edge_update on
	 * NODE_NAT_OUT2IN before the graphs are built); has_b4_edge false: such packets drop (nat_no_softwire).
	 * Such a packet arrives translated (destination = the B4 side's inside address, i.e. as the B4 sent it),
	 * pkt_meta(m)->vrf still the pool's VRF, and pkt_meta(m)->icmp_info = its realm (NAT_REALM_B4 | softwire). */
	bool has_b4_edge;
	rte_edge_t b4_edge;
	/* DS-Lite hands tunnel packets (IPv6) to a B4's worker on NAT's hand-off ring, so that they keep their order
	 * with the NAT packets of the same flows (the replies); nat_house sends them on decap_edge (added by DS-Lite
	 * on NODE_NAT_HOUSE, like b4_edge) to dslite_decap. has_decap_edge false: such packets cannot be enqueued. */
	bool has_decap_edge;
	rte_edge_t decap_edge;
	struct nat_conf *conf; /* running configuration */
};

extern struct nat_state nat;

/* The hand-off ring of a worker (nf_hand_off()). */
static inline struct rte_ring *nat_handoff_ring(unsigned owner)
{
	return nat.workers[owner].handoff;
}

static inline struct nat_tenant *nat_tenant_get(uint32_t vrf_slot)
{
	struct nat_tenant **t = nat.tenants;
	return t != NULL ? __atomic_load_n(&t[vrf_slot], __ATOMIC_ACQUIRE) : NULL;
}

static inline struct nat_pool *nat_pool_get(uint16_t id)
{
	return id < NAT_MAX_POOLS ? __atomic_load_n(&nat.pools[id], __ATOMIC_ACQUIRE) : NULL;
}

static inline struct nat_paddr *nat_paddr_get(uint32_t slot)
{
	return slot < NAT_MAX_ADDRS ? __atomic_load_n(&nat.paddrs[slot], __ATOMIC_ACQUIRE) : NULL;
}

static inline bool nat_addr_draining(uint32_t slot)
{
	return __atomic_load_n(&nat.addr_draining[slot], __ATOMIC_RELAXED) != 0;
}

static inline uint32_t nat_mix32(uint32_t a, uint32_t b)
{
	uint64_t x = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

/* The public address slot of (outside VRF, addr host order); NAT_NIL when not a public address. */
static inline uint32_t nat_addr_lookup(const struct nat_addr_index *ix, uint32_t vrf, uint32_t addr)
{
	if (ix == NULL || addr < ix->lo || addr > ix->hi)
		return NAT_NIL;
	for (uint32_t i = nat_mix32(vrf, addr) & ix->mask;; i = (i + 1) & ix->mask) {
		const struct nat_addr_index_ent *e = &ix->e[i];
		if (e->slot == NAT_NIL)
			return NAT_NIL;
		if (e->addr == addr && e->vrf == vrf)
			return e->slot;
	}
}

/* The worker of a subscriber (before % n_workers). */
static inline uint32_t nat_sub_owner(uint32_t realm, uint32_t addr)
{
	return nat_mix32(realm, addr) >> 8;
}

static inline unsigned nat_proto_index(uint8_t proto)
{
	return proto == 6 ? NAT_PI_TCP : proto == 17 ? NAT_PI_UDP : NAT_PI_ICMP;
}

#endif
