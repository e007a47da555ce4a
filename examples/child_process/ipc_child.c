/*
 * ipc_child -- Node's
 *
 *     const child = fork("child.js");      // a child with a message channel
 *     child.on("message", m => console.log("parent got", m));
 *     child.send({ text: "hello" });
 *
 * with troupe: the child is an exec'd program linked with libtroupe --
 * here this very binary, started again by troupe -- and inside it runs
 * an ordinary actor.  Parent and child exchange messages both ways
 * (sends and calls) with the same calls thread actors use; the child's
 * end reaches the parent as a monitor message with its reason.
 *
 *   ipc_child [WORD...]     the child shouts each word back
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <troupe.h>

enum {
	HELLO = 1, /* child -> parent, unasked: [pid] */
	SHOUT = 2, /* parent -> child, a call: str; the reply: str */
	TOTAL = 3  /* parent -> child: nil; child -> parent: [words] */
};

/* ------------------------------------------------------------------ */
/* The child's actor                                                  */

typedef struct shouter {
	uint64_t words;
} shouter;

/* Says hello to the actor that spawned this process, unasked. */
static int
shouter_init(void *state, tr_msg *arg)
{
	tr_msg *m;
	int rv;

	(void)state;
	(void)arg;
	if ((rv = tr_msg_new(&m, HELLO)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(m), 1);
	msgpack_pack_int(tr_msg_packer(m), (int)getpid());
	if ((rv = tr_send(tr_parent(), m)) != TR_OK) {
		tr_msg_free(m); /* a failed send leaves the message with us */
	}
	return rv;
}

static int
shouter_handle(void *state, tr_msg *msg)
{
	shouter *s = state;
	msgpack_object o;
	tr_msg *r;
	int rv;

	if (tr_msg_tag(msg) == SHOUT && tr_msg_is_call(msg) &&
	    tr_msg_body(msg, &o) == TR_OK && o.type == MSGPACK_OBJECT_STR) {
		char up[256];
		size_t n =
		    o.via.str.size < sizeof(up) ? o.via.str.size : sizeof(up);
		for (size_t i = 0; i < n; i++) {
			up[i] = (char)toupper((unsigned char)o.via.str.ptr[i]);
		}
		s->words++;
		if ((rv = tr_msg_new(&r, SHOUT)) != TR_OK) {
			return rv;
		}
		msgpack_pack_str_with_body(tr_msg_packer(r), up, n);
		return tr_reply(tr_msg_from(msg), r);
	}
	if (tr_msg_tag(msg) == TOTAL) {
		/* Not a call: the answer is a message of our own. */
		if ((rv = tr_msg_new(&r, TOTAL)) != TR_OK) {
			return rv;
		}
		msgpack_pack_array(tr_msg_packer(r), 1);
		msgpack_pack_uint64(tr_msg_packer(r), s->words);
		if ((rv = tr_send(tr_msg_sender(msg), r)) != TR_OK) {
			tr_msg_free(r);
		}
		return rv;
	}
	return 0; /* anything else: ignored */
}

static const tr_behavior shouter_behavior = {.name = "shouter",
    .state_size = sizeof(shouter),
    .init = shouter_init,
    .handle = shouter_handle};

/* ------------------------------------------------------------------ */
/* The parent                                                          */

static void
check(int rv, const char *what)
{
	if (rv != TR_OK) {
		fprintf(stderr, "ipc_child: %s: %s\n", what, tr_strerror(rv));
		exit(1);
	}
}

/* The next message of tag `tag`, within 5 s. */
static tr_msg *
expect(uint32_t tag)
{
	tr_msg *m;

	for (;;) {
		check(tr_recv(&m, 5000), "waiting for the child");
		if (tr_msg_tag(m) == tag) {
			return m;
		}
		tr_msg_free(m);
	}
}

int
main(int argc, char **argv)
{
	static const char *const dflt[] = {"hello", "from", "the", "parent"};
	const char *const *words =
	    argc > 1 ? (const char *const *)argv + 1 : dflt;
	int nwords = argc > 1 ? argc - 1 : 4;
	char self[4096], text[32];
	tr_ref child;
	tr_msg *m, *reply;
	msgpack_object o;
	tr_reason why;
	tr_mon mon;
	ssize_t len;
	int rv;

	check(tr_init(NULL), "init");
	check(tr_behavior_register(&shouter_behavior), "register");
	/* Started by troupe as the child?  Then be the actor asked for. */
	if ((rv = tr_exec_main()) >= 0) {
		return rv;
	}

	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		perror("ipc_child: /proc/self/exe");
		return 1;
	}
	self[len] = '\0';
	{
		tr_spec spec = {.behavior = "shouter",
		    .placement = TR_PLACE_EXEC,
		    .program = self};
		/* Returns once the child's init has run: it is an actor now. */
		check(tr_spawn(&spec, &child, NULL), "spawn");
	}
	check(tr_monitor(child, &mon), "monitor");
	printf("parent: pid %d started the child\n", (int)getpid());

	m = expect(HELLO);
	check(tr_msg_body(m, &o), "hello");
	printf("parent: the child says hello from pid %d\n",
	    (int)o.via.array.ptr[0].via.i64);
	tr_msg_free(m);

	for (int i = 0; i < nwords; i++) {
		check(tr_msg_new(&m, SHOUT), "msg");
		msgpack_pack_str_with_body(
		    tr_msg_packer(m), words[i], strlen(words[i]));
		check(tr_call(child, m, 5000, &reply, NULL), "call");
		check(tr_msg_body(reply, &o), "reply");
		printf("parent: %s -> %.*s\n", words[i], (int)o.via.str.size,
		    o.via.str.ptr);
		tr_msg_free(reply);
	}

	check(tr_msg_new(&m, TOTAL), "msg");
	check(tr_send(child, m), "send");
	m = expect(TOTAL);
	check(tr_msg_body(m, &o), "total");
	printf("parent: the child shouted %llu words\n",
	    (unsigned long long)o.via.array.ptr[0].via.u64);
	tr_msg_free(m);

	/* Ask it to end; its end comes back as a DOWN with the reason. */
	check(tr_stop(child, TR_REASON_NORMAL), "stop");
	m = expect(TR_TAG_DOWN);
	tr_msg_reason(m, NULL, &why, NULL);
	printf("parent: the child ended: %s\n",
	    tr_reason_format(why, text, sizeof(text)));
	tr_msg_free(m);
	return tr_shutdown() == TR_OK ? 0 : 1;
}
