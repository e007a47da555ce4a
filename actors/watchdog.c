/*
 * watchdog.c -- says so when a scheduled actor's callback does not
 * return.
 *
 * A scheduler runs its actors' callbacks one after another on one
 * thread: a callback that loops, or blocks in a system call, holds up
 * every other actor of that scheduler.  C cannot preempt it; what the
 * runtime can do is make it visible.  tr_actor_info_get() and `troupe
 * status` show how long any actor's callback has run (callback_ms), and
 * this thread looks at each scheduler once a second and writes one line
 * on stderr when a callback has held its scheduler for longer than the
 * threshold ($TROUPE_BUSY_WARN_MS, default 2000 ms; 0 turns it off),
 * and one more when it returns.  A callback that waits in tr_call,
 * tr_recv, tr_sleep or a full mailbox holds nobody up and is not
 * reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "runtime.h"
#include "scheduler.h"
#include "watchdog.h"

#define PERIOD_MS 1000
#define WARN_MS_DEFAULT 2000

typedef struct episode {
	tr_ref who;    /* the callback reported, or nil */
	uint64_t warn; /* its length when reported */
} episode;

static struct {
	pthread_t thread;
	bool on;
	bool stop;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	uint64_t warn_ms;
	episode *ep;
	uint32_t nep;
} W = {.mtx = PTHREAD_MUTEX_INITIALIZER};

static void
look(void)
{
	uint32_t n = tri_sched_count();

	for (uint32_t i = 0; i < n && i < W.nep; i++) {
		episode *e = &W.ep[i];
		tr_ref who;
		uint64_t ms = 0;
		uint32_t others = 0;
		bool busy =
		    tri_sched_running(i, &who, &ms, &others) && ms >= W.warn_ms;
		char ref[64], beh[TR_NAME_MAX + 1] = "?";

		if (busy && tr_ref_equal(e->who, who)) {
			continue; /* said already */
		}
		if (!tr_ref_is_nil(e->who)) {
			tr_ref_format(e->who, ref, sizeof(ref));
			fprintf(stderr,
			    "troupe: pid %d: scheduler %u: the callback of "
			    "actor %s returned (held it %.1f s or more)\n",
			    (int)getpid(), i + 1, ref, (double)e->warn / 1e3);
			e->who = TR_REF_NIL;
		}
		if (busy) {
			tr_actor_info info;
			if (tr_actor_info_get(who, &info) == TR_OK) {
				snprintf(beh, sizeof(beh), "%s", info.behavior);
			}
			tr_ref_format(who, ref, sizeof(ref));
			fprintf(stderr,
			    "troupe: pid %d: scheduler %u: actor %s (%s) has "
			    "been in one callback for %.1f s without waiting; "
			    "the %u other actors of its scheduler are held up "
			    "(a loop, or a blocking call: use tr_sleep, or "
			    "TR_PLACE_THREAD for code that blocks)\n",
			    (int)getpid(), i + 1, ref, beh, (double)ms / 1e3,
			    others);
			e->who = who;
			e->warn = ms;
		}
	}
}

static void *
watch(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&W.mtx);
	while (!W.stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += PERIOD_MS / 1000;
		(void)pthread_cond_timedwait(&W.cv, &W.mtx, &ts);
		if (!W.stop) {
			pthread_mutex_unlock(&W.mtx);
			look();
			pthread_mutex_lock(&W.mtx);
		}
	}
	pthread_mutex_unlock(&W.mtx);
	return NULL;
}

int
tri_watchdog_start(uint32_t nsched)
{
	const char *e = getenv("TROUPE_BUSY_WARN_MS");

	W.warn_ms =
	    e != NULL && e[0] != '\0' ? strtoull(e, NULL, 10) : WARN_MS_DEFAULT;
	if (W.warn_ms == 0 || W.on) {
		return TR_OK;
	}
	if ((W.ep = tri_calloc(nsched, sizeof(*W.ep))) == NULL) {
		return TR_ENOMEM;
	}
	W.nep = nsched;
	W.stop = false;
	tri_cond_init(&W.cv);
	if (pthread_create(&W.thread, NULL, watch, NULL) != 0) {
		pthread_cond_destroy(&W.cv);
		tri_free(W.ep);
		W.ep = NULL;
		return TR_ERESOURCE;
	}
	W.on = true;
	return TR_OK;
}

void
tri_watchdog_stop(void)
{
	if (!W.on) {
		return;
	}
	pthread_mutex_lock(&W.mtx);
	W.stop = true;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mtx);
	pthread_join(W.thread, NULL);
	pthread_cond_destroy(&W.cv);
	tri_free(W.ep);
	W.ep = NULL;
	W.nep = 0;
	W.on = false;
}
