/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rte_acl classifier against the naive linear matcher: random rule sets (1, 10, 500 and 10000 rules, fixed
 * seeds) and random packets, most derived from rule fields so that they hit rules and their edges, for IPv4 and
 * IPv6; plus hand-written cases (first match wins, port range edges, /0 and host prefixes, zones, unknown names,
 * ICMP type/code, TCP flags, the entry limit). FW_TEST_SEED=<n> replays another random sequence.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "nf/fw/fw_classify.h"

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n == 0 ? 0 : (uint32_t)((rng >> 11) % n);
}

static bool chance(unsigned percent)
{
	return rnd(100) < percent;
}

/* ---- resolver: interfaces if1..if8 are ids 1..8; zones z1..z4 ---- */

static uint16_t iface_id(void *arg, const char *name)
{
	(void)arg;
	if (strncmp(name, "if", 2) == 0 && name[2] >= '1' && name[2] <= '8' && name[3] == '\0')
		return (uint16_t)(name[2] - '0');
	return 0;
}

static const char *const zone_names[4] = {"z1", "z2", "z3", "z4"};
static struct fw_zone_conf zones[4];
static struct fw_conf zone_conf;
static struct fw_resolver resolver = {.iface_id = iface_id, .conf = &zone_conf};

static void resolver_init(void)
{
	for (int i = 0; i < 4; i++)
		snprintf(zones[i].name, FW_NAME_MAX, "%s", zone_names[i]);
	zone_conf.zones = zones;
	zone_conf.n_zones = 4;
}

/* ---- building rule sets ---- */

static struct fw_rule_conf *add_rule(struct fw_ruleset_conf *rs)
{
	rs->rules = realloc(rs->rules, (rs->n_rules + 1) * sizeof(*rs->rules));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs->rules);
	struct fw_rule_conf *r = &rs->rules[rs->n_rules++];
	*r = (struct fw_rule_conf){.proto = -1, .icmp_type = -1, .icmp_code = -1, .action = FW_ALLOW};
	snprintf(r->name, sizeof(r->name), "rule%zu", rs->n_rules);
	return r;
}

static void add_prefix(struct addr_prefix **list, size_t *n, const char *text)
{
	*list = realloc(*list, (*n + 1) * sizeof(**list));
	CU_ASSERT_PTR_NOT_NULL_FATAL(*list);
	CU_ASSERT_EQUAL_FATAL(addr_prefix_parse(text, &(*list)[*n], true), 0);
	(*n)++;
}

static void add_port(struct fw_port_range **list, size_t *n, uint16_t lo, uint16_t hi)
{
	*list = realloc(*list, (*n + 1) * sizeof(**list));
	CU_ASSERT_PTR_NOT_NULL_FATAL(*list);
	(*list)[(*n)++] = (struct fw_port_range){lo, hi};
}

static void add_prefix_raw(struct addr_prefix **list, size_t *n, const struct addr_prefix *p)
{
	*list = realloc(*list, (*n + 1) * sizeof(**list));
	CU_ASSERT_PTR_NOT_NULL_FATAL(*list);
	(*list)[(*n)++] = *p;
}

/* ---- packets ---- */

static struct fw_match_input packet(uint8_t family, uint8_t proto, const char *src, const char *dst, uint16_t sport,
				    uint16_t dport)
{
	struct fw_match_input in = {.family = family, .proto = proto, .sport = sport, .dport = dport};
	struct addr a;
	CU_ASSERT_EQUAL(addr_parse(src, &a), 0);
	memcpy(in.src, a.bytes, 16);
	CU_ASSERT_EQUAL(addr_parse(dst, &a), 0);
	memcpy(in.dst, a.bytes, 16);
	return in;
}

/* Classify one packet both ways; they must agree. Returns the rte_acl answer. */
static uint32_t classify_one(const struct fw_classifier *c, const struct fw_ruleset_conf *rs,
			     const struct fw_match_input *in)
{
	uint32_t match = 12345;
	const struct fw_match_input *p = in;
	fw_classify_bulk(c, &p, 1, &match);
	uint32_t naive = fw_classify_naive(rs, &resolver, in);
	CU_ASSERT_EQUAL(match, naive);
	if (match != naive)
		fprintf(stderr, "\nrte_acl says %u, naive says %u\n", match, naive);
	return match;
}

static struct fw_classifier *build(const struct fw_ruleset_conf *rs, uint8_t family)
{
	static unsigned counter;
	char name[32], err[512];
	snprintf(name, sizeof(name), "fwtest%u", counter++);
	struct fw_classifier *c = fw_classifier_build(rs, family, &resolver, name, SOCKET_ID_ANY, err, sizeof(err));
	if (c == NULL)
		fprintf(stderr, "\nbuild failed: %s\n", err);
	return c;
}

/* ---- hand-written cases ---- */

static void test_first_match(void)
{
	struct fw_ruleset_conf rs = {.vrf = "main"};
	struct fw_rule_conf *r = add_rule(&rs);
	r->proto = 6;
	add_port(&r->dport, &r->n_dport, 80, 80);
	r = add_rule(&rs);
	r->proto = 6;
	add_port(&r->dport, &r->n_dport, 1, 1000); /* also covers 80: the first rule must still win */
	r = add_rule(&rs);			   /* anything */
	struct fw_classifier *c = build(&rs, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(fw_classifier_entries(c), 3);
	struct fw_match_input in = packet(4, 6, "10.0.0.1", "10.0.0.2", 40000, 80);
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 1);
	in.dport = 81;
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 2);
	in.dport = 1001;
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 3);
	in.proto = 17;
	in.dport = 80;
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 3);
	fw_classifier_free(c);
	/* the same rules, reversed: the catch-all now wins everything */
	struct fw_rule_conf tmp = rs.rules[0];
	rs.rules[0] = rs.rules[2];
	rs.rules[2] = tmp;
	c = build(&rs, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	in.proto = 6;
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 1);
	fw_classifier_free(c);
	fw_ruleset_clear(&rs);
}

static void test_port_edges(void)
{
	struct fw_ruleset_conf rs = {.vrf = "main"};
	struct fw_rule_conf *r = add_rule(&rs);
	r->proto = 17;
	add_port(&r->dport, &r->n_dport, 1000, 2000);
	add_port(&r->dport, &r->n_dport, 65535, 65535);
	r = add_rule(&rs);
	r->proto = 17;
	add_port(&r->sport, &r->n_sport, 0, 0);
	struct fw_classifier *c = build(&rs, 6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(fw_classifier_entries(c), 3);
	struct fw_match_input in = packet(6, 17, "2001:db8::1", "2001:db8::2", 5, 999);
	const struct {
		uint16_t sport, dport;
		uint32_t expected;
	} cases[] = {{5, 999, 0},    {5, 1000, 1}, {5, 1500, 1}, {5, 2000, 1},   {5, 2001, 0},
		     {5, 65534, 0},  {5, 65535, 1}, {0, 999, 2},  {1, 999, 0},    {0, 1000, 1},
		     {65535, 0, 0}, {0, 0, 2}};
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		in.sport = cases[i].sport;
		in.dport = cases[i].dport;
		CU_ASSERT_EQUAL(classify_one(c, &rs, &in), cases[i].expected);
	}
	fw_classifier_free(c);
	fw_ruleset_clear(&rs);
}

static void test_prefix_edges(void)
{
	struct fw_ruleset_conf rs = {.vrf = "main"};
	struct fw_rule_conf *r = add_rule(&rs);
	r->family = 4;
	add_prefix(&r->dst, &r->n_dst, "192.0.2.1/32");
	r = add_rule(&rs);
	r->family = 6;
	add_prefix(&r->dst, &r->n_dst, "2001:db8::ffff/128");
	r = add_rule(&rs);
	r->family = 6;
	add_prefix(&r->src, &r->n_src, "2001:db8:0:2::/63"); /* a length inside the second 32-bit word */
	r = add_rule(&rs);
	r->family = 4;
	add_prefix(&r->src, &r->n_src, "0.0.0.0/0");
	r = add_rule(&rs);
	r->family = 6;
	add_prefix(&r->src, &r->n_src, "::/0");
	struct fw_classifier *c4 = build(&rs, 4), *c6 = build(&rs, 6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c6);
	CU_ASSERT_EQUAL(fw_classifier_entries(c4), 2);
	CU_ASSERT_EQUAL(fw_classifier_entries(c6), 3);
	struct fw_match_input in = packet(4, 1, "1.2.3.4", "192.0.2.1", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), 1);
	in = packet(4, 1, "1.2.3.4", "192.0.2.0", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), 4);
	in = packet(4, 1, "255.255.255.255", "192.0.2.2", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), 4);
	in = packet(6, 58, "::1", "2001:db8::ffff", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 2);
	in = packet(6, 58, "::1", "2001:db8::fffe", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 5);
	in = packet(6, 58, "2001:db8:0:3:ffff::1", "::", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 3);
	in = packet(6, 58, "2001:db8:0:2::1", "::", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 3);
	in = packet(6, 58, "2001:db8:0:4::1", "::", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 5);
	in = packet(6, 58, "2001:db8:0:1::1", "::", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 5);
	fw_classifier_free(c4);
	fw_classifier_free(c6);
	fw_ruleset_clear(&rs);
}

static void test_zones_ifaces(void)
{
	struct fw_ruleset_conf rs = {.vrf = "main"};
	struct fw_rule_conf *r = add_rule(&rs);
	snprintf(r->from_zone, FW_NAME_MAX, "nowhere"); /* unknown zone: never matches */
	r = add_rule(&rs);
	snprintf(r->in_iface, FW_NAME_MAX, "ghost"); /* unknown interface: never matches */
	r = add_rule(&rs);
	snprintf(r->from_zone, FW_NAME_MAX, "z2");
	snprintf(r->to_zone, FW_NAME_MAX, "z3");
	r = add_rule(&rs);
	snprintf(r->out_iface, FW_NAME_MAX, "if7");
	r = add_rule(&rs);
	snprintf(r->to_zone, FW_NAME_MAX, "z1");
	r = add_rule(&rs); /* zone any, interface any */
	struct fw_classifier *c = build(&rs, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(fw_classifier_entries(c), 4);
	struct fw_match_input in = packet(4, 6, "10.0.0.1", "10.0.0.2", 1, 2);
	const struct {
		uint8_t in_zone, out_zone;
		uint16_t in_iface, out_iface;
		uint32_t expected;
	} cases[] = {{2, 3, 1, 2, 3}, {2, 4, 1, 2, 6}, {0, 3, 1, 2, 6}, {3, 2, 1, 2, 6}, {2, 3, 1, 7, 3},
		     {0, 0, 1, 7, 4}, {0, 1, 1, 2, 5}, {0, 0, 0, 0, 6}, {5, 5, 9, 9, 6}, {2, 1, 7, 1, 5}};
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		in.in_zone = cases[i].in_zone;
		in.out_zone = cases[i].out_zone;
		in.in_iface = cases[i].in_iface;
		in.out_iface = cases[i].out_iface;
		CU_ASSERT_EQUAL(classify_one(c, &rs, &in), cases[i].expected);
	}
	fw_classifier_free(c);
	fw_ruleset_clear(&rs);
}

static void test_icmp_flags_family(void)
{
	struct fw_ruleset_conf rs = {.vrf = "main"};
	struct fw_rule_conf *r = add_rule(&rs);
	r->proto = 1;
	r->family = 4;
	r->icmp_type = 8;
	r = add_rule(&rs);
	r->proto = 58;
	r->family = 6;
	r->icmp_type = 1;
	r->icmp_code = 4;
	r = add_rule(&rs);
	r->proto = 6;
	r->tcp_flags_mask = 0x12; /* syn,!ack */
	r->tcp_flags_set = 0x02;
	r = add_rule(&rs);
	r->proto = 6;
	r->family = 6; /* not in the IPv4 classifier */
	r = add_rule(&rs);
	r->proto = 47;
	struct fw_classifier *c4 = build(&rs, 4), *c6 = build(&rs, 6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c6);
	CU_ASSERT_EQUAL(fw_classifier_entries(c4), 3);
	CU_ASSERT_EQUAL(fw_classifier_entries(c6), 4);
	struct fw_match_input in = packet(4, 1, "10.0.0.1", "10.0.0.2", 8, 0);
	CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), 1);
	in.sport = 0; /* echo reply */
	CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), 0);
	in = packet(6, 58, "::1", "::2", 1, 4);
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 2);
	in.dport = 3;
	CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), 0);
	const struct {
		uint8_t flags;
		uint32_t v4, v6;
	} flags[] = {{0x02, 3, 3}, {0x12, 0, 4}, {0x0a, 3, 3}, {0x10, 0, 4}, {0x00, 0, 4}, {0xff, 0, 4}, {0xed, 0, 4}};
	for (size_t i = 0; i < RTE_DIM(flags); i++) {
		in = packet(4, 6, "10.0.0.1", "10.0.0.2", 1000, 80);
		in.tcp_flags = flags[i].flags;
		CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), flags[i].v4);
		in = packet(6, 6, "::1", "::2", 1000, 80);
		in.tcp_flags = flags[i].flags;
		CU_ASSERT_EQUAL(classify_one(c6, &rs, &in), flags[i].v6);
	}
	in = packet(4, 47, "10.0.0.1", "10.0.0.2", 0, 0);
	CU_ASSERT_EQUAL(classify_one(c4, &rs, &in), 5);
	fw_classifier_free(c4);
	fw_classifier_free(c6);
	fw_ruleset_clear(&rs);
}

static void test_empty_and_limits(void)
{
	char err[512];
	struct fw_ruleset_conf rs = {.vrf = "main"};
	struct fw_classifier *c = build(&rs, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(fw_classifier_entries(c), 0);
	struct fw_match_input in = packet(4, 6, "10.0.0.1", "10.0.0.2", 1, 2);
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 0);
	fw_classifier_free(c);

	/* only IPv6 rules: the IPv4 classifier is empty */
	struct fw_rule_conf *r = add_rule(&rs);
	add_prefix(&r->src, &r->n_src, "2001:db8::/32");
	r->family = 6;
	c = build(&rs, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(fw_classifier_entries(c), 0);
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 0);
	fw_classifier_free(c);

	/* a cross product: 3 src x 2 dst x 2 sport x 3 dport */
	r = add_rule(&rs);
	r->proto = 6;
	add_prefix(&r->src, &r->n_src, "10.0.0.0/8");
	add_prefix(&r->src, &r->n_src, "11.0.0.0/8");
	add_prefix(&r->src, &r->n_src, "2001:db8::/32"); /* other family: left out of the IPv4 trie */
	add_prefix(&r->src, &r->n_src, "12.0.0.0/8");
	add_prefix(&r->dst, &r->n_dst, "10.0.0.0/24");
	add_prefix(&r->dst, &r->n_dst, "10.0.1.0/24");
	add_port(&r->sport, &r->n_sport, 1, 1);
	add_port(&r->sport, &r->n_sport, 2, 2);
	add_port(&r->dport, &r->n_dport, 1, 10);
	add_port(&r->dport, &r->n_dport, 20, 30);
	add_port(&r->dport, &r->n_dport, 40, 50);
	c = build(&rs, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(fw_classifier_entries(c), 36);
	in = packet(4, 6, "12.1.1.1", "10.0.1.9", 2, 45);
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 2);
	in.dport = 35;
	CU_ASSERT_EQUAL(classify_one(c, &rs, &in), 0);
	fw_classifier_free(c);
	fw_ruleset_clear(&rs);

	/* too many entries: 1100 x 1000 */
	r = add_rule(&rs);
	r->src = calloc(1100, sizeof(*r->src));
	r->dst = calloc(1000, sizeof(*r->dst));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->dst);
	for (uint32_t i = 0; i < 1100; i++) {
		addr_from_v4_host(&r->src[i].addr, 0x0a000000 + (i << 8));
		r->src[i].len = 24;
	}
	for (uint32_t i = 0; i < 1000; i++) {
		addr_from_v4_host(&r->dst[i].addr, 0x0b000000 + (i << 8));
		r->dst[i].len = 24;
	}
	r->n_src = 1100;
	r->n_dst = 1000;
	snprintf(r->name, sizeof(r->name), "huge");
	c = fw_classifier_build(&rs, 4, &resolver, "fwtest-huge", SOCKET_ID_ANY, err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "huge (rule 1) expand to more than 1048576 classifier entries"));
	fw_classifier_free(c);
	/* fine for IPv6: no entry of that family */
	c = fw_classifier_build(&rs, 6, &resolver, "fwtest-huge6", SOCKET_ID_ANY, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(c);
	fw_classifier_free(c);
	fw_ruleset_clear(&rs);

	/* a name in use */
	r = add_rule(&rs);
	struct fw_classifier *a = fw_classifier_build(&rs, 4, &resolver, "fwtest-dup", SOCKET_ID_ANY, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(a);
	struct fw_classifier *b = fw_classifier_build(&rs, 4, &resolver, "fwtest-dup", SOCKET_ID_ANY, err, sizeof(err));
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "already in use"));
	fw_classifier_free(a);
	fw_classifier_free(b);
	fw_ruleset_clear(&rs);
}

/* ---- random rule sets ---- */

/* Addresses come from a few networks so that prefixes overlap and packets find rules. */
static void random_addr(uint8_t family, uint8_t *out)
{
	static const uint8_t v4_nets[][2] = {{10, 0}, {10, 1}, {192, 168}, {172, 16}, {8, 8}};
	static const uint8_t v6_nets[][4] = {{0x20, 0x01, 0x0d, 0xb8}, {0xfd, 0x00, 0, 0}, {0x20, 0x01, 0x0d, 0xb9}};
	memset(out, 0, 16);
	unsigned len = family == 4 ? 4 : 16;
	for (unsigned i = 0; i < len; i++)
		out[i] = (uint8_t)rnd(256);
	if (chance(80)) {
		if (family == 4)
			memcpy(out, v4_nets[rnd(RTE_DIM(v4_nets))], 2);
		else
			memcpy(out, v6_nets[rnd(RTE_DIM(v6_nets))], 4);
		/* few distinct values in the next bytes */
		for (unsigned i = family == 4 ? 2 : 4; i < len; i++)
			if (chance(70))
				out[i] = (uint8_t)rnd(4);
	}
}

static uint8_t random_len(uint8_t family)
{
	unsigned max = family == 4 ? 32 : 128;
	if (chance(5))
		return 0;
	if (chance(10))
		return (uint8_t)max;
	return (uint8_t)(family == 4 ? 8 + rnd(25) : 16 + rnd(113));
}

static void random_prefixes(uint8_t family, struct addr_prefix **list, size_t *n, bool mix)
{
	unsigned count = chance(40) ? 0 : 1 + rnd(3);
	for (unsigned i = 0; i < count; i++) {
		struct addr_prefix p = {.addr.family = family, .len = random_len(family)};
		if (mix && chance(15)) { /* a prefix of the other family, as a mixed prefix list leaves in family 0 */
			p.addr.family = family == 4 ? 6 : 4;
			p.len = random_len(p.addr.family);
		}
		random_addr(p.addr.family, p.addr.bytes);
		addr_prefix_mask(&p);
		*list = realloc(*list, (*n + 1) * sizeof(**list));
		(*list)[(*n)++] = p;
	}
}

static void random_ports(struct fw_port_range **list, size_t *n)
{
	unsigned count = chance(50) ? 0 : 1 + rnd(3);
	for (unsigned i = 0; i < count; i++) {
		uint16_t lo, hi;
		switch (rnd(4)) {
		case 0: /* one port */
			lo = hi = (uint16_t)(chance(50) ? rnd(1024) : rnd(65536));
			break;
		case 1: /* a narrow range */
			lo = (uint16_t)rnd(65536);
			hi = (uint16_t)(lo + rnd(100) > 65535 ? 65535 : lo + rnd(100));
			break;
		case 2: /* up to the top */
			lo = (uint16_t)rnd(65536);
			hi = 65535;
			break;
		default:
			lo = 0;
			hi = (uint16_t)rnd(65536);
		}
		add_port(list, n, lo, hi);
	}
}

/*
 * A rule as an operator writes them in large sets: a specific destination (and often source), one protocol, one
 * or a few ports, now and then a zone or interface. (Random ranges in every field, as random_rule makes, are
 * rte_acl's worst case: its tries grow out of bounds on thousands of those.)
 */
static void realistic_rule(struct fw_ruleset_conf *rs, uint8_t family)
{
	struct fw_rule_conf *r = add_rule(rs);
	r->action = (uint8_t)rnd(FW_ACTION_COUNT);
	r->family = family;
	unsigned max = family == 4 ? 32 : 128;
	struct addr_prefix p = {.addr.family = family};
	random_addr(family, p.addr.bytes);
	p.len = (uint8_t)(chance(50) ? max : family == 4 ? 16 + rnd(17) : 32 + rnd(97));
	addr_prefix_mask(&p);
	add_prefix_raw(&r->dst, &r->n_dst, &p);
	if (chance(50)) {
		random_addr(family, p.addr.bytes);
		p.len = (uint8_t)(family == 4 ? 8 + rnd(25) : 16 + rnd(113));
		addr_prefix_mask(&p);
		add_prefix_raw(&r->src, &r->n_src, &p);
	}
	unsigned kind = rnd(100);
	if (kind < 75) {
		r->proto = kind < 45 ? 6 : 17;
		unsigned ports = rnd(100);
		if (ports < 70) {
			uint16_t port = (uint16_t)(chance(70) ? rnd(1024) : rnd(65536));
			add_port(&r->dport, &r->n_dport, port, port);
		} else if (ports < 90) {
			for (unsigned i = 0; i < 2 + rnd(3); i++) {
				uint16_t port = (uint16_t)rnd(1024);
				add_port(&r->dport, &r->n_dport, port, port);
			}
		} else {
			uint16_t lo = (uint16_t)rnd(60000);
			add_port(&r->dport, &r->n_dport, lo, (uint16_t)(lo + rnd(5000)));
		}
		if (r->proto == 6 && chance(5)) {
			r->tcp_flags_mask = 0x12;
			r->tcp_flags_set = 0x02;
		}
	} else if (kind < 85) {
		r->proto = family == 4 ? 1 : 58;
		if (chance(70))
			r->icmp_type = (int16_t)rnd(12);
	} else if (kind < 95) {
		r->proto = (int16_t)rnd(256);
	}
	if (chance(20))
		snprintf(r->from_zone, FW_NAME_MAX, "%s", zone_names[rnd(4)]);
	if (chance(20))
		snprintf(r->to_zone, FW_NAME_MAX, "%s", zone_names[rnd(4)]);
	if (chance(10))
		snprintf(r->in_iface, FW_NAME_MAX, "if%u", 1 + rnd(8));
}

static void random_rule(struct fw_ruleset_conf *rs, uint8_t family)
{
	struct fw_rule_conf *r = add_rule(rs);
	r->action = (uint8_t)rnd(FW_ACTION_COUNT);
	/* most rules of this family, some of both (family 0), a few of the other (left out of this trie) */
	unsigned f = rnd(100);
	r->family = f < 70 ? family : f < 95 ? 0 : (family == 4 ? 6 : 4);
	uint8_t addr_family = r->family != 0 ? r->family : family;
	if (r->family != 0 || chance(30)) {
		random_prefixes(addr_family, &r->src, &r->n_src, r->family == 0);
		random_prefixes(addr_family, &r->dst, &r->n_dst, r->family == 0);
	}
	switch (rnd(6)) {
	case 0:
		break; /* any */
	case 1:
	case 2:
		r->proto = 6;
		random_ports(&r->sport, &r->n_sport);
		random_ports(&r->dport, &r->n_dport);
		if (chance(30)) {
			r->tcp_flags_mask = (uint8_t)rnd(256);
			r->tcp_flags_set = (uint8_t)(rnd(256) & r->tcp_flags_mask);
		}
		break;
	case 3:
		r->proto = 17;
		random_ports(&r->sport, &r->n_sport);
		random_ports(&r->dport, &r->n_dport);
		break;
	case 4:
		r->proto = addr_family == 4 ? 1 : 58;
		if (chance(60))
			r->icmp_type = (int16_t)rnd(12);
		if (chance(40))
			r->icmp_code = (int16_t)rnd(4);
		break;
	default:
		r->proto = (int16_t)rnd(256);
	}
	if (chance(25))
		snprintf(r->from_zone, FW_NAME_MAX, "%s", chance(95) ? zone_names[rnd(4)] : "zghost");
	if (chance(25))
		snprintf(r->to_zone, FW_NAME_MAX, "%s", chance(95) ? zone_names[rnd(4)] : "zghost");
	if (chance(20))
		snprintf(r->in_iface, FW_NAME_MAX, chance(95) ? "if%u" : "ghost%u", 1 + rnd(8));
	if (chance(20))
		snprintf(r->out_iface, FW_NAME_MAX, chance(95) ? "if%u" : "ghost%u", 1 + rnd(8));
	/* no catch-all: it would hide every later rule and leave no miss to check */
	bool any_addr = true; /* a /0 is any address too */
	for (size_t i = 0; i < r->n_src; i++)
		any_addr = any_addr && r->src[i].len == 0;
	for (size_t i = 0; i < r->n_dst; i++)
		any_addr = any_addr && r->dst[i].len == 0;
	if (any_addr && r->proto < 0 && r->from_zone[0] == '\0' && r->to_zone[0] == '\0' && r->in_iface[0] == '\0' &&
	    r->out_iface[0] == '\0')
		r->proto = (int16_t)rnd(256);
}

/* A random address inside p (any address when p is NULL). */
static void addr_in(const struct addr_prefix *p, uint8_t family, uint8_t *out)
{
	random_addr(family, out);
	if (p == NULL || p->addr.family != family)
		return;
	unsigned len = p->len;
	if (chance(20) && len > 0 && len < (family == 4 ? 32u : 128u)) {
		/* just outside: flip the last bit of the prefix */
		memcpy(out, p->addr.bytes, (len + 7) / 8);
		out[(len - 1) / 8] ^= (uint8_t)(0x80 >> ((len - 1) % 8));
		return;
	}
	for (unsigned bit = 0; bit < len; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));
		out[bit / 8] = (uint8_t)((out[bit / 8] & ~m) | (p->addr.bytes[bit / 8] & m));
	}
}

static uint16_t port_near(const struct fw_port_range *list, size_t n)
{
	if (n == 0 || chance(10))
		return (uint16_t)rnd(65536);
	const struct fw_port_range *r = &list[rnd((uint32_t)n)];
	switch (rnd(5)) {
	case 0:
		return r->lo;
	case 1:
		return r->hi;
	case 2:
		return (uint16_t)(r->lo - 1); /* wraps at 0: fine, still an edge */
	case 3:
		return (uint16_t)(r->hi + 1);
	default:
		return (uint16_t)(r->lo + rnd((uint32_t)(r->hi - r->lo) + 1));
	}
}

static uint8_t zone_near(const char *name)
{
	if (name[0] == '\0' || chance(15))
		return (uint8_t)rnd(6);
	return (uint8_t)fw_zone_id(&zone_conf, name);
}

static uint16_t iface_near(const char *name)
{
	if (name[0] == '\0' || chance(15))
		return (uint16_t)rnd(10);
	return iface_id(NULL, name);
}

static void random_packet(const struct fw_ruleset_conf *rs, uint8_t family, struct fw_match_input *in)
{
	memset(in, 0, sizeof(*in));
	in->family = family;
	const struct fw_rule_conf *r = rs->n_rules > 0 && chance(85) ? &rs->rules[rnd((uint32_t)rs->n_rules)] : NULL;
	if (r == NULL) {
		static const uint8_t protos[] = {1, 6, 17, 58, 47, 0, 255};
		in->proto = protos[rnd(RTE_DIM(protos))];
		random_addr(family, in->src);
		random_addr(family, in->dst);
		in->sport = (uint16_t)rnd(65536);
		in->dport = (uint16_t)rnd(65536);
		in->tcp_flags = (uint8_t)rnd(256);
		in->in_zone = (uint8_t)rnd(6);
		in->out_zone = (uint8_t)rnd(6);
		in->in_iface = (uint16_t)rnd(10);
		in->out_iface = (uint16_t)rnd(10);
		return;
	}
	in->proto = r->proto >= 0 && chance(90) ? (uint8_t)r->proto : (uint8_t)rnd(256);
	addr_in(r->n_src > 0 ? &r->src[rnd((uint32_t)r->n_src)] : NULL, family, in->src);
	addr_in(r->n_dst > 0 ? &r->dst[rnd((uint32_t)r->n_dst)] : NULL, family, in->dst);
	in->sport = port_near(r->sport, r->n_sport);
	in->dport = port_near(r->dport, r->n_dport);
	if (r->icmp_type >= 0 && chance(80))
		in->sport = (uint16_t)r->icmp_type;
	if (r->icmp_code >= 0 && chance(80))
		in->dport = (uint16_t)r->icmp_code;
	in->tcp_flags = (uint8_t)rnd(256);
	if (r->tcp_flags_mask != 0 && chance(70))
		in->tcp_flags = (uint8_t)((in->tcp_flags & ~r->tcp_flags_mask) | r->tcp_flags_set);
	in->in_zone = zone_near(r->from_zone);
	in->out_zone = zone_near(r->to_zone);
	in->in_iface = iface_near(r->in_iface);
	in->out_iface = iface_near(r->out_iface);
}

struct random_stats {
	unsigned packets, matched, distinct; /* distinct: rules that matched at least one packet */
};

static void random_compare(unsigned n_rules, uint8_t family, unsigned n_packets, uint64_t run_seed, bool realistic,
			   struct random_stats *stats)
{
	rng = seed ^ run_seed;
	struct fw_ruleset_conf rs = {.vrf = "main"};
	for (unsigned i = 0; i < n_rules; i++)
		if (realistic)
			realistic_rule(&rs, family);
		else
			random_rule(&rs, family);
	uint64_t start = rte_get_timer_cycles();
	struct fw_classifier *c = build(&rs, family);
	double build_s = (double)(rte_get_timer_cycles() - start) / (double)rte_get_timer_hz();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct fw_match_input *pkts = calloc(n_packets, sizeof(*pkts));
	bool *hit = calloc(n_rules + 1, sizeof(*hit));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pkts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hit);
	for (unsigned i = 0; i < n_packets; i++)
		random_packet(&rs, family, &pkts[i]);
	unsigned mismatches = 0, matched = 0, distinct = 0;
	for (unsigned i = 0; i < n_packets;) {
		unsigned burst = 1 + rnd(64);
		if (burst > n_packets - i)
			burst = n_packets - i;
		const struct fw_match_input *ptrs[64];
		uint32_t match[64];
		for (unsigned k = 0; k < burst; k++)
			ptrs[k] = &pkts[i + k];
		fw_classify_bulk(c, ptrs, burst, match);
		for (unsigned k = 0; k < burst; k++) {
			uint32_t naive = fw_classify_naive(&rs, &resolver, ptrs[k]);
			matched += naive != 0;
			if (naive != 0 && naive <= n_rules && !hit[naive]) {
				hit[naive] = true;
				distinct++;
			}
			if (match[k] != naive && mismatches++ < 5) {
				char s[64], d[64];
				struct addr a = {.family = family};
				memcpy(a.bytes, ptrs[k]->src, 16);
				addr_fmt(&a, s, sizeof(s));
				memcpy(a.bytes, ptrs[k]->dst, 16);
				addr_fmt(&a, d, sizeof(d));
				fprintf(stderr,
					"\nmismatch (rules %u, v%u, packet %u): acl %u naive %u: proto %u %s:%u -> %s:%u "
					"flags %#x zones %u/%u ifaces %u/%u\n",
					n_rules, family, i + k, match[k], naive, ptrs[k]->proto, s, ptrs[k]->sport, d,
					ptrs[k]->dport, ptrs[k]->tcp_flags, ptrs[k]->in_zone, ptrs[k]->out_zone,
					ptrs[k]->in_iface, ptrs[k]->out_iface);
			}
		}
		i += burst;
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	if (n_rules >= 500)
		printf("[%u rules v%u%s: %u entries, built in %.2f s, %u/%u packets matched %u rules] ", n_rules, family,
		       realistic ? " realistic" : "", fw_classifier_entries(c), build_s, matched, n_packets, distinct);
	stats->packets += n_packets;
	stats->matched += matched;
	stats->distinct += distinct;
	free(hit);
	free(pkts);
	fw_classifier_free(c);
	fw_ruleset_clear(&rs);
}

/* The packets must exercise both matches and misses, and many different rules. */
static void check_stats(const struct random_stats *s, unsigned min_distinct, bool misses)
{
	printf("[%u/%u packets matched, %u rules hit] ", s->matched, s->packets, s->distinct);
	CU_ASSERT(s->matched > s->packets / 10);
	/* 500 random rules tend to cover every protocol the packets use with some wide rule: misses are rare */
	if (misses)
		CU_ASSERT(s->matched < s->packets);
	CU_ASSERT(s->distinct >= min_distinct);
}

static void test_random_1(void)
{
	struct random_stats st = {0};
	for (uint64_t s = 0; s < 40; s++) {
		random_compare(1, 4, 500, 100 + s, false, &st);
		random_compare(1, 6, 500, 200 + s, false, &st);
	}
	check_stats(&st, 60, true);
}

static void test_random_10(void)
{
	struct random_stats st = {0};
	for (uint64_t s = 0; s < 10; s++) {
		random_compare(10, 4, 2000, 300 + s, false, &st);
		random_compare(10, 6, 2000, 400 + s, false, &st);
	}
	check_stats(&st, 150, true);
}

static void test_random_500(void)
{
	struct random_stats st = {0};
	random_compare(500, 4, 20000, 500, false, &st);
	random_compare(500, 6, 20000, 600, false, &st);
	check_stats(&st, 150, false);
}

static void test_random_10000(void)
{
	struct random_stats st = {0};
	/* FW_TEST_HARD=1: random_rule's worst case instead (builds in tens of seconds; early wide rules take all) */
	bool hard = getenv("FW_TEST_HARD") != NULL;
	random_compare(10000, 4, 20000, 700, !hard, &st);
	random_compare(10000, 6, 20000, 800, !hard, &st);
	if (!hard)
		check_stats(&st, 2000, true);
}

int main(void)
{
	char *eal_args[] = {"test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
			    "-l", "0", getenv("FW_TEST_ACL_DEBUG") != NULL ? "--log-level=lib.acl:debug" : "--log-level=lib.acl:error"};
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	const char *seed_text = getenv("FW_TEST_SEED");
	if (seed_text != NULL)
		seed = strtoull(seed_text, NULL, 0);
	printf("test_fw_classify: FW_TEST_SEED=%#" PRIx64 "\n", seed);
	resolver_init();
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"first match wins", test_first_match},
		{"port range edges", test_port_edges},
		{"prefix edges: /0, /32, /128, /63", test_prefix_edges},
		{"zones and interfaces, unknown names", test_zones_ifaces},
		{"ICMP type/code, TCP flags, families", test_icmp_flags_family},
		{"empty sets, cross products, limits", test_empty_and_limits},
		{"random: 1 rule", test_random_1},
		{"random: 10 rules", test_random_10},
		{"random: 500 rules", test_random_500},
		{"random: 10000 rules", test_random_10000},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/fw/fw_classify", NULL, NULL);
	const char *only = getenv("FW_TEST_ONLY"); /* run the tests whose name has this text */
	for (size_t i = 0; suite != NULL && i < RTE_DIM(tests); i++)
		if (only == NULL || strstr(tests[i].name, only) != NULL)
			CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
