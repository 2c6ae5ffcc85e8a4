/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec events: one syslog line (LOG_DAEMON | LOG_NOTICE) and one control-socket event of topic "ipsec" each, so
 * the controller rekeys before a hard lifetime and learns where a roaming peer went. Never any key material.
 *
 *   ipsec: sa_soft_lifetime interface=site1 spi=0x1001 direction=in limit=bytes value=1000123 threshold=1000000
 *   ipsec: sa_hard_lifetime interface=site1 spi=0x1001 direction=in limit=packets value=20 threshold=20
 *   ipsec: sa_seq_exhausted interface=site1 spi=0x2001 direction=out limit=sequence value=4294967295 ...
 *   ipsec: peer_moved interface=site1 spi=0x1001 old=198.51.100.2:4500 new=203.0.113.9:61000
 *
 * Events: {"event":"ipsec","time":...,"type":"sa_soft_lifetime","interface":"site1","spi":"0x1001",
 *          "direction":"in","limit":"bytes","value":1000123,"threshold":1000000}
 *         {"event":"ipsec",...,"type":"peer_moved","interface":"site1","spi":"0x1001","old_remote":"198.51.100.2",
 *          "old_port":4500,"new_remote":"203.0.113.9","new_port":61000}
 */
#include <inttypes.h>
#include <stdio.h>
#include <syslog.h>

#include "dataplane/events.h"
#include "nf/ipsec/ipsec_cp.h"
#include "nf/nf_util.h"

static const char *kind_name(enum ipsec_event_kind kind)
{
	switch (kind) {
	case IPSEC_EV_SOFT:
		return "sa_soft_lifetime";
	case IPSEC_EV_HARD:
		return "sa_hard_lifetime";
	case IPSEC_EV_SEQ_EXHAUSTED:
		return "sa_seq_exhausted";
	}
	return "?";
}

void ipsec_event_sa(enum ipsec_event_kind kind, const struct ipsec_cp_tunnel *rec, const struct ipsec_sa *sa,
		    const char *limit, uint64_t value, uint64_t threshold)
{
	char spi[16];
	snprintf(spi, sizeof(spi), "0x%x", sa->spi);
	syslog(LOG_DAEMON | LOG_NOTICE, "ipsec: %s interface=%s spi=%s direction=%s limit=%s value=%" PRIu64
	       " threshold=%" PRIu64, kind_name(kind), rec->conf.interface, spi, ipsec_dir_name(sa->dir), limit, value,
	       threshold);
	if (!event_wanted(EV_IPSEC))
		return;
	struct sbuf b;
	sbuf_init(&b);
	nf_json_member(&b, "type", kind_name(kind));
	nf_json_member(&b, "interface", rec->conf.interface);
	nf_json_member(&b, "spi", spi);
	nf_json_member(&b, "direction", ipsec_dir_name(sa->dir));
	nf_json_member(&b, "limit", limit);
	sbuf_printf(&b, ",\"value\":%" PRIu64 ",\"threshold\":%" PRIu64, value, threshold);
	if (!b.oom)
		event_publish(EV_IPSEC, "ipsec", b.data + 1); /* members without the first comma */
	sbuf_free(&b);
}

void ipsec_event_peer_moved(const struct ipsec_cp_tunnel *rec, const struct addr *old_addr, uint16_t old_port,
			    const struct addr *new_addr, uint16_t new_port, uint32_t spi, bool udp_encap_on)
{
	char old_text[ADDR_STR_MAX], new_text[ADDR_STR_MAX], spi_text[16];
	addr_fmt(old_addr, old_text, sizeof(old_text));
	addr_fmt(new_addr, new_text, sizeof(new_text));
	snprintf(spi_text, sizeof(spi_text), "0x%x", spi);
	bool v6 = new_addr->family == 6;
	syslog(LOG_DAEMON | LOG_NOTICE, "ipsec: peer_moved interface=%s spi=%s old=%s%s%s:%u new=%s%s%s:%u%s",
	       rec->conf.interface, spi_text, v6 ? "[" : "", old_text, v6 ? "]" : "", old_port, v6 ? "[" : "", new_text,
	       v6 ? "]" : "", new_port, udp_encap_on ? " udp_encap=on (peer behind a NAT)" : "");
	if (!event_wanted(EV_IPSEC))
		return;
	struct sbuf b;
	sbuf_init(&b);
	nf_json_member(&b, "type", "peer_moved");
	nf_json_member(&b, "interface", rec->conf.interface);
	nf_json_member(&b, "spi", spi_text);
	nf_json_member(&b, "old_remote", old_text);
	sbuf_printf(&b, ",\"old_port\":%u", old_port);
	nf_json_member(&b, "new_remote", new_text);
	sbuf_printf(&b, ",\"new_port\":%u", new_port);
	if (udp_encap_on)
		sbuf_printf(&b, ",\"udp_encap\":true"); /* the tunnel switched to ESP in UDP */
	if (!b.oom)
		event_publish(EV_IPSEC, "ipsec", b.data + 1);
	sbuf_free(&b);
}
