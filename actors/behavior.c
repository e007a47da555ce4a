/*
 * behavior.c -- the table of behaviors, by name, so that a spec (or a
 * config file) can name what an actor does.  Behaviors may be registered
 * before tr_init(), and are kept across tr_shutdown().
 */
#include <string.h>
#include <pthread.h>

#include "alloc.h"
#include "behavior.h"

#define MAX_BEHAVIORS 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tri_behavior *table[MAX_BEHAVIORS];
static size_t count;

int
tr_behavior_register(const tr_behavior *b)
{
	tri_behavior *e;
	size_t n;

	if (b == NULL || b->name == NULL || b->handle == NULL ||
	    (n = strlen(b->name)) == 0 || n > TR_NAME_MAX) {
		return TR_EINVAL;
	}
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < count; i++) {
		if (strcmp(table[i]->name, b->name) == 0) {
			pthread_mutex_unlock(&lock);
			return TR_EEXIST;
		}
	}
	if (count == MAX_BEHAVIORS) {
		pthread_mutex_unlock(&lock);
		return TR_ENOMEM;
	}
	if ((e = tri_calloc(1, sizeof(*e))) == NULL) {
		pthread_mutex_unlock(&lock);
		return TR_ENOMEM;
	}
	memcpy(e->name, b->name, n + 1);
	e->state_size = b->state_size;
	e->init = b->init;
	e->handle = b->handle;
	e->terminate = b->terminate;
	table[count++] = e;
	pthread_mutex_unlock(&lock);
	return TR_OK;
}

const tri_behavior *
tri_behavior_find(const char *name)
{
	const tri_behavior *found = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < count; i++) {
		if (strcmp(table[i]->name, name) == 0) {
			found = table[i];
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

void
tri_behavior_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < count; i++) {
		tri_free(table[i]);
	}
	count = 0;
	pthread_mutex_unlock(&lock);
}
