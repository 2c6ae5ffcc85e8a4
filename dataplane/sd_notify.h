/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * systemd's service notification protocol without libsystemd: one datagram per message on the AF_UNIX socket named
 * by $NOTIFY_SOCKET ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1"; a leading '@' names an abstract socket).
 * Outside systemd (no NOTIFY_SOCKET) every call is a no-op. Control thread only.
 */
#ifndef NPSGW_SD_NOTIFY_H
#define NPSGW_SD_NOTIFY_H

#include <stdint.h>

/* Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the watchdog is ours only when the pid is ours or unset). */
void sd_notify_init(void);
/* Send one message ("READY=1\nSTATUS=..."); 0, or -errno. No-op (0) without NOTIFY_SOCKET. */
int sd_notify_send(const char *msg);
/* printf-style sd_notify_send. */
int sd_notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* How often to send WATCHDOG=1: half of WATCHDOG_USEC, in ms; 0 when there is no watchdog. */
uint64_t sd_watchdog_period_ms(void);

#endif
