/* SPDX-License-Identifier: BSD-3-Clause */
/* The firewall's control-socket handlers (table in fw_ctl.c; `npsctl help` lists them). */
#ifndef NPSGW_FW_CTL_H
#define NPSGW_FW_CTL_H

#include <stdio.h> /* ctl_cmds.h */

#include "dataplane/ctl_cmds.h"

#define FW_N_COMMANDS 7
extern const struct ctl_cmd fw_commands[FW_N_COMMANDS];

CTL_HANDLER(fw_cmd_show_rules);
CTL_HANDLER(fw_cmd_show_sessions);
CTL_HANDLER(fw_cmd_show_stats);
CTL_HANDLER(fw_cmd_show_zones);
CTL_HANDLER(fw_cmd_flush);
CTL_HANDLER(fw_cmd_ruleset_replace);
CTL_HANDLER(fw_cmd_ruleset_delete);

#endif
