/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memif_gen: the traffic generator of the two-process benchmark (bench/run --mode two-process).
 *
 * One lcore, two ethdev ports (in practice two net_memif clients of npsd's memif servers): frames read from a pcap
 * are sent on --tx-port at a paced rate, and what the gateway forwards is received on --rx-port. Frames with room
 * for it (a UDP payload of at least 16 bytes) carry a timestamp: magic, trial number, TSC at transmission; the UDP
 * checksum is updated incrementally (RFC 1624), so the frames stay valid. The receive side counts every UDP frame
 * (ours: the gateway forwards nothing else to that port) and builds a latency histogram from the timestamps.
 *
 * Packets the tx port does not accept (its ring is full because the gateway does not drain it fast enough) are not
 * retried: they are counted as "refused" and freed, as a NIC's receive ring would drop them (rx_missed). So the
 * offered load stays the requested one, and loss = offered - received.
 *
 * It is driven by bench/bench.py through stdin, one command per line; every answer is one line "@@ {json}" on
 * stdout (EAL may print other lines):
 *   link SECONDS            wait until both ports are up
 *   trial RATE SECONDS MS   send at RATE packets/s (0 = as fast as possible) for SECONDS, then receive for up to
 *                           MS milliseconds more (stops early after 20 ms without a packet); the answer has the
 *                           counts, the latency percentiles and the ports' ethdev counters of the trial
 *   quit
 *
 *   memif_gen [EAL options] -- --pcap FILE [--tx-port 0] [--rx-port 1] [--burst 32] [--mbufs 16383]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_mempool.h>

#define MAX_BURST 64
#define STAMP_MAGIC 0x4253504eu /* "NPSB" in memory order on little endian */
#define STAMP_LEN 16
#define RING_DESC 1024

/* Latency histogram: nanoseconds, exact below 128, then 64 buckets per power of two (precision better than 1.6%). */
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 60)

struct frame {
	uint8_t *data;
	uint16_t len;
	uint16_t stamp_off; /* offset of the 16 stamp bytes (UDP payload), 0 = no room */
	uint16_t csum_off;  /* offset of the UDP checksum, 0 = leave it (IPv4 UDP without checksum) */
	uint32_t csum_base; /* ~checksum + sum of ~(the 8 replaced words), not folded */
};

struct trial {
	uint64_t attempted, tx, refused, alloc_fail;
	uint64_t rx, rx_other, rx_stale, stamped;
	uint64_t lat_min, lat_max, lat_sum;
	uint64_t hist[HIST_BUCKETS];
	double seconds, drain_seconds;
};

static struct frame *frames;
static uint32_t nb_frames;
static uint16_t tx_port, rx_port = 1;
static unsigned int burst = 32;
static unsigned int nb_mbufs = 16383;
static struct rte_mempool *pool;
static volatile bool quit;
static struct trial T;
static uint32_t trial_id;
static struct rte_eth_stats stats0[2]; /* the ports' counters at the start of the trial */

static void on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "memif_gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32le(const uint8_t *p, bool swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Where the UDP header of a frame starts, or 0 if it is not UDP over IPv4/IPv6 (with at most one 802.1Q tag). */
static unsigned int udp_offset(const uint8_t *p, unsigned int len, bool *v4)
{
	unsigned int l3 = 14;
	if (len < 14)
		return 0;
	uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == 0x8100) {
		if (len < 18)
			return 0;
		type = (uint16_t)(p[16] << 8 | p[17]);
		l3 = 18;
	}
	if (type == 0x0800) {
		if (len < l3 + 20 || p[l3 + 9] != 17)
			return 0;
		unsigned int l4 = l3 + (p[l3] & 0xf) * 4u;
		*v4 = true;
		return len >= l4 + 8 ? l4 : 0;
	}
	if (type == 0x86dd) {
		if (len < l3 + 48 || p[l3 + 6] != 17)
			return 0;
		*v4 = false;
		return l3 + 40;
	}
	return 0;
}

static void load_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open %s", path);
	uint8_t gh[24];
	if (fread(gh, 1, sizeof(gh), f) != sizeof(gh))
		die("%s: short pcap header", path);
	uint32_t magic = rd32le(gh, false);
	bool swap;
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swap = false;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swap = true;
	else
		die("%s: not a pcap file (pcapng is not supported)", path);
	if (rd32le(gh + 20, swap) != 1)
		die("%s: link type is not Ethernet", path);
	uint32_t cap = 65536;
	frames = malloc(cap * sizeof(*frames));
	uint8_t rh[16];
	while (fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
		uint32_t incl = rd32le(rh + 8, swap);
		if (incl > 9600)
			die("%s: frame longer than 9600 bytes", path);
		if (nb_frames == cap) {
			cap *= 2;
			frames = realloc(frames, cap * sizeof(*frames));
		}
		if (!frames)
			die("%s: out of memory", path);
		struct frame *fr = &frames[nb_frames];
		memset(fr, 0, sizeof(*fr));
		fr->data = malloc(incl ? incl : 1);
		if (!fr->data || fread(fr->data, 1, incl, f) != incl)
			die("%s: truncated frame", path);
		fr->len = (uint16_t)incl;
		bool v4 = false;
		unsigned int l4 = udp_offset(fr->data, incl, &v4);
		if (l4) {
			unsigned int ulen = (unsigned int)(fr->data[l4 + 4] << 8 | fr->data[l4 + 5]);
			uint16_t csum = rd16(fr->data + l4 + 6);
			if (ulen >= 8 + STAMP_LEN && l4 + 8 + STAMP_LEN <= incl) {
				fr->stamp_off = (uint16_t)(l4 + 8);
				if (!(v4 && csum == 0)) {
					/* RFC 1624: HC' = ~(~HC + ~m + m'); the ~HC + sum(~m) part is fixed per frame.
					 * One's complement sums do not depend on byte order, so native loads are fine. */
					uint32_t base = (uint16_t)~csum;
					for (unsigned int i = 0; i < STAMP_LEN; i += 2)
						base += (uint16_t)~rd16(fr->data + l4 + 8 + i);
					fr->csum_off = (uint16_t)(l4 + 6);
					fr->csum_base = base;
				}
			}
		}
		nb_frames++;
	}
	fclose(f);
	if (nb_frames == 0)
		die("%s: no frames", path);
}

static inline void stamp(uint8_t *p, const struct frame *fr, uint64_t tsc)
{
	uint8_t *s = p + fr->stamp_off;
	uint32_t m = STAMP_MAGIC;
	memcpy(s, &m, 4);
	memcpy(s + 4, &trial_id, 4);
	memcpy(s + 8, &tsc, 8);
	if (fr->csum_off) {
		uint32_t sum = fr->csum_base;
		for (unsigned int i = 0; i < STAMP_LEN; i += 2)
			sum += rd16(s + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		uint16_t c = (uint16_t)~sum;
		if (c == 0)
			c = 0xffff;
		memcpy(p + fr->csum_off, &c, 2);
	}
}

static inline unsigned int hist_bucket(uint64_t v)
{
	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	unsigned int msb = 63u - (unsigned int)__builtin_clzll(v);
	unsigned int shift = msb - 6; /* keep the top 7 bits: (v >> shift) in [64, 128) */
	unsigned int idx = shift * HIST_SUB + (unsigned int)(v >> shift);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of a bucket's value range. */
static double hist_value(unsigned int idx)
{
	if (idx < 2 * HIST_SUB)
		return idx;
	unsigned int shift = idx / HIST_SUB - 1;
	uint64_t m = idx - shift * HIST_SUB;
	return ((double)(m << shift) + (double)((m + 1) << shift)) / 2 - 0.5;
}

static double percentile(double p)
{
	uint64_t n = T.stamped;
	if (n == 0)
		return -1;
	uint64_t want = (uint64_t)(p * (double)n);
	if (want < 1)
		want = 1;
	if (want > n)
		want = n;
	uint64_t c = 0;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		c += T.hist[i];
		if (c >= want)
			return hist_value(i);
	}
	return (double)T.lat_max;
}

static inline void receive(uint64_t ns_per_cycle_q32)
{
	struct rte_mbuf *m[MAX_BURST];
	uint16_t n = rte_eth_rx_burst(rx_port, 0, m, MAX_BURST);
	if (n) {
		uint64_t now = rte_rdtsc();
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *p = rte_pktmbuf_mtod(m[i], const uint8_t *);
			unsigned int len = rte_pktmbuf_data_len(m[i]);
			bool v4;
			unsigned int l4 = udp_offset(p, len, &v4);
			if (!l4) {
				T.rx_other++;
				continue;
			}
			unsigned int s = l4 + 8;
			uint32_t magic, id;
			if (s + STAMP_LEN <= len && (memcpy(&magic, p + s, 4), magic == STAMP_MAGIC)) {
				memcpy(&id, p + s + 4, 4);
				if (id != trial_id) {
					T.rx_stale++;
					continue;
				}
				uint64_t t;
				memcpy(&t, p + s + 8, 8);
				uint64_t ns = now > t ? (uint64_t)(((unsigned __int128)(now - t) * ns_per_cycle_q32) >> 32) : 0;
				T.hist[hist_bucket(ns)]++;
				T.stamped++;
				T.lat_sum += ns;
				if (ns < T.lat_min)
					T.lat_min = ns;
				if (ns > T.lat_max)
					T.lat_max = ns;
			}
			T.rx++;
		}
		rte_pktmbuf_free_bulk(m, n);
	}
	if (tx_port != rx_port) { /* whatever the gateway sends back on the tx side (ARP, NDP): count and free */
		n = rte_eth_rx_burst(tx_port, 0, m, MAX_BURST);
		if (n) {
			T.rx_other += n;
			rte_pktmbuf_free_bulk(m, n);
		}
	}
}

static void run_trial(double rate, double seconds, double drain_ms)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t ns_q32 = (uint64_t)((1e9 * 4294967296.0) / (double)hz);
	struct rte_mbuf *m[MAX_BURST];
	static uint32_t next_frame;

	memset(&T, 0, sizeof(T));
	T.lat_min = UINT64_MAX;
	trial_id++;
	rte_eth_stats_get(tx_port, &stats0[0]);
	rte_eth_stats_get(rx_port, &stats0[1]);
	double cycles_per_pkt = rate > 0 ? (double)hz / rate : 0;
	uint64_t t0 = rte_rdtsc();
	uint64_t end = t0 + (uint64_t)(seconds * (double)hz);
	uint64_t now = t0;
	while (now < end && !quit) {
		receive(ns_q32);
		unsigned int n = burst;
		if (cycles_per_pkt > 0) {
			uint64_t target = (uint64_t)((double)(now - t0) / cycles_per_pkt) + 1;
			if (target <= T.attempted) {
				now = rte_rdtsc();
				continue;
			}
			uint64_t due = target - T.attempted;
			if (due < n)
				n = (unsigned int)due;
		}
		if (unlikely(rte_pktmbuf_alloc_bulk(pool, m, n) != 0)) {
			T.alloc_fail += n;
			T.attempted += n;
			now = rte_rdtsc();
			continue;
		}
		uint64_t ts = rte_rdtsc();
		for (unsigned int i = 0; i < n; i++) {
			const struct frame *fr = &frames[next_frame];
			if (++next_frame == nb_frames)
				next_frame = 0;
			uint8_t *p = rte_pktmbuf_mtod(m[i], uint8_t *);
			rte_memcpy(p, fr->data, fr->len);
			m[i]->data_len = fr->len;
			m[i]->pkt_len = fr->len;
			if (fr->stamp_off)
				stamp(p, fr, ts);
		}
		uint16_t sent = rte_eth_tx_burst(tx_port, 0, m, (uint16_t)n);
		T.attempted += n;
		T.tx += sent;
		if (sent < n) {
			T.refused += n - sent;
			rte_pktmbuf_free_bulk(m + sent, n - sent);
		}
		now = rte_rdtsc();
	}
	T.seconds = (double)(now - t0) / (double)hz;
	/* Drain: what is still in the rings and in the gateway. */
	uint64_t d0 = rte_rdtsc();
	uint64_t dend = d0 + (uint64_t)(drain_ms / 1e3 * (double)hz);
	uint64_t idle = hz / 50; /* 20 ms without a packet */
	uint64_t last = d0, before = T.rx + T.rx_other + T.rx_stale;
	while ((now = rte_rdtsc()) < dend && now - last < idle && !quit) {
		receive(ns_q32);
		uint64_t seen = T.rx + T.rx_other + T.rx_stale;
		if (seen != before) {
			before = seen;
			last = now;
		}
	}
	T.drain_seconds = (double)(now - d0) / (double)hz;
}

/* The port's counters since the start of the trial. */
static void port_stats(uint16_t port, const struct rte_eth_stats *s0, const char *name, bool comma)
{
	struct rte_eth_stats s;
	memset(&s, 0, sizeof(s));
	rte_eth_stats_get(port, &s);
	printf("\"%s\":{\"ipackets\":%" PRIu64 ",\"opackets\":%" PRIu64 ",\"imissed\":%" PRIu64 ",\"ierrors\":%" PRIu64
	       ",\"oerrors\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64 "}%s",
	       name, s.ipackets - s0->ipackets, s.opackets - s0->opackets, s.imissed - s0->imissed,
	       s.ierrors - s0->ierrors, s.oerrors - s0->oerrors, s.rx_nombuf - s0->rx_nombuf, comma ? "," : "");
}

static void print_trial(double rate)
{
	printf("@@ {\"ok\":true,\"rate\":%.0f,\"seconds\":%.6f,\"drain_seconds\":%.6f,\"attempted\":%" PRIu64
	       ",\"tx\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"alloc_fail\":%" PRIu64 ",\"rx\":%" PRIu64
	       ",\"rx_other\":%" PRIu64 ",\"rx_stale\":%" PRIu64 ",",
	       rate, T.seconds, T.drain_seconds, T.attempted, T.tx, T.refused, T.alloc_fail, T.rx, T.rx_other,
	       T.rx_stale);
	printf("\"latency_ns\":{\"samples\":%" PRIu64, T.stamped);
	if (T.stamped) {
		printf(",\"min\":%" PRIu64 ",\"mean\":%.1f,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p99.9\":%.0f"
		       ",\"p99.99\":%.0f,\"max\":%" PRIu64,
		       T.lat_min, (double)T.lat_sum / (double)T.stamped, percentile(0.5), percentile(0.9),
		       percentile(0.99), percentile(0.999), percentile(0.9999), T.lat_max);
	}
	printf("},");
	port_stats(tx_port, &stats0[0], "tx_port", true);
	port_stats(rx_port, &stats0[1], "rx_port", false);
	printf("}\n");
	fflush(stdout);
}

static bool links_up(double seconds)
{
	uint64_t end = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	do {
		struct rte_eth_link a, b;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		rte_eth_link_get_nowait(tx_port, &a);
		rte_eth_link_get_nowait(rx_port, &b);
		if (a.link_status && b.link_status)
			return true;
		usleep(10000);
	} while (rte_rdtsc() < end && !quit);
	return false;
}

static void port_init(uint16_t port)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	char name[RTE_ETH_NAME_MAX_LEN];
	snprintf(name, sizeof(name), "%u", port);
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0)
		die("port %s: cannot configure", name);
	if (rte_eth_rx_queue_setup(port, 0, RING_DESC, rte_eth_dev_socket_id(port), NULL, pool) != 0)
		die("port %s: cannot set up its rx queue", name);
	if (rte_eth_tx_queue_setup(port, 0, RING_DESC, rte_eth_dev_socket_id(port), NULL) != 0)
		die("port %s: cannot set up its tx queue", name);
	if (rte_eth_dev_start(port) != 0)
		die("port %s: cannot start", name);
}

int main(int argc, char **argv)
{
	int r = rte_eal_init(argc, argv);
	if (r < 0)
		die("EAL initialisation failed");
	argc -= r;
	argv += r;
	const char *pcap = NULL;
	static const struct option opts[] = {{"pcap", required_argument, NULL, 'p'},
					     {"tx-port", required_argument, NULL, 't'},
					     {"rx-port", required_argument, NULL, 'r'},
					     {"burst", required_argument, NULL, 'b'},
					     {"mbufs", required_argument, NULL, 'm'},
					     {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': pcap = optarg; break;
		case 't': tx_port = (uint16_t)atoi(optarg); break;
		case 'r': rx_port = (uint16_t)atoi(optarg); break;
		case 'b': burst = (unsigned int)atoi(optarg); break;
		case 'm': nb_mbufs = (unsigned int)atoi(optarg); break;
		default: die("usage: memif_gen [EAL options] -- --pcap FILE [--tx-port N] [--rx-port N] [--burst N]");
		}
	}
	if (!pcap)
		die("--pcap FILE is required");
	if (burst < 1 || burst > MAX_BURST)
		die("--burst must be 1..64");
	uint16_t nports = rte_eth_dev_count_avail();
	if (tx_port >= nports || rx_port >= nports)
		die("not enough ports (give two --vdev=net_memif...)");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	load_pcap(pcap);
	pool = rte_pktmbuf_pool_create("memif_gen", nb_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!pool)
		die("cannot create the mbuf pool: %s", rte_strerror(rte_errno));
	port_init(tx_port);
	if (rx_port != tx_port)
		port_init(rx_port);
	unsigned int stamped = 0;
	for (uint32_t i = 0; i < nb_frames; i++)
		stamped += frames[i].stamp_off != 0;
	printf("@@ {\"ok\":true,\"ready\":true,\"frames\":%u,\"stamped_frames\":%u,\"tsc_hz\":%" PRIu64 "}\n", nb_frames,
	       stamped, rte_get_tsc_hz());
	fflush(stdout);

	char line[256];
	while (!quit && fgets(line, sizeof(line), stdin)) {
		double a = 0, b = 0, d = 0;
		if (sscanf(line, "trial %lf %lf %lf", &a, &b, &d) >= 2) {
			run_trial(a, b, d > 0 ? d : 100);
			print_trial(a);
		} else if (sscanf(line, "link %lf", &a) == 1) {
			bool up = links_up(a);
			printf("@@ {\"ok\":%s}\n", up ? "true" : "false");
			fflush(stdout);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else {
			printf("@@ {\"ok\":false,\"error\":\"unknown command\"}\n");
			fflush(stdout);
		}
	}
	rte_eth_dev_stop(tx_port);
	if (rx_port != tx_port)
		rte_eth_dev_stop(rx_port);
	rte_eth_dev_close(tx_port);
	if (rx_port != tx_port)
		rte_eth_dev_close(rx_port);
	rte_eal_cleanup();
	return 0;
}
