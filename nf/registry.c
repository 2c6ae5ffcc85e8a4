/* SPDX-License-Identifier: BSD-3-Clause */
/* The network functions npsd runs, in pipeline order. Adding a function: its folder under nf/ and one line here. */
#include "nf/nf.h"

extern const struct nf_desc fw_nf, nat_nf, dslite_nf, ipsec_nf;

const struct nf_desc *const nf_registry[] = {
	&fw_nf,
	&nat_nf,    /* before dslite: DS-Lite uses its engine and reads its section */
	&dslite_nf,
	&ipsec_nf,  /* owns the interfaces of kind "ipsec" */
};
const size_t nf_count = sizeof(nf_registry) / sizeof(nf_registry[0]);
