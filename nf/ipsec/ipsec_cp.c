/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec tunnel and SA operations (ipsec_cp.h): the tables the workers read (ipsec_sa.h) built at boot, one record
 * per tunnel, publication under RCU, and the add / set / del / replace operations the config apply
 * (ipsec_cp_apply.c), the control socket and the tests share. Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/cp.h"
#include "lib/conf/conf_int.h"
#include "nf/ipsec/ipsec_cp.h"
#include "nf/ipsec/ipsec_cp_int.h"
#include "nf/nf.h"

struct ipsec_cp ipsec_cp;

/* ---- retiring: what an operation unpublished, freed after one dp_synchronize() ---- */

struct retire_list {
	void **items;
	uint8_t *kinds;
	uint32_t *key_slots; /* RETIRE_SA: the SA's slot in the keys-seen table (its final state is saved there) */
	size_t n, cap;
};

enum { RETIRE_SA, RETIRE_TUNNEL, RETIRE_PARAMS, RETIRE_SPI_TABLE };

static struct retire_list retired;
/* something was unpublished: the next flush waits for the workers even with nothing to free */
static bool sync_pending;

static void retire_free_one(uint8_t kind, void *item, uint32_t key_slot)
{
	switch (kind) {
	case RETIRE_SA:
		ipsec_keys_release(key_slot, item);
		ipsec_sa_destroy(item);
		break;
	case RETIRE_TUNNEL:
		ipsec_tunnel_destroy(item);
		break;
	case RETIRE_PARAMS:
		rte_free(item);
		break;
	case RETIRE_SPI_TABLE:
		ipsec_spi_table_free(item);
		break;
	}
}

/* A retired SA's counters go to its tunnel (before anything is freed: the tunnel may be on the same list). */
static void retired_sa_fold(struct ipsec_sa *sa)
{
	if (sa->fold_into != NULL)
		ipsec_tunnel_fold(sa->fold_into, sa);
}

/* Tunnels whose published params are a separate block (ipsec_cp_params_publish): their number, for the flush. */
static size_t homes_pending;

/*
 * After a synchronize no worker reads the home slot of a tunnel whose params moved to a block: the block's values
 * go home, the home is published again, and the blocks are freed once the workers let go of them too (a second
 * synchronize, once per flush however many tunnels changed).
 */
static void homes_return(void)
{
	struct ipsec_tunnel_params *blocks[64];
	size_t n = 0;
	for (size_t i = 0; i < ipsec_cp.n_tunnels && homes_pending > 0; i++) {
		struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		if (!rec->home_pending)
			continue;
		struct ipsec_tunnel *t = rec->t;
		struct ipsec_tunnel_params *block = (struct ipsec_tunnel_params *)t->params;
		t->home = *block;
		__atomic_store_n(&t->params, &t->home, __ATOMIC_RELEASE);
		rec->home_pending = false;
		homes_pending--;
		if (n == RTE_DIM(blocks)) {
			dp_synchronize();
			for (size_t k = 0; k < n; k++)
				rte_free(blocks[k]);
			n = 0;
		}
		blocks[n++] = block;
	}
	if (n > 0) {
		dp_synchronize();
		for (size_t k = 0; k < n; k++)
			rte_free(blocks[k]);
	}
}

void ipsec_cp_retire_flush(void)
{
	if (retired.n == 0 && !sync_pending)
		return;
	dp_synchronize();
	sync_pending = false;
	for (size_t i = 0; i < retired.n; i++)
		if (retired.kinds[i] == RETIRE_SA)
			retired_sa_fold(retired.items[i]);
	for (size_t i = 0; i < retired.n; i++)
		retire_free_one(retired.kinds[i], retired.items[i], retired.key_slots[i]);
	retired.n = 0;
	if (homes_pending > 0)
		homes_return();
}

static void retire_slot(uint8_t kind, void *item, uint32_t key_slot)
{
	if (item == NULL)
		return;
	if (retired.n == retired.cap) {
		size_t cap = retired.cap ? retired.cap * 2 : 64;
		void **items = realloc(retired.items, cap * sizeof(*items));
		if (items != NULL)
			retired.items = items;
		uint8_t *kinds = items != NULL ? realloc(retired.kinds, cap) : NULL;
		if (kinds != NULL)
			retired.kinds = kinds;
		uint32_t *slots = kinds != NULL ? realloc(retired.key_slots, cap * sizeof(*slots)) : NULL;
		if (slots != NULL)
			retired.key_slots = slots;
		if (items == NULL || kinds == NULL || slots == NULL) {
			/* no room to defer: wait for the workers now, then free everything including this one */
			ipsec_cp_retire_flush();
			dp_synchronize();
			if (kind == RETIRE_SA)
				retired_sa_fold(item);
			retire_free_one(kind, item, key_slot);
			return;
		}
		retired.cap = cap;
	}
	retired.items[retired.n] = item;
	retired.key_slots[retired.n] = key_slot;
	retired.kinds[retired.n++] = kind;
}

static void retire(uint8_t kind, void *item)
{
	retire_slot(kind, item, 0);
}

/* ---- boot ---- */

int ipsec_cp_init(const struct ipsec_conf *c, unsigned n_workers, uint32_t max_ifaces, char *err, size_t errlen)
{
	uint32_t max_sas = c->max_sas;
	memset(&ipsec_cp, 0, sizeof(ipsec_cp));
	memset(&ipsec, 0, sizeof(ipsec));
	ipsec_keys_reset(); /* a new secret: fingerprints of this run mean nothing in another */
	if (n_workers == 0 || n_workers > IPSEC_MAX_WORKERS) {
		snprintf(err, errlen, "ipsec: %u workers (expected 1..%d)", n_workers, IPSEC_MAX_WORKERS);
		return EINVAL;
	}
	ipsec.n_workers = n_workers;
	ipsec.max_ifaces = max_ifaces;
	ipsec.tunnels = rte_zmalloc("ipsec-tunnels", sizeof(*ipsec.tunnels) * max_ifaces, RTE_CACHE_LINE_SIZE);
	ipsec_cp.by_iface = calloc(max_ifaces, sizeof(*ipsec_cp.by_iface));
	ipsec.spi = ipsec_spi_table_create(max_sas, (int)rte_socket_id());
	ipsec.peer_ring = rte_ring_create_elem("ipsec-peer", sizeof(struct ipsec_peer_move), IPSEC_PEER_RING_SIZE,
					       (int)rte_socket_id(), RING_F_SC_DEQ);
	struct ipsec_worker *ws = rte_zmalloc("ipsec-workers", sizeof(*ws) * n_workers, RTE_CACHE_LINE_SIZE);
	if (ipsec.tunnels == NULL || ipsec_cp.by_iface == NULL || ipsec.spi == NULL || ipsec.peer_ring == NULL ||
	    ws == NULL) {
		rte_free(ws);
		ipsec_cp_fini();
		snprintf(err, errlen,
			 "ipsec: out of memory for the tables (%u SAs, %u interfaces): raise eal.memory_mb or lower "
			 "ipsec.max_sas", max_sas, max_ifaces);
		return ENOMEM;
	}
	uint64_t reass_cycles = (uint64_t)c->reassembly_timeout_ms * rte_get_tsc_hz() / 1000;
	for (unsigned i = 0; i < n_workers; i++) {
		int socket = (int)rte_lcore_to_socket_id(dp.workers[i].lcore);
		if (ipsec_worker_init(&ws[i], i, socket, c->reassembly_max, reass_cycles, err, errlen) != 0) {
			for (unsigned k = 0; k < i; k++)
				ipsec_worker_fini(&ws[k]);
			rte_free(ws);
			ipsec_cp_fini();
			return ENOMEM;
		}
	}
	ipsec_cp.max_sas = max_sas;
	ipsec_cp.reassembly_max = c->reassembly_max;
	ipsec_cp.reassembly_timeout_ms = c->reassembly_timeout_ms;
	ipsec_cp.running = true;
	__atomic_store_n(&ipsec.workers, ws, __ATOMIC_RELEASE);
	return 0;
}

static void record_free(struct ipsec_cp_tunnel *rec);
static void home_drop(struct ipsec_cp_tunnel *rec, bool now);

void ipsec_cp_fini(void)
{
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++)
		record_free(ipsec_cp.tunnels[i]);
	ipsec_cp.n_tunnels = 0;
	homes_pending = 0;
	/* the workers are stopped: nothing to wait for */
	for (size_t i = 0; i < retired.n; i++)
		retire_free_one(retired.kinds[i], retired.items[i], retired.key_slots[i]);
	free(retired.items);
	free(retired.kinds);
	free(retired.key_slots);
	retired = (struct retire_list){0};
	struct ipsec_worker *ws = ipsec.workers;
	for (unsigned i = 0; ws != NULL && i < ipsec.n_workers; i++)
		ipsec_worker_fini(&ws[i]);
	rte_free(ws);
	ipsec_spi_table_free(ipsec.spi);
	rte_ring_free(ipsec.peer_ring);
	rte_free(ipsec.tunnels);
	free(ipsec_cp.tunnels);
	free(ipsec_cp.by_iface);
	memset(&ipsec, 0, sizeof(ipsec));
	memset(&ipsec_cp, 0, sizeof(ipsec_cp));
	ipsec_keys_free();
}

/* ---- records ---- */

/* Drop entry s of rec: now (no worker can hold it, and rec goes too), or once the workers let go. */
static void cp_sa_drop(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *s, bool now)
{
	if (s->conf != NULL) {
		ipsec_sa_conf_wipe(s->conf);
		free(s->conf);
	}
	ipsec_keys_uninstalled(s->key_slot);
	if (now) {
		ipsec_keys_release(s->key_slot, s->sa);
		ipsec_sa_destroy(s->sa);
	} else {
		s->sa->fold_into = rec->t;
		retire_slot(RETIRE_SA, s->sa, s->key_slot);
	}
	ipsec_cp.n_sas--;
	*s = (struct ipsec_cp_sa){0};
}

void ipsec_cp_tunnel_sum(const struct ipsec_cp_tunnel *rec, struct ipsec_tunnel_stats *out)
{
	struct ipsec_sa *sas[IPSEC_CONF_SA_IN_MAX + IPSEC_CONF_SA_OUT_MAX];
	unsigned n = 0;
	for (unsigned i = 0; i < rec->n_in; i++)
		sas[n++] = rec->in[i].sa;
	for (unsigned i = 0; i < rec->n_out; i++)
		sas[n++] = rec->out[i].sa;
	ipsec_tunnel_sum(rec->t, sas, n, out);
}

/* rec goes: a params block not yet taken home goes with it (now: no worker can hold it). */
static void home_drop(struct ipsec_cp_tunnel *rec, bool now)
{
	if (!rec->home_pending)
		return;
	void *block = (void *)rec->t->params;
	if (now)
		rte_free(block);
	else
		retire(RETIRE_PARAMS, block);
	rec->home_pending = false;
	homes_pending--;
}

/* Free a record that is not published (fini, or a record never published). */
static void record_free(struct ipsec_cp_tunnel *rec)
{
	home_drop(rec, true);
	for (unsigned i = 0; i < rec->n_in; i++)
		cp_sa_drop(rec, &rec->in[i], true);
	for (unsigned i = 0; i < rec->n_out; i++)
		cp_sa_drop(rec, &rec->out[i], true);
	ipsec_tunnel_destroy(rec->t);
	free(rec);
}

struct ipsec_cp_tunnel *ipsec_cp_tunnel_find(const char *interface)
{
	const struct iface *ifc = iface_by_name(interface);
	struct ipsec_cp_tunnel *rec = ifc != NULL ? ipsec_cp_tunnel_of_iface(ifc->id) : NULL;
	if (rec != NULL && strcmp(rec->conf.interface, interface) == 0)
		return rec;
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++)
		if (strcmp(ipsec_cp.tunnels[i]->conf.interface, interface) == 0)
			return ipsec_cp.tunnels[i];
	return NULL;
}

struct ipsec_cp_tunnel *ipsec_cp_tunnel_of_iface(uint16_t iface)
{
	return ipsec_cp.by_iface != NULL && iface < ipsec.max_ifaces ? ipsec_cp.by_iface[iface] : NULL;
}

bool ipsec_cp_sa_is_active(const struct ipsec_cp_tunnel *rec, const struct ipsec_cp_sa *s)
{
	return rec->active_out >= 0 && &rec->out[rec->active_out] == s;
}

/* The registry's kind number of ipsec interfaces (struct iface.tunnel_fn), 0 when IPsec is not registered. */
static uint8_t ipsec_kind(void)
{
	int i = nf_kind_index("ipsec");
	return i >= 0 ? (uint8_t)(i + 1) : 0;
}

int ipsec_cp_resolve(const struct ipsec_tunnel_conf *tc, const struct iface **ifc_out, uint32_t *tvrf,
		     char b[IPSEC_WHY_MAX])
{
	const struct iface *ifc = iface_by_name(tc->interface);
	const struct vrf *tv = vrf_by_name(tc->transport_vrf);
	uint8_t kind = ipsec_kind();
	if (ifc == NULL) {
		snprintf(b, IPSEC_WHY_MAX, "interface %s does not exist", tc->interface);
	} else if (kind == 0 || ifc->tunnel_fn != kind) {
		snprintf(b, IPSEC_WHY_MAX, "interface %s is not of kind ipsec", tc->interface);
	} else if (tv == NULL) {
		snprintf(b, IPSEC_WHY_MAX, "transport VRF %s does not exist", tc->transport_vrf);
	} else {
		*ifc_out = ifc;
		*tvrf = tv->slot;
		return 0;
	}
	return ENOENT;
}

void ipsec_cp_dormant(struct ipsec_cp_tunnel *rec, const char *why)
{
	snprintf(rec->dormant_why, sizeof(rec->dormant_why), "%s", why);
}

/* The outer side of a tunnel from its conf, its peer now and its transport VRF slot. */
static void params_fill(struct ipsec_tunnel_params *p, const struct ipsec_tunnel_conf *c, const struct addr *remote,
			uint16_t remote_port, bool udp_encap, uint32_t tvrf)
{
	memset(p, 0, sizeof(*p));
	p->transport_vrf = tvrf;
	p->family = c->local.family;
	p->udp_encap = udp_encap;
	p->follow_peer = c->follow_peer;
	p->mss = c->mss_clamp;
	p->remote_port = remote_port;
	memcpy(p->local, c->local.bytes, c->local.family == 4 ? 4 : 16);
	memcpy(p->remote, remote->bytes, remote->family == 4 ? 4 : 16);
}

/* A params block for an outer side (NULL when out of memory). */
struct ipsec_tunnel_params *ipsec_cp_params_make(const struct ipsec_tunnel_conf *c, const struct addr *remote,
						 uint16_t remote_port, bool udp_encap, uint32_t tvrf)
{
	struct ipsec_tunnel_params *p = rte_malloc("ipsec-params", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (p != NULL)
		params_fill(p, c, remote, remote_port, udp_encap, tvrf);
	return p;
}

/*
 * Publish p as the outer side of rec's tunnel; the workers move to it at once. Its values go to the tunnel's home
 * slot (the first line, beside the pointers) at the next retire flush, once no worker reads the old home: one grace
 * period per flush, not per tunnel (config apply and peer moves change many at once). A block published before and
 * not yet home is retired. Each block gets the next generation: a peer move the workers posted against an older one
 * is stale (ipsec_cp_poll.c).
 */
void ipsec_cp_params_publish(struct ipsec_cp_tunnel *rec, struct ipsec_tunnel_params *p)
{
	struct ipsec_tunnel *t = rec->t;
	const struct ipsec_tunnel_params *old = t->params;
	p->gen = ++rec->params_gen;
	__atomic_store_n(&t->params, p, __ATOMIC_RELEASE);
	if (rec->home_pending) {
		retire(RETIRE_PARAMS, (void *)old);
	} else {
		rec->home_pending = true;
		homes_pending++;
	}
	sync_pending = true; /* the flush takes the block home */
}

/* Publish a new params block from rec's conf and peer (published tunnels). ENOMEM when none could be built. */
int ipsec_cp_params_republish(struct ipsec_cp_tunnel *rec)
{
	if (!rec->published)
		return 0;
	struct ipsec_tunnel_params *p = ipsec_cp_params_make(&rec->conf, &rec->remote, rec->remote_port,
							     rec->udp_encap, rec->transport_vrf);
	if (p == NULL)
		return ENOMEM;
	ipsec_cp_params_publish(rec, p);
	return 0;
}

static void in_sa_list_sync(struct ipsec_cp_tunnel *rec)
{
	for (unsigned i = 0; i < IPSEC_TUNNEL_IN_SA_MAX; i++)
		rec->t->in_sa[i] = i < rec->n_in ? rec->in[i].sa : NULL;
}

/*
 * Put an inbound SA in the SPI table (published tunnels). 0, ENOSPC (max_sas live SPIs, or the SPI already there),
 * or ENOMEM (no memory for a fresh table). When the tombstones of deleted SPIs leave no room, a fresh table of the
 * live entries replaces the table (nf/ipsec/ipsec_spi.h); workers may read the old one until the next retire flush.
 */
static int spi_publish(struct ipsec_sa *sa)
{
	int rc = ipsec_spi_add(ipsec.spi, sa->spi, sa);
	if (rc == EAGAIN) {
		struct ipsec_spi_table *fresh = ipsec_spi_rebuild(ipsec.spi);
		if (fresh == NULL)
			return ENOMEM;
		/* unpublished before retired: retire() may free at once (no room on its list) */
		struct ipsec_spi_table *old = ipsec.spi;
		__atomic_store_n(&ipsec.spi, fresh, __ATOMIC_RELEASE);
		retire(RETIRE_SPI_TABLE, old);
		ipsec_cp.spi_table_rebuilds++;
		rc = ipsec_spi_add(fresh, sa->spi, sa);
	}
	return rc == 0 ? 0 : ENOSPC;
}

static void spi_unpublish(uint32_t spi)
{
	if (ipsec_spi_del(ipsec.spi, spi) == 0)
		sync_pending = true; /* a worker may still hold the SA: it is freed after the next synchronize */
}

/*
 * Publish rec if its names resolve (its objects are not visible to any worker: it was never published, or
 * unpublished and the workers synchronized since). Returns 0 (published or dormant), or ENOMEM/ENOSPC.
 */
int ipsec_cp_publish(struct ipsec_cp_tunnel *rec)
{
	const struct iface *ifc = NULL;
	uint32_t tvrf = 0;
	if (rec->published)
		return 0;
	if (ipsec_cp_resolve(&rec->conf, &ifc, &tvrf, rec->dormant_why) != 0)
		return 0;
	if (ipsec_cp.by_iface[ifc->id] != NULL) {
		ipsec_cp_dormant(rec, "another tunnel holds the interface id");
		return 0;
	}
	struct ipsec_tunnel *t = rec->t;
	if (rec->home_pending) { /* a block published before the tunnel was taken away: home is written below */
		retire(RETIRE_PARAMS, (void *)t->params);
		rec->home_pending = false;
		homes_pending--;
	}
	/* not visible to any worker since the last synchronize: written in place */
	params_fill(&t->home, &rec->conf, &rec->remote, rec->remote_port, rec->udp_encap, tvrf);
	t->home.gen = ++rec->params_gen;
	t->params = &t->home;
	t->iface = ifc->id;
	t->vrf = ifc->vrf;
	rec->transport_vrf = tvrf;
	for (unsigned i = 0; i < rec->n_in; i++)
		rec->in[i].sa->iface = ifc->id;
	for (unsigned i = 0; i < rec->n_out; i++)
		rec->out[i].sa->iface = ifc->id;
	t->out_sa = rec->active_out >= 0 ? rec->out[rec->active_out].sa : NULL;
	in_sa_list_sync(rec);
	/* the tunnel first: an inbound SA found by SPI leads to a published tunnel */
	__atomic_store_n(&ipsec.tunnels[ifc->id], t, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < rec->n_in; i++) {
		int rc = spi_publish(rec->in[i].sa);
		if (rc != 0) {
			for (unsigned k = 0; k < i; k++)
				spi_unpublish(rec->in[k].sa->spi);
			__atomic_store_n(&ipsec.tunnels[ifc->id], NULL, __ATOMIC_RELEASE);
			ipsec_cp_retire_flush();
			dp_synchronize(); /* a worker may have seen the tunnel: let go before it changes again */
			ipsec_cp_dormant(rec, rc == ENOMEM ? "out of memory (SPI table)" : "SPI table full");
			return rc;
		}
	}
	ipsec_cp.by_iface[ifc->id] = rec;
	rec->published = true;
	rec->dormant_why[0] = '\0';
	return 0;
}

/* Take rec away from the workers; its objects may change only after ipsec_cp_retire_flush(). */
void ipsec_cp_unpublish(struct ipsec_cp_tunnel *rec, const char *why)
{
	if (!rec->published)
		return;
	for (unsigned i = 0; i < rec->n_in; i++)
		spi_unpublish(rec->in[i].sa->spi);
	__atomic_store_n(&ipsec.tunnels[rec->t->iface], NULL, __ATOMIC_RELEASE);
	ipsec_cp.by_iface[rec->t->iface] = NULL;
	rec->published = false;
	ipsec_cp_dormant(rec, why);
	sync_pending = true;
}

/* ---- tunnels ---- */

static int check_running(char *err, size_t errlen)
{
	if (ipsec_cp.running)
		return 0;
	snprintf(err, errlen, IPSEC_NOT_CONFIGURED);
	return ENOTSUP;
}

static int tunnel_conf_check(const struct ipsec_tunnel_conf *tc, char *err, size_t errlen)
{
	char lb[ADDR_STR_MAX], rb[ADDR_STR_MAX];
	if (!conf_name_valid(tc->interface)) {
		snprintf(err, errlen, "bad interface name '%.40s' (expected [A-Za-z0-9_.-], 1..31 characters)",
			 tc->interface);
		return EINVAL;
	}
	if (tc->local.family != 4 && tc->local.family != 6) {
		snprintf(err, errlen, "no local address (expected an IPv4 or IPv6 address)");
		return EINVAL;
	}
	if (tc->local.family != tc->remote.family) {
		snprintf(err, errlen,
			 "remote %s and local %s are of different families (expected both IPv4 or both IPv6)",
			 addr_fmt(&tc->remote, rb, sizeof(rb)), addr_fmt(&tc->local, lb, sizeof(lb)));
		return EINVAL;
	}
	if (addr_equal(&tc->local, &tc->remote)) {
		snprintf(err, errlen, "remote %s is the local address (expected the peer's address)",
			 addr_fmt(&tc->remote, rb, sizeof(rb)));
		return EINVAL;
	}
	if (tc->mss_clamp != 0 && (tc->mss_clamp < IPSEC_CONF_MSS_MIN || tc->mss_clamp > IPSEC_CONF_MSS_MAX)) {
		snprintf(err, errlen, "mss_clamp %u is out of range (expected 0 (off) or %u..%u)", tc->mss_clamp,
			 IPSEC_CONF_MSS_MIN, IPSEC_CONF_MSS_MAX);
		return EINVAL;
	}
	if (tc->remote_port == 0) {
		snprintf(err, errlen, "remote_port 0 (expected 1..65535)");
		return EINVAL;
	}
	return 0;
}

/* Room for n more records in the list. 0 or ENOMEM. */
int ipsec_cp_reserve(size_t n)
{
	if (ipsec_cp.n_tunnels + n <= ipsec_cp.cap_tunnels)
		return 0;
	size_t cap = ipsec_cp.cap_tunnels ? ipsec_cp.cap_tunnels : 64;
	while (cap < ipsec_cp.n_tunnels + n)
		cap *= 2;
	struct ipsec_cp_tunnel **grown = realloc(ipsec_cp.tunnels, cap * sizeof(*grown));
	if (grown == NULL)
		return ENOMEM;
	ipsec_cp.tunnels = grown;
	ipsec_cp.cap_tunnels = cap;
	return 0;
}

struct ipsec_cp_tunnel *ipsec_cp_record_new(const struct ipsec_tunnel_conf *tc)
{
	struct ipsec_cp_tunnel *rec = calloc(1, sizeof(*rec));
	if (rec == NULL)
		return NULL;
	rec->conf = *tc;
	rec->conf.sas = NULL;
	rec->conf.n_sas = 0;
	rec->remote = tc->remote;
	rec->remote_port = tc->remote_port;
	rec->udp_encap = tc->udp_encap;
	rec->active_out = -1;
	ipsec_cp_dormant(rec, "not published yet");
	rec->t = ipsec_tunnel_create(0, 0, ipsec.n_workers, SOCKET_ID_ANY);
	if (rec->t == NULL) {
		free(rec);
		return NULL;
	}
	return rec;
}

void ipsec_cp_record_discard(struct ipsec_cp_tunnel *rec)
{
	record_free(rec);
}

/* Append rec (room reserved) and publish it when its names resolve; a failure leaves it dormant, logged. */
void ipsec_cp_record_insert(struct ipsec_cp_tunnel *rec)
{
	ipsec_cp.tunnels[ipsec_cp.n_tunnels++] = rec;
	if (ipsec_cp_publish(rec) != 0)
		fprintf(stderr, "npsd: ipsec: tunnel %s stays dormant: %s\n", rec->conf.interface,
			rec->dormant_why[0] != '\0' ? rec->dormant_why : "out of memory");
}

int ipsec_cp_tunnel_add(const struct ipsec_tunnel_conf *tc, char *err, size_t errlen)
{
	int rc = check_running(err, errlen);
	if (rc != 0 || (rc = tunnel_conf_check(tc, err, errlen)) != 0)
		return rc;
	if (ipsec_cp_tunnel_find(tc->interface) != NULL) {
		snprintf(err, errlen, "interface %s already has a tunnel (expected one tunnel per interface: ipsec "
			 "tunnel set changes it)", tc->interface);
		return EEXIST;
	}
	const struct iface *ifc;
	uint32_t tvrf;
	char why[IPSEC_WHY_MAX];
	if (ipsec_cp_resolve(tc, &ifc, &tvrf, why) != 0) {
		snprintf(err, errlen,
			 "%s (expected an interface of kind ipsec: interface add name %s kind ipsec vrf V; and an "
			 "existing transport VRF)", why, tc->interface);
		return ENOENT;
	}
	struct ipsec_cp_tunnel *rec = ipsec_cp_reserve(1) == 0 ? ipsec_cp_record_new(tc) : NULL;
	if (rec == NULL) {
		snprintf(err, errlen, "tunnel %s: out of memory", tc->interface);
		return ENOMEM;
	}
	ipsec_cp.tunnels[ipsec_cp.n_tunnels++] = rec;
	if ((rc = ipsec_cp_publish(rec)) != 0) {
		ipsec_cp.n_tunnels--;
		record_free(rec);
		snprintf(err, errlen, "tunnel %s: %s", tc->interface,
			 rc == ENOMEM ? "out of memory" : "SPI table full (raise ipsec.max_sas)");
		return rc;
	}
	return 0;
}

int ipsec_cp_tunnel_set(const char *interface, const struct ipsec_tunnel_change *ch, char *err, size_t errlen)
{
	int rc = check_running(err, errlen);
	if (rc != 0)
		return rc;
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_find(interface);
	if (rec == NULL) {
		snprintf(err, errlen, "no tunnel on interface %s", interface);
		return ENOENT;
	}
	struct ipsec_tunnel_conf next = rec->conf;
	if (ch->has_remote)
		next.remote = ch->remote;
	if (ch->has_remote_port)
		next.remote_port = ch->remote_port;
	if (ch->has_follow_peer)
		next.follow_peer = ch->follow_peer;
	if (ch->has_mss)
		next.mss_clamp = ch->mss_clamp;
	if (ch->has_udp_encap)
		next.udp_encap = ch->udp_encap;
	if ((rc = tunnel_conf_check(&next, err, errlen)) != 0)
		return rc;
	struct ipsec_tunnel_conf saved = rec->conf;
	struct addr saved_remote = rec->remote;
	uint16_t saved_port = rec->remote_port;
	bool saved_encap = rec->udp_encap;
	rec->conf = next;
	/* the controller's word on the peer replaces whatever follow_peer learned */
	if (ch->has_remote)
		rec->remote = next.remote;
	if (ch->has_remote_port)
		rec->remote_port = next.remote_port;
	if (ch->has_udp_encap)
		rec->udp_encap = next.udp_encap;
	if ((rc = ipsec_cp_params_republish(rec)) != 0) {
		rec->conf = saved;
		rec->remote = saved_remote;
		rec->remote_port = saved_port;
		rec->udp_encap = saved_encap;
		snprintf(err, errlen, "tunnel %s: out of memory", interface);
		return rc;
	}
	ipsec_cp_retire_flush();
	return 0;
}

/* Remove rec from the list and free it after the workers let go (it may be published). */
void ipsec_cp_record_delete(struct ipsec_cp_tunnel *rec)
{
	ipsec_cp_unpublish(rec, "deleted");
	for (unsigned i = 0; i < rec->n_in; i++)
		cp_sa_drop(rec, &rec->in[i], false);
	for (unsigned i = 0; i < rec->n_out; i++)
		cp_sa_drop(rec, &rec->out[i], false);
	rec->n_in = rec->n_out = 0;
	home_drop(rec, false);
	retire(RETIRE_TUNNEL, rec->t);
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++)
		if (ipsec_cp.tunnels[i] == rec) {
			memmove(&ipsec_cp.tunnels[i], &ipsec_cp.tunnels[i + 1],
				(ipsec_cp.n_tunnels - i - 1) * sizeof(*ipsec_cp.tunnels));
			ipsec_cp.n_tunnels--;
			break;
		}
	if (ipsec_cp.lifetime_cursor > ipsec_cp.n_tunnels)
		ipsec_cp.lifetime_cursor = 0;
	free(rec);
}

int ipsec_cp_tunnel_del(const char *interface, char *err, size_t errlen)
{
	int rc = check_running(err, errlen);
	if (rc != 0)
		return rc;
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_find(interface);
	if (rec == NULL) {
		snprintf(err, errlen, "no tunnel on interface %s", interface);
		return ENOENT;
	}
	ipsec_cp_record_delete(rec);
	ipsec_cp_retire_flush();
	return 0;
}

/* ---- SAs ---- */

/* The record and entry of the inbound SA spi, over every tunnel (published or dormant). */
struct ipsec_cp_sa *ipsec_cp_in_sa_find(uint32_t spi, struct ipsec_cp_tunnel **rec_out)
{
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++) {
		struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		for (unsigned k = 0; k < rec->n_in; k++)
			if (rec->in[k].sa->spi == spi) {
				*rec_out = rec;
				return &rec->in[k];
			}
	}
	return NULL;
}

static struct ipsec_cp_sa *sa_find(struct ipsec_cp_tunnel *rec, uint8_t dir, uint32_t spi)
{
	struct ipsec_cp_sa *list = dir == IPSEC_DIR_IN ? rec->in : rec->out;
	unsigned n = dir == IPSEC_DIR_IN ? rec->n_in : rec->n_out;
	for (unsigned i = 0; i < n; i++)
		if (list[i].sa->spi == spi)
			return &list[i];
	return NULL;
}

/* A data-path SA for c on rec (keys expanded), with its control entry filled; 0 or errno with err. */
int ipsec_cp_sa_build(const struct ipsec_cp_tunnel *rec, const struct ipsec_sa_conf *c, bool from_config,
		      bool allow_installed, struct ipsec_cp_sa *out, char *err, size_t errlen)
{
	char why[CP_ERR_MAX];
	uint32_t slot;
	*out = (struct ipsec_cp_sa){.created_ms = cp_now_ms()};
	int rc = ipsec_keys_acquire(c, allow_installed, &slot, err, errlen);
	if (rc != 0)
		return rc;
	out->sa = ipsec_sa_create(c, rec->published ? rec->t->iface : 0, ipsec.n_workers, SOCKET_ID_ANY, why,
				  sizeof(why));
	if (out->sa == NULL) {
		ipsec_keys_release(slot, NULL);
		snprintf(err, errlen, "SA 0x%x: %s", c->spi, why);
		return ENOMEM;
	}
	out->key_slot = slot;
	if (from_config) {
		out->conf = malloc(sizeof(*out->conf));
		if (out->conf == NULL) {
			ipsec_keys_release(slot, NULL);
			ipsec_sa_destroy(out->sa);
			out->sa = NULL;
			snprintf(err, errlen, "SA 0x%x: out of memory", c->spi);
			return ENOMEM;
		}
		*out->conf = *c;
	}
	return 0;
}

/* Destroy an entry that was never published. */
void ipsec_cp_sa_discard(struct ipsec_cp_sa *s)
{
	if (s->conf != NULL) {
		ipsec_sa_conf_wipe(s->conf);
		free(s->conf);
	}
	ipsec_keys_release(s->key_slot, NULL);
	ipsec_sa_destroy(s->sa);
	*s = (struct ipsec_cp_sa){0};
}

/* Before s's SA becomes visible: it goes on where an earlier SA with its identity and key stopped. */
static void sa_carry(struct ipsec_cp_sa *s)
{
	if (ipsec_keys_retired_pending(s->key_slot))
		ipsec_cp_retire_flush(); /* its last holder is retired, not freed: the workers let go, state final */
	ipsec_keys_carry(s->key_slot, s->sa);
}

/* Checks of sa add: room, SPI uniqueness. 0 or errno with err. */
static int sa_add_check(const struct ipsec_cp_tunnel *rec, const struct ipsec_sa_conf *c, char *err, size_t errlen)
{
	char why[192];
	struct ipsec_cp_tunnel *owner;
	if (ipsec_sa_conf_check(c, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s", why);
		return EINVAL;
	}
	if (ipsec_cp.n_sas >= ipsec_cp.max_sas) {
		snprintf(err, errlen, "%u SAs already (ipsec.max_sas): delete one first or raise max_sas (restart)",
			 ipsec_cp.n_sas);
		return ENOSPC;
	}
	if (c->dir == IPSEC_DIR_IN) {
		if (ipsec_cp_in_sa_find(c->spi, &owner) != NULL) {
			snprintf(err, errlen,
				 "inbound spi 0x%x is already an SA of tunnel %s (expected inbound SPIs unique over "
				 "the gateway; ipsec sa replace changes an SA)", c->spi, owner->conf.interface);
			return EEXIST;
		}
		if (rec->n_in >= IPSEC_CONF_SA_IN_MAX) {
			snprintf(err, errlen, "tunnel %s has %d inbound SAs (at most %d: delete the oldest first)",
				 rec->conf.interface, IPSEC_CONF_SA_IN_MAX, IPSEC_CONF_SA_IN_MAX);
			return ENOSPC;
		}
	} else {
		for (unsigned i = 0; i < rec->n_out; i++)
			if (rec->out[i].sa->spi == c->spi) {
				snprintf(err, errlen,
					 "outbound spi 0x%x is already an SA of tunnel %s (ipsec sa replace changes "
					 "an SA)",
					 c->spi, rec->conf.interface);
				return EEXIST;
			}
		if (rec->n_out >= IPSEC_CONF_SA_OUT_MAX) {
			snprintf(err, errlen,
				 "tunnel %s lists %d outbound SAs (at most %d: delete an inactive one first)",
				 rec->conf.interface, IPSEC_CONF_SA_OUT_MAX, IPSEC_CONF_SA_OUT_MAX);
			return ENOSPC;
		}
	}
	return 0;
}

/* Attach a built entry to rec and publish it (outbound: it becomes the active SA). 0, ENOSPC or ENOMEM. */
int ipsec_cp_sa_attach(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *s)
{
	if (rec->published)
		s->sa->iface = rec->t->iface; /* not visible yet: built before the tunnel had its interface */
	sa_carry(s);
	if (s->sa->dir == IPSEC_DIR_IN) {
		int rc = rec->published ? spi_publish(s->sa) : 0;
		if (rc != 0)
			return rc;
		rec->in[rec->n_in++] = *s;
		in_sa_list_sync(rec);
	} else {
		rec->out[rec->n_out] = *s;
		rec->active_out = (int)rec->n_out++;
		if (rec->published)
			__atomic_store_n(&rec->t->out_sa, s->sa, __ATOMIC_RELEASE);
	}
	ipsec_keys_installed(s->key_slot);
	ipsec_cp.n_sas++;
	return 0;
}

int ipsec_cp_sa_add(const char *interface, const struct ipsec_sa_conf *c, bool from_config, uint64_t seq_start,
		    char *err, size_t errlen)
{
	int rc = check_running(err, errlen);
	if (rc != 0)
		return rc;
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_find(interface);
	if (rec == NULL) {
		snprintf(err, errlen, "no tunnel on interface %s (ipsec tunnel add first)", interface);
		return ENOENT;
	}
	struct ipsec_cp_sa s;
	if ((rc = sa_add_check(rec, c, err, errlen)) != 0)
		return rc;
	if (seq_start != 0 && (c->dir != IPSEC_DIR_OUT || seq_start > ipsec_sa_seq_space(c->esn))) {
		char why[96];
		snprintf(why, sizeof(why), "beyond the sequence space (last usable %llu %s esn)",
			 (unsigned long long)ipsec_sa_seq_space(c->esn), c->esn ? "with" : "without");
		snprintf(err, errlen, "seq %llu: %s", (unsigned long long)seq_start,
			 c->dir != IPSEC_DIR_OUT ? "only an outbound SA starts at a given sequence number" : why);
		return EINVAL;
	}
	if ((rc = ipsec_cp_sa_build(rec, c, from_config, false, &s, err, errlen)) != 0)
		return rc;
	ipsec_sa_seq_start(s.sa, seq_start); /* not visible yet (never below where the same key stopped: attach) */
	if ((rc = ipsec_cp_sa_attach(rec, &s)) != 0) {
		ipsec_cp_sa_discard(&s);
		snprintf(err, errlen, "%s", rc == ENOMEM ? "out of memory (a fresh SPI table)" :
					     "SPI table full (raise ipsec.max_sas)");
		return rc;
	}
	ipsec_cp_retire_flush(); /* nothing retired on add; kept for symmetry */
	return 0;
}

/* Swap entry old (of rec) for the built entry s: workers see one or the other, never none. */
void ipsec_cp_sa_swap(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *old, struct ipsec_cp_sa *s)
{
	struct ipsec_sa *prev = old->sa;
	uint32_t prev_slot = old->key_slot;
	if (rec->published)
		s->sa->iface = rec->t->iface;
	sa_carry(s);
	if (rec->published) {
		if (prev->dir == IPSEC_DIR_IN) {
			uint32_t spi = prev->spi;
			/* the slot's SA pointer is replaced in place (atomically for lock-free readers) */
			if (ipsec_spi_replace(ipsec.spi, spi, s->sa) != 0)
				fprintf(stderr, "npsd: ipsec: SA 0x%x could not be replaced in the SPI table\n", spi);
		} else if (ipsec_cp_sa_is_active(rec, old)) {
			__atomic_store_n(&rec->t->out_sa, s->sa, __ATOMIC_RELEASE);
		}
	}
	if (old->conf != NULL) {
		ipsec_sa_conf_wipe(old->conf);
		free(old->conf);
	}
	ipsec_keys_uninstalled(prev_slot);
	ipsec_keys_installed(s->key_slot);
	prev->fold_into = rec->t;
	retire_slot(RETIRE_SA, prev, prev_slot);
	uint32_t order = old->order;
	*old = *s;
	old->order = order;
	if (prev->dir == IPSEC_DIR_IN)
		in_sa_list_sync(rec);
}

int ipsec_cp_sa_replace(const char *interface, const struct ipsec_sa_conf *c, char *err, size_t errlen)
{
	int rc = check_running(err, errlen);
	if (rc != 0)
		return rc;
	struct ipsec_cp_tunnel *rec = ipsec_cp_tunnel_find(interface);
	if (rec == NULL) {
		snprintf(err, errlen, "no tunnel on interface %s", interface);
		return ENOENT;
	}
	struct ipsec_cp_sa *old = sa_find(rec, c->dir, c->spi);
	if (old == NULL) {
		snprintf(err, errlen, "tunnel %s has no %s SA with spi 0x%x (ipsec sa add adds one)", interface,
			 ipsec_dir_name(c->dir), c->spi);
		return ENOENT;
	}
	char why[192];
	if (ipsec_sa_conf_check(c, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s", why);
		return EINVAL;
	}
	if (ipsec_keys_same(c, old->key_slot)) {
		/* the same SA: a fresh copy would send its sequence numbers (GCM's IVs) again and forget its window */
		if ((rc = ipsec_cp_sa_limits_check(old->sa, c, err, errlen)) != 0)
			return rc;
		ipsec_cp_sa_limits_update(old, c);
		return 0;
	}
	struct ipsec_cp_sa s;
	if ((rc = ipsec_cp_sa_build(rec, c, old->conf != NULL, false, &s, err, errlen)) != 0)
		return rc;
	ipsec_cp_sa_swap(rec, old, &s);
	ipsec_cp_retire_flush();
	return 0;
}

int ipsec_cp_sa_limits_check(const struct ipsec_sa *sa, const struct ipsec_sa_conf *c, char *err, size_t errlen)
{
	if (sa->esn == c->esn && (sa->dir == IPSEC_DIR_OUT || sa->replay_window == c->replay_window))
		return 0;
	snprintf(err, errlen, "SA 0x%x keeps its keys: only its lifetimes may change (esn and replay_window come with "
		 "new keys: a new SA)", sa->spi);
	return EINVAL;
}

void ipsec_cp_sa_limits_update(struct ipsec_cp_sa *e, const struct ipsec_sa_conf *c)
{
	struct ipsec_sa *sa = e->sa;
	/* read by the control thread only (workers see `expired`); the next poll judges them again */
	sa->soft_bytes = c->soft_bytes;
	sa->hard_bytes = c->hard_bytes;
	sa->soft_packets = c->soft_packets;
	sa->hard_packets = c->hard_packets;
	struct ipsec_sa_stats st;
	ipsec_sa_sum(sa, &st, NULL);
	bool hard = (c->hard_bytes != 0 && st.bytes >= c->hard_bytes) ||
		    (c->hard_packets != 0 && st.packets >= c->hard_packets);
	bool soft = (c->soft_bytes != 0 && st.bytes >= c->soft_bytes) ||
		    (c->soft_packets != 0 && st.packets >= c->soft_packets);
	/* a limit still reached stays reached (reported once); one raised above the counts is armed again */
	if (!hard)
		sa->hard_reported = 0;
	__atomic_store_n(&sa->expired, hard, __ATOMIC_RELAXED);
	if (!soft)
		sa->soft_reported = 0;
	if (e->conf != NULL) {
		e->conf->soft_bytes = c->soft_bytes;
		e->conf->hard_bytes = c->hard_bytes;
		e->conf->soft_packets = c->soft_packets;
		e->conf->hard_packets = c->hard_packets;
	}
}

/* Detach entry s of rec (unpublished, retired). */
void ipsec_cp_sa_remove(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *s)
{
	if (s->sa->dir == IPSEC_DIR_IN) {
		if (rec->published)
			spi_unpublish(s->sa->spi);
		size_t i = (size_t)(s - rec->in);
		cp_sa_drop(rec, s, false);
		memmove(&rec->in[i], &rec->in[i + 1], (rec->n_in - i - 1) * sizeof(rec->in[0]));
		rec->n_in--;
		in_sa_list_sync(rec);
		return;
	}
	int i = (int)(s - rec->out);
	if (i == rec->active_out) {
		if (rec->published)
			__atomic_store_n(&rec->t->out_sa, NULL, __ATOMIC_RELEASE);
		rec->active_out = -1;
	} else if (i < rec->active_out) {
		rec->active_out--;
	}
	cp_sa_drop(rec, s, false);
	memmove(&rec->out[i], &rec->out[i + 1], (rec->n_out - (unsigned)i - 1) * sizeof(rec->out[0]));
	rec->n_out--;
}

int ipsec_cp_sa_del(const char *interface, uint8_t dir, uint32_t spi, char *err, size_t errlen)
{
	int rc = check_running(err, errlen);
	if (rc != 0)
		return rc;
	struct ipsec_cp_tunnel *rec = NULL;
	struct ipsec_cp_sa *s;
	if (interface == NULL) {
		s = ipsec_cp_in_sa_find(spi, &rec);
		if (s == NULL) {
			snprintf(err, errlen, "no inbound SA with spi 0x%x (an outbound SA is named with its tunnel: "
				 "interface IF direction out spi N)", spi);
			return ENOENT;
		}
	} else {
		rec = ipsec_cp_tunnel_find(interface);
		if (rec == NULL) {
			snprintf(err, errlen, "no tunnel on interface %s", interface);
			return ENOENT;
		}
		s = sa_find(rec, dir, spi);
		if (s == NULL) {
			snprintf(err, errlen, "tunnel %s has no %s SA with spi 0x%x", interface, ipsec_dir_name(dir),
				 spi);
			return ENOENT;
		}
	}
	ipsec_cp_sa_remove(rec, s);
	ipsec_cp_retire_flush();
	return 0;
}

/* ---- interfaces and VRFs changed ---- */

/* Does published rec still match what its names resolve to? */
static bool record_current(const struct ipsec_cp_tunnel *rec)
{
	const struct iface *ifc;
	uint32_t tvrf;
	char why[IPSEC_WHY_MAX];
	if (ipsec_cp_resolve(&rec->conf, &ifc, &tvrf, why) != 0)
		return false;
	return ifc->id == rec->t->iface && ifc->vrf == rec->t->vrf && tvrf == rec->transport_vrf;
}

void ipsec_cp_iface_changed(void)
{
	if (!ipsec_cp.running)
		return;
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++) {
		struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		if (rec->published && !record_current(rec))
			ipsec_cp_unpublish(rec, "interface or VRF changed");
	}
	ipsec_cp_retire_flush(); /* the workers let go before the unpublished objects change and come back */
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++) {
		struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		if (!rec->published && ipsec_cp_publish(rec) != 0)
			fprintf(stderr, "npsd: ipsec: tunnel %s could not be published: %s\n", rec->conf.interface,
				rec->dormant_why[0] != '\0' ? rec->dormant_why : "out of memory");
	}
}
