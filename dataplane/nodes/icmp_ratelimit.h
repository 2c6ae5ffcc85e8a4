/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-worker token bucket for ICMP errors (RFC 1812 4.3.2.8, RFC 4443 2.4(f)): limits.icmp_rate per second. */
#ifndef NPSGW_ICMP_RATELIMIT_H
#define NPSGW_ICMP_RATELIMIT_H

#include "dataplane/nodes/nodes.h"

/* Tokens are counted in thousandths so that rates below 1000/s accrue between milliseconds. */
static inline bool icmp_error_allowed(struct worker *w)
{
	uint64_t rate = dp.conf->limits.icmp_rate;
	uint64_t now = w->now_ms;
	if (now != w->icmp_last_ms) {
		w->icmp_tokens += (now - w->icmp_last_ms) * rate;
		if (w->icmp_tokens > rate * 1000)
			w->icmp_tokens = rate * 1000; /* burst: one second's worth */
		w->icmp_last_ms = now;
	}
	if (w->icmp_tokens < 1000)
		return false;
	w->icmp_tokens -= 1000;
	return true;
}

#endif
