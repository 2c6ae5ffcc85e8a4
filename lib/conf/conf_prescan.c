/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lexical pass over the config text before libconfig sees it. libconfig 1.5 stores a plain integer literal that
 * does not fit 32 bits as a wrapped 32-bit value (4294967297 becomes 1) without any error; appending the L
 * suffix makes it a 64-bit integer, so the range checks see the number the operator wrote. Literals beyond 64
 * bits are refused here. @include is refused: one file is one place to look (bulk routes go in route_file).
 * Only literals outside strings and comments are touched, and no newline is added, so line numbers stay exact.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

struct scan {
	const char *p;
	size_t line;
};

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

/* Skip a string, comment or name starting at s->p; false when s->p starts none of them. */
static bool skip_non_number(struct scan *s)
{
	const char *p = s->p;
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '\n')
				s->line++;
		}
		s->p = *p == '"' ? p + 1 : p;
		return true;
	}
	if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
		while (*p != '\0' && *p != '\n')
			p++;
		s->p = p;
		return true;
	}
	if (p[0] == '/' && p[1] == '*') {
		for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
			if (*p == '\n')
				s->line++;
		s->p = *p != '\0' ? p + 2 : p;
		return true;
	}
	if (isalpha((unsigned char)*p) || *p == '*') {
		while (is_name_char(*p))
			p++;
		s->p = p;
		return true;
	}
	return false;
}

enum literal_fit { FIT_32, FIT_64, FIT_NONE };

/* Classify the integer literal at p (sign handled by the caller); *end is set past its digits. */
static enum literal_fit classify_integer(const char *p, bool negative, const char **end)
{
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2]);
	unsigned base = hex ? 16 : 10;
	uint64_t value = 0;
	bool overflow = false;
	if (hex)
		p += 2;
	for (; hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p); p++) {
		unsigned digit = isdigit((unsigned char)*p) ? (unsigned)(*p - '0') : (unsigned)(tolower(*p) - 'a' + 10);
		if (value > (UINT64_MAX - digit) / base)
			overflow = true;
		else
			value = value * base + digit;
	}
	*end = p;
	uint64_t limit64 = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t limit32 = negative ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX;
	if (overflow || value > limit64)
		return FIT_NONE;
	return value > limit32 ? FIT_64 : FIT_32;
}

static bool append(char **out, size_t *used, size_t *capacity, const char *data, size_t len)
{
	if (conf_grow((void **)out, capacity, *used + len + 1, 1) < 0)
		return false;
	memcpy(*out + *used, data, len);
	*used += len;
	(*out)[*used] = '\0';
	return true;
}

char *conf_prescan(struct conf_ctx *ctx, const char *text)
{
	struct scan s = {.p = text, .line = 1};
	char *out = NULL;
	size_t used = 0, capacity = 0;
	const char *copied = text; /* text before this is already in out */
	while (*s.p != '\0') {
		if (skip_non_number(&s))
			continue;
		char c = *s.p;
		if (c == '\n') {
			s.line++;
			s.p++;
			continue;
		}
		if (c == '@' && strncmp(s.p, "@include", 8) == 0) {
			free(out);
			conf_fail_at(
				ctx, ctx->name, s.line,
				"@include is not supported (expected a single file; bulk routes go in route_file)");
			return NULL;
		}
		const char *digits = s.p + ((c == '-' || c == '+') ? 1 : 0);
		if (!isdigit((unsigned char)*digits)) {
			s.p++;
			continue;
		}
		const char *end;
		enum literal_fit fit = classify_integer(digits, c == '-', &end);
		if (*end == '.' || *end == 'e' || *end == 'E') {
			/* A float: skip it whole so its exponent is not read as another literal. */
			for (end++; isalnum((unsigned char)*end) || *end == '.' || *end == '+' || *end == '-'; end++)
				;
			s.p = end;
			continue;
		}
		if (fit == FIT_NONE) {
			free(out);
			conf_fail_at(ctx, ctx->name, s.line, "integer %.*s is too large (expected at most %lld)",
				     (int)(end - s.p > 40 ? 40 : end - s.p), s.p, (long long)INT64_MAX);
			return NULL;
		}
		if (fit == FIT_64 && *end != 'L') {
			if (!append(&out, &used, &capacity, copied, (size_t)(end - copied)) ||
			    !append(&out, &used, &capacity, "L", 1)) {
				free(out);
				conf_fail_nomem(ctx);
				return NULL;
			}
			copied = end;
		}
		s.p = end;
	}
	if (!append(&out, &used, &capacity, copied, strlen(copied))) {
		free(out);
		conf_fail_nomem(ctx);
		return NULL;
	}
	return out;
}
