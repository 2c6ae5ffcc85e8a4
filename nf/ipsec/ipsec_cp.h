/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's control-plane operations: tunnels and SAs added, changed, replaced and removed at run time, the same
 * functions called by config apply (ipsec_cp_apply), the control socket (ipsec_ctl*.c) and the tests. Control
 * thread only. Each operation returns 0 or a positive errno with a message in err (never quoting key material)
 * and changes nothing when it fails.
 *
 * The control side keeps one record per tunnel (struct ipsec_cp_tunnel): its configured parameters, the data-path
 * objects (nf/ipsec/ipsec_sa.h: struct ipsec_tunnel, struct ipsec_sa) and whether they are published. A tunnel is
 * published (ipsec.tunnels[iface], its inbound SPIs in ipsec.spi) while its interface exists with kind "ipsec" and
 * its transport VRF exists; otherwise it is dormant: kept with its SAs (and their sequence numbers: an SA is never
 * rebuilt behind the controller's back), nothing reaches the workers, and it comes back when the names resolve
 * again (nf_desc.iface_changed).
 *
 * Publication: release stores by the control thread; what is unpublished is freed after one dp_synchronize() per
 * operation (keys wiped by ipsec_sa_destroy).
 *
 * Origins: SAs from the config file ("config") are part of the configuration (exported, written by config save);
 * SAs added over the control socket ("control") are run-time state the controller owns: a config commit keeps
 * them (unless their tunnel goes), config save does not write them. Tunnels are configuration whichever way they
 * came (like `route add`).
 */
#ifndef NPSGW_IPSEC_CP_H
#define NPSGW_IPSEC_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ctlproto/ctlproto.h"
#include "nf/ipsec/ipsec_conf.h"
#include "nf/ipsec/ipsec_sa.h"

/* Why every operation is refused when the boot file had no "ipsec" section (the tables are sized at boot). */
#define IPSEC_NOT_CONFIGURED "IPsec is not configured at boot: add an ipsec section (ipsec: { };) and restart"

#define IPSEC_LIFETIME_BUDGET 512 /* SAs whose lifetimes one pass checks (the walk resumes where it stopped) */
/*
 * At most one lifetime pass per this many milliseconds. The pass reads each SA's first line, which an outbound SA's
 * worker writes for every packet: a read each control-loop turn (~1 ms) took the line from the worker so often that
 * with 1000 tunnels ipsec4_out paid ~7 cycles a packet for it (measured against no pass at all).
 */
#define IPSEC_LIFETIME_PERIOD_MS 10

struct ipsec_cp_sa {
	struct ipsec_sa *sa;          /* the data-path object (rte_malloc'ed; keys expanded inside) */
	struct ipsec_sa_conf *conf;   /* origin config: the SA as the file says it (export; wiped on free); else NULL */
	uint64_t created_ms;
	uint32_t order;               /* origin config: its position in the file (export keeps the file's order) */
	uint32_t key_slot;            /* its key in the keys-seen table (ipsec_cp_keys.c), 0: none */
};

struct ipsec_cp_tunnel {
	struct ipsec_tunnel_conf conf;  /* configured values (conf.sas unused); remote = the configured peer */
	struct ipsec_tunnel *t;         /* data-path object (created with the record; iface/vrf set when published) */
	bool published;
	bool home_pending;              /* t->params is a separate block: copied into t->home at the next retire flush */
	char dormant_why[96];           /* why not published ("interface site1 does not exist"); "" when published */
	struct addr remote;             /* the peer now: conf.remote, or where follow_peer moved it */
	uint16_t remote_port;
	bool udp_encap;                 /* encapsulation now: conf.udp_encap, or on since the peer went behind a NAT */
	uint32_t params_gen;            /* generation of the last params published (ipsec_tunnel_params.gen) */
	uint32_t transport_vrf;         /* VRF slot, valid while published */
	uint64_t peer_moves;            /* follow_peer moves so far */
	struct ipsec_cp_sa in[IPSEC_CONF_SA_IN_MAX];
	unsigned n_in;
	struct ipsec_cp_sa out[IPSEC_CONF_SA_OUT_MAX];
	unsigned n_out;
	int active_out;                 /* index into out[], -1: none (outbound packets: ipsec_no_sa) */
};

/* The control side's state (nf/ipsec/ipsec_cp.c). */
struct ipsec_cp {
	bool running;                    /* the boot file had an ipsec section, tables built: operations accepted */
	uint32_t max_sas, n_sas;         /* every SA object (in and out, published or dormant) */
	uint32_t reassembly_max, reassembly_timeout_ms; /* outer fragments, per worker (fixed at boot) */
	struct ipsec_cp_tunnel **tunnels; /* in configuration order */
	size_t n_tunnels, cap_tunnels;
	struct ipsec_cp_tunnel **by_iface; /* published records by interface id (ipsec.max_ifaces entries) */
	size_t lifetime_cursor;          /* poll's walk: next tunnel index */
	uint64_t lifetime_next_ms;       /* poll's walk: the next pass, not before (IPSEC_LIFETIME_PERIOD_MS) */
	uint64_t peer_moves_applied, peer_moves_ignored;
	uint64_t spi_table_rebuilds; /* fresh SPI tables published (ipsec_spi.h: tombstones used up the spare slots) */
};

extern struct ipsec_cp ipsec_cp;

/* Boot: sizes the tables (ipsec_sa.h, "what the control side sets up" 1) from c's max_sas and reassembly settings.
 * 0 or errno with err. */
int ipsec_cp_init(const struct ipsec_conf *c, unsigned n_workers, uint32_t max_ifaces, char *err, size_t errlen);
/* Shutdown (workers stopped): every object freed, keys wiped. */
void ipsec_cp_fini(void);

/* Changes of `ipsec tunnel set`: the members with has_* set. */
struct ipsec_tunnel_change {
	bool has_remote, has_remote_port, has_follow_peer, has_mss, has_udp_encap;
	struct addr remote;
	uint16_t remote_port, mss_clamp;
	bool follow_peer, udp_encap;
};

/* A new tunnel on interface tc->interface (tc->sas ignored). EEXIST, ENOENT (no such interface/VRF), EINVAL. */
int ipsec_cp_tunnel_add(const struct ipsec_tunnel_conf *tc, char *err, size_t errlen);
/* Change a tunnel's outer side without loss: one new params published (remote: the controller moves the peer). */
int ipsec_cp_tunnel_set(const char *interface, const struct ipsec_tunnel_change *ch, char *err, size_t errlen);
/* Remove a tunnel and every SA of it. */
int ipsec_cp_tunnel_del(const char *interface, char *err, size_t errlen);

/*
 * Add an SA to a tunnel (checked with ipsec_sa_conf_check). in: joins the inbound set (IPSEC_CONF_SA_IN_MAX at
 * most; SPI unique over the gateway); out: becomes the active outbound SA at once, the previous one stays listed,
 * inactive (IPSEC_CONF_SA_OUT_MAX listed at most). from_config: the SA belongs to the configuration. seq_start
 * (outbound only, else 0): the last sequence number counted as sent, so the next packet carries seq_start + 1
 * (tests of sequence exhaustion; 0 for a fresh SA).
 */
int ipsec_cp_sa_add(const char *interface, const struct ipsec_sa_conf *sa, bool from_config, uint64_t seq_start,
		    char *err, size_t errlen);
/* The SA (interface, direction, spi) gets new keys and limits atomically (counters and window start again). */
int ipsec_cp_sa_replace(const char *interface, const struct ipsec_sa_conf *sa, char *err, size_t errlen);
/* Remove an SA: interface NULL: the inbound SA of spi; else the SA (interface, dir, spi). */
int ipsec_cp_sa_del(const char *interface, uint8_t dir, uint32_t spi, char *err, size_t errlen);

/* Make model the running configuration (NULL: no tunnels): all or nothing; control-socket SAs of kept tunnels stay. */
int ipsec_cp_apply(const struct ipsec_conf *model, char *err, size_t errlen);
/* The running configuration as a model (tunnels + SAs of origin config); NULL when out of memory. */
struct ipsec_conf *ipsec_cp_export(void);
/* Interfaces or VRFs changed: publish what now resolves, make dormant what does not. */
void ipsec_cp_iface_changed(void);
/* Control loop: peer moves (follow_peer), lifetimes and sequence exhaustion -> events. */
void ipsec_cp_poll(uint64_t now_ms);

/* Lookups for the commands (NULL when none). */
struct ipsec_cp_tunnel *ipsec_cp_tunnel_find(const char *interface);
struct ipsec_cp_tunnel *ipsec_cp_tunnel_of_iface(uint16_t iface);
bool ipsec_cp_sa_is_active(const struct ipsec_cp_tunnel *rec, const struct ipsec_cp_sa *s);
/* rec's counters: its SAs' (those it has and those it had) and its own. */
void ipsec_cp_tunnel_sum(const struct ipsec_cp_tunnel *rec, struct ipsec_tunnel_stats *out);

/* Events and logs (nf/ipsec/ipsec_events.c): syslog line + control-socket event of topic "ipsec". */
enum ipsec_event_kind { IPSEC_EV_SOFT, IPSEC_EV_HARD, IPSEC_EV_SEQ_EXHAUSTED };
/* An SA's lifetime or sequence space ran out; limit names it ("bytes", "packets", "sequence"). */
void ipsec_event_sa(enum ipsec_event_kind kind, const struct ipsec_cp_tunnel *rec, const struct ipsec_sa *sa,
		    const char *limit, uint64_t value, uint64_t threshold);
/* udp_encap_on: the move came in UDP to a tunnel without udp_encap, which is now on (the peer is behind a NAT). */
void ipsec_event_peer_moved(const struct ipsec_cp_tunnel *rec, const struct addr *old_addr, uint16_t old_port,
			    const struct addr *new_addr, uint16_t new_port, uint32_t spi, bool udp_encap_on);

/* Counters for display (ipsec_stats.c): the workers' IPSEC_COUNTERS summed, the "ipsec" stats table. */
void ipsec_counters_sum(uint64_t cnt[IPSEC_CNT_COUNT]);
/* Keys remembered since start-up (ipsec_cp_keys.c: fingerprints, 32 bytes each). */
uint32_t ipsec_keys_count(void);
void ipsec_stats_table(struct ctl_reply *r);

/*
 * Per-tunnel health metrics (ipsec_ctl_metrics.c), ready for the core's metrics snapshot: add() is called once per
 * (family, tunnel) with family "npsgw_ipsec_tunnel_<counter>_total" (type "counter") or "npsgw_ipsec_tunnel_up"
 * (type "gauge"), its help text (static strings), the labels interface (the tunnel's) and vrf (its tenant VRF, ""
 * while dormant without its interface), and the value. Families are consecutive. Control thread only.
 */
typedef void ipsec_metric_fn(void *sink, const char *family, const char *type, const char *help,
			     const char *interface, const char *vrf, uint64_t value);
void ipsec_tunnel_metrics(ipsec_metric_fn *add, void *sink);

/*
 * The SAs or tunnels changed over the control socket: rebuild the steering plan (ESP by SPI) from the control loop,
 * at most once a second, so that a controller installing thousands of SAs does not rebuild it thousands of times.
 */
void ipsec_steer_stale(void);
void ipsec_steer_refresh(uint64_t now_ms);

/* rte_flow steering of inbound ESP to the SA's owner worker (nf/ipsec/ipsec_steer.c, nf_desc.steer). */
struct flow_plan;
void ipsec_steer(struct flow_plan *plan);

/* The registry hooks (struct nf_desc, nf/nf.h), in ipsec.c. */
struct npsgw_conf;
int ipsec_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen);
int ipsec_nf_apply(const void *model, char *err, size_t errlen);
void *ipsec_nf_export(void);
void ipsec_nf_iface_changed(void);
void ipsec_nf_poll(uint64_t now_ms);
void ipsec_nf_stats(struct ctl_reply *r);
void ipsec_nf_fini(void);

#endif
