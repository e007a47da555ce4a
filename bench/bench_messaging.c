/*
 * bench_messaging.c -- troupe's messaging benchmark: one-way throughput
 * and call round trips, with the raw floors (nng, pipes) measured in the
 * same run so that troupe's cost reads as a ratio.
 *
 * One JSON line per figure on stdout; progress on stderr.  Exits 1 if
 * any figure could not be measured or came out zero / not finite.
 * Pinning is not done here: run under `taskset -c 0` (bench/run.sh does)
 * and the figures say "pinned": true.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "bench.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bench_messaging [--quick] [--n N] [--rounds N] "
	    "[--floors-only]\n"
	    "  --quick        small counts: checks that everything runs\n"
	    "  --n N          one-way messages per figure (default 1000000)\n"
	    "  --rounds N     round trips per latency figure (default 20000)\n"
	    "  --floors-only  raw nng and pipe figures only, no troupe\n");
}

static void
print_ratios(const bench_cfg *cfg, const bench_results *r)
{
	if (r->tr_oneway_msgs_per_s > 0 && r->nng_oneway_msgs_per_s > 0)
		bench_print_ratio("oneway_troupe_over_nng_aio", cfg->pinned,
		    r->tr_oneway_msgs_per_s / r->nng_oneway_msgs_per_s,
		    "troupe one-way msgs/s over raw nng aio msgs/s");
	if (r->tr_call_main_median_us > 0 && r->pipe_rt_median_us > 0)
		bench_print_ratio("call_main_over_pipe", cfg->pinned,
		    r->tr_call_main_median_us / r->pipe_rt_median_us,
		    "troupe call median (main context) in pipe round trips");
	if (r->tr_call_actor_median_us > 0 && r->pipe_rt_median_us > 0)
		bench_print_ratio("call_actor_over_pipe", cfg->pinned,
		    r->tr_call_actor_median_us / r->pipe_rt_median_us,
		    "troupe call median (actor to actor) in pipe round trips");
	if (r->tr_call_main_median_us > 0 && r->nng_rt_median_us > 0)
		bench_print_ratio("call_main_over_nng_rt", cfg->pinned,
		    r->tr_call_main_median_us / r->nng_rt_median_us,
		    "troupe call median (main context) in raw nng round trips");
}

int
main(int argc, char **argv)
{
	bench_cfg cfg = {
	    .oneway_n = 1000000,
	    .rounds = 20000,
	};
	bench_results res = {0};
	bool floors_only = false;
	bool troupe_up = false;
	int rv;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--quick") == 0) {
			cfg.oneway_n = 20000;
			cfg.rounds = 2000;
		} else if (strcmp(a, "--n") == 0 && i + 1 < argc) {
			if (bench_parse_count(argv[++i], &cfg.oneway_n) != 0)
				goto bad;
		} else if (strcmp(a, "--rounds") == 0 && i + 1 < argc) {
			if (bench_parse_count(argv[++i], &cfg.rounds) != 0)
				goto bad;
		} else if (strcmp(a, "--floors-only") == 0) {
			floors_only = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			goto bad;
		}
	}
	/* Untimed warm-up: a tenth of the timed work, at least one. */
	cfg.oneway_warm = cfg.oneway_n / 10 + 1;
	cfg.rounds_warm = cfg.rounds / 10 + 1;

	/* tr_init() comes before anything touches nng: it starts the fork
	 * server, which must exist before nng's threads do. */
	if (!floors_only) {
		if ((rv = tr_init(NULL)) != TR_OK) {
			bench_fail("tr_init: %s (%d)", tr_strerror(rv), rv);
			return 1;
		}
		troupe_up = true;
		if (bench_troupe_register() != 0)
			goto done;
	}
	cfg.pinned = bench_is_pinned();
	fprintf(stderr, "bench: pinned=%s oneway_n=%llu rounds=%llu\n",
	    cfg.pinned ? "true" : "false", (unsigned long long)cfg.oneway_n,
	    (unsigned long long)cfg.rounds);

	bench_floor_nng_oneway(&cfg, &res);
	bench_floor_pipe_rt(&cfg, &res);
	bench_floor_nng_rt(&cfg, &res);
	if (!floors_only) {
		bench_troupe_figures(&cfg, &res);
		print_ratios(&cfg, &res);
	}
done:
	if (troupe_up && (rv = tr_shutdown()) != TR_OK)
		bench_fail("tr_shutdown: %s (%d)", tr_strerror(rv), rv);
	if (bench_failed()) {
		fprintf(stderr, "bench: some figures failed\n");
		return 1;
	}
	return 0;
bad:
	usage(stderr);
	return 2;
}
