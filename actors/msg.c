/*
 * msg.c -- messages: a tag, a msgpack body, a sender.
 *
 * Bodies are written by msgpack-c's own packer, through a write callback
 * that grows the message's buffer via the allocation seam, and read by
 * msgpack-c's unpacker into a zone that lives as long as the message.
 */
#include <string.h>

#include "internal.h"

static int
msg_write(void *data, const char *buf, size_t len)
{
	tr_msg *m = data;

	if (len > TR_MSG_MAX || m->len > TR_MSG_MAX - len) {
		return -1;
	}
	if (m->len + len > m->cap) {
		size_t ncap = m->cap < 64 ? 64 : m->cap;
		uint8_t *nd;
		while (ncap < m->len + len) {
			ncap *= 2;
		}
		if (m->cap == 0) {
			/* Data lives inside the message block: move it out. */
			if ((nd = tri_malloc(ncap)) == NULL) {
				return -1;
			}
			if (m->len > 0) {
				memcpy(nd, m->data, m->len);
			}
		} else if ((nd = tri_realloc(m->data, ncap)) == NULL) {
			return -1;
		}
		m->data = nd;
		m->cap = ncap;
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	m->parsed = false;
	return 0;
}

static tr_msg *
msg_alloc(size_t inline_len)
{
	tr_msg *m = tri_malloc(sizeof(*m) + inline_len);

	if (m == NULL) {
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	m->data = (uint8_t *)(m + 1);
	msgpack_packer_init(&m->pk, m, msg_write);
	return m;
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
	if (m == NULL) {
		return;
	}
	if (m->zone != NULL) {
		msgpack_zone_free(m->zone);
	}
	if (m->cap != 0) {
		tri_free(m->data);
	}
	tri_free(m);
}

int
tr_msg_dup(tr_msg **out, const tr_msg *src)
{
	tr_msg *m;

	if (out == NULL || src == NULL) {
		return TR_EINVAL;
	}
	if ((m = msg_alloc(src->len)) == NULL) {
		return TR_ENOMEM;
	}
	m->tag = src->tag;
	m->kind = src->kind;
	m->sender = src->sender;
	m->corr = src->corr;
	m->mon = src->mon;
	m->reason = src->reason;
	if (src->len > 0) {
		memcpy(m->data, src->data, src->len);
	}
	m->len = src->len;
	*out = m;
	return TR_OK;
}

tr_msg *
tri_msg_from_frame(const tri_frame *f)
{
	tr_msg *m = msg_alloc(f->body_len);

	if (m == NULL) {
		return NULL;
	}
	m->tag = f->tag;
	m->kind = f->kind;
	m->sender = f->sender;
	m->corr = f->corr;
	if (f->body_len > 0) {
		memcpy(m->data, f->body, f->body_len);
	}
	m->len = f->body_len;
	return m;
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

	if (m == NULL || out == NULL) {
		return TR_EINVAL;
	}
	if (m->len == 0) {
		out->type = MSGPACK_OBJECT_NIL;
		return TR_OK;
	}
	if (!m->parsed) {
		/* The walk rejects lying lengths before msgpack-c allocates
		 * for them. */
		if (tri_body_check(m->data, m->len) != TR_OK) {
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
		    (const char *)m->data, m->len, &off, m->zone, &m->obj)) {
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
	return m == NULL ? NULL : m->data;
}

size_t
tr_msg_size(const tr_msg *m)
{
	return m == NULL ? 0 : m->len;
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
	    o.via.array.ptr[0].via.u64 <= TR_EXIT_CUSTOM &&
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
	memcpy(m->data, body, n);
	m->len = n;
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
	(void)tri_reason_parse(m->data, m->len, r, NULL);
}
