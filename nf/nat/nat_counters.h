/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT counters that are not drops (drops are drop nodes: nf/nat/nat_drops.h). Per worker, summed for display. */
#ifndef NPSGW_NAT_COUNTERS_H
#define NPSGW_NAT_COUNTERS_H

#define NAT_COUNTERS(X)                                                                                               \
	X(in2out, "packets translated inside to outside")                                                             \
	X(out2in, "packets translated outside to inside")                                                             \
	X(in2out_passed, "packets on the in2out arc not translated (not a tenant, or not towards the pool's VRF)")     \
	X(out2in_passed, "packets to the pool VRF not for a mapping (passed untouched)")                              \
	X(hairpinned, "packets from inside to a public address of a mapping, sent back inside")                      \
	X(icmp_error_in2out, "ICMP errors translated inside to outside (embedded packet too)")                        \
	X(icmp_error_out2in, "ICMP errors translated outside to inside (embedded packet too)")                        \
	X(frag_translated, "non-first fragments translated like their first fragment")                                \
	X(sessions_created, "sessions opened (either direction)")                                                     \
	X(sessions_inbound, "sessions opened by an inbound packet (EIF/ADF filtering or a static mapping)")           \
	X(sessions_freed, "sessions released (expired, flushed or evicted)")                                           \
	X(mappings_created, "mappings (inside endpoint -> public endpoint) created")                                   \
	X(mappings_freed, "mappings freed with their last session")                                                    \
	X(static_used, "mappings instantiated from a static mapping")                                                  \
	X(port_preserved, "new mappings keeping the inside port")                                                     \
	X(port_changed, "new mappings with another port")                                                              \
	X(subscribers_created, "subscribers seen (first mapping)")                                                     \
	X(subscribers_freed, "subscribers forgotten (last block released)")                                            \
	X(blocks_allocated, "port blocks allocated to subscribers")                                                    \
	X(blocks_released, "port blocks released after block_idle")                                                    \
	X(handoff_out, "packets handed to the worker that owns their subscriber or public port")                      \
	X(handoff_in, "packets received from other workers")                                                           \
	X(log_written, "log records queued to the control thread")                                                     \
	X(log_rate_limited, "quota/exhaustion log records suppressed by the rate limit")                               \
	X(log_queue_full, "log records lost: queue to the control thread full")

enum nat_counter {
#define NAT_COUNTER_ENUM(n, d) NAT_CNT_##n,
	NAT_COUNTERS(NAT_COUNTER_ENUM)
#undef NAT_COUNTER_ENUM
	NAT_CNT_COUNT
};

#endif
