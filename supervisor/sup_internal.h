/*
 * sup_internal.h -- private to troupe's supervisors: the state that
 * supervisor.c (the actor and its calls), sup_child.c (starting and
 * stopping children) and sup_restart.c (OTP's restart rules) share.
 * Not API.
 */
#ifndef TRS_SUP_INTERNAL_H
#define TRS_SUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sup_map.h"
#include "sup_nodes.h"
#include "sup_spec.h"
#include "troupe.h"

#define TRS_DEFAULT_PERIOD_MS 5000
#define TRS_DEFAULT_SHUTDOWN_MS 5000
#define TRS_DEFAULT_BACKOFF_MAX_MS 30000
#define TRS_DEFAULT_BACKOFF_RESET_MS 10000
/* A child's path in a failure report: "inner/db". */
#define TRS_PATH_MAX 256

typedef struct sup sup;

typedef struct child {
	tr_child_spec spec; /* our copy */
	/* Running, or stuck: that incarnation; indexed by the supervisor
	 * while not nil (set it with trs_set_ref). */
	tr_ref ref;
	tr_placement place; /* of that incarnation */
	/* The node that incarnation runs on -- or the last one ran on, or
	 * was tried on --, NULL for this one: a string of spec (start.node
	 * or an element of nodes).  placed: a node was picked once. */
	const char *node;
	bool placed;
	tr_child_state state;
	uint32_t restarts;
	uint64_t started_ms;
	uint32_t delay_ms; /* its next backoff delay */
	/* A restart waiting for its TAG_TRY_AGAIN message (state
	 * TR_CHILD_RESTARTING): the token the message carries, 0 if none,
	 * and its timer if it waits out a backoff.  A message whose token
	 * is no longer the child's is stale, and dropped. */
	uint64_t token;
	tr_timer timer;
	bool timed;
	/* Being stopped: the monitor we wait on, how far the stop went
	 * (STOP_*), and until when we wait.  A stop outlived by its
	 * deadline makes the child TR_CHILD_STUCK, still monitored. */
	tr_mon mon;
	int stop_phase;
	uint64_t stop_deadline;
	bool start_when_down; /* stuck: start it again once it is gone */
	bool awaited;         /* among the stops await_stops waits for */
	size_t pos;           /* its index in sup->kids */
	sup *sup;
} child;

enum {
	STOP_NONE = 0,
	STOP_ASKED,
	STOP_KILLED
};

struct sup {
	tr_sup_spec *spec; /* our copy */
	/* The children in start order.  A child removed leaves a hole
	 * (NULL) until the holes are many and the array is compacted
	 * between two messages, so that removing one costs O(1) with
	 * 10^5 children: code that walks kids skips the NULLs, and no one
	 * keeps an index across a message. */
	child **kids;
	size_t nkids, ckids, nholes;
	trs_map by_id;      /* every child, by the hash of its id */
	trs_map by_ref;     /* the children whose ref is not nil, by ref */
	uint64_t *restarts; /* times of restarts within the period */
	size_t nrestarts;
	uint64_t next_id;    /* simple_one_for_one: ids made up so far */
	uint64_t next_token; /* for try-again messages */
	tr_msg *
	    *stash; /* arrived while we waited for a DOWN: [hstash, nstash) */
	size_t hstash, nstash, cstash;
	tr_ref parent; /* linked by tr_sup_start, or nil */
	/* No more restarts: we gave up, shut ourselves down, or our parent
	 * ended. */
	bool ending;
	/* A stop request reached us while we waited (for a DOWN, or a
	 * spawn): what we were doing is abandoned, terminate follows. */
	bool canceled;
	bool scheduled;  /* we are a scheduled actor */
	char label[160]; /* for the log: "demo/sub" */
};

/* Tags of the messages a supervisor sends itself (below the calls'). */
enum {
	TAG_TRY_AGAIN = 0xFFFE0100u, /* body: [the child's id, its token] */
};

/* supervisor.c: the children and the log */
uint64_t trs_now_ms(void);
bool trs_logging(void);
void trs_say(const sup *s, const char *fmt, const char *id, const char *more);
size_t trs_index_of(const sup *s, const child *c);
void trs_remove_child(sup *s, child *c);
/* The child of that id, or NULL. */
child *trs_find_id(sup *s, const char *id);
/* The child whose current ref is r (running, being stopped or stuck),
 * or NULL. */
child *trs_find_ref(sup *s, tr_ref r);
/* Sets c->ref, and the index by ref with it. */
void trs_set_ref(sup *s, child *c, tr_ref r);
bool trs_is_simple(const sup *s);
/* Whether c is running or about to be (a restart pending). */
bool trs_active(const child *c);

/* sup_child.c: starting and stopping children */
/*
 * Starts c, linked to us, and waits for its init.  TR_OK: running, or
 * TR_CHILD_IGNORED if its init returned TR_IGNORE (ref nil).  Else
 * TR_CHILD_STOPPED and the error; *why (may be NULL) the reason
 * (error(code) for a spawn error), and path (may be NULL) the failing
 * child's path ("id", "id/grandchild...").  TR_ECANCELED also sets
 * s->canceled.
 */
int trs_start(sup *s, child *c, tr_reason *why, char *path, size_t pathlen);
/*
 * Stops the running children v[0..n) as OTP does, all at once: each is
 * monitored, unlinked, asked to stop (reason shutdown) or killed
 * (brutal), then waited for up to its shutdown time, then killed and
 * waited for again.  Returns with each STOPPED, or TR_CHILD_STUCK (a
 * thread that could not be killed in the middle of a callback: logged,
 * left monitored), or -- if a stop request reached us meanwhile
 * (s->canceled) -- still being stopped, for trs_stop_pending().  The
 * messages that arrive meanwhile are stashed.  Not for the restarting:
 * cancels their pending restart.
 */
void trs_stop(sup *s, child **v, size_t n);
/* terminate: finishes the stops that our own stop interrupted. */
void trs_stop_pending(sup *s);
/* A DOWN that is not a stop's (from who, for monitor mon): true if it
 * was a stuck child's. */
bool trs_stuck_down(sup *s, tr_ref who, uint64_t mon, tr_reason why);
/* Messages kept for after the current one. */
void trs_stash(sup *s, tr_msg *m);
/* Cancels c's pending restart (its message, its timer). */
void trs_cancel_restart(child *c);

/* sup_restart.c: OTP's rules */
/* c ended by itself (its EXIT) with why. */
void trs_child_exited(sup *s, child *c, tr_reason why);
/* A TAG_TRY_AGAIN for child id with token arrived. */
void trs_try_again(sup *s, const char *id, uint64_t token);
/* A stuck child ended at last; start it if it was due to be. */
void trs_start_late(sup *s, child *c);

#endif
