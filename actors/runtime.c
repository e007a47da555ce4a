/*
 * runtime.c -- tr_init, tr_shutdown, tr_spawn: the runtime of this
 * process, its start and its end, and where actors are started.
 * (Clocks: clock.c; the calling thread's context: ctx.c; counters and
 * introspection: info.c.)
 *
 * The runtime is one per process, like nng's own library state: refs
 * name a (node, process) pair, and a process is one member of a node.
 */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "actor.h"
#include "alloc.h"
#include "behavior.h"
#include "call.h"
#include "ctx.h"
#include "link.h"
#include "mailbox.h"
#include "process.h"
#include "registry.h"
#include "rundir.h"
#include "dist.h"
#include "runtime.h"
#include "target.h"
#include "timer.h"
#include "scheduler.h"

tri_runtime tri_rt;

/* How long tr_shutdown() waits for one actor to end. */
#define SHUTDOWN_WAIT_MS 10000

static uint32_t
make_node_id(void)
{
	struct timespec ts;
	uint32_t x;

	/* Unique enough among the nodes of one host; distribution will
	 * take node names from configuration. */
	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint32_t)getpid() * 2654435761u ^ (uint32_t)ts.tv_nsec ^
	    (uint32_t)ts.tv_sec;
	return x == 0 ? 1 : x;
}

/*
 * Starts the runtime of this process: as the root of a new node
 * (member == NULL), or as a member joining the node member describes.
 */
static int
runtime_start(const tr_options *opts, const tri_pspec *member)
{
	tri_ctx *main_ctx;
	int rv;

	memset(&tri_rt, 0, sizeof(tri_rt));
	tri_rt.capacity = (opts != NULL && opts->mailbox_capacity != 0) ?
	    opts->mailbox_capacity :
	    1024;
	tri_rt.max_body =
	    (opts != NULL && opts->max_body != 0) ? opts->max_body : TR_MSG_MAX;
	tri_rt.schedulers = opts != NULL ? opts->schedulers : 0;
	tri_rt.stack_size = opts != NULL ? opts->stack_size : 0;
	atomic_init(&tri_rt.next_mon, 1);
	atomic_init(&tri_rt.next_proc, 1);
	pthread_mutex_init(&tri_rt.mtx, NULL);
	pthread_cond_init(&tri_rt.cv, NULL);
	tri_rt.main_thread = pthread_self();

	if (member == NULL) {
		tri_rt.is_root = true;
		tri_rt.node = make_node_id();
		tri_rt.proc = 0;
		tri_rt.root_pid = (uint32_t)getpid();
		rv = tri_rundir_create(tri_rt.node, tri_rt.rundir,
		    sizeof(tri_rt.rundir), tri_rt.sockdir,
		    sizeof(tri_rt.sockdir));
		if (rv != TR_OK) {
			goto fail;
		}
	} else {
		tri_rt.node = member->node;
		tri_rt.proc = member->proc;
		tri_rt.root_pid = member->root_pid;
		snprintf(
		    tri_rt.rundir, sizeof(tri_rt.rundir), "%s", member->rundir);
		snprintf(tri_rt.sockdir, sizeof(tri_rt.sockdir), "%s",
		    member->sockdir);
	}
	if ((rv = tri_slots_create(
	         tri_rt.rundir, tri_rt.proc, &tri_rt.slots)) != TR_OK) {
		goto fail_dir;
	}
	/* Dialers of other processes that cannot get through to one of
	 * our mailboxes ask the watch for a check through the table. */
	if ((rv = tri_watch_start(&tri_rt.slots->watch)) != TR_OK) {
		goto fail_slots;
	}
	if ((rv = tri_names_open(tri_rt.is_root)) != TR_OK) {
		goto fail_watch;
	}
	if ((rv = tri_buftab_open(tri_rt.is_root)) != TR_OK) {
		goto fail_names;
	}
	if ((rv = tri_buf_init()) != TR_OK) {
		goto fail_buftab;
	}
	if ((rv = tri_registry_init()) != TR_OK) {
		goto fail_buf;
	}
	if ((rv = tri_main_ctx_new(&main_ctx)) != TR_OK) {
		goto fail_reg;
	}
	tri_rt.main = main_ctx;
	tri_set_self(main_ctx);
	__atomic_store_n(&tri_rt.running, true, __ATOMIC_RELEASE);
	if ((rv = tri_timer_start()) != TR_OK) {
		goto fail_main;
	}
	if (tri_rt.is_root && (rv = tri_node_start()) != TR_OK) {
		tri_timer_stop();
		goto fail_main;
	}
	if (tri_rt.is_root && member == NULL && opts != NULL &&
	    opts->cluster != NULL &&
	    (rv = tri_dist_start(opts->cluster)) != TR_OK) {
		/* Nothing of the node has run yet: as if tr_init had not. */
		__atomic_store_n(&tri_rt.shutting_down, true, __ATOMIC_RELEASE);
		(void)tri_node_stop_all(tri_now_ms() + 1000);
		tri_sched_shutdown(tri_now_ms() + 1000);
		tri_node_stop(); /* before the schedulers: see tr_shutdown */
		tri_sched_stop();
		tri_timer_stop();
		__atomic_store_n(
		    &tri_rt.shutting_down, false, __ATOMIC_RELEASE);
		goto fail_main;
	}
	return TR_OK;

fail_main:
	__atomic_store_n(&tri_rt.running, false, __ATOMIC_RELEASE);
	tri_set_self(NULL);
	tri_registry_remove(main_ctx);
	tri_mailbox_close(main_ctx);
	tri_ctx_rele(main_ctx);
fail_reg:
	tri_registry_fini();
fail_buf:
	tri_buf_fini();
fail_buftab:
	tri_buftab_close();
fail_names:
	tri_names_close();
fail_watch:
	tri_watch_stop();
fail_slots:
	tri_slots_unmap(tri_rt.slots);
	tri_slots_remove(tri_rt.rundir, tri_rt.proc);
	tri_rt.slots = NULL;
fail_dir:
	if (tri_rt.is_root) {
		tri_rundir_remove(tri_rt.rundir, tri_rt.sockdir);
	}
fail:
	pthread_cond_destroy(&tri_rt.cv);
	pthread_mutex_destroy(&tri_rt.mtx);
	return rv;
}

int
tri_init_member(const tr_options *opts, const tri_pspec *s)
{
	if (tri_running()) {
		return TR_EEXIST;
	}
	return runtime_start(opts, s);
}

/* The tasks (threads) of this process, 0 if /proc cannot tell. */
static uint32_t
count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	uint32_t n = 0;

	if (d == NULL) {
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

int
tr_init(const tr_options *opts)
{
	const char *spec;
	int rv;

	if (tri_running()) {
		return TR_EEXIST;
	}
	if (opts != NULL &&
	    (opts->max_body > TR_MSG_MAX ||
	        opts->mailbox_capacity > TRI_CAPACITY_MAX ||
	        opts->schedulers > TRI_HOMES_MAX)) {
		return TR_EINVAL;
	}
	/* An exec'd troupe program joins the node that started it. */
	if ((spec = getenv("TROUPE_SPEC")) != NULL && spec[0] != '\0') {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s", spec);
		unsetenv("TROUPE_SPEC"); /* its own children are its business */
		/* Die with the root, even if it was started without setpriv. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return tri_exec_join(path);
	}
	/* The fork server is made here, before nng or any libuv thread
	 * exists, and only the first time: by the second tr_init() this
	 * process has used nng.  Without it the fork placement is not
	 * available, but the rest is. */
	(void)tri_fork_server_start();
	if ((rv = runtime_start(opts, NULL)) == TR_OK) {
		tri_rt.member_threads = count_tasks();
	}
	return rv;
}

/* Waits until c's thread has let go of it, or the deadline. */
static bool
wait_ended(tri_ctx *c, uint64_t deadline)
{
	bool ended;

	pthread_mutex_lock(&tri_rt.mtx);
	for (;;) {
		pthread_mutex_lock(&c->lmtx);
		ended = c->dead;
		pthread_mutex_unlock(&c->lmtx);
		if (ended || tri_now_ms() >= deadline) {
			break;
		}
		{
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&tri_rt.cv, &tri_rt.mtx, &ts);
		}
	}
	pthread_mutex_unlock(&tri_rt.mtx);
	return ended;
}

int
tr_shutdown(void)
{
	tri_ctx **v = NULL;
	size_t n = 0;
	int rv = TR_OK;
	tri_ctx *self = tri_self();

	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL || self != tri_rt.main) {
		return TR_ESTATE;
	}
	__atomic_store_n(&tri_rt.shutting_down, true, __ATOMIC_RELEASE);
	/* Processes of the node first, then this process's actors; each
	 * newest first, one at a time: the reverse of start order, as a
	 * supervisor stops its children. */
	if (tri_rt.is_root &&
	    tri_node_stop_all(tri_now_ms() + SHUTDOWN_WAIT_MS) != TR_OK) {
		fprintf(stderr,
		    "troupe: shutdown: a process did not end within "
		    "%d ms and was killed\n",
		    SHUTDOWN_WAIT_MS);
	}
	/* Scheduled actors, all at once (each scheduler newest first):
	 * there may be a million of them. */
	if (tri_sched_count() > 0 &&
	    tri_sched_shutdown(tri_now_ms() + SHUTDOWN_WAIT_MS) != TR_OK) {
		fprintf(stderr,
		    "troupe: shutdown: a scheduled actor did not end within "
		    "%d ms (stuck in a callback?)\n",
		    SHUTDOWN_WAIT_MS);
		rv = TR_ETIMEDOUT;
	}
	if (tri_registry_actors(&v, &n) == TR_OK) {
		for (size_t i = 0; i < n; i++) {
			/* Not to one already on its way out (a linked peer's
			 * end took it): its mailbox is closing, and nng 1.5.2
			 * loses a message handed to a closing pipe. */
			tri_ctx *live = tri_registry_get(v[i]->ref);
			if (live != NULL) {
				(void)tri_send_control_ref(v[i]->ref,
				    TRI_K_STOP, self->ref, TR_REASON_SHUTDOWN,
				    0);
				tri_ctx_rele(live);
			}
			if (!wait_ended(
			        v[i], tri_now_ms() + SHUTDOWN_WAIT_MS)) {
				fprintf(stderr,
				    "troupe: shutdown: an actor did not end "
				    "within "
				    "%d ms (stuck in a callback?)\n",
				    SHUTDOWN_WAIT_MS);
				rv = TR_ETIMEDOUT;
			}
			tri_ctx_rele(v[i]);
		}
		tri_free(v);
	}
	if (rv != TR_OK) {
		return rv; /* cannot free what a running thread may touch */
	}
	/* Actors that ended mark themselves dead before their thread has
	 * quite finished: wait for the threads to be done. */
	pthread_mutex_lock(&tri_rt.mtx);
	while (tri_rt.threads > 0) {
		pthread_cond_wait(&tri_rt.cv, &tri_rt.mtx);
	}
	pthread_mutex_unlock(&tri_rt.mtx);

	/* The last exit signals to other nodes' actors go out first. */
	tri_dist_stop();
	/* The node service before the schedulers: its thread announces a
	 * process's death to every scheduler (tri_sched_broadcast), and
	 * may still be doing so for a member that was killed just before
	 * this shutdown -- its DOWN to a context reaches the caller first,
	 * in the same announcement -- while tri_sched_stop frees the
	 * schedulers. */
	if (tri_rt.is_root) {
		tri_node_stop();
	}
	tri_sched_stop();
	__atomic_store_n(&tri_rt.running, false, __ATOMIC_RELEASE);
	tri_timer_stop();
	tri_registry_remove(self);
	tri_notify_exit(self, TR_REASON_SHUTDOWN);
	tri_mailbox_close(self);
	tri_set_self(NULL);
	tri_rt.main = NULL;
	tri_ctx_rele(self);
	tri_registry_fini();
	tri_remote_fini();
	tri_buf_fini();
	tri_buftab_close();
	tri_names_close();
	tri_watch_stop(); /* it sleeps on a word of the table */
	tri_slots_unmap(tri_rt.slots);
	tri_rt.slots = NULL;
	if (tri_rt.is_root) {
		tri_rundir_remove(tri_rt.rundir, tri_rt.sockdir);
	}
	pthread_cond_destroy(&tri_rt.cv);
	pthread_mutex_destroy(&tri_rt.mtx);
	return TR_OK;
}

int
tr_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why)
{
	const tri_behavior *b = NULL;
	tr_placement place;
	tr_spec local;
	int rv;

	if (spec == NULL || out == NULL ||
	    (spec->behavior == NULL && spec->program == NULL) ||
	    (unsigned)spec->placement > TR_PLACE_SCHEDULED ||
	    spec->mailbox_capacity > TRI_CAPACITY_MAX ||
	    (spec->name != NULL &&
	        (spec->name[0] == '\0' || strlen(spec->name) > TR_NAME_MAX))) {
		return TR_EINVAL;
	}
	if (!tri_running() ||
	    __atomic_load_n(&tri_rt.shutting_down, __ATOMIC_ACQUIRE)) {
		return TR_ECLOSED;
	}
	if (spec->node != NULL && !tri_dist_is_self(spec->node)) {
		return tri_dist_spawn(spec, out, why);
	}
	place = tri_placement_choose(spec);
	if (spec->behavior == NULL) {
		/* Any program, wrapped by an actor here. */
		if (place != TR_PLACE_EXEC) {
			return TR_EINVAL;
		}
		if ((rv = tri_fds_room(TRI_FDS_WRAPPED)) != TR_OK) {
			return rv;
		}
		return tri_wrap_spawn(spec, out, why);
	}
	if (place == TR_PLACE_EXEC && spec->program == NULL) {
		/* TROUPE_PLACEMENT=exec: behaviors run in the host program
		 * that TROUPE_EXEC_HOST names. */
		const char *host = getenv("TROUPE_EXEC_HOST");
		if (host == NULL || host[0] == '\0') {
			return TR_EINVAL;
		}
		local = *spec;
		local.program = host;
		spec = &local;
	}
	/* A behavior run by another program is that program's to know. */
	if ((b = tri_behavior_find(spec->behavior)) == NULL &&
	    place != TR_PLACE_EXEC) {
		return TR_ENOENT;
	}
	/* Not the last descriptors: the living need theirs (limits.c).  A
	 * scheduled actor takes none (its scheduler's inbox serves all),
	 * and looking would cost it some 20 system calls. */
	if (place != TR_PLACE_SCHEDULED &&
	    (rv = tri_fds_room(place == TR_PLACE_THREAD ? TRI_FDS_THREAD :
	                                                  TRI_FDS_PROCESS)) !=
	        TR_OK) {
		return rv;
	}
	switch (place) {
	case TR_PLACE_THREAD:
		return tri_actor_spawn(spec, b, out, why);
	case TR_PLACE_SCHEDULED:
		return tri_sched_spawn(spec, b, TR_REF_NIL, out, why);
	case TR_PLACE_FORK:
		return tri_process_spawn(spec, b, place, out, why);
	case TR_PLACE_EXEC: {
		tri_behavior named;
		if (b == NULL) {
			memset(&named, 0, sizeof(named));
			snprintf(named.name, sizeof(named.name), "%s",
			    spec->behavior);
			b = &named;
		}
		return tri_process_spawn(spec, b, place, out, why);
	}
	default:
		return TR_ENOTSUP;
	}
}

int
tr_spawn_many(const tr_spec *spec, uint32_t n, tr_ref *refs, tr_reason *why)
{
	const tri_behavior *b;
	int rv;

	if (spec == NULL || refs == NULL || n == 0 || spec->name != NULL ||
	    spec->behavior == NULL) {
		return TR_EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		refs[i] = TR_REF_NIL;
	}
	if (tri_placement_choose(spec) == TR_PLACE_SCHEDULED) {
		if (!tri_running() ||
		    __atomic_load_n(&tri_rt.shutting_down, __ATOMIC_ACQUIRE)) {
			return TR_ECLOSED;
		}
		if ((unsigned)spec->placement > TR_PLACE_SCHEDULED ||
		    spec->mailbox_capacity > TRI_CAPACITY_MAX) {
			return TR_EINVAL;
		}
		if ((b = tri_behavior_find(spec->behavior)) == NULL) {
			return TR_ENOENT;
		}
		return tri_sched_spawn_many(spec, b, n, refs, why);
	}
	/* Other placements: one at a time (each is a thread or process
	 * of its own anyway). */
	for (uint32_t i = 0; i < n; i++) {
		if ((rv = tr_spawn(spec, &refs[i], why)) != TR_OK) {
			tri_spawn_many_undo(refs, i);
			return rv;
		}
	}
	return TR_OK;
}
