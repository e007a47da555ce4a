/*
 * behaviors_exit.c -- the test behavior of test_exit.c; its protocol is
 * in behaviors_exit.h.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_exit.h"

typedef struct exit_member {
	int64_t emit; /* TX_DATA messages to send after init */
} exit_member;

static int
exit_init(void *state, tr_msg *arg)
{
	exit_member *m = state;
	msgpack_object o;
	tr_msg *go;

	if (arg == NULL || tr_msg_tag(arg) != TX_CFG_EMIT) {
		return 0;
	}
	if (tr_msg_body(arg, &o) != TR_OK || !test_obj_int(&o, &m->emit) ||
	    tr_msg_new(&go, TX_GO) != TR_OK) {
		return TX_BROKEN;
	}
	/* After init: tr_spawn returns once init has. */
	if (tr_send(tr_self(), go) != TR_OK) {
		tr_msg_free(go);
		return TX_BROKEN;
	}
	return 0;
}

static int
emit(exit_member *m)
{
	for (int64_t i = 0; i < m->emit; i++) {
		tr_msg *d = test_msg_ints(TX_DATA, &i, 1);
		if (d == NULL || tr_send(tr_parent(), d) != TR_OK) {
			tr_msg_free(d);
			return TX_BROKEN;
		}
	}
	return TX_DONE_CODE; /* the end, right after the last message */
}

static int
block(tr_msg *msg)
{
	struct timespec ts = {0, 100 * 1000000L};
	msgpack_object o;
	tr_ref report;
	int64_t pid = getpid();
	tr_msg *r;

	if (tr_msg_body(msg, &o) != TR_OK ||
	    tr_unpack_ref(&o, &report) != TR_OK ||
	    (r = test_msg_ints(TX_BLOCKED, &pid, 1)) == NULL) {
		return TX_BROKEN;
	}
	if (tr_send(report, r) != TR_OK) {
		tr_msg_free(r);
		return TX_BROKEN;
	}
	/* Killed here, by the test.  Bounded, in case it is not. */
	for (int i = 0; i < 300; i++) {
		nanosleep(&ts, NULL);
	}
	return TX_BROKEN;
}

static int
quit(tr_msg *msg)
{
	msgpack_object o;
	int64_t ms;
	struct timespec ts;

	if (tr_msg_body(msg, &o) != TR_OK || !test_obj_int(&o, &ms) || ms < 0 ||
	    ms > 10000) {
		return TX_BROKEN;
	}
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* The delay is what is tested: an actor that ends ms later. */
	nanosleep(&ts, NULL);
	return TX_DONE_CODE;
}

static int
exit_handle(void *state, tr_msg *msg)
{
	switch (tr_msg_tag(msg)) {
	case TX_GO:
		return emit(state);
	case TX_BLOCK:
		return block(msg);
	case TX_QUIT:
		return quit(msg);
	default:
		return 0;
	}
}

void
test_behaviors_exit_register(void)
{
	static const tr_behavior b = {
	    .name = TX_MEMBER,
	    .state_size = sizeof(exit_member),
	    .init = exit_init,
	    .handle = exit_handle,
	};

	(void)tr_behavior_register(&b);
}
