/*
 * test_node_stop.c -- tr_shutdown and the root's node service: a
 * member's end that is still being announced when the root shuts down.
 * The announcement tells the root's contexts first (a DOWN), then its
 * schedulers; a caller that had the DOWN can be in tr_shutdown while
 * the service's thread has yet to reach the schedulers, which must
 * still be there then (they once were freed under it: a SIGSEGV in
 * tri_sched_broadcast, seen as test_supervisor's silent exit 255).
 * Internal: linked with the whole static library for its hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <troupe.h>

#include "process.h"
#include "runtime.h"
#include "scheduler.h"

static int
idle_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

static const tr_behavior idle = {"ns.idle", 0, NULL, idle_handle, NULL};

static atomic_int scheds_left = -1;

/* On the service's thread, between the contexts and the schedulers:
 * waits, up to a second, for the schedulers to be gone, as they were
 * when tr_shutdown stopped them before the service; then says how many
 * are left. */
static void
hold_announcement(void)
{
	uint64_t until = tri_now_ms() + 1000;

	while (tri_sched_count() > 0 && tri_now_ms() < until) {
		struct timespec ms = {0, 1000000L};
		nanosleep(&ms, NULL);
	}
	atomic_store(&scheds_left, (int)tri_sched_count());
}

static void
test_shutdown_during_announcement(void **state)
{
	tr_spec spec;
	tr_ref sched, member;
	tr_mon mon;
	tr_msg *m = NULL;

	(void)state;
	assert_int_equal(tr_init(NULL), TR_OK);
	memset(&spec, 0, sizeof(spec));
	spec.behavior = idle.name;
	spec.placement = TR_PLACE_SCHEDULED; /* the schedulers exist */
	assert_int_equal(tr_spawn(&spec, &sched, NULL), TR_OK);
	spec.placement = TR_PLACE_FORK;
	assert_int_equal(tr_spawn(&spec, &member, NULL), TR_OK);
	assert_int_equal(tr_monitor(member, &mon), TR_OK);

	tri_node_test_hook_announce(hold_announcement);
	assert_int_equal(tr_kill(member), TR_OK);
	assert_int_equal(tr_recv(&m, 10000), TR_OK);
	assert_int_equal(tr_msg_tag(m), TR_TAG_DOWN);
	tr_msg_free(m);
	/* The announcement that brought the DOWN is held. */
	assert_int_equal(tr_shutdown(), TR_OK);
	tri_node_test_hook_announce(NULL);
	assert_true(atomic_load(&scheds_left) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shutdown_during_announcement),
	};

	/* Before tr_init: fork members get the behaviors registered when
	 * the fork server was made. */
	if (tr_behavior_register(&idle) != TR_OK) {
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
