/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tap's control side: capture sessions (pcapng files or FIFOs, one interface per capture point, a comment per
 * packet), trace sessions and path checks, and their control commands. Control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_graph_worker.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "dataplane/ctl_cmds.h"
#include "dataplane/tap.h"
#include "lib/hdr/ip_checks.h"
#include "lib/pcapng/pcapng.h"

#define TAP_POOL_SIZE 8191
#define TAP_RING_SIZE 4096
#define CAPTURE_BUF_MAX (64u << 20) /* pcapng bytes waiting for a slow reader before captures are dropped */

static const char *const drop_names[] = {
#define DROP_NAME(name, desc) #name,
	NPSGW_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};
static const char *const drop_descs[] = {
#define DROP_DESC(name, desc) desc,
	NPSGW_DROP_REASONS(DROP_DESC)
#undef DROP_DESC
};

struct capture_session {
	bool active;
	int fd;
	char path[256];
	char points[256];
	struct pcapng_buf buf;
	size_t buf_sent;
	uint32_t next_if;
	uint64_t written, lost_slow_reader;
	int write_error; /* the last capture ended on this write error */
	int32_t if_of_node[TAP_NODE_MAX];
};

static struct capture_session cap;
static struct trace_buf *trace_bufs[DP_MAX_WORKERS];
static bool trace_active;    /* an operator trace session */
static uint32_t trace_requested;
static uint64_t tsc_base, realtime_base_ns;

static uint64_t tsc_to_ns(uint64_t tsc)
{
	return realtime_base_ns + (uint64_t)((double)(tsc - tsc_base) * 1e9 / (double)tap.tsc_hz);
}

int tap_init(char *err, size_t errlen)
{
	tap.tsc_hz = rte_get_tsc_hz();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	tsc_base = rte_rdtsc();
	realtime_base_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint16_t priv = pkt_meta_priv_size();
	tap.copy_pool = rte_pktmbuf_pool_create("tap-copies", TAP_POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						SOCKET_ID_ANY);
	tap.copy_ring = rte_ring_create("tap-copies", TAP_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	tap.inject_pool = rte_pktmbuf_pool_create("tap-inject", 255, 0, priv, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (tap.copy_pool == NULL || tap.copy_ring == NULL || tap.inject_pool == NULL) {
		snprintf(err, errlen, "cannot allocate the capture buffers: %s", rte_strerror(rte_errno));
		return ENOMEM;
	}
	for (unsigned i = 0; i < dp.n_workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "tap-inject-%u", i);
		tap.inject_ring[i] = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (tap.inject_ring[i] == NULL) {
			snprintf(err, errlen, "cannot allocate the path-check ring");
			return ENOMEM;
		}
	}
	cap.fd = -1;
	return 0;
}

static enum tap_kind node_kind(const char *name, uint8_t *hint)
{
	*hint = strcmp(name, "arp_input") == 0;
	if (strcmp(name, "eth_input") == 0)
		return TAP_KIND_ETH_IN;
	if (strncmp(name, "port_tx-", 8) == 0)
		return TAP_KIND_TX;
	if (strncmp(name, "drop_", 5) == 0)
		return TAP_KIND_DROP;
	if (strcmp(name, "punt") == 0)
		return TAP_KIND_PUNT;
	return TAP_KIND_L3;
}

/* Nodes that can be tapped: every node of the workers' graphs except the sources. */
static bool node_tappable(rte_node_t id)
{
	const char *name = rte_node_id_to_name(id);
	if (name == NULL || id >= TAP_NODE_MAX || tap.orig[id] == NULL)
		return false;
	return strncmp(name, "port_rx-", 8) != 0 && strcmp(name, "tap_inject") != 0;
}

/* After the graphs exist: remember each node's own process function. */
void tap_attach(void)
{
	rte_graph_t gid = rte_graph_from_name(dp.workers[0].graph_name);
	rte_node_t max = rte_node_max_count();
	for (rte_node_t id = 0; id < max && id < TAP_NODE_MAX; id++) {
		struct rte_node *n = rte_graph_node_get(gid, id);
		if (n != NULL)
			tap.orig[id] = n->process;
	}
}

/* Point every worker's copy of each node at the wrapper or back at its own function. */
static void tap_wire(const struct tap_config *cfg)
{
	for (unsigned w = 0; w < dp.n_workers; w++) {
		rte_graph_t gid = rte_graph_from_name(dp.workers[w].graph_name);
		for (rte_node_t id = 0; id < TAP_NODE_MAX; id++) {
			if (!node_tappable(id))
				continue;
			struct rte_node *n = rte_graph_node_get(gid, id);
			if (n == NULL)
				continue;
			bool wrap = cfg != NULL && (cfg->trace || (cfg->capture && cfg->points[id].if_id >= 0));
			rte_node_process_t fn = wrap ? tap_process : tap.orig[id];
			__atomic_store_n(&n->process, fn, __ATOMIC_RELEASE);
		}
	}
}

static struct tap_config *cfg_clone(void)
{
	struct tap_config *c = rte_zmalloc("tap-config", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL)
		return NULL;
	if (tap.cfg != NULL) {
		memcpy(c, tap.cfg, sizeof(*c));
	} else {
		for (unsigned i = 0; i < TAP_NODE_MAX; i++)
			c->points[i].if_id = -1;
		c->vrf = c->trace_vrf = UINT32_MAX;
	}
	return c;
}

/* Publish next (NULL when nothing is tapped), rewire, wait out the workers, free the old one. */
static void cfg_publish(struct tap_config *next, struct rte_bpf *old_filter, struct rte_bpf *old_trace_filter)
{
	struct tap_config *old = tap.cfg;
	if (next != NULL && !next->capture && !next->trace) {
		rte_free(next);
		next = NULL;
	}
	if (next != NULL && !(__atomic_load_n(&dp.express_off, __ATOMIC_RELAXED) & EXPRESS_OFF_TAP)) {
		/* Express frames skip the tapped nodes and keep stale metadata: none may be in flight when they are. */
		express_set_off(EXPRESS_OFF_TAP, true);
		dp_synchronize();
	}
	if (next != NULL)
		tap_wire(next);
	__atomic_store_n(&tap.cfg, next, __ATOMIC_RELEASE);
	if (next == NULL)
		tap_wire(NULL);
	dp_synchronize();
	if (next == NULL)
		express_set_off(EXPRESS_OFF_TAP, false);
	rte_free(old);
	if (old_filter != NULL && (next == NULL || next->filter != old_filter))
		rte_bpf_destroy(old_filter);
	if (old_trace_filter != NULL && (next == NULL || next->trace_filter != old_trace_filter))
		rte_bpf_destroy(old_trace_filter);
}

/* pcap filter syntax compiled for Ethernet frames, converted to eBPF run on the mbuf. */
static struct rte_bpf *filter_compile(const char *expr, char *err, size_t errlen)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program prog;
	if (pc == NULL || pcap_compile(pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", expr, pc ? pcap_geterr(pc) : "pcap unavailable");
		if (pc)
			pcap_close(pc);
		return NULL;
	}
	struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	pcap_close(pc);
	if (prm == NULL) {
		snprintf(err, errlen, "cannot convert filter '%s': %s", expr, rte_strerror(rte_errno));
		return NULL;
	}
	struct rte_bpf *bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (bpf == NULL)
		snprintf(err, errlen, "cannot load filter '%s': %s", expr, rte_strerror(rte_errno));
	return bpf;
}

/* Values may carry blanks percent-encoded (npsctl encodes them): "udp%20port%2053" -> "udp port 53". */
static void percent_decode(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; in[i] != '\0' && o + 1 < len; i++) {
		unsigned v;
		if (in[i] == '%' && sscanf(in + i + 1, "%2x", &v) == 1) {
			out[o++] = (char)v;
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

rte_node_t tap_inject_node_id(void)
{
	rte_node_t id = rte_node_from_name("tap_inject");
	return id < TAP_NODE_MAX ? id : 0;
}

/* ---- capture ---- */

static void capture_finish(void);

/* Write what is buffered; false when the file or reader is gone (the capture then ends). */
static bool capture_flush(void)
{
	while (cap.fd >= 0 && cap.buf_sent < cap.buf.len) {
		ssize_t n = write(cap.fd, cap.buf.data + cap.buf_sent, cap.buf.len - cap.buf_sent);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break; /* a slow reader: try again next time */
		if (n <= 0) {
			fprintf(stderr, "npsd: capture to %s ended: %s\n", cap.path, n < 0 ? strerror(errno) : "short write");
			cap.write_error = n < 0 ? errno : EIO;
			return false;
		}
		cap.buf_sent += (size_t)n;
	}
	if (cap.buf_sent == cap.buf.len) {
		cap.buf.len = 0;
		cap.buf_sent = 0;
	}
	return true;
}

static void capture_drain(void);

static void capture_finish(void)
{
	if (!cap.active)
		return;
	struct tap_config *c = cfg_clone();
	struct rte_bpf *old_filter = tap.cfg ? tap.cfg->filter : NULL;
	if (c != NULL) {
		c->capture = false;
		c->filter = NULL;
		c->rx_iface = c->tx_iface = 0;
		for (unsigned i = 0; i < TAP_NODE_MAX; i++)
			c->points[i].if_id = -1;
	}
	cfg_publish(c, old_filter, NULL);
	__atomic_store_n(&tap.capture_left, 0, __ATOMIC_RELAXED);
	capture_drain(); /* copies queued before the stop */
	if (cap.write_error == 0) {
		int flags = fcntl(cap.fd, F_GETFL);
		if (flags >= 0)
			fcntl(cap.fd, F_SETFL, flags & ~O_NONBLOCK); /* last bytes: a reader that stalls now loses them */
		capture_flush();
	}
	close(cap.fd);
	cap.fd = -1;
	pcapng_buf_free(&cap.buf);
	cap.active = false;
}

static const char *node_name(uint16_t id)
{
	const char *n = rte_node_id_to_name(id);
	return n ? n : "?";
}

/* Write queued copies into the pcapng buffer (or count them lost when the reader is too slow). */
static void capture_drain(void)
{
	struct rte_mbuf *m[64];
	unsigned n;
	while ((n = rte_ring_dequeue_burst(tap.copy_ring, (void **)m, RTE_DIM(m), NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const struct tap_copy_hdr *h = rte_pktmbuf_mtod(m[i], const struct tap_copy_hdr *);
			const uint8_t *frame = (const uint8_t *)(h + 1);
			uint32_t caplen = rte_pktmbuf_data_len(m[i]) - sizeof(*h);
			if (cap.active && cap.buf.len - cap.buf_sent < CAPTURE_BUF_MAX) {
				char comment[256];
				const char *name = node_name(h->node);
				int len = snprintf(comment, sizeof(comment), "node=%s worker=%u", name, h->worker);
				if (h->has_meta && h->vrf < dp.max_vrfs && dp.vrfs[h->vrf] != NULL)
					len += snprintf(comment + len, sizeof(comment) - len, " vrf=%s", dp.vrfs[h->vrf]->name);
				if (h->has_meta && h->in_iface < dp.max_ifaces && dp.ifaces[h->in_iface] != NULL)
					len += snprintf(comment + len, sizeof(comment) - len, " in=%s",
							dp.ifaces[h->in_iface]->name);
				if (strncmp(name, "drop_", 5) == 0)
					snprintf(comment + len, sizeof(comment) - len, " drop=%s", name + 5);
				pcapng_packet(&cap.buf, h->if_id, tsc_to_ns(h->ts_ns), frame, caplen, h->origlen, comment);
				cap.written++;
			} else if (cap.active) {
				cap.lost_slow_reader++;
			}
			rte_pktmbuf_free(m[i]);
		}
	}
}

void tap_poll(void)
{
	capture_drain();
	if (cap.active) {
		if (!capture_flush() || __atomic_load_n(&tap.capture_left, __ATOMIC_RELAXED) == 0)
			capture_finish();
	}
}

/*
 * Resolve a point list ("ip4_lookup,port_tx-p1", "drops", "rx", "tx", "rx:IFACE", "tx:IFACE") into node ids;
 * an interface's rx or tx narrows eth_input or its port's port_tx to that interface.
 */
static int points_resolve(const char *list, bool sel[TAP_NODE_MAX], struct tap_config *c, char *err, size_t errlen)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	int count = 0;
	for (char *save = NULL, *p = strtok_r(buf, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		bool any = false;
		if (strncmp(p, "rx:", 3) == 0 || strncmp(p, "tx:", 3) == 0) {
			const struct iface *ifc = iface_by_name(p + 3);
			if (ifc == NULL) {
				snprintf(err, errlen, "unknown interface in capture point '%s'", p);
				return -1;
			}
			if (iface_is_tunnel(ifc)) {
				snprintf(err, errlen,
					 "capture point '%s': %s is a tunnel (capture at its function's nodes, e.g. "
					 "ipsec_in / ipsec4_out, with a filter)",
					 p, ifc->name);
				return -1;
			}
			char node[RTE_NODE_NAMESIZE];
			if (p[0] == 'r') {
				c->rx_iface = ifc->id;
				c->rx_port = ifc->port;
				c->rx_vlan = ifc->vlan;
				snprintf(node, sizeof(node), "eth_input");
			} else {
				c->tx_iface = ifc->id;
				snprintf(node, sizeof(node), "port_tx-%s", dp.ports[ifc->port].name);
			}
			rte_node_t id = rte_node_from_name(node);
			if (id >= TAP_NODE_MAX || !node_tappable(id)) {
				snprintf(err, errlen, "capture point '%s': node %s not found", p, node);
				return -1;
			}
			sel[id] = true;
			count++;
			continue;
		}
		for (rte_node_t id = 0; id < TAP_NODE_MAX; id++) {
			if (!node_tappable(id))
				continue;
			const char *name = rte_node_id_to_name(id);
			bool match = strcmp(p, name) == 0 || (strcmp(p, "drops") == 0 && strncmp(name, "drop_", 5) == 0) ||
				     (strcmp(p, "tx") == 0 && strncmp(name, "port_tx-", 8) == 0) ||
				     (strcmp(p, "rx") == 0 && strcmp(name, "eth_input") == 0);
			if (match) {
				sel[id] = true;
				any = true;
				count++;
			}
		}
		if (!any) {
			snprintf(err, errlen,
				 "unknown capture point '%s' (expected a node of `show graph`, or drops, rx, tx, rx:IFACE, "
				 "tx:IFACE)", p);
			return -1;
		}
	}
	if (count == 0) {
		snprintf(err, errlen, "no capture point in '%s' (expected a node of `show graph`, or drops, rx, tx)", list);
		return -1;
	}
	return count;
}

int cmd_capture_start(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	uint32_t count = 1000, snaplen = 1600;
	if (cap.active)
		return ctl_reply_error(r, EBUSY, "a capture is running (to %s): stop it first", cap.path);
	if ((ctl_arg(a, "count") && ctl_arg_u32(a, "count", 1, 100000000, &count, err, sizeof(err))) ||
	    (ctl_arg(a, "snaplen") && ctl_arg_u32(a, "snaplen", 64, 1600, &snaplen, err, sizeof(err))))
		return ctl_reply_error(r, EINVAL, "%s", err);
	uint32_t vrf = UINT32_MAX;
	if (ctl_arg(a, "vrf")) {
		struct vrf *v = vrf_by_name(ctl_arg(a, "vrf"));
		if (v == NULL)
			return ctl_reply_error(r, ENOENT, "no VRF '%s'", ctl_arg(a, "vrf"));
		vrf = v->slot;
	}
	bool sel[TAP_NODE_MAX] = {0};
	struct tap_config narrow = {0};
	if (points_resolve(ctl_arg(a, "point"), sel, &narrow, err, sizeof(err)) < 0)
		return ctl_reply_error(r, EINVAL, "%s", err);
	rte_node_t eth_in = rte_node_from_name("eth_input");
	if (vrf != UINT32_MAX && eth_in < TAP_NODE_MAX && sel[eth_in])
		return ctl_reply_error(r, EINVAL,
				       "a vrf filter cannot apply at rx (eth_input): the VRF is known only after it; "
				       "capture at ip4_input/ip6_input with vrf instead");
	struct rte_bpf *filter = NULL;
	if (ctl_arg(a, "filter")) {
		char expr[1024];
		percent_decode(ctl_arg(a, "filter"), expr, sizeof(expr));
		if ((filter = filter_compile(expr, err, sizeof(err))) == NULL)
			return ctl_reply_error(r, EINVAL, "%s", err);
	}
	const char *path = ctl_arg(a, "file");
	/*
	 * npsd runs as root: never overwrite an existing file (a new regular file, or an existing FIFO that a reader
	 * holds open). Non-blocking: a FIFO without a reader fails at once (ENXIO) instead of stalling this thread.
	 */
	struct stat st;
	int fd;
	bool exists = lstat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		if (filter)
			rte_bpf_destroy(filter);
		return ctl_reply_error(r, EISDIR, "cannot open %s: %s", path, strerror(EISDIR));
	}
	if (exists && S_ISFIFO(st.st_mode))
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		if (filter)
			rte_bpf_destroy(filter);
		return ctl_reply_error(r, e == ENXIO ? EPIPE : e, "cannot open %s: %s", path,
				       e == ENXIO    ? "FIFO without a reader"
				       : e == EEXIST ? "file exists (captures never overwrite a file)"
						     : strerror(e));
	}
	struct tap_config *c = cfg_clone();
	if (c == NULL) {
		close(fd);
		if (filter)
			rte_bpf_destroy(filter);
		return ctl_reply_error(r, ENOMEM, "out of memory");
	}
	memset(&cap.buf, 0, sizeof(cap.buf));
	cap.next_if = 0;
	pcapng_section(&cap.buf, "npsd " NPSGW_VERSION);
	for (rte_node_t id = 0; id < TAP_NODE_MAX; id++) {
		if (!sel[id])
			continue;
		char desc[128];
		snprintf(desc, sizeof(desc), "npsgw capture point %s", rte_node_id_to_name(id));
		c->points[id].if_id =
			pcapng_interface(&cap.buf, &cap.next_if, rte_node_id_to_name(id), desc, PCAPNG_LINKTYPE_ETHERNET,
					 snaplen);
		c->points[id].kind = (uint8_t)node_kind(rte_node_id_to_name(id), &c->points[id].ether_type_hint);
	}
	c->capture = true;
	c->rx_iface = narrow.rx_iface;
	c->rx_port = narrow.rx_port;
	c->rx_vlan = narrow.rx_vlan;
	c->tx_iface = narrow.tx_iface;
	c->filter = filter;
	c->vrf = vrf;
	c->snaplen = snaplen;
	cap.fd = fd;
	cap.write_error = 0;
	cap.active = true;
	cap.written = cap.lost_slow_reader = 0;
	__atomic_store_n(&tap.capture_lost, 0, __ATOMIC_RELAXED);
	snprintf(cap.path, sizeof(cap.path), "%s", path);
	snprintf(cap.points, sizeof(cap.points), "%s", ctl_arg(a, "point"));
	__atomic_store_n(&tap.capture_left, count, __ATOMIC_RELAXED);
	cfg_publish(c, NULL, NULL);
	if (!capture_flush()) {
		int e = cap.write_error;
		capture_finish();
		return ctl_reply_error(r, e, "cannot write to %s: %s", path, strerror(e));
	}
	sbuf_printf(&r->text, "capturing %u packets at %s into %s\n", count, cap.points, path);
	return 0;
}

int cmd_capture_stop(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (!cap.active)
		return ctl_reply_error(r, ENOENT, "no capture is running");
	uint64_t written = cap.written;
	capture_finish();
	sbuf_printf(&r->text, "capture stopped: %" PRIu64 " packets written\n", written);
	return 0;
}

int cmd_capture_status(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "capture", "active", "points", "file", "#written", "#remaining",
					      "#lost", NULL);
	char w[24], rem[24], lost[24];
	snprintf(w, sizeof(w), "%" PRIu64, cap.written);
	snprintf(rem, sizeof(rem), "%" PRIu64, __atomic_load_n(&tap.capture_left, __ATOMIC_RELAXED));
	snprintf(lost, sizeof(lost), "%" PRIu64,
		 __atomic_load_n(&tap.capture_lost, __ATOMIC_RELAXED) + cap.lost_slow_reader);
	ctl_table_row(t, cap.active ? "yes" : "no", cap.active ? cap.points : "", cap.active ? cap.path : "", w, rem,
		      lost);
	return 0;
}

/* ---- trace ---- */

static int trace_buffers_alloc(void)
{
	for (unsigned w = 0; w < dp.n_workers; w++) {
		if (trace_bufs[w] == NULL)
			trace_bufs[w] = rte_zmalloc("trace", sizeof(struct trace_buf), RTE_CACHE_LINE_SIZE);
		if (trace_bufs[w] == NULL)
			return ENOMEM;
	}
	return 0;
}

/* Turn tracing on or off in the published configuration (path checks use it too). */
static int trace_enable(bool on, struct rte_bpf *filter)
{
	struct tap_config *c = cfg_clone();
	if (c == NULL)
		return ENOMEM;
	struct rte_bpf *old = tap.cfg ? tap.cfg->trace_filter : NULL;
	c->trace = on;
	c->trace_filter = on ? filter : NULL;
	for (unsigned w = 0; w < dp.n_workers; w++)
		c->tbuf[w] = on ? trace_bufs[w] : NULL;
	for (rte_node_t id = 0; id < TAP_NODE_MAX; id++)
		if (node_tappable(id) && c->points[id].if_id < 0)
			c->points[id].kind = (uint8_t)node_kind(rte_node_id_to_name(id), &c->points[id].ether_type_hint);
	cfg_publish(c, NULL, old != filter ? old : NULL);
	return 0;
}

static void trace_reset_buffers(void)
{
	for (unsigned w = 0; w < dp.n_workers; w++)
		if (trace_bufs[w] != NULL) {
			trace_bufs[w]->n = 0;
			trace_bufs[w]->dropped = 0;
		}
}

int cmd_trace_start(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	uint32_t count = 10;
	if (ctl_arg(a, "count") && ctl_arg_u32(a, "count", 1, 1000, &count, err, sizeof(err)))
		return ctl_reply_error(r, EINVAL, "%s", err);
	struct rte_bpf *filter = NULL;
	if (ctl_arg(a, "filter")) {
		char expr[1024];
		percent_decode(ctl_arg(a, "filter"), expr, sizeof(expr));
		if ((filter = filter_compile(expr, err, sizeof(err))) == NULL)
			return ctl_reply_error(r, EINVAL, "%s", err);
	}
	if (trace_buffers_alloc() != 0) {
		if (filter)
			rte_bpf_destroy(filter);
		return ctl_reply_error(r, ENOMEM, "out of memory for trace buffers");
	}
	/* Restarting: stop the workers writing before the buffers are emptied. */
	__atomic_store_n(&tap.trace_left, 0, __ATOMIC_RELAXED);
	if (tap.cfg && tap.cfg->trace)
		trace_enable(false, NULL);
	trace_reset_buffers();
	__atomic_store_n(&tap.trace_next_id, 1, __ATOMIC_RELAXED);
	int rc = trace_enable(true, filter);
	if (rc) {
		if (filter)
			rte_bpf_destroy(filter);
		return ctl_reply_error(r, rc, "cannot start the trace");
	}
	trace_active = true;
	trace_requested = count;
	__atomic_store_n(&tap.trace_left, count, __ATOMIC_RELAXED);
	sbuf_printf(&r->text, "tracing the next %u packets%s; see `trace show`\n", count, filter ? " that match" : "");
	return 0;
}

int cmd_trace_stop(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	if (!trace_active)
		return ctl_reply_error(r, ENOENT, "no trace is running");
	__atomic_store_n(&tap.trace_left, 0, __ATOMIC_RELAXED);
	trace_enable(false, NULL);
	trace_active = false;
	sbuf_printf(&r->text, "trace stopped; `trace show` still shows what was recorded\n");
	return 0;
}

static const char *iface_name(uint16_t id)
{
	return id > 0 && id < dp.max_ifaces && dp.ifaces[id] ? dp.ifaces[id]->name : "?";
}

static const char *vrf_name(uint32_t slot)
{
	return slot < dp.max_vrfs && dp.vrfs[slot] ? dp.vrfs[slot]->name : "?";
}

static void nh_describe(uint32_t idx, char *out, size_t len)
{
	if (idx >= dp.max_nhs) {
		snprintf(out, len, "?");
		return;
	}
	const struct nexthop *nh = &dp.nhs[idx];
	char ab[ADDR_STR_MAX];
	struct addr a = {.family = nh->family};
	memcpy(a.bytes, nh->addr, 16);
	switch (nh->type) {
	case NH_T_GATEWAY:
	case NH_T_NEIGH: {
		const struct nexthop *n = nh->type == NH_T_GATEWAY ? &dp.nhs[nh->neigh] : nh;
		uint64_t l2 = __atomic_load_n(&n->l2, __ATOMIC_RELAXED);
		char mac[24] = "unresolved";
		if (l2 & NH_L2_VALID) {
			struct rte_ether_addr e;
			nh_l2_unpack(l2, &e);
			mac_fmt(e.addr_bytes, mac, sizeof(mac));
		}
		snprintf(out, len, "via %s dev %s (%s)", addr_fmt(&a, ab, sizeof(ab)), iface_name(nh->iface), mac);
		break;
	}
	case NH_T_CONNECTED:
		snprintf(out, len, "connected dev %s", iface_name(nh->iface));
		break;
	case NH_T_LEAK:
		snprintf(out, len, "leak to VRF %s", vrf_name(nh->target_vrf));
		break;
	default:
		snprintf(out, len, "%s", nh_type_name(nh->type));
	}
}

/* One line per record: the node and what it means there. */
static void trace_describe(const struct trace_rec *rec, char *out, size_t len)
{
	const char *name = node_name(rec->node);
	char d[160] = "";
	bool meta = rec->flags & PKT_F_META;
	if (strcmp(name, "eth_input") == 0) {
		if (meta)
			snprintf(d, sizeof(d), "in %s, VRF %s", iface_name(rec->in_iface), vrf_name(rec->vrf));
	} else if (strcmp(name, "ip4_lookup") == 0 || strcmp(name, "ip6_lookup") == 0) {
		char ab[ADDR_STR_MAX];
		struct addr a = {.family = rec->family};
		memcpy(a.bytes, rec->dst, 16);
		struct addr_prefix pfx;
		char pb[ADDR_STR_MAX] = "none", leak[96] = "";
		if (rec->family && route_lookup_prefix(rec->vrf, &a, &pfx) == 0) {
			addr_prefix_fmt(&pfx, pb, sizeof(pb));
			/* A leak: the lookup goes on in the target VRF (as the worker does, once). */
			uint32_t nh = vrf_route_get(dp.vrfs[rec->vrf], &pfx);
			if (dp.nhs[nh].type == NH_T_LEAK) {
				uint32_t t = dp.nhs[nh].target_vrf;
				struct addr_prefix tp;
				char tb[ADDR_STR_MAX] = "none";
				if (route_lookup_prefix(t, &a, &tp) == 0)
					addr_prefix_fmt(&tp, tb, sizeof(tb));
				snprintf(leak, sizeof(leak), ", leaks into VRF %s: route %s", vrf_name(t), tb);
			}
		}
		snprintf(d, sizeof(d), "VRF %s, dst %s, route %s%s", vrf_name(rec->vrf),
			 rec->family ? addr_fmt(&a, ab, sizeof(ab)) : "?", pb, leak);
	} else if (strcmp(name, "ip4_rewrite") == 0 || strcmp(name, "ip6_rewrite") == 0) {
		char nd[128];
		nh_describe(rec->nh, nd, sizeof(nd));
		snprintf(d, sizeof(d), "next hop %s", nd);
	} else if (strncmp(name, "port_tx-", 8) == 0) {
		snprintf(d, sizeof(d), "%s on %s, interface %s", (rec->flags & PKT_F_DRY_RUN) ? "would leave" : "sent",
			 name + 8, iface_name(rec->out_iface));
	} else if (strncmp(name, "drop_", 5) == 0) {
		for (int i = 0; i < DROP_COUNT; i++) {
			char dn[64];
			snprintf(dn, sizeof(dn), "drop_%s", drop_names[i]);
			if (strcmp(dn, name) == 0)
				snprintf(d, sizeof(d), "dropped: %s", drop_descs[i]);
		}
	} else if (strcmp(name, "icmp4_error") == 0 || strcmp(name, "icmp6_error") == 0) {
		snprintf(d, sizeof(d), "ICMP error type %u code %u", rec->icmp_type, rec->icmp_code);
	} else if (strcmp(name, "punt") == 0) {
		snprintf(d, sizeof(d), "to the control thread (ARP/NDP, or a next hop being resolved)");
	}
	snprintf(out, len, "%s%s%s", name, d[0] ? ": " : "", d);
}

int cmd_trace_show(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	struct ctl_table *t = ctl_reply_table(r, "trace", "#packet", "#worker", "#step", "#usec", "node", "detail",
					      NULL);
	uint32_t dropped = 0;
	for (unsigned w = 0; w < dp.n_workers; w++) {
		const struct trace_buf *tb = trace_bufs[w];
		if (tb == NULL)
			continue;
		uint32_t n = __atomic_load_n(&tb->n, __ATOMIC_ACQUIRE);
		dropped += tb->dropped;
		/* A packet's records are all in its worker's buffer, in order; group them by packet. */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t id = tb->rec[i].trace_id;
			bool first = true;
			for (uint32_t k = 0; k < i; k++)
				if (tb->rec[k].trace_id == id) {
					first = false;
					break;
				}
			if (!first)
				continue;
			uint32_t step = 0;
			uint64_t t0 = tb->rec[i].ts_ns;
			for (uint32_t j = i; j < n; j++) {
				if (tb->rec[j].trace_id != id)
					continue;
				char pid[16], wid[8], st[8], us[24], line[256];
				snprintf(pid, sizeof(pid), "%u", id);
				snprintf(wid, sizeof(wid), "%u", w);
				snprintf(st, sizeof(st), "%u", step++);
				snprintf(us, sizeof(us), "%.3f", (double)(tb->rec[j].ts_ns - t0) * 1e6 / (double)tap.tsc_hz);
				trace_describe(&tb->rec[j], line, sizeof(line));
				const char *colon = strchr(line, ':');
				char node[64];
				snprintf(node, sizeof(node), "%.*s", colon ? (int)(colon - line) : (int)strlen(line), line);
				ctl_table_row(t, pid, wid, st, us, node, colon ? colon + 2 : "");
			}
		}
	}
	if (dropped)
		sbuf_printf(&r->text, "(%u records lost: trace buffers full)\n", dropped);
	return 0;
}

/* ---- path check ---- */

static uint16_t l4_csum(const uint8_t *ip, uint8_t family, uint8_t proto, const uint8_t *l4, uint32_t len)
{
	uint32_t sum;
	if (family == 4) {
		sum = inet_csum_add(0, ip + 12, 8);
		sum += proto;
		sum += len;
	} else {
		sum = ip6_pseudo_sum(ip, len, proto);
	}
	uint16_t c = inet_csum_fold(inet_csum_add(sum, l4, len));
	return c == 0 && proto == IPPROTO_UDP ? 0xffff : c;
}

/* Build the described packet as a frame arriving on ifc. Returns the mbuf or NULL with err. */
static struct rte_mbuf *pathcheck_build(const struct iface *ifc, const struct ctl_args *a, char *err, size_t errlen)
{
	struct addr src, dst;
	uint32_t sport = 1024, dport = 33434, size = 64, ttl = 64;
	const char *proto_s = ctl_arg(a, "proto") ? ctl_arg(a, "proto") : "udp";
	if (addr_parse(ctl_arg(a, "src"), &src) || addr_parse(ctl_arg(a, "dst"), &dst) || src.family != dst.family) {
		snprintf(err, errlen, "bad src/dst (expected two addresses of the same family)");
		return NULL;
	}
	if ((ctl_arg(a, "sport") && ctl_arg_u32(a, "sport", 0, 65535, &sport, err, errlen)) ||
	    (ctl_arg(a, "dport") && ctl_arg_u32(a, "dport", 0, 65535, &dport, err, errlen)) ||
	    (ctl_arg(a, "size") && ctl_arg_u32(a, "size", 64, 1500, &size, err, errlen)) ||
	    (ctl_arg(a, "ttl") && ctl_arg_u32(a, "ttl", 0, 255, &ttl, err, errlen)))
		return NULL;
	uint8_t proto;
	if (strcmp(proto_s, "udp") == 0)
		proto = IPPROTO_UDP;
	else if (strcmp(proto_s, "tcp") == 0)
		proto = IPPROTO_TCP;
	else if (strcmp(proto_s, "icmp") == 0)
		proto = src.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	else {
		snprintf(err, errlen, "bad proto '%s' (expected udp, tcp or icmp)", proto_s);
		return NULL;
	}
	uint32_t l2 = RTE_ETHER_HDR_LEN + (ifc->vlan ? 4 : 0);
	uint32_t l3hdr = src.family == 4 ? 20 : 40;
	uint32_t l4hdr = proto == IPPROTO_TCP ? 20 : 8;
	if (size < l2 + l3hdr + l4hdr)
		size = l2 + l3hdr + l4hdr;
	struct rte_mbuf *m = rte_pktmbuf_alloc(tap.inject_pool);
	uint8_t *f = m ? (uint8_t *)rte_pktmbuf_append(m, size) : NULL;
	if (f == NULL) {
		if (m)
			rte_pktmbuf_free(m);
		snprintf(err, errlen, "no buffer for the path-check packet");
		return NULL;
	}
	memset(f, 0, size);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	eh->dst_addr = ifc->mac;
	static const uint8_t probe_mac[6] = {0x02, 0, 0, 0, 0, 0xfe};
	memcpy(eh->src_addr.addr_bytes, probe_mac, 6);
	uint16_t etype = src.family == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6;
	if (ifc->vlan) {
		eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);
		vh->vlan_tci = rte_cpu_to_be_16(ifc->vlan);
		vh->eth_proto = rte_cpu_to_be_16(etype);
	} else {
		eh->ether_type = rte_cpu_to_be_16(etype);
	}
	uint8_t *ip = f + l2, *l4 = ip + l3hdr;
	uint32_t l4len = size - l2 - l3hdr;
	if (src.family == 4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;
		h->version_ihl = RTE_IPV4_VHL_DEF;
		h->total_length = rte_cpu_to_be_16(l3hdr + l4len);
		h->time_to_live = (uint8_t)ttl;
		h->next_proto_id = proto;
		memcpy(&h->src_addr, src.bytes, 4);
		memcpy(&h->dst_addr, dst.bytes, 4);
		h->hdr_checksum = rte_ipv4_cksum(h);
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;
		h->vtc_flow = RTE_BE32(6u << 28);
		h->payload_len = rte_cpu_to_be_16(l4len);
		h->proto = proto;
		h->hop_limits = (uint8_t)ttl;
		memcpy(h->src_addr, src.bytes, 16);
		memcpy(h->dst_addr, dst.bytes, 16);
	}
	if (proto == IPPROTO_UDP) {
		l4[0] = sport >> 8, l4[1] = sport & 0xff, l4[2] = dport >> 8, l4[3] = dport & 0xff;
		l4[4] = l4len >> 8, l4[5] = l4len & 0xff;
	} else if (proto == IPPROTO_TCP) {
		l4[0] = sport >> 8, l4[1] = sport & 0xff, l4[2] = dport >> 8, l4[3] = dport & 0xff;
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN */
		l4[14] = 0xff;
	} else {
		l4[0] = src.family == 4 ? 8 : 128; /* echo request */
	}
	uint16_t c = l4_csum(ip, src.family, proto, l4, l4len);
	size_t coff = proto == IPPROTO_UDP ? 6 : proto == IPPROTO_TCP ? 16 : 2;
	if (proto == IPPROTO_ICMP)
		c = inet_csum_fold(inet_csum_add(0, l4, l4len));
	l4[coff] = c >> 8;
	l4[coff + 1] = c & 0xff;
	m->port = ifc->port;
	return m;
}

/* The last record of a packet tells where it ended. */
static bool is_final(const struct trace_rec *rec)
{
	const char *name = node_name(rec->node);
	return strncmp(name, "port_tx-", 8) == 0 || strncmp(name, "drop_", 5) == 0 || strcmp(name, "punt") == 0;
}

int cmd_path_check(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CTL_ERR_MAX];
	const struct iface *ifc = iface_by_name(ctl_arg(a, "in"));
	if (ifc == NULL)
		return ctl_reply_error(r, ENOENT, "no interface '%s'", ctl_arg(a, "in"));
	if (iface_is_tunnel(ifc))
		return ctl_reply_error(r, EINVAL,
				       "interface '%s' is a tunnel: a path check enters at a device interface (a tunnel's "
				       "packets come from its function, decrypted: follow them with trace)",
				       ifc->name);
	if (ctl_arg(a, "vrf") && strcmp(ctl_arg(a, "vrf"), vrf_name(ifc->vrf)) != 0)
		return ctl_reply_error(r, EINVAL, "interface '%s' is in VRF '%s', not '%s'", ifc->name,
				       vrf_name(ifc->vrf), ctl_arg(a, "vrf"));
	struct rte_mbuf *m = pathcheck_build(ifc, a, err, sizeof(err));
	if (m == NULL)
		return ctl_reply_error(r, EINVAL, "%s", err);
	if (trace_buffers_alloc() != 0) {
		rte_pktmbuf_free(m);
		return ctl_reply_error(r, ENOMEM, "out of memory for trace buffers");
	}
	bool was_tracing = tap.cfg && tap.cfg->trace;
	if (!was_tracing) {
		trace_reset_buffers();
		trace_enable(true, NULL);
	}
	uint32_t id = __atomic_fetch_add(&tap.trace_next_id, 1, __ATOMIC_RELAXED) | 0x80000000u;
	pkt_meta(m)->icmp_info = id;
	if (rte_ring_enqueue(tap.inject_ring[0], m) != 0) {
		rte_pktmbuf_free(m);
		if (!was_tracing)
			trace_enable(false, NULL);
		return ctl_reply_error(r, EBUSY, "path-check queue full");
	}
	/* Worker 0 walks the packet through the graph within microseconds; wait for its last record. */
	const struct trace_buf *tb = trace_bufs[0];
	uint32_t start = 0;
	const struct trace_rec *last = NULL;
	for (int spin = 0; spin < 5000 && last == NULL; spin++) {
		uint32_t n = __atomic_load_n(&tb->n, __ATOMIC_ACQUIRE);
		for (uint32_t i = start; i < n; i++)
			if (tb->rec[i].trace_id == id && is_final(&tb->rec[i]))
				last = &tb->rec[i];
		if (last == NULL)
			rte_delay_us_sleep(100);
	}
	struct ctl_table *t = ctl_reply_table(r, "path", "#step", "node", "detail", NULL);
	uint32_t n = __atomic_load_n(&tb->n, __ATOMIC_ACQUIRE), step = 0;
	tap.dry_packets[tap_inject_node_id()]++;
	for (uint32_t i = 0; i < n; i++) {
		if (tb->rec[i].trace_id != id)
			continue;
		if (tb->rec[i].node < TAP_NODE_MAX)
			tap.dry_packets[tb->rec[i].node]++; /* graph statistics leave path checks out */
		char st[8], line[256], node[64];
		snprintf(st, sizeof(st), "%u", step++);
		trace_describe(&tb->rec[i], line, sizeof(line));
		const char *colon = strchr(line, ':');
		snprintf(node, sizeof(node), "%.*s", colon ? (int)(colon - line) : (int)strlen(line), line);
		ctl_table_row(t, st, node, colon ? colon + 2 : "");
	}
	char verdict[320];
	if (last == NULL) {
		snprintf(verdict, sizeof(verdict), "verdict: unknown (no final step recorded: is worker 0 running?)");
	} else {
		const char *name = node_name(last->node);
		char line[256];
		trace_describe(last, line, sizeof(line));
		if (strncmp(name, "port_tx-", 8) == 0) {
			/* the rewrite step before it knows the next hop */
			char nd[128] = "";
			for (const struct trace_rec *p = last; p >= tb->rec; p--)
				if (p->trace_id == id && strstr(node_name(p->node), "_rewrite")) {
					nh_describe(p->nh, nd, sizeof(nd));
					break;
				}
			snprintf(verdict, sizeof(verdict), "verdict: would leave on port %s (interface %s) %s", name + 8,
				 iface_name(last->out_iface), nd);
		} else if (strncmp(name, "drop_", 5) == 0) {
			const struct trace_rec *prev = NULL;
			for (const struct trace_rec *p = last - 1; p >= tb->rec; p--)
				if (p->trace_id == id) {
					prev = p;
					break;
				}
			const char *why = strstr(line, "dropped: ");
			snprintf(verdict, sizeof(verdict), "verdict: dropped at %s: %s (%s)",
				 prev ? node_name(prev->node) : "?", why ? why + 9 : name, name);
		} else {
			snprintf(verdict, sizeof(verdict),
				 "verdict: handed to the control thread (the next hop is being resolved, or ARP/NDP)");
		}
	}
	sbuf_printf(&r->text, "%s\n", verdict);
	if (!was_tracing)
		trace_enable(false, NULL);
	return 0;
}
