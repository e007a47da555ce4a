/*
 * sched_share.c -- a busy scheduler hands runnable actors to an idle
 * one.
 *
 * Only the actor's home scheduler moves it, between two of its turns,
 * and only when nothing is in flight to it: the slot word's moving bit
 * and the record's in-flight count (slots.c) make every sender, of any
 * thread or process, either see the move and wait it out, or hold it
 * back.  So every sender's messages arrive in the order sent, before
 * and after the move.  An actor that is running, waiting, starting, or
 * has a loop of its own never moves.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_impl.h"

static _Atomic uint32_t nidle; /* schedulers idle now */
/* tr_shutdown has begun: no more handing over. */
static _Atomic bool closing;

void
tri_sx_share_stop(bool stop)
{
	atomic_store(&closing, stop);
	if (!stop) {
		atomic_store(&nidle, 0);
	}
}

void
tri_sx_take_adopted(tri_sched *s)
{
	tri_ctx *list;

	if (atomic_load(&s->adopt_pending) == 0) {
		return;
	}
	pthread_mutex_lock(&s->rmtx);
	list = s->adopt;
	s->adopt = NULL;
	atomic_store(&s->adopt_pending, 0);
	pthread_mutex_unlock(&s->rmtx);
	while (list != NULL) {
		tri_ctx *c = list;
		list = c->rq_next;
		c->rq_next = NULL;
		c->sched = s;
		tri_sx_list_add(s, c);
		if (s->stopping_all) {
			tri_sx_stop_for_shutdown(
			    c); /* handed over as it began */
		}
		if (tri_sx_has_work(c)) {
			tri_sx_rq_push(s, c);
		} else {
			c->sflags &= (uint16_t)~TRI_SF_QUEUED;
		}
	}
}

/* Whether c may move: nothing of it is tied to this thread. */
static bool
movable(const tri_ctx *c)
{
	return (c->sflags &
	           (TRI_SF_RUNNING | TRI_SF_BLOCKED | TRI_SF_RESUME |
	               TRI_SF_STARTING | TRI_SF_LOOP | TRI_SF_ENDED)) == 0 &&
	    c->fiber == NULL && c->start == NULL;
}

/*
 * Hands c (just taken off the run queue) to t.  The adoption is queued
 * at t before the slot word names t as c's home, so t never sees a
 * frame for c before it can take c; the move itself fails if anything
 * is in flight to c (that keeps every sender's order).
 */
static bool
hand_over(tri_sched *s, tri_sched *t, tri_ctx *c)
{
	bool moved;

	tri_sx_list_remove(s, c);
	tri_sx_swait_free(c); /* its timer belongs to this loop */
	pthread_mutex_lock(&t->rmtx);
	c->rq_next = t->adopt;
	t->adopt = c;
	atomic_fetch_add(&t->adopt_pending, 1);
	moved = tri_slot_move(c->mb.rec, c->ref.gen, s->idx + 1, t->idx + 1);
	if (!moved) {
		t->adopt = c->rq_next;
		c->rq_next = NULL;
		atomic_fetch_sub(&t->adopt_pending, 1);
	}
	pthread_mutex_unlock(&t->rmtx);
	if (!moved) {
		tri_sx_list_add(s, c);
		return false;
	}
	uv_async_send(&t->wake);
	return true;
}

/* After a turn: if this scheduler has been busy a while with more
 * runnable actors than it can run at once, and another is idle, give
 * that one the next runnable actor but one. */
void
tri_sx_maybe_share(tri_sched *s)
{
	uint32_t n = tri_sched_count();
	tri_ctx *c;
	tri_sched *t = NULL;

	if (s->rq_len < 2 || atomic_load(&nidle) == 0 ||
	    atomic_load(&closing) ||
	    tri_coarse_ms() - s->busy_from < SHARE_AFTER_MS) {
		return;
	}
	for (uint32_t i = 1; i < n && t == NULL; i++) {
		tri_sched *u = tri_sx_at((s->idx + i) % n);
		int one = 1;
		/* Claim it, so that two busy schedulers do not both pick
		 * it (it clears the flag itself when it wakes anyway). */
		if (atomic_compare_exchange_strong(&u->is_idle, &one, 0)) {
			atomic_fetch_sub(&nidle, 1);
			t = u;
		}
	}
	if (t == NULL) {
		return;
	}
	/* The second runnable: the first runs next here. */
	c = s->rq_head->rq_next;
	if (c == NULL || !movable(c)) {
		uv_async_send(&t->wake); /* let it find out it is idle */
		return;
	}
	s->rq_head->rq_next = c->rq_next;
	if (s->rq_tail == c) {
		s->rq_tail = s->rq_head;
	}
	c->rq_next = NULL;
	c->sflags &= (uint16_t)~TRI_SF_QUEUED;
	s->rq_len--;
	if (!hand_over(s, t, c)) {
		tri_sx_rq_push(s, c);
		uv_async_send(&t->wake);
	}
}

void
tri_sx_set_idle(tri_sched *s, bool idle)
{
	int was = atomic_exchange(&s->is_idle, idle ? 1 : 0);

	if (idle && !was) {
		atomic_fetch_add(&nidle, 1);
	} else if (!idle && was) {
		atomic_fetch_sub(&nidle, 1);
	}
}