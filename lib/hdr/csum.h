/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Incremental Internet checksum update (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')), for rewriting fields of a
 * packet without summing it again (NAT). Values are host-order numbers of big-endian packet fields, the way
 * csum_rd16() reads them; checksums too. Pure C, all inline, no DPDK.
 *
 * Equation 3 (not 2) is used because it yields exactly what a full recomputation yields: the folded sum is zero
 * only when every term is zero, so a field that sums to zero gives checksum 0x0000, as RFC 1071 code does.
 *
 * A change is a "delta": the one's-complement sum ~m + m' of its 16-bit words. Deltas add up (several fields, or
 * the same address in a pseudo-header and a header), and csum_apply() folds them into a checksum once.
 */
#ifndef NPSGW_CSUM_H
#define NPSGW_CSUM_H

#include <stdint.h>
#include <string.h>

/*
 * Big-endian 16/32-bit field at p as a host-order number, and back: one unaligned load or store and a byte swap
 * (byte by byte, the compiler kept two or four narrow accesses, which later wide loads of the header then waited on).
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSUM_BE16(v) __builtin_bswap16(v)
#define CSUM_BE32(v) __builtin_bswap32(v)
#else
#define CSUM_BE16(v) (v)
#define CSUM_BE32(v) (v)
#endif

static inline uint16_t csum_rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return CSUM_BE16(v);
}

static inline uint32_t csum_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return CSUM_BE32(v);
}

static inline void csum_wr16(uint8_t *p, uint16_t v)
{
	v = CSUM_BE16(v);
	memcpy(p, &v, 2);
}

static inline void csum_wr32(uint8_t *p, uint32_t v)
{
	v = CSUM_BE32(v);
	memcpy(p, &v, 4);
}

/* Delta of a 16-bit word changing from old to new (at an even offset from the start of the summed data). */
static inline uint32_t csum_delta16(uint16_t old, uint16_t new)
{
	return (uint32_t)(uint16_t)~old + new;
}

/* Delta of a 32-bit field (two words at even offsets, e.g. an IPv4 address) changing from old to new. */
static inline uint32_t csum_delta32(uint32_t old, uint32_t new)
{
	return csum_delta16((uint16_t)(old >> 16), (uint16_t)(new >> 16)) +
	       csum_delta16((uint16_t)old, (uint16_t)new);
}

/*
 * Delta of a 16-bit field at an ODD offset (e.g. a TCP option after one NOP): its bytes land in the low half of
 * one word and the high half of the next, which sums like the byte-swapped value at an even offset.
 */
static inline uint32_t csum_delta16_odd(uint16_t old, uint16_t new)
{
	return csum_delta16(__builtin_bswap16(old), __builtin_bswap16(new));
}

/* Checksum after changes whose deltas add up to delta (any number of terms that fit in 32 bits). */
static inline uint16_t csum_apply(uint16_t csum, uint32_t delta)
{
	uint64_t s = (uint64_t)(uint16_t)~csum + delta;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* UDP checksum after changes (RFC 768): 0 means "none" and stays 0; a computed 0 is sent as 0xffff. */
static inline uint16_t csum_apply_udp(uint16_t csum, uint32_t delta)
{
	if (csum == 0)
		return 0;
	csum = csum_apply(csum, delta);
	return csum ? csum : 0xffff;
}

/* RFC 1624 eqn. 3 for one 16-bit field. */
static inline uint16_t csum_update16(uint16_t csum, uint16_t old, uint16_t new)
{
	return csum_apply(csum, csum_delta16(old, new));
}

/* RFC 1624 eqn. 3 for one 32-bit field. */
static inline uint16_t csum_update32(uint16_t csum, uint32_t old, uint32_t new)
{
	return csum_apply(csum, csum_delta32(old, new));
}

/* Delta of an IPv4 address and a port changing together (TCP/UDP: the address is in the pseudo-header). */
static inline uint32_t csum_delta_addr_port(uint32_t old_addr, uint32_t new_addr, uint16_t old_port,
					    uint16_t new_port)
{
	return csum_delta32(old_addr, new_addr) + csum_delta16(old_port, new_port);
}

/* The checksum field at p (big-endian) with delta applied; udp: keep the RFC 768 rules for zero. */
static inline void csum_field_apply(uint8_t *p, uint32_t delta, int udp)
{
	uint16_t c = csum_rd16(p);
	csum_wr16(p, udp ? csum_apply_udp(c, delta) : csum_apply(c, delta));
}

#endif
