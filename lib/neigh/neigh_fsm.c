/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour unreachability detection (RFC 4861 section 7.3 and Appendix C), shared by ARP and NDP.
 *
 * Conventions beyond the header:
 *  - neigh_fsm_start/learn/static initialise *n whatever it held; for an existing entry the caller uses rx.
 *  - FAILED is terminal and a deleted STALE entry keeps its state with no timer: the caller frees the entry on
 *    NEIGH_ACT_DELETE, so later calls on it do nothing.
 *  - A message without a link-layer address counts as carrying the cached one (RFC 4861 7.2.5).
 */
#include "lib/neigh/neigh_fsm.h"

#include <string.h>

const char *neigh_state_name(enum neigh_state s)
{
	static const char *const names[NEIGH_STATE_COUNT] = {
		[NEIGH_INCOMPLETE] = "incomplete",
		[NEIGH_REACHABLE] = "reachable",
		[NEIGH_STALE] = "stale",
		[NEIGH_DELAY] = "delay",
		[NEIGH_PROBE] = "probe",
		[NEIGH_FAILED] = "failed",
		[NEIGH_STATIC] = "static",
	};
	if ((unsigned)s >= NEIGH_STATE_COUNT)
		return "?";
	return names[s];
}

/* 0 means "no timer", so a timer due at time 0 is moved to 1 rather than lost. */
static uint64_t deadline_after(uint64_t now, uint32_t ms)
{
	uint64_t t = now + ms;
	return t == 0 ? 1 : t;
}

static void enter(struct neigh_fsm *n, enum neigh_state s, uint64_t deadline)
{
	n->state = s;
	n->deadline = deadline;
	n->probes = 0;
}

static void enter_reachable(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now)
{
	enter(n, NEIGH_REACHABLE, deadline_after(now, p->reachable_ms));
}

static void enter_stale(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now)
{
	enter(n, NEIGH_STALE, deadline_after(now, p->stale_ms));
}

static void set_mac(struct neigh_fsm *n, const uint8_t mac[6])
{
	memcpy(n->mac, mac, 6);
	n->has_mac = true;
}

uint32_t neigh_fsm_start(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now)
{
	*n = (struct neigh_fsm){.state = NEIGH_INCOMPLETE, .probes = 1, .last_used = now};
	n->deadline = deadline_after(now, p->retrans_ms);
	return NEIGH_ACT_MCAST_PROBE;
}

uint32_t neigh_fsm_learn(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now, const uint8_t mac[6])
{
	*n = (struct neigh_fsm){0}; /* last_used 0: learning is not use, so an idle learned entry is collected */
	set_mac(n, mac);
	enter_stale(n, p, now);
	return NEIGH_ACT_MAC_CHANGED;
}

void neigh_fsm_static(struct neigh_fsm *n, const uint8_t mac[6])
{
	*n = (struct neigh_fsm){.state = NEIGH_STATIC};
	set_mac(n, mac);
}

/* First link-layer address for an entry being resolved: the held packets can go. */
static uint32_t rx_incomplete(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now,
			      enum neigh_evidence ev, const uint8_t *mac)
{
	if (mac == NULL)
		return 0;
	set_mac(n, mac);
	if (ev == NEIGH_EV_SOLICITED_CONFIRM)
		enter_reachable(n, p, now);
	else
		enter_stale(n, p, now);
	return NEIGH_ACT_MAC_CHANGED | NEIGH_ACT_FLUSH_HOLD;
}

/* Neighbour advertisement (or ARP reply) for an entry with a MAC: RFC 4861 7.2.5 and 7.2.6. */
static uint32_t rx_advert(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now, bool solicited,
			  bool override, const uint8_t *mac)
{
	bool same = mac == NULL || memcmp(mac, n->mac, 6) == 0;
	if (!same && !override) {
		/* Conflicting but not authoritative: keep the MAC, only doubt a confirmed one. */
		if (n->state == NEIGH_REACHABLE)
			enter_stale(n, p, now);
		return 0;
	}
	uint32_t act = 0;
	if (!same) {
		set_mac(n, mac);
		act = NEIGH_ACT_MAC_CHANGED;
	}
	if (solicited)
		enter_reachable(n, p, now);
	else if (!same)
		enter_stale(n, p, now);
	return act;
}

/* Solicitation carrying the sender's address (RFC 4861 7.2.3): a new MAC is believed but not confirmed. */
static uint32_t rx_source_lladdr(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now,
				 const uint8_t *mac)
{
	if (mac == NULL || memcmp(mac, n->mac, 6) == 0)
		return 0;
	set_mac(n, mac);
	enter_stale(n, p, now);
	return NEIGH_ACT_MAC_CHANGED;
}

uint32_t neigh_fsm_rx(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now, enum neigh_evidence ev,
		      bool override, const uint8_t *mac)
{
	switch (n->state) {
	case NEIGH_INCOMPLETE:
		return rx_incomplete(n, p, now, ev, mac);
	case NEIGH_REACHABLE:
	case NEIGH_STALE:
	case NEIGH_DELAY:
	case NEIGH_PROBE:
		if (ev == NEIGH_EV_SOURCE_LLADDR)
			return rx_source_lladdr(n, p, now, mac);
		return rx_advert(n, p, now, ev == NEIGH_EV_SOLICITED_CONFIRM, override, mac);
	default: /* FAILED, STATIC */
		return 0;
	}
}

uint32_t neigh_fsm_used(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now)
{
	n->last_used = now;
	if (n->state == NEIGH_STALE)
		enter(n, NEIGH_DELAY, deadline_after(now, p->delay_ms));
	return 0;
}

/* Send another probe while the budget lasts; afterwards the neighbour is declared unreachable. */
static uint32_t probe_or_fail(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now, uint32_t max,
			      uint32_t probe_act)
{
	if (n->probes < max) {
		n->probes++;
		n->deadline = deadline_after(now, p->retrans_ms);
		return probe_act;
	}
	enter(n, NEIGH_FAILED, 0);
	return NEIGH_ACT_DROP_HOLD | NEIGH_ACT_DELETE;
}

uint32_t neigh_fsm_timer(struct neigh_fsm *n, const struct neigh_fsm_params *p, uint64_t now)
{
	if (n->deadline == 0 || now < n->deadline)
		return 0;
	switch (n->state) {
	case NEIGH_INCOMPLETE:
		return probe_or_fail(n, p, now, p->max_mcast_probes, NEIGH_ACT_MCAST_PROBE);
	case NEIGH_REACHABLE:
		enter_stale(n, p, now);
		return 0;
	case NEIGH_STALE:
		/* Garbage collection: written as a sum so that now < stale_ms cannot wrap. */
		if (n->last_used + p->stale_ms < now) {
			n->deadline = 0;
			return NEIGH_ACT_DELETE;
		}
		n->deadline = deadline_after(now, p->stale_ms);
		return 0;
	case NEIGH_DELAY:
		enter(n, NEIGH_PROBE, deadline_after(now, p->retrans_ms));
		n->probes = 1;
		return NEIGH_ACT_UCAST_PROBE;
	case NEIGH_PROBE:
		return probe_or_fail(n, p, now, p->max_ucast_probes, NEIGH_ACT_UCAST_PROBE);
	default: /* FAILED, STATIC: no timers */
		n->deadline = 0;
		return 0;
	}
}

bool neigh_fsm_usable(const struct neigh_fsm *n)
{
	switch (n->state) {
	case NEIGH_REACHABLE:
	case NEIGH_STALE:
	case NEIGH_DELAY:
	case NEIGH_PROBE:
	case NEIGH_STATIC:
		return n->has_mac;
	default:
		return false;
	}
}
