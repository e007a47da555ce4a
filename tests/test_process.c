/*
 * test_process.c -- the failure paths of the process placements: fork
 * members and exec'd programs (troupe programs and wrapped ones) that
 * die, exit at once, cannot be started, never answer, flood their
 * owner, or lose their root; the node's run directory; pools and their
 * shared port; the init argument and tr_parent() across processes.
 *
 * Every case runs in a fresh runtime (setup tr_init, teardown
 * tr_shutdown); a case that needs another runtime (options, run
 * directory) shuts it down and starts it again before it returns.  The
 * actors are "proc.member" and "proc.caller" (behaviors_proc.h), told
 * what to do by messages only.  exec'd troupe programs are exec_host
 * ($TROUPE_EXEC_HOST, else next to this program); the root killed in
 * test_root_killed is root_prog ($TROUPE_ROOT_PROG, likewise).
 *
 * The tests synchronise on messages.  Where the thing under test is the
 * OS process table and no message can say that a process has gone (an
 * orphan's end, a member stopped after its pool's DOWN), they wait on
 * a pidfd and then read /proc: see wait_pid_gone().
 */
#define _GNU_SOURCE /* pipe2; nftw's FTW_DEPTH and FTW_PHYS */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <troupe.h>

#include "behaviors_proc.h"
#include "life_test.h"

extern char **environ;

/* A call that must not end by its timeout: ending early is the test. */
#define LONG_CALL_MS 30000
/* How long a process may take to leave the process table. */
#define GONE_WAIT_MS 5000

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A program built next to this one: $env (meson sets it), else the
 * directory of this executable (a run by hand). */
static const char *
helper_path(const char *env, const char *name, char *buf, size_t len)
{
	const char *p = getenv(env);
	ssize_t n;
	char *slash;

	if (p != NULL && p[0] != '\0') {
		return p;
	}
	n = readlink("/proc/self/exe", buf, len - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(slash = strrchr(buf, '/'));
	snprintf(slash + 1, len - (size_t)(slash + 1 - buf), "%s", name);
	return buf;
}

static const char *
exec_host(void)
{
	static char buf[PATH_MAX];
	return helper_path("TROUPE_EXEC_HOST", "exec_host", buf, sizeof(buf));
}

static const char *
root_prog(void)
{
	static char buf[PATH_MAX];
	return helper_path("TROUPE_ROOT_PROG", "root_prog", buf, sizeof(buf));
}

/* "proc.member" in a process of that placement. */
static tr_spec
member_spec(tr_placement place)
{
	tr_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = TP_MEMBER;
	spec.placement = place;
	if (place == TR_PLACE_EXEC) {
		spec.program = exec_host();
	}
	return spec;
}

/* A wrapped program (behavior NULL). */
static tr_spec
wrapped_spec(const char *const *argv)
{
	tr_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.placement = TR_PLACE_EXEC;
	spec.program = argv[0];
	spec.argv = argv;
	return spec;
}

/* The pid a member answers to TP_PID; *who is the one that answered. */
static int64_t
call_pid_from(tr_ref to, tr_ref *who)
{
	tr_msg *rep = tl_call(to, tl_msg(TP_PID));
	int64_t pid = -1;

	assert_int_equal(tr_msg_tag(rep), TP_RESULT);
	tl_body_ints(rep, &pid, 1);
	if (who != NULL) {
		*who = tr_msg_sender(rep);
	}
	tr_msg_free(rep);
	assert_true(pid > 0);
	return pid;
}

static int64_t
call_pid(tr_ref to)
{
	return call_pid_from(to, NULL);
}

static tr_ref
call_parent(tr_ref to)
{
	tr_msg *rep = tl_call(to, tl_msg(TP_PARENT));
	msgpack_object o;
	tr_ref r = {9, 9, 9, 9};

	assert_int_equal(tr_msg_tag(rep), TP_RESULT);
	assert_int_equal(tr_msg_body(rep, &o), TR_OK);
	assert_int_equal(tr_unpack_ref(&o, &r), TR_OK);
	tr_msg_free(rep);
	return r;
}

/* A message whose body is one str (or bin). */
static tr_msg *
msg_str(uint32_t tag, const char *s)
{
	tr_msg *m = tl_msg(tag);
	assert_int_equal(
	    msgpack_pack_str_with_body(tr_msg_packer(m), s, strlen(s)), 0);
	return m;
}

static tr_msg *
msg_bin(uint32_t tag, const char *s)
{
	tr_msg *m = tl_msg(tag);
	assert_int_equal(
	    msgpack_pack_bin_with_body(tr_msg_packer(m), s, strlen(s)), 0);
	return m;
}

/* The next message must be a line of output (tag) from w: text. */
static void
expect_line(uint32_t tag, tr_ref w, const char *text)
{
	tr_msg *m = tl_expect(tag);
	msgpack_object o;

	assert_true(tr_ref_equal(tr_msg_sender(m), w));
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_STR);
	assert_int_equal(o.via.str.size, strlen(text));
	assert_memory_equal(o.via.str.ptr, text, strlen(text));
	tr_msg_free(m);
}

/* The state letter of pid in /proc/<pid>/stat (0 if there is no such
 * process); its parent through *ppid if not NULL. */
static char
proc_state(long pid, long *ppid)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL) {
		assert_true(errno == ENOENT || errno == ESRCH);
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything but ends at the
	 * last ')'. */
	if (n == 0 || (p = strrchr(buf, ')')) == NULL || p[1] != ' ') {
		return 0; /* it went while we read */
	}
	if (ppid != NULL) {
		*ppid = strtol(p + 4, NULL, 10);
	}
	return p[2];
}

/* Gone from the process table, or a zombie: dead, but nobody reaped it
 * (an orphan's reaper here is this sandbox's init, which may not). */
static bool
pid_gone(long pid)
{
	char s = proc_state(pid, NULL);
	return s == 0 || s == 'Z' || s == 'X';
}

/*
 * Waits for pid to be gone (pid_gone): what is tested here is the OS
 * process table, and no troupe message says when a process has left it
 * (an orphan of a killed root, or a member that its pool stops after the
 * pool's own DOWN).  A pidfd (Linux 5.3) turns readable when the process
 * ends, whoever its parent is; at most GONE_WAIT_MS.
 */
static bool
wait_pid_gone(long pid)
{
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);

	if (fd >= 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		(void)poll(&p, 1, GONE_WAIT_MS);
		close(fd);
	} else {
		assert_int_equal(errno, ESRCH); /* gone already */
	}
	if (!pid_gone(pid)) {
		print_error("pid %ld is still there (state %c)\n", pid,
		    proc_state(pid, NULL));
		return false;
	}
	return true;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_tree(const char *dir)
{
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The test's temporary directory, for teardown to remove if the test
 * failed before it did. */
static char live_tmp[64];

static void
make_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/troupe-test-XXXXXX");
	assert_non_null(mkdtemp(buf));
	snprintf(live_tmp, sizeof(live_tmp), "%s", buf);
}

/* A fresh runtime whose run base is `base` (NULL: the default). */
static void
restart_with_rundir(const char *base)
{
	assert_int_equal(tr_shutdown(), TR_OK);
	if (base != NULL) {
		assert_int_equal(setenv("TROUPE_RUNDIR", base, 1), 0);
	} else {
		assert_int_equal(unsetenv("TROUPE_RUNDIR"), 0);
	}
	assert_int_equal(tr_init(NULL), TR_OK);
}

static void
expect_private_dir(const char *dir)
{
	struct stat st;

	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
}

static bool
exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		return true;
	}
	assert_int_equal(errno, ENOENT);
	return false;
}

static long
read_long_file(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

/*
 * A run base in tmp that tr_init() will make: tmp/run, or, deep, one
 * 150+ characters long (tmp/aaa...(60)/bbb...(60)/ccc...(40)), too long
 * for ipc socket paths.
 */
static void
make_base(char *base, size_t len, const char *tmp, bool deep)
{
	size_t at;

	assert_true(len >= 256);
	if (!deep) {
		snprintf(base, len, "%s/run", tmp);
		return;
	}
	at = (size_t)snprintf(base, len, "%s/", tmp);
	memset(base + at, 'a', 60);
	base[at + 60] = '\0';
	assert_int_equal(mkdir(base, 0700), 0);
	at += 60;
	base[at++] = '/';
	memset(base + at, 'b', 60);
	base[at + 60] = '\0';
	assert_int_equal(mkdir(base, 0700), 0);
	at += 60;
	base[at++] = '/';
	memset(base + at, 'c', 40);
	base[at + 40] = '\0';
	assert_true(strlen(base) >= 150);
}

static void
alias_path(char *buf, size_t len, uint32_t node)
{
	snprintf(buf, len, "/tmp/troupe-%u-%08x", (unsigned)geteuid(),
	    (unsigned)node);
}

/* ------------------------------------------------------------------ */
/* A member's end reaches its links                                    */
/* ------------------------------------------------------------------ */

/* An EXIT from a live process (measured: a few ms); the news of the
 * process's end comes a second later or more, when the member could not
 * send its last messages. */
#define EXIT_PROMPT_MS 700

/*
 * A fork member's actor that ends tells its links in other processes
 * before its process ends: the EXIT comes from the member at once, not
 * with the root's news of the process's end.  The member's main context
 * is linked to its actor too, and ends the process as soon as it hears;
 * once an actor's links were a hash set, told in an order that depended
 * on their refs, and about half of these EXITs came a second late.  Ten
 * members, so that such an order would show.
 */
static void
test_fork_exit_before_process_ends(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++) {
		tr_spec spec = member_spec(TR_PLACE_FORK);
		tr_ref m;
		int64_t t0, dt;

		spec.link = true;
		m = tl_spawn_spec(&spec);
		t0 = now_ms();
		assert_int_equal(
		    tr_stop(m, TR_REASON(TR_EXIT_CUSTOM, 7)), TR_OK);
		tl_expect_exit(m, TR_REASON(TR_EXIT_CUSTOM, 7));
		dt = now_ms() - t0;
		if (dt >= EXIT_PROMPT_MS) {
			print_error("member %d: EXIT after %lld ms\n", i,
			    (long long)dt);
		}
		assert_true(dt < EXIT_PROMPT_MS);
	}
}

/* ------------------------------------------------------------------ */
/* Many members killed at once                                         */
/* ------------------------------------------------------------------ */

#define KILLED_N 80
/* All KILLED_N deaths known (measured: ~0.3 s on the 2-core VM with
 * the suite running beside it).  The node once took seconds per death
 * while others were waiting to be reported (each announcement dialed
 * the dead, 20 times), so that 60 s after the kills most of them were
 * still listed. */
#define KILLED_WAIT_MS 15000

/*
 * KILLED_N temporary fork children of a supervisor, each killed with
 * tr_kill: every kill returns TR_OK, and within KILLED_WAIT_MS every
 * monitor gets its DOWN (signal(9)), every process has left the process
 * table, and the supervisor has forgotten every child.
 */
static void
test_fork_children_killed(void **state)
{
	tr_child_spec tmpl;
	tr_sup_spec sup_spec;
	tr_ref sup, kids[KILLED_N];
	tr_mon mons[KILLED_N];
	int64_t pids[KILLED_N], t0, left;
	bool down[KILLED_N];
	tr_reason why;
	size_t n = 0, ndown = 0;

	(void)state;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.id = "k";
	tmpl.start = member_spec(TR_PLACE_FORK);
	tmpl.restart = TR_TEMPORARY;
	tmpl.shutdown_ms = TR_SHUTDOWN_BRUTAL;
	memset(&sup_spec, 0, sizeof(sup_spec));
	sup_spec.strategy = TR_SIMPLE_ONE_FOR_ONE;
	sup_spec.children = &tmpl;
	sup_spec.nchildren = 1;
	assert_int_equal(
	    tr_sup_start(&sup_spec, NULL, false, &sup, &why), TR_OK);
	for (int i = 0; i < KILLED_N; i++) {
		assert_int_equal(
		    tr_sup_start_child(sup, NULL, &kids[i], &why), TR_OK);
		pids[i] = call_pid(kids[i]);
		mons[i] = tl_monitor(kids[i]);
		down[i] = false;
	}
	assert_int_equal(tr_sup_children(sup, NULL, 0, &n), TR_OK);
	assert_int_equal(n, KILLED_N);

	t0 = now_ms();
	for (int i = 0; i < KILLED_N; i++) {
		assert_int_equal(tr_kill(kids[i]), TR_OK);
	}
	while (
	    ndown < KILLED_N && (left = KILLED_WAIT_MS - (now_ms() - t0)) > 0) {
		tr_msg *m = NULL;
		tr_ref who;
		uint64_t id;
		int i;

		if (tr_recv(&m, (int)left) != TR_OK) {
			break;
		}
		assert_int_equal(tr_msg_tag(m), TR_TAG_DOWN);
		assert_int_equal(tr_msg_reason(m, &who, &why, &id), TR_OK);
		for (i = 0; i < KILLED_N && mons[i].id != id; i++) {
		}
		assert_true(i < KILLED_N);
		assert_false(down[i]);
		assert_true(tr_ref_equal(who, kids[i]));
		assert_int_equal(why.kind, TR_EXIT_SIGNAL);
		assert_int_equal(why.code, SIGKILL);
		down[i] = true;
		ndown++;
		tr_msg_free(m);
	}
	if (ndown < KILLED_N) {
		print_error("%zu of %d DOWNs within %d ms\n", ndown, KILLED_N,
		    KILLED_WAIT_MS);
	}
	assert_int_equal(ndown, KILLED_N);
	for (int i = 0; i < KILLED_N; i++) {
		assert_true(wait_pid_gone((long)pids[i]));
		assert_false(tr_alive(kids[i]));
	}
	/* The supervisor hears of each death on its own; ask until it has
	 * forgotten them all. */
	do {
		assert_int_equal(tr_sup_children(sup, NULL, 0, &n), TR_OK);
	} while (n > 0 && now_ms() - t0 < KILLED_WAIT_MS);
	assert_int_equal(n, 0);
	print_message("%d fork children killed: all known dead in %lld ms\n",
	    KILLED_N, (long long)(now_ms() - t0));
	tl_stop_wait(sup, TR_REASON_SHUTDOWN);
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* A member killed while a call to it is waiting                      */
/* ------------------------------------------------------------------ */

/*
 * The caller (a thread actor, so that the main context is free to kill)
 * waits in a call to the member that the member never answers; the
 * member is killed with SIGKILL.  The call must end with TR_ENOPROC at
 * once, not by its 30 s timeout, and a monitor gets signal(9).
 */
static void
killed_mid_call(tr_placement place)
{
	tr_spec spec = member_spec(place);
	tr_spec cspec = {.behavior = TP_CALLER, .placement = TR_PLACE_THREAD};
	tr_ref member, caller, who;
	tr_reason why;
	tr_msg *m;
	tr_mon mon;
	int64_t pid, v[3], t0;
	uint64_t id;
	bool got_rv = false, got_down = false;

	member = tl_spawn_spec(&spec);
	pid = call_pid(member);
	assert_int_not_equal(pid, getpid());
	mon = tl_monitor(member);
	caller = tl_spawn_spec(&cspec);

	m = tl_msg(TP_GO);
	msgpack_pack_array(tr_msg_packer(m), 3);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), member), TR_OK);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), tr_self()), TR_OK);
	msgpack_pack_int64(tr_msg_packer(m), LONG_CALL_MS);
	tl_send(caller, m);

	/* The member has the call in hand. */
	m = tl_expect(TP_HANGING);
	assert_true(tr_ref_equal(tr_msg_sender(m), member));
	tl_body_ints(m, v, 1);
	assert_int_equal(v[0], pid);
	tr_msg_free(m);

	t0 = now_ms();
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	while (!got_rv || !got_down) {
		m = tl_recv();
		if (tr_msg_tag(m) == TP_CALL_RV) {
			assert_false(got_rv);
			assert_true(tr_ref_equal(tr_msg_sender(m), caller));
			tl_body_ints(m, v, 3);
			assert_int_equal(v[0], TR_ENOPROC);
			assert_int_equal(v[1], 1); /* it was sent */
			/* Ended by the death, not by the timeout. */
			assert_true(v[2] < GONE_WAIT_MS);
			got_rv = true;
		} else {
			assert_int_equal(tr_msg_tag(m), TR_TAG_DOWN);
			assert_false(got_down);
			assert_int_equal(
			    tr_msg_reason(m, &who, &why, &id), TR_OK);
			assert_true(tr_ref_equal(who, member));
			assert_int_equal(why.kind, TR_EXIT_SIGNAL);
			assert_int_equal(why.code, SIGKILL);
			assert_int_equal(id, mon.id);
			got_down = true;
		}
		tr_msg_free(m);
	}
	assert_true(now_ms() - t0 < GONE_WAIT_MS);
	/* The DOWN is sent once the process was reaped. */
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_false(tr_alive(member));
	/* The caller lives on. */
	assert_true(tr_alive(caller));
	tl_expect_nothing_else();
}

static void
test_fork_member_killed_mid_call(void **state)
{
	(void)state;
	killed_mid_call(TR_PLACE_FORK);
}

static void
test_exec_member_killed_mid_call(void **state)
{
	(void)state;
	killed_mid_call(TR_PLACE_EXEC);
}

/* ------------------------------------------------------------------ */
/* Programs that end at once                                          */
/* ------------------------------------------------------------------ */

/* A wrapped program, linked (the main context traps exits, so the end
 * comes as an EXIT even if it came before tr_spawn returned). */
static void
wrapped_ends(const char *const *argv, tr_reason want)
{
	tr_spec spec = wrapped_spec(argv);
	tr_ref w;

	spec.link = true;
	w = tl_spawn_spec(&spec);
	tl_expect_exit(w, want);
	assert_false(tr_alive(w));
	tl_expect_nothing_else();
}

static void
test_wrapped_exit_status(void **state)
{
	static const char *const argv[] = {"sh", "-c", "exit 3", NULL};

	(void)state;
	wrapped_ends(argv, TR_REASON(TR_EXIT_STATUS, 3));
}

static void
test_wrapped_exit_normal(void **state)
{
	static const char *const argv[] = {"true", NULL};

	(void)state;
	wrapped_ends(argv, TR_REASON_NORMAL);
}

static void
test_wrapped_killed_by_signal(void **state)
{
	static const char *const argv[] = {"sh", "-c", "kill -9 $$", NULL};

	(void)state;
	wrapped_ends(argv, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
}

static void
init_fails(tr_placement place)
{
	tr_spec spec = member_spec(place);
	tr_msg *arg = tl_msg_int(TP_CFG_FAIL, 42);
	tr_ref r = TR_REF_NIL;
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, -1);

	spec.init_arg = arg;
	assert_int_equal(tr_spawn(&spec, &r, &why), TR_EINIT);
	assert_int_equal(why.kind, TR_EXIT_ERROR);
	assert_int_equal(why.code, 42);
	assert_true(tr_ref_is_nil(r));
	tr_msg_free(arg);
	tl_expect_nothing_else();
}

static void
test_fork_init_fails(void **state)
{
	(void)state;
	init_fails(TR_PLACE_FORK);
}

static void
test_exec_init_fails(void **state)
{
	(void)state;
	init_fails(TR_PLACE_EXEC);
}

/* A member's process that dies in init, before its actor could say
 * anything: tr_spawn says how it died. */
static void
dies_in_init(tr_placement place, int64_t how, tr_reason want)
{
	tr_spec spec = member_spec(place);
	tr_msg *arg = tl_msg_int(TP_CFG_DIE, how);
	tr_ref r = TR_REF_NIL;
	tr_reason why = TR_REASON(TR_EXIT_CUSTOM, -1);

	spec.init_arg = arg;
	assert_int_equal(tr_spawn(&spec, &r, &why), TR_EINIT);
	assert_int_equal(why.kind, want.kind);
	assert_int_equal(why.code, want.code);
	assert_true(tr_ref_is_nil(r));
	tr_msg_free(arg);
	tl_expect_nothing_else();
}

static void
test_fork_dies_in_init(void **state)
{
	(void)state;
	dies_in_init(
	    TR_PLACE_FORK, SIGKILL, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	dies_in_init(TR_PLACE_FORK, -5, TR_REASON(TR_EXIT_STATUS, 5));
}

static void
test_exec_dies_in_init(void **state)
{
	(void)state;
	dies_in_init(
	    TR_PLACE_EXEC, SIGKILL, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	dies_in_init(TR_PLACE_EXEC, -5, TR_REASON(TR_EXIT_STATUS, 5));
}

/* A program asked for a behavior that is no troupe program at all: it
 * ends without joining the node, and tr_spawn says how. */
static void
test_exec_not_a_troupe_program(void **state)
{
	static const char *const exit3[] = {"sh", "-c", "exit 3", NULL};
	static const char *const kill9[] = {"sh", "-c", "kill -9 $$", NULL};
	static const char *const ok[] = {"true", NULL};
	const char *const *argvs[] = {exit3, kill9, ok};
	const tr_reason want[] = {TR_REASON(TR_EXIT_STATUS, 3),
	    TR_REASON(TR_EXIT_SIGNAL, SIGKILL), TR_REASON_NORMAL};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		tr_spec spec = member_spec(TR_PLACE_EXEC);
		tr_ref r = TR_REF_NIL;
		tr_reason why = TR_REASON(TR_EXIT_CUSTOM, -1);

		spec.program = argvs[i][0];
		spec.argv = argvs[i];
		assert_int_equal(tr_spawn(&spec, &r, &why), TR_EINIT);
		assert_int_equal(why.kind, want[i].kind);
		assert_int_equal(why.code, want[i].code);
		assert_true(tr_ref_is_nil(r));
	}
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Programs that cannot be started                                    */
/* ------------------------------------------------------------------ */

/* Both ways of exec: wrapped, and as a troupe program. */
static void
exec_refused(const char *program, int want)
{
	const char *const argv[] = {program, NULL};
	tr_spec wrapped = wrapped_spec(argv);
	tr_spec troupe = member_spec(TR_PLACE_EXEC);
	tr_ref r = TR_REF_NIL;

	troupe.program = program;
	assert_int_equal(tr_spawn(&wrapped, &r, NULL), want);
	assert_true(tr_ref_is_nil(r));
	assert_int_equal(tr_spawn(&troupe, &r, NULL), want);
	assert_true(tr_ref_is_nil(r));
}

static void
test_program_missing(void **state)
{
	(void)state;
	exec_refused("/nonexistent/troupe-test-program", TR_ENOENT);
	exec_refused("troupe-test-no-such-program", TR_ENOENT);
	tl_expect_nothing_else();
}

static void
test_program_not_executable(void **state)
{
	char dir[64], file[128];
	int fd;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/plain", dir);
	assert_true((fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644)) >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	assert_int_equal(chmod(file, 0644), 0); /* whatever the umask */

	exec_refused(file, TR_EPERM);
	exec_refused(dir, TR_EPERM);
	tl_expect_nothing_else();
	unlink(file);
	rmdir(dir);
}

static void
test_exec_unknown_behavior(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_EXEC);
	tr_ref r = TR_REF_NIL;

	(void)state;
	spec.behavior = "proc.no-such-behavior";
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_ENOENT);
	assert_true(tr_ref_is_nil(r));
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Wrapped programs: output and input                                 */
/* ------------------------------------------------------------------ */

/* Appends p[0..n) and a '|' to the string in buf. */
static void
append(char *buf, size_t len, const char *p, size_t n)
{
	size_t at = strlen(buf);

	assert_true(at + n + 2 <= len);
	if (n > 0) {
		memcpy(buf + at, p, n); /* an empty str may have no pointer */
	}
	buf[at + n] = '|';
	buf[at + n + 1] = '\0';
}

static void
test_wrapped_output_lines(void **state)
{
	static const char *const argv[] = {"sh", "-c",
	    "printf 'one\\ntwo\\n\\nthree\\n'; printf 'err1\\n' >&2; "
	    "printf four; printf err2 >&2",
	    NULL};
	tr_spec spec = wrapped_spec(argv);
	char out[256] = "", err[256] = "";
	tr_reason why;
	msgpack_object o;
	tr_ref w, who;
	tr_msg *m;

	(void)state;
	spec.link = true;
	w = tl_spawn_spec(&spec);
	for (;;) {
		m = tl_recv();
		if (tr_msg_tag(m) == TR_TAG_EXIT) {
			break;
		}
		assert_true(tr_msg_tag(m) == TR_TAG_STDOUT ||
		    tr_msg_tag(m) == TR_TAG_STDERR);
		assert_true(tr_ref_equal(tr_msg_sender(m), w));
		assert_int_equal(tr_msg_body(m, &o), TR_OK);
		assert_int_equal(o.type, MSGPACK_OBJECT_STR);
		if (tr_msg_tag(m) == TR_TAG_STDOUT) {
			append(out, sizeof(out), o.via.str.ptr, o.via.str.size);
		} else {
			append(err, sizeof(err), o.via.str.ptr, o.via.str.size);
		}
		tr_msg_free(m);
	}
	/* Everything came before the end, in order per stream; the last
	 * lines, without a newline, too. */
	assert_int_equal(tr_msg_reason(m, &who, &why, NULL), TR_OK);
	assert_true(tr_ref_equal(who, w));
	assert_int_equal(why.kind, TR_EXIT_NORMAL);
	tr_msg_free(m);
	assert_string_equal(out, "one|two||three|four|");
	assert_string_equal(err, "err1|err2|");
	tl_expect_nothing_else();
}

static void
test_wrapped_output_raw(void **state)
{
	static const char *const argv[] = {"seq", "1", "20000", NULL};
	tr_spec spec = wrapped_spec(argv);
	size_t want_len = 0, got_len = 0, chunks = 0;
	char *want, *got;
	msgpack_object o;
	tr_reason why;
	tr_msg *m;
	tr_ref w;

	(void)state;
	assert_non_null(want = malloc(200000));
	assert_non_null(got = malloc(200000));
	for (int i = 1; i <= 20000; i++) {
		want_len += (size_t)sprintf(want + want_len, "%d\n", i);
	}
	spec.raw_output = true;
	spec.link = true;
	w = tl_spawn_spec(&spec);
	while (tr_msg_tag(m = tl_recv()) != TR_TAG_EXIT) {
		assert_int_equal(tr_msg_tag(m), TR_TAG_STDOUT);
		assert_true(tr_ref_equal(tr_msg_sender(m), w));
		assert_int_equal(tr_msg_body(m, &o), TR_OK);
		assert_int_equal(o.type, MSGPACK_OBJECT_BIN);
		assert_true(o.via.bin.size > 0);
		assert_true(got_len + o.via.bin.size <= want_len);
		memcpy(got + got_len, o.via.bin.ptr, o.via.bin.size);
		got_len += o.via.bin.size;
		chunks++;
		tr_msg_free(m);
	}
	assert_int_equal(tr_msg_reason(m, NULL, &why, NULL), TR_OK);
	assert_int_equal(why.kind, TR_EXIT_NORMAL);
	tr_msg_free(m);
	assert_true(chunks >= 1);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(want);
	free(got);
	tl_expect_nothing_else();
}

static void
test_wrapped_stdin(void **state)
{
	static const char *const argv[] = {"cat", NULL};
	tr_spec spec = wrapped_spec(argv);
	tr_ref w;
	tr_mon mon;

	(void)state;
	w = tl_spawn_spec(&spec);
	mon = tl_monitor(w);
	tl_send(w, msg_str(TP_DATA, "hello\n"));
	expect_line(TR_TAG_STDOUT, w, "hello");
	/* bin is written as is; a line may come in pieces. */
	tl_send(w, msg_bin(TP_DATA, "wor"));
	tl_send(w, msg_str(TP_DATA, "ld\n"));
	expect_line(TR_TAG_STDOUT, w, "world");
	/* A last line without a newline, then a nil body closes stdin: cat
	 * ends, and its last line still comes, before its end. */
	tl_send(w, msg_str(TP_DATA, "tail"));
	tl_send(w, tl_msg(TP_DATA));
	expect_line(TR_TAG_STDOUT, w, "tail");
	tl_expect_down(mon, w, TR_REASON_NORMAL);
	assert_false(tr_alive(w));
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* A program that floods its owner                                    */
/* ------------------------------------------------------------------ */

#define FLOOD_LINES 30000
#define FLOOD_CAPACITY 16

/*
 * The main context's mailbox holds 16 messages; the program writes its
 * lines as fast as it can.  The wrapper must stop reading while the
 * mailbox is full (it can neither queue without bound nor drop): every
 * line arrives, in order, and the program ends normally.
 *
 * 30000 lines, not more: the wrapper resumes after a full mailbox by
 * retrying every 2 ms (wrap.c, RETRY_MS), so this takes about
 * lines / capacity * 2 ms (200000 lines: 26 s).
 */
static void
test_wrapped_flood_backpressure(void **state)
{
	static const char *const argv[] = {"seq", "1", "30000", NULL};
	tr_options opts = {.mailbox_capacity = FLOOD_CAPACITY};
	tr_spec spec = wrapped_spec(argv);
	tr_actor_info info;
	char want[32], last[32] = "";
	msgpack_object o;
	tr_reason why;
	uint32_t max_depth = 0;
	long n = 0;
	tr_msg *m;
	tr_ref w;

	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_init(&opts), TR_OK);
	spec.link = true;
	w = tl_spawn_spec(&spec);
	while (tr_msg_tag(m = tl_recv()) != TR_TAG_EXIT) {
		int len;

		assert_int_equal(tr_msg_tag(m), TR_TAG_STDOUT);
		assert_int_equal(tr_msg_body(m, &o), TR_OK);
		assert_int_equal(o.type, MSGPACK_OBJECT_STR);
		n++;
		len = snprintf(want, sizeof(want), "%ld", n);
		if (o.via.str.size != (size_t)len ||
		    memcmp(o.via.str.ptr, want, (size_t)len) != 0) {
			fail_msg("line %ld is '%.*s'", n, (int)o.via.str.size,
			    o.via.str.ptr);
		}
		memcpy(last, want, (size_t)len + 1);
		if (n % 1000 == 0) {
			assert_int_equal(
			    tr_actor_info_get(tr_self(), &info), TR_OK);
			assert_int_equal(info.mailbox_capacity, FLOOD_CAPACITY);
			if (info.mailbox_depth > max_depth) {
				max_depth = info.mailbox_depth;
			}
		}
		tr_msg_free(m);
	}
	assert_int_equal(tr_msg_reason(m, NULL, &why, NULL), TR_OK);
	assert_int_equal(why.kind, TR_EXIT_NORMAL);
	tr_msg_free(m);
	assert_int_equal(n, FLOOD_LINES);
	assert_string_equal(last, "30000");
	assert_true(max_depth <= FLOOD_CAPACITY);
	(void)w;
	assert_int_equal(tr_shutdown(), TR_OK);
	assert_int_equal(tr_init(NULL), TR_OK);
}

/* ------------------------------------------------------------------ */
/* A member that never answers its init                               */
/* ------------------------------------------------------------------ */

#define START_TIMEOUT 300

static void
init_never_answers(tr_placement place)
{
	tr_spec spec = member_spec(place);
	tr_msg *arg = tl_msg(TP_CFG_BLOCK), *m;
	tr_ref r = TR_REF_NIL;
	int64_t t0, elapsed, pid;

	spec.init_arg = arg;
	spec.start_timeout_ms = START_TIMEOUT;
	t0 = now_ms();
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_ETIMEDOUT);
	elapsed = now_ms() - t0;
	assert_true(tr_ref_is_nil(r));
	assert_true(elapsed >= START_TIMEOUT - 5);
	assert_true(elapsed < 5000);
	tr_msg_free(arg);

	/* Its init told us its pid (tr_parent() is us) before it blocked;
	 * the runtime killed it. */
	m = tl_expect(TP_INIT_PID);
	tl_body_ints(m, &pid, 1);
	tr_msg_free(m);
	assert_int_not_equal(pid, getpid());
	assert_true(wait_pid_gone((long)pid));
	tl_expect_nothing_else();
}

static void
test_fork_init_timeout(void **state)
{
	(void)state;
	init_never_answers(TR_PLACE_FORK);
}

static void
test_exec_init_timeout(void **state)
{
	(void)state;
	init_never_answers(TR_PLACE_EXEC);
}

/* ------------------------------------------------------------------ */
/* The root killed                                                    */
/* ------------------------------------------------------------------ */

/* Reads one line from fd, waiting at most 20 s for it. */
static void
read_line(int fd, char *buf, size_t len)
{
	int64_t until = now_ms() + 20000;
	size_t at = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int left = (int)(until - now_ms());
		ssize_t n;

		assert_true(left > 0);
		assert_true(poll(&p, 1, left) >= 0);
		n = read(fd, buf + at, len - 1 - at);
		if (n < 0 && errno == EAGAIN) {
			continue;
		}
		assert_true(n > 0); /* EOF: the root failed (see stderr) */
		at += (size_t)n;
		buf[at] = '\0';
		if (strchr(buf, '\n') != NULL) {
			return;
		}
		assert_true(at < len - 1);
	}
}

/* The 8-hex-digit node directories in base. */
static int
node_dirs(const char *base, char names[][16], int max)
{
	DIR *d = opendir(base);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) == 8 &&
		    strspn(e->d_name, "0123456789abcdef") == 8) {
			assert_true(n < max);
			snprintf(names[n++], 16, "%s", e->d_name);
		}
	}
	closedir(d);
	return n;
}

/* A root_prog running, for teardown to kill if a test failed before it
 * did. */
static pid_t live_root;

/*
 * Starts root_prog on run base `base`, its exec'd member being
 * exec_path (NULL: /proc/self/exe), and reads its line of pids:
 * root, fork member, exec'd member, wrapped program.  The pipe's read
 * end is left in *fd.
 */
static pid_t
start_root(const char *base, const char *exec_path, long pids[4], int *fd)
{
	char line[256];
	char *argv[] = {(char *)root_prog(), (char *)exec_path, NULL};
	posix_spawn_file_actions_t fa;
	int fds[2];

	assert_int_equal(setenv("TROUPE_RUNDIR", base, 1), 0);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_adddup2(&fa, fds[1], 1), 0);
	assert_int_equal(
	    posix_spawn(&live_root, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	*fd = fds[0];

	/* "<root> <fork member> <exec'd> <wrapped>" */
	read_line(fds[0], line, sizeof(line));
	assert_int_equal(sscanf(line, "%ld %ld %ld %ld", &pids[0], &pids[1],
	                     &pids[2], &pids[3]),
	    4);
	assert_int_equal(pids[0], live_root);
	for (int i = 1; i < 4; i++) {
		assert_true(pids[i] > 1 && pids[i] != live_root);
		assert_false(pid_gone(pids[i]));
	}
	return live_root;
}

static void
kill_root(pid_t root)
{
	int st;

	assert_int_equal(kill(root, SIGKILL), 0);
	assert_int_equal(waitpid(root, &st, 0), root);
	live_root = 0;
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

/*
 * A root killed with SIGKILL gets no chance to stop anything: its fork
 * server, fork member, exec'd troupe program and wrapped program must
 * still all end (parent-death signals), and its run directory, left
 * behind, is swept by the next root that starts on the same base --
 * with its /tmp alias, if the base was too deep for socket paths.
 */
static void
root_killed(bool deep)
{
	char tmp[64], base[256], self[PATH_MAX], dead[300], path[320];
	char alias[64], names[4][16];
	long pids[4], forksrv = 0;
	unsigned node;
	pid_t root;
	int fd;

	make_tmpdir(tmp, sizeof(tmp));
	make_base(base, sizeof(base), tmp, deep);
	/* The exec'd member is root_prog itself, named by its real path
	 * (see test_exec_proc_self_exe for /proc/self/exe). */
	assert_non_null(realpath(root_prog(), self));
	assert_int_equal(tr_shutdown(), TR_OK);
	root = start_root(base, self, pids, &fd);

	/* The fork server is the fork member's parent: it must go too. */
	assert_int_not_equal(proc_state(pids[1], &forksrv), 0);
	assert_true(forksrv > 1 && forksrv != root);
	/* The root's node directory, with its pid. */
	assert_int_equal(node_dirs(base, names, 4), 1);
	snprintf(dead, sizeof(dead), "%s/%s", base, names[0]);
	snprintf(path, sizeof(path), "%s/root.pid", dead);
	assert_int_equal(read_long_file(path), root);
	assert_int_equal(sscanf(names[0], "%8x", &node), 1);
	alias_path(alias, sizeof(alias), node);
	assert_int_equal(exists(alias), deep);

	kill_root(root);
	/* No process of the node outlives its root. */
	for (int i = 1; i < 4; i++) {
		assert_true(wait_pid_gone(pids[i]));
	}
	assert_true(wait_pid_gone(forksrv));
	close(fd);

	/* Nobody removed the dead root's directory; the next root to start
	 * on this base sweeps it, and keeps its own. */
	assert_true(exists(dead));
	assert_int_equal(exists(alias), deep);
	assert_int_equal(tr_init(NULL), TR_OK);
	assert_false(exists(dead));
	assert_false(exists(alias));
	snprintf(path, sizeof(path), "%s/%08x", base, (unsigned)tr_self().node);
	assert_true(exists(path));

	restart_with_rundir(NULL);
	rm_tree(tmp);
}

static void
test_root_killed(void **state)
{
	(void)state;
	root_killed(false);
}

static void
test_root_killed_deep_rundir(void **state)
{
	(void)state;
	root_killed(true);
}

/*
 * A troupe program that execs itself as "/proc/self/exe" (the usual way
 * to name oneself on Linux): the exec'd member must be the program, not
 * whatever runs it first.
 */
static void
test_exec_proc_self_exe(void **state)
{
	char tmp[64], base[256];
	long pids[4];
	pid_t root;
	int fd;

	(void)state;
	make_tmpdir(tmp, sizeof(tmp));
	make_base(base, sizeof(base), tmp, false);
	assert_int_equal(tr_shutdown(), TR_OK);
	root = start_root(base, NULL, pids, &fd);
	kill_root(root);
	for (int i = 1; i < 4; i++) {
		assert_true(wait_pid_gone(pids[i]));
	}
	close(fd);
	assert_int_equal(unsetenv("TROUPE_RUNDIR"), 0);
	assert_int_equal(tr_init(NULL), TR_OK);
	rm_tree(tmp);
}

/* ------------------------------------------------------------------ */
/* The run directory                                                  */
/* ------------------------------------------------------------------ */

static void
test_rundir_layout(void **state)
{
	char tmp[64], base[256], node[300], path[320];
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_ref member;

	(void)state;
	make_tmpdir(tmp, sizeof(tmp));
	make_base(base, sizeof(base), tmp, false);
	restart_with_rundir(base);

	snprintf(node, sizeof(node), "%s/%08x", base, (unsigned)tr_self().node);
	expect_private_dir(base);
	expect_private_dir(node);
	snprintf(path, sizeof(path), "%s/%u.slots", node, tr_self().proc);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/names", node);
	assert_true(exists(path));
	snprintf(path, sizeof(path), "%s/root.pid", node);
	assert_int_equal(read_long_file(path), getpid());

	/* A member's slot table is there too, under its own proc. */
	member = tl_spawn_spec(&spec);
	assert_int_not_equal(member.proc, tr_self().proc);
	(void)call_pid(member);
	snprintf(path, sizeof(path), "%s/%u.slots", node, member.proc);
	assert_true(exists(path));

	assert_int_equal(tr_shutdown(), TR_OK);
	assert_false(exists(node));
	assert_int_equal(unsetenv("TROUPE_RUNDIR"), 0);
	assert_int_equal(tr_init(NULL), TR_OK);
	rm_tree(tmp);
}

static void
test_rundir_deep_path(void **state)
{
	char tmp[64], base[256], node[300], alias[64], target[300];
	tr_spec fspec = member_spec(TR_PLACE_FORK);
	tr_spec espec = member_spec(TR_PLACE_EXEC);
	ssize_t n;

	(void)state;
	make_tmpdir(tmp, sizeof(tmp));
	make_base(base, sizeof(base), tmp, true);
	restart_with_rundir(base);

	snprintf(node, sizeof(node), "%s/%08x", base, (unsigned)tr_self().node);
	expect_private_dir(node);
	/* The sockets are reached through a short alias in /tmp. */
	alias_path(alias, sizeof(alias), tr_self().node);
	assert_true((n = readlink(alias, target, sizeof(target) - 1)) > 0);
	target[n] = '\0';
	assert_string_equal(target, node);

	/* Processes of the node talk through it. */
	assert_true(call_pid(tl_spawn_spec(&fspec)) > 0);
	assert_true(call_pid(tl_spawn_spec(&espec)) > 0);

	assert_int_equal(tr_shutdown(), TR_OK);
	assert_false(exists(alias));
	assert_false(exists(node));
	assert_int_equal(unsetenv("TROUPE_RUNDIR"), 0);
	assert_int_equal(tr_init(NULL), TR_OK);
	rm_tree(tmp);
}

/* ------------------------------------------------------------------ */
/* Pools                                                              */
/* ------------------------------------------------------------------ */

static void
test_pool_alternates(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_ref pool = TR_REF_NIL, who[6];
	int64_t pid[6];

	(void)state;
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_OK);
	assert_false(tr_ref_is_nil(pool));
	for (int i = 0; i < 6; i++) {
		pid[i] = call_pid_from(pool, &who[i]);
		assert_int_not_equal(pid[i], getpid());
	}
	/* Two members, in turn; each answers its calls itself. */
	assert_int_not_equal(pid[0], pid[1]);
	assert_false(tr_ref_equal(who[0], who[1]));
	for (int i = 2; i < 6; i++) {
		assert_int_equal(pid[i], pid[i % 2]);
		assert_true(tr_ref_equal(who[i], who[i % 2]));
		assert_false(tr_ref_equal(who[i], pool));
	}
	/* The pool spawned them: it is their parent. */
	assert_true(tr_ref_equal(call_parent(pool), pool));
	assert_true(tr_ref_equal(call_parent(pool), pool));
	tl_stop_wait(pool, TR_REASON_SHUTDOWN);
	tl_expect_nothing_else();
}

static void
test_pool_cores(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_THREAD);
	uint32_t cores = tr_cores(), distinct = 0;
	tr_ref pool, *seen;

	(void)state;
	assert_true(cores >= 1);
	assert_int_equal((long)cores, sysconf(_SC_NPROCESSORS_ONLN));
	assert_non_null(seen = calloc(cores, sizeof(*seen)));
	assert_int_equal(tr_pool_spawn(&spec, TR_POOL_CORES, &pool), TR_OK);
	/* Two rounds: every member answers, and there are no others. */
	for (uint32_t i = 0; i < 2 * cores; i++) {
		tr_ref who;
		bool known = false;

		(void)call_pid_from(pool, &who);
		for (uint32_t k = 0; k < distinct; k++) {
			known = known || tr_ref_equal(seen[k], who);
		}
		if (!known) {
			assert_true(distinct < cores);
			seen[distinct++] = who;
		}
	}
	assert_int_equal(distinct, cores);
	free(seen);
	tl_stop_wait(pool, TR_REASON_SHUTDOWN);
}

static void
test_pool_bad_args(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_spec nobehavior = {.placement = TR_PLACE_FORK};
	tr_ref pool = TR_REF_NIL;

	(void)state;
	assert_int_equal(tr_pool_spawn(NULL, 2, &pool), TR_EINVAL);
	assert_int_equal(tr_pool_spawn(&spec, 2, NULL), TR_EINVAL);
	assert_int_equal(
	    tr_pool_spawn(&spec, TR_POOL_MAX + 1, &pool), TR_EINVAL);
	assert_int_equal(tr_pool_spawn(&nobehavior, 2, &pool), TR_EINVAL);
	assert_true(tr_ref_is_nil(pool));
	tl_expect_nothing_else();
}

static void
test_pool_stop_stops_members(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_ref pool;
	int64_t a, b;

	(void)state;
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_OK);
	a = call_pid(pool);
	b = call_pid(pool);
	assert_int_not_equal(a, b);
	tl_stop_wait(pool, TR_REASON_SHUTDOWN);
	assert_false(tr_alive(pool));
	/* The members are told after the pool's end: no message here says
	 * when they are gone, the process table does. */
	assert_true(wait_pid_gone((long)a));
	assert_true(wait_pid_gone((long)b));
	tl_expect_nothing_else();
}

/* A member that dies leaves the rotation; the pool ends with the last
 * one, with its reason. */
static void
test_pool_member_killed(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_ref pool, who[2], w;
	tr_mon mon, pmon;
	int64_t pid[2];

	(void)state;
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_OK);
	pid[0] = call_pid_from(pool, &who[0]);
	pid[1] = call_pid_from(pool, &who[1]);
	assert_int_not_equal(pid[0], pid[1]);
	pmon = tl_monitor(pool);

	mon = tl_monitor(who[0]);
	assert_int_equal(kill((pid_t)pid[0], SIGKILL), 0);
	tl_expect_down(mon, who[0], TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	/* Its death is known now: every call goes to the other. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(call_pid_from(pool, &w), pid[1]);
		assert_true(tr_ref_equal(w, who[1]));
	}
	assert_true(tr_alive(pool));

	mon = tl_monitor(who[1]);
	assert_int_equal(kill((pid_t)pid[1], SIGKILL), 0);
	/* Both notices come, in either order. */
	for (int i = 0; i < 2; i++) {
		tr_msg *m = tl_expect(TR_TAG_DOWN);
		tr_reason why;
		uint64_t id;

		assert_int_equal(tr_msg_reason(m, &w, &why, &id), TR_OK);
		assert_true((id == mon.id && tr_ref_equal(w, who[1])) ||
		    (id == pmon.id && tr_ref_equal(w, pool)));
		assert_int_equal(why.kind, TR_EXIT_SIGNAL);
		assert_int_equal(why.code, SIGKILL);
		tr_msg_free(m);
	}
	assert_false(tr_alive(pool));
	tl_expect_nothing_else();
}

/*
 * A call to a pool is answered by a member directly; if that member
 * dies with the call in hand, the caller must learn it at once
 * (TR_ENOPROC), as it would calling that member itself -- not wait
 * for its timeout while the pool lives on.
 */
static void
test_pool_member_killed_mid_call(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_spec cspec = {.behavior = TP_CALLER, .placement = TR_PLACE_THREAD};
	tr_ref pool, caller;
	tr_msg *m;
	int64_t v[3];

	(void)state;
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_OK);
	caller = tl_spawn_spec(&cspec);
	m = tl_msg(TP_GO);
	msgpack_pack_array(tr_msg_packer(m), 3);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), pool), TR_OK);
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), tr_self()), TR_OK);
	/* Short, so that a failure costs 3 s, not a whole LONG_CALL_MS. */
	msgpack_pack_int64(tr_msg_packer(m), 3000);
	tl_send(caller, m);

	m = tl_expect(TP_HANGING);
	tl_body_ints(m, v, 1);
	tr_msg_free(m);
	assert_int_equal(kill((pid_t)v[0], SIGKILL), 0);

	m = tl_expect(TP_CALL_RV);
	tl_body_ints(m, v, 3);
	tr_msg_free(m);
	if (v[0] != TR_ENOPROC) {
		print_error("the call ended with %s after %lld ms\n",
		    tr_strerror((int)v[0]), (long long)v[2]);
	}
	assert_int_equal(v[0], TR_ENOPROC);
	assert_true(v[2] < 3000);
	/* The pool lives on with the other member. */
	assert_true(tr_alive(pool));
	(void)call_pid(pool);
	tl_stop_wait(pool, TR_REASON_SHUTDOWN);
}

static void
test_pool_init_fails(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	tr_ref pool = TR_REF_NIL, found;
	char dir[64], path[128];
	int64_t pid[2];
	tr_msg *arg, *m;
	msgpack_packer *pk;

	(void)state;
	/* Every member fails. */
	arg = tl_msg_int(TP_CFG_FAIL, 42);
	spec.init_arg = arg;
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_EINIT);
	assert_true(tr_ref_is_nil(pool));
	tr_msg_free(arg);

	/* The first member starts, the second fails: the pool starts whole
	 * or not at all, so the first is stopped too. */
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/once", dir);
	arg = tl_msg(TP_CFG_ONCE);
	pk = tr_msg_packer(arg);
	msgpack_pack_array(pk, 3);
	assert_int_equal(tr_pack_ref(pk, tr_self()), TR_OK);
	msgpack_pack_str_with_body(pk, path, strlen(path));
	msgpack_pack_int64(pk, 43);
	spec.init_arg = arg;
	spec.name = "proc.pool";
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_EINIT);
	assert_true(tr_ref_is_nil(pool));
	tr_msg_free(arg);
	for (int i = 0; i < 2; i++) {
		m = tl_expect(TP_INIT_PID);
		tl_body_ints(m, &pid[i], 1);
		tr_msg_free(m);
	}
	assert_int_not_equal(pid[0], pid[1]);
	assert_true(wait_pid_gone((long)pid[0]));
	assert_true(wait_pid_gone((long)pid[1]));
	assert_int_equal(tr_whereis("proc.pool", &found), TR_ENOENT);
	tl_expect_nothing_else();
	unlink(path);
	rmdir(dir);
}

/* A free loopback port, kept bound (SO_REUSEPORT, not listening) so
 * that nobody else takes it before the members listen on it. */
static int
reserve_port(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s, one = 1;

	assert_true((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return s;
}

/* Connects to 127.0.0.1:port and reads the server's pid. */
static long
fetch_pid(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	char buf[32];
	size_t at = 0;
	ssize_t n;
	int s;

	assert_true((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	while ((n = read(s, buf + at, sizeof(buf) - 1 - at)) > 0) {
		at += (size_t)n;
	}
	assert_int_equal(n, 0); /* EOF, not the 5 s timeout */
	close(s);
	buf[at] = '\0';
	assert_true(at > 0);
	return strtol(buf, NULL, 10);
}

static void
test_pool_shared_port(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_FORK);
	bool seen[2] = {false, false};
	tr_msg *arg;
	tr_ref pool;
	int64_t pid[2];
	int hold, port, i;

	(void)state;
	hold = reserve_port(&port);
	arg = tl_msg(TP_CFG_SERVE);
	msgpack_pack_array(tr_msg_packer(arg), 1);
	msgpack_pack_int64(tr_msg_packer(arg), port);
	spec.init_arg = arg;
	assert_int_equal(tr_pool_spawn(&spec, 2, &pool), TR_OK);
	tr_msg_free(arg);
	close(hold);
	pid[0] = call_pid(pool);
	pid[1] = call_pid(pool);
	assert_int_not_equal(pid[0], pid[1]);

	/* The kernel spreads connections among the two listeners: both
	 * answer within a few (at least 20 tries, at most 200). */
	for (i = 0; i < 200 && (i < 20 || !seen[0] || !seen[1]); i++) {
		long p = fetch_pid(port);
		assert_true(p == pid[0] || p == pid[1]);
		seen[p == pid[1]] = true;
	}
	assert_true(seen[0]);
	assert_true(seen[1]);
	tl_stop_wait(pool, TR_REASON_SHUTDOWN);
	assert_true(wait_pid_gone((long)pid[0]));
	assert_true(wait_pid_gone((long)pid[1]));
}

static void
test_tcp_listen_bad_args(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = -1;

	(void)state;
	assert_int_equal(tr_tcp_listen(NULL, 0, 8, &fd), TR_EINVAL);
	assert_int_equal(tr_tcp_listen("127.0.0.1", 0, 8, NULL), TR_EINVAL);
	assert_int_equal(tr_tcp_listen("127.0.0.1", -1, 8, &fd), TR_EINVAL);
	assert_int_equal(tr_tcp_listen("127.0.0.1", 65536, 8, &fd), TR_EINVAL);
	assert_int_equal(tr_tcp_listen("localhost", 0, 8, &fd), TR_EINVAL);
	assert_int_equal(tr_tcp_listen("127.0.0.256", 0, 8, &fd), TR_EINVAL);
	assert_int_equal(tr_tcp_listen("", 0, 8, &fd), TR_EINVAL);
	assert_int_equal(fd, -1);

	/* Port 0 picks one; the socket is non-blocking. */
	assert_int_equal(tr_tcp_listen("127.0.0.1", 0, 8, &fd), TR_OK);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_not_equal(ntohs(sa.sin_port), 0);
	close(fd);
}

static void
test_tcp_listen_port_taken(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s, fd = -1, port;

	(void)state;
	/* A plain listener, without SO_REUSEPORT. */
	assert_true((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);

	assert_int_equal(tr_tcp_listen("127.0.0.1", port, 8, &fd), TR_EEXIST);
	assert_int_equal(fd, -1);
	close(s);
}

/* ------------------------------------------------------------------ */
/* Init argument and tr_parent() across processes                     */
/* ------------------------------------------------------------------ */

static void
pack_cstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* {"s": "troupe", "b": bin, "i": [ints], "m": {"k": "v", "n": [nil,
 * true]}} */
static tr_msg *
nested_arg(void)
{
	static const char bin[] = {0, 1, 2, (char)0xff, 0, 'x'};
	tr_msg *m = tl_msg(TP_CFG_REPORT);
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_map(pk, 4);
	pack_cstr(pk, "s");
	pack_cstr(pk, "troupe");
	pack_cstr(pk, "b");
	msgpack_pack_bin_with_body(pk, bin, sizeof(bin));
	pack_cstr(pk, "i");
	msgpack_pack_array(pk, 7);
	msgpack_pack_int64(pk, -1);
	msgpack_pack_int64(pk, 0);
	msgpack_pack_int64(pk, 1);
	msgpack_pack_int64(pk, INT64_C(1) << 40);
	msgpack_pack_int64(pk, -(INT64_C(1) << 40));
	msgpack_pack_int64(pk, INT64_MIN);
	msgpack_pack_uint64(pk, UINT64_MAX);
	pack_cstr(pk, "m");
	msgpack_pack_map(pk, 2);
	pack_cstr(pk, "k");
	pack_cstr(pk, "v");
	pack_cstr(pk, "n");
	msgpack_pack_array(pk, 2);
	msgpack_pack_nil(pk);
	msgpack_pack_true(pk);
	return m;
}

static void
arg_and_parent(tr_placement place)
{
	tr_spec spec = member_spec(place);
	tr_msg *arg = nested_arg(), *m;
	msgpack_object o, *e;
	tr_ref member, parent;

	spec.init_arg = arg;
	member = tl_spawn_spec(&spec);

	/* What init got, as it got it: [tr_parent(), tag, raw body]. */
	m = tl_expect(TP_INIT_SEEN);
	assert_true(tr_ref_equal(tr_msg_sender(m), member));
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 3);
	e = o.via.array.ptr;
	assert_int_equal(tr_unpack_ref(&e[0], &parent), TR_OK);
	assert_true(tr_ref_equal(parent, tr_self()));
	assert_int_equal(e[1].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_int_equal(e[1].via.u64, TP_CFG_REPORT);
	assert_int_equal(e[2].type, MSGPACK_OBJECT_BIN);
	assert_int_equal(e[2].via.bin.size, tr_msg_size(arg));
	assert_memory_equal(
	    e[2].via.bin.ptr, tr_msg_data(arg), tr_msg_size(arg));
	tr_msg_free(m);
	tr_msg_free(arg); /* tr_spawn copied it */

	/* And outside init: the spawner is still its parent. */
	assert_true(tr_ref_equal(call_parent(member), tr_self()));
	tl_expect_nothing_else();
}

static void
test_fork_init_arg_and_parent(void **state)
{
	(void)state;
	arg_and_parent(TR_PLACE_FORK);
}

static void
test_exec_init_arg_and_parent(void **state)
{
	(void)state;
	arg_and_parent(TR_PLACE_EXEC);
}

static void
test_parent_nil_here(void **state)
{
	tr_spec spec = member_spec(TR_PLACE_THREAD);

	(void)state;
	/* Neither this process nor a thread of it was spawned by troupe. */
	assert_true(tr_ref_is_nil(tr_parent()));
	assert_true(tr_ref_is_nil(call_parent(tl_spawn_spec(&spec))));
}

/* Also undoes what a test that failed half-way left behind: its run
 * base in the environment, a root_prog, its temporary directory. */
static int
proc_teardown(void **state)
{
	(void)state;
	if (live_root > 0) {
		kill(live_root, SIGKILL);
		waitpid(live_root, NULL, 0);
		live_root = 0;
	}
	unsetenv("TROUPE_RUNDIR");
	if (live_tmp[0] != '\0') {
		rm_tree(live_tmp);
		live_tmp[0] = '\0';
	}
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

#define TP_TEST(fn) cmocka_unit_test_setup_teardown(fn, tl_setup, proc_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TP_TEST(test_fork_member_killed_mid_call),
	    TP_TEST(test_exec_member_killed_mid_call),
	    TP_TEST(test_fork_children_killed),
	    TP_TEST(test_fork_exit_before_process_ends),
	    TP_TEST(test_wrapped_exit_status),
	    TP_TEST(test_wrapped_exit_normal),
	    TP_TEST(test_wrapped_killed_by_signal),
	    TP_TEST(test_fork_init_fails),
	    TP_TEST(test_exec_init_fails),
	    TP_TEST(test_fork_dies_in_init),
	    TP_TEST(test_exec_dies_in_init),
	    TP_TEST(test_exec_not_a_troupe_program),
	    TP_TEST(test_program_missing),
	    TP_TEST(test_program_not_executable),
	    TP_TEST(test_exec_unknown_behavior),
	    TP_TEST(test_wrapped_output_lines),
	    TP_TEST(test_wrapped_output_raw),
	    TP_TEST(test_wrapped_stdin),
	    TP_TEST(test_wrapped_flood_backpressure),
	    TP_TEST(test_fork_init_timeout),
	    TP_TEST(test_exec_init_timeout),
	    TP_TEST(test_root_killed),
	    TP_TEST(test_root_killed_deep_rundir),
	    TP_TEST(test_exec_proc_self_exe),
	    TP_TEST(test_rundir_layout),
	    TP_TEST(test_rundir_deep_path),
	    TP_TEST(test_pool_alternates),
	    TP_TEST(test_pool_cores),
	    TP_TEST(test_pool_bad_args),
	    TP_TEST(test_pool_stop_stops_members),
	    TP_TEST(test_pool_member_killed),
	    TP_TEST(test_pool_member_killed_mid_call),
	    TP_TEST(test_pool_init_fails),
	    TP_TEST(test_pool_shared_port),
	    TP_TEST(test_tcp_listen_bad_args),
	    TP_TEST(test_tcp_listen_port_taken),
	    TP_TEST(test_fork_init_arg_and_parent),
	    TP_TEST(test_exec_init_arg_and_parent),
	    TP_TEST(test_parent_nil_here),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
