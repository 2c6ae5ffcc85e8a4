/* SPDX-License-Identifier: BSD-3-Clause */
/* Firewall counters summed over the workers (fw_counters.h and the session tables), and small display helpers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"
#include "nf/fw/fw_cp.h"
#include "nf/nf_util.h"

static const char *const counter_names[] = {
#define FW_COUNTER_NAME(n, d) #n,
	FW_COUNTERS(FW_COUNTER_NAME)
#undef FW_COUNTER_NAME
};
static const char *const counter_descs[] = {
#define FW_COUNTER_DESC(n, d) d,
	FW_COUNTERS(FW_COUNTER_DESC)
#undef FW_COUNTER_DESC
};

void fw_counters_sum(uint64_t cnt[FW_CNT_COUNT])
{
	NF_COUNTERS_SUM(cnt, FW_CNT_COUNT, fw.workers, fw.n_workers, cnt);
}

void fw_ct_stats_sum(struct ct_stats *s, uint64_t *capacity)
{
	NF_CT_STATS_SUM(s, capacity, fw.workers, fw.n_workers, ct);
}

void fw_stats_table(struct ctl_reply *r)
{
	uint64_t cnt[FW_CNT_COUNT], capacity;
	struct ct_stats s;
	fw_counters_sum(cnt);
	fw_ct_stats_sum(&s, &capacity);
	struct ctl_table *t = ctl_reply_table(r, "firewall", "counter", "#value", "description", NULL);
	nf_stats_row(t, "enabled", fw.enabled, "a firewall section is running");
	nf_stats_row(t, "sessions_active", s.active, "sessions in the tables now");
	nf_stats_row(t, "sessions_capacity", capacity, "sessions the tables hold (sized at boot)");
	nf_stats_row(t, "sessions_created", s.created, "sessions opened");
	nf_stats_row(t, "sessions_expired", s.expired, "sessions that timed out");
	nf_stats_row(t, "sessions_deleted", s.deleted, "sessions deleted (TCP restart, revalidation)");
	nf_stats_row(t, "sessions_flushed", s.flushed, "sessions removed by a flush");
	nf_stats_row(t, "sessions_refused_full", s.refused_full, "new sessions refused: table full");
	nf_stats_row(t, "sessions_evicted", s.evicted, "transitory sessions evicted to make room");
	nf_stats_row(t, "sessions_restarted", s.restarted, "closed sessions reopened by a new SYN");
	/* The firewall drops impossible flag combinations before the lookup (fw_tcp_bad_flags): the tracker never sees
	 * one, this stays 0 (kept for the table's other users and for a stable list). */
	nf_stats_row(t, "tcp_invalid_flags", s.invalid_flags, "TCP segments with impossible flags seen by the tracker (0: "
	    "the firewall drops them before lookup, fw_tcp_bad_flags)");
	nf_stats_row(t, "tcp_out_of_window", s.out_of_window, "TCP segments outside the tracked window");
	nf_stats_row(t, "tcp_invalid_state", s.invalid_state, "TCP segments not valid in their session's state");
	for (int i = 0; i < FW_CNT_COUNT; i++)
		nf_stats_row(t, counter_names[i], cnt[i], counter_descs[i]);
}

const char *fw_proto_name(uint8_t proto, char *buf, size_t len)
{
	static const char *const names[256] = {
		[1] = "icmp", [6] = "tcp", [17] = "udp", [58] = "icmpv6", [132] = "sctp",
	};
	if (names[proto] != NULL)
		snprintf(buf, len, "%s", names[proto]);
	else
		snprintf(buf, len, "%u", proto);
	return buf;
}

const char *fw_vrf_name(uint32_t slot)
{
	const struct vrf *v = slot < dp.max_vrfs ? dp.vrfs[slot] : NULL;
	return v != NULL ? v->name : "?";
}
