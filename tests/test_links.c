/*
 * test_links.c -- links and monitors, with Erlang/OTP's semantics:
 * one DOWN per monitor, noproc for the dead, demonitor, exit signals
 * that kill non-trapping linked actors for any reason but normal,
 * trapping actors that get them as messages, and notices that a full
 * mailbox does not hold up.
 *
 * Absence ("no DOWN", "no propagation") is shown with messages, never
 * with a sleep: a marker we send ourselves after the point where the
 * notice would already have been queued (tl_expect_nothing_else), or a
 * trapping witness linked to the same actor that answers a pending call
 * once its own exit signal came (TL_WAIT_TICK) -- the dying actor tells
 * its links one after another, so once the witness heard, the others
 * were told too.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <troupe.h>

#include "life_test.h"

/* A worker that traps exits from the start (spec.trap_exits); it
 * forwards them to report if report is not nil. */
static tr_ref
spawn_trapping(tr_ref report)
{
	tr_spec spec = {.behavior = TL_WORKER, .trap_exits = true};
	tr_msg *cfg = tl_cfg(report, 0, NULL, 0);
	tr_ref r;

	spec.init_arg = cfg;
	r = tl_spawn_spec(&spec);
	tr_msg_free(cfg);
	return r;
}

/* Asks a to link to b. */
static void
link_pair(tr_ref a, tr_ref b)
{
	assert_int_equal(tl_call_rv(a, tl_msg_ref(TL_LINK, b)), TR_OK);
}

/* The actor is alive and answers. */
static void
expect_alive(tr_ref a)
{
	tr_msg *rep = tl_call(a, tl_msg_int(TL_PING, 11));

	assert_int_equal(tr_msg_tag(rep), TL_PONG);
	assert_int_equal(tl_body_int(rep), 11);
	tr_msg_free(rep);
	assert_true(tr_alive(a));
}

/* Waits until the trapping witness got an exit signal. */
static void
wait_witness(tr_ref witness)
{
	assert_int_equal(tl_call_rv(witness, tl_msg(TL_WAIT_TICK)), 0);
}

/* The next message is TL_GOT_EXIT [who, kind, code] from a trapping
 * worker. */
static void
expect_got_exit(tr_ref from, tr_ref who, tr_reason why)
{
	tr_msg *m = tl_expect(TL_GOT_EXIT);
	msgpack_object o;
	tr_ref w;

	assert_true(tr_ref_equal(tr_msg_sender(m), from));
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 3);
	assert_int_equal(tr_unpack_ref(&o.via.array.ptr[0], &w), TR_OK);
	assert_true(tr_ref_equal(w, who));
	assert_int_equal(o.via.array.ptr[1].via.i64, why.kind);
	if (why.code >= 0) {
		assert_int_equal(
		    o.via.array.ptr[2].via.u64, (uint64_t)why.code);
	} else {
		assert_int_equal(o.via.array.ptr[2].via.i64, why.code);
	}
	tr_msg_free(m);
}

/* The next n messages are the DOWNs of who[0..n-1] (monitors mon[]),
 * all with reason why, in any order: actors that die of one another's
 * exit may tell us in either order. */
static void
expect_downs(size_t n, const tr_ref *who, const tr_mon *mon, tr_reason why)
{
	bool seen[8] = {false};

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		tr_msg *m = tl_expect(TR_TAG_DOWN);
		tr_ref w;
		tr_reason r;
		uint64_t id;
		size_t k;
		assert_int_equal(tr_msg_reason(m, &w, &r, &id), TR_OK);
		for (k = 0; k < n && !tr_ref_equal(w, who[k]); k++) {
		}
		assert_true(k < n);
		assert_false(seen[k]);
		seen[k] = true;
		assert_int_equal(id, mon[k].id);
		assert_int_equal(r.kind, why.kind);
		assert_int_equal(r.code, why.code);
		tr_msg_free(m);
	}
}

/* ------------------------------------------------------------------ */
/* Monitors                                                            */
/* ------------------------------------------------------------------ */

static void
test_monitor_then_stop(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_mon mon = tl_monitor(w);
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, 3);

	(void)state;
	assert_int_equal(tr_stop(w, why), TR_OK);
	tl_expect_down(mon, w, why);
	/* Exactly one. */
	tl_expect_nothing_else();
	/* A fired monitor is gone. */
	assert_int_equal(tr_demonitor(mon), TR_ENOENT);
}

static void
test_monitor_ids_differ(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_mon m1 = tl_monitor(w), m2 = tl_monitor(w);
	tr_msg *a, *b;
	uint64_t ia = 0, ib = 0;

	(void)state;
	assert_true(m1.id != m2.id);
	assert_int_equal(tr_stop(w, TR_REASON_NORMAL), TR_OK);
	/* Two monitors, two DOWNs, each naming its own. */
	a = tl_expect(TR_TAG_DOWN);
	b = tl_expect(TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(a, NULL, NULL, &ia), TR_OK);
	assert_int_equal(tr_msg_reason(b, NULL, NULL, &ib), TR_OK);
	assert_true(
	    (ia == m1.id && ib == m2.id) || (ia == m2.id && ib == m1.id));
	tr_msg_free(a);
	tr_msg_free(b);
	tl_expect_nothing_else();
}

static void
test_monitor_dead_ref(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_ref self = tr_self();
	tr_ref never = {self.node, self.proc, 60000, 3};
	tr_mon mon;

	(void)state;
	tl_stop_wait(w, TR_REASON_NORMAL);
	mon = tl_monitor(w);
	tl_expect_down(mon, w, TR_REASON(TR_EXIT_NOPROC, 0));
	tl_expect_nothing_else();
	assert_int_equal(tr_demonitor(mon), TR_ENOENT);

	/* A ref that never named anything: the same. */
	mon = tl_monitor(never);
	tl_expect_down(mon, never, TR_REASON(TR_EXIT_NOPROC, 0));
	tl_expect_nothing_else();
}

static void
test_monitor_bad_args(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_int_equal(tr_monitor(w, NULL), TR_EINVAL);
	tl_expect_nothing_else();
}

static void
test_demonitor_then_stop(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_mon m1 = tl_monitor(w), m2 = tl_monitor(w);
	tr_reason why = TR_REASON(TR_EXIT_ERROR, 4);

	(void)state;
	assert_int_equal(tr_demonitor(m1), TR_OK);
	assert_int_equal(tr_stop(w, why), TR_OK);
	/* m2's DOWN comes; m1's, sent (if at all) together with it, would
	 * come before our marker. */
	tl_expect_down(m2, w, why);
	tl_expect_nothing_else();
}

static void
test_demonitor_twice(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_mon mon = tl_monitor(w);
	tr_mon unknown = {mon.id + 1000000};

	(void)state;
	assert_int_equal(tr_demonitor(mon), TR_OK);
	assert_int_equal(tr_demonitor(mon), TR_ENOENT);
	assert_int_equal(tr_demonitor(unknown), TR_ENOENT);
	assert_int_equal(tr_demonitor((tr_mon){0}), TR_ENOENT);
	tl_stop_wait(w, TR_REASON_NORMAL);
	tl_expect_nothing_else();
}

/*
 * troupe.h: "Removes a monitor; a DOWN already queued for it stays
 * queued.  TR_ENOENT if it already fired".  The DOWN is made sure to be
 * queued first: the dying actor tells its monitors before its links,
 * and a trapping witness linked to it answers our call only once its
 * exit signal came; our call takes whatever arrived meanwhile into our
 * queue.
 */
static void
test_demonitor_keeps_queued_down(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_ref witness = spawn_trapping(TR_REF_NIL);
	tr_reason why = TR_REASON(TR_EXIT_ERROR, 8);
	tr_mon mon;

	(void)state;
	link_pair(witness, w);
	mon = tl_monitor(w);
	assert_int_equal(tr_stop(w, why), TR_OK);
	wait_witness(witness);
	assert_int_equal(tr_demonitor(mon), TR_ENOENT);
	tl_expect_down(mon, w, why);
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Links                                                               */
/* ------------------------------------------------------------------ */

static void
test_link_main_error_exit(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_int_equal(tr_link(w), TR_OK);
	/* Links are sets: linking again changes nothing. */
	assert_int_equal(tr_link(w), TR_OK);
	tl_send(w, tl_msg_int(TL_FAIL, 77));
	/* The main context traps: an EXIT message, and it lives on. */
	tl_expect_exit(w, TR_REASON(TR_EXIT_ERROR, 77));
	tl_expect_nothing_else();
}

static void
test_link_main_normal_exit(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_int_equal(tr_link(w), TR_OK);
	assert_int_equal(tr_stop(w, TR_REASON_NORMAL), TR_OK);
	/* Trapping contexts hear of normal exits too. */
	tl_expect_exit(w, TR_REASON_NORMAL);
	tl_expect_nothing_else();
}

static void
test_link_chain_propagates(void **state)
{
	tr_ref a = tl_spawn(NULL), b = tl_spawn(NULL), c = tl_spawn(NULL);
	tr_ref who[3] = {a, b, c};
	tr_mon mon[3];
	tr_reason why = TR_REASON(TR_EXIT_ERROR, 13);

	(void)state;
	link_pair(a, b);
	link_pair(b, c);
	for (int i = 0; i < 3; i++) {
		mon[i] = tl_monitor(who[i]);
	}
	tl_send(c, tl_msg_int(TL_FAIL, 13));
	expect_downs(3, who, mon, why);
	for (int i = 0; i < 3; i++) {
		assert_false(tr_alive(who[i]));
	}
	tl_expect_nothing_else();
}

static void
test_normal_exit_does_not_propagate(void **state)
{
	tr_ref b = tl_spawn(NULL), a = tl_spawn(NULL);
	tr_ref witness = spawn_trapping(TR_REF_NIL);
	tr_mon mb, ma;

	(void)state;
	/* The witness links first: a dying actor tells its newest links
	 * first, so a is told before the witness is. */
	link_pair(witness, b);
	link_pair(a, b);
	mb = tl_monitor(b);
	ma = tl_monitor(a);
	assert_int_equal(tr_stop(b, TR_REASON_NORMAL), TR_OK);
	tl_expect_down(mb, b, TR_REASON_NORMAL);
	wait_witness(witness);
	expect_alive(a);
	tl_expect_nothing_else(); /* no DOWN for a */
	assert_int_equal(tr_demonitor(ma), TR_OK);
}

static void
test_shutdown_propagates(void **state)
{
	tr_ref b = tl_spawn(NULL), a = tl_spawn(NULL);
	tr_ref who[2] = {b, a};
	tr_mon mon[2];

	(void)state;
	link_pair(a, b);
	mon[0] = tl_monitor(b);
	mon[1] = tl_monitor(a);
	assert_int_equal(tr_stop(b, TR_REASON_SHUTDOWN), TR_OK);
	/* OTP: shutdown is orderly, but still ends non-trapping links. */
	expect_downs(2, who, mon, TR_REASON_SHUTDOWN);
	tl_expect_nothing_else();
}

static void
test_custom_reason_propagates_from_stop(void **state)
{
	tr_ref b = tl_spawn(NULL), a = tl_spawn_reporting();
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, 4242);
	tr_mon ma;

	(void)state;
	link_pair(a, b);
	ma = tl_monitor(a);
	assert_int_equal(tr_stop(b, why), TR_OK);
	/* a ends with b's reason, and its terminate is told so. */
	tl_expect_terminated(why);
	tl_expect_down(ma, a, why);
	tl_expect_nothing_else();
}

static void
test_kill_propagates(void **state)
{
	tr_ref b = tl_spawn(NULL), a = tl_spawn_reporting();
	tr_mon ma;

	(void)state;
	link_pair(a, b);
	ma = tl_monitor(a);
	assert_int_equal(tr_stop(b, TR_REASON_KILL), TR_OK);
	/* b's kill reaches a as an exit signal with reason kill, which ends
	 * a with that reason: no terminate for a either. */
	tl_expect_down(ma, a, TR_REASON_KILL);
	tl_expect_nothing_else();
}

static void
test_trapping_actor_gets_exit(void **state)
{
	tr_ref t = spawn_trapping(tr_self());
	tr_ref b = tl_spawn(NULL), c = tl_spawn(NULL);
	tr_mon mt = tl_monitor(t);

	(void)state;
	link_pair(t, b);
	link_pair(t, c);
	tl_send(b, tl_msg_int(TL_FAIL, 5));
	expect_got_exit(t, b, TR_REASON(TR_EXIT_ERROR, 5));
	expect_alive(t);
	/* Normal exits too reach a trapping actor. */
	assert_int_equal(tr_stop(c, TR_REASON_NORMAL), TR_OK);
	expect_got_exit(t, c, TR_REASON_NORMAL);
	expect_alive(t);
	tl_expect_nothing_else();
	assert_int_equal(tr_demonitor(mt), TR_OK);
}

static void
test_trap_exits_inside_actor(void **state)
{
	tr_ref t = tl_spawn_reporting();
	tr_ref b = tl_spawn(NULL), c = tl_spawn(NULL);
	tr_mon mt = tl_monitor(t);

	(void)state;
	assert_int_equal(tl_call_rv(t, tl_msg_bool(TL_TRAP, true)), TR_OK);
	link_pair(t, b);
	tl_send(b, tl_msg_int(TL_FAIL, 5));
	expect_got_exit(t, b, TR_REASON(TR_EXIT_ERROR, 5));
	expect_alive(t);

	/* Trapping off again: the next abnormal exit of a link ends t. */
	assert_int_equal(tl_call_rv(t, tl_msg_bool(TL_TRAP, false)), TR_OK);
	link_pair(t, c);
	tl_send(c, tl_msg_int(TL_FAIL, 6));
	tl_expect_terminated(TR_REASON(TR_EXIT_ERROR, 6));
	tl_expect_down(mt, t, TR_REASON(TR_EXIT_ERROR, 6));
	tl_expect_nothing_else();
}

static void
test_trap_exits_main(void **state)
{
	bool old = true;

	(void)state;
	assert_int_equal(tr_trap_exits(true, &old), TR_ESTATE);
	assert_int_equal(tr_trap_exits(false, NULL), TR_ESTATE);
}

typedef struct foreign {
	tr_ref target;
	int rv[4];
} foreign;

static void *
foreign_thread(void *arg)
{
	foreign *f = arg;
	tr_mon mon;

	f->rv[0] = tr_trap_exits(true, NULL);
	f->rv[1] = tr_link(f->target);
	f->rv[2] = tr_monitor(f->target, &mon);
	f->rv[3] = tr_demonitor((tr_mon){1});
	return NULL;
}

/* A thread that is no actor context has no links, monitors or traps. */
static void
test_links_from_foreign_thread(void **state)
{
	foreign f = {.rv = {-1, -1, -1, -1}};
	pthread_t t;

	(void)state;
	f.target = tl_spawn(NULL);
	assert_int_equal(pthread_create(&t, NULL, foreign_thread, &f), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f.rv[i], TR_ESTATE);
	}
	expect_alive(f.target);
}

static void
test_link_dead_ref(void **state)
{
	tr_ref w = tl_spawn(NULL), a = tl_spawn(NULL);

	(void)state;
	tl_stop_wait(w, TR_REASON_NORMAL);
	assert_int_equal(tr_link(w), TR_ENOPROC);
	assert_int_equal(tl_call_rv(a, tl_msg_ref(TL_LINK, w)), TR_ENOPROC);
	/* Whether an exit signal (noproc) comes too is left open: troupe.h
	 * says both "returns TR_ENOPROC" and "sends the caller an exit
	 * signal with reason noproc". */
}

static void
test_link_self(void **state)
{
	tr_ref w = tl_spawn(NULL);

	(void)state;
	assert_int_equal(tr_link(tr_self()), TR_EINVAL);
	assert_int_equal(tl_call_rv(w, tl_msg_ref(TL_LINK, w)), TR_EINVAL);
	expect_alive(w);
	tl_expect_nothing_else();
}

static void
test_unlink_stops_propagation(void **state)
{
	tr_ref b = tl_spawn(NULL), a = tl_spawn(NULL);
	tr_ref witness = spawn_trapping(TR_REF_NIL);
	tr_reason why = TR_REASON(TR_EXIT_ERROR, 9);
	tr_mon mb, ma;

	(void)state;
	/* Witness first, so that it is told last (see above). */
	link_pair(witness, b);
	link_pair(a, b);
	assert_int_equal(tr_link(b), TR_OK);
	assert_int_equal(tl_call_rv(a, tl_msg_ref(TL_UNLINK, b)), TR_OK);
	assert_int_equal(tr_unlink(b), TR_OK);
	mb = tl_monitor(b);
	ma = tl_monitor(a);
	tl_send(b, tl_msg_int(TL_FAIL, 9));
	wait_witness(witness);
	tl_expect_down(mb, b, why);
	/* Neither an EXIT for us nor a DOWN of a. */
	tl_expect_nothing_else();
	expect_alive(a);
	assert_int_equal(tr_demonitor(ma), TR_OK);
}

static void
test_unlink_from_the_other_side(void **state)
{
	tr_ref b = tl_spawn(NULL), a = tl_spawn(NULL);
	tr_ref witness = spawn_trapping(TR_REF_NIL);
	tr_mon ma;

	(void)state;
	link_pair(witness, b);
	link_pair(a, b);
	/* Links are two-way, and so is unlinking: b unlinks a. */
	assert_int_equal(tl_call_rv(b, tl_msg_ref(TL_UNLINK, a)), TR_OK);
	ma = tl_monitor(a);
	tl_send(b, tl_msg_int(TL_FAIL, 9));
	wait_witness(witness);
	expect_alive(a);
	tl_expect_nothing_else();
	assert_int_equal(tr_demonitor(ma), TR_OK);
}

static void
test_spec_link_crash_after_start(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .link = true};
	tr_msg *cfg = tl_cfg(TR_REF_NIL, 0, NULL, 21);
	tr_ref w;

	(void)state;
	/* The actor sends itself TL_FAIL in init: it dies as soon as it
	 * runs, maybe before tr_spawn() returns.  Linked before init, we
	 * cannot miss it. */
	spec.init_arg = cfg;
	w = tl_spawn_spec(&spec);
	tr_msg_free(cfg);
	tl_expect_exit(w, TR_REASON(TR_EXIT_ERROR, 21));
	assert_false(tr_alive(w));
	tl_expect_nothing_else();
}

static void
test_spec_link_stop(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .link = true};
	tr_ref w;

	(void)state;
	w = tl_spawn_spec(&spec);
	assert_int_equal(tr_stop(w, TR_REASON(TR_EXIT_CUSTOM, 1)), TR_OK);
	tl_expect_exit(w, TR_REASON(TR_EXIT_CUSTOM, 1));
	tl_expect_nothing_else();
}

/*
 * Notices are not held up by a full mailbox.  Our own mailbox (capacity
 * 4) is filled by an actor while we wait in a call to it, so nothing is
 * taken out; its fifth send fails at once (TR_NOWAIT -> TR_EFULL).  Then
 * it dies: its DOWN and EXIT still arrive, after the 4 messages.
 */
static void
test_notices_pass_full_mailbox(void **state)
{
	tr_options opts = {.mailbox_capacity = 4};
	tr_spec spec = {
	    .behavior = TL_WORKER, .link = true, .mailbox_capacity = 16};
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, 7);
	int64_t res[2];
	bool down = false, exit = false;
	tr_ref f;
	tr_mon mon;
	tr_msg *m;

	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_init(&opts), TR_OK);
	f = tl_spawn_spec(&spec);
	mon = tl_monitor(f);

	tl_call_ints(f, tl_msg_int(TL_FILL, 5), res, 2);
	assert_int_equal(res[0], 4);
	assert_int_equal(res[1], TR_EFULL);
	/* Our own full mailbox refuses us at once, even with TR_FOREVER. */
	m = tl_msg(TL_MARK);
	assert_int_equal(tr_send(tr_self(), m), TR_EFULL);
	tr_msg_free(m);

	assert_int_equal(tr_stop(f, why), TR_OK);
	for (int i = 0; i < 4; i++) {
		m = tl_expect(TL_FILLER);
		assert_int_equal(tl_body_int(m), i);
		assert_true(tr_ref_equal(tr_msg_sender(m), f));
		tr_msg_free(m);
	}
	for (int i = 0; i < 2; i++) {
		tr_ref who;
		tr_reason r;
		uint64_t id;
		m = tl_recv();
		assert_int_equal(tr_msg_reason(m, &who, &r, &id), TR_OK);
		assert_true(tr_ref_equal(who, f));
		assert_int_equal(r.kind, why.kind);
		assert_int_equal(r.code, why.code);
		if (tr_msg_tag(m) == TR_TAG_DOWN) {
			assert_false(down);
			assert_int_equal(id, mon.id);
			down = true;
		} else {
			assert_int_equal(tr_msg_tag(m), TR_TAG_EXIT);
			assert_false(exit);
			exit = true;
		}
		tr_msg_free(m);
	}
	tl_expect_nothing_else();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_TEST(test_monitor_then_stop),
	    TL_TEST(test_monitor_ids_differ),
	    TL_TEST(test_monitor_dead_ref),
	    TL_TEST(test_monitor_bad_args),
	    TL_TEST(test_demonitor_then_stop),
	    TL_TEST(test_demonitor_twice),
	    TL_TEST(test_demonitor_keeps_queued_down),
	    TL_TEST(test_link_main_error_exit),
	    TL_TEST(test_link_main_normal_exit),
	    TL_TEST(test_link_chain_propagates),
	    TL_TEST(test_normal_exit_does_not_propagate),
	    TL_TEST(test_shutdown_propagates),
	    TL_TEST(test_custom_reason_propagates_from_stop),
	    TL_TEST(test_kill_propagates),
	    TL_TEST(test_trapping_actor_gets_exit),
	    TL_TEST(test_trap_exits_inside_actor),
	    TL_TEST(test_trap_exits_main),
	    TL_TEST(test_links_from_foreign_thread),
	    TL_TEST(test_link_dead_ref),
	    TL_TEST(test_link_self),
	    TL_TEST(test_unlink_stops_propagation),
	    TL_TEST(test_unlink_from_the_other_side),
	    TL_TEST(test_spec_link_crash_after_start),
	    TL_TEST(test_spec_link_stop),
	    TL_TEST(test_notices_pass_full_mailbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
