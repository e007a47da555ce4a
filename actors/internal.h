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
#include "socket.h"
#include "troupe.h"

/* ------------------------------------------------------------------ */
/* Messages (msg.c)                                                    */

struct tr_msg {
	struct tr_msg *next; /* queue link, owner thread only */
	uint32_t tag;
	uint8_t kind;        /* TRI_K_* once received; 0 if made locally */
	bool counted;        /* holds a mailbox slot (depth) */
	tr_ref sender;
	uint64_t corr;
	uint64_t mon;        /* DOWN notices: the monitor id */
	tr_reason reason;    /* EXIT/DOWN notices */
	uint8_t *data;
	size_t len;
	size_t cap;          /* 0: data points into this allocation */
	msgpack_packer pk;
	msgpack_zone *zone;  /* made by the first tr_msg_body() */
	msgpack_object obj;
	bool parsed;
};

/* A received message built from a decoded frame (body copied). */
tr_msg *tri_msg_from_frame(const tri_frame *f);
/* A system notice (TR_TAG_EXIT / TR_TAG_DOWN) as a message. */
tr_msg *tri_msg_notice(uint32_t tag, tr_ref who, tr_reason why, uint64_t mon);
/* Packs [kind, code] (+ mon) into a small body for control frames. */
size_t tri_reason_body(uint8_t *buf, size_t len, tr_reason r, uint64_t mon);
int tri_reason_parse(const uint8_t *body, size_t len, tr_reason *r, uint64_t *mon);

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

typedef struct tri_mailbox {
	tri_inbox *inbox; /* our pull socket */
	tri_port *port;   /* push socket to our inbox, for senders here */

	pthread_mutex_t mtx;
	pthread_cond_t arrived; /* owner waits for arrivals */
	pthread_cond_t space;   /* senders wait for depth < capacity */
	tri_buf **arr;          /* arrivals not yet decoded */
	size_t narr, carr;
	tri_buf **spare;        /* swapped with arr on drain */
	size_t cspare;
	bool owner_waiting;
	uint32_t space_waiters;
	bool closed;            /* no more reservations */
	uv_async_t *wake;       /* the owner's loop, if it runs one */

	uint32_t capacity;
	_Atomic uint32_t depth; /* user messages reserved and not yet taken */
} tri_mailbox;

typedef struct tri_ctx tri_ctx;

void tri_mailbox_init(tri_mailbox *mb, uint32_t capacity);
/* Opens the sockets; c->ref must be set. */
int tri_mailbox_open(tri_ctx *c);
/* Refuses further sends and closes the sockets.  Returns frames lost. */
void tri_mailbox_close(tri_ctx *c);
/* Takes one slot.  TR_OK, TR_EFULL, TR_ETIMEDOUT, TR_ENOPROC (closed). */
int tri_mailbox_reserve(tri_mailbox *mb, int timeout_ms, bool self);
void tri_mailbox_release(tri_mailbox *mb, uint32_t n);
/* Owner: decodes what arrived into the context's queues.  Returns the
 * number of frames routed. */
size_t tri_mailbox_drain(tri_ctx *c);
/* Owner: waits until something arrives or the deadline (ms on the
 * monotonic clock, or UINT64_MAX) passes.  false on timeout. */
bool tri_mailbox_wait(tri_ctx *c, uint64_t deadline);

/* ------------------------------------------------------------------ */
/* Contexts                                                            */

enum tri_ctx_kind { TRI_CTX_MAIN = 1, TRI_CTX_THREAD = 2 };

typedef struct tri_link {
	tr_ref peer;
	struct tri_link *next;
} tri_link;

typedef struct tri_monitor {
	tr_ref watcher;
	uint64_t id;
	struct tri_monitor *next;
} tri_monitor;

typedef struct tri_mref {
	uint64_t id;
	tr_ref target;
} tri_mref;

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
	tr_msg *call_reply;
	bool call_down;
	struct tri_mref *mons; /* monitors we hold, for DOWN filtering */
	size_t nmons, cmons;
	uint32_t in_callback;

	/* thread actors */
	pthread_t thread;
	uv_loop_t loop;
	uv_async_t async;
	uv_idle_t idle;
	bool idle_on;

	/* under lmtx */
	pthread_mutex_t lmtx;
	bool dead;
	tri_link *links;
	tri_monitor *monitors; /* who watches us */

	/* under the registry lock */
	char name[TR_NAME_MAX + 1];
	bool finished; /* thread done with the runtime */

	_Atomic uint64_t msgs_in;
	_Atomic uint64_t msgs_out;
};

void tri_ctx_hold(tri_ctx *c);
void tri_ctx_rele(tri_ctx *c);

/* The calling thread's context, or NULL. */
tri_ctx *tri_self(void);
void tri_set_self(tri_ctx *c);

/* Delivers a frame to a local context, bypassing capacity (control
 * frames, replies, timers).  TR_ENOPROC if its mailbox is closed. */
int tri_deliver(tri_ctx *c, const tri_frame *f);

/* Routes one control or user frame that arrived for c (owner thread). */
void tri_route(tri_ctx *c, const tri_frame *f);

/* Actor side: run control requests, possibly marking c stopping. */
void tri_run_control(tri_ctx *c);

/* Thread actors (actor.c). */
int tri_main_ctx_new(tri_ctx **out);
int tri_actor_spawn(const tr_spec *spec, const tri_behavior *b, tr_ref *out,
    tr_reason *why);

/* Death (link.c): marks c dead and tells links and monitors. */
void tri_notify_exit(tri_ctx *c, tr_reason why);
/* The monitors a context holds (owner thread only). */
int tri_mons_add(tri_ctx *c, uint64_t id, tr_ref target);
bool tri_mons_take(tri_ctx *c, uint64_t id, tr_ref *target);
/* Monitor records on the watched side. */
int tri_monitor_add(tri_ctx *target, tr_ref watcher, uint64_t id);
void tri_monitor_remove(tri_ctx *target, uint64_t id);
void tri_unlink_local(tri_ctx *c, tr_ref peer);
/* Sends c a control frame (EXIT, DOWN, STOP) about `about`. */
int tri_send_control(tri_ctx *to, int kind, tr_ref about, tr_reason why,
    uint64_t mon);

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
int tri_registry_name(const char *name, tr_ref ref);
int tri_registry_unname(const char *name);
int tri_registry_whereis(const char *name, tr_ref *out);
void tri_registry_name_of(tri_ctx *c, char *buf, size_t len);

/* Placement (placement.c). */
tr_placement tri_placement_choose(const tr_spec *spec);

/* ------------------------------------------------------------------ */
/* Runtime (runtime.c)                                                 */

typedef struct tri_runtime {
	bool running;
	uint32_t node;
	uint32_t proc;
	uint32_t capacity;
	uint32_t max_body;
	tri_ctx *main;
	pthread_t main_thread;
	_Atomic uint64_t next_mon;
	_Atomic uint64_t seq;

	/* actor threads still running, for shutdown */
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int threads;

	_Atomic uint64_t sent, delivered, dead_letters, malformed, late_replies,
	    spawned, exited;
} tri_runtime;

extern tri_runtime tri_rt;

bool tri_running(void);
uint64_t tri_now_ms(void);
void tri_deadline_ts(uint64_t deadline_ms, struct timespec *ts);
uint64_t tri_deadline(int timeout_ms);
int tri_err_uv(int uv_err);

/* Timers (timer.c). */
int tri_timer_start(void);
void tri_timer_stop(void);

#define TRI_STAT(field) atomic_fetch_add_explicit(&tri_rt.field, 1, memory_order_relaxed)
#define TRI_STAT_ADD(field, n) atomic_fetch_add_explicit(&tri_rt.field, (n), memory_order_relaxed)

#endif
