/* SPDX-License-Identifier: BSD-3-Clause */
/* The inbound SPI table's writer side (nf/ipsec/ipsec_spi.h: layout and the rules readers rely on). */
#include <errno.h>

#include <rte_malloc.h>

#include "nf/ipsec/ipsec_spi.h"

#define SPI_MIN_SLOTS 64u

struct ipsec_spi_table *ipsec_spi_table_create(uint32_t max_sas, int socket)
{
	if (max_sas == 0 || max_sas > (1u << 30))
		return NULL;
	uint32_t slots = SPI_MIN_SLOTS, bits = 6;
	while (slots < 2 * (uint64_t)max_sas) {
		slots <<= 1;
		bits++;
	}
	size_t size = sizeof(struct ipsec_spi_table) + (size_t)slots * sizeof(struct ipsec_spi_slot);
	struct ipsec_spi_table *t = rte_zmalloc_socket("ipsec-spi", size, RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL)
		return NULL;
	t->mask = slots - 1;
	t->shift = 32 - bits;
	t->max_live = max_sas;
	t->socket = socket;
	return t;
}

void ipsec_spi_table_free(struct ipsec_spi_table *t)
{
	rte_free(t);
}

static struct ipsec_spi_slot *find_live(struct ipsec_spi_table *t, uint32_t spi)
{
	const uint64_t want = (uint64_t)IPSEC_SPI_LIVE << 32 | spi;
	for (uint32_t i = ipsec_spi_home(t, spi);; i = (i + 1) & t->mask) {
		struct ipsec_spi_slot *s = &t->slots[i];
		if (s->word == want)
			return s;
		if (s->word == IPSEC_SPI_EMPTY)
			return NULL;
	}
}

/* The first empty slot from spi's home: tombstones are skipped, never reused (ipsec_spi.h). */
static void put(struct ipsec_spi_table *t, uint32_t spi, struct ipsec_sa *sa)
{
	uint32_t i = ipsec_spi_home(t, spi);
	while (t->slots[i].word != IPSEC_SPI_EMPTY)
		i = (i + 1) & t->mask;
	struct ipsec_spi_slot *s = &t->slots[i];
	__atomic_store_n(&s->sa, sa, __ATOMIC_RELAXED);
	__atomic_store_n(&s->word, (uint64_t)IPSEC_SPI_LIVE << 32 | spi, __ATOMIC_RELEASE); /* publishes sa too */
	t->n_live++;
}

int ipsec_spi_add(struct ipsec_spi_table *t, uint32_t spi, struct ipsec_sa *sa)
{
	if (find_live(t, spi) != NULL)
		return EEXIST;
	if (t->n_live >= t->max_live)
		return ENOSPC;
	/* a quarter of the slots stays empty: probes end, misses included */
	if ((uint64_t)(t->n_live + t->n_dead + 1) * 4 > (uint64_t)(t->mask + 1) * 3)
		return EAGAIN;
	put(t, spi, sa);
	return 0;
}

int ipsec_spi_replace(struct ipsec_spi_table *t, uint32_t spi, struct ipsec_sa *sa)
{
	struct ipsec_spi_slot *s = find_live(t, spi);
	if (s == NULL)
		return ENOENT;
	__atomic_store_n(&s->sa, sa, __ATOMIC_RELEASE);
	return 0;
}

int ipsec_spi_del(struct ipsec_spi_table *t, uint32_t spi)
{
	struct ipsec_spi_slot *s = find_live(t, spi);
	if (s == NULL)
		return ENOENT;
	__atomic_store_n(&s->word, (uint64_t)IPSEC_SPI_DEAD << 32 | spi, __ATOMIC_RELEASE);
	t->n_live--;
	t->n_dead++;
	return 0;
}

struct ipsec_spi_table *ipsec_spi_rebuild(const struct ipsec_spi_table *t)
{
	struct ipsec_spi_table *n = ipsec_spi_table_create(t->max_live, t->socket);
	if (n == NULL)
		return NULL;
	uint32_t pos = 0, spi;
	struct ipsec_sa *sa;
	while (ipsec_spi_next(t, &pos, &spi, &sa))
		put(n, spi, sa);
	return n;
}

bool ipsec_spi_next(const struct ipsec_spi_table *t, uint32_t *pos, uint32_t *spi, struct ipsec_sa **sa)
{
	for (; *pos <= t->mask; (*pos)++) {
		const struct ipsec_spi_slot *s = &t->slots[*pos];
		if (s->word >> 32 == IPSEC_SPI_LIVE) {
			*spi = (uint32_t)s->word;
			*sa = s->sa;
			(*pos)++;
			return true;
		}
	}
	return false;
}
