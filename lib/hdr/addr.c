/* SPDX-License-Identifier: BSD-3-Clause */
#include "lib/hdr/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_parse(const char *s, struct addr *out)
{
	*out = (struct addr){0};
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, out->bytes) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->bytes) == 1) {
		out->family = 6;
		return 0;
	}
	return -1;
}

int addr_prefix_parse(const char *s, struct addr_prefix *out, bool strict)
{
	char buf[ADDR_STR_MAX];
	*out = (struct addr_prefix){0};
	if (s == NULL || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	long len = -1;
	if (slash != NULL) {
		char *end;
		*slash = '\0';
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0')
			return -1;
	}
	if (addr_parse(buf, &out->addr) < 0)
		return -1;
	long max = out->addr.family == 4 ? 32 : 128;
	if (len < 0)
		len = max;
	if (len > max)
		return -1;
	out->len = (uint8_t)len;
	if (strict) {
		struct addr_prefix m = *out;
		addr_prefix_mask(&m);
		if (!addr_equal(&m.addr, &out->addr))
			return -1;
	}
	return 0;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	if (strlen(s) != 17)
		return -1;
	/* %x also takes blanks, signs and "0x": insist on exactly two hex digits per byte. */
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

const char *addr_fmt(const struct addr *a, char *buf, size_t len)
{
	if (a->family == 0 || inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, buf, len) == NULL)
		snprintf(buf, len, "-");
	return buf;
}

const char *addr_prefix_fmt(const struct addr_prefix *p, char *buf, size_t len)
{
	char a[ADDR_STR_MAX];
	snprintf(buf, len, "%s/%u", addr_fmt(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

const char *mac_fmt(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

void addr_prefix_mask(struct addr_prefix *p)
{
	unsigned bits = p->addr.family == 4 ? 32 : 128;
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned first = i * 8;
		if (first >= p->len)
			p->addr.bytes[i] = 0;
		else if (first + 8 > p->len)
			p->addr.bytes[i] &= (uint8_t)(0xff << (8 - (p->len - first)));
	}
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

bool addr_prefix_contains(const struct addr_prefix *p, const struct addr *a)
{
	if (p->addr.family != a->family)
		return false;
	/* Mask both sides: a prefix parsed without strict may carry host bits (e.g. an interface's 10.0.0.1/24). */
	struct addr_prefix m = {.addr = *a, .len = p->len}, net = *p;
	addr_prefix_mask(&m);
	addr_prefix_mask(&net);
	return memcmp(m.addr.bytes, net.addr.bytes, 16) == 0;
}
