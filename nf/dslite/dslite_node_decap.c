/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dslite_decap: the AFTR's softwire input on FEAT_IP6_IN of its transport VRF (dslite_int.h, docs/NAT.md).
 *
 * Per IPv6 packet: to an AFTR address? (else it passes on the arc) -> the upper-layer header: IPv4 (4), possibly
 * after one fragment header, is a softwire packet; an ICMPv6 error quoting a softwire packet of this AFTR is relayed
 * (packet too big) or dropped; anything else passes (ping to the AFTR address, ...). A softwire packet goes to the
 * worker of its B4 (hand-off), must come from a B4 prefix, is reassembled when fragmented, has its inner IPv4
 * checked, is translated in2out by the NAT engine (realm = the B4's softwire) with its MSS clamped, and goes to
 * ip4_lookup in the AFTR's IPv4 VRF.
 *
 * A chunk of at most 64 packets goes in phases, so that the table lookups of its packets overlap their cache
 * misses instead of waiting for each in turn: (1) per packet, everything that needs no table (AFTR, B4 prefix,
 * hand-off, reassembly, inner header checks, parse); (2) one bulk lookup of the B4s (new ones made in order);
 * (3) one bulk session lookup, the sessions and their mappings prefetched; (4) in arrival order: track or open,
 * rewrite, on to ip4_lookup. What an open in (4) changes (a session evicted, one opened by an earlier packet of
 * the chunk) is seen by the later packets of the chunk.
 *
 * Hot path: no lock, no syscall, no allocation (the B4 table and the engine's tables are preallocated).
 */
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "nf/dslite/dslite_int.h"
#include "nf/dslite/dslite_pkt.h"
#include "nf/nf_reass.h"
#include "nf/nf_node.h"

enum {
#define DECAP_NEXT_ENUM(n, d) DECAP_NEXT_##n,
	NF_DSLITE_DROP_REASONS(DECAP_NEXT_ENUM)
	NF_NAT_DROP_REASONS(DECAP_NEXT_ENUM) /* the engine's verdicts: NAT_ERR_DROP(rc) + DECAP_NEXT_NAT0 */
#undef DECAP_NEXT_ENUM
	DECAP_NEXT_IP4_LOOKUP,
	DECAP_NEXT_ICMP4_ERROR,
	DECAP_NEXT_COUNT /* the feature arc's edges follow (feat_edges_create) */
};
#define DECAP_NEXT_NAT0 (DECAP_NEXT_IP4_LOOKUP - NAT_DROP_COUNT) /* first of the NAT reasons, in their order */
#define DECAP_HELD UINT16_MAX                         /* the packet was kept (hand-off, reassembly) */
#define DECAP_QUEUED (UINT16_MAX - 1)                 /* a softwire packet, queued for phases 2 to 4 */
#define DECAP_CHUNK 64

struct decap_ctx {
	struct rte_graph *graph;
	struct rte_node *node;
	struct worker *w;
	struct dslite_worker *dw;
	struct nat_worker *nw;
	uint64_t now;
};

static inline void cnt(struct decap_ctx *c, enum dslite_counter k)
{
	c->dw->cnt[k]++;
}

static inline rte_edge_t nat_drop_edge(int32_t rc)
{
	return (rte_edge_t)(DECAP_NEXT_NAT0 + NAT_ERR_DROP(rc));
}

/* Fragments the reassembly gave up, to their drop node. */
static void death_row_flush(struct decap_ctx *c, rte_edge_t edge)
{
	struct rte_ip_frag_death_row *dr = &c->dw->dr;
	if (dr->cnt == 0)
		return;
	rte_node_enqueue(c->graph, c->node, edge, (void **)dr->row, (uint16_t)dr->cnt);
	dr->cnt = 0;
}

/* The AFTR a packet of transport VRF vrf to dst is for, NULL when none. */
static inline const struct dslite_aftr_rt *aftr_of(uint32_t vrf, const uint8_t *dst)
{
	const struct dslite_aftr_index *ix = __atomic_load_n(&dsl.index, __ATOMIC_ACQUIRE);
	if (ix == NULL)
		return NULL;
	for (uint32_t i = 0; i < ix->n; i++)
		if (ix->e[i].tvrf == vrf && memcmp(ix->e[i].addr, dst, 16) == 0)
			return dslite_aftr_get(ix->e[i].slot);
	return NULL;
}

static inline bool b4_allowed(const struct dslite_aftr_rt *a, const uint8_t *src)
{
	for (uint32_t i = 0; i < a->n_prefixes; i++)
		if (dslite_prefix_match(src, a->prefixes[i].addr, a->prefixes[i].len))
			return true;
	return false;
}

/* Hand m to the owner of B4 b4 when that is another worker: true when it left (or was dropped). */
static inline bool hand_off(struct decap_ctx *c, struct rte_mbuf *m, const uint8_t *b4)
{
	if (dsl.n_workers <= 1)
		return false;
	unsigned owner = dslite_owner(b4) % dsl.n_workers;
	if (owner == c->w->index)
		return false;
	/* NAT's ring, not one of DS-Lite's own: the B4's replies are handed on it too, so neither overtakes the other */
	struct nat_worker *nws = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	if (!nat.has_decap_edge || nws == NULL || owner >= nat.n_workers ||
	    rte_ring_mp_enqueue(nws[owner].handoff, m) != 0) {
		rte_node_enqueue_x1(c->graph, c->node, DECAP_NEXT_dslite_handoff_full, m);
		return true;
	}
	cnt(c, DSLITE_CNT_handoff_out);
	return true;
}

/*
 * A softwire packet on its B4's worker, from phase 1 to phase 4 (decap_process): its inner IPv4 packet checked and
 * parsed (phase 1), its B4's softwire index (phase 2: one bulk lookup), its session (phase 3: one bulk lookup and
 * prefetches), its translation (phase 4, in arrival order).
 */
struct decap_sw {
	struct rte_mbuf *m;
	const struct dslite_aftr_rt *a;
	uint8_t *ip;          /* the inner IPv4 header */
	uint32_t len4;        /* its bytes, from the IPv6 payload length */
	uint8_t parse;        /* enum nat_parse_err of pk */
	int16_t lookup;       /* its session lookup (phase 3), -1 when none */
	int32_t sw;           /* softwire index, -1 when the B4 table is full */
	struct nat_pkt pk;
};

struct decap_chunk {
	unsigned n_sw, n_lk, n_out;
	struct decap_sw sw[DECAP_CHUNK];
	struct dslite_b4_key b4k[DECAP_CHUNK];
	const struct dslite_b4_key *b4kp[DECAP_CHUNK];
	int32_t b4pos[DECAP_CHUNK];
	/* session lookups */
	struct nat_tuple t[DECAP_CHUNK];
	struct ct_key key[DECAP_CHUNK];
	const struct ct_key *keyp[DECAP_CHUNK];
	uint32_t hash[DECAP_CHUNK];
	int32_t idx[DECAP_CHUNK];
	uint8_t side[DECAP_CHUNK];
	/* what leaves, in order */
	void *out_m[DECAP_CHUNK];
	rte_edge_t out_e[DECAP_CHUNK];
};

static inline void emit(struct decap_chunk *ch, rte_edge_t e, struct rte_mbuf *m)
{
	ch->out_m[ch->n_out] = m;
	ch->out_e[ch->n_out++] = e;
}

/* Phase 1 of a whole softwire packet (reassembled if it came in fragments) on its B4's worker: the checks that
 * need no table; queued for its B4 (DECAP_QUEUED) or dropped (its edge). */
static rte_edge_t softwire_prepare(struct decap_ctx *c, struct decap_chunk *ch, const struct dslite_aftr_rt *a,
				   struct rte_mbuf *m)
{
	if (c->nw == NULL || nat_pool_get(a->lim.pool) == NULL)
		return DECAP_NEXT_dslite_nat_off;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t plen = csum_rd16(p + 4);
	uint32_t need = DSLITE_IP6_HDR + RTE_MIN(plen, (uint32_t)DSLITE_INNER_HDR_NEED);
	if (unlikely(rte_pktmbuf_data_len(m) < need)) { /* a chain whose first buffer is short: make it one */
		if (rte_pktmbuf_linearize(m) != 0)
			return DECAP_NEXT_dslite_reass_headers;
		p = rte_pktmbuf_mtod(m, uint8_t *);
	}
	/* The reads and writes below stay in the first DSLITE_INNER_HDR_NEED bytes: the length checks may see the
	 * whole packet's length even when later bytes sit in chained buffers. */
	uint32_t len = rte_pktmbuf_pkt_len(m), len4;
	if (plen < 20 || ((p[40] >> 4) == 4 && (p[40] & 0xfu) * 4 > plen))
		return DECAP_NEXT_dslite_inner_truncated; /* the payload ends inside the inner IPv4 header */
	switch (nat_dslite_pull(p, len, &len4, NULL)) {
	case NAT_DS_OK:
		break;
	case NAT_DS_TRUNCATED:
		return DECAP_NEXT_dslite_inner_truncated;
	case NAT_DS_NOT_IP4IP6:
	case NAT_DS_INCONSISTENT:
		return DECAP_NEXT_dslite_inner_inconsistent;
	default:
		return DECAP_NEXT_dslite_inner_bad;
	}
	uint8_t *ip = p + DSLITE_IP6_HDR;
	uint32_t dst = csum_rd32(ip + 16);
	if (dslite_is_local4(a, dst))
		return DECAP_NEXT_dslite_inner_to_aftr;
	if (nat_addr_lookup(__atomic_load_n(&nat.addr_index, __ATOMIC_ACQUIRE), a->pool_vrf, dst) != NAT_NIL)
		return DECAP_NEXT_dslite_inner_to_pool;
	unsigned i = ch->n_sw++;
	struct decap_sw *e = &ch->sw[i];
	e->m = m;
	e->a = a;
	e->ip = ip;
	e->len4 = len4;
	e->lookup = -1;
	e->parse = (uint8_t)nat_parse(ip, len4, &e->pk);
	ch->b4k[i] = (struct dslite_b4_key){.aftr = a->slot};
	memcpy(ch->b4k[i].addr, p + 8, 16);
	ch->b4kp[i] = &ch->b4k[i];
	return DECAP_QUEUED;
}

/* What a parse error of the inner packet is counted as. */
static rte_edge_t parse_drop(enum nat_parse_err pe)
{
	switch (pe) {
	case NAT_PARSE_TRUNCATED:
		return DECAP_NEXT_dslite_inner_truncated;
	case NAT_PARSE_BAD_HDR:
		return DECAP_NEXT_dslite_inner_inconsistent;
	case NAT_PARSE_EMB_TRUNCATED:
	case NAT_PARSE_EMB_BAD:
		return DECAP_NEXT_nat_icmp_bad_embedded;
	default:
		return DECAP_NEXT_nat_l4_truncated;
	}
}

/* Phase 3 (before the bulk lookup) for softwire entry i whose B4 is known: its session key, or, for what needs no
 * session lookup of its own, nothing (phase 4 deals with it). */
static void session_key(struct decap_chunk *ch, unsigned i)
{
	struct decap_sw *e = &ch->sw[i];
	if (e->sw < 0 || e->parse != NAT_PARSE_OK ||
	    (e->pk.kind != NAT_KIND_PORTS && e->pk.kind != NAT_KIND_ICMP_QUERY))
		return;
	const struct nat_pkt *k = &e->pk;
	unsigned j = ch->n_lk++;
	e->lookup = (int16_t)j;
	ch->t[j] = (struct nat_tuple){.vrf = NAT_REALM_B4 | (uint32_t)e->sw, .proto = k->proto, .src = k->src,
				      .dst = k->dst, .sport = k->sport, .dport = k->dport};
	ch->side[j] = (uint8_t)nat_in_key_hash(&ch->key[j], &ch->hash[j], &ch->t[j]);
	ch->keyp[j] = &ch->key[j];
}

/* Phase 4 for a packet with a session lookup: track or open, clamp, rewrite. */
static rte_edge_t translate_lookup(struct decap_ctx *c, struct decap_chunk *ch, struct nat_burst *f,
				   struct decap_sw *e, unsigned j)
{
	struct nat_worker *nw = c->nw;
	const struct nat_pkt *k = &e->pk;
	uint8_t *ip = e->ip;
	struct ct_pkt cp;
	nat_ct_pkt(&cp, k->proto, ip + k->ihl, k->total_len - k->ihl, k->total_len);
	int32_t idx = nat_burst_session(f, nw, ch->key, ch->hash, ch->idx, j);
	if (idx >= 0) {
		int rc = nat_track(nw, idx, false, &cp, c->now);
		if (rc < 0)
			return nat_drop_edge(rc);
		if (rc == NAT_TRACK_RESTART) { /* a new SYN on a closed session: open anew */
			f->touched = true;
			nat_session_delete(nw, idx);
			idx = -1;
		}
	}
	if (idx < 0) {
		f->touched = true;
		idx = nat_in2out_open(nw, &e->a->lim, ch->b4k[e - ch->sw].addr, &ch->t[j], &ch->key[j], ch->hash[j],
				      ch->side[j], &cp, c->now);
		if (idx == NAT_PASS)
			return DECAP_NEXT_nat_proto_unsupported;
		if (idx < 0)
			return nat_drop_edge(idx);
	}
	const struct nat_mapping *mp = nat_sess_map(nw, idx);
	if (k->proto == NAT_PROTO_TCP && e->a->mss_clamp != 0 &&
	    nat_tcp_mss_clamp(ip + k->ihl, k->total_len - k->ihl, e->a->mss_clamp) == NAT_MSS_CLAMPED)
		cnt(c, DSLITE_CNT_mss_clamped_in);
	nat_xlat(ip, k, NAT_IN2OUT, mp->pub_addr, mp->pub_port);
	if (k->mf && !nat_frag_put(nw, ch->t[j].vrf, k->src, k->dst, k->frag_id, k->proto, 1, mp->pub_addr, k->dst,
				  mp->out_vrf, c->now))
		return DECAP_NEXT_nat_frag_table_full;
	return DECAP_NEXT_IP4_LOOKUP; /* counted as decapsulated (NAT's in2out counts nat4_in2out's packets) */
}

/* Phase 4 for a packet without a session lookup of its own: non-first fragments, other protocols, ICMP errors. */
static rte_edge_t translate_other(struct decap_ctx *c, struct decap_sw *e)
{
	struct nat_worker *nw = c->nw;
	const struct nat_pkt *k = &e->pk;
	uint32_t realm = NAT_REALM_B4 | (uint32_t)e->sw;
	if (k->kind == NAT_KIND_FRAG_LATER) {
		const struct nat_frag_ent *fe = nat_frag_get(nw, realm, k->src, k->dst, k->frag_id, k->proto, c->now);
		if (fe == NULL)
			return DECAP_NEXT_nat_frag_no_first;
		nat_xlat(e->ip, k, NAT_IN2OUT, fe->new_src, 0);
		cnt(c, DSLITE_CNT_inner_frag_translated);
		return DECAP_NEXT_IP4_LOOKUP;
	}
	if (k->kind != NAT_KIND_ICMP_ERROR)
		return DECAP_NEXT_nat_proto_unsupported;
	/* An inside host's error about a packet it received: the session is the quoted packet's (RFC 5508). */
	if (!k->emb.has_ports)
		return DECAP_NEXT_nat_icmp_bad_embedded;
	struct nat_tuple t = {.vrf = realm, .proto = k->emb.proto, .src = k->emb.dst, .dst = k->emb.src,
			      .sport = k->emb.dport, .dport = k->emb.sport};
	struct ct_key key;
	nat_in_key(&key, &t);
	int32_t idx = ct_lookup(nw->ct, &key, ct_key_hash(&key));
	if (idx < 0)
		return DECAP_NEXT_nat_icmp_no_session;
	const struct nat_mapping *mp = nat_sess_map(nw, idx);
	nat_xlat_icmp_error(e->ip, k, NAT_IN2OUT, mp->pub_addr, mp->pub_addr, mp->pub_port);
	return DECAP_NEXT_IP4_LOOKUP;
}

/* Phases 2 to 4 for the chunk's softwire packets. */
static void softwires(struct decap_ctx *c, struct decap_chunk *ch)
{
	struct nat_worker *nw = c->nw;
	dslite_b4_get_bulk(c->dw, ch->b4kp, ch->n_sw, c->now, ch->b4pos);
	for (unsigned i = 0; i < ch->n_sw; i++) {
		ch->sw[i].sw = ch->b4pos[i];
		session_key(ch, i);
	}
	struct nat_burst f = {.touched = false};
	if (ch->n_lk > 0) {
		ct_lookup_bulk(nw->ct, ch->keyp, ch->hash, ch->n_lk, ch->idx);
		/* the sessions are on their way (ct_lookup_bulk); their mappings next */
		for (unsigned j = 0; j < ch->n_lk; j++)
			if (ch->idx[j] >= 0)
				rte_prefetch0(nat_sess_map(nw, ch->idx[j]));
		nat_burst_start(&f, nw);
	}
	for (unsigned i = 0; i < ch->n_sw; i++) {
		struct decap_sw *e = &ch->sw[i];
		rte_edge_t edge;
		if (e->sw < 0)
			edge = DECAP_NEXT_dslite_b4_table_full;
		else if (e->parse != NAT_PARSE_OK)
			edge = parse_drop((enum nat_parse_err)e->parse);
		else if (e->lookup >= 0)
			edge = translate_lookup(c, ch, &f, e, (unsigned)e->lookup);
		else
			edge = translate_other(c, e);
		if (edge == DECAP_NEXT_IP4_LOOKUP) {
			c->dw->b4[e->sw].pkts_in++;
			rte_pktmbuf_adj(e->m, DSLITE_IP6_HDR);
			pkt_meta(e->m)->vrf = e->a->vrf;
			cnt(c, DSLITE_CNT_decapsulated);
		}
		emit(ch, edge, e->m);
	}
}

/* An ICMPv6 error about a softwire packet (RFC 6333 section 6): packet too big becomes ICMPv4 fragmentation
 * needed to the inner packet's sender (the remote host), quoting what it sent; the others are dropped. */
static rte_edge_t icmp6_error(struct decap_ctx *c, const struct dslite_aftr_rt *a, struct rte_mbuf *m,
			      const struct dslite_icmp6_err *e)
{
	if (e->type != 2 || c->nw == NULL || a->icmp_iface == IFACE_NONE)
		return DECAP_NEXT_dslite_icmp6_not_relayed;
	int32_t sw = dslite_b4_find(c->dw, a->slot, e->b4);
	if (sw < 0)
		return DECAP_NEXT_dslite_icmp6_not_relayed;
	struct nat_tuple t = {.vrf = NAT_REALM_B4 | (uint32_t)sw, .proto = e->proto, .src = e->dst, .dst = e->src,
			      .sport = e->dport, .dport = e->sport};
	struct ct_key key;
	nat_in_key(&key, &t);
	int32_t idx = e->has_ports ? ct_lookup(c->nw->ct, &key, ct_key_hash(&key)) : -1;
	if (idx < 0)
		return DECAP_NEXT_dslite_icmp6_not_relayed;
	const struct nat_mapping *mp = nat_sess_map(c->nw, idx);
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, e->inner_off);
	dslite_quote_restore(ip, e->inner_len, e, mp->pub_addr, mp->pub_port);
	rte_pktmbuf_adj(m, (uint16_t)e->inner_off); /* the quote is the packet icmp4_error answers */
	struct pkt_meta *pm = pkt_meta(m);
	pm->in_iface = a->icmp_iface; /* icmp4_error: source address and VRF of the error */
	pm->vrf = a->vrf;
	pkt_set_icmp(m, 3, 4, dslite_ptb_mtu4(e->mtu, a->mtu));
	cnt(c, DSLITE_CNT_icmp6_ptb_relayed);
	return DECAP_NEXT_ICMP4_ERROR;
}

/* One IPv6 packet of the transport VRF: its edge, or DECAP_HELD. */
static rte_edge_t decap_one(struct decap_ctx *c, struct decap_chunk *ch, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	rte_edge_t pass = feat_next_edge(FEAT_IP6_IN, (unsigned)dsl.feat_decap + 1, pm->vrf);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct dslite_aftr_rt *a = aftr_of(pm->vrf, p + 24);
	if (a == NULL) {
		cnt(c, DSLITE_CNT_passed);
		return pass;
	}
	uint8_t proto;
	size_t off;
	bool is_frag;
	uint16_t frag_off;
	if (ip6_walk_ext(p, len, &proto, &off, &is_frag, &frag_off) != IP6_EXT_OK)
		return p[6] == 44 || p[6] == NAT_PROTO_IPIP ? DECAP_NEXT_dslite_bad_ext : pass;
	if (proto == DSLITE_ICMP6 && !is_frag) {
		struct dslite_icmp6_err e;
		enum dslite_icmp6_rc rc = dslite_icmp6_parse(p, len, (uint32_t)off, a->addr, &e);
		if (rc == DSLITE_I6_PASS) {
			cnt(c, DSLITE_CNT_passed);
			return pass;
		}
		if (hand_off(c, m, e.b4))
			return DECAP_HELD;
		return rc == DSLITE_I6_OK ? icmp6_error(c, a, m, &e) : DECAP_NEXT_dslite_icmp6_not_relayed;
	}
	if (proto != NAT_PROTO_IPIP) {
		cnt(c, DSLITE_CNT_passed);
		return pass;
	}
	if (!b4_allowed(a, p + 8))
		return DECAP_NEXT_dslite_b4_unknown;
	if (hand_off(c, m, p + 8))
		return DECAP_HELD;
	if (is_frag) {
		if (p[6] != 44) /* other extension headers before the fragment header: not for rte_ip_frag */
			return DECAP_NEXT_dslite_bad_ext;
		cnt(c, DSLITE_CNT_frag_in);
		uint32_t absorbed;
		struct rte_mbuf *r = nf_reass_push(c->dw->reass, &c->dw->dr, m, rte_rdtsc(), &absorbed);
		death_row_flush(c, DECAP_NEXT_dslite_reass_failed);
		if (r == NULL)
			return DECAP_HELD;
		/* n fragments in, one packet out: the worker's accounting (rx + created = tx + drops + punted + absorbed) */
		c->w->pkts_absorbed += absorbed;
		cnt(c, DSLITE_CNT_reassembled);
		/* carry on with the reassembled packet in place of the fragment (the caller only knows the latter) */
		rte_edge_t e = softwire_prepare(c, ch, a, r);
		if (e != DECAP_QUEUED)
			emit(ch, e, r);
		return DECAP_HELD;
	}
	if (p[6] != NAT_PROTO_IPIP)
		return DECAP_NEXT_dslite_bad_ext;
	return softwire_prepare(c, ch, a, m);
}

static uint16_t decap_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *w = node_worker(node);
	struct dslite_worker *workers = __atomic_load_n(&dsl.workers, __ATOMIC_ACQUIRE);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	if (unlikely(workers == NULL || w->index >= dsl.n_workers)) {
		for (uint16_t i = 0; i < nb_objs; i++)
			rte_node_enqueue_x1(graph, node,
					    feat_next_edge(FEAT_IP6_IN, (unsigned)dsl.feat_decap + 1, pkt_meta(pkts[i])->vrf),
					    pkts[i]);
		return nb_objs;
	}
	struct nat_worker *nws = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	struct decap_ctx c = {
		.graph = graph,
		.node = node,
		.w = w,
		.dw = &workers[w->index],
		.nw = nws != NULL && w->index < nat.n_workers ? &nws[w->index] : NULL,
		.now = w->now_ms,
	};
	if (c.nw != NULL)
		c.nw->now_ms = c.now;
	struct decap_chunk ch;
	for (uint16_t d = 0; d < nb_objs; d += DECAP_CHUNK) {
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - d), (uint16_t)DECAP_CHUNK);
		ch.n_sw = ch.n_lk = ch.n_out = 0;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[d + i];
			if (i + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[d + i + 1], void *));
			rte_edge_t e = decap_one(&c, &ch, m);
			if (e != DECAP_HELD && e != DECAP_QUEUED)
				emit(&ch, e, m);
		}
		if (ch.n_sw > 0)
			softwires(&c, &ch);
		nf_flush_runs(graph, node, ch.out_m, ch.out_e, ch.n_out);
	}
	return nb_objs;
}

#define DECAP_NEXT_NAME(n, d) [DECAP_NEXT_##n] = DROP_NODE(n),

static struct rte_node_register dslite_decap_node = {
	.name = NODE_DSLITE_DECAP,
	.process = decap_process,
	.init = node_worker_init,
	.nb_edges = DECAP_NEXT_COUNT,
	.next_nodes =
		{
			NF_DSLITE_DROP_REASONS(DECAP_NEXT_NAME)
			NF_NAT_DROP_REASONS(DECAP_NEXT_NAME)
			[DECAP_NEXT_IP4_LOOKUP] = NODE_IP4_LOOKUP,
			[DECAP_NEXT_ICMP4_ERROR] = NODE_ICMP4_ERROR,
		},
};
RTE_NODE_REGISTER(dslite_decap_node);
