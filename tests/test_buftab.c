/*
 * test_buftab.c -- the node's table of shared buffers when a process
 * dies inside its lock: the next holder of the lock puts the entry the
 * dead one was changing right (EOWNERDEAD and a pass over the table),
 * so no buffer is left that nobody holds.  Internal: linked with the
 * whole static library.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <troupe.h>

#include "buffer.h"
#include "runtime.h"

/* Some process id the node never gives out. */
#define OTHER_PROC 0x7ffffff0u

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(tr_init(NULL), TR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

static tri_bufname
make(void)
{
	tri_bufname n;
	int fd = -1;

	assert_int_equal(tri_buftab_new(4096, &n, &fd), TR_OK);
	close(fd);
	return n;
}

static bool
file_exists(const tri_bufname *n)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(
	    path, sizeof(path), "%s/buf.%u.%u", tri_rt.rundir, n->id, n->gen);
	return stat(path, &st) == 0;
}

/* A child process takes the lock, counts n's hold of proc down and
 * ends there, the lock held. */
static void
die_releasing(const tri_bufname *n, uint32_t proc)
{
	int st = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		tri_buftab_test_die_releasing(n, proc);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
}

/* The last hold counted down, the buffer not freed: the repair frees
 * it (its file goes), and the table works on. */
static void
test_killed_releasing_last(void **state)
{
	tri_bufname n = make(), m;

	(void)state;
	assert_int_equal(tri_buftab_live(), 1);
	die_releasing(&n, tri_rt.proc);
	assert_int_equal(tri_buftab_live(), 0);
	assert_false(file_exists(&n));
	assert_int_equal(tri_buftab_hold(&n, tri_rt.proc, NULL), TR_EPROTO);

	m = make();
	assert_int_equal(tri_buftab_live(), 1);
	tri_buftab_release(&m, tri_rt.proc);
	assert_int_equal(tri_buftab_live(), 0);
	assert_false(file_exists(&m));
}

/* A buffer another process still holds is left alone by the repair. */
static void
test_killed_releasing_shared(void **state)
{
	tri_bufname n = make();

	(void)state;
	assert_int_equal(tri_buftab_hold(&n, OTHER_PROC, NULL), TR_OK);
	die_releasing(&n, tri_rt.proc);
	assert_int_equal(tri_buftab_live(), 1);
	assert_true(file_exists(&n));
	assert_true(tri_buftab_held(&n, OTHER_PROC));
	assert_false(tri_buftab_held(&n, tri_rt.proc));
	tri_buftab_release(&n, OTHER_PROC);
	assert_int_equal(tri_buftab_live(), 0);
	assert_false(file_exists(&n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_killed_releasing_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_killed_releasing_shared, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
