/* SPDX-License-Identifier: BSD-3-Clause */
/* IP addresses and prefixes shared by the config, the control plane and the tests. No DPDK here. */
#ifndef NPSGW_ADDR_H
#define NPSGW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_STR_MAX 64 /* enough for "ipv6/128" */

/* An IPv4 or IPv6 address. IPv4 lives in bytes[0..3], network order; the rest is zero. */
struct addr {
	uint8_t family; /* 4 or 6; 0 = unset */
	uint8_t bytes[16];
};

struct addr_prefix {
	struct addr addr;
	uint8_t len; /* 0..32 or 0..128 */
};

/* "192.0.2.1" or "2001:db8::1". Returns 0 or -1. */
int addr_parse(const char *s, struct addr *out);
/* "192.0.2.0/24"; a bare address means a host prefix. With strict, host bits must be zero. */
int addr_prefix_parse(const char *s, struct addr_prefix *out, bool strict);
/* "aa:bb:cc:dd:ee:ff". Returns 0 or -1. */
int mac_parse(const char *s, uint8_t mac[6]);

const char *addr_fmt(const struct addr *a, char *buf, size_t len);
const char *addr_prefix_fmt(const struct addr_prefix *p, char *buf, size_t len);
const char *mac_fmt(const uint8_t mac[6], char *buf, size_t len);

/* Clear host bits beyond len. */
void addr_prefix_mask(struct addr_prefix *p);
bool addr_equal(const struct addr *a, const struct addr *b);
/* Does prefix p contain address a (same family)? */
bool addr_prefix_contains(const struct addr_prefix *p, const struct addr *a);

static inline uint32_t addr_v4_host(const struct addr *a)
{
	return ((uint32_t)a->bytes[0] << 24) | ((uint32_t)a->bytes[1] << 16) | ((uint32_t)a->bytes[2] << 8) |
	       a->bytes[3];
}

static inline void addr_from_v4_host(struct addr *a, uint32_t ip)
{
	*a = (struct addr){.family = 4};
	a->bytes[0] = ip >> 24;
	a->bytes[1] = ip >> 16;
	a->bytes[2] = ip >> 8;
	a->bytes[3] = ip;
}

#endif
