/*
 * test_lifecycle.c -- the runtime's and an actor's life: tr_init and
 * tr_shutdown, behaviors, spawning, init and terminate, stopping with a
 * reason, liveness, introspection, and an actor's own libuv loop.
 *
 * Every case runs in a fresh runtime (setup tr_init, teardown
 * tr_shutdown); a case that shuts the runtime down itself starts it
 * again before it returns.  Actors are "life.worker" (behaviors_life.h)
 * and are told what to do by messages only.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <troupe.h>
#include <uv.h>

#include "life_test.h"

/* ------------------------------------------------------------------ */
/* tr_init / tr_shutdown                                               */
/* ------------------------------------------------------------------ */

static void
test_init_twice(void **state)
{
	tr_options opts = {.mailbox_capacity = 8};

	(void)state;
	assert_int_equal(tr_init(NULL), TR_EEXIST);
	assert_int_equal(tr_init(&opts), TR_EEXIST);
	/* The running runtime is untouched. */
	assert_false(tr_ref_is_nil(tr_self()));
}

static void
test_init_bad_options(void **state)
{
	tr_options opts = {.max_body = TR_MSG_MAX + 1};

	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_init(&opts), TR_EINVAL);
	/* A refused init leaves nothing running. */
	assert_int_equal(tr_shutdown(), TR_ECLOSED);
	assert_true(tr_ref_is_nil(tr_self()));
	/* The largest allowed value is fine. */
	opts.max_body = TR_MSG_MAX;
	assert_int_equal(tr_init(&opts), TR_OK);
}

static void
test_shutdown_not_running(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER};
	tr_ref r = TR_REF_NIL;
	tr_msg *m = tl_msg(TL_USER);

	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_shutdown(), TR_ECLOSED);
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_ECLOSED);
	/* A message given to a closed runtime stays ours. */
	assert_int_equal(tr_send((tr_ref){1, 0, 1, 1}, m), TR_ECLOSED);
	assert_int_equal(tr_msg_tag(m), TL_USER);
	tr_msg_free(m);
	assert_int_equal(tr_init(NULL), TR_OK);
}

static void
test_shutdown_from_callback(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_msg *rep;

	(void)state;
	assert_int_equal(tl_call_rv(w, tl_msg(TL_SHUTDOWN)), TR_ESTATE);
	/* Still running, the actor too. */
	rep = tl_call(w, tl_msg_int(TL_PING, 7));
	assert_int_equal(tr_msg_tag(rep), TL_PONG);
	assert_int_equal(tl_body_int(rep), 7);
	tr_msg_free(rep);
}

static void *
shutdown_thread(void *arg)
{
	int *rv = arg;
	tr_msg *m = NULL;

	rv[0] = tr_shutdown();
	rv[1] = tr_ref_is_nil(tr_self());
	rv[2] = tr_recv(&m, TR_NOWAIT);
	return NULL;
}

static void
test_shutdown_from_other_thread(void **state)
{
	pthread_t t;
	int rv[3] = {-1, -1, -1};

	(void)state;
	(void)tl_spawn(NULL);
	assert_int_equal(pthread_create(&t, NULL, shutdown_thread, rv), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(rv[0], TR_ESTATE);
	assert_true(rv[1]);
	assert_int_equal(rv[2], TR_ESTATE);
}

/* Many runtimes in a row, each with actors, links and names: nothing
 * may leak (ASan) or survive into the next one.  (a traps exits, so
 * that no actor here dies of another's exit during shutdown: that case
 * is test_shutdown_linked_pair.) */
static void
test_init_shutdown_repeated(void **state)
{
	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	for (int i = 0; i < 50; i++) {
		tr_spec spec = {.behavior = TL_WORKER};
		tr_ref a, b, c, found;
		tr_msg *rep;

		assert_int_equal(tr_init(NULL), TR_OK);
		a = tl_spawn(NULL);
		spec.name = "life.repeated";
		spec.link = true;
		b = tl_spawn_spec(&spec);
		c = tl_spawn_reporting();
		assert_int_equal(
		    tl_call_rv(a, tl_msg_bool(TL_TRAP, true)), TR_OK);
		assert_int_equal(tl_call_rv(c, tl_msg_ref(TL_LINK, a)), TR_OK);
		assert_int_equal(tr_whereis("life.repeated", &found), TR_OK);
		assert_true(tr_ref_equal(found, b));
		rep = tl_call(b, tl_msg_int(TL_PING, i));
		assert_int_equal(tl_body_int(rep), i);
		tr_msg_free(rep);
		/* Left queued for shutdown to throw away. */
		tl_send(a, tl_msg(TL_USER));
		tl_send(tr_self(), tl_msg(TL_USER));
		assert_int_equal(tr_shutdown(), TR_OK);
		assert_false(tr_alive(a));
	}
	assert_int_equal(tr_init(NULL), TR_OK);
}

/* ------------------------------------------------------------------ */
/* Behaviors                                                           */
/* ------------------------------------------------------------------ */

static int
nop_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

static void
test_behavior_register_bad_args(void **state)
{
	char longname[TR_NAME_MAX + 2];
	tr_behavior b = {.name = "life.never", .handle = nop_handle};

	(void)state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	assert_int_equal(tr_behavior_register(NULL), TR_EINVAL);
	b.name = NULL;
	assert_int_equal(tr_behavior_register(&b), TR_EINVAL);
	b.name = "";
	assert_int_equal(tr_behavior_register(&b), TR_EINVAL);
	b.name = longname; /* TR_NAME_MAX + 1 bytes */
	assert_int_equal(tr_behavior_register(&b), TR_EINVAL);
	b.name = "life.never";
	b.handle = NULL;
	assert_int_equal(tr_behavior_register(&b), TR_EINVAL);

	/* None of them was registered. */
	{
		tr_spec spec = {.behavior = "life.never"};
		tr_ref r;
		assert_int_equal(tr_spawn(&spec, &r, NULL), TR_ENOENT);
	}
}

static void
test_behavior_register_duplicate(void **state)
{
	tr_behavior b = {.name = TL_WORKER, .handle = nop_handle};

	(void)state;
	/* Registered by the setup already. */
	assert_int_equal(tr_behavior_register(&b), TR_EEXIST);
	/* The first one stays: the worker still answers. */
	{
		tr_ref w = tl_spawn(NULL);
		tr_msg *rep = tl_call(w, tl_msg_int(TL_PING, 3));
		assert_int_equal(tr_msg_tag(rep), TL_PONG);
		tr_msg_free(rep);
	}
}

/* ------------------------------------------------------------------ */
/* tr_spawn                                                            */
/* ------------------------------------------------------------------ */

static void
test_spawn_bad_specs(void **state)
{
	char longname[TR_NAME_MAX + 2];
	tr_spec spec = {.behavior = TL_WORKER};
	tr_ref r = TR_REF_NIL;
	tr_stats s0 = tl_stats(), s1;

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	assert_int_equal(tr_spawn(NULL, &r, NULL), TR_EINVAL);
	assert_int_equal(tr_spawn(&spec, NULL, NULL), TR_EINVAL);
	spec.behavior = NULL;
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EINVAL);
	spec.behavior = TL_WORKER;
	spec.placement = (tr_placement)(TR_PLACE_SCHEDULED + 1);
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EINVAL);
	spec.placement = (tr_placement)-1;
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EINVAL);
	spec.placement = TR_PLACE_AUTO;
	spec.name = "";
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EINVAL);
	spec.name = longname;
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EINVAL);
	spec.name = NULL;
	spec.behavior = "life.no-such-behavior";
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_ENOENT);
	assert_true(tr_ref_is_nil(r));

	s1 = tl_stats();
	assert_int_equal(s1.actors_spawned, s0.actors_spawned);
	assert_int_equal(s1.actors_exited, s0.actors_exited);
}

static void
test_spawn_name_taken(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .name = "life.taken"};
	tr_ref a, b = TR_REF_NIL, found;
	tr_stats s0, s1;
	tr_msg *arg = tl_cfg(tr_self(), 0, NULL, 0);

	(void)state;
	a = tl_spawn_spec(&spec);
	s0 = tl_stats();
	/* The second one reports its terminate to us: if it started at all
	 * and was then stopped, a TL_TERMINATED would come. */
	spec.init_arg = arg;
	spec.link = true;
	assert_int_equal(tr_spawn(&spec, &b, NULL), TR_EEXIST);
	tr_msg_free(arg);
	s1 = tl_stats();
	assert_int_equal(s1.actors_spawned, s0.actors_spawned);
	assert_int_equal(s1.actors_exited, s0.actors_exited);
	assert_int_equal(tr_whereis("life.taken", &found), TR_OK);
	assert_true(tr_ref_equal(found, a));
	assert_true(tr_alive(a));
	tl_expect_nothing_else();
}

static void
test_spawn_init_fails(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .name = "life.initfail"};
	tr_msg *arg = tl_cfg(tr_self(), 42, NULL, 0);
	tr_reason why = TR_REASON_NORMAL;
	tr_ref r = TR_REF_NIL, found;

	(void)state;
	spec.init_arg = arg;
	spec.link = true;
	assert_int_equal(tr_spawn(&spec, &r, &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, 42);
	/* why may be NULL. */
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EINIT);
	tr_msg_free(arg);

	/* A failed start is reported by tr_spawn, not by an exit signal,
	 * and runs no terminate; its name is free again. */
	tl_expect_nothing_else();
	assert_int_equal(tr_whereis("life.initfail", &found), TR_ENOENT);
	spec.init_arg = NULL;
	spec.link = false;
	r = tl_spawn_spec(&spec);
	assert_int_equal(tr_whereis("life.initfail", &found), TR_OK);
	assert_true(tr_ref_equal(found, r));
}

static void
test_spawn_init_arg(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER};
	tr_msg *arg = tl_msg(TL_USER);
	msgpack_packer *pk = tr_msg_packer(arg);
	msgpack_object o;
	tr_msg *rep;
	tr_ref w;
	size_t len;
	void *copy;

	(void)state;
	msgpack_pack_map(pk, 2);
	msgpack_pack_str(pk, 1);
	msgpack_pack_str_body(pk, "k", 1);
	msgpack_pack_array(pk, 3);
	msgpack_pack_int(pk, 1);
	msgpack_pack_int(pk, -2);
	msgpack_pack_str(pk, 5);
	msgpack_pack_str_body(pk, "three", 5);
	msgpack_pack_str(pk, 1);
	msgpack_pack_str_body(pk, "b", 1);
	msgpack_pack_true(pk);
	len = tr_msg_size(arg);
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, tr_msg_data(arg), len);

	spec.init_arg = arg;
	w = tl_spawn_spec(&spec);
	/* Borrowed: still ours, unchanged, and freed by us. */
	assert_int_equal(tr_msg_tag(arg), TL_USER);
	assert_int_equal(tr_msg_size(arg), len);
	assert_memory_equal(tr_msg_data(arg), copy, len);
	assert_int_equal(tr_msg_body(arg, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
	tr_msg_free(arg);

	/* What init received is what we gave. */
	rep = tl_call(w, tl_msg(TL_GET_ARG));
	assert_int_equal(tr_msg_tag(rep), TL_USER);
	assert_int_equal(tr_msg_size(rep), len);
	assert_memory_equal(tr_msg_data(rep), copy, len);
	tr_msg_free(rep);
	free(copy);

	/* No init argument: init gets NULL. */
	w = tl_spawn(NULL);
	assert_int_equal(tl_call_rv(w, tl_msg(TL_GET_ARG)), -1);
}

/* ------------------------------------------------------------------ */
/* Ending                                                              */
/* ------------------------------------------------------------------ */

static void
test_handle_error_ends_actor(void **state)
{
	tr_ref w = tl_spawn_reporting();
	tr_mon mon = tl_monitor(w);

	(void)state;
	tl_send(w, tl_msg_int(TL_FAIL, 77));
	tl_expect_terminated(TR_REASON(TR_EXIT_ERROR, 77));
	tl_expect_down(mon, w, TR_REASON(TR_EXIT_ERROR, 77));
	assert_false(tr_alive(w));
	tl_expect_nothing_else();
}

static void
test_stop_each_reason(void **state)
{
	static const tr_reason reasons[] = {
	    {TR_EXIT_NORMAL, 0},
	    {TR_EXIT_SHUTDOWN, 0},
	    {TR_EXIT_ERROR, 5},
	    {TR_EXIT_KILL, 0},
	    {TR_EXIT_STATUS, 3},
	    {TR_EXIT_SIGNAL, 9},
	    {TR_EXIT_NOPROC, 0},
	    {TR_EXIT_CUSTOM, 1234},
	    {TR_EXIT_CUSTOM, -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		tr_ref w = tl_spawn_reporting();
		tr_mon mon = tl_monitor(w);

		assert_int_equal(tr_stop(w, reasons[i]), TR_OK);
		/* terminate runs first (it sends before the actor is gone),
		 * except for kill, which skips it. */
		if (reasons[i].kind != TR_EXIT_KILL) {
			tl_expect_terminated(reasons[i]);
		}
		tl_expect_down(mon, w, reasons[i]);
		tl_expect_nothing_else();
	}
}

static void
test_kill_skips_terminate(void **state)
{
	tr_ref w = tl_spawn_reporting();
	tr_mon mon = tl_monitor(w);

	(void)state;
	/* A pending libuv timer too: kill must still clean up the loop. */
	assert_int_equal(tl_call_rv(w, tl_msg_int(TL_UV_TIMER, 60000)), 0);
	assert_int_equal(tr_stop(w, TR_REASON_KILL), TR_OK);
	/* A terminate would have sent TL_TERMINATED before the DOWN. */
	tl_expect_down(mon, w, TR_REASON_KILL);
	tl_expect_nothing_else();
}

static void
test_stop_bad_args(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_int_equal(tr_stop(TR_REF_NIL, TR_REASON_NORMAL), TR_EINVAL);
	assert_int_equal(tr_stop(w, TR_REASON((tr_exit_kind)99, 0)), TR_EINVAL);
	assert_true(tr_alive(w));
	tl_stop_wait(w, TR_REASON_NORMAL);
	assert_int_equal(tr_stop(w, TR_REASON_NORMAL), TR_ENOPROC);
	assert_int_equal(tr_stop(w, TR_REASON_KILL), TR_ENOPROC);
}

static void
test_stop_main_context(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_int_equal(tr_stop(tr_self(), TR_REASON_NORMAL), TR_ESTATE);
	assert_int_equal(tr_stop(tr_self(), TR_REASON_KILL), TR_ESTATE);
	/* Nor may an actor stop the main context. */
	assert_int_equal(
	    tl_call_rv(
	        w, tl_msg_reason(TL_STOP_REF, tr_self(), TR_REASON_SHUTDOWN)),
	    TR_ESTATE);
	assert_false(tr_ref_is_nil(tr_self()));
	tl_expect_nothing_else();
}

static void
test_stop_self_in_handle(void **state)
{
	tr_ref w = tl_spawn_reporting();
	tr_mon mon = tl_monitor(w);
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, 5);

	(void)state;
	/* The answer is sent after tr_stop() returned: the actor ends only
	 * when the callback returns. */
	assert_int_equal(
	    tl_call_rv(w, tl_msg_reason(TL_STOP_SELF, TR_REF_NIL, why)), TR_OK);
	tl_expect_terminated(why);
	tl_expect_down(mon, w, why);
	assert_false(tr_alive(w));
	tl_expect_nothing_else();
}

static void
test_alive(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_false(tr_alive(TR_REF_NIL));
	assert_true(tr_alive(w));
	tl_stop_wait(w, TR_REASON_SHUTDOWN);
	assert_false(tr_alive(w));
	/* A later actor in the same slot does not bring the old ref back. */
	(void)tl_spawn(NULL);
	assert_false(tr_alive(w));
}

/* ------------------------------------------------------------------ */
/* Introspection                                                       */
/* ------------------------------------------------------------------ */

static void
test_actor_info(void **state)
{
	tr_spec spec = {
	    .behavior = TL_WORKER, .name = "life.info", .mailbox_capacity = 8};
	tr_actor_info info;
	tr_ref w = tl_spawn_spec(&spec);
	tr_msg *holding, *rep;
	const char *forced = getenv("TROUPE_PLACEMENT");

	(void)state;
	assert_int_equal(tr_actor_info_get(w, NULL), TR_EINVAL);

	/* Park the actor inside a callback (it calls us and waits), so
	 * that what is queued to it stays queued. */
	tl_send(w, tl_msg(TL_HOLD));
	holding = tl_expect(TL_HOLDING);
	assert_true(tr_msg_is_call(holding));
	for (int i = 0; i < 3; i++) {
		tl_send(w, tl_msg(TL_USER));
	}

	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(tr_actor_info_get(w, &info), TR_OK);
	assert_true(tr_ref_equal(info.ref, w));
	assert_string_equal(info.behavior, TL_WORKER);
	assert_string_equal(info.name, "life.info");
	assert_int_equal(info.mailbox_depth, 3);
	assert_int_equal(info.mailbox_capacity, 8);
	assert_int_equal(info.msgs_in, 1); /* TL_HOLD */
	/* Its TL_HOLDING call: counted by the sender after it was handed
	 * over, so we may be quicker than the count (checked below). */
	assert_true(info.msgs_out <= 1);
	assert_true(info.pid > 0);
	assert_true(info.placement == TR_PLACE_THREAD ||
	    info.placement == TR_PLACE_FORK ||
	    info.placement == TR_PLACE_EXEC ||
	    info.placement == TR_PLACE_SCHEDULED);
	if (forced == NULL) {
		assert_int_equal(info.placement, TR_PLACE_SCHEDULED);
		assert_int_equal(info.pid, (int)getpid());
	}

	/* Let it go; once it answered our ping, it took everything. */
	assert_int_equal(
	    tr_reply(tr_msg_from(holding), tl_msg(TL_RESULT)), TR_OK);
	tr_msg_free(holding);
	rep = tl_call(w, tl_msg(TL_PING));
	tr_msg_free(rep);
	assert_int_equal(tr_actor_info_get(w, &info), TR_OK);
	assert_int_equal(info.mailbox_depth, 0);
	/* HOLD, 3 x USER, PING; the reply to its call may count as one
	 * more (the header does not say whether replies are "handled"). */
	assert_true(info.msgs_in == 5 || info.msgs_in == 6);
	/* Its TL_HOLDING call and its reply to our ping. */
	assert_int_equal(info.msgs_out, 2);

	/* An unnamed actor has an empty name. */
	{
		tr_ref u = tl_spawn(NULL);
		assert_int_equal(tr_actor_info_get(u, &info), TR_OK);
		assert_string_equal(info.name, "");
		assert_int_equal(info.mailbox_capacity, 1024);
	}

	tl_stop_wait(w, TR_REASON_NORMAL);
	assert_int_equal(tr_actor_info_get(w, &info), TR_ENOPROC);
	assert_int_equal(tr_actor_info_get(TR_REF_NIL, &info), TR_ENOPROC);
}

/* ------------------------------------------------------------------ */
/* The actor's loop                                                    */
/* ------------------------------------------------------------------ */

static void
test_loop_only_in_callbacks(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_null(tr_loop());
	assert_int_equal(tl_call_rv(w, tl_msg(TL_LOOP)), 1);
	assert_null(tr_loop());
}

static void
test_uv_timer_on_actor_loop(void **state)
{
	tr_ref w = tl_spawn_reporting();
	tr_mon mon = tl_monitor(w);
	tr_msg *m;

	(void)state;
	assert_int_equal(tl_call_rv(w, tl_msg_int(TL_UV_TIMER, 10)), 0);
	m = tl_expect(TL_UV_FIRED);
	assert_true(tr_ref_equal(tr_msg_sender(m), w));
	tr_msg_free(m);
	/* Again, on the same handle. */
	assert_int_equal(tl_call_rv(w, tl_msg_int(TL_UV_TIMER, 10)), 0);
	tr_msg_free(tl_expect(TL_UV_FIRED));
	/* A timer still pending when the actor ends is closed by
	 * terminate, and does not keep the actor alive. */
	assert_int_equal(tl_call_rv(w, tl_msg_int(TL_UV_TIMER, 60000)), 0);
	assert_int_equal(tr_stop(w, TR_REASON_SHUTDOWN), TR_OK);
	tl_expect_terminated(TR_REASON_SHUTDOWN);
	tl_expect_down(mon, w, TR_REASON_SHUTDOWN);
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Shutdown with actors                                                */
/* ------------------------------------------------------------------ */

/*
 * The smallest case of the ones below: b is linked to a, b is the
 * newer, so shutdown stops b first and a dies of b's exit signal
 * (shutdown propagates).  Shutdown must then cope with an actor on its
 * list that is already gone.
 */
static void
test_shutdown_linked_pair(void **state)
{
	(void)state;
	for (int i = 0; i < 20; i++) {
		tr_ref a = tl_spawn(NULL), b = tl_spawn(NULL);
		assert_int_equal(tl_call_rv(b, tl_msg_ref(TL_LINK, a)), TR_OK);
		assert_int_equal(tr_shutdown(), TR_OK);
		assert_false(tr_alive(a));
		assert_int_equal(tr_init(NULL), TR_OK);
	}
}

#define MANY 50

static void
test_shutdown_many_actors(void **state)
{
	tr_ref w[MANY];
	tr_stats s0, s1;

	(void)state;
	for (int i = 0; i < MANY; i++) {
		tr_spec spec = {.behavior = TL_WORKER};
		tr_msg *cfg = tl_cfg(tr_self(), 0, NULL, 0);
		spec.init_arg = cfg;
		spec.link = i % 5 == 0; /* some linked to us */
		w[i] = tl_spawn_spec(&spec);
		tr_msg_free(cfg);
	}
	/* Some linked to each other, some of those trapping. */
	for (int i = 0; i + 1 < MANY; i += 3) {
		assert_int_equal(
		    tl_call_rv(w[i], tl_msg_ref(TL_LINK, w[i + 1])), TR_OK);
		if (i % 2 == 0) {
			assert_int_equal(
			    tl_call_rv(w[i], tl_msg_bool(TL_TRAP, true)),
			    TR_OK);
		}
	}
	s0 = tl_stats();
	assert_int_equal(tr_shutdown(), TR_OK);
	s1 = tl_stats();
	for (int i = 0; i < MANY; i++) {
		assert_false(tr_alive(w[i]));
	}
	if (!test_actors_local()) {
		assert_int_equal(tr_init(NULL), TR_OK);
		return; /* their exits and sends count in their processes */
	}
	assert_int_equal(s1.actors_exited - s0.actors_exited, MANY);
	/* Every terminate ran and sent us its TL_TERMINATED (the only user
	 * messages sent during shutdown); never read, they are dead
	 * letters.  Trapping actors may also have forwarded exits to us
	 * (TL_GOT_EXIT), so those count too. */
	assert_true(s1.sent - s0.sent >= MANY);
	assert_int_equal(s1.dead_letters - s0.dead_letters, s1.sent - s0.sent);
	assert_int_equal(tr_init(NULL), TR_OK);
}

/* The same without traps or links to us: exactly one message each. */
static void
test_shutdown_runs_every_terminate(void **state)
{
	tr_ref w[MANY];
	tr_stats s0, s1;

	(void)state;
	for (int i = 0; i < MANY; i++) {
		w[i] = tl_spawn_reporting();
	}
	for (int i = 0; i + 1 < MANY; i += 2) {
		assert_int_equal(
		    tl_call_rv(w[i], tl_msg_ref(TL_LINK, w[i + 1])), TR_OK);
	}
	s0 = tl_stats();
	assert_int_equal(tr_shutdown(), TR_OK);
	s1 = tl_stats();
	if (!test_actors_local()) {
		assert_int_equal(tr_init(NULL), TR_OK);
		return; /* their exits and sends count in their processes */
	}
	assert_int_equal(s1.actors_exited - s0.actors_exited, MANY);
	assert_int_equal(s1.sent - s0.sent, MANY);
	assert_int_equal(s1.dead_letters - s0.dead_letters, MANY);
	assert_int_equal(tr_init(NULL), TR_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_TEST(test_init_twice),
	    TL_TEST(test_init_bad_options),
	    TL_TEST(test_shutdown_not_running),
	    TL_TEST(test_shutdown_from_callback),
	    TL_TEST(test_shutdown_from_other_thread),
	    TL_TEST(test_behavior_register_bad_args),
	    TL_TEST(test_behavior_register_duplicate),
	    TL_TEST(test_spawn_bad_specs),
	    TL_TEST(test_spawn_name_taken),
	    TL_TEST(test_spawn_init_fails),
	    TL_TEST(test_spawn_init_arg),
	    TL_TEST(test_handle_error_ends_actor),
	    TL_TEST(test_stop_each_reason),
	    TL_TEST(test_kill_skips_terminate),
	    TL_TEST(test_stop_bad_args),
	    TL_TEST(test_stop_main_context),
	    TL_TEST(test_stop_self_in_handle),
	    TL_TEST(test_alive),
	    TL_TEST(test_actor_info),
	    TL_TEST(test_loop_only_in_callbacks),
	    TL_TEST(test_uv_timer_on_actor_loop),
	    /* Last: a crash in shutdown leaves the process unfit for more. */
	    TL_TEST(test_init_shutdown_repeated),
	    TL_TEST(test_shutdown_many_actors),
	    TL_TEST(test_shutdown_runs_every_terminate),
	    TL_TEST(test_shutdown_linked_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
