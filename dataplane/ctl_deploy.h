/* SPDX-License-Identifier: BSD-3-Clause */
/* Deployment commands (dataplane/ctl_deploy.c): ports' health, self-checks, flow steering. */
#ifndef NPSGW_CTL_DEPLOY_H
#define NPSGW_CTL_DEPLOY_H

#include <stddef.h>

#include "lib/ctlproto/ctlproto.h"

extern const struct ctl_cmd ctl_deploy_commands[];
extern const size_t ctl_deploy_n_commands;

#endif
