/*
 * shared_buffers -- Node's SharedArrayBuffer and transfer lists in
 * troupe: workers read one input array and write one result array, both
 * shared, without a byte of either being copied into a message.
 *
 *   shared_buffers [thread|fork|exec] [N]
 *
 * The main thread fills an array of N 32-bit numbers (default 4000000)
 * in a buffer, and hands it to K workers (one per core) by reference,
 * with a result buffer of K 64-bit slots.  Worker i sums the squares of
 * its slice into slot i and replies; nobody else writes slot i, so no
 * atomics are needed.  The same program runs the workers as threads,
 * fork members or exec'd copies of itself: only the placement changes.
 * The input goes to the last worker by transfer, Node's postMessage(x,
 * [x]): the main thread cannot touch it afterwards, and says what the
 * API answers when it tries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <troupe.h>

#define TAG_WORK 1 /* [input, results, lo, hi, slot] */
#define TAG_DONE 2 /* [slot] */
#define MAX_WORKERS 64

static void
check(int rv, const char *what)
{
	if (rv != TR_OK) {
		fprintf(
		    stderr, "shared_buffers: %s: %s\n", what, tr_strerror(rv));
		exit(1);
	}
}

/* The worker: a plain behavior, whatever its placement. */
static int
work(void *state, tr_msg *m)
{
	msgpack_object o, *a;
	tr_buf in, out;
	uint32_t *x;
	uint64_t *res, sum = 0, lo, hi, slot;
	tr_msg *r;
	int rv;

	(void)state;
	if ((rv = tr_msg_body(m, &o)) != TR_OK) {
		return rv;
	}
	a = o.via.array.ptr;
	if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 5) {
		return TR_EPROTO;
	}
	if ((rv = tr_unpack_buf(&a[0], &in)) != TR_OK) {
		return rv;
	}
	if ((rv = tr_unpack_buf(&a[1], &out)) != TR_OK) {
		tr_buf_release(in);
		return rv;
	}
	lo = a[2].via.u64;
	hi = a[3].via.u64;
	slot = a[4].via.u64;
	tr_buf_data(in, (void **)&x, NULL);
	tr_buf_data(out, (void **)&res, NULL);
	for (uint64_t i = lo; i < hi; i++) {
		sum += (uint64_t)x[i] * x[i];
	}
	res[slot] = sum; /* our slot: nobody else writes it */
	tr_buf_release(in);
	tr_buf_release(out);
	if ((rv = tr_msg_new(&r, TAG_DONE)) != TR_OK) {
		return rv;
	}
	msgpack_pack_uint64(tr_msg_packer(r), slot);
	if ((rv = tr_send(tr_msg_sender(m), r)) != TR_OK) {
		tr_msg_free(r);
	}
	return rv;
}

int
main(int argc, char **argv)
{
	static const tr_behavior worker = {.name = "sb.worker", .handle = work};
	tr_placement place = TR_PLACE_THREAD;
	uint64_t n = 4000000, k, expect = 0, total = 0, *res;
	tr_ref w[MAX_WORKERS];
	char exe[4096];
	tr_buf in, out;
	uint32_t *x;
	ssize_t len;

	check(tr_init(NULL), "init"); /* first: exec'd copies join here */
	check(tr_behavior_register(&worker), "register");
	if (tr_exec_main() >= 0) {
		return 0; /* we were an exec'd worker, and it ended */
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "fork") == 0) {
			place = TR_PLACE_FORK;
		} else if (strcmp(argv[i], "exec") == 0) {
			place = TR_PLACE_EXEC;
		} else if (strcmp(argv[i], "thread") != 0 &&
		    (n = strtoull(argv[i], NULL, 10)) == 0) {
			fprintf(stderr,
			    "usage: shared_buffers [thread|fork|exec] [N]\n");
			return 2;
		}
	}
	k = tr_cores() < MAX_WORKERS ? tr_cores() : MAX_WORKERS;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';

	/* new SharedArrayBuffer(n * 4), filled once */
	check(tr_buf_new(&in, n * sizeof(uint32_t)), "input buffer");
	check(tr_buf_new(&out, k * sizeof(uint64_t)), "result buffer");
	check(tr_buf_data(in, (void **)&x, NULL), "input bytes");
	check(tr_buf_data(out, (void **)&res, NULL), "result bytes");
	for (uint64_t i = 0; i < n; i++) {
		x[i] = (uint32_t)(i % 1000);
		expect += (uint64_t)x[i] * x[i];
	}

	for (uint64_t i = 0; i < k; i++) {
		tr_spec s = {.behavior = "sb.worker", .placement = place};
		tr_msg *m;
		s.program = place == TR_PLACE_EXEC ? exe : NULL;
		check(tr_spawn(&s, &w[i], NULL), "spawn");
		check(tr_msg_new(&m, TAG_WORK), "message");
		msgpack_pack_array(tr_msg_packer(m), 5);
		/* The last worker gets the input by transfer: ours detaches. */
		check(tr_pack_buf(tr_msg_packer(m), in,
		          i + 1 == k ? TR_BUF_TRANSFER : TR_BUF_SHARE),
		    "pack input");
		check(tr_pack_buf(tr_msg_packer(m), out, TR_BUF_SHARE),
		    "pack results");
		msgpack_pack_uint64(tr_msg_packer(m), n * i / k);
		msgpack_pack_uint64(tr_msg_packer(m), n * (i + 1) / k);
		msgpack_pack_uint64(tr_msg_packer(m), i);
		check(tr_send(w[i], m), "send");
	}
	printf("shared_buffers: input after the transfer: %s\n",
	    tr_strerror(tr_buf_data(in, NULL, NULL)));
	for (uint64_t i = 0; i < k; i++) {
		tr_msg *r;
		check(tr_recv(&r, 60000), "result");
		tr_msg_free(r);
	}
	for (uint64_t i = 0; i < k; i++) {
		total += res[i]; /* written by the workers, read here */
		tr_stop(w[i], TR_REASON_NORMAL);
	}
	printf("shared_buffers: %llu workers (%s), sum of squares of %llu "
	       "numbers: %llu (%s)\n",
	    (unsigned long long)k,
	    place == TR_PLACE_FORK     ? "fork" :
	        place == TR_PLACE_EXEC ? "exec" :
	                                 "thread",
	    (unsigned long long)n, (unsigned long long)total,
	    total == expect ? "right" : "WRONG");
	tr_buf_release(in);
	tr_buf_release(out);
	check(tr_shutdown(), "shutdown");
	return total == expect ? 0 : 1;
}
