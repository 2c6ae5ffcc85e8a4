/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only rte_flow engine, LD_PRELOADed into npsd by test/deploy/run.sh where no driver of this host accepts
 * rte_flow (net_tap needs the kernel's flower classifier, multiq qdisc and skbedit action). It stands in for a NIC:
 * rte_flow_create() on the ports named in FLOW_SHIM_PORTS (port ids, comma list) checks the pattern and actions as
 * a NIC would, records each accepted rule as one line in FLOW_SHIM_LOG and returns a handle; FLOW_SHIM_NO_PORT_MASK=1
 * refuses partial TCP/UDP port masks as net_tap and several VFs do. Other ports answer ENOSYS (no rte_flow), so the
 * real drivers' fallback path is unchanged. rte_flow_destroy / rte_flow_flush record their calls too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

static bool shim_port(uint16_t port)
{
	const char *list = getenv("FLOW_SHIM_PORTS");
	while (list != NULL && *list != '\0') {
		if ((uint16_t)strtoul(list, NULL, 10) == port)
			return true;
		list += strcspn(list, ",");
		list += *list == ',';
	}
	return false;
}

static void record(const char *line)
{
	const char *path = getenv("FLOW_SHIM_LOG");
	FILE *f = path != NULL ? fopen(path, "a") : NULL;
	if (f == NULL)
		return;
	fputs(line, f);
	fputc('\n', f);
	fclose(f);
}

static int refuse(struct rte_flow_error *err, int code, const char *why)
{
	if (err != NULL) {
		err->type = RTE_FLOW_ERROR_TYPE_ITEM;
		err->message = why;
	}
	rte_errno = code;
	return -code;
}

static void prefix(char *out, size_t len, int family, const void *addr, const void *mask, int bytes)
{
	char a[INET6_ADDRSTRLEN];
	int bits = 0;
	for (int i = 0; i < bytes; i++)
		bits += __builtin_popcount(((const uint8_t *)mask)[i]);
	inet_ntop(family, addr, a, sizeof(a));
	snprintf(out, len, "%s/%d", a, bits);
}

/* One rule as text: "port=P prio=N ipv4 dst=A/L proto=17 udp dport=0x0410/0xffff -> queue 1". */
static int describe(uint16_t port, const struct rte_flow_attr *attr, const struct rte_flow_item *items,
		    const struct rte_flow_action *actions, char *out, size_t len, struct rte_flow_error *err)
{
	size_t n = (size_t)snprintf(out, len, "port=%u prio=%u", port, attr->priority);
	bool no_port_mask = getenv("FLOW_SHIM_NO_PORT_MASK") != NULL;
	char p[80];
	for (; items->type != RTE_FLOW_ITEM_TYPE_END; items++) {
		if (items->type == RTE_FLOW_ITEM_TYPE_ETH) {
			n += (size_t)snprintf(out + n, len - n, " eth");
		} else if (items->type == RTE_FLOW_ITEM_TYPE_IPV4) {
			const struct rte_flow_item_ipv4 *s = items->spec, *m = items->mask;
			prefix(p, sizeof(p), AF_INET, &s->hdr.dst_addr, &m->hdr.dst_addr, 4);
			n += (size_t)snprintf(out + n, len - n, " ipv4 dst=%s proto=%u", p,
					      s->hdr.next_proto_id & m->hdr.next_proto_id);
		} else if (items->type == RTE_FLOW_ITEM_TYPE_IPV6) {
			const struct rte_flow_item_ipv6 *s = items->spec, *m = items->mask;
			prefix(p, sizeof(p), AF_INET6, s->hdr.dst_addr, m->hdr.dst_addr, 16);
			n += (size_t)snprintf(out + n, len - n, " ipv6 dst=%s proto=%u", p, s->hdr.proto & m->hdr.proto);
		} else if (items->type == RTE_FLOW_ITEM_TYPE_UDP || items->type == RTE_FLOW_ITEM_TYPE_TCP) {
			/* TCP and UDP headers both start with source and destination ports. */
			const uint16_t *s = items->spec, *m = items->mask;
			uint16_t dp = ntohs(s[1]), dm = ntohs(m[1]);
			if (no_port_mask && dm != 0 && dm != 0xffff)
				return refuse(err, ENOTSUP, "partial port mask not supported (shim)");
			n += (size_t)snprintf(out + n, len - n, " %s dport=0x%04x/0x%04x",
					      items->type == RTE_FLOW_ITEM_TYPE_UDP ? "udp" : "tcp", dp, dm);
		} else if (items->type == RTE_FLOW_ITEM_TYPE_ESP) {
			const struct rte_flow_item_esp *s = items->spec;
			n += (size_t)snprintf(out + n, len - n, " esp spi=0x%08x", ntohl(s->hdr.spi));
		} else {
			return refuse(err, ENOTSUP, "item not supported (shim)");
		}
	}
	const struct rte_flow_action *a = actions;
	if (a->type == RTE_FLOW_ACTION_TYPE_QUEUE) {
		n += (size_t)snprintf(out + n, len - n, " -> queue %u", ((const struct rte_flow_action_queue *)a->conf)->index);
	} else if (a->type == RTE_FLOW_ACTION_TYPE_RSS) {
		const struct rte_flow_action_rss *r = a->conf;
		n += (size_t)snprintf(out + n, len - n, " -> rss%s queues",
				      r->types & RTE_ETH_RSS_L3_SRC_ONLY ? " l3-src-only" : "");
		for (uint32_t i = 0; i < r->queue_num; i++)
			n += (size_t)snprintf(out + n, len - n, "%s%u", i ? "," : " ", r->queue[i]);
	} else if (a->type == RTE_FLOW_ACTION_TYPE_DROP) {
		n += (size_t)snprintf(out + n, len - n, " -> drop");
	} else {
		return refuse(err, ENOTSUP, "action not supported (shim)");
	}
	return 0;
}

static int handles;

struct rte_flow *rte_flow_create(uint16_t port_id, const struct rte_flow_attr *attr,
				 const struct rte_flow_item pattern[], const struct rte_flow_action actions[],
				 struct rte_flow_error *error)
{
	char line[512];
	if (!shim_port(port_id)) {
		refuse(error, ENOSYS, "no rte_flow (shim)");
		return NULL;
	}
	if (describe(port_id, attr, pattern, actions, line, sizeof(line), error) != 0)
		return NULL;
	record(line);
	return (struct rte_flow *)(uintptr_t)++handles;
}

int rte_flow_destroy(uint16_t port_id, struct rte_flow *flow, struct rte_flow_error *error)
{
	char line[64];
	snprintf(line, sizeof(line), "destroy port=%u", port_id);
	record(line);
	return 0;
}

int rte_flow_flush(uint16_t port_id, struct rte_flow_error *error)
{
	return shim_port(port_id) ? 0 : refuse(error, ENOSYS, "no rte_flow (shim)");
}
