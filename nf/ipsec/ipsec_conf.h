/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "ipsec" section (docs/IPSEC.md, "Configuration"): route-based ESP tunnels, one per core interface of kind
 * "ipsec", with their outer endpoints and, for labs and tests, statically keyed SAs (normally SAs come from the
 * controller over the control socket: `ipsec sa add`). Plain C, no DPDK: unit-tested alone. The SA checks
 * (algorithm, key lengths, window, lifetimes) are shared with the control socket's `ipsec sa add`.
 */
#ifndef NPSGW_IPSEC_CONF_H
#define NPSGW_IPSEC_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "lib/conf/conf.h"
#include "lib/hdr/addr.h"

#define IPSEC_CONF_KEY_MAX 36      /* AES-256 key + 4-byte GCM salt */
#define IPSEC_CONF_AUTH_KEY_LEN 32 /* HMAC-SHA-256 key (RFC 4868: the key is as long as the hash) */
#define IPSEC_CONF_SA_IN_MAX 4     /* inbound SAs accepted together per tunnel (rekey without loss) */
#define IPSEC_CONF_SA_OUT_MAX 4    /* outbound SAs listed per tunnel: the active one and inactive ones kept */
#define IPSEC_CONF_SPI_MIN 256     /* SPIs 1..255 are reserved by IANA (RFC 4303 2.1), 0 is never sent */
#define IPSEC_CONF_WINDOW_MIN 32
#define IPSEC_CONF_WINDOW_MAX 4096
#define IPSEC_CONF_WINDOW_DEFAULT 1024
#define IPSEC_CONF_NATT_PORT 4500  /* RFC 3948 */
#define IPSEC_CONF_MSS_MIN 536     /* the TCP default MSS (RFC 879): no clamp below what every host accepts */
#define IPSEC_CONF_MSS_MAX 9000
#define IPSEC_CONF_MAX_SAS_DEFAULT 16384
#define IPSEC_CONF_MAX_SAS_MAX (1u << 20)
#define IPSEC_CONF_REASS_DEFAULT 1024 /* outer datagrams being reassembled at once, per worker */
#define IPSEC_CONF_REASS_MAX 65536
#define IPSEC_CONF_REASS_MS_DEFAULT 2000
#define IPSEC_CONF_REASS_MS_MAX 60000

enum ipsec_conf_alg {
	IPSEC_ALG_AES_GCM_128 = 0,     /* RFC 4106: key = 16-byte AES key || 4-byte salt, ICV 16, IV 8 */
	IPSEC_ALG_AES_GCM_256,         /* key = 32 || 4 */
	IPSEC_ALG_AES_CBC_128_SHA256,  /* RFC 3602 + RFC 4868: key 16, auth key 32, ICV 16, IV 16 */
	IPSEC_ALG_AES_CBC_256_SHA256,  /* key 32, auth key 32 */
	IPSEC_ALG_COUNT
};

enum ipsec_conf_dir { IPSEC_DIR_IN = 0, IPSEC_DIR_OUT = 1 };

/* The name of an algorithm ("aes-gcm-128"), "?" when out of range. */
const char *ipsec_alg_name(uint8_t alg);
/* The algorithm of a name; -1 when unknown. */
int ipsec_alg_parse(const char *name);
/* Key bytes an algorithm takes (GCM: with the salt), and its HMAC key bytes (0: none, GCM authenticates itself). */
unsigned ipsec_alg_key_len(uint8_t alg);
unsigned ipsec_alg_auth_key_len(uint8_t alg);
/* "aes-gcm-128, aes-gcm-256, ...": every name, for messages. */
const char *ipsec_alg_names(void);
const char *ipsec_dir_name(uint8_t dir);

/*
 * Hex text -> bytes: an optional "0x", then an even number of hex digits (at most max bytes). Returns the byte
 * count, or -1 with why filled (never quoting the text: it is key material).
 */
int ipsec_hex_parse(const char *text, uint8_t *out, size_t max, char *why, size_t why_len);

/* One SA: the direction and SPI name it, the rest is its crypto state and limits. */
struct ipsec_sa_conf {
	uint32_t spi;
	uint8_t dir;  /* enum ipsec_conf_dir */
	uint8_t alg;  /* enum ipsec_conf_alg */
	uint8_t key_len, auth_key_len;
	uint8_t key[IPSEC_CONF_KEY_MAX];
	uint8_t auth_key[IPSEC_CONF_AUTH_KEY_LEN];
	bool esn;               /* extended (64-bit) sequence numbers, RFC 4304: false */
	uint32_t replay_window; /* inbound: packets, 32..4096: 1024; 0 = anti-replay off (outbound: kept, unused) */
	uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets; /* lifetimes; 0 = none */
};

/*
 * Check an SA's parts together: key lengths for its algorithm, window range, soft <= hard lifetimes. Used by the
 * section reader and by `ipsec sa add`. Returns 0, or -1 with why ("key is 16 bytes (expected 20 for aes-gcm-128:
 * ...)"); never quotes key material.
 */
int ipsec_sa_conf_check(const struct ipsec_sa_conf *sa, char *why, size_t why_len);
/* Zero an SA's key material (models holding keys are wiped before free). */
void ipsec_sa_conf_wipe(struct ipsec_sa_conf *sa);

struct ipsec_tunnel_conf {
	char interface[CONF_NAME_MAX];     /* a core interface of kind "ipsec": the tunnel's inner side */
	char transport_vrf[CONF_NAME_MAX]; /* VRF where the outer (ESP) packets are routed and arrive */
	struct addr local, remote;         /* outer endpoints, same family */
	bool udp_encap;                    /* RFC 3948 ESP-in-UDP, source port 4500: false */
	uint16_t remote_port;              /* UDP destination port with udp_encap: 4500 */
	bool follow_peer;                  /* move to the outer source of authenticated inbound packets: false */
	uint16_t mss_clamp;                /* TCP MSS clamped on SYNs both ways; 0 = off */
	struct ipsec_sa_conf *sas;         /* static keying (labs, tests) */
	size_t n_sas;
};

struct ipsec_conf {
	uint32_t max_sas; /* SAs of the whole gateway (SPI table size): 16384; fixed at boot */
	uint32_t reassembly_max;        /* outer datagrams in reassembly per worker: 1024; 0 = fragments dropped; boot */
	uint32_t reassembly_timeout_ms; /* an incomplete outer datagram is dropped after this: 2000; boot */
	struct ipsec_tunnel_conf *tunnels;
	size_t n_tunnels;
};

/* Read section s ("FILE:LINE: ..." errors; interfaces and VRFs checked against core when not NULL). */
int ipsec_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file,
		    struct ipsec_conf **out, char *err, size_t errlen);
/* Free a model, wiping its keys. */
void ipsec_conf_free(struct ipsec_conf *c);
struct ipsec_conf *ipsec_conf_dup(const struct ipsec_conf *c);
bool ipsec_conf_equal(const struct ipsec_conf *a, const struct ipsec_conf *b);
bool ipsec_sa_conf_equal(const struct ipsec_sa_conf *a, const struct ipsec_sa_conf *b);
/* Every tunnel setting but the SAs. */
bool ipsec_tunnel_conf_same_params(const struct ipsec_tunnel_conf *a, const struct ipsec_tunnel_conf *b);
/* The section as the boot file says it, keys included (it is the configuration): ipsec_conf_read reads it back. */
void ipsec_conf_write(FILE *out, const struct ipsec_conf *c);
/* The tunnel of an interface, NULL when none. */
const struct ipsec_tunnel_conf *ipsec_conf_tunnel(const struct ipsec_conf *c, const char *interface);

#endif
