/*
 * test_resources.c -- a node out of file descriptors or processes.
 * Whatever fails for want of them says so (TR_ERESOURCE), fast; nothing
 * that lives is taken for dead (TR_ENOPROC); the actors that run go on
 * answering calls and can be stopped, and tr_shutdown() does not need
 * its kill path.
 *
 * Descriptors are limited in this process (setrlimit RLIMIT_NOFILE),
 * and restored by the teardown.  Processes are limited in a child: this
 * very program run again with "nproc-child" (RLIMIT_NPROC binds every
 * task of a user, and never root: as root, the child becomes a user of
 * its own first).
 */
#define _GNU_SOURCE /* setgroups */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <troupe.h>
#include <uv.h>

#include "behaviors_proc.h"
#include "internal.h" /* the error mappings */
#include "life_test.h"

extern char **environ;

/* The descriptor limit of the cases here: a few dozen fork members. */
#define NOFILE_LIMIT 256
/* At most this many members, should no limit be reached. */
#define MEMBERS_MAX 400
/* A spawn that fails for want of descriptors or processes fails at
 * once (measured: under 10 ms); the start timeout it once took is 5 s. */
#define FAIL_FAST_MS 2500
/* How long the descriptors of members that ended may take to be
 * closed (measured: up to ~1 s, the time a stopped member takes to
 * flush and exit). */
#define ROOM_WAIT_MS 10000
/* tr_shutdown() with every member answering (measured: ~0.1 s for 70
 * members); its kill path takes 10 s. */
#define SHUTDOWN_FAST_MS 5000

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Setup: the descriptor limit, and descriptors held to use them up    */
/* ------------------------------------------------------------------ */

static struct rlimit saved_nofile;
static int hoard[NOFILE_LIMIT + 64];
static size_t nhoard;

static int
res_setup(void **state)
{
	nhoard = 0;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
	return tl_setup(state);
}

static void
hoard_release(size_t keep)
{
	while (nhoard > keep) {
		close(hoard[--nhoard]);
	}
}

static int
res_teardown(void **state)
{
	int rv;

	(void)state;
	hoard_release(0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
	rv = tr_shutdown();
	assert_true(rv == TR_OK || rv == TR_ECLOSED);
	return 0;
}

static void
limit_nofile(rlim_t n)
{
	struct rlimit rl = saved_nofile;

	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > n) {
		rl.rlim_cur = n;
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* Takes every descriptor left. */
static void
hoard_all(void)
{
	int fd;

	while (nhoard < sizeof(hoard) / sizeof(hoard[0]) &&
	    (fd = fcntl(0, F_DUPFD_CLOEXEC, 0)) >= 0) {
		hoard[nhoard++] = fd;
	}
	assert_int_equal(errno, EMFILE);
}

static tr_spec
fork_member(void)
{
	tr_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = TP_MEMBER;
	spec.placement = TR_PLACE_FORK;
	return spec;
}

static int64_t
call_pid(tr_ref to)
{
	tr_msg *rep = tl_call(to, tl_msg(TP_PID));
	int64_t pid = -1;

	assert_int_equal(tr_msg_tag(rep), TP_RESULT);
	tl_body_ints(rep, &pid, 1);
	tr_msg_free(rep);
	assert_true(pid > 0);
	return pid;
}

/* ------------------------------------------------------------------ */
/* The mappings at the boundaries                                      */
/* ------------------------------------------------------------------ */

/*
 * Every way nng, libuv and the system say "out of descriptors,
 * processes or threads" is TR_ERESOURCE, and out of memory TR_ENOMEM;
 * none of them is TR_ENOPROC.  (The cases below reach most of these for
 * real; ENFILE and ENOSPC cannot be caused from a test.)
 */
static void
test_resource_errors_mapped(void **state)
{
	(void)state;
	assert_int_equal(tri_err_nng(NNG_ENOFILES), TR_ERESOURCE);
	assert_int_equal(tri_err_nng(NNG_ENOSPC), TR_ERESOURCE);
	assert_int_equal(tri_err_nng(NNG_ESYSERR | ENOBUFS), TR_ERESOURCE);
	assert_int_equal(tri_err_nng(NNG_ENOMEM), TR_ENOMEM);
	assert_int_equal(tri_err_nng(NNG_ECONNREFUSED), TR_ENOPROC);
	assert_int_equal(tri_err_uv(UV_EMFILE), TR_ERESOURCE);
	assert_int_equal(tri_err_uv(UV_ENFILE), TR_ERESOURCE);
	assert_int_equal(tri_err_uv(UV_EAGAIN), TR_ERESOURCE);
	assert_int_equal(tri_err_uv(UV_ENOSPC), TR_ERESOURCE);
	assert_int_equal(tri_err_uv(UV_ENOMEM), TR_ENOMEM);
	assert_int_equal(tri_err_errno(EMFILE), TR_ERESOURCE);
	assert_int_equal(tri_err_errno(ENFILE), TR_ERESOURCE);
	assert_int_equal(tri_err_errno(EAGAIN), TR_ERESOURCE);
	assert_int_equal(tri_err_errno(ENOSPC), TR_ERESOURCE);
	assert_int_equal(tri_err_errno(ENOMEM), TR_ENOMEM);
	assert_int_equal(tri_err_errno(0), TR_ESYSTEM);
	assert_string_not_equal(
	    tr_strerror(TR_ERESOURCE), tr_strerror(TR_ERESOURCE + 1));
	assert_non_null(strstr(tr_strerror(TR_ERESOURCE), "file descriptors"));
}

/* ------------------------------------------------------------------ */
/* Out of descriptors                                                  */
/* ------------------------------------------------------------------ */

/*
 * Fork members spawned until spawning fails, under a limit of
 * NOFILE_LIMIT descriptors: the spawn that fails says TR_ERESOURCE, at
 * once; every member spawned before it answers a call and can be
 * stopped; a stop makes room for another; tr_shutdown() is quick.
 * (Once: the spawn failed with "operating system error", calls to the
 * 240 live members returned TR_ENOPROC, every tr_stop failed and
 * tr_shutdown() took its 10 s kill path.)
 */
static void
test_nofile_fork_members(void **state)
{
	tr_spec spec = fork_member();
	tr_ref refs[MEMBERS_MAX], extra;
	size_t n = 0, half;
	int64_t t0, took;
	int rv = TR_OK;

	(void)state;
	limit_nofile(NOFILE_LIMIT);
	while (n < MEMBERS_MAX) {
		t0 = now_ms();
		if ((rv = tr_spawn(&spec, &refs[n], NULL)) != TR_OK) {
			break;
		}
		n++;
	}
	took = now_ms() - t0;
	print_message("%zu fork members under %d descriptors; the next: %s "
	              "in %lld ms\n",
	    n, NOFILE_LIMIT, tr_strerror(rv), (long long)took);
	assert_int_equal(rv, TR_ERESOURCE);
	assert_true(took < FAIL_FAST_MS);
	assert_true(n >= 10);

	/* The living are alive, and answer. */
	for (size_t i = 0; i < n; i++) {
		assert_true(tr_alive(refs[i]));
		(void)call_pid(refs[i]);
	}
	/* Stopping some makes room for another -- once their connections
	 * are closed, which nng does on a thread of its own a moment after
	 * the ends are known: no message says when, so the spawn is tried
	 * again, 20 ms apart, for up to ROOM_WAIT_MS. */
	half = n / 2;
	for (size_t i = 0; i < half; i++) {
		tl_stop_wait(refs[i], TR_REASON_SHUTDOWN);
	}
	t0 = now_ms();
	while ((rv = tr_spawn(&spec, &extra, NULL)) == TR_ERESOURCE &&
	    now_ms() - t0 < ROOM_WAIT_MS) {
		tr_msg *none = NULL;
		assert_int_equal(tr_recv(&none, 20), TR_ETIMEDOUT);
	}
	assert_int_equal(rv, TR_OK);
	(void)call_pid(extra);
	tl_stop_wait(extra, TR_REASON_SHUTDOWN);
	for (size_t i = half; i < n; i++) {
		(void)call_pid(refs[i]);
	}
	tl_expect_nothing_else();

	/* The rest are stopped by the shutdown, each by asking it. */
	t0 = now_ms();
	assert_int_equal(tr_shutdown(), TR_OK);
	took = now_ms() - t0;
	print_message("tr_shutdown with %zu members: %lld ms\n", n - half,
	    (long long)took);
	assert_true(took < SHUTDOWN_FAST_MS);
}

/*
 * With no descriptor left at all: an actor that this process has never
 * talked to -- a thread actor inside a fork member -- cannot be
 * connected to, and a call or send to it says TR_ERESOURCE, never
 * TR_ENOPROC; it is alive (tr_alive, tr_actor_info_get need no
 * connection), and answers once descriptors are free again.  Meanwhile
 * the member itself, connected when it was spawned, answers calls; a
 * spawn fails with TR_ERESOURCE at once; and tr_kill works, its DOWN
 * following.
 */
static void
test_nofile_no_false_death(void **state)
{
	tr_spec spec = fork_member();
	tr_spec tspec = {.behavior = TP_MEMBER, .placement = TR_PLACE_THREAD};
	tr_ref member, inner, r;
	tr_actor_info info;
	tr_msg *rep = NULL, *m;
	msgpack_object o;
	bool sent = true;
	int64_t pid;
	tr_mon mon;

	(void)state;
	limit_nofile(NOFILE_LIMIT);
	member = tl_spawn_spec(&spec);
	pid = call_pid(member);
	rep = tl_call(member, tl_msg(TP_SPAWN));
	assert_int_equal(tr_msg_tag(rep), TP_RESULT);
	assert_int_equal(tr_msg_body(rep, &o), TR_OK);
	assert_int_equal(tr_unpack_ref(&o, &inner), TR_OK);
	tr_msg_free(rep);
	rep = NULL;
	mon = tl_monitor(member);

	hoard_all();
	m = tl_msg(TP_PID);
	assert_int_equal(tr_call(inner, m, TL_WAIT, &rep, &sent), TR_ERESOURCE);
	assert_false(sent);
	assert_null(rep);
	assert_int_equal(tr_send(inner, m), TR_ERESOURCE);
	tr_msg_free(m); /* a failed send leaves it with us */
	assert_true(tr_alive(inner));
	assert_int_equal(tr_actor_info_get(inner, &info), TR_OK);
	assert_int_equal(info.pid, pid);
	assert_int_equal(tr_spawn(&tspec, &r, NULL), TR_ERESOURCE);
	assert_int_equal(tr_spawn(&spec, &r, NULL), TR_ERESOURCE);
	assert_int_equal(call_pid(member), pid);

	/* A few free: the actor was alive all along. */
	hoard_release(nhoard - 8);
	assert_int_equal(call_pid(inner), pid);

	/* None free again: a kill needs no descriptor. */
	hoard_all();
	assert_int_equal(tr_kill(member), TR_OK);
	tl_expect_down(mon, member, TR_REASON(TR_EXIT_SIGNAL, SIGKILL));
	assert_false(tr_alive(member));
	assert_false(tr_alive(inner));
	hoard_release(0);
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Out of processes                                                    */
/* ------------------------------------------------------------------ */

/* Tasks (threads) of the real user uid, from /proc. */
static long
user_tasks(uid_t uid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long n = 0;

	if (d == NULL) {
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[300], line[256];
		long ruid = -1, threads = 0;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9') {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		if ((f = fopen(path, "r")) == NULL) {
			continue;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			(void)(sscanf(line, "Uid: %ld", &ruid) == 1 ||
			    sscanf(line, "Threads: %ld", &threads) == 1);
		}
		fclose(f);
		if (ruid == (long)uid) {
			n += threads;
		}
	}
	closedir(d);
	return n;
}

#define CHILD_FAIL(...)                                       \
	do {                                                  \
		fprintf(stderr, "nproc-child: " __VA_ARGS__); \
		return 1;                                     \
	} while (0)

/*
 * The child: a user with RLIMIT_NPROC a few members above what it runs,
 * spawning fork members until it fails.  0 if all went as it must.
 */
static int
nproc_child(void)
{
	tr_spec spec = fork_member();
	tr_ref refs[MEMBERS_MAX];
	struct rlimit rl;
	size_t n = 0;
	int64_t t0, took = 0;
	int rv = TR_OK;
	long base;

	if (geteuid() == 0) {
		/* A user of its own, whose only tasks are ours: root is
		 * never bound by RLIMIT_NPROC.  Its run directory was
		 * made for it (TROUPE_RUNDIR). */
		uid_t uid = (uid_t)strtoul(getenv("NPROC_UID"), NULL, 10);
		if (setgroups(0, NULL) != 0 || setgid(uid) != 0 ||
		    setuid(uid) != 0) {
			CHILD_FAIL("cannot become uid %u\n", (unsigned)uid);
		}
		/* As a program run by that user would be: its /proc is its
		 * own (a changed uid makes a process undumpable). */
		prctl(PR_SET_DUMPABLE, 1);
	}
	if ((base = user_tasks(getuid())) < 0) {
		CHILD_FAIL("cannot count tasks\n");
	}
	/* Room for a few members of ~15 threads each, and the root's own
	 * ~16 tasks (this is counted before tr_init). */
	rl.rlim_cur = rl.rlim_max = (rlim_t)(base + 90);
	if (setrlimit(RLIMIT_NPROC, &rl) != 0) {
		CHILD_FAIL("setrlimit: %s\n", strerror(errno));
	}
	test_behaviors_register();
	if ((rv = tr_init(NULL)) != TR_OK) {
		CHILD_FAIL("tr_init: %s\n", tr_strerror(rv));
	}
	while (n < MEMBERS_MAX) {
		t0 = now_ms();
		if ((rv = tr_spawn(&spec, &refs[n], NULL)) != TR_OK) {
			took = now_ms() - t0;
			break;
		}
		n++;
	}
	fprintf(stderr,
	    "nproc-child: %zu fork members under RLIMIT_NPROC %ld; the "
	    "next: %s in %lld ms\n",
	    n, (long)rl.rlim_cur, tr_strerror(rv), (long long)took);
	if (rv != TR_ERESOURCE || took >= FAIL_FAST_MS) {
		CHILD_FAIL(
		    "expected TR_ERESOURCE within %d ms\n", FAIL_FAST_MS);
	}
	/* Thread actors until no thread can be made: the same word; and
	 * a wrapped program, whose actor is a thread, too. */
	{
		tr_spec tspec = {
		    .behavior = TP_MEMBER, .placement = TR_PLACE_THREAD};
		const char *argv[] = {"/bin/true", NULL};
		tr_spec wspec = {.program = "/bin/true",
		    .argv = argv,
		    .placement = TR_PLACE_EXEC};
		tr_ref r;
		int k = 0;

		while (k < MEMBERS_MAX &&
		    (rv = tr_spawn(&tspec, &r, NULL)) == TR_OK) {
			k++;
		}
		fprintf(stderr,
		    "nproc-child: then %d thread actors; the next: "
		    "%s\n",
		    k, tr_strerror(rv));
		if (rv != TR_ERESOURCE) {
			CHILD_FAIL("thread actor: %s\n", tr_strerror(rv));
		}
		if ((rv = tr_spawn(&wspec, &r, NULL)) != TR_ERESOURCE) {
			CHILD_FAIL("wrapped program: %s\n", tr_strerror(rv));
		}
	}
	for (size_t i = 0; i < n; i++) {
		tr_msg *m = NULL, *rep = NULL;
		if (tr_msg_new(&m, TP_PID) != TR_OK ||
		    (rv = tr_call(refs[i], m, TL_WAIT, &rep, NULL)) != TR_OK) {
			CHILD_FAIL(
			    "call to member %zu: %s\n", i, tr_strerror(rv));
		}
		tr_msg_free(rep);
	}
	t0 = now_ms();
	if ((rv = tr_shutdown()) != TR_OK ||
	    (took = now_ms() - t0) >= SHUTDOWN_FAST_MS) {
		CHILD_FAIL("tr_shutdown: %s in %lld ms\n", tr_strerror(rv),
		    (long long)(now_ms() - t0));
	}
	return 0;
}

/*
 * Fork members spawned until spawning fails under RLIMIT_NPROC: the
 * spawn that fails says TR_ERESOURCE at once -- not a 5 s TR_ETIMEDOUT,
 * nor a member dead of signal 11 in nng's start (TR_EINIT) -- and every
 * member spawned before answers.  Run in a child (see the top).
 */
static void
test_nproc_fork_members(void **state)
{
	char self[PATH_MAX], dir[64], uidtext[32], saved[PATH_MAX];
	const char *rundir = getenv("TROUPE_RUNDIR");
	char *argv[] = {self, "nproc-child", NULL};
	ssize_t len;
	pid_t pid;
	int st;

	(void)state;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = '\0';
	dir[0] = '\0';
	snprintf(saved, sizeof(saved), "%s", rundir != NULL ? rundir : "");
	if (geteuid() == 0) {
		/* A uid nobody uses, and a run directory it owns. */
		uid_t uid = 200000 + (uid_t)(getpid() % 100000);
		snprintf(uidtext, sizeof(uidtext), "%u", (unsigned)uid);
		snprintf(
		    dir, sizeof(dir), "/tmp/troupe-nproc-%u", (unsigned)uid);
		assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
		assert_int_equal(chown(dir, uid, uid), 0);
		assert_int_equal(setenv("NPROC_UID", uidtext, 1), 0);
		assert_int_equal(setenv("TROUPE_RUNDIR", dir, 1), 0);
	}
	assert_int_equal(posix_spawn(&pid, self, NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (dir[0] != '\0') {
		unsetenv("NPROC_UID");
		if (rundir != NULL) {
			setenv("TROUPE_RUNDIR", saved, 1);
		} else {
			unsetenv("TROUPE_RUNDIR");
		}
		rmdir(dir);
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resource_errors_mapped),
	    cmocka_unit_test_setup_teardown(
	        test_nofile_fork_members, res_setup, res_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_nofile_no_false_death, res_setup, res_teardown),
	    cmocka_unit_test(test_nproc_fork_members),
	};

	if (argc > 1 && strcmp(argv[1], "nproc-child") == 0) {
		return nproc_child();
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
