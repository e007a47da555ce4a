/*
 * troupe.h -- the public API of troupe, an actor system for C.
 *
 * What is not declared in this file is not API: anything else in the
 * source tree may change without notice.
 *
 * Actors talk only by messages (tag + msgpack body) carried over nng.
 * Each actor runs its callbacks one at a time on its own libuv loop, so
 * its state needs no locks.  Where an actor runs -- a thread of this
 * process, a forked member, an exec'd program -- is its placement; the
 * calls below do not change with it.
 *
 * Conventions, as in nng:
 *  - every function that can fail returns an int: TR_OK (0) or a TR_E*
 *    code, which tr_strerror() turns into text;
 *  - a function that takes a tr_msg says who owns it afterwards.  The
 *    rule everywhere is nng's: on success the runtime owns the message
 *    (the caller must not touch it again); on failure the caller still
 *    owns it and must send it elsewhere or tr_msg_free() it;
 *  - bad arguments are refused with TR_EINVAL, never with an assert;
 *  - handles that can die (actors, timers, monitors) are plain values
 *    holding ids, so a stale handle yields an error, not a dangling
 *    pointer.
 */
#ifndef TROUPE_H
#define TROUPE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* Everything declared below is exported from libtroupe.so, which is
 * built with hidden visibility: what this file does not declare, the
 * library does not export. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

#define TR_VERSION_MAJOR 0
#define TR_VERSION_MINOR 1
#define TR_VERSION_PATCH 0

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * One error space for the whole library.  Errors of nng and libuv are
 * mapped onto these by meaning at the boundary where they occur.
 *
 * Two of them say that the system, not the peer, is the problem:
 * nothing died, and the same call may work later.
 *  - TR_ENOMEM: an allocation failed -- troupe's own, nng's or libuv's,
 *    or the kernel's for a new process or mapping (ENOMEM).
 *  - TR_ERESOURCE: a limit was reached -- file descriptors (EMFILE,
 *    ENFILE; RLIMIT_NOFILE), processes or threads (EAGAIN from fork or
 *    pthread_create; RLIMIT_NPROC), or space in the run directory
 *    (ENOSPC).  It comes from:
 *      tr_spawn / tr_pool_spawn / tr_sup_start*: a spawn that would
 *        leave this process too few descriptors for the actors it has
 *        (checked before it starts anything), a process or thread that
 *        could not be made, a member that could not join the node;
 *      tr_send* / tr_call / tr_stop / tr_link / tr_monitor /
 *        tr_actor_info_get: the connection to another process (or its
 *        slot table) could not be opened -- the actor may well live
 *        (tr_alive() says so);
 *      tr_init: the run directory or the fork server could not be made.
 *    A supervisor that gets it from a restart counts a failed start, as
 *    for any other error; it never means TR_ENOPROC.
 */
enum tr_errno {
	TR_OK = 0,
	TR_EINVAL = 1,      /* an argument is invalid */
	TR_ENOMEM = 2,      /* out of memory */
	TR_ENOPROC = 3,     /* no such actor: never existed or has died */
	TR_ENOENT = 4,      /* no such name, behavior, timer or program */
	TR_EEXIST = 5,      /* name or behavior already registered */
	TR_EFULL = 6,       /* mailbox full and the sender chose not to wait */
	TR_ETIMEDOUT = 7,   /* the timeout expired */
	TR_ECLOSED = 8,     /* runtime not initialised or shutting down */
	TR_EPROTO = 9,      /* malformed frame or message body */
	TR_EMSGSIZE = 10,   /* message larger than TR_MSG_MAX */
	TR_EINIT = 11,      /* the actor's init callback failed */
	TR_ESTATE = 12,     /* call not allowed in this context */
	TR_ECANCELED = 13,  /* operation canceled */
	TR_EPERM = 14,      /* permission denied */
	TR_ENOTSUP = 15,    /* not supported (yet) */
	TR_ETRANSPORT = 16, /* transport failure not covered above */
	TR_ESYSTEM = 17,    /* operating system error not covered above */
	TR_ERESOURCE = 18,  /* out of descriptors, processes or threads */
	TR_EDETACHED = 19,  /* a buffer handle that was transferred away */
	TR_ENOCONN = 20,    /* the actor's node is known but not connected
	                       (down, cut off, or not reached yet) */
};

/* Text for a TR_E* code; never NULL, also for unknown codes. */
const char *tr_strerror(int err);

/* ------------------------------------------------------------------ */
/* Runtime                                                             */
/* ------------------------------------------------------------------ */

/* Options for tr_init().  Zero means "the default" for every field. */
typedef struct tr_options {
	/* Default mailbox capacity, in messages, for specs that give 0.
	 * Default 1024. */
	uint32_t mailbox_capacity;
	/* Largest message body accepted, in bytes.  Default and maximum
	 * TR_MSG_MAX. */
	uint32_t max_body;
	/* Scheduler threads for scheduled actors (TR_PLACE_SCHEDULED).
	 * 0: $TROUPE_SCHEDULERS if set, else one per core (tr_cores()). */
	uint32_t schedulers;
	/* Stack of a scheduled actor's callback while it waits (tr_call,
	 * tr_recv, a full mailbox), in bytes.  0: $TROUPE_STACK if set
	 * (bytes, or "256k"), else 256 KiB. */
	uint32_t stack_size;
	/* Makes this process the root of a node of a cluster (see
	 * "Distribution" below); NULL: a node alone.  Borrowed: copied by
	 * tr_init(). */
	const struct tr_cluster_opts *cluster;
} tr_options;

#define TR_MSG_MAX (16u * 1024u * 1024u)

/*
 * Starts the runtime.  Must be the first troupe call of the program and
 * should be the first thing main() does: process placements are forked
 * from a server that has to be created before nng or any libuv thread
 * exists (nng is not fork-safe).  The calling thread becomes the "main"
 * actor context: it has a ref and a mailbox, and may send, call and
 * receive, but runs no callbacks.
 *
 * The node's run directory is made under the first usable base of
 * $TROUPE_RUNDIR (if set: that one only), $XDG_RUNTIME_DIR/troupe,
 * /dev/shm/troupe-<uid>, /tmp/troupe-<uid>.  Usable: a directory of the
 * user's, mode 0700, not a symlink, every directory above it belonging
 * to the user or root and writable by nobody else unless sticky (as
 * /tmp).  A base refused is named on stderr with the rule it breaks.
 *
 * opts may be NULL.  Returns TR_EEXIST if already running, TR_EINVAL for
 * bad options, TR_EPERM (no usable run directory), TR_ENOENT
 * (TROUPE_RUNDIR's parent does not exist), TR_ENOMEM, TR_ERESOURCE,
 * TR_ETRANSPORT.
 */
int tr_init(const tr_options *opts);

/*
 * Stops every actor (reason TR_EXIT_SHUTDOWN, newest first), joins their
 * threads, and releases everything.  Call from the thread that called
 * tr_init(), never from an actor callback (TR_ESTATE).  Messages still
 * queued are counted as dead letters.  After it returns, tr_init() may
 * be called again.
 */
int tr_shutdown(void);

/*
 * Counters of the whole runtime (this process), since tr_init().
 *
 * dead_letters in the root of a node (the process that called tr_init()
 * first) also takes in those of the node's other processes (fork
 * members, exec'd programs), each once it has ended: what the process
 * counted itself, and the messages its mailboxes had accepted and not
 * handed to an actor -- all of them, for a process that was killed.
 * The root adds them before it tells links and monitors of the
 * process's end (a killed process's actors say nothing themselves, so
 * for them a DOWN means the count is in).  In a member, the count is
 * the member's own.
 */
typedef struct tr_stats {
	uint64_t sent;         /* user messages accepted by tr_send* */
	uint64_t delivered;    /* user messages handed to an actor */
	uint64_t dead_letters; /* messages dropped: receiver died first,
	                          stale ref, or shutdown (see above) */
	uint64_t malformed;    /* frames rejected by the decoder */
	uint64_t late_replies; /* replies that arrived after their call
	                          timed out, discarded */
	uint64_t actors_spawned;
	uint64_t actors_exited;
	uint64_t bad_buffers; /* buffer refs refused by tr_unpack_buf():
	                         forged, from another node, or gone */
} tr_stats;

int tr_stats_get(tr_stats *out);

/* ------------------------------------------------------------------ */
/* Refs                                                                */
/* ------------------------------------------------------------------ */

/*
 * A ref names one incarnation of one actor, anywhere: node, process
 * within the node, slot within the process, and incarnation.  It is a
 * plain value: copy it, compare it with tr_ref_equal(), pack it into a
 * message body with tr_pack_ref().  A ref outlives its actor harmlessly:
 * sends to it fail with TR_ENOPROC (or count as dead letters where the
 * death cannot be known at send time), and never reach a later actor
 * that reuses the slot.  The all-zero ref is "no actor" (TR_REF_NIL).
 */
typedef struct tr_ref {
	uint32_t node;
	uint32_t proc;
	uint32_t slot;
	uint32_t gen;
} tr_ref;

#define TR_REF_NIL ((tr_ref){0, 0, 0, 0})

bool tr_ref_equal(tr_ref a, tr_ref b);
bool tr_ref_is_nil(tr_ref r);

/*
 * The calling context's own ref: the running actor inside a callback,
 * the main context on the thread that called tr_init(), TR_REF_NIL on
 * any other thread.
 */
tr_ref tr_self(void);

/* Writes "<node.proc.slot.gen>" into buf; returns buf. */
char *tr_ref_format(tr_ref r, char *buf, size_t len);

/* msgpack extension type used for refs in message bodies. */
#define TR_MSGPACK_EXT_REF 0x54

/* Packs a ref as a msgpack ext value (16 bytes). Returns TR_OK, or
 * TR_EINVAL if pk is NULL, TR_ENOMEM if the packer's writer failed. */
int tr_pack_ref(msgpack_packer *pk, tr_ref ref);

/* Reads a ref packed by tr_pack_ref().  TR_EINVAL if obj is not one. */
int tr_unpack_ref(const msgpack_object *obj, tr_ref *out);

/* ------------------------------------------------------------------ */
/* Shared buffers                                                      */
/* ------------------------------------------------------------------ */

/*
 * A buffer is memory that travels in messages by reference: put in a
 * body with tr_pack_buf(), it reaches the receiver as the same bytes,
 * not a copy -- the same memory for an actor of this process (thread or
 * scheduled), a shared mapping of the same file for a fork member or an
 * exec'd troupe program.  The message itself still goes through nng;
 * only the payload is shared.  (Node's SharedArrayBuffer, and
 * postMessage's transfer list.)  A buffer sent to another node would be
 * refused there (distribution is not built: see bad_buffers).
 *
 * A tr_buf is a handle: an id in this process's table, valid from the
 * call that made it until tr_buf_release() or a transfer.  A stale
 * handle is refused with TR_ENOENT (released, or never made) or
 * TR_EDETACHED (transferred away), never dereferenced.  Handles may be
 * used from any thread of the process.  A handle belongs to the
 * context (actor or main) that made or received it: when that context
 * ends, its handles are released for it; when a process ends, however
 * it ends (kill -9 included), the node's root drops every hold it had.
 * The buffer is freed when its last holder lets go -- handles and
 * messages, in every process of the node -- so a buffer stays valid for
 * its other holders after its maker died.
 *
 * Two modes, chosen per send:
 *  - TR_BUF_TRANSFER: the sender gives the buffer up.  The handle is
 *    detached by the packing: tr_buf_data() and tr_pack_buf() on it
 *    return TR_EDETACHED; tr_buf_release() frees the handle.  (A
 *    pointer the sender took earlier still points at the bytes; writing
 *    through it after the transfer is the sender's bug, as with any
 *    pointer.)
 *  - TR_BUF_SHARE: both keep it; the message takes a hold of its own.
 *    Sender and receiver then read and write the same bytes at once.
 *    THIS IS OUTSIDE THE ACTOR MODEL: the runtime's promise that an
 *    actor's state needs no locks does not cover shared bytes.
 *    Concurrent writers must coordinate with C11 atomics on the bytes
 *    (<stdatomic.h> on suitably aligned words, as JavaScript's Atomics
 *    on a SharedArrayBuffer), or by messages (one writer at a time, the
 *    handover said by a message: a send orders the sender's writes
 *    before the receiver's reads).
 *
 * Costs: a buffer is a file in the node's run directory (mode 0600)
 * mapped MAP_SHARED, so its pages live where the run directory does
 * (tmpfs for the defaults /dev/shm and $XDG_RUNTIME_DIR).  A node has
 * room for 4096 buffers at once, each held by at most 32 processes at
 * once (TR_ERESOURCE beyond).  docs/design.md, "Shared buffers".
 */
typedef struct tr_buf {
	uint64_t id;
} tr_buf;

#define TR_BUF_NIL ((tr_buf){0})
/* The largest buffer: 1 GiB. */
#define TR_BUF_MAX ((size_t)1 << 30)
/* msgpack extension type of a buffer in a message body (32 bytes). */
#define TR_MSGPACK_EXT_BUF 0x55

typedef enum tr_buf_mode {
	TR_BUF_SHARE = 0,
	TR_BUF_TRANSFER = 1,
} tr_buf_mode;

/*
 * A new buffer of size zeroed bytes, held by the new handle *out (the
 * caller's, until tr_buf_release() or a transfer).  Any thread, once
 * tr_init() ran.  TR_EINVAL (out NULL, size 0 or above TR_BUF_MAX),
 * TR_ECLOSED, TR_ERESOURCE (4096 buffers in the node, or no space in
 * the run directory), TR_ENOMEM.
 */
int tr_buf_new(tr_buf *out, size_t size);

/*
 * The buffer's bytes and size (either pointer may be NULL).  The bytes
 * stay valid while the handle is held.  TR_ENOENT for a handle released
 * or never made, TR_EDETACHED for one transferred away.
 */
int tr_buf_data(tr_buf b, void **data, size_t *size);

/*
 * Lets go of the handle (and, with the last holder of the node, of the
 * buffer).  A detached handle is freed too.  TR_ENOENT if b is no live
 * handle (released twice, never made).
 */
int tr_buf_release(tr_buf b);

/*
 * Packs b into a message body as a TR_MSGPACK_EXT_BUF value.  pk must
 * be a message's packer (tr_msg_packer()): the message holds the buffer
 * from here on, until it is freed or handed on, and so do copies of it
 * (tr_msg_dup) and frames made from it.  mode says what happens to b:
 * TR_BUF_SHARE keeps it; TR_BUF_TRANSFER detaches it (see above).
 * Errors leave b and the message as they were: TR_EINVAL (pk NULL or
 * no message's, bad mode), TR_ENOENT, TR_EDETACHED, TR_ERESOURCE (32
 * processes hold it), TR_ENOMEM (the body is full).
 */
int tr_pack_buf(msgpack_packer *pk, tr_buf b, tr_buf_mode mode);

/*
 * A new handle on the buffer obj names: the same bytes the sender has
 * (mapped here at the first handle or message of this process that
 * holds it).  Call it on a value of a received message's body
 * (tr_msg_body()) while that message is held.  The handle belongs to
 * the calling context; release it with tr_buf_release().
 * TR_EINVAL if obj is no TR_MSGPACK_EXT_BUF value (or out is NULL).
 * TR_EPROTO if it is one but names no live buffer of this node: forged,
 * from another node, the wrong size, or gone -- refused without reading
 * any memory it names, and counted in tr_stats.bad_buffers.
 * TR_ECLOSED, TR_ERESOURCE, TR_ENOMEM.
 */
int tr_unpack_buf(const msgpack_object *obj, tr_buf *out);

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/*
 * A message is a tag (the user's choice of uint32, below
 * TR_TAG_SYSTEM), a body of msgpack values, and -- once received -- the
 * sender's ref.  Bodies are written and read with msgpack-c itself: pack
 * with the packer from tr_msg_packer(), read with tr_msg_body().
 */
typedef struct tr_msg tr_msg;

/* Tags at or above TR_TAG_SYSTEM are the runtime's. */
#define TR_TAG_SYSTEM 0xFFFF0000u
/* An exit signal from a linked actor, delivered as a message because
 * the receiver traps exits.  Body: see tr_msg_reason(). */
#define TR_TAG_EXIT 0xFFFF0001u
/* A monitored actor went down.  Body: see tr_msg_reason(). */
#define TR_TAG_DOWN 0xFFFF0002u

/* A new message with an empty body.  Caller owns *out. TR_EINVAL if tag
 * is a system tag or out is NULL; TR_ENOMEM. */
int tr_msg_new(tr_msg **out, uint32_t tag);

/* Frees a message the caller owns.  NULL is fine. */
void tr_msg_free(tr_msg *msg);

/* A deep copy of msg (tag, body, sender); the caller owns *out. */
int tr_msg_dup(tr_msg **out, const tr_msg *msg);

/*
 * The packer that appends to msg's body.  Pack exactly one msgpack
 * value (an array or a map if you need several fields); the runtime
 * checks this when the message is sent.  Valid as long as msg is.
 */
msgpack_packer *tr_msg_packer(tr_msg *msg);

/*
 * Unpacks msg's body into *out.  The object and everything it points to
 * live inside msg and are valid until msg is freed.  An empty body reads
 * as nil.  TR_EPROTO if the body is not exactly one msgpack value.
 */
int tr_msg_body(tr_msg *msg, msgpack_object *out);

/* Raw body bytes (valid while msg is) and their size. */
const void *tr_msg_data(const tr_msg *msg);
size_t tr_msg_size(const tr_msg *msg);

uint32_t tr_msg_tag(const tr_msg *msg);

/* The sender of a received message; TR_REF_NIL for one not yet sent, or
 * sent from a thread that is no actor context. */
tr_ref tr_msg_sender(const tr_msg *msg);

/* ------------------------------------------------------------------ */
/* Exit reasons                                                        */
/* ------------------------------------------------------------------ */

/*
 * Why an actor ended.  NORMAL and SHUTDOWN are orderly; every other kind
 * is abnormal and propagates along links (OTP semantics: `normal` does
 * not kill linked actors, `shutdown` does unless they trap exits).
 */
typedef enum tr_exit_kind {
	TR_EXIT_NORMAL = 0,       /* the actor chose to stop */
	TR_EXIT_SHUTDOWN = 1,     /* stopped by its owner or the runtime */
	TR_EXIT_ERROR = 2,        /* a callback returned code (non-zero) */
	TR_EXIT_KILL = 3,         /* killed without a chance to clean up */
	TR_EXIT_STATUS = 4,       /* a process exited with status code */
	TR_EXIT_SIGNAL = 5,       /* a process was killed by signal code */
	TR_EXIT_NOPROC = 6,       /* linked or monitored a dead actor */
	TR_EXIT_CUSTOM = 7,       /* a user reason: code is the user's */
	TR_EXIT_NOCONNECTION = 8, /* its node went down or was cut off:
	                             code is the node id (Erlang's
	                             noconnection) */
} tr_exit_kind;

typedef struct tr_reason {
	tr_exit_kind kind;
	int32_t code;
} tr_reason;

#define TR_REASON(k, c) ((tr_reason){(k), (c)})
#define TR_REASON_NORMAL TR_REASON(TR_EXIT_NORMAL, 0)
#define TR_REASON_SHUTDOWN TR_REASON(TR_EXIT_SHUTDOWN, 0)
#define TR_REASON_KILL TR_REASON(TR_EXIT_KILL, 0)

/* True for every reason but NORMAL and SHUTDOWN. */
bool tr_reason_is_abnormal(tr_reason r);

/* "normal", "shutdown", "error(5)", "signal(9)", ...; returns buf. */
char *tr_reason_format(tr_reason r, char *buf, size_t len);

/*
 * For a TR_TAG_EXIT or TR_TAG_DOWN message: who ended (also its
 * tr_msg_sender()), why, and for DOWN the monitor it answers (0 for
 * EXIT).  Any out pointer may be NULL.  TR_EINVAL for other messages.
 */
int tr_msg_reason(tr_msg *msg, tr_ref *who, tr_reason *why, uint64_t *mon);

/* ------------------------------------------------------------------ */
/* Behaviors                                                           */
/* ------------------------------------------------------------------ */

/*
 * What an actor does.  The runtime allocates state_size zeroed bytes
 * for each actor and passes them to every callback.  All callbacks of
 * one actor run on that actor's thread (its loop), one at a time; they
 * may call any troupe function, and may add libuv handles to tr_loop().
 *
 * init   -- optional.  arg is the spec's init argument (NULL if none),
 *           borrowed for the call.  Return 0 to start; TR_IGNORE not to
 *           run at all, which is no failure (OTP's `ignore`: tr_spawn()
 *           returns TR_OK with *out = TR_REF_NIL, a supervisor keeps the
 *           child in state TR_CHILD_IGNORED); anything else fails the
 *           spawn: tr_spawn() returns TR_EINIT and the reason
 *           error(code).  tr_spawn() returns only after init returned.
 *           An init that did not start (ignored or failed) sends no exit
 *           signals, and terminate is not called.
 * handle -- required.  msg is borrowed for the call (tr_msg_dup() to
 *           keep it).  Return 0 to go on; a non-zero return ends the
 *           actor with reason error(return value).
 * terminate -- optional.  Called once when the actor ends for any
 *           reason but TR_EXIT_KILL, after the last handle.  Must release
 *           the libuv handles the actor added to its loop.  It runs
 *           after that loop has stopped, so it may turn the loop itself
 *           (uv_run(tr_loop(), UV_RUN_ONCE)) to finish work first --
 *           drain connections, flush writes -- for less than its
 *           supervisor's shutdown timeout; handle is not called again.
 *           Whatever handles it leaves open are closed after it.
 */
/* What an init returns to choose not to run (see tr_behavior). */
#define TR_IGNORE INT32_MIN

typedef struct tr_behavior {
	const char *name;
	size_t state_size;
	int (*init)(void *state, tr_msg *arg);
	int (*handle)(void *state, tr_msg *msg);
	void (*terminate)(void *state, tr_reason reason);
} tr_behavior;

/* Registers a behavior under b->name (copied, with the callbacks).
 * TR_EINVAL if name or handle is missing; TR_EEXIST if the name is
 * taken.  May be called before tr_init(). */
int tr_behavior_register(const tr_behavior *b);

/* ------------------------------------------------------------------ */
/* Spawning and stopping                                               */
/* ------------------------------------------------------------------ */

typedef enum tr_placement {
	TR_PLACE_AUTO = 0, /* decided by the runtime from the spec */
	TR_PLACE_THREAD = 1,
	TR_PLACE_FORK = 2,
	TR_PLACE_EXEC = 3,
	TR_PLACE_SCHEDULED = 4,
} tr_placement;

/*
 * How to start an actor.  Zero-initialise, then set what you need.
 *
 * Placements, and what a spec needs for each:
 *  - thread: `behavior`.  Shares everything with the spawner's process.
 *  - fork:   `behavior`.  A member forked from the fork server, which
 *            tr_init() made before anything else ran: the member has the
 *            program's code (so any behavior function works, whenever it
 *            was registered) and its globals as they were at the first
 *            tr_init() -- nothing made after that (open files, memory,
 *            threads).  Everything else comes in the init argument.
 *  - exec:   `program` (+ argv, env, cwd).  With `behavior` set, the
 *            program must be a troupe program (see tr_exec_main()) that
 *            registers that behavior; it runs it as a full actor.  With
 *            `behavior` NULL, any program: it is wrapped by an actor of
 *            this process whose ref is returned; see TR_TAG_STDOUT.
 *  - scheduled: `behavior`.  One of many actors on a few scheduler
 *            threads (one per core by default: tr_options.schedulers):
 *            a few hundred bytes and a microsecond or two to start, and
 *            a message to an actor of the same scheduler never leaves
 *            its thread.  tr_call, tr_recv and tr_sleep block only the
 *            calling actor.  A callback that loops or makes a blocking
 *            system call holds up the other actors of its scheduler
 *            (tr_actor_info_get shows it, and a line on stderr says
 *            so): give such code a thread.  tr_loop() gives it a loop of
 *            its own, run on its scheduler's thread as part of its turns.
 *  - auto:   exec if `program` is set, fork if `isolated`, else
 *            scheduled; TROUPE_PLACEMENT=scheduled|thread|fork|exec in
 *            the environment forces every auto spec with a behavior into
 *            one placement (TROUPE_EXEC_HOST names the program hosting
 *            behaviors for exec).
 * Fork and exec placements are spawned from the node's root process.
 */
typedef struct tr_spec {
	const char *behavior;      /* registered behavior name */
	tr_placement placement;    /* default: auto */
	uint32_t mailbox_capacity; /* messages; 0 = runtime default */
	const tr_msg *init_arg;    /* borrowed: copied by tr_spawn(); NULL ok */
	const char *name;          /* register under this name; NULL = none */
	bool link;                 /* link to the caller before init runs */
	bool trap_exits;           /* start trapping exits */
	bool isolated;             /* crash-prone or untrusted work */

	/* exec placement */
	const char *program;     /* a path, or a name looked up in PATH */
	const char *const *argv; /* argv[0]..., NULL-terminated; NULL:
	                            just the program */
	const char *const *env;  /* "NAME=value" added to ours, NULL-
	                            terminated; NULL: none */
	const char *cwd;         /* NULL: ours */
	bool raw_output;         /* wrapped: stdout/stderr in chunks as
	                            read, not lines */
	/* The node to start it on, by name (tr_cluster_opts.node there);
	 * NULL or this node's own name: here.  On another node the spec is
	 * sent there and run by that node's own placements: behavior,
	 * program and name are looked up there; init_arg crosses as bytes;
	 * argv, env and cwd do not (TR_EINVAL).  link is made once the
	 * actor started (one that ended meanwhile answers it with noproc).
	 * Errors besides tr_spawn()'s: TR_ENOCONN (node unknown or not
	 * connected), TR_ENOTSUP (this node is in no cluster), TR_ESTATE
	 * (not from a context). */
	const char *node;
	/* fork and exec: how long the new process may take to answer that
	 * its actor started; 0 = 5000 ms.  Past it, it is killed and
	 * tr_spawn() returns TR_ETIMEDOUT. */
	uint32_t start_timeout_ms;
} tr_spec;

/*
 * Starts an actor and waits until its init callback returned.  On
 * success *out is its ref -- or TR_REF_NIL if its init returned
 * TR_IGNORE: nothing of it is left (no ref, no name, no process), and
 * a link asked for is not made.  On TR_EINIT, *why (if not NULL) says why
 * init failed (for a process that died first: its exit status or
 * signal).  Errors: TR_EINVAL (bad spec), TR_ENOENT (unknown behavior,
 * or no such program), TR_EPERM (program not executable), TR_EEXIST
 * (name taken), TR_ETIMEDOUT (a process did not answer in time),
 * TR_ENOTSUP (placement not available here), TR_ESTATE (a process
 * placement asked from a thread that is no context), TR_ECANCELED (an
 * actor spawning a process was asked to stop meanwhile: the process is
 * killed), TR_ERESOURCE (out of descriptors, processes or threads: the
 * spawn would leave fewer than 16 descriptors free to the actors that
 * run -- a thread actor costs 5, a fork or exec member 3 in the root --
 * or a thread or process could not be made; nothing is left half
 * started), TR_ENOMEM, TR_ECLOSED.
 */
int tr_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why);

/*
 * Starts n actors of one spec and returns when every init returned, as
 * n calls of tr_spawn() would, but without a round trip per actor where
 * the placement allows it: scheduled actors spawned from outside their
 * scheduler go there in one batch and their inits run back to back
 * (10^5 in well under a second), where n tr_spawn() calls wait for each.
 * All or nothing: on success refs[0..n-1] are the new actors (TR_REF_NIL
 * for one whose init returned TR_IGNORE); on failure none of them is
 * left (those that started are killed), every refs[i] is TR_REF_NIL,
 * and the error is the first met (with *why, if not NULL, for
 * TR_EINIT).  TR_EINVAL if n is 0, refs NULL, or spec->name set (names
 * are unique).  Otherwise errors as tr_spawn().
 */
int tr_spawn_many(
    const tr_spec *spec, uint32_t n, tr_ref *refs, tr_reason *why);

/*
 * The entry point of an exec'd troupe program:
 *
 *     int main(void) {
 *             tr_init(NULL);                  // joins the parent's node
 *             tr_behavior_register(&worker);  // what it can run
 *             return tr_exec_main();          // runs what was asked
 *     }
 *
 * Runs the actor its spawner asked for (behavior, init argument, name,
 * links) until it ends, then shuts the runtime down and returns 0 (the
 * exit status; the actor's reason reaches its links and monitors as
 * for any actor).  Returns -1 at once if this process was not started
 * by troupe (no TROUPE_SPEC in the environment).
 */
int tr_exec_main(void);

/* The ref of the actor that spawned this process (fork member or exec'd
 * program); TR_REF_NIL elsewhere. */
tr_ref tr_parent(void);

/* Wrapped programs: a line (or, with raw_output, a chunk) of the
 * program's stdout or stderr, body a msgpack str (bin if raw), sent to
 * the spawner by the wrapping actor.  Messages sent to the wrapper with
 * a str or bin body are written to the program's stdin; one with an
 * empty (nil) body closes it.  The program's end ends the wrapper with
 * reason normal (status 0), status(n) or signal(n). */
#define TR_TAG_STDOUT 0xFFFF0003u
#define TR_TAG_STDERR 0xFFFF0004u

/*
 * Asks an actor to end with the given reason.  Travels the control
 * lane: it is not held up by a full mailbox.  The actor finishes the
 * callback it is in, runs terminate (except for TR_EXIT_KILL), then its
 * links and monitors are told.  Returns once the request is delivered;
 * use a monitor to wait for the end.  Called on the caller's own ref
 * inside a callback, the actor ends when the callback returns.
 * TR_ENOPROC if the actor is already gone; TR_ESTATE for the main
 * context; TR_ERESOURCE if it lives in another process that this one
 * cannot connect to (out of descriptors).
 */
int tr_stop(tr_ref ref, tr_reason reason);

/*
 * A pool: n actors of one spec behind one ref (Node's cluster).  Each
 * message sent to the pool goes to one member, in turn; a call is
 * answered by that member directly.  n = TR_POOL_CORES starts one member
 * per core (tr_cores()).  The members are linked to the pool: one that
 * ends leaves the rotation, and the pool ends when none is left;
 * stopping the pool stops them.  The spec's name, if any, names the
 * pool.  Starts whole or not at all.  Members whose init returns
 * TR_IGNORE are left out; if all do, *pool is TR_REF_NIL (TR_OK).
 * Errors as tr_spawn().
 *
 * Members that serve TCP share one port best through one listening
 * socket opened before tr_init() -- a tree file's `sockets:`, fetched
 * with tr_tree_socket() -- so that all accept from one queue and a
 * member that ends loses no queued connection.  tr_tcp_listen() opens a
 * SO_REUSEPORT socket per member instead, whose queued connections are
 * reset when that member closes it.
 */
#define TR_POOL_CORES 0
#define TR_POOL_MAX 1024
int tr_pool_spawn(const tr_spec *spec, uint32_t n, tr_ref *pool);

/* The cores the calling thread may run on (its CPU affinity, as nproc
 * counts them: taskset and cpusets are honoured), else the online cores
 * of the machine; at least 1. */
uint32_t tr_cores(void);

/*
 * A listening TCP socket on ip:port with SO_REUSEPORT set, so that
 * several actors (pool members) can listen on the same port; *fd is
 * non-blocking, ready for uv_tcp_open() on tr_loop().  port 0 picks
 * one (read it back with getsockname).  Errors: TR_EINVAL (bad address),
 * TR_EEXIST (port taken without SO_REUSEPORT), TR_EPERM, TR_ERESOURCE
 * (out of descriptors), TR_ESYSTEM.
 */
int tr_tcp_listen(const char *ip, int port, int backlog, int *fd);

/* Whether ref names a live actor (a local or known one).  Reads the
 * slot table of the actor's process: needs no connection to it, so
 * being out of descriptors does not make an actor look dead. */
bool tr_alive(tr_ref ref);

/*
 * The loop of the running actor (a uv_loop_t *) for its own handles;
 * NULL outside actor callbacks.  Declared without <uv.h> so that this
 * header does not drag libuv in; cast it to uv_loop_t *.
 */
struct uv_loop_s *tr_loop(void);

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* timeout_ms values */
#define TR_NOWAIT 0
#define TR_FOREVER (-1)

/*
 * Sends msg to an actor.  Messages from one sender to one receiver
 * arrive in the order sent.  If the receiver's mailbox is full the call
 * blocks until there is room (tr_send) or up to timeout_ms
 * (tr_send_timed: TR_NOWAIT fails at once with TR_EFULL, a positive
 * value fails with TR_ETIMEDOUT, TR_FOREVER waits).  A full mailbox of
 * the caller itself never blocks: TR_EFULL.
 *
 * Ownership: on TR_OK the runtime owns msg; on any error the caller
 * still owns it.  Errors: TR_EINVAL, TR_ENOPROC (receiver known dead or
 * unknown), TR_EFULL, TR_ETIMEDOUT, TR_EPROTO (body is not one msgpack
 * value), TR_EMSGSIZE, TR_ECLOSED, TR_ERESOURCE (the receiver lives in
 * another process that this one cannot connect to: out of
 * descriptors).  TR_ENOPROC is never a guess: it means dead.
 */
int tr_send(tr_ref to, tr_msg *msg);
int tr_send_timed(tr_ref to, tr_msg *msg, int timeout_ms);

/*
 * Request/response.  Sends req to `to` and waits up to timeout_ms
 * (TR_FOREVER allowed) for the reply, which the caller then owns in
 * *reply.  Other messages that arrive meanwhile stay queued in order.
 * A reply that arrives after the timeout is discarded and counted.
 *
 * Ownership of req: the runtime owns it once it is sent, which is the
 * case for TR_OK, TR_ETIMEDOUT, a callee that died (TR_ENOPROC after
 * sending) and a callee whose node went down or was cut off meanwhile
 * (TR_ENOCONN after sending, from the root and from its members alike);
 * if the call fails before sending (TR_EINVAL, TR_ENOPROC for
 * an unknown callee, TR_EFULL, TR_ERESOURCE...) the caller keeps it.  *sent
 * (may be NULL) says which.  Callable from the main context and from actor
 * callbacks (the actor's other messages wait), not from other threads
 * (TR_ESTATE).  An actor asked to stop while it waits gets TR_ECANCELED
 * at once, so that it can return and end.
 */
int tr_call(tr_ref to, tr_msg *req, int timeout_ms, tr_msg **reply, bool *sent);

/* Where to send the answer to a call: taken from the request. */
typedef struct tr_from {
	tr_ref to;
	uint64_t corr; /* 0 if the message was not a call */
} tr_from;

/* The return address of a received message (corr 0 unless a call). */
tr_from tr_msg_from(const tr_msg *msg);

/* Whether msg is a call awaiting tr_reply(). */
bool tr_msg_is_call(const tr_msg *msg);

/*
 * Answers a call, now or later (keep the tr_from).  Ownership of reply
 * as tr_send().  A reply to a caller that is gone or stopped waiting is
 * not an error here: it is discarded at the caller and counted there.
 * TR_EINVAL if from is not a call's.
 */
int tr_reply(tr_from from, tr_msg *reply);

/*
 * Blocking receive for code that does not use callbacks (the main
 * context, or an actor inside a callback): the next user message or
 * exit/down notice, in arrival order, owned by the caller.  A message a
 * context sent itself is there at once.  TR_ETIMEDOUT after timeout_ms
 * (TR_NOWAIT polls); TR_ECANCELED for an actor asked to stop meanwhile;
 * TR_ESTATE on threads that are no actor context.
 */
int tr_recv(tr_msg **out, int timeout_ms);

/*
 * Waits ms milliseconds without holding up anyone else: the scheduler
 * of a scheduled actor runs its other actors meanwhile (a blocking
 * system call such as nanosleep() or read() in a callback would stop
 * them all); anywhere else the calling thread sleeps.  Messages that
 * arrive meanwhile wait in the mailbox.  TR_OK once the time has
 * passed; TR_ECANCELED sooner if the calling actor is asked to stop
 * (it should return from its callback); TR_EINVAL if ms < 0.  Any
 * thread.
 */
int tr_sleep(int ms);

/* A delayed send that can be canceled. */
typedef struct tr_timer {
	uint64_t id;
} tr_timer;

/*
 * Sends msg to `to` after delay_ms.  Ownership: the runtime owns msg on
 * TR_OK (also if the timer is later canceled: it frees it).  At expiry
 * the message is enqueued even into a full mailbox (a timer cannot
 * wait), or counted as a dead letter if the receiver is gone.  *timer
 * may be NULL if it will not be canceled.  Until it fires or is
 * canceled the timer is counted in the receiver's tr_actor_info
 * (timers), so that a backlog past its capacity shows.  The timer lives
 * in the calling process: if that process dies first, it never fires.
 * TR_ENOPROC if `to` is dead; TR_ERESOURCE if its process's slot table
 * cannot be opened.
 */
int tr_send_after(tr_ref to, tr_msg *msg, int delay_ms, tr_timer *timer);

/* Cancels a pending delayed send.  TR_ENOENT if it already fired, was
 * canceled, or never existed. */
int tr_timer_cancel(tr_timer timer);

/*
 * Passes a received message on to `to`, as its original sender sent it:
 * the receiver's tr_msg_sender() is that sender (not the forwarder), and
 * a forwarded call stays a call with its correlation, so the final
 * receiver's tr_reply() answers the original caller directly.  A message
 * that was never received (made with tr_msg_new) goes out as from the
 * caller, as tr_send would send it.  Tag and body are unchanged.  Waits
 * for room in a full mailbox, as tr_send().
 *
 * Ownership: msg is only read; the caller keeps it whatever the result,
 * and frees it as before (in handle it stays the runtime's).  Forwarding
 * needs no tr_msg_dup(), so the usual place for it -- a broker's or a
 * router's handle callback -- is one line.
 *
 * A caller of a forwarded call goes on watching the actor it called, as
 * gen_server:call does: if that actor ends before the reply comes, the
 * call ends with TR_ENOPROC; if only the final receiver ends, the call
 * ends at its timeout.
 *
 * Errors as tr_send() (TR_EINVAL, TR_ENOPROC, TR_EPROTO, TR_EMSGSIZE,
 * TR_ECLOSED; TR_EFULL and TR_ENOMEM forwarding to oneself, which
 * queues a copy and never waits); also TR_EINVAL for an exit or down
 * notice (TR_TAG_EXIT, TR_TAG_DOWN: they speak of the receiver's own
 * links and monitors).
 */
int tr_forward(tr_msg *msg, tr_ref to);

/* ------------------------------------------------------------------ */
/* One-line messages: pictures                                         */
/* ------------------------------------------------------------------ */

/*
 * A picture is a string with one letter per value, in the spirit of
 * CZMQ's zsock_send(): tr_sendf(to, TAG, "qr", n, tr_self()) sends a
 * message whose body is the msgpack array [n, <ref>], and
 * tr_msg_unpackf(msg, "qr", &n, &ref) reads it back, checking every
 * type.  The body is always one msgpack array with one element per
 * letter ("" is the empty array), so a picture's message can also be
 * read with tr_msg_body(), and one written by any msgpack writer can be
 * read with a picture.
 *
 *  letter  argument to pack         to unpack into           value
 *  i       int                      int *                    integer (1)
 *  u       unsigned int             unsigned *               integer (1)
 *  q       int64_t                  int64_t *                integer (1)
 *  Q       uint64_t                 uint64_t *               integer (1)
 *  d       double                   double *                 float32/64
 *  ?       bool (passed as int)     bool *                   true, false
 *  s       const char *, not NULL   const char **            str (2)
 *  S       const char *, size_t     const char **, size_t *  str (3)
 *  b       const void *, size_t     const void **, size_t *  bin (3)
 *  r       tr_ref                   tr_ref *                 ref (4)
 *  n       (none)                   (none)                   nil
 *  m       const msgpack_object *   msgpack_object *         any (3)
 *
 *  (1) whatever its msgpack width and sign, if the value fits the
 *      target: -1 is no unsigned, 2^31 is no int (TR_EPROTO).
 *  (2) without NUL bytes; read as a NUL-terminated copy kept with msg.
 *  (3) points into msg's body; S's string is NOT NUL-terminated.
 *  (4) as packed by tr_pack_ref().
 *
 * Integers are C's own types, not fixed widths, for a reason: a literal
 * like 5 passed for "i" is an int, and variadic arguments are not
 * converted, so a letter that read an int64_t would read garbage (and
 * -1 as 4294967295 on x86-64).  Pass exactly the type of the table --
 * cast literals for q, Q and d: (int64_t)1, 1.0.
 *
 * Unpacking: every pointer may be NULL to check a value without
 * keeping it.  What s, S, b and m give points into msg (s: a copy kept
 * with msg) and is valid until msg is freed (or its body is packed
 * into again); copy what must outlive it.
 * Nothing is written unless the whole body matches.  The reader checks
 * every length against the bytes present, so any body -- from another
 * process, or hostile -- gives TR_EPROTO at worst, never an over-read.
 *
 * Errors of the picture calls: TR_EINVAL for a NULL or malformed
 * picture (an unknown letter), a NULL s string, a NULL S or b pointer
 * with a non-zero length, a NULL m object; TR_EPROTO when the body does
 * not match the picture (not an array, a count other than the picture's
 * length, a value of another type, an integer out of the target's
 * range, an s string holding a NUL byte, trailing bytes); TR_EMSGSIZE
 * for a body over TR_MSG_MAX; TR_ENOMEM.  An empty body (tr_msg_new()
 * with nothing packed) reads as the picture "".
 */

/* A new message with tag and a body packed from picture; the caller
 * owns *out.  On error *out is NULL and nothing is left behind. */
int tr_msg_newf(tr_msg **out, uint32_t tag, const char *picture, ...);
int tr_msg_vnewf(tr_msg **out, uint32_t tag, const char *picture, va_list ap);

/* Reads msg's body into the picture's pointers (see above).  On any
 * error nothing is written.  The body is not changed (what s and m
 * need is kept with msg).  Any thread, one at a time per message. */
int tr_msg_unpackf(tr_msg *msg, const char *picture, ...);
int tr_msg_vunpackf(tr_msg *msg, const char *picture, va_list ap);

/*
 * tr_send() of a message made by tr_msg_newf(): one line, nothing to
 * free.  The message is made and freed inside whatever happens.  Errors
 * as tr_msg_newf() and tr_send().
 */
int tr_sendf(tr_ref to, uint32_t tag, const char *picture, ...);

/*
 * tr_call() with a request made from picture.  The request is made and
 * freed inside whatever happens; on TR_OK the caller owns *reply (read
 * it with tr_msg_unpackf()).  Errors as tr_msg_newf() and tr_call().
 */
int tr_callf(tr_ref to, uint32_t tag, int timeout_ms, tr_msg **reply,
    const char *picture, ...);

/* tr_reply() with a reply made from picture.  Errors as tr_msg_newf()
 * and tr_reply(). */
int tr_replyf(tr_from from, uint32_t tag, const char *picture, ...);

/*
 * tr_recv() then tr_msg_unpackf(): the next message, its tag in *tag
 * (may be NULL) and its body in the picture's pointers.
 *
 * With out not NULL the caller owns the message in *out whenever it got
 * one -- on TR_OK and on TR_EPROTO (a body that does not match the
 * picture: look at the tag, read it otherwise, then free it) -- and
 * strings and bytes point into it.  With out NULL the message is freed
 * before tr_recvf() returns, so the picture may not hold s, S, b or m
 * (TR_EINVAL before receiving anything); on TR_EPROTO the message is
 * dropped, its tag still in *tag.  Exit and down notices arrive here
 * too (their body is [kind, code, monitor]: picture "iiQ").  Errors as
 * tr_recv() (no message then: *out is NULL), and TR_EPROTO.
 */
int tr_recvf(
    tr_msg **out, uint32_t *tag, int timeout_ms, const char *picture, ...);

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/*
 * Registered names, as Erlang's register/whereis: one name, one actor;
 * the name is released when the actor ends.  Names are at most
 * TR_NAME_MAX bytes.  register: TR_EEXIST if taken (or the actor already
 * has a name), TR_ENOPROC if ref is dead.  whereis/unregister: TR_ENOENT.
 */
#define TR_NAME_MAX 64
int tr_register(const char *name, tr_ref ref);
int tr_unregister(const char *name);
int tr_whereis(const char *name, tr_ref *out);

/* ------------------------------------------------------------------ */
/* Links and monitors                                                  */
/* ------------------------------------------------------------------ */

/*
 * Links are two-way: when either end ends abnormally the other ends
 * with the same reason, unless it traps exits, in which case it gets a
 * TR_TAG_EXIT message instead (it also gets one for a normal exit).
 * tr_link to a dead actor returns TR_ENOPROC (and sends no signal).  An
 * actor whose init fails sends no exit signals: tr_spawn reports it.
 * The main context always traps exits.
 * Exit signals and down notices travel the control lane: never dropped,
 * never queued behind a full mailbox.
 */
int tr_link(tr_ref peer);
int tr_unlink(tr_ref peer);
/* Sets whether the calling actor traps exits; returns the old setting
 * through *old (may be NULL).  TR_ESTATE outside an actor. */
int tr_trap_exits(bool on, bool *old);

/*
 * Monitors are one-way: when target ends, the caller gets one
 * TR_TAG_DOWN message with the reason (noproc if it was already dead).
 * *mon identifies the monitor for tr_demonitor().
 */
typedef struct tr_mon {
	uint64_t id;
} tr_mon;

int tr_monitor(tr_ref target, tr_mon *mon);
/* Removes a monitor; a DOWN already queued for it stays queued.
 * TR_ENOENT if it already fired or is unknown. */
int tr_demonitor(tr_mon mon);

/* ------------------------------------------------------------------ */
/* Introspection                                                       */
/* ------------------------------------------------------------------ */

typedef struct tr_actor_info {
	tr_ref ref;
	tr_placement placement;
	char behavior[TR_NAME_MAX + 1];
	char name[TR_NAME_MAX + 1]; /* "" if unregistered */
	uint32_t mailbox_depth;     /* user messages waiting */
	uint32_t mailbox_capacity;
	uint64_t msgs_in;  /* user messages handled, replies received */
	uint64_t msgs_out; /* messages sent, calls made, replies given */
	int pid; /* OS process running it: a wrapped program's own, else
	            the process hosting the actor */
	/* Delayed sends (tr_send_after) to it, from any process of the
	 * node, not yet fired or canceled: messages still to come past
	 * its capacity. */
	uint32_t timers;
	/* How long its current callback has run without returning, in ms
	 * (0: it is in none).  A callback that never returns shows here;
	 * a scheduled actor's also holds up the others of its scheduler,
	 * unless it is `waiting`. */
	uint64_t callback_ms;
	bool waiting; /* that callback waits in tr_call, tr_recv, a send */
} tr_actor_info;

/* Facts about a live actor of the node, read from its process's slot
 * table (no connection to it is made).  TR_ENOPROC if gone;
 * TR_ERESOURCE if that table could not be opened (out of
 * descriptors). */
int tr_actor_info_get(tr_ref ref, tr_actor_info *out);

/* ------------------------------------------------------------------ */
/* Supervisors                                                         */
/* ------------------------------------------------------------------ */

/*
 * A supervisor is an actor of the calling process (a thread, or a
 * scheduled actor: see tr_sup_spec.placement) that starts children --
 * of any placement, and other supervisors -- links to them, and
 * restarts them by Erlang/OTP's rules.  It is built on the calls
 * above (spawn, links, monitors, stop) and nothing else.
 *
 *  strategy   one_for_one: restart the child that ended;
 *             one_for_all: stop the others (newest first), restart all;
 *             rest_for_one: stop and restart it and those started after;
 *             simple_one_for_one: children of one template, added with
 *             tr_sup_start_child(), restarted one for one.
 *  restart    permanent: always; transient: unless it ended normal or
 *             shutdown (any code); temporary: never (not even by
 *             one_for_all), and it is forgotten when it ends.
 *  restarts   a start that fails is tried again, and again, each try
 *             counting as a restart, until one works or the intensity
 *             is used up.  Each try is a message the supervisor sends
 *             itself (OTP's try_again): calls and stop requests that
 *             came meanwhile are served between two tries, so a
 *             supervisor in a restart loop answers within the time of
 *             one start.  one_for_all and rest_for_one restart their
 *             group in start order; if one member fails to start, its
 *             retry restarts the group again (one_for_all stops the
 *             members started meanwhile, reason shutdown, and starts
 *             them all in order; rest_for_one starts from the failed
 *             member on).
 *  intensity  more than `intensity` restarts within `period_ms` and the
 *             supervisor stops all its children and ends with reason
 *             shutdown(1) ("reached max restart intensity"), which its
 *             own supervisor then handles.  OTP's defaults: 1 in 5000 ms.
 *             As in OTP, intensities multiply up a tree: a child under
 *             two supervisors of intensity 3 may be restarted 3 x 4 times
 *             before the top gives up.
 *  backoff    optional: a restart waits backoff_initial_ms, doubling at
 *             each further restart (or failed start) of that child up to
 *             backoff_max_ms, back to the initial delay once the child
 *             has run for backoff_reset_ms.  Restarting children are in
 *             state TR_CHILD_RESTARTING meanwhile; under one_for_all and
 *             rest_for_one the rest of the group is stopped at once and
 *             waits with it, to start in start order.
 *  shutdown   per child: ask it to stop (reason shutdown), wait up to
 *             shutdown_ms, then kill it (tr_kill).  TR_SHUTDOWN_BRUTAL
 *             kills at once; TR_SHUTDOWN_INFINITY waits as long as it
 *             takes (the default for child supervisors; 5000 ms for
 *             others).  Children start in order, each once its init has
 *             returned, and stop in reverse order -- but the children of
 *             a simple_one_for_one stop all at once, in parallel, within
 *             one shutdown time (as in OTP).  A thread or a scheduled
 *             actor cannot be killed in the middle of a callback (see
 *             tr_kill): one that outlives its shutdown time and a grace
 *             of 500 ms after the kill is *stuck* -- logged on stderr,
 *             listed as
 *             TR_CHILD_STUCK with its ref, and no longer waited for; when
 *             its callback returns at last it ends, and is then handled
 *             as stopped (restarted, if a group restart wanted it).
 *  ignore     a child whose init returns TR_IGNORE is not running and
 *             no failure: kept as TR_CHILD_IGNORED (restart_child may
 *             start it later), except temporary children and those of a
 *             simple_one_for_one, which are not kept (OTP).
 *  significant / auto_shutdown (OTP 24): with TR_AUTO_ANY_SIGNIFICANT
 *             the supervisor ends (reason shutdown) when any significant
 *             child ends by itself without being restarted; with
 *             TR_AUTO_ALL_SIGNIFICANT, when all of them have.  A child
 *             stopped by its supervisor (terminate_child, a sibling's
 *             group restart) does not count.  As in OTP, a significant
 *             child under auto_shutdown never, and a simple_one_for_one
 *             with an auto_shutdown, are refused (TR_EINVAL).
 */
typedef enum tr_strategy {
	TR_ONE_FOR_ONE = 0,
	TR_ONE_FOR_ALL = 1,
	TR_REST_FOR_ONE = 2,
	TR_SIMPLE_ONE_FOR_ONE = 3,
} tr_strategy;

typedef enum tr_restart {
	TR_PERMANENT = 0,
	TR_TRANSIENT = 1,
	TR_TEMPORARY = 2,
} tr_restart;

typedef enum tr_auto_shutdown {
	TR_AUTO_NEVER = 0,
	TR_AUTO_ANY_SIGNIFICANT = 1,
	TR_AUTO_ALL_SIGNIFICANT = 2,
} tr_auto_shutdown;

#define TR_SHUTDOWN_DEFAULT 0
#define TR_SHUTDOWN_BRUTAL (-1)
#define TR_SHUTDOWN_INFINITY (-2)
/* intensity: 0 means OTP's default (1); this means "no restarts". */
#define TR_NO_RESTARTS UINT32_MAX
/* The reason a supervisor ends with when it gives up. */
#define TR_SUP_GAVE_UP 1

typedef struct tr_sup_spec tr_sup_spec;

typedef struct tr_child_spec {
	const char *id;         /* unique among its siblings (required) */
	tr_spec start;          /* how to start it; start.name names it */
	const tr_sup_spec *sup; /* or: the child is this supervisor */
	tr_restart restart;
	int32_t shutdown_ms; /* TR_SHUTDOWN_* or a timeout in ms */
	bool significant;
	/*
	 * Nodes of the cluster to run it on, in order of preference (see
	 * "Distribution").  At each start and restart the supervisor takes
	 * the first that is this node or whose session is up
	 * (tr_node_lookup) and starts the child there (start.node ignored);
	 * if none is, the start fails with TR_ENOCONN -- TR_ENOTSUP if this
	 * node is in no cluster -- and, as any failed start in OTP, is
	 * retried and counted against the restart intensity.  An empty list
	 * or a name of 0 or more than TR_NAME_MAX bytes is TR_EINVAL, and so
	 * is a supervisor child with nodes or start.node: a supervisor runs
	 * in its supervisor's process.  A child with nodes, or whose
	 * start.node is another node, restarts after a backoff of 1000 ms at
	 * first (doubling up to backoff_max_ms) when its supervisor has no
	 * backoff (backoff_initial_ms 0): a partition must not use up the
	 * restart intensity in milliseconds.  Copied by the supervisor.
	 */
	const char *const *nodes; /* NULL-terminated; the first up at each
	                             start; overrides start.node */
} tr_child_spec;

struct tr_sup_spec {
	tr_strategy strategy;
	uint32_t intensity;          /* 0 = 1 (OTP); TR_NO_RESTARTS */
	uint32_t period_ms;          /* 0 = 5000 */
	uint32_t backoff_initial_ms; /* 0 = restart at once */
	uint32_t backoff_max_ms;     /* 0 = 30000 */
	uint32_t backoff_reset_ms;   /* 0 = 10000 */
	tr_auto_shutdown auto_shutdown;
	const tr_child_spec *children; /* simple_one_for_one: exactly one,
	                                  the template (not started) */
	size_t nchildren;
	/* Where the supervisor itself runs: TR_PLACE_THREAD, a thread of
	 * its own; TR_PLACE_SCHEDULED, a scheduled actor (some 1.3 KiB
	 * instead of a thread: for many small supervisors, and for
	 * supervising scheduled children on their own scheduler); or
	 * TR_PLACE_AUTO (0): a thread, unless TROUPE_SUP_PLACEMENT=
	 * scheduled is in the environment (TROUPE_PLACEMENT does not
	 * apply).  Fork and exec are refused (TR_EINVAL): a supervisor
	 * runs in its caller's process. */
	tr_placement placement;
};

/*
 * Checks a supervisor spec (and nested ones) without starting anything:
 * TR_OK, or TR_EINVAL with a precise message in err ("child 'db':
 * duplicate id", "child 'web': negative shutdown", ...).  err may be
 * NULL.
 */
int tr_sup_check(const tr_sup_spec *spec, char *err, size_t errlen);

/*
 * Starts a supervisor and, in order, its children; returns once all have
 * started.  The spec is copied.  A child that fails to start stops the
 * ones started before it (newest first) and fails the start: TR_EINIT,
 * with *why = that child's reason.  name (may be NULL) registers the
 * supervisor; link links it to the caller.  Errors: TR_EINVAL (see
 * tr_sup_check), as tr_spawn.
 */
int tr_sup_start(const tr_sup_spec *spec, const char *name, bool link,
    tr_ref *out, tr_reason *why);
/*
 * tr_sup_start, which on TR_EINIT also names the child that failed
 * (OTP's {failed_to_start_child, Id, Reason}): its path from this
 * supervisor, "db", or "inner/db" for a child of a child supervisor,
 * written into child (childlen bytes, NUL-terminated, truncated if need
 * be; "" on any other result).  child may be NULL.
 */
int tr_sup_start_ex(const tr_sup_spec *spec, const char *name, bool link,
    tr_ref *out, tr_reason *why, char *child, size_t childlen);

/*
 * Dynamic children; calls to a supervisor of this process.  They are
 * answered between two restart attempts, never held up by a restart
 * loop (see `restarts` above).
 * start_child: adds a child and starts it (for simple_one_for_one, child
 * is NULL or gives only start.init_arg, and the template is used; ids
 * are made up: "<template id>.<n>").  TR_OK with *out = TR_REF_NIL if
 * its init returned TR_IGNORE.  TR_EEXIST if the id is in use: *out is
 * then the running child's ref (OTP's already_started), or TR_REF_NIL if
 * that child is not running (already_present); TR_EEXIST also if the
 * child's name is taken, *out being its holder.  TR_EINIT with *why.
 * TR_EINVAL for a bad spec (tr_sup_check's rules).
 * terminate_child: stops it (its spec stays, state stopped; a temporary
 * child and a simple_one_for_one's are forgotten); TR_OK also for a
 * child that is not running, and for a simple_one_for_one's child that
 * is gone already.  restart_child: starts a stopped (or ignored) child
 * again.  delete_child: forgets a stopped one.  TR_ENOENT for an
 * unknown id, TR_ESTATE for a child in the wrong state (running,
 * restarting, stuck), TR_ENOTSUP for restart_child and delete_child on
 * a simple_one_for_one (as OTP's {error, simple_one_for_one}).
 */
int tr_sup_start_child(
    tr_ref sup, const tr_child_spec *child, tr_ref *out, tr_reason *why);
int tr_sup_terminate_child(tr_ref sup, const char *id);
int tr_sup_restart_child(tr_ref sup, const char *id, tr_ref *out);
int tr_sup_delete_child(tr_ref sup, const char *id);

typedef enum tr_child_state {
	TR_CHILD_RUNNING = 0,
	TR_CHILD_RESTARTING = 1, /* its restart is pending: a backoff, a
	                            retry after a failed start, its group */
	TR_CHILD_STOPPED = 2,
	TR_CHILD_IGNORED = 3, /* its init returned TR_IGNORE */
	TR_CHILD_STUCK = 4,   /* stopped but still running: a thread that
	                         outlived its shutdown time in a callback */
} tr_child_state;

typedef struct tr_child_info {
	char id[TR_NAME_MAX + 1];
	tr_ref ref; /* TR_REF_NIL unless running or stuck */
	tr_child_state state;
	tr_placement placement;
	bool supervisor;
	uint32_t restarts;
	uint64_t uptime_ms; /* since its last start; 0 unless running */
} tr_child_info;

/* Supervisors of this process log each state change of their children
 * (started, exited with its reason, restarted, gave up) to stderr, one
 * line each, while on.  Off by default; the troupe command turns it on. */
void tr_sup_log(bool on);

/* Lists up to max children in start order; *n is how many there are.
 * TR_EMSGSIZE if the list does not fit in one message (TR_MSG_MAX --
 * some 400,000 children -- or tr_options.max_body). */
int tr_sup_children(tr_ref sup, tr_child_info *out, size_t max, size_t *n);

/*
 * Ends an actor now, without running its terminate callback: a process
 * placement's process is killed with SIGKILL (a wrapped program too);
 * a thread actor is asked to stop with TR_EXIT_KILL -- a thread cannot
 * be killed, so one stuck in a callback ends only when it returns (and
 * with the reason of the first stop request it got, if one came before
 * the kill: a supervisor's shutdown then runs terminate after all).
 * TR_ENOPROC if already gone.
 */
int tr_kill(tr_ref ref);

/* ------------------------------------------------------------------ */
/* Trees from files                                                    */
/* ------------------------------------------------------------------ */

/*
 * A supervision tree written as a YAML file (docs/config.md has the
 * format).  tr_tree_load parses and checks it -- syntax, unknown keys,
 * wrong types, unknown behaviors, missing programs -- without starting
 * anything, and without needing tr_init(): behaviors must be registered
 * (or the file's plugins loaded, which register theirs) before the
 * check.  On failure it returns TR_EINVAL and, if errors is not NULL,
 * *errors holds one line per error, "file:line:column: what is wrong",
 * to be freed with free().  Plugins named in the file are shared
 * objects loaded with dlopen; each must export
 * `void troupe_plugin_init(void)`, which registers its behaviors.  Load
 * trees before tr_init() when they have plugins: fork members only have
 * the code that was loaded when the fork server was made.  TR_ENOMEM
 * (with *errors NULL) if memory ran out.
 */
typedef struct tr_tree tr_tree;

int tr_tree_load(const char *path, tr_tree **out, char **errors);
/* The root supervisor's spec; valid until tr_tree_free(). */
const tr_sup_spec *tr_tree_spec(const tr_tree *tree);
/* The tree's name: the root supervisor's `name`, else the file's base
 * name without extension. */
const char *tr_tree_name(const tr_tree *tree);
/*
 * The runtime options the file's `runtime:` map gives, for tr_init():
 * sets in *opts the fields the file sets (schedulers -- 0 for `auto`
 * --, stack_size, and cluster: a pointer to the tree's copy of its
 * `cluster:` section, valid until tr_tree_free(), whose node is
 * $TROUPE_NODE if set) and leaves the others as they are.  TR_EINVAL if
 * tree or opts is NULL.  Any thread.
 */
int tr_tree_options(const tr_tree *tree, tr_options *opts);
void tr_tree_free(tr_tree *tree);

/*
 * Runs the tree in path until it is stopped -- what `troupe run` does,
 * for an application that registers its own behaviors:
 *
 *     int main(void) {
 *             tr_behavior_register(&mine);
 *             return tr_tree_main("tree.yaml");
 *     }
 *
 * Loads and checks the file (errors to stderr, return 2), calls
 * tr_init(), starts the tree (wrapped programs' output goes to stdout
 * and stderr, each line prefixed with the child's path), logs its state changes
 * to stderr, answers `troupe status|stop|start|restart`, and on SIGINT or
 * SIGTERM stops it (newest first) and returns 0; returns 1 if the root
 * supervisor gave up.  Blocks SIGINT and SIGTERM in the calling thread (do not
 * call tr_init() before it: it does).  In a process that troupe's exec
 * placement started (a tree's `command` naming this very program), it
 * runs the actor asked for instead: tr_init() + tr_exec_main().
 */
int tr_tree_main(const char *path);

/*
 * A listening socket of the running tree's file (its `sockets:` map,
 * docs/config.md), for the children that serve it: *fd is a non-blocking
 * listening TCP socket, ready for uv_tcp_open() + uv_listen() on
 * tr_loop().  tr_tree_main() opens the sockets before tr_init(), so the
 * root process and every fork member share each one -- one accept
 * queue, which a member that ends (a crash, a rolling restart) leaves
 * intact for the others.  The descriptor is the tree's: do not close it
 * (a member that ends closes only its own copy).  Errors: TR_ENOENT if
 * the tree has no socket of that name, or it is not inherited here (an
 * exec'd program: descriptors are close-on-exec); TR_EINVAL for a NULL
 * or empty name or a NULL fd.  Any thread.
 */
int tr_tree_socket(const char *name, int *fd);

/* ------------------------------------------------------------------ */
/* Distribution                                                        */
/* ------------------------------------------------------------------ */

/*
 * A node is one root process (the one that called tr_init()) with its
 * fork and exec members.  With tr_options.cluster set, the root also
 * listens for other nodes of the same cluster and talks to them over
 * nng tcp or tls+tcp; every ref names its node (tr_ref.node, the node's
 * id: random per start, so a restarted node is a new incarnation whose
 * old refs fail).  tr_send, tr_call, tr_reply, tr_link, tr_monitor,
 * tr_stop, tr_kill and refs inside bodies work across nodes unchanged:
 *  - order: what one actor sends to another arrives in order, its exit
 *    signal after its last messages;
 *  - capacity: a send to an actor of another node takes a credit at the
 *    sender (a window per receiver, given back as the receiving node
 *    puts messages into its mailbox): TR_EFULL / waiting as locally; a
 *    full mailbox over there holds up no one else;
 *  - a node that dies or is cut off fires every link and monitor on its
 *    actors with reason TR_EXIT_NOCONNECTION (code = its node id), on
 *    both sides, within cluster.timeout_ms; calls to its actors end
 *    with TR_ENOCONN at once, and sends fail with TR_ENOCONN until a new
 *    session is up.  A session that went down is gone: nothing sent in
 *    it is delivered after the DOWN.  The next one starts clean.
 *  - big messages (up to TR_MSG_MAX) go in 64 KiB fragments, taking
 *    turns with other senders' messages: a 16 MiB message delays a
 *    small call by a fragment, not by itself.
 * Frames of member processes (fork, exec) go through their root.
 */
typedef struct tr_cluster_opts {
	const char *cluster;      /* cluster name, the same on every node
	                             (required) */
	const char *node;         /* this node's name, unique in the cluster and
	                             the name in its certificate (required) */
	const char *listen;       /* "tls+tcp://ip:port", or "tcp://ip:port"
	                             with insecure (required) */
	const char *const *seeds; /* listen URLs of other nodes to join,
	                             NULL-terminated; NULL: none */
	/* Mutual TLS: PEM files of the cluster CA, this node's certificate
	 * and its private key (key may be NULL if the certificate file has
	 * it).  Both ends verify the other's certificate against the CA,
	 * and a dialer checks the listener's name (its CN or a DNS SAN)
	 * against the node name it expects. */
	const char *ca;
	const char *cert;
	const char *key;
	bool insecure;       /* plain tcp://, no authentication: tests and
	                        closed networks only; both ends must say so */
	uint32_t tick_ms;    /* 0: 500.  Every session is ticked this often
	                        when nothing else went */
	uint32_t timeout_ms; /* 0: 2500.  Silence after which a node is
	                        down: a silent partition is noticed within
	                        it (the last tick came up to tick_ms before
	                        the cut); at least 2 ticks */
	/* Membership: NULL or "static" (the seeds, then a full mesh of
	 * every node any node knows), or "etcd": members are the keys
	 * under /troupe/<cluster>/nodes/ of the etcd endpoints, each held
	 * by its node's lease (etcd_ttl_ms, 0: 5000); a node that cannot
	 * renew its lease in time leaves the cluster (and rejoins) */
	const char *membership;
	const char *const *etcd; /* "http://127.0.0.1:2379", ...,
	                            NULL-terminated */
	uint32_t etcd_ttl_ms;
} tr_cluster_opts;

/* A running node's id: tr_ref.node of its actors (0 before tr_init). */
uint32_t tr_node_id(void);

typedef enum tr_node_state {
	TR_NODE_CONNECTING = 0, /* dialed or handshaking */
	TR_NODE_UP = 1,         /* a session is up */
	TR_NODE_DOWN = 2,       /* its session went down; redialing */
} tr_node_state;

typedef struct tr_node_info {
	char name[TR_NAME_MAX + 1];
	uint32_t id; /* the incarnation of its last session; 0: none yet */
	tr_node_state state;
	char url[128];          /* its listen URL */
	uint64_t last_heard_ms; /* ms since anything arrived from it */
	uint32_t rtt_us;        /* tick round trip, last measured */
	uint64_t sessions;      /* sessions it had with us */
	uint64_t frames_in, frames_out;
} tr_node_info;

/*
 * The other nodes this node knows (not itself), up to max, into out;
 * *n = how many it knows.  TR_ENOTSUP if not in a cluster.  A root
 * only: in a member TR_ESTATE.
 */
int tr_nodes(tr_node_info *out, size_t max, size_t *n);

/* The id of a node whose session is up, by name: TR_OK, TR_ENOCONN
 * (known, not up), TR_ENOENT (unknown), TR_ENOTSUP. */
int tr_node_lookup(const char *name, uint32_t *id);

/*
 * Node monitors (Erlang monitor_node/2): while on, the caller gets a
 * TR_TAG_NODEUP message each time a session with that node comes up and
 * TR_TAG_NODEDOWN each time it goes down; body [name, id] (a string and
 * an unsigned; tr_msg_unpackf "su").  A node that is up as the monitor
 * starts gives a NODEUP at once.  Sender: TR_REF_NIL.  Monitors are
 * sets: on twice is on.  Any context of the node's root; TR_ESTATE
 * elsewhere, TR_ENOTSUP if not in a cluster.
 */
#define TR_TAG_NODEUP 0xFFFF0005u
#define TR_TAG_NODEDOWN 0xFFFF0006u
int tr_node_monitor(const char *name, bool on);

/*
 * Names unique in the whole cluster (Erlang's global), held by this
 * node's etcd lease: they vanish with the node.  TR_ENOTSUP unless the
 * membership is etcd (embedded membership cannot promise uniqueness
 * across a partition); TR_EEXIST if another actor has it;
 * TR_ETRANSPORT if etcd cannot be reached.  whereis answers from a
 * cache kept by a watch.
 */
int tr_register_global(const char *name, tr_ref ref);
int tr_unregister_global(const char *name);
int tr_whereis_global(const char *name, tr_ref *out);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif /* TROUPE_H */
