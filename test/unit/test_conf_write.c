/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config writer: every model conf_load makes is written so that conf_load reads back the same model, the text is
 * stable (writing the re-read model gives the same bytes), a file that would not boot is never left in place, and
 * conf_differs names the first difference.
 */
#include "lib/conf/conf_write.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_dir[64];

static char *tmp_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tmp_dir, name);
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static char *written(const struct npsgw_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(conf_write(f, c, "header\nsecond line"), 0);
	fclose(f);
	return buf;
}

/* Load text as a file, save it, load the saved file: same model, same text when written again. */
static void round_trip(const char *text)
{
	char in[128], out[128], err[CONF_ERR_MAX], what[256];
	write_text(tmp_path("in.conf", in, sizeof(in)), text);
	struct npsgw_conf *a = conf_load(in, err);
	if (a == NULL)
		fprintf(stderr, "\nsource does not load: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	int rc = conf_write_file(a, tmp_path("out.conf", out, sizeof(out)), "test", err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\nconf_write_file: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	struct npsgw_conf *b = conf_load(out, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	bool differs = conf_differs(a, b, CONF_CMP_ALL, what, sizeof(what));
	if (differs)
		fprintf(stderr, "\nround trip differs: %s\n", what);
	CU_ASSERT(!differs);
	char *ta = written(a), *tb = written(b);
	CU_ASSERT_STRING_EQUAL(ta, tb);
	free(ta);
	free(tb);
	conf_free(a);
	conf_free(b);
}

#define DEVICES "devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
#define TABLES                                                                                                         \
	"vrfs = ( { name = \"main\"; id = 0; } );\n"                                                                   \
	"interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/24\" ]; } );\n"

static void test_full(void)
{
	char rf[128];
	write_text(tmp_path("routes.txt", rf, sizeof(rf)),
		   "transit 10.20.0.0/16 via 10.0.0.3\n# comment\ntenant 10.30.0.0/16 blackhole\n"
		   "transit 2001:db8:5::/48 dev site-a\n");
	round_trip(
		"eal: { lcores = \"0,2-3\"; memory_mb = 512; hugepages = \"no\"; file_prefix = \"gw1\";\n"
		"       extra_args = [ \"--log-level=lib.eal:debug\", \"q\\\"uote\", \"back\\\\slash\",\n"
		"                      \"tab\\there\" ]; };\n"
		"control: { socket = \"/run/npsgw/gw 1.sock\"; mode = \"0640\"; group = \"npsgw\"; };\n"
		"limits: { max_vrfs = 8; max_interfaces = 16; max_nexthops = 1024; mbufs = 8192; icmp_rate = 50; };\n"
		"neighbour: { reachable_ms = 20000; retrans_ms = 500; delay_ms = 3000; max_mcast_probes = 4;\n"
		"             max_ucast_probes = 5; stale_ms = 120000; hold_packets = 8; max_neighbours = 1000; };\n"
		"devices = ( { name = \"p0\"; vdev = \"net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap\"; rx_queues = 2;\n"
		"              mtu = 9000; rx_desc = 512; tx_desc = 2048; },\n"
		"            { name = \"p1\"; pci = \"00:08.0\"; } );\n"
		"workers = ( { lcore = 2; rx = ( \"p0:0\", \"p1:0\" ); }, { lcore = 3; rx = [ \"p0:1\" ]; } );\n"
		"vrfs = ( { name = \"transit\"; id = 0; fib = \"fast\"; max_routes = 1000; },\n"
		"         { name = \"tenant\"; id = 4294967294; fib = \"compact\"; } );\n"
		"interfaces = ( { name = \"site-a\"; device = \"p0\"; vlan = 100; vrf = \"transit\"; mtu = 1500;\n"
		"                 mac = \"02:00:00:00:00:01\";\n"
		"                 addresses = [ \"10.0.0.1/24\", \"2001:db8::1/64\" ]; },\n"
		"               { name = \"t.1\"; device = \"p1\"; vrf = \"tenant\";\n"
		"                 addresses = ( \"10.9.0.1/32\" ); },\n"
		"               { name = \"bare\"; device = \"p1\"; vlan = 7; vrf = \"tenant\"; } );\n"
		"routes = ( { vrf = \"transit\"; prefix = \"0.0.0.0/0\"; via = \"10.0.0.2\"; dev = \"site-a\"; },\n"
		"           { vrf = \"transit\"; prefix = \"192.0.2.0/24\"; dev = \"site-a\"; },\n"
		"           { vrf = \"transit\"; prefix = \"198.51.100.0/24\"; blackhole = true; },\n"
		"           { vrf = \"transit\"; prefix = \"203.0.113.0/24\"; reject = true; },\n"
		"           { vrf = \"transit\"; prefix = \"2001:db8:1::/48\"; via = \"2001:db8::2\"; },\n"
		"           { vrf = \"tenant\"; prefix = \"0.0.0.0/0\"; target_vrf = \"transit\"; } );\n"
		"neighbours = ( { interface = \"site-a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; },\n"
		"               { interface = \"site-a\"; ip = \"2001:db8::2\"; mac = \"02:00:00:00:00:03\"; } );\n"
		"route_file = \"routes.txt\";\n"
		"metrics: { listen = \"[::1]:9105\"; interval_ms = 250; };\n");
}

static void test_defaults_and_modes(void)
{
	round_trip(DEVICES TABLES);
	round_trip("eal: { hugepages = \"yes\"; lcores = \"0-3\"; };\n" DEVICES TABLES);
	round_trip("eal: { hugepages = \"auto\"; memory_mb = 0; };\n" DEVICES TABLES);
	/* an escape libconfig reads as a control byte */
	round_trip("eal: { extra_args = [ \"a\\x01b\" ]; };\n" DEVICES TABLES);
}

/* A saved file has every value explicit, workers included, and no route_file. */
static void test_explicit(void)
{
	char in[128], err[CONF_ERR_MAX];
	write_text(tmp_path("min.conf", in, sizeof(in)), "eal: { lcores = \"0-2\"; };\n" DEVICES TABLES);
	struct npsgw_conf *c = conf_load(in, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char *t = written(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "# header\n# second line\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "{ lcore = 1; rx = [ \"p0:0\" ]; }"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "{ lcore = 2; rx = [ ]; }"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "mode = \"0660\";"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "mtu = 1500; addresses = [ \"10.0.0.1/24\" ]; }"));
	CU_ASSERT_PTR_NULL(strstr(t, "route_file"));
	CU_ASSERT_PTR_NULL(strstr(t, "\nroutes ="));
	free(t);
	conf_free(c);
}

/* A model that would not boot (no interfaces) is refused and nothing is left at the path. */
static void test_refused(void)
{
	char in[128], out[128], tmp[160], err[CONF_ERR_MAX];
	write_text(tmp_path("ok.conf", in, sizeof(in)), DEVICES TABLES);
	struct npsgw_conf *c = conf_load(in, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	c->n_interfaces = 0;
	tmp_path("refused.conf", out, sizeof(out));
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	int rc = conf_write_file(c, out, NULL, err, sizeof(err));
	CU_ASSERT_NOT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not load back"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no interfaces"));
	CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	c->n_interfaces = 1;
	rc = conf_write_file(c, "/nonexistent-dir/x.conf", NULL, err, sizeof(err));
	CU_ASSERT_NOT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create /nonexistent-dir/x.conf.tmp"));
	conf_free(c);
}

static void test_differs(void)
{
	char err[CONF_ERR_MAX], what[256];
	struct npsgw_conf *a = conf_load_string(DEVICES TABLES, "a.conf", err);
	static const char b_text[] = "limits: { mbufs = 32768; };\n" DEVICES TABLES
		"routes = ( { vrf = \"main\"; prefix = \"10.1.0.0/16\"; via = \"10.0.0.2\"; } );\n";
	struct npsgw_conf *b = conf_load_string(b_text, "b.conf", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT(conf_differs(a, b, CONF_CMP_BOOT, what, sizeof(what)));
	CU_ASSERT_STRING_EQUAL(what, "limits.mbufs: 16384 / 32768");
	CU_ASSERT(conf_differs(a, b, CONF_CMP_TABLES, what, sizeof(what)));
	CU_ASSERT_STRING_EQUAL(what, "routes (count): 0 / 1");
	b->limits.mbufs = a->limits.mbufs;
	CU_ASSERT(!conf_differs(a, b, CONF_CMP_BOOT, what, sizeof(what)));
	CU_ASSERT_STRING_EQUAL(what, "");
	snprintf(b->devices[0].vdev, sizeof(b->devices[0].vdev), "net_null1");
	CU_ASSERT(conf_differs(a, b, CONF_CMP_BOOT, what, sizeof(what)));
	CU_ASSERT_STRING_EQUAL(what, "devices[0].vdev: \"net_null0\" / \"net_null1\"");
	conf_free(a);
	conf_free(b);
}

static int suite_init(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/npsgw-conf-write.XXXXXX");
	return mkdtemp(tmp_dir) == NULL;
}

static int suite_clean(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
	return system(cmd) != 0;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("conf_write", suite_init, suite_clean);
	CU_add_test(s, "every option round-trips", test_full);
	CU_add_test(s, "defaults, hugepages modes, escapes", test_defaults_and_modes);
	CU_add_test(s, "everything explicit", test_explicit);
	CU_add_test(s, "a file that would not boot is refused", test_refused);
	CU_add_test(s, "first difference", test_differs);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed != 0;
}
