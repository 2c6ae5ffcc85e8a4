/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket server: one thread, non-blocking sockets, poll().
 *
 * Per client: an input buffer of one maximal request and a queue of reply bytes not yet taken by the client. A
 * client's next buffered request is only answered once its queued output is small, so a client that sends
 * requests but never reads its replies stalls itself (its own writes block) and costs at most one reply of memory;
 * everyone else is served. Replies go out in request order, one per '\n'-terminated request. Event frames for
 * subscribers join the same queue between replies (server_events.c).
 */
#define _GNU_SOURCE /* accept4 */
#include "lib/ctlproto/ctlproto.h"
#include "lib/ctlproto/internal.h"
#include "lib/ctlproto/server_int.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void client_drop(struct ctl_server *s, struct ctl_client *c)
{
	close(c->fd);
	sbuf_free(&c->out);
	*c = (struct ctl_client){.fd = -1};
	s->nclients--;
}

/* Write what the socket takes now. Returns -1 when the client is gone. */
static int client_flush(struct ctl_client *c)
{
	while (out_pending(c) != 0) {
		ssize_t n = send(c->fd, c->out.data + c->out_sent, out_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->out_sent += (size_t)n;
	}
	if (c->out.cap > OUT_KEEP)
		sbuf_free(&c->out);
	else
		sbuf_reset(&c->out);
	c->out_sent = 0;
	return 0;
}

/* Queue one reply frame. Returns -1 when the client must be dropped (its queue would exceed OUT_CAP). */
static int client_queue(struct ctl_server *s, struct ctl_client *c)
{
	if (out_pending(c) + s->frame.len > OUT_CAP)
		return -1;
	if (out_pending(c) == 0) {
		struct sbuf idle = c->out;
		c->out = s->frame;
		c->out_sent = 0;
		s->frame = idle;
	} else {
		sbuf_append(&c->out, s->frame.data, s->frame.len);
		if (c->out.oom)
			return -1;
	}
	sbuf_reset(&s->frame);
	return 0;
}

static void build_reply(struct ctl_server *s, const char *line, size_t len)
{
	char err[CTL_ERR_MAX];
	sbuf_reset(&s->frame);
	if (ctl_line_check(line, len, err, sizeof(err)) != 0) {
		ctl_render_error(EINVAL, err, ctl_line_wants_json(line, len), &s->frame);
		return;
	}
	s->fn(s->cookie, line, len, &s->frame);
	if (s->frame.oom || s->frame.len == 0) {
		/* Every request gets exactly one reply, or the client would wait for ever. */
		bool oom = s->frame.oom;
		const char *msg = oom ? "out of memory building the reply" : "internal error: no reply";
		sbuf_free(&s->frame);
		ctl_render_error(oom ? ENOMEM : EIO, msg, ctl_line_wants_json(line, len), &s->frame);
	}
}

/* Answer the complete requests in c's input while its queue is short. Returns the number answered, -1 to drop. */
static int client_answer(struct ctl_server *s, struct ctl_client *c)
{
	int answered = 0;
	while (!c->closing && out_pending(c) < OUT_LOW_WATER) {
		char *nl = memchr(c->in, '\n', c->in_len);
		if (nl == NULL && c->in_len < CTL_REQ_MAX)
			break;
		if (nl == NULL) {
			char err[CTL_ERR_MAX];
			snprintf(err, sizeof(err), "request too long (max %d bytes with the newline)", CTL_REQ_MAX);
			sbuf_reset(&s->frame);
			ctl_render_error(E2BIG, err, ctl_line_wants_json(c->in, c->in_len), &s->frame);
			c->closing = true; /* the rest of that request is still coming: what follows cannot be framed */
			c->in_len = 0;
		} else {
			size_t len = (size_t)(nl - c->in);
			sbuf_reset(&s->deferred);
			s->current = c;
			build_reply(s, c->in, len);
			s->current = NULL;
			c->in_len -= len + 1;
			memmove(c->in, nl + 1, c->in_len);
		}
		answered++;
		if (client_queue(s, c) < 0 || ctl_events_after_reply(s, c) < 0)
			return -1;
	}
	return answered;
}

/* Read what is there. Returns -1 when the connection failed. */
static int client_read(struct ctl_client *c)
{
	while (!c->peer_done && c->in_len < CTL_REQ_MAX) {
		ssize_t n = recv(c->fd, c->in + c->in_len, CTL_REQ_MAX - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		if (n == 0)
			c->peer_done = true;
		c->in_len += (size_t)n;
	}
	return 0;
}

/* Read, answer and write for one client until it has nothing more to do now. Returns the requests answered. */
static int client_service(struct ctl_server *s, struct ctl_client *c, bool readable)
{
	int total = 0;
	if (readable && client_read(c) < 0) {
		client_drop(s, c);
		return 0;
	}
	for (;;) {
		int answered = client_answer(s, c);
		if (answered < 0 || client_flush(c) < 0) {
			client_drop(s, c);
			return total + (answered > 0 ? answered : 0);
		}
		total += answered;
		if (answered == 0 || out_pending(c) >= OUT_LOW_WATER)
			break;
	}
	if ((c->closing || c->peer_done) && out_pending(c) == 0)
		client_drop(s, c); /* an unterminated request left by a departed client is discarded */
	else if (out_pending(c) == 0)
		ctl_events_lost_notice(s, c); /* sent at the next poll */
	return total;
}

/* One over the limit: tell it why, then close. The reply is tiny, so the fresh socket's buffer takes it whole. */
static void refuse_busy(int fd)
{
	struct sbuf frame;
	char err[CTL_ERR_MAX];
	char drain[512];
	sbuf_init(&frame);
	snprintf(err, sizeof(err), "too many control clients (max %d); try again later", CTL_MAX_CLIENTS);
	ctl_render_error(EBUSY, err, false, &frame);
	if (!frame.oom)
		(void)!send(fd, frame.data, frame.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* Unread input at close would turn the client's read of our reply into ECONNRESET. */
	(void)!recv(fd, drain, sizeof(drain), MSG_DONTWAIT);
	sbuf_free(&frame);
	close(fd);
}

static void accept_clients(struct ctl_server *s)
{
	for (;;) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return; /* EAGAIN: all taken; EMFILE and the like: retried at the next poll */
		if (s->nclients == CTL_MAX_CLIENTS) {
			refuse_busy(fd);
			continue;
		}
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (s->clients[i].fd < 0) {
				s->clients[i] = (struct ctl_client){.fd = fd};
				sbuf_init(&s->clients[i].out);
				s->nclients++;
				break;
			}
		}
	}
}

int ctl_server_poll(struct ctl_server *s, int timeout_ms)
{
	nfds_t n = 0;
	s->pfd[n] = (struct pollfd){.fd = s->fd, .events = POLLIN};
	s->pfd_client[n++] = NULL;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->clients[i];
		if (c->fd < 0)
			continue;
		short events = out_pending(c) != 0 ? POLLOUT : 0;
		if (!c->peer_done && !c->closing && c->in_len < CTL_REQ_MAX && out_pending(c) < OUT_LOW_WATER)
			events |= POLLIN;
		s->pfd[n] = (struct pollfd){.fd = c->fd, .events = events};
		s->pfd_client[n++] = c;
	}
	int ready = poll(s->pfd, n, timeout_ms);
	if (ready < 0)
		return errno == EINTR ? 0 : -1;

	int answered = 0;
	for (nfds_t i = 1; i < n && ready > 0; i++) {
		if (s->pfd[i].revents == 0)
			continue;
		ready--;
		if (s->pfd[i].revents & POLLNVAL) {
			client_drop(s, s->pfd_client[i]);
			continue;
		}
		bool readable = (s->pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
		answered += client_service(s, s->pfd_client[i], readable);
	}
	if (s->pfd[0].revents & POLLIN)
		accept_clients(s);
	return answered;
}

int ctl_server_nclients(const struct ctl_server *s)
{
	return s->nclients;
}

/*
 * A socket file left by a dead server is removed; a live server's socket or a file that is no socket is not
 * touched. Returns 0 or an errno with err set.
 */
static int remove_stale_socket(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; remove it or choose another control socket path",
			 path);
		return EEXIST;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return errno;
	}
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	if (rc == 0 || rc == EAGAIN) {
		snprintf(err, errlen, "another server is listening on %s (is npsd already running?)", path);
		return EADDRINUSE;
	}
	if (rc != ECONNREFUSED) {
		snprintf(err, errlen, "cannot check %s for a running server: %s", path, strerror(rc));
		return rc;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
		return errno;
	}
	return 0;
}

/* bind(), creating the last directory of path when it is missing (as /run/npsgw after a reboot). */
static int bind_path(int fd, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	char dir[SUN_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return -1;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

struct ctl_server *ctl_server_open(const char *path, unsigned mode, const char *group, ctl_handle_fn fn, void *cookie,
				   char *err, size_t errlen)
{
	int rc;
	gid_t gid = (gid_t)-1;
	if (mode & 0002) {
		snprintf(err, errlen, "refusing world-writable mode %04o for %s: anyone could control the router", mode,
			 path);
		errno = EPERM;
		return NULL;
	}
	if (mode & ~0777u) {
		snprintf(err, errlen, "bad socket mode %o (expected permission bits, at most 0777)", mode);
		errno = EINVAL;
		return NULL;
	}
	if (path[0] == '\0' || strlen(path) >= SUN_PATH_MAX) {
		snprintf(err, errlen, "bad control socket path '%.128s' (expected 1 to %zu bytes)", path,
			 SUN_PATH_MAX - 1);
		errno = path[0] == '\0' ? EINVAL : ENAMETOOLONG;
		return NULL;
	}
	if (group != NULL && group[0] != '\0') {
		struct group *gr = getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen, "unknown group '%s' for %s", group, path);
			errno = ENOENT;
			return NULL;
		}
		gid = gr->gr_gid;
	}

	struct ctl_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->fn = fn;
	s->cookie = cookie;
	snprintf(s->path, sizeof(s->path), "%s", path);
	sbuf_init(&s->frame);
	sbuf_init(&s->deferred);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;

	rc = remove_stale_socket(path, err, errlen);
	if (rc != 0)
		goto err_free;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot create a socket: %s", strerror(rc));
		goto err_free;
	}
	if (bind_path(s->fd, path) < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(rc));
		goto err_close;
	}
	/* Permissions are set before listen(): until then nobody can connect, so there is no window. */
	if (chmod(path, mode) < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot chmod %s to %04o: %s", path, mode, strerror(rc));
		goto err_unlink;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot give %s to group %s: %s", path, group, strerror(rc));
		goto err_unlink;
	}
	struct stat st;
	if (stat(path, &st) < 0 || listen(s->fd, SOMAXCONN) < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(rc));
		goto err_unlink;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return s;

err_unlink:
	unlink(path);
err_close:
	close(s->fd);
err_free:
	free(s);
	errno = rc;
	return NULL;
}

void ctl_server_close(struct ctl_server *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_drop(s, &s->clients[i]);
	close(s->fd);
	struct stat st;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	sbuf_free(&s->frame);
	sbuf_free(&s->deferred);
	free(s);
}
