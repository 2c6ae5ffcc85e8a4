/* SPDX-License-Identifier: BSD-3-Clause */
/* Request lines: validation, tokenizing, and the key/value argument helpers. */
#include "lib/ctlproto/ctlproto.h"
#include "lib/ctlproto/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t ctl_line_trim(const char *line, size_t len)
{
	return len > 0 && line[len - 1] == '\r' ? len - 1 : len;
}

int ctl_line_check(const char *line, size_t len, char *err, size_t errlen)
{
	len = ctl_line_trim(line, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(err, errlen, "request contains control character 0x%02x at offset %zu", c, i);
			return EINVAL;
		}
	}
	return 0;
}

bool ctl_line_wants_json(const char *line, size_t len)
{
	static const char flag[] = "--json";
	size_t i = 0;
	while (i < len) {
		while (i < len && is_blank(line[i]))
			i++;
		size_t start = i;
		while (i < len && !is_blank(line[i]))
			i++;
		if (i - start == sizeof(flag) - 1 && memcmp(line + start, flag, sizeof(flag) - 1) == 0)
			return true;
	}
	return false;
}

int ctl_req_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen)
{
	req->ntok = 0;
	req->json = false;
	req->buf[0] = '\0';
	if (len >= CTL_REQ_MAX) {
		req->json = ctl_line_wants_json(line, len);
		snprintf(err, errlen, "request too long (%zu bytes, max %d)", len, CTL_REQ_MAX - 1);
		return E2BIG;
	}
	req->json = ctl_line_wants_json(line, len);
	int rc = ctl_line_check(line, len, err, errlen);
	if (rc != 0)
		return rc;
	len = ctl_line_trim(line, len);
	memcpy(req->buf, line, len);
	req->buf[len] = '\0';

	int ntok = 0;
	char *p = req->buf;
	for (;;) {
		while (is_blank(*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		char *tok = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
		if (strcmp(tok, "--json") == 0)
			continue;
		if (ntok == CTL_TOKENS_MAX) {
			snprintf(err, errlen, "too many words in request (max %d)", CTL_TOKENS_MAX);
			return E2BIG;
		}
		req->tok[ntok++] = tok;
	}
	if (ntok == 0) {
		snprintf(err, errlen, "empty request (try 'help')");
		return EINVAL;
	}
	req->ntok = ntok;
	return 0;
}

const char *ctl_arg(const struct ctl_args *a, const char *key)
{
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->key[i], key) == 0)
			return a->val[i];
	return NULL;
}

/* Decimal only: "010" is ten, not eight; no sign, no blanks, no suffix. */
static bool parse_decimal(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = v;
	return true;
}

int ctl_arg_u32(const struct ctl_args *a, const char *key, uint32_t min, uint32_t max, uint32_t *out, char *err,
		size_t errlen)
{
	const char *s = ctl_arg(a, key);
	if (s == NULL) {
		snprintf(err, errlen, "missing %s (expected an integer from %u to %u)", key, min, max);
		return EINVAL;
	}
	uint64_t v;
	if (!parse_decimal(s, &v) || v < min || v > max) {
		snprintf(err, errlen, "bad %s '%.64s' (expected an integer from %u to %u)", key, s, min, max);
		return EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}
