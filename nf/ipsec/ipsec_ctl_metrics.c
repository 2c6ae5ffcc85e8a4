/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-tunnel health metrics for the Prometheus endpoint / DPDK telemetry (the counters of `ipsec show tunnels`),
 * labelled by tunnel interface and tenant VRF. Control thread only (it reads the records and sums the per-worker
 * counters like the show command).
 *
 * The core's metrics snapshot (dataplane/metrics.[ch]) has no place for a function's counters yet: the lead wires
 * ipsec_tunnel_metrics() to the snapshot with a small adapter (proposed nf_desc.metrics hook, see docs/IPSEC.md
 * "Health metrics"). Families come one after the other, every tunnel within a family, so a renderer writes each
 * family's HELP/TYPE once.
 */
#include <stdint.h>

#include "dataplane/cp.h"
#include "nf/ipsec/ipsec_cp.h"

/* name (without the npsgw_ipsec_tunnel_ prefix and _total suffix), help, member of struct ipsec_tunnel_stats */
#define IPSEC_TUNNEL_METRICS(X)                                                                                       \
	X(rx_packets, "Inner packets decrypted and delivered into the tenant VRF, per IPsec tunnel.")                  \
	X(rx_bytes, "Inner bytes decrypted and delivered into the tenant VRF, per IPsec tunnel.")                      \
	X(tx_packets, "Inner packets encrypted and sent, per IPsec tunnel.")                                           \
	X(tx_bytes, "Inner bytes encrypted and sent, per IPsec tunnel.")                                               \
	X(icv_failed, "Inbound ESP packets whose integrity check failed (wrong key, corruption, forgery).")            \
	X(replay, "Inbound ESP packets refused by the anti-replay window (duplicates, too old).")                      \
	X(lost, "Underlay loss estimate: sequence numbers that left the anti-replay window without arriving.")         \
	X(decrypt_errors, "Inbound ESP packets with bad padding or next header after a good ICV.")                     \
	X(no_sa, "Outbound packets without a usable SA (none, expired, sequence numbers exhausted).")

static const char *vrf_name_of(uint32_t slot)
{
	const struct vrf *v = slot < dp.max_vrfs ? dp.vrfs[slot] : NULL;
	return v != NULL ? v->name : "";
}

void ipsec_tunnel_metrics(ipsec_metric_fn *add, void *sink)
{
	if (!ipsec_cp.running || ipsec_cp.n_tunnels == 0)
		return;
	size_t n = ipsec_cp.n_tunnels;
	struct ipsec_tunnel_stats st[n];
	const char *vrf[n];
	for (size_t i = 0; i < n; i++) {
		const struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		const struct iface *ifc = iface_by_name(rec->conf.interface);
		ipsec_cp_tunnel_sum(rec, &st[i]);
		vrf[i] = ifc != NULL ? vrf_name_of(ifc->vrf) : ""; /* dormant without its interface: no tenant VRF */
	}
#define IPSEC_METRIC_FAMILY(member, help)                                                                             \
	for (size_t i = 0; i < n; i++)                                                                                \
		add(sink, "npsgw_ipsec_tunnel_" #member "_total", "counter", help,                                    \
		    ipsec_cp.tunnels[i]->conf.interface, vrf[i], st[i].member);
	IPSEC_TUNNEL_METRICS(IPSEC_METRIC_FAMILY)
#undef IPSEC_METRIC_FAMILY
	for (size_t i = 0; i < n; i++)
		add(sink, "npsgw_ipsec_tunnel_peer_moves_total", "counter",
		    "Peer moves of follow_peer tunnels (the peer roamed to another address or port).",
		    ipsec_cp.tunnels[i]->conf.interface, vrf[i], ipsec_cp.tunnels[i]->peer_moves);
	for (size_t i = 0; i < n; i++) {
		const struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		add(sink, "npsgw_ipsec_tunnel_up", "gauge",
		    "1 when the IPsec tunnel is published with an outbound SA, 0 when dormant or without one.",
		    rec->conf.interface, vrf[i], rec->published && rec->active_out >= 0);
	}
}
