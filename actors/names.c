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
#include "shtab.h"
#include "target.h"

#define NAMES_MAX 4096
#define NAMES_MAGIC 0x74726e6du /* "trnm" */

typedef struct name_ent {
	char name[TR_NAME_MAX + 1];
	bool used;
	tr_ref ref;
} name_ent;

typedef struct names_tab {
	tri_shtab_head h;
	name_ent e[NAMES_MAX];
} names_tab;

static names_tab *tab;

int
tri_names_open(bool create)
{
	void *t;
	int rv =
	    tri_shtab_map("names", sizeof(names_tab), NAMES_MAGIC, create, &t);

	tab = t;
	return rv;
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
	if (pthread_mutex_lock(&tab->h.mtx) == EOWNERDEAD) {
		pthread_mutex_consistent(&tab->h.mtx);
	}
}

static void
unlock(void)
{
	pthread_mutex_unlock(&tab->h.mtx);
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
