/*
 * msg.c -- messages: a tag, a msgpack body, a sender.
 *
 * A message's body lives in an nng message (transport/nmsg.h) from
 * tr_msg_new() to its receiver.  Bodies are written by msgpack-c's own
 * packer, through a write callback that appends to that nng message,
 * and read by msgpack-c's unpacker into a zone that lives as long as
 * the message.
 *
 * Each thread keeps a few freed messages, nng message and zone
 * included, for its next ones: a scheduler passing messages between its
 * actors then allocates nothing per message.  Fibers of one thread
 * share its cache; nothing preempts them, so no lock is needed.
 */
#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "buffer.h"
#include "ctx.h"
#include "msg.h"
#include "nmsg.h"

/* Messages a thread keeps for reuse, and the largest body kept. */
#define CACHE_MAX 64
#define CACHE_BODY_MAX 4096

typedef struct msg_cache {
	tr_msg *head;
	unsigned n;
} msg_cache;

static _Thread_local msg_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void msg_destroy(tr_msg *m);

/* A thread's cache goes with it. */
static void
cache_drop(void *arg)
{
	(void)arg;
	tri_msg_cache_flush();
}

static void
cache_key_make(void)
{
	(void)pthread_key_create(&cache_key, cache_drop);
}

void
tri_msg_cache_flush(void)
{
	while (cache.head != NULL) {
		tr_msg *m = cache.head;
		cache.head = m->next;
		msg_destroy(m);
	}
	cache.n = 0;
}

static int
msg_write(void *data, const char *buf, size_t len)
{
	tr_msg *m = data;
	size_t have = tri_nmsg_len(m->body);

	if (len > TR_MSG_MAX || have > TR_MSG_MAX - len) {
		return -1;
	}
	if (tri_nmsg_append(m->body, buf, len) != 0) {
		return -1;
	}
	m->parsed = false;
	return 0;
}

static tr_msg *
msg_alloc(size_t reserve)
{
	tr_msg *m = cache.head;

	if (m != NULL && reserve <= CACHE_BODY_MAX) {
		cache.head = m->next;
		cache.n--;
		m->next = NULL;
		return m;
	}
	if ((m = tri_malloc(sizeof(*m))) == NULL) {
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	if ((m->body = tri_nmsg_alloc(reserve < 64 ? 64 : reserve)) == NULL) {
		tri_free(m);
		return NULL;
	}
	msgpack_packer_init(&m->pk, m, msg_write);
	return m;
}

static void
msg_destroy(tr_msg *m)
{
	if (m->zone != NULL) {
		msgpack_zone_free(m->zone);
	}
	tri_nmsg_free(m->body);
	tri_free(m);
}

int
tr_msg_new(tr_msg **out, uint32_t tag)
{
	tr_msg *m;

	if (out == NULL || tag >= TR_TAG_SYSTEM) {
		return TR_EINVAL;
	}
	if ((m = msg_alloc(0)) == NULL) {
		return TR_ENOMEM;
	}
	m->tag = tag;
	*out = m;
	return TR_OK;
}

void
tr_msg_free(tr_msg *m)
{
	msgpack_zone *z;
	tri_nmsg *body;

	if (m == NULL) {
		return;
	}
	if (m->bufs > 0) {
		tri_buf_body_release(
		    tri_nmsg_body(m->body), tri_nmsg_len(m->body), true);
		m->bufs = 0;
	}
	if (cache.n >= CACHE_MAX || tri_nmsg_len(m->body) > CACHE_BODY_MAX) {
		msg_destroy(m);
		return;
	}
	if (cache.n == 0) {
		/* First use of this thread's cache: have it freed with the
		 * thread. */
		(void)pthread_once(&cache_once, cache_key_make);
		(void)pthread_setspecific(cache_key, &cache);
	}
	/* Back to a new message's state, keeping its body's room and its
	 * zone's first chunk. */
	z = m->zone;
	body = m->body;
	if (z != NULL) {
		msgpack_zone_clear(z);
	}
	tri_nmsg_clear(body);
	memset(m, 0, sizeof(*m));
	m->zone = z;
	m->body = body;
	msgpack_packer_init(&m->pk, m, msg_write);
	m->next = cache.head;
	cache.head = m;
	cache.n++;
}

int
tr_msg_dup(tr_msg **out, const tr_msg *src)
{
	tr_msg *m;
	size_t len;

	if (out == NULL || src == NULL) {
		return TR_EINVAL;
	}
	len = tri_nmsg_len(src->body);
	if ((m = msg_alloc(len)) == NULL) {
		return TR_ENOMEM;
	}
	m->tag = src->tag;
	m->kind = src->kind;
	m->sender = src->sender;
	m->corr = src->corr;
	m->mon = src->mon;
	m->reason = src->reason;
	if (len > 0 &&
	    tri_nmsg_append(m->body, tri_nmsg_body(src->body), len) != 0) {
		tr_msg_free(m);
		return TR_ENOMEM;
	}
	if (src->bufs > 0) {
		/* The copy holds its buffers too. */
		int rv = tri_buf_body_hold(tri_nmsg_body(m->body), len, true);
		if (rv != TR_OK) {
			tr_msg_free(m);
			return rv;
		}
		m->bufs = src->bufs;
	}
	*out = m;
	return TR_OK;
}

tr_msg *
tri_msg_from_frame(const tri_frame *f)
{
	tr_msg *m = msg_alloc(f->body_len);

	if (m == NULL) {
		tri_buf_frame_drop(f); /* the frame is lost: its holds too */
		return NULL;
	}
	m->tag = f->tag;
	m->kind = f->kind;
	m->sender = f->sender;
	m->corr = f->corr;
	if (f->body_len > 0 &&
	    tri_nmsg_append(m->body, f->body, f->body_len) != 0) {
		tr_msg_free(m);
		tri_buf_frame_drop(f);
		return NULL;
	}
	if ((f->flags & TRI_F_BUFS) != 0) {
		/* The holds the frame carried for its sender are ours now. */
		m->bufs = tri_buf_body_adopt(
		    tri_nmsg_body(m->body), tri_nmsg_len(m->body));
	}
	return m;
}

const uint8_t *
tri_msg_bytes(const tr_msg *m)
{
	return tri_nmsg_body(m->body);
}

size_t
tri_msg_len(const tr_msg *m)
{
	return tri_nmsg_len(m->body);
}

tr_msg *
tri_msg_of_packer(msgpack_packer *pk)
{
	return pk->callback == msg_write ? pk->data : NULL;
}

msgpack_packer *
tr_msg_packer(tr_msg *m)
{
	return m == NULL ? NULL : &m->pk;
}

int
tr_msg_body(tr_msg *m, msgpack_object *out)
{
	size_t off = 0;

	const uint8_t *data;
	size_t len;

	if (m == NULL || out == NULL) {
		return TR_EINVAL;
	}
	data = tri_msg_bytes(m);
	len = tri_msg_len(m);
	if (len == 0) {
		out->type = MSGPACK_OBJECT_NIL;
		return TR_OK;
	}
	if (!m->parsed) {
		/* The walk rejects lying lengths before msgpack-c allocates
		 * for them. */
		if (tri_body_check(data, len) != TR_OK) {
			return TR_EPROTO;
		}
		if (m->zone == NULL) {
			if ((m->zone = msgpack_zone_new(256)) == NULL) {
				return TR_ENOMEM;
			}
		} else {
			msgpack_zone_clear(m->zone);
		}
		switch (msgpack_unpack(
		    (const char *)data, len, &off, m->zone, &m->obj)) {
		case MSGPACK_UNPACK_SUCCESS:
			break;
		case MSGPACK_UNPACK_NOMEM_ERROR:
			return TR_ENOMEM;
		default:
			return TR_EPROTO;
		}
		m->parsed = true;
	}
	*out = m->obj;
	return TR_OK;
}

const void *
tr_msg_data(const tr_msg *m)
{
	return m == NULL ? NULL : tri_msg_bytes(m);
}

size_t
tr_msg_size(const tr_msg *m)
{
	return m == NULL ? 0 : tri_msg_len(m);
}

uint32_t
tr_msg_tag(const tr_msg *m)
{
	return m == NULL ? 0 : m->tag;
}

tr_ref
tr_msg_sender(const tr_msg *m)
{
	return m == NULL ? TR_REF_NIL : m->sender;
}

tr_from
tr_msg_from(const tr_msg *m)
{
	tr_from f = {TR_REF_NIL, 0};

	if (m != NULL && m->kind == TRI_K_CALL) {
		f.to = m->sender;
		f.corr = m->corr;
	}
	return f;
}

bool
tr_msg_is_call(const tr_msg *m)
{
	return m != NULL && m->kind == TRI_K_CALL;
}

/* ------------------------------------------------------------------ */
/* Exit notices                                                        */

size_t
tri_reason_body(uint8_t *buf, size_t len, tr_reason r, uint64_t mon)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n;

	/* A tiny fixed-size body: pack into a local sbuffer, copy out. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int(&pk, (int)r.kind);
	msgpack_pack_int32(&pk, r.code);
	msgpack_pack_uint64(&pk, mon);
	n = sb.size <= len ? sb.size : 0;
	if (n > 0) {
		memcpy(buf, sb.data, n);
	}
	msgpack_sbuffer_destroy(&sb);
	return n;
}

int
tri_reason_parse(const uint8_t *body, size_t len, tr_reason *r, uint64_t *mon)
{
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;
	int rv = TR_EPROTO;

	if (tri_body_check(body, len) != TR_OK || len == 0) {
		return TR_EPROTO;
	}
	if (!msgpack_zone_init(&z, 64)) {
		return TR_ENOMEM;
	}
	if (msgpack_unpack((const char *)body, len, &off, &z, &o) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 3 &&
	    o.via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o.via.array.ptr[0].via.u64 <= TR_EXIT_NOCONNECTION &&
	    (o.via.array.ptr[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	        o.via.array.ptr[1].type == MSGPACK_OBJECT_NEGATIVE_INTEGER) &&
	    o.via.array.ptr[2].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		r->kind = (tr_exit_kind)o.via.array.ptr[0].via.u64;
		r->code = (int32_t)o.via.array.ptr[1].via.i64;
		if (mon != NULL) {
			*mon = o.via.array.ptr[2].via.u64;
		}
		rv = TR_OK;
	}
	msgpack_zone_destroy(&z);
	return rv;
}

void
tri_control_frame(tri_frame *f, uint8_t *buf, int kind, tr_ref about,
    tr_ref dest, tr_reason why, uint64_t corr)
{
	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t)kind;
	f->sender = about;
	f->dest = dest;
	f->corr = corr;
	f->body = buf;
	f->body_len =
	    (uint32_t)tri_reason_body(buf, TRI_CONTROL_BODY, why, corr);
}

tr_msg *
tri_msg_notice(uint32_t tag, tr_ref who, tr_reason why, uint64_t mon)
{
	uint8_t body[32];
	size_t n = tri_reason_body(body, sizeof(body), why, mon);
	tr_msg *m = msg_alloc(n);

	if (m == NULL) {
		return NULL;
	}
	if (tri_nmsg_append(m->body, body, n) != 0) {
		tr_msg_free(m);
		return NULL;
	}
	m->tag = tag;
	m->kind = (tag == TR_TAG_EXIT) ? TRI_K_EXIT : TRI_K_DOWN;
	m->sender = who;
	m->mon = mon;
	m->reason = why;
	return m;
}

int
tr_msg_reason(tr_msg *m, tr_ref *who, tr_reason *why, uint64_t *mon)
{
	if (m == NULL || (m->tag != TR_TAG_EXIT && m->tag != TR_TAG_DOWN)) {
		return TR_EINVAL;
	}
	if (who != NULL) {
		*who = m->sender;
	}
	if (why != NULL) {
		*why = m->reason;
	}
	if (mon != NULL) {
		*mon = m->mon;
	}
	return TR_OK;
}

/* ------------------------------------------------------------------ */

void
tri_msgq_push(tri_msgq *q, tr_msg *m)
{
	m->next = NULL;
	if (q->tail != NULL) {
		q->tail->next = m;
	} else {
		q->head = m;
	}
	q->tail = m;
	q->n++;
}

tr_msg *
tri_msgq_pop(tri_msgq *q)
{
	tr_msg *m = q->head;

	if (m != NULL) {
		q->head = m->next;
		if (q->head == NULL) {
			q->tail = NULL;
		}
		q->n--;
		m->next = NULL;
	}
	return m;
}

uint64_t
tri_msgq_clear(tri_msgq *q)
{
	uint64_t counted = 0;
	tr_msg *m;

	while ((m = tri_msgq_pop(q)) != NULL) {
		counted += m->counted;
		tr_msg_free(m);
	}
	return counted;
}

void
tri_msg_reason_of_frame(const tr_msg *m, tr_reason *r)
{
	*r = TR_REASON(TR_EXIT_ERROR, TR_EPROTO);
	(void)tri_reason_parse(tri_msg_bytes(m), tri_msg_len(m), r, NULL);
}
