/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat4_out2in: NAT44 on the IPv4 input arc of each pool's VRF, before the route lookup. A packet to a public
 * address of a mapping has its destination translated, its VRF set to the inside realm's, and goes on to
 * ip4_lookup (routing and the firewall see the inside view); a DS-Lite subscriber's goes to dslite_encap. Packets
 * to no public address, or to a public port with no mapping nor static mapping, pass untouched.
 *
 * A chunk of at most 64 packets: (1) parse, hand packets of another worker's port block to it, translate ICMP
 * errors (their session looked up alone), build outside keys; (2) one bulk lookup of the outside-key hash; (3) hits
 * tracked, misses opened by the engine (filtering), rewrite (nat_xlat.h); (4) non-first fragments, after their
 * first fragment of the same chunk was translated in (3).
 * Hairpinned packets arrive from nat4_in2out with their source already translated and go the same way.
 */
#include <rte_graph_worker.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "nf/nat/nat_engine.h"
#include "nf/nat/nat_xlat.h"
#include "nf/nf_node.h"

#define NAT_CHUNK 64

enum {
#define OUT_NEXT_ENUM(n, d) OUT_NEXT_##n,
	NF_NAT_DROP_REASONS(OUT_NEXT_ENUM)
#undef OUT_NEXT_ENUM
	OUT_NEXT_LOOKUP, /* translated: routed in the inside VRF */
	OUT_NEXT_COUNT   /* the feature arc's edges follow; DS-Lite appends dslite_encap (nat.b4_edge) */
};
_Static_assert((int)OUT_NEXT_nat_handoff_full == (int)NAT_DROP_nat_handoff_full, "drop edges first, in order");

struct out_chunk {
	struct nat_worker *w;
	uint64_t now;
	unsigned me;
	unsigned n_out, nl, nh, nlater;
	struct nat_pkt pk[NAT_CHUNK];
	uint8_t lk[NAT_CHUNK];
	struct nat_tuple t[NAT_CHUNK];
	struct nat_okey key[NAT_CHUNK];
	const void *keyp[NAT_CHUNK];
	void *data[NAT_CHUNK];
	uint64_t hits;
	struct rte_mbuf *ho[NAT_CHUNK];
	uint16_t ho_owner[NAT_CHUNK];
	uint8_t later[NAT_CHUNK]; /* non-first fragments: after phase 3 (their first may be in this chunk) */
	void *out_m[NAT_CHUNK];
	rte_edge_t out_e[NAT_CHUNK];
};

static inline void emit(struct out_chunk *c, rte_edge_t e, struct rte_mbuf *m)
{
	c->out_m[c->n_out] = m;
	c->out_e[c->n_out++] = e;
}

static inline rte_edge_t pass_edge(uint32_t vrf)
{
	return feat_next_edge(FEAT_IP4_IN, (unsigned)nat.feat_out2in + 1, vrf);
}

static inline uint8_t *l3(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

static void pass(struct out_chunk *c, struct rte_mbuf *m)
{
	c->w->cnt[NAT_CNT_out2in_passed]++;
	emit(c, pass_edge(pkt_meta(m)->vrf), m);
}

/* Translated: inside, in the realm's VRF (NAT44) or to the B4's softwire (DS-Lite). */
static void done(struct out_chunk *c, struct rte_mbuf *m, uint32_t realm)
{
	c->w->cnt[NAT_CNT_out2in]++;
	if (unlikely(realm & NAT_REALM_B4)) {
		/* dslite_encap reads the softwire from icmp_info (free until an ICMP error node); vrf stays the pool's */
		pkt_meta(m)->icmp_info = realm;
		emit(c, nat.has_b4_edge ? nat.b4_edge : (rte_edge_t)NAT_DROP_nat_no_softwire, m);
		return;
	}
	pkt_meta(m)->vrf = realm;
	emit(c, OUT_NEXT_LOOKUP, m);
}

/*
 * The worker owning public port `port` of address slot. A static mapping's public endpoint belongs to its inside
 * host's subscriber worker, wherever the port lies: the inside host's own packets go there (nat4_in2out), so both
 * directions of its flows meet on one worker (a static port inside the dynamic range sits in a reserved block,
 * whose block owner means nothing). Any other port: its block's worker. -1 when nothing can be mapped there.
 */
static int port_owner(uint32_t slot, uint32_t vrf, uint8_t proto, uint32_t addr, uint16_t port)
{
	const struct nat_paddr *p = nat_paddr_get(slot);
	if (p == NULL)
		return -1;
	const struct nat_static_rt *st =
		nat_static_by_out(__atomic_load_n(&nat.statics, __ATOMIC_ACQUIRE), vrf, proto, addr, port);
	if (st != NULL)
		return (int)(nat_sub_owner(st->realm, st->in_addr) % nat.n_workers);
	return nat_ports_owner(p->port_lo, p->block_size, p->n_blocks, nat.n_workers, port);
}

static void icmp_error(struct out_chunk *c, struct rte_mbuf *m, const struct nat_pkt *k)
{
	uint32_t vrf = pkt_meta(m)->vrf;
	/* the quoted packet left through the mapping: its source is the public endpoint */
	struct nat_okey ok = {.vrf = vrf, .pub_addr = k->emb.src, .rem_addr = k->emb.dst, .pub_port = k->emb.sport,
			      .rem_port = k->emb.dport, .proto = k->emb.proto};
	int32_t idx = k->emb.has_ports ? nat_out_lookup(c->w, &ok) : -1;
	if (idx < 0) {
		emit(c, NAT_DROP_nat_icmp_no_session, m);
		return;
	}
	const struct nat_mapping *mp = nat_sess_map(c->w, idx);
	nat_xlat_icmp_error(l3(m), k, NAT_OUT2IN, mp->in_addr, mp->in_addr, mp->in_port);
	c->w->cnt[NAT_CNT_icmp_error_out2in]++;
	done(c, m, mp->realm);
}

/* No port: it follows its first fragment, translated on this worker (earlier, or in phase 3 of this chunk), or
 * handed to its owner (then it goes there too, behind it on the owner's ring). */
static void frag_later(struct out_chunk *c, struct rte_mbuf *m, const struct nat_pkt *k)
{
	const struct nat_frag_ent *f =
		nat_frag_get(c->w, pkt_meta(m)->vrf, k->src, k->dst, k->frag_id, k->proto, c->now);
	if (f != NULL && f->dir == NAT_FRAG_HANDED && f->new_vrf < nat.n_workers && f->new_vrf != c->me) {
		c->ho[c->nh] = m; /* after its first fragment, on the same ring */
		c->ho_owner[c->nh++] = (uint16_t)f->new_vrf;
		return;
	}
	if (f == NULL || f->dir != NAT_OUT2IN + 1) {
		emit(c, NAT_DROP_nat_frag_no_first, m);
		return;
	}
	nat_xlat(l3(m), k, NAT_OUT2IN, f->new_dst, 0);
	c->w->cnt[NAT_CNT_frag_translated]++;
	done(c, m, f->new_vrf);
}

static bool prepare(struct out_chunk *c, struct rte_mbuf *m, unsigned i)
{
	struct pkt_meta *pm = pkt_meta(m);
	struct nat_pkt *k = &c->pk[i];
	if (unlikely(pm->flags & PKT_F_LOCAL_ORIGIN)) {
		pass(c, m);
		return false;
	}
	enum nat_parse_err rc = nat_parse(l3(m), rte_pktmbuf_data_len(m), k);
	uint32_t slot = nat_addr_lookup(__atomic_load_n(&nat.addr_index, __ATOMIC_ACQUIRE), pm->vrf, k->dst);
	if (slot == NAT_NIL && rc != NAT_PARSE_TRUNCATED && rc != NAT_PARSE_BAD_HDR) {
		pass(c, m); /* not to a public address */
		return false;
	}
	if (unlikely(rc != NAT_PARSE_OK)) {
		emit(c, rc == NAT_PARSE_EMB_TRUNCATED || rc == NAT_PARSE_EMB_BAD ? NAT_DROP_nat_icmp_bad_embedded
										     : NAT_DROP_nat_l4_truncated,
		     m);
		return false;
	}
	if (k->kind == NAT_KIND_FRAG_LATER) {
		c->later[c->nlater++] = (uint8_t)i;
		return false;
	}
	if (k->kind == NAT_KIND_OTHER) {
		emit(c, NAT_DROP_nat_proto_unsupported, m);
		return false;
	}
	bool err = k->kind == NAT_KIND_ICMP_ERROR;
	if (nat.n_workers > 1) {
		int owner = err ? (k->emb.has_ports ? port_owner(slot, pm->vrf, k->emb.proto, k->emb.src, k->emb.sport) : -1)
				: port_owner(slot, pm->vrf, k->proto, k->dst, k->dport);
		if (owner < 0) {
			if (err)
				emit(c, NAT_DROP_nat_icmp_no_session, m);
			else
				pass(c, m);
			return false;
		}
		if ((unsigned)owner != c->me) {
			/* a first fragment: its later fragments (no port) are sent the same way; table full: they drop */
			if (unlikely(k->fragment) && !err)
				nat_frag_put(c->w, pm->vrf, k->src, k->dst, k->frag_id, k->proto, NAT_FRAG_HANDED, 0, 0,
					     (uint32_t)owner, c->now);
			c->ho[c->nh] = m;
			c->ho_owner[c->nh++] = (uint16_t)owner;
			return false;
		}
	}
	if (err) {
		icmp_error(c, m, k);
		return false;
	}
	unsigned j = c->nl++;
	c->lk[j] = (uint8_t)i;
	c->t[j] = (struct nat_tuple){.vrf = pm->vrf, .proto = k->proto, .src = k->src, .dst = k->dst,
				     .sport = k->sport, .dport = k->dport};
	nat_out_key(&c->key[j], &c->t[j]);
	c->keyp[j] = &c->key[j];
	return true;
}

static void decide(struct out_chunk *c, struct rte_mbuf *m, unsigned j)
{
	const struct nat_pkt *k = &c->pk[c->lk[j]];
	struct nat_worker *w = c->w;
	struct ct_pkt cp;
	nat_ct_pkt(&cp, k->proto, l3(m) + k->ihl, (uint32_t)k->total_len - k->ihl, k->total_len);
	/* looked up again when missed: an earlier packet of this chunk may have opened it */
	int32_t idx = (c->hits >> j) & 1 ? (int32_t)(uintptr_t)c->data[j] : (j > 0 ? nat_out_lookup(w, &c->key[j]) : -1);
	if (idx >= 0) {
		int rc = nat_track(w, idx, true, &cp, c->now);
		if (rc == NAT_TRACK_RESTART) {
			nat_session_delete(w, idx);
			for (unsigned j2 = j + 1; j2 < c->nl; j2++)
				c->hits &= ~(1ull << j2); /* look again: their session may have gone */
			idx = -1;
		} else if (rc != 0) {
			emit(c, NAT_ERR_DROP(rc), m);
			return;
		}
	}
	if (idx < 0) {
		idx = nat_out2in_open(w, &c->t[j], &cp, c->now);
		if (idx == NAT_PASS) {
			pass(c, m);
			return;
		}
		if (idx < 0) {
			emit(c, NAT_ERR_DROP(idx), m);
			return;
		}
	}
	const struct nat_mapping *mp = nat_sess_map(w, idx);
	uint32_t vrf = pkt_meta(m)->vrf;
	nat_xlat(l3(m), k, NAT_OUT2IN, mp->in_addr, mp->in_port);
	if (unlikely(k->fragment) && !nat_frag_put(w, vrf, k->src, k->dst, k->frag_id, k->proto, NAT_OUT2IN + 1,
						   k->src, mp->in_addr, mp->realm, c->now)) {
		emit(c, NAT_DROP_nat_frag_table_full, m);
		return;
	}
	done(c, m, mp->realm);
}

static void hand_off(struct out_chunk *c)
{
	void *unsent[NAT_CHUNK];
	unsigned n_unsent;
	c->w->cnt[NAT_CNT_handoff_out] += nf_hand_off(c->ho, c->ho_owner, c->nh, nat_handoff_ring, unsent, &n_unsent);
	for (unsigned k = 0; k < n_unsent; k++)
		emit(c, NAT_DROP_nat_handoff_full, unsent[k]);
}

static void flush(struct rte_graph *graph, struct rte_node *node, struct out_chunk *c)
{
	nf_flush_runs(graph, node, c->out_m, c->out_e, c->n_out);
}

static void out2in_chunk(struct rte_graph *graph, struct rte_node *node, struct worker *wk, struct rte_mbuf **m,
			 uint16_t n)
{
	struct out_chunk c;
	c.w = &nat.workers[wk->index];
	c.now = wk->now_ms;
	c.me = wk->index;
	c.n_out = c.nl = c.nh = c.nlater = 0;
	c.hits = 0;
	c.w->now_ms = c.now;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		prepare(&c, m[i], i);
	}
	if (c.nl > 0) {
		rte_hash_lookup_bulk_data(c.w->sess_out, c.keyp, c.nl, &c.hits, c.data);
		for (unsigned j = 0; j < c.nl; j++) {
			if ((c.hits >> j) & 1) {
				const uint8_t *s = (const uint8_t *)ct_session(c.w->ct, (int32_t)(uintptr_t)c.data[j]);
				rte_prefetch0(s);
				rte_prefetch0(s + RTE_CACHE_LINE_SIZE);
			}
		}
		for (unsigned j = 0; j < c.nl; j++)
			decide(&c, m[c.lk[j]], j);
	}
	for (unsigned f = 0; f < c.nlater; f++)
		frag_later(&c, m[c.later[f]], &c.pk[c.later[f]]);
	if (c.nh > 0)
		hand_off(&c);
	flush(graph, node, &c);
}

static uint16_t out2in_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *wk = node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct nat_worker *workers = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	if (unlikely(workers == NULL || wk->index >= nat.n_workers)) {
		for (uint16_t i = 0; i < nb_objs; i++)
			rte_node_enqueue_x1(graph, node, pass_edge(pkt_meta(pkts[i])->vrf), pkts[i]);
		return nb_objs;
	}
	for (uint16_t d = 0; d < nb_objs; d += NAT_CHUNK)
		out2in_chunk(graph, node, wk, pkts + d, RTE_MIN((uint16_t)(nb_objs - d), (uint16_t)NAT_CHUNK));
	return nb_objs;
}

#define OUT_NEXT_NAME(n, d) [OUT_NEXT_##n] = DROP_NODE(n),

static struct rte_node_register nat_out2in_node = {
	.name = NODE_NAT_OUT2IN,
	.process = out2in_process,
	.init = node_worker_init,
	.nb_edges = OUT_NEXT_COUNT,
	.next_nodes =
		{
			NF_NAT_DROP_REASONS(OUT_NEXT_NAME)
			[OUT_NEXT_LOOKUP] = NODE_IP4_LOOKUP,
		},
};
RTE_NODE_REGISTER(nat_out2in_node);
