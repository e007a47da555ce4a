/*
 * call.h -- private to troupe: waiting for a reply, a READY, a batch of starts
 * (send.c); passing messages on (pools).  Not API.
 */
#ifndef TRI_CALL_H
#define TRI_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

/* Begins a wait for a reply or READY numbered corr (0: the next of
 * self's numbers), whose callee is target (nil: none to watch); returns
 * corr.  tri_call_cancel undoes it when nothing was sent. */
uint64_t tri_call_begin(
    tri_ctx *self, uint64_t corr, tr_ref target, uint64_t mon);
void tri_call_cancel(tri_ctx *self);
/* Waits until done(self) (a batch of starts); false if the wait was
 * cut short by a stop request. */
bool tri_wait_batch(tri_ctx *self, bool (*done)(tri_ctx *));
/* Stops (kill) the first n actors of refs that run, and sets every
 * refs[i] to nil: an all-or-nothing spawn that failed. */
void tri_spawn_many_undo(tr_ref *refs, uint32_t n);

/* Waits for the reply of the call self->call.corr (or its callee's
 * death), then clears the call. */
int tri_wait_reply(tri_ctx *self, uint64_t deadline, tr_msg **reply);

/* Passes a received message on to `to`, keeping its sender and, for a
 * call, its correlation id (pools).  msg stays the caller's. */
int tri_forward(tr_msg *msg, tr_ref to);
/* Tells the caller of a forwarded call which member has it now. */
void tri_redirect(tr_msg *call, tr_ref member);

#endif
