/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dslite section: a full file read into the expected model, defaults, every validation error (file, line and
 * message text), pools checked against the nat section (and refused without one), write -> read back -> equal,
 * dup/equal. The text is read by libconfig here; its nat section (if any) is read first with nat_conf_read and
 * handed to dslite_conf_read, as the loader does.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf.h"
#include "nf/dslite/dslite_conf.h"
#include "nf/nat/nat_conf.h"

/* Core model: the outside VRF internet and the IPv6 access VRF access. */
static const char core_text[] = "devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
				"vrfs = ( { name = \"internet\"; id = 0; }, { name = \"access\"; id = 1; } );\n"
				"interfaces = ( { name = \"wan0\"; device = \"p0\"; vrf = \"internet\"; } );\n";

static struct npsgw_conf *core;

/* Read the "dslite" setting of text (after its "nat" setting, when there is one); NULL with err on failure. */
static struct dslite_conf *load_dslite(const char *text, char err[CONF_ERR_MAX])
{
	config_t cfg;
	config_init(&cfg);
	err[0] = '\0';
	struct dslite_conf *c = NULL;
	struct nat_conf *nat = NULL;
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		snprintf(err, CONF_ERR_MAX, "libconfig: line %d: %s", config_error_line(&cfg), config_error_text(&cfg));
	} else {
		const config_setting_t *n = config_lookup(&cfg, "nat");
		const config_setting_t *s = config_lookup(&cfg, "dslite");
		if (n != NULL && nat_conf_read(n, core, "ds.conf", &nat, err, CONF_ERR_MAX) < 0)
			nat = NULL;
		else if (s == NULL)
			snprintf(err, CONF_ERR_MAX, "no dslite section");
		else if (dslite_conf_read(s, core, nat, "ds.conf", &c, err, CONF_ERR_MAX) < 0)
			c = NULL;
	}
	nat_conf_free(nat);
	config_destroy(&cfg);
	return c;
}

static struct dslite_conf *load_ok(const char *text)
{
	char err[CONF_ERR_MAX];
	struct dslite_conf *c = load_dslite(text, err);
	if (c == NULL)
		fprintf(stderr, "\nunexpected error: %s\n", err);
	return c;
}

/* Lines 1..2: pools pub and pub2 of vrf internet. */
#define NAT_POOLS                                                                                                      \
	"nat: { pools = ( { name = \"pub\"; vrf = \"internet\"; prefixes = [ \"198.51.100.0/28\" ]; },\n"            \
	"                 { name = \"pub2\"; vrf = \"internet\"; prefixes = [ \"198.51.100.16/28\" ]; } ); };\n"

static const char full_text[] =
	NAT_POOLS
	"dslite: {\n"
	"  reassembly_max = 100; reassembly_timeout_ms = 500;\n"
	"  aftrs = (\n"
	"    { name = \"aftr1\"; address = \"2001:db8:ffff::1\"; transport_vrf = \"access\"; vrf = \"internet\";\n"
	"      pool = \"pub\"; b4_prefixes = [ \"2001:db8:100::/40\", \"2001:db8:200::/48\" ]; mtu = 1280;\n"
	"      mss_clamp = 0; max_sessions = 100; max_blocks = 1; filtering = \"endpoint-independent\"; },\n"
	"    { name = \"aftr2\"; address = \"fd00::2\"; transport_vrf = \"access\"; vrf = \"internet\";\n"
	"      pool = \"pub2\"; b4_prefixes = [ \"2001:db8:300::/40\" ]; mtu = 9000; },\n"
	"    { name = \"aftr3\"; address = \"2001:db8:ffff::3\"; transport_vrf = \"internet\"; vrf = \"access\";\n"
	"      pool = \"pub\"; b4_prefixes = [ \"2001:db8:100::/40\" ]; mss_clamp = 1000;\n"
	"      filtering = \"address-dependent\"; } );\n"
	"};\n";

static void check_prefix(const struct addr_prefix *p, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_prefix_fmt(p, buf, sizeof(buf)), expected);
}

static void check_addr(const struct addr *a, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_EQUAL(a->family, 6);
	CU_ASSERT_STRING_EQUAL(addr_fmt(a, buf, sizeof(buf)), expected);
}

static void test_full(void)
{
	struct dslite_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->reassembly_max, 100);
	CU_ASSERT_EQUAL(c->reassembly_timeout_ms, 500);
	CU_ASSERT_EQUAL_FATAL(c->n_aftrs, 3);

	const struct dslite_aftr_conf *a = &c->aftrs[0];
	CU_ASSERT_STRING_EQUAL(a->name, "aftr1");
	check_addr(&a->address, "2001:db8:ffff::1");
	CU_ASSERT_STRING_EQUAL(a->transport_vrf, "access");
	CU_ASSERT_STRING_EQUAL(a->vrf, "internet");
	CU_ASSERT_STRING_EQUAL(a->pool, "pub");
	CU_ASSERT_EQUAL_FATAL(a->n_b4_prefixes, 2);
	check_prefix(&a->b4_prefixes[0], "2001:db8:100::/40");
	check_prefix(&a->b4_prefixes[1], "2001:db8:200::/48");
	CU_ASSERT_EQUAL(a->mtu, 1280);
	CU_ASSERT_EQUAL(a->mss_clamp, 0); /* off */
	CU_ASSERT(a->max_sessions == 100 && a->max_blocks == 1);
	CU_ASSERT_EQUAL(a->filtering, NAT_FILTER_EIF);

	a = &c->aftrs[1];
	check_addr(&a->address, "fd00::2");
	CU_ASSERT_STRING_EQUAL(a->pool, "pub2");
	CU_ASSERT_EQUAL(a->mtu, 9000);
	CU_ASSERT_EQUAL(a->mss_clamp, 9000 - 80); /* default: fills an mtu-sized softwire packet */
	CU_ASSERT(a->max_sessions == 2000 && a->max_blocks == 4);
	CU_ASSERT_EQUAL(a->filtering, NAT_FILTER_APDF);

	/* B4 prefixes may be shared between AFTRs; VRFs are not tied to the pool's */
	a = &c->aftrs[2];
	CU_ASSERT_STRING_EQUAL(a->transport_vrf, "internet");
	CU_ASSERT_STRING_EQUAL(a->vrf, "access");
	CU_ASSERT_EQUAL(a->mtu, 1500);
	CU_ASSERT_EQUAL(a->mss_clamp, 1000);
	CU_ASSERT_EQUAL(a->filtering, NAT_FILTER_ADF);
	dslite_conf_free(c);
}

static void test_defaults(void)
{
	struct dslite_conf *c = load_ok("dslite: { };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->reassembly_max, 4096);
	CU_ASSERT_EQUAL(c->reassembly_timeout_ms, 2000);
	CU_ASSERT_EQUAL(c->n_aftrs, 0);
	dslite_conf_free(c);

	c = load_ok(NAT_POOLS "dslite: { aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\";\n"
			      " vrf = \"internet\"; pool = \"pub\"; b4_prefixes = [ \"2001:db8:1::/48\" ]; } ); };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	const struct dslite_aftr_conf *a = &c->aftrs[0];
	CU_ASSERT(a->mtu == 1500 && a->mss_clamp == 1420 && a->max_sessions == 2000 && a->max_blocks == 4 &&
		  a->filtering == NAT_FILTER_APDF);
	dslite_conf_free(c);

	/* the limits themselves */
	c = load_ok(NAT_POOLS "dslite: { reassembly_max = 1048576; reassembly_timeout_ms = 60000;\n"
			      " aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\";\n"
			      " vrf = \"internet\"; pool = \"pub\"; b4_prefixes = [ \"::/0\" ]; mtu = 1280; mss_clamp = 1200;\n"
			      " max_sessions = 2147483648L; max_blocks = 32; },\n"
			      " { name = \"b\"; address = \"2001:db8::2\"; transport_vrf = \"access\";\n"
			      " vrf = \"internet\"; pool = \"pub\"; b4_prefixes = [ \"2001:db8::5\" ]; mss_clamp = 536; } ); };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->reassembly_max == 1048576 && c->reassembly_timeout_ms == 60000);
	CU_ASSERT(c->aftrs[0].mss_clamp == 1200 && c->aftrs[0].max_sessions == 2147483648U &&
		  c->aftrs[0].max_blocks == 32);
	check_prefix(&c->aftrs[0].b4_prefixes[0], "::/0");
	check_prefix(&c->aftrs[1].b4_prefixes[0], "2001:db8::5/128");
	CU_ASSERT_EQUAL(c->aftrs[1].mss_clamp, 536);
	dslite_conf_free(c);
}

struct error_case {
	const char *text;
	unsigned line;
	const char *needles[3];
};

/* Lines 1..2 the nat pools, line 3 opens dslite, so x starts on line 4. */
#define DS(x) NAT_POOLS "dslite: {\n" x "\n};\n"
/* An AFTR with every required key; x adds the optional ones. */
#define REQUIRED                                                                                                       \
	"name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\"; pool = \"pub\"; "  \
	"b4_prefixes = [ \"2001:db8:1::/48\" ]; "
#define AFTR(x) DS(" aftrs = ( { " REQUIRED x " } );")

static const struct error_case error_cases[] = {
	/* keys and types */
	{NAT_POOLS "dslite = 5;\n", 3, {"dslite: wrong type", "expected a group"}},
	{DS(" foo = 1;"), 4, {"ds.conf:4: dslite: unknown key 'foo' (expected one of: reassembly_max"}},
	{DS(" aftrs = { name = \"a\"; };"), 4, {"dslite.aftrs: wrong type", "a list of groups"}},
	{AFTR("port = 1;"), 4, {"dslite.aftrs[0]: unknown key 'port'", "mss_clamp, max_sessions"}},
	/* section values */
	{DS(" reassembly_max = 0;"), 4, {"dslite.reassembly_max: 0 is out of range (expected 1..1048576)"}},
	{DS(" reassembly_max = 1048577;"), 4, {"1048577 is out of range (expected 1..1048576)"}},
	{DS(" reassembly_timeout_ms = 0;"), 4, {"dslite.reassembly_timeout_ms: 0 is out of range (expected 1..60000)"}},
	{DS(" reassembly_timeout_ms = 60001;"), 4, {"60001 is out of range"}},
	/* names */
	{DS(" aftrs = ( { address = \"2001:db8::1\"; } );"), 4, {"dslite.aftrs[0]: missing key 'name'"}},
	{DS(" aftrs = ( { name = \"a b\"; } );"), 4, {"aftrs[0].name: \"a b\" is not a valid name"}},
	{DS(" aftrs = ( { " REQUIRED " },\n { name = \"a\"; } );"), 5,
	 {"aftrs[1].name: duplicate AFTR name a (expected unique names)"}},
	/* address */
	{DS(" aftrs = ( { name = \"a\"; } );"), 4,
	 {"aftrs[0]: missing key 'address' (expected an IPv6 address such as \"2001:db8::1\")"}},
	{DS(" aftrs = ( { name = \"a\"; address = 1; } );"), 4, {"aftrs[0].address: wrong type, got an integer"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::/64\"; } );"), 4,
	 {"aftrs[0].address: \"2001:db8::/64\" is not an address (expected an IPv6 address"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"192.0.2.1\"; } );"), 4,
	 {"address: 192.0.2.1 is IPv4 (expected an IPv6 address: softwires arrive over IPv6)"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"::\"; } );"), 4,
	 {"address: :: is the unspecified address (expected a global or unique-local IPv6 unicast address)"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"::1\"; } );"), 4, {"::1 is the loopback address"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"ff02::1\"; } );"), 4, {"ff02::1 is multicast"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"fe80::1\"; } );"), 4, {"fe80::1 is link-local"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"febf::1\"; } );"), 4, {"febf::1 is link-local"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"::ffff:192.0.2.1\"; } );"), 4, {"is IPv4-mapped"}},
	{DS(" aftrs = ( { " REQUIRED " },\n { name = \"b\";\n address = \"2001:db8:0::1\"; } );"), 6,
	 {"aftrs[1].address: address 2001:db8::1 is already AFTR a's (expected one address per AFTR)"}},
	/* VRFs */
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; } );"), 4, {"aftrs[0]: missing key 'transport_vrf'"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"blue\"; } );"), 4,
	 {"aftrs[0].transport_vrf: unknown vrf blue (expected a name from vrfs)"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; } );"), 4,
	 {"aftrs[0]: missing key 'vrf'"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"red\"; } );"), 4,
	 {"aftrs[0].vrf: unknown vrf red"}},
	/* pool */
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\"; } );"),
	 4, {"aftrs[0]: missing key 'pool'"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";\n"
	    " pool = \"nope\"; } );"),
	 5, {"aftrs[0].pool: unknown pool nope (expected a name from nat.pools)"}},
	{"dslite: {\n aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = "
	 "\"internet\";\n pool = \"pub\"; } );\n};\n",
	 3, {"aftrs[0].pool: unknown pool pub (expected a name from nat.pools; this file has no nat section)"}},
	/* B4 prefixes */
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\"; } );"),
	 4, {"aftrs[0]: missing key 'b4_prefixes' (expected a list of IPv6 prefixes"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\";\n b4_prefixes = []; } );"),
	 5, {"aftrs[0].b4_prefixes: empty prefix list (expected at least one IPv6 prefix)"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\";\n b4_prefixes = \"2001:db8::/32\"; } );"),
	 5, {"b4_prefixes: wrong type"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\";\n b4_prefixes = [ \"2001:db8:1::/48\",\n \"10.0.0.0/8\" ]; } );"),
	 6, {"aftrs[0].b4_prefixes[1]: 10.0.0.0/8 is IPv4 (expected an IPv6 prefix: B4s are IPv6 addresses)"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\";\n b4_prefixes = [ \"2001:db8::1/32\" ]; } );"),
	 5, {"b4_prefixes[0]: host bits set in 2001:db8::1/32 (expected 2001:db8::/32)"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\";\n b4_prefixes = [ \"2001:db8::zz/32\" ]; } );"),
	 5, {"b4_prefixes[0]: \"2001:db8::zz/32\" is not a prefix"}},
	{DS(" aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"access\"; vrf = \"internet\";"
	    " pool = \"pub\";\n b4_prefixes = [ \"2001:db8:1::/48\", \"2001:db8::/32\" ]; } );"),
	 5,
	 {"b4_prefixes[1]: 2001:db8::/32 overlaps 2001:db8:1::/48, b4_prefixes[0] (expected prefixes that do not "
	  "overlap)"}},
	/* mtu and MSS */
	{AFTR("mtu = 1279;"), 4, {"aftrs[0].mtu: 1279 is out of range (expected 1280..9000)"}},
	{AFTR("mtu = 9001;"), 4, {"aftrs[0].mtu: 9001 is out of range (expected 1280..9000)"}},
	{AFTR("mss_clamp = 535;"), 4,
	 {"aftrs[0].mss_clamp: 535 is out of range (expected 0 (off) or 536..1420: mtu 1500 - 80 bytes"}},
	{AFTR("mss_clamp = 1421;"), 4, {"1421 is out of range (expected 0 (off) or 536..1420"}},
	{AFTR("mtu = 1280; mss_clamp = 1201;"), 4, {"1201 is out of range (expected 0 (off) or 536..1200: mtu 1280"}},
	{AFTR("mss_clamp = 70000;"), 4, {"aftrs[0].mss_clamp: 70000 is out of range (expected 0..65535)"}},
	{AFTR("mss_clamp = \"1400\";"), 4, {"aftrs[0].mss_clamp: wrong type"}},
	/* limits and filtering */
	{AFTR("max_sessions = 0;"), 4, {"aftrs[0].max_sessions: 0 is out of range (expected 1..2147483648)"}},
	{AFTR("max_blocks = 0;"), 4, {"aftrs[0].max_blocks: 0 is out of range (expected 1..32)"}},
	{AFTR("max_blocks = 33;"), 4, {"aftrs[0].max_blocks: 33 is out of range"}},
	{AFTR("filtering = \"symmetric\";"), 4,
	 {"aftrs[0].filtering: \"symmetric\" is not a valid filtering (expected \"endpoint-independent\", "
	  "\"address-dependent\" or \"address-and-port-dependent\")"}},
	{AFTR("filtering = true;"), 4, {"aftrs[0].filtering: wrong type, got a boolean"}},
	/* a later AFTR, several lines down */
	{DS(" aftrs = ( { " REQUIRED " },\n { name = \"b\"; address = \"2001:db8::2\"; transport_vrf = \"access\";\n"
	    " vrf = \"internet\"; pool = \"pub2\"; b4_prefixes = [ \"2001:db8:1::/48\" ];\n"
	    " mtu = 1400;\n mss_clamp = 1400; } );"),
	 8, {"aftrs[1].mss_clamp: 1400 is out of range (expected 0 (off) or 536..1320"}},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *e = &error_cases[i];
		char err[CONF_ERR_MAX], where[32];
		struct dslite_conf *c = load_dslite(e->text, err);
		snprintf(where, sizeof(where), "ds.conf:%u: ", e->line);
		bool ok = c == NULL && strncmp(err, where, strlen(where)) == 0;
		for (size_t k = 0; k < 3 && ok && e->needles[k] != NULL; k++)
			ok = strstr(err, e->needles[k]) != NULL;
		if (getenv("DSLITE_TEST_SHOW") != NULL)
			printf("%s\n", err);
		if (!ok)
			fprintf(stderr, "\ncase %zu: expected %s%s\n  got: %s\n  text: %s\n", i, where, e->needles[0],
				c == NULL ? err : "(loaded)", e->text);
		CU_ASSERT(ok);
		dslite_conf_free(c);
	}
}

/* Without a core model, VRF names are not checked (pools still are). */
static void test_no_core(void)
{
	struct npsgw_conf *saved = core;
	core = NULL;
	struct dslite_conf *c = load_ok(
		"nat: { pools = ( { name = \"p\"; vrf = \"out\"; prefixes = [ \"192.0.2.0/24\" ]; } ); };\n"
		"dslite: { aftrs = ( { name = \"a\"; address = \"2001:db8::1\"; transport_vrf = \"acc\"; vrf = \"out\";\n"
		" pool = \"p\"; b4_prefixes = [ \"2001:db8:1::/48\" ]; } ); };\n");
	core = saved;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->aftrs[0].transport_vrf, "acc");
	CU_ASSERT_STRING_EQUAL(c->aftrs[0].vrf, "out");
	dslite_conf_free(c);
}

static char *write_to_string(const struct dslite_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	dslite_conf_write(f, c);
	fclose(f);
	return buf;
}

static void round_trip(const char *text)
{
	struct dslite_conf *c = load_ok(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char *written = write_to_string(c);
	/* the nat section comes along: the pools must still resolve */
	size_t len = strlen(NAT_POOLS) + strlen(written) + 1;
	char *with_nat = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(with_nat);
	snprintf(with_nat, len, "%s%s", NAT_POOLS, written);
	struct dslite_conf *back = load_ok(with_nat);
	CU_ASSERT_PTR_NOT_NULL(back);
	if (back == NULL)
		fprintf(stderr, "written:\n%s\n", written);
	CU_ASSERT(dslite_conf_equal(c, back));
	if (back != NULL) {
		char *again = write_to_string(back);
		CU_ASSERT_STRING_EQUAL(again, written);
		free(again);
	}
	if (getenv("DSLITE_TEST_SHOW") != NULL)
		printf("%s", written);
	free(with_nat);
	free(written);
	dslite_conf_free(back);
	dslite_conf_free(c);
}

static void test_write_read(void)
{
	round_trip(full_text);
	round_trip("dslite: { };\n");
	round_trip(AFTR("mtu = 1280; mss_clamp = 1200; max_sessions = 2147483648L; max_blocks = 32;"));
}

static void test_dup_equal(void)
{
	struct dslite_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct dslite_conf *d = dslite_conf_dup(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(dslite_conf_equal(c, d));
	CU_ASSERT(dslite_conf_equal(NULL, NULL));
	CU_ASSERT(!dslite_conf_equal(c, NULL));
	CU_ASSERT(!dslite_conf_equal(NULL, d));
	CU_ASSERT_PTR_NOT_EQUAL(d->aftrs, c->aftrs);
	CU_ASSERT_PTR_NOT_EQUAL(d->aftrs[0].b4_prefixes, c->aftrs[0].b4_prefixes);

#define FLIP(field, changed, original)                                                                                 \
	do {                                                                                                           \
		field = changed;                                                                                       \
		CU_ASSERT(!dslite_conf_equal(c, d));                                                                   \
		field = original;                                                                                      \
		CU_ASSERT(dslite_conf_equal(c, d));                                                                    \
	} while (0)
	struct dslite_aftr_conf *a = &d->aftrs[0];
	FLIP(d->reassembly_max, 101, 100);
	FLIP(d->reassembly_timeout_ms, 501, 500);
	FLIP(d->n_aftrs, 2, 3);
	FLIP(a->name[0], 'A', 'a');
	FLIP(a->address.bytes[15], 2, 1);
	FLIP(a->transport_vrf[0], 'A', 'a');
	FLIP(a->vrf[0], 'I', 'i');
	FLIP(a->pool[0], 'P', 'p');
	FLIP(a->n_b4_prefixes, 1, 2);
	FLIP(a->b4_prefixes[1].len, 47, 48);
	FLIP(a->b4_prefixes[1].addr.bytes[5], 1, 0);
	FLIP(a->mtu, 1281, 1280);
	FLIP(a->mss_clamp, 1200, 0);
	FLIP(a->max_sessions, 101, 100);
	FLIP(a->max_blocks, 2, 1);
	FLIP(a->filtering, NAT_FILTER_APDF, NAT_FILTER_EIF);
#undef FLIP
	dslite_conf_free(d);

	struct dslite_conf *e = load_ok("dslite: { };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	d = dslite_conf_dup(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(dslite_conf_equal(d, e));
	CU_ASSERT(!dslite_conf_equal(c, e));
	dslite_conf_free(d);
	dslite_conf_free(e);
	dslite_conf_free(c);
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
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/dslite/dslite_conf", NULL, NULL);
	for (size_t i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	conf_free(core);
	return failures == 0 ? 0 : 1;
}
