/*
 * slots.h -- private to troupe: the slot table of a process.  Not API.
 *
 * Every process of a node keeps, in a file of the node's run directory
 * mapped shared, one record per registry slot: the incarnation living
 * there and how full its mailbox is.  Senders in any process of the
 * node map the table of the receiver's process and take a mailbox slot
 * with one compare-and-swap, exactly as senders in the same process do;
 * so a send to a dead actor fails at once, and capacity pushes back on
 * senders whatever their placement.  Waiting senders sleep on a futex on
 * the record, which works across processes on a shared mapping.
 */
#ifndef TRI_SLOTS_H
#define TRI_SLOTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "troupe.h"
#include "watch.h"

/* Slots per process: the table is a sparse file, so only the records
 * ever used take memory (128 bytes each). */
#define TRI_SLOTS_MAX (1u << 21)
/* Changes with the layout: a process of another layout is refused. */
#define TRI_SLOTS_MAGIC \
	0x74727379u /* "trsy": homes, pid, timers, notes, goodbyes */

/*
 * A record's word: the incarnation (gen) in the high 32 bits, then a
 * `moving` bit, the actor's home (0: the actor's own inbox, a thread or
 * main context; k > 0: the inbox of scheduler k-1 of its process) and
 * the mailbox depth.  One CAS checks that the actor is the one meant,
 * that it is not being moved, and takes a slot; and tells the sender
 * where to send.
 */
#define TRI_SLOT_DEPTH_BITS 22
#define TRI_SLOT_HOME_BITS 9
/* The largest mailbox capacity. */
#define TRI_CAPACITY_MAX ((1u << TRI_SLOT_DEPTH_BITS) - 1u)
/* The most schedulers a process can have. */
#define TRI_HOMES_MAX ((1u << TRI_SLOT_HOME_BITS) - 1u)

/* A record's size: three cache lines, the first for what every send
 * touches (word, capacity, waiters, seq). */
#define TRI_SLOTREC_SIZE 192

/* busy_since: its callback waits (tr_call, tr_recv, a full mailbox). */
#define TRI_BUSY_BLOCKED (1ull << 63)
/* Entries of a table's record of timers pending for other processes. */
#define TRI_XTIMERS 256
/* Goodbyes one exiting process has outstanding at a time (target.c). */
#define TRI_BYE_MAX 256u

typedef struct tri_slotrec {
	_Atomic uint64_t word;
	uint32_t capacity;
	_Atomic uint32_t waiters;
	_Atomic uint32_t seq; /* futex word: bumped on every release */
	uint32_t placement;   /* tr_placement, for introspection */
	/* For introspection from any process (troupe status). */
	_Atomic uint64_t msgs_in;
	_Atomic uint64_t msgs_out;
	/* Delayed sends (timer.c) armed for it and not yet fired or
	 * canceled, by any process: gen in the high half (a count for an
	 * earlier incarnation is not this one's), the count in the low. */
	_Atomic uint64_t timers;
	_Atomic uint32_t named; /* it may have a registered name */
	/* Frames sent to a scheduled actor through its home's inbox and
	 * not yet routed to it: while any is in flight it is not moved to
	 * another scheduler (that keeps the order of every sender). */
	_Atomic uint32_t inflight;
	/* When its current callback began (ms, coarse monotonic clock; 0:
	 * in none), and TRI_BUSY_BLOCKED if it waits there: what `troupe
	 * status` and tr_actor_info_get() show of a callback that does not
	 * return. */
	_Atomic uint64_t busy_since;
	/* The OS process of a wrapped program (its actor is a thread of
	 * this process); 0: the table's process. */
	_Atomic int32_t pid;
	char behavior[TR_NAME_MAX + 1];
	char pad[TRI_SLOTREC_SIZE - 68 - (TR_NAME_MAX + 1)];
} tri_slotrec;

/* Timers a process has pending for one actor of another process. */
typedef struct tri_xtimer {
	tr_ref to;
	uint32_t n;
} tri_xtimer;

typedef struct tri_slottab {
	uint32_t magic;
	uint32_t proc;
	int32_t pid;
	_Atomic uint32_t alive;   /* cleared when the process is gone */
	_Atomic uint32_t orderly; /* set by the process as it exits */
	int32_t reason_kind;      /* its actor's reason, when orderly */
	int32_t reason_code;
	_Atomic uint32_t hiwater; /* 1 + the highest slot ever opened */
	_Atomic uint32_t leaving; /* set by the process as it starts to exit */
	/* The actor a fork or exec process was started for, once started:
	 * if the process ends before its READY reaches the spawner, the
	 * spawner still learns the ref (and its end). */
	tr_ref actor;
	/* The timers this process has pending for actors of other
	 * processes, counted in their records: a process that dies with
	 * some takes them along (they never fire), and the root takes them
	 * off those counts (tri_timers_settle).  Written by this process
	 * under its timer lock; read by the root once it is dead.  What
	 * does not fit is counted in xtimers_lost. */
	tri_xtimer xtimers[TRI_XTIMERS];
	uint32_t xtimers_lost;
	/* The process's listener watch sleeps on this futex word; a dialer
	 * that could not get through bumps it (watch.h). */
	_Atomic uint32_t watch;
	/* Goodbyes: as it exits, the process sends one on each of its
	 * ports to other processes, numbered; the receiver sets that bit
	 * once it has read everything before it, and bumps bye_seq (a
	 * futex word). */
	_Atomic uint32_t bye_seq;
	_Atomic uint32_t bye_bits[TRI_BYE_MAX / 32];
	/* Root: its gateway to other nodes (dist_gw.c), nil if the node
	 * is in no cluster.  Members send frames for other nodes there. */
	tr_ref gateway;
	/* The dead letters this process counted (its tr_stats), for the
	 * root to add to its own when the process ends. */
	_Atomic uint64_t dead_letters;
	/* Each scheduler's inbox listener (home k: home_note[k]), as note[]
	 * for an actor's own. */
	tri_accept_note home_note[TRI_HOMES_MAX + 1];
	tri_slotrec slot[TRI_SLOTS_MAX];
	/* Each slot's mailbox listener: accepted connections, and a
	 * dialer's request to check it (watch.h). */
	tri_accept_note note[TRI_SLOTS_MAX];
} tri_slottab;

/* Creates (and maps) this process's table in dir. */
int tri_slots_create(const char *dir, uint32_t proc, tri_slottab **out);
/* Maps the table of another process of the node: TR_OK; TR_ENOPROC if
 * it has none (never started, or gone); TR_ERESOURCE or TR_ENOMEM if
 * this process could not open or map it (it may well live). */
int tri_slots_map(const char *dir, uint32_t proc, tri_slottab **out);
void tri_slots_unmap(tri_slottab *t);
/* Removes the file of proc's table. */
void tri_slots_remove(const char *dir, uint32_t proc);

/* Notes that a slot is in use (for tri_slots_wake_all's bound). */
void tri_slots_used(tri_slottab *t, uint32_t slot);
/* Publishes a new incarnation in a slot (depth 0, counters 0), living
 * at `home` (see the word above). */
void tri_slot_open(tri_slotrec *r, uint32_t gen, uint32_t capacity,
    uint32_t placement, const char *behavior, uint32_t home);
/* Ends an incarnation; returns the slots still taken (dead letters). */
uint32_t tri_slot_close(tri_slotrec *r, uint32_t gen);
/* Takes a slot: TR_OK, TR_ENOPROC (not that gen, or process gone),
 * TR_EFULL (nowait), TR_ETIMEDOUT. */
int tri_slot_reserve(
    tri_slottab *t, tri_slotrec *r, uint32_t gen, int timeout_ms, bool nowait);
/* The same, never waiting; *home is where the actor lived as the slot
 * was taken.  TR_OK, TR_ENOPROC, TR_EFULL. */
int tri_slot_try(tri_slottab *t, tri_slotrec *r, uint32_t gen, uint32_t *home);
/*
 * Where to send a frame to incarnation gen, counted as in flight if its
 * home is a scheduler (*home > 0): the receiving scheduler uncounts it
 * with tri_slot_routed().  Waits out a move.  TR_ENOPROC if gen is gone.
 */
int tri_slot_route(
    tri_slottab *t, tri_slotrec *r, uint32_t gen, uint32_t *home);
/* A frame counted by tri_slot_route() was routed (or given up). */
void tri_slot_routed(tri_slotrec *r, uint32_t gen);
/* The home of gen now (0 if it is gone, or lives in its own inbox). */
uint32_t tri_slot_home(tri_slotrec *r, uint32_t gen);
/*
 * A move of gen from home `from` (only its home's scheduler thread
 * moves it): begin sets the moving bit if nothing is in flight to it
 * (whether it did); senders wait it out until end names its home `to`
 * (or `from` again, to give up) and clears the bit.
 */
bool tri_slot_move_begin(tri_slotrec *r, uint32_t gen, uint32_t from);
void tri_slot_move_end(tri_slotrec *r, uint32_t gen, uint32_t to);
/* Gives n slots back, if gen is still the one living there. */
void tri_slot_release(tri_slotrec *r, uint32_t gen, uint32_t n);
uint32_t tri_slot_depth(tri_slotrec *r, uint32_t gen);
/* Adds d (may be negative; the count stays >= 0) to the pending timers
 * of incarnation gen; nothing if another lives there now. */
void tri_slot_timers_add(tri_slotrec *r, uint32_t gen, int64_t d);
uint32_t tri_slot_timers(tri_slotrec *r, uint32_t gen);
/* Wakes every sender waiting on t (the process is gone). */
void tri_slots_wake_all(tri_slottab *t);
/* The process of t is gone: marks it dead, ends every incarnation in it
 * (a sender's reservation after this fails) and wakes its waiters.
 * Returns the slots that were still taken: messages accepted for its
 * mailboxes and never handed to an actor. */
uint64_t tri_slots_close_all(tri_slottab *t);

#endif
