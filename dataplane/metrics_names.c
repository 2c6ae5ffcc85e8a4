/* SPDX-License-Identifier: BSD-3-Clause */
/* Names and help texts of the exported counters, from the X-macro lists: shared by the exporters and their tests. */
#include "dataplane/cp.h"
#include "dataplane/metrics.h"

static const char *const drop_names[] = {
#define DROP_NAME(name, desc) #name,
	NPSGW_DROP_REASONS(DROP_NAME)
#undef DROP_NAME
};
static const char *const ctl_names[] = {
#define CTL_NAME(n) #n,
	NPSGW_CTL_COUNTERS(CTL_NAME)
#undef CTL_NAME
};
const char *const metrics_port_names[MP_COUNT] = {
#define PORT_NAME(n, help) #n,
	METRICS_PORT_COUNTERS(PORT_NAME)
#undef PORT_NAME
};
const char *const metrics_port_help[MP_COUNT] = {
#define PORT_HELP(n, help) help,
	METRICS_PORT_COUNTERS(PORT_HELP)
#undef PORT_HELP
};
const char *const metrics_total_names[MT_COUNT] = {
#define TOTAL_NAME(n, help) #n,
	METRICS_TOTALS(TOTAL_NAME)
#undef TOTAL_NAME
};
const char *const metrics_total_help[MT_COUNT] = {
#define TOTAL_HELP(n, help) help,
	METRICS_TOTALS(TOTAL_HELP)
#undef TOTAL_HELP
};

const char *metrics_drop_name(int reason)
{
	return drop_names[reason];
}

const char *metrics_ctl_name(int counter)
{
	return ctl_names[counter];
}
