/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's rte_flow steering (dataplane/flow_steer.h): ESP (IP protocol 50) to the tunnel's local address with an
 * inbound SA's SPI goes to the rx queue of the worker owning that SA's anti-replay window (owner = spi % n_workers,
 * struct ipsec_sa), so ipsec_in finds it already on its owner and skips the software hand-off (nf_hand_off).
 * ESP in UDP (RFC 3948, udp_encap tunnels) is left to the software hand-off: NICs match no SPI behind a UDP header.
 * Called on the control thread (the cp is the only writer of the tables it walks). The plan is rebuilt at start-up
 * and by `flow apply`: SAs added later are handed off in software until then.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/flow_steer.h"
#include "nf/ipsec/ipsec_sa.h"

void ipsec_steer(struct flow_plan *plan);

static void steer_sa(struct flow_plan *plan, const struct ipsec_sa *sa, const struct ipsec_tunnel_params *p,
		     unsigned *udp_skipped)
{
	if (p->udp_encap) {
		(*udp_skipped)++;
		return;
	}
	struct flow_rule r = {.action = FLOW_TO_WORKER, .priority = 1};
	r.worker = (uint16_t)(sa->spi % plan->n_workers);
	r.m.family = p->family;
	r.m.proto = IPPROTO_ESP;
	memcpy(r.m.dst, p->local, p->family == 4 ? 4 : 16);
	r.m.dst_len = p->family == 4 ? 32 : 128;
	r.m.has_spi = true;
	r.m.spi = sa->spi;
	r.m.vrf = p->transport_vrf;
	snprintf(r.owner, sizeof(r.owner), "ipsec");
	snprintf(r.what, sizeof(r.what), "esp spi 0x%x (interface id %u) w%u of %u", sa->spi, sa->iface, r.worker,
		 plan->n_workers);
	flow_plan_add(plan, &r);
}

void ipsec_steer(struct flow_plan *plan)
{
	if (ipsec_workers_get() == NULL || ipsec.spi == NULL || plan->n_workers <= 1)
		return;
	if (plan->n_workers != ipsec.n_workers) {
		flow_plan_note(plan, "ipsec: %u workers in the plan, %u owning SAs: software hand-off", plan->n_workers,
			       ipsec.n_workers);
		return;
	}
	uint32_t pos = 0, spi;
	struct ipsec_sa *sa;
	unsigned udp_skipped = 0;
	while (ipsec_spi_next(ipsec.spi, &pos, &spi, &sa)) {
		if (sa == NULL || sa->dir != IPSEC_DIR_IN)
			continue;
		const struct ipsec_tunnel *t = ipsec_tunnel_get(sa->iface);
		const struct ipsec_tunnel_params *p = t != NULL ? ipsec_tunnel_params_get(t) : NULL;
		if (p == NULL)
			continue;
		steer_sa(plan, sa, p, &udp_skipped);
	}
	if (udp_skipped != 0)
		flow_plan_note(plan, "ipsec: %u SAs of udp_encap tunnels (ESP in UDP: no SPI match): software hand-off",
			       udp_skipped);
}

#define STEER_REFRESH_MS 1000
static bool steer_stale;
static uint64_t steer_applied_ms;

void ipsec_steer_stale(void)
{
	steer_stale = true;
}

void ipsec_steer_refresh(uint64_t now_ms)
{
	if (!steer_stale || now_ms - steer_applied_ms < STEER_REFRESH_MS)
		return;
	steer_stale = false;
	steer_applied_ms = now_ms;
	flow_steer_apply(NULL);
}
