/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prints the TSC frequency in Hz, measured against CLOCK_MONOTONIC_RAW over 200 ms (median of 3). bench/run uses it
 * to turn wall time into core cycles ("TSC cycles/packet"); rte_graph node cycles are TSC cycles too.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
	double hz[3];
	for (int i = 0; i < 3; i++) {
		struct timespec d = {0, 200 * 1000 * 1000};
		double t0 = now_s();
		uint64_t c0 = __rdtsc();
		nanosleep(&d, NULL);
		uint64_t c1 = __rdtsc();
		double t1 = now_s();
		hz[i] = (double)(c1 - c0) / (t1 - t0);
	}
	double lo = hz[0] < hz[1] ? hz[0] : hz[1], hi = hz[0] < hz[1] ? hz[1] : hz[0];
	double med = hz[2] < lo ? lo : (hz[2] > hi ? hi : hz[2]);
	printf("%.0f\n", med);
	return 0;
}
