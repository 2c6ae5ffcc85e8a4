/* SPDX-License-Identifier: BSD-3-Clause */
/* Control commands of transactional configuration: config diff / commit / rollback / save, reload (txn.h). */
#include <errno.h>
#include <stdio.h>

#include "dataplane/ctl_cmds.h"
#include "dataplane/txn.h"

#define TXN_ERR_MAX (CP_ERR_MAX + CONF_ERR_MAX)

static int committed(struct ctl_reply *r, int rc, const char *err, const char *what, const struct txn_result *res)
{
	if (rc != 0)
		return ctl_reply_error(r, rc, "%s", err);
	if (res->n_ops == 0)
		sbuf_printf(&r->text, "%s: no changes\n", what);
	else
		sbuf_printf(&r->text, "%s: %zu operation(s) in %.1f ms\n", what, res->n_ops, res->ms);
	return 0;
}

int cmd_config_diff(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[TXN_ERR_MAX];
	struct txn_plan plan;
	int rc = txn_prepare_file(ctl_arg(a, "file"), &plan, err, sizeof(err));
	if (rc != 0)
		return ctl_reply_error(r, rc, "%s", err);
	struct ctl_table *t = ctl_reply_table(r, "operations", "#step", "operation", NULL);
	for (size_t i = 0; i < plan.n; i++) {
		char step[24], text[512];
		snprintf(step, sizeof(step), "%zu", i + 1);
		ctl_table_row(t, step, txn_op_fmt(&plan.ops[i], text, sizeof(text)));
	}
	if (plan.n == 0)
		sbuf_printf(&r->text, "no changes\n");
	txn_plan_free(&plan);
	return 0;
}

int cmd_config_commit(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[TXN_ERR_MAX];
	struct txn_result res;
	int rc = txn_commit_file(ctl_arg(a, "file"), &res, err, sizeof(err));
	return committed(r, rc, err, "committed", &res);
}

int cmd_config_rollback(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[TXN_ERR_MAX];
	struct txn_result res;
	int rc = txn_rollback(&res, err, sizeof(err));
	return committed(r, rc, err, "rolled back", &res);
}

int cmd_config_save(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[TXN_ERR_MAX];
	size_t n_down;
	int rc = txn_save(ctl_arg(a, "file"), &n_down, err, sizeof(err));
	if (rc != 0)
		return ctl_reply_error(r, rc, "%s", err);
	sbuf_printf(&r->text, "saved to %s\n", ctl_arg(a, "file"));
	if (n_down > 0)
		sbuf_printf(&r->text, "note: %zu interface(s) are down; the file cannot say so: they boot up\n",
			    n_down);
	return 0;
}

int cmd_reload(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[TXN_ERR_MAX], what[CONF_ERR_MAX];
	struct txn_result res;
	int rc = txn_reload(&res, err, sizeof(err));
	snprintf(what, sizeof(what), "reloaded %s", dp.conf->path);
	return committed(r, rc, err, what, &res);
}
