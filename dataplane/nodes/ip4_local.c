/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4_local: packets addressed to the router. Echo requests are answered in place and routed back; UDP gets
 * "port unreachable" (so traceroute ends cleanly on the router); protocols and UDP ports a network function
 * registered go to its node, and fragments of a protocol whose function reassembles them (IPsec); everything else
 * (other fragments included: no local reassembly in the core) is counted and dropped.
 */
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/nodes/nodes.h"
#include "lib/hdr/ip_checks.h"

enum {
	IP4_LOCAL_NEXT_LOOKUP,
	IP4_LOCAL_NEXT_ICMP_ERROR,
	IP4_LOCAL_NEXT_DROP_FRAGMENT,
	IP4_LOCAL_NEXT_DROP_UNHANDLED,
	IP4_LOCAL_NEXT_DROP_BAD_CHECKSUM,
	IP4_LOCAL_NEXT_DROP_TRUNCATED,
	IP4_LOCAL_NEXT_DROP_ICMP_UNHANDLED,
	IP4_LOCAL_NEXT_COUNT
};

struct local_dispatch local4_dispatch;

static rte_edge_t ip4_local_classify(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK | RTE_IPV4_HDR_MF_FLAG)) {
		rte_edge_t re = local4_dispatch.frag_edge[ip->next_proto_id];
		return re != 0 ? re : IP4_LOCAL_NEXT_DROP_FRAGMENT; /* a function that reassembles them (IPsec) */
	}
	unsigned ihl = rte_ipv4_hdr_len(ip);
	unsigned l4len = rte_be_to_cpu_16(ip->total_length) - ihl;
	m->l3_len = ihl;
	rte_edge_t fn = local4_dispatch.proto_edge[ip->next_proto_id];
	if (fn != 0)
		return fn; /* a network function's protocol (ESP) */
	switch (ip->next_proto_id) {
	case IPPROTO_ICMP: {
		if (l4len < sizeof(struct rte_icmp_hdr))
			return IP4_LOCAL_NEXT_DROP_TRUNCATED;
		struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
		if (inet_csum_fold(inet_csum_add(0, icmp, l4len)) != 0)
			return IP4_LOCAL_NEXT_DROP_BAD_CHECKSUM;
		if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
			return IP4_LOCAL_NEXT_DROP_ICMP_UNHANDLED;
		/* Echo reply: swap addresses, fresh TTL, type 0; the checksum changes by the type difference. */
		rte_be32_t src = ip->src_addr;
		ip->src_addr = ip->dst_addr;
		ip->dst_addr = src;
		ip->time_to_live = 64;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
		icmp->icmp_cksum = 0;
		icmp->icmp_cksum = rte_cpu_to_be_16(inet_csum_fold(inet_csum_add(0, icmp, l4len)));
		pkt_meta(m)->flags |= PKT_F_LOCAL_ORIGIN;
		return IP4_LOCAL_NEXT_LOOKUP;
	}
	case IPPROTO_UDP:
		if (l4len >= sizeof(struct rte_udp_hdr) && local4_dispatch.n_udp != 0) {
			const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)((uint8_t *)ip + ihl);
			fn = local_udp_edge(&local4_dispatch, rte_be_to_cpu_16(udp->dst_port));
			if (fn != 0)
				return fn; /* a network function's port (IPsec NAT traversal) */
		}
		pkt_set_icmp(m, 3, 3, 0); /* port unreachable */
		return IP4_LOCAL_NEXT_ICMP_ERROR;
	default:
		return IP4_LOCAL_NEXT_DROP_UNHANDLED;
	}
}

static uint16_t ip4_local_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	return batch_by_first(graph, node, objs, nb_objs, ip4_local_classify);
}

static struct rte_node_register ip4_local_node = {
	.name = NODE_IP4_LOCAL,
	.process = ip4_local_process,
	.nb_edges = IP4_LOCAL_NEXT_COUNT,
	.next_nodes =
		{
			[IP4_LOCAL_NEXT_LOOKUP] = NODE_IP4_LOOKUP,
			[IP4_LOCAL_NEXT_ICMP_ERROR] = NODE_ICMP4_ERROR,
			[IP4_LOCAL_NEXT_DROP_FRAGMENT] = DROP_NODE(local_fragment),
			[IP4_LOCAL_NEXT_DROP_UNHANDLED] = DROP_NODE(local_unhandled),
			[IP4_LOCAL_NEXT_DROP_BAD_CHECKSUM] = DROP_NODE(icmp_bad_checksum),
			[IP4_LOCAL_NEXT_DROP_TRUNCATED] = DROP_NODE(icmp_truncated),
			[IP4_LOCAL_NEXT_DROP_ICMP_UNHANDLED] = DROP_NODE(icmp_unhandled),
		},
};
RTE_NODE_REGISTER(ip4_local_node);
