/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus endpoint: the exposition of a hand-made snapshot (text format 0.0.4: HELP and TYPE before each
 * family's samples, label escaping, every counter present) and the HTTP side (200, 404, 405, 503, a port in use).
 * The snapshot functions of dataplane/metrics.c are replaced by the stubs below, so no EAL is needed.
 */
#include "dataplane/prometheus.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Counter names come from dataplane/metrics_names.c (linked in by the Makefile). */

static struct metrics_snapshot snap;
static bool have_snap;
static int refs; /* get minus put: must come back to 0 */

const struct metrics_snapshot *metrics_snapshot_get(int fresh_wait_ms)
{
	if (!have_snap)
		return NULL;
	__atomic_add_fetch(&refs, 1, __ATOMIC_SEQ_CST);
	return &snap;
}

void metrics_snapshot_put(const struct metrics_snapshot *s)
{
	if (s != NULL)
		__atomic_sub_fetch(&refs, 1, __ATOMIC_SEQ_CST);
}

/* ---- the snapshot ---- */

static struct node_stat nodes[2] = {{"port_rx-p0q0", 100, 7, 5000}, {"ip4_lookup", 3, 7, 210}};
static struct metrics_iface ifaces[2] = {{"a", "main", {1, 2, 3, 4}}, {"c.200", "tenant-\"x\"", {5, 6, 7, 8}}};
static struct metrics_vrf vrfs[2] = {{"main", {1, 2, 3, 4}}, {"tenant-\"x\"", {5, 6, 7, 8}}};
/* A function's samples (nf_desc.metrics): two families, labels optional. */
static struct metrics_nf_sample nf_samples[3] = {
	{"npsgw_ipsec_tunnel_rx_packets_total", "counter", "Inner packets decrypted.", "site1", "tenant-\"x\"", 42},
	{"npsgw_ipsec_tunnel_rx_packets_total", "counter", "Inner packets decrypted.", "site2", "main", 7},
	{"npsgw_ipsec_tunnel_up", "gauge", "Tunnel up.", "site1", "", 1},
};

static void fill_snapshot(void)
{
	snap = (struct metrics_snapshot){.seq = 3, .time_ms = 1700000000123ull, .n_ports = 2, .n_nodes = 2,
					 .nodes = nodes, .n_ifaces = 2, .ifaces = ifaces, .n_vrfs = 2, .vrfs = vrfs,
					 .n_nf = 3, .nf = nf_samples,
					 .events_queued = 12, .events_dropped = 1};
	snprintf(snap.ports[0].name, CONF_NAME_MAX, "p0");
	snap.ports[0].link_up = true;
	snprintf(snap.ports[1].name, CONF_NAME_MAX, "we\\ird\nport");
	for (int c = 0; c < MP_COUNT; c++) {
		snap.ports[0].c[c] = 10 + (uint64_t)c;
		snap.ports[1].c[c] = UINT64_MAX - (uint64_t)c;
	}
	for (int d = 0; d < DROP_COUNT; d++)
		snap.drops[d] = (uint64_t)d * 2;
	for (int c = 0; c < CTL_COUNTER_COUNT; c++)
		snap.control[c] = (uint64_t)c + 100;
	for (int t = 0; t < MT_COUNT; t++)
		snap.totals[t] = (uint64_t)t + 1000;
	have_snap = true;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Every sample follows its family's HELP and TYPE lines, in one block; counters end in _total. */
static void check_format(const char *text)
{
	char family[128] = "", help_of[128] = "";
	int samples = 0;
	CU_ASSERT(text[strlen(text) - 1] == '\n');
	char *copy = strdup(text), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[16];
		if (sscanf(line, "# HELP %127s", name) == 1) {
			snprintf(help_of, sizeof(help_of), "%s", name);
		} else if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			CU_ASSERT_STRING_EQUAL(name, help_of);
			CU_ASSERT(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			if (strcmp(type, "counter") == 0)
				CU_ASSERT(strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0);
			snprintf(family, sizeof(family), "%s", name);
		} else {
			size_t n = strcspn(line, "{ ");
			bool ok = n == strlen(family) && strncmp(line, family, n) == 0;
			if (!ok)
				fprintf(stderr, "\nsample outside its family %s: %s\n", family, line);
			CU_ASSERT(ok);
			samples++;
		}
	}
	free(copy);
	CU_ASSERT(samples > 0);
}

static void test_render(void)
{
	fill_snapshot();
	struct sbuf out;
	sbuf_init(&out);
	prometheus_render(&snap, &out);
	CU_ASSERT_FALSE_FATAL(out.oom);
	check_format(out.data);
	CU_ASSERT(has_line(out.data, "# TYPE npsgw_port_rx_packets_total counter"));
	CU_ASSERT(has_line(out.data, "# TYPE npsgw_ipsec_tunnel_rx_packets_total counter"));
	CU_ASSERT(has_line(out.data, "npsgw_ipsec_tunnel_rx_packets_total{interface=\"site1\",vrf=\"tenant-\\\"x\\\"\"} 42"));
	CU_ASSERT(has_line(out.data, "npsgw_ipsec_tunnel_rx_packets_total{interface=\"site2\",vrf=\"main\"} 7"));
	CU_ASSERT(has_line(out.data, "npsgw_ipsec_tunnel_up{interface=\"site1\"} 1"));
	CU_ASSERT(has_line(out.data, "npsgw_port_rx_packets_total{port=\"p0\"} 10"));
	CU_ASSERT(has_line(out.data, "npsgw_port_rx_nombuf_total{port=\"p0\"} 17"));
	CU_ASSERT(has_line(out.data, "npsgw_port_rx_packets_total{port=\"we\\\\ird\\nport\"} 18446744073709551615"));
	CU_ASSERT(has_line(out.data, "npsgw_port_link_up{port=\"p0\"} 1"));
	CU_ASSERT(has_line(out.data, "npsgw_port_link_up{port=\"we\\\\ird\\nport\"} 0"));
	CU_ASSERT(has_line(out.data, "npsgw_node_calls_total{node=\"port_rx-p0q0\"} 100"));
	CU_ASSERT(has_line(out.data, "npsgw_node_packets_total{node=\"ip4_lookup\"} 7"));
	CU_ASSERT(has_line(out.data, "npsgw_node_cycles_total{node=\"ip4_lookup\"} 210"));
	for (int d = 0; d < DROP_COUNT; d++) {
		char line[128];
		snprintf(line, sizeof(line), "npsgw_drops_total{reason=\"%s\"} %d", metrics_drop_name(d), d * 2);
		CU_ASSERT(has_line(out.data, line));
	}
	for (int c = 0; c < CTL_COUNTER_COUNT; c++) {
		char line[128];
		snprintf(line, sizeof(line), "npsgw_control_total{counter=\"%s\"} %d", metrics_ctl_name(c), c + 100);
		CU_ASSERT(has_line(out.data, line));
	}
	CU_ASSERT(has_line(out.data, "npsgw_received_packets_total 1000"));
	CU_ASSERT(has_line(out.data, "npsgw_punted_packets_total 1004"));
	CU_ASSERT(has_line(out.data,
			   "npsgw_interface_rx_packets_total{interface=\"a\",vrf=\"main\",tenant=\"main\"} 1"));
	CU_ASSERT(has_line(out.data, "npsgw_interface_tx_bytes_total{interface=\"c.200\",vrf=\"tenant-\\\"x\\\"\","
				     "tenant=\"tenant-\\\"x\\\"\"} 8"));
	CU_ASSERT(has_line(out.data, "npsgw_vrf_rx_bytes_total{vrf=\"main\"} 2"));
	CU_ASSERT(has_line(out.data, "npsgw_vrf_tx_packets_total{vrf=\"tenant-\\\"x\\\"\"} 7"));
	CU_ASSERT(has_line(out.data, "npsgw_events_dropped_total 1"));
	CU_ASSERT(has_line(out.data, "npsgw_snapshot_timestamp_seconds 1700000000.123"));

	/* An empty snapshot still has every family, with no samples for the empty tables. */
	struct metrics_snapshot empty = {0};
	sbuf_reset(&out);
	prometheus_render(&empty, &out);
	CU_ASSERT(has_line(out.data, "# TYPE npsgw_interface_rx_packets_total counter"));
	CU_ASSERT(strstr(out.data, "npsgw_interface_rx_packets_total{") == NULL);
	CU_ASSERT(has_line(out.data, "npsgw_received_packets_total 0"));
	sbuf_free(&out);
}

/* ---- HTTP ---- */

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	close(fd);
	return ntohs(sa.sin_port);
}

/* One HTTP/1.0 exchange; the whole response (headers and body) into out. */
static void http(uint16_t port, const char *request, struct sbuf *out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sbuf_reset(out);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
	char buf[65536];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		sbuf_append(out, buf, (size_t)n);
	close(fd);
}

static struct conf_metrics loopback(uint16_t port)
{
	struct conf_metrics m = {.listen_enabled = true, .addr = {.family = 4, .bytes = {127, 0, 0, 1}}, .port = port};
	snprintf(m.listen, sizeof(m.listen), "127.0.0.1:%u", port);
	return m;
}

static void test_http(void)
{
	char err[256] = "";
	struct sbuf r;
	sbuf_init(&r);
	struct conf_metrics off = {0};
	CU_ASSERT_EQUAL(prometheus_start(&off, err, sizeof(err)), 0); /* no listen address: nothing to do */

	fill_snapshot();
	uint16_t port = free_port();
	struct conf_metrics m = loopback(port);
	int rc = prometheus_start(&m, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);

	http(port, "GET /metrics HTTP/1.0\r\n\r\n", &r);
	CU_ASSERT(strncmp(r.data, "HTTP/1.0 200 OK\r\n", 17) == 0 || strncmp(r.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, "\r\n\r\n# HELP npsgw_port_link_up "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, "\nnpsgw_port_rx_packets_total{port=\"p0\"} 10\n"));

	http(port, "HEAD /metrics HTTP/1.0\r\n\r\n", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, " 200 OK\r\n"));
	CU_ASSERT_PTR_NULL(strstr(r.data, "npsgw_port_link_up"));

	http(port, "GET / HTTP/1.0\r\n\r\n", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, " 404 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, "/metrics"));

	http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, " 405 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, "Allow: GET, HEAD\r\n"));

	have_snap = false; /* before the first snapshot or after the end */
	http(port, "GET /metrics HTTP/1.0\r\n\r\n", &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.data, " 503 "));
	CU_ASSERT_EQUAL(refs, 0);

	/* The port is taken now: a second endpoint on it is refused with a message. */
	struct conf_metrics m2 = loopback(port);
	prometheus_stop();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* our test connections left TIME_WAITs */
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL(listen(fd, 1), 0);
	CU_ASSERT_NOT_EQUAL(prometheus_start(&m2, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot listen on 127.0.0.1:"));
	close(fd);
	prometheus_stop(); /* harmless when not running */

	/* IPv6 loopback, when the host has it. */
	struct conf_metrics m6 = {
		.listen_enabled = true, .addr = {.family = 6, .bytes = {[15] = 1}}, .port = free_port()};
	snprintf(m6.listen, sizeof(m6.listen), "[::1]:%u", m6.port);
	if (prometheus_start(&m6, err, sizeof(err)) != 0)
		fprintf(stderr, " (no IPv6 loopback: %s) ", err);
	prometheus_stop();
	sbuf_free(&r);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("prometheus", NULL, NULL);
	CU_add_test(s, "render", test_render);
	CU_add_test(s, "http", test_http);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed != 0;
}
