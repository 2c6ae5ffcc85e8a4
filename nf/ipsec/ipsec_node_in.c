/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec_in: ESP (IPv4/IPv6 protocol 50) and ESP in UDP 4500 (RFC 3948) addressed to the router, from ip4_local /
 * ip6_local (data at the outer IP header, pm->vrf = the VRF it arrived in), and from ipsec_house (handed off).
 *
 * A chunk of at most 128 packets (IPSEC_CHUNK):
 *  1. parse the outer headers (esp_in_parse); NAT-T keepalives are absorbed, IKE (non-ESP marker) dropped; outer
 *     fragments go to the worker that reassembles their source's datagrams (ipsec_frag_owner), which goes on
 *     with the whole datagram once its last fragment is in;
 *  2. one bulk lookup of the SPIs; packets of an SA owned by another worker go to its ring (nf_hand_off) before
 *     anything touches the SA's window; the tunnel must exist, be up and use the VRF the packet arrived in;
 *  3. anti-replay check (read only), decryption laid out (esp_decap_prepare);
 *  4. one crypto burst (ICV verified);
 *  5. window update, loss estimate, trailer checks, peer move (follow_peer), MSS clamp, inner packet re-injected
 *     into ip4_input / ip6_input of the tunnel's VRF.
 * The outcome is the one of packets handled one at a time: a packet whose check could depend on an earlier packet
 * of the same SA still in flight in the burst (a duplicate of it, left of the window it would move, or with ESN a
 * high half its top would infer differently) waits for a second round, after the first round's window updates.
 * In order traffic never waits (each number is above every earlier one). A forged packet thus never costs a
 * genuine one its place: only verified packets move the window.
 * Counters: the tunnel interface's rx (dp worker ifc_stats); the SA's accepted packets and bytes on its owner's line,
 * its errors in its per-worker stats (a tunnel's counters are its SAs').
 */
#include <string.h>

#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/nodes/ip4_input.h"
#include "dataplane/nodes/ip6_input.h"
#include "lib/hdr/csum.h"
#include "nf/ipsec/ipsec_node.h"
#include "nf/nf_node.h"
#include "nf/nf_reass.h"

enum {
	IN_NEXT_IP4_INPUT = IPSEC_DROP_COUNT, /* drop edges first (enum ipsec_drop) */
	IN_NEXT_IP6_INPUT,
	IN_NEXT_IP4_LOOKUP, /* inner packets that pass ip4_input's checks in line (dataplane/nodes/ip4_input.h) */
	IN_NEXT_IP6_LOOKUP,
	IN_NEXT_IFACE_DOWN,
	IN_NEXT_COUNT
};

struct in_chunk {
	struct rte_graph *graph;
	struct rte_node *node;
	struct ipsec_worker *w;
	struct worker *wk;
	unsigned me;
	unsigned n_out, n_parsed, n_ops, n_ho, n_free;
	/* parsed packets, for the SPI lookup */
	struct rte_mbuf *pm[IPSEC_CHUNK];
	struct esp_in in[IPSEC_CHUNK];
	uint32_t spi[IPSEC_CHUNK];
	struct ipsec_sa *spi_sa[IPSEC_CHUNK]; /* the SA each SPI names (NULL: unknown SPI) */
	/* owned by this worker, tunnel checked: candidates of the current round, and those waiting for the next */
	unsigned n_cand, n_wait;
	uint8_t cand[IPSEC_CHUNK], wait[IPSEC_CHUNK];
	struct ipsec_sa *cand_sa[IPSEC_CHUNK];
	struct ipsec_tunnel *cand_t[IPSEC_CHUNK];
	const struct ipsec_tunnel_params *cand_p[IPSEC_CHUNK];
	/* SAs of the round (found by the SA's rx_round stamp and rx_slot, no search): their window top as the round
	 * began, as the packets in flight would leave it, and the list of those packets (op indexes, op_next) */
	uint32_t round;
	unsigned n_slots;
	struct ipsec_sa *slot_sa[IPSEC_CHUNK];
	uint64_t slot_top[IPSEC_CHUNK], slot_vtop[IPSEC_CHUNK];
	uint8_t slot_ops[IPSEC_CHUNK]; /* first op + 1; 0 none */
	/* to decrypt */
	struct ipsec_crypto_op ops[IPSEC_CHUNK];
	uint8_t op_in[IPSEC_CHUNK];   /* index in in[] / pm[] */
	uint8_t op_next[IPSEC_CHUNK]; /* next op + 1 on the same slot; 0 none */
	struct ipsec_sa *op_sa[IPSEC_CHUNK];
	struct ipsec_tunnel *op_t[IPSEC_CHUNK];
	uint16_t op_iface[IPSEC_CHUNK]; /* op_t's interface, kept here for prefetch_finish (no load of the tunnel) */
	const struct iface *op_ifc[IPSEC_CHUNK]; /* and its struct, read before the crypto burst (see decide) */
	const struct ipsec_tunnel_params *op_p[IPSEC_CHUNK];
	uint64_t op_seq[IPSEC_CHUNK];
	/* hand-off, absorbed, outputs */
	struct rte_mbuf *ho[IPSEC_CHUNK];
	uint16_t ho_owner[IPSEC_CHUNK];
	struct rte_mbuf *absorbed[IPSEC_CHUNK];
	void *out_m[IPSEC_CHUNK];
	rte_edge_t out_e[IPSEC_CHUNK];
};

static struct rte_ring *handoff_ring(unsigned owner)
{
	return ipsec.workers[owner].handoff;
}

static inline void emit(struct in_chunk *c, rte_edge_t e, struct rte_mbuf *m)
{
	c->out_m[c->n_out] = m;
	c->out_e[c->n_out++] = e;
}

/* Is the UDP datagram parsed into in (data at its outer IP header) addressed to port 4500? */
static inline bool to_natt_port(const struct rte_mbuf *m, const struct esp_in *in)
{
	const uint8_t *udp = rte_pktmbuf_mtod(m, const uint8_t *) + in->esp_off - UDP_HDR_LEN;
	return csum_rd16(udp + 2) == IPSEC_NATT_PORT;
}

/*
 * 1a. An outer fragment (data at its IP header): handed to the worker that reassembles its source's datagrams, or
 * into this worker's table. Returns the whole datagram, parsed into in (*st: the verdict), when this fragment was
 * its last one; else NULL (the fragment is held, handed off or dropped).
 */
static struct rte_mbuf *reassemble(struct in_chunk *c, struct rte_mbuf *m, struct esp_in *in, enum esp_status *st)
{
	struct ipsec_worker *w = c->w;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	bool v4 = (p[0] >> 4) == 4;
	/* rte_ip_frag takes an IPv6 fragment header only right after the IPv6 header */
	if (w->reass == NULL || (!v4 && p[6] != IPPROTO_FRAGMENT)) {
		emit(c, IPSEC_DROP_ipsec_fragment, m);
		return NULL;
	}
	unsigned owner = ipsec_frag_owner(p, ipsec.n_workers);
	if (owner != c->me) {
		c->ho[c->n_ho] = m;
		c->ho_owner[c->n_ho++] = (uint16_t)owner;
		return NULL;
	}
	w->cnt[IPSEC_CNT_frag_in]++;
	uint32_t absorbed;
	struct rte_mbuf *r = nf_reass_push(w->reass, &w->dr, m, rte_rdtsc(), &absorbed);
	if (w->dr.cnt > 0) { /* refused: the fragment, or the datagram it belonged to */
		rte_node_enqueue(c->graph, c->node, IPSEC_DROP_ipsec_reass_failed, (void **)w->dr.row,
				 (uint16_t)w->dr.cnt);
		w->dr.cnt = 0;
	}
	if (r == NULL)
		return NULL;
	/* n fragments in, one datagram on: the worker's accounting (rx + created = tx + drops + punted + absorbed) */
	c->wk->pkts_absorbed += absorbed;
	w->cnt[IPSEC_CNT_reassembled]++;
	if (!ipsec_make_linear(r)) {
		emit(c, IPSEC_DROP_ipsec_reass_too_big, r);
		return NULL;
	}
	*st = esp_in_parse(r, in);
	if (*st == ESP_OK && in->udp && !to_natt_port(r, in)) {
		emit(c, IPSEC_DROP_ipsec_reass_not_natt, r);
		return NULL;
	}
	return r;
}

/* 1. Outer headers. */
static void parse(struct in_chunk *c, struct rte_mbuf *m)
{
	unsigned i = c->n_parsed;
	if (unlikely(!ipsec_make_linear(m))) {
		emit(c, IPSEC_DROP_ipsec_no_room, m);
		return;
	}
	enum esp_status st = esp_in_parse(m, &c->in[i]);
	if (unlikely(st == ESP_ERR_FRAGMENT) && (m = reassemble(c, m, &c->in[i], &st)) == NULL)
		return;
	if (likely(st == ESP_OK)) {
		c->pm[i] = m;
		c->spi[i] = c->in[i].spi;
		c->n_parsed++;
		if (c->in[i].udp)
			c->w->cnt[IPSEC_CNT_udp_encap_rx]++;
		return;
	}
	if (st == ESP_ERR_KEEPALIVE) {
		/* RFC 3948 keepalive: consumed here, accounted as absorbed (rx = tx + drops + punted + absorbed). */
		c->absorbed[c->n_free++] = m;
		c->w->cnt[IPSEC_CNT_natt_keepalive]++;
		return;
	}
	emit(c, ipsec_status_drop(st), m);
}

/*
 * What classify and decide will read, fetched in three steps down the chain SA -> tunnel and window, each step's
 * line in cache when the next step reads it (a one-step prefetch just moved the stall onto its own loads: with
 * 1000 tunnels every link is a miss): the SA's first line and owner line (window header, counters); its tunnel's
 * first line (the params are on it); the window word of the packet's sequence number.
 */
#define PREFETCH_SA_AHEAD 6
#define PREFETCH_TUNNEL_AHEAD 4
#define PREFETCH_WORD_AHEAD 2
#define PREFETCH_DECIDE_AHEAD 4

/* Packet i has the SA of the packet before it: its lines are in (a run of one tunnel costs no prefetch work). */
static inline bool same_sa_as_previous(const struct in_chunk *c, unsigned i)
{
	return i > 0 && c->spi_sa[i] == c->spi_sa[i - 1];
}

static inline void prefetch_sa(const struct in_chunk *c, unsigned i)
{
	const struct ipsec_sa *sa = c->spi_sa[i];
	if (sa != NULL && !same_sa_as_previous(c, i)) {
		rte_prefetch0(sa);
		rte_prefetch0(&sa->rx_packets); /* the owner's line: counters, rx stamp, window top, n_words */
	}
}

static inline void prefetch_tunnel(const struct in_chunk *c, unsigned i)
{
	const struct ipsec_sa *sa = c->spi_sa[i];
	if (sa == NULL || same_sa_as_previous(c, i) || sa->owner != c->me)
		return;
	struct ipsec_tunnel *t = ipsec_tunnel_get(sa->iface);
	if (t != NULL)
		rte_prefetch0(t); /* its first line holds the params */
}

static inline void prefetch_window_word(const struct in_chunk *c, unsigned i)
{
	const struct ipsec_sa *sa = c->spi_sa[i];
	if (sa == NULL || same_sa_as_previous(c, i) || sa->owner != c->me)
		return;
	const struct ipsec_replay *r = &sa->replay;
	if (r->n_words != 0) {
		uint64_t full = (r->top & ~(uint64_t)UINT32_MAX) | c->in[i].seq; /* ESN: the likely high half */
		rte_prefetch0(&r->bits[(full >> 6) % r->n_words]);
	}
}

/* 2. The SA, its owner, its tunnel. */
static void classify(struct in_chunk *c, unsigned i, struct ipsec_sa *sa)
{
	struct rte_mbuf *m = c->pm[i];
	if (unlikely(sa == NULL || sa->dir != IPSEC_DIR_IN)) {
		emit(c, IPSEC_DROP_esp_unknown_spi, m);
		return;
	}
	if (sa->owner != c->me && sa->owner < ipsec.n_workers) {
		if (c->in[i].udp)
			c->w->cnt[IPSEC_CNT_udp_encap_rx]--; /* the owner counts it when it parses it again */
		c->ho[c->n_ho] = m;
		c->ho_owner[c->n_ho++] = sa->owner;
		return;
	}
	struct ipsec_tunnel *t = ipsec_tunnel_get(sa->iface);
	const struct ipsec_tunnel_params *p = t != NULL ? ipsec_tunnel_params_get(t) : NULL;
	if (unlikely(p == NULL)) {
		emit(c, IPSEC_DROP_esp_unknown_spi, m);
		return;
	}
	if (unlikely(pkt_meta(m)->vrf != p->transport_vrf)) {
		emit(c, IPSEC_DROP_esp_wrong_vrf, m);
		return;
	}
	if (unlikely(__atomic_load_n(&sa->expired, __ATOMIC_RELAXED))) {
		emit(c, IPSEC_DROP_ipsec_sa_expired, m);
		return;
	}
	unsigned k = c->n_cand++;
	c->cand[k] = (uint8_t)i;
	c->cand_sa[k] = sa;
	c->cand_t[k] = t;
	c->cand_p[k] = p;
}

/*
 * The round's slot of sa: the SA carries the round that last gave it a slot and which (owner-written fields: only
 * this worker decides for it). The slot's own SA is compared too: a stamp left by a round 2^32 rounds ago is not
 * trusted.
 */
static inline unsigned slot_of(struct in_chunk *c, struct ipsec_sa *sa)
{
	unsigned s = sa->rx_slot;
	if (likely(sa->rx_round == c->round && s < c->n_slots && c->slot_sa[s] == sa))
		return s;
	s = c->n_slots++;
	sa->rx_round = c->round;
	sa->rx_slot = (uint8_t)s;
	c->slot_sa[s] = sa;
	c->slot_top[s] = c->slot_vtop[s] = sa->replay.top;
	c->slot_ops[s] = 0;
	return s;
}

/* Is a packet of this round in flight with sequence number full on slot s? (Only the slot's own packets.) */
static bool in_flight(const struct in_chunk *c, unsigned s, uint64_t full)
{
	for (unsigned e = c->slot_ops[s]; e != 0; e = c->op_next[e - 1])
		if (c->op_seq[e - 1] == full)
			return true;
	return false;
}

static void replay_drop(struct in_chunk *c, struct ipsec_sa *sa, struct rte_mbuf *m)
{
	sa->stats[c->me].replay++;
	emit(c, IPSEC_DROP_esp_replay, m);
}

/* 3. The window's verdict (or wait for the next round), the decryption laid out. */
static void decide(struct in_chunk *c, unsigned k)
{
	unsigned i = c->cand[k];
	struct rte_mbuf *m = c->pm[i];
	const struct esp_in *in = &c->in[i];
	struct ipsec_sa *sa = c->cand_sa[k];
	const struct ipsec_replay *r = &sa->replay;
	unsigned s = slot_of(c, sa);
	uint64_t top = c->slot_top[s], vtop = c->slot_vtop[s], seq, vseq;
	bool valid = ipsec_replay_infer(r, top, in->seq, sa->esn, &seq);
	if (unlikely(sa->esn && vtop != top) &&
	    (ipsec_replay_infer(r, vtop, in->seq, true, &vseq) != valid || (valid && vseq != seq))) {
		c->wait[c->n_wait++] = (uint8_t)k; /* the packets in flight decide its high half */
		return;
	}
	if (!valid || ipsec_replay_check_full(r, seq) != IPSEC_REPLAY_OK) {
		replay_drop(c, sa, m); /* stays so whatever the packets in flight do */
		return;
	}
	/* Anti-replay off (window 0): no verdict depends on another packet (only ESN inference, above). */
	if (unlikely(seq <= vtop) && r->window != 0 && (vtop - seq >= r->window || in_flight(c, s, seq))) {
		c->wait[c->n_wait++] = (uint8_t)k; /* replayed or too old only if those in flight verify */
		return;
	}
	unsigned j = c->n_ops;
	enum esp_status st = esp_decap_prepare(m, in, sa, seq, &c->ops[j]);
	if (unlikely(st != ESP_OK)) {
		emit(c, ipsec_status_drop(st), m);
		return;
	}
	if (seq > vtop)
		c->slot_vtop[s] = seq;
	c->op_in[j] = (uint8_t)i;
	c->op_next[j] = c->slot_ops[s];
	c->slot_ops[s] = (uint8_t)(j + 1);
	c->op_sa[j] = sa;
	c->op_t[j] = c->cand_t[k];
	c->op_iface[j] = sa->iface; /* = the tunnel's: the SA's line is in, the tunnel's second is not */
	/* Read here, where the load's latency hides behind the next packets' work; read in prefetch_finish, right
	 * before its prefetch, it stalled (1000 tunnels: the pointer array is out of L1 after the crypto burst). One
	 * process call is one RCU read side: the interface read now is the one finish would have read. */
	c->op_ifc[j] = iface_get(sa->iface);
	c->op_p[j] = c->cand_p[k];
	c->op_seq[j] = seq;
	c->n_ops++;
}

static inline bool peer_moved(const struct esp_in *in, const struct ipsec_tunnel_params *p)
{
	if (in->family != p->family)
		return false; /* a tunnel keeps its outer family */
	if (memcmp(in->src, p->remote, p->family == 4 ? 4 : 16) != 0)
		return true;
	/* ESP in UDP on a tunnel without udp_encap: a NAT appeared (the move's udp = 1 switches it on) */
	return in->udp && (!p->udp_encap || in->src_port != p->remote_port);
}

/* Tell the control thread (once per millisecond per worker at most: it republishes the endpoint soon after). */
static void post_peer_move(struct in_chunk *c, const struct ipsec_tunnel *t, const struct ipsec_sa *sa,
			   const struct esp_in *in, const struct ipsec_tunnel_params *p)
{
	if (c->w->peer_posted_ms == c->wk->now_ms)
		return;
	c->w->peer_posted_ms = c->wk->now_ms;
	struct ipsec_peer_move mv = {.iface = t->iface, .port = in->udp ? in->src_port : 0, .spi = sa->spi,
				     .family = in->family, .udp = in->udp, .gen = p->gen};
	memcpy(mv.addr, in->src, sizeof(mv.addr));
	if (rte_ring_mp_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)) == 0)
		c->w->cnt[IPSEC_CNT_peer_moved]++;
	else
		c->w->cnt[IPSEC_CNT_peer_ring_full]++;
}

/* 5. After the crypto burst. */
static void finish(struct in_chunk *c, unsigned k)
{
	struct ipsec_crypto_op *op = &c->ops[k];
	unsigned i = c->op_in[k];
	struct rte_mbuf *m = c->pm[i];
	struct ipsec_sa *sa = c->op_sa[k];
	struct ipsec_tunnel *t = c->op_t[k];
	if (unlikely(op->status != IPSEC_CRYPTO_OK)) {
		if (op->status == IPSEC_CRYPTO_EAUTH) {
			sa->stats[c->me].icv_failed++; /* the tunnel's too (ipsec_tunnel_sum), as the counters below */
			emit(c, IPSEC_DROP_esp_icv_failed, m);
		} else {
			emit(c, IPSEC_DROP_ipsec_crypto_error, m);
		}
		return;
	}
	uint64_t lost;
	/* Only a packet newer than any seen may move the peer: an old one (replayed within the window, or late) from
	 * a former address must not take the tunnel back there. */
	bool newest = c->op_seq[k] > sa->replay.top;
	if (unlikely(ipsec_replay_update(&sa->replay, c->op_seq[k], &lost) != IPSEC_REPLAY_OK)) {
		replay_drop(c, sa, m); /* not expected: decide() let through only what sequential order would */
		return;
	}
	if (lost != 0)
		c->w->cnt[IPSEC_CNT_lost] += lost;
	uint8_t family;
	enum esp_status st = esp_decap_finish(m, &c->in[i], sa, &family);
	if (unlikely(st != ESP_OK)) {
		if (st == ESP_ERR_DUMMY) {
			sa->stats[c->me].dummy++; /* authenticated traffic flow confidentiality filler, not an error */
			c->w->cnt[IPSEC_CNT_dummy]++;
		} else if (st != ESP_ERR_ECN_NOT_ECT) {
			sa->stats[c->me].decrypt_errors++;
		}
		emit(c, ipsec_status_drop(st), m);
		return;
	}
	const struct ipsec_tunnel_params *p = c->op_p[k];
	if (unlikely(p->follow_peer) && newest && peer_moved(&c->in[i], p))
		post_peer_move(c, t, sa, &c->in[i], p);
	const struct iface *ifc = c->op_ifc[k];
	if (unlikely(ifc == NULL || !ifc->up)) {
		emit(c, IN_NEXT_IFACE_DOWN, m);
		return;
	}
	uint32_t len = rte_pktmbuf_data_len(m);
	if (p->mss != 0 && esp_mss_clamp(rte_pktmbuf_mtod(m, uint8_t *), len, p->mss))
		c->w->cnt[IPSEC_CNT_mss_clamped]++;
	struct pkt_meta *pm = pkt_meta(m);
	pm->in_iface = ifc->id;
	pm->vrf = ifc->vrf; /* the tunnel interface's VRF now (t->vrf is the control side's copy, refreshed by
			     * ipsec_cp_iface_changed) */
	pm->flags = (uint8_t)((pm->flags & (PKT_F_TRACED | PKT_F_DRY_RUN)) | PKT_F_META | PKT_F_L3);
	m->ol_flags = 0; /* the outer packet's offload results say nothing of the inner one */
	m->packet_type = 0;
	sa->rx_packets++; /* the owner's line, in since decide() */
	sa->rx_bytes += len;
	c->wk->ifc_stats[ifc->id].rx_packets++;
	c->wk->ifc_stats[ifc->id].rx_bytes += len;
	c->w->cnt[IPSEC_CNT_decrypted]++;
	/* The common inner packet skips a node hop, as from eth_input; the rest is ip4_input's / ip6_input's to name. */
	if (family == 4)
		emit(c, ip4_input_verdict(m) == IP4_OK ? IN_NEXT_IP4_LOOKUP : IN_NEXT_IP4_INPUT, m);
	else
		emit(c, ip6_input_plain(m) ? IN_NEXT_IP6_LOOKUP : IN_NEXT_IP6_INPUT, m);
}

/*
 * What finish will read and write for op j, a few ops ahead: the packet (mbuf, metadata, inner header), the tunnel's
 * interface (with 1000 tunnels that line alone was ~14 cycles/packet), its counters and the SA's owner line (window
 * and counters; the classify-time prefetches are long gone from L1 after a 128-packet crypto burst).
 */
#define PREFETCH_FINISH_AHEAD 4

static inline void prefetch_finish(const struct in_chunk *c, unsigned j)
{
	/* The packet's lines too: with a key per packet the burst's key schedules alone overflow L1. */
	struct rte_mbuf *m = c->pm[c->op_in[j]];
	rte_prefetch0(m);
	rte_prefetch0(pkt_meta(m));
	rte_prefetch0(c->ops[j].buf + c->ops[j].cipher_off); /* the inner header, decrypted in place */
	if (j > 0 && c->op_sa[j] == c->op_sa[j - 1])
		return;
	if (c->op_ifc[j] != NULL)
		rte_prefetch0(c->op_ifc[j]);
	rte_prefetch0(&c->wk->ifc_stats[c->op_iface[j]]);
	rte_prefetch0(&c->op_sa[j]->rx_packets); /* an address only: no load of the SA's first line */
}

static void in_chunk(struct rte_graph *graph, struct rte_node *node, struct in_chunk *c, struct rte_mbuf **m,
		     unsigned n)
{
	c->n_out = c->n_parsed = c->n_ho = c->n_free = c->n_cand = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		parse(c, m[i]);
	}
	if (c->n_parsed > 0) {
		ipsec_spi_find_bulk(ipsec_spi_get(), c->spi, c->n_parsed, c->spi_sa);
		unsigned np = c->n_parsed;
		for (unsigned i = 0; i < np && i < PREFETCH_SA_AHEAD; i++)
			prefetch_sa(c, i);
		for (unsigned i = 0; i < np && i < PREFETCH_TUNNEL_AHEAD; i++)
			prefetch_tunnel(c, i);
		for (unsigned i = 0; i < np && i < PREFETCH_WORD_AHEAD; i++)
			prefetch_window_word(c, i);
		for (unsigned i = 0; i < np; i++) {
			if (i + PREFETCH_SA_AHEAD < np)
				prefetch_sa(c, i + PREFETCH_SA_AHEAD);
			if (i + PREFETCH_TUNNEL_AHEAD < np)
				prefetch_tunnel(c, i + PREFETCH_TUNNEL_AHEAD);
			if (i + PREFETCH_WORD_AHEAD < np)
				prefetch_window_word(c, i + PREFETCH_WORD_AHEAD);
			classify(c, i, c->spi_sa[i]);
		}
	}
	if (c->n_ho > 0) {
		void *unsent[IPSEC_CHUNK];
		unsigned n_unsent;
		c->w->cnt[IPSEC_CNT_handoff_out] +=
			nf_hand_off(c->ho, c->ho_owner, c->n_ho, handoff_ring, unsent, &n_unsent);
		for (unsigned k = 0; k < n_unsent; k++)
			emit(c, IPSEC_DROP_ipsec_handoff_full, unsent[k]);
	}
	while (c->n_cand > 0) {
		c->n_ops = c->n_wait = c->n_slots = 0;
		if (unlikely(++c->w->round == 0))
			c->w->round = 1; /* 0 = "no round" in a fresh SA */
		c->round = c->w->round;
		for (unsigned k = 0; k < c->n_cand; k++) {
			/* The SA's owner line (window top, round stamp), fetched by classify but, with 1000 tunnels,
			 * pushed out of L1 by the rest of the chunk's classify: an address only, no load. */
			if (k + PREFETCH_DECIDE_AHEAD < c->n_cand)
				rte_prefetch0(&c->cand_sa[k + PREFETCH_DECIDE_AHEAD]->rx_packets);
			decide(c, k);
		}
		if (c->n_ops > 0) {
			ipsec_crypto_run(c->w->mb, c->ops, c->n_ops);
			for (unsigned j = 0; j < c->n_ops && j < PREFETCH_FINISH_AHEAD; j++)
				prefetch_finish(c, j);
			for (unsigned j = 0; j < c->n_ops; j++) {
				if (j + PREFETCH_FINISH_AHEAD < c->n_ops)
					prefetch_finish(c, j + PREFETCH_FINISH_AHEAD);
				finish(c, j);
			}
		}
		/* Those that waited, in their order, against the windows as the round left them. */
		unsigned n = 0;
		for (unsigned w = 0; w < c->n_wait; w++) {
			unsigned k = c->wait[w];
			c->cand[n] = c->cand[k];
			c->cand_sa[n] = c->cand_sa[k];
			c->cand_t[n] = c->cand_t[k];
			c->cand_p[n] = c->cand_p[k];
			n++;
		}
		c->n_cand = n;
	}
	if (c->n_free > 0) {
		rte_pktmbuf_free_bulk(c->absorbed, c->n_free);
		c->wk->pkts_absorbed += c->n_free;
	}
	nf_flush_runs(graph, node, c->out_m, c->out_e, c->n_out);
}

static uint16_t ipsec_in_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *wk = node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct ipsec_worker *w = ipsec_worker_of(wk);
	if (unlikely(w == NULL)) {
		rte_node_enqueue(graph, node, IPSEC_DROP_esp_unknown_spi, objs, nb_objs);
		return nb_objs;
	}
	struct in_chunk c;
	c.graph = graph;
	c.node = node;
	c.w = w;
	c.wk = wk;
	c.me = wk->index;
	for (uint16_t d = 0; d < nb_objs; d += IPSEC_CHUNK)
		in_chunk(graph, node, &c, pkts + d, RTE_MIN((unsigned)(nb_objs - d), (unsigned)IPSEC_CHUNK));
	return nb_objs;
}

static struct rte_node_register ipsec_in_node = {
	.name = NODE_IPSEC_IN,
	.process = ipsec_in_process,
	.init = node_worker_init,
	.nb_edges = IN_NEXT_COUNT,
	.next_nodes =
		{
			NF_IPSEC_DROP_REASONS(IPSEC_DROP_EDGE_NAME)
			[IN_NEXT_IP4_INPUT] = NODE_IP4_INPUT,
			[IN_NEXT_IP6_INPUT] = NODE_IP6_INPUT,
			[IN_NEXT_IP4_LOOKUP] = NODE_IP4_LOOKUP,
			[IN_NEXT_IP6_LOOKUP] = NODE_IP6_LOOKUP,
			[IN_NEXT_IFACE_DOWN] = DROP_NODE(iface_down),
		},
};
RTE_NODE_REGISTER(ipsec_in_node);
