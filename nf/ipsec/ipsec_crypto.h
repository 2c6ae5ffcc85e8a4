/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP crypto on intel-ipsec-mb 1.3: key schedules of an SA (expanded once, at SA creation) and bursts of in-place
 * AEAD (AES-GCM, RFC 4106) or encrypt-then-MAC (AES-CBC + HMAC-SHA-256-128, RFC 3602 / RFC 4868) operations on one
 * worker's IMB_MGR. Knows nothing of ESP framing (nf/ipsec/esp.h lays the packet out) nor of the graph.
 */
#ifndef NPSGW_IPSEC_CRYPTO_H
#define NPSGW_IPSEC_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "nf/ipsec/ipsec_conf.h" /* enum ipsec_conf_alg, ipsec_alg_name() ... */

#define IPSEC_ICV_LEN 16      /* every algorithm here: GCM tag 16, HMAC-SHA-256 truncated to 128 bits */
#define IPSEC_GCM_IV_LEN 8
#define IPSEC_CBC_IV_LEN 16
#define IPSEC_IV_MAX 16
#define IPSEC_GCM_SALT_LEN 4
#define IPSEC_AAD_MAX 12      /* SPI + 64-bit ESN */
#define IPSEC_CRYPTO_BURST 128 /* ops per ipsec_crypto_run() at most: the library's burst limit (IMB_MAX_BURST_SIZE) */

/* An SA's key material, expanded: immutable once built; wiped (ipsec_crypto_key_wipe) before its memory is freed. */
struct ipsec_crypto_key {
	union {
		struct gcm_key_data gcm; /* AES-GCM-128/256: round keys + GHASH keys */
		struct {
			uint8_t enc[16 * 15] __attribute__((aligned(16))); /* AES round keys, encrypt */
			uint8_t dec[16 * 15] __attribute__((aligned(16))); /* AES round keys, decrypt */
			uint8_t ipad[32] __attribute__((aligned(16)));     /* SHA-256 state after (key ^ ipad) */
			uint8_t opad[32] __attribute__((aligned(16)));     /* SHA-256 state after (key ^ opad) */
		} cbc;
	} __attribute__((aligned(64)));
	uint8_t alg;      /* enum ipsec_conf_alg */
	uint8_t aes_len;  /* AES key bytes: 16 or 32 */
	uint8_t iv_len;   /* bytes of IV on the wire: 8 (GCM) or 16 (CBC) */
	uint8_t align;    /* ESP payload+trailer alignment: 4 (GCM) or 16 (CBC block); a power of two (masks use it) */
	uint8_t salt[IPSEC_GCM_SALT_LEN]; /* GCM: nonce = salt || IV (RFC 4106 4) */
};

static inline bool ipsec_alg_is_gcm(uint8_t alg)
{
	return alg == IPSEC_ALG_AES_GCM_128 || alg == IPSEC_ALG_AES_GCM_256;
}

/*
 * Byte i (0..4) of a span of len bytes (1..256) that ipsec_crypto.c requests when it prefetches a key's span
 * without a loop: together the five reach every cache line of the span, whatever its alignment, and nothing past
 * it (test_ipsec_crypto.c).
 */
static inline size_t ipsec_span256_probe(size_t len, unsigned i)
{
	size_t at = (size_t)64 * i;
	return at < len - 1 ? at : len - 1;
}

/*
 * Expand key (GCM: AES key || 4-byte salt; CBC: AES key) and auth_key (CBC: the 32-byte HMAC-SHA-256 key; GCM: NULL,
 * 0) for alg into k. 0, or -1 with err (never quoting key material). Control thread (uses its own IMB_MGR).
 */
int ipsec_crypto_key_init(struct ipsec_crypto_key *k, uint8_t alg, const uint8_t *key, size_t key_len,
			  const uint8_t *auth_key, size_t auth_key_len, char *err, size_t errlen);
/* HMAC-SHA-256 inner/outer states of a key of len <= 64 bytes (RFC 2104), as the jobs take them. 0 or -1. */
int ipsec_crypto_hmac_sha256_state(const uint8_t *key, size_t len, uint8_t ipad[32], uint8_t opad[32]);
/* Overwrite the key material with zeros (not optimised away). */
void ipsec_crypto_key_wipe(struct ipsec_crypto_key *k);

/* A worker's crypto engine: an IMB_MGR initialised for the best instruction set of this CPU. NULL on failure. */
IMB_MGR *ipsec_crypto_mgr_create(void);
void ipsec_crypto_mgr_free(IMB_MGR *mb);
/* The instruction set the manager picked ("avx512", "avx2", "avx", "sse"), for the logs. */
const char *ipsec_crypto_arch_name(const IMB_MGR *mb);

enum ipsec_crypto_status {
	IPSEC_CRYPTO_OK = 0,
	IPSEC_CRYPTO_EAUTH = 1, /* decrypt: the ICV did not verify */
	IPSEC_CRYPTO_EFAIL = 2, /* the library refused the job (bad lengths, ...) */
};

/*
 * One in-place operation. Offsets are from buf. The caller lays the packet out (nf/ipsec/esp_*.c):
 * - GCM: cipher [cipher_off, +cipher_len) encrypted/decrypted with nonce iv[0..11] = salt || IV and AAD aad[0..
 *   aad_len) (SPI || seq, or SPI || seq-hi || seq with ESN); the tag covers AAD + ciphertext.
 * - CBC-HMAC: cipher region with iv[0..15]; HMAC-SHA-256 over [auth_off, +auth_len) of the ciphertext (encrypt:
 *   computed after encryption; decrypt: before), truncated to 16 bytes.
 * Encrypt: the ICV is computed into tag[], then copied to icv (so icv may hold seq-hi while the HMAC runs).
 * Decrypt: the computed ICV (tag[]) is compared in constant time with the 16 bytes at icv; status EAUTH when they
 * differ (the payload is then garbage). With ESN and CBC the caller copies the received ICV to icv_saved, writes
 * seq-hi in its place (inside the auth region) and points icv at icv_saved.
 */
struct ipsec_crypto_op {
	const struct ipsec_crypto_key *key;
	uint8_t alg;                 /* = key->alg, and aes_len = key->aes_len: the caller copies them from a line it */
	uint8_t aes_len;             /*   has in cache (ESP: the SA's first) so that a burst reads only key schedules */
	uint8_t *buf;
	uint8_t *icv;
	uint32_t cipher_off, cipher_len;
	uint32_t auth_off, auth_len; /* CBC-HMAC only */
	uint8_t encrypt;             /* 1: encrypt, 0: decrypt */
	uint8_t aad_len;             /* GCM only: 8 or 12 for ESP (at most 32) */
	uint8_t status;              /* enum ipsec_crypto_status, set by ipsec_crypto_run */
	uint8_t iv[IPSEC_IV_MAX] __attribute__((aligned(16)));
	uint8_t aad[32] __attribute__((aligned(16))); /* ESP uses 8 or 12 bytes */
	uint8_t tag[IPSEC_ICV_LEN] __attribute__((aligned(16)));
	uint8_t icv_saved[IPSEC_ICV_LEN]; /* decrypt: the received ICV when icv is overwritten by seq-hi */
};

/*
 * Run n (<= IPSEC_CRYPTO_BURST) operations on mb; each op's status says how it went. CBC ops are not validated by
 * the library (NOCHECK): cipher_len must be a non-zero multiple of 16 and auth_len non-zero.
 */
void ipsec_crypto_run(IMB_MGR *mb, struct ipsec_crypto_op *ops, unsigned n);

/*
 * Request the key lines a GCM op will read (no-op for CBC: a CBC burst requests its keys as it lays out its jobs).
 * ipsec_crypto_run() requests each op's one op ahead; a caller that knows the first op long before it runs asks
 * here, so that the run does not start on a miss.
 */
void ipsec_crypto_prefetch(const IMB_MGR *mb, const struct ipsec_crypto_op *op);

#endif
