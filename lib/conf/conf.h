/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Boot configuration model of npsd, loaded from a libconfig file.
 *
 * The loader (conf_load) parses and validates the whole file before anything is applied: a bad file yields one
 * precise error (file:line: what is wrong, what was expected) and no half-built model. The model holds plain C
 * values only; it knows nothing of DPDK, so it is unit-tested without EAL.
 *
 * Ownership: conf_load() returns a heap model owned by the caller; conf_free() releases everything.
 */
#ifndef NPSGW_CONF_H
#define NPSGW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hdr/addr.h"

#define CONF_NAME_MAX 32    /* names of devices, interfaces, VRFs, incl. NUL */
#define CONF_ERR_MAX 512

struct conf_eal {
	char lcores[64];      /* EAL -l list, e.g. "0-2"; first is the main (control) lcore */
	uint32_t memory_mb;   /* -m; 0 = EAL default */
	bool no_huge;         /* force --no-huge; "auto" (see hugepages) decides when absent */
	bool huge_auto;       /* true when the file did not say: use hugepages when the host has them */
	char file_prefix[64]; /* --file-prefix; the loader sets "npsd" when the file does not say */
	char **extra_args;    /* extra EAL arguments, verbatim */
	size_t n_extra_args;
};

struct conf_control {
	char socket_path[108]; /* sun_path limit */
	uint32_t socket_mode;  /* octal permission bits; world-writable is refused */
	char socket_group[32]; /* optional group owner; empty = keep */
};

/* Prometheus endpoint and the counter snapshot behind it and DPDK telemetry (docs/CONFIG.md, "metrics"). */
struct conf_metrics {
	bool listen_enabled; /* a listen address was given; without one there is no HTTP endpoint */
	char listen[64];     /* as written: "127.0.0.1:9105" or "[::1]:9105" */
	struct addr addr;    /* its address and port, parsed */
	uint16_t port;
	uint32_t interval_ms; /* how often the control thread refreshes the snapshot: 500 */
};

struct conf_device {
	char name[CONF_NAME_MAX];
	char pci[64];   /* PCI address, or empty */
	char vdev[256]; /* vdev string ("net_af_packet0,iface=veth0"), or empty; exactly one of pci/vdev */
	uint16_t rx_queues; /* >= 1; > 1 enables RSS */
	uint16_t mtu;       /* device MTU; default 1500 */
	uint32_t rx_desc, tx_desc;
};

struct conf_rxq_ref {
	char device[CONF_NAME_MAX];
	uint16_t queue;
};

struct conf_worker {
	uint32_t lcore;
	struct conf_rxq_ref *rxqs; /* the queues this worker polls */
	size_t n_rxqs;
};

enum conf_fib_kind { CONF_FIB_FAST = 0, CONF_FIB_COMPACT = 1 };

struct conf_vrf {
	char name[CONF_NAME_MAX];
	uint32_t id;          /* operator-facing table id, unique */
	enum conf_fib_kind fib; /* fast = DIR24_8 / TRIE (tens of MB); compact = RIB only (small, slower) */
	uint32_t max_routes;  /* per family; default 65536 */
};

/* A function's interface (a tunnel) has no device: its MTU is its own. */
#define CONF_TUNNEL_MTU_DEFAULT 1400
#define CONF_TUNNEL_MTU_MAX 9000

struct conf_interface {
	char name[CONF_NAME_MAX];
	char kind[CONF_NAME_MAX]; /* "" = on a device port; else a function's interfaces (tunnels: "ipsec") */
	char device[CONF_NAME_MAX]; /* "" for a function's interface */
	uint16_t vlan;         /* 0 = untagged; 1..4094 = 802.1Q sub-interface */
	char vrf[CONF_NAME_MAX];
	uint16_t mtu;          /* IP MTU; default = device MTU */
	bool has_mac;
	uint8_t mac[6];        /* default: the device's MAC */
	struct addr_prefix *addresses; /* interface addresses with prefix length, IPv4 and IPv6 */
	size_t n_addresses;
};

enum conf_route_kind {
	CONF_ROUTE_VIA = 0,  /* gateway (+ optional interface) */
	CONF_ROUTE_DEV,      /* directly via an interface (no gateway) */
	CONF_ROUTE_BLACKHOLE, /* silently dropped (counted) */
	CONF_ROUTE_REJECT,   /* dropped with ICMP unreachable */
	CONF_ROUTE_LEAK,     /* looked up again in another VRF */
};

struct conf_route {
	char vrf[CONF_NAME_MAX];
	struct addr_prefix prefix;
	enum conf_route_kind kind;
	struct addr via;             /* CONF_ROUTE_VIA */
	char dev[CONF_NAME_MAX];     /* optional for VIA, required for DEV */
	char target_vrf[CONF_NAME_MAX]; /* CONF_ROUTE_LEAK */
};

struct conf_neighbour {
	char interface[CONF_NAME_MAX];
	struct addr ip;
	uint8_t mac[6];
};

/* Neighbour discovery timers (RFC 4861 section 10 defaults) and limits. */
struct conf_neigh_params {
	uint32_t reachable_ms;     /* REACHABLE lifetime: 30000 */
	uint32_t retrans_ms;       /* between probes: 1000 */
	uint32_t delay_ms;         /* DELAY_FIRST_PROBE_TIME: 5000 */
	uint32_t max_mcast_probes; /* 3 */
	uint32_t max_ucast_probes; /* 3 */
	uint32_t stale_ms;         /* STALE entries unused this long are removed: 600000 */
	uint32_t hold_packets;     /* packets held per unresolved neighbour: 16 */
	uint32_t max_neighbours;   /* 65536 */
};

struct conf_limits {
	uint32_t max_vrfs;        /* 4096 */
	uint32_t max_interfaces;  /* 1024 */
	uint32_t max_nexthops;    /* 131072 */
	uint32_t mbufs;           /* per socket; 16384 */
	uint32_t icmp_rate;       /* ICMP errors per second per worker; 1000 */
};

struct npsgw_conf {
	char *path; /* file it came from */
	struct conf_eal eal;
	struct conf_control control;
	struct conf_limits limits;
	struct conf_neigh_params neigh;
	struct conf_metrics metrics;
	struct conf_device *devices;
	size_t n_devices;
	struct conf_worker *workers; /* without a workers section the loader deals queues round robin itself */
	size_t n_workers;
	struct conf_vrf *vrfs;
	size_t n_vrfs;
	struct conf_interface *interfaces;
	size_t n_interfaces;
	struct conf_route *routes;
	size_t n_routes;
	struct conf_neighbour *neighbours;
	size_t n_neighbours;
	char *route_file; /* optional, resolved path: extra routes, one per line (see docs/CONFIG.md) */
	void *ext[8];     /* sections of network functions, by conf_ext slot (CONF_EXT_MAX, lib/conf/conf_ext.h) */
};

/*
 * Parse and validate FILE. On success returns the model; on failure returns NULL and writes one message of the
 * form "FILE:LINE: what is wrong (expected ...)" into err.
 */
struct npsgw_conf *conf_load(const char *file, char err[CONF_ERR_MAX]);

/* Same, from a string (tests); name is used in messages. */
struct npsgw_conf *conf_load_string(const char *text, const char *name, char err[CONF_ERR_MAX]);

void conf_free(struct npsgw_conf *conf);

/* Lookup helpers over the model; NULL when absent. */
const struct conf_device *conf_find_device(const struct npsgw_conf *c, const char *name);
const struct conf_vrf *conf_find_vrf(const struct npsgw_conf *c, const char *name);
const struct conf_interface *conf_find_interface(const struct npsgw_conf *c, const char *name);

/*
 * Parse one line of a route file: "<vrf> <prefix> via <gw> [dev <iface>]" | "<vrf> <prefix> dev <iface>" |
 * "<vrf> <prefix> blackhole" | "<vrf> <prefix> reject" | "<vrf> <prefix> vrf <target>". Returns 0, or -1 with err.
 */
int conf_parse_route_line(const char *line, struct conf_route *out, char *err, size_t errlen);

#endif
