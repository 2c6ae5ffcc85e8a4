/* SPDX-License-Identifier: BSD-3-Clause */
/* Port self-checks for SR-IOV VFs and paravirtual NICs (see selfcheck.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_ethdev.h>

#include "dataplane/cp.h"
#include "dataplane/port_state.h"
#include "dataplane/selfcheck.h"

#define SC_MAX_RESULTS (DP_MAX_PORTS * 8)
#define SC_MAX_GROUPS 64 /* multicast groups programmed per port when all-multicast is refused */

static struct sc_result results[SC_MAX_RESULTS];
static size_t n_results;

/* What NPSD_SELFCHECK_SIMULATE asks the device calls to pretend. */
static struct {
	bool vf, promisc_refused, allmulti_refused, mc_list_refused, mac_add_refused, mtu_mismatch;
} sim;

static void read_simulation(void)
{
	memset(&sim, 0, sizeof(sim));
	const char *env = getenv("NPSD_SELFCHECK_SIMULATE");
	while (env != NULL && *env != '\0') {
		size_t n = strcspn(env, ",");
#define SIM(name)                                                                                                     \
	if (n == strlen(#name) && strncmp(env, #name, n) == 0)                                                        \
		sim.name = true;
		SIM(vf) SIM(promisc_refused) SIM(allmulti_refused) SIM(mc_list_refused) SIM(mac_add_refused)
		SIM(mtu_mismatch)
#undef SIM
		env += n + (env[n] == ',');
	}
}

/* ---- The device calls, each with its simulated refusal ---- */

static bool dev_promiscuous(uint16_t port)
{
	return !sim.promisc_refused && rte_eth_promiscuous_get(port) == 1;
}

static int dev_allmulti_enable(uint16_t port)
{
	if (sim.allmulti_refused)
		return -EPERM;
	int rc = rte_eth_allmulticast_enable(port);
	return rc == 0 && rte_eth_allmulticast_get(port) != 1 ? -EPERM : rc;
}

static int dev_set_mc_list(uint16_t port, struct rte_ether_addr *list, uint32_t n)
{
	return sim.mc_list_refused ? -EPERM : rte_eth_dev_set_mc_addr_list(port, list, n);
}

static int dev_mac_add(uint16_t port, struct rte_ether_addr *mac)
{
	return sim.mac_add_refused ? -EPERM : rte_eth_dev_mac_addr_add(port, mac, 0);
}

static int dev_get_mtu(uint16_t port, uint16_t *mtu)
{
	int rc = rte_eth_dev_get_mtu(port, mtu);
	if (rc == 0 && sim.mtu_mismatch)
		*mtu = (uint16_t)(*mtu > 1000 ? *mtu - 100 : *mtu / 2); /* as a PF with a lower MTU leaves it */
	return rc;
}

/* ---- Host-side names for the fix commands ---- */

struct vf_host {
	bool is_vf;
	char pf[IF_NAMESIZE + 1]; /* the PF's netdev, "PF" when unknown (inside a VM the PF is on the host) */
	char vf_index[12];        /* "N" when unknown */
};

static void vf_host_names(const char *pci, const char *driver, struct vf_host *h)
{
	char path[PATH_MAX], link[PATH_MAX];
	*h = (struct vf_host){.is_vf = sim.vf};
	snprintf(h->pf, sizeof(h->pf), "PF");
	snprintf(h->vf_index, sizeof(h->vf_index), "N");
	/* VF drivers by name: in a VM the VF has no physfn link, its driver tells. */
	static const char *const vf_drivers[] = {"net_iavf", "net_ixgbe_vf", "net_i40e_vf", "net_e1000_igb_vf",
						 "net_ice_dcf", "net_bnxt_vf"};
	for (size_t i = 0; i < RTE_DIM(vf_drivers); i++)
		h->is_vf |= strcmp(driver, vf_drivers[i]) == 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/physfn", pci);
	if (access(path, F_OK) != 0)
		return;
	h->is_vf = true; /* on the host itself (bare metal): the PF is here, name it */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/physfn/net", pci);
	DIR *d = opendir(path);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.')
			snprintf(h->pf, sizeof(h->pf), "%.*s", IF_NAMESIZE, e->d_name);
	if (d != NULL)
		closedir(d);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/physfn", pci);
	d = opendir(path);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		if (strncmp(e->d_name, "virtfn", 6) != 0)
			continue;
		char vpath[PATH_MAX + 300];
		snprintf(vpath, sizeof(vpath), "%s/%s", path, e->d_name);
		ssize_t n = readlink(vpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		const char *base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (strcmp(base, pci) == 0)
			snprintf(h->vf_index, sizeof(h->vf_index), "%s", e->d_name + 6);
	}
	if (d != NULL)
		closedir(d);
}

/* ---- Results ---- */

const char *sc_status_name(enum sc_status s)
{
	static const char *const names[] = {"ok", "info", "warn", "FAIL"};
	return s <= SC_FAIL ? names[s] : "?";
}

static void add(const char *port, const char *check, enum sc_status st, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void add(const char *port, const char *check, enum sc_status st, const char *fix, const char *fmt, ...)
{
	if (n_results == SC_MAX_RESULTS)
		return;
	struct sc_result *r = &results[n_results++];
	snprintf(r->port, sizeof(r->port), "%s", port);
	snprintf(r->check, sizeof(r->check), "%s", check);
	r->status = st;
	snprintf(r->fix, sizeof(r->fix), "%s", fix != NULL ? fix : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

void sc_solicited_node_mac(const uint8_t ip6[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	mac[2] = 0xff;
	mac[3] = ip6[13];
	mac[4] = ip6[14];
	mac[5] = ip6[15];
}

static void group_add(struct rte_ether_addr *groups, uint32_t *n, const uint8_t mac[6])
{
	for (uint32_t i = 0; i < *n; i++)
		if (memcmp(groups[i].addr_bytes, mac, 6) == 0)
			return;
	if (*n < SC_MAX_GROUPS)
		memcpy(groups[(*n)++].addr_bytes, mac, 6);
}

static bool ip6_set(const uint8_t a[16])
{
	static const uint8_t zero[16];
	return memcmp(a, zero, 16) != 0;
}

/* The Ethernet groups IPv6 on this port needs: all-nodes, all-routers, every address's solicited-node group. */
static uint32_t port_ip6_groups(uint16_t port_id, struct rte_ether_addr *groups)
{
	static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1}, all_routers[6] = {0x33, 0x33, 0, 0, 0, 2};
	uint32_t n = 0;
	bool any6 = false;
	uint8_t mac[6];
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL || ifc->port != port_id)
			continue;
		if (ip6_set(ifc->ip6_ll)) {
			sc_solicited_node_mac(ifc->ip6_ll, mac);
			group_add(groups, &n, mac);
			any6 = true;
		}
		for (unsigned j = 0; j < ifc->n_addrs; j++) {
			if (ifc->addrs[j].addr.family != 6)
				continue;
			sc_solicited_node_mac(ifc->addrs[j].addr.bytes, mac);
			group_add(groups, &n, mac);
			any6 = true;
		}
	}
	if (any6) {
		group_add(groups, &n, all_nodes);
		group_add(groups, &n, all_routers);
	}
	return n;
}

/* ---- The checks of one port ---- */

static void check_filters(const struct port *p, const struct vf_host *h, const char *driver, bool *promisc_out)
{
	char fix[192];
	snprintf(fix, sizeof(fix), "on the host: ip link set %s vf %s trust on", h->pf, h->vf_index);
	bool promisc = dev_promiscuous(p->port_id);
	*promisc_out = promisc;
	/* A virtio device without rx-mode control (VIRTIO_NET_F_CTRL_RX: vhost-user back ends, virtio_user with one
	 * queue pair) has no filter to turn off: it delivers every frame, promiscuous by nature. */
	if (!promisc && !h->is_vf && strncmp(driver, "net_virtio", 10) == 0) {
		add(p->name, "promiscuous", SC_OK, NULL, "virtio without rx-mode control: the device delivers every frame");
		*promisc_out = true;
		return;
	}
	if (promisc)
		add(p->name, "promiscuous", SC_OK, NULL, "on: every MAC and multicast group reaches the router");
	else
		add(p->name, "promiscuous", h->is_vf ? SC_WARN : SC_INFO, h->is_vf ? fix : NULL,
		    "refused%s: only the port's own and added MACs arrive", h->is_vf ? " (VF not trusted)" : "");
	if (promisc)
		return;
	int rc = dev_allmulti_enable(p->port_id);
	if (rc == 0) {
		add(p->name, "multicast", SC_OK, NULL, "all-multicast on: IPv6 neighbour discovery works");
		return;
	}
	struct rte_ether_addr groups[SC_MAX_GROUPS];
	uint32_t n = port_ip6_groups(p->port_id, groups);
	if (n == 0) {
		add(p->name, "multicast", SC_INFO, fix,
		    "all-multicast refused (%s); no IPv6 address on this port, so nothing needs a group yet",
		    strerror(-rc));
		return;
	}
	int lrc = dev_set_mc_list(p->port_id, groups, n);
	if (lrc == 0)
		add(p->name, "multicast", SC_WARN, fix,
		    "all-multicast refused (%s): the %u IPv6 groups of the current addresses are programmed instead; "
		    "addresses added later need `selfcheck run`",
		    strerror(-rc), n);
	else
		add(p->name, "multicast", SC_FAIL, fix,
		    "all-multicast and the multicast list refused: IPv6 solicited-node multicast is filtered, neighbour "
		    "discovery will fail");
}

/* Interfaces using their own MAC: the MAC filter must take it, and the host must not drop frames sent from it. */
static void check_macs(const struct port *p, const struct vf_host *h, bool promisc)
{
	char fix[192], mb[24];
	unsigned extra = 0;
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		if (ifc == NULL || ifc->port != p->port_id || rte_is_same_ether_addr(&ifc->mac, &p->mac))
			continue;
		extra++;
		mac_fmt(ifc->mac.addr_bytes, mb, sizeof(mb));
		struct rte_ether_addr mac = ifc->mac;
		int rc = dev_mac_add(p->port_id, &mac);
		if (rc == -ENOTSUP && promisc) {
			add(p->name, "mac-filter", SC_OK, NULL,
			    "interface %s: MAC %s: the driver has no MAC filter, promiscuous mode receives it", ifc->name, mb);
		} else if (rc != 0 && rc != -EEXIST) {
			snprintf(fix, sizeof(fix), "on the host: ip link set %s vf %s trust on (or give interface %s the "
				 "port's MAC)", h->pf, h->vf_index, ifc->name);
			add(p->name, "mac-filter", promisc ? SC_WARN : SC_FAIL, fix,
			    "interface %s: MAC %s refused by the MAC filter (%s)%s", ifc->name, mb, strerror(-rc),
			    promisc ? "; promiscuous mode lets it in for now" : ": its traffic never arrives");
		} else {
			add(p->name, "mac-filter", SC_OK, NULL, "interface %s: MAC %s accepted", ifc->name, mb);
		}
		if (h->is_vf) {
			snprintf(fix, sizeof(fix), "on the host: ip link set %s vf %s spoofchk off", h->pf, h->vf_index);
			add(p->name, "spoof-check", SC_WARN, fix,
			    "interface %s sends from %s, not the VF's MAC: the PF drops those frames while spoof checking "
			    "is on (a VF cannot see that setting)",
			    ifc->name, mb);
		}
	}
	if (extra == 0)
		add(p->name, "mac-filter", SC_OK, NULL, "every interface uses the port's MAC");
}

static void check_mtu(const struct port *p, const struct conf_device *d, const struct vf_host *h,
		      const char *driver)
{
	uint16_t mtu = 0;
	char fix[192];
	if (strcmp(driver, "net_vmxnet3") == 0)
		snprintf(fix, sizeof(fix), "raise the vSwitch / port group MTU to %u (ESXi: vSwitch properties)", d->mtu);
	else if (strncmp(driver, "net_virtio", 10) == 0)
		snprintf(fix, sizeof(fix), "raise the host bridge/tap MTU to %u (libvirt: <mtu size='%u'/>)", d->mtu,
			 d->mtu);
	else if (h->is_vf)
		snprintf(fix, sizeof(fix), "on the host: ip link set %s mtu %u (a VF cannot exceed its PF)", h->pf,
			 d->mtu);
	else
		snprintf(fix, sizeof(fix), "set the device MTU to %u, or lower devices.mtu", d->mtu);
	int rc = dev_get_mtu(p->port_id, &mtu);
	if (rc != 0)
		add(p->name, "mtu", SC_INFO, NULL, "driver does not report its MTU (%s); configured %u", strerror(-rc),
		    d->mtu);
	else if (mtu != d->mtu)
		add(p->name, "mtu", mtu < d->mtu ? SC_FAIL : SC_WARN, fix,
		    "device MTU is %u, the configuration says %u: %s", mtu, d->mtu,
		    mtu < d->mtu ? "larger packets are dropped by the NIC" : "the NIC accepts more than the router sends");
	else
		add(p->name, "mtu", SC_OK, NULL, "device MTU %u as configured", mtu);
	for (uint32_t i = 1; i < dp.max_ifaces; i++) {
		const struct iface *ifc = dp.ifaces[i];
		/* The 802.1Q tag is L2 overhead, outside the MTU (as Linux VLAN devices count it). */
		uint16_t limit = rc == 0 && mtu < d->mtu ? mtu : d->mtu;
		if (ifc != NULL && ifc->port == p->port_id && ifc->mtu > limit)
			add(p->name, "mtu", SC_FAIL, "lower the interface MTU or raise the device's",
			    "interface %s: IP MTU %u exceeds the device MTU %u", ifc->name, ifc->mtu, limit);
	}
}

static void check_link_and_queues(const struct port *p, const struct vf_host *h)
{
	struct rte_eth_link link = {0};
	char fix[192];
	snprintf(fix, sizeof(fix), "%s", h->is_vf ? "on the host: ip link set PF vf N state auto, and check the PF's link"
						  : "check the cable / the virtual switch port");
	if (h->is_vf && strcmp(h->pf, "PF") != 0)
		snprintf(fix, sizeof(fix), "on the host: ip link set %s vf %s state auto; ip link show %s", h->pf,
			 h->vf_index, h->pf);
	if (rte_eth_link_get_nowait(p->port_id, &link) == 0 && !link.link_status)
		add(p->name, "link", SC_WARN, fix, "link down at the time of the check");
	else
		add(p->name, "link", SC_OK, NULL, "link up");
	const struct port_state *ps = &port_states[p->port_id];
	if (p->nb_rxq > 1)
		add(p->name, "rx-queues", SC_INFO, NULL,
		    ps->rss ? "%u rx queues spread by RSS" : "%u rx queues without RSS: filled as the peer sends",
		    p->nb_rxq);
}

static const struct conf_device *conf_device_of(const struct npsgw_conf *conf, const char *name)
{
	for (size_t i = 0; conf != NULL && i < conf->n_devices; i++)
		if (strcmp(conf->devices[i].name, name) == 0)
			return &conf->devices[i];
	return NULL;
}

unsigned selfcheck_run(const struct npsgw_conf *conf, FILE *log)
{
	read_simulation();
	n_results = 0;
	for (uint16_t i = 0; i < DP_MAX_PORTS; i++) {
		const struct port *p = &dp.ports[i];
		const struct conf_device *d = p->used ? conf_device_of(conf, p->name) : NULL;
		struct rte_eth_dev_info info;
		if (d == NULL || rte_eth_dev_info_get(p->port_id, &info) != 0)
			continue;
		struct vf_host h;
		vf_host_names(info.device != NULL ? rte_dev_name(info.device) : "", info.driver_name, &h);
		const char *kind = h.is_vf ? "SR-IOV VF" : strcmp(info.driver_name, "net_vmxnet3") == 0 ? "vmxnet3"
			: strncmp(info.driver_name, "net_virtio", 10) == 0 ? "virtio" : "other";
		add(p->name, "device", SC_INFO, NULL, "%s, driver %s%s", kind, info.driver_name,
		    sim.vf ? " (VF simulated)" : "");
		bool promisc;
		check_filters(p, &h, info.driver_name, &promisc);
		check_macs(p, &h, promisc);
		check_mtu(p, d, &h, info.driver_name);
		check_link_and_queues(p, &h);
	}
	unsigned bad = 0;
	for (size_t i = 0; i < n_results; i++) {
		const struct sc_result *r = &results[i];
		if (r->status < SC_WARN)
			continue;
		bad++;
		if (log != NULL)
			fprintf(log, "npsd: self-check %s: port '%s' %s: %s%s%s\n", sc_status_name(r->status), r->port,
				r->check, r->detail, r->fix[0] ? "; fix: " : "", r->fix);
	}
	if (log != NULL)
		fprintf(log, "npsd: self-check: %zu check(s), %u warning(s) or failure(s)\n", n_results, bad);
	return bad;
}

size_t selfcheck_results(const struct sc_result **out)
{
	*out = results;
	return n_results;
}
