/*
 * behaviors_proc.c -- the test behaviors of test_process.c; their
 * protocol is in behaviors_proc.h.
 *
 * "proc.member" runs in forked members and exec'd programs, so it shares
 * nothing with the tests but messages.  Errors it meets make a callback
 * return TP_BROKEN: a test sees that as a missing answer or a DOWN.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>
#include <uv.h>

#include "behaviors.h"
#include "behaviors_proc.h"

typedef struct member {
	uv_tcp_t server;
	bool serving;
	tr_from hung; /* the TP_HANG call kept, never answered */
} member;

/* ------------------------------------------------------------------ */
/* Bodies                                                              */

/* Sends (or, for a call, answers) tag with body [ints...]. */
static int
send_ints(
    tr_ref to, const tr_msg *call, uint32_t tag, const int64_t *v, size_t n)
{
	tr_msg *m;
	int rv;

	if ((m = test_msg_ints(tag, v, n)) == NULL) {
		return TP_BROKEN;
	}
	rv = call != NULL ? tr_reply(tr_msg_from(call), m) : tr_send(to, m);
	if (rv != TR_OK) {
		tr_msg_free(m);
		return TP_BROKEN;
	}
	return 0;
}

static int
send_pid(tr_ref to, uint32_t tag)
{
	int64_t pid = getpid();
	return send_ints(to, NULL, tag, &pid, 1);
}

/* ------------------------------------------------------------------ */
/* Init                                                                */

static int
init_block(void)
{
	struct timespec ts = {0, 50 * 1000000L};

	if (send_pid(tr_parent(), TP_INIT_PID) != 0) {
		return TP_BROKEN;
	}
	/* Never answers: the spawner's start timeout is what is tested.
	 * Bounded, so that a runtime that fails to kill us does not leave
	 * us behind for long. */
	for (int i = 0; i < 200; i++) {
		nanosleep(&ts, NULL);
	}
	return TP_BROKEN;
}

static int
init_report(tr_msg *arg)
{
	tr_msg *m;
	msgpack_packer *pk;

	if (tr_msg_new(&m, TP_INIT_SEEN) != TR_OK) {
		return TP_BROKEN;
	}
	pk = tr_msg_packer(m);
	msgpack_pack_array(pk, 3);
	tr_pack_ref(pk, tr_parent());
	msgpack_pack_uint32(pk, tr_msg_tag(arg));
	msgpack_pack_bin_with_body(pk, tr_msg_data(arg), tr_msg_size(arg));
	if (tr_send(tr_parent(), m) != TR_OK) {
		tr_msg_free(m);
		return TP_BROKEN;
	}
	return 0;
}

static int
init_once(tr_msg *arg)
{
	msgpack_object o;
	char path[512];
	tr_ref report;
	int64_t code;
	int fd;

	if (tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 3 ||
	    tr_unpack_ref(&o.via.array.ptr[0], &report) != TR_OK ||
	    o.via.array.ptr[1].type != MSGPACK_OBJECT_STR ||
	    o.via.array.ptr[1].via.str.size >= sizeof(path) ||
	    !test_obj_int(&o.via.array.ptr[2], &code)) {
		return TP_BROKEN;
	}
	memcpy(path, o.via.array.ptr[1].via.str.ptr,
	    o.via.array.ptr[1].via.str.size);
	path[o.via.array.ptr[1].via.str.size] = '\0';
	if (send_pid(report, TP_INIT_PID) != 0) {
		return TP_BROKEN;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		return errno == EEXIST ? (int)code : TP_BROKEN;
	}
	close(fd);
	return 0;
}

static void
free_handle(uv_handle_t *h)
{
	free(h);
}

static void
on_connection(uv_stream_t *server, int status)
{
	uv_tcp_t *c;
	char text[32];
	uv_buf_t buf;

	if (status < 0 || (c = malloc(sizeof(*c))) == NULL) {
		return;
	}
	if (uv_tcp_init(server->loop, c) != 0) {
		free(c);
		return;
	}
	if (uv_accept(server, (uv_stream_t *)c) == 0) {
		/* A few bytes into a fresh socket's empty send buffer: the
		 * write completes at once, and the close sends them. */
		buf = uv_buf_init(text,
		    (unsigned)snprintf(
		        text, sizeof(text), "%ld", (long)getpid()));
		(void)uv_try_write((uv_stream_t *)c, &buf, 1);
	}
	uv_close((uv_handle_t *)c, free_handle);
}

static int
init_serve(member *m, tr_msg *arg)
{
	uv_loop_t *loop = (uv_loop_t *)tr_loop();
	msgpack_object o;
	int64_t port;
	int fd, rv;

	if (loop == NULL || tr_msg_body(arg, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 1 ||
	    !test_obj_int(&o.via.array.ptr[0], &port)) {
		return TP_BROKEN;
	}
	if ((rv = tr_tcp_listen("127.0.0.1", (int)port, 64, &fd)) != TR_OK) {
		return rv;
	}
	if (uv_tcp_init(loop, &m->server) != 0) {
		close(fd);
		return TP_BROKEN;
	}
	m->serving = true; /* closed by terminate, or with the loop */
	if (uv_tcp_open(&m->server, fd) != 0) {
		close(fd);
		return TP_BROKEN;
	}
	if (uv_listen((uv_stream_t *)&m->server, 64, on_connection) != 0) {
		return TP_BROKEN;
	}
	return 0;
}

static int
member_init(void *state, tr_msg *arg)
{
	member *m = state;
	msgpack_object o;
	int64_t code;

	if (arg == NULL) {
		return 0;
	}
	switch (tr_msg_tag(arg)) {
	case TP_CFG_FAIL:
		if (tr_msg_body(arg, &o) != TR_OK || !test_obj_int(&o, &code)) {
			return TP_BROKEN;
		}
		return (int)code;
	case TP_CFG_BLOCK:
		return init_block();
	case TP_CFG_REPORT:
		return init_report(arg);
	case TP_CFG_ONCE:
		return init_once(arg);
	case TP_CFG_DIE:
		if (tr_msg_body(arg, &o) != TR_OK || !test_obj_int(&o, &code)) {
			return TP_BROKEN;
		}
		if (code > 0) {
			kill(getpid(), (int)code);
		} else {
			_exit((int)-code);
		}
		return TP_BROKEN; /* a signal that did not kill */
	case TP_CFG_SERVE:
		return init_serve(m, arg);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

static int
hang(member *m, tr_msg *msg)
{
	msgpack_object o;
	tr_ref report;

	if (!tr_msg_is_call(msg) || tr_msg_body(msg, &o) != TR_OK ||
	    tr_unpack_ref(&o, &report) != TR_OK) {
		return TP_BROKEN;
	}
	m->hung = tr_msg_from(msg);
	return send_pid(report, TP_HANGING);
}

static int
reply_parent(tr_msg *msg)
{
	tr_msg *r;

	if (tr_msg_new(&r, TP_RESULT) != TR_OK) {
		return TP_BROKEN;
	}
	tr_pack_ref(tr_msg_packer(r), tr_parent());
	if (tr_reply(tr_msg_from(msg), r) != TR_OK) {
		tr_msg_free(r);
		return TP_BROKEN;
	}
	return 0;
}

/* TP_SPAWN: a thread actor of this behavior in this process. */
static int
reply_spawned(tr_msg *msg)
{
	tr_spec spec = {.behavior = TP_MEMBER, .placement = TR_PLACE_THREAD};
	tr_ref r;
	tr_msg *rep;

	if (tr_spawn(&spec, &r, NULL) != TR_OK ||
	    tr_msg_new(&rep, TP_RESULT) != TR_OK) {
		return TP_BROKEN;
	}
	tr_pack_ref(tr_msg_packer(rep), r);
	if (tr_reply(tr_msg_from(msg), rep) != TR_OK) {
		tr_msg_free(rep);
		return TP_BROKEN;
	}
	return 0;
}

/* TP_ARM [to, n, delay_ms]: n delayed sends of TP_DATA to `to`. */
static int
arm_timers(tr_msg *msg)
{
	msgpack_object o;
	int64_t n, delay, armed = 0;
	tr_ref to;

	if (tr_msg_body(msg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 3 ||
	    tr_unpack_ref(&o.via.array.ptr[0], &to) != TR_OK ||
	    !test_obj_int(&o.via.array.ptr[1], &n) ||
	    !test_obj_int(&o.via.array.ptr[2], &delay)) {
		return TP_BROKEN;
	}
	for (; armed < n; armed++) {
		tr_msg *m;
		if (tr_msg_new(&m, TP_DATA) != TR_OK) {
			return TP_BROKEN;
		}
		if (tr_send_after(to, m, (int)delay, NULL) != TR_OK) {
			tr_msg_free(m);
			break;
		}
	}
	return send_ints(TR_REF_NIL, msg, TP_RESULT, &armed, 1);
}

static int
member_handle(void *state, tr_msg *msg)
{
	member *m = state;
	int64_t pid = getpid();

	if (!tr_msg_is_call(msg)) {
		return 0;
	}
	switch (tr_msg_tag(msg)) {
	case TP_PID:
		return send_ints(TR_REF_NIL, msg, TP_RESULT, &pid, 1);
	case TP_PARENT:
		return reply_parent(msg);
	case TP_HANG:
		return hang(m, msg);
	case TP_SPAWN:
		return reply_spawned(msg);
	case TP_ARM:
		return arm_timers(msg);
	default:
		return 0;
	}
}

static void
member_terminate(void *state, tr_reason why)
{
	member *m = state;

	(void)why;
	if (m->serving) {
		uv_close((uv_handle_t *)&m->server, NULL);
		m->serving = false;
	}
}

/* ------------------------------------------------------------------ */
/* The caller                                                          */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
caller_handle(void *state, tr_msg *msg)
{
	msgpack_object o;
	tr_ref target, report;
	tr_msg *req, *rep = NULL;
	int64_t timeout, t0, out[3];
	bool sent = false;

	(void)state;
	if (tr_msg_tag(msg) != TP_GO) {
		return 0;
	}
	if (tr_msg_body(msg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 3 ||
	    tr_unpack_ref(&o.via.array.ptr[0], &target) != TR_OK ||
	    tr_unpack_ref(&o.via.array.ptr[1], &report) != TR_OK ||
	    !test_obj_int(&o.via.array.ptr[2], &timeout)) {
		return TP_BROKEN;
	}
	if (tr_msg_new(&req, TP_HANG) != TR_OK) {
		return TP_BROKEN;
	}
	tr_pack_ref(tr_msg_packer(req), report);
	t0 = now_ms();
	out[0] = tr_call(target, req, (int)timeout, &rep, &sent);
	out[1] = sent;
	out[2] = now_ms() - t0;
	if (!sent) {
		tr_msg_free(req);
	}
	tr_msg_free(rep);
	return send_ints(report, NULL, TP_CALL_RV, out, 3);
}

void
test_behaviors_proc_register(void)
{
	static const tr_behavior member_b = {
	    .name = TP_MEMBER,
	    .state_size = sizeof(member),
	    .init = member_init,
	    .handle = member_handle,
	    .terminate = member_terminate,
	};
	static const tr_behavior caller_b = {
	    .name = TP_CALLER,
	    .handle = caller_handle,
	};

	(void)tr_behavior_register(&member_b);
	(void)tr_behavior_register(&caller_b);
}
