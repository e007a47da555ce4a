/*
 * test_sup_otp.c -- supervisors held to OTP's own supervisor test suite
 * (lib/stdlib/test/supervisor_SUITE.erl): its cases that C can express,
 * each named after the OTP case it follows where there is one.
 *
 *  - a supervisor in a restart loop answers calls and stop requests
 *    between two attempts (hanging_restart_loop*, every strategy);
 *  - a group restart whose second child fails stops the restarted ones
 *    and retries the group (one_for_all_other_child_fails_restart), or
 *    starts from the failed child (rest_for_one_...);
 *  - a group restart keeps start order under backoff;
 *  - simple_one_for_one stops its children in parallel
 *    (simple_one_for_one_shutdown, sup_stop_timeout_dynamic,
 *    sup_stop_brutal_kill_dynamic);
 *  - significant children: the refused combinations (child_specs_map,
 *    significant_simple), and what does and does not shut a supervisor
 *    down (significant_temporary, _transient, _bystander, _escalation);
 *  - terminate_child / restart_child / delete_child and start_child
 *    return values (child_adm, child_adm_simple, extra_return,
 *    do_not_save_child_specs_for_temporary_children,
 *    already_started_outside_supervisor);
 *  - a child's init returning TR_IGNORE (sup_start_ignore_*,
 *    simple_one_for_one_restart_ignore);
 *  - restart escalation when a restart keeps failing (*_escalation);
 *  - a thread child that cannot be killed is shown stuck.
 *
 * Children report their life to the test ("sup.child",
 * behaviors_sup.h); a "sup.gate" scripts what each of their starts does
 * (succeed, fail after a while, ignore).  Children are TR_PLACE_AUTO
 * unless a case says otherwise, so that the cases run as threads, fork
 * members and exec'd programs (meson's placement legs).
 *
 * `test_sup_otp PATTERN` runs only the matching cases, `'!PATTERN'` all
 * others.
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
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Receives until a report of that tag and label; every other report is
 * dropped (a group's restarts make many), a notice fails. */
static ts_rep
ts_until(uint32_t tag, int label)
{
	for (;;) {
		tr_msg *m = tl_recv();
		ts_rep r;
		if (tr_msg_tag(m) == TR_TAG_EXIT ||
		    tr_msg_tag(m) == TR_TAG_DOWN) {
			ts_describe("unexpected notice", m);
			fail();
		}
		ts_parse(m, &r);
		tr_msg_free(m);
		if (r.tag == tag && r.label == label) {
			return r;
		}
	}
}

/* Asks sup until child id is in state st (the supervisor gets there by
 * itself, after a message we do not see). */
static tr_child_info
ts_wait_state(tr_ref sup, const char *id, tr_child_state st)
{
	double end = ts_ms() + TL_WAIT;
	tr_child_info ci;

	for (;;) {
		ci = ts_info(sup, id);
		if (ci.state == st) {
			return ci;
		}
		if (ts_ms() >= end) {
			print_error("child '%s' in state %d, not %d\n", id,
			    (int)ci.state, (int)st);
			fail();
		}
	}
}

static void
ts_assert_reason(tr_reason got, tr_reason want)
{
	if (got.kind != want.kind || got.code != want.code) {
		char a[64], b[64];
		print_error("reason %s, expected %s\n",
		    tr_reason_format(got, a, sizeof(a)),
		    tr_reason_format(want, b, sizeof(b)));
	}
	assert_int_equal(got.kind, want.kind);
	assert_int_equal(got.code, want.code);
}

static tr_sup_spec
ts_sup_simple(const tr_child_spec *tmpl)
{
	return ts_sup(TR_SIMPLE_ONE_FOR_ONE, tmpl, 1);
}

/* ------------------------------------------------------------------ */
/* A supervisor in a restart loop is not deaf (hanging_restart_loop)   */
/* ------------------------------------------------------------------ */

/* How long each failed start of the loop takes (its init waits this
 * long, then fails). */
#define LOOP_MS 300

/*
 * What a call to a supervisor in a restart loop may take: it is served
 * between two attempts, so at most the rest of the attempt under way
 * when it came.  Checked from the children's own reports: at most one
 * attempt of w's ended while the call waited (two, if the call came
 * just as one ended: the supervisor had already taken what had come
 * when it scheduled the next), and the answer came soon after the last
 * of them.  Deaf, a supervisor lets the whole loop go by.  On an idle
 * machine that is well under 1 s with attempts of LOOP_MS; the figures
 * are printed.
 */
#define LOOP_SLACK_MS 2000

typedef struct loop_clock {
	uint64_t ends[64]; /* ends of w's attempts seen, ns */
	size_t nends;
	double worst; /* slowest answer, ms */
} loop_clock;

/* Takes every report that came (waiting 100 ms for late ones), keeping
 * the times of w's attempts. */
static void
loop_collect(loop_clock *lc)
{
	assert_int_equal(
	    tr_send_after(tr_self(), tl_msg_int(TS_MARK, -2), 100, NULL),
	    TR_OK);
	for (;;) {
		tr_msg *m = tl_recv();
		ts_rep r;
		if (tr_msg_tag(m) == TS_MARK) {
			tr_msg_free(m);
			return;
		}
		ts_parse(m, &r);
		tr_msg_free(m);
		if (r.tag == TS_ATTEMPT && r.label == 1 && lc->nends < 64) {
			lc->ends[lc->nends++] = r.ts;
		}
	}
}

/* Receives until sup's EXIT, keeping w's attempts' times. */
static tr_reason
loop_until_exit(loop_clock *lc, tr_ref sup)
{
	for (;;) {
		tr_msg *m = tl_recv();
		tr_ref w = TR_REF_NIL;
		tr_reason why;
		ts_rep r;
		if (tr_msg_tag(m) == TR_TAG_EXIT &&
		    tr_msg_reason(m, &w, &why, NULL) == TR_OK &&
		    tr_ref_equal(w, sup)) {
			tr_msg_free(m);
			return why;
		}
		ts_parse(m, &r);
		tr_msg_free(m);
		if (r.tag == TS_ATTEMPT && r.label == 1 && lc->nends < 64) {
			lc->ends[lc->nends++] = r.ts;
		}
	}
}

static void
loop_took(loop_clock *lc, const char *what, double t0, double t1)
{
	double last = t0;
	int between = 0;

	loop_collect(lc);
	for (size_t i = 0; i < lc->nends; i++) {
		double e = (double)lc->ends[i] / 1e6;
		if (e > t0 && e < t1) {
			between++;
			last = e > last ? e : last;
		}
	}
	print_message("restart loop: %s answered in %.1f ms (%d attempt(s) "
	              "ended meanwhile, answer %.1f ms after the last)\n",
	    what, t1 - t0, between, t1 - last);
	if (t1 - t0 > lc->worst) {
		lc->worst = t1 - t0;
	}
	assert_true(between <= 2);
	assert_true(t1 - last < LOOP_SLACK_MS);
}

/* A call, timed and checked; each under the watchdog (a deaf
 * supervisor never answers). */
#define LOOP_CALL(what, call)                 \
	do {                                  \
		ts_watchdog(true);            \
		t0 = ts_ms();                 \
		rv = (call);                  \
		t1 = ts_ms();                 \
		ts_watchdog(false);           \
		loop_took(&lc, what, t0, t1); \
	} while (0)

/*
 * w (label 1) starts once, then every start of it fails after LOOP_MS:
 * a restart loop that the intensity (1000 in 60 s) does not end.  While
 * it runs, the supervisor must answer the children list, start_child,
 * restart_child, delete_child and terminate_child between two attempts,
 * and end soon after tr_stop.  Under one_for_all, a (label 0) restarts
 * with every attempt; under rest_for_one, a is before w and stays.
 * sup_place: the supervisor's placement; child_place the children's.
 */
static void
ts_loop_case_at(
    tr_strategy st, tr_placement sup_place, tr_placement child_place)
{
	bool simple = st == TR_SIMPLE_ONE_FOR_ONE;
	tr_ref gate = ts_gate();
	const int once_ok[1][2] = {{0, 0}};
	tr_child_spec k[2], x;
	tr_sup_spec s;
	tr_ref sup, w, r;
	tr_child_info ci[8];
	char wid[TR_NAME_MAX + 1];
	loop_clock lc;
	ts_rep a1, a2;
	double t0, t1;
	size_t n;
	int rv;

	memset(&lc, 0, sizeof(lc));

	ts_gate_set(gate, 1, 7, LOOP_MS, 1, once_ok);
	k[0] = ts_child("a", 0, TR_PERMANENT);
	k[1] = ts_child("w", 1, TR_PERMANENT);
	k[1].start.init_arg = ts_cfg_full(1, 0, 0, 0, gate);
	k[0].start.placement = child_place;
	k[1].start.placement = child_place;
	s = simple ? ts_sup_simple(&k[1]) : ts_sup(st, k, 2);
	s.intensity = 1000;
	s.period_ms = 60000;
	s.placement = sup_place;
	sup = ts_start(&s);
	if (simple) {
		assert_int_equal(
		    tr_sup_start_child(sup, NULL, &w, NULL), TR_OK);
		assert_true(tr_ref_equal(ts_expect_started(1), w));
		assert_int_equal(ts_children(sup, ci, 8), 1);
		snprintf(wid, sizeof(wid), "%s", ci[0].id);
	} else {
		tr_ref refs[2];
		ts_expect_started_in_order(0, 2, refs);
		w = refs[1];
		snprintf(wid, sizeof(wid), "w");
	}

	/* The loop: two failed attempts, so that it surely runs. */
	ts_crash(w, 5);
	a1 = ts_until(TS_ATTEMPT, 1);
	a2 = ts_until(TS_ATTEMPT, 1);
	assert_int_equal(a1.code, 7);
	print_message("restart loop: an attempt takes %.1f ms\n",
	    (double)(a2.ts - a1.ts) / 1e6);

	LOOP_CALL("the children list", tr_sup_children(sup, ci, 8, &n));
	assert_int_equal(rv, TR_OK);
	{
		bool seen = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(ci[i].id, wid) == 0) {
				assert_int_equal(
				    ci[i].state, TR_CHILD_RESTARTING);
				assert_true(tr_ref_is_nil(ci[i].ref));
				assert_true(ci[i].restarts >= 2);
				seen = true;
			}
		}
		assert_true(seen);
	}

	LOOP_CALL("restart_child", tr_sup_restart_child(sup, wid, &r));
	assert_int_equal(rv, simple ? TR_ENOTSUP : TR_ESTATE);

	LOOP_CALL("delete_child", tr_sup_delete_child(sup, wid));
	assert_int_equal(rv, simple ? TR_ENOTSUP : TR_ESTATE);

	/* Its own spec again: already present (restarting, no ref). */
	if (!simple) {
		r = (tr_ref){1, 1, 1, 1};
		LOOP_CALL("start_child of it",
		    tr_sup_start_child(sup, &k[1], &r, NULL));
		assert_int_equal(rv, TR_EEXIST);
		assert_true(tr_ref_is_nil(r));
	}

	/* A new child, while the loop goes on. */
	memset(&x, 0, sizeof(x));
	if (!simple) {
		x = ts_child("x", 2, TR_TEMPORARY);
	} else {
		x.start.init_arg = ts_cfg(2, 0);
	}
	x.start.placement = child_place;
	LOOP_CALL("start_child", tr_sup_start_child(sup, &x, &r, NULL));
	assert_int_equal(rv, TR_OK);
	assert_false(tr_ref_is_nil(r));

	/* terminate_child ends the loop: no attempt after it. */
	LOOP_CALL("terminate_child", tr_sup_terminate_child(sup, wid));
	assert_int_equal(rv, TR_OK);
	{
		double t_done = ts_ms();
		tr_child_info c;
		/* What comes within two attempts' time: no attempt of w's
		 * made after the answer (a report may come late: reports
		 * travel apart, but its time stamp tells). */
		assert_int_equal(
		    tr_send_after(
		        tr_self(), tl_msg_int(TS_MARK, -1), 2 * LOOP_MS, NULL),
		    TR_OK);
		for (;;) {
			tr_msg *m = tl_recv();
			ts_rep rep;
			if (tr_msg_tag(m) == TS_MARK) {
				tr_msg_free(m);
				break;
			}
			ts_parse(m, &rep);
			tr_msg_free(m);
			if (rep.tag == TS_ATTEMPT) {
				assert_true((double)rep.ts / 1e6 < t_done);
			}
		}
		if (simple) {
			assert_false(ts_find(sup, wid, &c));
		} else {
			c = ts_info(sup, wid);
			assert_int_equal(c.state, TR_CHILD_STOPPED);
		}
	}

	/* Again, and tr_stop now: the supervisor ends within the attempt
	 * under way (a process's start is canceled at once). */
	ts_gate_set(gate, 1, 7, LOOP_MS, 1, once_ok);
	if (simple) {
		assert_int_equal(
		    tr_sup_start_child(sup, NULL, &w, NULL), TR_OK);
	} else {
		assert_int_equal(tr_sup_restart_child(sup, "w", &w), TR_OK);
	}
	assert_true(tr_ref_equal(ts_until(TS_STARTED, 1).who, w));
	ts_crash(w, 5);
	(void)ts_until(TS_ATTEMPT, 1);
	t0 = ts_ms();
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_assert_reason(loop_until_exit(&lc, sup), TR_REASON_SHUTDOWN);
	t1 = ts_ms();
	loop_took(&lc, "tr_stop (the supervisor's end)", t0, t1);
	assert_false(tr_alive(sup));
}

static void
ts_loop_case(tr_strategy st)
{
	ts_loop_case_at(st, TR_PLACE_AUTO, TR_PLACE_AUTO);
}

static void
test_restart_loop_one_for_one(void **state)
{
	(void)state;
	ts_loop_case(TR_ONE_FOR_ONE);
}

/*
 * The same, the supervisor a scheduled actor and its children threads:
 * each failed start holds the scheduler's thread (a thread's init is
 * waited for there), and a retry the supervisor sent itself came in the
 * same batch of messages as the one before, ahead of the calls waiting
 * in the scheduler's inbox -- 64 attempts, 19 s, before a call got in.
 */
static void
test_restart_loop_scheduled(void **state)
{
	(void)state;
	ts_loop_case_at(TR_ONE_FOR_ONE, TR_PLACE_SCHEDULED, TR_PLACE_THREAD);
	ts_loop_case_at(
	    TR_SIMPLE_ONE_FOR_ONE, TR_PLACE_SCHEDULED, TR_PLACE_THREAD);
}

static void
test_restart_loop_rest_for_one(void **state)
{
	(void)state;
	ts_loop_case(TR_REST_FOR_ONE);
}

static void
test_restart_loop_one_for_all(void **state)
{
	(void)state;
	ts_loop_case(TR_ONE_FOR_ALL);
}

static void
test_restart_loop_simple(void **state)
{
	(void)state;
	ts_loop_case(TR_SIMPLE_ONE_FOR_ONE);
}

/* ------------------------------------------------------------------ */
/* A group restart whose other child fails to start                    */
/* ------------------------------------------------------------------ */

/*
 * one_for_all_other_child_fails_restart: a crashes; the group restarts:
 * b stops, a starts, b's start fails.  The retry stops a again (reason
 * shutdown) and starts a and b, in order -- not b alone.
 */
static void
test_one_for_all_other_child_fails_restart(void **state)
{
	tr_ref gate = ts_gate();
	const int b_script[2][2] = {{0, 0}, {7, 0}};
	tr_child_spec k[2] = {
	    ts_child("a", 0, TR_PERMANENT), ts_child("b", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ALL, k, 2);
	tr_ref sup, refs[2];
	tr_child_info ci[2];
	ts_got g;
	int labels[] = {1, 0};

	(void)state;
	ts_gate_set(gate, 1, 0, 0, 2, b_script); /* ok, fails once, ok */
	k[1].start.init_arg = ts_cfg_full(1, 0, 0, 0, gate);
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);

	ts_crash(refs[0], 5);
	ts_gather(&g, 7, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STARTED, 0, TR_REASON_NORMAL);
	assert_int_equal(g.rep[3].tag, TS_ATTEMPT);
	assert_int_equal(g.rep[3].label, 1);
	assert_int_equal(g.rep[3].code, 7);
	/* The retry: the restarted a is stopped, and all start in order. */
	ts_assert_rep(&g.rep[4], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[5], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[6], TS_STARTED, 1, TR_REASON_NORMAL);
	assert_false(tr_alive(g.rep[2].who));
	ts_nothing_else();

	assert_int_equal(ts_children(sup, ci, 2), 2);
	assert_true(tr_ref_equal(ci[0].ref, g.rep[5].who));
	assert_true(tr_ref_equal(ci[1].ref, g.rep[6].who));
	assert_int_equal(ci[0].restarts, 2);
	assert_int_equal(ci[1].restarts, 2);
	ts_stop_sup(sup, labels, 2);
}

/*
 * rest_for_one_other_child_fails_restart: a crashes; a, b, c restart in
 * order, b's start fails; the retry starts from b: a, already restarted,
 * is left alone.
 */
static void
test_rest_for_one_other_child_fails_restart(void **state)
{
	tr_ref gate = ts_gate();
	const int b_script[2][2] = {{0, 0}, {7, 0}};
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_REST_FOR_ONE, k, 3);
	tr_ref sup, refs[3];
	tr_child_info ci[3];
	ts_got g;
	int labels[] = {2, 1, 0};

	(void)state;
	ts_gate_set(gate, 1, 0, 0, 2, b_script);
	k[1].start.init_arg = ts_cfg_full(1, 0, 0, 0, gate);
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);

	ts_crash(refs[0], 5);
	ts_gather(&g, 7, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[3], TS_STARTED, 0, TR_REASON_NORMAL);
	assert_int_equal(g.rep[4].tag, TS_ATTEMPT);
	assert_int_equal(g.rep[4].label, 1);
	ts_assert_rep(&g.rep[5], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[6], TS_STARTED, 2, TR_REASON_NORMAL);
	ts_nothing_else();

	assert_int_equal(ts_children(sup, ci, 3), 3);
	assert_true(tr_ref_equal(ci[0].ref, g.rep[3].who));
	assert_int_equal(ci[0].restarts, 1);
	ts_stop_sup(sup, labels, 3);
}

/* ------------------------------------------------------------------ */
/* Start order under backoff                                           */
/* ------------------------------------------------------------------ */

#define GROUP_BACKOFF_MS 400

/* Crashes refs[victim] of a group; checks that the members from `from`
 * on stop (newest first), wait out the backoff together, and start in
 * start order. */
static void
ts_group_backoff_step(tr_ref sup, tr_ref *refs, size_t n, size_t from,
    size_t victim, const char *const *ids)
{
	size_t stops = n - from;
	ts_got g;
	double t0;

	t0 = ts_ms();
	ts_crash(refs[victim], 5);
	/* The victim ended first, by itself; then the others, newest
	 * first. */
	ts_gather(&g, stops, 0);
	ts_assert_rep(
	    &g.rep[0], TS_STOPPED, (int)victim, TR_REASON(TR_EXIT_ERROR, 5));
	for (size_t i = 1, want = n; i < stops; i++) {
		if (--want == victim) {
			want--;
		}
		ts_assert_rep(
		    &g.rep[i], TS_STOPPED, (int)want, TR_REASON_SHUTDOWN);
	}
	/* They all wait for the backoff, restarting. */
	for (size_t i = from; i < n; i++) {
		tr_child_info ci = ts_info(sup, ids[i]);
		if (ci.state != TR_CHILD_RESTARTING) {
			print_error(
			    "'%s' in state %d %.1f ms after the crash\n",
			    ids[i], (int)ci.state, ts_ms() - t0);
		}
		assert_int_equal(ci.state, TR_CHILD_RESTARTING);
	}
	ts_gather(&g, stops, 0);
	for (size_t i = 0; i < stops; i++) {
		ts_assert_rep(
		    &g.rep[i], TS_STARTED, (int)(from + i), TR_REASON_NORMAL);
		refs[from + i] = g.rep[i].who;
	}
	/* Not before the delay (2 ms of timer slack). */
	assert_true((double)g.rep[0].ts / 1e6 >= t0 + GROUP_BACKOFF_MS - 2);
	ts_nothing_else();
}

static void
test_backoff_keeps_start_order(void **state)
{
	static const char *const ids[] = {"a", "b", "c"};
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("b", 1, TR_PERMANENT), ts_child("c", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ALL, k, 3);
	tr_ref sup, refs[3];
	int labels[] = {2, 1, 0};

	(void)state;
	s.backoff_initial_ms = GROUP_BACKOFF_MS;
	s.backoff_max_ms = GROUP_BACKOFF_MS;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);
	/* one_for_all: the first crashes, the last crashes. */
	ts_group_backoff_step(sup, refs, 3, 0, 0, ids);
	ts_group_backoff_step(sup, refs, 3, 0, 2, ids);
	ts_stop_sup(sup, labels, 3);

	/* rest_for_one: the middle one takes the last along. */
	s.strategy = TR_REST_FOR_ONE;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);
	ts_group_backoff_step(sup, refs, 3, 1, 1, ids);
	assert_int_equal(ts_info(sup, "a").restarts, 0);
	ts_stop_sup(sup, labels, 3);
}

/* ------------------------------------------------------------------ */
/* simple_one_for_one stops its children in parallel                   */
/* ------------------------------------------------------------------ */

#define SLOW_TERM_MS 600

/* simple_one_for_one_shutdown: three children whose terminate takes
 * SLOW_TERM_MS each stop in about one of those, not three. */
static void
test_simple_shutdown_parallel(void **state)
{
	tr_child_spec tmpl[1] = {ts_child("w", 0, TR_TEMPORARY)};
	tr_sup_spec s = ts_sup_simple(tmpl);
	tr_child_spec arg;
	tr_ref sup, r;
	ts_got g;
	double t0, dt;

	(void)state;
	tmpl[0].shutdown_ms = 5 * SLOW_TERM_MS;
	sup = ts_start(&s);
	memset(&arg, 0, sizeof(arg));
	for (int i = 1; i <= 3; i++) {
		arg.start.init_arg =
		    ts_cfg_full(i, 0, 0, SLOW_TERM_MS, TR_REF_NIL);
		assert_int_equal(
		    tr_sup_start_child(sup, &arg, &r, NULL), TR_OK);
		ts_expect_started(i);
	}
	t0 = ts_ms();
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, 3, 1);
	dt = ts_ms() - t0;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(g.rep[i].tag, TS_STOPPED);
		assert_int_equal(g.rep[i].why.kind, TR_EXIT_SHUTDOWN);
	}
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	print_message(
	    "3 children of %d ms each stopped in %.1f ms\n", SLOW_TERM_MS, dt);
	assert_true(dt >= SLOW_TERM_MS);
	/* One after the other would take 3 x SLOW_TERM_MS. */
	assert_true(dt < 2 * SLOW_TERM_MS);
	ts_nothing_else();
}

/* sup_stop_timeout_dynamic and simple_one_for_one_shutdown's kill: two
 * children stop by themselves, the third hangs and is killed after the
 * shutdown time -- one deadline for all.  Forked: a process can be
 * killed in the middle of anything. */
static void
test_simple_shutdown_kills_after_timeout(void **state)
{
	tr_child_spec tmpl[1] = {ts_child("w", 0, TR_PERMANENT)};
	tr_sup_spec s = ts_sup_simple(tmpl);
	tr_child_spec arg;
	tr_ref sup, r, hung = TR_REF_NIL;
	ts_got g;
	double t0, dt;

	(void)state;
	tmpl[0].shutdown_ms = 1000;
	tmpl[0].start.placement = TR_PLACE_FORK;
	sup = ts_start(&s);
	memset(&arg, 0, sizeof(arg));
	for (int i = 1; i <= 3; i++) {
		arg.start.init_arg =
		    ts_cfg_full(i, 0, 0, i == 3 ? 20000 : 300, TR_REF_NIL);
		assert_int_equal(
		    tr_sup_start_child(sup, &arg, &r, NULL), TR_OK);
		ts_expect_started(i);
		hung = r;
	}
	(void)tl_monitor(hung);
	t0 = ts_ms();
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, 2, 2);
	dt = ts_ms() - t0;
	ts_assert_rep(
	    &g.rep[0], TS_STOPPED, g.rep[0].label, TR_REASON_SHUTDOWN);
	ts_assert_rep(
	    &g.rep[1], TS_STOPPED, g.rep[1].label, TR_REASON_SHUTDOWN);
	assert_int_not_equal(g.rep[0].label, 3);
	assert_int_not_equal(g.rep[1].label, 3);
	ts_got_notice(
	    &g, TR_TAG_DOWN, hung, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	print_message("stopped with one child killed after 1000 ms: %.1f "
	              "ms\n",
	    dt);
	assert_true(dt >= 1000);
	assert_true(dt < 1000 + 1500);
	ts_nothing_else();
}

/* sup_stop_brutal_kill_dynamic: all killed at once, no terminate. */
static void
test_simple_brutal_kill(void **state)
{
	tr_child_spec tmpl[1] = {ts_child("w", 0, TR_TEMPORARY)};
	tr_sup_spec s = ts_sup_simple(tmpl);
	tr_child_spec arg;
	tr_ref sup, refs[5];
	bool down[5] = {false}, exited = false;
	int left = 6;

	(void)state;
	tmpl[0].shutdown_ms = TR_SHUTDOWN_BRUTAL;
	sup = ts_start(&s);
	memset(&arg, 0, sizeof(arg));
	for (int i = 0; i < 5; i++) {
		arg.start.init_arg = ts_cfg(i, 0);
		assert_int_equal(
		    tr_sup_start_child(sup, &arg, &refs[i], NULL), TR_OK);
		ts_expect_started(i);
		(void)tl_monitor(refs[i]);
	}
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	while (left-- > 0) {
		tr_msg *m = tl_recv();
		tr_ref who = TR_REF_NIL;
		tr_reason why;
		bool known = false;

		if (tr_msg_reason(m, &who, &why, NULL) != TR_OK) {
			ts_describe("expected a notice", m);
			fail();
		}
		if (tr_msg_tag(m) == TR_TAG_EXIT && tr_ref_equal(who, sup) &&
		    !exited) {
			ts_assert_reason(why, TR_REASON_SHUTDOWN);
			exited = known = true;
		}
		for (int i = 0; i < 5 && !known; i++) {
			if (tr_msg_tag(m) == TR_TAG_DOWN &&
			    tr_ref_equal(who, refs[i]) && !down[i]) {
				ts_assert_reason(why, ts_killed());
				down[i] = known = true;
			}
		}
		if (!known) {
			ts_describe("unexpected", m);
			fail();
		}
		tr_msg_free(m);
	}
	assert_false(tr_alive(sup));
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Significant children                                                */
/* ------------------------------------------------------------------ */

/* child_specs_map, significant_simple: refused where OTP refuses them,
 * by name, before anything starts. */
static void
test_significant_refused(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("p", 0, TR_PERMANENT), ts_child("sig", 1, TR_TRANSIENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_child_spec dyn = ts_child("dsig", 2, TR_TEMPORARY);
	tr_ref sup = TR_REF_NIL, r = TR_REF_NIL;
	char err[256];
	int none[1] = {0};

	(void)state;
	k[1].significant = true;
	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_EINVAL);
	assert_string_equal(err,
	    "child 'sig': significant, but its supervisor's auto_shutdown is "
	    "never");
	assert_int_equal(tr_sup_start(&s, NULL, true, &sup, NULL), TR_EINVAL);
	assert_true(tr_ref_is_nil(sup));
	ts_nothing_else(); /* nothing started */

	/* Dynamic: refused by a supervisor whose auto_shutdown is never,
	 * taken by one with an auto_shutdown. */
	k[1].significant = false;
	dyn.significant = true;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, NULL);
	assert_int_equal(tr_sup_start_child(sup, &dyn, &r, NULL), TR_EINVAL);
	assert_false(ts_find(sup, "dsig", &(tr_child_info){0}));
	ts_nothing_else();
	{
		int labels[] = {1, 0};
		ts_stop_sup(sup, labels, 2);
	}
	s.auto_shutdown = TR_AUTO_ALL_SIGNIFICANT;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, NULL);
	assert_int_equal(tr_sup_start_child(sup, &dyn, &r, NULL), TR_OK);
	ts_expect_started(2);
	{
		int labels[] = {2, 1, 0};
		ts_stop_sup(sup, labels, 3);
	}

	/* simple_one_for_one with an auto_shutdown: refused. */
	{
		tr_child_spec tmpl[1] = {ts_child("w", 0, TR_TEMPORARY)};
		tr_sup_spec ss = ts_sup_simple(tmpl);
		ss.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
		assert_int_equal(
		    tr_sup_check(&ss, err, sizeof(err)), TR_EINVAL);
		assert_string_equal(err,
		    "auto_shutdown must be never for simple_one_for_one "
		    "(template child 'w')");
		sup = TR_REF_NIL;
		assert_int_equal(
		    tr_sup_start(&ss, NULL, true, &sup, NULL), TR_EINVAL);
		ss.auto_shutdown = TR_AUTO_ALL_SIGNIFICANT;
		assert_int_equal(
		    tr_sup_start(&ss, NULL, true, &sup, NULL), TR_EINVAL);
		assert_true(tr_ref_is_nil(sup));
		ss.auto_shutdown = TR_AUTO_NEVER;
		sup = ts_start(&ss);
		ts_stop_sup(sup, none, 0);
	}
	ts_nothing_else();
}

/* significant_temporary / significant_transient: a significant child
 * that the supervisor stops itself (terminate_child) does not shut it
 * down; one killed does if temporary, does not (restarted) if
 * transient. */
static void
test_significant_terminate_and_kill(void **state)
{
	tr_child_spec k[3] = {ts_child("s1", 0, TR_TEMPORARY),
	    ts_child("s2", 1, TR_TRANSIENT), ts_child("n", 2, TR_TEMPORARY)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	tr_ref sup, refs[3];
	tr_mon mon;
	ts_got g;

	(void)state;
	k[0].significant = true;
	k[1].significant = true;
	s.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 3, refs);

	/* terminate_child: not "by itself". */
	assert_int_equal(tr_sup_terminate_child(sup, "s1"), TR_OK);
	ts_expect_stopped(0, TR_REASON_SHUTDOWN);
	assert_int_equal(tr_sup_terminate_child(sup, "s2"), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	assert_true(tr_alive(sup));
	assert_int_equal(tr_sup_restart_child(sup, "s2", &refs[1]), TR_OK);
	ts_expect_started(1);
	ts_nothing_else();

	/* The transient one killed: restarted, no shutdown. */
	mon = tl_monitor(refs[1]);
	assert_int_equal(tr_kill(refs[1]), TR_OK);
	ts_gather(&g, 1, 1);
	ts_got_notice(&g, TR_TAG_DOWN, refs[1], ts_killed());
	ts_assert_rep(&g.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_got_free(&g);
	refs[1] = g.rep[0].who;
	(void)mon;
	assert_true(tr_alive(sup));
	ts_nothing_else();

	/* A non-significant temporary one ending: no shutdown. */
	ts_exit(refs[2], TR_REASON_NORMAL);
	ts_expect_stopped(2, TR_REASON_NORMAL);
	assert_false(ts_wait_moved(sup, "n", refs[2], &(tr_child_info){0}));
	assert_true(tr_alive(sup));

	/* The transient one ending normally: it does. */
	ts_exit(refs[1], TR_REASON_NORMAL);
	ts_gather(&g, 1, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON_NORMAL);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();
}

/* significant_bystander: significant children stopped by a sibling's
 * group restart do not shut the supervisor down. */
static void
test_significant_bystander(void **state)
{
	static const tr_strategy strategies[] = {
	    TR_ONE_FOR_ONE, TR_ONE_FOR_ALL, TR_REST_FOR_ONE};
	static const tr_auto_shutdown modes[] = {
	    TR_AUTO_ANY_SIGNIFICANT, TR_AUTO_ALL_SIGNIFICANT};

	(void)state;
	for (size_t si = 0; si < 3; si++) {
		for (size_t mi = 0; mi < 2; mi++) {
			tr_child_spec k[3] = {ts_child("c1", 0, TR_TRANSIENT),
			    ts_child("c2", 1, TR_TRANSIENT),
			    ts_child("c3", 2, TR_TRANSIENT)};
			tr_sup_spec s = ts_sup(strategies[si], k, 3);
			tr_ref sup, refs[3];
			size_t from = strategies[si] == TR_ONE_FOR_ALL ? 0 :
			    strategies[si] == TR_REST_FOR_ONE          ? 1 :
			                                                 3;
			int labels[] = {2, 1, 0};

			k[0].significant = true;
			k[2].significant = true;
			s.auto_shutdown = modes[mi];
			sup = ts_start(&s);
			ts_expect_started_in_order(0, 3, refs);
			assert_int_equal(tr_kill(refs[1]), TR_OK);
			/* c2 (killed: no report) restarts with its group:
			 * the others of the group stop, all start. */
			{
				size_t nstop = from == 0 ? 2 :
				    from == 1            ? 1 :
				                           0;
				size_t nstart = from == 0 ? 3 :
				    from == 1             ? 2 :
				                            1;
				ts_got g;
				ts_gather(&g, nstop + nstart, 0);
				for (size_t i = 0; i < nstop; i++) {
					assert_int_equal(
					    g.rep[i].tag, TS_STOPPED);
					assert_int_equal(g.rep[i].why.kind,
					    TR_EXIT_SHUTDOWN);
				}
				for (size_t i = 0; i < nstart; i++) {
					ts_assert_rep(&g.rep[nstop + i],
					    TS_STARTED,
					    (int)((from == 3 ? 1 : from) + i),
					    TR_REASON_NORMAL);
				}
			}
			assert_true(tr_alive(sup));
			ts_nothing_else();
			ts_stop_sup(sup, labels, 3);
		}
	}
}

/* significant_escalation: B, a significant child supervisor of A, ends
 * by auto_shutdown when its significant child C ends: A ends too.  If
 * B is not significant, A goes on. */
static void
test_significant_escalation(void **state)
{
	tr_child_spec ck[1] = {ts_child("c", 1, TR_TRANSIENT)};
	tr_sup_spec b = ts_sup(TR_ONE_FOR_ONE, ck, 1);
	tr_child_spec ak[1];
	tr_sup_spec a;
	tr_ref sup, c, bref;
	tr_child_info ci;
	ts_got g;

	(void)state;
	ck[0].significant = true;
	b.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
	memset(&ak[0], 0, sizeof(ak[0]));
	ak[0].id = "b";
	ak[0].sup = &b;
	ak[0].restart = TR_TRANSIENT;
	ak[0].significant = true;
	a = ts_sup(TR_ONE_FOR_ONE, ak, 1);
	a.auto_shutdown = TR_AUTO_ANY_SIGNIFICANT;
	sup = ts_start(&a);
	c = ts_expect_started(1);
	ts_exit(c, TR_REASON_NORMAL);
	ts_gather(&g, 1, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON_NORMAL);
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	ts_nothing_else();

	/* B not significant: it ends, A stays (B is transient, and ended
	 * with shutdown: not restarted). */
	ak[0].significant = false;
	sup = ts_start(&a);
	c = ts_expect_started(1);
	bref = ts_info(sup, "b").ref;
	ts_exit(c, TR_REASON_NORMAL);
	ts_expect_stopped(1, TR_REASON_NORMAL);
	assert_true(ts_wait_moved(sup, "b", bref, &ci));
	assert_int_equal(ci.state, TR_CHILD_STOPPED);
	assert_true(tr_alive(sup));
	{
		int none[1] = {0};
		ts_stop_sup(sup, none, 0);
	}
}

/* ------------------------------------------------------------------ */
/* The calls' answers                                                  */
/* ------------------------------------------------------------------ */

/* child_adm_simple, hanging_restart_loop_simple: a simple_one_for_one
 * child already gone is terminated fine; restart_child and delete_child
 * are not for simple_one_for_one. */
static void
test_simple_terminate_gone(void **state)
{
	tr_child_spec tmpl[1] = {ts_child("w", 0, TR_TEMPORARY)};
	tr_sup_spec s = ts_sup_simple(tmpl);
	tr_child_spec arg;
	tr_ref sup, r1, r2;
	tr_child_info ci[4];
	char id1[TR_NAME_MAX + 1], id2[TR_NAME_MAX + 1];
	int none[1] = {0};

	(void)state;
	sup = ts_start(&s);
	memset(&arg, 0, sizeof(arg));
	arg.start.init_arg = ts_cfg(1, 0);
	assert_int_equal(tr_sup_start_child(sup, &arg, &r1, NULL), TR_OK);
	ts_expect_started(1);
	arg.start.init_arg = ts_cfg(2, 0);
	assert_int_equal(tr_sup_start_child(sup, &arg, &r2, NULL), TR_OK);
	ts_expect_started(2);
	assert_int_equal(ts_children(sup, ci, 4), 2);
	snprintf(id1, sizeof(id1), "%s", ci[0].id);
	snprintf(id2, sizeof(id2), "%s", ci[1].id);
	assert_string_equal(id1, "w.1");
	assert_string_equal(id2, "w.2");

	/* w.1 ends by itself and is forgotten; terminating it is fine. */
	ts_crash(r1, 5);
	ts_expect_stopped(1, TR_REASON(TR_EXIT_ERROR, 5));
	assert_false(ts_wait_moved(sup, id1, r1, &ci[0]));
	assert_int_equal(tr_sup_terminate_child(sup, id1), TR_OK);
	/* Ids it never made up are not found. */
	assert_int_equal(tr_sup_terminate_child(sup, "w.3"), TR_ENOENT);
	assert_int_equal(tr_sup_terminate_child(sup, "w.0"), TR_ENOENT);
	assert_int_equal(tr_sup_terminate_child(sup, "w.01"), TR_ENOENT);
	assert_int_equal(tr_sup_terminate_child(sup, "w.1x"), TR_ENOENT);
	assert_int_equal(tr_sup_terminate_child(sup, "zz"), TR_ENOENT);
	/* Not for simple_one_for_one. */
	assert_int_equal(tr_sup_restart_child(sup, id2, NULL), TR_ENOTSUP);
	assert_int_equal(tr_sup_delete_child(sup, id2), TR_ENOTSUP);
	assert_int_equal(tr_sup_restart_child(sup, "zz", NULL), TR_ENOTSUP);
	/* Terminated twice: fine both times. */
	assert_int_equal(tr_sup_terminate_child(sup, id2), TR_OK);
	ts_expect_stopped(2, TR_REASON_SHUTDOWN);
	assert_int_equal(tr_sup_terminate_child(sup, id2), TR_OK);
	assert_int_equal(ts_children(sup, ci, 4), 0);
	ts_nothing_else();
	ts_stop_sup(sup, none, 0);
}

/* child_adm, do_not_save_child_specs_for_temporary_children,
 * already_started_outside_supervisor: start_child of an id in use says
 * already started (with the child) or already present (without). */
static void
test_start_child_already(void **state)
{
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, NULL, 0);
	tr_child_spec p = ts_child("p", 1, TR_PERMANENT);
	tr_child_spec t = ts_child("t", 2, TR_TEMPORARY);
	tr_child_spec named = ts_child("named", 3, TR_PERMANENT);
	tr_ref sup, rp, r, again, outsider;
	tr_spec os;
	int labels[] = {1};

	(void)state;
	sup = ts_start(&s);
	assert_int_equal(tr_sup_start_child(sup, &p, &rp, NULL), TR_OK);
	ts_expect_started(1);

	/* Running: already started, with its ref. */
	r = TR_REF_NIL;
	assert_int_equal(tr_sup_start_child(sup, &p, &r, NULL), TR_EEXIST);
	assert_true(tr_ref_equal(r, rp));
	/* Killed, and restarted: already started, with the new ref. */
	(void)tl_monitor(rp);
	assert_int_equal(tr_kill(rp), TR_OK);
	{
		ts_got g;
		ts_gather(&g, 1, 1);
		ts_got_notice(&g, TR_TAG_DOWN, rp, ts_killed());
		ts_assert_rep(&g.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
		ts_got_free(&g);
		rp = g.rep[0].who;
	}
	r = TR_REF_NIL;
	assert_int_equal(tr_sup_start_child(sup, &p, &r, NULL), TR_EEXIST);
	assert_true(tr_ref_equal(r, rp));
	/* Terminated: already present, no ref. */
	assert_int_equal(tr_sup_terminate_child(sup, "p"), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	r = rp;
	assert_int_equal(tr_sup_start_child(sup, &p, &r, NULL), TR_EEXIST);
	assert_true(tr_ref_is_nil(r));
	assert_int_equal(tr_sup_restart_child(sup, "p", &rp), TR_OK);
	ts_expect_started(1);

	/* A temporary child's spec is not kept once it ended. */
	assert_int_equal(tr_sup_start_child(sup, &t, &r, NULL), TR_OK);
	ts_expect_started(2);
	ts_crash(r, 5);
	ts_expect_stopped(2, TR_REASON(TR_EXIT_ERROR, 5));
	assert_false(ts_wait_moved(sup, "t", r, &(tr_child_info){0}));
	assert_int_equal(tr_sup_start_child(sup, &t, &again, NULL), TR_OK);
	ts_expect_started(2);
	assert_int_equal(tr_sup_terminate_child(sup, "t"), TR_OK);
	ts_expect_stopped(2, TR_REASON_SHUTDOWN);
	assert_int_equal(tr_sup_start_child(sup, &t, &again, NULL), TR_OK);
	ts_expect_started(2);
	assert_int_equal(tr_sup_terminate_child(sup, "t"), TR_OK);
	ts_expect_stopped(2, TR_REASON_SHUTDOWN);

	/* Its name held by an actor outside the supervisor: already
	 * started, with that actor. */
	memset(&os, 0, sizeof(os));
	os.behavior = TS_CHILD;
	os.name = "already.outside";
	os.init_arg = ts_cfg(9, 0);
	outsider = tl_spawn_spec(&os);
	ts_expect_started(9);
	named.start.name = "already.outside";
	r = TR_REF_NIL;
	assert_int_equal(tr_sup_start_child(sup, &named, &r, NULL), TR_EEXIST);
	assert_true(tr_ref_equal(r, outsider));
	assert_false(ts_find(sup, "named", &(tr_child_info){0}));
	(void)tl_monitor(outsider);
	assert_int_equal(tr_stop(outsider, TR_REASON_SHUTDOWN), TR_OK);
	{
		ts_got g;
		ts_gather(&g, 1, 1);
		ts_assert_rep(&g.rep[0], TS_STOPPED, 9, TR_REASON_SHUTDOWN);
		ts_got_notice(&g, TR_TAG_DOWN, outsider, TR_REASON_SHUTDOWN);
		ts_got_free(&g);
	}
	ts_nothing_else();
	ts_stop_sup(sup, labels, 1);
}

/* sup_start_restart_child_returns_error: a restart_child whose start
 * fails says why, and leaves the child stopped. */
static void
test_restart_child_fails(void **state)
{
	tr_ref gate = ts_gate();
	const int first[1][2] = {{0, 0}};
	tr_child_spec k[1] = {ts_child("c", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, r = TR_REF_NIL;
	tr_child_info ci;
	int none[1] = {0};

	(void)state;
	ts_gate_set(gate, 1, 7, 0, 1, first); /* starts once, then fails */
	k[0].start.init_arg = ts_cfg_full(1, 0, 0, 0, gate);
	sup = ts_start(&s);
	ts_expect_started(1);
	assert_int_equal(tr_sup_terminate_child(sup, "c"), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	assert_int_equal(tr_sup_restart_child(sup, "c", &r), TR_EINIT);
	assert_true(tr_ref_is_nil(r));
	(void)ts_until(TS_ATTEMPT, 1);
	ci = ts_info(sup, "c");
	assert_int_equal(ci.state, TR_CHILD_STOPPED);
	assert_true(tr_ref_is_nil(ci.ref));
	ts_nothing_else();
	ts_stop_sup(sup, none, 0);
}

/* ------------------------------------------------------------------ */
/* ignore                                                              */
/* ------------------------------------------------------------------ */

/* tr_spawn of an actor whose init returns TR_IGNORE: TR_OK, no ref,
 * nothing left: no name, no exit signal although linked. */
static void
test_spawn_ignore(void **state)
{
	tr_spec spec;
	tr_ref r = {1, 2, 3, 4}, named, pool = {1, 2, 3, 4};
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, 1);

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.behavior = TS_CHILD;
	spec.name = "ignore.me";
	spec.link = true;
	spec.init_arg = ts_cfg(1, TR_IGNORE);
	assert_int_equal(tr_spawn(&spec, &r, &why), TR_OK);
	assert_true(tr_ref_is_nil(r));
	assert_int_equal(tr_whereis("ignore.me", &named), TR_ENOENT);
	ts_nothing_else();
	/* The name is free for the next one, which runs. */
	spec.init_arg = ts_cfg(2, 0);
	r = tl_spawn_spec(&spec);
	assert_true(tr_ref_equal(ts_expect_started(2), r));
	assert_int_equal(tr_whereis("ignore.me", &named), TR_OK);
	assert_true(tr_ref_equal(named, r));
	assert_int_equal(tr_unlink(r), TR_OK);
	(void)tl_monitor(r);
	assert_int_equal(tr_stop(r, TR_REASON_SHUTDOWN), TR_OK);
	{
		ts_got g;
		ts_gather(&g, 1, 1);
		ts_assert_rep(&g.rep[0], TS_STOPPED, 2, TR_REASON_SHUTDOWN);
		ts_got_notice(&g, TR_TAG_DOWN, r, TR_REASON_SHUTDOWN);
		ts_got_free(&g);
	}

	/* A pool whose members all ignore: ignored too. */
	spec.name = NULL;
	spec.link = false;
	spec.init_arg = ts_cfg(3, TR_IGNORE);
	assert_int_equal(tr_pool_spawn(&spec, 3, &pool), TR_OK);
	assert_true(tr_ref_is_nil(pool));
	ts_nothing_else();
}

/* sup_start_ignore_child, sup_start_ignore_temporary_child(_start_child),
 * sup_start_ignore_*_start_child_simple: an ignored child is kept, not
 * running, unless temporary or a simple_one_for_one's. */
static void
test_sup_ignore_child(void **state)
{
	tr_ref gate = ts_gate();
	const int ignore_once[1][2] = {{TR_IGNORE, 0}};
	tr_child_spec k[3] = {ts_child("a", 0, TR_PERMANENT),
	    ts_child("t", 1, TR_TEMPORARY), ts_child("p", 2, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 3);
	tr_child_spec d = ts_child("d", 3, TR_TRANSIENT);
	tr_child_spec dt = ts_child("dt", 4, TR_TEMPORARY);
	tr_ref sup, r;
	tr_child_info ci[4];
	int labels[] = {3, 2, 0};

	(void)state;
	ts_gate_set(gate, 0, 0, 0, 1, ignore_once); /* a: ignores once */
	k[0].start.init_arg = ts_cfg_full(0, 0, 0, 0, gate);
	k[1].start.init_arg = ts_cfg(1, TR_IGNORE);
	sup = ts_start(&s);
	{
		ts_got g;
		ts_gather(&g, 2, 0);
		assert_int_equal(g.rep[0].tag, TS_ATTEMPT);
		assert_int_equal(g.rep[0].label, 0);
		assert_int_equal(g.rep[0].code, TR_IGNORE);
		ts_assert_rep(&g.rep[1], TS_STARTED, 2, TR_REASON_NORMAL);
	}
	ts_nothing_else();
	assert_int_equal(ts_children(sup, ci, 4), 2);
	assert_string_equal(ci[0].id, "a");
	assert_int_equal(ci[0].state, TR_CHILD_IGNORED);
	assert_true(tr_ref_is_nil(ci[0].ref));
	assert_int_equal(ci[0].uptime_ms, 0);
	assert_string_equal(ci[1].id, "p");
	assert_int_equal(ci[1].state, TR_CHILD_RUNNING);

	/* Kept: it can be started later, and it runs this time. */
	assert_int_equal(tr_sup_restart_child(sup, "a", &r), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(0), r));
	assert_int_equal(ts_info(sup, "a").state, TR_CHILD_RUNNING);

	/* Dynamic: TR_OK without a ref; kept unless temporary. */
	d.start.init_arg = ts_cfg(3, TR_IGNORE);
	r = (tr_ref){1, 1, 1, 1};
	assert_int_equal(tr_sup_start_child(sup, &d, &r, NULL), TR_OK);
	assert_true(tr_ref_is_nil(r));
	assert_int_equal(ts_info(sup, "d").state, TR_CHILD_IGNORED);
	r = (tr_ref){1, 1, 1, 1};
	assert_int_equal(tr_sup_start_child(sup, &d, &r, NULL), TR_EEXIST);
	assert_true(tr_ref_is_nil(r)); /* already present */
	dt.start.init_arg = ts_cfg(4, TR_IGNORE);
	assert_int_equal(tr_sup_start_child(sup, &dt, &r, NULL), TR_OK);
	assert_true(tr_ref_is_nil(r));
	assert_false(ts_find(sup, "dt", &ci[0]));
	assert_int_equal(ts_children(sup, ci, 4), 3);
	/* An ignored child can be deleted like a stopped one. */
	assert_int_equal(tr_sup_delete_child(sup, "d"), TR_OK);
	d.start.init_arg = ts_cfg(3, 0);
	assert_int_equal(tr_sup_start_child(sup, &d, &r, NULL), TR_OK);
	ts_expect_started(3);
	ts_nothing_else();
	ts_stop_sup(sup, labels, 3);
}

/* simple_one_for_one: an ignoring child is not kept; one whose restart
 * ignores is forgotten (simple_one_for_one_restart_ignore). */
static void
test_sup_ignore_simple(void **state)
{
	tr_ref gate = ts_gate();
	const int once_ok[1][2] = {{0, 0}};
	tr_child_spec tmpl[1] = {ts_child("w", 0, TR_TRANSIENT)};
	tr_sup_spec s = ts_sup_simple(tmpl);
	tr_child_spec arg;
	tr_ref sup, r, w;
	tr_child_info ci[4];
	int labels[] = {2};

	(void)state;
	sup = ts_start(&s);
	memset(&arg, 0, sizeof(arg));
	arg.start.init_arg = ts_cfg(1, TR_IGNORE);
	r = (tr_ref){1, 1, 1, 1};
	assert_int_equal(tr_sup_start_child(sup, &arg, &r, NULL), TR_OK);
	assert_true(tr_ref_is_nil(r));
	assert_int_equal(ts_children(sup, ci, 4), 0);
	arg.start.init_arg = ts_cfg(2, 0);
	assert_int_equal(tr_sup_start_child(sup, &arg, &r, NULL), TR_OK);
	ts_expect_started(2);

	ts_gate_set(gate, 5, TR_IGNORE, 0, 1, once_ok);
	arg.start.init_arg = ts_cfg_full(5, 0, 0, 0, gate);
	assert_int_equal(tr_sup_start_child(sup, &arg, &w, NULL), TR_OK);
	ts_expect_started(5);
	assert_int_equal(ts_children(sup, ci, 4), 2);
	ts_crash(w, 5);
	{
		ts_got g;
		ts_gather(&g, 2, 0);
		ts_assert_rep(
		    &g.rep[0], TS_STOPPED, 5, TR_REASON(TR_EXIT_ERROR, 5));
		assert_int_equal(g.rep[1].tag, TS_ATTEMPT);
		assert_int_equal(g.rep[1].code, TR_IGNORE);
	}
	assert_false(ts_wait_moved(sup, ci[1].id, w, &ci[2]));
	assert_int_equal(ts_children(sup, ci, 4), 1);
	assert_true(tr_ref_equal(ci[0].ref, r));
	ts_nothing_else();
	ts_stop_sup(sup, labels, 1);
}

/* ------------------------------------------------------------------ */
/* A failed start names its child                                      */
/* ------------------------------------------------------------------ */

static void
test_start_failure_names_child(void **state)
{
	tr_child_spec ik[2] = {
	    ts_child("x", 3, TR_PERMANENT), ts_child("y", 4, TR_PERMANENT)};
	tr_sup_spec inner = ts_sup(TR_ONE_FOR_ONE, ik, 2);
	tr_child_spec k[3];
	tr_sup_spec s;
	tr_ref sup = TR_REF_NIL;
	tr_reason why = TR_REASON_NORMAL;
	char failed[64];
	ts_got g;

	(void)state;
	k[0] = ts_child("a", 0, TR_PERMANENT);
	k[1] = ts_child("c", 1, TR_PERMANENT);
	k[1].start.init_arg = ts_cfg(1, 7);
	memset(&k[2], 0, sizeof(k[2]));
	k[2].id = "inner";
	k[2].sup = &inner;
	s = ts_sup(TR_ONE_FOR_ONE, k, 3);

	memset(failed, 'x', sizeof(failed));
	assert_int_equal(
	    tr_sup_start_ex(&s, NULL, true, &sup, &why, failed, sizeof(failed)),
	    TR_EINIT);
	assert_string_equal(failed, "c");
	ts_assert_reason(why, TR_REASON(TR_EXIT_ERROR, 7));
	ts_expect_started(0);
	ts_expect_stopped(0, TR_REASON_SHUTDOWN);

	/* A grandchild: its path. */
	k[1].start.init_arg = ts_cfg(1, 0);
	ik[1].start.init_arg = ts_cfg(4, 8);
	assert_int_equal(
	    tr_sup_start_ex(&s, NULL, true, &sup, &why, failed, sizeof(failed)),
	    TR_EINIT);
	assert_string_equal(failed, "inner/y");
	ts_assert_reason(why, TR_REASON(TR_EXIT_ERROR, 8));
	ts_gather(&g, 6, 0);
	ts_assert_rep(&g.rep[0], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[2], TS_STARTED, 3, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[3], TS_STOPPED, 3, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[4], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[5], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	/* Truncated to what fits, terminated. */
	assert_int_equal(
	    tr_sup_start_ex(&s, NULL, true, &sup, &why, failed, 4), TR_EINIT);
	assert_string_equal(failed, "inn");
	ts_gather(&g, 6, 0);
	/* A start that works leaves it empty. */
	ik[1].start.init_arg = ts_cfg(4, 0);
	assert_int_equal(
	    tr_sup_start_ex(&s, NULL, true, &sup, &why, failed, sizeof(failed)),
	    TR_OK);
	assert_string_equal(failed, "");
	ts_gather(&g, 4, 0);
	{
		int labels[] = {4, 3, 1, 0};
		ts_stop_sup(sup, labels, 4);
	}
}

/* ------------------------------------------------------------------ */
/* A thread that cannot be killed is shown stuck                       */
/* ------------------------------------------------------------------ */

#define STUCK_HANG_MS 2500

/* A stuck thread child h (label 1) ends when its callback returns. */
static void
ts_stuck_ends(tr_ref h, tr_mon mon)
{
	ts_got g;

	ts_gather(&g, 1, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_got_notice(&g, TR_TAG_DOWN, h, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	(void)mon;
}

static void
test_stuck_thread_child(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("a", 0, TR_PERMANENT), ts_child("h", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_ref sup, refs[2], h;
	tr_child_info ci;
	tr_mon mon;
	ts_rep r;
	double t0, dt;

	(void)state;
	k[1].start.placement = TR_PLACE_THREAD;
	k[1].shutdown_ms = 200;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	h = refs[1];
	mon = tl_monitor(h);
	ts_send_int(h, TS_HANG, STUCK_HANG_MS);
	r = ts_next();
	ts_assert_rep(&r, TS_HANGING, 1, TR_REASON_NORMAL);

	/* terminate_child returns once the shutdown time and a grace are
	 * over, not when the callback returns. */
	t0 = ts_ms();
	assert_int_equal(tr_sup_terminate_child(sup, "h"), TR_OK);
	dt = ts_ms() - t0;
	print_message("terminate_child of a stuck thread: %.1f ms\n", dt);
	assert_true(dt >= 200);
	assert_true(dt < STUCK_HANG_MS - 500);
	ci = ts_info(sup, "h");
	assert_int_equal(ci.state, TR_CHILD_STUCK);
	assert_true(tr_ref_equal(ci.ref, h));
	assert_int_equal(ci.placement, TR_PLACE_THREAD);
	assert_true(tr_alive(h));
	/* Not stopped yet: neither restarted nor deleted; terminating it
	 * again is fine. */
	assert_int_equal(tr_sup_restart_child(sup, "h", NULL), TR_ESTATE);
	assert_int_equal(tr_sup_delete_child(sup, "h"), TR_ESTATE);
	assert_int_equal(tr_sup_terminate_child(sup, "h"), TR_OK);
	/* The sibling was not held up. */
	assert_int_equal(ts_info(sup, "a").state, TR_CHILD_RUNNING);

	/* Its callback returns: it ends -- by the stop request it got
	 * first (the kill after it changes nothing for a thread): its
	 * terminate runs --, and is stopped then. */
	ts_stuck_ends(h, mon);
	ci = ts_wait_state(sup, "h", TR_CHILD_STOPPED);
	assert_true(tr_ref_is_nil(ci.ref));
	assert_int_equal(tr_sup_restart_child(sup, "h", &h), TR_OK);
	assert_true(tr_ref_equal(ts_expect_started(1), h));
	ts_nothing_else();

	/* The supervisor's own stop does not wait for it either. */
	mon = tl_monitor(h);
	ts_send_int(h, TS_HANG, STUCK_HANG_MS);
	r = ts_next();
	ts_assert_rep(&r, TS_HANGING, 1, TR_REASON_NORMAL);
	t0 = ts_ms();
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	{
		ts_got g;
		ts_gather(&g, 1, 1);
		dt = ts_ms() - t0;
		ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
		ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
		ts_got_free(&g);
	}
	print_message("supervisor stop with a stuck thread: %.1f ms\n", dt);
	assert_true(dt < STUCK_HANG_MS - 500);
	ts_stuck_ends(h, mon);
	ts_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Escalation, restart types, odd children                             */
/* ------------------------------------------------------------------ */

/*
 * one_for_one_escalation, one_for_all_escalation, rest_for_one_
 * escalation, simple_one_for_one_escalation: a child whose restart
 * keeps failing uses up the intensity (4): every failed attempt counts,
 * and the supervisor gives up, stopping its other child.
 */
static void
ts_escalation_case(tr_strategy st)
{
	bool simple = st == TR_SIMPLE_ONE_FOR_ONE;
	tr_ref gate = ts_gate();
	const int once_ok[1][2] = {{0, 0}};
	tr_child_spec k[2] = {
	    ts_child("ok", 0, TR_PERMANENT), ts_child("bad", 1, TR_PERMANENT)};
	tr_sup_spec s;
	tr_ref sup, bad, ok;
	int attempts = 0;
	bool ok_stopped = false;

	ts_gate_set(gate, 1, 7, 0, 1, once_ok);
	k[1].start.init_arg = ts_cfg_full(1, 0, 0, 0, gate);
	if (simple) {
		tr_child_spec arg;
		s = ts_sup_simple(&k[1]);
		s.intensity = 4;
		sup = ts_start(&s);
		memset(&arg, 0, sizeof(arg));
		arg.start.init_arg = ts_cfg(0, 0);
		assert_int_equal(
		    tr_sup_start_child(sup, &arg, &ok, NULL), TR_OK);
		ts_expect_started(0);
		assert_int_equal(
		    tr_sup_start_child(sup, NULL, &bad, NULL), TR_OK);
		ts_expect_started(1);
	} else {
		tr_ref refs[2];
		s = ts_sup(st, k, 2);
		s.intensity = 4;
		sup = ts_start(&s);
		ts_expect_started_in_order(0, 2, refs);
		ok = refs[0];
		bad = refs[1];
	}
	(void)ok;
	ts_crash(bad, 5);
	for (;;) {
		tr_msg *m = tl_recv();
		tr_ref who = TR_REF_NIL;
		tr_reason why;
		ts_rep r;
		if (tr_msg_tag(m) == TR_TAG_EXIT) {
			assert_int_equal(
			    tr_msg_reason(m, &who, &why, NULL), TR_OK);
			assert_true(tr_ref_equal(who, sup));
			ts_assert_reason(
			    why, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
			tr_msg_free(m);
			break;
		}
		ts_parse(m, &r);
		tr_msg_free(m);
		if (r.tag == TS_ATTEMPT) {
			attempts++;
		}
		/* Its sibling's last word is its stop, with shutdown. */
		if (r.label == 0) {
			ok_stopped = r.tag == TS_STOPPED &&
			    r.why.kind == TR_EXIT_SHUTDOWN;
		}
	}
	/* Late reports of the sibling's end (another sender). */
	for (;;) {
		tr_msg *m = NULL;
		ts_rep r;
		if (tr_recv(&m, 200) != TR_OK) {
			break;
		}
		ts_parse(m, &r);
		tr_msg_free(m);
		if (r.label == 0) {
			ok_stopped = r.tag == TS_STOPPED &&
			    r.why.kind == TR_EXIT_SHUTDOWN;
		}
	}
	print_message("%d failed attempts before giving up\n", attempts);
	/* Intensity 4: four restarts are allowed -- all four fail -- and
	 * the fifth is one too many. */
	assert_int_equal(attempts, 4);
	assert_true(ok_stopped);
	assert_false(tr_alive(sup));
}

static void
test_escalation_one_for_one(void **state)
{
	(void)state;
	ts_escalation_case(TR_ONE_FOR_ONE);
}

static void
test_escalation_one_for_all(void **state)
{
	(void)state;
	ts_escalation_case(TR_ONE_FOR_ALL);
}

static void
test_escalation_rest_for_one(void **state)
{
	(void)state;
	ts_escalation_case(TR_REST_FOR_ONE);
}

static void
test_escalation_simple(void **state)
{
	(void)state;
	ts_escalation_case(TR_SIMPLE_ONE_FOR_ONE);
}

/* transient_shutdown: {shutdown, Term} is not abnormal: shutdown with
 * any code leaves a transient child down. */
static void
test_transient_shutdown_code(void **state)
{
	tr_child_spec k[1] = {ts_child("t", 1, TR_TRANSIENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, t;
	tr_child_info ci;
	int none[1] = {0};

	(void)state;
	sup = ts_start(&s);
	t = ts_expect_started(1);
	ts_exit(t, TR_REASON(TR_EXIT_SHUTDOWN, 42));
	ts_expect_stopped(1, TR_REASON(TR_EXIT_SHUTDOWN, 42));
	assert_true(ts_wait_moved(sup, "t", t, &ci));
	assert_int_equal(ci.state, TR_CHILD_STOPPED);
	assert_int_equal(ci.restarts, 0);
	ts_nothing_else();
	ts_stop_sup(sup, none, 0);
}

/* temporary_bystander, rest_for_one: a temporary child stopped by its
 * group's restart is not restarted, and forgotten. */
static void
test_temporary_bystander_rest_for_one(void **state)
{
	tr_child_spec k[2] = {
	    ts_child("p", 0, TR_PERMANENT), ts_child("t", 1, TR_TEMPORARY)};
	tr_sup_spec s = ts_sup(TR_REST_FOR_ONE, k, 2);
	tr_ref sup, refs[2];
	tr_child_info ci[2];
	ts_got g;
	int labels[] = {0};

	(void)state;
	sup = ts_start(&s);
	ts_expect_started_in_order(0, 2, refs);
	ts_exit(refs[0], TR_REASON_NORMAL);
	ts_gather(&g, 3, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_nothing_else();
	assert_int_equal(ts_children(sup, ci, 2), 1);
	assert_string_equal(ci[0].id, "p");
	ts_stop_sup(sup, labels, 1);
}

/* child_unlink: a child that unlinks itself from its supervisor is still
 * stopped by terminate_child (which waits on a monitor, not the link). */
static void
test_child_unlink(void **state)
{
	tr_child_spec k[1] = {ts_child("naughty", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, c;
	int none[1] = {0};

	(void)state;
	sup = ts_start(&s);
	c = ts_expect_started(1);
	tl_send(c, tl_msg_ref(TS_UNLINK, sup));
	assert_int_equal(tr_sup_terminate_child(sup, "naughty"), TR_OK);
	ts_expect_stopped(1, TR_REASON_SHUTDOWN);
	assert_false(tr_alive(c));
	assert_int_equal(ts_info(sup, "naughty").state, TR_CHILD_STOPPED);
	ts_nothing_else();
	ts_stop_sup(sup, none, 0);
}

/*
 * tree: a one_for_all top restarts every child supervisor when one
 * gives up -- a child supervisor's dynamic children are not restarted
 * with it -- and starts again a child that terminate_child stopped.
 */
static void
test_tree_restart(void **state)
{
	tr_child_spec k1[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec sub1 = ts_sup(TR_ONE_FOR_ONE, k1, 1);
	tr_sup_spec sub2 = ts_sup(TR_ONE_FOR_ONE, NULL, 0);
	tr_child_spec k[3];
	tr_sup_spec top;
	tr_child_spec x = ts_child("x", 2, TR_PERMANENT);
	tr_ref sup, s2, xr;
	tr_child_info ci[3];
	ts_got g;
	int labels[] = {3, 1};

	(void)state;
	sub2.intensity = TR_NO_RESTARTS;
	memset(k, 0, sizeof(k));
	k[0].id = "sub1";
	k[0].sup = &sub1;
	k[1].id = "sub2";
	k[1].sup = &sub2;
	k[2] = ts_child("t", 3, TR_TRANSIENT);
	top = ts_sup(TR_ONE_FOR_ALL, k, 3);
	sup = ts_start(&top);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STARTED, 3, TR_REASON_NORMAL);
	assert_int_equal(tr_sup_terminate_child(sup, "t"), TR_OK);
	ts_expect_stopped(3, TR_REASON_SHUTDOWN);
	s2 = ts_info(sup, "sub2").ref;
	assert_int_equal(tr_sup_start_child(s2, &x, &xr, NULL), TR_OK);
	ts_expect_started(2);

	/* x crashes: sub2 (no restarts) gives up; top restarts all. */
	ts_crash(xr, 5);
	ts_gather(&g, 4, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 2, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[2], TS_STARTED, 1, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[3], TS_STARTED, 3, TR_REASON_NORMAL);
	ts_nothing_else();
	assert_int_equal(ts_children(sup, ci, 3), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ci[i].state, TR_CHILD_RUNNING);
	}
	assert_false(tr_ref_equal(ci[1].ref, s2));
	assert_int_equal(ts_children(ci[1].ref, ci, 3), 0);
	ts_stop_sup(sup, labels, 2);
}

/*
 * simple_global_supervisor (kill_supervisor): a child supervisor that
 * ends abnormally is restarted by its own supervisor, with new children.
 * (OTP kills it; killing a thread supervisor here would skip its
 * terminate, leaving its memory behind -- as for any thread actor that
 * is killed -- so it is stopped with an abnormal reason instead.)
 */
static void
test_child_supervisor_dies(void **state)
{
	tr_child_spec ik[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec inner = ts_sup(TR_ONE_FOR_ONE, ik, 1);
	tr_child_spec k[1];
	tr_sup_spec top;
	tr_ref sup, in, w;
	tr_child_info ci;
	ts_got g;
	int labels[] = {1};

	(void)state;
	memset(k, 0, sizeof(k));
	k[0].id = "inner";
	k[0].sup = &inner;
	top = ts_sup(TR_ONE_FOR_ONE, k, 1);
	sup = ts_start(&top);
	w = ts_expect_started(1);
	in = ts_info(sup, "inner").ref;
	assert_int_equal(tr_stop(in, TR_REASON(TR_EXIT_CUSTOM, 9)), TR_OK);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON_SHUTDOWN);
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	assert_false(tr_alive(w));
	assert_true(ts_wait_moved(sup, "inner", in, &ci));
	assert_int_equal(ci.state, TR_CHILD_RUNNING);
	assert_int_equal(ci.restarts, 1);
	assert_true(tr_ref_equal(ts_info(ci.ref, "w").ref, g.rep[1].who));
	ts_nothing_else();
	ts_stop_sup(sup, labels, 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    TS_TEST(test_restart_loop_one_for_one),
	    TS_TEST(test_restart_loop_scheduled),
	    TS_TEST(test_restart_loop_rest_for_one),
	    TS_TEST(test_restart_loop_one_for_all),
	    TS_TEST(test_restart_loop_simple),
	    TS_TEST(test_one_for_all_other_child_fails_restart),
	    TS_TEST(test_rest_for_one_other_child_fails_restart),
	    TS_TEST(test_backoff_keeps_start_order),
	    TS_TEST(test_simple_shutdown_parallel),
	    TS_TEST(test_simple_shutdown_kills_after_timeout),
	    TS_TEST(test_simple_brutal_kill),
	    TS_TEST(test_significant_refused),
	    TS_TEST(test_significant_terminate_and_kill),
	    TS_TEST(test_significant_bystander),
	    TS_TEST(test_significant_escalation),
	    TS_TEST(test_simple_terminate_gone),
	    TS_TEST(test_start_child_already),
	    TS_TEST(test_restart_child_fails),
	    TS_TEST(test_spawn_ignore),
	    TS_TEST(test_sup_ignore_child),
	    TS_TEST(test_sup_ignore_simple),
	    TS_TEST(test_start_failure_names_child),
	    TS_TEST(test_stuck_thread_child),
	    TS_TEST(test_escalation_one_for_one),
	    TS_TEST(test_escalation_one_for_all),
	    TS_TEST(test_escalation_rest_for_one),
	    TS_TEST(test_escalation_simple),
	    TS_TEST(test_transient_shutdown_code),
	    TS_TEST(test_temporary_bystander_rest_for_one),
	    TS_TEST(test_child_unlink),
	    TS_TEST(test_tree_restart),
	    TS_TEST(test_child_supervisor_dies),
	};

	if (argc > 1 && argv[1][0] == '!') {
		cmocka_set_skip_filter(argv[1] + 1);
	} else if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
