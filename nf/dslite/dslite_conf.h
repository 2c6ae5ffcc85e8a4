/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "dslite" section (docs/CONFIG.md, "dslite"; design in docs/NAT.md): AFTR endpoints that accept IPv4-in-IPv6
 * softwires from B4 elements and translate their IPv4 with a pool of the "nat" section. Plain C, no DPDK.
 */
#ifndef NPSGW_DSLITE_CONF_H
#define NPSGW_DSLITE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "lib/conf/conf.h"
#include "lib/hdr/addr.h"

struct dslite_aftr_conf {
	char name[32];
	struct addr address;          /* the AFTR's IPv6 endpoint address (softwire destination) */
	char transport_vrf[CONF_NAME_MAX]; /* VRF of the IPv6 access network: where softwires arrive, replies leave */
	char vrf[CONF_NAME_MAX];      /* VRF where decapsulated, translated IPv4 is routed (usually the pool's) */
	char pool[32];                /* a pool of the nat section */
	struct addr_prefix *b4_prefixes; /* B4 addresses accepted (IPv6); others rejected and counted */
	size_t n_b4_prefixes;
	uint16_t mtu;                 /* IPv6 MTU of the softwire path: 1500 (outer packets bigger are fragmented) */
	uint16_t mss_clamp;           /* TCP MSS clamped on SYNs both ways; 0 = off; default mtu - 40 - 20 - 20 */
	uint32_t max_sessions;        /* per B4: 2000 */
	uint32_t max_blocks;          /* per B4: 4 */
	uint8_t filtering;            /* enum nat_filtering: address-and-port-dependent */
};

struct dslite_conf {
	struct dslite_aftr_conf *aftrs;
	size_t n_aftrs;
	uint32_t reassembly_max;      /* IPv6 tunnel datagrams being reassembled at once, per worker: 4096 */
	uint32_t reassembly_timeout_ms; /* 2000 */
};

/* Read section s; pools are checked against nat (the nat section's model, may be NULL: then any pool name is refused). */
int dslite_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const void *nat_model,
		     const char *file, struct dslite_conf **out, char *err, size_t errlen);
void dslite_conf_free(struct dslite_conf *c);
struct dslite_conf *dslite_conf_dup(const struct dslite_conf *c);
bool dslite_conf_equal(const struct dslite_conf *a, const struct dslite_conf *b);
void dslite_conf_write(FILE *out, const struct dslite_conf *c);

#endif
