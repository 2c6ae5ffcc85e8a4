/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keys installed since start-up (ipsec_cp_int.h "keys"): no key goes on the wire twice with its sequence numbers
 * starting again, and no inbound SA built again with a key gets an empty anti-replay window.
 *
 * Every key material an SA was built with (alg || key || auth_key) is remembered for the life of npsd as a keyed
 * fingerprint: SipHash-2-4 under two random 128-bit secrets drawn at start-up (128 bits in all). The key itself is
 * never kept here, and the fingerprint says nothing about it without the secrets (process memory only). With it:
 * - the SA identity the key was first installed with, (direction, SPI): the key under another identity is refused
 *   ("key already used by another SA since start-up: install fresh keys") for as long as npsd runs;
 * - once every object built with the key is freed (after the workers let go), where its sequence space stood:
 *   outbound the last sequence number handed out, inbound the highest number accepted. When an SA with that identity
 *   and key comes back (config rollback, the undo of a failed commit, `sa replace` K1 -> K2 -> K1, `sa del` then
 *   `sa add`, a renamed tunnel), it goes on from there: outbound numbers continue after the last one sent, inbound
 *   everything at or below the highest number accepted counts as received (replays of captured packets refused).
 * 32 bytes per key ever installed (the table only grows: 100,000 rekeys take about 5 MB).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "nf/ipsec/ipsec_cp_int.h"

struct key_seen {
	uint64_t fp[2];
	uint64_t last;         /* out: last sequence number handed out; in: highest accepted (0: none) */
	uint32_t spi;
	uint8_t dir;
	uint8_t used;          /* installed once: its identity is fixed until npsd stops */
	uint16_t objects;      /* SA objects built with it and not freed yet (pending, installed or retired) */
	uint16_t installed;    /* of those, attached to a tunnel record */
};

static struct {
	uint64_t secret[4];
	struct key_seen *e;    /* stable indexes: slot = index + 1 */
	uint32_t n, cap;
	uint32_t *index;       /* open addressing by fp[0]: slot or 0; power of two, at most half full */
	uint32_t index_size;
} keys;

/* ---- SipHash-2-4 (Aumasson, Bernstein), 64-bit output ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                                      \
	do {                                                                                                          \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                             \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                                \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                                \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                             \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t siphash24(const uint64_t k[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The fingerprint of c's key material (the buffer holding a copy is wiped). */
static void fingerprint(const struct ipsec_sa_conf *c, uint64_t fp[2])
{
	uint8_t buf[3 + sizeof(c->key) + sizeof(c->auth_key)];
	size_t n = 0;
	buf[n++] = c->alg;
	buf[n++] = c->key_len;
	memcpy(buf + n, c->key, c->key_len);
	n += c->key_len;
	buf[n++] = c->auth_key_len;
	memcpy(buf + n, c->auth_key, c->auth_key_len);
	n += c->auth_key_len;
	fp[0] = siphash24(&keys.secret[0], buf, n);
	fp[1] = siphash24(&keys.secret[2], buf, n);
	explicit_bzero(buf, sizeof(buf));
}

/* ---- the table ---- */

void ipsec_keys_reset(void)
{
	ipsec_keys_free();
	if (getrandom(keys.secret, sizeof(keys.secret), 0) != (ssize_t)sizeof(keys.secret)) {
		/* no kernel entropy (very old kernel): time and address bits, still unknown outside the process */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		keys.secret[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&ts;
		keys.secret[1] ^= (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&keys;
		keys.secret[2] ^= rotl(keys.secret[0], 17) ^ 0x5851f42d4c957f2dULL;
		keys.secret[3] ^= rotl(keys.secret[1], 29) ^ (uint64_t)clock();
	}
}

void ipsec_keys_free(void)
{
	free(keys.e);
	free(keys.index);
	explicit_bzero(&keys, sizeof(keys));
}

static uint32_t *index_probe(uint32_t *index, uint32_t size, const uint64_t fp[2])
{
	uint32_t mask = size - 1;
	for (uint32_t i = (uint32_t)fp[0] & mask;; i = (i + 1) & mask) {
		uint32_t slot = index[i];
		if (slot == 0 || (keys.e[slot - 1].fp[0] == fp[0] && keys.e[slot - 1].fp[1] == fp[1]))
			return &index[i];
	}
}

/* Room for one more entry. 0 or ENOMEM. */
static int keys_grow(void)
{
	if (keys.n == keys.cap) {
		uint32_t cap = keys.cap ? keys.cap * 2 : 256;
		struct key_seen *e = realloc(keys.e, cap * sizeof(*e));
		if (e == NULL)
			return ENOMEM;
		keys.e = e;
		keys.cap = cap;
	}
	if ((keys.n + 1) * 2 > keys.index_size) {
		uint32_t size = keys.index_size ? keys.index_size * 2 : 512;
		uint32_t *index = calloc(size, sizeof(*index));
		if (index == NULL)
			return ENOMEM;
		for (uint32_t i = 0; i < keys.n; i++)
			*index_probe(index, size, keys.e[i].fp) = i + 1;
		free(keys.index);
		keys.index = index;
		keys.index_size = size;
	}
	return 0;
}

static struct key_seen *slot_entry(uint32_t slot)
{
	return slot != 0 && slot <= keys.n ? &keys.e[slot - 1] : NULL;
}

int ipsec_keys_acquire(const struct ipsec_sa_conf *c, bool allow_installed, uint32_t *slot_out, char *err,
		       size_t errlen)
{
	uint64_t fp[2];
	*slot_out = 0;
	fingerprint(c, fp);
	if (keys_grow() != 0) {
		snprintf(err, errlen, "SA 0x%x: out of memory", c->spi);
		return ENOMEM;
	}
	uint32_t *cell = index_probe(keys.index, keys.index_size, fp);
	struct key_seen *k = slot_entry(*cell);
	if (k == NULL) {
		keys.e[keys.n] = (struct key_seen){.fp = {fp[0], fp[1]}, .spi = c->spi, .dir = c->dir};
		*cell = ++keys.n;
		k = &keys.e[keys.n - 1];
	} else if (!k->used && k->objects == 0) {
		k->spi = c->spi; /* seen but never installed (a refused commit): not bound to an identity */
		k->dir = c->dir;
	} else if (k->spi != c->spi || k->dir != c->dir) {
		snprintf(err, errlen,
			 "SA 0x%x: key already used by another SA since start-up (%s spi 0x%x): install fresh keys",
			 c->spi, ipsec_dir_name(k->dir), k->spi);
		return EEXIST;
	} else if (k->objects > k->installed || (k->installed > 0 && !allow_installed)) {
		snprintf(err, errlen,
			 "SA 0x%x: its key is installed already (%s SA 0x%x of another tunnel): one SA per key, "
			 "delete that one first or install fresh keys", c->spi, ipsec_dir_name(c->dir), c->spi);
		return EEXIST;
	}
	k->objects++;
	*slot_out = (uint32_t)(k - keys.e) + 1;
	return 0;
}

uint32_t ipsec_keys_count(void)
{
	return keys.n;
}

bool ipsec_keys_same(const struct ipsec_sa_conf *c, uint32_t slot)
{
	const struct key_seen *k = slot_entry(slot);
	uint64_t fp[2];
	if (k == NULL)
		return false;
	fingerprint(c, fp);
	return fp[0] == k->fp[0] && fp[1] == k->fp[1];
}

unsigned ipsec_keys_installed_count(uint32_t slot)
{
	const struct key_seen *k = slot_entry(slot);
	return k != NULL ? k->installed : 0;
}

/*
 * The inbound window as it would be had every number up to top arrived: numbers at or below top are refused
 * (duplicates or too old), those above are new. The bitmap is a ring of 64-bit words (ipsec_replay.h): top's word
 * keeps its bits above top clear, every other word (all below top) is full.
 */
static void replay_resume(struct ipsec_replay *r, uint64_t top)
{
	r->top = top;
	if (r->window == 0 || r->n_words == 0)
		return;
	for (uint32_t i = 0; i < r->n_words; i++)
		r->bits[i] = ~0ULL;
	unsigned bit = (unsigned)(top % 64);
	r->bits[(top / 64) % r->n_words] = bit == 63 ? ~0ULL : (2ULL << bit) - 1;
}

void ipsec_keys_carry(uint32_t slot, struct ipsec_sa *sa)
{
	const struct key_seen *k = slot_entry(slot);
	if (k == NULL || k->last == 0)
		return;
	if (sa->dir == IPSEC_DIR_OUT) {
		if (sa->seq_out < k->last)
			ipsec_sa_seq_start(sa, k->last); /* the next packet carries last + 1; limit from there */
	} else if (sa->replay.top < k->last) {
		replay_resume(&sa->replay, k->last);
	}
}

void ipsec_keys_installed(uint32_t slot)
{
	struct key_seen *k = slot_entry(slot);
	if (k == NULL)
		return;
	k->installed++;
	k->used = 1;
}

void ipsec_keys_uninstalled(uint32_t slot)
{
	struct key_seen *k = slot_entry(slot);
	if (k != NULL && k->installed > 0)
		k->installed--;
}

bool ipsec_keys_retired_pending(uint32_t slot)
{
	const struct key_seen *k = slot_entry(slot);
	return k != NULL && k->objects > k->installed + 1;
}

void ipsec_keys_release(uint32_t slot, const struct ipsec_sa *sa)
{
	struct key_seen *k = slot_entry(slot);
	if (k == NULL)
		return;
	if (sa != NULL) {
		/* the workers let go: the state is final */
		uint64_t last = sa->dir == IPSEC_DIR_OUT ? __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED)
							 : sa->replay.top;
		if (last > k->last)
			k->last = last;
	}
	if (k->objects > 0)
		k->objects--;
}
