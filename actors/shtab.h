/*
 * shtab.h -- a table the processes of a node share (private to
 * actors/): a file of the node's run directory, mapped MAP_SHARED,
 * that begins with a tri_shtab_head.  names.c and buftab.c keep theirs
 * so.  Each table takes and repairs its own lock (what a process that
 * died holding it left behind is the table's own business).
 */
#ifndef TROUPE_SHTAB_H
#define TROUPE_SHTAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tri_shtab_head {
	uint32_t magic;      /* set once the lock is made */
	pthread_mutex_t mtx; /* robust, process-shared */
} tri_shtab_head;

/*
 * Maps <rundir>/<name>, `size` bytes, into *out.  create: made new and
 * empty (mode 0600), its lock made and `magic` set last; else opened as
 * it is (no symlink followed) and TR_EPROTO unless its magic is
 * `magic`.  TR_OK, or errors mapped from errno (EMFILE: TR_ERESOURCE).
 */
int tri_shtab_map(
    const char *name, size_t size, uint32_t magic, bool create, void **out);

#endif
