/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config sections owned by network functions ("firewall", ...). The loader knows them only through these
 * operations, registered once before the first load (nf_register_conf()). A section's model lives in
 * npsgw_conf.ext[slot] (NULL when the file has no such section); conf_free, conf_write and the transaction diff go
 * through the same operations.
 */
#ifndef NPSGW_CONF_EXT_H
#define NPSGW_CONF_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libconfig.h>

struct npsgw_conf;

#define CONF_EXT_MAX 8

struct conf_ext_ops {
	const char *key; /* top-level key */
	/*
	 * Read section s (core: the sections read before it, for name checks; file: the file name for messages of the
	 * form "FILE:LINE: what is wrong (expected ...)"). 0 with *model set, or -1 with err filled.
	 */
	int (*read)(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model, char *err,
		    size_t errlen);
	void (*free)(void *model);
	bool (*equal)(const void *a, const void *b);
	void *(*dup)(const void *model);
	void (*write)(FILE *out, const void *model); /* the whole section, "key: { ... };\n" */
};

/* Register a section; returns its slot, or -1 when CONF_EXT_MAX are registered or the key is taken. */
int conf_ext_register(const struct conf_ext_ops *ops);
/* Interface kinds other than device ports ("ipsec"): registered by the functions that own such interfaces. */
int conf_kind_register(const char *kind);
bool conf_kind_known(const char *kind);
/* The slot of a key, -1 when not registered. */
int conf_ext_slot(const char *key);
/* Registered sections (slots 0 .. conf_ext_count() - 1). */
size_t conf_ext_count(void);
const struct conf_ext_ops *conf_ext_ops(int slot);

#endif
