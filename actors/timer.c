/*
 * timer.c -- delayed sends.  One thread per runtime keeps a min-heap of
 * deadlines and sleeps on a condition variable until the earliest; a
 * canceled timer is taken out of the heap at once, so cancel and expiry
 * race under one lock and exactly one of them wins.
 *
 * A timer's message bypasses the receiver's capacity, so what is still
 * to come is counted where anybody can see it: in the receiver's slot
 * record (tr_actor_info's timers, troupe status).
 */
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "ctx.h"
#include "msg.h"
#include "runtime.h"
#include "target.h"
#include "timer.h"

/* Nanoseconds: a millisecond clock would fire up to 1 ms early. */
static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct entry {
	uint64_t due; /* ns on the monotonic clock */
	uint64_t id;
	tr_ref to;
	tr_ref from;
	tr_msg *msg;
	/* Where it is counted (the receiver's slot record): mapped until
	 * the runtime ends, after the timers. */
	tri_slotrec *rec;
} entry;

static struct {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	pthread_t thread;
	entry *heap;
	size_t n, cap;
	uint64_t next_id;
	bool stop;
	bool started;
	bool ready;
} T;

static bool
before(const entry *a, const entry *b)
{
	return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void
sift_up(size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		entry tmp;
		if (!before(&T.heap[i], &T.heap[p])) {
			break;
		}
		tmp = T.heap[i];
		T.heap[i] = T.heap[p];
		T.heap[p] = tmp;
		i = p;
	}
}

static void
sift_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		entry tmp;
		if (l < T.n && before(&T.heap[l], &T.heap[m])) {
			m = l;
		}
		if (r < T.n && before(&T.heap[r], &T.heap[m])) {
			m = r;
		}
		if (m == i) {
			return;
		}
		tmp = T.heap[i];
		T.heap[i] = T.heap[m];
		T.heap[m] = tmp;
		i = m;
	}
}

static entry
heap_take(size_t i)
{
	entry e = T.heap[i];

	T.heap[i] = T.heap[--T.n];
	if (i < T.n) {
		sift_down(i);
		sift_up(i);
	}
	return e;
}

/*
 * The count of a timer for e->to goes up (d = 1) or down (-1): in the
 * receiver's slot record, and, for a receiver in another process, in
 * this process's list of such timers (slots.h), which the root settles
 * if this process dies with them.  Called with T.mtx.
 */
static void
count_locked(const entry *e, int d)
{
	tri_slottab *me = tri_rt.slots;
	tri_xtimer *free_one = NULL;

	tri_slot_timers_add(e->rec, e->to.gen, d);
	if (e->to.proc == tri_rt.proc || me == NULL) {
		return; /* it dies with us */
	}
	for (size_t i = 0; i < TRI_XTIMERS; i++) {
		tri_xtimer *x = &me->xtimers[i];
		if (x->n > 0 && tr_ref_equal(x->to, e->to)) {
			x->n = d > 0 ? x->n + 1 : x->n - 1;
			return;
		}
		if (x->n == 0 && free_one == NULL) {
			free_one = x;
		}
	}
	if (d > 0 && free_one != NULL) {
		free_one->to = e->to;
		free_one->n = 1;
	} else if (d > 0) {
		me->xtimers_lost++;
	}
}

void
tri_timers_settle(tri_slottab *dead)
{
	for (size_t i = 0; i < TRI_XTIMERS; i++) {
		tri_xtimer *x = &dead->xtimers[i];
		tri_slottab *tab;

		if (x->n > 0 && x->to.slot < TRI_SLOTS_MAX &&
		    (x->to.proc == tri_rt.proc ?
		            (tab = tri_rt.slots) != NULL :
		            tri_remote_table(x->to.proc, &tab) == TR_OK)) {
			tri_slot_timers_add(
			    &tab->slot[x->to.slot], x->to.gen, -(int64_t)x->n);
		}
		x->n = 0;
	}
}

static void
fire(entry *e)
{
	tri_target t;
	tri_frame f;

	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_TIMER;
	f.tag = e->msg->tag;
	f.sender = e->from;
	f.dest = e->to;
	f.flags = tri_msg_flags(e->msg);
	f.body = tri_msg_bytes(e->msg);
	f.body_len = (uint32_t)tri_msg_len(e->msg);
	if (tri_target_get(e->to, &t) != TR_OK) {
		tri_count_dead(1);
	} else {
		if (tri_target_deliver(&t, &f) == TR_OK) {
			TRI_STAT(sent);
		} else {
			tri_count_dead(1);
		}
		tri_target_put(&t);
	}
	tr_msg_free(e->msg);
}

static void *
timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&T.mtx);
	while (!T.stop) {
		if (T.n == 0) {
			pthread_cond_wait(&T.cv, &T.mtx);
			continue;
		}
		if (T.heap[0].due <= now_ns()) {
			entry e = heap_take(0);
			/* Uncounted before it is sent: whoever sees it arrive
			 * sees it gone from the count. */
			count_locked(&e, -1);
			/* Deliver without the lock: cancel must not wait on a
			 * send. */
			pthread_mutex_unlock(&T.mtx);
			fire(&e);
			pthread_mutex_lock(&T.mtx);
			continue;
		}
		{
			struct timespec ts;
			ts.tv_sec = (time_t)(T.heap[0].due / 1000000000u);
			ts.tv_nsec = (long)(T.heap[0].due % 1000000000u);
			pthread_cond_timedwait(&T.cv, &T.mtx, &ts);
		}
	}
	pthread_mutex_unlock(&T.mtx);
	return NULL;
}

int
tri_timer_start(void)
{
	memset(&T, 0, sizeof(T));
	pthread_mutex_init(&T.mtx, NULL);
	tri_cond_init(&T.cv);
	T.next_id = 1;
	T.ready = true;
	return TR_OK;
}

/* The thread is made by the first delayed send: a process that never
 * uses one (most members) does not pay for it.  Called with T.mtx. */
static int
thread_locked(void)
{
	int rv;

	if (T.started) {
		return TR_OK;
	}
	if ((rv = pthread_create(&T.thread, NULL, timer_main, NULL)) != 0) {
		return tri_err_errno(rv); /* EAGAIN: out of threads */
	}
	T.started = true;
	return TR_OK;
}

void
tri_timer_stop(void)
{
	if (!T.ready) {
		return;
	}
	pthread_mutex_lock(&T.mtx);
	T.stop = true;
	pthread_cond_signal(&T.cv);
	pthread_mutex_unlock(&T.mtx);
	if (T.started) {
		pthread_join(T.thread, NULL);
	}
	/* Timers that never fired: their messages are dead letters. */
	for (size_t i = 0; i < T.n; i++) {
		count_locked(&T.heap[i], -1);
		tr_msg_free(T.heap[i].msg);
		tri_count_dead(1);
	}
	tri_free(T.heap);
	pthread_cond_destroy(&T.cv);
	pthread_mutex_destroy(&T.mtx);
	memset(&T, 0, sizeof(T));
}

int
tr_send_after(tr_ref to, tr_msg *msg, int delay_ms, tr_timer *timer)
{
	tri_ctx *self = tri_self();
	tri_target t;
	bool alive;
	entry e;
	int rv;

	if (msg == NULL || tr_ref_is_nil(to) || delay_ms < 0) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (tri_msg_len(msg) > tri_rt.max_body) {
		return TR_EMSGSIZE;
	}
	if ((rv = tri_body_check(tri_msg_bytes(msg), tri_msg_len(msg))) !=
	    TR_OK) {
		return rv;
	}
	/* Its slot record, where the timer is counted: no connection. */
	if ((rv = tri_target_peek(to, &t)) != TR_OK) {
		return rv;
	}
	alive = t.local == NULL || tr_alive(to);
	e.rec = t.rec;
	tri_target_put(&t);
	if (!alive) {
		return TR_ENOPROC;
	}
	e.due = now_ns() + (uint64_t)delay_ms * 1000000u;
	e.to = to;
	e.from = self != NULL ? self->ref : TR_REF_NIL;
	e.msg = msg;
	pthread_mutex_lock(&T.mtx);
	if ((rv = thread_locked()) != TR_OK) {
		pthread_mutex_unlock(&T.mtx);
		return rv;
	}
	if (T.n == T.cap) {
		size_t ncap = T.cap ? T.cap * 2 : 16;
		entry *nh = tri_realloc(T.heap, ncap * sizeof(*nh));
		if (nh == NULL) {
			pthread_mutex_unlock(&T.mtx);
			return TR_ENOMEM;
		}
		T.heap = nh;
		T.cap = ncap;
	}
	e.id = T.next_id++;
	T.heap[T.n++] = e;
	sift_up(T.n - 1);
	count_locked(&e, 1);
	pthread_cond_signal(&T.cv);
	pthread_mutex_unlock(&T.mtx);
	if (timer != NULL) {
		timer->id = e.id;
	}
	return TR_OK;
}

int
tr_timer_cancel(tr_timer timer)
{
	tr_msg *m = NULL;

	if (!tri_running()) {
		return TR_ECLOSED;
	}
	pthread_mutex_lock(&T.mtx);
	for (size_t i = 0; i < T.n; i++) {
		if (T.heap[i].id == timer.id) {
			entry e = heap_take(i);
			count_locked(&e, -1);
			m = e.msg;
			break;
		}
	}
	pthread_mutex_unlock(&T.mtx);
	if (m == NULL) {
		return TR_ENOENT;
	}
	tr_msg_free(m);
	return TR_OK;
}
