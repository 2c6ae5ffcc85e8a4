/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal pcapng writer (draft-ietf-opsawg-pcapng): one section header, any number of interfaces (one per capture
 * point, each with a name and description), enhanced packet blocks with nanosecond timestamps and an optional
 * comment. Writes into a memory buffer the caller drains, so the control thread never blocks on a slow reader.
 * DPDK 22.11's rte_pcapng has no per-packet comments nor free interface names, hence our own. No DPDK here.
 */
#ifndef NPSGW_PCAPNG_H
#define NPSGW_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#define PCAPNG_LINKTYPE_ETHERNET 1

struct pcapng_buf {
	uint8_t *data;
	size_t len, cap;
	int oom;
};

void pcapng_buf_free(struct pcapng_buf *b);
/* Section header block; application names the writer. */
int pcapng_section(struct pcapng_buf *b, const char *application);
/* Interface description block; returns its interface id (0, 1, ...) or -1. */
int pcapng_interface(struct pcapng_buf *b, uint32_t *next_id, const char *name, const char *description,
		     uint16_t linktype, uint32_t snaplen);
/* Enhanced packet block; comment may be NULL. */
int pcapng_packet(struct pcapng_buf *b, uint32_t if_id, uint64_t ts_ns, const void *data, uint32_t caplen,
		  uint32_t origlen, const char *comment);

#endif
