/* SPDX-License-Identifier: BSD-3-Clause */
/* The "sessions" block shared by the network functions' sections (nf_conf.h). */
#include <inttypes.h>
#include <stdio.h>

#include "lib/conf/conf_write.h"
#include "nf/nf_conf.h"

static const char *const sessions_keys[] = {"max", "when_full", "tcp_window_check", "tcp_loose", "timeouts", NULL};
static const char *const timeout_keys[NF_SESSION_TIMEOUTS + 1] = {
	"tcp_established", "tcp_transitory", "tcp_time_wait", "tcp_closed", "udp", "icmp", "other", NULL};
static const char *const full_names[] = {"refuse", "evict-transitory"};

static int read_timeouts(struct conf_ctx *ctx, const config_setting_t *t,
			 const struct nf_timeout_floor floors[NF_SESSION_TIMEOUTS], struct ct_timeouts *to)
{
	uint32_t *values[NF_SESSION_TIMEOUTS] = {&to->tcp_established, &to->tcp_transitory, &to->tcp_time_wait,
						 &to->tcp_closed,      &to->udp,	    &to->icmp,
						 &to->other};
	if (conf_check_keys(ctx, t, timeout_keys) < 0)
		return -1;
	for (size_t i = 0; i < NF_SESSION_TIMEOUTS; i++) {
		if (floors == NULL) {
			if (conf_read_u32(ctx, t, timeout_keys[i], 1, NF_SESSION_TIMEOUT_MAX, values[i]) < 0)
				return -1;
			continue;
		}
		/* Range checked here, so that a value too short names the reason (an RFC) it breaks. */
		uint32_t v = *values[i];
		int rc = conf_read_u32(ctx, t, timeout_keys[i], 0, UINT32_MAX, &v);
		if (rc < 0)
			return -1;
		if (rc > 0 && (v < floors[i].min || v > NF_SESSION_TIMEOUT_MAX))
			return conf_fail(ctx, config_setting_get_member(t, timeout_keys[i]),
					 "%u is out of range (expected %u..%u%s)", v, floors[i].min,
					 NF_SESSION_TIMEOUT_MAX, floors[i].why);
		*values[i] = v;
	}
	return 0;
}

int nf_conf_read_sessions(struct conf_ctx *ctx, const config_setting_t *parent, uint32_t max_sessions,
			  const struct nf_timeout_floor floors[NF_SESSION_TIMEOUTS], struct ct_params *p)
{
	const config_setting_t *s = conf_read_group(ctx, parent, "sessions");
	if (s == NULL)
		return ctx->failed ? -1 : 0;
	uint8_t full = (uint8_t)p->full_policy;
	if (conf_check_keys(ctx, s, sessions_keys) < 0 ||
	    conf_read_u32(ctx, s, "max", 1, max_sessions, &p->max_sessions) < 0 ||
	    conf_read_choice(ctx, s, "when_full", full_names, 2, &full) < 0 ||
	    conf_read_bool(ctx, s, "tcp_window_check", &p->tcp_window_check) < 0 ||
	    conf_read_bool(ctx, s, "tcp_loose", &p->tcp_loose) < 0)
		return -1;
	p->full_policy = full == 0 ? CT_FULL_REFUSE : CT_FULL_EVICT_TRANSITORY;
	const config_setting_t *t = conf_read_group(ctx, s, "timeouts");
	if (t == NULL)
		return ctx->failed ? -1 : 0;
	return read_timeouts(ctx, t, floors, &p->timeouts);
}

void nf_conf_write_sessions(FILE *out, const struct ct_params *p)
{
	const struct ct_timeouts *t = &p->timeouts;
	fprintf(out, "\tsessions: {\n\t\t");
	conf_write_u32(out, "max", p->max_sessions);
	fprintf(out, "\n\t\twhen_full = \"%s\";\n",
		p->full_policy == CT_FULL_EVICT_TRANSITORY ? "evict-transitory" : "refuse");
	fprintf(out, "\t\ttcp_window_check = %s;\n\t\ttcp_loose = %s;\n", p->tcp_window_check ? "true" : "false",
		p->tcp_loose ? "true" : "false");
	fprintf(out,
		"\t\ttimeouts: { tcp_established = %" PRIu32 "; tcp_transitory = %" PRIu32 "; tcp_time_wait = %" PRIu32
		"; tcp_closed = %" PRIu32 ";\n\t\t\tudp = %" PRIu32 "; icmp = %" PRIu32 "; other = %" PRIu32 "; };\n",
		t->tcp_established, t->tcp_transitory, t->tcp_time_wait, t->tcp_closed, t->udp, t->icmp, t->other);
	fprintf(out, "\t};\n");
}

bool nf_conf_sessions_equal(const struct ct_params *a, const struct ct_params *b)
{
	const struct ct_timeouts *x = &a->timeouts, *y = &b->timeouts;
	return a->max_sessions == b->max_sessions && a->tcp_window_check == b->tcp_window_check &&
	       a->tcp_loose == b->tcp_loose && a->full_policy == b->full_policy &&
	       x->tcp_established == y->tcp_established && x->tcp_transitory == y->tcp_transitory &&
	       x->tcp_time_wait == y->tcp_time_wait && x->tcp_closed == y->tcp_closed && x->udp == y->udp &&
	       x->icmp == y->icmp && x->other == y->other;
}
