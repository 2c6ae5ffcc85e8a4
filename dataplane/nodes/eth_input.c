/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth_input: finds the interface of a frame (port + 802.1Q VLAN), checks the destination MAC, strips the L2
 * header and dispatches by EtherType. Ports run promiscuous; the MAC filter is here, per interface. IPv4 and IPv6
 * packets that pass the input node's checks here go straight to the lookup (one node hop less, ~8 cycles a packet);
 * the plain forwarded IPv4 packet goes further, straight to its port (the express path, ip4_express.h).
 */
#include <rte_ether.h>

#include "dataplane/nodes/ip4_express.h"
#include "dataplane/nodes/ip4_input.h"
#include "dataplane/nodes/ip6_input.h"

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
	bool ip4_express;  /* no IPv4 input nor forwarding feature in the VRF (ip4_express.h) */
	bool ip6_plain;
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
 * One chunk of frames, the express path on. The express check is eth_fast_check()'s IPv4 branch with the kept
 * interface in locals; a frame it is not sure of takes eth_next(), the chunk's other frames' way.
 */
static void eth_input_express(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf **pkts, uint16_t n,
			      struct xp_burst *x)
{
	struct iface_counters *stats = node_worker(node)->ifc_stats;
	struct node_batch b;
	struct eth_fast f = {.port = ETH_FAST_NONE};  /* eth_next()'s */
	struct eth_fast xf = {.port = ETH_FAST_NONE}; /* the express frames' interface, copied to the locals below */
	uint32_t kport = ETH_FAST_NONE;
	uint16_t kvlan = 0;
	uint64_t kmac = 0;
	bool kexpress = false;
	uint32_t rx = 0;
	uint64_t rx_bytes = 0;
	uint16_t nx = 0;

	for (uint16_t i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	x->n_runs = 0;
	batch_start(graph, node, &b, eth_guess(pkts[0]), n);
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		struct rte_mbuf *m = pkts[i];
		const uint8_t *eh = rte_pktmbuf_mtod(m, const uint8_t *);
		uint16_t len = rte_pktmbuf_data_len(m);
		if (unlikely(m->nb_segs != 1 || len < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr) + 20))
			goto other;
		uint64_t dst;
		uint16_t type, vlan = VLAN_UNTAGGED;
		uint8_t l2_len = RTE_ETHER_HDR_LEN;
		memcpy(&dst, eh, sizeof(dst));
		memcpy(&type, eh + 12, sizeof(type));
		if (unlikely(type != RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
			uint16_t tci;
			if (type != RTE_BE16(RTE_ETHER_TYPE_VLAN))
				goto other;
			memcpy(&tci, eh + RTE_ETHER_HDR_LEN, sizeof(tci));
			memcpy(&type, eh + RTE_ETHER_HDR_LEN + 2, sizeof(type));
			vlan = rte_be_to_cpu_16(tci) & 0xfff;
			l2_len += sizeof(struct rte_vlan_hdr);
			if (type != RTE_BE16(RTE_ETHER_TYPE_IPV4) || vlan == VLAN_UNTAGGED)
				goto other;
		}
		if (unlikely(m->port != kport || vlan != kvlan)) {
			xf.packets += rx;
			xf.bytes += rx_bytes;
			rx = 0;
			rx_bytes = 0;
			kexpress = eth_fast_keep(&xf, stats, m->port, vlan) && xf.ip4_express;
			kport = m->port; /* kept even when refused: the next frames of it are not asked again */
			kvlan = vlan;
			kmac = xf.mac;
			if (kexpress) {
				x->n = nx;
				xp_run_start(x, xf.ifid, xf.vrf);
			}
		}
		unsigned l3_len;
		if (unlikely(!kexpress || ((dst ^ kmac) & MAC_MASK) != 0 ||
			     !ip4_plain_ok(eh + l2_len, len - l2_len, &l3_len, rx_ip4_csum_good(m))))
			goto other;
		rx++;
		rx_bytes += len;
		x->m[nx] = m;
		x->len[nx] = l3_len | (uint32_t)l2_len << XP_L2_SHIFT;
		uint32_t daddr;
		memcpy(&daddr, eh + l2_len + offsetof(struct rte_ipv4_hdr, dst_addr), sizeof(daddr));
		x->dst[nx++] = rte_be_to_cpu_32(daddr);
		continue;
other:
		batch_add(graph, node, &b, eth_next(m, &f, stats), m);
	}
	xf.packets += rx;
	xf.bytes += rx_bytes;
	eth_fast_flush(&xf, stats);
	eth_fast_flush(&f, stats);
	x->n = nx;
	if (nx > 0)
		xp_send(graph, node, &b, ETH_NEXT_IP4_LOOKUP, x);
	batch_end(graph, node, &b);
}

static uint16_t eth_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	bool express = express_on();
	struct xp_burst x;
	for (uint16_t done = 0; done < nb_objs; done += RTE_GRAPH_BURST_SIZE) {
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)RTE_GRAPH_BURST_SIZE);
		if (express)
			eth_input_express(graph, node, pkts + done, n, &x);
		else
			eth_input_chunk(graph, node, pkts + done, n);
	}
	return nb_objs;
}

/* The express path's batch guess must be a port_tx edge (as ip4_rewrite's). */
static int eth_input_init(const struct rte_graph *graph, struct rte_node *node)
{
	return node_worker_init_port_home(graph, node, eth_input_tx_edge);
}

static struct rte_node_register eth_input_node = {
	.name = NODE_ETH_INPUT,
	.process = eth_input_process,
	.init = eth_input_init,
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
