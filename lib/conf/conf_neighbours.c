/* SPDX-License-Identifier: BSD-3-Clause */
/* The neighbours section: static (permanent) IP-to-MAC entries on connected subnets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

static const char *const neighbour_keys[] = {"interface", "ip", "mac", NULL};

static bool neighbour_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	const struct conf_neighbour *a = &c->conf->neighbours[index], *b = key;
	return addr_equal(&a->ip, &b->ip) && strcmp(a->interface, b->interface) == 0;
}

/* Is ip on one of the interface's connected subnets? Sets *own when it is the interface's own address. */
static bool on_connected_subnet(const struct conf_interface *iface, const struct addr *ip, bool *own)
{
	*own = false;
	for (size_t i = 0; i < iface->n_addresses; i++) {
		struct addr_prefix subnet = iface->addresses[i];
		if (addr_equal(&subnet.addr, ip))
			*own = true;
		addr_prefix_mask(&subnet);
		if (addr_prefix_contains(&subnet, ip))
			return true;
	}
	return false;
}

static int read_neighbour_mac(struct conf_ctx *ctx, const config_setting_t *group, struct conf_neighbour *n)
{
	char text[32];
	int rc = conf_read_string(ctx, group, "mac", text, sizeof(text), false);
	if (rc <= 0)
		return rc < 0 ? -1 : conf_fail_missing(ctx, group, "mac", "a MAC address aa:bb:cc:dd:ee:ff");
	const config_setting_t *s = config_setting_get_member(group, "mac");
	static const uint8_t zero[6];
	if (mac_parse(text, n->mac) < 0)
		return conf_fail(ctx, s, "\"%s\" is not a MAC address (expected aa:bb:cc:dd:ee:ff)", text);
	if ((n->mac[0] & 1) != 0 || memcmp(n->mac, zero, sizeof(zero)) == 0)
		return conf_fail(ctx, s,
				 "%s is not a unicast MAC address (expected a non-zero address with the "
				 "multicast bit clear)",
				 text);
	return 0;
}

static int read_neighbour(struct conf_ctx *ctx, const config_setting_t *group, size_t index, struct conf_index *seen)
{
	struct conf_neighbour *n = &ctx->conf->neighbours[index];
	if (conf_check_keys(ctx, group, neighbour_keys) < 0 ||
	    conf_read_name_required(ctx, group, "interface", n->interface) < 0)
		return -1;
	long iface_index = conf_interface_index(ctx, n->interface);
	if (iface_index < 0)
		return conf_fail(ctx, config_setting_get_member(group, "interface"),
				 "unknown interface %s (expected a name from interfaces)", n->interface);
	const struct conf_interface *iface = &ctx->conf->interfaces[iface_index];
	char text[ADDR_STR_MAX];
	int rc = conf_read_string(ctx, group, "ip", text, sizeof(text), false);
	if (rc <= 0)
		return rc < 0 ? -1 : conf_fail_missing(ctx, group, "ip", "an IPv4 or IPv6 address");
	const config_setting_t *ip = config_setting_get_member(group, "ip");
	if (addr_parse(text, &n->ip) < 0)
		return conf_fail(ctx, ip,
				 "\"%s\" is not an IP address (expected such as \"10.0.0.2\" or "
				 "\"2001:db8::2\")",
				 text);
	bool own;
	if (!on_connected_subnet(iface, &n->ip, &own))
		return conf_fail(ctx, ip,
				 "%s is not on a subnet of interface %s (expected an address inside one of "
				 "its addresses' prefixes)",
				 text, n->interface);
	if (own)
		return conf_fail(ctx, ip, "%s is the address of interface %s itself (expected a neighbour's address)",
				 text, n->interface);
	if (read_neighbour_mac(ctx, group, n) < 0)
		return -1;
	uint64_t hash = conf_hash_bytes(conf_hash_string(CONF_HASH_SEED, n->interface), &n->ip, sizeof(n->ip));
	if (conf_index_find(seen, hash, neighbour_same, ctx, n) >= 0)
		return conf_fail(ctx, group, "duplicate neighbour %s on interface %s (expected each once)", text,
				 n->interface);
	if (conf_index_add(seen, hash, (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);
	return 0;
}

int conf_read_neighbours(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *list = conf_read_group_list(ctx, root, "neighbours");
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	size_t count = (size_t)config_setting_length(list);
	if (count == 0)
		return 0;
	uint32_t max = ctx->conf->neigh.max_neighbours;
	if (count > max)
		return conf_fail(ctx, config_setting_get_elem(list, max),
				 "%zu neighbours exceed "
				 "neighbour.max_neighbours (expected at most %u)",
				 count, max);
	ctx->conf->neighbours = calloc(count, sizeof(*ctx->conf->neighbours));
	if (ctx->conf->neighbours == NULL)
		return conf_fail_nomem(ctx);
	ctx->conf->n_neighbours = count;
	struct conf_index seen = {0};
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = read_neighbour(ctx, config_setting_get_elem(list, (unsigned)i), i, &seen);
	conf_index_free(&seen);
	return rc;
}
