/*
 * runtime.c -- tr_init / tr_shutdown, the calling thread's context,
 * clocks, counters, and introspection.
 *
 * The runtime is one per process, like nng's own library state: refs
 * name a (node, process) pair, and a process is one member of a node.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

tri_runtime tri_rt;

static _Thread_local tri_ctx *tls_self;

/* How long tr_shutdown() waits for one actor to end. */
#define SHUTDOWN_WAIT_MS 10000

tri_ctx *
tri_self(void)
{
	return tls_self;
}

void
tri_set_self(tri_ctx *c)
{
	tls_self = c;
}

tr_ref
tr_self(void)
{
	return tls_self != NULL ? tls_self->ref : TR_REF_NIL;
}

bool
tri_running(void)
{
	return __atomic_load_n(&tri_rt.running, __ATOMIC_ACQUIRE);
}

uint64_t
tri_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

uint64_t
tri_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX : tri_now_ms() + (uint64_t) timeout_ms;
}

void
tri_deadline_ts(uint64_t deadline, struct timespec *ts)
{
	ts->tv_sec = (time_t) (deadline / 1000u);
	ts->tv_nsec = (long) (deadline % 1000u) * 1000000L;
}

static uint32_t
make_node_id(void)
{
	struct timespec ts;
	uint32_t x;

	/* Unique enough among the nodes of one host; distribution will
	 * take node names from configuration. */
	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint32_t) getpid() * 2654435761u ^ (uint32_t) ts.tv_nsec ^
	    (uint32_t) ts.tv_sec;
	return x == 0 ? 1 : x;
}

int
tr_init(const tr_options *opts)
{
	tri_ctx *main_ctx;
	int rv;

	if (tri_running()) {
		return TR_EEXIST;
	}
	if (opts != NULL && opts->max_body > TR_MSG_MAX) {
		return TR_EINVAL;
	}
	memset(&tri_rt, 0, sizeof(tri_rt));
	tri_rt.node = make_node_id();
	tri_rt.proc = 0;
	tri_rt.capacity = (opts != NULL && opts->mailbox_capacity != 0)
	    ? opts->mailbox_capacity
	    : 1024;
	tri_rt.max_body = (opts != NULL && opts->max_body != 0) ? opts->max_body
	                                                         : TR_MSG_MAX;
	atomic_init(&tri_rt.next_mon, 1);
	pthread_mutex_init(&tri_rt.mtx, NULL);
	pthread_cond_init(&tri_rt.cv, NULL);
	tri_rt.main_thread = pthread_self();

	/* Process placements fork from a server made here, before nng or
	 * any libuv thread exists (see docs/design.md). */
	if ((rv = tri_registry_init()) != TR_OK) {
		goto fail;
	}
	if ((rv = tri_main_ctx_new(&main_ctx)) != TR_OK) {
		goto fail_reg;
	}
	tri_rt.main = main_ctx;
	tri_set_self(main_ctx);
	__atomic_store_n(&tri_rt.running, true, __ATOMIC_RELEASE);
	if ((rv = tri_timer_start()) != TR_OK) {
		__atomic_store_n(&tri_rt.running, false, __ATOMIC_RELEASE);
		goto fail_main;
	}
	return TR_OK;

fail_main:
	tri_set_self(NULL);
	tri_registry_remove(main_ctx);
	tri_mailbox_close(main_ctx);
	tri_ctx_rele(main_ctx);
fail_reg:
	tri_registry_fini();
fail:
	pthread_cond_destroy(&tri_rt.cv);
	pthread_mutex_destroy(&tri_rt.mtx);
	return rv;
}

/* Waits until c's thread has let go of it, or the deadline. */
static bool
wait_ended(tri_ctx *c, uint64_t deadline)
{
	bool ended;

	pthread_mutex_lock(&tri_rt.mtx);
	for (;;) {
		pthread_mutex_lock(&c->lmtx);
		ended = c->dead;
		pthread_mutex_unlock(&c->lmtx);
		if (ended || tri_now_ms() >= deadline) {
			break;
		}
		{
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&tri_rt.cv, &tri_rt.mtx, &ts);
		}
	}
	pthread_mutex_unlock(&tri_rt.mtx);
	return ended;
}

int
tr_shutdown(void)
{
	tri_ctx **v = NULL;
	size_t n = 0;
	int rv = TR_OK;
	tri_ctx *self = tri_self();

	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL || self != tri_rt.main) {
		return TR_ESTATE;
	}
	/* Newest first, one at a time: the reverse of start order, as a
	 * supervisor stops its children. */
	if (tri_registry_actors(&v, &n) == TR_OK) {
		for (size_t i = 0; i < n; i++) {
			tri_send_control(
			    v[i], TRI_K_STOP, self->ref, TR_REASON_SHUTDOWN, 0);
			if (!wait_ended(v[i], tri_now_ms() + SHUTDOWN_WAIT_MS)) {
				fprintf(stderr,
				    "troupe: shutdown: an actor did not end within "
				    "%d ms (stuck in a callback?)\n",
				    SHUTDOWN_WAIT_MS);
				rv = TR_ETIMEDOUT;
			}
			tri_ctx_rele(v[i]);
		}
		tri_free(v);
	}
	if (rv != TR_OK) {
		return rv; /* cannot free what a running thread may touch */
	}
	/* Actors that ended mark themselves dead before their thread has
	 * quite finished: wait for the threads to be done. */
	pthread_mutex_lock(&tri_rt.mtx);
	while (tri_rt.threads > 0) {
		pthread_cond_wait(&tri_rt.cv, &tri_rt.mtx);
	}
	pthread_mutex_unlock(&tri_rt.mtx);

	__atomic_store_n(&tri_rt.running, false, __ATOMIC_RELEASE);
	tri_timer_stop();
	tri_registry_remove(self);
	tri_notify_exit(self, TR_REASON_SHUTDOWN);
	tri_mailbox_close(self);
	tri_set_self(NULL);
	tri_rt.main = NULL;
	tri_ctx_rele(self);
	tri_registry_fini();
	pthread_cond_destroy(&tri_rt.cv);
	pthread_mutex_destroy(&tri_rt.mtx);
	return TR_OK;
}

int
tr_stats_get(tr_stats *out)
{
	if (out == NULL) {
		return TR_EINVAL;
	}
	out->sent = atomic_load(&tri_rt.sent);
	out->delivered = atomic_load(&tri_rt.delivered);
	out->dead_letters = atomic_load(&tri_rt.dead_letters);
	out->malformed = atomic_load(&tri_rt.malformed);
	out->late_replies = atomic_load(&tri_rt.late_replies);
	out->actors_spawned = atomic_load(&tri_rt.spawned);
	out->actors_exited = atomic_load(&tri_rt.exited);
	return TR_OK;
}

int
tr_actor_info_get(tr_ref ref, tr_actor_info *out)
{
	tri_ctx *c;

	if (out == NULL) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if ((c = tri_registry_get(ref)) == NULL) {
		return TR_ENOPROC;
	}
	memset(out, 0, sizeof(*out));
	out->ref = c->ref;
	out->placement = TR_PLACE_THREAD;
	if (c->beh != NULL) {
		snprintf(out->behavior, sizeof(out->behavior), "%s", c->beh->name);
	} else {
		snprintf(out->behavior, sizeof(out->behavior), "%s", "main");
	}
	tri_registry_name_of(c, out->name, sizeof(out->name));
	out->mailbox_depth = atomic_load(&c->mb.depth);
	out->mailbox_capacity = c->mb.capacity;
	out->msgs_in = atomic_load(&c->msgs_in);
	out->msgs_out = atomic_load(&c->msgs_out);
	out->pid = (int) getpid();
	tri_ctx_rele(c);
	return TR_OK;
}

int
tr_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why)
{
	const tri_behavior *b;
	tr_placement place;

	if (spec == NULL || out == NULL || spec->behavior == NULL ||
	    (unsigned) spec->placement > TR_PLACE_EXEC ||
	    (spec->name != NULL &&
	        (spec->name[0] == '\0' || strlen(spec->name) > TR_NAME_MAX))) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if ((b = tri_behavior_find(spec->behavior)) == NULL) {
		return TR_ENOENT;
	}
	place = tri_placement_choose(spec);
	switch (place) {
	case TR_PLACE_THREAD:
		return tri_actor_spawn(spec, b, out, why);
	default:
		return TR_ENOTSUP;
	}
}
