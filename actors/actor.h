/*
 * actor.h -- private to troupe: thread actors and main contexts (actor.c,
 * ctx.c).  Not API.
 */
#ifndef TRI_ACTOR_H
#define TRI_ACTOR_H

#include "ctx.h"

/* Thread actors (actor.c). */
int tri_main_ctx_new(tri_ctx **out);
/* A context that runs no actor, registered, its mailbox open: the main
 * context, or (gate set) the root's gateway to other nodes, whose
 * arrivals go to gate (dist_gw.c).  Never stopped nor waited for at
 * shutdown (not a thread actor).  TR_ENOMEM, or tri_registry_add's or
 * tri_mailbox_open's error. */
int tri_plain_ctx_new(
    uint32_t capacity, void (*gate)(struct tri_buf *b), tri_ctx **out);
int tri_actor_spawn(
    const tr_spec *spec, const tri_behavior *b, tr_ref *out, tr_reason *why);
/* The same, also linking the new actor to `peer` (any process) before
 * its init runs; TR_REF_NIL for none. */
int tri_actor_spawn_ex(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why);

#endif
