/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT log records, drained on the control thread: the workers only queue fixed-size records on their log ring (no
 * syscall, no allocation); here each becomes one syslog line (LOG_DAEMON | LOG_INFO) in the spirit of RFC 6908
 * (what a port-block allocation log must carry: time, event, subscriber, public address, port range) and one
 * control-socket event {"event":"nat",...} for subscribers of the nat topic.
 *
 *   nat: 2026-11-26T10:00:00.123Z block-alloc pool=pub vrf=t1 inside=10.0.0.5 public=198.51.100.1 ports=1024-1535
 *   nat: ... block-release pool=pub b4=2001:db8::1 public=198.51.100.1 ports=1024-1535
 *   nat: ... quota limit=sessions proto=tcp pool=pub vrf=t1 inside=10.0.0.5 public=198.51.100.1 ports=-
 *   nat: ... exhausted proto=udp pool=pub vrf=t1 inside=10.0.0.6 public=198.51.100.1 ports=-
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"
#include "nf/nat/nat_cp.h"
#include "nf/nf_util.h"

/* A record in words. */
struct log_view {
	char time[32], inside[ADDR_STR_MAX], b4[ADDR_STR_MAX], pub[ADDR_STR_MAX], ports[16];
	const char *event, *limit, *pool, *vrf, *proto;
	bool dslite, has_proto;
};

static const char *event_name(uint8_t type, const char **limit)
{
	*limit = NULL;
	switch (type) {
	case NAT_LOG_BLOCK_ALLOC:
		return "block-alloc";
	case NAT_LOG_BLOCK_RELEASE:
		return "block-release";
	case NAT_LOG_QUOTA_BLOCKS:
		*limit = "blocks";
		return "quota";
	case NAT_LOG_QUOTA_SESSIONS:
		*limit = "sessions";
		return "quota";
	case NAT_LOG_EXHAUSTED:
		return "exhausted";
	default:
		return "unknown";
	}
}

static void view_fill(const struct nat_log_rec *rec, struct log_view *lv)
{
	nf_log_wall_time(rec->time_ms, lv->time, sizeof(lv->time));
	lv->event = event_name(rec->type, &lv->limit);
	lv->pool = nat_cp_pool_name(rec->pool);
	lv->dslite = (rec->realm & NAT_REALM_B4) != 0;
	lv->vrf = lv->dslite ? "-" : nat_vrf_name(rec->realm);
	nat_ip4_fmt(rec->inside_addr, lv->inside, sizeof(lv->inside));
	nat_ip6_fmt(rec->b4, lv->b4, sizeof(lv->b4));
	if (rec->public_addr != 0)
		nat_ip4_fmt(rec->public_addr, lv->pub, sizeof(lv->pub));
	else
		snprintf(lv->pub, sizeof(lv->pub), "-");
	if (rec->port_lo != 0 || rec->port_hi != 0)
		snprintf(lv->ports, sizeof(lv->ports), "%u-%u", rec->port_lo, rec->port_hi);
	else
		snprintf(lv->ports, sizeof(lv->ports), "-");
	lv->has_proto = rec->type >= NAT_LOG_QUOTA_BLOCKS;
	lv->proto = nat_proto_name(rec->proto);
}

static void log_syslog(const struct log_view *lv)
{
	char subscriber[ADDR_STR_MAX + CONF_NAME_MAX + 16], extra[48] = "";
	if (lv->dslite)
		snprintf(subscriber, sizeof(subscriber), "b4=%s", lv->b4);
	else
		snprintf(subscriber, sizeof(subscriber), "vrf=%s inside=%s", lv->vrf, lv->inside);
	if (lv->limit != NULL)
		snprintf(extra, sizeof(extra), " limit=%s proto=%s", lv->limit, lv->proto);
	else if (lv->has_proto)
		snprintf(extra, sizeof(extra), " proto=%s", lv->proto);
	syslog(LOG_DAEMON | LOG_INFO, "nat: %s %s%s pool=%s %s public=%s ports=%s", lv->time, lv->event, extra,
	       lv->pool, subscriber, lv->pub, lv->ports);
}

static void log_event(const struct nat_log_rec *rec, const struct log_view *lv)
{
	if (!event_wanted(EV_NAT))
		return;
	struct sbuf b;
	sbuf_init(&b);
	nf_json_member(&b, "logged", lv->time);
	nf_json_member(&b, "type", lv->event);
	if (lv->limit != NULL)
		nf_json_member(&b, "limit", lv->limit);
	if (lv->has_proto)
		nf_json_member(&b, "proto", lv->proto);
	nf_json_member(&b, "pool", lv->pool);
	if (lv->dslite) {
		nf_json_member(&b, "b4", lv->b4);
	} else {
		nf_json_member(&b, "vrf", lv->vrf);
		nf_json_member(&b, "inside", lv->inside);
	}
	if (rec->public_addr != 0)
		nf_json_member(&b, "public", lv->pub);
	if (rec->port_lo != 0 || rec->port_hi != 0)
		sbuf_printf(&b, ",\"port_lo\":%u,\"port_hi\":%u", rec->port_lo, rec->port_hi);
	if (!b.oom)
		event_publish(EV_NAT, "nat", b.data + 1); /* members without the first comma */
	sbuf_free(&b);
}

static void log_one(const void *rec, void *events)
{
	struct log_view lv;
	view_fill(rec, &lv);
	log_syslog(&lv);
	if (*(const bool *)events)
		log_event(rec, &lv);
}

void nat_log_drain(unsigned budget, bool events)
{
	struct nat_log_rec recs[32];
	for (unsigned w = 0; nat.workers != NULL && w < nat.n_workers; w++)
		nf_log_ring_drain(nat.workers[w].log, recs, sizeof(recs[0]), RTE_DIM(recs), budget, log_one, &events);
}
