/*
 * registry.c -- the one table of this process's live contexts, and of
 * registered names, behind one lock (nng's socket.c keeps its sockets
 * the same way).
 *
 * A slot's generation counts up each time the slot is reused, so a ref
 * to a dead actor never finds the actor that took its slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "alloc.h"
#include "ctx.h"
#include "registry.h"
#include "runtime.h"

typedef struct slot {
	uint32_t gen;
	tri_ctx *ctx; /* NULL when free */
	uint32_t next_free;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot *slots; /* slot 0 is never used: slot 0 means nil */
static uint32_t nslots;
static uint32_t free_head; /* 0: none free */

int
tri_registry_init(void)
{
	pthread_mutex_lock(&lock);
	slots = NULL;
	nslots = 0;
	free_head = 0;
	pthread_mutex_unlock(&lock);
	return TR_OK;
}

void
tri_registry_fini(void)
{
	pthread_mutex_lock(&lock);
	tri_free(slots);
	slots = NULL;
	nslots = 0;
	free_head = 0;
	pthread_mutex_unlock(&lock);
}

int
tri_registry_add(tri_ctx *c)
{
	uint32_t i;

	pthread_mutex_lock(&lock);
	if (free_head != 0) {
		i = free_head;
		free_head = slots[i].next_free;
	} else {
		uint32_t want = nslots == 0 ? 64 : nslots * 2;
		slot *ns;
		if (want > TRI_SLOTS_MAX) {
			want = TRI_SLOTS_MAX;
		}
		if (want <= nslots) {
			pthread_mutex_unlock(&lock);
			return TR_ENOMEM; /* the slot table is full */
		}
		if ((ns = tri_realloc(slots, want * sizeof(*ns))) == NULL) {
			pthread_mutex_unlock(&lock);
			return TR_ENOMEM;
		}
		memset(ns + nslots, 0, (want - nslots) * sizeof(*ns));
		slots = ns;
		/* Slot 0 stays unused; chain the new ones as free. */
		for (uint32_t k = want - 1; k > (nslots == 0 ? 1 : nslots);
		     k--) {
			slots[k - 1].next_free = k;
		}
		i = nslots == 0 ? 1 : nslots;
		free_head = slots[i].next_free;
		nslots = want;
	}
	slots[i].gen++;
	if (slots[i].gen == 0) {
		slots[i].gen = 1;
	}
	slots[i].ctx = c;
	slots[i].next_free = 0;
	c->ref.node = tri_rt.node;
	c->ref.proc = tri_rt.proc;
	c->ref.slot = i;
	c->ref.gen = slots[i].gen;
	tri_ctx_hold(c);
	pthread_mutex_unlock(&lock);
	return TR_OK;
}

void
tri_registry_remove(tri_ctx *c)
{
	uint32_t i = c->ref.slot;
	bool held = false;

	pthread_mutex_lock(&lock);
	if (i < nslots && slots[i].ctx == c) {
		slots[i].ctx = NULL;
		slots[i].next_free = free_head;
		free_head = i;
		held = true;
	}
	pthread_mutex_unlock(&lock);
	if (held) {
		if (c->mb.rec != NULL && atomic_load(&c->mb.rec->named)) {
			tri_names_drop_ref(c->ref);
		}
		tri_buf_owner_gone(c->ref);
		tri_ctx_rele(c);
	}
}

tri_ctx *
tri_registry_get(tr_ref r)
{
	tri_ctx *c = NULL;

	if (r.node != tri_rt.node || r.proc != tri_rt.proc) {
		return NULL;
	}
	pthread_mutex_lock(&lock);
	if (r.slot < nslots && slots[r.slot].ctx != NULL &&
	    slots[r.slot].gen == r.gen) {
		c = slots[r.slot].ctx;
		tri_ctx_hold(c);
	}
	pthread_mutex_unlock(&lock);
	return c;
}

static int
by_seq_desc(const void *a, const void *b)
{
	const tri_ctx *x = *(tri_ctx *const *)a;
	const tri_ctx *y = *(tri_ctx *const *)b;
	return (x->seq < y->seq) - (x->seq > y->seq);
}

static int
collect(tri_ctx ***out, size_t *n, bool all)
{
	tri_ctx **v;
	size_t k = 0;

	pthread_mutex_lock(&lock);
	if ((v = tri_calloc(nslots + 1, sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&lock);
		return TR_ENOMEM;
	}
	for (uint32_t i = 1; i < nslots; i++) {
		if (slots[i].ctx != NULL &&
		    (all || slots[i].ctx->kind == TRI_CTX_THREAD)) {
			v[k++] = slots[i].ctx;
			tri_ctx_hold(slots[i].ctx);
		}
	}
	pthread_mutex_unlock(&lock);
	qsort(v, k, sizeof(*v), by_seq_desc);
	*out = v;
	*n = k;
	return TR_OK;
}

int
tri_registry_actors(tri_ctx ***out, size_t *n)
{
	return collect(out, n, false);
}

int
tri_registry_all(tri_ctx ***out, size_t *n)
{
	return collect(out, n, true);
}
