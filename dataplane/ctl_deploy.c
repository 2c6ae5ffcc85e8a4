/* SPDX-License-Identifier: BSD-3-Clause */
/* `show ports`, `show selfcheck`, `selfcheck run`, `show flow`, `flow apply` (docs/OPERATIONS.md, "Deployment"). */
#include <inttypes.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include "dataplane/cp.h"
#include "dataplane/ctl_cmds.h"
#include "dataplane/ctl_deploy.h"
#include "dataplane/flow_steer.h"
#include "dataplane/port_state.h"
#include "dataplane/selfcheck.h"

static CTL_HANDLER(cmd_show_ports);
static CTL_HANDLER(cmd_show_selfcheck);
static CTL_HANDLER(cmd_selfcheck_run);
static CTL_HANDLER(cmd_show_flow);
static CTL_HANDLER(cmd_flow_apply);

const struct ctl_cmd ctl_deploy_commands[] = {
	{"show ports", "", "",
	 "ports: driver, link, link changes, removed devices, RSS, IPv4 checksum check (nic or software), rx queues and"
	 " their packets",
	 cmd_show_ports},
	{"show selfcheck", "", "", "the last self-check of the ports (SR-IOV VF trust, multicast, MAC filter, MTU, link)"
	 " with the host-side fix of each finding", cmd_show_selfcheck},
	{"selfcheck run", "", "", "run the port self-checks again (programs the multicast groups of new addresses)",
	 cmd_selfcheck_run},
	{"show flow", "", "", "rte_flow steering: per port rte_flow or software hand-off, and the rules of the plan",
	 cmd_show_flow},
	{"flow apply", "", "", "build the steering plan again from the functions' state and reinstall it",
	 cmd_flow_apply},
};
const size_t ctl_deploy_n_commands = sizeof(ctl_deploy_commands) / sizeof(ctl_deploy_commands[0]);

#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

static int cmd_show_ports(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "ports", "port", "driver", "link", "#speed_mbps", "#link_downs",
					      "#link_ups", "#changed_s_ago", "rss", "rx_ip4_cksum", "#rx_queues",
					      "rx_queue_packets",
					      "device", NULL);
	uint64_t now = cp_now_ms();
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		const struct port_state *ps = &port_states[i];
		if (!p->used)
			continue;
		char speed[24], downs[24], ups[24], ago[24], nq[24], qpk[160] = "", *qp = qpk;
		struct rte_eth_stats st;
		if (rte_eth_stats_get(p->port_id, &st) == 0)
			for (uint16_t q = 0; q < p->nb_rxq && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; q++)
				qp += snprintf(qp, sizeof(qpk) - (size_t)(qp - qpk), "%s%" PRIu64, q ? "," : "",
					       st.q_ipackets[q]);
		const char *device = ps->removed ? "removed" : ps->host_if_gone ? "host interface gone" : "present";
		ctl_table_row(t, p->name, ps->driver, ps->link_up > 0 ? "up" : ps->link_up == 0 ? "down" : "unknown",
			      U64(speed, ps->speed_mbps), U64(downs, ps->link_downs), U64(ups, ps->link_ups),
			      ps->last_change_ms ? U64(ago, (now - ps->last_change_ms) / 1000) : "-",
			      ps->rss ? "yes" : "no", ps->rx_ip4_cksum ? "nic" : "software", U64(nq, p->nb_rxq), qpk,
			      device);
	}
	return 0;
}

static void selfcheck_table(struct ctl_reply *r)
{
	const struct sc_result *res;
	size_t n = selfcheck_results(&res);
	struct ctl_table *t = ctl_reply_table(r, "selfcheck", "port", "check", "status", "detail", "fix", NULL);
	for (size_t i = 0; i < n; i++)
		ctl_table_row(t, res[i].port, res[i].check, sc_status_name(res[i].status), res[i].detail, res[i].fix);
}

static int cmd_show_selfcheck(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	selfcheck_table(r);
	return 0;
}

static int cmd_selfcheck_run(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	selfcheck_run(dp.conf, stderr);
	selfcheck_table(r);
	return 0;
}

static const char *action_name(enum flow_action a)
{
	return a == FLOW_TO_WORKER ? "queue of worker" : a == FLOW_SPREAD_SRC ? "spread by source" : "drop";
}

static int cmd_show_flow(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	const struct flow_plan *plan = flow_steer_plan();
	struct ctl_table *s = ctl_reply_table(r, "steering", "summary", "note", NULL);
	ctl_table_row(s, flow_steer_summary(), plan->note);
	struct ctl_table *t = ctl_reply_table(r, "ports", "port", "mode", "#rules", "#refused", "#skipped", "reason",
					      NULL);
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct flow_port_status *ps = flow_steer_port_status(i);
		if (ps == NULL)
			continue;
		char n1[24], n2[24], n3[24];
		const char *mode = ps->rte_flow ? (ps->refused || ps->skipped ? "rte_flow, software hand-off for the rest"
									       : "rte_flow")
				 : plan->n == 0 ? "software hand-off (no rules)" : "software hand-off";
		ctl_table_row(t, ps->port, mode, U64(n1, ps->installed), U64(n2, ps->refused), U64(n3, ps->skipped),
			      ps->reason);
	}
	struct ctl_table *rt = ctl_reply_table(r, "rules", "#rule", "owner", "match", "action", "#worker",
					       "#priority", "status", NULL);
	for (uint32_t i = 0; i < plan->n; i++) {
		const struct flow_rule *fr = &plan->rules[i];
		char idx[24], w[24], prio[24], st[160];
		ctl_table_row(rt, U64(idx, i), fr->owner, fr->what, action_name(fr->action),
			      fr->action == FLOW_TO_WORKER ? U64(w, fr->worker) : "-", U64(prio, fr->priority),
			      flow_steer_rule_status(i, st, sizeof(st)));
	}
	return 0;
}

static int cmd_flow_apply(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	flow_steer_apply(stderr);
	return cmd_show_flow(ctx, a, r);
}
