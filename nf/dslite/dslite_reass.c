/* SPDX-License-Identifier: BSD-3-Clause */
/* Softwire reassembly on rte_ip_frag (dslite_reass.h). Worker only, its own table. */
#include <rte_common.h>
#include <rte_ip.h>

#include "nf/dslite/dslite_reass.h"

#define REASS_BUCKET_ENTRIES 8 /* associativity of the table's hash (a power of 2) */

struct rte_ip_frag_tbl *dslite_reass_create(uint32_t max_datagrams, uint64_t timeout_cycles, int socket)
{
	if (max_datagrams == 0)
		max_datagrams = 1;
	uint32_t buckets = rte_align32pow2((max_datagrams + REASS_BUCKET_ENTRIES - 1) / REASS_BUCKET_ENTRIES);
	/* twice the buckets the datagrams need: a full bucket refuses a new datagram while others are empty */
	return rte_ip_frag_table_create(buckets * 2, REASS_BUCKET_ENTRIES, max_datagrams, timeout_cycles, socket);
}

void dslite_reass_free(struct rte_ip_frag_tbl *t)
{
	if (t != NULL)
		rte_ip_frag_table_destroy(t);
}

struct rte_mbuf *dslite_reass_push(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, struct rte_mbuf *m,
				   uint64_t now, uint32_t *absorbed)
{
	*absorbed = 0;
	/* One buffer per fragment, so the chain returned counts its fragments (the packet accounting needs it). */
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
		dr->row[dr->cnt++] = m;
		return NULL;
	}
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	m->l2_len = 0; /* data is at the IPv6 header */
	m->l3_len = sizeof(*ip) + sizeof(*fh);
	struct rte_mbuf *r = rte_ipv6_frag_reassemble_packet(t, dr, m, now, ip, fh);
	if (r != NULL)
		*absorbed = (uint32_t)r->nb_segs - 1;
	return r;
}

void dslite_reass_expire(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, uint64_t now)
{
	rte_ip_frag_table_del_expired_entries(t, dr, now);
}
