/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * npsgw control protocol, version 1 (docs/CONTROL.md).
 *
 * Request: one line of at most CTL_REQ_MAX bytes including the final '\n': words separated by single or multiple
 * spaces/tabs: the command words ("route add") followed by "key value" pairs ("vrf blue prefix 10.0.0.0/24").
 * A token "--json" anywhere asks for a JSON body. No quoting: values never contain blanks.
 *
 * Reply: a header line "NPSGW/1 <status> <body-length>\n" then exactly body-length bytes. status is 0 on success
 * or a positive errno value. The body is text (aligned tables) or, with --json, one JSON object:
 *   {"version":1,"status":0,"error":null,"data":{"<table>":[{"col":value,...},...],...}}
 * on error: {"version":1,"status":22,"error":"message","data":{}}; the text body of an error is the message.
 *
 * No DPDK here: the parser, the dispatcher, the table renderer and the server loop are unit-tested alone.
 */
#ifndef NPSGW_CTLPROTO_H
#define NPSGW_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_PROTO_VERSION 1
#define CTL_REQ_MAX 4096
#define CTL_TOKENS_MAX 64
#define CTL_ERR_MAX 256
#define CTL_MAX_CLIENTS 64
#define CTL_REPLY_MAX (64u << 20) /* replies larger than this are refused with EFBIG */

/* A growable string buffer. */
struct sbuf {
	char *data;
	size_t len, cap;
	bool oom; /* an allocation failed: content is truncated */
};
void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_append(struct sbuf *b, const char *s, size_t len);
void sbuf_json_string(struct sbuf *b, const char *s); /* quoted, escaped per RFC 8259 */

/* A parsed request: tokens point into buf. */
struct ctl_req {
	char buf[CTL_REQ_MAX];
	int ntok;
	char *tok[CTL_TOKENS_MAX];
	bool json;
};
/* Parse line (len bytes, no '\n'). Returns 0, or a positive errno (EINVAL, E2BIG) with err filled. */
int ctl_req_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen);

/* Arguments after the command words: key/value pairs. */
struct ctl_args {
	int n;
	const char *key[CTL_TOKENS_MAX / 2];
	const char *val[CTL_TOKENS_MAX / 2];
};
const char *ctl_arg(const struct ctl_args *a, const char *key); /* NULL when absent */
/* Parse a value as an unsigned integer in [min,max]; returns 0 or EINVAL with err "bad KEY 'V' (expected ...)". */
int ctl_arg_u32(const struct ctl_args *a, const char *key, uint32_t min, uint32_t max, uint32_t *out, char *err,
		size_t errlen);

/* A table: named columns; cells are strings, or numbers when the column is numeric (JSON renders them bare). */
struct ctl_table {
	char name[32];
	int ncols;
	const char *cols[24];
	bool numeric[24];
	size_t nrows, caprows;
	char **cells; /* nrows * ncols strings, owned */
};

struct ctl_reply {
	int status;            /* 0 or errno */
	char err[CTL_ERR_MAX]; /* message when status != 0 */
	int ntables;
	struct ctl_table *tables[16];
	struct sbuf text;      /* free text appended after the tables in text mode (and as "message" in JSON) */
};
void ctl_reply_init(struct ctl_reply *r);
void ctl_reply_free(struct ctl_reply *r);
/* Set an error; returns status for "return ctl_reply_error(...)". */
int ctl_reply_error(struct ctl_reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add a table with columns "name" or "#name" (leading '#' marks the column numeric). NULL-terminated list. */
struct ctl_table *ctl_reply_table(struct ctl_reply *r, const char *name, ...) __attribute__((sentinel));
/* Append a row; pass exactly ncols strings. */
void ctl_table_row(struct ctl_table *t, ...);
/* Same, printf-style per cell is not offered: format numbers with snprintf before adding. */

/* Render the whole reply (header line + body) into out. */
void ctl_reply_render(const struct ctl_reply *r, bool json, struct sbuf *out);

/* A command of the handler table. */
struct ctl_ctx;
struct ctl_cmd {
	const char *words;    /* "route add" */
	const char *required; /* space-separated keys that must be present, "" for none */
	const char *optional; /* space-separated keys that may be present */
	const char *help;     /* one line: what it does */
	int (*fn)(struct ctl_ctx *ctx, const struct ctl_args *args, struct ctl_reply *reply);
};
/*
 * Find the command whose words are the longest prefix of the request tokens, and split and check the rest into
 * args (pairs; unknown, duplicate, missing or value-less keys are refused). Returns the command, or NULL with
 * *status (ENOENT for unknown command, EINVAL for bad arguments) and err set; err lists the usage.
 */
const struct ctl_cmd *ctl_dispatch(const struct ctl_cmd *table, size_t n, const struct ctl_req *req,
				   struct ctl_args *args, int *status, char *err, size_t errlen);
/* "words key VALUE [key VALUE]" usage line of a command into buf. */
const char *ctl_cmd_usage(const struct ctl_cmd *c, char *buf, size_t len);

/*
 * The server: a non-blocking Unix stream socket serving many clients from one thread; a slow or stuck client never
 * stalls others, a request longer than CTL_REQ_MAX gets an E2BIG reply and the connection is closed.
 */
struct ctl_server;
typedef void (*ctl_handle_fn)(void *cookie, const char *line, size_t len, struct sbuf *reply_frame);
/* Create, bind (replacing a stale socket file) and chmod to mode (refusing world-writable modes: returns NULL, EPERM). */
struct ctl_server *ctl_server_open(const char *path, unsigned mode, const char *group, ctl_handle_fn fn, void *cookie,
				   char *err, size_t errlen);
/* Serve for at most timeout_ms (0 = just poll); returns the number of requests handled, or -1 on fatal error. */
int ctl_server_poll(struct ctl_server *s, int timeout_ms);
void ctl_server_close(struct ctl_server *s); /* closes clients, unlinks the socket */
int ctl_server_nclients(const struct ctl_server *s); /* connected clients, for tests and "show control" */

/*
 * Events (docs/CONTROL.md, "Events"): a client subscribes to topics, a bit mask the application defines; from then
 * on ctl_server_publish() queues it event frames "NPSGW/1 EVENT <body-length>\n<body>", always between two whole
 * reply frames. A subscriber's queue is bounded: an event that would push its queued output past
 * CTL_EVENT_QUEUE_MAX is dropped for that client alone and counted; once there is room again, the client first
 * gets {"event":"lost","count":N} and then the events that follow. Publishing never blocks and never waits for a
 * subscriber.
 */
#define CTL_EVENT_QUEUE_MAX (256u << 10)
struct ctl_event_stats {
	uint64_t queued;  /* event frames queued to subscribers (one per subscriber) */
	uint64_t dropped; /* event frames dropped because a subscriber's queue was full */
};
/*
 * Set the topics of the client whose request is being handled (call it from a command handler; 0 unsubscribes).
 * Returns 0, or -1 (EINVAL) when no request is being handled.
 */
int ctl_server_subscribe(struct ctl_server *s, uint64_t topics);
/*
 * Queue body (len bytes: one JSON object ending with '\n') to every client subscribed to any of topics. Events
 * published while a client's own request is handled follow that request's reply. Returns the number of clients it
 * was queued to.
 */
int ctl_server_publish(struct ctl_server *s, uint64_t topics, const char *body, size_t len);
/* True when some client subscribed to one of topics: publishers may skip building an event nobody wants. */
bool ctl_server_has_subscribers(const struct ctl_server *s, uint64_t topics);
struct ctl_event_stats ctl_server_event_stats(const struct ctl_server *s);

/* Helper for handle_fn implementations: parse + dispatch + call + render into reply_frame. */
void ctl_serve_line(const struct ctl_cmd *table, size_t n, struct ctl_ctx *ctx, const char *line, size_t len,
		    struct sbuf *reply_frame);
/* Same over several command tables (the core's, then each network function's): the first that knows the words. */
struct ctl_cmd_table {
	const struct ctl_cmd *cmds;
	size_t n;
};
void ctl_serve_line_tables(const struct ctl_cmd_table *tables, size_t ntables, struct ctl_ctx *ctx, const char *line,
			   size_t len, struct sbuf *reply_frame);

/* Client side (npsctl, tests): connect, send one request, read one reply. Returns status or -errno on I/O error. */
int ctl_client_call(const char *path, const char *request, struct sbuf *body, int timeout_ms);

#endif
