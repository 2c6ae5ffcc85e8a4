/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly of fragmented IPv4 and IPv6 datagrams a network function terminates (DS-Lite softwires, RFC 6333 5.3;
 * IPsec ESP and ESP in UDP), on DPDK's rte_ip_frag with one table per worker: only the worker that owns a table
 * touches it (the functions hand a fragment to the worker that reassembles its source's datagrams). Fragments the
 * table gives up (timeouts, overlaps, a full table) land on the worker's death row; the node that filled it moves
 * them to a drop node (so every packet is counted), never rte_ip_frag_free_death_row().
 *
 * IPv6: only a fragment header right after the IPv6 header (what rte_ip_frag handles; the caller checks).
 */
#ifndef NPSGW_NF_REASS_H
#define NPSGW_NF_REASS_H

#include <stdint.h>

#include <rte_ip_frag.h>
#include <rte_mbuf.h>

/* A table for max_datagrams datagrams in progress, each given up after timeout_cycles. NULL when out of memory. */
struct rte_ip_frag_tbl *nf_reass_create(uint32_t max_datagrams, uint64_t timeout_cycles, int socket);
void nf_reass_free(struct rte_ip_frag_tbl *t);

/*
 * Add fragment m (data at its IPv4 header, checked by ip4_input; or at its IPv6 header, whose next header is the
 * fragment header) taken at TSC now. Returns the reassembled datagram (data at its IP header; IPv4: length, flags
 * and header checksum fixed; IPv6: fragment header removed, next header and payload length fixed; a chain of the
 * fragments' buffers) or NULL: m is held, or on the death row with the others of its datagram.
 * *absorbed: how many packets (fragments) disappeared into the returned datagram besides the one returned.
 */
struct rte_mbuf *nf_reass_push(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, struct rte_mbuf *m,
			       uint64_t now, uint32_t *absorbed);

/* Give up datagrams older than the timeout (their fragments to the death row, as room there allows). */
void nf_reass_expire(struct rte_ip_frag_tbl *t, struct rte_ip_frag_death_row *dr, uint64_t now);

#endif
