/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv6 address classes used by the IPv6 nodes. */
#ifndef NPSGW_IP6_UTIL_H
#define NPSGW_IP6_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline bool ip6_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static inline bool ip6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

/* ff02::1 (all nodes) */
static inline bool ip6_is_all_nodes(const uint8_t *a)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	return memcmp(a, all_nodes, 16) == 0;
}

/* ff02::2 (all routers: router solicitations) */
static inline bool ip6_is_all_routers(const uint8_t *a)
{
	static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
	return memcmp(a, all_routers, 16) == 0;
}

/* ff02::1:ffXX:XXXX (solicited-node multicast, RFC 4291 2.7.1) */
static inline bool ip6_is_solicited_node(const uint8_t *a)
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	return memcmp(a, prefix, 13) == 0;
}

static inline void ip6_solicited_node(const uint8_t *target, uint8_t out[16])
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
	memcpy(out, prefix, 13);
	memcpy(out + 13, target + 13, 3);
}

#endif
