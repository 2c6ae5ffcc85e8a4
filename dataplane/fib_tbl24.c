/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where the first-level table (tbl24) of a fast FIB's active copy lies, so that a worker can prefetch a
 * destination's entry as soon as it reads the address, a whole burst before the bulk lookup (fib.h,
 * fib4_tbl24()). rte_fib6's TRIE lookup prefetches nothing, DIR24_8's only 16 addresses ahead, and with routes
 * spread over the address space the entry is a cache miss.
 *
 * DPDK keeps the table private: a flexible array at the end of struct dir24_8_tbl / rte_trie_tbl, whose headers
 * differ between releases. So its offset from rte_fib_get_dp() is found once per process by a probe: a throwaway
 * table (1- or 2-byte entries, 16 / 32 MiB) gets one /24 route, and the offset is the cache-line multiple at which
 * that route's entry and both its neighbours read as DPDK encodes them (next hop << 1, bit 0 the "extended" flag).
 * The entry layout is the same for every entry size. No offset found (another layout, or no memory for the
 * probe): no table, and the workers simply do not prefetch. A wrong address could only waste a prefetch, which
 * never faults and never changes a result; the unit test holds the table equal to the lookups.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>

#include "dataplane/fib.h"

#define PROBE_NH_DEFAULT 0x33u
#define PROBE_NH_ROUTE 0x2au
#define PROBE_INDEX 0x0a0102u /* 10.1.2.0/24, or 0a01:02::/24 */
#define PROBE_MAX_OFFSET 512

#define OFFSET_UNKNOWN (-2)
#define OFFSET_NONE (-1)
static long tbl24_offset4 = OFFSET_UNKNOWN, tbl24_offset6 = OFFSET_UNKNOWN;

/* The entry of index idx in a table of entry_size-byte entries at base (little-endian, as DPDK stores them). */
static uint32_t entry_at(const uint8_t *base, uint32_t idx, unsigned int entry_size)
{
	uint32_t v = 0;
	memcpy(&v, base + (size_t)idx * entry_size, entry_size);
	return v;
}

/* The one offset of dp at which the probe route's entry and its neighbours read right, or OFFSET_NONE. */
static long find_offset(const uint8_t *dp, unsigned int entry_size)
{
	long found = OFFSET_NONE;
	for (long off = 0; off <= PROBE_MAX_OFFSET; off += RTE_CACHE_LINE_SIZE) {
		const uint8_t *t = dp + off;
		if (entry_at(t, PROBE_INDEX - 1, entry_size) == PROBE_NH_DEFAULT << 1 &&
		    entry_at(t, PROBE_INDEX, entry_size) == PROBE_NH_ROUTE << 1 &&
		    entry_at(t, PROBE_INDEX + 1, entry_size) == PROBE_NH_DEFAULT << 1) {
			if (found != OFFSET_NONE)
				return OFFSET_NONE; /* two candidates: not sure */
			found = off;
		}
	}
	return found;
}

static long probe4(void)
{
	struct rte_fib_conf conf = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = PROBE_NH_DEFAULT,
		.max_routes = 4,
		.dir24_8 = {.nh_sz = RTE_FIB_DIR24_8_1B, .num_tbl8 = 1},
	};
	struct rte_fib *fib = rte_fib_create("fib-probe4", SOCKET_ID_ANY, &conf);
	if (fib == NULL)
		return OFFSET_NONE;
	long off = OFFSET_NONE;
	if (rte_fib_add(fib, PROBE_INDEX << 8, 24, PROBE_NH_ROUTE) == 0)
		off = find_offset(rte_fib_get_dp(fib), 1);
	rte_fib_free(fib);
	return off;
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
		off = find_offset(rte_fib6_get_dp(fib), 2);
	rte_fib6_free(fib);
	return off;
}

void fib_tbl24_probe(void)
{
	if (tbl24_offset4 == OFFSET_UNKNOWN)
		tbl24_offset4 = probe4();
	if (tbl24_offset6 == OFFSET_UNKNOWN)
		tbl24_offset6 = probe6();
	if (tbl24_offset4 < 0 || tbl24_offset6 < 0)
		RTE_LOG(NOTICE, USER1, "fib: first-level table of %s not found: route lookups are not prefetched early\n",
			tbl24_offset4 < 0 && tbl24_offset6 < 0 ? "both families" : tbl24_offset4 < 0 ? "IPv4" : "IPv6");
}

const uint8_t *fib4_tbl24(const struct fib4 *f)
{
	if (f->compact || tbl24_offset4 < 0)
		return NULL;
	const uint8_t *dp = rte_fib_get_dp(fib4_reader(f));
	return dp != NULL ? dp + tbl24_offset4 : NULL;
}

const uint8_t *fib6_tbl24(const struct fib6 *f)
{
	if (f->compact || tbl24_offset6 < 0)
		return NULL;
	const uint8_t *dp = rte_fib6_get_dp(fib6_reader(f));
	return dp != NULL ? dp + tbl24_offset6 : NULL;
}
