/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's control side (ipsec_cp*.c) against a fake core: interfaces and VRFs in a stub `dp`, dp_synchronize()
 * counted, events recorded. Checked: what the workers would see after each operation (ipsec.tunnels[], the SPI
 * table, params, out_sa), refusals that change nothing, atomic replace and the same-keys rule, dormant tunnels
 * and their return on another interface id with their sequence numbers, whole-section apply (control-socket SAs
 * kept, collisions refused all or nothing, export equal to the section), lifetimes, sequence exhaustion and peer
 * moves through poll. The control side's sources are compiled into this program (they need the core's symbols,
 * stubbed here, and nothing else).
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "nf/ipsec/ipsec_cp.c"
#include "nf/ipsec/ipsec_cp_apply.c"
#include "nf/ipsec/ipsec_cp_keys.c"
#include "nf/ipsec/ipsec.c"
#include "nf/ipsec/ipsec_ctl_metrics.c"
#include "nf/ipsec/ipsec_cp_poll.c"

/* ---- the fake core ---- */

struct dp dp;
static struct iface ifaces[16];
static struct vrf vrfs[4];
static struct iface *iface_table[16];
static struct vrf *vrf_table[4];
static unsigned syncs;
static uint64_t now_ms = 1000;

#define IPSEC_KIND_INDEX 3 /* registry index of "ipsec": tunnel_fn 4 */

struct iface *iface_by_name(const char *name)
{
	for (unsigned i = 1; i < 16; i++)
		if (iface_table[i] != NULL && strcmp(iface_table[i]->name, name) == 0)
			return iface_table[i];
	return NULL;
}

struct vrf *vrf_by_name(const char *name)
{
	for (unsigned i = 0; i < 4; i++)
		if (vrf_table[i] != NULL && strcmp(vrf_table[i]->name, name) == 0)
			return vrf_table[i];
	return NULL;
}

/* Steering (nf/ipsec/ipsec_steer.c) needs the core's flow plan: the control side only asks for a refresh. */
void ipsec_steer_refresh(uint64_t now_ms)
{
	(void)now_ms;
}

/* The tunnel whose params a sync looks at: what the workers read while they let go of its home slot. */
static const struct ipsec_tunnel *sync_watch;
static bool sync_saw_block;
static uint8_t sync_block_remote0, sync_home_remote0;

void dp_synchronize(void)
{
	syncs++;
	if (sync_watch != NULL && sync_watch->params != &sync_watch->home && !sync_saw_block) {
		sync_saw_block = true;
		sync_block_remote0 = sync_watch->params->remote[0];
		sync_home_remote0 = sync_watch->home.remote[0];
	}
}

int nf_kind_index(const char *kind)
{
	return strcmp(kind, "ipsec") == 0 ? IPSEC_KIND_INDEX : -1;
}

uint64_t cp_now_ms(void)
{
	return now_ms;
}

static uint32_t worker_reass_max[2];
static uint64_t worker_reass_cycles[2];

int ipsec_worker_init(struct ipsec_worker *w, unsigned index, int socket, uint32_t reass_max, uint64_t reass_cycles,
		      char *err, size_t errlen)
{
	if (index < 2) {
		worker_reass_max[index] = reass_max;
		worker_reass_cycles[index] = reass_cycles;
	}
	return 0;
}

void ipsec_worker_fini(struct ipsec_worker *w)
{
}

struct recorded_event {
	char what[32], limit[16];
	uint32_t spi;
	struct addr old_addr, new_addr;
	uint16_t old_port, new_port;
	bool udp_encap_on;
};
static struct recorded_event events[16];
static unsigned n_events;

void ipsec_event_sa(enum ipsec_event_kind kind, const struct ipsec_cp_tunnel *rec, const struct ipsec_sa *sa,
		    const char *limit, uint64_t value, uint64_t threshold)
{
	static const char *const names[] = {"soft", "hard", "exhausted"};
	if (n_events < 16) {
		struct recorded_event *e = &events[n_events++];
		snprintf(e->what, sizeof(e->what), "%s", names[kind]);
		snprintf(e->limit, sizeof(e->limit), "%s", limit);
		e->spi = sa->spi;
	}
}

void ipsec_event_peer_moved(const struct ipsec_cp_tunnel *rec, const struct addr *old_addr, uint16_t old_port,
			    const struct addr *new_addr, uint16_t new_port, uint32_t spi, bool udp_encap_on)
{
	if (n_events < 16) {
		struct recorded_event *e = &events[n_events++];
		snprintf(e->what, sizeof(e->what), "peer_moved");
		e->spi = spi;
		e->old_addr = *old_addr;
		e->new_addr = *new_addr;
		e->old_port = old_port;
		e->new_port = new_port;
		e->udp_encap_on = udp_encap_on;
	}
}

void ipsec_stats_table(struct ctl_reply *r)
{
}

static void iface_set(uint16_t id, const char *name, uint32_t vrf, bool tunnel)
{
	ifaces[id] = (struct iface){.id = id, .vrf = vrf, .tunnel_fn = tunnel ? IPSEC_KIND_INDEX + 1 : 0};
	snprintf(ifaces[id].name, sizeof(ifaces[id].name), "%s", name);
	iface_table[id] = &ifaces[id];
}

static void vrf_set(uint32_t slot, const char *name)
{
	vrfs[slot] = (struct vrf){.slot = slot};
	snprintf(vrfs[slot].name, sizeof(vrfs[slot].name), "%s", name);
	vrf_table[slot] = &vrfs[slot];
}

/* underlay (slot 0), t1 (slot 1); wan0 (1, port), site1 (3) and site2 (4) of kind ipsec in t1. */
static void core_reset(void)
{
	memset(iface_table, 0, sizeof(iface_table));
	memset(vrf_table, 0, sizeof(vrf_table));
	vrf_set(0, "underlay");
	vrf_set(1, "t1");
	iface_set(1, "wan0", 0, false);
	iface_set(3, "site1", 1, true);
	iface_set(4, "site2", 1, true);
}

/* ---- helpers ---- */

#define K20 "00112233445566778899aabbccddeeff01020304"

static char err[CP_ERR_MAX];

static struct ipsec_tunnel_conf tunnel(const char *name, const char *local, const char *remote)
{
	struct ipsec_tunnel_conf tc = {.remote_port = 4500};
	snprintf(tc.interface, sizeof(tc.interface), "%s", name);
	snprintf(tc.transport_vrf, sizeof(tc.transport_vrf), "underlay");
	addr_parse(local, &tc.local);
	addr_parse(remote, &tc.remote);
	return tc;
}

/* A key of its own per (spi, dir, last_key_byte): one key never serves two SAs (ipsec_cp_keys.c refuses it). */
static struct ipsec_sa_conf sa_conf(uint32_t spi, uint8_t dir, uint8_t last_key_byte)
{
	struct ipsec_sa_conf sa = {.spi = spi, .dir = dir, .alg = IPSEC_ALG_AES_GCM_128, .replay_window = 1024};
	char why[64];
	sa.key_len = (uint8_t)ipsec_hex_parse(K20, sa.key, sizeof(sa.key), why, sizeof(why));
	sa.key[0] = (uint8_t)(spi >> 8);
	sa.key[1] = (uint8_t)spi;
	sa.key[2] = dir;
	sa.key[19] = last_key_byte;
	return sa;
}

static struct ipsec_sa *spi_lookup(uint32_t spi)
{
	return ipsec_spi_find(ipsec.spi, spi);
}

static void fresh(void)
{
	ipsec_cp_fini();
	core_reset();
	n_events = 0;
	const struct ipsec_conf sizes = {.max_sas = 16,
					 .reassembly_max = IPSEC_CONF_REASS_DEFAULT,
					 .reassembly_timeout_ms = IPSEC_CONF_REASS_MS_DEFAULT};
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_init(&sizes, 2, 16, err, sizeof(err)), 0);
	/* each worker sizes its table for outer fragments from the section */
	uint64_t cycles = (uint64_t)IPSEC_CONF_REASS_MS_DEFAULT * rte_get_tsc_hz() / 1000;
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT(worker_reass_max[i] == IPSEC_CONF_REASS_DEFAULT && worker_reass_cycles[i] == cycles);
}

static int sa_add(const char *ifc, uint32_t spi, uint8_t dir, uint8_t k)
{
	struct ipsec_sa_conf c = sa_conf(spi, dir, k);
	return ipsec_cp_sa_add(ifc, &c, false, 0, err, sizeof(err));
}

/* ---- tunnels ---- */

static void test_tunnels(void)
{
	fresh();
	struct ipsec_tunnel_conf tc = tunnel("nope", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "interface nope does not exist"));
	tc = tunnel("wan0", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not of kind ipsec"));
	tc = tunnel("site1", "192.0.2.1", "2001:db8::2");
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), EINVAL);
	tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	snprintf(tc.transport_vrf, sizeof(tc.transport_vrf), "blue");
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), ENOENT);
	CU_ASSERT_EQUAL(ipsec_cp.n_tunnels, 0);
	CU_ASSERT_PTR_NULL(ipsec.tunnels[3]);

	tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	tc.mss_clamp = 1300;
	tc.udp_encap = true;
	tc.remote_port = 4501;
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), EEXIST);
	struct ipsec_tunnel *t = ipsec.tunnels[3];
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(t->iface == 3 && t->vrf == 1 && t->out_sa == NULL);
	const struct ipsec_tunnel_params *p = t->params;
	CU_ASSERT_PTR_EQUAL(p, &t->home); /* on the tunnel's first line */
	CU_ASSERT(p->transport_vrf == 0 && p->family == 4 && p->udp_encap && p->remote_port == 4501 && p->mss == 1300);
	CU_ASSERT(p->local[0] == 192 && p->local[3] == 1 && p->remote[0] == 198 && p->remote[3] == 2);

	/* set: the workers move to a new block and let go of the home slot (one sync) before it takes the new values
	 * and is published again; the block is freed at the next sync */
	struct ipsec_tunnel_change ch = {.has_remote = true, .has_mss = true, .mss_clamp = 1200};
	addr_parse("203.0.113.7", &ch.remote);
	unsigned s0 = syncs;
	sync_watch = t;
	sync_saw_block = false;
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &ch, err, sizeof(err)), 0);
	sync_watch = NULL;
	CU_ASSERT(sync_saw_block && sync_block_remote0 == 203 && sync_home_remote0 == 198);
	CU_ASSERT_PTR_EQUAL(t->params, &t->home);
	CU_ASSERT(t->params->remote[0] == 203 && t->params->mss == 1200 && t->params->remote_port == 4501);
	CU_ASSERT_EQUAL(syncs, s0 + 2);
	addr_parse("2001:db8::9", &ch.remote);
	uint32_t gen = t->params->gen;
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &ch, err, sizeof(err)), EINVAL);
	CU_ASSERT(t->params == &t->home && t->params->gen == gen && t->params->remote[0] == 203);
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site2", &ch, err, sizeof(err)), ENOENT);

	CU_ASSERT_EQUAL(sa_add("site1", 0x1001, IPSEC_DIR_IN, 1), 0);
	CU_ASSERT_PTR_NOT_NULL(spi_lookup(0x1001));
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_del("site1", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(ipsec.tunnels[3]);
	CU_ASSERT_PTR_NULL(spi_lookup(0x1001));
	CU_ASSERT(ipsec_cp.n_tunnels == 0 && ipsec_cp.n_sas == 0);
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_del("site1", err, sizeof(err)), ENOENT);
}

/* ---- SAs ---- */

static void test_sas(void)
{
	fresh();
	struct ipsec_tunnel_conf tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	tc = tunnel("site2", "192.0.2.1", "198.51.100.3");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	struct ipsec_tunnel *t = ipsec.tunnels[3];

	CU_ASSERT_EQUAL(sa_add("site3", 0x1001, IPSEC_DIR_IN, 1), ENOENT);
	for (uint32_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(sa_add("site1", 0x1001 + i, IPSEC_DIR_IN, 1), 0);
	CU_ASSERT_EQUAL(sa_add("site1", 0x1005, IPSEC_DIR_IN, 1), ENOSPC);
	CU_ASSERT_EQUAL(sa_add("site2", 0x1001, IPSEC_DIR_IN, 1), EEXIST); /* inbound SPIs: unique per gateway */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "already an SA of tunnel site1"));
	struct ipsec_sa *in1 = spi_lookup(0x1001);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in1);
	CU_ASSERT(in1->iface == 3 && in1->owner == 0x1001 % 2 && t->in_sa[3] == spi_lookup(0x1004));

	/* outbound: the newest is active, the previous stays listed */
	CU_ASSERT_EQUAL(sa_add("site1", 0x1001, IPSEC_DIR_OUT, 2), 0); /* an outbound SPI may equal an inbound one */
	struct ipsec_sa *o1 = t->out_sa;
	CU_ASSERT_PTR_NOT_NULL_FATAL(o1);
	CU_ASSERT_EQUAL(sa_add("site1", 0x2002, IPSEC_DIR_OUT, 3), 0);
	CU_ASSERT(t->out_sa != o1 && t->out_sa->spi == 0x2002);
	CU_ASSERT_EQUAL(sa_add("site1", 0x2002, IPSEC_DIR_OUT, 3), EEXIST);
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_find("site1");
	CU_ASSERT(rec->n_out == 2 && rec->active_out == 1 && !ipsec_cp_sa_is_active(rec, &rec->out[0]));

	/* bad SA: refused, nothing counted */
	struct ipsec_sa_conf bad = sa_conf(0x3000, IPSEC_DIR_IN, 1);
	bad.key_len = 16;
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &bad, false, 0, err, sizeof(err)), EINVAL);
	CU_ASSERT_PTR_NULL(strstr(err, "00112233"));
	CU_ASSERT_EQUAL(ipsec_cp.n_sas, 6);

	/* replace with new keys: the SPI table points at the new SA in one step, the old one goes after a sync */
	struct ipsec_sa_conf c = sa_conf(0x1002, IPSEC_DIR_IN, 9);
	unsigned s0 = syncs;
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), 0);
	struct ipsec_sa *in2 = spi_lookup(0x1002);
	CU_ASSERT_PTR_NOT_NULL(in2);
	CU_ASSERT_EQUAL(syncs, s0 + 1);
	CU_ASSERT_PTR_EQUAL(t->in_sa[1], in2);
	/* replace with the same keys: the same object goes on, lifetimes change in place */
	c.hard_packets = 50;
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), 0);
	CU_ASSERT_PTR_EQUAL(spi_lookup(0x1002), in2);
	CU_ASSERT_EQUAL(in2->hard_packets, 50);
	c.esn = true;
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), EINVAL);
	CU_ASSERT(!in2->esn);
	c = sa_conf(0x7777, IPSEC_DIR_IN, 1);
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), ENOENT);
	/* the active outbound SA replaced: out_sa follows */
	c = sa_conf(0x2002, IPSEC_DIR_OUT, 7);
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), 0);
	CU_ASSERT(t->out_sa->spi == 0x2002 && t->out_sa->crypto.salt[3] == 7);

	/* seq: outbound only, within the sequence space */
	c = sa_conf(0x2003, IPSEC_DIR_OUT, 1);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &c, false, 1ULL << 32, err, sizeof(err)), EINVAL);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &c, false, UINT32_MAX - 3, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[4]->out_sa->seq_out, UINT32_MAX - 3);
	c = sa_conf(0x2004, IPSEC_DIR_IN, 1);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &c, false, 5, err, sizeof(err)), EINVAL);

	/* delete: inbound by SPI, outbound with its tunnel; the active one leaves the tunnel without */
	CU_ASSERT_EQUAL(ipsec_cp_sa_del(NULL, IPSEC_DIR_IN, 0x1003, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(spi_lookup(0x1003));
	CU_ASSERT_EQUAL(ipsec_cp_sa_del(NULL, IPSEC_DIR_IN, 0x2002, err, sizeof(err)), ENOENT);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2002, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(t->out_sa);
	CU_ASSERT(rec->active_out == -1 && rec->n_out == 1);
	CU_ASSERT_EQUAL(sa_add("site1", 0x2005, IPSEC_DIR_OUT, 4), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x1001, err, sizeof(err)), 0); /* inactive one */
	CU_ASSERT(rec->active_out == 0 && t->out_sa->spi == 0x2005);

}

/* Fill to max_sas and see the refusal. */
static void test_capacity(void)
{
	fresh();
	for (unsigned i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "s%u", i);
		iface_set((uint16_t)(6 + i), name, 1, true);
		struct ipsec_tunnel_conf tc = tunnel(name, "192.0.2.1", "198.51.100.2");
		CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
		for (uint32_t k = 0; k < 4; k++)
			CU_ASSERT_EQUAL(sa_add(name, 0x100 * (i + 1) + k, IPSEC_DIR_IN, 1), 0);
	}
	CU_ASSERT_EQUAL(ipsec_cp.n_sas, 16);
	CU_ASSERT_EQUAL(sa_add("s0", 0x5000, IPSEC_DIR_OUT, 1), ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "max_sas"));
	for (uint32_t k = 0; k < 16; k++)
		CU_ASSERT_PTR_NOT_NULL(spi_lookup(0x100 * (k / 4 + 1) + k % 4));

	/* Rekeys (delete one inbound SA, add another): the table has 64 slots (its minimum), 48 of them usable; the
	 * deleted SPIs' tombstones use up the spare ones at the 33rd rekey (15 live + 33 dead + the new one), which
	 * publishes a fresh table and retires the old one. */
	for (uint32_t r = 0; r < 40; r++) {
		uint32_t gone = r < 4 ? 0x100 + r : 0x9000 + r - 4;
		CU_ASSERT_EQUAL(ipsec_cp_sa_del("s0", IPSEC_DIR_IN, gone, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(sa_add("s0", 0x9000 + r, IPSEC_DIR_IN, 1), 0);
		CU_ASSERT_PTR_NULL(spi_lookup(gone));
		CU_ASSERT_PTR_NOT_NULL(spi_lookup(0x9000 + r));
	}
	CU_ASSERT(ipsec.spi->n_live == 16 && ipsec.spi->n_dead == 7);
	CU_ASSERT_EQUAL(ipsec_cp.spi_table_rebuilds, 1);
	for (uint32_t k = 4; k < 16; k++)
		CU_ASSERT_PTR_NOT_NULL(spi_lookup(0x100 * (k / 4 + 1) + k % 4));
	for (uint32_t r = 36; r < 40; r++)
		CU_ASSERT_PTR_EQUAL(spi_lookup(0x9000 + r)->spi, 0x9000 + r);
}

/* ---- dormant tunnels ---- */

static void test_dormant(void)
{
	fresh();
	struct ipsec_tunnel_conf tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sa_add("site1", 0x1001, IPSEC_DIR_IN, 1), 0);
	CU_ASSERT_EQUAL(sa_add("site1", 0x2001, IPSEC_DIR_OUT, 2), 0);
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_find("site1");
	struct ipsec_sa *out = rec->out[0].sa;
	out->seq_out = 12345; /* packets sent */

	iface_table[3] = NULL; /* interface del site1 */
	ipsec_cp_iface_changed();
	CU_ASSERT(!rec->published);
	CU_ASSERT_PTR_NOT_NULL(strstr(rec->dormant_why, "interface site1 does not exist"));
	CU_ASSERT_PTR_NULL(ipsec.tunnels[3]);
	CU_ASSERT_PTR_NULL(spi_lookup(0x1001));
	/* SAs may be added to a dormant tunnel; they wait with it */
	CU_ASSERT_EQUAL(sa_add("site1", 0x1002, IPSEC_DIR_IN, 3), 0);
	CU_ASSERT_PTR_NULL(spi_lookup(0x1002));
	CU_ASSERT_EQUAL(sa_add("site2", 0x1002, IPSEC_DIR_IN, 3), ENOENT);

	iface_set(9, "site1", 2, true); /* interface add site1: another id, another VRF */
	vrf_set(2, "t2");
	ipsec_cp_iface_changed();
	CU_ASSERT(rec->published && rec->dormant_why[0] == '\0');
	struct ipsec_tunnel *t = ipsec.tunnels[9];
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(t->iface == 9 && t->vrf == 2);
	CU_ASSERT_PTR_EQUAL(t->out_sa, out);
	CU_ASSERT_EQUAL(out->seq_out, 12345); /* the SA went on: no sequence number sent twice */
	CU_ASSERT(spi_lookup(0x1001) != NULL && spi_lookup(0x1001)->iface == 9 && spi_lookup(0x1002)->iface == 9);

	/* the transport VRF goes: dormant again */
	vrf_table[0] = NULL;
	ipsec_cp_iface_changed();
	CU_ASSERT(!rec->published && ipsec.tunnels[9] == NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(rec->dormant_why, "transport VRF underlay"));
	vrf_set(0, "underlay");
	ipsec_cp_iface_changed();
	CU_ASSERT(rec->published && ipsec.tunnels[9] == t);
	CU_ASSERT(t->params == &t->home && !rec->home_pending); /* published again: its params on its first line */
}

/* ---- whole sections ---- */

static struct ipsec_conf *model_load(const char *text)
{
	config_t cfg;
	config_init(&cfg);
	struct ipsec_conf *m = NULL;
	char e[CONF_ERR_MAX];
	if (config_read_string(&cfg, text) == CONFIG_TRUE &&
	    ipsec_conf_read(config_lookup(&cfg, "ipsec"), NULL, "t.conf", &m, e, sizeof(e)) != 0)
		fprintf(stderr, "\nmodel: %s\n", e);
	config_destroy(&cfg);
	return m;
}

#define T1 "{ interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\"; remote = \"198.51.100.2\"; "
#define T2 "{ interface = \"site2\"; transport_vrf = \"underlay\"; local = \"2001:db8::1\"; remote = \"2001:db8::2\"; "
#define SA_GCM(spi, dir, k) "{ spi = " spi "; direction = \"" dir "\"; alg = \"aes-gcm-128\"; key = \"" k "\"; }"
#define KA "00112233445566778899aabbccddeeff0102030a"
#define KB "00112233445566778899aabbccddeeff0102030b"
#define KC "00112233445566778899aabbccddeeff0102030c"
#define KD "00112233445566778899aabbccddeeff0102030d"
#define KE "00112233445566778899aabbccddeeff0102030e"
#define T9 "{ interface = \"site9\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\"; remote = \"198.51.100.2\"; "

static void test_apply(void)
{
	fresh();
	struct ipsec_conf *m1 = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					   SA_GCM("0x1001", "in", KA) ", " SA_GCM("0x2001", "out", KB) " ); }, "
					   T2 "follow_peer = true; } ); };");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m1, err, sizeof(err)), 0);
	CU_ASSERT(ipsec_cp.n_tunnels == 2 && ipsec.tunnels[3] != NULL && ipsec.tunnels[4] != NULL);
	struct ipsec_sa *in1 = spi_lookup(0x1001), *out1 = ipsec.tunnels[3]->out_sa;
	CU_ASSERT(in1 != NULL && out1 != NULL && out1->spi == 0x2001);
	struct ipsec_conf *x = ipsec_cp_export();
	CU_ASSERT(ipsec_conf_equal(x, m1));
	ipsec_conf_free(x);

	/* the controller adds SAs of its own */
	CU_ASSERT_EQUAL(sa_add("site2", 0x3001, IPSEC_DIR_IN, 1), 0);
	CU_ASSERT_EQUAL(sa_add("site1", 0x3002, IPSEC_DIR_OUT, 1), 0);
	x = ipsec_cp_export();
	CU_ASSERT(ipsec_conf_equal(x, m1)); /* not configuration */
	ipsec_conf_free(x);

	/* the same section again: nothing moves (same objects, the controller's out SA still active) */
	CU_ASSERT_EQUAL(ipsec_cp_apply(m1, err, sizeof(err)), 0);
	CU_ASSERT(spi_lookup(0x1001) == in1 && spi_lookup(0x3001) != NULL && ipsec.tunnels[3]->out_sa->spi == 0x3002);

	/* a section SA colliding with a control-socket one: refused, nothing changed */
	struct ipsec_conf *bad = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					    SA_GCM("0x3001", "in", KA) " ); }, " T2 " } ); };");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad, err, sizeof(err)), EEXIST);
	CU_ASSERT(spi_lookup(0x1001) == in1 && ipsec_cp_tunnel_find("site2")->conf.follow_peer);
	ipsec_conf_free(bad);
	bad = model_load("ipsec: { max_sas = 32; };");
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad, err, sizeof(err)), ENOTSUP);
	CU_ASSERT_EQUAL(ipsec_cp.n_tunnels, 2);
	ipsec_conf_free(bad);
	/* the reassembly tables are sized at boot too */
	bad = model_load("ipsec: { max_sas = 16; reassembly_max = 10; };");
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad, err, sizeof(err)), ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "reassembly_max and reassembly_timeout_ms are fixed at boot (1024, 2000 ms)"));
	CU_ASSERT_EQUAL(ipsec_cp.n_tunnels, 2);
	ipsec_conf_free(bad);
	bad = model_load("ipsec: { max_sas = 16; reassembly_timeout_ms = 500; };");
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad, err, sizeof(err)), ENOTSUP);
	ipsec_conf_free(bad);

	/* change: 0x1001 new key (replaced), 0x2001 lifetimes only (same object), new out 0x2002 (active), site2's
	 * options */
	struct ipsec_conf *m2 = model_load(
		"ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( " SA_GCM("0x1001", "in", KC) ", "
		"{ spi = 0x2001; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" KB "\"; hard_packets = 99; }, "
		SA_GCM("0x2002", "out", KD) " ); }, " T2 "follow_peer = false; mss_clamp = 1300; } ); };");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m2, err, sizeof(err)), 0);
	struct ipsec_cp_tunnel *r1 = ipsec_cp_tunnel_find("site1");
	CU_ASSERT(spi_lookup(0x1001) != NULL && spi_lookup(0x1001) != in1);
	CU_ASSERT(r1->n_out == 3 && r1->out[0].sa == out1 && out1->hard_packets == 99);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->spi, 0x2002);
	CU_ASSERT(ipsec.tunnels[4]->params->mss == 1300 && !ipsec.tunnels[4]->params->follow_peer);
	CU_ASSERT_PTR_EQUAL(ipsec.tunnels[4]->params, &ipsec.tunnels[4]->home); /* the changed outer side went home */
	CU_ASSERT_PTR_NOT_NULL(spi_lookup(0x3001)); /* the controller's SA stayed */
	x = ipsec_cp_export();
	CU_ASSERT(ipsec_conf_equal(x, m2));
	ipsec_conf_free(x);

	/* same keys with another esn: refused whole */
	bad = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
			 "{ spi = 0x1001; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" KC "\"; esn = true; } );"
			 " } ); };");
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad, err, sizeof(err)), EINVAL);
	CU_ASSERT_EQUAL(ipsec_cp.n_tunnels, 2);
	ipsec_conf_free(bad);

	/* site2 goes (with the controller's SA), site1 loses 0x2002 and 0x1001 */
	struct ipsec_conf *m3 = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					   SA_GCM("0x2001", "out", KB) " ); } ); };");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m3, err, sizeof(err)), 0);
	CU_ASSERT(ipsec_cp.n_tunnels == 1 && ipsec.tunnels[4] == NULL && spi_lookup(0x3001) == NULL);
	CU_ASSERT(spi_lookup(0x1001) == NULL && r1->n_in == 0 && r1->n_out == 2);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->spi, 0x2001); /* the section's SAs changed: its last out is active */
	CU_ASSERT_EQUAL(ipsec_cp.n_sas, 2);

	CU_ASSERT_EQUAL(ipsec_cp_apply(NULL, err, sizeof(err)), 0);
	CU_ASSERT(ipsec_cp.n_tunnels == 0 && ipsec_cp.n_sas == 0 && ipsec.tunnels[3] == NULL);
	ipsec_conf_free(m1);
	ipsec_conf_free(m2);
	ipsec_conf_free(m3);
}

/* ---- keys installed since start-up: never twice from sequence number 1, never with an empty window ---- */

static void test_keys(void)
{
	fresh();
	struct ipsec_tunnel_conf tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	tc = tunnel("site2", "192.0.2.1", "198.51.100.3");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);

	/* sa replace K1 -> K2 -> K1 (outbound): the sequence numbers of K1 go on */
	struct ipsec_sa_conf k1 = sa_conf(0x2001, IPSEC_DIR_OUT, 1), k2 = sa_conf(0x2001, IPSEC_DIR_OUT, 2);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site1", &k1, false, 0, err, sizeof(err)), 0);
	ipsec.tunnels[3]->out_sa->seq_out = 100; /* sent 100 packets */
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &k2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 0);
	ipsec.tunnels[3]->out_sa->seq_out = 5;
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &k1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 100); /* the next packet carries 101: no IV again */
	ipsec.tunnels[3]->out_sa->seq_out = 150;
	/* sa del + sa add, even asking for seq 0 or a lower one: never back */
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2001, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &k1, false, 20, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 150);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2001, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &k1, false, 200, err, sizeof(err)), 0); /* forward is fine */
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 200);
	/* K2 (deleted with its SA) under K1's SPI on another tunnel: same identity, goes on from 5 */
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &k2, false, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[4]->out_sa->seq_out, 5);

	/* with a hard packet lifetime, the exact limit counts from where the key goes on */
	struct ipsec_sa_conf k3 = sa_conf(0x2003, IPSEC_DIR_OUT, 3);
	k3.hard_packets = 50;
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site2", &k3, false, 0, err, sizeof(err)), 0);
	struct ipsec_sa *o3 = ipsec.tunnels[4]->out_sa;
	CU_ASSERT(o3->seq_limit == 50 && o3->seq_limit_hard);
	o3->seq_out = 40;
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site2", IPSEC_DIR_OUT, 0x2003, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site2", &k3, false, 0, err, sizeof(err)), 0);
	o3 = ipsec.tunnels[4]->out_sa;
	CU_ASSERT(o3->seq_out == 40 && o3->seq_limit == 90);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site2", IPSEC_DIR_OUT, 0x2003, err, sizeof(err)), 0);

	/* the same key under another SPI or direction: refused, also after its SA is gone; nothing changed */
	struct ipsec_sa_conf other = k1;
	other.spi = 0x2002;
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &other, false, 0, err, sizeof(err)), EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "key already used by another SA since start-up"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "install fresh keys"));
	CU_ASSERT_PTR_NULL(strstr(err, "00112233"));
	other.dir = IPSEC_DIR_IN;
	other.spi = 0x2001;
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &other, false, 0, err, sizeof(err)), EEXIST);
	CU_ASSERT_EQUAL(ipsec_cp.n_sas, 2);
	/* one key, two SAs at once (same SPI on two tunnels): refused */
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site2", IPSEC_DIR_OUT, 0x2001, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &k2, false, 0, err, sizeof(err)), EEXIST); /* listed SPI there */
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2001, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &k2, false, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site2", &k2, false, 0, err, sizeof(err)), EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "installed already"));

	/* inbound: deleted and added again, its window remembers: replays of captured packets stay refused */
	struct ipsec_sa_conf in1 = sa_conf(0x1001, IPSEC_DIR_IN, 1);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site1", &in1, false, 0, err, sizeof(err)), 0);
	uint64_t lost;
	CU_ASSERT_EQUAL(ipsec_replay_update(&spi_lookup(0x1001)->replay, 500, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del(NULL, IPSEC_DIR_IN, 0x1001, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site1", &in1, false, 0, err, sizeof(err)), 0);
	const struct ipsec_replay *r = &spi_lookup(0x1001)->replay;
	uint64_t full;
	CU_ASSERT_EQUAL(r->top, 500);
	CU_ASSERT_EQUAL(ipsec_replay_check(r, 500, false, &full), IPSEC_REPLAY_DUP);
	CU_ASSERT_EQUAL(ipsec_replay_check(r, 1, false, &full), IPSEC_REPLAY_DUP);
	CU_ASSERT_EQUAL(ipsec_replay_check(r, 501, false, &full), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL(ipsec_replay_check(r, 563, false, &full), IPSEC_REPLAY_OK);
	/* replaced by K2 and back: the window is K1's again */
	struct ipsec_sa_conf in2 = sa_conf(0x1001, IPSEC_DIR_IN, 2);
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &in2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(spi_lookup(0x1001)->replay.top, 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &in1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(spi_lookup(0x1001)->replay.top, 500);
	/* tunnel deleted and added again with the SA: still there */
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_del("site1", err, sizeof(err)), 0);
	tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site1", &in1, false, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(spi_lookup(0x1001)->replay.top, 500);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_sa_add("site1", &k2, false, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 5);
}

/* Config rollback, the undo of a failed commit, a renamed tunnel: whole sections go through the same table. */
static void test_keys_apply(void)
{
	fresh();
	iface_set(5, "site9", 1, true);
	struct ipsec_conf *m1 = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					   SA_GCM("0x1001", "in", KA) ", " SA_GCM("0x2001", "out", KB) " ); } ); };");
	struct ipsec_conf *m2 = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					   SA_GCM("0x1001", "in", KC) ", " SA_GCM("0x2001", "out", KD) " ); } ); };");
	/* site1 renamed site9, the same SAs */
	struct ipsec_conf *m3 = model_load("ipsec: { max_sas = 16; tunnels = ( " T9 "sas = ( "
					   SA_GCM("0x1001", "in", KA) ", " SA_GCM("0x2001", "out", KB) " ); } ); };");
	/* KB under another SPI; KE twice */
	struct ipsec_conf *bad1 = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					     SA_GCM("0x1001", "in", KA) ", " SA_GCM("0x2002", "out", KB) " ); } ); };");
	struct ipsec_conf *bad2 = model_load("ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( "
					     SA_GCM("0x1002", "in", KE) ", " SA_GCM("0x2003", "out", KE) " ); } ); };");
	CU_ASSERT_FATAL(m1 != NULL && m2 != NULL && m3 != NULL && bad1 != NULL && bad2 != NULL);

	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m1, err, sizeof(err)), 0);
	ipsec.tunnels[3]->out_sa->seq_out = 77;
	uint64_t lost;
	CU_ASSERT_EQUAL(ipsec_replay_update(&spi_lookup(0x1001)->replay, 300, &lost), IPSEC_REPLAY_OK);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m2, err, sizeof(err)), 0);
	CU_ASSERT(ipsec.tunnels[3]->out_sa->seq_out == 0 && spi_lookup(0x1001)->replay.top == 0);
	ipsec.tunnels[3]->out_sa->seq_out = 9;
	/* rollback (or a failed commit's undo re-applying the old model) */
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 77);
	CU_ASSERT_EQUAL(spi_lookup(0x1001)->replay.top, 300);
	ipsec.tunnels[3]->out_sa->seq_out = 80;
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 9);

	/* refused whole, nothing changed; a key of a refused section is not bound to the SPI it had there */
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad1, err, sizeof(err)), EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "key already used by another SA since start-up"));
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->seq_out, 9);
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad2, err, sizeof(err)), EEXIST);
	CU_ASSERT_EQUAL(ipsec_cp.n_sas, 2);
	struct ipsec_sa_conf ke = sa_conf(0x2004, IPSEC_DIR_OUT, 0);
	char why[64];
	ipsec_hex_parse(KE, ke.key, sizeof(ke.key), why, sizeof(why));
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &ke, false, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2004, err, sizeof(err)), 0);

	/* renamed tunnel: the SAs keep going on the new one */
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m3, err, sizeof(err)), 0);
	CU_ASSERT(ipsec.tunnels[3] == NULL && ipsec.tunnels[5] != NULL);
	CU_ASSERT_EQUAL(ipsec.tunnels[5]->out_sa->seq_out, 80);
	CU_ASSERT_EQUAL(spi_lookup(0x1001)->replay.top, 300);
	/* a key installed on a tunnel the section keeps cannot appear on another one */
	struct ipsec_conf *bad3 = model_load("ipsec: { max_sas = 16; tunnels = ( " T9 "sas = ( "
					     SA_GCM("0x1001", "in", KA) ", " SA_GCM("0x2001", "out", KB) " ); }, "
					     T1 "sas = ( " SA_GCM("0x2001", "out", KB) " ); } ); };");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad3);
	CU_ASSERT_EQUAL(ipsec_cp_apply(bad3, err, sizeof(err)), EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "installed already"));
	CU_ASSERT_EQUAL(ipsec_cp.n_tunnels, 1);
	ipsec_conf_free(bad3);
	ipsec_conf_free(m1);
	ipsec_conf_free(m2);
	ipsec_conf_free(m3);
	ipsec_conf_free(bad1);
	ipsec_conf_free(bad2);
}

/* ---- no ipsec section at boot: not running ---- */

static void test_not_configured(void)
{
	ipsec_cp_fini();
	core_reset();
	struct npsgw_conf conf = {0}; /* no "ipsec" section */
	CU_ASSERT_EQUAL_FATAL(ipsec_nf_init(&conf, err, sizeof(err)), 0);
	CU_ASSERT(!ipsec_cp.running && ipsec.workers == NULL && ipsec.tunnels == NULL && ipsec.spi == NULL &&
		  ipsec.peer_ring == NULL); /* nothing allocated */
	struct ipsec_tunnel_conf tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), ENOTSUP);
	CU_ASSERT_STRING_EQUAL(err, "IPsec is not configured at boot: add an ipsec section (ipsec: { };) and restart");
	CU_ASSERT_EQUAL(sa_add("site1", 0x1001, IPSEC_DIR_IN, 1), ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ipsec: { };"));
	CU_ASSERT_EQUAL(ipsec_cp_sa_del(NULL, IPSEC_DIR_IN, 0x1001, err, sizeof(err)), ENOTSUP);
	CU_ASSERT_EQUAL(ipsec_nf_apply(NULL, err, sizeof(err)), 0);
	struct ipsec_conf *m = model_load("ipsec: { };");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(ipsec_nf_apply(m, err, sizeof(err)), ENOTSUP); /* a reload cannot add it: sized at boot */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "restart"));
	ipsec_conf_free(m);
	CU_ASSERT_PTR_NULL(ipsec_nf_export());
	ipsec_nf_poll(now_ms);
	ipsec_cp_iface_changed();
	ipsec_nf_fini();
}

/* ---- health metrics ---- */

struct metric_rows {
	unsigned n, families;
	char last_family[64];
	struct {
		char family[64], type[8], interface[32], vrf[32];
		uint64_t value;
	} row[64];
};

static void metric_add(void *sink, const char *family, const char *type, const char *help, const char *interface,
		       const char *vrf, uint64_t value)
{
	struct metric_rows *m = sink;
	if (strcmp(m->last_family, family) != 0) {
		m->families++;
		snprintf(m->last_family, sizeof(m->last_family), "%s", family);
	}
	CU_ASSERT(help != NULL && help[0] != '\0');
	if (m->n < 64) {
		snprintf(m->row[m->n].family, sizeof(m->row[0].family), "%s", family);
		snprintf(m->row[m->n].type, sizeof(m->row[0].type), "%s", type);
		snprintf(m->row[m->n].interface, sizeof(m->row[0].interface), "%s", interface);
		snprintf(m->row[m->n].vrf, sizeof(m->row[0].vrf), "%s", vrf);
		m->row[m->n++].value = value;
	}
}

static uint64_t metric(const struct metric_rows *m, const char *family, const char *interface)
{
	for (unsigned i = 0; i < m->n; i++)
		if (strcmp(m->row[i].family, family) == 0 && strcmp(m->row[i].interface, interface) == 0)
			return m->row[i].value;
	return UINT64_MAX;
}

/* site1's counters as test_metrics set them on its SAs (rx 7, tx bytes 1500, icv 2, replay 5, lost 6, decrypt 7). */
static void site1_counters_expect(const struct metric_rows *m)
{
	CU_ASSERT_EQUAL(metric(m, "npsgw_ipsec_tunnel_rx_packets_total", "site1"), 7);
	CU_ASSERT_EQUAL(metric(m, "npsgw_ipsec_tunnel_tx_bytes_total", "site1"), 1500);
	CU_ASSERT_EQUAL(metric(m, "npsgw_ipsec_tunnel_icv_failed_total", "site1"), 2);
	CU_ASSERT_EQUAL(metric(m, "npsgw_ipsec_tunnel_replay_total", "site1"), 5);
	CU_ASSERT_EQUAL(metric(m, "npsgw_ipsec_tunnel_lost_total", "site1"), 6);
	CU_ASSERT_EQUAL(metric(m, "npsgw_ipsec_tunnel_decrypt_errors_total", "site1"), 7);
}

static void test_metrics(void)
{
	fresh();
	struct ipsec_tunnel_conf tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	tc = tunnel("site2", "192.0.2.1", "198.51.100.3");
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sa_add("site1", 0x2001, IPSEC_DIR_OUT, 1), 0);
	CU_ASSERT_EQUAL(sa_add("site1", 0x1001, IPSEC_DIR_IN, 2), 0);
	struct ipsec_sa *in = spi_lookup(0x1001), *out = ipsec.tunnels[3]->out_sa;
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	/* a tunnel's counters are its SAs' */
	in->stats[0].packets = 3;
	in->stats[1].packets = 4;
	out->stats[1].bytes = 1500;
	in->stats[0].icv_failed = 2;
	in->stats[1].replay = 5;
	in->replay.lost = 6;
	in->stats[1].decrypt_errors = 7;
	ipsec.tunnels[4]->stats[0].no_sa = 8;
	struct metric_rows m = {0};
	ipsec_tunnel_metrics(metric_add, &m);
	CU_ASSERT_EQUAL(m.families, 11); /* 9 counters, peer moves, up: each once, tunnels together */
	CU_ASSERT_EQUAL(m.n, 22);
	site1_counters_expect(&m);
	CU_ASSERT_EQUAL(metric(&m, "npsgw_ipsec_tunnel_no_sa_total", "site2"), 8);
	CU_ASSERT_EQUAL(metric(&m, "npsgw_ipsec_tunnel_up", "site1"), 1);
	CU_ASSERT_EQUAL(metric(&m, "npsgw_ipsec_tunnel_up", "site2"), 0); /* no outbound SA */
	CU_ASSERT(strcmp(m.row[0].vrf, "t1") == 0 && strcmp(m.row[0].type, "counter") == 0);
	CU_ASSERT_STRING_EQUAL(m.row[m.n - 1].type, "gauge");
	/* its SAs replaced (new keys: fresh SA counters) and deleted (a rekey's old pair): the counters stay the
	 * tunnel's */
	struct ipsec_sa_conf rc = sa_conf(0x1001, IPSEC_DIR_IN, 3);
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &rc, err, sizeof(err)), 0);
	CU_ASSERT(spi_lookup(0x1001) != in && spi_lookup(0x1001)->rx_packets == 0);
	spi_lookup(0x1001)->rx_packets = 10;
	m = (struct metric_rows){0};
	ipsec_tunnel_metrics(metric_add, &m);
	CU_ASSERT_EQUAL(metric(&m, "npsgw_ipsec_tunnel_rx_packets_total", "site1"), 17);
	CU_ASSERT_EQUAL(metric(&m, "npsgw_ipsec_tunnel_lost_total", "site1"), 6);
	spi_lookup(0x1001)->rx_packets = 0;
	CU_ASSERT_EQUAL(ipsec_cp_sa_del(NULL, IPSEC_DIR_IN, 0x1001, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2001, err, sizeof(err)), 0);
	m = (struct metric_rows){0};
	ipsec_tunnel_metrics(metric_add, &m);
	site1_counters_expect(&m);
	/* not running: nothing */
	ipsec_cp_fini();
	m = (struct metric_rows){0};
	ipsec_tunnel_metrics(metric_add, &m);
	CU_ASSERT_EQUAL(m.n, 0);
}

/* ---- poll: lifetimes, exhaustion, peer moves ---- */

/* A control-loop turn a lifetime period after the last: the walk may run (IPSEC_LIFETIME_PERIOD_MS). */
static void poll_turn(void)
{
	now_ms += IPSEC_LIFETIME_PERIOD_MS;
	ipsec_cp_poll(now_ms);
}

static void test_poll(void)
{
	fresh();
	struct ipsec_tunnel_conf tc = tunnel("site1", "192.0.2.1", "198.51.100.2");
	tc.follow_peer = true;
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_tunnel_add(&tc, err, sizeof(err)), 0);
	struct ipsec_sa_conf c = sa_conf(0x1001, IPSEC_DIR_IN, 1);
	c.soft_packets = 10;
	c.hard_packets = 20;
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &c, false, 0, err, sizeof(err)), 0);
	c = sa_conf(0x2001, IPSEC_DIR_OUT, 2);
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &c, false, 0, err, sizeof(err)), 0);
	struct ipsec_sa *in = spi_lookup(0x1001), *out = ipsec.tunnels[3]->out_sa;

	in->stats[0].packets = 6;
	poll_turn();
	CU_ASSERT_EQUAL(n_events, 0);
	in->stats[1].packets = 4; /* 10 over two workers */
	ipsec_cp_poll(now_ms + IPSEC_LIFETIME_PERIOD_MS - 1); /* a turn within the period: no walk, no event */
	CU_ASSERT_EQUAL(n_events, 0);
	poll_turn();
	poll_turn();
	CU_ASSERT_EQUAL_FATAL(n_events, 1);
	CU_ASSERT(strcmp(events[0].what, "soft") == 0 && strcmp(events[0].limit, "packets") == 0 &&
		  events[0].spi == 0x1001);
	CU_ASSERT(!in->expired);
	in->stats[1].packets = 14;
	poll_turn();
	poll_turn();
	CU_ASSERT_EQUAL_FATAL(n_events, 2);
	CU_ASSERT(strcmp(events[1].what, "hard") == 0 && in->expired);
	/* raising the hard limit above the count brings the SA back, armed again */
	c = sa_conf(0x1001, IPSEC_DIR_IN, 1);
	c.soft_packets = 10;
	c.hard_packets = 100;
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), 0);
	CU_ASSERT(!in->expired && in->soft_reported && !in->hard_reported);
	poll_turn();
	CU_ASSERT_EQUAL(n_events, 2);

	__atomic_store_n(&out->seq_exhausted, 1, __ATOMIC_RELAXED);
	poll_turn();
	poll_turn();
	CU_ASSERT_EQUAL_FATAL(n_events, 3);
	CU_ASSERT(strcmp(events[2].what, "exhausted") == 0 && events[2].spi == 0x2001);
	/* a sequence limit that is the hard packet lifetime: reported as the hard lifetime, not exhaustion */
	c = sa_conf(0x2002, IPSEC_DIR_OUT, 3);
	c.hard_packets = 10;
	CU_ASSERT_EQUAL(ipsec_cp_sa_add("site1", &c, false, 0, err, sizeof(err)), 0);
	struct ipsec_sa *hard_out = ipsec.tunnels[3]->out_sa;
	CU_ASSERT_FATAL(hard_out->spi == 0x2002 && hard_out->seq_limit_hard);
	hard_out->stats[0].packets = 10;
	__atomic_store_n(&hard_out->seq_exhausted, 1, __ATOMIC_RELAXED);
	poll_turn();
	poll_turn();
	CU_ASSERT_EQUAL_FATAL(n_events, 4);
	CU_ASSERT(strcmp(events[3].what, "hard") == 0 && events[3].spi == 0x2002 && hard_out->expired);
	CU_ASSERT_EQUAL(ipsec_cp_sa_del("site1", IPSEC_DIR_OUT, 0x2002, err, sizeof(err)), 0);
	n_events = 3;

	/* a peer move: published, one event; repeats and strangers ignored */
	const struct ipsec_tunnel_params *p0 = ipsec.tunnels[3]->params;
	uint32_t gen0 = p0->gen; /* p0 is the home slot: rewritten by the next change */
	struct ipsec_peer_move mv = {.iface = 3, .port = 0, .spi = 0x1001, .family = 4, .addr = {203, 0, 113, 9},
				     .gen = p0->gen};
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	struct ipsec_peer_move stranger = mv;
	stranger.spi = 0x9999;
	stranger.addr[3] = 66;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &stranger, sizeof(stranger)), 0);
	poll_turn();
	const struct ipsec_tunnel_params *p1 = ipsec.tunnels[3]->params;
	CU_ASSERT(p1->remote[0] == 203 && p1->remote[3] == 9 && p1->remote_port == 4500);
	CU_ASSERT(p1->gen == gen0 + 1 && !p1->udp_encap && !events[3].udp_encap_on);
	CU_ASSERT_EQUAL_FATAL(n_events, 4);
	CU_ASSERT(strcmp(events[3].what, "peer_moved") == 0 && events[3].old_addr.bytes[0] == 198 &&
		  events[3].new_addr.bytes[3] == 9);
	CU_ASSERT(ipsec_cp.peer_moves_applied == 1 && ipsec_cp.peer_moves_ignored == 2);
	/* the configured peer stays the configuration */
	struct ipsec_conf *x = ipsec_cp_export();
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_fmt(&x->tunnels[0].remote, buf, sizeof(buf)), "198.51.100.2");
	ipsec_conf_free(x);
	/* moves queued before a `tunnel set remote` are stale: the controller's word wins */
	uint32_t gen1 = p1->gen;
	mv.gen = gen1;
	mv.addr[3] = 11;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	struct ipsec_tunnel_change set = {.has_remote = true};
	addr_parse("192.0.2.77", &set.remote);
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &set, err, sizeof(err)), 0);
	const struct ipsec_tunnel_params *p2 = ipsec.tunnels[3]->params;
	CU_ASSERT_EQUAL(p2->gen, gen1 + 1);
	uint32_t gen2 = p2->gen;
	poll_turn();
	CU_ASSERT(ipsec.tunnels[3]->params->gen == gen2 && p2->remote[3] == 77 && n_events == 4);
	CU_ASSERT_EQUAL(ipsec_cp.peer_moves_ignored, 3);
	/* a move in UDP to a tunnel without udp_encap: the peer went behind a NAT, udp_encap turns on */
	mv = (struct ipsec_peer_move){.iface = 3, .port = 61000, .spi = 0x1001, .family = 4, .udp = 1,
				      .addr = {203, 0, 113, 12}, .gen = p2->gen};
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	poll_turn();
	const struct ipsec_tunnel_params *p3 = ipsec.tunnels[3]->params;
	CU_ASSERT(p3->udp_encap && p3->remote_port == 61000 && p3->remote[3] == 12 && p3->gen == gen2 + 1);
	uint32_t gen3 = p3->gen;
	CU_ASSERT_EQUAL_FATAL(n_events, 5);
	CU_ASSERT(events[4].udp_encap_on && events[4].new_port == 61000);
	/* the same peer again in plain ESP: stays in UDP (NAT-T peers take both) */
	mv.udp = 0;
	mv.port = 0;
	mv.gen = p3->gen;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	poll_turn();
	CU_ASSERT(ipsec.tunnels[3]->params->gen == gen3 && n_events == 5);
	x = ipsec_cp_export();
	CU_ASSERT(!x->tunnels[0].udp_encap); /* learned, not configuration */
	ipsec_conf_free(x);
	/* follow_peer off: moves are ignored */
	struct ipsec_tunnel_change ch = {.has_follow_peer = true, .follow_peer = false};
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &ch, err, sizeof(err)), 0);
	mv.addr[3] = 10;
	mv.gen = ipsec.tunnels[3]->params->gen;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	poll_turn();
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->params->remote[3], 12);
	CU_ASSERT_EQUAL(n_events, 5);
}

int main(void)
{
	char *eal_args[] = {"test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
			    "-l", "0", "--file-prefix=ipscp_unit"};
	if (rte_eal_init((int)RTE_DIM(eal_args), eal_args) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	dp.n_workers = 2;
	dp.max_ifaces = 16;
	dp.max_vrfs = 4;
	dp.ifaces = iface_table;
	dp.vrfs = vrf_table;
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"tunnels: add, set, del", test_tunnels},
		{"SAs: add, replace, del, inbound set, outbound switch", test_sas},
		{"max_sas", test_capacity},
		{"dormant tunnels come back with their SAs", test_dormant},
		{"whole sections: apply, keep, refuse, export", test_apply},
		{"poll: lifetimes, exhaustion, peer moves", test_poll},
		{"keys since start-up: sa replace/del/add, refusals", test_keys},
		{"no ipsec section at boot: not running, refused", test_not_configured},
		{"per-tunnel health metrics", test_metrics},
		{"keys since start-up: rollback, refused sections, renamed tunnel", test_keys_apply},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/ipsec/ipsec_cp", NULL, NULL);
	for (size_t i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	ipsec_cp_fini();
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
