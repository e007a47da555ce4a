/*
 * watch.h -- private to troupe: the listener watch, as the rest of the
 * library sees it.  Not API.  (listener.h has the nng side.)
 *
 * nng 1.5.2 can stop an ipc listener for good: a peer that goes before
 * the SP header exchange is over (a bare connect() and close(), a
 * process killed while it dials) leaves it taking no more connections,
 * while the transport still completes them, so that a dialer believes
 * it is connected and what it sends is never read (watch.c says where;
 * nanomsg/nng#1518, fixed in nng 1.6).  Every process runs one watch: a
 * thread with a registry of the ipc listeners it must keep answering.
 * It checks a listener by dialing it and seeing the connection accepted
 * by the socket; one that does not accept gets its address moved to a
 * new listener, and the old one is closed once its last working
 * connection is gone.  It checks a listener when asked (a dialer that
 * could not get through) and, for listeners registered as periodic,
 * every TRI_WATCH_PERIOD_MS.
 *
 * An accept note is what a dialer of another process needs to tell an
 * accepted connection from a dead one, and to ask for a check: it lives
 * where both processes see it (the receiver's slot record).
 */
#ifndef TRI_WATCH_H
#define TRI_WATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* How often periodic listeners are checked, and how long a check waits
 * for its own connection to be accepted before the listener counts as
 * stopped (nng cools an accept loop down for 100 ms after some errors,
 * so less would replace listeners that only pause; replacing one that
 * works does no harm, but takes a little time).  A check a dialer asked
 * for waits less: the dialer waited already (actors/target.c). */
#define TRI_WATCH_PERIOD_MS 200
#define TRI_WATCH_PROBE_MS 150
#define TRI_WATCH_ASKED_MS 50

/* How many of the last accepted connections a note remembers. */
#define TRI_NOTE_RING 8

typedef struct tri_accept_note {
	/* Bumped for every connection the socket accepted on its watched
	 * listeners; a futex word. */
	_Atomic uint32_t seq;
	/* The dialing process of accepted connection s, at
	 * pid[s % TRI_NOTE_RING]. */
	_Atomic int32_t pid[TRI_NOTE_RING];
	/* 1: a dialer asks the owner to check the listener; the watch sets
	 * it back to 0 when it has (a futex word). */
	_Atomic uint32_t check;
	/* Bumped each time the listener was replaced: a connection made
	 * before that waits in the old one for ever. */
	_Atomic uint32_t relistens;
} tri_accept_note;

/* Clears a note for a new listener (seq keeps counting). */
void tri_note_reset(tri_accept_note *n);
/* The note's count now: what tri_note_wait_accepted() waits past. */
uint32_t tri_note_seq(tri_accept_note *n);
/* Waits up to timeout_ms until a connection of this process was
 * accepted after `since`.  Whether one was. */
bool tri_note_wait_accepted(tri_accept_note *n, uint32_t since, int timeout_ms);
/* Asks the listener's owner to check it: sets n->check, bumps the
 * owner's watch word *wake and wakes its watch. */
void tri_note_request_check(tri_accept_note *n, _Atomic uint32_t *wake);
/* Waits up to timeout_ms for a requested check to be done. */
bool tri_note_wait_checked(tri_accept_note *n, int timeout_ms);

/*
 * Starts this process's watch (counted: each start needs a stop).  It
 * sleeps on *wake, a futex word that other processes bump to ask for a
 * check (in the process's slot table); NULL: a word of its own, for a
 * process that no other process asks.  TR_OK, TR_ESYSTEM.
 */
int tri_watch_start(_Atomic uint32_t *wake);
/* Stops it (the last stop joins the thread).  Before *wake is unmapped. */
void tri_watch_stop(void);
/* Listeners moved to a new listener since the process started. */
uint64_t tri_watch_repairs(void);
/* Checks run since the process started, and the thread CPU time the
 * watch spent on everything (ns), for the benchmark of its cost. */
uint64_t tri_watch_checks(void);
uint64_t tri_watch_cpu_ns(void);

/* A futex on a 32-bit word that may be shared between processes:
 * sleeps while *w == val, at most timeout_ms (negative: no limit). */
void tri_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms);
void tri_futex_wake(_Atomic uint32_t *w);

#endif
