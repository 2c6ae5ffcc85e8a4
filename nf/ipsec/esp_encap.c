/* SPDX-License-Identifier: BSD-3-Clause */
/* ESP outbound: outer headers, ESP header, IV and trailer around an inner packet (nf/ipsec/esp.h). */
#include <netinet/in.h>
#include <string.h>

#include "lib/hdr/csum.h"
#include "lib/hdr/ip_checks.h"
#include "nf/ipsec/esp.h"

static inline unsigned outer_len(const struct ipsec_tunnel_params *p)
{
	return (p->family == 4 ? 20u : 40u) + (p->udp_encap ? UDP_HDR_LEN : 0u);
}

unsigned esp_encap_head_len(const struct ipsec_sa *sa, const struct ipsec_tunnel_params *p)
{
	return outer_len(p) + ESP_HDR_LEN + sa->iv_len;
}

/* Padding that makes payload + trailer a multiple of the SA's alignment (4 or 16: a mask, not a division). */
static inline unsigned pad_len(const struct ipsec_sa *sa, unsigned len)
{
	return (0u - (len + ESP_TRAILER_LEN)) & (sa->align - 1u);
}

unsigned esp_encap_tail_len(const struct ipsec_sa *sa, unsigned len)
{
	return pad_len(sa, len) + ESP_TRAILER_LEN + IPSEC_ICV_LEN;
}

enum esp_status esp_encap_check(const struct rte_mbuf *m, const struct ipsec_sa *sa,
				const struct ipsec_tunnel_params *p)
{
	uint32_t len = rte_pktmbuf_data_len(m);
	if (unlikely(m->nb_segs != 1 || len < 1))
		return ESP_ERR_BAD_NEXT_HEADER;
	uint8_t v = *rte_pktmbuf_mtod(m, const uint8_t *) >> 4;
	if (unlikely(v != 4 && v != 6))
		return ESP_ERR_BAD_NEXT_HEADER;
	if (unlikely(rte_pktmbuf_tailroom(m) < esp_encap_tail_len(sa, len) ||
		     rte_pktmbuf_headroom(m) < esp_encap_head_len(sa, p)))
		return ESP_ERR_NO_ROOM;
	return ESP_OK;
}

/*
 * The outer IPv4/IPv6 (+ UDP) header at o for a packet of total bytes; tos = the inner DSCP + ECN, copied as they
 * are (RFC 4301 5.1.2.1 DSCP copy; RFC 6040 normal mode: the ECN field, CE included, is copied).
 */
static void write_outer(uint8_t *o, const struct ipsec_tunnel_params *p, uint32_t total, uint8_t tos, uint16_t id)
{
	unsigned l3 = p->family == 4 ? 20u : 40u;
	uint8_t proto = p->udp_encap ? IPPROTO_UDP : ESP_PROTO;
	if (p->family == 4) {
		o[0] = 0x45;
		o[1] = tos;
		csum_wr16(o + 2, (uint16_t)total);
		csum_wr16(o + 4, id);
		csum_wr16(o + 6, 0); /* DF clear: the underlay may fragment; the tunnel MTU keeps that rare */
		o[8] = IPSEC_OUTER_TTL;
		o[9] = proto;
		memcpy(o + 12, p->local, 4);
		memcpy(o + 16, p->remote, 4);
		/* The header checksum from the values, not read back from the header just written in narrow stores (a
		 * store-forwarding stall that cost more than the sum). */
		uint32_t sum = (0x45u << 8 | tos) + total + id + ((uint32_t)IPSEC_OUTER_TTL << 8 | proto) +
			       csum_rd16(p->local) + csum_rd16(p->local + 2) + csum_rd16(p->remote) +
			       csum_rd16(p->remote + 2);
		csum_wr16(o + 10, inet_csum_fold(sum));
	} else {
		csum_wr32(o, (6u << 28) | ((uint32_t)tos << 20));
		csum_wr16(o + 4, (uint16_t)(total - 40));
		o[6] = proto;
		o[7] = IPSEC_OUTER_TTL;
		memcpy(o + 8, p->local, 16);
		memcpy(o + 24, p->remote, 16);
	}
	if (p->udp_encap) {
		uint8_t *u = o + l3;
		csum_wr16(u, IPSEC_NATT_PORT);
		csum_wr16(u + 2, p->remote_port);
		csum_wr16(u + 4, (uint16_t)(total - l3));
		csum_wr16(u + 6, 0); /* RFC 3948 2.1: IPv4 sends 0; IPv6 gets its checksum in esp_encap_finish */
	}
}

enum esp_status esp_encap_prepare(struct rte_mbuf *m, const struct ipsec_sa *sa,
				  const struct ipsec_tunnel_params *p, uint64_t seq, uint16_t ip_id,
				  struct ipsec_crypto_op *op)
{
	const uint8_t *inner = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint8_t nh, tos;
	if (m->nb_segs != 1 || len < 1)
		return ESP_ERR_BAD_NEXT_HEADER;
	if ((inner[0] >> 4) == 4) {
		nh = ESP_NH_IPV4;
		tos = inner[1];
	} else if ((inner[0] >> 4) == 6) {
		nh = ESP_NH_IPV6;
		tos = (uint8_t)((inner[0] << 4) | (inner[1] >> 4));
	} else {
		return ESP_ERR_BAD_NEXT_HEADER;
	}
	unsigned pad = pad_len(sa, len), tail = pad + ESP_TRAILER_LEN + IPSEC_ICV_LEN;
	unsigned ol = outer_len(p), head = ol + ESP_HDR_LEN + sa->iv_len;
	if (rte_pktmbuf_tailroom(m) < tail || rte_pktmbuf_headroom(m) < head)
		return ESP_ERR_NO_ROOM;
	uint8_t *t = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)tail);
	for (unsigned i = 0; i < pad; i++)
		t[i] = (uint8_t)(i + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = nh;
	uint8_t *base = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)head);
	uint32_t total = rte_pktmbuf_data_len(m);
	write_outer(base, p, total, tos, ip_id);

	uint8_t *esp = base + ol, *ivf = esp + ESP_HDR_LEN;
	uint32_t plen = len + pad + ESP_TRAILER_LEN;
	csum_wr32(esp, sa->spi);
	csum_wr32(esp + 4, (uint32_t)seq);
	esp_op_key(op, sa);
	op->buf = base;
	op->encrypt = 1;
	op->icv = t + pad + ESP_TRAILER_LEN;
	if (ipsec_alg_is_gcm(sa->alg)) {
		/* RFC 4106 3.1: the IV only has to be unique per key: the sequence number is. */
		csum_wr32(ivf, (uint32_t)(seq >> 32));
		csum_wr32(ivf + 4, (uint32_t)seq);
		memcpy(op->iv, sa->salt, IPSEC_GCM_SALT_LEN);
		memcpy(op->iv + IPSEC_GCM_SALT_LEN, ivf, IPSEC_GCM_IV_LEN);
		memcpy(op->aad, esp, 4);
		if (sa->esn) {
			csum_wr32(op->aad + 4, (uint32_t)(seq >> 32));
			memcpy(op->aad + 8, esp + 4, 4);
			op->aad_len = 12;
		} else {
			memcpy(op->aad + 4, esp + 4, 4);
			op->aad_len = 8;
		}
		op->cipher_off = ol + ESP_HDR_LEN + IPSEC_GCM_IV_LEN;
		op->cipher_len = plen;
	} else {
		/* The nonce block (64-bit sequence number, SPI) becomes E_K(nonce) = the IV by encrypting it first. */
		csum_wr32(ivf, (uint32_t)(seq >> 32));
		csum_wr32(ivf + 4, (uint32_t)seq);
		csum_wr32(ivf + 8, sa->spi);
		csum_wr32(ivf + 12, 0x45535020); /* "ESP " */
		memset(op->iv, 0, IPSEC_CBC_IV_LEN);
		op->cipher_off = ol + ESP_HDR_LEN;
		op->cipher_len = IPSEC_CBC_IV_LEN + plen;
		op->auth_off = ol;
		op->auth_len = ESP_HDR_LEN + IPSEC_CBC_IV_LEN + plen;
		if (sa->esn) {
			csum_wr32(op->icv, (uint32_t)(seq >> 32)); /* overwritten by the ICV once computed */
			op->auth_len += 4;
		}
	}
	return ESP_OK;
}

/*
 * One's-complement sum of len bytes at p, 8 bytes a step with end-around carry (the ciphertext of a 1400-byte packet
 * is ~175 steps instead of ~350), folded to 16 bits in network byte order like inet_csum_add's result.
 */
static uint32_t sum_wide(const uint8_t *p, uint32_t len)
{
	uint64_t acc = 0, w;
	for (; len >= 32; p += 32, len -= 32) {
		uint64_t a, b, c, d;
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		acc += a;
		acc += acc < a;
		acc += b;
		acc += acc < b;
		acc += c;
		acc += acc < c;
		acc += d;
		acc += acc < d;
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
	}
	return inet_csum_fold64_net(acc) + inet_csum_add(0, p, len); /* the tail: network order already */
}

void esp_encap_finish(struct rte_mbuf *m, const struct ipsec_tunnel_params *p)
{
	if (p->family != 6 || !p->udp_encap)
		return;
	/* RFC 8200 8.1: a real checksum (RFC 6936 zero checksums not enabled); no offload here: summed in software. */
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *), *u = ip + 40;
	uint32_t ulen = rte_pktmbuf_data_len(m) - 40;
	uint16_t c = inet_csum_fold(ip6_pseudo_sum(ip, ulen, IPPROTO_UDP) + sum_wide(u, ulen));
	csum_wr16(u + 6, c ? c : 0xffff);
}
