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

/*
 * Build the canonical key of a packet from src to dst (addresses in network order: 4 or 16 bytes, ports in host
 * order). Returns the side (0 or 1) the packet's source is in the key.
 */
unsigned ct_key_build(struct ct_key *k, uint32_t vrf, uint8_t family, uint8_t proto, const void *src,
		      const void *dst, uint16_t sport, uint16_t dport);

/* The hash of a key (same function and seed in every table): picks the owner worker and feeds the lookup. */
uint32_t ct_key_hash(const struct ct_key *k);

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

/* One session: 128 bytes (two cache lines) in the session array, indexed like the hash's key slots. */
struct ct_session {
	uint8_t state;     /* enum ct_state */
	uint8_t init_side; /* key side that opened the session */
	uint8_t proto;
	uint8_t flags;     /* CT_F_* */
	uint32_t gen;      /* table generation at creation: a flush-all is a generation bump (lazy) */
	uint64_t expires_ms;
	uint64_t created_ms;
	uint32_t wheel_next, wheel_prev; /* timer wheel slot list (CT_NIL ends) */
	uint32_t trans_next, trans_prev; /* list of transitory sessions, oldest first (for eviction) */
	uint32_t user[4];  /* owner data: the firewall keeps its rule and rule-set generation here, NAT its mapping */
	struct ct_tcp_side tcp[2]; /* by key side */
	uint64_t pkts[2], bytes[2]; /* by direction (CT_DIR_*) */
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

/* Create a table (hugepage memory on socket; name must be unique: it names the rte_hash). NULL on failure. */
struct ct_table *ct_table_create(const char *name, int socket, const struct ct_params *p);
void ct_table_free(struct ct_table *t);
/* Change the timeouts and policies at run time (max_sessions stays). Control thread; the worker sees them next. */
void ct_table_set_params(struct ct_table *t, const struct ct_params *p);
const struct ct_params *ct_table_params(const struct ct_table *t);
uint32_t ct_table_capacity(const struct ct_table *t); /* session array length */
const struct ct_stats *ct_table_stats(const struct ct_table *t);
/* Bytes one session costs in this design (session + hash key slot + bucket share), for docs and sizing. */
uint32_t ct_bytes_per_session(void);

/* Look up n keys (hashes from ct_key_hash); idx[i] = session index or -1. n <= 64. */
void ct_lookup_bulk(struct ct_table *t, const struct ct_key *const *keys, const uint32_t *hashes, unsigned n,
		    int32_t *idx);
int32_t ct_lookup(struct ct_table *t, const struct ct_key *k, uint32_t hash);
/*
 * Insert a new session for k, opened by key side init_side. Returns its index, -EEXIST when present, -ENOSPC when
 * full (after the full policy: refused_full or evicted counted).
 */
int32_t ct_insert(struct ct_table *t, const struct ct_key *k, uint32_t hash, unsigned init_side, uint64_t now_ms);
struct ct_session *ct_session(struct ct_table *t, int32_t idx);
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

/* Flush request from the control thread: every session (vrf == CT_VRF_ANY) or one VRF's. */
#define CT_VRF_ANY UINT32_MAX
/*
 * Post a flush; returns a ticket. ct_flush_done(t, ticket) turns true once the worker finished it. One poster at a
 * time (the control thread). Requests queue (16 outstanding); beyond that, the extra ones flush every VRF. A flush
 * removes the sessions that existed when the worker started it.
 */
uint64_t ct_flush_request(struct ct_table *t, uint32_t vrf);
bool ct_flush_done(const struct ct_table *t, uint64_t ticket);

#endif
