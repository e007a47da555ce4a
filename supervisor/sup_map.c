/*
 * sup_map.c -- the index of a supervisor's children (sup_map.h).
 */
#include <string.h>

#include "alloc.h"
#include "sup_map.h"

/* A 64-bit finaliser (splitmix64's): every input bit reaches every
 * output bit, so that keys that differ in a few low bits (consecutive
 * slots, generations) spread over the table. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t
trs_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return mix(h);
}

uint64_t
trs_hash_ref(tr_ref r)
{
	return mix(((uint64_t)r.node << 32 | r.proc) ^
	    mix((uint64_t)r.slot << 32 | r.gen));
}

static size_t
home(const trs_map *m, uint64_t key)
{
	return (size_t)key & (m->cap - 1);
}

/* Moves the entries of the old arrays into m's (empty) ones. */
static void
rehash(trs_map *m, uint64_t *keys, void **vals, size_t cap)
{
	for (size_t i = 0; i < cap; i++) {
		if (vals[i] != NULL) {
			trs_map_put(m, keys[i], vals[i]);
		}
	}
}

int
trs_map_reserve(trs_map *m, size_t n)
{
	uint64_t *keys, *okeys = m->keys;
	void **vals, **ovals = m->vals;
	size_t cap = m->cap ? m->cap : 16, ocap = m->cap;

	while (n > cap / 2) {
		cap *= 2;
	}
	if (cap == m->cap) {
		return TR_OK;
	}
	keys = tri_malloc(cap * sizeof(*keys));
	vals = tri_calloc(cap, sizeof(*vals));
	if (keys == NULL || vals == NULL) {
		tri_free(keys);
		tri_free(vals);
		return TR_ENOMEM;
	}
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	m->n = 0;
	rehash(m, okeys, ovals, ocap);
	tri_free(okeys);
	tri_free(ovals);
	return TR_OK;
}

void
trs_map_put(trs_map *m, uint64_t key, void *v)
{
	size_t i = home(m, key);

	while (m->vals[i] != NULL) {
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = key;
	m->vals[i] = v;
	m->n++;
}

void
trs_map_del(trs_map *m, uint64_t key, const void *v)
{
	size_t i, j, mask = m->cap - 1;

	if (m->cap == 0) {
		return;
	}
	for (i = home(m, key); m->vals[i] != v || m->keys[i] != key;
	     i = (i + 1) & mask) {
		if (m->vals[i] == NULL) {
			return; /* not there */
		}
	}
	/* Backward shift: an entry after the hole moves into it if its
	 * home does not lie (cyclically) between the hole and it. */
	for (j = (i + 1) & mask; m->vals[j] != NULL; j = (j + 1) & mask) {
		size_t h = home(m, m->keys[j]);
		bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
		if (!stays) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->vals[i] = NULL;
	m->n--;
}

void *
trs_map_find(const trs_map *m, uint64_t key,
    bool (*match)(const void *v, const void *arg), const void *arg)
{
	if (m->cap == 0) {
		return NULL;
	}
	for (size_t i = home(m, key); m->vals[i] != NULL;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key && match(m->vals[i], arg)) {
			return m->vals[i];
		}
	}
	return NULL;
}

void
trs_map_fini(trs_map *m)
{
	tri_free(m->keys);
	tri_free(m->vals);
	memset(m, 0, sizeof(*m));
}
