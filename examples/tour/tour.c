/*
 * tour.c -- the README's five-minute tour, complete: a counter actor,
 * a send, a call, and a link that reports the counter's crash.
 */
#include <stdio.h>

#include <troupe.h>

enum {
	ADD = 1,
	GET = 2,
	CRASH = 3
};

/* The behavior: state is one counter; callbacks run on the actor's own
 * thread, one at a time, so no locks. */
static int
counter_handle(void *state, tr_msg *msg)
{
	int64_t *count = state;
	msgpack_object body;
	tr_msg *reply;

	switch (tr_msg_tag(msg)) {
	case ADD:
		if (tr_msg_body(msg, &body) == TR_OK &&
		    body.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			*count += (int64_t)body.via.u64;
		}
		return 0;
	case GET:
		tr_msg_new(&reply, GET);
		msgpack_pack_int64(tr_msg_packer(reply), *count);
		return tr_reply(tr_msg_from(msg), reply);
	case CRASH:
		return 42; /* non-zero: the actor ends with reason error(42) */
	}
	return 0;
}

int
main(void)
{
	tr_behavior counter = {.name = "counter",
	    .state_size = sizeof(int64_t),
	    .handle = counter_handle};
	tr_ref c;
	tr_msg *m, *reply;
	msgpack_object body;
	tr_reason why;
	char text[32];

	tr_init(NULL); /* first: the main thread becomes a context */
	tr_behavior_register(&counter);
	tr_spawn(&(tr_spec){.behavior = "counter"}, &c, NULL);

	/* send: fire and forget; the runtime owns m once tr_send succeeds */
	for (int i = 1; i <= 10; i++) {
		tr_msg_new(&m, ADD);
		msgpack_pack_int(tr_msg_packer(m), i);
		if (tr_send(c, m) != TR_OK) {
			tr_msg_free(m); /* failed: still ours */
		}
	}

	/* call: request and wait for the reply, up to one second */
	tr_msg_new(&m, GET);
	if (tr_call(c, m, 1000, &reply, NULL) == TR_OK) {
		tr_msg_body(reply, &body);
		printf("count = %lld\n", (long long)body.via.i64);
		tr_msg_free(reply);
	}

	/* link: the main context traps exits, so the crash arrives as a
	 * TR_TAG_EXIT message with its reason */
	tr_link(c);
	tr_msg_new(&m, CRASH);
	tr_send(c, m);
	if (tr_recv(&m, 1000) == TR_OK && tr_msg_tag(m) == TR_TAG_EXIT) {
		tr_msg_reason(m, NULL, &why, NULL);
		printf("counter exited: %s\n",
		    tr_reason_format(why, text, sizeof(text)));
		tr_msg_free(m);
	}
	return tr_shutdown();
}
