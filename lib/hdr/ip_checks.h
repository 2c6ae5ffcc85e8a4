/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header validity checks used by the data-plane input nodes (RFC 1812 section 5.2.2 for IPv4, RFC 8200 for IPv6)
 * and the Internet checksum. Pure C on byte buffers, all inline: the fast path calls exactly what the unit tests
 * test. Each failure maps 1:1 onto a named drop counter.
 */
#ifndef NPSGW_IP_CHECKS_H
#define NPSGW_IP_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ip4_verdict {
	IP4_OK = 0,
	IP4_TRUNCATED,     /* fewer than 20 bytes, or fewer than IHL*4 */
	IP4_BAD_VERSION,   /* version != 4 */
	IP4_BAD_IHL,       /* IHL < 5 */
	IP4_BAD_LENGTH,    /* total length < IHL*4, or > bytes received */
	IP4_BAD_CHECKSUM,
	IP4_MARTIAN_SRC,   /* source is 0/8, 127/8, multicast (224/4), class E (240/4) or broadcast */
	IP4_MARTIAN_DST,   /* destination is 0/8 or 127/8 */
};

enum ip6_verdict {
	IP6_OK = 0,
	IP6_TRUNCATED,     /* fewer than 40 bytes */
	IP6_BAD_VERSION,
	IP6_BAD_LENGTH,    /* 40 + payload length > bytes received (jumbograms, payload length 0, are refused too) */
	IP6_MARTIAN_SRC,   /* source multicast or ::1 */
	IP6_MARTIAN_DST,   /* destination :: or ::1 */
};

/*
 * A 64-bit sum of native-order words (end-around carries kept or not) folded to 16 bits, still native order: the
 * same one's-complement sum modulo 0xffff.
 */
static inline uint16_t inet_csum_fold64(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The same, as a running sum in the network-order convention of inet_csum_add (byte-swapped on little-endian). */
static inline uint32_t inet_csum_fold64_net(uint64_t acc)
{
	uint16_t f = inet_csum_fold64(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	f = __builtin_bswap16(f);
#endif
	return f;
}

/*
 * One's-complement sum helpers (RFC 1071). The running sum is kept in network-order words ("big-endian
 * convention") so callers can add host-order constants (pseudo-header lengths, protocol). The loop sums native
 * 32-bit chunks, which is the same sum modulo 0xffff, and byte-swaps the folded result once.
 */
static inline uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	while (len >= 4) {
		uint32_t w;
		__builtin_memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		__builtin_memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	sum += inet_csum_fold64_net(acc);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t inet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum; /* host order; store with htons */
}

/*
 * A header without options as three little-endian loads (bytes 0-7, 8-15, 16-19): what the fast path reads of it,
 * once, for every test below.
 */
struct ip4_hdr20_words {
	uint64_t w01, w23;
	uint32_t w4;
};
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "struct ip4_hdr20_words: byte 0 is the low byte");

static inline struct ip4_hdr20_words ip4_hdr20_load(const uint8_t *p)
{
	struct ip4_hdr20_words w;
	__builtin_memcpy(&w.w01, p, 8);
	__builtin_memcpy(&w.w23, p + 8, 8);
	__builtin_memcpy(&w.w4, p + 16, 4);
	return w;
}

/*
 * The checksum of those 20 bytes is right. Uses 2^16 = 1 (mod 0xffff), so 2^64 = 1 too: the three words added in
 * 64 bits with end-around carries are congruent to the 16-bit one's-complement sum, which is right when it is a
 * non-zero multiple of 0xffff. Non-zero: the end-around sum of words not all zero is never 0, and byte 0 of a
 * header this is asked about is 0x45.
 */
static inline bool ip4_hdr20_words_csum_ok(struct ip4_hdr20_words w)
{
	uint64_t s, s2;
	s = w.w01 + w.w23 + __builtin_add_overflow(w.w01, w.w23, &s);
	s2 = s + w.w4 + __builtin_add_overflow(s, (uint64_t)w.w4, &s2);
	return s2 % 0xffff == 0;
}

/* Checksum of the header without options (20 bytes) at p; p[0] is not 0 (the caller read IHL 5 there). */
static inline bool ip4_hdr20_csum_ok(const uint8_t *p)
{
	return ip4_hdr20_words_csum_ok(ip4_hdr20_load(p));
}

/* Check an IPv4 header at p with len bytes available from p to the end of the frame. */
static inline enum ip4_verdict ip4_check(const uint8_t *p, size_t len)
{
	if (len < 20)
		return IP4_TRUNCATED;
	if ((p[0] >> 4) != 4)
		return IP4_BAD_VERSION;
	unsigned ihl = (p[0] & 0xf) * 4u;
	if (ihl < 20)
		return IP4_BAD_IHL;
	if (len < ihl)
		return IP4_TRUNCATED;
	unsigned total = ((unsigned)p[2] << 8) | p[3];
	if (total < ihl || total > len)
		return IP4_BAD_LENGTH;
	if (ihl == 20 ? !ip4_hdr20_csum_ok(p) : inet_csum_fold(inet_csum_add(0, p, ihl)) != 0)
		return IP4_BAD_CHECKSUM;
	uint8_t s0 = p[12], d0 = p[16];
	if (s0 == 0 || s0 == 127 || s0 >= 224)
		return IP4_MARTIAN_SRC;
	if (d0 == 0 || d0 == 127)
		return IP4_MARTIAN_DST;
	return IP4_OK;
}

/* First octets a routed IPv4 address may start with: 1..126 and 128..223 (not 0/8, 127/8, 224/4 or 240/4). */
static const uint8_t ip4_routable_octet[256] = {
	[1 ... 126] = 1,
	[128 ... 223] = 1,
};


/*
 * What ip4_plain_words_ok() tests but the first byte (version 4, IHL 5), for a caller that matched it already.
 * len: at least 20.
 */
static inline bool ip4_plain_fields_ok(struct ip4_hdr20_words w, size_t len, unsigned *total, bool csum_verified)
{
	unsigned t = __builtin_bswap16((uint16_t)(w.w01 >> 16));
	*total = t;
	if (t - 20 > len - 20) /* t below 20 wraps */
		return false;
	if (!(ip4_routable_octet[(uint8_t)(w.w23 >> 32)] & ip4_routable_octet[(uint8_t)w.w4]))
		return false;
	return csum_verified || ip4_hdr20_words_csum_ok(w);
}

/*
 * The common IPv4 header, judged in one pass for the fast path: true exactly when ip4_check() says IP4_OK, the
 * header has no options (IHL 5) and the destination is not multicast, class E or the limited broadcast (first
 * octet below 224). Anything else returns false and goes the long way, which names the reason. w: the header's
 * 20 bytes, len: the bytes from it to the end of the frame (at least 20); *total: the total length field, host
 * order. csum_verified: the NIC checked the checksum and found it good (RTE_MBUF_F_RX_IP_CKSUM_GOOD): the test is
 * skipped.
 */
static inline bool ip4_plain_words_ok(struct ip4_hdr20_words w, size_t len, unsigned *total, bool csum_verified)
{
	return (uint8_t)w.w01 == 0x45 && ip4_plain_fields_ok(w, len, total, csum_verified);
}

/* The same for the header at p, len bytes from p to the end of the frame. */
static inline bool ip4_plain_ok(const uint8_t *p, size_t len, unsigned *total, bool csum_verified)
{
	if (len < 20)
		return false;
	return ip4_plain_words_ok(ip4_hdr20_load(p), len, total, csum_verified);
}

static inline enum ip6_verdict ip6_check(const uint8_t *p, size_t len)
{
	static const uint8_t loopback[16] = {[15] = 1};
	static const uint8_t any[16];
	if (len < 40)
		return IP6_TRUNCATED;
	if ((p[0] >> 4) != 6)
		return IP6_BAD_VERSION;
	unsigned plen = ((unsigned)p[4] << 8) | p[5];
	if (plen == 0 || 40u + plen > len)
		return IP6_BAD_LENGTH;
	if (p[8] == 0xff || __builtin_memcmp(p + 8, loopback, 16) == 0)
		return IP6_MARTIAN_SRC;
	if (__builtin_memcmp(p + 24, any, 16) == 0 || __builtin_memcmp(p + 24, loopback, 16) == 0)
		return IP6_MARTIAN_DST;
	return IP6_OK;
}

/*
 * The first 8 bytes of an IPv6 address (a little-endian load) are those of a plain forwarded address: not multicast
 * (ff00::/8), not link-local (fe80::/10) and not in ::/64 (the unspecified and loopback addresses and the other
 * special forms there). What it refuses is not wrong, only the full path's to judge.
 */
static inline bool ip6_addr_hi_plain(uint64_t hi)
{
	return hi != 0 && (uint8_t)hi != 0xff && (hi & 0xc0ff) != 0x80fe;
}

/*
 * The common forwarded IPv6 packet, judged in one pass for the express path: true only when ip6_check() says IP6_OK
 * and both addresses are plain (ip6_addr_hi_plain()). p: a header whose version the caller matched (6); len: the
 * bytes from it to the end of the frame, at least 40; *total: 40 + the payload length.
 */
static inline bool ip6_plain_fields_ok(const uint8_t *p, size_t len, unsigned *total)
{
	uint16_t plen;
	uint64_t src_hi, dst_hi;
	__builtin_memcpy(&plen, p + 4, sizeof(plen));
	__builtin_memcpy(&src_hi, p + 8, sizeof(src_hi));
	__builtin_memcpy(&dst_hi, p + 24, sizeof(dst_hi));
	size_t t = 40u + __builtin_bswap16(plen);
	*total = (unsigned)t;
	if (t - 41 >= len - 40) /* not 41..len: payload length 0 (a jumbogram) wraps */
		return false;
	return ip6_addr_hi_plain(src_hi) && ip6_addr_hi_plain(dst_hi);
}

/* The same for the header at p, len bytes from p to the end of the frame, its version not matched yet. */
static inline bool ip6_plain_ok(const uint8_t *p, size_t len, unsigned *total)
{
	return len >= 40 && (p[0] >> 4) == 6 && ip6_plain_fields_ok(p, len, total);
}

enum ip6_ext_verdict {
	IP6_EXT_OK = 0,
	IP6_EXT_TRUNCATED, /* an extension header runs past the payload */
	IP6_EXT_TOO_MANY,  /* more than 8 extension headers: refused rather than walked */
};

/*
 * Walk the extension header chain of the IPv6 packet at p (len bytes from p, header included) to the upper-layer
 * header: hop-by-hop (0), routing (43), fragment (44), destination options (60), AH (51). On IP6_EXT_OK sets
 * *proto (upper-layer protocol, 59 = no next header) and *offset (its offset from p), and *frag_offset to the
 * fragment offset field (0 when not a fragment or first fragment; *is_fragment tells whether a fragment header was
 * present). A non-first fragment stops the walk at its fragment header: *proto is that header's next header and
 * *offset the start of the fragment data.
 */
static inline enum ip6_ext_verdict ip6_walk_ext(const uint8_t *p, size_t len, uint8_t *proto, size_t *offset,
						bool *is_fragment, uint16_t *frag_offset)
{
	uint8_t nh = p[6];
	size_t off = 40;
	*is_fragment = false;
	*frag_offset = 0;
	for (int i = 0; i < 9; i++) {
		switch (nh) {
		case 0:
		case 43:
		case 60:
			if (off + 8 > len)
				return IP6_EXT_TRUNCATED;
			{
				size_t hl = ((size_t)p[off + 1] + 1) * 8;
				if (off + hl > len)
					return IP6_EXT_TRUNCATED;
				nh = p[off];
				off += hl;
			}
			break;
		case 51:
			if (off + 8 > len)
				return IP6_EXT_TRUNCATED;
			{
				size_t hl = ((size_t)p[off + 1] + 2) * 4;
				if (off + hl > len)
					return IP6_EXT_TRUNCATED;
				nh = p[off];
				off += hl;
			}
			break;
		case 44:
			if (off + 8 > len)
				return IP6_EXT_TRUNCATED;
			*is_fragment = true;
			*frag_offset = (uint16_t)((((unsigned)p[off + 2] << 8) | p[off + 3]) >> 3);
			nh = p[off];
			off += 8;
			if (*frag_offset != 0) {
				/* Not a first fragment: what follows is data, not the header nh names. */
				*proto = nh;
				*offset = off;
				return IP6_EXT_OK;
			}
			break;
		default:
			*proto = nh;
			*offset = off;
			return IP6_EXT_OK;
		}
	}
	return IP6_EXT_TOO_MANY;
}

/* Sum of the IPv6 pseudo-header (RFC 8200 section 8.1) for an upper-layer packet of ulen bytes. */
static inline uint32_t ip6_pseudo_sum(const uint8_t *ip6hdr, uint32_t ulen, uint8_t proto)
{
	uint32_t sum = inet_csum_add(0, ip6hdr + 8, 32);
	sum += ulen >> 16;
	sum += ulen & 0xffff;
	sum += proto;
	return sum;
}

#endif
