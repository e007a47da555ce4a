/*
 * watch.c -- the listener watch (watch.h, listener.h).
 *
 * Where nng 1.5.2 stops a listener (src/sp/transport/ipc/ipc.c and
 * src/core/listener.c of that version): a new connection's listener
 * side sends its 8-byte SP header first.  To a peer that has closed
 * already the send fails with EPIPE, which nng maps to NNG_ECLOSED;
 * ipc_pipe_neg_cb finishes the listener's pending accept (ep->user_aio)
 * with that error, and listener_accept_cb reads NNG_ECLOSED as "this
 * listener was closed" and starts no other accept.  The transport's own
 * accept loop goes on and completes the header exchange of later
 * connections, which then wait for an accept that never comes: their
 * dialers are connected, and what they send is never read.  nng 1.6
 * (PR #1519) passes NNG_ECONNSHUT instead.  (A peer that sends garbage
 * and stays gets NNG_EPROTO: the accept loop pauses 100 ms, no more.)
 *
 * No cheap sign of the fault reaches the application.  nng counts the
 * error (as "other" in the listener's statistics), but one listener's
 * statistics come only from a snapshot of all of nng's (nng_stats_get),
 * ~6 us per actor (25 ms with 4000 actors, measured here on 1.5.2).
 * What is cheap to see is an accepted connection, and who dialed it (a
 * pipe notification, NNG_OPT_IPC_PEER_PID): so a dialer of another
 * process confirms through the accept note that its connection was
 * accepted, and asks for a check when it was not; and a check is a
 * connection of our own that must be accepted.
 *
 * A listener that does not accept is not closed: its working
 * connections (accepted before the fault) go on.  Its path is unlinked
 * and a new listener takes it; the old one is closed once the last of
 * its connections is gone (which also closes the dead ones waiting in
 * it, so that their dialers notice and dial again).  The pipe
 * notifications count each listener's connections for that.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "alloc.h"
#include "listener.h"
#include "socket.h"

/* ------------------------------------------------------------------ */
/* Futexes and notes                                                   */

void
tri_futex_wait(_Atomic uint32_t *w, uint32_t val, int timeout_ms)
{
	struct timespec rel, *tp = NULL;

	if (timeout_ms >= 0) {
		rel.tv_sec = timeout_ms / 1000;
		rel.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tp = &rel;
	}
	/* Not FUTEX_PRIVATE: the word may be in a shared mapping. */
	syscall(SYS_futex, w, FUTEX_WAIT, val, tp, NULL, 0);
}

void
tri_futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int
left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

void
tri_note_reset(tri_accept_note *n)
{
	for (int i = 0; i < TRI_NOTE_RING; i++) {
		atomic_store(&n->pid[i], 0);
	}
	atomic_store(&n->check, 0);
}

uint32_t
tri_note_seq(tri_accept_note *n)
{
	return atomic_load(&n->seq);
}

/* Whether a connection of pid `me` was accepted after `since`. */
static bool
note_has(tri_accept_note *n, uint32_t since, int32_t me)
{
	uint32_t s = atomic_load(&n->seq);
	uint32_t d = s - since;

	/* More than the ring since: ours may have been written over, and
	 * then a check is asked for that was not needed; no harm. */
	for (uint32_t k = 1; k <= d && k <= TRI_NOTE_RING; k++) {
		if (atomic_load(&n->pid[(s - k) % TRI_NOTE_RING]) == me) {
			return true;
		}
	}
	return false;
}

bool
tri_note_wait_accepted(tri_accept_note *n, uint32_t since, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int32_t me = (int32_t)getpid();

	for (;;) {
		uint32_t s = atomic_load(&n->seq);
		if (note_has(n, since, me)) {
			return true;
		}
		if (left_ms(deadline) == 0) {
			return false;
		}
		tri_futex_wait(&n->seq, s, left_ms(deadline));
	}
}

void
tri_note_request_check(tri_accept_note *n, _Atomic uint32_t *wake)
{
	atomic_store(&n->check, 1);
	if (wake != NULL) {
		atomic_fetch_add(wake, 1);
		tri_futex_wake(wake);
	}
}

bool
tri_note_wait_checked(tri_accept_note *n, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (atomic_load(&n->check) != 0) {
		if (left_ms(deadline) == 0) {
			return false;
		}
		tri_futex_wait(&n->check, 1, left_ms(deadline));
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Watched listeners                                                   */

/* One listener of a watched address: the current one, or one replaced
 * but still holding working connections. */
typedef struct lrec {
	nng_listener l;
	int conns; /* its connections the socket took (ADD_PRE..REM_POST) */
	bool retired;
} lrec;

struct tri_watched {
	nng_socket sock;
	char *url;
	int peer; /* the protocol that dials the socket (NNG_OPT_PEER) */
	tri_accept_note *note;
	tri_accept_note own;
	bool periodic;

	pthread_mutex_t check_mtx; /* one check at a time */

	pthread_mutex_t mtx; /* what follows, to "registry" */
	pthread_cond_t cv;   /* self_accepts moved */
	uint32_t self_accepts;
	lrec *ls;
	size_t nls, cls;
	_Atomic bool reap; /* a retired listener's last connection went */

	/* registry, under W.mtx */
	int busy; /* the watch thread works on it */
	tri_watched *prev, *next;
};

static struct {
	pthread_mutex_t mtx;
	pthread_cond_t idle; /* an entry's busy went back to 0 */
	tri_watched *head;   /* checked when asked */
	tri_watched *phead;  /* also checked every period */
	int nperiodic;
	int users;
	bool stop;
	pthread_t thread;
	_Atomic uint32_t own_wake;
	_Atomic uint32_t *wake;
	_Atomic uint64_t repairs, checks, cpu_ns;
} W = {
    .mtx = PTHREAD_MUTEX_INITIALIZER,
    .idle = PTHREAD_COND_INITIALIZER,
};

static _Atomic uint32_t *
wake_word(void)
{
	_Atomic uint32_t *w = __atomic_load_n(&W.wake, __ATOMIC_ACQUIRE);
	return w != NULL ? w : &W.own_wake;
}

static void
poke_watch(void)
{
	_Atomic uint32_t *w = wake_word();
	atomic_fetch_add(w, 1);
	tri_futex_wake(w);
}

static lrec *
find_locked(tri_watched *w, nng_listener l)
{
	for (size_t i = 0; i < w->nls; i++) {
		if (nng_listener_id(w->ls[i].l) == nng_listener_id(l)) {
			return &w->ls[i];
		}
	}
	return NULL;
}

/* On an nng thread, for every connection the socket takes or drops. */
static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	tri_watched *w = arg;
	lrec *r;
	uint64_t pid = 0; /* nng gives it as a uint64 */
	bool accepted = false, poke = false;

	if (ev == NNG_PIPE_EV_ADD_POST &&
	    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid) != 0) {
		pid = 0;
	}
	pthread_mutex_lock(&w->mtx);
	if ((r = find_locked(w, nng_pipe_listener(p))) == NULL) {
		/* Another listener of the socket (inproc), or one closed. */
		pthread_mutex_unlock(&w->mtx);
		return;
	}
	switch (ev) {
	case NNG_PIPE_EV_ADD_PRE:
		r->conns++;
		break;
	case NNG_PIPE_EV_ADD_POST: {
		uint32_t s = atomic_load(&w->note->seq);
		atomic_store(&w->note->pid[s % TRI_NOTE_RING], (int32_t)pid);
		atomic_store(&w->note->seq, s + 1);
		accepted = true;
		if (pid == (uint64_t)getpid()) {
			w->self_accepts++;
			pthread_cond_broadcast(&w->cv);
		}
		break;
	}
	case NNG_PIPE_EV_REM_POST:
		if (--r->conns == 0 && r->retired) {
			atomic_store(&w->reap, true);
			poke = true;
		}
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&w->mtx);
	if (accepted) {
		tri_futex_wake(&w->note->seq);
	}
	if (poke) {
		poke_watch();
	}
}

/* A new listener at w->url, recorded before it starts, so that none of
 * its connections goes uncounted. */
static int
add_listener(tri_watched *w)
{
	nng_listener l;
	int rv;

	if ((rv = nng_listener_create(&l, w->sock, w->url)) != 0) {
		return rv;
	}
	pthread_mutex_lock(&w->mtx);
	if (w->nls == w->cls) {
		size_t ncap = w->cls ? 2 * w->cls : 2;
		lrec *v = tri_realloc(w->ls, ncap * sizeof(*v));
		if (v == NULL) {
			pthread_mutex_unlock(&w->mtx);
			nng_listener_close(l);
			return NNG_ENOMEM;
		}
		w->ls = v;
		w->cls = ncap;
	}
	w->ls[w->nls++] = (lrec){.l = l};
	pthread_mutex_unlock(&w->mtx);
	if ((rv = nng_listener_start(l, 0)) != 0) {
		pthread_mutex_lock(&w->mtx);
		w->nls--;
		pthread_mutex_unlock(&w->mtx);
		nng_listener_close(l);
	}
	return rv;
}

/*
 * Closes listener l, which the new listener replaced.  nng's ipc
 * listener unlinks its path as it closes -- the path that now names the
 * new listener's socket.  So the socket gets a second name first, and
 * takes its path back after (rename: atomic); a dialer in between (some
 * microseconds) is refused, and tries again (target.c, control.c).
 */
static void
close_retired(tri_watched *w, nng_listener l)
{
	char keep[600];
	bool kept = false;

	if (strncmp(w->url, "ipc://", 6) == 0 &&
	    (size_t)snprintf(keep, sizeof(keep), "%s.keep", w->url + 6) <
	        sizeof(keep)) {
		(void)unlink(keep);
		kept = link(w->url + 6, keep) == 0;
	}
	nng_listener_close(l);
	if (kept && rename(keep, w->url + 6) != 0) {
		(void)unlink(keep);
	}
}

/* Closes the retired listeners that hold no connection any more. */
static void
reap(tri_watched *w)
{
	nng_listener done[16];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&w->mtx);
		atomic_store(&w->reap, false);
		for (size_t i = 0; i < w->nls && n < 16;) {
			if (w->ls[i].retired && w->ls[i].conns == 0) {
				done[n++] = w->ls[i].l;
				w->ls[i] = w->ls[--w->nls];
			} else {
				i++;
			}
		}
		pthread_mutex_unlock(&w->mtx);
		for (size_t i = 0; i < n; i++) {
			close_retired(w, done[i]);
		}
	} while (n == 16);
}

int
tri_watch_listen(tri_watched **out, nng_socket s, const char *url,
    tri_accept_note *note, bool periodic)
{
	static const nng_pipe_ev evs[] = {
	    NNG_PIPE_EV_ADD_PRE, NNG_PIPE_EV_ADD_POST, NNG_PIPE_EV_REM_POST};
	pthread_condattr_t ca;
	tri_watched *w;
	size_t len = strlen(url) + 1;
	int rv;

	if ((w = tri_calloc(1, sizeof(*w))) == NULL ||
	    (w->url = tri_malloc(len)) == NULL) {
		tri_free(w);
		return NNG_ENOMEM;
	}
	memcpy(w->url, url, len);
	w->sock = s;
	w->note = note != NULL ? note : &w->own;
	w->periodic = periodic;
	pthread_mutex_init(&w->check_mtx, NULL);
	pthread_mutex_init(&w->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (strncmp(url, "ipc://", 6) != 0 ||
	    strlen(url + 6) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		rv = NNG_EADDRINVAL; /* only ipc listeners stop, and are checked
		                      */
		goto fail;
	}
	if ((rv = nng_socket_get_int(s, NNG_OPT_PEER, &w->peer)) != 0) {
		goto fail;
	}
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if ((rv = nng_pipe_notify(s, evs[i], pipe_cb, w)) != 0) {
			goto fail;
		}
	}
	if ((rv = add_listener(w)) != 0) {
		goto fail;
	}
	pthread_mutex_lock(&W.mtx);
	{
		tri_watched **head = periodic ? &W.phead : &W.head;
		w->next = *head;
		if (*head != NULL) {
			(*head)->prev = w;
		}
		*head = w;
	}
	W.nperiodic += periodic;
	pthread_mutex_unlock(&W.mtx);
	if (periodic) {
		poke_watch(); /* its period starts now */
	}
	*out = w;
	return 0;

fail:
	/* No connection came through our listener, so no callback holds w
	 * (the socket's other listeners' ones return at once): still, the
	 * caller closes the socket before anything else. */
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		(void)nng_pipe_notify(s, evs[i], NULL, NULL);
	}
	tri_watch_free(w);
	return rv;
}

void
tri_watch_forget(tri_watched *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&W.mtx);
	if (w->prev != NULL) {
		w->prev->next = w->next;
	} else if (W.head == w) {
		W.head = w->next;
	} else if (W.phead == w) {
		W.phead = w->next;
	}
	if (w->next != NULL) {
		w->next->prev = w->prev;
	}
	w->prev = w->next = NULL;
	W.nperiodic -= w->periodic;
	while (w->busy > 0) {
		pthread_cond_wait(&W.idle, &W.mtx);
	}
	pthread_mutex_unlock(&W.mtx);
}

void
tri_watch_free(tri_watched *w)
{
	if (w == NULL) {
		return;
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
	pthread_mutex_destroy(&w->check_mtx);
	tri_free(w->ls);
	tri_free(w->url);
	tri_free(w);
}

/* Moves w's address to a new listener; the old ones are retired. */
static int
relisten(tri_watched *w)
{
	size_t fresh;
	int rv;

	/* The path is taken from the old listener and given to a new one:
	 * new connections reach the new one, the old one's working
	 * connections go on. */
	if (strncmp(w->url, "ipc://", 6) == 0) {
		(void)unlink(w->url + 6);
	}
	if ((rv = add_listener(w)) != 0) {
		return rv;
	}
	pthread_mutex_lock(&w->mtx);
	fresh = w->nls - 1;
	for (size_t i = 0; i < fresh; i++) {
		w->ls[i].retired = true;
	}
	pthread_mutex_unlock(&w->mtx);
	reap(w);
	return 0;
}

/* Reads n bytes from fd by deadline; whether it did. */
static bool
read_by(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t k;
		if (poll(&pf, 1, left_ms(deadline)) <= 0) {
			return false;
		}
		if ((k = read(fd, buf + got, n - got)) <= 0) {
			if (k < 0 && errno == EINTR) {
				continue;
			}
			return false;
		}
		got += (size_t)k;
	}
	return true;
}

/*
 * One connection to w's path, made as a peer of the socket's protocol
 * would (the 8-byte SP header of the ipc transport), without an nng
 * socket: measured here, a check costs ~0.3 ms of CPU this way against
 * ~1.5 ms with nng_push0_open/nng_dial/nng_close.  Waits until the
 * socket accepts it (TR_OK, *accepted) or timeout_ms.  TR_ENOENT: nobody
 * listens at the path.  Other errors: it cannot tell.
 */
static int
probe(tri_watched *w, int timeout_ms, bool *accepted)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t hdr[8] = {
	    0, 'S', 'P', 0, (uint8_t)(w->peer >> 8), (uint8_t)w->peer, 0, 0};
	uint8_t theirs[8];
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	uint32_t seen;
	int fd, rv = TR_OK;

	*accepted = false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->url + 6);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return TR_ESYSTEM;
	}
	pthread_mutex_lock(&w->mtx);
	seen = w->self_accepts;
	pthread_mutex_unlock(&w->mtx);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rv = errno == ENOENT || errno == ECONNREFUSED ? TR_ENOENT :
		                                                TR_ESYSTEM;
		close(fd);
		return rv;
	}
	/* Ours, then theirs: the listener sends its header first, and a
	 * peer gone before that is the fault itself. */
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    !read_by(fd, theirs, sizeof(theirs), deadline) || theirs[0] != 0 ||
	    theirs[1] != 'S' || theirs[2] != 'P') {
		/* The transport itself does not answer (a process too busy
		 * to run nng's threads): not the fault a new listener
		 * mends. */
		close(fd);
		return TR_ETIMEDOUT;
	}
	pthread_mutex_lock(&w->mtx);
	while (w->self_accepts == seen && left_ms(deadline) > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left_ms(deadline) / 1000;
		ts.tv_nsec += (long)(left_ms(deadline) % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mtx, &ts);
	}
	*accepted = w->self_accepts != seen;
	pthread_mutex_unlock(&w->mtx);
	/* Closed once taken (or given up on): a connection closed before
	 * the socket read our header would pause its accept loop. */
	close(fd);
	return TR_OK;
}

int
tri_watch_check(tri_watched *w, int timeout_ms, bool *repaired)
{
	bool accepted;
	int rv;

	*repaired = false;
	pthread_mutex_lock(&w->check_mtx);
	atomic_fetch_add(&W.checks, 1);
	rv = probe(w, timeout_ms, &accepted);
	if (rv == TR_OK && accepted) {
		pthread_mutex_unlock(&w->check_mtx);
		return TR_OK;
	}
	/* Not taken; or nobody listens at the path any more (its file was
	 * removed): listening again is the cure for that too.  Anything
	 * else: we cannot tell. */
	if (rv != TR_OK && rv != TR_ENOENT) {
		pthread_mutex_unlock(&w->check_mtx);
		return rv;
	}
	if ((rv = relisten(w)) != 0) {
		pthread_mutex_unlock(&w->check_mtx);
		return tri_err_nng(rv);
	}
	atomic_fetch_add(&W.repairs, 1);
	atomic_fetch_add(&w->note->relistens, 1);
	fprintf(stderr,
	    "troupe: pid %d: %s had stopped taking connections (an nng "
	    "1.5.2 fault): listening again\n",
	    (int)getpid(), w->url);
	*repaired = true;
	pthread_mutex_unlock(&w->check_mtx);
	return TR_OK;
}

/* ------------------------------------------------------------------ */
/* The watch thread                                                    */

static void
thread_cpu(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) {
		atomic_store(&W.cpu_ns,
		    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	}
}

/* Adds w to the work (busy + 1); false if out of memory (the rest is
 * done next time). */
static bool
take(tri_watched *w, tri_watched ***work, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		tri_watched **v = tri_realloc(*work, ncap * sizeof(*v));
		if (v == NULL) {
			return false;
		}
		*work = v;
		*cap = ncap;
	}
	w->busy++;
	(*work)[(*n)++] = w;
	return true;
}

/*
 * Takes the entries that need work now.  Every period: the periodic
 * ones (a few); the others only when the wake word moved (a dialer
 * asked, a retired listener emptied) -- so that a period costs the same
 * whatever the number of mailboxes.
 */
static size_t
collect_locked(tri_watched ***work, size_t *cap, bool asked, bool due)
{
	size_t n = 0;

	for (tri_watched *w = W.phead; w != NULL; w = w->next) {
		if ((due ||
		        (asked &&
		            (atomic_load(&w->note->check) != 0 ||
		                atomic_load(&w->reap)))) &&
		    !take(w, work, &n, cap)) {
			return n;
		}
	}
	for (tri_watched *w = asked ? W.head : NULL; w != NULL; w = w->next) {
		if ((atomic_load(&w->note->check) != 0 ||
		        atomic_load(&w->reap)) &&
		    !take(w, work, &n, cap)) {
			return n;
		}
	}
	return n;
}

static void *
watch_main(void *arg)
{
	tri_watched **work = NULL;
	size_t cap = 0;
	uint32_t seen;
	uint64_t next_due;

	(void)arg;
	seen = atomic_load(wake_word()) - 1; /* a first look at everything */
	next_due = now_ms() + TRI_WATCH_PERIOD_MS;
	for (;;) {
		uint32_t v = atomic_load(wake_word());
		uint64_t now = now_ms();
		bool asked = v != seen, due = now >= next_due;
		size_t n;
		int wait;

		if (due) {
			next_due = now + TRI_WATCH_PERIOD_MS;
		}
		seen = v;
		pthread_mutex_lock(&W.mtx);
		if (W.stop) {
			pthread_mutex_unlock(&W.mtx);
			break;
		}
		n = collect_locked(&work, &cap, asked, due);
		pthread_mutex_unlock(&W.mtx);

		for (size_t i = 0; i < n; i++) {
			tri_watched *w = work[i];
			bool repaired;
			reap(w);
			bool asked_for = atomic_load(&w->note->check) != 0;
			if ((due && w->periodic) || asked_for) {
				(void)tri_watch_check(w,
				    asked_for ? TRI_WATCH_ASKED_MS :
				                TRI_WATCH_PROBE_MS,
				    &repaired);
				if (atomic_exchange(&w->note->check, 0) != 0) {
					tri_futex_wake(&w->note->check);
				}
			}
		}

		pthread_mutex_lock(&W.mtx);
		for (size_t i = 0; i < n; i++) {
			work[i]->busy--;
		}
		pthread_cond_broadcast(&W.idle);
		wait = W.nperiodic > 0 ? left_ms(next_due) : -1;
		pthread_mutex_unlock(&W.mtx);
		thread_cpu();
		if (atomic_load(wake_word()) == v && wait != 0) {
			tri_futex_wait(wake_word(), v, wait);
		}
	}
	tri_free(work);
	return NULL;
}

int
tri_watch_start(_Atomic uint32_t *wake)
{
	int rv = TR_OK;

	pthread_mutex_lock(&W.mtx);
	if (W.users++ == 0) {
		__atomic_store_n(&W.wake, wake, __ATOMIC_RELEASE);
		W.stop = false;
		if (pthread_create(&W.thread, NULL, watch_main, NULL) != 0) {
			W.users = 0;
			__atomic_store_n(&W.wake, NULL, __ATOMIC_RELEASE);
			rv = TR_ESYSTEM;
		}
	}
	pthread_mutex_unlock(&W.mtx);
	return rv;
}

void
tri_watch_stop(void)
{
	pthread_mutex_lock(&W.mtx);
	if (W.users == 0 || --W.users > 0) {
		pthread_mutex_unlock(&W.mtx);
		return;
	}
	W.stop = true;
	pthread_mutex_unlock(&W.mtx);
	poke_watch();
	pthread_join(W.thread, NULL);
	__atomic_store_n(&W.wake, NULL, __ATOMIC_RELEASE);
}

uint64_t
tri_watch_repairs(void)
{
	return atomic_load(&W.repairs);
}

uint64_t
tri_watch_checks(void)
{
	return atomic_load(&W.checks);
}

uint64_t
tri_watch_cpu_ns(void)
{
	return atomic_load(&W.cpu_ns);
}
