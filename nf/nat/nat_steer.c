/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT's rte_flow steering (dataplane/flow_steer.h): return traffic to a public address goes to the worker owning the
 * destination port's block (block b of an address belongs to worker b % n_workers, nf/nat/nat_ports.h), and to a
 * static mapping's public port goes to its inside host's subscriber worker (a rule of higher priority). ICMP query
 * identifiers are left to the software hand-off (few NICs match them).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#include "dataplane/flow_steer.h"
#include "nf/nat/nat_int.h"

void nat_steer(struct flow_plan *plan);

static void addr_bytes(uint32_t host_order, uint8_t out[4])
{
	out[0] = (uint8_t)(host_order >> 24);
	out[1] = (uint8_t)(host_order >> 16);
	out[2] = (uint8_t)(host_order >> 8);
	out[3] = (uint8_t)host_order;
}

static void steer_statics(struct flow_plan *plan)
{
	const struct nat_statics *st = __atomic_load_n(&nat.statics, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; st != NULL && i < st->n; i++) {
		const struct nat_static_rt *e = &st->e[i];
		struct flow_rule r = {.action = FLOW_TO_WORKER, .priority = 0};
		r.worker = (uint16_t)(nat_sub_owner(e->realm, e->in_addr) % plan->n_workers);
		r.m.family = 4;
		r.m.proto = e->proto;
		addr_bytes(e->pub_addr, r.m.dst);
		r.m.dst_len = 32;
		r.m.dport = e->pub_port;
		r.m.dport_mask = 0xffff;
		r.m.vrf = e->out_vrf;
		snprintf(r.owner, sizeof(r.owner), "nat");
		snprintf(r.what, sizeof(r.what), "%u.%u.%u.%u %s port %u (static)", r.m.dst[0], r.m.dst[1], r.m.dst[2],
			 r.m.dst[3], e->proto == IPPROTO_TCP ? "tcp" : "udp", e->pub_port);
		flow_plan_add(plan, &r);
	}
}

void nat_steer(struct flow_plan *plan)
{
	if (nat.workers == NULL || plan->n_workers <= 1)
		return;
	steer_statics(plan);
	for (uint32_t slot = 0; slot < NAT_MAX_ADDRS; slot++) {
		const struct nat_paddr *pa = nat_paddr_get(slot); /* draining ones too: their sessions still come back */
		if (pa == NULL)
			continue;
		uint8_t a[4];
		addr_bytes(pa->addr, a);
		static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP};
		for (unsigned k = 0; k < sizeof(protos); k++) {
			int rc = flow_plan_port_blocks(plan, "nat", pa->vrf, a, protos[k], pa->port_lo, pa->port_hi,
						       pa->block_size);
			if (rc == -EINVAL)
				flow_plan_note(plan, "nat: blocks of %u ports from port %u are not maskable (a power of two "
					       "aligned on it is): software hand-off", pa->block_size, pa->port_lo);
		}
	}
}
