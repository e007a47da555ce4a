/*
 * dist_wire.c -- a session's writer.
 *
 * It keeps the frames of each sending actor in a stream of its own and
 * fills an nng message (up to TRI_BATCH bytes) by taking turns:
 * node-level frames first (handshake, ticks, credits), then one frame
 * -- or one TRI_FRAG piece of a big one -- from each stream in turn.
 * One message is in flight at a time; the next is made when it is sent.
 * So a sender's frames stay in order, and a 16 MiB message holds up
 * another actor's small call by one piece, not by itself.  A session
 * that ends drops all of its state here (tri_wire_reset).
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

unsigned
tri_dist_bucket(tr_ref r)
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
	unsigned b = tri_dist_bucket(sender);
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
	tri_wstream **pp = &p->streams[tri_dist_bucket(s->sender)];

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

/* Sends batches while the connection takes them at once; the one it
 * does not is in flight, and tri_wire_sent() goes on.  Called with
 * p->mtx. */
static void
kick_locked(tri_peer *p)
{
	uint64_t frames;
	size_t len;
	bool pending;

	while (!p->sending && p->wout != NULL &&
	    (len = build_locked(p, &frames)) > 0) {
		if (tri_peer_send(p->wout, p->batch, len, &pending) != TR_OK) {
			return;
		}
		p->sending = pending;
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

/* Queues f; with a session, only if it is still the writer's (checked
 * under the same lock as the queueing: a frame meant for a session that
 * ended must never go out in the next one). */
static int
queue(tri_peer *p, const tri_frame *f, bool prio, const uint64_t *session)
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
	if (session != NULL && (p->wsession != *session || p->wout == NULL)) {
		pthread_mutex_unlock(&p->mtx);
		item_free(it);
		return TR_ENOCONN;
	}
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
tri_wire_queue(tri_peer *p, const tri_frame *f, bool prio)
{
	return queue(p, f, prio, NULL);
}

int
tri_dist_send(tri_peer *p, uint64_t session, const tri_frame *f)
{
	return queue(p, f, false, &session);
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
	tri_credits_free(p->credits);
	tri_credits_free(p->owed);
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
