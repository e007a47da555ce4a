/*
 * mailbox.c -- an actor's mailbox: where frames arrive, how they are
 * sorted into the actor's queues, and the capacity that pushes back on
 * senders.
 *
 * Frames arrive on an nng thread (the inbox callback), which only
 * appends the nng message to the arrival list and wakes the owner: its
 * loop through a uv_async, or the owner thread itself if it is blocked
 * in tr_recv/tr_call.  uv_async_send coalesces, so the owner drains
 * everything that arrived per wake-up.
 *
 * Capacity is counted in user messages at the sender, before anything
 * is sent: a slot is taken by tr_send and given back when the actor
 * takes the message.  Control frames, replies and timer messages take
 * no slot, so a full mailbox never holds up an exit signal.
 */
#include <string.h>
#include <time.h>

#include "internal.h"

static void
inbox_cb(void *arg, tri_buf *b)
{
	tri_ctx *c = arg;
	tri_mailbox *mb = &c->mb;
	bool was_empty;

	pthread_mutex_lock(&mb->mtx);
	if (mb->narr == mb->carr) {
		size_t ncap = mb->carr ? mb->carr * 2 : 64;
		tri_buf **na = tri_realloc(mb->arr, ncap * sizeof(*na));
		if (na == NULL) {
			/* Cannot queue it: its frames are lost, and counted.
			 * Their slots are released when the actor ends. */
			pthread_mutex_unlock(&mb->mtx);
			TRI_STAT(dead_letters);
			tri_buf_free(b);
			/* The owner will never take this batch: unblock the
			 * port that waits for it to. */
			tri_port_resume(mb->port);
			return;
		}
		mb->arr = na;
		mb->carr = ncap;
	}
	was_empty = mb->narr == 0;
	mb->arr[mb->narr++] = b;
	if (was_empty) {
		if (mb->owner_waiting) {
			pthread_cond_signal(&mb->arrived);
		} else if (mb->wake != NULL) {
			uv_async_send(mb->wake);
		}
	}
	pthread_mutex_unlock(&mb->mtx);
}

void
tri_mailbox_init(tri_mailbox *mb, uint32_t capacity)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&mb->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mb->arrived, &ca);
	pthread_cond_init(&mb->space, &ca);
	pthread_condattr_destroy(&ca);
	mb->capacity = capacity;
}

int
tri_mailbox_open(tri_ctx *c)
{
	tri_mailbox *mb = &c->mb;
	char url[128];
	int rv;

	if ((rv = tri_addr_format(url, sizeof(url), c->ref, c->ref, NULL)) != 0) {
		return rv;
	}
	if ((rv = tri_inbox_open(&mb->inbox, url, inbox_cb, c)) != 0) {
		return rv;
	}
	if ((rv = tri_port_open(&mb->port, url, true)) != 0) {
		tri_inbox_close(mb->inbox);
		mb->inbox = NULL;
		return rv;
	}
	return TR_OK;
}

void
tri_mailbox_close(tri_ctx *c)
{
	tri_mailbox *mb = &c->mb;

	pthread_mutex_lock(&mb->mtx);
	mb->closed = true;
	mb->wake = NULL;
	pthread_cond_broadcast(&mb->space);
	pthread_mutex_unlock(&mb->mtx);
	/* Frames still in nng are lost; the user messages among them hold
	 * slots, which are counted as dead letters when the context is
	 * freed (see tri_ctx_rele). */
	/* Inbox first: once it is closed no callback can use the port. */
	tri_inbox_close(mb->inbox);
	mb->inbox = NULL;
	(void) tri_port_close(mb->port); /* user frames: counted by depth */
	mb->port = NULL;
	for (size_t i = 0; i < mb->narr; i++) {
		tri_buf_free(mb->arr[i]);
	}
	mb->narr = 0;
}

/* Called when the last reference goes: nobody can touch mb any more. */
static void
mailbox_fini(tri_mailbox *mb)
{
	tri_free(mb->arr);
	tri_free(mb->spare);
	pthread_cond_destroy(&mb->arrived);
	pthread_cond_destroy(&mb->space);
	pthread_mutex_destroy(&mb->mtx);
}

int
tri_mailbox_reserve(tri_mailbox *mb, int timeout_ms, bool self)
{
	uint64_t deadline;
	int rv = TR_OK;

	/* Fast path: one atomic add while there is room. */
	if (atomic_fetch_add(&mb->depth, 1) < mb->capacity) {
		return TR_OK;
	}
	atomic_fetch_sub(&mb->depth, 1);
	if (self || timeout_ms == TR_NOWAIT) {
		return TR_EFULL;
	}
	deadline = tri_deadline(timeout_ms);
	pthread_mutex_lock(&mb->mtx);
	mb->space_waiters++;
	for (;;) {
		if (mb->closed) {
			rv = TR_ENOPROC;
			break;
		}
		if (atomic_fetch_add(&mb->depth, 1) < mb->capacity) {
			break;
		}
		atomic_fetch_sub(&mb->depth, 1);
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&mb->space, &mb->mtx);
		} else {
			struct timespec ts;
			if (tri_now_ms() >= deadline) {
				rv = TR_ETIMEDOUT;
				break;
			}
			tri_deadline_ts(deadline, &ts);
			pthread_cond_timedwait(&mb->space, &mb->mtx, &ts);
		}
	}
	mb->space_waiters--;
	pthread_mutex_unlock(&mb->mtx);
	return rv;
}

void
tri_mailbox_release(tri_mailbox *mb, uint32_t n)
{
	atomic_fetch_sub(&mb->depth, n);
	/* Racy peek on purpose: a waiter re-checks depth under the lock
	 * before it sleeps, and the lock below orders us after it. */
	if (__atomic_load_n(&mb->space_waiters, __ATOMIC_RELAXED) != 0) {
		pthread_mutex_lock(&mb->mtx);
		pthread_cond_broadcast(&mb->space);
		pthread_mutex_unlock(&mb->mtx);
	}
}

/* ------------------------------------------------------------------ */

void
tri_route(tri_ctx *c, const tri_frame *f)
{
	tr_msg *m;
	tr_reason why = TR_REASON_NORMAL;
	uint64_t mon = 0;
	bool counted = f->kind == TRI_K_USER || f->kind == TRI_K_CALL;

	if (!tr_ref_equal(f->dest, c->ref)) {
		/* For an earlier incarnation of this address: never deliver
		 * a dead actor's mail to its successor. */
		if (counted || f->kind == TRI_K_TIMER) {
			TRI_STAT(dead_letters);
		}
		if (counted) {
			tri_mailbox_release(&c->mb, 1);
		}
		return;
	}
	switch (f->kind) {
	case TRI_K_USER:
	case TRI_K_CALL:
	case TRI_K_TIMER:
		if ((m = tri_msg_from_frame(f)) == NULL) {
			TRI_STAT(dead_letters);
			if (counted) {
				tri_mailbox_release(&c->mb, 1);
			}
			return;
		}
		m->counted = counted;
		tri_msgq_push(&c->userq, m);
		return;

	case TRI_K_REPLY:
		if (c->call_corr != 0 && f->corr == c->call_corr &&
		    c->call_reply == NULL) {
			c->call_reply = tri_msg_from_frame(f);
			if (c->call_reply == NULL) {
				c->call_down = true; /* treat as lost */
			}
			return;
		}
		TRI_STAT(late_replies);
		return;

	case TRI_K_DOWN:
		if (tri_reason_parse(f->body, f->body_len, &why, &mon) != TR_OK) {
			TRI_STAT(malformed);
			return;
		}
		if (c->call_mon != 0 && mon == c->call_mon) {
			c->call_down = true;
			return;
		}
		if (!tri_mons_take(c, mon, NULL)) {
			return; /* demonitored: dropped, as promised */
		}
		if ((m = tri_msg_notice(TR_TAG_DOWN, f->sender, why, mon)) != NULL) {
			tri_msgq_push(&c->userq, m);
		}
		return;

	case TRI_K_EXIT:
		if (tri_reason_parse(f->body, f->body_len, &why, NULL) != TR_OK) {
			TRI_STAT(malformed);
			return;
		}
		tri_unlink_local(c, f->sender);
		if (c->trap_exits || c->kind == TRI_CTX_MAIN) {
			if ((m = tri_msg_notice(TR_TAG_EXIT, f->sender, why, 0)) !=
			    NULL) {
				tri_msgq_push(&c->userq, m);
			}
			return;
		}
		if (why.kind == TR_EXIT_NORMAL) {
			return; /* normal exits do not propagate */
		}
		/* An abnormal exit of a link ends us too, with its reason. */
		if ((m = tri_msg_notice(TR_TAG_EXIT, f->sender, why, 0)) != NULL) {
			m->kind = f->kind;
			tri_msgq_push(&c->ctlq, m);
		}
		return;

	case TRI_K_STOP:
		if (tri_reason_parse(f->body, f->body_len, &why, NULL) != TR_OK) {
			TRI_STAT(malformed);
			return;
		}
		if ((m = tri_msg_notice(TR_TAG_EXIT, f->sender, why, 0)) != NULL) {
			m->kind = f->kind;
			tri_msgq_push(&c->ctlq, m);
		}
		return;

	default:
		/* Link and monitor requests across processes: not yet. */
		TRI_STAT(malformed);
		return;
	}
}

size_t
tri_mailbox_drain(tri_ctx *c)
{
	tri_mailbox *mb = &c->mb;
	tri_buf **batch;
	size_t n, routed = 0;

	pthread_mutex_lock(&mb->mtx);
	n = mb->narr;
	if (n == 0) {
		pthread_mutex_unlock(&mb->mtx);
		return 0;
	}
	/* Swap the arrival array with the spare so the nng thread can keep
	 * appending while we decode. */
	batch = mb->arr;
	mb->arr = mb->spare;
	mb->spare = NULL;
	{
		size_t cap = mb->carr;
		mb->carr = mb->cspare;
		mb->cspare = cap;
	}
	mb->narr = 0;
	pthread_mutex_unlock(&mb->mtx);
	/* Our senders may ship their next batch while we decode this one. */
	tri_port_resume(mb->port);

	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = tri_buf_data(batch[i]);
		size_t len = tri_buf_len(batch[i]), off = 0;
		while (off < len) {
			tri_frame f;
			int rv = tri_frame_decode(d, len, &off, tri_rt.max_body, &f);
			if (rv != TR_OK) {
				/* The rest of this buffer cannot be trusted. */
				TRI_STAT(malformed);
				break;
			}
			tri_route(c, &f);
			routed++;
		}
		tri_buf_free(batch[i]);
	}

	/* Only the owner drains, so the spare slot is ours to refill. */
	pthread_mutex_lock(&mb->mtx);
	mb->spare = batch;
	pthread_mutex_unlock(&mb->mtx);
	return routed;
}

bool
tri_mailbox_wait(tri_ctx *c, uint64_t deadline)
{
	tri_mailbox *mb = &c->mb;
	bool got = true;

	pthread_mutex_lock(&mb->mtx);
	mb->owner_waiting = true;
	while (mb->narr == 0 && !mb->closed) {
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&mb->arrived, &mb->mtx);
		} else {
			struct timespec ts;
			if (tri_now_ms() >= deadline) {
				got = false;
				break;
			}
			tri_deadline_ts(deadline, &ts);
			pthread_cond_timedwait(&mb->arrived, &mb->mtx, &ts);
		}
	}
	mb->owner_waiting = false;
	pthread_mutex_unlock(&mb->mtx);
	return got;
}

/* ------------------------------------------------------------------ */

void
tri_ctx_hold(tri_ctx *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void
tri_ctx_rele(tri_ctx *c)
{
	uint32_t left;

	if (atomic_fetch_sub(&c->refs, 1) != 1) {
		return;
	}
	/* Every sender is done: slots still taken are messages that were
	 * accepted and will never be handled. */
	left = atomic_load(&c->mb.depth);
	TRI_STAT_ADD(dead_letters, left);
	/* Counted messages are in depth already; timer messages hold no
	 * slot and are counted here. */
	for (tr_msg *m = c->userq.head; m != NULL; m = m->next) {
		if (m->kind == TRI_K_TIMER) {
			TRI_STAT(dead_letters);
		}
	}
	tri_msgq_clear(&c->userq);
	tri_msgq_clear(&c->ctlq);
	tr_msg_free(c->call_reply);
	while (c->links != NULL) {
		tri_link *l = c->links;
		c->links = l->next;
		tri_free(l);
	}
	while (c->monitors != NULL) {
		tri_monitor *m = c->monitors;
		c->monitors = m->next;
		tri_free(m);
	}
	tri_free(c->mons);
	tri_free(c->state);
	mailbox_fini(&c->mb);
	pthread_mutex_destroy(&c->lmtx);
	tri_free(c);
}
