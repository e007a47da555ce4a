/*
 * behaviors_sched.c -- test behaviors for the scheduled placement; their
 * protocol is in behaviors_sched.h.  "sched.kit" uses nothing but the
 * public API and reports by message, so it can also run as a thread
 * actor or a fork member; the in-process records (starts, terminates)
 * are only read for actors of the test's own process.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <troupe.h>
#include <uv.h>

#include "behaviors.h"
#include "behaviors_sched.h"

/* ------------------------------------------------------------------ */
/* In-process records                                                  */

#define STARTED_MAX (1u << 18)

static _Atomic uint64_t inits;
static _Atomic uint64_t terminated;
static _Atomic uint64_t nstarted;
static tr_ref started[STARTED_MAX];
static pthread_mutex_t started_mtx = PTHREAD_MUTEX_INITIALIZER;

void
test_sched_init_reset(void)
{
	pthread_mutex_lock(&started_mtx);
	atomic_store(&inits, 0);
	atomic_store(&terminated, 0);
	atomic_store(&nstarted, 0);
	pthread_mutex_unlock(&started_mtx);
}

uint64_t
test_sched_inits(void)
{
	return atomic_load(&inits);
}

size_t
test_sched_started(tr_ref *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&started_mtx);
	n = (size_t)atomic_load(&nstarted);
	for (size_t i = 0; i < n && i < max && i < STARTED_MAX; i++) {
		out[i] = started[i];
	}
	pthread_mutex_unlock(&started_mtx);
	return n;
}

uint64_t
test_sched_terminated(void)
{
	return atomic_load(&terminated);
}

static void
record_started(tr_ref r)
{
	pthread_mutex_lock(&started_mtx);
	uint64_t i = atomic_load(&nstarted);
	if (i < STARTED_MAX) {
		started[i] = r;
	}
	atomic_store(&nstarted, i + 1);
	pthread_mutex_unlock(&started_mtx);
}

static uint64_t
thread_id(void)
{
	return (uint64_t)(uintptr_t)pthread_self();
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Busy for us microseconds without a troupe call. */
static void
spin_us(uint64_t us)
{
	uint64_t end = now_us() + us;
	while (now_us() < end) {
	}
}

/* A set of at most 8 thread ids; whether it grew. */
#define THREADS_MAX 8
static void
threads_add(uint64_t *set, uint32_t *n, uint64_t t)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (set[i] == t) {
			return;
		}
	}
	if (*n < THREADS_MAX) {
		set[(*n)++] = t;
	}
}

/* ------------------------------------------------------------------ */
/* sched.kit                                                           */

#define SENDERS_MAX 64

typedef struct kit {
	tr_ref self;
	tr_ref report;
	uint64_t init_thread;
	/* receiver bookkeeping */
	tr_ref senders[SENDERS_MAX];
	uint64_t next[SENDERS_MAX];
	uint32_t nsenders;
	uint64_t total, bad;
	tr_ref bad_from; /* the first out of order */
	uint64_t bad_want, bad_got;
	uint64_t threads[THREADS_MAX];
	uint32_t nthreads;
	int work_us;
	/* a blast under way */
	tr_ref to[SENDERS_MAX];
	uint32_t nto;
	int blast_n, blast_i, blast_sent, blast_rv;
	tr_ref blast_to;
	uint64_t bthreads[THREADS_MAX];
	uint32_t nbthreads;
} kit;

static int
kit_init(void *state, tr_msg *arg)
{
	kit *k = state;
	int mode = 0;
	uint64_t n;

	k->self = tr_self();
	k->report = TR_REF_NIL;
	k->init_thread = thread_id();
	if (arg != NULL &&
	    tr_msg_unpackf(arg, "ri", &k->report, &mode) != TR_OK) {
		return TR_EINVAL;
	}
	if (mode == TS_INIT_CALL_REPORT) {
		tr_msg *rep = NULL;
		int rv =
		    tr_callf(k->report, TS_PING, 3000, &rep, "q", (int64_t)7);
		tr_msg_free(rep);
		if (rv != TR_OK) {
			return rv;
		}
	}
	n = atomic_fetch_add(&inits, 1) + 1;
	if (mode == TS_INIT_IGNORE ||
	    (mode == TS_INIT_EVEN_IGNORE && n % 2 == 0)) {
		return TR_IGNORE;
	}
	if (mode > 0 && n == (uint64_t)mode) {
		return TS_INIT_CODE;
	}
	record_started(k->self);
	return 0;
}

static void
kit_terminate(void *state, tr_reason why)
{
	kit *k = state;

	atomic_fetch_add(&terminated, 1);
	if (!tr_ref_is_nil(k->report)) {
		(void)tr_sendf(k->report, TS_TERMINATED, "ii", (int)why.kind,
		    (int)why.code);
	}
}

/* TS_CHAIN: calls the first hop with the rest. */
static int
kit_chain(tr_msg *msg)
{
	msgpack_object arr;
	tr_ref next;
	int64_t tmo;
	tr_msg *req = NULL, *rep = NULL;
	msgpack_packer *pk;
	int rv, inner = TR_OK, depth = 0;
	bool sent = false;

	if (tr_msg_body(msg, &arr) != TR_OK ||
	    arr.type != MSGPACK_OBJECT_ARRAY) {
		return tr_replyf(
		    tr_msg_from(msg), TS_CHAINED, "ii", TR_EPROTO, 0);
	}
	if (arr.via.array.size == 0) {
		return tr_replyf(tr_msg_from(msg), TS_CHAINED, "ii", TR_OK, 0);
	}
	{
		msgpack_object *hop = &arr.via.array.ptr[0];
		if (hop->type != MSGPACK_OBJECT_ARRAY ||
		    hop->via.array.size != 2 ||
		    tr_unpack_ref(&hop->via.array.ptr[0], &next) != TR_OK ||
		    !test_obj_int(&hop->via.array.ptr[1], &tmo)) {
			return tr_replyf(
			    tr_msg_from(msg), TS_CHAINED, "ii", TR_EPROTO, 0);
		}
	}
	if ((rv = tr_msg_new(&req, TS_CHAIN)) != TR_OK) {
		return rv;
	}
	pk = tr_msg_packer(req);
	msgpack_pack_array(pk, arr.via.array.size - 1);
	for (uint32_t i = 1; i < arr.via.array.size; i++) {
		msgpack_pack_object(pk, arr.via.array.ptr[i]);
	}
	rv = tr_call(next, req, (int)tmo, &rep, &sent);
	if (rv != TR_OK) {
		if (!sent) {
			tr_msg_free(req); /* never sent: still ours */
		}
		return tr_replyf(tr_msg_from(msg), TS_CHAINED, "ii", rv, 0);
	}
	if (tr_msg_unpackf(rep, "ii", &inner, &depth) != TR_OK) {
		inner = TR_EPROTO;
	}
	tr_msg_free(rep);
	return tr_replyf(tr_msg_from(msg), TS_CHAINED, "ii", inner, depth + 1);
}

static void
pattern(uint8_t *p, size_t n, int seed)
{
	uint32_t x = (uint32_t)seed * 2654435761u + 1u;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static int
kit_big(tr_msg *msg)
{
	tr_ref target;
	int size = 0, seed = 0, rv, intact = 0;
	uint8_t *p;
	tr_msg *rep = NULL;

	if (tr_msg_unpackf(msg, "rii", &target, &size, &seed) != TR_OK ||
	    size < 0) {
		return tr_replyf(
		    tr_msg_from(msg), TS_BIGGED, "ii", TR_EPROTO, 0);
	}
	if ((p = malloc((size_t)size + 1)) == NULL) {
		return TR_ENOMEM;
	}
	pattern(p, (size_t)size, seed);
	rv = tr_callf(target, TS_ECHO, 10000, &rep, "b", p, (size_t)size);
	if (rv == TR_OK) {
		const void *b = NULL;
		size_t n = 0;
		intact = tr_msg_tag(rep) == TS_ECHO &&
		    tr_msg_unpackf(rep, "b", &b, &n) == TR_OK &&
		    n == (size_t)size && memcmp(b, p, n) == 0;
		tr_msg_free(rep);
	}
	free(p);
	return tr_replyf(tr_msg_from(msg), TS_BIGGED, "ii", rv, intact);
}

static int
kit_echo(tr_msg *msg)
{
	tr_msg *rep = NULL;
	int rv;

	if ((rv = tr_msg_new(&rep, tr_msg_tag(msg))) != TR_OK) {
		return rv;
	}
	if (tr_msg_size(msg) > 0) {
		msgpack_object o;
		if (tr_msg_body(msg, &o) != TR_OK ||
		    msgpack_pack_object(tr_msg_packer(rep), o) != 0) {
			tr_msg_free(rep);
			return TR_EPROTO;
		}
	}
	if ((rv = tr_reply(tr_msg_from(msg), rep)) != TR_OK) {
		tr_msg_free(rep);
	}
	return rv;
}

static int
kit_spawn(kit *k, tr_msg *msg)
{
	const char *beh = NULL;
	int place = 0, mode = 0, rv;
	tr_spec spec;
	tr_msg *arg = NULL;
	tr_ref r = TR_REF_NIL, report;
	uint64_t t0 = now_ms();

	(void)k;
	if (tr_msg_unpackf(msg, "siri", &beh, &place, &report, &mode) !=
	    TR_OK) {
		return tr_replyf(tr_msg_from(msg), TS_SPAWNED, "irQq",
		    TR_EPROTO, TR_REF_NIL, thread_id(), (int64_t)0);
	}
	if ((rv = tr_msg_newf(&arg, TS_MARK, "ri", report, mode)) != TR_OK) {
		return rv;
	}
	memset(&spec, 0, sizeof(spec));
	spec.behavior = beh;
	spec.placement = (tr_placement)place;
	spec.init_arg = arg;
	rv = tr_spawn(&spec, &r, NULL);
	tr_msg_free(arg);
	return tr_replyf(tr_msg_from(msg), TS_SPAWNED, "irQq", rv, r,
	    thread_id(), (int64_t)(now_ms() - t0));
}

static int
kit_spawn_many(tr_msg *msg)
{
	int n = 0, mode = 0, rv, live = 0;
	tr_spec spec;
	tr_msg *arg = NULL;
	tr_ref *refs;

	if (tr_msg_unpackf(msg, "ii", &n, &mode) != TR_OK || n <= 0) {
		return tr_replyf(
		    tr_msg_from(msg), TS_SPAWNED_MANY, "ii", TR_EPROTO, 0);
	}
	if ((refs = calloc((size_t)n, sizeof(*refs))) == NULL) {
		return TR_ENOMEM;
	}
	if ((rv = tr_msg_newf(&arg, TS_MARK, "ri", TR_REF_NIL, mode)) !=
	    TR_OK) {
		free(refs);
		return rv;
	}
	memset(&spec, 0, sizeof(spec));
	spec.behavior = TS_KIT;
	spec.placement = TR_PLACE_SCHEDULED;
	spec.init_arg = arg;
	rv = tr_spawn_many(&spec, (uint32_t)n, refs, NULL);
	tr_msg_free(arg);
	for (int i = 0; i < n; i++) {
		live += !tr_ref_is_nil(refs[i]);
	}
	free(refs);
	return tr_replyf(tr_msg_from(msg), TS_SPAWNED_MANY, "ii", rv, live);
}

/* TS_WAIT: one of the three ways to wait inside a callback. */
static int
do_wait(tr_msg *msg, int *rvp, uint64_t *elapsed)
{
	int kind = 0, ms = 0, rv;
	tr_ref target;
	uint64_t t0;

	if (tr_msg_unpackf(msg, "iri", &kind, &target, &ms) != TR_OK) {
		return TR_EPROTO;
	}
	(void)tr_sendf(tr_msg_sender(msg), TS_WAITING, "");
	t0 = now_ms();
	switch (kind) {
	case TS_WAIT_CALL: {
		tr_msg *rep = NULL;
		rv = tr_callf(target, TS_ECHO, ms, &rep, "");
		tr_msg_free(rep);
		break;
	}
	case TS_WAIT_RECV: {
		tr_msg *m = NULL;
		rv = tr_recv(&m, ms);
		tr_msg_free(m);
		break;
	}
	case TS_WAIT_POLL: {
		tr_msg *m = NULL;
		do {
			rv = tr_recv(&m, TR_NOWAIT);
		} while (rv == TR_ETIMEDOUT && now_ms() - t0 < (uint64_t)ms);
		tr_msg_free(m);
		break;
	}
	default:
		rv = tr_sleep(ms);
		break;
	}
	*rvp = rv;
	*elapsed = now_ms() - t0;
	return TR_OK;
}

static int
kit_seq(kit *k, tr_msg *msg)
{
	tr_ref from = tr_msg_sender(msg);
	uint64_t v = 0;
	uint32_t i;

	threads_add(k->threads, &k->nthreads, thread_id());
	if (k->work_us > 0) {
		spin_us((uint64_t)k->work_us);
	}
	if (tr_msg_unpackf(msg, "Q", &v) != TR_OK) {
		k->bad++;
		return 0;
	}
	k->total++;
	for (i = 0; i < k->nsenders; i++) {
		if (tr_ref_equal(k->senders[i], from)) {
			break;
		}
	}
	if (i == k->nsenders) {
		if (k->nsenders == SENDERS_MAX) {
			k->bad++;
			return 0;
		}
		k->senders[k->nsenders] = from;
		k->next[k->nsenders++] = 0;
	}
	if (v != k->next[i]) {
		if (k->bad++ == 0) {
			k->bad_from = from;
			k->bad_want = k->next[i];
			k->bad_got = v;
		}
	}
	k->next[i] = v + 1;
	return 0;
}

static int
kit_send_n(tr_msg *msg)
{
	tr_ref to;
	int n = 0, tmo = 0, sent = 0, fulls = 0, rv = TR_OK;

	if (tr_msg_unpackf(msg, "rii", &to, &n, &tmo) != TR_OK) {
		return TR_EPROTO;
	}
	for (; sent < n; sent++) {
		tr_msg *m = NULL;
		if ((rv = tr_msg_newf(&m, TS_SEQ, "Q", (uint64_t)sent)) !=
		    TR_OK) {
			break;
		}
		rv = tr_send_timed(to, m, TR_NOWAIT);
		if (rv == TR_EFULL) {
			fulls++;
			rv = tr_send_timed(to, m, tmo);
		}
		if (rv != TR_OK) {
			tr_msg_free(m); /* still ours: the send failed */
			break;
		}
	}
	return tr_sendf(tr_msg_sender(msg), TS_SENT, "iii", sent, rv, fulls);
}

/* TS_BLAST: one round per callback, then a message to itself for the
 * next, so that between rounds it is a runnable actor like any other
 * (one its scheduler may hand to another). */
static int
kit_blast(kit *k, tr_msg *msg)
{
	int n = 0;
	msgpack_object arr;

	if (tr_msg_unpackf(msg, "im", &n, &arr) != TR_OK ||
	    arr.type != MSGPACK_OBJECT_ARRAY ||
	    arr.via.array.size > SENDERS_MAX) {
		return TR_EPROTO;
	}
	k->nto = 0;
	for (uint32_t i = 0; i < arr.via.array.size; i++) {
		if (tr_unpack_ref(&arr.via.array.ptr[i], &k->to[k->nto++]) !=
		    TR_OK) {
			return TR_EPROTO;
		}
	}
	k->blast_n = n;
	k->blast_i = 0;
	k->blast_sent = 0;
	k->blast_rv = TR_OK;
	k->blast_to = tr_msg_sender(msg);
	k->nbthreads = 0;
	return tr_sendf(k->self, TS_BLAST_NEXT, "");
}

static int
kit_blast_next(kit *k)
{
	threads_add(k->bthreads, &k->nbthreads, thread_id());
	for (uint32_t j = 0; j < k->nto && k->blast_rv == TR_OK; j++) {
		k->blast_rv =
		    tr_sendf(k->to[j], TS_SEQ, "Q", (uint64_t)k->blast_i);
		k->blast_sent += k->blast_rv == TR_OK;
	}
	k->blast_i++;
	if (k->blast_rv == TR_OK && k->blast_i < k->blast_n) {
		return tr_sendf(k->self, TS_BLAST_NEXT, "");
	}
	return tr_sendf(k->blast_to, TS_BLASTED, "iii", k->blast_sent,
	    k->blast_rv, (int)k->nbthreads);
}

static int
kit_handle(void *state, tr_msg *msg)
{
	kit *k = state;
	int64_t q = 0;
	int i = 0, rv;
	bool b = false;
	tr_ref r;

	switch (tr_msg_tag(msg)) {
	case TS_PING:
		if (tr_msg_unpackf(msg, "q", &q) != TR_OK) {
			return TR_EPROTO;
		}
		if (tr_msg_is_call(msg)) {
			return tr_replyf(tr_msg_from(msg), TS_PONG, "q", q);
		}
		return tr_sendf(tr_msg_sender(msg), TS_PONG, "q", q);
	case TS_WHERE:
		return tr_replyf(tr_msg_from(msg), TS_WHERE, "QQ",
		    k->init_thread, thread_id());
	case TS_SPAWN:
		return kit_spawn(k, msg);
	case TS_CHAIN:
		return kit_chain(msg);
	case TS_ECHO:
		return kit_echo(msg);
	case TS_BIG:
		return kit_big(msg);
	case TS_LINK:
		if (tr_msg_unpackf(msg, "r", &r) != TR_OK) {
			return TR_EPROTO;
		}
		return tr_replyf(tr_msg_from(msg), TS_RESULT, "i", tr_link(r));
	case TS_TRAP:
		if (tr_msg_unpackf(msg, "?", &b) != TR_OK) {
			return TR_EPROTO;
		}
		return tr_replyf(
		    tr_msg_from(msg), TS_RESULT, "i", tr_trap_exits(b, NULL));
	case TS_REPORT:
		return tr_replyf(tr_msg_from(msg), TS_REPORT, "QQQQ", k->total,
		    k->bad, (uint64_t)k->nsenders, (uint64_t)k->nthreads);
	case TS_FIRST_BAD:
		return tr_replyf(tr_msg_from(msg), TS_FIRST_BAD, "rQQ",
		    k->bad_from, k->bad_want, k->bad_got);
	case TS_WORK:
		if (tr_msg_unpackf(msg, "i", &k->work_us) != TR_OK) {
			return TR_EPROTO;
		}
		return tr_replyf(tr_msg_from(msg), TS_RESULT, "i", 0);
	case TS_SPAWN_MANY:
		return kit_spawn_many(msg);
	case TS_WAIT: {
		uint64_t elapsed = 0;
		if ((rv = do_wait(msg, &i, &elapsed)) != TR_OK) {
			return rv;
		}
		return tr_sendf(
		    tr_msg_sender(msg), TS_WAITED, "iq", i, (int64_t)elapsed);
	}
	case TS_FAIL:
		if (tr_msg_unpackf(msg, "i", &i) != TR_OK) {
			return TR_EPROTO;
		}
		return i;
	case TS_SPIN: {
		uint64_t end;
		if (tr_msg_unpackf(msg, "i", &i) != TR_OK) {
			return TR_EPROTO;
		}
		(void)tr_sendf(tr_msg_sender(msg), TS_SPINNING, "");
		end = now_ms() + (uint64_t)i;
		while (now_ms() < end) {
		}
		return tr_sendf(tr_msg_sender(msg), TS_SPUN, "");
	}
	case TS_FLOOD:
	case TS_FLOOD_AGAIN:
		/* Two for one, so that its mailbox fills and stays full; a
		 * full mailbox of one's own says TR_EFULL at once. */
		(void)tr_sendf(k->self, TS_FLOOD_AGAIN, "");
		(void)tr_sendf(k->self, TS_FLOOD_AGAIN, "");
		return 0;
	case TS_SEQ:
		return kit_seq(k, msg);
	case TS_HOLD: {
		tr_msg *rep = NULL;
		rv = tr_callf(tr_msg_sender(msg), TS_HOLDING, 20000, &rep, "");
		tr_msg_free(rep);
		return tr_sendf(tr_msg_sender(msg), TS_HELD, "i", rv);
	}
	case TS_SEND_N:
		return kit_send_n(msg);
	case TS_BLAST:
		return kit_blast(k, msg);
	case TS_BLAST_NEXT:
		return kit_blast_next(k);
	case TR_TAG_EXIT: {
		tr_reason why;
		if (tr_msg_reason(msg, &r, &why, NULL) != TR_OK) {
			return TR_EPROTO;
		}
		if (!tr_ref_is_nil(k->report)) {
			return tr_sendf(k->report, TS_GOT_EXIT, "rii", r,
			    (int)why.kind, (int)why.code);
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* sched.loop                                                          */

typedef struct loopy {
	tr_ref self;
	uv_timer_t timer;
	uv_pipe_t pipe;
	bool timer_on, pipe_on;
	tr_ref pipe_to; /* who gets what is read */
	char buf[4096];
	/* Flags for overlap checks: atomics, so that a callback of the
	 * actor running on another thread at the same time would show. */
	_Atomic int in_handle;
	_Atomic int in_uv;
	int64_t fires, bad_self, overlap, uv_in_handle;
	/* a pending TS_LOOP_AWAIT */
	tr_from await;
	int64_t await_at;
} loopy;

/* A handle callback begins: it must be the actor, and alone. */
static void
uv_enter(loopy *l)
{
	if (!tr_ref_equal(tr_self(), l->self)) {
		l->bad_self++;
	}
	if (atomic_load(&l->in_handle) != 0) {
		l->uv_in_handle++;
	}
	if (atomic_fetch_add(&l->in_uv, 1) != 0) {
		l->overlap++;
	}
}

static void
uv_leave(loopy *l)
{
	atomic_fetch_sub(&l->in_uv, 1);
}

static int
loop_stats_reply(loopy *l, tr_from to)
{
	return tr_replyf(to, TS_LOOP_STATS, "qqqq", l->fires, l->bad_self,
	    l->overlap, l->uv_in_handle);
}

static void
on_timer(uv_timer_t *t)
{
	loopy *l = t->data;

	uv_enter(l);
	l->fires++;
	if (l->await.corr != 0 && l->fires >= l->await_at) {
		tr_from to = l->await;
		l->await.corr = 0;
		(void)loop_stats_reply(l, to);
	}
	uv_leave(l);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	loopy *l = h->data;

	(void)hint;
	buf->base = l->buf;
	buf->len = sizeof(l->buf);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	loopy *l = s->data;

	uv_enter(l);
	if (n > 0) {
		uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
		(void)uv_try_write(s, &b, 1);
		(void)tr_sendf(
		    l->pipe_to, TS_LOOP_READ, "b", buf->base, (size_t)n);
	} else if (n < 0) {
		uv_read_stop(s);
		(void)tr_sendf(l->pipe_to, TS_LOOP_EOF, "");
	}
	uv_leave(l);
}

static int
loop_init(void *state, tr_msg *arg)
{
	loopy *l = state;

	(void)arg;
	l->self = tr_self();
	return 0;
}

static int
loop_handle_in(loopy *l, tr_msg *msg)
{
	uv_loop_t *loop = (uv_loop_t *)tr_loop();
	int i = 0, rv;

	switch (tr_msg_tag(msg)) {
	case TS_LOOP_TIMER:
		if (tr_msg_unpackf(msg, "i", &i) != TR_OK || loop == NULL) {
			return TR_EPROTO;
		}
		rv = 0;
		if (!l->timer_on) {
			rv = uv_timer_init(loop, &l->timer);
			l->timer.data = l;
			l->timer_on = rv == 0;
		}
		if (rv == 0) {
			rv = uv_timer_start(
			    &l->timer, on_timer, (uint64_t)i, (uint64_t)i);
		}
		return tr_replyf(tr_msg_from(msg), TS_RESULT, "i", rv);
	case TS_LOOP_PIPE:
		if (tr_msg_unpackf(msg, "i", &i) != TR_OK || loop == NULL ||
		    l->pipe_on) {
			return TR_EPROTO;
		}
		if ((rv = uv_pipe_init(loop, &l->pipe, 0)) == 0) {
			l->pipe_on = true;
			l->pipe.data = l;
			if ((rv = uv_pipe_open(&l->pipe, i)) == 0) {
				l->pipe_to = tr_msg_sender(msg);
				rv = uv_read_start(
				    (uv_stream_t *)&l->pipe, on_alloc, on_read);
			}
		}
		return tr_replyf(tr_msg_from(msg), TS_RESULT, "i", rv);
	case TS_LOOP_AWAIT:
		if (tr_msg_unpackf(msg, "i", &i) != TR_OK) {
			return TR_EPROTO;
		}
		l->await = tr_msg_from(msg);
		l->await_at = l->fires + i;
		return 0;
	case TS_LOOP_STATS:
		return loop_stats_reply(l, tr_msg_from(msg));
	case TS_WAIT: {
		uint64_t elapsed = 0;
		int64_t f0 = l->fires;
		if ((rv = do_wait(msg, &i, &elapsed)) != TR_OK) {
			return rv;
		}
		return tr_sendf(tr_msg_sender(msg), TS_WAITED, "iqq", i,
		    (int64_t)elapsed, l->fires - f0);
	}
	default:
		return 0;
	}
}

static int
loop_handle(void *state, tr_msg *msg)
{
	loopy *l = state;
	int rv;

	if (!tr_ref_equal(tr_self(), l->self)) {
		l->bad_self++;
	}
	if (atomic_load(&l->in_uv) != 0) {
		l->overlap++;
	}
	atomic_fetch_add(&l->in_handle, 1);
	rv = loop_handle_in(l, msg);
	atomic_fetch_sub(&l->in_handle, 1);
	return rv;
}

void
test_behaviors_sched_register(void)
{
	static const tr_behavior k = {
	    TS_KIT, sizeof(kit), kit_init, kit_handle, kit_terminate};
	static const tr_behavior l = {
	    TS_LOOP, sizeof(loopy), loop_init, loop_handle, NULL};

	(void)tr_behavior_register(&k);
	(void)tr_behavior_register(&l);
}
