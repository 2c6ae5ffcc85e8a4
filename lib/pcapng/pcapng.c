/* SPDX-License-Identifier: BSD-3-Clause */
#include "lib/pcapng/pcapng.h"

#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9

void pcapng_buf_free(struct pcapng_buf *b)
{
	free(b->data);
	*b = (struct pcapng_buf){0};
}

static int reserve(struct pcapng_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	uint8_t *d = realloc(b->data, cap);
	if (d == NULL) {
		b->oom = 1;
		return -1;
	}
	b->data = d;
	b->cap = cap;
	return 0;
}

static void put(struct pcapng_buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put32(struct pcapng_buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put16(struct pcapng_buf *b, uint16_t v)
{
	put(b, &v, 2);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t opt_size(size_t len)
{
	return 4 + pad4(len);
}

static void put_opt(struct pcapng_buf *b, uint16_t code, const void *v, size_t len)
{
	static const uint8_t zero[4];
	put16(b, code);
	put16(b, (uint16_t)len);
	put(b, v, len);
	put(b, zero, pad4(len) - len);
}

static size_t str_opt_len(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0xfff0 ? 0xfff0 : n;
}

int pcapng_section(struct pcapng_buf *b, const char *application)
{
	size_t alen = str_opt_len(application);
	size_t total = 28 + (alen ? opt_size(alen) : 0) + 4;
	if (reserve(b, total))
		return -1;
	put32(b, BT_SHB);
	put32(b, (uint32_t)total);
	put32(b, BYTE_ORDER_MAGIC);
	put16(b, 1); /* version 1.0 */
	put16(b, 0);
	put32(b, 0xffffffffu); /* section length unknown */
	put32(b, 0xffffffffu);
	if (alen)
		put_opt(b, SHB_USERAPPL, application, alen);
	put32(b, OPT_END);
	put32(b, (uint32_t)total);
	return 0;
}

int pcapng_interface(struct pcapng_buf *b, uint32_t *next_id, const char *name, const char *description,
		     uint16_t linktype, uint32_t snaplen)
{
	size_t nlen = str_opt_len(name), dlen = str_opt_len(description);
	uint8_t tsresol = 9; /* nanoseconds */
	size_t total = 16 + (nlen ? opt_size(nlen) : 0) + (dlen ? opt_size(dlen) : 0) + opt_size(1) + 4 + 4;
	if (reserve(b, total))
		return -1;
	put32(b, BT_IDB);
	put32(b, (uint32_t)total);
	put16(b, linktype);
	put16(b, 0);
	put32(b, snaplen);
	if (nlen)
		put_opt(b, IF_NAME, name, nlen);
	if (dlen)
		put_opt(b, IF_DESCRIPTION, description, dlen);
	put_opt(b, IF_TSRESOL, &tsresol, 1);
	put32(b, OPT_END);
	put32(b, (uint32_t)total);
	return (int)(*next_id)++;
}

int pcapng_packet(struct pcapng_buf *b, uint32_t if_id, uint64_t ts_ns, const void *data, uint32_t caplen,
		  uint32_t origlen, const char *comment)
{
	static const uint8_t zero[4];
	size_t clen = str_opt_len(comment);
	size_t total = 28 + pad4(caplen) + (clen ? opt_size(clen) + 4 : 0) + 4;
	if (reserve(b, total))
		return -1;
	put32(b, BT_EPB);
	put32(b, (uint32_t)total);
	put32(b, if_id);
	put32(b, (uint32_t)(ts_ns >> 32));
	put32(b, (uint32_t)ts_ns);
	put32(b, caplen);
	put32(b, origlen);
	put(b, data, caplen);
	put(b, zero, pad4(caplen) - caplen);
	if (clen) {
		put_opt(b, OPT_COMMENT, comment, clen);
		put32(b, OPT_END);
	}
	put32(b, (uint32_t)total);
	return 0;
}
