/* SPDX-License-Identifier: BSD-3-Clause */
/* Control commands that read: show interfaces, VRFs, routes, neighbours, workers, stats, drops. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_graph.h>

#include "dataplane/cp.h"
#include "nf/nf.h"
#include "dataplane/ctl_cmds.h"
#include "dataplane/fib.h"
#include "dataplane/stats.h"

#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

static const char *drop_names[] = {
#define DROP_NAME(name, desc) #name,
	NPSGW_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};
static const char *drop_descs[] = {
#define DROP_DESC(name, desc) desc,
	NPSGW_DROP_REASONS(DROP_DESC)
#undef DROP_DESC
};
static const char *ctl_counter_names[] = {
#define CTL_NAME(n) #n,
	NPSGW_CTL_COUNTERS(CTL_NAME)
#undef CTL_NAME
};

int cmd_show_interfaces(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "interfaces", "name", "device", "#vlan", "vrf", "mac", "#mtu",
					      "state", "addresses", "link_local", NULL);
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL)
			continue;
		char vlan[24], mtu[24], mac[24], addrs[IFACE_MAX_ADDRS * ADDR_STR_MAX] = "", ll[ADDR_STR_MAX];
		for (unsigned j = 0; j < ifc->n_addrs; j++) {
			char pb[ADDR_STR_MAX];
			size_t used = strlen(addrs);
			snprintf(addrs + used, sizeof(addrs) - used, "%s%s", j ? "," : "",
				 addr_prefix_fmt(&ifc->addrs[j], pb, sizeof(pb)));
		}
		struct addr lla = {.family = 6};
		memcpy(lla.bytes, ifc->ip6_ll, 16);
		const char *device = iface_is_tunnel(ifc) ? nf_registry[ifc->tunnel_fn - 1]->name : dp.ports[ifc->port].name;
		ctl_table_row(t, ifc->name, device, U64(vlan, ifc->vlan), dp.vrfs[ifc->vrf]->name,
			      mac_fmt(ifc->mac.addr_bytes, mac, sizeof(mac)), U64(mtu, ifc->mtu), ifc->up ? "up" : "down",
			      addrs, addr_fmt(&lla, ll, sizeof(ll)));
	}
	return 0;
}

int cmd_show_vrfs(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "vrfs", "name", "#id", "fib", "#routes4", "#routes6", "#interfaces",
					      "#max_routes", NULL);
	for (uint32_t i = 0; i < dp.max_vrfs; i++) {
		const struct vrf *v = dp.vrfs[i];
		if (v == NULL)
			continue;
		char id[16], r4[16], r6[16], ni[16], mr[16];
		ctl_table_row(t, v->name, U64(id, v->id), v->compact ? "compact" : "fast",
			      U64(r4, v->fib4 ? v->fib4->n_routes : 0), U64(r6, v->fib6 ? v->fib6->n_routes : 0),
			      U64(ni, v->n_ifaces), U64(mr, v->max_routes));
	}
	return 0;
}

struct route_walk {
	struct ctl_table *t;
	const struct vrf *v;
	uint64_t skip, limit, seen;
};

static void route_row(struct route_walk *w, const struct addr_prefix *p, uint32_t nh_idx)
{
	if (w->seen++ < w->skip || w->t->nrows >= w->limit)
		return;
	const struct nexthop *nh = &dp.nhs[nh_idx];
	char pb[ADDR_STR_MAX], via[ADDR_STR_MAX] = "", dev[CONF_NAME_MAX] = "", target[CONF_NAME_MAX] = "";
	if (nh->type == NH_T_GATEWAY || nh->type == NH_T_NEIGH) {
		struct addr g = {.family = nh->family};
		memcpy(g.bytes, nh->addr, 16);
		addr_fmt(&g, via, sizeof(via));
	}
	if (nh->type == NH_T_GATEWAY || nh->type == NH_T_NEIGH || nh->type == NH_T_CONNECTED) {
		const struct iface *ifc = dp.ifaces[nh->iface];
		snprintf(dev, sizeof(dev), "%s", ifc ? ifc->name : "?");
	}
	if (nh->type == NH_T_LEAK && dp.vrfs[nh->target_vrf] != NULL)
		snprintf(target, sizeof(target), "%s", dp.vrfs[nh->target_vrf]->name);
	ctl_table_row(w->t, w->v->name, addr_prefix_fmt(p, pb, sizeof(pb)), nh_type_name(nh->type), via, dev,
		      target);
}

static int walk4(void *cookie, uint32_t ip, uint8_t depth, uint32_t nh)
{
	struct addr_prefix p = {.len = depth};
	addr_from_v4_host(&p.addr, ip);
	route_row(cookie, &p, nh);
	return 0;
}

static int walk6(void *cookie, const uint8_t ip[16], uint8_t depth, uint32_t nh)
{
	struct addr_prefix p = {.addr = {.family = 6}, .len = depth};
	memcpy(p.addr.bytes, ip, 16);
	route_row(cookie, &p, nh);
	return 0;
}

int cmd_show_routes(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	const char *vname = ctl_arg(a, "vrf");
	uint32_t family = 0, skip = 0, limit = 10000;
	if ((ctl_arg(a, "family") && ctl_arg_u32(a, "family", 4, 6, &family, err, sizeof(err))) ||
	    (family == 5) || (ctl_arg(a, "skip") && ctl_arg_u32(a, "skip", 0, UINT32_MAX, &skip, err, sizeof(err))) ||
	    (ctl_arg(a, "limit") && ctl_arg_u32(a, "limit", 1, 1000000, &limit, err, sizeof(err))))
		return ctl_reply_error(r, EINVAL, "%s", family == 5 ? "bad family (expected 4 or 6)" : err);
	if (vname && vrf_by_name(vname) == NULL)
		return ctl_reply_error(r, ENOENT, "no VRF '%s'", vname);
	struct route_walk w = {
		.t = ctl_reply_table(r, "routes", "vrf", "prefix", "type", "via", "dev", "target_vrf", NULL),
		.skip = skip,
		.limit = limit,
	};
	for (uint32_t i = 0; i < dp.max_vrfs; i++) {
		const struct vrf *v = dp.vrfs[i];
		if (v == NULL || (vname && strcmp(vname, v->name) != 0))
			continue;
		w.v = v;
		if (v->fib4 && family != 6)
			fib4_walk(v->fib4, walk4, &w);
		if (v->fib6 && family != 4)
			fib6_walk(v->fib6, walk6, &w);
	}
	if (w.seen > w.skip + w.t->nrows)
		sbuf_printf(&r->text, "(%" PRIu64 " routes; showing %zu from %u: use skip/limit)\n", w.seen,
			    w.t->nrows, skip);
	return 0;
}

struct neigh_walk_ctx {
	struct ctl_table *t;
	const struct iface *only;
};

static int neigh_row(void *cookie, const struct neigh_view *n)
{
	struct neigh_walk_ctx *c = cookie;
	if (c->only && c->only->id != n->iface)
		return 0;
	const struct iface *ifc = dp.ifaces[n->iface];
	char ip[ADDR_STR_MAX], mac[24] = "", probes[12], held[12], age[24];
	if (n->has_mac)
		mac_fmt(n->mac, mac, sizeof(mac));
	ctl_table_row(c->t, ifc ? ifc->name : "?", addr_fmt(&n->ip, ip, sizeof(ip)), mac, n->state,
		      U64(probes, n->probes), U64(held, n->held), U64(age, n->age_ms / 1000));
	return 0;
}

int cmd_show_neighbours(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct neigh_walk_ctx c = {0};
	const char *iname = ctl_arg(a, "interface");
	if (iname && (c.only = iface_by_name(iname)) == NULL)
		return ctl_reply_error(r, ENOENT, "no interface '%s'", iname);
	c.t = ctl_reply_table(r, "neighbours", "interface", "ip", "mac", "state", "#probes", "#held", "#age_s", NULL);
	neigh_walk(neigh_row, &c);
	return 0;
}

int cmd_show_workers(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "workers", "#worker", "#lcore", "graph", "rx_queues", "#tx_queue",
					      NULL);
	for (unsigned i = 0; i < dp.n_workers; i++) {
		const struct worker *w = &dp.workers[i];
		char idx[24], lc[24], txq[24], rxqs[512] = "";
		for (size_t q = 0; q < w->n_rxqs; q++) {
			size_t used = strlen(rxqs);
			snprintf(rxqs + used, sizeof(rxqs) - used, "%s%s:%u", q ? "," : "", w->rxqs[q].device,
				 w->rxqs[q].queue);
		}
		ctl_table_row(t, U64(idx, i), U64(lc, w->lcore), w->graph_name, rxqs, U64(txq, w->txq));
	}
	return 0;
}

static void ports_table(struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "ports", "port", "link", "#rx_packets", "#rx_bytes", "#tx_packets",
					      "#tx_bytes", "#rx_missed", "#rx_errors", "#tx_errors", "#rx_nombuf", NULL);
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		if (!p->used)
			continue;
		struct rte_eth_stats s = {0};
		struct rte_eth_link link = {0};
		rte_eth_stats_get(p->port_id, &s);
		rte_eth_link_get_nowait(p->port_id, &link);
		char c[8][24];
		ctl_table_row(t, p->name, link.link_status ? "up" : "down", U64(c[0], s.ipackets), U64(c[1], s.ibytes),
			      U64(c[2], s.opackets), U64(c[3], s.obytes), U64(c[4], s.imissed), U64(c[5], s.ierrors),
			      U64(c[6], s.oerrors), U64(c[7], s.rx_nombuf));
	}
}

#define MAX_NODE_STATS 256

static void drops_table(struct ctl_reply *r, const struct node_stat *ns, int n)
{
	struct ctl_table *t = ctl_reply_table(r, "drops", "reason", "#packets", "description", NULL);
	for (int d = 0; d < DROP_COUNT; d++) {
		char v[24];
		ctl_table_row(t, drop_names[d], U64(v, stats_drop(ns, n, d)), drop_descs[d]);
	}
}

/* Per-interface and per-VRF (sum of its interfaces) packets forwarded by workers. */
static void iface_vrf_tables(struct ctl_reply *r, int worker)
{
	struct ctl_table *ti = ctl_reply_table(r, "interfaces", "interface", "vrf", "#rx_packets", "#rx_bytes",
					       "#tx_packets", "#tx_bytes", NULL);
	struct iface_counters *per_vrf = calloc(dp.max_vrfs, sizeof(*per_vrf));
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL)
			continue;
		struct iface_counters sum = {0};
		for (unsigned w = 0; w < dp.n_workers; w++) {
			if (worker >= 0 && (unsigned)worker != w)
				continue;
			const struct iface_counters *c = &dp.workers[w].ifc_stats[i];
			sum.rx_packets += c->rx_packets;
			sum.rx_bytes += c->rx_bytes;
			sum.tx_packets += c->tx_packets;
			sum.tx_bytes += c->tx_bytes;
		}
		if (per_vrf != NULL) {
			per_vrf[ifc->vrf].rx_packets += sum.rx_packets;
			per_vrf[ifc->vrf].rx_bytes += sum.rx_bytes;
			per_vrf[ifc->vrf].tx_packets += sum.tx_packets;
			per_vrf[ifc->vrf].tx_bytes += sum.tx_bytes;
		}
		char c[4][24];
		ctl_table_row(ti, ifc->name, dp.vrfs[ifc->vrf]->name, U64(c[0], sum.rx_packets), U64(c[1], sum.rx_bytes),
			      U64(c[2], sum.tx_packets), U64(c[3], sum.tx_bytes));
	}
	struct ctl_table *tv = ctl_reply_table(r, "vrfs", "vrf", "#rx_packets", "#rx_bytes", "#tx_packets",
					       "#tx_bytes", NULL);
	for (uint32_t v = 0; per_vrf != NULL && v < dp.max_vrfs; v++) {
		if (dp.vrfs[v] == NULL)
			continue;
		char c[4][24];
		ctl_table_row(tv, dp.vrfs[v]->name, U64(c[0], per_vrf[v].rx_packets), U64(c[1], per_vrf[v].rx_bytes),
			      U64(c[2], per_vrf[v].tx_packets), U64(c[3], per_vrf[v].tx_bytes));
	}
	free(per_vrf);
}

static int worker_arg(const struct ctl_args *a, struct ctl_reply *r, int *worker)
{
	char err[CTL_ERR_MAX];
	uint32_t w;
	*worker = -1;
	if (ctl_arg(a, "worker") == NULL)
		return 0;
	if (dp.n_workers == 0 || ctl_arg_u32(a, "worker", 0, dp.n_workers - 1, &w, err, sizeof(err)))
		return ctl_reply_error(r, EINVAL, "%s", err);
	*worker = (int)w;
	return 0;
}

int cmd_show_stats(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	static struct node_stat ns[MAX_NODE_STATS];
	int worker;
	if (worker_arg(a, r, &worker))
		return r->status;
	int n = stats_nodes(worker, ns, MAX_NODE_STATS);
	ports_table(r);
	struct ctl_table *t = ctl_reply_table(r, "nodes", "node", "#calls", "#packets", "#cycles",
					      "#cycles_per_packet", NULL);
	uint64_t rx = 0, tx = 0, drops = 0, punted = 0;
	for (int i = 0; i < n; i++) {
		char c[4][24];
		if (ns[i].packets == 0 && ns[i].calls == 0)
			continue;
		ctl_table_row(t, ns[i].name, U64(c[0], ns[i].calls), U64(c[1], ns[i].packets), U64(c[2], ns[i].cycles),
			      U64(c[3], ns[i].packets ? ns[i].cycles / ns[i].packets : 0));
		if (strncmp(ns[i].name, "port_rx-", 8) == 0)
			rx += ns[i].packets;
		else if (strncmp(ns[i].name, "port_tx-", 8) == 0)
			tx += ns[i].packets;
		else if (strncmp(ns[i].name, "drop_", 5) == 0)
			drops += ns[i].packets;
		else if (strcmp(ns[i].name, "punt") == 0)
			punted += ns[i].packets;
	}
	drops_table(r, ns, n);
	iface_vrf_tables(r, worker);
	struct ctl_table *c = ctl_reply_table(r, "control", "counter", "#value", NULL);
	for (int i = 0; i < CTL_COUNTER_COUNT; i++) {
		char v[24];
		ctl_table_row(c, ctl_counter_names[i], U64(v, dp.ctl_counters[i]));
	}
	nf_stats(r); /* each network function's own counters */
	/*
	 * Every packet a worker receives ends in exactly one of: a port_tx node, a drop node, the punt node, or inside
	 * another packet (reassembly, "absorbed"); fragmentation makes packets ("created"), so
	 * rx + created = tx + drops + punted + absorbed.
	 */
	uint64_t created = 0, absorbed = 0, express = 0;
	for (unsigned i = 0; i < dp.n_workers; i++)
		if (worker < 0 || (unsigned)worker == i) {
			created += __atomic_load_n(&dp.workers[i].pkts_created, __ATOMIC_RELAXED);
			absorbed += __atomic_load_n(&dp.workers[i].pkts_absorbed, __ATOMIC_RELAXED);
			express += __atomic_load_n(&dp.workers[i].pkts_express, __ATOMIC_RELAXED);
		}
	/* express: of the tx, those the express path sent (they went by no lookup nor rewrite node) */
	struct ctl_table *tot = ctl_reply_table(r, "totals", "#rx", "#created", "#tx", "#drops", "#punted",
						"#absorbed", "#express", NULL);
	char v[7][24];
	ctl_table_row(tot, U64(v[0], rx), U64(v[1], created), U64(v[2], tx), U64(v[3], drops), U64(v[4], punted),
		      U64(v[5], absorbed), U64(v[6], express));
	return 0;
}

int cmd_show_drops(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	static struct node_stat ns[MAX_NODE_STATS];
	int worker;
	if (worker_arg(a, r, &worker))
		return r->status;
	int n = stats_nodes(worker, ns, MAX_NODE_STATS);
	drops_table(r, ns, n);
	return 0;
}

/* The live pipeline of a worker as Graphviz dot (rte_graph_export), for `make graph` and operators. */
int cmd_show_graph(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	uint32_t w = 0;
	if (dp.n_workers == 0)
		return ctl_reply_error(r, ENOENT, "no workers");
	if (ctl_arg(a, "worker") && ctl_arg_u32(a, "worker", 0, dp.n_workers - 1, &w, err, sizeof(err)))
		return ctl_reply_error(r, EINVAL, "%s", err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return ctl_reply_error(r, ENOMEM, "out of memory");
	int rc = rte_graph_export(dp.workers[w].graph_name, f);
	fclose(f);
	if (rc == 0)
		sbuf_append(&r->text, buf, len);
	free(buf);
	if (rc != 0)
		return ctl_reply_error(r, -rc, "cannot export graph %s", dp.workers[w].graph_name);
	return 0;
}

/*
 * Node timing on or off (no state: just report). Off by default: the TSC reads around every node call cost about
 * 6 cycles per packet. Calls and packets are counted either way; cycles only grow while it is on.
 */
int cmd_graph_profile(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	const char *state = ctl_arg(a, "state");
	if (state) {
		if (strcmp(state, "on") != 0 && strcmp(state, "off") != 0)
			return ctl_reply_error(r, EINVAL, "bad state '%s' (expected on or off)", state);
		bool on = strcmp(state, "on") == 0;
		express_set_off(EXPRESS_OFF_PROFILE, on); /* the nodes it fuses could not be timed one by one */
		__atomic_store_n(&dp.graph_profile, on, __ATOMIC_RELAXED);
	}
	struct ctl_table *t = ctl_reply_table(r, "graph", "profile", NULL);
	ctl_table_row(t, __atomic_load_n(&dp.graph_profile, __ATOMIC_RELAXED) ? "on" : "off");
	return 0;
}

/*
 * The express path (dataplane/nodes/express.h): the operator's switch, and whether it runs now. Turning it
 * off needs no wait: from the workers' next burst every packet takes the node-by-node path, which decides the same.
 */
int cmd_graph_express(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	const char *state = ctl_arg(a, "state");
	if (state) {
		if (strcmp(state, "on") != 0 && strcmp(state, "off") != 0)
			return ctl_reply_error(r, EINVAL, "bad state '%s' (expected on or off)", state);
		express_set_off(EXPRESS_OFF_OPERATOR, strcmp(state, "off") == 0);
	}
	uint8_t off = __atomic_load_n(&dp.express_off, __ATOMIC_RELAXED);
	char why[64] = "";
	if (off & EXPRESS_OFF_OPERATOR)
		strcat(why, ",operator");
	if (off & EXPRESS_OFF_PROFILE)
		strcat(why, ",profile");
	if (off & EXPRESS_OFF_TAP)
		strcat(why, ",capture-or-trace");
	struct ctl_table *t = ctl_reply_table(r, "express", "state", "running", "held_off_by", NULL);
	ctl_table_row(t, (off & EXPRESS_OFF_OPERATOR) ? "off" : "on", off ? "no" : "yes", off ? why + 1 : "-");
	/* how IPv6 lookups walk the TRIE (dataplane/fib6_trie.c): DPDK's own lookup when its tables were not found */
	struct ctl_table *l = ctl_reply_table(r, "ip6_lookup", "walk", NULL);
	ctl_table_row(l, fib6_trie_known() ? "level-by-level" : "rte_fib6");
	return 0;
}
