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

struct nf_desc {
	const char *name;
	const struct conf_ext_ops *conf;        /* its config section, or NULL */
	const char *const *nodes;               /* its node names (patterns) for every worker graph; NULL-terminated */
	const struct nf_feature_reg *features;  /* NULL-terminated by node == NULL */
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
void nf_fini(void);
/* Node name patterns of every function, for the worker graphs: copies up to max into out, returns the count. */
size_t nf_graph_nodes(const char **out, size_t max);
/* The functions' command tables (after the core's): copies up to max into out, returns the count. */
size_t nf_ctl_tables(struct ctl_cmd_table *out, size_t max);

#endif
