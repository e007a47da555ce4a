/*
 * test_call.c -- request/response (tr_call, tr_reply) and the blocking
 * receive (tr_recv).
 *
 * A call is a send plus a wait, so its failures come in two kinds: the
 * ones before the request left (the caller keeps it, *sent is false)
 * and the ones after (the runtime has it, *sent is true): a timeout, a
 * callee that died.  Both are checked, and so is what must not happen
 * afterwards: a late reply surfacing in tr_recv, or the messages that
 * arrived during the call being lost or reordered.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <msgpack.h>
#include <troupe.h>

#include "behaviors.h"
#include "behaviors_msg.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

#define WAIT_MS 10000 /* for things that must happen, so a bug fails */

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

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static tr_ref
spawn(const char *behavior)
{
	tr_spec spec;
	tr_ref ref = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = behavior;
	assert_int_equal(tr_spawn(&spec, &ref, NULL), TR_OK);
	assert_false(tr_ref_is_nil(ref));
	return ref;
}

static tr_msg *
msg_empty(uint32_t tag)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, tag), TR_OK);
	return m;
}

static tr_msg *
msg_uint(uint32_t tag, uint64_t v)
{
	tr_msg *m = msg_empty(tag);

	assert_int_equal(msgpack_pack_uint64(tr_msg_packer(m), v), 0);
	return m;
}

static tr_msg *
msg_str(uint32_t tag, const char *s)
{
	tr_msg *m = msg_empty(tag);

	assert_int_equal(
	    msgpack_pack_str_with_body(tr_msg_packer(m), s, strlen(s)), 0);
	return m;
}

static uint64_t
body_uint(tr_msg *m)
{
	msgpack_object o;

	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	return o.via.u64;
}

static void
assert_body_str(tr_msg *m, const char *s)
{
	msgpack_object o;

	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_STR);
	assert_int_equal(o.via.str.size, strlen(s));
	assert_memory_equal(o.via.str.ptr, s, strlen(s));
}

static tr_msg *
recv_tag(uint32_t tag)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_recv(&m, WAIT_MS), TR_OK);
	assert_non_null(m);
	assert_int_equal(tr_msg_tag(m), tag);
	return m;
}

static void
assert_mailbox_empty(void)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_recv(&m, TR_NOWAIT), TR_ETIMEDOUT);
	assert_null(m);
}

static void
stop_and_wait(tr_ref ref)
{
	tr_mon mon;
	tr_msg *m;
	tr_ref who = TR_REF_NIL;

	assert_int_equal(tr_monitor(ref, &mon), TR_OK);
	assert_int_equal(tr_stop(ref, TR_REASON_SHUTDOWN), TR_OK);
	m = recv_tag(TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(m, &who, NULL, NULL), TR_OK);
	assert_true(tr_ref_equal(who, ref));
	tr_msg_free(m);
}

/* Proves the caller still owns m: it can be sent to ourselves. */
static void
still_mine(tr_msg *m, uint32_t tag)
{
	tr_msg *got;

	assert_int_equal(tr_msg_tag(m), tag);
	assert_int_equal(tr_send(tr_self(), m), TR_OK);
	got = recv_tag(tag);
	tr_msg_free(got);
}

/* A round trip with an echoing kit. */
static void
echo_call(tr_ref kit, uint64_t v)
{
	tr_msg *reply = NULL;
	bool sent = false;

	assert_int_equal(
	    tr_call(kit, msg_uint(TM_ECHO, v), WAIT_MS, &reply, &sent), TR_OK);
	assert_true(sent);
	assert_int_equal(tr_msg_tag(reply), TM_ECHO);
	assert_int_equal(body_uint(reply), v);
	tr_msg_free(reply);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void
test_call_echo_round_trip(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *req = msg_empty(42), *reply = NULL;
	msgpack_object o;
	bool sent = false;

	(void)state;
	assert_int_equal(msgpack_pack_array(tr_msg_packer(req), 2), 0);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(req), -7), 0);
	assert_int_equal(
	    msgpack_pack_str_with_body(tr_msg_packer(req), "x", 1), 0);
	assert_int_equal(tr_call(kit, req, WAIT_MS, &reply, &sent), TR_OK);
	assert_true(sent);
	assert_non_null(reply);
	assert_int_equal(tr_msg_tag(reply), 42);
	assert_true(tr_ref_equal(tr_msg_sender(reply), kit));
	/* A reply is no call and no notice. */
	assert_false(tr_msg_is_call(reply));
	assert_int_equal(tr_msg_from(reply).corr, 0);
	assert_int_equal(tr_msg_reason(reply, NULL, NULL, NULL), TR_EINVAL);
	assert_int_equal(tr_msg_body(reply, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 2);
	assert_int_equal(o.via.array.ptr[0].via.i64, -7);
	assert_memory_equal(o.via.array.ptr[1].via.str.ptr, "x", 1);
	tr_msg_free(reply);

	/* Again, waiting for ever, and with sent not asked for. */
	reply = NULL;
	assert_int_equal(
	    tr_call(kit, msg_uint(TM_ECHO, 8), TR_FOREVER, &reply, NULL),
	    TR_OK);
	assert_int_equal(body_uint(reply), 8);
	tr_msg_free(reply);
	/* An empty body comes back empty. */
	reply = NULL;
	assert_int_equal(
	    tr_call(kit, msg_empty(9), WAIT_MS, &reply, NULL), TR_OK);
	assert_int_equal(tr_msg_tag(reply), 9);
	assert_int_equal(tr_msg_size(reply), 0);
	tr_msg_free(reply);
	/* Nothing else was left behind. */
	assert_mailbox_empty();
}

static void
test_call_many_in_a_row(void **state)
{
	tr_ref kit = spawn("msg.kit");

	(void)state;
	/* Each call is answered by its own reply, never an earlier one. */
	for (uint64_t i = 0; i < 2000; i++) {
		echo_call(kit, i);
	}
	assert_mailbox_empty();
}

/* ------------------------------------------------------------------ */
/* Failures before the request leaves                                  */
/* ------------------------------------------------------------------ */

static void
test_call_bad_args(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *req = msg_uint(TM_ECHO, 1);
	tr_msg *reply = NULL;
	bool sent;

	(void)state;
	sent = true;
	assert_int_equal(
	    tr_call(TR_REF_NIL, req, 1000, &reply, &sent), TR_EINVAL);
	assert_false(sent);
	sent = true;
	assert_int_equal(tr_call(kit, NULL, 1000, &reply, &sent), TR_EINVAL);
	assert_false(sent);
	sent = true;
	assert_int_equal(tr_call(kit, req, 1000, NULL, &sent), TR_EINVAL);
	assert_false(sent);
	sent = true;
	assert_int_equal(tr_call(kit, req, -2, &reply, &sent), TR_EINVAL);
	assert_false(sent);
	assert_int_equal(tr_call(kit, req, INT32_MIN, &reply, NULL), TR_EINVAL);
	assert_null(reply);
	/* Still the caller's, and still good for a call. */
	assert_int_equal(tr_call(kit, req, WAIT_MS, &reply, &sent), TR_OK);
	assert_true(sent);
	assert_int_equal(body_uint(reply), 1);
	tr_msg_free(reply);
}

static void
test_call_self(void **state)
{
	tr_msg *req = msg_uint(TM_ECHO, 2);
	tr_msg *reply = NULL;
	bool sent = true;

	(void)state;
	/* It would wait for itself. */
	assert_int_equal(
	    tr_call(tr_self(), req, 1000, &reply, &sent), TR_EINVAL);
	assert_false(sent);
	assert_null(reply);
	still_mine(req, TM_ECHO);
}

static void
test_call_dead(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *req = msg_uint(TM_ECHO, 3);
	tr_msg *reply = NULL;
	bool sent = true;

	(void)state;
	stop_and_wait(kit);
	assert_int_equal(tr_call(kit, req, 1000, &reply, &sent), TR_ENOPROC);
	assert_false(sent);
	assert_null(reply);
	still_mine(req, TM_ECHO);
}

static void
test_call_never_existed(void **state)
{
	tr_msg *req = msg_uint(TM_ECHO, 4);
	tr_msg *reply = NULL;
	tr_ref r = tr_self();
	bool sent = true;

	(void)state;
	r.slot += 1000;
	assert_int_equal(tr_call(r, req, 1000, &reply, &sent), TR_ENOPROC);
	assert_false(sent);
	r = tr_self();
	r.gen++;
	sent = true;
	assert_int_equal(tr_call(r, req, 1000, &reply, &sent), TR_ENOPROC);
	assert_false(sent);
	assert_null(reply);
	still_mine(req, TM_ECHO);
}

/* What a plain thread (no actor context) gets from the API. */
typedef struct plain {
	tr_ref target;
	tr_ref self;
	int call_rv;
	bool call_sent;
	tr_msg *reply;
	int recv_rv;
	tr_msg *got;
	int send_rv;
} plain;

static void *
plain_main(void *arg)
{
	plain *p = arg;
	tr_msg *req = NULL, *m = NULL;

	/* No cmocka asserts off the test's thread: record, check later. */
	p->self = tr_self();
	if (tr_msg_new(&req, TM_ECHO) == TR_OK) {
		p->call_sent = true;
		p->call_rv =
		    tr_call(p->target, req, 1000, &p->reply, &p->call_sent);
		if (!p->call_sent) {
			tr_msg_free(req);
		}
	}
	p->recv_rv = tr_recv(&p->got, TR_NOWAIT);
	/* Sending is allowed from anywhere; the sender is then nil. */
	if (tr_msg_new(&m, 77) == TR_OK) {
		p->send_rv = tr_send(p->target, m);
		if (p->send_rv != TR_OK) {
			tr_msg_free(m);
		}
	}
	return NULL;
}

static void
run_plain(plain *p, tr_ref target)
{
	pthread_t t;

	memset(p, 0, sizeof(*p));
	p->target = target;
	p->call_rv = -1;
	p->recv_rv = -1;
	p->send_rv = -1;
	assert_int_equal(pthread_create(&t, NULL, plain_main, p), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void
test_call_from_plain_thread(void **state)
{
	tr_ref kit = spawn("msg.kit");
	plain p;

	(void)state;
	run_plain(&p, kit);
	assert_true(tr_ref_is_nil(p.self));
	assert_int_equal(p.call_rv, TR_ESTATE);
	assert_false(p.call_sent);
	assert_null(p.reply);
	assert_int_equal(p.send_rv, TR_OK);
	echo_call(kit, 5);
}

static void
test_recv_from_plain_thread(void **state)
{
	plain p;
	tr_msg *m;

	(void)state;
	run_plain(&p, tr_self());
	assert_int_equal(p.recv_rv, TR_ESTATE);
	assert_null(p.got);
	/* Its send did arrive, from nobody. */
	assert_int_equal(p.send_rv, TR_OK);
	m = recv_tag(77);
	assert_true(tr_ref_is_nil(tr_msg_sender(m)));
	assert_false(tr_msg_is_call(m));
	tr_msg_free(m);
	assert_mailbox_empty();
}

/* ------------------------------------------------------------------ */
/* Failures after the request left                                     */
/* ------------------------------------------------------------------ */

static void
test_call_timeout_late_reply(void **state)
{
	tr_ref lazy = spawn("msg.lazy");
	tr_ref kit = spawn("msg.kit");
	tr_msg *reply = NULL, *m;
	tr_stats s0, s1;
	bool sent = false;
	uint64_t t0, took;

	(void)state;
	assert_int_equal(tr_stats_get(&s0), TR_OK);
	t0 = now_ms();
	assert_int_equal(
	    tr_call(lazy, msg_uint(TM_ECHO, 1), 100, &reply, &sent),
	    TR_ETIMEDOUT);
	took = now_ms() - t0;
	assert_true(sent); /* the runtime had it: nothing to free */
	assert_null(reply);
	assert_true(took >= 99);
	assert_true(took < 5000);

	/* The lazy actor answers now, then tells us it did. */
	assert_int_equal(tr_send(lazy, msg_empty(TM_POKE)), TR_OK);
	m = recv_tag(TM_POKED); /* not the late reply */
	assert_true(tr_ref_equal(tr_msg_sender(m), lazy));
	tr_msg_free(m);
	assert_int_equal(tr_stats_get(&s1), TR_OK);
	assert_int_equal(s1.late_replies - s0.late_replies, 1);
	assert_mailbox_empty();

	/* The next call is answered by its own reply. */
	echo_call(kit, 11);
	assert_mailbox_empty();
}

static void
test_call_callee_dies(void **state)
{
	tr_ref die = spawn("msg.die");
	tr_msg *reply = NULL, *m;
	tr_reason why = TR_REASON_NORMAL;
	tr_mon mon;
	bool sent = false;
	uint64_t t0, took;

	(void)state;
	assert_int_equal(tr_monitor(die, &mon), TR_OK);
	t0 = now_ms();
	assert_int_equal(
	    tr_call(die, msg_uint(TM_ECHO, 1), 20000, &reply, &sent),
	    TR_ENOPROC);
	took = now_ms() - t0;
	assert_true(sent);
	assert_null(reply);
	/* Ended by the death, not by the timeout. */
	assert_true(took < 5000);

	/* Our own monitor still tells why. */
	m = recv_tag(TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(m, NULL, &why, NULL), TR_OK);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, TM_DIE_CODE);
	tr_msg_free(m);
	assert_mailbox_empty();
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

static void
test_call_deferred_reply(void **state)
{
	tr_ref defer = spawn("msg.defer");
	tr_msg *reply = NULL;
	bool sent = false;

	(void)state;
	for (int i = 0; i < 3; i++) {
		reply = NULL;
		assert_int_equal(tr_call(defer, msg_str(55, "later"), WAIT_MS,
		                     &reply, &sent),
		    TR_OK);
		assert_true(sent);
		assert_int_equal(tr_msg_tag(reply), 55);
		assert_true(tr_ref_equal(tr_msg_sender(reply), defer));
		assert_body_str(reply, "later");
		tr_msg_free(reply);
	}
	assert_mailbox_empty();
}

static void
test_call_keeps_messages_in_order(void **state)
{
	enum {
		N = 100,
		MINE = 3
	};
	tr_ref kit = spawn("msg.kit");
	tr_msg *reply = NULL, *m;

	(void)state;
	/* Queued before the call... */
	for (uint64_t i = 0; i < MINE; i++) {
		assert_int_equal(tr_send(tr_self(), msg_uint(900, i)), TR_OK);
	}
	/* ...and arriving during it (the kit sends them, then replies). */
	assert_int_equal(
	    tr_call(kit, msg_uint(TM_CHAT, N), WAIT_MS, &reply, NULL), TR_OK);
	assert_int_equal(tr_msg_tag(reply), TM_CHAT);
	tr_msg_free(reply);

	for (uint64_t i = 0; i < MINE; i++) {
		m = recv_tag(900);
		assert_int_equal(body_uint(m), i);
		tr_msg_free(m);
	}
	for (uint64_t i = 0; i < N; i++) {
		m = recv_tag(TM_SEQ);
		assert_true(tr_ref_equal(tr_msg_sender(m), kit));
		assert_int_equal(body_uint(m), i);
		tr_msg_free(m);
	}
	assert_mailbox_empty();
}

static void
test_call_actor_to_actor(void **state)
{
	tr_ref proxy = spawn("msg.kit");
	tr_ref target = spawn("msg.kit");
	tr_ref gone = spawn("msg.kit");
	tr_msg *req, *reply = NULL;
	msgpack_object o;

	(void)state;
	/* proxy calls target and answers with what it got. */
	req = msg_empty(TM_PROXY);
	assert_int_equal(msgpack_pack_array(tr_msg_packer(req), 2), 0);
	assert_int_equal(tr_pack_ref(tr_msg_packer(req), target), TR_OK);
	assert_int_equal(
	    msgpack_pack_str_with_body(tr_msg_packer(req), "payload", 7), 0);
	assert_int_equal(tr_call(proxy, req, WAIT_MS, &reply, NULL), TR_OK);
	assert_int_equal(tr_msg_tag(reply), TM_ECHO);
	assert_true(tr_ref_equal(tr_msg_sender(reply), proxy));
	assert_body_str(reply, "payload");
	tr_msg_free(reply);

	/* An actor's call to a dead actor fails there as it does here. */
	stop_and_wait(gone);
	req = msg_empty(TM_PROXY);
	msgpack_pack_array(tr_msg_packer(req), 2);
	assert_int_equal(tr_pack_ref(tr_msg_packer(req), gone), TR_OK);
	msgpack_pack_nil(tr_msg_packer(req));
	reply = NULL;
	assert_int_equal(tr_call(proxy, req, WAIT_MS, &reply, NULL), TR_OK);
	assert_int_equal(tr_msg_tag(reply), TM_ERR);
	assert_int_equal(tr_msg_body(reply, &o), TR_OK);
	assert_int_equal(o.via.array.ptr[0].via.i64, TR_ENOPROC);
	tr_msg_free(reply);

	/* And so does an actor's call to itself. */
	req = msg_empty(TM_PROXY);
	msgpack_pack_array(tr_msg_packer(req), 2);
	assert_int_equal(tr_pack_ref(tr_msg_packer(req), proxy), TR_OK);
	msgpack_pack_nil(tr_msg_packer(req));
	reply = NULL;
	assert_int_equal(tr_call(proxy, req, WAIT_MS, &reply, NULL), TR_OK);
	assert_int_equal(tr_msg_tag(reply), TM_ERR);
	assert_int_equal(tr_msg_body(reply, &o), TR_OK);
	assert_int_equal(o.via.array.ptr[0].via.i64, TR_EINVAL);
	tr_msg_free(reply);
	assert_mailbox_empty();
}

static void
test_reply_bad_args(void **state)
{
	tr_msg *m = msg_uint(5, 1), *got;
	tr_from from;

	(void)state;
	from.to = tr_self();
	from.corr = 0;
	assert_int_equal(tr_reply(from, m), TR_EINVAL);
	from.to = TR_REF_NIL;
	from.corr = 5;
	assert_int_equal(tr_reply(from, m), TR_EINVAL);
	from.to = tr_self();
	assert_int_equal(tr_reply(from, NULL), TR_EINVAL);

	/* A message that was no call has no return address. */
	assert_int_equal(tr_send(tr_self(), msg_uint(6, 2)), TR_OK);
	got = recv_tag(6);
	assert_false(tr_msg_is_call(got));
	from = tr_msg_from(got);
	assert_int_equal(from.corr, 0);
	assert_int_equal(tr_reply(from, m), TR_EINVAL);
	tr_msg_free(got);
	still_mine(m, 5);
}

static void
test_reply_from_main(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *m, *dup = NULL;
	tr_from from;
	tr_stats s0, s1;

	(void)state;
	/* The kit calls us: a call as tr_recv sees it. */
	assert_int_equal(tr_send(kit, msg_empty(TM_HOLD)), TR_OK);
	m = recv_tag(TM_HOLDING);
	assert_true(tr_msg_is_call(m));
	assert_true(tr_ref_equal(tr_msg_sender(m), kit));
	from = tr_msg_from(m);
	assert_true(tr_ref_equal(from.to, kit));
	assert_int_not_equal(from.corr, 0);
	/* A copy keeps the return address. */
	assert_int_equal(tr_msg_dup(&dup, m), TR_OK);
	assert_true(tr_msg_is_call(dup));
	assert_int_equal(tr_msg_from(dup).corr, from.corr);
	tr_msg_free(dup);

	assert_int_equal(tr_stats_get(&s0), TR_OK);
	/* The received call itself can be the answer. */
	assert_int_equal(tr_reply(from, m), TR_OK);
	/* A second answer is no error here; the caller discards it and
	 * counts it. */
	assert_int_equal(tr_reply(from, msg_empty(TM_HOLDING)), TR_OK);
	echo_call(kit, 6); /* after both answers reached the kit */
	assert_int_equal(tr_stats_get(&s1), TR_OK);
	if (test_actors_local()) { /* else counted in the kit's process */
		assert_int_equal(s1.late_replies - s0.late_replies, 1);
	}
	assert_mailbox_empty();
}

/* ------------------------------------------------------------------ */
/* tr_recv                                                             */
/* ------------------------------------------------------------------ */

static void
test_recv_nowait_empty(void **state)
{
	tr_msg *m = NULL;
	uint64_t t0 = now_ms();

	(void)state;
	assert_int_equal(tr_recv(&m, TR_NOWAIT), TR_ETIMEDOUT);
	assert_null(m);
	assert_true(now_ms() - t0 < 1000);
}

static void
test_recv_timeout_honoured(void **state)
{
	tr_msg *m = NULL;
	uint64_t t0, took;

	(void)state;
	t0 = now_ms();
	assert_int_equal(tr_recv(&m, 100), TR_ETIMEDOUT);
	took = now_ms() - t0;
	assert_null(m);
	assert_true(took >= 99);
	assert_true(took < 5000);

	/* A message that comes while we wait ends the wait: the kit's
	 * messages, asked for before, arrive during a long timeout. */
	{
		tr_ref kit = spawn("msg.kit");
		assert_int_equal(tr_send(kit, msg_uint(TM_EMIT, 1)), TR_OK);
		t0 = now_ms();
		assert_int_equal(tr_recv(&m, 20000), TR_OK);
		assert_true(now_ms() - t0 < 5000);
		assert_int_equal(tr_msg_tag(m), TM_SEQ);
		tr_msg_free(m);
	}
}

static void
test_recv_nowait_sees_own_send(void **state)
{
	tr_msg *m = NULL;

	(void)state;
	/* A send that returned TR_OK has put the message in the mailbox:
	 * a poll right after it finds it (Erlang: self() ! x, then
	 * receive ... after 0). */
	assert_int_equal(tr_send(tr_self(), msg_uint(8, 1)), TR_OK);
	assert_int_equal(tr_recv(&m, TR_NOWAIT), TR_OK);
	assert_int_equal(tr_msg_tag(m), 8);
	tr_msg_free(m);
}

static void
test_recv_bad_args(void **state)
{
	tr_msg *m = NULL;

	(void)state;
	assert_int_equal(tr_recv(NULL, TR_NOWAIT), TR_EINVAL);
	assert_int_equal(tr_recv(NULL, 100), TR_EINVAL);
	assert_int_equal(tr_recv(&m, -2), TR_EINVAL);
	assert_null(m);
	/* A message waiting is not taken by a refused call. */
	assert_int_equal(tr_send(tr_self(), msg_uint(8, 2)), TR_OK);
	assert_int_equal(tr_recv(NULL, TR_NOWAIT), TR_EINVAL);
	m = recv_tag(8);
	assert_int_equal(body_uint(m), 2);
	tr_msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_call_echo_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_many_in_a_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_self, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_dead, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_never_existed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_from_plain_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recv_from_plain_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_timeout_late_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_callee_dies, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_deferred_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_keeps_messages_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_actor_to_actor, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reply_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reply_from_main, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recv_nowait_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recv_timeout_honoured, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recv_nowait_sees_own_send, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_recv_bad_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
