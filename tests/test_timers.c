/*
 * test_timers.c -- delayed sends: tr_send_after() and tr_timer_cancel().
 *
 * Timers are waited for with tr_recv, never with a sleep.  "Never
 * arrives" is shown with a later marker timer: timers fire in the order
 * of their deadlines, so once the marker came, an earlier one would have
 * come before it.  Delays are measured with clock_gettime.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <troupe.h>

#include "behaviors_proc.h"
#include "life_test.h"

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
send_after(tr_ref to, tr_msg *m, int delay_ms, tr_timer *t)
{
	assert_int_equal(tr_send_after(to, m, delay_ms, t), TR_OK);
}

static void
test_send_after_bad_args(void **state)
{
	tr_msg *m = tl_msg_int(TL_MARK, 1);
	tr_timer t = {12345};
	tr_msg *two;

	(void)state;
	assert_int_equal(tr_send_after(tr_self(), NULL, 10, &t), TR_EINVAL);
	assert_int_equal(tr_send_after(TR_REF_NIL, m, 10, &t), TR_EINVAL);
	assert_int_equal(tr_send_after(tr_self(), m, -1, &t), TR_EINVAL);
	assert_int_equal(tr_send_after(tr_self(), m, -1000, NULL), TR_EINVAL);
	/* Still ours, intact. */
	assert_int_equal(tr_msg_tag(m), TL_MARK);
	assert_int_equal(tl_body_int(m), 1);
	tr_msg_free(m);

	/* A body that is not one msgpack value. */
	two = tl_msg(TL_MARK);
	msgpack_pack_int(tr_msg_packer(two), 1);
	msgpack_pack_int(tr_msg_packer(two), 2);
	assert_int_equal(tr_send_after(tr_self(), two, 10, NULL), TR_EPROTO);
	tr_msg_free(two);

	/* Nothing was scheduled. */
	assert_int_equal(tr_timer_cancel((tr_timer){0}), TR_ENOENT);
	assert_int_equal(tr_timer_cancel((tr_timer){987654321}), TR_ENOENT);
	tl_expect_nothing_else();
}

static void
test_send_after_dead_ref(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_msg *m = tl_msg_int(TL_MARK, 2);
	tr_stats s0, s1;

	(void)state;
	tl_stop_wait(w, TR_REASON_NORMAL);
	s0 = tl_stats();
	assert_int_equal(tr_send_after(w, m, 10, NULL), TR_ENOPROC);
	/* Still ours: read it, then free it (ASan checks both). */
	assert_int_equal(tr_msg_tag(m), TL_MARK);
	assert_int_equal(tl_body_int(m), 2);
	tr_msg_free(m);
	s1 = tl_stats();
	assert_int_equal(s1.dead_letters, s0.dead_letters);
}

static void
test_send_after_delay(void **state)
{
	static const int delays[] = {0, 1, 20, 150};

	(void)state;
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		int64_t t0 = now_ns(), dt;
		tr_timer t = {0};
		tr_msg *m;

		send_after(
		    tr_self(), tl_msg_int(TL_MARK, delays[i]), delays[i], &t);
		assert_true(t.id != 0);
		m = tl_expect(TL_MARK);
		dt = now_ns() - t0;
		assert_int_equal(tl_body_int(m), delays[i]);
		/* Sent by us, as if we had sent it then. */
		assert_true(tr_ref_equal(tr_msg_sender(m), tr_self()));
		tr_msg_free(m);
		if (dt < (int64_t)delays[i] * 1000000) {
			print_error("delay %d ms: arrived after %lld ns\n",
			    delays[i], (long long)dt);
		}
		assert_true(dt >= (int64_t)delays[i] * 1000000);
		assert_true(dt < ((int64_t)delays[i] + 2000) * 1000000);
		/* Fired: nothing left to cancel. */
		assert_int_equal(tr_timer_cancel(t), TR_ENOENT);
	}
}

static void
test_send_after_to_actor(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_msg *m;

	(void)state;
	/* The actor answers a TL_PING timer to the timer's sender: us. */
	send_after(w, tl_msg_int(TL_PING, 31), 5, NULL);
	m = tl_expect(TL_PONG);
	assert_int_equal(tl_body_int(m), 31);
	assert_true(tr_ref_equal(tr_msg_sender(m), w));
	tr_msg_free(m);
}

static void
test_send_after_order(void **state)
{
	static const int delays[] = {120, 10, 60, 0, 30, 90};
	static const int order[] = {0, 10, 30, 60, 90, 120};

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		send_after(
		    tr_self(), tl_msg_int(TL_MARK, delays[i]), delays[i], NULL);
	}
	for (size_t i = 0; i < 6; i++) {
		tr_msg *m = tl_expect(TL_MARK);
		assert_int_equal(tl_body_int(m), order[i]);
		tr_msg_free(m);
	}
	tl_expect_nothing_else();
}

static void
test_timer_cancel(void **state)
{
	tr_timer t = {0}, mark = {0};
	tr_msg *m;

	(void)state;
	send_after(tr_self(), tl_msg_int(TL_MARK, 1), 500, &t);
	send_after(tr_self(), tl_msg_int(TL_MARK, 2), 600, &mark);
	assert_true(t.id != mark.id);
	assert_int_equal(tr_timer_cancel(t), TR_OK);
	assert_int_equal(tr_timer_cancel(t), TR_ENOENT);
	/* The marker, due after the canceled one, comes alone. */
	m = tl_expect(TL_MARK);
	assert_int_equal(tl_body_int(m), 2);
	tr_msg_free(m);
	tl_expect_nothing_else();
	assert_int_equal(tr_timer_cancel(mark), TR_ENOENT);
	assert_int_equal(tr_timer_cancel(t), TR_ENOENT);
}

static void
test_timer_cancel_after_fired(void **state)
{
	tr_timer t = {0};

	(void)state;
	send_after(tr_self(), tl_msg_int(TL_MARK, 0), 0, &t);
	tr_msg_free(tl_expect(TL_MARK));
	assert_int_equal(tr_timer_cancel(t), TR_ENOENT);
	assert_int_equal(tr_timer_cancel(t), TR_ENOENT);
}

static void
test_timer_target_died(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_stats s0, s1;

	(void)state;
	s0 = tl_stats();
	send_after(w, tl_msg(TL_USER), 300, NULL);
	send_after(tr_self(), tl_msg_int(TL_MARK, 1), 400, NULL);
	tl_stop_wait(w, TR_REASON_NORMAL);
	/* The marker fires after the timer to the dead actor did. */
	tr_msg_free(tl_expect(TL_MARK));
	s1 = tl_stats();
	assert_int_equal(s1.dead_letters - s0.dead_letters, 1);
}

static void
test_timers_pending_at_shutdown(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_timer t = {0};
	tr_stats s0, s1;

	(void)state;
	s0 = tl_stats();
	send_after(tr_self(), tl_msg_int(TL_MARK, 1), 60000, &t);
	send_after(tr_self(), tl_msg_int(TL_MARK, 2), 60000, NULL);
	send_after(w, tl_msg_int(TL_MARK, 3), 60000, NULL);
	assert_int_equal(tr_shutdown(), TR_OK);
	/* Freed (ASan) and counted; the runtime's counters outlive it. */
	s1 = tl_stats();
	assert_int_equal(s1.dead_letters - s0.dead_letters, 3);
	assert_int_equal(tr_timer_cancel(t), TR_ECLOSED);
	assert_int_equal(tr_init(NULL), TR_OK);
	/* A new runtime knows nothing of the old timers. */
	assert_int_equal(tr_timer_cancel(t), TR_ENOENT);
}

/*
 * A timer cannot wait: at expiry its message goes even into a full
 * mailbox.  Ours (capacity 2) is filled and left full until after the
 * timer fired: meanwhile we wait in a call to an actor that answers on
 * a second timer, due after ours (timers fire in deadline order).
 */
static void
test_timer_into_full_mailbox(void **state)
{
	tr_options opts = {.mailbox_capacity = 2};
	tr_stats s0, s1;
	tr_ref w;
	tr_msg *m;

	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_init(&opts), TR_OK);
	w = tl_spawn(NULL);
	s0 = tl_stats();
	for (int i = 0; i < 2; i++) {
		tl_send(tr_self(), tl_msg_int(TL_FILLER, i));
	}
	m = tl_msg(TL_FILLER);
	assert_int_equal(tr_send_timed(tr_self(), m, TR_NOWAIT), TR_EFULL);
	tr_msg_free(m);

	send_after(tr_self(), tl_msg_int(TL_MARK, 7), 20, NULL);
	send_after(w, tl_msg(TL_TICK), 60, NULL);
	assert_int_equal(tl_call_rv(w, tl_msg(TL_WAIT_TICK)), 0);

	for (int i = 0; i < 2; i++) {
		m = tl_expect(TL_FILLER);
		assert_int_equal(tl_body_int(m), i);
		tr_msg_free(m);
	}
	m = tl_expect(TL_MARK);
	assert_int_equal(tl_body_int(m), 7);
	tr_msg_free(m);
	s1 = tl_stats();
	assert_int_equal(s1.dead_letters, s0.dead_letters);
	tl_expect_nothing_else();
}

static void
test_many_timers_leak_free(void **state)
{
	tr_timer t[64];

	(void)state;
	/* Half canceled, half left for shutdown (teardown): ASan sees
	 * every message freed. */
	for (int i = 0; i < 64; i++) {
		send_after(tr_self(), tl_msg_int(TL_MARK, i), 30000 + i, &t[i]);
	}
	for (int i = 0; i < 64; i += 2) {
		assert_int_equal(tr_timer_cancel(t[i]), TR_OK);
	}
	for (int i = 0; i < 64; i += 2) {
		assert_int_equal(tr_timer_cancel(t[i]), TR_ENOENT);
	}
}

static uint32_t
timers_of(tr_ref r)
{
	tr_actor_info info;

	assert_int_equal(tr_actor_info_get(r, &info), TR_OK);
	return info.timers;
}

/* The backlog once invisible. */
#define BACKLOG 50000

/*
 * Delayed sends bypass the receiver's capacity: what is still to come
 * is counted where it will arrive (tr_actor_info's timers), wherever
 * the receiver runs; a canceled timer, and one that fired, no longer
 * are -- the latter already when its message can be received.
 */
static void
test_timers_pending_counted(void **state)
{
	tr_ref w = tl_spawn(NULL);
	tr_timer first = {0};

	(void)state;
	assert_int_equal(timers_of(w), 0);
	assert_int_equal(timers_of(tr_self()), 0);
	for (int i = 0; i < BACKLOG; i++) {
		send_after(
		    w, tl_msg_int(TL_FILLER, i), 60000, i == 0 ? &first : NULL);
	}
	assert_int_equal(timers_of(w), BACKLOG);
	assert_int_equal(tr_timer_cancel(first), TR_OK);
	assert_int_equal(timers_of(w), BACKLOG - 1);

	for (int i = 0; i < 3; i++) {
		send_after(tr_self(), tl_msg_int(TL_MARK, i), 200, NULL);
	}
	assert_int_equal(timers_of(tr_self()), 3);
	for (int i = 0; i < 3; i++) {
		tr_msg_free(tl_expect(TL_MARK));
	}
	assert_int_equal(timers_of(tr_self()), 0);
	assert_int_equal(timers_of(w), BACKLOG - 1);
	/* The rest are dropped at shutdown (teardown). */
}

/*
 * A process that dies with timers pending for an actor of another
 * process takes them along (they never fire): the node takes them off
 * that actor's count when it learns of the death.
 */
static void
test_timers_of_the_dead_uncounted(void **state)
{
	tr_spec spec = {.behavior = TP_MEMBER, .placement = TR_PLACE_FORK};
	tr_ref member;
	tr_msg *m;
	int64_t armed = -1;
	tr_mon mon;

	(void)state;
	member = tl_spawn_spec(&spec);
	mon = tl_monitor(member);
	m = tl_msg(TP_ARM);
	msgpack_pack_array(tr_msg_packer(m), 3);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), tr_self()), TR_OK);
	msgpack_pack_int64(tr_msg_packer(m), 10);
	msgpack_pack_int64(tr_msg_packer(m), 60000);
	m = tl_call(member, m);
	assert_int_equal(tr_msg_tag(m), TP_RESULT);
	tl_body_ints(m, &armed, 1);
	tr_msg_free(m);
	assert_int_equal(armed, 10);
	assert_int_equal(timers_of(tr_self()), 10);

	assert_int_equal(tr_kill(member), TR_OK);
	tl_expect_down(mon, member, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	assert_int_equal(timers_of(tr_self()), 0);
	tl_expect_nothing_else();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_TEST(test_send_after_bad_args),
	    TL_TEST(test_send_after_dead_ref),
	    TL_TEST(test_send_after_delay),
	    TL_TEST(test_send_after_to_actor),
	    TL_TEST(test_send_after_order),
	    TL_TEST(test_timer_cancel),
	    TL_TEST(test_timer_cancel_after_fired),
	    TL_TEST(test_timer_target_died),
	    TL_TEST(test_timers_pending_at_shutdown),
	    TL_TEST(test_timer_into_full_mailbox),
	    TL_TEST(test_many_timers_leak_free),
	    TL_TEST(test_timers_pending_counted),
	    TL_TEST(test_timers_of_the_dead_uncounted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
