/*
 * test_rundir.c -- the node's run directory: what is left in it after
 * processes die, and which directories are refused as a base.
 *
 * A base is usable when nobody but its user and root can replace it or
 * anything above it: every directory above belongs to root or the user
 * and is writable by nobody else unless sticky; the base is the user's,
 * mode 0700, and no symlink (README.md, "The node").  A case that needs
 * a runtime in another base shuts the test's runtime down and starts it
 * again; the teardown puts TROUPE_RUNDIR back and removes what the case
 * made.  The default bases (/dev/shm/troupe-<uid>, /tmp/troupe-<uid>)
 * are tried by a child -- this program run again with "squat-child" --
 * as a user of its own, so that the real ones of this user, which other
 * test runs share, are never touched.
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH and FTW_PHYS; setgroups */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <troupe.h>

#include "behaviors_proc.h"
#include "life_test.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char saved_rundir[PATH_MAX];
static bool had_rundir;
static char tmp[64];

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

static int
rd_setup(void **state)
{
	const char *env = getenv("TROUPE_RUNDIR");

	had_rundir = env != NULL;
	snprintf(
	    saved_rundir, sizeof(saved_rundir), "%s", had_rundir ? env : "");
	snprintf(tmp, sizeof(tmp), "/tmp/troupe-rdtest-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return tl_setup(state);
}

static int
rd_teardown(void **state)
{
	int rv;

	(void)state;
	rv = tr_shutdown();
	assert_true(rv == TR_OK || rv == TR_ECLOSED);
	if (had_rundir) {
		setenv("TROUPE_RUNDIR", saved_rundir, 1);
	} else {
		unsetenv("TROUPE_RUNDIR");
	}
	rm_tree(tmp);
	return 0;
}

#define RD_TEST(fn) cmocka_unit_test_setup_teardown(fn, rd_setup, rd_teardown)

/* tr_init() with the run base `base`, after the runtime that runs now
 * (if any) is shut down; its result. */
static int
init_with(const char *base)
{
	int rv = tr_shutdown();

	assert_true(rv == TR_OK || rv == TR_ECLOSED);
	assert_int_equal(setenv("TROUPE_RUNDIR", base, 1), 0);
	return tr_init(NULL);
}

/* tr_init() with base, stderr kept in *text (up to len); its result. */
static int
init_said(const char *base, char *text, size_t len)
{
	char path[128];
	int fd, saved, rv;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmp);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	rv = init_with(base);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, text, len - 1, 0);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return rv;
}

static void
make_dir(const char *path, mode_t mode)
{
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0); /* past the umask */
}

static int64_t
call_pid(tr_ref to)
{
	tr_msg *rep = tl_call(to, tl_msg(TP_PID));
	int64_t pid = -1;

	assert_int_equal(tr_msg_tag(rep), TP_RESULT);
	tl_body_ints(rep, &pid, 1);
	tr_msg_free(rep);
	return pid;
}

/* The ipc socket files of process proc in the node directory. */
static int
sockets_of(const char *node, uint32_t proc)
{
	DIR *d = opendir(node);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		unsigned p, s, g;
		int end = 0;
		if (sscanf(e->d_name, "%u.%u.%u%n", &p, &s, &g, &end) == 3 &&
		    e->d_name[end] == '\0' && p == proc) {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ */
/* What deaths leave behind                                            */
/* ------------------------------------------------------------------ */

#define DEATHS 6

/*
 * Fork members killed (tr_kill) or stopped: once the node knows of
 * their ends, none of their ipc socket files is left.  (Once: two per
 * process, kept until the node shut down -- 1,329 entries after 653
 * kills.)  What says that the node knows: a monitor on the member's
 * main context, which only the node's own news of the process's end
 * fires (the member does not end it by the book).
 */
static void
test_sockets_removed_at_death(void **state)
{
	tr_spec spec = {.behavior = TP_MEMBER, .placement = TR_PLACE_FORK};
	char base[128], node[160];
	tr_ref m[DEATHS];

	(void)state;
	snprintf(base, sizeof(base), "%s/run", tmp);
	assert_int_equal(init_with(base), TR_OK);
	snprintf(node, sizeof(node), "%s/%08x", base, (unsigned)tr_self().node);
	for (int i = 0; i < DEATHS; i++) {
		m[i] = tl_spawn_spec(&spec);
		(void)call_pid(m[i]);
		assert_true(sockets_of(node, m[i].proc) >= 2);
	}
	for (int i = 0; i < DEATHS; i++) {
		tr_ref main_ctx = {m[i].node, m[i].proc, 1, 1};
		tr_reason why = i % 2 == 0 ?
		    TR_REASON(TR_EXIT_SIGNAL, SIGKILL) :
		    TR_REASON_SHUTDOWN;
		tr_mon mon = tl_monitor(m[i]);
		tr_mon mmon = tl_monitor(main_ctx);
		bool actor_down = false, main_down = false;

		if (i % 2 == 0) {
			assert_int_equal(tr_kill(m[i]), TR_OK);
		} else {
			assert_int_equal(tr_stop(m[i], why), TR_OK);
		}
		while (!actor_down || !main_down) {
			tr_msg *d = tl_expect(TR_TAG_DOWN);
			tr_reason r;
			tr_ref who;
			uint64_t id;

			assert_int_equal(
			    tr_msg_reason(d, &who, &r, &id), TR_OK);
			assert_int_equal(r.kind, why.kind);
			assert_int_equal(r.code, why.code);
			if (id == mon.id) {
				assert_false(actor_down);
				assert_true(tr_ref_equal(who, m[i]));
				actor_down = true;
			} else {
				assert_int_equal(id, mmon.id);
				assert_false(main_down);
				assert_true(tr_ref_equal(who, main_ctx));
				main_down = true;
				/* The node knows: nothing of it is left. */
				if (sockets_of(node, m[i].proc) != 0) {
					print_error("member %d (proc %u) left "
					            "%d socket files\n",
					    i, m[i].proc,
					    sockets_of(node, m[i].proc));
				}
				assert_int_equal(
				    sockets_of(node, m[i].proc), 0);
			}
			tr_msg_free(d);
		}
	}
	/* Ours are still there. */
	assert_true(sockets_of(node, tr_self().proc) >= 1);
	tl_expect_nothing_else();
}

/* ------------------------------------------------------------------ */
/* Which bases are refused                                             */
/* ------------------------------------------------------------------ */

/* A symlink to a good directory is refused, also written with a
 * trailing slash (which once made the check follow it); the directory
 * itself is accepted with one. */
static void
test_rundir_symlink_refused(void **state)
{
	char real[128], link[128], path[140], said[2048];

	(void)state;
	snprintf(real, sizeof(real), "%s/real", tmp);
	snprintf(link, sizeof(link), "%s/link", tmp);
	make_dir(real, 0700);
	assert_int_equal(symlink(real, link), 0);

	snprintf(path, sizeof(path), "%s/", link);
	assert_int_equal(init_said(path, said, sizeof(said)), TR_EPERM);
	assert_non_null(strstr(said, link));
	assert_int_equal(init_said(link, said, sizeof(said)), TR_EPERM);
	assert_non_null(strstr(said, link));
	snprintf(path, sizeof(path), "%s//", real);
	assert_int_equal(init_with(path), TR_OK);
}

/*
 * Every directory above the base is checked, not only the base: one
 * writable by others and not sticky, or one another user owns, is
 * refused, and the error names it and the rule; a sticky one (as /tmp)
 * is fine, whoever of root or the user owns it.
 */
static void
test_rundir_ancestors_checked(void **state)
{
	char dir[128], base[160], said[2048];
	const struct {
		const char *name;
		mode_t mode;
		uid_t owner; /* 0: ours */
		int rv;
		const char *says;
	} cases[] = {
	    {"open", 0777, 0, TR_EPERM, "writable by others and not sticky"},
	    {"group", 0775, 0, TR_EPERM, "writable by others and not sticky"},
	    {"sticky", 01777, 0, TR_OK, NULL},
	    {"plain", 0755, 0, TR_OK, NULL},
	    /* As root only: a directory of another user. */
	    {"other", 0755, 54321, TR_EPERM, "belongs to another user"},
	    {"other-sticky", 01777, 54321, TR_EPERM, "belongs to another user"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].owner != 0 && geteuid() != 0) {
			print_message("(not root: no directory of another "
			              "user to try for '%s')\n",
			    cases[i].name);
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/%s", tmp, cases[i].name);
		make_dir(dir, cases[i].mode);
		if (cases[i].owner != 0) {
			assert_int_equal(chown(dir, cases[i].owner, 0), 0);
		}
		/* Two levels below it: the check goes all the way up. */
		snprintf(base, sizeof(base), "%s/mine", dir);
		if (cases[i].owner == 0) {
			make_dir(base, 0755);
		} else {
			assert_int_equal(mkdir(base, 0755), 0); /* root may */
		}
		snprintf(base, sizeof(base), "%s/mine/run", dir);
		if (init_said(base, said, sizeof(said)) != cases[i].rv) {
			print_error("%s: %s\n", cases[i].name, said);
			fail();
		}
		if (cases[i].says != NULL) {
			assert_non_null(strstr(said, dir));
			assert_non_null(strstr(said, cases[i].says));
			/* The rule, so that the user knows what to do. */
			assert_non_null(strstr(said, "unless sticky"));
		}
	}
	assert_int_equal(init_with(tmp), TR_OK);
}

/*
 * Another user made /dev/shm/troupe-<uid> first (it can: /dev/shm is
 * writable by all): tr_init() of the victim falls back to
 * /tmp/troupe-<uid>, and says so.  With that one taken too, it fails
 * with TR_EPERM and says what to do.  Run by a child as a user of its
 * own (see the top): root only.
 */
static int
squat_child(const char *expect)
{
	char path[128], found[128];
	uid_t uid = (uid_t)strtoul(getenv("SQUAT_UID"), NULL, 10);
	int rv;

	if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0) {
		fprintf(stderr, "squat-child: cannot become uid %u\n",
		    (unsigned)uid);
		return 1;
	}
	unsetenv("TROUPE_RUNDIR");
	unsetenv("XDG_RUNTIME_DIR");
	rv = tr_init(NULL);
	if (strcmp(expect, "none") == 0) {
		if (rv != TR_EPERM) {
			fprintf(stderr, "squat-child: tr_init: %s\n",
			    tr_strerror(rv));
			return 1;
		}
		return 0;
	}
	if (rv != TR_OK) {
		fprintf(stderr, "squat-child: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	snprintf(path, sizeof(path), "/tmp/troupe-%u/%08x", (unsigned)uid,
	    (unsigned)tr_self().node);
	snprintf(
	    found, sizeof(found), "%s", access(path, F_OK) == 0 ? "" : "no ");
	tr_shutdown();
	if (found[0] != '\0') {
		fprintf(stderr, "squat-child: %s is not there\n", path);
		return 1;
	}
	return 0;
}

/* Runs the squat child expecting `expect`; its stderr in said. */
static void
run_squat_child(const char *expect, char *said, size_t len)
{
	char self[PATH_MAX], out[128];
	char *argv[] = {self, "squat-child", (char *)expect, NULL};
	posix_spawn_file_actions_t fa;
	ssize_t n;
	pid_t pid;
	int st, fd;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(out, sizeof(out), "%s/child-stderr", tmp);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(
	                     &fa, 2, out, O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    0);
	assert_int_equal(posix_spawn(&pid, self, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fd = open(out, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, said, len - 1);
	close(fd);
	said[n > 0 ? n : 0] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("squat child (%s) said:\n%s\n", expect, said);
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Whether /dev/shm is a directory every user may write in (sticky). */
static bool
shm_open_to_all(void)
{
	struct stat st;

	return stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 01777) == 01777;
}

static void
test_rundir_squatted(void **state)
{
	char uidtext[16], shm[64], tmpbase[64], said[4096];
	uid_t uid = 200000 + (uid_t)(getpid() % 100000);

	(void)state;
	if (geteuid() != 0) {
		skip(); /* no other user to squat as */
	}
	snprintf(uidtext, sizeof(uidtext), "%u", (unsigned)uid);
	assert_int_equal(setenv("SQUAT_UID", uidtext, 1), 0);
	snprintf(shm, sizeof(shm), "/dev/shm/troupe-%u", (unsigned)uid);
	snprintf(tmpbase, sizeof(tmpbase), "/tmp/troupe-%u", (unsigned)uid);
	rm_tree(shm);
	rm_tree(tmpbase);

	/* The squatter (uid + 1) made the memory one.  Only where other
	 * users may write in /dev/shm (1777, as on every Debian machine) is
	 * it a candidate of theirs; a root made by hand may lack it
	 * (rundir.c passes it by, silently, as it should). */
	if (shm_open_to_all()) {
		make_dir(shm, 0777);
		assert_int_equal(chown(shm, uid + 1, uid + 1), 0);
		run_squat_child("fallback", said, sizeof(said));
		print_message("%s", said);
		assert_non_null(strstr(said, shm));
		assert_non_null(strstr(said, "is not private"));
	} else {
		print_message("note: /dev/shm is not writable by other users "
		              "here: its squat is not tried, /tmp's is\n");
	}

	/* And the one in /tmp. */
	rm_tree(tmpbase);
	make_dir(tmpbase, 0777);
	assert_int_equal(chown(tmpbase, uid + 1, uid + 1), 0);
	run_squat_child("none", said, sizeof(said));
	print_message("%s", said);
	assert_non_null(strstr(said, tmpbase));
	assert_non_null(strstr(said, "Set TROUPE_RUNDIR"));

	rm_tree(shm);
	rm_tree(tmpbase);
	unsetenv("SQUAT_UID");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    RD_TEST(test_sockets_removed_at_death),
	    RD_TEST(test_rundir_symlink_refused),
	    RD_TEST(test_rundir_ancestors_checked),
	    RD_TEST(test_rundir_squatted),
	};

	if (argc > 2 && strcmp(argv[1], "squat-child") == 0) {
		return squat_child(argv[2]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
