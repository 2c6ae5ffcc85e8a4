/* SPDX-License-Identifier: BSD-3-Clause */
/* Test-only: a function's config section read from text as the loader reads it (the functions' unit tests). */
#ifndef NPSGW_NF_CONF_TEST_H
#define NPSGW_NF_CONF_TEST_H

#include <stdio.h>

#include <libconfig.h>

#include "lib/conf/conf.h"

/* A function's section reader with an untyped model (each test adapts its own, e.g. fw_conf_read). */
typedef int nf_conf_test_read_fn(const config_setting_t *s, const struct npsgw_conf *core, const char *file,
				 void **model, char *err, size_t errlen);

/* The model of section key in text, or NULL with err filled ("libconfig: line N: ...", "no KEY section", or the
 * reader's own "FILE:LINE: ..." message). */
static inline void *nf_conf_test_load(const char *text, const char *key, nf_conf_test_read_fn *read,
				      const struct npsgw_conf *core, const char *file, char err[CONF_ERR_MAX])
{
	config_t cfg;
	config_init(&cfg);
	err[0] = '\0';
	void *model = NULL;
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		snprintf(err, CONF_ERR_MAX, "libconfig: line %d: %s", config_error_line(&cfg), config_error_text(&cfg));
	} else {
		const config_setting_t *s = config_lookup(&cfg, key);
		if (s == NULL)
			snprintf(err, CONF_ERR_MAX, "no %s section", key);
		else if (read(s, core, file, &model, err, CONF_ERR_MAX) < 0)
			model = NULL;
	}
	config_destroy(&cfg);
	return model;
}

/* As nf_conf_test_load, for text that must load: the error is printed when it does not. */
static inline void *nf_conf_test_load_ok(const char *text, const char *key, nf_conf_test_read_fn *read,
					 const struct npsgw_conf *core, const char *file)
{
	char err[CONF_ERR_MAX];
	void *model = nf_conf_test_load(text, key, read, core, file, err);
	if (model == NULL)
		fprintf(stderr, "\nunexpected error: %s\n", err);
	return model;
}

#endif
