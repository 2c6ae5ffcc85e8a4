/* SPDX-License-Identifier: BSD-3-Clause */
/* systemd notifications over $NOTIFY_SOCKET (see sd_notify.h): a few datagrams, so no library is needed. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dataplane/sd_notify.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len; /* 0: no NOTIFY_SOCKET */
static uint64_t watchdog_usec;

void sd_notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	notify_addr_len = 0;
	watchdog_usec = 0;
	if (path != NULL && (path[0] == '/' || path[0] == '@') && strlen(path) < sizeof(notify_addr.sun_path)) {
		memset(&notify_addr, 0, sizeof(notify_addr));
		notify_addr.sun_family = AF_UNIX;
		memcpy(notify_addr.sun_path, path, strlen(path));
		if (path[0] == '@')
			notify_addr.sun_path[0] = '\0'; /* abstract namespace: the length, not a NUL, ends the name */
		notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	}
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	bool ours = pid == NULL || strtol(pid, NULL, 10) == (long)getpid();
	if (usec != NULL && ours)
		watchdog_usec = strtoull(usec, NULL, 10);
}

int sd_notify_send(const char *msg)
{
	if (notify_addr_len == 0)
		return 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&notify_addr, notify_addr_len);
	int rc = n < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int sd_notify_sendf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return sd_notify_send(buf);
}

uint64_t sd_watchdog_period_ms(void)
{
	return watchdog_usec / 2000;
}
