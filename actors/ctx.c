/*
 * ctx.c -- contexts: made, held, released.  The last release frees.
 */
#include <string.h>

#include "actor.h"
#include "alloc.h"
#include "behavior.h"
#include "ctx.h"
#include "mailbox.h"
#include "msg.h"
#include "registry.h"
#include "runtime.h"

tri_ctx *
tri_ctx_new(const tri_behavior *b, uint32_t capacity)
{
	tri_ctx *c = tri_calloc(1, sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	if (b != NULL && (c->state = tri_calloc(1, b->state_size)) == NULL) {
		tri_free(c);
		return NULL;
	}
	c->beh = b;
	tri_mailbox_init(&c->mb, capacity);
	atomic_init(&c->refs, 1);
	pthread_mutex_init(&c->lmtx, NULL);
	return c;
}

/* Creates the main context of the thread calling tr_init(). */
int
tri_main_ctx_new(tri_ctx **out)
{
	return tri_plain_ctx_new(tri_rt.capacity, NULL, out);
}

int
tri_plain_ctx_new(
    uint32_t capacity, void (*gate)(struct tri_buf *b), tri_ctx **out)
{
	tri_ctx *c = tri_ctx_new(NULL, capacity);
	int rv;

	if (c == NULL) {
		return TR_ENOMEM;
	}
	c->kind = TRI_CTX_MAIN;
	c->trap_exits = true;
	c->gate = gate;
	if ((rv = tri_registry_add(c)) != TR_OK) {
		tri_ctx_rele(c);
		return rv;
	}
	if ((rv = tri_mailbox_open(c)) != TR_OK) {
		tri_registry_remove(c);
		tri_ctx_rele(c);
		return rv;
	}
	*out = c;
	return TR_OK;
}

void
tri_ctx_hold(tri_ctx *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void
tri_ctx_rele(tri_ctx *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1) {
		return;
	}
	/* Counted messages were counted when the mailbox was sealed; timer
	 * messages hold no slot and are counted here. */
	for (tr_msg *m = c->userq.head; m != NULL; m = m->next) {
		if (m->kind == TRI_K_TIMER) {
			tri_count_dead(1);
		}
	}
	tri_msgq_clear(&c->userq);
	tri_msgq_clear(&c->ctlq);
	tr_msg_free(c->call.reply);
	tri_refset_fini(&c->links);
	while (c->monitors != NULL) {
		tri_monitor *m = c->monitors;
		c->monitors = m->next;
		tri_free(m);
	}
	tri_monmap_fini(&c->mons);
	tri_free(c->state);
	tri_mailbox_fini(&c->mb);
	tri_free(c->th);
	pthread_mutex_destroy(&c->lmtx);
	tri_free(c);
}

/* The context of the calling thread: the actor whose callback runs on
 * it (a scheduler sets it for each turn), or the main context. */
static _Thread_local tri_ctx *tls_self;

tri_ctx *
tri_self(void)
{
	return tls_self;
}

void
tri_set_self(tri_ctx *c)
{
	tls_self = c;
}

tr_ref
tr_self(void)
{
	return tls_self != NULL ? tls_self->ref : TR_REF_NIL;
}
