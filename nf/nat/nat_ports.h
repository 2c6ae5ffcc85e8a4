/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port-block allocator of one worker (docs/NAT.md, "Port blocks"). Plain C, no DPDK: unit-tested against a naive
 * reference (test_nat_ports.c).
 *
 * A public address's dynamic range [port_lo, port_hi] is cut into blocks of block_size ports (a tail shorter than
 * a block is unused). Block b belongs to worker b % n_workers: a worker allocates only its own blocks, so a reply
 * to port p is handed to worker ((p - port_lo) / block_size) % n_workers (nat_ports_owner()). A block is
 * allocated whole to one subscriber; inside it, ports are allocated per protocol (TCP, UDP, ICMP ids each have
 * their own bitmap: a block gives a subscriber block_size ports of each). Port 0 is never handed out.
 *
 * A block whose last port was freed goes on the idle list (oldest first); nat_ports_idle_expired() returns the
 * blocks idle for at least idle_ms so the caller releases them (log record, subscriber update, then
 * nat_ports_block_free()). A port allocated again in an idle block takes it off the list.
 *
 * Threading: one nat_ports per worker, used only by that worker, except nat_ports_addr_add() /
 * nat_ports_addr_remove(), which the control thread calls for an address no worker can reach yet (before it is
 * published) or any more (after it is unpublished and a grace period passed), and the read-only
 * nat_ports_addr_used() (display; a torn read is harmless).
 */
#ifndef NPSGW_NAT_PORTS_H
#define NPSGW_NAT_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#define NAT_NIL UINT32_MAX

/* Port spaces: a mapping's protocol index. */
enum nat_proto_i { NAT_PI_TCP = 0, NAT_PI_UDP, NAT_PI_ICMP, NAT_PI_COUNT };

/* A block as the allocator names it: address slot << 16 | this worker's index of the block (NAT_NIL: none). */
#define NAT_REF(slot, k) (((uint32_t)(slot) << 16) | (uint32_t)(k))
#define NAT_REF_SLOT(ref) ((ref) >> 16)
#define NAT_REF_K(ref) ((ref)&0xffff)

struct nat_block {
	uint32_t sub;          /* owner subscriber index; NAT_NIL: free */
	uint32_t used;         /* ports allocated in it, every protocol */
	uint32_t idle_next, idle_prev; /* idle list (refs; NAT_NIL ends) */
	uint64_t idle_since_ms;        /* on the idle list: when its last port was freed */
	uint16_t hint[NAT_PI_COUNT];   /* where the next search for a free port starts (offset in the block) */
	bool idle;
};

/* This worker's share of one public address. */
struct nat_addr_share {
	bool active;
	uint16_t port_lo, block_size;
	uint32_t n_blocks; /* blocks of the whole address */
	uint32_t n_owned;  /* blocks b with b % n_workers == worker */
	uint32_t n_used;   /* owned blocks allocated to subscribers */
	uint32_t words;    /* 64-bit words per port bitmap */
	uint32_t next_k;   /* where the search for a free block starts */
	uint32_t stride;   /* bytes per block in mem: its struct nat_block, then its port bitmaps */
	/* n_owned blocks, each a struct nat_block followed by [proto][words] bitmap words (set = port in use; port 0
	 * is set for good), cache-line aligned: a port allocation reads one line when block_size <= 64 */
	uint8_t *mem;
};

/* This worker's k-th block of an address. */
static inline struct nat_block *nat_ports_block_at(const struct nat_addr_share *a, uint32_t k)
{
	return (struct nat_block *)(void *)(a->mem + (size_t)k * a->stride);
}

struct nat_ports {
	unsigned worker, n_workers;
	uint32_t max_addrs;
	struct nat_addr_share *addr; /* by address slot */
	uint32_t idle_head, idle_tail, n_idle;
};

/* Blocks of a range (0 when the range holds no whole block). */
static inline uint32_t nat_ports_n_blocks(uint16_t port_lo, uint16_t port_hi, uint16_t block_size)
{
	if (block_size == 0 || port_hi < port_lo)
		return 0;
	return ((uint32_t)port_hi - port_lo + 1) / block_size;
}

/* The worker that owns public port `port` of an address with this geometry; -1 when outside its blocks. */
static inline int nat_ports_owner(uint16_t port_lo, uint16_t block_size, uint32_t n_blocks, unsigned n_workers,
				  uint16_t port)
{
	if (port < port_lo || block_size == 0)
		return -1;
	uint32_t b = ((uint32_t)port - port_lo) / block_size;
	return b < n_blocks ? (int)(b % n_workers) : -1;
}

/* Bring in block ref (a port allocation or release in it reads that line first). */
static inline void nat_ports_block_prefetch(const struct nat_ports *np, uint32_t ref)
{
	__builtin_prefetch(nat_ports_block_at(&np->addr[NAT_REF_SLOT(ref)], NAT_REF_K(ref)));
}

/* Control thread. NULL when out of memory or worker >= n_workers. */
struct nat_ports *nat_ports_create(uint32_t max_addrs, unsigned worker, unsigned n_workers);
void nat_ports_free(struct nat_ports *np);
/* Make address slot usable with this geometry. 0, EINVAL (bad slot, range or block size), EEXIST, ENOMEM. */
int nat_ports_addr_add(struct nat_ports *np, uint32_t slot, uint16_t port_lo, uint16_t port_hi, uint16_t block_size);
/* Forget address slot. 0, ENOENT, EBUSY (blocks still allocated: drain first). */
int nat_ports_addr_remove(struct nat_ports *np, uint32_t slot);
/* Blocks of slot allocated now (0 when the slot is unused). */
uint32_t nat_ports_addr_used(const struct nat_ports *np, uint32_t slot);
/* Blocks of slot this worker may still allocate. */
uint32_t nat_ports_addr_free(const struct nat_ports *np, uint32_t slot);

/*
 * Allocate a free block of address slot to subscriber sub: the block holding want_port when it is this worker's,
 * free and not reserved (port preservation), else the next free one. reserved: bitmap over the address's blocks
 * (bit b set: block b holds a static mapping's port, never allocated), or NULL. 0 with *ref, ENOSPC, ENOENT.
 */
int nat_ports_block_alloc(struct nat_ports *np, uint32_t slot, uint32_t sub, uint16_t want_port,
			  const uint64_t *reserved, uint32_t *ref);
/* Give a block back (its ports must all be free: the caller releases idle blocks). */
void nat_ports_block_free(struct nat_ports *np, uint32_t ref);
uint32_t nat_ports_block_sub(const struct nat_ports *np, uint32_t ref);
/* The block's port range. */
void nat_ports_block_range(const struct nat_ports *np, uint32_t ref, uint16_t *lo, uint16_t *hi);
/* The block of this worker holding port (NAT_NIL when not this worker's or outside the blocks). */
uint32_t nat_ports_block_of(const struct nat_ports *np, uint32_t slot, uint16_t port);

/*
 * A port of protocol pi in block ref: want_port when it lies in the block and is free, else the next free one
 * (never 0). 0 with *port, or ENOSPC (block full). Takes the block off the idle list.
 */
int nat_ports_port_alloc(struct nat_ports *np, uint32_t ref, unsigned pi, uint16_t want_port, uint16_t *port);
/* Is port of protocol pi in use (in an allocated block of this worker)? */
bool nat_ports_port_used(const struct nat_ports *np, uint32_t slot, unsigned pi, uint16_t port);
/* Free a port; a block left with no port goes idle at now_ms. */
void nat_ports_port_free(struct nat_ports *np, uint32_t slot, unsigned pi, uint16_t port, uint64_t now_ms);

/* Up to max blocks idle since at least idle_ms, oldest first, taken off the idle list (still allocated). */
unsigned nat_ports_idle_expired(struct nat_ports *np, uint64_t now_ms, uint64_t idle_ms, uint32_t *refs,
				unsigned max);

#endif
