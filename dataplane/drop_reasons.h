/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every reason the data plane drops a packet. Each becomes its own graph node "drop_<name>" (so graph statistics
 * count it, per worker and in total) and a row of `npsctl show drops`. Add a reason here, nowhere else.
 *   X(name, description)
 */
#ifndef NPSGW_DROP_REASONS_H
#define NPSGW_DROP_REASONS_H

#include "nf/nf_drops.h"

#define NPSGW_DROP_REASONS(X)                                                                                         \
	X(eth_runt, "frame shorter than an Ethernet header (or its VLAN tag)")                                         \
	X(eth_not_for_us, "destination MAC is neither ours, broadcast nor a multicast we listen to")                   \
	X(eth_unknown_vlan, "802.1Q tag with no sub-interface (or untagged with no interface)")                        \
	X(eth_unknown_type, "EtherType not handled (not IPv4, IPv6, ARP)")                                             \
	X(l2_group_unicast_ip, "unicast IP destination in a link-layer broadcast/multicast frame (RFC 1812 5.3.4)")    \
	X(iface_down, "interface administratively down")                                                               \
	X(arp_malformed, "ARP with wrong hardware/protocol type, lengths or truncated")                                 \
	X(arp_bad_sender, "ARP sender address is broadcast, multicast or zero with a non-probe opcode")                 \
	X(ip4_truncated, "IPv4 header truncated")                                                                      \
	X(ip4_bad_version, "IPv4 version field is not 4")                                                              \
	X(ip4_bad_ihl, "IPv4 header length below 20 bytes")                                                            \
	X(ip4_bad_length, "IPv4 total length inconsistent with the header or the frame")                               \
	X(ip4_bad_checksum, "IPv4 header checksum wrong")                                                              \
	X(ip4_martian_src, "IPv4 source is 0/8, 127/8, multicast, class E or broadcast")                               \
	X(ip4_martian_dst, "IPv4 destination is 0/8 or 127/8")                                                         \
	X(ip4_mcast, "IPv4 multicast or broadcast destination, or a connected subnet's network/broadcast address")     \
	X(ip6_truncated, "IPv6 header truncated")                                                                      \
	X(ip6_bad_version, "IPv6 version field is not 6")                                                              \
	X(ip6_bad_length, "IPv6 payload length zero or beyond the frame")                                              \
	X(ip6_martian_src, "IPv6 source multicast or loopback")                                                        \
	X(ip6_martian_dst, "IPv6 destination unspecified or loopback")                                                 \
	X(ip6_ext_truncated, "IPv6 extension header chain truncated or too long")                                      \
	X(ip6_mcast, "IPv6 multicast destination not handled (only NDP and echo to all-nodes are)")                    \
	X(ip6_linklocal_fwd, "IPv6 packet with a link-local source or destination would be forwarded")                 \
	X(no_route, "no route in the VRF")                                                                             \
	X(blackhole, "blackhole route")                                                                                \
	X(leak_loop, "route leak points at another leak route")                                                        \
	X(ttl_exceeded, "TTL or hop limit expired and no ICMP error may be sent for it")                               \
	X(icmp_rate_limited, "ICMP error suppressed by the per-worker rate limit")                                     \
	X(icmp_suppressed, "no ICMP error allowed for this packet (ICMP error, fragment, multicast or martian)")        \
	X(icmp_no_source, "no address on the interface to send an ICMP error from")                                    \
	X(frag_failed, "IPv4 fragmentation failed (no buffers or too many fragments)")                                 \
	X(local_fragment, "fragment addressed to the router itself (no local reassembly)")                             \
	X(local_unhandled, "addressed to the router, protocol not served (TCP, ...)")                                  \
	X(icmp_bad_checksum, "ICMP or ICMPv6 message to the router with a wrong checksum")                             \
	X(icmp_truncated, "ICMP or ICMPv6 message to the router too short")                                            \
	X(icmp_unhandled, "ICMP type to the router that it does not answer")                                           \
	X(ndp_bad_hop_limit, "neighbour discovery message with hop limit other than 255")                              \
	X(ndp_malformed, "neighbour discovery message truncated, bad code, bad target or bad option length")           \
	X(ndp_on_tunnel, "neighbour discovery message received through a tunnel (no link layer: nothing to resolve)")   \
	X(neigh_unresolved, "next hop could not be resolved (held packets dropped when resolution failed)")            \
	X(neigh_hold_full, "hold queue of an unresolved neighbour full")                                               \
	X(punt_full, "queue to the control thread full")                                                               \
	X(tx_full, "transmit queue full")                                                                              \
	X(no_iface, "next hop interface removed")                                                                    \
	NF_DROP_REASONS(X)

enum npsgw_drop {
#define NPSGW_DROP_ENUM(name, desc) DROP_##name,
	NPSGW_DROP_REASONS(NPSGW_DROP_ENUM)
#undef NPSGW_DROP_ENUM
	DROP_COUNT
};

#endif
