/*
 * bench_watch.c -- what the listener watch costs (transport/watch.h),
 * against the two other ways it could have worked, for N actors.
 *
 * An actor's mailbox is an inbox (a pull socket listening inproc and at
 * an ipc path, watched).  For each N it opens N inboxes and one control
 * socket (a tree's: watched every period), then prints one JSON line
 * per figure:
 *   nothing_to_check  the process's CPU per second, idle, before the
 *                   control socket is opened: nng's own, and the watch
 *                   asleep
 *   watch_idle      the process's CPU per second while nothing
 *                   happens (every period it checks the control socket;
 *                   mailboxes are checked only when a dialer asks), in
 *                   us, and as a share of one core
 *   watch_asked     one check a dialer asked for: from the request until
 *                   the watch says it is done (a scan of the N entries
 *                   and one probe), median of 20, in us
 *   probe_all       what a watchdog that dials every listener each
 *                   period would spend per period: checking all N
 *                   inboxes once, in us of CPU (process)
 *   stats_snapshot  the one other sign of the fault nng gives: a
 *                   snapshot of all of nng's statistics (the listener's
 *                   "other" errors are in it), in us of CPU
 * usage: bench_watch [--quick] [N...]   (default N: 0 100 1000 4000)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "control.h"
#include "socket.h"
#include "watch.h"

static _Atomic uint32_t wake;

static uint64_t
ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_buf(void *arg, tri_buf *b)
{
	(void)arg;
	tri_buf_free(b);
}

static void
on_request(void *arg, const uint8_t *req, size_t len)
{
	(void)tri_ctl_reply(*(tri_ctl **)arg, req, len);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int
run(size_t n, int idle_ms, const char *dir)
{
	tri_inbox **ib = calloc(n ? n : 1, sizeof(*ib));
	tri_accept_note *notes = calloc(n ? n : 1, sizeof(*notes));
	char url[256], local[64], ctl_path[256];
	tri_ctl *ctl = NULL;
	uint64_t c0, w0, k0, t0, asked[20];
	int rv = 0;

	if (ib == NULL || notes == NULL) {
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(url, sizeof(url), "ipc://%s/%zu", dir, i);
		snprintf(local, sizeof(local), "inproc://bench-watch/%zu", i);
		if (tri_inbox_open(
		        &ib[i], local, url, &notes[i], on_buf, NULL) != TR_OK) {
			fprintf(stderr, "bench_watch: inbox %zu failed\n", i);
			n = i;
			rv = 1;
			goto out;
		}
	}
	/* The same time with nothing to check: nng's own idle cost, and
	 * the watch asleep (mailboxes are checked only when asked). */
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = ns(CLOCK_MONOTONIC);
	{
		struct timespec d = {
		    idle_ms / 1000, (long)(idle_ms % 1000) * 1000000L};
		nanosleep(&d, NULL);
	}
	printf("{\"bench\":\"nothing_to_check\",\"actors\":%zu,"
	       "\"cpu_us_per_s\":%.1f}\n",
	    n,
	    (double)(ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3 /
	        ((double)(ns(CLOCK_MONOTONIC) - t0) / 1e9));
	snprintf(ctl_path, sizeof(ctl_path), "%s/tree.ctl", dir);
	if (tri_ctl_listen(&ctl, ctl_path, on_request, &ctl) != TR_OK) {
		rv = 1;
		goto out;
	}

	/* Idle: the watch checks the control socket every period. */
	w0 = tri_watch_cpu_ns();
	k0 = tri_watch_checks();
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = ns(CLOCK_MONOTONIC);
	{
		struct timespec d = {
		    idle_ms / 1000, (long)(idle_ms % 1000) * 1000000L};
		nanosleep(&d, NULL);
	}
	/* The thread's clock is read once per round of its loop: wait for
	 * one more round so that the figure covers the whole time. */
	while (tri_watch_checks() == k0) {
		struct timespec d = {0, 10 * 1000000L};
		nanosleep(&d, NULL);
	}
	{
		double secs = (double)(ns(CLOCK_MONOTONIC) - t0) / 1e9;
		double cpu_us =
		    (double)(ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3;
		double thread_us = (double)(tri_watch_cpu_ns() - w0) / 1e3;
		uint64_t checks = tri_watch_checks() - k0;
		/* The process does nothing else meanwhile: its CPU is the
		 * watch's, with nng's threads' share of each check. */
		printf("{\"bench\":\"watch_idle\",\"actors\":%zu,"
		       "\"cpu_us_per_s\":%.1f,\"core_share\":%.6f,"
		       "\"thread_cpu_us_per_s\":%.1f,\"checks_per_s\":%.1f,"
		       "\"cpu_us_per_check\":%.1f}\n",
		    n, cpu_us / secs, cpu_us / secs / 1e6, thread_us / secs,
		    (double)checks / secs,
		    checks ? cpu_us / (double)checks : 0.0);
	}

	/* A check a dialer asks for. */
	for (int k = 0; k < 20 && n > 0; k++) {
		tri_accept_note *note = &notes[(size_t)k * 7919u % n];
		uint64_t a = ns(CLOCK_MONOTONIC);
		tri_note_request_check(note, &wake);
		if (!tri_note_wait_checked(note, 5000)) {
			fprintf(stderr, "bench_watch: a check never ended\n");
			rv = 1;
		}
		asked[k] = ns(CLOCK_MONOTONIC) - a;
	}
	if (n > 0) {
		qsort(asked, 20, sizeof(asked[0]), cmp_u64);
		printf("{\"bench\":\"watch_asked\",\"actors\":%zu,"
		       "\"median_us\":%.1f,\"max_us\":%.1f}\n",
		    n, (double)asked[10] / 1e3, (double)asked[19] / 1e3);
	}

	/* What dialing every listener once costs. */
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = ns(CLOCK_MONOTONIC);
	for (size_t i = 0; i < n; i++) {
		bool repaired;
		(void)tri_inbox_check(ib[i], 1000, &repaired);
	}
	printf("{\"bench\":\"probe_all\",\"actors\":%zu,\"cpu_us\":%.1f,"
	       "\"wall_us\":%.1f}\n",
	    n, (double)(ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3,
	    (double)(ns(CLOCK_MONOTONIC) - t0) / 1e3);

	/* nng's statistics: one snapshot of everything. */
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	for (int k = 0; k < 5; k++) {
		nng_stat *st;
		if (nng_stats_get(&st) == 0) {
			nng_stats_free(st);
		}
	}
	printf("{\"bench\":\"stats_snapshot\",\"actors\":%zu,\"cpu_us\":%.1f}"
	       "\n",
	    n, (double)(ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 5e3);
	fflush(stdout);

out:
	tri_ctl_close(ctl);
	for (size_t i = 0; i < n; i++) {
		tri_inbox_close(ib[i]);
	}
	free(ib);
	free(notes);
	return rv;
}

int
main(int argc, char **argv)
{
	size_t ns_default[] = {0, 100, 1000, 4000}, quick[] = {0, 50};
	size_t list[32], nl = 0;
	int idle_ms = 5000, rv = 0;
	bool q = false;
	char dir[64];

	for (int i = 1; i < argc && nl < 32; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			q = true;
		} else {
			list[nl++] = (size_t)strtoul(argv[i], NULL, 10);
		}
	}
	if (nl == 0) {
		size_t *d = q ? quick : ns_default;
		nl = q ? 2 : 4;
		memcpy(list, d, nl * sizeof(*d));
	}
	if (q) {
		idle_ms = 500;
	}
	snprintf(dir, sizeof(dir), "/tmp/bench-watch-XXXXXX");
	if (mkdtemp(dir) == NULL || tri_watch_start(&wake) != TR_OK) {
		return 1;
	}
	fprintf(stderr, "bench_watch: period %d ms, probe %d ms\n",
	    TRI_WATCH_PERIOD_MS, TRI_WATCH_PROBE_MS);
	for (size_t i = 0; i < nl && rv == 0; i++) {
		rv = run(list[i], idle_ms, dir);
	}
	tri_watch_stop();
	rmdir(dir);
	return rv;
}
