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
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "nf/ipsec/ipsec_cp.c"
#include "nf/ipsec/ipsec_cp_apply.c"
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

void dp_synchronize(void)
{
	syncs++;
}

int nf_kind_index(const char *kind)
{
	return strcmp(kind, "ipsec") == 0 ? IPSEC_KIND_INDEX : -1;
}

uint64_t cp_now_ms(void)
{
	return now_ms;
}

int ipsec_worker_init(struct ipsec_worker *w, unsigned index, int socket, char *err, size_t errlen)
{
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
			    const struct addr *new_addr, uint16_t new_port, uint32_t spi)
{
	if (n_events < 16) {
		struct recorded_event *e = &events[n_events++];
		snprintf(e->what, sizeof(e->what), "peer_moved");
		e->spi = spi;
		e->old_addr = *old_addr;
		e->new_addr = *new_addr;
		e->old_port = old_port;
		e->new_port = new_port;
	}
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

static struct ipsec_sa_conf sa_conf(uint32_t spi, uint8_t dir, uint8_t last_key_byte)
{
	struct ipsec_sa_conf sa = {.spi = spi, .dir = dir, .alg = IPSEC_ALG_AES_GCM_128, .replay_window = 1024};
	char why[64];
	sa.key_len = (uint8_t)ipsec_hex_parse(K20, sa.key, sizeof(sa.key), why, sizeof(why));
	sa.key[19] = last_key_byte;
	return sa;
}

static struct ipsec_sa *spi_lookup(uint32_t spi)
{
	void *data = NULL;
	return rte_hash_lookup_data(ipsec.spi, &spi, &data) >= 0 ? data : NULL;
}

static void fresh(void)
{
	ipsec_cp_fini();
	core_reset();
	n_events = 0;
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_init(16, 2, 16, err, sizeof(err)), 0);
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
	CU_ASSERT(p->transport_vrf == 0 && p->family == 4 && p->udp_encap && p->remote_port == 4501 && p->mss == 1300);
	CU_ASSERT(p->local[0] == 192 && p->local[3] == 1 && p->remote[0] == 198 && p->remote[3] == 2);

	/* set: one new params block, the old one after the workers let go */
	struct ipsec_tunnel_change ch = {.has_remote = true, .has_mss = true, .mss_clamp = 1200};
	addr_parse("203.0.113.7", &ch.remote);
	unsigned s0 = syncs;
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &ch, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_EQUAL(t->params, p);
	CU_ASSERT(t->params->remote[0] == 203 && t->params->mss == 1200 && t->params->remote_port == 4501);
	CU_ASSERT_EQUAL(syncs, s0 + 1);
	addr_parse("2001:db8::9", &ch.remote);
	p = t->params;
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &ch, err, sizeof(err)), EINVAL);
	CU_ASSERT_PTR_EQUAL(t->params, p);
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

	/* change: 0x1001 new key (replaced), 0x2001 lifetimes only (same object), new out 0x2002 (active), site2's
	 * options */
	struct ipsec_conf *m2 = model_load(
		"ipsec: { max_sas = 16; tunnels = ( " T1 "sas = ( " SA_GCM("0x1001", "in", KC) ", "
		"{ spi = 0x2001; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" KB "\"; hard_packets = 99; }, "
		SA_GCM("0x2002", "out", KA) " ); }, " T2 "follow_peer = false; mss_clamp = 1300; } ); };");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
	CU_ASSERT_EQUAL_FATAL(ipsec_cp_apply(m2, err, sizeof(err)), 0);
	struct ipsec_cp_tunnel *r1 = ipsec_cp_tunnel_find("site1");
	CU_ASSERT(spi_lookup(0x1001) != NULL && spi_lookup(0x1001) != in1);
	CU_ASSERT(r1->n_out == 3 && r1->out[0].sa == out1 && out1->hard_packets == 99);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->out_sa->spi, 0x2002);
	CU_ASSERT(ipsec.tunnels[4]->params->mss == 1300 && !ipsec.tunnels[4]->params->follow_peer);
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

/* ---- poll: lifetimes, exhaustion, peer moves ---- */

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
	ipsec_cp_poll(now_ms);
	CU_ASSERT_EQUAL(n_events, 0);
	in->stats[1].packets = 4; /* 10 over two workers */
	ipsec_cp_poll(now_ms);
	ipsec_cp_poll(now_ms);
	CU_ASSERT_EQUAL_FATAL(n_events, 1);
	CU_ASSERT(strcmp(events[0].what, "soft") == 0 && strcmp(events[0].limit, "packets") == 0 &&
		  events[0].spi == 0x1001);
	CU_ASSERT(!in->expired);
	in->stats[1].packets = 14;
	ipsec_cp_poll(now_ms);
	ipsec_cp_poll(now_ms);
	CU_ASSERT_EQUAL_FATAL(n_events, 2);
	CU_ASSERT(strcmp(events[1].what, "hard") == 0 && in->expired);
	/* raising the hard limit above the count brings the SA back, armed again */
	c = sa_conf(0x1001, IPSEC_DIR_IN, 1);
	c.soft_packets = 10;
	c.hard_packets = 100;
	CU_ASSERT_EQUAL(ipsec_cp_sa_replace("site1", &c, err, sizeof(err)), 0);
	CU_ASSERT(!in->expired && in->soft_reported && !in->hard_reported);
	ipsec_cp_poll(now_ms);
	CU_ASSERT_EQUAL(n_events, 2);

	__atomic_store_n(&out->seq_exhausted, 1, __ATOMIC_RELAXED);
	ipsec_cp_poll(now_ms);
	ipsec_cp_poll(now_ms);
	CU_ASSERT_EQUAL_FATAL(n_events, 3);
	CU_ASSERT(strcmp(events[2].what, "exhausted") == 0 && events[2].spi == 0x2001);

	/* a peer move: published, one event; repeats and strangers ignored */
	struct ipsec_peer_move mv = {.iface = 3, .port = 0, .spi = 0x1001, .family = 4, .addr = {203, 0, 113, 9}};
	const struct ipsec_tunnel_params *p0 = ipsec.tunnels[3]->params;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	struct ipsec_peer_move stranger = mv;
	stranger.spi = 0x9999;
	stranger.addr[3] = 66;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &stranger, sizeof(stranger)), 0);
	ipsec_cp_poll(now_ms);
	const struct ipsec_tunnel_params *p1 = ipsec.tunnels[3]->params;
	CU_ASSERT(p1 != p0 && p1->remote[0] == 203 && p1->remote[3] == 9 && p1->remote_port == 4500);
	CU_ASSERT_EQUAL_FATAL(n_events, 4);
	CU_ASSERT(strcmp(events[3].what, "peer_moved") == 0 && events[3].old_addr.bytes[0] == 198 &&
		  events[3].new_addr.bytes[3] == 9);
	CU_ASSERT(ipsec_cp.peer_moves_applied == 1 && ipsec_cp.peer_moves_ignored == 2);
	/* the configured peer stays the configuration */
	struct ipsec_conf *x = ipsec_cp_export();
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_fmt(&x->tunnels[0].remote, buf, sizeof(buf)), "198.51.100.2");
	ipsec_conf_free(x);
	/* follow_peer off: moves are ignored */
	struct ipsec_tunnel_change ch = {.has_follow_peer = true, .follow_peer = false};
	CU_ASSERT_EQUAL(ipsec_cp_tunnel_set("site1", &ch, err, sizeof(err)), 0);
	mv.addr[3] = 10;
	CU_ASSERT_EQUAL(rte_ring_enqueue_elem(ipsec.peer_ring, &mv, sizeof(mv)), 0);
	ipsec_cp_poll(now_ms);
	CU_ASSERT_EQUAL(ipsec.tunnels[3]->params->remote[3], 9);
	CU_ASSERT_EQUAL(n_events, 4);
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
