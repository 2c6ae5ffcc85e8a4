/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dslite_encap: replies to B4s (dslite_int.h). nat4_out2in has translated the packet (destination = the inside
 * host) and sends it here with pm->icmp_info = its realm (NAT_REALM_B4 | softwire index); pm->vrf is still the
 * pool's VRF and pm->in_iface the outside interface (where icmp4_error sends its errors from). The inner TTL is decremented (the AFTR routes IPv4 into the softwire), the MSS of a SYN clamped,
 * then:
 * - IPv6 packet no bigger than the AFTR's mtu: IPv6 header added (AFTR -> B4, next header 4, hop limit 64);
 * - bigger, inner DF set: ICMPv4 fragmentation needed (mtu - 40) to the sender, quoting what it sent (the
 *   translation undone), through the core's icmp4_error node (RFC 6333 section 5.3: never fragment DF packets);
 * - bigger, DF clear: the IPv6 packet is fragmented (RFC 2473 section 7).
 * Then ip6_lookup in the transport VRF as the router's own packet (PKT_F_LOCAL_ORIGIN).
 */
#include <rte_byteorder.h>
#include <rte_graph_worker.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "dataplane/nodes/nodes.h"
#include "nf/dslite/dslite_int.h"
#include "nf/dslite/dslite_pkt.h"

enum {
#define ENCAP_NEXT_ENUM(n, d) ENCAP_NEXT_##n,
	NF_DSLITE_DROP_REASONS(ENCAP_NEXT_ENUM)
#undef ENCAP_NEXT_ENUM
	ENCAP_NEXT_IP6_LOOKUP,
	ENCAP_NEXT_ICMP4_ERROR,
	ENCAP_NEXT_COUNT
};

struct encap_ctx {
	struct rte_graph *graph;
	struct rte_node *node;
	struct worker *w;
	struct dslite_worker *dw;
	struct nat_worker *nw;
};

/*
 * Undo the out2in translation of the packet at ip (of softwire realm) so an ICMPv4 error quotes what the remote
 * sent: the mapping of the inside endpoint it now goes to names the public one. False when no error may be sent
 * for it (an ICMP error, a non-first fragment, another protocol) or the mapping is gone.
 */
static bool untranslate(struct encap_ctx *c, uint8_t *ip, uint32_t len, uint32_t realm)
{
	struct nat_pkt k;
	if (c->nw == NULL || nat_parse(ip, len, &k) != NAT_PARSE_OK ||
	    (k.kind != NAT_KIND_PORTS && k.kind != NAT_KIND_ICMP_QUERY))
		return false;
	struct nat_mkey mk = {.vrf = realm, .addr = k.dst, .port = k.dport, .proto = k.proto};
	int32_t mi = rte_hash_lookup(c->nw->map_in, &mk);
	if (mi < 0 || (uint32_t)mi >= c->nw->max_maps)
		return false;
	const struct nat_mapping *mp = &c->nw->maps[mi];
	nat_xlat(ip, &k, NAT_OUT2IN, mp->pub_addr, mp->pub_port);
	return true;
}

/* IPv6 fragments of the encapsulated m (DF clear, too big): each to ip6_lookup; consumes m. */
static void fragment(struct encap_ctx *c, struct rte_mbuf *m, const struct dslite_aftr_rt *a)
{
	struct rte_mbuf *frags[DSLITE_MAX_FRAGS_OUT];
	int n = rte_ipv6_fragment_packet(m, frags, DSLITE_MAX_FRAGS_OUT, dslite_frag_mtu(a->mtu), c->w->frag_direct,
					 c->w->frag_indirect);
	if (n < 0) {
		rte_node_enqueue_x1(c->graph, c->node, ENCAP_NEXT_dslite_encap_failed, m);
		return;
	}
	const struct pkt_meta *pm = pkt_meta(m);
	for (int i = 0; i < n; i++) {
		*pkt_meta(frags[i]) = *pm; /* the fragments' buffers come from other pools: the lookup needs vrf, flags */
		frags[i]->port = m->port;
	}
	rte_pktmbuf_free(m);
	c->w->pkts_created += (uint64_t)n - 1; /* one packet in, n out */
	c->dw->cnt[DSLITE_CNT_encap_fragmented]++;
	c->dw->cnt[DSLITE_CNT_encap_fragments] += (uint64_t)n;
	rte_node_enqueue(c->graph, c->node, ENCAP_NEXT_IP6_LOOKUP, (void **)frags, (uint16_t)n);
}

/* One reply: its edge, or UINT16_MAX when it left already (fragments). */
static rte_edge_t encap_one(struct encap_ctx *c, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	uint32_t realm = pm->icmp_info, sw = realm & ~NAT_REALM_B4;
	if (!(realm & NAT_REALM_B4) || sw >= c->dw->max_b4 || !c->dw->b4[sw].used)
		return ENCAP_NEXT_dslite_encap_no_b4;
	struct dslite_b4 *b4 = &c->dw->b4[sw];
	const struct dslite_aftr_rt *a = dslite_aftr_get(b4->aftr);
	if (a == NULL)
		return ENCAP_NEXT_dslite_encap_no_b4;
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	if (len < 20)
		return ENCAP_NEXT_dslite_encap_failed; /* not expected: out2in parsed it */
	uint32_t total = csum_rd16(ip + 2), ihl = (ip[0] & 0xfu) * 4;
	uint16_t fo = csum_rd16(ip + 6);

	if (unlikely(ip[8] <= 1)) { /* TTL: the AFTR forwards IPv4 into the softwire */
		if (!untranslate(c, ip, RTE_MIN(len, total), realm))
			return ENCAP_NEXT_dslite_too_big_no_icmp;
		pkt_set_icmp(m, 11, 0, 0);
		c->dw->cnt[DSLITE_CNT_ttl_expired_icmp]++;
		return ENCAP_NEXT_ICMP4_ERROR;
	}
	bool too_big = total + DSLITE_IP6_HDR > a->mtu;
	if (unlikely(too_big && (fo & 0x4000))) {
		if (!untranslate(c, ip, RTE_MIN(len, total), realm))
			return ENCAP_NEXT_dslite_too_big_no_icmp;
		pkt_set_icmp(m, 3, 4, (uint32_t)a->mtu - DSLITE_IP6_HDR); /* icmp4_error: from in_iface, in its VRF */
		c->dw->cnt[DSLITE_CNT_too_big_icmp]++;
		return ENCAP_NEXT_ICMP4_ERROR;
	}
	csum_field_apply(ip + 10, csum_delta16(csum_rd16(ip + 8), (uint16_t)(csum_rd16(ip + 8) - 0x100)), 0);
	ip[8]--;
	if (ip[9] == NAT_PROTO_TCP && a->mss_clamp != 0 && (fo & 0x1fff) == 0 && len > ihl &&
	    nat_tcp_mss_clamp(ip + ihl, RTE_MIN(len, total) - ihl, a->mss_clamp) == NAT_MSS_CLAMPED)
		c->dw->cnt[DSLITE_CNT_mss_clamped_out]++;

	uint8_t *ip6 = (uint8_t *)rte_pktmbuf_prepend(m, DSLITE_IP6_HDR);
	if (ip6 == NULL)
		return ENCAP_NEXT_dslite_encap_failed;
	if (nat_dslite_push(ip6, total, a->addr, b4->addr) != NAT_DS_OK)
		return ENCAP_NEXT_dslite_encap_failed;
	pm->vrf = a->tvrf;
	pm->flags |= PKT_F_LOCAL_ORIGIN;
	b4->pkts_out++;
	c->dw->cnt[DSLITE_CNT_encapsulated]++;
	if (too_big) {
		fragment(c, m, a);
		return UINT16_MAX;
	}
	return ENCAP_NEXT_IP6_LOOKUP;
}

static uint16_t encap_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *w = node_worker(node);
	struct dslite_worker *workers = __atomic_load_n(&dsl.workers, __ATOMIC_ACQUIRE);
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	if (unlikely(workers == NULL || w->index >= dsl.n_workers)) {
		rte_node_enqueue(graph, node, ENCAP_NEXT_dslite_encap_no_b4, objs, nb_objs);
		return nb_objs;
	}
	struct nat_worker *nws = __atomic_load_n(&nat.workers, __ATOMIC_ACQUIRE);
	struct encap_ctx c = {
		.graph = graph,
		.node = node,
		.w = w,
		.dw = &workers[w->index],
		.nw = nws != NULL && w->index < nat.n_workers ? &nws[w->index] : NULL,
	};
	for (uint16_t i = 0; i < nb_objs; i++) {
		rte_edge_t e = encap_one(&c, pkts[i]);
		if (e != UINT16_MAX)
			rte_node_enqueue_x1(graph, node, e, pkts[i]);
	}
	return nb_objs;
}

#define ENCAP_NEXT_NAME(n, d) [ENCAP_NEXT_##n] = DROP_NODE(n),

static struct rte_node_register dslite_encap_node = {
	.name = NODE_DSLITE_ENCAP,
	.process = encap_process,
	.init = node_worker_init,
	.nb_edges = ENCAP_NEXT_COUNT,
	.next_nodes =
		{
			NF_DSLITE_DROP_REASONS(ENCAP_NEXT_NAME)
			[ENCAP_NEXT_IP6_LOOKUP] = NODE_IP6_LOOKUP,
			[ENCAP_NEXT_ICMP4_ERROR] = NODE_ICMP4_ERROR,
		},
};
RTE_NODE_REGISTER(dslite_encap_node);
