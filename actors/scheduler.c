/*
 * scheduler.c -- scheduled actors: many actors on a few scheduler threads
 * (scheduler.h says what a scheduler is and who may touch what).
 *
 * A scheduler's thread runs uv_run() on its own stack.  Its loop's
 * callbacks (arrivals, timers, the idle handle that keeps it turning
 * while work is left) enter the scheduler: a switch to the fiber that
 * currently runs its turns, which takes what arrived, resumes actors
 * whose wait ended, runs runnable actors a batch of messages each, and
 * switches back to the loop when nothing is left or its budget for one
 * entry is spent (so the loop polls, and timers and handles are not
 * starved).
 *
 * Turn fibers are interchangeable: when the actor running on fiber F
 * blocks, F stays with it and the scheduler goes on with a fiber from
 * its pool (or a new one); when the actor's wait ends, the fiber that
 * noticed goes back to the pool and F takes over, returning from the
 * wait into the actor's callback and then going on with the turns
 * itself.  So a turn fiber parked in the pool always sits in
 * dispatch(), and an actor's stack lives only as long as it blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fiber.h"
#include "scheduler.h"
#include "watchdog.h"

/* Messages one actor handles per turn before the next runnable actor
 * gets its turn (fairness; an actor that floods its own mailbox or is
 * flooded cannot keep the others waiting for more than this). */
#define BATCH 64
/* Actor turns per entry before the loop gets to poll. */
#define TURNS 256
/* A scheduler shares its runnable actors only after it has been busy
 * this long without a pause (short bursts are cheaper to run here than
 * to split across threads, whose messages then cross through nng). */
#define SHARE_AFTER_MS 2
/* Entries of a scheduler's cache of its own actors (a power of 2). */
#define CACHE 4096
/* Turn fibers kept for reuse beyond the ones in use. */
#define POOL_KEEP 64
/* How often a sender blocked on a full mailbox of another thread or
 * process looks again (same-scheduler receivers wake it at once). */
#define FULL_POLL_MS 1

typedef struct tri_swait tri_swait;
struct tri_swait {
	bool (*pred)(tri_ctx *);
	uv_timer_t timer;
	bool timer_on;
	bool fired;
	tri_ctx *c;
};

/* The loop of a scheduled actor that asked for one (tr_loop), watched
 * by its scheduler's loop: the actor runs it as part of its turns. */
struct tri_aloop {
	uv_loop_t loop;
	uv_poll_t poll;   /* the inner loop's backend fd, on the outer */
	uv_timer_t timer; /* the inner loop's next timer, on the outer */
	bool due;
	int closing; /* handles still closing at the end */
	tri_ctx *c;
};
typedef struct tri_aloop tri_aloop;

struct tri_sched {
	uint32_t idx;
	tri_ctx *host; /* the inbox; no actor */
	pthread_t thread;
	bool thread_on;
	uv_loop_t loop;
	uv_async_t wake;
	uv_idle_t idle;
	bool idle_on;
	bool entered; /* the turn fiber is running (not uv_run) */

	tri_fiber *native, *cur;
	tri_fiber **pool;
	size_t npool, cpool;
	size_t stack;

	tri_ctx *rq_head, *rq_tail; /* runnable */
	size_t rq_len;
	tri_ctx *res_head, *res_tail; /* waits that ended */
	tri_ctx *all;                 /* its actors, newest first */
	size_t nall;
	tri_ctx **spacew; /* actors waiting for room in a mailbox */
	size_t nspacew, cspacew;

	/* what other threads ask: under rmtx, then wake */
	pthread_mutex_t rmtx;
	bool req_stop_all;
	bool req_exit;
	bool exiting; /* req_exit seen (its own thread) */
	bool stopping_all; /* req_stop_all seen: stop what comes too */
	tri_ctx *adopt; /* actors handed over by a busier scheduler */
	_Atomic uint32_t adopt_pending;

	/* Idle: nothing to run, waiting in its loop's poll.  A busy
	 * scheduler hands runnable actors to an idle one. */
	_Atomic int is_idle;
	uint64_t busy_from; /* ms: when it last stopped being idle */

	_Atomic uint32_t nactors; /* for placing new actors */
	/* The callback running now, for the watchdog: slot and gen of its
	 * actor (0: none), and since when (coarse ms). */
	_Atomic uint64_t running_id;
	_Atomic uint64_t since_ms;

	/* Its own actors by slot, for sends between them without the
	 * registry's lock (only this thread ends or moves them, and it
	 * drops them from here as it does). */
	tri_ctx *cache[CACHE];

	/* start-up handshake */
	pthread_mutex_t smtx;
	pthread_cond_t scv;
	int started; /* 0 not yet, 1 ok, <0 -error */
};

static _Thread_local tri_sched *tls_sched;
/* A thread's choice of scheduler for the actors it spawns from outside
 * any scheduler (so that actors spawned together start together). */
static _Thread_local uint32_t tls_pick;
static _Thread_local bool tls_spread;

static tri_sched **scheds;
static uint32_t nsched;
static _Atomic uint32_t nidle; /* schedulers idle now */
/* Scheduled actors started and not ended, wherever they are (one being
 * handed from one scheduler to another is in neither's list). */
static _Atomic uint64_t nlive;
/* tr_shutdown has begun: no more handing over. */
static _Atomic bool closing;
static pthread_mutex_t start_mtx = PTHREAD_MUTEX_INITIALIZER;

static void dispatch(void *arg);
static void sched_enter(tri_sched *s);
static void on_idle(uv_idle_t *h);

/* ------------------------------------------------------------------ */
/* Small things                                                        */

uint32_t
tri_sched_count(void)
{
	return __atomic_load_n(&nsched, __ATOMIC_ACQUIRE);
}

tri_sched *
tri_sched_current(void)
{
	return tls_sched;
}

uint32_t
tri_sched_home(const tri_sched *s)
{
	return s->idx + 1;
}

tr_ref
tri_sched_home_ref(uint32_t node, uint32_t proc, uint32_t home)
{
	tr_ref r = {node, proc, TRI_SLOTS_MAX + home, 0};
	return r;
}

int
tri_sched_addrs(
    const tri_sched *s, char *local, size_t llen, char *ipc, size_t ilen)
{
	tr_ref r = tri_sched_home_ref(tri_rt.node, tri_rt.proc, s->idx + 1);
	int rv;

	if ((rv = tri_addr_inproc(local, llen, r)) != TR_OK) {
		return rv;
	}
	return tri_addr_ipc(ipc, ilen, r, tri_rt.sockdir);
}

static tri_sched *
by_home(uint32_t home)
{
	uint32_t n = tri_sched_count();
	return (home >= 1 && home <= n) ? scheds[home - 1] : NULL;
}

/* An actor's slot and gen as one word, for the watchdog. */
static uint64_t
run_id(const tri_ctx *c)
{
	return ((uint64_t)c->ref.slot << 32) | c->ref.gen;
}

static uint64_t
now_coarse_ms(void)
{
	return tri_coarse_ms();
}

/* ------------------------------------------------------------------ */
/* Queues (scheduler thread only)                                      */

static void
rq_push(tri_sched *s, tri_ctx *c)
{
	c->sflags |= TRI_SF_QUEUED;
	c->rq_next = NULL;
	if (s->rq_tail != NULL) {
		s->rq_tail->rq_next = c;
	} else {
		s->rq_head = c;
	}
	s->rq_tail = c;
	s->rq_len++;
}

static tri_ctx *
rq_pop(tri_sched *s)
{
	tri_ctx *c = s->rq_head;

	if (c != NULL) {
		s->rq_head = c->rq_next;
		if (s->rq_head == NULL) {
			s->rq_tail = NULL;
		}
		c->rq_next = NULL;
		c->sflags &= (uint16_t)~TRI_SF_QUEUED;
		s->rq_len--;
	}
	return c;
}

/* The resume queue shares the link: a blocked actor is never queued to
 * run (its fiber is busy). */
static void
res_push(tri_sched *s, tri_ctx *c)
{
	c->sflags |= TRI_SF_RESUME;
	c->rq_next = NULL;
	if (s->res_tail != NULL) {
		s->res_tail->rq_next = c;
	} else {
		s->res_head = c;
	}
	s->res_tail = c;
}

static tri_ctx *
res_pop(tri_sched *s)
{
	tri_ctx *c = s->res_head;

	if (c != NULL) {
		s->res_head = c->rq_next;
		if (s->res_head == NULL) {
			s->res_tail = NULL;
		}
		c->rq_next = NULL;
		c->sflags &= (uint16_t)~TRI_SF_RESUME;
	}
	return c;
}

static void
list_add(tri_sched *s, tri_ctx *c)
{
	c->all_prev = NULL;
	c->all_next = s->all;
	if (s->all != NULL) {
		s->all->all_prev = c;
	}
	s->all = c;
	s->nall++;
	c->sflags |= TRI_SF_LISTED;
	atomic_fetch_add_explicit(&s->nactors, 1, memory_order_relaxed);
}

static void
uncache(tri_sched *s, const tri_ctx *c)
{
	tri_ctx **e = &s->cache[c->ref.slot & (CACHE - 1)];

	if (*e == c) {
		*e = NULL;
	}
}

tri_ctx *
tri_sched_local(tr_ref r)
{
	tri_sched *s = tls_sched;
	tri_ctx **e, *c;

	if (s == NULL || r.node != tri_rt.node || r.proc != tri_rt.proc) {
		return NULL;
	}
	e = &s->cache[r.slot & (CACHE - 1)];
	c = *e;
	if (c != NULL && c->ref.slot == r.slot && c->ref.gen == r.gen) {
		return c;
	}
	if ((c = tri_registry_get(r)) == NULL) {
		return NULL;
	}
	if (c->kind != TRI_CTX_SCHED ||
	    tri_slot_home(c->mb.rec, r.gen) != s->idx + 1 ||
	    (c->sflags & TRI_SF_ENDED) != 0) {
		tri_ctx_rele(c);
		return NULL;
	}
	*e = c;
	tri_ctx_rele(c); /* kept alive by this thread until it ends it */
	return c;
}

static void
list_remove(tri_sched *s, tri_ctx *c)
{
	if ((c->sflags & TRI_SF_LISTED) == 0) {
		return;
	}
	if (c->all_prev != NULL) {
		c->all_prev->all_next = c->all_next;
	} else {
		s->all = c->all_next;
	}
	if (c->all_next != NULL) {
		c->all_next->all_prev = c->all_prev;
	}
	c->all_prev = c->all_next = NULL;
	uncache(s, c);
	s->nall--;
	c->sflags &= (uint16_t)~TRI_SF_LISTED;
	atomic_fetch_sub_explicit(&s->nactors, 1, memory_order_relaxed);
}

static bool
has_work(const tri_ctx *c)
{
	return c->userq.head != NULL || c->ctlq.head != NULL;
}

void
tri_sched_notify(tri_ctx *c)
{
	tri_sched *s = c->sched;

	if ((c->sflags & TRI_SF_BLOCKED) != 0) {
		if ((c->sflags & TRI_SF_RESUME) == 0 && c->swait != NULL &&
		    c->swait->pred != NULL && c->swait->pred(c)) {
			res_push(s, c);
		}
		return;
	}
	if ((c->sflags & (TRI_SF_RUNNING | TRI_SF_QUEUED | TRI_SF_STARTING |
	                     TRI_SF_ENDED)) != 0) {
		return;
	}
	if (has_work(c)) {
		rq_push(s, c);
	}
}

/* ------------------------------------------------------------------ */
/* Fibers                                                              */

static tri_fiber *
pool_get(tri_sched *s)
{
	if (s->npool > 0) {
		return s->pool[--s->npool];
	}
	return tri_fiber_new(s->stack, dispatch, s);
}

static void
pool_put(tri_sched *s, tri_fiber *f)
{
	if (s->npool == s->cpool) {
		size_t n = s->cpool ? s->cpool * 2 : 8;
		tri_fiber **v = tri_realloc(s->pool, n * sizeof(*v));
		if (v == NULL) {
			/* Cannot keep it; it is parked in dispatch() and will
			 * never be switched to again: its stack is lost until
			 * the scheduler ends (rare: out of memory). */
			return;
		}
		s->pool = v;
		s->cpool = n;
	}
	s->pool[s->npool++] = f;
}

/*
 * The calling actor's callback waits: set its fiber aside and go on
 * with the scheduler's turns on another.  Returns when the wait ended
 * (resume()).  TR_ENOMEM if no fiber could be had.
 */
static int
block(tri_ctx *c)
{
	tri_sched *s = c->sched;
	tri_fiber *me = s->cur;
	tri_fiber *next = pool_get(s);

	if (next == NULL) {
		return TR_ENOMEM;
	}
	c->fiber = me;
	c->sflags |= TRI_SF_BLOCKED;
	atomic_fetch_or_explicit(
	    &c->mb.rec->busy_since, TRI_BUSY_BLOCKED, memory_order_relaxed);
	atomic_store_explicit(&s->running_id, 0, memory_order_relaxed);
	s->cur = next;
	tri_set_self(NULL);
	tri_fiber_switch(me, next);
	/* Resumed: s->cur is `me` again. */
	c->sflags &= (uint16_t)~TRI_SF_BLOCKED;
	atomic_fetch_and_explicit(
	    &c->mb.rec->busy_since, ~TRI_BUSY_BLOCKED, memory_order_relaxed);
	tri_set_self(c);
	atomic_store_explicit(&s->since_ms, now_coarse_ms(), memory_order_relaxed);
	atomic_store_explicit(&s->running_id, run_id(c), memory_order_relaxed);
	return TR_OK;
}

/* Runs the blocked actor c from where it waited; the calling turn
 * fiber goes back to the pool and resumes when taken from it. */
static void
resume(tri_sched *s, tri_ctx *c)
{
	tri_fiber *me = s->cur;
	tri_fiber *to = c->fiber;

	c->fiber = NULL;
	pool_put(s, me);
	s->cur = to;
	tri_fiber_switch(me, to);
}

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
		res_push(c->sched, c);
	}
	sched_enter(c->sched);
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
	rv = block(c);
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

bool
tri_sched_wait(
    tri_ctx *c, bool (*pred)(tri_ctx *), uint64_t deadline, int *err)
{
	for (;;) {
		int e = TR_OK;

		if (pred(c)) {
			return true;
		}
		if (deadline != UINT64_MAX && tri_now_ms() >= deadline) {
			return false;
		}
		(void)tri_sched_block_until(c, pred, deadline, &e);
		if (e != TR_OK) {
			if (err != NULL) {
				*err = e;
			}
			return false;
		}
	}
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

static void
swait_free(tri_ctx *c)
{
	if (c->swait != NULL) {
		uv_close((uv_handle_t *)&c->swait->timer, swait_close_cb);
		c->swait = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* An actor's own loop (tr_loop)                                       */

static tri_aloop *
aloop_of(tri_ctx *c)
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
	tri_sched_notify(al->c);
	if ((al->c->sflags & TRI_SF_QUEUED) == 0 &&
	    (al->c->sflags & (TRI_SF_RUNNING | TRI_SF_ENDED)) == 0) {
		rq_push(al->c->sched, al->c);
	}
	sched_enter(al->c->sched);
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
		return &aloop_of(c)->loop;
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
static void
aloop_arm(tri_ctx *c)
{
	tri_aloop *al = aloop_of(c);
	int t = uv_backend_timeout(&al->loop);

	if (t == 0) {
		al->due = true;
		if ((c->sflags & (TRI_SF_QUEUED | TRI_SF_RUNNING)) == 0) {
			rq_push(c->sched, c);
		}
	} else if (t > 0) {
		uv_timer_start(&al->timer, on_aloop_timer, (uint64_t)t, 0);
	} else {
		uv_timer_stop(&al->timer);
	}
}

static void
aloop_run(tri_ctx *c)
{
	tri_aloop *al = aloop_of(c);

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
static void
aloop_end(tri_ctx *c)
{
	tri_aloop *al = aloop_of(c);

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

/* ------------------------------------------------------------------ */
/* Running actors                                                      */

/* Senders of this scheduler that wait for room in some mailbox: look
 * again after each turn (a receiver here may have made room). */
static void
wake_space_waiters(tri_sched *s)
{
	for (size_t i = 0; i < s->nspacew;) {
		tri_ctx *w = s->spacew[i];
		if ((w->sflags & TRI_SF_RESUME) == 0) {
			res_push(s, w);
		}
		s->spacew[i] = s->spacew[--s->nspacew];
	}
}

/* c's callback begins (or resumes): visible to introspection. */
static void
busy(tri_sched *s, tri_ctx *c)
{
	uint64_t now = now_coarse_ms();

	atomic_store_explicit(&s->since_ms, now, memory_order_relaxed);
	atomic_store_explicit(&s->running_id, run_id(c), memory_order_relaxed);
	atomic_store_explicit(
	    &c->mb.rec->busy_since, now == 0 ? 1 : now, memory_order_relaxed);
}

/* c's callback returned; `prev` runs again (an actor that spawned c
 * and ran its init), or nothing. */
static void unbusy(tri_sched *s, tri_ctx *c, tri_ctx *prev);

static void
unbusy(tri_sched *s, tri_ctx *c, tri_ctx *prev)
{
	atomic_store_explicit(&c->mb.rec->busy_since, 0, memory_order_relaxed);
	atomic_store_explicit(
	    &s->running_id, prev != NULL ? run_id(prev) : 0, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Sharing work                                                        */

/* Takes the actors another scheduler handed over (before routing any
 * frame: one for an adopted actor may already have arrived). */
static void stop_for_shutdown(tri_ctx *c);

static void
take_adopted(tri_sched *s)
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
		list_add(s, c);
		if (s->stopping_all) {
			stop_for_shutdown(c); /* handed over as it began */
		}
		if (has_work(c)) {
			rq_push(s, c);
		} else {
			c->sflags &= (uint16_t)~TRI_SF_QUEUED;
		}
	}
}

/* Whether c may move: nothing of it is tied to this thread. */
static bool
movable(const tri_ctx *c)
{
	return (c->sflags & (TRI_SF_RUNNING | TRI_SF_BLOCKED | TRI_SF_RESUME |
	                        TRI_SF_STARTING | TRI_SF_LOOP | TRI_SF_ENDED)) ==
	    0 &&
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

	list_remove(s, c);
	swait_free(c); /* its timer belongs to this loop */
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
		list_add(s, c);
		return false;
	}
	uv_async_send(&t->wake);
	return true;
}

/* After a turn: if this scheduler has been busy a while with more
 * runnable actors than it can run at once, and another is idle, give
 * that one the next runnable actor but one. */
static void
maybe_share(tri_sched *s)
{
	uint32_t n = tri_sched_count();
	tri_ctx *c;
	tri_sched *t = NULL;

	if (s->rq_len < 2 || atomic_load(&nidle) == 0 || atomic_load(&closing) ||
	    now_coarse_ms() - s->busy_from < SHARE_AFTER_MS) {
		return;
	}
	for (uint32_t i = 1; i < n && t == NULL; i++) {
		tri_sched *u = scheds[(s->idx + i) % n];
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
		rq_push(s, c);
		uv_async_send(&t->wake);
	}
}

static void
set_idle(tri_sched *s, bool idle)
{
	int was = atomic_exchange(&s->is_idle, idle ? 1 : 0);

	if (idle && !was) {
		atomic_fetch_add(&nidle, 1);
	} else if (!idle && was) {
		atomic_fetch_sub(&nidle, 1);
	}
}

/* Everything an actor does once it is over, on a turn fiber. */
static void
actor_end(tri_sched *s, tri_ctx *c)
{
	tr_reason why = c->reason;

	if (c->beh->terminate != NULL && why.kind != TR_EXIT_KILL) {
		c->sflags |= TRI_SF_RUNNING;
		tri_set_self(c);
		busy(s, c);
		c->in_callback++;
		c->beh->terminate(c->state, why);
		c->in_callback--;
		unbusy(s, c, NULL);
		tri_set_self(NULL);
		c->sflags &= (uint16_t)~TRI_SF_RUNNING;
	}
	tri_mailbox_seal(c);
	tri_registry_remove(c);
	tri_notify_exit(c, why);
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		tri_set_self(c);
		aloop_end(c);
		tri_set_self(NULL);
	}
	for (size_t i = 0; i < s->nspacew; i++) {
		if (s->spacew[i] == c) {
			s->spacew[i] = s->spacew[--s->nspacew];
			break;
		}
	}
	list_remove(s, c);
	swait_free(c);
	c->sflags |= TRI_SF_ENDED;
	atomic_fetch_sub(&nlive, 1);
	TRI_STAT(exited);
	tri_ctx_rele(c); /* the scheduler's */
}

static void start_from_frame(tri_sched *s, tri_ctx *c);

static void
run_actor(tri_sched *s, tri_ctx *c)
{
	int handled = 0;

	if ((c->sflags & TRI_SF_STARTING) != 0) {
		if (c->start != NULL) {
			start_from_frame(s, c);
		}
		return;
	}

	c->sflags |= TRI_SF_RUNNING;
	tri_set_self(c);
	busy(s, c);
	tri_run_control(c);
	while (!c->stopping && handled < BATCH && tri_handle_next(c)) {
		handled++;
	}
	if (!c->stopping && (c->sflags & TRI_SF_LOOP) != 0 &&
	    aloop_of(c)->due) {
		aloop_run(c);
		if (c->ctlq.head != NULL) {
			tri_run_control(c);
		}
	}
	unbusy(s, c, NULL);
	tri_set_self(NULL);
	c->sflags &= (uint16_t)~TRI_SF_RUNNING;
	if (handled > 0 && s->nspacew > 0) {
		wake_space_waiters(s);
	}
	if (c->stopping) {
		actor_end(s, c);
		return;
	}
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		aloop_arm(c);
	}
	if (has_work(c) && (c->sflags & TRI_SF_QUEUED) == 0) {
		rq_push(s, c);
	}
}

/* A failed start leaves nothing behind: no links, no name, no slot. */
static void
start_failed(tri_ctx *c, int rv)
{
	tri_start_undo(c, rv);
	if (tls_sched != NULL) {
		uncache(tls_sched, c);
	}
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		aloop_end(c);
	}
	swait_free(c);
	c->sflags |= TRI_SF_ENDED;
}

/* Runs c's init on the calling fiber (its scheduler's thread), as c.
 * Returns init's result; on failure c is gone (start_failed). */
static int
run_init(tri_sched *s, tri_ctx *c, tr_msg *arg)
{
	tri_ctx *prev = tri_self();
	tri_ctx *prev_running = prev; /* the spawner, or nothing */
	int rv;

	c->sflags &= (uint16_t)~TRI_SF_STARTING;
	c->sflags |= TRI_SF_RUNNING;
	tri_set_self(c);
	busy(s, c);
	c->in_callback++;
	rv = c->beh->init != NULL ? c->beh->init(c->state, arg) : 0;
	c->in_callback--;
	if (rv == 0 && c->stopping) {
		rv = TR_EINIT; /* init asked to stop: a failed start */
	}
	c->sflags &= (uint16_t)~TRI_SF_RUNNING;
	tri_set_self(prev);
	unbusy(s, c, prev_running);
	if (rv != 0) {
		start_failed(c, rv);
		return rv;
	}
	list_add(s, c);
	atomic_fetch_add(&nlive, 1);
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		aloop_arm(c);
	}
	if (has_work(c)) {
		rq_push(s, c);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Routing what arrives                                                */

/* The init argument and reply address of a start asked from another
 * thread, kept on the new context until its scheduler runs it. */
struct tri_start {
	tr_msg *arg;
	tr_ref spawner;
	uint64_t corr;
	uint32_t index; /* in a batch (tri_sched_spawn_many) */
};

static void
start_from_frame(tri_sched *s, tri_ctx *c)
{
	struct tri_start *sr = c->start;
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;
	tr_reason why = TR_REASON_NORMAL;
	tr_ref self_ref = c->ref;
	int rv;

	c->start = NULL;
	rv = run_init(s, c, sr->arg);
	if (rv == TR_IGNORE) {
		why = TR_REASON(TR_EXIT_NORMAL, TR_IGNORE); /* as a process's */
	} else if (rv != 0) {
		why = TR_REASON(TR_EXIT_ERROR, rv);
	}
	tri_control_frame(
	    &f, body, TRI_K_READY, self_ref, sr->spawner, why, sr->corr);
	f.corr = sr->corr;
	f.tag = sr->index;
	{
		tri_target t;
		if (tri_target_get(sr->spawner, &t) == TR_OK) {
			(void)tri_target_deliver(&t, &f);
			tri_target_put(&t);
		}
	}
	tr_msg_free(sr->arg);
	tri_free(sr);
	if (rv != 0) {
		tri_ctx_rele(c); /* the scheduler's */
	}
}

static void
proc_down_all(tri_sched *s, const tri_frame *f)
{
	for (tri_ctx *c = s->all; c != NULL; c = c->all_next) {
		tri_frame g = *f;
		g.dest = c->ref;
		tri_route(c, &g);
		tri_sched_notify(c);
	}
}

void
tri_sched_route(tri_sched *s, const tri_frame *f)
{
	tri_ctx *c;

	if (f->kind == TRI_K_PROC_DOWN && f->dest.slot > TRI_SLOTS_MAX) {
		proc_down_all(s, f); /* to all of us at once */
		return;
	}
	take_adopted(s); /* a frame for an actor just handed to us */
	c = tri_registry_get(f->dest);
	if (c == NULL || c->kind != TRI_CTX_SCHED) {
		/* Gone.  A user message was counted as a dead letter when
		 * its mailbox was sealed (its slot was still taken); a timer
		 * message holds none. */
		if (f->kind == TRI_K_TIMER) {
			TRI_STAT(dead_letters);
		}
		if (c != NULL) {
			tri_ctx_rele(c);
		}
		return;
	}
	if (tri_slot_home(c->mb.rec, c->ref.gen) != s->idx + 1) {
		/* Sent before it moved away: cannot happen while frames in
		 * flight hold a move back; pass it on all the same. */
		(void)tri_sched_deliver(c, f);
		tri_slot_routed(c->mb.rec, c->ref.gen);
		tri_ctx_rele(c);
		return;
	}
	if ((c->sflags & TRI_SF_STARTING) != 0) {
		if (f->kind == TRI_K_READY && c->start != NULL) {
			/* The start request: its init runs as a turn, not in
			 * here (it may block, and a drain is not reentrant). */
			tri_slot_routed(c->mb.rec, c->ref.gen);
			if ((c->sflags & TRI_SF_QUEUED) == 0) {
				rq_push(s, c);
			}
			tri_ctx_rele(c);
			return;
		}
	}
	tri_route(c, f);
	tri_slot_routed(c->mb.rec, c->ref.gen);
	tri_sched_notify(c);
	tri_ctx_rele(c);
}

int
tri_sched_deliver(tri_ctx *c, const tri_frame *f)
{
	tri_sched *cur = tri_sched_current();
	tri_sched *to;
	uint32_t home;
	int rv;

	if ((rv = tri_slot_route(tri_rt.slots, c->mb.rec, c->ref.gen,
	         &home)) != TR_OK) {
		return rv;
	}
	if (cur != NULL && home == cur->idx + 1) {
		/* Its scheduler's own thread (which alone could move it):
		 * route it now. */
		tri_slot_routed(c->mb.rec, c->ref.gen);
		tri_route(c, f);
		tri_sched_notify(c);
		return TR_OK;
	}
	if ((to = by_home(home)) == NULL) {
		tri_slot_routed(c->mb.rec, c->ref.gen);
		return TR_ENOPROC;
	}
	rv = tri_port_send(tri_mailbox_port(to->host), f);
	if (rv != TR_OK) {
		tri_slot_routed(c->mb.rec, c->ref.gen);
		return rv == TR_ECLOSED ? TR_ENOPROC : rv;
	}
	return TR_OK;
}

bool
tri_sched_handover(
    tri_ctx *c, uint32_t home, tr_msg *msg, int kind, uint64_t corr)
{
	tri_sched *cur = tri_sched_current();
	tri_ctx *self = tri_self();

	/* Its home is this thread, which alone could move it. */
	if (cur == NULL || home != cur->idx + 1 ||
	    (c->sflags & TRI_SF_ENDED) != 0) {
		return false;
	}
	msg->kind = (uint8_t)kind;
	msg->sender = self != NULL ? self->ref : TR_REF_NIL;
	msg->corr = corr;
	msg->counted = true;
	msg->parsed = false;
	tri_msgq_push(&c->userq, msg);
	tri_sched_notify(c);
	return true;
}

void
tri_sched_broadcast(const tri_frame *f)
{
	uint32_t n = tri_sched_count();

	for (uint32_t i = 0; i < n; i++) {
		tri_frame g = *f;
		g.dest = tri_sched_home_ref(tri_rt.node, tri_rt.proc, i + 1);
		(void)tri_port_send(tri_mailbox_port(scheds[i]->host), &g);
	}
}

/* ------------------------------------------------------------------ */
/* The scheduler's turns                                               */

static void
stop_for_shutdown(tri_ctx *c)
{
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;

	if (c->stopping) {
		return;
	}
	tri_control_frame(
	    &f, body, TRI_K_STOP, TR_REF_NIL, c->ref, TR_REASON_SHUTDOWN, 0);
	tri_route(c, &f);
	tri_sched_notify(c);
}

/* What other threads asked; whether to end. */
static bool
take_requests(tri_sched *s)
{
	bool stop_all, exit;

	take_adopted(s);
	pthread_mutex_lock(&s->rmtx);
	stop_all = s->req_stop_all;
	s->req_stop_all = false;
	exit = s->req_exit;
	pthread_mutex_unlock(&s->rmtx);
	if (stop_all) {
		s->stopping_all = true;
		/* Newest first: the list is kept that way. */
		for (tri_ctx *c = s->all; c != NULL; c = c->all_next) {
			stop_for_shutdown(c);
		}
	}
	return exit;
}

static void
dispatch(void *arg)
{
	tri_sched *s = arg;

	for (;;) {
		unsigned turns = 0;

		for (;;) {
			tri_ctx *c;

			take_adopted(s);
			tri_mailbox_drain(s->host);
			if ((c = res_pop(s)) != NULL) {
				resume(s, c);
				continue;
			}
			if (turns >= TURNS || (c = rq_pop(s)) == NULL) {
				break;
			}
			run_actor(s, c);
			turns++;
			maybe_share(s);
		}
		/* Back to the loop.  Work left: keep it turning without
		 * sleeping in its poll. */
		if (s->rq_head != NULL || s->res_head != NULL ||
		    tri_mailbox_pending(s->host)) {
			if (!s->idle_on) {
				uv_idle_start(&s->idle, on_idle);
				s->idle_on = true;
			}
		} else {
			set_idle(s, true);
		}
		tri_fiber_switch(s->cur, s->native);
	}
}

static void
sched_enter(tri_sched *s)
{
	if (s->entered) {
		return; /* a loop callback run from within a turn */
	}
	s->entered = true;
	if (atomic_load_explicit(&s->is_idle, memory_order_relaxed) != 0 ||
	    s->busy_from == 0) {
		set_idle(s, false);
		s->busy_from = now_coarse_ms();
	}
	tri_fiber_switch(s->native, s->cur);
	s->entered = false;
	if (s->exiting && s->nall == 0 && s->rq_head == NULL &&
	    s->res_head == NULL) {
		set_idle(s, false);
		uv_stop(&s->loop);
	}
	if (s->rq_head == NULL && s->res_head == NULL && s->idle_on) {
		uv_idle_stop(&s->idle);
		s->idle_on = false;
	}
}

static void
on_wake(uv_async_t *h)
{
	tri_sched *s = h->data;

	if (take_requests(s)) {
		s->exiting = true;
	}
	sched_enter(s);
}

static void
on_idle(uv_idle_t *h)
{
	sched_enter(h->data);
}

static void
close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h)) {
		uv_close(h, NULL);
	}
}

static void *
sched_main(void *arg)
{
	tri_sched *s = arg;
	int rv = TR_OK;

	tls_sched = s;
	if ((s->native = tri_fiber_native()) == NULL ||
	    (s->cur = tri_fiber_new(s->stack, dispatch, s)) == NULL) {
		rv = TR_ENOMEM;
	}
	pthread_mutex_lock(&s->smtx);
	s->started = rv == TR_OK ? 1 : -rv;
	pthread_cond_broadcast(&s->scv);
	pthread_mutex_unlock(&s->smtx);
	if (rv == TR_OK) {
		uv_run(&s->loop, UV_RUN_DEFAULT);
	}
	uv_walk(&s->loop, close_handle, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	/* Parked turn fibers and the last one: no actor needs them now. */
	for (size_t i = 0; i < s->npool; i++) {
		tri_fiber_free(s->pool[i]);
	}
	s->npool = 0;
	tri_fiber_free(s->cur);
	tri_fiber_free(s->native);
	s->cur = s->native = NULL;
	tls_sched = NULL;
	return NULL;
}

static size_t
stack_size(void)
{
	const char *e = getenv("TROUPE_STACK");
	size_t n = tri_rt.stack_size;

	if (e != NULL && e[0] != '\0') {
		char *end;
		unsigned long v = strtoul(e, &end, 10);
		if (*end == 'k' || *end == 'K') {
			v *= 1024u;
		}
		n = (size_t)v;
	}
	return n == 0 ? TRI_FIBER_STACK_DEFAULT : n;
}

static uint32_t
count_wanted(uint32_t n)
{
	const char *e = getenv("TROUPE_SCHEDULERS");

	if (n == 0 && e != NULL && e[0] != '\0') {
		n = (uint32_t)strtoul(e, NULL, 10);
	}
	if (n == 0) {
		n = tri_rt.schedulers;
	}
	if (n == 0) {
		n = tr_cores();
	}
	if (n == 0) {
		n = 1;
	}
	return n > TRI_HOMES_MAX ? TRI_HOMES_MAX : n;
}

static void
sched_free(tri_sched *s)
{
	if (s->host != NULL) {
		tri_mailbox_close(s->host);
		tri_ctx_rele(s->host);
	}
	pthread_mutex_destroy(&s->rmtx);
	pthread_mutex_destroy(&s->smtx);
	pthread_cond_destroy(&s->scv);
	tri_free(s->pool);
	tri_free(s->spacew);
	tri_free(s);
}

static int
sched_new(uint32_t idx, tri_sched **out)
{
	tri_sched *s = tri_calloc(1, sizeof(*s));
	int rv;

	if (s == NULL) {
		return TR_ENOMEM;
	}
	s->idx = idx;
	s->stack = stack_size();
	pthread_mutex_init(&s->rmtx, NULL);
	pthread_mutex_init(&s->smtx, NULL);
	pthread_cond_init(&s->scv, NULL);
	if ((rv = uv_loop_init(&s->loop)) != 0) {
		rv = tri_err_uv(rv);
		goto fail;
	}
	uv_async_init(&s->loop, &s->wake, on_wake);
	uv_idle_init(&s->loop, &s->idle);
	s->wake.data = s;
	s->idle.data = s;
	if ((s->host = tri_ctx_new(NULL, 0)) == NULL) {
		rv = TR_ENOMEM;
		goto fail_loop;
	}
	s->host->kind = TRI_CTX_HOST;
	s->host->sched = s;
	if ((rv = tri_mailbox_open(s->host)) != TR_OK) {
		tri_ctx_rele(s->host);
		s->host = NULL;
		goto fail_loop;
	}
	tri_mailbox_set_wake(s->host, &s->wake);
	if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
		rv = TR_ESYSTEM;
		goto fail_host;
	}
	s->thread_on = true;
	pthread_mutex_lock(&s->smtx);
	while (s->started == 0) {
		pthread_cond_wait(&s->scv, &s->smtx);
	}
	pthread_mutex_unlock(&s->smtx);
	if (s->started < 0) {
		rv = -s->started;
		pthread_join(s->thread, NULL);
		s->thread_on = false;
		goto fail_host;
	}
	*out = s;
	return TR_OK;

fail_host:
	tri_mailbox_close(s->host);
	tri_ctx_rele(s->host);
	s->host = NULL;
fail_loop:
	if (!s->thread_on) {
		uv_walk(&s->loop, close_handle, NULL);
		uv_run(&s->loop, UV_RUN_DEFAULT);
		uv_loop_close(&s->loop);
	}
fail:
	s->host = NULL;
	sched_free(s);
	return rv;
}

int
tri_sched_start(uint32_t n)
{
	tri_sched **v;
	int rv = TR_OK;

	if (tri_sched_count() > 0) {
		return TR_OK;
	}
	pthread_mutex_lock(&start_mtx);
	if (nsched > 0) {
		pthread_mutex_unlock(&start_mtx);
		return TR_OK;
	}
	n = count_wanted(n);
	if ((v = tri_calloc(n, sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&start_mtx);
		return TR_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		if ((rv = sched_new(i, &v[i])) != TR_OK) {
			while (i-- > 0) {
				pthread_mutex_lock(&v[i]->rmtx);
				v[i]->req_exit = true;
				pthread_mutex_unlock(&v[i]->rmtx);
				uv_async_send(&v[i]->wake);
				pthread_join(v[i]->thread, NULL);
				sched_free(v[i]);
			}
			tri_free(v);
			pthread_mutex_unlock(&start_mtx);
			return rv;
		}
	}
	scheds = v;
	__atomic_store_n(&nsched, n, __ATOMIC_RELEASE);
	/* No watchdog is no reason to refuse actors: it only reports. */
	(void)tri_watchdog_start(n);
	pthread_mutex_unlock(&start_mtx);
	return TR_OK;
}

void
tri_sched_stop(void)
{
	uint32_t n;

	pthread_mutex_lock(&start_mtx);
	tri_watchdog_stop();
	n = nsched;
	for (uint32_t i = 0; i < n; i++) {
		tri_sched *s = scheds[i];
		pthread_mutex_lock(&s->rmtx);
		s->req_exit = true;
		pthread_mutex_unlock(&s->rmtx);
		uv_async_send(&s->wake);
	}
	for (uint32_t i = 0; i < n; i++) {
		pthread_join(scheds[i]->thread, NULL);
		sched_free(scheds[i]);
	}
	tri_free(scheds);
	scheds = NULL;
	__atomic_store_n(&nsched, 0, __ATOMIC_RELEASE);
	atomic_store(&closing, false);
	atomic_store(&nidle, 0);
	pthread_mutex_unlock(&start_mtx);
}

/* ------------------------------------------------------------------ */
/* Spawning                                                            */

/* Where an actor spawned from outside the schedulers goes: the calling
 * thread keeps its choice (what is spawned together talks together),
 * made once as the scheduler with the fewest actors. */
void
tri_sched_spread(bool on)
{
	tls_spread = on;
}

static tri_sched *
pick(void)
{
	uint32_t n = tri_sched_count();
	uint32_t best = 0;

	if (tls_spread) {
		tls_pick = tls_pick % n + 1; /* the next one, in turn */
		return scheds[tls_pick - 1];
	}
	if (tls_pick >= 1 && tls_pick <= n) {
		return scheds[tls_pick - 1];
	}
	for (uint32_t i = 1; i < n; i++) {
		if (atomic_load(&scheds[i]->nactors) <
		    atomic_load(&scheds[best]->nactors)) {
			best = i;
		}
	}
	tls_pick = best + 1;
	return scheds[best];
}

/* Asks s to run c's init (from a thread that is not s's) and waits for
 * the answer, as a call. */
static int
start_remote(tri_sched *s, tri_ctx *c, tr_msg *arg, tr_reason *why)
{
	tri_ctx *self = tri_self();
	struct tri_start *sr;
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;
	tr_msg *reply = NULL;
	tr_reason r;
	uint32_t home;
	int rv;

	if (self == NULL) {
		return TR_ESTATE;
	}
	if ((sr = tri_calloc(1, sizeof(*sr))) == NULL) {
		return TR_ENOMEM;
	}
	sr->arg = arg;
	sr->spawner = self->ref;
	sr->corr = ++self->corr_seq;
	c->start = sr; /* its scheduler's from the send on */
	self->call_corr = sr->corr;
	self->call_down = false;
	self->call_reply = NULL;
	self->call_target = TR_REF_NIL;
	tri_control_frame(
	    &f, body, TRI_K_READY, self->ref, c->ref, TR_REASON_NORMAL, 0);
	f.corr = sr->corr;
	rv = tri_slot_route(tri_rt.slots, c->mb.rec, c->ref.gen, &home);
	if (rv == TR_OK) {
		rv = tri_port_send(tri_mailbox_port(s->host), &f);
		if (rv != TR_OK) {
			tri_slot_routed(c->mb.rec, c->ref.gen);
		}
	}
	if (rv != TR_OK) {
		self->call_corr = 0;
		c->start = NULL;
		tri_free(sr);
		return rv == TR_ECLOSED ? TR_ENOPROC : rv;
	}
	if ((rv = tri_wait_reply(self, UINT64_MAX, &reply)) != TR_OK) {
		return rv;
	}
	tri_msg_reason_of_frame(reply, &r);
	tr_msg_free(reply);
	if (r.kind == TR_EXIT_NORMAL && r.code == TR_IGNORE) {
		return TR_IGNORE;
	}
	if (r.kind != TR_EXIT_NORMAL) {
		if (why != NULL) {
			*why = r;
		}
		return TR_EINIT;
	}
	return TR_OK;
}

/* Makes the context of a scheduled actor to be started on s: its ref,
 * slot, name, links (to the caller if the spec says so, and to peer),
 * and its copy of the init argument in *arg.  On success it holds the
 * scheduler's reference and ours. */
static int
make_ctx(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tri_sched *s, tri_ctx **out, tr_msg **arg)
{
	tri_ctx *self = tri_self();
	tri_ctx *c;
	int rv;

	*arg = NULL;
	c = tri_ctx_new(b,
	    spec->mailbox_capacity ? spec->mailbox_capacity : tri_rt.capacity);
	if (c == NULL) {
		return TR_ENOMEM;
	}
	c->kind = TRI_CTX_SCHED;
	c->place = TR_PLACE_SCHEDULED;
	c->trap_exits = spec->trap_exits;
	c->seq = atomic_fetch_add(&tri_rt.seq, 1);
	c->sched = s;
	c->sflags = TRI_SF_STARTING;
	if (spec->init_arg != NULL &&
	    (rv = tr_msg_dup(arg, spec->init_arg)) != TR_OK) {
		goto fail_ctx;
	}
	if ((rv = tri_registry_add(c)) != TR_OK) {
		goto fail_arg;
	}
	if ((rv = tri_mailbox_open(c)) != TR_OK) {
		goto fail_reg;
	}
	if (spec->name != NULL &&
	    (rv = tri_names_add(spec->name, c->ref)) != TR_OK) {
		goto fail_mb;
	}
	if (spec->link && self != NULL && (rv = tr_link(c->ref)) != TR_OK) {
		goto fail_mb;
	}
	if (!tr_ref_is_nil(peer) && (rv = tri_link_add(c, peer)) != TR_OK) {
		goto fail_link;
	}
	TRI_STAT(spawned);
	tri_ctx_hold(c); /* the scheduler's, until the actor ends */
	*out = c;
	return TR_OK;

fail_link:
	if (spec->link && self != NULL) {
		(void)tr_unlink(c->ref);
	}
fail_mb:
	tri_mailbox_seal(c);
fail_reg:
	tri_registry_remove(c);
fail_arg:
	tr_msg_free(*arg);
	*arg = NULL;
fail_ctx:
	tri_ctx_rele(c);
	return rv;
}

/* Where a new actor goes: beside the spawning actor if it is one of a
 * scheduler (a parent and its children talk), else where the calling
 * thread's spawns go. */
static tri_sched *
place_new(void)
{
	tri_sched *cur = tri_sched_current();
	tri_ctx *self = tri_self();

	return (cur != NULL && self != NULL && self->kind == TRI_CTX_SCHED &&
	           !tls_spread) ?
	    cur :
	    pick();
}

int
tri_sched_spawn(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why)
{
	tri_sched *s;
	tr_msg *arg;
	tri_ctx *c;
	tr_ref ref;
	int rv;

	if ((rv = tri_sched_start(0)) != TR_OK) {
		return rv;
	}
	s = place_new();
	if ((rv = make_ctx(spec, b, peer, s, &c, &arg)) != TR_OK) {
		return rv;
	}
	ref = c->ref;
	if (s == tri_sched_current()) {
		rv = run_init(s, c, arg);
		tr_msg_free(arg);
		tri_ctx_rele(c); /* ours */
		if (rv != 0) {
			tri_ctx_rele(c); /* the scheduler's: it is gone */
			if (rv == TR_IGNORE) {
				*out = TR_REF_NIL; /* init chose not to run */
				return TR_OK;
			}
			if (why != NULL) {
				*why = TR_REASON(TR_EXIT_ERROR, rv);
			}
			return TR_EINIT;
		}
		*out = ref;
		return TR_OK;
	}
	rv = start_remote(s, c, arg, why);
	if (rv == TR_ENOPROC || rv == TR_ENOMEM || rv == TR_ESTATE) {
		/* The request never left: nothing runs it. */
		tr_msg_free(arg);
		start_failed(c, rv);
		tri_ctx_rele(c);
	} else if (rv != TR_OK && rv != TR_EINIT && rv != TR_IGNORE) {
		/* The wait failed: the scheduler may still run it; stop it
		 * then. */
		(void)tr_stop(ref, TR_REASON_KILL);
	}
	tri_ctx_rele(c);
	if (rv == TR_IGNORE) {
		*out = TR_REF_NIL; /* init chose not to run */
		return TR_OK;
	}
	if (rv == TR_OK) {
		*out = ref;
	}
	return rv;
}

/* The spawner's view of a batch of starts (tri_sched_spawn_many): the
 * READY of start i carries i in its tag. */
static bool
batch_done(tri_ctx *c)
{
	return c->call_batch == NULL || c->call_batch->left == 0 ||
	    c->call_down || (c->ctlq.head != NULL && !c->stopping);
}

int
tri_sched_spawn_many(const tr_spec *spec, const tri_behavior *b, uint32_t n,
    tr_ref *refs, tr_reason *why)
{
	tri_ctx *self = tri_self();
	tri_batch batch;
	tri_ctx **v;
	tri_sched *s;
	uint32_t made = 0;
	int rv = TR_OK;

	if ((rv = tri_sched_start(0)) != TR_OK) {
		return rv;
	}
	s = place_new();
	if (s == tri_sched_current() || self == NULL) {
		/* From an actor beside them: each init runs here and now,
		 * no round trip to save.  (From a thread that is no context
		 * there is no mailbox to wait on: tri_sched_spawn says so.) */
		for (uint32_t i = 0; i < n; i++) {
			if ((rv = tri_sched_spawn(spec, b, TR_REF_NIL, &refs[i],
			         why)) != TR_OK) {
				tri_spawn_many_undo(refs, i);
				return rv;
			}
		}
		return TR_OK;
	}
	if ((v = tri_calloc(n, sizeof(*v))) == NULL) {
		return TR_ENOMEM;
	}
	memset(&batch, 0, sizeof(batch));
	batch.refs = refs;
	batch.n = n;
	self->call_corr = ++self->corr_seq;
	self->call_down = false;
	self->call_reply = NULL;
	self->call_target = TR_REF_NIL;
	self->call_batch = &batch;
	for (; made < n; made++) {
		struct tri_start *sr;
		uint8_t body[TRI_CONTROL_BODY];
		tri_frame f;
		tr_msg *arg;
		uint32_t home;

		if ((rv = make_ctx(spec, b, TR_REF_NIL, s, &v[made], &arg)) !=
		    TR_OK) {
			break;
		}
		refs[made] = v[made]->ref;
		if ((sr = tri_calloc(1, sizeof(*sr))) == NULL) {
			tr_msg_free(arg);
			start_failed(v[made], TR_ENOMEM);
			tri_ctx_rele(v[made]);
			tri_ctx_rele(v[made]);
			rv = TR_ENOMEM;
			break;
		}
		sr->arg = arg;
		sr->spawner = self->ref;
		sr->corr = self->call_corr;
		sr->index = made;
		v[made]->start = sr;
		tri_control_frame(&f, body, TRI_K_READY, self->ref,
		    v[made]->ref, TR_REASON_NORMAL, 0);
		f.corr = sr->corr;
		rv = tri_slot_route(
		    tri_rt.slots, v[made]->mb.rec, v[made]->ref.gen, &home);
		if (rv == TR_OK &&
		    (rv = tri_port_send(tri_mailbox_port(s->host), &f)) !=
		        TR_OK) {
			tri_slot_routed(v[made]->mb.rec, v[made]->ref.gen);
		}
		if (rv != TR_OK) {
			v[made]->start = NULL;
			tr_msg_free(arg);
			tri_free(sr);
			start_failed(v[made], rv);
			tri_ctx_rele(v[made]);
			tri_ctx_rele(v[made]);
			rv = rv == TR_ECLOSED ? TR_ENOPROC : rv;
			break;
		}
		batch.left++;
	}
	/* Wait for every start that left, failed ones included. */
	if (!tri_wait_batch(self, batch_done) && rv == TR_OK) {
		rv = TR_ECANCELED;
	}
	self->call_batch = NULL;
	self->call_corr = 0;
	if (rv == TR_OK && batch.failed > 0) {
		rv = TR_EINIT;
		if (why != NULL) {
			*why = batch.first_why;
		}
	}
	for (uint32_t i = 0; i < made; i++) {
		tri_ctx_rele(v[i]); /* ours */
	}
	tri_free(v);
	if (rv != TR_OK) {
		/* All or nothing: what started is stopped. */
		tri_spawn_many_undo(refs, made);
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* Shutdown and introspection                                          */

int
tri_sched_shutdown(uint64_t deadline)
{
	uint32_t n = tri_sched_count();
	bool left = false;

	atomic_store(&closing, true);
	for (uint32_t i = 0; i < n; i++) {
		tri_sched *s = scheds[i];
		pthread_mutex_lock(&s->rmtx);
		s->req_stop_all = true;
		pthread_mutex_unlock(&s->rmtx);
		uv_async_send(&s->wake);
	}
	for (;;) {
		left = atomic_load(&nlive) != 0;
		if (!left || tri_now_ms() >= deadline) {
			break;
		}
		{
			struct timespec ts = {0, 2 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	return left ? TR_ETIMEDOUT : TR_OK;
}

bool
tri_sched_running(uint32_t i, tr_ref *who, uint64_t *ms, uint32_t *others)
{
	uint64_t id, since;
	tri_sched *s;

	if (i >= tri_sched_count()) {
		return false;
	}
	s = scheds[i];
	id = atomic_load_explicit(&s->running_id, memory_order_relaxed);
	since = atomic_load_explicit(&s->since_ms, memory_order_relaxed);
	if (id == 0) {
		return false;
	}
	who->node = tri_rt.node;
	who->proc = tri_rt.proc;
	who->slot = (uint32_t)(id >> 32);
	who->gen = (uint32_t)id;
	*ms = now_coarse_ms() - since;
	*others = atomic_load_explicit(&s->nactors, memory_order_relaxed);
	if (*others > 0) {
		(*others)--;
	}
	return true;
}
