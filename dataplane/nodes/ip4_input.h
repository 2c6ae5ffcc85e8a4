/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPv4 input checks, shared by ip4_input and the IPv4 branch of eth_input (which saves the common packet a
 * node hop: it goes straight to ip4_lookup when this says IP4_OK).
 */
#ifndef NPSGW_IP4_INPUT_H
#define NPSGW_IP4_INPUT_H

#include <rte_ip.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "lib/hdr/ip_checks.h"

/* Verdicts beyond enum ip4_verdict's. */
enum {
	IP4_IN_MCAST = IP4_MARTIAN_DST + 1, /* multicast or limited broadcast destination: not routed */
	IP4_IN_L2_GROUP,                    /* unicast IP in a multicast or broadcast frame */
	IP4_IN_FEATURES,                    /* valid, and the VRF has input features: to the first of them */
};

/* m at its IPv4 header. IP4_OK: valid, padding trimmed, on to the lookup. */
static inline unsigned ip4_input_verdict(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	enum ip4_verdict v = ip4_check(p, rte_pktmbuf_data_len(m));
	if (unlikely(v != IP4_OK))
		return v;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	if (unlikely(p[16] >= 224 || ip->dst_addr == RTE_BE32(0xffffffff)))
		return IP4_IN_MCAST;
	const struct pkt_meta *pm = pkt_meta(m);
	if (unlikely(pm->flags & PKT_F_L2_GROUP))
		return IP4_IN_L2_GROUP;
	uint16_t total = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(rte_pktmbuf_data_len(m) > total))
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - total);
	if (unlikely(feat_any(FEAT_IP4_IN, pm->vrf)))
		return IP4_IN_FEATURES;
	return IP4_OK;
}

#endif
