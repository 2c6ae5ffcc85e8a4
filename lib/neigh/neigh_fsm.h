/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour unreachability detection state machine (RFC 4861 section 7.3, applied to ARP too).
 *
 * Pure logic: no packets, no clock of its own. The caller passes "now" (milliseconds, monotonic) and carries out the
 * returned actions (send a probe, flush or drop the hold queue, delete the entry). Tests drive it with a fake clock.
 * One owner: the control thread; workers only see the resulting MAC/valid word published by the caller.
 */
#ifndef NPSGW_NEIGH_FSM_H
#define NPSGW_NEIGH_FSM_H

#include <stdbool.h>
#include <stdint.h>

enum neigh_state {
	NEIGH_INCOMPLETE = 0, /* resolution in progress: multicast (ARP broadcast / NS to solicited-node) probes */
	NEIGH_REACHABLE,      /* confirmed within reachable_ms */
	NEIGH_STALE,          /* MAC known, not confirmed; usable; first use moves to DELAY */
	NEIGH_DELAY,          /* used while STALE; waits delay_ms for upper-layer confirmation */
	NEIGH_PROBE,          /* unicast probes every retrans_ms */
	NEIGH_FAILED,         /* resolution failed; entry to be deleted */
	NEIGH_STATIC,         /* configured; never changes, never probed */
	NEIGH_STATE_COUNT
};

const char *neigh_state_name(enum neigh_state s);

struct neigh_fsm_params {
	uint32_t reachable_ms, retrans_ms, delay_ms, stale_ms;
	uint32_t max_mcast_probes, max_ucast_probes;
};

struct neigh_fsm {
	enum neigh_state state;
	uint64_t deadline; /* next timer, ms; 0 = none */
	uint64_t last_used; /* last time traffic used the entry (set by the caller via neigh_fsm_used) */
	uint32_t probes;   /* probes sent in the current INCOMPLETE/PROBE phase */
	bool has_mac;
	uint8_t mac[6];
};

/* Actions, ORed. */
#define NEIGH_ACT_MCAST_PROBE 0x01 /* send a broadcast ARP request / multicast NS */
#define NEIGH_ACT_UCAST_PROBE 0x02 /* send a unicast ARP request / NS to the known MAC */
#define NEIGH_ACT_FLUSH_HOLD 0x04  /* MAC now known: transmit the held packets */
#define NEIGH_ACT_DROP_HOLD 0x08   /* resolution failed: drop held packets (ICMP host unreachable) */
#define NEIGH_ACT_DELETE 0x10      /* remove the entry */
#define NEIGH_ACT_MAC_CHANGED 0x20 /* publish the new MAC/validity to the data plane */

/* Kinds of received evidence about a neighbour. */
enum neigh_evidence {
	NEIGH_EV_SOLICITED_CONFIRM, /* NA with S flag, or ARP reply to our request: reachability confirmed */
	NEIGH_EV_UNSOLICITED,       /* NA without S (O flag given separately), gratuitous ARP */
	NEIGH_EV_SOURCE_LLADDR,     /* NS/RS/ARP request from it carrying its link-layer address */
};

/* New dynamic entry (traffic needs it): INCOMPLETE, first multicast probe. */
uint32_t neigh_fsm_start(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now);
/* New entry learned from a packet carrying the neighbour's MAC (RFC 4861 7.2.3): STALE. */
uint32_t neigh_fsm_learn(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now, const uint8_t mac[6]);
/* Static entry. */
void neigh_fsm_static(struct neigh_fsm *n, const uint8_t mac[6]);
/*
 * Evidence received (RFC 4861 7.2.5 for NA: solicited/override flags; ARP maps onto the same rules: a reply to our
 * request is solicited+override, a request from the neighbour is SOURCE_LLADDR).
 * mac may be NULL when the message carried no link-layer address (then it only confirms when the entry has one).
 */
uint32_t neigh_fsm_rx(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now, enum neigh_evidence ev,
		      bool override, const uint8_t *mac);
/* Traffic used the entry at time now (STALE -> DELAY). */
uint32_t neigh_fsm_used(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now);
/* Timer: call when now >= deadline (calling early is harmless and returns 0). */
uint32_t neigh_fsm_timer(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now);
/* May the data plane forward with this entry's MAC? (REACHABLE, STALE, DELAY, PROBE, STATIC with a MAC) */
bool neigh_fsm_usable(const struct neigh_fsm *n);

#endif
