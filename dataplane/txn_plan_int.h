/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the planner shared by txn_mark.c (what changes) and txn_plan.c (the operations, in order). */
#ifndef NPSGW_TXN_PLAN_INT_H
#define NPSGW_TXN_PLAN_INT_H

#include "dataplane/txn.h"
#include "lib/conf/conf_index.h"

enum { KEEP = 0, DEL, EARLY };   /* marks of running objects */
enum { SAME = 0, ADD, REPLACE }; /* marks of candidate objects */

/* One side of the comparison: a model, its indexes and the marks of its objects. */
struct side {
	const struct npsgw_conf *c;
	const bool *down;
	struct conf_index vrfs, ifaces, routes, neighs, addrs; /* addrs: by (vrf, address), running side only */
	uint8_t *vrf_mark, *if_mark, *route_mark, *neigh_mark, *addr_mark;
	long *vrf_peer, *if_peer, *route_peer, *neigh_peer; /* index of the same object on the other side, or -1 */
	size_t *addr_base; /* first address of each interface in addr_mark */
	size_t n_addrs;
	struct conf_index claims; /* running side: host and subnet prefixes of addresses, by (vrf, prefix) */
	size_t *claim_addr;       /* claim index -> flat address index */
	size_t n_claims;
};

/* Where a candidate gateway resolves, remembered: many routes share a few gateways. */
struct gateway {
	const char *vrf;
	struct addr via;
	const char *dev; /* NULL: resolves nowhere */
};

struct planner {
	struct side r, c;
	struct txn_plan *plan;
	const struct conf_route **dev_routes; /* the candidate's interface routes */
	size_t n_dev_routes;
	struct gateway *gateways;
	size_t n_gateways, cap_gateways;
	struct conf_index gateway_index;
	bool oom;
};

/* Index both models of p->plan (running and candidate). Returns 0, or -1 when out of memory. */
int txn_planner_init(struct planner *p);
void txn_planner_free(struct planner *p);
/* Mark what the candidate changes: re-created, deleted, added and replaced objects (sets p->oom on failure). */
void txn_mark(struct planner *p);

#endif
