/*
 * life_test.h -- helpers shared by test_lifecycle.c, test_links.c,
 * test_names.c and test_timers.c: building the messages of
 * behaviors_life.h, calling the worker, and waiting for notices.
 * Include after <cmocka.h>.  Everything here asserts on failure.
 */
#ifndef TEST_LIFE_TEST_H
#define TEST_LIFE_TEST_H

#include <stdint.h>
#include <string.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_life.h"

/* How long a test waits for something that must come (a safety net:
 * the tests synchronise on messages, this only turns a hang into a
 * failure). */
#define TL_WAIT 10000

/* Every test runs in its own runtime. */
static inline int
tl_setup(void **state)
{
	(void)state;
	test_behaviors_register();
	assert_int_equal(tr_init(NULL), TR_OK);
	/* Debugging a hang (TROUPE_TEST_GDB): the supervisors' log too. */
	tr_sup_log(getenv("TROUPE_TEST_GDB") != NULL);
	return 0;
}

static inline int
tl_teardown(void **state)
{
	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

#define TL_TEST(fn) cmocka_unit_test_setup_teardown(fn, tl_setup, tl_teardown)

/* ------------------------------------------------------------------ */
/* Messages                                                            */

static inline tr_msg *
tl_msg(uint32_t tag)
{
	tr_msg *m = NULL;
	assert_int_equal(tr_msg_new(&m, tag), TR_OK);
	return m;
}

static inline tr_msg *
tl_msg_int(uint32_t tag, int64_t v)
{
	tr_msg *m = tl_msg(tag);
	assert_int_equal(msgpack_pack_int64(tr_msg_packer(m), v), 0);
	return m;
}

static inline tr_msg *
tl_msg_bool(uint32_t tag, bool v)
{
	tr_msg *m = tl_msg(tag);
	if (v) {
		assert_int_equal(msgpack_pack_true(tr_msg_packer(m)), 0);
	} else {
		assert_int_equal(msgpack_pack_false(tr_msg_packer(m)), 0);
	}
	return m;
}

static inline tr_msg *
tl_msg_ref(uint32_t tag, tr_ref r)
{
	tr_msg *m = tl_msg(tag);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), r), TR_OK);
	return m;
}

/* [kind, code], or [ref, kind, code] when ref is not nil. */
static inline tr_msg *
tl_msg_reason(uint32_t tag, tr_ref ref, tr_reason why)
{
	tr_msg *m = tl_msg(tag);
	msgpack_packer *pk = tr_msg_packer(m);

	if (tr_ref_is_nil(ref)) {
		msgpack_pack_array(pk, 2);
	} else {
		msgpack_pack_array(pk, 3);
		assert_int_equal(tr_pack_ref(pk, ref), TR_OK);
	}
	msgpack_pack_int64(pk, why.kind);
	msgpack_pack_int64(pk, why.code);
	return m;
}

/* The worker's configuration: [report, init_fail, whereis, crash]. */
static inline tr_msg *
tl_cfg(tr_ref report, int init_fail, const char *whereis, int crash)
{
	tr_msg *m = tl_msg(TL_CFG);
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_array(pk, 4);
	if (tr_ref_is_nil(report)) {
		msgpack_pack_nil(pk);
	} else {
		assert_int_equal(tr_pack_ref(pk, report), TR_OK);
	}
	msgpack_pack_int64(pk, init_fail);
	if (whereis == NULL) {
		msgpack_pack_nil(pk);
	} else {
		msgpack_pack_str(pk, strlen(whereis));
		msgpack_pack_str_body(pk, whereis, strlen(whereis));
	}
	msgpack_pack_int64(pk, crash);
	return m;
}

/* Reads an array of n integers. */
static inline void
tl_body_ints(tr_msg *m, int64_t *out, size_t n)
{
	msgpack_object o;

	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_object *e = &o.via.array.ptr[i];
		if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			out[i] = (int64_t)e->via.u64;
		} else {
			assert_int_equal(
			    e->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
			out[i] = e->via.i64;
		}
	}
}

static inline int64_t
tl_body_int(tr_msg *m)
{
	msgpack_object o;

	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	if (o.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return (int64_t)o.via.u64;
	}
	assert_int_equal(o.type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
	return o.via.i64;
}

/* ------------------------------------------------------------------ */
/* Actors                                                              */

static inline tr_ref
tl_spawn_spec(const tr_spec *spec)
{
	tr_ref r = TR_REF_NIL;
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, -1);

	assert_int_equal(tr_spawn(spec, &r, &why), TR_OK);
	assert_false(tr_ref_is_nil(r));
	return r;
}

/* A worker with an optional configuration (freed here). */
static inline tr_ref
tl_spawn(tr_msg *cfg)
{
	tr_spec spec;
	tr_ref r;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = TL_WORKER;
	spec.init_arg = cfg;
	r = tl_spawn_spec(&spec);
	tr_msg_free(cfg);
	return r;
}

/* A worker that reports its terminate and trapped exits to us. */
static inline tr_ref
tl_spawn_reporting(void)
{
	return tl_spawn(tl_cfg(tr_self(), 0, NULL, 0));
}

/* Calls `to` with req; the caller owns the reply. */
static inline tr_msg *
tl_call(tr_ref to, tr_msg *req)
{
	tr_msg *rep = NULL;
	bool sent = false;

	assert_int_equal(tr_call(to, req, TL_WAIT, &rep, &sent), TR_OK);
	assert_true(sent);
	assert_non_null(rep);
	return rep;
}

/* Calls and reads the TL_RESULT [ints...] answer. */
static inline void
tl_call_ints(tr_ref to, tr_msg *req, int64_t *out, size_t n)
{
	tr_msg *rep = tl_call(to, req);

	assert_int_equal(tr_msg_tag(rep), TL_RESULT);
	tl_body_ints(rep, out, n);
	tr_msg_free(rep);
}

static inline int
tl_call_rv(tr_ref to, tr_msg *req)
{
	int64_t v = -1;
	tl_call_ints(to, req, &v, 1);
	return (int)v;
}

static inline void
tl_send(tr_ref to, tr_msg *m)
{
	assert_int_equal(tr_send(to, m), TR_OK);
}

static inline tr_msg *
tl_recv(void)
{
	tr_msg *m = NULL;
	assert_int_equal(tr_recv(&m, TL_WAIT), TR_OK);
	assert_non_null(m);
	return m;
}

/* The next message must have this tag; the caller owns it. */
static inline tr_msg *
tl_expect(uint32_t tag)
{
	tr_msg *m = tl_recv();
	assert_int_equal(tr_msg_tag(m), tag);
	return m;
}

static inline tr_mon
tl_monitor(tr_ref target)
{
	tr_mon mon = {0};
	assert_int_equal(tr_monitor(target, &mon), TR_OK);
	assert_true(mon.id != 0);
	return mon;
}

/* The next message must be a DOWN (or EXIT) about who with that
 * reason (and for DOWN, that monitor). */
static inline void
tl_expect_notice(uint32_t tag, tr_ref who, tr_reason why, uint64_t mon)
{
	tr_msg *m = tl_expect(tag);
	tr_ref w = TR_REF_NIL;
	tr_reason r = TR_REASON(TR_EXIT_CUSTOM, -12345);
	uint64_t id = 99999;

	assert_int_equal(tr_msg_reason(m, &w, &r, &id), TR_OK);
	assert_true(tr_ref_equal(w, who));
	assert_true(tr_ref_equal(tr_msg_sender(m), who));
	assert_int_equal(r.kind, why.kind);
	assert_int_equal(r.code, why.code);
	assert_int_equal(id, mon);
	tr_msg_free(m);
}

static inline void
tl_expect_down(tr_mon mon, tr_ref who, tr_reason why)
{
	tl_expect_notice(TR_TAG_DOWN, who, why, mon.id);
}

static inline void
tl_expect_exit(tr_ref who, tr_reason why)
{
	tl_expect_notice(TR_TAG_EXIT, who, why, 0);
}

/* The next message must be TL_TERMINATED with that reason. */
static inline void
tl_expect_terminated(tr_reason why)
{
	tr_msg *m = tl_expect(TL_TERMINATED);
	int64_t v[2];

	tl_body_ints(m, v, 2);
	assert_int_equal(v[0], why.kind);
	assert_int_equal(v[1], why.code);
	tr_msg_free(m);
}

/* Sends ourselves a marker and checks that it is the very next message:
 * nothing else was queued before it. */
static inline void
tl_expect_nothing_else(void)
{
	static int64_t seq = 1000;
	int64_t n = seq++;
	tr_msg *m;

	tl_send(tr_self(), tl_msg_int(TL_MARK, n));
	m = tl_recv();
	if (tr_msg_tag(m) != TL_MARK) {
		char buf[64];
		tr_ref who = TR_REF_NIL;
		tr_reason why = TR_REASON_NORMAL;
		(void)tr_msg_reason(m, &who, &why, NULL);
		print_error("expected the marker, got tag 0x%x (reason %s)\n",
		    (unsigned)tr_msg_tag(m),
		    tr_reason_format(why, buf, sizeof(buf)));
	}
	assert_int_equal(tr_msg_tag(m), TL_MARK);
	assert_int_equal(tl_body_int(m), n);
	tr_msg_free(m);
}

/* Stops target with why and waits for its DOWN. */
static inline void
tl_stop_wait(tr_ref target, tr_reason why)
{
	tr_mon mon = tl_monitor(target);

	assert_int_equal(tr_stop(target, why), TR_OK);
	tl_expect_down(mon, target, why);
}

static inline tr_stats
tl_stats(void)
{
	tr_stats s;
	assert_int_equal(tr_stats_get(&s), TR_OK);
	return s;
}

#endif
