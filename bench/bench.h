/*
 * bench.h -- private to bench/: shared by the benchmark program's files.
 * Not API.
 *
 * Every figure is printed as one line of flat JSON on stdout (string,
 * boolean and number values only, no nesting, no commas inside values),
 * so that bench/run.sh can aggregate runs with plain awk.  Progress and
 * diagnostics go to stderr.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a run measures; filled from the command line. */
typedef struct bench_cfg {
	uint64_t oneway_n;    /* messages in a one-way throughput run */
	uint64_t oneway_warm; /* messages sent first, not timed */
	uint64_t rounds;      /* round trips sampled per latency figure */
	uint64_t rounds_warm; /* round trips first, not sampled */
	bool pinned;          /* exactly one CPU allowed to this process */
} bench_cfg;

/* Body size of the one-way figures, raw and troupe alike. */
#define BENCH_BODY_BYTES 64

/* Per-call timeout of the troupe round-trip figures: what a typical
 * user would pass (OTP's gen_server:call default), not TR_FOREVER. */
#define BENCH_CALL_TIMEOUT_MS 5000

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Latency summary of a set of samples (nearest-rank percentiles). */
typedef struct bench_lat {
	double median_us;
	double p99_us;
	double min_us;
	uint64_t n;
} bench_lat;

/* Sorts samples_ns in place and summarises them. */
bench_lat bench_lat_of(uint64_t *samples_ns, uint64_t n);

/*
 * Printing.  Each function prints one JSON line and records the figure;
 * a figure that is zero, negative or not finite is printed anyway and
 * marks the run as failed (bench_failed()).
 */
void bench_print_rate(const char *bench, const char *impl, bool pinned,
    double msgs_per_s, uint64_t n, size_t body_bytes, double elapsed_s);
void bench_print_lat(const char *bench, const char *impl, bool pinned,
    bench_lat lat, size_t body_bytes);
void bench_print_ratio(
    const char *name, bool pinned, double value, const char *meaning);

/* Marks the run as failed, with a reason on stderr. */
void bench_fail(const char *fmt, ...);
bool bench_failed(void);

/* Figures shared between the floors and the troupe half, for ratios;
 * 0 when not measured. */
typedef struct bench_results {
	double nng_oneway_msgs_per_s;
	double pipe_rt_median_us;
	double nng_rt_median_us;
	double tr_oneway_msgs_per_s;
	double tr_call_main_median_us;
	double tr_call_actor_median_us;
} bench_results;

/* floors.c: raw nng and pipe figures; return 0 or -1 after bench_fail. */
int bench_floor_nng_oneway(const bench_cfg *cfg, bench_results *res);
int bench_floor_pipe_rt(const bench_cfg *cfg, bench_results *res);
int bench_floor_nng_rt(const bench_cfg *cfg, bench_results *res);

/* troupe_figures.c: the same figures through include/troupe.h.  The
 * runtime must already be initialised by the caller (tr_init). */
int bench_troupe_register(void);
int bench_troupe_figures(const bench_cfg *cfg, bench_results *res);

#endif
