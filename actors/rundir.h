/*
 * rundir.h -- private to troupe: the node's run directory (rundir.c) and the
 * descriptors a spawn needs (limits.c).  Not API.
 */
#ifndef TRI_RUNDIR_H
#define TRI_RUNDIR_H

#include <stddef.h>
#include <stdint.h>

/* The run directory (rundir.c).  The base (made private if need be):
 * $TROUPE_RUNDIR, $XDG_RUNTIME_DIR/troupe, /dev/shm/troupe-<uid>,
 * /tmp/troupe-<uid>. */
int tri_rundir_base(char *base, size_t len);
int tri_rundir_create(
    uint32_t node, char *dir, size_t dirlen, char *sockdir, size_t socklen);
void tri_rundir_remove(const char *dir, const char *sockdir);
/* Removes the ipc socket files of the mailboxes of process proc, which
 * has ended: a process killed, or one that exits without closing them
 * (a fork member), leaves them behind. */
void tri_rundir_remove_sockets(const char *dir, uint32_t proc);

/* Room under RLIMIT_NOFILE (limits.c): TR_OK if need more descriptors
 * still leave TRI_FDS_SPARE free, else TR_ERESOURCE (also for ENFILE,
 * the system's limit).  Takes them for a few microseconds to see.  What a spawn
 * costs this process, measured (nng 1.5.2, libuv 1.44): a thread actor
 * 5 (loop, wake-up, listener...); a fork member or exec'd troupe
 * program 3 in the root (its connection in, the root's to its actor
 * and to its main context, made at spawn); a wrapped program 9 (its
 * thread actor and pipes).  The spare covers what is made and closed
 * on the way (spec files, slot tables, listener checks) and
 * connections that running actors make later. */
#define TRI_FDS_SPARE 16
#define TRI_FDS_THREAD 5
#define TRI_FDS_PROCESS 3
#define TRI_FDS_WRAPPED 9
int tri_fds_room(unsigned need);

#endif
