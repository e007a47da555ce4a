/*
 * sup_test.h -- helpers of test_supervisor.c: the children's init
 * arguments, specs, starting and stopping supervisors, reading the
 * reports of "sup.child" (behaviors_sup.h), and asking a supervisor
 * about its children.  Include after <cmocka.h>.  Everything here
 * asserts on failure.
 */
#ifndef TEST_SUP_TEST_H
#define TEST_SUP_TEST_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#include "behaviors_sup.h"
#include "life_test.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The supervisor calls wait forever (TR_FOREVER), and so does
 * tr_shutdown for an nng_close; one that never returns ends the program
 * with a message, not the meson timeout. */
#define TS_CALL_LIMIT_S 15
/* tr_shutdown may take its two stop deadlines (2 x 10 s) and a little
 * more. */
#define TS_SHUTDOWN_LIMIT_S 30

/* What the alarm says, set before it is armed. */
static const char *ts_alarm_msg;

static inline void
ts_on_alarm(int sig)
{
	(void)sig;
	(void)!write(2, ts_alarm_msg, strlen(ts_alarm_msg));
	/* TROUPE_TEST_GDB=1: every thread's stack first, to see where it
	 * hangs (not async-signal-safe; the process is done for anyway). */
	if (getenv("TROUPE_TEST_GDB") != NULL) {
		char cmd[512];
		/* This process, then every process below it (members, the
		 * fork server, exec'd programs). */
		snprintf(cmd, sizeof(cmd),
		    "for p in %d $(ps -e -o pid=,ppid= | awk -v r=%d "
		    "'{k[$1]=$2} END {for (i = 0; i < 4; i++) for (p in k) "
		    "if (k[p] == r || (k[p] in d)) d[p] = 1; for (p in d) "
		    "print p}'); do echo \"=== pid $p: $(cat "
		    "/proc/$p/comm)\"; gdb -p $p -batch -ex 'thread "
		    "apply all bt' 2>&1; done >&2",
		    (int)getpid(), (int)getpid());
		(void)!system(cmd);
	}
	_exit(1);
}

static inline void
ts_alarm(const char *msg, unsigned secs)
{
	if (secs > 0) {
		ts_alarm_msg = msg;
		signal(SIGALRM, ts_on_alarm);
		alarm(secs);
	} else {
		alarm(0);
	}
}

static inline void
ts_watchdog(bool on)
{
	ts_alarm("test_supervisor: a call to a supervisor got no answer in "
	         "15 s: the supervisor hangs\n",
	    on ? TS_CALL_LIMIT_S : 0);
}

/* Init arguments made by a case, freed by the teardown (also when the
 * case failed half way). */
#define TS_POOL 64
static tr_msg *ts_pool[TS_POOL];
static size_t ts_npool;

static inline int
ts_setup(void **state)
{
	ts_npool = 0;
	return tl_setup(state);
}

static inline int
ts_teardown(void **state)
{
	int rv;

	for (size_t i = 0; i < ts_npool; i++) {
		tr_msg_free(ts_pool[i]);
	}
	ts_npool = 0;
	ts_alarm("test_supervisor: tr_shutdown did not return in 30 s: the "
	         "runtime hangs as it stops\n",
	    TS_SHUTDOWN_LIMIT_S);
	rv = tl_teardown(state);
	ts_alarm(NULL, 0);
	return rv;
}

#define TS_TEST(fn) cmocka_unit_test_setup_teardown(fn, ts_setup, ts_teardown)

static inline double
ts_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The placement a TR_PLACE_AUTO child gets in this run. */
static inline tr_placement
ts_auto_placement(void)
{
	const char *p = getenv("TROUPE_PLACEMENT");

	if (p != NULL && strcmp(p, "fork") == 0) {
		return TR_PLACE_FORK;
	}
	if (p != NULL && strcmp(p, "exec") == 0) {
		return TR_PLACE_EXEC;
	}
	if (p != NULL && strcmp(p, "thread") == 0) {
		return TR_PLACE_THREAD;
	}
	return TR_PLACE_SCHEDULED; /* auto's own choice */
}

/* Where a supervisor of placement auto runs: a thread, or a scheduled
 * actor when TROUPE_SUP_PLACEMENT=scheduled. */
static inline tr_placement
ts_sup_placement(void)
{
	const char *p = getenv("TROUPE_SUP_PLACEMENT");

	return p != NULL && strcmp(p, "scheduled") == 0 ? TR_PLACE_SCHEDULED :
	                                                  TR_PLACE_THREAD;
}

/* How an AUTO child ends when tr_kill()ed: a thread is stopped with
 * reason killed, a process is sent SIGKILL. */
static inline tr_reason
ts_killed(void)
{
	return test_actors_local() ? TR_REASON_KILL :
	                             TR_REASON(TR_EXIT_SIGNAL, SIGKILL);
}

/* A sup.child init argument reporting to us. */
static inline tr_msg *
ts_cfg(int label, int init_fail)
{
	tr_msg *m = tl_msg(TS_CFG);
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_array(pk, 3);
	assert_int_equal(tr_pack_ref(pk, tr_self()), TR_OK);
	msgpack_pack_int64(pk, label);
	msgpack_pack_int64(pk, init_fail);
	assert_true(ts_npool < TS_POOL);
	ts_pool[ts_npool++] = m;
	return m;
}

/* The same, with an init that blocks for ms after its report. */
static inline tr_msg *
ts_cfg_slow(int label, int ms)
{
	tr_msg *m = tl_msg(TS_CFG);
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_array(pk, 4);
	assert_int_equal(tr_pack_ref(pk, tr_self()), TR_OK);
	msgpack_pack_int64(pk, label);
	msgpack_pack_int64(pk, 0);
	msgpack_pack_int64(pk, ms);
	assert_true(ts_npool < TS_POOL);
	ts_pool[ts_npool++] = m;
	return m;
}

/* The full form: init_fail (0, a code, or TR_IGNORE), init_ms, term_ms
 * (a terminate that takes that long) and a gate (ts_gate) or nil. */
static inline tr_msg *
ts_cfg_full(int label, int init_fail, int init_ms, int term_ms, tr_ref gate)
{
	tr_msg *m = tl_msg(TS_CFG);
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_array(pk, 6);
	assert_int_equal(tr_pack_ref(pk, tr_self()), TR_OK);
	msgpack_pack_int64(pk, label);
	msgpack_pack_int64(pk, init_fail);
	msgpack_pack_int64(pk, init_ms);
	msgpack_pack_int64(pk, term_ms);
	if (tr_ref_is_nil(gate)) {
		msgpack_pack_nil(pk);
	} else {
		assert_int_equal(tr_pack_ref(pk, gate), TR_OK);
	}
	assert_true(ts_npool < TS_POOL);
	ts_pool[ts_npool++] = m;
	return m;
}

/* A "sup.gate", a thread of this process, that the children's inits
 * ask what to do.  Ended by the runtime's shutdown. */
static inline tr_ref
ts_gate(void)
{
	tr_spec spec;
	tr_ref g = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = TS_GATE;
	spec.placement = TR_PLACE_THREAD;
	assert_int_equal(tr_spawn(&spec, &g, NULL), TR_OK);
	return g;
}

/* Scripts label's starts: first the n answers in first[] ({code, ms}
 * each), then def_code after def_ms for every start after.  Returns
 * once the gate has it. */
static inline void
ts_gate_set(tr_ref gate, int label, int def_code, int def_ms, size_t n,
    const int (*first)[2])
{
	tr_msg *m = tl_msg(TS_GATE_SET), *rep = NULL;
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_array(pk, (uint32_t)(3 + 2 * n));
	msgpack_pack_int64(pk, label);
	msgpack_pack_int64(pk, def_code);
	msgpack_pack_int64(pk, def_ms);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_int64(pk, first[i][0]);
		msgpack_pack_int64(pk, first[i][1]);
	}
	assert_int_equal(tr_call(gate, m, TL_WAIT, &rep, NULL), TR_OK);
	tr_msg_free(rep);
}

static inline tr_child_spec
ts_child(const char *id, int label, tr_restart restart)
{
	tr_child_spec c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.start.behavior = TS_CHILD;
	c.start.init_arg = ts_cfg(label, 0);
	c.restart = restart;
	return c;
}

static inline tr_sup_spec
ts_sup(tr_strategy strategy, const tr_child_spec *kids, size_t n)
{
	tr_sup_spec s;

	memset(&s, 0, sizeof(s));
	s.strategy = strategy;
	s.intensity = 10;
	s.period_ms = 10000;
	s.children = kids;
	s.nchildren = n;
	return s;
}

/* Starts a supervisor linked to us. */
static inline tr_ref
ts_start(const tr_sup_spec *s)
{
	tr_ref sup = TR_REF_NIL;
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, -1);

	assert_int_equal(tr_sup_start(s, NULL, true, &sup, &why), TR_OK);
	assert_false(tr_ref_is_nil(sup));
	return sup;
}

static inline void
ts_send_int(tr_ref to, uint32_t tag, int64_t v)
{
	tl_send(to, tl_msg_int(tag, v));
}

static inline void
ts_crash(tr_ref child, int code)
{
	ts_send_int(child, TS_CRASH, code);
}

static inline void
ts_exit(tr_ref child, tr_reason why)
{
	tl_send(child, tl_msg_reason(TS_EXIT, TR_REF_NIL, why));
}

/* A report of a sup.child. */
typedef struct ts_rep {
	uint32_t tag;
	int label;
	tr_reason why; /* TS_STOPPED */
	int64_t code;  /* TS_ATTEMPT */
	uint64_t ts;   /* TS_STARTED, TS_STOPPED, TS_ATTEMPT */
	int pid;       /* TS_STARTED */
	tr_ref who;
} ts_rep;

static inline const char *
ts_tag_name(uint32_t tag)
{
	switch (tag) {
	case TS_STARTED:
		return "STARTED";
	case TS_STOPPED:
		return "STOPPED";
	case TS_HANGING:
		return "HANGING";
	case TS_ATTEMPT:
		return "ATTEMPT";
	case TR_TAG_EXIT:
		return "EXIT";
	case TR_TAG_DOWN:
		return "DOWN";
	default:
		return "?";
	}
}

/* Prints what m is, for a failure message. */
static inline void
ts_describe(const char *what, tr_msg *m)
{
	char rb[64], wb[64];
	tr_ref who = tr_msg_sender(m);
	tr_reason why = TR_REASON_NORMAL;
	msgpack_object o;
	int64_t label = -1;

	if (tr_msg_tag(m) == TR_TAG_EXIT || tr_msg_tag(m) == TR_TAG_DOWN) {
		(void)tr_msg_reason(m, &who, &why, NULL);
	} else if (tr_msg_body(m, &o) == TR_OK &&
	    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size > 0 &&
	    o.via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		label = (int64_t)o.via.array.ptr[0].via.u64;
		if (tr_msg_tag(m) == TS_STOPPED && o.via.array.size == 4) {
			why.kind = (tr_exit_kind)o.via.array.ptr[1].via.i64;
			why.code = (int32_t)o.via.array.ptr[2].via.i64;
		}
	}
	print_error("%s: tag 0x%x (%s) from %s, label %lld, reason %s\n", what,
	    (unsigned)tr_msg_tag(m), ts_tag_name(tr_msg_tag(m)),
	    tr_ref_format(who, wb, sizeof(wb)), (long long)label,
	    tr_reason_format(why, rb, sizeof(rb)));
}

static inline void
ts_parse(tr_msg *m, ts_rep *r)
{
	int64_t v[4];

	memset(r, 0, sizeof(*r));
	r->tag = tr_msg_tag(m);
	r->who = tr_msg_sender(m);
	switch (r->tag) {
	case TS_STARTED:
		tl_body_ints(m, v, 3);
		r->label = (int)v[0];
		r->ts = (uint64_t)v[1];
		r->pid = (int)v[2];
		break;
	case TS_STOPPED:
		tl_body_ints(m, v, 4);
		r->label = (int)v[0];
		r->why = TR_REASON((tr_exit_kind)v[1], (int32_t)v[2]);
		r->ts = (uint64_t)v[3];
		break;
	case TS_HANGING:
		tl_body_ints(m, v, 1);
		r->label = (int)v[0];
		break;
	case TS_ATTEMPT:
		tl_body_ints(m, v, 3);
		r->label = (int)v[0];
		r->code = v[1];
		r->ts = (uint64_t)v[2];
		break;
	default:
		ts_describe("expected a report", m);
		fail();
	}
}

/* The next message must be a report. */
static inline ts_rep
ts_next(void)
{
	tr_msg *m = tl_recv();
	ts_rep r;

	ts_parse(m, &r);
	tr_msg_free(m);
	return r;
}

static inline void
ts_assert_rep(const ts_rep *r, uint32_t tag, int label, tr_reason why)
{
	if (r->tag != tag || r->label != label ||
	    (tag == TS_STOPPED &&
	        (r->why.kind != why.kind || r->why.code != why.code))) {
		char b1[64], b2[64];
		print_error("expected %s %d (%s), got %s %d (%s)\n",
		    ts_tag_name(tag), label,
		    tr_reason_format(why, b1, sizeof(b1)), ts_tag_name(r->tag),
		    r->label, tr_reason_format(r->why, b2, sizeof(b2)));
	}
	assert_int_equal(r->tag, tag);
	assert_int_equal(r->label, label);
	if (tag == TS_STOPPED) {
		assert_int_equal(r->why.kind, why.kind);
		assert_int_equal(r->why.code, why.code);
	}
}

/* The next message must be TS_STARTED of label; returns the child. */
static inline tr_ref
ts_expect_started(int label)
{
	ts_rep r = ts_next();

	ts_assert_rep(&r, TS_STARTED, label, TR_REASON_NORMAL);
	assert_false(tr_ref_is_nil(r.who));
	return r.who;
}

static inline void
ts_expect_stopped(int label, tr_reason why)
{
	ts_rep r = ts_next();

	ts_assert_rep(&r, TS_STOPPED, label, why);
}

/* What a case waits for: reports, ordered by time stamp, and notices
 * (EXIT, DOWN), in arrival order. */
#define TS_MAXREP 16
#define TS_MAXNOTE 4
typedef struct ts_got {
	ts_rep rep[TS_MAXREP];
	size_t nrep;
	tr_msg *note[TS_MAXNOTE];
	size_t nnote;
} ts_got;

/* Receives exactly nrep reports and nnote notices, in any order;
 * anything more or else fails.  The caller ts_got_free()s. */
static inline void
ts_gather(ts_got *g, size_t nrep, size_t nnote)
{
	memset(g, 0, sizeof(*g));
	assert_true(nrep <= TS_MAXREP && nnote <= TS_MAXNOTE);
	while (g->nrep < nrep || g->nnote < nnote) {
		tr_msg *m = tl_recv();
		uint32_t tag = tr_msg_tag(m);

		if (tag == TR_TAG_EXIT || tag == TR_TAG_DOWN) {
			if (g->nnote == nnote) {
				ts_describe("unexpected notice", m);
				fail();
			}
			g->note[g->nnote++] = m;
			continue;
		}
		if (g->nrep == nrep) {
			ts_describe("unexpected message", m);
			fail();
		}
		ts_parse(m, &g->rep[g->nrep++]);
		tr_msg_free(m);
	}
	/* Stable insertion sort by time stamp. */
	for (size_t i = 1; i < g->nrep; i++) {
		ts_rep r = g->rep[i];
		size_t k = i;
		while (k > 0 && g->rep[k - 1].ts > r.ts) {
			g->rep[k] = g->rep[k - 1];
			k--;
		}
		g->rep[k] = r;
	}
}

static inline void
ts_got_free(ts_got *g)
{
	for (size_t i = 0; i < g->nnote; i++) {
		tr_msg_free(g->note[i]);
	}
	g->nnote = 0;
}

/* A child's end and its restart: two reports from two incarnations,
 * which (as two senders, maybe two processes) may arrive in either
 * order, so they are put in the order of their time stamps.  Returns
 * the new incarnation. */
static inline tr_ref
ts_expect_restart(int label, tr_reason why)
{
	ts_got g;

	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, label, why);
	ts_assert_rep(&g.rep[1], TS_STARTED, label, TR_REASON_NORMAL);
	return g.rep[1].who;
}

/* There must be a notice of that tag about who, with that reason. */
static inline void
ts_got_notice(ts_got *g, uint32_t tag, tr_ref who, tr_reason why)
{
	for (size_t i = 0; i < g->nnote; i++) {
		tr_ref w = TR_REF_NIL;
		tr_reason r;
		if (tr_msg_tag(g->note[i]) != tag) {
			continue;
		}
		assert_int_equal(
		    tr_msg_reason(g->note[i], &w, &r, NULL), TR_OK);
		if (!tr_ref_equal(w, who)) {
			continue;
		}
		if (r.kind != why.kind || r.code != why.code) {
			ts_describe("notice with the wrong reason", g->note[i]);
		}
		assert_int_equal(r.kind, why.kind);
		assert_int_equal(r.code, why.code);
		return;
	}
	print_error("no %s about that actor among %zu notices\n",
	    ts_tag_name(tag), g->nnote);
	fail();
}

/* Receives n reports that must be TS_STARTED, and returns the children
 * by label (labels 0..n-1 index `refs`, which may be NULL).  Checks
 * that they started in the order of their labels, from `first`. */
static inline void
ts_expect_started_in_order(int first, size_t n, tr_ref *refs)
{
	ts_got g;

	ts_gather(&g, n, 0);
	for (size_t i = 0; i < n; i++) {
		ts_assert_rep(
		    &g.rep[i], TS_STARTED, first + (int)i, TR_REASON_NORMAL);
		if (refs != NULL) {
			refs[i] = g.rep[i].who;
		}
	}
}

/* The children of sup: asserts success and room; returns how many. */
static inline size_t
ts_children(tr_ref sup, tr_child_info *out, size_t max)
{
	size_t n = 9999;
	int rv;

	ts_watchdog(true);
	rv = tr_sup_children(sup, out, max, &n);
	ts_watchdog(false);
	assert_int_equal(rv, TR_OK);
	assert_true(n <= max);
	return n;
}

static inline bool
ts_find(tr_ref sup, const char *id, tr_child_info *out)
{
	tr_child_info v[16];
	size_t n = ts_children(sup, v, 16);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].id, id) == 0) {
			*out = v[i];
			return true;
		}
	}
	return false;
}

static inline tr_child_info
ts_info(tr_ref sup, const char *id)
{
	tr_child_info ci;

	memset(&ci, 0, sizeof(ci));
	if (!ts_find(sup, id, &ci)) {
		print_error("supervisor has no child '%s'\n", id);
		fail();
	}
	return ci;
}

/* Asks sup until child id's entry no longer names `old` (the supervisor
 * has dealt with its end); false if the entry is gone. */
static inline bool
ts_wait_moved(tr_ref sup, const char *id, tr_ref old, tr_child_info *out)
{
	double end = ts_ms() + TL_WAIT;

	for (;;) {
		if (!ts_find(sup, id, out)) {
			return false;
		}
		if (!tr_ref_equal(out->ref, old)) {
			return true;
		}
		assert_true(ts_ms() < end);
	}
}

/* Nothing but what we send ourselves now is in our mailbox. */
static inline void
ts_nothing_else(void)
{
	static int64_t seq = 1;
	int64_t n = seq++;
	tr_msg *m;

	ts_send_int(tr_self(), TS_MARK, n);
	m = tl_recv();
	if (tr_msg_tag(m) != TS_MARK) {
		ts_describe("expected nothing else", m);
	}
	assert_int_equal(tr_msg_tag(m), TS_MARK);
	assert_int_equal(tl_body_int(m), n);
	tr_msg_free(m);
}

/* Waits ms by the runtime's own clock: a delayed message to ourselves.
 * Only where time itself is what is tested. */
static inline void
ts_let_time_pass(int ms)
{
	tr_msg *m = tl_msg_int(TS_MARK, -ms);

	assert_int_equal(tr_send_after(tr_self(), m, ms, NULL), TR_OK);
	m = tl_recv();
	if (tr_msg_tag(m) != TS_MARK) {
		ts_describe("expected the timer", m);
	}
	assert_int_equal(tr_msg_tag(m), TS_MARK);
	assert_int_equal(tl_body_int(m), -ms);
	tr_msg_free(m);
}

/* Stops sup (reason shutdown) and checks that its n running children,
 * labels[0..n-1] given newest first, stopped in that order before the
 * supervisor's EXIT. */
static inline void
ts_stop_sup(tr_ref sup, const int *labels, size_t n)
{
	ts_got g;

	/* A call first: the supervisor is done with whatever it was doing
	 * (a restart whose report we got may still be waiting for the
	 * child's init to return; see test_stop_while_child_starts). */
	{
		size_t nkids = 0;
		int rv;
		ts_watchdog(true);
		rv = tr_sup_children(sup, NULL, 0, &nkids);
		ts_watchdog(false);
		assert_int_equal(rv, TR_OK);
	}
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	ts_gather(&g, n, 1);
	for (size_t i = 0; i < n; i++) {
		ts_assert_rep(
		    &g.rep[i], TS_STOPPED, labels[i], TR_REASON_SHUTDOWN);
	}
	ts_got_notice(&g, TR_TAG_EXIT, sup, TR_REASON_SHUTDOWN);
	ts_got_free(&g);
	assert_false(tr_alive(sup));
}

#endif
