/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event subscriptions of the control server. Events go into the same per-client output queue as replies, as whole
 * frames, so they never split a reply; the queue is only flushed by ctl_server_poll(), so publishing never blocks.
 */
#include "lib/ctlproto/ctlproto.h"
#include "lib/ctlproto/server_int.h"

#include <errno.h>
#include <stdio.h>

#define EVENT_HEADER_MAX 48

/* Append one whole frame, or nothing (returns false) when memory runs out: a half frame would break the framing. */
static bool event_frame(struct sbuf *out, const char *body, size_t len)
{
	size_t before = out->len;
	sbuf_printf(out, "NPSGW/%d EVENT %zu\n", CTL_PROTO_VERSION, len);
	sbuf_append(out, body, len);
	if (!out->oom)
		return true;
	out->len = before;
	out->oom = false;
	if (out->data != NULL)
		out->data[before] = '\0';
	return false;
}

/* Bytes c has queued, counting the events waiting for the reply it is being answered. */
static size_t queued(const struct ctl_server *s, const struct ctl_client *c)
{
	return out_pending(c) + (c == s->current ? s->deferred.len : 0);
}

static bool fits(const struct ctl_server *s, const struct ctl_client *c, size_t len)
{
	return queued(s, c) + len <= CTL_EVENT_QUEUE_MAX;
}

/* The "lost" notice, when c lost events and it fits with extra more bytes after it. Returns false if it had to wait. */
static bool lost_notice(struct ctl_server *s, struct ctl_client *c, struct sbuf *out, size_t extra)
{
	if (c->ev_lost == 0)
		return true;
	char body[64];
	int n = snprintf(body, sizeof(body), "{\"event\":\"lost\",\"count\":%llu}\n", (unsigned long long)c->ev_lost);
	if (!fits(s, c, EVENT_HEADER_MAX + (size_t)n + extra))
		return false;
	if (!event_frame(out, body, (size_t)n))
		return false;
	c->ev_lost = 0;
	return true;
}

int ctl_server_subscribe(struct ctl_server *s, uint64_t topics)
{
	if (s == NULL || s->current == NULL) {
		errno = EINVAL;
		return -1;
	}
	s->current->topics = topics;
	if (topics == 0)
		s->current->ev_lost = 0;
	return 0;
}

int ctl_server_publish(struct ctl_server *s, uint64_t topics, const char *body, size_t len)
{
	int n = 0;
	for (int i = 0; s != NULL && i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->clients[i];
		if (c->fd < 0 || c->closing || (c->topics & topics) == 0)
			continue;
		struct sbuf *out = c == s->current ? &s->deferred : &c->out;
		if (!lost_notice(s, c, out, EVENT_HEADER_MAX + len) || !fits(s, c, EVENT_HEADER_MAX + len)) {
			c->ev_lost++;
			s->ev.dropped++;
			continue;
		}
		if (!event_frame(out, body, len)) {
			c->ev_lost++;
			s->ev.dropped++;
			continue;
		}
		s->ev.queued++;
		n++;
	}
	return n;
}

bool ctl_server_has_subscribers(const struct ctl_server *s, uint64_t topics)
{
	for (int i = 0; s != NULL && i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && (s->clients[i].topics & topics) != 0)
			return true;
	return false;
}

struct ctl_event_stats ctl_server_event_stats(const struct ctl_server *s)
{
	return s->ev;
}

int ctl_events_after_reply(struct ctl_server *s, struct ctl_client *c)
{
	if (s->deferred.len != 0)
		sbuf_append(&c->out, s->deferred.data, s->deferred.len);
	sbuf_reset(&s->deferred);
	return c->out.oom ? -1 : 0;
}

void ctl_events_lost_notice(struct ctl_server *s, struct ctl_client *c)
{
	if (c->ev_lost != 0 && c->topics != 0 && !c->closing)
		lost_notice(s, c, &c->out, 0);
}
