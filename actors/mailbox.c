/*
 * mailbox.c -- an actor's mailbox: where frames arrive, how the owner
 * takes them, and the capacity that pushes back on senders.
 *
 * Frames arrive on an nng thread (the inbox callback), which only
 * appends the nng message to the arrival list and wakes the owner: its
 * loop through a uv_async, or the owner thread itself if it is blocked
 * in tr_recv/tr_call.  uv_async_send coalesces, so the owner drains
 * everything that arrived per wake-up; route.c sorts it.
 *
 * Capacity is counted at the sender, in user messages, in the slot
 * record of the process's shared slot table (slots.h): a slot is taken
 * by tr_send before anything is sent and given back when the owner
 * takes the message.  Control frames, replies and timer messages take
 * none, so a full mailbox never holds up an exit signal.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buffer.h"
#include "ctx.h"
#include "mailbox.h"
#include "route.h"
#include "runtime.h"
#include "target.h"
#include "scheduler.h"

struct tri_mbio {
	tri_inbox *inbox; /* our pull socket */
	tri_port *port;   /* push socket to our inbox, for senders here */

	pthread_mutex_t mtx;
	pthread_cond_t arrived; /* owner waits for arrivals */
	tri_buf **arr;          /* arrivals not yet decoded */
	size_t narr, carr;
	tri_buf **spare; /* swapped with arr on drain */
	size_t cspare;
	bool owner_waiting;
	bool closed;
	bool draining; /* the owner is in tri_mailbox_drain (not reentrant) */
	uv_async_t *wake;       /* the owner's loop, if it runs one */
	_Atomic size_t pending; /* narr, readable without the lock */
};

/* Whether b is a goodbye (an nng message of its own, one frame). */
static bool
is_goodbye(tri_buf *b, tri_frame *f)
{
	const uint8_t *d = tri_buf_data(b);
	size_t len = tri_buf_len(b), off = 0;

	return len > 1 && d[1] == TRI_K_BYE &&
	    tri_frame_decode(d, len, &off, tri_rt.max_body, f) == TR_OK &&
	    off == len;
}

/* An arrival never routed (its mailbox closed, or no room to queue it):
 * the buffer holds its frames carried for this process go with it. */
static void
arrival_drop(tri_buf *b)
{
	const uint8_t *d = tri_buf_data(b);
	size_t len = tri_buf_len(b), off = 0;
	tri_frame f;

	while (off < len &&
	    tri_frame_decode(d, len, &off, tri_rt.max_body, &f) == TR_OK) {
		tri_buf_frame_drop(&f);
	}
	tri_buf_free(b);
}

/* Queues arrival b for c's owner and wakes it.  TR_ENOPROC (b not
 * taken) if closed is set and the mailbox is closed. */
static int
arrive(tri_ctx *c, tri_buf *b, bool closed)
{
	tri_mbio *mb = c->mb.io;
	bool was_empty;

	pthread_mutex_lock(&mb->mtx);
	if (closed && mb->closed) {
		pthread_mutex_unlock(&mb->mtx);
		return TR_ENOPROC;
	}
	if (mb->narr == mb->carr) {
		size_t ncap = mb->carr ? mb->carr * 2 : 64;
		tri_buf **na = tri_realloc(mb->arr, ncap * sizeof(*na));
		if (na == NULL) {
			/* Cannot queue it: the user messages in it keep their
			 * slots and are counted as dead letters when the actor
			 * ends; unblock the port that waits for us to take it.
			 */
			pthread_mutex_unlock(&mb->mtx);
			arrival_drop(b);
			tri_port_resume(mb->port);
			return TR_OK;
		}
		mb->arr = na;
		mb->carr = ncap;
	}
	was_empty = mb->narr == 0;
	mb->arr[mb->narr++] = b;
	/* Seen by the owner's drain without the lock; and seen before we
	 * look whether its loop still has a wake-up pending: uv_async_send
	 * first reads the handle's flag, which the owner clears before it
	 * drains.  Without a full fence between our store and that read,
	 * both could read the other's old value (store buffering): our
	 * wake-up merged into one the owner has already handled, and its
	 * drain finding nothing.  It then sleeps on an arrival for good. */
	atomic_store_explicit(&mb->pending, mb->narr, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	if (was_empty) {
		if (mb->owner_waiting) {
			pthread_cond_signal(&mb->arrived);
		} else if (mb->wake != NULL) {
			uv_async_send(mb->wake);
		}
	}
	pthread_mutex_unlock(&mb->mtx);
	return TR_OK;
}

static void
inbox_cb(void *arg, tri_buf *b)
{
	tri_ctx *c = arg;
	tri_frame f;

	/* A process that exits said goodbye after its last frames on this
	 * connection: messages arrive one callback at a time, in order, so
	 * everything it sent before is in our arrival list now. */
	if (is_goodbye(b, &f)) {
		if (f.sender.node == tri_rt.node) {
			tri_bye_ack(f.sender.proc, f.corr);
		}
		tri_buf_free(b);
		return;
	}
	if (c->gate != NULL) {
		c->gate(b);
		return;
	}
	(void)arrive(c, b, false);
}

int
tri_mailbox_arrive(tri_ctx *c, const tri_frame *f)
{
	tri_buf *b;
	int rv;

	if (c->mb.io == NULL || c->gate != NULL) {
		return TR_ENOPROC;
	}
	if ((rv = tri_buf_of_frame(f, &b)) != TR_OK) {
		return rv;
	}
	if ((rv = arrive(c, b, true)) != TR_OK) {
		tri_buf_free(b);
	}
	return rv;
}

void
tri_mailbox_init(tri_mailbox *mb, uint32_t capacity)
{
	mb->capacity = capacity;
}

static tri_mbio *
mbio_new(void)
{
	tri_mbio *mb = tri_calloc(1, sizeof(*mb));

	if (mb == NULL) {
		return NULL;
	}
	pthread_mutex_init(&mb->mtx, NULL);
	tri_cond_init(&mb->arrived);
	return mb;
}

static void
mbio_free(tri_mbio *mb)
{
	if (mb == NULL) {
		return;
	}
	tri_port_free(mb->port);
	tri_free(mb->arr);
	tri_free(mb->spare);
	pthread_cond_destroy(&mb->arrived);
	pthread_mutex_destroy(&mb->mtx);
	tri_free(mb);
}

void
tri_mailbox_set_wake(tri_ctx *c, uv_async_t *wake)
{
	tri_mbio *mb = c->mb.io;

	if (mb != NULL) {
		/* Under the lock: an arrival wakes the handle it read here,
		 * never one its owner has closed meanwhile. */
		pthread_mutex_lock(&mb->mtx);
		mb->wake = wake;
		pthread_mutex_unlock(&mb->mtx);
	}
}

tri_port *
tri_mailbox_port(tri_ctx *c)
{
	return c->mb.io != NULL ? c->mb.io->port : NULL;
}

bool
tri_mailbox_pending(tri_ctx *c)
{
	return c->mb.io != NULL &&
	    atomic_load_explicit(&c->mb.io->pending, memory_order_seq_cst) != 0;
}

/* Opens the inbox and port of a context that receives on its own
 * (thread, main) or for its scheduler's actors (host). */
static int
mailbox_io_open(tri_ctx *c)
{
	char local[128], ipc[512];
	tri_accept_note *note;
	tri_mbio *mb;
	int rv;

	if (c->kind == TRI_CTX_HOST) {
		rv = tri_sched_addrs(
		    c->sched, local, sizeof(local), ipc, sizeof(ipc));
	} else if ((rv = tri_addr_inproc(local, sizeof(local), c->ref)) ==
	    TR_OK) {
		rv = tri_addr_ipc(ipc, sizeof(ipc), c->ref, tri_rt.sockdir);
	}
	if (rv != TR_OK) {
		return rv;
	}
	if ((mb = mbio_new()) == NULL) {
		return TR_ENOMEM;
	}
	c->mb.io = mb;
	/* Dialers of other processes see in the note whether the socket
	 * took their connection (watch.h): an actor's own, or its
	 * scheduler's for all of its actors. */
	note = c->kind == TRI_CTX_HOST ?
	    &tri_rt.slots->home_note[tri_sched_home(c->sched)] :
	    &tri_rt.slots->note[c->ref.slot];
	tri_note_reset(note);
	if ((rv = tri_inbox_open(&mb->inbox, local, ipc, note, inbox_cb, c)) !=
	    TR_OK) {
		goto fail;
	}
	if ((rv = tri_port_open(&mb->port, local, true)) != TR_OK) {
		tri_inbox_close(mb->inbox);
		mb->inbox = NULL;
		goto fail;
	}
	return TR_OK;
fail:
	c->mb.io = NULL;
	mbio_free(mb);
	return rv;
}

int
tri_mailbox_open(tri_ctx *c)
{
	int rv;

	if (c->kind != TRI_CTX_SCHED && (rv = mailbox_io_open(c)) != TR_OK) {
		return rv;
	}
	if (c->kind == TRI_CTX_HOST) {
		return TR_OK; /* no actor: no slot */
	}
	tri_slots_used(tri_rt.slots, c->ref.slot);
	c->mb.rec = &tri_rt.slots->slot[c->ref.slot];
	tri_slot_open(c->mb.rec, c->ref.gen, c->mb.capacity, (uint32_t)c->place,
	    c->beh != NULL ? c->beh->name : "main",
	    c->kind == TRI_CTX_SCHED ? tri_sched_home(c->sched) : 0);
	return TR_OK;
}

void
tri_mailbox_seal(tri_ctx *c)
{
	tri_mailbox *mb = &c->mb;

	if (mb->rec != NULL) {
		/* What the slot still counts was accepted and never taken. */
		tri_count_dead(tri_slot_close(mb->rec, c->ref.gen));
	}
}

void
tri_mailbox_close(tri_ctx *c)
{
	tri_mbio *mb = c->mb.io;

	tri_mailbox_seal(c);
	if (mb == NULL) {
		return;
	}
	pthread_mutex_lock(&mb->mtx);
	mb->closed = true;
	mb->wake = NULL;
	pthread_mutex_unlock(&mb->mtx);
	/* Our own port first, from its sending side: nng 1.5.2 can lose a
	 * message that a push socket hands to a pipe whose pull end is
	 * closing at that moment (its aio is stopped, and a stopped aio
	 * neither sends nor frees).  The port stays allocated until the
	 * last reference goes: senders that hold this context may still
	 * reach it, and get TR_ENOPROC. */
	(void)tri_port_close(mb->port); /* user frames: counted by the slot */
	tri_inbox_close(mb->inbox);
	mb->inbox = NULL;
	for (size_t i = 0; i < mb->narr; i++) {
		arrival_drop(mb->arr[i]);
	}
	mb->narr = 0;
	atomic_store(&mb->pending, 0);
}

void
tri_mailbox_fini(tri_mailbox *mb)
{
	mbio_free(mb->io);
	mb->io = NULL;
}

void
tri_mailbox_release(tri_ctx *c, uint32_t n)
{
	if (c->mb.rec != NULL) {
		tri_slot_release(
		    c->mb.rec, c->ref.gen, n); /* no-op once sealed */
	}
}

size_t
tri_mailbox_drain(tri_ctx *c)
{
	tri_mbio *mb = c->mb.io;
	tri_buf **batch;
	size_t n, routed = 0;

	if (mb == NULL || mb->draining ||
	    atomic_load_explicit(&mb->pending, memory_order_seq_cst) == 0) {
		return 0;
	}
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
	atomic_store_explicit(&mb->pending, 0, memory_order_relaxed);
	pthread_mutex_unlock(&mb->mtx);
	mb->draining = true;
	/* Our senders may ship their next batch while we decode this one. */
	tri_port_resume(mb->port);

	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = tri_buf_data(batch[i]);
		size_t len = tri_buf_len(batch[i]), off = 0;
		while (off < len) {
			tri_frame f;
			int rv =
			    tri_frame_decode(d, len, &off, tri_rt.max_body, &f);
			if (rv != TR_OK) {
				/* The rest of this buffer cannot be trusted. */
				TRI_STAT(malformed);
				break;
			}
			if (c->kind == TRI_CTX_HOST) {
				tri_sched_route(c->sched, &f);
			} else {
				tri_route(c, &f);
			}
			routed++;
		}
		tri_buf_free(batch[i]);
	}

	/* Only the owner drains, so the spare slot is ours to refill. */
	pthread_mutex_lock(&mb->mtx);
	mb->spare = batch;
	pthread_mutex_unlock(&mb->mtx);
	mb->draining = false;
	return routed;
}

bool
tri_mailbox_wait(tri_ctx *c, uint64_t deadline)
{
	tri_mbio *mb = c->mb.io;
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
