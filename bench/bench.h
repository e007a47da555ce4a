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

#include <troupe.h>

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
/* Command-line helpers shared by the bench programs: a positive count,
 * a number of seconds in (0, 3600]; 0 or -1. */
int bench_parse_count(const char *s, uint64_t *out);
int bench_parse_seconds(const char *s, double *out);
/* Whether this process may run on exactly one CPU (taskset -c N). */
bool bench_is_pinned(void);

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

/*
 * The pieces of troupe_figures.c that bench_placement reuses.
 *
 * Behaviors registered by bench_troupe_register():
 *  - BENCH_BEH_COUNTER counts TAG_DATA messages and answers a TAG_COUNT
 *    call with the count (a msgpack uint);
 *  - BENCH_BEH_ECHO answers every call with a copy of its body;
 *  - BENCH_BEH_DRIVER runs a call loop from its handle (TAG_DRIVE).
 */
#define BENCH_BEH_COUNTER "bench.counter"
#define BENCH_BEH_ECHO "bench.echo"
#define BENCH_BEH_DRIVER "bench.driver"

enum {
	BENCH_TAG_DATA = 1,  /* one-way payload, counted */
	BENCH_TAG_COUNT = 2, /* call: reply with the count so far */
	BENCH_TAG_ECHO = 3,  /* call: reply with the request's body */
	BENCH_TAG_DRIVE = 4, /* call: [rounds, warm, echo ref] -> figures */
};

/* Size of one echo request body: a fixed-width msgpack uint64. */
#define BENCH_ECHO_BODY_BYTES 9

/* bench_fail()s with what and the error unless rv is TR_OK; returns rv. */
int bench_tr_check(int rv, const char *what);

/* Stops ref (reason shutdown) and waits up to wait_ms for its DOWN,
 * which must say shutdown; other messages meanwhile are reported and
 * dropped.  Main context.  0, or -1 after bench_fail (what names ref). */
int bench_stop_wait(tr_ref ref, const char *what, int wait_ms);

/*
 * One call at a time to echo: warm untimed calls, then `rounds` timed
 * ones into samples_ns (may be NULL when rounds is 0).  Each reply must
 * carry the request's number.  Main context or actor callback.  Returns
 * a TR_E* code; *what names the step that failed.
 */
int bench_call_loop(tr_ref echo, uint64_t warm, uint64_t rounds,
    uint64_t *samples_ns, const char **what);

/* Sends n TAG_DATA messages (64-byte msgpack bin bodies) to `to`;
 * *body_size gets the size of one body.  0, or -1 after bench_fail. */
int bench_send_data(tr_ref to, uint64_t n, size_t *body_size);

/* Calls the counter for its count; 0 if it is `expect`, else -1 after
 * bench_fail. */
int bench_check_count(tr_ref counter, uint64_t expect);

/*
 * Printing for bench_placement: the same lines with a "placement" field
 * after "impl" (placement NULL: no such field, as above).  aim_us > 0
 * adds "aim_us" (the target of the figure); aim, if not NULL, adds
 * "aim" to a ratio (e.g. ">= 1.0").
 */
void bench_print_rate_at(const char *bench, const char *impl,
    const char *placement, bool pinned, double msgs_per_s, uint64_t n,
    size_t body_bytes, double elapsed_s);
void bench_print_lat_at(const char *bench, const char *impl,
    const char *placement, bool pinned, bench_lat lat, size_t body_bytes,
    double aim_us);
void bench_print_ratio_at(const char *name, const char *placement, bool pinned,
    double value, const char *aim, const char *meaning);

/* How many figure lines (rates, latencies, ratios) were printed. */
unsigned bench_figures_printed(void);

#endif
