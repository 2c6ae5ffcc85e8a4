/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fw_ip4 / fw_ip6: the firewall on the forward arcs (docs/FIREWALL.md). One code path for both families, the
 * family a compile-time constant of each node's process function.
 *
 * A chunk of at most 64 packets goes through three phases:
 *   1. per packet: the router's own packets pass; parse; a packet whose session another worker owns is handed to
 *      it; non-first fragments follow their datagram's verdict (or wait for it); the others get a session key.
 *   2. one bulk session lookup (it prefetches the sessions found).
 *   3. sessions found: tracked (TCP state and window), revalidated after a rule change when so configured; ICMP
 *      errors pass when the packet they quote has a session; the rest are classified in bulk per VRF (rules, then
 *      the zone-pair policy, then the VRF default) and allowed (a session opens), passed, denied or rejected.
 *      The misses are decided in order and first look among the sessions this chunk opened: a SYN and its
 *      SYN-ACK, or a request and its reply, often share a burst and both missed the bulk lookup.
 * Outputs are collected and enqueued in runs per edge at the end of the chunk: a first fragment may release held
 * fragments, so a chunk can emit more packets than it received.
 *
 * Hot path: no lock, no syscall, no allocation. Counters are this worker's (fw.workers[w->index]).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_graph_worker.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_tcp.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "nf/fw/fw_int.h"
#include "nf/nf_node.h"
#include "nf/fw/fw_parse.h"

#define FW_CHUNK 64 /* ct_lookup_bulk() and fw_classify_bulk() take at most 64 */
#define FW_OUT_MAX (FW_CHUNK * (1 + FW_FRAG_HOLD))

enum {
#define FW_NEXT_ENUM(n, d) FW_NEXT_##n,
	NF_FW_DROP_REASONS(FW_NEXT_ENUM)
#undef FW_NEXT_ENUM
	FW_NEXT_LOOKUP,     /* RSTs answering reject rules, routed like any packet the router builds */
	FW_NEXT_ICMP_ERROR, /* ICMP "administratively prohibited" answering reject rules */
	FW_NEXT_COUNT       /* the feature arc's edges follow: appended by feat_edges_create() at graph build */
};

static const rte_edge_t parse_err_edge[FW_PARSE_ERR_COUNT] = {
	[FW_PARSE_L3_BAD] = FW_NEXT_fw_l4_truncated, /* unreachable after ip4_input/ip6_input: the nearest reason */
	[FW_PARSE_L4_TRUNCATED] = FW_NEXT_fw_l4_truncated,
	[FW_PARSE_EXT_TRUNCATED] = FW_NEXT_fw_ext_bad,
	[FW_PARSE_EXT_TOO_LONG] = FW_NEXT_fw_ext_bad,
	[FW_PARSE_EXT_BAD] = FW_NEXT_fw_ext_bad,
	[FW_PARSE_FRAG_BAD] = FW_NEXT_fw_frag_bad,
	[FW_PARSE_EMB_TRUNCATED] = FW_NEXT_fw_icmp_bad_embedded,
	[FW_PARSE_EMB_FORGED] = FW_NEXT_fw_icmp_bad_embedded,
};

static const rte_edge_t frag_rc_edge[] = {
	[FW_FR_OVERLAP] = FW_NEXT_fw_frag_overlap,
	[FW_FR_BAD] = FW_NEXT_fw_frag_bad,
	[FW_FR_FULL] = FW_NEXT_fw_frag_table_full,
};

/*
 * The owner hash leaves the protocol out as well as the ports: an IPv6 non-first fragment names the header after
 * its fragment header, which need not be the transport protocol its first fragment and its session have. All
 * traffic between two hosts of a VRF then lands on one worker.
 */
uint32_t fw_owner_hash(uint32_t vrf, uint8_t family, uint8_t proto, const uint8_t *a, const uint8_t *b)
{
	(void)proto;
	unsigned n = family == 4 ? 4 : 16;
	if (memcmp(a, b, n) > 0) {
		const uint8_t *t = a;
		a = b;
		b = t;
	}
	uint32_t h = rte_hash_crc_4byte(vrf, family);
	return rte_hash_crc(b, n, rte_hash_crc(a, n, h));
}

/* Everything a chunk needs, on the stack (about 18 KB). Lookup j is packet lk[j]; classification c is lookup cl[c]. */
struct fw_chunk {
	struct rte_mbuf **m;
	uint16_t n;
	uint8_t family;
	struct fw_worker *fww;
	struct worker *w;
	uint64_t now;
	struct fw_pkt pk[FW_CHUNK];
	uint32_t frag_slot[FW_CHUNK]; /* first fragments: their fragment table entry */
	bool first_allowed[FW_CHUNK]; /* first fragments, once decided: their fate, for the later ones of the chunk */
	int32_t first_session[FW_CHUNK];
	uint8_t pside[FW_CHUNK]; /* key side of packet i (set with its lookup) */
	unsigned n_wait; /* later fragments whose first fragment is in this chunk: decided after it, in order */
	uint8_t wait_i[FW_CHUNK];
	uint32_t wait_slot[FW_CHUNK];
	/* session lookups */
	unsigned nl;
	uint8_t lk[FW_CHUNK];
	struct ct_key key[FW_CHUNK];
	const struct ct_key *keyp[FW_CHUNK];
	uint32_t hash[FW_CHUNK];
	int32_t idx[FW_CHUNK];
	uint8_t side[FW_CHUNK];
	/* classification of the misses */
	unsigned nc;
	uint8_t cl[FW_CHUNK];
	struct fw_match_input mi[FW_CHUNK];
	uint32_t match[FW_CHUNK];
	const struct fw_vrf *vrf[FW_CHUNK];
	/* sessions opened by this chunk: a later packet of the chunk (a reply in the same burst) missed them */
	unsigned n_new;
	uint32_t new_hash[FW_CHUNK];
	/* hand-offs to the owner worker */
	unsigned nh;
	struct rte_mbuf *ho[FW_CHUNK];
	uint16_t ho_owner[FW_CHUNK];
	/* outputs, in order */
	unsigned n_out;
	void *out_m[FW_OUT_MAX];
	rte_edge_t out_e[FW_OUT_MAX];
};

static inline rte_edge_t allow_edge(uint8_t family, uint32_t vrf_slot)
{
	if (family == 4)
		return feat_next_edge(FEAT_IP4_FWD, (unsigned)fw.feat4 + 1, vrf_slot);
	return feat_next_edge(FEAT_IP6_FWD, (unsigned)fw.feat6 + 1, vrf_slot);
}

static inline void emit(struct fw_chunk *c, rte_edge_t e, struct rte_mbuf *m)
{
	c->out_m[c->n_out] = m;
	c->out_e[c->n_out++] = e;
}

static inline void cnt(struct fw_chunk *c, enum fw_counter k)
{
	c->fww->cnt[k]++;
}

/*
 * The packet's fate. A first fragment records it for the rest of its datagram and releases the fragments held
 * for it, which go the same way (a reject's answer aside: they are dropped).
 */
static inline void finish(struct fw_chunk *c, unsigned i, rte_edge_t edge, bool allowed, int32_t session)
{
	emit(c, edge, c->m[i]);
	if (likely(c->pk[i].frag != FW_FRAG_FIRST) || c->frag_slot[i] == UINT32_MAX)
		return;
	c->first_allowed[i] = allowed;
	c->first_session[i] = session;
	struct rte_mbuf *held[FW_FRAG_HOLD];
	const struct fw_pkt *pk = &c->pk[i];
	struct fw_frag_tcp tcp, *tcpp = NULL;
	if (pk->proto == IPPROTO_TCP && allowed && session >= 0) {
		/* The segment is longer than this fragment: remember where its payload starts for ct_tcp_extend(). */
		tcp.base = pk->seq + !!(pk->tcp_flags & FW_TCP_SYN) - (pk->frag_len - pk->payload_len);
		tcp.side = c->pside[i];
		tcp.fin = !!(pk->tcp_flags & FW_TCP_FIN);
		tcpp = &tcp;
	}
	struct fw_frag_ext ext;
	unsigned n = fw_frag_set_verdict(c->fww->frags, c->frag_slot[i], allowed ? FW_FV_ALLOW : FW_FV_DENY, session,
					 tcpp, held, &ext);
	if (ext.session >= 0)
		ct_tcp_extend(c->fww->ct, ext.session, ext.side, ext.end);
	for (unsigned k = 0; k < n; k++) {
		emit(c, allowed ? allow_edge(c->family, pkt_meta(held[k])->vrf) : FW_NEXT_fw_frag_denied, held[k]);
		cnt(c, FW_CNT_frag_released);
	}
}

/* A non-first fragment follows its first fragment's fate (counted there, not again: one datagram, one decision). */
static inline void follow(struct fw_chunk *c, struct rte_mbuf *m, bool allowed, int32_t session)
{
	(void)session;
	emit(c, allowed ? allow_edge(c->family, pkt_meta(m)->vrf) : FW_NEXT_fw_frag_denied, m);
}

/* Phase 4: the later fragments whose first fragment was decided in this chunk. */
static void follow_waiting(struct fw_chunk *c)
{
	for (unsigned k = 0; k < c->n_wait; k++) {
		struct rte_mbuf *m = c->m[c->wait_i[k]];
		unsigned f = 0;
		while (f < c->n && !(c->pk[f].frag == FW_FRAG_FIRST && c->frag_slot[f] == c->wait_slot[k] &&
				     c->pk[f].frag_id == c->pk[c->wait_i[k]].frag_id && f < c->wait_i[k]))
			f++;
		if (f < c->n)
			follow(c, m, c->first_allowed[f], c->first_session[f]);
		else
			emit(c, FW_NEXT_fw_frag_denied, m); /* not expected: the first is always decided in its chunk */
	}
}

static inline void allow(struct fw_chunk *c, unsigned i, int32_t session)
{
	finish(c, i, allow_edge(c->family, pkt_meta(c->m[i])->vrf), true, session);
}

static inline void drop(struct fw_chunk *c, unsigned i, rte_edge_t edge)
{
	finish(c, i, edge, false, -1);
}

static inline rte_edge_t ct_verdict_edge(int v)
{
	switch (v) {
	case CT_INVALID_FLAGS:
		return FW_NEXT_fw_tcp_bad_flags;
	case CT_OUT_OF_WINDOW:
		return FW_NEXT_fw_tcp_out_of_window;
	default:
		return FW_NEXT_fw_tcp_bad_state;
	}
}

static inline void ct_pkt_of(const struct fw_pkt *pk, struct ct_pkt *cp)
{
	cp->tcp_flags = pk->tcp_flags;
	cp->wscale = pk->wscale;
	cp->win = pk->win;
	cp->seq = pk->seq;
	cp->ack = pk->ack;
	cp->payload_len = pk->payload_len;
	cp->bytes = pk->l3_len;
}

/* Tokens in thousandths, so that rates below 1000/s accrue between milliseconds; burst: one second's worth. */
static inline bool take_token(uint64_t *tokens, uint64_t *last_ms, uint64_t rate, uint64_t now)
{
	if (now != *last_ms) {
		*tokens += (now - *last_ms) * rate;
		if (*tokens > rate * 1000)
			*tokens = rate * 1000;
		*last_ms = now;
	}
	if (*tokens < 1000)
		return false;
	*tokens -= 1000;
	return true;
}

/*
 * Zones of the packet's interfaces (0: none) and the classifier's view of it. The zone map is the one v was built
 * with (published together: a zone id always means what v's rules and policies mean by it).
 */
static void match_input(struct fw_chunk *c, unsigned i, const struct fw_vrf *v, struct fw_match_input *mi)
{
	const struct fw_pkt *pk = &c->pk[i];
	const struct pkt_meta *pm = pkt_meta(c->m[i]);
	const uint8_t *zones = v != NULL ? v->zone_of_iface : NULL;
	mi->family = pk->family;
	mi->proto = pk->proto;
	mi->tcp_flags = pk->tcp_flags;
	mi->in_iface = pm->in_iface;
	mi->out_iface = dp.nhs[pm->nh].iface;
	mi->in_zone = zones ? zones[mi->in_iface] : 0;
	mi->out_zone = zones ? zones[mi->out_iface] : 0;
	if (pk->proto == fw_icmp_proto(pk->family)) {
		mi->sport = pk->icmp_type;
		mi->dport = pk->icmp_code;
	} else {
		mi->sport = pk->sport;
		mi->dport = pk->dport;
	}
	memcpy(mi->src, pk->src, 16);
	memcpy(mi->dst, pk->dst, 16);
}

/* Rule (match = index + 1), else zone-pair policy (the exact pair, then "any" on either side), else the default. */
static inline uint8_t decide(const struct fw_vrf *v, uint32_t match, uint8_t in_zone, uint8_t out_zone,
			     uint32_t *hit, bool *log)
{
	if (match != 0) {
		const struct fw_rule_rt *r = &v->rules[match - 1];
		*hit = match - 1;
		*log = r->log;
		return r->action;
	}
	const uint8_t pairs[4][2] = {{in_zone, out_zone}, {in_zone, 0}, {0, out_zone}, {0, 0}};
	for (unsigned p = 0; p < 4; p++) {
		uint8_t a = v->zone_policy[pairs[p][0]][pairs[p][1]];
		if (a != FW_POLICY_NONE) {
			*hit = FW_HIT_POLICY(v);
			*log = v->zone_policy_log[pairs[p][0]][pairs[p][1]];
			return a;
		}
	}
	*hit = FW_HIT_DEFAULT(v);
	*log = v->default_log;
	return v->default_action;
}

/* A log record by value on the worker's ring (rte_ring_create_elem with sizeof(struct fw_log_rec)). */
static void log_decision(struct fw_chunk *c, unsigned i, const struct fw_match_input *mi, uint32_t rule,
			 uint8_t action)
{
	struct fw_worker *fww = c->fww;
	if (!take_token(&fww->log_tokens, &fww->log_last_ms, fw.log_rate, c->now)) {
		cnt(c, FW_CNT_log_rate_limited);
		return;
	}
	struct fw_log_rec r = {
		.time_ms = c->now,
		.vrf = pkt_meta(c->m[i])->vrf,
		.rule = rule,
		.action = action,
		.family = mi->family,
		.proto = mi->proto,
		.in_iface = mi->in_iface,
		.out_iface = mi->out_iface,
		.sport = mi->sport,
		.dport = mi->dport,
	};
	memcpy(r.src, mi->src, 16);
	memcpy(r.dst, mi->dst, 16);
	if (fww->log == NULL || rte_ring_sp_enqueue_elem(fww->log, &r, sizeof(r)) != 0)
		cnt(c, FW_CNT_log_queue_full);
	else
		cnt(c, FW_CNT_log_written);
}

/*
 * A RST answering the TCP segment pk, built in place (RFC 793 "Reset Generation"): addresses and ports swapped;
 * a segment with ACK gets <SEQ=SEG.ACK><RST>, one without <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>.
 */
static bool build_rst(struct rte_mbuf *m, const struct fw_pkt *pk)
{
	uint32_t hl = pk->family == 4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint32_t keep = pk->l4_off + (uint32_t)sizeof(struct rte_tcp_hdr);
	if (rte_pktmbuf_pkt_len(m) < keep || rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - keep)) != 0)
		return false;
	if (pk->l4_off > hl && rte_pktmbuf_adj(m, (uint16_t)(pk->l4_off - hl)) == NULL)
		return false; /* options and extension headers go: the answer has none */
	if (rte_pktmbuf_data_len(m) < hl + sizeof(struct rte_tcp_hdr))
		return false;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + hl);
	uint32_t seq = 0, ack = 0;
	uint8_t flags = RTE_TCP_RST_FLAG;
	if (pk->tcp_flags & FW_TCP_ACK) {
		seq = pk->ack;
	} else {
		ack = pk->seq + pk->payload_len + !!(pk->tcp_flags & FW_TCP_SYN) + !!(pk->tcp_flags & FW_TCP_FIN);
		flags |= RTE_TCP_ACK_FLAG;
	}
	*th = (struct rte_tcp_hdr){
		.src_port = rte_cpu_to_be_16(pk->dport),
		.dst_port = rte_cpu_to_be_16(pk->sport),
		.sent_seq = rte_cpu_to_be_32(seq),
		.recv_ack = rte_cpu_to_be_32(ack),
		.data_off = 5 << 4,
		.tcp_flags = flags,
	};
	if (pk->family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
		*ip = (struct rte_ipv4_hdr){
			.version_ihl = RTE_IPV4_VHL_DEF,
			.total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*th)),
			.time_to_live = 64,
			.next_proto_id = IPPROTO_TCP,
		};
		memcpy(&ip->src_addr, pk->dst, 4);
		memcpy(&ip->dst_addr, pk->src, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
		*ip = (struct rte_ipv6_hdr){
			.vtc_flow = rte_cpu_to_be_32(6u << 28),
			.payload_len = rte_cpu_to_be_16(sizeof(*th)),
			.proto = IPPROTO_TCP,
			.hop_limits = 64,
		};
		memcpy(ip->src_addr, pk->dst, 16);
		memcpy(ip->dst_addr, pk->src, 16);
		th->cksum = rte_ipv6_udptcp_cksum(ip, th);
	}
	pkt_meta(m)->flags |= PKT_F_LOCAL_ORIGIN; /* in_iface and vrf stay: routed back in the VRF it came from */
	return true;
}

/* Reject: a RST for TCP (never for a RST), ICMP prohibited otherwise, as the per-worker token bucket allows. */
static void reject(struct fw_chunk *c, unsigned i)
{
	const struct fw_pkt *pk = &c->pk[i];
	struct fw_worker *fww = c->fww;
	bool tcp = pk->proto == IPPROTO_TCP;
	if (tcp && (pk->tcp_flags & FW_TCP_RST)) {
		drop(c, i, FW_NEXT_fw_reject);
		return;
	}
	if (!take_token(&fww->reject_tokens, &fww->reject_last_ms, fw.reject_rate, c->now)) {
		cnt(c, FW_CNT_reject_rate_limited);
		drop(c, i, FW_NEXT_fw_reject);
		return;
	}
	if (tcp) {
		if (!build_rst(c->m[i], pk)) {
			drop(c, i, FW_NEXT_fw_reject);
			return;
		}
		cnt(c, FW_CNT_rst_sent);
		finish(c, i, FW_NEXT_LOOKUP, false, -1); /* the datagram's other fragments are dropped */
		return;
	}
	if (c->family == 4)
		pkt_set_icmp(c->m[i], 3, 13, 0); /* communication administratively prohibited (RFC 1812 5.2.7.1) */
	else
		pkt_set_icmp(c->m[i], 1, 1, 0); /* administratively prohibited (RFC 4443 3.1) */
	cnt(c, FW_CNT_icmp_sent);
	finish(c, i, FW_NEXT_ICMP_ERROR, false, -1);
}

/*
 * on_rule_change = revalidate: classify the session's opening direction again with the current rules. Returns the
 * action; the session may stay when it is FW_ALLOW (its rule and generation are updated then).
 */
static uint8_t revalidate(struct fw_chunk *c, unsigned i, struct ct_session *s, unsigned side,
			  const struct fw_vrf *v)
{
	struct fw_match_input mi;
	match_input(c, i, v, &mi);
	mi.tcp_flags = FW_TCP_SYN; /* as the segment that opened it */
	if (side != s->init_side) { /* a reply: look at it the other way round */
		uint8_t t[16];
		memcpy(t, mi.src, 16);
		memcpy(mi.src, mi.dst, 16);
		memcpy(mi.dst, t, 16);
		uint16_t p = mi.in_iface;
		mi.in_iface = mi.out_iface;
		mi.out_iface = p;
		uint8_t z = mi.in_zone;
		mi.in_zone = mi.out_zone;
		mi.out_zone = z;
		if (mi.proto == fw_icmp_proto(mi.family)) { /* the reply's type back to its request's */
			if (mi.family == 4 && (mi.sport == 0 || mi.sport == 14 || mi.sport == 16 || mi.sport == 18))
				mi.sport = mi.sport == 0 ? 8 : mi.sport - 1;
			else if (mi.family == 6 && mi.sport == 129)
				mi.sport = 128;
		} else {
			p = mi.sport;
			mi.sport = mi.dport;
			mi.dport = p;
		}
	}
	uint32_t match = 0;
	const struct fw_classifier *cls = v->cls[c->family == 4 ? 0 : 1];
	const struct fw_match_input *mip = &mi;
	if (cls != NULL)
		fw_classify_bulk(cls, &mip, 1, &match);
	uint32_t hit;
	bool log;
	uint8_t action = decide(v, match, mi.in_zone, mi.out_zone, &hit, &log);
	cnt(c, FW_CNT_revalidated);
	if (action != FW_ALLOW)
		return action;
	s->user[FW_SESS_RULE] = match;
	s->user[FW_SESS_GEN] = v->gen;
	return action;
}

/* Phase 1 for one packet: false when it is done with (emitted, handed off or held). */
static inline bool prepare(struct fw_chunk *c, unsigned i)
{
	struct rte_mbuf *m = c->m[i];
	struct pkt_meta *pm = pkt_meta(m);
	struct fw_pkt *pk = &c->pk[i];
	if (unlikely(pm->flags & PKT_F_LOCAL_ORIGIN)) {
		cnt(c, FW_CNT_local_origin);
		emit(c, allow_edge(c->family, pm->vrf), m);
		return false;
	}
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	enum fw_parse_err rc = c->family == 4 ? fw_parse_ip4(p, rte_pktmbuf_data_len(m), pk)
					      : fw_parse_ip6(p, rte_pktmbuf_data_len(m), pk);
	if (unlikely(rc != FW_PARSE_OK)) {
		emit(c, parse_err_edge[rc], m);
		return false;
	}
	if (fw.n_workers > 1) {
		/* An ICMP error belongs with the session of the packet it quotes. */
		const uint8_t *a = pk->icmp_error ? pk->emb.src : pk->src, *b = pk->icmp_error ? pk->emb.dst : pk->dst;
		unsigned owner = fw_owner_hash(pm->vrf, c->family, pk->proto, a, b) % fw.n_workers;
		if (owner != c->w->index) {
			c->ho[c->nh] = m;
			c->ho_owner[c->nh++] = (uint16_t)owner;
			return false;
		}
	}
	if (unlikely(pk->frag != FW_FRAG_NONE)) {
		struct fw_frag_table *ft = c->fww->frags;
		struct fw_frag_key fk = {
			.vrf = pm->vrf, .id = pk->frag_id, .family = c->family, .proto = pk->frag_proto};
		memcpy(fk.src, pk->src, 16);
		memcpy(fk.dst, pk->dst, 16);
		if (pk->frag == FW_FRAG_FIRST) {
			c->frag_slot[i] = UINT32_MAX;
			if (ft != NULL) {
				int frc = fw_frag_first(ft, &fk, pk->frag_len, !pk->mf, c->now, &c->frag_slot[i]);
				if (frc != FW_FR_OK) {
					emit(c, frag_rc_edge[frc], m);
					return false;
				}
			}
		} else {
			uint8_t verdict = FW_FV_DENY;
			int32_t session = -1;
			uint32_t slot = UINT32_MAX;
			struct fw_frag_ext ext;
			int frc = ft == NULL ? FW_FR_FULL
					     : fw_frag_later(ft, &fk, pk->frag_off, pk->frag_len, !pk->mf, m, c->now,
							     &verdict, &session, &slot, &ext);
			if (frc == FW_FR_OK) {
				if (ext.session >= 0) /* the whole TCP segment has passed now */
					ct_tcp_extend(c->fww->ct, ext.session, ext.side, ext.end);
				follow(c, m, verdict == FW_FV_ALLOW, session);
			} else if (frc == FW_FR_HELD) {
				cnt(c, FW_CNT_frag_held);
			} else if (frc == FW_FR_WAIT) {
				c->wait_i[c->n_wait] = (uint8_t)i;
				c->wait_slot[c->n_wait++] = slot;
			} else {
				emit(c, frag_rc_edge[frc], m);
			}
			return false;
		}
	}
	if (pk->proto == IPPROTO_TCP && !pk->icmp_error && unlikely(!ct_tcp_flags_valid(pk->tcp_flags))) {
		drop(c, i, FW_NEXT_fw_tcp_bad_flags); /* impossible flags: no lookup, whatever the session (doc) */
		return false;
	}
	unsigned j = c->nl++;
	c->lk[j] = (uint8_t)i;
	if (unlikely(pk->icmp_error))
		c->side[j] = (uint8_t)ct_key_build_hash(&c->key[j], &c->hash[j], pm->vrf, c->family, pk->emb.proto,
							pk->emb.src, pk->emb.dst, pk->emb.sport, pk->emb.dport);
	else
		c->side[j] = (uint8_t)ct_key_build_hash(&c->key[j], &c->hash[j], pm->vrf, c->family, pk->proto,
							pk->src, pk->dst, pk->sport, pk->dport);
	c->keyp[j] = &c->key[j];
	c->pside[i] = c->side[j];
	return true;
}

/* Session idx was deleted: the chunk's later lookups that found it miss now (they will find its successor). */
static void forget_session(struct fw_chunk *c, unsigned j, int32_t idx)
{
	for (unsigned j2 = j + 1; j2 < c->nl; j2++)
		if (c->idx[j2] == idx)
			c->idx[j2] = -1;
}

/*
 * A session this chunk opened for the key of lookup j, or -1. Looked up again rather than remembered: opening one
 * may have evicted another this chunk opened (full table, evict-transitory) and reused its slot.
 */
static inline int32_t chunk_session(struct fw_chunk *c, unsigned j)
{
	for (unsigned k = 0; k < c->n_new; k++)
		if (c->new_hash[k] == c->hash[j])
			return ct_lookup(c->fww->ct, &c->key[j], c->hash[j]);
	return -1;
}

/* Lookup j's packet went through ct_track() on session idx with verdict v: the packet goes its way. Returns false
 * when it must be classified as a new flow (a new SYN on a closed session: deleted). */
static inline bool tracked(struct fw_chunk *c, unsigned j, int32_t idx, int v)
{
	unsigned i = c->lk[j];
	if (likely(v == CT_OK)) {
		cnt(c, FW_CNT_allowed_session);
		allow(c, i, idx);
		return true;
	}
	if (v != CT_RESTART) {
		drop(c, i, ct_verdict_edge(v));
		return true;
	}
	ct_delete(c->fww->ct, idx); /* classified as the new flow it is */
	forget_session(c, j, idx);
	return false;
}

/*
 * Lookup j found session idx: an ICMP error is related to it, anything else is tracked. Returns false when the
 * packet must be classified as a new flow (the session was closed and a SYN restarts it, or the rules changed).
 */
static bool with_session(struct fw_chunk *c, unsigned j, int32_t idx)
{
	unsigned i = c->lk[j];
	const struct fw_pkt *pk = &c->pk[i];
	struct ct_table *ct = c->fww->ct;
	if (unlikely(pk->icmp_error)) {
		cnt(c, FW_CNT_allowed_related);
		allow(c, i, idx);
		return true;
	}
	if (unlikely(fw.on_rule_change == FW_REVALIDATE)) {
		struct ct_session *s = ct_session(ct, idx);
		const struct fw_vrf *v = fw_vrf_get(pkt_meta(c->m[i])->vrf);
		uint8_t action = FW_ALLOW;
		if (v != NULL && s->user[FW_SESS_GEN] != v->gen)
			action = revalidate(c, i, s, c->side[j], v);
		if (action != FW_ALLOW) {
			ct_delete(ct, idx);
			forget_session(c, j, idx);
			if (action == FW_PASS)
				return false; /* stateless now: the packet is decided by the rules as one of no session */
			drop(c, i, FW_NEXT_fw_revalidate_denied);
			return true;
		}
	}
	struct ct_pkt cp;
	ct_pkt_of(pk, &cp);
	return tracked(c, j, idx, ct_track(ct, idx, c->side[j], &cp, c->now));
}

/* Phase 3a for lookup j: false when it is left for phase 3b (no session found, or a restart). */
static inline bool track(struct fw_chunk *c, unsigned j)
{
	const struct fw_pkt *pk = &c->pk[c->lk[j]];
	int32_t idx = c->idx[j];
	if (likely(idx >= 0) && unlikely(ct_session_expired(ct_session(c->fww->ct, idx), c->now))) {
		/* Dead, the wheel just has not reached it (a busy worker): it passes nothing more. */
		ct_expire_session(c->fww->ct, idx);
		forget_session(c, j, idx);
		c->idx[j] = idx = -1;
	}
	if (likely(idx >= 0)) {
		bool done;
		/* The common case inline: a packet of a session, no rule-change check to make. */
		if (likely(!pk->icmp_error && fw.on_rule_change != FW_REVALIDATE)) {
			struct ct_pkt cp;
			ct_pkt_of(pk, &cp);
			done = tracked(c, j, idx, ct_track(c->fww->ct, idx, c->side[j], &cp, c->now));
		} else {
			done = with_session(c, j, idx);
		}
		if (done)
			return true;
		c->idx[j] = -1;
	}
	return false;
}

/* Phase 3b: miss k (classified unless an ICMP error) decided, the packet goes its way. */
static void decide_new(struct fw_chunk *c, unsigned k)
{
	unsigned j = c->cl[k], i = c->lk[j];
	const struct fw_pkt *pk = &c->pk[i];
	struct ct_table *ct = c->fww->ct;
	if (c->n_new > 0) {
		int32_t idx = chunk_session(c, j);
		if (idx >= 0 && with_session(c, j, idx))
			return;
	}
	const struct fw_vrf *v = c->vrf[k];
	if (unlikely(v == NULL)) { /* the VRF's rules were just removed: the arc will skip us from now on */
		cnt(c, FW_CNT_passed_stateless);
		allow(c, i, -1);
		return;
	}
	const struct fw_match_input *mi = &c->mi[k];
	uint32_t hit;
	bool log;
	uint8_t action = decide(v, c->match[k], mi->in_zone, mi->out_zone, &hit, &log);
	struct ct_pkt cp;
	ct_pkt_of(pk, &cp);
	/* A TCP segment that cannot open a session is not a new flow the rule decided: no hit, no log. */
	if (action == FW_ALLOW && pk->proto == IPPROTO_TCP && !pk->icmp_error) {
		int mo = ct_tcp_may_open(ct, &cp);
		if (mo != CT_OK) {
			drop(c, i, mo == CT_INVALID_FLAGS ? FW_NEXT_fw_tcp_bad_flags : FW_NEXT_fw_tcp_no_session);
			return;
		}
	}
	struct fw_hits *h = &v->hits[(size_t)c->w->index * v->hits_stride + hit];
	h->pkts++;
	h->bytes += pk->l3_len;
	if (unlikely(log))
		log_decision(c, i, mi, c->match[k], action);

	if (unlikely(pk->icmp_error)) {
		/* An error quoting no session is judged as itself by the rules (a stateless pass flow's "packet too
		 * big" must get through: PMTUD); allow passes it too but opens no session for an error. */
		if (action == FW_PASS || action == FW_ALLOW) {
			cnt(c, FW_CNT_passed_stateless);
			allow(c, i, -1);
		} else {
			drop(c, i, FW_NEXT_fw_icmp_no_session);
		}
		return;
	}
	switch (action) {
	case FW_ALLOW:
		break;
	case FW_PASS:
		cnt(c, FW_CNT_passed_stateless);
		allow(c, i, -1);
		return;
	case FW_REJECT:
		reject(c, i);
		return;
	default:
		drop(c, i, FW_NEXT_fw_deny);
		return;
	}
	int32_t idx = ct_insert(ct, &c->key[j], c->hash[j], c->side[j], c->now);
	if (idx == -EEXIST) { /* not expected (the chunk's own sessions were looked at): be safe */
		idx = ct_lookup(ct, &c->key[j], c->hash[j]);
		if (idx >= 0 && with_session(c, j, idx))
			return;
		drop(c, i, FW_NEXT_fw_tcp_bad_state);
		return;
	}
	if (idx < 0) {
		drop(c, i, FW_NEXT_fw_session_full);
		return;
	}
	struct ct_session *s = ct_session(ct, idx);
	s->user[FW_SESS_RULE] = c->match[k];
	s->user[FW_SESS_GEN] = v->gen;
	int tv = ct_track(ct, idx, c->side[j], &cp, c->now);
	if (tv != CT_OK) {
		ct_delete(ct, idx);
		drop(c, i, ct_verdict_edge(tv));
		return;
	}
	c->new_hash[c->n_new++] = c->hash[j];
	cnt(c, FW_CNT_allowed_new);
	allow(c, i, idx);
}

/* Phase 3b: the misses, classified in bulk per VRF (one rule set each). */
static void classify_misses(struct fw_chunk *c)
{
	bool done[FW_CHUNK] = {false};
	const struct fw_match_input *in[FW_CHUNK];
	uint32_t res[FW_CHUNK];
	uint8_t grp[FW_CHUNK];
	unsigned fi = c->family == 4 ? 0 : 1;
	for (unsigned k0 = 0; k0 < c->nc; k0++) {
		if (done[k0])
			continue;
		/* By rule set object, not VRF slot: each miss is classified with the rule set (and zone map) its
		 * match input was built from, even when a new one was published meanwhile. */
		const struct fw_vrf *v = c->vrf[k0];
		unsigned ng = 0;
		for (unsigned k = k0; k < c->nc; k++) {
			if (!done[k] && c->vrf[k] == v) {
				done[k] = true;
				grp[ng] = (uint8_t)k;
				in[ng++] = &c->mi[k];
			}
		}
		const struct fw_classifier *cls = v ? v->cls[fi] : NULL;
		if (cls != NULL)
			fw_classify_bulk(cls, in, ng, res);
		for (unsigned g = 0; g < ng; g++)
			c->match[grp[g]] = cls ? res[g] : 0;
	}
	for (unsigned k = 0; k < c->nc; k++)
		decide_new(c, k);
}

/* Hand-offs, one ring burst per owner. */
static struct rte_ring *fw_handoff_ring(unsigned owner)
{
	return fw.workers[owner].handoff;
}

static void hand_off(struct fw_chunk *c)
{
	void *unsent[FW_CHUNK];
	unsigned n_unsent;
	c->fww->cnt[FW_CNT_handoff_out] += nf_hand_off(c->ho, c->ho_owner, c->nh, fw_handoff_ring, unsent, &n_unsent);
	for (unsigned k = 0; k < n_unsent; k++)
		emit(c, FW_NEXT_fw_handoff_full, unsent[k]);
}

/* The outputs in runs per edge. */
static void flush(struct rte_graph *graph, struct rte_node *node, struct fw_chunk *c)
{
	nf_flush_runs(graph, node, c->out_m, c->out_e, c->n_out);
}

static __rte_always_inline void fw_chunk(struct rte_graph *graph, struct rte_node *node, struct worker *w,
					 struct rte_mbuf **pkts, uint16_t n, uint8_t family)
{
	struct fw_chunk c;
	c.m = pkts;
	c.n = n;
	c.family = family;
	c.w = w;
	c.fww = &fw.workers[w->index];
	c.now = w->now_ms;
	c.nl = c.nc = c.nh = c.n_out = c.n_new = c.n_wait = 0;

	for (unsigned i = 0; i < n; i++)
		prepare(&c, i);
	if (c.nl > 0) {
		ct_lookup_bulk(c.fww->ct, c.keyp, c.hash, c.nl, c.idx); /* prefetches the sessions' lines it will use */
		for (unsigned j = 0; j < c.nl; j++) {
			if (!track(&c, j)) {
				c.cl[c.nc] = (uint8_t)j;
				c.vrf[c.nc] = fw_vrf_get(pkt_meta(c.m[c.lk[j]])->vrf);
				match_input(&c, c.lk[j], c.vrf[c.nc], &c.mi[c.nc]);
				c.nc++;
			}
		}
		if (c.nc > 0)
			classify_misses(&c);
	}
	if (unlikely(c.n_wait > 0))
		follow_waiting(&c);
	if (c.nh > 0)
		hand_off(&c);
	flush(graph, node, &c);
}

static __rte_always_inline uint16_t fw_process(struct rte_graph *graph, struct rte_node *node, void **objs,
					       uint16_t nb_objs, uint8_t family)
{
	struct worker *w = node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct fw_worker *workers = __atomic_load_n(&fw.workers, __ATOMIC_ACQUIRE);
	if (unlikely(workers == NULL || w->index >= fw.n_workers || workers[w->index].ct == NULL)) {
		/* not set up (yet): filter nothing */
		for (uint16_t i = 0; i < nb_objs; i++)
			rte_node_enqueue_x1(graph, node, allow_edge(family, pkt_meta(pkts[i])->vrf), pkts[i]);
		return nb_objs;
	}
	for (uint16_t done = 0; done < nb_objs; done += FW_CHUNK)
		fw_chunk(graph, node, w, pkts + done, RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)FW_CHUNK), family);
	return nb_objs;
}

static uint16_t fw_ip4_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	return fw_process(graph, node, objs, nb_objs, 4);
}

static uint16_t fw_ip6_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	return fw_process(graph, node, objs, nb_objs, 6);
}

#define FW_NEXT_NAME(n, d) [FW_NEXT_##n] = DROP_NODE(n),

static struct rte_node_register fw_ip4_node = {
	.name = NODE_FW4,
	.process = fw_ip4_process,
	.init = node_worker_init,
	.nb_edges = FW_NEXT_COUNT,
	.next_nodes =
		{
			NF_FW_DROP_REASONS(FW_NEXT_NAME)
			[FW_NEXT_LOOKUP] = NODE_IP4_LOOKUP,
			[FW_NEXT_ICMP_ERROR] = NODE_ICMP4_ERROR,
		},
};
RTE_NODE_REGISTER(fw_ip4_node);

static struct rte_node_register fw_ip6_node = {
	.name = NODE_FW6,
	.process = fw_ip6_process,
	.init = node_worker_init,
	.nb_edges = FW_NEXT_COUNT,
	.next_nodes =
		{
			NF_FW_DROP_REASONS(FW_NEXT_NAME)
			[FW_NEXT_LOOKUP] = NODE_IP6_LOOKUP,
			[FW_NEXT_ICMP_ERROR] = NODE_ICMP6_ERROR,
		},
};
RTE_NODE_REGISTER(fw_ip6_node);
