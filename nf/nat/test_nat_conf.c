/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nat section: a full file read into the expected model, defaults, every validation error (file, line and
 * message text), write -> read back -> equal, dup/equal, nat_conf_pool and nat_filtering_name.
 * The nat text is read by libconfig here and handed to nat_conf_read with a core model loaded by conf_load.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf.h"
#include "nf/nat/nat_conf.h"
#include "nf/nf_conf_test.h"

/* Core model: the outside VRF internet, tenant VRFs t1..t3. */
static const char core_text[] = "devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
				"vrfs = ( { name = \"internet\"; id = 0; }, { name = \"t1\"; id = 1; },\n"
				"         { name = \"t2\"; id = 2; }, { name = \"t3\"; id = 3; } );\n"
				"interfaces = ( { name = \"wan0\"; device = \"p0\"; vrf = \"internet\"; } );\n";

static struct npsgw_conf *core;

static int read_section(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
			char *err, size_t errlen)
{
	return nat_conf_read(s, core, file, (struct nat_conf **)model, err, errlen);
}

/* Read the "nat" setting of text; NULL with err filled on failure. */
static struct nat_conf *load_nat(const char *text, char err[CONF_ERR_MAX])
{
	return nf_conf_test_load(text, "nat", read_section, core, "nat.conf", err);
}

static struct nat_conf *load_ok(const char *text)
{
	return nf_conf_test_load_ok(text, "nat", read_section, core, "nat.conf");
}

static const char full_text[] =
	"nat: {\n"
	"  sessions: { max = 1000000; when_full = \"evict-transitory\"; tcp_window_check = false; tcp_loose = true;\n"
	"    timeouts: { tcp_established = 8000; tcp_transitory = 300; tcp_time_wait = 60; tcp_closed = 5;\n"
	"                udp = 300; icmp = 90; other = 100; }; };\n"
	"  block_idle = 30; log_rate = 0;\n"
	"  pools = ( { name = \"pub\"; vrf = \"internet\"; prefixes = [ \"198.51.100.0/28\", \"203.0.113.7\" ];\n"
	"              ports = \"1-65535\"; block_size = 256; },\n"
	"            { name = \"pub2\"; vrf = \"internet\"; prefixes = [ \"198.51.100.16/28\" ]; },\n"
	"            { name = \"mirror\"; vrf = \"t3\"; prefixes = [ \"198.51.100.0/28\" ];\n"
	"              ports = \"2000-2999\"; block_size = 1000; } );\n"
	"  tenants = (\n"
	"    { vrf = \"t1\"; pool = \"pub\"; filtering = \"endpoint-independent\"; max_sessions = 5000;\n"
	"      max_blocks = 8; hairpinning = false;\n"
	"      static = ( { proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:8080\"; },\n"
	"                 { proto = \"udp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:8080\"; },\n"
	"                 { proto = \"tcp\"; inside = \"10.0.0.6:22\"; public = \"203.0.113.7:22\"; } ); },\n"
	"    { vrf = \"t2\"; pool = \"pub\"; filtering = \"address-dependent\";\n"
	"      static = ( { proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.2:8080\"; } ); },\n"
	"    { vrf = \"internet\"; pool = \"mirror\";\n"
	"      static = ( { proto = \"tcp\"; inside = \"192.0.2.1:80\"; public = \"198.51.100.1:8080\"; } ); },\n"
	"    { vrf = \"t3\"; pool = \"pub2\"; filtering = \"address-and-port-dependent\"; static = (); } );\n"
	"};\n";

static void check_prefix(const struct addr_prefix *p, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_prefix_fmt(p, buf, sizeof(buf)), expected);
}

static void check_addr(const struct addr *a, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_EQUAL(a->family, 4);
	CU_ASSERT_STRING_EQUAL(addr_fmt(a, buf, sizeof(buf)), expected);
}

static void test_full(void)
{
	struct nat_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sessions.max_sessions, 1000000);
	CU_ASSERT_EQUAL(c->sessions.full_policy, CT_FULL_EVICT_TRANSITORY);
	CU_ASSERT(!c->sessions.tcp_window_check && c->sessions.tcp_loose);
	const struct ct_timeouts *t = &c->sessions.timeouts;
	CU_ASSERT(t->tcp_established == 8000 && t->tcp_transitory == 300 && t->tcp_time_wait == 60 &&
		  t->tcp_closed == 5 && t->udp == 300 && t->icmp == 90 && t->other == 100);
	CU_ASSERT_EQUAL(c->block_idle_s, 30);
	CU_ASSERT_EQUAL(c->log_rate, 0);

	CU_ASSERT_EQUAL_FATAL(c->n_pools, 3);
	const struct nat_pool_conf *pub = &c->pools[0];
	CU_ASSERT_STRING_EQUAL(pub->name, "pub");
	CU_ASSERT_STRING_EQUAL(pub->vrf, "internet");
	CU_ASSERT_EQUAL_FATAL(pub->n_prefixes, 2);
	check_prefix(&pub->prefixes[0], "198.51.100.0/28");
	check_prefix(&pub->prefixes[1], "203.0.113.7/32");
	CU_ASSERT(pub->port_lo == 1 && pub->port_hi == 65535 && pub->block_size == 256);
	const struct nat_pool_conf *pub2 = &c->pools[1];
	CU_ASSERT_STRING_EQUAL(pub2->name, "pub2");
	CU_ASSERT_EQUAL_FATAL(pub2->n_prefixes, 1);
	check_prefix(&pub2->prefixes[0], "198.51.100.16/28");
	CU_ASSERT(pub2->port_lo == 1024 && pub2->port_hi == 65535 && pub2->block_size == 512);
	/* the same addresses in another VRF are another pool's */
	const struct nat_pool_conf *mirror = &c->pools[2];
	CU_ASSERT_STRING_EQUAL(mirror->vrf, "t3");
	CU_ASSERT(mirror->port_lo == 2000 && mirror->port_hi == 2999 && mirror->block_size == 1000);

	CU_ASSERT_PTR_EQUAL(nat_conf_pool(c, "pub"), pub);
	CU_ASSERT_PTR_EQUAL(nat_conf_pool(c, "mirror"), mirror);
	CU_ASSERT_PTR_NULL(nat_conf_pool(c, "nope"));
	CU_ASSERT_PTR_NULL(nat_conf_pool(NULL, "pub"));

	CU_ASSERT_EQUAL_FATAL(c->n_tenants, 4);
	const struct nat_tenant_conf *t1 = &c->tenants[0];
	CU_ASSERT_STRING_EQUAL(t1->vrf, "t1");
	CU_ASSERT_STRING_EQUAL(t1->pool, "pub");
	CU_ASSERT_EQUAL(t1->filtering, NAT_FILTER_EIF);
	CU_ASSERT(t1->max_sessions == 5000 && t1->max_blocks == 8 && !t1->hairpinning);
	CU_ASSERT_EQUAL_FATAL(t1->n_statics, 3);
	CU_ASSERT_EQUAL(t1->statics[0].proto, 6);
	check_addr(&t1->statics[0].inside, "10.0.0.5");
	CU_ASSERT_EQUAL(t1->statics[0].inside_port, 80);
	check_addr(&t1->statics[0].public, "198.51.100.1");
	CU_ASSERT_EQUAL(t1->statics[0].public_port, 8080);
	/* the same public port with the other proto */
	CU_ASSERT_EQUAL(t1->statics[1].proto, 17);
	CU_ASSERT_EQUAL(t1->statics[1].public_port, 8080);
	/* a port below 1024 outside the dynamic range, on the pool's /32 */
	check_addr(&t1->statics[2].public, "203.0.113.7");
	CU_ASSERT(t1->statics[2].public_port == 22 && t1->statics[2].inside_port == 22);

	const struct nat_tenant_conf *t2 = &c->tenants[1];
	CU_ASSERT_EQUAL(t2->filtering, NAT_FILTER_ADF);
	CU_ASSERT(t2->max_sessions == 2000 && t2->max_blocks == 4 && t2->hairpinning);
	CU_ASSERT_EQUAL_FATAL(t2->n_statics, 1);
	check_addr(&t2->statics[0].inside, "10.0.0.5"); /* same inside as t1's: another realm */
	check_addr(&t2->statics[0].public, "198.51.100.2");

	/* public 198.51.100.1:8080/tcp again, but of pool mirror (another VRF) */
	const struct nat_tenant_conf *t3 = &c->tenants[2];
	CU_ASSERT_STRING_EQUAL(t3->vrf, "internet");
	CU_ASSERT_STRING_EQUAL(t3->pool, "mirror");
	CU_ASSERT_EQUAL_FATAL(t3->n_statics, 1);
	CU_ASSERT_EQUAL(t3->statics[0].public_port, 8080);

	CU_ASSERT_EQUAL(c->tenants[3].filtering, NAT_FILTER_APDF);
	CU_ASSERT_EQUAL(c->tenants[3].n_statics, 0);
	nat_conf_free(c);
}

static void test_defaults(void)
{
	struct nat_conf *c = load_ok("nat: { };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sessions.max_sessions, 65536);
	CU_ASSERT_EQUAL(c->sessions.full_policy, CT_FULL_REFUSE);
	CU_ASSERT(c->sessions.tcp_window_check && !c->sessions.tcp_loose);
	const struct ct_timeouts *t = &c->sessions.timeouts;
	CU_ASSERT(t->tcp_established == 7440 && t->tcp_transitory == 240 && t->tcp_time_wait == 120 &&
		  t->tcp_closed == 10 && t->udp == 120 && t->icmp == 60 && t->other == 120);
	CU_ASSERT_EQUAL(c->block_idle_s, 120);
	CU_ASSERT_EQUAL(c->log_rate, 100);
	CU_ASSERT(c->n_pools == 0 && c->n_tenants == 0);
	nat_conf_free(c);

	c = load_ok("nat: { pools = ( { name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; } );\n"
		    "       tenants = ( { vrf = \"t1\"; pool = \"p\"; } ); };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->pools[0].port_lo == 1024 && c->pools[0].port_hi == 65535 && c->pools[0].block_size == 512);
	const struct nat_tenant_conf *tn = &c->tenants[0];
	CU_ASSERT(tn->filtering == NAT_FILTER_APDF && tn->max_sessions == 2000 && tn->max_blocks == 4 &&
		  tn->hairpinning && tn->n_statics == 0);
	nat_conf_free(c);

	/* the RFC minimums themselves, the largest values, a block as big as the range */
	c = load_ok("nat: { sessions: { max = 2147483648L; timeouts: { tcp_established = 7440; tcp_transitory = 240;\n"
		    " udp = 120; icmp = 60; tcp_time_wait = 1; tcp_closed = 1; other = 2592000; }; };\n"
		    " block_idle = 86400; log_rate = 1000000;\n"
		    " pools = ( { name = \"p\"; vrf = \"internet\"; prefixes = [ \"100.64.0.0/16\" ]; ports = \"5-5\";\n"
		    "             block_size = 1; } );\n"
		    " tenants = ( { vrf = \"t1\"; pool = \"p\"; max_sessions = 2147483648L; max_blocks = 32; } ); };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->sessions.max_sessions, 2147483648U);
	CU_ASSERT_EQUAL(c->sessions.timeouts.other, 2592000);
	CU_ASSERT(c->pools[0].port_lo == 5 && c->pools[0].port_hi == 5 && c->pools[0].block_size == 1);
	CU_ASSERT_EQUAL(c->tenants[0].max_sessions, 2147483648U);
	CU_ASSERT_EQUAL(c->tenants[0].max_blocks, 32);
	nat_conf_free(c);
}

struct error_case {
	const char *text;
	unsigned line;
	const char *needles[3];
};

#define NAT(x) "nat: {\n" x "\n};\n"
/* Lines 2..3 hold pool pub (vrf internet, 198.51.100.0/28) and pool pub2 (internet, 198.51.100.16/28); line 4
 * opens the tenants, so the first tenant of a case is on line 5. */
#define TENANTS(x)                                                                                                     \
	"nat: {\n pools = ( { name = \"pub\"; vrf = \"internet\"; prefixes = [ \"198.51.100.0/28\" ]; },\n"          \
	" { name = \"pub2\"; vrf = \"internet\"; prefixes = [ \"198.51.100.16/28\" ]; } );\n"                         \
	" tenants = (\n  " x "\n );\n};\n"
#define STATIC(x) TENANTS("{ vrf = \"t1\"; pool = \"pub\"; static = (\n   " x " ); }")
#define POOL(x) NAT(" pools = ( " x " );")

static const struct error_case error_cases[] = {
	/* keys and types */
	{"nat = 5;\n", 1, {"nat: wrong type", "expected a group"}},
	{NAT(" foo = 1;"), 2, {"nat.conf:2: nat: unknown key 'foo'", "expected one of: sessions, block_idle"}},
	{NAT(" sessions = 1;"), 2, {"nat.sessions: wrong type", "expected a group"}},
	{NAT(" sessions: { maxx = 1; };"), 2, {"nat.sessions: unknown key 'maxx'"}},
	{NAT(" pools = { name = \"p\"; };"), 2, {"nat.pools: wrong type", "expected a list of groups"}},
	{NAT(" tenants = ( 1 );"), 2, {"nat.tenants[0]", "wrong type"}},
	/* sessions */
	{NAT(" sessions: { max = 0; };"), 2, {"nat.sessions.max: 0 is out of range (expected 1..2147483648)"}},
	{NAT(" sessions: { when_full = \"drop\"; };"), 2,
	 {"\"drop\" is not a valid when_full (expected \"refuse\" or \"evict-transitory\")"}},
	{NAT(" sessions: { tcp_window_check = 1; };"), 2, {"tcp_window_check: wrong type", "true or false"}},
	{NAT(" sessions: { timeouts: { tcp = 1; }; };"), 2, {"nat.sessions.timeouts: unknown key 'tcp'"}},
	{NAT(" sessions: {\n  timeouts: {\n   udp = 119; }; };"), 4,
	 {"nat.sessions.timeouts.udp: 119 is out of range (expected 120..2592000", "RFC 4787 REQ-5"}},
	{NAT(" sessions: { timeouts: { tcp_established = 7439; }; };"), 2,
	 {"timeouts.tcp_established: 7439 is out of range (expected 7440..2592000", "RFC 5382 REQ-5"}},
	{NAT(" sessions: { timeouts: { tcp_transitory = 239; }; };"), 2,
	 {"timeouts.tcp_transitory: 239 is out of range (expected 240..2592000", "RFC 5382"}},
	{NAT(" sessions: { timeouts: { icmp = 59; }; };"), 2,
	 {"timeouts.icmp: 59 is out of range (expected 60..2592000", "RFC 5508 REQ-1"}},
	{NAT(" sessions: { timeouts: { tcp_closed = 0; }; };"), 2,
	 {"timeouts.tcp_closed: 0 is out of range (expected 1..2592000)"}},
	{NAT(" sessions: { timeouts: { other = 2592001; }; };"), 2,
	 {"timeouts.other: 2592001 is out of range (expected 1..2592000)"}},
	{NAT(" sessions: { timeouts: { udp = \"2m\"; }; };"), 2, {"timeouts.udp: wrong type, got a string"}},
	/* block_idle, log_rate */
	{NAT(" block_idle = 0;"), 2, {"nat.block_idle: 0 is out of range (expected 1..86400)"}},
	{NAT(" block_idle = 86401;"), 2, {"nat.block_idle: 86401 is out of range (expected 1..86400)"}},
	{NAT(" log_rate = 1000001;"), 2, {"nat.log_rate: 1000001 is out of range (expected 0..1000000)"}},
	/* pools: names and VRFs */
	{POOL("{ vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; }"), 2, {"nat.pools[0]: missing key 'name'"}},
	{POOL("{ name = \"a b\"; }"), 2, {"pools[0].name: \"a b\" is not a valid name"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; },\n"
	      " { name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.3.0/24\" ]; }"),
	 3, {"pools[1].name: duplicate pool name p (expected unique names)"}},
	{POOL("{ name = \"p\"; prefixes = [ \"192.0.2.0/24\" ]; }"), 2, {"pools[0]: missing key 'vrf'"}},
	{POOL("{ name = \"p\"; vrf = \"blue\"; prefixes = [ \"192.0.2.0/24\" ]; }"), 2,
	 {"pools[0].vrf: unknown vrf blue (expected a name from vrfs)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefix = [ \"192.0.2.0/24\" ]; }"), 2,
	 {"pools[0]: unknown key 'prefix'", "expected one of: name, vrf, prefixes, ports, block_size"}},
	/* pools: prefixes */
	{POOL("{ name = \"p\"; vrf = \"internet\"; }"), 2,
	 {"pools[0]: missing key 'prefixes' (expected a list of IPv4 prefixes"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = []; }"), 2,
	 {"pools[0].prefixes: empty prefix list (expected at least one IPv4 prefix)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = \"192.0.2.0/24\"; }"), 2,
	 {"pools[0].prefixes: wrong type", "an array of strings"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\",\n \"192.0.3.1/24\" ]; }"), 3,
	 {"pools[0].prefixes[1]: host bits set in 192.0.3.1/24 (expected 192.0.3.0/24)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.300\" ]; }"), 2,
	 {"prefixes[0]: \"192.0.2.300\" is not a prefix"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"2001:db8::/64\" ]; }"), 2,
	 {"prefixes[0]: 2001:db8::/64 is IPv6 (expected an IPv4 prefix"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"224.0.0.0/24\" ]; }"), 2,
	 {"224.0.0.0/24 overlaps 224.0.0.0/4 (multicast) (expected public IPv4 unicast addresses)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"127.0.0.1\" ]; }"), 2, {"overlaps 127.0.0.0/8"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"0.0.0.0/1\" ]; }"), 2, {"overlaps 0.0.0.0/8"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"255.255.255.255\" ]; }"), 2,
	 {"overlaps 240.0.0.0/4 (reserved)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\", \"192.0.2.16/28\" ]; }"), 2,
	 {"prefixes[1]: 192.0.2.16/28 overlaps 192.0.2.0/24, prefixes[0] (expected prefixes that do not overlap)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.7\", \"192.0.2.7\" ]; }"), 2,
	 {"192.0.2.7/32 overlaps 192.0.2.7/32, prefixes[0]"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; },\n"
	      " { name = \"q\"; vrf = \"t1\"; prefixes = [ \"192.0.2.0/24\" ]; },\n"
	      " { name = \"r\"; vrf = \"internet\"; prefixes = [ \"192.0.3.0/24\", \"192.0.2.128/25\" ]; }"),
	 4,
	 {"pools[2].prefixes[1]: 192.0.2.128/25 overlaps 192.0.2.0/24 of pool p in vrf internet",
	  "expected pools of one vrf not to share addresses"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"100.64.0.0/16\", \"100.65.0.0/32\" ]; }"), 2,
	 {"prefixes[1]: the pool reaches 65537 addresses with 100.65.0.0/32 (expected at most 65536)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"100.64.0.0/15\" ]; }"), 2,
	 {"the pool reaches 131072 addresses"}},
	/* pools: ports and blocks */
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ];\n ports = \"0-65535\"; }"), 3,
	 {"pools[0].ports: port 0 is never assigned (expected a range from 1 up"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"1024-65536\"; }"), 2,
	 {"ports: port 65536 is out of range (expected 1..65535)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"2000-1999\"; }"), 2,
	 {"ports: port range 2000-1999 runs backwards (expected lo <= hi)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"1024\"; }"), 2,
	 {"ports: \"1024\" is not a port range (expected \"lo-hi\" such as \"1024-65535\")"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"1024-\"; }"), 2,
	 {"\"1024-\" is not a port range"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"-5\"; }"), 2,
	 {"\"-5\" is not a port range"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"1024-9999999\"; }"), 2,
	 {"\"1024-9999999\" is not a port range"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = 1024; }"), 2,
	 {"ports: wrong type, got an integer (expected a port range string"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; block_size = 0; }"), 2,
	 {"block_size: 0 is out of range (expected 1..65535)"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; block_size = 65536; }"), 2,
	 {"block_size: 65536 is out of range"}},
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ]; ports = \"1024-2047\";\n"
	      "  block_size = 1025; }"),
	 3,
	 {"pools[0].block_size: block_size 1025 is larger than the port range 1024-2047 of 1024 ports",
	  "expected a block size of at most 1024"}},
	/* the default block size against a short range: reported at the range */
	{POOL("{ name = \"p\"; vrf = \"internet\"; prefixes = [ \"192.0.2.0/24\" ];\n ports = \"1024-1100\"; }"), 3,
	 {"pools[0].ports: block_size 512 is larger than the port range 1024-1100 of 77 ports"}},
	/* tenants */
	{TENANTS("{ pool = \"pub\"; }"), 5, {"nat.tenants[0]: missing key 'vrf' (expected a name)"}},
	{TENANTS("{ vrf = \"blue\"; pool = \"pub\"; }"), 5, {"tenants[0].vrf: unknown vrf blue (expected a name"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; },\n  { vrf = \"t2\"; pool = \"pub\"; },\n  { vrf = \"t1\"; pool = "
		 "\"pub2\"; }"),
	 7, {"tenants[2].vrf: vrf t1 is already a tenant, tenants[0] (expected one tenant per vrf)"}},
	{TENANTS("{ vrf = \"t1\"; }"), 5, {"tenants[0]: missing key 'pool'"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"nope\"; }"), 5,
	 {"tenants[0].pool: unknown pool nope (expected a name from nat.pools)"}},
	{TENANTS("{ vrf = \"internet\"; pool = \"pub\"; }"), 5,
	 {"tenants[0].vrf: vrf internet is the vrf of pool pub (expected an inside vrf other than the pool's)"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; filtering = \"full-cone\"; }"), 5,
	 {"tenants[0].filtering: \"full-cone\" is not a valid filtering (expected \"endpoint-independent\", "
	  "\"address-dependent\" or \"address-and-port-dependent\")"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; filtering = 1; }"), 5, {"filtering: wrong type"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; max_sessions = 0; }"), 5,
	 {"tenants[0].max_sessions: 0 is out of range (expected 1..2147483648)"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; max_blocks = 0; }"), 5,
	 {"tenants[0].max_blocks: 0 is out of range (expected 1..32)"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; max_blocks = 33; }"), 5, {"33 is out of range (expected 1..32)"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; hairpinning = \"yes\"; }"), 5, {"hairpinning: wrong type"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; statics = (); }"), 5,
	 {"tenants[0]: unknown key 'statics'", "hairpinning, static"}},
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; static = { proto = \"tcp\"; }; }"), 5,
	 {"tenants[0].static: wrong type", "a list of groups"}},
	/* static mappings */
	{STATIC("{ inside = \"10.0.0.5:80\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"tenants[0].static[0]: missing key 'proto' (expected \"tcp\" or \"udp\")"}},
	{STATIC("{ proto = \"icmp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"static[0].proto: \"icmp\" is not a valid proto (expected \"tcp\" or \"udp\")"}},
	{STATIC("{ proto = \"tcp\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"static[0]: missing key 'inside' (expected an IPv4 address:port"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:80\"; }"), 6, {"static[0]: missing key 'public'"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"static[0].inside: \"10.0.0.5\" has no port (expected an IPv4 address:port such as \"192.0.2.1:80\")"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:0\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"inside: port 0 of \"10.0.0.5:0\" is out of range (expected 1..65535)"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:65536\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"port 65536 of \"10.0.0.5:65536\" is out of range"}},
	{STATIC("{ proto = \"tcp\"; inside = \"[2001:db8::5]:80\"; public = \"198.51.100.1:80\"; }"), 6,
	 {"inside: \"[2001:db8::5]:80\" is not an IPv4 address:port (expected an IPv4 address:port such as"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = \"host:80\"; }"), 6,
	 {"public: \"host:80\" is not an IPv4 address:port"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = 80; }"), 6, {"public: wrong type"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:80\";\n    public = \"198.51.100.16:80\"; }"), 7,
	 {"static[0].public: 198.51.100.16 is not an address of pool pub (expected an address in its prefixes, such "
	  "as 198.51.100.0/28)"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:80\"; port = 1; }"), 6,
	 {"static[0]: unknown key 'port'"}},
	{STATIC("{ proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:80\"; },\n"
		"   { proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:81\"; }"),
	 7,
	 {"static[1].inside: inside 10.0.0.5:80/tcp is already mapped by static[0] (expected each inside address, "
	  "port and proto once per tenant)"}},
	{STATIC("{ proto = \"udp\"; inside = \"10.0.0.5:80\"; public = \"198.51.100.1:80\"; },\n"
		"   { proto = \"udp\"; inside = \"10.0.0.6:80\"; public = \"198.51.100.1:80\"; }"),
	 7,
	 {"static[1].public: public 198.51.100.1:80/udp is already mapped by tenants[0].static[0] (expected each "
	  "public address, port and proto once per pool)"}},
	/* the public side is shared between the pool's tenants */
	{TENANTS("{ vrf = \"t1\"; pool = \"pub\"; static = ( { proto = \"tcp\"; inside = \"10.0.0.5:80\"; public = "
		 "\"198.51.100.1:80\"; } ); },\n"
		 "  { vrf = \"t2\"; pool = \"pub2\"; },\n"
		 "  { vrf = \"t3\"; pool = \"pub\"; static = (\n"
		 "    { proto = \"tcp\"; inside = \"10.0.0.9:80\"; public = \"198.51.100.1:81\"; },\n"
		 "    { proto = \"tcp\"; inside = \"10.0.0.9:81\"; public = \"198.51.100.1:80\"; } ); }"),
	 9, {"tenants[2].static[1].public: public 198.51.100.1:80/tcp is already mapped by tenants[0].static[0]"}},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *e = &error_cases[i];
		char err[CONF_ERR_MAX], where[32];
		struct nat_conf *c = load_nat(e->text, err);
		snprintf(where, sizeof(where), "nat.conf:%u: ", e->line);
		bool ok = c == NULL && strncmp(err, where, strlen(where)) == 0;
		for (size_t k = 0; k < 3 && ok && e->needles[k] != NULL; k++)
			ok = strstr(err, e->needles[k]) != NULL;
		if (getenv("NAT_TEST_SHOW") != NULL)
			printf("%s\n", err);
		if (!ok)
			fprintf(stderr, "\ncase %zu: expected %s%s\n  got: %s\n  text: %s\n", i, where, e->needles[0],
				c == NULL ? err : "(loaded)", e->text);
		CU_ASSERT(ok);
		nat_conf_free(c);
	}
}

/* Without a core model, VRF names are not checked. */
static void test_no_core(void)
{
	struct npsgw_conf *saved = core;
	core = NULL;
	struct nat_conf *c = load_ok(NAT(" pools = ( { name = \"p\"; vrf = \"out\"; prefixes = [ \"192.0.2.0/24\" ]; } );\n"
					 " tenants = ( { vrf = \"in\"; pool = \"p\"; } );"));
	core = saved;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->pools[0].vrf, "out");
	CU_ASSERT_STRING_EQUAL(c->tenants[0].vrf, "in");
	nat_conf_free(c);
}

static char *write_to_string(const struct nat_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	nat_conf_write(f, c);
	fclose(f);
	return buf;
}

static void round_trip(const char *text)
{
	struct nat_conf *c = load_ok(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char *written = write_to_string(c);
	struct nat_conf *back = load_ok(written);
	CU_ASSERT_PTR_NOT_NULL(back);
	if (back == NULL)
		fprintf(stderr, "written:\n%s\n", written);
	CU_ASSERT(nat_conf_equal(c, back));
	/* and writing it again gives the same text */
	if (back != NULL) {
		char *again = write_to_string(back);
		CU_ASSERT_STRING_EQUAL(again, written);
		free(again);
	}
	if (getenv("NAT_TEST_SHOW") != NULL)
		printf("%s", written);
	free(written);
	nat_conf_free(back);
	nat_conf_free(c);
}

static void test_write_read(void)
{
	round_trip(full_text);
	round_trip("nat: { };\n");
	round_trip("nat: { sessions: { max = 2147483648L; }; pools = ( { name = \"p\"; vrf = \"internet\";\n"
		   " prefixes = [ \"192.0.2.1\" ]; ports = \"65535-65535\"; block_size = 1; } );\n"
		   " tenants = ( { vrf = \"t1\"; pool = \"p\"; max_sessions = 2147483648L; hairpinning = false;\n"
		   " static = ( { proto = \"udp\"; inside = \"10.1.2.3:65535\"; public = \"192.0.2.1:1\"; } ); } ); };\n");
}

static void test_dup_equal(void)
{
	struct nat_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct nat_conf *d = nat_conf_dup(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(nat_conf_equal(c, d));
	CU_ASSERT(nat_conf_equal(NULL, NULL));
	CU_ASSERT(!nat_conf_equal(c, NULL));
	CU_ASSERT(!nat_conf_equal(NULL, d));
	/* deep: the copy's arrays are its own */
	CU_ASSERT_PTR_NOT_EQUAL(d->pools, c->pools);
	CU_ASSERT_PTR_NOT_EQUAL(d->pools[0].prefixes, c->pools[0].prefixes);
	CU_ASSERT_PTR_NOT_EQUAL(d->tenants[0].statics, c->tenants[0].statics);
	CU_ASSERT_PTR_NULL(d->tenants[3].statics);

	/* each change makes them differ; undoing it makes them equal again */
#define FLIP(field, changed, original)                                                                                 \
	do {                                                                                                           \
		field = changed;                                                                                       \
		CU_ASSERT(!nat_conf_equal(c, d));                                                                      \
		field = original;                                                                                      \
		CU_ASSERT(nat_conf_equal(c, d));                                                                       \
	} while (0)
	FLIP(d->sessions.max_sessions, 1, 1000000);
	FLIP(d->sessions.timeouts.udp, 121, 300);
	FLIP(d->sessions.tcp_loose, false, true);
	FLIP(d->sessions.full_policy, CT_FULL_REFUSE, CT_FULL_EVICT_TRANSITORY);
	FLIP(d->block_idle_s, 31, 30);
	FLIP(d->log_rate, 1, 0);
	FLIP(d->pools[0].name[0], 'P', 'p');
	FLIP(d->pools[1].vrf[0], 'I', 'i');
	FLIP(d->pools[0].prefixes[1].len, 31, 32);
	FLIP(d->pools[0].prefixes[0].addr.bytes[3], 16, 0);
	FLIP(d->pools[0].port_lo, 2, 1);
	FLIP(d->pools[0].port_hi, 65534, 65535);
	FLIP(d->pools[0].block_size, 512, 256);
	FLIP(d->pools[0].n_prefixes, 1, 2);
	FLIP(d->n_pools, 2, 3);
	FLIP(d->tenants[0].vrf[1], '9', '1');
	FLIP(d->tenants[0].pool[0], 'x', 'p');
	FLIP(d->tenants[0].filtering, NAT_FILTER_APDF, NAT_FILTER_EIF);
	FLIP(d->tenants[0].max_sessions, 5001, 5000);
	FLIP(d->tenants[0].max_blocks, 7, 8);
	FLIP(d->tenants[0].hairpinning, true, false);
	FLIP(d->tenants[0].n_statics, 2, 3);
	FLIP(d->tenants[0].statics[1].proto, 6, 17);
	FLIP(d->tenants[0].statics[1].inside_port, 81, 80);
	FLIP(d->tenants[0].statics[1].public_port, 8081, 8080);
	FLIP(d->tenants[0].statics[1].inside.bytes[3], 6, 5);
	FLIP(d->tenants[0].statics[1].public.bytes[3], 2, 1);
	FLIP(d->n_tenants, 3, 4);
#undef FLIP
	nat_conf_free(d);

	struct nat_conf *e = load_ok("nat: { };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	d = nat_conf_dup(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(nat_conf_equal(d, e));
	CU_ASSERT(!nat_conf_equal(c, e));
	nat_conf_free(d);
	nat_conf_free(e);
	nat_conf_free(c);
}

static void test_filtering_names(void)
{
	CU_ASSERT_STRING_EQUAL(nat_filtering_name(NAT_FILTER_EIF), "endpoint-independent");
	CU_ASSERT_STRING_EQUAL(nat_filtering_name(NAT_FILTER_ADF), "address-dependent");
	CU_ASSERT_STRING_EQUAL(nat_filtering_name(NAT_FILTER_APDF), "address-and-port-dependent");
	CU_ASSERT_STRING_EQUAL(nat_filtering_name(3), "?");
	CU_ASSERT_STRING_EQUAL(nat_filtering_name(255), "?");
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
		{"filtering names", test_filtering_names},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/nat/nat_conf", NULL, NULL);
	for (size_t i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	conf_free(core);
	return failures == 0 ? 0 : 1;
}
