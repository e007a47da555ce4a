/*
 * ctx.h -- private to troupe: contexts: what has a ref and a mailbox (ctx.c).
 *
 * A context (tri_ctx) is an actor -- on a thread of its own, or on a
 * scheduler -- or the main context of the thread that called
 * tr_init(), or a scheduler's inbox (no actor).  Its fields fall in
 * groups by who may touch them:
 *  - set before the context is published, read-only after: ref, kind,
 *    behavior, capacity;
 *  - the owner thread only (a scheduled actor's: its scheduler's):
 *    queues, state, the pending call, the loop;
 *  - under a lock: links and monitors (lmtx).
 * Contexts are reference-counted: the registry holds one reference
 * while the actor lives, and every sender holds one for the length of
 * a send (except a scheduled sender, which borrows an actor of its own
 * scheduler: scheduler.h).  Not API.
 */
#ifndef TRI_CTX_H
#define TRI_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "behavior.h"
#include "mailbox.h"
#include "msg.h"
#include "refset.h"
#include "troupe.h"

/* Contexts                                                            */

enum tri_ctx_kind {
	TRI_CTX_MAIN = 1,   /* the thread that called tr_init() */
	TRI_CTX_THREAD = 2, /* an actor on a thread of its own (actor.c) */
	TRI_CTX_SCHED = 3,  /* an actor on a scheduler thread (scheduler.c) */
	TRI_CTX_HOST = 4    /* a scheduler's inbox: no actor, no ref */
};

/* The thread, loop and wake-ups of a thread actor (actor.c). */
typedef struct tri_thread {
	pthread_t thread;
	uv_loop_t loop;
	uv_async_t async;
	uv_idle_t idle;
	bool idle_on;
} tri_thread;

struct tri_sched;
struct tri_fiber;
struct tri_swait;
struct tri_aloop;
struct tri_start;

typedef struct tri_monitor {
	tr_ref watcher;
	uint64_t id;
	struct tri_monitor *next;
} tri_monitor;

/* A batch of starts a spawner waits for (tr_spawn_many): the READY of
 * start i carries i in its tag. */
typedef struct tri_batch {
	tr_ref *refs; /* the spawner's: refs[i] = nil if i ignored */
	uint32_t n;
	uint32_t left;   /* READYs still to come */
	uint32_t failed; /* inits that failed */
	tr_reason first_why;
} tri_batch;

/*
 * What a context's pending call or spawn waits for -- one at a time
 * (owner thread only).  send.c sets it up and waits; route.c fills it as
 * frames arrive; the spawns (process.c, actor.c, sched_spawn.c) use it
 * for their READY.
 */
typedef struct tri_call {
	uint64_t corr; /* the reply (or READY) awaited; 0: none */
	uint64_t mon;  /* the monitor on the callee, if local */
	tr_ref target; /* its process ending ends the wait */
	uint64_t mon2; /* a pool member holding the call, if local */
	tr_msg *reply; /* the reply, once here */
	bool down;     /* the callee (or its process) is gone */
	bool noconn;   /* ... because its node is cut off (TR_ENOCONN) */
	/* A spawn's wait (target.slot 0): an exit signal from the new
	 * process's actor that came before the spawn could make the link
	 * (its READY may come in the same batch, or after it). */
	bool spawn_exited;
	tr_ref spawn_exit_from;
	tr_reason spawn_exit_why;
	/* The process a spawn waits on (0: none): its end, as the node's
	 * process table knows it, ends the wait too (send.c). */
	uint32_t spawn_proc;
	tri_batch *batch; /* tr_spawn_many waits for these */
} tri_call;

struct tri_ctx {
	tr_ref ref;
	int kind;
	/* A root's gateway to other nodes (dist_gw.c): what arrives goes
	 * here, on nng's thread, instead of to a queue.  Takes b. */
	void (*gate)(struct tri_buf *b);
	_Atomic int refs;
	uint64_t seq; /* spawn order, for shutdown */
	const tri_behavior *beh;
	tri_mailbox mb;

	/* owner thread only */
	void *state;
	tri_msgq userq; /* user messages and notices, in arrival order */
	tri_msgq ctlq;  /* stop requests, fatal exit signals */
	bool trap_exits;
	bool stopping;
	tr_reason reason;
	uint64_t corr_seq;
	tri_call call;   /* what a call or spawn of its waits for */
	tri_monmap mons; /* monitors we hold, for DOWN filtering */
	uint32_t in_callback;

	/* thread actors */
	tri_thread *th;

	/* scheduled actors (scheduler.c): their scheduler's thread only */
	struct tri_sched *sched;      /* home; also the host's scheduler */
	tri_ctx *rq_next;             /* run queue link */
	tri_ctx *all_prev, *all_next; /* the scheduler's actors */
	struct tri_fiber *fiber;      /* its stack while it blocks */
	struct tri_swait *swait;      /* the timer of its wait, if timed */
	struct tri_aloop *aloop;      /* its own loop, if it asked (tr_loop) */
	struct tri_start *start;      /* a start asked from another thread */
	uint16_t sflags;              /* TRI_SF_* (scheduler.h) */

	/* under lmtx */
	pthread_mutex_t lmtx;
	bool dead;
	tri_refset links;
	tri_monitor *monitors; /* who watches us */

	tr_placement place; /* for introspection: how it was started */
};

/* Message counters live in the slot record, readable from any process
 * of the node (troupe status). */
static inline void
tri_count_in(tri_ctx *c)
{
	if (c != NULL && c->mb.rec != NULL) {
		atomic_fetch_add_explicit(
		    &c->mb.rec->msgs_in, 1, memory_order_relaxed);
	}
}

static inline void
tri_count_out(tri_ctx *c, int64_t d)
{
	if (c != NULL && c->mb.rec != NULL) {
		atomic_fetch_add_explicit(
		    &c->mb.rec->msgs_out, (uint64_t)d, memory_order_relaxed);
	}
}

tri_ctx *tri_ctx_new(const tri_behavior *b, uint32_t capacity);
void tri_mailbox_fini(tri_mailbox *mb);
void tri_ctx_hold(tri_ctx *c);
void tri_ctx_rele(tri_ctx *c);

/* The calling thread's context, or NULL. */
tri_ctx *tri_self(void);
void tri_set_self(tri_ctx *c);

#endif
