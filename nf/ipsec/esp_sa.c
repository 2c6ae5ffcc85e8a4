/* SPDX-License-Identifier: BSD-3-Clause */
/* SAs and tunnels: building, freeing, summing (nf/ipsec/ipsec_sa.h). Control thread and unit tests. */
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "nf/ipsec/ipsec_sa.h"

struct ipsec_state ipsec;

int ipsec_sa_init_crypto(struct ipsec_sa *sa, uint8_t alg, const uint8_t *key, size_t key_len,
			 const uint8_t *auth_key, size_t auth_key_len, char *err, size_t errlen)
{
	if (ipsec_crypto_key_init(&sa->crypto, alg, key, key_len, auth_key, auth_key_len, err, errlen) != 0)
		return -1;
	/* The per-packet fields on the SA's first line. */
	sa->alg = sa->crypto.alg;
	sa->aes_len = sa->crypto.aes_len;
	sa->iv_len = sa->crypto.iv_len;
	sa->align = sa->crypto.align;
	memcpy(sa->salt, sa->crypto.salt, sizeof(sa->salt));
	return 0;
}

struct ipsec_sa *ipsec_sa_create(const struct ipsec_sa_conf *c, uint16_t iface, unsigned n_workers, int socket,
				 char *err, size_t errlen)
{
	if (n_workers == 0 || n_workers > IPSEC_MAX_WORKERS) {
		snprintf(err, errlen, "bad worker count %u", n_workers);
		return NULL;
	}
	size_t size = sizeof(struct ipsec_sa) + n_workers * sizeof(struct ipsec_sa_stats);
	struct ipsec_sa *sa = rte_zmalloc_socket("ipsec_sa", size, RTE_CACHE_LINE_SIZE, socket);
	if (sa == NULL) {
		snprintf(err, errlen, "out of memory for an SA");
		return NULL;
	}
	sa->spi = c->spi;
	sa->dir = c->dir;
	sa->esn = c->esn;
	sa->iface = iface;
	sa->n_workers = (uint16_t)n_workers;
	sa->owner = (uint16_t)(c->spi % n_workers);
	sa->replay_window = c->replay_window;
	sa->soft_bytes = c->soft_bytes;
	sa->hard_bytes = c->hard_bytes;
	sa->soft_packets = c->soft_packets;
	sa->hard_packets = c->hard_packets;
	ipsec_sa_seq_start(sa, 0);
	ipsec_replay_init(&sa->replay, c->replay_window);
	if (ipsec_sa_init_crypto(sa, c->alg, c->key, c->key_len, c->auth_key, c->auth_key_len, err, errlen) != 0) {
		ipsec_sa_destroy(sa);
		return NULL;
	}
	return sa;
}

void ipsec_sa_destroy(struct ipsec_sa *sa)
{
	if (sa == NULL)
		return;
	ipsec_crypto_key_wipe(&sa->crypto);
	rte_free(sa);
}

void ipsec_sa_sum(const struct ipsec_sa *sa, struct ipsec_sa_stats *out, uint64_t *lost)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < sa->n_workers; w++) {
		const struct ipsec_sa_stats *s = &sa->stats[w];
		out->packets += s->packets;
		out->bytes += s->bytes;
		out->icv_failed += s->icv_failed;
		out->replay += s->replay;
		out->decrypt_errors += s->decrypt_errors;
		out->refused += s->refused;
	}
	if (sa->dir == IPSEC_DIR_IN) {
		out->packets += __atomic_load_n(&sa->rx_packets, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&sa->rx_bytes, __ATOMIC_RELAXED);
	} else {
		out->packets += __atomic_load_n(&sa->tx_packets, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&sa->tx_bytes, __ATOMIC_RELAXED);
	}
	if (lost != NULL)
		*lost = sa->dir == IPSEC_DIR_IN ? __atomic_load_n(&sa->replay.lost, __ATOMIC_RELAXED) : 0;
}

uint64_t ipsec_sa_seq_space(bool esn)
{
	/* Workers refuse once they see a number past the limit; until then each may add one chunk's worth more. */
	return esn ? UINT64_MAX - (uint64_t)IPSEC_MAX_WORKERS * IPSEC_CRYPTO_BURST : UINT32_MAX;
}

void ipsec_sa_seq_start(struct ipsec_sa *sa, uint64_t seq_start)
{
	uint64_t space = ipsec_sa_seq_space(sa->esn);
	sa->seq_out = seq_start;
	sa->seq_limit = space;
	sa->seq_limit_hard = 0;
	if (sa->hard_packets != 0 && seq_start <= space && sa->hard_packets <= space - seq_start) {
		sa->seq_limit = seq_start + sa->hard_packets;
		sa->seq_limit_hard = 1;
	}
}

uint64_t ipsec_sa_seq_used(const struct ipsec_sa *sa)
{
	uint64_t s = __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED);
	return s > sa->seq_limit ? sa->seq_limit : s;
}

struct ipsec_tunnel *ipsec_tunnel_create(uint16_t iface, uint32_t vrf, unsigned n_workers, int socket)
{
	if (n_workers == 0 || n_workers > IPSEC_MAX_WORKERS)
		return NULL;
	size_t size = sizeof(struct ipsec_tunnel) + n_workers * sizeof(struct ipsec_tunnel_wstats);
	struct ipsec_tunnel *t = rte_zmalloc_socket("ipsec_tunnel", size, RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL)
		return NULL;
	t->iface = iface;
	t->vrf = vrf;
	t->n_workers = (uint16_t)n_workers;
	return t;
}

void ipsec_tunnel_destroy(struct ipsec_tunnel *t)
{
	rte_free(t); /* its params are its home slot; a block being published is the control side's */
}

/* sa's counters added to out: an inbound SA's as rx, an outbound one's as tx. */
static void tunnel_add_sa(struct ipsec_tunnel_stats *out, const struct ipsec_sa *sa)
{
	struct ipsec_sa_stats st;
	uint64_t lost;
	ipsec_sa_sum(sa, &st, &lost);
	if (sa->dir == IPSEC_DIR_IN) {
		out->rx_packets += st.packets;
		out->rx_bytes += st.bytes;
	} else {
		out->tx_packets += st.packets;
		out->tx_bytes += st.bytes;
	}
	out->icv_failed += st.icv_failed;
	out->replay += st.replay;
	out->decrypt_errors += st.decrypt_errors;
	out->lost += lost;
}

void ipsec_tunnel_fold(struct ipsec_tunnel *t, const struct ipsec_sa *sa)
{
	tunnel_add_sa(&t->gone, sa);
}

void ipsec_tunnel_sum(const struct ipsec_tunnel *t, struct ipsec_sa *const *sas, unsigned n_sas,
		      struct ipsec_tunnel_stats *out)
{
	*out = t->gone;
	for (unsigned w = 0; w < t->n_workers; w++)
		out->no_sa += t->stats[w].no_sa;
	for (unsigned i = 0; i < n_sas; i++)
		tunnel_add_sa(out, sas[i]);
}
