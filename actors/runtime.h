/*
 * runtime.h -- private to troupe: the runtime of this process (runtime.c): its
 * identity in the node, options, counters; clocks and errors.  Not API.
 */
#ifndef TRI_RUNTIME_H
#define TRI_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "slots.h"
#include "troupe.h"

typedef struct tri_ctx tri_ctx;

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
	    spawned, exited, repaired, bad_buffers;
} tri_runtime;

extern tri_runtime tri_rt;

bool tri_running(void);
uint64_t tri_now_ms(void);
void tri_deadline_ts(uint64_t deadline_ms, struct timespec *ts);
/* Makes *cv a condition variable on the monotonic clock: the only kind
 * whose pthread_cond_timedwait() takes tri_deadline_ts() deadlines (one
 * on the default, real-time clock sees them long past and returns at
 * once -- a thread that waits so spins).  pthread_cond_init's error. */
int tri_cond_init(pthread_cond_t *cv);
uint64_t tri_deadline(int timeout_ms);
/* libuv's and the system's errors, mapped by meaning (error.c).  Meant
 * for calls that make something -- a loop, a process, a thread, a file,
 * a mapping -- where EAGAIN means that a limit was reached
 * (TR_ERESOURCE), not "try again". */
int tri_err_uv(int uv_err);
/* The errno of a call that failed (0, unknown: TR_ESYSTEM). */
int tri_err_errno(int err);

/* Counts n dead letters: in tr_stats, and in this process's slot table
 * for the root to add up when the process ends. */
void tri_count_dead(uint64_t n);

#define TRI_STAT(field) \
	atomic_fetch_add_explicit(&tri_rt.field, 1, memory_order_relaxed)
#define TRI_STAT_ADD(field, n) \
	atomic_fetch_add_explicit(&tri_rt.field, (n), memory_order_relaxed)

#endif
