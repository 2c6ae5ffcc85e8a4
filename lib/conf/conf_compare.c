/* SPDX-License-Identifier: BSD-3-Clause */
/* Where two models differ, as a setting path and both values (conf_write.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_write.h"

struct cmp {
	char *what;
	size_t len;
	bool differs;
};

/* Record the first difference only. */
static bool diff_str(struct cmp *c, const char *path, const char *a, const char *b)
{
	if (c->differs || strcmp(a, b) == 0)
		return c->differs;
	snprintf(c->what, c->len, "%s: \"%s\" / \"%s\"", path, a, b);
	return c->differs = true;
}

static bool diff_u64(struct cmp *c, const char *path, uint64_t a, uint64_t b)
{
	if (c->differs || a == b)
		return c->differs;
	snprintf(c->what, c->len, "%s: %" PRIu64 " / %" PRIu64, path, a, b);
	return c->differs = true;
}

static bool diff_addr(struct cmp *c, const char *path, const struct addr *a, const struct addr *b)
{
	char x[ADDR_STR_MAX], y[ADDR_STR_MAX];
	if (c->differs || addr_equal(a, b))
		return c->differs;
	return diff_str(c, path, a->family ? addr_fmt(a, x, sizeof(x)) : "",
			b->family ? addr_fmt(b, y, sizeof(y)) : "");
}

static bool diff_prefix(struct cmp *c, const char *path, const struct addr_prefix *a, const struct addr_prefix *b)
{
	char x[ADDR_STR_MAX], y[ADDR_STR_MAX];
	if (c->differs || (a->len == b->len && addr_equal(&a->addr, &b->addr)))
		return c->differs;
	return diff_str(c, path, addr_prefix_fmt(a, x, sizeof(x)), addr_prefix_fmt(b, y, sizeof(y)));
}

static bool diff_mac(struct cmp *c, const char *path, const uint8_t *a, const uint8_t *b)
{
	char x[24], y[24];
	if (c->differs || memcmp(a, b, 6) == 0)
		return c->differs;
	return diff_str(c, path, mac_fmt(a, x, sizeof(x)), mac_fmt(b, y, sizeof(y)));
}

/* "section[i].key" into buf. */
static const char *at(char *buf, size_t len, const char *section, size_t i, const char *key)
{
	snprintf(buf, len, "%s[%zu].%s", section, i, key);
	return buf;
}

static void cmp_scalars(struct cmp *c, const struct npsgw_conf *a, const struct npsgw_conf *b)
{
	diff_str(c, "eal.lcores", a->eal.lcores, b->eal.lcores);
	diff_u64(c, "eal.memory_mb", a->eal.memory_mb, b->eal.memory_mb);
	diff_u64(c, "eal.hugepages (no)", a->eal.no_huge, b->eal.no_huge);
	diff_u64(c, "eal.hugepages (auto)", a->eal.huge_auto, b->eal.huge_auto);
	diff_str(c, "eal.file_prefix", a->eal.file_prefix, b->eal.file_prefix);
	diff_u64(c, "eal.extra_args (count)", a->eal.n_extra_args, b->eal.n_extra_args);
	for (size_t i = 0; !c->differs && i < a->eal.n_extra_args; i++)
		diff_str(c, "eal.extra_args", a->eal.extra_args[i], b->eal.extra_args[i]);
	diff_str(c, "control.socket", a->control.socket_path, b->control.socket_path);
	diff_u64(c, "control.mode", a->control.socket_mode, b->control.socket_mode);
	diff_str(c, "control.group", a->control.socket_group, b->control.socket_group);
	diff_u64(c, "limits.max_vrfs", a->limits.max_vrfs, b->limits.max_vrfs);
	diff_u64(c, "limits.max_interfaces", a->limits.max_interfaces, b->limits.max_interfaces);
	diff_u64(c, "limits.max_nexthops", a->limits.max_nexthops, b->limits.max_nexthops);
	diff_u64(c, "limits.mbufs", a->limits.mbufs, b->limits.mbufs);
	diff_u64(c, "limits.icmp_rate", a->limits.icmp_rate, b->limits.icmp_rate);
	const struct conf_neigh_params *x = &a->neigh, *y = &b->neigh;
	diff_u64(c, "neighbour.reachable_ms", x->reachable_ms, y->reachable_ms);
	diff_u64(c, "neighbour.retrans_ms", x->retrans_ms, y->retrans_ms);
	diff_u64(c, "neighbour.delay_ms", x->delay_ms, y->delay_ms);
	diff_u64(c, "neighbour.max_mcast_probes", x->max_mcast_probes, y->max_mcast_probes);
	diff_u64(c, "neighbour.max_ucast_probes", x->max_ucast_probes, y->max_ucast_probes);
	diff_u64(c, "neighbour.stale_ms", x->stale_ms, y->stale_ms);
	diff_u64(c, "neighbour.hold_packets", x->hold_packets, y->hold_packets);
	diff_u64(c, "neighbour.max_neighbours", x->max_neighbours, y->max_neighbours);
	diff_str(c, "metrics.listen", a->metrics.listen_enabled ? a->metrics.listen : "",
		 b->metrics.listen_enabled ? b->metrics.listen : "");
	diff_u64(c, "metrics.interval_ms", a->metrics.interval_ms, b->metrics.interval_ms);
}

static void cmp_devices(struct cmp *c, const struct npsgw_conf *a, const struct npsgw_conf *b)
{
	char p[96];
	diff_u64(c, "devices (count)", a->n_devices, b->n_devices);
	for (size_t i = 0; !c->differs && i < a->n_devices; i++) {
		const struct conf_device *x = &a->devices[i], *y = &b->devices[i];
		diff_str(c, at(p, sizeof(p), "devices", i, "name"), x->name, y->name);
		diff_str(c, at(p, sizeof(p), "devices", i, "pci"), x->pci, y->pci);
		diff_str(c, at(p, sizeof(p), "devices", i, "vdev"), x->vdev, y->vdev);
		diff_u64(c, at(p, sizeof(p), "devices", i, "rx_queues"), x->rx_queues, y->rx_queues);
		diff_u64(c, at(p, sizeof(p), "devices", i, "mtu"), x->mtu, y->mtu);
		diff_u64(c, at(p, sizeof(p), "devices", i, "rx_desc"), x->rx_desc, y->rx_desc);
		diff_u64(c, at(p, sizeof(p), "devices", i, "tx_desc"), x->tx_desc, y->tx_desc);
	}
	diff_u64(c, "workers (count)", a->n_workers, b->n_workers);
	for (size_t i = 0; !c->differs && i < a->n_workers; i++) {
		const struct conf_worker *x = &a->workers[i], *y = &b->workers[i];
		diff_u64(c, at(p, sizeof(p), "workers", i, "lcore"), x->lcore, y->lcore);
		diff_u64(c, at(p, sizeof(p), "workers", i, "rx (count)"), x->n_rxqs, y->n_rxqs);
		for (size_t q = 0; !c->differs && q < x->n_rxqs; q++) {
			diff_str(c, at(p, sizeof(p), "workers", i, "rx"), x->rxqs[q].device, y->rxqs[q].device);
			diff_u64(c, at(p, sizeof(p), "workers", i, "rx"), x->rxqs[q].queue, y->rxqs[q].queue);
		}
	}
}

static void cmp_vrfs_interfaces(struct cmp *c, const struct npsgw_conf *a, const struct npsgw_conf *b)
{
	char p[96];
	diff_u64(c, "vrfs (count)", a->n_vrfs, b->n_vrfs);
	for (size_t i = 0; !c->differs && i < a->n_vrfs; i++) {
		const struct conf_vrf *x = &a->vrfs[i], *y = &b->vrfs[i];
		diff_str(c, at(p, sizeof(p), "vrfs", i, "name"), x->name, y->name);
		diff_u64(c, at(p, sizeof(p), "vrfs", i, "id"), x->id, y->id);
		diff_u64(c, at(p, sizeof(p), "vrfs", i, "fib"), x->fib, y->fib);
		diff_u64(c, at(p, sizeof(p), "vrfs", i, "max_routes"), x->max_routes, y->max_routes);
	}
	diff_u64(c, "interfaces (count)", a->n_interfaces, b->n_interfaces);
	for (size_t i = 0; !c->differs && i < a->n_interfaces; i++) {
		const struct conf_interface *x = &a->interfaces[i], *y = &b->interfaces[i];
		diff_str(c, at(p, sizeof(p), "interfaces", i, "name"), x->name, y->name);
		diff_str(c, at(p, sizeof(p), "interfaces", i, "kind"), x->kind, y->kind);
		diff_str(c, at(p, sizeof(p), "interfaces", i, "device"), x->device, y->device);
		diff_u64(c, at(p, sizeof(p), "interfaces", i, "vlan"), x->vlan, y->vlan);
		diff_str(c, at(p, sizeof(p), "interfaces", i, "vrf"), x->vrf, y->vrf);
		diff_u64(c, at(p, sizeof(p), "interfaces", i, "mtu"), x->mtu, y->mtu);
		diff_u64(c, at(p, sizeof(p), "interfaces", i, "mac (given)"), x->has_mac, y->has_mac);
		if (x->has_mac)
			diff_mac(c, at(p, sizeof(p), "interfaces", i, "mac"), x->mac, y->mac);
		diff_u64(c, at(p, sizeof(p), "interfaces", i, "addresses (count)"), x->n_addresses, y->n_addresses);
		for (size_t j = 0; !c->differs && j < x->n_addresses; j++)
			diff_prefix(c, at(p, sizeof(p), "interfaces", i, "addresses"), &x->addresses[j],
				    &y->addresses[j]);
	}
}

static void cmp_routes_neighbours(struct cmp *c, const struct npsgw_conf *a, const struct npsgw_conf *b)
{
	char p[96];
	diff_u64(c, "routes (count)", a->n_routes, b->n_routes);
	for (size_t i = 0; !c->differs && i < a->n_routes; i++) {
		const struct conf_route *x = &a->routes[i], *y = &b->routes[i];
		diff_str(c, at(p, sizeof(p), "routes", i, "vrf"), x->vrf, y->vrf);
		diff_prefix(c, at(p, sizeof(p), "routes", i, "prefix"), &x->prefix, &y->prefix);
		diff_u64(c, at(p, sizeof(p), "routes", i, "kind"), x->kind, y->kind);
		diff_addr(c, at(p, sizeof(p), "routes", i, "via"), &x->via, &y->via);
		diff_str(c, at(p, sizeof(p), "routes", i, "dev"), x->dev, y->dev);
		diff_str(c, at(p, sizeof(p), "routes", i, "target_vrf"), x->target_vrf, y->target_vrf);
	}
	diff_u64(c, "neighbours (count)", a->n_neighbours, b->n_neighbours);
	for (size_t i = 0; !c->differs && i < a->n_neighbours; i++) {
		const struct conf_neighbour *x = &a->neighbours[i], *y = &b->neighbours[i];
		diff_str(c, at(p, sizeof(p), "neighbours", i, "interface"), x->interface, y->interface);
		diff_addr(c, at(p, sizeof(p), "neighbours", i, "ip"), &x->ip, &y->ip);
		diff_mac(c, at(p, sizeof(p), "neighbours", i, "mac"), x->mac, y->mac);
	}
}

bool conf_differs(const struct npsgw_conf *a, const struct npsgw_conf *b, unsigned mask, char *what, size_t len)
{
	struct cmp c = {.what = what, .len = len};
	if (len > 0)
		what[0] = '\0';
	if (mask & CONF_CMP_BOOT) {
		cmp_scalars(&c, a, b);
		cmp_devices(&c, a, b);
	}
	if (mask & CONF_CMP_TABLES) {
		cmp_vrfs_interfaces(&c, a, b);
		cmp_routes_neighbours(&c, a, b);
	}
	if ((mask & CONF_CMP_EXT) && !c.differs && conf_ext_differs(a, b, what, len))
		c.differs = true;
	return c.differs;
}
