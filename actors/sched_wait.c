/*
 * sched_wait.c -- a scheduled actor that waits: tr_call, tr_recv,
 * tr_sleep, a full mailbox.  Its fiber is set aside (tri_sx_block) and
 * the scheduler goes on with the others; what it waits for -- a frame
 * routed to it that makes its predicate true, a timer, room in a
 * mailbox -- puts it on the resume queue.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_impl.h"

/* ------------------------------------------------------------------ */
/* Waits                                                               */

static void
on_wait_timer(uv_timer_t *t)
{
	tri_swait *w = t->data;
	tri_ctx *c = w->c;

	w->fired = true;
	w->timer_on = false;
	if ((c->sflags & TRI_SF_BLOCKED) != 0 &&
	    (c->sflags & TRI_SF_RESUME) == 0) {
		tri_sx_res_push(c->sched, c);
	}
	tri_sx_enter(c->sched);
}

static int
swait_get(tri_ctx *c)
{
	if (c->swait == NULL) {
		tri_swait *w = tri_calloc(1, sizeof(*w));
		if (w == NULL) {
			return TR_ENOMEM;
		}
		uv_timer_init(&c->sched->loop, &w->timer);
		w->timer.data = w;
		w->c = c;
		c->swait = w;
	}
	return TR_OK;
}

bool
tri_sched_block_until(
    tri_ctx *c, bool (*pred)(tri_ctx *), uint64_t until, int *err)
{
	tri_swait *w;
	uint64_t now;
	int rv;

	if (err != NULL) {
		*err = TR_OK;
	}
	if (pred != NULL && pred(c)) {
		return true;
	}
	now = tri_now_ms();
	if (until != UINT64_MAX && now >= until) {
		return false;
	}
	if (swait_get(c) != TR_OK) {
		if (err != NULL) {
			*err = TR_ENOMEM;
		}
		return false;
	}
	w = c->swait;
	w->pred = pred;
	w->fired = false;
	if (until != UINT64_MAX) {
		uv_timer_start(&w->timer, on_wait_timer, until - now, 0);
		w->timer_on = true;
	}
	rv = tri_sx_block(c);
	if (w->timer_on) {
		uv_timer_stop(&w->timer);
		w->timer_on = false;
	}
	w->pred = NULL;
	if (rv != TR_OK && err != NULL) {
		*err = rv;
	}
	return pred != NULL && pred(c);
}

void
tri_sched_route_arrivals(tri_ctx *c)
{
	tri_mailbox_drain(c->sched->host);
}

int
tri_sched_space_wait(tri_ctx *c, uint64_t deadline)
{
	tri_sched *s = c->sched;
	uint64_t until = tri_now_ms() + FULL_POLL_MS;
	int err = TR_OK;

	if (deadline != UINT64_MAX && tri_now_ms() >= deadline) {
		return TR_ETIMEDOUT;
	}
	if (s->nspacew == s->cspacew) {
		size_t n = s->cspacew ? s->cspacew * 2 : 8;
		tri_ctx **v = tri_realloc(s->spacew, n * sizeof(*v));
		if (v == NULL) {
			return TR_ENOMEM;
		}
		s->spacew = v;
		s->cspacew = n;
	}
	s->spacew[s->nspacew++] = c;
	(void)tri_sched_block_until(
	    c, NULL, until < deadline ? until : deadline, &err);
	for (size_t i = 0; i < s->nspacew; i++) {
		if (s->spacew[i] == c) {
			s->spacew[i] = s->spacew[--s->nspacew];
			break;
		}
	}
	return err;
}

static void
swait_close_cb(uv_handle_t *h)
{
	tri_free(h->data);
}

void
tri_sx_swait_free(tri_ctx *c)
{
	if (c->swait != NULL) {
		uv_close((uv_handle_t *)&c->swait->timer, swait_close_cb);
		c->swait = NULL;
	}
}