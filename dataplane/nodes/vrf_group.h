/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Grouping a burst by VRF so each VRF's FIB gets one bulk lookup even when sub-interfaces of many tenants
 * interleave their packets (runs of one VRF would be a packet long). A counting sort over at most VRF_GROUP_MAX
 * distinct VRFs; more than that in one burst falls back to runs.
 */
#ifndef NPSGW_VRF_GROUP_H
#define NPSGW_VRF_GROUP_H

#include "dataplane/nodes/nodes.h"

#define VRF_GROUP_MAX 32

struct vrf_groups {
	unsigned n;                               /* groups */
	uint32_t vrf[VRF_GROUP_MAX];              /* VRF slot of each group */
	uint16_t start[VRF_GROUP_MAX + 1];        /* group g is order[start[g] .. start[g + 1]) */
	uint16_t order[RTE_GRAPH_BURST_SIZE];     /* packet indexes, VRF by VRF */
};

/* Returns false when the burst has too many distinct VRFs (the caller then uses runs). */
static inline bool vrf_group(struct rte_mbuf **pkts, uint16_t n, struct vrf_groups *g)
{
	uint8_t gid[RTE_GRAPH_BURST_SIZE];
	uint16_t count[VRF_GROUP_MAX] = {0};
	unsigned last = 0;
	g->n = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t v = pkt_meta(pkts[i])->vrf;
		if (g->n == 0 || g->vrf[last] != v) {
			unsigned k = 0;
			while (k < g->n && g->vrf[k] != v)
				k++;
			if (k == g->n) {
				if (g->n == VRF_GROUP_MAX)
					return false;
				g->vrf[g->n++] = v;
			}
			last = k;
		}
		gid[i] = (uint8_t)last;
		count[last]++;
	}
	g->start[0] = 0;
	for (unsigned k = 0; k < g->n; k++)
		g->start[k + 1] = g->start[k] + count[k];
	uint16_t fill[VRF_GROUP_MAX];
	for (unsigned k = 0; k < g->n; k++)
		fill[k] = g->start[k];
	for (uint16_t i = 0; i < n; i++)
		g->order[fill[gid[i]]++] = i;
	return true;
}

#endif
