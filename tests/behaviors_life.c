/*
 * behaviors_life.c -- the test behavior of the lifecycle, link, name
 * and timer tests; its protocol is in behaviors_life.h.
 *
 * It runs in an actor's callbacks, which may be in another process, so
 * it shares nothing with the tests but messages.  It keeps no heap
 * memory between callbacks: an actor killed with TR_EXIT_KILL gets no
 * terminate, and whatever it held would leak.  Errors it meets make
 * handle return non-zero, which ends the actor with error(rv): a test
 * sees that as a missing answer or a DOWN.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <troupe.h>
#include <uv.h>

#include "behaviors.h"
#include "behaviors_life.h"

/* A failure of the behavior itself (not one the test asked for). */
#define BROKEN 9999

typedef struct worker {
	tr_ref report;
	/* the init argument, kept for TL_GET_ARG */
	bool has_arg;
	uint32_t arg_tag;
	size_t arg_len;
	uint8_t arg[TL_ARG_MAX];
	/* what tr_whereis() said in init */
	int whereis_rv;
	bool whereis_self;
	/* TL_UV_TIMER */
	uv_timer_t timer;
	bool timer_init;
	tr_ref timer_to;
	/* TL_WAIT_TICK: the call waiting, or a tick that came first */
	tr_from tick_from;
	bool ticked;
} worker;

/* ------------------------------------------------------------------ */
/* Bodies                                                              */

static int
reply_ints(tr_msg *req, const int64_t *v, size_t n)
{
	tr_msg *r;
	msgpack_packer *pk;

	if (!tr_msg_is_call(req)) {
		return 0;
	}
	if (tr_msg_new(&r, TL_RESULT) != TR_OK) {
		return BROKEN;
	}
	pk = tr_msg_packer(r);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_int64(pk, v[i]);
	}
	if (tr_reply(tr_msg_from(req), r) != TR_OK) {
		tr_msg_free(r);
		return BROKEN;
	}
	return 0;
}

static int
reply_rv(tr_msg *req, int rv)
{
	int64_t v = rv;
	return reply_ints(req, &v, 1);
}

/* A message whose body is the msgpack value in buf (or empty). */
static int
msg_with_raw(tr_msg **out, uint32_t tag, const void *buf, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0;
	int rv = TR_OK;

	if ((rv = tr_msg_new(out, tag)) != TR_OK || len == 0) {
		return rv;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    msgpack_pack_object(tr_msg_packer(*out), u.data) != 0) {
		tr_msg_free(*out);
		*out = NULL;
		rv = TR_EPROTO;
	}
	msgpack_unpacked_destroy(&u);
	return rv;
}

static bool
body_int(tr_msg *m, int64_t *v)
{
	msgpack_object o;
	return tr_msg_body(m, &o) == TR_OK && test_obj_int(&o, v);
}

static bool
body_ref(tr_msg *m, tr_ref *r)
{
	msgpack_object o;
	return tr_msg_body(m, &o) == TR_OK && tr_unpack_ref(&o, r) == TR_OK;
}

/* Reads [kind, code] starting at element `at` of an array body. */
static bool
body_reason(tr_msg *m, size_t at, tr_reason *why, tr_ref *ref)
{
	msgpack_object o;
	int64_t k, c;

	if (tr_msg_body(m, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != at + 2) {
		return false;
	}
	if (at == 1 && tr_unpack_ref(&o.via.array.ptr[0], ref) != TR_OK) {
		return false;
	}
	if (!test_obj_int(&o.via.array.ptr[at], &k) ||
	    !test_obj_int(&o.via.array.ptr[at + 1], &c)) {
		return false;
	}
	why->kind = (tr_exit_kind)k;
	why->code = (int32_t)c;
	return true;
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */

static int
apply_cfg(worker *w, tr_msg *arg)
{
	msgpack_object o, *e;
	uint32_t n;
	int64_t v;

	if (tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY) {
		return BROKEN;
	}
	n = o.via.array.size;
	e = o.via.array.ptr;
	if (n > 0 && e[0].type != MSGPACK_OBJECT_NIL &&
	    tr_unpack_ref(&e[0], &w->report) != TR_OK) {
		return BROKEN;
	}
	if (n > 1 && test_obj_int(&e[1], &v) && v != 0) {
		return (int)v;
	}
	if (n > 2 && e[2].type == MSGPACK_OBJECT_STR) {
		char name[TR_NAME_MAX + 1];
		tr_ref r = TR_REF_NIL;
		size_t len = e[2].via.str.size;
		if (len > TR_NAME_MAX) {
			return BROKEN;
		}
		memcpy(name, e[2].via.str.ptr, len);
		name[len] = '\0';
		w->whereis_rv = tr_whereis(name, &r);
		w->whereis_self = tr_ref_equal(r, tr_self());
	}
	if (n > 3 && test_obj_int(&e[3], &v) && v != 0) {
		tr_msg *m;
		if (tr_msg_new(&m, TL_FAIL) != TR_OK) {
			return BROKEN;
		}
		msgpack_pack_int64(tr_msg_packer(m), v);
		if (tr_send(tr_self(), m) != TR_OK) {
			tr_msg_free(m);
			return BROKEN;
		}
	}
	return 0;
}

static int
worker_init(void *state, tr_msg *arg)
{
	worker *w = state;

	w->whereis_rv = -1;
	if (arg == NULL) {
		return 0;
	}
	if (tr_msg_size(arg) > sizeof(w->arg)) {
		return BROKEN;
	}
	w->has_arg = true;
	w->arg_tag = tr_msg_tag(arg);
	w->arg_len = tr_msg_size(arg);
	memcpy(w->arg, tr_msg_data(arg), w->arg_len);
	return w->arg_tag == TL_CFG ? apply_cfg(w, arg) : 0;
}

static void
on_uv_timer(uv_timer_t *t)
{
	worker *w = t->data;
	tr_msg *m;

	if (tr_msg_new(&m, TL_UV_FIRED) != TR_OK) {
		return;
	}
	if (tr_send(w->timer_to, m) != TR_OK) {
		tr_msg_free(m);
	}
}

static int
forward_exit(worker *w, tr_msg *msg)
{
	tr_ref who;
	tr_reason why;
	tr_msg *m;
	msgpack_packer *pk;

	if (tr_ref_is_nil(w->report)) {
		return 0;
	}
	if (tr_msg_reason(msg, &who, &why, NULL) != TR_OK ||
	    tr_msg_new(&m, TL_GOT_EXIT) != TR_OK) {
		return BROKEN;
	}
	pk = tr_msg_packer(m);
	msgpack_pack_array(pk, 3);
	tr_pack_ref(pk, who);
	msgpack_pack_int64(pk, why.kind);
	msgpack_pack_int64(pk, why.code);
	if (tr_send(w->report, m) != TR_OK) {
		tr_msg_free(m);
		return BROKEN;
	}
	return 0;
}

static int
fill(tr_msg *msg)
{
	int64_t n, out[2] = {0, 0};
	tr_ref to = tr_msg_sender(msg);

	if (!body_int(msg, &n)) {
		return BROKEN;
	}
	for (int64_t i = 0; i < n; i++) {
		tr_msg *m;
		int rv;
		if (tr_msg_new(&m, TL_FILLER) != TR_OK) {
			return BROKEN;
		}
		msgpack_pack_int64(tr_msg_packer(m), i);
		if ((rv = tr_send_timed(to, m, TR_NOWAIT)) == TR_OK) {
			out[0]++;
		} else {
			tr_msg_free(m);
			if (out[1] == 0) {
				out[1] = rv;
			}
		}
	}
	return reply_ints(msg, out, 2);
}

static int
hold(tr_msg *msg)
{
	tr_msg *req, *rep = NULL;
	bool sent;
	int rv;

	if (tr_msg_new(&req, TL_HOLDING) != TR_OK) {
		return BROKEN;
	}
	rv = tr_call(tr_msg_sender(msg), req, 5000, &rep, &sent);
	if (!sent) {
		tr_msg_free(req);
	}
	tr_msg_free(rep);
	return rv == TR_OK ? 0 : BROKEN;
}

static int
start_uv_timer(worker *w, tr_msg *msg)
{
	uv_loop_t *loop = (uv_loop_t *)tr_loop();
	int64_t ms;
	int rv;

	if (!body_int(msg, &ms) || loop == NULL) {
		return BROKEN;
	}
	if (!w->timer_init) {
		if ((rv = uv_timer_init(loop, &w->timer)) != 0) {
			return reply_rv(msg, rv);
		}
		w->timer.data = w;
		w->timer_init = true;
	}
	w->timer_to = tr_msg_sender(msg);
	rv = uv_timer_start(&w->timer, on_uv_timer, (uint64_t)ms, 0);
	return reply_rv(msg, rv);
}

/* A tick (TL_TICK or a trapped exit): answers the waiting
 * TL_WAIT_TICK, or is kept for the next one. */
static int
tick(worker *w)
{
	int64_t zero = 0;
	tr_msg *r;

	if (w->tick_from.corr == 0) {
		w->ticked = true;
		return 0;
	}
	if (tr_msg_new(&r, TL_RESULT) != TR_OK) {
		return BROKEN;
	}
	msgpack_pack_array(tr_msg_packer(r), 1);
	msgpack_pack_int64(tr_msg_packer(r), zero);
	if (tr_reply(w->tick_from, r) != TR_OK) {
		tr_msg_free(r);
		return BROKEN;
	}
	w->tick_from.corr = 0;
	w->ticked = false;
	return 0;
}

static int
worker_handle(void *state, tr_msg *msg)
{
	worker *w = state;
	tr_reason why;
	tr_ref ref = TR_REF_NIL;
	int64_t v;
	tr_msg *r;
	int rv;

	switch (tr_msg_tag(msg)) {
	case TL_PING:
		if (msg_with_raw(&r, TL_PONG, tr_msg_data(msg),
		        tr_msg_size(msg)) != TR_OK) {
			return BROKEN;
		}
		rv = tr_msg_is_call(msg) ? tr_reply(tr_msg_from(msg), r) :
		                           tr_send(tr_msg_sender(msg), r);
		if (rv != TR_OK) {
			tr_msg_free(r);
		}
		return 0;
	case TL_FAIL:
		return body_int(msg, &v) ? (int)v : BROKEN;
	case TL_STOP_SELF:
		if (!body_reason(msg, 0, &why, NULL)) {
			return BROKEN;
		}
		return reply_rv(msg, tr_stop(tr_self(), why));
	case TL_STOP_REF:
		if (!body_reason(msg, 1, &why, &ref)) {
			return BROKEN;
		}
		return reply_rv(msg, tr_stop(ref, why));
	case TL_LINK:
		return body_ref(msg, &ref) ? reply_rv(msg, tr_link(ref)) :
		                             BROKEN;
	case TL_UNLINK:
		return body_ref(msg, &ref) ? reply_rv(msg, tr_unlink(ref)) :
		                             BROKEN;
	case TL_TRAP: {
		msgpack_object o;
		if (tr_msg_body(msg, &o) != TR_OK ||
		    o.type != MSGPACK_OBJECT_BOOLEAN) {
			return BROKEN;
		}
		return reply_rv(msg, tr_trap_exits(o.via.boolean, NULL));
	}
	case TL_LOOP:
		return reply_rv(msg, tr_loop() != NULL);
	case TL_SHUTDOWN:
		return reply_rv(msg, tr_shutdown());
	case TL_GET_ARG:
		if (!w->has_arg) {
			return reply_rv(msg, -1);
		}
		if (msg_with_raw(&r, w->arg_tag, w->arg, w->arg_len) != TR_OK) {
			return BROKEN;
		}
		if (tr_reply(tr_msg_from(msg), r) != TR_OK) {
			tr_msg_free(r);
			return BROKEN;
		}
		return 0;
	case TL_WHEREIS: {
		int64_t out[2] = {w->whereis_rv, w->whereis_self};
		return reply_ints(msg, out, 2);
	}
	case TL_FILL:
		return fill(msg);
	case TL_UV_TIMER:
		return start_uv_timer(w, msg);
	case TL_WAIT_TICK:
		if (!tr_msg_is_call(msg)) {
			return BROKEN;
		}
		w->tick_from = tr_msg_from(msg);
		return w->ticked ? tick(w) : 0;
	case TL_TICK:
		return tick(w);
	case TL_HOLD:
		return hold(msg);
	case TR_TAG_EXIT:
		rv = forward_exit(w, msg);
		return rv != 0 ? rv : tick(w);
	default:
		return 0;
	}
}

static void
worker_terminate(void *state, tr_reason why)
{
	worker *w = state;
	tr_msg *m;

	if (w->timer_init) {
		uv_close((uv_handle_t *)&w->timer, NULL);
		w->timer_init = false;
	}
	if (tr_ref_is_nil(w->report) ||
	    tr_msg_new(&m, TL_TERMINATED) != TR_OK) {
		return;
	}
	msgpack_pack_array(tr_msg_packer(m), 2);
	msgpack_pack_int64(tr_msg_packer(m), why.kind);
	msgpack_pack_int64(tr_msg_packer(m), why.code);
	if (tr_send(w->report, m) != TR_OK) {
		tr_msg_free(m);
	}
}

void
test_behaviors_life_register(void)
{
	static const tr_behavior worker_b = {
	    .name = TL_WORKER,
	    .state_size = sizeof(worker),
	    .init = worker_init,
	    .handle = worker_handle,
	    .terminate = worker_terminate,
	};

	(void)tr_behavior_register(&worker_b);
}
