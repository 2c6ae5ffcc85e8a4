/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transactional configuration (docs/OPERATIONS.md, "Changing the whole configuration"): the running tables as a
 * config model (txn_export.c), the operations that turn the running model into a candidate (txn_plan.c), run all
 * or nothing (txn_apply.c: every operation is one cp_* call with a known inverse; when one fails, those done are
 * undone in reverse), and the commands on top: diff, commit, rollback, save, reload (txn.c). Control thread only.
 */
#ifndef NPSGW_TXN_H
#define NPSGW_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/cp.h"

/* A configuration: a config model plus what the file format cannot say. */
struct txn_model {
	struct npsgw_conf *conf;
	/* Per interface of conf: administratively down. NULL (a file): the running state of each interface is kept. */
	bool *down;
};

/* The running tables as a model; the boot-only sections are copied from dp.conf. */
int txn_export(struct txn_model *out, char *err, size_t errlen);
void txn_model_free(struct txn_model *m);

enum txn_op_kind {
	TXN_VRF_ADD,
	TXN_VRF_DEL,
	TXN_IFACE_ADD,
	TXN_IFACE_DEL,
	TXN_IFACE_SET,
	TXN_ADDR_ADD,
	TXN_ADDR_DEL,
	TXN_ROUTE_ADD,
	TXN_ROUTE_DEL,
	TXN_ROUTE_REPLACE, /* del of the old route, add of the new one, back to back */
	TXN_NEIGH_ADD,
	TXN_NEIGH_DEL,
	TXN_NEIGH_REPLACE, /* a static neighbour's MAC changes in place */
	TXN_NF_APPLY,      /* a network function's section changed: apply the candidate's (undo: the running one) */
};

/* One operation. Objects point into the models the plan holds. */
struct txn_op {
	uint8_t kind;
	bool down, old_down;   /* IFACE_ADD: state after the add; IFACE_DEL: state to restore on undo */
	int8_t up, old_up;     /* IFACE_SET: -1 unchanged, 0 down, 1 up */
	uint16_t mtu, old_mtu; /* IFACE_SET: 0 unchanged */
	const void *obj; /* conf_vrf, conf_interface, conf_route, conf_neighbour; addr_prefix for ADDR_* */
	const void *old; /* REPLACE: the running route or neighbour */
	const char *iface; /* ADDR_*: interface name */
	int ext_slot;      /* NF_APPLY: the section's conf_ext slot; obj / old: candidate / running model (NULL: absent) */
};

/* The operations from running to cand, in the order they run. Owns both models. */
struct txn_plan {
	struct txn_model running, cand;
	struct txn_op *ops;
	size_t n, cap;
};

/* Plan from plan->running to plan->cand (both set by the caller). Returns 0 or ENOMEM. */
int txn_plan_build(struct txn_plan *plan, char *err, size_t errlen);
void txn_plan_free(struct txn_plan *plan);
/* The operation as the npsctl command that does the same ("route add vrf main prefix ... via ..."). */
const char *txn_op_fmt(const struct txn_op *op, char *buf, size_t len);
/*
 * Run the operations in order. When one fails, undo those done, in reverse, and return its errno with
 * "nothing changed: step I/N (OPERATION): REASON" in err.
 */
int txn_plan_apply(const struct txn_plan *plan, char *err, size_t errlen);

/* What a commit did. */
struct txn_result {
	size_t n_ops;
	double ms;
};

/* Load a candidate file and plan it against the running state (refusing boot-only changes). */
int txn_prepare_file(const char *path, struct txn_plan *plan, char *err, size_t errlen);
/* Commit a candidate file; on success with changes, the state before becomes what rollback applies. */
int txn_commit_file(const char *path, struct txn_result *res, char *err, size_t errlen);
/* Apply the state before the last commit (or rollback, so a second rollback undoes the first). */
int txn_rollback(struct txn_result *res, char *err, size_t errlen);
/* Write the running state as a boot file at path (absolute). n_down: interfaces down (the file cannot say). */
int txn_save(const char *path, size_t *n_down, char *err, size_t errlen);
/* Commit the file npsd was started with (dp.conf->path). */
int txn_reload(struct txn_result *res, char *err, size_t errlen);

/* SIGHUP handler: asks for a reload, done by txn_poll() on the control loop. */
void txn_sighup(int sig);
/* From the control loop: runs a requested reload and logs its outcome to stderr. */
void txn_poll(void);
/* Free the rollback state (at exit). */
void txn_fini(void);

#endif
