/*
 * dist_recv.c -- what arrives on a session: ticks, credits, pieces of big
 * frames, and frames for this node's actors -- delivered at once, or
 * held while their mailbox is full (in order, per actor); the members'
 * user messages that wait for credits (parked, dist_gw.c) are retried
 * here too.
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
		tri_credit_owe(p, f->dest, tri_dist_cost(f->body_len));
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
		tri_credit_owe(p, f->dest, tri_dist_cost(f->body_len));
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
		tri_credit_add_locked(p, f->dest, f->tag);
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
