/*
 * scheduler.h -- private to troupe: scheduled actors.  Not API.
 *
 * A scheduler is a thread running a libuv loop, a run queue of actors
 * and an inbox (one nng pull socket, at inproc:// and ipc:// addresses
 * of its own) for every frame that other threads and processes send to
 * its actors, demultiplexed by the frame's destination ref.  An actor
 * placed on it (TRI_CTX_SCHED) is a context without sockets, thread or
 * loop: its state, its queues and a slot record.
 *
 * Callbacks run on fibers (fiber.h): when a callback blocks (tr_call,
 * tr_recv, a full mailbox) its fiber is set aside and the scheduler
 * goes on with its other actors on another fiber; the reply, message or
 * space that ends the wait puts the actor on the resume queue, and the
 * scheduler switches back to its fiber.  Only blocked actors hold a
 * stack of their own; the others share the fiber that runs the
 * scheduler's turns.
 *
 * A message between two actors of one scheduler is handed over on its
 * thread: no frame, no copy, no nng.  Everything else crosses through
 * the scheduler's inbox.
 *
 * Threads: everything about a scheduled actor -- its queues, flags,
 * fiber -- belongs to its home scheduler's thread; other threads reach
 * it only through the inbox (and through what every context shares:
 * links and monitors under lmtx, the slot record's atomics).
 */
#ifndef TRI_SCHED_H
#define TRI_SCHED_H

#include "ctx.h"
#include "frame.h"
#include "registry.h"
#include "runtime.h"

/* ctx->sflags */
#define TRI_SF_QUEUED 0x0001   /* in the run queue */
#define TRI_SF_RUNNING 0x0002  /* a callback of it is on a fiber */
#define TRI_SF_BLOCKED 0x0004  /* that callback waits: fiber set aside */
#define TRI_SF_RESUME 0x0008   /* in the resume queue */
#define TRI_SF_STARTING 0x0010 /* made; its init has not run yet */
#define TRI_SF_LOOP 0x0020     /* has a loop of its own (tr_loop) */
#define TRI_SF_ENDED 0x0040    /* over: only references keep it */
#define TRI_SF_LISTED 0x0080   /* in its scheduler's list of actors */
#define TRI_SF_FENCED 0x0100   /* moved here; runs once its fence came */

typedef struct tri_sched tri_sched;

/*
 * Starts the schedulers if they are not running yet: n threads (0: the
 * number from tr_options, TROUPE_SCHEDULERS, or one per core).  Any
 * thread; the first call starts them, later calls return TR_OK.
 */
int tri_sched_start(uint32_t n);
/* Stops the scheduler threads; every scheduled actor must have ended
 * (tr_shutdown).  Called once, from the thread that called tr_init. */
void tri_sched_stop(void);
/* How many schedulers run (0 before the first scheduled spawn). */
uint32_t tri_sched_count(void);
/* The scheduler whose thread calls, or NULL. */
tri_sched *tri_sched_current(void);
/* A scheduler's home number (slots.h: index + 1). */
uint32_t tri_sched_home(const tri_sched *s);
/* The inbox addresses of a scheduler of this process. */
int tri_sched_addrs(
    const tri_sched *s, char *local, size_t llen, char *ipc, size_t ilen);
/* The pseudo-ref that names home `home` of process `proc` in addresses
 * and port caches (a slot past every real one). */
tr_ref tri_sched_home_ref(uint32_t node, uint32_t proc, uint32_t home);

/* Starts a scheduled actor (tr_spawn with TR_PLACE_SCHEDULED), linked
 * to `peer` before its init runs unless peer is nil.  As
 * tri_actor_spawn_ex. */
int tri_sched_spawn(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why);

/* The scheduled actor r if it lives on the calling scheduler's thread,
 * else NULL.  Not held: valid until this thread ends it, which it
 * cannot do before the caller returns to it or blocks. */
tri_ctx *tri_sched_local(tr_ref r);

/* While on, scheduled actors the calling thread spawns go to each
 * scheduler in turn instead of beside their spawner (a pool's
 * members: work meant to run in parallel). */
void tri_sched_spread(bool on);

/* tr_spawn_many for the scheduled placement: from outside the chosen
 * scheduler, one batch of start requests and one wait. */
int tri_sched_spawn_many(const tr_spec *spec, const tri_behavior *b, uint32_t n,
    tr_ref *refs, tr_reason *why);

/* The host's drain: one frame for some actor of scheduler s. */
void tri_sched_route(tri_sched *s, const tri_frame *f);
/* Queues a frame for the local scheduled actor c, from any thread: on
 * its scheduler's thread it is routed at once; elsewhere it travels
 * through the scheduler's inbox.  TR_ENOPROC if c is gone. */
int tri_sched_deliver(tri_ctx *c, const tri_frame *f);
/*
 * Hands msg to the local scheduled actor c whose mailbox slot the
 * caller has taken, when c lives on the calling scheduler thread (home
 * as the slot was taken): no frame, no copy.  Whether it did (if not,
 * the caller sends a frame).  Takes msg on true.
 */
bool tri_sched_handover(
    tri_ctx *c, uint32_t home, tr_msg *msg, int kind, uint64_t corr);
/* On c's scheduler thread, after something was queued for c: runs it,
 * or resumes its wait if that is what the wait waited for. */
void tri_sched_notify(tri_ctx *c);

/* On c's scheduler thread, within c's turn: routes what waits in the
 * scheduler's inbox now, as its loop would between turns (messages for
 * c land in c's queues; others become runnable). */
void tri_sched_route_arrivals(tri_ctx *c);
/* Blocks the calling scheduled actor c (on its fiber) until pred(c)
 * holds, `until` (ms, monotonic; UINT64_MAX: none) passes, or anything
 * else wakes c (pred may be NULL: only those), while the scheduler runs
 * its other actors.  Whether pred holds.  A wait that cannot set its
 * fiber aside (no memory for another stack) returns false at once with
 * *err = TR_ENOMEM; err may be NULL. */
bool tri_sched_block_until(
    tri_ctx *c, bool (*pred)(tri_ctx *), uint64_t until, int *err);
/* The calling scheduled actor c found a mailbox full: waits until a
 * receiver of its scheduler made room, a short poll passed (receivers
 * elsewhere), or the deadline.  TR_OK (look again), TR_ETIMEDOUT,
 * TR_ENOMEM. */
int tri_sched_space_wait(tri_ctx *c, uint64_t deadline);

/* tr_loop() for a scheduled actor: a loop of its own, made on first
 * use, run by its scheduler as part of the actor's turns. */
uv_loop_t *tri_sched_loop(tri_ctx *c);

/* Sends f to every scheduler's inbox (news of a process's death for
 * all its actors).  Any thread. */
void tri_sched_broadcast(const tri_frame *f);

/*
 * Stops every scheduled actor (reason shutdown, newest first per
 * scheduler) and waits until they ended or the deadline.  TR_OK, or
 * TR_ETIMEDOUT naming nothing (a callback that does not return).
 */
int tri_sched_shutdown(uint64_t deadline);

/* What scheduler i (0-based) runs now, for the watchdog: false if it
 * runs no callback; else the actor, how long (ms) its callback has run
 * without returning or waiting, and how many other actors it holds up.
 * Any thread; a snapshot. */
bool tri_sched_running(uint32_t i, tr_ref *who, uint64_t *ms, uint32_t *others);

#endif
