/* SPDX-License-Identifier: BSD-3-Clause */
/* DS-Lite drop reasons, one drop node each (listed into dataplane/drop_reasons.h by nf/nf_drops.h). */
#ifndef NPSGW_DSLITE_DROPS_H
#define NPSGW_DSLITE_DROPS_H

#define NF_DSLITE_DROP_REASONS(X)                                                                                     \
	X(dslite_b4_unknown, "dslite: softwire packet from a source outside the AFTR's B4 prefixes")                   \
	X(dslite_nat_off, "dslite: softwire packet but the NAT engine (nat section) or the AFTR's pool is not running") \
	X(dslite_bad_ext, "dslite: softwire packet with extension headers other than one fragment header, or malformed") \
	X(dslite_reass_failed, "dslite: tunnel fragment refused by reassembly (overlap, bad length, table full)")      \
	X(dslite_reass_timeout, "dslite: tunnel fragments of a datagram never completed (reassembly timeout)")         \
	X(dslite_reass_headers, "dslite: reassembled tunnel packet whose first fragment lacks the inner headers")      \
	X(dslite_inner_truncated, "dslite: inner IPv4 truncated (shorter than its header or the IPv6 payload)")        \
	X(dslite_inner_inconsistent, "dslite: inner IPv4 total length differs from the IPv6 payload, or not IPv4")    \
	X(dslite_inner_bad, "dslite: inner IPv4 header invalid (checksum, martian address)")                           \
	X(dslite_inner_to_aftr, "dslite: inner packet addressed to the AFTR itself (192.0.0.0/29 or its addresses)")    \
	X(dslite_inner_to_pool, "dslite: inner packet addressed to a public address of the NAT pools")                \
	X(dslite_b4_table_full, "dslite: B4 table of the worker full (new B4 refused)")                               \
	X(dslite_encap_no_b4, "dslite: reply for a softwire this worker does not know, or whose AFTR was removed")    \
	X(dslite_encap_failed, "dslite: no room for the IPv6 header, or outer fragmentation failed")                  \
	X(dslite_too_big_no_icmp, "dslite: reply bigger than the softwire MTU with DF set that no ICMP may answer")   \
	X(dslite_icmp6_not_relayed, "dslite: ICMPv6 error about a softwire packet not relayed (type, no session, short)") \
	X(dslite_handoff_full, "dslite: hand-off queue to the B4's worker full")

#endif
