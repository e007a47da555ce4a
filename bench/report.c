/*
 * report.c -- clocks, percentiles and the JSON lines of the benchmark.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

static bool failed;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples: the smallest sample with at
 * least p% of the samples at or below it. */
static uint64_t
rank(const uint64_t *sorted, uint64_t n, double p)
{
	uint64_t k = (uint64_t)ceil(p / 100.0 * (double)n);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

bench_lat
bench_lat_of(uint64_t *samples_ns, uint64_t n)
{
	bench_lat lat = {0};

	if (n == 0)
		return lat;
	qsort(samples_ns, n, sizeof(*samples_ns), cmp_u64);
	lat.median_us = (double)rank(samples_ns, n, 50.0) / 1000.0;
	lat.p99_us = (double)rank(samples_ns, n, 99.0) / 1000.0;
	lat.min_us = (double)samples_ns[0] / 1000.0;
	lat.n = n;
	return lat;
}

void
bench_fail(const char *fmt, ...)
{
	va_list ap;

	failed = true;
	fprintf(stderr, "bench: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool
bench_failed(void)
{
	return failed;
}

static void
check(const char *what, const char *impl, double v)
{
	if (!isfinite(v) || v <= 0.0)
		bench_fail("%s/%s: figure is %g (zero, negative or not finite)",
		    what, impl, v);
}

static const char *
jbool(bool b)
{
	return b ? "true" : "false";
}

static unsigned printed;

unsigned
bench_figures_printed(void)
{
	return printed;
}

/* The line's opening: bench, impl, placement (if any), pinned. */
static void
head(const char *bench, const char *impl, const char *placement, bool pinned)
{
	printf("{\"bench\":\"%s\",\"impl\":\"%s\",", bench, impl);
	if (placement != NULL)
		printf("\"placement\":\"%s\",", placement);
	printf("\"pinned\":%s", jbool(pinned));
	printed++;
}

void
bench_print_rate_at(const char *bench, const char *impl, const char *placement,
    bool pinned, double msgs_per_s, uint64_t n, size_t body_bytes,
    double elapsed_s)
{
	check(bench, impl, msgs_per_s);
	head(bench, impl, placement, pinned);
	printf(",\"msgs_per_s\":%.0f,\"n\":%llu,\"body_bytes\":%zu,"
	       "\"elapsed_s\":%.4f}\n",
	    msgs_per_s, (unsigned long long)n, body_bytes, elapsed_s);
	fflush(stdout);
}

void
bench_print_rate(const char *bench, const char *impl, bool pinned,
    double msgs_per_s, uint64_t n, size_t body_bytes, double elapsed_s)
{
	bench_print_rate_at(
	    bench, impl, NULL, pinned, msgs_per_s, n, body_bytes, elapsed_s);
}

void
bench_print_lat_at(const char *bench, const char *impl, const char *placement,
    bool pinned, bench_lat lat, size_t body_bytes, double aim_us)
{
	check(bench, impl, lat.median_us);
	check(bench, impl, lat.p99_us);
	head(bench, impl, placement, pinned);
	printf(",\"median_us\":%.2f,\"p99_us\":%.2f,\"min_us\":%.2f,"
	       "\"n\":%llu,\"body_bytes\":%zu",
	    lat.median_us, lat.p99_us, lat.min_us, (unsigned long long)lat.n,
	    body_bytes);
	if (aim_us > 0)
		printf(",\"aim_us\":%.0f", aim_us);
	printf("}\n");
	fflush(stdout);
}

void
bench_print_lat(const char *bench, const char *impl, bool pinned, bench_lat lat,
    size_t body_bytes)
{
	bench_print_lat_at(bench, impl, NULL, pinned, lat, body_bytes, 0);
}

void
bench_print_ratio_at(const char *name, const char *placement, bool pinned,
    double value, const char *aim, const char *meaning)
{
	check("ratio", name, value);
	head("ratio", name, placement, pinned);
	printf(",\"ratio\":%.3f", value);
	if (aim != NULL)
		printf(",\"aim\":\"%s\"", aim);
	printf(",\"meaning\":\"%s\"}\n", meaning);
	fflush(stdout);
}

void
bench_print_ratio(
    const char *name, bool pinned, double value, const char *meaning)
{
	bench_print_ratio_at(name, NULL, pinned, value, NULL, meaning);
}

int
bench_parse_count(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v == 0)
		return -1;
	*out = v;
	return 0;
}

int
bench_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !(v > 0) || v > 3600)
		return -1;
	*out = v;
	return 0;
}

/* Pinned means the process may run on exactly one CPU. */
bool
bench_is_pinned(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return false;
	return CPU_COUNT(&set) == 1;
}
