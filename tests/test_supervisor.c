/*
 * test_supervisor.c -- supervisors with OTP semantics: the four
 * strategies, the three restart types, restart intensity and its
 * escalation up a tree, backoff, shutdown order and timeouts, start
 * failures, dynamic children, significant children, spec checking,
 * tr_kill, a small chaos test, and a supervisor busy starting a child
 * (stopped meanwhile, or called meanwhile).
 *
 * Every case runs in a fresh runtime.  The children are "sup.child"
 * (behaviors_sup.h): they report their start and their terminate to the
 * test, with a CLOCK_MONOTONIC time stamp, so that the test knows when a
 * child (re)started or stopped and in which order -- ordered by time
 * stamp, since reports from several processes need not arrive in the
 * order they were sent.  Supervisors are linked to the test's main
 * context, which traps exits: a supervisor's end is an EXIT here.
 *
 * Children are TR_PLACE_AUTO unless a case says otherwise, so that the
 * same cases run with TROUPE_PLACEMENT=fork and exec; the cases about a
 * child that ignores its stop request use TR_PLACE_FORK explicitly (a
 * thread cannot be killed in the middle of a callback).
 *
 * Nothing sleeps to synchronise.  Where a case must know that the
 * supervisor has dealt with a child's end that brings no restart (so no
 * report), it asks the supervisor (tr_sup_children) until the child's
 * entry no longer names the dead ref: the DOWN a test gets is sent
 * before the supervisor's EXIT, so the DOWN alone does not say that.
 * Where time itself is under test (backoff, the intensity period) the
 * test waits for a delayed message to itself.
 *
 * `test_supervisor PATTERN` runs only the matching cases, `'!PATTERN'`
 * all others (cmocka's filters: * and ? only).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <troupe.h>

#include "sup_test.h"

/* ------------------------------------------------------------------ */
/* tr_sup_check                                                        */
/* ------------------------------------------------------------------ */

static void
ts_check_err(const tr_sup_spec *s, const char *want)
{
	char err[256];

	memset(err, 'x', sizeof(err));
	assert_int_equal(tr_sup_check(s, err, sizeof(err)), TR_EINVAL);
	assert_string_equal(err, want);
	/* No room for the message is fine too. */
	assert_int_equal(tr_sup_check(s, NULL, 0), TR_EINVAL);
}

static void
test_check_messages(void **state)
{
	tr_child_spec k[2], inner_k[2];
	tr_sup_spec s, inner;
	char err[256];
	char longid[TR_NAME_MAX + 2];

	(void)state;
	memset(k, 0, sizeof(k));
	k[0].id = "a";
	k[0].start.behavior = TS_CHILD;
	k[1] = k[0];
	k[1].id = "b";
	s = ts_sup(TR_ONE_FOR_ONE, k, 2);

	memset(err, 'x', sizeof(err));
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	assert_string_equal(err, "");
	assert_int_equal(tr_sup_check(&s, NULL, 0), TR_OK);

	ts_check_err(NULL, "no spec");

	k[0].restart = (tr_restart)3;
	ts_check_err(&s, "child 'a': unknown restart type");
	k[0].restart = TR_TRANSIENT;

	k[1].shutdown_ms = TR_SHUTDOWN_INFINITY - 1;
	ts_check_err(&s, "child 'b': negative shutdown");
	k[1].shutdown_ms = -100;
	ts_check_err(&s, "child 'b': negative shutdown");
	/* The two negative values that mean something are fine. */
	k[1].shutdown_ms = TR_SHUTDOWN_INFINITY;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	k[1].shutdown_ms = TR_SHUTDOWN_BRUTAL;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);

	k[1].id = "a";
	ts_check_err(&s, "child 'a': duplicate id");
	k[1].id = "b";

	k[1].significant = true; /* permanent */
	ts_check_err(&s,
	    "child 'b': a significant child must be transient or temporary");
	/* Significant under auto_shutdown never: OTP refuses it too. */
	k[1].restart = TR_TRANSIENT;
	ts_check_err(&s,
	    "child 'b': significant, but its supervisor's auto_shutdown is "
	    "never");
	s.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	s.auto_shutdown = TR_AUTO_ALL_SIGNIFICANT;
	k[1].restart = TR_TEMPORARY;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	s.auto_shutdown = TR_AUTO_NEVER;
	k[1].significant = false;
	k[1].restart = TR_PERMANENT;

	k[0].id = NULL;
	ts_check_err(
	    &s, "child '?': id missing, empty, or longer than 64 bytes");
	k[0].id = "";
	ts_check_err(
	    &s, "child '': id missing, empty, or longer than 64 bytes");
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	k[0].id = longid;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_EINVAL);
	longid[TR_NAME_MAX] = '\0'; /* exactly 64 bytes: fine */
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	k[0].id = "a";

	k[0].start.behavior = NULL;
	ts_check_err(&s,
	    "child 'a': needs exactly one of a behavior or "
	    "program, or a supervisor");
	k[0].start.behavior = TS_CHILD;
	k[0].start.placement = (tr_placement)9;
	ts_check_err(&s, "child 'a': unknown placement");
	k[0].start.placement = TR_PLACE_AUTO;

	s.strategy = (tr_strategy)4;
	ts_check_err(&s, "unknown strategy");
	s.strategy = TR_ONE_FOR_ONE;
	s.auto_shutdown = (tr_auto_shutdown)3;
	ts_check_err(&s, "unknown auto_shutdown");
	s.auto_shutdown = TR_AUTO_NEVER;
	s.backoff_initial_ms = 500;
	s.backoff_max_ms = 499;
	ts_check_err(&s, "backoff maximum below its initial delay");
	s.backoff_max_ms = 0; /* the default maximum */
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	s.backoff_initial_ms = 0;
	s.children = NULL;
	ts_check_err(&s, "children missing");
	s.children = k;

	/* simple_one_for_one: exactly one template. */
	s.strategy = TR_SIMPLE_ONE_FOR_ONE;
	ts_check_err(&s,
	    "simple_one_for_one needs exactly one child spec (the template)");
	s.nchildren = 0;
	ts_check_err(&s,
	    "simple_one_for_one needs exactly one child spec (the template)");
	s.nchildren = 1;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	/* ... and no auto_shutdown (OTP: bad_combination). */
	s.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
	ts_check_err(&s,
	    "auto_shutdown must be never for simple_one_for_one (template "
	    "child 'a')");
	s.auto_shutdown = TR_AUTO_ALL_SIGNIFICANT;
	ts_check_err(&s,
	    "auto_shutdown must be never for simple_one_for_one (template "
	    "child 'a')");
	s.auto_shutdown = TR_AUTO_NEVER;
	s.strategy = TR_ONE_FOR_ONE;
	s.nchildren = 2;

	/* Nested specs are checked, and say where. */
	memset(inner_k, 0, sizeof(inner_k));
	inner_k[0].id = "x";
	inner_k[0].start.behavior = TS_CHILD;
	inner_k[1] = inner_k[0];
	inner = ts_sup(TR_ONE_FOR_ONE, inner_k, 2);
	k[1].start.behavior = NULL;
	k[1].sup = &inner;
	ts_check_err(&s, "child 'b': child 'x': duplicate id");
	inner_k[1].id = "y";
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);
	k[1].start.behavior = TS_CHILD; /* both a behavior and a supervisor */
	ts_check_err(&s,
	    "child 'b': needs exactly one of a behavior or "
	    "program, or a supervisor");
	k[1].start.behavior = NULL;

	/* A short buffer gets a truncated, terminated message. */
	k[0].restart = (tr_restart)3;
	memset(err, 'x', sizeof(err));
	assert_int_equal(tr_sup_check(&s, err, 8), TR_EINVAL);
	assert_string_equal(err, "child '");

	/* tr_sup_start checks too, and starts nothing. */
	{
		tr_ref sup = TR_REF_NIL;
		assert_int_equal(
		    tr_sup_start(&s, NULL, true, &sup, NULL), TR_EINVAL);
		assert_true(tr_ref_is_nil(sup));
	}
}

/* ------------------------------------------------------------------ */
/* Bad arguments, names, dead supervisors                              */
/* ------------------------------------------------------------------ */

static void
test_api_bad_args(void **state)
{
	tr_child_spec k[1] = {ts_child("a", 1, TR_PERMANENT)};
	tr_child_spec k2[1] = {ts_child("a", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_sup_spec s2 = ts_sup(TR_ONE_FOR_ONE, k2, 1);
	tr_ref sup = TR_REF_NIL, other = TR_REF_NIL, r = TR_REF_NIL;
	tr_child_info ci[2];
	char longid[TR_NAME_MAX + 2];
	size_t n = 9999;

	(void)state;
	assert_int_equal(tr_sup_start(NULL, NULL, true, &sup, NULL), TR_EINVAL);
	assert_int_equal(tr_sup_start(&s, NULL, true, NULL, NULL), TR_EINVAL);

	/* A named supervisor; the name cannot be taken twice. */
	assert_int_equal(tr_sup_start(&s, "sup.top", true, &sup, NULL), TR_OK);
	ts_expect_started(1);
	assert_int_equal(tr_whereis("sup.top", &r), TR_OK);
	assert_true(tr_ref_equal(r, sup));
	assert_int_equal(
	    tr_sup_start(&s2, "sup.top", true, &other, NULL), TR_EEXIST);
	/* ... and then nothing of the second one ran, or it stopped all. */
	{
		tr_msg *m = NULL;
		int rv;
		ts_send_int(tr_self(), TS_MARK, 0);
		while ((rv = tr_recv(&m, TL_WAIT)) == TR_OK &&
		    tr_msg_tag(m) != TS_MARK) {
			ts_rep rep;
			ts_parse(m, &rep);
			print_error("second supervisor's child: %s %d\n",
			    ts_tag_name(rep.tag), rep.label);
			tr_msg_free(m);
		}
		assert_int_equal(rv, TR_OK);
		tr_msg_free(m);
	}

	/* The calls refuse bad arguments before asking anything. */
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(
	    tr_sup_start_child(TR_REF_NIL, &k[0], &r, NULL), TR_EINVAL);
	assert_int_equal(tr_sup_terminate_child(TR_REF_NIL, "a"), TR_EINVAL);
	assert_int_equal(tr_sup_terminate_child(sup, NULL), TR_EINVAL);
	assert_int_equal(tr_sup_terminate_child(sup, ""), TR_EINVAL);
	assert_int_equal(tr_sup_terminate_child(sup, longid), TR_EINVAL);
	assert_int_equal(tr_sup_restart_child(TR_REF_NIL, "a", &r), TR_EINVAL);
	assert_int_equal(tr_sup_restart_child(sup, NULL, &r), TR_EINVAL);
	assert_int_equal(tr_sup_delete_child(TR_REF_NIL, "a"), TR_EINVAL);
	assert_int_equal(tr_sup_delete_child(sup, ""), TR_EINVAL);
	assert_int_equal(tr_sup_children(TR_REF_NIL, ci, 2, &n), TR_EINVAL);
	assert_int_equal(tr_sup_children(sup, ci, 2, NULL), TR_EINVAL);
	assert_int_equal(tr_sup_children(sup, NULL, 2, &n), TR_EINVAL);
	/* Only the count. */
	assert_int_equal(tr_sup_children(sup, NULL, 0, &n), TR_OK);
	assert_int_equal(n, 1);
	/* Nothing happened to the child meanwhile. */
	ts_nothing_else();

	{
		int labels[] = {1};
		ts_stop_sup(sup, labels, 1);
	}
	assert_int_equal(tr_whereis("sup.top", &r), TR_ENOENT);

	/* A supervisor that is gone. */
	assert_int_equal(tr_sup_children(sup, ci, 2, &n), TR_ENOPROC);
	assert_int_equal(tr_sup_start_child(sup, &k[0], &r, NULL), TR_ENOPROC);
	assert_int_equal(tr_sup_terminate_child(sup, "a"), TR_ENOPROC);
	assert_int_equal(tr_sup_restart_child(sup, "a", &r), TR_ENOPROC);
	assert_int_equal(tr_sup_delete_child(sup, "a"), TR_ENOPROC);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Strategies                                                          */
/* ------------------------------------------------------------------ */

static void
test_one_for_one(void **state)
{
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	tr_ref sup, refs[3];
	tr_child_info ci[4];
	ts_got g;
	int labels[] = {2, 1, 0};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);
	assert_int_equal(ts_children(sup, ci, 4), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(ci[i].id, k[i].id);
		assert_true(tr_ref_equal(ci[i].ref, refs[i]));
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
		assert_int_equal(ci[i].restarts, 0);
	}

	/* Only the crashed one restarts; it is a new actor. */
	ts_crash(refs[1], 5);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	assert_false(tr_ref_equal(g.rep[1].who, refs[1]));
	assert_false(tr_alive(refs[1]));
	refs[1] = g.rep[1].who;
	ts_nothing_else();

	/* The others keep their refs. */
	assert_int_equal(ts_children(sup, ci, 4), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(tr_ref_equal(ci[i].ref, refs[i]));
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
		assert_int_equal(ci[i].restarts, i == 1 ? 1 : 0);
	}

	/* Again, the last one. */
	ts_crash(refs[2], 6);
	refs[2] = ts_expect_restart(2, TR_REASON(TR_EXIT_ERROR, 6));
	assert_true(tr_ref_equal(ts_info(sup, "a").ref, refs[0]));
	assert_true(tr_ref_equal(ts_info(sup, "b").ref, refs[1]));
	assert_true(tr_ref_equal(ts_info(sup, "c").ref, refs[2]));

	ts_stop_sup(sup, labels, 3);
}

static void
test_one_for_all(void **state)
{
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ALL, k, 3);
	tr_ref sup, refs[3];
	tr_child_info ci[4];
	ts_got g;
	int labels[] = {2, 1, 0};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);

	/* b crashes: the others stop, newest first, then all start again
	 * in start order. */
	ts_crash(refs[1], 5);
	ts_gather(&g, 6, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[4], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[5], TS_STARTED, 2, TR_REASON_NORMAL);
	ts_nothing_else();

	assert_int_equal(ts_children(sup, ci, 4), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(tr_ref_equal(ci[i].ref, g.rep[3 + i].who));
		assert_false(tr_ref_equal(ci[i].ref, refs[i]));
		assert_false(tr_alive(refs[i]));
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
		refs[i] = ci[i].ref;
	}

	/* The first one crashing takes the others too. */
	ts_crash(refs[0], 7);
	ts_gather(&g, 6, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON(TR_EXIT_ERROR, 7));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[4], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[5], TS_STARTED, 2, TR_REASON_NORMAL);

	ts_stop_sup(sup, labels, 3);
}

static void
test_one_for_all_temporary(void **state)
{
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("t", 1, TR_TEMPORARY), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ALL, k, 3);
	tr_ref sup, refs[3];
	tr_child_info ci[4];
	ts_got g;
	int labels[] = {2, 0};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);

	/* A temporary child is stopped with the others but never
	 * restarted, and is forgotten. */
	ts_crash(refs[0], 5);
	ts_gather(&g, 5, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[4], TS_STARTED, 2, TR_REASON_NORMAL);
	ts_nothing_else();
	assert_int_equal(ts_children(sup, ci, 4), 2);
	assert_string_equal(ci[0].id, "a");
	assert_string_equal(ci[1].id, "c");
	assert_int_equal(tr_sup_restart_child(sup, "t", NULL), TR_ENOENT);

	ts_stop_sup(sup, labels, 2);
}

static void
test_rest_for_one(void **state)
{
	tr_child_spec k[4] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT),
	    ts_child("d", 3, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_REST_FOR_ONE, k, 4);
	tr_ref sup, refs[4];
	tr_child_info ci[4];
	ts_got g;
	int labels[] = {3, 2, 1, 0};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 4, refs);

	/* b crashes: d and c stop (newest first), b, c, d start again. */
	ts_crash(refs[1], 5);
	ts_gather(&g, 6, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 3, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[4], TS_STARTED, 2, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[5], TS_STARTED, 3, TR_REASON_NORMAL);
	ts_nothing_else();
	assert_int_equal(ts_children(sup, ci, 4), 4);
	/* a, before it, is untouched. */
	assert_true(tr_ref_equal(ci[0].ref, refs[0]));
	assert_int_equal(ci[0].restarts, 0);
	for (size_t i = 1; i < 4; i++) {
		assert_true(tr_ref_equal(ci[i].ref, g.rep[2 + i].who));
		refs[i] = ci[i].ref;
	}

	/* The last one crashing takes only itself. */
	ts_crash(refs[3], 6);
	refs[3] = ts_expect_restart(3, TR_REASON(TR_EXIT_ERROR, 6));
	ts_nothing_else();
	assert_int_equal(ts_children(sup, ci, 4), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_true(tr_ref_equal(ci[i].ref, refs[i]));
	}

	ts_stop_sup(sup, labels, 4);
}

static void
test_simple_one_for_one(void **state)
{
	tr_child_spec tmpl[1] = {ts_child("w", 0, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_SIMPLE_ONE_FOR_ONE, tmpl, 1);
	tr_child_spec arg;
	tr_ref sup, refs[5];
	tr_reason why = TR_REASON_NORMAL;
	tr_child_info ci[8];
	ts_got g;

	(void)state;
	sup = ts_start(&s);
	/* The template starts nothing. */
	assert_int_equal(ts_children(sup, ci, 8), 0);
	ts_nothing_else();

	/* Children from the template, with their own init argument. */
	memset(&arg, 0, sizeof(arg));
	for (int i = 1; i <= 3; i++) {
		arg.start.init_arg = ts_cfg(i, 0);
		assert_int_equal(
		    tr_sup_start_child(sup, &arg, &refs[i], &why), TR_OK);
		assert_true(tr_ref_equal(ts_expect_started(i), refs[i]));
	}
	/* NULL: the template's own argument. */
	assert_int_equal(tr_sup_start_child(sup, NULL, &refs[0], &why), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(0), refs[0]));

	/* Ids are made up, distinct, and the children listed in order. */
	assert_int_equal(ts_children(sup, ci, 8), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_true(strlen(ci[i].id) > 0);
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
		assert_true(tr_ref_equal(ci[i].ref, refs[i < 3 ? i + 1 : 0]));
		for (size_t k = 0; k < i; k++) {
			assert_string_not_equal(ci[i].id, ci[k].id);
		}
	}

	/* Each restarts alone. */
	ts_crash(refs[2], 5);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 2, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STARTED, 2, TR_REASON_NORMAL);
	ts_nothing_else();
	{
		tr_child_info now[8];
		assert_int_equal(ts_children(sup, now, 8), 4);
		for (size_t i = 0; i < 4; i++) {
			assert_string_equal(now[i].id, ci[i].id);
			if (i == 1) {
				assert_true(
				    tr_ref_equal(now[i].ref, g.rep[1].who));
				assert_int_equal(now[i].restarts, 1);
			} else {
				assert_true(
				    tr_ref_equal(now[i].ref, ci[i].ref));
				assert_int_equal(now[i].restarts, 0);
			}
		}
	}

	/* A child that fails to start is not kept. */
	arg.start.init_arg = ts_cfg(9, 7);
	why = TR_REASON_NORMAL;
	assert_int_equal(
	    tr_sup_start_child(sup, &arg, &refs[4], &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, 7);
	assert_int_equal(ts_children(sup, ci, 8), 4);

	/* terminate_child takes a made-up id; the child is gone after. */
	assert_int_equal(tr_sup_terminate_child(sup, ci[0].id), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	assert_int_equal(ts_children(sup, ci, 8), 3);
	ts_nothing_else();

	/* Stopping it stops them all. */
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, 3, 1);
	{
		bool seen[4] = {false};
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(g.rep[i].tag, TS_STOPPED);
			assert_int_equal(g.rep[i].why.kind, TR_EXIT_SHUTDOWN);
			assert_true(g.rep[i].label >= 0 && g.rep[i].label < 4);
			seen[g.rep[i].label] = true;
		}
		assert_true(seen[0] && seen[2] && seen[3]);
	}
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
}

static void
test_simple_one_for_one_ends(void **state)
{
	tr_child_spec tmpl[1] = {ts_child("tmp", 0, TR_TEMPORARY)};
	tr_sup_spec s = ts_sup(TR_SIMPLE_ONE_FOR_ONE, tmpl, 1);
	tr_child_spec arg;
	tr_ref sup, r1, r2, r3;
	tr_child_info ci[4];
	char id1[TR_NAME_MAX + 1];
	int none[1] = {0};

	(void)state;
	memset(&arg, 0, sizeof(arg));
	sup = ts_start(&s);
	arg.start.init_arg = ts_cfg(1, 0);
	assert_int_equal(tr_sup_start_child(sup, &arg, &r1, NULL), TR_OK);
	ts_expect_started(1);
	arg.start.init_arg = ts_cfg(2, 0);
	assert_int_equal(tr_sup_start_child(sup, &arg, &r2, NULL), TR_OK);
	ts_expect_started(2);
	assert_int_equal(ts_children(sup, ci, 4), 2);
	snprintf(id1, sizeof(id1), "%s", ci[0].id);

	/* A temporary template's children are forgotten when they end,
	 * whatever the reason. */
	ts_crash(r1, 5);
	ts_expect_stopped(1, TR_REASON(TR_EXIT_ERROR, 5));
	assert_false(ts_wait_moved(sup, id1, r1, &ci[0]));
	assert_int_equal(ts_children(sup, ci, 4), 1);
	ts_exit(r2, TR_REASON_NORMAL);
	ts_expect_stopped(2, TR_REASON_NORMAL);
	assert_false(ts_wait_moved(sup, ci[0].id, r2, &ci[1]));
	assert_int_equal(ts_children(sup, ci, 4), 0);
	ts_nothing_else();
	ts_stop_sup(sup, none, 0);

	/* A transient template: restarted after a crash, forgotten after a
	 * normal end. */
	tmpl[0].restart = TR_TRANSIENT;
	sup = ts_start(&s);
	arg.start.init_arg = ts_cfg(3, 0);
	assert_int_equal(tr_sup_start_child(sup, &arg, &r3, NULL), TR_OK);
	ts_expect_started(3);
	ts_crash(r3, 5);
	r3 = ts_expect_restart(3, TR_REASON(TR_EXIT_ERROR, 5));
	assert_int_equal(ts_children(sup, ci, 4), 1);
	assert_true(tr_ref_equal(ci[0].ref, r3));
	ts_exit(r3, TR_REASON_NORMAL);
	ts_expect_stopped(3, TR_REASON_NORMAL);
	assert_false(ts_wait_moved(sup, ci[0].id, r3, &ci[1]));
	ts_nothing_else();
	ts_stop_sup(sup, none, 0);
}

/* ------------------------------------------------------------------ */
/* Restart types                                                       */
/* ------------------------------------------------------------------ */

static void
test_permanent(void **state)
{
	tr_child_spec k[1] = {ts_child("p", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, p;
	int labels[] = {1};

	(void)state;
	sup = ts_start(&s);
	p = ts_expect_started(1);

	/* Restarted after a normal end too, and after shutdown. */
	ts_exit(p, TR_REASON_NORMAL);
	p = ts_expect_restart(1, TR_REASON_NORMAL);
	ts_exit(p, TR_REASON_SHUTDOWN);
	p = ts_expect_restart(1, TR_REASON_SHUTDOWN);
	ts_crash(p, 3);
	p = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 3));
	assert_int_equal(ts_info(sup, "p").restarts, 3);
	assert_true(tr_ref_equal(ts_info(sup, "p").ref, p));
	ts_nothing_else();
	ts_stop_sup(sup, labels, 1);
}

/* Ends the transient child t (label 1) of sup with why, which must not
 * restart it; then starts it again with restart_child. */
static tr_ref
ts_transient_stays_down(tr_ref sup, tr_ref t, tr_reason why)
{
	tr_child_info ci;
	tr_ref again = TR_REF_NIL;

	ts_exit(t, why);
	ts_expect_stopped(1, why);
	assert_true(ts_wait_moved(sup, "t", t, &ci));
	assert_int_equal(ci.state, TR_CHILD_STOPPED);
	assert_true(tr_ref_is_nil(ci.ref));
	assert_int_equal(ci.uptime_ms, 0);
	ts_nothing_else();
	assert_int_equal(tr_sup_restart_child(sup, "t", &again), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(1), again));
	return again;
}

/* Ends t abnormally: it must come back. */
static tr_ref
ts_transient_comes_back(tr_ref t, tr_reason why)
{
	ts_exit(t, why);
	return ts_expect_restart(1, why);
}

static void
test_transient(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("p", 0, TR_PERMANENT), ts_child("t", 1, TR_TRANSIENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2], t;
	tr_mon mon;
	ts_got g;
	int labels[] = {1, 0};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	t = refs[1];

	/* normal and shutdown are not restarted... */
	t = ts_transient_stays_down(sup, t, TR_REASON_NORMAL);
	t = ts_transient_stays_down(sup, t, TR_REASON_SHUTDOWN);
	assert_int_equal(ts_info(sup, "t").restarts, 0);

	/* ... every abnormal reason is. */
	t = ts_transient_comes_back(t, TR_REASON(TR_EXIT_ERROR, 3));
	t = ts_transient_comes_back(t, TR_REASON(TR_EXIT_CUSTOM, 4));
	ts_crash(t, 6); /* error(6) from handle's return */
	t = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 6));
	/* Killed: no terminate, restarted. */
	mon = tl_monitor(t);
	assert_int_equal(tr_kill(t), TR_OK);
	ts_gather(&g, 1, 1);
	ts_got_notice(&g, TR_TAG_DOWN, t, ts_killed());
	ts_assert_rep(&g.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_got_free(&g);
	(void)mon;
	t = g.rep[0].who;
	assert_int_equal(ts_info(sup, "t").restarts, 4);
	/* The permanent sibling never moved. */
	assert_true(tr_ref_equal(ts_info(sup, "p").ref, refs[0]));
	ts_nothing_else();
	ts_stop_sup(sup, labels, 2);
}

static void
test_transient_signal(void **state)
{
	tr_child_spec k[1] = {ts_child("t", 1, TR_TRANSIENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, t;
	tr_actor_info info;
	ts_got g;
	int labels[] = {1};
	int pid;

	(void)state;
	k[0].start.placement = TR_PLACE_FORK;
	sup = ts_start(&s);
	{
		ts_rep r = ts_next();
		ts_assert_rep(&r, TS_STARTED, 1, TR_REASON_NORMAL);
		t = r.who;
		pid = r.pid;
	}
	assert_int_not_equal(pid, getpid());
	assert_int_equal(tr_actor_info_get(t, &info), TR_OK);
	assert_int_equal(info.placement, TR_PLACE_FORK);
	assert_int_equal(info.pid, pid);
	assert_int_equal(ts_info(sup, "t").placement, TR_PLACE_FORK);

	/* Killed by a signal from outside troupe: abnormal, restarted. */
	(void)tl_monitor(t);
	assert_int_equal(kill(pid, SIGKILL), 0);
	ts_gather(&g, 1, 1);
	ts_got_notice(&g, TR_TAG_DOWN, t, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	ts_assert_rep(&g.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
	assert_int_not_equal(g.rep[0].pid, pid);
	t = g.rep[0].who;
	ts_got_free(&g);

	pid = g.rep[0].pid;

	/* SIGTERM too: any signal is abnormal. */
	(void)tl_monitor(t);
	assert_int_equal(kill(pid, SIGTERM), 0);
	ts_gather(&g, 1, 1);
	ts_got_notice(&g, TR_TAG_DOWN, t, TR_REASON(TR_EXIT_SIGNAL, SIGTERM));
	ts_assert_rep(&g.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
	t = g.rep[0].who;
	ts_got_free(&g);
	assert_int_equal(ts_info(sup, "t").restarts, 2);

	/* A normal end is not. */
	(void)ts_transient_stays_down(sup, t, TR_REASON_NORMAL);
	ts_stop_sup(sup, labels, 1);
}

static void
test_temporary(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("tmp", 1, TR_TEMPORARY), ts_child("p", 2, TR_PERMANENT)};
	tr_child_spec dyn = ts_child("dyn", 3, TR_TEMPORARY);
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2], d = TR_REF_NIL;
	tr_child_info ci[4];
	int labels[] = {2};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(1, 2, refs);

	/* Never restarted, and forgotten. */
	ts_crash(refs[0], 5);
	ts_expect_stopped(1, TR_REASON(TR_EXIT_ERROR, 5));
	assert_false(ts_wait_moved(sup, "tmp", refs[0], &ci[0]));
	assert_int_equal(ts_children(sup, ci, 4), 1);
	assert_string_equal(ci[0].id, "p");
	assert_int_equal(tr_sup_restart_child(sup, "tmp", NULL), TR_ENOENT);
	assert_int_equal(tr_sup_terminate_child(sup, "tmp"), TR_ENOENT);
	assert_int_equal(tr_sup_delete_child(sup, "tmp"), TR_ENOENT);
	ts_nothing_else();

	/* A normal end too; and terminate_child forgets one as well. */
	assert_int_equal(tr_sup_start_child(sup, &dyn, &d, NULL), TR_OK);
	ts_expect_started(3);
	ts_exit(d, TR_REASON_NORMAL);
	ts_expect_stopped(3, TR_REASON_NORMAL);
	assert_false(ts_wait_moved(sup, "dyn", d, &ci[0]));
	assert_int_equal(tr_sup_start_child(sup, &dyn, &d, NULL), TR_OK);
	ts_expect_started(3);
	assert_int_equal(tr_sup_terminate_child(sup, "dyn"), TR_OK);
	ts_expect_stopped(3, TR_REASON_SHUTDOWN);
	assert_false(ts_find(sup, "dyn", &ci[0]));
	ts_nothing_else();
	ts_stop_sup(sup, labels, 1);
}

/* ------------------------------------------------------------------ */
/* Intensity                                                           */
/* ------------------------------------------------------------------ */

static void
test_intensity(void **state)
{
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	tr_ref sup, refs[3];
	ts_got g;

	(void)state;
	s.intensity = 2;
	s.period_ms = 10000;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);

	/* Two restarts are allowed... */
	for (int i = 0; i < 2; i++) {
		ts_crash(refs[1], 5);
		refs[1] = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 5));
	}
	/* ... the third is one too many: the others stop, newest first,
	 * and the supervisor ends with shutdown(TR_SUP_GAVE_UP). */
	ts_crash(refs[1], 5);
	ts_gather(&g, 3, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_got_notice(
	    &g, TR_TAG_EXIT, sup, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	ts_nothing_else();
	assert_false(tr_alive(sup));
	for (size_t i = 0; i < 3; i++) {
		assert_false(tr_alive(refs[i]));
	}
}

static void
test_intensity_default_and_none(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("a", 0, TR_PERMANENT), ts_child("b", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2];
	ts_got g;

	(void)state;
	/* 0 is OTP's default: one restart in 5 s. */
	s.intensity = 0;
	s.period_ms = 0;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	ts_crash(refs[0], 5);
	refs[0] = ts_expect_restart(0, TR_REASON(TR_EXIT_ERROR, 5));
	ts_crash(refs[0], 5);
	ts_gather(&g, 2, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_got_notice(
	    &g, TR_TAG_EXIT, sup, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	ts_nothing_else();

	/* TR_NO_RESTARTS: the first end of a child ends it all. */
	s.intensity = TR_NO_RESTARTS;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	ts_crash(refs[1], 6);
	ts_gather(&g, 2, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 6));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_got_notice(
	    &g, TR_TAG_EXIT, sup, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	ts_nothing_else();
}

static void
test_intensity_period(void **state)
{
	tr_child_spec k[1] = {ts_child("a", 0, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, a;
	ts_got g;

	(void)state;
	s.intensity = 1;
	s.period_ms = 300;
	sup = ts_start(&s);
	a = ts_expect_started(0);
	ts_crash(a, 5);
	a = ts_expect_restart(0, TR_REASON(TR_EXIT_ERROR, 5));
	/* Once the period has passed, that restart no longer counts. */
	ts_let_time_pass(400);
	ts_crash(a, 5);
	a = ts_expect_restart(0, TR_REASON(TR_EXIT_ERROR, 5));
	/* This one does. */
	ts_crash(a, 5);
	ts_gather(&g, 1, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON(TR_EXIT_ERROR, 5));
	ts_got_notice(
	    &g, TR_TAG_EXIT, sup, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	ts_nothing_else();
}

/* A nested supervisor that gives up is a permanent child of its parent:
 * restarted; when that repeats past the parent's intensity the parent
 * gives up too. */
static void
test_nested_escalation(void **state)
{
	tr_child_spec ik[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec inner = ts_sup(TR_ONE_FOR_ONE, ik, 1);
	tr_child_spec k[2];
	tr_sup_spec top;
	tr_ref sup, w, p, in1, in2;
	tr_child_info ci;
	ts_got g;

	(void)state;
	inner.intensity = 1;
	memset(&k[0], 0, sizeof(k[0]));
	k[0].id = "inner";
	k[0].sup = &inner;
	k[1] = ts_child("p", 9, TR_PERMANENT);
	top = ts_sup(TR_ONE_FOR_ONE, k, 2);
	top.intensity = 1;
	sup = ts_start(&top);
	{
		ts_got st;
		ts_gather(&st, 2, 0);
		ts_assert_rep(&st.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
		ts_assert_rep(&st.rep[1], TS_STARTED, 9, TR_REASON_NORMAL);
		w = st.rep[0].who;
		p = st.rep[1].who;
	}
	ci = ts_info(sup, "inner");
	assert_true(ci.supervisor);
	assert_int_equal(ci.placement, ts_sup_placement());
	assert_int_equal(ci.state, TR_CHILD_RUNNING);
	in1 = ci.ref;
	assert_false(ts_info(sup, "p").supervisor);
	{
		tr_child_info ic = ts_info(in1, "w");
		assert_true(tr_ref_equal(ic.ref, w));
	}

	/* inner restarts w once... */
	ts_crash(w, 5);
	w = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 5));
	/* ... and gives up the second time; top restarts inner, whose w
	 * starts again. */
	(void)tl_monitor(in1);
	ts_crash(w, 5);
	ts_gather(&g, 2, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_got_notice(
	    &g, TR_TAG_DOWN, in1, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	w = g.rep[1].who;
	ci = ts_info(sup, "inner");
	in2 = ci.ref;
	assert_false(tr_ref_equal(in2, in1));
	assert_int_equal(ci.state, TR_CHILD_RUNNING);
	assert_int_equal(ci.restarts, 1);
	/* The sibling was not touched. */
	assert_true(tr_ref_equal(ts_info(sup, "p").ref, p));
	assert_int_equal(ts_info(sup, "p").restarts, 0);
	ts_nothing_else();

	/* Again: inner gives up a second time, one restart too many for
	 * top, which stops p and gives up itself. */
	ts_crash(w, 5);
	w = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 5));
	(void)tl_monitor(in2);
	ts_crash(w, 5);
	ts_gather(&g, 2, 2);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 9, TR_REASON_SHUTDOWN);
	ts_got_notice(
	    &g, TR_TAG_DOWN, in2, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_notice(
	    &g, TR_TAG_EXIT, sup, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	ts_nothing_else();
	assert_false(tr_alive(sup));
}

/* ------------------------------------------------------------------ */
/* Backoff                                                             */
/* ------------------------------------------------------------------ */

/* Crashes child w (label 1) of sup and measures, from its DOWN to its
 * restart report, how long the supervisor waited; checks that it was
 * TR_CHILD_RESTARTING meanwhile.  Returns the new child. */
static tr_ref
ts_backoff_step(tr_ref sup, tr_ref w, int delay, int upto, uint32_t restarts)
{
	tr_mon mon = tl_monitor(w);
	tr_child_info ci;
	double t_down = 0, t_crash, dt;
	bool down = false, stopped = false;
	ts_rep r;

	/* The supervisor's delay starts when it learns of the death: after
	 * the crash, but not always before our DOWN (they travel apart). */
	t_crash = ts_ms();
	ts_crash(w, 5);
	while (!down || !stopped) {
		tr_msg *m = tl_recv();
		if (tr_msg_tag(m) == TR_TAG_DOWN) {
			uint64_t id = 0;
			t_down = ts_ms();
			assert_int_equal(
			    tr_msg_reason(m, NULL, NULL, &id), TR_OK);
			assert_int_equal(id, mon.id);
			down = true;
		} else {
			ts_parse(m, &r);
			ts_assert_rep(
			    &r, TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
			stopped = true;
		}
		tr_msg_free(m);
	}
	assert_true(ts_wait_moved(sup, "w", w, &ci));
	if (ci.state != TR_CHILD_RESTARTING) {
		print_error("state %d after %.1f ms\n", (int)ci.state,
		    ts_ms() - t_down);
	}
	assert_int_equal(ci.state, TR_CHILD_RESTARTING);
	assert_true(tr_ref_is_nil(ci.ref));
	assert_int_equal(ci.uptime_ms, 0);
	assert_int_equal(ci.restarts, restarts - 1);

	r = ts_next();
	dt = ts_ms() - t_down;
	ts_assert_rep(&r, TS_STARTED, 1, TR_REASON_NORMAL);
	print_message("backoff: expected %d ms, took %.1f ms\n", delay, dt);
	/* From the crash, which came before the delay began; 2 ms of slack
	 * below: libuv's timers count from the loop's cached time and in
	 * whole ms. */
	assert_true(ts_ms() - t_crash >= delay - 2);
	/* Above: the delay plus the start of the new child.  A thread
	 * starts in well under a millisecond; a process can take hundreds
	 * of them on a loaded machine, which only the thread run can tell
	 * from a wrong delay -- the supervisor's code is the same. */
	if (ts_auto_placement() == TR_PLACE_THREAD) {
		assert_true(dt < upto);
	} else if (dt >= upto) {
		print_message("backoff: above %d ms, as a %s start can be "
		              "under load\n",
		    upto,
		    ts_auto_placement() == TR_PLACE_FORK ? "fork" : "exec");
	}
	assert_int_equal(ts_info(sup, "w").restarts, restarts);
	return r.who;
}

static void
test_backoff(void **state)
{
	tr_child_spec k[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, w;
	int labels[] = {1};

	(void)state;
	s.intensity = 20;
	s.backoff_initial_ms = 150;
	s.backoff_max_ms = 500;
	s.backoff_reset_ms = 500;
	sup = ts_start(&s);
	w = ts_expect_started(1);

	/* 150, doubling, capped at 500. */
	w = ts_backoff_step(sup, w, 150, 150 + 300, 1);
	w = ts_backoff_step(sup, w, 300, 300 + 300, 2);
	w = ts_backoff_step(sup, w, 500, 500 + 300, 3);
	w = ts_backoff_step(sup, w, 500, 500 + 300, 4);
	/* A child that ran for backoff_reset_ms starts over at 150 (and
	 * well below the 500 it would otherwise wait). */
	ts_let_time_pass(600);
	w = ts_backoff_step(sup, w, 150, 450, 5);
	ts_nothing_else();
	ts_stop_sup(sup, labels, 1);
}

/* What can be done to a child that waits out its backoff. */
static void
test_backoff_restarting_child(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("w", 1, TR_PERMANENT), ts_child("p", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2], w = TR_REF_NIL;
	tr_child_info ci;
	ts_got g;

	(void)state;
	s.backoff_initial_ms = 5000;
	sup = ts_start(&s);
	ts_expect_started_in_order(1, 2, refs);

	ts_crash(refs[0], 5);
	ts_expect_stopped(1, TR_REASON(TR_EXIT_ERROR, 5));
	assert_true(ts_wait_moved(sup, "w", refs[0], &ci));
	assert_int_equal(ci.state, TR_CHILD_RESTARTING);
	/* Not stopped: neither restarted by hand nor deleted. */
	assert_int_equal(tr_sup_restart_child(sup, "w", &w), TR_ESTATE);
	assert_int_equal(tr_sup_delete_child(sup, "w"), TR_ESTATE);
	/* terminate_child cancels the pending restart. */
	assert_int_equal(tr_sup_terminate_child(sup, "w"), TR_OK);
	ci = ts_info(sup, "w");
	assert_int_equal(ci.state, TR_CHILD_STOPPED);
	assert_true(tr_ref_is_nil(ci.ref));
	assert_int_equal(tr_sup_restart_child(sup, "w", &w), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(1), w));
	ts_nothing_else();

	/* Stopping the supervisor while a child waits: the wait is
	 * canceled, nothing starts. */
	ts_crash(w, 5);
	ts_expect_stopped(1, TR_REASON(TR_EXIT_ERROR, 5));
	assert_true(ts_wait_moved(sup, "w", w, &ci));
	assert_int_equal(ci.state, TR_CHILD_RESTARTING);
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, 1, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Shutdown                                                            */
/* ------------------------------------------------------------------ */

static void
test_shutdown_order(void **state)
{
	tr_child_spec ik[2] = {
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec inner = ts_sup(TR_ONE_FOR_ONE, ik, 2);
	tr_child_spec k[3];
	tr_sup_spec top;
	tr_ref sup, in, r;
	ts_got g;

	(void)state;
	k[0] = ts_child("a", 0, TR_PERMANENT);
	k[0].start.name = "so.a";
	ik[0].start.name = "so.b";
	memset(&k[1], 0, sizeof(k[1]));
	k[1].id = "inner";
	k[1].sup = &inner;
	k[1].start.name = "so.inner";
	k[2] = ts_child("d", 3, TR_PERMANENT);
	top = ts_sup(TR_ONE_FOR_ONE, k, 3);
	sup = ts_start(&top);
	/* Start in order, depth first. */
	ts_expect_started_in_order(0, 4, NULL);
	assert_int_equal(tr_whereis("so.inner", &in), TR_OK);
	assert_true(tr_ref_equal(in, ts_info(sup, "inner").ref));
	assert_int_equal(tr_whereis("so.b", &r), TR_OK);
	assert_true(tr_ref_equal(r, ts_info(in, "b").ref));

	/* Stop in reverse, depth first: d, then inner's c and b, then a. */
	(void)tl_monitor(in);
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, 4, 2);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 3, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_DOWN, in, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();
	assert_int_equal(tr_whereis("so.a", &r), TR_ENOENT);
	assert_int_equal(tr_whereis("so.b", &r), TR_ENOENT);
	assert_int_equal(tr_whereis("so.inner", &r), TR_ENOENT);
}

/* A forked child that does not answer its stop request: killed after
 * its shutdown time, and the supervisor's stop goes on. */
static void
test_shutdown_timeout_kills(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("a", 0, TR_PERMANENT), ts_child("h", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, h;
	tr_actor_info info;
	ts_got g;
	ts_rep r;
	double t0, dt;
	int pid;

	(void)state;
	k[1].start.placement = TR_PLACE_FORK;
	k[1].shutdown_ms = 200;
	sup = ts_start(&s);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	h = g.rep[1].who;
	pid = g.rep[1].pid;
	assert_int_equal(tr_actor_info_get(h, &info), TR_OK);
	assert_int_equal(info.placement, TR_PLACE_FORK);
	assert_int_equal(info.pid, pid);

	(void)tl_monitor(h);
	ts_send_int(h, TS_HANG, 20000);
	r = ts_next();
	ts_assert_rep(&r, TS_HANGING, 1, TR_REASON_NORMAL);

	t0 = ts_ms();
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	/* h gets no terminate: only a's report. */
	ts_gather(&g, 1, 2);
	dt = ts_ms() - t0;
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_DOWN, h, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	print_message("stop with a deaf child: %.1f ms\n", dt);
	assert_true(dt >= 200);
	assert_true(dt < 200 + 700);
	/* Its process is gone (and reaped). */
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	ts_nothing_else();
}

static void
test_shutdown_brutal(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("a", 0, TR_PERMANENT), ts_child("h", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2];
	ts_got g;
	ts_rep r;
	double t0, dt;

	(void)state;
	k[0].shutdown_ms = TR_SHUTDOWN_BRUTAL;
	k[1].shutdown_ms = TR_SHUTDOWN_BRUTAL;
	k[1].start.placement = TR_PLACE_FORK;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	(void)tl_monitor(refs[0]);
	(void)tl_monitor(refs[1]);
	ts_send_int(refs[1], TS_HANG, 20000);
	r = ts_next();
	ts_assert_rep(&r, TS_HANGING, 1, TR_REASON_NORMAL);

	/* Killed at once, without terminate, whatever they are doing. */
	t0 = ts_ms();
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, 0, 3);
	dt = ts_ms() - t0;
	ts_got_notice(
	    &g, TR_TAG_DOWN, refs[1], TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	ts_got_notice(&g, TR_TAG_DOWN, refs[0], ts_killed());
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	print_message("brutal stop: %.1f ms\n", dt);
	assert_true(dt < 1000);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Start failures                                                      */
/* ------------------------------------------------------------------ */

static void
test_start_failure(void **state)
{
	tr_child_spec k[4] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT),
	    ts_child("d", 3, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 4);
	tr_reason why = TR_REASON_NORMAL;
	tr_ref sup = TR_REF_NIL, r;
	ts_got g;

	(void)state;
	k[0].start.name = "sf.a";
	k[1].start.name = "sf.b";
	k[2].start.init_arg = ts_cfg(2, 7);
	assert_int_equal(
	    tr_sup_start(&s, "sf.sup", true, &sup, &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, 7);
	/* a and b started, then stopped newest first; d never started. */
	ts_gather(&g, 4, 0);
	ts_assert_rep(&g.rep[0], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	assert_false(tr_alive(g.rep[0].who));
	assert_false(tr_alive(g.rep[1].who));
	/* Nothing is left: no names, no EXIT from a supervisor that never
	 * started. */
	assert_int_equal(tr_whereis("sf.a", &r), TR_ENOENT);
	assert_int_equal(tr_whereis("sf.b", &r), TR_ENOENT);
	assert_int_equal(tr_whereis("sf.sup", &r), TR_ENOENT);
	ts_nothing_else();

	/* A child that cannot be spawned at all (no such behavior): its
	 * spawn error is the reason. */
	k[2].start.init_arg = ts_cfg(2, 0);
	k[1].start.behavior = "no.such.behavior";
	k[1].start.placement = TR_PLACE_THREAD;
	why = TR_REASON_NORMAL;
	assert_int_equal(tr_sup_start(&s, NULL, true, &sup, &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, TR_ENOENT);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Dynamic children                                                    */
/* ------------------------------------------------------------------ */

static void
test_dynamic_children(void **state)
{
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, NULL, 0);
	tr_child_spec a = ts_child("a", 1, TR_PERMANENT);
	tr_child_spec bad;
	tr_ref sup, ra = TR_REF_NIL, rb = TR_REF_NIL, r;
	tr_reason why;
	tr_child_info ci[4];
	int labels[] = {1};

	(void)state;
	sup = ts_start(&s);
	assert_int_equal(ts_children(sup, ci, 4), 0);

	a.start.name = "dyn.a";
	assert_int_equal(tr_sup_start_child(sup, &a, &ra, NULL), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(1), ra));
	assert_int_equal(tr_whereis("dyn.a", &r), TR_OK);
	assert_true(tr_ref_equal(r, ra));
	ci[0] = ts_info(sup, "a");
	assert_int_equal(ci[0].state, TR_CHILD_RUNNING);
	assert_true(tr_ref_equal(ci[0].ref, ra));

	/* A duplicate id; bad specs. */
	assert_int_equal(tr_sup_start_child(sup, &a, &rb, NULL), TR_EEXIST);
	assert_int_equal(tr_sup_start_child(sup, NULL, &rb, NULL), TR_EINVAL);
	bad = a;
	bad.id = NULL;
	assert_int_equal(tr_sup_start_child(sup, &bad, &rb, NULL), TR_EINVAL);
	bad = a;
	bad.id = "bad";
	bad.restart = (tr_restart)7;
	assert_int_equal(tr_sup_start_child(sup, &bad, &rb, NULL), TR_EINVAL);
	bad.restart = TR_PERMANENT;
	bad.shutdown_ms = -5;
	assert_int_equal(tr_sup_start_child(sup, &bad, &rb, NULL), TR_EINVAL);
	bad.shutdown_ms = 0;
	bad.significant = true;
	assert_int_equal(tr_sup_start_child(sup, &bad, &rb, NULL), TR_EINVAL);
	/* A child whose init fails is not kept. */
	bad = ts_child("bad", 2, TR_PERMANENT);
	bad.start.init_arg = ts_cfg(2, 7);
	why = TR_REASON_NORMAL;
	assert_int_equal(tr_sup_start_child(sup, &bad, &rb, &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, 7);
	assert_int_equal(ts_children(sup, ci, 4), 1);
	ts_nothing_else();

	/* terminate_child: stopped, kept, ref nil. */
	assert_int_equal(tr_sup_terminate_child(sup, "a"), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	ci[0] = ts_info(sup, "a");
	assert_int_equal(ci[0].state, TR_CHILD_STOPPED);
	assert_true(tr_ref_is_nil(ci[0].ref));
	assert_int_equal(ci[0].uptime_ms, 0);
	assert_false(tr_alive(ra));
	assert_int_equal(tr_whereis("dyn.a", &r), TR_ENOENT);
	/* Terminating a stopped child is no error (OTP: ok). */
	assert_int_equal(tr_sup_terminate_child(sup, "a"), TR_OK);
	/* Its id is still taken. */
	assert_int_equal(tr_sup_start_child(sup, &a, &rb, NULL), TR_EEXIST);
	ts_nothing_else();

	/* restart_child: running again, a new actor. */
	assert_int_equal(tr_sup_restart_child(sup, "a", &rb), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(1), rb));
	assert_false(tr_ref_equal(rb, ra));
	ci[0] = ts_info(sup, "a");
	assert_int_equal(ci[0].state, TR_CHILD_RUNNING);
	assert_true(tr_ref_equal(ci[0].ref, rb));
	assert_int_equal(tr_whereis("dyn.a", &r), TR_OK);
	assert_true(tr_ref_equal(r, rb));
	/* Not while it runs. */
	assert_int_equal(tr_sup_restart_child(sup, "a", &r), TR_ESTATE);
	assert_int_equal(tr_sup_delete_child(sup, "a"), TR_ESTATE);
	/* It is supervised like the others. */
	ts_crash(rb, 4);
	rb = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 4));

	/* delete_child: gone after. */
	assert_int_equal(tr_sup_terminate_child(sup, "a"), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	assert_int_equal(tr_sup_delete_child(sup, "a"), TR_OK);
	assert_int_equal(ts_children(sup, ci, 4), 0);
	assert_int_equal(tr_sup_delete_child(sup, "a"), TR_ENOENT);
	assert_int_equal(tr_sup_terminate_child(sup, "zz"), TR_ENOENT);
	assert_int_equal(tr_sup_restart_child(sup, "zz", &r), TR_ENOENT);
	assert_int_equal(tr_sup_delete_child(sup, "zz"), TR_ENOENT);
	ts_nothing_else();

	/* The id is free again. */
	assert_int_equal(tr_sup_start_child(sup, &a, &ra, NULL), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(1), ra));
	ts_stop_sup(sup, labels, 1);
}

static void
test_children_info(void **state)
{
	tr_child_spec ik[1] = {ts_child("w", 3, TR_PERMANENT)};
	tr_sup_spec inner = ts_sup(TR_ONE_FOR_ONE, ik, 1);
	tr_child_spec k[3];
	tr_sup_spec s;
	tr_ref sup, refs[3];
	tr_child_info ci[4];
	tr_actor_info info;
	size_t n;
	int labels[] = {3, 2, 1};

	(void)state;
	k[0] = ts_child("a", 1, TR_PERMANENT);
	k[1] = ts_child("f", 2, TR_TRANSIENT);
	k[1].start.placement = TR_PLACE_FORK;
	memset(&k[2], 0, sizeof(k[2]));
	k[2].id = "inner";
	k[2].sup = &inner;
	s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	sup = ts_start(&s);
	ts_expect_started_in_order(1, 3, refs);

	memset(ci, 0xab, sizeof(ci));
	assert_int_equal(ts_children(sup, ci, 4), 3);
	assert_string_equal(ci[0].id, "a");
	assert_string_equal(ci[1].id, "f");
	assert_string_equal(ci[2].id, "inner");
	assert_int_equal(ci[0].placement, ts_auto_placement());
	assert_int_equal(ci[1].placement, TR_PLACE_FORK);
	assert_int_equal(ci[2].placement, ts_sup_placement());
	assert_false(ci[0].supervisor);
	assert_false(ci[1].supervisor);
	assert_true(ci[2].supervisor);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
		assert_int_equal(ci[i].restarts, 0);
		assert_true(ci[i].uptime_ms < TL_WAIT);
		assert_false(tr_ref_is_nil(ci[i].ref));
		assert_int_equal(tr_actor_info_get(ci[i].ref, &info), TR_OK);
		assert_int_equal(info.placement, ci[i].placement);
	}
	assert_true(tr_ref_equal(ci[0].ref, refs[0]));
	assert_true(tr_ref_equal(ci[1].ref, refs[1]));
	assert_true(tr_ref_equal(ts_info(ci[2].ref, "w").ref, refs[2]));
	assert_string_equal(info.behavior, "troupe.supervisor");

	/* Fewer slots than children: n says how many there are, and only
	 * max entries are written. */
	memset(ci, 0xab, sizeof(ci));
	n = 0;
	assert_int_equal(tr_sup_children(sup, ci, 1, &n), TR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(ci[0].id, "a");
	assert_int_equal(((unsigned char *)&ci[1])[0], 0xab);

	/* Restarts are counted per child. */
	ts_crash(refs[0], 5);
	refs[0] = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_crash(refs[1], 5);
	refs[1] = ts_expect_restart(2, TR_REASON(TR_EXIT_ERROR, 5));
	ts_crash(refs[1], 5);
	refs[1] = ts_expect_restart(2, TR_REASON(TR_EXIT_ERROR, 5));
	assert_int_equal(ts_children(sup, ci, 4), 3);
	assert_int_equal(ci[0].restarts, 1);
	assert_int_equal(ci[1].restarts, 2);
	assert_int_equal(ci[2].restarts, 0);
	assert_int_equal(ci[1].placement, TR_PLACE_FORK);
	ts_nothing_else();

	/* A stopped child keeps its place and its spec's placement. */
	assert_int_equal(tr_sup_terminate_child(sup, "f"), TR_OK);
	ts_expect_stopped(2, TR_REASON_SHUTDOWN);
	ci[1] = ts_info(sup, "f");
	assert_int_equal(ci[1].state, TR_CHILD_STOPPED);
	assert_int_equal(ci[1].placement, TR_PLACE_FORK);
	assert_int_equal(ci[1].uptime_ms, 0);
	labels[1] = 1;
	ts_stop_sup(sup, labels, 2);
}

/* ------------------------------------------------------------------ */
/* Significant children                                                */
/* ------------------------------------------------------------------ */

static void
test_significant_any(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("p", 0, TR_PERMANENT), ts_child("s", 1, TR_TRANSIENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2];
	ts_got g;

	(void)state;
	k[1].significant = true;
	s.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);

	/* Restarted after a crash: it did not end "by itself". */
	ts_crash(refs[1], 5);
	refs[1] = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_nothing_else();

	/* A normal end: the supervisor stops the rest and ends, shutdown. */
	ts_exit(refs[1], TR_REASON_NORMAL);
	ts_gather(&g, 2, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();

	/* A temporary significant child ends it whatever its reason. */
	k[1].restart = TR_TEMPORARY;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	ts_crash(refs[1], 5);
	ts_gather(&g, 2, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();
}

static void
test_significant_all(void **state)
{
	tr_child_spec k[3] = {ts_child("s1", 0, TR_TRANSIENT),
	    ts_child("s2", 1, TR_TRANSIENT), ts_child("p", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	tr_ref sup, refs[3];
	tr_child_info ci;
	ts_got g;

	(void)state;
	k[0].significant = true;
	k[1].significant = true;
	s.auto_shutdown = TR_AUTO_ALL_SIGNIFICANT;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);

	/* One of two: the supervisor goes on. */
	ts_exit(refs[0], TR_REASON_NORMAL);
	ts_expect_stopped(0, TR_REASON_NORMAL);
	assert_true(ts_wait_moved(sup, "s1", refs[0], &ci));
	assert_int_equal(ci.state, TR_CHILD_STOPPED);
	assert_true(tr_alive(sup));
	assert_true(tr_ref_equal(ts_info(sup, "p").ref, refs[2]));
	ts_nothing_else();

	/* The last one: it ends. */
	ts_exit(refs[1], TR_REASON_SHUTDOWN);
	ts_gather(&g, 2, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* tr_kill                                                             */
/* ------------------------------------------------------------------ */

static tr_ref
ts_spawn_child(tr_placement place, int label)
{
	tr_spec spec;
	tr_ref r;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = TS_CHILD;
	spec.placement = place;
	spec.init_arg = ts_cfg(label, 0);
	r = tl_spawn_spec(&spec);
	assert_true(tr_ref_equal(ts_expect_started(label), r));
	return r;
}

static void
test_kill_thread(void **state)
{
	tr_ref a, b;
	tr_mon mon;
	ts_rep r;
	double t0, dt;

	(void)state;
	assert_int_equal(tr_kill(TR_REF_NIL), TR_EINVAL);

	/* Ends with reason killed, without terminate. */
	a = ts_spawn_child(TR_PLACE_THREAD, 1);
	mon = tl_monitor(a);
	assert_int_equal(tr_kill(a), TR_OK);
	tl_expect_down(mon, a, TR_REASON_KILL);
	ts_nothing_else();
	assert_false(tr_alive(a));
	assert_int_equal(tr_kill(a), TR_ENOPROC);

	/* A thread busy in a callback ends when the callback returns. */
	b = ts_spawn_child(TR_PLACE_THREAD, 2);
	mon = tl_monitor(b);
	ts_send_int(b, TS_HANG, 150);
	r = ts_next();
	ts_assert_rep(&r, TS_HANGING, 2, TR_REASON_NORMAL);
	t0 = ts_ms();
	assert_int_equal(tr_kill(b), TR_OK);
	tl_send(b, tl_msg(TS_WORK)); /* never handled */
	tl_expect_down(mon, b, TR_REASON_KILL);
	dt = ts_ms() - t0;
	assert_true(dt < 150 + 1000);
	ts_nothing_else();
}

/*
 * A supervisor that is a scheduled actor, with children placed on the
 * schedulers too (explicitly, whatever TROUPE_PLACEMENT says) and a
 * thread among them: it starts them in order, restarts one after its
 * backoff (a timer of a scheduled actor), kills one brutally, and stops
 * the others newest first.  A supervisor runs in its caller's process:
 * fork and exec are refused.
 */
static void
test_scheduled_supervisor(void **state)
{
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("t", 1, TR_PERMANENT), ts_child("b", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	tr_child_info ci[3];
	tr_actor_info info;
	tr_ref sup = TR_REF_NIL, refs[3];
	tr_reason why;
	tr_mon mon;
	ts_rep r;
	double t0, dt;
	char err[256];
	int labels[] = {1, 0};

	(void)state;
	k[0].start.placement = TR_PLACE_SCHEDULED;
	k[1].start.placement = TR_PLACE_THREAD;
	k[2].start.placement = TR_PLACE_SCHEDULED;
	k[2].shutdown_ms = TR_SHUTDOWN_BRUTAL;
	s.backoff_initial_ms = 100;

	s.placement = TR_PLACE_FORK;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_EINVAL);
	assert_string_equal(
	    err, "a supervisor's placement is auto, thread or scheduled");
	assert_int_equal(tr_sup_start(&s, NULL, true, &sup, &why), TR_EINVAL);
	assert_true(tr_ref_is_nil(sup));
	s.placement = (tr_placement)9;
	assert_int_equal(tr_sup_check(&s, NULL, 0), TR_EINVAL);
	k[0].start.placement = (tr_placement)9;
	s.placement = TR_PLACE_SCHEDULED;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_EINVAL);
	assert_string_equal(err, "child 'a': unknown placement");
	k[0].start.placement = TR_PLACE_SCHEDULED;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_OK);

	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);
	assert_int_equal(tr_actor_info_get(sup, &info), TR_OK);
	assert_int_equal(info.placement, TR_PLACE_SCHEDULED);
	assert_string_equal(info.behavior, "troupe.supervisor");
	assert_int_equal(ts_children(sup, ci, 3), 3);
	assert_int_equal(ci[0].placement, TR_PLACE_SCHEDULED);
	assert_int_equal(ci[1].placement, TR_PLACE_THREAD);
	assert_int_equal(ci[2].placement, TR_PLACE_SCHEDULED);
	for (size_t i = 0; i < 3; i++) {
		assert_true(tr_ref_equal(ci[i].ref, refs[i]));
		assert_int_equal(tr_actor_info_get(refs[i], &info), TR_OK);
		assert_int_equal(info.placement, ci[i].placement);
	}

	/* A crash: restarted once its backoff (a timer) has passed. */
	ts_crash(refs[0], 5);
	ts_expect_stopped(0, TR_REASON(TR_EXIT_ERROR, 5));
	t0 = ts_ms();
	assert_true(ts_wait_moved(sup, "a", refs[0], &ci[0]));
	assert_int_equal(ci[0].state, TR_CHILD_RESTARTING);
	r = ts_next();
	dt = ts_ms() - t0;
	ts_assert_rep(&r, TS_STARTED, 0, TR_REASON_NORMAL);
	print_message(
	    "scheduled supervisor: backoff 100 ms, took %.1f ms\n", dt);
	assert_true(dt >= 90);
	ci[0] = ts_info(sup, "a");
	assert_int_equal(ci[0].state, TR_CHILD_RUNNING);
	assert_int_equal(ci[0].restarts, 1);
	assert_true(tr_ref_equal(ci[0].ref, r.who));

	/* Brutal: killed, no terminate, and it stays stopped. */
	mon = tl_monitor(refs[2]);
	assert_int_equal(tr_sup_terminate_child(sup, "b"), TR_OK);
	tl_expect_down(mon, refs[2], TR_REASON_KILL);
	assert_int_equal(ts_info(sup, "b").state, TR_CHILD_STOPPED);
	ts_nothing_else();

	ts_stop_sup(sup, labels, 2);
}

static void
test_kill_fork(void **state)
{
	tr_ref a, b;
	tr_actor_info info;
	tr_mon mon;
	ts_rep r;
	double t0;
	int pid;

	(void)state;
	a = ts_spawn_child(TR_PLACE_FORK, 1);
	assert_int_equal(tr_actor_info_get(a, &info), TR_OK);
	assert_int_equal(info.placement, TR_PLACE_FORK);
	pid = info.pid;
	assert_true(pid > 0 && pid != getpid());
	mon = tl_monitor(a);
	assert_int_equal(tr_kill(a), TR_OK);
	tl_expect_down(mon, a, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	ts_nothing_else();
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(tr_kill(a), TR_ENOPROC);

	/* Busy or not, a process dies at once. */
	b = ts_spawn_child(TR_PLACE_FORK, 2);
	mon = tl_monitor(b);
	ts_send_int(b, TS_HANG, 20000);
	r = ts_next();
	ts_assert_rep(&r, TS_HANGING, 2, TR_REASON_NORMAL);
	t0 = ts_ms();
	assert_int_equal(tr_kill(b), TR_OK);
	tl_expect_down(mon, b, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	assert_true(ts_ms() - t0 < 1000);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Chaos                                                               */
/* ------------------------------------------------------------------ */

#define CHAOS_N 3
#define CHAOS_KILLS 20

/* Calls child c until it has handled some of the driver's messages. */
static void
ts_wait_work(tr_ref c, int label)
{
	double end = ts_ms() + TL_WAIT;

	for (;;) {
		int64_t v[3];
		tr_msg *rep = tl_call(c, tl_msg(TS_PING));
		assert_int_equal(tr_msg_tag(rep), TS_PONG);
		tl_body_ints(rep, v, 3);
		tr_msg_free(rep);
		assert_int_equal(v[0], label);
		if (v[1] > 0) {
			return;
		}
		assert_true(ts_ms() < end);
	}
}

static void
test_chaos(void **state)
{
	tr_child_spec k[CHAOS_N];
	char ids[CHAOS_N][8], names[CHAOS_N][16];
	tr_sup_spec s;
	tr_ref sup, refs[CHAOS_N], driver;
	tr_child_info ci[CHAOS_N];
	tr_spec dspec;
	tr_msg *dcfg;
	unsigned seed = 20240601u;
	uint32_t total = 0;
	int labels[] = {2, 1, 0};

	(void)state;
	for (int i = 0; i < CHAOS_N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "c%d", i);
		snprintf(names[i], sizeof(names[i]), "chaos.%d", i);
		k[i] = ts_child(ids[i], i, TR_PERMANENT);
		k[i].start.name = names[i];
	}
	s = ts_sup(TR_ONE_FOR_ONE, k, CHAOS_N);
	s.intensity = 100;
	s.period_ms = 10000;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, CHAOS_N, refs);

	dcfg = tl_msg(TS_CFG);
	msgpack_pack_array(tr_msg_packer(dcfg), 2);
	msgpack_pack_str_with_body(tr_msg_packer(dcfg), "chaos", 5);
	msgpack_pack_int(tr_msg_packer(dcfg), CHAOS_N);
	memset(&dspec, 0, sizeof(dspec));
	dspec.behavior = TS_DRIVER;
	dspec.init_arg = dcfg;
	driver = tl_spawn_spec(&dspec);
	tr_msg_free(dcfg);
	for (int i = 0; i < CHAOS_N; i++) {
		ts_wait_work(refs[i], i);
	}

	print_message("chaos seed %u\n", seed);
	for (int n = 0; n < CHAOS_KILLS; n++) {
		int i = (int)(rand_r(&seed) % CHAOS_N);
		tr_actor_info info;
		ts_rep r;

		/* Processes are killed from outside troupe half the time. */
		if (!test_actors_local() && n % 2 == 1) {
			assert_int_equal(
			    tr_actor_info_get(refs[i], &info), TR_OK);
			assert_true(info.pid > 0 && info.pid != getpid());
			assert_int_equal(kill(info.pid, SIGKILL), 0);
		} else {
			assert_int_equal(tr_kill(refs[i]), TR_OK);
		}
		/* Killed: no terminate, only the restart's report. */
		r = ts_next();
		ts_assert_rep(&r, TS_STARTED, i, TR_REASON_NORMAL);
		assert_false(tr_ref_equal(r.who, refs[i]));
		refs[i] = r.who;
		/* The driver finds the new child by its name. */
		ts_wait_work(refs[i], i);
	}
	ts_nothing_else();

	/* Every child came back, under its name, and gets messages again;
	 * the supervisor is still there. */
	assert_true(tr_alive(sup));
	assert_int_equal(ts_children(sup, ci, CHAOS_N), CHAOS_N);
	for (int i = 0; i < CHAOS_N; i++) {
		tr_ref named;
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
		assert_true(tr_ref_equal(ci[i].ref, refs[i]));
		assert_int_equal(tr_whereis(names[i], &named), TR_OK);
		assert_true(tr_ref_equal(named, refs[i]));
		total += ci[i].restarts;
		ts_wait_work(refs[i], i);
	}
	assert_int_equal(total, CHAOS_KILLS);
	{
		int64_t v[2];
		tr_msg *rep = tl_call(driver, tl_msg(TS_PING));
		tl_body_ints(rep, v, 2);
		tr_msg_free(rep);
		print_message("driver: %lld sent, %lld failed\n",
		    (long long)v[0], (long long)v[1]);
		assert_true(v[0] > 0);
	}

	tl_stop_wait(driver, TR_REASON_SHUTDOWN);
	ts_stop_sup(sup, labels, CHAOS_N);
}

/* ------------------------------------------------------------------ */
/* Stopped while it starts a child                                     */
/* ------------------------------------------------------------------ */

/*
 * The supervisor is asked to stop while it waits for a child's init to
 * return (a restart).  It must end, with reason shutdown, and leave
 * nothing behind: the child it was starting ends too (stopped, or
 * killed), its process gone.  The child's init reports, then blocks
 * 300 ms: the stop request is sure to arrive during the spawn.
 */
static void
test_stop_while_child_starts(void **state)
{
	tr_child_spec k[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, w;
	bool got_exit = false, got_down = false, got_stopped = false;
	ts_rep r;
	int pid;

	(void)state;
	k[0].start.init_arg = ts_cfg_slow(1, 300);
	sup = ts_start(&s);
	w = ts_expect_started(1);
	ts_crash(w, 5);
	{
		/* The restart's init is running now. */
		ts_got g;
		ts_gather(&g, 2, 0);
		ts_assert_rep(
		    &g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
		ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
		w = g.rep[1].who;
		pid = g.rep[1].pid;
	}
	(void)tl_monitor(w);
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);

	while (!got_exit || !got_down) {
		tr_msg *m = tl_recv();
		tr_ref who = TR_REF_NIL;
		tr_reason why;

		if (tr_msg_tag(m) == TS_STOPPED && !got_stopped) {
			ts_parse(m, &r);
			ts_assert_rep(&r, TS_STOPPED, 1, TR_REASON_SHUTDOWN);
			got_stopped = true;
		} else if (tr_msg_tag(m) == TR_TAG_EXIT && !got_exit) {
			assert_int_equal(
			    tr_msg_reason(m, &who, &why, NULL), TR_OK);
			assert_true(tr_ref_equal(who, sup));
			assert_int_equal(why.kind, TR_EXIT_SHUTDOWN);
			assert_int_equal(why.code, 0);
			got_exit = true;
		} else if (tr_msg_tag(m) == TR_TAG_DOWN && !got_down) {
			char b[64];
			assert_int_equal(
			    tr_msg_reason(m, &who, &why, NULL), TR_OK);
			assert_true(tr_ref_equal(who, w));
			print_message("the child being started ended: %s\n",
			    tr_reason_format(why, b, sizeof(b)));
			assert_true(why.kind == TR_EXIT_SHUTDOWN ||
			    why.kind == TR_EXIT_KILL ||
			    why.kind == TR_EXIT_SIGNAL);
			got_down = true;
		} else {
			ts_describe("unexpected", m);
			fail();
		}
		tr_msg_free(m);
	}
	assert_false(tr_alive(sup));
	assert_false(tr_alive(w));
	if (pid != getpid()) {
		assert_int_equal(kill(pid, 0), -1);
		assert_int_equal(errno, ESRCH);
	}
}

/*
 * A backoff restart runs from a libuv timer of the supervisor, not from
 * a message: a call that reaches the supervisor while that restart
 * waits for the child's init must still be answered once it is done.
 * The child's init reports, then blocks 300 ms, so the call is sure to
 * arrive during the start.
 */
static void
test_call_during_backoff_restart(void **state)
{
	tr_child_spec k[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, w;
	tr_child_info ci;
	int labels[] = {1};

	(void)state;
	k[0].start.init_arg = ts_cfg_slow(1, 300);
	s.backoff_initial_ms = 50;
	sup = ts_start(&s);
	w = ts_expect_started(1);
	ts_crash(w, 5);
	/* The restart's init is still running after this. */
	w = ts_expect_restart(1, TR_REASON(TR_EXIT_ERROR, 5));
	ci = ts_info(sup, "w");
	assert_int_equal(ci.state, TR_CHILD_RUNNING);
	assert_true(tr_ref_equal(ci.ref, w));
	assert_int_equal(ci.restarts, 1);
	ts_stop_sup(sup, labels, 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    TS_TEST(test_check_messages),
	    TS_TEST(test_api_bad_args),
	    TS_TEST(test_one_for_one),
	    TS_TEST(test_one_for_all),
	    TS_TEST(test_one_for_all_temporary),
	    TS_TEST(test_rest_for_one),
	    TS_TEST(test_simple_one_for_one),
	    TS_TEST(test_simple_one_for_one_ends),
	    TS_TEST(test_permanent),
	    TS_TEST(test_transient),
	    TS_TEST(test_transient_signal),
	    TS_TEST(test_temporary),
	    TS_TEST(test_intensity),
	    TS_TEST(test_intensity_default_and_none),
	    TS_TEST(test_intensity_period),
	    TS_TEST(test_nested_escalation),
	    TS_TEST(test_backoff),
	    TS_TEST(test_backoff_restarting_child),
	    TS_TEST(test_shutdown_order),
	    TS_TEST(test_shutdown_timeout_kills),
	    TS_TEST(test_shutdown_brutal),
	    TS_TEST(test_start_failure),
	    TS_TEST(test_dynamic_children),
	    TS_TEST(test_children_info),
	    TS_TEST(test_significant_any),
	    TS_TEST(test_significant_all),
	    TS_TEST(test_kill_thread),
	    TS_TEST(test_kill_fork),
	    TS_TEST(test_scheduled_supervisor),
	    TS_TEST(test_chaos),
	    TS_TEST(test_stop_while_child_starts),
	    TS_TEST(test_call_during_backoff_restart),
	};

	/* An optional pattern runs only the matching cases; "!pattern"
	 * skips them. */
	if (argc > 1 && argv[1][0] == '!') {
		cmocka_set_skip_filter(argv[1] + 1);
	} else if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
