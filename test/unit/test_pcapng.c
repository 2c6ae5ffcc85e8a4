/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pcapng: the writer's bytes parsed back by an independent minimal reader written here from the pcapng
 * specification (block framing, both length fields, padding, options and their end marker, interface ids,
 * comments), exact layouts of each block type, random packet sizes and comments, and libpcap reading the result.
 */
#include "lib/pcapng/pcapng.h"

#include <CUnit/Basic.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

/* ---- the independent reader ---- */

#define MAX_IFS 64
#define MAX_PKTS 4096
#define MAX_OPTS 8

struct opt {
	uint16_t code, len;
	const uint8_t *val;
};

struct blk {
	uint32_t type, len;
	size_t off;
	const uint8_t *body; /* after type and length, before the trailing length */
	size_t body_len;
};

struct parsed_if {
	uint16_t linktype;
	uint32_t snaplen;
	char name[256], desc[256];
	int tsresol; /* -1 = absent */
	int nopts;
};

struct parsed_pkt {
	uint32_t if_id, caplen, origlen;
	uint64_t ts;
	const uint8_t *data;
	const uint8_t *comment; /* into the buffer; not NUL-terminated */
	uint16_t comment_len;
	bool has_comment, has_options;
};

struct parsed {
	bool big_endian;
	uint16_t major, minor;
	int64_t section_len;
	char application[256];
	int nifs, npkts, nblocks;
	struct parsed_if ifs[MAX_IFS];
	struct parsed_pkt *pkts;
	char err[256];
};

static bool be;

static uint32_t rd32(const uint8_t *p)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t rd16(const uint8_t *p)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static size_t pad4(size_t n)
{
	return (n + 3) / 4 * 4;
}

/* Options from p (n bytes): every value padded with zeros to 4, the list ended by opt_endofopt (or absent). */
static int parse_opts(const uint8_t *p, size_t n, struct opt *opts, int max, char *err)
{
	size_t off = 0;
	int k = 0;
	if (n == 0)
		return 0;
	for (;;) {
		if (off + 4 > n) {
			sprintf(err, "option header beyond the block at %zu", off);
			return -1;
		}
		uint16_t code = rd16(p + off), len = rd16(p + off + 2);
		off += 4;
		if (code == 0) {
			if (len != 0 || off != n) {
				sprintf(err, "opt_endofopt has length %u or is not last (%zu of %zu)", len, off, n);
				return -1;
			}
			return k;
		}
		if (off + pad4(len) > n) {
			sprintf(err, "option %u (length %u) beyond the block", code, len);
			return -1;
		}
		for (size_t i = len; i < pad4(len); i++)
			if (p[off + i] != 0) {
				sprintf(err, "option %u: padding byte not zero", code);
				return -1;
			}
		if (k == max) {
			sprintf(err, "too many options");
			return -1;
		}
		opts[k++] = (struct opt){code, len, p + off};
		off += pad4(len);
	}
}

static void opt_str(const struct opt *o, char *out, size_t cap)
{
	size_t n = o->len < cap - 1 ? o->len : cap - 1;
	memcpy(out, o->val, n);
	out[n] = '\0';
}

static int parse(const uint8_t *d, size_t n, struct parsed *ps)
{
	memset(ps, 0, offsetof(struct parsed, pkts));
	ps->err[0] = '\0';
	if (ps->pkts == NULL)
		ps->pkts = calloc(MAX_PKTS, sizeof(*ps->pkts));
	size_t off = 0;
	while (off < n) {
		if (off + 12 > n) {
			sprintf(ps->err, "truncated block header at %zu", off);
			return -1;
		}
		if (ps->nblocks == 0) {
			/* the byte order comes from the section header's magic */
			if (memcmp(d, "\x0a\x0d\x0d\x0a", 4) != 0) {
				sprintf(ps->err, "first block is not a section header");
				return -1;
			}
			be = false;
			if (rd32(d + 8) != 0x1A2B3C4D) {
				be = true;
				if (rd32(d + 8) != 0x1A2B3C4D) {
					sprintf(ps->err, "bad byte-order magic");
					return -1;
				}
			}
			ps->big_endian = be;
		}
		struct blk b = {rd32(d + off), rd32(d + off + 4), off, NULL, 0};
		if (b.len < 12 || b.len % 4 != 0 || off + b.len > n) {
			sprintf(ps->err, "block at %zu: bad length %u (buffer %zu)", off, b.len, n);
			return -1;
		}
		if (rd32(d + off + b.len - 4) != b.len) {
			sprintf(ps->err, "block at %zu: trailing length %u != %u", off, rd32(d + off + b.len - 4), b.len);
			return -1;
		}
		b.body = d + off + 8;
		b.body_len = b.len - 12;
		struct opt opts[MAX_OPTS];
		int no;
		if (b.type == 0x0A0D0D0A) {
			if (b.body_len < 16) {
				sprintf(ps->err, "short section header");
				return -1;
			}
			ps->major = rd16(b.body + 4);
			ps->minor = rd16(b.body + 6);
			ps->section_len = (int64_t)((uint64_t)rd32(b.body + 8 + (be ? 0 : 4)) << 32 |
						    rd32(b.body + 8 + (be ? 4 : 0)));
			if ((no = parse_opts(b.body + 16, b.body_len - 16, opts, MAX_OPTS, ps->err)) < 0)
				return -1;
			for (int i = 0; i < no; i++)
				if (opts[i].code == 4)
					opt_str(&opts[i], ps->application, sizeof(ps->application));
		} else if (b.type == 1) {
			if (b.body_len < 8 || ps->nifs == MAX_IFS) {
				sprintf(ps->err, "short interface block or too many");
				return -1;
			}
			struct parsed_if *pi = &ps->ifs[ps->nifs++];
			pi->linktype = rd16(b.body);
			if (rd16(b.body + 2) != 0) {
				sprintf(ps->err, "interface block reserved field not zero");
				return -1;
			}
			pi->snaplen = rd32(b.body + 4);
			pi->tsresol = -1;
			if ((no = parse_opts(b.body + 8, b.body_len - 8, opts, MAX_OPTS, ps->err)) < 0)
				return -1;
			pi->nopts = no;
			for (int i = 0; i < no; i++) {
				if (opts[i].code == 2)
					opt_str(&opts[i], pi->name, sizeof(pi->name));
				else if (opts[i].code == 3)
					opt_str(&opts[i], pi->desc, sizeof(pi->desc));
				else if (opts[i].code == 9 && opts[i].len == 1)
					pi->tsresol = opts[i].val[0];
			}
		} else if (b.type == 6) {
			if (b.body_len < 20 || ps->npkts == MAX_PKTS) {
				sprintf(ps->err, "short packet block or too many");
				return -1;
			}
			struct parsed_pkt *pp = &ps->pkts[ps->npkts++];
			pp->if_id = rd32(b.body);
			pp->ts = (uint64_t)rd32(b.body + 4) << 32 | rd32(b.body + 8);
			pp->caplen = rd32(b.body + 12);
			pp->origlen = rd32(b.body + 16);
			if (pp->if_id >= (uint32_t)ps->nifs) {
				sprintf(ps->err, "packet of interface %u before its description", pp->if_id);
				return -1;
			}
			if (20 + pad4(pp->caplen) > b.body_len) {
				sprintf(ps->err, "packet data (%u) beyond its block", pp->caplen);
				return -1;
			}
			pp->data = b.body + 20;
			for (size_t i = pp->caplen; i < pad4(pp->caplen); i++)
				if (pp->data[i] != 0) {
					sprintf(ps->err, "packet padding not zero");
					return -1;
				}
			size_t oo = 20 + pad4(pp->caplen);
			pp->has_options = oo < b.body_len;
			if ((no = parse_opts(b.body + oo, b.body_len - oo, opts, MAX_OPTS, ps->err)) < 0)
				return -1;
			pp->has_comment = false;
			for (int i = 0; i < no; i++)
				if (opts[i].code == 1) {
					pp->comment = opts[i].val;
					pp->comment_len = opts[i].len;
					pp->has_comment = true;
				}
		} else {
			sprintf(ps->err, "unexpected block type 0x%x", b.type);
			return -1;
		}
		ps->nblocks++;
		off += b.len;
	}
	return 0;
}

static struct parsed P;

static bool comment_is(const struct parsed_pkt *p, const char *s)
{
	return p->has_comment && p->comment_len == strlen(s) && memcmp(p->comment, s, p->comment_len) == 0;
}

#define PARSE_OK(buf)                                                                                                  \
	do {                                                                                                           \
		int rc_ = parse((buf)->data, (buf)->len, &P);                                                          \
		if (rc_ != 0)                                                                                          \
			fprintf(stderr, "\n  parse: %s\n", P.err);                                                     \
		CU_ASSERT_EQUAL_FATAL(rc_, 0);                                                                         \
	} while (0)

/* ---- exact layouts ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

static bool host_le(void)
{
	uint16_t x = 1;
	return *(uint8_t *)&x == 1;
}

static void test_section_layout(void)
{
	struct pcapng_buf b = {0};
	CU_ASSERT_EQUAL_FATAL(pcapng_section(&b, "npsd 0.1.0"), 0);
	/* 24 fixed + option (4 + 10 + 2 padding) + end of options 4 + trailing length 4 */
	CU_ASSERT_EQUAL_FATAL(b.len, 48);
	if (host_le()) {
		uint8_t want[48] = {0x0a, 0x0d, 0x0d, 0x0a, 48, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
				    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4, 0, 10, 0};
		memcpy(want + 28, "npsd 0.1.0", 10);
		put_le32(want + 44, 48);
		CU_ASSERT(memcmp(b.data, want, 48) == 0);
	}
	PARSE_OK(&b);
	CU_ASSERT_EQUAL(P.nblocks, 1);
	CU_ASSERT_EQUAL(P.major, 1);
	CU_ASSERT_EQUAL(P.minor, 0);
	CU_ASSERT_EQUAL(P.section_len, -1);
	CU_ASSERT_STRING_EQUAL(P.application, "npsd 0.1.0");
	CU_ASSERT_EQUAL(b.oom, 0);
	pcapng_buf_free(&b);
	CU_ASSERT_PTR_NULL(b.data);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_EQUAL(b.cap, 0);
}

static void test_section_no_application(void)
{
	struct pcapng_buf b = {0};
	CU_ASSERT_EQUAL_FATAL(pcapng_section(&b, NULL), 0);
	CU_ASSERT_EQUAL(b.len, 32); /* no option, the end-of-options marker only */
	PARSE_OK(&b);
	CU_ASSERT_STRING_EQUAL(P.application, "");
	pcapng_buf_free(&b);
	CU_ASSERT_EQUAL_FATAL(pcapng_section(&b, ""), 0);
	CU_ASSERT_EQUAL(b.len, 32);
	PARSE_OK(&b);
	pcapng_buf_free(&b);
	/* every application length pads to 4 */
	for (int n = 1; n <= 9; n++) {
		char app[16];
		memset(app, 'a' + n, (size_t)n);
		app[n] = '\0';
		CU_ASSERT_EQUAL_FATAL(pcapng_section(&b, app), 0);
		CU_ASSERT_EQUAL(b.len, 32 + 4 + pad4((size_t)n));
		PARSE_OK(&b);
		CU_ASSERT_STRING_EQUAL(P.application, app);
		pcapng_buf_free(&b);
	}
}

static void test_interface_layout(void)
{
	struct pcapng_buf b = {0};
	uint32_t next = 0;
	pcapng_section(&b, "t");
	size_t at = b.len;
	CU_ASSERT_EQUAL(pcapng_interface(&b, &next, "ip4_lookup", "npsgw capture point ip4_lookup",
					 PCAPNG_LINKTYPE_ETHERNET, 1600),
			0);
	CU_ASSERT_EQUAL(next, 1);
	/* 16 fixed + name (4+12) + description (4+32) + tsresol (4+4) + end 4 + trailing length 4 */
	size_t want_len = 16 + 16 + 36 + 8 + 4 + 4;
	CU_ASSERT_EQUAL_FATAL(b.len - at, want_len);
	if (host_le()) {
		const uint8_t *p = b.data + at;
		uint8_t head[16] = {1, 0, 0, 0, (uint8_t)want_len, 0, 0, 0, 1, 0, 0, 0, 0x40, 0x06, 0, 0};
		CU_ASSERT(memcmp(p, head, 16) == 0);
		CU_ASSERT(memcmp(p + 16, "\x02\x00\x0a\x00ip4_lookup\x00\x00", 16) == 0);
		CU_ASSERT(memcmp(p + 32, "\x03\x00\x1e\x00npsgw capture point ip4_lookup\x00\x00", 36) == 0);
		CU_ASSERT(memcmp(p + 68, "\x09\x00\x01\x00\x09\x00\x00\x00", 8) == 0);
		CU_ASSERT(memcmp(p + 76, "\x00\x00\x00\x00", 4) == 0);
	}
	CU_ASSERT_EQUAL(pcapng_interface(&b, &next, "port_tx-p1", NULL, PCAPNG_LINKTYPE_ETHERNET, 64), 1);
	CU_ASSERT_EQUAL(pcapng_interface(&b, &next, NULL, NULL, 101, 65535), 2);
	CU_ASSERT_EQUAL(pcapng_interface(&b, &next, "drop_no_route", "d", PCAPNG_LINKTYPE_ETHERNET, 1600), 3);
	CU_ASSERT_EQUAL(next, 4);
	PARSE_OK(&b);
	CU_ASSERT_EQUAL_FATAL(P.nifs, 4);
	CU_ASSERT_STRING_EQUAL(P.ifs[0].name, "ip4_lookup");
	CU_ASSERT_STRING_EQUAL(P.ifs[0].desc, "npsgw capture point ip4_lookup");
	CU_ASSERT_EQUAL(P.ifs[0].snaplen, 1600);
	CU_ASSERT_EQUAL(P.ifs[0].linktype, 1);
	CU_ASSERT_STRING_EQUAL(P.ifs[1].name, "port_tx-p1");
	CU_ASSERT_STRING_EQUAL(P.ifs[1].desc, "");
	CU_ASSERT_EQUAL(P.ifs[1].nopts, 2);
	CU_ASSERT_EQUAL(P.ifs[1].snaplen, 64);
	CU_ASSERT_EQUAL(P.ifs[2].nopts, 1); /* tsresol only */
	CU_ASSERT_EQUAL(P.ifs[2].linktype, 101);
	CU_ASSERT_EQUAL(P.ifs[2].snaplen, 65535);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(P.ifs[i].tsresol, 9);
	CU_ASSERT_STRING_EQUAL(P.ifs[3].name, "drop_no_route");
	pcapng_buf_free(&b);
}

static void test_packet_layout(void)
{
	struct pcapng_buf b = {0};
	uint32_t next = 0;
	pcapng_section(&b, "t");
	pcapng_interface(&b, &next, "a", NULL, PCAPNG_LINKTYPE_ETHERNET, 1600);
	pcapng_interface(&b, &next, "b", NULL, PCAPNG_LINKTYPE_ETHERNET, 1600);
	uint8_t data[5] = {1, 2, 3, 4, 5};
	size_t at = b.len;
	uint64_t ts = 0x0123456789abcdefull;
	CU_ASSERT_EQUAL(pcapng_packet(&b, 1, ts, data, 5, 60, "node=x"), 0);
	/* 28 fixed + data 5 + 3 padding + comment (4 + 6 + 2) + end 4 + trailing 4 */
	CU_ASSERT_EQUAL_FATAL(b.len - at, 28 + 8 + 12 + 4 + 4);
	if (host_le()) {
		const uint8_t *p = b.data + at;
		uint8_t head[28] = {6, 0, 0, 0, 56, 0, 0, 0, 1, 0, 0, 0, 0x67, 0x45, 0x23, 0x01,
				    0xef, 0xcd, 0xab, 0x89, 5, 0, 0, 0, 60, 0, 0, 0};
		CU_ASSERT(memcmp(p, head, 28) == 0);
		CU_ASSERT(memcmp(p + 28, "\x01\x02\x03\x04\x05\x00\x00\x00", 8) == 0);
		CU_ASSERT(memcmp(p + 36, "\x01\x00\x06\x00node=x\x00\x00\x00\x00\x00\x00\x38\x00\x00\x00", 20) == 0);
	}
	/* no comment: no options at all */
	at = b.len;
	CU_ASSERT_EQUAL(pcapng_packet(&b, 0, 7, data, 4, 4, NULL), 0);
	CU_ASSERT_EQUAL(b.len - at, 32 + 4);
	at = b.len;
	CU_ASSERT_EQUAL(pcapng_packet(&b, 0, 8, data, 0, 0, ""), 0);
	CU_ASSERT_EQUAL(b.len - at, 32);
	PARSE_OK(&b);
	CU_ASSERT_EQUAL_FATAL(P.npkts, 3);
	CU_ASSERT_EQUAL(P.pkts[0].if_id, 1);
	CU_ASSERT_EQUAL(P.pkts[0].ts, ts);
	CU_ASSERT_EQUAL(P.pkts[0].caplen, 5);
	CU_ASSERT_EQUAL(P.pkts[0].origlen, 60);
	CU_ASSERT(memcmp(P.pkts[0].data, data, 5) == 0);
	CU_ASSERT(comment_is(&P.pkts[0], "node=x"));
	CU_ASSERT_EQUAL(P.pkts[1].if_id, 0);
	CU_ASSERT_EQUAL(P.pkts[1].ts, 7);
	CU_ASSERT_FALSE(P.pkts[1].has_options);
	CU_ASSERT_EQUAL(P.pkts[2].caplen, 0);
	CU_ASSERT_FALSE(P.pkts[2].has_options);
	pcapng_buf_free(&b);
}

static void test_long_strings_capped(void)
{
	struct pcapng_buf b = {0};
	uint32_t next = 0;
	size_t big = 0x12345;
	char *s = malloc(big + 1);
	memset(s, 'c', big);
	s[big] = '\0';
	pcapng_section(&b, s);
	pcapng_interface(&b, &next, s, s, PCAPNG_LINKTYPE_ETHERNET, 1600);
	uint8_t data[3] = {9, 9, 9};
	pcapng_packet(&b, 0, 1, data, 3, 3, s);
	PARSE_OK(&b);
	CU_ASSERT_EQUAL(strlen(P.application), 255); /* our reader keeps 255; the option itself: */
	CU_ASSERT_EQUAL(P.npkts, 1);
	CU_ASSERT_EQUAL(P.pkts[0].comment_len, 0xfff0);
	CU_ASSERT(P.pkts[0].comment[0] == 'c' && P.pkts[0].comment[0xffef] == 'c');
	/* an option length is 16 bits: the writer caps at 0xfff0 and the block stays consistent */
	CU_ASSERT_EQUAL(P.nblocks, 3);
	free(s);
	pcapng_buf_free(&b);
}

/* Random packets, comments and interfaces across many buffer growths; every byte parsed back. */
static void test_random_packets(void)
{
	struct pcapng_buf b = {0};
	uint32_t next = 0;
	enum { NIF = 7, NPKT = 3000 };
	static uint8_t datas[NPKT][2100];
	static uint32_t caplens[NPKT], origlens[NPKT], ifids[NPKT];
	static uint64_t tss[NPKT];
	static char comments[NPKT][300];
	static bool has_comment[NPKT];
	CU_ASSERT_EQUAL_FATAL(pcapng_section(&b, "random"), 0);
	for (int i = 0; i < NIF; i++) {
		char name[32];
		snprintf(name, sizeof(name), "if%d%.*s", i, i, "xxxxxxx");
		CU_ASSERT_EQUAL_FATAL(pcapng_interface(&b, &next, name, i % 2 ? "desc" : NULL, PCAPNG_LINKTYPE_ETHERNET,
						       2100),
				      i);
	}
	size_t expect_len = b.len;
	for (int i = 0; i < NPKT; i++) {
		caplens[i] = rnd(5) == 0 ? rnd(4) : rnd(2050);
		origlens[i] = caplens[i] + (rnd(3) == 0 ? rnd(9000) : 0);
		ifids[i] = rnd(NIF);
		tss[i] = ((uint64_t)rnd(1u << 31) << 32) | rnd(0xffffffffu);
		for (uint32_t k = 0; k < caplens[i]; k++)
			datas[i][k] = (uint8_t)rnd(256);
		int cl = rnd(4) == 0 ? -1 : (int)rnd(290);
		has_comment[i] = cl > 0;
		for (int k = 0; k < cl; k++)
			comments[i][k] = (char)(' ' + rnd(95));
		comments[i][cl > 0 ? cl : 0] = '\0';
		size_t before = b.len;
		CU_ASSERT_EQUAL_FATAL(pcapng_packet(&b, ifids[i], tss[i], datas[i], caplens[i], origlens[i],
						    cl < 0 ? NULL : comments[i]),
				      0);
		size_t want = 32 + pad4(caplens[i]) + (has_comment[i] ? 4 + pad4((size_t)cl) + 4 : 0);
		CU_ASSERT_EQUAL_FATAL(b.len - before, want);
		expect_len += want;
	}
	CU_ASSERT_EQUAL(b.len, expect_len);
	CU_ASSERT_EQUAL(b.oom, 0);
	CU_ASSERT(b.cap >= b.len);
	PARSE_OK(&b);
	CU_ASSERT_EQUAL_FATAL(P.nifs, NIF);
	CU_ASSERT_EQUAL_FATAL(P.npkts, NPKT);
	CU_ASSERT_EQUAL(P.nblocks, 1 + NIF + NPKT);
	for (int i = 0; i < NIF; i++)
		CU_ASSERT_EQUAL(P.ifs[i].snaplen, 2100);
	int bad = 0;
	for (int i = 0; i < NPKT; i++) {
		const struct parsed_pkt *p = &P.pkts[i];
		if (p->if_id != ifids[i] || p->ts != tss[i] || p->caplen != caplens[i] || p->origlen != origlens[i] ||
		    memcmp(p->data, datas[i], caplens[i]) != 0 || p->has_comment != has_comment[i] ||
		    (has_comment[i] && !comment_is(p, comments[i])) || p->has_options != has_comment[i])
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* libpcap reads the same bytes: interfaces, lengths, data and nanosecond timestamps (it wants one snaplen for
	 * all interfaces, as npsd writes them) */
	FILE *f = fmemopen(b.data, b.len, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
	if (pc == NULL)
		fprintf(stderr, "\n  libpcap: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0, lbad = 0;
	int prc;
	while ((prc = pcap_next_ex(pc, &h, &d)) == 1 && n < NPKT) {
		uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (h->len != origlens[n] || h->caplen != caplens[n] || memcmp(d, datas[n], h->caplen) != 0 ||
		    ns != tss[n])
			lbad++;
		n++;
	}
	if (n != NPKT)
		fprintf(stderr, "\n  libpcap stopped at packet %d: %d %s\n", n, prc, pcap_geterr(pc));
	CU_ASSERT_EQUAL(n, NPKT);
	CU_ASSERT_EQUAL(lbad, 0);
	pcap_close(pc);
	pcapng_buf_free(&b);
}

/* The control thread drains the buffer and restarts it at 0: blocks appended afterwards still parse. */
static void test_reuse_after_drain(void)
{
	struct pcapng_buf b = {0};
	uint32_t next = 0;
	pcapng_section(&b, "t");
	pcapng_interface(&b, &next, "x", NULL, PCAPNG_LINKTYPE_ETHERNET, 1600);
	uint8_t data[70] = {0};
	size_t head = b.len;
	uint8_t *copy = malloc(head);
	memcpy(copy, b.data, head);
	b.len = 0; /* what capture_flush() does once everything was written */
	for (int i = 0; i < 10; i++)
		pcapng_packet(&b, 0, (uint64_t)i, data, 70 - (uint32_t)i, 70, i % 2 ? "c" : NULL);
	uint8_t *all = malloc(head + b.len);
	memcpy(all, copy, head);
	memcpy(all + head, b.data, b.len);
	struct pcapng_buf joined = {all, head + b.len, head + b.len, 0};
	PARSE_OK(&joined);
	CU_ASSERT_EQUAL(P.npkts, 10);
	CU_ASSERT_EQUAL(P.pkts[9].caplen, 61);
	free(all);
	free(copy);
	pcapng_buf_free(&b);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("pcapng", NULL, NULL);
	CU_add_test(s, "section header layout", test_section_layout);
	CU_add_test(s, "section header without application", test_section_no_application);
	CU_add_test(s, "interface blocks and ids", test_interface_layout);
	CU_add_test(s, "enhanced packet block layout", test_packet_layout);
	CU_add_test(s, "long strings capped", test_long_strings_capped);
	CU_add_test(s, "random packets parsed back, and by libpcap", test_random_packets);
	CU_add_test(s, "reuse after drain", test_reuse_after_drain);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	free(P.pkts);
	return failures ? 1 : 0;
}
