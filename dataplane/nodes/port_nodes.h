/* SPDX-License-Identifier: BSD-3-Clause */
/* Cloning the per-port rx and tx nodes while the graphs are being built (control thread, before workers run). */
#ifndef NPSGW_PORT_NODES_H
#define NPSGW_PORT_NODES_H

#include <stddef.h>
#include <stdint.h>

/* Clone port_rx for (port, queue); writes the clone's full node name. */
int port_rx_clone(uint16_t port, uint16_t queue, const char *port_name, char *name_out, size_t len);
/* Clone port_tx for port; writes the clone's full node name. */
int port_tx_clone(uint16_t port, const char *port_name, char *name_out, size_t len);

#endif
