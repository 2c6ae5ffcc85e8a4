/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What many keys cost the crypto library alone: encryption of ESP-sized messages with intel-ipsec-mb, the calls
 * npsd's ipsec4_out makes (AES-GCM-128: the direct API, one message at a time; AES-128-CBC + HMAC-SHA-256-128: the
 * burst API, 128 messages a burst, cipher then hash), one key against many, the keys used in a shuffled even spread
 * as the bench's tunnels are. No router, no packet I/O: the floor under issue 7's "1000 tunnels at most 10 % slower
 * than one". Options:
 *   -a gcm,cbc     algorithms
 *   -k 1,1000      key counts (the first is the baseline of the ratio)
 *   -s 48,1424     message lengths in bytes (the ESP payload of a 46-byte inner packet, and of a 1420-byte one)
 *   -d 0,1         prefetch distances: request the key lines of the message d ahead (0: none); npsd uses 1
 *   -m 0,4096      KiB streamed alongside, 80 bytes a message (0: none), as net_pcap copies each stored frame of a
 *                  65,536-frame file: what evicts the keys in the bench's in-process mode
 *   -n 2000000     messages per measurement
 *   -r 5           measurements (median, min, max)
 * Output: one line per case, "alg=A keys=K len=L dist=D stream_kib=S cycles=median min max ratio=R" (TSC cycles per
 * message), R against the first key count of the same case (the key counts run in turns; R is the median of the
 * rounds' ratios). Pin it (taskset -c 1) and keep the sibling idle.
 * CBC: L is padded to whole blocks; the cipher covers a 16-byte IV block + L, the HMAC 8 + 16 + L bytes (ESP header,
 * IV, payload), as npsd lays them out; its keys are requested while the burst's jobs are laid out (as npsd does)
 * whatever distance -d gives beyond 0.
 */
#include <intel-ipsec-mb.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#define MAX_LIST 16
#define BUFS 128 /* messages in flight, as mbufs in a burst */
#define ORDER_LEN 65536
#define STREAM_STEP 80

static int parse_list(const char *s, long *out)
{
	int n = 0;
	char *copy = strdup(s), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t != NULL && n < MAX_LIST; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(t, &end, 10);
		if (*end != '\0' || v < 0) {
			free(copy);
			return -1;
		}
		out[n++] = v;
	}
	free(copy);
	return n;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The lines a message of len bytes reads of its key (the layout comment of nf/ipsec/ipsec_crypto.c). */
static void key_prefetch(const struct gcm_key_data *k, size_t len, int vaes)
{
	for (size_t off = 0; off < 11 * 16; off += 64)
		_mm_prefetch((const char *)k->expanded_keys + off, _MM_HINT_T0);
	const char *h = (const char *)&k->ghash_keys;
	size_t table = vaes ? sizeof(k->ghash_keys.vaes_avx512.shifted_hkey) : 256;
	size_t blocks = (len + 15) / 16 + 1;
	size_t span = vaes && blocks <= 8 ? blocks * 16 : table;
	const char *from = vaes && blocks <= 8 ? h + table - span : h;
	for (size_t off = 0; off < span + 63; off += 64)
		_mm_prefetch(from + (off < span ? off : span - 1), _MM_HINT_T0);
}

/* A CBC + HMAC key as npsd keeps it (struct ipsec_crypto_key): round keys of both directions, the HMAC states. */
struct cbc_key {
	alignas(64) uint8_t enc[240];
	uint8_t dec[240];
	uint8_t ipad[32];
	uint8_t opad[32];
};

struct run_cfg {
	IMB_MGR *mb;
	struct gcm_key_data *keys;
	struct cbc_key *cbc_keys;
	uint16_t *order; /* key of each message, ORDER_LEN of them, replayed */
	uint8_t (*bufs)[2048];
	const uint8_t *stream;
	size_t stream_len;
	size_t len;
	long dist;
	long msgs;
	int vaes;
};

static uint64_t run_once(const struct run_cfg *c)
{
	static uint8_t sink[128];
	uint8_t iv[12] = {0}, aad[8] = {0}, tag[16];
	size_t spos = 0;
	uint64_t t0 = __rdtsc();
	for (long i = 0; i < c->msgs; i++) {
		const struct gcm_key_data *k = &c->keys[c->order[i % ORDER_LEN]];
		if (c->dist > 0)
			key_prefetch(&c->keys[c->order[(i + c->dist) % ORDER_LEN]], c->len, c->vaes);
		if (c->stream_len) {
			memcpy(sink, c->stream + spos, STREAM_STEP);
			spos = spos + STREAM_STEP + STREAM_STEP > c->stream_len ? 0 : spos + STREAM_STEP;
		}
		uint8_t *p = c->bufs[i % BUFS];
		memcpy(iv, &i, sizeof(i) < sizeof(iv) ? sizeof(i) : sizeof(iv));
		struct gcm_context_data ctx;
		IMB_AES128_GCM_ENC(c->mb, k, &ctx, p, p, c->len, iv, aad, sizeof(aad), tag, 16);
		p[0] ^= tag[0]; /* the result is used */
	}
	return __rdtsc() - t0;
}

static void cbc_key_prefetch(const struct cbc_key *k)
{
	for (size_t off = 0; off < 11 * 16; off += 64)
		_mm_prefetch((const char *)k->enc + off, _MM_HINT_T0);
	_mm_prefetch((const char *)k->ipad, _MM_HINT_T0);
	_mm_prefetch((const char *)k->opad + sizeof(k->opad) - 1, _MM_HINT_T0);
}

#define CBC_BURST 128

static uint64_t run_once_cbc(const struct run_cfg *c)
{
	static IMB_JOB jobs[CBC_BURST];
	static uint8_t tags[CBC_BURST][16];
	static uint8_t sink[128];
	uint8_t iv[16] = {0};
	size_t plen = (c->len + 15) / 16 * 16, spos = 0;
	uint64_t t0 = __rdtsc();
	for (long i = 0; i < c->msgs; i += CBC_BURST) {
		unsigned n = c->msgs - i < CBC_BURST ? (unsigned)(c->msgs - i) : CBC_BURST;
		for (unsigned j = 0; j < n; j++) {
			const struct cbc_key *k = &c->cbc_keys[c->order[(i + j) % ORDER_LEN]];
			if (c->dist > 0 && (j == 0 || k != &c->cbc_keys[c->order[(i + j - 1) % ORDER_LEN]]))
				cbc_key_prefetch(k);
			if (c->stream_len) {
				memcpy(sink, c->stream + spos, STREAM_STEP);
				spos = spos + STREAM_STEP + STREAM_STEP > c->stream_len ? 0 : spos + STREAM_STEP;
			}
			IMB_JOB *job = &jobs[j];
			uint8_t *p = c->bufs[(i + j) % BUFS];
			job->enc_keys = k->enc;
			job->dec_keys = k->dec;
			job->key_len_in_bytes = 16;
			job->src = p;
			job->dst = p + 8;
			job->cipher_start_src_offset_in_bytes = 8;
			job->msg_len_to_cipher_in_bytes = 16 + plen;
			job->hash_start_src_offset_in_bytes = 0;
			job->msg_len_to_hash_in_bytes = 8 + 16 + plen;
			job->iv = iv;
			job->iv_len_in_bytes = 16;
			job->auth_tag_output = tags[j];
			job->auth_tag_output_len_in_bytes = 16;
			job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
			job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
			job->cipher_mode = IMB_CIPHER_CBC;
			job->hash_alg = IMB_AUTH_HMAC_SHA_256;
		}
		uint32_t done = IMB_SUBMIT_CIPHER_BURST_NOCHECK(c->mb, jobs, n, IMB_CIPHER_CBC, IMB_DIR_ENCRYPT,
								IMB_KEY_128_BYTES);
		done += IMB_SUBMIT_HASH_BURST_NOCHECK(c->mb, jobs, n, IMB_AUTH_HMAC_SHA_256);
		if (done != 2 * n) {
			fprintf(stderr, "imb_keys: a CBC burst failed: %s\n", imb_get_strerror(imb_get_errno(c->mb)));
			exit(1);
		}
	}
	return __rdtsc() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 64

/*
 * One case (algorithm, length, distance, stream) at every key count, and its lines of output. The key counts take
 * turns round by round, so that a host whose speed drifts over seconds slows them alike; the ratio is the median of
 * the rounds' ratios. orders: ORDER_LEN entries per key count.
 */
static void measure_case(struct run_cfg *c, bool gcm, const long *keys_l, int nk, long rounds, uint16_t *orders,
			 uint64_t *seed)
{
	uint64_t (*run)(const struct run_cfg *) = gcm ? run_once : run_once_cbc;
	static uint64_t t[MAX_LIST][MAX_ROUNDS];
	long r = rounds < MAX_ROUNDS ? rounds : MAX_ROUNDS;
	for (int k = 0; k < nk; k++) {
		/* an even spread of keys_l[k] keys, shuffled (Fisher-Yates) */
		uint16_t *order = orders + (size_t)k * ORDER_LEN;
		for (long i = 0; i < ORDER_LEN; i++)
			order[i] = (uint16_t)(i % keys_l[k]);
		for (long i = ORDER_LEN - 1; i > 0; i--) {
			long j = (long)(xorshift(seed) % (uint64_t)(i + 1));
			uint16_t x = order[i];
			order[i] = order[j];
			order[j] = x;
		}
		c->order = order;
		run(c); /* warm */
	}
	for (long i = 0; i < r; i++)
		for (int k = 0; k < nk; k++) {
			c->order = orders + (size_t)k * ORDER_LEN;
			t[k][i] = run(c);
		}
	for (int k = 0; k < nk; k++) {
		double ratio[MAX_ROUNDS];
		for (long i = 0; i < r; i++)
			ratio[i] = (double)t[k][i] / (double)t[0][i];
		qsort(ratio, (size_t)r, sizeof(ratio[0]), cmp_double);
		qsort(t[k], (size_t)r, sizeof(t[k][0]), cmp_u64);
		printf("alg=%s keys=%ld len=%zu dist=%ld stream_kib=%zu cycles=%.1f %.1f %.1f ratio=%.3f\n",
		       gcm ? "gcm" : "cbc", keys_l[k], c->len, c->dist, c->stream_len / 1024,
		       (double)t[k][r / 2] / (double)c->msgs, (double)t[k][0] / (double)c->msgs,
		       (double)t[k][r - 1] / (double)c->msgs, ratio[r / 2]);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	long keys_l[MAX_LIST] = {1, 1000}, lens[MAX_LIST] = {48, 1424}, dists[MAX_LIST] = {0, 1},
	     streams[MAX_LIST] = {0, 4096};
	int nk = 2, nl = 2, nd = 2, ns = 2;
	long msgs = 2000000, rounds = 5;
	int do_gcm = 1, do_cbc = 1;
	int opt;
	while ((opt = getopt(argc, argv, "a:k:s:d:m:n:r:")) != -1) {
		if (opt == 'a') {
			do_gcm = strstr(optarg, "gcm") != NULL;
			do_cbc = strstr(optarg, "cbc") != NULL;
			if (!do_gcm && !do_cbc) {
				fprintf(stderr, "imb_keys: -a wants gcm, cbc or gcm,cbc\n");
				return 2;
			}
			continue;
		}
		int *n = opt == 'k' ? &nk : opt == 's' ? &nl : opt == 'd' ? &nd : opt == 'm' ? &ns : NULL;
		long *l = opt == 'k' ? keys_l : opt == 's' ? lens : opt == 'd' ? dists : opt == 'm' ? streams : NULL;
		if (n != NULL) {
			*n = parse_list(optarg, l);
			if (*n <= 0) {
				fprintf(stderr, "imb_keys: -%c wants a list of numbers, got '%s'\n", opt, optarg);
				return 2;
			}
		} else if (opt == 'n' || opt == 'r') {
			long v = strtol(optarg, NULL, 10);
			if (v <= 0) {
				fprintf(stderr, "imb_keys: -%c wants a positive number\n", opt);
				return 2;
			}
			*(opt == 'n' ? &msgs : &rounds) = v;
		} else {
			fprintf(stderr, "usage: imb_keys [-a gcm,cbc] [-k keys,..] [-s len,..] [-d dist,..] "
					"[-m stream_kib,..] [-n msgs] [-r rounds]\n");
			return 2;
		}
	}
	for (int i = 0; i < nl; i++)
		if (lens[i] < 1 || lens[i] > 2000) {
			fprintf(stderr, "imb_keys: lengths run from 1 to 2000 bytes\n");
			return 2;
		}
	long max_keys = 0;
	for (int i = 0; i < nk; i++) {
		if (keys_l[i] < 1 || keys_l[i] > 65535) {
			fprintf(stderr, "imb_keys: key counts run from 1 to 65535\n");
			return 2;
		}
		max_keys = keys_l[i] > max_keys ? keys_l[i] : max_keys;
	}
	long max_stream = 0;
	for (int i = 0; i < ns; i++)
		max_stream = streams[i] > max_stream ? streams[i] : max_stream;

	IMB_MGR *mb = alloc_mb_mgr(0);
	if (mb == NULL) {
		fprintf(stderr, "imb_keys: alloc_mb_mgr failed\n");
		return 1;
	}
	init_mb_mgr_auto(mb, NULL);
	if (imb_get_errno(mb) != 0) {
		fprintf(stderr, "imb_keys: init_mb_mgr_auto: %s\n", imb_get_strerror(imb_get_errno(mb)));
		return 1;
	}
	int vaes = mb->used_arch == IMB_ARCH_AVX512 && (mb->features & IMB_FEATURE_VAES) != 0;
	struct gcm_key_data *keys = aligned_alloc(64, sizeof(*keys) * (size_t)max_keys);
	struct cbc_key *cbc_keys = aligned_alloc(64, sizeof(*cbc_keys) * (size_t)max_keys);
	uint16_t *orders = malloc(sizeof(*orders) * ORDER_LEN * (size_t)nk);
	uint8_t(*bufs)[2048] = aligned_alloc(64, sizeof(*bufs) * BUFS);
	uint8_t *stream = max_stream ? aligned_alloc(64, (size_t)max_stream * 1024) : NULL;
	if (keys == NULL || cbc_keys == NULL || orders == NULL || bufs == NULL || (max_stream && stream == NULL)) {
		fprintf(stderr, "imb_keys: out of memory\n");
		return 1;
	}
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (long i = 0; i < max_keys; i++) {
		uint8_t key[16];
		for (int b = 0; b < 16; b++)
			key[b] = (uint8_t)xorshift(&seed);
		IMB_AES128_GCM_PRE(mb, key, &keys[i]);
		IMB_AES_KEYEXP_128(mb, key, cbc_keys[i].enc, cbc_keys[i].dec);
		/* any 32 bytes are an HMAC state: the cost does not depend on them */
		for (int b = 0; b < 32; b++) {
			cbc_keys[i].ipad[b] = (uint8_t)xorshift(&seed);
			cbc_keys[i].opad[b] = (uint8_t)xorshift(&seed);
		}
	}
	memset(bufs, 0x5a, sizeof(*bufs) * BUFS);
	if (stream)
		memset(stream, 0xa5, (size_t)max_stream * 1024);
	printf("# intel-ipsec-mb %s, arch %s%s, gcm_key_data %zu bytes, %ld messages "
	       "x %ld rounds\n",
	       imb_get_version_str(),
	       mb->used_arch == IMB_ARCH_AVX512 ? "avx512" : mb->used_arch == IMB_ARCH_AVX2 ? "avx2" : "other",
	       vaes ? "+vaes" : "", sizeof(*keys), msgs, rounds);

	struct run_cfg c = {.mb = mb, .keys = keys, .cbc_keys = cbc_keys, .order = orders, .bufs = bufs,
			    .stream = stream, .msgs = msgs, .vaes = vaes};
	for (int a = 0; a < 2; a++) {
		if (!(a == 0 ? do_gcm : do_cbc))
			continue;
		for (int s = 0; s < nl; s++)
			for (int d = 0; d < nd; d++)
				for (int m = 0; m < ns; m++) {
					c.len = (size_t)lens[s];
					c.dist = dists[d];
					c.stream_len = (size_t)streams[m] * 1024;
					measure_case(&c, a == 0, keys_l, nk, rounds, orders, &seed);
				}
	}
	free(stream);
	free(bufs);
	free(orders);
	free(cbc_keys);
	free(keys);
	free_mb_mgr(mb);
	return 0;
}
