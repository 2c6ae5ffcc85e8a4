/* SPDX-License-Identifier: BSD-3-Clause */
/* Feature arcs (feature.h): registration, per-VRF enable bits and the edges between the arc's nodes. */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"

struct feat_arc_state feat_arcs[FEAT_ARC_COUNT] = {
	[FEAT_IP4_FWD] = {.source = NODE_IP4_LOOKUP, .end = NODE_IP4_REWRITE},
	[FEAT_IP6_FWD] = {.source = NODE_IP6_LOOKUP, .end = NODE_IP6_REWRITE},
	[FEAT_IP4_IN] = {.source = NODE_IP4_INPUT, .end = NODE_IP4_LOOKUP},
	[FEAT_IP6_IN] = {.source = NODE_IP6_INPUT, .end = NODE_IP6_LOOKUP},
};

static unsigned feat_order[FEAT_ARC_COUNT][FEAT_MAX];

int feat_register(enum feat_arc arc, const char *node, unsigned order)
{
	struct feat_arc_state *a = &feat_arcs[arc];
	if (a->n == FEAT_MAX || feat_index(arc, node) >= 0)
		return -1;
	/* Keep the arc sorted by order: a feature's index is its position. */
	unsigned at = a->n;
	while (at > 0 && feat_order[arc][at - 1] > order) {
		a->node[at] = a->node[at - 1];
		feat_order[arc][at] = feat_order[arc][at - 1];
		at--;
	}
	a->node[at] = node;
	feat_order[arc][at] = order;
	a->n++;
	return (int)at;
}

int feat_index(enum feat_arc arc, const char *node)
{
	const struct feat_arc_state *a = &feat_arcs[arc];
	for (unsigned i = 0; i < a->n; i++)
		if (strcmp(a->node[i], node) == 0)
			return (int)i;
	return -1;
}

int feat_init(uint32_t max_vrfs)
{
	for (int arc = 0; arc < FEAT_ARC_COUNT; arc++) {
		feat_arcs[arc].vrf_mask = rte_zmalloc("feat-vrf-mask", max_vrfs, RTE_CACHE_LINE_SIZE);
		if (feat_arcs[arc].vrf_mask == NULL)
			return ENOMEM;
	}
	return 0;
}

/* Append an edge from node `from` to node `to`; its id into *edge. */
static int add_edge(const char *from, const char *to, rte_edge_t *edge)
{
	rte_node_t id = rte_node_from_name(from);
	const char *names[1] = {to};
	if (id == RTE_NODE_ID_INVALID || rte_node_edge_update(id, RTE_EDGE_ID_INVALID, names, 1) == RTE_EDGE_ID_INVALID)
		return EINVAL;
	*edge = rte_node_edge_count(id) - 1;
	return 0;
}

int feat_edges_create(void)
{
	for (int arc = 0; arc < FEAT_ARC_COUNT; arc++) {
		struct feat_arc_state *a = &feat_arcs[arc];
		if (a->n == 0)
			continue;
		/* from 0 = the source; from i + 1 = feature i; each reaches every later feature and the end. */
		for (unsigned from = 0; from <= a->n; from++) {
			const char *from_name = from == 0 ? a->source : a->node[from - 1];
			unsigned first_to = from == 0 ? 0 : from;
			for (unsigned to = first_to; to <= a->n; to++) {
				const char *to_name = to == a->n ? a->end : a->node[to];
				if (add_edge(from_name, to_name, &a->edge[from][to]) != 0)
					return EINVAL;
			}
		}
	}
	return 0;
}

void feat_enable(enum feat_arc arc, uint32_t vrf_slot, int feat, bool on)
{
	struct feat_arc_state *a = &feat_arcs[arc];
	if (feat < 0 || (unsigned)feat >= a->n || a->vrf_mask == NULL)
		return;
	uint8_t m = a->vrf_mask[vrf_slot];
	m = on ? (uint8_t)(m | 1u << feat) : (uint8_t)(m & ~(1u << feat));
	__atomic_store_n(&a->vrf_mask[vrf_slot], m, __ATOMIC_RELEASE);
}

void feat_clear_vrf(uint32_t vrf_slot)
{
	for (unsigned a = 0; a < FEAT_ARC_COUNT; a++)
		if (feat_arcs[a].vrf_mask != NULL)
			__atomic_store_n(&feat_arcs[a].vrf_mask[vrf_slot], 0, __ATOMIC_RELAXED);
}
