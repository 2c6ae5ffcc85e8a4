/* SPDX-License-Identifier: BSD-3-Clause */
/* Reply building (tables, errors, free text) and rendering to the wire: header line + text or JSON body. */
#include "lib/ctlproto/ctlproto.h"
#include "lib/ctlproto/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLES_MAX ((int)(sizeof(((struct ctl_reply *)0)->tables) / sizeof(struct ctl_table *)))
#define COLS_MAX ((int)(sizeof(((struct ctl_table *)0)->cols) / sizeof(const char *)))

/*
 * What the public struct cannot say: a table that failed to grow. Tables only come from ctl_reply_table(), so
 * every struct ctl_table is the first member of one of these.
 */
struct table_state {
	struct ctl_table pub;
	size_t cell_bytes; /* sum of cell lengths: a table that can only render too large stops growing early */
	int failure;       /* 0, ENOMEM or EFBIG: the reply renders as that error */
};

static struct table_state *table_state(struct ctl_table *t)
{
	return (struct table_state *)t;
}

void ctl_reply_init(struct ctl_reply *r)
{
	memset(r, 0, sizeof(*r));
	sbuf_init(&r->text);
}

static void table_free_cells(struct ctl_table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->caprows = 0;
}

void ctl_reply_free(struct ctl_reply *r)
{
	for (int i = 0; i < r->ntables; i++) {
		struct ctl_table *t = r->tables[i];
		table_free_cells(t);
		for (int c = 0; c < t->ncols; c++)
			free((char *)t->cols[c]);
		free(table_state(t));
	}
	sbuf_free(&r->text);
	ctl_reply_init(r);
}

int ctl_reply_error(struct ctl_reply *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}

struct ctl_table *ctl_reply_table(struct ctl_reply *r, const char *name, ...)
{
	if (r->ntables == TABLES_MAX) {
		ctl_reply_error(r, ENOSPC, "internal error: more than %d tables in one reply", TABLES_MAX);
		return NULL;
	}
	struct table_state *ts = calloc(1, sizeof(*ts));
	if (ts == NULL) {
		ctl_reply_error(r, ENOMEM, "out of memory building the reply");
		return NULL;
	}
	struct ctl_table *t = &ts->pub;
	snprintf(t->name, sizeof(t->name), "%s", name);
	r->tables[r->ntables++] = t; /* owned by the reply from here on, even if a column fails below */

	va_list ap;
	va_start(ap, name);
	for (const char *col = va_arg(ap, const char *); col != NULL; col = va_arg(ap, const char *)) {
		if (t->ncols == COLS_MAX) {
			va_end(ap);
			ctl_reply_error(r, ENOSPC, "internal error: table %s has over %d columns", t->name, COLS_MAX);
			return NULL;
		}
		bool numeric = col[0] == '#';
		char *copy = strdup(numeric ? col + 1 : col);
		if (copy == NULL) {
			va_end(ap);
			ctl_reply_error(r, ENOMEM, "out of memory building the reply");
			return NULL;
		}
		t->numeric[t->ncols] = numeric;
		t->cols[t->ncols++] = copy;
	}
	va_end(ap);
	return t;
}

static void table_fail(struct ctl_table *t, int failure)
{
	table_free_cells(t);
	table_state(t)->failure = failure;
}

void ctl_table_row(struct ctl_table *t, ...)
{
	if (t == NULL || table_state(t)->failure != 0)
		return;
	size_t ncols = (size_t)t->ncols;
	if (t->nrows == t->caprows && ncols != 0) {
		size_t cap = t->caprows != 0 ? t->caprows * 2 : 16;
		char **cells = cap < SIZE_MAX / sizeof(char *) / ncols ? realloc(t->cells, cap * ncols * sizeof(char *))
									 : NULL;
		if (cells == NULL) {
			table_fail(t, ENOMEM);
			return;
		}
		t->cells = cells;
		t->caprows = cap;
	}
	char **row = t->cells + t->nrows * ncols;
	va_list ap;
	va_start(ap, t);
	for (size_t c = 0; c < ncols; c++) {
		const char *s = va_arg(ap, const char *);
		row[c] = strdup(s != NULL ? s : "");
		if (row[c] != NULL)
			table_state(t)->cell_bytes += strlen(row[c]) + 1;
		if (row[c] == NULL || table_state(t)->cell_bytes > CTL_REPLY_MAX) {
			int failure = row[c] == NULL ? ENOMEM : EFBIG;
			va_end(ap);
			for (size_t done = 0; done <= c; done++)
				free(row[done]);
			table_fail(t, failure);
			return;
		}
	}
	va_end(ap);
	t->nrows++;
}

/* JSON number grammar (RFC 8259 section 6): strtod would also take "inf", "0x10" or " 1", which JSON refuses. */
static bool is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

static const char *text_cell(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

/* One padded cell; control characters in data would break the columns, so they show as '?'. */
static void text_append_cell(struct sbuf *out, const char *s, size_t width, bool right, bool last)
{
	size_t len = strlen(s);
	size_t pad = width > len ? width - len : 0;
	if (right)
		sbuf_printf(out, "%*s", (int)pad, "");
	size_t start = out->len;
	sbuf_append(out, s, len);
	if (!out->oom)
		for (size_t i = start; i < out->len; i++)
			if ((unsigned char)out->data[i] < 0x20 || out->data[i] == 0x7f)
				out->data[i] = '?';
	if (!right && !last)
		sbuf_printf(out, "%*s", (int)pad, "");
}

static void render_text_table(const struct ctl_table *t, struct sbuf *out)
{
	size_t width[COLS_MAX];
	char upper[COLS_MAX][64];
	for (int c = 0; c < t->ncols; c++) {
		snprintf(upper[c], sizeof(upper[c]), "%s", t->cols[c]);
		for (char *p = upper[c]; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		width[c] = strlen(upper[c]);
		for (size_t row = 0; row < t->nrows; row++) {
			size_t len = strlen(text_cell(t->cells[row * (size_t)t->ncols + (size_t)c]));
			if (len > width[c])
				width[c] = len;
		}
	}
	for (int c = 0; c < t->ncols; c++) {
		sbuf_append(out, c != 0 ? "  " : "", c != 0 ? 2 : 0);
		text_append_cell(out, upper[c], width[c], t->numeric[c], c == t->ncols - 1);
	}
	sbuf_append(out, "\n", 1);
	for (size_t row = 0; row < t->nrows; row++) {
		for (int c = 0; c < t->ncols; c++) {
			sbuf_append(out, c != 0 ? "  " : "", c != 0 ? 2 : 0);
			const char *cell = text_cell(t->cells[row * (size_t)t->ncols + (size_t)c]);
			text_append_cell(out, cell, width[c], t->numeric[c], c == t->ncols - 1);
		}
		sbuf_append(out, "\n", 1);
	}
}

static void render_text(const struct ctl_reply *r, struct sbuf *body)
{
	for (int i = 0; i < r->ntables; i++) {
		if (i != 0)
			sbuf_append(body, "\n", 1);
		render_text_table(r->tables[i], body);
	}
	if (r->text.len != 0) {
		if (r->ntables != 0)
			sbuf_append(body, "\n", 1);
		sbuf_append(body, r->text.data, r->text.len);
		if (r->text.data[r->text.len - 1] != '\n')
			sbuf_append(body, "\n", 1);
	}
}

static void render_json_table(const struct ctl_table *t, struct sbuf *out)
{
	sbuf_json_string(out, t->name);
	sbuf_append(out, ":[", 2);
	for (size_t row = 0; row < t->nrows; row++) {
		sbuf_append(out, row != 0 ? ",{" : "{", row != 0 ? 2 : 1);
		for (int c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[row * (size_t)t->ncols + (size_t)c];
			if (c != 0)
				sbuf_append(out, ",", 1);
			sbuf_json_string(out, t->cols[c]);
			sbuf_append(out, ":", 1);
			if (t->numeric[c] && is_json_number(cell))
				sbuf_append(out, cell, strlen(cell));
			else
				sbuf_json_string(out, cell);
		}
		sbuf_append(out, "}", 1);
	}
	sbuf_append(out, "]", 1);
}

static void render_json(const struct ctl_reply *r, struct sbuf *body)
{
	sbuf_printf(body, "{\"version\":%d,\"status\":0,\"error\":null,\"data\":{", CTL_PROTO_VERSION);
	for (int i = 0; i < r->ntables; i++) {
		if (i != 0)
			sbuf_append(body, ",", 1);
		render_json_table(r->tables[i], body);
	}
	sbuf_append(body, "}", 1);
	if (r->text.len != 0) {
		sbuf_append(body, ",\"message\":", 11);
		sbuf_json_string(body, r->text.data);
	}
	sbuf_append(body, "}\n", 2);
}

static void append_frame(int status, const struct sbuf *body, struct sbuf *out)
{
	sbuf_printf(out, "NPSGW/%d %d %zu\n", CTL_PROTO_VERSION, status, body->len);
	sbuf_append(out, body->data != NULL ? body->data : "", body->len);
}

void ctl_render_error(int status, const char *msg, bool json, struct sbuf *out)
{
	struct sbuf body;
	sbuf_init(&body);
	if (json) {
		sbuf_printf(&body, "{\"version\":%d,\"status\":%d,\"error\":", CTL_PROTO_VERSION, status);
		sbuf_json_string(&body, msg);
		sbuf_append(&body, ",\"data\":{}}\n", 12);
	} else {
		sbuf_printf(&body, "%s\n", msg);
	}
	append_frame(status, &body, out);
	sbuf_free(&body);
}

/* The first reason the reply cannot be rendered as built: its own error, or a table or text that failed. */
static int reply_failure(const struct ctl_reply *r, const char **msg)
{
	if (r->status != 0) {
		int status = r->status > 0 ? r->status : -r->status;
		*msg = r->err[0] != '\0' ? r->err : strerror(status);
		return status;
	}
	for (int i = 0; i < r->ntables; i++) {
		int failure = table_state(r->tables[i])->failure;
		if (failure == EFBIG) {
			*msg = "reply too large: narrow the request";
			return EFBIG;
		}
		if (failure != 0) {
			*msg = "out of memory building the reply";
			return failure;
		}
	}
	if (r->text.oom) {
		*msg = "out of memory building the reply";
		return ENOMEM;
	}
	return 0;
}

void ctl_reply_render(const struct ctl_reply *r, bool json, struct sbuf *out)
{
	const char *msg;
	int status = reply_failure(r, &msg);
	if (status != 0) {
		ctl_render_error(status, msg, json, out);
		return;
	}

	struct sbuf body;
	sbuf_init(&body);
	if (json)
		render_json(r, &body);
	else
		render_text(r, &body);
	if (body.oom) {
		ctl_render_error(ENOMEM, "out of memory building the reply", json, out);
	} else if (body.len > CTL_REPLY_MAX) {
		char err[CTL_ERR_MAX];
		snprintf(err, sizeof(err), "reply too large (%zu bytes, max %u): narrow the request", body.len,
			 CTL_REPLY_MAX);
		ctl_render_error(EFBIG, err, json, out);
	} else {
		append_frame(0, &body, out);
	}
	sbuf_free(&body);
}
