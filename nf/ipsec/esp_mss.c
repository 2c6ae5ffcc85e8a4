/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP MSS clamping on the inner packets of a tunnel (nf/ipsec/esp.h). */
#include <netinet/in.h>

#include "lib/hdr/csum.h"
#include "lib/hdr/ip_checks.h"
#include "nf/ipsec/esp.h"

#define TCP_FLAG_SYN 0x02
#define TCPOPT_END 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2

/* The TCP header of an unfragmented (or first-fragment) packet, or NULL; *tcp_len = bytes from it to the end. */
static uint8_t *tcp_of(uint8_t *ip, uint32_t len, uint32_t *tcp_len)
{
	size_t off;
	if (len >= 20 && (ip[0] >> 4) == 4) {
		off = (ip[0] & 0xfu) * 4u;
		uint32_t total = csum_rd16(ip + 2);
		if (off < 20 || total > len || total < off || ip[9] != IPPROTO_TCP || (csum_rd16(ip + 6) & 0x1fff))
			return NULL;
		len = total;
	} else if (len >= 40 && (ip[0] >> 4) == 6) {
		uint32_t total = 40u + csum_rd16(ip + 4);
		uint8_t proto;
		bool frag;
		uint16_t frag_off;
		if (total > len || ip6_walk_ext(ip, total, &proto, &off, &frag, &frag_off) != IP6_EXT_OK ||
		    proto != IPPROTO_TCP || frag_off != 0)
			return NULL;
		len = total;
	} else {
		return NULL;
	}
	if (off + 20 > len)
		return NULL;
	*tcp_len = len - (uint32_t)off;
	return ip + off;
}

bool esp_mss_clamp(uint8_t *ip, uint32_t len, uint16_t mss)
{
	uint32_t tlen;
	uint8_t *tcp = tcp_of(ip, len, &tlen);
	if (tcp == NULL || !(tcp[13] & TCP_FLAG_SYN))
		return false;
	/* The configured value is the IPv4 MSS (tunnel MTU - 20 - 20): IPv6's header is 20 bytes longer. */
	if ((ip[0] >> 4) == 6)
		mss = mss > 20 ? (uint16_t)(mss - 20) : mss;
	uint32_t doff = (tcp[12] >> 4) * 4u;
	if (doff < 20 || doff > tlen)
		return false;
	for (uint32_t o = 20; o < doff;) {
		uint8_t kind = tcp[o];
		if (kind == TCPOPT_END)
			break;
		if (kind == TCPOPT_NOP) {
			o++;
			continue;
		}
		if (o + 1 >= doff || tcp[o + 1] < 2 || o + tcp[o + 1] > doff)
			break;
		if (kind == TCPOPT_MSS && tcp[o + 1] == 4) {
			uint16_t old = csum_rd16(tcp + o + 2);
			if (old <= mss)
				return false;
			csum_wr16(tcp + o + 2, mss);
			/* The option's value sits at an even or odd offset from the TCP header: its checksum words follow. */
			uint32_t delta = (o & 1) ? csum_delta16_odd(old, mss) : csum_delta16(old, mss);
			csum_field_apply(tcp + 16, delta, 0);
			return true;
		}
		o += tcp[o + 1];
	}
	return false;
}
