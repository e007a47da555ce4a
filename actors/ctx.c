/*
 * ctx.c -- contexts: made, held, released.  The last release frees.
 */
#include <string.h>

#include "internal.h"

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
	tri_ctx *c = tri_ctx_new(NULL, tri_rt.capacity);
	int rv;

	if (c == NULL) {
		return TR_ENOMEM;
	}
	c->kind = TRI_CTX_MAIN;
	c->trap_exits = true;
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
			TRI_STAT(dead_letters);
		}
	}
	tri_msgq_clear(&c->userq);
	tri_msgq_clear(&c->ctlq);
	tr_msg_free(c->call_reply);
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
