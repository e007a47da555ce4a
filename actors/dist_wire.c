/*
 * dist_wire.c -- a session's frames: the writer, what arrives, credits.
 *
 * The writer keeps the frames of each sending actor in a stream of its
 * own and fills an nng message (up to TRI_BATCH bytes) by taking turns:
 * node-level frames first (handshake, ticks, credits), then one frame
 * -- or one TRI_FRAG piece of a big one -- from each stream in turn.
 * One message is in flight at a time; the next is made when it is sent.
 * So a sender's frames stay in order, and a 16 MiB message holds up
 * another actor's small call by one piece, not by itself.
 *
 * Credits: a sender may have TRI_WINDOW user messages on their way to
 * one actor of another node.  The receiving node gives credits back as
 * it puts messages into that actor's mailbox; while the mailbox is
 * full, arrivals for it wait here (held) and take no room elsewhere.
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

static unsigned
bucket(tr_ref r)
{
	return (r.proc * 2654435761u ^ r.slot * 40503u ^ r.gen) %
	    TRI_CREDIT_BUCKETS;
}

/* ------------------------------------------------------------------ */
/* The writer                                                          */

static void
item_free(tri_witem *it)
{
	tri_free(it->data);
	tri_free(it);
}

static tri_wstream *
stream_get_locked(tri_peer *p, tr_ref sender)
{
	unsigned b = bucket(sender);
	tri_wstream *s;

	for (s = p->streams[b]; s != NULL; s = s->hnext) {
		if (tr_ref_equal(s->sender, sender)) {
			return s;
		}
	}
	if ((s = tri_calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	}
	s->sender = sender;
	s->hnext = p->streams[b];
	p->streams[b] = s;
	return s;
}

static void
stream_free_locked(tri_peer *p, tri_wstream *s)
{
	tri_wstream **pp = &p->streams[bucket(s->sender)];

	while (*pp != s) {
		pp = &(*pp)->hnext;
	}
	*pp = s->hnext;
	tri_free(s);
}

/* The ring is a queue of streams that have frames: a stream served
 * goes to the back while it has more. */
static void
ring_push_locked(tri_peer *p, tri_wstream *s)
{
	s->rnext = NULL;
	if (p->ring == NULL) {
		p->ring = s;
	} else {
		p->ring_tail->rnext = s;
	}
	p->ring_tail = s;
}

static bool
grow(tri_peer *p, size_t need)
{
	if (need > p->batch_cap) {
		size_t cap = p->batch_cap ? p->batch_cap : 65536;
		uint8_t *nb;
		while (cap < need) {
			cap *= 2;
		}
		if ((nb = tri_realloc(p->batch, cap)) == NULL) {
			return false;
		}
		p->batch = nb;
		p->batch_cap = cap;
	}
	return true;
}

/* Appends the next piece of it (a FRAG frame) to the batch at *len. */
static bool
put_piece(tri_peer *p, tri_witem *it, size_t *len)
{
	size_t chunk =
	    it->len - it->off < TRI_FRAG ? it->len - it->off : TRI_FRAG;
	uint8_t *d;
	tri_frame f;

	if (!grow(p, *len + TRI_FRAME_HDR + 5 + chunk)) {
		return false;
	}
	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_FRAG;
	f.corr = it->fragno;
	f.tag = (uint32_t)it->len;
	f.body_len = (uint32_t)(5 + chunk);
	d = p->batch + *len;
	tri_frame_put_header(&f, d);
	/* sender and dest as the big frame's (bytes 8..40 of a header) */
	memcpy(d + 8, it->data + 8, 32);
	d += TRI_FRAME_HDR;
	d[0] = 0xc6; /* bin 32 */
	d[1] = (uint8_t)(chunk >> 24);
	d[2] = (uint8_t)(chunk >> 16);
	d[3] = (uint8_t)(chunk >> 8);
	d[4] = (uint8_t)chunk;
	memcpy(d + 5, it->data + it->off, chunk);
	it->off += chunk;
	*len += TRI_FRAME_HDR + 5 + chunk;
	return true;
}

static bool
put_whole(tri_peer *p, tri_witem *it, size_t *len)
{
	if (!grow(p, *len + it->len)) {
		return false;
	}
	memcpy(p->batch + *len, it->data, it->len);
	*len += it->len;
	return true;
}

/* Fills the batch; its length (0: nothing to send). */
static size_t
build_locked(tri_peer *p, uint64_t *frames)
{
	size_t len = 0;

	*frames = 0;
	while (len < TRI_BATCH) {
		tri_witem *it;
		tri_wstream *s;

		if ((it = p->prio_head) != NULL) {
			if (!put_whole(p, it, &len)) {
				break;
			}
			p->prio_head = it->next;
			if (p->prio_head == NULL) {
				p->prio_tail = NULL;
			}
			item_free(it);
			(*frames)++;
			continue;
		}
		if ((s = p->ring) == NULL) {
			break;
		}
		it = s->head;
		if (it->off == 0 && it->len <= TRI_FRAME_HDR + TRI_FRAG) {
			if (!put_whole(p, it, &len)) {
				break;
			}
			it->off = it->len;
		} else if (!put_piece(p, it, &len)) {
			break;
		}
		(*frames)++;
		if (it->off == it->len) {
			s->head = it->next;
			if (s->head == NULL) {
				s->tail = NULL;
			}
			item_free(it);
		}
		/* Its turn is over. */
		p->ring = s->rnext;
		if (p->ring == NULL) {
			p->ring_tail = NULL;
		}
		if (s->head != NULL) {
			ring_push_locked(p, s);
		} else {
			s->in_ring = false;
			stream_free_locked(p, s);
		}
	}
	return len;
}

/* Sends the next batch if none is in flight.  Called with p->mtx. */
static void
kick_locked(tri_peer *p)
{
	uint64_t frames;
	size_t len;

	if (p->sending || p->wout == NULL) {
		return;
	}
	if ((len = build_locked(p, &frames)) == 0) {
		return;
	}
	if (tri_peer_send(p->wout, p->batch, len) == TR_OK) {
		p->sending = true;
		atomic_store(&p->last_sent, tri_now_ms());
		atomic_fetch_add(&p->frames_out, frames);
	}
}

void
tri_wire_sent(void *arg, int rv)
{
	tri_peer *p = arg;

	pthread_mutex_lock(&p->mtx);
	p->sending = false;
	if (rv == TR_OK) {
		kick_locked(p);
	}
	pthread_mutex_unlock(&p->mtx);
}

int
tri_wire_queue(tri_peer *p, const tri_frame *f, bool prio)
{
	tri_witem *it = tri_calloc(1, sizeof(*it));
	size_t cap = 0;
	int rv;

	if (it == NULL) {
		return TR_ENOMEM;
	}
	if ((rv = tri_frame_encode(f, TR_MSG_MAX, &it->data, &it->len, &cap)) !=
	    TR_OK) {
		tri_free(it);
		return rv;
	}
	it->user = f->kind == TRI_K_USER || f->kind == TRI_K_CALL;
	pthread_mutex_lock(&p->mtx);
	if (prio) {
		if (p->prio_tail != NULL) {
			p->prio_tail->next = it;
		} else {
			p->prio_head = it;
		}
		p->prio_tail = it;
	} else {
		tri_wstream *s = stream_get_locked(p, f->sender);
		if (s == NULL) {
			pthread_mutex_unlock(&p->mtx);
			item_free(it);
			return TR_ENOMEM;
		}
		if (it->len > TRI_FRAME_HDR + TRI_FRAG) {
			it->fragno = ++p->next_fragno;
		}
		if (s->tail != NULL) {
			s->tail->next = it;
		} else {
			s->head = it;
		}
		s->tail = it;
		if (!s->in_ring) {
			s->in_ring = true;
			ring_push_locked(p, s);
		}
	}
	kick_locked(p);
	pthread_mutex_unlock(&p->mtx);
	return TR_OK;
}

int
tri_dist_send(tri_peer *p, uint64_t session, const tri_frame *f)
{
	int rv;

	pthread_mutex_lock(&p->mtx);
	rv = p->wsession == session && p->wout != NULL ? TR_OK : TR_ENOCONN;
	pthread_mutex_unlock(&p->mtx);
	/* A session that ends between the look and the queue drops the
	 * frame with the rest of its queue (counted): as if it had been
	 * queued just before. */
	return rv == TR_OK ? tri_wire_queue(p, f, false) : rv;
}

static void
free_credits(tri_credit **v)
{
	for (unsigned b = 0; b < TRI_CREDIT_BUCKETS; b++) {
		while (v[b] != NULL) {
			tri_credit *c = v[b];
			v[b] = c->next;
			tri_free(c);
		}
	}
}

void
tri_wire_reset(tri_peer *p, uint64_t session)
{
	uint64_t dead = 0;

	pthread_mutex_lock(&p->mtx);
	while (p->prio_head != NULL) {
		tri_witem *it = p->prio_head;
		p->prio_head = it->next;
		item_free(it);
	}
	p->prio_tail = NULL;
	for (unsigned b = 0; b < TRI_CREDIT_BUCKETS; b++) {
		while (p->streams[b] != NULL) {
			tri_wstream *s = p->streams[b];
			p->streams[b] = s->hnext;
			while (s->head != NULL) {
				tri_witem *it = s->head;
				s->head = it->next;
				dead += it->user;
				item_free(it);
			}
			tri_free(s);
		}
	}
	p->ring = p->ring_tail = NULL;
	free_credits(p->credits);
	free_credits(p->owed);
	p->owed_total = 0;
	while (p->asms != NULL) {
		tri_asm *a = p->asms;
		p->asms = a->next;
		tri_free(a->data);
		tri_free(a);
	}
	p->asm_bytes = 0;
	while (p->held_head != NULL) {
		tri_held *h = p->held_head;
		p->held_head = h->next;
		/* User messages are dead letters; signals are simply lost
		 * with the session (their links and monitors fire). */
		dead += h->data[1] == TRI_K_USER || h->data[1] == TRI_K_CALL;
		tri_free(h->data);
		tri_free(h);
	}
	p->held_tail = NULL;
	while (p->parked_head != NULL) {
		tri_held *h = p->parked_head;
		p->parked_head = h->next;
		dead++;
		tri_dist_gate_release();
		tri_free(h->data);
		tri_free(h);
	}
	p->parked_tail = NULL;
	p->wsession = session;
	/* The connection the writer sends on: the one just dialed, or none
	 * (a session that ended: its dialer is closed by the dist thread,
	 * and a send in flight on it ends with it). */
	p->wout = session == p->session && !p->close_out ? p->out : NULL;
	pthread_cond_broadcast(&p->credit_cv);
	pthread_mutex_unlock(&p->mtx);
	if (dead > 0) {
		tri_count_dead(dead);
	}
}

/* ------------------------------------------------------------------ */
/* Credits, at the sender                                              */

static tri_credit *
credit_find(tri_credit **v, tr_ref dest, bool make, int32_t initial)
{
	unsigned b = bucket(dest);
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
	tri_credit **pp = &v[bucket(c->dest)];

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

static void
credit_add_locked(tri_peer *p, tr_ref dest, uint32_t n)
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
		credit_add_locked(p, dest, cost);
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
static void
owe(tri_peer *p, tr_ref dest, uint32_t n)
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
tri_wire_flush_owed(tri_peer *p, bool all)
{
	tri_credit *list = NULL;

	(void)all;
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

/* ------------------------------------------------------------------ */
/* Arrivals                                                            */

/* Whether a frame for dest waits already (later ones go after it). */
static bool
held_for_locked(tri_peer *p, tr_ref dest)
{
	for (tri_held *h = p->held_head; h != NULL; h = h->next) {
		if (tr_ref_equal(h->dest, dest)) {
			return true;
		}
	}
	return false;
}

/* Appends a copy of f to a list of waiting frames; false if out of
 * memory. */
static bool
wait_push(tri_peer *p, tri_held **head, tri_held **tail, const tri_frame *f)
{
	tri_held *h = tri_calloc(1, sizeof(*h));
	size_t cap = 0;

	if (h == NULL ||
	    tri_frame_encode(f, TR_MSG_MAX, &h->data, &h->len, &cap) != TR_OK) {
		tri_free(h);
		return false;
	}
	h->dest = f->dest;
	pthread_mutex_lock(&p->mtx);
	if (*tail != NULL) {
		(*tail)->next = h;
	} else {
		*head = h;
	}
	*tail = h;
	pthread_mutex_unlock(&p->mtx);
	return true;
}

/* Keeps a copy of f until its mailbox has room. */
static void
hold(tri_peer *p, const tri_frame *f)
{
	if (!wait_push(p, &p->held_head, &p->held_tail, f)) {
		tri_count_dead(1);
	}
}

/* A call from another node is in its callee's mailbox: the callee is
 * watched for the caller until it replies (TRI_REMOTE_CALL_MON), here
 * or by the member process that hosts it. */
static void
watch_call(tri_peer *p, tri_target *t, const tri_frame *f)
{
	uint64_t id = TRI_REMOTE_CALL_MON(f->corr);
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame g;

	if (t->local == NULL) {
		(void)tri_send_control_ref(
		    f->dest, TRI_K_MON, f->sender, TR_REASON_NORMAL, id);
		return;
	}
	if (tri_monitor_add(t->local, f->sender, id) != TR_OK) {
		/* It ended meanwhile: the caller need not wait. */
		tri_control_frame(&g, body, TRI_K_DOWN, f->dest, f->sender,
		    TR_REASON(TR_EXIT_NOPROC, 0), id);
		(void)tri_wire_queue(p, &g, false);
	}
}

/* Puts a user message into its mailbox: TR_EFULL if there is no room. */
static int
deliver_user(tri_peer *p, const tri_frame *f)
{
	tri_target t;
	int rv;

	if ((rv = tri_target_get(f->dest, &t)) == TR_OK) {
		t.direct = true;
		rv = tri_target_send(&t, f, TR_NOWAIT);
		if (rv == TR_OK && f->kind == TRI_K_CALL) {
			watch_call(p, &t, f);
		}
		tri_target_put(&t);
	}
	if (rv == TR_OK) {
		/* Counted as sent by the sending node. */
		atomic_fetch_sub_explicit(
		    &tri_rt.sent, 1, memory_order_relaxed);
		owe(p, f->dest, tri_dist_cost(f->body_len));
	} else if (rv != TR_EFULL && rv != TR_ENOMEM && rv != TR_ERESOURCE) {
		if (f->kind == TRI_K_CALL) {
			/* A call to an actor that is gone: ends at once. */
			uint8_t body[TRI_CONTROL_BODY];
			tri_frame g;
			tri_control_frame(&g, body, TRI_K_DOWN, f->dest,
			    f->sender, TR_REASON(TR_EXIT_NOPROC, 0),
			    TRI_REMOTE_CALL_MON(f->corr));
			(void)tri_wire_queue(p, &g, false);
		}
		/* Gone: its credits come back all the same. */
		tri_count_dead(1);
		owe(p, f->dest, tri_dist_cost(f->body_len));
		rv = TR_OK;
	}
	return rv;
}

/* Answers a request about an actor that is not there. */
static void
answer_noproc(tri_peer *p, const tri_frame *f)
{
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame g;
	int kind = f->kind == TRI_K_MON ? TRI_K_DOWN : TRI_K_EXIT;

	tri_control_frame(&g, body, kind, f->dest, f->sender,
	    TR_REASON(TR_EXIT_NOPROC, 0), f->kind == TRI_K_MON ? f->corr : 0);
	(void)tri_wire_queue(p, &g, false);
}

/* A signal for an actor of this node: a reply, exit, down, link,
 * unlink, monitor or demonitor (no capacity).  Requests about an actor
 * that is not there are answered noproc. */
static void
deliver_signal(tri_peer *p, const tri_frame *f)
{
	tri_target t;

	if (tri_target_get(f->dest, &t) != TR_OK) {
		if (f->kind == TRI_K_MON || f->kind == TRI_K_LINK) {
			answer_noproc(p, f);
		}
		return;
	}
	t.direct = true;
	if (tri_target_deliver(&t, f) != TR_OK &&
	    (f->kind == TRI_K_MON || f->kind == TRI_K_LINK)) {
		answer_noproc(p, f);
	}
	tri_target_put(&t);
}

static void
deliver(tri_peer *p, const tri_frame *f)
{
	tr_reason why;
	uint64_t mon;
	bool behind;

	if (f->dest.node != tri_rt.node || (f->flags & TRI_F_BUFS) != 0) {
		TRI_STAT(malformed);
		return;
	}
	switch (f->kind) {
	case TRI_K_STOP:
		/* Acted on at once, as locally (the control lane): even an
		 * actor whose mailbox is full and stays full can be stopped
		 * or killed. */
		if (tri_reason_parse(f->body, f->body_len, &why, &mon) ==
		        TR_OK &&
		    why.kind == TR_EXIT_KILL) {
			(void)tr_kill(f->dest);
		} else {
			deliver_signal(p, f);
		}
		return;
	case TRI_K_USER:
	case TRI_K_CALL:
	case TRI_K_REPLY:
	case TRI_K_EXIT:
	case TRI_K_DOWN:
	case TRI_K_LINK:
	case TRI_K_UNLINK:
	case TRI_K_MON:
	case TRI_K_DEMON:
		break;
	default:
		TRI_STAT(malformed);
		return;
	}
	/* Behind frames that wait for room in the same mailbox: after them,
	 * in order -- a signal too, so that an exit never overtakes the
	 * messages its sender sent before it. */
	pthread_mutex_lock(&p->mtx);
	behind = held_for_locked(p, f->dest);
	pthread_mutex_unlock(&p->mtx);
	if (behind) {
		hold(p, f);
	} else if (f->kind != TRI_K_USER && f->kind != TRI_K_CALL) {
		deliver_signal(p, f);
	} else if (deliver_user(p, f) != TR_OK) {
		hold(p, f);
	}
}

/* Dests still full that one pass over a waiting list skips. */
#define BLOCKED_MAX 64

/*
 * One pass over a list of waiting frames (p->held_*, p->parked_*):
 * try_one(p, session, f) for each, in order -- TR_OK: it went, take it
 * out (and call gone, if any); TR_EFULL: it waits, and so do the later
 * ones for the same dest; anything else: the pass ends.  Only the dist
 * thread takes out of these lists (arrivals append); a session that
 * ends meanwhile takes the whole list (tri_wire_reset): the pass stops
 * then, without touching what it had.
 */
static void
retry_waiting(tri_peer *p, tri_held **head, tri_held **tail,
    int (*try_one)(tri_peer *, uint64_t, const tri_frame *), void (*gone)(void))
{
	tr_ref blocked[BLOCKED_MAX];
	size_t nblocked = 0;
	tri_held *h, *prev = NULL;
	uint64_t session;

	pthread_mutex_lock(&p->mtx);
	h = *head;
	session = p->wsession;
	pthread_mutex_unlock(&p->mtx);
	while (h != NULL) {
		tri_frame f;
		size_t off = 0, i;
		bool skip = false;
		tri_held *next;
		int rv = TR_OK;

		for (i = 0; i < nblocked && !skip; i++) {
			skip = tr_ref_equal(blocked[i], h->dest);
		}
		if (!skip &&
		    tri_frame_decode(h->data, h->len, &off, TR_MSG_MAX, &f) ==
		        TR_OK &&
		    (rv = try_one(p, session, &f)) != TR_OK) {
			if (rv != TR_EFULL || nblocked == BLOCKED_MAX) {
				return; /* enough for one pass */
			}
			skip = true;
			blocked[nblocked++] = h->dest;
		}
		pthread_mutex_lock(&p->mtx);
		if (p->wsession != session) {
			pthread_mutex_unlock(&p->mtx);
			return; /* reset took the list (and h) */
		}
		next = h->next;
		if (!skip) {
			if (prev == NULL) {
				*head = next;
			} else {
				prev->next = next;
			}
			if (*tail == h) {
				*tail = prev;
			}
		} else {
			prev = h;
		}
		pthread_mutex_unlock(&p->mtx);
		if (!skip) {
			if (gone != NULL) {
				gone();
			}
			tri_free(h->data);
			tri_free(h);
		}
		h = next;
	}
}

/* A held arrival: into its mailbox if there is room now (a signal
 * held behind messages goes once they have). */
static int
try_deliver(tri_peer *p, uint64_t session, const tri_frame *f)
{
	(void)session;
	if (f->kind != TRI_K_USER && f->kind != TRI_K_CALL) {
		deliver_signal(p, f);
		return TR_OK;
	}
	return deliver_user(p, f) == TR_OK ? TR_OK : TR_EFULL;
}

void
tri_wire_retry_held(tri_peer *p)
{
	retry_waiting(p, &p->held_head, &p->held_tail, try_deliver, NULL);
}

void
tri_wire_park(tri_peer *p, const tri_frame *f)
{
	if (!wait_push(p, &p->parked_head, &p->parked_tail, f)) {
		tri_count_dead(1);
		tri_dist_gate_release();
	}
}

/* A member's parked message: on its way if a credit came. */
static int
try_send(tri_peer *p, uint64_t session, const tri_frame *f)
{
	int rv = tri_dist_credit_take(
	    p, session, f->dest, tri_dist_cost(f->body_len), TR_NOWAIT);

	if (rv == TR_OK && tri_dist_send(p, session, f) != TR_OK) {
		tri_count_dead(1);
	}
	return rv;
}

void
tri_wire_retry_parked(tri_peer *p)
{
	retry_waiting(p, &p->parked_head, &p->parked_tail, try_send,
	    tri_dist_gate_release);
}

/* A piece of a big frame: the whole frame, once its last piece came. */
static void
piece(tri_peer *p, const tri_frame *f)
{
	const uint8_t *b = f->body;
	size_t chunk;
	tri_asm *a, **pp;
	tri_frame big;
	size_t off = 0;

	if (f->body_len < 5 || b[0] != 0xc6 ||
	    (chunk = (size_t)b[1] << 24 | (size_t)b[2] << 16 |
	            (size_t)b[3] << 8 | b[4]) != f->body_len - 5 ||
	    f->tag <= TRI_FRAME_HDR + TRI_FRAG ||
	    f->tag > TRI_FRAME_HDR + tri_rt.max_body) {
		TRI_STAT(malformed);
		return;
	}
	pthread_mutex_lock(&p->mtx);
	for (pp = &p->asms; *pp != NULL && (*pp)->fragno != f->corr;
	     pp = &(*pp)->next) {
	}
	if ((a = *pp) == NULL) {
		/* At most a few big frames at once per node: memory stays
		 * bounded whatever a peer announces. */
		if (p->asm_bytes + f->tag > 8u * (size_t)TR_MSG_MAX ||
		    (a = tri_calloc(1, sizeof(*a))) == NULL ||
		    (a->data = tri_malloc(f->tag)) == NULL) {
			tri_free(a);
			pthread_mutex_unlock(&p->mtx);
			tri_count_dead(1);
			return;
		}
		a->fragno = f->corr;
		a->len = f->tag;
		a->next = p->asms;
		p->asms = a;
		p->asm_bytes += a->len;
		pp = &p->asms;
	}
	if (a->len != f->tag || a->got + chunk > a->len) {
		*pp = a->next;
		p->asm_bytes -= a->len;
		pthread_mutex_unlock(&p->mtx);
		tri_free(a->data);
		tri_free(a);
		TRI_STAT(malformed);
		return;
	}
	memcpy(a->data + a->got, b + 5, chunk);
	a->got += chunk;
	if (a->got < a->len) {
		pthread_mutex_unlock(&p->mtx);
		return;
	}
	*pp = a->next;
	p->asm_bytes -= a->len;
	pthread_mutex_unlock(&p->mtx);
	if (tri_frame_decode(a->data, a->len, &off, tri_rt.max_body, &big) ==
	        TR_OK &&
	    off == a->len && big.kind != TRI_K_FRAG &&
	    tr_ref_equal(big.sender, f->sender) &&
	    tr_ref_equal(big.dest, f->dest)) {
		deliver(p, &big);
	} else {
		TRI_STAT(malformed);
	}
	tri_free(a->data);
	tri_free(a);
}

void
tri_wire_arrived(tri_peer *p, const tri_frame *f)
{
	switch (f->kind) {
	case TRI_K_TICK:
		if (f->tag == 0) {
			tri_frame g;
			memset(&g, 0, sizeof(g));
			g.kind = TRI_K_TICK;
			g.tag = 1;
			g.corr = f->corr;
			(void)tri_wire_queue(p, &g, true);
		} else {
			uint64_t now = tri_dist_now_us();
			if (f->corr <= now && now - f->corr < UINT32_MAX) {
				atomic_store(
				    &p->rtt_us, (uint32_t)(now - f->corr));
			}
		}
		return;
	case TRI_K_CREDIT:
		pthread_mutex_lock(&p->mtx);
		credit_add_locked(p, f->dest, f->tag);
		pthread_mutex_unlock(&p->mtx);
		return;
	case TRI_K_FRAG:
		piece(p, f);
		return;
	default:
		deliver(p, f);
		return;
	}
}
