/* SPDX-License-Identifier: BSD-3-Clause */
/* Neighbour internals shared by neigh.c (table, timers, hold queues), neigh_arp.c and neigh_ndp.c. Control only. */
#ifndef NPSGW_NEIGH_INT_H
#define NPSGW_NEIGH_INT_H

#include "dataplane/cp.h"
#include "lib/neigh/neigh_fsm.h"

struct neigh {
	uint32_t nh;        /* its NH_T_NEIGH entry: iface, family and address live there */
	bool active;        /* resolution started, learned or static (a gateway's entry starts idle) */
	bool is_static;
	bool host_route;    /* installed the /32 or /128 route in the interface's VRF */
	uint8_t ev_state;   /* state last reported to event subscribers (dataplane/events.h) */
	bool self_ref;      /* holds a reference of its own (created from traffic or config, not by a gateway) */
	struct neigh_fsm fsm;
	uint64_t created_ms;
	uint32_t n_hold;
	struct rte_mbuf **hold;
};

extern struct neigh_fsm_params neigh_params;

struct neigh *neigh_of(uint32_t nh);
/* Find the entry for (iface, ip), or create it when create is set (NULL when full or off-link). */
struct neigh *neigh_lookup(uint16_t iface, const struct addr *ip, bool create);
/* Resolution starts or the entry is learned: it becomes visible (host route). */
void neigh_activate(struct neigh *n);
/* Feed the FSM's returned actions back: publish, probe, flush, drop, delete. n may be freed. */
void neigh_apply(struct neigh *n, uint32_t actions);

/* Packets (neigh_arp.c / neigh_ndp.c) */
void arp_input(struct rte_mbuf *m);
void ndp_input(struct rte_mbuf *m);
void arp_send_request(const struct iface *ifc, const struct addr *target, const uint8_t *dst_mac);
void arp_send_gratuitous(const struct iface *ifc, const struct addr *a);
void ndp_send_ns(const struct iface *ifc, const struct addr *target, const uint8_t *dst_mac);
void ndp_send_unsolicited_na(const struct iface *ifc, const struct addr *a);
/* The interface address to use as a source towards target: same subnet first, then the primary. */
bool iface_source_for(const struct iface *ifc, const struct addr *target, struct addr *src);

#define CTL_COUNT(name) (dp.ctl_counters[CTL_##name]++)

#endif
