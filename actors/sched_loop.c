/*
 * sched_loop.c -- tr_loop() for a scheduled actor: a libuv loop of its
 * own, watched by its scheduler's loop (the inner loop's backend fd,
 * and a timer for its next timer), and run as part of the actor's
 * turns.  So its handles' callbacks run as the actor, on its
 * scheduler's thread, never while another of its callbacks runs or
 * waits, exactly as on a thread of its own.  It costs the actor the
 * loop's file descriptors (an epoll fd and a signal pipe); actors that
 * never call tr_loop() have none.  Such an actor never moves to another
 * scheduler.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_impl.h"

/* ------------------------------------------------------------------ */
/* An actor's own loop (tr_loop)                                       */

tri_aloop *
tri_sx_aloop_of(tri_ctx *c)
{
	return c->aloop;
}

static void
on_aloop_io(uv_poll_t *p, int status, int events)
{
	tri_aloop *al = p->data;

	(void)status;
	(void)events;
	al->due = true;
	if ((al->c->sflags & (TRI_SF_RUNNING | TRI_SF_ENDED)) != 0) {
		/* In a callback, or waiting in one: its loop runs when that
		 * returns (tri_sx_aloop_arm starts watching again).  A ready
		 * handle would otherwise wake us at every turn of our loop
		 * for nothing. */
		if (!al->poll_off) {
			uv_poll_stop(&al->poll);
			al->poll_off = true;
		}
		return;
	}
	if ((al->c->sflags & TRI_SF_QUEUED) == 0) {
		tri_sx_rq_push(al->c->sched, al->c);
	}
	tri_sx_enter(al->c->sched);
}

static void
on_aloop_timer(uv_timer_t *t)
{
	on_aloop_io((uv_poll_t *)&((tri_aloop *)t->data)->poll, 0, 0);
}

uv_loop_t *
tri_sched_loop(tri_ctx *c)
{
	tri_aloop *al;

	if ((c->sflags & TRI_SF_LOOP) != 0) {
		return &tri_sx_aloop_of(c)->loop;
	}
	if ((al = tri_calloc(1, sizeof(*al))) == NULL) {
		return NULL;
	}
	if (uv_loop_init(&al->loop) != 0) {
		tri_free(al);
		return NULL;
	}
	al->c = c;
	uv_poll_init(&c->sched->loop, &al->poll, uv_backend_fd(&al->loop));
	uv_timer_init(&c->sched->loop, &al->timer);
	al->poll.data = al;
	al->timer.data = al;
	uv_poll_start(&al->poll, UV_READABLE, on_aloop_io);
	c->aloop = al;
	c->sflags |= TRI_SF_LOOP;
	return &al->loop;
}

/* After the actor ran: when does its loop want to run next? */
void
tri_sx_aloop_arm(tri_ctx *c)
{
	tri_aloop *al = tri_sx_aloop_of(c);
	int t = uv_backend_timeout(&al->loop);

	if (al->poll_off) {
		uv_poll_start(&al->poll, UV_READABLE, on_aloop_io);
		al->poll_off = false;
	}
	if (t == 0) {
		al->due = true;
		if ((c->sflags & (TRI_SF_QUEUED | TRI_SF_RUNNING)) == 0) {
			tri_sx_rq_push(c->sched, c);
		}
	} else if (t > 0) {
		uv_timer_start(&al->timer, on_aloop_timer, (uint64_t)t, 0);
	} else {
		uv_timer_stop(&al->timer);
	}
}

void
tri_sx_aloop_run(tri_ctx *c)
{
	tri_aloop *al = tri_sx_aloop_of(c);

	al->due = false;
	c->in_callback++;
	uv_run(&al->loop, UV_RUN_NOWAIT);
	c->in_callback--;
}

static void
aloop_close_cb(uv_handle_t *h)
{
	tri_aloop *al = h->data;

	/* Both handles live in al: free it after the second closes. */
	if (--al->closing == 0) {
		tri_free(al);
	}
}

static void
close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h)) {
		uv_close(h, NULL);
	}
}

/* The actor ended: close what its behavior left open in its loop (their
 * close callbacks run here, as the actor's), then the loop. */
void
tri_sx_aloop_end(tri_ctx *c)
{
	tri_aloop *al = tri_sx_aloop_of(c);

	uv_walk(&al->loop, close_any, NULL);
	while (uv_run(&al->loop, UV_RUN_NOWAIT) != 0) {
		/* close callbacks pending: more turns */
	}
	uv_loop_close(&al->loop);
	uv_poll_stop(&al->poll);
	al->closing = 2;
	uv_close((uv_handle_t *)&al->poll, aloop_close_cb);
	uv_close((uv_handle_t *)&al->timer, aloop_close_cb);
	c->aloop = NULL;
	c->sflags &= (uint16_t)~TRI_SF_LOOP;
}