/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A snapshot of the counters `npsctl show stats` shows, for readers on other threads (DPDK telemetry, the
 * Prometheus endpoint). Only the control thread reads the tables and builds a snapshot; it publishes it under a
 * mutex that no worker ever takes. Readers hold a reference, not the mutex, while they render, so a slow reader
 * never delays the control thread. Snapshots are immutable once published.
 */
#ifndef NPSGW_METRICS_H
#define NPSGW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp.h"
#include "dataplane/stats.h"

/* Port counters: name, then the help text Prometheus shows. */
#define METRICS_PORT_COUNTERS(X)                                                                                      \
	X(rx_packets, "Packets received by the device.")                                                              \
	X(rx_bytes, "Bytes received by the device.")                                                                  \
	X(tx_packets, "Packets sent by the device.")                                                                  \
	X(tx_bytes, "Bytes sent by the device.")                                                                      \
	X(rx_missed, "Packets the device dropped because its receive queues were full.")                              \
	X(rx_errors, "Erroneous packets received.")                                                                   \
	X(tx_errors, "Packets the device failed to send.")                                                            \
	X(rx_nombuf, "Receive failures for want of a packet buffer.")

enum metrics_port_counter {
#define METRICS_PORT_ENUM(n, help) MP_##n,
	METRICS_PORT_COUNTERS(METRICS_PORT_ENUM)
#undef METRICS_PORT_ENUM
	MP_COUNT
};

/* Totals of show stats: every packet received ends in tx, a drop, the punt node or a reassembled packet;
 * fragmentation creates some: rx + created = tx + drops + punted + absorbed. */
#define METRICS_TOTALS(X)                                                                                             \
	X(rx, "Packets the workers received.")                                                                        \
	X(created, "Packets the workers created by fragmentation (IPv4, DS-Lite encapsulation).")                     \
	X(tx, "Packets the workers sent.")                                                                            \
	X(drops, "Packets the workers dropped, all reasons.")                                                         \
	X(punted, "Packets the workers passed to the control thread.")                                               \
	X(absorbed, "Packets the workers consumed without a drop: fragments merged by reassembly (n in, one out) and "    \
		    "IPsec NAT-T keepalives.")                                                                        \
	X(express, "Packets the express path forwarded, IPv4 and IPv6 (eth_input straight to a port; counted in tx too).")

enum metrics_total {
#define METRICS_TOTAL_ENUM(n, help) MT_##n,
	METRICS_TOTALS(METRICS_TOTAL_ENUM)
#undef METRICS_TOTAL_ENUM
	MT_COUNT
};

struct metrics_port {
	char name[CONF_NAME_MAX];
	bool link_up;
	uint64_t c[MP_COUNT];
};

struct metrics_iface {
	char name[CONF_NAME_MAX];
	char vrf[CONF_NAME_MAX];
	struct iface_counters c;
};

struct metrics_vrf {
	char name[CONF_NAME_MAX];
	struct iface_counters c;
};

/* A network function's sample (nf_desc.metrics): help points at the function's static text. */
struct metrics_nf_sample {
	char family[64];
	char type[8];
	const char *help;
	char iface[CONF_NAME_MAX];
	char vrf[CONF_NAME_MAX];
	uint64_t value;
};

struct metrics_snapshot {
	uint64_t seq;     /* 1, 2, ...: one more per snapshot published */
	uint64_t time_ms; /* wall clock (Unix ms) when it was taken */
	unsigned n_ports;
	struct metrics_port ports[DP_MAX_PORTS];
	unsigned n_nodes;
	struct node_stat *nodes; /* every node, including those with zero counters */
	uint64_t drops[DROP_COUNT];
	uint64_t control[CTL_COUNTER_COUNT];
	uint64_t totals[MT_COUNT];
	uint32_t n_ifaces;
	struct metrics_iface *ifaces;
	uint32_t n_vrfs;
	struct metrics_vrf *vrfs;
	uint64_t events_queued, events_dropped; /* control-socket event frames (dataplane/events.h) */
	uint32_t n_nf;
	struct metrics_nf_sample *nf; /* the functions' samples, families one after the other */
	int refs; /* under the mutex: the published slot holds one, each reader one */
};

/* Names and help texts, for renderers. */
const char *metrics_drop_name(int reason);
const char *metrics_ctl_name(int counter);
extern const char *const metrics_port_names[MP_COUNT];
extern const char *const metrics_port_help[MP_COUNT];
extern const char *const metrics_total_names[MT_COUNT];
extern const char *const metrics_total_help[MT_COUNT];

/*
 * Control thread, every loop iteration: takes and publishes a new snapshot when interval_ms has passed since the
 * last one or a reader asked for a fresh one. Cheap when there is nothing to do.
 */
void metrics_snapshot_update(uint64_t now_ms);
/* Control thread, at start-up (before readers exist) and at the end (after the last update). */
void metrics_init(uint32_t interval_ms);
void metrics_fini(void);

/*
 * Any thread but the workers: the latest snapshot, with a reference (NULL before the first one or after
 * metrics_fini). fresh_wait_ms > 0 first asks the control thread for a new one and waits that long at most for it.
 * Release with metrics_snapshot_put().
 */
const struct metrics_snapshot *metrics_snapshot_get(int fresh_wait_ms);
void metrics_snapshot_put(const struct metrics_snapshot *s);

#endif
