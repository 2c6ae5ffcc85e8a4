/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_flow steering: the network functions describe, in a plan, which traffic belongs to which worker (the return
 * traffic of a worker's NAT port blocks, ESP by SPI, the AFTR's softwires) and what can be dropped statelessly; the
 * installer turns the plan into rte_flow rules on every port whose driver takes them, sending each match to the rx
 * queue that worker polls on that port. Where a driver refuses (no rte_flow, no port masks, too many rules) the
 * software hand-off between workers (nf_hand_off) does the same job a little later: correctness never depends on
 * the rules, only the hand-off cost does. `show flow` says which is in use per port.
 *
 * The plan is built on the control thread at start-up (after the functions applied their configuration) and by
 * `flow apply`. flow_plan.c is pure (unit-tested); flow_steer.c talks to the ports.
 */
#ifndef NPSGW_FLOW_STEER_H
#define NPSGW_FLOW_STEER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FLOW_PLAN_MAX 1024     /* rules in one plan */
#define FLOW_EXPAND_MAX 256    /* exact-port rules one masked rule may become on a driver without port masks */
#define FLOW_VRF_ANY UINT32_MAX

enum flow_action {
	FLOW_TO_WORKER = 0, /* the rx queue `worker` polls on the port */
	FLOW_SPREAD_SRC,    /* RSS over the workers' queues hashed on the source address only (one source, one queue) */
	FLOW_DROP,          /* dropped by the NIC */
};

struct flow_match {
	uint8_t family;                 /* 4 or 6 */
	uint8_t proto;                  /* IPPROTO_*; 0 any */
	uint8_t dst_len, src_len;       /* prefix lengths; 0 any */
	uint8_t dst[16], src[16];       /* network order, IPv4 in the first 4 bytes */
	uint16_t dport, dport_mask;     /* TCP/UDP destination port, host order; mask 0 any, 0xffff exact */
	uint16_t dport_lo, dport_hi;    /* with a partial mask: the ports the rule is meant for (for expansion) */
	uint32_t spi;                   /* ESP SPI (host order), with has_spi */
	bool has_spi;
	uint32_t vrf;                   /* install only on ports with an interface in this VRF slot; FLOW_VRF_ANY */
};

struct flow_rule {
	struct flow_match m;
	enum flow_action action;
	uint16_t worker;   /* FLOW_TO_WORKER */
	uint8_t priority;  /* rte_flow priority: 0 first (exceptions such as static mappings), 1 the general rules */
	char owner[16];    /* the function that asked ("nat", "dslite", "ipsec", "fw") */
	char what[96];     /* for `show flow`: "198.51.100.1 udp ports w1 of 2" */
};

struct flow_plan {
	unsigned n_workers;
	uint32_t n;
	uint32_t refused;  /* rules not added: the plan was full */
	char note[128];    /* why a function steers nothing (first note wins), for `show flow` */
	struct flow_rule rules[FLOW_PLAN_MAX];
};

/* ---- Building a plan (flow_plan.c, pure) ---- */
void flow_plan_init(struct flow_plan *plan, unsigned n_workers);
/* Append a rule; 0, or -ENOSPC (counted in refused) when the plan is full. */
int flow_plan_add(struct flow_plan *plan, const struct flow_rule *rule);
/* A note for `show flow` (kept when none was set yet). */
void flow_plan_note(struct flow_plan *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * NAT-style port blocks: destination ports [lo, hi] of IPv4 address addr (network order) and protocol proto, cut
 * into blocks of bs ports, block b owned by worker b % n_workers. Adds one masked rule per worker when the geometry
 * allows it (bs and n_workers powers of two, lo a multiple of bs: the owner is then bits of the port), else one
 * masked rule per block (bs a power of two, lo aligned), else nothing and returns -EINVAL (software hand-off).
 * Returns the number of rules added (0 with one worker: nothing to steer), or -ENOSPC / -EINVAL.
 */
int flow_plan_port_blocks(struct flow_plan *plan, const char *owner, uint32_t vrf, const uint8_t addr[4],
			  uint8_t proto, uint16_t lo, uint16_t hi, uint16_t bs);

/*
 * Exact ports a (dport, dport_mask) match covers inside [lo, hi], for drivers without port masks: writes up to max
 * into out, returns how many there are in total (more than max: too many to expand).
 */
uint32_t flow_ports_expand(uint16_t dport, uint16_t dport_mask, uint16_t lo, uint16_t hi, uint16_t *out,
			   uint32_t max);

/* ---- Installing (flow_steer.c) ---- */
/* Build the plan from every function's steer hook and install it on every port; log the outcome to log. */
void flow_steer_apply(FILE *log);
/* Remove every installed rule (before the ports stop). */
void flow_steer_flush(void);
/* One line for the readiness status: "rte_flow on 2/3 ports, 12 rules" or "software hand-off". */
const char *flow_steer_summary(void);

/* What `show flow` prints (dataplane/ctl_deploy.c). */
struct flow_port_status {
	bool used;
	char port[32];
	bool rte_flow;       /* at least one rule installed */
	uint32_t installed, refused, skipped;
	char reason[128];    /* the first refusal, or why the port was skipped */
};
const struct flow_plan *flow_steer_plan(void);
const struct flow_port_status *flow_steer_port_status(uint16_t port_id);
/* Per plan rule: rules installed on ports for it, and how (e.g. "queue 1", "expanded x16", "refused: ..."). */
const char *flow_steer_rule_status(uint32_t rule, char *buf, size_t len);

#endif
