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
 * socket (tree_run.c describes the protocol).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "control.h"
#include "internal.h"
#include "tree_run.h"

#define CTL_TIMEOUT_MS 5000

static void
fmt_ms(char *buf, size_t len, uint64_t ms)
{
	if (ms < 60000) {
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	} else if (ms < 3600000) {
		snprintf(buf, len, "%llum%02llus",
		    (unsigned long long)(ms / 60000),
		    (unsigned long long)(ms / 1000 % 60));
	} else {
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(ms / 3600000),
		    (unsigned long long)(ms / 60000 % 60));
	}
}

/* ------------------------------------------------------------------ */
/* The client side                                                     */

static int
find_tree(const char *given, char *name, size_t len)
{
	char base[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int found = 0;

	if (given != NULL) {
		snprintf(name, len, "%s", given);
		return TR_OK;
	}
	if (tri_rundir_base(base, sizeof(base)) != TR_OK ||
	    (d = opendir(base)) == NULL) {
		fprintf(stderr, "troupe: no running tree\n");
		return TR_ENOENT;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n > 4 && strcmp(e->d_name + n - 4, ".ctl") == 0) {
			if (found++ == 0) {
				snprintf(
				    name, len, "%.*s", (int)(n - 4), e->d_name);
			} else {
				if (found == 2) {
					fprintf(stderr,
					    "troupe: several trees run; name "
					    "one "
					    "of:\n  %s\n",
					    name);
				}
				fprintf(stderr, "  %.*s\n", (int)(n - 4),
				    e->d_name);
			}
		}
	}
	closedir(d);
	if (found == 0) {
		fprintf(
		    stderr, "troupe: no running tree (looked in %s)\n", base);
		return TR_ENOENT;
	}
	return found == 1 ? TR_OK : TR_EEXIST;
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

static const msgpack_object *
field(const msgpack_object *map, const char *key)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR &&
		    k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0) {
			return &map->via.map.ptr[i].val;
		}
	}
	return NULL;
}

static uint64_t
num(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = field(map, key);
	return v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    v->via.u64 :
	    0;
}

static const char *
str(const msgpack_object *map, const char *key, char *buf, size_t len)
{
	const msgpack_object *v = field(map, key);
	if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
		return "";
	}
	snprintf(buf, len, "%.*s", (int)v->via.str.size, v->via.str.ptr);
	return buf;
}

static int
cmd_status(const char *given, bool json)
{
	char tree[256], a[256], b[64], c[64], up[32], box[32];
	msgpack_zone z;
	msgpack_object o;
	uint8_t *raw = NULL;
	int rv;

	if ((rv = find_tree(given, tree, sizeof(tree))) != TR_OK) {
		return 1;
	}
	msgpack_zone_init(&z, 4096);
	if ((rv = request(tree, "status", NULL, &z, &o, &raw)) != TR_OK ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 2 ||
	    o.via.array.ptr[1].type != MSGPACK_OBJECT_ARRAY) {
		msgpack_zone_destroy(&z);
		free(raw);
		return 1;
	}
	if (json) {
		printf("{\"tree\":\"%s\",\"pid\":%lld,\"children\":[", tree,
		    (long long)o.via.array.ptr[0].via.i64);
	} else {
		printf("tree %s, pid %lld\n", tree,
		    (long long)o.via.array.ptr[0].via.i64);
		printf("%-28s %-9s %-7s %-10s %8s %9s %12s %9s %9s %8s\n",
		    "CHILD", "PLACEMENT", "PID", "STATE", "RESTARTS", "UPTIME",
		    "MAILBOX", "IN", "OUT", "TIMERS");
	}
	for (uint32_t i = 0; i < o.via.array.ptr[1].via.array.size; i++) {
		const msgpack_object *e = &o.via.array.ptr[1].via.array.ptr[i];
		const msgpack_object *pid = field(e, "pid");
		long long p = pid != NULL ? (long long)pid->via.i64 : 0;
		if (e->type != MSGPACK_OBJECT_MAP) {
			continue;
		}
		if (json) {
			printf(
			    "%s{\"path\":\"%s\",\"placement\":\"%s\","
			    "\"supervisor\":%s,\"pid\":%lld,\"state\":\"%s\","
			    "\"restarts\":%llu,\"uptime_ms\":%llu,"
			    "\"mailbox_depth\":%llu,\"mailbox_capacity\":%llu,"
			    "\"msgs_in\":%llu,\"msgs_out\":%llu,"
			    "\"timers\":%llu}",
			    i ? "," : "", str(e, "path", a, sizeof(a)),
			    str(e, "placement", b, sizeof(b)),
			    field(e, "supervisor") != NULL &&
			            field(e, "supervisor")->via.boolean ?
			        "true" :
			        "false",
			    p, str(e, "state", c, sizeof(c)),
			    (unsigned long long)num(e, "restarts"),
			    (unsigned long long)num(e, "uptime_ms"),
			    (unsigned long long)num(e, "depth"),
			    (unsigned long long)num(e, "capacity"),
			    (unsigned long long)num(e, "in"),
			    (unsigned long long)num(e, "out"),
			    (unsigned long long)num(e, "timers"));
		} else {
			fmt_ms(up, sizeof(up), num(e, "uptime_ms"));
			snprintf(box, sizeof(box), "%llu/%llu",
			    (unsigned long long)num(e, "depth"),
			    (unsigned long long)num(e, "capacity"));
			printf("%-28s %-9s %-7lld %-10s %8llu %9s %12s %9llu "
			       "%9llu %8llu\n",
			    str(e, "path", a, sizeof(a)),
			    field(e, "supervisor") != NULL &&
			            field(e, "supervisor")->via.boolean ?
			        "sup" :
			        str(e, "placement", b, sizeof(b)),
			    p, str(e, "state", c, sizeof(c)),
			    (unsigned long long)num(e, "restarts"),
			    num(e, "uptime_ms") ? up : "-",
			    num(e, "capacity") ? box : "-",
			    (unsigned long long)num(e, "in"),
			    (unsigned long long)num(e, "out"),
			    (unsigned long long)num(e, "timers"));
		}
	}
	if (json) {
		printf("]}\n");
	}
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

	if (tr_tree_load(file, &tree, &errors) != TR_OK) {
		fputs(
		    errors != NULL ? errors : "troupe: cannot load the file\n",
		    stderr);
		free(errors);
		return 2;
	}
	printf("%s: ok: tree '%s', %zu top-level children\n", file,
	    tr_tree_name(tree), tr_tree_spec(tree)->nchildren);
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
    "                           restarts, uptime, mailbox depth, messages,\n"
    "                           pending timers\n"
    "  stop CHILD [--tree TREE]     stop a child (path: sub/child)\n"
    "  start CHILD [--tree TREE]    start a stopped child again\n"
    "  restart CHILD [--tree TREE]  stop and start a child (a group of\n"
    "                               instances: one at a time)\n"
    "\n"
    "TREE is the tree's name (its root supervisor's `name`, else the file's\n"
    "base name); it may be left out when one tree runs.  A running tree is\n"
    "reached through <run dir>/TREE.ctl, private to its user.  `troupe\n"
    "COMMAND --help` describes one command; docs/config.md and docs/cli.md\n"
    "have the file format and this reference.\n";

static bool
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			return true;
		}
	}
	return false;
}

static const struct {
	const char *cmd, *text;
} helps[] = {
    {"run",
        "usage: troupe run FILE\n\n"
        "Starts the supervision tree in FILE (YAML, docs/config.md) in\n"
        "the foreground and logs its state changes to stderr.  SIGINT or\n"
        "SIGTERM stops it, newest child first.  Exit status: 0 stopped,\n"
        "1 the root supervisor gave up, 2 FILE has errors.\n"},
    {"check",
        "usage: troupe check FILE\n\n"
        "Validates FILE as `run` would, printing file:line:column: errors;\n"
        "starts nothing.  Exit status 0 if it is good, 2 if not.\n"},
    {"status",
        "usage: troupe status [--json] [TREE]\n\n"
        "The live tree: each child's path, placement, pid, state,\n"
        "restarts, uptime, mailbox depth/capacity, messages in and out,\n"
        "delayed sends to it still to fire (timers).\n"
        "TREE may be left out when one tree runs.\n"},
    {"stop",
        "usage: troupe stop CHILD [--tree TREE]\n\n"
        "Stops CHILD (a path: clock, or sub/worker); its spec stays.\n"
        "A group of instances (web for web.1 .. web.n): newest first.\n"},
    {"start",
        "usage: troupe start CHILD [--tree TREE]\n\n"
        "Starts a stopped CHILD (or each of a group of instances) again.\n"},
    {"restart",
        "usage: troupe restart CHILD [--tree TREE]\n\n"
        "Stops CHILD and starts it again.  A group of instances (web for\n"
        "web.1 .. web.n) is restarted one at a time, each running again\n"
        "before the next stops: a rolling restart.\n"},
};

static void
command_help(const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		if (strcmp(helps[i].cmd, cmd) == 0) {
			fputs(helps[i].text, stdout);
			return;
		}
	}
	fputs(usage_text, stdout);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	const char *tree = NULL;

	if (cmd == NULL || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, cmd == NULL ? stderr : stdout);
		return cmd == NULL ? 2 : 0;
	}
	if (wants_help(argc, argv)) {
		command_help(cmd);
		return 0;
	}
	for (int i = 2; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--tree") == 0) {
			tree = argv[i + 1];
		}
	}
	if (strcmp(cmd, "run") == 0 && argc == 3) {
		return tr_tree_main(argv[2]);
	}
	if (strcmp(cmd, "check") == 0 && argc == 3) {
		return cmd_check(argv[2]);
	}
	if (strcmp(cmd, "status") == 0) {
		bool json = argc > 2 && strcmp(argv[2], "--json") == 0;
		const char *name =
		    argc > (json ? 3 : 2) ? argv[json ? 3 : 2] : NULL;
		return cmd_status(name, json);
	}
	if ((strcmp(cmd, "stop") == 0 || strcmp(cmd, "start") == 0 ||
	        strcmp(cmd, "restart") == 0) &&
	    argc >= 3) {
		return cmd_steer(cmd, argv[2], tree);
	}
	fprintf(stderr, "troupe: bad command line\n\n%s", usage_text);
	return 2;
}
