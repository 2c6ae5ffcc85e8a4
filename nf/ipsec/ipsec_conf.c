/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading and checking the "ipsec" section, and the model's free/copy/compare. Syntax (every key optional unless
 * marked required; "N..M" is the accepted range):
 *
 *   ipsec: {
 *     max_sas = 16384;               # SAs of the whole gateway (sizes the SPI table at boot); 16..1048576
 *     reassembly_max = 1024;         # outer ESP / ESP-in-UDP datagrams reassembled at once, per worker (fixed at
 *                                    # boot); 0..65536, 0: outer fragments dropped (ipsec_fragment)
 *     reassembly_timeout_ms = 2000;  # an outer datagram still incomplete after this is dropped; 1..60000
 *     tunnels = (
 *       { interface = "site1";       # required: a core interface of kind "ipsec", one tunnel each
 *         transport_vrf = "underlay";  # required: VRF where the outer (ESP) packets are routed and arrive
 *         local = "192.0.2.1";       # required: the gateway's outer address (an address of transport_vrf)
 *         remote = "198.51.100.2";   # required: the peer's outer address, same family as local
 *         udp_encap = false;         # NAT traversal, RFC 3948: ESP in UDP from port 4500
 *         remote_port = 4500;        # UDP destination port with udp_encap; 1..65535
 *         follow_peer = false;       # send to the outer source of authenticated inbound packets (roaming)
 *         mss_clamp = 0;             # TCP MSS clamped on SYNs both ways; 0 (off) or 536..9000
 *         sas = (                    # static keying (labs, tests); the controller uses `ipsec sa add`
 *           { spi = 0x1001;          # required: 256..4294967295
 *             direction = "in";      # required: "in" | "out"
 *             alg = "aes-gcm-128";   # required: "aes-gcm-128" | "aes-gcm-256" | "aes-cbc-128-sha256" |
 *                                    # "aes-cbc-256-sha256"
 *             key = "00112233...";   # required, hex: GCM: AES key || 4-byte salt (20 or 36 bytes); CBC: 16 or 32
 *             auth_key = "...";      # CBC only, required there: 32-byte HMAC-SHA-256 key, hex
 *             esn = false;           # extended sequence numbers (RFC 4304)
 *             replay_window = 1024;  # inbound anti-replay window in packets; 32..4096, or 0: anti-replay off
 *                                    # (RFC 4303 3.4.3; not with esn)
 *             soft_bytes = 0; hard_bytes = 0; soft_packets = 0; hard_packets = 0;   # lifetimes, 0 = none
 *           } );
 *       } );
 *   };
 *
 * Checks and their reasons:
 * - local and remote are unicast addresses of one family (the tunnel's outer family), and differ;
 * - an interface carries one tunnel, and must be an interface of kind "ipsec" of the interfaces section;
 * - inbound SPIs are unique over the whole gateway (an arriving ESP packet names its SA by SPI alone), outbound
 *   SPIs unique within their tunnel; at most 4 inbound and 4 outbound SAs per tunnel (the last outbound one listed
 *   is the active one);
 * - a soft lifetime is below its hard one when both are set (the soft event must come first).
 * Key material is never quoted in a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"
#include "nf/ipsec/ipsec_conf.h"

/* ---- algorithms, directions, hex ---- */

struct alg_info {
	const char *name;
	uint8_t key_len, auth_key_len;
};

static const struct alg_info algs[IPSEC_ALG_COUNT] = {
	[IPSEC_ALG_AES_GCM_128] = {"aes-gcm-128", 20, 0},
	[IPSEC_ALG_AES_GCM_256] = {"aes-gcm-256", 36, 0},
	[IPSEC_ALG_AES_CBC_128_SHA256] = {"aes-cbc-128-sha256", 16, IPSEC_CONF_AUTH_KEY_LEN},
	[IPSEC_ALG_AES_CBC_256_SHA256] = {"aes-cbc-256-sha256", 32, IPSEC_CONF_AUTH_KEY_LEN},
};

const char *ipsec_alg_name(uint8_t alg)
{
	return alg < IPSEC_ALG_COUNT ? algs[alg].name : "?";
}

int ipsec_alg_parse(const char *name)
{
	for (int i = 0; i < IPSEC_ALG_COUNT; i++)
		if (strcmp(algs[i].name, name) == 0)
			return i;
	return -1;
}

unsigned ipsec_alg_key_len(uint8_t alg)
{
	return alg < IPSEC_ALG_COUNT ? algs[alg].key_len : 0;
}

unsigned ipsec_alg_auth_key_len(uint8_t alg)
{
	return alg < IPSEC_ALG_COUNT ? algs[alg].auth_key_len : 0;
}

const char *ipsec_alg_names(void)
{
	return "aes-gcm-128, aes-gcm-256, aes-cbc-128-sha256, aes-cbc-256-sha256";
}

const char *ipsec_dir_name(uint8_t dir)
{
	return dir == IPSEC_DIR_IN ? "in" : dir == IPSEC_DIR_OUT ? "out" : "?";
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ipsec_hex_parse(const char *text, uint8_t *out, size_t max, char *why, size_t why_len)
{
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		text += 2;
	size_t n = strlen(text);
	if (n == 0) {
		snprintf(why, why_len, "no hex digits");
		return -1;
	}
	if (n % 2 != 0) {
		snprintf(why, why_len, "%zu hex digits (expected an even number: two per byte)", n);
		return -1;
	}
	if (n / 2 > max) {
		snprintf(why, why_len, "%zu bytes (expected at most %zu)", n / 2, max);
		return -1;
	}
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(why, why_len, "character %zu is not a hex digit (expected 0-9, a-f)",
				 i + 1 + (size_t)(hi >= 0));
			return -1;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int ipsec_sa_conf_check(const struct ipsec_sa_conf *sa, char *why, size_t why_len)
{
	if (sa->alg >= IPSEC_ALG_COUNT) {
		snprintf(why, why_len, "unknown algorithm (expected one of %s)", ipsec_alg_names());
		return -1;
	}
	const struct alg_info *a = &algs[sa->alg];
	if (sa->spi < IPSEC_CONF_SPI_MIN) {
		snprintf(why, why_len, "spi %u is reserved (expected %u..4294967295)", sa->spi, IPSEC_CONF_SPI_MIN);
		return -1;
	}
	if (sa->dir != IPSEC_DIR_IN && sa->dir != IPSEC_DIR_OUT) {
		snprintf(why, why_len, "bad direction (expected in or out)");
		return -1;
	}
	if (sa->key_len != a->key_len) {
		snprintf(why, why_len, "key is %u bytes (expected %u for %s%s)", sa->key_len, a->key_len, a->name,
			 a->auth_key_len == 0 ? ": the AES key and the 4-byte salt, RFC 4106" : "");
		return -1;
	}
	if (a->auth_key_len == 0 && sa->auth_key_len != 0) {
		snprintf(why, why_len, "auth key given for %s (expected none: GCM authenticates with its own key)",
			 a->name);
		return -1;
	}
	if (a->auth_key_len != 0 && sa->auth_key_len != a->auth_key_len) {
		if (sa->auth_key_len == 0)
			snprintf(why, why_len, "no auth key (expected a %u-byte HMAC-SHA-256 key for %s)",
				 a->auth_key_len, a->name);
		else
			snprintf(why, why_len, "auth key is %u bytes (expected %u for %s: HMAC-SHA-256, RFC 4868)",
				 sa->auth_key_len, a->auth_key_len, a->name);
		return -1;
	}
	if (sa->replay_window != 0 &&
	    (sa->replay_window < IPSEC_CONF_WINDOW_MIN || sa->replay_window > IPSEC_CONF_WINDOW_MAX)) {
		snprintf(why, why_len,
			 "replay window %u is out of range (expected 0 (anti-replay off) or %u..%u packets)",
			 sa->replay_window, IPSEC_CONF_WINDOW_MIN, IPSEC_CONF_WINDOW_MAX);
		return -1;
	}
	if (sa->replay_window == 0 && sa->esn && sa->dir == IPSEC_DIR_IN) {
		snprintf(why, why_len, "replay window 0 (anti-replay off) with esn (expected esn off, or a window: the "
			 "high half of extended sequence numbers is inferred from the window)");
		return -1;
	}
	if (sa->hard_bytes != 0 && sa->soft_bytes >= sa->hard_bytes) {
		snprintf(why, why_len, "soft_bytes %llu is not below hard_bytes %llu (expected the soft lifetime "
			 "first: it asks for a rekey before the hard one stops the SA)",
			 (unsigned long long)sa->soft_bytes, (unsigned long long)sa->hard_bytes);
		return -1;
	}
	if (sa->hard_packets != 0 && sa->soft_packets >= sa->hard_packets) {
		snprintf(why, why_len, "soft_packets %llu is not below hard_packets %llu (expected the soft lifetime "
			 "first: it asks for a rekey before the hard one stops the SA)",
			 (unsigned long long)sa->soft_packets, (unsigned long long)sa->hard_packets);
		return -1;
	}
	return 0;
}

void ipsec_sa_conf_wipe(struct ipsec_sa_conf *sa)
{
	/* volatile: the stores must happen even though the memory is freed right after */
	volatile uint8_t *k = sa->key, *ak = sa->auth_key;
	for (size_t i = 0; i < sizeof(sa->key); i++)
		k[i] = 0;
	for (size_t i = 0; i < sizeof(sa->auth_key); i++)
		ak[i] = 0;
	sa->key_len = sa->auth_key_len = 0;
}

/* ---- the reader ---- */

struct ipsec_reader {
	struct conf_ctx ctx; /* lib/conf's error reporting: "FILE:LINE: path: message" into err */
	char err[CONF_ERR_MAX];
	const struct npsgw_conf *core; /* NULL: interface and VRF names unchecked */
};

/* Why a may not be a tunnel endpoint, NULL when it may. */
static const char *not_unicast(const struct addr *a)
{
	static const uint8_t zero[16];
	if (a->family == 4) {
		uint8_t b0 = a->bytes[0];
		if (memcmp(a->bytes, zero, 4) == 0)
			return "the unspecified address";
		if (b0 == 127)
			return "a loopback address";
		if (b0 >= 224 && b0 <= 239)
			return "multicast";
		if (b0 >= 240)
			return "reserved or broadcast";
		if (b0 == 0)
			return "in 0.0.0.0/8";
		return NULL;
	}
	static const uint8_t loopback[16] = {[15] = 1};
	if (memcmp(a->bytes, zero, 16) == 0)
		return "the unspecified address";
	if (memcmp(a->bytes, loopback, 16) == 0)
		return "the loopback address";
	if (a->bytes[0] == 0xff)
		return "multicast";
	return NULL;
}

static int read_endpoint(struct ipsec_reader *r, const config_setting_t *g, const char *key, struct addr *out)
{
	struct conf_ctx *ctx = &r->ctx;
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return conf_fail_missing(ctx, g, key, "an IPv4 or IPv6 address such as \"192.0.2.1\"");
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(ctx, s, "an address string such as \"192.0.2.1\" or \"2001:db8::1\"");
	const char *text = config_setting_get_string(s);
	if (addr_parse(text, out) < 0)
		return conf_fail(ctx, s, "\"%.64s\" is not an address (expected an IPv4 or IPv6 address)", text);
	const char *why = not_unicast(out);
	if (why != NULL) {
		char buf[ADDR_STR_MAX];
		return conf_fail(ctx, s, "%s is %s (expected a unicast address)", addr_fmt(out, buf, sizeof(buf)), why);
	}
	return 0;
}

/*
 * An integer that may be written in hex up to 0xffffffff: libconfig keeps a hex literal above INT32_MAX as a
 * negative 32-bit int, which is read back as its unsigned value here.
 */
static int read_u32_hex(struct ipsec_reader *r, const config_setting_t *g, const char *key, uint32_t min,
			uint32_t *out)
{
	struct conf_ctx *ctx = &r->ctx;
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return 0;
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return conf_fail_type(ctx, s, "an integer such as 0x1001");
	long long v = config_setting_get_int64(s);
	if (type == CONFIG_TYPE_INT && v < 0 && config_setting_get_format(s) == CONFIG_FORMAT_HEX)
		v = (long long)(uint32_t)v;
	if (v < (long long)min || v > (long long)UINT32_MAX)
		return conf_fail(ctx, s, "%lld is out of range (expected %u..4294967295)", v, min);
	*out = (uint32_t)v;
	return 1;
}

static int read_key(struct ipsec_reader *r, const config_setting_t *g, const char *key, uint8_t *out, size_t max,
		    uint8_t *len)
{
	struct conf_ctx *ctx = &r->ctx;
	const config_setting_t *s = config_setting_get_member(g, key);
	char why[128];
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail_type(ctx, s, "a hex string, two digits per byte");
	int n = ipsec_hex_parse(config_setting_get_string(s), out, max, why, sizeof(why));
	if (n < 0)
		return conf_fail(ctx, s, "bad hex key: %s", why);
	*len = (uint8_t)n;
	return 1;
}

static const char *const sa_keys[] = {"spi",	      "direction",    "alg",	      "key",	    "auth_key",
				      "esn",	      "replay_window", "soft_bytes",   "hard_bytes", "soft_packets",
				      "hard_packets", NULL};

/* Where the SA's problem is, for a message: the key naming the offending part. */
static const char *sa_problem_key(const struct ipsec_sa_conf *sa, const char *why)
{
	if (strncmp(why, "key ", 4) == 0)
		return "key";
	if (strncmp(why, "auth key", 8) == 0 || strncmp(why, "no auth key", 11) == 0)
		return "auth_key";
	if (strncmp(why, "replay", 6) == 0)
		return "replay_window";
	if (strncmp(why, "soft_bytes", 10) == 0)
		return "soft_bytes";
	if (strncmp(why, "soft_packets", 12) == 0)
		return "soft_packets";
	(void)sa;
	return NULL;
}

static int read_sa(struct ipsec_reader *r, const config_setting_t *g, struct ipsec_sa_conf *sa)
{
	struct conf_ctx *ctx = &r->ctx;
	static const char *const dirs[] = {"in", "out"};
	*sa = (struct ipsec_sa_conf){.replay_window = IPSEC_CONF_WINDOW_DEFAULT};
	if (!config_setting_is_group(g))
		return conf_fail_type(ctx, g, "an SA group { spi = ...; direction = ...; ... }");
	if (conf_check_keys(ctx, g, sa_keys) < 0)
		return -1;
	int rc = read_u32_hex(r, g, "spi", IPSEC_CONF_SPI_MIN, &sa->spi);
	if (rc == 0)
		return conf_fail_missing(ctx, g, "spi", "an integer 256..4294967295 such as 0x1001");
	if (rc < 0)
		return -1;
	rc = conf_read_choice(ctx, g, "direction", dirs, 2, &sa->dir);
	if (rc == 0)
		return conf_fail_missing(ctx, g, "direction", "\"in\" or \"out\"");
	if (rc < 0)
		return -1;
	const config_setting_t *as = config_setting_get_member(g, "alg");
	if (as == NULL)
		return conf_fail_missing(ctx, g, "alg", ipsec_alg_names());
	if (config_setting_type(as) != CONFIG_TYPE_STRING)
		return conf_fail_type(ctx, as, "an algorithm name string");
	int alg = ipsec_alg_parse(config_setting_get_string(as));
	if (alg < 0)
		return conf_fail(ctx, as, "unknown algorithm \"%.32s\" (expected one of %s)",
				 config_setting_get_string(as), ipsec_alg_names());
	sa->alg = (uint8_t)alg;
	rc = read_key(r, g, "key", sa->key, sizeof(sa->key), &sa->key_len);
	if (rc == 0)
		return conf_fail_missing(ctx, g, "key", "a hex string");
	if (rc < 0 || read_key(r, g, "auth_key", sa->auth_key, sizeof(sa->auth_key), &sa->auth_key_len) < 0 ||
	    conf_read_bool(ctx, g, "esn", &sa->esn) < 0 ||
	    conf_read_u32(ctx, g, "replay_window", 0, IPSEC_CONF_WINDOW_MAX, &sa->replay_window) <
		    0 ||
	    conf_read_uint(ctx, g, "soft_bytes", 0, UINT64_MAX >> 1, &sa->soft_bytes) < 0 ||
	    conf_read_uint(ctx, g, "hard_bytes", 0, UINT64_MAX >> 1, &sa->hard_bytes) < 0 ||
	    conf_read_uint(ctx, g, "soft_packets", 0, UINT64_MAX >> 1, &sa->soft_packets) < 0 ||
	    conf_read_uint(ctx, g, "hard_packets", 0, UINT64_MAX >> 1, &sa->hard_packets) < 0)
		return -1;
	char why[192];
	if (ipsec_sa_conf_check(sa, why, sizeof(why)) < 0) {
		const char *k = sa_problem_key(sa, why);
		const config_setting_t *at = k != NULL ? config_setting_get_member(g, k) : NULL;
		return conf_fail(ctx, at != NULL ? at : g, "%s", why);
	}
	return 0;
}

/* The SA of c's tunnels (all of them before tunnel t, and t's first n) with this inbound SPI, or NULL. */
static const struct ipsec_sa_conf *inbound_spi_owner(const struct ipsec_conf *c, size_t t, size_t n, uint32_t spi,
						      size_t *owner)
{
	for (size_t i = 0; i <= t; i++) {
		const struct ipsec_tunnel_conf *tc = &c->tunnels[i];
		size_t count = i == t ? n : tc->n_sas;
		for (size_t k = 0; k < count; k++)
			if (tc->sas[k].dir == IPSEC_DIR_IN && tc->sas[k].spi == spi) {
				*owner = i;
				return &tc->sas[k];
			}
	}
	return NULL;
}

static int read_sas(struct ipsec_reader *r, const config_setting_t *g, struct ipsec_conf *c, size_t t)
{
	struct conf_ctx *ctx = &r->ctx;
	struct ipsec_tunnel_conf *tc = &c->tunnels[t];
	const config_setting_t *list = config_setting_get_member(g, "sas");
	if (list == NULL)
		return 0;
	if (!config_setting_is_list(list) && !(config_setting_is_array(list) && config_setting_length(list) == 0))
		return conf_fail_type(ctx, list, "a list of SA groups ( { ... }, ... )");
	size_t count = (size_t)config_setting_length(list);
	tc->sas = calloc(count > 0 ? count : 1, sizeof(*tc->sas));
	if (tc->sas == NULL)
		return conf_fail_nomem(ctx);
	unsigned n_in = 0, n_out = 0;
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		struct ipsec_sa_conf *sa = &tc->sas[i];
		tc->n_sas = i + 1; /* counted first: a half-read SA is wiped and freed with the rest */
		if (read_sa(r, e, sa) < 0)
			return -1;
		const config_setting_t *spi_at = config_setting_get_member(e, "spi");
		if (sa->dir == IPSEC_DIR_IN) {
			size_t owner;
			if (inbound_spi_owner(c, t, i, sa->spi, &owner) != NULL)
				return conf_fail(ctx, spi_at,
						 "duplicate inbound spi 0x%x, already an SA of tunnel %s (expected "
						 "inbound SPIs unique over the gateway: an ESP packet names its SA by "
						 "SPI alone)",
						 sa->spi, c->tunnels[owner].interface);
			if (++n_in > IPSEC_CONF_SA_IN_MAX)
				return conf_fail(ctx, e, "more than %d inbound SAs (expected at most %d per tunnel)",
						 IPSEC_CONF_SA_IN_MAX, IPSEC_CONF_SA_IN_MAX);
		} else {
			for (size_t k = 0; k < i; k++)
				if (tc->sas[k].dir == IPSEC_DIR_OUT && tc->sas[k].spi == sa->spi)
					return conf_fail(ctx, spi_at, "duplicate outbound spi 0x%x in this tunnel "
							 "(expected outbound SPIs unique per tunnel)", sa->spi);
			if (++n_out > IPSEC_CONF_SA_OUT_MAX)
				return conf_fail(ctx, e,
						 "more than %d outbound SAs (expected at most %d per tunnel: the last "
						 "one listed is active)", IPSEC_CONF_SA_OUT_MAX, IPSEC_CONF_SA_OUT_MAX);
		}
	}
	return 0;
}

/* The interface must be declared by the core and be of kind "ipsec" (when the core model is known). */
static int check_interface(struct ipsec_reader *r, const config_setting_t *s, const char *name)
{
	if (r->core == NULL)
		return 0;
	const struct conf_interface *ifc = conf_find_interface(r->core, name);
	if (ifc == NULL)
		return conf_fail(&r->ctx, s, "unknown interface %s (expected an interface of kind \"ipsec\" from the "
				 "interfaces section)", name);
	if (strcmp(ifc->kind, "ipsec") != 0)
		return conf_fail(&r->ctx, s, "interface %s is %s%s%s (expected an interface of kind \"ipsec\": "
				 "{ name = \"%s\"; kind = \"ipsec\"; vrf = ...; })", name,
				 ifc->kind[0] != '\0' ? "of kind " : "a port interface on device ",
				 ifc->kind[0] != '\0' ? ifc->kind : ifc->device, "", name);
	return 0;
}

static const char *const tunnel_keys[] = {"interface",	 "transport_vrf", "local",	"remote", "udp_encap",
					  "remote_port", "follow_peer",	  "mss_clamp", "sas",	 NULL};

static int read_tunnel(struct ipsec_reader *r, const config_setting_t *g, struct ipsec_conf *c, size_t t)
{
	struct conf_ctx *ctx = &r->ctx;
	struct ipsec_tunnel_conf *tc = &c->tunnels[t];
	tc->remote_port = IPSEC_CONF_NATT_PORT;
	if (!config_setting_is_group(g))
		return conf_fail_type(ctx, g, "a tunnel group { interface = ...; ... }");
	if (conf_check_keys(ctx, g, tunnel_keys) < 0 || conf_read_name_required(ctx, g, "interface", tc->interface) < 0)
		return -1;
	const config_setting_t *is = config_setting_get_member(g, "interface");
	for (size_t i = 0; i < t; i++)
		if (strcmp(c->tunnels[i].interface, tc->interface) == 0)
			return conf_fail(ctx, is,
					 "interface %s already has a tunnel, tunnels[%zu] (expected one tunnel per "
					 "interface)", tc->interface, i);
	if (check_interface(r, is, tc->interface) < 0 ||
	    conf_read_vrf_required(ctx, r->core, g, "transport_vrf", tc->transport_vrf) < 0 ||
	    read_endpoint(r, g, "local", &tc->local) < 0 || read_endpoint(r, g, "remote", &tc->remote) < 0)
		return -1;
	char lb[ADDR_STR_MAX], rb[ADDR_STR_MAX];
	addr_fmt(&tc->local, lb, sizeof(lb));
	addr_fmt(&tc->remote, rb, sizeof(rb));
	if (tc->local.family != tc->remote.family)
		return conf_fail(ctx, config_setting_get_member(g, "remote"),
				 "remote %s is IPv%u but local %s is IPv%u (expected both outer addresses of one "
				 "family)",
				 rb, tc->remote.family, lb, tc->local.family);
	if (addr_equal(&tc->local, &tc->remote))
		return conf_fail(ctx, config_setting_get_member(g, "remote"), "remote %s is the local address "
				 "(expected the peer's address)", rb);
	uint16_t mss = 0;
	if (conf_read_bool(ctx, g, "udp_encap", &tc->udp_encap) < 0 ||
	    conf_read_u16(ctx, g, "remote_port", 1, 65535, &tc->remote_port) < 0 ||
	    conf_read_bool(ctx, g, "follow_peer", &tc->follow_peer) < 0 ||
	    conf_read_u16(ctx, g, "mss_clamp", 0, 65535, &mss) < 0)
		return -1;
	if (mss != 0 && (mss < IPSEC_CONF_MSS_MIN || mss > IPSEC_CONF_MSS_MAX))
		return conf_fail(ctx, config_setting_get_member(g, "mss_clamp"),
				 "%u is out of range (expected 0 (off) or %u..%u)", mss, IPSEC_CONF_MSS_MIN,
				 IPSEC_CONF_MSS_MAX);
	tc->mss_clamp = mss;
	return read_sas(r, g, c, t);
}

static const char *const ipsec_keys[] = {"max_sas", "reassembly_max", "reassembly_timeout_ms", "tunnels", NULL};

static int read_ipsec(struct ipsec_reader *r, const config_setting_t *s, struct ipsec_conf *c)
{
	struct conf_ctx *ctx = &r->ctx;
	if (!config_setting_is_group(s))
		return conf_fail_type(ctx, s, "a group { ... }");
	c->max_sas = IPSEC_CONF_MAX_SAS_DEFAULT;
	c->reassembly_max = IPSEC_CONF_REASS_DEFAULT;
	c->reassembly_timeout_ms = IPSEC_CONF_REASS_MS_DEFAULT;
	if (conf_check_keys(ctx, s, ipsec_keys) < 0 ||
	    conf_read_u32(ctx, s, "max_sas", 16, IPSEC_CONF_MAX_SAS_MAX, &c->max_sas) < 0 ||
	    conf_read_u32(ctx, s, "reassembly_max", 0, IPSEC_CONF_REASS_MAX, &c->reassembly_max) < 0 ||
	    conf_read_u32(ctx, s, "reassembly_timeout_ms", 1, IPSEC_CONF_REASS_MS_MAX, &c->reassembly_timeout_ms) < 0)
		return -1;
	const config_setting_t *list = conf_read_group_list(ctx, s, "tunnels");
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	c->tunnels = calloc(count > 0 ? count : 1, sizeof(*c->tunnels));
	if (c->tunnels == NULL)
		return conf_fail_nomem(ctx);
	size_t n_sas = 0;
	for (size_t i = 0; i < count; i++) {
		/* Counted before reading so that ipsec_conf_free frees a half-read tunnel. */
		c->n_tunnels = i + 1;
		if (read_tunnel(r, config_setting_get_elem(list, (unsigned)i), c, i) < 0)
			return -1;
		n_sas += c->tunnels[i].n_sas;
	}
	if (n_sas > c->max_sas)
		return conf_fail(ctx, list, "%zu SAs (expected at most max_sas = %u)", n_sas, c->max_sas);
	return 0;
}

int ipsec_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file,
		    struct ipsec_conf **out, char *err, size_t errlen)
{
	struct ipsec_reader r;
	memset(&r, 0, sizeof(r));
	r.ctx.name = file;
	r.ctx.err = r.err;
	r.core = core;
	struct ipsec_conf *c = calloc(1, sizeof(*c));
	int rc = c == NULL ? conf_fail_nomem(&r.ctx) : read_ipsec(&r, s, c);
	if (rc < 0) {
		ipsec_conf_free(c);
		if (errlen > 0)
			snprintf(err, errlen, "%s", r.err[0] != '\0' ? r.err : "unknown error");
		return -1;
	}
	*out = c;
	return 0;
}

/* ---- free, copy, compare ---- */

void ipsec_conf_free(struct ipsec_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_tunnels; i++) {
		for (size_t k = 0; k < c->tunnels[i].n_sas; k++)
			ipsec_sa_conf_wipe(&c->tunnels[i].sas[k]);
		free(c->tunnels[i].sas);
	}
	free(c->tunnels);
	free(c);
}

struct ipsec_conf *ipsec_conf_dup(const struct ipsec_conf *c)
{
	struct ipsec_conf *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->max_sas = c->max_sas;
	d->reassembly_max = c->reassembly_max;
	d->reassembly_timeout_ms = c->reassembly_timeout_ms;
	if (c->n_tunnels > 0 && (d->tunnels = calloc(c->n_tunnels, sizeof(*d->tunnels))) == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_tunnels; i++) {
		const struct ipsec_tunnel_conf *t = &c->tunnels[i];
		d->tunnels[i] = *t;
		d->tunnels[i].sas = NULL;
		d->tunnels[i].n_sas = 0;
		d->n_tunnels = i + 1;
		if (t->n_sas > 0) {
			if ((d->tunnels[i].sas = malloc(t->n_sas * sizeof(*t->sas))) == NULL)
				goto fail;
			memcpy(d->tunnels[i].sas, t->sas, t->n_sas * sizeof(*t->sas));
			d->tunnels[i].n_sas = t->n_sas;
		}
	}
	return d;
fail:
	ipsec_conf_free(d);
	return NULL;
}

bool ipsec_sa_conf_equal(const struct ipsec_sa_conf *a, const struct ipsec_sa_conf *b)
{
	return a->spi == b->spi && a->dir == b->dir && a->alg == b->alg && a->key_len == b->key_len &&
	       a->auth_key_len == b->auth_key_len && memcmp(a->key, b->key, a->key_len) == 0 &&
	       memcmp(a->auth_key, b->auth_key, a->auth_key_len) == 0 && a->esn == b->esn &&
	       a->replay_window == b->replay_window && a->soft_bytes == b->soft_bytes &&
	       a->hard_bytes == b->hard_bytes && a->soft_packets == b->soft_packets &&
	       a->hard_packets == b->hard_packets;
}

bool ipsec_tunnel_conf_same_params(const struct ipsec_tunnel_conf *a, const struct ipsec_tunnel_conf *b)
{
	return strcmp(a->interface, b->interface) == 0 && strcmp(a->transport_vrf, b->transport_vrf) == 0 &&
	       addr_equal(&a->local, &b->local) && addr_equal(&a->remote, &b->remote) && a->udp_encap == b->udp_encap &&
	       a->remote_port == b->remote_port && a->follow_peer == b->follow_peer && a->mss_clamp == b->mss_clamp;
}

bool ipsec_conf_equal(const struct ipsec_conf *a, const struct ipsec_conf *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->max_sas != b->max_sas || a->reassembly_max != b->reassembly_max ||
	    a->reassembly_timeout_ms != b->reassembly_timeout_ms || a->n_tunnels != b->n_tunnels)
		return false;
	for (size_t i = 0; i < a->n_tunnels; i++) {
		const struct ipsec_tunnel_conf *x = &a->tunnels[i], *y = &b->tunnels[i];
		if (!ipsec_tunnel_conf_same_params(x, y) || x->n_sas != y->n_sas)
			return false;
		for (size_t k = 0; k < x->n_sas; k++)
			if (!ipsec_sa_conf_equal(&x->sas[k], &y->sas[k]))
				return false;
	}
	return true;
}

const struct ipsec_tunnel_conf *ipsec_conf_tunnel(const struct ipsec_conf *c, const char *interface)
{
	for (size_t i = 0; c != NULL && i < c->n_tunnels; i++)
		if (strcmp(c->tunnels[i].interface, interface) == 0)
			return &c->tunnels[i];
	return NULL;
}
