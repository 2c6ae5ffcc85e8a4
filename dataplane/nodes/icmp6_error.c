/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp6_error: ICMPv6 errors (RFC 4443): quotes as much of the packet as fits in the minimum MTU of 1280, sent
 * from the incoming interface's global address (link-local when it has none), routed in its VRF. Never for an
 * ICMPv6 error, a multicast destination (except "packet too big", 2.4(e)) or an unspecified/multicast source.
 */
#include <rte_ip.h>

#include "dataplane/nodes/icmp_ratelimit.h"
#include "dataplane/nodes/ip6_util.h"
#include "lib/hdr/ip_checks.h"

enum {
	ICMP6_ERR_NEXT_LOOKUP,
	ICMP6_ERR_NEXT_DROP_TTL,
	ICMP6_ERR_NEXT_DROP_SUPPRESSED,
	ICMP6_ERR_NEXT_DROP_RATE,
	ICMP6_ERR_NEXT_DROP_NO_SOURCE,
	ICMP6_ERR_NEXT_COUNT
};

#define ICMP6_ERR_MAX_LEN 1280
#define ICMP6_HDR_LEN 8

static rte_edge_t icmp6_build(struct worker *w, struct rte_mbuf *m)
{
	static const uint8_t unspecified[16];
	struct pkt_meta *pm = pkt_meta(m);
	const struct rte_ipv6_hdr *orig = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	rte_edge_t suppressed = pm->icmp_type == 3 ? ICMP6_ERR_NEXT_DROP_TTL : ICMP6_ERR_NEXT_DROP_SUPPRESSED;

	if (ip6_is_multicast(orig->src_addr) || memcmp(orig->src_addr, unspecified, 16) == 0)
		return suppressed;
	if (ip6_is_multicast(orig->dst_addr) && pm->icmp_type != 2)
		return suppressed;
	uint8_t proto;
	size_t off;
	bool frag;
	uint16_t frag_off;
	if (ip6_walk_ext((const uint8_t *)orig, rte_pktmbuf_data_len(m), &proto, &off, &frag, &frag_off) ==
		    IP6_EXT_OK &&
	    proto == IPPROTO_ICMPV6 && off < rte_pktmbuf_data_len(m) &&
	    *((const uint8_t *)orig + off) < 128 && frag_off == 0)
		return suppressed; /* an ICMPv6 error itself */
	const struct iface *in = iface_get(pm->in_iface);
	if (in == NULL)
		return ICMP6_ERR_NEXT_DROP_NO_SOURCE;
	if (!icmp_error_allowed(w))
		return ICMP6_ERR_NEXT_DROP_RATE;

	uint8_t dst[16];
	memcpy(dst, orig->src_addr, 16);
	const uint32_t hdrs = sizeof(struct rte_ipv6_hdr) + ICMP6_HDR_LEN;
	uint32_t quoted = rte_pktmbuf_pkt_len(m);
	if (quoted > ICMP6_ERR_MAX_LEN - hdrs)
		quoted = ICMP6_ERR_MAX_LEN - hdrs;
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - quoted);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)rte_pktmbuf_prepend(m, hdrs);
	if (ip == NULL)
		return ICMP6_ERR_NEXT_DROP_SUPPRESSED;
	uint8_t *icmp = (uint8_t *)(ip + 1);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(ICMP6_HDR_LEN + quoted);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, ip6_is_linklocal(dst) ? in->ip6_ll : in->ip6_primary, 16);
	memcpy(ip->dst_addr, dst, 16);
	icmp[0] = pm->icmp_type;
	icmp[1] = pm->icmp_code;
	icmp[2] = icmp[3] = 0;
	uint32_t info = rte_cpu_to_be_32(pm->icmp_info); /* MTU for "packet too big" */
	memcpy(icmp + 4, &info, 4);
	uint32_t ulen = ICMP6_HDR_LEN + quoted;
	uint16_t c = inet_csum_fold(inet_csum_add(ip6_pseudo_sum((uint8_t *)ip, ulen, IPPROTO_ICMPV6), icmp, ulen));
	icmp[2] = c >> 8;
	icmp[3] = c & 0xff;
	pm->vrf = in->vrf;
	pm->flags |= PKT_F_LOCAL_ORIGIN;
	return ICMP6_ERR_NEXT_LOOKUP;
}

static uint16_t icmp6_error_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *w = node_worker(node);
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		node_send(graph, node, icmp6_build(w, m), m);
	}
	return nb_objs;
}

static struct rte_node_register icmp6_error_node = {
	.name = NODE_ICMP6_ERROR,
	.process = icmp6_error_process,
	.init = node_worker_init,
	.nb_edges = ICMP6_ERR_NEXT_COUNT,
	.next_nodes =
		{
			[ICMP6_ERR_NEXT_LOOKUP] = NODE_IP6_LOOKUP,
			[ICMP6_ERR_NEXT_DROP_TTL] = DROP_NODE(ttl_exceeded),
			[ICMP6_ERR_NEXT_DROP_SUPPRESSED] = DROP_NODE(icmp_suppressed),
			[ICMP6_ERR_NEXT_DROP_RATE] = DROP_NODE(icmp_rate_limited),
			[ICMP6_ERR_NEXT_DROP_NO_SOURCE] = DROP_NODE(icmp_no_source),
		},
};
RTE_NODE_REGISTER(icmp6_error_node);
