/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT counters summed over the workers (nat_counters.h and the session tables), and small display helpers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"
#include "nf/nat/nat_cp.h"
#include "nf/nf_util.h"

static const char *const counter_names[] = {
#define NAT_COUNTER_NAME(n, d) #n,
	NAT_COUNTERS(NAT_COUNTER_NAME)
#undef NAT_COUNTER_NAME
};
static const char *const counter_descs[] = {
#define NAT_COUNTER_DESC(n, d) d,
	NAT_COUNTERS(NAT_COUNTER_DESC)
#undef NAT_COUNTER_DESC
};

void nat_counters_sum(uint64_t cnt[NAT_CNT_COUNT])
{
	NF_COUNTERS_SUM(cnt, NAT_CNT_COUNT, nat.workers, nat.n_workers, cnt);
}

void nat_ct_stats_sum(struct ct_stats *s, uint64_t *capacity)
{
	NF_CT_STATS_SUM(s, capacity, nat.workers, nat.n_workers, ct);
}

void nat_stats_table(struct ctl_reply *r)
{
	uint64_t cnt[NAT_CNT_COUNT], capacity, maps = 0, subs = 0, addrs = 0, draining = 0;
	struct ct_stats s;
	nat_counters_sum(cnt);
	nat_ct_stats_sum(&s, &capacity);
	for (unsigned w = 0; nat.workers != NULL && w < nat.n_workers; w++) {
		maps += __atomic_load_n(&nat.workers[w].n_maps, __ATOMIC_RELAXED);
		subs += __atomic_load_n(&nat.workers[w].n_subs, __ATOMIC_RELAXED);
	}
	for (uint32_t a = 0; a < NAT_MAX_ADDRS; a++) {
		addrs += nat.paddrs[a] != NULL;
		draining += nat.paddrs[a] != NULL && nat.addr_draining[a];
	}
	struct ctl_table *t = ctl_reply_table(r, "nat", "counter", "#value", "description", NULL);
	nf_stats_row(t, "enabled", nat.conf != NULL, "a nat section is running");
	nf_stats_row(t, "public_addresses", addrs, "public addresses with a slot (draining ones included)");
	nf_stats_row(t, "public_addresses_draining", draining, "addresses removed from their pool, waiting for their blocks");
	nf_stats_row(t, "subscribers_active", subs, "subscribers with port blocks now");
	nf_stats_row(t, "mappings_active", maps, "mappings now");
	nf_stats_row(t, "sessions_active", s.active, "sessions in the tables now");
	nf_stats_row(t, "sessions_capacity", capacity, "sessions the tables hold (sized at boot)");
	nf_stats_row(t, "sessions_expired", s.expired, "sessions that timed out");
	nf_stats_row(t, "sessions_deleted", s.deleted, "sessions deleted (TCP restart)");
	nf_stats_row(t, "sessions_flushed", s.flushed, "sessions removed by a flush");
	nf_stats_row(t, "sessions_refused_full", s.refused_full, "new sessions refused: table full");
	nf_stats_row(t, "sessions_evicted", s.evicted, "transitory sessions evicted to make room");
	nf_stats_row(t, "sessions_restarted", s.restarted, "closed sessions reopened by a new SYN");
	nf_stats_row(t, "tcp_invalid_flags", s.invalid_flags, "TCP segments with impossible flags");
	nf_stats_row(t, "tcp_out_of_window", s.out_of_window, "TCP segments outside the tracked window");
	nf_stats_row(t, "tcp_invalid_state", s.invalid_state, "TCP segments not valid in their session's state");
	for (int i = 0; i < NAT_CNT_COUNT; i++)
		nf_stats_row(t, counter_names[i], cnt[i], counter_descs[i]);
}

const char *nat_proto_name(uint8_t proto)
{
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : "?";
}

const char *nat_vrf_name(uint32_t slot)
{
	const struct vrf *v = slot < dp.max_vrfs ? dp.vrfs[slot] : NULL;
	return v != NULL ? v->name : "?";
}

const char *nat_realm_name(uint32_t realm)
{
	return (realm & NAT_REALM_B4) != 0 ? "dslite" : nat_vrf_name(realm);
}

const char *nat_ip4_fmt(uint32_t host_order, char *buf, size_t len)
{
	struct addr a;
	addr_from_v4_host(&a, host_order);
	return addr_fmt(&a, buf, len);
}

const char *nat_ip6_fmt(const uint8_t b[16], char *buf, size_t len)
{
	struct addr a = {.family = 6};
	memcpy(a.bytes, b, 16);
	return addr_fmt(&a, buf, len);
}
