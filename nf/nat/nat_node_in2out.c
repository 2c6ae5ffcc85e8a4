/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat4_in2out: NAT44 on the IPv4 forward arc (after the firewall, which sees the private addresses). A packet is
 * translated when its VRF is a NAT tenant, it came in on an interface of that VRF (not one out2in sent back
 * inside) and its next hop's interface is in the tenant pool's VRF; others go on untouched.
 *
 * A chunk of at most 64 packets: (1) parse, hand packets of another worker's subscriber to it, translate ICMP
 * errors (their session is looked up alone), build session keys; (2) one bulk session lookup, the sessions found and
 * their mappings prefetched; (3) track hits, open the misses (engine; nat_burst_session() keeps the bulk answers
 * true across opens and evictions), rewrite (nat_xlat.h); (4) non-first fragments, after their first fragment of the same
 * chunk (back to back on the wire) was translated in (3). A packet to a public address of the pool goes,
 * source translated, to nat4_out2in in the pool's VRF (hairpinning: the mapping's filtering applies there). Such
 * packets normally come from nat4_hairpin (the tenant's input arc, before the route lookup, marked with
 * pkt_meta.nh = NAT_NH_HAIRPIN), since the pool's VRF typically blackholes the pool prefix; the forward-arc path
 * stays for a tenant whose route reaches the pool's VRF interfaces anyway.
 *
 * Hot path: no lock, no syscall, no allocation; counters are this worker's.
 */
#include <rte_graph_worker.h>
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
#define IN_NEXT_ENUM(n, d) IN_NEXT_##n,
	NF_NAT_DROP_REASONS(IN_NEXT_ENUM)
#undef IN_NEXT_ENUM
	IN_NEXT_OUT2IN, /* hairpinning: the destination is a public address */
	IN_NEXT_LOOKUP, /* from nat4_hairpin but no longer a hairpin (configuration changed): route it */
	IN_NEXT_COUNT   /* the feature arc's edges follow (feat_edges_create) */
};
_Static_assert((int)IN_NEXT_nat_handoff_full == (int)NAT_DROP_nat_handoff_full, "drop edges first, in order");

static const rte_edge_t parse_drop[NAT_PARSE_ERR_COUNT] = {
	[NAT_PARSE_TRUNCATED] = NAT_DROP_nat_l4_truncated,     [NAT_PARSE_BAD_HDR] = NAT_DROP_nat_l4_truncated,
	[NAT_PARSE_L4_TRUNCATED] = NAT_DROP_nat_l4_truncated,  [NAT_PARSE_TINY_FRAG] = NAT_DROP_nat_l4_truncated,
	[NAT_PARSE_EMB_TRUNCATED] = NAT_DROP_nat_icmp_bad_embedded, [NAT_PARSE_EMB_BAD] = NAT_DROP_nat_icmp_bad_embedded,
};

struct in_chunk {
	struct nat_worker *w;
	uint64_t now;
	unsigned me;
	unsigned n_out, nl, nh, nlater;
	struct nat_burst burst; /* the bulk lookup's freshness in phase 3 */
	struct nat_pkt pk[NAT_CHUNK];
	const struct nat_tenant *ten[NAT_CHUNK];
	uint8_t lk[NAT_CHUNK];
	struct nat_tuple t[NAT_CHUNK];
	struct ct_key key[NAT_CHUNK];
	const struct ct_key *keyp[NAT_CHUNK];
	uint32_t hash[NAT_CHUNK];
	int32_t idx[NAT_CHUNK];
	uint8_t side[NAT_CHUNK];
	struct rte_mbuf *ho[NAT_CHUNK];
	uint16_t ho_owner[NAT_CHUNK];
	uint8_t later[NAT_CHUNK];       /* non-first fragments: after phase 3 (their first may be in this chunk) */
	const struct nat_tenant *later_ten[NAT_CHUNK];
	void *out_m[NAT_CHUNK];
	rte_edge_t out_e[NAT_CHUNK];
};

static inline void emit(struct in_chunk *c, rte_edge_t e, struct rte_mbuf *m)
{
	c->out_m[c->n_out] = m;
	c->out_e[c->n_out++] = e;
}

static inline rte_edge_t next_edge(uint32_t vrf)
{
	return feat_next_edge(FEAT_IP4_FWD, (unsigned)nat.feat_in2out + 1, vrf);
}

static inline uint8_t *l3(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *);
}

/* Translated: on to the next feature, or (destination a public address, hairpinning on) to out2in. A packet from
 * nat4_hairpin is known to be one already (for_nat() checked its destination): no second probe. */
static void done(struct in_chunk *c, struct rte_mbuf *m, const struct nat_tenant *ten, uint32_t dst)
{
	struct pkt_meta *pm = pkt_meta(m);
	c->w->cnt[NAT_CNT_in2out]++;
	if (pm->nh == NAT_NH_HAIRPIN ||
	    (ten->hairpinning &&
	     nat_addr_lookup(__atomic_load_n(&nat.addr_index, __ATOMIC_ACQUIRE), ten->out_vrf, dst) != NAT_NIL)) {
		c->w->cnt[NAT_CNT_hairpinned]++;
		pm->vrf = ten->out_vrf;
		emit(c, IN_NEXT_OUT2IN, m);
		return;
	}
	emit(c, next_edge(pm->vrf), m);
}

/* An ICMP error from inside about a packet a mapping let in: its session is the quoted packet's, reversed. */
static void icmp_error(struct in_chunk *c, struct rte_mbuf *m, const struct nat_pkt *k, const struct nat_tenant *ten)
{
	struct nat_tuple t = {.vrf = ten->realm, .proto = k->emb.proto, .src = k->emb.dst, .dst = k->emb.src,
			      .sport = k->emb.dport, .dport = k->emb.sport};
	struct ct_key key;
	int32_t idx = -1;
	if (k->emb.has_ports) {
		nat_in_key(&key, &t);
		idx = ct_lookup(c->w->ct, &key, ct_key_hash(&key));
	}
	if (idx < 0) {
		emit(c, NAT_DROP_nat_icmp_no_session, m);
		return;
	}
	const struct nat_mapping *mp = nat_sess_map(c->w, idx);
	/* the outer source becomes the public address too: an inside router's address must not leak either */
	nat_xlat_icmp_error(l3(m), k, NAT_IN2OUT, mp->pub_addr, mp->pub_addr, mp->pub_port);
	c->w->cnt[NAT_CNT_icmp_error_in2out]++;
	done(c, m, ten, k->dst);
}

/*
 * Is this packet for NAT? From the forward arc: a tenant's packet, received on one of its interfaces, whose next
 * hop is in the pool's VRF. From nat4_hairpin (pm->nh == NAT_NH_HAIRPIN, input arc, no route looked up): a
 * tenant's packet to a public address of its pool, hairpinning on (checked again: the configuration may have
 * changed on the way, e.g. through a hand-off ring); when it no longer is, it goes to ip4_lookup untouched.
 */
static bool for_nat(struct in_chunk *c, struct rte_mbuf *m, const struct nat_tenant *ten)
{
	struct pkt_meta *pm = pkt_meta(m);
	bool hairpin_entry = pm->nh == NAT_NH_HAIRPIN;
	const struct iface *in = iface_get(pm->in_iface);
	bool ok = ten != NULL && !(pm->flags & PKT_F_LOCAL_ORIGIN) && in != NULL && in->vrf == pm->vrf;
	if (ok && hairpin_entry)
		ok = ten->hairpinning && nat_addr_lookup(__atomic_load_n(&nat.addr_index, __ATOMIC_ACQUIRE),
							  ten->out_vrf, csum_rd32(l3(m) + 16)) != NAT_NIL;
	else if (ok) {
		const struct iface *out = iface_get(dp.nhs[pm->nh].iface);
		ok = out != NULL && out->vrf == ten->out_vrf;
	}
	if (!ok) {
		c->w->cnt[NAT_CNT_in2out_passed]++;
		emit(c, hairpin_entry ? IN_NEXT_LOOKUP : next_edge(pm->vrf), m);
	}
	return ok;
}

/* Phase 1: false when the packet is dealt with already. */
static bool prepare(struct in_chunk *c, struct rte_mbuf *m, unsigned i)
{
	struct pkt_meta *pm = pkt_meta(m);
	const struct nat_tenant *ten = nat_tenant_get(pm->vrf);
	if (!for_nat(c, m, ten))
		return false;
	struct nat_pkt *k = &c->pk[i];
	enum nat_parse_err rc = nat_parse(l3(m), rte_pktmbuf_data_len(m), k);
	if (unlikely(rc != NAT_PARSE_OK)) {
		emit(c, parse_drop[rc], m);
		return false;
	}
	if (nat.n_workers > 1) {
		uint32_t host = k->kind == NAT_KIND_ICMP_ERROR ? k->emb.dst : k->src;
		unsigned owner = nat_sub_owner(ten->realm, host) % nat.n_workers;
		if (owner != c->me) {
			c->ho[c->nh] = m;
			c->ho_owner[c->nh++] = (uint16_t)owner;
			return false;
		}
	}
	switch (k->kind) {
	case NAT_KIND_FRAG_LATER:
		c->later_ten[c->nlater] = ten;
		c->later[c->nlater++] = (uint8_t)i;
		return false;
	case NAT_KIND_OTHER:
		emit(c, NAT_DROP_nat_proto_unsupported, m);
		return false;
	case NAT_KIND_ICMP_ERROR:
		icmp_error(c, m, k, ten);
		return false;
	default:
		break;
	}
	unsigned j = c->nl++;
	c->lk[j] = (uint8_t)i;
	c->ten[j] = ten;
	c->t[j] = (struct nat_tuple){.vrf = ten->realm, .proto = k->proto, .src = k->src, .dst = k->dst,
				     .sport = k->sport, .dport = k->dport};
	c->side[j] = (uint8_t)nat_in_key_hash(&c->key[j], &c->hash[j], &c->t[j]);
	c->keyp[j] = &c->key[j];
	return true;
}

/* A non-first fragment follows its first fragment (translated earlier, or in phase 3 of this chunk). */
static void frag_later(struct in_chunk *c, struct rte_mbuf *m, const struct nat_pkt *k, const struct nat_tenant *ten)
{
	const struct nat_frag_ent *f = nat_frag_get(c->w, ten->realm, k->src, k->dst, k->frag_id, k->proto, c->now);
	if (f == NULL || f->dir != NAT_IN2OUT + 1) {
		emit(c, NAT_DROP_nat_frag_no_first, m);
		return;
	}
	nat_xlat(l3(m), k, NAT_IN2OUT, f->new_src, 0);
	c->w->cnt[NAT_CNT_frag_translated]++;
	done(c, m, ten, k->dst);
}

/* Phase 3 for lookup j. */
static void decide(struct in_chunk *c, struct rte_mbuf *m, unsigned j)
{
	const struct nat_pkt *k = &c->pk[c->lk[j]];
	const struct nat_tenant *ten = c->ten[j];
	struct nat_worker *w = c->w;
	struct ct_pkt cp;
	nat_ct_pkt(&cp, k->proto, l3(m) + k->ihl, (uint32_t)k->total_len - k->ihl, k->total_len);
	int32_t idx = nat_burst_session(&c->burst, w, c->key, c->hash, c->idx, j);
	if (idx >= 0) {
		int rc = nat_track(w, idx, false, &cp, c->now);
		if (rc == NAT_TRACK_RESTART) {
			c->burst.touched = true;
			nat_session_delete(w, idx);
			idx = -1;
		} else if (rc != 0) {
			emit(c, NAT_ERR_DROP(rc), m);
			return;
		}
	}
	if (idx < 0) {
		const struct nat_limits lim = {.pool = ten->pool, .filtering = ten->filtering,
					       .max_sessions = ten->max_sessions, .max_blocks = ten->max_blocks};
		c->burst.touched = true;
		idx = nat_in2out_open(w, &lim, NULL, &c->t[j], &c->key[j], c->hash[j], c->side[j], &cp, c->now);
		if (idx < 0) {
			emit(c, NAT_ERR_DROP(idx), m);
			return;
		}
	}
	const struct nat_mapping *mp = nat_sess_map(w, idx);
	nat_xlat(l3(m), k, NAT_IN2OUT, mp->pub_addr, mp->pub_port);
	if (unlikely(k->fragment) &&
	    !nat_frag_put(w, ten->realm, k->src, k->dst, k->frag_id, k->proto, NAT_IN2OUT + 1, mp->pub_addr, k->dst,
			  ten->realm, c->now)) {
		emit(c, NAT_DROP_nat_frag_table_full, m);
		return;
	}
	done(c, m, ten, k->dst);
}

static void hand_off(struct in_chunk *c)
{
	void *unsent[NAT_CHUNK];
	unsigned n_unsent;
	c->w->cnt[NAT_CNT_handoff_out] += nf_hand_off(c->ho, c->ho_owner, c->nh, nat_handoff_ring, unsent, &n_unsent);
	for (unsigned k = 0; k < n_unsent; k++)
		emit(c, NAT_DROP_nat_handoff_full, unsent[k]);
}

static void flush(struct rte_graph *graph, struct rte_node *node, struct in_chunk *c)
{
	nf_flush_runs(graph, node, c->out_m, c->out_e, c->n_out);
}

static void in2out_chunk(struct rte_graph *graph, struct rte_node *node, struct worker *wk, struct rte_mbuf **m,
			 uint16_t n)
{
	struct in_chunk c;
	c.w = &nat.workers[wk->index];
	c.now = wk->now_ms;
	c.me = wk->index;
	c.n_out = c.nl = c.nh = c.nlater = 0;
	c.w->now_ms = c.now;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		prepare(&c, m[i], i);
	}
	if (c.nl > 0) {
		ct_lookup_bulk(c.w->ct, c.keyp, c.hash, c.nl, c.idx); /* prefetches the sessions it finds */
		for (unsigned j = 0; j < c.nl; j++) /* and their mappings, which phase 3 reads */
			if (c.idx[j] >= 0)
				rte_prefetch0(nat_sess_map(c.w, c.idx[j]));
		nat_burst_start(&c.burst, c.w);
		for (unsigned j = 0; j < c.nl; j++)
			decide(&c, m[c.lk[j]], j);
	}
	for (unsigned f = 0; f < c.nlater; f++)
		frag_later(&c, m[c.later[f]], &c.pk[c.later[f]], c.later_ten[f]);
	if (c.nh > 0)
		hand_off(&c);
	flush(graph, node, &c);
}

static uint16_t in2out_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *wk = node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct nat_worker *workers = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	if (unlikely(workers == NULL || wk->index >= nat.n_workers)) {
		for (uint16_t i = 0; i < nb_objs; i++)
			rte_node_enqueue_x1(graph, node, next_edge(pkt_meta(pkts[i])->vrf), pkts[i]);
		return nb_objs;
	}
	for (uint16_t d = 0; d < nb_objs; d += NAT_CHUNK)
		in2out_chunk(graph, node, wk, pkts + d, RTE_MIN((uint16_t)(nb_objs - d), (uint16_t)NAT_CHUNK));
	return nb_objs;
}

#define IN_NEXT_NAME(n, d) [IN_NEXT_##n] = DROP_NODE(n),

static struct rte_node_register nat_in2out_node = {
	.name = NODE_NAT_IN2OUT,
	.process = in2out_process,
	.init = node_worker_init,
	.nb_edges = IN_NEXT_COUNT,
	.next_nodes =
		{
			NF_NAT_DROP_REASONS(IN_NEXT_NAME)
			[IN_NEXT_OUT2IN] = NODE_NAT_OUT2IN,
			[IN_NEXT_LOOKUP] = NODE_IP4_LOOKUP,
		},
};
RTE_NODE_REGISTER(nat_in2out_node);
