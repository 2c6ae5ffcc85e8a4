/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule classification of new flows: a rule set compiled into rte_acl tries (one per family), and the naive linear
 * matcher it is tested against. A classifier is immutable once built: a rule change builds a new one and swaps it
 * under RCU.
 */
#ifndef NPSGW_FW_CLASSIFY_H
#define NPSGW_FW_CLASSIFY_H

#include <stdint.h>

#include "nf/fw/fw_conf.h"

/* What classification sees of a packet. ICMP/ICMPv6: sport = type, dport = code. Other protocols: ports 0. */
struct fw_match_input {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint8_t tcp_flags;
	uint8_t in_zone, out_zone; /* 0: no zone */
	uint16_t in_iface, out_iface;
	uint16_t sport, dport;
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
};

/* Names resolved when building: interface id by name (0 when absent: a rule naming it then never matches). */
struct fw_resolver {
	uint16_t (*iface_id)(void *arg, const char *name);
	void *arg;
	const struct fw_conf *conf; /* zone ids */
};

struct fw_classifier;

/*
 * Build the classifier of rs for one family (4 or 6), rules that cannot match that family left out. name must be
 * unique among live classifiers (it names the rte_acl context). NULL with err on failure (ENOMEM, too many rules).
 */
struct fw_classifier *fw_classifier_build(const struct fw_ruleset_conf *rs, uint8_t family,
					  const struct fw_resolver *res, const char *name, int socket, char *err,
					  size_t errlen);
void fw_classifier_free(struct fw_classifier *c);
/* Entries in the trie (a rule with lists is their cross product). */
uint32_t fw_classifier_entries(const struct fw_classifier *c);

/* Classify n packets (n <= 64): match[i] = index of the first matching rule + 1, 0 when none. */
void fw_classify_bulk(const struct fw_classifier *c, const struct fw_match_input *const *in, unsigned n,
		      uint32_t *match);

/* The reference: first rule of rs matching in, + 1; 0 when none. Same resolver semantics. */
uint32_t fw_classify_naive(const struct fw_ruleset_conf *rs, const struct fw_resolver *res,
			   const struct fw_match_input *in);

#endif
