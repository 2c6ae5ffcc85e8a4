/* SPDX-License-Identifier: BSD-3-Clause */
/* IPsec drop reasons, one drop node each (listed into dataplane/drop_reasons.h by nf/nf_drops.h). */
#ifndef NPSGW_IPSEC_DROPS_H
#define NPSGW_IPSEC_DROPS_H

#define NF_IPSEC_DROP_REASONS(X)                                                                                      \
	X(esp_truncated, "ipsec: ESP packet shorter than its header, IV, trailer and ICV, or not block aligned")     \
	X(esp_bad_padding, "ipsec: ESP padding length too long or padding bytes not 1, 2, 3, ... (after the ICV)")   \
	X(esp_bad_next_header, "ipsec: ESP next header not IPv4 (4) or IPv6 (41), or the inner packet inconsistent") \
	X(esp_dummy, "ipsec: ESP dummy packet (next header 59, RFC 4303 2.6): discarded as the RFC says")             \
	X(esp_ecn_not_ect, "ipsec: outer ECN CE over a Not-ECT inner packet (RFC 6040 4.2: drop)")                   \
	X(esp_icv_failed, "ipsec: ESP integrity check (ICV) failed")                                                  \
	X(esp_replay, "ipsec: ESP sequence number replayed or left of the anti-replay window")                        \
	X(esp_unknown_spi, "ipsec: ESP SPI of no inbound SA (or IPsec not running)")                                   \
	X(esp_wrong_vrf, "ipsec: ESP for an SA whose tunnel's transport VRF is not the one it arrived in")             \
	X(udp_encap_not_esp, "ipsec: UDP 4500 packet with a non-ESP marker (IKE: no IKE daemon here)")                 \
	X(ipsec_outer_truncated, "ipsec: outer IPv4/IPv6/UDP header truncated or inconsistent")                        \
	X(ipsec_udp6_zero_csum, "ipsec: outer UDP over IPv6 with checksum 0 (RFC 8200 8.1; RFC 6936 not enabled)")     \
	X(ipsec_udp_bad_csum, "ipsec: outer UDP checksum wrong on a NAT-T keepalive or non-ESP packet")                \
	X(ipsec_fragment, "ipsec: outer fragment not reassembled (reassembly_max 0, or IPv6 headers before the fragment header)") \
	X(ipsec_reass_failed, "ipsec: outer fragment refused by reassembly (overlap, bad length, too many, table full)") \
	X(ipsec_reass_timeout, "ipsec: outer fragments of a datagram never completed (reassembly_timeout_ms)")        \
	X(ipsec_reass_too_big, "ipsec: reassembled outer datagram larger than one packet buffer")                    \
	X(ipsec_reass_not_natt, "ipsec: reassembled UDP datagram to the router not to port 4500")                    \
	X(ipsec_no_tunnel, "ipsec: packet routed to an ipsec interface without a tunnel")                              \
	X(ipsec_no_sa, "ipsec: tunnel without an outbound SA")                                                         \
	X(ipsec_sa_expired, "ipsec: SA past its hard lifetime")                                                        \
	X(ipsec_seq_exhausted, "ipsec: outbound SA sequence number space exhausted (rekey needed)")                   \
	X(ipsec_no_room, "ipsec: no head/tail room for ESP, or a chained packet that could not be made one segment")  \
	X(ipsec_crypto_error, "ipsec: crypto library refused a job")                                                   \
	X(ipsec_handoff_full, "ipsec: hand-off queue to the SA's owner worker full")

#endif
