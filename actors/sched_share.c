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
		if ((c->sflags & TRI_SF_FENCED) != 0) {
			for (unsigned i = 0; i < s->nearly; i++) {
				if (tr_ref_equal(s->early_fence[i], c->ref)) {
					/* Its fence overtook the adoption. */
					s->early_fence[i] =
					    s->early_fence[--s->nearly];
					c->sflags &= (uint16_t)~TRI_SF_FENCED;
					break;
				}
			}
		}
		if ((c->sflags & TRI_SF_FENCED) != 0) {
			if (s->nfenced <
			    sizeof(s->fenced) / sizeof(s->fenced[0])) {
				s->fenced[s->nfenced++] = c;
			} else {
				/* No room to wait for its fence (sixteen moves
				 * under way at once to one scheduler): run it;
				 * its earlier frames are almost surely here. */
				c->sflags &= (uint16_t)~TRI_SF_FENCED;
			}
		}
		if (s->stopping_all) {
			tri_sx_stop_for_shutdown(
			    c); /* handed over as it began */
		}
		c->sflags &= (uint16_t)~TRI_SF_QUEUED;
		tri_sched_notify(c); /* runnable unless still fenced */
	}
}

void
tri_sx_fence(tri_sched *s, tr_ref who)
{
	/* Only actors this scheduler adopted are looked at: another's may
	 * still be on its way here, and its fields are not ours yet. */
	for (unsigned i = 0; i < s->nfenced; i++) {
		tri_ctx *c = s->fenced[i];
		if (tr_ref_equal(c->ref, who)) {
			s->fenced[i] = s->fenced[--s->nfenced];
			c->sflags &= (uint16_t)~TRI_SF_FENCED;
			tri_sched_notify(c);
			return;
		}
	}
	if (s->nearly < sizeof(s->early_fence) / sizeof(s->early_fence[0])) {
		/* Not adopted yet (the fence leaves first): keep it for
		 * tri_sx_take_adopted.  A forged one is dropped when the
		 * few places are full, harmlessly. */
		s->early_fence[s->nearly++] = who;
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
 * Hands c (just taken off the run queue) to t, if nothing is in flight
 * to it (that keeps the order of every message sent to c).
 *
 * The order of what c itself sent must hold too: frames c sent to actors
 * of t went through t's port and may not have arrived; once on t, c
 * hands its messages to them directly, which would overtake those.  So
 * a fence follows them through the same port, and c runs on t only once
 * it came.  The fence leaves first (a move that cannot send it is given
 * up); then c is queued for adoption at t, before its slot names t as
 * home, so that t never sees a frame for c before it can take c.
 */
static bool
hand_over(tri_sched *s, tri_sched *t, tri_ctx *c)
{
	tri_slotrec *r = c->mb.rec;
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;

	if (!tri_slot_move_begin(r, c->ref.gen, s->idx + 1)) {
		return false;
	}
	tri_control_frame(
	    &f, body, TRI_K_FENCE, TR_REF_NIL, c->ref, TR_REASON_NORMAL, 0);
	f.body_len = 0;
	if (tri_port_send(tri_mailbox_port(t->host), &f) != TR_OK) {
		tri_slot_move_end(r, c->ref.gen, s->idx + 1);
		return false;
	}
	tri_sx_list_remove(s, c);
	tri_sx_swait_free(c); /* its timer belongs to this loop */
	c->sflags |= TRI_SF_FENCED;
	pthread_mutex_lock(&t->rmtx);
	c->rq_next = t->adopt;
	t->adopt = c;
	atomic_fetch_add(&t->adopt_pending, 1);
	pthread_mutex_unlock(&t->rmtx);
	tri_slot_move_end(r, c->ref.gen, t->idx + 1);
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