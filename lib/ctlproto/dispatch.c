/* SPDX-License-Identifier: BSD-3-Clause */
/* Command lookup in a handler table, argument checking, and the one-call line server used by the daemon. */
#include "lib/ctlproto/ctlproto.h"
#include "lib/ctlproto/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Length of the next space-separated word of a list, after skipping spaces; *list moves to its start. */
static size_t next_word(const char **list)
{
	while (**list == ' ')
		(*list)++;
	size_t len = 0;
	while ((*list)[len] != '\0' && (*list)[len] != ' ')
		len++;
	return len;
}

static bool word_in_list(const char *list, const char *word)
{
	size_t wlen = strlen(word);
	if (list == NULL)
		return false;
	for (size_t len; (len = next_word(&list)) != 0; list += len)
		if (len == wlen && memcmp(list, word, len) == 0)
			return true;
	return false;
}

/* Number of words of c; *matched counts how many of them, from the first, equal the request's leading tokens. */
static int match_words(const struct ctl_cmd *c, const struct ctl_req *req, int *matched)
{
	const char *w = c->words != NULL ? c->words : "";
	int nwords = 0;
	bool still_matching = true;
	*matched = 0;
	for (size_t len; (len = next_word(&w)) != 0; w += len) {
		if (still_matching && nwords < req->ntok && strlen(req->tok[nwords]) == len &&
		    memcmp(req->tok[nwords], w, len) == 0)
			(*matched)++;
		else
			still_matching = false;
		nwords++;
	}
	return nwords;
}

/* Bounded appending into a fixed buffer; output is cut at the end of buf, always NUL-terminated. */
struct strbuf {
	char *buf;
	size_t len, pos;
};

static void strbuf_vadd(struct strbuf *b, const char *fmt, va_list ap)
{
	if (b->len == 0 || b->pos >= b->len - 1)
		return;
	int n = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
	if (n > 0)
		b->pos += (size_t)n < b->len - b->pos ? (size_t)n : b->len - b->pos - 1;
}

static void strbuf_add(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strbuf_add(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vadd(b, fmt, ap);
	va_end(ap);
}

/* " key KEY" for each key of list; optional ones in brackets. */
static void usage_keys(struct strbuf *b, const char *list, bool optional)
{
	if (list == NULL)
		return;
	for (size_t len; (len = next_word(&list)) != 0; list += len) {
		strbuf_add(b, optional ? " [%.*s " : " %.*s ", (int)len, list);
		for (size_t i = 0; i < len; i++)
			strbuf_add(b, "%c", toupper((unsigned char)list[i]));
		if (optional)
			strbuf_add(b, "]");
	}
}

const char *ctl_cmd_usage(const struct ctl_cmd *c, char *buf, size_t len)
{
	struct strbuf b = {buf, len, 0};
	if (len != 0)
		buf[0] = '\0';
	strbuf_add(&b, "%s", c->words != NULL ? c->words : "");
	usage_keys(&b, c->required, false);
	usage_keys(&b, c->optional, true);
	return buf;
}

/* 16 or more hex digits (after an optional 0x) could be key material (IPsec keys): such a word is never quoted. */
static bool looks_like_name(const char *w)
{
	if (w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))
		w += 2;
	size_t n = 0;
	while (isxdigit((unsigned char)w[n]))
		n++;
	return w[n] != '\0' || n < 16;
}

/* Unknown or incomplete command: name what was typed and, when its first words exist, the commands they start. */
static void explain_unknown(const struct ctl_cmd *table, size_t n, const struct ctl_req *req, int depth, char *err,
			    size_t errlen)
{
	struct strbuf b = {err, errlen, 0};
	int shown = depth < req->ntok ? depth + 1 : depth;
	strbuf_add(&b, "%s command '", depth == req->ntok ? "incomplete" : "unknown");
	for (int i = 0; i < shown; i++)
		strbuf_add(&b, "%s%.64s", i != 0 ? " " : "", req->tok[i]);
	strbuf_add(&b, "'");
	if (depth > 0) {
		const char *sep = "; expected one of: ";
		for (size_t i = 0; i < n; i++) {
			int matched;
			match_words(&table[i], req, &matched);
			if (matched == depth) {
				strbuf_add(&b, "%s%s", sep, table[i].words);
				sep = ", ";
			}
		}
	}
	strbuf_add(&b, " (try 'help')");
}

/* "<problem>; usage: <usage>", the usage being what lets the operator fix the request at once. */
static const struct ctl_cmd *refuse_args(const struct ctl_cmd *c, int *status, char *err, size_t errlen,
					 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static const struct ctl_cmd *refuse_args(const struct ctl_cmd *c, int *status, char *err, size_t errlen,
					 const char *fmt, ...)
{
	char usage[CTL_ERR_MAX];
	struct strbuf b = {err, errlen, 0};
	va_list ap;
	va_start(ap, fmt);
	strbuf_vadd(&b, fmt, ap);
	va_end(ap);
	strbuf_add(&b, "; usage: %s", ctl_cmd_usage(c, usage, sizeof(usage)));
	*status = EINVAL;
	return NULL;
}

const struct ctl_cmd *ctl_dispatch(const struct ctl_cmd *table, size_t n, const struct ctl_req *req,
				   struct ctl_args *args, int *status, char *err, size_t errlen)
{
	const struct ctl_cmd *best = NULL;
	int best_words = 0, partial_depth = 0;
	args->n = 0;
	for (size_t i = 0; i < n; i++) {
		int matched, nwords = match_words(&table[i], req, &matched);
		if (nwords > 0 && matched == nwords && nwords > best_words) {
			best = &table[i];
			best_words = nwords;
		} else if (matched < nwords && matched > partial_depth) {
			partial_depth = matched;
		}
	}
	if (req->ntok == 0) {
		snprintf(err, errlen, "empty request (try 'help')");
		*status = EINVAL;
		return NULL;
	}
	if (best == NULL) {
		explain_unknown(table, n, req, partial_depth, err, errlen);
		*status = ENOENT;
		return NULL;
	}

	for (int i = best_words; i < req->ntok; i += 2) {
		const char *key = req->tok[i];
		/* A word in a key's place may be a misplaced value (a secret key): never quote what looks like one. */
		const char *shown = looks_like_name(key) ? key : "(a value, not quoted)";
		if (!word_in_list(best->required, key) && !word_in_list(best->optional, key))
			return refuse_args(best, status, err, errlen, "unknown key '%.64s'", shown);
		if (ctl_arg(args, key) != NULL)
			return refuse_args(best, status, err, errlen, "duplicate key '%.64s'", shown);
		if (i + 1 == req->ntok)
			return refuse_args(best, status, err, errlen, "key '%.64s' has no value", shown);
		args->key[args->n] = key;
		args->val[args->n] = req->tok[i + 1];
		args->n++;
	}
	const char *list = best->required != NULL ? best->required : "";
	for (size_t len; (len = next_word(&list)) != 0; list += len) {
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)len, list);
		if (ctl_arg(args, key) == NULL)
			return refuse_args(best, status, err, errlen, "missing key '%s'", key);
	}
	*status = 0;
	return best;
}

void ctl_serve_line(const struct ctl_cmd *table, size_t n, struct ctl_ctx *ctx, const char *line, size_t len,
		    struct sbuf *reply_frame)
{
	const struct ctl_cmd_table one = {table, n};
	ctl_serve_line_tables(&one, 1, ctx, line, len, reply_frame);
}

void ctl_serve_line_tables(const struct ctl_cmd_table *tables, size_t ntables, struct ctl_ctx *ctx, const char *line,
			   size_t len, struct sbuf *reply_frame)
{
	struct ctl_req req;
	struct ctl_args args;
	char err[CTL_ERR_MAX];
	int status = ctl_req_parse(line, len, &req, err, sizeof(err));
	if (status != 0) {
		ctl_render_error(status, err, req.json, reply_frame);
		return;
	}
	const struct ctl_cmd *cmd = NULL;
	char first_err[CTL_ERR_MAX] = "";
	for (size_t t = 0; t < ntables && cmd == NULL; t++) {
		cmd = ctl_dispatch(tables[t].cmds, tables[t].n, &req, &args, &status, err, sizeof(err));
		if (cmd == NULL && status != ENOENT)
			break; /* this table knows the words: its complaint about the arguments stands */
		if (cmd == NULL && t == 0)
			snprintf(first_err, sizeof(first_err), "%s", err);
	}
	if (cmd == NULL) {
		if (status == ENOENT && first_err[0] != '\0')
			snprintf(err, sizeof(err), "%s", first_err);
		ctl_render_error(status, err, req.json, reply_frame);
		return;
	}

	struct ctl_reply reply;
	ctl_reply_init(&reply);
	status = cmd->fn(ctx, &args, &reply);
	if (status < 0)
		status = -status; /* tolerate the -errno habit of DPDK and the kernel */
	if (status != 0) {
		reply.status = status;
		if (reply.err[0] == '\0')
			snprintf(reply.err, sizeof(reply.err), "%s", strerror(status));
	}
	ctl_reply_render(&reply, req.json, reply_frame);
	ctl_reply_free(&reply);
}
