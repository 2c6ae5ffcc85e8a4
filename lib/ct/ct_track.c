/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: one packet of a session. TCP has its own state machine and window tracking (ct_tcp.c); UDP,
 * ICMP and other protocols are NEW until a packet in the reply direction, then ESTABLISHED.
 */
#include <netinet/in.h>

#include "lib/ct/ct.h"
#include "lib/ct/ct_int.h"

int ct_track(struct ct_table *t, int32_t idx, unsigned side, const struct ct_pkt *p, uint64_t now_ms)
{
	struct ct_session *s = &t->sessions[idx];
	enum ct_dir dir = ct_dir_of(s, side & 1);

	if (s->proto == IPPROTO_TCP) {
		int v = ct_tcp_track(t, s, side & 1, p);
		switch (v) {
		case CT_OK:
			break;
		case CT_INVALID_FLAGS:
			t->stats.invalid_flags++;
			return v;
		case CT_OUT_OF_WINDOW:
			t->stats.out_of_window++;
			return v;
		case CT_RESTART:
			t->stats.restarted++;
			return v;
		default:
			t->stats.invalid_state++;
			return v;
		}
	} else if (dir == CT_DIR_REPLY && !(s->flags & CT_F_SEEN_REPLY)) {
		s->flags |= CT_F_SEEN_REPLY;
		s->state = CT_S_ESTABLISHED;
	}
	s->pkts[dir]++;
	s->bytes[dir] += p->bytes;
	ct_trans_update(t, (uint32_t)idx);
	ct_wheel_set_expiry(t, (uint32_t)idx, now_ms + (uint64_t)ct_timeout_s(t, s->proto, s->state) * 1000);
	return CT_OK;
}
