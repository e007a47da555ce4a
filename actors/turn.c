/*
 * turn.c -- what an actor does with its queues, whatever runs it: a
 * thread of its own (actor.c) or a scheduler (scheduler.c).
 *
 * Control requests first (a stop ends the actor before its next
 * message), then one message at a time: the slot it held in the mailbox
 * is given back as it is taken, it is counted, handed to the behavior,
 * and freed.  A callback that returns an error ends the actor with it.
 */
#include <time.h>

#include "ctx.h"
#include "mailbox.h"
#include "msg.h"
#include "route.h"
#include "runtime.h"

void
tri_run_control(tri_ctx *c)
{
	tr_msg *m;

	while ((m = tri_msgq_pop(&c->ctlq)) != NULL) {
		if (!c->stopping) {
			c->stopping = true;
			c->reason = m->reason;
		}
		tr_msg_free(m);
	}
}

uint64_t
tri_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool
tri_handle_next(tri_ctx *c)
{
	tr_msg *m = tri_msgq_pop(&c->userq);
	int rv;

	if (m == NULL) {
		return false;
	}
	if (m->counted) {
		tri_mailbox_release(c, 1);
		m->counted = false;
	}
	if (tri_msg_is_user(m)) {
		tri_count_in(c);
		TRI_STAT(delivered);
	}
	/* Visible from any process while it runs: a callback that does not
	 * return shows in tr_actor_info_get and `troupe status`. */
	atomic_store_explicit(
	    &c->mb.rec->busy_since, tri_coarse_ms() | 1u, memory_order_relaxed);
	c->in_callback++;
	rv = c->beh->handle(c->state, m);
	c->in_callback--;
	atomic_store_explicit(&c->mb.rec->busy_since, 0, memory_order_relaxed);
	tr_msg_free(m);
	/* The callback may have taken arrivals (tr_call, tr_recv): a stop
	 * request among them wins over the error the callback returned
	 * because its call was canceled by that request. */
	if (c->ctlq.head != NULL) {
		tri_run_control(c);
	}
	if (rv != 0 && !c->stopping) {
		c->stopping = true;
		c->reason = TR_REASON(TR_EXIT_ERROR, rv);
	}
	return true;
}
