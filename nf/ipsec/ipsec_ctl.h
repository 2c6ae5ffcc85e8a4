/* SPDX-License-Identifier: BSD-3-Clause */
/* IPsec's control-socket handlers (table in ipsec_ctl.c; `npsctl help` lists them). */
#ifndef NPSGW_IPSEC_CTL_H
#define NPSGW_IPSEC_CTL_H

#include <stdio.h> /* ctl_cmds.h */

#include "dataplane/ctl_cmds.h"

#define IPSEC_N_COMMANDS 9
extern const struct ctl_cmd ipsec_commands[IPSEC_N_COMMANDS];

CTL_HANDLER(ipsec_cmd_tunnel_add);
CTL_HANDLER(ipsec_cmd_tunnel_set);
CTL_HANDLER(ipsec_cmd_tunnel_del);
CTL_HANDLER(ipsec_cmd_sa_add);
CTL_HANDLER(ipsec_cmd_sa_replace);
CTL_HANDLER(ipsec_cmd_sa_del);
CTL_HANDLER(ipsec_cmd_show_tunnels);
CTL_HANDLER(ipsec_cmd_show_sas);
CTL_HANDLER(ipsec_cmd_show_stats);

#endif
