/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "nat" section (docs/CONFIG.md, "nat"; design in docs/NAT.md): public pools, tenants (inside VRFs) that use
 * them, their limits, filtering and static mappings, and the session table shared by NAT44 and DS-Lite. Plain C,
 * no DPDK: unit-tested alone. DS-Lite's own section ("dslite", nf/dslite/dslite_conf.h) names pools defined here.
 */
#ifndef NPSGW_NAT_CONF_H
#define NPSGW_NAT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "lib/conf/conf.h"
#include "lib/ct/ct.h"
#include "lib/hdr/addr.h"

#define NAT_NAME_MAX 32
#define NAT_CONF_MAX_BLOCKS 32 /* port blocks per subscriber at most (the engine's NAT_SUB_MAX_BLOCKS) */

enum nat_filtering {
	NAT_FILTER_EIF = 0, /* endpoint-independent: any external endpoint may reach a mapping */
	NAT_FILTER_ADF,     /* address-dependent: only addresses the inside host has sent to */
	NAT_FILTER_APDF,    /* address-and-port-dependent: only address:port pairs it has sent to (default) */
};
const char *nat_filtering_name(uint8_t f);

/* A public pool: addresses in the outside VRF, a port range cut into blocks. */
struct nat_pool_conf {
	char name[NAT_NAME_MAX];
	char vrf[CONF_NAME_MAX];          /* outside VRF: where public addresses are reached from */
	struct addr_prefix *prefixes;     /* IPv4 only; all addresses of each prefix are used */
	size_t n_prefixes;
	uint16_t port_lo, port_hi;        /* dynamic ports: 1024-65535 (ports below 1024 only if configured) */
	uint16_t block_size;              /* ports per block: 512 (divides port_hi - port_lo + 1 or the tail is unused) */
};

/* A static mapping (port forwarding / DNAT): public addr:port of a pool <-> inside addr:port of a tenant. */
struct nat_static_conf {
	uint8_t proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	struct addr inside;   /* IPv4 */
	uint16_t inside_port;
	struct addr public;   /* an address of the tenant's pool */
	uint16_t public_port; /* outside the pool's dynamic range, or the block holding it is reserved */
};

/* An inside VRF translated to a pool on its way to the pool's VRF. */
struct nat_tenant_conf {
	char vrf[CONF_NAME_MAX];
	char pool[NAT_NAME_MAX];
	uint8_t filtering;         /* enum nat_filtering: APDF */
	uint32_t max_sessions;     /* per subscriber (inside address): 2000 */
	uint32_t max_blocks;       /* per subscriber: 4 */
	bool hairpinning;          /* inside hosts reach each other through public addresses: true */
	struct nat_static_conf *statics;
	size_t n_statics;
};

struct nat_conf {
	struct ct_params sessions; /* the NAT session table (NAT44 and DS-Lite): max for the gateway */
	uint32_t block_idle_s;     /* a subscriber's block with no mapping left is released after this: 120 */
	uint32_t log_rate;         /* quota / exhaustion log records per second per worker: 100 */
	struct nat_pool_conf *pools;
	size_t n_pools;
	struct nat_tenant_conf *tenants;
	size_t n_tenants;
};

/* Read section s ("FILE:LINE: ..." errors; VRF names checked against core when not NULL). 0, or -1 with err. */
int nat_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, struct nat_conf **out,
		  char *err, size_t errlen);
void nat_conf_free(struct nat_conf *c);
struct nat_conf *nat_conf_dup(const struct nat_conf *c);
bool nat_conf_equal(const struct nat_conf *a, const struct nat_conf *b);
void nat_conf_write(FILE *out, const struct nat_conf *c);
const struct nat_pool_conf *nat_conf_pool(const struct nat_conf *c, const char *name);

#endif
