/* SPDX-License-Identifier: BSD-3-Clause */
/* IPsec per-worker counters that are not drops (drops are drop nodes: nf/ipsec/ipsec_drops.h). Summed for display. */
#ifndef NPSGW_IPSEC_COUNTERS_H
#define NPSGW_IPSEC_COUNTERS_H

#define IPSEC_COUNTERS(X)                                                                                             \
	X(encrypted, "packets encapsulated in ESP and sent to the transport VRF")                                      \
	X(decrypted, "ESP packets authenticated, decrypted and re-injected into the tenant VRF")                       \
	X(udp_encap_rx, "ESP packets received in UDP (RFC 3948)")                                                     \
	X(udp_encap_tx, "ESP packets sent in UDP (RFC 3948)")                                                          \
	X(natt_keepalive, "NAT-T keepalives (one 0xff byte in UDP 4500) received: absorbed")                          \
	X(dummy, "ESP dummy packets (next header 59) authenticated and discarded (also the drop node esp_dummy)")     \
	X(mss_clamped, "TCP SYNs whose MSS option was lowered to the tunnel's mss")                                    \
	X(handoff_out, "ESP packets handed to the worker owning their inbound SA (or outer fragments to the worker reassembling their source's)") \
	X(handoff_in, "ESP packets received from other workers")                                                       \
	X(frag_in, "outer fragments (ESP or UDP) taken into reassembly on their owner worker")                        \
	X(reassembled, "outer datagrams reassembled from fragments (then handled as any ESP packet)")                  \
	X(peer_moved, "authenticated packets from a new outer source on a follow_peer tunnel (posted to control)")    \
	X(peer_ring_full, "peer moves not posted: ring to the control thread full (the next packet posts again)")      \
	X(lost, "sequence numbers that left an anti-replay window unseen (underlay loss estimate)")

enum ipsec_counter {
#define IPSEC_COUNTER_ENUM(n, d) IPSEC_CNT_##n,
	IPSEC_COUNTERS(IPSEC_COUNTER_ENUM)
#undef IPSEC_COUNTER_ENUM
	IPSEC_CNT_COUNT
};

#endif
