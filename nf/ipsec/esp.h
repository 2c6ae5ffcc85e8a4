/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP tunnel mode (RFC 4303) on mbufs, with optional UDP encapsulation (RFC 3948): laying out and checking the
 * packet around the crypto (nf/ipsec/ipsec_crypto.h). Pure: no graph, no dataplane state; the nodes call these in
 * three steps per burst: prepare every packet (headers, padding, crypto op), ipsec_crypto_run() the ops, finish.
 *
 * Outbound: [outer IPv4/IPv6][UDP 4500 -> remote_port]?[SPI][seq][IV][inner packet][padding 1,2,3..][pad len][next
 * header 4|41][ICV 16]. The inner packet must be one segment (the nodes linearize chains first).
 * GCM (RFC 4106): IV = the 64-bit sequence number (unique per SA), nonce = salt || IV, AAD = SPI || seq, or SPI ||
 * seq-hi || seq with ESN. CBC (RFC 3602): the IV is E_K(nonce) for a nonce made of the SPI and the 64-bit sequence
 * number (NIST SP 800-38A appendix C: unpredictable, never repeated within the SA, distinct across SAs' keys): the
 * nonce is written in the IV field and encrypted with the payload as its first CBC block under a zero IV. HMAC over
 * ESP header .. next header (+ seq-hi with ESN, RFC 4303 2.2.1: in the ICV, not on the wire).
 */
#ifndef NPSGW_ESP_H
#define NPSGW_ESP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "nf/ipsec/ipsec_crypto.h"
#include "nf/ipsec/ipsec_sa.h"

#define ESP_HDR_LEN 8     /* SPI + sequence number */
#define ESP_TRAILER_LEN 2 /* pad length + next header */
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_NONE 59    /* dummy packet (RFC 4303 2.6) */
#define ESP_PROTO 50
#define UDP_HDR_LEN 8

/* What a step found wrong; each maps to its own drop node. */
enum esp_status {
	ESP_OK = 0,
	ESP_ERR_OUTER_TRUNCATED, /* ipsec_outer_truncated */
	ESP_ERR_FRAGMENT,        /* ipsec_fragment */
	ESP_ERR_KEEPALIVE,       /* NAT-T keepalive: absorbed */
	ESP_ERR_NOT_ESP,         /* udp_encap_not_esp */
	ESP_ERR_TRUNCATED,       /* esp_truncated */
	ESP_ERR_ICV,             /* esp_icv_failed */
	ESP_ERR_BAD_PADDING,     /* esp_bad_padding */
	ESP_ERR_BAD_NEXT_HEADER, /* esp_bad_next_header */
	ESP_ERR_DUMMY,           /* esp_dummy */
	ESP_ERR_ECN_NOT_ECT,     /* esp_ecn_not_ect */
	ESP_ERR_UDP6_ZERO_CSUM,  /* ipsec_udp6_zero_csum */
	ESP_ERR_UDP_BAD_CSUM,    /* ipsec_udp_bad_csum */
	ESP_ERR_NO_ROOM,         /* ipsec_no_room */
	ESP_ERR_CRYPTO,          /* ipsec_crypto_error */
};

/* An inbound packet's outer headers (data at the outer IPv4/IPv6 header). */
struct esp_in {
	uint16_t esp_off;  /* ESP header offset from the data start */
	uint16_t esp_len;  /* bytes from the ESP header to the end of the ICV */
	uint8_t family;    /* outer: 4 or 6 */
	uint8_t udp;       /* arrived in UDP (RFC 3948) */
	uint8_t outer_ecn; /* the outer header's ECN field (RFC 6040 decapsulation) */
	uint16_t src_port; /* with udp: outer UDP source port, host order */
	uint32_t spi;      /* host order */
	uint32_t seq;      /* low-order 32 bits, host order */
	uint8_t src[16];   /* outer source address, network order (IPv4 in [0..3]) */
};

/*
 * Parse the outer header of m (one segment; data at the outer IP header) up to the SPI and sequence number; trims
 * link-layer padding beyond the IP length. ESP_OK, or OUTER_TRUNCATED, FRAGMENT, KEEPALIVE, NOT_ESP, TRUNCATED,
 * UDP6_ZERO_CSUM (UDP over IPv6 without checksum: RFC 8200 8.1; RFC 6936 zero checksums are not enabled),
 * UDP_BAD_CSUM (a keepalive or non-ESP packet whose UDP checksum is wrong: ESP in UDP is not checked, its ICV is
 * stronger, RFC 3948 3.1.2).
 */
enum esp_status esp_in_parse(struct rte_mbuf *m, struct esp_in *in);

/*
 * Lay out the decryption of m for sa (full = the 64-bit sequence number the replay check inferred) in op:
 * ESP_OK or TRUNCATED (payload empty, not aligned to the cipher's block, or shorter than IV + trailer + ICV).
 * With CBC and ESN, the seq-hi is written over the ICV position (the ICV is saved in op first).
 */
enum esp_status esp_decap_prepare(struct rte_mbuf *m, const struct esp_in *in, const struct ipsec_sa *sa,
				  uint64_t full, struct ipsec_crypto_op *op);

/*
 * After a successful decryption: check the padding and next header, strip everything but the inner packet (data at
 * its IP header, trimmed to its own length: TFC padding goes). *family = 4 or 6. ESP_OK, BAD_PADDING,
 * BAD_NEXT_HEADER (also: inner packet inconsistent with it), DUMMY or ECN_NOT_ECT.
 * ECN (RFC 6040 4.2, normal mode): the outer ECN (in->outer_ecn) is combined into the inner header: CE over ECT(0)
 * or ECT(1) sets CE, ECT(1) over ECT(0) sets ECT(1) (IPv4 header checksum updated); CE over Not-ECT: ECN_NOT_ECT.
 */
enum esp_status esp_decap_finish(struct rte_mbuf *m, const struct esp_in *in, const struct ipsec_sa *sa,
				 uint8_t *family);

/* An op on sa's keys, with the fields a burst reads taken from the SA's first line (already in cache). */
static inline void esp_op_key(struct ipsec_crypto_op *op, const struct ipsec_sa *sa)
{
	op->key = &sa->crypto;
	op->alg = sa->alg;
	op->aes_len = sa->aes_len;
}

/*
 * Encapsulate the inner packet of m (data at its IPv4/IPv6 header, one segment) for sa with sequence number seq
 * (64 bits; the low half on the wire) towards p: outer headers, ESP header, IV, trailer; op filled. ip_id: outer
 * IPv4 identification. ESP_OK or NO_ROOM (m unchanged) or BAD_NEXT_HEADER (not IPv4/IPv6).
 */
enum esp_status esp_encap_prepare(struct rte_mbuf *m, const struct ipsec_sa *sa,
				  const struct ipsec_tunnel_params *p, uint64_t seq, uint16_t ip_id,
				  struct ipsec_crypto_op *op);
/* After encryption: the outer UDP checksum for IPv6 (RFC 8200: zero not allowed); nothing otherwise. */
void esp_encap_finish(struct rte_mbuf *m, const struct ipsec_tunnel_params *p);

/*
 * Would esp_encap_prepare find room for the inner packet of m for sa towards p (checked before a sequence number is
 * taken: a number taken and not sent looks like loss to the peer)? Also refuses what prepare would (not IPv4/IPv6,
 * chained). ESP_OK, NO_ROOM or BAD_NEXT_HEADER.
 */
enum esp_status esp_encap_check(const struct rte_mbuf *m, const struct ipsec_sa *sa,
				const struct ipsec_tunnel_params *p);

/* Bytes esp_encap_prepare adds in front of / behind an inner packet of len bytes. */
unsigned esp_encap_head_len(const struct ipsec_sa *sa, const struct ipsec_tunnel_params *p);
unsigned esp_encap_tail_len(const struct ipsec_sa *sa, unsigned len);

/*
 * TCP MSS clamp (RFC 4459 style, on the inner packet): when ip (len bytes, IPv4 or IPv6, data at the IP header) is
 * an unfragmented TCP SYN with an MSS option above the limit, lower it and fix the TCP checksum. mss is the IPv4
 * MSS (tunnel MTU - 40); an IPv6 SYN gets mss - 20, its IP header being 20 bytes longer. True if changed.
 */
bool esp_mss_clamp(uint8_t *ip, uint32_t len, uint16_t mss);

#endif
