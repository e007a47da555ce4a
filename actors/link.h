/*
 * link.h -- private to troupe: links, monitors, and the notices an actor's end
 * sends (link.c).  Not API.
 */
#ifndef TRI_LINK_H
#define TRI_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

/* A start that failed (or that init chose not to make, TR_IGNORE) is
 * reported by tr_spawn, not by signals, and leaves nothing behind: no
 * links (their other ends are undone), no name, no slot; c is dead. */
void tri_start_undo(tri_ctx *c, int rv);
/* Death (link.c): marks c dead and tells links and monitors. */
void tri_notify_exit(tri_ctx *c, tr_reason why);
/* The monitors a context holds (owner thread only). */
int tri_mons_add(tri_ctx *c, uint64_t id, tr_ref target);
bool tri_mons_take(tri_ctx *c, uint64_t id, tr_ref *target);
/* Monitor records on the watched side. */
int tri_monitor_add(tri_ctx *target, tr_ref watcher, uint64_t id);
void tri_monitor_remove(tri_ctx *target, uint64_t id);
/* Removes peer from c's links; whether it was there. */
bool tri_unlink_local(tri_ctx *c, tr_ref peer);
/* Adds peer to c's links (a set).  TR_ENOPROC if c is dead. */
int tri_link_add(tri_ctx *c, tr_ref peer);

#endif
