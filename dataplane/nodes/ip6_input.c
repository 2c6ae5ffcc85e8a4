/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip6_input: RFC 8200 header checks; multicast and link-local destinations are decided here because the FIB
 * cannot (fe80::/64 exists on every link): all-nodes and solicited-node multicast and our own link-local address
 * go to ip6_local (NDP, echo); other multicast is dropped; a link-local destination that is not ours is never
 * forwarded. Frames from a port that are plain unicast (ip6_input.h) skip this node: eth_input sends them to
 * ip6_lookup itself.
 */
#include <rte_ip.h>

#include "dataplane/nodes/ip6_input.h"

enum {
	IP6_IN_NEXT_LOOKUP,
	IP6_IN_NEXT_LOCAL,
	IP6_IN_NEXT_DROP_TRUNCATED,
	IP6_IN_NEXT_DROP_BAD_VERSION,
	IP6_IN_NEXT_DROP_BAD_LENGTH,
	IP6_IN_NEXT_DROP_MARTIAN_SRC,
	IP6_IN_NEXT_DROP_MARTIAN_DST,
	IP6_IN_NEXT_DROP_MCAST,
	IP6_IN_NEXT_DROP_LINKLOCAL,
	IP6_IN_NEXT_DROP_L2_GROUP,
	IP6_IN_NEXT_COUNT
};

static const rte_edge_t verdict_edge[] = {
	[IP6_OK] = IP6_IN_NEXT_LOOKUP,
	[IP6_TRUNCATED] = IP6_IN_NEXT_DROP_TRUNCATED,
	[IP6_BAD_VERSION] = IP6_IN_NEXT_DROP_BAD_VERSION,
	[IP6_BAD_LENGTH] = IP6_IN_NEXT_DROP_BAD_LENGTH,
	[IP6_MARTIAN_SRC] = IP6_IN_NEXT_DROP_MARTIAN_SRC,
	[IP6_MARTIAN_DST] = IP6_IN_NEXT_DROP_MARTIAN_DST,
};

static inline rte_edge_t ip6_classify(struct rte_mbuf *m)
{
	if (likely(ip6_input_plain(m)))
		return IP6_IN_NEXT_LOOKUP;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	enum ip6_verdict v = ip6_check(p, rte_pktmbuf_data_len(m));
	if (unlikely(v != IP6_OK))
		return verdict_edge[v];
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;
	uint32_t total = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (unlikely(rte_pktmbuf_data_len(m) > total))
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - total);
	const uint8_t *dst = ip->dst_addr;
	if (unlikely(ip6_is_multicast(dst))) {
		if (ip6_is_all_nodes(dst) || ip6_is_solicited_node(dst) || ip6_is_all_routers(dst))
			return IP6_IN_NEXT_LOCAL;
		return IP6_IN_NEXT_DROP_MCAST;
	}
	if (unlikely(pkt_meta(m)->flags & PKT_F_L2_GROUP))
		return IP6_IN_NEXT_DROP_L2_GROUP;
	if (unlikely(ip6_is_linklocal(dst))) {
		const struct iface *in = iface_get(pkt_meta(m)->in_iface);
		if (in != NULL && memcmp(dst, in->ip6_ll, 16) == 0)
			return IP6_IN_NEXT_LOCAL;
		return IP6_IN_NEXT_DROP_LINKLOCAL;
	}
	if (unlikely(feat_any(FEAT_IP6_IN, pkt_meta(m)->vrf)))
		return feat_next_edge(FEAT_IP6_IN, FEAT_FROM_SOURCE, pkt_meta(m)->vrf); /* network functions */
	return IP6_IN_NEXT_LOOKUP;
}

static uint16_t ip6_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	struct node_batch b;
	batch_start(graph, node, &b, IP6_IN_NEXT_LOOKUP, nb_objs);
	for (uint16_t i = 0; i < nb_objs; i++)
		batch_add(graph, node, &b, ip6_classify(pkts[i]), pkts[i]);
	batch_end(graph, node, &b);
	return nb_objs;
}

static struct rte_node_register ip6_input_node = {
	.name = NODE_IP6_INPUT,
	.process = ip6_input_process,
	.nb_edges = IP6_IN_NEXT_COUNT,
	.next_nodes =
		{
			[IP6_IN_NEXT_LOOKUP] = NODE_IP6_LOOKUP,
			[IP6_IN_NEXT_LOCAL] = NODE_IP6_LOCAL,
			[IP6_IN_NEXT_DROP_TRUNCATED] = DROP_NODE(ip6_truncated),
			[IP6_IN_NEXT_DROP_BAD_VERSION] = DROP_NODE(ip6_bad_version),
			[IP6_IN_NEXT_DROP_BAD_LENGTH] = DROP_NODE(ip6_bad_length),
			[IP6_IN_NEXT_DROP_MARTIAN_SRC] = DROP_NODE(ip6_martian_src),
			[IP6_IN_NEXT_DROP_MARTIAN_DST] = DROP_NODE(ip6_martian_dst),
			[IP6_IN_NEXT_DROP_MCAST] = DROP_NODE(ip6_mcast),
			[IP6_IN_NEXT_DROP_LINKLOCAL] = DROP_NODE(ip6_linklocal_fwd),
			[IP6_IN_NEXT_DROP_L2_GROUP] = DROP_NODE(l2_group_unicast_ip),
		},
};
RTE_NODE_REGISTER(ip6_input_node);
