/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prints the load-to-use latency of this CPU's memory hierarchy in TSC cycles, for working sets of 256 KiB .. 16 MiB:
 * a chase of dependent loads through one random cycle over the set's cache lines (no prefetcher can guess the next
 * one). bench/run runs it on the worker's CPU before and after the cases: on a shared host the cache a virtual
 * machine really gets, and so what a miss costs, changes with its neighbours; the IPsec cases with 1000 tunnels (a
 * working set of about a megabyte) move with it. Then the rate of random reads over 64 MiB, each prefetched 32 reads
 * ahead: not a latency but what a line from memory costs when many are in flight, the floor of a lookup in a table
 * too big for the cache (rte_fib's DIR24_8 with 1M routes reads such a line per packet from its 64 MiB first level).
 * Output: one line of "KiB=cycles" pairs and "rand64m=cycles" (-1: out of memory).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <x86intrin.h>

#define LINE 64
#define HUGE_ALIGN (2u << 20) /* 2 MiB, and madvise: transparent huge pages, so that the TLB does not dominate */

/* The next number of a xorshift64 sequence: random enough to defeat the prefetchers, the same on every run. */
static uint64_t xorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* The average TSC cycles per load of a random cycle through the lines of kib KiB; < 0 when out of memory. */
static double chase(size_t kib)
{
	size_t n = kib * 1024 / LINE;
	size_t bytes = (n * LINE + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
	uint64_t *mem = aligned_alloc(HUGE_ALIGN, bytes);
	size_t *order = malloc(n * sizeof(*order));
	if (mem == NULL || order == NULL) {
		free(mem);
		free(order);
		return -1;
	}
	(void)madvise(mem, bytes, MADV_HUGEPAGE); /* THP "madvise" mode; without THP the TLB misses count too */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
		size_t j = (size_t)(xorshift64(&seed) % (i + 1));
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	const size_t words = LINE / sizeof(uint64_t);
	for (size_t i = 0; i < n; i++)
		mem[order[i] * words] = order[(i + 1) % n] * words;
	size_t p = 0;
	for (size_t i = 0; i < n * 2; i++) /* warm: the set as resident as it can be */
		p = mem[p];
	size_t loads = n * 8 < 4000000 ? 4000000 : n * 8;
	uint64_t t0 = __rdtsc();
	for (size_t i = 0; i < loads; i++)
		p = mem[p];
	uint64_t t1 = __rdtsc();
	free(mem);
	free(order);
	return p == SIZE_MAX ? -1 : (double)(t1 - t0) / (double)loads; /* p used: the chase is not optimised away */
}

/* The average TSC cycles per 4-byte read at random over mib MiB, each prefetched ahead reads before; < 0: no memory. */
static double random_reads(size_t mib, size_t ahead)
{
	size_t bytes = mib << 20, words = bytes / sizeof(uint32_t), n = (size_t)1 << 22;
	uint32_t *mem = aligned_alloc(HUGE_ALIGN, bytes);
	uint32_t *at = malloc(n * sizeof(*at));
	if (mem == NULL || at == NULL) {
		free(mem);
		free(at);
		return -1;
	}
	(void)madvise(mem, bytes, MADV_HUGEPAGE);
	for (size_t i = 0; i < words; i++)
		mem[i] = (uint32_t)i | 1; /* never 0: the sum below is not */
	uint64_t seed = 0x2545f4914f6cdd1dull;
	for (size_t i = 0; i < n; i++)
		at[i] = (uint32_t)(xorshift64(&seed) % words);
	uint64_t sum = 0;
	uint64_t t0 = __rdtsc();
	for (size_t i = 0; i < n; i++) {
		if (i + ahead < n)
			__builtin_prefetch(&mem[at[i + ahead]]);
		sum += mem[at[i]];
	}
	uint64_t t1 = __rdtsc();
	free(mem);
	free(at);
	return sum == 0 ? -1 : (double)(t1 - t0) / (double)n; /* sum used: the reads are not optimised away */
}

int main(void)
{
	static const size_t sets_kib[] = {256, 1024, 4096, 16384};
	for (size_t i = 0; i < sizeof(sets_kib) / sizeof(sets_kib[0]); i++)
		printf("%s%zu=%.0f", i ? " " : "", sets_kib[i], chase(sets_kib[i]));
	printf(" rand64m=%.0f\n", random_reads(64, 32));
	return 0;
}
