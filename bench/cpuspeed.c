/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prints the TSC cycles one iteration of a fixed integer loop takes on this CPU (median of 5 runs of 4M iterations,
 * about 30 ms in all). The loop is six adds and xors in two short chains, bound by the core's integer issue rate:
 * on a quiet core the figure is constant, and it rises when the core is shared (on a virtual machine, another guest
 * on the sibling hardware thread: the development VM measured 1.2 quiet and 1.75 in such phases, which lasted
 * minutes). bench/run runs it on the worker's CPU before and after every case: two figures compared by a verdict
 * mean little when their probes differ.
 */
#include <stdint.h>
#include <stdio.h>
#include <x86intrin.h>

#define ITERATIONS 4000000L
#define RUNS 5

static double one_run(void)
{
	uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
	uint64_t t0 = __rdtsc();
	for (long i = 0; i < ITERATIONS; i++) {
		a += (uint64_t)i;
		b ^= a;
		c += b;
		d ^= (uint64_t)i;
		e += d;
		f ^= e;
		__asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f)); /* kept in registers, not folded */
	}
	uint64_t t1 = __rdtsc();
	return (double)(t1 - t0) / (double)ITERATIONS + (double)((c ^ f) & 0) /* results used */;
}

int main(void)
{
	double v[RUNS];
	for (int i = 0; i < RUNS; i++)
		v[i] = one_run();
	for (int i = 1; i < RUNS; i++) /* insertion sort: the median */
		for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
			double t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	printf("%.3f\n", v[RUNS / 2]);
	return 0;
}
