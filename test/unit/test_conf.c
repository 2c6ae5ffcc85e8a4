/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Boot-config loader: a full file with every value checked, defaults, every validation error (file, line and
 * message text), the route file (line grammar, errors, a million lines) and random mutations of a good file.
 */
#include "lib/conf/conf.h"
#include "lib/conf/conf_ext.h"
#include "lib/conf/conf_write.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A minimal valid file, one section per line, so a case can append its own line 4. */
#define DEV_P0 "devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
#define VRF_MAIN "vrfs = ( { name = \"main\"; id = 0; } );\n"
#define IF_A                                                                                                           \
	"interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/24\", "              \
	"\"2001:db8::1/64\" ]; } );\n"
#define BASE DEV_P0 VRF_MAIN IF_A

/* Two VRFs, two interfaces: lines 1..3, for route and neighbour cases on line 4. */
#define BASE2                                                                                                          \
	DEV_P0 "vrfs = ( { name = \"main\"; id = 0; }, { name = \"other\"; id = 1; } );\n"                             \
	       "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/24\", "       \
	       "\"2001:db8::1/64\" ]; }, { name = \"b\"; device = \"p0\"; vlan = 2; vrf = \"other\"; addresses = [ "   \
	       "\"10.1.0.1/24\" ]; } );\n"

static char tmp_dir[64];

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static char *tmp_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tmp_dir, name);
	return buf;
}

struct error_case {
	const char *text;
	unsigned line;
	const char *needles[3]; /* substrings the message must contain */
};

/* Each case must fail with "test.conf:LINE:" and every needle; a mismatch prints the case and the message. */
static void run_error_cases(const struct error_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char err[CONF_ERR_MAX], where[32];
		memset(err, 'x', sizeof(err));
		struct npsgw_conf *conf = conf_load_string(cases[i].text, "test.conf", err);
		snprintf(where, sizeof(where), "test.conf:%u: ", cases[i].line);
		bool ok = conf == NULL && strncmp(err, where, strlen(where)) == 0;
		for (size_t k = 0; k < 3 && ok && cases[i].needles[k] != NULL; k++)
			ok = strstr(err, cases[i].needles[k]) != NULL;
		if (!ok)
			fprintf(stderr, "\ncase %zu: expected %s%s\n  got: %s\n  text: %s\n", i, where,
				cases[i].needles[0], conf == NULL ? err : "(loaded)", cases[i].text);
		CU_ASSERT(ok);
		conf_free(conf);
	}
}

#define RUN_CASES(cases) run_error_cases(cases, sizeof(cases) / sizeof(cases[0]))

static struct npsgw_conf *load_ok(const char *text)
{
	char err[CONF_ERR_MAX];
	struct npsgw_conf *conf = conf_load_string(text, "test.conf", err);
	if (conf == NULL)
		fprintf(stderr, "\nunexpected error: %s\n", err);
	return conf;
}

static const char full_conf[] =
	"# every option\n"
	"eal: { lcores = \"0,2-3\"; memory_mb = 512; hugepages = \"no\"; file_prefix = \"gw1\";\n"
	"       extra_args = [ \"--log-level=lib.eal:debug\", \"--no-telemetry\" ]; };\n"
	"control: { socket = \"/run/npsgw/gw1.sock\"; mode = \"0640\"; group = \"npsgw\"; };\n"
	"limits: { max_vrfs = 8; max_interfaces = 16; max_nexthops = 1024; mbufs = 8192; icmp_rate = 50; };\n"
	"neighbour: { reachable_ms = 20000; retrans_ms = 500; delay_ms = 3000; max_mcast_probes = 4;\n"
	"             max_ucast_probes = 5; stale_ms = 120000; hold_packets = 8; max_neighbours = 1000; };\n"
	"devices = ( { name = \"p0\"; vdev = \"net_af_packet0,iface=veth0\"; rx_queues = 2; mtu = 9000;\n"
	"              rx_desc = 512; tx_desc = 2048; },\n"
	"            { name = \"p1\"; pci = \"00:08.0\"; } );\n"
	"workers = ( { lcore = 2; rx = ( \"p0:0\", \"p1:0\" ); }, { lcore = 3; rx = [ \"p0:1\" ]; } );\n"
	"vrfs = ( { name = \"transit\"; id = 0; fib = \"fast\"; max_routes = 1000; },\n"
	"         { name = \"tenant\"; id = 4294967294; fib = \"compact\"; } );\n"
	"interfaces = ( { name = \"site-a\"; device = \"p0\"; vlan = 100; vrf = \"transit\"; mtu = 1500;\n"
	"                 mac = \"02:00:00:00:00:01\"; addresses = [ \"10.0.0.1/24\", \"2001:db8::1/64\" ]; },\n"
	"               { name = \"t.1\"; device = \"p1\"; vrf = \"tenant\"; addresses = ( \"10.9.0.1/32\" ); } );\n"
	"routes = ( { vrf = \"transit\"; prefix = \"0.0.0.0/0\"; via = \"10.0.0.2\"; dev = \"site-a\"; },\n"
	"           { vrf = \"transit\"; prefix = \"192.0.2.0/24\"; dev = \"site-a\"; },\n"
	"           { vrf = \"transit\"; prefix = \"198.51.100.0/24\"; blackhole = true; },\n"
	"           { vrf = \"transit\"; prefix = \"203.0.113.0/24\"; reject = true; },\n"
	"           { vrf = \"transit\"; prefix = \"2001:db8:1::/48\"; via = \"2001:db8::2\"; },\n"
	"           { vrf = \"tenant\"; prefix = \"0.0.0.0/0\"; target_vrf = \"transit\"; } );\n"
	"neighbours = ( { interface = \"site-a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; },\n"
	"               { interface = \"site-a\"; ip = \"2001:db8::2\"; mac = \"02:00:00:00:00:03\"; } );\n"
	"route_file = \"routes.txt\";\n"
	"metrics: { listen = \"[::1]:9105\"; interval_ms = 250; };\n";

static void check_prefix(const struct addr_prefix *p, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_prefix_fmt(p, buf, sizeof(buf)), expected);
}

static void check_addr(const struct addr *a, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_fmt(a, buf, sizeof(buf)), expected);
}

static void check_full_model(const struct npsgw_conf *c)
{
	CU_ASSERT_STRING_EQUAL(c->eal.lcores, "0,2-3");
	CU_ASSERT_EQUAL(c->eal.memory_mb, 512);
	CU_ASSERT(c->eal.no_huge && !c->eal.huge_auto);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "gw1");
	CU_ASSERT_EQUAL_FATAL(c->eal.n_extra_args, 2);
	CU_ASSERT_STRING_EQUAL(c->eal.extra_args[0], "--log-level=lib.eal:debug");
	CU_ASSERT_STRING_EQUAL(c->eal.extra_args[1], "--no-telemetry");
	CU_ASSERT_STRING_EQUAL(c->control.socket_path, "/run/npsgw/gw1.sock");
	CU_ASSERT_EQUAL(c->control.socket_mode, 0640);
	CU_ASSERT_STRING_EQUAL(c->control.socket_group, "npsgw");
	CU_ASSERT_EQUAL(c->limits.max_vrfs, 8);
	CU_ASSERT_EQUAL(c->limits.max_interfaces, 16);
	CU_ASSERT_EQUAL(c->limits.max_nexthops, 1024);
	CU_ASSERT_EQUAL(c->limits.mbufs, 8192);
	CU_ASSERT_EQUAL(c->limits.icmp_rate, 50);
	CU_ASSERT_EQUAL(c->neigh.reachable_ms, 20000);
	CU_ASSERT_EQUAL(c->neigh.retrans_ms, 500);
	CU_ASSERT_EQUAL(c->neigh.delay_ms, 3000);
	CU_ASSERT_EQUAL(c->neigh.max_mcast_probes, 4);
	CU_ASSERT_EQUAL(c->neigh.max_ucast_probes, 5);
	CU_ASSERT_EQUAL(c->neigh.stale_ms, 120000);
	CU_ASSERT_EQUAL(c->neigh.hold_packets, 8);
	CU_ASSERT_EQUAL(c->neigh.max_neighbours, 1000);
	CU_ASSERT(c->metrics.listen_enabled);
	CU_ASSERT_STRING_EQUAL(c->metrics.listen, "[::1]:9105");
	check_addr(&c->metrics.addr, "::1");
	CU_ASSERT_EQUAL(c->metrics.port, 9105);
	CU_ASSERT_EQUAL(c->metrics.interval_ms, 250);

	CU_ASSERT_EQUAL_FATAL(c->n_devices, 2);
	const struct conf_device *p0 = &c->devices[0], *p1 = &c->devices[1];
	CU_ASSERT_STRING_EQUAL(p0->name, "p0");
	CU_ASSERT_STRING_EQUAL(p0->vdev, "net_af_packet0,iface=veth0");
	CU_ASSERT_STRING_EQUAL(p0->pci, "");
	CU_ASSERT_EQUAL(p0->rx_queues, 2);
	CU_ASSERT_EQUAL(p0->mtu, 9000);
	CU_ASSERT_EQUAL(p0->rx_desc, 512);
	CU_ASSERT_EQUAL(p0->tx_desc, 2048);
	CU_ASSERT_STRING_EQUAL(p1->name, "p1");
	CU_ASSERT_STRING_EQUAL(p1->pci, "0000:00:08.0"); /* normalised */
	CU_ASSERT_STRING_EQUAL(p1->vdev, "");
	CU_ASSERT_EQUAL(p1->rx_queues, 1);
	CU_ASSERT_EQUAL(p1->mtu, 1500);
	CU_ASSERT_EQUAL(p1->rx_desc, 1024);
	CU_ASSERT_EQUAL(p1->tx_desc, 1024);

	CU_ASSERT_EQUAL_FATAL(c->n_workers, 2);
	CU_ASSERT_EQUAL(c->workers[0].lcore, 2);
	CU_ASSERT_EQUAL_FATAL(c->workers[0].n_rxqs, 2);
	CU_ASSERT_STRING_EQUAL(c->workers[0].rxqs[0].device, "p0");
	CU_ASSERT_EQUAL(c->workers[0].rxqs[0].queue, 0);
	CU_ASSERT_STRING_EQUAL(c->workers[0].rxqs[1].device, "p1");
	CU_ASSERT_EQUAL(c->workers[0].rxqs[1].queue, 0);
	CU_ASSERT_EQUAL(c->workers[1].lcore, 3);
	CU_ASSERT_EQUAL_FATAL(c->workers[1].n_rxqs, 1);
	CU_ASSERT_STRING_EQUAL(c->workers[1].rxqs[0].device, "p0");
	CU_ASSERT_EQUAL(c->workers[1].rxqs[0].queue, 1);

	CU_ASSERT_EQUAL_FATAL(c->n_vrfs, 2);
	CU_ASSERT_STRING_EQUAL(c->vrfs[0].name, "transit");
	CU_ASSERT_EQUAL(c->vrfs[0].id, 0);
	CU_ASSERT_EQUAL(c->vrfs[0].fib, CONF_FIB_FAST);
	CU_ASSERT_EQUAL(c->vrfs[0].max_routes, 1000);
	CU_ASSERT_STRING_EQUAL(c->vrfs[1].name, "tenant");
	CU_ASSERT_EQUAL(c->vrfs[1].id, 4294967294U);
	CU_ASSERT_EQUAL(c->vrfs[1].fib, CONF_FIB_COMPACT);
	CU_ASSERT_EQUAL(c->vrfs[1].max_routes, 65536);

	CU_ASSERT_EQUAL_FATAL(c->n_interfaces, 2);
	const struct conf_interface *a = &c->interfaces[0], *t = &c->interfaces[1];
	CU_ASSERT_STRING_EQUAL(a->name, "site-a");
	CU_ASSERT_STRING_EQUAL(a->device, "p0");
	CU_ASSERT_EQUAL(a->vlan, 100);
	CU_ASSERT_STRING_EQUAL(a->vrf, "transit");
	CU_ASSERT_EQUAL(a->mtu, 1500);
	CU_ASSERT(a->has_mac);
	CU_ASSERT_EQUAL(memcmp(a->mac, (uint8_t[]){2, 0, 0, 0, 0, 1}, 6), 0);
	CU_ASSERT_EQUAL_FATAL(a->n_addresses, 2);
	check_prefix(&a->addresses[0], "10.0.0.1/24"); /* host bits kept: it is the interface's own address */
	check_prefix(&a->addresses[1], "2001:db8::1/64");
	CU_ASSERT_STRING_EQUAL(t->name, "t.1");
	CU_ASSERT_EQUAL(t->vlan, 0);
	CU_ASSERT_EQUAL(t->mtu, 1500); /* from p1 */
	CU_ASSERT(!t->has_mac);
	CU_ASSERT_EQUAL_FATAL(t->n_addresses, 1);
	check_prefix(&t->addresses[0], "10.9.0.1/32");

	CU_ASSERT_EQUAL_FATAL(c->n_routes, 6 + 3); /* the section, then the route file */
	const struct conf_route *r = c->routes;
	CU_ASSERT_STRING_EQUAL(r[0].vrf, "transit");
	check_prefix(&r[0].prefix, "0.0.0.0/0");
	CU_ASSERT_EQUAL(r[0].kind, CONF_ROUTE_VIA);
	check_addr(&r[0].via, "10.0.0.2");
	CU_ASSERT_STRING_EQUAL(r[0].dev, "site-a");
	CU_ASSERT_EQUAL(r[1].kind, CONF_ROUTE_DEV);
	CU_ASSERT_STRING_EQUAL(r[1].dev, "site-a");
	check_prefix(&r[1].prefix, "192.0.2.0/24");
	CU_ASSERT_EQUAL(r[2].kind, CONF_ROUTE_BLACKHOLE);
	CU_ASSERT_EQUAL(r[3].kind, CONF_ROUTE_REJECT);
	CU_ASSERT_EQUAL(r[4].kind, CONF_ROUTE_VIA);
	check_addr(&r[4].via, "2001:db8::2");
	CU_ASSERT_STRING_EQUAL(r[4].dev, "");
	CU_ASSERT_EQUAL(r[5].kind, CONF_ROUTE_LEAK);
	CU_ASSERT_STRING_EQUAL(r[5].vrf, "tenant");
	CU_ASSERT_STRING_EQUAL(r[5].target_vrf, "transit");
	check_prefix(&r[6].prefix, "10.20.0.0/16");
	CU_ASSERT_EQUAL(r[6].kind, CONF_ROUTE_VIA);
	CU_ASSERT_EQUAL(r[7].kind, CONF_ROUTE_BLACKHOLE);
	CU_ASSERT_EQUAL(r[8].kind, CONF_ROUTE_LEAK);

	CU_ASSERT_EQUAL_FATAL(c->n_neighbours, 2);
	CU_ASSERT_STRING_EQUAL(c->neighbours[0].interface, "site-a");
	check_addr(&c->neighbours[0].ip, "10.0.0.2");
	CU_ASSERT_EQUAL(memcmp(c->neighbours[0].mac, (uint8_t[]){2, 0, 0, 0, 0, 2}, 6), 0);
	check_addr(&c->neighbours[1].ip, "2001:db8::2");

	CU_ASSERT_PTR_NOT_NULL(conf_find_device(c, "p1"));
	CU_ASSERT_PTR_NULL(conf_find_device(c, "p2"));
	CU_ASSERT_PTR_EQUAL(conf_find_vrf(c, "tenant"), &c->vrfs[1]);
	CU_ASSERT_PTR_NULL(conf_find_vrf(c, "nope"));
	CU_ASSERT_PTR_EQUAL(conf_find_interface(c, "t.1"), &c->interfaces[1]);
	CU_ASSERT_PTR_NULL(conf_find_interface(c, "site-b"));
}

static void test_full_file(void)
{
	char conf_path[128], routes_path[128], err[CONF_ERR_MAX];
	write_file(tmp_path("full.conf", conf_path, sizeof(conf_path)), full_conf);
	write_file(tmp_path("routes.txt", routes_path, sizeof(routes_path)),
		   "# extra routes\n\ntransit 10.20.0.0/16 via 10.0.0.3 dev site-a\r\n   \n"
		   "  transit 10.30.0.0/16 blackhole\ntenant 10.40.0.0/16 vrf transit\n");
	struct npsgw_conf *c = conf_load(conf_path, err);
	if (c == NULL)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	check_full_model(c);
	CU_ASSERT_STRING_EQUAL(c->path, conf_path);
	CU_ASSERT_STRING_EQUAL(c->route_file, routes_path); /* resolved against the config file's directory */
	conf_free(c);
	unlink(conf_path);
	unlink(routes_path);
}

static void test_defaults(void)
{
	struct npsgw_conf *c = load_ok(BASE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->path, "test.conf");
	CU_ASSERT_STRING_EQUAL(c->eal.lcores, "0-1");
	CU_ASSERT_EQUAL(c->eal.memory_mb, 0);
	CU_ASSERT(c->eal.huge_auto && !c->eal.no_huge);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "npsd");
	CU_ASSERT_EQUAL(c->eal.n_extra_args, 0);
	CU_ASSERT_STRING_EQUAL(c->control.socket_path, "/run/npsgw/npsd.sock");
	CU_ASSERT_EQUAL(c->control.socket_mode, 0660);
	CU_ASSERT_STRING_EQUAL(c->control.socket_group, "");
	CU_ASSERT_EQUAL(c->limits.max_vrfs, 4096);
	CU_ASSERT_EQUAL(c->limits.max_interfaces, 1024);
	CU_ASSERT_EQUAL(c->limits.max_nexthops, 131072);
	CU_ASSERT_EQUAL(c->limits.mbufs, 16384);
	CU_ASSERT_EQUAL(c->limits.icmp_rate, 1000);
	CU_ASSERT_EQUAL(c->neigh.reachable_ms, 30000);
	CU_ASSERT_EQUAL(c->neigh.retrans_ms, 1000);
	CU_ASSERT_EQUAL(c->neigh.delay_ms, 5000);
	CU_ASSERT_EQUAL(c->neigh.max_mcast_probes, 3);
	CU_ASSERT_EQUAL(c->neigh.max_ucast_probes, 3);
	CU_ASSERT_EQUAL(c->neigh.stale_ms, 600000);
	CU_ASSERT_EQUAL(c->neigh.hold_packets, 16);
	CU_ASSERT_EQUAL(c->neigh.max_neighbours, 65536);
	CU_ASSERT_FALSE(c->metrics.listen_enabled); /* no HTTP endpoint unless asked for */
	CU_ASSERT_EQUAL(c->metrics.interval_ms, 500);
	CU_ASSERT_EQUAL(c->devices[0].rx_queues, 1);
	CU_ASSERT_EQUAL(c->devices[0].mtu, 1500);
	CU_ASSERT_EQUAL(c->devices[0].rx_desc, 1024);
	CU_ASSERT_EQUAL(c->devices[0].tx_desc, 1024);
	CU_ASSERT_EQUAL(c->vrfs[0].fib, CONF_FIB_FAST);
	CU_ASSERT_EQUAL(c->vrfs[0].max_routes, 65536);
	CU_ASSERT_EQUAL(c->interfaces[0].vlan, 0);
	CU_ASSERT_EQUAL(c->interfaces[0].mtu, 1500);
	CU_ASSERT(!c->interfaces[0].has_mac);
	CU_ASSERT_EQUAL(c->n_routes, 0);
	CU_ASSERT_EQUAL(c->n_neighbours, 0);
	CU_ASSERT_PTR_NULL(c->route_file);
	/* No workers section: the one non-main lcore polls the one queue. */
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 1);
	CU_ASSERT_EQUAL(c->workers[0].lcore, 1);
	CU_ASSERT_EQUAL_FATAL(c->workers[0].n_rxqs, 1);
	CU_ASSERT_STRING_EQUAL(c->workers[0].rxqs[0].device, "p0");
	conf_free(c);

	/* hugepages = "yes": neither forced off nor automatic. */
	c = load_ok(BASE "eal: { hugepages = \"yes\"; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(!c->eal.no_huge && !c->eal.huge_auto);
	conf_free(c);
	/* Interface MTU defaults to its device's. */
	c = load_ok("devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 9000; } );\n" VRF_MAIN IF_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->interfaces[0].mtu, 9000);
	conf_free(c);
}

static void test_workers_dealt(void)
{
	/* Queues dealt round robin in device order, then queue order, over the non-main lcores in listed order. */
	struct npsgw_conf *c =
		load_ok("eal: { lcores = \"3,1-2\"; };\n"
			"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_queues = 3; },\n"
			"            { name = \"p1\"; vdev = \"net_null1\"; rx_queues = 2; } );\n" VRF_MAIN IF_A);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 2);
	static const struct {
		uint32_t lcore;
		const char *queues[3];
	} expected[] = {{1, {"p0:0", "p0:2", "p1:1"}}, {2, {"p0:1", "p1:0", NULL}}};
	for (size_t w = 0; w < 2; w++) {
		const struct conf_worker *worker = &c->workers[w];
		CU_ASSERT_EQUAL(worker->lcore, expected[w].lcore);
		size_t n = expected[w].queues[2] != NULL ? 3 : 2;
		CU_ASSERT_EQUAL_FATAL(worker->n_rxqs, n);
		for (size_t q = 0; q < n; q++) {
			char ref[48];
			snprintf(ref, sizeof(ref), "%s:%u", worker->rxqs[q].device, worker->rxqs[q].queue);
			CU_ASSERT_STRING_EQUAL(ref, expected[w].queues[q]);
		}
	}
	conf_free(c);

	/* More lcores than queues: every lcore still gets a worker, some with nothing to poll. */
	c = load_ok("eal: { lcores = \"0-3\"; };\n" BASE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_workers, 3);
	CU_ASSERT_EQUAL(c->workers[0].n_rxqs, 1);
	CU_ASSERT_EQUAL(c->workers[1].n_rxqs, 0);
	CU_ASSERT_EQUAL(c->workers[2].lcore, 3);
	conf_free(c);
}

static void test_accepted_edges(void)
{
	static const char *const texts[] = {
		/* Limits at their edges. */
		"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_queues = 64; mtu = 9600; rx_desc = 64; "
		"tx_desc = 16384; } );\n" VRF_MAIN IF_A,
		"devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 68; } );\n" VRF_MAIN
		"interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mtu = 68; vlan = 4094; } );\n",
		DEV_P0 "vrfs = ( { name = \"main\"; id = 4294967294; max_routes = 16777216; } );\n"
		       "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; } );\n",
		DEV_P0 "vrfs = ( { name = \"main\"; id = 0x10; max_routes = 16; } );\n"
		       "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; } );\n",
		/* Host addresses /32 and /128, host bits in interface addresses, a 31-character name. */
		DEV_P0 VRF_MAIN
		"interfaces = ( { name = \"abcdefghijklmnopqrstuvwxyz01234\"; device = \"p0\"; vrf = "
		"\"main\"; addresses = [ \"192.0.2.1/32\", \"2001:db8::1/128\", \"10.1.2.3/8\" ]; } );\n",
		/* The same address in two VRFs. */
		BASE2 "\n",
		DEV_P0
		"vrfs = ( { name = \"main\"; id = 0; }, { name = \"other\"; id = 1; } );\n"
		"interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/24\" ]; },\n"
		"  { name = \"b\"; device = \"p0\"; vlan = 5; vrf = \"other\"; addresses = [ \"10.0.0.1/24\" ]; } );\n",
		/* Socket modes, control group, lcores forms. */
		BASE "control: { mode = \"600\"; group = \"\"; };\n",
		BASE "control: { mode = \"0775\"; };\n",
		BASE "eal: { lcores = \"0,2-3,5\"; memory_mb = 0; };\n",
		BASE "eal: { lcores = \"127,0\"; extra_args = ( ); };\n",
		/* Limits exactly met; empty optional lists. */
		BASE "limits: { max_vrfs = 1; max_interfaces = 1; };\nroutes = ( );\nneighbours = ( );\n",
		/* Large integers written with or without the L suffix. */
		BASE "limits: { mbufs = 16777216L; max_nexthops = 16777216; };\n",
		/* via with dev; dev-only; a default route; an IPv6 route via a link-local gateway. */
		BASE2 "routes = ( { vrf = \"main\"; prefix = \"::/0\"; via = \"fe80::1\"; dev = \"a\"; },\n"
		      "           { vrf = \"other\"; prefix = \"10.2.0.0/16\"; dev = \"b\"; },\n"
		      "           { vrf = \"main\"; prefix = \"10.2.0.0/16\"; blackhole = true; reject = false; } );\n",
		/* Neighbours on both families. */
		BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.254\"; mac = \"aa:bb:cc:dd:ee:fe\"; },\n"
		     "  { interface = \"a\"; ip = \"2001:db8::ff\"; mac = \"02:00:00:00:00:09\"; } );\n",
		/* Comments of every kind, and numbers inside strings and comments are left alone. */
		"// c++ comment 99999999999\n/* block 4294967297\n */" BASE "# 12345678901234567890\n"
		"control: { group = \"g99999999999\"; };\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct npsgw_conf *c = load_ok(texts[i]);
		if (c == NULL)
			fprintf(stderr, "  case %zu\n", i);
		CU_ASSERT_PTR_NOT_NULL(c);
		conf_free(c);
	}
}

static void test_syntax_errors(void)
{
	static const struct error_case cases[] = {
		{"devices = ( ;\n", 1, {"syntax error"}},
		{BASE "\n\nlimits: { mbufs = = 1024; };\n", 6, {"syntax error"}},
		{BASE "limits: { mbufs = 1024; mbufs = 2048; };\n", 4, {"duplicate setting"}},
		{BASE "@include \"other.conf\"\n", 4, {"@include is not supported"}},
		{BASE "limits: { mbufs = 99999999999999999999; };\n", 4, {"integer 99999999999999999999 is too large"}},
		/* libconfig would wrap 4294968320 to 1024; the loader sees the real number. */
		{BASE "limits: { mbufs = 4294968320; };\n",
		 4,
		 {"limits.mbufs: 4294968320 is out of range", "512..16777216"}},
		{BASE "limits: { mbufs = 0xFFFFFFFF; };\n", 4, {"4294967295 is out of range"}},
	};
	RUN_CASES(cases);
}

static void test_unknown_keys(void)
{
	static const struct error_case cases[] = {
		{BASE "colour = 1;\n",
		 4,
		 {"unknown key 'colour' at top level", "expected one of: eal, control, limits"}},
		{BASE "eal: { lcore = \"0-1\"; };\n",
		 4,
		 {"eal: unknown key 'lcore'", "lcores, memory_mb, hugepages, file_prefix, extra_args"}},
		{BASE "control: { path = \"/x\"; };\n", 4, {"control: unknown key 'path'", "socket, mode, group"}},
		{BASE "limits: { routes = 1; };\n", 4, {"limits: unknown key 'routes'", "max_vrfs"}},
		{BASE "neighbour: { timeout = 1; };\n", 4, {"neighbour: unknown key 'timeout'", "reachable_ms"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; speed = 10; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0]: unknown key 'speed'", "name, pci, vdev, rx_queues, mtu, rx_desc, tx_desc"}},
		{BASE "workers = ( { lcore = 1; rx = ( \"p0:0\" ); cpu = 1; } );\n",
		 4,
		 {"workers[0]: unknown key 'cpu'", "lcore, rx"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; table = 5; } );\n" IF_A,
		 2,
		 {"vrfs[0]: unknown key 'table'", "name, id, fib, max_routes"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; address = \"x\"; } );\n",
		 3,
		 {"interfaces[0]: unknown key 'address'", "addresses"}},
		{BASE "routes = ( { vrf = \"main\"; prefix = \"10.1.0.0/16\"; gw = \"10.0.0.2\"; } );\n",
		 4,
		 {"routes[0]: unknown key 'gw'", "vrf, prefix, via, dev, blackhole, reject, target_vrf"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; lladdr = \"x\"; } );\n",
		 4,
		 {"neighbours[0]: unknown key 'lladdr'", "interface, ip, mac"}},
	};
	RUN_CASES(cases);
}

static void test_wrong_types(void)
{
	static const struct error_case cases[] = {
		{BASE "limits: { mbufs = \"many\"; };\n",
		 4,
		 {"limits.mbufs: wrong type, got a string (expected an integer)"}},
		{BASE "eal: { lcores = 3; };\n", 4, {"eal.lcores: wrong type, got an integer (expected a string)"}},
		{BASE "eal = 5;\n", 4, {"eal: wrong type", "(expected a group"}},
		{BASE "eal: { extra_args = \"-v\"; };\n",
		 4,
		 {"eal.extra_args: wrong type", "expected an array of strings"}},
		{BASE "eal: { extra_args = [ 1 ]; };\n",
		 4,
		 {"eal.extra_args[0]: wrong type, got an integer", "a string"}},
		{BASE "control: { mode = 660; };\n", 4, {"control.mode: wrong type", "(expected a string)"}},
		{"devices = { name = \"p0\"; };\n" VRF_MAIN IF_A,
		 1,
		 {"devices: wrong type", "expected a list of groups"}},
		{"devices = ( \"p0\" );\n" VRF_MAIN IF_A, 1, {"devices[0]: wrong type, got a string", "a group"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 1500.0; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].mtu: wrong type, got a floating-point number (expected an integer)"}},
		{"devices = ( { name = p0; vdev = \"net_null0\"; } );\n" VRF_MAIN IF_A, 1, {"syntax error"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = \"10.0.0.1/24\";"
		 " } );\n",
		 3,
		 {"interfaces[0].addresses: wrong type", "array of strings"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; vlan = true; } );\n",
		 3,
		 {"interfaces[0].vlan: wrong type, got a boolean (expected an integer)"}},
		{BASE "routes = ( { vrf = \"main\"; prefix = \"10.1.0.0/16\"; blackhole = 1; } );\n",
		 4,
		 {"routes[0].blackhole: wrong type, got an integer", "a boolean"}},
		{BASE "routes = ( { vrf = \"main\"; prefix = \"10.1.0.0/16\"; via = [ \"10.0.0.2\" ]; } );\n",
		 4,
		 {"routes[0].via: wrong type", "(expected a string)"}},
		{BASE "route_file = 5;\n", 4, {"route_file: wrong type", "a string"}},
		{BASE "workers = ( { lcore = \"1\"; } );\n", 4, {"workers[0].lcore: wrong type", "an integer"}},
	};
	RUN_CASES(cases);
}

static void test_ranges(void)
{
	static const struct error_case cases[] = {
		{BASE "eal: { memory_mb = 2000000; };\n",
		 4,
		 {"eal.memory_mb: 2000000 is out of range (expected 0..1048576)"}},
		{BASE "limits: { max_vrfs = 0; };\n", 4, {"limits.max_vrfs: 0 is out of range (expected 1..65536)"}},
		{BASE "limits: { max_interfaces = 65537; };\n", 4, {"(expected 1..65536)"}},
		{BASE "limits: { max_nexthops = 15; };\n", 4, {"(expected 16..16777216)"}},
		{BASE "limits: { mbufs = 511; };\n", 4, {"(expected 512..16777216)"}},
		{BASE "limits: { icmp_rate = 0; };\n",
		 4,
		 {"limits.icmp_rate: 0 is out of range (expected 1..1000000)"}},
		{BASE "neighbour: { reachable_ms = 999; };\n", 4, {"(expected 1000..3600000)"}},
		{BASE "neighbour: { retrans_ms = 50; };\n",
		 4,
		 {"neighbour.retrans_ms: 50 is out of range (expected 100..60000)"}},
		{BASE "neighbour: { delay_ms = 60001; };\n", 4, {"(expected 100..60000)"}},
		{BASE "neighbour: { max_mcast_probes = 11; };\n", 4, {"(expected 1..10)"}},
		{BASE "neighbour: { max_ucast_probes = 0; };\n", 4, {"(expected 1..10)"}},
		{BASE "neighbour: { stale_ms = 86400001; };\n", 4, {"(expected 1000..86400000)"}},
		{BASE "neighbour: { hold_packets = 1025; };\n", 4, {"(expected 1..1024)"}},
		{BASE "neighbour: { max_neighbours = 15; };\n", 4, {"(expected 16..16777216)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_queues = 0; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].rx_queues: 0 is out of range (expected 1..64)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_queues = 65; } );\n" VRF_MAIN IF_A,
		 1,
		 {"(expected 1..64)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 67; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].mtu: 67 is out of range (expected 68..9600)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 9601; } );\n" VRF_MAIN IF_A,
		 1,
		 {"(expected 68..9600)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = -1; } );\n" VRF_MAIN IF_A,
		 1,
		 {"-1 is out of range"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_desc = 32; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].rx_desc: 32 is out of range (expected 64..16384)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; tx_desc = 32768; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].tx_desc: 32768 is out of range (expected 64..16384)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_desc = 1000; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].rx_desc: 1000 is not a power of two"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 4294967295; } );\n" IF_A,
		 2,
		 {"vrfs[0].id: 4294967295 is out of range (expected 0..4294967294)"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = -1; } );\n" IF_A, 2, {"vrfs[0].id: -1 is out of range"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; max_routes = 15; } );\n" IF_A,
		 2,
		 {"vrfs[0].max_routes: 15 is out of range (expected 16..16777216)"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; max_routes = 16777217; } );\n" IF_A,
		 2,
		 {"(expected 16..16777216)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; vlan = 4095; } );\n",
		 3,
		 {"interfaces[0].vlan: 4095 is out of range (expected 0..4094)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mtu = 1501; } );\n",
		 3,
		 {"interfaces[0].mtu: 1501 is out of range (expected 68..1500)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mtu = 67; } );\n",
		 3,
		 {"(expected 68..1500)"}},
		{BASE "workers = ( { lcore = 128; } );\n",
		 4,
		 {"workers[0].lcore: 128 is out of range (expected 0..127)"}},
	};
	RUN_CASES(cases);
}

static void test_required_sections(void)
{
	static const struct error_case cases[] = {
		{VRF_MAIN IF_A, 1, {"missing section 'devices'", "expected a list of at least one device"}},
		{DEV_P0 IF_A, 1, {"missing section 'vrfs'"}},
		{DEV_P0 VRF_MAIN, 1, {"missing section 'interfaces'"}},
		{"", 1, {"missing section 'devices'"}},
		{"devices = ( );\n" VRF_MAIN IF_A, 1, {"devices: no devices (expected at least one)"}},
		{"devices = [ ];\n" VRF_MAIN IF_A, 1, {"devices: no devices"}},
		{DEV_P0 "vrfs = ( );\n" IF_A, 2, {"vrfs: no vrfs (expected at least one)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( );\n", 3, {"interfaces: no interfaces (expected at least one)"}},
		{"devices = ( { vdev = \"net_null0\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0]: missing key 'name' (expected a name)"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; } );\n" IF_A, 2, {"vrfs[0]: missing key 'id'"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; vrf = \"main\"; } );\n",
		 3,
		 {"interfaces[0]: missing key 'device'"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; } );\n",
		 3,
		 {"interfaces[0]: missing key 'vrf'"}},
		{BASE "workers = ( { rx = ( \"p0:0\" ); } );\n", 4, {"workers[0]: missing key 'lcore'"}},
		{BASE "routes = ( { prefix = \"10.1.0.0/16\"; blackhole = true; } );\n",
		 4,
		 {"routes[0]: missing key 'vrf'"}},
		{BASE "routes = ( { vrf = \"main\"; blackhole = true; } );\n", 4, {"routes[0]: missing key 'prefix'"}},
		{BASE "neighbours = ( { ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"neighbours[0]: missing key 'interface'"}},
		{BASE "neighbours = ( { interface = \"a\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"neighbours[0]: missing key 'ip'"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; } );\n",
		 4,
		 {"neighbours[0]: missing key 'mac'"}},
	};
	RUN_CASES(cases);
}

static void test_eal_and_control_errors(void)
{
	static const struct error_case cases[] = {
		{BASE "eal: { lcores = \"0-\"; };\n", 4, {"eal.lcores: \"0-\"", "expected lcore numbers and ranges"}},
		{BASE "eal: { lcores = \"2-1\"; };\n", 4, {"range 2-1 runs backwards"}},
		{BASE "eal: { lcores = \"0,1,0\"; };\n", 4, {"lcore 0 is listed twice"}},
		{BASE "eal: { lcores = \"0-128\"; };\n", 4, {"lcore 128 is out of range (expected 0..127)"}},
		{BASE "eal: { lcores = \"0;1\"; };\n", 4, {"unexpected ';'"}},
		{BASE "eal: { lcores = \"\"; };\n", 4, {"eal.lcores: empty string"}},
		{BASE "eal: { lcores = \"0 1\"; };\n", 4, {"unexpected ' '"}},
		{BASE "eal: { lcores = \"0\"; };\n", 4, {"eal.lcores: \"0\" leaves no lcore for workers"}},
		{BASE "eal: { hugepages = \"maybe\"; };\n",
		 4,
		 {"eal.hugepages: \"maybe\" is not a hugepages mode (expected \"auto\", \"yes\" or \"no\")"}},
		{BASE "eal: { hugepages = \"automatic\"; };\n", 4, {"is not a hugepages mode"}},
		{BASE "eal: { file_prefix = \"a/b\"; };\n", 4, {"eal.file_prefix: \"a/b\" is not a valid file prefix"}},
		{BASE "eal: { file_prefix = \"\"; };\n", 4, {"eal.file_prefix: empty string"}},
		{BASE "eal: { extra_args = [ \"\" ]; };\n", 4, {"eal.extra_args[0]: empty string"}},
		{BASE "control: { mode = \"0666\"; };\n",
		 4,
		 {"control.mode: mode 0666 makes the control socket world-writable"}},
		{BASE "control: { mode = \"1777\"; };\n",
		 4,
		 {"mode 1777 has bits beyond 0777 (expected at most 0777)"}},
		{BASE "control: { mode = \"0x1\"; };\n", 4, {"\"0x1\" is not a permission mode", "such as \"0660\""}},
		{BASE "control: { mode = \"0698\"; };\n", 4, {"\"0698\" is not a permission mode"}},
		{BASE "control: { mode = \"\"; };\n", 4, {"control.mode: empty string"}},
		{BASE "control: { socket = "
		      "\"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaaaaaaaaaaaaaa\"; };\n",
		 4,
		 {"control.socket: string too long, 109 characters (expected at most 107)"}},
		{BASE "control: { socket = \"\"; };\n", 4, {"control.socket: empty string"}},
		{BASE "control: { group = \"abcdefghijklmnopqrstuvwxyzabcdefg\"; };\n",
		 4,
		 {"control.group: string too long", "(expected at most 31)"}},
	};
	RUN_CASES(cases);
}

static void test_device_errors(void)
{
	static const struct error_case cases[] = {
		{"devices = ( { name = \"bad name\"; vdev = \"net_null0\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].name: \"bad name\" is not a valid name", "1..31 characters of A-Z a-z 0-9 _ . -"}},
		{"devices = ( { name = \"abcdefghijklmnopqrstuvwxyz012345\"; vdev = \"net_null0\"; } );\n" VRF_MAIN
			 IF_A,
		 1,
		 {"is not a valid name"}},
		{"devices = ( { name = \"\"; vdev = \"net_null0\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"\"\" is not a valid name"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; },\n { name = \"p0\"; vdev = \"net_null1\"; } "
		 ");\n" VRF_MAIN IF_A,
		 2,
		 {"devices[1].name: duplicate device name p0"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; pci = \"0000:00:08.0\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0]: both pci and vdev (expected exactly one of them)"}},
		{"devices = ( { name = \"p0\"; } );\n" VRF_MAIN IF_A, 1, {"devices[0]: neither pci and vdev"}},
		{"devices = ( { name = \"p0\"; pci = \"0000:00:20.0\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].pci: \"0000:00:20.0\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)"}},
		{"devices = ( { name = \"p0\"; pci = \"eth0\"; } );\n" VRF_MAIN IF_A, 1, {"is not a PCI address"}},
		{"devices = ( { name = \"p0\"; pci = \"0000:00:08.8\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"is not a PCI address"}},
		{"devices = ( { name = \"p0\"; pci = \"0000:00:08.0\"; },\n { name = \"p1\"; pci = \"00:08.0\"; } "
		 ");\n" VRF_MAIN IF_A,
		 2,
		 {"devices[1].pci: PCI address 0000:00:08.0 is already used by device p0"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_tap0,iface=a\"; },\n"
		 "{ name = \"p1\"; vdev = \"net_tap0,iface=b\"; } );\n" VRF_MAIN IF_A,
		 2,
		 {"devices[1].vdev: vdev name net_tap0 is already used by device p0"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; },\n { name = \"p1\"; vdev = \"net_null0\"; } "
		 ");\n" VRF_MAIN IF_A,
		 2,
		 {"vdev name net_null0 is already used by device p0"}},
		{"devices = ( { name = \"p0\"; vdev = \",iface=a\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"has no driver instance name"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_tap0, iface=a\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"contains white space"}},
		{"devices = ( { name = \"p0\"; vdev = \"\"; } );\n" VRF_MAIN IF_A,
		 1,
		 {"devices[0].vdev: empty string"}},
	};
	RUN_CASES(cases);

	/* At most 32 devices (DPDK's port limit). */
	char text[4096];
	size_t used = (size_t)snprintf(text, sizeof(text), "devices = (");
	for (int i = 0; i < 33; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "%s{ name = \"p%d\"; vdev = \"net_null%d\"; }", i ? "," : "", i, i);
	snprintf(text + used, sizeof(text) - used, ");\n" VRF_MAIN IF_A);
	struct error_case many = {text, 1, {"devices: 33 devices (expected at most 32)"}};
	run_error_cases(&many, 1);
}

#define TWO_DEVICES                                                                                                    \
	"eal: { lcores = \"0-3\"; };\n"                                                                                \
	"devices = ( { name = \"p0\"; vdev = \"net_null0\"; rx_queues = 2; }, { name = \"p1\"; vdev = \"net_null1\"; " \
	"} );\n" VRF_MAIN IF_A

static void test_worker_errors(void)
{
	static const struct error_case cases[] = {
		{TWO_DEVICES "workers = ( { lcore = 5; rx = ( \"p0:0\" ); } );\n",
		 5,
		 {"workers[0].lcore: lcore 5 is not in eal.lcores \"0-3\""}},
		{TWO_DEVICES "workers = ( { lcore = 0; rx = ( \"p0:0\" ); } );\n",
		 5,
		 {"workers[0].lcore: lcore 0 is the main (control) lcore"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\" ); },\n { lcore = 1; rx = ( \"p0:1\" ); } );\n",
		 6,
		 {"workers[1].lcore: lcore 1 already has a worker"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0\" ); } );\n",
		 5,
		 {"workers[0].rx[0]: \"p0\" is not an rx queue (expected DEVICE:QUEUE such as \"p0:0\")"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:x\" ); } );\n", 5, {"\"p0:x\" is not an rx queue"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \":0\" ); } );\n", 5, {"\":0\" is not an rx queue"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p9:0\" ); } );\n",
		 5,
		 {"workers[0].rx[0]: unknown device p9 (expected a name from devices)"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\",\n \"p1:1\" ); } );\n",
		 6,
		 {"workers[0].rx[1]: queue 1 of device p1 does not exist (expected 0..0: rx_queues is 1)"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\", \"p1:0\" ); },\n"
			     "  { lcore = 2; rx = ( \"p0:1\", \"p0:0\" ); } );\n",
		 6,
		 {"workers[1].rx[1]: queue p0:0 is already polled by the worker on lcore 1"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\", \"p0:0\" ); } );\n", 5, {"already polled"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\", \"p0:1\" ); } );\n",
		 5,
		 {"workers: queue p1:0 is not polled by any worker"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\", \"p1:0\" ); } );\n",
		 5,
		 {"workers: queue p0:1 is not polled by any worker"}},
		{TWO_DEVICES "workers = ( );\n", 5, {"workers: queue p0:0 is not polled by any worker"}},
		{TWO_DEVICES "workers = ( { lcore = 1; rx = \"p0:0\"; } );\n", 5, {"workers[0].rx: wrong type"}},
	};
	RUN_CASES(cases);

	/* A worker may list no queues as long as every queue is polled by someone. */
	struct npsgw_conf *c = load_ok(TWO_DEVICES "workers = ( { lcore = 1; rx = ( \"p0:0\", \"p1:0\", \"p0:1\" ); },"
						   " { lcore = 2; } );\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->n_workers, 2);
	CU_ASSERT_EQUAL(c->workers[0].n_rxqs, 3);
	CU_ASSERT_EQUAL(c->workers[1].n_rxqs, 0);
	conf_free(c);
}

static void test_vrf_and_interface_errors(void)
{
	static const struct error_case cases[] = {
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; }, { name = \"main\"; id = 1; } );\n" IF_A,
		 2,
		 {"vrfs[1].name: duplicate vrf name main"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 7; },\n { name = \"b\"; id = 7; } );\n" IF_A,
		 3,
		 {"vrfs[1].id: id 7 is already used by vrf main (expected unique ids)"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; fib = \"slow\"; } );\n" IF_A,
		 2,
		 {"vrfs[0].fib: \"slow\" is not a FIB kind (expected \"fast\" or \"compact\")"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; fib = 1; } );\n" IF_A, 2, {"vrfs[0].fib: wrong type"}},
		{"limits: { max_vrfs = 1; };\n" DEV_P0
		 "vrfs = ( { name = \"main\"; id = 0; },\n { name = \"b\"; id = 1; } );\n" IF_A,
		 4,
		 {"vrfs[1]: 2 vrfs exceed limits.max_vrfs (expected at most 1)"}},
		{"limits: { max_interfaces = 1; };\n" DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; },\n"
		 "  { name = \"b\"; device = \"p0\"; vlan = 3; vrf = \"main\"; } );\n",
		 5,
		 {"interfaces[1]: 2 interfaces exceed limits.max_interfaces (expected at most 1)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; },\n"
				 "  { name = \"a\"; device = \"p0\"; vlan = 3; vrf = \"main\"; } );\n",
		 4,
		 {"interfaces[1].name: duplicate interface name a"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p7\"; vrf = \"main\"; } );\n",
		 3,
		 {"interfaces[0].device: unknown device p7 (expected a name from devices)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"blue\"; } );\n",
		 3,
		 {"interfaces[0].vrf: unknown vrf blue (expected a name from vrfs)"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; vlan = 10; },\n"
				 "  { name = \"b\"; device = \"p0\"; vlan = 10; vrf = \"main\"; } );\n",
		 4,
		 {"interfaces[1]: device p0 vlan 10 is already interface a"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; },\n"
				 "  { name = \"b\"; device = \"p0\"; vrf = \"main\"; } );\n",
		 4,
		 {"device p0 vlan 0 is already interface a"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mac = \"02:00:00:00:00\"; } );\n",
		 3,
		 {"interfaces[0].mac: \"02:00:00:00:00\" is not a MAC address (expected aa:bb:cc:dd:ee:ff)"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mac = \"01:00:5e:00:00:01\"; "
		 "} );\n",
		 3,
		 {"01:00:5e:00:00:01 is not a unicast MAC address"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mac = \"00:00:00:00:00:00\"; "
		 "} );\n",
		 3,
		 {"is not a unicast MAC address"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\";\n"
				 "  addresses = [ \"10.0.0.1/24\",\n \"10.0.0.300/24\" ]; } );\n",
		 5,
		 {"interfaces[0].addresses[1]: \"10.0.0.300/24\" is not an address with prefix length"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/33\" "
		 "]; } );\n",
		 3,
		 {"is not an address with prefix length"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/0\" "
		 "]; } );\n",
		 3,
		 {"interfaces[0].addresses[0]: 10.0.0.1/0 has prefix length 0 (expected 1..32)"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"::1/0\" ]; } "
		 ");\n",
		 3,
		 {"::1/0 has prefix length 0 (expected 1..128)"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"10.0.0.1/24\" "
		 "]; },\n  { name = \"b\"; device = \"p0\"; vlan = 4; vrf = \"main\"; addresses = [ \"10.0.0.1/16\" "
		 "]; } );\n",
		 4,
		 {"interfaces[1].addresses[0]: address 10.0.0.1/16 is already on interface a of vrf main"}},
		{DEV_P0 VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; addresses = [ \"2001:db8::1/64\""
		 ", \"2001:db8::1/64\" ]; } );\n",
		 3,
		 {"already on interface a"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; mtu = 1200;\n"
				 "  addresses = [ \"10.0.0.1/24\", \"2001:db8::1/64\" ]; } );\n",
		 3,
		 {"interfaces[0].mtu: mtu 1200 is below 1280 but the interface has an IPv6 address (expected mtu >= "
		  "1280)"}},
		{"devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 1200; } );\n" VRF_MAIN
		 "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\";\n"
		 "  addresses = [ \"10.0.0.1/24\",\n \"2001:db8::1/64\" ]; } );\n",
		 5,
		 {"interfaces[0].addresses[1]: mtu 1200 (from its device) is below 1280"}},
	};
	RUN_CASES(cases);
}

static void test_route_errors(void)
{
	static const struct error_case cases[] = {
		{BASE2 "routes = ( { vrf = \"blue\"; prefix = \"10.5.0.0/16\"; blackhole = true; } );\n",
		 4,
		 {"routes[0]: unknown vrf blue (expected a name from vrfs)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.1/16\"; blackhole = true; } );\n",
		 4,
		 {"routes[0].prefix: host bits set in 10.5.0.1/16 (expected 10.5.0.0/16)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"2001:db8::1/32\"; blackhole = true; } );\n",
		 4,
		 {"host bits set in 2001:db8::1/32 (expected 2001:db8::/32)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/40\"; blackhole = true; } );\n",
		 4,
		 {"routes[0].prefix: \"10.5.0.0/40\" is not a prefix"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; } );\n",
		 4,
		 {"routes[0]: no next hop (expected exactly one of: via (with optional dev), dev, blackhole = true, "
		  "reject = true, target_vrf)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; blackhole = false; } );\n",
		 4,
		 {"no next hop"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; blackhole = true; reject = true; } );\n",
		 4,
		 {"routes[0]: conflicting next hops"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; via = \"10.0.0.2\"; target_vrf = "
		       "\"other\"; } );\n",
		 4,
		 {"conflicting next hops"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; dev = \"a\"; blackhole = true; } );\n",
		 4,
		 {"conflicting next hops"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; via = \"10.0.0.256\"; } );\n",
		 4,
		 {"routes[0].via: \"10.0.0.256\" is not an IP address"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; via = \"2001:db8::2\"; } );\n",
		 4,
		 {"routes[0]: gateway 2001:db8::2 is IPv6 but prefix 10.5.0.0/16 is IPv4"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"2001:db8:5::/48\"; via = \"10.0.0.2\"; } );\n",
		 4,
		 {"gateway 10.0.0.2 is IPv4 but prefix 2001:db8:5::/48 is IPv6"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; dev = \"b\"; } );\n",
		 4,
		 {"routes[0]: interface b is in vrf other (expected an interface of vrf main)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; via = \"10.0.0.2\"; dev = \"b\"; } );\n",
		 4,
		 {"interface b is in vrf other"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; dev = \"zz\"; } );\n",
		 4,
		 {"routes[0]: unknown interface zz (expected a name from interfaces)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; dev = \"z z\"; } );\n",
		 4,
		 {"routes[0].dev: \"z z\" is not a valid name"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; target_vrf = \"blue\"; } );\n",
		 4,
		 {"routes[0]: unknown target vrf blue"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; target_vrf = \"main\"; } );\n",
		 4,
		 {"target vrf main is the route's own vrf (expected another vrf)"}},
		{BASE2 "routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; blackhole = true; },\n"
		       "  { vrf = \"main\"; prefix = \"10.5.0.0/16\"; reject = true; } );\n",
		 5,
		 {"routes[1]: duplicate route 10.5.0.0/16 in vrf main (expected each prefix once per vrf)"}},
		{DEV_P0 "vrfs = ( { name = \"main\"; id = 0; max_routes = 16; } );\n" IF_A
			"routes = ( { vrf = \"main\"; prefix = \"10.1.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.2.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.3.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.4.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.5.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.6.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.7.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.8.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.9.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.10.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.11.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.12.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.13.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.14.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.15.0.0/16\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"2001:db8:1::/48\"; reject = true; },"
			"{ vrf = \"main\"; prefix = \"10.16.0.0/16\"; reject = true; },\n"
			"{ vrf = \"main\"; prefix = \"10.17.0.0/16\"; reject = true; } );\n",
		 5,
		 {"routes[17]: vrf main already has 16 IPv4 routes (expected at most max_routes 16)"}},
	};
	RUN_CASES(cases);
}

static void test_neighbour_errors(void)
{
	static const struct error_case cases[] = {
		{BASE "neighbours = ( { interface = \"q\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"neighbours[0].interface: unknown interface q (expected a name from interfaces)"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"neighbours[0].ip: \"10.0.0\" is not an IP address"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.1.2\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"neighbours[0].ip: 10.0.1.2 is not on a subnet of interface a"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"2001:db9::2\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"2001:db9::2 is not on a subnet of interface a"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.1\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 4,
		 {"10.0.0.1 is the address of interface a itself"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00\"; } );\n",
		 4,
		 {"neighbours[0].mac: \"02:00:00:00:00\" is not a MAC address"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; mac = \"ff:ff:ff:ff:ff:ff\"; } );\n",
		 4,
		 {"neighbours[0].mac: ff:ff:ff:ff:ff:ff is not a unicast MAC address"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; mac = \"33:33:00:00:00:01\"; } );\n",
		 4,
		 {"is not a unicast MAC address"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; mac = \"00:00:00:00:00:00\"; } );\n",
		 4,
		 {"is not a unicast MAC address"}},
		{BASE "neighbours = ( { interface = \"a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; },\n"
		      "  { interface = \"a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:03\"; } );\n",
		 5,
		 {"neighbours[1]: duplicate neighbour 10.0.0.2 on interface a"}},
		{BASE "neighbour: { max_neighbours = 16; };\nneighbours = ( "
		      "{ interface = \"a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.3\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.4\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.5\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.6\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.7\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.8\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.9\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.10\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.11\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.12\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.13\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.14\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.15\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.16\"; mac = \"02:00:00:00:00:02\"; },"
		      "{ interface = \"a\"; ip = \"10.0.0.17\"; mac = \"02:00:00:00:00:02\"; },\n"
		      "{ interface = \"a\"; ip = \"10.0.0.18\"; mac = \"02:00:00:00:00:02\"; } );\n",
		 6,
		 {"neighbours[16]: 17 neighbours exceed neighbour.max_neighbours (expected at most 16)"}},
	};
	RUN_CASES(cases);
}

static void test_first_error_wins(void)
{
	/* Two errors: the one met first (eal before devices) is reported, and only it. */
	char err[CONF_ERR_MAX];
	struct npsgw_conf *c =
		conf_load_string("devices = ( { name = \"p0\"; vdev = \"net_null0\"; mtu = 1; } );\n" VRF_MAIN IF_A
				 "eal: { memory_mb = -5; };\n",
				 "test.conf", err);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_STRING_EQUAL(err, "test.conf:4: eal.memory_mb: -5 is out of range (expected 0..1048576)");
}

static void test_route_line_good(void)
{
	struct conf_route r;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(conf_parse_route_line("main 10.0.0.0/8 via 192.0.2.1", &r, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(r.vrf, "main");
	check_prefix(&r.prefix, "10.0.0.0/8");
	CU_ASSERT_EQUAL(r.kind, CONF_ROUTE_VIA);
	check_addr(&r.via, "192.0.2.1");
	CU_ASSERT_STRING_EQUAL(r.dev, "");

	CU_ASSERT_EQUAL_FATAL(
		conf_parse_route_line("\tmain  2001:db8::/32 via fe80::1 dev up-link.1 \r\n", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.kind, CONF_ROUTE_VIA);
	check_addr(&r.via, "fe80::1");
	CU_ASSERT_STRING_EQUAL(r.dev, "up-link.1");

	CU_ASSERT_EQUAL_FATAL(conf_parse_route_line("main 0.0.0.0/0 dev a", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.kind, CONF_ROUTE_DEV);
	CU_ASSERT_STRING_EQUAL(r.dev, "a");
	CU_ASSERT_EQUAL_FATAL(conf_parse_route_line("main 192.0.2.1 blackhole", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.kind, CONF_ROUTE_BLACKHOLE);
	check_prefix(&r.prefix, "192.0.2.1/32");
	CU_ASSERT_EQUAL_FATAL(conf_parse_route_line("main ::/0 reject", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.kind, CONF_ROUTE_REJECT);
	CU_ASSERT_EQUAL_FATAL(conf_parse_route_line("tenant 0.0.0.0/0 vrf transit", &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.kind, CONF_ROUTE_LEAK);
	CU_ASSERT_STRING_EQUAL(r.target_vrf, "transit");
}

static void test_route_line_bad(void)
{
	static const struct {
		const char *line, *needle;
	} cases[] = {
		{"", "too few words"},
		{"main 10.0.0.0/8", "too few words (expected '<vrf> <prefix> via <gateway>"},
		{"main 10.0.0.1/8 blackhole", "host bits set in 10.0.0.1/8 (expected 10.0.0.0/8)"},
		{"main 10.0.0.0/33 blackhole", "\"10.0.0.0/33\" is not a prefix"},
		{"main banana blackhole", "\"banana\" is not a prefix"},
		{"m@in 10.0.0.0/8 blackhole", "\"m@in\" is not a valid vrf name"},
		{"main 10.0.0.0/8 drop", "unknown next hop \"drop\""},
		{"main 10.0.0.0/8 via", "missing word after 'via'"},
		{"main 10.0.0.0/8 via 1.2.3", "\"1.2.3\" is not a gateway address"},
		{"main 10.0.0.0/8 via 1.2.3.4 dev", "missing word after 'dev'"},
		{"main 10.0.0.0/8 via 1.2.3.4 out a", "unexpected \"out\" after the gateway"},
		{"main 10.0.0.0/8 via 1.2.3.4 dev a b", "unexpected \"b\""},
		{"main 10.0.0.0/8 dev", "missing word after 'dev'"},
		{"main 10.0.0.0/8 dev a extra", "unexpected \"extra\""},
		{"main 10.0.0.0/8 dev a/b", "\"a/b\" is not a valid interface name"},
		{"main 10.0.0.0/8 blackhole now", "unexpected \"now\""},
		{"main 10.0.0.0/8 reject # comment", "unexpected \"#\""},
		{"main 10.0.0.0/8 vrf", "missing word after 'vrf'"},
		{"main 10.0.0.0/8 vrf a b", "unexpected \"b\""},
		{"main 10.0.0.0/8 vrf abcdefghijklmnopqrstuvwxyz0123456", "is not a valid vrf name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf_route r;
		char err[512] = "";
		bool ok = conf_parse_route_line(cases[i].line, &r, err, sizeof(err)) == -1 &&
			  strstr(err, cases[i].needle) != NULL;
		if (!ok)
			fprintf(stderr, "\nline \"%s\": expected %s, got %s\n", cases[i].line, cases[i].needle, err);
		CU_ASSERT(ok);
	}
	char long_line[5000];
	memset(long_line, 'a', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	struct conf_route r;
	char err[256];
	CU_ASSERT_EQUAL(conf_parse_route_line(long_line, &r, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line longer than"));
}

/* Load BASE2 plus a route_file whose content is routes, from the temp dir; returns the model or NULL with err. */
static struct npsgw_conf *load_with_route_file(const char *extra, const char *routes, char err[CONF_ERR_MAX])
{
	char conf_path[128], routes_path[128], text[2048];
	tmp_path("rf.conf", conf_path, sizeof(conf_path));
	write_file(tmp_path("rf.txt", routes_path, sizeof(routes_path)), routes);
	snprintf(text, sizeof(text), BASE2 "%s\nroute_file = \"rf.txt\";\n", extra);
	return conf_load_string(text, conf_path, err);
}

static void test_route_file_errors(void)
{
	static const struct {
		const char *extra, *routes;
		unsigned line;
		const char *needle;
	} cases[] = {
		{"", "main 10.5.0.0/16 blackhole\n\n# x\nmain 10.6.0.0/16 sideways\n", 4,
		 "unknown next hop \"sideways\""},
		{"", "main 10.5.0.1/16 blackhole\n", 1, "host bits set in 10.5.0.1/16"},
		{"", "blue 10.5.0.0/16 blackhole\n", 1, "unknown vrf blue (expected a name from vrfs)"},
		{"", "main 10.5.0.0/16 dev b\n", 1, "interface b is in vrf other (expected an interface of vrf main)"},
		{"", "main 10.5.0.0/16 via 2001:db8::2\n", 1,
		 "gateway 2001:db8::2 is IPv6 but prefix 10.5.0.0/16 is IPv4"},
		{"", "main 10.5.0.0/16 vrf main\n", 1, "target vrf main is the route's own vrf"},
		{"", "main 10.5.0.0/16 vrf blue\n", 1, "unknown target vrf blue"},
		{"", "main 10.5.0.0/16 dev nope\n", 1, "unknown interface nope"},
		{"", "main 10.5.0.0/16 blackhole\nother 10.5.0.0/16 blackhole\nmain 10.5.0.0/16 reject\n", 3,
		 "duplicate route 10.5.0.0/16 in vrf main"},
		/* A duplicate of a route from the routes section. */
		{"routes = ( { vrf = \"main\"; prefix = \"10.5.0.0/16\"; reject = true; } );",
		 "main 10.5.0.0/16 reject\n", 1, "duplicate route 10.5.0.0/16 in vrf main"},
	};
	char routes_path[128];
	tmp_path("rf.txt", routes_path, sizeof(routes_path));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[CONF_ERR_MAX], where[192];
		struct npsgw_conf *c = load_with_route_file(cases[i].extra, cases[i].routes, err);
		snprintf(where, sizeof(where), "%s:%u: ", routes_path, cases[i].line);
		bool ok = c == NULL && strncmp(err, where, strlen(where)) == 0 && strstr(err, cases[i].needle) != NULL;
		if (!ok)
			fprintf(stderr, "\nroute file case %zu: expected %s%s\n  got: %s\n", i, where, cases[i].needle,
				c == NULL ? err : "(loaded)");
		CU_ASSERT(ok);
		conf_free(c);
	}

	/* A missing file is an error of the route_file setting in the config file. */
	char err[CONF_ERR_MAX];
	struct npsgw_conf *c = conf_load_string(BASE "route_file = \"/nonexistent/routes.txt\";\n", "test.conf", err);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(err, "test.conf:4: route_file: cannot open \"/nonexistent/routes.txt\": No such"));
	c = conf_load_string(BASE "route_file = \"\";\n", "test.conf", err);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "test.conf:4: route_file: empty string"));

	/* Routes from the file follow those of the section; comments, blank and CRLF lines are skipped. */
	c = load_with_route_file(
		"routes = ( { vrf = \"main\"; prefix = \"10.4.0.0/16\"; reject = true; } );",
		"# header\r\n\r\n  # indented comment\nother 10.5.0.0/16 dev b\r\nmain ::/0 via 2001:db8::9\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_routes, 3);
	check_prefix(&c->routes[0].prefix, "10.4.0.0/16");
	CU_ASSERT_STRING_EQUAL(c->routes[1].vrf, "other");
	CU_ASSERT_EQUAL(c->routes[1].kind, CONF_ROUTE_DEV);
	check_prefix(&c->routes[2].prefix, "::/0");
	CU_ASSERT_STRING_EQUAL(c->route_file, routes_path);
	conf_free(c);

	/* An empty route file is fine. */
	c = load_with_route_file("", "", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->n_routes, 0);
	conf_free(c);
	unlink(routes_path);
}

static void write_big_route_file(const char *path, long lines)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (long i = 0; i < lines; i++) {
		if (i % 2 == 0)
			fprintf(f, "main %ld.%ld.%ld.0/24 via 10.0.0.%ld\n", 11 + (i >> 16), (i >> 8) & 255, i & 255,
				2 + i % 200);
		else
			fprintf(f, "main 2001:db8:%lx:%lx::/64 blackhole\n", (i >> 16) & 0xffff, i & 0xffff);
	}
	fclose(f);
}

/* Load the big route file; returns the seconds taken, or -1 when it did not load with `lines` routes. */
static double time_big_load(const char *text, const char *conf_path, long lines)
{
	char err[CONF_ERR_MAX];
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct npsgw_conf *c = conf_load_string(text, conf_path, err);
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (c == NULL)
		fprintf(stderr, "\n%s\n", err);
	bool ok = c != NULL && c->n_routes == (size_t)lines;
	conf_free(c);
	return ok ? (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9 : -1;
}

/*
 * A million routes load in time linear in the line count: ten times the lines may take about ten times as long
 * (a quadratic duplicate check would take a hundred times). A ratio, not a deadline, so it holds under valgrind.
 */
static void test_route_file_million(void)
{
	const char *env = getenv("TEST_CONF_ROUTE_LINES");
	long lines = env != NULL ? atol(env) : 1000000;
	char routes_path[128], conf_path[128], err[CONF_ERR_MAX], text[1024];
	tmp_path("big.txt", routes_path, sizeof(routes_path));
	tmp_path("big.conf", conf_path, sizeof(conf_path));
	snprintf(text, sizeof(text),
		 DEV_P0 "vrfs = ( { name = \"main\"; id = 0; max_routes = 16777216; } );\n" IF_A
			"route_file = \"big.txt\";\n");
	write_big_route_file(routes_path, lines / 10);
	double tenth = time_big_load(text, conf_path, lines / 10);
	write_big_route_file(routes_path, lines);
	double full = time_big_load(text, conf_path, lines);
	fprintf(stderr, " (%ld routes in %.2f s, a tenth in %.2f s) ", lines, full, tenth);
	CU_ASSERT_FATAL(tenth >= 0 && full >= 0);
	CU_ASSERT(full < 30 * tenth + 1.0);

	/* The duplicate is found at the end, with its line number. */
	FILE *f = fopen(routes_path, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "main 11.0.0.0/24 reject\n");
	fclose(f);
	struct npsgw_conf *c = conf_load_string(text, conf_path, err);
	CU_ASSERT_PTR_NULL(c);
	char where[192];
	snprintf(where, sizeof(where), "%s:%ld: duplicate route 11.0.0.0/24 in vrf main", routes_path, lines + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, where));
	conf_free(c);
	unlink(routes_path);
}

static void test_load_file_errors(void)
{
	char err[CONF_ERR_MAX], path[128];
	CU_ASSERT_PTR_NULL(conf_load("/nonexistent/npsd.conf", err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/npsd.conf:0: cannot open the configuration file: No such"));
	/* Errors in a real file carry its path. */
	write_file(tmp_path("bad.conf", path, sizeof(path)), BASE "\nlimits: { mbufs = 1; };\n");
	CU_ASSERT_PTR_NULL(conf_load(path, err));
	char where[256];
	snprintf(where, sizeof(where), "%s:5: limits.mbufs: 1 is out of range", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, where));
	write_file(path, BASE "limits: {\n");
	CU_ASSERT_PTR_NULL(conf_load(path, err));
	snprintf(where, sizeof(where), "%s:5: syntax error", path);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, where));
	unlink(path);
}

/* The shipped example must load (it is run from the repository root). */
static void test_metrics_section(void)
{
	static const struct {
		const char *listen;
		const char *addr;
		uint16_t port;
	} good[] = {
		{"127.0.0.1:9105", "127.0.0.1", 9105}, {"0.0.0.0:1", "0.0.0.0", 1},
		{"[::]:65535", "::", 65535},	       {"[2001:db8::5]:080", "2001:db8::5", 80},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), BASE "metrics: { listen = \"%s\"; };\n", good[i].listen);
		struct npsgw_conf *c = load_ok(text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT(c->metrics.listen_enabled);
		check_addr(&c->metrics.addr, good[i].addr);
		CU_ASSERT_EQUAL(c->metrics.port, good[i].port);
		conf_free(c);
	}
	struct npsgw_conf *c = load_ok(BASE "metrics: { interval_ms = 100; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_FALSE(c->metrics.listen_enabled); /* the snapshot alone still feeds DPDK telemetry */
	CU_ASSERT_EQUAL(c->metrics.interval_ms, 100);
	conf_free(c);

	static const struct error_case cases[] = {
		{BASE "metrics: { listen = \"127.0.0.1\"; };\n",
		 4,
		 {"metrics.listen: \"127.0.0.1\": no port", "ADDRESS:PORT"}},
		{BASE "metrics: { listen = \"127.0.0.1:\"; };\n", 4, {"no port"}},
		{BASE "metrics: { listen = \"127.0.0.1:0\"; };\n", 4, {"bad port '0' (expected 1..65535)"}},
		{BASE "metrics: { listen = \"127.0.0.1:65536\"; };\n", 4, {"bad port '65536'"}},
		{BASE "metrics: { listen = \"127.0.0.1:99999999999999999999\"; };\n", 4, {"bad port"}},
		{BASE "metrics: { listen = \"127.0.0.1:91x\"; };\n", 4, {"bad port '91x'"}},
		{BASE "metrics: { listen = \"localhost:9105\"; };\n", 4, {"'localhost' is not an IPv4 address"}},
		{BASE "metrics: { listen = \"::1:9105\"; };\n", 4, {"needs brackets"}},
		{BASE "metrics: { listen = \"[::1]9105\"; };\n", 4, {"needs brackets and a port"}},
		{BASE "metrics: { listen = \"[10.0.0.1]:9105\"; };\n", 4, {"'10.0.0.1' is not an IPv6 address"}},
		{BASE "metrics: { listen = \"\"; };\n", 4, {"metrics.listen: empty string"}},
		{BASE "metrics: { listen = 9105; };\n", 4, {"metrics.listen: wrong type"}},
		{BASE "metrics: { listen = \"[2001:db8:1:2:3:4:5:6]:9105 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; };\n",
		 4,
		 {"is too long"}},
		{BASE "metrics: { interval_ms = 99; };\n", 4, {"metrics.interval_ms"}},
		{BASE "metrics: { interval_ms = 60001; };\n", 4, {"metrics.interval_ms"}},
		{BASE "metrics: { port = 9105; };\n", 4, {"metrics: unknown key 'port'", "listen, interval_ms"}},
		{BASE "metrics = ( 1 );\n", 4, {"metrics"}},
	};
	RUN_CASES(cases);
}

static void test_example_file(void)
{
	char err[CONF_ERR_MAX];
	if (access("conf/example.conf", R_OK) != 0) {
		fprintf(stderr, " (conf/example.conf not found from here: skipped) ");
		return;
	}
	struct npsgw_conf *c = conf_load("conf/example.conf", err);
	if (c == NULL)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_PTR_NOT_NULL(c);
	conf_free(c);
}

static const char fuzz_seed_conf[] =
	"eal: { lcores = \"0-2\"; memory_mb = 512; hugepages = \"auto\"; file_prefix = \"npsd\";\n"
	"  extra_args = [ \"--log-level=lib.eal:debug\" ]; };\n"
	"control: { socket = \"/run/npsgw/npsd.sock\"; mode = \"0660\"; group = \"\"; };\n"
	"limits: { max_vrfs = 4096; max_interfaces = 1024; max_nexthops = 131072; mbufs = 16384; icmp_rate = 1000; };\n"
	"neighbour: { reachable_ms = 30000; retrans_ms = 1000; delay_ms = 5000; max_mcast_probes = 3;\n"
	"  max_ucast_probes = 3; stale_ms = 600000; hold_packets = 16; max_neighbours = 65536; };\n"
	"devices = ( { name = \"p0\"; vdev = \"net_af_packet0,iface=veth0\"; rx_queues = 2; mtu = 1500; rx_desc = "
	"1024;\n"
	"  tx_desc = 1024; }, { name = \"p1\"; pci = \"0000:00:08.0\"; } );\n"
	"workers = ( { lcore = 1; rx = ( \"p0:0\", \"p1:0\" ); }, { lcore = 2; rx = ( \"p0:1\" ); } );\n"
	"vrfs = ( { name = \"transit\"; id = 0; fib = \"fast\"; max_routes = 65536; },\n"
	"  { name = \"tenant\"; id = 7; fib = \"compact\"; } );\n"
	"interfaces = ( { name = \"site-a\"; device = \"p0\"; vlan = 100; vrf = \"transit\"; mtu = 1500;\n"
	"  mac = \"02:00:00:00:00:01\"; addresses = [ \"10.0.0.1/24\", \"2001:db8::1/64\" ]; },\n"
	"  { name = \"t\"; device = \"p1\"; vrf = \"tenant\"; addresses = [ \"10.1.0.1/24\" ]; } );\n"
	"routes = ( { vrf = \"transit\"; prefix = \"0.0.0.0/0\"; via = \"10.0.0.2\"; dev = \"site-a\"; },\n"
	"  { vrf = \"transit\"; prefix = \"192.0.2.0/24\"; dev = \"site-a\"; },\n"
	"  { vrf = \"transit\"; prefix = \"198.51.100.0/24\"; blackhole = true; },\n"
	"  { vrf = \"transit\"; prefix = \"203.0.113.0/24\"; reject = true; },\n"
	"  { vrf = \"tenant\"; prefix = \"0.0.0.0/0\"; target_vrf = \"transit\"; } );\n"
	"neighbours = ( { interface = \"site-a\"; ip = \"10.0.0.2\"; mac = \"02:00:00:00:00:02\"; } ); # end\n";

/* Random deletions, replacements and insertions never crash; each result loads or names the file first. */
static void test_fuzz_mutations(void)
{
	static const char interesting[] = "{}()[];:=,\"#/*@-.0123456789xLl\n \tabcz_";
	size_t base_len = strlen(fuzz_seed_conf);
	char *text = malloc(base_len + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	struct npsgw_conf *seed = load_ok(fuzz_seed_conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed); /* the unmutated text is valid */
	conf_free(seed);
	unsigned loaded = 0, failed = 0;
	for (int round = 0; round < 4000; round++) {
		memcpy(text, fuzz_seed_conf, base_len + 1);
		size_t len = base_len;
		unsigned edits = 1 + rnd(4);
		for (unsigned e = 0; e < edits && len > 1; e++) {
			size_t at = rnd((uint32_t)len);
			char c = rnd(3) == 0 ? (char)(1 + rnd(255)) : interesting[rnd(sizeof(interesting) - 1)];
			switch (rnd(3)) {
			case 0: /* delete */
				memmove(text + at, text + at + 1, len - at);
				len--;
				break;
			case 1: /* replace */
				text[at] = c;
				break;
			default: /* insert */
				memmove(text + at + 1, text + at, len - at + 1);
				text[at] = c;
				len++;
				break;
			}
		}
		text[len] = '\0';
		char err[CONF_ERR_MAX];
		memset(err, 'x', sizeof(err));
		struct npsgw_conf *c = conf_load_string(text, "fuzz.conf", err);
		if (c != NULL) {
			loaded++;
			conf_free(c);
			continue;
		}
		failed++;
		bool ok = memchr(err, '\0', sizeof(err)) != NULL && strncmp(err, "fuzz.conf:", 10) == 0;
		if (!ok)
			fprintf(stderr, "\nround %d: bad message \"%.80s\" for:\n%s\n", round, err, text);
		CU_ASSERT(ok);
	}
	free(text);
	CU_ASSERT(loaded > 0 && failed > 0);
}

static int suite_init(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_conf.XXXXXX");
	return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int suite_clean(void)
{
	char path[128];
	unlink(tmp_path("rf.txt", path, sizeof(path)));
	unlink(tmp_path("big.txt", path, sizeof(path)));
	return rmdir(tmp_dir);
}

/* Interfaces of a function's kind (tunnels): no device, their own MTU, written back and compared. */
static void test_interface_kinds(void)
{
	static const struct error_case cases[] = {
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"t\"; kind = \"gre\"; vrf = \"main\"; } );\n",
		 3,
		 {"interfaces[0].kind: unknown interface kind \"gre\""}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"t\"; kind = \"ipsec\";\n device = \"p0\"; vrf = \"main\"; } );\n",
		 4,
		 {"interfaces[0].device: device is for device ports (expected none with kind \"ipsec\")"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"t\"; kind = \"ipsec\"; vlan = 3; vrf = \"main\"; } );\n",
		 3,
		 {"vlan is for device ports"}},
		{DEV_P0 VRF_MAIN "interfaces = ( { name = \"t\"; kind = \"ipsec\"; vrf = \"main\"; mtu = 9001; } );\n",
		 3,
		 {"interfaces[0].mtu", "9000"}},
	};
	RUN_CASES(cases);
	struct npsgw_conf *c = load_ok(DEV_P0 VRF_MAIN
				       "interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; },\n"
				       "  { name = \"t\"; kind = \"ipsec\"; vrf = \"main\"; addresses = [\"169.254.0.1/30\"]; },\n"
				       "  { name = \"u\"; kind = \"ipsec\"; vrf = \"main\"; mtu = 1380; } );\n");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(c->interfaces[1].kind, "ipsec");
	CU_ASSERT_STRING_EQUAL(c->interfaces[1].device, "");
	CU_ASSERT_EQUAL(c->interfaces[1].mtu, CONF_TUNNEL_MTU_DEFAULT);
	CU_ASSERT_EQUAL(c->interfaces[2].mtu, 1380);
	CU_ASSERT_STRING_EQUAL(c->interfaces[0].kind, "");
	/* Written and read back: the same model. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_FATAL(f != NULL && conf_write(f, c, NULL) == 0);
	fclose(f);
	CU_ASSERT(strstr(text, "kind = \"ipsec\"") != NULL);
	struct npsgw_conf *back = load_ok(text);
	CU_ASSERT_FATAL(back != NULL);
	char what[128];
	CU_ASSERT(!conf_differs(c, back, ~0u, what, sizeof(what)));
	/* A different kind is a difference. */
	snprintf(back->interfaces[2].kind, sizeof(back->interfaces[2].kind), "other");
	CU_ASSERT(conf_differs(c, back, ~0u, what, sizeof(what)));
	CU_ASSERT(strstr(what, "kind") != NULL);
	free(text);
	conf_free(back);
	conf_free(c);
}

int main(void)
{
	conf_kind_register("ipsec"); /* as the IPsec function does at start-up (nf_register_conf) */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("conf", suite_init, suite_clean);
	CU_add_test(s, "full file, every value", test_full_file);
	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "workers dealt round robin", test_workers_dealt);
	CU_add_test(s, "accepted edge values", test_accepted_edges);
	CU_add_test(s, "syntax errors", test_syntax_errors);
	CU_add_test(s, "unknown keys", test_unknown_keys);
	CU_add_test(s, "wrong types", test_wrong_types);
	CU_add_test(s, "ranges", test_ranges);
	CU_add_test(s, "required sections and keys", test_required_sections);
	CU_add_test(s, "eal and control errors", test_eal_and_control_errors);
	CU_add_test(s, "device errors", test_device_errors);
	CU_add_test(s, "worker errors", test_worker_errors);
	CU_add_test(s, "vrf and interface errors", test_vrf_and_interface_errors);
	CU_add_test(s, "interface kinds (tunnels)", test_interface_kinds);
	CU_add_test(s, "route errors", test_route_errors);
	CU_add_test(s, "neighbour errors", test_neighbour_errors);
	CU_add_test(s, "first error wins", test_first_error_wins);
	CU_add_test(s, "route line good", test_route_line_good);
	CU_add_test(s, "route line bad", test_route_line_bad);
	CU_add_test(s, "route file", test_route_file_errors);
	CU_add_test(s, "route file with a million lines", test_route_file_million);
	CU_add_test(s, "conf_load file errors", test_load_file_errors);
	CU_add_test(s, "metrics section", test_metrics_section);
	CU_add_test(s, "example file", test_example_file);
	CU_add_test(s, "fuzz mutations", test_fuzz_mutations);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures == 0 ? 0 : 1;
}
