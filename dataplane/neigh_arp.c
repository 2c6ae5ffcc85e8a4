/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP (RFC 826) on the control thread: answer for our addresses, learn and confirm neighbours, send probes. */
#include <string.h>

#include <rte_arp.h>

#include "dataplane/neigh_int.h"

bool iface_source_for(const struct iface *ifc, const struct addr *target, struct addr *src)
{
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		if (addr_prefix_contains(&ifc->addrs[i], target)) {
			*src = ifc->addrs[i].addr;
			return true;
		}
	}
	if (target->family == 6) {
		*src = (struct addr){.family = 6};
		memcpy(src->bytes, ifc->ip6_ll, 16);
		return true;
	}
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		if (ifc->addrs[i].addr.family == target->family) {
			*src = ifc->addrs[i].addr;
			return true;
		}
	}
	return false;
}

/* Start an Ethernet (+VLAN) frame for the interface; returns a pointer to the L3 payload area. */
void *ctl_frame_start(struct rte_mbuf *m, const struct iface *ifc, const uint8_t *dst_mac, uint16_t ether_type,
		      uint16_t l3len)
{
	if (iface_is_tunnel(ifc))
		return NULL; /* no link layer */
	uint16_t l2len = sizeof(struct rte_ether_hdr) + (ifc->vlan ? sizeof(struct rte_vlan_hdr) : 0);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, l2len + l3len);
	if (eh == NULL)
		return NULL;
	memcpy(eh->dst_addr.addr_bytes, dst_mac, 6);
	eh->src_addr = ifc->mac;
	if (ifc->vlan) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);
		eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(ifc->vlan);
		vh->eth_proto = rte_cpu_to_be_16(ether_type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(ether_type);
	}
	return (uint8_t *)eh + l2len;
}

static void arp_send(const struct iface *ifc, uint16_t op, const struct addr *sip, const struct addr *tip,
		     const uint8_t *tha, const uint8_t *dst_mac)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	if (m == NULL) {
		CTL_COUNT(ctl_tx_failed);
		return;
	}
	struct rte_arp_hdr *a = ctl_frame_start(m, ifc, dst_mac ? dst_mac : bcast, RTE_ETHER_TYPE_ARP, sizeof(*a));
	if (a == NULL) {
		rte_pktmbuf_free(m);
		CTL_COUNT(ctl_tx_failed);
		return;
	}
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = ifc->mac;
	memcpy(&a->arp_data.arp_sip, sip->bytes, 4);
	memset(&a->arp_data.arp_tha, 0, 6);
	if (tha)
		memcpy(a->arp_data.arp_tha.addr_bytes, tha, 6);
	memcpy(&a->arp_data.arp_tip, tip->bytes, 4);
	ctl_tx(ifc->port, m);
}

void arp_send_request(const struct iface *ifc, const struct addr *target, const uint8_t *dst_mac)
{
	struct addr src;
	if (!iface_source_for(ifc, target, &src))
		return;
	arp_send(ifc, RTE_ARP_OP_REQUEST, &src, target, NULL, dst_mac);
	CTL_COUNT(arp_tx_request);
}

void arp_send_gratuitous(const struct iface *ifc, const struct addr *a)
{
	arp_send(ifc, RTE_ARP_OP_REQUEST, a, a, NULL, NULL);
	CTL_COUNT(arp_tx_gratuitous);
}

void arp_input(struct rte_mbuf *m)
{
	const struct rte_arp_hdr *a = rte_pktmbuf_mtod(m, const struct rte_arp_hdr *);
	const struct iface *ifc = iface_get(pkt_meta(m)->in_iface);
	struct addr sip = {.family = 4}, tip = {.family = 4};
	uint8_t sha[6];
	memcpy(sip.bytes, &a->arp_data.arp_sip, 4);
	memcpy(tip.bytes, &a->arp_data.arp_tip, 4);
	memcpy(sha, a->arp_data.arp_sha.addr_bytes, 6);
	bool request = a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST);
	bool gratuitous = addr_equal(&sip, &tip);
	rte_pktmbuf_free(m);
	if (ifc == NULL)
		return;
	if (gratuitous)
		CTL_COUNT(arp_rx_gratuitous);
	else if (request)
		CTL_COUNT(arp_rx_request);
	else
		CTL_COUNT(arp_rx_reply);

	bool for_us = iface_has_addr(ifc, &tip);
	uint32_t zero_sip = 0;
	bool probe = memcmp(sip.bytes, &zero_sip, 4) == 0; /* RFC 5227 probe: no learning from it */
	if (!probe) {
		/* RFC 826: update an existing entry; create one only when the packet is for us. */
		struct neigh *n = neigh_lookup(ifc->id, &sip, for_us);
		if (n != NULL && !n->is_static) {
			uint64_t now = cp_now_ms();
			if (!n->active) {
				neigh_activate(n);
				neigh_apply(n, neigh_fsm_learn(&n->fsm, &neigh_params, now, sha));
			} else if (!request && for_us) {
				neigh_apply(n, neigh_fsm_rx(&n->fsm, &neigh_params, now, NEIGH_EV_SOLICITED_CONFIRM,
							    true, sha));
			} else if (gratuitous) {
				neigh_apply(n, neigh_fsm_rx(&n->fsm, &neigh_params, now, NEIGH_EV_UNSOLICITED, true,
							    sha));
			} else {
				neigh_apply(n, neigh_fsm_rx(&n->fsm, &neigh_params, now, NEIGH_EV_SOURCE_LLADDR, true,
							    sha));
			}
		}
	}
	if (!for_us) {
		CTL_COUNT(arp_rx_not_for_us);
		return;
	}
	if (request && !gratuitous) {
		arp_send(ifc, RTE_ARP_OP_REPLY, &tip, &sip, sha, sha);
		CTL_COUNT(arp_tx_reply);
	}
}
