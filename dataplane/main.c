/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * npsd: the npsgw data plane. Loads and validates the whole config before touching anything, starts EAL, ports,
 * one graph per worker lcore, then serves the control socket, ARP/NDP and timers on the main lcore until SIGTERM.
 * Set-up is a straight line that unwinds in reverse on error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "dataplane/cp.h"
#include "nf/nf.h"
#include "dataplane/ctl_cmds.h"
#include "dataplane/events.h"
#include "dataplane/metrics.h"
#include "dataplane/prometheus.h"
#include "dataplane/stats.h"
#include "dataplane/telemetry.h"
#include "dataplane/tap.h"
#include "dataplane/txn.h"

#define MAX_EAL_ARGS 256
#define PUNT_BURST 64
#define TIMER_PERIOD_MS 100

static void on_signal(int sig)
{
	__atomic_store_n(&dp.quit, true, __ATOMIC_RELAXED);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: npsd -c FILE        run with the configuration FILE\n"
		     "       npsd --check-config FILE   validate FILE and exit (0 = valid)\n"
		     "       npsd --dump-commands       print the control command reference (Markdown)\n"
		     "       npsd -h | --help\n");
}

/* Are there free hugepages? (hugepages = "auto" uses them when there are, else runs with --no-huge) */
static bool hugepages_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long free_pages = 0;
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
			break;
	fclose(f);
	return free_pages > 0;
}

static int build_eal_args(const struct npsgw_conf *c, char **argv, char *store, size_t store_len)
{
	int argc = 0;
	size_t used = 0;
#define ARG(...)                                                                                                      \
	do {                                                                                                          \
		int n = snprintf(store + used, store_len - used, __VA_ARGS__);                                        \
		argv[argc++] = store + used;                                                                          \
		used += (size_t)n + 1;                                                                                \
	} while (0)
	ARG("npsd");
	/* An explicit --lcores map in extra_args (e.g. several lcores on one CPU) replaces -l. */
	bool lcore_map = false;
	for (size_t i = 0; i < c->eal.n_extra_args; i++)
		lcore_map |= strncmp(c->eal.extra_args[i], "--lcores", 8) == 0;
	if (!lcore_map) {
		ARG("-l");
		ARG("%s", c->eal.lcores);
	}
	ARG("--file-prefix=%s", c->eal.file_prefix[0] ? c->eal.file_prefix : "npsd");
	bool no_huge = c->eal.no_huge || (c->eal.huge_auto && !hugepages_available());
	if (no_huge)
		ARG("--no-huge");
	if (c->eal.memory_mb || no_huge)
		ARG("-m%u", c->eal.memory_mb ? c->eal.memory_mb : 2048);
	bool any_pci = false;
	for (size_t i = 0; i < c->n_devices; i++) {
		if (c->devices[i].vdev[0]) {
			ARG("--vdev=%s", c->devices[i].vdev);
		} else {
			ARG("-a%s", c->devices[i].pci);
			any_pci = true;
		}
	}
	if (!any_pci)
		ARG("--no-pci");
	for (size_t i = 0; i < c->eal.n_extra_args && argc < MAX_EAL_ARGS - 1; i++)
		ARG("%s", c->eal.extra_args[i]);
#undef ARG
	argv[argc] = NULL;
	return argc;
}

static void announce_addresses(void)
{
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		for (unsigned j = 0; ifc != NULL && j < ifc->n_addrs; j++)
			neigh_announce(ifc, &ifc->addrs[j].addr);
	}
}

static void control_loop(struct ctl_server *srv)
{
	uint64_t next_timer = 0;
	while (!__atomic_load_n(&dp.quit, __ATOMIC_RELAXED)) {
		struct rte_mbuf *m[PUNT_BURST];
		unsigned n = rte_ring_dequeue_burst(dp.punt, (void **)m, PUNT_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			neigh_handle_punt(m[i]);
		/* Block in poll only when there is nothing punted to work on. */
		ctl_server_poll(srv, n ? 0 : 1);
		tap_poll();
		txn_poll();
		uint64_t now = cp_now_ms();
		metrics_snapshot_update(now);
		nf_poll(now);
		if (now >= next_timer) {
			neigh_timers(now);
			events_poll_links();
			next_timer = now + TIMER_PERIOD_MS;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check-config", required_argument, NULL, 'C'},
		{"dump-commands", no_argument, NULL, 'D'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	bool check_only = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 'C':
			file = optarg;
			check_only = true;
			break;
		case 'D':
			ctl_dump_commands(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (file == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	char err[CONF_ERR_MAX];
	nf_register_conf(); /* the network functions' sections are part of the file */
	struct npsgw_conf *conf = conf_load(file, err);
	if (conf == NULL) {
		fprintf(stderr, "npsd: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration is valid (%zu devices, %zu VRFs, %zu interfaces, %zu routes)\n", file,
		       conf->n_devices, conf->n_vrfs, conf->n_interfaces, conf->n_routes);
		conf_free(conf);
		return 0;
	}

	int status = 1;
	static char eal_store[16384];
	char *eal_argv[MAX_EAL_ARGS];
	int eal_argc = build_eal_args(conf, eal_argv, eal_store, sizeof(eal_store));
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "npsd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		goto err_conf;
	}
	/* Lets dpdk-dumpcap (a secondary process: needs hugepages) capture any port of the running daemon. */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY && rte_pdump_init() != 0)
		fprintf(stderr, "npsd: port capture with dpdk-dumpcap unavailable: %s\n", rte_strerror(rte_errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, txn_sighup); /* sets a flag: the reload runs in the control loop */
	signal(SIGPIPE, SIG_IGN);

	char cerr[CP_ERR_MAX];
	struct ctl_server *srv = NULL;
	if (cp_tables_init(conf, cerr, sizeof(cerr)) || tap_init(cerr, sizeof(cerr)) ||
	    ports_init(conf, cerr, sizeof(cerr)) || cp_apply_conf(conf, cerr, sizeof(cerr)) ||
	    nf_register_features(cerr, sizeof(cerr)) || nf_boot(conf, cerr, sizeof(cerr)) ||
	    graphs_create(cerr, sizeof(cerr))) {
		fprintf(stderr, "npsd: %s\n", cerr);
		goto err_eal;
	}
	tap_attach();
	srv = ctl_server_open(conf->control.socket_path, conf->control.socket_mode, conf->control.socket_group,
			      ctl_handle, NULL, cerr, sizeof(cerr));
	if (srv == NULL) {
		fprintf(stderr, "npsd: control socket %s: %s\n", conf->control.socket_path, cerr);
		goto err_ports;
	}
	events_init(srv);
	metrics_init(conf->metrics.interval_ms);
	if (telemetry_init() < 0)
		fprintf(stderr, "npsd: warning: cannot register the /npsgw telemetry commands\n");
	if (ports_start(cerr, sizeof(cerr)) || workers_start(cerr, sizeof(cerr))) {
		fprintf(stderr, "npsd: %s\n", cerr);
		goto err_workers;
	}
	if (prometheus_start(&conf->metrics, cerr, sizeof(cerr))) {
		fprintf(stderr, "npsd: %s\n", cerr);
		goto err_workers;
	}
	nf_started();
	announce_addresses();
	fprintf(stderr, "npsd: ready: %u worker(s), %u port(s), control socket %s\n", dp.n_workers, dp.n_ports,
		conf->control.socket_path);
	control_loop(srv);
	fprintf(stderr, "npsd: stopping\n");
	txn_fini();
	status = 0;

err_workers:
	prometheus_stop();
	metrics_fini();
	workers_stop();
	events_init(NULL);
	ctl_server_close(srv);
err_ports:
	nf_fini();
	stats_free();
	ports_stop();
err_eal:
	rte_pdump_uninit();
	rte_eal_cleanup();
err_conf:
	conf_free(conf);
	return status;
}
