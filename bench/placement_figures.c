/*
 * placement_figures.c -- troupe's figures per placement (thread, fork,
 * exec), all from the main context, through include/troupe.h only:
 *
 *  - spawn / troupe: time from the start of tr_spawn() until the reply
 *    to the new actor's first tr_call (an echo) is in hand.  Between
 *    samples, untimed, the actor is stopped (tr_stop) and its DOWN
 *    awaited through a monitor, so that no actor outlives its sample;
 *  - roundtrip / troupe_main: one tr_call at a time to an echo actor of
 *    the placement (bench_call_loop, as in bench_messaging);
 *  - oneway / troupe: tr_send()s of 64-byte msgpack bin bodies to a
 *    counter actor of the placement, then a tr_call for its count.
 *
 * Exec'd actors run this very program (cfg->self_exe), which registers
 * the same behaviors and then runs tr_exec_main().
 */
#include <stdio.h>
#include <stdlib.h>

#include <troupe.h>

#include "placement.h"

/* Longest wait for a DOWN after tr_stop (a safety net, not a timing). */
#define DOWN_WAIT_MS 10000

/* The aims for spawn-to-first-call, in µs. */
static const double spawn_aim_us[PLACE_N] = {0, 200, 2000, 10000, 200};

const char *
place_name(tr_placement p)
{
	switch (p) {
	case TR_PLACE_THREAD:
		return "thread";
	case TR_PLACE_FORK:
		return "fork";
	case TR_PLACE_EXEC:
		return "exec";
	case TR_PLACE_SCHEDULED:
		return "scheduled";
	default:
		return "auto";
	}
}

static int
spawn_at(
    const place_cfg *cfg, tr_placement p, const char *behavior, tr_ref *out)
{
	tr_spec spec = {0};
	tr_reason why = {0};
	char buf[64];
	int rv;

	spec.behavior = behavior;
	spec.placement = p;
	if (p == TR_PLACE_EXEC)
		spec.program = cfg->self_exe;
	if ((rv = tr_spawn(&spec, out, &why)) != TR_OK) {
		bench_fail("tr_spawn %s (%s): %s (%d)%s%s", behavior,
		    place_name(p), tr_strerror(rv), rv,
		    rv == TR_EINIT ? ", init: " : "",
		    rv == TR_EINIT ? tr_reason_format(why, buf, sizeof(buf)) :
		                     "");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Spawn to first call                                                 */
/* ------------------------------------------------------------------ */

int
place_spawn_figure(const place_cfg *cfg, tr_placement p)
{
	const char *pname = place_name(p);
	uint64_t n = cfg->spawn_n[p], warm = n / 10 + 1, taken = 0;
	uint64_t *samples, budget_ns, start;
	int rc = -1;

	if ((samples = malloc(n * sizeof(*samples))) == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	fprintf(stderr,
	    "bench: %s spawn to first call, up to %llu spawns or %.0f s...\n",
	    pname, (unsigned long long)n, cfg->spawn_budget_s);
	budget_ns = (uint64_t)(cfg->spawn_budget_s * 1e9);
	start = bench_now_ns();
	for (uint64_t i = 0; i < warm + n; i++) {
		const char *what = "";
		uint64_t t0, t1;
		tr_ref ref;
		int rv;

		/* Bounded by time, but never fewer than one sample. */
		if (i > warm && bench_now_ns() - start > budget_ns)
			break;
		t0 = bench_now_ns();
		if (spawn_at(cfg, p, BENCH_BEH_ECHO, &ref) != 0)
			goto out;
		/* One call, its reply checked: the actor works. */
		rv = bench_call_loop(ref, 1, 0, NULL, &what);
		t1 = bench_now_ns();
		if (rv != TR_OK) {
			bench_fail("%s spawn: first call: %s: %s", pname, what,
			    tr_strerror(rv));
			(void)bench_stop_wait(ref, pname, DOWN_WAIT_MS);
			goto out;
		}
		if (i >= warm)
			samples[taken++] = t1 - t0;
		if (bench_stop_wait(ref, pname, DOWN_WAIT_MS) != 0)
			goto out;
	}
	if (taken < n)
		fprintf(stderr,
		    "bench: %s spawn: time budget reached after "
		    "%llu samples\n",
		    pname, (unsigned long long)taken);
	bench_print_lat_at("spawn", "troupe", pname, cfg->pinned,
	    bench_lat_of(samples, taken), BENCH_ECHO_BODY_BYTES,
	    spawn_aim_us[p]);
	rc = 0;
out:
	free(samples);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Call round trip                                                     */
/* ------------------------------------------------------------------ */

int
place_rt_figure(const place_cfg *cfg, tr_placement p, place_results *res)
{
	const char *pname = place_name(p), *what = "";
	uint64_t *samples;
	tr_ref echo;
	bench_lat lat;
	int rv, rc = -1;

	if ((samples = malloc(cfg->rounds * sizeof(*samples))) == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	if (spawn_at(cfg, p, BENCH_BEH_ECHO, &echo) != 0)
		goto out;
	fprintf(stderr, "bench: %s call round trip, %llu...\n", pname,
	    (unsigned long long)cfg->rounds);
	rv = bench_call_loop(
	    echo, cfg->rounds_warm, cfg->rounds, samples, &what);
	if (rv != TR_OK) {
		bench_fail(
		    "%s round trip: %s: %s", pname, what, tr_strerror(rv));
	} else {
		lat = bench_lat_of(samples, cfg->rounds);
		bench_print_lat_at("roundtrip", "troupe_main", pname,
		    cfg->pinned, lat, BENCH_ECHO_BODY_BYTES, 0);
		res->rt_median_us[p] = lat.median_us;
		rc = 0;
	}
	if (bench_stop_wait(echo, pname, DOWN_WAIT_MS) != 0)
		rc = -1;
out:
	free(samples);
	return rc;
}

/* ------------------------------------------------------------------ */
/* One-way throughput                                                  */
/* ------------------------------------------------------------------ */

int
place_oneway_figure(const place_cfg *cfg, tr_placement p, place_results *res)
{
	const char *pname = place_name(p);
	size_t body_size = 0;
	tr_ref counter;
	uint64_t t0, t1;
	int rc = -1;

	if (spawn_at(cfg, p, BENCH_BEH_COUNTER, &counter) != 0)
		return -1;
	fprintf(stderr, "bench: %s one-way, %llu msgs...\n", pname,
	    (unsigned long long)cfg->oneway_n);
	if (bench_send_data(counter, cfg->oneway_warm, &body_size) != 0 ||
	    bench_check_count(counter, cfg->oneway_warm) != 0)
		goto stop;
	t0 = bench_now_ns();
	if (bench_send_data(counter, cfg->oneway_n, &body_size) != 0 ||
	    bench_check_count(counter, cfg->oneway_warm + cfg->oneway_n) != 0)
		goto stop;
	t1 = bench_now_ns();
	{
		double secs = (double)(t1 - t0) / 1e9;
		double rate = (double)cfg->oneway_n / secs;

		bench_print_rate_at("oneway", "troupe", pname, cfg->pinned,
		    rate, cfg->oneway_n, body_size, secs);
		res->oneway_msgs_per_s[p] = rate;
	}
	rc = 0;
stop:
	if (bench_stop_wait(counter, pname, DOWN_WAIT_MS) != 0)
		rc = -1;
	return rc;
}
