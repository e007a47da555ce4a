/*
 * test_sendf.c -- one-line sends, calls, replies and receives, and
 * tr_forward, through actors: run under every placement leg (the actors
 * are then forked members or exec'd programs), so that every picture
 * letter also crosses processes, and a forward keeps its sender and a
 * call's reply routing across them.  Failures leave the message with
 * the caller, who proves it by sending it elsewhere.  Nothing sleeps to
 * synchronise.  test_picture.c has the bodies as values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>
#include <troupe.h>

#include "behaviors.h"
#include "behaviors_msg.h"
#include "behaviors_pic.h"
#include "picture_test.h"

#define WAIT_MS 10000 /* for things that must happen, so a bug fails */

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int
setup(void **state)
{
	(void)state;
	test_behaviors_register();
	assert_int_equal(tr_init(NULL), TR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

static tr_ref
spawn_arg(const char *behavior, tr_msg *arg)
{
	tr_spec spec;
	tr_ref ref = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = behavior;
	spec.init_arg = arg;
	assert_int_equal(tr_spawn(&spec, &ref, NULL), TR_OK);
	assert_false(tr_ref_is_nil(ref));
	tr_msg_free(arg);
	return ref;
}

static tr_ref
spawn(const char *behavior)
{
	return spawn_arg(behavior, NULL);
}

/* A pic.fwd actor passing everything on to target. */
static tr_ref
spawn_fwd(tr_ref target)
{
	tr_msg *arg = NULL;

	assert_int_equal(tr_msg_newf(&arg, 1, "r", target), TR_OK);
	return spawn_arg("pic.fwd", arg);
}

/* Stops ref and waits for its DOWN (read with a picture). */
static void
stop_and_wait(tr_ref ref)
{
	tr_mon mon;
	uint32_t tag = 0;
	int kind = -1, code = -1;
	uint64_t id = 0;

	assert_int_equal(tr_monitor(ref, &mon), TR_OK);
	assert_int_equal(tr_stop(ref, TR_REASON_SHUTDOWN), TR_OK);
	assert_int_equal(
	    tr_recvf(NULL, &tag, WAIT_MS, "iiQ", &kind, &code, &id), TR_OK);
	assert_int_equal(tag, TR_TAG_DOWN);
	assert_int_equal(kind, TR_EXIT_SHUTDOWN);
	assert_int_equal(code, 0);
	assert_int_equal(id, mon.id);
}

/* ------------------------------------------------------------------ */
/* Sending, calling and receiving in one line                          */
/* ------------------------------------------------------------------ */

/* Every letter through an actor (maybe another process) and back: the
 * actor reads them and packs what it read into its reply. */
static void
test_callf_every_letter(void **state)
{
	tr_ref calc = spawn("pic.calc");
	msgpack_object items[3];
	msgpack_object_kv kv;
	msgpack_object o = sample_object(items, &kv);
	tr_msg *reply = NULL;
	int64_t sum = 0;

	(void)state;
	assert_int_equal(tr_callf(calc, TP_ALL, WAIT_MS, &reply, TP_ALL_PIC,
	                     INT_MIN, UINT_MAX, INT64_MIN, UINT64_MAX, -0.25,
	                     true, "héllo", str_bytes, sizeof(str_bytes),
	                     bin_bytes, sizeof(bin_bytes), a_ref, &o),
	    TR_OK);
	assert_int_equal(tr_msg_tag(reply), TP_ALL);
	check_all(reply);
	tr_msg_free(reply);

	assert_int_equal(tr_callf(calc, TP_ADD, WAIT_MS, &reply, "qq",
	                     (int64_t)-5, (int64_t)12),
	    TR_OK);
	assert_int_equal(tr_msg_tag(reply), TP_SUM);
	assert_int_equal(tr_msg_unpackf(reply, "q", &sum), TR_OK);
	assert_true(sum == 7);
	tr_msg_free(reply);

	/* The actor's own unpack refuses a body of the wrong shape. */
	assert_int_equal(
	    tr_callf(calc, TP_ADD, WAIT_MS, &reply, "qs", (int64_t)1, "x"),
	    TR_OK);
	assert_int_equal(tr_msg_tag(reply), TP_BAD);
	assert_int_equal(tr_msg_unpackf(reply, "i", &(int){0}), TR_OK);
	tr_msg_free(reply);
	stop_and_wait(calc);
}

/* tr_sendf there, tr_recvf back, and a receive inside an actor. */
static void
test_sendf_recvf_through_actor(void **state)
{
	tr_ref calc = spawn("pic.calc");
	uint32_t tag = 0;
	int64_t v = 0;
	int err = -1;
	tr_msg *m = NULL;

	(void)state;
	assert_int_equal(tr_sendf(calc, TP_ASK, "q", (int64_t)21), TR_OK);
	assert_int_equal(tr_recvf(&m, &tag, WAIT_MS, "q", &v), TR_OK);
	assert_non_null(m);
	assert_int_equal(tag, TP_SUM);
	assert_true(v == 42);
	assert_true(tr_ref_equal(tr_msg_sender(m), calc));
	tr_msg_free(m);

	/* The actor blocks in tr_recvf inside handle for the next one. */
	assert_int_equal(tr_sendf(calc, TP_RECV, ""), TR_OK);
	assert_int_equal(tr_sendf(calc, TP_VALUE, "q", (int64_t)-9), TR_OK);
	assert_int_equal(tr_recvf(NULL, &tag, WAIT_MS, "iq", &err, &v), TR_OK);
	assert_int_equal(tag, TP_GOT);
	assert_int_equal(err, TR_OK);
	assert_true(v == -9);

	/* And gets TR_EPROTO for a body that does not match. */
	assert_int_equal(tr_sendf(calc, TP_RECV, ""), TR_OK);
	assert_int_equal(tr_sendf(calc, TP_VALUE, "s", "nine"), TR_OK);
	assert_int_equal(tr_recvf(NULL, &tag, WAIT_MS, "iq", &err, &v), TR_OK);
	assert_int_equal(err, TR_EPROTO);
	stop_and_wait(calc);
}

/* The one-line calls fail as the calls they stand for, and leave
 * nothing behind (the leak check judges). */
static void
test_sendf_errors(void **state)
{
	tr_ref dead = spawn("msg.kit");
	tr_msg *reply = (tr_msg *)1;

	(void)state;
	stop_and_wait(dead);
	assert_int_equal(tr_sendf(TR_REF_NIL, TAG, "q", (int64_t)1), TR_EINVAL);
	assert_int_equal(tr_sendf(dead, TAG, "s", "lost"), TR_ENOPROC);
	assert_int_equal(tr_sendf(dead, TR_TAG_DOWN, ""), TR_EINVAL);
	assert_int_equal(
	    tr_callf(dead, TAG, WAIT_MS, &reply, "s", "lost"), TR_ENOPROC);
	assert_int_equal(
	    tr_callf(dead, TAG, WAIT_MS, NULL, "s", "x"), TR_EINVAL);
	assert_int_equal(
	    tr_replyf((tr_from){TR_REF_NIL, 0}, TAG, "s", "x"), TR_EINVAL);
	assert_int_equal(tr_replyf((tr_from){dead, 0}, TAG, "x"), TR_EINVAL);
}

/* What tr_recvf does with the message when the body does not match,
 * with and without out; and what it refuses before receiving. */
static void
test_recvf_mismatch(void **state)
{
	tr_msg *m = (tr_msg *)1;
	uint32_t tag = 0;
	int64_t v = 0;
	const char *s = NULL;

	(void)state;
	assert_int_equal(tr_recvf(&m, &tag, TR_NOWAIT, "q", &v), TR_ETIMEDOUT);
	assert_null(m);

	assert_int_equal(tr_sendf(tr_self(), TAG, "s", "text"), TR_OK);
	/* Without out, s would dangle: refused, the message still queued. */
	assert_int_equal(tr_recvf(NULL, &tag, TR_NOWAIT, "s", &s), TR_EINVAL);
	assert_int_equal(tr_recvf(&m, &tag, TR_NOWAIT, "q", &v), TR_EPROTO);
	assert_non_null(m);
	assert_int_equal(tag, TAG);
	assert_int_equal(tr_msg_unpackf(m, "s", &s), TR_OK);
	assert_string_equal(s, "text");
	tr_msg_free(m);

	tag = 0;
	assert_int_equal(tr_sendf(tr_self(), TAG + 1, "s", "text"), TR_OK);
	assert_int_equal(tr_recvf(NULL, &tag, TR_NOWAIT, "q", &v), TR_EPROTO);
	assert_int_equal(tag, TAG + 1);
	/* Dropped. */
	assert_int_equal(tr_recvf(&m, NULL, TR_NOWAIT, ""), TR_ETIMEDOUT);
}

/* ------------------------------------------------------------------ */
/* Forwarding                                                          */
/* ------------------------------------------------------------------ */

/* main -> fwd -> kit: the kit answers a PING to its sender, which must
 * be main; were it the forwarder, the PONG would go to fwd and on to
 * the kit again (which ignores it), and main would wait in vain. */
static void
test_forward_keeps_sender(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_ref fwd = spawn_fwd(kit);
	uint32_t tag = 0;
	int64_t v = 0;
	tr_msg *m = NULL;

	(void)state;
	assert_int_equal(tr_sendf(fwd, TM_PING, "q", (int64_t)77), TR_OK);
	assert_int_equal(tr_recvf(&m, &tag, WAIT_MS, "q", &v), TR_OK);
	assert_int_equal(tag, TM_PONG);
	assert_true(v == 77);
	assert_true(tr_ref_equal(tr_msg_sender(m), kit));
	tr_msg_free(m);
	stop_and_wait(fwd);
	stop_and_wait(kit);
}

/* A forwarded call stays a call: the kit's tr_reply reaches main's
 * tr_call directly, from the kit. */
static void
test_forward_call_reply_routing(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_ref fwd = spawn_fwd(kit);
	tr_ref fwd2 = spawn_fwd(fwd); /* two hops */
	tr_msg *reply = NULL;
	const char *s = NULL;

	(void)state;
	assert_int_equal(
	    tr_callf(fwd, TM_ECHO, WAIT_MS, &reply, "s", "there"), TR_OK);
	assert_int_equal(tr_msg_tag(reply), TM_ECHO);
	assert_int_equal(tr_msg_unpackf(reply, "s", &s), TR_OK);
	assert_string_equal(s, "there");
	assert_true(tr_ref_equal(tr_msg_sender(reply), kit));
	tr_msg_free(reply);

	assert_int_equal(
	    tr_callf(fwd2, TM_ECHO, WAIT_MS, &reply, "s", "and back"), TR_OK);
	assert_int_equal(tr_msg_unpackf(reply, "s", &s), TR_OK);
	assert_string_equal(s, "and back");
	tr_msg_free(reply);
	stop_and_wait(fwd2);
	stop_and_wait(fwd);
	stop_and_wait(kit);
}

/* Forwarding to oneself keeps the sender too; the caller keeps the
 * message it forwarded (and frees it: the leak check judges). */
static void
test_forward_to_self(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *m = NULL, *again = NULL;
	int64_t v = 0;

	(void)state;
	assert_int_equal(tr_sendf(kit, TM_PING, "q", (int64_t)5), TR_OK);
	assert_int_equal(tr_recvf(&m, NULL, WAIT_MS, "q", &v), TR_OK);
	assert_int_equal(tr_forward(m, tr_self()), TR_OK);
	/* Still ours and unchanged. */
	assert_int_equal(tr_msg_unpackf(m, "q", &v), TR_OK);
	assert_true(v == 5);
	assert_int_equal(tr_recv(&again, TR_NOWAIT), TR_OK);
	assert_int_equal(tr_msg_tag(again), TM_PONG);
	assert_true(tr_ref_equal(tr_msg_sender(again), kit));
	assert_int_equal(tr_msg_unpackf(again, "q", &v), TR_OK);
	assert_true(v == 5);
	tr_msg_free(again);
	tr_msg_free(m);
	stop_and_wait(kit);
}

/* Forwarding to oneself never waits: a full mailbox is TR_EFULL, and
 * the message is still the caller's. */
static void
test_forward_to_self_full(void **state)
{
	tr_msg *m = NULL, *got = NULL;
	int queued = 0, rv;

	(void)state;
	assert_int_equal(tr_msg_newf(&m, TAG, "s", "kept"), TR_OK);
	while ((rv = tr_sendf(tr_self(), TAG, "")) == TR_OK) {
		queued++;
		assert_true(queued <= 100000);
	}
	assert_int_equal(rv, TR_EFULL);
	assert_int_equal(tr_forward(m, tr_self()), TR_EFULL);
	for (int i = 0; i < queued; i++) {
		assert_int_equal(tr_recvf(NULL, NULL, TR_NOWAIT, ""), TR_OK);
	}
	assert_int_equal(tr_forward(m, tr_self()), TR_OK);
	assert_int_equal(tr_recv(&got, TR_NOWAIT), TR_OK);
	assert_true(tr_ref_equal(tr_msg_sender(got), tr_self()));
	tr_msg_free(got);
	tr_msg_free(m);
}

/* A message never received goes out as the forwarder's own. */
static void
test_forward_fresh_message(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *m = NULL, *pong = NULL;

	(void)state;
	assert_int_equal(tr_msg_newf(&m, TM_PING, "s", "fresh"), TR_OK);
	assert_int_equal(tr_forward(m, kit), TR_OK);
	assert_int_equal(tr_recv(&pong, WAIT_MS), TR_OK);
	assert_int_equal(tr_msg_tag(pong), TM_PONG);
	tr_msg_free(pong);
	tr_msg_free(m);
	stop_and_wait(kit);
}

/* Failures leave the message with the caller, who sends it elsewhere;
 * notices cannot be forwarded; bodies are checked as by tr_send. */
static void
test_forward_errors(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_ref dead = spawn("msg.kit");
	tr_msg *m = NULL, *notice = NULL, *pong = NULL;
	tr_mon mon;

	(void)state;
	assert_int_equal(tr_msg_newf(&m, TM_PING, "q", (int64_t)3), TR_OK);
	assert_int_equal(tr_forward(NULL, kit), TR_EINVAL);
	assert_int_equal(tr_forward(m, TR_REF_NIL), TR_EINVAL);

	assert_int_equal(tr_monitor(dead, &mon), TR_OK);
	assert_int_equal(tr_stop(dead, TR_REASON_SHUTDOWN), TR_OK);
	assert_int_equal(tr_recv(&notice, WAIT_MS), TR_OK);
	assert_int_equal(tr_msg_tag(notice), TR_TAG_DOWN);
	assert_int_equal(tr_forward(notice, kit), TR_EINVAL);
	tr_msg_free(notice);

	assert_int_equal(tr_forward(m, dead), TR_ENOPROC);
	/* Still the caller's: it goes elsewhere. */
	assert_int_equal(tr_forward(m, kit), TR_OK);
	assert_int_equal(tr_recvf(&pong, NULL, WAIT_MS, "q", NULL), TR_OK);
	assert_int_equal(tr_msg_tag(pong), TM_PONG);
	tr_msg_free(pong);
	tr_msg_free(m);

	/* Two values: not a body. */
	assert_int_equal(tr_msg_new(&m, TM_PING), TR_OK);
	msgpack_pack_int(tr_msg_packer(m), 1);
	msgpack_pack_int(tr_msg_packer(m), 2);
	assert_int_equal(tr_forward(m, kit), TR_EPROTO);
	tr_msg_free(m);
	stop_and_wait(kit);
}

/* A forwarder whose target died reports TR_ENOPROC (pic.fwd sends
 * TP_FWD_ERR to the original sender: main, as the sender is kept). */
static void
test_forward_to_dead_from_actor(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_ref fwd = spawn_fwd(kit);
	uint32_t tag = 0;
	int err = 0;

	(void)state;
	stop_and_wait(kit);
	assert_int_equal(tr_sendf(fwd, TM_PING, ""), TR_OK);
	assert_int_equal(tr_recvf(NULL, &tag, WAIT_MS, "i", &err), TR_OK);
	assert_int_equal(tag, TP_FWD_ERR);
	assert_int_equal(err, TR_ENOPROC);
	stop_and_wait(fwd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_callf_every_letter, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sendf_recvf_through_actor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sendf_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recvf_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_keeps_sender, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_call_reply_routing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_to_self, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_to_self_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_fresh_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forward_to_dead_from_actor, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
