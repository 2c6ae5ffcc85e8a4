/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp4_error: turns the packet into an ICMP error (type/code/info from pkt_meta) sent back to its source from the
 * incoming interface's address, quoting as much of the original as fits in 576 bytes (RFC 1812 4.3.2.3), and
 * routes it in the incoming interface's VRF. Never answers an ICMP error, a non-first fragment, a broadcast or
 * multicast, or a martian source (RFC 1812 4.3.2.7).
 */
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dataplane/nodes/icmp_ratelimit.h"
#include "lib/hdr/ip_checks.h"

enum {
	ICMP4_ERR_NEXT_LOOKUP,
	ICMP4_ERR_NEXT_DROP_TTL,
	ICMP4_ERR_NEXT_DROP_SUPPRESSED,
	ICMP4_ERR_NEXT_DROP_RATE,
	ICMP4_ERR_NEXT_DROP_NO_SOURCE,
	ICMP4_ERR_NEXT_COUNT
};

#define ICMP4_ERR_MAX_LEN 576

static inline bool is_icmp_error_type(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static rte_edge_t icmp4_build(struct worker *w, struct rte_mbuf *m)
{
	struct pkt_meta *pm = pkt_meta(m);
	const struct rte_ipv4_hdr *orig = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	rte_edge_t suppressed = pm->icmp_type == 11 ? ICMP4_ERR_NEXT_DROP_TTL : ICMP4_ERR_NEXT_DROP_SUPPRESSED;
	unsigned ihl = rte_ipv4_hdr_len(orig);

	if (orig->fragment_offset & RTE_BE16(RTE_IPV4_HDR_OFFSET_MASK))
		return suppressed;
	if (orig->next_proto_id == IPPROTO_ICMP && rte_pktmbuf_data_len(m) >= ihl + 1 &&
	    is_icmp_error_type(*((const uint8_t *)orig + ihl)))
		return suppressed;
	uint8_t s0 = ((const uint8_t *)&orig->src_addr)[0];
	if (orig->src_addr == 0 || s0 >= 224 || s0 == 127)
		return suppressed;
	const struct iface *in = iface_get(pm->in_iface);
	if (in == NULL || in->ip4_primary == 0)
		return ICMP4_ERR_NEXT_DROP_NO_SOURCE;
	if (!icmp_error_allowed(w))
		return ICMP4_ERR_NEXT_DROP_RATE;

	rte_be32_t dst = orig->src_addr;
	uint32_t quoted = rte_pktmbuf_pkt_len(m);
	const uint32_t hdrs = sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_icmp_hdr);
	if (quoted > ICMP4_ERR_MAX_LEN - hdrs)
		quoted = ICMP4_ERR_MAX_LEN - hdrs;
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - quoted);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, hdrs);
	if (ip == NULL)
		return ICMP4_ERR_NEXT_DROP_SUPPRESSED;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.total_length = rte_cpu_to_be_16(hdrs + quoted),
		.time_to_live = 64,
		.next_proto_id = IPPROTO_ICMP,
		.src_addr = in->ip4_primary,
		.dst_addr = dst,
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp->icmp_type = pm->icmp_type;
	icmp->icmp_code = pm->icmp_code;
	icmp->icmp_cksum = 0;
	/* "fragmentation needed" carries the next-hop MTU in the low half of the unused word (RFC 1191) */
	icmp->icmp_ident = 0;
	icmp->icmp_seq_nb = pm->icmp_type == 3 && pm->icmp_code == 4 ? rte_cpu_to_be_16(pm->icmp_info) : 0;
	icmp->icmp_cksum = rte_cpu_to_be_16(inet_csum_fold(inet_csum_add(0, icmp, sizeof(*icmp) + quoted)));
	pm->vrf = in->vrf;
	pm->flags |= PKT_F_LOCAL_ORIGIN;
	return ICMP4_ERR_NEXT_LOOKUP;
}

static uint16_t icmp4_error_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct worker *w = node_worker(node);
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		node_send(graph, node, icmp4_build(w, m), m);
	}
	return nb_objs;
}

static struct rte_node_register icmp4_error_node = {
	.name = NODE_ICMP4_ERROR,
	.process = icmp4_error_process,
	.init = node_worker_init,
	.nb_edges = ICMP4_ERR_NEXT_COUNT,
	.next_nodes =
		{
			[ICMP4_ERR_NEXT_LOOKUP] = NODE_IP4_LOOKUP,
			[ICMP4_ERR_NEXT_DROP_TTL] = DROP_NODE(ttl_exceeded),
			[ICMP4_ERR_NEXT_DROP_SUPPRESSED] = DROP_NODE(icmp_suppressed),
			[ICMP4_ERR_NEXT_DROP_RATE] = DROP_NODE(icmp_rate_limited),
			[ICMP4_ERR_NEXT_DROP_NO_SOURCE] = DROP_NODE(icmp_no_source),
		},
};
RTE_NODE_REGISTER(icmp4_error_node);
