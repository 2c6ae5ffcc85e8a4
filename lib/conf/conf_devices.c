/* SPDX-License-Identifier: BSD-3-Clause */
/* The devices section and the worker lcores that poll their rx queues. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf/conf_int.h"

/* Ports DPDK can hold (RTE_MAX_ETHPORTS of the DPDK build). */
#define CONF_MAX_DEVICES 32

static const char *const device_keys[] = {"name", "pci", "vdev", "rx_queues", "mtu", "rx_desc", "tx_desc", NULL};
static const char *const worker_keys[] = {"lcore", "rx", NULL};

static bool device_name_same(const void *ctx, uint32_t index, const void *key)
{
	const struct conf_ctx *c = ctx;
	return strcmp(c->conf->devices[index].name, key) == 0;
}

long conf_device_index(const struct conf_ctx *ctx, const char *name)
{
	return conf_index_find(&ctx->device_names, conf_hash_string(CONF_HASH_SEED, name), device_name_same, ctx, name);
}

/* "0000:00:08.0" or "00:08.0" into the full lower-case form; false when it is not a PCI address. */
static bool pci_normalise(const char *s, char *out, size_t out_len)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return false;
	unsigned domain = 0, bus, dev, function;
	int used = -1;
	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &domain, &bus, &dev, &function, &used) != 4 || s[used] != '\0') {
		domain = 0;
		used = -1;
		if (sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &function, &used) != 3 || s[used] != '\0')
			return false;
	}
	if (dev > 0x1f || function > 7)
		return false;
	snprintf(out, out_len, "%04x:%02x:%02x.%x", domain, bus, dev, function);
	return true;
}

/* Length of the vdev instance name ("net_af_packet0" in "net_af_packet0,iface=veth0"): EAL needs it unique. */
static size_t vdev_name_len(const char *vdev)
{
	return strcspn(vdev, ",");
}

static int read_device_port(struct conf_ctx *ctx, const config_setting_t *group, struct conf_device *dev, size_t index)
{
	int has_pci = conf_read_string(ctx, group, "pci", dev->pci, sizeof(dev->pci), false);
	if (has_pci < 0)
		return -1;
	int has_vdev = conf_read_string(ctx, group, "vdev", dev->vdev, sizeof(dev->vdev), false);
	if (has_vdev < 0)
		return -1;
	if (has_pci == has_vdev)
		return conf_fail(ctx, group, "%s pci and vdev (expected exactly one of them)",
				 has_pci ? "both" : "neither");
	if (has_pci) {
		const config_setting_t *pci = config_setting_get_member(group, "pci");
		if (!pci_normalise(config_setting_get_string(pci), dev->pci, sizeof(dev->pci)))
			return conf_fail(ctx, pci, "\"%s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)",
					 dev->pci);
		for (size_t i = 0; i < index; i++)
			if (strcmp(ctx->conf->devices[i].pci, dev->pci) == 0)
				return conf_fail(ctx, pci,
						 "PCI address %s is already used by device %s (expected each once)",
						 dev->pci, ctx->conf->devices[i].name);
		return 0;
	}
	const config_setting_t *vdev = config_setting_get_member(group, "vdev");
	for (const char *p = dev->vdev; *p != '\0'; p++)
		if (isspace((unsigned char)*p))
			return conf_fail(ctx, vdev,
					 "\"%s\" contains white space (expected a vdev such as "
					 "\"net_af_packet0,iface=veth0\")",
					 dev->vdev);
	size_t len = vdev_name_len(dev->vdev);
	if (len == 0)
		return conf_fail(ctx, vdev, "\"%s\" has no driver instance name (expected \"net_DRIVERn,ARGS\")",
				 dev->vdev);
	for (size_t i = 0; i < index; i++) {
		const char *other = ctx->conf->devices[i].vdev;
		if (other[0] != '\0' && vdev_name_len(other) == len && strncmp(other, dev->vdev, len) == 0)
			return conf_fail(ctx, vdev,
					 "vdev name %.*s is already used by device %s (expected unique names)",
					 (int)len, dev->vdev, ctx->conf->devices[i].name);
	}
	return 0;
}

static int read_descriptors(struct conf_ctx *ctx, const config_setting_t *group, const char *key, uint32_t *out)
{
	if (conf_read_u32(ctx, group, key, 64, 16384, out) < 0)
		return -1;
	if ((*out & (*out - 1)) != 0)
		return conf_fail(ctx, config_setting_get_member(group, key),
				 "%u is not a power of two (expected 64, 128, "
				 "..., 16384)",
				 *out);
	return 0;
}

static int read_device(struct conf_ctx *ctx, const config_setting_t *group, size_t index)
{
	struct conf_device *dev = &ctx->conf->devices[index];
	*dev = (struct conf_device){.rx_queues = 1, .mtu = 1500, .rx_desc = 1024, .tx_desc = 1024};
	if (conf_check_keys(ctx, group, device_keys) < 0 || conf_read_name_required(ctx, group, "name", dev->name) < 0)
		return -1;
	uint64_t hash = conf_hash_string(CONF_HASH_SEED, dev->name);
	if (conf_device_index(ctx, dev->name) >= 0)
		return conf_fail(ctx, config_setting_get_member(group, "name"),
				 "duplicate device name %s "
				 "(expected unique names)",
				 dev->name);
	if (conf_index_add(&ctx->device_names, hash, (uint32_t)index) < 0)
		return conf_fail_nomem(ctx);
	if (read_device_port(ctx, group, dev, index) < 0 ||
	    conf_read_u16(ctx, group, "rx_queues", 1, CONF_MAX_RX_QUEUES, &dev->rx_queues) < 0 ||
	    conf_read_u16(ctx, group, "mtu", 68, 9600, &dev->mtu) < 0 ||
	    read_descriptors(ctx, group, "rx_desc", &dev->rx_desc) < 0 ||
	    read_descriptors(ctx, group, "tx_desc", &dev->tx_desc) < 0)
		return -1;
	return 0;
}

int conf_read_devices(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *list = conf_read_group_list(ctx, root, "devices");
	if (list == NULL)
		return ctx->failed ? -1
				   : conf_fail(ctx, root,
					       "missing section 'devices' (expected a list of at least one "
					       "device: devices = ( { name = \"p0\"; pci = \"0000:00:08.0\"; } );)");
	size_t count = (size_t)config_setting_length(list);
	if (count == 0)
		return conf_fail(ctx, list, "no devices (expected at least one)");
	if (count > CONF_MAX_DEVICES)
		return conf_fail(ctx, list, "%zu devices (expected at most %d)", count, CONF_MAX_DEVICES);
	ctx->conf->devices = calloc(count, sizeof(*ctx->conf->devices));
	if (ctx->conf->devices == NULL)
		return conf_fail_nomem(ctx);
	ctx->conf->n_devices = count;
	for (size_t i = 0; i < count; i++)
		if (read_device(ctx, config_setting_get_elem(list, (unsigned)i), i) < 0)
			return -1;
	return 0;
}

/* Which worker polls each (device, queue): worker index, or -1. */
struct rxq_owners {
	int32_t *owner; /* n_devices * CONF_MAX_RX_QUEUES */
};

static int parse_rxq(struct conf_ctx *ctx, const config_setting_t *entry, struct conf_rxq_ref *out,
		     size_t *device_index)
{
	const char *s = config_setting_get_string(entry);
	const char *colon = strrchr(s, ':');
	size_t name_len = colon != NULL ? (size_t)(colon - s) : 0;
	const char *expected = "expected DEVICE:QUEUE such as \"p0:0\"";
	if (colon == NULL || name_len == 0 || name_len >= CONF_NAME_MAX || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
		return conf_fail(ctx, entry, "\"%.64s\" is not an rx queue (%s)", s, expected);
	memcpy(out->device, s, name_len);
	out->device[name_len] = '\0';
	long dev = conf_device_index(ctx, out->device);
	if (dev < 0)
		return conf_fail(ctx, entry, "unknown device %s (expected a name from devices)", out->device);
	unsigned long queue = strtoul(colon + 1, NULL, 10);
	uint16_t n_queues = ctx->conf->devices[dev].rx_queues;
	if (queue >= n_queues)
		return conf_fail(ctx, entry, "queue %lu of device %s does not exist (expected 0..%u: rx_queues is %u)",
				 queue, out->device, n_queues - 1U, n_queues);
	out->queue = (uint16_t)queue;
	*device_index = (size_t)dev;
	return 0;
}

static long lcore_position(const struct conf_ctx *ctx, uint32_t lcore)
{
	for (size_t i = 0; i < ctx->n_lcores; i++)
		if (ctx->lcores[i] == lcore)
			return (long)i;
	return -1;
}

static int read_worker(struct conf_ctx *ctx, const config_setting_t *group, size_t index, struct rxq_owners *owners,
		       bool *lcore_taken)
{
	struct conf_worker *worker = &ctx->conf->workers[index];
	if (conf_check_keys(ctx, group, worker_keys) < 0)
		return -1;
	int rc = conf_read_u32(ctx, group, "lcore", 0, CONF_MAX_LCORE - 1, &worker->lcore);
	if (rc <= 0)
		return rc < 0 ? -1 : conf_fail_missing(ctx, group, "lcore", "an lcore number from eal.lcores");
	const config_setting_t *lcore = config_setting_get_member(group, "lcore");
	long position = lcore_position(ctx, worker->lcore);
	if (position < 0)
		return conf_fail(ctx, lcore, "lcore %u is not in eal.lcores \"%s\" (expected one of its worker lcores)",
				 worker->lcore, ctx->conf->eal.lcores);
	if (position == 0)
		return conf_fail(ctx, lcore,
				 "lcore %u is the main (control) lcore, the first of eal.lcores \"%s\" "
				 "(expected another lcore)",
				 worker->lcore, ctx->conf->eal.lcores);
	if (lcore_taken[worker->lcore])
		return conf_fail(ctx, lcore, "lcore %u already has a worker (expected one worker per lcore)",
				 worker->lcore);
	lcore_taken[worker->lcore] = true;

	size_t count;
	const config_setting_t *rx = conf_read_string_list(ctx, group, "rx", &count);
	if (rx == NULL)
		return ctx->failed ? -1 : 0;
	worker->rxqs = calloc(count > 0 ? count : 1, sizeof(*worker->rxqs));
	if (worker->rxqs == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < count; i++) {
		const config_setting_t *entry = config_setting_get_elem(rx, (unsigned)i);
		struct conf_rxq_ref *ref = &worker->rxqs[i];
		size_t dev = 0;
		if (parse_rxq(ctx, entry, ref, &dev) < 0)
			return -1;
		int32_t *owner = &owners->owner[dev * CONF_MAX_RX_QUEUES + ref->queue];
		if (*owner >= 0)
			return conf_fail(ctx, entry,
					 "queue %s:%u is already polled by the worker on lcore %u (expected "
					 "each queue in one worker)",
					 ref->device, ref->queue, ctx->conf->workers[*owner].lcore);
		*owner = (int32_t)index;
		worker->n_rxqs = i + 1;
	}
	return 0;
}

static int check_all_polled(struct conf_ctx *ctx, const config_setting_t *list, const struct rxq_owners *owners)
{
	for (size_t d = 0; d < ctx->conf->n_devices; d++) {
		const struct conf_device *dev = &ctx->conf->devices[d];
		for (uint16_t q = 0; q < dev->rx_queues; q++)
			if (owners->owner[d * CONF_MAX_RX_QUEUES + q] < 0)
				return conf_fail(ctx, list,
						 "queue %s:%u is not polled by any worker (expected every rx "
						 "queue of every device in one worker's rx list)",
						 dev->name, q);
	}
	return 0;
}

static int read_explicit_workers(struct conf_ctx *ctx, const config_setting_t *list)
{
	size_t count = (size_t)config_setting_length(list);
	struct rxq_owners owners = {.owner = malloc(ctx->conf->n_devices * CONF_MAX_RX_QUEUES * sizeof(int32_t))};
	bool lcore_taken[CONF_MAX_LCORE] = {false};
	if (owners.owner == NULL)
		return conf_fail_nomem(ctx);
	for (size_t i = 0; i < ctx->conf->n_devices * CONF_MAX_RX_QUEUES; i++)
		owners.owner[i] = -1;
	int rc = 0;
	if (count > 0) {
		ctx->conf->workers = calloc(count, sizeof(*ctx->conf->workers));
		if (ctx->conf->workers == NULL)
			rc = conf_fail_nomem(ctx);
		else
			ctx->conf->n_workers = count;
	}
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = read_worker(ctx, config_setting_get_elem(list, (unsigned)i), i, &owners, lcore_taken);
	if (rc == 0)
		rc = check_all_polled(ctx, list, &owners);
	free(owners.owner);
	return rc;
}

/* No workers section: one worker per non-main lcore, queues dealt round robin in device then queue order. */
static int deal_workers(struct conf_ctx *ctx, const config_setting_t *root)
{
	struct npsgw_conf *conf = ctx->conf;
	size_t n_workers = ctx->n_lcores - 1;
	if (n_workers == 0) {
		const config_setting_t *eal = config_setting_get_member(root, "eal");
		const config_setting_t *lcores = eal != NULL ? config_setting_get_member(eal, "lcores") : NULL;
		return conf_fail(ctx, lcores != NULL ? lcores : root,
				 "\"%s\" leaves no lcore for workers (expected at "
				 "least two lcores: the first is the main lcore)",
				 conf->eal.lcores);
	}
	size_t n_queues = 0;
	for (size_t d = 0; d < conf->n_devices; d++)
		n_queues += conf->devices[d].rx_queues;
	conf->workers = calloc(n_workers, sizeof(*conf->workers));
	if (conf->workers == NULL)
		return conf_fail_nomem(ctx);
	conf->n_workers = n_workers;
	size_t per_worker = (n_queues + n_workers - 1) / n_workers;
	for (size_t w = 0; w < n_workers; w++) {
		conf->workers[w].lcore = ctx->lcores[w + 1];
		conf->workers[w].rxqs = calloc(per_worker > 0 ? per_worker : 1, sizeof(struct conf_rxq_ref));
		if (conf->workers[w].rxqs == NULL)
			return conf_fail_nomem(ctx);
	}
	size_t next = 0;
	for (size_t d = 0; d < conf->n_devices; d++) {
		for (uint16_t q = 0; q < conf->devices[d].rx_queues; q++, next++) {
			struct conf_worker *worker = &conf->workers[next % n_workers];
			struct conf_rxq_ref *ref = &worker->rxqs[worker->n_rxqs++];
			snprintf(ref->device, sizeof(ref->device), "%s", conf->devices[d].name);
			ref->queue = q;
		}
	}
	return 0;
}

int conf_read_workers(struct conf_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *list = conf_read_group_list(ctx, root, "workers");
	if (list != NULL)
		return read_explicit_workers(ctx, list);
	return ctx->failed ? -1 : deal_workers(ctx, root);
}
