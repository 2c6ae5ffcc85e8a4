/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's shared state: interfaces, VRFs, next hops, ports and workers.
 *
 * Ownership and threading (the rules every file follows):
 * - The control thread (main lcore) is the only writer of everything here. It runs the config loader, the control
 *   socket handlers, ARP/NDP and the neighbour timers, one after the other: control operations never race.
 * - Workers read. Pointers they follow (ifaces[], vrfs[], a VRF's FIBs) are swapped with release stores and old
 *   objects are freed only after rte_rcu_qsbr_synchronize(dp.qs): every worker reports a quiescent state once per
 *   loop, outside any node, so a worker never holds a pointer across iterations.
 * - Next-hop entries are never freed while a FIB copy or another next hop may point at them: the control thread
 *   removes every reference, waits for a grace period, then recycles the index.
 * - The few fields workers write (nexthop.last_used) are advisory and written only when they change by a second.
 */
#ifndef NPSGW_DP_H
#define NPSGW_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dataplane/drop_reasons.h"
#include "dataplane/fib.h"
#include "lib/conf/conf.h"
#include "lib/hdr/addr.h"

#define DP_MAX_PORTS 32
#define DP_MAX_WORKERS 64
/* Interfaces owned by a network function (tunnels) have no port: their "port" numbers come after the real ones,
 * one per function, so the rewrite nodes reach the function's output node as they reach a port. */
#define DP_MAX_TUNNEL_KINDS 8
#define DP_TUNNEL_PORT(fn_index) (DP_MAX_PORTS + (fn_index))
#define DP_MAX_OUT_PORTS (DP_MAX_PORTS + DP_MAX_TUNNEL_KINDS)
#define IFACE_MAX_ADDRS 16
#define IFACE_NONE 0 /* interface ids start at 1 */
#define VLAN_UNTAGGED 0

/* Per-packet metadata in the mbuf private area. Valid from eth_input on. */
struct pkt_meta {
	uint16_t in_iface;
	uint16_t out_iface;
	uint32_t vrf;        /* VRF slot the packet is looked up in */
	uint32_t nh;         /* next hop chosen by the lookup */
	uint8_t punt_reason; /* enum punt_reason, set before the punt node */
	uint8_t icmp_type;   /* for the ICMP error nodes */
	uint8_t icmp_code;
	uint8_t flags;       /* PKT_F_* */
	uint32_t icmp_info;  /* MTU for "fragmentation needed" / "packet too big" */
	uint32_t trace_id;   /* with PKT_F_TRACED: which traced packet this is */
};

/* The router built this packet (echo reply, ICMP error): forward it without a TTL/hop-limit decrement. */
#define PKT_F_LOCAL_ORIGIN 0x01
/* Received in a link-layer broadcast or multicast frame: may only be for the router or a group (RFC 1812 5.3.4). */
#define PKT_F_L2_GROUP 0x02
/* in_iface and vrf are set (eth_input accepted the frame). */
#define PKT_F_META 0x04
/* Data starts at the L3 header (eth_input stripped L2; the rewrite nodes put it back). */
#define PKT_F_L3 0x08
/* Traced: every node it visits writes a trace record (dataplane/tap_fast.c). */
#define PKT_F_TRACED 0x10
/* Path check: built by the router, traced, never transmitted nor punted. */
#define PKT_F_DRY_RUN 0x20

/*
 * The private area of the router's mbufs: pkt_meta rounded up to a whole cache line, so that the packet data
 * (after the headroom) starts on a line. With the 8-byte rounding DPDK asks for, a 64-byte frame began 24 bytes into
 * a line and spanned two: every copy, header read and rewrite touched a line more (net_pcap's receive copy alone
 * ~8 cycles/packet).
 */
static inline uint16_t pkt_meta_priv_size(void)
{
	return (uint16_t)RTE_ALIGN(sizeof(struct pkt_meta), RTE_CACHE_LINE_SIZE);
}
_Static_assert(sizeof(struct rte_mbuf) % RTE_CACHE_LINE_SIZE == 0 && RTE_PKTMBUF_HEADROOM % RTE_CACHE_LINE_SIZE == 0,
	       "mbuf + private area + headroom end on a cache line (mempool objects are line-aligned)");

static inline struct pkt_meta *pkt_meta(struct rte_mbuf *m)
{
	return (struct pkt_meta *)rte_mbuf_to_priv(m);
}

enum punt_reason {
	PUNT_ARP = 1,     /* ARP packet, validated; data at the ARP header */
	PUNT_NDP,         /* NDP message, validated; data at the IPv6 header */
	PUNT_RESOLVE4,    /* IPv4 packet waiting for its next hop; meta.nh = next hop to resolve; data at IP header */
	PUNT_RESOLVE6,
};

struct iface {
	/* Immutable once published: a change builds a new struct and swaps the pointer. */
	uint16_t id;
	uint16_t port;       /* a device port, or DP_TUNNEL_PORT(fn) for a function's interface */
	uint8_t tunnel_fn;   /* 0: on a device port; else 1 + the owning function's registry index (kind) */
	uint16_t vlan;
	uint16_t mtu; /* IP MTU */
	uint32_t vrf; /* VRF slot */
	bool up;
	struct rte_ether_addr mac;
	rte_be32_t ip4_primary; /* source of ICMP errors; 0 = none */
	uint8_t ip6_primary[16]; /* global (or link-local when none) source of ICMPv6 errors */
	uint8_t ip6_ll[16];      /* link-local address, fe80::/64 + modified EUI-64 */
	char name[CONF_NAME_MAX];
	uint8_t n_addrs;
	struct addr_prefix addrs[IFACE_MAX_ADDRS]; /* configured addresses */
};

struct vrf {
	uint32_t slot;
	uint32_t id; /* operator-facing table id */
	char name[CONF_NAME_MAX];
	bool compact;
	uint32_t max_routes;
	struct fib4 *fib4;
	struct fib6 *fib6;
	uint32_t n_ifaces; /* control only */
};

enum nh_type {
	NH_T_NONE = 0,
	NH_T_LOCAL,     /* addressed to the router */
	NH_T_CONNECTED, /* on-link subnet: the destination itself is the neighbour to resolve */
	NH_T_GATEWAY,   /* via a gateway: uses the gateway's NEIGH entry */
	NH_T_NEIGH,     /* a neighbour (host route or a gateway's resolution) with its MAC */
	NH_T_BLACKHOLE,
	NH_T_REJECT,
	NH_T_LEAK,      /* look up again in target_vrf */
	NH_T_BCAST,     /* network or broadcast address of a connected IPv4 subnet: never a neighbour */
	NH_T_COUNT
};

#define NH_L2_VALID (1ull << 48)

struct nexthop {
	uint8_t type;
	uint8_t family; /* 4 or 6 */
	uint16_t iface;
	uint32_t target_vrf; /* LEAK */
	uint32_t neigh;      /* GATEWAY: index of the gateway's NEIGH entry */
	uint32_t refs;       /* control: routes and next hops pointing here */
	uint64_t l2;         /* NEIGH: MAC in the low 48 bits (byte 0 lowest) | NH_L2_VALID; atomic */
	uint64_t last_used;  /* NEIGH: worker clock (ms) of the last use, advisory */
	uint8_t addr[16];    /* GATEWAY / NEIGH: the neighbour's address */
	uint64_t tunnel_out; /* CONNECTED / NEIGH on a tunnel interface: what the rewrites need of it, on this line
			      * (nh_tunnel_out_pack); 0 = none (not a tunnel's, or the interface is gone); atomic */
} __rte_cache_aligned;
_Static_assert(sizeof(struct nexthop) == RTE_CACHE_LINE_SIZE, "a next hop is one line");

/*
 * A tunnel interface's id, port (its function's tx edge), MTU and state packed in one word that the control thread
 * stores in each of the interface's next hops and rewrites when they change (nh_tunnel_out_refresh): with a
 * thousand tunnels every packet is alone on its next hop, and the rewrite then reads no interface line.
 */
#define NH_TUN_VALID (1ull << 63)
#define NH_TUN_UP (1ull << 62)

static inline uint16_t nh_tun_mtu(uint64_t t)
{
	return (uint16_t)t;
}

static inline uint16_t nh_tun_port(uint64_t t)
{
	return (uint16_t)(t >> 16);
}

static inline uint16_t nh_tun_iface(uint64_t t)
{
	return (uint16_t)(t >> 32);
}

/* Per-interface packet counters, one array per worker (written only by that worker: no sharing). */
struct iface_counters {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

struct worker {
	unsigned index;
	unsigned lcore;
	uint16_t txq; /* this worker's tx queue on every port */
	struct rte_graph *graph;
	char graph_name[32];
	struct conf_rxq_ref *rxqs;
	size_t n_rxqs;
	volatile uint64_t now_ms; /* refreshed once per loop */
	/* ICMP error rate limit (tokens per second = limits.icmp_rate) */
	uint64_t icmp_tokens, icmp_last_ms;
	struct rte_mempool *frag_direct, *frag_indirect;
	uint64_t pkts_created;  /* extra packets made by fragmentation (IPv4 forwarding, DS-Lite encapsulation) */
	uint64_t pkts_express;  /* packets the express path forwarded, IPv4 and IPv6 (nodes/express.h); in tx too */
	uint64_t pkts_absorbed; /* packets merged into others by reassembly (n fragments in, one out: n - 1), and IPsec NAT-T keepalives consumed */
	struct iface_counters *ifc_stats; /* dp.max_ifaces entries, zeroed when an id is (re)used */
};

struct port {
	bool used;
	uint16_t port_id;
	char name[CONF_NAME_MAX];
	uint16_t nb_rxq, nb_txq;
	bool started;
	uint16_t mtu;
	struct rte_ether_addr mac;
	uint16_t *vlan_map; /* 4096 interface ids by VLAN (0 = untagged); 16-bit atomic stores */
};

enum ctl_counter {
#define NPSGW_CTL_COUNTERS(X)                                                                                         \
	X(arp_rx_request) X(arp_rx_reply) X(arp_rx_gratuitous) X(arp_rx_not_for_us) X(arp_tx_request)                 \
	X(arp_tx_reply) X(arp_tx_gratuitous) X(ndp_rx_ns) X(ndp_rx_na) X(ndp_rx_rs) X(ndp_rx_ra) X(ndp_rx_redirect) \
	X(ndp_rx_ns_not_for_us) X(ndp_rx_dad) X(ndp_tx_ns) X(ndp_tx_na) X(ndp_tx_unsolicited_na) X(ndp_drop_no_mac)  \
	X(ndp_drop_bad_option) X(neigh_resolved) X(neigh_failed) X(neigh_held) X(neigh_hold_flushed)                 \
	X(neigh_hold_dropped) X(neigh_hold_full) X(neigh_table_full) X(punt_received) X(ctl_tx) X(ctl_tx_failed) \
	X(handoff_drain_timeout)
#define CTL_COUNTER_ENUM(n) CTL_##n,
	NPSGW_CTL_COUNTERS(CTL_COUNTER_ENUM)
#undef CTL_COUNTER_ENUM
	CTL_COUNTER_COUNT
};

struct dp {
	struct npsgw_conf *conf;
	struct rte_rcu_qsbr *qs; /* NULL until the workers start */
	volatile bool quit;
	bool graph_profile; /* time every node call (`graph profile on`); read once per graph walk */
	uint8_t express_off; /* EXPRESS_OFF_* bits: why eth_input's express path is off; read once per burst */

	struct port ports[DP_MAX_PORTS];
	uint16_t n_ports;

	unsigned n_workers;
	struct worker workers[DP_MAX_WORKERS];

	uint32_t max_ifaces;
	struct iface **ifaces; /* by id */

	uint32_t max_vrfs;
	struct vrf **vrfs; /* by slot */

	uint32_t max_nhs;
	struct nexthop *nhs;
	uint32_t *nh_free; /* stack of free indexes */
	uint32_t n_nh_free;
	uint32_t nh_local; /* the shared LOCAL next hop */

	struct rte_mempool *pool;
	struct rte_ring *punt;   /* workers -> control: ARP, NDP, packets waiting for a neighbour */
	struct rte_ring *ctl_txr; /* control -> worker 0: frames the control thread sends (m->port set) */

	uint64_t ctl_counters[CTL_COUNTER_COUNT];
	uint64_t ctl_drops[DROP_COUNT]; /* drops done by the control thread (hold queues) */
};

extern struct dp dp;

/*
 * Reasons the express path (dataplane/nodes/express.h) is off. It forwards the plain packet in eth_input
 * without visiting the lookup and rewrite nodes, so anything that must see those nodes one by one turns it off.
 */
#define EXPRESS_OFF_PROFILE 0x01  /* `graph profile on`: cycles are timed node by node */
#define EXPRESS_OFF_TAP 0x02      /* a capture or a trace: every node on the path records what it sees */
#define EXPRESS_OFF_OPERATOR 0x04 /* `graph express off` */

/* Control thread: set or clear one reason. Workers see it at their next burst. */
static inline void express_set_off(uint8_t reason, bool off)
{
	if (off)
		__atomic_fetch_or(&dp.express_off, reason, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&dp.express_off, (uint8_t)~reason, __ATOMIC_RELEASE);
}

static inline struct iface *iface_get(uint16_t id)
{
	return __atomic_load_n(&dp.ifaces[id], __ATOMIC_ACQUIRE);
}

static inline bool iface_is_tunnel(const struct iface *ifc)
{
	return ifc->tunnel_fn != 0;
}

/* The word of nh_tunnel_out for tunnel interface ifc (0 for NULL: the interface is gone). */
static inline uint64_t nh_tunnel_out_pack(const struct iface *ifc)
{
	if (ifc == NULL)
		return 0;
	uint64_t up = ifc->up ? NH_TUN_UP : 0;
	return NH_TUN_VALID | up | (uint64_t)ifc->id << 32 | (uint64_t)ifc->port << 16 | ifc->mtu;
}

static inline struct vrf *vrf_get(uint32_t slot)
{
	return __atomic_load_n(&dp.vrfs[slot], __ATOMIC_ACQUIRE);
}

static inline uint64_t nh_l2_pack(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;
	for (int i = 5; i >= 0; i--)
		v = (v << 8) | mac->addr_bytes[i];
	return v | NH_L2_VALID;
}

static inline void nh_l2_unpack(uint64_t l2, struct rte_ether_addr *mac)
{
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)(l2 >> (8 * i));
}

/* Wait until every worker has passed a quiescent state (no-op before the workers start). */
void dp_synchronize(void);
/*
 * Rings workers hand packets to each other on (network functions' ownership): dp_synchronize() also waits until
 * the packets queued on them before the grace period were taken, since they carry next-hop and VRF indexes.
 */
int dp_handoff_ring_register(struct rte_ring *r);
void dp_handoff_ring_unregister(struct rte_ring *r);

#endif
