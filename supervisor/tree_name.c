/*
 * tree_name.c -- a tree's name on this machine: claimed by the running
 * tree for its life, so that a second tree of that name is refused, and
 * so that `troupe` can tell the control socket of a live tree from one
 * a dead tree left behind.
 *
 * The claim is a write lock (fcntl F_SETLK) on <run base>/<tree>.pid,
 * which holds the tree's pid.  The kernel drops the lock when the
 * process ends, however it ends (kill -9 included), so a name is free
 * again as soon as its tree is gone, and a .pid file nobody locks is
 * what a dead tree left.  POSIX record locks belong to the process and
 * are not inherited by fork: the fork server (forked by tr_init(), after
 * the claim) and its members do not keep a dead root's name.  The
 * catch -- closing any descriptor of the file drops the process's lock
 * -- is why nothing else in a tree's process opens it.
 *
 * A tree claims its name before it listens on <tree>.ctl and removes the
 * socket before it lets the name go, so a .ctl without a locked .pid
 * beside it is a dead tree's.  Whoever sweeps one holds the lock while
 * it removes both files, and checks that the file it locked is still
 * the one at the path: a tree starting meanwhile waits the sweep out, or
 * finds the file replaced and claims the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#include "control.h"
#include "internal.h"
#include "tree_run.h"

/* How long a claim waits out a sweep, or a tree that has locked the file
 * but not yet written its pid: both take microseconds. */
#define CLAIM_WAIT_MS 1000

/* <run base>/<tree><ext>; a name that would leave the run base is
 * refused. */
static int
run_path(const char *tree, const char *ext, char *out, size_t len)
{
	char base[PATH_MAX];
	int rv;

	if (tree == NULL || tree[0] == '\0' || strchr(tree, '/') != NULL ||
	    strcmp(tree, ".") == 0 || strcmp(tree, "..") == 0) {
		return TR_EINVAL;
	}
	if ((rv = tri_rundir_base(base, sizeof(base))) != TR_OK) {
		return rv;
	}
	if ((size_t)snprintf(out, len, "%s/%s%s", base, tree, ext) >= len) {
		return TR_EINVAL;
	}
	return TR_OK;
}

int
trs_ctl_path(const char *tree, char *out, size_t len)
{
	return run_path(tree, ".ctl", out, len);
}

/* A write lock on the whole of fd, without waiting: 0, or errno. */
static int
lock_file(int fd)
{
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	return fcntl(fd, F_SETLK, &l) == 0 ? 0 : errno;
}

/* The pid of the process holding a lock on fd, or 0 if none does. */
static int
lock_holder(int fd)
{
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fcntl(fd, F_GETLK, &l) != 0 || l.l_type == F_UNLCK) {
		return 0;
	}
	return (int)l.l_pid;
}

/* The pid written in fd, or 0. */
static int
written_pid(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0) {
		return 0;
	}
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (int)pid : 0;
}

/* Whether fd is still the file at path (not swept and replaced). */
static bool
still_there(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void
pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

	nanosleep(&ts, NULL);
}

int
trs_tree_claim(const char *tree, int *fd_out, int *holder)
{
	char path[PATH_MAX], text[24];
	uint64_t until = tri_now_ms() + CLAIM_WAIT_MS;
	int rv, fd, err, owner = 0;

	*fd_out = -1;
	*holder = 0;
	if ((rv = run_path(tree, ".pid", path, sizeof(path))) != TR_OK) {
		return rv;
	}
	for (;;) {
		fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			return errno == EACCES ? TR_EPERM : TR_ESYSTEM;
		}
		if ((err = lock_file(fd)) == 0) {
			if (still_there(fd, path)) {
				break;
			}
			close(fd); /* swept under us: claim the new one */
			continue;
		}
		if (err != EAGAIN && err != EACCES) {
			close(fd);
			return TR_ESYSTEM;
		}
		/* Held by the tree whose pid is written there, or by
		 * someone sweeping it, or by a tree that has not written
		 * its pid yet: only the first is an answer. */
		owner = lock_holder(fd);
		if (owner != 0 && owner == written_pid(fd)) {
			close(fd);
			*holder = owner;
			return TR_EEXIST;
		}
		close(fd);
		if (tri_now_ms() >= until) {
			*holder = owner;
			return TR_EEXIST;
		}
		pause_ms(1);
	}
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
		unlink(path);
		close(fd);
		return TR_ESYSTEM;
	}
	*fd_out = fd;
	return TR_OK;
}

void
trs_tree_release(const char *tree, int fd)
{
	char path[PATH_MAX];

	if (fd < 0) {
		return;
	}
	/* Removed while still locked: nobody mistakes it for a dead
	 * tree's in between. */
	if (run_path(tree, ".pid", path, sizeof(path)) == TR_OK &&
	    still_there(fd, path)) {
		unlink(path);
	}
	close(fd);
}

/* A .ctl with no .pid: left by a troupe that made none.  Its socket
 * tells: refused, nobody listens. */
static int
probe_socket(const char *ctl)
{
	static const uint8_t req[] = {0x91, 0xa6, 's', 't', 'a', 't', 'u', 's'};
	uint8_t *resp = NULL;
	size_t n = 0;
	int rv = tri_ctl_request(ctl, req, sizeof(req), 2000, &resp, &n);

	free(resp);
	if (rv == TR_ENOENT) {
		unlink(ctl);
		return TR_ENOENT;
	}
	return TR_OK;
}

int
trs_tree_probe(const char *tree, int *pid)
{
	char path[PATH_MAX], ctl[PATH_MAX];
	int rv, fd, err;

	*pid = 0;
	if ((rv = run_path(tree, ".pid", path, sizeof(path))) != TR_OK ||
	    (rv = trs_ctl_path(tree, ctl, sizeof(ctl))) != TR_OK) {
		return rv;
	}
	for (int tries = 0; tries < 8; tries++) {
		if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0) {
			if (errno != ENOENT) {
				return TR_ESYSTEM;
			}
			return access(ctl, F_OK) == 0 ? probe_socket(ctl) :
			                                TR_ENOENT;
		}
		if ((err = lock_file(fd)) == EAGAIN || err == EACCES) {
			/* Its tree lives (or one is starting, or another
			 * troupe sweeps it: alive, for now). */
			*pid = written_pid(fd);
			close(fd);
			return TR_OK;
		}
		if (err != 0) {
			close(fd);
			return TR_ESYSTEM;
		}
		if (!still_there(fd, path)) {
			close(fd); /* swept and made again meanwhile */
			continue;
		}
		/* Nobody holds it: its tree is gone.  Sweep, holding it. */
		unlink(ctl);
		unlink(path);
		close(fd);
		return TR_ENOENT;
	}
	return TR_ENOENT;
}
