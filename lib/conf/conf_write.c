/* SPDX-License-Identifier: BSD-3-Clause */
/* The config writer: a model as a libconfig file that conf_load reads back to the same model (conf_write.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf/conf_int.h"
#include "lib/conf/conf_write.h"

/* A libconfig string literal: quote and backslash escaped, control bytes as \xNN (libconfig reads them back). */
void conf_write_u32(FILE *out, const char *key, uint32_t v)
{
	fprintf(out, "%s = %" PRIu32 "%s;", key, v, v > INT32_MAX ? "L" : "");
}

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_key_str(FILE *f, const char *key, const char *value)
{
	fprintf(f, " %s = ", key);
	put_str(f, value);
	fputc(';', f);
}

static void write_eal(FILE *f, const struct conf_eal *e)
{
	fprintf(f, "eal: {\n\tlcores = ");
	put_str(f, e->lcores);
	fprintf(f, ";\n\tmemory_mb = %u;\n\thugepages = \"%s\";\n\tfile_prefix = ", e->memory_mb,
		e->huge_auto ? "auto" : e->no_huge ? "no" : "yes");
	put_str(f, e->file_prefix);
	fprintf(f, ";\n\textra_args = [");
	for (size_t i = 0; i < e->n_extra_args; i++) {
		fprintf(f, "%s ", i ? "," : "");
		put_str(f, e->extra_args[i]);
	}
	fprintf(f, " ];\n};\n");
}

static void write_scalars(FILE *f, const struct npsgw_conf *c)
{
	fprintf(f, "control: {\n\tsocket = ");
	put_str(f, c->control.socket_path);
	fprintf(f, ";\n\tmode = \"%04o\";\n\tgroup = ", c->control.socket_mode);
	put_str(f, c->control.socket_group);
	fprintf(f, ";\n};\n");
	const struct conf_limits *l = &c->limits;
	fprintf(f,
		"limits: {\n\tmax_vrfs = %u;\n\tmax_interfaces = %u;\n\tmax_nexthops = %u;\n\tmbufs = %u;\n"
		"\ticmp_rate = %u;\n};\n",
		l->max_vrfs, l->max_interfaces, l->max_nexthops, l->mbufs, l->icmp_rate);
	const struct conf_neigh_params *n = &c->neigh;
	fprintf(f,
		"neighbour: {\n\treachable_ms = %u;\n\tretrans_ms = %u;\n\tdelay_ms = %u;\n\tmax_mcast_probes = %u;\n"
		"\tmax_ucast_probes = %u;\n\tstale_ms = %u;\n\thold_packets = %u;\n\tmax_neighbours = %u;\n};\n",
		n->reachable_ms, n->retrans_ms, n->delay_ms, n->max_mcast_probes, n->max_ucast_probes, n->stale_ms,
		n->hold_packets, n->max_neighbours);
	fprintf(f, "metrics: {");
	if (c->metrics.listen_enabled)
		put_key_str(f, "listen", c->metrics.listen);
	fprintf(f, " interval_ms = %u; };\n", c->metrics.interval_ms);
}

static void write_devices(FILE *f, const struct npsgw_conf *c)
{
	fprintf(f, "devices = (");
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct conf_device *d = &c->devices[i];
		fprintf(f, "%s\n\t{", i ? "," : "");
		put_key_str(f, "name", d->name);
		if (d->vdev[0] != '\0')
			put_key_str(f, "vdev", d->vdev);
		else
			put_key_str(f, "pci", d->pci);
		fprintf(f, " rx_queues = %u; mtu = %u; rx_desc = %u; tx_desc = %u; }", d->rx_queues, d->mtu, d->rx_desc,
			d->tx_desc);
	}
	fprintf(f, "\n);\nworkers = (");
	for (size_t i = 0; i < c->n_workers; i++) {
		const struct conf_worker *w = &c->workers[i];
		fprintf(f, "%s\n\t{ lcore = %u; rx = [", i ? "," : "", w->lcore);
		for (size_t q = 0; q < w->n_rxqs; q++)
			fprintf(f, "%s \"%s:%u\"", q ? "," : "", w->rxqs[q].device, w->rxqs[q].queue);
		fprintf(f, " ]; }");
	}
	fprintf(f, "\n);\n");
}

static void write_vrfs_interfaces(FILE *f, const struct npsgw_conf *c)
{
	fprintf(f, "vrfs = (");
	for (size_t i = 0; i < c->n_vrfs; i++) {
		const struct conf_vrf *v = &c->vrfs[i];
		fprintf(f, "%s\n\t{", i ? "," : "");
		put_key_str(f, "name", v->name);
		fprintf(f, " id = %u; fib = \"%s\"; max_routes = %u; }", v->id,
			v->fib == CONF_FIB_COMPACT ? "compact" : "fast", v->max_routes);
	}
	fprintf(f, "\n);\ninterfaces = (");
	for (size_t i = 0; i < c->n_interfaces; i++) {
		const struct conf_interface *in = &c->interfaces[i];
		char buf[ADDR_STR_MAX];
		fprintf(f, "%s\n\t{", i ? "," : "");
		put_key_str(f, "name", in->name);
		if (in->kind[0] != '\0') {
			put_key_str(f, "kind", in->kind);
		} else {
			put_key_str(f, "device", in->device);
			fprintf(f, " vlan = %u;", in->vlan);
		}
		put_key_str(f, "vrf", in->vrf);
		fprintf(f, " mtu = %u;", in->mtu);
		if (in->has_mac)
			fprintf(f, " mac = \"%s\";", mac_fmt(in->mac, buf, sizeof(buf)));
		fprintf(f, " addresses = [");
		for (size_t j = 0; j < in->n_addresses; j++)
			fprintf(f, "%s \"%s\"", j ? "," : "", addr_prefix_fmt(&in->addresses[j], buf, sizeof(buf)));
		fprintf(f, " ]; }");
	}
	fprintf(f, "\n);\n");
}

static void write_route(FILE *f, const struct conf_route *r)
{
	char buf[ADDR_STR_MAX];
	fprintf(f, "\t{");
	put_key_str(f, "vrf", r->vrf);
	fprintf(f, " prefix = \"%s\";", addr_prefix_fmt(&r->prefix, buf, sizeof(buf)));
	switch (r->kind) {
	case CONF_ROUTE_VIA:
		fprintf(f, " via = \"%s\";", addr_fmt(&r->via, buf, sizeof(buf)));
		if (r->dev[0] != '\0')
			put_key_str(f, "dev", r->dev);
		break;
	case CONF_ROUTE_DEV:
		put_key_str(f, "dev", r->dev);
		break;
	case CONF_ROUTE_BLACKHOLE:
		fprintf(f, " blackhole = true;");
		break;
	case CONF_ROUTE_REJECT:
		fprintf(f, " reject = true;");
		break;
	case CONF_ROUTE_LEAK:
		put_key_str(f, "target_vrf", r->target_vrf);
		break;
	}
	fprintf(f, " }");
}

static void write_routes_neighbours(FILE *f, const struct npsgw_conf *c)
{
	if (c->n_routes > 0) {
		fprintf(f, "routes = (\n");
		for (size_t i = 0; i < c->n_routes; i++) {
			write_route(f, &c->routes[i]);
			fprintf(f, "%s\n", i + 1 < c->n_routes ? "," : "");
		}
		fprintf(f, ");\n");
	}
	if (c->n_neighbours > 0) {
		fprintf(f, "neighbours = (\n");
		for (size_t i = 0; i < c->n_neighbours; i++) {
			const struct conf_neighbour *n = &c->neighbours[i];
			char ip[ADDR_STR_MAX], mac[24];
			fprintf(f, "\t{");
			put_key_str(f, "interface", n->interface);
			fprintf(f, " ip = \"%s\"; mac = \"%s\"; }%s\n", addr_fmt(&n->ip, ip, sizeof(ip)),
				mac_fmt(n->mac, mac, sizeof(mac)), i + 1 < c->n_neighbours ? "," : "");
		}
		fprintf(f, ");\n");
	}
}

int conf_write(FILE *out, const struct npsgw_conf *c, const char *header)
{
	for (const char *h = header; h != NULL && *h != '\0';) {
		size_t n = strcspn(h, "\n");
		fprintf(out, "# %.*s\n", (int)n, h);
		h += n + (h[n] == '\n');
	}
	write_eal(out, &c->eal);
	write_scalars(out, c);
	write_devices(out, c);
	write_vrfs_interfaces(out, c);
	write_routes_neighbours(out, c);
	conf_write_ext(out, c);
	return ferror(out) ? -1 : 0;
}

static int write_tmp(const struct npsgw_conf *c, const char *tmp, const char *header, char *err, size_t errlen)
{
	errno = 0;
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return errno;
	}
	int rc = conf_write(f, c, header) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0 ? (errno ? errno : EIO) : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = errno;
	if (rc != 0)
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(rc));
	return rc;
}

int conf_write_file(const struct npsgw_conf *c, const char *path, const char *header, char *err, size_t errlen)
{
	size_t tlen = strlen(path) + 5;
	char *tmp = malloc(tlen);
	if (tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	snprintf(tmp, tlen, "%s.tmp", path);
	int rc = write_tmp(c, tmp, header, err, errlen);
	if (rc == 0) {
		/* Only a file that boots to the same model replaces the old one. */
		char lerr[CONF_ERR_MAX], what[256];
		struct npsgw_conf *back = conf_load(tmp, lerr);
		if (back == NULL) {
			snprintf(err, errlen, "the written configuration does not load back: %s", lerr);
			rc = EINVAL;
		} else if (conf_differs(c, back, CONF_CMP_ALL, what, sizeof(what))) {
			snprintf(err, errlen, "the written configuration loads back differently: %s", what);
			rc = EIO;
		} else if (rename(tmp, path) != 0) {
			rc = errno;
			snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(rc));
		}
		conf_free(back);
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
