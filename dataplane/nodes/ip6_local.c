/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip6_local: IPv6 packets for the router. Echo requests are answered (from the link-local address when sent to
 * a multicast group); neighbour discovery is validated here per RFC 4861 7.1 (so a malformed message is a named
 * drop) and handed to the control thread; UDP gets "port unreachable"; protocols and UDP ports a network function
 * registered go to its node, and fragments of a protocol whose function reassembles them (IPsec); the rest is
 * counted and dropped.
 */
#include <rte_ip.h>

#include "dataplane/nodes/ip6_util.h"
#include "dataplane/nodes/nodes.h"
#include "lib/hdr/ip_checks.h"

enum {
	IP6_LOCAL_NEXT_LOOKUP,
	IP6_LOCAL_NEXT_PUNT,
	IP6_LOCAL_NEXT_ICMP_ERROR,
	IP6_LOCAL_NEXT_DROP_EXT,
	IP6_LOCAL_NEXT_DROP_FRAGMENT,
	IP6_LOCAL_NEXT_DROP_UNHANDLED,
	IP6_LOCAL_NEXT_DROP_BAD_CHECKSUM,
	IP6_LOCAL_NEXT_DROP_TRUNCATED,
	IP6_LOCAL_NEXT_DROP_ICMP_UNHANDLED,
	IP6_LOCAL_NEXT_DROP_NDP_HOP_LIMIT,
	IP6_LOCAL_NEXT_DROP_NDP_MALFORMED,
	IP6_LOCAL_NEXT_DROP_MCAST,
	IP6_LOCAL_NEXT_COUNT
};

enum { ICMP6_ECHO_REQUEST = 128, ICMP6_ECHO_REPLY = 129, NDP_RS = 133, NDP_RA, NDP_NS, NDP_NA, NDP_REDIRECT };

/* RFC 4861 7.1.1 / 7.1.2 / 6.1: checks after the ICMPv6 checksum. */
static bool ndp_valid(const struct rte_ipv6_hdr *ip, const uint8_t *icmp, size_t len)
{
	static const size_t min_len[] = {[NDP_RS - NDP_RS] = 8, [NDP_RA - NDP_RS] = 16, [NDP_NS - NDP_RS] = 24,
					 [NDP_NA - NDP_RS] = 24, [NDP_REDIRECT - NDP_RS] = 40};
	uint8_t type = icmp[0];
	if (icmp[1] != 0 || len < min_len[type - NDP_RS])
		return false;
	if (type == NDP_NS || type == NDP_NA) {
		if (ip6_is_multicast(icmp + 8))
			return false; /* target must be unicast */
		if (type == NDP_NA && (icmp[4] & 0x40) && ip6_is_multicast(ip->dst_addr))
			return false; /* solicited NA to a multicast group */
	}
	for (size_t off = min_len[type - NDP_RS]; off < len;) {
		if (off + 2 > len || icmp[off + 1] == 0 || off + icmp[off + 1] * 8u > len)
			return false;
		off += icmp[off + 1] * 8u;
	}
	return true;
}

static bool echo_reply(struct rte_mbuf *m, struct rte_ipv6_hdr *ip, uint8_t *icmp, size_t len)
{
	uint8_t src[16];
	memcpy(src, ip->src_addr, 16);
	if (ip6_is_multicast(ip->dst_addr)) {
		const struct iface *in = iface_get(pkt_meta(m)->in_iface);
		if (in == NULL)
			return false; /* interface removed while the packet was in flight */
		/* to a link-local sender from our link-local address, else from the interface's primary address */
		memcpy(ip->src_addr, ip6_is_linklocal(src) ? in->ip6_ll : in->ip6_primary, 16);
	} else {
		memcpy(ip->src_addr, ip->dst_addr, 16);
	}
	memcpy(ip->dst_addr, src, 16);
	ip->hop_limits = 64;
	icmp[0] = ICMP6_ECHO_REPLY;
	icmp[2] = icmp[3] = 0;
	uint16_t c = inet_csum_fold(inet_csum_add(ip6_pseudo_sum((uint8_t *)ip, len, IPPROTO_ICMPV6), icmp, len));
	icmp[2] = c >> 8;
	icmp[3] = c & 0xff;
	return true;
}

struct local_dispatch local6_dispatch;

static rte_edge_t ip6_local_classify(struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	size_t len = rte_pktmbuf_data_len(m), off;
	uint8_t proto;
	bool frag;
	uint16_t frag_off;
	if (ip6_walk_ext((const uint8_t *)ip, len, &proto, &off, &frag, &frag_off) != IP6_EXT_OK)
		return IP6_LOCAL_NEXT_DROP_EXT;
	if (frag) {
		/* proto: the fragment header's next header (non-first), or what follows it in the first fragment */
		rte_edge_t re = local6_dispatch.frag_edge[proto];
		return re != 0 && !ip6_is_multicast(ip->dst_addr) ? re : IP6_LOCAL_NEXT_DROP_FRAGMENT;
	}
	m->l3_len = off;
	rte_edge_t fn = local6_dispatch.proto_edge[proto];
	if (fn != 0 && !ip6_is_multicast(ip->dst_addr))
		return fn; /* a network function's protocol (ESP) */
	switch (proto) {
	case IPPROTO_ICMPV6: {
		uint8_t *icmp = (uint8_t *)ip + off;
		size_t ilen = len - off;
		if (ilen < 4)
			return IP6_LOCAL_NEXT_DROP_TRUNCATED;
		if (inet_csum_fold(inet_csum_add(ip6_pseudo_sum((uint8_t *)ip, ilen, IPPROTO_ICMPV6), icmp, ilen)) != 0)
			return IP6_LOCAL_NEXT_DROP_BAD_CHECKSUM;
		uint8_t type = icmp[0];
		if (type >= NDP_RS && type <= NDP_REDIRECT) {
			if (ip->hop_limits != 255)
				return IP6_LOCAL_NEXT_DROP_NDP_HOP_LIMIT;
			if (!ndp_valid(ip, icmp, ilen))
				return IP6_LOCAL_NEXT_DROP_NDP_MALFORMED;
			pkt_meta(m)->punt_reason = PUNT_NDP;
			return IP6_LOCAL_NEXT_PUNT;
		}
		if (type == ICMP6_ECHO_REQUEST && icmp[1] == 0) {
			if (ilen < 8)
				return IP6_LOCAL_NEXT_DROP_TRUNCATED;
			if (ip6_is_multicast(ip->dst_addr) && !ip6_is_all_nodes(ip->dst_addr))
				return IP6_LOCAL_NEXT_DROP_MCAST;
			if (!echo_reply(m, ip, icmp, ilen))
				return IP6_LOCAL_NEXT_DROP_UNHANDLED;
			pkt_meta(m)->flags |= PKT_F_LOCAL_ORIGIN;
			return IP6_LOCAL_NEXT_LOOKUP;
		}
		return IP6_LOCAL_NEXT_DROP_ICMP_UNHANDLED;
	}
	case IPPROTO_UDP:
		if (ip6_is_multicast(ip->dst_addr))
			return IP6_LOCAL_NEXT_DROP_MCAST;
		if (len - off >= 8 && local6_dispatch.n_udp != 0) {
			const uint8_t *udp = (const uint8_t *)ip + off;
			fn = local_udp_edge(&local6_dispatch, (uint16_t)(udp[2] << 8 | udp[3]));
			if (fn != 0)
				return fn; /* a network function's port (IPsec NAT traversal) */
		}
		pkt_set_icmp(m, 1, 4, 0); /* destination unreachable: port unreachable */
		return IP6_LOCAL_NEXT_ICMP_ERROR;
	default:
		if (ip6_is_multicast(ip->dst_addr))
			return IP6_LOCAL_NEXT_DROP_MCAST;
		return IP6_LOCAL_NEXT_DROP_UNHANDLED;
	}
}

static uint16_t ip6_local_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	return batch_by_first(graph, node, objs, nb_objs, ip6_local_classify);
}

static struct rte_node_register ip6_local_node = {
	.name = NODE_IP6_LOCAL,
	.process = ip6_local_process,
	.nb_edges = IP6_LOCAL_NEXT_COUNT,
	.next_nodes =
		{
			[IP6_LOCAL_NEXT_LOOKUP] = NODE_IP6_LOOKUP,
			[IP6_LOCAL_NEXT_PUNT] = NODE_PUNT,
			[IP6_LOCAL_NEXT_ICMP_ERROR] = NODE_ICMP6_ERROR,
			[IP6_LOCAL_NEXT_DROP_EXT] = DROP_NODE(ip6_ext_truncated),
			[IP6_LOCAL_NEXT_DROP_FRAGMENT] = DROP_NODE(local_fragment),
			[IP6_LOCAL_NEXT_DROP_UNHANDLED] = DROP_NODE(local_unhandled),
			[IP6_LOCAL_NEXT_DROP_BAD_CHECKSUM] = DROP_NODE(icmp_bad_checksum),
			[IP6_LOCAL_NEXT_DROP_TRUNCATED] = DROP_NODE(icmp_truncated),
			[IP6_LOCAL_NEXT_DROP_ICMP_UNHANDLED] = DROP_NODE(icmp_unhandled),
			[IP6_LOCAL_NEXT_DROP_NDP_HOP_LIMIT] = DROP_NODE(ndp_bad_hop_limit),
			[IP6_LOCAL_NEXT_DROP_NDP_MALFORMED] = DROP_NODE(ndp_malformed),
			[IP6_LOCAL_NEXT_DROP_MCAST] = DROP_NODE(ip6_mcast),
		},
};
RTE_NODE_REGISTER(ip6_local_node);
