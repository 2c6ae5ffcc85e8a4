/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's control-loop work (nf_desc.poll):
 * - peer moves: the workers post (tunnel, SA, new outer source) for authenticated packets of follow_peer tunnels
 *   from an address/port other than the published one; here the tunnel's outer side is published again with the
 *   new peer (one params block, RCU) and a peer_moved event goes out. Outbound packets use the published peer
 *   only, so they move at once and together.
 * - lifetimes: the per-worker byte and packet counts of each SA are summed and compared with its soft and hard
 *   limits; soft -> sa_soft_lifetime event (once), hard -> the SA is marked expired (workers refuse it from then
 *   on) and sa_hard_lifetime (once); an outbound SA a worker found without sequence numbers left ->
 *   sa_seq_exhausted (once; the refusal itself is exact, in the worker). The walk covers IPSEC_LIFETIME_BUDGET SAs
 *   per pass, a pass every IPSEC_LIFETIME_PERIOD_MS at most (it reads the SAs' first lines, which the workers write
 *   per packet), and resumes where it stopped, so a limit is seen within tens of milliseconds (2000 SAs: four
 *   passes), and a hard byte/packet limit may be overshot by what the workers do meanwhile.
 */
#include <string.h>

#include <rte_ring.h>

#include "nf/ipsec/ipsec_cp_int.h"

#define PEER_MOVES_PER_POLL 256

static bool sa_of(const struct ipsec_cp_tunnel *rec, uint32_t spi)
{
	for (unsigned i = 0; i < rec->n_in; i++)
		if (rec->in[i].sa->spi == spi)
			return true;
	return false;
}

/*
 * One move; true when the tunnel's peer changed. A move is judged against the params block the worker compared the
 * packet's source with (mv->gen): when another one was published since (`ipsec tunnel set`, an earlier move, a
 * config change), the move is stale and ignored, so the controller's word is never undone by packets that were
 * already queued; if the peer really is elsewhere, its next packet posts again against the new block.
 * A move that came in UDP to a tunnel without udp_encap turns udp_encap on: the peer went behind a NAT, which only
 * lets ESP in UDP through (RFC 3948); it stays on (NAT-T peers accept both) until `ipsec tunnel set udp_encap off`.
 */
static bool peer_move(const struct ipsec_peer_move *mv)
{
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_of_iface(mv->iface);
	if (rec == NULL || !rec->published || !rec->conf.follow_peer || !sa_of(rec, mv->spi) ||
	    mv->family != rec->conf.local.family || mv->gen != rec->t->params->gen)
		return false;
	struct addr next = {.family = mv->family};
	memcpy(next.bytes, mv->addr, mv->family == 4 ? 4 : 16);
	uint16_t port = mv->udp ? mv->port : rec->remote_port;
	bool encap = rec->udp_encap || mv->udp;
	if (addr_equal(&next, &rec->remote) && port == rec->remote_port && encap == rec->udp_encap)
		return false; /* nothing new */
	struct addr old = rec->remote;
	uint16_t old_port = rec->remote_port;
	bool old_encap = rec->udp_encap;
	rec->remote = next;
	rec->remote_port = port;
	rec->udp_encap = encap;
	if (ipsec_cp_params_republish(rec) != 0) {
		rec->remote = old;
		rec->remote_port = old_port;
		rec->udp_encap = old_encap;
		return false; /* out of memory: the next packet from there posts again */
	}

	rec->peer_moves++;
	ipsec_event_peer_moved(rec, &old, old_port, &next, port, mv->spi, encap != old_encap);
	return true;
}

static void peer_moves_drain(void)
{
	struct ipsec_peer_move mv[32];
	unsigned done = 0, n;
	while (done < PEER_MOVES_PER_POLL &&
	       (n = rte_ring_dequeue_burst_elem(ipsec.peer_ring, mv, sizeof(mv[0]), RTE_DIM(mv), NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (peer_move(&mv[i]))
				ipsec_cp.peer_moves_applied++;
			else
				ipsec_cp.peer_moves_ignored++;
		}
		done += n;
	}
	ipsec_cp_retire_flush(); /* the old params blocks */
}

static bool reached(uint64_t limit, uint64_t value)
{
	return limit != 0 && value >= limit;
}

static void sa_check(const struct ipsec_cp_tunnel *rec, struct ipsec_sa *sa)
{
	if (sa->dir == IPSEC_DIR_OUT && !sa->exhausted_reported &&
	    __atomic_load_n(&sa->seq_exhausted, __ATOMIC_RELAXED)) {
		sa->exhausted_reported = 1;
		/* a limit that is the hard packet lifetime is reported as such (below), not as the sequence space */
		if (!sa->seq_limit_hard)
			ipsec_event_sa(IPSEC_EV_SEQ_EXHAUSTED, rec, sa, "sequence", ipsec_sa_seq_used(sa),
				       sa->seq_limit);
	}
	if (sa->hard_reported || (sa->soft_bytes | sa->soft_packets | sa->hard_bytes | sa->hard_packets) == 0)
		return;
	struct ipsec_sa_stats st;
	uint64_t lost;
	ipsec_sa_sum(sa, &st, &lost);
	if (reached(sa->hard_bytes, st.bytes) || reached(sa->hard_packets, st.packets)) {
		__atomic_store_n(&sa->expired, 1, __ATOMIC_RELAXED);
		sa->hard_reported = 1;
		bool bytes = reached(sa->hard_bytes, st.bytes);
		ipsec_event_sa(IPSEC_EV_HARD, rec, sa, bytes ? "bytes" : "packets", bytes ? st.bytes : st.packets,
			       bytes ? sa->hard_bytes : sa->hard_packets);
		return;
	}
	if (!sa->soft_reported && (reached(sa->soft_bytes, st.bytes) || reached(sa->soft_packets, st.packets))) {
		sa->soft_reported = 1;
		bool bytes = reached(sa->soft_bytes, st.bytes);
		ipsec_event_sa(IPSEC_EV_SOFT, rec, sa, bytes ? "bytes" : "packets", bytes ? st.bytes : st.packets,
			       bytes ? sa->soft_bytes : sa->soft_packets);
	}
}

static void lifetimes_check(unsigned budget)
{
	size_t n = ipsec_cp.n_tunnels;
	for (size_t visited = 0; visited < n && budget > 0; visited++) {
		if (ipsec_cp.lifetime_cursor >= n)
			ipsec_cp.lifetime_cursor = 0;
		const struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[ipsec_cp.lifetime_cursor++];
		for (unsigned i = 0; i < rec->n_in; i++)
			sa_check(rec, rec->in[i].sa);
		for (unsigned i = 0; i < rec->n_out; i++)
			sa_check(rec, rec->out[i].sa);
		budget -= RTE_MIN(budget, rec->n_in + rec->n_out);
	}
}

void ipsec_cp_poll(uint64_t now_ms)
{
	if (!ipsec_cp.running)
		return;
	if (rte_ring_count(ipsec.peer_ring) > 0)
		peer_moves_drain();
	if (now_ms >= ipsec_cp.lifetime_next_ms) {
		ipsec_cp.lifetime_next_ms = now_ms + IPSEC_LIFETIME_PERIOD_MS;
		lifetimes_check(IPSEC_LIFETIME_BUDGET);
	}
}
