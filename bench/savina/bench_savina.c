/*
 * bench_savina.c -- the Savina cases (Imam & Sarkar, "Savina - An Actor
 * Benchmark Suite", AGERE 2014: github.com/shamsimam/savina) on troupe:
 * pingpong, counting, threadring, fjthrput (fork-join throughput), big
 * and chameneos, with Savina's default parameters or a scaled fraction
 * of their message counts; and the spawn figure (how many idle actors,
 * how fast, how much memory each).
 *
 * One JSON line per figure on stdout, progress on stderr:
 *   {"bench":"savina","case":"pingpong","impl":"troupe",
 *    "placement":"thread","msgs_per_s":N,"msgs":M,"elapsed_s":T,
 *    "scale":S,...the case's parameters}
 * The placement is TROUPE_PLACEMENT's (--placement sets it): every
 * actor is spawned TR_PLACE_AUTO.  A placement that this build does not
 * have (auto falls back to a thread) is refused: exit status 3.  Other
 * exit statuses: 0 every figure measured and checked; 1 a figure failed
 * (wrong result, an error, a timeout); 2 bad arguments.
 *
 * Started by troupe as an exec'd actor (TROUPE_SPEC in the environment),
 * the program runs that actor instead: it is its own exec host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "savina.h"
#include "spawn.h"

static const sv_case *const cases[] = {&sv_pingpong, &sv_counting,
    &sv_threadring, &sv_fjthrput, &sv_big, &sv_chameneos};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/*
 * --scale auto: for a placement where each actor is an OS thread (or a
 * process), a fraction of Savina's message counts that keeps each case
 * to a few seconds on a 2-core machine; Savina's own counts otherwise.
 * Printed with each figure as "scale".
 */
static const struct {
	const char *name;
	double scale;
} thread_scale[] = {
    {"pingpong", 0.25},
    {"counting", 1.0},
    {"threadring", 0.2},
    {"fjthrput", 1.0},
    {"big", 0.05},
    {"chameneos", 0.25},
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bench_savina [--case NAME|all] [--placement P] "
	    "[--scale X|auto] [--quick]\n"
	    "       bench_savina --case spawn [--actors N] [--cap N] "
	    "[--budget S] [--placement P]\n"
	    "  --case NAME    pingpong, counting, threadring, fjthrput, big, "
	    "chameneos,\n"
	    "                 all (the six, the default) or spawn\n"
	    "  --placement P  sets TROUPE_PLACEMENT=P for every actor "
	    "(thread, fork, exec,\n"
	    "                 or one this build adds); default: as the "
	    "environment says\n"
	    "  --scale X      fraction (0, 1] of Savina's message counts; "
	    "auto (default):\n"
	    "                 1 but for thread, fork and exec (see "
	    "bench/README.md)\n"
	    "  --quick        a smoke run: scale 0.01, spawn 200 actors\n"
	    "  --actors N     spawn: how many (default 10000)\n"
	    "  --cap N        spawn: stop a thread placement there (default "
	    "10000; 0: none)\n"
	    "  --budget S     spawn: stop after S seconds (default 120)\n");
}

/* The placement's name for the JSON lines. */
static const char *
placement_name(void)
{
	const char *p = getenv("TROUPE_PLACEMENT");

	return p != NULL && *p != '\0' ? p : "scheduled";
}

static bool
thread_like(const char *p)
{
	return strcmp(p, "thread") == 0 || strcmp(p, "fork") == 0 ||
	    strcmp(p, "exec") == 0;
}

/* JSON-safe text for the flat lines: no quotes, commas or braces. */
static void
clean(char *s)
{
	for (; *s != '\0'; s++) {
		if (strchr("\",{}\\", *s) != NULL) {
			*s = ' ';
		}
	}
}

static double
scale_for(const char *name, double asked)
{
	if (asked > 0) {
		return asked;
	}
	if (!thread_like(placement_name())) {
		return 1.0;
	}
	for (size_t i = 0; i < sizeof(thread_scale) / sizeof(thread_scale[0]);
	     i++) {
		if (strcmp(thread_scale[i].name, name) == 0) {
			return thread_scale[i].scale;
		}
	}
	return 1.0;
}

/* Runs one case; prints its line.  0, 1 (failed) or 3 (placement). */
static int
run_case(const sv_case *c, double asked_scale)
{
	sv_cfg cfg = {scale_for(c->name, asked_scale)};
	sv_result r;
	int rv, stop;

	memset(&r, 0, sizeof(r));
	fprintf(stderr, "bench_savina: %s (%s, scale %g)\n", c->name,
	    placement_name(), cfg.scale);
	rv = c->run(&cfg, &r);
	stop = sv_stop_all();
	if (rv == TR_OK && stop != TR_OK) {
		rv = stop;
		snprintf(r.error, sizeof(r.error), "stopping the actors: %s",
		    tr_strerror(stop));
	}
	if (rv == TR_OK && (r.elapsed_s <= 0 || r.msgs == 0)) {
		rv = TR_EPROTO;
		snprintf(r.error, sizeof(r.error), "nothing measured");
	}
	if (rv != TR_OK) {
		if (r.error[0] == '\0') {
			snprintf(r.error, sizeof(r.error), "%s",
			    rv == TR_ENOTSUP ?
			        "placement not available in this build" :
			        tr_strerror(rv));
		}
		clean(r.error);
		printf("{\"bench\":\"savina\",\"case\":\"%s\",\"impl\":"
		       "\"troupe\",\"placement\":\"%s\",\"error\":\"%s\"}\n",
		    c->name, placement_name(), r.error);
		fflush(stdout);
		return rv == TR_ENOTSUP ? 3 : 1;
	}
	printf("{\"bench\":\"savina\",\"case\":\"%s\",\"impl\":\"troupe\","
	       "\"placement\":\"%s\",\"msgs_per_s\":%.0f,\"msgs\":%llu,"
	       "\"elapsed_s\":%.4f,\"scale\":%g,%s}\n",
	    c->name, placement_name(), (double)r.msgs / r.elapsed_s,
	    (unsigned long long)r.msgs, r.elapsed_s, cfg.scale, r.params);
	fflush(stdout);
	return 0;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9') {
		return -1;
	}
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		return -1;
	}
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	sv_spawn_cfg spawn = {10000, 10000, 120.0};
	const char *which = "all";
	double scale = 0; /* auto */
	char exe[4096];
	ssize_t len;
	int status = 0, rv;

	/* Placement first: it must be in the environment before tr_init()
	 * forks the fork server (which passes it on). */
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--placement") == 0) {
			setenv("TROUPE_PLACEMENT", argv[i + 1], 1);
		}
	}
	if ((rv = tr_init(NULL)) != TR_OK) {
		fprintf(stderr, "bench_savina: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	for (size_t i = 0; i < NCASES; i++) {
		cases[i]->reg();
	}
	sv_spawn_register();
	if ((rv = tr_exec_main()) >= 0) {
		return rv; /* we were an exec'd actor */
	}

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--quick") == 0) {
			scale = 0.01;
			spawn.actors = 200;
			continue;
		}
		if (v == NULL) {
			usage(stderr);
			tr_shutdown();
			return 2;
		}
		if (strcmp(argv[i], "--case") == 0) {
			which = v;
		} else if (strcmp(argv[i], "--placement") == 0) {
			/* done above */
		} else if (strcmp(argv[i], "--scale") == 0) {
			char *end;
			scale = strcmp(v, "auto") == 0 ? 0 : strtod(v, &end);
			if (strcmp(v, "auto") != 0 &&
			    (*end != '\0' || scale <= 0 || scale > 1)) {
				usage(stderr);
				tr_shutdown();
				return 2;
			}
		} else if (strcmp(argv[i], "--actors") == 0 &&
		    parse_u64(v, &spawn.actors) == 0 && spawn.actors > 0) {
		} else if (strcmp(argv[i], "--cap") == 0 &&
		    parse_u64(v, &spawn.cap) == 0) {
		} else if (strcmp(argv[i], "--budget") == 0 &&
		    (spawn.budget_s = strtod(v, NULL)) > 0) {
		} else {
			usage(stderr);
			tr_shutdown();
			return 2;
		}
		i++;
	}
	/* An exec placement runs this very program as the actors' host. */
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[len] = '\0';
		setenv("TROUPE_EXEC_HOST", exe, 1);
	}

	if (strcmp(which, "spawn") == 0) {
		if (!thread_like(placement_name())) {
			spawn.cap = 0; /* the cap is for OS threads */
		}
		status = sv_spawn_figure(&spawn, placement_name());
	} else {
		bool found = false;
		for (size_t i = 0; i < NCASES; i++) {
			if (strcmp(which, "all") != 0 &&
			    strcmp(which, cases[i]->name) != 0) {
				continue;
			}
			found = true;
			rv = run_case(cases[i], scale);
			if (rv == 3) {
				status = 3; /* no point in the others */
				break;
			}
			status |= rv;
		}
		if (!found) {
			usage(stderr);
			status = 2;
		}
	}
	if ((rv = tr_shutdown()) != TR_OK) {
		fprintf(
		    stderr, "bench_savina: tr_shutdown: %s\n", tr_strerror(rv));
	}
	return status;
}
