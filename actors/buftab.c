/*
 * buftab.c -- the node's table of shared buffers and their backing files.
 *
 * A buffer is a file of the node's run directory, buf.<id>.<gen>, made
 * with mode 0600 in a directory of mode 0700 and mapped MAP_SHARED by
 * every process that holds it: threads of one process share one mapping,
 * fork members and exec'd programs map the same file, so all see the
 * same bytes.  nng cannot pass descriptors, so a message names the file
 * (an id and its incarnation) instead of carrying it.
 *
 * The table (the file "buffers", mapped by every process of the node,
 * made by the root) says per buffer: its incarnation, size, a random
 * key, and how many holds each process has.  A hold is a handle, a
 * message, or a frame on its way (counted for the process it goes to,
 * which owns it once it reads the frame).  The last hold to go frees the
 * buffer: its file is unlinked (mappings stay valid until unmapped).
 * The root drops every hold of a process that ended, so a process that
 * is killed holding buffers, or with messages carrying them unread,
 * leaks nothing, and buffers it shared stay valid for their other
 * holders.  A process killed inside the lock is repaired after by the
 * next one to take it (repair_locked).
 *
 * One process-shared robust mutex guards the table, as for names
 * (names.c): a hold is taken per message, not per byte, and the
 * critical sections are a few stores.  The key is what makes a name
 * unforgeable: only processes of the node can read the table.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer.h"
#include "runtime.h"
#include "shtab.h"

#define BUFTAB_MAGIC 0x74726266u /* "trbf" */

typedef struct holder {
	uint32_t proc;
	uint32_t count; /* 0: a free place */
} holder;

typedef struct ent {
	uint32_t gen; /* bumped as the buffer is made */
	uint32_t live;
	uint64_t size;
	uint64_t key;
	holder h[TRI_BUF_HOLDERS];
} ent;

typedef struct buftab {
	tri_shtab_head h; /* its lock: holder counts and entries */
	uint32_t next;    /* where the next search for a free entry starts */
	uint32_t live;
	ent e[TRI_BUF_ENTRIES];
} buftab;

static buftab *tab;

void
tri_bufname_put(uint8_t *p, const tri_bufname *n)
{
	uint64_t w[6] = {n->node, n->id, n->gen, n->proc, n->size, n->key};
	size_t off = 0;

	for (int i = 0; i < 6; i++) {
		size_t bytes = i < 4 ? 4 : 8;
		for (size_t k = 0; k < bytes; k++) {
			p[off + k] = (uint8_t)(w[i] >> (8 * (bytes - 1 - k)));
		}
		off += bytes;
	}
}

void
tri_bufname_get(const uint8_t *p, tri_bufname *n)
{
	uint64_t w[6];
	size_t off = 0;

	for (int i = 0; i < 6; i++) {
		size_t bytes = i < 4 ? 4 : 8;
		w[i] = 0;
		for (size_t k = 0; k < bytes; k++) {
			w[i] = (w[i] << 8) | p[off + k];
		}
		off += bytes;
	}
	n->node = (uint32_t)w[0];
	n->id = (uint32_t)w[1];
	n->gen = (uint32_t)w[2];
	n->proc = (uint32_t)w[3];
	n->size = w[4];
	n->key = w[5];
}

int
tri_buftab_open(bool create)
{
	void *t;
	int rv =
	    tri_shtab_map("buffers", sizeof(buftab), BUFTAB_MAGIC, create, &t);

	tab = t;
	return rv;
}

void
tri_buftab_close(void)
{
	if (tab != NULL) {
		munmap(tab, sizeof(*tab));
		tab = NULL;
	}
}

static void repair_locked(void);

/* A process killed inside the lock leaves at most the entry it was
 * changing half done; the next one to take the lock is told so
 * (EOWNERDEAD) and puts the table right before it goes on. */
static void
lock(void)
{
	if (pthread_mutex_lock(&tab->h.mtx) == EOWNERDEAD) {
		repair_locked();
		pthread_mutex_consistent(&tab->h.mtx);
	}
}

static void
unlock(void)
{
	pthread_mutex_unlock(&tab->h.mtx);
}

static void
path_of(char *buf, size_t len, uint32_t id, uint32_t gen)
{
	snprintf(buf, len, "%s/buf.%u.%u", tri_rt.rundir, id, gen);
}

/* The live entry n names, key and size included; NULL for anything
 * else.  Under the lock. */
static ent *
find_locked(const tri_bufname *n)
{
	ent *e;

	if (n->node != tri_rt.node || n->id >= TRI_BUF_ENTRIES) {
		return NULL;
	}
	e = &tab->e[n->id];
	if (!e->live || e->gen != n->gen || e->key != n->key ||
	    e->size != n->size) {
		return NULL;
	}
	return e;
}

static holder *
holder_of(ent *e, uint32_t proc, bool make)
{
	holder *free_h = NULL;

	for (int i = 0; i < TRI_BUF_HOLDERS; i++) {
		if (e->h[i].count > 0 && e->h[i].proc == proc) {
			return &e->h[i];
		}
		if (e->h[i].count == 0 && free_h == NULL) {
			free_h = &e->h[i];
		}
	}
	if (make && free_h != NULL) {
		free_h->proc = proc;
	}
	return make ? free_h : NULL;
}

/* Frees e: its file first, then the entry, so that a process killed
 * in between leaves a live entry that nobody holds, which the repair
 * frees again (the file is gone already; the unlink fails harmlessly).
 * Under the lock. */
static void
unmake_locked(ent *e)
{
	char path[PATH_MAX];

	path_of(path, sizeof(path), (uint32_t)(e - tab->e), e->gen);
	(void)unlink(path);
	e->live = 0;
	tab->live--;
}

static bool
held_locked(const ent *e)
{
	for (int i = 0; i < TRI_BUF_HOLDERS; i++) {
		if (e->h[i].count > 0) {
			return true;
		}
	}
	return false;
}

/* The entry's last hold went: the buffer with it.  Under the lock. */
static void
free_locked(ent *e)
{
	if (!held_locked(e)) {
		unmake_locked(e);
	}
}

/*
 * The lock's last owner died holding it.  Every change under the lock
 * leaves an entry in one of these states at each store, whatever store
 * the owner died before: a live entry with its holds (consistent: the
 * dead owner's own go when the root drops them), a live entry nobody
 * holds (a release that counted the last hold down but did not free,
 * a free that unlinked the file but did not mark the entry, a new entry
 * marked live before its maker's hold was counted): freed here; or a
 * free entry (nothing to do).  The count of live entries may be off by
 * one: counted again.  One pass over the table, only after a death.
 */
static void
repair_locked(void)
{
	uint32_t live = 0;

	for (uint32_t i = 0; i < TRI_BUF_ENTRIES; i++) {
		ent *e = &tab->e[i];
		if (e->live && !held_locked(e)) {
			unmake_locked(e);
		}
		live += e->live != 0;
	}
	tab->live = live;
	tab->next %= TRI_BUF_ENTRIES;
}

int
tri_buftab_new(uint64_t size, tri_bufname *out, int *fd)
{
	char path[PATH_MAX];
	uint64_t key = 0;
	ent *e = NULL;
	uint32_t id = 0;
	int rv;

	if (tab == NULL) {
		return TR_ECLOSED;
	}
	while (key == 0) {
		if (getrandom(&key, sizeof(key), 0) != sizeof(key)) {
			return TR_ESYSTEM;
		}
	}
	lock();
	for (uint32_t i = 0; i < TRI_BUF_ENTRIES; i++) {
		id = (tab->next + i) % TRI_BUF_ENTRIES;
		if (!tab->e[id].live) {
			e = &tab->e[id];
			break;
		}
	}
	if (e == NULL) {
		unlock();
		return TR_ERESOURCE;
	}
	tab->next = (id + 1) % TRI_BUF_ENTRIES;
	e->gen++;
	e->size = size;
	e->key = key;
	memset(e->h, 0, sizeof(e->h));
	e->h[0].proc = tri_rt.proc;
	e->h[0].count = 1;
	tab->live++;
	e->live = 1;
	out->node = tri_rt.node;
	out->id = id;
	out->gen = e->gen;
	out->proc = tri_rt.proc;
	out->size = size;
	out->key = key;
	unlock();

	/* Nobody else knows the name yet: the file is made outside the
	 * lock.  O_EXCL: a file already there is not ours to use. */
	path_of(path, sizeof(path), id, out->gen);
	*fd = open(
	    path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		rv = tri_err_errno(errno);
		tri_buftab_release(out, tri_rt.proc);
		return rv;
	}
	if (ftruncate(*fd, (off_t)size) != 0) {
		rv = tri_err_errno(errno);
		close(*fd);
		tri_buftab_release(out, tri_rt.proc);
		return rv;
	}
	return TR_OK;
}

int
tri_buftab_open_file(const tri_bufname *n, int *fd)
{
	char path[PATH_MAX];
	struct stat st;

	path_of(path, sizeof(path), n->id, n->gen);
	if ((*fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		return errno == ENOENT || errno == ELOOP ? TR_EPROTO :
		                                           tri_err_errno(errno);
	}
	/* The run directory's rules: ours, a regular file, nobody else's
	 * to read or write -- and the size the table says. */
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    (uint64_t)st.st_size != n->size) {
		close(*fd);
		return TR_EPROTO;
	}
	return TR_OK;
}

int
tri_buftab_hold(const tri_bufname *n, uint32_t proc, _Atomic uint32_t *alive)
{
	holder *h;
	ent *e;

	if (tab == NULL) {
		return TR_ECLOSED;
	}
	lock();
	/* Read under the lock: the root clears it before it drops the
	 * process's holds (under the lock too), so a hold taken here is
	 * either dropped with the others or never taken. */
	if (alive != NULL && atomic_load(alive) == 0) {
		unlock();
		return TR_ENOPROC;
	}
	if ((e = find_locked(n)) == NULL) {
		unlock();
		return TR_EPROTO;
	}
	if ((h = holder_of(e, proc, true)) == NULL) {
		unlock();
		return TR_ERESOURCE;
	}
	h->count++;
	unlock();
	return TR_OK;
}

bool
tri_buftab_held(const tri_bufname *n, uint32_t proc)
{
	bool held;
	ent *e;

	if (tab == NULL) {
		return false;
	}
	lock();
	held =
	    (e = find_locked(n)) != NULL && holder_of(e, proc, false) != NULL;
	unlock();
	return held;
}

void
tri_buftab_release(const tri_bufname *n, uint32_t proc)
{
	holder *h;
	ent *e;

	if (tab == NULL) {
		return;
	}
	lock();
	if ((e = find_locked(n)) != NULL &&
	    (h = holder_of(e, proc, false)) != NULL) {
		if (--h->count == 0) {
			free_locked(e);
		}
	}
	unlock();
}

void
tri_buftab_drop_proc(uint32_t proc)
{
	if (tab == NULL) {
		return;
	}
	lock();
	for (uint32_t i = 0; i < TRI_BUF_ENTRIES; i++) {
		ent *e = &tab->e[i];
		holder *h;
		if (e->live && (h = holder_of(e, proc, false)) != NULL) {
			h->count = 0;
			free_locked(e);
		}
	}
	unlock();
}

uint32_t
tri_buftab_live(void)
{
	uint32_t n;

	if (tab == NULL) {
		return 0;
	}
	lock();
	n = tab->live;
	unlock();
	return n;
}

void
tri_buftab_test_die_releasing(const tri_bufname *n, uint32_t proc)
{
	holder *h;
	ent *e;

	lock();
	if ((e = find_locked(n)) != NULL &&
	    (h = holder_of(e, proc, false)) != NULL) {
		h->count--;
	}
	/* No unlock: the caller ends now, as if killed here. */
}
