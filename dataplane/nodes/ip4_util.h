/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 header edits shared by the nodes that forward. */
#ifndef NPSGW_IP4_UTIL_H
#define NPSGW_IP4_UTIL_H

#include <rte_byteorder.h>
#include <rte_ip.h>

/* TTL - 1 with the checksum updated incrementally (RFC 1624): the TTL is the high byte of its 16-bit word. */
static inline void ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint32_t csum = ip->hdr_checksum + rte_cpu_to_be_16(0x0100);
	csum += csum >= 0xffff;
	ip->hdr_checksum = (uint16_t)csum;
	ip->time_to_live--;
}

#endif
