/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket's command table and handlers (thin wrappers over the cp_* operations). */
#ifndef NPSGW_CTL_CMDS_H
#define NPSGW_CTL_CMDS_H

#include "lib/ctlproto/ctlproto.h"

struct ctl_ctx {
	int unused;
};

#define CTL_HANDLER(name) int name(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
CTL_HANDLER(cmd_show_interfaces);
CTL_HANDLER(cmd_show_vrfs);
CTL_HANDLER(cmd_show_routes);
CTL_HANDLER(cmd_show_neighbours);
CTL_HANDLER(cmd_show_workers);
CTL_HANDLER(cmd_show_stats);
CTL_HANDLER(cmd_show_drops);
CTL_HANDLER(cmd_show_graph);
CTL_HANDLER(cmd_graph_profile);
CTL_HANDLER(cmd_graph_express);
CTL_HANDLER(cmd_capture_start);
CTL_HANDLER(cmd_capture_stop);
CTL_HANDLER(cmd_capture_status);
CTL_HANDLER(cmd_trace_start);
CTL_HANDLER(cmd_trace_stop);
CTL_HANDLER(cmd_trace_show);
CTL_HANDLER(cmd_path_check);
CTL_HANDLER(cmd_vrf_add);
CTL_HANDLER(cmd_vrf_del);
CTL_HANDLER(cmd_iface_add);
CTL_HANDLER(cmd_iface_del);
CTL_HANDLER(cmd_iface_set);
CTL_HANDLER(cmd_addr_add);
CTL_HANDLER(cmd_addr_del);
CTL_HANDLER(cmd_route_add);
CTL_HANDLER(cmd_route_del);
CTL_HANDLER(cmd_neigh_add);
CTL_HANDLER(cmd_neigh_del);
CTL_HANDLER(cmd_config_diff);
CTL_HANDLER(cmd_config_commit);
CTL_HANDLER(cmd_config_rollback);
CTL_HANDLER(cmd_config_save);
CTL_HANDLER(cmd_reload);

extern const struct ctl_cmd ctl_commands[];
extern const size_t ctl_n_commands;

/* Serve one request line (the server's callback). */
void ctl_handle(void *cookie, const char *line, size_t len, struct sbuf *reply_frame);
/* Markdown reference of every command, for docs/CONTROL.md (npsd --dump-commands). */
void ctl_dump_commands(FILE *out);

#endif
