/* SPDX-License-Identifier: BSD-3-Clause */
/* What IPsec's graph nodes share (nf/ipsec/ipsec_node_*.c): drop edges, status -> drop mapping. Fast path only. */
#ifndef NPSGW_IPSEC_NODE_H
#define NPSGW_IPSEC_NODE_H

#include <rte_graph_worker.h>
#include <rte_hash_crc.h>

#include "dataplane/nodes/nodes.h"
#include "nf/ipsec/esp.h"
#include "nf/ipsec/ipsec_drops.h"
#include "nf/ipsec/ipsec_sa.h"

_Static_assert(IPSEC_MAX_WORKERS == DP_MAX_WORKERS, "per-worker arrays sized alike");

#define IPSEC_CHUNK IPSEC_CRYPTO_BURST /* packets handled together: one SPI bulk lookup, one crypto burst */

/* Drop reasons as edge numbers: every IPsec node lists the drop nodes first, in this order. */
enum ipsec_drop {
#define IPSEC_DROP_ENUM(n, d) IPSEC_DROP_##n,
	NF_IPSEC_DROP_REASONS(IPSEC_DROP_ENUM)
#undef IPSEC_DROP_ENUM
	IPSEC_DROP_COUNT
};
#define IPSEC_DROP_EDGE_NAME(n, d) [IPSEC_DROP_##n] = DROP_NODE(n),

/* The drop edge of a failed ESP step (ESP_ERR_KEEPALIVE is absorbed, not dropped: never looked up here). */
static inline rte_edge_t ipsec_status_drop(enum esp_status st)
{
	switch (st) {
	case ESP_ERR_OUTER_TRUNCATED:
		return IPSEC_DROP_ipsec_outer_truncated;
	case ESP_ERR_FRAGMENT:
		return IPSEC_DROP_ipsec_fragment;
	case ESP_ERR_NOT_ESP:
		return IPSEC_DROP_udp_encap_not_esp;
	case ESP_ERR_TRUNCATED:
		return IPSEC_DROP_esp_truncated;
	case ESP_ERR_ICV:
		return IPSEC_DROP_esp_icv_failed;
	case ESP_ERR_BAD_PADDING:
		return IPSEC_DROP_esp_bad_padding;
	case ESP_ERR_BAD_NEXT_HEADER:
		return IPSEC_DROP_esp_bad_next_header;
	case ESP_ERR_DUMMY:
		return IPSEC_DROP_esp_dummy;
	case ESP_ERR_NO_ROOM:
		return IPSEC_DROP_ipsec_no_room;
	case ESP_ERR_ECN_NOT_ECT:
		return IPSEC_DROP_esp_ecn_not_ect;
	case ESP_ERR_UDP6_ZERO_CSUM:
		return IPSEC_DROP_ipsec_udp6_zero_csum;
	case ESP_ERR_UDP_BAD_CSUM:
		return IPSEC_DROP_ipsec_udp_bad_csum;
	default:
		return IPSEC_DROP_ipsec_crypto_error;
	}
}

/* This worker's IPsec engine, or NULL when IPsec is not running (or the worker is not one of its workers). */
/*
 * The worker that reassembles the outer fragments from this source (p: the outer IPv4 or IPv6 header): all the
 * fragments of a datagram have its source, so they meet in one worker's table, whatever queue each arrived on.
 */
static inline unsigned ipsec_frag_owner(const uint8_t *p, unsigned n_workers)
{
	if (n_workers <= 1)
		return 0;
	uint32_t h = (p[0] >> 4) == 4 ? rte_hash_crc(p + 12, 4, 0) : rte_hash_crc(p + 8, 16, 0);
	return h % n_workers;
}

static inline struct ipsec_worker *ipsec_worker_of(const struct worker *wk)
{
	struct ipsec_worker *ws = ipsec_workers_get();
	return ws != NULL && wk->index < ipsec.n_workers ? &ws[wk->index] : NULL;
}

/* One segment for the ESP code: chained packets (fragments) are copied into their first segment. */
static inline bool ipsec_make_linear(struct rte_mbuf *m)
{
	return likely(m->nb_segs == 1) || rte_pktmbuf_linearize(m) == 0;
}

#endif
