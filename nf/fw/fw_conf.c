/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading and checking the "firewall" section, and the model's free/copy/compare. Syntax (every key optional unless
 * marked required; "N..M" is the accepted range):
 *
 *   firewall: {
 *     sessions: {
 *       max = 1000000;               # sessions for the whole gateway, split evenly between workers: 65536; 1..2^31
 *       when_full = "refuse";        # "refuse" | "evict-transitory" (the oldest not-established session makes room)
 *       tcp_window_check = true;     # sequence/window checks: true
 *       tcp_loose = false;           # a session may start mid-stream (not only with a SYN): false
 *       timeouts: {                  # seconds, 1..2592000 each (0 is refused)
 *         tcp_established = 7440; tcp_transitory = 240; tcp_time_wait = 120; tcp_closed = 10;
 *         udp = 120; icmp = 60; other = 120;
 *       };
 *     };
 *     reject_rate = 100;             # TCP RSTs / ICMP errors sent for "reject", per second per worker; 0..1000000
 *     log_rate = 100;                # log records per second per worker; 0..1000000 (0: no log records)
 *     on_rule_change = "keep";       # "keep" (sessions keep flowing) | "revalidate" (classified again)
 *     prefix_lists = (               # named prefixes, used as "@name" in src/dst; resolved when read
 *       { name = "sites"; prefixes = [ "10.1.0.0/16", "2001:db8:1::/48" ]; }  # name and prefixes required
 *     );
 *     zones = (                      # at most 15; an interface is in one zone at most
 *       { name = "site"; interfaces = [ "lan0" ]; },                         # name required; "any" is reserved
 *       { name = "internet"; interfaces = [ "wan0" ]; }
 *     );
 *     rulesets = (                   # at most one per VRF
 *       { vrf = "main";              # required: a VRF of the vrfs section
 *         default = "deny";          # action when no rule and no policy matched: "deny"
 *         default_log = false;
 *         policies = (               # per zone pair, when no rule matched; from, to and action required
 *           { from = "site"; to = "internet"; action = "allow"; log = false; }   # "any" allowed on either side
 *         );
 *         rules = (                  # first match wins
 *           { name = "web";          # default "rule<N>" (N = 1-based position); unique in the rule set
 *             action = "allow";      # required: "allow" (stateful) | "pass" (stateless) | "deny" | "reject"
 *             log = true;            # log the packets this rule decides: false
 *             proto = "tcp";         # "tcp" | "udp" | "icmp" | "icmpv6" | "any" | a number 0..255: "any"
 *             src = [ "@sites", "192.0.2.0/24" ];   # a string or a list of them: prefix or "@list"; absent: any
 *             dst = "0.0.0.0/0";
 *             sport = "1024-65535";  # TCP/UDP only: a port, "lo-hi", or a list ( 80, 443, "8000-8100" )
 *             dport = ( 80, 443, "8000-8100" );
 *             from = "site"; to = "internet";        # zones ("any": any, the default)
 *             in = "lan0"; out = "wan0";             # interfaces of the rule set's VRF
 *             icmp_type = 8; icmp_code = 0;          # 0..255, proto icmp/icmpv6 only
 *             tcp_flags = "syn,!ack";  # proto tcp only: listed flags set, "!"flags clear, others ignored
 *                                      # (fin syn rst psh ack urg ece cwr)
 *             family = 6;            # 4 or 6: only when no address fixes the family
 *           } ) } );
 *   };
 *
 * Checks and their reasons:
 * - prefixes are written as routes are: host bits set are refused ("10.0.0.1/8"), a bare address is a host prefix;
 * - libconfig arrays [ ] hold one type only: a port list mixing numbers and "lo-hi" strings is a list ( );
 * - a rule matches the address families that its family key, its proto (icmp: IPv4, icmpv6: IPv6), its src and
 *   its dst all allow (family 0 in the model: both). None left is refused (such as an IPv4 src with an IPv6 dst);
 *   a prefix written in the rule outside them is refused (it could never match); entries of a prefix list outside
 *   them are left out of the rule (a list may mix families);
 * - ports only with proto tcp or udp, icmp_type/icmp_code only with icmp or icmpv6, tcp_flags only with tcp;
 * - zones, prefix lists, VRFs and interfaces must exist (VRFs and interfaces only when the core model is known); a
 *   rule's in/out interface must be in the rule set's VRF.
 * A rule set read alone (`fw ruleset replace`, fw_ruleset_read_text) takes the keys of one rulesets entry plus its
 * own prefix_lists; zones are checked against the running ones, VRF and interfaces by the caller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_route.h"
#include "nf/fw/fw_conf.h"
#include "nf/nf_conf.h"

/* 2^28 sessions (about 59 GiB): far beyond any machine's hugepages, well below what a session table's hash and
 * indexes can address per worker (lib/ct: 2^29 and more); a larger value would only fail later, at boot. */
#define FW_MAX_SESSIONS (1ULL << 28)
#define FW_MAX_RATE 1000000
#define FAM_V4 1u
#define FAM_V6 2u
#define FAM_BOTH (FAM_V4 | FAM_V6)

static const char *const action_names[FW_ACTION_COUNT] = {"allow", "pass", "deny", "reject"};

const char *fw_action_name(uint8_t a)
{
	return a < FW_ACTION_COUNT ? action_names[a] : "?";
}

unsigned fw_zone_id(const struct fw_conf *c, const char *name)
{
	if (c == NULL || name == NULL || name[0] == '\0')
		return 0;
	for (size_t i = 0; i < c->n_zones; i++)
		if (strcmp(c->zones[i].name, name) == 0)
			return (unsigned)i + 1;
	return 0;
}

/* ---- reading ---- */

struct prefix_list {
	char name[FW_NAME_MAX];
	struct addr_prefix *prefixes;
	size_t n;
};

struct fw_reader {
	struct conf_ctx ctx; /* lib/conf's error reporting: "FILE:LINE: path: message" into err */
	char err[CONF_ERR_MAX];
	const struct npsgw_conf *core; /* NULL: VRF and interface names unchecked */
	const struct fw_zone_conf *zones;
	size_t n_zones;
	struct prefix_list *lists;
	size_t n_lists;
};

static void reader_init(struct fw_reader *r, const char *file, const struct npsgw_conf *core)
{
	memset(r, 0, sizeof(*r));
	r->ctx.name = file;
	r->ctx.err = r->err;
	r->core = core;
}

static void reader_release(struct fw_reader *r)
{
	for (size_t i = 0; i < r->n_lists; i++)
		free(r->lists[i].prefixes);
	free(r->lists);
	r->lists = NULL;
	r->n_lists = 0;
}

static bool is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int read_action(struct fw_reader *r, const config_setting_t *group, const char *key, uint8_t *out,
		       bool required)
{
	int rc = conf_read_choice(&r->ctx, group, key, action_names, FW_ACTION_COUNT, out);
	if (rc == 0 && required)
		return conf_fail_missing(&r->ctx, group, key, "\"allow\", \"pass\", \"deny\" or \"reject\"");
	return rc;
}

/* ---- sessions ---- */

/* The tracker's defaults (lib/ct): one place for them. */
static void sessions_default(struct ct_params *p)
{
	ct_params_default(p);
}

/* The block shared with nat.sessions (nf/nf_conf.c); every timeout 1..30 days. */
static int read_sessions(struct fw_reader *r, const config_setting_t *fw, struct ct_params *p)
{
	return nf_conf_read_sessions(&r->ctx, fw, (uint32_t)FW_MAX_SESSIONS, NULL, p);
}

/* ---- prefixes and prefix lists ---- */

static int parse_prefix(struct fw_reader *r, const config_setting_t *where, const char *text, struct addr_prefix *out)
{
	char why[192];
	if (conf_prefix_parse_strict(text, out, why, sizeof(why)) < 0)
		return conf_fail(&r->ctx, where, "%s", why);
	return 0;
}

static const struct prefix_list *find_list(const struct fw_reader *r, const char *name)
{
	for (size_t i = 0; i < r->n_lists; i++)
		if (strcmp(r->lists[i].name, name) == 0)
			return &r->lists[i];
	return NULL;
}

static const char *const list_keys[] = {"name", "prefixes", NULL};

static int read_prefix_list(struct fw_reader *r, const config_setting_t *g, size_t index)
{
	struct prefix_list *out = &r->lists[index];
	struct conf_ctx *ctx = &r->ctx;
	if (conf_check_keys(ctx, g, list_keys) < 0 || conf_read_name_required(ctx, g, "name", out->name) < 0)
		return -1;
	for (size_t i = 0; i < index; i++)
		if (strcmp(r->lists[i].name, out->name) == 0)
			return conf_fail(ctx, config_setting_get_member(g, "name"),
					 "duplicate prefix list name %s (expected unique names)", out->name);
	size_t count;
	const config_setting_t *list = conf_read_string_list(ctx, g, "prefixes", &count);
	if (list == NULL)
		return ctx->failed ? -1 : conf_fail_missing(ctx, g, "prefixes", "a list of prefixes [ \"...\", ... ]");
	if (count == 0)
		return conf_fail(ctx, list, "empty prefix list (expected at least one prefix)");
	out->prefixes = calloc(count, sizeof(*out->prefixes));
	if (out->prefixes == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		if (parse_prefix(r, e, config_setting_get_string(e), &out->prefixes[i]) < 0)
			return -1;
		out->n = i + 1;
	}
	return 0;
}

static int read_prefix_lists(struct fw_reader *r, const config_setting_t *parent)
{
	const config_setting_t *list = conf_read_group_list(&r->ctx, parent, "prefix_lists");
	if (list == NULL)
		return r->ctx.failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	r->lists = calloc(count > 0 ? count : 1, sizeof(*r->lists));
	if (r->lists == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < count; i++) {
		/* Count it first so that release frees a half-read entry. */
		r->n_lists = i + 1;
		if (read_prefix_list(r, config_setting_get_elem(list, (unsigned)i), i) < 0)
			return -1;
	}
	return 0;
}

/* ---- zones ---- */

static const char *const zone_keys[] = {"name", "interfaces", NULL};

static int read_zone(struct fw_reader *r, const config_setting_t *g, struct fw_conf *c, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct fw_zone_conf *z = &c->zones[index];
	if (conf_check_keys(ctx, g, zone_keys) < 0 || conf_read_name_required(ctx, g, "name", z->name) < 0)
		return -1;
	const config_setting_t *name = config_setting_get_member(g, "name");
	if (strcmp(z->name, "any") == 0)
		return conf_fail(ctx, name, "zone name \"any\" is reserved (expected another name)");
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->zones[i].name, z->name) == 0)
			return conf_fail(ctx, name, "duplicate zone name %s (expected unique names)", z->name);
	size_t count;
	const config_setting_t *list = conf_read_string_list(ctx, g, "interfaces", &count);
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	z->ifaces = calloc(count > 0 ? count : 1, sizeof(*z->ifaces));
	if (z->ifaces == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *ifname = config_setting_get_string(e);
		if (!conf_name_valid(ifname))
			return conf_fail(ctx, e, "\"%.64s\" is not a valid interface name (expected 1..%d characters "
					 "of A-Z a-z 0-9 _ . -)", ifname, CONF_NAME_MAX - 1);
		if (r->core != NULL && conf_find_interface(r->core, ifname) == NULL)
			return conf_fail(ctx, e, "unknown interface %s (expected a name from interfaces)", ifname);
		for (size_t k = 0; k <= index; k++) {
			const struct fw_zone_conf *other = &c->zones[k];
			size_t n = k == index ? i : other->n_ifaces;
			for (size_t j = 0; j < n; j++)
				if (strcmp(other->ifaces[j], ifname) == 0)
					return conf_fail(ctx, e,
							 "interface %s is already in zone %s (expected each "
							 "interface in one zone at most)",
							 ifname, other->name);
		}
		snprintf(z->ifaces[i], CONF_NAME_MAX, "%s", ifname);
		z->n_ifaces = i + 1;
	}
	return 0;
}

static int read_zones(struct fw_reader *r, const config_setting_t *fw, struct fw_conf *c)
{
	const config_setting_t *list = conf_read_group_list(&r->ctx, fw, "zones");
	if (list == NULL)
		return r->ctx.failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	if (count > FW_MAX_ZONES)
		return conf_fail(&r->ctx, config_setting_get_elem(list, FW_MAX_ZONES),
				 "%zu zones (expected at most %d)", count, FW_MAX_ZONES);
	c->zones = calloc(count > 0 ? count : 1, sizeof(*c->zones));
	if (c->zones == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < count; i++) {
		c->n_zones = i + 1;
		if (read_zone(r, config_setting_get_elem(list, (unsigned)i), c, i) < 0)
			return -1;
	}
	r->zones = c->zones;
	r->n_zones = c->n_zones;
	return 0;
}

static bool zone_known(const struct fw_reader *r, const char *name)
{
	for (size_t i = 0; i < r->n_zones; i++)
		if (strcmp(r->zones[i].name, name) == 0)
			return true;
	return false;
}

/* A zone name or "any" (stored as "" when any_empty, else as written). 0 when absent, 1 when read, -1 on error. */
static int read_zone_ref(struct fw_reader *r, const config_setting_t *g, const char *key, char out[FW_NAME_MAX],
			 bool any_empty)
{
	int rc = conf_read_name(&r->ctx, g, key, out);
	if (rc <= 0)
		return rc;
	if (strcmp(out, "any") == 0) {
		if (any_empty)
			out[0] = '\0';
		return 1;
	}
	if (!zone_known(r, out))
		return conf_fail(&r->ctx, config_setting_get_member(g, key),
				 "unknown zone %s (expected a name from firewall.zones or \"any\")", out);
	return 1;
}

/* ---- rules ---- */

struct addr_entry {
	struct addr_prefix p;
	const config_setting_t *literal; /* where it was written; NULL when it came from a prefix list */
};

struct addr_set {
	const config_setting_t *setting; /* NULL: key absent (any address) */
	struct addr_entry *v;
	size_t n, cap;
	unsigned families; /* FAM_* of the entries; FAM_BOTH when absent */
};

static unsigned fam_bit(uint8_t family)
{
	return family == 4 ? FAM_V4 : FAM_V6;
}

static int addr_set_push(struct fw_reader *r, struct addr_set *set, const struct addr_prefix *p,
			 const config_setting_t *literal)
{
	if (conf_grow((void **)&set->v, &set->cap, set->n + 1, sizeof(*set->v)) < 0)
		return conf_fail_nomem(&r->ctx);
	set->v[set->n++] = (struct addr_entry){.p = *p, .literal = literal};
	set->families |= fam_bit(p->addr.family);
	return 0;
}

static int read_addr_entry(struct fw_reader *r, const config_setting_t *e, struct addr_set *set)
{
	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, e, "a string: a prefix or \"@list\"");
	const char *text = config_setting_get_string(e);
	if (text[0] == '@') {
		const struct prefix_list *l = find_list(r, text + 1);
		if (l == NULL)
			return conf_fail(&r->ctx, e, "unknown prefix list %.64s (expected a name from prefix_lists)",
					 text + 1);
		for (size_t i = 0; i < l->n; i++)
			if (addr_set_push(r, set, &l->prefixes[i], NULL) < 0)
				return -1;
		return 0;
	}
	struct addr_prefix p;
	if (parse_prefix(r, e, text, &p) < 0)
		return -1;
	return addr_set_push(r, set, &p, e);
}

static int read_addr_set(struct fw_reader *r, const config_setting_t *g, const char *key, struct addr_set *set)
{
	*set = (struct addr_set){.families = FAM_BOTH};
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return 0;
	set->setting = s;
	set->families = 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return read_addr_entry(r, s, set);
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return conf_fail_type(&r->ctx, s, "a prefix string or a list of them [ \"...\", ... ]");
	if (config_setting_length(s) == 0)
		return conf_fail(&r->ctx, s, "empty list (expected at least one prefix; leave %s out for any address)",
				 key);
	for (int i = 0; i < config_setting_length(s); i++)
		if (read_addr_entry(r, config_setting_get_elem(s, (unsigned)i), set) < 0)
			return -1;
	return 0;
}

/* Keep the entries of the families in fams; copy them into the rule. */
static int addr_set_take(struct fw_reader *r, const struct addr_set *set, unsigned fams, struct addr_prefix **out,
			 size_t *n)
{
	*out = NULL;
	*n = 0;
	if (set->n == 0)
		return 0;
	*out = calloc(set->n, sizeof(**out));
	if (*out == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < set->n; i++)
		if (fam_bit(set->v[i].p.addr.family) & fams)
			(*out)[(*n)++] = set->v[i].p;
	return 0;
}

static const char *fam_text(unsigned fams)
{
	return fams == FAM_V4 ? "IPv4" : fams == FAM_V6 ? "IPv6" : "IPv4 and IPv6";
}

/* Why a rule is limited to the families fams, for messages. */
static const char *limit_reason(bool by_key, bool by_proto)
{
	return by_key ? "its family key" : by_proto ? "its proto" : "its other addresses";
}

/*
 * Settle the rule's family (see the top of the file) and move its addresses into the rule: the families it can
 * match are those its family key, proto, src and dst all allow. None left, or a prefix written in the rule outside
 * them (it could never match), is refused; prefix list entries outside them are left out.
 */
static int settle_family(struct fw_reader *r, const config_setting_t *g, struct fw_rule_conf *rule,
			 struct addr_set *src, struct addr_set *dst)
{
	struct conf_ctx *ctx = &r->ctx;
	unsigned fams = FAM_BOTH;
	const config_setting_t *family = config_setting_get_member(g, "family");
	if (family != NULL) {
		if (!is_int(family))
			return conf_fail_type(&r->ctx, family, "4 or 6");
		long long v = config_setting_get_int64(family);
		if (v != 4 && v != 6)
			return conf_fail(ctx, family, "%lld is not an address family (expected 4 or 6)", v);
		fams = fam_bit((uint8_t)v);
	}
	/* ICMP is IPv4's, ICMPv6 IPv6's: such a rule cannot match the other family. */
	unsigned proto_fams = rule->proto == 1 ? FAM_V4 : rule->proto == 58 ? FAM_V6 : FAM_BOTH;
	if ((fams & proto_fams) == 0)
		return conf_fail(ctx, config_setting_get_member(g, "proto"),
				 "proto %s cannot match family %s (expected proto %s)", rule->proto == 1 ? "icmp" : "icmpv6",
				 fam_text(fams), rule->proto == 1 ? "icmpv6" : "icmp");
	bool by_proto = proto_fams != FAM_BOTH;
	fams &= proto_fams;
	if ((fams & src->families) == 0)
		return conf_fail(ctx, src->setting, "src has no %s prefix, so the rule could never match (%s allows "
				 "%s only)", fam_text(fams), limit_reason(family != NULL, by_proto), fam_text(fams));
	bool by_src = src->setting != NULL;
	fams &= src->families;
	if ((fams & dst->families) == 0)
		return conf_fail(ctx, dst->setting, "dst has no %s prefix, so the rule could never match (%s allows "
				 "%s only; expected src and dst of one address family)", fam_text(fams),
				 by_src ? "src" : limit_reason(family != NULL, by_proto), fam_text(fams));
	fams &= dst->families;
	struct addr_set *sets[] = {src, dst};
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < sets[k]->n; i++) {
			const struct addr_entry *e = &sets[k]->v[i];
			if (e->literal == NULL || (fam_bit(e->p.addr.family) & fams))
				continue;
			char text[ADDR_STR_MAX];
			return conf_fail(ctx, e->literal,
					 "%s is IPv%u but the rule can only match %s (its family key, proto or "
					 "other addresses say so; expected src and dst of one address family)",
					 addr_prefix_fmt(&e->p, text, sizeof(text)), e->p.addr.family, fam_text(fams));
		}
	rule->family = fams == FAM_V4 ? 4 : fams == FAM_V6 ? 6 : 0;
	if (addr_set_take(r, src, fams, &rule->src, &rule->n_src) < 0 ||
	    addr_set_take(r, dst, fams, &rule->dst, &rule->n_dst) < 0)
		return -1;
	return 0;
}

static int parse_port(const char *text, uint16_t *out, const char **end)
{
	char *e;
	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(text, &e, 10);
	if (errno != 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	*end = e;
	return 0;
}

static int read_port_entry(struct fw_reader *r, const config_setting_t *e, struct fw_port_range *out)
{
	if (is_int(e)) {
		long long v = config_setting_get_int64(e);
		if (v < 0 || v > 65535)
			return conf_fail(&r->ctx, e, "port %lld is out of range (expected 0..65535)", v);
		*out = (struct fw_port_range){(uint16_t)v, (uint16_t)v};
		return 0;
	}
	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, e, "a port number or a \"lo-hi\" string");
	const char *text = config_setting_get_string(e), *end;
	const char *expected = "expected a port 0..65535 or a range \"lo-hi\" such as \"1024-65535\"";
	if (parse_port(text, &out->lo, &end) < 0)
		return conf_fail(&r->ctx, e, "\"%.64s\" is not a port range (%s)", text, expected);
	out->hi = out->lo;
	if (*end == '-' && parse_port(end + 1, &out->hi, &end) < 0)
		return conf_fail(&r->ctx, e, "\"%.64s\" is not a port range (%s)", text, expected);
	if (*end != '\0')
		return conf_fail(&r->ctx, e, "\"%.64s\" is not a port range (%s)", text, expected);
	if (out->hi < out->lo)
		return conf_fail(&r->ctx, e, "port range %u-%u runs backwards (expected lo <= hi)", out->lo, out->hi);
	return 0;
}

static int read_ports(struct fw_reader *r, const config_setting_t *g, const char *key, struct fw_port_range **out,
		      size_t *n)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return 0;
	size_t count = 1;
	bool many = config_setting_is_array(s) || config_setting_is_list(s);
	if (many) {
		count = (size_t)config_setting_length(s);
		if (count == 0)
			return conf_fail(&r->ctx, s, "empty list (expected at least one port; leave %s out for any)",
					 key);
	}
	*out = calloc(count, sizeof(**out));
	if (*out == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < count; i++) {
		if (read_port_entry(r, many ? config_setting_get_elem(s, (unsigned)i) : s, &(*out)[i]) < 0)
			return -1;
		*n = i + 1;
	}
	return 0;
}

static const struct {
	const char *name;
	int16_t number;
} proto_names[] = {{"any", -1}, {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"icmpv6", 58}};

static int read_proto(struct fw_reader *r, const config_setting_t *g, int16_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, "proto");
	if (s == NULL)
		return 0;
	if (is_int(s)) {
		long long v = config_setting_get_int64(s);
		if (v < 0 || v > 255)
			return conf_fail(&r->ctx, s, "protocol %lld is out of range (expected 0..255)", v);
		*out = (int16_t)v;
		return 1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, s, "\"tcp\", \"udp\", \"icmp\", \"icmpv6\", \"any\" or a number 0..255");
	const char *text = config_setting_get_string(s);
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcmp(text, proto_names[i].name) == 0) {
			*out = proto_names[i].number;
			return 1;
		}
	return conf_fail(&r->ctx, s,
			 "\"%.64s\" is not a protocol (expected \"tcp\", \"udp\", \"icmp\", \"icmpv6\", \"any\" or a "
			 "number 0..255)",
			 text);
}

static const char *const tcp_flag_names[8] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"};

static int read_tcp_flags(struct fw_reader *r, const config_setting_t *g, struct fw_rule_conf *rule)
{
	const config_setting_t *s = config_setting_get_member(g, "tcp_flags");
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(&r->ctx, s, "a string such as \"syn,!ack\"");
	const char *p = config_setting_get_string(s);
	const char *expected = "expected flags of fin syn rst psh ack urg ece cwr, each once, \"!\" for clear, "
			       "separated by commas, such as \"syn,!ack\"";
	uint8_t mask = 0, set = 0;
	for (;;) {
		while (*p == ' ')
			p++;
		bool clear = *p == '!';
		if (clear)
			p++;
		size_t len = strcspn(p, ", ");
		int bit = -1;
		for (int i = 0; i < 8 && bit < 0; i++)
			if (strlen(tcp_flag_names[i]) == len && strncmp(p, tcp_flag_names[i], len) == 0)
				bit = i;
		if (bit < 0)
			return conf_fail(&r->ctx, s, "\"%.*s\" is not a TCP flag (%s)", (int)(len > 16 ? 16 : len), p,
					 expected);
		if (mask & (1u << bit))
			return conf_fail(&r->ctx, s, "TCP flag %s is listed twice (%s)", tcp_flag_names[bit],
					 expected);
		mask |= (uint8_t)(1u << bit);
		if (!clear)
			set |= (uint8_t)(1u << bit);
		p += len;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return conf_fail(&r->ctx, s, "unexpected '%c' in TCP flags (%s)", *p, expected);
		p++;
	}
	rule->tcp_flags_mask = mask;
	rule->tcp_flags_set = set;
	return 1;
}

static int read_icmp_field(struct fw_reader *r, const config_setting_t *g, const char *key, int16_t *out)
{
	uint64_t v;
	int rc = conf_read_uint(&r->ctx, g, key, 0, 255, &v);
	if (rc == 1)
		*out = (int16_t)v;
	return rc;
}

/* Interface names of a rule: must exist and be in the rule set's VRF (when the core model is known). */
static int read_iface_ref(struct fw_reader *r, const config_setting_t *g, const char *key, const char *vrf,
			  char out[FW_NAME_MAX])
{
	int rc = conf_read_name(&r->ctx, g, key, out);
	if (rc <= 0 || r->core == NULL)
		return rc;
	const config_setting_t *s = config_setting_get_member(g, key);
	const struct conf_interface *iface = conf_find_interface(r->core, out);
	if (iface == NULL)
		return conf_fail(&r->ctx, s, "unknown interface %s (expected a name from interfaces)", out);
	if (strcmp(iface->vrf, vrf) != 0)
		return conf_fail(&r->ctx, s, "interface %s is in vrf %s (expected an interface of vrf %s)", out,
				 iface->vrf, vrf);
	return 1;
}

static const char *const rule_keys[] = {"name", "action", "log",	 "proto",     "family",	   "src",
					"dst",	"sport",  "dport",	 "from",      "to",	   "in",
					"out",	"icmp_type", "icmp_code", "tcp_flags", NULL};

struct rule_names {
	struct conf_index index;
	const struct fw_rule_conf *rules;
};

static bool rule_name_same(const void *ctx, uint32_t index, const void *key)
{
	const struct rule_names *names = ctx;
	return strcmp(names->rules[index].name, key) == 0;
}

static int read_rule(struct fw_reader *r, const config_setting_t *g, struct fw_ruleset_conf *rs, size_t index,
		     struct rule_names *names)
{
	struct conf_ctx *ctx = &r->ctx;
	struct fw_rule_conf *rule = &rs->rules[index];
	*rule = (struct fw_rule_conf){.proto = -1, .icmp_type = -1, .icmp_code = -1};
	snprintf(rule->name, sizeof(rule->name), "rule%zu", index + 1);
	if (conf_check_keys(ctx, g, rule_keys) < 0 || conf_read_name(ctx, g, "name", rule->name) < 0 ||
	    read_action(r, g, "action", &rule->action, true) < 0 || conf_read_bool(ctx, g, "log", &rule->log) < 0 ||
	    read_proto(r, g, &rule->proto) < 0)
		return -1;
	uint64_t hash = conf_hash_string(CONF_HASH_SEED, rule->name);
	names->rules = rs->rules;
	long other = conf_index_find(&names->index, hash, rule_name_same, names, rule->name);
	if (other >= 0)
		return conf_fail(ctx, config_setting_get_member(g, "name") != NULL ? config_setting_get_member(g, "name")
										 : g,
				 "duplicate rule name %s, also rule %ld (expected unique names in a rule set)",
				 rule->name, other + 1);
	if (conf_index_add(&names->index, hash, (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);

	struct addr_set src, dst;
	int rc = read_addr_set(r, g, "src", &src);
	if (rc == 0)
		rc = read_addr_set(r, g, "dst", &dst);
	else
		dst = (struct addr_set){0};
	if (rc == 0)
		rc = settle_family(r, g, rule, &src, &dst);
	free(src.v);
	free(dst.v);
	if (rc < 0)
		return -1;

	if (read_ports(r, g, "sport", &rule->sport, &rule->n_sport) < 0 ||
	    read_ports(r, g, "dport", &rule->dport, &rule->n_dport) < 0 ||
	    read_icmp_field(r, g, "icmp_type", &rule->icmp_type) < 0 ||
	    read_icmp_field(r, g, "icmp_code", &rule->icmp_code) < 0 || read_tcp_flags(r, g, rule) < 0 ||
	    read_zone_ref(r, g, "from", rule->from_zone, true) < 0 || read_zone_ref(r, g, "to", rule->to_zone, true) < 0 ||
	    read_iface_ref(r, g, "in", rs->vrf, rule->in_iface) < 0 ||
	    read_iface_ref(r, g, "out", rs->vrf, rule->out_iface) < 0)
		return -1;

	bool ports_ok = rule->proto == 6 || rule->proto == 17;
	bool icmp_ok = rule->proto == 1 || rule->proto == 58;
	static const char *const port_keys[] = {"sport", "dport"}, *const icmp_keys[] = {"icmp_type", "icmp_code"};
	for (size_t i = 0; i < 2; i++) {
		const config_setting_t *s = config_setting_get_member(g, port_keys[i]);
		if (s != NULL && !ports_ok)
			return conf_fail(ctx, s, "ports need proto tcp or udp (expected proto = \"tcp\" or \"udp\")");
		s = config_setting_get_member(g, icmp_keys[i]);
		if (s != NULL && !icmp_ok)
			return conf_fail(ctx, s, "%s needs proto icmp or icmpv6 (expected proto = \"icmp\" or "
					 "\"icmpv6\")", icmp_keys[i]);
	}
	const config_setting_t *flags = config_setting_get_member(g, "tcp_flags");
	if (flags != NULL && rule->proto != 6)
		return conf_fail(ctx, flags, "tcp_flags needs proto tcp (expected proto = \"tcp\")");
	return 0;
}

static const char *const policy_keys[] = {"from", "to", "action", "log", NULL};

static int read_policy(struct fw_reader *r, const config_setting_t *g, struct fw_ruleset_conf *rs, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct fw_policy_conf *p = &rs->policies[index];
	if (conf_check_keys(ctx, g, policy_keys) < 0)
		return -1;
	int rc = read_zone_ref(r, g, "from", p->from, false);
	if (rc == 0)
		return conf_fail_missing(ctx, g, "from", "a zone name or \"any\"");
	if (rc < 0)
		return -1;
	rc = read_zone_ref(r, g, "to", p->to, false);
	if (rc == 0)
		return conf_fail_missing(ctx, g, "to", "a zone name or \"any\"");
	if (rc < 0 || read_action(r, g, "action", &p->action, true) < 0 || conf_read_bool(ctx, g, "log", &p->log) < 0)
		return -1;
	for (size_t i = 0; i < index; i++)
		if (strcmp(rs->policies[i].from, p->from) == 0 && strcmp(rs->policies[i].to, p->to) == 0)
			return conf_fail(ctx, g, "a policy from %s to %s is already policy %zu (expected each zone pair "
					 "once)", p->from, p->to, i + 1);
	return 0;
}

static int read_ruleset_body(struct fw_reader *r, const config_setting_t *g, struct fw_ruleset_conf *rs)
{
	struct conf_ctx *ctx = &r->ctx;
	rs->default_action = FW_DENY;
	if (read_action(r, g, "default", &rs->default_action, false) < 0 ||
	    conf_read_bool(ctx, g, "default_log", &rs->default_log) < 0)
		return -1;
	const config_setting_t *list = conf_read_group_list(ctx, g, "policies");
	if (list == NULL && ctx->failed)
		return -1;
	size_t count = list != NULL ? (size_t)config_setting_length(list) : 0;
	rs->policies = calloc(count > 0 ? count : 1, sizeof(*rs->policies));
	if (rs->policies == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		if (read_policy(r, config_setting_get_elem(list, (unsigned)i), rs, i) < 0)
			return -1;
		rs->n_policies = i + 1;
	}
	list = conf_read_group_list(ctx, g, "rules");
	if (list == NULL && ctx->failed)
		return -1;
	count = list != NULL ? (size_t)config_setting_length(list) : 0;
	rs->rules = calloc(count > 0 ? count : 1, sizeof(*rs->rules));
	if (rs->rules == NULL)
		return conf_fail_nomem(ctx);
	struct rule_names names = {0};
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		/* Counted before reading so that a half-read rule's arrays are freed. */
		rs->n_rules = i + 1;
		rc = read_rule(r, config_setting_get_elem(list, (unsigned)i), rs, i, &names);
	}
	conf_index_free(&names.index);
	return rc;
}

static const char *const ruleset_keys[] = {"vrf", "default", "default_log", "policies", "rules", NULL};

static int read_ruleset(struct fw_reader *r, const config_setting_t *g, struct fw_conf *c, size_t index)
{
	struct conf_ctx *ctx = &r->ctx;
	struct fw_ruleset_conf *rs = &c->rulesets[index];
	if (conf_check_keys(ctx, g, ruleset_keys) < 0 || conf_read_name_required(ctx, g, "vrf", rs->vrf) < 0)
		return -1;
	const config_setting_t *vrf = config_setting_get_member(g, "vrf");
	if (r->core != NULL && conf_find_vrf(r->core, rs->vrf) == NULL)
		return conf_fail(ctx, vrf, "unknown vrf %s (expected a name from vrfs)", rs->vrf);
	for (size_t i = 0; i < index; i++)
		if (strcmp(c->rulesets[i].vrf, rs->vrf) == 0)
			return conf_fail(ctx, vrf, "vrf %s already has a rule set, rulesets[%zu] (expected one per vrf)",
					 rs->vrf, i);
	return read_ruleset_body(r, g, rs);
}

static int read_rulesets(struct fw_reader *r, const config_setting_t *fw, struct fw_conf *c)
{
	const config_setting_t *list = conf_read_group_list(&r->ctx, fw, "rulesets");
	if (list == NULL)
		return r->ctx.failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	c->rulesets = calloc(count > 0 ? count : 1, sizeof(*c->rulesets));
	if (c->rulesets == NULL)
		return conf_fail_nomem(&r->ctx);
	for (size_t i = 0; i < count; i++) {
		c->n_rulesets = i + 1;
		if (read_ruleset(r, config_setting_get_elem(list, (unsigned)i), c, i) < 0)
			return -1;
	}
	return 0;
}

static const char *const firewall_keys[] = {"sessions", "reject_rate", "log_rate", "on_rule_change",
					    "prefix_lists", "zones", "rulesets", NULL};
static const char *const rule_change_names[] = {"keep", "revalidate"};

static int read_firewall(struct fw_reader *r, const config_setting_t *s, struct fw_conf *c)
{
	struct conf_ctx *ctx = &r->ctx;
	if (!config_setting_is_group(s))
		return conf_fail_type(&r->ctx, s, "a group { ... }");
	sessions_default(&c->sessions);
	c->reject_rate = 100;
	c->log_rate = 100;
	c->on_rule_change = FW_KEEP_SESSIONS;
	if (conf_check_keys(ctx, s, firewall_keys) < 0 || read_sessions(r, s, &c->sessions) < 0 ||
	    conf_read_u32(ctx, s, "reject_rate", 0, FW_MAX_RATE, &c->reject_rate) < 0 ||
	    conf_read_u32(ctx, s, "log_rate", 0, FW_MAX_RATE, &c->log_rate) < 0 ||
	    conf_read_choice(&r->ctx, s, "on_rule_change", rule_change_names, 2, &c->on_rule_change) < 0 ||
	    read_prefix_lists(r, s) < 0 || read_zones(r, s, c) < 0 || read_rulesets(r, s, c) < 0)
		return -1;
	return 0;
}

static void copy_err(const struct fw_reader *r, char *err, size_t errlen)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s", r->err[0] != '\0' ? r->err : "unknown error");
}

int fw_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, struct fw_conf **out,
		 char *err, size_t errlen)
{
	struct fw_reader r;
	reader_init(&r, file, core);
	struct fw_conf *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		conf_fail_nomem(&r.ctx);
		copy_err(&r, err, errlen);
		return -1;
	}
	int rc = read_firewall(&r, s, c);
	reader_release(&r);
	if (rc < 0) {
		fw_conf_free(c);
		copy_err(&r, err, errlen);
		return -1;
	}
	*out = c;
	return 0;
}

static const char *const ruleset_text_keys[] = {"vrf", "default", "default_log", "policies", "rules",
						"prefix_lists", NULL};

int fw_ruleset_read_text(const char *text, const char *file, const struct fw_conf *running,
			 struct fw_ruleset_conf **out, char *err, size_t errlen)
{
	struct fw_reader r;
	reader_init(&r, file, NULL);
	if (running != NULL) {
		r.zones = running->zones;
		r.n_zones = running->n_zones;
	}
	struct fw_ruleset_conf *rs = calloc(1, sizeof(*rs));
	char *scanned = rs != NULL ? conf_prescan(&r.ctx, text) : NULL;
	if (rs == NULL)
		conf_fail_nomem(&r.ctx);
	config_t cfg;
	config_init(&cfg);
	if (scanned != NULL) {
		if (config_read_string(&cfg, scanned) != CONFIG_TRUE) {
			conf_fail_at(&r.ctx, file, (size_t)config_error_line(&cfg), "%s", config_error_text(&cfg));
		} else {
			const config_setting_t *root = config_root_setting(&cfg);
			if (conf_check_keys(&r.ctx, root, ruleset_text_keys) == 0 &&
			    conf_read_name_required(&r.ctx, root, "vrf", rs->vrf) > 0 && read_prefix_lists(&r, root) == 0)
				read_ruleset_body(&r, root, rs);
		}
	}
	free(scanned);
	config_destroy(&cfg);
	reader_release(&r);
	if (r.ctx.failed) {
		fw_ruleset_free(rs);
		copy_err(&r, err, errlen);
		return -1;
	}
	*out = rs;
	return 0;
}

/* ---- free, copy, compare ---- */

static void rule_clear(struct fw_rule_conf *rule)
{
	free(rule->src);
	free(rule->dst);
	free(rule->sport);
	free(rule->dport);
}

void fw_ruleset_clear(struct fw_ruleset_conf *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n_rules; i++)
		rule_clear(&rs->rules[i]);
	free(rs->rules);
	free(rs->policies);
	rs->rules = NULL;
	rs->policies = NULL;
	rs->n_rules = rs->n_policies = 0;
}

void fw_ruleset_free(struct fw_ruleset_conf *rs)
{
	fw_ruleset_clear(rs);
	free(rs);
}

void fw_conf_free(struct fw_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_zones; i++)
		free(c->zones[i].ifaces);
	free(c->zones);
	for (size_t i = 0; i < c->n_rulesets; i++)
		fw_ruleset_clear(&c->rulesets[i]);
	free(c->rulesets);
	free(c);
}

/* A copy of n elements of size bytes (NULL for none); false when out of memory. */
static bool dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return true;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return false;
	memcpy(*dst, src, n * size);
	return true;
}

static int rule_copy(struct fw_rule_conf *dst, const struct fw_rule_conf *src)
{
	*dst = *src;
	dst->src = dst->dst = NULL;
	dst->sport = dst->dport = NULL;
	if (!dup_array((void **)&dst->src, src->src, src->n_src, sizeof(*src->src)) ||
	    !dup_array((void **)&dst->dst, src->dst, src->n_dst, sizeof(*src->dst)) ||
	    !dup_array((void **)&dst->sport, src->sport, src->n_sport, sizeof(*src->sport)) ||
	    !dup_array((void **)&dst->dport, src->dport, src->n_dport, sizeof(*src->dport))) {
		rule_clear(dst);
		return ENOMEM;
	}
	return 0;
}

int fw_ruleset_copy(struct fw_ruleset_conf *dst, const struct fw_ruleset_conf *src)
{
	*dst = *src;
	dst->rules = NULL;
	dst->n_rules = 0;
	if (!dup_array((void **)&dst->policies, src->policies, src->n_policies, sizeof(*src->policies)))
		return ENOMEM;
	if (src->n_rules > 0) {
		dst->rules = calloc(src->n_rules, sizeof(*dst->rules));
		if (dst->rules == NULL) {
			fw_ruleset_clear(dst);
			return ENOMEM;
		}
	}
	for (size_t i = 0; i < src->n_rules; i++) {
		if (rule_copy(&dst->rules[i], &src->rules[i]) != 0) {
			fw_ruleset_clear(dst);
			return ENOMEM;
		}
		dst->n_rules = i + 1;
	}
	return 0;
}

struct fw_conf *fw_conf_dup(const struct fw_conf *c)
{
	struct fw_conf *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	*d = *c;
	d->zones = NULL;
	d->rulesets = NULL;
	d->n_zones = d->n_rulesets = 0;
	if (c->n_zones > 0 && (d->zones = calloc(c->n_zones, sizeof(*d->zones))) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_zones; i++) {
		d->zones[i] = c->zones[i];
		d->zones[i].ifaces = NULL;
		d->n_zones = i + 1;
		if (!dup_array((void **)&d->zones[i].ifaces, c->zones[i].ifaces, c->zones[i].n_ifaces,
			       sizeof(*c->zones[i].ifaces)))
			goto fail;
	}
	if (c->n_rulesets > 0 && (d->rulesets = calloc(c->n_rulesets, sizeof(*d->rulesets))) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_rulesets; i++) {
		if (fw_ruleset_copy(&d->rulesets[i], &c->rulesets[i]) != 0)
			goto fail;
		d->n_rulesets = i + 1;
	}
	return d;
fail:
	fw_conf_free(d);
	return NULL;
}

static bool prefixes_equal(const struct addr_prefix *a, const struct addr_prefix *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].len != b[i].len || !addr_equal(&a[i].addr, &b[i].addr))
			return false;
	return true;
}

static bool ports_equal(const struct fw_port_range *a, const struct fw_port_range *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].lo != b[i].lo || a[i].hi != b[i].hi)
			return false;
	return true;
}

static bool rule_equal(const struct fw_rule_conf *a, const struct fw_rule_conf *b)
{
	return strcmp(a->name, b->name) == 0 && a->action == b->action && a->log == b->log &&
	       a->family == b->family && a->proto == b->proto && a->n_src == b->n_src && a->n_dst == b->n_dst &&
	       a->n_sport == b->n_sport && a->n_dport == b->n_dport && prefixes_equal(a->src, b->src, a->n_src) &&
	       prefixes_equal(a->dst, b->dst, a->n_dst) && ports_equal(a->sport, b->sport, a->n_sport) &&
	       ports_equal(a->dport, b->dport, a->n_dport) && a->icmp_type == b->icmp_type &&
	       a->icmp_code == b->icmp_code && a->tcp_flags_mask == b->tcp_flags_mask &&
	       a->tcp_flags_set == b->tcp_flags_set && strcmp(a->from_zone, b->from_zone) == 0 &&
	       strcmp(a->to_zone, b->to_zone) == 0 && strcmp(a->in_iface, b->in_iface) == 0 &&
	       strcmp(a->out_iface, b->out_iface) == 0;
}

static bool ruleset_equal(const struct fw_ruleset_conf *a, const struct fw_ruleset_conf *b)
{
	if (strcmp(a->vrf, b->vrf) != 0 || a->default_action != b->default_action ||
	    a->default_log != b->default_log || a->n_policies != b->n_policies || a->n_rules != b->n_rules)
		return false;
	for (size_t i = 0; i < a->n_policies; i++) {
		const struct fw_policy_conf *p = &a->policies[i], *q = &b->policies[i];
		if (strcmp(p->from, q->from) != 0 || strcmp(p->to, q->to) != 0 || p->action != q->action ||
		    p->log != q->log)
			return false;
	}
	for (size_t i = 0; i < a->n_rules; i++)
		if (!rule_equal(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

bool fw_conf_equal(const struct fw_conf *a, const struct fw_conf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (!nf_conf_sessions_equal(&a->sessions, &b->sessions) || a->reject_rate != b->reject_rate ||
	    a->log_rate != b->log_rate || a->on_rule_change != b->on_rule_change || a->n_zones != b->n_zones ||
	    a->n_rulesets != b->n_rulesets)
		return false;
	for (size_t i = 0; i < a->n_zones; i++) {
		const struct fw_zone_conf *z = &a->zones[i], *w = &b->zones[i];
		if (strcmp(z->name, w->name) != 0 || z->n_ifaces != w->n_ifaces)
			return false;
		for (size_t k = 0; k < z->n_ifaces; k++)
			if (strcmp(z->ifaces[k], w->ifaces[k]) != 0)
				return false;
	}
	for (size_t i = 0; i < a->n_rulesets; i++)
		if (!ruleset_equal(&a->rulesets[i], &b->rulesets[i]))
			return false;
	return true;
}
