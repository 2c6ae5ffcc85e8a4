/* SPDX-License-Identifier: BSD-3-Clause */
/* Datagram reassembly on rte_ip_frag (nf/nf_reass.h). Worker only, its own table. */
#include <rte_common.h>
#include <rte_ip.h>

#include "nf/nf_reass.h"

#define REASS_BUCKET_ENTRIES 8 /* associativity of the table's hash (a power of 2) */

struct rte_ip_frag_tbl *nf_reass_create(uint32_t max_datagrams, uint64_t timeout_cycles, int socket)
{
	if (max_datagrams == 0)
		max_datagrams = 1;
	uint32_t buckets = rte_align32pow2((max_datagrams + REASS_BUCKET_ENTRIES - 1) / REASS_BUCKET_ENTRIES);
	/* twice the buckets the datagrams need: a full bucket refuses a new datagram while others are empty */
	return rte_ip_frag_table_create(buckets * 2, REASS_BUCKET_ENTRIES, max_datagrams, timeout_cycles, socket);
}

void nf_reass_free(struct rte_ip_frag_tbl *t)
{
	if (t != NULL)
		rte_ip_frag_table_destroy(t);
}

static struct rte_mbuf *push4(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, struct rte_mbuf *m,
			      uint64_t now)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	m->l2_len = 0; /* data is at the IPv4 header */
	m->l3_len = rte_ipv4_hdr_len(ip);
	struct rte_mbuf *r = rte_ipv4_frag_reassemble_packet(t, dr, m, now, ip);
	if (r != NULL) {
		/* rte_ip_frag leaves the checksum to a transmit offload; this datagram is read here, not sent */
		r->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
		ip = rte_pktmbuf_mtod(r, struct rte_ipv4_hdr *);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return r;
}

static struct rte_mbuf *push6(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, struct rte_mbuf *m,
			      uint64_t now)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	m->l2_len = 0; /* data is at the IPv6 header */
	m->l3_len = sizeof(*ip) + sizeof(*fh);
	return rte_ipv6_frag_reassemble_packet(t, dr, m, now, ip, fh);
}

struct rte_mbuf *nf_reass_push(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, struct rte_mbuf *m,
			       uint64_t now, uint32_t *absorbed)
{
	*absorbed = 0;
	/* One buffer per fragment, so the chain returned counts its fragments (the packet accounting needs it). */
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
		dr->row[dr->cnt++] = m;
		return NULL;
	}
	bool v4 = (*rte_pktmbuf_mtod(m, const uint8_t *) >> 4) == 4;
	struct rte_mbuf *r = v4 ? push4(t, dr, m, now) : push6(t, dr, m, now);
	if (r != NULL)
		*absorbed = (uint32_t)r->nb_segs - 1;
	return r;
}

void nf_reass_expire(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, uint64_t now)
{
	rte_ip_frag_table_del_expired_entries(t, dr, now);
}
