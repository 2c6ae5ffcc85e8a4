/* SPDX-License-Identifier: BSD-3-Clause */
/* Building a steering plan (flow_steer.h): plain C, no device access, unit-tested (test/unit/test_dp_flow_plan.c). */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/flow_steer.h"

void flow_plan_init(struct flow_plan *plan, unsigned n_workers)
{
	plan->n_workers = n_workers;
	plan->n = 0;
	plan->refused = 0;
	plan->note[0] = '\0';
}

int flow_plan_add(struct flow_plan *plan, const struct flow_rule *rule)
{
	if (plan->n == FLOW_PLAN_MAX) {
		plan->refused++;
		return -ENOSPC;
	}
	plan->rules[plan->n++] = *rule;
	return 0;
}

void flow_plan_note(struct flow_plan *plan, const char *fmt, ...)
{
	if (plan->note[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(plan->note, sizeof(plan->note), fmt, ap);
	va_end(ap);
}

static bool pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static unsigned log2u(uint32_t x)
{
	unsigned n = 0;
	while (x > 1) {
		x >>= 1;
		n++;
	}
	return n;
}

static int add_port_rule(struct flow_plan *plan, const char *owner, uint32_t vrf, const uint8_t addr[4],
			 uint8_t proto, uint16_t dport, uint16_t mask, uint16_t lo, uint16_t hi, unsigned worker,
			 const char *span)
{
	struct flow_rule r = {.action = FLOW_TO_WORKER, .worker = (uint16_t)worker, .priority = 1};
	r.m.family = 4;
	r.m.proto = proto;
	memcpy(r.m.dst, addr, 4);
	r.m.dst_len = 32;
	r.m.dport = dport;
	r.m.dport_mask = mask;
	r.m.dport_lo = lo;
	r.m.dport_hi = hi;
	r.m.vrf = vrf;
	snprintf(r.owner, sizeof(r.owner), "%s", owner);
	snprintf(r.what, sizeof(r.what), "%u.%u.%u.%u %s %s", addr[0], addr[1], addr[2], addr[3],
		 proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "ip", span);
	return flow_plan_add(plan, &r);
}

int flow_plan_port_blocks(struct flow_plan *plan, const char *owner, uint32_t vrf, const uint8_t addr[4],
			  uint8_t proto, uint16_t lo, uint16_t hi, uint16_t bs)
{
	unsigned nw = plan->n_workers;
	if (nw <= 1)
		return 0; /* one worker owns everything: nothing to steer */
	if (!pow2(bs) || lo % bs != 0 || hi < lo)
		return -EINVAL;
	unsigned shift = log2u(bs);
	uint32_t owner_bits = (uint32_t)(nw - 1) << shift;
	char span[64];
	int added = 0;
	if (pow2(nw) && owner_bits <= 0xffff) {
		/* Block b = (p - lo) >> shift; its owner (b % nw) is bits [shift, shift + log2 nw) of p, rotated by the
		 * blocks before lo. Ports outside [lo, hi] match too: harmless, the hand-off corrects them. */
		unsigned offset = (unsigned)(lo >> shift) % nw;
		for (unsigned w = 0; w < nw; w++) {
			uint16_t value = (uint16_t)(((w + offset) % nw) << shift);
			snprintf(span, sizeof(span), "ports %u-%u blocks of %u, worker %u's", lo, hi, bs, w);
			int rc = add_port_rule(plan, owner, vrf, addr, proto, value, (uint16_t)owner_bits, lo, hi, w, span);
			if (rc < 0)
				return rc;
			added++;
		}
		return added;
	}
	uint32_t n_blocks = ((uint32_t)hi - lo + 1) / bs;
	for (uint32_t b = 0; b < n_blocks; b++) {
		uint16_t first = (uint16_t)(lo + b * bs);
		snprintf(span, sizeof(span), "ports %u-%u (block %u)", first, first + bs - 1, b);
		int rc = add_port_rule(plan, owner, vrf, addr, proto, first, (uint16_t)~(bs - 1), first,
				   (uint16_t)(first + bs - 1), b % nw, span);
		if (rc < 0)
			return rc;
		added++;
	}
	return added;
}

uint32_t flow_ports_expand(uint16_t dport, uint16_t dport_mask, uint16_t lo, uint16_t hi, uint16_t *out,
			   uint32_t max)
{
	uint32_t n = 0;
	for (uint32_t p = lo; p <= hi; p++) {
		if ((p & dport_mask) != (dport & dport_mask))
			continue;
		if (n < max)
			out[n] = (uint16_t)p;
		n++;
	}
	return n;
}
