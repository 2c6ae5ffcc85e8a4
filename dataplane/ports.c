/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the config's devices (PCI or vdev, given to EAL as -a / --vdev) configured with the config's rx queues
 * (RSS when more than one and the device has it) and one tx queue per worker. Frames the control thread sends
 * (ARP, NDP, held packets) go through a ring to worker 0, which transmits them on its own queue: no queue is
 * shared, no lock is taken.
 *
 * Lifecycle: devices are checked before EAL starts (a missing one is named with what to do), link changes and
 * removed devices are noticed by the control thread (ports_poll_state), counted and logged; nothing stops.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"
#include "dataplane/port_state.h"

struct port_state port_states[DP_MAX_PORTS];

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

/* The value of KEY=... in a vdev string ("net_af_packet0,iface=eth1,qpairs=2"), "" when absent. */
static void vdev_arg(const char *vdev, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *s = strchr(vdev, ','); s != NULL; s = strchr(s + 1, ',')) {
		if (strncmp(s + 1, key, klen) == 0 && s[1 + klen] == '=') {
			const char *v = s + 2 + klen;
			snprintf(out, len, "%.*s", (int)strcspn(v, ","), v);
			return;
		}
	}
}

/* "01:00.0" -> "0000:01:00.0" (sysfs names carry the domain). */
static void pci_sysfs_name(const char *pci, char *out, size_t len)
{
	int colons = 0;
	for (const char *c = pci; *c; c++)
		colons += *c == ':';
	snprintf(out, len, "%s%s", colons == 1 ? "0000:" : "", pci);
}

/* Kernel drivers a DPDK PMD can drive a PCI device through (mlx5 works beside its kernel driver). */
static bool pci_driver_usable(const char *drv)
{
	static const char *const ok[] = {"vfio-pci", "uio_pci_generic", "igb_uio", "mlx5_core", "mlx4_core"};
	for (size_t i = 0; i < RTE_DIM(ok); i++)
		if (strcmp(drv, ok[i]) == 0)
			return true;
	return false;
}

int ports_precheck(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	for (size_t i = 0; i < conf->n_devices; i++) {
		const struct conf_device *d = &conf->devices[i];
		char val[PATH_MAX];
		struct stat st;
		if (d->vdev[0] != '\0') {
			/* net_tap / net_tun create their iface; af_packet, af_xdp and pcap attach to an existing one. */
			bool creates = strncmp(d->vdev, "net_tap", 7) == 0 || strncmp(d->vdev, "net_tun", 7) == 0;
			vdev_arg(d->vdev, "iface", val, sizeof(val));
			if (val[0] != '\0' && !creates && if_nametoindex(val) == 0) {
				snprintf(err, errlen,
					 "device '%s' (%s): host interface '%s' does not exist (ip link show %s)", d->name,
					 d->vdev, val, val);
				return ENODEV;
			}
			vdev_arg(d->vdev, "path", val, sizeof(val));
			bool server = strstr(d->vdev, "server=1") != NULL; /* virtio_user creating the socket */
			if (val[0] != '\0' && !server && (stat(val, &st) != 0 || !S_ISSOCK(st.st_mode))) {
				snprintf(err, errlen,
					 "device '%s' (%s): no vhost-user socket at %s (is the vhost back end running?)",
					 d->name, d->vdev, val);
				return ENODEV;
			}
			continue;
		}
		char name[80], path[PATH_MAX], link[PATH_MAX];
		pci_sysfs_name(d->pci, name, sizeof(name));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", name);
		if (stat(path, &st) != 0) {
			snprintf(err, errlen,
				 "device '%s': PCI device %s not found (lspci -D lists the host's devices; a VF appears "
				 "only after scripts/create-vfs.sh)",
				 d->name, name);
			return ENODEV;
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		const char *drv = "none";
		if (n > 0) {
			link[n] = '\0';
			drv = strrchr(link, '/') != NULL ? strrchr(link, '/') + 1 : link;
		}
		if (!pci_driver_usable(drv)) {
			snprintf(err, errlen,
				 "device '%s': PCI device %s is bound to %s, not to vfio-pci (scripts/bind-vfio.sh %s)",
				 d->name, name, drv, name);
			return ENODEV;
		}
	}
	return 0;
}

static void rmv_note(uint16_t port_id)
{
	if (port_id < DP_MAX_PORTS)
		__atomic_store_n(&port_states[port_id].removed, true, __ATOMIC_RELEASE);
}

/* Called by EAL's interrupt thread: only a flag, the control thread does the rest. */
static int on_device_event(uint16_t port_id, enum rte_eth_event_type type, void *cb_arg, void *ret_param)
{
	if (type == RTE_ETH_EVENT_INTR_RMV)
		rmv_note(port_id);
	return 0;
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
	struct port_state *ps = &port_states[p->port_id];
	snprintf(ps->driver, sizeof(ps->driver), "%s", info.driver_name);
	/* Without RSS (virtio without VIRTIO_NET_F_RSS, as vhost-user back ends offer) asking for it fails the
	 * configure: the queues then fill as the peer sends (a vhost back end picks the queue), still one per worker. */
	uint64_t rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	if (d->rx_queues > 1 && rss_hf != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
		ps->rss = true;
	} else if (d->rx_queues > 1) {
		fprintf(stderr, "npsd: device '%s' (%s) has no RSS: its %u rx queues fill as the peer sends\n", d->name,
			info.driver_name, d->rx_queues);
	}
	/* Hot-unplug notice where the driver raises it (PCI devices, failsafe): reported, never fatal. */
	if (*info.dev_flags & RTE_ETH_DEV_INTR_RMV) {
		conf.intr_conf.rmv = 1;
		rte_eth_dev_callback_register(p->port_id, RTE_ETH_EVENT_INTR_RMV, on_device_event, NULL);
	}
	/* The NIC's IPv4 header checksum verdict spares eth_input the sum (only "good" is trusted: see eth_input). */
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		ps->rx_ip4_cksum = true;
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
		port_states[port_id] = (struct port_state){.link_up = -1};
		if (d->vdev[0] != '\0')
			vdev_arg(d->vdev, "iface", port_states[port_id].host_if, sizeof(port_states[port_id].host_if));
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

/* events.c publishes what ethdev's link status shows; a removed device or a vanished host interface it cannot see. */
static void publish_lost(const struct port *p, const char *reason)
{
	char members[160];
	snprintf(members, sizeof(members), "\"port\":\"%s\",\"state\":\"down\",\"reason\":\"%s\"", p->name, reason);
	event_publish(EV_LINK, "link", members);
}

uint32_t ports_poll_state(uint64_t now_ms)
{
	uint32_t came_up = 0;
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		struct port_state *ps = &port_states[i];
		if (!p->used)
			continue;
		if (__atomic_load_n(&ps->removed, __ATOMIC_ACQUIRE) && ps->link_up != 0) {
			fprintf(stderr, "npsd: port '%s': device removed: its traffic stops; restart npsd once it is back\n",
				p->name);
			ps->link_up = 0;
			ps->link_downs++;
			ps->last_change_ms = now_ms;
			publish_lost(p, "device removed");
			continue;
		}
		bool gone = ps->host_if[0] != '\0' && if_nametoindex(ps->host_if) == 0;
		if (gone != ps->host_if_gone) {
			ps->host_if_gone = gone;
			fprintf(stderr, "npsd: port '%s': host interface '%s' %s\n", p->name, ps->host_if,
				gone ? "disappeared: the port carries nothing until it is back and npsd restarts"
				     : "exists again");
			if (gone && ps->link_up != 0)
				publish_lost(p, "host interface gone");
		}
		struct rte_eth_link link = {0};
		if (ps->removed || rte_eth_link_get_nowait(p->port_id, &link) != 0)
			continue;
		int8_t up = link.link_status != 0 && !gone;
		if (up == ps->link_up)
			continue;
		if (ps->link_up >= 0) { /* the first poll only learns the state */
			if (up)
				ps->link_ups++;
			else
				ps->link_downs++;
			ps->last_change_ms = now_ms;
			fprintf(stderr, "npsd: port '%s': link %s (%" PRIu64 " down / %" PRIu64 " up transitions)\n",
				p->name, up ? "up" : "down", ps->link_downs, ps->link_ups);
			if (up && i < 32)
				came_up |= 1u << i;
		}
		ps->link_up = up;
		ps->speed_mbps = up && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN ? link.link_speed : 0;
	}
	return came_up;
}

unsigned ports_links_up(void)
{
	unsigned n = 0;
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		struct rte_eth_link link = {0};
		if (dp.ports[i].used && rte_eth_link_get_nowait(i, &link) == 0 && link.link_status)
			n++;
	}
	return n;
}

void ports_stop(void)
{
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		struct port *p = &dp.ports[i];
		if (!p->used)
			continue;
		if (p->started)
			rte_eth_dev_stop(p->port_id);
		rte_eth_dev_callback_unregister(p->port_id, RTE_ETH_EVENT_INTR_RMV, on_device_event, NULL);
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
