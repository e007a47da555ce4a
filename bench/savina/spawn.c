/*
 * spawn.c -- how many idle actors one process holds, how fast they
 * start, and what each costs in resident memory.
 *
 * Spawns N actors of a behavior that does nothing (no state) from the
 * main context with tr_spawn_many(), SPAWN_BATCH at a time (the call made
 * for many actors: one round trip per batch, where tr_spawn() waits for
 * each actor), and reads the process's resident set (/proc/self/statm)
 * before and after.  Batches are for the scheduled placement, the one
 * where they save the round trips; the others spawn one actor per call
 * (their tr_spawn_many() waits for each anyway), so that a placement that
 * runs out (threads: descriptors) stops at the last actor it could start.  The
 * figure is for this process: fork and exec placements put their actors'
 * memory elsewhere.  A thread actor is an OS thread with its own loop and
 * descriptors, so the thread placement stops far below 10^6 -- at the
 * first spawn that fails, at the cap (--cap, so that a shared machine
 * keeps its process ids), or at the time budget; the figure then says
 * how many it reached, and why it stopped in "error".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "savina.h"
#include "spawn.h"

/* Actors per tr_spawn_many() call. */
#define SPAWN_BATCH 4096

static int
idle_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

void
sv_spawn_register(void)
{
	static const tr_behavior b = {"sv.idle", 0, NULL, idle_handle, NULL};

	(void)tr_behavior_register(&b);
}

/* Whether ref runs where TROUPE_PLACEMENT asked. */
static bool
placed(tr_ref ref)
{
	tr_actor_info info;

	return tr_actor_info_get(ref, &info) != TR_OK ||
	    sv_placed_as_asked(info.placement);
}

/* Resident bytes of this process; 0 if unknown. */
static uint64_t
rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL) {
		return 0;
	}
	if (fscanf(f, "%llu %llu", &size, &resident) != 2) {
		resident = 0;
	}
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

int
sv_spawn_figure(const sv_spawn_cfg *cfg, const char *placement)
{
	tr_spec spec;
	uint64_t rss0, rss1, reached = 0;
	const char *why = NULL;
	char err[96] = "";
	uint64_t batch = strcmp(placement, "scheduled") == 0 ? SPAWN_BATCH : 1;
	tr_ref *refs;
	double t0, t1;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = "sv.idle";
	spec.placement = TR_PLACE_AUTO;
	rss0 = rss_bytes();
	t0 = sv_now();
	if ((refs = malloc(SPAWN_BATCH * sizeof(*refs))) == NULL) {
		return 1;
	}
	while (reached < cfg->actors) {
		uint64_t n = cfg->actors - reached;
		int rv;
		if (n > batch) {
			n = batch;
		}
		if (cfg->cap > 0 && reached + n > cfg->cap) {
			if (reached >= cfg->cap) {
				why = "stopped at the cap (--cap)";
				break;
			}
			n = cfg->cap - reached;
		}
		if (sv_now() - t0 > cfg->budget_s) {
			why = "stopped at the time budget (--budget)";
			break;
		}
		if ((rv = tr_spawn_many(&spec, (size_t)n, refs, NULL)) !=
		    TR_OK) {
			snprintf(err, sizeof(err), "tr_spawn failed: %s",
			    tr_strerror(rv));
			why = err;
			break;
		}
		if (reached == 0 && !placed(refs[0])) {
			printf("{\"bench\":\"savina\",\"case\":\"spawn\","
			       "\"impl\":\"troupe\",\"placement\":\"%s\","
			       "\"error\":\"placement not available in this "
			       "build\"}\n",
			    placement);
			fflush(stdout);
			free(refs);
			return 3;
		}
		reached += n;
	}
	free(refs);
	t1 = sv_now();
	rss1 = rss_bytes();
	printf("{\"bench\":\"savina\",\"case\":\"spawn\",\"impl\":\"troupe\","
	       "\"placement\":\"%s\",\"api\":\"tr_spawn_many\",\"batch\":%llu,"
	       "\"actors\":%llu,\"actors_reached\":%llu,"
	       "\"spawn_per_s\":%.0f,\"spawn_us\":%.3f,"
	       "\"rss_per_actor_bytes\":%.0f,\"rss_before_bytes\":%llu,"
	       "\"rss_after_bytes\":%llu,\"elapsed_s\":%.4f%s%s%s}\n",
	    placement, (unsigned long long)batch,
	    (unsigned long long)cfg->actors, (unsigned long long)reached,
	    reached > 0 ? (double)reached / (t1 - t0) : 0.0,
	    reached > 0 ? (t1 - t0) * 1e6 / (double)reached : 0.0,
	    reached > 0 && rss1 > rss0 ?
	        (double)(rss1 - rss0) / (double)reached :
	        0.0,
	    (unsigned long long)rss0, (unsigned long long)rss1, t1 - t0,
	    why != NULL ? ",\"error\":\"" : "", why != NULL ? why : "",
	    why != NULL ? "\"" : "");
	fflush(stdout);
	fprintf(stderr, "bench_savina: spawn: %llu of %llu actors%s%s\n",
	    (unsigned long long)reached, (unsigned long long)cfg->actors,
	    why != NULL ? ", " : "", why != NULL ? why : "");
	return reached > 0 ? 0 : 1;
}
