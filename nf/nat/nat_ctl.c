/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT's command table and the command that changes something: flush. Configuration changes go through the "nat"
 * section (config commit / reload: nat_cp_apply). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "dataplane/cp.h"
#include "nf/nat/nat_cp.h"
#include "nf/nat/nat_ctl.h"
#include "nf/nf_util.h"

const struct ctl_cmd nat_commands[NAT_N_COMMANDS] = {
	{"nat show pools", "", "",
	 "public addresses by pool: state (active, draining), port blocks used per worker, ports in use",
	 nat_cmd_show_pools},
	{"nat show subscribers", "", "vrf addr skip limit",
	 "subscribers (inside address of a tenant VRF, or DS-Lite B4) with their public address, port blocks, "
	 "sessions and mappings (addr: IPv4 inside or IPv6 B4 address or prefix; paged: default limit 100)",
	 nat_cmd_show_subscribers},
	{"nat show sessions", "", "vrf proto addr port skip limit",
	 "NAT sessions: inside, outside and remote endpoints, state, age, counters (filters: vrf inside or outside, "
	 "proto, addr address or prefix and port of any endpoint; paged: default limit 100)",
	 nat_cmd_show_sessions},
	{"nat show stats", "", "", "NAT and session table counters, summed over the workers", nat_cmd_show_stats},
	{"nat show statics", "", "", "static mappings (port forwarding) by tenant", nat_cmd_show_statics},
	{"nat flush", "", "vrf",
	 "remove every NAT session (all realms, or one tenant VRF); mappings go with them, blocks after block_idle; "
	 "waits up to 2 s for the workers",
	 nat_cmd_flush},
};

int nat_cmd_flush(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	return nf_cmd_flush(a, r, nat_cp_flush, NAT_FLUSH_WAIT_MS);
}
