/*
 * plugin_demo.c -- a tree's plugin, as test_config loads it: a shared
 * object whose troupe_plugin_init registers "plugin.echo" -- and, for
 * the troupe command's tests (tests/cli/busy.sh), "plugin.busy" and
 * "plugin.kick".  Built a second time with PLUGIN_DEMO_NO_INIT, as a
 * plugin that lacks the entry point.  It calls back into the program that loads
 * it, which must export troupe's symbols (a static link with -rdynamic, or
 * libtroupe.so).
 */
#include <string.h>
#include <time.h>

#include <troupe.h>

#ifndef PLUGIN_DEMO_NO_INIT
/* Answers a call with the request's body; ignores anything else. */
static int
echo_handle(void *state, tr_msg *msg)
{
	msgpack_object body;
	tr_msg *reply;

	(void)state;
	if (!tr_msg_is_call(msg) || tr_msg_body(msg, &body) != TR_OK ||
	    tr_msg_new(&reply, 0) != TR_OK) {
		return 0;
	}
	if (msgpack_pack_object(tr_msg_packer(reply), body) != 0 ||
	    tr_reply(tr_msg_from(msg), reply) != TR_OK) {
		tr_msg_free(reply);
	}
	return 0;
}

/* How long in ms, and whether it computes (spin) or waits (sleep):
 * the init argument {spin: ms} or {sleep: ms}. */
typedef struct busy {
	int64_t ms;
	bool spin;
} busy;

static int
busy_init(void *state, tr_msg *arg)
{
	busy *b = state;
	msgpack_object o;

	if (arg == NULL || tr_msg_body(arg, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_MAP || o.via.map.size != 1 ||
	    o.via.map.ptr[0].key.type != MSGPACK_OBJECT_STR ||
	    o.via.map.ptr[0].val.type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return TR_EINVAL;
	}
	b->spin = o.via.map.ptr[0].key.via.str.size == 4 &&
	    memcmp(o.via.map.ptr[0].key.via.str.ptr, "spin", 4) == 0;
	b->ms = (int64_t)o.via.map.ptr[0].val.via.u64;
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Any message: a callback that runs its time without returning --
 * computing (a scheduled actor's neighbours wait for it) or waiting in
 * tr_sleep (they do not). */
static int
busy_handle(void *state, tr_msg *msg)
{
	busy *b = state;
	int64_t end = now_ms() + b->ms;
	volatile uint64_t n = 0;

	(void)msg;
	if (!b->spin) {
		(void)tr_sleep((int)b->ms);
		return 0;
	}
	while (now_ms() < end) {
		n++;
	}
	return 0;
}

/* Init: a message to each of the actors named in its argument (a list
 * of names), to set them going once their siblings have started. */
static int
kick_init(void *state, tr_msg *arg)
{
	msgpack_object o;

	(void)state;
	if (arg == NULL || tr_msg_body(arg, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_ARRAY) {
		return TR_EINVAL;
	}
	for (uint32_t i = 0; i < o.via.array.size; i++) {
		const msgpack_object *e = &o.via.array.ptr[i];
		char name[TR_NAME_MAX + 1];
		tr_ref to;
		tr_msg *m;
		if (e->type != MSGPACK_OBJECT_STR ||
		    e->via.str.size > TR_NAME_MAX) {
			return TR_EINVAL;
		}
		memcpy(name, e->via.str.ptr, e->via.str.size);
		name[e->via.str.size] = '\0';
		if (tr_whereis(name, &to) != TR_OK ||
		    tr_msg_new(&m, 1) != TR_OK) {
			return TR_ENOENT;
		}
		if (tr_send(to, m) != TR_OK) {
			tr_msg_free(m);
			return TR_ENOPROC;
		}
	}
	return 0;
}

static int
kick_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

void troupe_plugin_init(void);

void
troupe_plugin_init(void)
{
	static const tr_behavior echo = {
	    .name = "plugin.echo", .handle = echo_handle};
	static const tr_behavior busy_b = {.name = "plugin.busy",
	    .state_size = sizeof(busy),
	    .init = busy_init,
	    .handle = busy_handle};
	static const tr_behavior kick = {
	    .name = "plugin.kick", .init = kick_init, .handle = kick_handle};

	/* TR_EEXIST when a second tree names this plugin: fine. */
	(void)tr_behavior_register(&echo);
	(void)tr_behavior_register(&busy_b);
	(void)tr_behavior_register(&kick);
}
#else
/* Something, so that the object is not empty. */
int plugin_demo_without_init;
int plugin_demo_without_init = 1;
#endif
