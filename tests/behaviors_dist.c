/*
 * behaviors_dist.c -- behaviors the distribution tests run on other
 * nodes (tests/dist_node.c registers them too).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "behaviors.h"
#include "behaviors_dist.h"

/* dist.echo: a call is answered with its own tag and body; a cast of
 * TD_PING is sent back to its sender as TD_PONG, body and all. */
static int
echo_handle(void *state, tr_msg *msg)
{
	tr_msg *copy;
	int rv;

	(void)state;
	if (tr_msg_is_call(msg)) {
		if ((rv = tr_msg_dup(&copy, msg)) != TR_OK) {
			return rv;
		}
		if (tr_reply(tr_msg_from(msg), copy) != TR_OK) {
			tr_msg_free(copy);
		}
		return TR_OK;
	}
	if (tr_msg_tag(msg) == TD_PING) {
		if (tr_msg_new(&copy, TD_PONG) != TR_OK) {
			return TR_ENOMEM;
		}
		{
			msgpack_packer *pk = tr_msg_packer(copy);
			if (tr_msg_size(msg) > 0) {
				pk->callback(pk->data, tr_msg_data(msg),
				    tr_msg_size(msg));
			} else {
				msgpack_pack_nil(pk);
			}
		}
		if (tr_send(tr_msg_sender(msg), copy) != TR_OK) {
			tr_msg_free(copy);
		}
	}
	return TR_OK;
}

/* dist.count: counts casts of [sender-id, seq] and the ones that came
 * out of order per sender id (up to 64 senders); a call of TD_COUNT
 * answers [count, out_of_order]. */
typedef struct count_state {
	int64_t count, disorder;
	int64_t last[64];
} count_state;

static int
count_init(void *state, tr_msg *arg)
{
	count_state *s = state;

	(void)arg;
	for (int i = 0; i < 64; i++) {
		s->last[i] = -1;
	}
	return TR_OK;
}

static int
count_handle(void *state, tr_msg *msg)
{
	count_state *s = state;
	msgpack_object o;
	int64_t who, seq;

	if (tr_msg_is_call(msg) && tr_msg_tag(msg) == TD_COUNT) {
		int64_t v[2] = {s->count, s->disorder};
		tr_msg *r = test_msg_ints(TD_COUNT, v, 2);
		if (r != NULL && tr_reply(tr_msg_from(msg), r) != TR_OK) {
			tr_msg_free(r);
		}
		return TR_OK;
	}
	if (tr_msg_body(msg, &o) == TR_OK && o.type == MSGPACK_OBJECT_ARRAY &&
	    o.via.array.size == 2 && test_obj_int(&o.via.array.ptr[0], &who) &&
	    test_obj_int(&o.via.array.ptr[1], &seq) && who >= 0 && who < 64) {
		if (seq != s->last[who] + 1) {
			s->disorder++;
		}
		s->last[who] = seq;
	}
	s->count++;
	return TR_OK;
}

/* dist.hold: a cast of TD_HOLD [ms] keeps it in its callback that
 * long: its mailbox fills meanwhile. */
static int
hold_handle(void *state, tr_msg *msg)
{
	int ms = 0;

	(void)state;
	if (tr_msg_tag(msg) == TD_HOLD &&
	    tr_msg_unpackf(msg, "i", &ms) == TR_OK && ms > 0) {
		(void)tr_sleep(ms);
	}
	return TR_OK;
}

/* dist.die: a cast of TD_DIE ends it with error(7). */
static int
die_handle(void *state, tr_msg *msg)
{
	(void)state;
	return tr_msg_tag(msg) == TD_DIE ? 7 : TR_OK;
}

/* dist.halt: a call kills its whole node (-9), unanswered. */
static int
halt_handle(void *state, tr_msg *msg)
{
	(void)state;
	if (tr_msg_is_call(msg)) {
		kill(getpid(), SIGKILL);
	}
	return TR_OK;
}

/* dist.proxy: a call of [target, text] calls target with TD_PING
 * [text] and answers with what came back: an actor of any placement
 * calling one of another node. */
static int
proxy_handle(void *state, tr_msg *msg)
{
	tr_ref target;
	const char *text = NULL, *back = NULL;
	tr_msg *rep = NULL;
	int rv;

	(void)state;
	if (!tr_msg_is_call(msg) ||
	    tr_msg_unpackf(msg, "rs", &target, &text) != TR_OK) {
		return TR_OK;
	}
	rv = tr_callf(target, TD_PING, 5000, &rep, "s", text);
	if (rv == TR_OK && tr_msg_unpackf(rep, "s", &back) == TR_OK) {
		rv = tr_replyf(tr_msg_from(msg), TD_PONG, "is", 0, back);
	} else {
		rv = tr_replyf(tr_msg_from(msg), TD_PONG, "is", rv, "");
	}
	tr_msg_free(rep);
	return TR_OK;
}

/* dist.bigcall: a cast of TD_SEQ [target, report, bytes] calls target
 * with a body of that many bytes and sends report TD_COUNT [ms it
 * took, result]. */
static int
bigcall_handle(void *state, tr_msg *msg)
{
	tr_ref target, report;
	int bytes = 0;
	uint8_t *data;
	tr_msg *rep = NULL;
	struct timespec t0, t1;
	int rv;

	(void)state;
	if (tr_msg_tag(msg) != TD_SEQ ||
	    tr_msg_unpackf(msg, "rri", &target, &report, &bytes) != TR_OK ||
	    bytes <= 0 || (data = calloc(1, (size_t)bytes)) == NULL) {
		return TR_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rv = tr_callf(target, TD_SEQ, 60000, &rep, "b", data, (size_t)bytes);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(data);
	tr_msg_free(rep);
	(void)tr_sendf(report, TD_COUNT, "qi",
	    (int64_t)((t1.tv_sec - t0.tv_sec) * 1000 +
	        (t1.tv_nsec - t0.tv_nsec) / 1000000),
	    rv);
	return TR_OK;
}

/* dist.burst: a cast of TD_SEQ [to, n] sends to n messages TD_SEQ [i],
 * then ends with error(9): its exit signal must come after them. */
static int
burst_handle(void *state, tr_msg *msg)
{
	tr_ref to;
	int n = 0;

	(void)state;
	if (tr_msg_tag(msg) != TD_SEQ ||
	    tr_msg_unpackf(msg, "ri", &to, &n) != TR_OK) {
		return TR_OK;
	}
	for (int i = 0; i < n; i++) {
		if (tr_sendf(to, TD_SEQ, "i", i) != TR_OK) {
			return 8;
		}
	}
	return 9;
}

void
test_behaviors_dist_register(void)
{
	static const tr_behavior b[] = {
	    {.name = "dist.echo", .handle = echo_handle},
	    {.name = "dist.count",
	        .state_size = sizeof(count_state),
	        .init = count_init,
	        .handle = count_handle},
	    {.name = "dist.hold", .handle = hold_handle},
	    {.name = "dist.die", .handle = die_handle},
	    {.name = "dist.halt", .handle = halt_handle},
	    {.name = "dist.proxy", .handle = proxy_handle},
	    {.name = "dist.bigcall", .handle = bigcall_handle},
	    {.name = "dist.burst", .handle = burst_handle},
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		(void)tr_behavior_register(&b[i]);
	}
}
