/*
 * plugin_demo.c -- a tree's plugin, as test_config loads it: a shared
 * object whose troupe_plugin_init registers "plugin.echo".  Built a
 * second time with PLUGIN_DEMO_NO_INIT, as a plugin that lacks the
 * entry point.  It calls back into the program that loads it, which
 * must export troupe's symbols (a static link with -rdynamic, or
 * libtroupe.so).
 */
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

void troupe_plugin_init(void);

void
troupe_plugin_init(void)
{
	static const tr_behavior echo = {
	    .name = "plugin.echo", .handle = echo_handle};

	/* TR_EEXIST when a second tree names this plugin: fine. */
	(void)tr_behavior_register(&echo);
}
#else
/* Something, so that the object is not empty. */
int plugin_demo_without_init;
int plugin_demo_without_init = 1;
#endif
