/*
 * bench_placement.c -- troupe's placement benchmark: for each placement
 * (thread, fork, exec, scheduled) the time from tr_spawn() to the
 * first call's
 * reply, the call round trip and the one-way throughput from the main
 * context to an actor of that placement; with the raw nng ipc floors
 * between two processes measured in the same run, so that the process
 * placements' cost reads as a ratio.
 *
 * One JSON line per figure on stdout; progress on stderr.  Exits 1 if
 * any figure could not be measured or came out zero / not finite, 2 for
 * bad arguments.  Pinning is done from outside (bench/run.sh placement
 * runs it under `taskset -c 0` too).
 *
 * This one program plays three parts:
 *  - the benchmark (no special arguments);
 *  - the exec'd actor: started by troupe (TROUPE_SPEC in the
 *    environment), tr_init() joins the node and tr_exec_main() runs the
 *    behavior asked for;
 *  - the floor peer (--floor-peer DIR PID): the far end of the raw nng
 *    ipc floors, exec'd afresh by the benchmark (ipc_floors.c).
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <troupe.h>

#include "placement.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bench_placement [--quick] [--n N] [--rounds N]\n"
	    "                       [--spawn-thread N] [--spawn-fork N] "
	    "[--spawn-exec N] [--spawn-scheduled N]\n"
	    "                       [--spawn-budget S] [--only PLACEMENT] "
	    "[--floors-only]\n"
	    "  --quick           small counts: checks that everything runs\n"
	    "  --n N             one-way messages per figure (default 300000)\n"
	    "  --rounds N        call round trips per figure (default 20000)\n"
	    "  --spawn-thread N  timed thread spawns (default 200)\n"
	    "  --spawn-fork N    timed fork spawns (default 100)\n"
	    "  --spawn-exec N    timed exec spawns (default 50)\n"
	    "  --spawn-scheduled N  timed scheduled spawns (default 200)\n"
	    "  --spawn-budget S  at most S seconds of spawns per placement "
	    "(default 20)\n"
	    "  --only P          only placement P (thread, fork, exec or "
	    "scheduled), "
	    "with the floors\n"
	    "  --floors-only     the raw nng ipc floors only\n");
}

static void
print_ratios(const place_cfg *cfg, const place_results *r, bool want[])
{
	static const tr_placement procs[] = {TR_PLACE_FORK, TR_PLACE_EXEC};

	for (size_t i = 0; i < 2; i++) {
		tr_placement p = procs[i];

		if (!want[p])
			continue;
		if (r->oneway_msgs_per_s[p] > 0 && r->ipc_oneway_msgs_per_s > 0)
			bench_print_ratio_at("oneway_troupe_over_nng_ipc",
			    place_name(p), cfg->pinned,
			    r->oneway_msgs_per_s[p] / r->ipc_oneway_msgs_per_s,
			    ">= 1.0",
			    "troupe one-way msgs/s to an actor of this "
			    "placement "
			    "over raw nng ipc aio msgs/s");
		if (r->rt_median_us[p] > 0 && r->ipc_rt_median_us > 0)
			bench_print_ratio_at("call_over_nng_ipc_rt",
			    place_name(p), cfg->pinned,
			    r->rt_median_us[p] / r->ipc_rt_median_us, "<= 1.3",
			    "troupe call median to an actor of this placement "
			    "over the raw nng ipc round-trip median");
	}
}

int
main(int argc, char **argv)
{
	place_cfg cfg = {
	    .spawn_n = {0, 200, 100, 50, 200},
	    .spawn_budget_s = 20,
	    .rounds = 20000,
	    .oneway_n = 300000,
	};
	place_results res = {0};
	bool want[PLACE_N] = {false, true, true, true, true};
	bool floors_only = false;
	char exe[PATH_MAX];
	unsigned expected = 0;
	ssize_t len;
	int rv;

	/*
	 * The floor peer never runs troupe: it is a bare nng process, the
	 * far end of the raw floor, so it skips tr_init() (which would make
	 * a node, a fork server and a node service in it).  Its arguments
	 * are checked before anything else happens; nothing touches nng
	 * before this point either way.
	 */
	if (argc >= 2 && strcmp(argv[1], "--floor-peer") == 0)
		return place_floor_peer_main(argc, argv);

	/* First: the fork server must exist before nng is used. */
	if ((rv = tr_init(NULL)) != TR_OK) {
		bench_fail("tr_init: %s (%d)", tr_strerror(rv), rv);
		return 1;
	}
	if (bench_troupe_register() != 0) {
		tr_shutdown();
		return 1;
	}
	/* Started by troupe as an exec'd actor: run it and end. */
	if ((rv = tr_exec_main()) >= 0)
		return rv;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quick") == 0) {
			cfg.spawn_n[TR_PLACE_THREAD] = 20;
			cfg.spawn_n[TR_PLACE_FORK] = 10;
			cfg.spawn_n[TR_PLACE_EXEC] = 5;
			cfg.spawn_n[TR_PLACE_SCHEDULED] = 20;
			cfg.spawn_budget_s = 2;
			cfg.rounds = 500;
			cfg.oneway_n = 5000;
		} else if (strcmp(a, "--n") == 0) {
			if (bench_parse_count(v, &cfg.oneway_n) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--rounds") == 0) {
			if (bench_parse_count(v, &cfg.rounds) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--spawn-thread") == 0) {
			if (bench_parse_count(
			        v, &cfg.spawn_n[TR_PLACE_THREAD]) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--spawn-fork") == 0) {
			if (bench_parse_count(v, &cfg.spawn_n[TR_PLACE_FORK]) !=
			    0)
				goto bad;
			i++;
		} else if (strcmp(a, "--spawn-exec") == 0) {
			if (bench_parse_count(v, &cfg.spawn_n[TR_PLACE_EXEC]) !=
			    0)
				goto bad;
			i++;
		} else if (strcmp(a, "--spawn-scheduled") == 0) {
			if (bench_parse_count(
			        v, &cfg.spawn_n[TR_PLACE_SCHEDULED]) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--spawn-budget") == 0) {
			if (bench_parse_seconds(v, &cfg.spawn_budget_s) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--only") == 0 && v != NULL) {
			want[TR_PLACE_THREAD] = strcmp(v, "thread") == 0;
			want[TR_PLACE_FORK] = strcmp(v, "fork") == 0;
			want[TR_PLACE_EXEC] = strcmp(v, "exec") == 0;
			want[TR_PLACE_SCHEDULED] = strcmp(v, "scheduled") == 0;
			if (!want[1] && !want[2] && !want[3] && !want[4])
				goto bad;
			i++;
		} else if (strcmp(a, "--floors-only") == 0) {
			floors_only = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			tr_shutdown();
			return 0;
		} else {
			goto bad;
		}
	}
	if (floors_only)
		want[1] = want[2] = want[3] = false;
	/* Untimed warm-up: a tenth of the timed work, at least one. */
	cfg.oneway_warm = cfg.oneway_n / 10 + 1;
	cfg.rounds_warm = cfg.rounds / 10 + 1;

	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0) {
		bench_fail("readlink /proc/self/exe failed");
		goto done;
	}
	exe[len] = '\0';
	cfg.self_exe = exe;
	cfg.pinned = bench_is_pinned();
	fprintf(stderr,
	    "bench: pinned=%s oneway_n=%llu rounds=%llu "
	    "spawns=%llu/%llu/%llu/%llu budget=%.0fs\n",
	    cfg.pinned ? "true" : "false", (unsigned long long)cfg.oneway_n,
	    (unsigned long long)cfg.rounds,
	    (unsigned long long)cfg.spawn_n[TR_PLACE_THREAD],
	    (unsigned long long)cfg.spawn_n[TR_PLACE_FORK],
	    (unsigned long long)cfg.spawn_n[TR_PLACE_EXEC],
	    (unsigned long long)cfg.spawn_n[TR_PLACE_SCHEDULED],
	    cfg.spawn_budget_s);

	/* The floors first, while the runtime sits idle; their peer has
	 * exited before troupe's figures start. */
	place_floors(&cfg, &res);
	expected += 2;
	for (tr_placement p = TR_PLACE_THREAD; p <= TR_PLACE_SCHEDULED; p++) {
		if (!want[p])
			continue;
		place_spawn_figure(&cfg, p);
		place_rt_figure(&cfg, p, &res);
		place_oneway_figure(&cfg, p, &res);
		expected +=
		    3 + (p == TR_PLACE_FORK || p == TR_PLACE_EXEC ? 2 : 0);
	}
	print_ratios(&cfg, &res, want);
done:
	if ((rv = tr_shutdown()) != TR_OK)
		bench_fail("tr_shutdown: %s (%d)", tr_strerror(rv), rv);
	if (!bench_failed() && bench_figures_printed() != expected)
		bench_fail("%u figures printed, %u expected",
		    bench_figures_printed(), expected);
	if (bench_failed()) {
		fprintf(stderr, "bench: some figures failed\n");
		return 1;
	}
	return 0;
bad:
	usage(stderr);
	tr_shutdown();
	return 2;
}
