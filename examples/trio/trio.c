/*
 * trio -- one behavior, three placements, one mailbox API.
 *
 * The same "squarer" behavior runs as a thread of this process, as a
 * forked cluster member, and as an exec'd program (this very binary,
 * started again by troupe); a shell command runs wrapped beside them.
 * The main thread sends each the same work, calls each for its answer,
 * and cannot tell them apart except by the pid they report.  Then a
 * member is killed with SIGKILL and its monitor says so.
 *
 *   trio [N]      sum of squares 1..N on every placement (default 1000)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <troupe.h>

enum {
	ADD = 1,
	RESULT = 2
};

/* Adds the square of every number it is sent; answers RESULT calls with
 * [sum, pid]. */
static int
squarer_handle(void *state, tr_msg *msg)
{
	uint64_t *sum = state;
	msgpack_object o;
	tr_msg *r;

	if (tr_msg_tag(msg) == ADD && tr_msg_body(msg, &o) == TR_OK) {
		*sum += o.via.u64 * o.via.u64;
	} else if (tr_msg_tag(msg) == RESULT && tr_msg_is_call(msg)) {
		if (tr_msg_new(&r, RESULT) != TR_OK) {
			return TR_ENOMEM;
		}
		msgpack_pack_array(tr_msg_packer(r), 2);
		msgpack_pack_uint64(tr_msg_packer(r), *sum);
		msgpack_pack_int(tr_msg_packer(r), (int)getpid());
		return tr_reply(tr_msg_from(msg), r);
	}
	return 0;
}

static const tr_behavior squarer = {.name = "squarer",
    .state_size = sizeof(uint64_t),
    .handle = squarer_handle};

static void
check(int rv, const char *what)
{
	if (rv != TR_OK) {
		fprintf(stderr, "trio: %s: %s\n", what, tr_strerror(rv));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static const char *names[] = {"thread", "fork", "exec"};
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
	char self[4096], text[32];
	tr_ref actors[3], sh;
	tr_msg *m, *reply;
	msgpack_object o;
	tr_reason why;
	tr_mon mon;
	ssize_t len;
	int rv, member_pid = 0;

	check(tr_init(NULL), "init"); /* first: the fork server is made here */
	check(tr_behavior_register(&squarer), "register");
	/* Started by troupe as the exec placement? Then be that actor. */
	if ((rv = tr_exec_main()) >= 0) {
		return rv;
	}
	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		perror("trio: /proc/self/exe");
		return 1;
	}
	self[len] = '\0';

	for (int p = 0; p < 3; p++) {
		tr_spec spec = {.behavior = "squarer",
		    .placement = (tr_placement)(TR_PLACE_THREAD + p),
		    .program = p == 2 ? self : NULL};
		check(tr_spawn(&spec, &actors[p], NULL), names[p]);
	}
	/* The same sends to each: the code does not change with placement. */
	for (uint64_t i = 1; i <= n; i++) {
		for (int p = 0; p < 3; p++) {
			check(tr_msg_new(&m, ADD), "msg");
			msgpack_pack_uint64(tr_msg_packer(m), i);
			check(tr_send(actors[p], m), "send");
		}
	}
	printf("trio: this process is pid %d\n", (int)getpid());
	for (int p = 0; p < 3; p++) {
		check(tr_msg_new(&m, RESULT), "msg");
		check(tr_call(actors[p], m, 5000, &reply, NULL), "call");
		check(tr_msg_body(reply, &o), "body");
		printf("trio: %-6s actor in pid %-7d sum of squares 1..%llu = "
		       "%llu\n",
		    names[p], (int)o.via.array.ptr[1].via.i64,
		    (unsigned long long)n,
		    (unsigned long long)o.via.array.ptr[0].via.u64);
		if (p == 1) {
			member_pid = (int)o.via.array.ptr[1].via.i64;
		}
		tr_msg_free(reply);
	}

	/* Any program, wrapped: its stdout comes back as messages. */
	{
		const char *argv_sh[] = {
		    "sh", "-c", "echo hello from sh, pid $$", NULL};
		tr_spec spec = {.program = "sh", .argv = argv_sh};
		check(tr_spawn(&spec, &sh, NULL), "spawn sh");
		check(tr_recv(&m, 5000), "recv sh output");
		if (tr_msg_tag(m) == TR_TAG_STDOUT &&
		    tr_msg_body(m, &o) == TR_OK) {
			printf("trio: wrapped sh said: %.*s\n",
			    (int)o.via.str.size, o.via.str.ptr);
		}
		tr_msg_free(m);
	}

	/* A member that crashes is a death with a reason, like any other. */
	check(tr_monitor(actors[1], &mon), "monitor");
	kill(member_pid, SIGKILL);
	for (;;) {
		check(tr_recv(&m, 5000), "recv down");
		if (tr_msg_tag(m) == TR_TAG_DOWN) {
			tr_msg_reason(m, NULL, &why, NULL);
			printf(
			    "trio: fork member killed with SIGKILL: down, %s\n",
			    tr_reason_format(why, text, sizeof(text)));
			tr_msg_free(m);
			break;
		}
		tr_msg_free(m); /* the wrapper's EXIT or other output */
	}
	return tr_shutdown() == TR_OK ? 0 : 1;
}
