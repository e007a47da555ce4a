/*
 * test_names.c -- registered names, as Erlang's register/whereis: one
 * name, one actor, one name per actor, released when the actor ends;
 * and spec.name, which registers the name before init runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <troupe.h>

#include "life_test.h"

static char longname[TR_NAME_MAX + 2];
static char maxname[TR_NAME_MAX + 1];

static void
make_names(void)
{
	memset(longname, 'l', sizeof(longname) - 1); /* TR_NAME_MAX + 1 */
	longname[sizeof(longname) - 1] = '\0';
	memset(maxname, 'm', sizeof(maxname) - 1); /* exactly TR_NAME_MAX */
	maxname[sizeof(maxname) - 1] = '\0';
}

static void
test_register_bad_args(void **state)
{
	tr_ref w = tl_spawn(NULL), found;

	(void)state;
	make_names();
	assert_int_equal(tr_register(NULL, w), TR_EINVAL);
	assert_int_equal(tr_register("", w), TR_EINVAL);
	assert_int_equal(tr_register(longname, w), TR_EINVAL);
	/* None of them took: the actor may still be named. */
	assert_int_equal(tr_register(maxname, w), TR_OK);
	assert_int_equal(tr_whereis(maxname, &found), TR_OK);
	assert_true(tr_ref_equal(found, w));
}

static void
test_whereis_bad_args(void **state)
{
	tr_ref found;

	(void)state;
	make_names();
	assert_int_equal(tr_whereis(NULL, &found), TR_EINVAL);
	assert_int_equal(tr_whereis("", &found), TR_EINVAL);
	assert_int_equal(tr_whereis(longname, &found), TR_EINVAL);
	assert_int_equal(tr_whereis("life.anything", NULL), TR_EINVAL);
}

static void
test_unregister_bad_args(void **state)
{
	(void)state;
	make_names();
	assert_int_equal(tr_unregister(NULL), TR_EINVAL);
	assert_int_equal(tr_unregister(""), TR_EINVAL);
	assert_int_equal(tr_unregister(longname), TR_EINVAL);
}

static void
test_register_dead_ref(void **state)
{
	tr_ref w = tl_spawn(NULL), found;

	(void)state;
	tl_stop_wait(w, TR_REASON_NORMAL);
	assert_int_equal(tr_register("life.dead", w), TR_ENOPROC);
	assert_int_equal(tr_whereis("life.dead", &found), TR_ENOENT);
	/* Nor does a new actor in the same slot answer for the old ref. */
	(void)tl_spawn(NULL);
	assert_int_equal(tr_register("life.dead", w), TR_ENOPROC);
	assert_int_equal(tr_whereis("life.dead", &found), TR_ENOENT);
}

static void
test_register_duplicate(void **state)
{
	tr_ref a = tl_spawn(NULL), b = tl_spawn(NULL), found;

	(void)state;
	assert_int_equal(tr_register("life.dup", a), TR_OK);
	assert_int_equal(tr_register("life.dup", b), TR_EEXIST);
	/* Again for the same actor: still taken. */
	assert_int_equal(tr_register("life.dup", a), TR_EEXIST);
	assert_int_equal(tr_whereis("life.dup", &found), TR_OK);
	assert_true(tr_ref_equal(found, a));
	/* b is still free to take another name. */
	assert_int_equal(tr_register("life.dup2", b), TR_OK);
}

static void
test_register_second_name(void **state)
{
	tr_ref a = tl_spawn(NULL), found;
	tr_actor_info info;

	(void)state;
	assert_int_equal(tr_register("life.first", a), TR_OK);
	assert_int_equal(tr_register("life.second", a), TR_EEXIST);
	assert_int_equal(tr_whereis("life.second", &found), TR_ENOENT);
	assert_int_equal(tr_actor_info_get(a, &info), TR_OK);
	assert_string_equal(info.name, "life.first");
	/* Once unregistered, it may take another. */
	assert_int_equal(tr_unregister("life.first"), TR_OK);
	assert_int_equal(tr_actor_info_get(a, &info), TR_OK);
	assert_string_equal(info.name, "");
	assert_int_equal(tr_register("life.second", a), TR_OK);
	assert_int_equal(tr_whereis("life.second", &found), TR_OK);
	assert_true(tr_ref_equal(found, a));
}

static void
test_whereis_unknown(void **state)
{
	tr_ref found = TR_REF_NIL;

	(void)state;
	assert_int_equal(tr_whereis("life.nobody", &found), TR_ENOENT);
	assert_true(tr_ref_is_nil(found));
}

static void
test_unregister_unknown(void **state)
{
	tr_ref a = tl_spawn(NULL), found;

	(void)state;
	assert_int_equal(tr_unregister("life.nobody"), TR_ENOENT);
	assert_int_equal(tr_register("life.once", a), TR_OK);
	assert_int_equal(tr_unregister("life.once"), TR_OK);
	assert_int_equal(tr_unregister("life.once"), TR_ENOENT);
	assert_int_equal(tr_whereis("life.once", &found), TR_ENOENT);
	/* The actor itself is not touched. */
	assert_true(tr_alive(a));
}

static void
test_name_released_on_death(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .name = "life.reused"};
	tr_ref a = tl_spawn(NULL), b, found;
	tr_mon mon = tl_monitor(a);

	(void)state;
	assert_int_equal(tr_register("life.reused", a), TR_OK);
	tl_send(a, tl_msg_int(TL_FAIL, 3));
	tl_expect_down(mon, a, TR_REASON(TR_EXIT_ERROR, 3));
	/* Released by the time the DOWN is out. */
	assert_int_equal(tr_whereis("life.reused", &found), TR_ENOENT);
	assert_int_equal(tr_unregister("life.reused"), TR_ENOENT);
	b = tl_spawn_spec(&spec);
	assert_int_equal(tr_whereis("life.reused", &found), TR_OK);
	assert_true(tr_ref_equal(found, b));
	assert_false(tr_ref_equal(found, a));

	/* And through spec.name the same way. */
	tl_stop_wait(b, TR_REASON_SHUTDOWN);
	assert_int_equal(tr_whereis("life.reused", &found), TR_ENOENT);
	assert_int_equal(tr_register("life.reused", tr_self()), TR_OK);
	assert_int_equal(tr_whereis("life.reused", &found), TR_OK);
	assert_true(tr_ref_equal(found, tr_self()));
}

static void
test_spec_name_before_init(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .name = "life.early"};
	tr_msg *cfg = tl_cfg(TR_REF_NIL, 0, "life.early", 0);
	int64_t res[2] = {-1, -1};
	tr_ref w, found;

	(void)state;
	spec.init_arg = cfg;
	w = tl_spawn_spec(&spec);
	tr_msg_free(cfg);
	/* In init, tr_whereis() found the actor itself. */
	tl_call_ints(w, tl_msg(TL_WHEREIS), res, 2);
	assert_int_equal(res[0], TR_OK);
	assert_int_equal(res[1], 1);
	assert_int_equal(tr_whereis("life.early", &found), TR_OK);
	assert_true(tr_ref_equal(found, w));
}

static void
test_spec_name_taken_by_main(void **state)
{
	tr_spec spec = {.behavior = TL_WORKER, .name = "life.mine"};
	tr_ref r = TR_REF_NIL, found;

	(void)state;
	assert_int_equal(tr_register("life.mine", tr_self()), TR_OK);
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_EEXIST);
	assert_int_equal(tr_whereis("life.mine", &found), TR_OK);
	assert_true(tr_ref_equal(found, tr_self()));
}

static void
test_names_gone_after_shutdown(void **state)
{
	tr_ref w = tl_spawn(NULL), found;

	(void)state;
	assert_int_equal(tr_register("life.survivor", w), TR_OK);
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_whereis("life.survivor", &found), TR_ECLOSED);
	assert_int_equal(tr_register("life.survivor", w), TR_ECLOSED);
	assert_int_equal(tr_unregister("life.survivor"), TR_ECLOSED);
	assert_int_equal(tr_init(NULL), TR_OK);
	assert_int_equal(tr_whereis("life.survivor", &found), TR_ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_TEST(test_register_bad_args),
	    TL_TEST(test_whereis_bad_args),
	    TL_TEST(test_unregister_bad_args),
	    TL_TEST(test_register_dead_ref),
	    TL_TEST(test_register_duplicate),
	    TL_TEST(test_register_second_name),
	    TL_TEST(test_whereis_unknown),
	    TL_TEST(test_unregister_unknown),
	    TL_TEST(test_name_released_on_death),
	    TL_TEST(test_spec_name_before_init),
	    TL_TEST(test_spec_name_taken_by_main),
	    TL_TEST(test_names_gone_after_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
