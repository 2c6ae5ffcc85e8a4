/* SPDX-License-Identifier: BSD-3-Clause */
#include "lib/conf/conf_index.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_MIN_CAPACITY 16

/* FNV's low bits mix poorly; fold the high half in before masking. */
static uint32_t index_fold(uint64_t hash)
{
	return (uint32_t)(hash ^ (hash >> 29) ^ (hash >> 47));
}

void conf_index_free(struct conf_index *ix)
{
	free(ix->slots);
	*ix = (struct conf_index){0};
}

long conf_index_find(const struct conf_index *ix, uint64_t hash, conf_index_same_fn same, const void *ctx,
		     const void *key)
{
	if (ix->slots == NULL)
		return -1;
	uint32_t h = index_fold(hash);
	for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
		const struct conf_index_slot *slot = &ix->slots[i];
		if (slot->ref == 0)
			return -1;
		if (slot->hash == h && same(ctx, slot->ref - 1, key))
			return (long)(slot->ref - 1);
	}
}

static void index_place(struct conf_index_slot *slots, size_t mask, uint32_t hash, uint32_t ref)
{
	size_t i = hash & mask;
	while (slots[i].ref != 0)
		i = (i + 1) & mask;
	slots[i] = (struct conf_index_slot){.hash = hash, .ref = ref};
}

/* Keep the load factor at or below one half so probe runs stay short. */
static int index_grow(struct conf_index *ix)
{
	size_t capacity = ix->slots == NULL ? INDEX_MIN_CAPACITY : (ix->mask + 1) * 2;
	struct conf_index_slot *slots = calloc(capacity, sizeof(*slots));
	if (slots == NULL)
		return -1;
	if (ix->slots != NULL) {
		for (size_t i = 0; i <= ix->mask; i++)
			if (ix->slots[i].ref != 0)
				index_place(slots, capacity - 1, ix->slots[i].hash, ix->slots[i].ref);
		free(ix->slots);
	}
	ix->slots = slots;
	ix->mask = capacity - 1;
	return 0;
}

int conf_index_add(struct conf_index *ix, uint64_t hash, uint32_t index)
{
	if ((ix->slots == NULL || (ix->count + 1) * 2 > ix->mask + 1) && index_grow(ix) < 0)
		return -1;
	index_place(ix->slots, ix->mask, index_fold(hash), index + 1);
	ix->count++;
	return 0;
}

uint64_t conf_hash_bytes(uint64_t hash, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

uint64_t conf_hash_string(uint64_t hash, const char *s)
{
	return conf_hash_bytes(hash, s, strlen(s) + 1);
}
