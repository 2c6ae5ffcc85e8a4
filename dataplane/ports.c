/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the config's devices (PCI or vdev, given to EAL as -a / --vdev) configured with the config's rx queues
 * (RSS when more than one) and one tx queue per worker. Frames the control thread sends (ARP, NDP, held packets)
 * go through a ring to worker 0, which transmits them on its own queue: no queue is shared, no lock is taken.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"

struct port *port_by_name(const char *name)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++)
		if (dp.ports[i].used && strcmp(dp.ports[i].name, name) == 0)
			return &dp.ports[i];
	return NULL;
}

/* The ethdev name of a device: the vdev's driver instance ("net_pcap0") or the PCI address. */
static void device_ethdev_name(const struct conf_device *d, char *out, size_t len)
{
	if (d->vdev[0] != '\0') {
		size_t n = strcspn(d->vdev, ",");
		snprintf(out, len, "%.*s", (int)n, d->vdev);
	} else {
		snprintf(out, len, "%s", d->pci);
	}
}

static int port_configure(struct port *p, const struct conf_device *d, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "device '%s': cannot read device info: %s", d->name, strerror(-rc));
		return -rc;
	}
	if (d->rx_queues > info.max_rx_queues) {
		snprintf(err, errlen, "device '%s' has at most %u rx queues, the config asks for %u", d->name,
			 info.max_rx_queues, d->rx_queues);
		return EINVAL;
	}
	if (dp.n_workers > info.max_tx_queues) {
		snprintf(err, errlen,
			 "device '%s' has at most %u tx queues, npsd needs one per worker (%u)%s", d->name,
			 info.max_tx_queues, dp.n_workers,
			 strncmp(d->vdev, "net_af_packet", 13) == 0 ? " (add qpairs=N to the vdev string)" : "");
		return EINVAL;
	}
	struct rte_eth_conf conf = {0};
	if (d->rx_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	p->nb_rxq = d->rx_queues;
	p->nb_txq = (uint16_t)dp.n_workers;
	rc = rte_eth_dev_configure(p->port_id, p->nb_rxq, p->nb_txq, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "device '%s': configure failed: %s", d->name, strerror(-rc));
		return -rc;
	}
	uint16_t rxd = (uint16_t)d->rx_desc, txd = (uint16_t)d->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	int socket = rte_eth_dev_socket_id(p->port_id);
	for (uint16_t q = 0; q < p->nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, socket, NULL, dp.pool);
		if (rc != 0) {
			snprintf(err, errlen, "device '%s': rx queue %u setup failed: %s", d->name, q, strerror(-rc));
			return -rc;
		}
	}
	for (uint16_t q = 0; q < p->nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, txd, socket, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "device '%s': tx queue %u setup failed: %s", d->name, q, strerror(-rc));
			return -rc;
		}
	}
	p->mtu = d->mtu;
	rc = rte_eth_dev_set_mtu(p->port_id, d->mtu);
	if (rc != 0 && rc != -ENOTSUP) {
		snprintf(err, errlen, "device '%s': cannot set MTU %u: %s", d->name, d->mtu, strerror(-rc));
		return -rc;
	}
	rte_eth_macaddr_get(p->port_id, &p->mac);
	return 0;
}

int ports_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	for (size_t i = 0; i < conf->n_devices; i++) {
		const struct conf_device *d = &conf->devices[i];
		char ethdev[RTE_ETH_NAME_MAX_LEN];
		uint16_t port_id;
		device_ethdev_name(d, ethdev, sizeof(ethdev));
		if (rte_eth_dev_get_port_by_name(ethdev, &port_id) != 0) {
			snprintf(err, errlen,
				 "device '%s' (%s) not found: %s", d->name, d->vdev[0] ? d->vdev : d->pci,
				 d->vdev[0] ? "check the vdev string (does the host interface exist?)"
					    : "is it bound to vfio-pci? (scripts/ and docs/ explain how)");
			return ENODEV;
		}
		if (port_id >= DP_MAX_PORTS) {
			snprintf(err, errlen, "device '%s': port id %u beyond the limit of %d ports", d->name, port_id,
				 DP_MAX_PORTS);
			return ENOSPC;
		}
		struct port *p = &dp.ports[port_id];
		p->used = true;
		p->port_id = port_id;
		snprintf(p->name, sizeof(p->name), "%s", d->name);
		p->vlan_map = rte_zmalloc("vlan-map", sizeof(uint16_t) * 4096, 0);
		if (p->vlan_map == NULL) {
			snprintf(err, errlen, "out of memory");
			return ENOMEM;
		}
		int rc = port_configure(p, d, err, errlen);
		if (rc)
			return rc;
		dp.n_ports++;
	}
	return 0;
}

int ports_start(char *err, size_t errlen)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		struct port *p = &dp.ports[i];
		if (!p->used)
			continue;
		int rc = rte_eth_dev_start(p->port_id);
		if (rc != 0) {
			snprintf(err, errlen, "device '%s': start failed: %s", p->name, strerror(-rc));
			return -rc;
		}
		p->started = true;
		/* The MAC filter is per interface, in eth_input; sub-interfaces may use their own MACs. */
		rte_eth_promiscuous_enable(p->port_id);
	}
	return 0;
}

void ports_stop(void)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		struct port *p = &dp.ports[i];
		if (!p->used)
			continue;
		if (p->started)
			rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
		p->started = false;
		rte_free(p->vlan_map);
		p->vlan_map = NULL;
		p->used = false;
	}
}

void ctl_tx(uint16_t port, struct rte_mbuf *m)
{
	m->port = port;
	if (dp.ctl_txr == NULL || rte_ring_enqueue(dp.ctl_txr, m) != 0) {
		rte_pktmbuf_free(m);
		dp.ctl_counters[CTL_ctl_tx_failed]++;
		return;
	}
	dp.ctl_counters[CTL_ctl_tx]++;
}
