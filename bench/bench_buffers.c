/*
 * bench_buffers.c -- handing a body to an actor by reference (a shared
 * buffer in the message) and by copy (the bytes in the message), to a
 * thread actor, a fork member and an exec'd program, for 1 KiB, 1 MiB
 * and 16 MiB.
 *
 * One figure is the median time of a call whose request carries the
 * body and whose receiver touches its first and last byte (so a
 * reference is mapped and read, a copy is read where it landed) and
 * replies with an empty body.  By reference, one buffer is shared over
 * and over: each call takes a hold, maps it in the receiver if need be
 * and lets it go.  Both modes are measured in the same run.
 *
 * A body is at most TR_MSG_MAX (16 MiB) including its msgpack framing,
 * so the 16 MiB copy carries 16 MiB less 16 bytes (bench/README.md).
 *
 * Output (one JSON line per figure):
 *   {"bench":"buffers","placement":P,"mode":"ref"|"copy","bytes":N,
 *    "median_us":X}
 * bench/run.sh buffers adds the medians across runs.  The program is
 * also the exec'd actor.  --quick: few calls, for the suite.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#define TAG_GO 1
#define TAG_DONE 2
#define COPY_SLACK 16

static const char *BEH = "bench.buf";

static int
buf_handle(void *state, tr_msg *m)
{
	msgpack_object o;
	const uint8_t *p = NULL;
	size_t n = 0;
	tr_buf b = TR_BUF_NIL;
	tr_msg *r;
	int sum = 0;

	(void)state;
	if (tr_msg_body(m, &o) == TR_OK && o.type == MSGPACK_OBJECT_ARRAY &&
	    o.via.array.size == 1) {
		msgpack_object *x = &o.via.array.ptr[0];
		if (x->type == MSGPACK_OBJECT_EXT &&
		    tr_unpack_buf(x, &b) == TR_OK) {
			(void)tr_buf_data(b, (void **)&p, &n);
		} else if (x->type == MSGPACK_OBJECT_BIN) {
			p = (const uint8_t *)x->via.bin.ptr;
			n = x->via.bin.size;
		}
	}
	if (p != NULL && n > 0) {
		sum = p[0] + p[n - 1];
	}
	(void)tr_buf_release(b);
	if (tr_msg_new(&r, TAG_DONE) == TR_OK) {
		msgpack_pack_int(tr_msg_packer(r), sum);
		if (tr_reply(tr_msg_from(m), r) != TR_OK) {
			tr_msg_free(r);
		}
	}
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One call carrying the body (by ref: buf; by copy: n bytes of src). */
static int
one_call(tr_ref to, tr_buf buf, const uint8_t *src, size_t n, uint64_t *ns)
{
	tr_msg *m, *r = NULL;
	uint64_t t0;
	int rv;

	t0 = now_ns();
	if ((rv = tr_msg_new(&m, TAG_GO)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(m), 1);
	if (src == NULL) {
		rv = tr_pack_buf(tr_msg_packer(m), buf, TR_BUF_SHARE);
	} else if (msgpack_pack_bin(tr_msg_packer(m), n) != 0 ||
	    msgpack_pack_bin_body(tr_msg_packer(m), src, n) != 0) {
		rv = TR_EMSGSIZE;
	}
	if (rv == TR_OK && (rv = tr_call(to, m, 30000, &r, NULL)) == TR_OK) {
		*ns = now_ns() - t0;
		tr_msg_free(r);
		return TR_OK;
	}
	tr_msg_free(m);
	return rv;
}

static const char *
place_name(tr_placement p)
{
	return p == TR_PLACE_THREAD ? "thread" :
	    p == TR_PLACE_FORK      ? "fork" :
	                              "exec";
}

/* Prints one figure; false if it could not be measured. */
static bool
figure(tr_ref to, tr_placement p, bool ref, size_t bytes, int calls,
    const uint8_t *src)
{
	uint64_t *ns = calloc((size_t)calls, sizeof(*ns));
	tr_buf b = TR_BUF_NIL;
	bool ok = ns != NULL;
	int rv = TR_OK;

	if (ok && ref) {
		void *d;
		if ((rv = tr_buf_new(&b, bytes)) == TR_OK &&
		    (rv = tr_buf_data(b, &d, NULL)) == TR_OK) {
			memset(d, 1, bytes);
		}
		ok = rv == TR_OK;
	}
	/* One call first, not timed: the receiver's first mapping, the
	 * connection, the caches. */
	for (int i = -1; ok && i < calls; i++) {
		uint64_t t = 0;
		rv = one_call(to, b, ref ? NULL : src,
		    ref ? 0 :
		          (bytes > TR_MSG_MAX - COPY_SLACK ?
		                  TR_MSG_MAX - COPY_SLACK :
		                  bytes),
		    &t);
		ok = rv == TR_OK;
		if (i >= 0) {
			ns[i] = t;
		}
	}
	if (ok) {
		qsort(ns, (size_t)calls, sizeof(*ns), cmp_u64);
		printf("{\"bench\":\"buffers\",\"placement\":\"%s\","
		       "\"mode\":\"%s\",\"bytes\":%zu,\"median_us\":%.1f}\n",
		    place_name(p), ref ? "ref" : "copy", bytes,
		    (double)ns[calls / 2] / 1000.0);
		fflush(stdout);
	} else {
		fprintf(stderr, "bench_buffers: %s %s %zu: %s\n", place_name(p),
		    ref ? "ref" : "copy", bytes, tr_strerror(rv));
	}
	(void)tr_buf_release(b);
	free(ns);
	return ok;
}

int
main(int argc, char **argv)
{
	static const tr_behavior beh = {
	    .name = "bench.buf", .handle = buf_handle};
	static const size_t sizes[] = {1024, 1 << 20, 16 << 20};
	int calls[] = {400, 100, 30};
	const tr_placement places[] = {
	    TR_PLACE_THREAD, TR_PLACE_FORK, TR_PLACE_EXEC};
	char exe[PATH_MAX];
	uint8_t *src;
	ssize_t len;
	int failed = 0, rv;

	if ((rv = tr_init(NULL)) != TR_OK) {
		fprintf(stderr, "tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	(void)tr_behavior_register(&beh);
	if ((rv = tr_exec_main()) >= 0) {
		return rv;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			calls[0] = 20;
			calls[1] = 5;
			calls[2] = 3;
		} else {
			fprintf(stderr, "usage: bench_buffers [--quick]\n");
			tr_shutdown();
			return 2;
		}
	}
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0 ||
	    (src = malloc(TR_MSG_MAX)) == NULL) {
		tr_shutdown();
		return 1;
	}
	exe[len] = '\0';
	memset(src, 1, TR_MSG_MAX);

	for (size_t p = 0; p < 3; p++) {
		tr_spec spec;
		tr_ref to;
		memset(&spec, 0, sizeof(spec));
		spec.behavior = BEH;
		spec.placement = places[p];
		if (places[p] == TR_PLACE_EXEC) {
			spec.program = exe;
		}
		if ((rv = tr_spawn(&spec, &to, NULL)) != TR_OK) {
			fprintf(stderr, "bench_buffers: spawn %s: %s\n",
			    place_name(places[p]), tr_strerror(rv));
			failed = 1;
			continue;
		}
		for (size_t s = 0; s < 3; s++) {
			failed |= !figure(
			    to, places[p], true, sizes[s], calls[s], src);
			failed |= !figure(
			    to, places[p], false, sizes[s], calls[s], src);
		}
		(void)tr_stop(to, TR_REASON_NORMAL);
	}
	free(src);
	tr_shutdown();
	return failed;
}
