/*
 * test_exit.c -- what the end of a process does to messages.
 *
 *  - A member killed with messages waiting in its mailbox (accepted by
 *    tr_send, never handed to its actor): the root counts them as dead
 *    letters when it learns of the death, exactly as many as were sent
 *    and not handled.
 *  - A member that exits by the book right after sending: everything
 *    it sent is read, in order, before the news of its end.  nng checks
 *    a connection for a hang-up before it reads it, so without the
 *    goodbye (actors/target.c) a receiver dropped the last messages of
 *    about one exit in fifteen here.  The stress repeats the exit
 *    TROUPE_TEST_EXITS times (default a few hundred, a few seconds;
 *    set it to thousands for the long run).
 *
 * The actor is "exit.member" (behaviors_exit.h), in fork members and in
 * exec'd programs (exec_host).  The tests synchronise on messages.
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <troupe.h>

#include "behaviors_exit.h"
#include "life_test.h"

/* Rounds of the exit stress, per placement, unless TROUPE_TEST_EXITS. */
#define FORK_EXITS 200
#define EXEC_EXITS 25
/* Messages a member sends right before it exits. */
#define LAST_WORDS 20

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static tr_spec
member_spec(tr_placement place, tr_msg *arg, bool link)
{
	tr_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = TX_MEMBER;
	spec.placement = place;
	spec.init_arg = arg;
	spec.link = link;
	if (place == TR_PLACE_EXEC) {
		spec.program = test_exec_host();
	}
	return spec;
}

static uint64_t
dead_letters(void)
{
	tr_stats s;

	assert_int_equal(tr_stats_get(&s), TR_OK);
	return s.dead_letters;
}

/* The first message of tag (others are dropped); asserts it comes. */
static tr_msg *
wait_tag(uint32_t tag)
{
	int64_t until = now_ms() + TL_WAIT;

	for (;;) {
		tr_msg *m;
		int64_t left = until - now_ms();
		assert_true(left > 0);
		assert_int_equal(tr_recv(&m, (int)left), TR_OK);
		if (tr_msg_tag(m) == tag) {
			return m;
		}
		tr_msg_free(m);
	}
}

/* ------------------------------------------------------------------ */
/* Killed: what waited in its mailbox is counted                       */

static void
killed_counts_dead_letters(tr_placement place)
{
	enum {
		FILL = 100
	};
	tr_spec spec = member_spec(place, NULL, false);
	msgpack_object o;
	tr_reason why;
	uint64_t before, after;
	tr_ref a, who;
	tr_mon mon;
	tr_msg *m;
	int64_t pid;

	assert_int_equal(tr_spawn(&spec, &a, NULL), TR_OK);
	assert_int_equal(tr_monitor(a, &mon), TR_OK);
	/* Its callback blocks: nothing sent from now on is handled. */
	assert_int_equal(tr_send(a, tl_msg_ref(TX_BLOCK, tr_self())), TR_OK);
	m = wait_tag(TX_BLOCKED);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_true(o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 1 &&
	    test_obj_int(&o.via.array.ptr[0], &pid) && pid > 0);
	tr_msg_free(m);
	for (int i = 0; i < FILL; i++) {
		assert_int_equal(tr_send(a, tl_msg_int(TX_FILL, i)), TR_OK);
	}
	before = dead_letters();
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	/* The root counts before it announces the death. */
	m = wait_tag(TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(m, &who, &why, NULL), TR_OK);
	assert_true(tr_ref_equal(who, a));
	assert_int_equal(why.kind, TR_EXIT_SIGNAL);
	assert_int_equal(why.code, SIGKILL);
	tr_msg_free(m);
	after = dead_letters();
	/* Sent FILL + 1, handled 1 (TX_BLOCK): FILL dead letters. */
	print_message("dead letters: %llu -> %llu\n",
	    (unsigned long long)before, (unsigned long long)after);
	assert_int_equal(after - before, FILL);
}

static void
test_fork_killed_counts_dead_letters(void **state)
{
	(void)state;
	killed_counts_dead_letters(TR_PLACE_FORK);
}

static void
test_exec_killed_counts_dead_letters(void **state)
{
	(void)state;
	killed_counts_dead_letters(TR_PLACE_EXEC);
}

/* A member killed with nothing waiting adds nothing. */
static void
test_killed_idle_counts_nothing(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK, NULL, false);
	tr_ref a;
	tr_mon mon;
	tr_msg *m;
	msgpack_object o;
	uint64_t before;
	int64_t pid;

	(void)state;
	assert_int_equal(tr_spawn(&spec, &a, NULL), TR_OK);
	assert_int_equal(tr_monitor(a, &mon), TR_OK);
	assert_int_equal(tr_send(a, tl_msg_ref(TX_BLOCK, tr_self())), TR_OK);
	m = wait_tag(TX_BLOCKED);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_true(test_obj_int(&o.via.array.ptr[0], &pid));
	tr_msg_free(m);
	before = dead_letters();
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	tr_msg_free(wait_tag(TR_TAG_DOWN));
	assert_int_equal(dead_letters(), before);
}

/*
 * A member that ends by the book with messages waiting: it counts them
 * itself, and the root adds its count to its own when the process ends.
 * The root's news of the process's end (the DOWN of a monitor on the
 * process's main context, which says nothing itself) comes after.
 */
static void
test_fork_exit_counts_its_dead_letters(void **state)
{
	enum {
		FILL = 100
	};
	tr_spec spec = member_spec(TR_PLACE_FORK, NULL, false);
	uint64_t before;
	tr_ref a, main_ref, who;
	tr_mon mon;
	int accepted = 0;

	(void)state;
	assert_int_equal(tr_spawn(&spec, &a, NULL), TR_OK);
	/* Every process's main context is its first: slot 1, gen 1. */
	main_ref = (tr_ref){a.node, a.proc, 1, 1};
	assert_int_equal(tr_monitor(main_ref, &mon), TR_OK);
	before = dead_letters();
	/* It ends 200 ms into TX_QUIT; whatever was accepted by then stays
	 * unhandled (later sends fail: they are not counted). */
	assert_int_equal(tr_send(a, tl_msg_int(TX_QUIT, 200)), TR_OK);
	for (int i = 0; i < FILL; i++) {
		tr_msg *m = tl_msg_int(TX_FILL, i);
		if (tr_send(a, m) == TR_OK) {
			accepted++;
		} else {
			tr_msg_free(m);
		}
	}
	{
		tr_msg *m = wait_tag(TR_TAG_DOWN);
		assert_int_equal(tr_msg_reason(m, &who, NULL, NULL), TR_OK);
		assert_true(tr_ref_equal(who, main_ref));
		tr_msg_free(m);
	}
	print_message("%d accepted; dead letters: %llu -> %llu\n", accepted,
	    (unsigned long long)before, (unsigned long long)dead_letters());
	assert_true(accepted > 0);
	assert_int_equal(dead_letters() - before, (uint64_t)accepted);
}

/* ------------------------------------------------------------------ */
/* Exiting by the book: everything it sent is read                     */

/* dflt, or TROUPE_TEST_EXITS / div (exec'd programs start slower). */
static int
rounds(int dflt, int div)
{
	const char *e = getenv("TROUPE_TEST_EXITS");
	int n = e != NULL ? atoi(e) / div : 0;
	return n > 0 ? n : dflt;
}

static void
exits_deliver_everything(tr_placement place, int n)
{
	int64_t t0 = now_ms();
	uint64_t before = dead_letters();

	for (int r = 0; r < n; r++) {
		tr_msg *arg = tl_msg_int(TX_CFG_EMIT, LAST_WORDS);
		tr_spec spec = member_spec(place, arg, true);
		tr_reason why;
		tr_ref a, who;
		int got = 0;

		assert_int_equal(tr_spawn(&spec, &a, NULL), TR_OK);
		tr_msg_free(arg);
		for (;;) {
			tr_msg *m;
			msgpack_object o;
			int64_t i;
			assert_int_equal(tr_recv(&m, TL_WAIT), TR_OK);
			if (tr_msg_tag(m) == TX_DATA) {
				assert_int_equal(tr_msg_body(m, &o), TR_OK);
				assert_true(
				    test_obj_int(&o.via.array.ptr[0], &i));
				assert_int_equal(i, got); /* in order, no gap */
				got++;
			} else if (tr_msg_tag(m) == TR_TAG_EXIT &&
			    tr_ref_equal(tr_msg_sender(m), a)) {
				assert_int_equal(
				    tr_msg_reason(m, &who, &why, NULL), TR_OK);
				tr_msg_free(m);
				break;
			}
			tr_msg_free(m);
		}
		if (got != LAST_WORDS) {
			print_message("round %d: %d of %d messages before the "
			              "exit signal (reason kind %d code %d)\n",
			    r, got, LAST_WORDS, (int)why.kind, (int)why.code);
		}
		assert_int_equal(got, LAST_WORDS);
		assert_int_equal(why.kind, TR_EXIT_ERROR);
		assert_int_equal(why.code, TX_DONE_CODE);
	}
	print_message("%d exits, every message read, in %lld ms\n", n,
	    (long long)(now_ms() - t0));
	assert_int_equal(dead_letters(), before);
}

static void
test_fork_exits_deliver_everything(void **state)
{
	(void)state;
	exits_deliver_everything(TR_PLACE_FORK, rounds(FORK_EXITS, 1));
}

static void
test_exec_exits_deliver_everything(void **state)
{
	(void)state;
	exits_deliver_everything(TR_PLACE_EXEC, rounds(EXEC_EXITS, 8));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_TEST(test_fork_killed_counts_dead_letters),
	    TL_TEST(test_exec_killed_counts_dead_letters),
	    TL_TEST(test_killed_idle_counts_nothing),
	    TL_TEST(test_fork_exit_counts_its_dead_letters),
	    TL_TEST(test_fork_exits_deliver_everything),
	    TL_TEST(test_exec_exits_deliver_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
