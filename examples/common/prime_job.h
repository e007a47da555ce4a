/*
 * prime_job.h -- private to examples/ and bench/: the CPU-bound job that
 * worker_threads, compute_pool and bench_compute share.  Not API.
 *
 * The job: count the primes below n.  The range [0, n) is cut into many
 * small chunks; the main context hands them out to worker actors as the
 * workers finish, and the workers post each chunk's count back.  Chunks
 * near n cost more than chunks near 0 (trial division up to the square
 * root), so handing them out on demand, rather than splitting [0, n)
 * into K equal parts up front, is what keeps every worker busy.
 *
 * The protocol, two tags:
 *   PJ_CHUNK   main -> worker, body [lo, hi]: count the primes in [lo, hi)
 *   PJ_RESULT  worker -> main, body [lo, hi, count]
 * A worker answers to the sender of the chunk, so it needs no state and
 * runs unchanged as a thread, a forked member or an exec'd program.
 */
#ifndef PRIME_JOB_H
#define PRIME_JOB_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <troupe.h>

/* The worker's behavior name (registered by pj_register()). */
#define PJ_BEHAVIOR "prime_job.worker"

enum {
	PJ_CHUNK = 1,
	PJ_RESULT = 2,
};

/* Chunks handed to each worker ahead of its answers: with two, the next
 * chunk already waits in the worker's mailbox when it finishes one, so
 * it never idles while its result travels to the main context. */
#define PJ_DEPTH 2

/* At most this many workers: their results in flight (PJ_DEPTH each)
 * must fit the main context's mailbox (1024 by default). */
#define PJ_MAX_WORKERS 256

/* How many chunks the range is cut into by default (fewer if n is
 * small): many more than workers, so uneven chunks still balance. */
#define PJ_CHUNKS 256

/* The number of primes p with lo <= p < hi, by trial division. */
uint64_t pj_count_range(uint64_t lo, uint64_t hi);

/* The chunk size that cuts [0, n) into at most `chunks` chunks (at
 * least 1 number each). */
uint64_t pj_chunk_size(uint64_t n, uint64_t chunks);

/* At most this many workers: their results in flight (PJ_DEPTH each)
 * must fit the main context's mailbox (1024 by default). */
#define PJ_MAX_WORKERS 256

/* How many chunks of `chunk` numbers cover [0, n). */
uint64_t pj_chunk_count(uint64_t n, uint64_t chunk);

/* The single-threaded version: the same chunks, counted in a loop on
 * the calling thread; no troupe at all. */
uint64_t pj_count_local(uint64_t n, uint64_t chunk);

/* Registers the worker behavior (before or after tr_init()).  A program
 * that hosts exec'd workers calls it before tr_exec_main(), which runs
 * the behavior its spawner asked for. */
int pj_register(void);

/*
 * Starts k workers with placement p, linked to the calling context (the
 * main context traps exits, so a worker's end arrives as a TR_TAG_EXIT
 * message instead of killing it).  program: the exec host for
 * TR_PLACE_EXEC (a troupe program that registers the behavior and runs
 * tr_exec_main()), else ignored.  On failure, the workers already
 * started are stopped.  Returns a TR_E* code.
 */
int pj_start(tr_placement p, const char *program, size_t k, tr_ref *workers);

/*
 * Runs the job on k started workers, from the main context: counts the
 * primes below n in chunks of `chunk` numbers and puts the total in
 * *primes; per_worker (k counters, or NULL) gets how many chunks each
 * worker counted.  Returns TR_OK, or an error: a send failed, a worker ended
 * (TR_ENOPROC; its reason on stderr), or no result came for
 * timeout_ms (TR_ETIMEDOUT).
 */
int pj_run(const tr_ref *workers, size_t k, uint64_t n, uint64_t chunk,
    int timeout_ms, uint64_t *primes, uint64_t *per_worker);

/* Stops k workers (reason shutdown) and waits for each one's exit
 * notice.  Returns TR_OK or the first error. */
int pj_stop(const tr_ref *workers, size_t k);

/* The path of the running program (/proc/self/exe), for exec workers;
 * 0, or -1 with errno set. */
int pj_self_exe(char *buf, size_t len);

/* CLOCK_MONOTONIC in milliseconds. */
double pj_now_ms(void);

/* A command-line count: s all decimal digits (no sign, no blanks) into
 * *out.  False, *out untouched, for anything else or an overflow. */
bool pj_parse_count(const char *s, uint64_t *out);

#endif
