/*
 * refset.h -- private to troupe: an actor's links (a set of refs) and
 * the monitors it holds (monitor ids to refs), at O(1) per operation
 * however many it has -- a supervisor links to and monitors each of
 * its 10^5 children, and a list walked per link made starting them
 * O(n^2).  Not API.
 *
 * Open addressing with linear probing, deletion by backward shift;
 * the empty entry is the nil ref (a set) or the id 0 (a map: monitor
 * ids start at 1).  A zeroed struct is an empty one.  No locking: a
 * context's links are under its lmtx, its monitors its owner's.
 */
#ifndef TRI_REFSET_H
#define TRI_REFSET_H

#include <stdbool.h>
#include <stdint.h>

#include "troupe.h"

typedef struct tri_refset {
	tr_ref *v;
	uint32_t cap; /* a power of two, or 0 */
	uint32_t n;
} tri_refset;

/* Adds r (not nil); TR_OK also if it was there, TR_ENOMEM. */
int tri_refset_add(tri_refset *s, tr_ref r);
bool tri_refset_has(const tri_refset *s, tr_ref r);
/* Removes r; whether it was there. */
bool tri_refset_del(tri_refset *s, tr_ref r);
/* Whole nodes, for tri_*_take_proc. */
#define TRI_ANY_PROC UINT32_MAX
/* Removes every ref of process proc of node (every process of it for
 * TRI_ANY_PROC), calling fn(arg, ref) for each. */
void tri_refset_take_proc(tri_refset *s, uint32_t node, uint32_t proc,
    void (*fn)(void *arg, tr_ref r), void *arg);
/* Calls fn(arg, ref) for each ref, in no particular order. */
void tri_refset_each(
    const tri_refset *s, void (*fn)(void *arg, tr_ref r), void *arg);
void tri_refset_fini(tri_refset *s);

typedef struct tri_mon_entry {
	uint64_t id; /* 0: free */
	tr_ref target;
} tri_mon_entry;

typedef struct tri_monmap {
	tri_mon_entry *v;
	uint32_t cap;
	uint32_t n;
} tri_monmap;

/* Adds id (not 0, not there) -> target; TR_OK or TR_ENOMEM. */
int tri_monmap_add(tri_monmap *m, uint64_t id, tr_ref target);
/* Removes id; whether it was there, and its target (may be NULL). */
bool tri_monmap_take(tri_monmap *m, uint64_t id, tr_ref *target);
/* Removes every monitor of an actor of process proc of node (or of any
 * of its processes), calling fn(arg, id, target) for each. */
void tri_monmap_take_proc(tri_monmap *m, uint32_t node, uint32_t proc,
    void (*fn)(void *arg, uint64_t id, tr_ref target), void *arg);
void tri_monmap_fini(tri_monmap *m);

#endif
