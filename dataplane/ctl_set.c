/* SPDX-License-Identifier: BSD-3-Clause */
/* Control commands that change tables: each parses its arguments and calls one cp_* operation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/cp.h"
#include "dataplane/ctl_cmds.h"

static int done(struct ctl_reply *r, int rc, const char *err)
{
	if (rc)
		return ctl_reply_error(r, rc, "%s", err);
	return 0;
}

static int parse_prefix(const struct ctl_args *a, const char *key, struct addr_prefix *p, bool strict,
			struct ctl_reply *r)
{
	const char *v = ctl_arg(a, key);
	if (addr_prefix_parse(v, p, strict) != 0)
		return ctl_reply_error(r, EINVAL, "bad %s '%s' (expected ADDRESS/LENGTH, IPv4 or IPv6%s)", key, v,
				       strict ? ", host bits zero" : "");
	return 0;
}

static int parse_addr(const struct ctl_args *a, const char *key, struct addr *ip, struct ctl_reply *r)
{
	const char *v = ctl_arg(a, key);
	if (addr_parse(v, ip) != 0)
		return ctl_reply_error(r, EINVAL, "bad %s '%s' (expected an IPv4 or IPv6 address)", key, v);
	return 0;
}

int cmd_vrf_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	uint32_t id, max_routes = 65536;
	if (ctl_arg_u32(a, "id", 0, UINT32_MAX - 1, &id, err, sizeof(err)) ||
	    (ctl_arg(a, "max_routes") && ctl_arg_u32(a, "max_routes", 16, 1u << 24, &max_routes, err, sizeof(err))))
		return ctl_reply_error(r, EINVAL, "%s", err);
	const char *fib = ctl_arg(a, "fib");
	if (fib && strcmp(fib, "fast") != 0 && strcmp(fib, "compact") != 0)
		return ctl_reply_error(r, EINVAL, "bad fib '%s' (expected fast or compact)", fib);
	bool compact = fib && strcmp(fib, "compact") == 0;
	return done(r, cp_vrf_add(ctl_arg(a, "name"), id, compact, max_routes, err, sizeof(err)), err);
}

int cmd_vrf_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	return done(r, cp_vrf_del(ctl_arg(a, "name"), err, sizeof(err)), err);
}

int cmd_iface_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	uint32_t vlan = 0, mtu = 0;
	uint8_t mac[6];
	if ((ctl_arg(a, "vlan") && ctl_arg_u32(a, "vlan", 0, 4094, &vlan, err, sizeof(err))) ||
	    (ctl_arg(a, "mtu") && ctl_arg_u32(a, "mtu", 68, 9600, &mtu, err, sizeof(err))))
		return ctl_reply_error(r, EINVAL, "%s", err);
	const char *m = ctl_arg(a, "mac"), *kind = ctl_arg(a, "kind"), *device = ctl_arg(a, "device");
	if ((kind == NULL) == (device == NULL))
		return ctl_reply_error(r, EINVAL, "give either device (a port) or kind (a tunnel: ipsec)");
	if (kind != NULL && (m != NULL || ctl_arg(a, "vlan") != NULL))
		return ctl_reply_error(r, EINVAL, "vlan and mac are for device ports (not with kind %s)", kind);
	if (kind != NULL)
		return done(r,
			    cp_iface_add_kind(ctl_arg(a, "name"), kind, ctl_arg(a, "vrf"), (uint16_t)mtu, err,
					      sizeof(err)),
			    err);
	if (m && mac_parse(m, mac) != 0)
		return ctl_reply_error(r, EINVAL, "bad mac '%s' (expected xx:xx:xx:xx:xx:xx)", m);
	return done(r,
		    cp_iface_add(ctl_arg(a, "name"), ctl_arg(a, "device"), (uint16_t)vlan, ctl_arg(a, "vrf"),
				 (uint16_t)mtu, m ? mac : NULL, err, sizeof(err)),
		    err);
}

int cmd_iface_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	return done(r, cp_iface_del(ctl_arg(a, "name"), err, sizeof(err)), err);
}

int cmd_iface_set(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	uint32_t mtu = 0;
	int up = -1;
	if (ctl_arg(a, "mtu") && ctl_arg_u32(a, "mtu", 68, 9600, &mtu, err, sizeof(err)))
		return ctl_reply_error(r, EINVAL, "%s", err);
	const char *state = ctl_arg(a, "state");
	if (state) {
		if (strcmp(state, "up") == 0)
			up = 1;
		else if (strcmp(state, "down") == 0)
			up = 0;
		else
			return ctl_reply_error(r, EINVAL, "bad state '%s' (expected up or down)", state);
	}
	if (mtu == 0 && up < 0)
		return ctl_reply_error(r, EINVAL, "nothing to set (expected mtu and/or state)");
	return done(r, cp_iface_set(ctl_arg(a, "name"), (uint16_t)mtu, up, err, sizeof(err)), err);
}

int cmd_addr_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	struct addr_prefix p;
	if (parse_prefix(a, "prefix", &p, false, r))
		return r->status;
	return done(r, cp_addr_add(ctl_arg(a, "interface"), &p, err, sizeof(err)), err);
}

int cmd_addr_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	struct addr_prefix p;
	if (parse_prefix(a, "prefix", &p, false, r))
		return r->status;
	return done(r, cp_addr_del(ctl_arg(a, "interface"), &p, err, sizeof(err)), err);
}

int cmd_route_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	struct conf_route rt = {0};
	snprintf(rt.vrf, sizeof(rt.vrf), "%s", ctl_arg(a, "vrf"));
	if (parse_prefix(a, "prefix", &rt.prefix, true, r))
		return r->status;
	const char *via = ctl_arg(a, "via"), *dev = ctl_arg(a, "dev"), *type = ctl_arg(a, "type"),
		   *target = ctl_arg(a, "target_vrf");
	int kinds = (via != NULL) + (type != NULL) + (target != NULL) + (dev != NULL && via == NULL);
	if (kinds != 1)
		return ctl_reply_error(r, EINVAL,
				       "give exactly one of: via GW [dev IFACE], dev IFACE, type blackhole|reject, "
				       "target_vrf VRF");
	if (dev)
		snprintf(rt.dev, sizeof(rt.dev), "%s", dev);
	if (via) {
		rt.kind = CONF_ROUTE_VIA;
		if (parse_addr(a, "via", &rt.via, r))
			return r->status;
	} else if (dev) {
		rt.kind = CONF_ROUTE_DEV;
	} else if (target) {
		rt.kind = CONF_ROUTE_LEAK;
		snprintf(rt.target_vrf, sizeof(rt.target_vrf), "%s", target);
	} else if (strcmp(type, "blackhole") == 0) {
		rt.kind = CONF_ROUTE_BLACKHOLE;
	} else if (strcmp(type, "reject") == 0) {
		rt.kind = CONF_ROUTE_REJECT;
	} else {
		return ctl_reply_error(r, EINVAL, "bad type '%s' (expected blackhole or reject)", type);
	}
	if (dev && type)
		return ctl_reply_error(r, EINVAL, "dev does not go with type %s", type);
	return done(r, cp_route_add(&rt, err, sizeof(err)), err);
}

int cmd_route_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	struct addr_prefix p;
	if (parse_prefix(a, "prefix", &p, true, r))
		return r->status;
	return done(r, cp_route_del(ctl_arg(a, "vrf"), &p, err, sizeof(err)), err);
}

int cmd_neigh_add(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	struct addr ip;
	uint8_t mac[6];
	if (parse_addr(a, "ip", &ip, r))
		return r->status;
	if (mac_parse(ctl_arg(a, "mac"), mac) != 0)
		return ctl_reply_error(r, EINVAL, "bad mac '%s' (expected xx:xx:xx:xx:xx:xx)", ctl_arg(a, "mac"));
	return done(r, cp_neigh_add_static(ctl_arg(a, "interface"), &ip, mac, err, sizeof(err)), err);
}

int cmd_neigh_del(struct ctl_ctx *ctx, const struct ctl_args *a, struct ctl_reply *r)
{
	char err[CP_ERR_MAX];
	struct addr ip;
	if (parse_addr(a, "ip", &ip, r))
		return r->status;
	return done(r, cp_neigh_del(ctl_arg(a, "interface"), &ip, err, sizeof(err)), err);
}
