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
	memcpy(in->src, p + 8, 16);
	*off = (uint32_t)o;
	return ESP_OK;
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
		in->udp = 1;
		in->src_port = csum_rd16(p + off);
		off += UDP_HDR_LEN;
		uint32_t plen = len - off;
		/* RFC 3948 2.2 / 2.3: a lone 0xff is a keepalive; four zero bytes mark a non-ESP (IKE) packet. */
		if (plen == 1 && p[off] == 0xff)
			return ESP_ERR_KEEPALIVE;
		if (plen >= 4 && csum_rd32(p + off) == 0)
			return ESP_ERR_NOT_ESP;
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
static int32_t payload_len(const struct ipsec_crypto_key *k, uint32_t esp_len)
{
	uint32_t over = ESP_HDR_LEN + k->iv_len + IPSEC_ICV_LEN;
	if (esp_len < over + ESP_TRAILER_LEN)
		return -1;
	uint32_t plen = esp_len - over;
	if (plen % k->align != 0)
		return -1;
	return (int32_t)plen;
}

enum esp_status esp_decap_prepare(struct rte_mbuf *m, const struct esp_in *in, const struct ipsec_sa *sa,
				  uint64_t full, struct ipsec_crypto_op *op)
{
	const struct ipsec_crypto_key *k = &sa->crypto;
	int32_t plen = payload_len(k, in->esp_len);
	if (plen < 0)
		return ESP_ERR_TRUNCATED;
	uint8_t *base = rte_pktmbuf_mtod(m, uint8_t *), *esp = base + in->esp_off;
	op->key = k;
	op->buf = base;
	op->encrypt = 0;
	op->icv = esp + in->esp_len - IPSEC_ICV_LEN;
	op->cipher_off = in->esp_off + ESP_HDR_LEN + k->iv_len;
	op->cipher_len = (uint32_t)plen;
	if (ipsec_alg_is_gcm(k->alg)) {
		memcpy(op->iv, k->salt, IPSEC_GCM_SALT_LEN);
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
		op->auth_len = ESP_HDR_LEN + k->iv_len + (uint32_t)plen;
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

enum esp_status esp_decap_finish(struct rte_mbuf *m, const struct esp_in *in, const struct ipsec_sa *sa,
				 uint8_t *family)
{
	const struct ipsec_crypto_key *k = &sa->crypto;
	uint32_t plen = (uint32_t)payload_len(k, in->esp_len); /* checked by esp_decap_prepare */
	uint8_t *inner = rte_pktmbuf_mtod(m, uint8_t *) + in->esp_off + ESP_HDR_LEN + k->iv_len;
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
	rte_pktmbuf_adj(m, (uint16_t)(in->esp_off + ESP_HDR_LEN + k->iv_len));
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - keep));
	return ESP_OK;
}
