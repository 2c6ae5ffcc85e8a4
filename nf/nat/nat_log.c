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
#include <time.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"
#include "nf/nat/nat_cp.h"

/* A record in words. */
struct log_view {
	char time[32], inside[ADDR_STR_MAX], b4[ADDR_STR_MAX], pub[ADDR_STR_MAX], ports[16];
	const char *event, *limit, *pool, *vrf, *proto;
	bool dslite, has_proto;
};

/* Worker clock (monotonic ms) -> UTC "2026-01-31T12:00:00.123Z". */
static void wall_time(uint64_t mono_ms, char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now_mono = cp_now_ms();
	int64_t age = (int64_t)(now_mono - RTE_MIN(mono_ms, now_mono));
	int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - age;
	time_t secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

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
	wall_time(rec->time_ms, lv->time, sizeof(lv->time));
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

static void member(struct sbuf *b, const char *key, const char *value)
{
	sbuf_printf(b, ",\"%s\":", key);
	sbuf_json_string(b, value);
}

static void log_event(const struct nat_log_rec *rec, const struct log_view *lv)
{
	if (!event_wanted(EV_NAT))
		return;
	struct sbuf b;
	sbuf_init(&b);
	member(&b, "logged", lv->time);
	member(&b, "type", lv->event);
	if (lv->limit != NULL)
		member(&b, "limit", lv->limit);
	if (lv->has_proto)
		member(&b, "proto", lv->proto);
	member(&b, "pool", lv->pool);
	if (lv->dslite) {
		member(&b, "b4", lv->b4);
	} else {
		member(&b, "vrf", lv->vrf);
		member(&b, "inside", lv->inside);
	}
	if (rec->public_addr != 0)
		member(&b, "public", lv->pub);
	if (rec->port_lo != 0 || rec->port_hi != 0)
		sbuf_printf(&b, ",\"port_lo\":%u,\"port_hi\":%u", rec->port_lo, rec->port_hi);
	if (!b.oom)
		event_publish(EV_NAT, "nat", b.data + 1); /* members without the first comma */
	sbuf_free(&b);
}

void nat_log_drain(unsigned budget, bool events)
{
	struct nat_log_rec recs[32];
	for (unsigned w = 0; nat.workers != NULL && w < nat.n_workers; w++) {
		unsigned done = 0, n;
		while (done < budget && (n = rte_ring_sc_dequeue_burst_elem(nat.workers[w].log, recs, sizeof(recs[0]),
									    RTE_MIN(budget - done, 32u), NULL)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				struct log_view lv;
				view_fill(&recs[i], &lv);
				log_syslog(&lv);
				if (events)
					log_event(&recs[i], &lv);
			}
			done += n;
		}
	}
}
