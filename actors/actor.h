/*
 * actor.h -- private to troupe: thread actors and main contexts (actor.c,
 * ctx.c).  Not API.
 */
#ifndef TRI_ACTOR_H
#define TRI_ACTOR_H

#include "ctx.h"

/* Thread actors (actor.c). */
int tri_main_ctx_new(tri_ctx **out);
int tri_actor_spawn(
    const tr_spec *spec, const tri_behavior *b, tr_ref *out, tr_reason *why);
/* The same, also linking the new actor to `peer` (any process) before
 * its init runs; TR_REF_NIL for none. */
int tri_actor_spawn_ex(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why);

#endif
