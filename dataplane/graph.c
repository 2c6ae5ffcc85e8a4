/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builds one rte_graph per worker: its own port_rx clones (the queues the config gives it) and every processing
 * node; port_tx clones (one per port) are appended as edges of the rewrite nodes. Runs on the control thread
 * before the workers start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_graph.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"
#include "dataplane/nodes/nodes.h"
#include "dataplane/nodes/port_nodes.h"
#include "nf/nf.h"

struct worker *graph_build_worker;

int node_worker_init(const struct rte_graph *graph, struct rte_node *node)
{
	if (graph_build_worker == NULL)
		return -EINVAL;
	((struct node_worker_ctx *)node->ctx)->w = graph_build_worker;
	return 0;
}

int node_worker_init_port_home(const struct rte_graph *graph, struct rte_node *node, const rte_edge_t *tx_edge)
{
	int rc = node_worker_init(graph, node);
	struct node_worker_ctx *ctx = (struct node_worker_ctx *)node->ctx;
	for (uint16_t p = 0; p < DP_MAX_PORTS; p++) {
		if (dp.ports[p].used) {
			ctx->home_edge = tx_edge[p];
			return rc;
		}
	}
	return -ENODEV;
}

static int add_tx_edge(const char *node_name, const char *tx_name, rte_edge_t *edge)
{
	rte_node_t id = rte_node_from_name(node_name);
	const char *names[1] = {tx_name};
	if (rte_node_edge_update(id, RTE_EDGE_ID_INVALID, names, 1) == RTE_EDGE_ID_INVALID)
		return -EINVAL;
	*edge = rte_node_edge_count(id) - 1;
	return 0;
}

/*
 * The edge from node `from` to node `to`: the one it has, or a new one. One edge per target: a node that hands a
 * burst to a target through one edge's stream (batch_start) must get no packet of that burst through another edge
 * to the same target, both writing the target's one input array (ipsec_in takes ESP and UDP 4500 alike).
 */
static int edge_to(const char *from, const char *to, rte_edge_t *edge)
{
	rte_node_t id = rte_node_from_name(from);
	rte_node_t bytes = rte_node_edge_get(id, NULL);
	if (bytes != RTE_NODE_ID_INVALID && bytes > 0) {
		char **names = malloc(bytes);
		if (names == NULL)
			return -ENOMEM;
		rte_node_t n = rte_node_edge_get(id, names);
		for (rte_node_t i = 0; i < n && i != RTE_NODE_ID_INVALID; i++) {
			if (strcmp(names[i], to) == 0) {
				*edge = (rte_edge_t)i;
				free(names);
				return 0;
			}
		}
		free(names);
	}
	return add_tx_edge(from, to, edge);
}

/* Edges to the functions' nodes: tunnel output after the rewrite nodes, local protocols after the local nodes. */
static int nf_edges_create(char *err, size_t errlen)
{
	for (size_t i = 0; i < nf_count && i < DP_MAX_TUNNEL_KINDS; i++) {
		const struct nf_desc *d = nf_registry[i];
		if ((d->tunnel_out[0] != NULL &&
		     add_tx_edge(NODE_IP4_REWRITE, d->tunnel_out[0], &ip4_rewrite_tx_edge[DP_TUNNEL_PORT(i)]) != 0) ||
		    (d->tunnel_out[1] != NULL &&
		     add_tx_edge(NODE_IP6_REWRITE, d->tunnel_out[1], &ip6_rewrite_tx_edge[DP_TUNNEL_PORT(i)]) != 0)) {
			snprintf(err, errlen, "%s: cannot link its tunnel output nodes after the rewrite nodes", d->name);
			return EINVAL;
		}
		/* A function absent from the boot file takes no protocol: UDP 4500 stays "port unreachable". */
		for (const struct nf_local_reg *l = nf_configured(d, dp.conf) ? d->local : NULL; l != NULL && l->family != 0;
		     l++) {
			struct local_dispatch *ld = l->family == 4 ? &local4_dispatch : &local6_dispatch;
			rte_edge_t edge;
			bool udp = l->proto == IPPROTO_UDP;
			if ((udp && ld->n_udp == LOCAL_UDP_MAX) || (!udp && ld->proto_edge[l->proto] != 0) ||
			    (udp && local_udp_edge(ld, l->udp_port) != 0) ||
			    (l->fragments && ld->frag_edge[l->proto] != 0) ||
			    edge_to(l->family == 4 ? NODE_IP4_LOCAL : NODE_IP6_LOCAL, l->node, &edge) != 0) {
				snprintf(err, errlen, "%s: cannot take protocol %u%s for node %s (taken, or no such node)",
					 d->name, l->proto, udp ? " (UDP port)" : "", l->node);
				return EINVAL;
			}
			if (udp) {
				ld->udp_port[ld->n_udp] = l->udp_port;
				ld->udp_edge[ld->n_udp++] = edge;
			} else {
				ld->proto_edge[l->proto] = edge;
			}
			if (l->fragments)
				ld->frag_edge[l->proto] = edge;
		}
	}
	return 0;
}

int graphs_create(char *err, size_t errlen)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		struct port *p = &dp.ports[i];
		if (!p->used)
			continue;
		char tx_name[RTE_NODE_NAMESIZE];
		if (port_tx_clone(p->port_id, p->name, tx_name, sizeof(tx_name)) != 0 ||
		    add_tx_edge(NODE_IP4_REWRITE, tx_name, &ip4_rewrite_tx_edge[p->port_id]) != 0 ||
		    add_tx_edge(NODE_IP6_REWRITE, tx_name, &ip6_rewrite_tx_edge[p->port_id]) != 0 ||
		    add_tx_edge(NODE_ETH_INPUT, tx_name, &eth_input_tx_edge[p->port_id]) != 0) {
			snprintf(err, errlen, "cannot create the transmit node of device '%s'", p->name);
			return EINVAL;
		}
	}
	if (feat_edges_create() != 0) {
		snprintf(err, errlen, "cannot link the network functions' nodes into the pipeline");
		return EINVAL;
	}
	int rc = nf_edges_create(err, errlen);
	if (rc != 0)
		return rc;
	for (unsigned wi = 0; wi < dp.n_workers; wi++) {
		struct worker *w = &dp.workers[wi];
		static char names[DP_MAX_PORTS * 16][RTE_NODE_NAMESIZE];
		const char *patterns[DP_MAX_PORTS * 16 + 16 + 32];
		uint16_t np = 0;
		for (size_t q = 0; q < w->n_rxqs; q++) {
			struct port *p = port_by_name(w->rxqs[q].device);
			if (p == NULL || np >= DP_MAX_PORTS * 16) {
				snprintf(err, errlen, "worker %u: bad rx queue %s:%u", wi, w->rxqs[q].device,
					 w->rxqs[q].queue);
				return EINVAL;
			}
			if (port_rx_clone(p->port_id, w->rxqs[q].queue, p->name, names[np], sizeof(names[np])) != 0) {
				snprintf(err, errlen, "cannot create the receive node of %s:%u", p->name,
					 w->rxqs[q].queue);
				return EINVAL;
			}
			patterns[np] = names[np];
			np++;
		}
		static const char *const common[] = {NODE_ETH_INPUT,  NODE_ARP_INPUT,	NODE_IP4_INPUT,	 NODE_IP4_LOOKUP,
						     NODE_IP4_LOCAL,  NODE_IP4_REWRITE, NODE_ICMP4_ERROR, NODE_IP6_INPUT,
						     NODE_IP6_LOOKUP, NODE_IP6_LOCAL,	NODE_IP6_REWRITE, NODE_ICMP6_ERROR,
						     NODE_PUNT,	      "port_tx-*",	"tap_inject"};
		for (size_t c = 0; c < RTE_DIM(common); c++)
			patterns[np++] = common[c];
		np += (uint16_t)nf_graph_nodes(&patterns[np], 32);
		snprintf(w->graph_name, sizeof(w->graph_name), "worker%u", wi);
		struct rte_graph_param prm = {
			.socket_id = (int)rte_lcore_to_socket_id(w->lcore),
			.nb_node_patterns = np,
			.node_patterns = patterns,
		};
		graph_build_worker = w;
		rte_graph_t gid = rte_graph_create(w->graph_name, &prm);
		graph_build_worker = NULL;
		if (gid == RTE_GRAPH_ID_INVALID) {
			snprintf(err, errlen, "cannot create the graph of worker %u: %s", wi, rte_strerror(rte_errno));
			return EINVAL;
		}
		/* rte_graph_create() prefixes nothing; look the graph up to get the fast-path object. */
		w->graph = rte_graph_lookup(w->graph_name);
	}
	return 0;
}
