/* SPDX-License-Identifier: BSD-3-Clause */
/* The interfaces section: (device, vlan) ports placed in a VRF, with their addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_ext.h"
#include "lib/conf/conf_int.h"

#define IPV6_MIN_MTU 1280

static const char *const interface_keys[] = {"name", "kind", "device", "vlan", "vrf", "mtu", "mac", "addresses", NULL};


/* Duplicate detection state for one load of the section. */
struct interface_seen {
	struct conf_index ports;     /* interface indices by (device, vlan) */
	struct conf_index addresses; /* entries of owners by (vrf, address) */
	struct address_owner {
		uint32_t vrf;
		uint32_t interface;
		struct addr addr;
	} * owners;
	size_t n_owners, owners_capacity;
};

struct port_key {
	const char *device;
	uint16_t vlan;
};

static bool interface_name_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	return strcmp(c->conf->interfaces[index].name, key) == 0;
}

static bool port_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	const struct port_key *port = key;
	const struct conf_interface *iface = &c->conf->interfaces[index];
	return iface->vlan == port->vlan && strcmp(iface->device, port->device) == 0;
}

static bool address_same(const void *ctx, uint32_t index, const void *key)
{
	const struct address_owner *owners = ctx, *wanted = key;
	return owners[index].vrf == wanted->vrf && addr_equal(&owners[index].addr, &wanted->addr);
}

long conf_interface_index(const struct conf_ctx *ctx, const char *name)
{
	return conf_index_find(&ctx->interface_names, conf_hash_string(CONF_HASH_SEED, name), interface_name_same, ctx,
			       name);
}

static int read_port(struct conf_ctx *ctx, const config_setting_t *group, struct conf_interface *iface, size_t index,
		     struct interface_seen *seen)
{
	if (conf_read_name_required(ctx, group, "device", iface->device) < 0)
		return -1;
	if (conf_device_index(ctx, iface->device) < 0)
		return conf_fail(ctx, config_setting_get_member(group, "device"),
				 "unknown device %s (expected a name from devices)", iface->device);
	if (conf_read_u16(ctx, group, "vlan", 0, 4094, &iface->vlan) < 0)
		return -1;
	struct port_key port = {.device = iface->device, .vlan = iface->vlan};
	uint64_t hash =
		conf_hash_bytes(conf_hash_string(CONF_HASH_SEED, iface->device), &iface->vlan, sizeof(iface->vlan));
	long other = conf_index_find(&seen->ports, hash, port_same, ctx, &port);
	if (other >= 0)
		return conf_fail(ctx, group,
				 "device %s vlan %u is already interface %s (expected each (device, vlan) "
				 "once)",
				 iface->device, iface->vlan, ctx->conf->interfaces[other].name);
	if (conf_index_add(&seen->ports, hash, (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);
	return 0;
}

/* kind = "ipsec" (a function's interface): no device, vlan or mac. */
static int read_kind(struct conf_ctx *ctx, const config_setting_t *group, struct conf_interface *iface)
{
	int rc = conf_read_string(ctx, group, "kind", iface->kind, sizeof(iface->kind), false);
	if (rc <= 0)
		return rc;
	const config_setting_t *s = config_setting_get_member(group, "kind");
	if (!conf_kind_known(iface->kind))
		return conf_fail(ctx, s, "unknown interface kind \"%s\" (expected \"ipsec\", or no kind for a device port)",
				 iface->kind);
	static const char *const port_only[] = {"device", "vlan", "mac"};
	for (size_t i = 0; i < sizeof(port_only) / sizeof(port_only[0]); i++) {
		const config_setting_t *bad = config_setting_get_member(group, port_only[i]);
		if (bad != NULL)
			return conf_fail(ctx, bad, "%s is for device ports (expected none with kind \"%s\")",
					 port_only[i], iface->kind);
	}
	return 0;
}

static int read_mac(struct conf_ctx *ctx, const config_setting_t *group, struct conf_interface *iface)
{
	char text[32];
	int rc = conf_read_string(ctx, group, "mac", text, sizeof(text), false);
	if (rc <= 0)
		return rc;
	const config_setting_t *s = config_setting_get_member(group, "mac");
	static const uint8_t zero[6];
	if (mac_parse(text, iface->mac) < 0)
		return conf_fail(ctx, s, "\"%s\" is not a MAC address (expected aa:bb:cc:dd:ee:ff)", text);
	if ((iface->mac[0] & 1) != 0 || memcmp(iface->mac, zero, sizeof(zero)) == 0)
		return conf_fail(ctx, s,
				 "%s is not a unicast MAC address (expected a non-zero address with the "
				 "multicast bit clear)",
				 text);
	iface->has_mac = true;
	return 0;
}

static int read_addresses(struct conf_ctx *ctx, const config_setting_t *group, struct conf_interface *iface,
			  size_t index, uint32_t vrf, struct interface_seen *seen)
{
	size_t count;
	const config_setting_t *list = conf_read_string_list(ctx, group, "addresses", &count);
	if (list == NULL)
		return ctx->failed ? -1 : 0;
	iface->addresses = calloc(count > 0 ? count : 1, sizeof(*iface->addresses));
	if (iface->addresses == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *entry = config_setting_get_elem(list, (unsigned)i);
		const char *text = config_setting_get_string(entry);
		struct addr_prefix *prefix = &iface->addresses[i];
		if (addr_prefix_parse(text, prefix, false) < 0)
			return conf_fail(ctx, entry,
					 "\"%.64s\" is not an address with prefix length (expected such as "
					 "\"10.0.0.1/24\" or \"2001:db8::1/64\")",
					 text);
		if (prefix->len == 0)
			return conf_fail(ctx, entry, "%s has prefix length 0 (expected 1..%u)", text,
					 prefix->addr.family == 4 ? 32U : 128U);
		struct address_owner owner = {.vrf = vrf, .interface = (uint32_t)index, .addr = prefix->addr};
		uint64_t hash = conf_hash_bytes(conf_hash_bytes(CONF_HASH_SEED, &vrf, sizeof(vrf)), &prefix->addr,
						sizeof(prefix->addr));
		long other = conf_index_find(&seen->addresses, hash, address_same, seen->owners, &owner);
		if (other >= 0)
			return conf_fail(ctx, entry,
					 "address %s is already on interface %s of vrf %s (expected each "
					 "address once per vrf)",
					 text, ctx->conf->interfaces[seen->owners[other].interface].name, iface->vrf);
		if (conf_grow((void **)&seen->owners, &seen->owners_capacity, seen->n_owners + 1,
			      sizeof(*seen->owners)) < 0 ||
		    conf_index_add(&seen->addresses, hash, (uint32_t)seen->n_owners) < 0)
			return conf_fail_nomem(ctx);
		seen->owners[seen->n_owners++] = owner;
		iface->n_addresses = i + 1;
	}
	return 0;
}

/* IPv6 needs a link MTU of at least 1280 (RFC 8200 section 5). */
static int check_ipv6_mtu(struct conf_ctx *ctx, const config_setting_t *group, const struct conf_interface *iface)
{
	if (iface->mtu >= IPV6_MIN_MTU)
		return 0;
	for (size_t i = 0; i < iface->n_addresses; i++) {
		if (iface->addresses[i].addr.family != 6)
			continue;
		const config_setting_t *mtu = config_setting_get_member(group, "mtu");
		const config_setting_t *where =
			mtu != NULL
				? mtu
				: config_setting_get_elem(config_setting_get_member(group, "addresses"), (unsigned)i);
		return conf_fail(ctx, where,
				 "mtu %u%s is below %u but the interface has an IPv6 address (expected mtu "
				 ">= %u)",
				 iface->mtu, mtu != NULL ? "" : " (from its device)", IPV6_MIN_MTU, IPV6_MIN_MTU);
	}
	return 0;
}

static int read_interface(struct conf_ctx *ctx, const config_setting_t *group, size_t index,
			  struct interface_seen *seen)
{
	struct conf_interface *iface = &ctx->conf->interfaces[index];
	if (conf_check_keys(ctx, group, interface_keys) < 0 ||
	    conf_read_name_required(ctx, group, "name", iface->name) < 0)
		return -1;
	if (conf_interface_index(ctx, iface->name) >= 0)
		return conf_fail(ctx, config_setting_get_member(group, "name"),
				 "duplicate interface name %s (expected unique names)", iface->name);
	if (conf_index_add(&ctx->interface_names, conf_hash_string(CONF_HASH_SEED, iface->name), (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);
	if (read_kind(ctx, group, iface) < 0)
		return -1;
	if (iface->kind[0] == '\0' && read_port(ctx, group, iface, index, seen) < 0)
		return -1;
	if (conf_read_name_required(ctx, group, "vrf", iface->vrf) < 0)
		return -1;
	long vrf = conf_vrf_index(ctx, iface->vrf);
	if (vrf < 0)
		return conf_fail(ctx, config_setting_get_member(group, "vrf"),
				 "unknown vrf %s (expected a name from vrfs)", iface->vrf);
	const struct conf_device *dev = iface->kind[0] ? NULL : conf_find_device(ctx->conf, iface->device);
	iface->mtu = dev ? dev->mtu : CONF_TUNNEL_MTU_DEFAULT;
	if (conf_read_u16(ctx, group, "mtu", 68, dev ? dev->mtu : CONF_TUNNEL_MTU_MAX, &iface->mtu) < 0 ||
	    read_mac(ctx, group, iface) < 0 ||
	    read_addresses(ctx, group, iface, index, (uint32_t)vrf, seen) < 0)
		return -1;
	return check_ipv6_mtu(ctx, group, iface);
}

int conf_read_interfaces(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *list = conf_read_group_list(ctx, root, "interfaces");
	if (list == NULL)
		return ctx->failed
			       ? -1
			       : conf_fail(ctx, root,
					   "missing section 'interfaces' (expected a list of at least one "
					   "interface: interfaces = ( { name = \"a\"; device = \"p0\"; vrf = \"main\"; "
					   "} );)");
	size_t count = (size_t)config_setting_length(list);
	if (count == 0)
		return conf_fail(ctx, list, "no interfaces (expected at least one)");
	uint32_t max = ctx->conf->limits.max_interfaces;
	if (count > max)
		return conf_fail(ctx, config_setting_get_elem(list, max),
				 "%zu interfaces exceed limits.max_interfaces "
				 "(expected at most %u)",
				 count, max);
	ctx->conf->interfaces = calloc(count, sizeof(*ctx->conf->interfaces));
	if (ctx->conf->interfaces == NULL)
		return conf_fail_nomem(ctx);
	ctx->conf->n_interfaces = count;
	struct interface_seen seen = {0};
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = read_interface(ctx, config_setting_get_elem(list, (unsigned)i), i, &seen);
	conf_index_free(&seen.ports);
	conf_index_free(&seen.addresses);
	free(seen.owners);
	return rc;
}
