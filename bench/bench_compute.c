/*
 * bench_compute.c -- troupe's compute benchmark: how well a CPU-bound
 * job scales across cores under each placement (thread, fork, exec).
 *
 * The job is the one of examples/worker_threads and
 * examples/compute_pool (examples/common/prime_job.c): count the primes
 * below N, in 256 chunks handed out by the main context as workers
 * answer.  Per placement, one run with 1 worker and one with W workers
 * (default: one per core, tr_cores()), each timed from the first chunk
 * sent to the last result in, workers started before and stopped after
 * (untimed).  The figure is the speedup, time with 1 worker / time with
 * W, taken within one process so that a slower or faster VM moves both.
 * An untimed warm-up job (N/8 on W workers) comes first per placement.
 *
 * One JSON line per placement on stdout; progress on stderr.  Exits 1
 * if a figure could not be measured, came out zero or not finite, or
 * the runs disagree on the count; 2 for bad arguments.  bench/run.sh
 * compute runs it several times and prints the medians.
 *
 * The exec'd workers run this very program: started by troupe
 * (TROUPE_SPEC in the environment), tr_init() joins the node and
 * tr_exec_main() runs the worker behavior.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "bench.h"
#include "prime_job.h"

/* Safety net for one result (not a timing). */
#define RESULT_TIMEOUT_MS 60000

typedef struct cp_cfg {
	uint64_t n;       /* count the primes below n */
	uint64_t workers; /* W */
	bool only[4];     /* indexed by tr_placement; all false: all */
	bool pinned;
	char self[4096];
} cp_cfg;

static const char *const pnames[] = {
    [TR_PLACE_THREAD] = "thread",
    [TR_PLACE_FORK] = "fork",
    [TR_PLACE_EXEC] = "exec",
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_compute [--quick] [--n N] [--workers W] "
	    "[--only thread|fork|exec]\n"
	    "  --quick      N = 100000: checks that it runs, figures not "
	    "meaningful\n"
	    "  --n N        count the primes below N (default 4000000)\n"
	    "  --workers W  the many-worker run (default: one per core)\n"
	    "  --only P     one placement\n");
}

/* The 1-minute load average, for the record: on a shared machine a
 * speedup below the number of cores often means other jobs took the
 * cores, not that the workers waited.  -1 if unreadable. */
static double
load_1m(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double load = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &load) != 1) {
			load = -1;
		}
		fclose(f);
	}
	return load;
}

/* Starts k workers, times the job, stops them.  0, or -1 after
 * bench_fail. */
static int
timed_job(const cp_cfg *cfg, tr_placement p, uint64_t k, uint64_t n, double *ms,
    uint64_t *primes)
{
	tr_ref workers[PJ_MAX_WORKERS];
	double t0;
	int rv;

	if ((rv = pj_start(p, cfg->self, k, workers)) != TR_OK) {
		bench_fail("%s: starting %llu workers: %s", pnames[p],
		    (unsigned long long)k, tr_strerror(rv));
		return -1;
	}
	t0 = pj_now_ms();
	rv = pj_run(workers, k, n, pj_chunk_size(n, PJ_CHUNKS),
	    RESULT_TIMEOUT_MS, primes, NULL);
	*ms = pj_now_ms() - t0;
	if (rv != TR_OK) {
		bench_fail("%s: job on %llu workers: %s", pnames[p],
		    (unsigned long long)k, tr_strerror(rv));
		(void)pj_stop(workers, k);
		return -1;
	}
	if ((rv = pj_stop(workers, k)) != TR_OK) {
		bench_fail("%s: stopping %llu workers: %s", pnames[p],
		    (unsigned long long)k, tr_strerror(rv));
		return -1;
	}
	return 0;
}

/* Both runs must have counted *expect primes (the first figure sets
 * it), in finite, non-zero times.  0, or -1 after bench_fail. */
static int
check_figure(const cp_cfg *cfg, const char *what, double one_ms, double many_ms,
    uint64_t primes1, uint64_t primesw, uint64_t *expect)
{
	if (*expect == 0) {
		*expect = primes1;
	}
	if (primes1 != *expect || primesw != *expect) {
		bench_fail("%s: counts disagree: %llu (1 worker), %llu (%llu "
		           "workers), %llu before",
		    what, (unsigned long long)primes1,
		    (unsigned long long)primesw,
		    (unsigned long long)cfg->workers,
		    (unsigned long long)*expect);
		return -1;
	}
	if (!isfinite(one_ms / many_ms) || !(one_ms > 0) || !(many_ms > 0)) {
		bench_fail("%s: times %g and %g ms (zero or not finite)", what,
		    one_ms, many_ms);
		return -1;
	}
	return 0;
}

/* One figure's line.  placement NULL: no such field (the floor); aim
 * NULL: none; floor_speedup 0: no "of_floor". */
static void
print_line(const cp_cfg *cfg, const char *impl, const char *placement,
    double one_ms, double many_ms, uint64_t primes, double load,
    const char *aim, double floor_speedup)
{
	double speedup = one_ms / many_ms;

	printf("{\"bench\":\"compute\",\"impl\":\"%s\",", impl);
	if (placement != NULL) {
		printf("\"placement\":\"%s\",", placement);
	}
	printf("\"pinned\":%s,\"time_1_ms\":%.1f,\"time_w_ms\":%.1f,"
	       "\"speedup\":%.3f,",
	    cfg->pinned ? "true" : "false", one_ms, many_ms, speedup);
	if (floor_speedup > 0) {
		printf("\"of_floor\":%.3f,", speedup / floor_speedup);
	}
	printf("\"workers\":%llu,\"cores\":%u,\"below\":%llu,"
	       "\"chunks\":%llu,\"primes\":%llu,\"load_1m\":%.2f",
	    (unsigned long long)cfg->workers, tr_cores(),
	    (unsigned long long)cfg->n,
	    (unsigned long long)pj_chunk_count(
	        cfg->n, pj_chunk_size(cfg->n, PJ_CHUNKS)),
	    (unsigned long long)primes, load);
	if (aim != NULL) {
		printf(",\"aim\":\"%s\"", aim);
	}
	printf("}\n");
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* The floor: the same chunks on plain pthreads, no troupe             */
/* ------------------------------------------------------------------ */

typedef struct floor_job {
	atomic_uint_fast64_t next; /* the next chunk to take */
	uint64_t n, chunk, nchunks;
} floor_job;

typedef struct floor_thread {
	floor_job *job;
	uint64_t primes;
	pthread_t tid;
} floor_thread;

/* Takes chunks in order until none is left: the same hand-out on
 * demand as troupe's main context, through one atomic counter. */
static void *
floor_main(void *arg)
{
	floor_thread *t = arg;
	floor_job *job = t->job;
	uint64_t i, lo;

	while ((i = atomic_fetch_add(&job->next, 1)) < job->nchunks) {
		lo = i * job->chunk;
		t->primes += pj_count_range(
		    lo, job->n - lo > job->chunk ? lo + job->chunk : job->n);
	}
	return NULL;
}

/* The job on k plain threads, timed from the first thread's creation to
 * the last one's join.  0, or -1 after bench_fail. */
static int
floor_run(uint64_t n, uint64_t k, double *ms, uint64_t *primes)
{
	floor_thread t[PJ_MAX_WORKERS];
	floor_job job = {.n = n, .chunk = pj_chunk_size(n, PJ_CHUNKS)};
	double t0;
	uint64_t started = 0;

	job.nchunks = pj_chunk_count(n, job.chunk);
	atomic_init(&job.next, 0);
	*primes = 0;
	t0 = pj_now_ms();
	for (; started < k; started++) {
		t[started] = (floor_thread){.job = &job};
		if (pthread_create(
		        &t[started].tid, NULL, floor_main, &t[started]) != 0) {
			break;
		}
	}
	for (uint64_t i = 0; i < started; i++) {
		pthread_join(t[i].tid, NULL);
		*primes += t[i].primes;
	}
	*ms = pj_now_ms() - t0;
	if (started < k) {
		bench_fail("floor: pthread_create failed");
		return -1;
	}
	return 0;
}

/* The speedup of plain threads right now: what the machine gives, with
 * whatever else runs on it.  0, or -1 after bench_fail. */
static int
floor_figure(const cp_cfg *cfg, uint64_t *expect, double *speedup)
{
	double one_ms, many_ms, warm_ms;
	uint64_t warm, primes1, primesw;
	double load = load_1m();

	fprintf(stderr,
	    "bench: compute floor: warm-up, then 1 thread, then "
	    "%llu\n",
	    (unsigned long long)cfg->workers);
	if (floor_run(cfg->n / 8, cfg->workers, &warm_ms, &warm) != 0 ||
	    floor_run(cfg->n, 1, &one_ms, &primes1) != 0 ||
	    floor_run(cfg->n, cfg->workers, &many_ms, &primesw) != 0 ||
	    check_figure(
	        cfg, "floor", one_ms, many_ms, primes1, primesw, expect) != 0) {
		return -1;
	}
	*speedup = one_ms / many_ms;
	print_line(cfg, "pthread_floor", NULL, one_ms, many_ms, primes1, load,
	    NULL, 0);
	return 0;
}

/* One placement's figure.  *expect is the count every run must agree
 * on (0: not known yet); floor_speedup that of plain threads.  0, or -1
 * after bench_fail. */
static int
figure(
    const cp_cfg *cfg, tr_placement p, uint64_t *expect, double floor_speedup)
{
	double warm_ms, one_ms, many_ms;
	uint64_t warm, primes1, primesw;
	double load = load_1m();

	fprintf(stderr,
	    "bench: compute %s: warm-up, then 1 worker, then %llu\n", pnames[p],
	    (unsigned long long)cfg->workers);
	if (timed_job(cfg, p, cfg->workers, cfg->n / 8, &warm_ms, &warm) != 0 ||
	    timed_job(cfg, p, 1, cfg->n, &one_ms, &primes1) != 0 ||
	    timed_job(cfg, p, cfg->workers, cfg->n, &many_ms, &primesw) != 0 ||
	    check_figure(cfg, pnames[p], one_ms, many_ms, primes1, primesw,
	        expect) != 0) {
		return -1;
	}
	print_line(cfg, "primes", pnames[p], one_ms, many_ms, primes1, load,
	    p != TR_PLACE_EXEC ? ">= 1.8 on 2 cores" : NULL, floor_speedup);
	return 0;
}

int
main(int argc, char **argv)
{
	cp_cfg cfg = {.n = 4000000, .workers = tr_cores()};
	bool any_only = false;
	uint64_t expect = 0;
	unsigned printed = 0, wanted = 1;
	double floor_speedup = 0;
	int rv;

	/* First: the fork server must precede nng; and an exec'd worker is
	 * this program, which then runs the worker and nothing else. */
	if ((rv = tr_init(NULL)) != TR_OK || (rv = pj_register()) != TR_OK) {
		fprintf(stderr, "bench: init: %s\n", tr_strerror(rv));
		return 1;
	}
	if ((rv = tr_exec_main()) >= 0) {
		return rv;
	}

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			cfg.n = 100000;
		} else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc &&
		    bench_parse_count(argv[i + 1], &cfg.n) == 0) {
			i++;
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc &&
		    bench_parse_count(argv[i + 1], &cfg.workers) == 0 &&
		    cfg.workers <= PJ_MAX_WORKERS) {
			i++;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			bool known = false;
			for (int p = TR_PLACE_THREAD; p <= TR_PLACE_EXEC; p++) {
				if (strcmp(argv[i + 1], pnames[p]) == 0) {
					cfg.only[p] = known = any_only = true;
				}
			}
			if (!known) {
				usage();
				tr_shutdown();
				return 2;
			}
			i++;
		} else {
			usage();
			tr_shutdown();
			return 2;
		}
	}
	cfg.pinned = bench_is_pinned();
	if (pj_self_exe(cfg.self, sizeof(cfg.self)) != 0) {
		perror("bench: /proc/self/exe");
		tr_shutdown();
		return 1;
	}

	if (floor_figure(&cfg, &expect, &floor_speedup) == 0) {
		printed++;
	}
	for (int p = TR_PLACE_THREAD; p <= TR_PLACE_EXEC; p++) {
		if (any_only && !cfg.only[p]) {
			continue;
		}
		wanted++;
		if (figure(&cfg, (tr_placement)p, &expect, floor_speedup) ==
		    0) {
			printed++;
		}
	}
	if (printed != wanted) {
		bench_fail("%u of %u figures printed", printed, wanted);
	}
	if ((rv = tr_shutdown()) != TR_OK) {
		bench_fail("shutdown: %s", tr_strerror(rv));
	}
	return bench_failed() ? 1 : 0;
}
