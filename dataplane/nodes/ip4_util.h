/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 header edits shared by the nodes that forward. */
#ifndef NPSGW_IP4_UTIL_H
#define NPSGW_IP4_UTIL_H

#include <stdbool.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

/*
 * TTL - 1 with the checksum updated incrementally (RFC 1624, eqn. 3): the TTL is the high byte of its 16-bit word,
 * so the checksum grows by 0x0100 (in network order), end-around, and is never left 0xffff (the field's value for
 * 0xfeff is 0x0000). In the checksum as loaded little-endian, h: h + 1, except h + 1 = 0xffff or 0x10000, which
 * wrap to 0x0000 and 0x0001; that is h + 2 - 1 + the carry out of the 16-bit h + 2.
 */
static inline void ttl_decrement(struct rte_ipv4_hdr *ip)
{
	_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ttl_decrement: the checksum loaded little-endian");
	uint16_t h2;
	bool carry = __builtin_add_overflow(ip->hdr_checksum, (uint16_t)2, &h2);
	ip->hdr_checksum = (uint16_t)(h2 + carry - 1);
	ip->time_to_live--;
}

#endif
