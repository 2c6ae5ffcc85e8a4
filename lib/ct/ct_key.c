/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: the canonical key, its hash, names and defaults (no table state here).
 */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <rte_tcp.h>

#include "lib/ct/ct.h"
#include "lib/ct/ct_int.h"

_Static_assert(sizeof(struct ct_key) == 48, "rte_hash compares 48-byte keys with SIMD");
_Static_assert(offsetof(struct ct_key, port) == 6 && offsetof(struct ct_key, addr) == 12,
	       "ct_key_build() writes the key as words in this layout");
_Static_assert(sizeof(struct ct_session) == 128, "a session is two cache lines");
_Static_assert(offsetof(struct ct_session, tcp) == 64, "what every packet touches fits the first cache line");
_Static_assert(offsetof(struct ct_session, user) + sizeof(((struct ct_session *)0)->user) <= 64,
	       "the owner's words are read by every packet");

/* The table's rte_hash uses this so that ct_key_hash() values feed *_with_hash calls directly. */
uint32_t ct_hash_func(const void *key, uint32_t key_len, uint32_t init_val)
{
	(void)key_len; /* always sizeof(struct ct_key) */
	(void)init_val; /* always ct_hash_seed() */
	return ct_key_hash(key);
}

uint32_t ct_hash_seed(void)
{
	return CT_HASH_SEED;
}

const char *ct_state_name(uint8_t state)
{
	static const char *const names[CT_S_COUNT] = {
		[CT_S_FREE] = "free",
		[CT_S_NEW] = "new",
		[CT_S_SYN_SENT] = "syn-sent",
		[CT_S_SYN_RECV] = "syn-recv",
		[CT_S_ESTABLISHED] = "established",
		[CT_S_FIN_WAIT] = "fin-wait",
		[CT_S_CLOSE_WAIT] = "close-wait",
		[CT_S_TIME_WAIT] = "time-wait",
		[CT_S_CLOSED] = "closed",
	};
	return state < CT_S_COUNT ? names[state] : "?";
}

const char *ct_verdict_name(int v)
{
	switch (v) {
	case CT_OK:
		return "ok";
	case CT_INVALID_FLAGS:
		return "invalid-flags";
	case CT_OUT_OF_WINDOW:
		return "out-of-window";
	case CT_INVALID_STATE:
		return "invalid-state";
	case CT_RESTART:
		return "restart";
	}
	return "?";
}

bool ct_state_transitory(uint8_t proto, uint8_t state)
{
	return ct_transitory(proto, state);
}

/*
 * Flag combinations no correct stack sends (scans, crafted packets). ECE and CWR are ignored: ECN may set them on
 * a SYN, a SYN-ACK or data. A combination is refused when:
 *   1. none of SYN, RST, ACK is set: no flags at all (null scan), FIN alone (FIN scan), FIN+PSH+URG (xmas), PSH or
 *      URG alone;
 *   2. SYN comes with FIN, RST or URG (SYN+FIN, SYN+RST; no urgent data in a handshake);
 *   3. FIN comes with RST;
 *   4. RST comes with URG;
 *   5. ACK is clear and the segment is anything but a bare SYN or a bare RST: every segment after the SYN carries
 *      an ACK (RFC 9293 3.10.7.4), so FIN, PSH or URG without ACK is refused (a RST answering a segment that had
 *      no ACK legitimately has no ACK either).
 * Everything else passes: SYN, SYN+ACK, ACK, ACK+PSH, ACK+URG(+PSH), FIN+ACK(+PSH/URG), RST, RST+ACK(+PSH).
 */
bool ct_tcp_flags_valid(uint8_t flags)
{
	const uint8_t fin = RTE_TCP_FIN_FLAG, syn = RTE_TCP_SYN_FLAG, rst = RTE_TCP_RST_FLAG, psh = RTE_TCP_PSH_FLAG,
		      ack = RTE_TCP_ACK_FLAG, urg = RTE_TCP_URG_FLAG;
	uint8_t f = flags & (fin | syn | rst | psh | ack | urg);

	if ((f & (syn | rst | ack)) == 0)
		return false;
	if ((f & syn) && (f & (fin | rst | urg)))
		return false;
	if ((f & fin) && (f & rst))
		return false;
	if ((f & rst) && (f & urg))
		return false;
	if (!(f & ack) && f != syn && f != rst)
		return false;
	return true;
}

void ct_timeouts_default(struct ct_timeouts *t)
{
	*t = (struct ct_timeouts){
		.tcp_established = 7440,
		.tcp_transitory = 240,
		.tcp_time_wait = 120,
		.tcp_closed = 10,
		.udp = 120,
		.icmp = 60,
		.other = 120,
	};
}

void ct_params_default(struct ct_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_sessions = 65536;
	ct_timeouts_default(&p->timeouts);
	p->tcp_window_check = true;
	p->tcp_loose = false;
	p->full_policy = CT_FULL_REFUSE;
}
