/*
 * rundir.c -- the node's run directory: where its ipc sockets and slot
 * tables live.  Private to the user (mode 0700, checked to be ours),
 * removed at shutdown, and swept on the next start if a root process
 * died without removing it.
 *
 * Base: $TROUPE_RUNDIR, else $XDG_RUNTIME_DIR/troupe, else
 * /dev/shm/troupe-<uid> (memory), else /tmp/troupe-<uid>.  The node's directory
 * inside it is named after the node id.  ipc socket paths must fit sun_path
 * (107 bytes): when the directory is too deep for that, sockets are addressed
 * through a short symlink in /tmp that points at it.
 */
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

#include "internal.h"

/* The longest socket name we append: "/4294967295.4294967295.4294967295". */
#define SOCK_NAME_MAX 34
#define SUN_PATH_MAX 107

/* Makes dir (mode 0700) or accepts it if it is a directory of ours with
 * no access for others. */
static int
private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		return errno == EACCES ? TR_EPERM : TR_ESYSTEM;
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

int
tri_rundir_base(char *base, size_t len)
{
	const char *env;

	if ((env = getenv("TROUPE_RUNDIR")) != NULL && env[0] != '\0') {
		snprintf(base, len, "%s", env);
	} else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL &&
	    env[0] != '\0') {
		snprintf(base, len, "%s/troupe", env);
	} else if (access("/dev/shm", W_OK) == 0) {
		/* Memory, not disk: slot tables and spec files are written on
		 * every process start (measured: fork spawn twice as slow with
		 * the run directory on ext4). */
		snprintf(base, len, "/dev/shm/troupe-%u", (unsigned)geteuid());
	} else {
		snprintf(base, len, "/tmp/troupe-%u", (unsigned)geteuid());
	}
	return private_dir(base);
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
tri_rundir_remove(const char *dir, const char *sockdir)
{
	if (strcmp(dir, sockdir) != 0) {
		unlink(sockdir);
	}
	remove_tree(dir);
}
