/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-thread helpers shared by the network functions: per-worker counters and session-table stats summed over
 * the workers, `X show stats` rows, log-ring draining with UTC times and JSON event members, and the `X flush`
 * command. Nothing here runs on a worker.
 */
#ifndef NPSGW_NF_UTIL_H
#define NPSGW_NF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>

#include "lib/ct/ct.h"
#include "lib/ctlproto/ctlproto.h"

/*
 * Sum n uint64_t counters over n_workers worker structs of stride bytes each (workers may be NULL: all zero); the
 * counters are at offset within a worker struct and read with relaxed atomic loads (workers update them).
 */
void nf_counters_sum(uint64_t *sum, size_t n, const void *workers, unsigned n_workers, size_t stride, size_t offset);
/* NF_COUNTERS_SUM(cnt, FW_CNT_COUNT, fw.workers, fw.n_workers, cnt): the member named, of the workers' type. */
#define NF_COUNTERS_SUM(sum, n, workers, n_workers, member)                                                      \
	nf_counters_sum(sum, n, workers, n_workers, sizeof(*(workers)), offsetof(__typeof__(*(workers)), member))

/* Session-table stats and capacities summed over the workers' tables (a struct ct_table * at offset in each). */
void nf_ct_stats_sum(struct ct_stats *s, uint64_t *capacity, const void *workers, unsigned n_workers, size_t stride,
		     size_t offset);
#define NF_CT_STATS_SUM(s, capacity, workers, n_workers, member)                                                   \
	nf_ct_stats_sum(s, capacity, workers, n_workers, sizeof(*(workers)), offsetof(__typeof__(*(workers)), member))

/*
 * A worker's hand-off ring (multi-producer, single consumer), registered with the core so that grace periods wait
 * for the packets on it (dp_synchronize); freed with nf_handoff_ring_free. NULL when out of memory.
 */
struct rte_ring *nf_handoff_ring_create(const char *name, unsigned size, int socket);
void nf_handoff_ring_free(struct rte_ring *r);

/* A "counter / #value / description" row of a stats table. */
void nf_stats_row(struct ctl_table *t, const char *name, uint64_t v, const char *desc);

/* Worker clock (monotonic ms, cp_now_ms) -> UTC "2026-01-31T12:00:00.123Z". */
void nf_log_wall_time(uint64_t mono_ms, char *buf, size_t len);
/* ,"key":"value" (value escaped) appended to b: an event's members are built this way, then published without the
 * first comma. */
void nf_json_member(struct sbuf *b, const char *key, const char *value);

/*
 * Dequeue up to budget records of esize bytes from ring, in bursts into buf (room for buf_n records), calling
 * each(record, arg) for every one. Returns the records handled.
 */
unsigned nf_log_ring_drain(struct rte_ring *ring, void *buf, unsigned esize, unsigned buf_n, unsigned budget,
			   void (*each)(const void *rec, void *arg), void *arg);

/*
 * `X flush [vrf NAME]`: flush(vrf slot or CT_VRF_ANY, wait_ms, ...) and the reply table flush: vrf, #removed,
 * complete (with a note when the workers had not finished within wait_ms).
 */
typedef int (*nf_flush_fn)(uint32_t vrf, uint32_t wait_ms, uint64_t *removed, bool *complete, char *err,
			   size_t errlen);
int nf_cmd_flush(const struct ctl_args *a, struct ctl_reply *r, nf_flush_fn flush, uint32_t wait_ms);

#endif
