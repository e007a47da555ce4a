/*
 * savina.h -- private to bench/savina/: the Savina cases' shared
 * driver.  Not API.
 *
 * Each case (one file each: pingpong.c, counting.c, threadring.c,
 * fjthrput.c, big.c, chameneos.c) registers its behaviors, and runs
 * from the main context: it spawns its actors (TR_PLACE_AUTO: the
 * placement comes from TROUPE_PLACEMENT), sets them up, starts the
 * clock, sends the first message, and stops the clock when the last
 * actor reports to the main context.  Only that part is timed: spawning,
 * setting up and stopping the actors are not, in the Erlang versions
 * (savina.erl) either.  Every case checks its result (counts, sums) and
 * fails the figure if it is wrong.  The cases use include/troupe.h only,
 * and its one-line calls (tr_sendf, tr_msg_unpackf, tr_forward).
 */
#ifndef SAVINA_H
#define SAVINA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <troupe.h>

/* Tags of the driver's own messages (each case numbers its own from
 * 1): the last actor's report to the main context. */
#define SV_DONE 0x7fff0001u
#define SV_SETUP 0x7fff0002u

/* How long the main context waits for a case to end before it calls
 * the figure failed. */
#define SV_TIMEOUT_MS (10 * 60 * 1000)

typedef struct sv_cfg {
	double scale; /* fraction of Savina's message counts, (0, 1] */
} sv_cfg;

/* What a case reports: messages sent while timed, the time, its
 * parameters as a JSON fragment, and an error text if it failed. */
typedef struct sv_result {
	uint64_t msgs;
	double elapsed_s;
	char params[256];
	char error[160];
} sv_result;

typedef struct sv_case {
	const char *name;
	void (*reg)(void);
	int (*run)(const sv_cfg *cfg, sv_result *out);
} sv_case;

/* The cases, in the order. */
extern const sv_case sv_pingpong, sv_counting, sv_threadring, sv_fjthrput,
    sv_big, sv_chameneos;

/* A count scaled by cfg->scale, at least min. */
uint64_t sv_scaled(const sv_cfg *cfg, uint64_t savina_default, uint64_t min);

/* CLOCK_MONOTONIC in seconds. */
double sv_now(void);

/*
 * Spawns an actor of behavior with init_arg (taken: freed here, NULL
 * ok), monitored by the main context so that sv_stop_all() can wait for
 * its end.  Checks that it got the placement asked for.
 */
int sv_spawn(const char *behavior, tr_msg *init_arg, tr_ref *out);

/* Whether an actor placed at p is where TROUPE_PLACEMENT asked for
 * (TR_PLACE_AUTO falls back to a thread for a name it does not know). */
bool sv_placed_as_asked(tr_placement p);

/* Stops every actor sv_spawn() made and waits for each one's end. */
int sv_stop_all(void);

/*
 * Waits (SV_TIMEOUT_MS at most) for the next message, which must carry
 * tag, and reads its body with picture into the pointers that follow.
 * TR_EPROTO for another tag or body.
 */
int sv_wait(uint32_t tag, const char *picture, ...);

/* Sets result->error (printf-style) and returns TR_EPROTO. */
int sv_fail(sv_result *r, const char *fmt, ...);

#endif
