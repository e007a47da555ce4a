/*
 * rundir.c -- the node's run directory: where its ipc sockets and slot
 * tables live.  Private to the user (mode 0700, checked to be ours),
 * removed at shutdown, and swept on the next start if a root process
 * died without removing it.
 *
 * Base: $TROUPE_RUNDIR if set (that one or none), else the first of
 * $XDG_RUNTIME_DIR/troupe, /dev/shm/troupe-<uid> (memory) and
 * /tmp/troupe-<uid> that is usable: one that is not (another user made
 * it first, say) is skipped with a line on stderr.  The node's
 * directory inside it is named after the node id.  ipc socket paths
 * must fit sun_path (107 bytes): when the directory is too deep for
 * that, sockets are addressed through a short symlink in /tmp that
 * points at it.
 *
 * A base is usable when nobody but its user and root can replace it or
 * anything above it, as OpenSSH's StrictModes asks of ~/.ssh: every
 * directory above it belongs to root or to the user and is writable by
 * nobody else -- unless sticky (as /tmp and /dev/shm), where others may
 * add entries but not rename or remove ours; the base itself is a
 * directory (not a symlink) of the user's, mode 0700.  The path is
 * resolved once (realpath of its parent), then opened directory by
 * directory with O_NOFOLLOW and each one checked, and the resolved path
 * is what the node uses from then on.
 */
#define _GNU_SOURCE /* O_PATH */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "rundir.h"
#include "runtime.h"

/* The longest socket name we append: "/4294967295.4294967295.4294967295". */
#define SOCK_NAME_MAX 34
#define SUN_PATH_MAX 107

/* Makes dir (mode 0700) inside a checked base, or accepts it if it is
 * a directory of ours with no access for others. */
static int
private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		return tri_err_errno(errno);
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		return TR_EPERM;
	}
	return TR_OK;
}

static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0) {
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static void
alias_path(char *buf, size_t len, uint32_t node)
{
	snprintf(buf, len, "/tmp/troupe-%u-%08x", (unsigned)geteuid(), node);
}

/* Removes node directories whose root process is gone. */
static void
sweep_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX], pidfile[PATH_MAX + 16];
		unsigned node;
		long pid = 0;
		FILE *f;

		if (sscanf(e->d_name, "%8x", &node) != 1 ||
		    strlen(e->d_name) != 8) {
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", base,
		        e->d_name) >= sizeof(path)) {
			continue;
		}
		snprintf(pidfile, sizeof(pidfile), "%s/root.pid", path);
		if ((f = fopen(pidfile, "r")) != NULL) {
			if (fscanf(f, "%ld", &pid) != 1) {
				pid = 0;
			}
			fclose(f);
		}
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
			continue; /* its root lives */
		}
		if (pid <= 0) {
			/* No pid yet: a root may be making it right now.  Only
			 * one that stayed without a pid for a minute is stale.
			 */
			struct stat st;
			if (stat(path, &st) != 0 ||
			    time(NULL) - st.st_mtime < 60) {
				continue;
			}
		}
		remove_tree(path);
		{
			char alias[64];
			alias_path(alias, sizeof(alias), node);
			unlink(alias);
		}
	}
	closedir(d);
}

/* Why a directory above a run directory cannot be trusted; NULL if it
 * can (see the top). */
static const char *
untrusted(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode)) {
		return "is not a directory";
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		return "belongs to another user";
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st->st_mode & S_ISVTX) == 0) {
		return "is writable by others and not sticky";
	}
	return NULL;
}

static int
refuse(int rv, char *why, size_t len, const char *fmt, const char *a)
{
	snprintf(why, len, fmt, a);
	return rv;
}

/*
 * Makes path (mode 0700) or accepts it, if it and every directory above
 * it pass the checks at the top.  path: without trailing slashes, as
 * given; *out gets it resolved.  On failure, why says what is wrong.
 */
static int
private_base(
    const char *path, char *out, size_t outlen, char *why, size_t whylen)
{
	char parent[PATH_MAX], real[PATH_MAX], walk[PATH_MAX], at[PATH_MAX];
	const char *last, *slash;
	char *save = NULL, *part;
	struct stat st;
	const char *bad;
	int fd, nfd, rv;

	slash = strrchr(path, '/');
	last = slash != NULL ? slash + 1 : path;
	if (last[0] == '\0' || strcmp(last, ".") == 0 ||
	    strcmp(last, "..") == 0) {
		return refuse(
		    TR_EINVAL, why, whylen, "%s: not a directory name", path);
	}
	if (slash == path) {
		snprintf(parent, sizeof(parent), "/");
	} else if (slash != NULL) {
		snprintf(
		    parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	} else {
		snprintf(parent, sizeof(parent), ".");
	}
	if (realpath(parent, real) == NULL) {
		rv = tri_err_errno(errno);
		return refuse(rv == TR_EPERM ? rv : TR_ENOENT, why, whylen,
		    rv == TR_EPERM ? "%s cannot be reached" :
		                     "%s is no directory",
		    parent);
	}
	if ((size_t)snprintf(out, outlen, "%s%s%s", real,
	        strcmp(real, "/") == 0 ? "" : "/", last) >= outlen) {
		return refuse(TR_EINVAL, why, whylen, "%s: too long", path);
	}

	/* Directory by directory from the root: none may be a symlink
	 * (realpath resolved them) or be replaceable by another user.  at
	 * is the one being looked at. */
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return refuse(
		    tri_err_errno(errno), why, whylen, "%s: cannot open", "/");
	}
	snprintf(walk, sizeof(walk), "%s", real);
	snprintf(at, sizeof(at), "/");
	part = strtok_r(walk, "/", &save);
	for (;;) {
		if (fstat(fd, &st) != 0) {
			rv = tri_err_errno(errno);
			close(fd);
			return refuse(
			    rv, why, whylen, "%s: cannot be read", at);
		}
		if ((bad = untrusted(&st)) != NULL) {
			close(fd);
			snprintf(why, whylen, "above it, %s %s", at, bad);
			return TR_EPERM;
		}
		if (part == NULL) {
			break;
		}
		nfd = openat(
		    fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			rv = tri_err_errno(errno);
			close(fd);
			return refuse(rv == TR_ERESOURCE ? rv : TR_EPERM, why,
			    whylen, "%s: changed while it was checked", real);
		}
		close(fd);
		fd = nfd;
		snprintf(at + strlen(at), sizeof(at) - strlen(at), "%s%s",
		    strcmp(at, "/") == 0 ? "" : "/", part);
		part = strtok_r(NULL, "/", &save);
	}

	/* The base itself: ours, a directory, no access for others. */
	if (mkdirat(fd, last, 0700) != 0 && errno != EEXIST) {
		rv = tri_err_errno(errno);
		close(fd);
		return refuse(rv, why, whylen, "%s: cannot be made", out);
	}
	nfd = openat(fd, last, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	rv = nfd < 0 ? tri_err_errno(errno) : TR_OK;
	close(fd);
	if (nfd < 0) {
		return refuse(rv == TR_ERESOURCE ? rv : TR_EPERM, why, whylen,
		    "%s is not a directory (a symlink?)", out);
	}
	if (fstat(nfd, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(nfd);
		snprintf(why, whylen,
		    "%s is not private: owner uid %u, mode %03o (must be "
		    "uid %u, mode 700)",
		    out, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777),
		    (unsigned)geteuid());
		return TR_EPERM;
	}
	close(nfd);
	return TR_OK;
}

/* A candidate base, without trailing slashes: "/a/b/" names "/a/b" (a
 * trailing slash would make the checks follow a symlink). */
static void
candidate(char *buf, size_t len, const char *fmt, const char *a)
{
	size_t n;

	snprintf(buf, len, fmt, a);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/') {
		buf[--n] = '\0';
	}
}

int
tri_rundir_base(char *base, size_t len)
{
	char cand[4][PATH_MAX], uid[16], why[PATH_MAX + 128];
	const char *env;
	size_t n = 0;
	int rv = TR_EPERM;

	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
	if ((env = getenv("TROUPE_RUNDIR")) != NULL && env[0] != '\0') {
		/* Asked for: that one, or an error that says why. */
		candidate(cand[0], PATH_MAX, "%s", env);
		if ((rv = private_base(cand[0], base, len, why, sizeof(why))) !=
		    TR_OK) {
			fprintf(stderr,
			    "troupe: run directory (TROUPE_RUNDIR) refused: "
			    "%s.  "
			    "It must be a directory of yours, mode 700, every "
			    "directory above it belonging to you or root and "
			    "writable by nobody else unless sticky (as /tmp)\n",
			    why);
		}
		return rv;
	}
	if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && env[0] != '\0') {
		candidate(cand[n++], PATH_MAX, "%s/troupe", env);
	}
	/* Memory, not disk: slot tables and spec files are written on every
	 * process start (measured: fork spawn twice as slow with the run
	 * directory on ext4). */
	if (access("/dev/shm", W_OK) == 0) {
		candidate(cand[n++], PATH_MAX, "/dev/shm/troupe-%s", uid);
	}
	candidate(cand[n++], PATH_MAX, "/tmp/troupe-%s", uid);
	for (size_t i = 0; i < n; i++) {
		if ((rv = private_base(cand[i], base, len, why, sizeof(why))) ==
		    TR_OK) {
			return TR_OK;
		}
		fprintf(stderr, "troupe: run directory %s refused: %s%s\n",
		    cand[i], why,
		    i + 1 < n ?
		        "; trying the next" :
		        ".  Set TROUPE_RUNDIR to a directory of yours "
		        "(mode 700) whose parents belong to you or root "
		        "and are writable by nobody else unless sticky "
		        "(as /tmp), or have the ones refused removed (by "
		        "their owner or root)");
	}
	return rv;
}

int
tri_rundir_create(
    uint32_t node, char *dir, size_t dirlen, char *sockdir, size_t socklen)
{
	char base[PATH_MAX];
	FILE *f;
	int rv;

	if ((rv = tri_rundir_base(base, sizeof(base))) != TR_OK) {
		return rv;
	}
	sweep_stale(base);
	if ((size_t)snprintf(dir, dirlen, "%s/%08x", base, node) >= dirlen) {
		return TR_EINVAL;
	}
	if ((rv = private_dir(dir)) != TR_OK) {
		return rv;
	}
	{
		char pidfile[PATH_MAX + 16];
		snprintf(pidfile, sizeof(pidfile), "%s/root.pid", dir);
		if ((f = fopen(pidfile, "w")) == NULL) {
			remove_tree(dir);
			return TR_ESYSTEM;
		}
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	if (strlen(dir) + SOCK_NAME_MAX <= SUN_PATH_MAX) {
		snprintf(sockdir, socklen, "%s", dir);
		return TR_OK;
	}
	/* Too deep for sun_path: a short symlink stands in for it. */
	alias_path(sockdir, socklen, node);
	unlink(sockdir);
	if (symlink(dir, sockdir) != 0) {
		remove_tree(dir);
		return TR_ESYSTEM;
	}
	return TR_OK;
}

void
tri_rundir_remove_sockets(const char *dir, uint32_t proc)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		unsigned p, slot, gen;
		int end = 0;

		/* Exactly "<proc>.<slot>.<gen>" (tri_addr_ipc). */
		if (sscanf(e->d_name, "%u.%u.%u%n", &p, &slot, &gen, &end) ==
		        3 &&
		    e->d_name[end] == '\0' && p == proc &&
		    e->d_name[0] >= '0' && e->d_name[0] <= '9') {
			(void)unlinkat(dirfd(d), e->d_name, 0);
		}
	}
	closedir(d);
}

void
tri_rundir_remove(const char *dir, const char *sockdir)
{
	if (strcmp(dir, sockdir) != 0) {
		unlink(sockdir);
	}
	remove_tree(dir);
}
