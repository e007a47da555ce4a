/*
 * node.c -- the root's node service: the table of the node's processes
 * (fork members, exec'd programs), their births and deaths.
 *
 * One thread in the root runs a libuv loop that watches the fork
 * server's reports of ended members and the exec'd programs it started
 * (uv_spawn).  It does not wait for anybody: when a process ends, it
 * marks the process's slot table dead (senders blocked on a full mailbox
 * there wake up with TR_ENOPROC), and tells every context of the root
 * and every other process of the node, which fire the links and monitors
 * they hold on it with its actor's reason -- the reason the process left
 * in its slot table as it ended, or its signal or exit status if it
 * died without a word.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buffer.h"
#include "alloc.h"
#include "ctx.h"
#include "msg.h"
#include "process.h"
#include "registry.h"
#include "rundir.h"
#include "runtime.h"
#include "target.h"
#include "timer.h"
#include "scheduler.h"

extern char **environ;

/* How long the news of an orderly exit waits for the process's own.
 * Those were handed to the kernel before the process exited; what can
 * hold them up is the receivers' reading, which under heavy load took
 * more than the 100 ms this once was (a DOWN from here overtook a
 * terminate callback's last message).  The wait delays nothing else:
 * names, the process table and spawners learn of the end at once. */
#define ORDERLY_GRACE_MS 1000

typedef struct proc_ent {
	uint32_t proc;
	tr_placement place;
	int pid;
	uint64_t seq;
	tr_ref actor;
	bool ready;
	bool ended;
	tr_reason reason;
} proc_ent;

typedef struct exec_req {
	uint32_t proc;
	char **argv;
	char **env;
	const char *cwd;
	int pid;
	int err;
	bool done;
	struct exec_req *next;
} exec_req;

static struct {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	proc_ent *v;
	size_t n, cap;
	bool running;
	bool stop;
	pthread_t thread;
	uv_loop_t loop;
	uv_async_t async;
	uv_poll_t poll;
	bool polling;
	exec_req *reqs;
	uint64_t seq;
} N;

/* tri_node_test_hook_announce's: kept by tri_node_start's reset. */
static void (*announce_hook)(void);

void
tri_node_test_hook_announce(void (*fn)(void))
{
	announce_hook = fn;
}

static proc_ent *
find_locked(uint32_t proc)
{
	for (size_t i = 0; i < N.n; i++) {
		if (N.v[i].proc == proc) {
			return &N.v[i];
		}
	}
	return NULL;
}

static proc_ent *
find_pid_locked(int pid)
{
	for (size_t i = 0; i < N.n; i++) {
		if (N.v[i].pid == pid && !N.v[i].ended) {
			return &N.v[i];
		}
	}
	return NULL;
}

int
tri_node_proc_new(tr_placement place, uint32_t *proc)
{
	proc_ent *e;

	pthread_mutex_lock(&N.mtx);
	if (N.n == N.cap) {
		size_t ncap = N.cap ? N.cap * 2 : 16;
		proc_ent *v = tri_realloc(N.v, ncap * sizeof(*v));
		if (v == NULL) {
			pthread_mutex_unlock(&N.mtx);
			return TR_ENOMEM;
		}
		N.v = v;
		N.cap = ncap;
	}
	e = &N.v[N.n++];
	memset(e, 0, sizeof(*e));
	e->proc = atomic_fetch_add(&tri_rt.next_proc, 1);
	e->place = place;
	e->seq = ++N.seq;
	*proc = e->proc;
	pthread_mutex_unlock(&N.mtx);
	return TR_OK;
}

void
tri_node_proc_started(uint32_t proc, int pid)
{
	proc_ent *e;

	pthread_mutex_lock(&N.mtx);
	if ((e = find_locked(proc)) != NULL) {
		e->pid = pid;
	}
	pthread_mutex_unlock(&N.mtx);
}

void
tri_node_proc_ready(uint32_t proc, tr_ref actor)
{
	proc_ent *e;

	pthread_mutex_lock(&N.mtx);
	if ((e = find_locked(proc)) != NULL) {
		e->actor = actor;
		e->ready = true;
	}
	pthread_mutex_unlock(&N.mtx);
}

bool
tri_node_proc_reason(uint32_t proc, tr_reason *why, tr_ref *actor)
{
	proc_ent *e;
	bool ended = false;

	pthread_mutex_lock(&N.mtx);
	if ((e = find_locked(proc)) != NULL && e->ended) {
		*why = e->reason;
		*actor = e->actor;
		ended = true;
	}
	pthread_mutex_unlock(&N.mtx);
	return ended;
}

bool
tri_node_proc_ended(uint32_t proc)
{
	proc_ent *e;
	bool ended;

	pthread_mutex_lock(&N.mtx);
	ended = (e = find_locked(proc)) != NULL && e->ended;
	pthread_mutex_unlock(&N.mtx);
	return ended;
}

void
tri_node_kill(uint32_t proc, int sig)
{
	proc_ent *e;

	pthread_mutex_lock(&N.mtx);
	if ((e = find_locked(proc)) != NULL && !e->ended && e->pid > 0) {
		kill(e->pid, sig);
	}
	pthread_mutex_unlock(&N.mtx);
}

static void
send_proc_down(tr_ref to, uint32_t proc, tr_reason why)
{
	uint8_t body[TRI_CONTROL_BODY];
	tri_target t;
	tri_frame f;

	if (tri_target_get(to, &t) != TR_OK) {
		return;
	}
	/* Not to a process that is itself leaving (it said so in its slot
	 * table): it needs no news, and nng 1.5.2 loses -- and leaks -- a
	 * message handed to a pipe whose far end is closing. */
	if (t.remote != NULL && t.tab != NULL && atomic_load(&t.tab->leaving)) {
		tri_target_put(&t);
		return;
	}
	tri_control_frame(&f, body, TRI_K_PROC_DOWN, TR_REF_NIL, to, why, 0);
	f.tag = proc;
	(void)tri_target_deliver(&t, &f);
	tri_target_put(&t);
}

/* Tells every context of the root, and every other process, that proc
 * ended with why. */
static void
announce(uint32_t proc, tr_reason why)
{
	uint32_t *others = NULL;
	size_t nothers = 0;
	tri_ctx **v;
	size_t n;

	/* Its holds on shared buffers go, those of frames sent to it and
	 * never read included: the last holder frees a buffer.  Its slot
	 * table was marked dead first (proc_mark), so no sender takes a
	 * hold for it after this (buffer.c); and before the DOWN goes out,
	 * so a DOWN means the holds are gone. */
	tri_buftab_drop_proc(proc);
	pthread_mutex_lock(&N.mtx);
	if ((others = tri_calloc(N.n + 1, sizeof(*others))) != NULL) {
		for (size_t i = 0; i < N.n; i++) {
			if (!N.v[i].ended && N.v[i].ready) {
				others[nothers++] = N.v[i].proc;
			}
		}
	}
	pthread_mutex_unlock(&N.mtx);
	if (tri_registry_all(&v, &n) == TR_OK) {
		for (size_t i = 0; i < n; i++) {
			if (v[i]->kind != TRI_CTX_SCHED) {
				send_proc_down(v[i]->ref, proc, why);
			}
			tri_ctx_rele(v[i]);
		}
		tri_free(v);
	}
	if (announce_hook != NULL) {
		announce_hook();
	}
	{
		/* Scheduled actors: once per scheduler, for all of its. */
		uint8_t body[TRI_CONTROL_BODY];
		tri_frame f;
		tri_control_frame(
		    &f, body, TRI_K_PROC_DOWN, TR_REF_NIL, TR_REF_NIL, why, 0);
		f.tag = proc;
		tri_sched_broadcast(&f);
	}
	for (size_t i = 0; i < nothers &&
	     !__atomic_load_n(&tri_rt.shutting_down, __ATOMIC_ACQUIRE);
	     i++) {
		/* At shutdown every process is being stopped: telling the
		 * next ones races their ends (and nng 1.5.2 mishandles a
		 * message handed to a pipe whose far end is closing).
		 * Every process's main context is its first: slot 1, gen 1. */
		tr_ref main_ref = {tri_rt.node, others[i], 1, 1};
		send_proc_down(main_ref, proc, why);
	}
	tri_free(others);
}

void
tri_node_broadcast(const tri_frame *f)
{
	uint32_t *others = NULL;
	size_t nothers = 0;

	pthread_mutex_lock(&N.mtx);
	if ((others = tri_calloc(N.n + 1, sizeof(*others))) != NULL) {
		for (size_t i = 0; i < N.n; i++) {
			if (!N.v[i].ended && N.v[i].ready) {
				others[nothers++] = N.v[i].proc;
			}
		}
	}
	pthread_mutex_unlock(&N.mtx);
	for (size_t i = 0; i < nothers &&
	     !__atomic_load_n(&tri_rt.shutting_down, __ATOMIC_ACQUIRE);
	     i++) {
		tri_target t;
		tri_frame g = *f;
		g.dest = (tr_ref){tri_rt.node, others[i], 1, 1};
		if (tri_target_get(g.dest, &t) != TR_OK) {
			continue;
		}
		if (t.remote == NULL || t.tab == NULL ||
		    !atomic_load(&t.tab->leaving)) {
			(void)tri_target_deliver(&t, &g);
		}
		tri_target_put(&t);
	}
	tri_free(others);
}

/* An announcement held back (see ORDERLY_GRACE_MS). */
typedef struct later {
	uv_timer_t timer; /* first: the handle is the allocation */
	uint32_t proc;
	tr_reason why;
} later;

static void
on_later(uv_timer_t *t)
{
	later *l = (later *)t;

	announce(l->proc, l->why);
	uv_close((uv_handle_t *)t, (uv_close_cb)tri_free);
}

/* A process of the node that ended, between its report and its
 * announcement. */
typedef struct death {
	int pid;
	int wstatus;
	uint32_t proc;
	tr_reason why;
	bool orderly;
} death;

/* Reports of ended processes handled in one go (on_note). */
#define DEATHS_MAX 64

/*
 * What can be done at once when a process ends: find why, mark its slot
 * table dead (senders blocked on its mailboxes wake; nobody dials it any
 * more), forget its ports and names.  false for a pid that is none of
 * ours.
 */
static bool
proc_mark(death *d)
{
	tri_slottab *tab;
	proc_ent *e;

	d->orderly = false;
	if (WIFSIGNALED(d->wstatus)) {
		d->why = TR_REASON(TR_EXIT_SIGNAL, WTERMSIG(d->wstatus));
	} else if (WIFEXITED(d->wstatus) && WEXITSTATUS(d->wstatus) != 0) {
		d->why = TR_REASON(TR_EXIT_STATUS, WEXITSTATUS(d->wstatus));
	} else {
		d->why = TR_REASON_NORMAL;
	}
	pthread_mutex_lock(&N.mtx);
	if ((e = find_pid_locked(d->pid)) == NULL) {
		pthread_mutex_unlock(&N.mtx);
		return false;
	}
	d->proc = e->proc;
	pthread_mutex_unlock(&N.mtx);

	/* A member that ended by the book left its actor's reason.  (Its
	 * table was mapped when it started: no descriptor is needed now.) */
	if (tri_remote_table(d->proc, &tab) == TR_OK) {
		pthread_mutex_lock(&N.mtx);
		if ((e = find_locked(d->proc)) != NULL && !e->ready &&
		    !tr_ref_is_nil(tab->actor)) {
			e->actor = tab->actor; /* started, READY not yet seen */
		}
		pthread_mutex_unlock(&N.mtx);
		if (atomic_load(&tab->orderly) && !WIFSIGNALED(d->wstatus)) {
			d->orderly = true;
			d->why = TR_REASON(
			    (tr_exit_kind)tab->reason_kind, tab->reason_code);
		}
		/* Its dead letters become the root's: those it counted, and
		 * the messages its mailboxes had accepted and not handed to
		 * an actor (all of them, for a process that was killed). */
		TRI_STAT_ADD(dead_letters,
		    tri_slots_close_all(tab) + atomic_load(&tab->dead_letters));
		tri_timers_settle(tab); /* its timers will never fire */
	}
	tri_remote_forget_proc(d->proc);
	tri_names_drop_proc(d->proc);
	/* Nobody dials it any more (its table is dead): its socket files
	 * go now, not with the node. */
	tri_rundir_remove_sockets(tri_rt.rundir, d->proc);
	return true;
}

/* Tells everybody that d's process ended, and removes its files. */
static void
proc_announce(const death *d)
{
	char path[PATH_MAX];
	proc_ent *e;

	pthread_mutex_lock(&N.mtx);
	e = find_locked(d->proc);
	e->ended = true;
	e->reason = d->why;
	pthread_cond_broadcast(&N.cv);
	pthread_mutex_unlock(&N.mtx);

	/* A process that ended by the book sent its own exit notices,
	 * after its last messages and in order with them; ours is the
	 * safety net for one that died without a word.  Held back a
	 * little, it does not overtake the frames still on their way. */
	if (d->orderly) {
		later *l = tri_calloc(1, sizeof(*l));
		if (l != NULL) {
			l->proc = d->proc;
			l->why = d->why;
			uv_timer_init(&N.loop, &l->timer);
			uv_timer_start(
			    &l->timer, on_later, ORDERLY_GRACE_MS, 0);
		} else {
			announce(d->proc, d->why);
		}
	} else {
		announce(d->proc, d->why);
	}
	snprintf(path, sizeof(path), "%s/%u.spec", tri_rt.rundir, d->proc);
	unlink(path);
	tri_slots_remove(tri_rt.rundir, d->proc);
}

/*
 * Processes of the node ended: find out why, and tell everybody.  All
 * of them are marked dead before any is announced: an announcement
 * goes to every process not known to have ended, and one to a process
 * that is dead but not yet marked would wait on its refused dial.
 */
static void
procs_ended(death *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (proc_mark(&v[i])) {
			v[k++] = v[i];
		}
	}
	if (k == 0) {
		return;
	}
	/* (A death while connecting to one of our mailboxes may have
	 * wedged its nng 1.5.2 listener: the listener watch repairs it when
	 * a dialer finds it deaf, transport/watch.h.) */
	for (size_t i = 0; i < k; i++) {
		proc_announce(&v[i]);
	}
}

static void
on_note(uv_poll_t *h, int status, int events)
{
	death v[DEATHS_MAX];
	int32_t note[2];
	size_t n;

	(void)h;
	(void)events;
	if (status < 0) {
		return;
	}
	do {
		n = 0;
		while (n < DEATHS_MAX &&
		    recv(tri_fork_server_note_fd(), note, sizeof(note),
		        MSG_DONTWAIT) == (ssize_t)sizeof(note)) {
			v[n].pid = note[0];
			v[n].wstatus = note[1];
			n++;
		}
		procs_ended(v, n);
	} while (n == DEATHS_MAX);
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	death d;

	d.pid = p->pid;
	d.wstatus = sig != 0 ? sig : (int)((status & 0xff) << 8);
	procs_ended(&d, 1);
	uv_close((uv_handle_t *)p, (uv_close_cb)tri_free);
}

static void
run_exec(exec_req *r)
{
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	uv_process_t *p = tri_calloc(1, sizeof(*p));
	int rv;

	if (p == NULL) {
		r->err = TR_ENOMEM;
		return;
	}
	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 3; i++) {
		stdio[i].flags = UV_INHERIT_FD;
		stdio[i].data.fd = i;
	}
	o.file = r->argv[0];
	o.args = r->argv;
	o.env = r->env;
	o.cwd = r->cwd;
	o.exit_cb = on_exit_cb;
	/* A session of its own: a Ctrl-C at the root's terminal (SIGINT to
	 * the foreground group) must not end it behind its supervisor's
	 * back.  It still dies with the root: setpriv's parent-death
	 * signal, and its tr_init()'s own. */
	o.flags = UV_PROCESS_DETACHED;
	o.stdio = stdio;
	o.stdio_count = 3;
	if ((rv = uv_spawn(&N.loop, p, &o)) != 0) {
		tri_free(p);
		r->err = tri_err_uv(rv);
		return;
	}
	r->pid = p->pid;
	tri_node_proc_started(r->proc, p->pid);
}

static void
close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h)) {
		/* Processes and held-back announcements are allocations. */
		uv_close(h,
		    h->type == UV_PROCESS || h->type == UV_TIMER ?
		        (uv_close_cb)tri_free :
		        NULL);
	}
}

static void
on_async(uv_async_t *h)
{
	exec_req *list;

	pthread_mutex_lock(&N.mtx);
	list = N.reqs;
	N.reqs = NULL;
	pthread_mutex_unlock(&N.mtx);
	while (list != NULL) {
		exec_req *r = list;
		list = r->next;
		run_exec(r);
		pthread_mutex_lock(&N.mtx);
		r->done = true;
		pthread_cond_broadcast(&N.cv);
		pthread_mutex_unlock(&N.mtx);
	}
	if (N.stop) {
		/* Everything still open -- our handles, programs that would
		 * not end -- is closed, so that the loop can return. */
		uv_walk(h->loop, close_handle, NULL);
	}
}

static void *
node_main(void *arg)
{
	(void)arg;
	uv_run(&N.loop, UV_RUN_DEFAULT);
	return NULL;
}

int
tri_node_start(void)
{
	int rv;

	memset(&N, 0, sizeof(N));
	pthread_mutex_init(&N.mtx, NULL);
	tri_cond_init(&N.cv);
	if ((rv = uv_loop_init(&N.loop)) != 0) {
		return tri_err_uv(rv);
	}
	uv_async_init(&N.loop, &N.async, on_async);
	if (tri_fork_server_running() &&
	    uv_poll_init(&N.loop, &N.poll, tri_fork_server_note_fd()) == 0) {
		uv_poll_start(&N.poll, UV_READABLE, on_note);
		N.polling = true;
	}
	if ((rv = pthread_create(&N.thread, NULL, node_main, NULL)) != 0) {
		uv_close((uv_handle_t *)&N.async, NULL);
		if (N.polling) {
			uv_close((uv_handle_t *)&N.poll, NULL);
		}
		uv_run(&N.loop, UV_RUN_DEFAULT);
		uv_loop_close(&N.loop);
		return tri_err_errno(rv);
	}
	N.running = true;
	return TR_OK;
}

int
tri_node_stop_all(uint64_t deadline)
{
	int rv = TR_OK;

	for (;;) {
		proc_ent *e = NULL;
		uint32_t proc;
		tr_ref actor;
		bool ready;

		pthread_mutex_lock(&N.mtx);
		for (size_t i = 0; i < N.n; i++) {
			if (!N.v[i].ended && N.v[i].pid > 0 &&
			    (e == NULL || N.v[i].seq > e->seq)) {
				e = &N.v[i];
			}
		}
		if (e == NULL) {
			pthread_mutex_unlock(&N.mtx);
			return rv;
		}
		proc = e->proc;
		actor = e->actor;
		ready = e->ready;
		pthread_mutex_unlock(&N.mtx);

		if (ready) {
			(void)tr_stop(actor, TR_REASON_SHUTDOWN);
		}
		pthread_mutex_lock(&N.mtx);
		for (int round = 0; round < 2; round++) {
			uint64_t until =
			    round == 0 ? deadline : tri_now_ms() + 2000;
			while ((e = find_locked(proc)) != NULL && !e->ended &&
			    tri_now_ms() < until) {
				struct timespec ts;
				tri_deadline_ts(until, &ts);
				pthread_cond_timedwait(&N.cv, &N.mtx, &ts);
			}
			if (e == NULL || e->ended) {
				break;
			}
			/* It would not stop: no process outlives the root. */
			kill(e->pid, SIGKILL);
			rv = TR_ETIMEDOUT;
		}
		if ((e = find_locked(proc)) != NULL && !e->ended) {
			e->ended = true; /* lost: do not wait for it again */
		}
		pthread_mutex_unlock(&N.mtx);
	}
}

void
tri_node_stop(void)
{
	if (!N.running) {
		return;
	}
	pthread_mutex_lock(&N.mtx);
	N.stop = true;
	pthread_mutex_unlock(&N.mtx);
	uv_async_send(&N.async);
	pthread_join(N.thread, NULL);
	uv_loop_close(&N.loop);
	pthread_cond_destroy(&N.cv);
	pthread_mutex_destroy(&N.mtx);
	tri_free(N.v);
	N.v = NULL;
	N.n = N.cap = 0;
	N.running = false;
}

int
tri_node_exec(
    uint32_t proc, const tr_spec *spec, const char *spec_path, int *pid)
{
	char prog[PATH_MAX], envspec[PATH_MAX + 16];
	const char *pre[] = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
	size_t npre = access(pre[0], X_OK) == 0 ? 4 : 0;
	size_t nargs = 0, nenv = 0, nextra = 0, k;
	exec_req r;
	int rv;

	if ((rv = tri_find_program(spec->program, prog, sizeof(prog))) !=
	    TR_OK) {
		return rv;
	}
	memset(&r, 0, sizeof(r));
	r.proc = proc;
	r.cwd = spec->cwd;
	/* argv: [setpriv --pdeathsig KILL --] prog args... ; the program
	 * dies with the node service's thread, that is with the root. */
	while (spec->argv != NULL && spec->argv[nargs] != NULL) {
		nargs++;
	}
	if ((r.argv = tri_calloc(npre + nargs + 2, sizeof(char *))) == NULL) {
		return TR_ENOMEM;
	}
	for (k = 0; k < npre; k++) {
		r.argv[k] = (char *)pre[k];
	}
	r.argv[k++] = prog;
	for (size_t i = (nargs > 0 ? 1 : 0); i < nargs; i++) {
		r.argv[k++] = (char *)spec->argv[i];
	}
	/* env: ours, the spec's, and where to find the spec file. */
	while (environ[nenv] != NULL) {
		nenv++;
	}
	while (spec->env != NULL && spec->env[nextra] != NULL) {
		nextra++;
	}
	snprintf(envspec, sizeof(envspec), "TROUPE_SPEC=%s", spec_path);
	if ((r.env = tri_calloc(nenv + nextra + 2, sizeof(char *))) == NULL) {
		tri_free(r.argv);
		return TR_ENOMEM;
	}
	k = 0;
	for (size_t i = 0; i < nenv; i++) {
		if (strncmp(environ[i], "TROUPE_SPEC=", 12) != 0) {
			r.env[k++] = environ[i];
		}
	}
	for (size_t i = 0; i < nextra; i++) {
		r.env[k++] = (char *)spec->env[i];
	}
	r.env[k++] = envspec;

	pthread_mutex_lock(&N.mtx);
	r.next = N.reqs;
	N.reqs = &r;
	pthread_mutex_unlock(&N.mtx);
	uv_async_send(&N.async);
	pthread_mutex_lock(&N.mtx);
	while (!r.done) {
		pthread_cond_wait(&N.cv, &N.mtx);
	}
	pthread_mutex_unlock(&N.mtx);
	tri_free(r.argv);
	tri_free(r.env);
	if (r.err != TR_OK) {
		return r.err;
	}
	*pid = r.pid;
	return TR_OK;
}

int
tri_find_program(const char *prog, char *out, size_t len)
{
	const char *path;
	int err = TR_ENOENT;

	if (prog == NULL || prog[0] == '\0') {
		return TR_EINVAL;
	}
	if (strchr(prog, '/') != NULL) {
		struct stat st;
		char real[PATH_MAX];
		if (stat(prog, &st) != 0) {
			return TR_ENOENT;
		}
		if (S_ISDIR(st.st_mode) || access(prog, X_OK) != 0) {
			return TR_EPERM;
		}
		/* Resolved: a path like /proc/self/exe would name whichever
		 * program reads it (setpriv, when it is the launcher). */
		if (realpath(prog, real) == NULL) {
			return TR_ENOENT;
		}
		snprintf(out, len, "%s", real);
		return TR_OK;
	}
	if ((path = getenv("PATH")) == NULL) {
		path = "/usr/local/bin:/usr/bin:/bin";
	}
	while (*path != '\0') {
		const char *end = strchr(path, ':');
		size_t dl = end != NULL ? (size_t)(end - path) : strlen(path);
		struct stat st;
		if ((size_t)snprintf(out, len, "%.*s/%s", (int)dl, path, prog) <
		        len &&
		    stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (access(out, X_OK) == 0) {
				return TR_OK;
			}
			err = TR_EPERM;
		}
		path += dl;
		if (*path == ':') {
			path++;
		}
	}
	return err;
}
