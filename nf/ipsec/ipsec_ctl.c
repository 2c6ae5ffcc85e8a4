/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's command table and the commands that change something: the SA control API a controller (and later an
 * IKEv2 daemon) drives. Thin wrappers over ipsec_cp.h; the argument keys are the config section's key names.
 * Key material is parsed straight into the SA model, wiped after use, and never appears in a reply or message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nf/ipsec/ipsec_cp.h"
#include "nf/ipsec/ipsec_ctl.h"

#define SA_KEYS "interface direction spi alg key"
#define SA_OPTIONAL "auth_key esn replay_window soft_bytes hard_bytes soft_packets hard_packets"
#define SA_ADD_OPTIONAL SA_OPTIONAL " seq"

const struct ctl_cmd ipsec_commands[IPSEC_N_COMMANDS] = {
	{"ipsec tunnel add", "interface transport_vrf local remote", "udp_encap remote_port follow_peer mss_clamp",
	 "a tunnel on an interface of kind ipsec: outer addresses in the transport VRF (udp_encap on: ESP in UDP, "
	 "RFC 3948; follow_peer on: follow the peer's authenticated source)",
	 ipsec_cmd_tunnel_add},
	{"ipsec tunnel set", "interface", "remote remote_port follow_peer mss_clamp udp_encap",
	 "change a tunnel's peer or options without loss (the controller moving a roaming peer)", ipsec_cmd_tunnel_set},
	{"ipsec tunnel del", "interface", "", "remove a tunnel and its SAs", ipsec_cmd_tunnel_del},
	{"ipsec sa add", SA_KEYS, SA_ADD_OPTIONAL,
	 "add an SA (key: hex, GCM with its 4-byte salt; auth_key: CBC's HMAC-SHA-256 key): in joins the tunnel's "
	 "inbound set (4 at most), out becomes the active outbound SA at once (seq: its last sequence number "
	 "counted as sent, for tests)",
	 ipsec_cmd_sa_add},
	{"ipsec sa replace", SA_KEYS, SA_OPTIONAL,
	 "give the SA (interface, direction, spi) new keys and limits atomically (its counters start again)",
	 ipsec_cmd_sa_replace},
	{"ipsec sa del", "spi", "interface direction",
	 "remove an SA: an inbound one by spi alone; an outbound one with interface and direction out",
	 ipsec_cmd_sa_del},
	{"ipsec show tunnels", "", "interface",
	 "tunnels: VRFs, endpoints (the peer now), options, state, SAs, counters and health (icv_failed, replay, lost)",
	 ipsec_cmd_show_tunnels},
	{"ipsec show sas", "", "interface",
	 "SAs: spi, direction, algorithm, state (active, inactive, expired, exhausted), counters, sequence numbers "
	 "used, lifetimes; never keys",
	 ipsec_cmd_show_sas},
	{"ipsec show stats", "", "", "IPsec counters, summed over the workers", ipsec_cmd_show_stats},
};

/* ---- argument parsing ---- */

static int arg_bool(const struct ctl_args *a, const char *key, bool *out, bool *has, char *err, size_t errlen)
{
	const char *v = ctl_arg(a, key);
	if (has != NULL)
		*has = v != NULL;
	if (v == NULL)
		return 0;
	if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0) {
		*out = false;
		return 0;
	}
	snprintf(err, errlen, "bad %s '%.32s' (expected on or off)", key, v);
	return EINVAL;
}

/* Decimal or 0x hex in [min, max]. */
static int arg_u64(const struct ctl_args *a, const char *key, uint64_t min, uint64_t max, uint64_t *out, bool *has,
		   char *err, size_t errlen)
{
	const char *v = ctl_arg(a, key);
	if (has != NULL)
		*has = v != NULL;
	if (v == NULL)
		return 0;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 0);
	if (v[0] == '-' || end == v || *end != '\0' || errno != 0 || x < min || x > max) {
		snprintf(err, errlen, "bad %s '%.32s' (expected %" PRIu64 "..%" PRIu64 ", decimal or 0x hex)", key, v,
			 min, max);
		return EINVAL;
	}
	*out = x;
	return 0;
}

static int arg_addr(const struct ctl_args *a, const char *key, struct addr *out, char *err, size_t errlen)
{
	const char *v = ctl_arg(a, key);
	if (v != NULL && addr_parse(v, out) == 0)
		return 0;
	snprintf(err, errlen, "bad %s '%.64s' (expected an IPv4 or IPv6 address)", key, v != NULL ? v : "");
	return EINVAL;
}

static int arg_name(const struct ctl_args *a, const char *key, char out[CONF_NAME_MAX], char *err, size_t errlen)
{
	const char *v = ctl_arg(a, key);
	if (v != NULL && strlen(v) < CONF_NAME_MAX) {
		snprintf(out, CONF_NAME_MAX, "%s", v);
		return 0;
	}
	snprintf(err, errlen, "bad %s (expected a name of at most %d characters)", key, CONF_NAME_MAX - 1);
	return EINVAL;
}

/* A hex key into out; the value is never quoted back. */
static int arg_key(const struct ctl_args *a, const char *key, uint8_t *out, size_t max, uint8_t *len, char *err,
		   size_t errlen)
{
	const char *v = ctl_arg(a, key);
	char why[128];
	if (v == NULL)
		return 0;
	int n = ipsec_hex_parse(v, out, max, why, sizeof(why));
	if (n < 0) {
		snprintf(err, errlen, "bad %s: %s", key, why);
		return EINVAL;
	}
	*len = (uint8_t)n;
	return 0;
}

static int arg_direction(const struct ctl_args *a, uint8_t *dir, char *err, size_t errlen)
{
	const char *v = ctl_arg(a, "direction");
	if (v != NULL && strcmp(v, "in") == 0)
		*dir = IPSEC_DIR_IN;
	else if (v != NULL && strcmp(v, "out") == 0)
		*dir = IPSEC_DIR_OUT;
	else {
		snprintf(err, errlen, "bad direction '%.16s' (expected in or out)", v != NULL ? v : "");
		return EINVAL;
	}
	return 0;
}

static int arg_spi(const struct ctl_args *a, uint32_t *spi, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc = arg_u64(a, "spi", IPSEC_CONF_SPI_MIN, UINT32_MAX, &v, NULL, err, errlen);
	*spi = (uint32_t)v;
	return rc;
}

/* ---- tunnels ---- */

int ipsec_cmd_tunnel_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	struct ipsec_tunnel_conf tc = {.remote_port = IPSEC_CONF_NATT_PORT};
	uint64_t port = tc.remote_port, mss = 0;
	int rc;
	if ((rc = arg_name(a, "interface", tc.interface, err, sizeof(err))) != 0 ||
	    (rc = arg_name(a, "transport_vrf", tc.transport_vrf, err, sizeof(err))) != 0 ||
	    (rc = arg_addr(a, "local", &tc.local, err, sizeof(err))) != 0 ||
	    (rc = arg_addr(a, "remote", &tc.remote, err, sizeof(err))) != 0 ||
	    (rc = arg_bool(a, "udp_encap", &tc.udp_encap, NULL, err, sizeof(err))) != 0 ||
	    (rc = arg_u64(a, "remote_port", 1, 65535, &port, NULL, err, sizeof(err))) != 0 ||
	    (rc = arg_bool(a, "follow_peer", &tc.follow_peer, NULL, err, sizeof(err))) != 0 ||
	    (rc = arg_u64(a, "mss_clamp", 0, 65535, &mss, NULL, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	tc.remote_port = (uint16_t)port;
	tc.mss_clamp = (uint16_t)mss;
	if ((rc = ipsec_cp_tunnel_add(&tc, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	ipsec_steer_stale();
	return 0;
}

int ipsec_cmd_tunnel_set(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX], name[CONF_NAME_MAX];
	struct ipsec_tunnel_change ch = {0};
	uint64_t port = 0, mss = 0;
	int rc;
	ch.has_remote = ctl_arg(a, "remote") != NULL;
	if ((rc = arg_name(a, "interface", name, err, sizeof(err))) != 0 ||
	    (ch.has_remote && (rc = arg_addr(a, "remote", &ch.remote, err, sizeof(err))) != 0) ||
	    (rc = arg_u64(a, "remote_port", 1, 65535, &port, &ch.has_remote_port, err, sizeof(err))) != 0 ||
	    (rc = arg_bool(a, "follow_peer", &ch.follow_peer, &ch.has_follow_peer, err, sizeof(err))) != 0 ||
	    (rc = arg_u64(a, "mss_clamp", 0, 65535, &mss, &ch.has_mss, err, sizeof(err))) != 0 ||
	    (rc = arg_bool(a, "udp_encap", &ch.udp_encap, &ch.has_udp_encap, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	ch.remote_port = (uint16_t)port;
	ch.mss_clamp = (uint16_t)mss;
	if ((rc = ipsec_cp_tunnel_set(name, &ch, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	ipsec_steer_stale();
	return 0;
}

int ipsec_cmd_tunnel_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX], name[CONF_NAME_MAX];
	int rc;
	if ((rc = arg_name(a, "interface", name, err, sizeof(err))) != 0 ||
	    (rc = ipsec_cp_tunnel_del(name, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	ipsec_steer_stale();
	return 0;
}

/* ---- SAs ---- */

/* The SA the arguments describe (checked by the operation); keys land in sa, to be wiped by the caller. */
static int sa_args(const struct ctl_args *a, char name[CONF_NAME_MAX], struct ipsec_sa_conf *sa, char *err,
		   size_t errlen)
{
	*sa = (struct ipsec_sa_conf){.replay_window = IPSEC_CONF_WINDOW_DEFAULT};
	uint64_t window = sa->replay_window;
	const char *alg = ctl_arg(a, "alg");
	int id = alg != NULL ? ipsec_alg_parse(alg) : -1;
	int rc;
	if ((rc = arg_name(a, "interface", name, err, errlen)) != 0 ||
	    (rc = arg_direction(a, &sa->dir, err, errlen)) != 0 || (rc = arg_spi(a, &sa->spi, err, errlen)) != 0)
		return rc;
	if (id < 0) {
		snprintf(err, errlen, "unknown alg '%.32s' (expected one of %s)", alg != NULL ? alg : "",
			 ipsec_alg_names());
		return EINVAL;
	}
	sa->alg = (uint8_t)id;
	const uint64_t max = UINT64_MAX >> 1;
	if ((rc = arg_key(a, "key", sa->key, sizeof(sa->key), &sa->key_len, err, errlen)) != 0 ||
	    (rc = arg_key(a, "auth_key", sa->auth_key, sizeof(sa->auth_key), &sa->auth_key_len, err, errlen)) != 0 ||
	    (rc = arg_bool(a, "esn", &sa->esn, NULL, err, errlen)) != 0 ||
	    (rc = arg_u64(a, "replay_window", 0, IPSEC_CONF_WINDOW_MAX, &window, NULL, err, errlen)) != 0 ||
	    (rc = arg_u64(a, "soft_bytes", 0, max, &sa->soft_bytes, NULL, err, errlen)) != 0 ||
	    (rc = arg_u64(a, "hard_bytes", 0, max, &sa->hard_bytes, NULL, err, errlen)) != 0 ||
	    (rc = arg_u64(a, "soft_packets", 0, max, &sa->soft_packets, NULL, err, errlen)) != 0 ||
	    (rc = arg_u64(a, "hard_packets", 0, max, &sa->hard_packets, NULL, err, errlen)) != 0)
		return rc;
	sa->replay_window = (uint32_t)window;
	return 0;
}

static int sa_add_or_replace(const struct ctl_args *a, struct ctl_reply *r, bool replace)
{
	char err[CTL_ERR_MAX], name[CONF_NAME_MAX];
	struct ipsec_sa_conf sa;
	uint64_t seq = 0;
	int rc = sa_args(a, name, &sa, err, sizeof(err));
	if (rc == 0 && !replace)
		rc = arg_u64(a, "seq", 0, UINT64_MAX, &seq, NULL, err, sizeof(err));
	if (rc == 0)
		rc = replace ? ipsec_cp_sa_replace(name, &sa, err, sizeof(err))
			     : ipsec_cp_sa_add(name, &sa, false, seq, err, sizeof(err));
	ipsec_sa_conf_wipe(&sa);
	if (rc != 0)
		return ctl_reply_error(r, rc, "%s", err);
	ipsec_steer_stale();
	return 0;
}

int ipsec_cmd_sa_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	return sa_add_or_replace(a, r, false);
}

int ipsec_cmd_sa_replace(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	return sa_add_or_replace(a, r, true);
}

int ipsec_cmd_sa_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX], name[CONF_NAME_MAX];
	uint32_t spi;
	uint8_t dir = IPSEC_DIR_IN;
	bool by_tunnel = ctl_arg(a, "interface") != NULL;
	int rc;
	if ((rc = arg_spi(a, &spi, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	if (by_tunnel != (ctl_arg(a, "direction") != NULL))
		return ctl_reply_error(r, EINVAL, "interface and direction go together (an inbound SA: spi alone)");
	if (by_tunnel && ((rc = arg_name(a, "interface", name, err, sizeof(err))) != 0 ||
			  (rc = arg_direction(a, &dir, err, sizeof(err))) != 0))
		return ctl_reply_error(r, rc, "%s", err);
	if ((rc = ipsec_cp_sa_del(by_tunnel ? name : NULL, dir, spi, err, sizeof(err))) != 0)
		return ctl_reply_error(r, rc, "%s", err);
	ipsec_steer_stale();
	return 0;
}
