/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec4_out / ipsec6_out: inner IPv4 / IPv6 packets routed out of an interface of kind "ipsec" (from ip4_rewrite /
 * ip6_rewrite: TTL and tunnel MTU done, data at the inner IP header, pm->out_iface = the tunnel's interface).
 *
 * A chunk of at most 128 packets (IPSEC_CHUNK), taken in steps of 32 (OUT_STEP):
 *  1. the tunnel (by interface), its outer parameters and its outbound SA; head/tail room checked (before any
 *     sequence number is taken: a number taken and not sent looks like loss to the peer); MSS clamp on TCP SYNs;
 *  2. sequence numbers: with several workers the step's packets grouped by SA, one atomic fetch-add per SA; with
 *     one, each packet's number read and written back on its SA's first line; numbers past the SA's limit
 *     (sequence space, or the exact hard packet lifetime) are refused and the SA marked exhausted;
 *  3. ESP layout (esp_encap_prepare: outer IPv4/IPv6, UDP with udp_encap, ESP header, IV, trailer);
 *  4. AES-GCM packets are encrypted and finished within the step; AES-CBC+HMAC packets wait for one crypto burst of
 *     the whole chunk (the library's lanes want many jobs; GCM runs one packet at a time and gains from the step's
 *     packets, tunnels and SAs still being in L1: with 1000 tunnels, 128-packet steps measured ~15 cycles/packet
 *     slower). The encrypted packet goes to ip4_lookup / ip6_lookup in the tunnel's transport VRF as a packet of
 *     the router's own (PKT_F_LOCAL_ORIGIN: no TTL decrement).
 * Packets leave in their order except that a chunk's CBC packets follow its GCM ones (an SA's packets keep theirs).
 */
#include <string.h>

#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "nf/ipsec/ipsec_node.h"
#include "nf/nf_node.h"

enum {
	OUT_NEXT_IP4_LOOKUP = IPSEC_DROP_COUNT, /* drop edges first (enum ipsec_drop) */
	OUT_NEXT_IP6_LOOKUP,
	OUT_NEXT_COUNT
};

#define OUT_STEP 32   /* packets per step (stages 1-3, GCM encryption) */
#define GRP_HASH 64   /* direct-mapped slots for at most OUT_STEP SAs */

/* What finish() needs of an encrypted packet. */
struct out_op {
	struct rte_mbuf *m;
	struct ipsec_sa *sa;
	const struct ipsec_tunnel_params *p;
	uint32_t len; /* inner bytes */
};

struct out_chunk {
	struct ipsec_worker *w;
	struct worker *wk;
	unsigned me;
	unsigned n_out, n_sel, n_grp, n_gcm, n_cbc;
	struct ipsec_tunnel *chunk_t[IPSEC_CHUNK]; /* the tunnel of each of the chunk's packets (NULL: none) */
	/* the step's packets with a usable SA, before their sequence numbers */
	struct rte_mbuf *sel_m[OUT_STEP];
	struct ipsec_sa *sel_sa[OUT_STEP];
	uint8_t sel_grp[OUT_STEP];
	struct ipsec_tunnel *sel_t[OUT_STEP];
	const struct ipsec_tunnel_params *sel_p[OUT_STEP];
	/* the step's SAs: packets wanting a number, then the next number to give and how many are left */
	struct ipsec_sa *grp_sa[OUT_STEP];
	uint32_t grp_want[OUT_STEP];
	uint64_t grp_next[OUT_STEP], grp_avail[OUT_STEP];
	uint8_t grp_hash[GRP_HASH]; /* group index + 1 by SA pointer hash; 0 free */
	/* to encrypt: the step's GCM packets; the chunk's CBC packets */
	struct ipsec_crypto_op gcm_ops[OUT_STEP];
	struct out_op gcm[OUT_STEP];
	struct ipsec_crypto_op cbc_ops[IPSEC_CHUNK];
	struct out_op cbc[IPSEC_CHUNK];
	void *out_m[IPSEC_CHUNK];
	rte_edge_t out_e[IPSEC_CHUNK];
};

static inline void emit(struct out_chunk *c, rte_edge_t e, struct rte_mbuf *m)
{
	c->out_m[c->n_out] = m;
	c->out_e[c->n_out++] = e;
}

static inline uint8_t group_of(struct out_chunk *c, struct ipsec_sa *sa);

/*
 * Prefetch in two stages so that no packet waits on a miss: a step ahead the tunnel's first line (its pointer comes
 * from the tunnel table, which stays cached; the line holds the params too); half a step later, with it in, its
 * outbound SA and the SA's lines this node writes. The requests run on across the chunk's steps (a step that
 * started them afresh waited on two misses in a row, its first tunnel and then that tunnel's SA). The selection
 * loop takes ~11 cycles a packet, so the distances must be long: with 1000 tunnels the lines come from L3 or
 * beyond once the packet stream has gone through L2 (1420 B: 6 / 3 packets ahead left ~30 cycles/packet of stalls
 * in the selection; 32 / 16 took ~25 off ipsec4_out, 64 B ~7; one tunnel does no prefetch work).
 */
#define PREFETCH_TUNNEL_AHEAD 32
#define PREFETCH_SA_AHEAD 16

/* Packet i of the chunk goes to the tunnel of the packet before it: its lines are in (one tunnel: no prefetch work). */
static inline bool same_tunnel_as_previous(const struct out_chunk *c, unsigned i)
{
	return i > 0 && c->chunk_t[i] == c->chunk_t[i - 1];
}

static inline void prefetch_tunnel(const struct out_chunk *c, unsigned i)
{
	struct ipsec_tunnel *t = c->chunk_t[i];
	if (t == NULL || same_tunnel_as_previous(c, i))
		return;
	rte_prefetch0(t);
}

static inline void prefetch_sa(const struct out_chunk *c, unsigned i)
{
	struct ipsec_tunnel *t = c->chunk_t[i];
	if (t == NULL || same_tunnel_as_previous(c, i))
		return;
	struct ipsec_sa *sa = ipsec_tunnel_out_sa_get(t);
	if (sa == NULL)
		return;
	rte_prefetch0(sa); /* its first line holds the sequence counter too (and the packet counters of one worker) */
	if (ipsec.n_workers > 1)
		rte_prefetch0(&sa->stats[c->me]);
}

/* 1. Tunnel (t: the packet's, NULL for none) and SA. */
static void select_sa(struct out_chunk *c, struct rte_mbuf *m, struct ipsec_tunnel *t)
{
	const struct ipsec_tunnel_params *p = t != NULL ? ipsec_tunnel_params_get(t) : NULL;
	if (unlikely(p == NULL)) {
		emit(c, IPSEC_DROP_ipsec_no_tunnel, m);
		return;
	}
	struct ipsec_sa *sa = ipsec_tunnel_out_sa_get(t);
	if (unlikely(sa == NULL)) {
		t->stats[c->me].no_sa++;
		emit(c, IPSEC_DROP_ipsec_no_sa, m);
		return;
	}
	if (unlikely(__atomic_load_n(&sa->expired, __ATOMIC_RELAXED))) {
		t->stats[c->me].no_sa++;
		sa->stats[c->me].refused++;
		emit(c, IPSEC_DROP_ipsec_sa_expired, m);
		return;
	}
	if (unlikely(!ipsec_make_linear(m))) {
		emit(c, IPSEC_DROP_ipsec_no_room, m);
		return;
	}
	enum esp_status st = esp_encap_check(m, sa, p);
	if (unlikely(st != ESP_OK)) {
		emit(c, ipsec_status_drop(st), m);
		return;
	}
	if (p->mss != 0 && esp_mss_clamp(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), p->mss))
		c->w->cnt[IPSEC_CNT_mss_clamped]++;
	unsigned k = c->n_sel++;
	c->sel_m[k] = m;
	c->sel_sa[k] = sa;
	c->sel_t[k] = t;
	c->sel_p[k] = p;
	c->sel_grp[k] = ipsec.n_workers > 1 ? group_of(c, sa) : 0; /* one worker: no groups (seq_take_one) */
}

/*
 * The step's group of sa: one sequence number reservation per SA per step. Direct-mapped by SA pointer, no probing
 * (with a thousand tunnels each packet has its own SA, and a probe loop cost more than the reservations it saves):
 * an SA whose slot another SA took since gets a new group, a second reservation later in the step. Its packets'
 * numbers still rise in packet order: groups reserve in creation order, and a slot never goes back to an older group.
 */
static inline uint8_t group_of(struct out_chunk *c, struct ipsec_sa *sa)
{
	unsigned g = c->n_grp - 1;
	if (likely(c->n_grp > 0 && c->grp_sa[g] == sa)) {
		c->grp_want[g]++;
		return (uint8_t)g;
	}
	unsigned h = (unsigned)(((uintptr_t)sa >> 6) * 0x9e3779b1u) >> 26; /* 6 bits */
	unsigned e = c->grp_hash[h];
	if (e != 0 && c->grp_sa[e - 1] == sa) {
		c->grp_want[e - 1]++;
		return (uint8_t)(e - 1);
	}
	g = c->n_grp++;
	c->grp_hash[h] = (uint8_t)(g + 1);
	c->grp_sa[g] = sa;
	c->grp_want[g] = 1;
	return (uint8_t)g;
}

/*
 * 2. Sequence numbers for the group g: one atomic add (a plain one when this is the only worker); a worker adds at
 * most one chunk past the limit before it sees the SA exhausted, and the limit leaves that headroom below 2^64
 * (ipsec_sa_seq_space): seq_out never wraps.
 */
static void take_seqs(struct out_chunk *c, unsigned g)
{
	struct ipsec_sa *sa = c->grp_sa[g];
	uint64_t want = c->grp_want[g], first = 0, avail = 0;
	if (likely(!__atomic_load_n(&sa->seq_exhausted, __ATOMIC_RELAXED))) {
		/* The counter holds the last number handed out: ours are first .. first + want - 1. */
		if (ipsec.n_workers == 1) {
			first = __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED) + 1;
			__atomic_store_n(&sa->seq_out, first - 1 + want, __ATOMIC_RELAXED);
		} else {
			first = __atomic_fetch_add(&sa->seq_out, want, __ATOMIC_RELAXED) + 1;
		}
		if (first <= sa->seq_limit && first != 0)
			avail = RTE_MIN(want, sa->seq_limit - first + 1);
		if (avail < want)
			__atomic_store_n(&sa->seq_exhausted, 1, __ATOMIC_RELAXED);
	}
	c->grp_next[g] = first;
	c->grp_avail[g] = avail;
}

/*
 * 2, with one worker: the packet's number straight from its SA, nobody else writing it. Grouping would cost more
 * than it saves when each packet has its own SA (a thousand tunnels: ~25 instructions a packet); numbers past the
 * limit are refused and the SA marked exhausted, as take_seqs() does. False: no number for the packet.
 */
static inline bool seq_take_one(struct ipsec_sa *sa, uint64_t *seq)
{
	if (unlikely(__atomic_load_n(&sa->seq_exhausted, __ATOMIC_RELAXED)))
		return false;
	uint64_t s = __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED) + 1;
	if (unlikely(s > sa->seq_limit || s == 0)) {
		__atomic_store_n(&sa->seq_exhausted, 1, __ATOMIC_RELAXED);
		return false;
	}
	__atomic_store_n(&sa->seq_out, s, __ATOMIC_RELAXED);
	*seq = s;
	return true;
}

/* The packet's sequence number: from its group's reservation, or (one worker) from its SA. */
static inline bool seq_of(struct out_chunk *c, unsigned k, uint64_t *seq)
{
	if (ipsec.n_workers == 1)
		return seq_take_one(c->sel_sa[k], seq);
	unsigned g = c->sel_grp[k];
	if (unlikely(c->grp_avail[g] == 0))
		return false;
	c->grp_avail[g]--;
	*seq = c->grp_next[g]++;
	return true;
}

/* 3. The ESP layout of a packet with its number. */
static void prepare(struct out_chunk *c, unsigned k)
{
	struct rte_mbuf *m = c->sel_m[k];
	uint64_t seq;
	if (unlikely(!seq_of(c, k, &seq))) {
		struct ipsec_sa *sa = c->sel_sa[k];
		c->sel_t[k]->stats[c->me].no_sa++;
		sa->stats[c->me].refused++;
		/* past the hard packet lifetime (exact: the limit), or out of sequence numbers */
		emit(c, sa->seq_limit_hard ? IPSEC_DROP_ipsec_sa_expired : IPSEC_DROP_ipsec_seq_exhausted, m);
		return;
	}
	struct ipsec_sa *sa = c->sel_sa[k];
	bool gcm = ipsec_alg_is_gcm(sa->alg);
	unsigned j = gcm ? c->n_gcm : c->n_cbc;
	struct ipsec_crypto_op *op = gcm ? &c->gcm_ops[j] : &c->cbc_ops[j];
	struct out_op *o = gcm ? &c->gcm[j] : &c->cbc[j];
	uint32_t len = rte_pktmbuf_data_len(m);
	enum esp_status st = esp_encap_prepare(m, sa, c->sel_p[k], seq, (uint16_t)c->w->ip_id++, op);
	if (unlikely(st != ESP_OK)) {
		emit(c, ipsec_status_drop(st), m);
		return;
	}
	*o = (struct out_op){.m = m, .sa = sa, .p = c->sel_p[k], .len = len};
	if (gcm) {
		/* the step's first GCM key requested while the rest of the step is laid out (the crypto run requests
		 * each following op's one op ahead) */
		if (j == 0)
			ipsec_crypto_prefetch(c->w->mb, op);
		c->n_gcm++;
	} else {
		c->n_cbc++;
	}
}

/* 4. After encryption. */
static void finish(struct out_chunk *c, const struct ipsec_crypto_op *op, const struct out_op *o)
{
	struct rte_mbuf *m = o->m;
	if (unlikely(op->status != IPSEC_CRYPTO_OK)) {
		emit(c, IPSEC_DROP_ipsec_crypto_error, m);
		return;
	}
	const struct ipsec_tunnel_params *p = o->p;
	esp_encap_finish(m, p);
	/* the tunnel's too (ipsec_tunnel_sum); one worker counts on the SA's first line, written for the sequence */
	if (ipsec.n_workers == 1) {
		o->sa->tx_packets++;
		o->sa->tx_bytes += o->len;
	} else {
		o->sa->stats[c->me].packets++;
		o->sa->stats[c->me].bytes += o->len;
	}
	c->w->cnt[IPSEC_CNT_encrypted]++;
	if (p->udp_encap)
		c->w->cnt[IPSEC_CNT_udp_encap_tx]++;
	struct pkt_meta *pm = pkt_meta(m);
	pm->vrf = p->transport_vrf;
	pm->flags |= PKT_F_LOCAL_ORIGIN | PKT_F_META | PKT_F_L3;
	m->ol_flags = 0;
	m->packet_type = 0;
	emit(c, p->family == 4 ? OUT_NEXT_IP4_LOOKUP : OUT_NEXT_IP6_LOOKUP, m);
}

/*
 * Stages 1-3 for the chunk's packets from .. to - 1 (at most OUT_STEP), and the GCM ones encrypted and finished;
 * m and n: the chunk's packets (the prefetches look ahead into the next step).
 */
static void out_step(struct out_chunk *c, struct rte_mbuf **m, unsigned from, unsigned to, unsigned n)
{
	c->n_sel = c->n_grp = c->n_gcm = 0;
	if (ipsec.n_workers > 1)
		memset(c->grp_hash, 0, sizeof(c->grp_hash));
	/* prefetch ahead: the packet's data two packets ahead, the tunnel and SA lines in two stages */
	for (unsigned i = from; i < to; i++) {
		if (i + 2 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 2], void *));
		if (i + PREFETCH_TUNNEL_AHEAD < n)
			prefetch_tunnel(c, i + PREFETCH_TUNNEL_AHEAD);
		if (i + PREFETCH_SA_AHEAD < n)
			prefetch_sa(c, i + PREFETCH_SA_AHEAD);
		select_sa(c, m[i], c->chunk_t[i]);
	}
	for (unsigned g = 0; g < c->n_grp; g++) /* none with one worker */
		take_seqs(c, g);
	for (unsigned k = 0; k < c->n_sel; k++)
		prepare(c, k);
	if (c->n_gcm > 0) {
		ipsec_crypto_run(c->w->mb, c->gcm_ops, c->n_gcm);
		for (unsigned j = 0; j < c->n_gcm; j++)
			finish(c, &c->gcm_ops[j], &c->gcm[j]);
	}
}

static void out_chunk(struct rte_graph *graph, struct rte_node *node, struct out_chunk *c, struct rte_mbuf **m,
		      unsigned n)
{
	c->n_out = c->n_cbc = 0;
	/* The chunk's tunnels first (the table stays cached), then the first packets' data, tunnels and SAs requested;
	 * the steps keep the requests going from there. */
	for (unsigned i = 0; i < n; i++)
		c->chunk_t[i] = ipsec_tunnel_get(pkt_meta(m[i])->out_iface);
	for (unsigned i = 0; i < n && i < 2; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (unsigned i = 0; i < n && i < PREFETCH_TUNNEL_AHEAD; i++)
		prefetch_tunnel(c, i);
	for (unsigned i = 0; i < n && i < PREFETCH_SA_AHEAD; i++)
		prefetch_sa(c, i);
	for (unsigned s = 0; s < n; s += OUT_STEP)
		out_step(c, m, s, RTE_MIN(n, s + OUT_STEP), n);
	if (c->n_cbc > 0) {
		ipsec_crypto_run(c->w->mb, c->cbc_ops, c->n_cbc);
		for (unsigned j = 0; j < c->n_cbc; j++)
			finish(c, &c->cbc_ops[j], &c->cbc[j]);
	}
	nf_flush_runs(graph, node, c->out_m, c->out_e, c->n_out);
}

static uint16_t ipsec_out_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *wk = node_worker(node);
	struct ipsec_worker *w = ipsec_worker_of(wk);
	if (unlikely(w == NULL)) {
		rte_node_enqueue(graph, node, IPSEC_DROP_ipsec_no_tunnel, objs, nb_objs);
		return nb_objs;
	}
	struct out_chunk c;
	c.w = w;
	c.wk = wk;
	c.me = wk->index;
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	for (uint16_t d = 0; d < nb_objs; d += IPSEC_CHUNK)
		out_chunk(graph, node, &c, pkts + d, RTE_MIN((unsigned)(nb_objs - d), (unsigned)IPSEC_CHUNK));
	return nb_objs;
}

#define OUT_NODE(sym, node_name)                                                                                      \
	static struct rte_node_register sym = {                                                                        \
		.name = node_name,                                                                                     \
		.process = ipsec_out_process,                                                                          \
		.init = node_worker_init,                                                                              \
		.nb_edges = OUT_NEXT_COUNT,                                                                            \
		.next_nodes =                                                                                          \
			{                                                                                              \
				NF_IPSEC_DROP_REASONS(IPSEC_DROP_EDGE_NAME)[OUT_NEXT_IP4_LOOKUP] = NODE_IP4_LOOKUP,    \
				[OUT_NEXT_IP6_LOOKUP] = NODE_IP6_LOOKUP,                                               \
			},                                                                                             \
	};                                                                                                             \
	RTE_NODE_REGISTER(sym)

/* Both families of inner packet are encapsulated alike: the outer family is the tunnel's. */
OUT_NODE(ipsec4_out_node, NODE_IPSEC4_OUT);
OUT_NODE(ipsec6_out_node, NODE_IPSEC6_OUT);
