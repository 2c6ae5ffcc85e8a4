/* SPDX-License-Identifier: BSD-3-Clause */
/* Client side of the control protocol: one request, one reply, under one overall deadline. */
#include "lib/ctlproto/ctlproto.h"
#include "lib/ctlproto/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_RETRY_MS 10 /* a full listen backlog refuses with EAGAIN: try again shortly */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left for poll(): -1 (no limit) when deadline is 0, else at least 0. */
static int remaining_ms(int64_t deadline)
{
	if (deadline == 0)
		return -1;
	int64_t left = deadline - now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait until fd is ready for events. Returns 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int rc = poll(&pfd, 1, remaining_ms(deadline));
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_path(int fd, const char *path, int64_t deadline)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path));
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int left = remaining_ms(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		poll(NULL, 0, left < 0 || left > CONNECT_RETRY_MS ? CONNECT_RETRY_MS : left);
	}
}

/* Send all of data. Returns 0 or a negative errno. */
static int send_all(int fd, const char *data, size_t len, int64_t deadline)
{
	while (len != 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int rc = wait_fd(fd, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool parse_number(const char **p, char stop, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	if (*s != stop)
		return false;
	*out = v;
	*p = s + 1;
	return true;
}

/* "NPSGW/1 <status> <len>\n" at the start of buf (NUL-terminated). Returns the header length, 0 if incomplete. */
static int parse_header(const char *buf, size_t len, int *status, size_t *body_len)
{
	const char *nl = memchr(buf, '\n', len);
	if (nl == NULL)
		return len >= CTL_HEADER_MAX ? -EPROTO : 0;
	static const char magic[] = "NPSGW/";
	const char *p = buf;
	uint64_t version, st, blen;
	if (strncmp(p, magic, sizeof(magic) - 1) != 0)
		return -EPROTO;
	p += sizeof(magic) - 1;
	if (!parse_number(&p, ' ', 1000, &version) || version != CTL_PROTO_VERSION ||
	    !parse_number(&p, ' ', 4095, &st) || !parse_number(&p, '\n', CTL_REPLY_MAX, &blen))
		return -EPROTO;
	*status = (int)st;
	*body_len = (size_t)blen;
	return (int)(p - buf);
}

/* Read one reply frame into body. Returns its status, or a negative errno; send_error explains an early EOF. */
static int read_reply(int fd, struct sbuf *body, int64_t deadline, int send_error)
{
	char chunk[64 << 10];
	int header_len = 0, status = 0;
	size_t body_len = 0;
	for (;;) {
		if (header_len > 0 && body->len >= (size_t)header_len + body_len)
			break;
		ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(fd, POLLIN, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return send_error != 0 ? send_error : -ECONNRESET;
		sbuf_append(body, chunk, (size_t)n);
		if (body->oom)
			return -ENOMEM;
		if (header_len == 0) {
			header_len = parse_header(body->data, body->len, &status, &body_len);
			if (header_len < 0)
				return header_len;
		}
	}
	/* Anything after the frame is not ours: we sent one request. */
	memmove(body->data, body->data + header_len, body_len);
	body->len = body_len;
	body->data[body_len] = '\0';
	return status;
}

int ctl_client_call(const char *path, const char *request, struct sbuf *body, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	sbuf_reset(body);
	sbuf_append(body, "", 0); /* body->data is a valid empty string even when the call fails */
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	if (strchr(request, '\n') != NULL)
		return -EINVAL; /* a newline would make it two requests */

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect_path(fd, path, deadline);
	if (rc == 0) {
		struct sbuf line;
		sbuf_init(&line);
		sbuf_append(&line, request, strlen(request));
		sbuf_append(&line, "\n", 1);
		rc = line.oom ? -ENOMEM : send_all(fd, line.data, line.len, deadline);
		sbuf_free(&line);
		/* A server that refuses a request (too long) replies and closes: its reply says more than EPIPE. */
		if (rc == 0 || rc == -EPIPE || rc == -ECONNRESET)
			rc = read_reply(fd, body, deadline, rc);
	}
	close(fd);
	if (rc < 0)
		sbuf_reset(body);
	return rc;
}
