/* SPDX-License-Identifier: BSD-3-Clause */
/* DS-Lite counters that are not drops (drops are drop nodes: nf/dslite/dslite_drops.h). Per worker, summed. */
#ifndef NPSGW_DSLITE_COUNTERS_H
#define NPSGW_DSLITE_COUNTERS_H

#define DSLITE_COUNTERS(X)                                                                                            \
	X(decapsulated, "softwire packets decapsulated and translated inside to outside")                              \
	X(encapsulated, "replies translated and encapsulated towards their B4")                                        \
	X(passed, "IPv6 packets on the transport VRF that are not softwire packets (passed on)")                      \
	X(frag_in, "tunnel fragments received for reassembly")                                                         \
	X(reassembled, "tunnel datagrams reassembled")                                                                 \
	X(inner_frag_translated, "inner non-first IPv4 fragments translated like their first fragment")              \
	X(mss_clamped_in, "SYNs from B4s whose MSS was lowered")                                                       \
	X(mss_clamped_out, "SYNs towards B4s whose MSS was lowered")                                                   \
	X(encap_fragmented, "replies whose IPv6 packet was fragmented (DF clear, bigger than the softwire MTU)")      \
	X(encap_fragments, "IPv6 fragments sent for them")                                                             \
	X(too_big_icmp, "replies too big for the softwire with DF set: ICMPv4 fragmentation needed sent back")        \
	X(ttl_expired_icmp, "replies whose TTL expired at the AFTR: ICMPv4 time exceeded sent back")                 \
	X(icmp6_ptb_relayed, "ICMPv6 packet-too-big about softwire packets relayed as ICMPv4 fragmentation needed")   \
	X(b4_created, "B4 elements entered in the softwire table")                                                     \
	X(b4_freed, "B4 elements forgotten (no NAT subscriber left, idle)")                                           \
	X(handoff_out, "packets handed to the worker that owns their B4")                                              \
	X(handoff_in, "packets received from other workers")

enum dslite_counter {
#define DSLITE_COUNTER_ENUM(n, d) DSLITE_CNT_##n,
	DSLITE_COUNTERS(DSLITE_COUNTER_ENUM)
#undef DSLITE_COUNTER_ENUM
	DSLITE_CNT_COUNT
};

#endif
