/*
 * placement.h -- private to bench/: the parts of bench_placement.  Not
 * API.  See bench/README.md for what each figure means.
 */
#ifndef BENCH_PLACEMENT_H
#define BENCH_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include <troupe.h>

#include "bench.h"

/* Indexes of the per-placement arrays below: TR_PLACE_THREAD ..
 * SCHEDULED. */
#define PLACE_N 5

/* What a run measures; filled from the command line. */
typedef struct place_cfg {
	uint64_t spawn_n[PLACE_N]; /* timed spawns per placement (at most) */
	double spawn_budget_s;     /* and at most this long per placement */
	uint64_t rounds;           /* call round trips sampled */
	uint64_t rounds_warm;      /* round trips first, not sampled */
	uint64_t oneway_n;         /* one-way messages, timed */
	uint64_t oneway_warm;      /* one-way messages first, not timed */
	bool pinned;               /* exactly one CPU allowed */
	const char *self_exe;      /* this program's path: the exec'd actor
	                              and the floor peer */
} place_cfg;

/* Figures kept for the ratios; 0 when not measured. */
typedef struct place_results {
	double ipc_oneway_msgs_per_s;
	double ipc_rt_median_us;
	double oneway_msgs_per_s[PLACE_N];
	double rt_median_us[PLACE_N];
} place_results;

/* "thread", "fork", "exec", "scheduled" ("auto" for anything else). */
const char *place_name(tr_placement p);

/*
 * ipc_floors.c.  The raw nng ipc figures, between this process and a
 * peer process that is this program exec'd afresh with --floor-peer
 * (so that it is never a fork of a process that used nng).
 *
 * place_floors() runs in the benchmark process: one-way push/pull
 * throughput and a push/pull round trip, over ipc:// paths in a private
 * directory under /tmp.  0, or -1 after bench_fail.
 *
 * place_floor_peer_main() is the peer's whole life; argv as given to
 * main: [prog, "--floor-peer", dir, parent pid].  Returns the exit
 * status.  It never calls troupe.
 */
int place_floors(const place_cfg *cfg, place_results *res);
int place_floor_peer_main(int argc, char **argv);

/*
 * placement_figures.c.  The troupe figures for one placement, from the
 * main context (tr_init() done, behaviors registered):
 *  - spawn:     tr_spawn() start -> the reply to the actor's first call;
 *  - roundtrip: calls to an echo actor of that placement;
 *  - oneway:    tr_send()s to a counter actor of that placement.
 * Each returns 0, or -1 after bench_fail.
 */
int place_spawn_figure(const place_cfg *cfg, tr_placement p);
int place_rt_figure(const place_cfg *cfg, tr_placement p, place_results *res);
int place_oneway_figure(
    const place_cfg *cfg, tr_placement p, place_results *res);

#endif
