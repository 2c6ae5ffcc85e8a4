/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ipsec section: a full file read into the expected model, defaults, every validation error (file, line and
 * message text, and no key material in any message), interfaces and VRFs checked against the core model, the SA
 * checks `ipsec sa add` shares, hex parsing, write -> read back -> equal, dup/equal, keys wiped on free.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf.h"
#include "lib/conf/conf_ext.h"
#include "nf/ipsec/ipsec_conf.h"
#include "nf/nf_conf_test.h"

/* Core model: tenant VRF t1, transport VRF underlay, tunnel interfaces site1..site3, a port interface wan0. */
static const char core_text[] =
	"devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
	"vrfs = ( { name = \"underlay\"; id = 0; }, { name = \"t1\"; id = 1; } );\n"
	"interfaces = ( { name = \"wan0\"; device = \"p0\"; vrf = \"underlay\"; },\n"
	"  { name = \"site1\"; kind = \"ipsec\"; vrf = \"t1\"; },\n"
	"  { name = \"site2\"; kind = \"ipsec\"; vrf = \"t1\"; mtu = 1380; },\n"
	"  { name = \"site3\"; kind = \"ipsec\"; vrf = \"t1\"; } );\n";

static struct npsgw_conf *core;

#define K20 "00112233445566778899aabbccddeeff01020304"
#define K16 "00112233445566778899aabbccddeeff"
#define K32 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define K36 K32 "a1b2c3d4"
/* A recognisable key: its hex must never show in an error message. */
#define SECRET "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2"

static int read_section(const config_setting_t *s, const struct npsgw_conf *core, const char *file, void **model,
			char *err, size_t errlen)
{
	return ipsec_conf_read(s, core, file, (struct ipsec_conf **)model, err, errlen);
}

/* Read the "ipsec" setting of text; NULL with err filled on failure. */
static struct ipsec_conf *load_ipsec(const char *text, char err[CONF_ERR_MAX])
{
	return nf_conf_test_load(text, "ipsec", read_section, core, "ips.conf", err);
}

static struct ipsec_conf *load_ok(const char *text)
{
	return nf_conf_test_load_ok(text, "ipsec", read_section, core, "ips.conf");
}

static const char full_text[] =
	"ipsec: {\n"
	"  max_sas = 100;\n"
	"  reassembly_max = 300; reassembly_timeout_ms = 700;\n"
	"  tunnels = (\n"
	"    { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\"; remote = \"198.51.100.2\";\n"
	"      udp_encap = true; remote_port = 4501; follow_peer = true; mss_clamp = 1300;\n"
	"      sas = (\n"
	"        { spi = 0x1001; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\";\n"
	"          esn = true; replay_window = 4096; soft_bytes = 1000; hard_bytes = 8000000000L;\n"
	"          soft_packets = 10; hard_packets = 20; },\n"
	"        { spi = 0x1002; direction = \"in\"; alg = \"aes-cbc-256-sha256\"; key = \"0x" K32 "\";\n"
	"          auth_key = \"" K32 "\"; },\n"
	"        { spi = 0xfffffff0; direction = \"out\"; alg = \"aes-gcm-256\"; key = \"" K36 "\"; },\n"
	"        { spi = 0x1001; direction = \"out\"; alg = \"aes-cbc-128-sha256\"; key = \"" K16 "\";\n"
	"          auth_key = \"" K32 "\"; replay_window = 32; } ); },\n"
	"    { interface = \"site2\"; transport_vrf = \"underlay\"; local = \"2001:db8::1\";\n"
	"      remote = \"2001:db8:1::2\"; }\n"
	"  );\n"
	"};\n";

static void check_addr(const struct addr *a, const char *expected)
{
	char buf[ADDR_STR_MAX];
	CU_ASSERT_STRING_EQUAL(addr_fmt(a, buf, sizeof(buf)), expected);
}

static void test_full(void)
{
	struct ipsec_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->max_sas, 100);
	CU_ASSERT(c->reassembly_max == 300 && c->reassembly_timeout_ms == 700);
	CU_ASSERT_EQUAL_FATAL(c->n_tunnels, 2);

	const struct ipsec_tunnel_conf *t = &c->tunnels[0];
	CU_ASSERT_STRING_EQUAL(t->interface, "site1");
	CU_ASSERT_STRING_EQUAL(t->transport_vrf, "underlay");
	check_addr(&t->local, "192.0.2.1");
	check_addr(&t->remote, "198.51.100.2");
	CU_ASSERT(t->udp_encap && t->follow_peer);
	CU_ASSERT_EQUAL(t->remote_port, 4501);
	CU_ASSERT_EQUAL(t->mss_clamp, 1300);
	CU_ASSERT_EQUAL_FATAL(t->n_sas, 4);

	const struct ipsec_sa_conf *sa = &t->sas[0];
	CU_ASSERT(sa->spi == 0x1001 && sa->dir == IPSEC_DIR_IN && sa->alg == IPSEC_ALG_AES_GCM_128);
	CU_ASSERT_EQUAL(sa->key_len, 20);
	CU_ASSERT(sa->key[0] == 0x00 && sa->key[1] == 0x11 && sa->key[15] == 0xff && sa->key[19] == 0x04);
	CU_ASSERT_EQUAL(sa->auth_key_len, 0);
	CU_ASSERT(sa->esn);
	CU_ASSERT_EQUAL(sa->replay_window, 4096);
	CU_ASSERT(sa->soft_bytes == 1000 && sa->hard_bytes == 8000000000ULL);
	CU_ASSERT(sa->soft_packets == 10 && sa->hard_packets == 20);

	sa = &t->sas[1];
	CU_ASSERT(sa->spi == 0x1002 && sa->alg == IPSEC_ALG_AES_CBC_256_SHA256 && sa->key_len == 32);
	CU_ASSERT(sa->auth_key_len == 32 && sa->auth_key[31] == 0xff);
	CU_ASSERT(!sa->esn && sa->replay_window == 1024 && sa->hard_bytes == 0 && sa->hard_packets == 0);

	sa = &t->sas[2];
	CU_ASSERT(sa->spi == 0xfffffff0u && sa->dir == IPSEC_DIR_OUT && sa->alg == IPSEC_ALG_AES_GCM_256);
	CU_ASSERT(sa->key_len == 36 && sa->key[35] == 0xd4);

	/* an outbound SPI may equal an inbound one: they are chosen by different ends */
	sa = &t->sas[3];
	CU_ASSERT(sa->spi == 0x1001 && sa->dir == IPSEC_DIR_OUT && sa->alg == IPSEC_ALG_AES_CBC_128_SHA256);
	CU_ASSERT(sa->key_len == 16 && sa->replay_window == 32);

	t = &c->tunnels[1];
	CU_ASSERT_STRING_EQUAL(t->interface, "site2");
	check_addr(&t->local, "2001:db8::1");
	check_addr(&t->remote, "2001:db8:1::2");
	CU_ASSERT(!t->udp_encap && !t->follow_peer && t->remote_port == 4500 && t->mss_clamp == 0 && t->n_sas == 0);
	CU_ASSERT_PTR_EQUAL(ipsec_conf_tunnel(c, "site2"), t);
	CU_ASSERT_PTR_NULL(ipsec_conf_tunnel(c, "site3"));
	ipsec_conf_free(c);
}

static void test_defaults(void)
{
	struct ipsec_conf *c = load_ok("ipsec: { };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->max_sas, IPSEC_CONF_MAX_SAS_DEFAULT);
	CU_ASSERT(c->reassembly_max == 1024 && c->reassembly_timeout_ms == 2000);
	CU_ASSERT_EQUAL(c->n_tunnels, 0);
	ipsec_conf_free(c);

	/* the reassembly bounds: 0 (off) and the largest table, 1 ms and a minute */
	c = load_ok("ipsec: { reassembly_max = 0; reassembly_timeout_ms = 1; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->reassembly_max == 0 && c->reassembly_timeout_ms == 1);
	ipsec_conf_free(c);
	c = load_ok("ipsec: { reassembly_max = 65536; reassembly_timeout_ms = 60000; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->reassembly_max == 65536 && c->reassembly_timeout_ms == 60000);
	ipsec_conf_free(c);

	c = load_ok("ipsec: { tunnels = (); max_sas = 1048576; };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->max_sas == 1048576 && c->n_tunnels == 0);
	ipsec_conf_free(c);

	/* the limits: 4 in and 4 out, window bounds, the largest SPI in decimal, mss bounds */
	c = load_ok("ipsec: { tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\";\n"
		    " local = \"10.0.0.1\";"
		    " remote = \"10.0.0.2\"; mss_clamp = 536; sas = (\n"
		    " { spi = 256; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\";\n"
		    "   replay_window = 32; },\n"
		    " { spi = 257; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\";\n"
		    "   replay_window = 0; },\n"
		    " { spi = 258; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
		    " { spi = 4294967295L; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
		    " { spi = 256; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
		    " { spi = 257; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
		    " { spi = 258; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
		    " { spi = 259; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } ); },\n"
		    " { interface = \"site3\"; transport_vrf = \"underlay\";\n"
		    "   local = \"10.0.0.1\"; remote = \"10.0.0.2\";\n"
		    "   mss_clamp = 9000; } ); };\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->tunnels[0].n_sas, 8);
	CU_ASSERT_EQUAL(c->tunnels[0].sas[3].spi, 4294967295u);
	CU_ASSERT_EQUAL(c->tunnels[0].sas[0].replay_window, 32);
	CU_ASSERT_EQUAL(c->tunnels[0].sas[1].replay_window, 0); /* anti-replay off */
	CU_ASSERT_EQUAL(c->tunnels[0].mss_clamp, 536);
	CU_ASSERT_EQUAL(c->tunnels[1].mss_clamp, 9000);
	ipsec_conf_free(c);
}

struct error_case {
	const char *text;
	unsigned line;
	const char *needles[3];
};

/* Line 1 opens ipsec, so x starts on line 2. */
#define IPS(x) "ipsec: {\n" x "\n};\n"
#define TUN_REQ                                                                                                        \
	"interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\"; remote = \"198.51.100.2\"; "
#define TUN(x) IPS(" tunnels = ( { " TUN_REQ x " } );")
#define SA_REQ "spi = 0x1001; direction = \"in\"; alg = \"aes-gcm-128\"; "
#define SA(x) TUN("sas = ( { " x " } );")

static const struct error_case error_cases[] = {
	/* keys and types */
	{"ipsec = 5;\n", 1, {"ipsec: wrong type", "expected a group"}},
	{IPS(" foo = 1;"), 2,
	 {"ips.conf:2: ipsec: unknown key 'foo' (expected one of: max_sas, reassembly_max, reassembly_timeout_ms, "
	  "tunnels)"}},
	{IPS(" reassembly_max = 65537;"), 2, {"ipsec.reassembly_max: 65537 is out of range (expected 0..65536)"}},
	{IPS(" reassembly_timeout_ms = 0;"), 2, {"ipsec.reassembly_timeout_ms: 0 is out of range (expected 1..60000)"}},
	{IPS(" reassembly_timeout_ms = 60001;"), 2, {"60001 is out of range (expected 1..60000)"}},
	{IPS(" reassembly_max = -1;"), 2, {"ipsec.reassembly_max"}},
	{IPS(" tunnels = { interface = \"site1\"; };"), 2, {"ipsec.tunnels: wrong type", "a list of groups"}},
	{TUN("mtu = 1400;"), 2, {"ipsec.tunnels[0]: unknown key 'mtu'", "follow_peer"}},
	{IPS(" max_sas = 15;"), 2, {"ipsec.max_sas: 15 is out of range (expected 16..1048576)"}},
	/* interface */
	{IPS(" tunnels = ( { transport_vrf = \"underlay\"; } );"), 2, {"ipsec.tunnels[0]: missing key 'interface'"}},
	{IPS(" tunnels = ( { interface = \"nope\"; } );"), 2,
	 {"tunnels[0].interface: unknown interface nope (expected an interface of kind \"ipsec\" from the interfaces "
	  "section)"}},
	{IPS(" tunnels = ( { interface = \"wan0\"; } );"), 2,
	 {"tunnels[0].interface: interface wan0 is a port interface on device p0 (expected an interface of kind "
	  "\"ipsec\""}},
	{IPS(" tunnels = ( { " TUN_REQ " },\n { interface = \"site1\"; } );"), 3,
	 {"tunnels[1].interface: interface site1 already has a tunnel, tunnels[0] (expected one tunnel per "
	  "interface)"}},
	/* transport VRF */
	{IPS(" tunnels = ( { interface = \"site1\"; } );"), 2, {"tunnels[0]: missing key 'transport_vrf'"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"blue\"; } );"), 2,
	 {"tunnels[0].transport_vrf: unknown vrf blue (expected a name from vrfs)"}},
	/* endpoints */
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; } );"), 2,
	 {"tunnels[0]: missing key 'local' (expected an IPv4 or IPv6 address"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\"; } );"), 2,
	 {"tunnels[0]: missing key 'remote'"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = 5; } );"), 2,
	 {"tunnels[0].local: wrong type, got an integer"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.0/24\"; } );"), 2,
	 {"tunnels[0].local: \"192.0.2.0/24\" is not an address"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"0.0.0.0\"; } );"), 2,
	 {"local: 0.0.0.0 is the unspecified address (expected a unicast address)"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"224.0.0.5\"; } );"), 2,
	 {"local: 224.0.0.5 is multicast"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"127.0.0.1\"; } );"), 2,
	 {"local: 127.0.0.1 is a loopback address"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"255.255.255.255\"; } );"),
	 2, {"local: 255.255.255.255 is reserved or broadcast"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\";\n"
	     " remote = \"ff02::1\"; } );"),
	 3, {"tunnels[0].remote: ff02::1 is multicast"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"::\"; } );"), 2,
	 {"local: :: is the unspecified address"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\";\n"
	     " remote = \"2001:db8::2\"; } );"),
	 3,
	 {"tunnels[0].remote: remote 2001:db8::2 is IPv6 but local 192.0.2.1 is IPv4 (expected both outer "
	  "addresses of one family)"}},
	{IPS(" tunnels = ( { interface = \"site1\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\";\n"
	     " remote = \"192.0.2.1\"; } );"),
	 3, {"tunnels[0].remote: remote 192.0.2.1 is the local address"}},
	/* tunnel options */
	{TUN("udp_encap = 1;"), 2, {"tunnels[0].udp_encap: wrong type", "true or false"}},
	{TUN("remote_port = 0;"), 2, {"tunnels[0].remote_port: 0 is out of range (expected 1..65535)"}},
	{TUN("remote_port = 65536;"), 2, {"remote_port: 65536 is out of range"}},
	{TUN("follow_peer = \"yes\";"), 2, {"tunnels[0].follow_peer: wrong type"}},
	{TUN("mss_clamp = 535;"), 2, {"tunnels[0].mss_clamp: 535 is out of range (expected 0 (off) or 536..9000)"}},
	{TUN("mss_clamp = 9001;"), 2, {"mss_clamp: 9001 is out of range (expected 0 (off) or 536..9000)"}},
	{TUN("sas = 5;"), 2, {"tunnels[0].sas: wrong type", "a list of SA groups"}},
	{TUN("sas = ( 5 );"), 2, {"tunnels[0].sas[0]: wrong type", "an SA group"}},
	/* SA: required keys */
	{SA("direction = \"in\";"), 2, {"tunnels[0].sas[0]: missing key 'spi'"}},
	{SA("spi = 0x1001;"), 2, {"sas[0]: missing key 'direction' (expected \"in\" or \"out\")"}},
	{SA("spi = 0x1001; direction = \"in\";"), 2, {"sas[0]: missing key 'alg' (expected aes-gcm-128, aes-gcm-256"}},
	{SA(SA_REQ), 2, {"sas[0]: missing key 'key' (expected a hex string)"}},
	{SA(SA_REQ "kee = \"00\";"), 2, {"sas[0]: unknown key 'kee'"}},
	/* SA: values */
	{SA("spi = 255; direction = \"in\";"), 2, {"sas[0].spi: 255 is out of range (expected 256..4294967295)"}},
	{SA("spi = 0; direction = \"in\";"), 2, {"sas[0].spi: 0 is out of range"}},
	{SA("spi = 4294967296L; direction = \"in\";"), 2, {"sas[0].spi: 4294967296 is out of range"}},
	{SA("spi = \"0x1001\";"), 2, {"sas[0].spi: wrong type"}},
	{SA("spi = 0x1001; direction = \"both\";"), 2, {"sas[0].direction: \"both\" is not a valid direction"}},
	{SA("spi = 0x1001; direction = \"in\"; alg = \"aes-ctr-128\";"), 2,
	 {"sas[0].alg: unknown algorithm \"aes-ctr-128\" (expected one of aes-gcm-128, aes-gcm-256, "
	  "aes-cbc-128-sha256, aes-cbc-256-sha256)"}},
	{SA("spi = 0x1001; direction = \"in\"; alg = 3;"), 2, {"sas[0].alg: wrong type"}},
	/* keys: never quoted back */
	{SA(SA_REQ "key = \"" K16 "\";"), 2,
	 {"sas[0].key: key is 16 bytes (expected 20 for aes-gcm-128: the AES key and the 4-byte salt, RFC 4106)"}},
	{SA(SA_REQ "key = \"" SECRET "a\";"), 2,
	 {"sas[0].key: bad hex key: 41 hex digits (expected an even number: two per byte)"}},
	{SA(SA_REQ "key = \"5ec2e7zz\";"), 2, {"sas[0].key: bad hex key: character 7 is not a hex digit"}},
	{SA(SA_REQ "key = \"\";"), 2, {"sas[0].key: bad hex key: no hex digits"}},
	{SA(SA_REQ "key = \"" K36 "00\";"), 2, {"sas[0].key: bad hex key: 37 bytes (expected at most 36)"}},
	{SA(SA_REQ "key = 5;"), 2, {"sas[0].key: wrong type", "a hex string"}},
	{SA("spi = 0x1001; direction = \"in\"; alg = \"aes-gcm-256\"; key = \"" K20 "\";"), 2,
	 {"sas[0].key: key is 20 bytes (expected 36 for aes-gcm-256"}},
	{SA(SA_REQ "key = \"" SECRET "\"; auth_key = \"" K32 "\";"), 2,
	 {"sas[0].auth_key: auth key given for aes-gcm-128 (expected none: GCM authenticates with its own key)"}},
	{SA("spi = 0x1001; direction = \"in\"; alg = \"aes-cbc-128-sha256\"; key = \"" K16 "\";"), 2,
	 {"sas[0]: no auth key (expected a 32-byte HMAC-SHA-256 key for aes-cbc-128-sha256)"}},
	{SA("spi = 0x1001; direction = \"in\"; alg = \"aes-cbc-128-sha256\"; key = \"" K16 "\";\n"
	    " auth_key = \"" K16 "\";"),
	 3, {"sas[0].auth_key: auth key is 16 bytes (expected 32 for aes-cbc-128-sha256: HMAC-SHA-256, RFC 4868)"}},
	{SA("spi = 0x1001; direction = \"in\"; alg = \"aes-cbc-256-sha256\"; key = \"" K16 "\";"), 2,
	 {"sas[0].key: key is 16 bytes (expected 32 for aes-cbc-256-sha256)"}},
	/* window, esn, lifetimes */
	{SA(SA_REQ "key = \"" K20 "\"; replay_window = 31;"), 2,
	 {"sas[0].replay_window: replay window 31 is out of range (expected 0 (anti-replay off) or 32..4096 packets)"}},
	{SA(SA_REQ "key = \"" K20 "\"; replay_window = 4097;"), 2,
	 {"sas[0].replay_window: 4097 is out of range (expected 0..4096)"}},
	{SA(SA_REQ "key = \"" K20 "\"; replay_window = 0; esn = true;"), 2,
	 {"sas[0].replay_window: replay window 0 (anti-replay off) with esn (expected esn off, or a window"}},
	{SA(SA_REQ "key = \"" K20 "\"; esn = 1;"), 2, {"sas[0].esn: wrong type"}},
	{SA(SA_REQ "key = \"" K20 "\"; soft_bytes = 100; hard_bytes = 100;"), 2,
	 {"sas[0].soft_bytes: soft_bytes 100 is not below hard_bytes 100 (expected the soft lifetime first"}},
	{SA(SA_REQ "key = \"" K20 "\"; soft_packets = 5000000000L; hard_packets = 10;"), 2,
	 {"sas[0].soft_packets: soft_packets 5000000000 is not below hard_packets 10"}},
	{SA(SA_REQ "key = \"" K20 "\"; hard_bytes = -1;"), 2, {"sas[0].hard_bytes: -1 is out of range"}},
	/* SPIs and counts */
	{IPS(" tunnels = ( { " TUN_REQ "sas = ( { " SA_REQ "key = \"" K20 "\"; } ); },\n"
	     " { interface = \"site2\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\";\n"
	     " remote = \"198.51.100.3\";\n"
	     " sas = ( { spi = 0x1001;\n direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } ); } );"),
	 5,
	 {"tunnels[1].sas[0].spi: duplicate inbound spi 0x1001, already an SA of tunnel site1 (expected inbound SPIs "
	  "unique over the gateway"}},
	{TUN("sas = ( { " SA_REQ "key = \"" K20 "\"; },\n { " SA_REQ "key = \"" K20 "\"; } );"), 3,
	 {"sas[1].spi: duplicate inbound spi 0x1001, already an SA of tunnel site1"}},
	{TUN("sas = ( { spi = 300; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 300; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } );"),
	 3, {"sas[1].spi: duplicate outbound spi 0x12c in this tunnel (expected outbound SPIs unique per tunnel)"}},
	{TUN("sas = ( { spi = 300; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 301; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 302; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 303; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 304; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } );"),
	 6, {"sas[4]: more than 4 inbound SAs (expected at most 4 per tunnel)"}},
	{TUN("sas = ( { spi = 300; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 301; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 302; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 303; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 304; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } );"),
	 6, {"sas[4]: more than 4 outbound SAs (expected at most 4 per tunnel: the last one listed is active)"}},
	{IPS(" max_sas = 16;\n tunnels = ( { " TUN_REQ "sas = (\n"
	     " { spi = 300; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } ); },\n"
	     " { interface = \"site2\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\";\n"
	     " remote = \"198.51.100.3\"; "
	     "sas = (\n"
	     " { spi = 400; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 401; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 402; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 403; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 404; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 405; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 406; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 407; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } ); },\n"
	     " { interface = \"site3\"; transport_vrf = \"underlay\"; local = \"192.0.2.1\";\n"
	     " remote = \"198.51.100.4\"; "
	     "sas = (\n"
	     " { spi = 500; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 501; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 502; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 504; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 505; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 506; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 507; direction = \"in\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; },\n"
	     " { spi = 508; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\"; } ); } );"),
	 3, {"ipsec.tunnels: 17 SAs (expected at most max_sas = 16)"}},
	/* a later tunnel, several lines down */
	{IPS(" tunnels = ( { " TUN_REQ " },\n { interface = \"site2\"; transport_vrf = \"underlay\";\n"
	     " local = \"2001:db8::1\";\n remote = \"2001:db8::2\";\n udp_encap = true;\n remote_port = 0; } );"),
	 7, {"tunnels[1].remote_port: 0 is out of range"}},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *e = &error_cases[i];
		char err[CONF_ERR_MAX], where[32];
		struct ipsec_conf *c = load_ipsec(e->text, err);
		snprintf(where, sizeof(where), "ips.conf:%u: ", e->line);
		bool ok = c == NULL && strncmp(err, where, strlen(where)) == 0;
		for (size_t k = 0; k < 3 && ok && e->needles[k] != NULL; k++)
			ok = strstr(err, e->needles[k]) != NULL;
		/* no message quotes key material, good or bad */
		bool leak = strstr(err, "5ec2e7") != NULL || strstr(err, "00112233") != NULL;
		if (getenv("IPSEC_TEST_SHOW") != NULL)
			printf("%s\n", err);
		if (!ok || leak)
			fprintf(stderr, "\ncase %zu: expected %s%s\n  got: %s\n  text: %s\n", i, where, e->needles[0],
				c == NULL ? err : "(loaded)", e->text);
		CU_ASSERT(ok);
		CU_ASSERT(!leak);
		ipsec_conf_free(c);
	}
}

/* Without a core model, interface and VRF names are not checked (the rest is). */
static void test_no_core(void)
{
	struct npsgw_conf *saved = core;
	core = NULL;
	struct ipsec_conf *c = load_ok("ipsec: { tunnels = ( { interface = \"x1\"; transport_vrf = \"nowhere\";\n"
				       " local = \"192.0.2.1\"; remote = \"192.0.2.2\"; } ); };\n");
	char err[CONF_ERR_MAX];
	struct ipsec_conf *bad = load_ipsec("ipsec: { tunnels = ( { interface = \"x1\"; transport_vrf = \"nowhere\";\n"
					    " local = \"192.0.2.1\"; remote = \"2001:db8::2\"; } ); };\n", err);
	core = saved;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->tunnels[0].interface, "x1");
	CU_ASSERT_STRING_EQUAL(c->tunnels[0].transport_vrf, "nowhere");
	CU_ASSERT_PTR_NULL(bad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ips.conf:2: ipsec.tunnels[0].remote: remote 2001:db8::2 is IPv6"));
	ipsec_conf_free(c);
}

/* The interface of kind ipsec comes from the core loader: an unknown kind is refused there. */
static void test_core_kind(void)
{
	char err[CONF_ERR_MAX];
	struct npsgw_conf *bad = conf_load_string(
		"devices = ( { name = \"p0\"; vdev = \"net_null0\"; } );\n"
		"vrfs = ( { name = \"t1\"; id = 1; } );\n"
		"interfaces = ( { name = \"x\"; kind = \"gre\"; vrf = \"t1\"; } );\n",
		"core.conf", err);
	CU_ASSERT_PTR_NULL(bad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown interface kind \"gre\""));
	conf_free(bad);
	const struct conf_interface *ifc = conf_find_interface(core, "site2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ifc);
	CU_ASSERT_STRING_EQUAL(ifc->kind, "ipsec");
	CU_ASSERT_EQUAL(ifc->mtu, 1380);
}

static void test_sa_check(void)
{
	char why[192];
	struct ipsec_sa_conf sa = {.spi = 0x2000, .dir = IPSEC_DIR_OUT, .alg = IPSEC_ALG_AES_GCM_128, .key_len = 20,
				   .replay_window = 64};
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), 0);
	sa.alg = IPSEC_ALG_COUNT;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "unknown algorithm"));
	sa.alg = IPSEC_ALG_AES_CBC_256_SHA256;
	sa.key_len = 32;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no auth key"));
	sa.auth_key_len = 32;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), 0);
	sa.spi = 255;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "spi 255 is reserved"));
	sa.spi = 256;
	sa.soft_packets = 10; /* a soft lifetime alone is fine */
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), 0);
	sa.hard_packets = 10;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);
	sa.hard_packets = 11;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), 0);
	/* window 0: anti-replay off, not with ESN on an inbound SA (outbound SAs have no window) */
	sa.replay_window = 0;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), 0);
	sa.esn = true;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), 0);
	sa.dir = IPSEC_DIR_IN;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "with esn"));
	sa.esn = false;
	sa.replay_window = 31;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);
	sa.replay_window = 64;
	sa.dir = 2;
	CU_ASSERT_EQUAL(ipsec_sa_conf_check(&sa, why, sizeof(why)), -1);

	/* names both ways */
	for (uint8_t a = 0; a < IPSEC_ALG_COUNT; a++)
		CU_ASSERT_EQUAL(ipsec_alg_parse(ipsec_alg_name(a)), a);
	CU_ASSERT_EQUAL(ipsec_alg_parse("AES-GCM-128"), -1);
	CU_ASSERT_STRING_EQUAL(ipsec_alg_name(IPSEC_ALG_COUNT), "?");
	CU_ASSERT(ipsec_alg_key_len(IPSEC_ALG_AES_GCM_256) == 36 && ipsec_alg_auth_key_len(IPSEC_ALG_AES_GCM_256) == 0);
	CU_ASSERT(ipsec_alg_key_len(IPSEC_ALG_AES_CBC_128_SHA256) == 16 &&
		  ipsec_alg_auth_key_len(IPSEC_ALG_AES_CBC_128_SHA256) == 32);
	CU_ASSERT_STRING_EQUAL(ipsec_dir_name(IPSEC_DIR_IN), "in");
	CU_ASSERT_STRING_EQUAL(ipsec_dir_name(IPSEC_DIR_OUT), "out");
}

static void test_hex(void)
{
	uint8_t b[8];
	char why[128];
	CU_ASSERT_EQUAL(ipsec_hex_parse("0xA0b1", b, sizeof(b), why, sizeof(why)), 2);
	CU_ASSERT(b[0] == 0xa0 && b[1] == 0xb1);
	CU_ASSERT_EQUAL(ipsec_hex_parse("00ff00ff00ff00ff", b, sizeof(b), why, sizeof(why)), 8);
	CU_ASSERT_EQUAL(ipsec_hex_parse("00ff00ff00ff00ff00", b, sizeof(b), why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "9 bytes (expected at most 8)"));
	CU_ASSERT_EQUAL(ipsec_hex_parse("0x", b, sizeof(b), why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(ipsec_hex_parse("abc", b, sizeof(b), why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(ipsec_hex_parse("a-", b, sizeof(b), why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "character 2 is not a hex digit"));
	CU_ASSERT_EQUAL(ipsec_hex_parse("g0", b, sizeof(b), why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "character 1 is not a hex digit"));
}

static char *write_to_string(const struct ipsec_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ipsec_conf_write(f, c);
	fclose(f);
	return buf;
}

static void round_trip(const char *text)
{
	struct ipsec_conf *c = load_ok(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char *written = write_to_string(c);
	struct ipsec_conf *back = load_ok(written);
	CU_ASSERT_PTR_NOT_NULL(back);
	if (back == NULL)
		fprintf(stderr, "written:\n%s\n", written);
	CU_ASSERT(ipsec_conf_equal(c, back));
	if (back != NULL) {
		char *again = write_to_string(back);
		CU_ASSERT_STRING_EQUAL(again, written);
		free(again);
	}
	if (getenv("IPSEC_TEST_SHOW") != NULL)
		printf("%s", written);
	free(written);
	ipsec_conf_free(back);
	ipsec_conf_free(c);
}

static void test_write_read(void)
{
	round_trip(full_text);
	round_trip("ipsec: { };\n");
	round_trip(SA(SA_REQ "key = \"" K20 "\"; soft_packets = 4294967296L; hard_packets = 9223372036854775807L;"));
	round_trip(SA("spi = 4294967295L; direction = \"out\"; alg = \"aes-gcm-128\"; key = \"" K20 "\";"));
}

static void test_dup_equal(void)
{
	struct ipsec_conf *c = load_ok(full_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct ipsec_conf *d = ipsec_conf_dup(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(ipsec_conf_equal(c, d));
	CU_ASSERT(ipsec_conf_equal(NULL, NULL));
	CU_ASSERT(!ipsec_conf_equal(c, NULL));
	CU_ASSERT(!ipsec_conf_equal(NULL, d));
	CU_ASSERT_PTR_NOT_EQUAL(d->tunnels, c->tunnels);
	CU_ASSERT_PTR_NOT_EQUAL(d->tunnels[0].sas, c->tunnels[0].sas);

#define FLIP(field, changed, original)                                                                                 \
	do {                                                                                                           \
		field = changed;                                                                                       \
		CU_ASSERT(!ipsec_conf_equal(c, d));                                                                    \
		field = original;                                                                                      \
		CU_ASSERT(ipsec_conf_equal(c, d));                                                                     \
	} while (0)
	struct ipsec_tunnel_conf *t = &d->tunnels[0];
	struct ipsec_sa_conf *sa = &t->sas[0], *cbc = &t->sas[1];
	FLIP(d->max_sas, 101, 100);
	FLIP(d->reassembly_max, 301, 300);
	FLIP(d->reassembly_timeout_ms, 701, 700);
	FLIP(d->n_tunnels, 1, 2);
	FLIP(t->interface[0], 'S', 's');
	FLIP(t->transport_vrf[0], 'U', 'u');
	FLIP(t->local.bytes[3], 2, 1);
	FLIP(t->remote.bytes[3], 3, 2);
	FLIP(t->udp_encap, false, true);
	FLIP(t->remote_port, 4500, 4501);
	FLIP(t->follow_peer, false, true);
	FLIP(t->mss_clamp, 0, 1300);
	FLIP(t->n_sas, 3, 4);
	FLIP(sa->spi, 0x1003, 0x1001);
	FLIP(sa->dir, IPSEC_DIR_OUT, IPSEC_DIR_IN);
	FLIP(sa->alg, IPSEC_ALG_AES_GCM_256, IPSEC_ALG_AES_GCM_128);
	FLIP(sa->key[19], 0x05, 0x04);
	FLIP(sa->key_len, 19, 20);
	FLIP(cbc->auth_key[0], 0x01, 0x00);
	FLIP(sa->esn, false, true);
	FLIP(sa->replay_window, 64, 4096);
	FLIP(sa->soft_bytes, 1, 1000);
	FLIP(sa->hard_bytes, 1, 8000000000ULL);
	FLIP(sa->soft_packets, 1, 10);
	FLIP(sa->hard_packets, 1, 20);
#undef FLIP
	/* tunnel parameters without the SAs */
	CU_ASSERT(ipsec_tunnel_conf_same_params(&c->tunnels[0], t));
	t->n_sas = 0;
	CU_ASSERT(ipsec_tunnel_conf_same_params(&c->tunnels[0], t));
	CU_ASSERT(!ipsec_conf_equal(c, d));
	t->n_sas = 4;
	t->mss_clamp = 1;
	CU_ASSERT(!ipsec_tunnel_conf_same_params(&c->tunnels[0], t));
	t->mss_clamp = 1300;
	ipsec_conf_free(d);
	ipsec_conf_free(c);
}

static void test_wipe(void)
{
	struct ipsec_sa_conf sa = {.key_len = 20, .auth_key_len = 32};
	memset(sa.key, 0xab, sizeof(sa.key));
	memset(sa.auth_key, 0xcd, sizeof(sa.auth_key));
	ipsec_sa_conf_wipe(&sa);
	static const struct ipsec_sa_conf zero;
	CU_ASSERT_EQUAL(memcmp(sa.key, zero.key, sizeof(sa.key)), 0);
	CU_ASSERT_EQUAL(memcmp(sa.auth_key, zero.auth_key, sizeof(sa.auth_key)), 0);
	CU_ASSERT(sa.key_len == 0 && sa.auth_key_len == 0);
}

int main(void)
{
	char err[CONF_ERR_MAX];
	conf_kind_register("ipsec"); /* as nf_register_conf does for a function with tunnel_out */
	core = conf_load_string(core_text, "core.conf", err);
	if (core == NULL) {
		fprintf(stderr, "core model: %s\n", err);
		return 1;
	}
	const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"full section", test_full},
		{"defaults and limits", test_defaults},
		{"validation errors", test_errors},
		{"no core model", test_no_core},
		{"core interfaces of kind ipsec", test_core_kind},
		{"SA checks shared with sa add", test_sa_check},
		{"hex keys", test_hex},
		{"write, read back, equal", test_write_read},
		{"dup and equal", test_dup_equal},
		{"key wipe", test_wipe},
	};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite suite = CU_add_suite("nf/ipsec/ipsec_conf", NULL, NULL);
	for (size_t i = 0; suite != NULL && i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(suite, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	conf_free(core);
	return failures == 0 ? 0 : 1;
}
