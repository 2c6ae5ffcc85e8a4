/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Start-up self-checks of the ports (and `selfcheck run` / `show selfcheck`): what breaks a router on SR-IOV
 * virtual functions and paravirtual NICs, each finding with the host-side command that fixes it.
 *
 * - promiscuous mode refused: the VF is not trusted (frames to the router's other MACs never arrive);
 * - all-multicast refused and no multicast list either: IPv6 solicited-node multicast is filtered, neighbour
 *   discovery fails (with allmulti refused but a list accepted, the groups of the current addresses are programmed);
 * - an extra MAC (interface with its own MAC) refused by the MAC filter, and spoof checking that would drop frames
 *   sent from it;
 * - the device MTU differs from the configured one (the PF's or the vSwitch's MTU is lower), or an interface MTU
 *   exceeds it;
 * - link down at start-up, and whether rx queues are spread by RSS.
 *
 * Testing without the hardware: NPSD_SELFCHECK_SIMULATE (comma list of vf, promisc_refused, allmulti_refused,
 * mc_list_refused, mac_add_refused, mtu_mismatch) makes the device calls below answer as a refusing VF would; the
 * checks themselves run unchanged. Control thread only.
 */
#ifndef NPSGW_SELFCHECK_H
#define NPSGW_SELFCHECK_H

#include <stdint.h>
#include <stdio.h>

struct npsgw_conf;

enum sc_status { SC_OK = 0, SC_INFO, SC_WARN, SC_FAIL };

struct sc_result {
	char port[32];
	char check[24];
	enum sc_status status;
	char detail[192];
	char fix[192]; /* host-side command or action; "" when nothing to do */
};

/* Run every check on every port, log the findings (warnings and failures) to log. Returns warnings + failures. */
unsigned selfcheck_run(const struct npsgw_conf *conf, FILE *log);
/* The last run's results. */
size_t selfcheck_results(const struct sc_result **out);
const char *sc_status_name(enum sc_status s);

/* 33:33:ff:xx:yy:zz, the Ethernet group of an IPv6 address's solicited-node multicast group ff02::1:ffxx:yyzz. */
void sc_solicited_node_mac(const uint8_t ip6[16], uint8_t mac[6]);

#endif
