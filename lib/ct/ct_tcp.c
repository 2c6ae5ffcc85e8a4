/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: TCP state machine and window tracking, in the spirit of G. van Rooij, "Real Stateful TCP
 * Packet Filtering in IP Filter" (2000), as pf and Linux conntrack do it. Per key side the tracker keeps:
 *   end     highest sequence number the side sent, plus the segment length (a SYN and a FIN count one),
 *   maxend  highest ack + window the peer announced: how far the side may send,
 *   maxwin  largest (scaled) window the side announced.
 * A segment from S to R (seq, end = seq + len + SYN + FIN, ack) passes when
 *   I   seq <= S.maxend                              it starts within what R allowed,
 *   II  end >= S.end - R.maxwin                      it is not older than one window (a plausible retransmission),
 *   III ack <= R.end                                 it acks nothing R has not sent,
 *   IV  ack >= R.end - max(S.maxwin, 66000)          it does not ack too far back.
 * Sequence numbers compare modulo 2^32. Window scaling (RFC 7323) applies only when both SYNs carried the option;
 * the window of a SYN is never scaled. A RST passes the same checks (its sequence number must be in the window);
 * a RST from a side that has sent nothing yet (answer to a SYN) must ack the SYN exactly.
 *
 * A refused segment leaves the session untouched: the work is done on copies committed at the end.
 */
#include <rte_common.h>
#include <rte_tcp.h>

#include "lib/ct/ct.h"
#include "lib/ct/ct_int.h"

/* Floor of check IV: old acks within this many bytes pass even when the sender's window is small (as Linux). */
#define CT_MIN_ACK_WINDOW 66000u

enum seg_kind { SEG_SYN, SEG_SYNACK, SEG_ACK, SEG_FIN, SEG_RST };

static inline bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Flags already passed ct_tcp_flags_valid(). */
static enum seg_kind seg_kind(uint8_t f)
{
	if (f & RTE_TCP_RST_FLAG)
		return SEG_RST;
	if (f & RTE_TCP_SYN_FLAG)
		return (f & RTE_TCP_ACK_FLAG) ? SEG_SYNACK : SEG_SYN;
	if (f & RTE_TCP_FIN_FLAG)
		return SEG_FIN;
	return SEG_ACK;
}

int ct_tcp_may_open(const struct ct_table *t, const struct ct_pkt *p)
{
	uint8_t f = p->tcp_flags;

	if (!ct_tcp_flags_valid(f))
		return CT_INVALID_FLAGS;
	if ((f & RTE_TCP_SYN_FLAG) && !(f & RTE_TCP_ACK_FLAG))
		return CT_OK;
	if (CT_PARAM(t, tcp_loose) && (f & RTE_TCP_ACK_FLAG) && !(f & (RTE_TCP_SYN_FLAG | RTE_TCP_RST_FLAG)))
		return CT_OK;
	return CT_INVALID_STATE;
}

/*
 * Which segments each state admits (NEW is handled by the caller). Returns CT_OK, CT_INVALID_STATE or CT_RESTART.
 * old_synack: a SYN-ACK that repeats the one its side already sent (the peer's ACK was lost).
 */
static int tcp_gate(uint8_t state, uint8_t flags, enum ct_dir dir, enum seg_kind seg, bool old_synack)
{
	bool simopen = (flags & CT_F_TCP_SIMOPEN) != 0;

	switch (state) {
	case CT_S_SYN_SENT:
		/* The opener's SYN again, or the peer's own SYN (simultaneous open); a RST is judged by the window. */
		if (seg == SEG_SYN || seg == SEG_RST)
			return CT_OK;
		/* A SYN-ACK comes from the peer; from the opener only in a simultaneous open. */
		if (seg == SEG_SYNACK && (dir == CT_DIR_REPLY || simopen))
			return CT_OK;
		return CT_INVALID_STATE; /* data, ACK or FIN before the handshake */
	case CT_S_SYN_RECV:
		if (seg == SEG_RST)
			return CT_OK;
		if (seg == SEG_SYN)
			return dir == CT_DIR_ORIG || simopen ? CT_OK : CT_INVALID_STATE;
		if (seg == SEG_SYNACK)
			return dir == CT_DIR_REPLY || simopen ? CT_OK : CT_INVALID_STATE;
		/* ACK or FIN: the opener's completes the handshake; the peer may not send before (unless both opened). */
		return dir == CT_DIR_ORIG || simopen ? CT_OK : CT_INVALID_STATE;
	case CT_S_ESTABLISHED:
	case CT_S_FIN_WAIT:
	case CT_S_CLOSE_WAIT:
		if (seg == SEG_SYN)
			return CT_INVALID_STATE;
		if (seg == SEG_SYNACK)
			return old_synack ? CT_OK : CT_INVALID_STATE;
		return CT_OK;
	case CT_S_TIME_WAIT:
		if (seg == SEG_SYN)
			return CT_RESTART; /* the port pair is reused for a new connection */
		if (seg == SEG_SYNACK)
			return old_synack ? CT_OK : CT_INVALID_STATE;
		return CT_OK; /* retransmitted FIN or last ACK */
	case CT_S_CLOSED:
		if (seg == SEG_SYN)
			return CT_RESTART;
		return seg == SEG_RST ? CT_OK : CT_INVALID_STATE;
	}
	return CT_INVALID_STATE;
}

/* Shift applied to the windows side snd announces after its SYN. */
static uint8_t tcp_shift(const struct ct_tcp_side *snd, const struct ct_tcp_side *rcv)
{
	if (snd->wscale == CT_WSCALE_NONE || rcv->wscale == CT_WSCALE_NONE)
		return 0;
	return snd->wscale;
}

/* The sender's SYN or SYN-ACK (or a SYN with a new initial sequence number, RFC 9293 3.10.7.3). */
static void syn_init(struct ct_tcp_side *snd, const struct ct_tcp_side *rcv, const struct ct_pkt *p, uint32_t end)
{
	snd->end = end;
	snd->maxwin = RTE_MAX((uint32_t)p->win, 1u);
	/* The peer's SYN window (never scaled) is what it lets this side send once the handshake acks our SYN. */
	snd->maxend = rcv->seen ? end + rcv->maxwin : end;
	snd->wscale = p->wscale == CT_WSCALE_NONE ? CT_WSCALE_NONE : RTE_MIN(p->wscale, (uint8_t)CT_WSCALE_MAX);
	snd->seen = 1;
	snd->fin = 0;
}

/* First segment of a side in a session picked up mid-stream: trust it (the session is liberal anyway). */
static void pickup_init(struct ct_tcp_side *snd, const struct ct_pkt *p, uint32_t end)
{
	snd->end = end;
	snd->maxwin = RTE_MAX((uint32_t)p->win, 1u);
	snd->maxend = end + snd->maxwin;
	snd->seen = 1;
}

static bool in_window(const struct ct_tcp_side *snd, const struct ct_tcp_side *rcv, uint32_t seq, uint32_t end,
		      uint32_t ack)
{
	uint32_t max_ack_win = RTE_MAX(snd->maxwin, CT_MIN_ACK_WINDOW);

	if (seq_after(seq, snd->maxend)) /* I */
		return false;
	if (!rcv->seen)
		return true; /* nothing to compare with yet: the opener's SYN */
	return !seq_before(end, snd->end - rcv->maxwin)   /* II */
	       && !seq_after(ack, rcv->end)               /* III */
	       && !seq_before(ack, rcv->end - max_ack_win); /* IV */
}

static void window_update(struct ct_tcp_side *snd, struct ct_tcp_side *rcv, const struct ct_pkt *p, uint32_t end,
			  bool has_ack)
{
	bool syn = p->tcp_flags & RTE_TCP_SYN_FLAG;
	uint32_t swin = syn ? p->win : (uint32_t)p->win << tcp_shift(snd, rcv);

	if (snd->maxwin < swin)
		snd->maxwin = swin;
	/* A window probe or a segment past the window: widen what R tolerates as old (check II) by the excess. */
	if (rcv->seen && seq_after(end, snd->maxend))
		rcv->maxwin += end - snd->maxend;
	if (seq_after(end, snd->end))
		snd->end = end;
	if (has_ack) {
		if (!rcv->seen) /* picked-up session: what R sent is at least what S acks */
			rcv->end = rcv->maxend = p->ack;
		if (seq_after(p->ack + swin, rcv->maxend))
			rcv->maxend = p->ack + swin;
		if (rcv->fin == 1 && !seq_before(p->ack, rcv->end))
			rcv->fin = 2; /* R's FIN acknowledged */
	}
	if ((p->tcp_flags & RTE_TCP_FIN_FLAG) && snd->fin == 0)
		snd->fin = 1;
}

/* ESTABLISHED and the closing states follow from the two sides' FIN progress (0 none, 1 sent, 2 acked). */
static uint8_t close_state(uint8_t a, uint8_t b)
{
	if (a == 2 && b == 2)
		return CT_S_TIME_WAIT;
	if (a && b)
		return CT_S_CLOSE_WAIT;
	if (a || b)
		return CT_S_FIN_WAIT;
	return CT_S_ESTABLISHED;
}

int ct_tcp_track(const struct ct_table *t, struct ct_session *s, unsigned side, const struct ct_pkt *p)
{
	uint8_t f = p->tcp_flags;

	if (!ct_tcp_flags_valid(f))
		return CT_INVALID_FLAGS;

	enum seg_kind seg = seg_kind(f);
	enum ct_dir dir = ct_dir_of(s, side);
	struct ct_tcp_side snd = s->tcp[side], rcv = s->tcp[!side];
	uint8_t state = s->state, flags = s->flags;
	bool syn = f & RTE_TCP_SYN_FLAG, fin = f & RTE_TCP_FIN_FLAG, rst = f & RTE_TCP_RST_FLAG;
	uint32_t end = p->seq + p->payload_len + syn + fin;

	if (state == CT_S_NEW) {
		if (dir != CT_DIR_ORIG || ct_tcp_may_open(t, p) != CT_OK)
			return CT_INVALID_STATE;
		if (!syn)
			flags |= CT_F_TCP_LIBERAL;
	} else {
		bool old_synack = seg == SEG_SYNACK && snd.seen && !seq_after(end, snd.end);
		int v = tcp_gate(state, flags, dir, seg, old_synack);
		if (v != CT_OK)
			return v;
	}
	bool enforce = CT_PARAM(t, tcp_window_check) && !(flags & CT_F_TCP_LIBERAL);

	if (syn && (!snd.seen || ((state == CT_S_SYN_SENT || state == CT_S_SYN_RECV) && seq_after(end, snd.end)))) {
		syn_init(&snd, &rcv, p, end);
	} else if (!snd.seen && rst) {
		/* The peer refuses the opener's SYN: RFC 9293 3.10.7.3, acceptable if it acks the SYN. */
		if (enforce && !((f & RTE_TCP_ACK_FLAG) && p->ack == rcv.end))
			return CT_OUT_OF_WINDOW;
		s->state = CT_S_CLOSED;
		s->flags = flags;
		return CT_OK;
	} else if (!snd.seen) {
		pickup_init(&snd, p, end);
	}

	/* Some stacks send RST+ACK with ack 0: treat as no ACK. Without an ACK, check III/IV trivially pass. */
	bool has_ack = (f & RTE_TCP_ACK_FLAG) && !(rst && p->ack == 0);
	uint32_t ack = has_ack ? p->ack : rcv.end;
	if (enforce && !in_window(&snd, &rcv, p->seq, end, ack))
		return CT_OUT_OF_WINDOW;
	window_update(&snd, &rcv, p, end, has_ack);

	if (rst) {
		state = CT_S_CLOSED;
	} else {
		switch (state) {
		case CT_S_NEW:
			state = syn ? CT_S_SYN_SENT : CT_S_ESTABLISHED;
			break;
		case CT_S_SYN_SENT:
			if (seg == SEG_SYNACK)
				state = CT_S_SYN_RECV;
			else if (dir == CT_DIR_REPLY)
				flags |= CT_F_TCP_SIMOPEN;
			break;
		case CT_S_SYN_RECV:
			if (seg == SEG_ACK || seg == SEG_FIN)
				state = CT_S_ESTABLISHED;
			break;
		}
		if (state >= CT_S_ESTABLISHED && state <= CT_S_TIME_WAIT)
			state = close_state(snd.fin, rcv.fin);
	}
	s->tcp[side] = snd;
	s->tcp[!side] = rcv;
	s->state = state;
	s->flags = flags;
	return CT_OK;
}

void ct_tcp_extend(struct ct_table *t, int32_t idx, unsigned side, uint32_t new_end)
{
	struct ct_session *s = ct_session(t, idx);

	if (s == NULL || s->state == CT_S_FREE || s->proto != IPPROTO_TCP)
		return;
	struct ct_tcp_side *snd = &s->tcp[side & 1], *rcv = &s->tcp[!(side & 1)];
	if (!snd->seen || !seq_after(new_end, snd->end))
		return;
	/* As window_update() for a segment that reaches past the window: widen what the peer tolerates as old. */
	if (rcv->seen && seq_after(new_end, snd->maxend))
		rcv->maxwin += new_end - snd->maxend;
	snd->end = new_end;
}
