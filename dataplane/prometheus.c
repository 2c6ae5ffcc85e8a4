/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of the counter snapshot, served by libmicrohttpd. The HTTP thread
 * inherits the control lcore's CPU affinity (it is started from the main thread), so scrapes never run on a worker
 * core; it only ever reads snapshots.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "dataplane/prometheus.h"

#define FRESH_WAIT_MS 200 /* a scrape waits this long at most for the control thread's fresh snapshot */
#define MAX_CONNECTIONS 16
#define CONNECTION_TIMEOUT_S 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Daemon *daemon_;

/* A label value: backslash, double quote and newline are escaped. */
static void label_value(struct sbuf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			sbuf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			sbuf_append(out, "\\n", 2);
		else
			sbuf_append(out, v, 1);
	}
}

static void family(struct sbuf *out, const char *name, const char *type, const char *help)
{
	sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample with up to three labels (NULL-terminated name/value pairs). */
static void sample(struct sbuf *out, const char *name, uint64_t v, const char *l1, const char *v1, const char *l2,
		   const char *v2, const char *l3, const char *v3)
{
	const char *ln[3] = {l1, l2, l3}, *lv[3] = {v1, v2, v3};
	sbuf_printf(out, "%s", name);
	for (int i = 0; i < 3 && ln[i] != NULL; i++) {
		sbuf_printf(out, "%s%s=\"", i ? "," : "{", ln[i]);
		label_value(out, lv[i]);
		sbuf_append(out, "\"", 1);
	}
	sbuf_printf(out, "%s %" PRIu64 "\n", ln[0] != NULL ? "}" : "", v);
}

static void ports(const struct metrics_snapshot *s, struct sbuf *out)
{
	family(out, "npsgw_port_link_up", "gauge", "1 when the port's link is up.");
	for (unsigned p = 0; p < s->n_ports; p++)
		sample(out, "npsgw_port_link_up", s->ports[p].link_up, "port", s->ports[p].name, NULL, NULL, NULL,
		       NULL);
	for (int c = 0; c < MP_COUNT; c++) {
		char name[64];
		snprintf(name, sizeof(name), "npsgw_port_%s_total", metrics_port_names[c]);
		family(out, name, "counter", metrics_port_help[c]);
		for (unsigned p = 0; p < s->n_ports; p++)
			sample(out, name, s->ports[p].c[c], "port", s->ports[p].name, NULL, NULL, NULL, NULL);
	}
}

static void nodes(const struct metrics_snapshot *s, struct sbuf *out)
{
	static const char *const names[] = {"npsgw_node_calls_total", "npsgw_node_packets_total",
					    "npsgw_node_cycles_total"};
	static const char *const helps[] = {"Times the graph node ran, all workers.",
					    "Packets the graph node processed, all workers.",
					    "TSC cycles the graph node spent, all workers."};
	for (int k = 0; k < 3; k++) {
		family(out, names[k], "counter", helps[k]);
		for (unsigned i = 0; i < s->n_nodes; i++) {
			const struct node_stat *n = &s->nodes[i];
			uint64_t v = k == 0 ? n->calls : k == 1 ? n->packets : n->cycles;
			sample(out, names[k], v, "node", n->name, NULL, NULL, NULL, NULL);
		}
	}
}

static void drops_control_totals(const struct metrics_snapshot *s, struct sbuf *out)
{
	family(out, "npsgw_drops_total", "counter", "Packets dropped, by reason (npsctl show drops describes each).");
	for (int d = 0; d < DROP_COUNT; d++)
		sample(out, "npsgw_drops_total", s->drops[d], "reason", metrics_drop_name(d), NULL, NULL, NULL, NULL);
	family(out, "npsgw_control_total", "counter", "Control thread counters: ARP, NDP, neighbours, punted packets.");
	for (int c = 0; c < CTL_COUNTER_COUNT; c++)
		sample(out, "npsgw_control_total", s->control[c], "counter", metrics_ctl_name(c), NULL, NULL, NULL,
		       NULL);
	static const char *const names[MT_COUNT] = {"npsgw_received_packets_total", "npsgw_created_packets_total",
						    "npsgw_sent_packets_total", "npsgw_dropped_packets_total",
						    "npsgw_punted_packets_total", "npsgw_absorbed_packets_total",
						    "npsgw_express_packets_total"};
	for (int t = 0; t < MT_COUNT; t++) {
		family(out, names[t], "counter", metrics_total_help[t]);
		sample(out, names[t], s->totals[t], NULL, NULL, NULL, NULL, NULL, NULL);
	}
}

static uint64_t traffic(const struct iface_counters *c, int k)
{
	return k == 0 ? c->rx_packets : k == 1 ? c->rx_bytes : k == 2 ? c->tx_packets : c->tx_bytes;
}

/* Per interface (labelled with its VRF, which is its tenant) and per VRF. */
static void ifaces_vrfs(const struct metrics_snapshot *s, struct sbuf *out)
{
	static const char *const what[] = {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"};
	static const char *const help[] = {"Packets received", "Bytes received", "Packets sent", "Bytes sent"};
	for (int k = 0; k < 4; k++) {
		char name[64], h[128];
		snprintf(name, sizeof(name), "npsgw_interface_%s_total", what[k]);
		snprintf(h, sizeof(h), "%s by the workers on the interface; tenant is its VRF.", help[k]);
		family(out, name, "counter", h);
		for (uint32_t i = 0; i < s->n_ifaces; i++) {
			const struct metrics_iface *f = &s->ifaces[i];
			sample(out, name, traffic(&f->c, k), "interface", f->name, "vrf", f->vrf, "tenant", f->vrf);
		}
	}
	for (int k = 0; k < 4; k++) {
		char name[64], h[128];
		snprintf(name, sizeof(name), "npsgw_vrf_%s_total", what[k]);
		snprintf(h, sizeof(h), "Sum of npsgw_interface_%s_total over the VRF's interfaces.", what[k]);
		family(out, name, "counter", h);
		for (uint32_t v = 0; v < s->n_vrfs; v++)
			sample(out, name, traffic(&s->vrfs[v].c, k), "vrf", s->vrfs[v].name, NULL, NULL, NULL, NULL);
	}
}

/* The functions' samples: a family's HELP/TYPE before its first sample; empty labels left out. */
static void nf_samples(const struct metrics_snapshot *s, struct sbuf *out)
{
	for (uint32_t i = 0; i < s->n_nf; i++) {
		const struct metrics_nf_sample *x = &s->nf[i];
		if (i == 0 || strcmp(x->family, s->nf[i - 1].family) != 0)
			family(out, x->family, x->type, x->help);
		const char *ln[2] = {NULL, NULL}, *lv[2] = {NULL, NULL};
		int n = 0;
		if (x->iface[0] != '\0') {
			ln[n] = "interface";
			lv[n++] = x->iface;
		}
		if (x->vrf[0] != '\0') {
			ln[n] = "vrf";
			lv[n++] = x->vrf;
		}
		sample(out, x->family, x->value, ln[0], lv[0], ln[1], lv[1], NULL, NULL);
	}
}

void prometheus_render(const struct metrics_snapshot *s, struct sbuf *out)
{
	ports(s, out);
	nodes(s, out);
	drops_control_totals(s, out);
	ifaces_vrfs(s, out);
	nf_samples(s, out);
	family(out, "npsgw_events_queued_total", "counter", "Control-socket event frames queued to subscribers.");
	sample(out, "npsgw_events_queued_total", s->events_queued, NULL, NULL, NULL, NULL, NULL, NULL);
	family(out, "npsgw_events_dropped_total", "counter", "Event frames dropped: a subscriber's queue was full.");
	sample(out, "npsgw_events_dropped_total", s->events_dropped, NULL, NULL, NULL, NULL, NULL, NULL);
	family(out, "npsgw_snapshot_timestamp_seconds", "gauge", "When the counters were read (Unix time).");
	sbuf_printf(out, "npsgw_snapshot_timestamp_seconds %" PRIu64 ".%03u\n", s->time_ms / 1000,
		    (unsigned)(s->time_ms % 1000));
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **state)
{
	static char text[] = "text/plain; charset=utf-8";
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		static char msg[] = "only GET and HEAD\n";
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, msg, sizeof(msg) - 1, MHD_RESPMEM_PERSISTENT);
	}
	if (strcmp(url, "/metrics") != 0) {
		static char msg[] = "npsd: the metrics are at /metrics\n";
		return reply(conn, MHD_HTTP_NOT_FOUND, text, msg, sizeof(msg) - 1, MHD_RESPMEM_PERSISTENT);
	}
	const struct metrics_snapshot *s = metrics_snapshot_get(FRESH_WAIT_MS);
	if (s == NULL) {
		static char msg[] = "npsd: no counters yet\n";
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, text, msg, sizeof(msg) - 1, MHD_RESPMEM_PERSISTENT);
	}
	struct sbuf out;
	sbuf_init(&out);
	prometheus_render(s, &out);
	metrics_snapshot_put(s);
	if (out.oom) {
		sbuf_free(&out);
		static char msg[] = "npsd: out of memory\n";
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, msg, sizeof(msg) - 1, MHD_RESPMEM_PERSISTENT);
	}
	return reply(conn, MHD_HTTP_OK, CONTENT_TYPE, out.data, out.len, MHD_RESPMEM_MUST_FREE);
}

int prometheus_start(const struct conf_metrics *m, char *err, size_t errlen)
{
	if (!m->listen_enabled || daemon_ != NULL)
		return 0;
	struct sockaddr_storage ss = {0};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (m->addr.family == 6) {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(m->port);
		memcpy(&sa->sin6_addr, m->addr.bytes, 16);
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
		sa->sin_family = AF_INET;
		sa->sin_port = htons(m->port);
		memcpy(&sa->sin_addr, m->addr.bytes, 4);
	}
	errno = 0;
	daemon_ = MHD_start_daemon(flags, m->port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &ss,
				   MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (daemon_ == NULL) {
		int rc = errno != 0 ? errno : EADDRNOTAVAIL;
		snprintf(err, errlen, "metrics endpoint: cannot listen on %s: %s", m->listen, strerror(rc));
		return rc;
	}
	return 0;
}

void prometheus_stop(void)
{
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
