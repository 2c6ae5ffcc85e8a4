/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth_input: finds the interface of a frame (port + 802.1Q VLAN), checks the destination MAC, strips the L2
 * header and dispatches by EtherType. Ports run promiscuous; the MAC filter is here, per interface. IPv4 and IPv6
 * packets that pass the input node's checks here go straight to the lookup (one node hop less, ~8 cycles a packet);
 * the plain forwarded IPv4 or IPv6 packet goes further, straight to its port (the express path, express.h).
 */
#include <rte_ether.h>

#include "dataplane/nodes/express.h"
#include "dataplane/nodes/ip4_input.h"
#include "dataplane/nodes/ip6_input.h"
#include "dataplane/port_state.h"

enum {
	ETH_NEXT_IP4_LOOKUP,
	ETH_NEXT_IP4,
	ETH_NEXT_IP6_LOOKUP,
	ETH_NEXT_IP6,
	ETH_NEXT_ARP,
	ETH_NEXT_DROP_RUNT,
	ETH_NEXT_DROP_NOT_FOR_US,
	ETH_NEXT_DROP_UNKNOWN_VLAN,
	ETH_NEXT_DROP_UNKNOWN_TYPE,
	ETH_NEXT_DROP_IFACE_DOWN,
	ETH_NEXT_COUNT
};

rte_edge_t eth_input_tx_edge[DP_MAX_OUT_PORTS];

static inline bool mac_accepted(const struct rte_ether_addr *dst, const struct iface *ifc, uint16_t type)
{
	if (rte_is_same_ether_addr(dst, &ifc->mac))
		return true;
	if (rte_is_broadcast_ether_addr(dst))
		return true; /* ARP; broadcast IP is dropped later with its own reason */
	/* IPv6 multicast (33:33:...): NDP solicited-node and all-nodes; ip6_input decides further. */
	return dst->addr_bytes[0] == 0x33 && dst->addr_bytes[1] == 0x33 && type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
}

static inline rte_edge_t eth_classify(struct rte_mbuf *m, uint16_t port, struct iface_counters *stats)
{
	struct pkt_meta *pm = pkt_meta(m);
	pm->flags = 0;
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr)))
		return ETH_NEXT_DROP_RUNT;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t type = eh->ether_type;
	uint16_t vlan = VLAN_UNTAGGED;
	uint16_t l2len = sizeof(*eh);
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(struct rte_vlan_hdr)))
			return ETH_NEXT_DROP_RUNT;
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eh + 1);
		vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		type = vh->eth_proto;
		l2len += sizeof(*vh);
		if (unlikely(vlan == VLAN_UNTAGGED)) /* priority-tagged frames belong to the untagged interface */
			vlan = VLAN_UNTAGGED;
	}
	if (unlikely(port >= DP_MAX_PORTS || dp.ports[port].vlan_map == NULL))
		return ETH_NEXT_DROP_UNKNOWN_VLAN; /* not a device port: nothing can have been received on it */
	uint16_t ifid = __atomic_load_n(&dp.ports[port].vlan_map[vlan], __ATOMIC_RELAXED);
	const struct iface *ifc = ifid ? iface_get(ifid) : NULL;
	if (unlikely(ifc == NULL))
		return ETH_NEXT_DROP_UNKNOWN_VLAN;
	if (unlikely(!mac_accepted(&eh->dst_addr, ifc, type)))
		return ETH_NEXT_DROP_NOT_FOR_US;
	if (unlikely(!ifc->up))
		return ETH_NEXT_DROP_IFACE_DOWN;
	stats[ifid].rx_packets++;
	stats[ifid].rx_bytes += rte_pktmbuf_pkt_len(m);
	pm->in_iface = ifid;
	pm->vrf = ifc->vrf;
	pm->flags = PKT_F_META | PKT_F_L3 | (rte_is_multicast_ether_addr(&eh->dst_addr) ? PKT_F_L2_GROUP : 0);
	rte_pktmbuf_adj(m, l2len);
	switch (type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		/* A valid packet skips ip4_input; ip4_input redoes the checks of the others to name their drop. */
		return likely(ip4_input_verdict(m) == IP4_OK) ? ETH_NEXT_IP4_LOOKUP : ETH_NEXT_IP4;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		return likely(ip6_input_plain(m)) ? ETH_NEXT_IP6_LOOKUP : ETH_NEXT_IP6;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		return ETH_NEXT_ARP;
	default:
		return ETH_NEXT_DROP_UNKNOWN_TYPE;
	}
}

/*
 * The fast path: the common frame (untagged or 802.1Q, for the MAC of its interface, a valid IPv4 header without
 * options or a plain IPv6 one, its VRF without input features) takes a handful of loads and stores. The
 * interface of the last (port, VLAN) is kept, with its counters, which are added when the next frame is another
 * interface's and at the end of the burst: a burst of one interface looks it up once. Anything else goes through
 * eth_classify(), which judges every case and names every drop.
 */
struct eth_fast {
	uint32_t port;     /* the kept interface's port and VLAN; port ETH_FAST_NONE: none kept */
	uint16_t vlan;
	uint16_t ifid;
	uint32_t vrf;
	uint64_t mac;      /* the interface's MAC as the first 6 bytes of a frame load little-endian */
	bool ip4_plain;    /* no IPv4 input feature in the VRF */
	bool ip4_express;  /* no IPv4 input nor forwarding feature in the VRF (express.h) */
	bool ip6_plain;
	bool ip6_express;
	uint32_t packets;  /* counted here, added to the interface's counters when another one is kept */
	uint64_t bytes;
};

#define ETH_FAST_NONE UINT32_MAX /* no mbuf port (16 bits) equals it */
/* The 6 bytes of a MAC address in the low bits of a little-endian 64-bit load. */
#define MAC_MASK 0xffffffffffffull
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "MAC_MASK takes the first 6 bytes of a little-endian load");

static void eth_fast_flush(struct eth_fast *f, struct iface_counters *stats)
{
	if (f->packets) {
		stats[f->ifid].rx_packets += f->packets;
		stats[f->ifid].rx_bytes += f->bytes;
		f->packets = 0;
		f->bytes = 0;
	}
}

/* Keep the interface of (port, vlan); false when there is none usable on the fast path. */
static bool eth_fast_keep(struct eth_fast *f, struct iface_counters *stats, uint16_t port, uint16_t vlan)
{
	eth_fast_flush(f, stats);
	f->port = ETH_FAST_NONE;
	if (port >= DP_MAX_PORTS || dp.ports[port].vlan_map == NULL)
		return false;
	uint16_t ifid = __atomic_load_n(&dp.ports[port].vlan_map[vlan], __ATOMIC_RELAXED);
	const struct iface *ifc = ifid ? iface_get(ifid) : NULL;
	if (ifc == NULL || !ifc->up || !rte_is_unicast_ether_addr(&ifc->mac))
		return false;
	uint64_t mac = 0;
	memcpy(&mac, &ifc->mac, sizeof(ifc->mac));
	f->port = port;
	f->vlan = vlan;
	f->ifid = ifid;
	f->vrf = ifc->vrf;
	f->mac = mac;
	f->ip4_plain = !feat_any(FEAT_IP4_IN, ifc->vrf);
	f->ip6_plain = !feat_any(FEAT_IP6_IN, ifc->vrf);
	f->ip4_express = f->ip4_plain && !feat_any(FEAT_IP4_FWD, ifc->vrf);
	f->ip6_express = f->ip6_plain && !feat_any(FEAT_IP6_FWD, ifc->vrf);
	return true;
}

/*
 * The NIC checked this IPv4 header's checksum and found it good (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, dataplane/ports.c).
 * Not trusted for a packet it parsed as a tunnel: there the flag is the inner header's, and the outer one's verdict
 * is a separate bit. "Bad" or no verdict: the software sums the header.
 */
static inline bool rx_ip4_csum_good(const struct rte_mbuf *m)
{
	return (m->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_OUTER_IP_CKSUM_BAD)) ==
		       RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	       (m->packet_type & RTE_PTYPE_TUNNEL_MASK) == 0;
}

/*
 * ETH_NEXT_COUNT: not for the fast path. Decides, and counts the frame as received, before it writes anything else;
 * *l2_len and *l3_len: the frame's L2 header and IP packet (without padding) lengths.
 */
static inline rte_edge_t eth_fast_check(struct rte_mbuf *m, struct eth_fast *f, struct iface_counters *stats,
					uint16_t *l2_len_out, unsigned *l3_len_out)
{
	uint16_t len = rte_pktmbuf_data_len(m);
	if (unlikely(m->nb_segs != 1 || len < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr) + 20))
		return ETH_NEXT_COUNT;
	const uint8_t *eh = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t dst;
	uint16_t type;
	memcpy(&dst, eh, sizeof(dst));
	memcpy(&type, eh + 12, sizeof(type));
	uint16_t vlan = VLAN_UNTAGGED, l2_len = RTE_ETHER_HDR_LEN;
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		uint16_t tci;
		memcpy(&tci, eh + RTE_ETHER_HDR_LEN, sizeof(tci));
		memcpy(&type, eh + RTE_ETHER_HDR_LEN + 2, sizeof(type));
		vlan = rte_be_to_cpu_16(tci) & 0xfff;
		l2_len += sizeof(struct rte_vlan_hdr);
		if (unlikely(vlan == VLAN_UNTAGGED)) /* priority-tagged: the full path */
			return ETH_NEXT_COUNT;
	}
	if (unlikely(m->port != f->port || vlan != f->vlan) && !eth_fast_keep(f, stats, m->port, vlan))
		return ETH_NEXT_COUNT;
	if (unlikely(((dst ^ f->mac) & MAC_MASK) != 0))
		return ETH_NEXT_COUNT;
	const uint8_t *l3 = eh + l2_len;
	unsigned l3_len = len - l2_len, total;
	rte_edge_t next;
	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		if (unlikely(!f->ip4_plain || !ip4_plain_ok(l3, l3_len, &total, rx_ip4_csum_good(m))))
			return ETH_NEXT_COUNT;
		next = ETH_NEXT_IP4_LOOKUP;
	} else if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		if (unlikely(!f->ip6_plain || ip6_check(l3, l3_len) != IP6_OK))
			return ETH_NEXT_COUNT;
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)l3;
		if (unlikely(ip6_is_multicast(ip6->dst_addr) || ip6_is_linklocal(ip6->dst_addr)))
			return ETH_NEXT_COUNT;
		total = sizeof(*ip6) + rte_be_to_cpu_16(ip6->payload_len);
		next = ETH_NEXT_IP6_LOOKUP;
	} else {
		return ETH_NEXT_COUNT;
	}
	f->packets++;
	f->bytes += len;
	*l2_len_out = l2_len;
	*l3_len_out = total;
	return next;
}

/* The fast check's frame on its way to a lookup node: metadata, L2 and padding stripped in one go (one segment). */
static inline void eth_fast_commit(struct rte_mbuf *m, const struct eth_fast *f, uint16_t l2_len, unsigned l3_len)
{
	struct pkt_meta *pm = pkt_meta(m);
	pm->in_iface = f->ifid;
	pm->vrf = f->vrf;
	pm->flags = PKT_F_META | PKT_F_L3;
	m->data_off += l2_len;
	m->data_len = (uint16_t)l3_len;
	m->pkt_len = l3_len;
}

static inline rte_edge_t eth_next(struct rte_mbuf *m, struct eth_fast *f, struct iface_counters *stats)
{
	uint16_t l2_len;
	unsigned l3_len;
	rte_edge_t next = eth_fast_check(m, f, stats, &l2_len, &l3_len);
	if (likely(next != ETH_NEXT_COUNT)) {
		eth_fast_commit(m, f, l2_len, l3_len);
		return next;
	}
	return eth_classify(m, m->port, stats);
}

/* One chunk of frames, the express path off. */
static void eth_input_chunk(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf **pkts, uint16_t n)
{
	struct iface_counters *stats = node_worker(node)->ifc_stats;
	struct node_batch b;
	struct eth_fast f = {.port = ETH_FAST_NONE};
	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/* The first packet's way is the burst's guess (IPv4 or IPv6 traffic: the others then follow in bulk). */
	batch_start(graph, node, &b, eth_next(pkts[0], &f, stats), n);
	b.to[b.held++] = pkts[0];
	for (uint16_t i = 1; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		struct rte_mbuf *m = pkts[i];
		batch_add(graph, node, &b, eth_next(m, &f, stats), m);
	}
	batch_end(graph, node, &b);
	eth_fast_flush(&f, stats);
}

/* The edge ip4/ip6 traffic's frame m most likely takes: the guess of a chunk's batch when the express path is on. */
static inline rte_edge_t eth_guess(const struct rte_mbuf *m)
{
	const uint8_t *eh = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t type;
	memcpy(&type, eh + 12, sizeof(type));
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) && rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN + 4)
		memcpy(&type, eh + 16, sizeof(type));
	return type == RTE_BE16(RTE_ETHER_TYPE_IPV6) ? ETH_NEXT_IP6_LOOKUP : ETH_NEXT_IP4_LOOKUP;
}

/*
 * The kept interface of the express check as what its common frame of one family looks like: the mbuf's nb_segs and
 * port (the upper half of its rearm word), the destination MAC (bytes 0-5), and bytes 12-15 under a mask: the
 * EtherType and the IP version (and, IPv4, header length) untagged, or the 802.1Q type and the VLAN ID tagged (the
 * inner EtherType and version then checked apart, against the untagged type and mask). A frame that matches needs
 * no other L2 test; any other takes the long way.
 */
struct xp_shape {
	uint32_t rearm_hi;       /* nb_segs 1 | port << 16; 0 (nb_segs 0: no frame) when no interface is kept */
	uint64_t mac;            /* as the first 6 bytes of a little-endian 64-bit load */
	uint32_t type;           /* bytes 12-15, little-endian, under type_care */
	uint32_t type_care;
	uint8_t l2_len;
	bool csum_hw;            /* the port's NIC verifies IPv4 checksums: its verdict spares the sum */
	const uint32_t *tbl24;   /* IPv6: the VRF's first-level route table, to prefetch from; NULL: none */
};

/*
 * Bytes 12-14 untagged (the EtherType, then the version nibble: IPv4 with its header length 5, 0x45), bytes 12-15
 * tagged (0x8100, the VLAN ID), and bytes 16-18 of a tagged frame (its inner EtherType and version), little-endian.
 */
#define XP_TYPE_IP4 0x450008u
#define XP_TYPE_CARE_IP4 0xffffffu
#define XP_TYPE_IP6 0x60dd86u
#define XP_TYPE_CARE_IP6 0xf0ffffu /* the low nibble of byte 14 is the traffic class's */
#define XP_TYPE_CARE_TAGGED 0xff0fffffu /* the priority bits are not the interface's */

static void xp_shape_set(struct xp_shape *s, const struct eth_fast *f, bool express, bool ip6)
{
	*s = (struct xp_shape){.rearm_hi = 0, .l2_len = RTE_ETHER_HDR_LEN};
	if (!express)
		return;
	s->mac = f->mac;
	if (f->vlan != VLAN_UNTAGGED) {
		s->l2_len = RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr);
		s->type = (uint32_t)RTE_BE16(RTE_ETHER_TYPE_VLAN) | (uint32_t)rte_cpu_to_be_16(f->vlan) << 16;
		s->type_care = XP_TYPE_CARE_TAGGED;
	} else {
		s->type = ip6 ? XP_TYPE_IP6 : XP_TYPE_IP4;
		s->type_care = ip6 ? XP_TYPE_CARE_IP6 : XP_TYPE_CARE_IP4;
	}
	s->rearm_hi = 1u | (uint32_t)f->port << 16;
	s->csum_hw = !ip6 && f->port < DP_MAX_PORTS && port_states[f->port].rx_ip4_cksum;
}

/*
 * The IPv6 first-level route table of the shape's VRF (the kept interface's), where the tight loop prefetches.
 * IPv4 has none: rte_fib's bulk lookup prefetches its own entries, and an earlier prefetch measured no faster.
 */
static void xp_shape_tbl24(struct xp_shape *s6, uint32_t vrf_slot)
{
	const struct vrf *v = vrf_get(vrf_slot);
	const struct fib6 *f6 = v != NULL ? __atomic_load_n(&v->fib6, __ATOMIC_ACQUIRE) : NULL;
	struct fib6_trie t;
	if (s6->rearm_hi != 0 && f6 != NULL && fib6_trie_get(f6, &t))
		s6->tbl24 = t.tbl24;
}

/* The express check of a chunk: what the tight loops of eth_input_express() keep outside their registers. */
struct xp_check {
	struct xp_burst *x, *x6; /* the IPv4 and the IPv6 frames staged */
	uint16_t nx, nx6;        /* how many */
	uint32_t rx;             /* of them, since xf was kept: added to its counters when another one is */
	uint64_t rx_bytes;
	struct eth_fast xf;      /* the express frames' interface */
	uint32_t kport;          /* its port and VLAN, kept even when refused: its next frames are not asked again */
	uint16_t kvlan;
	bool kexpress, kexpress6;
	struct xp_shape shape, shape6; /* its frames' shapes, IPv4 and IPv6 */
	struct node_batch b;     /* the frames that take the long way */
	struct eth_fast f;       /* eth_next()'s */
};

/* Frame m as express frame k: lens as XP_L2_SHIFT packs them, daddr its destination (network order). */
static inline void xp_stage(struct xp_burst *x, size_t k, struct rte_mbuf *m, uint32_t lens, uint32_t daddr)
{
	x->m[k] = m;
	x->len[k] = lens;
	x->dst[k] = rte_be_to_cpu_32(daddr);
}

/* The same for an IPv6 frame, ip its header. */
static inline void xp6_stage(struct xp_burst *x, size_t k, struct rte_mbuf *m, uint32_t lens, const uint8_t *ip)
{
	x->m[k] = m;
	x->len[k] = lens;
	memcpy(x->dst6[k], ip + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
}

/* Keep the interface of (port, vlan) for the express frames that follow. */
static void xp_keep(struct xp_check *c, struct iface_counters *stats, uint16_t port, uint16_t vlan)
{
	c->xf.packets += c->rx;
	c->xf.bytes += c->rx_bytes;
	c->rx = 0;
	c->rx_bytes = 0;
	bool kept = eth_fast_keep(&c->xf, stats, port, vlan);
	c->kexpress = kept && c->xf.ip4_express;
	c->kexpress6 = kept && c->xf.ip6_express;
	c->kport = port;
	c->kvlan = vlan;
	xp_shape_set(&c->shape, &c->xf, c->kexpress, false);
	xp_shape_set(&c->shape6, &c->xf, c->kexpress6, true);
	xp_shape_tbl24(&c->shape6, c->xf.vrf);
	if (c->kexpress) {
		c->x->n = c->nx;
		xp_run_start(c->x, c->xf.ifid, c->xf.vrf);
	}
	if (c->kexpress6) {
		c->x6->n = c->nx6;
		xp_run_start(c->x6, c->xf.ifid, c->xf.vrf);
	}
}

/*
 * A frame not of a kept interface's shape: the express check in full (eth_fast_check()'s IPv4 and IPv6 branches),
 * which may keep the frame's interface; a frame it is not sure of takes eth_next(), the chunk's other frames' way.
 */
static __rte_noinline void xp_check_slow(struct rte_graph *graph, struct rte_node *node, struct iface_counters *stats,
					 struct xp_check *c, struct rte_mbuf *m)
{
	const uint8_t *eh = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t len = rte_pktmbuf_data_len(m);
	if (unlikely(m->nb_segs != 1 || len < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr) + 20))
		goto other;
	uint64_t dst;
	uint16_t type, vlan = VLAN_UNTAGGED;
	uint8_t l2_len = RTE_ETHER_HDR_LEN;
	memcpy(&dst, eh, sizeof(dst));
	memcpy(&type, eh + 12, sizeof(type));
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN)) {
		uint16_t tci;
		memcpy(&tci, eh + RTE_ETHER_HDR_LEN, sizeof(tci));
		memcpy(&type, eh + RTE_ETHER_HDR_LEN + 2, sizeof(type));
		vlan = rte_be_to_cpu_16(tci) & 0xfff;
		l2_len += sizeof(struct rte_vlan_hdr);
		if (vlan == VLAN_UNTAGGED)
			goto other;
	}
	bool ip6 = type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
	if (!ip6 && type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		goto other;
	if (m->port != c->kport || vlan != c->kvlan)
		xp_keep(c, stats, m->port, vlan);
	if (((dst ^ c->xf.mac) & MAC_MASK) != 0)
		goto other;
	const uint8_t *l3 = eh + l2_len;
	unsigned l3_len;
	if (ip6) {
		if (!c->kexpress6 || !ip6_plain_ok(l3, len - l2_len, &l3_len))
			goto other;
		c->rx++;
		c->rx_bytes += len;
		if (c->shape6.tbl24 != NULL)
			fib6_trie_prefetch(c->shape6.tbl24, l3 + offsetof(struct rte_ipv6_hdr, dst_addr));
		xp6_stage(c->x6, c->nx6++, m, l3_len | (uint32_t)l2_len << XP_L2_SHIFT, l3);
		return;
	}
	if (!c->kexpress || !ip4_plain_ok(l3, len - l2_len, &l3_len, rx_ip4_csum_good(m)))
		goto other;
	uint32_t daddr;
	memcpy(&daddr, l3 + offsetof(struct rte_ipv4_hdr, dst_addr), sizeof(daddr));
	c->rx++;
	c->rx_bytes += len;
	xp_stage(c->x, c->nx++, m, l3_len | (uint32_t)l2_len << XP_L2_SHIFT, daddr);
	return;
other:
	batch_add(graph, node, &c->b, eth_next(m, &c->f, stats), m);
}

/*
 * The mbuf and L2 part of a shape: one segment, on the shape's port (rearm_hi), for its MAC, bytes 12-15 as type under
 * type_care. *eh: the frame's first byte.
 */
static __rte_always_inline bool xp_l2_fits(const struct rte_mbuf *m, uint32_t rearm_hi, uint64_t mac, uint32_t type,
					   uint32_t type_care, const uint8_t **eh)
{
	uint64_t rearm;
	memcpy(&rearm, &m->rearm_data, sizeof(rearm));
	if (unlikely((uint32_t)(rearm >> 32) != rearm_hi))
		return false;
	*eh = (const uint8_t *)m->buf_addr + (uint16_t)rearm; /* data_off: the low 16 bits */
	uint64_t dst;
	uint32_t type_word;
	memcpy(&dst, *eh, sizeof(dst));
	memcpy(&type_word, *eh + 12, sizeof(type_word));
	return likely(((dst ^ mac) << 16) == 0) && likely((type_word & type_care) == type); /* << 16: bytes 0-5 */
}

/* Frame m has the kept interface's shape, as far as its mbuf and L2 header tell: worth the tight loop. */
static inline bool xp_shape_fits(const struct xp_shape *s, const struct rte_mbuf *m)
{
	const uint8_t *eh;
	return s->rearm_hi != 0 && xp_l2_fits(m, s->rearm_hi, s->mac, s->type, s->type_care, &eh);
}

/*
 * Stage the frames from i on while they have the kept interface's shape of one family (ip6) and a plain header of
 * it; returns the first that does not (n: none). l2_len (the shape's) and ip6: constants in each of the four copies
 * eth_input_express() calls.
 */
static __rte_always_inline unsigned xp_stage_shaped(struct xp_check *c, struct rte_mbuf **pkts, unsigned i, unsigned n,
						    const unsigned l2_len, const bool ip6)
{
	const bool tagged = l2_len != RTE_ETHER_HDR_LEN;
	const struct xp_shape *s = ip6 ? &c->shape6 : &c->shape;
	const uint32_t rearm_hi = s->rearm_hi;
	const uint64_t mac = s->mac;
	const uint32_t ip_type = ip6 ? XP_TYPE_IP6 : XP_TYPE_IP4, ip_care = ip6 ? XP_TYPE_CARE_IP6 : XP_TYPE_CARE_IP4;
	const uint32_t type = tagged ? s->type : ip_type;
	const uint32_t type_care = tagged ? XP_TYPE_CARE_TAGGED : ip_care;
	const bool csum_hw = s->csum_hw;
	const uint32_t *tbl24 = s->tbl24;
	struct xp_burst *x = ip6 ? c->x6 : c->x;
	const size_t nx_start = ip6 ? c->nx6 : c->nx;
	struct rte_mbuf **in = pkts + i, **end = pkts + n;
	size_t nx = nx_start;
	uint64_t rx_bytes = 0;
	for (; in < end; in++) {
		/* Where a receive puts a frame: a hint, not worth the data_off load of the exact address. */
		if (end - in > 4)
			rte_prefetch0((uint8_t *)in[4]->buf_addr + RTE_PKTMBUF_HEADROOM);
		struct rte_mbuf *m = *in;
		const uint8_t *eh;
		if (unlikely(!xp_l2_fits(m, rearm_hi, mac, type, type_care, &eh)))
			break;
		if (tagged) {
			uint32_t inner;
			memcpy(&inner, eh + RTE_ETHER_HDR_LEN + 2, sizeof(inner));
			if (unlikely((inner & ip_care) != ip_type))
				break;
		}
		size_t len = rte_pktmbuf_data_len(m);
		unsigned l3_len;
		if (ip6) {
			if (unlikely(len < l2_len + 40 || !ip6_plain_fields_ok(eh + l2_len, len - l2_len, &l3_len)))
				break;
			rx_bytes += len;
			if (tbl24 != NULL) /* the lookup comes a burst later */
				fib6_trie_prefetch(tbl24, eh + l2_len + offsetof(struct rte_ipv6_hdr, dst_addr));
			xp6_stage(x, nx++, m, l3_len | l2_len << XP_L2_SHIFT, eh + l2_len);
			continue;
		}
		if (unlikely(len < l2_len + 20))
			break;
		struct ip4_hdr20_words w = ip4_hdr20_load(eh + l2_len);
		if (unlikely(!ip4_plain_fields_ok(w, len - l2_len, &l3_len, true)))
			break;
		/* The sum first: the NIC's verdict is looked at only where it may spare a wrong sum. */
		if (unlikely(!ip4_hdr20_words_csum_ok(w) && !(csum_hw && rx_ip4_csum_good(m))))
			break;
		rx_bytes += len;
		xp_stage(x, nx++, m, l3_len | l2_len << XP_L2_SHIFT, w.w4);
	}
	c->rx += (unsigned)(nx - nx_start);
	c->rx_bytes += rx_bytes;
	if (ip6)
		c->nx6 = (uint16_t)nx;
	else
		c->nx = (uint16_t)nx;
	return (unsigned)(in - pkts);
}

/* The four copies (L2 length, family), out of line: the tight loop gets the registers to itself. */
#define XP_STAGE_COPY(name, l2_len, ip6)                                                                               \
	static __rte_noinline unsigned name(struct xp_check *c, struct rte_mbuf **pkts, unsigned i, unsigned n)      \
	{                                                                                                              \
		return xp_stage_shaped(c, pkts, i, n, l2_len, ip6);                                                    \
	}
XP_STAGE_COPY(xp_stage_untagged, RTE_ETHER_HDR_LEN, false)
XP_STAGE_COPY(xp_stage_tagged, RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr), false)
XP_STAGE_COPY(xp6_stage_untagged, RTE_ETHER_HDR_LEN, true)
XP_STAGE_COPY(xp6_stage_tagged, RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr), true)

/* The tight loop of one family from frame i on, if frame i has its shape (else the loop would stop at once). */
static inline unsigned xp_stage_family(struct xp_check *c, struct rte_mbuf **pkts, unsigned i, unsigned n, bool ip6)
{
	const struct xp_shape *s = ip6 ? &c->shape6 : &c->shape;
	if (!xp_shape_fits(s, pkts[i]))
		return i;
	if (likely(s->l2_len == RTE_ETHER_HDR_LEN))
		return (ip6 ? xp6_stage_untagged : xp_stage_untagged)(c, pkts, i, n);
	return (ip6 ? xp6_stage_tagged : xp_stage_tagged)(c, pkts, i, n);
}

/* The EtherType is IPv4, IPv6 or 802.1Q (the buffer has the bytes even when the frame is a runt). */
static inline bool xp_may_express(const struct rte_mbuf *m)
{
	uint16_t type;
	memcpy(&type, rte_pktmbuf_mtod_offset(m, const uint8_t *, 12), sizeof(type));
	return type == RTE_BE16(RTE_ETHER_TYPE_IPV4) || type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
	       type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
}

/*
 * One chunk of frames, the express path on. Tight loops stage the frames of the kept interface's shapes
 * (xp_stage_shaped(), a copy per family and L2 length); each other IPv4 or IPv6 frame takes xp_check_slow(), then
 * the loops go on with the shapes it may have kept, and any other frame eth_next().
 */
static void eth_input_express(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf **pkts, uint16_t n,
			      struct xp_burst *x, struct xp_burst *x6)
{
	struct iface_counters *stats = node_worker(node)->ifc_stats;
	struct xp_check c = {
		.x = x,
		.x6 = x6,
		.xf = {.port = ETH_FAST_NONE},
		.kport = ETH_FAST_NONE,
		.shape = {.rearm_hi = 0, .l2_len = RTE_ETHER_HDR_LEN},
		.shape6 = {.rearm_hi = 0, .l2_len = RTE_ETHER_HDR_LEN},
		.f = {.port = ETH_FAST_NONE},
	};

	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	x->n_runs = 0;
	x6->n_runs = 0;
	batch_start(graph, node, &c.b, eth_guess(pkts[0]), n);
	for (unsigned i = 0; i < n;) {
		i = xp_stage_family(&c, pkts, i, n, false);
		if (i < n)
			i = xp_stage_family(&c, pkts, i, n, true);
		if (i >= n)
			break;
		/* A frame the tight loops did not take: one that is no IP at all goes its way here. */
		struct rte_mbuf *m = pkts[i++];
		if (xp_may_express(m))
			xp_check_slow(graph, node, stats, &c, m);
		else
			batch_add(graph, node, &c.b, eth_next(m, &c.f, stats), m);
	}
	c.xf.packets += c.rx;
	c.xf.bytes += c.rx_bytes;
	eth_fast_flush(&c.xf, stats);
	eth_fast_flush(&c.f, stats);
	x->n = c.nx;
	x6->n = c.nx6;
	if (c.nx > 0)
		xp_send(graph, node, &c.b, ETH_NEXT_IP4_LOOKUP, x, false);
	if (c.nx6 > 0)
		xp_send(graph, node, &c.b, ETH_NEXT_IP6_LOOKUP, x6, true);
	batch_end(graph, node, &c.b);
}

static uint16_t eth_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	bool express = express_on();
	struct xp_burst x, x6;
	for (uint16_t done = 0; done < nb_objs; done += RTE_GRAPH_BURST_SIZE) {
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)RTE_GRAPH_BURST_SIZE);
		if (express)
			eth_input_express(graph, node, pkts + done, n, &x, &x6);
		else
			eth_input_chunk(graph, node, pkts + done, n);
	}
	return nb_objs;
}

static struct rte_node_register eth_input_node = {
	.name = NODE_ETH_INPUT,
	.process = eth_input_process,
	.init = node_worker_init,
	.nb_edges = ETH_NEXT_COUNT,
	.next_nodes =
		{
			[ETH_NEXT_IP4_LOOKUP] = NODE_IP4_LOOKUP,
			[ETH_NEXT_IP4] = NODE_IP4_INPUT,
			[ETH_NEXT_IP6_LOOKUP] = NODE_IP6_LOOKUP,
			[ETH_NEXT_IP6] = NODE_IP6_INPUT,
			[ETH_NEXT_ARP] = NODE_ARP_INPUT,
			[ETH_NEXT_DROP_RUNT] = DROP_NODE(eth_runt),
			[ETH_NEXT_DROP_NOT_FOR_US] = DROP_NODE(eth_not_for_us),
			[ETH_NEXT_DROP_UNKNOWN_VLAN] = DROP_NODE(eth_unknown_vlan),
			[ETH_NEXT_DROP_UNKNOWN_TYPE] = DROP_NODE(eth_unknown_type),
			[ETH_NEXT_DROP_IFACE_DOWN] = DROP_NODE(iface_down),
		},
};
RTE_NODE_REGISTER(eth_input_node);
