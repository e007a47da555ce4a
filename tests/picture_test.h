/*
 * picture_test.h -- helpers shared by test_picture.c and test_sendf.c:
 * a message holding every picture letter at its limits, and the check
 * that reads it back.  Include after <cmocka.h>.  Everything here
 * asserts on failure.
 */
#ifndef TEST_PICTURE_TEST_H
#define TEST_PICTURE_TEST_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>
#include <troupe.h>

#include "behaviors_pic.h"

#define TAG 7u

/* The values of the every-letter picture, and a check of them. */
typedef struct all_vals {
	int i;
	unsigned u;
	int64_t q;
	uint64_t uq;
	double d;
	bool b;
	const char *s;
	const char *str;
	size_t str_len;
	const void *bin;
	size_t bin_len;
	tr_ref r;
	msgpack_object m;
} all_vals;

static const char str_bytes[] = {'a', '\0', 'b'}; /* S: NUL inside */
static const uint8_t bin_bytes[] = {0, 255, 0, 1};
static const tr_ref a_ref = {0xdeadbeefu, 7, 0xffffffffu, 1};

/* The 'm' value: [1, "x", {"k": nil}]. */
static inline msgpack_object
sample_object(msgpack_object *items, msgpack_object_kv *kv)
{
	msgpack_object o;

	memset(items, 0, 3 * sizeof(*items));
	memset(kv, 0, sizeof(*kv));
	items[0].type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	items[0].via.u64 = 1;
	items[1].type = MSGPACK_OBJECT_STR;
	items[1].via.str.ptr = "x";
	items[1].via.str.size = 1;
	kv->key.type = MSGPACK_OBJECT_STR;
	kv->key.via.str.ptr = "k";
	kv->key.via.str.size = 1;
	kv->val.type = MSGPACK_OBJECT_NIL;
	items[2].type = MSGPACK_OBJECT_MAP;
	items[2].via.map.size = 1;
	items[2].via.map.ptr = kv;
	o.type = MSGPACK_OBJECT_ARRAY;
	o.via.array.size = 3;
	o.via.array.ptr = items;
	return o;
}

static inline tr_msg *
all_msg(uint32_t tag)
{
	msgpack_object items[3];
	msgpack_object_kv kv;
	msgpack_object o = sample_object(items, &kv);
	tr_msg *m = NULL;

	assert_int_equal(
	    tr_msg_newf(&m, tag, TP_ALL_PIC, INT_MIN, UINT_MAX, INT64_MIN,
	        UINT64_MAX, -0.25, true, "héllo", str_bytes, sizeof(str_bytes),
	        bin_bytes, sizeof(bin_bytes), a_ref, &o),
	    TR_OK);
	return m;
}

static inline void
check_all(tr_msg *m)
{
	all_vals v;

	memset(&v, 0, sizeof(v));
	assert_int_equal(
	    tr_msg_unpackf(m, TP_ALL_PIC, &v.i, &v.u, &v.q, &v.uq, &v.d, &v.b,
	        &v.s, &v.str, &v.str_len, &v.bin, &v.bin_len, &v.r, &v.m),
	    TR_OK);
	assert_int_equal(v.i, INT_MIN);
	assert_true(v.u == UINT_MAX);
	assert_true(v.q == INT64_MIN);
	assert_true(v.uq == UINT64_MAX);
	assert_true(v.d == -0.25);
	assert_true(v.b);
	assert_string_equal(v.s, "héllo");
	assert_int_equal(v.str_len, sizeof(str_bytes));
	assert_memory_equal(v.str, str_bytes, sizeof(str_bytes));
	assert_int_equal(v.bin_len, sizeof(bin_bytes));
	assert_memory_equal(v.bin, bin_bytes, sizeof(bin_bytes));
	assert_true(tr_ref_equal(v.r, a_ref));
	assert_int_equal(v.m.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(v.m.via.array.size, 3);
	assert_int_equal(v.m.via.array.ptr[0].via.u64, 1);
	assert_int_equal(v.m.via.array.ptr[1].type, MSGPACK_OBJECT_STR);
	assert_memory_equal(v.m.via.array.ptr[1].via.str.ptr, "x", 1);
	assert_int_equal(v.m.via.array.ptr[2].type, MSGPACK_OBJECT_MAP);
	assert_int_equal(
	    v.m.via.array.ptr[2].via.map.ptr[0].val.type, MSGPACK_OBJECT_NIL);
}

#endif
