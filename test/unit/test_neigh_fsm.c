/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour unreachability detection: every transition with a fake millisecond clock, exact probe counts and
 * timings, then a table-driven reference model compared with the implementation over random event sequences.
 */
#include "lib/neigh/neigh_fsm.h"

#include <CUnit/Basic.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0xaa};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0xbb};

static const struct neigh_fsm_params PARAMS = {
	.reachable_ms = 30000,
	.retrans_ms = 1000,
	.delay_ms = 5000,
	.stale_ms = 60000,
	.max_mcast_probes = 3,
	.max_ucast_probes = 3,
};

#define ACT_MC NEIGH_ACT_MAC_CHANGED
#define ACT_FLUSH NEIGH_ACT_FLUSH_HOLD

static bool mac_is(const struct neigh_fsm *n, const uint8_t mac[6])
{
	return n->has_mac && memcmp(n->mac, mac, 6) == 0;
}

/* Entry in the given state with MAC_A at time now, reached through the public API only. */
static void make_entry(struct neigh_fsm *n, enum neigh_state s, uint64_t now)
{
	switch (s) {
	case NEIGH_INCOMPLETE:
		neigh_fsm_start(n, &PARAMS, now);
		break;
	case NEIGH_REACHABLE:
		neigh_fsm_start(n, &PARAMS, now);
		neigh_fsm_rx(n, &PARAMS, now, NEIGH_EV_SOLICITED_CONFIRM, true, MAC_A);
		break;
	case NEIGH_STALE:
		neigh_fsm_learn(n, &PARAMS, now, MAC_A);
		break;
	case NEIGH_DELAY:
		neigh_fsm_learn(n, &PARAMS, now, MAC_A);
		neigh_fsm_used(n, &PARAMS, now);
		break;
	case NEIGH_PROBE:
		/* DELAY entered at now - delay_ms expires exactly now. */
		neigh_fsm_learn(n, &PARAMS, now - PARAMS.delay_ms, MAC_A);
		neigh_fsm_used(n, &PARAMS, now - PARAMS.delay_ms);
		neigh_fsm_timer(n, &PARAMS, now);
		break;
	case NEIGH_FAILED:
		neigh_fsm_start(n, &PARAMS, now - 3000);
		neigh_fsm_timer(n, &PARAMS, now - 2000);
		neigh_fsm_timer(n, &PARAMS, now - 1000);
		neigh_fsm_timer(n, &PARAMS, now);
		break;
	case NEIGH_STATIC:
	default:
		neigh_fsm_static(n, MAC_A);
		break;
	}
	CU_ASSERT_EQUAL_FATAL(n->state, s);
}

static void test_state_names(void)
{
	static const char *const expected[] = {
		"incomplete", "reachable", "stale", "delay", "probe", "failed", "static",
	};
	for (int s = 0; s < NEIGH_STATE_COUNT; s++)
		CU_ASSERT_STRING_EQUAL(neigh_state_name((enum neigh_state)s), expected[s]);
	CU_ASSERT_PTR_NOT_NULL(neigh_state_name(NEIGH_STATE_COUNT));
}

static void test_usable(void)
{
	static const bool expected[NEIGH_STATE_COUNT] = {
		[NEIGH_REACHABLE] = true, [NEIGH_STALE] = true, [NEIGH_DELAY] = true, [NEIGH_PROBE] = true,
		[NEIGH_STATIC] = true,
	};
	for (int s = 0; s < NEIGH_STATE_COUNT; s++) {
		struct neigh_fsm n;
		make_entry(&n, (enum neigh_state)s, 100000);
		CU_ASSERT_EQUAL(neigh_fsm_usable(&n), expected[s]);
		n.has_mac = false; /* a usable state is not enough without a MAC */
		CU_ASSERT_FALSE(neigh_fsm_usable(&n));
	}
}

static void test_start(void)
{
	struct neigh_fsm n;
	memset(&n, 0xa5, sizeof(n)); /* start must not depend on previous content */
	CU_ASSERT_EQUAL(neigh_fsm_start(&n, &PARAMS, 500), NEIGH_ACT_MCAST_PROBE);
	CU_ASSERT_EQUAL(n.state, NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(n.probes, 1);
	CU_ASSERT_EQUAL(n.deadline, 1500);
	CU_ASSERT_FALSE(n.has_mac);
	CU_ASSERT_FALSE(neigh_fsm_usable(&n));
}

/* retrans 1000, 3 probes: MCAST_PROBE at t=0, 1000, 2000; FAILED at t=3000. */
static void test_incomplete_fails_after_probes(void)
{
	struct neigh_fsm n;
	int probes_sent = 0;
	if (neigh_fsm_start(&n, &PARAMS, 0) == NEIGH_ACT_MCAST_PROBE)
		probes_sent++;
	for (uint64_t t = 1000; t <= 2000; t += 1000) {
		CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, t - 1), 0); /* early: nothing */
		CU_ASSERT_EQUAL(n.probes, (uint32_t)probes_sent);
		if (neigh_fsm_timer(&n, &PARAMS, t) == NEIGH_ACT_MCAST_PROBE)
			probes_sent++;
		CU_ASSERT_EQUAL(n.state, NEIGH_INCOMPLETE);
		CU_ASSERT_EQUAL(n.probes, (uint32_t)probes_sent);
		CU_ASSERT_EQUAL(n.deadline, t + 1000);
	}
	CU_ASSERT_EQUAL(probes_sent, 3);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 2999), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 3000), NEIGH_ACT_DROP_HOLD | NEIGH_ACT_DELETE);
	CU_ASSERT_EQUAL(n.state, NEIGH_FAILED);
	CU_ASSERT_EQUAL(n.deadline, 0);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 100000), 0);
}

static void test_incomplete_probe_counts(void)
{
	for (uint32_t max = 1; max <= 6; max++) {
		struct neigh_fsm_params p = PARAMS;
		p.max_mcast_probes = max;
		p.retrans_ms = 250;
		struct neigh_fsm n;
		uint32_t mcast = 0, act = neigh_fsm_start(&n, &p, 10);
		uint64_t t = 10;
		while (!(act & NEIGH_ACT_DELETE) && t < 100000) {
			mcast += (act & NEIGH_ACT_MCAST_PROBE) != 0;
			t = n.deadline;
			act = neigh_fsm_timer(&n, &p, t);
		}
		CU_ASSERT_EQUAL(mcast, max);
		CU_ASSERT_EQUAL(t, 10 + (uint64_t)max * 250);
		CU_ASSERT_EQUAL(act, NEIGH_ACT_DROP_HOLD | NEIGH_ACT_DELETE);
	}
}

static void test_incomplete_rx(void)
{
	struct neigh_fsm n;
	/* Solicited confirmation: reachable, held packets go out. */
	neigh_fsm_start(&n, &PARAMS, 0);
	CU_ASSERT_EQUAL(neigh_fsm_rx(&n, &PARAMS, 400, NEIGH_EV_SOLICITED_CONFIRM, true, MAC_A), ACT_MC | ACT_FLUSH);
	CU_ASSERT_EQUAL(n.state, NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(n.deadline, 400 + PARAMS.reachable_ms);
	CU_ASSERT(mac_is(&n, MAC_A));
	CU_ASSERT(neigh_fsm_usable(&n));
	/* Solicited without the override flag still resolves an incomplete entry. */
	neigh_fsm_start(&n, &PARAMS, 0);
	CU_ASSERT_EQUAL(neigh_fsm_rx(&n, &PARAMS, 1, NEIGH_EV_SOLICITED_CONFIRM, false, MAC_B), ACT_MC | ACT_FLUSH);
	CU_ASSERT_EQUAL(n.state, NEIGH_REACHABLE);
	CU_ASSERT(mac_is(&n, MAC_B));
	/* Unsolicited information, with or without override, and solicitations: stale. */
	for (int ev = NEIGH_EV_UNSOLICITED; ev <= NEIGH_EV_SOURCE_LLADDR; ev++) {
		for (int o = 0; o <= 1; o++) {
			neigh_fsm_start(&n, &PARAMS, 0);
			uint32_t act = neigh_fsm_rx(&n, &PARAMS, 700, (enum neigh_evidence)ev, o, MAC_B);
			CU_ASSERT_EQUAL(act, ACT_MC | ACT_FLUSH);
			CU_ASSERT_EQUAL(n.state, NEIGH_STALE);
			CU_ASSERT_EQUAL(n.deadline, 700 + PARAMS.stale_ms);
			CU_ASSERT_EQUAL(n.probes, 0);
			CU_ASSERT(mac_is(&n, MAC_B));
		}
	}
	/* No link-layer address: nothing learned, probing continues. */
	for (int ev = NEIGH_EV_SOLICITED_CONFIRM; ev <= NEIGH_EV_SOURCE_LLADDR; ev++) {
		neigh_fsm_start(&n, &PARAMS, 0);
		struct neigh_fsm before = n;
		CU_ASSERT_EQUAL(neigh_fsm_rx(&n, &PARAMS, 700, (enum neigh_evidence)ev, true, NULL), 0);
		CU_ASSERT_EQUAL(memcmp(&before, &n, sizeof(n)), 0);
	}
}

static void test_learn_and_gc(void)
{
	struct neigh_fsm n;
	memset(&n, 0x5a, sizeof(n));
	CU_ASSERT_EQUAL(neigh_fsm_learn(&n, &PARAMS, 100, MAC_A), ACT_MC);
	CU_ASSERT_EQUAL(n.state, NEIGH_STALE);
	CU_ASSERT(mac_is(&n, MAC_A));
	CU_ASSERT_EQUAL(n.deadline, 100 + PARAMS.stale_ms);
	CU_ASSERT_EQUAL(n.probes, 0);
	CU_ASSERT(neigh_fsm_usable(&n));
	/* Never used: collected when the stale timer fires. */
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, n.deadline - 1), 0);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 100 + PARAMS.stale_ms), NEIGH_ACT_DELETE);
	CU_ASSERT_EQUAL(n.deadline, 0);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 1000000), 0);

	/* Used at the instant it went stale: last_used == now - stale_ms is "used since", so re-armed once. */
	neigh_fsm_start(&n, &PARAMS, 0);
	neigh_fsm_rx(&n, &PARAMS, 10, NEIGH_EV_SOLICITED_CONFIRM, true, MAC_A);
	uint64_t t = 10 + PARAMS.reachable_ms;
	neigh_fsm_used(&n, &PARAMS, t); /* REACHABLE: recorded, no transition */
	CU_ASSERT_EQUAL(n.state, NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(n.last_used, t);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, t), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_STALE);
	CU_ASSERT_EQUAL(n.deadline, t + PARAMS.stale_ms);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, t + PARAMS.stale_ms), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_STALE);
	CU_ASSERT_EQUAL(n.deadline, t + 2 * (uint64_t)PARAMS.stale_ms);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, t + 2 * (uint64_t)PARAMS.stale_ms), NEIGH_ACT_DELETE);

	/* Entering STALE again (here from REACHABLE through a conflicting advert) restarts the collection timer. */
	make_entry(&n, NEIGH_REACHABLE, 1000);
	CU_ASSERT_EQUAL(neigh_fsm_rx(&n, &PARAMS, 1200, NEIGH_EV_UNSOLICITED, false, MAC_B), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_STALE);
	CU_ASSERT_EQUAL(n.deadline, 1200 + PARAMS.stale_ms);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 1200 + PARAMS.stale_ms), NEIGH_ACT_DELETE);
}

static void test_used(void)
{
	for (int s = 0; s < NEIGH_STATE_COUNT; s++) {
		struct neigh_fsm n;
		make_entry(&n, (enum neigh_state)s, 100000);
		struct neigh_fsm before = n;
		CU_ASSERT_EQUAL(neigh_fsm_used(&n, &PARAMS, 100007), 0);
		CU_ASSERT_EQUAL(n.last_used, 100007);
		if (s == NEIGH_STALE) {
			CU_ASSERT_EQUAL(n.state, NEIGH_DELAY);
			CU_ASSERT_EQUAL(n.deadline, 100007 + PARAMS.delay_ms);
		} else {
			before.last_used = n.last_used;
			CU_ASSERT_EQUAL(memcmp(&before, &n, sizeof(n)), 0);
		}
	}
}

static void test_timers(void)
{
	struct neigh_fsm n;
	/* REACHABLE expires to STALE. */
	make_entry(&n, NEIGH_REACHABLE, 1000);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 1000 + PARAMS.reachable_ms - 1), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 1000 + PARAMS.reachable_ms), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_STALE);
	CU_ASSERT_EQUAL(n.deadline, 1000 + PARAMS.reachable_ms + PARAMS.stale_ms);
	CU_ASSERT(mac_is(&n, MAC_A));

	/* STALE -> used -> DELAY -> PROBE x3 (unicast, every retrans_ms) -> FAILED. */
	neigh_fsm_learn(&n, &PARAMS, 0, MAC_A);
	neigh_fsm_used(&n, &PARAMS, 2000);
	CU_ASSERT_EQUAL(n.state, NEIGH_DELAY);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 6999), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_DELAY);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 7000), NEIGH_ACT_UCAST_PROBE);
	CU_ASSERT_EQUAL(n.state, NEIGH_PROBE);
	CU_ASSERT_EQUAL(n.probes, 1);
	CU_ASSERT_EQUAL(n.deadline, 8000);
	CU_ASSERT(neigh_fsm_usable(&n));
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 7999), 0);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 8000), NEIGH_ACT_UCAST_PROBE);
	CU_ASSERT_EQUAL(n.probes, 2);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 9000), NEIGH_ACT_UCAST_PROBE);
	CU_ASSERT_EQUAL(n.probes, 3);
	CU_ASSERT_EQUAL(n.deadline, 10000);
	CU_ASSERT_EQUAL(n.state, NEIGH_PROBE);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 10000), NEIGH_ACT_DELETE | NEIGH_ACT_DROP_HOLD);
	CU_ASSERT_EQUAL(n.state, NEIGH_FAILED);
	CU_ASSERT_FALSE(neigh_fsm_usable(&n));

	/* A late timer paces the next probe from the time it actually ran. */
	make_entry(&n, NEIGH_PROBE, 50000);
	CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, 51500), NEIGH_ACT_UCAST_PROBE);
	CU_ASSERT_EQUAL(n.deadline, 52500);

	/* A probe reply confirms a PROBE entry. */
	make_entry(&n, NEIGH_PROBE, 50000);
	CU_ASSERT_EQUAL(neigh_fsm_rx(&n, &PARAMS, 50300, NEIGH_EV_SOLICITED_CONFIRM, true, MAC_A), 0);
	CU_ASSERT_EQUAL(n.state, NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(n.probes, 0);
	CU_ASSERT_EQUAL(n.deadline, 50300 + PARAMS.reachable_ms);
}

/* Expected outcome of one message for an entry holding MAC_A (RFC 4861 7.2.3, 7.2.5, 7.2.6). */
struct rx_case {
	enum neigh_state from;
	enum neigh_evidence ev;
	bool override;
	const uint8_t *mac;
	enum neigh_state to;
	const uint8_t *mac_after;
	uint32_t act;
	uint32_t timer_ms; /* expected deadline - now, or UINT32_MAX: deadline unchanged */
};

#define UNCHANGED UINT32_MAX
#define S NEIGH_EV_SOLICITED_CONFIRM
#define U NEIGH_EV_UNSOLICITED
#define L NEIGH_EV_SOURCE_LLADDR

static void check_rx_cases(enum neigh_state from)
{
	const uint32_t R = PARAMS.reachable_ms, ST = PARAMS.stale_ms;
	bool reach = from == NEIGH_REACHABLE;
	const struct rx_case cases[] = {
		/* Solicited, same MAC (or none given): confirmed. */
		{from, S, false, MAC_A, NEIGH_REACHABLE, MAC_A, 0, R},
		{from, S, true, MAC_A, NEIGH_REACHABLE, MAC_A, 0, R},
		{from, S, false, NULL, NEIGH_REACHABLE, MAC_A, 0, R},
		/* Different MAC without override: a reachable entry is doubted, others ignore it. */
		{from, S, false, MAC_B, reach ? NEIGH_STALE : from, MAC_A, 0, reach ? ST : UNCHANGED},
		{from, U, false, MAC_B, reach ? NEIGH_STALE : from, MAC_A, 0, reach ? ST : UNCHANGED},
		/* Different MAC with override: taken; reachability per S. */
		{from, S, true, MAC_B, NEIGH_REACHABLE, MAC_B, ACT_MC, R},
		{from, U, true, MAC_B, NEIGH_STALE, MAC_B, ACT_MC, ST},
		/* Unsolicited with the same MAC confirms nothing. */
		{from, U, false, MAC_A, from, MAC_A, 0, UNCHANGED},
		{from, U, true, MAC_A, from, MAC_A, 0, UNCHANGED},
		{from, U, true, NULL, from, MAC_A, 0, UNCHANGED},
		/* Solicitation with the sender's address. */
		{from, L, false, MAC_B, NEIGH_STALE, MAC_B, ACT_MC, ST},
		{from, L, true, MAC_B, NEIGH_STALE, MAC_B, ACT_MC, ST},
		{from, L, false, MAC_A, from, MAC_A, 0, UNCHANGED},
		{from, L, false, NULL, from, MAC_A, 0, UNCHANGED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rx_case *c = &cases[i];
		struct neigh_fsm n;
		make_entry(&n, from, 100000);
		uint64_t old_deadline = n.deadline;
		uint32_t act = neigh_fsm_rx(&n, &PARAMS, 100100, c->ev, c->override, c->mac);
		bool ok = act == c->act && n.state == c->to && mac_is(&n, c->mac_after) &&
			  n.deadline == (c->timer_ms == UNCHANGED ? old_deadline : 100100 + (uint64_t)c->timer_ms);
		if (!ok)
			printf("\nrx case %zu from %s: got %s act %#x deadline %" PRIu64 "\n", i,
			       neigh_state_name(from), neigh_state_name(n.state), act, n.deadline);
		CU_ASSERT(ok);
	}
}

static void test_rx_known_entries(void)
{
	check_rx_cases(NEIGH_REACHABLE);
	check_rx_cases(NEIGH_STALE);
	check_rx_cases(NEIGH_DELAY);
	check_rx_cases(NEIGH_PROBE);
}

/* STATIC and FAILED entries ignore everything (used only records the time). */
static void test_inert_states(void)
{
	static const enum neigh_state inert[] = {NEIGH_STATIC, NEIGH_FAILED};
	for (size_t k = 0; k < 2; k++) {
		struct neigh_fsm n;
		make_entry(&n, inert[k], 100000);
		struct neigh_fsm before = n;
		const uint8_t *macs[] = {MAC_A, MAC_B, NULL};
		for (int ev = S; ev <= L; ev++) {
			for (int o = 0; o <= 1; o++) {
				for (int m = 0; m < 3; m++) {
					enum neigh_evidence e = (enum neigh_evidence)ev;
					CU_ASSERT_EQUAL(neigh_fsm_rx(&n, &PARAMS, 100001, e, o, macs[m]), 0);
				}
			}
		}
		for (uint64_t t = 100000; t < 100000 + 10 * (uint64_t)PARAMS.stale_ms; t += 777)
			CU_ASSERT_EQUAL(neigh_fsm_timer(&n, &PARAMS, t), 0);
		CU_ASSERT_EQUAL(neigh_fsm_used(&n, &PARAMS, 200000), 0);
		CU_ASSERT_EQUAL(n.last_used, 200000);
		n.last_used = before.last_used;
		CU_ASSERT_EQUAL(memcmp(&before, &n, sizeof(n)), 0);
		CU_ASSERT_EQUAL(n.deadline, 0);
	}
	struct neigh_fsm n;
	memset(&n, 0xff, sizeof(n));
	neigh_fsm_static(&n, MAC_B);
	CU_ASSERT_EQUAL(n.state, NEIGH_STATIC);
	CU_ASSERT(mac_is(&n, MAC_B));
	CU_ASSERT(neigh_fsm_usable(&n));
	CU_ASSERT_EQUAL(n.deadline, 0);
}

#undef S
#undef U
#undef L

/*
 * Reference model: the same machine as a lookup table. Each call is first classified into an event column; the
 * cell says what happens to state, MAC, timer and probe count, and which actions result.
 */
enum ref_event {
	RE_S_SAME, RE_S_DIFF_O, RE_S_DIFF, /* solicited advert */
	RE_U_SAME, RE_U_DIFF_O, RE_U_DIFF, /* unsolicited advert */
	RE_L_SAME, RE_L_DIFF,              /* solicitation with source address */
	RE_L_NONE,                         /* solicitation without one */
	RE_USED,
	RE_T_EARLY, /* timer not due */
	RE_T_DUE,   /* timer due; probes left, or a stale entry used since */
	RE_T_DONE,  /* timer due; probes exhausted, or a stale entry idle */
	RE_COUNT
};

enum ref_timer { RT_KEEP = 0, RT_NONE, RT_RETRANS, RT_REACH, RT_STALE, RT_DELAY };
enum ref_probes { RP_KEEP = 0, RP_ZERO, RP_ONE, RP_INC };
#define RS_KEEP (-1)

struct ref_cell {
	int next; /* enum neigh_state or RS_KEEP */
	bool take_mac;
	enum ref_timer timer;
	enum ref_probes probes;
	uint32_t act;
};

#define KEEP {RS_KEEP, false, RT_KEEP, RP_KEEP, 0}
#define GO_REACH(take, act) {NEIGH_REACHABLE, take, RT_REACH, RP_ZERO, act}
#define GO_STALE(take, act) {NEIGH_STALE, take, RT_STALE, RP_ZERO, act}

/* Rows shared by the four states with a MAC, except the cells that differ (filled in below). */
#define KNOWN_ROW(diff_no_override)                                                                   \
	{                                                                                             \
		[RE_S_SAME] = GO_REACH(false, 0), [RE_S_DIFF_O] = GO_REACH(true, ACT_MC),             \
		[RE_S_DIFF] = diff_no_override, [RE_U_SAME] = KEEP,                                   \
		[RE_U_DIFF_O] = GO_STALE(true, ACT_MC), [RE_U_DIFF] = diff_no_override,               \
		[RE_L_SAME] = KEEP, [RE_L_DIFF] = GO_STALE(true, ACT_MC), [RE_L_NONE] = KEEP,         \
		[RE_USED] = KEEP, [RE_T_EARLY] = KEEP, [RE_T_DUE] = KEEP, [RE_T_DONE] = KEEP,         \
	}

static struct ref_cell ref_table[NEIGH_STATE_COUNT][RE_COUNT];

static void ref_table_init(void)
{
	const struct ref_cell keep = KEEP;
	for (int s = 0; s < NEIGH_STATE_COUNT; s++)
		for (int e = 0; e < RE_COUNT; e++)
			ref_table[s][e] = keep;

	/* INCOMPLETE: no MAC yet, so any MAC given is "different". */
	struct ref_cell *inc = ref_table[NEIGH_INCOMPLETE];
	inc[RE_S_DIFF] = inc[RE_S_DIFF_O] = (struct ref_cell)GO_REACH(true, ACT_MC | ACT_FLUSH);
	inc[RE_U_DIFF] = inc[RE_U_DIFF_O] = inc[RE_L_DIFF] = (struct ref_cell)GO_STALE(true, ACT_MC | ACT_FLUSH);
	inc[RE_T_DUE] = (struct ref_cell){RS_KEEP, false, RT_RETRANS, RP_INC, NEIGH_ACT_MCAST_PROBE};
	const uint32_t give_up = NEIGH_ACT_DROP_HOLD | NEIGH_ACT_DELETE;
	inc[RE_T_DONE] = (struct ref_cell){NEIGH_FAILED, false, RT_NONE, RP_ZERO, give_up};

	const struct ref_cell reach_row[RE_COUNT] = KNOWN_ROW(GO_STALE(false, 0));
	const struct ref_cell other_row[RE_COUNT] = KNOWN_ROW(KEEP);
	memcpy(ref_table[NEIGH_REACHABLE], reach_row, sizeof(reach_row));
	memcpy(ref_table[NEIGH_STALE], other_row, sizeof(other_row));
	memcpy(ref_table[NEIGH_DELAY], other_row, sizeof(other_row));
	memcpy(ref_table[NEIGH_PROBE], other_row, sizeof(other_row));

	ref_table[NEIGH_REACHABLE][RE_T_DUE] = (struct ref_cell)GO_STALE(false, 0);
	ref_table[NEIGH_STALE][RE_USED] = (struct ref_cell){NEIGH_DELAY, false, RT_DELAY, RP_ZERO, 0};
	ref_table[NEIGH_STALE][RE_T_DUE] = (struct ref_cell){RS_KEEP, false, RT_STALE, RP_KEEP, 0};
	ref_table[NEIGH_STALE][RE_T_DONE] = (struct ref_cell){RS_KEEP, false, RT_NONE, RP_KEEP, NEIGH_ACT_DELETE};
	const uint32_t ucast = NEIGH_ACT_UCAST_PROBE;
	ref_table[NEIGH_DELAY][RE_T_DUE] = (struct ref_cell){NEIGH_PROBE, false, RT_RETRANS, RP_ONE, ucast};
	ref_table[NEIGH_PROBE][RE_T_DUE] = (struct ref_cell){RS_KEEP, false, RT_RETRANS, RP_INC, ucast};
	ref_table[NEIGH_PROBE][RE_T_DONE] = (struct ref_cell){NEIGH_FAILED, false, RT_NONE, RP_ZERO, give_up};
	/* FAILED and STATIC rows stay all KEEP. */
}

enum call_kind { CALL_START, CALL_LEARN, CALL_STATIC, CALL_RX, CALL_USED, CALL_TIMER };

struct call {
	enum call_kind kind;
	uint64_t now;
	enum neigh_evidence ev;
	bool override;
	const uint8_t *mac;
};

static enum ref_event ref_classify(const struct neigh_fsm *n, const struct neigh_fsm_params *p, const struct call *c)
{
	switch (c->kind) {
	case CALL_USED:
		return RE_USED;
	case CALL_TIMER: {
		if (n->deadline == 0 || (int64_t)c->now - (int64_t)n->deadline < 0)
			return RE_T_EARLY;
		if (n->state == NEIGH_INCOMPLETE)
			return n->probes >= p->max_mcast_probes ? RE_T_DONE : RE_T_DUE;
		if (n->state == NEIGH_PROBE)
			return n->probes >= p->max_ucast_probes ? RE_T_DONE : RE_T_DUE;
		if (n->state == NEIGH_STALE)
			return (int64_t)n->last_used < (int64_t)c->now - (int64_t)p->stale_ms ? RE_T_DONE : RE_T_DUE;
		return RE_T_DUE;
	}
	default:
		break;
	}
	/* A message without an address stands for the cached one; with no cached one it carries nothing. */
	bool none = c->mac == NULL;
	bool same = none || (n->has_mac && memcmp(c->mac, n->mac, 6) == 0);
	if (none && !n->has_mac)
		return c->ev == NEIGH_EV_SOURCE_LLADDR ? RE_L_NONE : RE_U_SAME; /* KEEP in every row without a MAC */
	switch (c->ev) {
	case NEIGH_EV_SOLICITED_CONFIRM:
		return same ? RE_S_SAME : c->override ? RE_S_DIFF_O : RE_S_DIFF;
	case NEIGH_EV_UNSOLICITED:
		return same ? RE_U_SAME : c->override ? RE_U_DIFF_O : RE_U_DIFF;
	default:
		return none ? RE_L_NONE : same ? RE_L_SAME : RE_L_DIFF;
	}
}

static uint32_t ref_apply(struct neigh_fsm *n, const struct neigh_fsm_params *p, const struct call *c)
{
	switch (c->kind) {
	case CALL_START:
		memset(n, 0, sizeof(*n));
		n->state = NEIGH_INCOMPLETE;
		n->probes = 1;
		n->last_used = c->now;
		n->deadline = c->now + p->retrans_ms;
		return NEIGH_ACT_MCAST_PROBE;
	case CALL_LEARN:
		memset(n, 0, sizeof(*n));
		n->state = NEIGH_STALE;
		n->has_mac = true;
		memcpy(n->mac, c->mac, 6);
		n->deadline = c->now + p->stale_ms;
		return NEIGH_ACT_MAC_CHANGED;
	case CALL_STATIC:
		memset(n, 0, sizeof(*n));
		n->state = NEIGH_STATIC;
		n->has_mac = true;
		memcpy(n->mac, c->mac, 6);
		return 0;
	default:
		break;
	}
	const struct ref_cell *cell = &ref_table[n->state][ref_classify(n, p, c)];
	if (c->kind == CALL_USED)
		n->last_used = c->now;
	if (cell->next != RS_KEEP)
		n->state = (enum neigh_state)cell->next;
	if (cell->take_mac) {
		n->has_mac = true;
		memcpy(n->mac, c->mac, 6);
	}
	const uint64_t timer_ms[] = {
		[RT_RETRANS] = p->retrans_ms, [RT_REACH] = p->reachable_ms, [RT_STALE] = p->stale_ms,
		[RT_DELAY] = p->delay_ms,
	};
	if (cell->timer == RT_NONE)
		n->deadline = 0;
	else if (cell->timer != RT_KEEP)
		n->deadline = c->now + timer_ms[cell->timer];
	if (cell->probes == RP_ZERO)
		n->probes = 0;
	else if (cell->probes == RP_ONE)
		n->probes = 1;
	else if (cell->probes == RP_INC)
		n->probes++;
	return cell->act;
}

static uint32_t impl_apply(struct neigh_fsm *n, const struct neigh_fsm_params *p, const struct call *c)
{
	switch (c->kind) {
	case CALL_START:
		return neigh_fsm_start(n, p, c->now);
	case CALL_LEARN:
		return neigh_fsm_learn(n, p, c->now, c->mac);
	case CALL_STATIC:
		neigh_fsm_static(n, c->mac);
		return 0;
	case CALL_RX:
		return neigh_fsm_rx(n, p, c->now, c->ev, c->override, c->mac);
	case CALL_USED:
		return neigh_fsm_used(n, p, c->now);
	default:
		return neigh_fsm_timer(n, p, c->now);
	}
}

static bool same_entry(const struct neigh_fsm *a, const struct neigh_fsm *b)
{
	return a->state == b->state && a->deadline == b->deadline && a->last_used == b->last_used &&
	       a->probes == b->probes && a->has_mac == b->has_mac && (!a->has_mac || memcmp(a->mac, b->mac, 6) == 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static const uint8_t RANDOM_MACS[3][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, {0, 0, 0, 0, 0, 0}};

static struct call random_call(const struct neigh_fsm *n, uint64_t *now, bool first)
{
	struct call c = {.mac = RANDOM_MACS[rnd(3)]};
	uint32_t r = first ? rnd(10) : 10 + rnd(90);
	if (r < 5)
		c.kind = CALL_START;
	else if (r < 9)
		c.kind = CALL_LEARN;
	else if (r < 10)
		c.kind = CALL_STATIC;
	else if (r < 45)
		c.kind = CALL_RX;
	else if (r < 60)
		c.kind = CALL_USED;
	else
		c.kind = CALL_TIMER;
	/* Small steps so that "exactly at the deadline" and "one past it" happen often. */
	*now += rnd(4) == 0 ? rnd(12) : rnd(3);
	if (c.kind == CALL_TIMER && n->deadline > *now && rnd(2) == 0)
		*now = n->deadline + rnd(2);
	c.now = *now;
	c.ev = (enum neigh_evidence)rnd(3);
	c.override = rnd(2);
	if (c.kind == CALL_RX && rnd(5) == 0)
		c.mac = NULL;
	return c;
}

static void test_random_against_reference(void)
{
	enum { SEQUENCES = 100000, MAX_CALLS = 40 };
	static const char *const kinds[] = {"start", "learn", "static", "rx", "used", "timer"};
	ref_table_init();
	uint32_t state_seen = 0, act_seen = 0;
	unsigned long calls = 0;
	for (int seq = 0; seq < SEQUENCES; seq++) {
		struct neigh_fsm_params p = {
			.reachable_ms = 1 + rnd(8),
			.retrans_ms = 1 + rnd(4),
			.delay_ms = 1 + rnd(6),
			.stale_ms = 1 + rnd(10),
			.max_mcast_probes = rnd(5),
			.max_ucast_probes = rnd(5),
		};
		struct neigh_fsm impl, ref;
		memset(&impl, 0, sizeof(impl));
		memset(&ref, 0, sizeof(ref));
		uint64_t now = rnd(3);
		int ncalls = 1 + (int)rnd(MAX_CALLS);
		for (int i = 0; i < ncalls; i++) {
			struct call c = random_call(&ref, &now, i == 0);
			uint32_t want = ref_apply(&ref, &p, &c);
			uint32_t got = impl_apply(&impl, &p, &c);
			calls++;
			state_seen |= 1u << ref.state;
			act_seen |= want;
			if (got != want || !same_entry(&impl, &ref)) {
				printf("\nseq %d call %d: %s now=%" PRIu64 " ev=%d o=%d mac=%s\n"
				       "  want %s act %#x deadline %" PRIu64 " probes %u\n"
				       "  got  %s act %#x deadline %" PRIu64 " probes %u\n",
				       seq, i, kinds[c.kind], c.now, c.ev, c.override, c.mac ? "yes" : "none",
				       neigh_state_name(ref.state), want, ref.deadline, ref.probes,
				       neigh_state_name(impl.state), got, impl.deadline, impl.probes);
				CU_FAIL("implementation differs from the reference model");
				return;
			}
		}
	}
	/* The walk must actually have visited every state and produced every action. */
	CU_ASSERT_EQUAL(state_seen, (1u << NEIGH_STATE_COUNT) - 1);
	CU_ASSERT_EQUAL(act_seen, 0x3fu);
	CU_ASSERT(calls > 1000000);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("neigh_fsm", NULL, NULL);
	CU_add_test(s, "state names", test_state_names);
	CU_add_test(s, "usable", test_usable);
	CU_add_test(s, "start", test_start);
	CU_add_test(s, "incomplete fails after probes", test_incomplete_fails_after_probes);
	CU_add_test(s, "incomplete probe counts", test_incomplete_probe_counts);
	CU_add_test(s, "incomplete rx", test_incomplete_rx);
	CU_add_test(s, "learn and garbage collection", test_learn_and_gc);
	CU_add_test(s, "used", test_used);
	CU_add_test(s, "timers", test_timers);
	CU_add_test(s, "rx on known entries", test_rx_known_entries);
	CU_add_test(s, "static and failed are inert", test_inert_states);
	CU_add_test(s, "random sequences against reference", test_random_against_reference);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
