/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's configuration model: the "firewall" section of the boot file (docs/CONFIG.md, "firewall"), also
 * what `fw ruleset replace` reads and `config save` writes. Plain C, no DPDK: unit-tested alone.
 *
 * Prefix lists are resolved and zones checked at read time: a rule holds plain prefixes and names.
 */
#ifndef NPSGW_FW_CONF_H
#define NPSGW_FW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "lib/conf/conf.h"
#include "lib/ct/ct.h"
#include "lib/hdr/addr.h"

#define FW_MAX_ZONES 15 /* zone ids 1..15; 0 = interface in no zone */
#define FW_NAME_MAX 32

enum fw_action {
	FW_ALLOW = 0, /* stateful: opens a session; replies and related ICMP pass by it */
	FW_PASS,      /* stateless allow: no session */
	FW_DENY,      /* silent drop */
	FW_REJECT,    /* drop and answer: TCP RST, else ICMP administratively prohibited (rate-limited) */
	FW_ACTION_COUNT
};
const char *fw_action_name(uint8_t a);

struct fw_port_range {
	uint16_t lo, hi;
};

struct fw_rule_conf {
	char name[FW_NAME_MAX]; /* default "rule<N>" (1-based position) */
	uint8_t action;
	bool log;
	uint8_t family;  /* 0: both (no addresses given), 4 or 6 (from the addresses, or "family") */
	int16_t proto;   /* -1: any */
	struct addr_prefix *src, *dst; /* empty: any */
	size_t n_src, n_dst;
	struct fw_port_range *sport, *dport; /* TCP/UDP ports; empty: any */
	size_t n_sport, n_dport;
	int16_t icmp_type, icmp_code;          /* ICMP/ICMPv6 only; -1: any */
	uint8_t tcp_flags_mask, tcp_flags_set; /* (flags & mask) == set; mask 0: any */
	char from_zone[FW_NAME_MAX], to_zone[FW_NAME_MAX]; /* empty: any */
	char in_iface[FW_NAME_MAX], out_iface[FW_NAME_MAX];  /* empty: any */
};

/* Default action for traffic from one zone to another that no rule matched. */
struct fw_policy_conf {
	char from[FW_NAME_MAX], to[FW_NAME_MAX]; /* zone names; "any" allowed on either side */
	uint8_t action;
	bool log;
};

struct fw_ruleset_conf {
	char vrf[CONF_NAME_MAX];
	uint8_t default_action; /* when neither a rule nor a zone-pair policy matched: FW_DENY */
	bool default_log;
	struct fw_policy_conf *policies;
	size_t n_policies;
	struct fw_rule_conf *rules; /* first match wins */
	size_t n_rules;
};

struct fw_zone_conf {
	char name[FW_NAME_MAX];
	char (*ifaces)[CONF_NAME_MAX];
	size_t n_ifaces;
};

enum fw_on_rule_change {
	FW_KEEP_SESSIONS = 0, /* sessions opened under the old rules keep flowing */
	FW_REVALIDATE,        /* a session's next packet is classified again; no longer allowed: session removed */
};

struct fw_conf {
	struct ct_params sessions; /* max_sessions: for the whole gateway, split evenly between workers */
	uint32_t reject_rate;      /* RSTs / ICMP errors per second per worker: 100 */
	uint32_t log_rate;         /* log records per second per worker: 100 */
	uint8_t on_rule_change;    /* enum fw_on_rule_change */
	struct fw_zone_conf *zones;
	size_t n_zones;
	struct fw_ruleset_conf *rulesets; /* at most one per VRF */
	size_t n_rulesets;
};

/*
 * Read the "firewall" section s of a boot file whose core model is core (VRF and interface names are checked
 * against it; NULL skips those checks). file names the file in messages: "FILE:LINE: what is wrong (expected ...)".
 * Returns 0, or -1 with err filled and *out untouched.
 */
int fw_conf_read(const config_setting_t *s, const struct npsgw_conf *core, const char *file, struct fw_conf **out,
		 char *err, size_t errlen);
/*
 * Read one rule set (the text of a file holding `vrf = ...; default = ...; policies = (...); rules = (...);`, the
 * same keys as an entry of firewall.rulesets) for `fw ruleset replace`. zones: the running zones, for checking.
 */
int fw_ruleset_read_text(const char *text, const char *file, const struct fw_conf *running,
			 struct fw_ruleset_conf **out, char *err, size_t errlen);
void fw_conf_free(struct fw_conf *c);
void fw_ruleset_free(struct fw_ruleset_conf *rs); /* one allocated by fw_ruleset_read_text */
void fw_ruleset_clear(struct fw_ruleset_conf *rs); /* its arrays only */
int fw_ruleset_copy(struct fw_ruleset_conf *dst, const struct fw_ruleset_conf *src); /* deep; 0 or ENOMEM */
struct fw_conf *fw_conf_dup(const struct fw_conf *c);
bool fw_conf_equal(const struct fw_conf *a, const struct fw_conf *b);
/* Write the section as the boot file says it ("firewall: { ... };"), so that reading it back gives an equal model. */
void fw_conf_write(FILE *out, const struct fw_conf *c);
/* Zone id (1-based) of a zone name, 0 when unknown. */
unsigned fw_zone_id(const struct fw_conf *c, const char *name);

#endif
