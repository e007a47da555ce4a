/*
 * spawn_output -- Node's
 *
 *     const child = spawn("node", ["child.js"]);
 *     child.stdout.on("data", d => console.log("Output: " + d));
 *
 * with troupe: run any program, print each line of its output, and its
 * exit.   spawn_output node child.js    (or any command)
 */
#include <stdio.h>

#include <troupe.h>

int
main(int argc, char **argv)
{
	/* Linked from the start: a program that ends at once still brings
	 * its TR_TAG_EXIT (a tr_link after tr_spawn could come too late). */
	tr_spec spec = {.program = argv[1],
	    .argv = (const char *const *)argv + 1,
	    .link = true};
	tr_ref child;
	tr_msg *m;
	msgpack_object o;
	tr_reason why;
	char text[32];
	int rv;

	if (argc < 2) {
		fprintf(stderr, "usage: spawn_output PROGRAM [ARGS...]\n");
		return 2;
	}
	tr_init(NULL);
	if ((rv = tr_spawn(&spec, &child, NULL)) != TR_OK) {
		fprintf(
		    stderr, "spawn_output: %s: %s\n", argv[1], tr_strerror(rv));
		return 1;
	}
	while (tr_recv(&m, TR_FOREVER) == TR_OK) {
		if (tr_msg_tag(m) == TR_TAG_EXIT) {
			tr_msg_reason(m, NULL, &why, NULL);
			printf("Exited: %s\n",
			    tr_reason_format(why, text, sizeof(text)));
			tr_msg_free(m);
			break;
		}
		tr_msg_body(m, &o);
		printf("%s: %.*s\n",
		    tr_msg_tag(m) == TR_TAG_STDOUT ? "Output" : "Error",
		    (int)o.via.str.size, o.via.str.ptr);
		tr_msg_free(m);
	}
	return tr_shutdown();
}
