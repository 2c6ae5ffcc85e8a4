/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Feature arcs: where network functions plug into the router's pipeline without the core naming them.
 *
 * An arc is a point of the pipeline (received unicast before the route lookup, forwarded after it; each family)
 * with an ordered list of feature nodes, registered by the functions (nf/registry.c) before the graphs are built.
 * Each VRF enables the features it uses (a bit per feature, per arc); a packet of a VRF with no feature enabled
 * skips the arc at the cost of one byte load. A feature node, when done with a packet, sends it to the next
 * feature enabled in the packet's VRF, or to the arc's end (the rewrite node): feat_next_edge().
 */
#ifndef NPSGW_FEATURE_H
#define NPSGW_FEATURE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_graph.h>

enum feat_arc {
	FEAT_IP4_FWD = 0, /* after ip4_lookup, forwarded packets (next hop on an interface); end: ip4_rewrite */
	FEAT_IP6_FWD,     /* after ip6_lookup, forwarded packets; end: ip6_rewrite */
	FEAT_IP4_IN,      /* after ip4_input, unicast packets received (not built by the router); end: ip4_lookup */
	FEAT_IP6_IN,      /* after ip6_input, unicast packets received, before the lookup; end: ip6_lookup */
	FEAT_ARC_COUNT
};

#define FEAT_MAX 8           /* features per arc */
#define FEAT_FROM_SOURCE 0   /* "from" index of the arc's source node (the lookup) */

struct feat_arc_state {
	const char *source, *end; /* node names */
	unsigned n;               /* registered features */
	const char *node[FEAT_MAX];
	/* edge[from][to]: from 0 = the source node, from i + 1 = feature i; to < n = feature, to == n = end */
	rte_edge_t edge[FEAT_MAX + 1][FEAT_MAX + 1];
	uint8_t *vrf_mask; /* by VRF slot: bit i = feature i enabled */
};

extern struct feat_arc_state feat_arcs[FEAT_ARC_COUNT];

/* Registration (control thread, before graphs_create): the feature's index on the arc, or -1 when full. */
int feat_register(enum feat_arc arc, const char *node, unsigned order);
/* Allocate the per-VRF masks (after the VRF table is sized). 0 or ENOMEM. */
int feat_init(uint32_t max_vrfs);
/* Append the arc edges to the source and feature nodes (graphs_create, before any graph). 0 or EINVAL. */
int feat_edges_create(void);
/* Index of a feature node on its arc, -1 when not registered. */
int feat_index(enum feat_arc arc, const char *node);
/* Enable or disable a feature for a VRF slot (control thread; workers see it on their next packet). */
void feat_enable(enum feat_arc arc, uint32_t vrf_slot, int feat, bool on);

/* A VRF slot was freed: no feature stays enabled for the next VRF that takes the slot. */
void feat_clear_vrf(uint32_t vrf_slot);

/* Fast path: where a packet of vrf_slot goes after node `from` (FEAT_FROM_SOURCE or feature index + 1). */
static inline rte_edge_t feat_next_edge(enum feat_arc arc, unsigned from, uint32_t vrf_slot)
{
	const struct feat_arc_state *a = &feat_arcs[arc];
	unsigned mask = __atomic_load_n(&a->vrf_mask[vrf_slot], __ATOMIC_RELAXED) >> from;
	unsigned to = mask ? from + (unsigned)__builtin_ctz(mask) : a->n;
	return a->edge[from][to];
}

/* Fast path: does vrf_slot use any feature of the arc? */
static inline bool feat_any(enum feat_arc arc, uint32_t vrf_slot)
{
	return __atomic_load_n(&feat_arcs[arc].vrf_mask[vrf_slot], __ATOMIC_RELAXED) != 0;
}

#endif
