/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rte_graph.h>

#include "dataplane/cp.h"
#include "dataplane/stats.h"
#include "dataplane/tap.h"

static struct rte_graph_cluster_stats *cluster[DP_MAX_WORKERS + 1]; /* [0] all workers, [1+i] worker i */

static struct node_stat *collect_out;
static int collect_n, collect_max, collect_worker;

static int collect_cb(bool is_first, bool is_last, void *cookie, const struct rte_graph_cluster_node_stats *st)
{
	if (is_first && is_last && st == NULL)
		return 0;
	if (collect_n < collect_max) {
		struct node_stat *o = &collect_out[collect_n++];
		snprintf(o->name, sizeof(o->name), "%s", st->name);
		o->calls = st->calls;
		o->packets = st->objs;
		/* path checks walk the real graph but are not traffic (counted per node by tap_ctl.c) */
		if (collect_worker <= 0 && st->id < TAP_NODE_MAX)
			o->packets -= RTE_MIN(o->packets, tap.dry_packets[st->id]);
		o->cycles = st->cycles;
	}
	return 0;
}

static struct rte_graph_cluster_stats *cluster_for(int worker)
{
	int slot = worker < 0 ? 0 : worker + 1;
	if (cluster[slot] == NULL) {
		char pattern[32];
		const char *patterns[1] = {pattern};
		if (worker < 0)
			snprintf(pattern, sizeof(pattern), "worker*");
		else
			snprintf(pattern, sizeof(pattern), "%s", dp.workers[worker].graph_name);
		struct rte_graph_cluster_stats_param prm = {
			.socket_id = SOCKET_ID_ANY,
			.fn = collect_cb,
			.nb_graph_patterns = 1,
			.graph_patterns = patterns,
		};
		cluster[slot] = rte_graph_cluster_stats_create(&prm);
	}
	return cluster[slot];
}

int stats_nodes(int worker, struct node_stat *out, int max)
{
	if (worker >= (int)dp.n_workers)
		return 0;
	struct rte_graph_cluster_stats *cs = cluster_for(worker);
	if (cs == NULL)
		return 0;
	collect_worker = worker;
	collect_out = out;
	collect_n = 0;
	collect_max = max;
	rte_graph_cluster_stats_get(cs, false);
	return collect_n;
}

uint64_t stats_drop(const struct node_stat *nodes, int n, int reason)
{
	static const char *const names[] = {
#define DROP_NAME(name, desc) "drop_" #name,
		NPSGW_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
	};
	uint64_t total = dp.ctl_drops[reason];
	for (int i = 0; i < n; i++)
		if (strcmp(nodes[i].name, names[reason]) == 0)
			total += nodes[i].packets;
	return total;
}

void stats_free(void)
{
	for (size_t i = 0; i < RTE_DIM(cluster); i++) {
		if (cluster[i] != NULL)
			rte_graph_cluster_stats_destroy(cluster[i]);
		cluster[i] = NULL;
	}
}
