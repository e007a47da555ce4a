/*
 * test_msg.c -- messages, refs, reasons and error texts as values.
 *
 * A message is built by the caller and handed to the runtime only by a
 * successful send, so most cases here are about what the caller is left
 * holding: bad arguments, bodies that are not exactly one msgpack value
 * (refused at tr_msg_body and again at tr_send, the message still the
 * caller's), and allocation failures, swept one allocation at a time
 * through the library's allocation seam, that must leave nothing behind
 * (AddressSanitizer's leak check is the judge there).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>
#include <troupe.h>

#include "alloc.h"
#include "behaviors.h"
#include "behaviors_msg.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int
setup(void **state)
{
	(void)state;
	test_behaviors_register();
	assert_int_equal(tr_init(NULL), TR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tri_alloc_fail_after(-1);
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

static tr_ref
spawn(const char *behavior)
{
	tr_spec spec;
	tr_ref ref = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = behavior;
	assert_int_equal(tr_spawn(&spec, &ref, NULL), TR_OK);
	assert_false(tr_ref_is_nil(ref));
	return ref;
}

/* Sends m to the calling context itself and takes it back. */
static tr_msg *
round_trip_self(tr_msg *m)
{
	tr_msg *got = NULL;

	assert_int_equal(tr_send(tr_self(), m), TR_OK);
	assert_int_equal(tr_recv(&got, 5000), TR_OK);
	assert_non_null(got);
	return got;
}

/* A message whose body is two values: not allowed to leave. */
static tr_msg *
two_values(void)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, 7), TR_OK);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 1), 0);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 2), 0);
	return m;
}

/* A writer that always fails, as a full buffer would. */
static int
failing_write(void *data, const char *buf, size_t len)
{
	(void)data;
	(void)buf;
	(void)len;
	return -1;
}

/* ------------------------------------------------------------------ */
/* tr_msg_new / tr_msg_free                                            */
/* ------------------------------------------------------------------ */

static void
test_msg_new_bad_args(void **state)
{
	tr_msg *m = (tr_msg *)(uintptr_t)0x1;

	(void)state;
	assert_int_equal(tr_msg_new(NULL, 1), TR_EINVAL);
	assert_int_equal(tr_msg_new(&m, TR_TAG_SYSTEM), TR_EINVAL);
	assert_int_equal(tr_msg_new(&m, TR_TAG_EXIT), TR_EINVAL);
	assert_int_equal(tr_msg_new(&m, TR_TAG_DOWN), TR_EINVAL);
	assert_int_equal(tr_msg_new(&m, UINT32_MAX), TR_EINVAL);
	/* Nothing was made, so nothing was written. */
	assert_ptr_equal(m, (tr_msg *)(uintptr_t)0x1);
}

static void
test_msg_new_empty(void **state)
{
	tr_msg *m = NULL;
	msgpack_object o;

	(void)state;
	assert_int_equal(tr_msg_new(&m, 0), TR_OK);
	tr_msg_free(m);

	assert_int_equal(tr_msg_new(&m, TR_TAG_SYSTEM - 1), TR_OK);
	assert_non_null(m);
	assert_int_equal(tr_msg_tag(m), TR_TAG_SYSTEM - 1);
	assert_int_equal(tr_msg_size(m), 0);
	assert_true(tr_ref_is_nil(tr_msg_sender(m)));
	assert_false(tr_msg_is_call(m));
	assert_int_equal(tr_msg_from(m).corr, 0);
	assert_true(tr_ref_is_nil(tr_msg_from(m).to));
	assert_non_null(tr_msg_packer(m));
	/* An empty body reads as nil. */
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_NIL);
	tr_msg_free(m);
	tr_msg_free(NULL);
}

static void
test_msg_accessors_null(void **state)
{
	msgpack_object o;

	(void)state;
	assert_null(tr_msg_packer(NULL));
	assert_null(tr_msg_data(NULL));
	assert_int_equal(tr_msg_size(NULL), 0);
	assert_int_equal(tr_msg_tag(NULL), 0);
	assert_true(tr_ref_is_nil(tr_msg_sender(NULL)));
	assert_false(tr_msg_is_call(NULL));
	assert_int_equal(tr_msg_from(NULL).corr, 0);
	assert_int_equal(tr_msg_body(NULL, &o), TR_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Bodies                                                              */
/* ------------------------------------------------------------------ */

static void
test_msg_body_round_trip(void **state)
{
	tr_msg *m = NULL;
	msgpack_packer *pk;
	msgpack_sbuffer sb;
	msgpack_packer ref_pk;
	msgpack_object o;

	(void)state;
	assert_int_equal(tr_msg_new(&m, 42), TR_OK);
	pk = tr_msg_packer(m);
	assert_int_equal(msgpack_pack_array(pk, 3), 0);
	assert_int_equal(msgpack_pack_int(pk, -5), 0);
	assert_int_equal(msgpack_pack_str_with_body(pk, "two", 3), 0);
	assert_int_equal(msgpack_pack_double(pk, 3.5), 0);
	/* The same packer every time, valid as long as the message. */
	assert_ptr_equal(tr_msg_packer(m), pk);

	/* The raw bytes are exactly what msgpack-c packs. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&ref_pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&ref_pk, 3);
	msgpack_pack_int(&ref_pk, -5);
	msgpack_pack_str_with_body(&ref_pk, "two", 3);
	msgpack_pack_double(&ref_pk, 3.5);
	assert_int_equal(tr_msg_size(m), sb.size);
	assert_memory_equal(tr_msg_data(m), sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);

	assert_int_equal(tr_msg_body(m, NULL), TR_EINVAL);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 3);
	assert_int_equal(o.via.array.ptr[0].via.i64, -5);
	assert_int_equal(o.via.array.ptr[1].via.str.size, 3);
	assert_memory_equal(o.via.array.ptr[1].via.str.ptr, "two", 3);
	assert_true(o.via.array.ptr[2].via.f64 == 3.5);
	/* Reading twice gives the same answer. */
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.via.array.size, 3);
	tr_msg_free(m);
}

static void
test_msg_body_two_values(void **state)
{
	tr_msg *m = NULL;
	msgpack_object o;

	(void)state;
	/* One value, read, then a second appended: the reader must not
	 * answer from what it parsed before. */
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 1), 0);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 2), 0);
	assert_int_equal(tr_msg_body(m, &o), TR_EPROTO);
	assert_int_equal(tr_msg_size(m), 2);

	/* The send refuses it too, and the caller keeps it. */
	assert_int_equal(tr_send(tr_self(), m), TR_EPROTO);
	assert_int_equal(tr_send_timed(tr_self(), m, TR_NOWAIT), TR_EPROTO);
	assert_int_equal(tr_msg_size(m), 2);
	assert_int_equal(tr_msg_tag(m), 1);
	tr_msg_free(m);
}

static void
test_msg_body_truncated(void **state)
{
	tr_msg *m = NULL;
	msgpack_object o;
	tr_msg *got = NULL;

	(void)state;
	/* An array announcing three items and holding one. */
	assert_int_equal(tr_msg_new(&m, 3), TR_OK);
	assert_int_equal(msgpack_pack_array(tr_msg_packer(m), 3), 0);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 1), 0);
	assert_int_equal(tr_msg_body(m, &o), TR_EPROTO);
	assert_int_equal(tr_send(tr_self(), m), TR_EPROTO);
	assert_int_equal(tr_msg_size(m), 2);
	tr_msg_free(m);

	/* A bin announcing 100 bytes and holding 5. */
	assert_int_equal(tr_msg_new(&m, 3), TR_OK);
	assert_int_equal(msgpack_pack_bin(tr_msg_packer(m), 100), 0);
	assert_int_equal(
	    msgpack_pack_bin_body(tr_msg_packer(m), "abcde", 5), 0);
	assert_int_equal(tr_msg_body(m, &o), TR_EPROTO);
	assert_int_equal(tr_send(tr_self(), m), TR_EPROTO);
	tr_msg_free(m);

	/* A str header alone. */
	assert_int_equal(tr_msg_new(&m, 3), TR_OK);
	assert_int_equal(msgpack_pack_str(tr_msg_packer(m), 40), 0);
	assert_int_equal(tr_msg_body(m, &o), TR_EPROTO);
	assert_int_equal(tr_send(tr_self(), m), TR_EPROTO);
	tr_msg_free(m);

	/* None of them reached the mailbox. */
	assert_int_equal(tr_recv(&got, TR_NOWAIT), TR_ETIMEDOUT);
	assert_null(got);
}

static void
test_msg_bad_body_at_call(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_msg *m = two_values();
	tr_msg *reply = NULL;
	bool sent = true;

	(void)state;
	assert_int_equal(tr_call(kit, m, 5000, &reply, &sent), TR_EPROTO);
	assert_false(sent);
	assert_null(reply);
	/* Still the caller's, untouched. */
	assert_int_equal(tr_msg_size(m), 2);
	tr_msg_free(m);
}

static void
test_msg_packer_caps_at_max(void **state)
{
	tr_msg *m = NULL;
	char *big = calloc(1, TR_MSG_MAX);

	(void)state;
	assert_non_null(big);
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	/* Header (5 bytes) + TR_MSG_MAX bytes: past the largest body. */
	assert_int_equal(msgpack_pack_bin(tr_msg_packer(m), TR_MSG_MAX), 0);
	assert_int_not_equal(
	    msgpack_pack_bin_body(tr_msg_packer(m), big, TR_MSG_MAX), 0);
	assert_true(tr_msg_size(m) <= TR_MSG_MAX);
	tr_msg_free(m);
	free(big);
}

/* ------------------------------------------------------------------ */
/* tr_msg_dup                                                          */
/* ------------------------------------------------------------------ */

static void
test_msg_dup_bad_args(void **state)
{
	tr_msg *m = NULL, *d = (tr_msg *)(uintptr_t)0x1;

	(void)state;
	assert_int_equal(tr_msg_new(&m, 9), TR_OK);
	assert_int_equal(tr_msg_dup(NULL, m), TR_EINVAL);
	assert_int_equal(tr_msg_dup(&d, NULL), TR_EINVAL);
	assert_ptr_equal(d, (tr_msg *)(uintptr_t)0x1);
	tr_msg_free(m);
}

static void
test_msg_dup_deep(void **state)
{
	tr_msg *m = NULL, *d = NULL;
	msgpack_object o;

	(void)state;
	assert_int_equal(tr_msg_new(&m, 77), TR_OK);
	assert_int_equal(
	    msgpack_pack_str_with_body(tr_msg_packer(m), "hello", 5), 0);
	/* Parse the original first: the copy must not share its zone. */
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(tr_msg_dup(&d, m), TR_OK);
	assert_non_null(d);
	assert_ptr_not_equal(d, m);
	assert_int_equal(tr_msg_tag(d), 77);
	assert_int_equal(tr_msg_size(d), tr_msg_size(m));
	assert_ptr_not_equal(tr_msg_data(d), tr_msg_data(m));
	assert_memory_equal(tr_msg_data(d), tr_msg_data(m), tr_msg_size(m));

	/* Writing to the original does not touch the copy. */
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 1), 0);
	assert_int_equal(tr_msg_body(m, &o), TR_EPROTO);
	tr_msg_free(m);

	assert_int_equal(tr_msg_body(d, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_STR);
	assert_memory_equal(o.via.str.ptr, "hello", 5);
	/* The copy has its own packer, writing to its own body. */
	assert_ptr_not_equal(tr_msg_packer(d), NULL);
	tr_msg_free(d);
}

static void
test_msg_dup_keeps_sender(void **state)
{
	tr_msg *m = NULL, *got, *d = NULL;
	msgpack_object o;

	(void)state;
	assert_int_equal(tr_msg_new(&m, 5), TR_OK);
	assert_int_equal(msgpack_pack_uint32(tr_msg_packer(m), 1234), 0);
	got = round_trip_self(m);
	assert_true(tr_ref_equal(tr_msg_sender(got), tr_self()));
	assert_int_equal(tr_msg_dup(&d, got), TR_OK);
	tr_msg_free(got);
	assert_true(tr_ref_equal(tr_msg_sender(d), tr_self()));
	assert_int_equal(tr_msg_tag(d), 5);
	assert_int_equal(tr_msg_body(d, &o), TR_OK);
	assert_int_equal(o.via.u64, 1234);
	/* A received message (and its copy) can be sent on. */
	got = round_trip_self(d);
	assert_int_equal(tr_msg_body(got, &o), TR_OK);
	assert_int_equal(o.via.u64, 1234);
	tr_msg_free(got);
}

/* ------------------------------------------------------------------ */
/* Refs                                                                */
/* ------------------------------------------------------------------ */

static void
test_ref_equal_and_nil(void **state)
{
	tr_ref a = {1, 2, 3, 4};
	tr_ref b = a;
	tr_ref nil = TR_REF_NIL;

	(void)state;
	assert_true(tr_ref_equal(a, b));
	b.node = 9;
	assert_false(tr_ref_equal(a, b));
	b = a;
	b.proc = 9;
	assert_false(tr_ref_equal(a, b));
	b = a;
	b.slot = 9;
	assert_false(tr_ref_equal(a, b));
	b = a;
	b.gen = 9;
	assert_false(tr_ref_equal(a, b));

	assert_true(tr_ref_is_nil(nil));
	assert_true(tr_ref_is_nil(TR_REF_NIL));
	assert_false(tr_ref_is_nil(a));
	assert_false(tr_ref_is_nil((tr_ref){0, 0, 0, 1}));
	assert_false(tr_ref_is_nil((tr_ref){1, 0, 0, 0}));
	assert_true(tr_ref_equal(nil, TR_REF_NIL));

	/* The main context has a ref; it is no actor of any other kind. */
	assert_false(tr_ref_is_nil(tr_self()));
	assert_true(tr_ref_equal(tr_self(), tr_self()));
}

static void
test_ref_format(void **state)
{
	char buf[64], buf2[64], tiny[5];
	tr_ref r = {0x1234abcd, 2, 3, 4};
	tr_ref s = {0x1234abcd, 2, 3, 5};
	size_t n;

	(void)state;
	assert_ptr_equal(tr_ref_format(r, buf, sizeof(buf)), buf);
	n = strlen(buf);
	assert_true(n > 2);
	assert_int_equal(buf[0], '<');
	assert_int_equal(buf[n - 1], '>');
	assert_true(n >= strlen(".2.3.4>"));
	assert_string_equal(buf + n - strlen(".2.3.4>"), ".2.3.4>");
	/* Different refs read differently. */
	tr_ref_format(s, buf2, sizeof(buf2));
	assert_string_not_equal(buf, buf2);

	/* A short buffer is cut, not overrun, and stays a string. */
	memset(tiny, 'x', sizeof(tiny));
	assert_ptr_equal(tr_ref_format(r, tiny, sizeof(tiny)), tiny);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_memory_equal(tiny, buf, sizeof(tiny) - 1);

	/* Nothing to write into. */
	assert_null(tr_ref_format(r, NULL, 10));
	tiny[0] = 'x';
	assert_ptr_equal(tr_ref_format(r, tiny, 0), tiny);
	assert_int_equal(tiny[0], 'x');
}

static void
test_ref_pack_round_trip(void **state)
{
	tr_ref refs[] = {
	    {1, 2, 3, 4},
	    {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
	    {0x01020304u, 0x05060708u, 0x090a0b0cu, 0x0d0e0f10u},
	    TR_REF_NIL,
	};
	tr_msg *m = NULL, *got;
	msgpack_object o;
	tr_ref out;

	(void)state;
	assert_int_equal(tr_msg_new(&m, 11), TR_OK);
	assert_int_equal(msgpack_pack_array(tr_msg_packer(m), 5), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(tr_pack_ref(tr_msg_packer(m), refs[i]), TR_OK);
	}
	assert_int_equal(tr_pack_ref(tr_msg_packer(m), tr_self()), TR_OK);

	/* Through a mailbox and back, as a ref travels in practice. */
	got = round_trip_self(m);
	assert_int_equal(tr_msg_body(got, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 5);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(o.via.array.ptr[i].type, MSGPACK_OBJECT_EXT);
		assert_int_equal(
		    o.via.array.ptr[i].via.ext.type, TR_MSGPACK_EXT_REF);
		assert_int_equal(o.via.array.ptr[i].via.ext.size, 16);
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(
		    tr_unpack_ref(&o.via.array.ptr[i], &out), TR_OK);
		assert_true(tr_ref_equal(out, refs[i]));
	}
	assert_int_equal(tr_unpack_ref(&o.via.array.ptr[4], &out), TR_OK);
	assert_true(tr_ref_equal(out, tr_self()));
	tr_msg_free(got);
}

static void
test_ref_pack_bad_args(void **state)
{
	msgpack_packer pk;
	msgpack_object o;
	tr_ref out;

	(void)state;
	assert_int_equal(tr_pack_ref(NULL, tr_self()), TR_EINVAL);
	/* The packer's writer fails. */
	msgpack_packer_init(&pk, NULL, failing_write);
	assert_int_equal(tr_pack_ref(&pk, tr_self()), TR_ENOMEM);

	memset(&o, 0, sizeof(o));
	o.type = MSGPACK_OBJECT_NIL;
	assert_int_equal(tr_unpack_ref(NULL, &out), TR_EINVAL);
	assert_int_equal(tr_unpack_ref(&o, NULL), TR_EINVAL);
}

/* Packs one ext value of the given type and size, and unpacks it. */
static int
unpack_ext(int8_t type, size_t size)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	char body[32];
	tr_ref out;
	int rv;

	memset(body, 0x5a, sizeof(body));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_ext(&pk, size, type);
	msgpack_pack_ext_body(&pk, body, size);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_EXT);
	rv = tr_unpack_ref(&u.data, &out);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

static void
test_ref_unpack_rejects(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	size_t off = 0;
	char sixteen[16];
	tr_ref out;

	(void)state;
	/* The right type and size is accepted... */
	assert_int_equal(unpack_ext(TR_MSGPACK_EXT_REF, 16), TR_OK);
	/* ...the wrong type or size is not. */
	assert_int_equal(unpack_ext(TR_MSGPACK_EXT_REF + 1, 16), TR_EINVAL);
	assert_int_equal(unpack_ext(0, 16), TR_EINVAL);
	assert_int_equal(unpack_ext(-1, 16), TR_EINVAL);
	assert_int_equal(unpack_ext(TR_MSGPACK_EXT_REF, 15), TR_EINVAL);
	assert_int_equal(unpack_ext(TR_MSGPACK_EXT_REF, 17), TR_EINVAL);
	assert_int_equal(unpack_ext(TR_MSGPACK_EXT_REF, 0), TR_EINVAL);
	assert_int_equal(unpack_ext(TR_MSGPACK_EXT_REF, 1), TR_EINVAL);

	/* Not an ext at all, even with the right number of bytes. */
	memset(sixteen, 0, sizeof(sixteen));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_bin_with_body(&pk, sixteen, 16);
	msgpack_pack_str_with_body(&pk, sixteen, 16);
	msgpack_pack_uint64(&pk, 0x54);
	msgpack_pack_nil(&pk);
	msgpack_pack_array(&pk, 4);
	for (int i = 0; i < 4; i++) {
		msgpack_pack_uint32(&pk, 1);
	}
	msgpack_unpacked_init(&u);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(
		    msgpack_unpack_next(&u, sb.data, sb.size, &off),
		    MSGPACK_UNPACK_SUCCESS);
		assert_int_equal(tr_unpack_ref(&u.data, &out), TR_EINVAL);
	}
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

/* ------------------------------------------------------------------ */
/* Errors and reasons                                                  */
/* ------------------------------------------------------------------ */

static void
test_strerror_every_code(void **state)
{
	const char *unknown = tr_strerror(-1);
	const char *texts[TR_ENOCONN + 1];

	(void)state;
	assert_non_null(unknown);
	assert_true(strlen(unknown) > 0);
	for (int e = TR_OK; e <= TR_ENOCONN; e++) {
		texts[e] = tr_strerror(e);
		assert_non_null(texts[e]);
		assert_true(strlen(texts[e]) > 0);
		/* Every known code has its own text, not the fallback. */
		assert_string_not_equal(texts[e], unknown);
		for (int k = TR_OK; k < e; k++) {
			assert_string_not_equal(texts[e], texts[k]);
		}
	}
	/* Unknown codes still get text. */
	assert_non_null(tr_strerror(TR_ENOCONN + 1));
	assert_non_null(tr_strerror(1000));
	assert_non_null(tr_strerror(INT32_MIN));
	assert_non_null(tr_strerror(INT32_MAX));
	assert_string_equal(tr_strerror(TR_ENOCONN + 1), unknown);
	assert_string_equal(tr_strerror(INT32_MIN), unknown);
}

static void
test_reason_format(void **state)
{
	char buf[64];
	char seen[9][64];
	char tiny[4];

	(void)state;
	assert_ptr_equal(
	    tr_reason_format(TR_REASON_NORMAL, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "normal");
	assert_string_equal(
	    tr_reason_format(TR_REASON_SHUTDOWN, buf, sizeof(buf)), "shutdown");
	assert_string_equal(
	    tr_reason_format(TR_REASON(TR_EXIT_ERROR, 5), buf, sizeof(buf)),
	    "error(5)");
	assert_string_equal(
	    tr_reason_format(TR_REASON(TR_EXIT_SIGNAL, 9), buf, sizeof(buf)),
	    "signal(9)");
	assert_string_equal(
	    tr_reason_format(TR_REASON(TR_EXIT_ERROR, -3), buf, sizeof(buf)),
	    "error(-3)");

	/* Every kind reads as something of its own. */
	for (int k = TR_EXIT_NORMAL; k <= TR_EXIT_NOCONNECTION; k++) {
		tr_reason_format(
		    TR_REASON((tr_exit_kind)k, 1), seen[k], sizeof(seen[k]));
		assert_true(strlen(seen[k]) > 0);
		for (int j = 0; j < k; j++) {
			assert_string_not_equal(seen[k], seen[j]);
		}
	}
	/* Codes show where they mean something. */
	tr_reason_format(TR_REASON(TR_EXIT_STATUS, 3), buf, sizeof(buf));
	assert_non_null(strstr(buf, "3"));
	tr_reason_format(TR_REASON(TR_EXIT_CUSTOM, 1234), buf, sizeof(buf));
	assert_non_null(strstr(buf, "1234"));

	/* An unknown kind still formats, a short buffer is cut, NULL is
	 * returned as is. */
	tr_reason_format(TR_REASON((tr_exit_kind)99, 0), buf, sizeof(buf));
	assert_true(strlen(buf) > 0);
	memset(tiny, 'x', sizeof(tiny));
	tr_reason_format(TR_REASON(TR_EXIT_ERROR, 123456), tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_null(tr_reason_format(TR_REASON_NORMAL, NULL, 10));
}

static void
test_reason_is_abnormal(void **state)
{
	(void)state;
	assert_false(tr_reason_is_abnormal(TR_REASON_NORMAL));
	assert_false(tr_reason_is_abnormal(TR_REASON_SHUTDOWN));
	/* The code does not change the kind's meaning. */
	assert_false(tr_reason_is_abnormal(TR_REASON(TR_EXIT_NORMAL, 5)));
	assert_false(tr_reason_is_abnormal(TR_REASON(TR_EXIT_SHUTDOWN, 5)));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_ERROR, 0)));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_ERROR, 1)));
	assert_true(tr_reason_is_abnormal(TR_REASON_KILL));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_STATUS, 0)));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_STATUS, 1)));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_SIGNAL, 9)));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_NOPROC, 0)));
	assert_true(tr_reason_is_abnormal(TR_REASON(TR_EXIT_CUSTOM, 0)));
}

static void
test_msg_reason_not_a_notice(void **state)
{
	tr_msg *m = NULL, *got;
	tr_ref who;
	tr_reason why;
	uint64_t mon;

	(void)state;
	assert_int_equal(tr_msg_reason(NULL, &who, &why, &mon), TR_EINVAL);
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(tr_msg_reason(m, &who, &why, &mon), TR_EINVAL);
	assert_int_equal(tr_msg_reason(m, NULL, NULL, NULL), TR_EINVAL);
	/* Received user messages are no notices either. */
	got = round_trip_self(m);
	assert_int_equal(tr_msg_reason(got, &who, &why, &mon), TR_EINVAL);
	tr_msg_free(got);
}

static void
test_msg_reason_of_down(void **state)
{
	tr_ref kit = spawn("msg.kit");
	tr_mon mon;
	tr_msg *got = NULL, *d = NULL;
	tr_ref who = TR_REF_NIL;
	tr_reason why = TR_REASON_NORMAL;
	uint64_t id = 0;

	(void)state;
	assert_int_equal(tr_monitor(kit, &mon), TR_OK);
	assert_int_equal(tr_stop(kit, TR_REASON(TR_EXIT_CUSTOM, 77)), TR_OK);
	assert_int_equal(tr_recv(&got, 5000), TR_OK);
	assert_int_equal(tr_msg_tag(got), TR_TAG_DOWN);
	assert_int_equal(tr_msg_reason(got, &who, &why, &id), TR_OK);
	assert_true(tr_ref_equal(who, kit));
	assert_true(tr_ref_equal(tr_msg_sender(got), kit));
	assert_int_equal(why.kind, TR_EXIT_CUSTOM);
	assert_int_equal(why.code, 77);
	assert_int_equal(id, mon.id);
	assert_int_equal(tr_msg_reason(got, NULL, NULL, NULL), TR_OK);
	/* A notice is no call. */
	assert_false(tr_msg_is_call(got));

	/* A copy of a notice is still one. */
	assert_int_equal(tr_msg_dup(&d, got), TR_OK);
	tr_msg_free(got);
	memset(&why, 0, sizeof(why));
	assert_int_equal(tr_msg_reason(d, &who, &why, &id), TR_OK);
	assert_int_equal(why.kind, TR_EXIT_CUSTOM);
	assert_int_equal(why.code, 77);
	assert_int_equal(id, mon.id);
	assert_true(tr_ref_equal(who, kit));
	tr_msg_free(d);
}

/* ------------------------------------------------------------------ */
/* Allocation failures                                                 */
/* ------------------------------------------------------------------ */

/*
 * Builds a message with a body big enough to need several buffer
 * growths, and copies it, with the allocation seam allowing n
 * allocations.  Returns TR_OK if everything succeeded; otherwise what
 * failed, having freed what it made.
 */
static int
build_with_budget(long n)
{
	static const char chunk[300] = {1};
	tr_msg *m = (tr_msg *)(uintptr_t)0x1;
	tr_msg *d = (tr_msg *)(uintptr_t)0x1;
	msgpack_packer *pk;
	int rv;

	tri_alloc_fail_after(n);
	rv = tr_msg_new(&m, 12);
	if (rv != TR_OK) {
		tri_alloc_fail_after(-1);
		assert_int_equal(rv, TR_ENOMEM);
		assert_ptr_equal(m, (tr_msg *)(uintptr_t)0x1);
		return rv;
	}
	pk = tr_msg_packer(m);
	if (msgpack_pack_array(pk, 4) != 0 ||
	    msgpack_pack_bin_with_body(pk, chunk, sizeof(chunk)) != 0 ||
	    msgpack_pack_bin_with_body(pk, chunk, sizeof(chunk)) != 0 ||
	    msgpack_pack_bin_with_body(pk, chunk, sizeof(chunk)) != 0 ||
	    msgpack_pack_bin_with_body(pk, chunk, sizeof(chunk)) != 0) {
		tri_alloc_fail_after(-1);
		/* A failed write leaves a message that can still be freed. */
		tr_msg_free(m);
		return TR_ENOMEM;
	}
	rv = tr_msg_dup(&d, m);
	tri_alloc_fail_after(-1);
	if (rv != TR_OK) {
		assert_int_equal(rv, TR_ENOMEM);
		assert_ptr_equal(d, (tr_msg *)(uintptr_t)0x1);
		tr_msg_free(m);
		return rv;
	}
	/* Success: both are whole. */
	assert_int_equal(tr_msg_size(d), tr_msg_size(m));
	assert_memory_equal(tr_msg_data(d), tr_msg_data(m), tr_msg_size(m));
	tr_msg_free(m);
	tr_msg_free(d);
	return TR_OK;
}

static void
test_msg_alloc_failure_sweep(void **state)
{
	long n;
	int failures = 0;

	(void)state;
	for (n = 0; n < 1000; n++) {
		if (build_with_budget(n) == TR_OK) {
			break;
		}
		failures++;
	}
	assert_true(n < 1000);
	/* Message, several growths of the body, the copy: at least three
	 * places that can fail. */
	assert_true(failures >= 3);
	/* And with the seam reset, everything works again. */
	assert_int_equal(build_with_budget(-1), TR_OK);
}

static void
test_msg_alloc_failure_body_stays_valid(void **state)
{
	tr_msg *m = NULL;
	msgpack_object o;
	/* Larger than any body a thread keeps for reuse (msg.c), so that
	 * the write below must grow the body whatever message it got. */
	static const char chunk[16384] = {2};

	(void)state;
	/* A write that fails to grow the body appends nothing: the body is
	 * what it was, and the same write can be tried again. */
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(msgpack_pack_array(tr_msg_packer(m), 2), 0);
	assert_int_equal(msgpack_pack_int(tr_msg_packer(m), 5), 0);
	assert_int_equal(msgpack_pack_bin(tr_msg_packer(m), sizeof(chunk)), 0);
	assert_int_equal(tr_msg_size(m), 5);
	tri_alloc_fail_after(0);
	assert_int_not_equal(
	    msgpack_pack_bin_body(tr_msg_packer(m), chunk, sizeof(chunk)), 0);
	tri_alloc_fail_after(-1);
	assert_int_equal(tr_msg_size(m), 5);
	/* Incomplete as it stands: refused, not over-read. */
	assert_int_equal(tr_msg_body(m, &o), TR_EPROTO);
	assert_int_equal(tr_send(tr_self(), m), TR_EPROTO);
	/* The retry completes it. */
	assert_int_equal(
	    msgpack_pack_bin_body(tr_msg_packer(m), chunk, sizeof(chunk)), 0);
	assert_int_equal(tr_msg_size(m), 5 + sizeof(chunk));
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.via.array.size, 2);
	assert_int_equal(o.via.array.ptr[0].via.i64, 5);
	assert_int_equal(o.via.array.ptr[1].via.bin.size, sizeof(chunk));
	assert_memory_equal(
	    o.via.array.ptr[1].via.bin.ptr, chunk, sizeof(chunk));
	tr_msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_msg_new_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_new_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_accessors_null, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_body_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_body_two_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_body_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_bad_body_at_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_packer_caps_at_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_dup_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_msg_dup_deep, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_dup_keeps_sender, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ref_equal_and_nil, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ref_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ref_pack_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ref_pack_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ref_unpack_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_strerror_every_code, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reason_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reason_is_abnormal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_reason_not_a_notice, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_reason_of_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_alloc_failure_sweep, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_msg_alloc_failure_body_stays_valid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
