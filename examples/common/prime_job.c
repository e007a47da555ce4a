/*
 * prime_job.c -- the prime-counting job and its chunk protocol, shared
 * by examples/worker_threads, examples/compute_pool and
 * bench/bench_compute.  prime_job.h says what each function does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "prime_job.h"

/* ------------------------------------------------------------------ */
/* The work itself: plain C, no troupe                                 */
/* ------------------------------------------------------------------ */

/* Trial division by odd numbers: slow on purpose (the job must keep a
 * core busy), exact, and dearer for larger x. */
static bool
is_prime(uint64_t x)
{
	if (x < 4) {
		return x >= 2;
	}
	if (x % 2 == 0) {
		return false;
	}
	for (uint64_t d = 3; d * d <= x; d += 2) {
		if (x % d == 0) {
			return false;
		}
	}
	return true;
}

uint64_t
pj_count_range(uint64_t lo, uint64_t hi)
{
	uint64_t count = 0;

	for (uint64_t x = lo; x < hi; x++) {
		count += is_prime(x);
	}
	return count;
}

uint64_t
pj_chunk_size(uint64_t n, uint64_t chunks)
{
	uint64_t size;

	if (chunks == 0) {
		chunks = 1;
	}
	size = n / chunks + (n % chunks != 0);
	return size > 0 ? size : 1;
}

uint64_t
pj_chunk_count(uint64_t n, uint64_t chunk)
{
	return chunk == 0 ? 0 : n / chunk + (n % chunk != 0);
}

uint64_t
pj_count_local(uint64_t n, uint64_t chunk)
{
	uint64_t total = 0;

	for (uint64_t lo = 0; lo < n; lo += chunk) {
		total += pj_count_range(lo, lo + chunk < n ? lo + chunk : n);
	}
	return total;
}

/* ------------------------------------------------------------------ */
/* The worker: an actor of any placement                               */
/* ------------------------------------------------------------------ */

/* Reads the array body [a, b, ...] of msg into v (want values, all
 * non-negative integers).  0, or -1 if the body is not that. */
static int
unpack_u64s(tr_msg *msg, uint64_t *v, uint32_t want)
{
	msgpack_object o;

	if (tr_msg_body(msg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != want) {
		return -1;
	}
	for (uint32_t i = 0; i < want; i++) {
		if (o.via.array.ptr[i].type !=
		    MSGPACK_OBJECT_POSITIVE_INTEGER) {
			return -1;
		}
		v[i] = o.via.array.ptr[i].via.u64;
	}
	return 0;
}

/* Runs on the worker's own thread (or in its own process): counts one
 * chunk and posts [lo, hi, count] back to whoever sent it. */
static int
worker_handle(void *state, tr_msg *msg)
{
	uint64_t range[2];
	tr_msg *r;
	int rv;

	(void)state;
	if (tr_msg_tag(msg) != PJ_CHUNK || unpack_u64s(msg, range, 2) != 0 ||
	    range[0] > range[1]) {
		fprintf(stderr, "prime_job: worker: bad message (tag %u)\n",
		    (unsigned)tr_msg_tag(msg));
		return 0; /* not ours to die over */
	}
	if ((rv = tr_msg_new(&r, PJ_RESULT)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(r), 3);
	msgpack_pack_uint64(tr_msg_packer(r), range[0]);
	msgpack_pack_uint64(tr_msg_packer(r), range[1]);
	msgpack_pack_uint64(
	    tr_msg_packer(r), pj_count_range(range[0], range[1]));
	if ((rv = tr_send(tr_msg_sender(msg), r)) != TR_OK) {
		tr_msg_free(r); /* a failed send leaves r with us */
		return rv;      /* nobody to work for: end, error(rv) */
	}
	return 0;
}

int
pj_register(void)
{
	static const tr_behavior worker = {
	    .name = PJ_BEHAVIOR, .handle = worker_handle};

	return tr_behavior_register(&worker);
}

/* ------------------------------------------------------------------ */
/* The main context's side                                             */
/* ------------------------------------------------------------------ */

int
pj_start(tr_placement p, const char *program, size_t k, tr_ref *workers)
{
	tr_reason why;
	char text[32];
	int rv;

	for (size_t i = 0; i < k; i++) {
		tr_spec spec = {.behavior = PJ_BEHAVIOR,
		    .placement = p,
		    .program = p == TR_PLACE_EXEC ? program : NULL,
		    .link = true};
		why = TR_REASON_NORMAL;
		if ((rv = tr_spawn(&spec, &workers[i], &why)) != TR_OK) {
			fprintf(stderr,
			    "prime_job: starting worker %zu: %s %s\n", i + 1,
			    tr_strerror(rv),
			    rv == TR_EINIT ?
			        tr_reason_format(why, text, sizeof(text)) :
			        "");
			(void)pj_stop(workers, i);
			return rv;
		}
	}
	return TR_OK;
}

/* Sends the chunk that starts at *next to w and moves *next on. */
static int
send_chunk(tr_ref w, uint64_t *next, uint64_t n, uint64_t chunk)
{
	uint64_t hi = n - *next > chunk ? *next + chunk : n;
	tr_msg *m;
	int rv;

	if ((rv = tr_msg_new(&m, PJ_CHUNK)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(m), 2);
	msgpack_pack_uint64(tr_msg_packer(m), *next);
	msgpack_pack_uint64(tr_msg_packer(m), hi);
	if ((rv = tr_send(w, m)) != TR_OK) {
		tr_msg_free(m);
		return rv;
	}
	*next = hi;
	return TR_OK;
}

int
pj_run(const tr_ref *workers, size_t k, uint64_t n, uint64_t chunk,
    int timeout_ms, uint64_t *primes, uint64_t *per_worker)
{
	uint64_t next = 0, covered = 0, total = 0, v[3];
	tr_reason why;
	char text[32];
	tr_msg *m;
	int rv;

	if (workers == NULL || k == 0 || chunk == 0 || primes == NULL) {
		return TR_EINVAL;
	}
	for (size_t i = 0; per_worker != NULL && i < k; i++) {
		per_worker[i] = 0;
	}
	/* PJ_DEPTH chunks each to begin with, one round at a time so that
	 * every worker has work before any has its second chunk. */
	for (int d = 0; d < PJ_DEPTH; d++) {
		for (size_t i = 0; i < k && next < n; i++) {
			if ((rv = send_chunk(workers[i], &next, n, chunk)) !=
			    TR_OK) {
				return rv;
			}
		}
	}
	/* Then one new chunk per result, to the worker that sent it: the
	 * fast ones get more.  Done when every number has been counted. */
	while (covered < n) {
		if ((rv = tr_recv(&m, timeout_ms)) != TR_OK) {
			return rv;
		}
		switch (tr_msg_tag(m)) {
		case PJ_RESULT:
			if (unpack_u64s(m, v, 3) != 0 || v[0] >= v[1] ||
			    v[1] > n) {
				tr_msg_free(m);
				return TR_EPROTO;
			}
			covered += v[1] - v[0];
			total += v[2];
			for (size_t i = 0; per_worker != NULL && i < k; i++) {
				if (tr_ref_equal(
				        tr_msg_sender(m), workers[i])) {
					per_worker[i]++;
				}
			}
			rv = next < n ?
			    send_chunk(tr_msg_sender(m), &next, n, chunk) :
			    TR_OK;
			tr_msg_free(m);
			if (rv != TR_OK) {
				return rv;
			}
			break;
		case TR_TAG_EXIT: /* a linked worker ended mid-job */
		case TR_TAG_DOWN:
			tr_msg_reason(m, NULL, &why, NULL);
			fprintf(stderr, "prime_job: a worker ended: %s\n",
			    tr_reason_format(why, text, sizeof(text)));
			tr_msg_free(m);
			return TR_ENOPROC;
		default: /* not part of the job */
			tr_msg_free(m);
			break;
		}
	}
	*primes = total;
	return TR_OK;
}

int
pj_stop(const tr_ref *workers, size_t k)
{
	size_t pending = 0;
	bool *waiting = calloc(k > 0 ? k : 1, sizeof(*waiting));
	tr_ref who;
	tr_msg *m;
	int rv, first = TR_OK;

	if (waiting == NULL) {
		return TR_ENOMEM;
	}
	for (size_t i = 0; i < k; i++) {
		rv = tr_stop(workers[i], TR_REASON_SHUTDOWN);
		waiting[i] = rv == TR_OK;
		pending += waiting[i];
		if (rv != TR_OK && rv != TR_ENOPROC && first == TR_OK) {
			first = rv;
		}
	}
	/* Each stopped worker's link brings its exit notice: wait for all,
	 * so that no worker outlives the call (and none of their notices
	 * lands in the next job). */
	while (pending > 0) {
		if ((rv = tr_recv(&m, 10000)) != TR_OK) {
			first = first != TR_OK ? first : rv;
			break;
		}
		if (tr_msg_tag(m) == TR_TAG_EXIT &&
		    tr_msg_reason(m, &who, NULL, NULL) == TR_OK) {
			for (size_t i = 0; i < k; i++) {
				if (waiting[i] &&
				    tr_ref_equal(who, workers[i])) {
					waiting[i] = false;
					pending--;
				}
			}
		}
		tr_msg_free(m);
	}
	free(waiting);
	return first;
}

int
pj_self_exe(char *buf, size_t len)
{
	ssize_t n;

	if (len < 2) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((n = readlink("/proc/self/exe", buf, len - 1)) < 0) {
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

double
pj_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool
pj_parse_count(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9') {
		return false;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0) {
		return false;
	}
	*out = v;
	return true;
}
