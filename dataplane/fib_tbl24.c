/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the first-level table (tbl24) of an IPv6 FIB's active copy lies, so that a worker can prefetch a
 * destination's entry as soon as it reads the address, a whole burst before the bulk lookup (fib.h,
 * fib6_tbl24()): rte_fib6's TRIE lookup prefetches nothing, and with routes spread over the address space the
 * entry is a cache miss. (IPv4 needs none: rte_fib's DIR24_8 lookup prefetches its own entries.)
 *
 * DPDK keeps the table private: a flexible array at the end of struct rte_trie_tbl, whose header differs between
 * releases. So its offset from rte_fib6_get_dp() is found once per process by a probe: a throwaway table (2-byte
 * entries, 32 MiB) gets one /24 route, and the offset is the one cache-line multiple at which that route's entry
 * and both its neighbours read as DPDK encodes them (next hop << 1, bit 0 the "extended" flag); the encoding is the
 * same for every entry size. No offset found (another layout, or no memory for the probe): no table, and the
 * workers simply do not prefetch. A wrong address could only waste a prefetch, which never faults and never
 * changes a result; the unit test holds the table read through it equal to the lookups.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "dataplane/fib.h"

#define PROBE_NH_DEFAULT 0x33u
#define PROBE_NH_ROUTE 0x2au
#define PROBE_INDEX 0x0a0102u /* 0a01:02::/24 */
#define PROBE_ENTRY_SIZE 2
#define PROBE_MAX_OFFSET 512

#define OFFSET_UNKNOWN (-2)
#define OFFSET_NONE (-1)
static long tbl24_offset6 = OFFSET_UNKNOWN;

/* The entry of index idx in the probe's table at base (little-endian, as DPDK stores them). */
static uint32_t probe_entry(const uint8_t *base, uint32_t idx)
{
	uint16_t v;
	memcpy(&v, base + (size_t)idx * PROBE_ENTRY_SIZE, sizeof(v));
	return v;
}

/* The one offset of dp at which the probe route's entry and its neighbours read right, or OFFSET_NONE. */
static long find_offset(const uint8_t *dp)
{
	long found = OFFSET_NONE;
	for (long off = 0; off <= PROBE_MAX_OFFSET; off += RTE_CACHE_LINE_SIZE) {
		const uint8_t *t = dp + off;
		if (probe_entry(t, PROBE_INDEX - 1) == PROBE_NH_DEFAULT << 1 &&
		    probe_entry(t, PROBE_INDEX) == PROBE_NH_ROUTE << 1 &&
		    probe_entry(t, PROBE_INDEX + 1) == PROBE_NH_DEFAULT << 1) {
			if (found != OFFSET_NONE)
				return OFFSET_NONE; /* two candidates: not sure */
			found = off;
		}
	}
	return found;
}

static long probe6(void)
{
	struct rte_fib6_conf conf = {
		.type = RTE_FIB6_TRIE,
		.default_nh = PROBE_NH_DEFAULT,
		.max_routes = 4,
		.trie = {.nh_sz = RTE_FIB6_TRIE_2B, .num_tbl8 = 1},
	};
	struct rte_fib6 *fib = rte_fib6_create("fib-probe6", SOCKET_ID_ANY, &conf);
	if (fib == NULL)
		return OFFSET_NONE;
	const uint8_t ip[RTE_FIB6_IPV6_ADDR_SIZE] = {PROBE_INDEX >> 16, (PROBE_INDEX >> 8) & 0xff, PROBE_INDEX & 0xff};
	long off = OFFSET_NONE;
	if (rte_fib6_add(fib, ip, 24, PROBE_NH_ROUTE) == 0)
		off = find_offset(rte_fib6_get_dp(fib));
	rte_fib6_free(fib);
	return off;
}

void fib_tbl24_probe(void)
{
	if (tbl24_offset6 != OFFSET_UNKNOWN)
		return;
	tbl24_offset6 = probe6();
	if (tbl24_offset6 < 0)
		RTE_LOG(NOTICE, USER1, "fib: the IPv6 first-level table was not found: IPv6 lookups are not prefetched "
				       "early\n");
}

const uint8_t *fib6_tbl24(const struct fib6 *f)
{
	if (f->compact || tbl24_offset6 < 0)
		return NULL;
	const uint8_t *dp = rte_fib6_get_dp(fib6_reader(f));
	return dp != NULL ? dp + tbl24_offset6 : NULL;
}
