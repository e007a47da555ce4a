/*
 * internal.h -- private to troupe: the runtime's shared structures.
 * Not API.
 *
 * A context (tri_ctx) is anything that has a ref and a mailbox: a thread
 * actor, or the main context of the thread that called tr_init().  Its
 * fields fall in three groups by who may touch them:
 *  - set before the context is published, read-only after: ref, kind,
 *    behavior, capacity;
 *  - the owner thread only: queues, state, call bookkeeping, the loop;
 *  - under a lock: the arrival list and waits (mb.mtx), links and
 *    monitors (lmtx).
 * Contexts are reference-counted: the registry holds one reference while
 * the actor lives, and every sender holds one for the length of a send.
 */
#ifndef TRI_INTERNAL_H
#define TRI_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "alloc.h"
#include "frame.h"
#include "refset.h"
#include "slots.h"
#include "socket.h"
#include "troupe.h"

/* ------------------------------------------------------------------ */
/* Messages (msg.c)                                                    */

struct tri_nmsg;

struct tr_msg {
	struct tr_msg *next; /* queue link, owner thread only */
	uint32_t tag;
	uint8_t kind; /* TRI_K_* once received; 0 if made locally */
	bool counted; /* holds a mailbox slot (depth) */
	tr_ref sender;
	uint64_t corr;
	uint64_t mon;     /* DOWN notices: the monitor id */
	tr_reason reason; /* EXIT/DOWN notices */
	struct tri_nmsg *body; /* the nng message holding the body */
	msgpack_packer pk;
	msgpack_zone *zone; /* made by the first tr_msg_body() */
	msgpack_object obj;
	bool parsed;
};

/* The body's bytes and length. */
const uint8_t *tri_msg_bytes(const tr_msg *m);
size_t tri_msg_len(const tr_msg *m);
/* Frees the messages the calling thread keeps for reuse (msg.c); a
 * thread's are freed as it exits anyway. */
void tri_msg_cache_flush(void);

/* A received message built from a decoded frame (body copied). */
tr_msg *tri_msg_from_frame(const tri_frame *f);
/* A system notice (TR_TAG_EXIT / TR_TAG_DOWN) as a message. */
tr_msg *tri_msg_notice(uint32_t tag, tr_ref who, tr_reason why, uint64_t mon);
/* Packs [kind, code] (+ mon) into a small body for control frames. */
size_t tri_reason_body(uint8_t *buf, size_t len, tr_reason r, uint64_t mon);
int tri_reason_parse(
    const uint8_t *body, size_t len, tr_reason *r, uint64_t *mon);
/*
 * Fills f as a control frame of kind about `about` for dest: body
 * [why.kind, why.code, corr] in buf (TRI_CONTROL_BODY bytes), corr also
 * in the header (a monitor id, a spawn's id).  One builder for every
 * exit, down, stop, monitor, ready and process-death frame.
 */
#define TRI_CONTROL_BODY 32
void tri_control_frame(tri_frame *f, uint8_t *buf, int kind, tr_ref about,
    tr_ref dest, tr_reason why, uint64_t corr);
/* The reason a member's READY (and its process's end) carries when its
 * actor's init returned TR_IGNORE: normal, with a code no orderly end
 * has. */
#define TRI_REASON_IGNORED TR_REASON(TR_EXIT_NORMAL, TR_IGNORE)
/* The reason carried in a control message's body (READY). */
void tri_msg_reason_of_frame(const tr_msg *m, tr_reason *r);

/* A user message (sent, called or timed), not a notice. */
static inline bool
tri_msg_is_user(const tr_msg *m)
{
	return m->kind == TRI_K_USER || m->kind == TRI_K_CALL ||
	    m->kind == TRI_K_TIMER;
}

typedef struct tri_msgq {
	tr_msg *head;
	tr_msg *tail;
	size_t n;
} tri_msgq;

void tri_msgq_push(tri_msgq *q, tr_msg *m);
tr_msg *tri_msgq_pop(tri_msgq *q);
/* Frees every message; returns how many held a mailbox slot. */
uint64_t tri_msgq_clear(tri_msgq *q);

/* ------------------------------------------------------------------ */
/* Behaviors (behavior.c)                                              */

typedef struct tri_behavior {
	char name[TR_NAME_MAX + 1];
	size_t state_size;
	int (*init)(void *, tr_msg *);
	int (*handle)(void *, tr_msg *);
	void (*terminate)(void *, tr_reason);
} tri_behavior;

const tri_behavior *tri_behavior_find(const char *name);
void tri_behavior_clear(void);

/* ------------------------------------------------------------------ */
/* Mailboxes (mailbox.c)                                               */

/* The sockets and arrivals of a context with an inbox of its own (a
 * thread actor, a main context, a scheduler's host): mailbox.c. */
typedef struct tri_mbio tri_mbio;

typedef struct tri_mailbox {
	tri_mbio *io; /* NULL for a scheduled actor: its scheduler's inbox */

	/* Capacity and depth live in the process's shared slot table, so
	 * that senders of other processes see them too. */
	uint32_t capacity;
	tri_slotrec *rec;
} tri_mailbox;

typedef struct tri_ctx tri_ctx;

void tri_mailbox_init(tri_mailbox *mb, uint32_t capacity);
/* The loop to wake (uv_async_send) when something arrives, for a
 * context whose owner runs one. */
void tri_mailbox_set_wake(tri_ctx *c, uv_async_t *wake);
/* The port of the context's own inbox (for senders of this process),
 * NULL for a scheduled actor. */
tri_port *tri_mailbox_port(tri_ctx *c);
/* Whether anything arrived that tri_mailbox_drain() would take; any
 * thread, no lock. */
bool tri_mailbox_pending(tri_ctx *c);
/* Opens the sockets and the slot record; c->ref must be set. */
int tri_mailbox_open(tri_ctx *c);
/* Refuses further sends (its slot record closes: what it still counts
 * becomes dead letters).  Called once, by the owner, as it ends. */
void tri_mailbox_seal(tri_ctx *c);
/* Closes the sockets. */
void tri_mailbox_close(tri_ctx *c);
/* Checks that the mailbox of every context of this process still takes
 * connections from other processes, and repairs one that does not
 * (socket.c, tri_inbox_check: an nng 1.5.2 fault that a process killed
 * while it connects causes).  Called when a process of the node ended;
 * blocks for a fraction of a millisecond per context, more for one it
 * repairs.  Returns how many it repaired. */
unsigned tri_mailboxes_check(void);
/* Gives back n slots taken by messages the owner took. */
void tri_mailbox_release(tri_ctx *c, uint32_t n);
/* Owner: decodes what arrived into the context's queues.  Returns the
 * number of frames routed. */
size_t tri_mailbox_drain(tri_ctx *c);
/* Owner: waits until something arrives or the deadline (ms on the
 * monotonic clock, or UINT64_MAX) passes.  false on timeout. */
bool tri_mailbox_wait(tri_ctx *c, uint64_t deadline);

/* ------------------------------------------------------------------ */
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

struct tri_ctx {
	tr_ref ref;
	int kind;
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
	uint64_t call_corr; /* the call we wait for, 0 if none */
	uint64_t call_mon;
	tr_ref call_target; /* its process ending ends the wait */
	uint64_t call_mon2; /* a pool member holding the call, if local */
	tr_msg *call_reply;
	bool call_down;
	/* A spawn's wait (call_target.slot 0): an exit signal from the new
	 * process's actor that came before the spawn could make the link
	 * (its READY may come in the same batch, or after it). */
	bool spawn_exited;
	tr_ref spawn_exit_from;
	tr_reason spawn_exit_why;
	/* The process a spawn waits on (0: none): its end, as the node's
	 * process table knows it, ends the wait too (send.c). */
	uint32_t spawn_proc;
	tri_batch *call_batch; /* tr_spawn_many waits for these */
	tri_monmap mons;       /* monitors we hold, for DOWN filtering */
	uint32_t in_callback;

	/* thread actors */
	tri_thread *th;

	/* scheduled actors (scheduler.c): their scheduler's thread only */
	struct tri_sched *sched;   /* home; also the host's scheduler */
	tri_ctx *rq_next;          /* run queue link */
	tri_ctx *all_prev, *all_next; /* the scheduler's actors */
	struct tri_fiber *fiber;   /* its stack while it blocks */
	struct tri_swait *swait;   /* the timer of its wait, if timed */
	struct tri_aloop *aloop;   /* its own loop, if it asked (tr_loop) */
	struct tri_start *start;   /* a start asked from another thread */
	uint16_t sflags;           /* TRI_SF_* (scheduler.h) */

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

/* Delivers a frame to a local context, bypassing capacity (control
 * frames, replies, timers).  TR_ENOPROC if its mailbox is closed. */
int tri_deliver(tri_ctx *c, const tri_frame *f);

/*
 * Where a ref leads (target.c): a context of this process, or the
 * mailbox of another process of the node (its slot record and a port to
 * it).  Held until tri_target_put().
 */
typedef struct tri_target {
	tr_ref ref;
	tri_ctx *local;           /* this process: held unless borrowed */
	bool borrowed;            /* local lives on this scheduler thread */
	struct tri_rport *remote; /* another process: held */
	uint32_t remote_home;     /* its scheduler there (0: own inbox) */
	tri_slottab *tab;
	tri_slotrec *rec;
} tri_target;

/* TR_OK; TR_ENOPROC if ref names no live actor; TR_ERESOURCE or
 * TR_ENOMEM if it lives (as far as its slot table says) but this
 * process could not connect to it. */
int tri_target_get(tr_ref ref, tri_target *t);
/* The same for a use that does not block before its reservation proves
 * the target alive (a send, a reply): an actor of the calling
 * scheduler is borrowed, without the registry's lock. */
int tri_target_get_quick(tr_ref ref, tri_target *t);
/* The same without connecting: t->remote stays NULL (t->tab and t->rec
 * are set).  For what a slot record tells -- liveness, introspection,
 * the pid to kill -- and needs no descriptor. */
int tri_target_peek(tr_ref ref, tri_target *t);
/* The slot table of process proc, mapped once and kept until
 * tri_remote_fini(): TR_OK, TR_ENOPROC, TR_ERESOURCE, TR_ENOMEM. */
int tri_remote_table(uint32_t proc, tri_slottab **out);
void tri_target_put(tri_target *t);
/* Queues a frame (no capacity check). */
int tri_target_deliver(tri_target *t, const tri_frame *f);
/* Takes a mailbox slot, then queues; gives the slot back on failure. */
int tri_target_send(tri_target *t, const tri_frame *f, int timeout_ms);
/* The same for the message f was made from: on success msg is taken
 * (handed over as is between two actors of one scheduler, else freed
 * once f is queued); on failure it stays the caller's. */
int tri_target_send_msg(
    tri_target *t, const tri_frame *f, int timeout_ms, tr_msg *msg);
/* Waits until every port to another process has handed what it holds
 * to nng (a process about to exit), or the deadline. */
bool tri_remote_flush(uint64_t deadline_ms);
/* Drops every cached port to process proc (it is gone). */
void tri_remote_forget_proc(uint32_t proc);
void tri_remote_fini(void);
/* Sends a control frame (EXIT, DOWN, STOP, MON...) to any ref. */
int tri_send_control_ref(
    tr_ref to, int kind, tr_ref about, tr_reason why, uint64_t mon);

/* Waits until done(self) (a batch of starts); false if the wait was
 * cut short by a stop request. */
bool tri_wait_batch(tri_ctx *self, bool (*done)(tri_ctx *));
/* Stops (kill) the first n actors of refs that run, and sets every
 * refs[i] to nil: an all-or-nothing spawn that failed. */
void tri_spawn_many_undo(tr_ref *refs, uint32_t n);

/* Waits for the reply of the call self->call_corr (or its callee's
 * death), then clears the call. */
int tri_wait_reply(tri_ctx *self, uint64_t deadline, tr_msg **reply);

/* Routes one control or user frame that arrived for c (owner thread). */
void tri_route(tri_ctx *c, const tri_frame *f);

/* Actor side: run control requests, possibly marking c stopping. */
void tri_run_control(tri_ctx *c);

/* Thread actors (actor.c). */
int tri_main_ctx_new(tri_ctx **out);
int tri_actor_spawn(
    const tr_spec *spec, const tri_behavior *b, tr_ref *out, tr_reason *why);
/* The same, also linking the new actor to `peer` (any process) before
 * its init runs; TR_REF_NIL for none. */
int tri_actor_spawn_ex(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why);

/* A start that failed (or that init chose not to make, TR_IGNORE) is
 * reported by tr_spawn, not by signals, and leaves nothing behind: no
 * links (their other ends are undone), no name, no slot; c is dead. */
void tri_start_undo(tri_ctx *c, int rv);
/* Death (link.c): marks c dead and tells links and monitors. */
void tri_notify_exit(tri_ctx *c, tr_reason why);
/* The monitors a context holds (owner thread only). */
int tri_mons_add(tri_ctx *c, uint64_t id, tr_ref target);
bool tri_mons_take(tri_ctx *c, uint64_t id, tr_ref *target);
/* Monitor records on the watched side. */
int tri_monitor_add(tri_ctx *target, tr_ref watcher, uint64_t id);
void tri_monitor_remove(tri_ctx *target, uint64_t id);
/* Removes peer from c's links; whether it was there. */
bool tri_unlink_local(tri_ctx *c, tr_ref peer);
/* Adds peer to c's links (a set).  TR_ENOPROC if c is dead. */
int tri_link_add(tri_ctx *c, tr_ref peer);

/* ------------------------------------------------------------------ */
/* Registry (registry.c): the one table of live contexts and names.    */

int tri_registry_init(void);
void tri_registry_fini(void);
/* Gives c a slot and gen (c->ref).  Takes a reference. */
int tri_registry_add(tri_ctx *c);
/* Removes c and its name; drops the registry's reference. */
void tri_registry_remove(tri_ctx *c);
/* A held context for ref, or NULL if it is not a live local one. */
tri_ctx *tri_registry_get(tr_ref ref);
/* Held contexts of live actors, newest first; caller frees the array
 * and releases each. */
int tri_registry_actors(tri_ctx ***out, size_t *n);
/* The same with every context, main ones too. */
int tri_registry_all(tri_ctx ***out, size_t *n);

/* Names, node-wide (names.c). */
int tri_names_open(bool create);
void tri_names_close(void);
int tri_names_add(const char *name, tr_ref ref);
int tri_names_remove(const char *name);
int tri_names_find(const char *name, tr_ref *out);
void tri_names_drop_ref(tr_ref ref);
void tri_names_drop_proc(uint32_t proc);
void tri_names_of(tr_ref ref, char *buf, size_t len);

/* Placement (placement.c). */
tr_placement tri_placement_choose(const tr_spec *spec);

/* ------------------------------------------------------------------ */
/* Runtime (runtime.c)                                                 */

typedef struct tri_runtime {
	bool running;
	bool shutting_down;
	uint32_t node;
	uint32_t proc;
	bool is_root;       /* the node's root process (proc 0) */
	char rundir[256];   /* the node's run directory */
	char sockdir[256];  /* where ipc sockets are named: rundir or alias */
	tri_slottab *slots; /* this process's slot table */
	_Atomic uint32_t next_proc; /* root: the next process id */
	uint32_t root_pid;
	/* Root: the tasks (threads) a fork member will need -- as many as
	 * the root had once nng ran: main, one more thread, nng's own. */
	uint32_t member_threads;
	uint32_t capacity;
	uint32_t max_body;
	uint32_t schedulers; /* tr_options: 0 = default */
	uint32_t stack_size;
	tri_ctx *main;
	pthread_t main_thread;
	_Atomic uint64_t next_mon;
	_Atomic uint64_t seq;

	/* actor threads still running, for shutdown */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int threads;

	_Atomic uint64_t sent, delivered, dead_letters, malformed, late_replies,
	    spawned, exited, repaired;
} tri_runtime;

extern tri_runtime tri_rt;

bool tri_running(void);
uint64_t tri_now_ms(void);
void tri_deadline_ts(uint64_t deadline_ms, struct timespec *ts);
uint64_t tri_deadline(int timeout_ms);
/* libuv's and the system's errors, mapped by meaning (error.c).  Meant
 * for calls that make something -- a loop, a process, a thread, a file,
 * a mapping -- where EAGAIN means that a limit was reached
 * (TR_ERESOURCE), not "try again". */
int tri_err_uv(int uv_err);
/* The errno of a call that failed (0, unknown: TR_ESYSTEM). */
int tri_err_errno(int err);

/* What a new process needs to join the node (pspec.c). */
typedef struct tri_pspec {
	uint32_t node, proc, root_pid, capacity, max_body, arg_tag;
	char rundir[256], sockdir[256];
	tr_ref spawner;
	uint64_t corr;
	char behavior[TR_NAME_MAX + 1];
	char name[TR_NAME_MAX + 1];
	uint64_t fn_init, fn_handle, fn_terminate, state_size;
	bool have_fns, link, trap, has_arg;
	uint8_t *arg;
	size_t arg_len;
} tri_pspec;

int tri_pspec_write(const tri_pspec *s, const char *path);
int tri_pspec_read(const char *path, tri_pspec *s);
void tri_pspec_free(tri_pspec *s);

/* Runtime start for a process that joins a node (member.c). */
int tri_init_member(const tr_options *opts, const tri_pspec *s);
int tri_exec_join(const char *spec_path);

/* Fork server (fork_server.c) and members (member.c). */
int tri_fork_server_start(void);
bool tri_fork_server_running(void);
int tri_fork_server_note_fd(void);
/* Forks member proc with its spec file; threads: the tasks it will
 * need, which the server makes sure it can have first (TR_ERESOURCE if
 * not, as for a fork that fails with EAGAIN). */
int tri_fork_server_spawn(
    uint32_t proc, uint32_t threads, const char *spec, int *pid);
int tri_member_main(const char *spec_path);
/* The exit status of a member that could not join the node for want of
 * descriptors, threads or memory (EX_TEMPFAIL): before its READY, its
 * spawner reads it as TR_ERESOURCE. */
#define TRI_MEMBER_EX_RESOURCE 75
/* Joins the node described by s instead of making one (tr_init). */
int tri_member_boot(const tri_pspec *s);
/* Runs the actor s asks for; returns the process's exit status. */
int tri_member_run(const tri_pspec *s, const tri_behavior *b);

/* The root's node service (node.c): processes of the node. */
int tri_node_start(void);
void tri_node_stop(void);
/* Registers a process about to start; returns its proc id. */
int tri_node_proc_new(tr_placement place, uint32_t *proc);
void tri_node_proc_started(uint32_t proc, int pid);
void tri_node_proc_ready(uint32_t proc, tr_ref actor);
/* Starts an exec'd troupe program (through the service's loop). */
int tri_node_exec(
    uint32_t proc, const tr_spec *spec, const char *spec_path, int *pid);
/* Why proc ended, once it has (false if it has not), and the actor it
 * had started, if any (TR_REF_NIL). */
bool tri_node_proc_reason(uint32_t proc, tr_reason *why, tr_ref *actor);
/* Whether the node's process proc has ended.  Any thread. */
bool tri_node_proc_ended(uint32_t proc);
void tri_node_kill(uint32_t proc, int sig);
/* Stops every process newest first (shutdown). */
int tri_node_stop_all(uint64_t deadline);

/* Resolves a program like execvp would: TR_OK, TR_ENOENT, TR_EPERM. */
int tri_find_program(const char *prog, char *out, size_t len);

/* Passes a received message on to `to`, keeping its sender and, for a
 * call, its correlation id (pools).  msg stays the caller's. */
int tri_forward(tr_msg *msg, tr_ref to);
/* Tells the caller of a forwarded call which member has it now. */
void tri_redirect(tr_msg *call, tr_ref member);

/* Any program, wrapped by a thread actor (wrap.c). */
int tri_wrap_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why);

/* Process placements (process.c). */
int tri_process_spawn(const tr_spec *spec, const tri_behavior *b,
    tr_placement place, tr_ref *out, tr_reason *why);

/* The run directory (rundir.c).  The base (made private if need be):
 * $TROUPE_RUNDIR, $XDG_RUNTIME_DIR/troupe, /dev/shm/troupe-<uid>,
 * /tmp/troupe-<uid>. */
int tri_rundir_base(char *base, size_t len);
int tri_rundir_create(
    uint32_t node, char *dir, size_t dirlen, char *sockdir, size_t socklen);
void tri_rundir_remove(const char *dir, const char *sockdir);
/* Removes the ipc socket files of the mailboxes of process proc, which
 * has ended: a process killed, or one that exits without closing them
 * (a fork member), leaves them behind. */
void tri_rundir_remove_sockets(const char *dir, uint32_t proc);

/* Room under RLIMIT_NOFILE (limits.c): TR_OK if need more descriptors
 * still leave TRI_FDS_SPARE free, else TR_ERESOURCE (also for ENFILE,
 * the system's limit).  Takes them for a few microseconds to see.  What a spawn
 * costs this process, measured (nng 1.5.2, libuv 1.44): a thread actor
 * 5 (loop, wake-up, listener...); a fork member or exec'd troupe
 * program 3 in the root (its connection in, the root's to its actor
 * and to its main context, made at spawn); a wrapped program 9 (its
 * thread actor and pipes).  The spare covers what is made and closed
 * on the way (spec files, slot tables, listener checks) and
 * connections that running actors make later. */
#define TRI_FDS_SPARE 16
#define TRI_FDS_THREAD 5
#define TRI_FDS_PROCESS 3
#define TRI_FDS_WRAPPED 9
int tri_fds_room(unsigned need);

/* Timers (timer.c). */
int tri_timer_start(void);
void tri_timer_stop(void);
/* Root: a process died with timers pending for actors of others (its
 * table's list, slots.h): takes them off those actors' counts. */
void tri_timers_settle(tri_slottab *dead);

#define TRI_STAT(field) \
	atomic_fetch_add_explicit(&tri_rt.field, 1, memory_order_relaxed)
#define TRI_STAT_ADD(field, n) \
	atomic_fetch_add_explicit(&tri_rt.field, (n), memory_order_relaxed)

#endif
