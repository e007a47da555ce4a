/*
 * behaviors_msg.c -- test behaviors for the message, send and call
 * tests; their protocol is in behaviors_msg.h.
 *
 * They run in an actor's callbacks, which may be in another process, so
 * they share nothing with the tests but messages.  Errors they meet are
 * reported back by message where the protocol has room for it, and
 * otherwise make handle return non-zero, which ends the actor with
 * error(rv): a test sees that as a missing reply or a DOWN.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_msg.h"

/* A message with tag and a body of one unsigned integer. */
static int
msg_uint(tr_msg **out, uint32_t tag, uint64_t v)
{
	int rv = tr_msg_new(out, tag);

	if (rv != TR_OK) {
		return rv;
	}
	if (msgpack_pack_uint64(tr_msg_packer(*out), v) != 0) {
		tr_msg_free(*out);
		*out = NULL;
		return TR_ENOMEM;
	}
	return TR_OK;
}

/* The body's single unsigned integer, or false. */
static bool
body_uint(tr_msg *m, uint64_t *v)
{
	msgpack_object o;

	if (tr_msg_body(m, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return false;
	}
	*v = o.via.u64;
	return true;
}

/* Sends n numbered TM_SEQ messages to `to`, in order. */
static int
emit(tr_ref to, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		tr_msg *m;
		int rv;
		if ((rv = msg_uint(&m, TM_SEQ, i)) != TR_OK) {
			return rv;
		}
		if ((rv = tr_send(to, m)) != TR_OK) {
			tr_msg_free(m);
			return rv;
		}
	}
	return TR_OK;
}

/* Replies to the call req with a fresh copy of it. */
static int
echo(tr_msg *req)
{
	tr_msg *r;
	int rv;

	if ((rv = tr_msg_dup(&r, req)) != TR_OK) {
		return rv;
	}
	if ((rv = tr_reply(tr_msg_from(req), r)) != TR_OK) {
		tr_msg_free(r);
	}
	return rv;
}

/* Replies with TM_ERR [code]. */
static int
reply_err(tr_from from, int code)
{
	tr_msg *r;
	int rv;

	if ((rv = tr_msg_new(&r, TM_ERR)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(r), 1);
	msgpack_pack_int(tr_msg_packer(r), code);
	if ((rv = tr_reply(from, r)) != TR_OK) {
		tr_msg_free(r);
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* msg.kit                                                              */

typedef struct kit {
	uint64_t seq_count;
	bool out_of_order;
} kit;

static int
kit_report(kit *k, tr_msg *req)
{
	tr_msg *r;
	int rv;

	if ((rv = tr_msg_new(&r, TM_REPORT)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(r), 2);
	msgpack_pack_uint64(tr_msg_packer(r), k->seq_count);
	if (k->out_of_order) {
		msgpack_pack_false(tr_msg_packer(r));
	} else {
		msgpack_pack_true(tr_msg_packer(r));
	}
	if ((rv = tr_reply(tr_msg_from(req), r)) != TR_OK) {
		tr_msg_free(r);
	}
	return rv;
}

static int
kit_proxy(tr_msg *req)
{
	tr_from from = tr_msg_from(req);
	msgpack_object o;
	tr_ref target;
	tr_msg *fwd, *answer = NULL;
	bool sent = false;
	int rv;

	if (tr_msg_body(req, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 2 ||
	    tr_unpack_ref(&o.via.array.ptr[0], &target) != TR_OK) {
		return reply_err(from, TR_EPROTO);
	}
	if ((rv = tr_msg_new(&fwd, TM_ECHO)) != TR_OK) {
		return reply_err(from, rv);
	}
	if (msgpack_pack_object(tr_msg_packer(fwd), o.via.array.ptr[1]) != 0) {
		tr_msg_free(fwd);
		return reply_err(from, TR_ENOMEM);
	}
	rv = tr_call(target, fwd, 5000, &answer, &sent);
	if (!sent) {
		tr_msg_free(fwd);
	}
	if (rv != TR_OK) {
		return reply_err(from, rv);
	}
	/* A received message is ours: it can be sent on as it is. */
	if ((rv = tr_reply(from, answer)) != TR_OK) {
		tr_msg_free(answer);
	}
	return rv;
}

static int
kit_hold(tr_msg *msg)
{
	tr_msg *req, *answer = NULL;
	bool sent = false;
	int rv;

	if ((rv = tr_msg_new(&req, TM_HOLDING)) != TR_OK) {
		return rv;
	}
	/* Bounded, so that a failed test cannot hold up shutdown for ever. */
	rv = tr_call(tr_msg_sender(msg), req, 20000, &answer, &sent);
	if (!sent) {
		tr_msg_free(req);
	}
	tr_msg_free(answer);
	return rv == TR_OK ? 0 : rv;
}

static int
kit_send_to(tr_msg *msg)
{
	msgpack_object o;
	tr_ref target;
	tr_msg *nop, *done;
	int rv, sendrv;

	if (tr_msg_body(msg, &o) != TR_OK ||
	    tr_unpack_ref(&o, &target) != TR_OK) {
		return TR_EPROTO;
	}
	if ((rv = tr_msg_new(&nop, TM_NOP)) != TR_OK) {
		return rv;
	}
	if ((sendrv = tr_send(target, nop)) != TR_OK) {
		tr_msg_free(nop);
	}
	if ((rv = tr_msg_new(&done, TM_SENT)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(done), 1);
	msgpack_pack_int(tr_msg_packer(done), sendrv);
	if ((rv = tr_send(tr_msg_sender(msg), done)) != TR_OK) {
		tr_msg_free(done);
	}
	return rv;
}

/* Answers a TM_PING with a TM_PONG carrying the same body. */
static int
pong(tr_msg *msg)
{
	msgpack_object o;
	tr_msg *r;
	int rv;

	if ((rv = tr_msg_body(msg, &o)) != TR_OK) {
		return rv;
	}
	if ((rv = tr_msg_new(&r, TM_PONG)) != TR_OK) {
		return rv;
	}
	if (tr_msg_size(msg) > 0 &&
	    msgpack_pack_object(tr_msg_packer(r), o) != 0) {
		tr_msg_free(r);
		return TR_ENOMEM;
	}
	if ((rv = tr_send(tr_msg_sender(msg), r)) != TR_OK) {
		tr_msg_free(r);
	}
	return rv;
}

static int
kit_handle(void *state, tr_msg *msg)
{
	kit *k = state;
	uint64_t n;
	tr_msg *r;
	int rv;

	if (tr_msg_is_call(msg)) {
		switch (tr_msg_tag(msg)) {
		case TM_REPORT:
			return kit_report(k, msg);
		case TM_CHAT:
			if (!body_uint(msg, &n)) {
				return reply_err(tr_msg_from(msg), TR_EPROTO);
			}
			if ((rv = emit(tr_msg_sender(msg), n)) != TR_OK) {
				return reply_err(tr_msg_from(msg), rv);
			}
			if ((rv = tr_msg_new(&r, TM_CHAT)) != TR_OK) {
				return rv;
			}
			if ((rv = tr_reply(tr_msg_from(msg), r)) != TR_OK) {
				tr_msg_free(r);
			}
			return rv;
		case TM_PROXY:
			return kit_proxy(msg);
		default:
			return echo(msg);
		}
	}
	switch (tr_msg_tag(msg)) {
	case TM_PING:
		return pong(msg);
	case TM_SEQ:
		if (!body_uint(msg, &n) || n != k->seq_count) {
			k->out_of_order = true;
		}
		k->seq_count++;
		return 0;
	case TM_EMIT:
		if (!body_uint(msg, &n)) {
			return TR_EPROTO;
		}
		return emit(tr_msg_sender(msg), n);
	case TM_HOLD:
		return kit_hold(msg);
	case TM_SEND_TO:
		return kit_send_to(msg);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* msg.lazy                                                             */

typedef struct lazy {
	tr_from from;
	bool have;
} lazy;

static int
lazy_handle(void *state, tr_msg *msg)
{
	lazy *l = state;
	tr_msg *r;
	int rv;

	if (tr_msg_is_call(msg)) {
		l->from = tr_msg_from(msg);
		l->have = true;
		return 0;
	}
	if (tr_msg_tag(msg) != TM_POKE) {
		return 0;
	}
	if (l->have) {
		l->have = false;
		if ((rv = tr_msg_new(&r, TM_ECHO)) != TR_OK) {
			return rv;
		}
		msgpack_pack_str(tr_msg_packer(r), 4);
		msgpack_pack_str_body(tr_msg_packer(r), "late", 4);
		/* The caller may have stopped waiting: no error here. */
		if ((rv = tr_reply(l->from, r)) != TR_OK) {
			tr_msg_free(r);
			return rv;
		}
	}
	if ((rv = tr_msg_new(&r, TM_POKED)) != TR_OK) {
		return rv;
	}
	if ((rv = tr_send(tr_msg_sender(msg), r)) != TR_OK) {
		tr_msg_free(r);
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* msg.defer                                                            */

typedef struct defer {
	tr_from from;
	tr_msg *req; /* a copy of the call being answered later */
} defer;

static int
defer_handle(void *state, tr_msg *msg)
{
	defer *d = state;
	tr_msg *later;
	int rv;

	if (tr_msg_is_call(msg)) {
		if (d->req != NULL) {
			return TR_ESTATE; /* one call at a time */
		}
		if ((rv = tr_msg_dup(&d->req, msg)) != TR_OK) {
			return rv;
		}
		d->from = tr_msg_from(msg);
		if ((rv = tr_msg_new(&later, TM_LATER)) != TR_OK) {
			return rv;
		}
		if ((rv = tr_send(tr_self(), later)) != TR_OK) {
			tr_msg_free(later);
		}
		return rv;
	}
	if (tr_msg_tag(msg) == TM_LATER && d->req != NULL) {
		rv = tr_reply(d->from, d->req);
		if (rv != TR_OK) {
			tr_msg_free(d->req);
		}
		d->req = NULL;
		return rv;
	}
	return 0;
}

static void
defer_terminate(void *state, tr_reason why)
{
	defer *d = state;

	(void)why;
	tr_msg_free(d->req);
	d->req = NULL;
}

/* ------------------------------------------------------------------ */
/* msg.die                                                              */

static int
die_handle(void *state, tr_msg *msg)
{
	(void)state;
	return tr_msg_is_call(msg) ? TM_DIE_CODE : 0;
}

/* ------------------------------------------------------------------ */

void
test_behaviors_msg_register(void)
{
	static const tr_behavior bs[] = {
	    {.name = "msg.kit",
	        .state_size = sizeof(kit),
	        .handle = kit_handle},
	    {.name = "msg.lazy",
	        .state_size = sizeof(lazy),
	        .handle = lazy_handle},
	    {.name = "msg.defer",
	        .state_size = sizeof(defer),
	        .handle = defer_handle,
	        .terminate = defer_terminate},
	    {.name = "msg.die", .state_size = 0, .handle = die_handle},
	};

	for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++) {
		/* Registered once per process; behaviors outlive shutdown. */
		(void)tr_behavior_register(&bs[i]);
	}
}
