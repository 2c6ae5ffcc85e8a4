/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP crypto on intel-ipsec-mb (nf/ipsec/ipsec_crypto.h).
 *
 * AES-CBC + HMAC-SHA-256 go through the burst API (cbc_burst): a node's packets are ciphered and hashed in the
 * manager's multi-buffer lanes, about n / lanes passes of AES and SHA for n packets. AES-GCM has no multi-buffer
 * lanes in 1.3 (each job runs as it is submitted); the direct gcm calls skip the job manager's bookkeeping and
 * measured faster (a timing of 64-packet bursts, AES-GCM-128, AVX-512 VAES: 57 vs 80 ns at 64 bytes, 82 vs 115 at
 * 512, 150 vs 171 at 1400), so GCM uses them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_prefetch.h>

#include "nf/ipsec/ipsec_crypto.h"

/* The control thread's manager, for key expansion only (workers have their own). */
static IMB_MGR *ctl_mb;

IMB_MGR *ipsec_crypto_mgr_create(void)
{
	IMB_MGR *mb = alloc_mb_mgr(0);
	if (mb == NULL)
		return NULL;
	init_mb_mgr_auto(mb, NULL);
	if (imb_get_errno(mb) != 0) {
		free_mb_mgr(mb);
		return NULL;
	}
	return mb;
}

void ipsec_crypto_mgr_free(IMB_MGR *mb)
{
	if (mb != NULL)
		free_mb_mgr(mb);
}

const char *ipsec_crypto_arch_name(const IMB_MGR *mb)
{
	switch (mb->used_arch) {
	case IMB_ARCH_NOAESNI:
		return "no-aesni";
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "?";
	}
}

void ipsec_crypto_key_wipe(struct ipsec_crypto_key *k)
{
	/* A volatile pointer keeps the compiler from dropping stores to memory about to be freed. */
	volatile uint8_t *p = (volatile uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++)
		p[i] = 0;
}

/* HMAC-SHA-256 inner and outer states of key (RFC 2104): one SHA-256 block each of key ^ ipad / key ^ opad. */
static void hmac_sha256_precompute(IMB_MGR *mb, const uint8_t *key, size_t len, uint8_t ipad[32], uint8_t opad[32])
{
	uint8_t block[64] __attribute__((aligned(16)));
	memset(block, 0x36, sizeof(block));
	for (size_t i = 0; i < len; i++)
		block[i] ^= key[i];
	IMB_SHA256_ONE_BLOCK(mb, block, ipad);
	memset(block, 0x5c, sizeof(block));
	for (size_t i = 0; i < len; i++)
		block[i] ^= key[i];
	IMB_SHA256_ONE_BLOCK(mb, block, opad);
	volatile uint8_t *v = block;
	for (size_t i = 0; i < sizeof(block); i++)
		v[i] = 0;
}

static int ctl_mb_ready(void)
{
	if (ctl_mb == NULL)
		ctl_mb = ipsec_crypto_mgr_create();
	return ctl_mb != NULL ? 0 : -1;
}

int ipsec_crypto_hmac_sha256_state(const uint8_t *key, size_t len, uint8_t ipad[32], uint8_t opad[32])
{
	if (len > 64 || ctl_mb_ready() != 0)
		return -1;
	hmac_sha256_precompute(ctl_mb, key, len, ipad, opad);
	return 0;
}

int ipsec_crypto_key_init(struct ipsec_crypto_key *k, uint8_t alg, const uint8_t *key, size_t key_len,
			  const uint8_t *auth_key, size_t auth_key_len, char *err, size_t errlen)
{
	if (alg >= IPSEC_ALG_COUNT) {
		snprintf(err, errlen, "unknown algorithm %u", alg);
		return -1;
	}
	if (key_len != ipsec_alg_key_len(alg) || auth_key_len != ipsec_alg_auth_key_len(alg) ||
	    (auth_key_len > 0 && auth_key == NULL)) {
		snprintf(err, errlen, "%s takes a %u-byte key%s (got %zu%s)", ipsec_alg_name(alg), ipsec_alg_key_len(alg),
			 ipsec_alg_auth_key_len(alg) ? " and a 32-byte auth key" : "", key_len,
			 auth_key_len ? " and an auth key" : "");
		return -1;
	}
	if (ctl_mb_ready() != 0) {
		snprintf(err, errlen, "intel-ipsec-mb: cannot create a manager");
		return -1;
	}
	memset(k, 0, sizeof(*k));
	k->alg = alg;
	switch (alg) {
	case IPSEC_ALG_AES_GCM_128:
	case IPSEC_ALG_AES_GCM_256:
		k->aes_len = (uint8_t)(key_len - IPSEC_GCM_SALT_LEN);
		k->iv_len = IPSEC_GCM_IV_LEN;
		k->align = 4;
		memcpy(k->salt, key + k->aes_len, IPSEC_GCM_SALT_LEN);
		if (k->aes_len == 16)
			IMB_AES128_GCM_PRE(ctl_mb, key, &k->gcm);
		else
			IMB_AES256_GCM_PRE(ctl_mb, key, &k->gcm);
		break;
	default:
		k->aes_len = (uint8_t)key_len;
		k->iv_len = IPSEC_CBC_IV_LEN;
		k->align = 16;
		if (k->aes_len == 16)
			IMB_AES_KEYEXP_128(ctl_mb, key, k->cbc.enc, k->cbc.dec);
		else
			IMB_AES_KEYEXP_256(ctl_mb, key, k->cbc.enc, k->cbc.dec);
		hmac_sha256_precompute(ctl_mb, auth_key, auth_key_len, k->cbc.ipad, k->cbc.opad);
		break;
	}
	return 0;
}

/* Constant time: the time taken says nothing of where the tags differ. */
static inline bool tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0; /* every byte compared whatever differs: no early exit */
}

_Static_assert(offsetof(struct ipsec_crypto_key, cbc.opad) == offsetof(struct ipsec_crypto_key, cbc.ipad) + 32,
	       "the HMAC states are adjacent: one prefetch covers both");

/* Every cache line of [p, p + len). */
static inline void prefetch_bytes(const void *p, size_t len)
{
	const uint8_t *end = (const uint8_t *)p + len;
	for (const uint8_t *l = RTE_PTR_ALIGN_FLOOR(p, 64); l < end; l += 64)
		rte_prefetch0(l);
}

/*
 * The same for 1 <= len <= 256 (at most 5 lines) without the loop: five requests, some for one line. With a key per
 * packet (1000 tunnels, GCM, 64 B) this took 31 instructions a packet off the loop's cost (callgrind).
 */
static inline void prefetch_span256(const void *p, size_t len)
{
	const uint8_t *b = (const uint8_t *)p;
	rte_prefetch0(b + ipsec_span256_probe(len, 0));
	rte_prefetch0(b + ipsec_span256_probe(len, 1));
	rte_prefetch0(b + ipsec_span256_probe(len, 2));
	rte_prefetch0(b + ipsec_span256_probe(len, 3));
	rte_prefetch0(b + ipsec_span256_probe(len, 4));
}

#define KEY_FIELD_SIZE(f) sizeof(((struct ipsec_crypto_key *)0)->f)
_Static_assert(KEY_FIELD_SIZE(cbc.enc) <= 256 && KEY_FIELD_SIZE(cbc.ipad) + KEY_FIELD_SIZE(cbc.opad) <= 256,
	       "every span prefetch_span256 is given fits its five probes");
_Static_assert(offsetof(struct ipsec_crypto_key, gcm.expanded_keys) == 0 && KEY_FIELD_SIZE(gcm.expanded_keys) <= 256,
	       "GCM round keys: at most four lines from the key's aligned start (gcm_key_prefetch)");
#undef KEY_FIELD_SIZE

/*
 * The lines of its key a GCM op will read, fetched while the op before it runs: with a thousand tunnels the 1 KiB of
 * round keys and GHASH powers of each SA is out of L2, and a 1420-byte packet's GHASH reads most of it. Layout of
 * intel-ipsec-mb 1.3: round keys first; VAES AVX-512 keeps HashKey^48 .. HashKey^1 (the first power last): a message
 * of b <= 8 blocks reads the last b, a longer one the whole table (the 8-, 16- and 48-block loops); the other code
 * paths read eight powers (SSE/AVX also their Karatsuba halves), 256 bytes after the round keys. The GHASH keys
 * start 240 bytes in: not on a line boundary, hence requests by byte span.
 */
static inline void gcm_key_prefetch(const struct ipsec_crypto_op *op, bool vaes)
{
	const struct gcm_key_data *k = &op->key->gcm;
	/* round keys: at the key's 64-byte aligned start, 176 or 240 bytes: four requests, no arithmetic on spans */
	const uint8_t *rk = (const uint8_t *)k->expanded_keys;
	rte_prefetch0(rk);
	rte_prefetch0(rk + 64);
	rte_prefetch0(rk + 128);
	rte_prefetch0(rk + (op->aes_len == 16 ? 11u : 15u) * 16u - 1);
	const uint8_t *hkeys = (const uint8_t *)&k->ghash_keys;
	if (!vaes) {
		prefetch_span256(hkeys, 256);
		return;
	}
	size_t blocks = (op->cipher_len + 15) / 16 + 1; /* + the AAD's block */
	size_t table = sizeof(k->ghash_keys.vaes_avx512.shifted_hkey);
	if (blocks <= 8) {
		/* the last blocks * 16 <= 128 bytes: at most three lines, its first, its last and the one between */
		const uint8_t *first = hkeys + table - blocks * 16;
		rte_prefetch0(first);
		rte_prefetch0(first + (blocks > 4 ? 64 : 0));
		rte_prefetch0(hkeys + table - 1);
	} else {
		prefetch_bytes(hkeys, table);
	}
}

static void gcm_run(IMB_MGR *mb, struct ipsec_crypto_op *op)
{
	const struct ipsec_crypto_key *k = op->key;
	struct gcm_context_data ctx;
	bool aes128 = op->aes_len == 16;
	uint8_t *p = op->buf + op->cipher_off;
	if (op->encrypt) {
		if (aes128)
			IMB_AES128_GCM_ENC(mb, &k->gcm, &ctx, p, p, op->cipher_len, op->iv, op->aad, op->aad_len, op->tag,
					   IPSEC_ICV_LEN);
		else
			IMB_AES256_GCM_ENC(mb, &k->gcm, &ctx, p, p, op->cipher_len, op->iv, op->aad, op->aad_len, op->tag,
					   IPSEC_ICV_LEN);
		memcpy(op->icv, op->tag, IPSEC_ICV_LEN);
		op->status = IPSEC_CRYPTO_OK;
	} else {
		if (aes128)
			IMB_AES128_GCM_DEC(mb, &k->gcm, &ctx, p, p, op->cipher_len, op->iv, op->aad, op->aad_len, op->tag,
					   IPSEC_ICV_LEN);
		else
			IMB_AES256_GCM_DEC(mb, &k->gcm, &ctx, p, p, op->cipher_len, op->iv, op->aad, op->aad_len, op->tag,
					   IPSEC_ICV_LEN);
		op->status = tag_equal(op->tag, op->icv) ? IPSEC_CRYPTO_OK : IPSEC_CRYPTO_EAUTH;
	}
}

/* A CBC op as a job of the burst API: the cipher and the HMAC fields (each burst reads its own). */
static void job_fill_cbc(IMB_JOB *job, const struct ipsec_crypto_op *op)
{
	const struct ipsec_crypto_key *k = op->key;
	job->enc_keys = k->cbc.enc;
	job->dec_keys = k->cbc.dec;
	job->key_len_in_bytes = op->aes_len;
	job->src = op->buf;
	job->dst = op->buf + op->cipher_off;
	job->cipher_start_src_offset_in_bytes = op->cipher_off;
	job->msg_len_to_cipher_in_bytes = op->cipher_len;
	job->hash_start_src_offset_in_bytes = op->auth_off;
	job->msg_len_to_hash_in_bytes = op->auth_len;
	job->iv = op->iv;
	job->iv_len_in_bytes = IPSEC_CBC_IV_LEN;
	job->auth_tag_output = (uint8_t *)op->tag;
	job->auth_tag_output_len_in_bytes = IPSEC_ICV_LEN;
	job->u.HMAC._hashed_auth_key_xor_ipad = k->cbc.ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = k->cbc.opad;
	job->cipher_mode = IMB_CIPHER_CBC;
	job->hash_alg = IMB_AUTH_HMAC_SHA_256;
}

/*
 * n CBC ops of one direction and key size as two bursts of the library's burst API (one cipher mode, direction and
 * key size per cipher burst). Encrypt-then-MAC: the MAC covers the ciphertext, so it is computed after encryption
 * and verified before decryption (a forged packet is decrypted too, then dropped on its ICV: harmless, and no
 * branch per packet).
 *
 * Why bursts, not the job API: the job API's lanes return a job only when later jobs push it out, so a node call
 * that must have all its results flushes the lanes at the end and runs its last jobs with lanes idle. Measured
 * (AVX-512, HMAC-SHA-256 + AES-128-CBC decrypt, 32 jobs a call): 64-byte payloads 216 cycles/job with the job API
 * and its flush, 186 as bursts; 64/576/1424-byte mix sorted by length 530 vs 487, and as bursts of 64 / 128 jobs
 * 397 / 343 (the lanes idle less behind the long jobs): hence chunks of up to 128 packets (IPSEC_CRYPTO_BURST).
 */
static void cbc_burst(IMB_MGR *mb, struct ipsec_crypto_op **ops, unsigned n, bool encrypt, uint8_t aes_len)
{
	IMB_JOB jobs[IPSEC_CRYPTO_BURST];
	for (unsigned i = 0; i < n; i++) {
		/* the lines of its key the burst will read, requested while the jobs are laid out (1000 tunnels: out of
		 * L1 and L2): round keys of the direction and the two HMAC states */
		const struct ipsec_crypto_key *k = ops[i]->key;
		if (i == 0 || k != ops[i - 1]->key) {
			prefetch_span256(encrypt ? k->cbc.enc : k->cbc.dec, (aes_len == 16 ? 11u : 15u) * 16u);
			prefetch_span256(k->cbc.ipad, sizeof(k->cbc.ipad) + sizeof(k->cbc.opad)); /* adjacent */
		}
		job_fill_cbc(&jobs[i], ops[i]);
	}
	IMB_KEY_SIZE_BYTES ks = aes_len == 16 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
	uint32_t ciphered, hashed;
	/*
	 * NOCHECK: no validation pass, so callers must lay out only valid jobs, as esp_*.c does (cipher length a
	 * non-zero multiple of 16: esp_decap_prepare refuses others as truncated; hash length non-zero; 16-byte IV and
	 * tag; 16/32-byte keys checked at SA creation).
	 */
	if (encrypt) {
		ciphered = IMB_SUBMIT_CIPHER_BURST_NOCHECK(mb, jobs, n, IMB_CIPHER_CBC, IMB_DIR_ENCRYPT, ks);
		hashed = IMB_SUBMIT_HASH_BURST_NOCHECK(mb, jobs, n, IMB_AUTH_HMAC_SHA_256);
	} else {
		hashed = IMB_SUBMIT_HASH_BURST_NOCHECK(mb, jobs, n, IMB_AUTH_HMAC_SHA_256);
		ciphered = IMB_SUBMIT_CIPHER_BURST_NOCHECK(mb, jobs, n, IMB_CIPHER_CBC, IMB_DIR_DECRYPT, ks);
	}
	bool done = ciphered == n && hashed == n; /* a burst runs whole or not at all */
	for (unsigned i = 0; i < n; i++) {
		struct ipsec_crypto_op *op = ops[i];
		if (!done)
			op->status = IPSEC_CRYPTO_EFAIL;
		else if (encrypt) {
			memcpy(op->icv, op->tag, IPSEC_ICV_LEN);
			op->status = IPSEC_CRYPTO_OK;
		} else {
			op->status = tag_equal(op->tag, op->icv) ? IPSEC_CRYPTO_OK : IPSEC_CRYPTO_EAUTH;
		}
	}
}

/*
 * The hash lanes run in lockstep until the shortest job of the lanes ends: submitting a burst's CBC jobs grouped by
 * length (64-byte SHA-256 blocks, a counting sort) keeps jobs of like length side by side (measured above: 557
 * cycles/job unsorted, 487 sorted, for the 64/576/1424 mix).
 */
#define LEN_CLASSES 32

static inline bool mgr_is_vaes(const IMB_MGR *mb)
{
	return mb->used_arch == IMB_ARCH_AVX512 && (mb->features & IMB_FEATURE_VAES) != 0;
}

void ipsec_crypto_prefetch(const IMB_MGR *mb, const struct ipsec_crypto_op *op)
{
	if (ipsec_alg_is_gcm(op->alg))
		gcm_key_prefetch(op, mgr_is_vaes(mb));
}

void ipsec_crypto_run(IMB_MGR *mb, struct ipsec_crypto_op *ops, unsigned n)
{
	uint8_t order[IPSEC_CRYPTO_BURST], cls[IPSEC_CRYPTO_BURST];
	uint16_t count[LEN_CLASSES + 1] = {0};
	unsigned n_cbc = 0;
	bool vaes = mgr_is_vaes(mb);
	if (n > 0 && ipsec_alg_is_gcm(ops[0].alg))
		gcm_key_prefetch(&ops[0], vaes);
	for (unsigned i = 0; i < n; i++) {
		struct ipsec_crypto_op *op = &ops[i];
		if (ipsec_alg_is_gcm(op->alg)) {
			/* the next op's key, unless it is this one's (a run of one tunnel costs nothing) */
			if (i + 1 < n && ipsec_alg_is_gcm(op[1].alg) && op[1].key != op->key)
				gcm_key_prefetch(&op[1], vaes);
			gcm_run(mb, op); /* no lanes in 1.3: runs as called */
			cls[i] = LEN_CLASSES;
			continue;
		}
		unsigned c = op->auth_len >> 6;
		cls[i] = (uint8_t)(c < LEN_CLASSES - 1 ? c : LEN_CLASSES - 1);
		count[cls[i] + 1]++;
		n_cbc++;
	}
	if (n_cbc == 0)
		return;
	for (unsigned c = 1; c < LEN_CLASSES; c++)
		count[c] += count[c - 1];
	for (unsigned i = 0; i < n; i++)
		if (cls[i] < LEN_CLASSES)
			order[count[cls[i]]++] = (uint8_t)i;
	/* One burst per (direction, key size), each in length order: a node's chunk is normally all one group. */
	for (unsigned g = 0; g < 4; g++) {
		bool encrypt = g & 1;
		uint8_t aes_len = g & 2 ? 32 : 16;
		struct ipsec_crypto_op *grp[IPSEC_CRYPTO_BURST];
		unsigned m = 0;
		for (unsigned k = 0; k < n_cbc; k++) {
			struct ipsec_crypto_op *op = &ops[order[k]];
			if ((bool)op->encrypt == encrypt && op->aes_len == aes_len)
				grp[m++] = op;
		}
		if (m > 0)
			cbc_burst(mb, grp, m, encrypt, aes_len);
	}
}
