/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT drop reasons, one drop node each (listed into dataplane/drop_reasons.h by nf/nf_drops.h). */
#ifndef NPSGW_NAT_DROPS_H
#define NPSGW_NAT_DROPS_H

#define NF_NAT_DROP_REASONS(X)                                                                                        \
	X(nat_pool_exhausted, "nat: no free port block on the subscriber's public address (new flow refused)")        \
	X(nat_quota_blocks, "nat: subscriber at max_blocks with every port of its blocks in use (new flow refused)")  \
	X(nat_quota_sessions, "nat: subscriber at max_sessions (new flow refused)")                                    \
	X(nat_session_full, "nat: session, mapping or subscriber table of the worker full (new flow refused)")        \
	X(nat_no_address, "nat: the tenant's pool offers no public address (empty or all draining)")                  \
	X(nat_filtered, "nat: inbound packet to a mapping refused by the filtering mode (ADF/APDF)")                  \
	X(nat_proto_unsupported, "nat: protocol other than TCP, UDP or ICMP query/error, or ICMP type not translated") \
	X(nat_l4_truncated, "nat: IPv4 or transport header truncated or malformed")                                   \
	X(nat_icmp_no_session, "nat: ICMP error whose embedded packet matches no session")                            \
	X(nat_icmp_bad_embedded, "nat: ICMP error with a truncated or inconsistent embedded packet")                   \
	X(nat_frag_no_first, "nat: non-first fragment whose first fragment was not translated on this worker")        \
	X(nat_frag_table_full, "nat: fragment map full (first fragment refused)")                                      \
	X(nat_tcp_bad_flags, "nat: impossible TCP flag combination")                                                   \
	X(nat_tcp_out_of_window, "nat: TCP segment outside the tracked window")                                       \
	X(nat_tcp_bad_state, "nat: TCP segment not valid in the session's state")                                      \
	X(nat_tcp_no_session, "nat: TCP segment other than SYN opening no session")                                    \
	X(nat_no_softwire, "nat: reply for a DS-Lite subscriber but DS-Lite is not running")                          \
	X(nat_handoff_full, "nat: hand-off queue to the owning worker full")

#endif
