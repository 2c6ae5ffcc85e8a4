/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: one session table per worker (docs/FIREWALL.md, "Session table").
 *
 * Users: the firewall (nf/fw) first, NAT and DS-Lite later. A table belongs to one worker, which is the only one
 * that looks up, inserts, tracks and expires in it: no locks. The control thread only reads the session array (for
 * display; a row may be torn while the worker writes it, which display tolerates) and posts flush requests that the
 * worker carries out in ct_expire().
 *
 * Both directions of a flow find the same session with one lookup: the key is canonical (the endpoint with the
 * lower (address, port) is side 0) and ct_key_build() says which side the packet came from. A session remembers
 * which side opened it (init_side): a packet from that side is CT_DIR_ORIG, from the other CT_DIR_REPLY.
 *
 * Time is in milliseconds, passed in by the caller (the worker's clock; a fake clock in tests). Expiry is a timer
 * wheel of 1-second slots walked a few sessions at a time: never a stop-the-world scan. A packet only stores the
 * new expiry in its session (no list move); when the wheel reaches a session whose expiry moved, it re-files it.
 */
#ifndef NPSGW_CT_H
#define NPSGW_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

/* Canonical session key: 48 bytes (rte_hash compares 48-byte keys with SIMD). */
struct ct_key {
	uint32_t vrf;
	uint8_t family;      /* 4 or 6 */
	uint8_t proto;       /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or another protocol number (ports 0) */
	uint16_t port[2];    /* host order; ICMP echo: the identifier on both sides; other protocols: 0 */
	uint16_t pad;        /* zero */
	uint8_t addr[2][16]; /* IPv4: first 4 bytes, the rest zero */
	uint8_t pad2[4];     /* zero */
} __attribute__((packed, aligned(4)));

enum ct_dir { CT_DIR_ORIG = 0, CT_DIR_REPLY = 1 };

/* Fixed seed: every table must hash a key the same way. */
#define CT_HASH_SEED 0x6e707367u /* "npsg" */

/* CRC32-C of one 8-byte word (the SSE4.2 instruction when the build has it; DPDK's otherwise: the same values). */
#if defined(__SSE4_2__) && defined(__x86_64__)
#include <nmmintrin.h>
#define CT_CRC64(h, w) ((uint32_t)_mm_crc32_u64((h), (w)))
#else
#define CT_CRC64(h, w) rte_hash_crc_8byte((w), (h))
#endif

/* The hash of a key given as its six 8-byte words (ct_key_hash()). */
static inline uint32_t ct_key_words_hash(const uint64_t w[6], uint8_t family)
{
	uint32_t h = CT_CRC64(CT_HASH_SEED, w[0]);
	h = CT_CRC64(h, w[1]);
	h = CT_CRC64(h, w[3]);
	if (family != 4) {
		h = CT_CRC64(h, w[2]);
		h = CT_CRC64(h, w[4]);
		h = CT_CRC64(h, w[5]);
	}
	return h;
}

/*
 * The hash of a key (same function and seed in every table; the tables' rte_hash uses it too, so its value feeds
 * the *_with_hash calls). CRC32-C of the key's 8-byte words; an IPv4 key (family 4) skips the three words
 * ct_key_build() leaves zero there (bytes 16-27 and 36-47): half the work for the common case.
 */
static inline uint32_t ct_key_hash(const struct ct_key *k)
{
	uint64_t w[6];

	memcpy(w, k, sizeof(w));
	return ct_key_words_hash(w, k->family);
}

/*
 * Build the canonical key of a packet from src to dst (addresses in network order: 4 or 16 bytes, ports in host
 * order) and, when hash is not NULL, its ct_key_hash() from the words in registers. Returns the side (0 or 1) the
 * packet's source is in the key. Inline and without a memcmp: it runs for every packet, and the family is usually a
 * constant of the caller.
 */
static inline unsigned ct_key_build_hash(struct ct_key *k, uint32_t *hash, uint32_t vrf, uint8_t family,
					 uint8_t proto, const void *src, const void *dst, uint16_t sport,
					 uint16_t dport)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ct_key_build assembles the key's words for a little-endian host"
#endif
	unsigned side;
	uint64_t w[6];

	if (family == 4) {
		uint32_t s, d;
		memcpy(&s, src, 4);
		memcpy(&d, dst, 4);
		/* Network order compared as numbers; the port breaks a tie. */
		uint32_t hs = __builtin_bswap32(s), hd = __builtin_bswap32(d);
		side = (hs > hd || (hs == hd && sport > dport)) ? 1 : 0;
		uint32_t lo = side ? d : s, hi = side ? s : d; /* side 0's address first */
		uint16_t p0 = side ? dport : sport, p1 = side ? sport : dport;
		/* Bytes 0-11: vrf, family, proto, ports, pad; 12-27: addr[0]; 28-43: addr[1]; 44-47: pad2. */
		w[0] = vrf | (uint64_t)family << 32 | (uint64_t)proto << 40 | (uint64_t)p0 << 48;
		w[1] = p1 | (uint64_t)lo << 32;
		w[2] = 0;
		w[3] = (uint64_t)hi << 32;
		w[4] = 0;
		w[5] = 0;
	} else {
		uint64_t s[2], d[2];
		memcpy(s, src, 16);
		memcpy(d, dst, 16);
		uint64_t s0 = __builtin_bswap64(s[0]), d0 = __builtin_bswap64(d[0]);
		uint64_t s1 = __builtin_bswap64(s[1]), d1 = __builtin_bswap64(d[1]);
		bool greater = s0 > d0 || (s0 == d0 && (s1 > d1 || (s1 == d1 && sport > dport)));
		side = greater ? 1 : 0;
		uint64_t lo0 = side ? d[0] : s[0], lo1 = side ? d[1] : s[1];
		uint64_t hi0 = side ? s[0] : d[0], hi1 = side ? s[1] : d[1];
		uint16_t p0 = side ? dport : sport, p1 = side ? sport : dport;
		w[0] = vrf | (uint64_t)family << 32 | (uint64_t)proto << 40 | (uint64_t)p0 << 48;
		w[1] = p1 | lo0 << 32;
		w[2] = lo0 >> 32 | lo1 << 32;
		w[3] = lo1 >> 32 | hi0 << 32;
		w[4] = hi0 >> 32 | hi1 << 32;
		w[5] = hi1 >> 32;
	}
	memcpy(k, w, sizeof(w));
	if (hash != NULL)
		*hash = ct_key_words_hash(w, family);
	return side;
}

/* ct_key_build_hash() without the hash. */
static inline unsigned ct_key_build(struct ct_key *k, uint32_t vrf, uint8_t family, uint8_t proto, const void *src,
				    const void *dst, uint16_t sport, uint16_t dport)
{
	return ct_key_build_hash(k, NULL, vrf, family, proto, src, dst, sport, dport);
}

/* Session states. TCP uses all; UDP and other protocols NEW -> ESTABLISHED (a reply seen); ICMP the same. */
enum ct_state {
	CT_S_FREE = 0, /* slot unused */
	CT_S_NEW,      /* UDP/ICMP/other: only the opening direction seen */
	CT_S_SYN_SENT,
	CT_S_SYN_RECV,
	CT_S_ESTABLISHED,
	CT_S_FIN_WAIT,   /* one side sent FIN */
	CT_S_CLOSE_WAIT, /* both sent FIN, not all acknowledged */
	CT_S_TIME_WAIT,  /* both FINs acknowledged */
	CT_S_CLOSED,     /* RST seen */
	CT_S_COUNT
};
const char *ct_state_name(uint8_t state);
/* Transitory: every TCP state but ESTABLISHED; NEW for the others (RFC 5382 speaks of TCP only). */
bool ct_state_transitory(uint8_t proto, uint8_t state);

/* TCP window tracking of one side (what that side has sent and announced). */
struct ct_tcp_side {
	uint32_t end;    /* highest seq + len sent */
	uint32_t maxend; /* highest ack + window the peer announced to this side (what this side may send up to) */
	uint32_t maxwin; /* largest window this side announced (scaled) */
	uint8_t wscale;  /* window scale this side announced in its SYN; 0xff = none */
	uint8_t seen;    /* this side has sent a segment */
	uint8_t fin;     /* this side sent FIN (1) and it was acknowledged (2) */
	uint8_t pad;
};

/*
 * One session: 128 bytes (two cache lines) in the session array. The first line holds everything a packet of an
 * established UDP/ICMP/other flow reads and writes (state, expiry, counters, the owner's words); TCP adds the
 * second (window tracking), as do list moves, deletes and the key (through hash_pos).
 */
struct ct_session {
	/* line 1: every packet */
	uint8_t state;     /* enum ct_state */
	uint8_t init_side; /* key side that opened the session */
	uint8_t proto;
	uint8_t flags;     /* CT_F_* */
	uint32_t gen;      /* table generation at creation: a flush-all is a generation bump (lazy) */
	uint64_t expires_ms;
	uint64_t pkts[2], bytes[2]; /* by direction (CT_DIR_*) */
	uint32_t user[4];  /* owner data: the firewall keeps its rule and rule-set generation here, NAT its mapping */
	/* line 2: TCP, and the bookkeeping of state changes */
	struct ct_tcp_side tcp[2] __attribute__((aligned(64))); /* by key side */
	uint64_t created_ms;
	uint32_t wheel_next, wheel_prev; /* timer wheel slot list (CT_NIL ends) */
	uint32_t trans_next, trans_prev; /* list of transitory sessions, oldest first (for eviction) */
	int32_t hash_pos;  /* the key's slot in the hash's key store (ct_session_key) */
	uint32_t hash_sig; /* ct_key_hash() of the key: deletes need not hash it again */
} __attribute__((aligned(64)));

#define CT_NIL UINT32_MAX
#define CT_F_SEEN_REPLY 0x01 /* a packet in the reply direction was accepted */
#define CT_F_IN_TRANS 0x02   /* on the transitory list */
#define CT_F_ON_WHEEL 0x04
#define CT_F_TCP_LIBERAL 0x08 /* TCP picked up mid-stream (tcp_loose): windows tracked, never enforced */
#define CT_F_TCP_SIMOPEN 0x10 /* TCP simultaneous open: both sides sent a SYN */

/* What a packet tells the tracker (TCP fields only for TCP). */
struct ct_pkt {
	uint8_t tcp_flags;    /* RTE_TCP_*_FLAG bits */
	uint8_t wscale;       /* window scale option of a SYN; 0xff = none */
	uint16_t win;         /* raw window field */
	uint32_t seq, ack;    /* host order */
	uint32_t payload_len; /* TCP payload bytes (SYN and FIN each count one more in the tracker) */
	uint32_t bytes;       /* IP length, for the byte counters */
};

enum ct_verdict {
	CT_OK = 0,
	CT_INVALID_FLAGS,  /* impossible TCP flag combination */
	CT_OUT_OF_WINDOW,  /* sequence/ack outside the tracked window */
	CT_INVALID_STATE,  /* e.g. a SYN-ACK from the opener, data before the handshake */
	CT_RESTART,        /* a new SYN on a closed/time-wait session: delete the session and open a new one */
};
const char *ct_verdict_name(int v);

/* Is this TCP flag combination one a real stack sends? (no SYN+FIN, SYN+RST, FIN without ACK, no flags, ...) */
bool ct_tcp_flags_valid(uint8_t flags);

/* Timeouts in seconds (docs/CONFIG.md, "firewall.sessions"). */
struct ct_timeouts {
	uint32_t tcp_established; /* 7440 (2 h 4 min, RFC 5382) */
	uint32_t tcp_transitory;  /* 240 (4 min, RFC 5382): SYN_SENT, SYN_RECV, FIN_WAIT, CLOSE_WAIT */
	uint32_t tcp_time_wait;   /* 120 */
	uint32_t tcp_closed;      /* 10: after a RST */
	uint32_t udp;             /* 120 (RFC 4787 REQ-5: at least 2 min) */
	uint32_t icmp;            /* 60 */
	uint32_t other;           /* 120 */
};
void ct_timeouts_default(struct ct_timeouts *t);

enum ct_full_policy {
	CT_FULL_REFUSE = 0,      /* new sessions refused and counted */
	CT_FULL_EVICT_TRANSITORY /* the oldest transitory session makes room; refuse when there is none */
};

struct ct_params {
	uint32_t max_sessions; /* of this table */
	struct ct_timeouts timeouts;
	bool tcp_window_check;  /* sequence/window sanity checks (default on) */
	bool tcp_loose;         /* accept a session picked up mid-stream (default off: only a SYN opens) */
	enum ct_full_policy full_policy;
};
void ct_params_default(struct ct_params *p); /* 65536 sessions, defaults above, window check on, refuse */

struct ct_stats {
	uint64_t created, expired, deleted, flushed, refused_full, evicted, restarted;
	uint64_t invalid_flags, out_of_window, invalid_state;
	uint32_t active; /* sessions in the table now */
};

struct ct_table;

/*
 * rte_hash entries for a hash that holds at most max_keys live keys with bucket headroom (buckets at most 2/3 full,
 * so inserts never run rte_hash's cuckoo search on full buckets); 0 when too many for rte_hash. The session table
 * uses it, and so may other per-worker hashes (NAT's mappings).
 */
uint32_t ct_hash_entries(uint32_t max_keys);

/* Create a table (hugepage memory on socket; name must be unique: it names the rte_hash). NULL on failure. */
struct ct_table *ct_table_create(const char *name, int socket, const struct ct_params *p);
void ct_table_free(struct ct_table *t);
/* Change the timeouts and policies at run time (max_sessions stays). Control thread; the worker sees them next. */
void ct_table_set_params(struct ct_table *t, const struct ct_params *p);
const struct ct_params *ct_table_params(const struct ct_table *t);
uint32_t ct_table_capacity(const struct ct_table *t); /* session array length */
const struct ct_stats *ct_table_stats(const struct ct_table *t);
/* Bytes one session costs in this design (session, hash key slots, bucket share, free lists), for docs and sizing. */
uint32_t ct_bytes_per_session(void);

/*
 * Look up n keys (hashes from ct_key_hash); idx[i] = session index or -1. n <= 64. The sessions found are
 * prefetched: the first line, and the second for TCP (the only protocol whose packets read it).
 */
void ct_lookup_bulk(struct ct_table *t, const struct ct_key *const *keys, const uint32_t *hashes, unsigned n,
		    int32_t *idx);
int32_t ct_lookup(struct ct_table *t, const struct ct_key *k, uint32_t hash);
/*
 * Insert a new session for k, opened by key side init_side. Returns its index, -EEXIST when present, -ENOSPC when
 * full (after the full policy: refused_full or evicted counted). A full table first reaps a few sessions whose
 * expiry has passed (counted expired), then applies the full policy.
 */
int32_t ct_insert(struct ct_table *t, const struct ct_key *k, uint32_t hash, unsigned init_side, uint64_t now_ms);
struct ct_session *ct_session(struct ct_table *t, int32_t idx);
/* The session array itself (ct_table_capacity() entries, by session index): for owners that read their sessions
 * per packet without a call (the array never moves). */
struct ct_session *ct_sessions(struct ct_table *t);
const struct ct_session *ct_session_const(const struct ct_table *t, uint32_t idx);
/* The key of session idx (from the hash's key store); NULL when the slot is free. */
const struct ct_key *ct_session_key(const struct ct_table *t, uint32_t idx);
void ct_delete(struct ct_table *t, int32_t idx);

/* Direction of a packet from key side `side` in session s. */
static inline enum ct_dir ct_dir_of(const struct ct_session *s, unsigned side)
{
	return side == s->init_side ? CT_DIR_ORIG : CT_DIR_REPLY;
}

/*
 * A packet from key side `side` of session idx: check it (TCP flags, window when enabled), advance the state, push
 * the expiry, count it. Returns CT_OK or why it is refused (counted in the stats; the session is unchanged).
 */
int ct_track(struct ct_table *t, int32_t idx, unsigned side, const struct ct_pkt *p, uint64_t now_ms);
/*
 * Open-time checks for a packet that would create a TCP session: returns CT_OK when it may open one (a SYN without
 * ACK; with tcp_loose also a mid-stream segment), else why not. Fills the new session's tracking state after
 * ct_insert() via ct_track().
 */
int ct_tcp_may_open(const struct ct_table *t, const struct ct_pkt *p);
/*
 * The segment side `side` of TCP session idx sent is longer than ct_track() saw: an IP-fragmented segment is
 * tracked by its first fragment, whose payload_len counts only the bytes in that fragment. Once the datagram's last
 * fragment has passed, the caller extends what that side sent to new_end (seq + whole payload + SYN + FIN), so that
 * the peer's acknowledgement of the whole segment is in the window. Ignored unless new_end is further than what
 * the side has sent, or when the session is not TCP.
 */
void ct_tcp_extend(struct ct_table *t, int32_t idx, unsigned side, uint32_t new_end);

/*
 * Called for each session that expires, is flushed or is evicted, before its slot is freed (NAT releases its port
 * here; ct_session_key() still works). Not called by ct_delete() (the caller knows) nor by ct_table_free().
 */
typedef void (*ct_release_fn)(void *arg, struct ct_table *t, uint32_t idx);
void ct_set_release_cb(struct ct_table *t, ct_release_fn fn, void *arg);

/*
 * Worker housekeeping, once per loop: advance the wheel to now and expire at most budget sessions (examining at most
 * 4 x budget, re-filing those whose expiry moved); carry out a pending flush request a chunk (1024 slots) at a time.
 * Returns the sessions removed. A session goes at the first call with now >= its expiry rounded up to the second.
 */
unsigned ct_expire(struct ct_table *t, uint64_t now_ms, unsigned budget);
/*
 * The wheel is behind now_ms (the last ct_expire() ran out of budget before reaching now): the caller should call
 * again soon (fw_house does so every loop, with a larger budget, until it has caught up).
 */
bool ct_expire_behind(const struct ct_table *t, uint64_t now_ms);

/*
 * A session whose expiry has passed but the wheel has not reached yet (at most a second, or longer when the
 * worker is behind) is dead: callers treat a lookup hit on it as a miss after ct_expire_session(), so that a dead
 * session never passes traffic (ct_insert() also reaps dead sessions before refusing on a full table).
 */
static inline bool ct_session_expired(const struct ct_session *s, uint64_t now_ms)
{
	return s->expires_ms <= now_ms;
}
/* Expire session idx now, as the wheel would (release callback, counted as expired). */
void ct_expire_session(struct ct_table *t, int32_t idx);

/* Flush request from the control thread: every session (vrf == CT_VRF_ANY) or one VRF's. */
#define CT_VRF_ANY UINT32_MAX
/*
 * Post a flush; returns a ticket. ct_flush_done(t, ticket) turns true once the worker finished it. One poster at a
 * time (the control thread). Any number of requests may be outstanding (a set of pending VRFs: requests for the
 * same VRF merge); a request never flushes another VRF's sessions. A flush removes the sessions that existed when
 * the worker started it. Per-VRF flushes cover VRF ids below 65536 (the users key sessions by VRF slot, which
 * limits.max_vrfs keeps below that); a request for a higher id flushes nothing.
 */
uint64_t ct_flush_request(struct ct_table *t, uint32_t vrf);
bool ct_flush_done(const struct ct_table *t, uint64_t ticket);

#endif
