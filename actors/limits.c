/*
 * limits.c -- room left under the process's limit on file descriptors,
 * checked before a spawn takes some.
 *
 * Descriptors are what a node runs out of first: every thread actor
 * holds a loop, a wake-up and a listener; the root holds a connection
 * to and from every process of the node.  A spawn that took the last of
 * them would leave the actors already running without the few they
 * still need -- to answer a call, to be told of a death, to be stopped
 * -- and every such failure used to read as "no such actor".  So a
 * spawn that would leave fewer than TRI_FDS_SPARE free fails at once,
 * with TR_ERESOURCE, before it has made anything.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "internal.h"

int
tri_fds_room(unsigned need)
{
	struct rlimit rl;
	struct dirent *e;
	rlim_t used = 0;
	DIR *d;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY) {
		return TR_OK;
	}
	if ((d = opendir("/proc/self/fd")) == NULL) {
		/* Not even one left; or no /proc to count with. */
		return errno == EMFILE || errno == ENFILE ? TR_ERESOURCE :
		                                            TR_OK;
	}
	while ((e = readdir(d)) != NULL) {
		/* Only numbers under the limit take room: one opened before
		 * the limit was lowered does not. */
		char *end;
		unsigned long fd = strtoul(e->d_name, &end, 10);
		if (e->d_name[0] != '.' && *end == '\0' && fd < rl.rlim_cur &&
		    fd != (unsigned long)dirfd(d)) {
			used++;
		}
	}
	closedir(d);
	return used + need + TRI_FDS_SPARE > rl.rlim_cur ? TR_ERESOURCE : TR_OK;
}
