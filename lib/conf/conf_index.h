/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Open-addressing hash set of element indices, used by the config loader for name lookups and duplicate checks.
 * The table stores indices (the element arrays grow and move) plus each entry's hash, so it can grow without
 * knowing the elements; the caller hashes keys and compares them through a callback.
 */
#ifndef NPSGW_CONF_INDEX_H
#define NPSGW_CONF_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_index_slot {
	uint32_t hash;
	uint32_t ref; /* element index + 1; 0 = empty */
};

struct conf_index {
	struct conf_index_slot *slots;
	size_t mask; /* capacity - 1; capacity is a power of two */
	size_t count;
};

/* Does the element at index match key? ctx is passed through from the caller. */
typedef bool (*conf_index_same_fn)(const void *ctx, uint32_t index, const void *key);

void conf_index_free(struct conf_index *ix);
/* Element index equal to key, or -1. */
long conf_index_find(const struct conf_index *ix, uint64_t hash, conf_index_same_fn same, const void *ctx,
		     const void *key);
/* Add index (not checked for duplicates). Returns 0, or -1 when out of memory. */
int conf_index_add(struct conf_index *ix, uint64_t hash, uint32_t index);

/* FNV-1a; chain calls to hash several fields. */
#define CONF_HASH_SEED 0xcbf29ce484222325ULL
uint64_t conf_hash_bytes(uint64_t hash, const void *data, size_t len);
uint64_t conf_hash_string(uint64_t hash, const char *s);

#endif
