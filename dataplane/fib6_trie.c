/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Direct access to the tables of an IPv6 FIB's TRIE (rte_fib6), for the workers (fib.h, fib6_lookup_bulk(),
 * fib6_trie_get()): a prefetch of a destination's first-level entry as soon as the address is read, a burst before
 * the lookup, and a lookup that walks a whole run of addresses one level at a time: an address's next-level entry
 * is prefetched as soon as its entry is read, and read in the next pass, after the other addresses' reads were
 * issued. rte_fib6_lookup_bulk() prefetches nothing and walks each address to its end before
 * the next, so with routes spread over the address space (100k routes: a first-level entry, then up to three
 * groups of the second-level table for a /48) every level of every address is a cache miss waited for in turn.
 * (IPv4 needs none of this: rte_fib's DIR24_8 lookup prefetches its own entries, and a /24 or shorter route is one
 * read. The compact IPv4 VRFs' shared TRIE keeps DPDK's lookup too: its top groups are shared and stay cached.)
 *
 * DPDK keeps both tables private: tbl24, a flexible array at the end of struct rte_trie_tbl, and tbl8, a pointer
 * field of it; the header differs between releases. So where they lie is found once per process by a probe on a
 * throwaway table (2-byte entries, 32 MiB), which gets a /24 route and a /32 route:
 *  - tbl24's offset is the one cache-line multiple at which the /24's entry and both its neighbours read as DPDK
 *    encodes them (next hop << 1; bit 0 set: "extended", the rest then a tbl8 group number);
 *  - tbl8's field is the one pointer-sized word of the header that points into DPDK memory, and at which the /32's
 *    group (from its extended first-level entry) holds the /32's next hop at the address's fourth byte and the
 *    default one beside it.
 * The encoding is the same for every entry size. Nothing found (another layout, or no memory for the probe): the
 * workers use rte_fib6_lookup_bulk() and do not prefetch. The unit test holds the staged lookup equal to
 * rte_fib6_lookup_bulk() on random tables, in both copies.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "dataplane/fib.h"

#define PROBE_NH_DEFAULT 0x33u
#define PROBE_NH_24 0x2au
#define PROBE_NH_32 0x15u
#define PROBE_INDEX_24 0x0a0102u /* 0a01:02::/24 */
#define PROBE_INDEX_32 0x0a0110u /* 0a01:1007::/32: in its own /24, fourth byte 0x07 */
#define PROBE_BYTE_32 0x07u
#define PROBE_ENTRY_SIZE 2
#define PROBE_MAX_OFFSET 512

/* Where the tables lie relative to rte_fib6_get_dp(); negative: not known. */
static struct {
	bool probed;
	long tbl24;
	long tbl8_field;
} trie_layout = {.tbl24 = -1, .tbl8_field = -1};

/* The entry of index idx in the probe's table at base (little-endian, as DPDK stores them). */
static uint32_t probe_entry(const uint8_t *base, uint64_t idx)
{
	uint16_t v;
	memcpy(&v, base + idx * PROBE_ENTRY_SIZE, sizeof(v));
	return v;
}

/* The one cache-line offset of dp at which the /24's entry and its neighbours read right, or -1. */
static long find_tbl24(const uint8_t *dp)
{
	long found = -1;
	for (long off = 0; off <= PROBE_MAX_OFFSET; off += RTE_CACHE_LINE_SIZE) {
		const uint8_t *t = dp + off;
		if (probe_entry(t, PROBE_INDEX_24 - 1) == PROBE_NH_DEFAULT << 1 &&
		    probe_entry(t, PROBE_INDEX_24) == PROBE_NH_24 << 1 &&
		    probe_entry(t, PROBE_INDEX_24 + 1) == PROBE_NH_DEFAULT << 1) {
			if (found >= 0)
				return -1; /* two candidates: not sure */
			found = off;
		}
	}
	return found;
}

/* addr lies in a page DPDK has mapped (rte_mem_virt2memseg also answers for reserved, unmapped slots) */
static bool in_dpdk_memory(const void *addr)
{
	const struct rte_memseg *ms = rte_mem_virt2memseg(addr, NULL);
	return ms != NULL && ms->addr != NULL && (const uint8_t *)addr >= (const uint8_t *)ms->addr &&
	       (const uint8_t *)addr < (const uint8_t *)ms->addr + ms->len;
}

/* The one header word (before tbl24) that points at the tbl8 groups holding the /32, or -1. */
static long find_tbl8_field(const uint8_t *dp, long tbl24)
{
	uint32_t ext = probe_entry(dp + tbl24, PROBE_INDEX_32);
	if ((ext & 1) == 0)
		return -1;
	uint64_t group = ext >> 1;
	long found = -1;
	for (long off = 0; off + (long)sizeof(void *) <= tbl24; off += sizeof(void *)) {
		const uint8_t *p;
		memcpy(&p, dp + off, sizeof(p));
		/* only a word that points into DPDK memory is read through (the others may be counts or flags): both ends
		 * of what is read must be in a memseg in use */
		uint64_t at = group * FIB6_TRIE_GROUP + PROBE_BYTE_32;
		if (p == NULL || !in_dpdk_memory(p + (at - 1) * PROBE_ENTRY_SIZE) ||
		    !in_dpdk_memory(p + (at + 2) * PROBE_ENTRY_SIZE - 1))
			continue;
		if (probe_entry(p, at) == PROBE_NH_32 << 1 && probe_entry(p, at + 1) == PROBE_NH_DEFAULT << 1 &&
		    probe_entry(p, at - 1) == PROBE_NH_DEFAULT << 1) {
			if (found >= 0)
				return -1;
			found = off;
		}
	}
	return found;
}

static void probe(void)
{
	struct rte_fib6_conf conf = {
		.type = RTE_FIB6_TRIE,
		.default_nh = PROBE_NH_DEFAULT,
		.max_routes = 4,
		.trie = {.nh_sz = RTE_FIB6_TRIE_2B, .num_tbl8 = 4},
	};
	struct rte_fib6 *fib = rte_fib6_create("fib-probe6", SOCKET_ID_ANY, &conf);
	if (fib == NULL)
		return;
	const uint8_t ip24[RTE_FIB6_IPV6_ADDR_SIZE] = {PROBE_INDEX_24 >> 16, (PROBE_INDEX_24 >> 8) & 0xff,
						       PROBE_INDEX_24 & 0xff};
	const uint8_t ip32[RTE_FIB6_IPV6_ADDR_SIZE] = {PROBE_INDEX_32 >> 16, (PROBE_INDEX_32 >> 8) & 0xff,
						       PROBE_INDEX_32 & 0xff, PROBE_BYTE_32};
	if (rte_fib6_add(fib, ip24, 24, PROBE_NH_24) == 0 && rte_fib6_add(fib, ip32, 32, PROBE_NH_32) == 0) {
		const uint8_t *dp = rte_fib6_get_dp(fib);
		long tbl24 = find_tbl24(dp);
		long tbl8_field = tbl24 > 0 ? find_tbl8_field(dp, tbl24) : -1;
		if (tbl8_field >= 0) {
			trie_layout.tbl24 = tbl24;
			trie_layout.tbl8_field = tbl8_field;
		}
	}
	rte_fib6_free(fib);
}

void fib6_trie_probe(void)
{
	if (trie_layout.probed)
		return;
	trie_layout.probed = true;
	probe();
	if (trie_layout.tbl24 < 0)
		RTE_LOG(NOTICE, USER1, "fib: the IPv6 TRIE's tables were not found: IPv6 lookups use "
				       "rte_fib6_lookup_bulk() and nothing is prefetched\n");
}

bool fib6_trie_known(void)
{
	return trie_layout.tbl24 >= 0;
}

bool fib6_trie_get(const struct fib6 *f, struct fib6_trie *t)
{
	if (f->compact || trie_layout.tbl24 < 0)
		return false;
	const uint8_t *dp = rte_fib6_get_dp(fib6_reader(f));
	if (dp == NULL)
		return false;
	t->tbl24 = (const uint32_t *)(const void *)(dp + trie_layout.tbl24);
	memcpy(&t->tbl8, dp + trie_layout.tbl8_field, sizeof(t->tbl8));
	return true;
}
