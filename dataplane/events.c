/* SPDX-License-Identifier: BSD-3-Clause */
/* Event JSON objects and the subscribe/unsubscribe commands; delivery and bounds are lib/ctlproto's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"

static struct ctl_server *server;
static int8_t link_up[DP_MAX_PORTS]; /* last state seen: 1 up, 0 down */

static const struct {
	const char *name;
	uint64_t bit;
} topics[] = {{"link", EV_LINK},
	      {"neighbour", EV_NEIGHBOUR},
	      {"config", EV_CONFIG},
	      {"firewall", EV_FIREWALL},
	      {"nat", EV_NAT},
	      {"ipsec", EV_IPSEC}};

/* {"event":"NAME","time":UNIX.MS, ... the caller adds its members and calls finish(). */
static void start(struct sbuf *b, const char *name)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sbuf_printf(b, "{\"event\":\"%s\",\"time\":%lld.%03ld", name, (long long)ts.tv_sec, ts.tv_nsec / 1000000);
}

static void member(struct sbuf *b, const char *key, const char *value)
{
	sbuf_printf(b, ",\"%s\":", key);
	if (value != NULL)
		sbuf_json_string(b, value);
	else
		sbuf_append(b, "null", 4);
}

static void finish(struct sbuf *b, uint64_t topic)
{
	sbuf_append(b, "}\n", 2);
	if (!b->oom)
		ctl_server_publish(server, topic, b->data, b->len);
	sbuf_free(b);
}

/* srv NULL: the server is closing, nothing is published any more. */
void events_init(struct ctl_server *srv)
{
	server = srv;
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		struct rte_eth_link link = {0};
		if (dp.ports[i].used)
			rte_eth_link_get_nowait(dp.ports[i].port_id, &link);
		link_up[i] = link.link_status != 0;
	}
}

void events_poll_links(void)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		struct rte_eth_link link = {0};
		if (!p->used || rte_eth_link_get_nowait(p->port_id, &link) != 0)
			continue;
		int8_t up = link.link_status != 0;
		if (up == link_up[i])
			continue;
		link_up[i] = up;
		if (!ctl_server_has_subscribers(server, EV_LINK))
			continue;
		struct sbuf b;
		sbuf_init(&b);
		start(&b, "link");
		member(&b, "port", p->name);
		member(&b, "state", up ? "up" : "down");
		if (up && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
			sbuf_printf(&b, ",\"speed_mbps\":%u", link.link_speed);
		if (up)
			member(&b, "duplex", link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
		finish(&b, EV_LINK);
	}
}

void event_neighbour(const char *iface, const struct addr *ip, const char *state, const uint8_t *mac)
{
	if (!ctl_server_has_subscribers(server, EV_NEIGHBOUR))
		return;
	char ab[ADDR_STR_MAX], mb[24];
	const struct iface *ifc = iface_by_name(iface);
	const struct vrf *v = ifc != NULL ? dp.vrfs[ifc->vrf] : NULL;
	struct sbuf b;
	sbuf_init(&b);
	start(&b, "neighbour");
	member(&b, "interface", iface);
	member(&b, "vrf", v != NULL ? v->name : NULL);
	member(&b, "ip", addr_fmt(ip, ab, sizeof(ab)));
	member(&b, "state", state);
	member(&b, "mac", mac != NULL ? mac_fmt(mac, mb, sizeof(mb)) : NULL);
	finish(&b, EV_NEIGHBOUR);
}

void event_config(const char *what)
{
	if (!ctl_server_has_subscribers(server, EV_CONFIG))
		return;
	struct sbuf b;
	sbuf_init(&b);
	start(&b, "config");
	member(&b, "command", what);
	finish(&b, EV_CONFIG);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

void events_after_request(const char *line, size_t len, const struct sbuf *reply_frame)
{
	static const char ok[] = "NPSGW/1 0 ";
	if (!ctl_server_has_subscribers(server, EV_CONFIG) || reply_frame->len < sizeof(ok) - 1 ||
	    memcmp(reply_frame->data, ok, sizeof(ok) - 1) != 0)
		return;
	static struct ctl_req req; /* 4 KiB: not on the stack */
	struct ctl_args args;
	char err[CTL_ERR_MAX];
	int status;
	if (ctl_req_parse(line, len, &req, err, sizeof(err)) != 0)
		return;
	const struct ctl_cmd *cmd = ctl_dispatch(ctl_commands, ctl_n_commands, &req, &args, &status, err, sizeof(err));
	if (cmd == NULL || !(ends_with(cmd->words, " add") || ends_with(cmd->words, " del") ||
			     ends_with(cmd->words, " set")))
		return;
	struct sbuf b;
	sbuf_init(&b);
	start(&b, "config");
	member(&b, "command", cmd->words);
	sbuf_append(&b, ",\"args\":{", 9);
	for (int i = 0; i < args.n; i++) {
		sbuf_append(&b, i ? "," : "", i ? 1 : 0);
		sbuf_json_string(&b, args.key[i]);
		sbuf_append(&b, ":", 1);
		/* Key material never leaves in an event, whichever command carries it. */
		bool secret = strcmp(args.key[i], "key") == 0 || strcmp(args.key[i], "auth_key") == 0;
		sbuf_json_string(&b, secret ? "(hidden)" : args.val[i]);
	}
	sbuf_append(&b, "}", 1);
	finish(&b, EV_CONFIG);
}

void events_stats(uint64_t *queued, uint64_t *dropped)
{
	struct ctl_event_stats st = server != NULL ? ctl_server_event_stats(server) : (struct ctl_event_stats){0};
	*queued = st.queued;
	*dropped = st.dropped;
}

/* "link,config" -> bits; "all" is every topic. Returns 0 or EINVAL with the bad name in err. */
static int parse_topics(const char *list, uint64_t *mask, char *err, size_t errlen)
{
	*mask = 0;
	while (*list != '\0') {
		size_t n = strcspn(list, ",");
		bool found = n == 3 && strncmp(list, "all", 3) == 0;
		if (found)
			*mask = EV_ALL;
		for (size_t i = 0; !found && i < RTE_DIM(topics); i++) {
			if (strlen(topics[i].name) == n && strncmp(list, topics[i].name, n) == 0) {
				*mask |= topics[i].bit;
				found = true;
			}
		}
		if (!found) {
			snprintf(err, errlen, "bad events '%.*s' (expected a comma-separated list of %s)", (int)n,
				 list, "link, neighbour, config, firewall, nat, or all");
			return EINVAL;
		}
		list += n + (list[n] == ',');
	}
	return *mask != 0 ? 0 : EINVAL;
}

static void subscription_table(struct ctl_reply *r, uint64_t mask)
{
	char list[64] = "";
	for (size_t i = 0; i < RTE_DIM(topics); i++) {
		if (!(mask & topics[i].bit))
			continue;
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", used ? "," : "", topics[i].name);
	}
	struct ctl_table *t = ctl_reply_table(r, "subscription", "events", NULL);
	ctl_table_row(t, list);
}

int cmd_subscribe(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX] =
		"bad events (expected a comma-separated list of link, neighbour, config, firewall, nat, or all)";
	uint64_t mask = EV_ALL;
	const char *list = ctl_arg(a, "events");
	if (list != NULL && parse_topics(list, &mask, err, sizeof(err)) != 0)
		return ctl_reply_error(r, EINVAL, "%s", err);
	if (ctl_server_subscribe(server, mask) != 0)
		return ctl_reply_error(r, EIO, "no control connection to subscribe");
	subscription_table(r, mask);
	return 0;
}

int cmd_unsubscribe(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (ctl_server_subscribe(server, 0) != 0)
		return ctl_reply_error(r, EIO, "no control connection to unsubscribe");
	subscription_table(r, 0);
	return 0;
}

bool event_wanted(uint64_t topic)
{
	return server != NULL && ctl_server_has_subscribers(server, topic);
}

void event_publish(uint64_t topic, const char *name, const char *members)
{
	if (!event_wanted(topic))
		return;
	struct sbuf b;
	sbuf_init(&b);
	start(&b, name);
	if (members != NULL && members[0] != '\0')
		sbuf_printf(&b, ",%s", members);
	finish(&b, topic);
}
