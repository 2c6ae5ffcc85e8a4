/* SPDX-License-Identifier: BSD-3-Clause */
/* The command table: words, required and optional keys, one line of help. docs/CONTROL.md is generated from it. */
#include <stdio.h>
#include <string.h>

#include "dataplane/ctl_cmds.h"
#include "dataplane/ctl_deploy.h"
#include "dataplane/events.h"
#include "nf/nf.h"

static CTL_HANDLER(cmd_help);
static CTL_HANDLER(cmd_version);

const struct ctl_cmd ctl_commands[] = {
	{"help", "", "", "list the commands", cmd_help},
	{"version", "", "", "protocol and daemon version", cmd_version},
	{"show interfaces", "", "", "interfaces with device, VLAN, VRF, MAC, MTU, state, addresses", cmd_show_interfaces},
	{"show vrfs", "", "", "VRFs with their route counts", cmd_show_vrfs},
	{"show routes", "", "vrf family skip limit", "routes (all VRFs or one; family 4 or 6; paged)", cmd_show_routes},
	{"show neighbours", "", "interface", "ARP and IPv6 neighbour entries with their state", cmd_show_neighbours},
	{"show workers", "", "", "workers, their lcores and the rx queues each polls", cmd_show_workers},
	{"show stats", "", "worker", "port, node (calls, packets, cycles/packet), drop and control counters",
	 cmd_show_stats},
	{"show drops", "", "worker", "packets dropped, by reason", cmd_show_drops},
	{"show graph", "", "worker", "the worker's pipeline as Graphviz dot", cmd_show_graph},
	{"graph profile", "", "state",
	 "time every node call (on|off; default off): the cycles columns of show stats; costs ~6 cycles/packet",
	 cmd_graph_profile},
	{"graph express", "", "state",
	 "the express path (on|off; default on): plain forwarded IPv4 and IPv6 packets skip the lookup and rewrite "
	 "nodes; shows what holds it off (profile, capture or trace, operator), and how IPv6 lookups walk the FIB "
	 "(level-by-level, or rte_fib6 when DPDK's tables were not found)",
	 cmd_graph_express},
	{"capture start", "point file", "count snaplen vrf filter",
	 "capture packets at nodes (comma list; drops, rx, tx, rx:IFACE, tx:IFACE) into a pcapng file or FIFO; filter: pcap syntax",
	 cmd_capture_start},
	{"capture stop", "", "", "stop the capture and close its file", cmd_capture_stop},
	{"capture status", "", "", "the running capture: points, file, packets written, remaining, lost",
	 cmd_capture_status},
	{"trace start", "", "count filter", "trace the next packets (default 10; filter: pcap syntax) through the nodes",
	 cmd_trace_start},
	{"trace stop", "", "", "stop tracing (what was recorded stays for trace show)", cmd_trace_stop},
	{"trace show", "", "", "each traced packet's path: node by node, with what each decided", cmd_trace_show},
	{"path-check", "in src dst", "vrf proto sport dport size ttl",
	 "dry run: push a described packet through the pipeline, never sent; prints the path and the verdict",
	 cmd_path_check},
	{"vrf add", "name id", "fib max_routes", "create a VRF (fib fast|compact)", cmd_vrf_add},
	{"vrf del", "name", "", "delete an empty VRF", cmd_vrf_del},
	{"interface add", "name vrf", "device kind vlan mtu mac",
	 "create an interface on a device (VLAN 0 = untagged), or a tunnel: kind ipsec (no device)", cmd_iface_add},
	{"interface del", "name", "", "delete an interface no route points through", cmd_iface_del},
	{"interface set", "name", "mtu state", "change MTU or state (up|down)", cmd_iface_set},
	{"address add", "interface prefix", "", "add an address (with its connected subnet)", cmd_addr_add},
	{"address del", "interface prefix", "", "remove an address", cmd_addr_del},
	{"route add", "vrf prefix", "via dev type target_vrf",
	 "add a route: via GW [dev IF] | dev IF | type blackhole|reject | target_vrf VRF (leak)", cmd_route_add},
	{"route del", "vrf prefix", "", "delete a route", cmd_route_del},
	{"neighbour add", "interface ip mac", "", "add a static neighbour", cmd_neigh_add},
	{"neighbour del", "interface ip", "", "delete a neighbour (static or learned)", cmd_neigh_del},
	{"config diff", "file", "", "the operations a commit of the libconfig FILE (on the npsd host) would do, in order",
	 cmd_config_diff},
	{"config commit", "file", "",
	 "apply the libconfig FILE as the whole configuration: all or nothing (boot-only sections need a restart)",
	 cmd_config_commit},
	{"config rollback", "", "", "go back to the configuration before the last commit or rollback",
	 cmd_config_rollback},
	{"config save", "file", "", "write the running configuration as a boot file (absolute path on the npsd host)",
	 cmd_config_save},
	{"reload", "", "", "commit the boot file npsd was started with (as SIGHUP does)", cmd_reload},
	{"subscribe", "", "events",
	 "receive events on this connection: link, neighbour, config, firewall, nat, ipsec (comma list; default all)",
	 cmd_subscribe},
	{"unsubscribe", "", "", "stop receiving events on this connection", cmd_unsubscribe},
};
const size_t ctl_n_commands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);

/* The core's table first, then each network function's (nf/registry.c). */
static size_t all_tables(struct ctl_cmd_table *out, size_t max)
{
	out[0] = (struct ctl_cmd_table){ctl_commands, ctl_n_commands};
	out[1] = (struct ctl_cmd_table){ctl_deploy_commands, ctl_deploy_n_commands};
	return 2 + nf_ctl_tables(out + 2, max - 2);
}

static int cmd_help(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "commands", "usage", "description", NULL);
	struct ctl_cmd_table tables[16];
	size_t nt = all_tables(tables, 16);
	for (size_t k = 0; k < nt; k++)
		for (size_t i = 0; i < tables[k].n; i++) {
			char usage[256];
			ctl_table_row(t, ctl_cmd_usage(&tables[k].cmds[i], usage, sizeof(usage)), tables[k].cmds[i].help);
		}
	return 0;
}

static int cmd_version(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char proto[8];
	snprintf(proto, sizeof(proto), "%d", CTL_PROTO_VERSION);
	struct ctl_table *t = ctl_reply_table(r, "version", "daemon", "#protocol", NULL);
	ctl_table_row(t, "npsd " NPSGW_VERSION, proto);
	return 0;
}

void ctl_handle(void *cookie, const char *line, size_t len, struct sbuf *reply_frame)
{
	static struct ctl_ctx ctx;
	struct ctl_cmd_table tables[16];
	ctl_serve_line_tables(tables, all_tables(tables, 16), &ctx, line, len, reply_frame);
	events_after_request(line, len, reply_frame);
}

/* Markdown table cell: '|' would end the cell. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void ctl_dump_commands(FILE *out)
{
	fprintf(out, "| command | description |\n|---|---|\n");
	struct ctl_cmd_table tables[16];
	size_t nt = all_tables(tables, 16);
	for (size_t k = 0; k < nt; k++)
		for (size_t i = 0; i < tables[k].n; i++) {
			char usage[256];
			fprintf(out, "| `%s` | ", ctl_cmd_usage(&tables[k].cmds[i], usage, sizeof(usage)));
			md_cell(out, tables[k].cmds[i].help);
			fprintf(out, " |\n");
		}
}
