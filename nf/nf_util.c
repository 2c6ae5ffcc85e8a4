/* SPDX-License-Identifier: BSD-3-Clause */
/* Control-thread helpers shared by the network functions (nf_util.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dataplane/cp.h"
#include "nf/nf_util.h"

void nf_counters_sum(uint64_t *sum, size_t n, const void *workers, unsigned n_workers, size_t stride, size_t offset)
{
	memset(sum, 0, sizeof(uint64_t) * n);
	for (unsigned w = 0; workers != NULL && w < n_workers; w++) {
		const uint64_t *cnt = (const uint64_t *)((const char *)workers + (size_t)w * stride + offset);
		for (size_t i = 0; i < n; i++)
			sum[i] += __atomic_load_n(&cnt[i], __ATOMIC_RELAXED);
	}
}

void nf_ct_stats_sum(struct ct_stats *s, uint64_t *capacity, const void *workers, unsigned n_workers, size_t stride,
		     size_t offset)
{
	memset(s, 0, sizeof(*s));
	*capacity = 0;
	for (unsigned w = 0; workers != NULL && w < n_workers; w++) {
		const struct ct_table *table =
			*(struct ct_table *const *)((const char *)workers + (size_t)w * stride + offset);
		const struct ct_stats *t = ct_table_stats(table);
		s->created += t->created;
		s->expired += t->expired;
		s->deleted += t->deleted;
		s->flushed += t->flushed;
		s->refused_full += t->refused_full;
		s->evicted += t->evicted;
		s->restarted += t->restarted;
		s->invalid_flags += t->invalid_flags;
		s->out_of_window += t->out_of_window;
		s->invalid_state += t->invalid_state;
		s->active += t->active;
		*capacity += ct_table_capacity(table);
	}
}

void nf_stats_row(struct ctl_table *t, const char *name, uint64_t v, const char *desc)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	ctl_table_row(t, name, b, desc);
}

void nf_log_wall_time(uint64_t mono_ms, char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now_mono = cp_now_ms();
	int64_t age = (int64_t)(now_mono - RTE_MIN(mono_ms, now_mono));
	int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - age;
	time_t secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

void nf_json_member(struct sbuf *b, const char *key, const char *value)
{
	sbuf_printf(b, ",\"%s\":", key);
	sbuf_json_string(b, value);
}

unsigned nf_log_ring_drain(struct rte_ring *ring, void *buf, unsigned esize, unsigned buf_n, unsigned budget,
			   void (*each)(const void *rec, void *arg), void *arg)
{
	unsigned done = 0, n;
	while (done < budget &&
	       (n = rte_ring_dequeue_burst_elem(ring, buf, esize, RTE_MIN(budget - done, buf_n), NULL)) > 0) {
		for (unsigned i = 0; i < n; i++)
			each((const char *)buf + (size_t)i * esize, arg);
		done += n;
	}
	return done;
}

int nf_cmd_flush(const struct ctl_args *a, struct ctl_reply *r, nf_flush_fn flush, uint32_t wait_ms)
{
	char err[CTL_ERR_MAX], n[24];
	const char *vname = ctl_arg(a, "vrf");
	const struct vrf *v = vname != NULL ? vrf_by_name(vname) : NULL;
	uint64_t removed;
	bool complete;
	if (vname != NULL && v == NULL)
		return ctl_reply_error(r, ENOENT, "no VRF '%s'", vname);
	int rc = flush(v != NULL ? v->slot : CT_VRF_ANY, wait_ms, &removed, &complete, err, sizeof(err));
	if (rc)
		return ctl_reply_error(r, rc, "%s", err);
	struct ctl_table *t = ctl_reply_table(r, "flush", "vrf", "#removed", "complete", NULL);
	snprintf(n, sizeof(n), "%" PRIu64, removed);
	ctl_table_row(t, vname != NULL ? vname : "all", n, complete ? "yes" : "no");
	if (!complete)
		sbuf_printf(&r->text, "(the workers had not finished after %u ms: they finish the flush on their own)\n",
			    wait_ms);
	return 0;
}

struct rte_ring *nf_handoff_ring_create(const char *name, unsigned size, int socket)
{
	struct rte_ring *r = rte_ring_create(name, size, socket, RING_F_SC_DEQ);
	if (r != NULL && dp_handoff_ring_register(r) != 0) {
		rte_ring_free(r);
		return NULL;
	}
	return r;
}

void nf_handoff_ring_free(struct rte_ring *r)
{
	if (r == NULL)
		return;
	dp_handoff_ring_unregister(r);
	rte_ring_free(r);
}
