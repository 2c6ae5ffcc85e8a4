/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config pieces the network functions share: the "sessions" block of a section whose function keeps a session table
 * (lib/ct's struct ct_params: firewall.sessions, nat.sessions), read, written back and compared the same way by
 * each. Pure (no running state): linked into the functions' config unit tests.
 */
#ifndef NPSGW_NF_CONF_H
#define NPSGW_NF_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/conf/conf_int.h"
#include "lib/ct/ct.h"

#define NF_SESSION_TIMEOUT_MAX 2592000 /* 30 days: the largest timeout of each kind, in seconds */
#define NF_SESSION_TIMEOUTS 7	       /* the members of struct ct_timeouts */

/* The least value one timeout may take and why (a suffix of the out-of-range message, "" for none). */
struct nf_timeout_floor {
	uint32_t min;
	const char *why;
};

/*
 * The "sessions" group of parent (absent: p keeps its values):
 *   sessions: { max = N; when_full = "refuse" | "evict-transitory"; tcp_window_check = B; tcp_loose = B;
 *               timeouts: { tcp_established = S; tcp_transitory = S; tcp_time_wait = S; tcp_closed = S;
 *                           udp = S; icmp = S; other = S; }; };
 * max is 1..max_sessions. floors, in the order of struct ct_timeouts: each timeout's minimum and the reason named
 * when a value is below it; NULL: 1 each (plain range messages). Returns 0 or -1 (error reported in ctx).
 */
int nf_conf_read_sessions(struct conf_ctx *ctx, const config_setting_t *parent, uint32_t max_sessions,
			  const struct nf_timeout_floor floors[NF_SESSION_TIMEOUTS], struct ct_params *p);
/* The block as nf_conf_read_sessions reads it, every value explicit, indented for a top-level section. */
void nf_conf_write_sessions(FILE *out, const struct ct_params *p);
bool nf_conf_sessions_equal(const struct ct_params *a, const struct ct_params *b);

#endif
