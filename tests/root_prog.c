/*
 * root_prog.c -- a node's root for test_process.c to kill.
 *
 * Started plainly (no TROUPE_SPEC), it is a root: it spawns a fork
 * member, an exec'd troupe program (itself: argv[1] if given, else
 * /proc/self/exe) and a wrapped `sleep`, prints one line on stdout
 *
 *     <root pid> <fork member pid> <exec'd pid> <wrapped pid>
 *
 * and then waits forever for the test to kill it.  Exec'd by its own
 * root, it runs the actor asked of it (tr_exec_main()).  Anything that
 * goes wrong is said on stderr with exit status 1: the test then reads
 * no line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_proc.h"

static void
die(const char *what, int rv)
{
	fprintf(stderr, "root_prog: %s: %s\n", what, tr_strerror(rv));
	exit(1);
}

static long
member_pid(tr_ref member)
{
	tr_msg *req, *rep = NULL;
	msgpack_object o;
	bool sent = false;
	int rv;

	if ((rv = tr_msg_new(&req, TP_PID)) != TR_OK) {
		die("tr_msg_new", rv);
	}
	if ((rv = tr_call(member, req, 10000, &rep, &sent)) != TR_OK) {
		die("tr_call", rv);
	}
	if (tr_msg_body(rep, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 1 ||
	    o.via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		die("TP_PID answer", TR_EPROTO);
	}
	rv = (int)o.via.array.ptr[0].via.u64;
	tr_msg_free(rep);
	return rv;
}

/* The first stdout line of the wrapped program: its pid. */
static long
wrapped_pid(tr_ref wrapper)
{
	tr_msg *m = NULL;
	msgpack_object o;
	char text[32];
	int rv;

	if ((rv = tr_recv(&m, 10000)) != TR_OK) {
		die("tr_recv", rv);
	}
	if (tr_msg_tag(m) != TR_TAG_STDOUT ||
	    !tr_ref_equal(tr_msg_sender(m), wrapper) ||
	    tr_msg_body(m, &o) != TR_OK || o.type != MSGPACK_OBJECT_STR ||
	    o.via.str.size == 0 || o.via.str.size >= sizeof(text)) {
		die("the wrapped program's first line", TR_EPROTO);
	}
	memcpy(text, o.via.str.ptr, o.via.str.size);
	text[o.via.str.size] = '\0';
	tr_msg_free(m);
	return strtol(text, NULL, 10);
}

int
main(int argc, char **argv)
{
	static const char *const sh[] = {
	    "sh", "-c", "echo $$; exec sleep 1000", NULL};
	tr_spec fork_spec = {.behavior = TP_MEMBER, .placement = TR_PLACE_FORK};
	tr_spec exec_spec = {.behavior = TP_MEMBER,
	    .placement = TR_PLACE_EXEC,
	    .program = "/proc/self/exe"};
	tr_spec wrap_spec = {
	    .placement = TR_PLACE_EXEC, .program = "sh", .argv = sh};
	tr_ref fork_ref, exec_ref, wrap_ref;
	tr_msg *m;
	int rv;

	if ((rv = tr_init(NULL)) != TR_OK) {
		die("tr_init", rv);
	}
	test_behaviors_register();
	if ((rv = tr_exec_main()) >= 0) {
		return rv; /* we were the exec'd one */
	}
	if (argc > 1) {
		exec_spec.program = argv[1];
	}
	if ((rv = tr_spawn(&fork_spec, &fork_ref, NULL)) != TR_OK) {
		die("spawn fork", rv);
	}
	if ((rv = tr_spawn(&exec_spec, &exec_ref, NULL)) != TR_OK) {
		die("spawn exec", rv);
	}
	if ((rv = tr_spawn(&wrap_spec, &wrap_ref, NULL)) != TR_OK) {
		die("spawn wrapped", rv);
	}
	printf("%ld %ld %ld %ld\n", (long)getpid(), member_pid(fork_ref),
	    member_pid(exec_ref), wrapped_pid(wrap_ref));
	fflush(stdout);
	/* Until killed; nothing else is expected to come. */
	for (;;) {
		if (tr_recv(&m, TR_FOREVER) == TR_OK) {
			tr_msg_free(m);
		}
	}
}
