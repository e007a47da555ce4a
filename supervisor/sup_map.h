/*
 * sup_map.h -- private to troupe's supervisors: an index of a
 * supervisor's children by a 64-bit key -- a hash of a child's id, or
 * of its ref -- so that finding the child a message is about costs the
 * same with 10 children as with 100,000.  Not API.
 *
 * Keys are hashes: two entries may share one, and a lookup tells them
 * apart with the caller's match function.  Open addressing, linear
 * probing, deletion by backward shift (no tombstones); at most half
 * full.  Reserve room first and the puts that follow cannot fail.
 * One thread: the supervisor's.
 */
#ifndef TRS_SUP_MAP_H
#define TRS_SUP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "troupe.h"

typedef struct trs_map {
	uint64_t *keys;
	void **vals; /* NULL: a free slot */
	size_t cap;  /* a power of two, or 0 */
	size_t n;
} trs_map;

/* Room for n entries in all: TR_OK, or TR_ENOMEM (the map is as it
 * was). */
int trs_map_reserve(trs_map *m, size_t n);
/* Adds (key, v), v not NULL.  Needs room (trs_map_reserve). */
void trs_map_put(trs_map *m, uint64_t key, void *v);
/* Removes (key, v) if it is there. */
void trs_map_del(trs_map *m, uint64_t key, const void *v);
/* The first value under key for which match(v, arg) holds, or NULL. */
void *trs_map_find(const trs_map *m, uint64_t key,
    bool (*match)(const void *v, const void *arg), const void *arg);
void trs_map_fini(trs_map *m);

/* Keys. */
uint64_t trs_hash_str(const char *s);
uint64_t trs_hash_ref(tr_ref r);

#endif
