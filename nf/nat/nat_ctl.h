/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT's control-socket handlers (table in nat_ctl.c; `npsctl help` lists them). */
#ifndef NPSGW_NAT_CTL_H
#define NPSGW_NAT_CTL_H

#include <stdio.h> /* ctl_cmds.h */

#include "dataplane/ctl_cmds.h"

#define NAT_N_COMMANDS 6
extern const struct ctl_cmd nat_commands[NAT_N_COMMANDS];

CTL_HANDLER(nat_cmd_show_pools);
CTL_HANDLER(nat_cmd_show_subscribers);
CTL_HANDLER(nat_cmd_show_sessions);
CTL_HANDLER(nat_cmd_show_stats);
CTL_HANDLER(nat_cmd_show_statics);
CTL_HANDLER(nat_cmd_flush);

#endif
