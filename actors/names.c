/*
 * names.c -- registered names, node-wide (Erlang's register/whereis).
 *
 * The table lives in the node's run directory, mapped shared by every
 * process of the node, behind one process-shared robust mutex: a name
 * registered in any process is found from every other, whatever the
 * placement of the actor it names.  A name goes when its actor ends: the
 * actor's own process takes it out as the actor ends, and the root takes
 * out the names of a process that died without a word.  A name whose
 * actor is found dead on lookup is taken out then too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "registry.h"
#include "runtime.h"
#include "target.h"

#define NAMES_MAX 4096
#define NAMES_MAGIC 0x74726e6du /* "trnm" */

typedef struct name_ent {
	char name[TR_NAME_MAX + 1];
	bool used;
	tr_ref ref;
} name_ent;

typedef struct names_tab {
	uint32_t magic;
	pthread_mutex_t mtx;
	name_ent e[NAMES_MAX];
} names_tab;

static names_tab *tab;

static void
path_of(char *buf, size_t len)
{
	snprintf(buf, len, "%s/names", tri_rt.rundir);
}

int
tri_names_open(bool create)
{
	char path[PATH_MAX];
	int fd;

	path_of(path, sizeof(path));
	fd = open(path,
	    create ? (O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC) :
	             (O_RDWR | O_CLOEXEC),
	    0600);
	if (fd < 0) {
		return tri_err_errno(errno); /* EMFILE: TR_ERESOURCE */
	}
	if (create && ftruncate(fd, sizeof(names_tab)) != 0) {
		int rv = tri_err_errno(errno);
		close(fd);
		return rv;
	}
	tab =
	    mmap(NULL, sizeof(*tab), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (tab == MAP_FAILED) {
		int rv = tri_err_errno(errno);
		close(fd);
		tab = NULL;
		return rv;
	}
	close(fd);
	if (create) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&tab->mtx, &a);
		pthread_mutexattr_destroy(&a);
		__atomic_store_n(&tab->magic, NAMES_MAGIC, __ATOMIC_RELEASE);
	} else if (__atomic_load_n(&tab->magic, __ATOMIC_ACQUIRE) !=
	    NAMES_MAGIC) {
		munmap(tab, sizeof(*tab));
		tab = NULL;
		return TR_EPROTO;
	}
	return TR_OK;
}

void
tri_names_close(void)
{
	if (tab != NULL) {
		munmap(tab, sizeof(*tab));
		tab = NULL;
	}
}

/* A process that died holding the lock leaves the table as it was
 * between two whole operations, which are all single stores here. */
static void
lock(void)
{
	if (pthread_mutex_lock(&tab->mtx) == EOWNERDEAD) {
		pthread_mutex_consistent(&tab->mtx);
	}
}

static void
unlock(void)
{
	pthread_mutex_unlock(&tab->mtx);
}

static bool
name_ok(const char *name)
{
	size_t n;
	return name != NULL && (n = strlen(name)) > 0 && n <= TR_NAME_MAX;
}

int
tri_names_add(const char *name, tr_ref ref)
{
	name_ent *free_e = NULL;
	tri_target t;

	if (!name_ok(name) || tr_ref_is_nil(ref)) {
		return TR_EINVAL;
	}
	if (tab == NULL) {
		return TR_ECLOSED;
	}
	if (tri_target_get(ref, &t) != TR_OK) {
		return TR_ENOPROC;
	}
	/* Tells the actor's end to look for its names here. */
	atomic_store(&t.rec->named, 1);
	tri_target_put(&t);
	lock();
	for (int i = 0; i < NAMES_MAX; i++) {
		name_ent *e = &tab->e[i];
		if (!e->used) {
			if (free_e == NULL) {
				free_e = e;
			}
			continue;
		}
		if (strcmp(e->name, name) == 0 || tr_ref_equal(e->ref, ref)) {
			unlock();
			return TR_EEXIST;
		}
	}
	if (free_e == NULL) {
		unlock();
		return TR_ENOMEM;
	}
	snprintf(free_e->name, sizeof(free_e->name), "%s", name);
	free_e->ref = ref;
	free_e->used = true;
	unlock();
	return TR_OK;
}

int
tri_names_remove(const char *name)
{
	if (!name_ok(name)) {
		return TR_EINVAL;
	}
	if (tab == NULL) {
		return TR_ECLOSED;
	}
	lock();
	for (int i = 0; i < NAMES_MAX; i++) {
		if (tab->e[i].used && strcmp(tab->e[i].name, name) == 0) {
			tab->e[i].used = false;
			unlock();
			return TR_OK;
		}
	}
	unlock();
	return TR_ENOENT;
}

int
tri_names_find(const char *name, tr_ref *out)
{
	tri_target t;
	tr_ref r;
	int i;

	if (!name_ok(name) || out == NULL) {
		return TR_EINVAL;
	}
	if (tab == NULL) {
		return TR_ECLOSED;
	}
	lock();
	for (i = 0; i < NAMES_MAX; i++) {
		if (tab->e[i].used && strcmp(tab->e[i].name, name) == 0) {
			break;
		}
	}
	if (i == NAMES_MAX) {
		unlock();
		return TR_ENOENT;
	}
	r = tab->e[i].ref;
	unlock();
	if (tri_target_get(r, &t) != TR_OK) {
		/* Its actor is gone and nobody took the name out yet. */
		tri_names_drop_ref(r);
		return TR_ENOENT;
	}
	tri_target_put(&t);
	*out = r;
	return TR_OK;
}

void
tri_names_drop_ref(tr_ref ref)
{
	if (tab == NULL) {
		return;
	}
	lock();
	for (int i = 0; i < NAMES_MAX; i++) {
		if (tab->e[i].used && tr_ref_equal(tab->e[i].ref, ref)) {
			tab->e[i].used = false;
		}
	}
	unlock();
}

void
tri_names_drop_proc(uint32_t proc)
{
	if (tab == NULL) {
		return;
	}
	lock();
	for (int i = 0; i < NAMES_MAX; i++) {
		if (tab->e[i].used && tab->e[i].ref.proc == proc) {
			tab->e[i].used = false;
		}
	}
	unlock();
}

void
tri_names_of(tr_ref ref, char *buf, size_t len)
{
	buf[0] = '\0';
	if (tab == NULL) {
		return;
	}
	lock();
	for (int i = 0; i < NAMES_MAX; i++) {
		if (tab->e[i].used && tr_ref_equal(tab->e[i].ref, ref)) {
			snprintf(buf, len, "%s", tab->e[i].name);
			break;
		}
	}
	unlock();
}

int
tr_register(const char *name, tr_ref ref)
{
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	return tri_names_add(name, ref);
}

int
tr_unregister(const char *name)
{
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	return tri_names_remove(name);
}

int
tr_whereis(const char *name, tr_ref *out)
{
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	return tri_names_find(name, out);
}
