/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipsec section written back as the boot file says it (syntax: nf/ipsec/ipsec_conf.c). Every value is explicit,
 * so reading the output back gives an equal model (ipsec_conf_equal), which the tests check. Static SA keys are
 * part of the configuration and are written (a config file is the one place they may be); nothing else in the
 * function ever prints them.
 */
#include <inttypes.h>
#include <stdio.h>

#include "lib/conf/conf_write.h"
#include "nf/ipsec/ipsec_conf.h"

static void write_hex(FILE *out, const char *key, const uint8_t *b, size_t n)
{
	fprintf(out, "%s = \"", key);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", b[i]);
	fprintf(out, "\";");
}

/* "key = V;" with the L suffix beyond 32 bits (libconfig reads larger integers only with it). */
static void write_u64(FILE *out, const char *key, uint64_t v)
{
	fprintf(out, " %s = %" PRIu64 "%s;", key, v, v > INT32_MAX ? "L" : "");
}

static void write_sa(FILE *out, const struct ipsec_sa_conf *sa, bool last)
{
	fprintf(out, "\t\t\t{ spi = 0x%" PRIx32 "; direction = \"%s\"; alg = \"%s\";\n\t\t\t  ", sa->spi,
		ipsec_dir_name(sa->dir), ipsec_alg_name(sa->alg));
	write_hex(out, "key", sa->key, sa->key_len);
	if (sa->auth_key_len > 0) {
		fprintf(out, "\n\t\t\t  ");
		write_hex(out, "auth_key", sa->auth_key, sa->auth_key_len);
	}
	fprintf(out, "\n\t\t\t  esn = %s; replay_window = %" PRIu32 ";", sa->esn ? "true" : "false",
		sa->replay_window);
	write_u64(out, "soft_bytes", sa->soft_bytes);
	write_u64(out, "hard_bytes", sa->hard_bytes);
	write_u64(out, "soft_packets", sa->soft_packets);
	write_u64(out, "hard_packets", sa->hard_packets);
	fprintf(out, " }%s\n", last ? "" : ",");
}

static void write_tunnel(FILE *out, const struct ipsec_tunnel_conf *t, bool last)
{
	char lb[ADDR_STR_MAX], rb[ADDR_STR_MAX];
	fprintf(out, "\t\t{ interface = \"%s\"; transport_vrf = \"%s\"; local = \"%s\"; remote = \"%s\";\n",
		t->interface, t->transport_vrf, addr_fmt(&t->local, lb, sizeof(lb)),
		addr_fmt(&t->remote, rb, sizeof(rb)));
	fprintf(out, "\t\t  udp_encap = %s; remote_port = %u; follow_peer = %s; mss_clamp = %u;\n",
		t->udp_encap ? "true" : "false", t->remote_port, t->follow_peer ? "true" : "false", t->mss_clamp);
	fprintf(out, "\t\t  sas = (%s", t->n_sas > 0 ? "\n" : "");
	for (size_t i = 0; i < t->n_sas; i++)
		write_sa(out, &t->sas[i], i + 1 == t->n_sas);
	fprintf(out, "%s); }%s\n", t->n_sas > 0 ? "\t\t  " : "", last ? "" : ",");
}

void ipsec_conf_write(FILE *out, const struct ipsec_conf *c)
{
	fprintf(out, "ipsec: {\n\t");
	conf_write_u32(out, "max_sas", c->max_sas);
	fprintf(out, "\n\t");
	conf_write_u32(out, "reassembly_max", c->reassembly_max);
	fprintf(out, "\n\t");
	conf_write_u32(out, "reassembly_timeout_ms", c->reassembly_timeout_ms);
	fprintf(out, "\n\ttunnels = (%s", c->n_tunnels > 0 ? "\n" : "");
	for (size_t i = 0; i < c->n_tunnels; i++)
		write_tunnel(out, &c->tunnels[i], i + 1 == c->n_tunnels);
	fprintf(out, "%s);\n};\n", c->n_tunnels > 0 ? "\t" : "");
}
