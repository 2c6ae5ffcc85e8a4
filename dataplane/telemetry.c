/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /npsgw/... telemetry commands. Tables (ports, nodes, interfaces, VRFs) are returned by column, a dict of arrays
 * ({"port": ["p0", "p1"], "rx_packets": [10, 20], ...}), because DPDK 22.11 nests only arrays in a dict and allows
 * no '-' or '.' in dict keys, which names have. A reply is at most about 16 KiB, so a long table comes in pages:
 * "next" gives the row to ask for next ("/npsgw/interfaces,NEXT"). One row by name: "/npsgw/interface,NAME".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dataplane/metrics.h"
#include "dataplane/telemetry.h"

#define FRESH_WAIT_MS 200   /* how long a command waits for the control thread's fresh snapshot */
#define PAGE_BUDGET 12000   /* JSON bytes of table cells per reply: DPDK 22.11 replies hold 16 KiB */
#define MAX_COLS 12

/* One row of a table: its string and numeric columns. */
struct row {
	int n_str, n_num;
	const char *str_name[3], *str[3];
	const char *num_name[MAX_COLS];
	uint64_t num[MAX_COLS];
};

/* Fill row i of the snapshot's table. Returns 0 for a row, 1 for a row the table skips, -1 past the end. */
typedef int (*row_fn)(const struct metrics_snapshot *s, unsigned i, struct row *r);

static void num(struct row *r, const char *name, uint64_t v)
{
	r->num_name[r->n_num] = name;
	r->num[r->n_num++] = v;
}

static void str(struct row *r, const char *name, const char *v)
{
	r->str_name[r->n_str] = name;
	r->str[r->n_str++] = v;
}

static int port_row(const struct metrics_snapshot *s, unsigned i, struct row *r)
{
	if (i >= s->n_ports)
		return -1;
	const struct metrics_port *p = &s->ports[i];
	str(r, "port", p->name);
	str(r, "link", p->link_up ? "up" : "down");
	for (int c = 0; c < MP_COUNT; c++)
		num(r, metrics_port_names[c], p->c[c]);
	return 0;
}

/* As show stats: nodes that never ran are left out. */
static int node_row(const struct metrics_snapshot *s, unsigned i, struct row *r)
{
	if (i >= s->n_nodes)
		return -1;
	const struct node_stat *n = &s->nodes[i];
	if (n->calls == 0 && n->packets == 0)
		return 1;
	str(r, "node", n->name);
	num(r, "calls", n->calls);
	num(r, "packets", n->packets);
	num(r, "cycles", n->cycles);
	num(r, "cycles_per_packet", n->packets ? n->cycles / n->packets : 0);
	return 0;
}

static void traffic(struct row *r, const struct iface_counters *c)
{
	num(r, "rx_packets", c->rx_packets);
	num(r, "rx_bytes", c->rx_bytes);
	num(r, "tx_packets", c->tx_packets);
	num(r, "tx_bytes", c->tx_bytes);
}

static int iface_row(const struct metrics_snapshot *s, unsigned i, struct row *r)
{
	if (i >= s->n_ifaces)
		return -1;
	str(r, "interface", s->ifaces[i].name);
	str(r, "vrf", s->ifaces[i].vrf);
	traffic(r, &s->ifaces[i].c);
	return 0;
}

static int vrf_row(const struct metrics_snapshot *s, unsigned i, struct row *r)
{
	if (i >= s->n_vrfs)
		return -1;
	str(r, "vrf", s->vrfs[i].name);
	traffic(r, &s->vrfs[i].c);
	return 0;
}

/* The network functions' samples (IPsec tunnel health...): one row each. */
static int nf_row(const struct metrics_snapshot *s, unsigned i, struct row *r)
{
	if (i >= s->n_nf)
		return -1;
	str(r, "metric", s->nf[i].family);
	str(r, "interface", s->nf[i].iface);
	str(r, "vrf", s->nf[i].vrf);
	num(r, "value", s->nf[i].value);
	return 0;
}

static size_t row_size(const struct row *r)
{
	size_t n = 0;
	for (int c = 0; c < r->n_str; c++)
		n += strlen(r->str[c]) + 3;
	for (int c = 0; c < r->n_num; c++) {
		char buf[24];
		n += (size_t)snprintf(buf, sizeof(buf), "%" PRIu64, r->num[c]) + 1;
	}
	return n;
}

/* "" or a row number. */
static int parse_start(const char *params, unsigned *start)
{
	*start = 0;
	if (params == NULL || params[0] == '\0')
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(params, &end, 10);
	if (*end != '\0' || params[0] < '0' || params[0] > '9' || errno != 0 || v > UINT32_MAX)
		return -EINVAL;
	*start = (unsigned)v;
	return 0;
}

/* A table's columns, the same for every row: from a sample row, so that an empty table has its columns too. */
static void columns_of(row_fn fn, struct row *r)
{
	static struct node_stat node = {.calls = 1}; /* a node that ran: node_row skips the others */
	static struct metrics_iface iface;
	static struct metrics_vrf vrf;
	static const struct metrics_snapshot sample = {
		.n_ports = 1, .n_nodes = 1, .nodes = &node, .n_ifaces = 1, .ifaces = &iface, .n_vrfs = 1, .vrfs = &vrf};
	memset(r, 0, sizeof(*r));
	fn(&sample, 0, r);
}

/* The columns of rows [start, end), plus "next" when the table goes on. */
static int render_table(const struct metrics_snapshot *s, row_fn fn, unsigned start, struct rte_tel_data *d)
{
	struct row r;
	unsigned end = start, rows = 0, more = 0;
	size_t used = 0;
	int rc;
	while (memset(&r, 0, sizeof(r)), (rc = fn(s, end, &r)) >= 0) {
		if (rc == 0) {
			size_t sz = row_size(&r);
			if (rows == RTE_TEL_MAX_ARRAY_ENTRIES || used + sz > PAGE_BUDGET) {
				more = 1;
				break;
			}
			used += sz;
			rows++;
		}
		end++;
	}
	rte_tel_data_start_dict(d);
	columns_of(fn, &r);
	struct rte_tel_data *col[3 + MAX_COLS] = {NULL};
	int ncols = r.n_str + r.n_num;
	for (int c = 0; c < ncols; c++) {
		if ((col[c] = rte_tel_data_alloc()) == NULL)
			goto nomem;
		rte_tel_data_start_array(col[c], c < r.n_str ? RTE_TEL_STRING_VAL : RTE_TEL_U64_VAL);
	}
	for (unsigned i = start; i < end; i++) {
		struct row v = {0};
		if (fn(s, i, &v) != 0)
			continue;
		for (int c = 0; c < v.n_str; c++)
			rte_tel_data_add_array_string(col[c], v.str[c]);
		for (int c = 0; c < v.n_num; c++)
			rte_tel_data_add_array_u64(col[v.n_str + c], v.num[c]);
	}
	for (int c = 0; c < ncols; c++)
		rte_tel_data_add_dict_container(d, c < r.n_str ? r.str_name[c] : r.num_name[c - r.n_str], col[c], 0);
	if (more)
		rte_tel_data_add_dict_u64(d, "next", end);
	return 0;
nomem:
	for (int c = 0; c < ncols; c++)
		if (col[c] != NULL)
			rte_tel_data_free(col[c]);
	return -ENOMEM;
}

/* One row, found by its first column, as a flat dict. */
static int render_one(const struct metrics_snapshot *s, row_fn fn, const char *name, struct rte_tel_data *d)
{
	if (name == NULL || name[0] == '\0')
		return -EINVAL;
	struct row r;
	int rc;
	for (unsigned i = 0; memset(&r, 0, sizeof(r)), (rc = fn(s, i, &r)) >= 0; i++) {
		if (rc != 0 || strcmp(r.str[0], name) != 0)
			continue;
		rte_tel_data_start_dict(d);
		for (int c = 0; c < r.n_str; c++)
			rte_tel_data_add_dict_string(d, r.str_name[c], r.str[c]);
		for (int c = 0; c < r.n_num; c++)
			rte_tel_data_add_dict_u64(d, r.num_name[c], r.num[c]);
		return 0;
	}
	return -ENOENT;
}

static row_fn table_of(const char *cmd, bool *one)
{
	static const struct {
		const char *table, *row;
		row_fn fn;
	} tables[] = {
		{"/npsgw/ports", "/npsgw/port", port_row},
		{"/npsgw/nodes", "/npsgw/node", node_row},
		{"/npsgw/interfaces", "/npsgw/interface", iface_row},
		{"/npsgw/vrfs", "/npsgw/vrf", vrf_row},
		{"/npsgw/functions", NULL, nf_row}, /* no one-row form: a metric has a sample per tunnel */
	};
	for (size_t i = 0; i < RTE_DIM(tables); i++) {
		*one = tables[i].row != NULL && strcmp(cmd, tables[i].row) == 0;
		if (*one || strcmp(cmd, tables[i].table) == 0)
			return tables[i].fn;
	}
	return NULL;
}

static int cb_table(const char *cmd, const char *params, struct rte_tel_data *d)
{
	bool one;
	unsigned start;
	row_fn fn = table_of(cmd, &one);
	if (fn == NULL || (!one && parse_start(params, &start) != 0))
		return -EINVAL;
	const struct metrics_snapshot *s = metrics_snapshot_get(FRESH_WAIT_MS);
	if (s == NULL)
		return -EAGAIN;
	int rc = one ? render_one(s, fn, params, d) : render_table(s, fn, start, d);
	metrics_snapshot_put(s);
	return rc;
}

/* Flat dicts: drops by reason, control counters, totals, snapshot facts. */
static int cb_flat(const char *cmd, const char *params, struct rte_tel_data *d)
{
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	const struct metrics_snapshot *s = metrics_snapshot_get(FRESH_WAIT_MS);
	if (s == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	if (strcmp(cmd, "/npsgw/drops") == 0) {
		for (int i = 0; i < DROP_COUNT; i++)
			rte_tel_data_add_dict_u64(d, metrics_drop_name(i), s->drops[i]);
	} else if (strcmp(cmd, "/npsgw/control") == 0) {
		for (int i = 0; i < CTL_COUNTER_COUNT; i++)
			rte_tel_data_add_dict_u64(d, metrics_ctl_name(i), s->control[i]);
	} else if (strcmp(cmd, "/npsgw/totals") == 0) {
		for (int i = 0; i < MT_COUNT; i++)
			rte_tel_data_add_dict_u64(d, metrics_total_names[i], s->totals[i]);
	} else if (strcmp(cmd, "/npsgw/events") == 0) {
		rte_tel_data_add_dict_u64(d, "queued", s->events_queued);
		rte_tel_data_add_dict_u64(d, "dropped", s->events_dropped);
	} else {
		rte_tel_data_add_dict_u64(d, "seq", s->seq);
		rte_tel_data_add_dict_u64(d, "time_ms", s->time_ms);
	}
	metrics_snapshot_put(s);
	return 0;
}

int telemetry_init(void)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{"/npsgw/ports", cb_table, "Port counters by column. Parameters: first row (for \"next\")"},
		{"/npsgw/port", cb_table, "One port's counters. Parameters: port name"},
		{"/npsgw/nodes", cb_table, "Graph node counters (nodes that ran) by column. Parameters: first row"},
		{"/npsgw/node", cb_table, "One graph node's counters. Parameters: node name"},
		{"/npsgw/interfaces", cb_table, "Interface packet counters by column. Parameters: first row"},
		{"/npsgw/interface", cb_table, "One interface's packet counters. Parameters: interface name"},
		{"/npsgw/vrfs", cb_table, "VRF packet counters by column. Parameters: first row"},
		{"/npsgw/vrf", cb_table, "One VRF's packet counters. Parameters: VRF name"},
		{"/npsgw/functions", cb_table,
		 "Network functions' metrics (IPsec tunnel health...), one row per sample. Parameters: first row"},
		{"/npsgw/drops", cb_flat, "Packets dropped, by reason. Takes no parameters"},
		{"/npsgw/control", cb_flat, "Control thread counters (ARP, NDP, neighbours). Takes no parameters"},
		{"/npsgw/totals", cb_flat, "Packets received, created, sent, dropped, punted. Takes no parameters"},
		{"/npsgw/events", cb_flat, "Control-socket event frames queued, and dropped (queue full)"},
		{"/npsgw/snapshot", cb_flat, "Sequence number and time (Unix ms) of the counter snapshot"},
	};
	for (size_t i = 0; i < RTE_DIM(cmds); i++) {
		int rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
		if (rc < 0)
			return rc;
	}
	return 0;
}
