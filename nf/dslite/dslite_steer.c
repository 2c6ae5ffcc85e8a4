/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DS-Lite's rte_flow steering (dataplane/flow_steer.h): a softwire belongs to the worker its B4 address hashes to
 * (dslite_owner), which no NIC computes. What the NIC can do is keep each B4 on one queue: softwire packets (IPv6
 * to the AFTR address, next header 4) are spread over the workers' queues by a hash of the IPv6 source only, so all
 * packets and fragments of a B4 arrive on one worker, in order; the software hand-off moves them to the owner.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/flow_steer.h"
#include "nf/dslite/dslite_int.h"

void dslite_steer(struct flow_plan *plan);

void dslite_steer(struct flow_plan *plan)
{
	if (dsl.workers == NULL || plan->n_workers <= 1)
		return;
	for (uint32_t slot = 0; slot < DSLITE_MAX_AFTRS; slot++) {
		const struct dslite_aftr_rt *a = dslite_aftr_get(slot);
		if (a == NULL)
			continue;
		struct flow_rule r = {.action = FLOW_SPREAD_SRC, .priority = 1};
		r.m.family = 6;
		r.m.proto = IPPROTO_IPIP;
		memcpy(r.m.dst, a->addr, 16);
		r.m.dst_len = 128;
		r.m.vrf = a->tvrf;
		snprintf(r.owner, sizeof(r.owner), "dslite");
		snprintf(r.what, sizeof(r.what), "AFTR %s softwires, by B4 address", a->name);
		flow_plan_add(plan, &r);
	}
}
