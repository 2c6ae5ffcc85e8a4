/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall section: a full file read into the expected model, defaults, every validation error (file, line and
 * message text), write -> read back -> equal, dup/equal, and a rule set read alone (fw_ruleset_read_text).
 * The firewall text is read by libconfig here and handed to fw_conf_read with a core model loaded by conf_load.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf.h"
#include "nf/fw/fw_conf.h"
#include "nf/nf_conf_test.h"

/* Core model: lan0, wan0 in vrf main; x0 in vrf other. */
static const char core_text[] =
	"devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
	"vrfs = ( { name = \"main\"; id = 0; }, { name = \"other\"; id = 1; } );\n"
	"interfaces = ( { name = \"lan0\"; device = \"p0\"; vlan = 1; vrf = \"main\"; },\n"
	"               { name = \"wan0\"; device = \"p0\"; vlan = 2; vrf = \"main\"; },\n"
	"               { name = \"dmz0\"; device = \"p0\"; vlan = 3; vrf = \"main\"; },\n"
	"               { name = \"x0\"; device = \"p0\"; vlan = 4; vrf = \"other\"; } );\n";

static struct npsgw_conf *core;

static int read_section(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
			char *err, size_t errlen)
{
	return fw_conf_read(s, core, file, (struct fw_conf **)model, err, errlen);
}

/* Read the "firewall" setting of text; NULL with err filled on failure. */
static struct fw_conf *load_fw(const char *text, char err[CONF_ERR_MAX])
{
	return nf_conf_test_load(text, "firewall", read_section, core, "fw.conf", err);
}

static struct fw_conf *load_ok(const char *text)
{
	return nf_conf_test_load_ok(text, "firewall", read_section, core, "fw.conf");
}

static const char full_text[] =
	"firewall: {\n"
	"  sessions: { max = 1000000; when_full = \"evict-transitory\"; tcp_window_check = false; tcp_loose = true;\n"
	"    timeouts: { tcp_established = 7000; tcp_transitory = 200; tcp_time_wait = 100; tcp_closed = 5;\n"
	"                udp = 130; icmp = 30; other = 90; }; };\n"
	"  reject_rate = 50; log_rate = 0; on_rule_change = \"revalidate\";\n"
	"  prefix_lists = ( { name = \"sites\"; prefixes = [ \"10.1.0.0/16\", \"2001:db8:1::/48\" ]; },\n"
	"                   { name = \"v6only\"; prefixes = [ \"2001:db8:2::/48\" ]; } );\n"
	"  zones = ( { name = \"site\"; interfaces = [ \"lan0\" ]; }, { name = \"internet\"; interfaces = [ \"wan0\" ]; },\n"
	"            { name = \"empty\"; interfaces = []; } );\n"
	"  rulesets = (\n"
	"    { vrf = \"main\";\n"
	"      default = \"reject\";\n"
	"      default_log = true;\n"
	"      policies = ( { from = \"site\"; to = \"internet\"; action = \"allow\"; log = false; },\n"
	"                   { from = \"any\"; to = \"site\"; action = \"deny\"; log = true; } );\n"
	"      rules = (\n"
	"        { name = \"web\"; action = \"allow\"; proto = \"tcp\";\n"
	"          src = [ \"@sites\", \"192.0.2.0/24\" ]; dst = \"0.0.0.0/0\";\n"
	"          sport = \"1024-65535\"; dport = ( 80, 443, \"8000-8100\" );\n"
	"          from = \"site\"; to = \"internet\"; in = \"lan0\"; out = \"wan0\";\n"
	"          tcp_flags = \"syn,!ack\"; log = true; },\n"
	"        { action = \"pass\"; proto = \"icmpv6\"; icmp_type = 128; icmp_code = 0; },\n"
	"        { action = \"deny\"; src = \"@sites\"; },\n"
	"        { action = \"reject\"; proto = 47; family = 6; to = \"any\"; },\n"
	"        { action = \"deny\"; dst = [ \"@v6only\", \"@sites\" ]; src = \"2001:db8::1\"; } ) },\n"
	"    { vrf = \"other\"; } );\n"
	"};\n";

static void check_prefix(const struct addr_prefix *p, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_prefix_fmt(p, buf, sizeof(buf)), expected);
}

static void test_full(void)
{
	struct fw_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sessions.max_sessions, 1000000);
	CU_ASSERT_EQUAL(c->sessions.full_policy, CT_FULL_EVICT_TRANSITORY);
	CU_ASSERT(!c->sessions.tcp_window_check && c->sessions.tcp_loose);
	const struct ct_timeouts *t = &c->sessions.timeouts;
	CU_ASSERT(t->tcp_established == 7000 && t->tcp_transitory == 200 && t->tcp_time_wait == 100 &&
		  t->tcp_closed == 5 && t->udp == 130 && t->icmp == 30 && t->other == 90);
	CU_ASSERT_EQUAL(c->reject_rate, 50);
	CU_ASSERT_EQUAL(c->log_rate, 0);
	CU_ASSERT_EQUAL(c->on_rule_change, FW_REVALIDATE);

	CU_ASSERT_EQUAL_FATAL(c->n_zones, 3);
	CU_ASSERT_STRING_EQUAL(c->zones[0].name, "site");
	CU_ASSERT_EQUAL_FATAL(c->zones[0].n_ifaces, 1);
	CU_ASSERT_STRING_EQUAL(c->zones[0].ifaces[0], "lan0");
	CU_ASSERT_STRING_EQUAL(c->zones[1].ifaces[0], "wan0");
	CU_ASSERT_EQUAL(c->zones[2].n_ifaces, 0);
	CU_ASSERT_EQUAL(fw_zone_id(c, "site"), 1);
	CU_ASSERT_EQUAL(fw_zone_id(c, "internet"), 2);
	CU_ASSERT_EQUAL(fw_zone_id(c, "nowhere"), 0);
	CU_ASSERT_EQUAL(fw_zone_id(c, ""), 0);

	CU_ASSERT_EQUAL_FATAL(c->n_rulesets, 2);
	const struct fw_ruleset_conf *rs = &c->rulesets[0];
	CU_ASSERT_STRING_EQUAL(rs->vrf, "main");
	CU_ASSERT_EQUAL(rs->default_action, FW_REJECT);
	CU_ASSERT(rs->default_log);
	CU_ASSERT_EQUAL_FATAL(rs->n_policies, 2);
	CU_ASSERT_STRING_EQUAL(rs->policies[0].from, "site");
	CU_ASSERT_STRING_EQUAL(rs->policies[0].to, "internet");
	CU_ASSERT_EQUAL(rs->policies[0].action, FW_ALLOW);
	CU_ASSERT(!rs->policies[0].log);
	CU_ASSERT_STRING_EQUAL(rs->policies[1].from, "any");
	CU_ASSERT_EQUAL(rs->policies[1].action, FW_DENY);
	CU_ASSERT(rs->policies[1].log);
	CU_ASSERT_EQUAL_FATAL(rs->n_rules, 5);

	const struct fw_rule_conf *web = &rs->rules[0];
	CU_ASSERT_STRING_EQUAL(web->name, "web");
	CU_ASSERT_EQUAL(web->action, FW_ALLOW);
	CU_ASSERT(web->log);
	CU_ASSERT_EQUAL(web->proto, 6);
	/* dst 0.0.0.0/0 fixes IPv4: the list's IPv6 entry is left out */
	CU_ASSERT_EQUAL(web->family, 4);
	CU_ASSERT_EQUAL_FATAL(web->n_src, 2);
	check_prefix(&web->src[0], "10.1.0.0/16");
	check_prefix(&web->src[1], "192.0.2.0/24");
	CU_ASSERT_EQUAL_FATAL(web->n_dst, 1);
	check_prefix(&web->dst[0], "0.0.0.0/0");
	CU_ASSERT_EQUAL_FATAL(web->n_sport, 1);
	CU_ASSERT(web->sport[0].lo == 1024 && web->sport[0].hi == 65535);
	CU_ASSERT_EQUAL_FATAL(web->n_dport, 3);
	CU_ASSERT(web->dport[0].lo == 80 && web->dport[0].hi == 80);
	CU_ASSERT(web->dport[1].lo == 443 && web->dport[1].hi == 443);
	CU_ASSERT(web->dport[2].lo == 8000 && web->dport[2].hi == 8100);
	CU_ASSERT_STRING_EQUAL(web->from_zone, "site");
	CU_ASSERT_STRING_EQUAL(web->to_zone, "internet");
	CU_ASSERT_STRING_EQUAL(web->in_iface, "lan0");
	CU_ASSERT_STRING_EQUAL(web->out_iface, "wan0");
	CU_ASSERT_EQUAL(web->tcp_flags_mask, 0x12);
	CU_ASSERT_EQUAL(web->tcp_flags_set, 0x02);
	CU_ASSERT(web->icmp_type == -1 && web->icmp_code == -1);

	const struct fw_rule_conf *ping = &rs->rules[1];
	CU_ASSERT_STRING_EQUAL(ping->name, "rule2");
	CU_ASSERT_EQUAL(ping->action, FW_PASS);
	CU_ASSERT(!ping->log);
	CU_ASSERT_EQUAL(ping->proto, 58);
	CU_ASSERT_EQUAL(ping->family, 6); /* icmpv6 is IPv6's */
	CU_ASSERT(ping->icmp_type == 128 && ping->icmp_code == 0);
	CU_ASSERT(ping->n_src == 0 && ping->n_dst == 0 && ping->n_sport == 0 && ping->n_dport == 0);
	CU_ASSERT(ping->tcp_flags_mask == 0 && ping->from_zone[0] == '\0' && ping->in_iface[0] == '\0');

	const struct fw_rule_conf *both = &rs->rules[2];
	CU_ASSERT_EQUAL(both->family, 0); /* a mixed list and nothing else: both families */
	CU_ASSERT_EQUAL(both->proto, -1);
	CU_ASSERT_EQUAL_FATAL(both->n_src, 2);
	check_prefix(&both->src[0], "10.1.0.0/16");
	check_prefix(&both->src[1], "2001:db8:1::/48");

	const struct fw_rule_conf *gre = &rs->rules[3];
	CU_ASSERT_EQUAL(gre->proto, 47);
	CU_ASSERT_EQUAL(gre->family, 6);
	CU_ASSERT_EQUAL(gre->action, FW_REJECT);
	CU_ASSERT_STRING_EQUAL(gre->to_zone, ""); /* "any" */

	const struct fw_rule_conf *v6 = &rs->rules[4];
	CU_ASSERT_EQUAL(v6->family, 6);
	CU_ASSERT_EQUAL_FATAL(v6->n_dst, 2);
	check_prefix(&v6->dst[0], "2001:db8:2::/48");
	check_prefix(&v6->dst[1], "2001:db8:1::/48");
	CU_ASSERT_EQUAL_FATAL(v6->n_src, 1);
	check_prefix(&v6->src[0], "2001:db8::1/128");

	const struct fw_ruleset_conf *other = &c->rulesets[1];
	CU_ASSERT_STRING_EQUAL(other->vrf, "other");
	CU_ASSERT_EQUAL(other->default_action, FW_DENY);
	CU_ASSERT(!other->default_log);
	CU_ASSERT(other->n_rules == 0 && other->n_policies == 0);
	fw_conf_free(c);
}

static void test_defaults(void)
{
	struct fw_conf *c = load_ok("firewall: { };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sessions.max_sessions, 65536);
	CU_ASSERT_EQUAL(c->sessions.full_policy, CT_FULL_REFUSE);
	CU_ASSERT(c->sessions.tcp_window_check && !c->sessions.tcp_loose);
	const struct ct_timeouts *t = &c->sessions.timeouts;
	CU_ASSERT(t->tcp_established == 7440 && t->tcp_transitory == 240 && t->tcp_time_wait == 120 &&
		  t->tcp_closed == 10 && t->udp == 120 && t->icmp == 60 && t->other == 120);
	CU_ASSERT_EQUAL(c->reject_rate, 100);
	CU_ASSERT_EQUAL(c->log_rate, 100);
	CU_ASSERT_EQUAL(c->on_rule_change, FW_KEEP_SESSIONS);
	CU_ASSERT(c->n_zones == 0 && c->n_rulesets == 0);
	fw_conf_free(c);

	/* the largest accepted session count, 2^28 (what a session table can hold per worker, with any worker count) */
	c = load_ok("firewall: { sessions: { max = 268435456; }; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sessions.max_sessions, 268435456U);
	fw_conf_free(c);
}

struct error_case {
	const char *text;
	unsigned line;
	const char *needles[3];
};

/* Lines 1..4 for cases about one rule (line 5) of vrf main, zones site (lan0) and dmz (dmz0), list pl. */
#define HEAD                                                                                                           \
	"firewall: {\n"                                                                                                \
	" zones = ( { name = \"site\"; interfaces = [ \"lan0\" ]; }, { name = \"dmz\"; interfaces = [ \"dmz0\" ]; } );\n" \
	" prefix_lists = ( { name = \"pl\"; prefixes = [ \"10.9.0.0/16\", \"2001:db8:9::/48\" ]; } );\n"              \
	" rulesets = ( { vrf = \"main\"; rules = (\n"
#define TAIL "\n ); } );\n};\n"
#define RULE(x) HEAD "  " x TAIL
#define FW(x) "firewall: {\n" x "\n};\n"

static const struct error_case error_cases[] = {
	/* keys and types */
	{FW(" foo = 1;"), 2, {"fw.conf:2: firewall: unknown key 'foo'", "expected one of: sessions"}},
	{FW(" sessions: { max = 10; maxx = 1; };"), 2, {"unknown key 'maxx'"}},
	{FW(" sessions: { timeouts: { tcp = 1; }; };"), 2, {"firewall.sessions.timeouts: unknown key 'tcp'"}},
	{FW(" reject_rate = \"x\";"), 2, {"firewall.reject_rate: wrong type, got a string (expected an integer)"}},
	{FW(" log_rate = 1000001;"), 2, {"1000001 is out of range (expected 0..1000000)"}},
	{FW(" sessions = 5;"), 2, {"firewall.sessions: wrong type", "expected a group"}},
	{FW(" zones = { name = \"a\"; };"), 2, {"firewall.zones: wrong type", "expected a list of groups"}},
	{FW(" sessions: { tcp_loose = 1; };"), 2, {"tcp_loose: wrong type", "true or false"}},
	{"firewall = 5;\n", 1, {"firewall: wrong type", "expected a group"}},
	/* sessions */
	{FW(" sessions: { max = 0; };"), 2, {"firewall.sessions.max: 0 is out of range (expected 1..268435456)"}},
	{FW("\n sessions: { max = 268435457; };"), 3, {"268435457 is out of range (expected 1..268435456)"}},
	{FW("\n sessions: { max = 2147483648L; };"), 3, {"2147483648 is out of range (expected 1..268435456)"}},
	{FW(" sessions: {\n  timeouts: {\n   udp = 0; }; };"), 4,
	 {"firewall.sessions.timeouts.udp: 0 is out of range (expected 1..2592000)"}},
	{FW(" sessions: { timeouts: { tcp_closed = 0; }; };"), 2, {"tcp_closed: 0 is out of range"}},
	{FW(" sessions: { when_full = \"drop\"; };"), 2,
	 {"\"drop\" is not a valid when_full (expected \"refuse\" or \"evict-transitory\")"}},
	{FW(" on_rule_change = \"flush\";"), 2, {"\"flush\" is not a valid on_rule_change", "\"revalidate\""}},
	/* prefix lists */
	{FW(" prefix_lists = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\" ]; },\n { name = \"a\"; prefixes = [ "
	    "\"10.0.0.0/8\" ]; } );"),
	 3, {"duplicate prefix list name a"}},
	{FW(" prefix_lists = ( { name = \"a\"; prefixes = []; } );"), 2, {"empty prefix list"}},
	{FW(" prefix_lists = ( { name = \"a\"; } );"), 2, {"missing key 'prefixes'"}},
	{FW(" prefix_lists = ( { name = \"a\"; prefixes = [ \"10.0.0.0/8\",\n \"10.0.0.1/8\" ]; } );"), 3,
	 {"firewall.prefix_lists[0].prefixes[1]: host bits set in 10.0.0.1/8 (expected 10.0.0.0/8)"}},
	/* zones */
	{FW(" zones = ( { name = \"a\"; interfaces = [ \"lan0\", \"eth9\" ]; } );"), 2,
	 {"firewall.zones[0].interfaces[1]: unknown interface eth9 (expected a name from interfaces)"}},
	{FW(" zones = ( { name = \"a\"; interfaces = [ \"lan0\" ]; },\n { name = \"b\"; interfaces = [ \"wan0\", "
	    "\"lan0\" ]; } );"),
	 3, {"interface lan0 is already in zone a (expected each interface in one zone at most)"}},
	{FW(" zones = ( { name = \"a\"; interfaces = [ \"lan0\", \"lan0\" ]; } );"), 2,
	 {"interface lan0 is already in zone a"}},
	{FW(" zones = ( { name = \"a\"; },\n { name = \"a\"; } );"), 3, {"duplicate zone name a"}},
	{FW(" zones = ( { name = \"any\"; } );"), 2, {"zone name \"any\" is reserved"}},
	{FW(" zones = ( { name = \"z1\"; }, { name = \"z2\"; }, { name = \"z3\"; }, { name = \"z4\"; }, { name = \"z5\"; },\n"
	    " { name = \"z6\"; }, { name = \"z7\"; }, { name = \"z8\"; }, { name = \"z9\"; }, { name = \"z10\"; },\n"
	    " { name = \"z11\"; }, { name = \"z12\"; }, { name = \"z13\"; }, { name = \"z14\"; }, { name = \"z15\"; },\n"
	    " { name = \"z16\"; } );"),
	 5, {"firewall.zones[15]: 16 zones (expected at most 15)"}},
	/* rule sets */
	{FW(" rulesets = ( { vrf = \"blue\"; } );"), 2,
	 {"firewall.rulesets[0].vrf: unknown vrf blue (expected a name from vrfs)"}},
	{FW(" rulesets = ( { vrf = \"main\"; },\n { vrf = \"other\"; },\n { vrf = \"main\"; } );"), 4,
	 {"firewall.rulesets[2].vrf: vrf main already has a rule set, rulesets[0] (expected one per vrf)"}},
	{FW(" rulesets = ( { default = \"deny\"; } );"), 2, {"missing key 'vrf'"}},
	{FW(" rulesets = ( { vrf = \"main\"; default = \"drop\"; } );"), 2,
	 {"\"drop\" is not a valid default (expected \"allow\", \"pass\", \"deny\" or \"reject\")"}},
	{FW(" rulesets = ( { vrf = \"main\"; policy = (); } );"), 2, {"unknown key 'policy'"}},
	/* policies */
	{HEAD " ); policies = ( { from = \"site\"; to = \"nowhere\"; action = \"deny\"; } ); } );\n};\n", 5,
	 {"policies[0].to: unknown zone nowhere (expected a name from firewall.zones or \"any\")"}},
	{HEAD " ); policies = ( { from = \"site\"; action = \"deny\"; } ); } );\n};\n", 5, {"missing key 'to'"}},
	{HEAD " ); policies = ( { from = \"site\"; to = \"any\"; action = \"deny\"; },\n { from = \"site\"; to = "
	      "\"any\"; action = \"allow\"; } ); } );\n};\n",
	 6, {"a policy from site to any is already policy 1"}},
	{HEAD " ); policies = ( { from = \"site\"; to = \"any\"; } ); } );\n};\n", 5, {"missing key 'action'"}},
	/* rules: keys, names, actions */
	{RULE("{ action = \"allow\"; port = 80; }"), 5, {"firewall.rulesets[0].rules[0]: unknown key 'port'"}},
	{RULE("{ name = \"a\"; proto = \"tcp\"; }"), 5, {"rules[0]: missing key 'action'"}},
	{RULE("{ action = \"accept\"; }"), 5, {"\"accept\" is not a valid action"}},
	{RULE("{ action = \"allow\"; name = \"r\"; },\n  { action = \"deny\"; name = \"r\"; }"), 6,
	 {"rules[1].name: duplicate rule name r, also rule 1"}},
	{RULE("{ action = \"allow\"; },\n  { action = \"deny\"; name = \"rule1\"; }"), 6, {"duplicate rule name rule1"}},
	{RULE("{ action = \"allow\"; name = \"a b\"; }"), 5, {"\"a b\" is not a valid name"}},
	{RULE("{ action = \"allow\"; log = \"yes\"; }"), 5, {"rules[0].log: wrong type"}},
	/* protocols, ports, icmp, flags */
	{RULE("{ action = \"allow\"; proto = \"sctp\"; }"), 5, {"\"sctp\" is not a protocol"}},
	{RULE("{ action = \"allow\"; proto = 256; }"), 5, {"protocol 256 is out of range (expected 0..255)"}},
	{RULE("{ action = \"allow\"; dport = 80; }"), 5,
	 {"rules[0].dport: ports need proto tcp or udp (expected proto = \"tcp\" or \"udp\")"}},
	{RULE("{ action = \"allow\"; proto = \"icmp\";\n    sport = 80; }"), 6, {"rules[0].sport: ports need proto tcp"}},
	{RULE("{ action = \"allow\"; proto = \"tcp\"; dport = \"200-100\"; }"), 5,
	 {"port range 200-100 runs backwards"}},
	{RULE("{ action = \"allow\"; proto = \"tcp\"; dport = ( 80, 70000 ); }"), 5,
	 {"rules[0].dport[1]: port 70000 is out of range (expected 0..65535)"}},
	{RULE("{ action = \"allow\"; proto = \"udp\"; dport = \"80-\"; }"), 5, {"\"80-\" is not a port range"}},
	{RULE("{ action = \"allow\"; proto = \"udp\"; dport = \"http\"; }"), 5, {"\"http\" is not a port range"}},
	{RULE("{ action = \"allow\"; proto = \"udp\"; dport = (); }"), 5, {"empty list (expected at least one port"}},
	{RULE("{ action = \"allow\"; proto = \"udp\"; dport = true; }"), 5, {"dport: wrong type"}},
	{RULE("{ action = \"allow\"; proto = \"tcp\"; icmp_type = 8; }"), 5,
	 {"rules[0].icmp_type: icmp_type needs proto icmp or icmpv6"}},
	{RULE("{ action = \"allow\"; icmp_code = 0; }"), 5, {"icmp_code needs proto icmp or icmpv6"}},
	{RULE("{ action = \"allow\"; proto = \"icmp\"; icmp_type = 300; }"), 5, {"300 is out of range (expected 0..255)"}},
	{RULE("{ action = \"allow\"; proto = \"udp\"; tcp_flags = \"syn\"; }"), 5,
	 {"rules[0].tcp_flags: tcp_flags needs proto tcp"}},
	{RULE("{ action = \"allow\"; proto = \"tcp\"; tcp_flags = \"syn,foo\"; }"), 5, {"\"foo\" is not a TCP flag"}},
	{RULE("{ action = \"allow\"; proto = \"tcp\"; tcp_flags = \"syn,!syn\"; }"), 5, {"TCP flag syn is listed twice"}},
	{RULE("{ action = \"allow\"; proto = \"tcp\"; tcp_flags = \"syn;ack\"; }"), 5, {"is not a TCP flag"}},
	/* addresses and families */
	{RULE("{ action = \"allow\"; src = \"10.0.0.300/8\"; }"), 5,
	 {"rules[0].src: \"10.0.0.300/8\" is not a prefix"}},
	{RULE("{ action = \"allow\"; dst = [ \"10.0.0.0/8\", \"192.0.2.1/24\" ]; }"), 5,
	 {"rules[0].dst[1]: host bits set in 192.0.2.1/24 (expected 192.0.2.0/24)"}},
	{RULE("{ action = \"allow\"; src = \"10.0.0.0/8\";\n    dst = \"2001:db8::/32\"; }"), 6,
	 {"rules[0].dst: dst has no IPv4 prefix", "one address family"}},
	{RULE("{ action = \"allow\"; src = [ \"10.0.0.0/8\",\n    \"2001:db8::/32\" ]; dst = \"10.1.0.0/16\"; }"), 6,
	 {"rules[0].src[1]: 2001:db8::/32 is IPv6 but the rule can only match IPv4"}},
	{RULE("{ action = \"allow\"; family = 4; src = \"2001:db8::/32\"; }"), 5,
	 {"rules[0].src: src has no IPv4 prefix", "family key"}},
	{RULE("{ action = \"allow\"; family = 5; }"), 5, {"5 is not an address family (expected 4 or 6)"}},
	{RULE("{ action = \"allow\"; proto = \"icmp\"; family = 6; }"), 5,
	 {"rules[0].proto: proto icmp cannot match family IPv6 (expected proto icmpv6)"}},
	{RULE("{ action = \"allow\"; proto = \"icmpv6\"; dst = \"10.0.0.0/8\"; }"), 5, {"dst has no IPv6 prefix"}},
	{RULE("{ action = \"allow\"; src = \"@nope\"; }"), 5,
	 {"rules[0].src: unknown prefix list nope (expected a name from prefix_lists)"}},
	{RULE("{ action = \"allow\"; src = []; }"), 5, {"empty list (expected at least one prefix"}},
	{RULE("{ action = \"allow\"; src = [ 10 ]; }"), 5, {"src[0]: wrong type"}},
	{RULE("{ action = \"allow\"; src = \"@pl\"; dst = \"2001:db8::/32\"; family = 4; }"), 5,
	 {"rules[0].dst: dst has no IPv4 prefix"}},
	/* zones and interfaces */
	{RULE("{ action = \"allow\"; from = \"nowhere\"; }"), 5,
	 {"rules[0].from: unknown zone nowhere (expected a name from firewall.zones or \"any\")"}},
	{RULE("{ action = \"allow\"; to = \"internet\"; }"), 5, {"unknown zone internet"}},
	{RULE("{ action = \"allow\"; in = \"eth9\"; }"), 5,
	 {"rules[0].in: unknown interface eth9 (expected a name from interfaces)"}},
	{RULE("{ action = \"allow\"; out = \"x0\"; }"), 5,
	 {"rules[0].out: interface x0 is in vrf other (expected an interface of vrf main)"}},
	/* a later rule, several lines down */
	{RULE("{ action = \"allow\"; },\n  { action = \"deny\";\n    proto = \"tcp\";\n    dport = 99999; }"), 8,
	 {"rules[1].dport: port 99999 is out of range"}},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *e = &error_cases[i];
		char err[CONF_ERR_MAX], where[32];
		struct fw_conf *c = load_fw(e->text, err);
		snprintf(where, sizeof(where), "fw.conf:%u: ", e->line);
		bool ok = c == NULL && strncmp(err, where, strlen(where)) == 0;
		for (size_t k = 0; k < 3 && ok && e->needles[k] != NULL; k++)
			ok = strstr(err, e->needles[k]) != NULL;
		if (getenv("FW_TEST_SHOW") != NULL)
			printf("%s\n", err);
		if (!ok)
			fprintf(stderr, "\ncase %zu: expected %s%s\n  got: %s\n  text: %s\n", i, where, e->needles[0],
				c == NULL ? err : "(loaded)", e->text);
		CU_ASSERT(ok);
		fw_conf_free(c);
	}
}

/* Without a core model, VRF and interface names are not checked (a rule set read alone, or a test). */
static void test_no_core(void)
{
	struct npsgw_conf *saved = core;
	core = NULL;
	struct fw_conf *c = load_ok(FW(" zones = ( { name = \"a\"; interfaces = [ \"eth9\" ]; } );\n"
				       " rulesets = ( { vrf = \"blue\"; rules = ( { action = \"deny\"; in = \"eth7\"; } ); } );"));
	core = saved;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->rulesets[0].vrf, "blue");
	CU_ASSERT_STRING_EQUAL(c->rulesets[0].rules[0].in_iface, "eth7");
	fw_conf_free(c);
}

static char *write_to_string(const struct fw_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fw_conf_write(f, c);
	fclose(f);
	return buf;
}

static void round_trip(const char *text)
{
	struct fw_conf *c = load_ok(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char *written = write_to_string(c);
	struct fw_conf *back = load_ok(written);
	CU_ASSERT_PTR_NOT_NULL(back);
	if (back == NULL)
		fprintf(stderr, "written:\n%s\n", written);
	CU_ASSERT(fw_conf_equal(c, back));
	/* and writing it again gives the same text */
	if (back != NULL) {
		char *again = write_to_string(back);
		CU_ASSERT_STRING_EQUAL(again, written);
		free(again);
	}
	free(written);
	fw_conf_free(back);
	fw_conf_free(c);
}

static void test_write_read(void)
{
	round_trip(full_text);
	round_trip("firewall: { };\n");
	round_trip("firewall: { sessions: { max = 268435456; }; reject_rate = 0; };\n");
	round_trip(RULE("{ action = \"deny\"; proto = \"tcp\"; tcp_flags = \"fin,syn,rst,psh,ack,urg,ece,cwr\"; },\n"
			"  { action = \"deny\"; proto = \"tcp\"; tcp_flags = \"!fin,!cwr\"; sport = ( 0, 65535, \"1-2\" ); },"
			"\n  { action = \"allow\"; proto = \"icmp\"; icmp_code = 3; from = \"site\"; to = \"dmz\"; },\n"
			"  { action = \"pass\"; proto = 0; src = \"@pl\"; },\n"
			"  { action = \"pass\"; family = 4; in = \"lan0\"; out = \"dmz0\"; log = true; }"));
}

static void test_dup_equal(void)
{
	struct fw_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct fw_conf *d = fw_conf_dup(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(fw_conf_equal(c, d));
	CU_ASSERT(fw_conf_equal(NULL, NULL));
	CU_ASSERT(!fw_conf_equal(c, NULL));
	/* deep: the copy's arrays are its own */
	CU_ASSERT_PTR_NOT_EQUAL(d->rulesets[0].rules[0].src, c->rulesets[0].rules[0].src);
	CU_ASSERT_PTR_NOT_EQUAL(d->zones[0].ifaces, c->zones[0].ifaces);

	/* each change makes them differ; undoing it makes them equal again */
	struct fw_rule_conf *r = &d->rulesets[0].rules[0];
	r->dport[2].hi++;
	CU_ASSERT(!fw_conf_equal(c, d));
	r->dport[2].hi--;
	r->src[1].len--;
	CU_ASSERT(!fw_conf_equal(c, d));
	r->src[1].len++;
	r->tcp_flags_set = 0;
	CU_ASSERT(!fw_conf_equal(c, d));
	r->tcp_flags_set = 0x02;
	d->zones[0].ifaces[0][0] = 'L';
	CU_ASSERT(!fw_conf_equal(c, d));
	d->zones[0].ifaces[0][0] = 'l';
	d->sessions.timeouts.icmp++;
	CU_ASSERT(!fw_conf_equal(c, d));
	d->sessions.timeouts.icmp--;
	d->rulesets[0].policies[1].log = false;
	CU_ASSERT(!fw_conf_equal(c, d));
	d->rulesets[0].policies[1].log = true;
	d->rulesets[0].n_rules--;
	CU_ASSERT(!fw_conf_equal(c, d));
	d->rulesets[0].n_rules++;
	CU_ASSERT(fw_conf_equal(c, d));

	/* fw_ruleset_copy: deep, equal, independent */
	struct fw_ruleset_conf copy;
	CU_ASSERT_EQUAL_FATAL(fw_ruleset_copy(&copy, &c->rulesets[0]), 0);
	CU_ASSERT_EQUAL(copy.n_rules, 5);
	CU_ASSERT_PTR_NOT_EQUAL(copy.rules, c->rulesets[0].rules);
	fw_ruleset_clear(&d->rulesets[0]);
	CU_ASSERT(!fw_conf_equal(c, d));
	d->rulesets[0] = copy;
	CU_ASSERT(fw_conf_equal(c, d));
	fw_conf_free(d);
	fw_conf_free(c);
}

static void test_ruleset_text(void)
{
	struct fw_conf *running = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(running);
	const char *text = "vrf = \"main\";\n"
			   "default = \"allow\";\n"
			   "prefix_lists = ( { name = \"mine\"; prefixes = [ \"198.51.100.0/24\" ]; } );\n"
			   "rules = ( { name = \"a\"; action = \"deny\"; src = \"@mine\"; from = \"site\"; },\n"
			   "          { action = \"allow\"; proto = \"udp\"; dport = 53; } );\n";
	struct fw_ruleset_conf *rs = NULL;
	char err[CONF_ERR_MAX];
	int rc = fw_ruleset_read_text(text, "rules.conf", running, &rs, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\nunexpected error: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(rs->vrf, "main");
	CU_ASSERT_EQUAL(rs->default_action, FW_ALLOW);
	CU_ASSERT_EQUAL_FATAL(rs->n_rules, 2);
	CU_ASSERT_EQUAL(rs->rules[0].family, 4);
	check_prefix(&rs->rules[0].src[0], "198.51.100.0/24");
	CU_ASSERT_STRING_EQUAL(rs->rules[0].from_zone, "site");
	CU_ASSERT_STRING_EQUAL(rs->rules[1].name, "rule2");
	CU_ASSERT(rs->rules[1].dport[0].lo == 53 && rs->rules[1].dport[0].hi == 53);
	fw_ruleset_free(rs);

	const struct {
		const char *text;
		const char *expected;
	} bad[] = {
		{"vrf = \"main\";\nrules = ( { action = \"deny\";\n from = \"nowhere\"; } );\n",
		 "rules.conf:3: rules[0].from: unknown zone nowhere"},
		{"vrf = \"main\";\nzones = ();\n", "rules.conf:2: unknown key 'zones' at top level"},
		{"rules = ();\n", "rules.conf:1: missing key 'vrf'"},
		{"vrf = \"main\";\nrules = ( { action = \"deny\"; src = \"@sites\"; } );\n",
		 "rules.conf:2: rules[0].src: unknown prefix list sites"},
		{"vrf = \"main\";\n\nrules = ( { action = \"deny\"; ] );\n", "rules.conf:3: syntax error"},
		{"vrf = \"main\"; default = \"deny\";\nrules = ( { action = \"deny\"; proto = 99999999999; } );\n",
		 "rules.conf:2: rules[0].proto: protocol 99999999999 is out of range"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rs = NULL;
		rc = fw_ruleset_read_text(bad[i].text, "rules.conf", running, &rs, err, sizeof(err));
		bool ok = rc == -1 && rs == NULL && strstr(err, bad[i].expected) == err;
		if (!ok)
			fprintf(stderr, "\nruleset case %zu: expected %s\n  got: %s\n", i, bad[i].expected,
				rc == 0 ? "(loaded)" : err);
		CU_ASSERT(ok);
		fw_ruleset_free(rs);
	}
	/* without running zones every zone name is unknown */
	rc = fw_ruleset_read_text("vrf = \"main\"; rules = ( { action = \"deny\"; to = \"site\"; } );", "r", NULL,
				  &rs, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "r:1: rules[0].to: unknown zone site"));
	fw_conf_free(running);
}

static void test_action_names(void)
{
	CU_ASSERT_STRING_EQUAL(fw_action_name(FW_ALLOW), "allow");
	CU_ASSERT_STRING_EQUAL(fw_action_name(FW_PASS), "pass");
	CU_ASSERT_STRING_EQUAL(fw_action_name(FW_DENY), "deny");
	CU_ASSERT_STRING_EQUAL(fw_action_name(FW_REJECT), "reject");
	CU_ASSERT_STRING_EQUAL(fw_action_name(FW_ACTION_COUNT), "?");
}

int main(void)
{
	char err[CONF_ERR_MAX];
	core = conf_load_string(core_text, "core.conf", err);
	if (core == NULL) {
		fprintf(stderr, "core model: %s\n", err);
		return 1;
	}
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"full section", test_full},
		{"defaults", test_defaults},
		{"validation errors", test_errors},
		{"no core model", test_no_core},
		{"write, read back, equal", test_write_read},
		{"dup and equal", test_dup_equal},
		{"rule set read alone", test_ruleset_text},
		{"action names", test_action_names},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/fw/fw_conf", NULL, NULL);
	for (size_t i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	conf_free(core);
	return failures == 0 ? 0 : 1;
}
