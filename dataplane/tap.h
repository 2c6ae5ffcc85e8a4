/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seeing inside the pipeline: capture at any node, per-packet trace, path check.
 *
 * How it costs nothing when off: nothing in the nodes checks for it. Starting a capture or a trace swaps the
 * process function of the chosen nodes, in every worker's graph, for tap_process(), which records and then calls
 * the original; stopping swaps it back. A node's process pointer is one aligned 64-bit store that workers load at
 * every call, and the configuration the wrapper reads is published under RCU like every other table.
 *
 * Threading: tap_ctl.c (control thread) owns the configuration and the reading side; tap_fast.c (workers) writes
 * capture copies to a multi-producer ring and trace records to a per-worker buffer (single writer each).
 */
#ifndef NPSGW_TAP_H
#define NPSGW_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_bpf.h>
#include <rte_graph.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dataplane/dp.h"

#define TAP_NODE_MAX 512
#define TAP_TRACE_RECORDS 16384 /* per worker, per trace session */

/* What the wrapper does at one node; immutable once published. */
struct tap_point {
	int32_t if_id;         /* pcapng interface of this point; -1 = not captured here */
	uint8_t kind;          /* enum tap_kind */
	uint8_t ether_type_hint; /* 1 = ARP at this node (arp_input) */
};

enum tap_kind { TAP_KIND_L3 = 0, TAP_KIND_ETH_IN, TAP_KIND_TX, TAP_KIND_DROP, TAP_KIND_PUNT };

/* A capture copy: this header, then the (possibly synthesized-Ethernet) frame, in one mbuf of the tap pool. */
struct tap_copy_hdr {
	uint64_t ts_ns;
	uint32_t if_id;
	uint32_t origlen;
	uint32_t vrf;
	uint16_t node;
	uint16_t worker;
	uint16_t in_iface;
	uint8_t has_meta;
	uint8_t pad;
};

struct trace_rec {
	uint32_t trace_id;
	uint16_t node;
	uint16_t in_iface;
	uint16_t out_iface;
	uint8_t flags;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t family; /* of the dst below: 0 when not at L3 */
	uint16_t pad;
	uint32_t vrf;
	uint32_t nh;
	uint8_t dst[16];
	uint64_t ts_ns;
};

struct trace_buf {
	uint32_t n; /* records written; store-release by the worker, load-acquire by the control thread */
	uint32_t dropped;
	struct trace_rec rec[TAP_TRACE_RECORDS];
};

struct tap_config {
	struct tap_point points[TAP_NODE_MAX]; /* by node id */
	bool capture;
	struct rte_bpf *filter;  /* capture filter on the (synthesized) Ethernet frame; NULL = all */
	uint32_t vrf;            /* capture only this VRF slot; UINT32_MAX = any */
	uint32_t snaplen;
	uint16_t rx_iface;       /* "rx:IFACE": at eth_input, only frames of this interface (port + VLAN); 0 = any */
	uint16_t rx_port, rx_vlan;
	uint16_t tx_iface;       /* "tx:IFACE": at port_tx, only packets leaving by this interface; 0 = any */
	bool trace;
	struct rte_bpf *trace_filter;
	uint32_t trace_vrf;
	struct trace_buf *tbuf[DP_MAX_WORKERS];
};

struct tap_shared {
	struct tap_config *cfg;           /* published; NULL when nothing is tapped */
	rte_node_process_t orig[TAP_NODE_MAX];
	struct rte_mempool *copy_pool;    /* capture copies */
	struct rte_ring *copy_ring;       /* workers -> control */
	struct rte_mempool *inject_pool;  /* path-check packets */
	struct rte_ring *inject_ring[DP_MAX_WORKERS];
	uint64_t capture_left;            /* packets still to capture (atomic) */
	uint64_t capture_lost;            /* copies not made: pool or ring full (atomic) */
	uint32_t trace_left;              /* packets still to trace (atomic) */
	uint32_t trace_next_id;           /* (atomic) */
	uint64_t tsc_hz;
	uint64_t dry_packets[TAP_NODE_MAX]; /* path-check packets each node saw (control thread), not traffic */
};

extern struct tap_shared tap;

/* Control thread: set-up before the graphs exist, then after; drain captures from the control loop. */
int tap_init(char *err, size_t errlen);
void tap_attach(void);
void tap_poll(void);
rte_node_t tap_inject_node_id(void);

uint16_t tap_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs);

#endif
