/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * npsd: the npsgw data plane. Loads and validates the whole config before touching anything, checks the devices
 * exist, starts EAL, ports, one graph per worker lcore, then serves the control socket, ARP/NDP and timers on the
 * main lcore until SIGTERM. Set-up is a straight line that unwinds in reverse on error.
 *
 * Lifecycle under systemd (packaging/npsd.service, Type=notify): READY=1 once the ports are started and the workers
 * run; WATCHDOG=1 while the control loop turns and every worker is making progress; on SIGTERM/SIGINT STOPPING=1,
 * a short drain (workers keep running while the control thread flushes what it holds), then an orderly stop that
 * closes the ports, releases EAL memory and removes this instance's hugepage files. Exit status 0.
 */
#define _GNU_SOURCE /* dladdr() */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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
#include "dataplane/flow_steer.h"
#include "dataplane/metrics.h"
#include "dataplane/port_state.h"
#include "dataplane/prometheus.h"
#include "dataplane/sd_notify.h"
#include "dataplane/selfcheck.h"
#include "dataplane/stats.h"
#include "dataplane/telemetry.h"
#include "dataplane/tap.h"
#include "dataplane/txn.h"

#define MAX_EAL_ARGS 256
#define PUNT_BURST 64
#define TIMER_PERIOD_MS 100
#define DRAIN_MS 200 /* after SIGTERM: workers run on while the control thread sends what it still holds */
#define WORKER_STALL_MS 2000 /* a worker whose loop clock is older than this stops the watchdog keep-alives */

/* Set by SIGTERM/SIGINT: the control loop ends, the drain starts; dp.quit (workers) is set after the drain. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
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

/*
 * DPDK comes from its shared libraries (make DPDK_LINK=shared, the default), not built into npsd. Else no secondary
 * process may attach (--no-shconf, and no rte_pdump_init()): a secondary process's mempool names its handler by an
 * index into each process's own handler table, and a static npsd fills that table in another order than the plugin
 * loader of Debian's dpdk-dumpcap, which hands npsd its pool to copy captured packets into: npsd crashed.
 */
static bool dpdk_linked_shared(void)
{
	Dl_info where;
	return dladdr((void *)rte_eal_init, &where) != 0 && where.dli_fname != NULL &&
	       strstr(where.dli_fname, "librte_eal.so") != NULL;
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
	if (!dpdk_linked_shared())
		ARG("--no-shconf"); /* no secondary process may attach: see dpdk_linked_shared() */
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

/* A port's link came back: announce its interfaces' addresses again (peers may have flushed our MAC). */
static void announce_ports(uint32_t port_mask)
{
	for (uint32_t i = 1; port_mask != 0 && i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL || ifc->port >= 32 || !(port_mask & (1u << ifc->port)))
			continue;
		for (unsigned j = 0; j < ifc->n_addrs; j++)
			neigh_announce(ifc, &ifc->addrs[j].addr);
	}
}

/* Is every worker's loop turning? (its clock is refreshed once per graph walk) */
static bool workers_alive(uint64_t now)
{
	static bool reported[DP_MAX_WORKERS];
	bool all = true;
	for (unsigned i = 0; i < dp.n_workers; i++) {
		uint64_t seen = dp.workers[i].now_ms;
		bool stalled = now > seen && now - seen > WORKER_STALL_MS;
		if (stalled && !reported[i])
			fprintf(stderr, "npsd: worker %u (lcore %u) stalled for %" PRIu64 " ms: watchdog keep-alives stop\n",
				i, dp.workers[i].lcore, now - seen);
		reported[i] = stalled;
		all &= !stalled;
	}
	return all;
}

static void watchdog_poll(uint64_t now)
{
	static uint64_t next_ping;
	uint64_t period = sd_watchdog_period_ms();
	if (period == 0 || now < next_ping)
		return;
	next_ping = now + period;
	if (workers_alive(now))
		sd_notify_send("WATCHDOG=1");
}

/* One turn of the control thread's work; the timers run every TIMER_PERIOD_MS. */
static void control_turn(struct ctl_server *srv, uint64_t *next_timer)
{
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
	watchdog_poll(now);
	if (now >= *next_timer) {
		neigh_timers(now);
		events_poll_links();
		announce_ports(ports_poll_state(now));
		*next_timer = now + TIMER_PERIOD_MS;
	}
}

static void control_loop(struct ctl_server *srv)
{
	uint64_t next_timer = 0;
	while (!stop_requested)
		control_turn(srv, &next_timer);
}

/* SIGTERM: stop taking new work, let the workers empty their hand-off rings and what the control thread queued. */
static void drain(struct ctl_server *srv)
{
	uint64_t next_timer = 0, end = cp_now_ms() + DRAIN_MS;
	while (cp_now_ms() < end)
		control_turn(srv, &next_timer);
}

/*
 * EAL leaves the hugepage files of a primary process behind (<hugetlbfs>/<prefix>map_N), keeping their pages
 * taken until the next start with the same prefix. Remove this instance's files once EAL is cleaned up.
 */
static void remove_hugepage_files(const char *prefix)
{
	FILE *mounts = fopen("/proc/mounts", "r");
	char line[512], dir[256], fstype[64], stem[96], path[512];
	unsigned removed = 0;
	if (mounts == NULL)
		return;
	snprintf(stem, sizeof(stem), "%smap_", prefix);
	while (fgets(line, sizeof(line), mounts)) {
		if (sscanf(line, "%*s %255s %63s", dir, fstype) != 2 || strcmp(fstype, "hugetlbfs") != 0)
			continue;
		DIR *d = opendir(dir);
		for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
			const char *tail = e->d_name + strlen(stem);
			if (strncmp(e->d_name, stem, strlen(stem)) != 0 || *tail == '\0' ||
			    strspn(tail, "0123456789") != strlen(tail))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			removed += unlink(path) == 0;
		}
		if (d != NULL)
			closedir(d);
	}
	fclose(mounts);
	if (removed)
		fprintf(stderr, "npsd: released %u hugepage file(s) of prefix '%s'\n", removed, prefix);
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
	char perr[CP_ERR_MAX];
	if (ports_precheck(conf, perr, sizeof(perr)) != 0) {
		fprintf(stderr, "npsd: %s\n", perr);
		conf_free(conf);
		return 1;
	}
	sd_notify_init();
	bool eal_up = false;
	static char eal_store[16384];
	char *eal_argv[MAX_EAL_ARGS];
	int eal_argc = build_eal_args(conf, eal_argv, eal_store, sizeof(eal_store));
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "npsd: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		goto err_conf;
	}
	eal_up = true;
	/* Lets dpdk-dumpcap (a secondary process: needs hugepages) capture any port of the running daemon. */
	if (!dpdk_linked_shared())
		fprintf(stderr, "npsd: DPDK is linked statically (make DPDK_LINK=static): DPDK secondary processes such as "
				"dpdk-dumpcap are not served, as their buffers would crash this one; npsctl capture works\n");
	else if (rte_eal_process_type() == RTE_PROC_PRIMARY && rte_pdump_init() != 0)
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
	unsigned sc_warn = selfcheck_run(conf, stderr);
	flow_steer_apply(stderr);
	if (prometheus_start(&conf->metrics, cerr, sizeof(cerr))) {
		fprintf(stderr, "npsd: %s\n", cerr);
		goto err_workers;
	}
	nf_started();
	announce_addresses();
	ports_poll_state(cp_now_ms()); /* learn the links' initial state */
	fprintf(stderr, "npsd: ready: %u worker(s), %u port(s), control socket %s\n", dp.n_workers, dp.n_ports,
		conf->control.socket_path);
	sd_notify_sendf("READY=1\nMAINPID=%ld\nSTATUS=%u worker(s), %u/%u port link(s) up, self-check: %u "
			"warning(s), steering: %s",
			(long)getpid(), dp.n_workers, ports_links_up(), dp.n_ports, sc_warn, flow_steer_summary());
	control_loop(srv);
	fprintf(stderr, "npsd: stopping: draining for %d ms\n", DRAIN_MS);
	sd_notify_send("STOPPING=1\nSTATUS=draining");
	drain(srv);
	txn_fini();
	status = 0;

err_workers:
	prometheus_stop();
	metrics_fini();
	workers_stop();
	events_init(NULL);
	ctl_server_close(srv);
err_ports:
	flow_steer_flush();
	nf_fini();
	stats_free();
	ports_stop();
err_eal:
	rte_pdump_uninit();
	rte_eal_cleanup();
	if (eal_up)
		remove_hugepage_files(conf->eal.file_prefix[0] ? conf->eal.file_prefix : "npsd");
err_conf:
	if (status == 0)
		fprintf(stderr, "npsd: stopped\n");
	conf_free(conf);
	return status;
}
