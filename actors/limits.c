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
#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "troupe.h"
#include "rundir.h"

/*
 * Counting the open descriptors (/proc/self/fd) costs the kernel some
 * 0.65 us per descriptor -- 0.65 ms per spawn in a root holding a
 * thousand.  Taking the room instead costs ~2 system calls per
 * descriptor of room asked: descriptors are made (a dup of one made
 * first) until there are as many as asked, then all closed.  For those
 * few microseconds they are taken: another thread that needs one just
 * then, with less than the room left, fails as the spawn will.
 */
int
tri_fds_room(unsigned need)
{
	int fds[64];
	unsigned want = need + TRI_FDS_SPARE, got = 0;
	int rv = TR_OK;

	if (want > sizeof(fds) / sizeof(fds[0])) {
		want = sizeof(fds) / sizeof(fds[0]);
	}
	if ((fds[0] = open("/", O_PATH | O_CLOEXEC)) < 0) {
		return errno == EMFILE || errno == ENFILE ? TR_ERESOURCE :
		                                            TR_OK;
	}
	for (got = 1; got < want; got++) {
		if ((fds[got] = fcntl(fds[0], F_DUPFD_CLOEXEC, 0)) < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				rv = TR_ERESOURCE;
			}
			break;
		}
	}
	while (got > 0) {
		close(fds[--got]);
	}
	return rv;
}
