/*
 * test_sup_scale.c -- a supervisor of many children: a
 * simple_one_for_one that is itself a scheduled actor, with N scheduled
 * children (N = 20000, or $TROUPE_SCALE_N), started by a scheduled
 * actor through tr_sup_start_child, listed, thinned out by half (each
 * removal leaves a hole, and then the holes are closed), steered by
 * id, restarted, and stopped all at once.  Each step that concerns one
 * child must cost the same with N children as with ten; the time
 * bounds are loose (a loaded machine, sanitizers), the figures are
 * printed, and bench_supervise measures them properly.
 *
 * Also from the main context (one call across threads per child), and
 * with a thread supervisor, at N / 10.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <troupe.h>

#define TAG_START 1 /* call to the driver: N -> [rv, ms] */
/* Bounds, seconds, for N = 20000 (plain: well under one each). */
#define START_LIMIT_S 30.0
#define STOP_LIMIT_S 30.0

static uint32_t n_children = 20000;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
idle_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

/* [sup, n]: starts n children of sup, one call each, and answers with
 * [the first error or 0, how many started]. */
static int
driver_handle(void *state, tr_msg *msg)
{
	msgpack_object o;
	tr_ref sup;
	tr_msg *reply;
	uint64_t n, i = 0;
	int rv = TR_EINVAL;

	(void)state;
	if (tr_msg_tag(msg) == TAG_START && tr_msg_body(msg, &o) == TR_OK &&
	    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 2 &&
	    tr_unpack_ref(&o.via.array.ptr[0], &sup) == TR_OK) {
		n = o.via.array.ptr[1].via.u64;
		for (rv = TR_OK; i < n && rv == TR_OK; i++) {
			tr_ref c;
			rv = tr_sup_start_child(sup, NULL, &c, NULL);
		}
	}
	if (tr_msg_new(&reply, 0) == TR_OK) {
		msgpack_pack_array(tr_msg_packer(reply), 2);
		msgpack_pack_int(tr_msg_packer(reply), rv);
		msgpack_pack_uint64(tr_msg_packer(reply), i);
		if (tr_reply(tr_msg_from(msg), reply) != TR_OK) {
			tr_msg_free(reply);
		}
	}
	return 0;
}

static int
setup(void **state)
{
	static const tr_behavior idle = {
	    .name = "scale.idle", .handle = idle_handle};
	static const tr_behavior driver = {
	    .name = "scale.driver", .handle = driver_handle};

	(void)state;
	(void)tr_behavior_register(&idle);
	(void)tr_behavior_register(&driver);
	assert_int_equal(tr_init(NULL), TR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

/* A simple_one_for_one of scheduled, transient "scale.idle" children,
 * linked to us (main traps exits). */
static tr_ref
start_sup(tr_placement place)
{
	static tr_child_spec tmpl;
	tr_sup_spec s;
	tr_ref sup = TR_REF_NIL;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.id = "w";
	tmpl.start.behavior = "scale.idle";
	tmpl.start.placement = TR_PLACE_SCHEDULED;
	tmpl.restart = TR_TRANSIENT;
	memset(&s, 0, sizeof(s));
	s.strategy = TR_SIMPLE_ONE_FOR_ONE;
	s.intensity = 10;
	s.period_ms = 10000;
	s.children = &tmpl;
	s.nchildren = 1;
	s.placement = place;
	assert_int_equal(tr_sup_start(&s, NULL, true, &sup, NULL), TR_OK);
	return sup;
}

/* The children of sup, in start order (malloc'd); *n how many. */
static tr_child_info *
children(tr_ref sup, size_t *n)
{
	tr_child_info *v = calloc(n_children + 1, sizeof(*v));

	assert_non_null(v);
	assert_int_equal(tr_sup_children(sup, v, n_children + 1, n), TR_OK);
	assert_true(*n <= n_children);
	return v;
}

/* Asks sup until it lists `want` children (it learns of their ends
 * from their EXITs, which our calls may overtake). */
static tr_child_info *
children_when(tr_ref sup, size_t want, size_t *n)
{
	double end = now_s() + 30;
	tr_child_info *v;

	for (;;) {
		v = children(sup, n);
		if (*n == want || now_s() > end) {
			break;
		}
		free(v);
	}
	assert_int_equal(*n, want);
	return v;
}

/* The number in an id "w.<k>". */
static unsigned long
id_number(const char *id)
{
	assert_true(strncmp(id, "w.", 2) == 0);
	return strtoul(id + 2, NULL, 10);
}

/* Stops sup (reason shutdown) and waits for its EXIT: every child has
 * ended by then. */
static double
stop_sup(tr_ref sup)
{
	double t0 = now_s();
	tr_msg *m = NULL;
	tr_ref who;
	tr_reason why;

	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	for (;;) {
		assert_int_equal(tr_recv(&m, 60000), TR_OK);
		if (tr_msg_tag(m) == TR_TAG_EXIT) {
			break;
		}
		tr_msg_free(m);
	}
	assert_int_equal(tr_msg_reason(m, &who, &why, NULL), TR_OK);
	assert_true(tr_ref_equal(who, sup));
	assert_int_equal(why.kind, TR_EXIT_SHUTDOWN);
	tr_msg_free(m);
	return now_s() - t0;
}

static void
test_many_children(void **state)
{
	tr_ref sup, drv, again;
	tr_child_info *v, last;
	tr_msg *req, *rep;
	msgpack_object o;
	size_t n, left;
	double t0, t_start, t_stop;

	(void)state;
	sup = start_sup(TR_PLACE_SCHEDULED);
	assert_int_equal(tr_spawn(&(tr_spec){.behavior = "scale.driver",
	                              .placement = TR_PLACE_SCHEDULED},
	                     &drv, NULL),
	    TR_OK);

	/* N children, one tr_sup_start_child each, from an actor. */
	assert_int_equal(tr_msg_new(&req, TAG_START), TR_OK);
	msgpack_pack_array(tr_msg_packer(req), 2);
	tr_pack_ref(tr_msg_packer(req), sup);
	msgpack_pack_uint32(tr_msg_packer(req), n_children);
	t0 = now_s();
	assert_int_equal(tr_call(drv, req, TR_FOREVER, &rep, NULL), TR_OK);
	t_start = now_s() - t0;
	assert_int_equal(tr_msg_body(rep, &o), TR_OK);
	assert_int_equal(o.via.array.ptr[0].via.i64, TR_OK);
	assert_int_equal(o.via.array.ptr[1].via.u64, n_children);
	tr_msg_free(rep);

	/* All running, in start order, w.1 .. w.N. */
	v = children(sup, &n);
	assert_int_equal(n, n_children);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].state, TR_CHILD_RUNNING);
		assert_int_equal(v[i].placement, TR_PLACE_SCHEDULED);
		assert_int_equal(id_number(v[i].id), i + 1);
	}

	/* Every even one ends normally (transient: not restarted, and a
	 * simple_one_for_one forgets it): half the list becomes holes,
	 * which are then closed. */
	for (size_t i = 1; i < n; i += 2) {
		assert_int_equal(tr_stop(v[i].ref, TR_REASON_NORMAL), TR_OK);
	}
	free(v);
	left = n_children - n_children / 2;
	v = children_when(sup, left, &n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(id_number(v[i].id), 2 * i + 1); /* in order */
	}

	/* By id, after the compaction: w.3 is stopped and forgotten; w.2
	 * had ended (no error, as OTP); w.<N+5> never was. */
	assert_int_equal(tr_sup_terminate_child(sup, "w.3"), TR_OK);
	assert_false(tr_alive(v[1].ref));
	assert_int_equal(tr_sup_terminate_child(sup, "w.2"), TR_OK);
	{
		char id[32];
		snprintf(id, sizeof(id), "w.%u", n_children + 5);
		assert_int_equal(tr_sup_terminate_child(sup, id), TR_ENOENT);
	}
	/* The last one killed: restarted under its id (found by its ref
	 * among N / 2, as the EXIT of any child is). */
	last = v[left - 1];
	assert_int_equal(tr_kill(last.ref), TR_OK);
	for (double end = now_s() + 30;;) {
		tr_child_info *w = children(sup, &n);
		again = w[n - 1].ref;
		assert_string_equal(w[n - 1].id, last.id);
		free(w);
		if (!tr_ref_equal(again, last.ref) && !tr_ref_is_nil(again)) {
			break;
		}
		assert_true(now_s() < end);
	}
	assert_true(tr_alive(again));
	assert_int_equal(n, left - 1);

	/* All at once. */
	t_stop = stop_sup(sup);
	for (size_t i = 0; i < left; i++) {
		assert_false(tr_alive(v[i].ref));
	}
	assert_false(tr_alive(again));
	free(v);
	print_message("{\"test\":\"sup_scale\",\"supervisor\":\"scheduled\","
	              "\"from\":\"actor\",\"children\":%u,\"start_s\":%.3f,"
	              "\"start_us_per_child\":%.2f,\"stop_s\":%.3f}\n",
	    n_children, t_start, t_start * 1e6 / n_children, t_stop);
	assert_true(t_start < START_LIMIT_S * n_children / 20000.0);
	assert_true(t_stop < STOP_LIMIT_S * n_children / 20000.0);
	tr_stop(drv, TR_REASON_SHUTDOWN);
}

/* N / 10 children from the main context (a call across threads each),
 * under a supervisor of each placement. */
static void
test_from_main(void **state)
{
	tr_placement places[] = {TR_PLACE_SCHEDULED, TR_PLACE_THREAD};
	uint32_t n = n_children / 10;

	(void)state;
	for (size_t p = 0; p < 2; p++) {
		tr_ref sup = start_sup(places[p]), c;
		tr_child_info *v;
		tr_actor_info info;
		size_t got;
		double t0 = now_s(), t_start, t_stop;

		assert_int_equal(tr_actor_info_get(sup, &info), TR_OK);
		assert_int_equal(info.placement, places[p]);
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(
			    tr_sup_start_child(sup, NULL, &c, NULL), TR_OK);
		}
		t_start = now_s() - t0;
		v = children(sup, &got);
		assert_int_equal(got, n);
		assert_true(tr_ref_equal(v[n - 1].ref, c));
		t_stop = stop_sup(sup);
		for (size_t i = 0; i < got; i++) {
			assert_false(tr_alive(v[i].ref));
		}
		free(v);
		print_message(
		    "{\"test\":\"sup_scale\",\"supervisor\":\"%s\","
		    "\"from\":\"main\",\"children\":%u,\"start_s\":%.3f,"
		    "\"start_us_per_child\":%.2f,\"stop_s\":%.3f}\n",
		    places[p] == TR_PLACE_SCHEDULED ? "scheduled" : "thread", n,
		    t_start, t_start * 1e6 / n, t_stop);
		assert_true(t_start < START_LIMIT_S);
		assert_true(t_stop < STOP_LIMIT_S);
	}
}

/* tr_sup_check (which tr_sup_start runs) on 10^5 static children: each
 * id against the others by hash, not one by one (5 * 10^9 comparisons,
 * some 15 s, before). */
static void
test_check_many(void **state)
{
	enum {
		N = 100000
	};
	tr_child_spec *k = calloc(N, sizeof(*k));
	char(*ids)[16] = calloc(N, sizeof(*ids));
	tr_sup_spec s;
	char err[256];
	double t0, dt;

	(void)state;
	assert_non_null(k);
	assert_non_null(ids);
	for (size_t i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "c.%zu", i);
		k[i].id = ids[i];
		k[i].start.behavior = "scale.idle";
	}
	memset(&s, 0, sizeof(s));
	s.children = k;
	s.nchildren = N;
	t0 = now_s();
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	snprintf(ids[N - 1], sizeof(ids[N - 1]), "c.5");
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_EINVAL);
	dt = now_s() - t0;
	assert_string_equal(err, "child 'c.5': duplicate id");
	print_message("tr_sup_check of %d children, twice: %.3f s\n", N, dt);
	assert_true(dt < 5.0);
	free(k);
	free(ids);
}

/* A list of children that does not fit in a message (here: past a
 * small max_body) is an error, not a call that never returns. */
static int
setup_small(void **state)
{
	(void)state;
	assert_int_equal(tr_init(&(tr_options){.max_body = 1024}), TR_OK);
	return 0;
}

static void
test_children_too_many(void **state)
{
	tr_ref sup = start_sup(TR_PLACE_SCHEDULED), c;
	tr_child_info v[100];
	size_t n = 0, fit = 0;

	(void)state;
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(
		    tr_sup_start_child(sup, NULL, &c, NULL), TR_OK);
		if (i == 9) {
			/* Ten fit in 1024 bytes. */
			assert_int_equal(
			    tr_sup_children(sup, v, 100, &fit), TR_OK);
			assert_int_equal(fit, 10);
		}
	}
	assert_int_equal(tr_sup_children(sup, v, 100, &n), TR_EMSGSIZE);
	/* It still answers, and stops. */
	assert_int_equal(tr_sup_terminate_child(sup, "w.100"), TR_OK);
	assert_false(tr_alive(c));
	(void)stop_sup(sup);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_many_children, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_main, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_children_too_many, setup_small, teardown),
	    cmocka_unit_test(test_check_many),
	};
	const char *e = getenv("TROUPE_SCALE_N");

	if (e != NULL && atoi(e) >= 20) {
		n_children = (uint32_t)atoi(e);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
