/*
 * busy.h -- private to troupe: callbacks that do not return.  Not API.
 *
 * A scheduled actor whose callback computes for long holds up the
 * other actors of its scheduler thread.  The slot table records when
 * each actor's current callback began (busy_since); this finds the
 * actors of this process whose callback has run for long, without
 * asking anyone -- an actor stuck in a callback answers nothing -- for
 * a watchdog to name them (tree_watch.c).
 */
#ifndef TRI_BUSY_H
#define TRI_BUSY_H

#include <stdbool.h>
#include <stdint.h>

#include "troupe.h"

/*
 * Calls fn(arg, ref, ms, waiting) for each actor of this process that
 * has been in one callback for min_ms or more: ms how long, waiting
 * whether it waits there (tr_call, tr_recv, a send) rather than runs.
 * Reads the slot table only: O(slots used), no lock, any thread; an
 * actor may end meanwhile.  TR_ECLOSED if the runtime does not run.
 */
int tri_busy_scan(uint64_t min_ms,
    void (*fn)(void *arg, tr_ref ref, uint64_t ms, bool waiting), void *arg);

#endif
