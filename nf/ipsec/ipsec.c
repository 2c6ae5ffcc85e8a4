/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's registry hooks (nf/nf.h): boot sizing of the tables (always: tunnels and SAs normally come from the
 * controller at run time, even when the boot file has no "ipsec" section), apply, export, interface changes, poll
 * and counters, shutdown. Control thread only; the workers read `ipsec` (ipsec_sa.h) under RCU.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"
#include "lib/conf/conf_ext.h"
#include "nf/ipsec/ipsec_cp.h"

static bool section_present; /* the running configuration has an ipsec section (export writes one) */

int ipsec_nf_init(const struct npsgw_conf *conf, char *err, size_t errlen)
{
	int slot = conf_ext_slot("ipsec");
	const struct ipsec_conf *c = slot >= 0 ? conf->ext[slot] : NULL;
	uint32_t max_sas = c != NULL ? c->max_sas : IPSEC_CONF_MAX_SAS_DEFAULT;
	section_present = false;
	int rc = ipsec_cp_init(max_sas, dp.n_workers, dp.max_ifaces, err, errlen);
	if (rc != 0 && c == NULL) {
		/* IPsec is not configured: the gateway runs without it (ipsec commands say why) */
		fprintf(stderr, "npsd: ipsec: not running: %s\n", err);
		return 0;
	}
	return rc;
}

int ipsec_nf_apply(const void *model, char *err, size_t errlen)
{
	int rc = ipsec_cp_apply(model, err, errlen);
	if (rc == 0)
		section_present = model != NULL;
	return rc;
}

/* The running configuration; none when there is no section and no tunnel (a file without one compares equal). */
void *ipsec_nf_export(void)
{
	if (!ipsec_cp.running || (!section_present && ipsec_cp.n_tunnels == 0))
		return NULL;
	return ipsec_cp_export();
}

void ipsec_nf_iface_changed(void)
{
	ipsec_cp_iface_changed();
}

void ipsec_nf_poll(uint64_t now_ms)
{
	ipsec_cp_poll(now_ms);
}

void ipsec_nf_stats(struct ctl_reply *r)
{
	if (ipsec_cp.running)
		ipsec_stats_table(r);
}

void ipsec_nf_fini(void)
{
	ipsec_cp_fini();
	section_present = false;
}
