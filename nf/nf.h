/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The network-function registry: the one place the core learns which functions exist (nf/registry.c). A function
 * describes itself with a struct nf_desc; the core calls these hooks and knows nothing else of it.
 */
#ifndef NPSGW_NF_H
#define NPSGW_NF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/feature.h"
#include "lib/conf/conf_ext.h"
#include "lib/ctlproto/ctlproto.h"

struct npsgw_conf;

/* One node of a function attached to a feature arc (dataplane/feature.h). */
struct nf_feature_reg {
	enum feat_arc arc;
	const char *node;
	unsigned order; /* position on the arc among all functions' features: lower runs first */
};

/* Packets addressed to the router that a function takes (ip4_local / ip6_local): by IP protocol, and for UDP by
 * destination port. With fragments, also the fragments of that protocol (any UDP port: a non-first fragment has
 * none), which the function reassembles; one function per protocol and family. */
struct nf_local_reg {
	uint8_t family;    /* 4 or 6; 0 ends the list */
	uint8_t proto;     /* IPPROTO_* */
	uint16_t udp_port; /* with IPPROTO_UDP: destination port (host order) */
	const char *node;
	bool fragments;
};

struct flow_plan; /* dataplane/flow_steer.h */

/*
 * One sample of a function's metric for the metrics snapshot (Prometheus, telemetry): family name (counters end in
 * _total), "counter" or "gauge", help text (a string that lives as long as the program), labels interface and vrf
 * ("" = no such label). Samples of one family come one after the other.
 */
typedef void nf_metric_fn(void *sink, const char *family, const char *type, const char *help, const char *interface,
			  const char *vrf, uint64_t value);

struct nf_desc {
	const char *name;
	const struct conf_ext_ops *conf;        /* its config section, or NULL */
	const char *const *nodes;               /* its node names (patterns) for every worker graph; NULL-terminated */
	const struct nf_feature_reg *features;  /* NULL-terminated by node == NULL */
	/*
	 * Interfaces of kind `name` (tunnels): the nodes taking packets routed out of one, after the rewrite node did
	 * TTL and MTU: [0] inner IPv4, [1] inner IPv6. Both NULL: the function has no interfaces.
	 */
	const char *tunnel_out[2];
	const struct nf_local_reg *local;       /* terminated by family == 0; or NULL */
	const struct ctl_cmd *cmds;
	size_t n_cmds;
	/* Boot, after the core tables and ports, before the graphs: size and allocate. 0 or errno with err. */
	int (*init)(const struct npsgw_conf *conf, char *err, size_t errlen);
	/* After the workers run: nothing yet may differ (the apply of the boot model ran before). Optional. */
	void (*started)(void);
	/*
	 * Make model (this function's section of a config; NULL: the section is absent) the running configuration:
	 * all or nothing. Called at boot, and by config commit / reload when the section changed.
	 */
	int (*apply)(const void *model, char *err, size_t errlen);
	/* The running configuration as a new model (owned by the caller, freed with conf->free); NULL when none. */
	void *(*export)(void);
	/* An interface or a VRF was added or deleted (control thread): names may now resolve differently. */
	void (*iface_changed)(void);
	/* Control loop, every iteration (drain logs, finish flushes). */
	void (*poll)(uint64_t now_ms);
	/* Counters for `show stats` (one table) and the metrics snapshot. */
	void (*stats)(struct ctl_reply *r);
	/* Its metrics for the snapshot (control thread): add(sink, ...) once per sample. Optional. */
	void (*metrics)(nf_metric_fn *add, void *sink);
	/* rte_flow steering: add this function's rules (queue per worker, early drops) to plan. Optional. */
	void (*steer)(struct flow_plan *plan);
	/* Shutdown, after the workers stopped. */
	void (*fini)(void);
};

extern const struct nf_desc *const nf_registry[];
extern const size_t nf_count;

/* What the core calls (nf/nf.c), each going over the registry in order. */

/* Register every function's config section with the loader (before the first conf_load). */
void nf_register_conf(void);
/* Register the functions' features on the arcs (before graphs_create). 0 or EINVAL with err. */
int nf_register_features(char *err, size_t errlen);
/* init, then apply of the boot model's sections. 0 or errno with err. */
int nf_boot(const struct npsgw_conf *conf, char *err, size_t errlen);
void nf_started(void);
/* Apply one section (by conf_ext slot; model NULL: absent) through its function. 0 or errno with err. */
int nf_apply_section(int ext_slot, const void *model, char *err, size_t errlen);
/* Fill conf->ext[] with each function's running configuration. 0, or -1 when out of memory. */
int nf_export_sections(struct npsgw_conf *conf);
void nf_iface_changed(void);
void nf_poll(uint64_t now_ms);
void nf_stats(struct ctl_reply *r);
void nf_metrics(nf_metric_fn *add, void *sink);
void nf_fini(void);
/* Does the boot configuration boot run function d? (a function with a config section runs only with it) */
bool nf_configured(const struct nf_desc *d, const struct npsgw_conf *boot);
/* Registry index of the function owning interfaces of this kind (its name, with tunnel_out), or -1. */
int nf_kind_index(const char *kind);
/* Node name patterns of every function, for the worker graphs: copies up to max into out, returns the count. */
size_t nf_graph_nodes(const char **out, size_t max);
/* The functions' command tables (after the core's): copies up to max into out, returns the count. */
size_t nf_ctl_tables(struct ctl_cmd_table *out, size_t max);

#endif
