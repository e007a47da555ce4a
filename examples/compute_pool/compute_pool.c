/*
 * compute_pool -- what each placement costs for a CPU-bound job.
 *
 *   compute_pool [--max-workers M] [--placements thread,fork,exec]
 *                [--repeat R] [--json] [N]
 *
 * Counts the primes below N (default 2000000) with the chunk protocol of
 * ../common/prime_job.c, under each placement -- thread actors, forked
 * members, exec'd programs (this very binary, started again by troupe)
 * -- and with 1..M workers (default M: one per core).  Each row is the
 * median of R runs (default 3); a run starts the workers, times the
 * job, and stops them.  Prints a table: placement, workers, the time to
 * start the workers, the time of the job, its speedup over one worker
 * of the same placement, and the result -- which must be the same in
 * every row (exit status 1 if not).  --json prints one JSON object per
 * row instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "prime_job.h"

/* Longest wait for any one result: a safety net, not a timing. */
#define RESULT_TIMEOUT_MS 60000
#define MAX_REPEAT 100

static const char *const place_names[] = {
    [TR_PLACE_THREAD] = "thread",
    [TR_PLACE_FORK] = "fork",
    [TR_PLACE_EXEC] = "exec",
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: compute_pool [--max-workers M] [--placements LIST] "
	    "[--repeat R] [--json] [N]\n"
	    "  M     rows with 1..M workers (default: one per core)\n"
	    "  LIST  comma-separated placements (default thread,fork,exec)\n"
	    "  R     runs per row, the row shows the median (default 3)\n"
	    "  N     count the primes below N (default 2000000)\n");
	exit(2);
}

/* A count from the command line, or the usage. */
static uint64_t
number(const char *s)
{
	uint64_t v = 0;

	if (!pj_parse_count(s, &v)) {
		usage();
	}
	return v;
}

/* Parses "thread,fork" into the placements to run, in that order. */
static size_t
parse_placements(char *list, tr_placement *out)
{
	size_t n = 0;

	for (char *tok = strtok(list, ","); tok != NULL;
	     tok = strtok(NULL, ",")) {
		tr_placement p = TR_PLACE_AUTO;
		for (int i = TR_PLACE_THREAD; i <= TR_PLACE_EXEC; i++) {
			if (strcmp(tok, place_names[i]) == 0) {
				p = (tr_placement)i;
			}
		}
		if (p == TR_PLACE_AUTO || n == 3) {
			usage();
		}
		out[n++] = p;
	}
	if (n == 0) {
		usage();
	}
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run: start k workers, time the job, stop them.  0, or -1 after a
 * message on stderr. */
static int
run_once(tr_placement p, const char *self, size_t k, uint64_t n, uint64_t chunk,
    double *start_ms, double *time_ms, uint64_t *primes)
{
	tr_ref workers[PJ_MAX_WORKERS];
	double t0 = pj_now_ms(), t1, t2;
	int rv;

	if ((rv = pj_start(p, self, k, workers)) != TR_OK) {
		fprintf(stderr, "compute_pool: %s x%zu: start: %s\n",
		    place_names[p], k, tr_strerror(rv));
		return -1;
	}
	t1 = pj_now_ms();
	rv = pj_run(workers, k, n, chunk, RESULT_TIMEOUT_MS, primes, NULL);
	t2 = pj_now_ms();
	if (rv != TR_OK) {
		fprintf(stderr, "compute_pool: %s x%zu: run: %s\n",
		    place_names[p], k, tr_strerror(rv));
		(void)pj_stop(workers, k);
		return -1;
	}
	if ((rv = pj_stop(workers, k)) != TR_OK) {
		fprintf(stderr, "compute_pool: %s x%zu: stop: %s\n",
		    place_names[p], k, tr_strerror(rv));
		return -1;
	}
	*start_ms = t1 - t0;
	*time_ms = t2 - t1;
	return 0;
}

int
main(int argc, char **argv)
{
	tr_placement places[3] = {
	    TR_PLACE_THREAD, TR_PLACE_FORK, TR_PLACE_EXEC};
	size_t nplaces = 3, max_workers = tr_cores(), repeat = 3;
	uint64_t n = 2000000, chunk, primes, first = 0;
	double starts[MAX_REPEAT], times[MAX_REPEAT], start_ms, time_ms, one;
	bool json = false, agree = true, have_first = false;
	char self[4096];
	int rv;

	/* First: tr_init() makes the fork server before anything else runs,
	 * and an exec'd worker is this very program, which must then be
	 * that worker rather than the benchmark. */
	if ((rv = tr_init(NULL)) != TR_OK || (rv = pj_register()) != TR_OK) {
		fprintf(stderr, "compute_pool: init: %s\n", tr_strerror(rv));
		return 1;
	}
	if ((rv = tr_exec_main()) >= 0) {
		return rv;
	}

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--max-workers") == 0 && i + 1 < argc) {
			max_workers = number(argv[++i]);
		} else if (strcmp(argv[i], "--placements") == 0 &&
		    i + 1 < argc) {
			nplaces = parse_placements(argv[++i], places);
		} else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
			repeat = number(argv[++i]);
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] != '-') {
			n = number(argv[i]);
		} else {
			usage();
		}
	}
	if (max_workers < 1 || max_workers > PJ_MAX_WORKERS || repeat < 1 ||
	    repeat > MAX_REPEAT) {
		fprintf(stderr,
		    "compute_pool: --max-workers 1..%d, --repeat 1..%d\n",
		    PJ_MAX_WORKERS, MAX_REPEAT);
		tr_shutdown();
		return 2;
	}
	if (pj_self_exe(self, sizeof(self)) != 0) {
		perror("compute_pool: /proc/self/exe");
		tr_shutdown();
		return 1;
	}
	chunk = pj_chunk_size(n, PJ_CHUNKS);

	if (!json) {
		printf("compute_pool: primes below %llu in %llu chunks, %u "
		       "cores, median of %zu run%s per row\n",
		    (unsigned long long)n,
		    (unsigned long long)pj_chunk_count(n, chunk), tr_cores(),
		    repeat, repeat == 1 ? "" : "s");
		printf("%-9s %7s %10s %10s %8s %10s\n", "placement", "workers",
		    "start ms", "time ms", "speedup", "primes");
	}
	for (size_t pi = 0; pi < nplaces; pi++) {
		tr_placement p = places[pi];
		one = 0;
		for (size_t k = 1; k <= max_workers; k++) {
			for (size_t r = 0; r < repeat; r++) {
				if (run_once(p, self, k, n, chunk, &starts[r],
				        &times[r], &primes) != 0) {
					tr_shutdown();
					return 1;
				}
				/* Every run of every row must agree. */
				if (!have_first) {
					first = primes;
					have_first = true;
				} else if (primes != first) {
					agree = false;
				}
			}
			start_ms = median(starts, repeat);
			time_ms = median(times, repeat);
			if (k == 1) {
				one = time_ms;
			}
			if (json) {
				printf("{\"placement\":\"%s\",\"workers\":%zu,"
				       "\"start_ms\":%.2f,\"time_ms\":%.2f,"
				       "\"speedup\":%.3f,\"primes\":%llu,"
				       "\"below\":%llu,\"chunks\":%llu,"
				       "\"runs\":%zu}\n",
				    place_names[p], k, start_ms, time_ms,
				    one / time_ms, (unsigned long long)primes,
				    (unsigned long long)n,
				    (unsigned long long)pj_chunk_count(
				        n, chunk),
				    repeat);
			} else {
				printf("%-9s %7zu %10.1f %10.1f %8.2f %10llu\n",
				    place_names[p], k, start_ms, time_ms,
				    one / time_ms, (unsigned long long)primes);
			}
			fflush(stdout);
		}
	}
	if (!agree) {
		fprintf(stderr,
		    "compute_pool: MISMATCH: the rows counted "
		    "different numbers of primes\n");
	} else if (!json) {
		printf("compute_pool: every run counted %llu primes below "
		       "%llu\n",
		    (unsigned long long)first, (unsigned long long)n);
	}
	rv = tr_shutdown();
	return agree && rv == TR_OK ? 0 : 1;
}
