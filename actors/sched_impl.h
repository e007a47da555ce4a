/*
 * sched_impl.h -- private to the scheduler module (scheduler.c and
 * sched_*.c): what its files share.  Not API; other modules use
 * scheduler.h.
 *
 *   scheduler.c     the scheduler threads, their queues and turns, what
 *                   arrives for their actors, shutdown
 *   sched_wait.c    an actor that waits: fibers set aside and resumed
 *   sched_spawn.c   starting scheduled actors, one or many
 *   sched_share.c   handing runnable actors to an idle scheduler
 *   sched_loop.c    an actor's own loop (tr_loop)
 *
 * Everything here is touched by a scheduler's own thread only, unless
 * its comment says otherwise.
 */
#ifndef TRI_SCHED_IMPL_H
#define TRI_SCHED_IMPL_H

#include "alloc.h"
#include "call.h"
#include "fiber.h"
#include "link.h"
#include "mailbox.h"
#include "msg.h"
#include "route.h"
#include "scheduler.h"
#include "target.h"

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
	bool poll_off; /* not watched while the actor runs or waits */
	int closing;   /* handles still closing at the end */
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
	bool exiting;      /* req_exit seen (its own thread) */
	bool stopping_all; /* req_stop_all seen: stop what comes too */
	tri_ctx *adopt;    /* actors handed over by a busier scheduler */
	_Atomic uint32_t adopt_pending;
	/* Actors adopted whose fence has not come, and fences that came
	 * before their actor's adoption (a few, for microseconds; its own
	 * thread): sched_share.c. */
	tri_ctx *fenced[16];
	unsigned nfenced;
	tr_ref early_fence[8];
	unsigned nearly;

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

/* The start of a scheduled actor asked from another thread, kept on the
 * new context until its scheduler runs its init (sched_spawn.c). */
struct tri_start {
	tr_msg *arg;
	tr_ref spawner;
	uint64_t corr;
	uint32_t index; /* in a batch (tri_sched_spawn_many) */
};

/* The pool (scheduler.c) */
tri_sched *tri_sx_at(uint32_t i);
tri_sched *tri_sx_by_home(uint32_t home);
/* Counts scheduled actors started (+1) and ended (-1). */
void tri_sx_live_add(int d);

/* Queues and lists (scheduler.c) */
void tri_sx_rq_push(tri_sched *s, tri_ctx *c);
void tri_sx_res_push(tri_sched *s, tri_ctx *c);
void tri_sx_list_add(tri_sched *s, tri_ctx *c);
void tri_sx_list_remove(tri_sched *s, tri_ctx *c);
void tri_sx_uncache(tri_sched *s, const tri_ctx *c);

static inline bool
tri_sx_has_work(const tri_ctx *c)
{
	return c->userq.head != NULL || c->ctlq.head != NULL;
}

/* An actor's slot and gen as one word, for the watchdog. */
static inline uint64_t
tri_sx_run_id(const tri_ctx *c)
{
	return ((uint64_t)c->ref.slot << 32) | c->ref.gen;
}

/* Turns (scheduler.c) */
/* Enters the scheduler from its loop's callbacks (native stack). */
void tri_sx_enter(tri_sched *s);
/* The calling actor's callback waits: its fiber is set aside until
 * tri_sx_res_push() and its turn.  TR_ENOMEM if no fiber. */
int tri_sx_block(tri_ctx *c);
/* c's callback begins or resumes / returns (prev: its spawner that
 * runs again, or NULL). */
void tri_sx_busy(tri_sched *s, tri_ctx *c);
void tri_sx_unbusy(tri_sched *s, tri_ctx *c, tri_ctx *prev);
/* Stops c for tr_shutdown. */
void tri_sx_stop_for_shutdown(tri_ctx *c);

/* Waits (sched_wait.c) */
void tri_sx_swait_free(tri_ctx *c);

/* Starting (sched_spawn.c) */
/* Runs c's init on the calling fiber, as c; on failure c is gone. */
int tri_sx_run_init(tri_sched *s, tri_ctx *c, tr_msg *arg);
/* A start request from another thread: init, then the READY. */
void tri_sx_start_from_frame(tri_sched *s, tri_ctx *c);
void tri_sx_start_failed(tri_ctx *c, int rv);

/* Sharing (sched_share.c) */
void tri_sx_take_adopted(tri_sched *s);
/* The fence of an actor handed to s came (TRI_K_FENCE): it may run. */
void tri_sx_fence(tri_sched *s, tr_ref who);
void tri_sx_maybe_share(tri_sched *s);
void tri_sx_set_idle(tri_sched *s, bool idle);
/* tr_shutdown has begun (true) or is over (false): no handing over. */
void tri_sx_share_stop(bool stop);

/* An actor's own loop (sched_loop.c) */
tri_aloop *tri_sx_aloop_of(tri_ctx *c);
void tri_sx_aloop_arm(tri_ctx *c);
void tri_sx_aloop_run(tri_ctx *c);
void tri_sx_aloop_end(tri_ctx *c);

#endif
