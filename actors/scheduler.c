/*
 * scheduler.c -- scheduled actors: the scheduler threads, their queues
 * and turns, and what arrives for their actors (scheduler.h says what a
 * scheduler is and who may touch what; sched_impl.h how the module's
 * files share the work).
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

#include "buffer.h"
#include "sched_impl.h"
#include "watchdog.h"

static _Thread_local tri_sched *tls_sched;

/* The schedulers of this process, made once (tri_sched_start). */
static tri_sched **scheds;
static uint32_t nsched;
/* Scheduled actors started and not ended, wherever they are (one being
 * handed from one scheduler to another is in neither's list). */
static _Atomic uint64_t nlive;
static pthread_mutex_t start_mtx = PTHREAD_MUTEX_INITIALIZER;

static void dispatch(void *arg);
static void on_idle(uv_idle_t *h);

/* ------------------------------------------------------------------ */
/* Small things                                                        */

tri_sched *
tri_sx_at(uint32_t i)
{
	return scheds[i];
}

void
tri_sx_live_add(int d)
{
	atomic_fetch_add(&nlive, (uint64_t)(int64_t)d);
}

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

tri_sched *
tri_sx_by_home(uint32_t home)
{
	uint32_t n = tri_sched_count();
	return (home >= 1 && home <= n) ? scheds[home - 1] : NULL;
}

/* ------------------------------------------------------------------ */
/* Queues (scheduler thread only)                                      */

void
tri_sx_rq_push(tri_sched *s, tri_ctx *c)
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
void
tri_sx_res_push(tri_sched *s, tri_ctx *c)
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

void
tri_sx_list_add(tri_sched *s, tri_ctx *c)
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

void
tri_sx_uncache(tri_sched *s, const tri_ctx *c)
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

void
tri_sx_list_remove(tri_sched *s, tri_ctx *c)
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
	tri_sx_uncache(s, c);
	for (unsigned i = 0; i < s->nfenced; i++) {
		if (s->fenced[i] == c) {
			s->fenced[i] = s->fenced[--s->nfenced];
			break;
		}
	}
	s->nall--;
	c->sflags &= (uint16_t)~TRI_SF_LISTED;
	atomic_fetch_sub_explicit(&s->nactors, 1, memory_order_relaxed);
}

void
tri_sched_notify(tri_ctx *c)
{
	tri_sched *s = c->sched;

	if ((c->sflags & TRI_SF_BLOCKED) != 0) {
		if ((c->sflags & TRI_SF_RESUME) == 0 && c->swait != NULL &&
		    c->swait->pred != NULL && c->swait->pred(c)) {
			tri_sx_res_push(s, c);
		}
		return;
	}
	if ((c->sflags &
	        (TRI_SF_RUNNING | TRI_SF_QUEUED | TRI_SF_STARTING |
	            TRI_SF_ENDED | TRI_SF_FENCED)) != 0) {
		return;
	}
	if (tri_sx_has_work(c)) {
		tri_sx_rq_push(s, c);
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
int
tri_sx_block(tri_ctx *c)
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
	atomic_store_explicit(
	    &s->since_ms, tri_coarse_ms(), memory_order_relaxed);
	atomic_store_explicit(
	    &s->running_id, tri_sx_run_id(c), memory_order_relaxed);
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
/* Running actors                                                      */

/* Senders of this scheduler that wait for room in some mailbox: look
 * again after each turn (a receiver here may have made room). */
static void
wake_space_waiters(tri_sched *s)
{
	for (size_t i = 0; i < s->nspacew;) {
		tri_ctx *w = s->spacew[i];
		if ((w->sflags & TRI_SF_RESUME) == 0) {
			tri_sx_res_push(s, w);
		}
		s->spacew[i] = s->spacew[--s->nspacew];
	}
}

/* c's callback begins (or resumes): visible to introspection. */
void
tri_sx_busy(tri_sched *s, tri_ctx *c)
{
	uint64_t now = tri_coarse_ms();

	atomic_store_explicit(&s->since_ms, now, memory_order_relaxed);
	atomic_store_explicit(
	    &s->running_id, tri_sx_run_id(c), memory_order_relaxed);
	atomic_store_explicit(
	    &c->mb.rec->busy_since, now == 0 ? 1 : now, memory_order_relaxed);
}

/* c's callback returned; `prev` runs again (an actor that spawned c
 * and ran its init), or nothing. */

void
tri_sx_unbusy(tri_sched *s, tri_ctx *c, tri_ctx *prev)
{
	atomic_store_explicit(&c->mb.rec->busy_since, 0, memory_order_relaxed);
	atomic_store_explicit(&s->running_id,
	    prev != NULL ? tri_sx_run_id(prev) : 0, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Sharing work                                                        */

/* Takes the actors another scheduler handed over (before routing any
 * frame: one for an adopted actor may already have arrived). */

/* Everything an actor does once it is over, on a turn fiber. */
static void
actor_end(tri_sched *s, tri_ctx *c)
{
	tr_reason why = c->reason;

	if (c->beh->terminate != NULL && why.kind != TR_EXIT_KILL) {
		c->sflags |= TRI_SF_RUNNING;
		tri_set_self(c);
		tri_sx_busy(s, c);
		c->in_callback++;
		c->beh->terminate(c->state, why);
		c->in_callback--;
		tri_sx_unbusy(s, c, NULL);
		tri_set_self(NULL);
		c->sflags &= (uint16_t)~TRI_SF_RUNNING;
	}
	tri_mailbox_seal(c);
	tri_registry_remove(c);
	tri_notify_exit(c, why);
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		tri_set_self(c);
		tri_sx_aloop_end(c);
		tri_set_self(NULL);
	}
	for (size_t i = 0; i < s->nspacew; i++) {
		if (s->spacew[i] == c) {
			s->spacew[i] = s->spacew[--s->nspacew];
			break;
		}
	}
	tri_sx_list_remove(s, c);
	tri_sx_swait_free(c);
	c->sflags |= TRI_SF_ENDED;
	tri_sx_live_add(-1);
	TRI_STAT(exited);
	tri_ctx_rele(c); /* the scheduler's */
}

static void
run_actor(tri_sched *s, tri_ctx *c)
{
	int handled = 0;

	if ((c->sflags & TRI_SF_STARTING) != 0) {
		if (c->start != NULL) {
			tri_sx_start_from_frame(s, c);
		}
		return;
	}

	c->sflags |= TRI_SF_RUNNING;
	tri_set_self(c);
	tri_sx_busy(s, c);
	tri_run_control(c);
	while (!c->stopping && handled < BATCH && tri_handle_next(c)) {
		handled++;
	}
	if (!c->stopping && (c->sflags & TRI_SF_LOOP) != 0 &&
	    tri_sx_aloop_of(c)->due) {
		tri_sx_aloop_run(c);
		if (c->ctlq.head != NULL) {
			tri_run_control(c);
		}
	}
	tri_sx_unbusy(s, c, NULL);
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
		tri_sx_aloop_arm(c);
	}
	if (tri_sx_has_work(c) && (c->sflags & TRI_SF_QUEUED) == 0) {
		tri_sx_rq_push(s, c);
	}
}

/* ------------------------------------------------------------------ */
/* Routing what arrives                                                */

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
	tri_sx_take_adopted(s); /* a frame for an actor just handed to us */
	if (f->kind == TRI_K_FENCE) {
		tri_sx_fence(s, f->dest);
		return;
	}
	c = tri_registry_get(f->dest);
	if (c == NULL || c->kind != TRI_CTX_SCHED) {
		/* Gone.  A user message was counted as a dead letter when
		 * its mailbox was sealed (its slot was still taken); a timer
		 * message holds none. */
		if (f->kind == TRI_K_TIMER) {
			TRI_STAT(dead_letters);
		}
		tri_buf_frame_drop(f);
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
				tri_sx_rq_push(s, c);
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

	if ((rv = tri_slot_route(tri_rt.slots, c->mb.rec, c->ref.gen, &home)) !=
	    TR_OK) {
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
	if ((to = tri_sx_by_home(home)) == NULL) {
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

void
tri_sx_stop_for_shutdown(tri_ctx *c)
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

	tri_sx_take_adopted(s);
	pthread_mutex_lock(&s->rmtx);
	stop_all = s->req_stop_all;
	s->req_stop_all = false;
	exit = s->req_exit;
	pthread_mutex_unlock(&s->rmtx);
	if (stop_all) {
		s->stopping_all = true;
		/* Newest first: the list is kept that way. */
		for (tri_ctx *c = s->all; c != NULL; c = c->all_next) {
			tri_sx_stop_for_shutdown(c);
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

			tri_sx_take_adopted(s);
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
			tri_sx_maybe_share(s);
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
			tri_sx_set_idle(s, true);
		}
		tri_fiber_switch(s->cur, s->native);
	}
}

void
tri_sx_enter(tri_sched *s)
{
	if (s->entered) {
		return; /* a loop callback run from within a turn */
	}
	s->entered = true;
	if (atomic_load_explicit(&s->is_idle, memory_order_relaxed) != 0 ||
	    s->busy_from == 0) {
		tri_sx_set_idle(s, false);
		s->busy_from = tri_coarse_ms();
	}
	tri_fiber_switch(s->native, s->cur);
	s->entered = false;
	if (s->exiting && s->nall == 0 && s->rq_head == NULL &&
	    s->res_head == NULL) {
		tri_sx_set_idle(s, false);
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
	tri_sx_enter(s);
}

static void
on_idle(uv_idle_t *h)
{
	tri_sx_enter(h->data);
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
	/* Arrivals still come (nng's threads): they must stop waking a
	 * handle that is about to close with its loop. */
	tri_mailbox_set_wake(s->host, NULL);
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

	/* tr_options first, as for the number of schedulers. */
	if (n == 0 && e != NULL && e[0] != '\0') {
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

	/* The program's own choice first (tr_options), then the
	 * environment's, then the machine's. */
	if (n == 0) {
		n = tri_rt.schedulers;
	}
	if (n == 0 && e != NULL && e[0] != '\0') {
		n = (uint32_t)strtoul(e, NULL, 10);
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
	tri_sx_share_stop(false);
	pthread_mutex_unlock(&start_mtx);
}

/* ------------------------------------------------------------------ */
/* Shutdown and introspection                                          */

int
tri_sched_shutdown(uint64_t deadline)
{
	uint32_t n = tri_sched_count();
	bool left = false;

	tri_sx_share_stop(true);
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
	*ms = tri_coarse_ms() - since;
	*others = atomic_load_explicit(&s->nactors, memory_order_relaxed);
	if (*others > 0) {
		(*others)--;
	}
	return true;
}
