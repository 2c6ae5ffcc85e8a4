/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec4_out / ipsec6_out: inner IPv4 / IPv6 packets routed out of an interface of kind "ipsec" (from ip4_rewrite /
 * ip6_rewrite: TTL and tunnel MTU done, data at the inner IP header, pm->out_iface = the tunnel's interface).
 *
 * A chunk of at most 64 packets:
 *  1. the tunnel (by interface), its outer parameters and its outbound SA; MSS clamp on TCP SYNs;
 *  2. sequence numbers: one atomic fetch-add per run of packets of the same SA (any worker may send on any SA);
 *     numbers past the SA's last (2^32 - 1, or 2^64 - 1 with ESN) are refused and the SA marked exhausted;
 *  3. ESP layout (esp_encap_prepare: outer IPv4/IPv6, UDP with udp_encap, ESP header, IV, trailer);
 *  4. one crypto burst; the encrypted packet goes to ip4_lookup / ip6_lookup in the tunnel's transport VRF as a
 *     packet of the router's own (PKT_F_LOCAL_ORIGIN: no TTL decrement).
 */
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

struct out_chunk {
	struct ipsec_worker *w;
	struct worker *wk;
	unsigned me;
	unsigned n_out, n_sel, n_ops;
	/* packets with a usable SA, before their sequence numbers */
	struct rte_mbuf *sel_m[IPSEC_CHUNK];
	struct ipsec_sa *sel_sa[IPSEC_CHUNK];
	struct ipsec_tunnel *sel_t[IPSEC_CHUNK];
	const struct ipsec_tunnel_params *sel_p[IPSEC_CHUNK];
	uint64_t sel_seq[IPSEC_CHUNK];
	/* to encrypt */
	struct ipsec_crypto_op ops[IPSEC_CHUNK];
	uint8_t op_sel[IPSEC_CHUNK];
	uint32_t op_len[IPSEC_CHUNK]; /* inner bytes */
	void *out_m[IPSEC_CHUNK];
	rte_edge_t out_e[IPSEC_CHUNK];
};

static inline void emit(struct out_chunk *c, rte_edge_t e, struct rte_mbuf *m)
{
	c->out_m[c->n_out] = m;
	c->out_e[c->n_out++] = e;
}

/* 1. Tunnel and SA. */
static void select_sa(struct out_chunk *c, struct rte_mbuf *m)
{
	struct ipsec_tunnel *t = ipsec_tunnel_get(pkt_meta(m)->out_iface);
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
	if (p->mss != 0 && esp_mss_clamp(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), p->mss))
		c->w->cnt[IPSEC_CNT_mss_clamped]++;
	unsigned k = c->n_sel++;
	c->sel_m[k] = m;
	c->sel_sa[k] = sa;
	c->sel_t[k] = t;
	c->sel_p[k] = p;
	rte_prefetch0(&sa->seq_out);
}

/* 2. Sequence numbers for a run [a, b) of packets on one SA: one atomic add; 0 marks a refused packet. */
static void take_seqs(struct out_chunk *c, unsigned a, unsigned b)
{
	struct ipsec_sa *sa = c->sel_sa[a];
	uint64_t want = b - a, first = 0, avail = 0;
	if (likely(!__atomic_load_n(&sa->seq_exhausted, __ATOMIC_RELAXED))) {
		/* The counter holds the last number handed out: ours are first .. first + want - 1. */
		first = __atomic_fetch_add(&sa->seq_out, want, __ATOMIC_RELAXED) + 1;
		if (first <= sa->seq_limit && first != 0)
			avail = RTE_MIN(want, sa->seq_limit - first + 1);
		if (avail < want)
			__atomic_store_n(&sa->seq_exhausted, 1, __ATOMIC_RELAXED);
	}
	for (unsigned k = a; k < b; k++)
		c->sel_seq[k] = k - a < avail ? first + (k - a) : 0;
}

/* 3. The ESP layout of a packet with its number. */
static void prepare(struct out_chunk *c, unsigned k)
{
	struct rte_mbuf *m = c->sel_m[k];
	if (unlikely(c->sel_seq[k] == 0)) {
		c->sel_t[k]->stats[c->me].no_sa++;
		c->sel_sa[k]->stats[c->me].refused++;
		emit(c, IPSEC_DROP_ipsec_seq_exhausted, m);
		return;
	}
	unsigned j = c->n_ops;
	uint32_t len = rte_pktmbuf_data_len(m);
	enum esp_status st =
		esp_encap_prepare(m, c->sel_sa[k], c->sel_p[k], c->sel_seq[k], (uint16_t)c->w->ip_id++, &c->ops[j]);
	if (unlikely(st != ESP_OK)) {
		emit(c, ipsec_status_drop(st), m);
		return;
	}
	c->op_sel[j] = (uint8_t)k;
	c->op_len[j] = len;
	c->n_ops++;
}

/* 4. After the crypto burst. */
static void finish(struct out_chunk *c, unsigned j)
{
	unsigned k = c->op_sel[j];
	struct rte_mbuf *m = c->sel_m[k];
	if (unlikely(c->ops[j].status != IPSEC_CRYPTO_OK)) {
		emit(c, IPSEC_DROP_ipsec_crypto_error, m);
		return;
	}
	const struct ipsec_tunnel_params *p = c->sel_p[k];
	esp_encap_finish(m, p);
	struct ipsec_sa *sa = c->sel_sa[k];
	struct ipsec_tunnel_stats *ts = &c->sel_t[k]->stats[c->me];
	uint32_t len = c->op_len[j];
	sa->stats[c->me].packets++;
	sa->stats[c->me].bytes += len;
	ts->tx_packets++;
	ts->tx_bytes += len;
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

static void out_chunk(struct rte_graph *graph, struct rte_node *node, struct out_chunk *c, struct rte_mbuf **m,
		      unsigned n)
{
	c->n_out = c->n_sel = c->n_ops = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		select_sa(c, m[i]);
	}
	for (unsigned a = 0; a < c->n_sel;) {
		unsigned b = a + 1;
		while (b < c->n_sel && c->sel_sa[b] == c->sel_sa[a])
			b++;
		take_seqs(c, a, b);
		a = b;
	}
	for (unsigned k = 0; k < c->n_sel; k++)
		prepare(c, k);
	if (c->n_ops > 0) {
		ipsec_crypto_run(c->w->mb, c->ops, c->n_ops);
		for (unsigned j = 0; j < c->n_ops; j++)
			finish(c, j);
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
