/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Known-answer tests of nf/ipsec/ipsec_crypto.c: AES-GCM (McGrew & Viega GCM spec test cases 2-4 and 14-16, the
 * vectors RFC 4106 builds on), HMAC-SHA-256 (RFC 4231 test cases 1-5), AES-CBC (NIST SP 800-38A F.2.1 / F.2.5)
 * with HMAC-SHA-256-128 over the ciphertext (tag from an independent implementation), bursts mixing algorithms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_common.h>

#include "nf/ipsec/ipsec_crypto.h"

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static IMB_MGR *mb;

static const char *GCM_P = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
			   "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char *GCM_A = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const char *GCM_IV = "cafebabefacedbaddecaf888";
static const char *GCM_K = "feffe9928665731c6d6a8f9467308308";

struct gcm_case {
	const char *name;
	uint8_t alg;
	const char *key, *iv, *aad;
	const char *pt; /* hex */
	size_t pt_len;  /* bytes of pt used */
	const char *ct, *tag;
};

static void gcm_case_run(const struct gcm_case *c)
{
	uint8_t key[36] = {0}, pt[64], ct[64], tag[16], buf[128];
	char err[128];
	size_t klen = unhex(c->key, key);
	memcpy(key + klen, "\x01\x02\x03\x04", 4); /* salt: unused by the op API (the iv carries the whole nonce) */
	static struct ipsec_crypto_key k;
	CU_ASSERT_EQUAL_FATAL(ipsec_crypto_key_init(&k, c->alg, key, klen + 4, NULL, 0, err, sizeof(err)), 0);
	unhex(c->pt, pt);
	size_t ctlen = unhex(c->ct, ct);
	CU_ASSERT_EQUAL_FATAL(ctlen, c->pt_len);
	unhex(c->tag, tag);

	struct ipsec_crypto_op op = {.key = &k, .alg = k.alg, .aes_len = k.aes_len, .buf = buf, .cipher_off = 8, .cipher_len = (uint32_t)c->pt_len,
				     .encrypt = 1};
	memcpy(buf + 8, pt, c->pt_len);
	op.icv = buf + 8 + c->pt_len;
	unhex(c->iv, op.iv);
	op.aad_len = (uint8_t)unhex(c->aad, op.aad);
	ipsec_crypto_run(mb, &op, 1);
	CU_ASSERT_EQUAL(op.status, IPSEC_CRYPTO_OK);
	CU_ASSERT(memcmp(buf + 8, ct, c->pt_len) == 0);
	CU_ASSERT(memcmp(buf + 8 + c->pt_len, tag, 16) == 0);

	op.encrypt = 0;
	ipsec_crypto_run(mb, &op, 1);
	CU_ASSERT_EQUAL(op.status, IPSEC_CRYPTO_OK);
	CU_ASSERT(memcmp(buf + 8, pt, c->pt_len) == 0);

	/* The same ciphertext with one bit of the AAD changed no longer verifies. */
	memcpy(buf + 8, ct, c->pt_len);
	op.aad[0] ^= 1;
	if (op.aad_len == 0)
		buf[8] ^= 0x80; /* no AAD: tamper with the ciphertext instead */
	ipsec_crypto_run(mb, &op, 1);
	CU_ASSERT_EQUAL(op.status, IPSEC_CRYPTO_EAUTH);
	ipsec_crypto_key_wipe(&k);
}

static void test_gcm128_kat(void)
{
	const struct gcm_case cases[] = {
		{"TC2", IPSEC_ALG_AES_GCM_128, "00000000000000000000000000000000", "000000000000000000000000", "",
		 "00000000000000000000000000000000", 16, "0388dace60b6a392f328c2b971b2fe78",
		 "ab6e47d42cec13bdf53a67b21257bddf"},
		{"TC3", IPSEC_ALG_AES_GCM_128, GCM_K, GCM_IV, "", GCM_P, 64,
		 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
		 "1ba30b396a0aac973d58e091473f5985",
		 "4d5c2af327cd64a62cf35abd2ba6fab4"},
		{"TC4", IPSEC_ALG_AES_GCM_128, GCM_K, GCM_IV, GCM_A, GCM_P, 60,
		 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
		 "1ba30b396a0aac973d58e091",
		 "5bc94fbc3221a5db94fae95ae7121a47"},
	};
	for (unsigned i = 0; i < RTE_DIM(cases); i++)
		gcm_case_run(&cases[i]);
}

static void test_gcm256_kat(void)
{
	const char *k256 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
	const struct gcm_case cases[] = {
		{"TC14", IPSEC_ALG_AES_GCM_256, "0000000000000000000000000000000000000000000000000000000000000000",
		 "000000000000000000000000", "", "00000000000000000000000000000000", 16,
		 "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
		{"TC15", IPSEC_ALG_AES_GCM_256, k256, GCM_IV, "", GCM_P, 64,
		 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
		 "c5f61e6393ba7a0abcc9f662898015ad",
		 "b094dac5d93471bdec1a502270e3cc6c"},
		{"TC16", IPSEC_ALG_AES_GCM_256, k256, GCM_IV, GCM_A, GCM_P, 60,
		 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
		 "c5f61e6393ba7a0abcc9f662",
		 "76fc6ece0f4e1768cddf8853bb2d551b"},
	};
	for (unsigned i = 0; i < RTE_DIM(cases); i++)
		gcm_case_run(&cases[i]);
}

/* RFC 4231: the key states from ipsec_crypto_hmac_sha256_state, the MAC by a hash-only job. */
static void test_hmac_sha256_rfc4231(void)
{
	static uint8_t tc4_key[25];
	for (unsigned i = 0; i < 25; i++)
		tc4_key[i] = (uint8_t)(i + 1);
	uint8_t d3[50], d4[50];
	memset(d3, 0xdd, sizeof(d3));
	memset(d4, 0xcd, sizeof(d4));
	const struct {
		const uint8_t *key;
		size_t key_len;
		const uint8_t *data;
		size_t data_len;
		const char *mac;
	} cases[] = {
		{(const uint8_t *)"\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b", 20,
		 (const uint8_t *)"Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{(const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
		 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{(const uint8_t *)"\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 20, d3,
		 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{tc4_key, 25, d4, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
		/* TC5: truncated to 128 bits, as ESP uses it (RFC 4868). */
		{(const uint8_t *)"\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c", 20,
		 (const uint8_t *)"Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b"},
	};
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		uint8_t ipad[32] __attribute__((aligned(16))), opad[32] __attribute__((aligned(16)));
		uint8_t want[32], got[32];
		size_t mac_len = unhex(cases[i].mac, want);
		CU_ASSERT_EQUAL_FATAL(ipsec_crypto_hmac_sha256_state(cases[i].key, cases[i].key_len, ipad, opad), 0);
		IMB_JOB *job = IMB_GET_NEXT_JOB(mb);
		memset(job, 0, sizeof(*job));
		job->src = cases[i].data;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = cases[i].data_len;
		job->auth_tag_output = got;
		job->auth_tag_output_len_in_bytes = mac_len;
		job->u.HMAC._hashed_auth_key_xor_ipad = ipad;
		job->u.HMAC._hashed_auth_key_xor_opad = opad;
		job->cipher_mode = IMB_CIPHER_NULL;
		job->hash_alg = IMB_AUTH_HMAC_SHA_256;
		job->cipher_direction = IMB_DIR_ENCRYPT;
		job->chain_order = IMB_ORDER_HASH_CIPHER;
		job = IMB_SUBMIT_JOB(mb);
		if (job == NULL)
			job = IMB_FLUSH_JOB(mb);
		CU_ASSERT_PTR_NOT_NULL_FATAL(job);
		CU_ASSERT_EQUAL(job->status, IMB_STATUS_COMPLETED);
		CU_ASSERT(memcmp(got, want, mac_len) == 0);
	}
	CU_ASSERT_EQUAL(ipsec_crypto_hmac_sha256_state(tc4_key, 65, (uint8_t[32]){0}, (uint8_t[32]){0}), -1);
}

static const char *CBC_IV = "000102030405060708090a0b0c0d0e0f";
static const char *CBC_P = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
			   "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void cbc_case(uint8_t alg, const char *key_hex, const char *ct_hex, const char *tag_hex)
{
	uint8_t key[32], auth[32], pt[64], ct[64], tag[16], buf[96];
	char err[128];
	size_t klen = unhex(key_hex, key);
	for (unsigned i = 0; i < 32; i++)
		auth[i] = (uint8_t)i;
	unhex(CBC_P, pt);
	unhex(ct_hex, ct);
	unhex(tag_hex, tag);
	static struct ipsec_crypto_key k;
	CU_ASSERT_EQUAL_FATAL(ipsec_crypto_key_init(&k, alg, key, klen, auth, 32, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.iv_len, 16);
	CU_ASSERT_EQUAL(k.align, 16);
	struct ipsec_crypto_op op = {.key = &k, .alg = k.alg, .aes_len = k.aes_len, .buf = buf, .cipher_off = 16, .cipher_len = 64, .auth_off = 16,
				     .auth_len = 64, .icv = buf + 80, .encrypt = 1};
	unhex(CBC_IV, op.iv);
	memcpy(buf + 16, pt, 64);
	ipsec_crypto_run(mb, &op, 1);
	CU_ASSERT_EQUAL(op.status, IPSEC_CRYPTO_OK);
	CU_ASSERT(memcmp(buf + 16, ct, 64) == 0);
	CU_ASSERT(memcmp(buf + 80, tag, 16) == 0);
	op.encrypt = 0;
	ipsec_crypto_run(mb, &op, 1);
	CU_ASSERT_EQUAL(op.status, IPSEC_CRYPTO_OK);
	CU_ASSERT(memcmp(buf + 16, pt, 64) == 0);
	/* Verified before decryption: a flipped ciphertext bit fails, whatever it decrypts to. */
	memcpy(buf + 16, ct, 64);
	buf[16 + 63] ^= 0x01;
	ipsec_crypto_run(mb, &op, 1);
	CU_ASSERT_EQUAL(op.status, IPSEC_CRYPTO_EAUTH);
	ipsec_crypto_key_wipe(&k);
}

static void test_cbc_sha256_kat(void)
{
	cbc_case(IPSEC_ALG_AES_CBC_128_SHA256, "2b7e151628aed2a6abf7158809cf4f3c",
		 "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e22229516"
		 "3ff1caa1681fac09120eca307586e1a7",
		 "711003785f314955ff00aa7eaabc96df");
	cbc_case(IPSEC_ALG_AES_CBC_256_SHA256, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		 "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461"
		 "b2eb05e2c39be9fcda6c19078c6a9d1b",
		 "e1bcfab72575e2e6bf3c295819d72914");
}

/* A full burst of every algorithm and many lengths (CBC ops are run in length order, not submission order). */
static void test_mixed_burst(void)
{
	static struct ipsec_crypto_key keys[IPSEC_ALG_COUNT];
	static uint8_t bufs[IPSEC_CRYPTO_BURST][2048], orig[IPSEC_CRYPTO_BURST][2048];
	static struct ipsec_crypto_op ops[IPSEC_CRYPTO_BURST];
	uint8_t key[36], auth[32];
	char err[128];
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)(i * 3 + 5);
	for (uint8_t a = 0; a < IPSEC_ALG_COUNT; a++)
		CU_ASSERT_EQUAL_FATAL(ipsec_crypto_key_init(&keys[a], a, key, ipsec_alg_key_len(a), auth,
							    ipsec_alg_auth_key_len(a), err, sizeof(err)),
				      0);
	srand(7);
	for (unsigned i = 0; i < IPSEC_CRYPTO_BURST; i++) {
		uint8_t a = (uint8_t)(i % IPSEC_ALG_COUNT);
		uint32_t len = 16 * (1 + (uint32_t)(rand() % 100));
		for (unsigned b = 0; b < sizeof(bufs[i]); b++)
			bufs[i][b] = (uint8_t)rand();
		memcpy(orig[i], bufs[i], sizeof(bufs[i]));
		ops[i] = (struct ipsec_crypto_op){.key = &keys[a], .alg = keys[a].alg, .aes_len = keys[a].aes_len, .buf = bufs[i], .cipher_off = 24, .cipher_len = len,
						  .auth_off = 8, .auth_len = len + 16, .icv = bufs[i] + 24 + len,
						  .encrypt = 1, .aad_len = 12};
		memset(ops[i].iv, (int)i, sizeof(ops[i].iv));
		memset(ops[i].aad, (int)i + 1, 12);
	}
	ipsec_crypto_run(mb, ops, IPSEC_CRYPTO_BURST);
	unsigned changed = 0;
	for (unsigned i = 0; i < IPSEC_CRYPTO_BURST; i++) {
		CU_ASSERT_EQUAL(ops[i].status, IPSEC_CRYPTO_OK);
		changed += memcmp(bufs[i] + 24, orig[i] + 24, ops[i].cipher_len) != 0;
		ops[i].encrypt = 0;
	}
	CU_ASSERT_EQUAL(changed, IPSEC_CRYPTO_BURST);
	bufs[5][30] ^= 4; /* one packet tampered with */
	ipsec_crypto_run(mb, ops, IPSEC_CRYPTO_BURST);
	for (unsigned i = 0; i < IPSEC_CRYPTO_BURST; i++) {
		CU_ASSERT_EQUAL(ops[i].status, i == 5 ? IPSEC_CRYPTO_EAUTH : IPSEC_CRYPTO_OK);
		if (i != 5)
			CU_ASSERT(memcmp(bufs[i] + 24, orig[i] + 24, ops[i].cipher_len) == 0);
	}
	for (uint8_t a = 0; a < IPSEC_ALG_COUNT; a++)
		ipsec_crypto_key_wipe(&keys[a]);
}

/*
 * One run mixing directions: CBC ops are run in groups of one direction and key size, each group's results must land
 * on its own ops. Odd ops decrypt what an earlier run encrypted; even ops encrypt a copy of the same plaintexts as a
 * separate all-encrypt run, which gives the expected ciphertext and ICV.
 */
static void test_mixed_directions(void)
{
	enum { N = 48 };
	static struct ipsec_crypto_key keys[2];
	static uint8_t plain[N][512], work[N][512], want[N][512];
	static struct ipsec_crypto_op ops[N], ref[N];
	uint8_t key[32], auth[32];
	char err[128];
	for (unsigned i = 0; i < 32; i++) {
		key[i] = (uint8_t)(i * 11 + 3);
		auth[i] = (uint8_t)(i * 5 + 9);
	}
	CU_ASSERT_EQUAL_FATAL(ipsec_crypto_key_init(&keys[0], IPSEC_ALG_AES_CBC_128_SHA256, key, 16, auth, 32, err,
						    sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ipsec_crypto_key_init(&keys[1], IPSEC_ALG_AES_CBC_256_SHA256, key, 32, auth, 32, err,
						    sizeof(err)), 0);
	srand(11);
	for (unsigned i = 0; i < N; i++) {
		uint32_t len = 16 * (1 + (uint32_t)(rand() % 25));
		for (unsigned b = 0; b < sizeof(plain[i]); b++)
			plain[i][b] = (uint8_t)rand();
		memcpy(want[i], plain[i], sizeof(plain[i]));
		ref[i] = (struct ipsec_crypto_op){.key = &keys[(i / 2) % 2], .alg = keys[(i / 2) % 2].alg,
						  .aes_len = keys[(i / 2) % 2].aes_len, .buf = want[i], .cipher_off = 24,
						  .cipher_len = len, .auth_off = 8, .auth_len = len + 16,
						  .icv = want[i] + 24 + len, .encrypt = 1};
		memset(ref[i].iv, (int)(i + 1), sizeof(ref[i].iv));
	}
	ipsec_crypto_run(mb, ref, N); /* want = every packet encrypted, ICV appended */
	for (unsigned i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(ref[i].status, IPSEC_CRYPTO_OK);
		memcpy(work[i], i % 2 ? want[i] : plain[i], sizeof(work[i]));
		ops[i] = ref[i];
		ops[i].buf = work[i];
		ops[i].icv = work[i] + 24 + ref[i].cipher_len;
		ops[i].encrypt = i % 2 == 0;
	}
	ipsec_crypto_run(mb, ops, N);
	for (unsigned i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(ops[i].status, IPSEC_CRYPTO_OK);
		size_t n = 24 + ref[i].cipher_len + (i % 2 ? 0 : IPSEC_ICV_LEN); /* decrypt leaves the received ICV */
		CU_ASSERT(memcmp(work[i], i % 2 ? plain[i] : want[i], n) == 0);
	}
	ipsec_crypto_key_wipe(&keys[0]);
	ipsec_crypto_key_wipe(&keys[1]);
}

static void test_key_checks(void)
{
	static struct ipsec_crypto_key k;
	uint8_t key[36] = {1}, auth[32] = {2};
	char err[160] = "";
	CU_ASSERT_EQUAL(ipsec_crypto_key_init(&k, IPSEC_ALG_AES_GCM_128, key, 16, NULL, 0, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "aes-gcm-128") != NULL);
	CU_ASSERT_EQUAL(ipsec_crypto_key_init(&k, IPSEC_ALG_AES_GCM_256, key, 36, auth, 32, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(ipsec_crypto_key_init(&k, IPSEC_ALG_AES_CBC_128_SHA256, key, 16, NULL, 0, err, sizeof(err)),
			-1);
	CU_ASSERT_EQUAL(ipsec_crypto_key_init(&k, IPSEC_ALG_AES_CBC_256_SHA256, key, 16, auth, 32, err, sizeof(err)),
			-1);
	CU_ASSERT_EQUAL(ipsec_crypto_key_init(&k, IPSEC_ALG_COUNT, key, 16, NULL, 0, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(ipsec_crypto_key_init(&k, IPSEC_ALG_AES_GCM_256, key, 36, NULL, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.aes_len, 32);
	CU_ASSERT_EQUAL(k.iv_len, 8);
	CU_ASSERT_EQUAL(k.align, 4);
	ipsec_crypto_key_wipe(&k);
	static const struct ipsec_crypto_key zero;
	CU_ASSERT(memcmp(&k, &zero, sizeof(k)) == 0);
}

/*
 * The loop-free key prefetch: for every span it is used on (1 to 256 bytes, any alignment) its five probes request
 * every cache line of the span and nothing past it. A span whose lines were not all requested would still encrypt
 * correctly, only slower with a thousand tunnels: this is where a wrong probe shows.
 */
static void test_span_probes(void)
{
	unsigned bad = 0;
	for (size_t off = 0; off < 64; off++) {
		for (size_t len = 1; len <= 256; len++) {
			size_t first = off / 64, last = (off + len - 1) / 64;
			bool seen[6] = {false};
			for (unsigned i = 0; i < 5; i++) {
				size_t at = ipsec_span256_probe(len, i);
				if (at >= len) {
					bad++;
					continue;
				}
				seen[(off + at) / 64 - first] = true;
			}
			for (size_t l = first; l <= last; l++)
				bad += !seen[l - first];
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* the spans ipsec_crypto.c requests: AES-128 and -256 round keys, GHASH powers (non-VAES) */
	CU_ASSERT_EQUAL(ipsec_span256_probe(176, 3), 175);
	CU_ASSERT_EQUAL(ipsec_span256_probe(240, 3), 192);
	CU_ASSERT_EQUAL(ipsec_span256_probe(256, 4), 255);
}

int main(void)
{
	mb = ipsec_crypto_mgr_create();
	if (mb == NULL) {
		fprintf(stderr, "no intel-ipsec-mb manager\n");
		return 1;
	}
	printf("intel-ipsec-mb %s, arch %s\n", imb_get_version_str(), ipsec_crypto_arch_name(mb));
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"AES-GCM-128 known answers (GCM spec TC2-4)", test_gcm128_kat},
		{"AES-GCM-256 known answers (GCM spec TC14-16)", test_gcm256_kat},
		{"HMAC-SHA-256 known answers (RFC 4231 TC1-5)", test_hmac_sha256_rfc4231},
		{"AES-CBC-128/256 (SP 800-38A) + HMAC-SHA-256-128", test_cbc_sha256_kat},
		{"a burst mixing algorithms and lengths", test_mixed_burst},
		{"a burst mixing directions and key sizes", test_mixed_directions},
		{"key length checks and wipe", test_key_checks},
		{"loop-free key prefetch reaches every line of its span", test_span_probes},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("ipsec crypto", NULL, NULL);
	for (unsigned i = 0; suite != NULL && i < RTE_DIM(tests); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	ipsec_crypto_mgr_free(mb);
	return failures == 0 ? 0 : 1;
}
