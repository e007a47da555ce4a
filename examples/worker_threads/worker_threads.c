/*
 * worker_threads -- Node's worker_threads in troupe: a CPU-bound job
 * split across thread actors that post their results back to the main
 * thread.
 *
 *   worker_threads [--workers K] [N]
 *
 * Counts the primes below N (default 3000000).  The range is cut into
 * many small chunks (../common/prime_job.c); the main thread hands them
 * out to K thread actors as they finish and adds up the counts they
 * post back.  K defaults to one worker per core; K = 0 counts the same
 * chunks on the main thread with no runtime and no actors at all -- the
 * single-threaded version, which prints the same result line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "prime_job.h"

/* Longest wait for any one result: a safety net, not a timing. */
#define RESULT_TIMEOUT_MS 60000

static void
usage(void)
{
	fprintf(stderr,
	    "usage: worker_threads [--workers K] [N]\n"
	    "  K  thread workers (default: one per core; 0: no "
	    "actors, count on the main thread)\n"
	    "  N  count the primes below N (default 3000000)\n");
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

static void
check(int rv, const char *what)
{
	if (rv != TR_OK) {
		fprintf(
		    stderr, "worker_threads: %s: %s\n", what, tr_strerror(rv));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	uint64_t n = 3000000, k = tr_cores(), chunk, primes;
	uint64_t done[PJ_MAX_WORKERS];
	tr_ref workers[PJ_MAX_WORKERS];
	double t0, t1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			k = number(argv[++i]);
		} else if (argv[i][0] != '-') {
			n = number(argv[i]);
		} else {
			usage();
		}
	}
	if (k > PJ_MAX_WORKERS) {
		fprintf(stderr, "worker_threads: at most %d workers\n",
		    PJ_MAX_WORKERS);
		return 2;
	}
	chunk = pj_chunk_size(n, PJ_CHUNKS);

	if (k == 0) {
		/* The single-threaded version: the same chunks, one after
		 * the other, on this thread. */
		printf("worker_threads: single-threaded (no actors), %llu "
		       "chunks of %llu numbers\n",
		    (unsigned long long)pj_chunk_count(n, chunk),
		    (unsigned long long)chunk);
		t0 = pj_now_ms();
		primes = pj_count_local(n, chunk);
		t1 = pj_now_ms();
	} else {
		/* The runtime first (it would have to come before anything
		 * else touched nng); the main thread becomes the main
		 * context, with a mailbox the workers post to. */
		check(tr_init(NULL), "init");
		check(pj_register(), "register");
		check(pj_start(TR_PLACE_THREAD, NULL, k, workers), "start");
		printf("worker_threads: %llu thread worker%s, %llu chunks of "
		       "%llu numbers\n",
		    (unsigned long long)k, k == 1 ? "" : "s",
		    (unsigned long long)pj_chunk_count(n, chunk),
		    (unsigned long long)chunk);
		t0 = pj_now_ms();
		check(pj_run(workers, k, n, chunk, RESULT_TIMEOUT_MS, &primes,
		          done),
		    "run");
		t1 = pj_now_ms();
		for (uint64_t i = 0; i < k; i++) {
			printf("worker_threads: worker %llu counted %llu "
			       "chunks\n",
			    (unsigned long long)i + 1,
			    (unsigned long long)done[i]);
		}
		check(pj_stop(workers, k), "stop");
		check(tr_shutdown(), "shutdown");
	}
	/* The same line whatever K is: the tests compare it. */
	printf("primes below %llu: %llu\n", (unsigned long long)n,
	    (unsigned long long)primes);
	printf("time: %.1f ms\n", t1 - t0);
	return 0;
}
