/*
 * socket.c -- mailboxes on the wire, over nng (see socket.h).
 *
 * Receive uses an aio callback that re-arms itself: measured on the
 * target machines this is some 25 times faster than a thread blocked in
 * nng_recvmsg, and it hands each message straight to the owner's queue.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "alloc.h"
#include "listener.h"
#include "socket.h"

/* nng buffers, in messages.  A push socket left at SENDBUF 0 stalls
 * senders on every message; these are per-batch, so small is enough. */
#define PORT_SENDBUF 16
#define INBOX_RECVBUF 16

int
tri_err_nng(int e)
{
	switch (e) {
	case 0:
		return TR_OK;
	case NNG_ENOMEM:
		return TR_ENOMEM;
	case NNG_ENOFILES: /* EMFILE, ENFILE: a limit, not a dead peer */
	case NNG_ENOSPC:
		return TR_ERESOURCE;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_EBADTYPE:
		return TR_EINVAL;
	case NNG_ETIMEDOUT:
		return TR_ETIMEDOUT;
	case NNG_EAGAIN:
		return TR_EFULL;
	case NNG_ECLOSED:
	case NNG_ESTATE:
		return TR_ECLOSED;
	case NNG_ECONNREFUSED:
	case NNG_ENOENT:
	case NNG_EUNREACHABLE:
	case NNG_ECONNRESET:
	case NNG_ECONNABORTED:
	case NNG_ECONNSHUT:
		return TR_ENOPROC; /* nobody listens there: the actor is gone */
	case NNG_EADDRINUSE:
	case NNG_EEXIST:
		return TR_EEXIST;
	case NNG_EMSGSIZE:
		return TR_EMSGSIZE;
	case NNG_ECANCELED:
		return TR_ECANCELED;
	case NNG_ENOTSUP:
		return TR_ENOTSUP;
	case NNG_EPERM:
		return TR_EPERM;
	case NNG_EPROTO:
		return TR_EPROTO;
	default:
		/* A system error nng has no name for, errno inside. */
		if ((e & NNG_ESYSERR) != 0 && (e & ~NNG_ESYSERR) == ENOBUFS) {
			return TR_ERESOURCE;
		}
		return TR_ETRANSPORT;
	}
}

/* ------------------------------------------------------------------ */

const uint8_t *
tri_buf_data(tri_buf *b)
{
	return nng_msg_body((nng_msg *)b);
}

int
tri_buf_of_frame(const tri_frame *f, tri_buf **out)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, TRI_FRAME_HDR + (size_t)f->body_len) != 0) {
		return TR_ENOMEM;
	}
	tri_frame_put_header(f, nng_msg_body(m));
	if (f->body_len > 0) {
		memcpy((uint8_t *)nng_msg_body(m) + TRI_FRAME_HDR, f->body,
		    f->body_len);
	}
	*out = (tri_buf *)m;
	return TR_OK;
}

size_t
tri_buf_len(tri_buf *b)
{
	return nng_msg_len((nng_msg *)b);
}

void
tri_buf_free(tri_buf *b)
{
	nng_msg_free((nng_msg *)b);
}

/* ------------------------------------------------------------------ */

struct tri_inbox {
	nng_socket sock;
	nng_aio *aio;
	tri_inbox_cb cb;
	void *arg;
	/* The second (ipc) listener: watched (watch.c). */
	tri_watched *w;
};

static void
inbox_recv_cb(void *arg)
{
	tri_inbox *ib = arg;

	if (nng_aio_result(ib->aio) != 0) {
		return; /* stopped or closed: tri_inbox_close is running */
	}
	ib->cb(ib->arg, (tri_buf *)nng_aio_get_msg(ib->aio));
	nng_recv_aio(ib->sock, ib->aio);
}

int
tri_inbox_open(tri_inbox **out, const char *url, const char *url2,
    tri_accept_note *note, tri_inbox_cb cb, void *arg)
{
	tri_inbox *ib;
	int rv;

	if ((ib = tri_calloc(1, sizeof(*ib))) == NULL) {
		return TR_ENOMEM;
	}
	ib->cb = cb;
	ib->arg = arg;
	if ((rv = nng_pull0_open(&ib->sock)) != 0) {
		tri_free(ib);
		return tri_err_nng(rv);
	}
	if ((rv = nng_socket_set_int(
	         ib->sock, NNG_OPT_RECVBUF, INBOX_RECVBUF)) != 0 ||
	    (rv = nng_socket_set_size(ib->sock, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
	    (url2 != NULL &&
	        (rv = tri_watch_listen(&ib->w, ib->sock, url2, note, false)) !=
	            0) ||
	    (rv = nng_listen(ib->sock, url, NULL, 0)) != 0 ||
	    (rv = nng_aio_alloc(&ib->aio, inbox_recv_cb, ib)) != 0) {
		tri_watch_forget(ib->w);
		nng_close(ib->sock);
		tri_watch_free(ib->w);
		tri_free(ib);
		return tri_err_nng(rv);
	}
	nng_recv_aio(ib->sock, ib->aio);
	*out = ib;
	return TR_OK;
}

int
tri_inbox_check(tri_inbox *ib, int timeout_ms, bool *repaired)
{
	*repaired = false;
	if (ib == NULL || ib->w == NULL) {
		return TR_OK;
	}
	return tri_watch_check(ib->w, timeout_ms, repaired);
}

void
tri_inbox_close(tri_inbox *ib)
{
	if (ib == NULL) {
		return;
	}
	/*
	 * nng 1.5.2's ipc pipe reads a message in two reads: its 9-byte
	 * header, then its body, started from the header read's callback
	 * (ipc_pipe_recv_cb, src/sp/transport/ipc/ipc.c) without looking
	 * whether the pipe was closed meanwhile.  If nng_close closes the
	 * pipe between the two (a peer's message arriving as we close),
	 * the body read is started on a stopped aio: it neither runs nor
	 * calls back, the pull pipe's receive never completes, and nng's
	 * one reaper thread waits for it forever in pipe_destroy.  Every
	 * later nng_close in this process then waits for the reaper: the
	 * closing actor, the node thread forgetting a dead process (whose
	 * death is then never reported), and tr_shutdown.  (Seen as
	 * test_sup_otp hanging under load, fork placement.)
	 *
	 * With a receive limit of one byte, a header arriving from now on
	 * ends its pipe the way an error does, from the read's own callback
	 * and with no second read: what we close after is idle.  Left
	 * open: a body already being read in pieces when this is set (a
	 * large message, or a peer's write split by a full buffer); its
	 * next piece's read is started the same way.
	 */
	(void)nng_socket_set_size(ib->sock, NNG_OPT_RECVMAXSZ, 1);
	nng_aio_stop(ib->aio);
	tri_watch_forget(ib->w);
	nng_close(ib->sock);
	tri_watch_free(ib->w);
	nng_aio_free(ib->aio);
	tri_free(ib);
}

/* ------------------------------------------------------------------ */

struct tri_port {
	nng_socket sock;
	nng_aio *aio;
	pthread_mutex_t mtx;
	nng_msg *pending;    /* frames waiting for the aio */
	uint64_t pending_n;  /* frames in pending */
	uint64_t inflight_n; /* frames in the aio's message */
	uint64_t lost;       /* frames that failed to leave */
	bool inflight;       /* the aio is busy */
	bool paced;          /* the receiver paces us: see tri_port_resume */
	bool unconsumed;     /* paced: a batch not yet taken by the owner */
	bool closed;
	bool sealed;         /* said goodbye: nothing more may be sent */
	int kicking;         /* threads between unlock and nng_send_aio */
	pthread_cond_t idle; /* kicking went to 0 after close; or nothing
	                        left to send, for tri_port_flush */
	int flushing;        /* threads waiting in tri_port_flush */
};

/* Starts sending p->pending.  Called with p->mtx held; drops it. */
static void
port_kick_locked(tri_port *p)
{
	nng_msg *m = p->pending;

	if (p->paced && nng_sendmsg(p->sock, m, NNG_FLAG_NONBLOCK) == 0) {
		/* Sent from this thread: nng completes a send that a pipe
		 * takes at once without waking one of its threads to run a
		 * completion callback.  (A paced port's owner resumes it.) */
		p->pending = NULL;
		p->pending_n = 0;
		p->unconsumed = true;
		pthread_mutex_unlock(&p->mtx);
		return;
	}
	p->pending = NULL;
	p->inflight_n = p->pending_n;
	p->pending_n = 0;
	p->inflight = true;
	p->unconsumed = p->paced;
	p->kicking++;
	pthread_mutex_unlock(&p->mtx);
	nng_aio_set_msg(p->aio, m);
	nng_send_aio(p->sock, p->aio);
	/* tri_port_close waits for us to be out of nng_send_aio. */
	pthread_mutex_lock(&p->mtx);
	if (--p->kicking == 0 && p->closed) {
		pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mtx);
}

static void
port_send_cb(void *arg)
{
	tri_port *p = arg;
	int rv = nng_aio_result(p->aio);

	pthread_mutex_lock(&p->mtx);
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(p->aio));
		p->lost += p->inflight_n;
	}
	p->inflight_n = 0;
	p->inflight = false;
	if (p->pending != NULL && !p->closed && rv == 0 && !p->unconsumed) {
		port_kick_locked(p);
		return;
	}
	if (p->flushing > 0) {
		pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mtx);
}

bool
tri_port_flush(tri_port *p, uint64_t deadline_ms)
{
	bool done;

	pthread_mutex_lock(&p->mtx);
	p->flushing++;
	while ((p->inflight || p->pending != NULL) && !p->closed) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L; /* re-check the deadline */
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->idle, &p->mtx, &ts);
		{
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((uint64_t)now.tv_sec * 1000u +
			        (uint64_t)now.tv_nsec / 1000000u >=
			    deadline_ms) {
				break;
			}
		}
	}
	done = !p->inflight && p->pending == NULL;
	p->flushing--;
	pthread_mutex_unlock(&p->mtx);
	return done;
}

int
tri_port_goodbye(tri_port *p, const tri_frame *f, uint64_t deadline_ms)
{
	int rv;

	pthread_mutex_lock(&p->mtx);
	if (p->closed || p->sealed) {
		pthread_mutex_unlock(&p->mtx);
		return TR_ECLOSED;
	}
	/* Sealed first: a frame sent from now on would not be covered by
	 * the goodbye; it fails instead (TR_ECLOSED). */
	p->sealed = true;
	p->flushing++;
	while ((p->inflight || p->pending != NULL) && !p->closed) {
		struct timespec ts;
		uint64_t now;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000u +
		    (uint64_t)ts.tv_nsec / 1000000u;
		if (now >= deadline_ms) {
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L; /* re-check the deadline */
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->idle, &p->mtx, &ts);
	}
	p->flushing--;
	if (p->closed || p->inflight || p->pending != NULL) {
		pthread_mutex_unlock(&p->mtx);
		return p->closed ? TR_ECLOSED : TR_ETIMEDOUT;
	}
	/* Nothing queued, nothing in flight: f leaves alone, at once. */
	if ((rv = nng_msg_alloc(&p->pending, 0)) != 0) {
		p->pending = NULL;
		pthread_mutex_unlock(&p->mtx);
		return tri_err_nng(rv);
	}
	{
		uint8_t hdr[TRI_FRAME_HDR];
		tri_frame_put_header(f, hdr);
		if ((rv = nng_msg_append(p->pending, hdr, sizeof(hdr))) != 0 ||
		    (f->body_len > 0 &&
		        (rv = nng_msg_append(
		             p->pending, f->body, f->body_len)) != 0)) {
			nng_msg_free(p->pending);
			p->pending = NULL;
			pthread_mutex_unlock(&p->mtx);
			return tri_err_nng(rv);
		}
	}
	p->pending_n = 1;
	port_kick_locked(p); /* unlocks */
	return TR_OK;
}

void
tri_port_resume(tri_port *p)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mtx);
	p->unconsumed = false;
	if (p->pending != NULL && !p->closed && !p->inflight) {
		port_kick_locked(p);
		return;
	}
	pthread_mutex_unlock(&p->mtx);
}

int
tri_port_open(tri_port **out, const char *url, bool paced)
{
	tri_port *p;
	int rv;

	if ((p = tri_calloc(1, sizeof(*p))) == NULL) {
		return TR_ENOMEM;
	}
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->paced = paced;
	if ((rv = nng_push0_open(&p->sock)) != 0) {
		goto fail_free;
	}
	if ((rv = nng_socket_set_int(p->sock, NNG_OPT_SENDBUF, PORT_SENDBUF)) !=
	        0 ||
	    (rv = nng_dial(p->sock, url, NULL, 0)) != 0 ||
	    (rv = nng_aio_alloc(&p->aio, port_send_cb, p)) != 0) {
		goto fail_close;
	}
	*out = p;
	return TR_OK;

fail_close:
	nng_close(p->sock);
fail_free:
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mtx);
	tri_free(p);
	return tri_err_nng(rv);
}

int
tri_port_send(tri_port *p, const tri_frame *f)
{
	uint8_t hdr[TRI_FRAME_HDR];
	size_t need;
	int rv;

	tri_frame_put_header(f, hdr);
	need = TRI_FRAME_HDR + f->body_len;

	pthread_mutex_lock(&p->mtx);
	if (p->closed || p->sealed) {
		pthread_mutex_unlock(&p->mtx);
		return TR_ECLOSED;
	}
	if (p->pending == NULL) {
		if ((rv = nng_msg_alloc(&p->pending, 0)) != 0) {
			p->pending = NULL;
			pthread_mutex_unlock(&p->mtx);
			return tri_err_nng(rv);
		}
	}
	/* Grow geometrically: nng grows a message to the exact size asked. */
	if (nng_msg_capacity(p->pending) < nng_msg_len(p->pending) + need) {
		size_t want = 2 * nng_msg_capacity(p->pending);
		if (want < nng_msg_len(p->pending) + need) {
			want = nng_msg_len(p->pending) + need;
		}
		if (want < 1024) {
			want = 1024;
		}
		if ((rv = nng_msg_reserve(p->pending, want)) != 0) {
			goto fail;
		}
	}
	if ((rv = nng_msg_append(p->pending, hdr, sizeof(hdr))) != 0) {
		goto fail;
	}
	if (f->body_len > 0 &&
	    (rv = nng_msg_append(p->pending, f->body, f->body_len)) != 0) {
		nng_msg_chop(p->pending, sizeof(hdr));
		goto fail;
	}
	p->pending_n++;
	if (!p->inflight && !p->unconsumed) {
		port_kick_locked(p);
		return TR_OK;
	}
	pthread_mutex_unlock(&p->mtx);
	return TR_OK;

fail:
	if (p->pending_n == 0) {
		nng_msg_free(p->pending);
		p->pending = NULL;
	}
	pthread_mutex_unlock(&p->mtx);
	return tri_err_nng(rv);
}

uint64_t
tri_port_close(tri_port *p)
{
	uint64_t lost;

	if (p == NULL) {
		return 0;
	}
	pthread_mutex_lock(&p->mtx);
	if (p->closed) {
		pthread_mutex_unlock(&p->mtx);
		return 0;
	}
	p->closed = true;
	while (p->kicking > 0) {
		pthread_cond_wait(&p->idle, &p->mtx);
	}
	pthread_mutex_unlock(&p->mtx);
	/* Waits for the callback; an aio that was in flight either finished
	 * (its frames arrived) or is canceled (counted as lost). */
	nng_aio_stop(p->aio);
	nng_close(p->sock);
	pthread_mutex_lock(&p->mtx);
	if (p->pending != NULL) {
		p->lost += p->pending_n;
		nng_msg_free(p->pending);
		p->pending = NULL;
	}
	lost = p->lost;
	pthread_mutex_unlock(&p->mtx);
	return lost;
}

void
tri_port_free(tri_port *p)
{
	if (p == NULL) {
		return;
	}
	(void)tri_port_close(p);
	nng_aio_free(p->aio);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mtx);
	tri_free(p);
}

int
tri_addr_inproc(char *buf, size_t len, tr_ref d)
{
	int n = snprintf(buf, len, "inproc://troupe/%08x/%u/%u/%u", d.node,
	    d.proc, d.slot, d.gen);
	return (n < 0 || (size_t)n >= len) ? TR_EINVAL : TR_OK;
}

int
tri_addr_ipc(char *buf, size_t len, tr_ref d, const char *sockdir)
{
	int n = snprintf(
	    buf, len, "ipc://%s/%u.%u.%u", sockdir, d.proc, d.slot, d.gen);
	return (n < 0 || (size_t)n >= len) ? TR_EINVAL : TR_OK;
}
