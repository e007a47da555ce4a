/*
 * troupe_cli.c -- the `troupe` command: run a supervision tree from a
 * YAML file, and look at or steer a running one from another terminal.
 *
 *   troupe run FILE            start the tree, log, stop it on SIGINT/TERM
 *   troupe check FILE          validate FILE; start nothing
 *   troupe status [--json] [TREE]
 *   troupe stop|start|restart CHILD [--tree TREE]
 *
 * `run` is tr_tree_main(); the others talk to the running tree's control
 * socket (tree_run.c describes the protocol).  What status prints is
 * cli_status.c's.
 */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "cli_status.h"
#include "control.h"
#include "internal.h"
#include "tree_run.h"

#define CTL_TIMEOUT_MS 5000

/* ------------------------------------------------------------------ */
/* The client side                                                     */

/* The names of the trees that have a control socket in base, malloc'd
 * (NULL-terminated), or NULL. */
static char **
ctl_names(const char *base)
{
	struct dirent *e;
	char **v = NULL, **nv;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(base)) == NULL) {
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len <= 4 || strcmp(e->d_name + len - 4, ".ctl") != 0) {
			continue;
		}
		if ((nv = realloc(v, (n + 2) * sizeof(*v))) == NULL ||
		    (nv[n] = strndup(e->d_name, len - 4)) == NULL) {
			v = nv != NULL ? nv : v;
			break;
		}
		v = nv;
		v[++n] = NULL;
	}
	closedir(d);
	return v;
}

/*
 * The tree to talk to: the one given, or the only one that runs.  A
 * control socket whose tree is gone (killed with -9: nobody holds its
 * name) is no tree: it is left out, and swept.
 */
static int
find_tree(const char *given, char *name, size_t len)
{
	char base[PATH_MAX], **names;
	size_t live = 0;
	int pid;

	if (given != NULL) {
		snprintf(name, len, "%s", given);
		if (trs_tree_probe(given, &pid) == TR_ENOENT) {
			fprintf(
			    stderr, "troupe: no tree '%s' is running\n", given);
			return TR_ENOENT;
		}
		return TR_OK;
	}
	if (tri_rundir_base(base, sizeof(base)) != TR_OK) {
		fprintf(stderr, "troupe: no running tree\n");
		return TR_ENOENT;
	}
	names = ctl_names(base);
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		if (trs_tree_probe(names[i], &pid) != TR_OK) {
			continue; /* dead, and swept */
		}
		if (live++ == 0) {
			snprintf(name, len, "%s", names[i]);
		} else {
			if (live == 2) {
				fprintf(stderr,
				    "troupe: several trees run; name one "
				    "of:\n  %s\n",
				    name);
			}
			fprintf(stderr, "  %s\n", names[i]);
		}
	}
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		free(names[i]);
	}
	free(names);
	if (live == 0) {
		fprintf(
		    stderr, "troupe: no running tree (looked in %s)\n", base);
		return TR_ENOENT;
	}
	return live == 1 ? TR_OK : TR_EEXIST;
}

static int
request(const char *tree, const char *op, const char *arg, msgpack_zone *z,
    msgpack_object *out, uint8_t **raw)
{
	char path[PATH_MAX];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len = 0, off = 0;
	int rv;

	if ((rv = trs_ctl_path(tree, path, sizeof(path))) != TR_OK) {
		return rv;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, arg != NULL ? 2 : 1);
	msgpack_pack_str_with_body(&pk, op, strlen(op));
	if (arg != NULL) {
		msgpack_pack_str_with_body(&pk, arg, strlen(arg));
	}
	rv = tri_ctl_request(
	    path, (const uint8_t *)sb.data, sb.size, CTL_TIMEOUT_MS, raw, &len);
	msgpack_sbuffer_destroy(&sb);
	if (rv == TR_ENOENT) {
		fprintf(stderr, "troupe: no tree '%s' is running\n", tree);
		return rv;
	}
	if (rv != TR_OK) {
		fprintf(stderr, "troupe: tree '%s' did not answer: %s\n", tree,
		    tr_strerror(rv));
		return rv;
	}
	if (msgpack_unpack((const char *)*raw, len, &off, z, out) !=
	    MSGPACK_UNPACK_SUCCESS) {
		fprintf(stderr, "troupe: tree '%s' answered nonsense\n", tree);
		return TR_EPROTO;
	}
	return TR_OK;
}

static int
cmd_status(const char *given, bool json)
{
	char tree[256];
	msgpack_zone z;
	msgpack_object o;
	uint8_t *raw = NULL;
	int rv;

	if ((rv = find_tree(given, tree, sizeof(tree))) != TR_OK) {
		return 1;
	}
	msgpack_zone_init(&z, 4096);
	/* tree_run.c says what it holds; a fourth element: the tree is a
	 * node of a cluster. */
	if ((rv = request(tree, "status", NULL, &z, &o, &raw)) != TR_OK ||
	    o.type != MSGPACK_OBJECT_ARRAY ||
	    (o.via.array.size != 3 && o.via.array.size != 4) ||
	    o.via.array.ptr[1].type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.ptr[2].type != MSGPACK_OBJECT_ARRAY ||
	    (o.via.array.size == 4 &&
	        o.via.array.ptr[3].type != MSGPACK_OBJECT_MAP)) {
		msgpack_zone_destroy(&z);
		free(raw);
		return 1;
	}
	trs_status_print(tree, &o, json);
	msgpack_zone_destroy(&z);
	free(raw);
	return 0;
}

static int
cmd_steer(const char *op, const char *child, const char *given)
{
	char tree[256];
	msgpack_zone z;
	msgpack_object o;
	uint8_t *raw = NULL;
	int rv, status = 1;

	if ((rv = find_tree(given, tree, sizeof(tree))) != TR_OK) {
		return 1;
	}
	msgpack_zone_init(&z, 1024);
	if (request(tree, op, child, &z, &o, &raw) == TR_OK &&
	    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 2) {
		rv = (int)o.via.array.ptr[0].via.i64;
		printf("troupe: %s %s: %.*s\n", op, child,
		    (int)o.via.array.ptr[1].via.str.size,
		    o.via.array.ptr[1].via.str.ptr);
		status = rv == TR_OK ? 0 : 1;
	}
	msgpack_zone_destroy(&z);
	free(raw);
	return status;
}

static int
cmd_check(const char *file)
{
	tr_tree *tree;
	char *errors = NULL;
	tr_options opts = {0};

	if (tr_tree_load(file, &tree, &errors) != TR_OK) {
		fputs(
		    errors != NULL ? errors : "troupe: cannot load the file\n",
		    stderr);
		free(errors);
		return 2;
	}
	(void)tr_tree_options(tree, &opts);
	printf("%s: ok: tree '%s', %zu top-level children", file,
	    tr_tree_name(tree), tr_tree_spec(tree)->nchildren);
	if (opts.cluster != NULL) {
		/* Which node this file makes here (TROUPE_NODE). */
		printf(", node '%s' of cluster '%s'", opts.cluster->node,
		    opts.cluster->cluster);
	}
	putchar('\n');
	tr_tree_free(tree);
	return 0;
}

/* ------------------------------------------------------------------ */

static const char *usage_text =
    "usage: troupe COMMAND [ARGS]\n"
    "\n"
    "  run FILE                 start the supervision tree in FILE (YAML) in\n"
    "                           the foreground; log state changes to stderr;\n"
    "                           SIGINT/SIGTERM stop it (newest child first);\n"
    "                           exit status 1 if the root supervisor gives up\n"
    "  check FILE               validate FILE; print file:line:column errors;\n"
    "                           start nothing (exit status 2 on errors)\n"
    "  status [--json] [TREE]   the live tree: child, placement, pid, state,\n"
    "                           a callback that does not return, restarts,\n"
    "                           uptime, mailbox depth, messages, pending\n"
    "                           timers; in a cluster, the nodes and each\n"
    "                           child's node (--tree TREE names it too)\n"
    "  stop CHILD [--tree TREE]     stop a child (path: sub/child)\n"
    "  start CHILD [--tree TREE]    start a stopped child again\n"
    "  restart CHILD [--tree TREE]  stop and start a child (a group of\n"
    "                               instances: one at a time)\n"
    "\n"
    "TREE is the tree's name (its root supervisor's `name`, else the file's\n"
    "base name); it may be left out when one tree runs.  Options may come\n"
    "anywhere (troupe stop --tree TREE CHILD); -- ends them.  A running\n"
    "tree is reached through <run dir>/TREE.ctl, private to its user.\n"
    "`troupe COMMAND --help` describes one command; docs/config.md and\n"
    "docs/cli.md have the file format and this reference.\n";

static const struct {
	const char *cmd, *text;
} helps[] = {
    {"run",
        "usage: troupe run FILE\n\n"
        "Starts the supervision tree in FILE (YAML, docs/config.md) in\n"
        "the foreground and logs its state changes to stderr.  SIGINT or\n"
        "SIGTERM stops it, newest child first.  One tree of a name runs\n"
        "at a time.  Exit status: 0 stopped, 1 the root supervisor gave\n"
        "up (or a tree of that name runs already), 2 FILE has errors.\n"},
    {"check",
        "usage: troupe check FILE\n\n"
        "Validates FILE as `run` would, printing file:line:column: errors;\n"
        "starts nothing.  Exit status 0 if it is good, 2 if not.\n"},
    {"status",
        "usage: troupe status [--json] [TREE | --tree TREE]\n\n"
        "The live tree: each child's path, placement, pid, state, a\n"
        "callback that has run 1 s or more without returning (BUSY: `busy\n"
        "12.3s`, or `waiting 12.3s` in tr_call, tr_recv...), restarts,\n"
        "uptime, mailbox depth/capacity, messages in and out, delayed\n"
        "sends to it still to fire (timers).\n"
        "A tree that is a node of a cluster (its file's `cluster:`) also\n"
        "shows this node, the other nodes it knows (NODE, STATE, ID, LAST\n"
        "TICK: time since it was last heard from, RTT, SESSIONS), and each\n"
        "child's NODE (- for this one, ? for a `nodes:` child not placed\n"
        "yet).\n"
        "TREE may be left out when one tree runs.\n"},
    {"stop",
        "usage: troupe stop CHILD [--tree TREE]\n\n"
        "Stops CHILD (a path: clock, or sub/worker); its spec stays.\n"
        "A group of instances (web for web.1 .. web.n): newest first.\n"
        "A child that is stopped already is left so (`already stopped`,\n"
        "exit status 0).\n"},
    {"start",
        "usage: troupe start CHILD [--tree TREE]\n\n"
        "Starts a stopped CHILD (or each of a group of instances) again.\n"},
    {"restart",
        "usage: troupe restart CHILD [--tree TREE]\n\n"
        "Stops CHILD and starts it again.  A group of instances (web for\n"
        "web.1 .. web.n) is restarted one at a time, each running again\n"
        "before the next stops: a rolling restart.\n"},
};

/* The help of cmd, or NULL if there is no such command. */
static const char *
help_of(const char *cmd)
{
	for (size_t i = 0; cmd != NULL && i < sizeof(helps) / sizeof(helps[0]);
	     i++) {
		if (strcmp(helps[i].cmd, cmd) == 0) {
			return helps[i].text;
		}
	}
	return NULL;
}

/* A bad command line: what is wrong (if fmt), then the usage of cmd, or
 * the whole usage; exit status 2. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
bad_usage(const char *cmd, const char *fmt, ...)
{
	const char *help = help_of(cmd);
	va_list ap;

	if (fmt != NULL) {
		fputs("troupe: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs("\n\n", stderr);
	}
	fputs(help != NULL ? help : usage_text, stderr);
	return 2;
}

/* The operands and options one command takes. */
typedef struct command {
	const char *name;
	int min, max;        /* operands */
	const char *operand; /* its name, for the messages */
	bool json, tree;     /* takes --json, --tree */
} command;

static const command commands[] = {
    {"run", 1, 1, "FILE", false, false},
    {"check", 1, 1, "FILE", false, false},
    {"status", 0, 1, "TREE", true, true},
    {"stop", 1, 1, "CHILD", false, true},
    {"start", 1, 1, "CHILD", false, true},
    {"restart", 1, 1, "CHILD", false, true},
};

/*
 * troupe [OPTIONS] COMMAND [OPERANDS], the options anywhere (getopt_long
 * permutes them: `troupe stop --tree t web` is `troupe stop web --tree
 * t`), `--` ending them.
 */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"tree", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const command *c = NULL;
	const char *cmd, *tree = NULL;
	bool help = false, json = false, badopt = false;
	char **ops;
	int o, nops;

	argv[0] = "troupe"; /* getopt's messages begin with it */
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'h':
			help = true;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			tree = optarg;
			break;
		default: /* getopt said what is wrong */
			badopt = true;
			break;
		}
	}
	ops = argv + optind;
	nops = argc - optind;
	cmd = nops > 0 ? ops[0] : NULL;
	if (cmd != NULL && strcmp(cmd, "help") == 0) {
		/* troupe help [COMMAND] */
		help = true;
		cmd = nops > 1 ? ops[1] : NULL;
	}
	for (size_t i = 0; cmd != NULL && i < sizeof(commands) / sizeof(*c);
	     i++) {
		if (strcmp(commands[i].name, cmd) == 0) {
			c = &commands[i];
		}
	}
	if (badopt) {
		fputc('\n', stderr);
		return bad_usage(c != NULL ? cmd : NULL, NULL);
	}
	if (cmd != NULL && c == NULL) {
		return bad_usage(NULL, "unknown command '%s'", cmd);
	}
	if (help) {
		fputs(c != NULL ? help_of(cmd) : usage_text, stdout);
		return 0;
	}
	if (c == NULL) {
		return bad_usage(NULL, NULL);
	}
	ops++;
	nops--;
	if (nops < c->min) {
		return bad_usage(cmd, "%s: %s is missing", cmd, c->operand);
	}
	if (nops > c->max) {
		return bad_usage(cmd, "%s: one %s only", cmd, c->operand);
	}
	if (json && !c->json) {
		return bad_usage(cmd, "%s: --json is for status", cmd);
	}
	if (tree != NULL && !c->tree) {
		return bad_usage(cmd,
		    "%s: --tree is for status, stop, start and restart", cmd);
	}
	if (strcmp(cmd, "run") == 0) {
		return tr_tree_main(ops[0]);
	}
	if (strcmp(cmd, "check") == 0) {
		return cmd_check(ops[0]);
	}
	if (strcmp(cmd, "status") == 0) {
		if (tree != NULL && nops == 1 && strcmp(tree, ops[0]) != 0) {
			return bad_usage(cmd,
			    "status: two trees named: '%s' "
			    "and '%s'",
			    ops[0], tree);
		}
		return cmd_status(nops == 1 ? ops[0] : tree, json);
	}
	return cmd_steer(cmd, ops[0], tree);
}
