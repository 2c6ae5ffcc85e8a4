/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NAT engine (docs/NAT.md): subscribers, endpoint-independent mappings, sessions and filtering on one
 * worker's tables (struct nat_worker, nat_int.h). Used by the NAT44 nodes and by DS-Lite; no packet here: callers
 * parse and rewrite (nat_xlat.h), the engine decides and keeps state.
 *
 * Outbound (in2out): the caller looks its session up in w->ct (key nat_in_key(): the inside tuple, realm in the
 * key's VRF) and on a hit calls nat_track(); on a miss nat_in2out_open() finds or makes the mapping (existing one,
 * else the tenant's static mapping, else a dynamic one from the subscriber's blocks: the inside port kept when it
 * can be) and opens the session. Inbound (out2in): lookup by the outside tuple (nat_out_lookup()), hit ->
 * nat_track(); miss -> nat_out2in_open(): the mapping of the public endpoint (or a static one) and the filtering
 * mode decide whether the packet opens a session (EIF: anyone; ADF: a remote address the mapping already has a
 * session with; APDF: never, the outside key had to hit).
 *
 * Sessions leave by expiry, flush or eviction (ct release callback) or nat_session_delete(): the outside key goes,
 * the mapping goes with its last session (its port back to the block), a block with no port left goes idle and
 * is released block_idle later by nat_house_tick() (log record), a subscriber goes with its last block.
 *
 * Worker only (its own struct nat_worker), except nat_worker_create/free and the builders (control thread).
 */
#ifndef NPSGW_NAT_ENGINE_H
#define NPSGW_NAT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "nf/nat/nat_int.h"

/* Drop reasons as numbers (node edges list them first, in this order). */
enum nat_drop {
#define NAT_DROP_ENUM(n, d) NAT_DROP_##n,
	NF_NAT_DROP_REASONS(NAT_DROP_ENUM)
#undef NAT_DROP_ENUM
	NAT_DROP_COUNT
};

/* Results of the open calls: a session index >= 0, NAT_ERR(drop reason), or NAT_PASS (not for NAT: untouched). */
#define NAT_ERR(d) (-1 - (int32_t)(d))
#define NAT_ERR_DROP(rc) ((unsigned)(-1 - (rc)))
#define NAT_PASS INT32_MIN

/* The rules a subscriber lives by (a NAT44 tenant's, or a DS-Lite AFTR's). */
struct nat_limits {
	uint16_t pool;
	uint8_t filtering;
	uint32_t max_sessions, max_blocks;
};

/* A packet's tuple as the engine needs it (host order; ICMP query: the identifier in both ports). */
struct nat_tuple {
	uint32_t vrf; /* in2out: the realm; out2in: the outside VRF slot */
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* Control thread: a worker's tables (nat_int.h, "what the control side sets up", 1). 0 or ENOMEM with w zeroed. */
int nat_worker_create(struct nat_worker *w, unsigned index, unsigned n_workers, int socket,
		      const struct ct_params *sessions);
void nat_worker_free(struct nat_worker *w);
/* An rte_hash of the engine (or DS-Lite) with its keys' own hash and compare functions (8, 12 or 20-byte keys; other
 * lengths: rte_hash's). Control thread. */
struct rte_hash *nat_hash_create(const char *name, uint32_t entries, uint32_t key_len, uint32_t extra_flag,
				 int socket);
/* Builders of the published lookup objects (plain calloc; free with nat_*_free). NULL when out of memory. */
struct nat_addr_index *nat_addr_index_build(const struct nat_paddr *const *paddrs, uint32_t n);
void nat_addr_index_free(struct nat_addr_index *ix);
struct nat_statics *nat_statics_build(const struct nat_static_rt *e, uint32_t n);
void nat_statics_free(struct nat_statics *s);
const struct nat_static_rt *nat_static_by_in(const struct nat_statics *s, uint32_t realm, uint8_t proto,
					     uint32_t addr, uint16_t port);
const struct nat_static_rt *nat_static_by_out(const struct nat_statics *s, uint32_t vrf, uint8_t proto,
					      uint32_t addr, uint16_t port);

/* The ct key of an outbound packet (inside src -> dst) and, when hash is not NULL, its ct_key_hash() (from the
 * words in registers: no reading back of the key just written); returns the inside endpoint's key side. */
static inline unsigned nat_in_key_hash(struct ct_key *k, uint32_t *hash, const struct nat_tuple *t)
{
	rte_be32_t s = rte_cpu_to_be_32(t->src), d = rte_cpu_to_be_32(t->dst);
	return ct_key_build_hash(k, hash, t->vrf, 4, t->proto, &s, &d, t->sport, t->dport);
}

static inline unsigned nat_in_key(struct ct_key *k, const struct nat_tuple *t)
{
	return nat_in_key_hash(k, NULL, t);
}

/* The outside key of an inbound packet (remote src -> public dst). */
static inline void nat_out_key(struct nat_okey *k, const struct nat_tuple *t)
{
	*k = (struct nat_okey){.vrf = t->vrf, .pub_addr = t->dst, .rem_addr = t->src, .pub_port = t->dport,
			       .rem_port = t->sport, .proto = t->proto};
}

/* Session of an outside key, -1 when none. */
int32_t nat_out_lookup(struct nat_worker *w, const struct nat_okey *k);

/* The mapping of a session. */
static inline struct nat_mapping *nat_sess_map(struct nat_worker *w, int32_t idx)
{
	return &w->maps[w->sess[idx].user[NAT_SESS_MAP]];
}

/*
 * Sessions removed from w's table so far (expired, evicted, flushed, deleted). A session index looked up before a
 * call that may remove sessions (an open: ct_insert reaps or evicts when the table is full; a delete) is still
 * valid only while this has not moved: the freed index may hold another flow's new session by then.
 */
static inline uint64_t nat_sess_removed(struct nat_worker *w)
{
	const struct ct_stats *st = ct_table_stats(w->ct);
	return st->expired + st->evicted + st->flushed + st->deleted;
}

/*
 * A burst's bulk session lookup, used while its packets are handled one after the other (nat4_in2out,
 * dslite_decap). A hit goes stale once a session may have been removed (nat_sess_removed()); a miss once an earlier
 * packet of the burst with the same key may have opened the session. nat_burst_session() checks both, cheaply in
 * the usual cases: nothing opened or deleted yet (established flows), no earlier miss with a key hash like this one
 * (new flows: a 256-bit filter of the misses' hashes spares the search).
 */
struct nat_burst {
	uint64_t removed0; /* nat_sess_removed() at the bulk lookup */
	bool touched;      /* set by the caller when it opens or deletes a session */
	uint64_t seen[4];  /* bit (hash >> 24) of every miss so far */
};

static inline void nat_burst_start(struct nat_burst *b, struct nat_worker *w)
{
	b->removed0 = nat_sess_removed(w);
	b->touched = false;
	b->seen[0] = b->seen[1] = b->seen[2] = b->seen[3] = 0;
}

/* The session of lookup j of the burst (keys, hashes and bulk results idx[] of its lookups 0..j), as it is now. */
static inline int32_t nat_burst_session(struct nat_burst *b, struct nat_worker *w, const struct ct_key *keys,
					const uint32_t *hash, const int32_t *idx, unsigned j)
{
	if (idx[j] >= 0) {
		if (unlikely(b->touched) && nat_sess_removed(w) != b->removed0)
			return ct_lookup(w->ct, &keys[j], hash[j]);
		return idx[j];
	}
	uint32_t bit = hash[j] >> 24;
	uint64_t mask = 1ull << (bit & 63);
	bool maybe = (b->seen[bit >> 6] & mask) != 0;
	b->seen[bit >> 6] |= mask;
	if (maybe)
		for (unsigned j2 = 0; j2 < j; j2++)
			if (hash[j2] == hash[j])
				return ct_lookup(w->ct, &keys[j], hash[j]);
	return -1;
}

/* Key side of the inside endpoint of session idx (packets from inside come from it). */
static inline unsigned nat_sess_inside_side(struct nat_worker *w, int32_t idx)
{
	return w->sess[idx].user[NAT_SESS_FLAGS] & NAT_SF_INSIDE_SIDE1;
}

/* The drop reason of a ct verdict other than CT_OK and CT_RESTART. */
static inline unsigned nat_verdict_drop(int v)
{
	switch (v) {
	case CT_INVALID_FLAGS:
		return NAT_DROP_nat_tcp_bad_flags;
	case CT_OUT_OF_WINDOW:
		return NAT_DROP_nat_tcp_out_of_window;
	default:
		return NAT_DROP_nat_tcp_bad_state;
	}
}

/*
 * A packet of session idx, from inside (inbound false) or from the remote: ct tracking. 0, NAT_ERR(drop reason),
 * or NAT_TRACK_RESTART when a new SYN restarts a closed session: the caller deletes it (nat_session_delete) and
 * opens anew.
 */
#define NAT_TRACK_RESTART 1

static inline int nat_track(struct nat_worker *w, int32_t idx, bool inbound, const struct ct_pkt *cp, uint64_t now)
{
	unsigned side = nat_sess_inside_side(w, idx) ^ (inbound ? 1u : 0u);
	int v = ct_track(w->ct, idx, side, cp, now);
	if (likely(v == CT_OK))
		return 0;
	return v == CT_RESTART ? NAT_TRACK_RESTART : NAT_ERR(nat_verdict_drop(v));
}

/* New outbound flow (its ct lookup missed). b4: DS-Lite's B4 address for the logs, or NULL. */
int32_t nat_in2out_open(struct nat_worker *w, const struct nat_limits *lim, const uint8_t *b4,
			const struct nat_tuple *t, const struct ct_key *k, uint32_t hash, unsigned side,
			const struct ct_pkt *cp, uint64_t now);
/* New inbound flow (its outside key missed): NAT_PASS when no mapping nor static mapping has that endpoint. */
int32_t nat_out2in_open(struct nat_worker *w, const struct nat_tuple *t, const struct ct_pkt *cp, uint64_t now);
/* Remove a session now (its mapping, port and subscriber count follow, as on expiry). */
void nat_session_delete(struct nat_worker *w, int32_t idx);

/* Housekeeping once per millisecond: session expiry (budget), idle blocks released (log records). */
void nat_house_tick(struct nat_worker *w, uint64_t now, unsigned budget);

/* Fragment map: remember a first fragment's translation; find it for a later fragment (NULL: unknown). */
bool nat_frag_put(struct nat_worker *w, uint32_t vrf, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto,
		  uint8_t dir, uint32_t new_src, uint32_t new_dst, uint32_t new_vrf, uint64_t now);
const struct nat_frag_ent *nat_frag_get(struct nat_worker *w, uint32_t vrf, uint32_t src, uint32_t dst, uint16_t id,
					uint8_t proto, uint64_t now);

/* What ct needs of a packet: TCP fields read from the header at l4 (the caller checked it is whole). */
static inline void nat_ct_pkt(struct ct_pkt *cp, uint8_t proto, const uint8_t *l4, uint32_t l4_len, uint16_t ip_len)
{
	*cp = (struct ct_pkt){.wscale = 0xff, .bytes = ip_len};
	if (proto != 6)
		return;
	uint32_t doff = (l4[12] >> 4) * 4u;
	cp->tcp_flags = l4[13];
	cp->seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
	cp->ack = (uint32_t)l4[8] << 24 | (uint32_t)l4[9] << 16 | (uint32_t)l4[10] << 8 | l4[11];
	cp->win = (uint16_t)(l4[14] << 8 | l4[15]);
	cp->payload_len = l4_len > doff ? l4_len - doff : 0;
	if (!(cp->tcp_flags & 0x02))
		return;
	for (uint32_t i = 20; i < doff;) { /* window scale option of a SYN */
		uint8_t kind = l4[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= doff || l4[i + 1] < 2 || i + l4[i + 1] > doff)
			break;
		if (kind == 3 && l4[i + 1] == 3)
			cp->wscale = l4[i + 2];
		i += l4[i + 1];
	}
}

/* A log record on the worker's ring; rate-limited ones (quota, exhaustion) take a token of nat.log_rate. */
void nat_log(struct nat_worker *w, const struct nat_log_rec *r, bool rate_limited);

#endif
