/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's registry hooks (nf/nf.h): boot sizing of the tables, apply, export, interface changes, poll and counters,
 * shutdown. Control thread only; the workers read `ipsec` (ipsec_sa.h) under RCU.
 *
 * IPsec runs when the boot file has an "ipsec" section (`ipsec: { };` is enough: tunnels and SAs normally come from
 * the controller at run time). Without one nothing is allocated, like nat and dslite whose tables are also sized
 * at boot: ipsec.workers stays NULL (the nodes drop what reaches them: esp_unknown_spi, ipsec_no_tunnel), every
 * `ipsec` command and a reload adding the section are refused with IPSEC_NOT_CONFIGURED (restart to enable it).
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
	section_present = false;
	if (c == NULL) {
		memset(&ipsec_cp, 0, sizeof(ipsec_cp)); /* not running: no tables, commands refused */
		return 0;
	}
	return ipsec_cp_init(c, dp.n_workers, dp.max_ifaces, err, errlen);
}

int ipsec_nf_apply(const void *model, char *err, size_t errlen)
{
	int rc = ipsec_cp_apply(model, err, errlen);
	if (rc == 0)
		section_present = model != NULL;
	return rc;
}

/* The running configuration; none when IPsec is not running (no section at boot). */
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
	ipsec_steer_refresh(now_ms);
}

void ipsec_nf_stats(struct ctl_reply *r)
{
	if (ipsec_cp.running)
		ipsec_stats_table(r);
}

void ipsec_nf_fini(void)
{
	if (ipsec_cp.running)
		ipsec_cp_fini();
	section_present = false;
}
