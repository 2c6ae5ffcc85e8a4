/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 neighbour discovery (RFC 4861) on the control thread: answer solicitations for our addresses (unicast,
 * link-local, via solicited-node multicast), learn from NS source link-layer options and NA target options,
 * send NS probes and unsolicited NAs. Workers validated the message (hop limit, checksum, lengths, options).
 */
#include <string.h>

#include <rte_ip.h>

#include "dataplane/neigh_int.h"
#include "dataplane/nodes/ip6_util.h"
#include "lib/hdr/ip_checks.h"

void *ctl_frame_start(struct rte_mbuf *m, const struct iface *ifc, const uint8_t *dst_mac, uint16_t ether_type,
		      uint16_t l3len);

enum { ND_NS = 135, ND_NA = 136, ND_RS = 133, ND_RA = 134, ND_REDIRECT = 137 };
enum { ND_OPT_SLLA = 1, ND_OPT_TLLA = 2 };
#define NA_FLAG_ROUTER 0x80
#define NA_FLAG_SOLICITED 0x40
#define NA_FLAG_OVERRIDE 0x20

/* NS or NA with one link-layer address option: 24 + 8 bytes of ICMPv6. */
static void ndp_send(const struct iface *ifc, uint8_t type, uint8_t flags, const uint8_t src[16],
		     const uint8_t dst[16], const uint8_t target[16], const uint8_t dst_mac[6])
{
	const uint16_t ulen = 32;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	if (m == NULL) {
		CTL_COUNT(ctl_tx_failed);
		return;
	}
	struct rte_ipv6_hdr *ip =
		ctl_frame_start(m, ifc, dst_mac, RTE_ETHER_TYPE_IPV6, sizeof(struct rte_ipv6_hdr) + ulen);
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		CTL_COUNT(ctl_tx_failed);
		return;
	}
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(ulen);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	memset(icmp, 0, ulen);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, ifc->mac.addr_bytes, 6);
	uint16_t c = inet_csum_fold(inet_csum_add(ip6_pseudo_sum((uint8_t *)ip, ulen, IPPROTO_ICMPV6), icmp, ulen));
	icmp[2] = c >> 8;
	icmp[3] = c & 0xff;
	ctl_tx(ifc->port, m);
}

static void mcast_mac(const uint8_t ip[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, ip + 12, 4);
}

void ndp_send_ns(const struct iface *ifc, const struct addr *target, const uint8_t *dst_mac)
{
	struct addr src;
	uint8_t dst[16], mac[6];
	iface_source_for(ifc, target, &src);
	if (dst_mac != NULL) {
		memcpy(dst, target->bytes, 16);
		memcpy(mac, dst_mac, 6);
	} else {
		ip6_solicited_node(target->bytes, dst);
		mcast_mac(dst, mac);
	}
	ndp_send(ifc, ND_NS, 0, src.bytes, dst, target->bytes, mac);
	CTL_COUNT(ndp_tx_ns);
}

void ndp_send_unsolicited_na(const struct iface *ifc, const struct addr *a)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	uint8_t mac[6];
	mcast_mac(all_nodes, mac);
	ndp_send(ifc, ND_NA, NA_FLAG_ROUTER | NA_FLAG_OVERRIDE, a->bytes, all_nodes, a->bytes, mac);
	CTL_COUNT(ndp_tx_unsolicited_na);
}

/* Find the link-layer address option of the given type; NULL when absent. */
static const uint8_t *ndp_lladdr(const uint8_t *icmp, size_t len, size_t fixed, uint8_t opt_type)
{
	for (size_t off = fixed; off + 8 <= len && icmp[off + 1] != 0; off += icmp[off + 1] * 8u)
		if (icmp[off] == opt_type && icmp[off + 1] == 1)
			return icmp + off + 2;
	return NULL;
}

static void ns_input(const struct iface *ifc, const struct rte_ipv6_hdr *ip, const uint8_t *icmp, size_t len)
{
	static const uint8_t unspecified[16];
	struct addr target = {.family = 6}, src = {.family = 6};
	memcpy(target.bytes, icmp + 8, 16);
	memcpy(src.bytes, ip->src_addr, 16);
	const uint8_t *slla = ndp_lladdr(icmp, len, 24, ND_OPT_SLLA);
	bool dad = memcmp(ip->src_addr, unspecified, 16) == 0;

	if (!iface_has_addr(ifc, &target)) {
		CTL_COUNT(ndp_rx_ns_not_for_us);
		return;
	}
	if (dad) {
		/* Someone probes for our address: defend it (RFC 4862 5.4.3) with an NA to all nodes. */
		CTL_COUNT(ndp_rx_dad);
		ndp_send_unsolicited_na(ifc, &target);
		return;
	}
	if (slla != NULL) {
		struct neigh *n = neigh_lookup(ifc->id, &src, true);
		if (n != NULL && !n->is_static) {
			uint64_t now = cp_now_ms();
			if (!n->active) {
				neigh_activate(n);
				neigh_apply(n, neigh_fsm_learn(&n->fsm, &neigh_params, now, slla));
			} else {
				neigh_apply(n, neigh_fsm_rx(&n->fsm, &neigh_params, now, NEIGH_EV_SOURCE_LLADDR, true,
							    slla));
			}
		}
	}
	/* Reply to the soliciting address, at the MAC it told us, or the one we know. */
	uint8_t mac[6];
	if (slla != NULL) {
		memcpy(mac, slla, 6);
	} else {
		struct neigh *n = neigh_lookup(ifc->id, &src, false);
		if (n == NULL || !n->fsm.has_mac) {
			CTL_COUNT(ndp_drop_no_mac);
			return;
		}
		memcpy(mac, n->fsm.mac, 6);
	}
	ndp_send(ifc, ND_NA, NA_FLAG_ROUTER | NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE, target.bytes, ip->src_addr,
		 target.bytes, mac);
	CTL_COUNT(ndp_tx_na);
}

static void na_input(const struct iface *ifc, const uint8_t *icmp, size_t len)
{
	struct addr target = {.family = 6};
	memcpy(target.bytes, icmp + 8, 16);
	const uint8_t *tlla = ndp_lladdr(icmp, len, 24, ND_OPT_TLLA);
	struct neigh *n = neigh_lookup(ifc->id, &target, false);
	if (n == NULL || n->is_static)
		return; /* RFC 4861 7.2.5: no entry, no new one */
	bool solicited = icmp[4] & NA_FLAG_SOLICITED, override = icmp[4] & NA_FLAG_OVERRIDE;
	uint64_t now = cp_now_ms();
	if (!n->active) {
		if (tlla == NULL)
			return;
		neigh_activate(n);
		neigh_apply(n, neigh_fsm_learn(&n->fsm, &neigh_params, now, tlla));
		return;
	}
	neigh_apply(n, neigh_fsm_rx(&n->fsm, &neigh_params, now,
				    solicited ? NEIGH_EV_SOLICITED_CONFIRM : NEIGH_EV_UNSOLICITED, override, tlla));
}

void ndp_input(struct rte_mbuf *m)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct iface *ifc = iface_get(pkt_meta(m)->in_iface);
	size_t len = rte_pktmbuf_data_len(m), off;
	uint8_t proto;
	bool frag;
	uint16_t frag_off;
	if (ifc == NULL || ip6_walk_ext((const uint8_t *)ip, len, &proto, &off, &frag, &frag_off) != IP6_EXT_OK) {
		rte_pktmbuf_free(m);
		return;
	}
	const uint8_t *icmp = (const uint8_t *)ip + off;
	size_t ilen = len - off;
	switch (icmp[0]) {
	case ND_NS:
		CTL_COUNT(ndp_rx_ns);
		ns_input(ifc, ip, icmp, ilen);
		break;
	case ND_NA:
		CTL_COUNT(ndp_rx_na);
		na_input(ifc, icmp, ilen);
		break;
	case ND_RS:
		CTL_COUNT(ndp_rx_rs); /* we send no router advertisements: sites are configured statically */
		break;
	case ND_RA:
		CTL_COUNT(ndp_rx_ra);
		break;
	case ND_REDIRECT:
		CTL_COUNT(ndp_rx_redirect);
		break;
	}
	rte_pktmbuf_free(m);
}
