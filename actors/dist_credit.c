/*
 * dist_credit.c -- credits: a sender may have TRI_WINDOW credits' worth
 * of user messages on their way to one actor of another node (a
 * message costs one, and one more per TRI_FRAG bytes).  The receiving
 * node gives them back as it puts messages into that actor's mailbox;
 * while the mailbox is full, arrivals for it wait there (held,
 * dist_recv.c) and take no room elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "link.h"
#include "dist_impl.h"
#include "msg.h"
#include "runtime.h"
#include "scheduler.h"
#include "target.h"

void
tri_credits_free(tri_credit **v)
{
	for (unsigned b = 0; b < TRI_CREDIT_BUCKETS; b++) {
		while (v[b] != NULL) {
			tri_credit *c = v[b];
			v[b] = c->next;
			tri_free(c);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Credits, at the sender                                              */

static tri_credit *
credit_find(tri_credit **v, tr_ref dest, bool make, int32_t initial)
{
	unsigned b = tri_dist_bucket(dest);
	tri_credit *c;

	for (c = v[b]; c != NULL; c = c->next) {
		if (tr_ref_equal(c->dest, dest)) {
			return c;
		}
	}
	if (!make || (c = tri_calloc(1, sizeof(*c))) == NULL) {
		return NULL;
	}
	c->dest = dest;
	c->n = initial;
	c->next = v[b];
	v[b] = c;
	return c;
}

static void
credit_drop(tri_credit **v, tri_credit *c)
{
	tri_credit **pp = &v[tri_dist_bucket(c->dest)];

	while (*pp != c) {
		pp = &(*pp)->next;
	}
	*pp = c->next;
	tri_free(c);
}

uint32_t
tri_dist_cost(uint32_t body_len)
{
	return 1 + body_len / TRI_FRAG;
}

int
tri_dist_credit_take(
    tri_peer *p, uint64_t session, tr_ref dest, uint32_t cost, int timeout_ms)
{
	tri_ctx *self = tri_self();
	uint64_t deadline = 0;
	bool first = true;
	int rv = TR_OK;

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		tri_credit *c;
		if (p->wsession != session || p->wout == NULL) {
			rv = TR_ENOCONN;
			break;
		}
		if ((c = credit_find(p->credits, dest, true, TRI_WINDOW)) ==
		    NULL) {
			rv = TR_ENOMEM;
			break;
		}
		if (c->n >= (int32_t)cost) {
			c->n -= (int32_t)cost;
			break;
		}
		if (timeout_ms == TR_NOWAIT) {
			rv = TR_EFULL;
			break;
		}
		if (first) {
			deadline = tri_deadline(timeout_ms);
			first = false;
		}
		if (self != NULL && self->kind == TRI_CTX_SCHED) {
			/* Never block a scheduler's thread: wait as for a full
			 * mailbox, on the actor's fiber. */
			pthread_mutex_unlock(&p->mtx);
			rv = tri_sched_space_wait(self, deadline);
			pthread_mutex_lock(&p->mtx);
			if (rv != TR_OK) {
				break;
			}
		} else if (deadline == UINT64_MAX) {
			pthread_cond_wait(&p->credit_cv, &p->mtx);
		} else {
			struct timespec ts;
			if (tri_now_ms() >= deadline) {
				rv = TR_ETIMEDOUT;
				break;
			}
			tri_deadline_ts(deadline, &ts);
			(void)pthread_cond_timedwait(
			    &p->credit_cv, &p->mtx, &ts);
		}
	}
	pthread_mutex_unlock(&p->mtx);
	return rv;
}

void
tri_credit_add_locked(tri_peer *p, tr_ref dest, uint32_t n)
{
	tri_credit *c = credit_find(p->credits, dest, false, 0);

	if (c == NULL) {
		return; /* all given back already: a stale or forged one */
	}
	c->n = c->n + (int64_t)n >= TRI_WINDOW ? TRI_WINDOW : c->n + (int32_t)n;
	if (c->n == TRI_WINDOW) {
		credit_drop(p->credits, c); /* as good as new */
	}
	pthread_cond_broadcast(&p->credit_cv);
}

void
tri_dist_credit_give(tri_peer *p, uint64_t session, tr_ref dest, uint32_t cost)
{
	pthread_mutex_lock(&p->mtx);
	if (p->wsession == session) {
		tri_credit_add_locked(p, dest, cost);
	}
	pthread_mutex_unlock(&p->mtx);
}

/* ------------------------------------------------------------------ */
/* Credits, at the receiver                                            */

static void
send_credit(tri_peer *p, tr_ref dest, uint32_t n)
{
	tri_frame f;

	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_CREDIT;
	f.sender = (tr_ref){tri_rt.node, 0, 0, 0};
	f.dest = dest;
	f.tag = n;
	(void)tri_wire_queue(p, &f, true);
}

/* dest took n messages from p's node. */
void
tri_credit_owe(tri_peer *p, tr_ref dest, uint32_t n)
{
	tri_credit *c;
	uint32_t give = 0;

	pthread_mutex_lock(&p->mtx);
	if ((c = credit_find(p->owed, dest, true, 0)) != NULL) {
		c->n += (int32_t)n;
		if (c->n >= TRI_WINDOW_RETURN) {
			give = (uint32_t)c->n;
			credit_drop(p->owed, c);
		}
	}
	pthread_mutex_unlock(&p->mtx);
	if (give > 0) {
		send_credit(p, dest, give);
	}
}

void
tri_wire_flush_owed(tri_peer *p)
{
	tri_credit *list = NULL;

	pthread_mutex_lock(&p->mtx);
	for (unsigned b = 0; b < TRI_CREDIT_BUCKETS; b++) {
		while (p->owed[b] != NULL) {
			tri_credit *c = p->owed[b];
			p->owed[b] = c->next;
			c->next = list;
			list = c;
		}
	}
	pthread_mutex_unlock(&p->mtx);
	while (list != NULL) {
		tri_credit *c = list;
		list = c->next;
		if (c->n > 0) {
			send_credit(p, c->dest, (uint32_t)c->n);
		}
		tri_free(c);
	}
}
