/*
 * route.h -- private to troupe: sorting what arrives at a context: the control
 * lane (route.c), and an actor's turn (turn.c).  Not API.
 */
#ifndef TRI_ROUTE_H
#define TRI_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "frame.h"

/* Routes one control or user frame that arrived for c (owner thread). */
void tri_route(tri_ctx *c, const tri_frame *f);

/* Actor side (turn.c): run control requests, possibly marking c
 * stopping. */
void tri_run_control(tri_ctx *c);
/* Takes c's next user message or notice and hands it to its behavior,
 * as c (owner thread); false if there was none.  Gives back its
 * mailbox slot, counts it, frees it; an error from the callback, or a
 * stop request that came meanwhile, marks c stopping. */
bool tri_handle_next(tri_ctx *c);
/* The coarse monotonic clock, in ms (a few ns to read). */
uint64_t tri_coarse_ms(void);

#endif
