/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by ip4_rewrite and ip6_rewrite: choose the neighbour of a next hop and write the L2 header. */
#ifndef NPSGW_L2_REWRITE_H
#define NPSGW_L2_REWRITE_H

#include "dataplane/nodes/nodes.h"

/*
 * The neighbour entry a next hop transmits through: itself for NEIGH, the gateway's for GATEWAY; NULL for
 * CONNECTED (the destination has no host route yet: the control thread must create one), except a tunnel's.
 */
static inline struct nexthop *nh_neighbour(struct nexthop *nh)
{
	if (likely(nh->type == NH_T_NEIGH))
		return nh;
	if (nh->type == NH_T_GATEWAY)
		return &dp.nhs[nh->neigh];
	if (nh->l2 & NH_L2_VALID)
		return nh; /* connected to a tunnel: resolved for good (dataplane/nexthop.c) */
	return NULL;
}

/* Tell the control thread (at most once a second per entry) that traffic uses this neighbour. */
static inline void nh_touch(struct nexthop *n, uint64_t now_ms)
{
	if (unlikely(n->last_used + 1000 <= now_ms))
		__atomic_store_n(&n->last_used, now_ms, __ATOMIC_RELAXED);
}

/* Bytes of the L2 header out sends with: Ethernet, + 802.1Q when the interface is a sub-interface. */
static inline uint8_t l2_len_of(const struct iface *out)
{
	return sizeof(struct rte_ether_hdr) + (out->vlan ? sizeof(struct rte_vlan_hdr) : 0);
}

/* Write out's L2 header (l2_len_of(out) bytes) at eh, to the neighbour MAC packed in l2. */
static inline void l2_write(struct rte_ether_hdr *eh, const struct iface *out, uint64_t l2, uint16_t ether_type)
{
	nh_l2_unpack(l2, &eh->dst_addr);
	rte_ether_addr_copy(&out->mac, &eh->src_addr);
	if (out->vlan) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);
		eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(out->vlan);
		vh->eth_proto = rte_cpu_to_be_16(ether_type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(ether_type);
	}
}

/* Prepend out's L2 header. Returns false without headroom. */
static inline bool l2_prepend(struct rte_mbuf *m, const struct iface *out, uint64_t l2, uint16_t ether_type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, l2_len_of(out));
	if (unlikely(eh == NULL))
		return false;
	pkt_meta(m)->flags &= ~PKT_F_L3;
	l2_write(eh, out, l2, ether_type);
	return true;
}

/* The edges both rewrite nodes start with; their port_tx clones follow (ip4/ip6_rewrite_tx_edge). */
enum {
	RW_NEXT_PUNT,             /* neighbour to resolve */
	RW_NEXT_ICMP_ERROR,       /* time exceeded, too big */
	RW_NEXT_DROP_NO_IFACE,
	RW_NEXT_DROP_IFACE_DOWN,
	RW_NEXT_DROP_FRAG_FAILED, /* no headroom for the L2 header, or IPv4 fragmentation failed */
	RW_NEXT_COUNT
};

/*
 * Where next hop nh_idx sends, without side effects: its neighbour *n, the neighbour's L2 word *l2 and the output
 * interface *out, RW_NEXT_COUNT when all is usable; else the edge for the packet (RW_NEXT_PUNT: the neighbour is
 * not resolved, *n the entry to resolve or NULL).
 */
static __rte_always_inline rte_edge_t rw_hop_of(uint32_t nh_idx, struct nexthop **n, const struct iface **out,
						uint64_t *l2)
{
	*n = nh_neighbour(&dp.nhs[nh_idx]);
	*l2 = *n ? __atomic_load_n(&(*n)->l2, __ATOMIC_ACQUIRE) : 0;
	if (unlikely(!(*l2 & NH_L2_VALID)))
		return RW_NEXT_PUNT;
	*out = iface_get((*n)->iface);
	if (unlikely(*out == NULL))
		return RW_NEXT_DROP_NO_IFACE;
	if (unlikely(!(*out)->up))
		return RW_NEXT_DROP_IFACE_DOWN;
	return RW_NEXT_COUNT;
}

/*
 * The full path's neighbour and interface checks for one packet: RW_NEXT_COUNT with *out and *l2 set, or the edge
 * that takes the packet (for a punt, pm->nh then names the entry to resolve). A resolved neighbour is told it is in
 * use.
 */
static __rte_always_inline rte_edge_t rw_check_hop(struct pkt_meta *pm, uint64_t now_ms, uint8_t punt_reason,
						   const struct iface **out, uint64_t *l2)
{
	struct nexthop *n;
	rte_edge_t e = rw_hop_of(pm->nh, &n, out, l2);
	if (unlikely(e == RW_NEXT_PUNT)) {
		if (n != NULL)
			pm->nh = (uint32_t)(n - dp.nhs);
		pm->punt_reason = punt_reason;
		return e;
	}
	nh_touch(n, now_ms);
	return e;
}

/*
 * The full path's last step: the L2 header (none for a tunnel's packet: its function encapsulates it at the IP
 * header) and the interface's counters. False without headroom.
 */
static __rte_always_inline bool rw_finish_one(struct worker *w, struct rte_mbuf *m, const struct iface *out,
					      uint64_t l2, uint16_t ether_type)
{
	if (unlikely(!iface_is_tunnel(out) && !l2_prepend(m, out, l2, ether_type)))
		return false;
	w->ifc_stats[out->id].tx_packets++;
	w->ifc_stats[out->id].tx_bytes += rte_pktmbuf_pkt_len(m);
	return true;
}

/*
 * A packet alone on a tunnel interface's next hop (with a thousand tunnels, nearly every packet) goes by the copy of
 * the interface on the next hop's line (struct nexthop tunnel_out), which the lookup read: no interface line, and no
 * neighbour to tell it is in use (a tunnel's next hop has no neighbour state). Returns that copy when the interface
 * is up and the packet of len bytes fits its MTU; 0 otherwise: the full path takes the packet (and names its drop).
 */
static __rte_always_inline uint64_t rw_tunnel_lone_hop(const struct pkt_meta *pm, uint32_t len)
{
	uint64_t t = __atomic_load_n(&dp.nhs[pm->nh].tunnel_out, __ATOMIC_ACQUIRE);
	if ((t & (NH_TUN_VALID | NH_TUN_UP)) != (NH_TUN_VALID | NH_TUN_UP) || len > nh_tun_mtu(t))
		return 0;
	return t;
}

/* The lone tunnel packet's output interface (t: rw_tunnel_lone_hop's copy), counted as sent on it. */
static __rte_always_inline void rw_tunnel_lone_send(struct worker *w, struct pkt_meta *pm, uint64_t t, uint32_t len)
{
	uint16_t id = nh_tun_iface(t);
	pm->out_iface = id;
	w->ifc_stats[id].tx_packets++;
	w->ifc_stats[id].tx_bytes += len;
}

/*
 * The edge a rewrite call's packets most likely take (its batch): the tunnel function's when the first packet goes
 * to a tunnel, else port_home, the port edge of earlier calls. One rewrite node sees the inner packets on their way
 * into a tunnel and, in another call of the same walk, the outer ones on their way out: a single remembered edge
 * was the wrong one for both, and sent every packet of a VPN gateway's bursts one by one.
 */
static inline rte_edge_t rw_batch_edge(struct rte_mbuf *first, rte_edge_t port_home, const rte_edge_t *tx_edge)
{
	uint64_t t = __atomic_load_n(&dp.nhs[pkt_meta(first)->nh].tunnel_out, __ATOMIC_RELAXED);
	return (t & NH_TUN_VALID) ? tx_edge[nh_tun_port(t)] : port_home;
}

/*
 * A run of packets to one next hop (the usual burst: one flow or one gateway) resolves it once: neighbour, its
 * MAC, the output interface and its checks, the L2 header to write, the port edge. Valid for one process call
 * (inside the RCU read side). When the run ends (the next resolve, the end of the call) having sent packets, its
 * counters are added to the interface and the neighbour is told it is in use, as the full path does per packet.
 */
struct rw_hop {
	uint32_t nh;          /* the pm->nh this resolves; UINT32_MAX = none */
	struct nexthop *neigh; /* told it is in use (nh_touch) when the run ends having sent a packet */
	uint16_t out_id;
	uint16_t mtu;
	rte_edge_t edge;
	bool tunnel;          /* the packet stays at its IP header */
	uint8_t l2_len;
	uint32_t packets;     /* sent on this run, not yet in the interface's counters */
	uint64_t bytes;
	union {
		struct {
			struct rte_ether_hdr eth;
			struct rte_vlan_hdr vlan;
		} hdr; /* 14 + 4 bytes, both 2-aligned: no padding (asserted below) */
		uint8_t bytes[RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr)];
	} l2;                 /* Ethernet (+ 802.1Q) header, l2_len bytes */
};

_Static_assert(sizeof(((struct rw_hop *)0)->l2) == RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr),
	       "the L2 header template has no padding");

static inline void rw_hop_flush(struct rw_hop *h, struct iface_counters *stats, uint64_t now)
{
	if (h->packets) {
		nh_touch(h->neigh, now);
		stats[h->out_id].tx_packets += h->packets;
		stats[h->out_id].tx_bytes += h->bytes;
		h->packets = 0;
		h->bytes = 0;
	}
}

/*
 * Resolve next hop nh_idx for a run; false when it is not the plain case (neighbour not resolved, interface gone
 * or down): the packets then take the node's full per-packet path, which names what happens to them.
 */
static inline bool rw_hop_resolve(struct rw_hop *h, struct iface_counters *stats, uint32_t nh_idx, uint64_t now,
				  const rte_edge_t *tx_edge, uint16_t ether_type)
{
	rw_hop_flush(h, stats, now);
	h->nh = UINT32_MAX;
	struct nexthop *n;
	const struct iface *out;
	uint64_t l2;
	if (rw_hop_of(nh_idx, &n, &out, &l2) != RW_NEXT_COUNT)
		return false;
	h->neigh = n; /* touched if the run sends a packet, not for packets the full path takes */
	h->out_id = out->id;
	h->mtu = out->mtu;
	h->edge = tx_edge[out->port];
	h->tunnel = iface_is_tunnel(out);
	l2_write(&h->l2.hdr.eth, out, l2, ether_type); /* hdr.vlan follows hdr.eth unpadded (asserted above) */
	h->l2_len = l2_len_of(out);
	h->nh = nh_idx;
	return true;
}

/*
 * Prepend the run's L2 header to m (the caller checked the headroom; nothing for a tunnel's packet) and count it as
 * sent on the run.
 */
static inline void rw_hop_send(struct rw_hop *h, struct rte_mbuf *m)
{
	if (likely(!h->tunnel)) {
		uint8_t len = h->l2_len;
		m->data_off -= len;
		m->data_len += len;
		m->pkt_len += len;
		pkt_meta(m)->flags &= ~PKT_F_L3;
		uint8_t *eh = rte_pktmbuf_mtod(m, uint8_t *);
		if (likely(len == RTE_ETHER_HDR_LEN))
			memcpy(eh, h->l2.bytes, RTE_ETHER_HDR_LEN);
		else
			memcpy(eh, h->l2.bytes, RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr));
	}
	h->packets++;
	h->bytes += rte_pktmbuf_pkt_len(m);
}

#endif
