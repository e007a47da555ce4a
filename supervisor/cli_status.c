/*
 * cli_status.c -- what `troupe status` prints of a running tree's
 * status reply (tree_run.c describes the reply): a table for people, or
 * one JSON object.  A tree that is a node of a cluster adds this node,
 * the other nodes (NODES) and each child's NODE; a tree without one is
 * printed as it always was, column for column.
 */
#include <stdio.h>
#include <string.h>

#include "cli_status.h"
#include "tree_run.h"

/* A callback that has run this long without returning shows in BUSY. */
#define BUSY_SHOWN_MS 1000

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

static bool
flag(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = field(map, key);
	return v != NULL && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

/* BUSY: "busy 12.3s" for a callback that has run BUSY_SHOWN_MS or more
 * without returning (a scheduled actor's holds up its scheduler's
 * others), "waiting 12.3s" for one that waits in it (tr_call, tr_recv),
 * else "-". */
static const char *
busy_text(const msgpack_object *e, char *buf, size_t len)
{
	uint64_t ms = num(e, "callback_ms");
	char t[32];

	if (ms < BUSY_SHOWN_MS) {
		return "-";
	}
	trs_fmt_ms(t, sizeof(t), ms);
	snprintf(buf, len, "%s %s", flag(e, "waiting") ? "waiting" : "busy", t);
	return buf;
}

/* s as a JSON string, quotes included: what came from other nodes
 * (their URLs) is not trusted to be plain. */
static void
json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			printf("\\%c", ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			printf("\\u%04x", ch);
		} else {
			putchar(ch);
		}
	}
	putchar('"');
}

/* A string field of map as JSON: its text, or null. */
static void
json_field(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = field(map, key);

	if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
		fputs("null", stdout);
	} else {
		json_str(v->via.str.ptr, v->via.str.size);
	}
}

/*
 * The node a child runs on, for its NODE column: "-" for this node,
 * "?" for a child of a list of nodes that has not been placed yet.  In
 * JSON: the node's name (this node's own for a local child), or null.
 */
static const char *
node_text(
    const msgpack_object *e, const char *self, bool json, char *buf, size_t len)
{
	const msgpack_object *v = field(e, "node");

	if (v == NULL || v->type != MSGPACK_OBJECT_STR) {
		return json ? NULL : "?";
	}
	snprintf(buf, len, "%.*s", (int)v->via.str.size, v->via.str.ptr);
	if (buf[0] == '\0' || strcmp(buf, self) == 0) {
		return json ? self : "-";
	}
	return buf;
}

/* "412us", "3.1ms", "1.20s": a round trip, for people. */
static void
fmt_us(char *buf, size_t len, uint64_t us)
{
	if (us < 1000) {
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	} else if (us < 1000000) {
		snprintf(buf, len, "%.1fms", (double)us / 1e3);
	} else {
		snprintf(buf, len, "%.2fs", (double)us / 1e6);
	}
}

/* The cluster part of a status reply: this node, then the NODES table
 * (tr_nodes), or why there is none. */
static void
print_cluster(const msgpack_object *cl)
{
	const msgpack_object *nodes = field(cl, "nodes");
	char a[80], b[80], c[160], d[16];
	uint64_t err = num(cl, "error");

	printf("node %s, cluster %s, id %08llx, listen %s (membership "
	       "%s)\n",
	    str(cl, "node", a, sizeof(a)), str(cl, "cluster", b, sizeof(b)),
	    (unsigned long long)num(cl, "id"), str(cl, "listen", c, sizeof(c)),
	    str(cl, "membership", d, sizeof(d)));
	if (err != 0) {
		printf("troupe: the other nodes cannot be listed: %s\n",
		    tr_strerror((int)err));
		return;
	}
	if (nodes == NULL || nodes->type != MSGPACK_OBJECT_ARRAY ||
	    nodes->via.array.size == 0) {
		printf("no other node known yet\n");
		return;
	}
	printf("%-20s %-10s %-8s %9s %8s %8s\n", "NODE", "STATE", "ID",
	    "LAST TICK", "RTT", "SESSIONS");
	for (uint32_t i = 0; i < nodes->via.array.size; i++) {
		const msgpack_object *n = &nodes->via.array.ptr[i];
		char age[32], rtt[32], id[16];
		if (n->type != MSGPACK_OBJECT_MAP) {
			continue;
		}
		trs_fmt_ms(age, sizeof(age), num(n, "last_heard_ms"));
		fmt_us(rtt, sizeof(rtt), num(n, "rtt_us"));
		snprintf(
		    id, sizeof(id), "%08llx", (unsigned long long)num(n, "id"));
		printf("%-20s %-10s %-8s %9s %8s %8llu\n",
		    str(n, "name", a, sizeof(a)), str(n, "state", b, sizeof(b)),
		    num(n, "id") != 0 ? id : "-",
		    num(n, "last_heard_ms") != UINT64_MAX ? age : "-",
		    num(n, "rtt_us") != 0 ? rtt : "-",
		    (unsigned long long)num(n, "sessions"));
	}
}

static void
print_cluster_json(const msgpack_object *cl)
{
	const msgpack_object *nodes = field(cl, "nodes");
	uint64_t err = num(cl, "error");

	fputs(",\"cluster\":{\"name\":", stdout);
	json_field(cl, "cluster");
	fputs(",\"node\":", stdout);
	json_field(cl, "node");
	printf(",\"id\":%llu,\"listen\":", (unsigned long long)num(cl, "id"));
	json_field(cl, "listen");
	fputs(",\"membership\":", stdout);
	json_field(cl, "membership");
	fputs(",\"error\":", stdout);
	if (err != 0) {
		const char *t = tr_strerror((int)err);
		json_str(t, strlen(t));
	} else {
		fputs("null", stdout);
	}
	fputs(",\"nodes\":[", stdout);
	for (uint32_t i = 0; nodes != NULL &&
	     nodes->type == MSGPACK_OBJECT_ARRAY && i < nodes->via.array.size;
	     i++) {
		const msgpack_object *n = &nodes->via.array.ptr[i];
		if (n->type != MSGPACK_OBJECT_MAP) {
			continue;
		}
		fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
		json_field(n, "name");
		fputs(",\"state\":", stdout);
		json_field(n, "state");
		printf(
		    ",\"id\":%llu,\"url\":", (unsigned long long)num(n, "id"));
		json_field(n, "url");
		/* Never heard from: null, not 2^64 - 1. */
		if (num(n, "last_heard_ms") == UINT64_MAX) {
			fputs(",\"last_heard_ms\":null", stdout);
		} else {
			printf(",\"last_heard_ms\":%llu",
			    (unsigned long long)num(n, "last_heard_ms"));
		}
		printf(",\"rtt_us\":%llu,"
		       "\"sessions\":%llu,\"frames_in\":%llu,"
		       "\"frames_out\":%llu}",
		    (unsigned long long)num(n, "rtt_us"),
		    (unsigned long long)num(n, "sessions"),
		    (unsigned long long)num(n, "frames_in"),
		    (unsigned long long)num(n, "frames_out"));
	}
	fputs("]}", stdout);
}

void
trs_status_print(const char *tree, const msgpack_object *reply, bool json)
{
	const msgpack_object o = *reply;
	char a[256], b[64], c[64], up[32], box[32], busy[48];
	char self[TR_NAME_MAX + 1] = "", where[TR_NAME_MAX + 1];
	const msgpack_object *silent, *cl = NULL;

	if (o.via.array.size == 4) {
		cl = &o.via.array.ptr[3];
		str(cl, "node", self, sizeof(self));
	}
	if (json) {
		printf("{\"tree\":\"%s\",\"pid\":%lld,\"children\":[", tree,
		    (long long)o.via.array.ptr[0].via.i64);
	} else if (cl == NULL) {
		printf("tree %s, pid %lld\n", tree,
		    (long long)o.via.array.ptr[0].via.i64);
		printf("%-28s %-9s %-7s %-10s %-13s %8s %9s %12s %9s %9s %8s\n",
		    "CHILD", "PLACEMENT", "PID", "STATE", "BUSY", "RESTARTS",
		    "UPTIME", "MAILBOX", "IN", "OUT", "TIMERS");
	} else {
		printf("tree %s, pid %lld\n", tree,
		    (long long)o.via.array.ptr[0].via.i64);
		print_cluster(cl);
		printf("%-28s %-9s %-12s %-7s %-10s %-13s %8s %9s %12s %9s "
		       "%9s %8s\n",
		    "CHILD", "PLACEMENT", "NODE", "PID", "STATE", "BUSY",
		    "RESTARTS", "UPTIME", "MAILBOX", "IN", "OUT", "TIMERS");
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
			    "\"callback_ms\":%llu,\"waiting\":%s,"
			    "\"restarts\":%llu,\"uptime_ms\":%llu,"
			    "\"mailbox_depth\":%llu,\"mailbox_capacity\":%llu,"
			    "\"msgs_in\":%llu,\"msgs_out\":%llu,"
			    "\"timers\":%llu",
			    i ? "," : "", str(e, "path", a, sizeof(a)),
			    str(e, "placement", b, sizeof(b)),
			    field(e, "supervisor") != NULL &&
			            field(e, "supervisor")->via.boolean ?
			        "true" :
			        "false",
			    p, str(e, "state", c, sizeof(c)),
			    (unsigned long long)num(e, "callback_ms"),
			    flag(e, "waiting") ? "true" : "false",
			    (unsigned long long)num(e, "restarts"),
			    (unsigned long long)num(e, "uptime_ms"),
			    (unsigned long long)num(e, "depth"),
			    (unsigned long long)num(e, "capacity"),
			    (unsigned long long)num(e, "in"),
			    (unsigned long long)num(e, "out"),
			    (unsigned long long)num(e, "timers"));
			if (cl != NULL) {
				const char *n = node_text(
				    e, self, true, where, sizeof(where));
				fputs(",\"node\":", stdout);
				if (n == NULL) {
					fputs("null", stdout);
				} else {
					json_str(n, strlen(n));
				}
			}
			putchar('}');
		} else {
			trs_fmt_ms(up, sizeof(up), num(e, "uptime_ms"));
			snprintf(box, sizeof(box), "%llu/%llu",
			    (unsigned long long)num(e, "depth"),
			    (unsigned long long)num(e, "capacity"));
			printf("%-28s %-9s ", str(e, "path", a, sizeof(a)),
			    field(e, "supervisor") != NULL &&
			            field(e, "supervisor")->via.boolean ?
			        "sup" :
			        str(e, "placement", b, sizeof(b)));
			if (cl != NULL) {
				const char *n = node_text(
				    e, self, false, where, sizeof(where));
				printf("%-12s ", n);
				if (strcmp(n, "-") != 0) {
					/* Its node's process: not known here.
					 */
					printf("%-7s ", "-");
				} else {
					printf("%-7lld ", p);
				}
			} else {
				printf("%-7lld ", p);
			}
			printf("%-10s %-13s %8llu %9s %12s "
			       "%9llu %9llu %8llu\n",
			    str(e, "state", c, sizeof(c)),
			    busy_text(e, busy, sizeof(busy)),
			    (unsigned long long)num(e, "restarts"),
			    num(e, "uptime_ms") ? up : "-",
			    num(e, "capacity") ? box : "-",
			    (unsigned long long)num(e, "in"),
			    (unsigned long long)num(e, "out"),
			    (unsigned long long)num(e, "timers"));
		}
	}
	/* Supervisors that did not list their children in time. */
	silent = &o.via.array.ptr[2];
	if (json) {
		printf("],\"not_answering\":[");
	}
	for (uint32_t i = 0; i < silent->via.array.size; i++) {
		const msgpack_object *v = &silent->via.array.ptr[i];
		int len =
		    v->type == MSGPACK_OBJECT_STR ? (int)v->via.str.size : 0;
		const char *p =
		    v->type == MSGPACK_OBJECT_STR ? v->via.str.ptr : "";
		if (json) {
			printf("%s\"%.*s\"", i ? "," : "", len, p);
		} else if (len == 0) {
			printf("troupe: the root supervisor did not answer in "
			       "time: its children are not listed (a callback "
			       "that does not return, on its scheduler "
			       "thread?)\n");
		} else {
			printf("troupe: supervisor '%.*s' did not answer in "
			       "time: its children are not listed (a callback "
			       "that does not return, on its scheduler "
			       "thread?)\n",
			    len, p);
		}
	}
	if (json) {
		printf("]");
		if (cl != NULL) {
			print_cluster_json(cl);
		}
		printf("}\n");
	}
}
