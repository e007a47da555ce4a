/*
 * mailbox.h -- private to troupe: an actor's mailbox (mailbox.c): where frames
 * arrive, and the capacity that pushes back on senders.  Not API.
 */
#ifndef TRI_MAILBOX_H
#define TRI_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "slots.h"
#include "socket.h"

typedef struct tri_ctx tri_ctx;

/* Mailboxes (mailbox.c)                                               */

/* The sockets and arrivals of a context with an inbox of its own (a
 * thread actor, a main context, a scheduler's host): mailbox.c. */
typedef struct tri_mbio tri_mbio;

typedef struct tri_mailbox {
	tri_mbio *io; /* NULL for a scheduled actor: its scheduler's inbox */

	/* Capacity and depth live in the process's shared slot table, so
	 * that senders of other processes see them too. */
	uint32_t capacity;
	tri_slotrec *rec;
} tri_mailbox;

typedef struct tri_ctx tri_ctx;

void tri_mailbox_init(tri_mailbox *mb, uint32_t capacity);
/* The loop to wake (uv_async_send) when something arrives, for a
 * context whose owner runs one; NULL before that loop closes.  Any
 * thread; serialised with arrivals by the mailbox's lock. */
void tri_mailbox_set_wake(tri_ctx *c, uv_async_t *wake);
/* The port of the context's own inbox (for senders of this process),
 * NULL for a scheduled actor. */
tri_port *tri_mailbox_port(tri_ctx *c);
/* Whether anything arrived that tri_mailbox_drain() would take; any
 * thread, no lock. */
bool tri_mailbox_pending(tri_ctx *c);
/* Opens the sockets and the slot record; c->ref must be set. */
int tri_mailbox_open(tri_ctx *c);
/* Refuses further sends (its slot record closes: what it still counts
 * becomes dead letters).  Called once, by the owner, as it ends. */
void tri_mailbox_seal(tri_ctx *c);
/* Closes the sockets. */
void tri_mailbox_close(tri_ctx *c);
/* Queues frame f (copied) for c's owner directly, as if it had come
 * through c's inbox, from any thread: for frames that have already
 * crossed a thread hop of their own (from other nodes, dist_wire.c).
 * TR_ENOPROC if the mailbox is closed, TR_ENOMEM.  Not for scheduled
 * actors. */
int tri_mailbox_arrive(tri_ctx *c, const tri_frame *f);
/* Gives back n slots taken by messages the owner took. */
void tri_mailbox_release(tri_ctx *c, uint32_t n);
/* Owner: decodes what arrived into the context's queues.  Returns the
 * number of frames routed. */
size_t tri_mailbox_drain(tri_ctx *c);
/* Owner: waits until something arrives or the deadline (ms on the
 * monotonic clock, or UINT64_MAX) passes.  false on timeout. */
bool tri_mailbox_wait(tri_ctx *c, uint64_t deadline);

#endif
