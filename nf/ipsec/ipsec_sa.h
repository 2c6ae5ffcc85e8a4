/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec running state shared by the data path (nf/ipsec/ipsec_node_*.c: workers) and the control side
 * (nf/ipsec/ipsec_cp.c, ipsec_ctl*.c, ipsec.c: control thread): SAs, tunnels, the tables the nodes read, the
 * per-worker engines. Pure (no dataplane/dp.h, no graph): the unit tests link it.
 *
 * Threading (dataplane/dp.h rules):
 * - The control thread is the only writer of the tables (ipsec.tunnels[], ipsec.spi) and of every published
 *   pointer (tunnel->params, tunnel->out_sa). It publishes with release stores (__atomic_store_n(..., RELEASE)) and
 *   frees what it unpublished only after dp_synchronize(). Workers load with the *_get() helpers (acquire) and keep
 *   no pointer across loop iterations.
 * - struct ipsec_sa: immutable once published, except
 *     seq_out       any worker: atomic fetch-add (outbound SAs);
 *     tx_packets, tx_bytes  the only worker, when there is one (outbound SAs; else stats[w]); the control thread
 *                   reads them as it reads stats[] (torn reads tolerated);
 *     seq_exhausted set by a worker (relaxed) when it refused a packet for want of sequence numbers;
 *     expired       set by the control thread (relaxed) when a hard lifetime is reached: workers then refuse it;
 *     replay, rx_round, rx_slot, rx_packets, rx_bytes  written by the SA's owner worker only (inbound SAs; owner =
 *                   spi % n_workers): the packets of an inbound SA are handed to the owner before the replay check
 *                   (nf/nf_node.h nf_hand_off); rx_round/rx_slot are ipsec_in's per-burst bookkeeping (zero at
 *                   creation); rx_packets/rx_bytes count accepted packets beside the window (one line less per
 *                   packet than stats[owner]; the control thread reads them as it reads stats[], torn reads tolerated);
 *     stats[w]      written by worker w only; the control thread sums them (torn reads tolerated);
 *     soft_reported / hard_reported: control thread only (events already emitted).
 * - struct ipsec_tunnel: id and vrf immutable; params and out_sa are published pointers, params normally to the
 *   tunnel's own home slot (a change is published from a separate block, and copied home once the workers let go of
 *   the old home: the first line holds all a packet reads); stats[w] per worker (no_sa only: packet counters are the
 *   SAs'); in_sa[] and gone (counters of deleted SAs) are the control thread's own (workers find inbound SAs through
 *   ipsec.spi only).
 *
 * WHAT THE CONTROL SIDE SETS UP (cp):
 *  1. init (boot, with the "ipsec" section): ipsec.n_workers = dp.n_workers; ipsec.max_ifaces = dp.max_ifaces;
 *     ipsec.tunnels = rte_zmalloc(max_ifaces pointers); ipsec.spi = ipsec_spi_table_create(max_sas) (nf/ipsec/
 *     ipsec_spi.h: SPI in host order -> struct ipsec_sa *, lock-free readers, the control thread the only writer;
 *     a table full of tombstones is rebuilt, published (release) and the old one retired; inbound SAs only:
 *     outbound SPIs are the peer's and may collide with ours);
 *     ipsec.peer_ring = rte_ring_create_elem(sizeof(struct ipsec_peer_move), IPSEC_PEER_RING_SIZE,
 *     flags RING_F_SC_DEQ: multi-producer, the control thread consumes); workers: rte_zmalloc(n_workers *
 *     struct ipsec_worker, cache aligned) and ipsec_worker_init() for each; publish ipsec.workers LAST (release
 *     store). Without the section, ipsec.workers stays NULL: the nodes then drop (esp_unknown_spi, ipsec_no_tunnel).
 *  2. tunnel add: t = ipsec_tunnel_create(iface id, tenant vrf slot, n_workers, socket); fill t->home, t->params =
 *     &t->home; publish ipsec.tunnels[iface] = t (release). tunnel set / roaming: build a new params block, publish
 *     it; at the operation's end, after dp_synchronize(), copy it into t->home, publish &t->home, free the block
 *     after one more dp_synchronize() (one pair per operation, however many tunnels changed).
 *     tunnel del: unpublish the tunnel and its SAs (SPI entries), dp_synchronize(), then ipsec_sa_destroy() /
 *     ipsec_tunnel_destroy(). An SA freed while its tunnel lives is first folded into it (ipsec_tunnel_fold).
 *  3. sa add: sa = ipsec_sa_create(&sa_conf, tunnel iface, n_workers, socket, err); in: ipsec_spi_add(ipsec.spi,
 *     spi, sa) and keep it in t->in_sa[]; out: publish t->out_sa = sa (release) (the previous one stays
 *     listed by the cp, inactive). sa del: unpublish (ipsec_spi_del / out_sa = NULL when it was the active one),
 *     dp_synchronize(), ipsec_sa_destroy() (wipes the keys).
 *  4. poll: ipsec_sa_sum() per SA for the lifetimes (soft -> event once; hard -> event + expired = 1), seq_exhausted
 *     -> sa_seq_exhausted event once; drain ipsec.peer_ring (struct ipsec_peer_move): when the tunnel (by iface) still
 *     has follow_peer and the SA (by spi) still belongs to it, publish a new params with remote/remote_port from
 *     the move and emit peer_moved (old, new).
 *  5. fini (workers stopped): destroy everything, ipsec_worker_fini() for each worker.
 */
#ifndef NPSGW_IPSEC_SA_H
#define NPSGW_IPSEC_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ip_frag.h>
#include <rte_ring.h>

#include "nf/ipsec/ipsec_conf.h"
#include "nf/ipsec/ipsec_counters.h"
#include "nf/ipsec/ipsec_crypto.h"
#include "nf/ipsec/ipsec_replay.h"
#include "nf/ipsec/ipsec_spi.h"

/* Node names (the descriptor lists them; the core's edges name the first three). */
#define NODE_IPSEC_IN "ipsec_in"       /* ESP v4/v6 and UDP 4500 from ip4_local / ip6_local */
#define NODE_IPSEC4_OUT "ipsec4_out"   /* inner IPv4 routed out of an ipsec interface */
#define NODE_IPSEC6_OUT "ipsec6_out"   /* inner IPv6 routed out of an ipsec interface */
#define NODE_IPSEC_HOUSE "ipsec_house" /* per-worker source node: feeds the packets handed to this worker */

#define IPSEC_MAX_WORKERS 64          /* = DP_MAX_WORKERS (checked where both are seen) */
#define IPSEC_TUNNEL_IN_SA_MAX 4      /* inbound SAs accepted together per tunnel (= IPSEC_CONF_SA_IN_MAX) */
#define IPSEC_NATT_PORT 4500          /* RFC 3948 */
#define IPSEC_HANDOFF_RING_SIZE 4096  /* per worker, MP/SC, struct rte_mbuf * */
#define IPSEC_PEER_RING_SIZE 1024     /* workers -> control, MP/SC, struct ipsec_peer_move elements */
#define IPSEC_OUTER_TTL 64

/* Per-worker counters of one SA (written by that worker only). */
struct ipsec_sa_stats {
	uint64_t packets, bytes;  /* processed: out = encrypted, in = authenticated and accepted; bytes = inner packet */
	uint64_t icv_failed;      /* in */
	uint64_t replay;          /* in: dropped by the window */
	uint64_t decrypt_errors;  /* in: bad padding / next header after a good ICV */
	uint64_t refused;         /* out: no sequence number left, or expired */
	uint64_t dummy;           /* in: authenticated dummy packets (next header 59, RFC 4303 2.6): discarded */
} __rte_cache_aligned;

struct ipsec_sa {
	/* ---- first line: what every packet of the SA reads, and the outbound counter (one line instead of four: when
	 * every packet has another SA, as with 1000 tunnels, each line is a miss) ---- */
	uint32_t spi;          /* host order; immutable */
	uint8_t dir;           /* enum ipsec_conf_dir; immutable */
	uint8_t alg;           /* enum ipsec_conf_alg; immutable; this and the next four copy crypto's (at creation) */
	uint8_t aes_len;       /* AES key bytes: 16 or 32 */
	uint8_t iv_len;        /* IV bytes on the wire: 8 (GCM) or 16 (CBC) */
	uint8_t align;         /* payload + trailer alignment: 4 (GCM) or 16 (CBC); a power of two */
	uint8_t salt[IPSEC_GCM_SALT_LEN]; /* GCM nonce salt */
	bool esn;              /* 64-bit sequence numbers (RFC 4304); immutable */
	uint16_t iface;        /* the tunnel's interface id; immutable */
	uint16_t owner;        /* inbound: worker owning the replay window = spi % n_workers; immutable */
	uint8_t seq_limit_hard; /* outbound: seq_limit is the hard packet lifetime (refusals are ipsec_sa_expired) */
	uint8_t expired;       /* control -> workers (relaxed): hard lifetime reached, refuse */
	uint8_t seq_exhausted; /* worker -> control (relaxed) */
	uint64_t seq_limit;    /* outbound: last usable sequence number (ipsec_sa_seq_start() computes it) */
	uint64_t seq_out;      /* outbound, any worker: last sequence number handed out (0: none); atomic fetch-add */
	uint64_t tx_packets;   /* outbound with one worker: encrypted packets and their inner bytes, here on the line */
	uint64_t tx_bytes;     /* each packet writes anyway (with several workers, stats[w] count them) */
	/* ---- immutable once published, read by the control side ---- */
	uint16_t n_workers;    /* entries of stats[] */
	uint32_t replay_window;
	uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets; /* 0 = none */
	uint8_t soft_reported, hard_reported, exhausted_reported; /* control only */
	struct ipsec_tunnel *fold_into; /* control only: retired SA of a live tunnel, its counters go there when freed */
	struct ipsec_crypto_key crypto; /* expanded keys (64-byte aligned), wiped by ipsec_sa_destroy */
	/* ---- inbound: the owner worker only; the first line holds all an accepted packet writes ---- */
	uint64_t rx_packets __rte_cache_aligned; /* accepted (stats[].packets of an inbound SA are 0) */
	uint64_t rx_bytes;                       /* their inner bytes */
	uint32_t rx_round;                       /* ipsec_in: the owner's round that last gave rx_slot (0 none) */
	uint8_t rx_slot;                         /* ipsec_in: this SA's slot in that round */
	struct ipsec_replay replay;
	/* ---- per worker ---- */
	struct ipsec_sa_stats stats[] __rte_cache_aligned;
};
_Static_assert(offsetof(struct ipsec_sa, tx_bytes) + sizeof(uint64_t) <= RTE_CACHE_LINE_SIZE,
	       "an SA's per-packet fields share its first line");
_Static_assert(offsetof(struct ipsec_sa, replay.bits) - offsetof(struct ipsec_sa, rx_packets) <= RTE_CACHE_LINE_SIZE,
	       "an inbound packet's counters, round stamp and window header share one line");

/*
 * A tunnel's outer side: immutable once published. `ipsec tunnel set` and roaming publish a new one; it is then
 * copied into the tunnel's home slot (struct ipsec_tunnel) once no worker reads the old home (ipsec_cp.c).
 */
struct ipsec_tunnel_params {
	uint32_t transport_vrf; /* VRF slot the ESP packets are routed in and arrive from */
	uint8_t family;         /* outer: 4 or 6 */
	bool udp_encap;         /* RFC 3948: ESP in UDP, source port 4500 */
	bool follow_peer;       /* authenticated packets from a new outer source move remote/remote_port */
	uint16_t mss;           /* TCP MSS clamp on SYNs both ways; 0 = off */
	uint16_t remote_port;   /* host order; UDP destination with udp_encap (4500 unless told) */
	uint8_t local[16];      /* network order; IPv4 in [0..3] */
	uint8_t remote[16];
	uint32_t gen;           /* bumped by the control thread on every publish; peer moves carry the one they saw */
};
_Static_assert(sizeof(struct ipsec_tunnel_params) == 48, "params fit beside two pointers in one line");

/*
 * A tunnel's counters, summed for display (ipsec_cp_tunnel_sum): all but no_sa are its SAs' own (struct
 * ipsec_sa_stats, the window's loss estimate), added up over the SAs it has and those it had.
 */
struct ipsec_tunnel_stats {
	uint64_t rx_packets, rx_bytes; /* inner packets decrypted and re-injected, inner bytes */
	uint64_t tx_packets, tx_bytes; /* inner packets encrypted, inner bytes */
	uint64_t icv_failed, replay, decrypt_errors;
	uint64_t lost;                 /* underlay loss estimate (anti-replay windows of its SAs) */
	uint64_t no_sa;                /* outbound packets with no usable SA (none, expired, exhausted) */
};

/* Per-worker counters of a tunnel that no SA keeps (written by that worker only; off the forwarding path). */
struct ipsec_tunnel_wstats {
	uint64_t no_sa;
} __rte_cache_aligned;

struct ipsec_tunnel {
	/* ---- first line: all a packet reads of its tunnel, in either direction (with a thousand tunnels each line
	 * is a miss; the tunnel's packet counters are its SAs') ---- */
	const struct ipsec_tunnel_params *params; /* published: ipsec_tunnel_params_get(); &home but while a change is
						   * being published */
	struct ipsec_sa *out_sa;            /* published: ipsec_tunnel_out_sa_get(); NULL: ipsec_no_sa */
	struct ipsec_tunnel_params home;    /* the outer side, written only while no worker reads it */
	/* ---- control side ---- */
	uint16_t iface;                    /* the ipsec interface's id */
	uint32_t vrf;                      /* the interface's (tenant) VRF slot */
	uint16_t n_workers;                /* entries of stats[] */
	struct ipsec_sa *in_sa[IPSEC_TUNNEL_IN_SA_MAX]; /* control thread's list */
	struct ipsec_tunnel_stats gone;    /* the counters of its SAs deleted so far (folded in when freed) */
	struct ipsec_tunnel_wstats stats[] __rte_cache_aligned;
};
_Static_assert(offsetof(struct ipsec_tunnel, home) + sizeof(struct ipsec_tunnel_params) <= RTE_CACHE_LINE_SIZE,
	       "a tunnel's per-packet fields share its first line");

/* A worker saw an authenticated packet of a follow_peer tunnel from another outer source. */
struct ipsec_peer_move {
	uint16_t iface;    /* tunnel */
	uint16_t port;     /* new remote UDP source port (host order); 0 without UDP encapsulation */
	uint32_t spi;      /* inbound SA that authenticated it */
	uint8_t family;
	uint8_t udp;       /* arrived in UDP: on a tunnel without udp_encap, switch it on (a NAT appeared) */
	uint8_t addr[16];  /* new remote address, network order */
	uint32_t gen;      /* params generation the worker compared against: stale (a newer publish) = ignore */
};

/* One worker's IPsec engine (written by that worker only, except handoff: any worker enqueues). */
struct ipsec_worker {
	IMB_MGR *mb;
	struct rte_ring *handoff;  /* inbound ESP of the SAs this worker owns, data at the outer L3 header */
	uint32_t ip_id;            /* outer IPv4 identification (16 bits used; workers start 65536 / n apart) */
	uint32_t round;            /* ipsec_in rounds (struct ipsec_sa rx_round stamps); never 0 once running */
	uint64_t peer_posted_ms;   /* rate limit of peer moves (one per ms per worker) */
	uint64_t cnt[IPSEC_CNT_COUNT];
	/* outer fragments of the peers whose source address hashes to this worker (ipsec_frag_owner) */
	struct rte_ip_frag_tbl *reass; /* NULL: reassembly off */
	uint64_t last_house_ms;        /* ipsec_house's last expiry pass */
	struct rte_ip_frag_death_row dr;
} __rte_cache_aligned;

/* What the nodes read (defined in nf/ipsec/esp_sa.c, zero until the cp's init). */
struct ipsec_state {
	unsigned n_workers;
	uint32_t max_ifaces;
	struct ipsec_worker *workers;  /* published last; NULL: IPsec not running */
	struct ipsec_tunnel **tunnels; /* by interface id, max_ifaces entries, each published */
	struct ipsec_spi_table *spi;   /* inbound SPI (host order) -> struct ipsec_sa *; published (ipsec_spi_get) */
	struct rte_ring *peer_ring;    /* struct ipsec_peer_move, workers -> control */
};

extern struct ipsec_state ipsec;

static inline struct ipsec_worker *ipsec_workers_get(void)
{
	return __atomic_load_n(&ipsec.workers, __ATOMIC_ACQUIRE);
}

static inline const struct ipsec_spi_table *ipsec_spi_get(void)
{
	return __atomic_load_n(&ipsec.spi, __ATOMIC_ACQUIRE);
}

static inline struct ipsec_tunnel *ipsec_tunnel_get(uint16_t iface)
{
	return iface < ipsec.max_ifaces ? __atomic_load_n(&ipsec.tunnels[iface], __ATOMIC_ACQUIRE) : NULL;
}

static inline const struct ipsec_tunnel_params *ipsec_tunnel_params_get(const struct ipsec_tunnel *t)
{
	return __atomic_load_n(&t->params, __ATOMIC_ACQUIRE);
}

static inline struct ipsec_sa *ipsec_tunnel_out_sa_get(const struct ipsec_tunnel *t)
{
	return __atomic_load_n(&t->out_sa, __ATOMIC_ACQUIRE);
}

/* ---- Building and freeing (control thread; also the unit tests) ---- */

/*
 * A new SA from its checked configuration (ipsec_sa_conf_check passed): keys expanded, replay window empty, counters
 * zero, owner = spi % n_workers, for the tunnel of interface iface. rte_malloc'ed on socket (SOCKET_ID_ANY ok).
 * NULL with err (never quoting keys).
 */
struct ipsec_sa *ipsec_sa_create(const struct ipsec_sa_conf *c, uint16_t iface, unsigned n_workers, int socket,
				 char *err, size_t errlen);
/* Expand the keys of sa (called by ipsec_sa_create; for callers building an SA by hand). 0, or -1 with err. */
int ipsec_sa_init_crypto(struct ipsec_sa *sa, uint8_t alg, const uint8_t *key, size_t key_len,
			 const uint8_t *auth_key, size_t auth_key_len, char *err, size_t errlen);
/* Wipe the keys and free (after dp_synchronize() once unpublished). NULL ok. */
void ipsec_sa_destroy(struct ipsec_sa *sa);
/* The per-worker counters summed; *lost = the replay window's loss estimate (inbound). */
void ipsec_sa_sum(const struct ipsec_sa *sa, struct ipsec_sa_stats *out, uint64_t *lost);
/* Sequence numbers handed out so far (outbound), capped at the limit. */
uint64_t ipsec_sa_seq_used(const struct ipsec_sa *sa);
/*
 * Outbound: the last number counted as sent (the next packet carries seq_start + 1) and the limit that follows:
 * min(sequence space, seq_start + hard_packets) (exact hard packet lifetime). The space leaves headroom of
 * IPSEC_MAX_WORKERS * IPSEC_CRYPTO_BURST below 2^64 so that workers' fetch-adds past the limit never wrap seq_out.
 * ipsec_sa_create calls it with 0 (from hard_packets of its conf); the control thread calls it instead of writing
 * seq_out (`seq N`), before publishing. Sets seq_out, seq_limit, seq_limit_hard.
 */
void ipsec_sa_seq_start(struct ipsec_sa *sa, uint64_t seq_start);
/* The sequence space of an SA: 2^32 - 1 without ESN, 2^64 - 1 minus the workers' headroom with. */
uint64_t ipsec_sa_seq_space(bool esn);

/* A tunnel with zeroed counters, params and out_sa NULL (the caller fills home and points params at it before
 * publishing). */
struct ipsec_tunnel *ipsec_tunnel_create(uint16_t iface, uint32_t vrf, unsigned n_workers, int socket);
void ipsec_tunnel_destroy(struct ipsec_tunnel *t); /* not its SAs. NULL ok. */
/* An SA of t about to be freed (no worker holds it): its counters stay the tunnel's. */
void ipsec_tunnel_fold(struct ipsec_tunnel *t, const struct ipsec_sa *sa);
/* t's counters: those of its SAs now (sas[0..n_sas)), of those folded in, and its own. */
void ipsec_tunnel_sum(const struct ipsec_tunnel *t, struct ipsec_sa *const *sas, unsigned n_sas,
		      struct ipsec_tunnel_stats *out);

/*
 * A worker's engine: IMB_MGR and hand-off ring (name from index; nf_handoff_ring_create: registered with the core so
 * dp_synchronize() waits for it). Defined in ipsec_node_house.c (not pure: npsd only). 0, or -1 with err.
 */
/* reass_max: outer datagrams it reassembles at once (0: none, fragments dropped), each given up after reass_cycles. */
int ipsec_worker_init(struct ipsec_worker *w, unsigned index, int socket, uint32_t reass_max, uint64_t reass_cycles,
		      char *err, size_t errlen);
void ipsec_worker_fini(struct ipsec_worker *w);

#endif
