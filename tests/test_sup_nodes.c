/*
 * test_sup_nodes.c -- supervised children placed on nodes of a cluster
 * (tr_child_spec.nodes, start.node): which node each start picks, what
 * a start that finds none up does to the restart rules, the backoff
 * such children get by default, and what the supervisor reports of
 * where each runs.
 *
 * No cluster is made here.  The supervisor asks a probe which name is
 * this node's and which nodes are up; the cases that need answers a
 * node alone cannot give replace it with a script (trs_node_probe_set,
 * a test hook), in which "me" is this node, "db-*" are up or down as
 * the case says, "nosup-*" answer TR_ENOTSUP and anything else is
 * unknown.  The children the supervisor then starts are real: "me"
 * starts them here, under each placement of the suite.  A node said to
 * be up cannot be reached for real (there is none), so a start there
 * fails -- which is what the failover case wants.  The cases without
 * the script hold for a node in no cluster whatever the sessions do.
 *
 * Time is measured only where it is what is tested (the default
 * backoff), from the children's own time stamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <troupe.h>

#include "sup_nodes.h"
#include "sup_spec.h"
#include "sup_test.h"

/* ------------------------------------------------------------------ */
/* The script                                                          */

static atomic_bool me_is_self; /* "me" names this node */
static atomic_bool db_up;      /* "db-*" answer TR_OK, else TR_ENOCONN */
static atomic_int lookups;     /* tr_node_lookup calls it took */

static bool
script_is_self(const char *node)
{
	return atomic_load(&me_is_self) && strcmp(node, "me") == 0;
}

static int
script_lookup(const char *node, uint32_t *id)
{
	atomic_fetch_add(&lookups, 1);
	if (strncmp(node, "db-", 3) == 0) {
		*id = 0xdb;
		return atomic_load(&db_up) ? TR_OK : TR_ENOCONN;
	}
	if (strncmp(node, "nosup-", 6) == 0) {
		return TR_ENOTSUP;
	}
	return TR_ENOENT;
}

static const trs_node_probe script = {script_is_self, script_lookup};

static int
setup(void **state)
{
	atomic_store(&me_is_self, true);
	atomic_store(&db_up, false);
	atomic_store(&lookups, 0);
	return ts_setup(state);
}

static int
teardown(void **state)
{
	trs_node_probe_set(NULL);
	return ts_teardown(state);
}

#define NODES_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Where child id of sup runs, as troupe status hears it. */
static trs_child_where
where_of(tr_ref sup, const char *id)
{
	tr_child_info v[8];
	trs_child_where w[8];
	size_t n = 0;

	ts_watchdog(true);
	assert_int_equal(
	    trs_sup_children_timed(sup, v, w, 8, &n, TR_FOREVER), TR_OK);
	ts_watchdog(false);
	for (size_t i = 0; i < n && i < 8; i++) {
		if (strcmp(v[i].id, id) == 0) {
			return w[i];
		}
	}
	fail_msg("supervisor has no child '%s'", id);
	return w[0];
}

/* ------------------------------------------------------------------ */
/* The pick, alone                                                     */

static const char *
pick(const char *const *nodes, const char *node, int want)
{
	tr_child_spec c;
	const char *got = "unset";

	memset(&c, 0, sizeof(c));
	c.id = "x";
	c.start.behavior = TS_CHILD;
	c.nodes = nodes;
	c.start.node = node;
	assert_int_equal(trs_pick_node(&c, &script, &got), want);
	return got;
}

static void
test_pick(void **state)
{
	(void)state;
	/* The first up, in the list's order; unknown, down and "not in a
	 * cluster" are passed over alike. */
	assert_null(
	    pick((const char *[]){"ghost", "nosup-1", "db-1", "me", NULL}, NULL,
	        TR_OK));
	atomic_store(&db_up, true);
	assert_string_equal(
	    pick((const char *[]){"ghost", "nosup-1", "db-1", "me", NULL}, NULL,
	        TR_OK),
	    "db-1");
	assert_string_equal(
	    pick((const char *[]){"db-2", "me", NULL}, NULL, TR_OK), "db-2");
	/* This node is up whatever the lookups say: NULL, here. */
	assert_null(pick((const char *[]){"me", "db-2", NULL}, NULL, TR_OK));
	atomic_store(&db_up, false);
	assert_null(
	    pick((const char *[]){"db-1", "ghost", "me", NULL}, NULL, TR_OK));
	/* None up. */
	assert_null(
	    pick((const char *[]){"db-1", "ghost", NULL}, NULL, TR_ENOCONN));
	assert_null(
	    pick((const char *[]){"nosup-1", "db-1", NULL}, NULL, TR_ENOCONN));
	/* Every lookup says this node is in no cluster. */
	assert_null(pick(
	    (const char *[]){"nosup-1", "nosup-2", NULL}, NULL, TR_ENOTSUP));
	/* The list overrides start.node. */
	assert_null(pick((const char *[]){"me", NULL}, "db-1", TR_OK));
	/* No list: start.node, unless it is this node's name; tr_spawn
	 * finds out whether it is up. */
	assert_string_equal(pick(NULL, "db-1", TR_OK), "db-1");
	assert_string_equal(pick(NULL, "ghost", TR_OK), "ghost");
	assert_null(pick(NULL, "me", TR_OK));
	assert_null(pick(NULL, NULL, TR_OK));
	/* An empty list: refused (tr_sup_check does it first). */
	assert_null(pick((const char *[]){NULL}, NULL, TR_EINVAL));
}

/* Which children count as remote: they get the default backoff. */
static void
test_remote(void **state)
{
	tr_child_spec c;

	(void)state;
	trs_node_probe_set(&script);
	memset(&c, 0, sizeof(c));
	assert_false(trs_child_remote(&c));
	c.start.node = "me";
	assert_false(trs_child_remote(&c));
	c.start.node = "db-1";
	assert_true(trs_child_remote(&c));
	c.start.node = NULL;
	/* A list may take it elsewhere at any restart, this node in it or
	 * not. */
	c.nodes = (const char *[]){"me", NULL};
	assert_true(trs_child_remote(&c));
}

static void
check_err(const tr_child_spec *k, const char *want)
{
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	char err[256];

	assert_int_equal(tr_sup_check(&s, err, sizeof(err)), TR_EINVAL);
	assert_string_equal(err, want);
}

static void
test_check(void **state)
{
	static const tr_sup_spec inner = {.nchildren = 0};
	char longname[TR_NAME_MAX + 2];
	tr_child_spec k;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.id = "a";
	k.start.behavior = TS_CHILD;
	k.nodes = (const char *[]){NULL};
	check_err(&k, "child 'a': nodes is empty (NULL for none)");
	k.nodes = (const char *[]){"db-1", "", NULL};
	check_err(
	    &k, "child 'a': a node in nodes is empty or longer than 64 bytes");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	k.nodes = (const char *[]){longname, NULL};
	check_err(
	    &k, "child 'a': a node in nodes is empty or longer than 64 bytes");
	k.nodes = (const char *[]){"db-1", "db-1", NULL}; /* harmless */
	{
		tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, &k, 1);
		assert_int_equal(tr_sup_check(&s, NULL, 0), TR_OK);
	}
	/* A supervisor child runs in its supervisor's process. */
	memset(&k, 0, sizeof(k));
	k.id = "sub";
	k.sup = &inner;
	k.nodes = (const char *[]){"db-1", NULL};
	check_err(&k,
	    "child 'sub': a supervisor child runs in its supervisor's "
	    "process: no node or nodes");
	k.nodes = NULL;
	k.start.node = "db-1";
	check_err(&k,
	    "child 'sub': a supervisor child runs in its supervisor's "
	    "process: no node or nodes");
}

/* ------------------------------------------------------------------ */
/* Starting                                                            */

/*
 * A list whose only node up is this one: the child starts here, and
 * again at its restart -- the list looked at each time (its unknown and
 * down nodes asked again) -- after the default backoff, since the
 * supervisor has none.  Its node is this one ("").
 */
static void
test_self_only_up(void **state)
{
	static const char *const nodes[] = {"ghost", "db-1", "me", NULL};
	tr_child_spec k[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	trs_child_where w;
	tr_ref sup, child;
	ts_got g;
	int labels[] = {1};

	(void)state;
	trs_node_probe_set(&script);
	k[0].nodes = nodes;
	sup = ts_start(&s);
	child = ts_expect_started(1);
	assert_int_equal(atomic_load(&lookups), 2);
	w = where_of(sup, "w");
	assert_false(w.unplaced);
	assert_string_equal(w.node, "");

	ts_crash(child, 5);
	ts_gather(&g, 2, 0);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_assert_rep(&g.rep[1], TS_STARTED, 1, TR_REASON_NORMAL);
	/* A timer does not fire early: the restart came after the backoff
	 * at least (the stamps are in ns). */
	assert_true(g.rep[1].ts - g.rep[0].ts >=
	    (uint64_t)TRS_REMOTE_BACKOFF_MS * 1000000u);
	assert_int_equal(atomic_load(&lookups), 4);
	assert_int_equal(ts_info(sup, "w").restarts, 1);
	assert_string_equal(where_of(sup, "w").node, "");
	ts_stop_sup(sup, labels, 1);
}

/* None of the list is up: the start fails with TR_ENOCONN, and a
 * supervisor that needs the child does not start (OTP's
 * failed_to_start_child); a dynamic child is not kept. */
static void
test_none_up(void **state)
{
	static const char *const nodes[] = {"ghost", "db-1", "nosup-1", NULL};
	tr_child_spec k[2] = {
	    ts_child("a", 0, TR_PERMANENT), ts_child("far", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 2);
	tr_reason why = TR_REASON_NORMAL;
	tr_ref sup = TR_REF_NIL, r = TR_REF_NIL;
	char failed[64];
	ts_got g;

	(void)state;
	trs_node_probe_set(&script);
	k[1].nodes = nodes;
	assert_int_equal(
	    tr_sup_start_ex(&s, NULL, true, &sup, &why, failed, sizeof(failed)),
	    TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, TR_ENOCONN);
	assert_string_equal(failed, "far");
	ts_gather(&g, 2, 0); /* a started, and was stopped */
	ts_assert_rep(&g.rep[0], TS_STARTED, 0, TR_REASON_NORMAL);
	ts_assert_rep(&g.rep[1], TS_STOPPED, 0, TR_REASON_SHUTDOWN);
	ts_nothing_else();

	/* Dynamically: refused with the start's error, as any spawn
	 * error; forgotten. */
	s.nchildren = 1;
	sup = ts_start(&s);
	(void)ts_expect_started(0);
	assert_int_equal(tr_sup_start_child(sup, &k[1], &r, NULL), TR_ENOCONN);
	assert_true(tr_ref_is_nil(r));
	{
		tr_child_info ci;
		assert_false(ts_find(sup, "far", &ci));
	}
	ts_stop_sup(sup, (const int[]){0}, 1);
}

/* A node in no cluster (no script: the runtime's own answers): a child
 * that names other nodes cannot start, TR_ENOTSUP. */
static void
test_no_cluster(void **state)
{
	static const char *const nodes[] = {"db-1", "db-2", NULL};
	tr_child_spec k[1] = {ts_child("far", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_reason why = TR_REASON_NORMAL;
	tr_ref sup = TR_REF_NIL;

	(void)state;
	k[0].nodes = nodes;
	assert_int_equal(tr_sup_start(&s, NULL, true, &sup, &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, TR_ENOTSUP);
	k[0].nodes = NULL;
	k[0].start.node = "db-1";
	why = TR_REASON_NORMAL;
	assert_int_equal(tr_sup_start(&s, NULL, true, &sup, &why), TR_EINIT);
	assert_int_equal(why.code, TR_ENOTSUP);
	ts_nothing_else();
}

/*
 * A restart that finds no node up is a failed start, as in OTP: it is
 * tried again (after its backoff) and every attempt counts against the
 * intensity, until the supervisor gives up.  The script takes this
 * node out of the child's list after the first start.
 */
static void
test_failed_restarts_counted(void **state)
{
	static const char *const nodes[] = {"me", NULL};
	tr_child_spec k[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	tr_ref sup, child;
	ts_got g;

	(void)state;
	trs_node_probe_set(&script);
	k[0].nodes = nodes;
	s.intensity = 2;
	s.period_ms = 60000;
	s.backoff_initial_ms = 10; /* the supervisor's own: it wins */
	s.backoff_max_ms = 40;
	sup = ts_start(&s);
	child = ts_expect_started(1);
	assert_int_equal(atomic_load(&lookups), 0);

	atomic_store(&me_is_self, false);
	ts_crash(child, 5);
	ts_gather(&g, 1, 1);
	ts_assert_rep(&g.rep[0], TS_STOPPED, 1, TR_REASON(TR_EXIT_ERROR, 5));
	ts_got_notice(
	    &g, TR_TAG_EXIT, sup, TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
	ts_got_free(&g);
	/* Two attempts, each one lookup; the third was one too many, and
	 * made none. */
	assert_int_equal(atomic_load(&lookups), 2);
	ts_nothing_else();
	assert_false(tr_alive(sup));
}

/*
 * Failover and back: a child runs here while its first node is down;
 * when that node is up, the restart goes there (and fails: no node is
 * there for real) and the child is shown on it, restarting; when it is
 * down again, the next attempt takes this node and the child runs here
 * again.
 */
static void
test_failover(void **state)
{
	static const char *const nodes[] = {"db-1", "me", NULL};
	tr_child_spec k[1] = {ts_child("w", 1, TR_PERMANENT)};
	tr_sup_spec s = ts_sup(TR_ONE_FOR_ONE, k, 1);
	double end;
	tr_ref sup, child;
	int labels[] = {1};

	(void)state;
	trs_node_probe_set(&script);
	k[0].nodes = nodes;
	s.intensity = 1000;
	s.period_ms = 60000;
	s.backoff_initial_ms = 10;
	s.backoff_max_ms = 20;
	sup = ts_start(&s);
	child = ts_expect_started(1);
	assert_string_equal(where_of(sup, "w").node, "");

	atomic_store(&db_up, true);
	ts_crash(child, 5);
	ts_expect_stopped(1, TR_REASON(TR_EXIT_ERROR, 5));
	/* Until its attempts go to db-1: asked, not slept on. */
	for (end = ts_ms() + TL_WAIT;;) {
		trs_child_where w = where_of(sup, "w");
		if (strcmp(w.node, "db-1") == 0) {
			break;
		}
		assert_true(ts_ms() < end);
	}
	{
		tr_child_info ci = ts_info(sup, "w");
		assert_int_equal(ci.state, TR_CHILD_RESTARTING);
		assert_true(tr_ref_is_nil(ci.ref));
	}
	atomic_store(&db_up, false);
	child = ts_expect_started(1);
	assert_false(tr_ref_is_nil(child));
	assert_string_equal(where_of(sup, "w").node, "");
	assert_int_equal(ts_info(sup, "w").state, TR_CHILD_RUNNING);
	ts_stop_sup(sup, labels, 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    NODES_TEST(test_pick),
	    NODES_TEST(test_remote),
	    NODES_TEST(test_check),
	    NODES_TEST(test_self_only_up),
	    NODES_TEST(test_none_up),
	    NODES_TEST(test_no_cluster),
	    NODES_TEST(test_failed_restarts_counted),
	    NODES_TEST(test_failover),
	};

	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
