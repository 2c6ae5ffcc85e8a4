/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * diff, commit, rollback, save and reload of whole configurations. A candidate is validated whole by conf_load,
 * boot-only sections must be those npsd runs with, then the plan from the running state runs all or nothing.
 * The state before the last commit is kept for rollback.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/events.h"
#include "dataplane/txn.h"
#include "lib/conf/conf_write.h"

static struct txn_model before_last_commit; /* what rollback applies; conf NULL when there is none */
static volatile sig_atomic_t reload_requested;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Plan from the running state to cand (moved into the plan). */
static int prepare(struct txn_model *cand, struct txn_plan *plan, char *err, size_t errlen)
{
	char what[256];
	*plan = (struct txn_plan){.cand = *cand};
	*cand = (struct txn_model){0};
	if (conf_differs(dp.conf, plan->cand.conf, CONF_CMP_BOOT, what, sizeof(what))) {
		snprintf(err, errlen, "needs a restart, nothing changed: boot-only setting %s (running / candidate)",
			 what);
		txn_plan_free(plan);
		return EPERM;
	}
	int rc = txn_export(&plan->running, err, errlen);
	if (rc == 0)
		rc = txn_plan_build(plan, err, errlen);
	if (rc != 0)
		txn_plan_free(plan);
	return rc;
}

int txn_prepare_file(const char *path, struct txn_plan *plan, char *err, size_t errlen)
{
	char lerr[CONF_ERR_MAX];
	struct txn_model cand = {.conf = conf_load(path, lerr)};
	if (cand.conf == NULL) {
		snprintf(err, errlen, "nothing changed: %s", lerr);
		return EINVAL;
	}
	return prepare(&cand, plan, err, errlen);
}

/* Subscribers to config events see what a transaction did, operation by operation, then what did it. */
static void publish(const struct txn_plan *plan, const char *how)
{
	char text[CONF_ERR_MAX + 64];
	for (size_t i = 0; i < plan->n; i++)
		event_config(txn_op_fmt(&plan->ops[i], text, sizeof(text)));
	snprintf(text, sizeof(text), "%s: %zu operation(s)", how, plan->n);
	event_config(text);
}

/* Run a prepared plan; on success with changes, the running state it started from becomes the rollback point. */
static int commit(struct txn_plan *plan, const char *how, struct txn_result *res, char *err, size_t errlen)
{
	double t0 = now_ms();
	int rc = txn_plan_apply(plan, err, errlen);
	*res = (struct txn_result){.n_ops = plan->n, .ms = now_ms() - t0};
	if (rc == 0 && plan->n > 0) {
		publish(plan, how);
		txn_model_free(&before_last_commit);
		before_last_commit = plan->running;
		plan->running = (struct txn_model){0};
	}
	txn_plan_free(plan);
	return rc;
}

static int commit_file(const char *path, const char *how, struct txn_result *res, char *err, size_t errlen)
{
	struct txn_plan plan;
	*res = (struct txn_result){0};
	int rc = txn_prepare_file(path, &plan, err, errlen);
	return rc ? rc : commit(&plan, how, res, err, errlen);
}

int txn_commit_file(const char *path, struct txn_result *res, char *err, size_t errlen)
{
	char how[CONF_ERR_MAX];
	snprintf(how, sizeof(how), "config commit file %s", path);
	return commit_file(path, how, res, err, errlen);
}

int txn_rollback(struct txn_result *res, char *err, size_t errlen)
{
	*res = (struct txn_result){0};
	if (before_last_commit.conf == NULL) {
		snprintf(err, errlen, "nothing to roll back: no configuration was committed since npsd started");
		return ENOENT;
	}
	/* Taken out while it runs; a failed (or empty) rollback puts it back. */
	struct txn_model target = before_last_commit;
	before_last_commit = (struct txn_model){0};
	struct txn_plan plan = {.cand = target};
	int rc = txn_export(&plan.running, err, errlen);
	if (rc == 0)
		rc = txn_plan_build(&plan, err, errlen);
	if (rc == 0) {
		double t0 = now_ms();
		rc = txn_plan_apply(&plan, err, errlen);
		*res = (struct txn_result){.n_ops = plan.n, .ms = now_ms() - t0};
	}
	if (rc == 0 && plan.n > 0) {
		publish(&plan, "config rollback");
		before_last_commit = plan.running; /* a second rollback goes back again */
		plan.running = (struct txn_model){0};
	} else {
		before_last_commit = plan.cand;
		plan.cand = (struct txn_model){0};
	}
	txn_plan_free(&plan);
	return rc;
}

int txn_save(const char *path, size_t *n_down, char *err, size_t errlen)
{
	*n_down = 0;
	if (path[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path (expected the file's full path on the npsd host)",
			 path);
		return EINVAL;
	}
	struct txn_model m;
	int rc = txn_export(&m, err, errlen);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < m.conf->n_interfaces; i++)
		*n_down += m.down[i];
	char header[512], stamp[64];
	time_t t = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %z", localtime(&t));
	snprintf(header, sizeof(header),
		 "npsd configuration written by `npsctl config save` on %s from the running state\n"
		 "(npsd was started with %s). Reference: docs/CONFIG.md.",
		 stamp, dp.conf->path);
	rc = conf_write_file(m.conf, path, header, err, errlen);
	txn_model_free(&m);
	return rc;
}

int txn_reload(struct txn_result *res, char *err, size_t errlen)
{
	char how[CONF_ERR_MAX];
	snprintf(how, sizeof(how), "reload %s", dp.conf->path);
	return commit_file(dp.conf->path, how, res, err, errlen);
}

void txn_sighup(int sig)
{
	reload_requested = 1;
}

void txn_poll(void)
{
	if (!reload_requested)
		return;
	reload_requested = 0;
	char err[CP_ERR_MAX + CONF_ERR_MAX];
	struct txn_result res;
	if (txn_reload(&res, err, sizeof(err)) == 0)
		fprintf(stderr, "npsd: SIGHUP: reloaded %s: %zu operation(s) in %.1f ms\n", dp.conf->path, res.n_ops,
			res.ms);
	else
		fprintf(stderr, "npsd: SIGHUP: reload of %s refused: %s\n", dp.conf->path, err);
}

void txn_fini(void)
{
	txn_model_free(&before_last_commit);
}
