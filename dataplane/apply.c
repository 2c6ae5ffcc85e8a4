/* SPDX-License-Identifier: BSD-3-Clause */
/* Boot: table set-up sized from the config, and the config model applied through the same cp_* operations. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/feature.h"

int neigh_table_init(const struct npsgw_conf *conf, char *err, size_t errlen);

struct dp dp;

int cp_tables_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	dp.conf = (struct npsgw_conf *)conf;
	dp.max_ifaces = conf->limits.max_interfaces + 1; /* id 0 is "none" */
	dp.max_vrfs = conf->limits.max_vrfs;
	dp.ifaces = rte_zmalloc("ifaces", sizeof(*dp.ifaces) * dp.max_ifaces, 0);
	dp.vrfs = rte_zmalloc("vrfs", sizeof(*dp.vrfs) * dp.max_vrfs, 0);
	if (dp.ifaces == NULL || dp.vrfs == NULL) {
		snprintf(err, errlen, "out of memory for the interface and VRF tables");
		return ENOMEM;
	}
	/*
	 * The table shared by compact IPv4 VRFs: sized for a few system routes per possible VRF (addresses, subnets,
	 * neighbours) plus margin; about 64 MiB + 1 KiB per tbl8 group + 420 B per route, twice (RCU copies).
	 */
	uint32_t compact_routes = RTE_MAX(conf->limits.max_vrfs * 16u, 16384u);
	/* A VRF's routes in one /24 take about 5 tbl8 groups, a few /24s about 14: 16 per VRF. */
	fib4_compact_configure(compact_routes, RTE_MAX(conf->limits.max_vrfs * 16u, 4096u));
	fib6_trie_probe();
	if (feat_init(dp.max_vrfs) != 0) {
		snprintf(err, errlen, "out of memory for the feature arcs");
		return ENOMEM;
	}
	int rc = nh_table_init(conf->limits.max_nexthops, err, errlen);
	if (rc)
		return rc;
	rc = neigh_table_init(conf, err, errlen);
	if (rc)
		return rc;

	/* Frames up to the largest device MTU fit one mbuf. */
	uint16_t max_mtu = 1500;
	for (size_t i = 0; i < conf->n_devices; i++)
		if (conf->devices[i].mtu > max_mtu)
			max_mtu = conf->devices[i].mtu;
	uint32_t data_room = RTE_PKTMBUF_HEADROOM + max_mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN + 4;
	if (data_room < RTE_MBUF_DEFAULT_BUF_SIZE)
		data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	uint16_t priv = pkt_meta_priv_size();
	/* The per-lcore cache must exceed the graph burst (256) or every burst goes through the shared ring. */
	dp.pool = rte_pktmbuf_pool_create("mbufs", conf->limits.mbufs,
					  RTE_MIN((uint32_t)RTE_MEMPOOL_CACHE_MAX_SIZE, conf->limits.mbufs / 2), priv, (uint16_t)data_room, SOCKET_ID_ANY);
	dp.punt = rte_ring_create("punt", 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
	dp.ctl_txr = rte_ring_create("ctl-tx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (dp.pool == NULL || dp.punt == NULL || dp.ctl_txr == NULL) {
		snprintf(err, errlen, "cannot allocate %u mbufs and rings: %s (raise eal.memory_mb or lower limits.mbufs)",
			 conf->limits.mbufs, rte_strerror(rte_errno));
		return ENOMEM;
	}
	dp.n_workers = (unsigned)conf->n_workers;
	if (dp.n_workers == 0 || dp.n_workers > DP_MAX_WORKERS) {
		snprintf(err, errlen, "need 1..%d workers, the config gives %u", DP_MAX_WORKERS, dp.n_workers);
		return EINVAL;
	}
	for (unsigned i = 0; i < dp.n_workers; i++) {
		struct worker *w = &dp.workers[i];
		const struct conf_worker *cw = &conf->workers[i];
		char name[32];
		w->index = i;
		w->lcore = cw->lcore;
		w->txq = (uint16_t)i;
		w->rxqs = cw->rxqs;
		w->n_rxqs = cw->n_rxqs;
		w->icmp_tokens = (uint64_t)conf->limits.icmp_rate * 1000;
		if (!rte_lcore_is_enabled(w->lcore) || w->lcore == rte_get_main_lcore()) {
			snprintf(err, errlen, "worker %u: lcore %u is not a worker lcore of eal.lcores '%s'", i, w->lcore,
				 conf->eal.lcores);
			return EINVAL;
		}
		w->ifc_stats = rte_zmalloc_socket("iface-stats", sizeof(*w->ifc_stats) * dp.max_ifaces, RTE_CACHE_LINE_SIZE,
						  (int)rte_lcore_to_socket_id(w->lcore));
		if (w->ifc_stats == NULL) {
			snprintf(err, errlen, "out of memory for interface counters");
			return ENOMEM;
		}
		snprintf(name, sizeof(name), "frag-direct-%u", i);
		w->frag_direct = rte_pktmbuf_pool_create(name, 1023, 32, priv, RTE_MBUF_DEFAULT_BUF_SIZE,
							 (int)rte_lcore_to_socket_id(w->lcore));
		snprintf(name, sizeof(name), "frag-indirect-%u", i);
		w->frag_indirect = rte_pktmbuf_pool_create(name, 1023, 32, priv, 0, (int)rte_lcore_to_socket_id(w->lcore));
		if (w->frag_direct == NULL || w->frag_indirect == NULL) {
			snprintf(err, errlen, "cannot allocate fragmentation buffers for worker %u", i);
			return ENOMEM;
		}
	}
	return 0;
}

int cp_apply_conf(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	char sub[CP_ERR_MAX];
	int rc;
	for (size_t i = 0; i < conf->n_vrfs; i++) {
		const struct conf_vrf *v = &conf->vrfs[i];
		if ((rc = cp_vrf_add(v->name, v->id, v->fib == CONF_FIB_COMPACT, v->max_routes, sub, sizeof(sub)))) {
			snprintf(err, errlen, "vrf %s: %s", v->name, sub);
			return rc;
		}
	}
	for (size_t i = 0; i < conf->n_interfaces; i++) {
		const struct conf_interface *ci = &conf->interfaces[i];
		if ((rc = cp_iface_add_conf(ci, sub, sizeof(sub)))) {
			snprintf(err, errlen, "interface %s: %s", ci->name, sub);
			return rc;
		}
		for (size_t j = 0; j < ci->n_addresses; j++) {
			if ((rc = cp_addr_add(ci->name, &ci->addresses[j], sub, sizeof(sub)))) {
				snprintf(err, errlen, "interface %s: %s", ci->name, sub);
				return rc;
			}
		}
	}
	for (size_t i = 0; i < conf->n_routes; i++) {
		if ((rc = cp_route_add(&conf->routes[i], sub, sizeof(sub)))) {
			char pb[ADDR_STR_MAX];
			snprintf(err, errlen, "route %s in %s: %s", addr_prefix_fmt(&conf->routes[i].prefix, pb, sizeof(pb)),
				 conf->routes[i].vrf, sub);
			return rc;
		}
	}
	for (size_t i = 0; i < conf->n_neighbours; i++) {
		const struct conf_neighbour *n = &conf->neighbours[i];
		if ((rc = cp_neigh_add_static(n->interface, &n->ip, n->mac, sub, sizeof(sub)))) {
			snprintf(err, errlen, "neighbour on %s: %s", n->interface, sub);
			return rc;
		}
	}
	return 0;
}
