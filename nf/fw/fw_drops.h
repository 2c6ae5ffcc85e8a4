/* SPDX-License-Identifier: BSD-3-Clause */
/* The firewall's drop reasons, one drop node each (listed into dataplane/drop_reasons.h by nf/nf_drops.h). */
#ifndef NPSGW_FW_DROPS_H
#define NPSGW_FW_DROPS_H

#define NF_FW_DROP_REASONS(X)                                                                                         \
	X(fw_deny, "firewall: denied by a rule, a zone-pair policy or the VRF default")                                \
	X(fw_reject, "firewall: rejected, no answer sent (rate limit, or a RST is never answered)")                   \
	X(fw_session_full, "firewall: session table full, new session refused")                                       \
	X(fw_tcp_bad_flags, "firewall: impossible TCP flag combination (SYN+FIN, SYN+RST, no flags, ...)")            \
	X(fw_tcp_out_of_window, "firewall: TCP segment outside the tracked sequence/ack window")                       \
	X(fw_tcp_bad_state, "firewall: TCP segment not valid in the session's state")                                  \
	X(fw_tcp_no_session, "firewall: TCP segment other than SYN with no session (not picked up mid-stream)")       \
	X(fw_l4_truncated, "firewall: transport header truncated")                                                     \
	X(fw_icmp_no_session, "firewall: ICMP error whose embedded packet matches no session")                         \
	X(fw_icmp_bad_embedded, "firewall: ICMP error with a truncated or forged embedded header")                     \
	X(fw_ext_bad, "firewall: IPv6 extension header chain truncated, too long or malformed")                        \
	X(fw_frag_overlap, "firewall: fragment overlapping another of the same datagram")                              \
	X(fw_frag_bad, "firewall: malformed fragment (tiny first fragment, bad offset or length)")                     \
	X(fw_frag_no_first, "firewall: non-first fragment whose first fragment never came (held ones timed out)")      \
	X(fw_frag_denied, "firewall: fragment of a datagram whose first fragment was denied")                         \
	X(fw_frag_table_full, "firewall: fragment table or its hold queue full")                                       \
	X(fw_revalidate_denied, "firewall: session no longer allowed by the replaced rules (on_rule_change revalidate)") \
	X(fw_handoff_full, "firewall: hand-off queue to the owning worker full")

#endif
