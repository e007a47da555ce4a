/*
 * tree_run.c -- running a supervision tree from a file, as the `troupe
 * run` command and tr_tree_main() do: load it, start it, log its state
 * changes and its busy actors (tree_watch.c), answer the control
 * socket, stop it on SIGINT/SIGTERM.
 *
 * A running tree listens on a control socket, <run base>/<tree>.ctl, in
 * the user's private run directory (mode 0700): only its owner reaches
 * it.  Requests and replies are msgpack arrays:
 *   ["status"]            -> [pid, [{path, placement, supervisor, pid,
 *                              state, restarts, uptime_ms, depth,
 *                              capacity, in, out, timers, callback_ms,
 *                              waiting}, ...], [path, ...]]
 *                            the last list: supervisors that did not
 *                            list their children in time ("": the root)
 *                            A tree with a `cluster:` adds "node" to
 *                            each child (its node's name, "" for this
 *                            one, nil for a `nodes:` child not placed
 *                            yet) and a fourth element:
 *                            {cluster, node, id, listen, membership,
 *                             error, nodes: [{name, state, id, url,
 *                             last_heard_ms, rtt_us, sessions,
 *                             frames_in, frames_out}, ...]}
 *                            error: tr_nodes()'s code, 0 if it listed
 *                            them
 *   ["stop"|"start"|"restart", "sub/child"] -> [code, text]
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <troupe.h>

#include "config.h"
#include "control.h"
#include "internal.h"
#include "sup_spec.h"
#include "tree_run.h"

#define TAG_SIGNAL 1
#define TAG_CONTROL 2

static tri_ctl *ctl;
static tr_ref control_ref;
static tr_ref root_sup;
static const tr_cluster_opts *cluster; /* the tree's, or NULL */

/* What the signal thread needs: the signals, and whom to tell. */
typedef struct sig_ctx {
	sigset_t set;
	tr_ref main_ref;
} sig_ctx;

/* ------------------------------------------------------------------ */
/* Output helpers                                                      */

static const char *
state_name(int s)
{
	return s == TR_CHILD_RUNNING ? "running" :
	    s == TR_CHILD_RESTARTING ? "restarting" :
	    s == TR_CHILD_IGNORED    ? "ignored" :
	    s == TR_CHILD_STUCK      ? "stuck" :
	                               "stopped";
}

static const char *
place_name(int p)
{
	static const char *n[] = {
	    "auto", "thread", "fork", "exec", "scheduled"};
	return p >= 0 && p <= TR_PLACE_SCHEDULED ? n[p] : "?";
}

/* ------------------------------------------------------------------ */
/* The running side: status of the tree, steering its children         */

/* A walk of the tree for `status`: its entries, and the supervisors
 * that did not list their children in time. */
typedef struct status_walk {
	msgpack_packer *pk;
	uint32_t n;
	uint64_t deadline; /* the walk's, ms (tri_now_ms) */
	msgpack_packer *silent;
	uint32_t nsilent;
	bool nodes; /* the tree is in a cluster: say each child's node */
} status_walk;

/* How long one supervisor, and the whole walk, may take to answer: a
 * scheduled supervisor answers nothing while a neighbour on its
 * scheduler thread runs a callback that does not return, and the
 * client waits 5 s for the whole reply. */
#define STATUS_CALL_MS 500
#define STATUS_WALK_MS 3000

/* Appends every child of sup (depth first) as a status entry; prefix is
 * sup's path, "" for the root, else "sub/". */
static void
pack_tree(status_walk *w, tr_ref sup, const char *prefix, int depth)
{
	msgpack_packer *pk = w->pk;
	tr_child_info kids[256];
	trs_child_where *where = NULL;
	uint64_t now = tri_now_ms();
	size_t nk = 0;
	int rv = TR_ETIMEDOUT;

	if (depth > 16) {
		return;
	}
	/* Off the stack: this recurses, on the control actor's thread. */
	if (w->nodes && (where = tri_calloc(256, sizeof(*where))) == NULL) {
		return;
	}
	if (now < w->deadline) {
		uint64_t left = w->deadline - now;
		rv = trs_sup_children_timed(sup, kids, where, 256, &nk,
		    left < STATUS_CALL_MS ? (int)left : STATUS_CALL_MS);
	}
	if (rv == TR_ETIMEDOUT) {
		size_t len = strlen(prefix);
		len -= len > 0; /* "sub/" names "sub"; "" the root */
		msgpack_pack_str_with_body(w->silent, prefix, len);
		w->nsilent++;
		tri_free(where);
		return;
	}
	if (rv != TR_OK) {
		tri_free(where);
		return; /* gone meanwhile */
	}
	for (size_t i = 0; i < nk && i < 256; i++) {
		tr_child_info *k = &kids[i];
		tr_actor_info info;
		char path[512];
		bool live = (k->state == TR_CHILD_RUNNING ||
		                k->state == TR_CHILD_STUCK) &&
		    tr_actor_info_get(k->ref, &info) == TR_OK;

		if ((size_t)snprintf(path, sizeof(path), "%.400s%.64s", prefix,
		        k->id) >= sizeof(path)) {
			continue;
		}
		msgpack_pack_map(pk, w->nodes ? 15 : 14);
		msgpack_pack_str_with_body(pk, "path", 4);
		msgpack_pack_str_with_body(pk, path, strlen(path));
		msgpack_pack_str_with_body(pk, "placement", 9);
		msgpack_pack_str_with_body(pk, place_name(k->placement),
		    strlen(place_name(k->placement)));
		msgpack_pack_str_with_body(pk, "supervisor", 10);
		k->supervisor ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		msgpack_pack_str_with_body(pk, "pid", 3);
		msgpack_pack_int(pk, live ? info.pid : 0);
		msgpack_pack_str_with_body(pk, "state", 5);
		msgpack_pack_str_with_body(
		    pk, state_name(k->state), strlen(state_name(k->state)));
		msgpack_pack_str_with_body(pk, "restarts", 8);
		msgpack_pack_uint32(pk, k->restarts);
		msgpack_pack_str_with_body(pk, "uptime_ms", 9);
		msgpack_pack_uint64(pk, k->uptime_ms);
		msgpack_pack_str_with_body(pk, "depth", 5);
		msgpack_pack_uint32(pk, live ? info.mailbox_depth : 0);
		msgpack_pack_str_with_body(pk, "capacity", 8);
		msgpack_pack_uint32(pk, live ? info.mailbox_capacity : 0);
		msgpack_pack_str_with_body(pk, "in", 2);
		msgpack_pack_uint64(pk, live ? info.msgs_in : 0);
		msgpack_pack_str_with_body(pk, "out", 3);
		msgpack_pack_uint64(pk, live ? info.msgs_out : 0);
		msgpack_pack_str_with_body(pk, "timers", 6);
		msgpack_pack_uint32(pk, live ? info.timers : 0);
		/* A callback that has not returned (scheduled actors). */
		msgpack_pack_str_with_body(pk, "callback_ms", 11);
		msgpack_pack_uint64(pk, live ? info.callback_ms : 0);
		msgpack_pack_str_with_body(pk, "waiting", 7);
		live &&info.waiting ? msgpack_pack_true(pk) :
		                      msgpack_pack_false(pk);
		if (w->nodes) {
			msgpack_pack_str_with_body(pk, "node", 4);
			if (where[i].unplaced) {
				msgpack_pack_nil(pk);
			} else {
				msgpack_pack_str_with_body(
				    pk, where[i].node, strlen(where[i].node));
			}
		}
		w->n++;
		if (k->supervisor && live) {
			char sub[520];
			snprintf(sub, sizeof(sub), "%.500s/", path);
			pack_tree(w, k->ref, sub, depth + 1);
		}
	}
	tri_free(where);
}

static const char *
node_state_name(tr_node_state s)
{
	return s == TR_NODE_UP      ? "up" :
	    s == TR_NODE_DOWN       ? "down" :
	    s == TR_NODE_CONNECTING ? "connecting" :
	                              "?";
}

static void
pack_text(msgpack_packer *pk, const char *key, const char *val)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
	if (val == NULL) {
		msgpack_pack_nil(pk);
	} else {
		msgpack_pack_str_with_body(pk, val, strlen(val));
	}
}

static void
pack_num(msgpack_packer *pk, const char *key, uint64_t val)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
	msgpack_pack_uint64(pk, val);
}

/* The status reply's cluster map: this node, and the nodes it knows
 * (tr_nodes()). */
static void
pack_cluster(msgpack_packer *pk)
{
	tr_node_info *v = NULL;
	size_t cap = 64, n = 0;
	int rv;

	for (;;) {
		tr_node_info *nv = tri_realloc(v, cap * sizeof(*v));
		if (nv == NULL) {
			rv = TR_ENOMEM;
			n = 0;
			break;
		}
		v = nv;
		if ((rv = tr_nodes(v, cap, &n)) != TR_OK || n <= cap) {
			break;
		}
		cap = n; /* more came meanwhile: again, with room */
	}
	if (rv != TR_OK) {
		n = 0;
	}
	msgpack_pack_map(pk, 7);
	pack_text(pk, "cluster", cluster->cluster);
	pack_text(pk, "node", cluster->node);
	pack_num(pk, "id", tr_node_id());
	pack_text(pk, "listen", cluster->listen);
	pack_text(pk, "membership",
	    cluster->membership != NULL ? cluster->membership : "static");
	pack_num(pk, "error", (uint64_t)rv);
	msgpack_pack_str_with_body(pk, "nodes", 5);
	msgpack_pack_array(pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_map(pk, 9);
		pack_text(pk, "name", v[i].name);
		pack_text(pk, "state", node_state_name(v[i].state));
		pack_num(pk, "id", v[i].id);
		pack_text(pk, "url", v[i].url);
		pack_num(pk, "last_heard_ms", v[i].last_heard_ms);
		pack_num(pk, "rtt_us", v[i].rtt_us);
		pack_num(pk, "sessions", v[i].sessions);
		pack_num(pk, "frames_in", v[i].frames_in);
		pack_num(pk, "frames_out", v[i].frames_out);
	}
	tri_free(v);
}

/* Finds the supervisor holding the child at path ("sub/worker"). */
static int
resolve(const char *path, tr_ref *parent, char *id, size_t idlen)
{
	tr_ref sup = root_sup;
	char buf[512], *save = NULL, *part, *next;

	snprintf(buf, sizeof(buf), "%s", path);
	part = strtok_r(buf, "/", &save);
	while (part != NULL) {
		next = strtok_r(NULL, "/", &save);
		if (next == NULL) {
			*parent = sup;
			snprintf(id, idlen, "%s", part);
			return TR_OK;
		}
		{
			tr_child_info kids[256];
			size_t nk = 0, i;
			if (tr_sup_children(sup, kids, 256, &nk) != TR_OK) {
				return TR_ENOENT;
			}
			for (i = 0; i < nk && i < 256; i++) {
				if (strcmp(kids[i].id, part) == 0 &&
				    kids[i].supervisor) {
					break;
				}
			}
			if (i == nk || i == 256) {
				return TR_ENOENT;
			}
			sup = kids[i].ref;
		}
		part = next;
	}
	return TR_EINVAL;
}

static void
reply_result(msgpack_packer *pk, int rv, const char *what)
{
	msgpack_pack_array(pk, 2);
	msgpack_pack_int(pk, rv);
	msgpack_pack_str_with_body(pk, what, strlen(what));
}

/* stop, start or restart one child; text says what happened. */
static int
steer_one(const char *op, tr_ref parent, const char *id)
{
	int rv;

	if (strcmp(op, "stop") == 0) {
		return tr_sup_terminate_child(parent, id);
	}
	if (strcmp(op, "start") == 0) {
		return tr_sup_restart_child(parent, id, NULL);
	}
	rv = tr_sup_terminate_child(parent, id);
	return rv == TR_OK ? tr_sup_restart_child(parent, id, NULL) : rv;
}

/* What op did, for the reply: "stopped", "started" or "restarted". */
static const char *
done_word(const char *op)
{
	return strcmp(op, "stop") == 0 ? "stopped" :
	    strcmp(op, "start") == 0   ? "started" :
	                                 "restarted";
}

/* Whether kid is an instance of group: "<group>.<digits>". */
static bool
instance_of(const char *kid, const char *group)
{
	size_t n = strlen(group);

	if (strncmp(kid, group, n) != 0 || kid[n] != '.' ||
	    kid[n + 1] == '\0') {
		return false;
	}
	for (const char *p = kid + n + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
	}
	return true;
}

/*
 * op on the child id of parent or, when id names a group of instances
 * (a child written with `instances: n`, whose ids are id.1 .. id.n), on
 * each of them: start in order, stop newest first, and restart one at a
 * time -- each replacement running (its init returned) before the next
 * instance is stopped, so that a pool keeps serving throughout (a
 * rolling restart).
 */
static int
steer(const char *op, tr_ref parent, const char *id, char *text, size_t len)
{
	enum {
		MAX = 1024
	};
	tr_child_info *kids;
	size_t nk = 0, at[MAX], ni = 0, done = 0, already = 0;
	bool exact = false, stop = strcmp(op, "stop") == 0;
	bool was_stopped = false;
	int rv;

	if ((kids = tri_calloc(MAX, sizeof(*kids))) == NULL) {
		snprintf(text, len, "%s", tr_strerror(TR_ENOMEM));
		return TR_ENOMEM;
	}
	if ((rv = tr_sup_children(parent, kids, MAX, &nk)) == TR_OK) {
		for (size_t i = 0; i < nk && i < MAX; i++) {
			if (strcmp(kids[i].id, id) == 0) {
				exact = true;
				was_stopped = kids[i].state == TR_CHILD_STOPPED;
			}
			if (instance_of(kids[i].id, id)) {
				at[ni++] = i;
			}
		}
	}
	if (rv != TR_OK || exact || ni == 0) {
		tri_free(kids);
		/* Stopping a stopped child is what was asked; say so
		 * (OTP's terminate_child answers ok, too). */
		if (rv == TR_OK && stop && was_stopped) {
			snprintf(text, len, "already stopped");
			return TR_OK;
		}
		if (rv == TR_OK) {
			rv = steer_one(op, parent, id);
		}
		snprintf(text, len, "%s",
		    rv == TR_OK         ? done_word(op) :
		        rv == TR_ENOENT ? "no such child" :
		        rv == TR_ESTATE && strcmp(op, "start") == 0 ?
		                          "it is running (use restart)" :
		                          tr_strerror(rv));
		return rv;
	}
	for (size_t j = 0; j < ni; j++) {
		const tr_child_info *k = &kids[at[stop ? ni - 1 - j : j]];
		const char *kid = k->id;
		if (stop && k->state == TR_CHILD_STOPPED) {
			already++;
			continue;
		}
		rv = steer_one(op, parent, kid);
		/* Starting one that runs is what was asked: go on.  (One
		 * that is stopped is not stopped again: counted above.) */
		if (rv == TR_ESTATE && strcmp(op, "start") == 0) {
			rv = TR_OK;
		}
		if (rv != TR_OK) {
			snprintf(text, len,
			    "%s %zu of %zu instances of '%s'; "
			    "'%s': %s",
			    done_word(op), done, ni, id, kid, tr_strerror(rv));
			tri_free(kids);
			return rv;
		}
		done++;
	}
	if (already == ni) {
		snprintf(text, len, "all %zu instances of '%s' already stopped",
		    ni, id);
	} else if (already > 0) {
		snprintf(text, len,
		    "stopped %zu of %zu instances of '%s' (%zu already "
		    "stopped)",
		    done, ni, id, already);
	} else {
		snprintf(text, len, "%s %zu instances of '%s'%s", done_word(op),
		    ni, id,
		    strcmp(op, "restart") == 0 ? ", one at a time" : "");
	}
	tri_free(kids);
	return TR_OK;
}

/* The control actor: requests come from the control socket's thread as
 * messages, so that its calls to supervisors come from an actor. */
static int
control_handle(void *state, tr_msg *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_object o;
	char op[16] = "", path[256] = "", id[TR_NAME_MAX + 1];
	tr_ref parent;
	int rv;

	(void)state;
	if (tr_msg_tag(m) != TAG_CONTROL) {
		return 0;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (tr_msg_body(m, &o) == TR_OK && o.type == MSGPACK_OBJECT_ARRAY &&
	    o.via.array.size >= 1 &&
	    o.via.array.ptr[0].type == MSGPACK_OBJECT_STR) {
		snprintf(op, sizeof(op), "%.*s",
		    (int)o.via.array.ptr[0].via.str.size,
		    o.via.array.ptr[0].via.str.ptr);
		if (o.via.array.size >= 2 &&
		    o.via.array.ptr[1].type == MSGPACK_OBJECT_STR) {
			snprintf(path, sizeof(path), "%.*s",
			    (int)o.via.array.ptr[1].via.str.size,
			    o.via.array.ptr[1].via.str.ptr);
		}
	}
	if (strcmp(op, "status") == 0) {
		/* [pid, [entries...], [silent supervisors...]]: counted
		 * first into side buffers. */
		msgpack_sbuffer body, silent;
		msgpack_packer bpk, spk;
		status_walk w = {&bpk, 0, tri_now_ms() + STATUS_WALK_MS, &spk,
		    0, cluster != NULL};
		msgpack_sbuffer_init(&body);
		msgpack_packer_init(&bpk, &body, msgpack_sbuffer_write);
		msgpack_sbuffer_init(&silent);
		msgpack_packer_init(&spk, &silent, msgpack_sbuffer_write);
		pack_tree(&w, root_sup, "", 0);
		msgpack_pack_array(&pk, cluster != NULL ? 4 : 3);
		msgpack_pack_int(&pk, (int)getpid());
		msgpack_pack_array(&pk, w.n);
		msgpack_sbuffer_write(&sb, body.data, body.size);
		msgpack_pack_array(&pk, w.nsilent);
		msgpack_sbuffer_write(&sb, silent.data, silent.size);
		if (cluster != NULL) {
			pack_cluster(&pk);
		}
		msgpack_sbuffer_destroy(&body);
		msgpack_sbuffer_destroy(&silent);
	} else if (strcmp(op, "stop") == 0 || strcmp(op, "start") == 0 ||
	    strcmp(op, "restart") == 0) {
		char text[160];
		if ((rv = resolve(path, &parent, id, sizeof(id))) != TR_OK) {
			reply_result(&pk, rv, "no such child");
		} else {
			rv = steer(op, parent, id, text, sizeof(text));
			reply_result(&pk, rv, text);
		}
	} else {
		reply_result(&pk, TR_EINVAL, "unknown request");
	}
	tri_ctl_reply(ctl, (const uint8_t *)sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

/* On the control socket's nng thread: pass the request on. */
static void
on_request(void *arg, const uint8_t *req, size_t len)
{
	tr_msg *m;
	static const uint8_t bad[] = {0x92, 0x01, 0xa3, 'b', 'a', 'd'};

	(void)arg;
	if (tr_msg_new(&m, TAG_CONTROL) != TR_OK) {
		tri_ctl_reply(ctl, bad, sizeof(bad));
		return;
	}
	msgpack_pack_bin_body(tr_msg_packer(m), req, len); /* raw msgpack */
	if (tr_send_timed(control_ref, m, TR_NOWAIT) != TR_OK) {
		tr_msg_free(m);
		tri_ctl_reply(ctl, bad, sizeof(bad)); /* body check failed */
	}
}

/* SIGINT and SIGTERM become a message to the main context. */
static void *
signal_thread(void *arg)
{
	sig_ctx *sc = arg;
	int sig;

	for (;;) {
		tr_msg *m;
		if (sigwait(&sc->set, &sig) != 0) {
			continue;
		}
		if (tr_msg_new(&m, TAG_SIGNAL) == TR_OK) {
			msgpack_pack_int(tr_msg_packer(m), sig);
			if (tr_send_timed(sc->main_ref, m, TR_NOWAIT) !=
			    TR_OK) {
				tr_msg_free(m);
			}
		}
	}
	return NULL;
}

int
tr_tree_main(const char *file)
{
	static sig_ctx sig;
	tr_behavior control = {
	    .name = "troupe.control", .handle = control_handle};
	tr_tree *tree = NULL;
	tr_options opts = {0};
	trs_watch *watch = NULL;
	uint64_t next_tick;
	char *errors = NULL, path[PATH_MAX], text[64], failed[256];
	bool stopping = false;
	pthread_t st;
	tr_reason why;
	int rv, status = 0, claim = -1, holder = 0;

	/* A program started by troupe's exec placement (this one, named in
	 * a tree's command): be the actor it was started for. */
	if (getenv("TROUPE_SPEC") != NULL) {
		if ((rv = tr_init(NULL)) != TR_OK) {
			fprintf(stderr, "troupe: cannot join the node: %s\n",
			    tr_strerror(rv));
			return 1;
		}
		return tr_exec_main();
	}
	/* Blocked before any thread exists, so that every thread inherits
	 * it and only the signal thread takes them. */
	sigemptyset(&sig.set);
	sigaddset(&sig.set, SIGINT);
	sigaddset(&sig.set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sig.set, NULL);

	/* The file (and its plugins) before tr_init(): fork members have
	 * only the code loaded when the fork server is made. */
	if ((rv = tr_tree_load(file, &tree, &errors)) != TR_OK) {
		fputs(
		    errors != NULL ? errors : "troupe: cannot load the file\n",
		    stderr);
		free(errors);
		return 2;
	}
	/* Its name, before anything starts: one tree of a name at a time,
	 * or the second would take the first's control socket.  Before
	 * tr_init() too: the claim is not inherited by the fork server. */
	if ((rv = trs_tree_claim(tr_tree_name(tree), &claim, &holder)) ==
	    TR_EEXIST) {
		fprintf(stderr,
		    "troupe: a tree named '%s' is running already (pid %d): "
		    "stop it, or give this one another 'name'\n",
		    tr_tree_name(tree), holder);
		tr_tree_free(tree);
		return 1;
	}
	if (rv != TR_OK) {
		fprintf(stderr,
		    "troupe: warning: cannot claim the name '%s' (%s): troupe "
		    "status will not see this tree\n",
		    tr_tree_name(tree), tr_strerror(rv));
	}
	/* Its sockets too: fork members inherit them from the fork server. */
	{
		size_t ns;
		trc_socket *socks = trc_tree_sockets(tree, &ns);
		if (trc_open_sockets(socks, ns, file) != TR_OK) {
			trs_tree_release(tr_tree_name(tree), claim);
			tr_tree_free(tree);
			return 1;
		}
	}
	/* The file's runtime options: its schedulers and stack size, its
	 * cluster. */
	(void)tr_tree_options(tree, &opts);
	cluster = opts.cluster;
	if ((rv = tr_init(&opts)) != TR_OK) {
		fprintf(stderr, "troupe: cannot start the runtime: %s\n",
		    tr_strerror(rv));
		trs_tree_release(tr_tree_name(tree), claim);
		tr_tree_free(tree);
		return 1;
	}
	sig.main_ref = tr_self();
	tr_behavior_register(&control);
	tr_sup_log(true);
	fprintf(stderr, "troupe: starting tree '%s' from %s (pid %d)\n",
	    tr_tree_name(tree), file, (int)getpid());
	if (cluster != NULL) {
		fprintf(stderr,
		    "troupe: node '%s' of cluster '%s', id %08x, listen "
		    "%s\n",
		    cluster->node, cluster->cluster, (unsigned)tr_node_id(),
		    cluster->listen);
	}
	rv = tr_sup_start_ex(tr_tree_spec(tree), tr_tree_name(tree), true,
	    &root_sup, &why, failed, sizeof(failed));
	if (rv == TR_EINIT) {
		fprintf(stderr,
		    "troupe: tree '%s' did not start: child '%s' failed to "
		    "start: %s\n",
		    tr_tree_name(tree), failed,
		    tr_reason_format(why, text, sizeof(text)));
	} else if (rv != TR_OK) {
		fprintf(stderr, "troupe: tree '%s' did not start: %s\n",
		    tr_tree_name(tree), tr_strerror(rv));
	}
	if (rv != TR_OK) {
		tr_shutdown();
		trs_tree_release(tr_tree_name(tree), claim);
		tr_tree_free(tree);
		return 1;
	}
	if (claim < 0) {
		ctl = NULL; /* the name is not ours: said above */
	} else if ((rv = tr_spawn(&(tr_spec){.behavior = "troupe.control",
	                              .placement = TR_PLACE_THREAD},
	                &control_ref, NULL)) != TR_OK ||
	    (rv = trs_ctl_path(tr_tree_name(tree), path, sizeof(path))) !=
	        TR_OK ||
	    (rv = tri_ctl_listen(&ctl, path, on_request, NULL)) != TR_OK) {
		fprintf(stderr,
		    "troupe: warning: no control socket (%s): troupe "
		    "status will not see this tree\n",
		    tr_strerror(rv));
		ctl = NULL;
	}
	pthread_create(&st, NULL, signal_thread, &sig);
	pthread_detach(st);
	fprintf(stderr, "troupe: tree '%s' running; Ctrl-C stops it\n",
	    tr_tree_name(tree));

	watch = trs_watch_new(tr_tree_name(tree), root_sup);
	next_tick = tri_now_ms() + TRS_WATCH_TICK_MS;
	for (;;) {
		uint64_t now = tri_now_ms();
		tr_msg *m;
		if (watch != NULL && now >= next_tick) {
			trs_watch_tick(watch);
			now = tri_now_ms();
			next_tick = now + TRS_WATCH_TICK_MS;
		}
		if (tr_recv(&m,
		        watch == NULL ? TR_FOREVER : (int)(next_tick - now)) !=
		    TR_OK) {
			continue;
		}
		if (tr_msg_tag(m) == TAG_SIGNAL && !stopping) {
			msgpack_object o;
			int signo =
			    tr_msg_body(m, &o) == TR_OK ? (int)o.via.i64 : 0;
			fprintf(stderr,
			    "troupe: %s: stopping the tree (newest first)\n",
			    signo == SIGINT ? "SIGINT" : "SIGTERM");
			stopping = true;
			tr_stop(root_sup, TR_REASON_SHUTDOWN);
		} else if (tr_msg_tag(m) == TR_TAG_EXIT &&
		    tr_ref_equal(tr_msg_sender(m), root_sup)) {
			tr_msg_reason(m, NULL, &why, NULL);
			if (!stopping && why.kind == TR_EXIT_SHUTDOWN &&
			    why.code == 0) {
				/* Not given up (that is shutdown(1)): it ended
				 * by itself, as auto_shutdown has it. */
				tr_auto_shutdown a =
				    tr_tree_spec(tree)->auto_shutdown;
				fprintf(stderr,
				    "troupe: tree '%s' stopped: %s\n",
				    tr_tree_name(tree),
				    a == TR_AUTO_ANY_SIGNIFICANT ?
				        "its significant child ended "
				        "(auto_shutdown)" :
				        a == TR_AUTO_ALL_SIGNIFICANT ?
				        "its significant children ended "
				        "(auto_shutdown)" :
				        "its root supervisor was stopped");
			} else if (!stopping) {
				fprintf(stderr,
				    "troupe: tree '%s' gave up (%s): exiting "
				    "with "
				    "status 1\n",
				    tr_tree_name(tree),
				    tr_reason_format(why, text, sizeof(text)));
				status = 1;
			} else {
				fprintf(stderr, "troupe: tree '%s' stopped\n",
				    tr_tree_name(tree));
			}
			tr_msg_free(m);
			break;
		}
		tr_msg_free(m);
	}
	trs_watch_free(watch);
	tri_ctl_close(ctl);
	tr_shutdown();
	trs_tree_release(tr_tree_name(tree), claim);
	cluster = NULL; /* the tree's */
	tr_tree_free(tree);
	return status;
}
