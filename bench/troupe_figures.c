/*
 * troupe_figures.c -- the benchmark's troupe half: the floors' figures
 * again, through include/troupe.h only, with thread-placed actors.
 *
 *  - oneway:    the main context sends N tagged messages with a 64-byte
 *               msgpack bin body to a counter actor, never waiting,
 *               except for one final call that returns the count (so
 *               that every message is known to be handled);
 *  - roundtrip, impl troupe_main:  the main context calls an echo actor,
 *               one call at a time;
 *  - roundtrip, impl troupe_actor: the same loop run by a driver actor
 *               inside its handle callback, calling the same echo actor.
 *
 * The behaviors and the send / call loops are shared with
 * bench_placement (bench.h), which runs them under every placement.
 */
#include <stdio.h>
#include <stdlib.h>

#include <troupe.h>

#include "bench.h"

/* Tags and behavior names: see bench.h. */
#define TAG_DATA BENCH_TAG_DATA
#define TAG_COUNT BENCH_TAG_COUNT
#define TAG_ECHO BENCH_TAG_ECHO
#define TAG_DRIVE BENCH_TAG_DRIVE
#define BEH_COUNTER BENCH_BEH_COUNTER
#define BEH_ECHO BENCH_BEH_ECHO
#define BEH_DRIVER BENCH_BEH_DRIVER

/* Bound on the driver's whole loop, so that a stuck runtime shows up as
 * an error rather than a hang. */
#define DRIVE_TIMEOUT_MS (10 * 60 * 1000)

int
bench_tr_check(int rv, const char *what)
{
	if (rv != TR_OK)
		bench_fail("%s: %s (%d)", what, tr_strerror(rv), rv);
	return rv;
}

/* A message with tag and an empty body, and its packer. */
static int
msg_start(tr_msg **out, uint32_t tag, msgpack_packer **pk)
{
	int rv = tr_msg_new(out, tag);

	if (rv != TR_OK)
		return rv;
	if ((*pk = tr_msg_packer(*out)) == NULL) {
		tr_msg_free(*out);
		*out = NULL;
		return TR_ENOMEM;
	}
	return TR_OK;
}

/* Replies to a call with a body of one unsigned integer. */
static int
reply_u64(tr_msg *call, uint32_t tag, uint64_t v)
{
	msgpack_packer *pk;
	tr_msg *r;
	int rv;

	if ((rv = msg_start(&r, tag, &pk)) != TR_OK)
		return rv;
	if (msgpack_pack_uint64(pk, v) != 0) {
		tr_msg_free(r);
		return TR_ENOMEM;
	}
	if ((rv = tr_reply(tr_msg_from(call), r)) != TR_OK)
		tr_msg_free(r);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Behaviors                                                           */
/* ------------------------------------------------------------------ */

struct counter {
	uint64_t count;
};

/* Runs on the counter's thread.  Counts TAG_DATA, answers TAG_COUNT. */
static int
counter_handle(void *state, tr_msg *msg)
{
	struct counter *c = state;
	int rv;

	switch (tr_msg_tag(msg)) {
	case TAG_DATA:
		c->count++;
		return 0;
	case TAG_COUNT:
		if ((rv = reply_u64(msg, TAG_COUNT, c->count)) != TR_OK)
			fprintf(stderr, "bench: counter reply: %s\n",
			    tr_strerror(rv));
		return rv;
	default:
		fprintf(stderr, "bench: counter: unexpected tag %u\n",
		    (unsigned)tr_msg_tag(msg));
		return TR_EPROTO;
	}
}

/* Runs on the echo actor's thread: answers every call with a copy of
 * its body. */
static int
echo_handle(void *state, tr_msg *msg)
{
	msgpack_packer *pk;
	msgpack_object body;
	tr_msg *r;
	int rv;

	(void)state;
	if (!tr_msg_is_call(msg))
		return 0;
	if ((rv = tr_msg_body(msg, &body)) != TR_OK)
		return rv;
	if ((rv = msg_start(&r, tr_msg_tag(msg), &pk)) != TR_OK)
		return rv;
	if (msgpack_pack_object(pk, body) != 0) {
		tr_msg_free(r);
		return TR_ENOMEM;
	}
	if ((rv = tr_reply(tr_msg_from(msg), r)) != TR_OK) {
		fprintf(stderr, "bench: echo reply: %s\n", tr_strerror(rv));
		tr_msg_free(r);
	}
	return rv;
}

/*
 * One call at a time to echo: warm untimed calls, then `rounds` timed
 * ones into samples_ns.  Each reply must carry the request's number.
 * Runs in the main context or in an actor callback.  Returns a TR_E*
 * code; *what names the step that failed.
 */
int
bench_call_loop(tr_ref echo, uint64_t warm, uint64_t rounds,
    uint64_t *samples_ns, const char **what)
{
	for (uint64_t i = 0; i < warm + rounds; i++) {
		msgpack_packer *pk;
		msgpack_object body;
		tr_msg *req, *rep;
		bool sent = false;
		uint64_t t0, t1;
		int rv;

		*what = "tr_msg_new";
		if ((rv = msg_start(&req, TAG_ECHO, &pk)) != TR_OK)
			return rv;
		/* Fixed width, so that every request has the same size. */
		if (msgpack_pack_fix_uint64(pk, i) != 0) {
			tr_msg_free(req);
			return TR_ENOMEM;
		}
		*what = "tr_call (echo)";
		t0 = bench_now_ns();
		rv = tr_call(echo, req, BENCH_CALL_TIMEOUT_MS, &rep, &sent);
		t1 = bench_now_ns();
		if (rv != TR_OK) {
			if (!sent)
				tr_msg_free(req);
			return rv;
		}
		*what = "echo reply body";
		rv = tr_msg_body(rep, &body);
		if (rv == TR_OK &&
		    (body.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		        body.via.u64 != i))
			rv = TR_EPROTO;
		tr_msg_free(rep);
		if (rv != TR_OK)
			return rv;
		if (i >= warm)
			samples_ns[i - warm] = t1 - t0;
	}
	return TR_OK;
}

/* Reads [rounds, warm, ref] from a TAG_DRIVE request. */
static int
drive_args(tr_msg *msg, uint64_t *rounds, uint64_t *warm, tr_ref *echo)
{
	msgpack_object body;
	int rv;

	if ((rv = tr_msg_body(msg, &body)) != TR_OK)
		return rv;
	if (body.type != MSGPACK_OBJECT_ARRAY || body.via.array.size != 3 ||
	    body.via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    body.via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return TR_EPROTO;
	*rounds = body.via.array.ptr[0].via.u64;
	*warm = body.via.array.ptr[1].via.u64;
	if (*rounds == 0)
		return TR_EPROTO;
	return tr_unpack_ref(&body.via.array.ptr[2], echo);
}

/*
 * Runs on the driver's thread: on TAG_DRIVE, runs bench_call_loop inside
 * this callback and replies [status, median_us, p99_us, min_us, n];
 * status is TR_OK or the TR_E* code that stopped the loop.
 */
static int
driver_handle(void *state, tr_msg *msg)
{
	uint64_t rounds = 0, warm = 0, *samples = NULL;
	const char *what = "driver arguments";
	bench_lat lat = {0};
	msgpack_packer *pk;
	tr_ref echo;
	tr_msg *r;
	int rv, status;

	(void)state;
	if (tr_msg_tag(msg) != TAG_DRIVE || !tr_msg_is_call(msg))
		return TR_EPROTO;
	status = drive_args(msg, &rounds, &warm, &echo);
	if (status == TR_OK) {
		samples = malloc(rounds * sizeof(*samples));
		what = "malloc";
		status = samples == NULL ? TR_ENOMEM : TR_OK;
	}
	if (status == TR_OK)
		status = bench_call_loop(echo, warm, rounds, samples, &what);
	if (status == TR_OK)
		lat = bench_lat_of(samples, rounds);
	else
		fprintf(stderr, "bench: driver: %s: %s\n", what,
		    tr_strerror(status));
	free(samples);

	if ((rv = msg_start(&r, TAG_DRIVE, &pk)) != TR_OK)
		return rv;
	if (msgpack_pack_array(pk, 5) != 0 ||
	    msgpack_pack_int(pk, status) != 0 ||
	    msgpack_pack_double(pk, lat.median_us) != 0 ||
	    msgpack_pack_double(pk, lat.p99_us) != 0 ||
	    msgpack_pack_double(pk, lat.min_us) != 0 ||
	    msgpack_pack_uint64(pk, lat.n) != 0) {
		tr_msg_free(r);
		return TR_ENOMEM;
	}
	if ((rv = tr_reply(tr_msg_from(msg), r)) != TR_OK) {
		fprintf(stderr, "bench: driver reply: %s\n", tr_strerror(rv));
		tr_msg_free(r);
	}
	return rv;
}

int
bench_troupe_register(void)
{
	static const tr_behavior behs[] = {
	    {.name = BEH_COUNTER,
	        .state_size = sizeof(struct counter),
	        .handle = counter_handle},
	    {.name = BEH_ECHO, .handle = echo_handle},
	    {.name = BEH_DRIVER, .handle = driver_handle},
	};

	for (size_t i = 0; i < sizeof(behs) / sizeof(behs[0]); i++)
		if (bench_tr_check(tr_behavior_register(&behs[i]),
		        "tr_behavior_register") != TR_OK)
			return -1;
	return 0;
}

static int
spawn_thread_actor(const char *behavior, tr_ref *out)
{
	tr_spec spec = {0};
	tr_reason why = {0};
	char buf[64];
	int rv;

	spec.behavior = behavior;
	spec.placement = TR_PLACE_THREAD;
	if ((rv = tr_spawn(&spec, out, &why)) != TR_OK) {
		bench_fail("tr_spawn %s: %s (%d)%s%s", behavior,
		    tr_strerror(rv), rv, rv == TR_EINIT ? ", init: " : "",
		    rv == TR_EINIT ? tr_reason_format(why, buf, sizeof(buf)) :
		                     "");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* One-way throughput                                                  */
/* ------------------------------------------------------------------ */

/* Sends n TAG_DATA messages; *body_size gets the size of one body. */
int
bench_send_data(tr_ref to, uint64_t n, size_t *body_size)
{
	static const unsigned char payload[BENCH_BODY_BYTES] = {0xA5};

	for (uint64_t i = 0; i < n; i++) {
		msgpack_packer *pk;
		tr_msg *m;
		int rv;

		if (bench_tr_check(
		        msg_start(&m, TAG_DATA, &pk), "tr_msg_new") != TR_OK)
			return -1;
		if (msgpack_pack_bin(pk, sizeof(payload)) != 0 ||
		    msgpack_pack_bin_body(pk, payload, sizeof(payload)) != 0) {
			tr_msg_free(m);
			bench_fail("packing the one-way body failed");
			return -1;
		}
		*body_size = tr_msg_size(m);
		if ((rv = tr_send(to, m)) != TR_OK) {
			tr_msg_free(m);
			bench_tr_check(rv, "tr_send");
			return -1;
		}
	}
	return 0;
}

/* Calls the counter for its count; fails unless it is `expect`. */
int
bench_check_count(tr_ref counter, uint64_t expect)
{
	msgpack_object body;
	tr_msg *req, *rep;
	bool sent = false;
	int rv;

	if (bench_tr_check(tr_msg_new(&req, TAG_COUNT), "tr_msg_new") != TR_OK)
		return -1;
	rv = tr_call(counter, req, DRIVE_TIMEOUT_MS, &rep, &sent);
	if (rv != TR_OK) {
		if (!sent)
			tr_msg_free(req);
		bench_tr_check(rv, "tr_call (count)");
		return -1;
	}
	rv = tr_msg_body(rep, &body);
	if (rv == TR_OK &&
	    (body.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	        body.via.u64 != expect)) {
		bench_fail("counter: handled %llu messages, expected %llu",
		    body.type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
		        (unsigned long long)body.via.u64 :
		        0ull,
		    (unsigned long long)expect);
		rv = TR_EPROTO;
	} else {
		bench_tr_check(rv, "count reply body");
	}
	tr_msg_free(rep);
	return rv == TR_OK ? 0 : -1;
}

static int
troupe_oneway(const bench_cfg *cfg, bench_results *res)
{
	size_t body_size = 0;
	tr_ref counter;
	uint64_t t0, t1;

	if (spawn_thread_actor(BEH_COUNTER, &counter) != 0)
		return -1;
	fprintf(stderr, "bench: troupe one-way, %llu msgs...\n",
	    (unsigned long long)cfg->oneway_n);
	if (bench_send_data(counter, cfg->oneway_warm, &body_size) != 0 ||
	    bench_check_count(counter, cfg->oneway_warm) != 0)
		return -1;
	t0 = bench_now_ns();
	if (bench_send_data(counter, cfg->oneway_n, &body_size) != 0 ||
	    bench_check_count(counter, cfg->oneway_warm + cfg->oneway_n) != 0)
		return -1;
	t1 = bench_now_ns();
	{
		double secs = (double)(t1 - t0) / 1e9;
		double rate = (double)cfg->oneway_n / secs;

		bench_print_rate("oneway", "troupe", cfg->pinned, rate,
		    cfg->oneway_n, body_size, secs);
		res->tr_oneway_msgs_per_s = rate;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Call round trips                                                    */
/* ------------------------------------------------------------------ */

#define ECHO_BODY_BYTES BENCH_ECHO_BODY_BYTES

static int
troupe_call_main(const bench_cfg *cfg, tr_ref echo, bench_results *res)
{
	const char *what = "";
	uint64_t *samples;
	bench_lat lat;
	int rv;

	if ((samples = malloc(cfg->rounds * sizeof(*samples))) == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	fprintf(stderr, "bench: troupe call from main, %llu...\n",
	    (unsigned long long)cfg->rounds);
	rv = bench_call_loop(
	    echo, cfg->rounds_warm, cfg->rounds, samples, &what);
	if (rv != TR_OK) {
		bench_tr_check(rv, what);
		free(samples);
		return -1;
	}
	lat = bench_lat_of(samples, cfg->rounds);
	free(samples);
	bench_print_lat(
	    "roundtrip", "troupe_main", cfg->pinned, lat, ECHO_BODY_BYTES);
	res->tr_call_main_median_us = lat.median_us;
	return 0;
}

static int
troupe_call_actor(const bench_cfg *cfg, tr_ref echo, bench_results *res)
{
	const msgpack_object *f;
	msgpack_object body;
	msgpack_packer *pk;
	tr_msg *req, *rep;
	tr_ref driver;
	bench_lat lat;
	bool sent = false;
	int rv;

	if (spawn_thread_actor(BEH_DRIVER, &driver) != 0)
		return -1;
	fprintf(stderr, "bench: troupe call from an actor, %llu...\n",
	    (unsigned long long)cfg->rounds);
	if (bench_tr_check(msg_start(&req, TAG_DRIVE, &pk), "tr_msg_new") !=
	    TR_OK)
		return -1;
	if (msgpack_pack_array(pk, 3) != 0 ||
	    msgpack_pack_uint64(pk, cfg->rounds) != 0 ||
	    msgpack_pack_uint64(pk, cfg->rounds_warm) != 0 ||
	    tr_pack_ref(pk, echo) != TR_OK) {
		tr_msg_free(req);
		bench_fail("packing the driver request failed");
		return -1;
	}
	rv = tr_call(driver, req, DRIVE_TIMEOUT_MS, &rep, &sent);
	if (rv != TR_OK) {
		if (!sent)
			tr_msg_free(req);
		bench_tr_check(rv, "tr_call (driver)");
		return -1;
	}
	rv = tr_msg_body(rep, &body);
	if (rv == TR_OK &&
	    (body.type != MSGPACK_OBJECT_ARRAY || body.via.array.size != 5))
		rv = TR_EPROTO;
	if (rv != TR_OK) {
		tr_msg_free(rep);
		bench_tr_check(rv, "driver reply body");
		return -1;
	}
	f = body.via.array.ptr;
	if (f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[0].via.u64 != 0) {
		bench_fail("driver actor: its call loop failed: %s",
		    f[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
		        tr_strerror((int)f[0].via.u64) :
		        "bad status");
		tr_msg_free(rep);
		return -1;
	}
	if (f[1].type != MSGPACK_OBJECT_FLOAT64 ||
	    f[2].type != MSGPACK_OBJECT_FLOAT64 ||
	    f[3].type != MSGPACK_OBJECT_FLOAT64 ||
	    f[4].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		bench_fail("driver actor: malformed reply");
		tr_msg_free(rep);
		return -1;
	}
	lat.median_us = f[1].via.f64;
	lat.p99_us = f[2].via.f64;
	lat.min_us = f[3].via.f64;
	lat.n = f[4].via.u64;
	tr_msg_free(rep);
	bench_print_lat(
	    "roundtrip", "troupe_actor", cfg->pinned, lat, ECHO_BODY_BYTES);
	res->tr_call_actor_median_us = lat.median_us;
	return 0;
}

int
bench_troupe_figures(const bench_cfg *cfg, bench_results *res)
{
	tr_ref echo;
	int rc = 0;

	if (troupe_oneway(cfg, res) != 0)
		rc = -1;
	if (spawn_thread_actor(BEH_ECHO, &echo) != 0)
		return -1;
	if (troupe_call_main(cfg, echo, res) != 0)
		rc = -1;
	if (troupe_call_actor(cfg, echo, res) != 0)
		rc = -1;
	return rc;
}

int
bench_stop_wait(tr_ref ref, const char *what, int wait_ms)
{
	uint64_t deadline;
	tr_mon mon;
	char buf[64];
	int rv;

	if (bench_tr_check(tr_monitor(ref, &mon), "tr_monitor") != TR_OK)
		return -1;
	if ((rv = tr_stop(ref, TR_REASON_SHUTDOWN)) != TR_OK &&
	    rv != TR_ENOPROC) {
		bench_tr_check(rv, "tr_stop");
		return -1;
	}
	deadline = bench_now_ns() + (uint64_t)wait_ms * 1000000u;
	for (;;) {
		uint64_t now = bench_now_ns(), id = 0;
		tr_reason why = {0};
		tr_msg *m;

		if (now >= deadline) {
			bench_fail("%s: no DOWN within %d ms of tr_stop", what,
			    wait_ms);
			return -1;
		}
		rv = tr_recv(&m, (int)((deadline - now) / 1000000u) + 1);
		if (rv == TR_ETIMEDOUT)
			continue;
		if (bench_tr_check(rv, "tr_recv (DOWN)") != TR_OK)
			return -1;
		if (tr_msg_tag(m) == TR_TAG_DOWN &&
		    tr_msg_reason(m, NULL, &why, &id) == TR_OK &&
		    id == mon.id) {
			tr_msg_free(m);
			if (why.kind != TR_EXIT_SHUTDOWN || why.code != 0) {
				bench_fail(
				    "%s: ended with %s, expected shutdown",
				    what,
				    tr_reason_format(why, buf, sizeof(buf)));
				return -1;
			}
			return 0;
		}
		fprintf(stderr,
		    "bench: %s: unexpected message tag 0x%x while waiting "
		    "for a DOWN (dropped)\n",
		    what, (unsigned)tr_msg_tag(m));
		tr_msg_free(m);
	}
}
