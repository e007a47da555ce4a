/*
 * behaviors_sup.c -- the test behaviors of the supervisor tests; their
 * protocol is in behaviors_sup.h.
 *
 * They run in actors' callbacks, which may be in other processes, so
 * they share nothing with the tests but messages.  They keep no heap
 * memory between callbacks: a child killed (TR_EXIT_KILL, SIGKILL) gets
 * no terminate, and whatever it held would leak.  A failure of the
 * behavior itself makes handle return BROKEN, which a test sees as an
 * unexpected error(9999).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_sup.h"

#define BROKEN 9999
#define DRIVER_MAX 8

typedef struct child {
	tr_ref report;
	int64_t label;
	int64_t works;
	int64_t term_ms;
} child;

/* sup.gate: per label, the answers to give in turn, then a default. */
#define GATE_LABELS 16
#define GATE_QUEUE 8
typedef struct gate_script {
	bool used;
	int64_t label;
	int64_t def[2];
	int64_t q[GATE_QUEUE][2];
	int nq, next;
} gate_script;

typedef struct gate {
	gate_script s[GATE_LABELS];
} gate;

typedef struct driver {
	char prefix[32];
	int n;
	int64_t sent;
	int64_t failed;
} driver;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sends tag [v...] to `to`; false if it could not. */
static bool
send_ints(tr_ref to, uint32_t tag, const int64_t *v, size_t n)
{
	tr_msg *m;

	if (tr_ref_is_nil(to)) {
		return true;
	}
	if ((m = test_msg_ints(tag, v, n)) == NULL) {
		return false;
	}
	if (tr_send(to, m) != TR_OK) {
		tr_msg_free(m);
		return false;
	}
	return true;
}

static int
reply_ints(tr_msg *req, const int64_t *v, size_t n)
{
	tr_msg *r;

	if (!tr_msg_is_call(req)) {
		return 0;
	}
	if ((r = test_msg_ints(TS_PONG, v, n)) == NULL) {
		return BROKEN;
	}
	if (tr_reply(tr_msg_from(req), r) != TR_OK) {
		tr_msg_free(r);
		return BROKEN;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* sup.child                                                           */

/* Stays in the callback for ms, deaf to everything (stop requests
 * too): a child that does not answer its stop is the thing under test
 * (a supervisor's shutdown timeout, then kill), so the delay is the
 * point.  tr_sleep, not nanosleep: a scheduled actor must not hold up
 * the others of its scheduler (its supervisor among them). */
static void
block_for(int64_t ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;
	uint64_t now;

	while ((now = now_ns()) < end) {
		(void)tr_sleep((int)((end - now + 999999u) / 1000000u));
	}
}

/* Asks the gate what this start is to do: [code, ms]. */
static bool
ask_gate(tr_ref g, int64_t label, int64_t *code, int64_t *ms)
{
	tr_msg *req, *rep = NULL;
	msgpack_object o;
	bool sent = false, ok;

	if ((req = test_msg_ints(TS_ASK, &label, 1)) == NULL) {
		return false;
	}
	if (tr_call(g, req, 10000, &rep, &sent) != TR_OK) {
		if (!sent) {
			tr_msg_free(req);
		}
		return false;
	}
	ok = tr_msg_tag(rep) == TS_ANSWER && tr_msg_body(rep, &o) == TR_OK &&
	    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 2 &&
	    test_obj_int(&o.via.array.ptr[0], code) &&
	    test_obj_int(&o.via.array.ptr[1], ms);
	tr_msg_free(rep);
	return ok;
}

static int
child_init(void *state, tr_msg *arg)
{
	child *c = state;
	msgpack_object o, *e;
	int64_t fail = 0;
	int64_t v[3];

	if (arg == NULL || tr_msg_tag(arg) != TS_CFG) {
		return 0;
	}
	if (tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size < 3 || o.via.array.size > 6 ||
	    o.via.array.size == 5) {
		return BROKEN;
	}
	e = o.via.array.ptr;
	if (e[0].type != MSGPACK_OBJECT_NIL &&
	    tr_unpack_ref(&e[0], &c->report) != TR_OK) {
		return BROKEN;
	}
	if (!test_obj_int(&e[1], &c->label) || !test_obj_int(&e[2], &fail)) {
		return BROKEN;
	}
	if (o.via.array.size == 6) {
		tr_ref g = TR_REF_NIL;
		if (!test_obj_int(&e[4], &c->term_ms) ||
		    (e[5].type != MSGPACK_OBJECT_NIL &&
		        tr_unpack_ref(&e[5], &g) != TR_OK)) {
			return BROKEN;
		}
		if (!tr_ref_is_nil(g)) {
			int64_t code, ms;
			if (!ask_gate(g, c->label, &code, &ms)) {
				return BROKEN;
			}
			block_for(ms);
			if (code != 0) {
				v[0] = c->label;
				v[1] = code;
				v[2] = (int64_t)now_ns();
				if (!send_ints(c->report, TS_ATTEMPT, v, 3)) {
					return BROKEN;
				}
				return (int)code;
			}
		}
	}
	if (fail != 0) {
		return (int)fail;
	}
	v[0] = c->label;
	v[1] = (int64_t)now_ns();
	v[2] = getpid();
	if (!send_ints(c->report, TS_STARTED, v, 3)) {
		return BROKEN;
	}
	if (o.via.array.size >= 4 && test_obj_int(&e[3], &v[0]) && v[0] > 0) {
		block_for(v[0]);
	}
	return 0;
}

static int
child_handle(void *state, tr_msg *msg)
{
	child *c = state;
	msgpack_object o;
	int64_t v[3];

	switch (tr_msg_tag(msg)) {
	case TS_CRASH:
		if (tr_msg_body(msg, &o) != TR_OK || !test_obj_int(&o, &v[0])) {
			return BROKEN;
		}
		return (int)v[0];
	case TS_EXIT:
		if (tr_msg_body(msg, &o) != TR_OK ||
		    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 2 ||
		    !test_obj_int(&o.via.array.ptr[0], &v[0]) ||
		    !test_obj_int(&o.via.array.ptr[1], &v[1])) {
			return BROKEN;
		}
		return tr_stop(tr_self(),
		           TR_REASON((tr_exit_kind)v[0], (int32_t)v[1])) ==
		        TR_OK ?
		    0 :
		    BROKEN;
	case TS_HANG:
		if (tr_msg_body(msg, &o) != TR_OK || !test_obj_int(&o, &v[1])) {
			return BROKEN;
		}
		v[0] = c->label;
		if (!send_ints(c->report, TS_HANGING, v, 1)) {
			return BROKEN;
		}
		block_for(v[1]);
		return 0;
	case TS_WORK:
		c->works++;
		return 0;
	case TS_PING:
		v[0] = c->label;
		v[1] = c->works;
		v[2] = getpid();
		return reply_ints(msg, v, 3);
	case TS_UNLINK: {
		tr_ref r;
		if (tr_msg_body(msg, &o) != TR_OK ||
		    tr_unpack_ref(&o, &r) != TR_OK) {
			return BROKEN;
		}
		return tr_unlink(r) == TR_OK ? 0 : BROKEN;
	}
	default:
		return 0;
	}
}

static void
child_terminate(void *state, tr_reason why)
{
	child *c = state;
	int64_t v[4];

	if (c->term_ms > 0) {
		block_for(c->term_ms);
	}
	v[0] = c->label;
	v[1] = why.kind;
	v[2] = why.code;
	v[3] = (int64_t)now_ns();
	(void)send_ints(c->report, TS_STOPPED, v, 4);
}

/* ------------------------------------------------------------------ */
/* sup.gate                                                            */

static gate_script *
gate_find(gate *g, int64_t label, bool add)
{
	for (int i = 0; i < GATE_LABELS; i++) {
		if (g->s[i].used && g->s[i].label == label) {
			return &g->s[i];
		}
	}
	for (int i = 0; add && i < GATE_LABELS; i++) {
		if (!g->s[i].used) {
			memset(&g->s[i], 0, sizeof(g->s[i]));
			g->s[i].used = true;
			g->s[i].label = label;
			return &g->s[i];
		}
	}
	return NULL;
}

static int
gate_handle(void *state, tr_msg *msg)
{
	gate *g = state;
	msgpack_object o, *e;
	gate_script *sc;
	int64_t label, v[2] = {0, 0};

	if (tr_msg_body(msg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size < 1) {
		return BROKEN;
	}
	e = o.via.array.ptr;
	if (!test_obj_int(&e[0], &label)) {
		return BROKEN;
	}
	switch (tr_msg_tag(msg)) {
	case TS_GATE_SET:
		if (o.via.array.size < 3 || o.via.array.size % 2 != 1 ||
		    (o.via.array.size - 3) / 2 > GATE_QUEUE ||
		    (sc = gate_find(g, label, true)) == NULL ||
		    !test_obj_int(&e[1], &sc->def[0]) ||
		    !test_obj_int(&e[2], &sc->def[1])) {
			return BROKEN;
		}
		sc->nq = 0;
		sc->next = 0;
		for (uint32_t i = 3; i + 1 < o.via.array.size; i += 2) {
			if (!test_obj_int(&e[i], &sc->q[sc->nq][0]) ||
			    !test_obj_int(&e[i + 1], &sc->q[sc->nq][1])) {
				return BROKEN;
			}
			sc->nq++;
		}
		return reply_ints(msg, v, 0);
	case TS_ASK:
		if ((sc = gate_find(g, label, false)) != NULL) {
			if (sc->next < sc->nq) {
				v[0] = sc->q[sc->next][0];
				v[1] = sc->q[sc->next][1];
				sc->next++;
			} else {
				v[0] = sc->def[0];
				v[1] = sc->def[1];
			}
		}
		if (tr_msg_is_call(msg)) {
			tr_msg *r = test_msg_ints(TS_ANSWER, v, 2);
			if (r == NULL) {
				return BROKEN;
			}
			if (tr_reply(tr_msg_from(msg), r) != TR_OK) {
				tr_msg_free(r);
				return BROKEN;
			}
		}
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* sup.driver                                                          */

static bool
tick_later(void)
{
	tr_msg *m;

	if (tr_msg_new(&m, TS_TICK) != TR_OK) {
		return false;
	}
	if (tr_send_after(tr_self(), m, 1, NULL) != TR_OK) {
		tr_msg_free(m);
		return false;
	}
	return true;
}

static int
driver_init(void *state, tr_msg *arg)
{
	driver *d = state;
	msgpack_object o, *e;
	int64_t n;

	if (arg == NULL || tr_msg_tag(arg) != TS_CFG ||
	    tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 2) {
		return BROKEN;
	}
	e = o.via.array.ptr;
	if (e[0].type != MSGPACK_OBJECT_STR ||
	    e[0].via.str.size >= sizeof(d->prefix) ||
	    !test_obj_int(&e[1], &n) || n < 1 || n > DRIVER_MAX) {
		return BROKEN;
	}
	memcpy(d->prefix, e[0].via.str.ptr, e[0].via.str.size);
	d->n = (int)n;
	return tick_later() ? 0 : BROKEN;
}

static void
drive(driver *d)
{
	for (int i = 0; i < d->n; i++) {
		char name[TR_NAME_MAX + 1];
		tr_ref to;
		tr_msg *m;

		snprintf(name, sizeof(name), "%s.%d", d->prefix, i);
		if (tr_whereis(name, &to) != TR_OK ||
		    tr_msg_new(&m, TS_WORK) != TR_OK) {
			d->failed++;
			continue;
		}
		if (tr_send_timed(to, m, TR_NOWAIT) == TR_OK) {
			d->sent++;
		} else {
			tr_msg_free(m);
			d->failed++;
		}
	}
}

static int
driver_handle(void *state, tr_msg *msg)
{
	driver *d = state;
	int64_t v[2];

	switch (tr_msg_tag(msg)) {
	case TS_TICK:
		drive(d);
		return tick_later() ? 0 : BROKEN;
	case TS_PING:
		v[0] = d->sent;
		v[1] = d->failed;
		return reply_ints(msg, v, 2);
	default:
		return 0;
	}
}

void
test_behaviors_sup_register(void)
{
	static const tr_behavior child_b = {
	    .name = TS_CHILD,
	    .state_size = sizeof(child),
	    .init = child_init,
	    .handle = child_handle,
	    .terminate = child_terminate,
	};
	static const tr_behavior driver_b = {
	    .name = TS_DRIVER,
	    .state_size = sizeof(driver),
	    .init = driver_init,
	    .handle = driver_handle,
	};

	static const tr_behavior gate_b = {
	    .name = TS_GATE,
	    .state_size = sizeof(gate),
	    .handle = gate_handle,
	};

	(void)tr_behavior_register(&child_b);
	(void)tr_behavior_register(&driver_b);
	(void)tr_behavior_register(&gate_b);
}
