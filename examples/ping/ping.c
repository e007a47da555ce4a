/*
 * ping -- two thread actors play ping-pong while the main thread
 * watches: spawn, send, call, link and monitor in one small program.
 *
 *   ping [ROUNDS]
 *
 * The main thread spawns "pong" (answers each ping with a pong to the
 * sender) and "ping" (sends ROUNDS pings to pong, counting pongs), asks
 * ping how it went with a call, then stops both and prints what the
 * monitors reported.
 */
#include <stdio.h>
#include <stdlib.h>

#include <troupe.h>

enum {
	TAG_START = 1,
	TAG_PING,
	TAG_PONG,
	TAG_REPORT
};

/* pong: answer every ping. */
static int
pong_handle(void *state, tr_msg *msg)
{
	tr_msg *reply;
	int rv;

	(void)state;
	if (tr_msg_tag(msg) != TAG_PING) {
		return 0;
	}
	if ((rv = tr_msg_new(&reply, TAG_PONG)) != TR_OK) {
		return rv;
	}
	msgpack_pack_uint64(tr_msg_packer(reply), 0);
	if ((rv = tr_send(tr_msg_sender(msg), reply)) != TR_OK) {
		tr_msg_free(reply);
	}
	return 0;
}

typedef struct ping_state {
	tr_ref peer;
	uint64_t rounds, pongs;
	tr_from waiting; /* the report call, answered when all pongs are in */
} ping_state;

static int
send_ping(ping_state *s)
{
	tr_msg *m;
	int rv;

	if ((rv = tr_msg_new(&m, TAG_PING)) != TR_OK) {
		return rv;
	}
	msgpack_pack_uint64(tr_msg_packer(m), s->pongs);
	if ((rv = tr_send(s->peer, m)) != TR_OK) {
		tr_msg_free(m);
	}
	return rv;
}

static int
answer(ping_state *s)
{
	tr_msg *r;
	int rv;

	if ((rv = tr_msg_new(&r, TAG_REPORT)) != TR_OK) {
		return rv;
	}
	msgpack_pack_uint64(tr_msg_packer(r), s->pongs);
	return tr_reply(s->waiting, r);
}

static int
ping_handle(void *state, tr_msg *msg)
{
	ping_state *s = state;
	msgpack_object o;

	switch (tr_msg_tag(msg)) {
	case TAG_START: /* body: [pong ref, rounds] */
		if (tr_msg_body(msg, &o) != TR_OK ||
		    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 2 ||
		    tr_unpack_ref(&o.via.array.ptr[0], &s->peer) != TR_OK) {
			return TR_EPROTO;
		}
		s->rounds = o.via.array.ptr[1].via.u64;
		return send_ping(s);
	case TAG_PONG:
		if (++s->pongs < s->rounds) {
			return send_ping(s);
		}
		return s->waiting.corr != 0 ? answer(s) : 0;
	case TAG_REPORT:
		s->waiting = tr_msg_from(msg);
		return s->pongs >= s->rounds ? answer(s) : 0;
	}
	return 0;
}

static void
check(int rv, const char *what)
{
	if (rv != TR_OK) {
		fprintf(stderr, "ping: %s: %s\n", what, tr_strerror(rv));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	tr_behavior pong = {.name = "pong", .handle = pong_handle};
	tr_behavior ping = {.name = "ping",
	    .state_size = sizeof(ping_state),
	    .handle = ping_handle};
	uint64_t rounds = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000;
	tr_ref pinger, ponger, who;
	tr_mon m1, m2;
	tr_msg *msg, *reply;
	tr_reason why;
	msgpack_object o;
	char buf[64];

	check(tr_init(NULL), "init");
	check(tr_behavior_register(&pong), "register pong");
	check(tr_behavior_register(&ping), "register ping");
	check(tr_spawn(&(tr_spec){.behavior = "pong", .name = "pong"}, &ponger,
	          NULL),
	    "spawn pong");
	check(tr_spawn(&(tr_spec){.behavior = "ping"}, &pinger, NULL),
	    "spawn ping");
	check(tr_monitor(ponger, &m1), "monitor");
	check(tr_monitor(pinger, &m2), "monitor");

	/* Start the game: refs travel in message bodies. */
	check(tr_msg_new(&msg, TAG_START), "msg");
	msgpack_pack_array(tr_msg_packer(msg), 2);
	tr_pack_ref(tr_msg_packer(msg), ponger);
	msgpack_pack_uint64(tr_msg_packer(msg), rounds);
	check(tr_send(pinger, msg), "send start");

	/* Ask for the result: the reply comes when every pong is in. */
	check(tr_msg_new(&msg, TAG_REPORT), "msg");
	check(tr_call(pinger, msg, 60000, &reply, NULL), "call report");
	check(tr_msg_body(reply, &o), "body");
	printf("ping: %llu rounds of ping-pong between two thread actors\n",
	    (unsigned long long)o.via.u64);
	tr_msg_free(reply);

	/* Stop both; the monitors report how each ended. */
	check(tr_stop(pinger, TR_REASON_NORMAL), "stop ping");
	check(tr_stop(ponger, TR_REASON(TR_EXIT_CUSTOM, 42)), "stop pong");
	for (int i = 0; i < 2; i++) {
		check(tr_recv(&msg, 5000), "recv down");
		tr_msg_reason(msg, &who, &why, NULL);
		printf("ping: %s went down: %s\n",
		    tr_ref_equal(who, pinger) ? "ping" : "pong",
		    tr_reason_format(why, buf, sizeof(buf)));
		tr_msg_free(msg);
	}
	check(tr_shutdown(), "shutdown");
	return 0;
}
