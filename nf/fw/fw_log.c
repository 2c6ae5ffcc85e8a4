/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Firewall log records, drained on the control thread: the workers only queue fixed-size records on their log ring
 * (no syscall, no allocation); here each becomes one syslog line (LOG_DAEMON | LOG_INFO) and one control-socket
 * event {"event":"firewall",...} for subscribers of the firewall topic.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"
#include "nf/fw/fw_cp.h"
#include "nf/nf_util.h"

/* A record in words. */
struct log_view {
	char time[32], rule[FW_NAME_MAX + 16], proto[16], src[ADDR_STR_MAX], dst[ADDR_STR_MAX];
	const char *vrf, *action, *in, *out;
	bool ports, icmp;
};

static const char *iface_name(uint16_t id)
{
	const struct iface *ifc = id != IFACE_NONE && id < dp.max_ifaces ? dp.ifaces[id] : NULL;
	return ifc != NULL ? ifc->name : "-";
}

static void rule_name(const struct fw_log_rec *rec, char *buf, size_t len)
{
	const struct fw_vrf *v = rec->vrf < dp.max_vrfs ? fw.vrfs[rec->vrf] : NULL;
	if (rec->rule == 0)
		snprintf(buf, len, "(zone policy or default)");
	else if (v != NULL && rec->rule <= v->n_rules)
		snprintf(buf, len, "%s", v->conf.rules[rec->rule - 1].name);
	else
		snprintf(buf, len, "#%" PRIu32 " (replaced)", rec->rule);
}

static void view_fill(const struct fw_log_rec *rec, struct log_view *lv)
{
	struct addr a = {.family = rec->family};
	nf_log_wall_time(rec->time_ms, lv->time, sizeof(lv->time));
	rule_name(rec, lv->rule, sizeof(lv->rule));
	fw_proto_name(rec->proto, lv->proto, sizeof(lv->proto));
	memcpy(a.bytes, rec->src, 16);
	addr_fmt(&a, lv->src, sizeof(lv->src));
	memcpy(a.bytes, rec->dst, 16);
	addr_fmt(&a, lv->dst, sizeof(lv->dst));
	lv->vrf = fw_vrf_name(rec->vrf);
	lv->action = fw_action_name(rec->action);
	lv->in = iface_name(rec->in_iface);
	lv->out = iface_name(rec->out_iface);
	lv->icmp = rec->proto == 1 || rec->proto == 58;
	lv->ports = rec->proto == 6 || rec->proto == 17 || rec->proto == 132;
}

static void log_syslog(const struct fw_log_rec *rec, const struct log_view *lv)
{
	char l4[48] = "";
	if (lv->ports)
		snprintf(l4, sizeof(l4), " sport=%u dport=%u", rec->sport, rec->dport);
	else if (lv->icmp)
		snprintf(l4, sizeof(l4), " type=%u code=%u", rec->sport, rec->dport);
	syslog(LOG_DAEMON | LOG_INFO, "firewall: %s vrf=%s rule=%s action=%s proto=%s src=%s dst=%s%s in=%s out=%s",
	       lv->time, lv->vrf, lv->rule, lv->action, lv->proto, lv->src, lv->dst, l4, lv->in, lv->out);
}

static void log_event(const struct fw_log_rec *rec, const struct log_view *lv)
{
	if (!event_wanted(EV_FIREWALL))
		return;
	struct sbuf b;
	sbuf_init(&b);
	nf_json_member(&b, "logged", lv->time);
	nf_json_member(&b, "vrf", lv->vrf);
	nf_json_member(&b, "rule", lv->rule);
	nf_json_member(&b, "action", lv->action);
	nf_json_member(&b, "proto", lv->proto);
	nf_json_member(&b, "src", lv->src);
	nf_json_member(&b, "dst", lv->dst);
	if (lv->ports)
		sbuf_printf(&b, ",\"sport\":%u,\"dport\":%u", rec->sport, rec->dport);
	else if (lv->icmp)
		sbuf_printf(&b, ",\"icmp_type\":%u,\"icmp_code\":%u", rec->sport, rec->dport);
	nf_json_member(&b, "in", lv->in);
	nf_json_member(&b, "out", lv->out);
	if (!b.oom)
		event_publish(EV_FIREWALL, "firewall", b.data + 1); /* members without the first comma */
	sbuf_free(&b);
}

static void log_one(const void *rec, void *events)
{
	struct log_view lv;
	view_fill(rec, &lv);
	log_syslog(rec, &lv);
	if (*(const bool *)events)
		log_event(rec, &lv);
}

void fw_log_drain(unsigned budget, bool events)
{
	struct fw_log_rec recs[32];
	for (unsigned w = 0; fw.workers != NULL && w < fw.n_workers; w++)
		nf_log_ring_drain(fw.workers[w].log, recs, sizeof(recs[0]), RTE_DIM(recs), budget, log_one, &events);
}
