/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread knows about each port beyond its configuration (dataplane/ports.c): link changes seen
 * (flaps), whether the device was removed (hot-unplug event) or its host interface disappeared (net_af_packet /
 * net_tap whose kernel interface is gone), and how its rx queues are spread (RSS or not). Control thread only.
 */
#ifndef NPSGW_PORT_STATE_H
#define NPSGW_PORT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp.h"

struct port_state {
	int8_t link_up;            /* last state seen: 1 up, 0 down, -1 unknown (before the first poll) */
	uint64_t link_downs, link_ups; /* transitions seen since start */
	uint64_t last_change_ms;   /* cp_now_ms() of the last transition, 0 none */
	uint32_t speed_mbps;
	bool removed;              /* RTE_ETH_EVENT_INTR_RMV received: the device is gone */
	bool host_if_gone;         /* the vdev's iface=NAME no longer exists in the kernel */
	char host_if[32];          /* that NAME, "" when the device has none */
	bool rss;                  /* rx queues spread by the NIC's RSS; false: by the peer (virtio) or one queue */
	bool rx_ip4_cksum;         /* the NIC verifies IPv4 header checksums (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) */
	char driver[32];
};

extern struct port_state port_states[DP_MAX_PORTS];

/*
 * Compare every port's link with the last state seen, log transitions (stderr: the journal under systemd), count
 * them, notice removed devices and vanished host interfaces. Returns a bitmask of ports (by port id, ids < 32)
 * whose link came up since the last call, so the caller can announce their addresses again.
 */
uint32_t ports_poll_state(uint64_t now_ms);

struct npsgw_conf;
/*
 * Before EAL: does every configured device exist? (a vdev's iface= host interface, a virtio_user's vhost-user
 * socket, a PCI address and the kernel driver it is bound to). 0, or ENODEV with err naming the device and the fix.
 */
int ports_precheck(const struct npsgw_conf *conf, char *err, size_t errlen);

/* Ports up / used (for the readiness status line). */
unsigned ports_links_up(void);

#endif
