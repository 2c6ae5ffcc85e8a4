/* SPDX-License-Identifier: BSD-3-Clause */
/* Registry of the network functions' drop reasons, appended to the core's list (dataplane/drop_reasons.h). */
#ifndef NPSGW_NF_DROPS_H
#define NPSGW_NF_DROPS_H

#include "nf/fw/fw_drops.h"
#include "nf/dslite/dslite_drops.h"
#include "nf/ipsec/ipsec_drops.h"
#include "nf/nat/nat_drops.h"

#define NF_DROP_REASONS(X) \
	NF_FW_DROP_REASONS(X) NF_NAT_DROP_REASONS(X) NF_DSLITE_DROP_REASONS(X) NF_IPSEC_DROP_REASONS(X)

#endif
