/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The common IPv6 packet, decided in one place for ip6_input and the IPv6 branch of eth_input (which sends it
 * straight to ip6_lookup, one node hop less): valid header, unicast global destination, unicast frame, no input
 * feature in its VRF. Everything else is ip6_input's to classify.
 */
#ifndef NPSGW_IP6_INPUT_H
#define NPSGW_IP6_INPUT_H

#include <rte_ip.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/ip6_util.h"
#include "dataplane/nodes/nodes.h"
#include "lib/hdr/ip_checks.h"

/* m at its IPv6 header. True: padding trimmed, on to the lookup. */
static inline bool ip6_input_plain(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	if (unlikely(ip6_check(p, rte_pktmbuf_data_len(m)) != IP6_OK))
		return false;
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;
	const struct pkt_meta *pm = pkt_meta(m);
	if (unlikely(ip6_is_multicast(ip->dst_addr) || ip6_is_linklocal(ip->dst_addr) || (pm->flags & PKT_F_L2_GROUP) ||
		     feat_any(FEAT_IP6_IN, pm->vrf)))
		return false;
	uint32_t total = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (unlikely(rte_pktmbuf_data_len(m) > total))
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - total);
	return true;
}

#endif
