/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control protocol: request parsing, dispatch, rendering, the server on a real socket under a temporary
 * directory, and the client against the server and against fake servers.
 *
 * Server tests drive ctl_server_poll() from the test thread with non-blocking client sockets, so every step is
 * deterministic; only ctl_client_call(), which blocks, talks to a server run by a second thread.
 */
#include "lib/ctlproto/ctlproto.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PUMP_ROUNDS 400 /* server polls of at most 5 ms before a test gives up waiting */

/* The JSON body of a successful reply whose only content is the free text msg. */
#define OK_JSON(msg) "{\"version\":1,\"status\":0,\"error\":null,\"data\":{},\"message\":\"" msg "\"}\n"

static char tmpdir[64];
static char sock_path[96];

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

/* ---- handlers of the test command table ---- */

struct ctl_ctx {
	int calls;
};

static int h_ok(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	if (ctx != NULL)
		ctx->calls++;
	sbuf_printf(&reply->text, "ok");
	return 0;
}

static int h_echo(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	const char *msg = ctl_arg(args, "msg");
	sbuf_printf(&reply->text, "%s", msg != NULL ? msg : "");
	return 0;
}

static int h_big(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	uint32_t n;
	if (ctl_arg_u32(args, "n", 1, 10u << 20, &n, reply->err, sizeof(reply->err)) != 0)
		return EINVAL;
	char *text = malloc(n);
	memset(text, 'x', n);
	sbuf_append(&reply->text, text, n);
	free(text);
	return 0;
}

static int h_fail_plain(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	return ENOSPC;
}

static int h_fail_msg(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	return ctl_reply_error(reply, EEXIST, "route %s exists", ctl_arg(args, "prefix"));
}

static int h_fail_negative(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	return -EEXIST;
}

/* The server the event commands act on (set by the tests that use them). */
static struct ctl_server *event_server;

static int h_subscribe(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	uint32_t topics = 0xff;
	if (ctl_arg(args, "topics") != NULL &&
	    ctl_arg_u32(args, "topics", 0, 0xff, &topics, reply->err, sizeof(reply->err)) != 0)
		return EINVAL;
	return ctl_server_subscribe(event_server, topics) == 0 ? 0 : EINVAL;
}

/* Publishes an event while its own request is being handled: the event must follow this reply. */
static int h_emit(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"event\":\"%s\"}\n", ctl_arg(args, "name"));
	ctl_server_publish(event_server, 1, body, (size_t)n);
	sbuf_printf(&reply->text, "emitted");
	return 0;
}

static const struct ctl_cmd test_cmds[] = {
	{"route show", "", "vrf", "show routes", h_ok},
	{"route add", "vrf prefix", "via dev", "add a route", h_ok},
	{"route add blackhole", "vrf prefix", "", "add a blackhole route", h_ok},
	{"route del", "vrf prefix", "", "delete a route", h_fail_msg},
	{"echo", "", "msg", "echo msg", h_echo},
	{"big", "n", "", "n bytes of text", h_big},
	{"fail plain", "", "", "fails without a message", h_fail_plain},
	{"fail negative", "", "", "fails with -EEXIST", h_fail_negative},
	{"subscribe", "", "topics", "subscribe to events", h_subscribe},
	{"emit", "name", "", "publish an event on topic 1", h_emit},
};
#define N_CMDS (sizeof(test_cmds) / sizeof(test_cmds[0]))

static void serve_test_cmds(void *cookie, const char *line, size_t len, struct sbuf *frame)
{
	ctl_serve_line(test_cmds, N_CMDS, cookie, line, len, frame);
}

/* ---- helpers ---- */

static int parse(const char *line, struct ctl_req *req, char *err)
{
	return ctl_req_parse(line, strlen(line), req, err, CTL_ERR_MAX);
}

/* Take one whole frame off the front of in: 1 with status and body, 0 while incomplete, -1 if malformed. */
static int take_frame(struct sbuf *in, int *status, struct sbuf *body)
{
	char *nl = in->len != 0 ? memchr(in->data, '\n', in->len) : NULL;
	if (nl == NULL)
		return 0;
	int version;
	size_t len;
	if (sscanf(in->data, "NPSGW/%d %d %zu\n", &version, status, &len) != 3 || version != CTL_PROTO_VERSION)
		return -1;
	size_t hlen = (size_t)(nl - in->data) + 1;
	if (in->len < hlen + len)
		return 0;
	sbuf_reset(body);
	sbuf_append(body, in->data + hlen, len);
	memmove(in->data, in->data + hlen + len, in->len - hlen - len);
	in->len -= hlen + len;
	return 1;
}

/* Split a rendered frame into status and body, checking the header's length against the body. */
static int frame_split(const struct sbuf *frame, struct sbuf *body)
{
	struct sbuf copy;
	int status = -1;
	sbuf_init(&copy);
	sbuf_append(&copy, frame->data, frame->len);
	CU_ASSERT_EQUAL(take_frame(&copy, &status, body), 1);
	CU_ASSERT_EQUAL(copy.len, 0);
	sbuf_free(&copy);
	return status;
}

static int client_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void client_send(int fd, const char *data, size_t len)
{
	CU_ASSERT_EQUAL(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read what fd has into in. Returns false once it saw EOF or a reset. */
static bool client_drain(int fd, struct sbuf *in)
{
	char buf[65536];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			sbuf_append(in, buf, (size_t)n);
			continue;
		}
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* Run the server until fd's next reply is complete. Returns its status, or -1 if it never came. */
static int pump_reply(struct ctl_server *s, int fd, struct sbuf *in, struct sbuf *body)
{
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		int status, rc = take_frame(in, &status, body);
		if (rc == 1)
			return status;
		if (rc < 0)
			return -1;
		ctl_server_poll(s, 5);
		client_drain(fd, in);
	}
	return -1;
}

/* Run the server until fd sees EOF. Returns true if it did. */
static bool pump_eof(struct ctl_server *s, int fd, struct sbuf *in)
{
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		if (!client_drain(fd, in))
			return true;
		ctl_server_poll(s, 5);
	}
	return false;
}

static bool pump_nclients(struct ctl_server *s, int want)
{
	for (int round = 0; round < PUMP_ROUNDS && ctl_server_nclients(s) != want; round++)
		ctl_server_poll(s, 5);
	return ctl_server_nclients(s) == want;
}

static struct ctl_server *open_test_server(void)
{
	char err[CTL_ERR_MAX] = "";
	struct ctl_server *s = ctl_server_open(sock_path, 0600, NULL, serve_test_cmds, NULL, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "ctl_server_open: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

/* ---- request parsing ---- */

static void test_parse_blanks(void)
{
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	CU_ASSERT_EQUAL(parse("  route\t add   vrf\t\tblue \t", &req, err), 0);
	CU_ASSERT_EQUAL_FATAL(req.ntok, 4);
	CU_ASSERT_STRING_EQUAL(req.tok[0], "route");
	CU_ASSERT_STRING_EQUAL(req.tok[1], "add");
	CU_ASSERT_STRING_EQUAL(req.tok[2], "vrf");
	CU_ASSERT_STRING_EQUAL(req.tok[3], "blue");
	CU_ASSERT_FALSE(req.json);

	CU_ASSERT_EQUAL(parse("help\r", &req, err), 0); /* CRLF clients */
	CU_ASSERT_EQUAL_FATAL(req.ntok, 1);
	CU_ASSERT_STRING_EQUAL(req.tok[0], "help");

	CU_ASSERT_EQUAL(parse("name caf\xc3\xa9", &req, err), 0); /* UTF-8 is data, not control */
	CU_ASSERT_EQUAL(req.ntok, 2);
}

static void test_parse_json_anywhere(void)
{
	static const char *lines[] = {"--json route show", "route --json show", "route show --json",
				      "route\t--json\tshow"};
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CU_ASSERT_EQUAL(parse(lines[i], &req, err), 0);
		CU_ASSERT_TRUE(req.json);
		CU_ASSERT_EQUAL_FATAL(req.ntok, 2);
		CU_ASSERT_STRING_EQUAL(req.tok[0], "route");
		CU_ASSERT_STRING_EQUAL(req.tok[1], "show");
	}
	CU_ASSERT_EQUAL(parse("route show --jsonx", &req, err), 0);
	CU_ASSERT_FALSE(req.json);
	CU_ASSERT_EQUAL(req.ntok, 3);
}

static void test_parse_too_many_tokens(void)
{
	struct sbuf line;
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	sbuf_init(&line);
	for (int i = 0; i < CTL_TOKENS_MAX; i++)
		sbuf_printf(&line, "t%d ", i);
	sbuf_printf(&line, "--json");
	CU_ASSERT_EQUAL(parse(line.data, &req, err), 0); /* --json does not count */
	CU_ASSERT_EQUAL(req.ntok, CTL_TOKENS_MAX);
	sbuf_printf(&line, " one-more");
	CU_ASSERT_EQUAL(parse(line.data, &req, err), E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too many"));
	CU_ASSERT_TRUE(req.json); /* the error is still rendered the way the client asked */
	sbuf_free(&line);
}

static void test_parse_too_long(void)
{
	char line[CTL_REQ_MAX + 1];
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	memset(line, 'a', sizeof(line));
	CU_ASSERT_EQUAL(ctl_req_parse(line, CTL_REQ_MAX - 1, &req, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(req.ntok, 1);
	CU_ASSERT_EQUAL(strlen(req.tok[0]), CTL_REQ_MAX - 1);
	CU_ASSERT_EQUAL(ctl_req_parse(line, CTL_REQ_MAX, &req, err, sizeof(err)), E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
	CU_ASSERT_EQUAL(ctl_req_parse(line, sizeof(line), &req, err, sizeof(err)), E2BIG);
}

static void test_parse_empty(void)
{
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	CU_ASSERT_EQUAL(parse("", &req, err), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
	CU_ASSERT_EQUAL(parse(" \t  ", &req, err), EINVAL);
	CU_ASSERT_EQUAL(parse("--json", &req, err), EINVAL);
	CU_ASSERT_TRUE(req.json);
	CU_ASSERT_EQUAL(req.ntok, 0);
}

static void test_parse_control_chars(void)
{
	struct ctl_req req;
	char err[CTL_ERR_MAX];
	CU_ASSERT_EQUAL(parse("route\x01" "add", &req, err), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0x01"));
	CU_ASSERT_EQUAL(req.ntok, 0);
	CU_ASSERT_EQUAL(ctl_req_parse("ab\0cd", 5, &req, err, sizeof(err)), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0x00"));
	CU_ASSERT_EQUAL(parse("help\x7f", &req, err), EINVAL);
	CU_ASSERT_EQUAL(parse("help\r\r", &req, err), EINVAL); /* only one final CR is a line ending */
	CU_ASSERT_EQUAL(parse("he\rlp", &req, err), EINVAL);
	CU_ASSERT_EQUAL(parse("help\x1b[2J --json", &req, err), EINVAL);
	CU_ASSERT_TRUE(req.json);
}

/* ---- dispatch ---- */

/* The arguments point into the parsed request, so it must outlive the call. */
static struct ctl_req dispatched_req;

static const struct ctl_cmd *dispatch(const char *line, struct ctl_args *args, int *status, char *err)
{
	CU_ASSERT_EQUAL_FATAL(parse(line, &dispatched_req, err), 0);
	return ctl_dispatch(test_cmds, N_CMDS, &dispatched_req, args, status, err, CTL_ERR_MAX);
}

static void test_dispatch_longest_prefix(void)
{
	struct ctl_args args;
	char err[CTL_ERR_MAX];
	int status = -1;
	const struct ctl_cmd *c = dispatch("route add blackhole vrf blue prefix 10.0.0.0/8", &args, &status, err);
	CU_ASSERT_PTR_EQUAL(c, &test_cmds[2]);
	CU_ASSERT_EQUAL(status, 0);
	c = dispatch("route add vrf blue prefix 10.0.0.0/8 via 192.0.2.1", &args, &status, err);
	CU_ASSERT_PTR_EQUAL(c, &test_cmds[1]);
	CU_ASSERT_EQUAL(args.n, 3);
	CU_ASSERT_STRING_EQUAL(ctl_arg(&args, "vrf"), "blue");
	CU_ASSERT_STRING_EQUAL(ctl_arg(&args, "prefix"), "10.0.0.0/8");
	CU_ASSERT_STRING_EQUAL(ctl_arg(&args, "via"), "192.0.2.1");
	CU_ASSERT_PTR_NULL(ctl_arg(&args, "dev"));
	c = dispatch("route show", &args, &status, err);
	CU_ASSERT_PTR_EQUAL(c, &test_cmds[0]);
	CU_ASSERT_EQUAL(args.n, 0);
}

static void test_dispatch_unknown(void)
{
	struct ctl_args args;
	char err[CTL_ERR_MAX];
	int status = 0;
	CU_ASSERT_PTR_NULL(dispatch("frobnicate now", &args, &status, err));
	CU_ASSERT_EQUAL(status, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown command 'frobnicate'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "help"));

	CU_ASSERT_PTR_NULL(dispatch("route flush vrf blue", &args, &status, err));
	CU_ASSERT_EQUAL(status, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown command 'route flush'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "route show, route add"));

	CU_ASSERT_PTR_NULL(dispatch("route", &args, &status, err));
	CU_ASSERT_EQUAL(status, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "incomplete command 'route'"));
}

static void expect_bad_args(const char *line, const char *problem)
{
	static const char usage[] = "usage: route add vrf VRF prefix PREFIX [via VIA] [dev DEV]";
	struct ctl_args args;
	char err[CTL_ERR_MAX];
	int status = 0;
	CU_ASSERT_PTR_NULL(dispatch(line, &args, &status, err));
	CU_ASSERT_EQUAL(status, EINVAL);
	if (strstr(err, problem) == NULL || strstr(err, usage) == NULL) {
		fprintf(stderr, "\n'%s': got '%s'\n", line, err);
		CU_FAIL("error names neither the key nor the usage");
	}
}

static void test_dispatch_bad_args(void)
{
	expect_bad_args("route add vrf blue", "missing key 'prefix'");
	expect_bad_args("route add prefix 10.0.0.0/8", "missing key 'vrf'");
	expect_bad_args("route add vrf blue prefix 10.0.0.0/8 color red", "unknown key 'color'");
	expect_bad_args("route add vrf blue vrf red prefix 10.0.0.0/8", "duplicate key 'vrf'");
	expect_bad_args("route add vrf blue prefix", "key 'prefix' has no value");
	expect_bad_args("route add 10.0.0.0/8", "unknown key '10.0.0.0/8'");
	/* A misplaced value that may be key material (16+ hex digits) is never quoted back. */
	static const char secret[] = "00112233445566778899aabbccddeeff";
	char line[160], err[CTL_ERR_MAX];
	const char *const forms[] = {"route add vrf blue prefix 10.0.0.0/8 %s 1", "route add vrf blue prefix 10.0.0.0/8 via 1 %s",
				     "route add vrf blue prefix 10.0.0.0/8 0x%s x"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct ctl_args args;
		int status = 0;
		snprintf(line, sizeof(line), forms[i], secret);
		CU_ASSERT_PTR_NULL(dispatch(line, &args, &status, err));
		CU_ASSERT_EQUAL(status, EINVAL);
		CU_ASSERT(strstr(err, "0011223344") == NULL);
		CU_ASSERT(strstr(err, "(a value, not quoted)") != NULL);
	}
}

static void test_cmd_usage(void)
{
	char buf[CTL_ERR_MAX];
	CU_ASSERT_STRING_EQUAL(ctl_cmd_usage(&test_cmds[1], buf, sizeof(buf)),
			       "route add vrf VRF prefix PREFIX [via VIA] [dev DEV]");
	CU_ASSERT_STRING_EQUAL(ctl_cmd_usage(&test_cmds[0], buf, sizeof(buf)), "route show [vrf VRF]");
	CU_ASSERT_STRING_EQUAL(ctl_cmd_usage(&test_cmds[6], buf, sizeof(buf)), "fail plain");
	char small[12];
	CU_ASSERT_STRING_EQUAL(ctl_cmd_usage(&test_cmds[1], small, sizeof(small)), "route add v");
}

static void test_arg_u32(void)
{
	struct ctl_args a = {
		.n = 8,
		.key = {"zero", "max", "over", "neg", "junk", "empty", "octal", "space"},
		.val = {"0", "4294967295", "4294967296", "-1", "12x", "", "010", " 5"},
	};
	char err[CTL_ERR_MAX];
	uint32_t v = 77;
	CU_ASSERT_EQUAL(ctl_arg_u32(&a, "zero", 0, 10, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(ctl_arg_u32(&a, "max", 0, UINT32_MAX, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, UINT32_MAX);
	CU_ASSERT_EQUAL(ctl_arg_u32(&a, "octal", 0, 100, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v, 10);
	v = 77;
	CU_ASSERT_EQUAL(ctl_arg_u32(&a, "zero", 1, 10, &v, err, sizeof(err)), EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "bad zero '0' (expected an integer from 1 to 10)");
	CU_ASSERT_EQUAL(ctl_arg_u32(&a, "max", 0, UINT32_MAX - 1, &v, err, sizeof(err)), EINVAL);
	static const char *bad[] = {"over", "neg", "junk", "empty", "space"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(ctl_arg_u32(&a, bad[i], 0, UINT32_MAX, &v, err, sizeof(err)), EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i]));
	}
	CU_ASSERT_EQUAL(ctl_arg_u32(&a, "absent", 0, 10, &v, err, sizeof(err)), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing absent"));
	CU_ASSERT_EQUAL(v, 77); /* untouched on error */
}

/* ---- rendering ---- */

static void render(const struct ctl_reply *r, bool json, int want_status, const char *want_body)
{
	struct sbuf frame, body;
	sbuf_init(&frame);
	sbuf_init(&body);
	ctl_reply_render(r, json, &frame);
	CU_ASSERT_EQUAL(frame_split(&frame, &body), want_status);
	if (body.data == NULL || strcmp(body.data, want_body) != 0) {
		fprintf(stderr, "\nwant:\n%s\ngot:\n%s\n", want_body, body.data != NULL ? body.data : "(null)");
		CU_FAIL("rendered body differs");
	}
	sbuf_free(&frame);
	sbuf_free(&body);
}

static void fill_demo_reply(struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "ifaces", "name", "#mtu", "vrf", NULL);
	ctl_table_row(t, "eth0", "1500", "blue");
	ctl_table_row(t, "veth-long", "9000", "");
	t = ctl_reply_table(r, "counters", "#rx_packets", NULL);
	ctl_table_row(t, "1");
	sbuf_printf(&r->text, "done");
}

static void test_render_text(void)
{
	struct ctl_reply r;
	ctl_reply_init(&r);
	fill_demo_reply(&r);
	render(&r, false, 0,
	       "NAME        MTU  VRF\n"
	       "eth0       1500  blue\n"
	       "veth-long  9000  -\n"
	       "\n"
	       "RX_PACKETS\n"
	       "         1\n"
	       "\n"
	       "done\n");
	ctl_reply_free(&r);

	ctl_reply_init(&r);
	struct ctl_table *t = ctl_reply_table(&r, "t", "a", "b", NULL);
	ctl_table_row(t, "x\ty", NULL); /* control characters would break the columns; NULL is an empty cell */
	render(&r, false, 0, "A    B\nx?y  -\n");
	ctl_reply_free(&r);

	ctl_reply_init(&r);
	render(&r, false, 0, "");
	ctl_reply_free(&r);
}

static void test_render_json(void)
{
	struct ctl_reply r;
	ctl_reply_init(&r);
	fill_demo_reply(&r);
	render(&r, true, 0,
	       "{\"version\":1,\"status\":0,\"error\":null,\"data\":{"
	       "\"ifaces\":[{\"name\":\"eth0\",\"mtu\":1500,\"vrf\":\"blue\"},"
	       "{\"name\":\"veth-long\",\"mtu\":9000,\"vrf\":\"\"}],"
	       "\"counters\":[{\"rx_packets\":1}]},\"message\":\"done\"}\n");
	ctl_reply_free(&r);

	ctl_reply_init(&r);
	ctl_reply_table(&r, "empty", "a", NULL);
	render(&r, true, 0, "{\"version\":1,\"status\":0,\"error\":null,\"data\":{\"empty\":[]}}\n");
	ctl_reply_free(&r);
}

static void test_render_json_escaping(void)
{
	struct sbuf b;
	sbuf_init(&b);
	sbuf_json_string(&b, "q\"b\\s/\n\t\r\b\f\x01\x1f\x7f caf\xc3\xa9 \xff \xe2\x82 \xed\xa0\x80 \xf0\x9f\x98\x80");
	CU_ASSERT_STRING_EQUAL(b.data, "\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001\\u001f\x7f caf\xc3\xa9 "
				       "\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80\"");
	sbuf_reset(&b);
	sbuf_json_string(&b, "");
	CU_ASSERT_STRING_EQUAL(b.data, "\"\"");
	sbuf_free(&b);

	struct ctl_reply r;
	ctl_reply_init(&r);
	struct ctl_table *t = ctl_reply_table(&r, "t\"1", "na\"me", NULL);
	ctl_table_row(t, "a\\b\"c\n");
	render(&r, true, 0,
	       "{\"version\":1,\"status\":0,\"error\":null,\"data\":"
	       "{\"t\\\"1\":[{\"na\\\"me\":\"a\\\\b\\\"c\\n\"}]}}\n");
	ctl_reply_free(&r);
}

static void test_render_numeric_vs_string(void)
{
	static const char *cells[][2] = {
		{"12", "12"},       {"-3.5e2", "-3.5e2"}, {"0", "0"},         {"0.25", "0.25"},   {"1E+9", "1E+9"},
		{"007", "\"007\""}, {"1e", "\"1e\""},     {"0x10", "\"0x10\""}, {"inf", "\"inf\""}, {"", "\"\""},
		{" 1", "\" 1\""},   {"1.", "\"1.\""},     {"-", "\"-\""},     {"+1", "\"+1\""},   {".5", "\".5\""},
	};
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		struct ctl_reply r;
		char want[256];
		ctl_reply_init(&r);
		struct ctl_table *t = ctl_reply_table(&r, "t", "#num", "str", NULL);
		ctl_table_row(t, cells[i][0], "5");
		snprintf(want, sizeof(want),
			 "{\"version\":1,\"status\":0,\"error\":null,\"data\":{\"t\":[{\"num\":%s,\"str\":\"5\"}]}}\n",
			 cells[i][1]);
		render(&r, true, 0, want);
		ctl_reply_free(&r);
	}
}

static void test_render_errors(void)
{
	struct ctl_reply r;
	ctl_reply_init(&r);
	fill_demo_reply(&r); /* an error drops tables and text */
	CU_ASSERT_EQUAL(ctl_reply_error(&r, EINVAL, "bad \"prefix\" %s", "x"), EINVAL);
	render(&r, false, EINVAL, "bad \"prefix\" x\n");
	render(&r, true, EINVAL, "{\"version\":1,\"status\":22,\"error\":\"bad \\\"prefix\\\" x\",\"data\":{}}\n");
	ctl_reply_free(&r);

	ctl_reply_init(&r);
	r.status = ENOENT; /* no message: strerror */
	render(&r, false, ENOENT, "No such file or directory\n");
	ctl_reply_free(&r);
}

static void test_reply_limits(void)
{
	struct ctl_reply r;
	ctl_reply_init(&r);
	for (int i = 0; i < 16; i++)
		CU_ASSERT_PTR_NOT_NULL(ctl_reply_table(&r, "t", "a", NULL));
	struct ctl_table *t = ctl_reply_table(&r, "one too many", "a", NULL);
	CU_ASSERT_PTR_NULL(t);
	ctl_table_row(t, "ignored");
	CU_ASSERT_EQUAL(r.status, ENOSPC);
	ctl_reply_free(&r);

	ctl_reply_init(&r);
	CU_ASSERT_PTR_NULL(ctl_reply_table(&r, "wide", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
					   "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25",
					   NULL));
	CU_ASSERT_EQUAL(r.status, ENOSPC);
	ctl_reply_free(&r);

	/* A table whose cells alone exceed the reply limit stops growing and renders as EFBIG. */
	ctl_reply_init(&r);
	t = ctl_reply_table(&r, "huge", "a", NULL);
	char *cell = malloc(1u << 20);
	memset(cell, 'y', (1u << 20) - 1);
	cell[(1u << 20) - 1] = '\0';
	for (unsigned i = 0; i < (CTL_REPLY_MAX >> 20) + 1; i++)
		ctl_table_row(t, cell);
	free(cell);
	CU_ASSERT_TRUE(t->nrows < (CTL_REPLY_MAX >> 20));
	struct sbuf frame, body;
	sbuf_init(&frame);
	sbuf_init(&body);
	ctl_reply_render(&r, false, &frame);
	CU_ASSERT_EQUAL(frame_split(&frame, &body), EFBIG);
	sbuf_free(&frame);
	sbuf_free(&body);
	ctl_reply_free(&r);
}

/* ---- ctl_serve_line ---- */

static int serve(const char *line, struct sbuf *body)
{
	struct sbuf frame;
	struct ctl_ctx ctx = {0};
	sbuf_init(&frame);
	ctl_serve_line(test_cmds, N_CMDS, &ctx, line, strlen(line), &frame);
	int status = frame_split(&frame, body);
	sbuf_free(&frame);
	return status;
}

static void test_serve_line(void)
{
	struct sbuf body;
	sbuf_init(&body);
	CU_ASSERT_EQUAL(serve("route add vrf a prefix p", &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "ok\n");
	CU_ASSERT_EQUAL(serve("route add vrf a prefix p --json", &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, OK_JSON("ok"));
	CU_ASSERT_EQUAL(serve("fail plain", &body), ENOSPC);
	CU_ASSERT_STRING_EQUAL(body.data, "No space left on device\n");
	CU_ASSERT_EQUAL(serve("fail negative", &body), EEXIST);
	CU_ASSERT_EQUAL(serve("route del vrf a prefix 10.0.0.0/8", &body), EEXIST);
	CU_ASSERT_STRING_EQUAL(body.data, "route 10.0.0.0/8 exists\n");
	CU_ASSERT_EQUAL(serve("nope --json", &body), ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "{\"version\":1,\"status\":2,\"error\":\"unknown command 'nope'"));
	CU_ASSERT_EQUAL(serve("route add vrf a", &body), EINVAL);
	CU_ASSERT_EQUAL(serve("", &body), EINVAL);
	CU_ASSERT_EQUAL(serve("big n 0", &body), EINVAL);
	CU_ASSERT_STRING_EQUAL(body.data, "bad n '0' (expected an integer from 1 to 10485760)\n");
	sbuf_free(&body);
}

/* Random bytes, and random mixes of real words and bytes, through the parser, the dispatcher and the renderer. */
static void test_random_requests(void)
{
	static const char *vocab[] = {"route", "add", "show", "del", "blackhole", "vrf", "prefix", "via", "dev",
				      "--json", "echo", "msg", "big", "n", "1", "fail", "plain", " ", "\t", "\r"};
	char line[CTL_REQ_MAX + 64];
	struct sbuf frame, body;
	sbuf_init(&frame);
	sbuf_init(&body);
	for (int iter = 0; iter < 5000; iter++) {
		size_t len = 0, want = iter % 100 == 0 ? rnd(sizeof(line)) : rnd(120);
		while (len < want) {
			if (rnd(3) == 0) {
				line[len++] = (char)rnd(256);
			} else {
				const char *w = vocab[rnd(sizeof(vocab) / sizeof(vocab[0]))];
				size_t wl = strlen(w);
				if (len + wl + 1 > sizeof(line))
					break;
				memcpy(line + len, w, wl);
				len += wl;
				line[len++] = ' ';
			}
		}
		struct ctl_req req;
		struct ctl_args args;
		char err[CTL_ERR_MAX];
		int rc = ctl_req_parse(line, len, &req, err, sizeof(err));
		CU_ASSERT(rc == 0 || rc == EINVAL || rc == E2BIG);
		if (rc == 0) {
			int status = -1;
			const struct ctl_cmd *c;
			c = ctl_dispatch(test_cmds, N_CMDS, &req, &args, &status, err, sizeof(err));
			CU_ASSERT(c != NULL ? status == 0 : (status == ENOENT || status == EINVAL));
			CU_ASSERT(strlen(err) < CTL_ERR_MAX);
		}
		sbuf_reset(&frame);
		ctl_serve_line(test_cmds, N_CMDS, NULL, line, len, &frame);
		int status = frame_split(&frame, &body);
		CU_ASSERT(status >= 0);
	}
	sbuf_free(&frame);
	sbuf_free(&body);
}

/* ---- server ---- */

static void test_server_pipelined(void)
{
	struct ctl_server *s = open_test_server();
	struct sbuf in, body;
	sbuf_init(&in);
	sbuf_init(&body);
	int fd = client_connect();
	static const char reqs[] = "echo msg a\necho msg b --json\n\necho msg c\r\n";
	client_send(fd, reqs, sizeof(reqs) - 1);
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "a\n");
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, OK_JSON("b"));
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), EINVAL); /* the empty line is a request too */
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "c\n");

	/* A request split over several writes is one request. */
	client_send(fd, "echo ms", 7);
	ctl_server_poll(s, 0);
	client_send(fd, "g d\n", 4);
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "d\n");
	CU_ASSERT_EQUAL(in.len, 0);

	/* A request of exactly the maximum length (newline included) is accepted. */
	char line[CTL_REQ_MAX];
	memset(line, 'z', sizeof(line));
	line[CTL_REQ_MAX - 1] = '\n';
	client_send(fd, line, sizeof(line));
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), ENOENT);
	CU_ASSERT_EQUAL(ctl_server_nclients(s), 1);

	close(fd);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	sbuf_free(&in);
	sbuf_free(&body);
}

static void test_server_oversized(void)
{
	struct ctl_server *s = open_test_server();
	struct sbuf in, body;
	sbuf_init(&in);
	sbuf_init(&body);
	char line[CTL_REQ_MAX + 100];
	memset(line, 'a', sizeof(line));
	memcpy(line, "--json ", 7);
	int fd = client_connect();
	client_send(fd, line, sizeof(line));
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "\"status\":7,\"error\":\"request too long"));
	CU_ASSERT_TRUE(pump_eof(s, fd, &in));
	CU_ASSERT_EQUAL(in.len, 0); /* nothing after the E2BIG reply */
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	close(fd);
	ctl_server_close(s);
	sbuf_free(&in);
	sbuf_free(&body);
}

static void test_server_garbage(void)
{
	struct ctl_server *s = open_test_server();
	struct sbuf in_a, in_b, body;
	sbuf_init(&in_a);
	sbuf_init(&in_b);
	sbuf_init(&body);
	int a = client_connect(), b = client_connect();
	static const char garbage[] = "\x01\x02\xff\x00zz\x1b\x80\n";
	client_send(a, garbage, sizeof(garbage) - 1);
	CU_ASSERT_EQUAL(pump_reply(s, a, &in_a, &body), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "control character 0x01"));
	client_send(b, "echo msg fine\n", 14);
	CU_ASSERT_EQUAL(pump_reply(s, b, &in_b, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "fine\n");
	client_send(a, "echo msg again\n", 15); /* the garbage sender is still served */
	CU_ASSERT_EQUAL(pump_reply(s, a, &in_a, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "again\n");
	close(a);
	close(b);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	sbuf_free(&in_a);
	sbuf_free(&in_b);
	sbuf_free(&body);
}

static void test_server_disconnect_mid_request(void)
{
	struct ctl_server *s = open_test_server();
	struct sbuf in, body;
	sbuf_init(&in);
	sbuf_init(&body);
	int a = client_connect();
	client_send(a, "echo msg half", 13);
	CU_ASSERT_TRUE(pump_nclients(s, 1));
	close(a);
	CU_ASSERT_TRUE(pump_nclients(s, 0));

	/* A client that half-closes after its request still gets the reply. */
	int b = client_connect();
	client_send(b, "echo msg bye\n", 13);
	shutdown(b, SHUT_WR);
	CU_ASSERT_EQUAL(pump_reply(s, b, &in, &body), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "bye\n");
	CU_ASSERT_TRUE(pump_eof(s, b, &in));
	close(b);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	sbuf_free(&in);
	sbuf_free(&body);
}

static void test_server_slow_reader(void)
{
	struct ctl_server *s = open_test_server();
	struct sbuf in, body;
	sbuf_init(&in);
	sbuf_init(&body);
	int lazy = client_connect();
	for (int i = 0; i < 40; i++) /* 40 MB of replies it never reads */
		client_send(lazy, "big n 1048576\n", 14);
	for (int i = 0; i < 10; i++)
		ctl_server_poll(s, 0);
	int busy = client_connect();
	for (int i = 0; i < 5; i++) {
		client_send(busy, "echo msg hi\n", 12);
		CU_ASSERT_EQUAL(pump_reply(s, busy, &in, &body), 0);
		CU_ASSERT_STRING_EQUAL(body.data, "hi\n");
	}
	CU_ASSERT_EQUAL(ctl_server_nclients(s), 2); /* stalled, not dropped */
	close(lazy);
	close(busy);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	sbuf_free(&in);
	sbuf_free(&body);
}

static void test_server_too_many_clients(void)
{
	struct ctl_server *s = open_test_server();
	struct sbuf in, body;
	sbuf_init(&in);
	sbuf_init(&body);
	int fds[CTL_MAX_CLIENTS];
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		fds[i] = client_connect();
		ctl_server_poll(s, 0);
	}
	CU_ASSERT_TRUE(pump_nclients(s, CTL_MAX_CLIENTS));
	int extra = client_connect();
	client_send(extra, "echo msg hi\n", 12);
	CU_ASSERT_EQUAL(pump_reply(s, extra, &in, &body), EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "too many control clients"));
	CU_ASSERT_TRUE(pump_eof(s, extra, &in));
	close(extra);
	CU_ASSERT_EQUAL(ctl_server_nclients(s), CTL_MAX_CLIENTS);
	close(fds[0]);
	CU_ASSERT_TRUE(pump_nclients(s, CTL_MAX_CLIENTS - 1));
	int again = client_connect(); /* a freed slot is reused */
	client_send(again, "echo msg back\n", 14);
	CU_ASSERT_EQUAL(pump_reply(s, again, &in, &body), 0);
	close(again);
	for (int i = 1; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	sbuf_free(&in);
	sbuf_free(&body);
}

static void test_server_modes(void)
{
	char err[CTL_ERR_MAX];
	struct stat st;
	errno = 0;
	CU_ASSERT_PTR_NULL(ctl_server_open(sock_path, 0666, NULL, serve_test_cmds, NULL, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "world-writable"));
	CU_ASSERT_PTR_NULL(ctl_server_open(sock_path, 0602, NULL, serve_test_cmds, NULL, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, EPERM);
	CU_ASSERT_NOT_EQUAL(lstat(sock_path, &st), 0); /* nothing created */

	struct group *gr = getgrgid(getgid());
	CU_ASSERT_PTR_NOT_NULL_FATAL(gr);
	char group[64];
	snprintf(group, sizeof(group), "%s", gr->gr_name);
	struct ctl_server *s = ctl_server_open(sock_path, 0660, group, serve_test_cmds, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(lstat(sock_path, &st), 0);
	CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	CU_ASSERT_EQUAL(st.st_gid, getgid());
	ctl_server_close(s);
	CU_ASSERT_NOT_EQUAL(lstat(sock_path, &st), 0); /* close removes the socket file */

	errno = 0;
	CU_ASSERT_PTR_NULL(
		ctl_server_open(sock_path, 0660, "no-such-group-npsgw", serve_test_cmds, NULL, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no-such-group-npsgw"));
}

static void test_server_stale_socket(void)
{
	char err[CTL_ERR_MAX];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	int dead = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(dead, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(dead); /* the file stays, nobody listens: a crashed daemon's leftover */

	struct ctl_server *s = ctl_server_open(sock_path, 0600, NULL, serve_test_cmds, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct sbuf in, body;
	sbuf_init(&in);
	sbuf_init(&body);
	int fd = client_connect();
	client_send(fd, "echo msg alive\n", 15);
	CU_ASSERT_EQUAL(pump_reply(s, fd, &in, &body), 0);
	close(fd);

	/* A live server's socket is not stolen. */
	errno = 0;
	CU_ASSERT_PTR_NULL(ctl_server_open(sock_path, 0600, NULL, serve_test_cmds, NULL, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, EADDRINUSE);
	ctl_server_close(s);

	/* Nor is a file that is not a socket. */
	FILE *f = fopen(sock_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	CU_ASSERT_PTR_NULL(ctl_server_open(sock_path, 0600, NULL, serve_test_cmds, NULL, err, sizeof(err)));
	CU_ASSERT_EQUAL(errno, EEXIST);
	struct stat st;
	CU_ASSERT_EQUAL(lstat(sock_path, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	unlink(sock_path);
	sbuf_free(&in);
	sbuf_free(&body);
}

/* ---- client ---- */

struct server_thread {
	pthread_t thread;
	struct ctl_server *server;
	atomic_bool stop;
};

static void *server_thread_main(void *arg)
{
	struct server_thread *t = arg;
	while (!atomic_load(&t->stop))
		ctl_server_poll(t->server, 10);
	return NULL;
}

static void test_client_call(void)
{
	struct server_thread t = {.server = open_test_server()};
	atomic_init(&t.stop, false);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t.thread, NULL, server_thread_main, &t), 0);
	struct sbuf body;
	sbuf_init(&body);
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "echo msg hello", &body, 2000), 0);
	CU_ASSERT_STRING_EQUAL(body.data, "hello\n");
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "route add vrf blue", &body, 2000), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "missing key 'prefix'"));
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "route show --json", &body, 0), 0);
	CU_ASSERT_EQUAL(body.data[0], '{');
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "big n 3000000", &body, 5000), 0);
	CU_ASSERT_EQUAL(body.len, 3000001);
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "two\nrequests", &body, 2000), -EINVAL);

	/* Far too long: the server answers E2BIG and closes while the client may still be writing. */
	size_t len = 1u << 20;
	char *huge = malloc(len + 1);
	memset(huge, 'h', len);
	huge[len] = '\0';
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, huge, &body, 2000), E2BIG);
	free(huge);

	atomic_store(&t.stop, true);
	pthread_join(t.thread, NULL);
	ctl_server_close(t.server);

	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "echo", &body, 2000), -ENOENT);
	sbuf_free(&body);
}

/* A listener that accepts one connection, reads one line and answers with a fixed, possibly broken, reply. */
struct fake_server {
	pthread_t thread;
	int fd;
	const char *reply;
};

static void *fake_server_main(void *arg)
{
	struct fake_server *f = arg;
	int c = accept(f->fd, NULL, NULL);
	char buf[256];
	ssize_t n;
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0 && memchr(buf, '\n', (size_t)n) == NULL)
		;
	(void)!send(c, f->reply, strlen(f->reply), MSG_NOSIGNAL);
	close(c);
	return NULL;
}

static int listen_fake(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL(listen(fd, 4), 0);
	return fd;
}

static int call_fake(const char *reply, struct sbuf *body)
{
	struct fake_server f = {.fd = listen_fake(), .reply = reply};
	CU_ASSERT_EQUAL_FATAL(pthread_create(&f.thread, NULL, fake_server_main, &f), 0);
	int rc = ctl_client_call(sock_path, "help", body, 2000);
	pthread_join(f.thread, NULL);
	close(f.fd);
	unlink(sock_path);
	return rc;
}

static void test_client_fake_servers(void)
{
	struct sbuf body;
	sbuf_init(&body);
	CU_ASSERT_EQUAL(call_fake("NPSGW/1 17 7\nexists\n", &body), EEXIST);
	CU_ASSERT_STRING_EQUAL(body.data, "exists\n");
	CU_ASSERT_EQUAL(call_fake("NPSGW/1 0 0\n", &body), 0);
	CU_ASSERT_EQUAL(body.len, 0);
	CU_ASSERT_EQUAL(call_fake("HTTP/1.0 200 OK\r\n\r\n", &body), -EPROTO);
	CU_ASSERT_EQUAL(call_fake("NPSGW/2 0 0\n", &body), -EPROTO);
	CU_ASSERT_EQUAL(call_fake("NPSGW/1 0 x\n", &body), -EPROTO);
	CU_ASSERT_EQUAL(call_fake("NPSGW/1 0 999999999999\n", &body), -EPROTO);
	CU_ASSERT_EQUAL(call_fake("NPSGW/1 0 10\nabc", &body), -ECONNRESET);
	CU_ASSERT_EQUAL(body.len, 0);
	CU_ASSERT_EQUAL(call_fake("", &body), -ECONNRESET);

	/* A server that never answers: the deadline holds. */
	int fd = listen_fake();
	CU_ASSERT_EQUAL(ctl_client_call(sock_path, "help", &body, 100), -ETIMEDOUT);
	close(fd);
	unlink(sock_path);
	sbuf_free(&body);
}

/* ---- events ---- */

/* Take one whole frame of either kind off in: 1 = reply (status set), 2 = event, 0 = incomplete, -1 = malformed. */
static int take_any_frame(struct sbuf *in, int *status, struct sbuf *body)
{
	char *nl = in->len != 0 ? memchr(in->data, '\n', in->len) : NULL;
	size_t len;
	int version;
	if (nl == NULL)
		return 0;
	if (sscanf(in->data, "NPSGW/%d EVENT %zu\n", &version, &len) == 2) {
		size_t hlen = (size_t)(nl - in->data) + 1;
		if (in->len < hlen + len)
			return 0;
		sbuf_reset(body);
		sbuf_append(body, in->data + hlen, len);
		memmove(in->data, in->data + hlen + len, in->len - hlen - len);
		in->len -= hlen + len;
		return version == CTL_PROTO_VERSION ? 2 : -1;
	}
	return take_frame(in, status, body);
}

/* Run the server until fd's next frame is complete: returns 1 (reply), 2 (event) or -1 (none came / malformed). */
static int pump_frame(struct ctl_server *s, int fd, struct sbuf *in, int *status, struct sbuf *body)
{
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		int rc = take_any_frame(in, status, body);
		if (rc != 0)
			return rc;
		ctl_server_poll(s, 5);
		client_drain(fd, in);
	}
	return -1;
}

/* Nothing more arrives for fd within a few polls. */
static bool pump_silence(struct ctl_server *s, int fd, struct sbuf *in)
{
	for (int round = 0; round < 5; round++) {
		ctl_server_poll(s, 2);
		client_drain(fd, in);
	}
	return in->len == 0;
}

static void test_server_events(void)
{
	struct ctl_server *s = event_server = open_test_server();
	struct sbuf in_a, in_b, body;
	sbuf_init(&in_a);
	sbuf_init(&in_b);
	sbuf_init(&body);
	int status;
	int a = client_connect(), b = client_connect();
	CU_ASSERT_TRUE(pump_nclients(s, 2));
	CU_ASSERT_EQUAL(ctl_server_subscribe(s, 1), -1); /* no request being handled */
	CU_ASSERT_FALSE(ctl_server_has_subscribers(s, 1));
	CU_ASSERT_EQUAL(ctl_server_publish(s, 1, "{}\n", 3), 0);

	client_send(a, "subscribe topics 1\n", 19);
	CU_ASSERT_EQUAL(pump_reply(s, a, &in_a, &body), 0);
	CU_ASSERT_TRUE(ctl_server_has_subscribers(s, 1));
	CU_ASSERT_FALSE(ctl_server_has_subscribers(s, 2));
	static const char ev[] = "{\"event\":\"link\",\"port\":\"p0\"}\n";
	CU_ASSERT_EQUAL(ctl_server_publish(s, 1 | 4, ev, sizeof(ev) - 1), 1);
	CU_ASSERT_EQUAL(ctl_server_publish(s, 2, "{\"event\":\"other\"}\n", 18), 0);
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 2);
	CU_ASSERT_STRING_EQUAL(body.data, ev);
	CU_ASSERT_TRUE(pump_silence(s, a, &in_a)); /* topic 2 was not for a */
	CU_ASSERT_TRUE(pump_silence(s, b, &in_b)); /* b never subscribed */

	/* The raw frame: header with the event's length, then the body. */
	CU_ASSERT_EQUAL(ctl_server_publish(s, 1, "{}\n", 3), 1);
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 2);
	CU_ASSERT_STRING_EQUAL(body.data, "{}\n");

	/* A subscriber still makes requests; an event its own request causes comes after that request's reply. */
	client_send(a, "emit name mine\necho msg next\n", 29);
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 1);
	CU_ASSERT_STRING_EQUAL(body.data, "emitted\n");
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 2);
	CU_ASSERT_STRING_EQUAL(body.data, "{\"event\":\"mine\"}\n");
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 1);
	CU_ASSERT_STRING_EQUAL(body.data, "next\n");

	/* Another client's request that publishes reaches a subscriber at once. */
	client_send(b, "emit name theirs\n", 17);
	CU_ASSERT_EQUAL(pump_reply(s, b, &in_b, &body), 0);
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 2);
	CU_ASSERT_STRING_EQUAL(body.data, "{\"event\":\"theirs\"}\n");
	CU_ASSERT_TRUE(pump_silence(s, b, &in_b));

	/* Unsubscribing stops them. */
	client_send(a, "subscribe topics 0\n", 19);
	CU_ASSERT_EQUAL(pump_reply(s, a, &in_a, &body), 0);
	CU_ASSERT_EQUAL(ctl_server_publish(s, 1, "{}\n", 3), 0);
	CU_ASSERT_TRUE(pump_silence(s, a, &in_a));
	CU_ASSERT_FALSE(ctl_server_has_subscribers(s, 0xff));

	/* A subscriber that leaves is forgotten; publishing afterwards is harmless. */
	client_send(b, "subscribe\n", 10);
	CU_ASSERT_EQUAL(pump_reply(s, b, &in_b, &body), 0);
	close(b);
	CU_ASSERT_TRUE(pump_nclients(s, 1));
	CU_ASSERT_EQUAL(ctl_server_publish(s, 1, "{}\n", 3), 0);
	CU_ASSERT_EQUAL(ctl_server_event_stats(s).dropped, 0);

	close(a);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	event_server = NULL;
	sbuf_free(&in_a);
	sbuf_free(&in_b);
	sbuf_free(&body);
}

/* A subscriber that does not read loses events (counted, then told), and nobody else waits for it. */
static void test_server_events_slow_subscriber(void)
{
	struct ctl_server *s = event_server = open_test_server();
	struct sbuf in_a, in_b, body;
	sbuf_init(&in_a);
	sbuf_init(&in_b);
	sbuf_init(&body);
	int status;
	int a = client_connect(), b = client_connect();
	client_send(a, "subscribe\n", 10);
	CU_ASSERT_EQUAL(pump_reply(s, a, &in_a, &body), 0);

	enum { N = 3000, SIZE = 1000 };
	char ev[SIZE];
	memset(ev, 'e', sizeof(ev));
	memcpy(ev, "{\"n\":\"", 6);
	memcpy(ev + SIZE - 3, "\"}\n", 3);
	int queued = 0;
	for (int i = 0; i < N; i++) {
		queued += ctl_server_publish(s, 1, ev, sizeof(ev));
		if (i % 100 == 0) {
			/* b is served meanwhile; a's socket fills up and its queue reaches the bound */
			client_send(b, "echo msg hi\n", 12);
			CU_ASSERT_EQUAL(pump_reply(s, b, &in_b, &body), 0);
		}
	}
	struct ctl_event_stats st = ctl_server_event_stats(s);
	CU_ASSERT_EQUAL(st.queued, (uint64_t)queued);
	CU_ASSERT_EQUAL(st.queued + st.dropped, N);
	CU_ASSERT(st.dropped > 0);
	CU_ASSERT(queued < N);
	CU_ASSERT_EQUAL(ctl_server_nclients(s), 2); /* slow, not dropped */

	/* a catches up: every queued event, then one notice with the number lost, then new events again. */
	int got = 0;
	while (got < queued && pump_frame(s, a, &in_a, &status, &body) == 2 && body.len == SIZE)
		got++;
	CU_ASSERT_EQUAL(got, queued);
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 2);
	char want[64];
	snprintf(want, sizeof(want), "{\"event\":\"lost\",\"count\":%d}\n", N - queued);
	CU_ASSERT_STRING_EQUAL(body.data, want);
	CU_ASSERT_EQUAL(ctl_server_publish(s, 1, "{}\n", 3), 1);
	CU_ASSERT_EQUAL(pump_frame(s, a, &in_a, &status, &body), 2);
	CU_ASSERT_STRING_EQUAL(body.data, "{}\n");
	CU_ASSERT_TRUE(pump_silence(s, a, &in_a));

	close(a);
	close(b);
	CU_ASSERT_TRUE(pump_nclients(s, 0));
	ctl_server_close(s);
	event_server = NULL;
	sbuf_free(&in_a);
	sbuf_free(&in_b);
	sbuf_free(&body);
}

static int suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ctlproto.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/npsd.sock", tmpdir);
	return 0;
}

static int suite_cleanup(void)
{
	unlink(sock_path);
	return rmdir(tmpdir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite p = CU_add_suite("ctlproto parse+dispatch+render", NULL, NULL);
	CU_add_test(p, "parse: blanks", test_parse_blanks);
	CU_add_test(p, "parse: --json anywhere", test_parse_json_anywhere);
	CU_add_test(p, "parse: too many tokens", test_parse_too_many_tokens);
	CU_add_test(p, "parse: too long", test_parse_too_long);
	CU_add_test(p, "parse: empty", test_parse_empty);
	CU_add_test(p, "parse: control characters", test_parse_control_chars);
	CU_add_test(p, "dispatch: longest prefix", test_dispatch_longest_prefix);
	CU_add_test(p, "dispatch: unknown command", test_dispatch_unknown);
	CU_add_test(p, "dispatch: bad arguments", test_dispatch_bad_args);
	CU_add_test(p, "dispatch: usage", test_cmd_usage);
	CU_add_test(p, "args: u32", test_arg_u32);
	CU_add_test(p, "render: text", test_render_text);
	CU_add_test(p, "render: json", test_render_json);
	CU_add_test(p, "render: json escaping", test_render_json_escaping);
	CU_add_test(p, "render: numeric vs string", test_render_numeric_vs_string);
	CU_add_test(p, "render: errors", test_render_errors);
	CU_add_test(p, "reply: limits", test_reply_limits);
	CU_add_test(p, "serve line", test_serve_line);
	CU_add_test(p, "random requests", test_random_requests);
	CU_pSuite s = CU_add_suite("ctlproto server+client", suite_init, suite_cleanup);
	CU_add_test(s, "server: pipelined requests", test_server_pipelined);
	CU_add_test(s, "server: oversized request", test_server_oversized);
	CU_add_test(s, "server: binary garbage", test_server_garbage);
	CU_add_test(s, "server: disconnect mid-request", test_server_disconnect_mid_request);
	CU_add_test(s, "server: slow reader", test_server_slow_reader);
	CU_add_test(s, "server: too many clients", test_server_too_many_clients);
	CU_add_test(s, "server: modes and group", test_server_modes);
	CU_add_test(s, "server: stale socket", test_server_stale_socket);
	CU_add_test(s, "server: events", test_server_events);
	CU_add_test(s, "server: slow event subscriber", test_server_events_slow_subscriber);
	CU_add_test(s, "client: call", test_client_call);
	CU_add_test(s, "client: fake servers", test_client_fake_servers);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures != 0;
}
