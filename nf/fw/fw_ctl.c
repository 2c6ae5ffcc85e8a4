/* SPDX-License-Identifier: BSD-3-Clause */
/* The firewall's command table and the commands that change something: flush, rule set replace and delete. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/cp.h"
#include "dataplane/events.h"
#include "nf/fw/fw_cp.h"
#include "nf/fw/fw_ctl.h"
#include "nf/nf_util.h"

#define RULESET_FILE_MAX (64u << 20)

const struct ctl_cmd fw_commands[FW_N_COMMANDS] = {
	{"fw show rules", "", "vrf", "firewall rules with hit counters, zone-pair policies and defaults, by VRF",
	 fw_cmd_show_rules},
	{"fw show sessions", "", "vrf proto addr port state worker skip limit",
	 "firewall sessions (filters: proto name or number, addr address or prefix, either side; paged: default limit "
	 "100)",
	 fw_cmd_show_sessions},
	{"fw show stats", "", "", "firewall and session table counters, summed over the workers", fw_cmd_show_stats},
	{"fw show zones", "", "", "firewall zones and their interfaces", fw_cmd_show_zones},
	{"fw flush", "", "vrf", "remove every firewall session (all VRFs or one); waits up to 2 s for the workers",
	 fw_cmd_flush},
	{"fw ruleset replace", "file", "",
	 "replace a VRF's rule set atomically with the one in FILE (on the npsd host; firewall.rulesets entry syntax)",
	 fw_cmd_ruleset_replace},
	{"fw ruleset delete", "vrf", "", "remove a VRF's rule set: its traffic is no longer filtered",
	 fw_cmd_ruleset_delete},
};

int fw_cmd_flush(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	return nf_cmd_flush(a, r, fw_cp_flush, FW_FLUSH_WAIT_MS);
}

/* The whole file as a string (malloc'd), or NULL with err. */
static char *file_read(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(RULESET_FILE_MAX + 1);
	size_t n = text != NULL ? fread(text, 1, RULESET_FILE_MAX + 1, f) : 0;
	bool bad = text == NULL || ferror(f) || n > RULESET_FILE_MAX;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 text == NULL ? "out of memory" : n > RULESET_FILE_MAX ? "larger than 64 MiB" : "read error");
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

int fw_cmd_ruleset_replace(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX], what[CTL_ERR_MAX], nrules[24], gen_s[24];
	const char *path = ctl_arg(a, "file");
	struct fw_ruleset_conf *rs = NULL;
	uint32_t gen;
	if (fw.conf == NULL)
		return ctl_reply_error(r, ENOTSUP, "the firewall is not enabled (the %s configuration has no firewall "
				       "section)", fw.workers == NULL ? "boot" : "running");
	char *text = file_read(path, err, sizeof(err));
	if (text == NULL)
		return ctl_reply_error(r, EIO, "%s", err);
	int rc = fw_ruleset_read_text(text, path, fw.conf, &rs, err, sizeof(err)) ? EINVAL : 0;
	free(text);
	if (rc == 0)
		rc = fw_cp_ruleset_replace(rs, &gen, err, sizeof(err));
	if (rc) {
		fw_ruleset_free(rs);
		return ctl_reply_error(r, rc, "%s", err);
	}
	struct ctl_table *t = ctl_reply_table(r, "ruleset", "vrf", "#rules", "#generation", NULL);
	snprintf(nrules, sizeof(nrules), "%zu", rs->n_rules);
	snprintf(gen_s, sizeof(gen_s), "%" PRIu32, gen);
	ctl_table_row(t, rs->vrf, nrules, gen_s);
	snprintf(what, sizeof(what), "fw ruleset replace vrf %s", rs->vrf);
	event_config(what);
	fw_ruleset_free(rs);
	return 0;
}

int fw_cmd_ruleset_delete(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX], what[CTL_ERR_MAX];
	const char *vname = ctl_arg(a, "vrf");
	const struct vrf *v = vrf_by_name(vname); /* NULL: a dormant rule set, no sessions */
	int rc = fw_cp_ruleset_delete(vname, err, sizeof(err));
	if (rc)
		return ctl_reply_error(r, rc, "%s", err);
	snprintf(what, sizeof(what), "fw ruleset delete vrf %s", vname);
	event_config(what);
	/* The delete posted the VRF's flush; wait for it as `fw flush` does (one more request for the VRF merges). */
	uint64_t removed = 0;
	bool complete = true;
	if (v != NULL && fw_cp_flush(v->slot, FW_FLUSH_WAIT_MS, &removed, &complete, err, sizeof(err)) != 0)
		complete = false;
	if (complete)
		sbuf_printf(&r->text, "VRF %s: rule set removed, its sessions flushed\n", vname);
	else
		sbuf_printf(&r->text,
			    "VRF %s: rule set removed; its sessions are being flushed (the workers had not finished after "
			    "%u ms: they finish on their own)\n",
			    vname, FW_FLUSH_WAIT_MS);
	return 0;
}
