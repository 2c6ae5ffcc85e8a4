/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane operations: one function per operation, called alike by the boot config loader, the control
 * socket handlers and the tests. All run on the control thread. Each returns 0 or a positive errno value with a
 * human-readable message in err (what is wrong and what was expected), and leaves the tables unchanged on error.
 */
#ifndef NPSGW_CP_H
#define NPSGW_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp.h"

#define CP_ERR_MAX 256

/* Tables: sized from conf->limits; must run after rte_eal_init and before anything else here. */
int cp_tables_init(const struct npsgw_conf *conf, char *err, size_t errlen);

/* Next hops (dataplane/nexthop.c) */
struct nh_key {
	uint8_t type;
	uint8_t family;
	uint16_t iface;
	uint32_t target_vrf;
	uint8_t addr[16];
};
int nh_table_init(uint32_t max_nhs, char *err, size_t errlen);
/* Find or create the next hop for key and take a reference. Returns its index or 0 (NH_NONE) when full. */
uint32_t nh_get(const struct nh_key *key);
/* Find without creating or referencing; 0 when absent. */
uint32_t nh_find(const struct nh_key *key);
void nh_ref(uint32_t idx);
/* Drop a reference; the last one frees the entry after a grace period (and its neighbour state). */
void nh_put(uint32_t idx);
/*
 * Tunnel interface id was published as ifc (NULL: removed): its next hops' copy (struct nexthop tunnel_out) follows.
 * Scans the next-hop table: called only when the copy changes (MTU, state) or the interface goes.
 */
void nh_tunnel_out_refresh(uint16_t id, const struct iface *ifc);
const char *nh_type_name(uint8_t type);

/* VRFs (dataplane/vrf.c) */
struct vrf *vrf_by_name(const char *name);
int cp_vrf_add(const char *name, uint32_t id, bool compact, uint32_t max_routes, char *err, size_t errlen);
int cp_vrf_del(const char *name, char *err, size_t errlen);
/* The VRF's FIBs, created on first use. NULL (err filled) when they cannot be created. */
struct fib4 *vrf_fib4(struct vrf *v, char *err, size_t errlen);
struct fib6 *vrf_fib6(struct vrf *v, char *err, size_t errlen);

/* Interfaces and addresses (dataplane/iface.c) */
struct iface *iface_by_name(const char *name);
int cp_iface_add(const char *name, const char *device, uint16_t vlan, const char *vrf, uint16_t mtu,
		 const uint8_t *mac /* NULL = device MAC */, char *err, size_t errlen);
int cp_iface_del(const char *name, char *err, size_t errlen);
/* An interface of a network function's kind ("ipsec": a tunnel): no device; routes through it need no neighbour. */
#define IFACE_TUNNEL_MTU_DEFAULT CONF_TUNNEL_MTU_DEFAULT
#define IFACE_TUNNEL_MTU_MAX CONF_TUNNEL_MTU_MAX
int cp_iface_add_kind(const char *name, const char *kind, const char *vrf, uint16_t mtu, char *err, size_t errlen);
/* Add the interface a config entry describes (a device port or a function's kind). */
int cp_iface_add_conf(const struct conf_interface *ci, char *err, size_t errlen);
/* mtu 0 = unchanged; up: -1 unchanged, 0 down, 1 up */
int cp_iface_set(const char *name, uint16_t mtu, int up, char *err, size_t errlen);
int cp_addr_add(const char *iface, const struct addr_prefix *p, char *err, size_t errlen);
int cp_addr_del(const char *iface, const struct addr_prefix *p, char *err, size_t errlen);
/* Does this interface own address a? */
bool iface_has_addr(const struct iface *ifc, const struct addr *a);

/* Routes (dataplane/route.c) */
int cp_route_add(const struct conf_route *r, char *err, size_t errlen);
int cp_route_del(const char *vrf, const struct addr_prefix *p, char *err, size_t errlen);
/* Is the route p -> nh owned by the system (an address's local or connected route, a neighbour's host route,
 * a subnet broadcast), not by an operator? */
bool route_is_system(const struct addr_prefix *p, uint32_t nh);
/* Exact-match next hop of a route, NH_NONE when absent. */
uint32_t vrf_route_get(const struct vrf *v, const struct addr_prefix *p);
/* The route (prefix) that dst matches in VRF slot vrf, following no leak: 0, or -ENOENT. */
int route_lookup_prefix(uint32_t vrf, const struct addr *dst, struct addr_prefix *out);
/* Install/remove a route owned by the system (local, connected, neighbour host routes). */
int route_install(struct vrf *v, const struct addr_prefix *p, uint32_t nh, char *err, size_t errlen);
int route_remove(struct vrf *v, const struct addr_prefix *p);

/* Neighbours (dataplane/neigh.c) */
int cp_neigh_add_static(const char *iface, const struct addr *ip, const uint8_t mac[6], char *err, size_t errlen);
int cp_neigh_del(const char *iface, const struct addr *ip, char *err, size_t errlen);
/* A NEIGH next hop was created / is being freed: attach / release its control state. */
int neigh_attach(uint32_t nh_idx);
void neigh_detach(uint32_t nh_idx);
/* Punted packets (ARP, NDP, packets waiting for resolution) and timers; called from the control loop. */
void neigh_handle_punt(struct rte_mbuf *m);
void neigh_timers(uint64_t now_ms);
/* Remove every neighbour (static or learned) of an interface that is going away. */
void neigh_flush_iface(uint16_t iface);
/* Remove the interface's neighbours that are no longer on one of its subnets (an address was removed). */
void neigh_flush_offlink(uint16_t iface);
/* route_install replaced the host route of neighbour next hop nh by another route. */
void neigh_host_route_lost(uint32_t nh);
/* Announce an address (gratuitous ARP / unsolicited NA) once the ports run. */
void neigh_announce(const struct iface *ifc, const struct addr *a);
/* Walk neighbours for display. */
struct neigh_view {
	uint16_t iface;
	struct addr ip;
	uint8_t mac[6];
	bool has_mac;
	const char *state;
	uint32_t probes;
	uint32_t held;
	uint64_t age_ms;
	uint32_t nh;
};
typedef int (*neigh_walk_fn)(void *cookie, const struct neigh_view *n);
void neigh_walk(neigh_walk_fn fn, void *cookie);

/* Ports (dataplane/ports.c) */
int ports_init(const struct npsgw_conf *conf, char *err, size_t errlen);
int ports_start(char *err, size_t errlen);
void ports_stop(void);
struct port *port_by_name(const char *name);
/* Send a packet built by the control thread (on the port's control tx queue). Consumes m. */
void ctl_tx(uint16_t port, struct rte_mbuf *m);

/* Graphs and workers (dataplane/graph.c, dataplane/worker.c) */
int graphs_create(char *err, size_t errlen);
int workers_start(char *err, size_t errlen);
void workers_stop(void);

/* Apply a whole config model (boot). */
int cp_apply_conf(const struct npsgw_conf *conf, char *err, size_t errlen);

/* Monotonic milliseconds. */
uint64_t cp_now_ms(void);

#endif
