/* SPDX-License-Identifier: BSD-3-Clause */
/* Firewall counters that are not drops (drops are drop nodes: nf/fw/fw_drops.h). Per worker, summed for display. */
#ifndef NPSGW_FW_COUNTERS_H
#define NPSGW_FW_COUNTERS_H

#define FW_COUNTERS(X)                                                                                                \
	X(allowed_new, "new flows allowed (a session opened)")                                                        \
	X(allowed_session, "packets allowed by an existing session")                                                   \
	X(allowed_related, "ICMP errors allowed as related to a session")                                              \
	X(passed_stateless, "packets passed by a stateless (pass) rule")                                               \
	X(local_origin, "packets the router built itself, not filtered")                                               \
	X(handoff_out, "packets handed to the worker that owns their session")                                         \
	X(handoff_in, "packets received from other workers")                                                           \
	X(rst_sent, "TCP RSTs sent for reject rules")                                                                   \
	X(icmp_sent, "ICMP prohibited errors sent for reject rules")                                                   \
	X(reject_rate_limited, "rejects answered silently (rate limit)")                                               \
	X(log_written, "log records queued to the control thread")                                                     \
	X(log_rate_limited, "log records suppressed by the rate limit")                                                \
	X(log_queue_full, "log records lost: queue to the control thread full")                                        \
	X(revalidated, "sessions classified again after a rule change")                                                \
	X(frag_held, "fragments held until their first fragment arrived")                                              \
	X(frag_released, "held fragments released after their first fragment")

enum fw_counter {
#define FW_COUNTER_ENUM(n, d) FW_CNT_##n,
	FW_COUNTERS(FW_COUNTER_ENUM)
#undef FW_COUNTER_ENUM
	FW_CNT_COUNT
};

#endif
