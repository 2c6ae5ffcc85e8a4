/* SPDX-License-Identifier: BSD-3-Clause */
/* The registry of sections owned by network functions (conf_ext.h) and their part in load, free, write, compare. */
#include <string.h>

#include "lib/conf/conf_ext.h"
#include "lib/conf/conf_int.h"

_Static_assert(sizeof(((struct npsgw_conf *)0)->ext) / sizeof(void *) == CONF_EXT_MAX, "npsgw_conf.ext size");

static const struct conf_ext_ops *exts[CONF_EXT_MAX];
static size_t n_exts;

int conf_ext_register(const struct conf_ext_ops *ops)
{
	if (n_exts == CONF_EXT_MAX || conf_ext_slot(ops->key) >= 0)
		return -1;
	exts[n_exts] = ops;
	return (int)n_exts++;
}

#define CONF_KINDS_MAX 8
static const char *kinds[CONF_KINDS_MAX];
static size_t n_kinds;

int conf_kind_register(const char *kind)
{
	if (n_kinds == CONF_KINDS_MAX || conf_kind_known(kind))
		return -1;
	kinds[n_kinds++] = kind;
	return 0;
}

bool conf_kind_known(const char *kind)
{
	for (size_t i = 0; i < n_kinds; i++)
		if (strcmp(kinds[i], kind) == 0)
			return true;
	return false;
}

int conf_ext_slot(const char *key)
{
	for (size_t i = 0; i < n_exts; i++)
		if (strcmp(exts[i]->key, key) == 0)
			return (int)i;
	return -1;
}

size_t conf_ext_count(void)
{
	return n_exts;
}

const struct conf_ext_ops *conf_ext_ops(int slot)
{
	return slot >= 0 && (size_t)slot < n_exts ? exts[slot] : NULL;
}

int conf_read_ext_sections(struct conf_ctx *ctx, const config_setting_t *root)
{
	for (size_t i = 0; i < n_exts; i++) {
		const config_setting_t *s = config_setting_get_member(root, exts[i]->key);
		if (s == NULL)
			continue;
		if (!config_setting_is_group(s))
			return conf_fail(ctx, s, "must be a group { ... }");
		if (exts[i]->read(s, ctx->conf, ctx->name, &ctx->conf->ext[i], ctx->err, CONF_ERR_MAX) < 0) {
			ctx->failed = true;
			return -1;
		}
	}
	return 0;
}

void conf_free_ext(struct npsgw_conf *c)
{
	for (size_t i = 0; i < n_exts; i++)
		if (c->ext[i] != NULL) {
			exts[i]->free(c->ext[i]);
			c->ext[i] = NULL;
		}
}

void conf_write_ext(FILE *out, const struct npsgw_conf *c)
{
	for (size_t i = 0; i < n_exts; i++)
		if (c->ext[i] != NULL)
			exts[i]->write(out, c->ext[i]);
}

bool conf_ext_differs(const struct npsgw_conf *a, const struct npsgw_conf *b, char *what, size_t len)
{
	for (size_t i = 0; i < n_exts; i++) {
		const void *x = a->ext[i], *y = b->ext[i];
		if ((x == NULL) != (y == NULL) || (x != NULL && !exts[i]->equal(x, y))) {
			snprintf(what, len, "%s: differs", exts[i]->key);
			return true;
		}
	}
	return false;
}
