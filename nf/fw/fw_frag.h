/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's fragment table, one per worker (the owner worker of a datagram sees all its fragments: the owner
 * hash leaves the ports out). The firewall does not reassemble: it remembers, per datagram seen fragmented, the
 * verdict of the first fragment (the only one with a transport header) so that the others follow it, the byte
 * ranges seen (to drop overlaps), and holds a few non-first fragments that arrive before the first.
 *
 * Threading: the worker that owns the table is its only user (fast path: fw_ip4/fw_ip6; timeouts: fw_house). The
 * control thread creates and frees it, while no worker runs its graph.
 */
#ifndef NPSGW_FW_FRAG_H
#define NPSGW_FW_FRAG_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;

#define FW_FRAG_DEFAULT_ENTRIES 4096 /* datagrams in flight per worker */
#define FW_FRAG_TIMEOUT_MS 2000      /* since the datagram's last fragment: then held fragments are dropped */
#define FW_FRAG_MAX_RANGES 8         /* disjoint byte ranges per datagram (adjacent ones merge); more: malformed */
#define FW_FRAG_HOLD 4               /* non-first fragments held per datagram until its first arrives */
#define FW_FRAG_EXPIRE_MAX 64        /* at most this many held fragments dropped per fw_frag_expire() call */

/* A datagram: IPv4 (src, dst, id, protocol, RFC 791); IPv6 (src, dst, id, RFC 8200) + the fragment header's
 * next header, which every fragment carries alike. */
struct fw_frag_key {
	uint32_t vrf;
	uint32_t id;
	uint8_t family;
	uint8_t proto;
	uint8_t src[16], dst[16]; /* IPv4: first 4 bytes, the rest zero */
};

enum fw_frag_verdict {
	FW_FV_PENDING = 0, /* first fragment not seen yet */
	FW_FV_ALLOW,       /* the first fragment was forwarded */
	FW_FV_DENY,        /* the first fragment was dropped or rejected */
};

enum fw_frag_rc {
	FW_FR_OK = 0,  /* recorded; a later fragment: follow *verdict */
	FW_FR_HELD,    /* a later fragment kept until the first arrives (or dropped by fw_frag_expire) */
	FW_FR_WAIT,    /* the first fragment came in the caller's current burst, its verdict is not given yet */
	FW_FR_OVERLAP, /* overlaps a fragment already seen (a duplicate included): drop fw_frag_overlap */
	FW_FR_BAD,     /* too many ranges, or past / inconsistent with the datagram's end: drop fw_frag_bad */
	FW_FR_FULL,    /* no room for the datagram, or its hold queue full: drop fw_frag_table_full */
};

/*
 * A TCP segment sent IP-fragmented is tracked by its first fragment, which carries only part of the payload: once
 * the datagram's length is known (its last fragment passed) and the first fragment was allowed with a session, the
 * table says how far the segment really reached, and the caller extends the session (ct_tcp_extend()).
 */
struct fw_frag_tcp {
	uint32_t base; /* seq + SYN - the bytes before the TCP payload in the fragmentable part */
	uint8_t side;  /* key side of the sender */
	uint8_t fin;   /* the segment carries FIN (counts one) */
};
/* An extension due: session -1 when none. end = base + the datagram's fragmentable length + FIN. */
struct fw_frag_ext {
	int32_t session;
	uint8_t side;
	uint32_t end;
};

struct fw_frag_table;

/* entries: rounded up to a power of two (at least 16). NULL when out of memory. Control thread. */
struct fw_frag_table *fw_frag_create(const char *name, uint32_t entries, int socket);
/* Frees the held fragments too. */
void fw_frag_free(struct fw_frag_table *t);
uint32_t fw_frag_capacity(const struct fw_frag_table *t);
uint32_t fw_frag_in_use(const struct fw_frag_table *t);

/*
 * A first fragment covering [0, len) (last: it has no "more fragments" flag, impossible for a real first one but
 * handled): records its range before it is classified. FW_FR_OK sets *slot, to pass to fw_frag_set_verdict() in
 * the same burst (nothing else removes the entry meanwhile).
 */
int fw_frag_first(struct fw_frag_table *t, const struct fw_frag_key *k, uint32_t len, bool last, uint64_t now_ms,
		  uint32_t *slot);
/*
 * The first fragment's fate (FW_FV_ALLOW or FW_FV_DENY) and its session index (-1: none); tcp: the segment of a TCP
 * first fragment allowed with a session (else NULL). The fragments held for it are moved to held[] (FW_FRAG_HOLD
 * entries) to go the same way; returns how many. *ext: the session extension due now (the last fragment came
 * first), session -1 when none.
 */
unsigned fw_frag_set_verdict(struct fw_frag_table *t, uint32_t slot, uint8_t verdict, int32_t session,
			     const struct fw_frag_tcp *tcp, struct rte_mbuf **held, struct fw_frag_ext *ext);
/*
 * A non-first fragment covering [off, off + len) (last: no "more fragments"). FW_FR_OK: follow *verdict (and
 * *session); FW_FR_HELD: m is the table's now; FW_FR_WAIT: *slot is the entry fw_frag_first() gave the first
 * fragment of this burst, whose fate the caller applies to m once decided; other codes: the caller drops m.
 * *ext: with FW_FR_OK, the session extension due now that this (last) fragment passes; session -1 when none.
 */
int fw_frag_later(struct fw_frag_table *t, const struct fw_frag_key *k, uint32_t off, uint32_t len, bool last,
		  struct rte_mbuf *m, uint64_t now_ms, uint8_t *verdict, int32_t *session, uint32_t *slot,
		  struct fw_frag_ext *ext);
/*
 * Timeouts, a slice of the table per call (the whole table is walked every few tens of milliseconds): removes the
 * datagrams idle for FW_FRAG_TIMEOUT_MS. Their held fragments (never more than FW_FRAG_EXPIRE_MAX) are put in
 * dropped[] for the caller to drop as fw_frag_no_first; returns how many. Nearly free when the table is empty.
 */
unsigned fw_frag_expire(struct fw_frag_table *t, uint64_t now_ms, struct rte_mbuf **dropped);

#endif
