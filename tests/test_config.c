/*
 * test_config.c -- supervision trees from YAML files (tr_tree_load).
 *
 * The fixtures are in tests/configs/, whose path meson passes as the
 * first argument; the test works from there, so that file names in the
 * error texts are the fixtures' own.  Good files are checked field by
 * field against the spec they must give; bad files against the exact
 * text of every error, position included.  The plugins (plugin_demo.c)
 * and the configs that name them are in the build directory, the
 * second argument.  The error paths are also swept one allocation at a
 * time: each must end in TR_ENOMEM with nothing left behind, or in the
 * same result as without the failure.
 */
#define _GNU_SOURCE /* sched_setaffinity, CPU_* */
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <msgpack.h>
#include <troupe.h>

#include "alloc.h"

static const char *configs;  /* tests/configs in the source tree */
static const char *builddir; /* tests/ in the build tree */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static int
ignore(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

/* The behaviors the good files name. */
static void
register_behaviors(void)
{
	static const char *const names[] = {"ticker", "worker"};

	for (size_t i = 0; i < 2; i++) {
		tr_behavior b = {.name = names[i], .handle = ignore};
		int rv = tr_behavior_register(&b);
		assert_true(rv == TR_OK || rv == TR_EEXIST);
	}
}

static tr_tree *
load_ok(const char *file)
{
	tr_tree *t = NULL;
	char *errors = NULL;
	int rv = tr_tree_load(file, &t, &errors);

	if (rv != TR_OK) {
		print_error("%s: %s\n%s", file, tr_strerror(rv),
		    errors != NULL ? errors : "");
	}
	assert_int_equal(rv, TR_OK);
	assert_non_null(t);
	assert_null(errors);
	assert_non_null(tr_tree_spec(t));
	return t;
}

static void
assert_str(const char *got, const char *want)
{
	if (want == NULL) {
		assert_null(got);
	} else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* A NULL-terminated array against a NULL-terminated list. */
static void
assert_strv(const char *const *got, const char *const *want)
{
	size_t i = 0;

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	for (; want[i] != NULL; i++) {
		assert_str(got[i], want[i]);
	}
	assert_null(got[i]);
}

/* Child i of s, which must have this id. */
static const tr_child_spec *
child(const tr_sup_spec *s, size_t i, const char *id)
{
	assert_true(i < s->nchildren);
	assert_str(s->children[i].id, id);
	return &s->children[i];
}

/* An actor child running behavior, every other field at its default. */
static void
assert_plain(const tr_child_spec *c, const char *behavior)
{
	assert_str(c->start.behavior, behavior);
	assert_int_equal(c->start.placement, TR_PLACE_AUTO);
	assert_int_equal(c->start.mailbox_capacity, 0);
	assert_null(c->start.init_arg);
	assert_null(c->start.name);
	assert_false(c->start.isolated);
	assert_false(c->start.trap_exits);
	assert_null(c->start.program);
	assert_null(c->start.argv);
	assert_null(c->start.env);
	assert_null(c->start.cwd);
	assert_null(c->sup);
	assert_int_equal(c->restart, TR_PERMANENT);
	assert_int_equal(c->shutdown_ms, TR_SHUTDOWN_DEFAULT);
	assert_false(c->significant);
}

/* A message's body against what pack() writes. */
static void
assert_body(const tr_msg *m, void (*pack)(msgpack_packer *))
{
	msgpack_sbuffer want;
	msgpack_packer pk;

	assert_non_null(m);
	assert_int_equal(tr_msg_tag(m), 0);
	msgpack_sbuffer_init(&want);
	msgpack_packer_init(&pk, &want, msgpack_sbuffer_write);
	pack(&pk);
	assert_int_equal(tr_msg_size(m), want.size);
	assert_memory_equal(tr_msg_data(m), want.data, want.size);
	msgpack_sbuffer_destroy(&want);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */

static void
test_null_arguments(void **state)
{
	tr_tree *t = (tr_tree *)&t;
	char *errors = (char *)&errors;

	(void)state;
	assert_int_equal(tr_tree_load(NULL, &t, &errors), TR_EINVAL);
	assert_null(t);
	assert_null(errors);
	errors = (char *)&errors;
	assert_int_equal(
	    tr_tree_load("good_full.yaml", NULL, &errors), TR_EINVAL);
	assert_null(errors);
	/* errors may be NULL: the code alone then. */
	assert_int_equal(tr_tree_load("bad_keys.yaml", &t, NULL), TR_EINVAL);
	assert_null(t);
	assert_int_equal(tr_tree_load("good_defaults.yaml", &t, NULL), TR_OK);
	tr_tree_free(t);
	assert_null(tr_tree_spec(NULL));
	assert_null(tr_tree_name(NULL));
	assert_int_equal(tr_tree_options(NULL, &(tr_options){0}), TR_EINVAL);
	assert_int_equal(tr_tree_load("good_defaults.yaml", &t, NULL), TR_OK);
	assert_int_equal(tr_tree_options(t, NULL), TR_EINVAL);
	tr_tree_free(t);
	tr_tree_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Good files                                                          */

static void
pack_clock_init(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	pack_str(pk, "every");
	msgpack_pack_uint64(pk, 250);
	pack_str(pk, "tags");
	msgpack_pack_array(pk, 2);
	pack_str(pk, "a");
	pack_str(pk, "b");
}

static void
test_good_full(void **state)
{
	tr_tree *t = load_ok("good_full.yaml");
	const tr_sup_spec *s = tr_tree_spec(t), *sub;
	const tr_child_spec *c;
	static const char *const argv[] = {
	    "sh", "-c", "echo hi; sleep 1", NULL};
	static const char *const env[] = {"GREETING=hello", "PORT=8080", NULL};

	(void)state;
	assert_string_equal(tr_tree_name(t), "demo");
	assert_int_equal(s->strategy, TR_REST_FOR_ONE);
	assert_int_equal(s->intensity, 3);
	assert_int_equal(s->period_ms, 10000);
	assert_int_equal(s->backoff_initial_ms, 100);
	assert_int_equal(s->backoff_max_ms, 5000);
	assert_int_equal(s->backoff_reset_ms, 20000);
	assert_int_equal(s->auto_shutdown, TR_AUTO_ANY_SIGNIFICANT);
	assert_int_equal(s->nchildren, 5);

	/* instances: 2 -> clock.1 and clock.2, each named after itself. */
	for (size_t i = 0; i < 2; i++) {
		char id[16];
		snprintf(id, sizeof(id), "clock.%zu", i + 1);
		c = child(s, i, id);
		assert_str(c->start.behavior, "ticker");
		assert_int_equal(c->start.placement, TR_PLACE_THREAD);
		assert_int_equal(c->restart, TR_TRANSIENT);
		assert_int_equal(c->shutdown_ms, 2000);
		assert_int_equal(c->start.mailbox_capacity, 64);
		assert_str(c->start.name, id);
		assert_body(c->start.init_arg, pack_clock_init);
		assert_false(c->significant);
		assert_null(c->sup);
		assert_null(c->start.program);
	}
	/* Each copy has its own init message. */
	assert_ptr_not_equal(
	    s->children[0].start.init_arg, s->children[1].start.init_arg);

	c = child(s, 2, "worker");
	assert_str(c->start.behavior, "worker");
	assert_int_equal(c->start.placement, TR_PLACE_FORK);
	assert_true(c->start.isolated);
	assert_true(c->start.trap_exits);
	assert_int_equal(c->start.start_timeout_ms, 3000);
	assert_int_equal(c->restart, TR_TEMPORARY);
	assert_true(c->significant);
	assert_int_equal(c->shutdown_ms, TR_SHUTDOWN_BRUTAL);
	assert_null(c->start.init_arg);
	assert_null(c->start.name);

	c = child(s, 3, "pinger");
	assert_null(c->start.behavior);
	assert_str(c->start.program, "sh");
	assert_strv(c->start.argv, argv);
	assert_strv(c->start.env, env);
	assert_str(c->start.cwd, "/tmp");
	assert_true(c->start.raw_output);
	assert_int_equal(c->start.placement, TR_PLACE_AUTO);
	assert_int_equal(c->shutdown_ms, TR_SHUTDOWN_INFINITY);
	assert_int_equal(c->restart, TR_PERMANENT);

	c = child(s, 4, "sub");
	assert_non_null(sub = c->sup);
	assert_str(c->start.name, "sub");
	assert_null(c->start.behavior);
	assert_int_equal(c->restart, TR_PERMANENT);
	assert_int_equal(c->shutdown_ms, TR_SHUTDOWN_DEFAULT);
	assert_int_equal(sub->strategy, TR_ONE_FOR_ALL);
	assert_int_equal(sub->intensity, 0);
	assert_int_equal(sub->period_ms, 0);
	assert_int_equal(sub->nchildren, 2);
	assert_plain(child(sub, 0, "a"), "worker");
	assert_plain(child(sub, 1, "b"), "worker");

	assert_int_equal(tr_sup_check(s, NULL, 0), TR_OK);
	tr_tree_free(t);
}

/* No name: the file's base name names the tree, wherever it is. */
static void
test_good_defaults(void **state)
{
	char path[PATH_MAX];
	tr_tree *t = load_ok("good_defaults.yaml");
	const tr_sup_spec *s = tr_tree_spec(t);

	(void)state;
	assert_string_equal(tr_tree_name(t), "good_defaults");
	assert_int_equal(s->strategy, TR_ONE_FOR_ONE);
	assert_int_equal(s->intensity, 0); /* OTP's default, 1 */
	assert_int_equal(s->period_ms, 0);
	assert_int_equal(s->backoff_initial_ms, 0);
	assert_int_equal(s->backoff_max_ms, 0);
	assert_int_equal(s->backoff_reset_ms, 0);
	assert_int_equal(s->auto_shutdown, TR_AUTO_NEVER);
	assert_int_equal(s->nchildren, 1);
	assert_plain(child(s, 0, "only"), "worker");
	tr_tree_free(t);

	snprintf(path, sizeof(path), "%s/good_defaults.yaml", configs);
	t = load_ok(path);
	assert_string_equal(tr_tree_name(t), "good_defaults");
	tr_tree_free(t);
}

static void
test_good_empty(void **state)
{
	tr_tree *t = load_ok("good_empty.yaml");

	(void)state;
	assert_string_equal(tr_tree_name(t), "empty");
	assert_int_equal(tr_tree_spec(t)->strategy, TR_ONE_FOR_ALL);
	assert_int_equal(tr_tree_spec(t)->nchildren, 0);
	tr_tree_free(t);
}

static void
test_good_limits(void **state)
{
	tr_tree *t = load_ok("good_limits.yaml");
	const tr_sup_spec *s = tr_tree_spec(t);
	uint32_t cores = tr_cores();
	const tr_child_spec *c;

	(void)state;
	assert_int_equal(s->intensity, TR_NO_RESTARTS); /* intensity: 0 */
	assert_int_equal(s->period_ms, 1);
	assert_int_equal(s->backoff_initial_ms, 0);
	assert_int_equal(s->nchildren, 9 + cores);
	assert_int_equal(child(s, 0, "zero")->shutdown_ms, TR_SHUTDOWN_BRUTAL);
	assert_int_equal(
	    child(s, 1, "brutal")->shutdown_ms, TR_SHUTDOWN_BRUTAL);
	assert_int_equal(
	    child(s, 2, "forever")->shutdown_ms, TR_SHUTDOWN_INFINITY);
	assert_int_equal(child(s, 3, "timed")->shutdown_ms, 1234);
	assert_plain(child(s, 4, "default"), "worker");
	/* instances: 1 is not numbered. */
	c = child(s, 5, "one");
	assert_str(c->start.name, "one");
	for (size_t i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "many.%zu", i + 1);
		c = child(s, 6 + i, id);
		assert_str(c->start.behavior, "worker");
		assert_str(c->start.name, id);
	}
	/* instances: auto is one per core, numbered even for one. */
	for (size_t i = 0; i < cores; i++) {
		char id[32];
		snprintf(id, sizeof(id), "cores.%zu", i + 1);
		assert_plain(child(s, 9 + i, id), "worker");
	}
	tr_tree_free(t);
}

/* instances: auto counts the cores this process may run on, as nproc
 * does, not the cores online: pinned to one, it makes one.  (On a
 * machine with one core the two cannot be told apart.) */
static void
test_auto_affinity(void **state)
{
	cpu_set_t was, one;
	tr_tree *t;
	int cpu = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	while (!CPU_ISSET(cpu, &was)) {
		cpu++;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	t = load_ok("good_limits.yaml");
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
	assert_int_equal(tr_tree_spec(t)->nchildren, 9 + 1);
	assert_plain(child(tr_tree_spec(t), 9, "cores.1"), "worker");
	tr_tree_free(t);
	assert_int_equal(tr_cores(), (uint32_t)CPU_COUNT(&was));
}

static void
pack_scalars(msgpack_packer *pk)
{
	static const char *const strs[] = {
	    "true", "12", "null", "yes", "1_000", "0x", "-0x10", "12abc", ""};

	msgpack_pack_array(pk, 5);
	msgpack_pack_array(pk, 6);
	for (int i = 0; i < 6; i++) {
		if (i < 3) {
			msgpack_pack_true(pk);
		} else {
			msgpack_pack_false(pk);
		}
	}
	msgpack_pack_array(pk, 5);
	for (int i = 0; i < 4; i++) {
		msgpack_pack_nil(pk);
	}
	msgpack_pack_map(pk, 1);
	pack_str(pk, "empty");
	msgpack_pack_nil(pk);
	msgpack_pack_array(pk, 8);
	msgpack_pack_uint64(pk, 0);
	msgpack_pack_uint64(pk, 42);
	msgpack_pack_int64(pk, -17);
	msgpack_pack_uint64(pk, 5);
	msgpack_pack_uint64(pk, 017);
	msgpack_pack_uint64(pk, 0x1f);
	msgpack_pack_uint64(pk, UINT64_MAX);
	msgpack_pack_int64(pk, INT64_MIN);
	msgpack_pack_array(pk, 7);
	msgpack_pack_double(pk, 1.5);
	msgpack_pack_double(pk, -0.25);
	msgpack_pack_double(pk, 1000.0);
	msgpack_pack_double(pk, 0.5);
	msgpack_pack_double(pk, INFINITY);
	msgpack_pack_double(pk, -INFINITY);
	msgpack_pack_double(pk, 2.0);
	msgpack_pack_array(pk, 9);
	for (int i = 0; i < 9; i++) {
		pack_str(pk, strs[i]);
	}
}

static void
pack_nested(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	pack_str(pk, "a");
	msgpack_pack_map(pk, 1);
	pack_str(pk, "b");
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_map(pk, 1);
	pack_str(pk, "c");
	msgpack_pack_nil(pk);
	msgpack_pack_uint64(pk, 7);
	pack_str(pk, "seven");
	msgpack_pack_true(pk);
	pack_str(pk, "yes");
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_uint64(pk, 2);
	pack_str(pk, "pair");
}

static void
pack_point(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	pack_str(pk, "x");
	msgpack_pack_uint64(pk, 1);
	pack_str(pk, "y");
	msgpack_pack_uint64(pk, 2);
}

static void
pack_aliases(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	pack_str(pk, "first");
	pack_point(pk);
	pack_str(pk, "second");
	pack_point(pk);
}

static void
pack_text(msgpack_packer *pk)
{
	pack_str(pk, "two\nlines\n");
}

static void
pack_seven(msgpack_packer *pk)
{
	msgpack_pack_uint64(pk, 7);
}

static void
test_good_values(void **state)
{
	tr_tree *t = load_ok("good_values.yaml");
	const tr_sup_spec *s = tr_tree_spec(t);

	(void)state;
	assert_int_equal(s->nchildren, 5);
	assert_body(child(s, 0, "scalars")->start.init_arg, pack_scalars);
	assert_body(child(s, 1, "nested")->start.init_arg, pack_nested);
	assert_body(child(s, 2, "aliases")->start.init_arg, pack_aliases);
	assert_body(child(s, 3, "text")->start.init_arg, pack_text);
	assert_body(child(s, 4, "scalar")->start.init_arg, pack_seven);
	tr_tree_free(t);
}

static void
pack_template(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	pack_str(pk, "template");
}

static void
test_good_simple(void **state)
{
	tr_tree *t = load_ok("good_simple.yaml");
	const tr_sup_spec *s = tr_tree_spec(t);
	const tr_child_spec *c;

	(void)state;
	assert_string_equal(tr_tree_name(t), "pool");
	assert_int_equal(s->strategy, TR_SIMPLE_ONE_FOR_ONE);
	assert_int_equal(s->intensity, 10);
	assert_int_equal(s->nchildren, 1);
	c = child(s, 0, "conn");
	assert_str(c->start.behavior, "worker");
	assert_int_equal(c->restart, TR_TEMPORARY);
	assert_body(c->start.init_arg, pack_template);
	tr_tree_free(t);
}

static void
pack_kv(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	pack_str(pk, "k");
	pack_str(pk, "v");
}

/* Programs: paths with a slash, and cwd, are relative to the file. */
static void
test_good_exec(void **state)
{
	static const char *const wrapped[] = {"sh", "-c", "exit 0", NULL};
	static const char *const hosted[] = {"./host.sh", "--flag", NULL};
	static const char *const env[] = {"EMPTY=", "N=1", NULL};
	char path[PATH_MAX], want[PATH_MAX];
	const tr_child_spec *c;
	tr_tree *t = load_ok("good_exec.yaml");

	(void)state;
	assert_string_equal(tr_tree_name(t), "good_exec");
	c = child(tr_tree_spec(t), 0, "wrapped");
	assert_null(c->start.behavior);
	assert_str(c->start.program, "sh");
	assert_strv(c->start.argv, wrapped);
	assert_null(c->start.env);
	assert_null(c->start.init_arg);
	c = child(tr_tree_spec(t), 1, "hosted");
	assert_str(c->start.behavior, "remote.only"); /* not registered here */
	assert_str(c->start.program, "./host.sh");
	assert_strv(c->start.argv, hosted);
	assert_int_equal(c->start.placement, TR_PLACE_EXEC);
	assert_str(c->start.cwd, "work");
	assert_strv(c->start.env, env);
	assert_body(c->start.init_arg, pack_kv);
	tr_tree_free(t);

	snprintf(path, sizeof(path), "%s/good_exec.yaml", configs);
	t = load_ok(path);
	c = child(tr_tree_spec(t), 1, "hosted");
	snprintf(want, sizeof(want), "%s/./host.sh", configs);
	assert_str(c->start.program, want);
	assert_strv(c->start.argv, hosted); /* argv[0] as written */
	snprintf(want, sizeof(want), "%s/work", configs);
	assert_str(c->start.cwd, want);
	assert_str(child(tr_tree_spec(t), 0, "wrapped")->start.program, "sh");
	tr_tree_free(t);
}

static void
test_good_nested(void **state)
{
	tr_tree *t = load_ok("good_nested.yaml");
	const tr_sup_spec *s = tr_tree_spec(t), *mid, *low;
	const tr_child_spec *c;

	(void)state;
	assert_string_equal(tr_tree_name(t), "top");
	assert_int_equal(s->nchildren, 2);
	c = child(s, 0, "mid");
	assert_str(c->start.name, "middle");
	assert_non_null(mid = c->sup);
	assert_int_equal(mid->strategy, TR_ONE_FOR_ALL);
	assert_int_equal(mid->nchildren, 2);
	c = child(mid, 0, "low");
	assert_str(c->start.name, "bottom"); /* from its supervisor map */
	assert_non_null(low = c->sup);
	assert_int_equal(low->nchildren, 1);
	c = child(low, 0, "leaf");
	assert_str(c->start.behavior, "worker");
	assert_str(c->start.name, "leaf");
	assert_plain(child(mid, 1, "side"), "ticker");
	c = child(s, 1, "last");
	assert_str(c->start.behavior, "ticker");
	assert_int_equal(c->restart, TR_TRANSIENT);
	tr_tree_free(t);
}

/* Scheduled actors: the runtime's options, a supervisor's placement,
 * children on the schedulers. */
static void
test_good_scheduled(void **state)
{
	tr_tree *t = load_ok("good_scheduled.yaml");
	const tr_sup_spec *s = tr_tree_spec(t), *conns, *plain;
	const tr_child_spec *c;
	tr_options o;

	(void)state;
	/* What the file gives is set; the rest is left as it was. */
	memset(&o, 0xab, sizeof(o));
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_int_equal(o.schedulers, 3);
	assert_int_equal(o.stack_size, 64 * 1024);
	assert_int_equal(o.mailbox_capacity, 0xabababab);
	assert_int_equal(o.max_body, 0xabababab);

	assert_int_equal(s->placement, TR_PLACE_SCHEDULED);
	assert_int_equal(s->nchildren, 4);
	for (size_t i = 0; i < 2; i++) {
		c = child(s, i, i == 0 ? "a.1" : "a.2");
		assert_str(c->start.behavior, "worker");
		assert_int_equal(c->start.placement, TR_PLACE_SCHEDULED);
	}
	c = child(s, 2, "conns");
	assert_non_null(conns = c->sup);
	assert_int_equal(conns->placement, TR_PLACE_THREAD);
	assert_int_equal(conns->strategy, TR_SIMPLE_ONE_FOR_ONE);
	c = child(conns, 0, "conn");
	assert_int_equal(c->start.placement, TR_PLACE_SCHEDULED);
	assert_int_equal(c->restart, TR_TEMPORARY);
	assert_non_null(plain = child(s, 3, "plain")->sup);
	assert_int_equal(plain->placement, TR_PLACE_AUTO);
	assert_int_equal(tr_sup_check(s, NULL, 0), TR_OK);
	tr_tree_free(t);

	/* schedulers: auto is the default, said so (0); bytes as such. */
	t = load_ok("good_sched_auto.yaml");
	o = (tr_options){.schedulers = 7, .mailbox_capacity = 9};
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_int_equal(o.schedulers, 0);
	assert_int_equal(o.stack_size, 1048576);
	assert_int_equal(o.mailbox_capacity, 9);
	assert_int_equal(tr_tree_spec(t)->placement, TR_PLACE_AUTO);
	tr_tree_free(t);

	/* No runtime map: nothing is set. */
	t = load_ok("good_full.yaml");
	o = (tr_options){.schedulers = 7, .stack_size = 5};
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_int_equal(o.schedulers, 7);
	assert_int_equal(o.stack_size, 5);
	assert_int_equal(tr_tree_spec(t)->placement, TR_PLACE_AUTO);
	tr_tree_free(t);
}

/* ------------------------------------------------------------------ */
/* Bad files                                                           */

typedef struct bad_case {
	const char *file;
	const char *errors;
} bad_case;

static const bad_case bad_cases[] = {
    {"nosuch.yaml", "nosuch.yaml: cannot open: No such file or directory\n"},
    {".", ".: cannot open: Is a directory\n"},
    {"bad_empty.yaml",
        "bad_empty.yaml:1:1: expected a map with a 'supervisor' key\n"},
    {"bad_top.yaml",
        "bad_top.yaml:1:1: expected a map with a 'supervisor' key\n"},
    {"bad_nosup.yaml", "bad_nosup.yaml:1:1: no 'supervisor' key\n"},
    /* Syntax errors: libyaml's words after "syntax error", with its
     * context where it is elsewhere, and tabs named. */
    {"bad_syntax.yaml",
        "bad_syntax.yaml:4:4: syntax error: did not find expected key "
        "(while parsing a block mapping started at 2:3); check the "
        "indentation of this line\n"},
    {"bad_flow.yaml",
        "bad_flow.yaml:6:5: syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence started at 5:16)\n"},
    {"bad_indent.yaml",
        "bad_indent.yaml:6:6: syntax error: did not find expected '-' "
        "indicator (while parsing a block collection started at 4:5); "
        "check the indentation of this line\n"},
    {"bad_tab.yaml",
        "bad_tab.yaml:5:1: syntax error: found a tab character that "
        "violates indentation (while scanning a plain scalar started at "
        "4:11); a tab indents this line: YAML indents with spaces only\n"},
    {"bad_tab_key.yaml",
        "bad_tab_key.yaml:3:1: syntax error: found character that cannot "
        "start any token; a tab indents this line: YAML indents with "
        "spaces only\n"},
    {"bad_utf8.yaml", "bad_utf8.yaml:3:15: invalid trailing UTF-8 octet\n"},
    {"bad_docs.yaml",
        "bad_docs.yaml:4:1: a second document: a file holds one tree\n"},
    /* A tag is one error at its node; the errors after it are found. */
    {"bad_tags.yaml",
        "bad_tags.yaml:2:14: unsupported tag 'tag:yaml.org,2002:int'\n"
        "bad_tags.yaml:3:13: 'strategy' must be one of one_for_one, "
        "one_for_all, rest_for_one, simple_one_for_one\n"
        "bad_tags.yaml:7:13: unsupported tag '!point'\n"
        "bad_tags.yaml:8:7: unknown key 'colour' in child 'a'\n"
        "bad_tags.yaml:10:17: unknown behavior 'tickr'\n"},
    {"bad_keys.yaml",
        "bad_keys.yaml:1:1: unknown key 'plugin' at the top level\n"
        "bad_keys.yaml:3:3: unknown key 'nmae' in supervisor\n"
        "bad_keys.yaml:4:26: unknown key 'maximum' in backoff\n"
        "bad_keys.yaml:8:7: unknown key 'restrat' in child 'clock'\n"
        "bad_keys.yaml:10:7: duplicate key 'restart'\n"
        "bad_keys.yaml:11:7: child #2 has no 'id'\n"
        "bad_keys.yaml:12:7: unknown key 'colour' in child #2\n"},
    {"bad_values.yaml",
        "bad_values.yaml:2:13: 'strategy' must be one of one_for_one, "
        "one_for_all, rest_for_one, simple_one_for_one\n"
        "bad_values.yaml:3:14: 'intensity' must be a non-negative integer\n"
        "bad_values.yaml:4:11: 'period' must be a positive integer\n"
        "bad_values.yaml:5:22: 'initial' must be a non-negative integer\n"
        "bad_values.yaml:5:31: 'max' must be a positive integer\n"
        "bad_values.yaml:5:41: 'reset' must be a positive integer\n"
        "bad_values.yaml:6:18: 'auto_shutdown' must be one of never, "
        "any_significant, all_significant\n"
        "bad_values.yaml:10:16: 'restart' must be one of permanent, "
        "transient, temporary\n"
        "bad_values.yaml:11:18: 'placement' must be one of auto, thread, "
        "fork, exec, scheduled\n"
        "bad_values.yaml:12:17: 'shutdown' must be an integer from 0 to "
        "2147483647 (ms), brutal or infinity\n"
        "bad_values.yaml:13:16: 'mailbox' must be a positive integer\n"
        "bad_values.yaml:14:18: 'instances' must be an integer from 1 to "
        "1024, or auto\n"
        "bad_values.yaml:15:20: 'significant' must be true or false\n"
        "bad_values.yaml:16:22: 'start_timeout' must be a positive integer\n"
        "bad_values.yaml:19:17: 'shutdown' must be an integer from 0 to "
        "2147483647 (ms), brutal or infinity\n"
        "bad_values.yaml:20:18: 'instances' must be an integer from 1 to "
        "1024, or auto\n"
        "bad_values.yaml:21:16: 'mailbox' must be at most 4294967295\n"
        "bad_values.yaml:22:17: 'isolated' must be true or false\n"
        "bad_values.yaml:23:19: 'trap_exits' must be true or false\n"
        "bad_values.yaml:26:16: 'mailbox' must be a positive integer\n"
        "bad_values.yaml:27:17: 'shutdown' must be an integer from 0 to "
        "2147483647 (ms), brutal or infinity\n"},
    {"bad_sockets.yaml",
        "bad_sockets.yaml:2:9: socket 'http': 'localhost:8080' is not "
        "HOST:PORT with a numeric address (127.0.0.1:8080, 0.0.0.0:80, "
        "[::1]:8080) and a port 0..65535\n"
        "bad_sockets.yaml:3:10: socket 'admin': '127.0.0.1' is not "
        "HOST:PORT with a numeric address (127.0.0.1:8080, 0.0.0.0:80, "
        "[::1]:8080) and a port 0..65535\n"
        "bad_sockets.yaml:4:8: socket 'big': '127.0.0.1:70000' is not "
        "HOST:PORT with a numeric address (127.0.0.1:8080, 0.0.0.0:80, "
        "[::1]:8080) and a port 0..65535\n"
        "bad_sockets.yaml:5:3: socket name 'a,b' cannot hold ',' or '='\n"
        "bad_sockets.yaml:6:9: 'list' must be a string\n"
        "bad_sockets.yaml:7:7: socket 'v6': '[::1:8080' is not HOST:PORT "
        "with a numeric address (127.0.0.1:8080, 0.0.0.0:80, [::1]:8080) "
        "and a port 0..65535\n"},
    {"bad_sockets_list.yaml",
        "bad_sockets_list.yaml:1:10: 'sockets' must be a map of names to "
        "addresses (http: 127.0.0.1:8080)\n"},
    {"bad_children.yaml",
        "bad_children.yaml:3:7: child 'nothing' needs a 'behavior', a "
        "'command' or a 'supervisor'\n"
        "bad_children.yaml:5:7: child 'both' has a 'supervisor' and a "
        "'behavior' or 'command': it is one or the other\n"
        "bad_children.yaml:8:7: child #3 has no 'id'\n"
        "bad_children.yaml:9:11: 'id' must be 1 to 64 bytes\n"
        "bad_children.yaml:13:11: duplicate id 'twin'\n"
        "bad_children.yaml:17:11: duplicate id 'clock.2'\n"
        "bad_children.yaml:20:7: a child must be a map\n"
        "bad_children.yaml:21:11: 'id' must be 1 to 64 bytes\n"
        "bad_children.yaml:23:11: 'id' must be a string\n"
        "bad_children.yaml:26:19: 'supervisor' must be a map\n"
        "bad_children.yaml:28:19: supervisor has no 'children'\n"
        "bad_children.yaml:31:19: 'children' must be a list\n"
        "bad_children.yaml:32:12: 'id' must be 1 to 64 bytes\n"},
    {"bad_behavior.yaml",
        "bad_behavior.yaml:4:17: unknown behavior 'tickr'\n"
        "bad_behavior.yaml:9:17: 'behavior' must be 1 to 64 bytes\n"},
    {"bad_program.yaml",
        "bad_program.yaml:4:17: program 'nosuch-program-for-troupe' not "
        "found\n"
        "bad_program.yaml:6:17: program './bad_program.yaml' is not "
        "executable\n"
        "bad_program.yaml:8:17: program './no/such/dir/prog' not found\n"
        "bad_program.yaml:10:16: 'command' must be a non-empty list of "
        "strings\n"
        "bad_program.yaml:12:16: 'command' must be a non-empty list of "
        "strings\n"
        "bad_program.yaml:14:21: 'command' must be a non-empty list of "
        "strings\n"
        "bad_program.yaml:17:7: 'env' needs a 'command'\n"
        "bad_program.yaml:18:7: 'cwd' needs a 'command'\n"
        "bad_program.yaml:19:7: 'raw_output' needs a 'command'\n"
        "bad_program.yaml:22:7: 'init' needs a 'behavior'\n"
        "bad_program.yaml:25:18: a 'command' runs with placement exec or "
        "auto, not thread\n"
        "bad_program.yaml:28:13: environment name 'A=B' must be non-empty, "
        "without '='\n"
        "bad_program.yaml:28:23: environment name '' must be non-empty, "
        "without '='\n"
        "bad_program.yaml:28:33: the value of an environment variable must "
        "be a string\n"
        "bad_program.yaml:28:39: the value of an environment variable must "
        "be a string\n"
        "bad_program.yaml:31:12: 'env' must be a map of strings\n"},
    /* A backoff error at its 'max', not at the supervisor's first key;
     * and it hides no other error of that supervisor. */
    {"bad_sup_check.yaml",
        "bad_sup_check.yaml:3:32: backoff maximum below its initial delay\n"
        "bad_sup_check.yaml:5:7: child 'sig': a significant child must be "
        "transient or temporary\n"
        "bad_sup_check.yaml:10:9: simple_one_for_one needs exactly one "
        "child spec (the template)\n"
        "bad_sup_check.yaml:11:24: backoff maximum below its initial "
        "delay\n"
        "bad_sup_check.yaml:15:7: child 'sigsub': a significant child must "
        "be transient or temporary\n"},
    {"bad_names.yaml",
        "bad_names.yaml:4:39: duplicate name 'main'\n"
        "bad_names.yaml:6:39: duplicate name 'shared'\n"
        "bad_names.yaml:9:13: 'name' must be 1 to 64 bytes\n"
        "bad_names.yaml:11:7: child 'e' is named twice: here and in its "
        "'supervisor'\n"
        "bad_names.yaml:16:13: 'name' with its instance number, "
        "'b.1-and-a-registered-name-that-is-exactly-sixty-four-bytes-long.1', "
        "is longer than 64 bytes\n"
        "bad_names.yaml:21:39: 'name' does not apply to a simple_one_for_one "
        "template\n"
        "bad_names.yaml:21:51: 'instances' does not apply to a "
        "simple_one_for_one template\n"},
    {"bad_supchild.yaml",
        "bad_supchild.yaml:4:7: 'placement' does not apply to a supervisor "
        "child\n"
        "bad_supchild.yaml:5:7: 'mailbox' does not apply to a supervisor "
        "child\n"
        "bad_supchild.yaml:6:7: 'init' does not apply to a supervisor child\n"
        "bad_supchild.yaml:7:7: 'instances' does not apply to a supervisor "
        "child\n"},
    {"bad_init.yaml",
        "bad_init.yaml:5:14: integer '18446744073709551616' does not fit in "
        "64 bits\n"
        "bad_init.yaml:5:36: integer '-9223372036854775809' does not fit in "
        "64 bits\n"
        "bad_init.yaml:8:20: value nested deeper than 64 levels\n"},
    {"bad_this_file_name_is_far_too_long_to_be_the_registered_name_of_a_"
     "tree.yaml",
        "bad_this_file_name_is_far_too_long_to_be_the_registered_name_of_a_"
        "tree.yaml:2:3: the file's name cannot name the tree: give the "
        "supervisor a 'name'\n"},
    /* Aliases: a small file must not make a huge tree or value. */
    {"bad_loop.yaml",
        "bad_loop.yaml:2:13: supervisors are nested deeper than 32 levels\n"},
    {"bad_bomb.yaml",
        "bad_bomb.yaml:24:56: too many children: a tree has at most 10000\n"},
    {"bad_laughs.yaml",
        "bad_laughs.yaml:7:30: values of the file hold more than 1048576 "
        "nodes\n"},
    {"bad_plugin.yaml",
        "bad_plugin.yaml:1:11: plugin './nosuch.so' not found\n"
        "bad_plugin.yaml:1:24: plugin '7' not found\n"
        "bad_plugin.yaml:1:27: 'plugins' must be a list of paths\n"
        "bad_plugin.yaml:4:28: unknown behavior 'plugin.missing'\n"},
    {"bad_plugins_map.yaml",
        "bad_plugins_map.yaml:1:10: 'plugins' must be a list of paths\n"},
    /* Scheduled actors: the runtime's options, placements. */
    {"bad_scheduled.yaml",
        "bad_scheduled.yaml:2:15: 'schedulers' must be an integer from 1 "
        "to 511, or auto\n"
        "bad_scheduled.yaml:3:15: 'stack_size' must be from 16k to 1024m: "
        "bytes, or a number with k or m (256k)\n"
        "bad_scheduled.yaml:4:3: unknown key 'threads' in runtime\n"
        "bad_scheduled.yaml:6:14: 'placement' must be one of auto, thread, "
        "scheduled\n"
        "bad_scheduled.yaml:8:44: 'placement' must be one of auto, thread, "
        "fork, exec, scheduled\n"
        "bad_scheduled.yaml:9:41: a 'command' runs with placement exec or "
        "auto, not scheduled\n"
        "bad_scheduled.yaml:11:7: 'placement' does not apply to a "
        "supervisor child\n"},
    /* Clusters: the `cluster:` map, children's node and nodes. */
    {"bad_cluster_map.yaml",
        "bad_cluster_map.yaml:1:10: 'cluster' must be a map (name, node, "
        "listen, ...)\n"},
    {"bad_cluster_missing.yaml",
        "bad_cluster_missing.yaml:2:3: cluster has no 'name' (the same on "
        "every node)\n"
        "bad_cluster_missing.yaml:2:3: cluster has no 'node' (this node's "
        "name; or set TROUPE_NODE)\n"
        "bad_cluster_missing.yaml:2:3: cluster has no 'listen' "
        "(tls+tcp://HOST:PORT where this node takes the others' "
        "sessions)\n"},
    {"bad_cluster_keys.yaml",
        "bad_cluster_keys.yaml:2:9: 'name' must be a string\n"
        "bad_cluster_keys.yaml:3:9: 'node' must be a node name (1 to 64 "
        "letters, digits, '.', '-' or '_'), not 'web 1'\n"
        "bad_cluster_keys.yaml:5:13: 'insecure' must be true or false\n"
        "bad_cluster_keys.yaml:6:9: 'tick' must be a positive integer\n"
        "bad_cluster_keys.yaml:7:12: 'timeout' must be a positive "
        "integer\n"
        "bad_cluster_keys.yaml:8:10: 'seeds' must be a list of URLs "
        "(tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure)\n"
        "bad_cluster_keys.yaml:9:3: unknown key 'colour' in cluster\n"
        "bad_cluster_keys.yaml:10:3: duplicate key 'node'\n"},
    {"bad_cluster_tcp.yaml",
        "bad_cluster_tcp.yaml:5:11: 'listen' is tcp://, which has no "
        "encryption and no authentication: say 'insecure: true' to mean "
        "it, or use tls+tcp:// with 'tls'\n"
        "bad_cluster_tcp.yaml:6:33: seed 'tls+tcp://10.77.0.3:4400' is "
        "tls+tcp:// but 'listen' is tcp://: the nodes of a cluster all "
        "speak one\n"
        "bad_cluster_tcp.yaml:7:3: 'tls' goes with tls+tcp:// URLs, and "
        "'listen' is tcp://\n"},
    {"bad_cluster_tls.yaml",
        "bad_cluster_tls.yaml:3:3: cluster: 'listen' is tls+tcp://, which "
        "needs 'tls: {ca: FILE, cert: FILE}' (or tcp:// with 'insecure: "
        "true')\n"
        "bad_cluster_tls.yaml:6:13: 'insecure: true' goes with tcp:// "
        "URLs, and 'listen' is tls+tcp://\n"},
    {"bad_cluster_tls_files.yaml",
        "bad_cluster_tls_files.yaml:5:8: 'tls' has no 'cert' (this node's "
        "certificate, PEM)\n"
        "bad_cluster_tls_files.yaml:5:13: 'ca': cannot read "
        "'certs/nosuch-ca.crt': No such file or directory\n"
        "bad_cluster_tls_files.yaml:5:56: unknown key 'pass' in tls\n"},
    {"bad_cluster_tls_map.yaml",
        "bad_cluster_tls_map.yaml:5:8: 'tls' must be a map {ca: FILE, "
        "cert: FILE, key: FILE}\n"},
    {"bad_cluster_urls.yaml",
        "bad_cluster_urls.yaml:4:11: 'listen' must be a URL "
        "tls+tcp://HOST:PORT (or tcp://HOST:PORT with insecure), of at "
        "most 127 bytes, not 'http://10.77.0.1:4400'\n"
        "bad_cluster_urls.yaml:6:7: 'seeds' must be a list of URLs "
        "(tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure), not "
        "'tls+tcp://10.77.0.2'\n"
        "bad_cluster_urls.yaml:7:7: 'seeds' must be a list of URLs "
        "(tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure), not "
        "'tls+tcp://10.77.0.2:0'\n"
        "bad_cluster_urls.yaml:8:7: 'seeds' must be a list of URLs "
        "(tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure), not "
        "'tls+tcp://10.77.0.2:4400/path'\n"
        "bad_cluster_urls.yaml:9:7: 'seeds' must be a list of URLs "
        "(tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure), not "
        "'tls+tcp://:4400'\n"
        "bad_cluster_urls.yaml:11:7: 'seeds' lists "
        "'tls+tcp://10.77.0.2:4400' twice\n"
        "bad_cluster_urls.yaml:12:7: 'seeds' must be a list of URLs "
        "(tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure), not "
        "'tls+tcp://10.77.0.2:65536'\n"
        "bad_cluster_urls.yaml:13:7: 'seeds' must be a string\n"},
    {"bad_cluster_timing.yaml",
        "bad_cluster_timing.yaml:6:9: 'timeout' (2500 ms) must be at "
        "least twice 'tick' (2000 ms): a node that missed one tick would "
        "be down\n"},
    {"bad_cluster_membership.yaml",
        "bad_cluster_membership.yaml:2:9: 'name' must be a node name (1 to "
        "64 letters, digits, '.', '-' or '_'), not 'shop/eu'\n"
        "bad_cluster_membership.yaml:7:12: 'timeout' (1999 ms) must be at "
        "least twice 'tick' (1000 ms): a node that missed one tick would "
        "be down\n"
        "bad_cluster_membership.yaml:8:15: 'membership' must be one of "
        "static, etcd\n"},
    {"bad_cluster_etcd.yaml",
        "bad_cluster_etcd.yaml:6:15: 'membership: etcd' needs 'etcd: "
        "{endpoints: [URL, ...]}'\n"},
    {"bad_cluster_etcd_noend.yaml",
        "bad_cluster_etcd_noend.yaml:7:9: 'etcd' has no 'endpoints' "
        "(http://127.0.0.1:2379, ...)\n"},
    {"bad_cluster_etcd_empty.yaml",
        "bad_cluster_etcd_empty.yaml:7:21: 'endpoints' is empty: name an "
        "etcd server at least\n"},
    {"bad_cluster_etcd_map.yaml",
        "bad_cluster_etcd_map.yaml:7:15: 'ttl' must be an integer from "
        "1000 to 4294967295 (ms)\n"
        "bad_cluster_etcd_map.yaml:7:20: unknown key 'tls' in etcd\n"
        "bad_cluster_etcd_map.yaml:7:41: 'endpoints' must be a list of "
        "URLs (http://HOST:PORT or https://HOST:PORT), not "
        "'127.0.0.1:2379'\n"},
    {"bad_cluster_etcd_static.yaml",
        "bad_cluster_etcd_static.yaml:6:3: 'etcd' is for 'membership: "
        "etcd', and membership is static\n"},
    {"bad_nodes_nocluster.yaml",
        "bad_nodes_nocluster.yaml:4:33: 'node' needs a 'cluster' section: "
        "this node is in no cluster\n"
        "bad_nodes_nocluster.yaml:5:33: 'nodes' needs a 'cluster' "
        "section: this node is in no cluster\n"},
    {"bad_nodes_command.yaml",
        "bad_nodes_command.yaml:6:7: a 'command' with arguments cannot "
        "start on another node: only its program travels (give the program "
        "alone, or a script that holds the arguments)\n"
        "bad_nodes_command.yaml:10:7: 'env' does not travel to another "
        "node: not with 'node' or 'nodes'\n"
        "bad_nodes_command.yaml:11:7: 'cwd' does not travel to another "
        "node: not with 'node' or 'nodes'\n"
        "bad_nodes_command.yaml:12:7: 'raw_output' does not travel to "
        "another node: not with 'node' or 'nodes'\n"},
    {"bad_nodes.yaml",
        "bad_nodes.yaml:4:48: 'node' and 'nodes' together: give one "
        "('nodes' lists several, the first up is taken)\n"
        "bad_nodes.yaml:5:44: 'nodes' must be a non-empty list of node "
        "names ([db-1, db-2])\n"
        "bad_nodes.yaml:6:42: 'nodes' must be a non-empty list of node "
        "names ([db-1, db-2])\n"
        "bad_nodes.yaml:7:57: 'nodes' lists 'db-1' twice\n"
        "bad_nodes.yaml:8:53: 'nodes' must be a node name (1 to 64 "
        "letters, digits, '.', '-' or '_'), not 'db 2'\n"
        "bad_nodes.yaml:8:61: 'nodes' must be a node name (1 to 64 "
        "letters, digits, '.', '-' or '_'), not ''\n"
        "bad_nodes.yaml:9:45: 'node' must be a node name (1 to 64 "
        "letters, digits, '.', '-' or '_'), not 'db/1'\n"
        "bad_nodes.yaml:11:7: 'node' does not apply to a supervisor "
        "child: a supervisor runs in its parent's process (give its "
        "children 'node')\n"
        "bad_nodes.yaml:12:7: 'nodes' does not apply to a supervisor "
        "child: a supervisor runs in its parent's process (give its "
        "children 'nodes')\n"},
    {"bad_runtime.yaml", "bad_runtime.yaml:1:10: 'runtime' must be a map\n"},
    {"bad_runtime_small.yaml",
        "bad_runtime_small.yaml:2:15: 'schedulers' must be an integer from "
        "1 to 511, or auto\n"
        "bad_runtime_small.yaml:3:15: 'stack_size' must be from 16k to "
        "1024m: bytes, or a number with k or m (256k)\n"},
};

/* Loads file, which must fail with exactly want; false if it did not. */
static bool
fails_with(const char *file, const char *want)
{
	tr_tree *t = (tr_tree *)&t;
	char *errors = NULL;
	int rv = tr_tree_load(file, &t, &errors);
	bool ok = rv == TR_EINVAL && t == NULL && errors != NULL &&
	    strcmp(errors, want) == 0;

	if (!ok) {
		print_error("%s: %s, tree %p; errors:\n%s-- want:\n%s", file,
		    tr_strerror(rv), (void *)t,
		    errors != NULL ? errors : "(none)\n", want);
	}
	free(errors);
	return ok;
}

/* Every bad file, every error line: all are checked, then the test
 * fails if any differed, so that one run shows them all. */
static void
test_bad_files(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		failed += !fails_with(bad_cases[i].file, bad_cases[i].errors);
	}
	assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------------ */
/* Clusters                                                            */

/* A node of a cluster: the options for tr_init, with the certificates
 * taken from the file's directory; children on other nodes. */
static void
test_good_cluster(void **state)
{
	static const char *const seeds[] = {
	    "tls+tcp://10.77.0.2:4400", "tls+tcp://[fd00::3]:4400", NULL};
	static const char *const cache[] = {
	    "cache-1", "cache-2", "web-1", NULL};
	char path[PATH_MAX], want[PATH_MAX];
	const tr_cluster_opts *c;
	const tr_sup_spec *s, *sub;
	tr_options o;
	tr_tree *t = load_ok("good_cluster.yaml");

	(void)state;
	memset(&o, 0, sizeof(o));
	o.schedulers = 3;
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_int_equal(o.schedulers, 3); /* not the file's: left */
	assert_non_null(c = o.cluster);
	assert_str(c->cluster, "shop");
	assert_str(c->node, "web-1");
	assert_str(c->listen, "tls+tcp://10.77.0.1:4400");
	assert_strv(c->seeds, seeds);
	assert_str(c->ca, "certs/ca.crt");
	assert_str(c->cert, "certs/web-1.crt");
	assert_str(c->key, "certs/web-1.key");
	assert_false(c->insecure);
	assert_int_equal(c->tick_ms, 250);
	assert_int_equal(c->timeout_ms, 2000);
	assert_str(c->membership, "static");
	assert_null(c->etcd);
	assert_int_equal(c->etcd_ttl_ms, 0);

	s = tr_tree_spec(t);
	assert_int_equal(s->nchildren, 7);
	assert_plain(child(s, 0, "here"), "worker");
	assert_null(s->children[0].start.node);
	assert_null(s->children[0].nodes);
	assert_str(child(s, 1, "db")->start.node, "db-1");
	assert_null(s->children[1].nodes);
	/* Each instance has the list, a copy of its own. */
	for (size_t i = 0; i < 2; i++) {
		const tr_child_spec *k =
		    child(s, 2 + i, i == 0 ? "cache.1" : "cache.2");
		assert_strv(k->nodes, cache);
		assert_null(k->start.node);
	}
	assert_ptr_not_equal(s->children[2].nodes, s->children[3].nodes);
	assert_str(child(s, 4, "pinned")->start.node, "web-1");
	assert_non_null(sub = child(s, 5, "sub")->sup);
	assert_null(s->children[5].start.node);
	assert_null(s->children[5].nodes);
	assert_strv(
	    child(sub, 0, "far")->nodes, (const char *const[]){"db-2", NULL});
	/* A command of one element, on another node: the program alone. */
	assert_str(child(s, 6, "tool")->start.program, "sh");
	assert_null(s->children[6].start.argv);
	assert_str(s->children[6].start.node, "db-1");
	assert_int_equal(s->children[6].start.placement, TR_PLACE_EXEC);
	assert_int_equal(tr_sup_check(s, NULL, 0), TR_OK);
	tr_tree_free(t);

	/* From elsewhere: the certificates are the file's neighbours. */
	snprintf(path, sizeof(path), "%s/good_cluster.yaml", configs);
	t = load_ok(path);
	o = (tr_options){0};
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	snprintf(want, sizeof(want), "%s/certs/ca.crt", configs);
	assert_str(o.cluster->ca, want);
	snprintf(want, sizeof(want), "%s/certs/web-1.crt", configs);
	assert_str(o.cluster->cert, want);
	snprintf(want, sizeof(want), "%s/certs/web-1.key", configs);
	assert_str(o.cluster->key, want);
	tr_tree_free(t);
}

/* The least a cluster takes; the defaults are troupe's (0s and NULLs in
 * tr_cluster_opts).  A file without a cluster leaves opts.cluster as it
 * was. */
static void
test_good_cluster_min(void **state)
{
	static const tr_cluster_opts mine = {.cluster = "x"};
	const tr_cluster_opts *c;
	tr_options o = {0};
	tr_tree *t = load_ok("good_cluster_min.yaml");

	(void)state;
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_non_null(c = o.cluster);
	assert_str(c->cluster, "lab");
	assert_str(c->node, "n1");
	assert_str(c->listen, "tcp://127.0.0.1:0");
	assert_true(c->insecure);
	assert_null(c->seeds);
	assert_null(c->ca);
	assert_null(c->cert);
	assert_null(c->key);
	assert_int_equal(c->tick_ms, 0);
	assert_int_equal(c->timeout_ms, 0);
	assert_null(c->membership);
	assert_null(c->etcd);
	assert_int_equal(c->etcd_ttl_ms, 0);
	tr_tree_free(t);

	t = load_ok("good_full.yaml");
	o.cluster = &mine;
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_ptr_equal(o.cluster, &mine);
	tr_tree_free(t);
}

/* A failed case must not leave its TROUPE_NODE to the next ones. */
static int
unset_node(void **state)
{
	(void)state;
	return unsetenv("TROUPE_NODE");
}

/* etcd membership; one file for several nodes: TROUPE_NODE names this
 * one, and {node} in listen, cert and key takes its name. */
static void
test_good_cluster_etcd(void **state)
{
	static const char *const etcd[] = {
	    "http://127.0.0.1:2379", "https://etcd.internal:2379", NULL};
	const tr_cluster_opts *c;
	tr_options o = {0};
	tr_tree *t = load_ok("good_cluster_etcd.yaml");

	(void)state;
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_non_null(c = o.cluster);
	assert_str(c->node, "web-1");
	assert_str(c->listen, "tls+tcp://web-1.shop.internal:4400");
	assert_str(c->cert, "certs/web-1.crt");
	assert_str(c->key, "/dev/null"); /* absolute: as it is */
	assert_non_null(c->seeds);       /* seeds: [] */
	assert_null(c->seeds[0]);
	assert_str(c->membership, "etcd");
	assert_strv(c->etcd, etcd);
	assert_int_equal(c->etcd_ttl_ms, 1000);
	tr_tree_free(t);

	assert_int_equal(setenv("TROUPE_NODE", "web-2", 1), 0);
	t = load_ok("good_cluster_etcd.yaml");
	o = (tr_options){0};
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_str(o.cluster->node, "web-2");
	assert_str(o.cluster->listen, "tls+tcp://web-2.shop.internal:4400");
	assert_str(o.cluster->cert, "certs/web-2.crt");
	assert_str(o.cluster->cluster, "shop");
	tr_tree_free(t);

	/* It stands for a missing `node:` too. */
	t = load_ok("good_cluster_nonode.yaml");
	o = (tr_options){0};
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_str(o.cluster->node, "web-2");
	tr_tree_free(t);

	/* A node whose certificate is not there; a name that is none. */
	assert_int_equal(setenv("TROUPE_NODE", "web-3", 1), 0);
	assert_true(fails_with("good_cluster_etcd.yaml",
	    "good_cluster_etcd.yaml:8:33: 'cert': cannot read "
	    "'certs/web-3.crt': No such file or directory\n"));
	assert_int_equal(setenv("TROUPE_NODE", "web 3/x", 1), 0);
	assert_true(fails_with("good_cluster_etcd.yaml",
	    "good_cluster_etcd.yaml:4:3: TROUPE_NODE must be a node name (1 "
	    "to 64 letters, digits, '.', '-' or '_'), not 'web 3/x'\n"));
	/* Set but empty: as if unset. */
	assert_int_equal(setenv("TROUPE_NODE", "", 1), 0);
	t = load_ok("good_cluster_etcd.yaml");
	o = (tr_options){0};
	assert_int_equal(tr_tree_options(t, &o), TR_OK);
	assert_str(o.cluster->node, "web-1");
	tr_tree_free(t);
	assert_true(fails_with("good_cluster_nonode.yaml",
	    "good_cluster_nonode.yaml:3:3: cluster has no 'node' (this "
	    "node's name; or set TROUPE_NODE)\n"));
	assert_int_equal(unsetenv("TROUPE_NODE"), 0);
}

/* ------------------------------------------------------------------ */
/* Plugins                                                             */

static void
echo_pack(msgpack_packer *pk)
{
	pack_str(pk, "ping");
}

/* A plugin registers its behavior when its tree is loaded; the tree
 * then runs it. */
/* tr_tree_socket() finds a tree's socket by name in the environment
 * tr_tree_main() leaves, and only if the descriptor is still that
 * listening socket. */
static void
test_tree_socket(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char env[96];
	int lfd, fd = -1, pipefd[2];

	(void)state;
	assert_int_equal(tr_tree_socket(NULL, &fd), TR_EINVAL);
	assert_int_equal(tr_tree_socket("", &fd), TR_EINVAL);
	assert_int_equal(tr_tree_socket("http", NULL), TR_EINVAL);
	unsetenv("TROUPE_SOCKETS");
	assert_int_equal(tr_tree_socket("http", &fd), TR_ENOENT);

	assert_int_equal(tr_tcp_listen("127.0.0.1", 0, 8, &lfd), TR_OK);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(pipe(pipefd), 0);
	snprintf(env, sizeof(env), "admin=%d:1,http=%d:%u,h=%d:%u", pipefd[0],
	    lfd, (unsigned)ntohs(sa.sin_port), lfd,
	    (unsigned)ntohs(sa.sin_port) + 1);
	assert_int_equal(setenv("TROUPE_SOCKETS", env, 1), 0);
	assert_int_equal(tr_tree_socket("http", &fd), TR_OK);
	assert_int_equal(fd, lfd);
	/* A name that only starts another's, a descriptor that is not a
	 * listener, a listener on another port: not the tree's socket. */
	fd = -1;
	assert_int_equal(tr_tree_socket("htt", &fd), TR_ENOENT);
	assert_int_equal(tr_tree_socket("admin", &fd), TR_ENOENT);
	assert_int_equal(tr_tree_socket("h", &fd), TR_ENOENT);
	assert_int_equal(fd, -1);
	close(lfd);
	assert_int_equal(tr_tree_socket("http", &fd), TR_ENOENT);
	unsetenv("TROUPE_SOCKETS");
	close(pipefd[0]);
	close(pipefd[1]);
}

static void
test_plugin(void **state)
{
	tr_behavior echo = {.name = "plugin.echo", .handle = ignore};
	tr_ref sup, ref;
	tr_reason why;
	tr_msg *req, *reply = NULL, *down = NULL;
	tr_mon mon;
	tr_tree *t;

	(void)state;
	/* The source copy of the file has no plugin next to it: the
	 * behavior is not known before the plugin is loaded. */
	assert_true(fails_with("plugin.yaml",
	    "plugin.yaml:2:11: plugin './plugin_demo.so' not found\n"
	    "plugin.yaml:5:28: unknown behavior 'plugin.echo'\n"));
	assert_int_equal(chdir(builddir), 0);
	t = load_ok("plugin.yaml");
	assert_int_equal(chdir(configs), 0);
	assert_int_equal(tr_behavior_register(&echo), TR_EEXIST);
	assert_string_equal(tr_tree_name(t), "plugin");
	assert_str(
	    child(tr_tree_spec(t), 0, "echo")->start.behavior, "plugin.echo");

	/* Loading it again calls its init again: it must not mind. */
	tr_tree_free(t);
	assert_int_equal(chdir(builddir), 0);
	t = load_ok("plugin.yaml");
	assert_int_equal(chdir(configs), 0);

	assert_int_equal(tr_init(NULL), TR_OK);
	assert_int_equal(
	    tr_sup_start(tr_tree_spec(t), tr_tree_name(t), false, &sup, &why),
	    TR_OK);
	tr_tree_free(t); /* the supervisor has its own copy */
	assert_int_equal(tr_whereis("plugin", &ref), TR_OK);
	assert_true(tr_ref_equal(ref, sup));
	assert_int_equal(tr_whereis("echo", &ref), TR_OK);
	assert_int_equal(tr_msg_new(&req, 0), TR_OK);
	echo_pack(tr_msg_packer(req));
	assert_int_equal(tr_call(ref, req, 5000, &reply, NULL), TR_OK);
	assert_body(reply, echo_pack);
	tr_msg_free(reply);

	assert_int_equal(tr_monitor(sup, &mon), TR_OK);
	assert_int_equal(tr_stop(sup, TR_REASON_SHUTDOWN), TR_OK);
	assert_int_equal(tr_recv(&down, 5000), TR_OK);
	assert_int_equal(tr_msg_tag(down), TR_TAG_DOWN);
	tr_msg_free(down);
	assert_int_equal(tr_shutdown(), TR_OK);
}

static void
test_plugin_errors(void **state)
{
	(void)state;
	assert_int_equal(chdir(builddir), 0);
	assert_true(fails_with("plugin_none.yaml",
	    "plugin_none.yaml:2:11: plugin './plugin_none.so' has no "
	    "troupe_plugin_init\n"
	    "plugin_none.yaml:2:29: plugin './nosuch.so' not found\n"
	    "plugin_none.yaml:2:42: plugin '/nonexistent/abs.so' not found\n"));
	assert_int_equal(chdir(configs), 0);
}

/* ------------------------------------------------------------------ */
/* Allocation failures                                                 */

/* Fails the nth allocation and every later one, for n = 0, 1, ... until
 * a load gets through: each must give TR_ENOMEM and nothing else, then
 * the same result as an unhindered load. */
static void
sweep(const char *file, int want)
{
	for (long n = 0;; n++) {
		tr_tree *t = (tr_tree *)&t;
		char *errors = (char *)&errors;
		int rv;

		tri_alloc_fail_after(n);
		rv = tr_tree_load(file, &t, &errors);
		tri_alloc_fail_after(-1);
		if (rv == TR_ENOMEM) {
			assert_null(t);
			assert_null(errors);
			continue;
		}
		assert_int_equal(rv, want);
		if (rv == TR_OK) {
			assert_null(errors);
			tr_tree_free(t);
		} else {
			assert_null(t);
			free(errors);
		}
		break;
	}
}

static void
test_alloc_failures(void **state)
{
	(void)state;
	sweep("good_full.yaml", TR_OK);
	sweep("good_values.yaml", TR_OK);
	sweep("good_nested.yaml", TR_OK);
	sweep("good_limits.yaml", TR_OK);
	sweep("good_scheduled.yaml", TR_OK);
	sweep("bad_values.yaml", TR_EINVAL);
	sweep("bad_program.yaml", TR_EINVAL);
	sweep("bad_names.yaml", TR_EINVAL);
	sweep("bad_children.yaml", TR_EINVAL);
	sweep("bad_init.yaml", TR_EINVAL);
	sweep("bad_tags.yaml", TR_EINVAL);
	sweep("bad_flow.yaml", TR_EINVAL);
	sweep("bad_sup_check.yaml", TR_EINVAL);
	sweep("good_cluster.yaml", TR_OK);
	sweep("good_cluster_etcd.yaml", TR_OK);
	sweep("bad_cluster_urls.yaml", TR_EINVAL);
	sweep("bad_cluster_keys.yaml", TR_EINVAL);
	sweep("bad_nodes.yaml", TR_EINVAL);
	sweep("bad_nodes_command.yaml", TR_EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_null_arguments),
	    cmocka_unit_test(test_good_full),
	    cmocka_unit_test(test_good_defaults),
	    cmocka_unit_test(test_good_empty),
	    cmocka_unit_test(test_good_limits),
	    cmocka_unit_test(test_auto_affinity),
	    cmocka_unit_test(test_good_values),
	    cmocka_unit_test(test_good_simple),
	    cmocka_unit_test(test_good_exec),
	    cmocka_unit_test(test_good_nested),
	    cmocka_unit_test(test_good_scheduled),
	    cmocka_unit_test(test_good_cluster),
	    cmocka_unit_test(test_good_cluster_min),
	    cmocka_unit_test_teardown(test_good_cluster_etcd, unset_node),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_plugin_errors),
	    cmocka_unit_test(test_plugin),
	    cmocka_unit_test(test_tree_socket),
	    cmocka_unit_test(test_alloc_failures),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s CONFIGS_DIR PLUGINS_DIR\n", argv[0]);
		return 2;
	}
	configs = argv[1];
	builddir = argv[2];
	if (chdir(configs) != 0) {
		perror(configs);
		return 2;
	}
	register_behaviors();
	/* The file's `node:` is this node's unless TROUPE_NODE says. */
	unsetenv("TROUPE_NODE");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
