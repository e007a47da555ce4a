/*
 * link.c -- links, monitors, and the notices an actor's end sends.
 *
 * For actors of this process the records are kept on both sides under
 * each context's lmtx; the notices themselves are control frames sent
 * through the receivers' mailboxes, so they are ordered with the
 * messages the dead actor sent before it died, and never take a slot.
 */
#include <string.h>

#include "alloc.h"
#include "ctx.h"
#include "link.h"
#include "mailbox.h"
#include "msg.h"
#include "registry.h"
#include "runtime.h"
#include "target.h"

/* ------------------------------------------------------------------ */
/* The watcher's side: which monitors it holds.                        */

int
tri_mons_add(tri_ctx *c, uint64_t id, tr_ref target)
{
	return tri_monmap_add(&c->mons, id, target);
}

bool
tri_mons_take(tri_ctx *c, uint64_t id, tr_ref *target)
{
	return tri_monmap_take(&c->mons, id, target);
}

/* ------------------------------------------------------------------ */
/* The watched side.                                                   */

int
tri_monitor_add(tri_ctx *t, tr_ref watcher, uint64_t id)
{
	tri_monitor *m = tri_malloc(sizeof(*m));

	if (m == NULL) {
		return TR_ENOMEM;
	}
	m->watcher = watcher;
	m->id = id;
	pthread_mutex_lock(&t->lmtx);
	if (t->dead) {
		pthread_mutex_unlock(&t->lmtx);
		tri_free(m);
		return TR_ENOPROC;
	}
	m->next = t->monitors;
	t->monitors = m;
	pthread_mutex_unlock(&t->lmtx);
	return TR_OK;
}

void
tri_monitor_remove(tri_ctx *t, uint64_t id)
{
	tri_monitor *found = NULL;

	pthread_mutex_lock(&t->lmtx);
	for (tri_monitor **pp = &t->monitors; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	pthread_mutex_unlock(&t->lmtx);
	tri_free(found);
}

bool
tri_unlink_local(tri_ctx *c, tr_ref peer)
{
	bool found;

	pthread_mutex_lock(&c->lmtx);
	found = tri_refset_del(&c->links, peer);
	pthread_mutex_unlock(&c->lmtx);
	return found;
}

int
tri_link_add(tri_ctx *c, tr_ref peer)
{
	int rv;

	pthread_mutex_lock(&c->lmtx);
	rv = c->dead ? TR_ENOPROC : tri_refset_add(&c->links, peer);
	pthread_mutex_unlock(&c->lmtx);
	return rv;
}

/* ------------------------------------------------------------------ */

int
tr_monitor(tr_ref target, tr_mon *mon)
{
	tri_ctx *self = tri_self();
	tri_target t;
	uint64_t id;
	int rv;

	if (mon == NULL) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL) {
		return TR_ESTATE;
	}
	id = atomic_fetch_add(&tri_rt.next_mon, 1);
	if ((rv = tri_mons_add(self, id, target)) != TR_OK) {
		return rv;
	}
	rv = tri_target_get(target, &t);
	if (rv == TR_OK && t.local != NULL) {
		rv = tri_monitor_add(t.local, self->ref, id);
	} else if (rv == TR_OK) {
		/* Recorded over there; if its process dies first, the
		 * process's death fires the monitor here. */
		rv = tri_send_control_ref(
		    target, TRI_K_MON, self->ref, TR_REASON_NORMAL, id);
	}
	tri_target_put(&t);
	if (rv == TR_ENOPROC) {
		/* Monitoring the dead is not an error: the DOWN says so, and
		 * it is ours at once (we are the owner of our queue), before
		 * any later news of the target's process could fire it. */
		tr_msg *m = tri_msg_notice(
		    TR_TAG_DOWN, target, TR_REASON(TR_EXIT_NOPROC, 0), id);
		tri_mons_take(self, id, NULL);
		if (m == NULL) {
			return TR_ENOMEM;
		}
		tri_msgq_push(&self->userq, m);
		if (self->kind == TRI_CTX_THREAD && self->in_callback == 0) {
			uv_async_send(
			    &self->th->async); /* from a libuv callback */
		}
		mon->id = id;
		return TR_OK;
	}
	if (rv != TR_OK) {
		tri_mons_take(self, id, NULL);
		return rv;
	}
	mon->id = id;
	return TR_OK;
}

int
tr_demonitor(tr_mon mon)
{
	tri_ctx *self = tri_self();
	tri_target t;
	tr_ref target;
	tri_msgq keep = {NULL, NULL, 0};
	tr_msg *m;

	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL) {
		return TR_ESTATE;
	}
	if (!tri_mons_take(self, mon.id, &target)) {
		return TR_ENOENT;
	}
	if (tri_target_get(target, &t) == TR_OK) {
		if (t.local != NULL) {
			tri_monitor_remove(t.local, mon.id);
		} else {
			(void)tri_send_control_ref(target, TRI_K_DEMON,
			    self->ref, TR_REASON_NORMAL, mon.id);
		}
		tri_target_put(&t);
	}
	/* A DOWN for it may already sit in the queue: take it out, so that
	 * none is received after tr_demonitor() returns. */
	while ((m = tri_msgq_pop(&self->userq)) != NULL) {
		if (m->tag == TR_TAG_DOWN && m->mon == mon.id) {
			tr_msg_free(m);
		} else {
			tri_msgq_push(&keep, m);
		}
	}
	self->userq = keep;
	return TR_OK;
}

int
tr_link(tr_ref peer)
{
	tri_ctx *self = tri_self();
	tri_ctx *p, *a, *b;
	int rv = TR_OK;

	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL) {
		return TR_ESTATE;
	}
	if (tr_ref_equal(peer, self->ref)) {
		return TR_EINVAL;
	}
	if (peer.proc != tri_rt.proc || peer.node != tri_rt.node) {
		tri_target t;
		if ((rv = tri_target_get(peer, &t)) != TR_OK) {
			return rv;
		}
		tri_target_put(&t);
		if ((rv = tri_link_add(self, peer)) != TR_OK) {
			return rv;
		}
		return tri_send_control_ref(
		    peer, TRI_K_LINK, self->ref, TR_REASON_NORMAL, 0);
	}
	if ((p = tri_registry_get(peer)) == NULL) {
		return TR_ENOPROC;
	}
	/* Lock in address order: two actors may link to each other. */
	a = self < p ? self : p;
	b = self < p ? p : self;
	pthread_mutex_lock(&a->lmtx);
	pthread_mutex_lock(&b->lmtx);
	if (p->dead || self->dead) {
		rv = TR_ENOPROC;
	} else if (tri_refset_has(&self->links, peer)) {
		rv = TR_OK; /* already linked: links are sets */
	} else if ((rv = tri_refset_add(&self->links, peer)) == TR_OK &&
	    (rv = tri_refset_add(&p->links, self->ref)) != TR_OK) {
		(void)tri_refset_del(&self->links, peer); /* both or none */
	}
	pthread_mutex_unlock(&b->lmtx);
	pthread_mutex_unlock(&a->lmtx);
	tri_ctx_rele(p);
	return rv;
}

int
tr_unlink(tr_ref peer)
{
	tri_ctx *self = tri_self();
	tri_ctx *p;

	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL) {
		return TR_ESTATE;
	}
	(void)tri_unlink_local(self, peer);
	if ((p = tri_registry_get(peer)) != NULL) {
		(void)tri_unlink_local(p, self->ref);
		tri_ctx_rele(p);
	} else if (peer.proc != tri_rt.proc) {
		(void)tri_send_control_ref(
		    peer, TRI_K_UNLINK, self->ref, TR_REASON_NORMAL, 0);
	}
	return TR_OK;
}

int
tr_trap_exits(bool on, bool *old)
{
	tri_ctx *self = tri_self();

	if (self == NULL || self->kind == TRI_CTX_MAIN) {
		return TR_ESTATE;
	}
	if (old != NULL) {
		*old = self->trap_exits;
	}
	self->trap_exits = on;
	return TR_OK;
}

/* The other end of a link of c that did not start. */
static void
undo_link(void *arg, tr_ref peer)
{
	tri_ctx *c = arg;
	tri_ctx *p = tri_registry_get(peer);

	if (p != NULL) {
		(void)tri_unlink_local(p, c->ref);
		tri_ctx_rele(p);
	}
}

void
tri_start_undo(tri_ctx *c, int rv)
{
	tri_refset links;

	pthread_mutex_lock(&c->lmtx);
	links = c->links;
	memset(&c->links, 0, sizeof(c->links));
	pthread_mutex_unlock(&c->lmtx);
	tri_refset_each(&links, undo_link, c);
	tri_refset_fini(&links);
	c->reason =
	    rv == TR_IGNORE ? TR_REASON_NORMAL : TR_REASON(TR_EXIT_ERROR, rv);
	tri_mailbox_seal(c);
	tri_registry_remove(c);
	pthread_mutex_lock(&c->lmtx);
	c->dead = true;
	pthread_mutex_unlock(&c->lmtx);
}

/* What tri_notify_exit sends each link: to those of other processes,
 * or to those of this one. */
typedef struct exit_news {
	tri_ctx *c;
	tr_reason why;
	bool remote;
} exit_news;

static void
exit_to(void *arg, tr_ref peer)
{
	exit_news *en = arg;
	bool remote = peer.proc != tri_rt.proc || peer.node != tri_rt.node;

	if (remote == en->remote) {
		(void)tri_send_control_ref(
		    peer, TRI_K_EXIT, en->c->ref, en->why, 0);
	}
}

void
tri_notify_exit(tri_ctx *c, tr_reason why)
{
	exit_news en = {c, why, true};
	tri_refset links;
	tri_monitor *mons;

	pthread_mutex_lock(&c->lmtx);
	c->dead = true;
	links = c->links;
	mons = c->monitors;
	memset(&c->links, 0, sizeof(c->links));
	c->monitors = NULL;
	pthread_mutex_unlock(&c->lmtx);

	while (mons != NULL) {
		tri_monitor *m = mons;
		mons = m->next;
		(void)tri_send_control_ref(
		    m->watcher, TRI_K_DOWN, c->ref, why, m->id);
		tri_free(m);
	}
	/* The peer's end of the link goes when it takes the signal: a
	 * signal from a peer it is no longer linked to is dropped there. */
	/* Other processes first: a member's main context, linked to its
	 * actor, ends the process as soon as it hears of the end, and
	 * sends only what is queued by then (member.c). */
	tri_refset_each(&links, exit_to, &en);
	en.remote = false;
	tri_refset_each(&links, exit_to, &en);
	tri_refset_fini(&links);
}
