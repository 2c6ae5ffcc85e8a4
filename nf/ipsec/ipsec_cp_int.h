/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of IPsec's control side shared by ipsec_cp.c (records, publication, single operations),
 * ipsec_cp_apply.c (whole configurations) and ipsec_cp_poll.c (peer moves, lifetimes). Control thread only.
 */
#ifndef NPSGW_IPSEC_CP_INT_H
#define NPSGW_IPSEC_CP_INT_H

#include "dataplane/cp.h"
#include "nf/ipsec/ipsec_cp.h"

/* Wait for the workers once, then free what was unpublished since the last flush. */
void ipsec_cp_retire_flush(void);

/* Resolve a tunnel's names: its interface (kind ipsec) and transport VRF slot. 0, or ENOENT with why filled. */
#define IPSEC_WHY_MAX 96
int ipsec_cp_resolve(const struct ipsec_tunnel_conf *tc, const struct iface **ifc, uint32_t *tvrf,
		     char why[IPSEC_WHY_MAX]);
/* Mark rec dormant for a reason. */
void ipsec_cp_dormant(struct ipsec_cp_tunnel *rec, const char *why);

/* Outer-side params (rte_malloc'ed), and their publication on a published tunnel (the old block retired). */
struct ipsec_tunnel_params *ipsec_cp_params_make(const struct ipsec_tunnel_conf *c, const struct addr *remote,
						 uint16_t remote_port, bool udp_encap, uint32_t tvrf);
void ipsec_cp_params_publish(struct ipsec_cp_tunnel *rec, struct ipsec_tunnel_params *p);
int ipsec_cp_params_republish(struct ipsec_cp_tunnel *rec);

/* Publish a record whose objects no worker sees (0: published or dormant; ENOMEM/ENOSPC), or take it away. */
int ipsec_cp_publish(struct ipsec_cp_tunnel *rec);
void ipsec_cp_unpublish(struct ipsec_cp_tunnel *rec, const char *why);

/*
 * Records: room in the list, a new one (not listed, not published; NULL when out of memory) and its discard, its
 * insertion (appended, published when its names resolve, else dormant), the removal of a listed one.
 */
int ipsec_cp_reserve(size_t n);
struct ipsec_cp_tunnel *ipsec_cp_record_new(const struct ipsec_tunnel_conf *tc);
void ipsec_cp_record_discard(struct ipsec_cp_tunnel *rec);
void ipsec_cp_record_insert(struct ipsec_cp_tunnel *rec);
void ipsec_cp_record_delete(struct ipsec_cp_tunnel *rec);

/* SA entries: built (keys expanded, not published), attached and published, swapped, removed, discarded. */
struct ipsec_cp_sa *ipsec_cp_in_sa_find(uint32_t spi, struct ipsec_cp_tunnel **rec);
int ipsec_cp_sa_build(const struct ipsec_cp_tunnel *rec, const struct ipsec_sa_conf *c, bool from_config,
		      bool allow_installed, struct ipsec_cp_sa *out, char *err, size_t errlen);
int ipsec_cp_sa_attach(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *s);
void ipsec_cp_sa_swap(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *old, struct ipsec_cp_sa *s);
void ipsec_cp_sa_remove(struct ipsec_cp_tunnel *rec, struct ipsec_cp_sa *s);
void ipsec_cp_sa_discard(struct ipsec_cp_sa *s);
/*
 * An SA given again with its own keys stays the same object (its sequence numbers and window go on): only its
 * lifetimes change (limits_check refuses another esn or replay_window), the workers never see a fresh copy. Same
 * keys: ipsec_keys_same() (sa replace) or the section's conf (apply).
 */
int ipsec_cp_sa_limits_check(const struct ipsec_sa *sa, const struct ipsec_sa_conf *c, char *err, size_t errlen);
void ipsec_cp_sa_limits_update(struct ipsec_cp_sa *e, const struct ipsec_sa_conf *c);

/*
 * Keys installed since start-up (ipsec_cp_keys.c): a keyed fingerprint per key material, the SA identity
 * (direction, SPI) it belongs to for the life of npsd, and where its sequence space stood when its last SA object
 * was freed. An SA object holds a slot (struct ipsec_cp_sa.key_slot) from its build to its free:
 *   acquire (build: refuses the key under another identity, or installed twice; allow_installed: a whole-section
 *   apply whose removals free the installed one first), carry (before the SA is visible: sequence numbers / window
 *   go on), installed / uninstalled (attached to a record or detached), release (freed: sa = the final state after
 *   the workers let go, NULL for an SA never published).
 */
void ipsec_keys_reset(void);
void ipsec_keys_free(void);
int ipsec_keys_acquire(const struct ipsec_sa_conf *c, bool allow_installed, uint32_t *slot, char *err, size_t errlen);
bool ipsec_keys_same(const struct ipsec_sa_conf *c, uint32_t slot);
unsigned ipsec_keys_installed_count(uint32_t slot);
bool ipsec_keys_retired_pending(uint32_t slot);
void ipsec_keys_carry(uint32_t slot, struct ipsec_sa *sa);
void ipsec_keys_installed(uint32_t slot);
void ipsec_keys_uninstalled(uint32_t slot);
void ipsec_keys_release(uint32_t slot, const struct ipsec_sa *sa);

#endif
