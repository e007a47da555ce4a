/*
 * behaviors_buf.c -- "buf.kit", the test actor for shared buffers; its
 * protocol is in behaviors_buf.h.  Public API only: it may run in a
 * fork member or an exec'd program.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_buf.h"

typedef struct kit {
	tr_buf held;
	bool holding;
} kit;

static void
keep(kit *k, tr_buf b)
{
	if (k->holding) {
		(void)tr_buf_release(k->held);
	}
	k->held = b;
	k->holding = true;
}

/* Replies [v...] to a call. */
static void
reply_ints(tr_msg *req, const int64_t *v, size_t n)
{
	tr_msg *r = test_msg_ints(TB_REPLY, v, n);

	if (r != NULL && tr_reply(tr_msg_from(req), r) != TR_OK) {
		tr_msg_free(r);
	}
}

/* The request's array and its first element as a handle. */
static int
args(tr_msg *m, msgpack_object_array *a, tr_buf *b)
{
	msgpack_object o;
	int rv;

	if ((rv = tr_msg_body(m, &o)) != TR_OK) {
		return rv;
	}
	if (o.type != MSGPACK_OBJECT_ARRAY) {
		return TR_EPROTO;
	}
	*a = o.via.array;
	if (b == NULL) {
		return TR_OK;
	}
	return a->size > 0 ? tr_unpack_buf(&a->ptr[0], b) : TR_EPROTO;
}

static void
on_fill(tr_msg *m)
{
	msgpack_object_array a;
	int64_t byte = 0, v[2] = {0, 0};
	void *p = NULL;
	size_t size = 0;
	tr_buf b;

	if ((v[0] = args(m, &a, &b)) == TR_OK) {
		if (a.size < 2 || !test_obj_int(&a.ptr[1], &byte)) {
			v[0] = TR_EPROTO;
		} else if ((v[0] = tr_buf_data(b, &p, &size)) == TR_OK) {
			memset(p, (int)byte, size);
			v[1] = (int64_t)(uintptr_t)p;
		}
		(void)tr_buf_release(b);
	}
	reply_ints(m, v, 2);
}

static void
on_make(kit *k, tr_msg *m)
{
	msgpack_object_array a;
	int64_t size = 0, byte = 0;
	tr_msg *r;
	void *p;
	tr_buf b;
	int rv;

	if ((rv = args(m, &a, NULL)) == TR_OK &&
	    (a.size < 2 || !test_obj_int(&a.ptr[0], &size) ||
	        !test_obj_int(&a.ptr[1], &byte))) {
		rv = TR_EPROTO;
	}
	if (rv == TR_OK && (rv = tr_buf_new(&b, (size_t)size)) == TR_OK) {
		(void)tr_buf_data(b, &p, NULL);
		memset(p, (int)byte, (size_t)size);
		keep(k, b);
	}
	if (tr_msg_new(&r, TB_REPLY) != TR_OK) {
		return;
	}
	msgpack_pack_array(tr_msg_packer(r), 2);
	msgpack_pack_int(tr_msg_packer(r), rv);
	if (rv != TR_OK ||
	    tr_pack_buf(tr_msg_packer(r), k->held, TR_BUF_SHARE) != TR_OK) {
		msgpack_pack_nil(tr_msg_packer(r));
	}
	if (tr_reply(tr_msg_from(m), r) != TR_OK) {
		tr_msg_free(r);
	}
}

static void
on_back(tr_msg *m)
{
	msgpack_object_array a;
	msgpack_packer *pk;
	tr_msg *r;
	tr_buf b;
	int rv;

	rv = args(m, &a, &b);
	if (tr_msg_new(&r, TB_REPLY) != TR_OK) {
		(void)tr_buf_release(b);
		return;
	}
	pk = tr_msg_packer(r);
	msgpack_pack_array(pk, 3);
	if (rv == TR_OK &&
	    (rv = tr_pack_buf(pk, b, TR_BUF_TRANSFER)) == TR_OK) {
		msgpack_pack_int(pk, tr_buf_data(b, NULL, NULL));
		msgpack_pack_int(pk, tr_pack_buf(pk, b, TR_BUF_SHARE));
	} else {
		msgpack_pack_nil(pk);
		msgpack_pack_int(pk, rv);
		msgpack_pack_int(pk, rv);
	}
	(void)tr_buf_release(b);
	if (tr_reply(tr_msg_from(m), r) != TR_OK) {
		tr_msg_free(r);
	}
}

static void
on_unpack(tr_msg *m)
{
	msgpack_object_array a;
	tr_stats st;
	int64_t v[2] = {0, 0};
	tr_buf b;

	v[0] = args(m, &a, &b);
	if (v[0] == TR_OK) {
		(void)tr_buf_release(b);
	}
	if (tr_stats_get(&st) == TR_OK) {
		v[1] = (int64_t)st.bad_buffers;
	}
	reply_ints(m, v, 2);
}

static void
on_add(kit *k, tr_msg *m)
{
	msgpack_object_array a;
	int64_t n = 0;
	void *p;
	tr_buf b;

	if (args(m, &a, &b) != TR_OK) {
		return;
	}
	if (a.size > 1 && test_obj_int(&a.ptr[1], &n) &&
	    tr_buf_data(b, &p, NULL) == TR_OK) {
		_Atomic uint64_t *w = p;
		for (int64_t i = 0; i < n; i++) {
			atomic_fetch_add(w, 1);
		}
	}
	keep(k, b);
}

static int
kit_handle(void *state, tr_msg *m)
{
	kit *k = state;
	msgpack_object_array a;
	int64_t v[2] = {0, 0};
	tr_buf b;
	void *p;

	switch (tr_msg_tag(m)) {
	case TB_FILL:
		on_fill(m);
		break;
	case TB_HOLD:
		if ((v[0] = args(m, &a, &b)) == TR_OK) {
			keep(k, b);
		}
		reply_ints(m, v, 1);
		break;
	case TB_DROP:
		v[0] = k->holding ? tr_buf_data(k->held, &p, NULL) : TR_ENOENT;
		if (v[0] == TR_OK) {
			v[1] = (int64_t)atomic_load((_Atomic uint64_t *)p);
		}
		if (k->holding) {
			(void)tr_buf_release(k->held);
			k->holding = false;
		}
		reply_ints(m, v, 2);
		break;
	case TB_MAKE:
		on_make(k, m);
		break;
	case TB_BACK:
		on_back(m);
		break;
	case TB_UNPACK:
		on_unpack(m);
		break;
	case TB_ADD:
		on_add(k, m);
		break;
	default:
		break;
	}
	return 0;
}

void
test_behaviors_buf_register(void)
{
	static const tr_behavior kit_b = {
	    .name = "buf.kit",
	    .state_size = sizeof(kit),
	    .handle = kit_handle,
	};

	(void)tr_behavior_register(&kit_b);
}
