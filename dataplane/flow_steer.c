/* SPDX-License-Identifier: BSD-3-Clause */
/* Installing the steering plan as rte_flow rules, port by port, with the software hand-off as fallback. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "dataplane/cp.h"
#include "dataplane/flow_steer.h"
#include "nf/nf.h"

#define FLOW_PORT_MAX_RULES 4096

struct installed {
	uint16_t port;
	uint32_t rule;
	struct rte_flow *flow;
};

static struct flow_plan plan;
static struct installed *flows;
static uint32_t n_flows, cap_flows;
static struct flow_port_status pstat[DP_MAX_PORTS];
static struct {
	uint32_t installed;  /* rte_flow rules for this plan rule, all ports */
	uint32_t expanded;   /* of which exact-port rules standing for one masked rule */
	int last_queue;      /* the queue of the last port it went to (-1: none) */
	char refused[64];    /* the first refusal */
} rule_st[FLOW_PLAN_MAX];
static char summary[192] = "not applied";

static int remember(uint16_t port, uint32_t rule, struct rte_flow *flow)
{
	if (n_flows == cap_flows) {
		uint32_t cap = cap_flows ? cap_flows * 2 : 64;
		struct installed *f = realloc(flows, cap * sizeof(*f));
		if (f == NULL)
			return -ENOMEM;
		flows = f;
		cap_flows = cap;
	}
	flows[n_flows++] = (struct installed){port, rule, flow};
	return 0;
}

/* The rx queue worker w polls on port p; -1 when it polls none there. */
static int worker_queue(unsigned w, const struct port *p)
{
	const struct worker *wk = &dp.workers[w];
	for (size_t i = 0; i < wk->n_rxqs; i++)
		if (strcmp(wk->rxqs[i].device, p->name) == 0)
			return wk->rxqs[i].queue;
	return -1;
}

static bool port_in_vrf(uint16_t port_id, uint32_t vrf)
{
	if (vrf == FLOW_VRF_ANY)
		return true;
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc != NULL && ifc->port == port_id && ifc->vrf == vrf)
			return true;
	}
	return false;
}

static void prefix_mask(uint8_t *mask, unsigned bytes, unsigned len)
{
	memset(mask, 0, bytes);
	for (unsigned i = 0; i < len && i < bytes * 8; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

/* The pattern and action storage of one rule being created. */
struct flow_build {
	struct rte_flow_item items[5];
	struct rte_flow_action actions[2];
	struct rte_flow_item_ipv4 ip4, ip4_mask;
	struct rte_flow_item_ipv6 ip6, ip6_mask;
	struct rte_flow_item_udp udp, udp_mask;
	struct rte_flow_item_tcp tcp, tcp_mask;
	struct rte_flow_item_esp esp, esp_mask;
	struct rte_flow_action_queue queue;
	struct rte_flow_action_rss rss;
	uint16_t rss_queues[DP_MAX_WORKERS];
};

/* Fill b for rule r with destination port dport/dmask; queue (FLOW_TO_WORKER) or the spread queues. */
static int build(struct flow_build *b, const struct flow_rule *r, uint16_t dport, uint16_t dmask, int queue,
		 const uint16_t *spread, unsigned n_spread)
{
	const struct flow_match *m = &r->m;
	memset(b, 0, sizeof(*b));
	unsigned k = 0;
	b->items[k++].type = RTE_FLOW_ITEM_TYPE_ETH;
	if (m->family == 4) {
		memcpy(&b->ip4.hdr.dst_addr, m->dst, 4);
		memcpy(&b->ip4.hdr.src_addr, m->src, 4);
		prefix_mask((uint8_t *)&b->ip4_mask.hdr.dst_addr, 4, m->dst_len);
		prefix_mask((uint8_t *)&b->ip4_mask.hdr.src_addr, 4, m->src_len);
		b->ip4.hdr.next_proto_id = m->proto;
		b->ip4_mask.hdr.next_proto_id = m->proto ? 0xff : 0;
		b->items[k] = (struct rte_flow_item){RTE_FLOW_ITEM_TYPE_IPV4, &b->ip4, NULL, &b->ip4_mask};
	} else {
		memcpy(b->ip6.hdr.dst_addr, m->dst, 16);
		memcpy(b->ip6.hdr.src_addr, m->src, 16);
		prefix_mask(b->ip6_mask.hdr.dst_addr, 16, m->dst_len);
		prefix_mask(b->ip6_mask.hdr.src_addr, 16, m->src_len);
		b->ip6.hdr.proto = m->proto;
		b->ip6_mask.hdr.proto = m->proto ? 0xff : 0;
		b->items[k] = (struct rte_flow_item){RTE_FLOW_ITEM_TYPE_IPV6, &b->ip6, NULL, &b->ip6_mask};
	}
	k++;
	if (m->has_spi) {
		b->esp.hdr.spi = rte_cpu_to_be_32(m->spi);
		b->esp_mask.hdr.spi = RTE_BE32(0xffffffff);
		b->items[k++] = (struct rte_flow_item){RTE_FLOW_ITEM_TYPE_ESP, &b->esp, NULL, &b->esp_mask};
	} else if (dmask != 0 && m->proto == IPPROTO_UDP) {
		b->udp.hdr.dst_port = rte_cpu_to_be_16(dport & dmask);
		b->udp_mask.hdr.dst_port = rte_cpu_to_be_16(dmask);
		b->items[k++] = (struct rte_flow_item){RTE_FLOW_ITEM_TYPE_UDP, &b->udp, NULL, &b->udp_mask};
	} else if (dmask != 0 && m->proto == IPPROTO_TCP) {
		b->tcp.hdr.dst_port = rte_cpu_to_be_16(dport & dmask);
		b->tcp_mask.hdr.dst_port = rte_cpu_to_be_16(dmask);
		b->items[k++] = (struct rte_flow_item){RTE_FLOW_ITEM_TYPE_TCP, &b->tcp, NULL, &b->tcp_mask};
	}
	b->items[k].type = RTE_FLOW_ITEM_TYPE_END;
	switch (r->action) {
	case FLOW_TO_WORKER:
		b->queue.index = (uint16_t)queue;
		b->actions[0] = (struct rte_flow_action){RTE_FLOW_ACTION_TYPE_QUEUE, &b->queue};
		break;
	case FLOW_SPREAD_SRC:
		memcpy(b->rss_queues, spread, n_spread * sizeof(uint16_t));
		b->rss.queue = b->rss_queues;
		b->rss.queue_num = n_spread;
		b->rss.types = (m->family == 4 ? RTE_ETH_RSS_IPV4 : RTE_ETH_RSS_IPV6) | RTE_ETH_RSS_L3_SRC_ONLY;
		b->actions[0] = (struct rte_flow_action){RTE_FLOW_ACTION_TYPE_RSS, &b->rss};
		break;
	case FLOW_DROP:
		b->actions[0].type = RTE_FLOW_ACTION_TYPE_DROP;
		break;
	}
	b->actions[1].type = RTE_FLOW_ACTION_TYPE_END;
	return 0;
}

static struct rte_flow *create(uint16_t port_id, const struct flow_rule *r, uint16_t dport, uint16_t dmask,
			       int queue, const uint16_t *spread, unsigned n_spread, struct rte_flow_error *err)
{
	const struct rte_flow_attr attr = {.ingress = 1, .priority = r->priority};
	struct flow_build b;
	build(&b, r, dport, dmask, queue, spread, n_spread);
	memset(err, 0, sizeof(*err));
	return rte_flow_create(port_id, &attr, b.items, b.actions, err);
}

static void refusal(char *out, size_t len, const struct rte_flow_error *err)
{
	snprintf(out, len, "%s (%s)", err->message ? err->message : "refused", strerror(rte_errno));
}

/* Install rule i on port p: one rule, or its exact-port expansion when the driver takes no partial port mask. */
static void install_rule(struct flow_port_status *ps, uint16_t port_id, uint32_t i, int queue, const uint16_t *spread,
			 unsigned n_spread)
{
	const struct flow_rule *r = &plan.rules[i];
	struct rte_flow_error err;
	struct rte_flow *f = create(port_id, r, r->m.dport, r->m.dport_mask, queue, spread, n_spread, &err);
	if (f != NULL && remember(port_id, i, f) == 0) {
		ps->installed++;
		rule_st[i].installed++;
		rule_st[i].last_queue = queue;
		return;
	}
	char why[128];
	refusal(why, sizeof(why), &err);
	bool partial = r->m.dport_mask != 0 && r->m.dport_mask != 0xffff;
	static uint16_t ports[FLOW_EXPAND_MAX];
	uint32_t n = partial ? flow_ports_expand(r->m.dport, r->m.dport_mask, r->m.dport_lo, r->m.dport_hi, ports,
						 FLOW_EXPAND_MAX)
			     : 0;
	if (partial && n <= FLOW_EXPAND_MAX && ps->installed + n <= FLOW_PORT_MAX_RULES) {
		uint32_t done = 0;
		for (; done < n; done++) {
			f = create(port_id, r, ports[done], 0xffff, queue, spread, n_spread, &err);
			if (f == NULL || remember(port_id, i, f) != 0)
				break;
		}
		ps->installed += done;
		rule_st[i].installed += done;
		rule_st[i].expanded += done;
		rule_st[i].last_queue = queue;
		if (done == n)
			return;
		refusal(why, sizeof(why), &err);
	} else if (partial) {
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "; %u exact ports are too many to expand", n);
	}
	ps->refused++;
	if (ps->reason[0] == '\0')
		snprintf(ps->reason, sizeof(ps->reason), "%s", why);
	if (rule_st[i].refused[0] == '\0')
		snprintf(rule_st[i].refused, sizeof(rule_st[i].refused), "%s", why);
}

static void install_port(const struct port *p)
{
	struct flow_port_status *ps = &pstat[p->port_id];
	*ps = (struct flow_port_status){.used = true};
	snprintf(ps->port, sizeof(ps->port), "%s", p->name);
	uint16_t spread[DP_MAX_WORKERS];
	unsigned n_spread = 0;
	for (unsigned w = 0; w < dp.n_workers; w++) {
		int q = worker_queue(w, p);
		if (q >= 0)
			spread[n_spread++] = (uint16_t)q;
	}
	/* Drivers without rte_flow answer ENOSYS/ENOTSUP to anything: ask once, not for every rule. */
	struct rte_flow_error err = {0};
	if (rte_flow_flush(p->port_id, &err) != 0 && (rte_errno == ENOSYS || rte_errno == ENOTSUP)) {
		snprintf(ps->reason, sizeof(ps->reason), "driver has no rte_flow");
		for (uint32_t i = 0; i < plan.n; i++)
			ps->skipped += port_in_vrf(p->port_id, plan.rules[i].m.vrf);
		return;
	}
	for (uint32_t i = 0; i < plan.n; i++) {
		const struct flow_rule *r = &plan.rules[i];
		if (!port_in_vrf(p->port_id, r->m.vrf))
			continue;
		int q = r->action == FLOW_TO_WORKER ? worker_queue(r->worker, p) : 0;
		if (q < 0 || (r->action == FLOW_SPREAD_SRC && n_spread < 2)) {
			ps->skipped++;
			if (ps->reason[0] == '\0')
				snprintf(ps->reason, sizeof(ps->reason), "worker %u polls no queue of this port",
					 r->worker);
			continue;
		}
		install_rule(ps, p->port_id, i, q, spread, n_spread);
	}
	ps->rte_flow = ps->installed > 0;
}

void flow_steer_flush(void)
{
	for (uint32_t i = n_flows; i-- > 0;) {
		struct rte_flow_error err;
		rte_flow_destroy(flows[i].port, flows[i].flow, &err);
	}
	n_flows = 0;
	free(flows);
	flows = NULL;
	cap_flows = 0;
}

void flow_steer_apply(FILE *log)
{
	flow_steer_flush();
	flow_plan_init(&plan, dp.n_workers);
	memset(rule_st, 0, sizeof(rule_st));
	for (uint32_t i = 0; i < FLOW_PLAN_MAX; i++)
		rule_st[i].last_queue = -1;
	for (size_t i = 0; i < nf_count; i++)
		if (nf_registry[i]->steer != NULL)
			nf_registry[i]->steer(&plan);
	if (plan.n == 0 && plan.note[0] == '\0')
		flow_plan_note(&plan, dp.n_workers > 1 ? "no function asked for steering" : "one worker: nothing to steer");
	unsigned ports_flow = 0, ports_used = 0;
	uint32_t total = 0;
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		if (!p->used) {
			pstat[i].used = false;
			continue;
		}
		install_port(p);
		ports_used++;
		ports_flow += pstat[i].rte_flow;
		total += pstat[i].installed;
		if (log == NULL || plan.n == 0)
			continue;
		const struct flow_port_status *ps = &pstat[i];
		if (ps->rte_flow)
			fprintf(log, "npsd: steering on port '%s': rte_flow, %u rule(s)%s%s\n", p->name, ps->installed,
				ps->refused ? "; software hand-off for the refused: " : "", ps->refused ? ps->reason : "");
		else if (ps->refused || ps->skipped)
			fprintf(log, "npsd: steering on port '%s': software hand-off (%s)\n", p->name, ps->reason);
	}
	if (plan.n == 0)
		snprintf(summary, sizeof(summary), "software hand-off (%s)", plan.note);
	else if (ports_flow == 0)
		snprintf(summary, sizeof(summary), "software hand-off (no port takes the %u rule(s))", plan.n);
	else
		snprintf(summary, sizeof(summary), "rte_flow on %u/%u port(s), %u rule(s)", ports_flow, ports_used,
			 total);
	if (log != NULL)
		fprintf(log, "npsd: steering: %s\n", summary);
}

const char *flow_steer_summary(void)
{
	return summary;
}

const struct flow_plan *flow_steer_plan(void)
{
	return &plan;
}

const struct flow_port_status *flow_steer_port_status(uint16_t port_id)
{
	return port_id < DP_MAX_PORTS && pstat[port_id].used ? &pstat[port_id] : NULL;
}

const char *flow_steer_rule_status(uint32_t rule, char *buf, size_t len)
{
	if (rule >= plan.n)
		snprintf(buf, len, "?");
	else if (rule_st[rule].installed == 0)
		snprintf(buf, len, "software hand-off%s%s", rule_st[rule].refused[0] ? ": " : "",
			 rule_st[rule].refused);
	else if (rule_st[rule].expanded)
		snprintf(buf, len, "rte_flow: %u exact-port rules%s", rule_st[rule].expanded,
			 rule_st[rule].refused[0] ? " (refused on some ports)" : "");
	else
		snprintf(buf, len, "rte_flow: %u rule(s)%s", rule_st[rule].installed,
			 rule_st[rule].refused[0] ? " (refused on some ports)" : "");
	return buf;
}
