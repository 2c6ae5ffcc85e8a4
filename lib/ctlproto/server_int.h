/* SPDX-License-Identifier: BSD-3-Clause */
/* The control server's state, shared by server.c (requests and replies) and server_events.c (subscriptions). */
#ifndef NPSGW_CTLPROTO_SERVER_INT_H
#define NPSGW_CTLPROTO_SERVER_INT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "lib/ctlproto/ctlproto.h"

#define OUT_LOW_WATER (64u << 10)                    /* answer the next request only below this */
#define OUT_CAP ((size_t)CTL_REPLY_MAX + (1u << 20)) /* one maximal reply plus the low water: drop beyond */
#define OUT_KEEP (1u << 20)                          /* release bigger output buffers once flushed */
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

struct ctl_client {
	int fd; /* -1: free slot */
	bool peer_done; /* the client sent EOF: answer its complete requests, then close */
	bool closing;   /* close once the queued output is flushed (after an E2BIG reply) */
	size_t in_len;
	char in[CTL_REQ_MAX];
	struct sbuf out;
	size_t out_sent;  /* bytes of out already written */
	uint64_t topics;  /* events it subscribed to; 0 = none */
	uint64_t ev_lost; /* events dropped since the last "lost" notice it was sent */
};

struct ctl_server {
	int fd;
	char path[SUN_PATH_MAX];
	dev_t dev; /* identity of our socket file: close() unlinks it only if nobody replaced it */
	ino_t ino;
	ctl_handle_fn fn;
	void *cookie;
	int nclients;
	struct ctl_client clients[CTL_MAX_CLIENTS];
	struct pollfd pfd[CTL_MAX_CLIENTS + 1];
	struct ctl_client *pfd_client[CTL_MAX_CLIENTS + 1];
	struct sbuf frame; /* the reply being built, swapped into an idle client's queue to avoid a copy */
	/*
	 * The client whose request the handler is running for (NULL otherwise). Events published for it meanwhile
	 * wait in deferred, so that they follow the reply of the request that caused them.
	 */
	struct ctl_client *current;
	struct sbuf deferred;
	struct ctl_event_stats ev;
};

static inline size_t out_pending(const struct ctl_client *c)
{
	return c->out.len - c->out_sent;
}

/* After c's reply is queued: append the events published for it meanwhile. Returns -1 when out of memory. */
int ctl_events_after_reply(struct ctl_server *s, struct ctl_client *c);
/* Once c's queue drained: tell it how many events it lost, when it lost some and there is room. */
void ctl_events_lost_notice(struct ctl_server *s, struct ctl_client *c);

#endif
