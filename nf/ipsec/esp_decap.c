/* SPDX-License-Identifier: BSD-3-Clause */
/* ESP inbound: outer header parsing, decryption layout, trailer checks and stripping (nf/ipsec/esp.h). */
#include <netinet/in.h>
#include <string.h>

#include "lib/hdr/csum.h"
#include "lib/hdr/ip_checks.h"
#include "nf/ipsec/esp.h"

/* IPv4 outer header: length, fragments, protocol. */
static enum esp_status parse_ip4(struct rte_mbuf *m, uint8_t *p, uint32_t len, uint32_t *off, uint8_t *proto,
				 struct esp_in *in)
{
	if (len < 20)
		return ESP_ERR_OUTER_TRUNCATED;
	uint32_t ihl = (p[0] & 0xfu) * 4u, total = csum_rd16(p + 2);
	if (ihl < 20 || total < ihl || total > len)
		return ESP_ERR_OUTER_TRUNCATED;
	if (csum_rd16(p + 6) & 0x3fff) /* MF or a fragment offset */
		return ESP_ERR_FRAGMENT;
	if (total < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - total)); /* link-layer padding */
	in->family = 4;
	in->outer_ecn = p[1] & 3;
	memcpy(in->src, p + 12, 4);
	memset(in->src + 4, 0, 12);
	*proto = p[9];
	*off = ihl;
	return ESP_OK;
}

static enum esp_status parse_ip6(struct rte_mbuf *m, uint8_t *p, uint32_t len, uint32_t *off, uint8_t *proto,
				 struct esp_in *in)
{
	if (len < 40)
		return ESP_ERR_OUTER_TRUNCATED;
	uint32_t total = 40u + csum_rd16(p + 4);
	if (total > len)
		return ESP_ERR_OUTER_TRUNCATED;
	if (total < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - total));
	size_t o;
	bool frag;
	uint16_t frag_off;
	if (ip6_walk_ext(p, total, proto, &o, &frag, &frag_off) != IP6_EXT_OK)
		return ESP_ERR_OUTER_TRUNCATED;
	if (frag)
		return ESP_ERR_FRAGMENT;
	in->family = 6;
	in->outer_ecn = (p[1] >> 4) & 3;
	memcpy(in->src, p + 8, 16);
	*off = (uint32_t)o;
	return ESP_OK;
}

/* Does the UDP datagram u (ulen bytes) carried by the IP header ip verify (RFC 768 / RFC 8200 8.1)? */
static bool udp_sum_ok(const uint8_t *ip, uint8_t family, const uint8_t *u, uint32_t ulen)
{
	uint32_t s = family == 4 ? inet_csum_add(0, ip + 12, 8) + IPPROTO_UDP + ulen
				 : ip6_pseudo_sum(ip, ulen, IPPROTO_UDP);
	return inet_csum_fold(inet_csum_add(s, u, ulen)) == 0;
}

enum esp_status esp_in_parse(struct rte_mbuf *m, struct esp_in *in)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off;
	uint8_t proto;
	enum esp_status st;
	if (m->nb_segs != 1 || len < 1)
		return ESP_ERR_OUTER_TRUNCATED;
	if ((p[0] >> 4) == 4)
		st = parse_ip4(m, p, len, &off, &proto, in);
	else if ((p[0] >> 4) == 6)
		st = parse_ip6(m, p, len, &off, &proto, in);
	else
		return ESP_ERR_OUTER_TRUNCATED;
	if (st != ESP_OK)
		return st;
	len = rte_pktmbuf_data_len(m); /* trimmed */
	in->udp = 0;
	in->src_port = 0;
	if (proto == IPPROTO_UDP) {
		if (off + UDP_HDR_LEN > len)
			return ESP_ERR_OUTER_TRUNCATED;
		uint32_t ulen = csum_rd16(p + off + 4);
		if (ulen < UDP_HDR_LEN || off + ulen > len)
			return ESP_ERR_OUTER_TRUNCATED;
		if (off + ulen < len)
			rte_pktmbuf_trim(m, (uint16_t)(len - off - ulen));
		len = off + ulen;
		uint16_t sum = csum_rd16(p + off + 6);
		if (sum == 0 && in->family == 6)
			return ESP_ERR_UDP6_ZERO_CSUM; /* RFC 8200 8.1 (no RFC 6936 exception configured) */
		in->udp = 1;
		in->src_port = csum_rd16(p + off);
		uint32_t uoff = off;
		off += UDP_HDR_LEN;
		uint32_t plen = len - off;
		/* RFC 3948 2.2 / 2.3: a lone 0xff is a keepalive; four zero bytes mark a non-ESP (IKE) packet. Both are
		 * judged by their UDP checksum (no ICV protects them); ESP in UDP is left to its ICV (RFC 3948). */
		bool keepalive = plen == 1 && p[off] == 0xff, marker = plen >= 4 && csum_rd32(p + off) == 0;
		if (unlikely(keepalive || marker)) {
			if (sum != 0 && !udp_sum_ok(p, in->family, p + uoff, ulen))
				return ESP_ERR_UDP_BAD_CSUM;
			return keepalive ? ESP_ERR_KEEPALIVE : ESP_ERR_NOT_ESP;
		}
	} else if (proto != ESP_PROTO) {
		return ESP_ERR_OUTER_TRUNCATED;
	}
	if (len < off + ESP_HDR_LEN)
		return ESP_ERR_TRUNCATED;
	in->esp_off = (uint16_t)off;
	in->esp_len = (uint16_t)(len - off);
	in->spi = csum_rd32(p + off);
	in->seq = csum_rd32(p + off + 4);
	return ESP_OK;
}

/* Bytes of payload (inner packet + padding + trailer) of an ESP packet of esp_len bytes, or -1 when impossible. */
static int32_t payload_len(const struct ipsec_sa *sa, uint32_t esp_len)
{
	uint32_t over = ESP_HDR_LEN + sa->iv_len + IPSEC_ICV_LEN;
	if (esp_len < over + ESP_TRAILER_LEN)
		return -1;
	uint32_t plen = esp_len - over;
	if ((plen & (sa->align - 1u)) != 0) /* align: 4 or 16 */
		return -1;
	return (int32_t)plen;
}

enum esp_status esp_decap_prepare(struct rte_mbuf *m, const struct esp_in *in, const struct ipsec_sa *sa,
				  uint64_t full, struct ipsec_crypto_op *op)
{
	int32_t plen = payload_len(sa, in->esp_len);
	if (plen < 0)
		return ESP_ERR_TRUNCATED;
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *), *esp = base + in->esp_off;
	esp_op_key(op, sa);
	op->buf = base;
	op->encrypt = 0;
	op->icv = esp + in->esp_len - IPSEC_ICV_LEN;
	op->cipher_off = in->esp_off + ESP_HDR_LEN + sa->iv_len;
	op->cipher_len = (uint32_t)plen;
	if (ipsec_alg_is_gcm(sa->alg)) {
		memcpy(op->iv, sa->salt, IPSEC_GCM_SALT_LEN);
		memcpy(op->iv + IPSEC_GCM_SALT_LEN, esp + ESP_HDR_LEN, IPSEC_GCM_IV_LEN);
		memcpy(op->aad, esp, 4);
		if (sa->esn) {
			csum_wr32(op->aad + 4, (uint32_t)(full >> 32));
			memcpy(op->aad + 8, esp + 4, 4);
			op->aad_len = 12;
		} else {
			memcpy(op->aad + 4, esp + 4, 4);
			op->aad_len = 8;
		}
	} else {
		memcpy(op->iv, esp + ESP_HDR_LEN, IPSEC_CBC_IV_LEN);
		op->auth_off = in->esp_off;
		op->auth_len = ESP_HDR_LEN + sa->iv_len + (uint32_t)plen;
		if (sa->esn) {
			/* The ICV covers seq-hi right after the trailer (RFC 4303 2.2.1): put it where the ICV was. */
			memcpy(op->icv_saved, op->icv, IPSEC_ICV_LEN);
			csum_wr32(op->icv, (uint32_t)(full >> 32));
			op->icv = op->icv_saved;
			op->auth_len += 4;
		}
	}
	return ESP_OK;
}

#define ECN_NOT_ECT 0
#define ECN_ECT1 1
#define ECN_ECT0 2
#define ECN_CE 3

/*
 * RFC 6040 4.2 (normal mode) on the inner header ip of family 4|6, outer ECN outer (not Not-ECT): false when the
 * packet must be dropped (CE over Not-ECT). Inner Not-ECT under ECT stays; ECT(0) under ECT(1) becomes ECT(1); any
 * ECT under CE becomes CE. The IPv4 header checksum follows the change.
 */
static bool ecn_decap(uint8_t *ip, uint8_t family, uint8_t outer)
{
	uint8_t tos = family == 4 ? ip[1] : (uint8_t)((ip[0] << 4) | (ip[1] >> 4)), inner = tos & 3, next = inner;
	if (inner == ECN_NOT_ECT)
		return outer != ECN_CE;
	if (outer == ECN_CE)
		next = ECN_CE;
	else if (outer == ECN_ECT1 && inner == ECN_ECT0)
		next = ECN_ECT1;
	if (next == inner)
		return true;
	uint8_t ntos = (uint8_t)((tos & 0xfc) | next);
	if (family == 4) {
		uint16_t old = csum_rd16(ip), new = (uint16_t)((ip[0] << 8) | ntos);
		ip[1] = ntos;
		csum_wr16(ip + 10, csum_update16(csum_rd16(ip + 10), old, new));
	} else {
		ip[1] = (uint8_t)((ip[1] & 0x0f) | (ntos << 4));
	}
	return true;
}

enum esp_status esp_decap_finish(struct rte_mbuf *m, const struct esp_in *in, const struct ipsec_sa *sa,
				 uint8_t *family)
{
	uint32_t plen = (uint32_t)payload_len(sa, in->esp_len); /* checked by esp_decap_prepare */
	uint8_t *inner = rte_pktmbuf_mtod(m, uint8_t *) + in->esp_off + ESP_HDR_LEN + sa->iv_len;
	const uint8_t *trailer = inner + plen - ESP_TRAILER_LEN;
	uint32_t pad = trailer[0];
	uint8_t nh = trailer[1];
	if (pad + ESP_TRAILER_LEN > plen)
		return ESP_ERR_BAD_PADDING;
	/* RFC 4303 2.4: the default padding is 1, 2, 3, ...; a sender using anything else is not one of ours. */
	for (uint32_t i = 0; i < pad; i++)
		if (trailer[(int32_t)i - (int32_t)pad] != i + 1)
			return ESP_ERR_BAD_PADDING;
	uint32_t ilen = plen - pad - ESP_TRAILER_LEN, keep;
	if (nh == ESP_NH_IPV4) {
		if (ilen < 20 || (inner[0] >> 4) != 4)
			return ESP_ERR_BAD_NEXT_HEADER;
		keep = csum_rd16(inner + 2);
		if (keep < 20 || keep > ilen)
			return ESP_ERR_BAD_NEXT_HEADER;
		*family = 4;
	} else if (nh == ESP_NH_IPV6) {
		if (ilen < 40 || (inner[0] >> 4) != 6)
			return ESP_ERR_BAD_NEXT_HEADER;
		keep = 40u + csum_rd16(inner + 4);
		if (keep > ilen)
			return ESP_ERR_BAD_NEXT_HEADER;
		*family = 6;
	} else if (nh == ESP_NH_NONE) {
		return ESP_ERR_DUMMY;
	} else {
		return ESP_ERR_BAD_NEXT_HEADER;
	}
	if (in->outer_ecn != ECN_NOT_ECT && !ecn_decap(inner, *family, in->outer_ecn))
		return ESP_ERR_ECN_NOT_ECT;
	rte_pktmbuf_adj(m, (uint16_t)(in->esp_off + ESP_HDR_LEN + sa->iv_len));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - keep));
	return ESP_OK;
}
