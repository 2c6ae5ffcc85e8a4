/* SPDX-License-Identifier: BSD-3-Clause */
/* Growable string buffer and JSON string escaping. After any append the data is NUL-terminated. */
#include "lib/ctlproto/ctlproto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b)
{
	*b = (struct sbuf){0};
}

void sbuf_free(struct sbuf *b)
{
	free(b->data);
	sbuf_init(b);
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for extra bytes plus the terminating NUL; false (and oom set) when that is impossible. */
static bool sbuf_reserve(struct sbuf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra >= SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap != 0 ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *data = realloc(b->data, cap);
	if (data == NULL) {
		b->oom = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void sbuf_append(struct sbuf *b, const char *s, size_t len)
{
	if (!sbuf_reserve(b, len))
		return;
	if (len != 0)
		memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), or 0. */
static size_t utf8_sequence_len(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/* JSON text must be UTF-8 (RFC 8259 section 8.1): invalid bytes become U+FFFD instead of breaking the parser. */
void sbuf_json_string(struct sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	sbuf_append(b, "\"", 1);
	while (*p != '\0') {
		const unsigned char *run = p;
		while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		sbuf_append(b, (const char *)run, (size_t)(p - run));
		unsigned char c = *p;
		if (c == '\0')
			break;
		if (c >= 0x80) {
			size_t n = utf8_sequence_len(p); /* stops at the NUL: continuation checks fail on it */
			if (n != 0)
				sbuf_append(b, (const char *)p, n);
			else
				sbuf_append(b, "\\ufffd", 6);
			p += n != 0 ? n : 1;
			continue;
		}
		switch (c) {
		case '"': sbuf_append(b, "\\\"", 2); break;
		case '\\': sbuf_append(b, "\\\\", 2); break;
		case '\n': sbuf_append(b, "\\n", 2); break;
		case '\r': sbuf_append(b, "\\r", 2); break;
		case '\t': sbuf_append(b, "\\t", 2); break;
		case '\b': sbuf_append(b, "\\b", 2); break;
		case '\f': sbuf_append(b, "\\f", 2); break;
		default: sbuf_printf(b, "\\u%04x", c); break;
		}
		p++;
	}
	sbuf_append(b, "\"", 1);
}
