/*
 * actor.c -- thread placement: an actor on its own OS thread, running
 * its own libuv loop (Node's Worker).
 *
 * The loop is woken by the mailbox (uv_async) and handles at most
 * BATCH user messages per turn before it lets the loop poll again, so
 * the actor's own handles (timers, sockets) are not starved and stop
 * requests are seen between messages.
 */
#include <string.h>

#include "actor.h"
#include "alloc.h"
#include "behavior.h"
#include "call.h"
#include "ctx.h"
#include "link.h"
#include "mailbox.h"
#include "registry.h"
#include "route.h"
#include "runtime.h"
#include "target.h"
#include "scheduler.h"

#define BATCH 256

typedef struct spawn_wait {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool done;
	int rv;
	tri_ctx *ctx;
	tr_msg *arg;
	/* A scheduled spawner waits on its fiber, not on cv (that would
	 * stop its scheduler): it is told by a READY frame. */
	tr_ref notify;
	uint64_t corr;
} spawn_wait;

static void run_turn(tri_ctx *c);

static void
on_wake(uv_async_t *h)
{
	run_turn(h->data);
}

static void
on_idle(uv_idle_t *h)
{
	run_turn(h->data);
}

static void
run_turn(tri_ctx *c)
{
	int handled = 0;

	tri_mailbox_drain(c);
	tri_run_control(c);
	while (!c->stopping && handled < BATCH && tri_handle_next(c)) {
		handled++;
		if (handled % 32 == 0) {
			tri_mailbox_drain(c);
			tri_run_control(c);
		}
	}
	if (c->stopping) {
		uv_stop(&c->th->loop);
		return;
	}
	/* More queued than one turn handles: come back without sleeping. */
	if (c->userq.head != NULL && !c->th->idle_on) {
		uv_idle_start(&c->th->idle, on_idle);
		c->th->idle_on = true;
	} else if (c->userq.head == NULL && c->th->idle_on) {
		uv_idle_stop(&c->th->idle);
		c->th->idle_on = false;
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

/* Everything an actor does once it is over, on its own thread. */
static void
actor_end(tri_ctx *c, bool run_terminate)
{
	tr_reason why = c->reason;

	if (run_terminate && c->beh->terminate != NULL &&
	    why.kind != TR_EXIT_KILL) {
		c->in_callback++;
		c->beh->terminate(c->state, why);
		c->in_callback--;
	}
	/* Refuse new mail first, so that a ref to us fails fast from now
	 * on (in every process), then tell links and monitors. */
	tri_mailbox_seal(c);
	tri_registry_remove(c);
	tri_notify_exit(c, why);
	tri_mailbox_close(c);

	/* Handles the behavior left open are closed for it.  A uv_stop()
	 * made outside uv_run() (a stop seen in the first turn) would make
	 * this uv_run() return before running the close callbacks. */
	uv_walk(&c->th->loop, close_any, NULL);
	c->th->loop.stop_flag = 0;
	uv_run(&c->th->loop, UV_RUN_DEFAULT);
	uv_loop_close(&c->th->loop);
	TRI_STAT(exited);
}

static void *
actor_main(void *arg)
{
	spawn_wait *sw = arg;
	tri_ctx *c = sw->ctx;
	tr_ref notify;
	uint64_t corr;
	int rv;

	tri_set_self(c);
	c->in_callback++;
	rv = c->beh->init != NULL ? c->beh->init(c->state, sw->arg) : 0;
	c->in_callback--;
	if (rv == 0 && c->stopping) {
		rv = TR_EINIT; /* init asked to stop: a failed start */
	}
	if (rv != 0) {
		/* A failed start (or one that init chose not to make, with
		 * TR_IGNORE) is reported by tr_spawn, not by signals; and it
		 * is over when tr_spawn returns: no ref or name of it is left
		 * to find (OTP's start_link waits for the exit too). */
		tri_start_undo(c, rv);
	}
	pthread_mutex_lock(&sw->mtx);
	sw->rv = rv;
	sw->done = true;
	notify = sw->notify;
	corr = sw->corr;
	pthread_cond_signal(&sw->cv);
	pthread_mutex_unlock(&sw->mtx);
	if (!tr_ref_is_nil(notify)) {
		(void)tri_send_control_ref(
		    notify, TRI_K_READY, c->ref, TR_REASON_NORMAL, corr);
	}
	/* sw belongs to the spawner and is gone from here on. */

	if (rv == 0) {
		run_turn(c);
		if (!c->stopping) {
			uv_run(&c->th->loop, UV_RUN_DEFAULT);
		}
		if (!c->stopping) {
			/* The loop ran dry: impossible while the async lives.
			 */
			c->stopping = true;
			c->reason = TR_REASON_NORMAL;
		}
	}
	actor_end(c, rv == 0);
	tri_set_self(NULL);
	tri_ctx_rele(c);

	/* Last touch of the runtime: shutdown waits for this. */
	pthread_mutex_lock(&tri_rt.mtx);
	tri_rt.threads--;
	pthread_cond_broadcast(&tri_rt.cv);
	pthread_mutex_unlock(&tri_rt.mtx);
	return NULL;
}

int
tri_actor_spawn(
    const tr_spec *spec, const tri_behavior *b, tr_ref *out, tr_reason *why)
{
	return tri_actor_spawn_ex(spec, b, TR_REF_NIL, out, why);
}

int
tri_actor_spawn_ex(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why)
{
	tri_ctx *self = tri_self();
	spawn_wait sw;
	pthread_attr_t attr;
	tri_ctx *c;
	tr_ref ref;
	int rv;

	c = tri_ctx_new(b,
	    spec->mailbox_capacity ? spec->mailbox_capacity : tri_rt.capacity);
	if (c == NULL) {
		return TR_ENOMEM;
	}
	c->kind = TRI_CTX_THREAD;
	c->place = spec->placement == TR_PLACE_AUTO ? TR_PLACE_THREAD :
	                                              spec->placement;
	c->trap_exits = spec->trap_exits;
	c->seq = atomic_fetch_add(&tri_rt.seq, 1);
	memset(&sw, 0, sizeof(sw));
	sw.ctx = c;
	if (spec->init_arg != NULL &&
	    (rv = tr_msg_dup(&sw.arg, spec->init_arg)) != TR_OK) {
		goto fail_ctx;
	}
	if ((c->th = tri_calloc(1, sizeof(*c->th))) == NULL) {
		rv = TR_ENOMEM;
		goto fail_arg;
	}
	if ((rv = uv_loop_init(&c->th->loop)) != 0) {
		rv = tri_err_uv(rv);
		goto fail_arg;
	}
	uv_async_init(&c->th->loop, &c->th->async, on_wake);
	uv_idle_init(&c->th->loop, &c->th->idle);
	c->th->async.data = c;
	c->th->idle.data = c;

	if ((rv = tri_registry_add(c)) != TR_OK) {
		goto fail_loop;
	}
	if ((rv = tri_mailbox_open(c)) != TR_OK) {
		goto fail_reg;
	}
	tri_mailbox_set_wake(c, &c->th->async);
	if (spec->name != NULL &&
	    (rv = tri_names_add(spec->name, c->ref)) != TR_OK) {
		goto fail_mb;
	}
	if (spec->link && self != NULL) {
		/* Linked before init runs: a crash in init is not missed. */
		if ((rv = tr_link(c->ref)) != TR_OK) {
			goto fail_mb;
		}
	}
	if (!tr_ref_is_nil(peer) && (rv = tri_link_add(c, peer)) != TR_OK) {
		goto fail_mb;
	}

	pthread_mutex_init(&sw.mtx, NULL);
	pthread_cond_init(&sw.cv, NULL);
	if (self != NULL && self->kind == TRI_CTX_SCHED) {
		sw.notify = self->ref;
		sw.corr = tri_call_begin(self, 0, TR_REF_NIL, 0);
	}
	pthread_mutex_lock(&tri_rt.mtx);
	tri_rt.threads++;
	pthread_mutex_unlock(&tri_rt.mtx);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ref = c->ref;    /* c may be gone as soon as init returns */
	tri_ctx_hold(c); /* the thread's reference */
	if ((rv = pthread_create(&c->th->thread, &attr, actor_main, &sw)) !=
	    0) {
		rv = tri_err_errno(rv); /* EAGAIN: out of threads */
		if (!tr_ref_is_nil(sw.notify)) {
			tri_call_cancel(self);
		}
		pthread_attr_destroy(&attr);
		tri_ctx_rele(c);
		pthread_mutex_lock(&tri_rt.mtx);
		tri_rt.threads--;
		pthread_mutex_unlock(&tri_rt.mtx);
		pthread_mutex_destroy(&sw.mtx);
		pthread_cond_destroy(&sw.cv);
		if (spec->link && self != NULL) {
			tr_unlink(c->ref);
		}
		goto fail_mb;
	}
	pthread_attr_destroy(&attr);
	if (!tr_ref_is_nil(sw.notify)) {
		/* Its READY ends the wait; a wait cut short (a stop request)
		 * still waits below for the thread to be done with sw. */
		tr_msg *ready = NULL;
		(void)tri_wait_reply(self, UINT64_MAX, &ready);
		tr_msg_free(ready);
	}
	pthread_mutex_lock(&sw.mtx);
	while (!sw.done) {
		pthread_cond_wait(&sw.cv, &sw.mtx);
	}
	pthread_mutex_unlock(&sw.mtx);
	pthread_mutex_destroy(&sw.mtx);
	pthread_cond_destroy(&sw.cv);
	tr_msg_free(sw.arg);
	tri_ctx_rele(c); /* ours; the registry and the thread hold theirs */
	TRI_STAT(spawned);
	if (sw.rv == TR_IGNORE) {
		*out = TR_REF_NIL; /* init chose not to run: no failure */
		return TR_OK;
	}
	if (sw.rv != 0) {
		if (why != NULL) {
			*why = TR_REASON(TR_EXIT_ERROR, sw.rv);
		}
		return TR_EINIT;
	}
	*out = ref;
	return TR_OK;

fail_mb:
	tri_mailbox_close(c);
fail_reg:
	tri_registry_remove(c);
fail_loop:
	uv_close((uv_handle_t *)&c->th->async, NULL);
	uv_close((uv_handle_t *)&c->th->idle, NULL);
	uv_run(&c->th->loop, UV_RUN_DEFAULT);
	uv_loop_close(&c->th->loop);
fail_arg:
	tr_msg_free(sw.arg);
fail_ctx:
	tri_ctx_rele(c);
	return rv;
}

struct uv_loop_s *
tr_loop(void)
{
	tri_ctx *c = tri_self();
	if (c == NULL) {
		return NULL;
	}
	if (c->kind == TRI_CTX_THREAD) {
		return &c->th->loop;
	}
	return c->kind == TRI_CTX_SCHED ? tri_sched_loop(c) : NULL;
}
