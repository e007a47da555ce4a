/*
 * shtab.c -- a table the processes of a node share (see shtab.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"
#include "shtab.h"

int
tri_shtab_map(
    const char *name, size_t size, uint32_t magic, bool create, void **out)
{
	char path[PATH_MAX];
	tri_shtab_head *h;
	int fd;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", tri_rt.rundir, name);
	fd = open(path,
	    create ? (O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW) :
	             (O_RDWR | O_CLOEXEC | O_NOFOLLOW),
	    0600);
	if (fd < 0) {
		return tri_err_errno(errno);
	}
	if (create && ftruncate(fd, (off_t)size) != 0) {
		int rv = tri_err_errno(errno);
		close(fd);
		return rv;
	}
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED) {
		return tri_err_errno(errno);
	}
	if (create) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&h->mtx, &a);
		pthread_mutexattr_destroy(&a);
		__atomic_store_n(&h->magic, magic, __ATOMIC_RELEASE);
	} else if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != magic) {
		munmap(h, size);
		return TR_EPROTO;
	}
	*out = h;
	return TR_OK;
}
