/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule sets compiled into rte_acl (one context per family), and the naive linear matcher they are tested against.
 *
 * Matching semantics, shared by both:
 * - rules are tried in order, the first that matches wins (rte_acl: the rule's priority falls with its position);
 * - a rule of one family (4 or 6) matches only that family; a prefix of the other family never matches;
 * - an empty src/dst/sport/dport list is any; a list matches when one entry does (rte_acl: the cross product
 *   src x dst x sport x dport, every entry with the rule's user data = its index + 1 and its priority);
 * - ICMP type and code are carried in sport and dport (fw_classify.h): icmp_type/icmp_code match those, together
 *   with any port list (fw_conf_read allows only one of the two);
 * - tcp_flags: (flags & mask) == set, whatever the packet's protocol (fw_conf_read allows it only with proto tcp,
 *   so it applies to TCP packets only);
 * - a zone or interface the resolver does not know (id 0) makes the rule match nothing: it is left out.
 *
 * The input rte_acl reads is built per packet from fw_match_input (struct acl_input): the first field is one byte
 * (rte_acl's rule), the others are grouped 4 bytes per input index, multi-byte values in network order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>

#include "nf/fw/fw_classify.h"

/* Beyond this the trie takes too long and too much memory to build: such a rule set is refused. */
#define FW_CLASSIFY_MAX_ENTRIES (1u << 20)
#define ADD_BATCH 256
/*
 * Memory budget of one trie set. Given a budget, rte_acl_build starts with large tries and halves their node limit
 * while the result is too big; without one (0) it uses small tries, which run out of its 8 tries on large sets.
 */
#define FW_CLASSIFY_MAX_BYTES ((size_t)512 << 20)

struct acl_input {
	uint8_t proto; /* input 0: rte_acl's first field is one byte */
	uint8_t unused[3];
	uint8_t tcp_flags, in_zone, out_zone, pad; /* input 1 */
	uint16_t in_iface, out_iface;		    /* input 2, network order */
	uint16_t sport, dport;			    /* input 3, network order */
	uint8_t src[16];			    /* inputs 4..7 (IPv4: 4) */
	uint8_t dst[16];			    /* inputs 8..11 (IPv4: 5) */
};

enum {
	F_PROTO,
	F_TCP_FLAGS,
	F_IN_ZONE,
	F_OUT_ZONE,
	F_PAD,
	F_IN_IFACE,
	F_OUT_IFACE,
	F_SPORT,
	F_DPORT,
	F_SRC, /* IPv4: F_SRC, F_SRC + 1 = dst; IPv6: F_SRC..F_SRC + 3, then dst */
	F_MAX = F_SRC + 8,
};

RTE_ACL_RULE_DEF(fw_acl_rule, F_MAX);

/*
 * rte_acl splits a context into at most 8 tries; a rule set it cannot fit is cut, in rule order, into several
 * contexts, tried one after the other: a match in an earlier context wins, as its rules come first.
 */
#define FW_CLASSIFY_MAX_CTX 16

struct fw_classifier {
	uint8_t family;
	unsigned n_acl; /* 0 when no rule can match this family */
	struct rte_acl_ctx *acl[FW_CLASSIFY_MAX_CTX];
	uint32_t entries;
};

static unsigned n_fields(uint8_t family)
{
	return family == 4 ? F_SRC + 2 : F_MAX;
}

static void field_defs(struct rte_acl_config *cfg, uint8_t family)
{
	static const struct {
		uint8_t type, size;
		uint32_t offset;
	} fixed[F_SRC] = {
		[F_PROTO] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_input, proto)},
		[F_TCP_FLAGS] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_input, tcp_flags)},
		[F_IN_ZONE] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_input, in_zone)},
		[F_OUT_ZONE] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_input, out_zone)},
		[F_PAD] = {RTE_ACL_FIELD_TYPE_BITMASK, 1, offsetof(struct acl_input, pad)},
		/* exact or any: a bitmask, cheaper in the trie than a range */
		[F_IN_IFACE] = {RTE_ACL_FIELD_TYPE_BITMASK, 2, offsetof(struct acl_input, in_iface)},
		[F_OUT_IFACE] = {RTE_ACL_FIELD_TYPE_BITMASK, 2, offsetof(struct acl_input, out_iface)},
		[F_SPORT] = {RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct acl_input, sport)},
		[F_DPORT] = {RTE_ACL_FIELD_TYPE_RANGE, 2, offsetof(struct acl_input, dport)},
	};
	memset(cfg, 0, sizeof(*cfg));
	cfg->num_categories = 1;
	cfg->num_fields = n_fields(family);
	cfg->max_size = FW_CLASSIFY_MAX_BYTES;
	/*
	 * The trie walks the definitions in this order: the protocol, the addresses and the ports, which tell rules
	 * apart most, come first; the mostly-wildcard flags, zones and interfaces last (a smaller trie than the
	 * reverse). input_index counts the 4-byte groups in the same order.
	 */
	unsigned n = 0, input = 0;
	cfg->defs[n++] = (struct rte_acl_field_def){.type = fixed[F_PROTO].type, .size = 1, .field_index = F_PROTO,
						    .input_index = (uint8_t)input++, .offset = fixed[F_PROTO].offset};
	unsigned words = family == 4 ? 1 : 4;
	for (unsigned side = 0; side < 2; side++)
		for (unsigned w = 0; w < words; w++) {
			unsigned f = F_SRC + side * words + w;
			uint32_t base = side == 0 ? offsetof(struct acl_input, src) : offsetof(struct acl_input, dst);
			cfg->defs[n++] = (struct rte_acl_field_def){.type = RTE_ACL_FIELD_TYPE_MASK,
								    .size = 4,
								    .field_index = (uint8_t)f,
								    .input_index = (uint8_t)input++,
								    .offset = base + 4 * w};
		}
	static const uint8_t groups[][4] = {{F_SPORT, F_DPORT, 0, 0},
					    {F_TCP_FLAGS, F_IN_ZONE, F_OUT_ZONE, F_PAD},
					    {F_IN_IFACE, F_OUT_IFACE, 0, 0}};
	for (unsigned g = 0; g < RTE_DIM(groups); g++, input++)
		for (unsigned k = 0; k < 4 && (k == 0 || groups[g][k] != 0); k++) {
			unsigned f = groups[g][k];
			cfg->defs[n++] = (struct rte_acl_field_def){.type = fixed[f].type,
								    .size = fixed[f].size,
								    .field_index = (uint8_t)f,
								    .input_index = (uint8_t)input,
								    .offset = fixed[f].offset};
		}
}

/* ---- expanding a rule ---- */

/* A rule's fields resolved for one family; n_* = 0 means the rule cannot match. */
struct rule_expansion {
	uint8_t in_zone, out_zone; /* 0: any */
	uint16_t in_iface, out_iface;
	bool any_in_iface, any_out_iface;
	size_t n_src, n_dst; /* prefixes of the family (walked in the rule); 1 for any */
	struct fw_port_range *sport, *dport;	    /* effective ranges (ICMP type/code applied) */
	size_t n_sport, n_dport;
};

static size_t count_family(const struct addr_prefix *p, size_t n, uint8_t family)
{
	if (n == 0)
		return 1; /* any */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i].addr.family == family;
	return k;
}

/* Ranges of list (any when empty) intersected with [only, only] when only >= 0; returns how many are left. */
static size_t effective_ports(const struct fw_port_range *list, size_t n, int16_t only, struct fw_port_range *out)
{
	static const struct fw_port_range any = {0, 65535};
	if (n == 0) {
		list = &any;
		n = 1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct fw_port_range r = list[i];
		if (only >= 0) {
			if (only < r.lo || only > r.hi)
				continue;
			r.lo = r.hi = (uint16_t)only;
		}
		out[k++] = r;
	}
	return k;
}

static void expansion_free(struct rule_expansion *e)
{
	free(e->sport);
	free(e->dport);
	e->sport = e->dport = NULL;
}

/*
 * Resolve rule for family. Returns the number of trie entries it needs (0: it cannot match), or -1 when out of
 * memory. e is filled when the count is > 0 (free with expansion_free).
 */
static int64_t expand_rule(const struct fw_rule_conf *rule, uint8_t family, const struct fw_resolver *res,
			   struct rule_expansion *e)
{
	memset(e, 0, sizeof(*e));
	if (rule->family != 0 && rule->family != family)
		return 0;
	if (rule->from_zone[0] != '\0' && (e->in_zone = (uint8_t)fw_zone_id(res->conf, rule->from_zone)) == 0)
		return 0;
	if (rule->to_zone[0] != '\0' && (e->out_zone = (uint8_t)fw_zone_id(res->conf, rule->to_zone)) == 0)
		return 0;
	e->any_in_iface = rule->in_iface[0] == '\0';
	e->any_out_iface = rule->out_iface[0] == '\0';
	if (!e->any_in_iface &&
	    (res->iface_id == NULL || (e->in_iface = res->iface_id(res->arg, rule->in_iface)) == 0))
		return 0;
	if (!e->any_out_iface &&
	    (res->iface_id == NULL || (e->out_iface = res->iface_id(res->arg, rule->out_iface)) == 0))
		return 0;
	e->n_src = count_family(rule->src, rule->n_src, family);
	e->n_dst = count_family(rule->dst, rule->n_dst, family);
	if (e->n_src == 0 || e->n_dst == 0)
		return 0;
	e->sport = malloc((rule->n_sport > 0 ? rule->n_sport : 1) * sizeof(*e->sport));
	e->dport = malloc((rule->n_dport > 0 ? rule->n_dport : 1) * sizeof(*e->dport));
	if (e->sport == NULL || e->dport == NULL) {
		expansion_free(e);
		return -1;
	}
	e->n_sport = effective_ports(rule->sport, rule->n_sport, rule->icmp_type, e->sport);
	e->n_dport = effective_ports(rule->dport, rule->n_dport, rule->icmp_code, e->dport);
	int64_t n = (int64_t)e->n_src * (int64_t)e->n_dst;
	if (n > FW_CLASSIFY_MAX_ENTRIES)
		n = FW_CLASSIFY_MAX_ENTRIES + 1; /* keeps the products below from overflowing */
	n *= (int64_t)e->n_sport;
	if (n > FW_CLASSIFY_MAX_ENTRIES)
		n = FW_CLASSIFY_MAX_ENTRIES + 1;
	n *= (int64_t)e->n_dport;
	if (n == 0)
		expansion_free(e);
	return n;
}

static uint32_t be32_host(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Address fields of prefix p (NULL: any) from field first on. */
static void set_prefix(struct fw_acl_rule *r, unsigned first, const struct addr_prefix *p, uint8_t family)
{
	unsigned words = family == 4 ? 1 : 4;
	for (unsigned w = 0; w < words; w++) {
		struct rte_acl_field *f = &r->field[first + w];
		int len = p == NULL ? 0 : (int)p->len - 32 * (int)w;
		len = len < 0 ? 0 : len > 32 ? 32 : len;
		f->value.u32 = len > 0 ? be32_host(&p->addr.bytes[4 * w]) : 0;
		f->mask_range.u32 = (uint32_t)len;
	}
}

/* The next prefix of family after position *i (any when the list is empty: returns NULL once). */
static const struct addr_prefix *next_prefix(const struct addr_prefix *list, size_t n, uint8_t family, size_t *i)
{
	while (*i < n && list[*i].addr.family != family)
		(*i)++;
	return *i < n ? &list[(*i)++] : NULL;
}

struct builder {
	struct rte_acl_ctx *acl;
	uint8_t family;
	uint32_t rule_size;
	uint8_t *batch; /* ADD_BATCH rules of rule_size bytes */
	unsigned n_batch;
	int rc; /* first error of rte_acl_add_rules */
};

static void flush_batch(struct builder *b)
{
	if (b->n_batch > 0 && b->rc == 0)
		b->rc = rte_acl_add_rules(b->acl, (const struct rte_acl_rule *)b->batch, b->n_batch);
	b->n_batch = 0;
}

static void add_rule_entries(struct builder *b, const struct fw_rule_conf *rule, size_t index,
			     const struct rule_expansion *e)
{
	unsigned words = b->family == 4 ? 1 : 4;
	size_t si = 0;
	for (size_t s = 0; s < e->n_src; s++) {
		const struct addr_prefix *src = next_prefix(rule->src, rule->n_src, b->family, &si);
		size_t di = 0;
		for (size_t d = 0; d < e->n_dst; d++) {
			const struct addr_prefix *dst = next_prefix(rule->dst, rule->n_dst, b->family, &di);
			for (size_t sp = 0; sp < e->n_sport; sp++)
				for (size_t dp = 0; dp < e->n_dport; dp++) {
					struct fw_acl_rule *r = (struct fw_acl_rule *)(b->batch +
										       b->n_batch * b->rule_size);
					memset(r, 0, b->rule_size);
					r->data.category_mask = 1;
					r->data.priority = (int32_t)(RTE_ACL_MAX_PRIORITY - index);
					r->data.userdata = (uint32_t)index + 1;
					if (rule->proto >= 0) {
						r->field[F_PROTO].value.u8 = (uint8_t)rule->proto;
						r->field[F_PROTO].mask_range.u8 = 0xff;
					}
					r->field[F_TCP_FLAGS].value.u8 = rule->tcp_flags_set & rule->tcp_flags_mask;
					r->field[F_TCP_FLAGS].mask_range.u8 = rule->tcp_flags_mask;
					r->field[F_IN_ZONE].value.u8 = e->in_zone;
					r->field[F_IN_ZONE].mask_range.u8 = e->in_zone != 0 ? 0xff : 0;
					r->field[F_OUT_ZONE].value.u8 = e->out_zone;
					r->field[F_OUT_ZONE].mask_range.u8 = e->out_zone != 0 ? 0xff : 0;
					r->field[F_IN_IFACE].value.u16 = e->any_in_iface ? 0 : e->in_iface;
					r->field[F_IN_IFACE].mask_range.u16 = e->any_in_iface ? 0 : 0xffff;
					r->field[F_OUT_IFACE].value.u16 = e->any_out_iface ? 0 : e->out_iface;
					r->field[F_OUT_IFACE].mask_range.u16 = e->any_out_iface ? 0 : 0xffff;
					r->field[F_SPORT].value.u16 = e->sport[sp].lo;
					r->field[F_SPORT].mask_range.u16 = e->sport[sp].hi;
					r->field[F_DPORT].value.u16 = e->dport[dp].lo;
					r->field[F_DPORT].mask_range.u16 = e->dport[dp].hi;
					set_prefix(r, F_SRC, src, b->family);
					set_prefix(r, F_SRC + words, dst, b->family);
					if (++b->n_batch == ADD_BATCH)
						flush_batch(b);
				}
		}
	}
}

/* Entries of rules [lo, hi) for the family; -1 when out of memory. */
static int64_t count_entries(const struct fw_ruleset_conf *rs, uint8_t family, const struct fw_resolver *res,
			     size_t lo, size_t hi)
{
	int64_t total = 0;
	struct rule_expansion e;
	for (size_t i = lo; i < hi; i++) {
		int64_t n = expand_rule(&rs->rules[i], family, res, &e);
		expansion_free(&e);
		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

/* One rte_acl context for rules [lo, hi). Returns it, or NULL with *rc set (a negative errno). */
static struct rte_acl_ctx *build_context(const struct fw_ruleset_conf *rs, uint8_t family,
					 const struct fw_resolver *res, const char *name, int socket, size_t lo,
					 size_t hi, uint32_t entries, int *rc)
{
	struct rte_acl_param param = {.name = name,
				      .socket_id = socket,
				      .rule_size = (uint32_t)RTE_ACL_RULE_SZ(n_fields(family)),
				      .max_rule_num = entries};
	struct rte_acl_ctx *acl = rte_acl_create(&param);
	if (acl == NULL) {
		*rc = -rte_errno;
		return NULL;
	}
	struct builder b = {.acl = acl, .family = family, .rule_size = param.rule_size};
	b.batch = malloc((size_t)ADD_BATCH * b.rule_size);
	if (b.batch == NULL)
		b.rc = -ENOMEM;
	struct rule_expansion e;
	for (size_t i = lo; i < hi && b.rc == 0; i++) {
		int64_t n = expand_rule(&rs->rules[i], family, res, &e);
		if (n < 0)
			b.rc = -ENOMEM;
		if (n > 0)
			add_rule_entries(&b, &rs->rules[i], i, &e);
		expansion_free(&e);
	}
	flush_batch(&b);
	free(b.batch);
	if (b.rc == 0) {
		struct rte_acl_config cfg;
		field_defs(&cfg, family);
		b.rc = rte_acl_build(acl, &cfg);
	}
	if (b.rc != 0) {
		rte_acl_free(acl);
		*rc = b.rc;
		return NULL;
	}
	return acl;
}

/*
 * Build contexts for rules [lo, hi), appended to c in rule order. When rte_acl cannot fit them (ENOMEM: out of
 * tries), the range is halved while contexts remain. Returns 0, or -1 with err filled.
 */
static int build_range(struct fw_classifier *c, const struct fw_ruleset_conf *rs, const struct fw_resolver *res,
		       const char *name, int socket, size_t lo, size_t hi, char *err, size_t errlen)
{
	int64_t entries = count_entries(rs, c->family, res, lo, hi);
	if (entries < 0) {
		snprintf(err, errlen, "classifier %s: out of memory", name);
		return -1;
	}
	if (entries == 0)
		return 0;
	if (c->n_acl == FW_CLASSIFY_MAX_CTX) {
		snprintf(err, errlen,
			 "rule set of vrf %s: IPv%u rules too varied for %d rte_acl contexts (expected fewer rules, "
			 "or rules sharing more of their fields)",
			 rs->vrf, c->family, FW_CLASSIFY_MAX_CTX);
		return -1;
	}
	char ctx_name[RTE_ACL_NAMESIZE];
	if (c->n_acl == 0)
		snprintf(ctx_name, sizeof(ctx_name), "%s", name);
	else
		snprintf(ctx_name, sizeof(ctx_name), "%.26s.%u", name, c->n_acl % 100);
	int rc = 0;
	struct rte_acl_ctx *acl = build_context(rs, c->family, res, ctx_name, socket, lo, hi, (uint32_t)entries, &rc);
	if (acl != NULL) {
		c->acl[c->n_acl++] = acl;
		return 0;
	}
	if (rc == -ENOMEM && hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		return build_range(c, rs, res, name, socket, lo, mid, err, errlen) < 0 ||
				       build_range(c, rs, res, name, socket, mid, hi, err, errlen) < 0
			       ? -1
			       : 0;
	}
	snprintf(err, errlen, "classifier %s: building the rte_acl trie of rules %zu..%zu (%" PRId64 " entries) "
		 "failed: %s", name, lo + 1, hi, entries, strerror(-rc));
	return -1;
}

struct fw_classifier *fw_classifier_build(const struct fw_ruleset_conf *rs, uint8_t family,
					  const struct fw_resolver *res, const char *name, int socket, char *err,
					  size_t errlen)
{
	if (family != 4 && family != 6) {
		snprintf(err, errlen, "classifier %s: family %u (expected 4 or 6)", name, family);
		return NULL;
	}
	struct fw_classifier *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "classifier %s: out of memory", name);
		return NULL;
	}
	c->family = family;
	/* Count first: the context is sized for the exact number of entries. */
	uint64_t total = 0;
	struct rule_expansion e;
	for (size_t i = 0; i < rs->n_rules; i++) {
		int64_t n = expand_rule(&rs->rules[i], family, res, &e);
		expansion_free(&e);
		if (n < 0) {
			snprintf(err, errlen, "classifier %s: out of memory", name);
			goto fail;
		}
		total += (uint64_t)n;
		if (total > FW_CLASSIFY_MAX_ENTRIES) {
			snprintf(err, errlen,
				 "rule set of vrf %s: IPv%u rules up to %s (rule %zu) expand to more than %u classifier "
				 "entries (each rule counts src x dst x sport x dport; expected fewer: use shorter lists "
				 "or wider prefixes and port ranges)",
				 rs->vrf, family, rs->rules[i].name, i + 1, FW_CLASSIFY_MAX_ENTRIES);
			goto fail;
		}
	}
	c->entries = (uint32_t)total;
	if (total == 0)
		return c; /* nothing can match: classify answers 0 without a trie */
	if (rte_acl_find_existing(name) != NULL) {
		snprintf(err, errlen, "classifier %s: the name is already in use (expected a unique name)", name);
		goto fail;
	}
	if (build_range(c, rs, res, name, socket, 0, rs->n_rules, err, errlen) < 0)
		goto fail;
	return c;
fail:
	fw_classifier_free(c);
	return NULL;
}

void fw_classifier_free(struct fw_classifier *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_acl; i++)
		rte_acl_free(c->acl[i]);
	free(c);
}

uint32_t fw_classifier_entries(const struct fw_classifier *c)
{
	return c->entries;
}

void fw_classify_bulk(const struct fw_classifier *c, const struct fw_match_input *const *in, unsigned n,
		      uint32_t *match)
{
	memset(match, 0, n * sizeof(*match));
	if (c->n_acl == 0 || n == 0)
		return;
	struct acl_input data[64];
	const uint8_t *ptrs[64];
	size_t addr_len = c->family == 4 ? 4 : 16;
	for (unsigned i = 0; i < n; i++) {
		const struct fw_match_input *p = in[i];
		struct acl_input *a = &data[i];
		a->proto = p->proto;
		a->tcp_flags = p->tcp_flags;
		a->in_zone = p->in_zone;
		a->out_zone = p->out_zone;
		a->pad = 0;
		a->in_iface = rte_cpu_to_be_16(p->in_iface);
		a->out_iface = rte_cpu_to_be_16(p->out_iface);
		a->sport = rte_cpu_to_be_16(p->sport);
		a->dport = rte_cpu_to_be_16(p->dport);
		memcpy(a->src, p->src, addr_len);
		memcpy(a->dst, p->dst, addr_len);
		ptrs[i] = (const uint8_t *)a;
	}
	rte_acl_classify(c->acl[0], ptrs, match, n, 1);
	/* Later contexts hold later rules: only packets still unmatched go through them. */
	for (unsigned k = 1; k < c->n_acl; k++) {
		const uint8_t *rest[64];
		unsigned slot[64], m = 0;
		uint32_t found[64];
		for (unsigned i = 0; i < n; i++)
			if (match[i] == 0) {
				slot[m] = i;
				rest[m++] = ptrs[i];
			}
		if (m == 0)
			return;
		rte_acl_classify(c->acl[k], rest, found, m, 1);
		for (unsigned i = 0; i < m; i++)
			match[slot[i]] = found[i];
	}
}

/* ---- the reference ---- */

static bool prefix_has(const struct addr_prefix *p, uint8_t family, const uint8_t *a)
{
	if (p->addr.family != family)
		return false;
	unsigned full = p->len / 8, rest = p->len % 8;
	if (memcmp(p->addr.bytes, a, full) != 0)
		return false;
	return rest == 0 || ((p->addr.bytes[full] ^ a[full]) >> (8 - rest)) == 0;
}

static bool addr_match(const struct addr_prefix *list, size_t n, uint8_t family, const uint8_t *a)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (prefix_has(&list[i], family, a))
			return true;
	return false;
}

static bool port_match(const struct fw_port_range *list, size_t n, uint16_t port)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (port >= list[i].lo && port <= list[i].hi)
			return true;
	return false;
}

static bool zone_match(const char *name, const struct fw_resolver *res, uint8_t zone)
{
	if (name[0] == '\0')
		return true;
	unsigned id = fw_zone_id(res->conf, name);
	return id != 0 && id == zone;
}

static bool iface_match(const char *name, const struct fw_resolver *res, uint16_t iface)
{
	if (name[0] == '\0')
		return true;
	uint16_t id = res->iface_id != NULL ? res->iface_id(res->arg, name) : 0;
	return id != 0 && id == iface;
}

static bool rule_match(const struct fw_rule_conf *r, const struct fw_resolver *res, const struct fw_match_input *in)
{
	return (r->family == 0 || r->family == in->family) && (r->proto < 0 || r->proto == in->proto) &&
	       (in->tcp_flags & r->tcp_flags_mask) == (r->tcp_flags_set & r->tcp_flags_mask) &&
	       (r->icmp_type < 0 || r->icmp_type == in->sport) && (r->icmp_code < 0 || r->icmp_code == in->dport) &&
	       port_match(r->sport, r->n_sport, in->sport) && port_match(r->dport, r->n_dport, in->dport) &&
	       addr_match(r->src, r->n_src, in->family, in->src) && addr_match(r->dst, r->n_dst, in->family, in->dst) &&
	       zone_match(r->from_zone, res, in->in_zone) && zone_match(r->to_zone, res, in->out_zone) &&
	       iface_match(r->in_iface, res, in->in_iface) && iface_match(r->out_iface, res, in->out_iface);
}

uint32_t fw_classify_naive(const struct fw_ruleset_conf *rs, const struct fw_resolver *res,
			   const struct fw_match_input *in)
{
	for (size_t i = 0; i < rs->n_rules; i++)
		if (rule_match(&rs->rules[i], res, in))
			return (uint32_t)i + 1;
	return 0;
}
