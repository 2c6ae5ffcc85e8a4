/* SPDX-License-Identifier: BSD-3-Clause */
/* Port-block allocator of one worker (nat_ports.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nf/nat/nat_ports.h"

_Static_assert(sizeof(struct nat_block) % sizeof(uint64_t) == 0, "the bitmaps follow the block, 8-byte aligned");

/* Blocks are laid out a cache line apart (and their bitmaps right behind them). */
#define NAT_PORTS_LINE 64u
#define NAT_PORTS_LINE_ALIGN(n) (((n) + NAT_PORTS_LINE - 1) / NAT_PORTS_LINE * NAT_PORTS_LINE)

struct nat_ports *nat_ports_create(uint32_t max_addrs, unsigned worker, unsigned n_workers)
{
	if (n_workers == 0 || worker >= n_workers || max_addrs == 0 || max_addrs > 0x10000)
		return NULL;
	struct nat_ports *np = calloc(1, sizeof(*np));
	if (np == NULL)
		return NULL;
	np->addr = calloc(max_addrs, sizeof(*np->addr));
	if (np->addr == NULL) {
		free(np);
		return NULL;
	}
	np->worker = worker;
	np->n_workers = n_workers;
	np->max_addrs = max_addrs;
	np->idle_head = np->idle_tail = NAT_NIL;
	return np;
}

void nat_ports_free(struct nat_ports *np)
{
	if (np == NULL)
		return;
	for (uint32_t s = 0; s < np->max_addrs; s++) {
		free(np->addr[s].mem);
	}
	free(np->addr);
	free(np);
}

static inline uint64_t *port_bits(const struct nat_addr_share *a, uint32_t k, unsigned pi)
{
	return (uint64_t *)(void *)(a->mem + (size_t)k * a->stride + sizeof(struct nat_block)) + (size_t)pi * a->words;
}

/* Block number (within the address) of this worker's k-th block. */
static inline uint32_t block_no(const struct nat_ports *np, uint32_t k)
{
	return k * np->n_workers + np->worker;
}

static inline uint16_t block_first_port(const struct nat_ports *np, const struct nat_addr_share *a, uint32_t k)
{
	return (uint16_t)(a->port_lo + block_no(np, k) * a->block_size);
}

int nat_ports_addr_add(struct nat_ports *np, uint32_t slot, uint16_t port_lo, uint16_t port_hi, uint16_t block_size)
{
	if (slot >= np->max_addrs || block_size == 0 || port_hi < port_lo)
		return EINVAL;
	struct nat_addr_share *a = &np->addr[slot];
	if (a->active)
		return EEXIST;
	uint32_t n_blocks = nat_ports_n_blocks(port_lo, port_hi, block_size);
	if (n_blocks == 0 || n_blocks > 0xffff)
		return EINVAL;
	uint32_t n_owned = n_blocks > np->worker ? (n_blocks - np->worker + np->n_workers - 1) / np->n_workers : 0;
	uint32_t words = (block_size + 63u) / 64u;
	uint32_t stride = NAT_PORTS_LINE_ALIGN(sizeof(struct nat_block) + NAT_PI_COUNT * words * sizeof(uint64_t));
	size_t bytes = (size_t)(n_owned ? n_owned : 1) * stride;
	uint8_t *mem = aligned_alloc(NAT_PORTS_LINE, bytes);
	if (mem == NULL)
		return ENOMEM;
	memset(mem, 0, bytes);
	free(a->mem);
	*a = (struct nat_addr_share){.port_lo = port_lo, .block_size = block_size, .n_blocks = n_blocks,
				     .n_owned = n_owned, .words = words, .stride = stride, .mem = mem};
	for (uint32_t k = 0; k < n_owned; k++) {
		struct nat_block *blk = nat_ports_block_at(a, k);
		blk->sub = NAT_NIL;
		blk->idle_next = blk->idle_prev = NAT_NIL;
		/* bits beyond block_size in the last word are set for good: never found free */
		for (unsigned pi = 0; pi < NAT_PI_COUNT; pi++) {
			uint64_t *b = port_bits(a, k, pi);
			for (uint32_t i = block_size; i < words * 64; i++)
				b[i / 64] |= 1ull << (i % 64);
			if (block_first_port(np, a, k) == 0)
				b[0] |= 1; /* port 0: never */
		}
	}
	a->active = true;
	return 0;
}

int nat_ports_addr_remove(struct nat_ports *np, uint32_t slot)
{
	if (slot >= np->max_addrs || !np->addr[slot].active)
		return ENOENT;
	struct nat_addr_share *a = &np->addr[slot];
	if (a->n_used > 0)
		return EBUSY;
	free(a->mem);
	memset(a, 0, sizeof(*a));
	return 0;
}

uint32_t nat_ports_addr_used(const struct nat_ports *np, uint32_t slot)
{
	return slot < np->max_addrs && np->addr[slot].active ? np->addr[slot].n_used : 0;
}

uint32_t nat_ports_addr_free(const struct nat_ports *np, uint32_t slot)
{
	if (slot >= np->max_addrs || !np->addr[slot].active)
		return 0;
	return np->addr[slot].n_owned - np->addr[slot].n_used;
}

static inline bool reserved_block(const uint64_t *reserved, uint32_t b)
{
	return reserved != NULL && (reserved[b / 64] >> (b % 64)) & 1;
}

int nat_ports_block_alloc(struct nat_ports *np, uint32_t slot, uint32_t sub, uint16_t want_port,
			  const uint64_t *reserved, uint32_t *ref)
{
	if (slot >= np->max_addrs || !np->addr[slot].active)
		return ENOENT;
	struct nat_addr_share *a = &np->addr[slot];
	if (a->n_used >= a->n_owned)
		return ENOSPC;
	uint32_t k = NAT_NIL;
	if (want_port >= a->port_lo) {
		uint32_t b = ((uint32_t)want_port - a->port_lo) / a->block_size;
		if (b < a->n_blocks && b % np->n_workers == np->worker && nat_ports_block_at(a, b / np->n_workers)->sub == NAT_NIL &&
		    !reserved_block(reserved, b))
			k = b / np->n_workers;
	}
	for (uint32_t n = 0; k == NAT_NIL && n < a->n_owned; n++) {
		uint32_t c = (a->next_k + n) % a->n_owned;
		if (nat_ports_block_at(a, c)->sub == NAT_NIL && !reserved_block(reserved, block_no(np, c)))
			k = c;
	}
	if (k == NAT_NIL)
		return ENOSPC;
	a->next_k = (k + 1) % a->n_owned;
	struct nat_block *blk = nat_ports_block_at(a, k);
	blk->sub = sub;
	blk->used = 0;
	blk->idle = false;
	blk->idle_next = blk->idle_prev = NAT_NIL;
	memset(blk->hint, 0, sizeof(blk->hint));
	a->n_used++;
	*ref = NAT_REF(slot, k);
	return 0;
}

static inline struct nat_block *block_of_ref(const struct nat_ports *np, uint32_t ref)
{
	return nat_ports_block_at(&np->addr[NAT_REF_SLOT(ref)], NAT_REF_K(ref));
}

static void idle_unlink(struct nat_ports *np, uint32_t ref)
{
	struct nat_block *b = block_of_ref(np, ref);
	if (!b->idle)
		return;
	if (b->idle_prev != NAT_NIL)
		block_of_ref(np, b->idle_prev)->idle_next = b->idle_next;
	else
		np->idle_head = b->idle_next;
	if (b->idle_next != NAT_NIL)
		block_of_ref(np, b->idle_next)->idle_prev = b->idle_prev;
	else
		np->idle_tail = b->idle_prev;
	b->idle_next = b->idle_prev = NAT_NIL;
	b->idle = false;
	np->n_idle--;
}

/* Time only grows: appending keeps the list oldest first. */
static void idle_append(struct nat_ports *np, uint32_t ref, uint64_t now_ms)
{
	struct nat_block *b = block_of_ref(np, ref);
	b->idle = true;
	b->idle_since_ms = now_ms;
	b->idle_next = NAT_NIL;
	b->idle_prev = np->idle_tail;
	if (np->idle_tail != NAT_NIL)
		block_of_ref(np, np->idle_tail)->idle_next = ref;
	else
		np->idle_head = ref;
	np->idle_tail = ref;
	np->n_idle++;
}

void nat_ports_block_free(struct nat_ports *np, uint32_t ref)
{
	struct nat_addr_share *a = &np->addr[NAT_REF_SLOT(ref)];
	struct nat_block *b = block_of_ref(np, ref);
	if (b->sub == NAT_NIL)
		return;
	idle_unlink(np, ref);
	uint32_t k = NAT_REF_K(ref);
	if (b->used > 0) { /* not expected: the caller frees idle blocks; clear the ports anyway */
		for (unsigned pi = 0; pi < NAT_PI_COUNT; pi++) {
			uint64_t *bits = port_bits(a, k, pi);
			memset(bits, 0, a->words * sizeof(uint64_t));
			for (uint32_t i = a->block_size; i < a->words * 64; i++)
				bits[i / 64] |= 1ull << (i % 64);
			if (block_first_port(np, a, k) == 0)
				bits[0] |= 1;
		}
		b->used = 0;
	}
	b->sub = NAT_NIL;
	a->n_used--;
}

uint32_t nat_ports_block_sub(const struct nat_ports *np, uint32_t ref)
{
	return block_of_ref(np, ref)->sub;
}

void nat_ports_block_range(const struct nat_ports *np, uint32_t ref, uint16_t *lo, uint16_t *hi)
{
	const struct nat_addr_share *a = &np->addr[NAT_REF_SLOT(ref)];
	*lo = block_first_port(np, a, NAT_REF_K(ref));
	*hi = (uint16_t)(*lo + a->block_size - 1);
}

uint32_t nat_ports_block_of(const struct nat_ports *np, uint32_t slot, uint16_t port)
{
	if (slot >= np->max_addrs || !np->addr[slot].active)
		return NAT_NIL;
	const struct nat_addr_share *a = &np->addr[slot];
	if (port < a->port_lo)
		return NAT_NIL;
	uint32_t b = ((uint32_t)port - a->port_lo) / a->block_size;
	if (b >= a->n_blocks)
		return NAT_NIL;
	if (np->n_workers == 1) /* no division (this runs for every mapping made and freed) */
		return NAT_REF(slot, b);
	if (b % np->n_workers != np->worker)
		return NAT_NIL;
	return NAT_REF(slot, b / np->n_workers);
}

int nat_ports_port_alloc(struct nat_ports *np, uint32_t ref, unsigned pi, uint16_t want_port, uint16_t *port)
{
	struct nat_addr_share *a = &np->addr[NAT_REF_SLOT(ref)];
	uint32_t k = NAT_REF_K(ref);
	struct nat_block *b = nat_ports_block_at(a, k);
	uint64_t *bits = port_bits(a, k, pi);
	uint16_t first = block_first_port(np, a, k);
	uint32_t off = NAT_NIL;
	if (want_port >= first && want_port - first < a->block_size) {
		uint32_t i = want_port - first;
		if (!((bits[i / 64] >> (i % 64)) & 1))
			off = i;
	}
	if (off == NAT_NIL) {
		/* word by word from the hint, wrapping once */
		uint32_t w0 = b->hint[pi] / 64;
		for (uint32_t n = 0, wi = w0; n <= a->words && off == NAT_NIL; n++, wi = wi + 1 < a->words ? wi + 1 : 0) {
			uint64_t freebits = ~bits[wi];
			if (n == 0)
				freebits &= ~0ull << (b->hint[pi] % 64); /* from the hint on in its own word */
			else if (n == a->words)
				freebits &= (b->hint[pi] % 64) ? ~(~0ull << (b->hint[pi] % 64)) : 0; /* what was skipped */
			if (freebits)
				off = wi * 64 + (uint32_t)__builtin_ctzll(freebits);
		}
		if (off == NAT_NIL)
			return ENOSPC;
	}
	bits[off / 64] |= 1ull << (off % 64);
	b->hint[pi] = (uint16_t)(off + 1 < a->block_size ? off + 1 : 0);
	if (b->used++ == 0)
		idle_unlink(np, ref);
	*port = (uint16_t)(first + off);
	return 0;
}

bool nat_ports_port_used(const struct nat_ports *np, uint32_t slot, unsigned pi, uint16_t port)
{
	uint32_t ref = nat_ports_block_of(np, slot, port);
	if (ref == NAT_NIL)
		return false;
	const struct nat_addr_share *a = &np->addr[slot];
	uint32_t k = NAT_REF_K(ref);
	if (nat_ports_block_at(a, k)->sub == NAT_NIL)
		return false;
	uint32_t i = port - block_first_port(np, a, k);
	return (port_bits(a, k, pi)[i / 64] >> (i % 64)) & 1;
}

void nat_ports_port_free(struct nat_ports *np, uint32_t slot, unsigned pi, uint16_t port, uint64_t now_ms)
{
	uint32_t ref = nat_ports_block_of(np, slot, port);
	if (ref == NAT_NIL || port == 0)
		return;
	struct nat_addr_share *a = &np->addr[slot];
	uint32_t k = NAT_REF_K(ref);
	struct nat_block *b = nat_ports_block_at(a, k);
	uint32_t i = port - block_first_port(np, a, k);
	uint64_t *w = &port_bits(a, k, pi)[i / 64];
	if (b->sub == NAT_NIL || !((*w >> (i % 64)) & 1))
		return;
	*w &= ~(1ull << (i % 64));
	if (--b->used == 0)
		idle_append(np, ref, now_ms);
}

unsigned nat_ports_idle_expired(struct nat_ports *np, uint64_t now_ms, uint64_t idle_ms, uint32_t *refs,
				unsigned max)
{
	unsigned n = 0;
	while (n < max && np->idle_head != NAT_NIL) {
		uint32_t ref = np->idle_head;
		if (block_of_ref(np, ref)->idle_since_ms + idle_ms > now_ms)
			break;
		idle_unlink(np, ref);
		refs[n++] = ref;
	}
	return n;
}
