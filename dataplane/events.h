/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asynchronous events for control-socket subscribers (docs/CONTROL.md, "Events"): link changes, neighbour changes
 * and configuration changes, each one JSON object. Control thread only. Publishing never blocks: a subscriber that
 * does not read loses events (counted), nobody else waits.
 */
#ifndef NPSGW_EVENTS_H
#define NPSGW_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* ctl_cmds.h */

#include "dataplane/ctl_cmds.h"
#include "lib/hdr/addr.h"

/* Topics (bits of the server's subscription mask). */
#define EV_LINK 0x1u
#define EV_NEIGHBOUR 0x2u
#define EV_CONFIG 0x4u
#define EV_FIREWALL 0x8u /* firewall log records (nf/fw) */
#define EV_NAT 0x10u     /* NAT port-block allocations and releases, quota and exhaustion records (nf/nat) */
#define EV_IPSEC 0x20u   /* SA lifetimes, sequence exhaustion, peers that moved (nf/ipsec) */
#define EV_ALL (EV_LINK | EV_NEIGHBOUR | EV_CONFIG | EV_FIREWALL | EV_NAT | EV_IPSEC)

/* Remember the server events go through and the ports' current link states (no event for those). */
void events_init(struct ctl_server *srv);
/* Compare every port's link with the last state seen (rte_eth_link_get_nowait); publish the changes. */
void events_poll_links(void);
/* A neighbour entry changed: state as `show neighbours` names it, or "deleted"; mac NULL when unknown. */
void event_neighbour(const char *iface, const struct addr *ip, const char *state, const uint8_t *mac);
/* The configuration changed: what says how ("route add vrf blue prefix 10.0.0.0/24"). */
void event_config(const char *what);
/*
 * After a request was served (the server's handle callback): when it was a successful add, del or set command,
 * publish a config event with the command and its arguments.
 */
void events_after_request(const char *line, size_t len, const struct sbuf *reply_frame);
/* Does any client want events of topic? (skip building those nobody reads) */
bool event_wanted(uint64_t topic);
/* Publish {"event":NAME,"time":UNIX.MS,MEMBERS}: members are JSON object members ("\"rule\":\"web\",..."). */
void event_publish(uint64_t topic, const char *name, const char *members);
/* Event frames queued to subscribers, and dropped because a subscriber's queue was full. */
void events_stats(uint64_t *queued, uint64_t *dropped);

CTL_HANDLER(cmd_subscribe);
CTL_HANDLER(cmd_unsubscribe);

#endif
