/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `ipsec show tunnels | sas | stats` and the "ipsec" table of `show stats`: read-only views of the running IPsec.
 * The workers' per-worker counters are summed in place (a row being written may show torn, which a display
 * tolerates). No key material is ever read here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"
#include "nf/ipsec/ipsec_cp.h"
#include "nf/ipsec/ipsec_ctl.h"
#include "nf/nf_util.h"

#define U64(buf, v) (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)

static int check_running(struct ctl_reply *r)
{
	if (ipsec_cp.running)
		return 0;
	return ctl_reply_error(r, ENOTSUP, IPSEC_NOT_CONFIGURED);
}

/* The tunnel the "interface" argument names (NULL: all); -1 after an error reply. */
static int tunnel_filter(const struct ctl_args *a, struct ctl_reply *r, const struct ipsec_cp_tunnel **out)
{
	const char *name = ctl_arg(a, "interface");
	*out = NULL;
	if (name == NULL)
		return 0;
	if ((*out = ipsec_cp_tunnel_find(name)) == NULL) {
		ctl_reply_error(r, ENOENT, "no tunnel on interface %.32s", name);
		return -1;
	}
	return 0;
}

static const char *vrf_name(uint32_t slot)
{
	const struct vrf *v = slot < dp.max_vrfs ? dp.vrfs[slot] : NULL;
	return v != NULL ? v->name : "?";
}

/* ---- tunnels ---- */

static void tunnel_row(struct ctl_table *t, const struct ipsec_cp_tunnel *rec)
{
	struct ipsec_tunnel_stats st;
	char local[ADDR_STR_MAX], remote[ADDR_STR_MAX], state[128], out_spi[16] = "-", in_spis[64] = "", c[12][24];
	const struct iface *ifc = iface_by_name(rec->conf.interface);
	ipsec_cp_tunnel_sum(rec, &st);
	addr_fmt(&rec->conf.local, local, sizeof(local));
	addr_fmt(&rec->remote, remote, sizeof(remote));
	if (rec->published)
		snprintf(state, sizeof(state), "%s", rec->active_out >= 0 ? "active" : "active (no outbound SA)");
	else
		snprintf(state, sizeof(state), "dormant: %s", rec->dormant_why);
	if (rec->active_out >= 0)
		snprintf(out_spi, sizeof(out_spi), "0x%x", rec->out[rec->active_out].sa->spi);
	for (unsigned i = 0; i < rec->n_in; i++) {
		size_t l = strlen(in_spis);
		snprintf(in_spis + l, sizeof(in_spis) - l, "%s0x%x", i ? "," : "", rec->in[i].sa->spi);
	}
	ctl_table_row(t, rec->conf.interface, ifc != NULL ? vrf_name(ifc->vrf) : "-", rec->conf.transport_vrf, local,
		      remote, U64(c[0], rec->remote_port), rec->udp_encap ? "on" : "off",
		      rec->conf.follow_peer ? "on" : "off", U64(c[1], rec->conf.mss_clamp), state, out_spi,
		      in_spis[0] ? in_spis : "-", U64(c[2], st.rx_packets), U64(c[3], st.rx_bytes),
		      U64(c[4], st.tx_packets), U64(c[5], st.tx_bytes), U64(c[6], st.icv_failed), U64(c[7], st.replay),
		      U64(c[8], st.decrypt_errors), U64(c[9], st.lost), U64(c[10], st.no_sa),
		      U64(c[11], rec->peer_moves));
}

int ipsec_cmd_show_tunnels(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	const struct ipsec_cp_tunnel *only;
	if (check_running(r) || tunnel_filter(a, r, &only) < 0)
		return r->status;
	struct ctl_table *t = ctl_reply_table(
		r, "tunnels", "interface", "vrf", "transport_vrf", "local", "remote", "#remote_port", "udp_encap",
		"follow_peer", "#mss_clamp", "state", "out_spi", "in_spis", "#rx_packets", "#rx_bytes", "#tx_packets",
		"#tx_bytes", "#icv_failed", "#replay", "#decrypt_errors", "#lost", "#no_sa", "#peer_moves", NULL);
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++)
		if (only == NULL || ipsec_cp.tunnels[i] == only)
			tunnel_row(t, ipsec_cp.tunnels[i]);
	return 0;
}

/* ---- SAs ---- */

static const char *sa_state(const struct ipsec_cp_tunnel *rec, const struct ipsec_cp_sa *s)
{
	const struct ipsec_sa *sa = s->sa;
	if (__atomic_load_n(&sa->expired, __ATOMIC_RELAXED))
		return "expired";
	if (sa->dir == IPSEC_DIR_OUT && __atomic_load_n(&sa->seq_exhausted, __ATOMIC_RELAXED))
		return "exhausted";
	if (!rec->published)
		return "dormant";
	if (sa->dir == IPSEC_DIR_OUT)
		return ipsec_cp_sa_is_active(rec, s) ? "active" : "inactive";
	return "active";
}

static void sa_row(struct ctl_table *t, const struct ipsec_cp_tunnel *rec, const struct ipsec_cp_sa *s, uint64_t now)
{
	const struct ipsec_sa *sa = s->sa;
	struct ipsec_sa_stats st;
	uint64_t lost = 0;
	char spi[16], c[16][24];
	ipsec_sa_sum(sa, &st, &lost);
	snprintf(spi, sizeof(spi), "0x%x", sa->spi);
	ctl_table_row(t, rec->conf.interface, spi, ipsec_dir_name(sa->dir), ipsec_alg_name(sa->alg),
		      sa->esn ? "on" : "off", U64(c[0], sa->dir == IPSEC_DIR_IN ? sa->replay_window : 0),
		      sa_state(rec, s), s->conf != NULL ? "config" : "control",
		      U64(c[1], sa->dir == IPSEC_DIR_IN ? sa->owner : 0), U64(c[2], st.packets), U64(c[3], st.bytes),
		      U64(c[4], st.icv_failed), U64(c[5], st.replay), U64(c[6], st.decrypt_errors), U64(c[7], lost),
		      U64(c[8], st.refused), U64(c[9], sa->dir == IPSEC_DIR_OUT ? ipsec_sa_seq_used(sa) : 0),
		      U64(c[10], sa->soft_bytes), U64(c[11], sa->hard_bytes), U64(c[12], sa->soft_packets),
		      U64(c[13], sa->hard_packets), U64(c[14], now > s->created_ms ? (now - s->created_ms) / 1000 : 0));
}

int ipsec_cmd_show_sas(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	const struct ipsec_cp_tunnel *only;
	if (check_running(r) || tunnel_filter(a, r, &only) < 0)
		return r->status;
	struct ctl_table *t = ctl_reply_table(r, "sas", "interface", "spi", "direction", "alg", "esn", "#replay_window",
					      "state", "origin", "#owner", "#packets", "#bytes", "#icv_failed",
					      "#replay", "#decrypt_errors", "#lost", "#refused", "#seq_used",
					      "#soft_bytes", "#hard_bytes", "#soft_packets", "#hard_packets", "#age_s",
					      NULL);
	uint64_t now = cp_now_ms();
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++) {
		const struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		if (only != NULL && rec != only)
			continue;
		for (unsigned k = 0; k < rec->n_in; k++)
			sa_row(t, rec, &rec->in[k], now);
		for (unsigned k = 0; k < rec->n_out; k++)
			sa_row(t, rec, &rec->out[k], now);
	}
	return 0;
}

/* ---- stats ---- */

void ipsec_counters_sum(uint64_t cnt[IPSEC_CNT_COUNT])
{
	NF_COUNTERS_SUM(cnt, IPSEC_CNT_COUNT, ipsec.workers, ipsec.n_workers, cnt);
}

void ipsec_stats_table(struct ctl_reply *r)
{
	static const char *const names[] = {
#define IPSEC_COUNTER_NAME(n, d) #n,
		IPSEC_COUNTERS(IPSEC_COUNTER_NAME)
#undef IPSEC_COUNTER_NAME
	};
	static const char *const descs[] = {
#define IPSEC_COUNTER_DESC(n, d) d,
		IPSEC_COUNTERS(IPSEC_COUNTER_DESC)
#undef IPSEC_COUNTER_DESC
	};
	uint64_t cnt[IPSEC_CNT_COUNT], published = 0, in = 0, out = 0, expired = 0, exhausted = 0;
	ipsec_counters_sum(cnt);
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++) {
		const struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		published += rec->published;
		in += rec->n_in;
		out += rec->n_out;
		for (unsigned k = 0; k < rec->n_in + rec->n_out; k++) {
			const struct ipsec_sa *sa = k < rec->n_in ? rec->in[k].sa : rec->out[k - rec->n_in].sa;
			expired += __atomic_load_n(&sa->expired, __ATOMIC_RELAXED) != 0;
			exhausted += sa->dir == IPSEC_DIR_OUT && __atomic_load_n(&sa->seq_exhausted, __ATOMIC_RELAXED);
		}
	}
	struct ctl_table *t = ctl_reply_table(r, "ipsec", "counter", "#value", "description", NULL);
	nf_stats_row(t, "tunnels", ipsec_cp.n_tunnels, "tunnels configured");
	nf_stats_row(t, "tunnels_dormant", ipsec_cp.n_tunnels - published,
		     "tunnels whose interface or transport VRF does not exist (not running)");
	nf_stats_row(t, "sas_inbound", in, "inbound SAs");
	nf_stats_row(t, "sas_outbound", out, "outbound SAs (active and inactive)");
	nf_stats_row(t, "sas_expired", expired, "SAs past their hard lifetime (refused until deleted)");
	nf_stats_row(t, "sas_seq_exhausted", exhausted, "outbound SAs out of sequence numbers (rekey needed)");
	nf_stats_row(t, "sas_capacity", ipsec_cp.max_sas, "SAs the gateway holds (ipsec.max_sas, fixed at boot)");
	nf_stats_row(t, "peer_moves_applied", ipsec_cp.peer_moves_applied,
		     "follow_peer moves published (outbound traffic went to the new peer)");
	nf_stats_row(t, "peer_moves_ignored", ipsec_cp.peer_moves_ignored,
		     "peer moves posted but not applied (repeats, stale: the tunnel was set since, follow_peer off, "
		     "SA gone)");
	nf_stats_row(t, "spi_table_rebuilds", ipsec_cp.spi_table_rebuilds,
		     "fresh SPI tables published: deleted SPIs had used up the spare slots (2 x max_sas slots, 3/4 used)");
	nf_stats_row(t, "keys_seen", ipsec_keys_count(),
		     "keys given to SAs since start-up (fingerprints: a key serves one SA identity until restart)");
	for (int i = 0; i < IPSEC_CNT_COUNT; i++)
		nf_stats_row(t, names[i], cnt[i], descs[i]);
}

int ipsec_cmd_show_stats(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (check_running(r))
		return r->status;
	ipsec_stats_table(r);
	return 0;
}
