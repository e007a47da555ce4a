/*
 * test_send.c -- tr_send / tr_send_timed: who owns the message, what a
 * full mailbox does to a sender, ordering, and the counters.
 *
 * The rule under test everywhere is nng's: a send that fails leaves the
 * message with the caller, which proves it by sending the same message
 * somewhere else.  Full mailboxes are made deterministically: a "msg.kit"
 * actor asked to TM_HOLD calls the test back and, until the test answers
 * that call, takes nothing from its mailbox; the test then fills the
 * mailbox to its capacity.  Nothing here sleeps to synchronise: the test
 * waits on messages, calls and DOWN notices.
 */
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

/* A runtime whose largest body is 1 KiB. */
static int
setup_small_body(void **state)
{
	tr_options o;

	(void)state;
	test_behaviors_register();
	memset(&o, 0, sizeof(o));
	o.max_body = 1024;
	assert_int_equal(tr_init(&o), TR_OK);
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
spawn_cap(const char *behavior, uint32_t capacity)
{
	tr_spec spec;
	tr_ref ref = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = behavior;
	spec.mailbox_capacity = capacity;
	assert_int_equal(tr_spawn(&spec, &ref, NULL), TR_OK);
	assert_false(tr_ref_is_nil(ref));
	return ref;
}

static tr_ref
spawn(const char *behavior)
{
	return spawn_cap(behavior, 0);
}

static tr_msg *
msg_uint(uint32_t tag, uint64_t v)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, tag), TR_OK);
	assert_int_equal(msgpack_pack_uint64(tr_msg_packer(m), v), 0);
	return m;
}

static tr_msg *
msg_empty(uint32_t tag)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, tag), TR_OK);
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

/* The next message of the main context, which must carry tag. */
static tr_msg *
recv_tag(uint32_t tag)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_recv(&m, WAIT_MS), TR_OK);
	assert_non_null(m);
	assert_int_equal(tr_msg_tag(m), tag);
	return m;
}

/* Stops ref and waits for its DOWN: from then on it is known dead. */
static void
stop_and_wait(tr_ref ref)
{
	tr_mon mon;
	tr_msg *m;
	tr_ref who = TR_REF_NIL;
	uint64_t id = 0;

	assert_int_equal(tr_monitor(ref, &mon), TR_OK);
	assert_int_equal(tr_stop(ref, TR_REASON_SHUTDOWN), TR_OK);
	m = recv_tag(TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(m, &who, NULL, &id), TR_OK);
	assert_true(tr_ref_equal(who, ref));
	assert_int_equal(id, mon.id);
	tr_msg_free(m);
}

/*
 * Makes a "msg.kit" actor hold: it calls us back and takes nothing from
 * its mailbox until we answer.  Returns where to answer.
 */
static tr_from
hold(tr_ref kit)
{
	tr_msg *m;
	tr_from from;

	assert_int_equal(tr_send(kit, msg_empty(TM_HOLD)), TR_OK);
	m = recv_tag(TM_HOLDING);
	assert_true(tr_msg_is_call(m));
	assert_true(tr_ref_equal(tr_msg_sender(m), kit));
	from = tr_msg_from(m);
	assert_true(tr_ref_equal(from.to, kit));
	assert_int_not_equal(from.corr, 0);
	tr_msg_free(m);
	return from;
}

static void
release(tr_from from)
{
	assert_int_equal(tr_reply(from, msg_empty(TM_HOLDING)), TR_OK);
}

/* Calls a kit for its TM_SEQ report. */
static void
report(tr_ref kit, uint64_t *count, bool *in_order)
{
	tr_msg *reply = NULL;
	msgpack_object o;
	bool sent = false;

	assert_int_equal(
	    tr_call(kit, msg_empty(TM_REPORT), WAIT_MS, &reply, &sent), TR_OK);
	assert_true(sent);
	assert_int_equal(tr_msg_body(reply, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 2);
	*count = o.via.array.ptr[0].via.u64;
	*in_order = o.via.array.ptr[1].via.boolean;
	tr_msg_free(reply);
}

/* A round trip with the kit: everything we sent it before is handled. */
static void
ping_call(tr_ref kit)
{
	tr_msg *reply = NULL;
	bool sent = false;

	assert_int_equal(
	    tr_call(kit, msg_uint(TM_ECHO, 99), WAIT_MS, &reply, &sent), TR_OK);
	assert_int_equal(tr_msg_tag(reply), TM_ECHO);
	assert_int_equal(body_uint(reply), 99);
	tr_msg_free(reply);
}

/* Proves the caller still owns m: it can be sent to ourselves. */
static void
still_mine(tr_msg *m, uint32_t tag)
{
	tr_msg *got;

	assert_int_equal(tr_msg_tag(m), tag);
	assert_int_equal(tr_send(tr_self(), m), TR_OK);
	got = recv_tag(tag);
	assert_true(tr_ref_equal(tr_msg_sender(got), tr_self()));
	tr_msg_free(got);
}

/* ------------------------------------------------------------------ */
/* Arguments and state                                                 */
/* ------------------------------------------------------------------ */

static void
test_send_bad_args(void **state)
{
	tr_msg *m = msg_uint(1, 5);

	(void)state;
	assert_int_equal(tr_send(TR_REF_NIL, m), TR_EINVAL);
	assert_int_equal(tr_send_timed(TR_REF_NIL, m, TR_NOWAIT), TR_EINVAL);
	assert_int_equal(tr_send(tr_self(), NULL), TR_EINVAL);
	assert_int_equal(tr_send_timed(tr_self(), NULL, 10), TR_EINVAL);
	assert_int_equal(tr_send_timed(tr_self(), m, -2), TR_EINVAL);
	assert_int_equal(tr_send_timed(tr_self(), m, INT32_MIN), TR_EINVAL);
	still_mine(m, 1);
}

static void
test_send_not_running(void **state)
{
	tr_ref self = tr_self();
	tr_ref kit = spawn("msg.kit");
	tr_msg *m;

	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	/* Messages are plain values: they can be made without a runtime. */
	m = msg_uint(1, 5);
	assert_int_equal(tr_send(self, m), TR_ECLOSED);
	assert_int_equal(tr_send(kit, m), TR_ECLOSED);
	assert_int_equal(tr_send_timed(kit, m, TR_NOWAIT), TR_ECLOSED);
	assert_int_equal(tr_send_timed(kit, m, 50), TR_ECLOSED);
	assert_int_equal(tr_msg_tag(m), 1);
	/* Back up for teardown; the old refs name nothing now. */
	assert_int_equal(tr_init(NULL), TR_OK);
	assert_int_equal(tr_send(kit, m), TR_ENOPROC);
	still_mine(m, 1);
}

/* ------------------------------------------------------------------ */
/* Dead, unknown and stale receivers                                   */
/* ------------------------------------------------------------------ */

static void
test_send_to_dead_actor(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *m = msg_uint(3, 42), *got;

	(void)state;
	stop_and_wait(kit);
	assert_false(tr_alive(kit));
	assert_int_equal(tr_send(kit, m), TR_ENOPROC);
	assert_int_equal(tr_send_timed(kit, m, TR_NOWAIT), TR_ENOPROC);
	assert_int_equal(tr_send_timed(kit, m, 50), TR_ENOPROC);
	/* Still ours, intact: sent elsewhere it arrives as it was. */
	assert_int_equal(tr_send(tr_self(), m), TR_OK);
	got = recv_tag(3);
	assert_int_equal(body_uint(got), 42);
	tr_msg_free(got);
}

static void
test_send_to_never_existed(void **state)
{
	tr_ref r = tr_self();
	tr_msg *m = msg_uint(4, 1);

	(void)state;
	/* The right node and process, slots nobody ever had. */
	r.slot = tr_self().slot + 1000;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	r.slot = UINT32_MAX;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	r.slot = tr_self().slot + 1;
	r.gen = 1;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	r.slot = 0;
	assert_int_equal(tr_send_timed(r, m, TR_NOWAIT), TR_ENOPROC);
	still_mine(m, 4);
}

static void
test_send_stale_gen(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_ref r, kit2;
	tr_msg *m = msg_uint(TM_SEQ, 0);
	uint64_t count = 99;
	bool in_order = false;

	(void)state;
	/* Other incarnations of a live slot. */
	r = kit;
	r.gen = kit.gen + 1;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	r.gen = kit.gen - 1;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	r.gen = 0;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	r = tr_self();
	r.gen++;
	assert_int_equal(tr_send(r, m), TR_ENOPROC);
	report(kit, &count, &in_order);
	assert_int_equal(count, 0);

	/* A successor in the same slot never gets its predecessor's mail. */
	stop_and_wait(kit);
	kit2 = spawn("msg.kit");
	if (kit2.proc == kit.proc && kit2.slot == kit.slot) {
		assert_int_not_equal(kit2.gen, kit.gen);
	}
	assert_false(tr_ref_equal(kit, kit2));
	assert_int_equal(tr_send(kit, m), TR_ENOPROC);
	report(kit2, &count, &in_order);
	assert_int_equal(count, 0);
	assert_int_equal(tr_send(kit2, m), TR_OK);
	report(kit2, &count, &in_order);
	assert_int_equal(count, 1);
	assert_true(in_order);
}

/* ------------------------------------------------------------------ */
/* Order                                                               */
/* ------------------------------------------------------------------ */

static void
test_send_fifo_main_to_actor(void **state)
{
	enum {
		N = 10000
	};
	tr_ref kit = spawn("msg.kit");
	uint64_t count = 0;
	bool in_order = false;

	(void)state;
	/* Ten times the default capacity: the sender is pushed back, the
	 * order must survive that too. */
	for (uint64_t i = 0; i < N; i++) {
		tr_msg *m = msg_uint(TM_SEQ, i);
		int rv = tr_send(kit, m);
		if (rv != TR_OK) {
			tr_msg_free(m);
		}
		assert_int_equal(rv, TR_OK);
	}
	report(kit, &count, &in_order);
	assert_int_equal(count, N);
	assert_true(in_order);
}

static void
test_send_fifo_actor_to_main(void **state)
{
	enum {
		N = 5000
	};
	tr_ref kit = spawn("msg.kit");
	tr_msg *m = NULL;

	(void)state;
	/* More than the main context's mailbox holds: the actor is pushed
	 * back while we read. */
	assert_int_equal(tr_send(kit, msg_uint(TM_EMIT, N)), TR_OK);
	for (uint64_t i = 0; i < N; i++) {
		m = recv_tag(TM_SEQ);
		assert_true(tr_ref_equal(tr_msg_sender(m), kit));
		assert_int_equal(body_uint(m), i);
		tr_msg_free(m);
	}
	m = NULL;
	assert_int_equal(tr_recv(&m, TR_NOWAIT), TR_ETIMEDOUT);
	assert_null(m);
}

/* ------------------------------------------------------------------ */
/* Full mailboxes                                                      */
/* ------------------------------------------------------------------ */

static void
test_send_full_nowait_and_timeout(void **state)
{
	tr_ref kit = spawn_cap("msg.kit", 2);
	tr_from from = hold(kit);
	tr_msg *m = msg_uint(TM_NOP, 3);
	uint64_t t0, took;

	(void)state;
	assert_int_equal(
	    tr_send_timed(kit, msg_empty(TM_NOP), TR_NOWAIT), TR_OK);
	assert_int_equal(
	    tr_send_timed(kit, msg_empty(TM_NOP), TR_NOWAIT), TR_OK);

	/* TR_NOWAIT: refused at once. */
	t0 = now_ms();
	assert_int_equal(tr_send_timed(kit, m, TR_NOWAIT), TR_EFULL);
	took = now_ms() - t0;
	assert_true(took < 1000);

	/* A timeout: refused after it, not before, and not much later. */
	t0 = now_ms();
	assert_int_equal(tr_send_timed(kit, m, 50), TR_ETIMEDOUT);
	took = now_ms() - t0;
	assert_true(took >= 49);
	assert_true(took < 5000);
	assert_int_equal(body_uint(m), 3);

	/* Once the actor takes its mail, the same message goes, blocking. */
	release(from);
	assert_int_equal(tr_send(kit, m), TR_OK);
	assert_int_equal(tr_send_timed(kit, msg_empty(TM_NOP), WAIT_MS), TR_OK);
	ping_call(kit);
}

static void
test_send_blocked_sender_released(void **state)
{
	tr_ref held = spawn_cap("msg.kit", 2);
	tr_ref sender = spawn("msg.kit");
	tr_from from = hold(held);
	tr_msg *m = NULL;
	msgpack_object o;

	(void)state;
	assert_int_equal(
	    tr_send_timed(held, msg_empty(TM_NOP), TR_NOWAIT), TR_OK);
	assert_int_equal(
	    tr_send_timed(held, msg_empty(TM_NOP), TR_NOWAIT), TR_OK);

	/* The sender actor tr_send()s to the full mailbox and blocks. */
	assert_int_equal(tr_msg_new(&m, TM_SEND_TO), TR_OK);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), held), TR_OK);
	assert_int_equal(tr_send(sender, m), TR_OK);
	/* Not a synchronisation: a check that it did not get through a
	 * full mailbox. */
	m = NULL;
	assert_int_equal(tr_recv(&m, 100), TR_ETIMEDOUT);
	assert_null(m);

	/* The holder starts taking its mail: the sender is let through. */
	release(from);
	m = recv_tag(TM_SENT);
	assert_true(tr_ref_equal(tr_msg_sender(m), sender));
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.ptr[0].via.i64, TR_OK);
	tr_msg_free(m);
	ping_call(held);
	ping_call(sender);
}

static void
test_send_main_full_to_self(void **state)
{
	tr_msg *m;
	uint64_t n = 0, t0;
	int rv;

	(void)state;
	for (;;) {
		m = msg_uint(TM_SEQ, n);
		if ((rv = tr_send_timed(tr_self(), m, TR_NOWAIT)) != TR_OK) {
			break;
		}
		n++;
		assert_true(n <= 1024);
	}
	assert_int_equal(rv, TR_EFULL);
	assert_int_equal(n, 1024); /* the documented default capacity */

	/* Nobody else can make room: waiting would be a deadlock. */
	t0 = now_ms();
	assert_int_equal(tr_send(tr_self(), m), TR_EFULL);
	assert_int_equal(tr_send_timed(tr_self(), m, 200), TR_EFULL);
	assert_true(now_ms() - t0 < 190);

	for (uint64_t i = 0; i < n; i++) {
		tr_msg *got = recv_tag(TM_SEQ);
		assert_int_equal(body_uint(got), i);
		tr_msg_free(got);
	}
	/* Room again: the refused message was still ours all along. */
	assert_int_equal(tr_send(tr_self(), m), TR_OK);
	m = recv_tag(TM_SEQ);
	assert_int_equal(body_uint(m), n);
	tr_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* Size                                                                */
/* ------------------------------------------------------------------ */

/* A message whose body (a bin) is exactly total bytes long. */
static tr_msg *
msg_of_size(uint32_t tag, size_t total)
{
	static const char zeros[4096];
	tr_msg *m = NULL;

	/* bin16: 3 header bytes. */
	assert_true(total >= 259 && total - 3 <= sizeof(zeros));
	assert_int_equal(tr_msg_new(&m, tag), TR_OK);
	assert_int_equal(
	    msgpack_pack_bin_with_body(tr_msg_packer(m), zeros, total - 3), 0);
	assert_int_equal(tr_msg_size(m), total);
	return m;
}

static void
test_send_body_too_large(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *big = msg_of_size(6, 1025), *ok = msg_of_size(6, 1024), *got;
	tr_msg *reply = NULL;
	bool sent = true;
	tr_from from;

	(void)state;
	assert_int_equal(tr_send(tr_self(), big), TR_EMSGSIZE);
	assert_int_equal(tr_send_timed(kit, big, TR_NOWAIT), TR_EMSGSIZE);
	assert_int_equal(
	    tr_call(kit, big, WAIT_MS, &reply, &sent), TR_EMSGSIZE);
	assert_false(sent);
	assert_null(reply);
	/* Nor can it be the answer to a call. */
	from = hold(kit);
	assert_int_equal(tr_reply(from, big), TR_EMSGSIZE);
	assert_int_equal(tr_msg_size(big), 1025);
	tr_msg_free(big);
	release(from);

	/* The limit itself is allowed. */
	assert_int_equal(tr_send(tr_self(), ok), TR_OK);
	got = recv_tag(6);
	assert_int_equal(tr_msg_size(got), 1024);
	tr_msg_free(got);
	ping_call(kit);
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

static void
test_send_stats(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_stats s0, s1, s2;
	uint64_t count = 0;
	bool in_order = false;

	(void)state;
	assert_int_equal(tr_stats_get(NULL), TR_EINVAL);
	assert_int_equal(tr_stats_get(&s0), TR_OK);
	for (uint64_t i = 0; i < 10; i++) {
		assert_int_equal(
		    tr_send(tr_self(), msg_uint(TM_SEQ, i)), TR_OK);
	}
	assert_int_equal(tr_stats_get(&s1), TR_OK);
	assert_int_equal(s1.sent - s0.sent, 10);
	assert_int_equal(s1.delivered - s0.delivered, 0);
	for (int i = 0; i < 10; i++) {
		tr_msg_free(recv_tag(TM_SEQ));
	}
	assert_int_equal(tr_stats_get(&s1), TR_OK);
	assert_int_equal(s1.sent - s0.sent, 10);
	if (!test_actors_local()) {
		return; /* delivered and dead letters count in the members */
	}
	assert_int_equal(s1.delivered - s0.delivered, 10);

	/* Refused sends count for nothing. */
	{
		tr_msg *m = msg_uint(TM_SEQ, 0);
		tr_ref r = kit;
		r.gen++;
		assert_int_equal(tr_send(r, m), TR_ENOPROC);
		tr_msg_free(m);
	}
	/* To an actor: everything sent gets delivered. */
	for (uint64_t i = 0; i < 10; i++) {
		assert_int_equal(tr_send(kit, msg_uint(TM_SEQ, i)), TR_OK);
	}
	report(kit, &count, &in_order);
	assert_int_equal(count, 10);
	assert_int_equal(tr_stats_get(&s2), TR_OK);
	assert_true(s2.sent - s1.sent >= 10);
	assert_int_equal(s2.sent - s1.sent, s2.delivered - s1.delivered);
	assert_int_equal(s2.dead_letters, s0.dead_letters);
}

static void
test_send_dead_letters(void **state)
{
	enum {
		CAP = 4
	};
	tr_stats s0, s1;
	tr_ref kit;
	tr_from from;
	tr_mon mon;
	tr_msg *m, *extra;
	tr_reason why = TR_REASON_NORMAL;

	(void)state;
	assert_int_equal(tr_stats_get(&s0), TR_OK);
	kit = spawn_cap("msg.kit", CAP);
	from = hold(kit);
	for (int i = 0; i < CAP; i++) {
		assert_int_equal(
		    tr_send_timed(kit, msg_empty(TM_NOP), TR_NOWAIT), TR_OK);
	}
	extra = msg_empty(TM_NOP);
	assert_int_equal(tr_send_timed(kit, extra, TR_NOWAIT), TR_EFULL);

	/* The stop takes the control lane past the full mailbox; the actor
	 * ends when its callback returns, its queued mail unhandled. */
	assert_int_equal(tr_monitor(kit, &mon), TR_OK);
	assert_int_equal(tr_stop(kit, TR_REASON_SHUTDOWN), TR_OK);
	release(from);
	m = recv_tag(TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(m, NULL, &why, NULL), TR_OK);
	assert_int_equal(why.kind, TR_EXIT_SHUTDOWN);
	tr_msg_free(m);
	assert_int_equal(tr_send(kit, extra), TR_ENOPROC);
	tr_msg_free(extra);

	/* Every message accepted was delivered or counted as dead:
	 * TM_HOLD and its call back were delivered, the CAP were not (the
	 * DOWN is no user message: neither sent nor delivered). */
	assert_int_equal(tr_stats_get(&s1), TR_OK);
	if (!test_actors_local()) {
		return; /* the dead letters are counted in the member */
	}
	assert_int_equal(s1.dead_letters - s0.dead_letters, CAP);
	assert_int_equal(s1.sent - s0.sent,
	    (s1.delivered - s0.delivered) +
	        (s1.dead_letters - s0.dead_letters));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_send_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_not_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_to_dead_actor, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_to_never_existed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_stale_gen, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_fifo_main_to_actor, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_fifo_actor_to_main, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_full_nowait_and_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_blocked_sender_released, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_main_full_to_self, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_body_too_large, setup_small_body, teardown),
	    cmocka_unit_test_setup_teardown(test_send_stats, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_send_dead_letters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
