/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A whole "ipsec" section made the running configuration (config commit / reload / boot), and the running
 * configuration exported as a section. All or nothing: everything that can fail (checks, key expansion, memory)
 * happens before the first change; then
 *   1. tunnels gone from the section are deleted, and SAs of origin config gone from a kept tunnel removed; the
 *      workers let go (their SPI table slots are free again);
 *   2. kept tunnels get their new outer side (one params block), changed SAs are swapped in place (a worker sees
 *      the old or the new SA, never none), new SAs attached, new tunnels inserted; the tunnel list takes the
 *      section's order.
 * SAs added over the control socket stay on kept tunnels; a section SA that collides with one is refused.
 * When a tunnel's SAs in the section change, the last outbound SA listed becomes the active one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "nf/ipsec/ipsec_cp_int.h"

/* What the section asks of one tunnel, prepared before any change. */
struct plan_tunnel {
	const struct ipsec_tunnel_conf *mc;   /* the section's tunnel */
	struct ipsec_cp_tunnel *rec;          /* existing record, or a new one (not listed yet) */
	bool is_new;
	bool sas_changed;                     /* the active outbound SA follows the section */
	struct ipsec_tunnel_params *params;   /* kept published tunnel whose outer side changes; else NULL */
	uint32_t tvrf;                        /* with params: the transport VRF slot they name */
	bool unpublish;                       /* kept published tunnel whose new transport VRF does not exist */
	char why[IPSEC_WHY_MAX];
	struct ipsec_cp_sa **match;           /* per section SA: the entry it keeps or replaces, NULL: new */
	struct ipsec_cp_sa *built;            /* per section SA: the new entry (sa NULL: kept as it is) */
	bool *limits;                         /* per section SA: same keys, new lifetimes (updated in place) */
};

struct plan {
	struct plan_tunnel *t;
	size_t n;
};

static void plan_free(struct plan *p, bool discard)
{
	for (size_t i = 0; p->t != NULL && i < p->n; i++) {
		struct plan_tunnel *pt = &p->t[i];
		if (discard) {
			for (size_t k = 0; pt->built != NULL && k < pt->mc->n_sas; k++)
				if (pt->built[k].sa != NULL)
					ipsec_cp_sa_discard(&pt->built[k]);
			rte_free(pt->params);
			if (pt->is_new && pt->rec != NULL)
				ipsec_cp_record_discard(pt->rec);
		}
		free(pt->match);
		free(pt->built);
		free(pt->limits);
	}
	free(p->t);
	p->t = NULL;
}

static struct ipsec_cp_tunnel *record_by_name(const char *name)
{
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++)
		if (strcmp(ipsec_cp.tunnels[i]->conf.interface, name) == 0)
			return ipsec_cp.tunnels[i];
	return NULL;
}

static bool in_model(const struct ipsec_conf *m, const char *name)
{
	return ipsec_conf_tunnel(m, name) != NULL;
}

/* The entry of rec with (dir, spi), NULL when none. */
static struct ipsec_cp_sa *entry_of(struct ipsec_cp_tunnel *rec, uint8_t dir, uint32_t spi)
{
	struct ipsec_cp_sa *list = dir == IPSEC_DIR_IN ? rec->in : rec->out;
	unsigned n = dir == IPSEC_DIR_IN ? rec->n_in : rec->n_out;
	for (unsigned i = 0; i < n; i++)
		if (list[i].sa->spi == spi)
			return &list[i];
	return NULL;
}

static bool same_keys(const struct ipsec_sa_conf *a, const struct ipsec_sa_conf *b)
{
	return a->alg == b->alg && a->key_len == b->key_len && a->auth_key_len == b->auth_key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0 && memcmp(a->auth_key, b->auth_key, a->auth_key_len) == 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The plan of record rec, NULL when the section drops it. */
static const struct plan_tunnel *plan_of(const struct plan *p, const struct ipsec_cp_tunnel *rec)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].rec == rec)
			return &p->t[i];
	return NULL;
}

/* Does step 1 remove entry s of rec (its tunnel leaves the section, or the section drops it)? */
static bool plan_removes(const struct plan *p, const struct ipsec_cp_tunnel *rec, const struct ipsec_cp_sa *s)
{
	const struct plan_tunnel *keep = plan_of(p, rec);
	if (keep == NULL)
		return true;
	if (s->conf == NULL)
		return false; /* a control-socket SA stays */
	for (size_t j = 0; j < keep->mc->n_sas; j++)
		if (keep->match[j] == s)
			return false;
	return true;
}

/* The installed entry holding key slot (its record in *rec), NULL when none. */
static const struct ipsec_cp_sa *key_holder(uint32_t slot, const struct ipsec_cp_tunnel **rec)
{
	for (size_t r = 0; r < ipsec_cp.n_tunnels; r++) {
		const struct ipsec_cp_tunnel *t = ipsec_cp.tunnels[r];
		for (unsigned e = 0; e < t->n_in + t->n_out; e++) {
			const struct ipsec_cp_sa *s = e < t->n_in ? &t->in[e] : &t->out[e - t->n_in];
			if (s->key_slot == slot) {
				*rec = t;
				return s;
			}
		}
	}
	return NULL;
}

/*
 * A built SA whose key is installed right now (a tunnel renamed, an SA moved): allowed only when step 1 removes
 * the SA holding it, so that it is freed, its state final, before the new one goes on from there (one SA per key).
 * 0, or EEXIST with err.
 */
static int plan_check_keys(const struct plan *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_tunnel *pt = &p->t[i];
		for (size_t k = 0; k < pt->mc->n_sas; k++) {
			const struct ipsec_cp_tunnel *rec = NULL;
			uint32_t slot = pt->built[k].key_slot;
			if (pt->built[k].sa == NULL || ipsec_keys_installed_count(slot) == 0)
				continue;
			const struct ipsec_cp_sa *s = key_holder(slot, &rec);
			if (s == NULL || plan_removes(p, rec, s))
				continue;
			snprintf(err, errlen,
				 "ipsec: tunnel %s: SA 0x%x: its key is installed already (%s SA 0x%x of tunnel %s, "
				 "which stays): one SA per key, install fresh keys", pt->mc->interface,
				 pt->mc->sas[k].spi, ipsec_dir_name(s->sa->dir), s->sa->spi, rec->conf.interface);
			return EEXIST;
		}
	}
	return 0;
}

/* Counts and SPI uniqueness of the state the plan leads to. */
static int plan_check(const struct ipsec_conf *m, const struct plan *p, char *err, size_t errlen)
{
	size_t total = 0, n_spis = 0, cap = 0;
	for (size_t i = 0; i < p->n; i++)
		cap += p->t[i].mc->n_sas + (p->t[i].is_new ? 0 : p->t[i].rec->n_in);
	uint32_t *spis = malloc((cap ? cap : 1) * sizeof(*spis));
	if (spis == NULL) {
		snprintf(err, errlen, "ipsec: out of memory");
		return ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		const struct plan_tunnel *pt = &p->t[i];
		unsigned n_in = 0, n_out = 0;
		for (size_t k = 0; k < pt->mc->n_sas; k++) {
			const struct ipsec_sa_conf *c = &pt->mc->sas[k];
			if (c->dir == IPSEC_DIR_IN) {
				n_in++;
				spis[n_spis++] = c->spi;
			} else {
				n_out++;
			}
			if (pt->match[k] != NULL && pt->match[k]->conf == NULL) {
				snprintf(err, errlen, "ipsec: tunnel %s: %s spi 0x%x was added over the control socket "
					 "(ipsec sa del it first, or leave it out of the file)", pt->mc->interface,
					 ipsec_dir_name(c->dir), c->spi);
				rc = EEXIST;
			}
		}
		/* the control socket's SAs stay */
		for (unsigned k = 0; !pt->is_new && k < pt->rec->n_in; k++)
			if (pt->rec->in[k].conf == NULL) {
				n_in++;
				spis[n_spis++] = pt->rec->in[k].sa->spi;
			}
		for (unsigned k = 0; !pt->is_new && k < pt->rec->n_out; k++)
			n_out += pt->rec->out[k].conf == NULL;
		total += n_in + n_out;
		if (rc == 0 && (n_in > IPSEC_CONF_SA_IN_MAX || n_out > IPSEC_CONF_SA_OUT_MAX)) {
			snprintf(err, errlen,
				 "ipsec: tunnel %s would have %u inbound and %u outbound SAs with those added over the "
				 "control socket (at most %d and %d)", pt->mc->interface, n_in, n_out,
				 IPSEC_CONF_SA_IN_MAX, IPSEC_CONF_SA_OUT_MAX);
			rc = ENOSPC;
		}
	}
	if (rc == 0 && total > ipsec_cp.max_sas) {
		snprintf(err, errlen, "ipsec: %zu SAs with those added over the control socket (max_sas %u)", total,
			 ipsec_cp.max_sas);
		rc = ENOSPC;
	}
	if (rc == 0) {
		qsort(spis, n_spis, sizeof(*spis), cmp_u32);
		for (size_t i = 1; i < n_spis; i++)
			if (spis[i] == spis[i - 1]) {
				snprintf(err, errlen,
					 "ipsec: inbound spi 0x%x would be used twice (one from the file, one added "
					 "over the control socket to another tunnel)", spis[i]);
				rc = EEXIST;
				break;
			}
	}
	free(spis);
	(void)m;
	return rc;
}

/* Prepare tunnel i: its record, what each section SA keeps or replaces, the new objects. */
static int plan_tunnel(struct plan_tunnel *pt, const struct ipsec_tunnel_conf *mc, char *err, size_t errlen)
{
	pt->mc = mc;
	pt->rec = record_by_name(mc->interface);
	pt->match = calloc(mc->n_sas ? mc->n_sas : 1, sizeof(*pt->match));
	pt->built = calloc(mc->n_sas ? mc->n_sas : 1, sizeof(*pt->built));
	pt->limits = calloc(mc->n_sas ? mc->n_sas : 1, sizeof(*pt->limits));
	if (pt->match == NULL || pt->built == NULL || pt->limits == NULL)
		goto nomem;
	if (pt->rec == NULL) {
		pt->is_new = true;
		pt->sas_changed = true;
		if ((pt->rec = ipsec_cp_record_new(mc)) == NULL)
			goto nomem;
	}
	struct ipsec_cp_tunnel *rec = pt->rec;
	for (size_t k = 0; k < mc->n_sas; k++) {
		const struct ipsec_sa_conf *c = &mc->sas[k];
		struct ipsec_cp_sa *e = pt->is_new ? NULL : entry_of(rec, c->dir, c->spi);
		pt->match[k] = e;
		if (e != NULL && e->conf == NULL)
			continue; /* a control-socket SA: refused by plan_check */
		if (e != NULL && !ipsec_sa_conf_equal(e->conf, c) && same_keys(e->conf, c)) {
			/* the same SA with other lifetimes: updated in place (its sequence numbers and window go on) */
			int rc = ipsec_cp_sa_limits_check(e->sa, c, err, errlen);
			if (rc != 0)
				return rc;
			pt->limits[k] = true;
			pt->sas_changed |= e->order != k;
		} else if (e == NULL || !ipsec_sa_conf_equal(e->conf, c)) {
			pt->sas_changed = true;
			int rc = ipsec_cp_sa_build(rec, c, true, true, &pt->built[k], err, errlen);
			if (rc != 0)
				return rc;
		} else if (e->order != k) {
			pt->sas_changed = true;
		}
	}
	/* config SAs the section drops */
	for (unsigned k = 0; !pt->is_new && k < rec->n_in + rec->n_out; k++) {
		const struct ipsec_cp_sa *e = k < rec->n_in ? &rec->in[k] : &rec->out[k - rec->n_in];
		bool kept = false;
		for (size_t j = 0; e->conf != NULL && j < mc->n_sas && !kept; j++)
			kept = pt->match[j] == e;
		if (e->conf != NULL && !kept)
			pt->sas_changed = true;
	}
	if (!pt->is_new && rec->published && !ipsec_tunnel_conf_same_params(&rec->conf, mc)) {
		bool peer_changed =
			!addr_equal(&rec->conf.remote, &mc->remote) || rec->conf.remote_port != mc->remote_port;
		const struct iface *ifc;
		if (ipsec_cp_resolve(mc, &ifc, &pt->tvrf, pt->why) != 0) {
			pt->unpublish = true; /* goes dormant */
			return 0;
		}
		bool encap_changed = rec->conf.udp_encap != mc->udp_encap;
		bool encap = peer_changed || encap_changed ? mc->udp_encap : rec->udp_encap;
		pt->params = ipsec_cp_params_make(mc, peer_changed ? &mc->remote : &rec->remote,
						  peer_changed ? mc->remote_port : rec->remote_port, encap, pt->tvrf);
		if (pt->params == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "ipsec: tunnel %s: out of memory", mc->interface);
	return ENOMEM;
}

/* Step 1: what the section drops. */
static void apply_removals(const struct ipsec_conf *m, struct plan *p)
{
	for (size_t i = ipsec_cp.n_tunnels; i-- > 0;)
		if (!in_model(m, ipsec_cp.tunnels[i]->conf.interface))
			ipsec_cp_record_delete(ipsec_cp.tunnels[i]);
	for (size_t i = 0; i < p->n; i++) {
		struct plan_tunnel *pt = &p->t[i];
		if (pt->is_new)
			continue;
		struct ipsec_cp_tunnel *rec = pt->rec;
		/* walk backwards: removal shifts the entries after it */
		for (unsigned k = rec->n_out; k-- > 0;) {
			bool kept = rec->out[k].conf == NULL;
			for (size_t j = 0; j < pt->mc->n_sas && !kept; j++)
				kept = pt->match[j] == &rec->out[k];
			if (!kept)
				ipsec_cp_sa_remove(rec, &rec->out[k]);
		}
		for (unsigned k = rec->n_in; k-- > 0;) {
			bool kept = rec->in[k].conf == NULL;
			for (size_t j = 0; j < pt->mc->n_sas && !kept; j++)
				kept = pt->match[j] == &rec->in[k];
			if (!kept)
				ipsec_cp_sa_remove(rec, &rec->in[k]);
		}
	}
}

/*
 * Entries moved when others were removed in step 1: find the section SA's entry again by (dir, spi) (match[] was
 * taken before).
 */
static void apply_changes(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct plan_tunnel *pt = &p->t[i];
		struct ipsec_cp_tunnel *rec = pt->rec;
		const struct ipsec_tunnel_conf *mc = pt->mc;
		if (pt->is_new) {
			ipsec_cp_record_insert(rec);
		} else if (!ipsec_tunnel_conf_same_params(&rec->conf, mc)) {
			/* the file's word on the peer replaces what follow_peer learned (address, port, NAT) */
			if (!addr_equal(&rec->conf.remote, &mc->remote) || rec->conf.remote_port != mc->remote_port) {
				rec->remote = mc->remote;
				rec->remote_port = mc->remote_port;
				rec->udp_encap = mc->udp_encap;
			}
			if (rec->conf.udp_encap != mc->udp_encap)
				rec->udp_encap = mc->udp_encap;
			rec->conf = *mc;
			rec->conf.sas = NULL;
			rec->conf.n_sas = 0;
			if (pt->unpublish)
				ipsec_cp_unpublish(rec, pt->why);
			if (pt->params != NULL) {
				rec->transport_vrf = pt->tvrf;
				ipsec_cp_params_publish(rec, pt->params);
			}
			pt->params = NULL;
		}
		int last_out = -1;
		for (size_t k = 0; k < mc->n_sas; k++) {
			const struct ipsec_sa_conf *c = &mc->sas[k];
			struct ipsec_cp_sa *e = pt->is_new ? NULL : entry_of(rec, c->dir, c->spi);
			if (pt->built[k].sa != NULL) {
				int attach_rc;
				pt->built[k].order = (uint32_t)k;
				if (e != NULL) {
					ipsec_cp_sa_swap(rec, e, &pt->built[k]);
				} else if ((attach_rc = ipsec_cp_sa_attach(rec, &pt->built[k])) != 0) {
					fprintf(stderr, "npsd: ipsec: tunnel %s: SA 0x%x not published: %s\n",
						mc->interface, c->spi,
						attach_rc == ENOMEM ? "out of memory (a fresh SPI table)" : "SPI table full");
					ipsec_cp_sa_discard(&pt->built[k]);
				}
				pt->built[k].sa = NULL; /* owned by the record now */
				e = entry_of(rec, c->dir, c->spi);
			}
			if (e != NULL && pt->limits[k])
				ipsec_cp_sa_limits_update(e, c);
			if (e != NULL) {
				e->order = (uint32_t)k;
				if (c->dir == IPSEC_DIR_OUT)
					last_out = (int)(e - rec->out);
			}
		}
		if (pt->sas_changed && last_out >= 0 && last_out != rec->active_out) {
			rec->active_out = last_out;
			if (rec->published)
				__atomic_store_n(&rec->t->out_sa, rec->out[last_out].sa, __ATOMIC_RELEASE);
		}
	}
	/* the section's order */
	for (size_t i = 0; i < p->n; i++)
		ipsec_cp.tunnels[i] = p->t[i].rec;
	ipsec_cp.n_tunnels = p->n;
}

int ipsec_cp_apply(const struct ipsec_conf *m, char *err, size_t errlen)
{
	size_t n = m != NULL ? m->n_tunnels : 0;
	if (!ipsec_cp.running) {
		if (m == NULL)
			return 0;
		/* a section added by a reload: the tables are sized at boot (like nat and dslite) */
		snprintf(err, errlen, "ipsec: " IPSEC_NOT_CONFIGURED);
		return ENOTSUP;
	}
	if (m != NULL && m->max_sas != ipsec_cp.max_sas) {
		snprintf(err, errlen, "ipsec: max_sas is fixed at boot (%u): restart npsd to change it",
			 ipsec_cp.max_sas);
		return ENOTSUP;
	}
	if (m != NULL && (m->reassembly_max != ipsec_cp.reassembly_max ||
			  m->reassembly_timeout_ms != ipsec_cp.reassembly_timeout_ms)) {
		snprintf(err, errlen,
			 "ipsec: reassembly_max and reassembly_timeout_ms are fixed at boot (%u, %u ms): restart npsd to "
			 "change them", ipsec_cp.reassembly_max, ipsec_cp.reassembly_timeout_ms);
		return ENOTSUP;
	}
	struct plan p = {.t = calloc(n ? n : 1, sizeof(*p.t)), .n = n};
	if (p.t == NULL || ipsec_cp_reserve(n) != 0) {
		free(p.t);
		snprintf(err, errlen, "ipsec: out of memory");
		return ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = plan_tunnel(&p.t[i], &m->tunnels[i], err, errlen);
	if (rc == 0)
		rc = plan_check(m, &p, err, errlen);
	if (rc == 0)
		rc = plan_check_keys(&p, err, errlen);
	if (rc != 0) {
		plan_free(&p, true);
		return rc;
	}
	apply_removals(m, &p);
	ipsec_cp_retire_flush(); /* SPI table slots of the removed SAs free again */
	apply_changes(&p);
	ipsec_cp_retire_flush();
	plan_free(&p, false);
	if (ipsec_cp.lifetime_cursor >= ipsec_cp.n_tunnels)
		ipsec_cp.lifetime_cursor = 0;
	/* a dormant tunnel whose names changed may resolve now (its objects are not visible: flushed above) */
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++)
		if (!ipsec_cp.tunnels[i]->published && ipsec_cp_publish(ipsec_cp.tunnels[i]) != 0)
			fprintf(stderr, "npsd: ipsec: tunnel %s stays dormant: %s\n",
				ipsec_cp.tunnels[i]->conf.interface, ipsec_cp.tunnels[i]->dormant_why);
	return 0;
}

/* ---- export ---- */

static int cmp_order(const void *a, const void *b)
{
	const struct ipsec_cp_sa *x = *(const struct ipsec_cp_sa *const *)a, *y = *(const struct ipsec_cp_sa *const *)b;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct ipsec_conf *ipsec_cp_export(void)
{
	struct ipsec_conf *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->max_sas = ipsec_cp.max_sas != 0 ? ipsec_cp.max_sas : IPSEC_CONF_MAX_SAS_DEFAULT;
	c->reassembly_max = ipsec_cp.running ? ipsec_cp.reassembly_max : IPSEC_CONF_REASS_DEFAULT;
	c->reassembly_timeout_ms = ipsec_cp.running ? ipsec_cp.reassembly_timeout_ms : IPSEC_CONF_REASS_MS_DEFAULT;
	if (ipsec_cp.n_tunnels > 0 && (c->tunnels = calloc(ipsec_cp.n_tunnels, sizeof(*c->tunnels))) == NULL)
		goto fail;
	for (size_t i = 0; i < ipsec_cp.n_tunnels; i++) {
		const struct ipsec_cp_tunnel *rec = ipsec_cp.tunnels[i];
		struct ipsec_tunnel_conf *t = &c->tunnels[i];
		const struct ipsec_cp_sa *list[IPSEC_CONF_SA_IN_MAX + IPSEC_CONF_SA_OUT_MAX];
		size_t n = 0;
		*t = rec->conf;
		t->sas = NULL;
		t->n_sas = 0;
		c->n_tunnels = i + 1;
		for (unsigned k = 0; k < rec->n_in; k++)
			if (rec->in[k].conf != NULL)
				list[n++] = &rec->in[k];
		for (unsigned k = 0; k < rec->n_out; k++)
			if (rec->out[k].conf != NULL)
				list[n++] = &rec->out[k];
		if (n == 0)
			continue;
		qsort(list, n, sizeof(list[0]), cmp_order);
		if ((t->sas = calloc(n, sizeof(*t->sas))) == NULL)
			goto fail;
		for (size_t k = 0; k < n; k++)
			t->sas[k] = *list[k]->conf;
		t->n_sas = n;
	}
	return c;
fail:
	ipsec_conf_free(c);
	return NULL;
}
