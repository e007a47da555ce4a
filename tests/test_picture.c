/*
 * test_picture.c -- pictures as values: every letter packed and read
 * back at its limits, then what must be refused -- malformed pictures,
 * bad arguments, bodies of the wrong shape, integers out of range,
 * truncated, hostile and random bodies -- with the exact code, nothing
 * written to the caller's pointers and nothing left allocated
 * (AddressSanitizer judges over-reads and leaks).  test_sendf.c sends
 * these bodies through actors of every placement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>
#include <troupe.h>

#include "alloc.h"
#include "behaviors.h"
#include "picture_test.h"

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

/* A message whose body is exactly these bytes, valid msgpack or not. */
static tr_msg *
raw_msg(const void *bytes, size_t len)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, TAG), TR_OK);
	if (len > 0) {
		assert_int_equal(
		    msgpack_pack_bin_body(tr_msg_packer(m), bytes, len), 0);
	}
	assert_int_equal(tr_msg_size(m), len);
	return m;
}

/* A message packed by msgpack-c directly: [v] for one int64. */
static tr_msg *
one_int(int64_t v)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, TAG), TR_OK);
	msgpack_pack_array(tr_msg_packer(m), 1);
	msgpack_pack_int64(tr_msg_packer(m), v);
	return m;
}

static tr_msg *
one_uint(uint64_t v)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, TAG), TR_OK);
	msgpack_pack_array(tr_msg_packer(m), 1);
	msgpack_pack_uint64(tr_msg_packer(m), v);
	return m;
}

/* Room for any letter's value, and a one-letter unpack into it with
 * the pointer types the letter asks for. */
typedef union any {
	int i;
	unsigned u;
	int64_t q;
	uint64_t uq;
	double d;
	bool b;
	const char *s;
	const void *p;
	tr_ref r;
	msgpack_object m;
} any;

static int
unpack_one(tr_msg *m, char letter, any *a, size_t *len)
{
	char pic[2] = {letter, '\0'};

	switch (letter) {
	case 'i':
		return tr_msg_unpackf(m, pic, &a->i);
	case 'u':
		return tr_msg_unpackf(m, pic, &a->u);
	case 'q':
		return tr_msg_unpackf(m, pic, &a->q);
	case 'Q':
		return tr_msg_unpackf(m, pic, &a->uq);
	case 'd':
		return tr_msg_unpackf(m, pic, &a->d);
	case '?':
		return tr_msg_unpackf(m, pic, &a->b);
	case 's':
		return tr_msg_unpackf(m, pic, &a->s);
	case 'S':
		return tr_msg_unpackf(m, pic, &a->s, len);
	case 'b':
		return tr_msg_unpackf(m, pic, &a->p, len);
	case 'r':
		return tr_msg_unpackf(m, pic, &a->r);
	case 'n':
		return tr_msg_unpackf(m, pic);
	default:
		return tr_msg_unpackf(m, pic, &a->m);
	}
}

/* Whether a still holds the pattern it was filled with. */
static bool
untouched(const any *a, size_t len)
{
	any ref;

	memset(&ref, 0x5a, sizeof(ref));
	return memcmp(a, &ref, sizeof(ref)) == 0 && len == 0x5a5a5a5a;
}

/* ------------------------------------------------------------------ */
/* Pictures as values                                                  */
/* ------------------------------------------------------------------ */

/* Every letter at its limits, packed and read back. */
static void
test_picture_every_letter(void **state)
{
	tr_msg *m = all_msg(TAG);
	msgpack_object body;

	(void)state;
	check_all(m);
	/* A picture's body is an ordinary msgpack array. */
	assert_int_equal(tr_msg_body(m, &body), TR_OK);
	assert_int_equal(body.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(body.via.array.size, strlen(TP_ALL_PIC));
	assert_int_equal(body.via.array.ptr[10].type, MSGPACK_OBJECT_NIL);
	/* Read twice: the s copies of the first read stay valid. */
	check_all(m);
	tr_msg_free(m);
}

/* The other ends of the ranges, false, and the empty values. */
static void
test_picture_other_limits(void **state)
{
	tr_msg *m = NULL;
	int i = 0;
	unsigned u = 1;
	int64_t q = 0;
	uint64_t uq = 1;
	double d = 0;
	bool b = true;
	const char *s = NULL, *str = "not set";
	const void *bin = "not set";
	size_t str_len = 1, bin_len = 1;

	(void)state;
	assert_int_equal(tr_msg_newf(&m, TAG, "iuqQd?sSb", INT_MAX, 0u,
	                     INT64_MAX, (uint64_t)0, 1e300, false, "", NULL,
	                     (size_t)0, NULL, (size_t)0),
	    TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "iuqQd?sSb", &i, &u, &q, &uq, &d, &b,
	                     &s, &str, &str_len, &bin, &bin_len),
	    TR_OK);
	assert_int_equal(i, INT_MAX);
	assert_int_equal(u, 0);
	assert_true(q == INT64_MAX);
	assert_true(uq == 0);
	assert_true(d == 1e300);
	assert_false(b);
	assert_string_equal(s, "");
	assert_int_equal(str_len, 0);
	assert_int_equal(bin_len, 0);
	tr_msg_free(m);
}

/* "" is the empty array, and an empty body reads as "". */
static void
test_picture_empty(void **state)
{
	tr_msg *m = NULL;
	msgpack_object o;

	(void)state;
	assert_int_equal(tr_msg_newf(&m, TAG, ""), TR_OK);
	assert_int_equal(tr_msg_size(m), 1);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o.via.array.size, 0);
	assert_int_equal(tr_msg_unpackf(m, ""), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "n"), TR_EPROTO);
	tr_msg_free(m);

	assert_int_equal(tr_msg_new(&m, TAG), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, ""), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "n"), TR_EPROTO);
	tr_msg_free(m);
}

/* Integers are read whatever their msgpack width and sign, if they fit:
 * each encoding msgpack has, and a signed encoding of a positive value
 * as other writers may use. */
static void
test_picture_int_encodings(void **state)
{
	static const struct {
		uint8_t bytes[10];
		size_t len;
		int64_t value;
	} cases[] = {
	    {{0x91, 0x05}, 2, 5},                 /* positive fixint */
	    {{0x91, 0xff}, 2, -1},                /* negative fixint */
	    {{0x91, 0xcc, 0xc8}, 3, 200},         /* uint 8 */
	    {{0x91, 0xcd, 0x01, 0x00}, 4, 256},   /* uint 16 */
	    {{0x91, 0xce, 0, 1, 0, 0}, 6, 65536}, /* uint 32 */
	    {{0x91, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0}, 10, 4294967296LL},
	    {{0x91, 0xd0, 0x80}, 3, -128},               /* int 8 */
	    {{0x91, 0xd0, 0x05}, 3, 5},                  /* int 8, positive */
	    {{0x91, 0xd1, 0xff, 0x00}, 4, -256},         /* int 16 */
	    {{0x91, 0xd2, 0xff, 0xff, 0, 0}, 6, -65536}, /* int 32 */
	    {{0x91, 0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 10,
	        -4294967296LL}, /* int 64 */
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		tr_msg *m = raw_msg(cases[k].bytes, cases[k].len);
		int64_t q = 0;
		unsigned u = 0;
		assert_int_equal(tr_msg_unpackf(m, "q", &q), TR_OK);
		assert_true(q == cases[k].value);
		assert_int_equal(tr_msg_unpackf(m, "u", &u),
		    cases[k].value >= 0 && cases[k].value <= UINT_MAX ?
		        TR_OK :
		        TR_EPROTO);
		tr_msg_free(m);
	}
}

/* Out of the target's range: TR_EPROTO, and the target untouched. */
static void
test_picture_int_ranges(void **state)
{
	static const struct {
		bool neg;
		int64_t i;
		uint64_t u;
		const char *pic;
		int want;
	} cases[] = {
	    {false, 0, (uint64_t)INT_MAX, "i", TR_OK},
	    {false, 0, (uint64_t)INT_MAX + 1, "i", TR_EPROTO},
	    {true, INT_MIN, 0, "i", TR_OK},
	    {true, (int64_t)INT_MIN - 1, 0, "i", TR_EPROTO},
	    {false, 0, UINT_MAX, "u", TR_OK},
	    {false, 0, (uint64_t)UINT_MAX + 1, "u", TR_EPROTO},
	    {true, -1, 0, "u", TR_EPROTO},
	    {false, 0, (uint64_t)INT64_MAX, "q", TR_OK},
	    {false, 0, (uint64_t)INT64_MAX + 1, "q", TR_EPROTO},
	    {true, INT64_MIN, 0, "q", TR_OK},
	    {false, 0, UINT64_MAX, "Q", TR_OK},
	    {true, -1, 0, "Q", TR_EPROTO},
	    {true, INT64_MIN, 0, "Q", TR_EPROTO},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		tr_msg *m =
		    cases[k].neg ? one_int(cases[k].i) : one_uint(cases[k].u);
		size_t len = 0x5a5a5a5a;
		any a;
		memset(&a, 0x5a, sizeof(a));
		assert_int_equal(
		    unpack_one(m, cases[k].pic[0], &a, &len), cases[k].want);
		if (cases[k].want != TR_OK) {
			assert_true(untouched(&a, len));
		}
		tr_msg_free(m);
	}
}

/* A float32 reads as a double; an integer is no float, nor the
 * reverse. */
static void
test_picture_floats(void **state)
{
	tr_msg *m = NULL;
	double d = 0;
	int64_t q = 0;

	(void)state;
	assert_int_equal(tr_msg_new(&m, TAG), TR_OK);
	msgpack_pack_array(tr_msg_packer(m), 1);
	msgpack_pack_float(tr_msg_packer(m), 1.5f);
	assert_int_equal(tr_msg_unpackf(m, "d", &d), TR_OK);
	assert_true(d == 1.5);
	assert_int_equal(tr_msg_unpackf(m, "q", &q), TR_EPROTO);
	tr_msg_free(m);

	m = one_int(3);
	assert_int_equal(tr_msg_unpackf(m, "d", &d), TR_EPROTO);
	tr_msg_free(m);
}

/* NULL pointers check a value without keeping it. */
static void
test_picture_null_outputs(void **state)
{
	tr_msg *m = all_msg(TAG);
	int64_t q = 0;
	const char *s = NULL;

	(void)state;
	assert_int_equal(
	    tr_msg_unpackf(m, TP_ALL_PIC, NULL, NULL, NULL, NULL, NULL, NULL,
	        NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	    TR_OK);
	tr_msg_free(m);

	assert_int_equal(
	    tr_msg_newf(&m, TAG, "qsq", (int64_t)4, "kept", (int64_t)5), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "qsq", NULL, &s, &q), TR_OK);
	assert_string_equal(s, "kept");
	assert_true(q == 5);
	tr_msg_free(m);
}

/* Strings read with s stay valid whatever is read next from the same
 * message (the parse they live with is not redone). */
static void
test_picture_strings_outlive_reads(void **state)
{
	tr_msg *m = NULL;
	const char *s1 = NULL, *s2 = NULL;
	msgpack_object o, mo;

	(void)state;
	assert_int_equal(
	    tr_msg_newf(&m, TAG, "sm", "first", &(msgpack_object){0}), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "s", &s1), TR_EPROTO);
	assert_int_equal(tr_msg_unpackf(m, "sn", &s1), TR_OK);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "sm", &s2, &mo), TR_OK);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_string_equal(s1, "first");
	assert_string_equal(s2, "first");
	assert_ptr_not_equal(s1, s2);
	tr_msg_free(m);
}

/* Malformed pictures: TR_EINVAL from every call, nothing made. */
static void
test_picture_malformed(void **state)
{
	static const char *bad[] = {"x", "i x", "%d", "qq!", "I", "\x01"};
	tr_msg *m = one_int(1), *out = (tr_msg *)1;
	int64_t q = 0;

	(void)state;
	assert_int_equal(tr_msg_newf(&out, TAG, NULL), TR_EINVAL);
	assert_null(out);
	assert_int_equal(tr_msg_newf(NULL, TAG, "q", (int64_t)1), TR_EINVAL);
	assert_int_equal(tr_msg_unpackf(m, NULL), TR_EINVAL);
	assert_int_equal(tr_msg_unpackf(NULL, "q", &q), TR_EINVAL);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		out = (tr_msg *)1;
		assert_int_equal(
		    tr_msg_newf(&out, TAG, bad[k], 1, 2), TR_EINVAL);
		assert_null(out);
		assert_int_equal(tr_msg_unpackf(m, bad[k], &q, &q), TR_EINVAL);
		assert_int_equal(
		    tr_sendf(tr_self(), TAG, bad[k], 1, 2), TR_EINVAL);
		assert_int_equal(
		    tr_recvf(NULL, NULL, TR_NOWAIT, bad[k]), TR_EINVAL);
	}
	/* A system tag is refused as by tr_msg_new. */
	assert_int_equal(tr_msg_newf(&out, TR_TAG_EXIT, ""), TR_EINVAL);
	assert_null(out);
	tr_msg_free(m);
}

/* Bad arguments for the picture, refused before a message exists. */
static void
test_picture_bad_args(void **state)
{
	tr_msg *out = (tr_msg *)1;
	static const uint8_t byte = 1;

	(void)state;
	assert_int_equal(
	    tr_msg_newf(&out, TAG, "s", (const char *)NULL), TR_EINVAL);
	assert_null(out);
	assert_int_equal(tr_msg_newf(&out, TAG, "qS", (int64_t)1,
	                     (const char *)NULL, (size_t)1),
	    TR_EINVAL);
	assert_int_equal(
	    tr_msg_newf(&out, TAG, "b", (const void *)NULL, (size_t)3),
	    TR_EINVAL);
	assert_int_equal(
	    tr_msg_newf(&out, TAG, "m", (msgpack_object *)NULL), TR_EINVAL);
	/* Too big to be a body: refused without reading the bytes. */
	assert_int_equal(
	    tr_msg_newf(&out, TAG, "b", &byte, (size_t)TR_MSG_MAX + 1),
	    TR_EMSGSIZE);
	assert_int_equal(
	    tr_msg_newf(&out, TAG, "bb", &byte, (size_t)TR_MSG_MAX / 2 + 1,
	        &byte, (size_t)TR_MSG_MAX / 2 + 1),
	    TR_EMSGSIZE);
	assert_null(out);
}

/* Bodies that do not match: type, count, shape, trailing bytes. */
static void
test_picture_mismatch(void **state)
{
	static const struct {
		uint8_t bytes[24];
		size_t len;
		char letter;
	} cases[] = {
	    {{0x05}, 1, 'i'},                    /* not an array */
	    {{0x81, 0x01, 0x02}, 3, 'i'},        /* a map */
	    {{0x92, 0x01, 0x02}, 3, 'i'},        /* too many */
	    {{0x90}, 1, 'i'},                    /* too few */
	    {{0x91, 0x01, 0xc0}, 3, 'i'},        /* a trailing value */
	    {{0x91, 0xa1, 'x'}, 3, 'i'},         /* str for an int */
	    {{0x91, 0xc3}, 2, 'q'},              /* bool for an int */
	    {{0x91, 0x01}, 2, '?'},              /* int for a bool */
	    {{0x91, 0xc4, 0x01, 'x'}, 4, 's'},   /* bin for a str */
	    {{0x91, 0xc4, 0x01, 'x'}, 4, 'S'},   /* bin for a str */
	    {{0x91, 0xa1, 'x'}, 3, 'b'},         /* str for a bin */
	    {{0x91, 0xa3, 'a', 0, 'b'}, 5, 's'}, /* NUL inside, for s */
	    {{0x91, 0xc0}, 2, 'r'},              /* nil for a ref */
	    {{0x91, 0x01}, 2, 'n'},              /* int for nil */
	    {{0x91, 0xc0}, 2, 'd'},              /* nil for a float */
	    {{0x91, 0xd7, 0x54, 1, 2, 3, 4, 5, 6, 7, 8}, 11, 'r'}, /* 8 bytes */
	    {{0x91, 0xd8, 0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	        19, 'r'},           /* another ext type */
	    {{0x91, 0xc1}, 2, 'm'}, /* 0xc1 is never used */
	};
	tr_msg *m;
	int64_t a = 1, b = 2;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t len = 0x5a5a5a5a;
		any v;
		int rv;
		memset(&v, 0x5a, sizeof(v));
		m = raw_msg(cases[k].bytes, cases[k].len);
		rv = unpack_one(m, cases[k].letter, &v, &len);
		if (rv != TR_EPROTO) {
			fail_msg("case %zu: %d, not TR_EPROTO", k, rv);
		}
		assert_true(untouched(&v, len));
		tr_msg_free(m);
	}
	/* Counts, the other way round. */
	m = one_int(1);
	assert_int_equal(tr_msg_unpackf(m, "qq", &a, &b), TR_EPROTO);
	assert_int_equal(tr_msg_unpackf(m, ""), TR_EPROTO);
	assert_true(a == 1 && b == 2);
	tr_msg_free(m);
}

/* Nothing is written when a later value fails. */
static void
test_picture_all_or_nothing(void **state)
{
	tr_msg *m = NULL;
	int64_t a = 11, b = 12;
	const char *s = "untouched";

	(void)state;
	assert_int_equal(
	    tr_msg_newf(&m, TAG, "qsq", (int64_t)1, "x", (int64_t)-1), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "qsQ", &a, &s, &b), TR_EPROTO);
	assert_true(a == 11 && b == 12);
	assert_string_equal(s, "untouched");
	tr_msg_free(m);
}

/* Every prefix of a valid body is refused, never over-read. */
static void
test_picture_truncated(void **state)
{
	tr_msg *whole = all_msg(TAG);
	size_t len = tr_msg_size(whole);
	uint8_t *bytes = malloc(len);

	(void)state;
	assert_non_null(bytes);
	memcpy(bytes, tr_msg_data(whole), len);
	for (size_t cut = 0; cut < len; cut++) {
		/* Exactly cut bytes on the heap: ASan sees a read past it. */
		tr_msg *m = raw_msg(bytes, cut);
		all_vals v;
		msgpack_object o;
		assert_int_equal(
		    tr_msg_unpackf(m, TP_ALL_PIC, &v.i, &v.u, &v.q, &v.uq, &v.d,
		        &v.b, &v.s, &v.str, &v.str_len, &v.bin, &v.bin_len,
		        &v.r, &v.m),
		    TR_EPROTO);
		assert_int_equal(tr_msg_unpackf(m, "m", &o), TR_EPROTO);
		tr_msg_free(m);
	}
	free(bytes);
	tr_msg_free(whole);
}

/* Lengths and counts that lie about what follows, and nesting past the
 * limit: refused without allocating for the lie. */
static void
test_picture_hostile(void **state)
{
	static const struct {
		uint8_t bytes[12];
		size_t len;
		const char *pic;
	} cases[] = {
	    {{0xdd, 0xff, 0xff, 0xff, 0xff}, 5, "m"},       /* array 2^32-1 */
	    {{0x91, 0xdb, 0xff, 0xff, 0xff, 0xff}, 6, "S"}, /* str 2^32-1 */
	    {{0x91, 0xc6, 0x7f, 0xff, 0xff, 0xff}, 6, "b"}, /* bin */
	    {{0x91, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x54}, 7, "r"}, /* ext */
	    {{0x91, 0xdf, 0xff, 0xff, 0xff, 0xff, 1}, 7, "m"},    /* map */
	    {{0x91, 0xdc, 0xff, 0xff}, 4, "m"},                   /* array 16 */
	    {{0x91, 0xcf, 1, 2}, 4, "Q"},                         /* uint 64 */
	    {{0x91, 0xcb, 1}, 3, "d"},                            /* float 64 */
	};
	uint8_t deep[64];
	tr_msg *m;
	msgpack_object o;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t len = 0x5a5a5a5a;
		any v;
		memset(&v, 0x5a, sizeof(v));
		m = raw_msg(cases[k].bytes, cases[k].len);
		assert_int_equal(
		    unpack_one(m, cases[k].pic[0], &v, &len), TR_EPROTO);
		assert_true(untouched(&v, len));
		tr_msg_free(m);
	}
	/* [[[[...]]]] 63 deep: past what msgpack-c unpacks. */
	memset(deep, 0x91, sizeof(deep));
	deep[sizeof(deep) - 1] = 0xc0;
	m = raw_msg(deep, sizeof(deep));
	assert_int_equal(tr_msg_unpackf(m, "m", &o), TR_EPROTO);
	tr_msg_free(m);
}

/* Bytes from a fixed pseudo-random sequence, under pictures of every
 * letter: the answer is TR_OK or TR_EPROTO, nothing else, no crash. */
static void
test_picture_random_bodies(void **state)
{
	uint32_t x = 2463534242u;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint8_t bytes[40];
		size_t len = 1 + round % sizeof(bytes);
		all_vals v;
		tr_msg *m;
		int rv;
		for (size_t k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			bytes[k] = (uint8_t)x;
		}
		/* Mostly arrays of the right count, so that values get read. */
		if (round % 4 != 0) {
			bytes[0] = round % 3 == 0 ? 0x9c : 0x92;
		}
		m = raw_msg(bytes, len);
		if (round % 3 == 0) {
			rv = tr_msg_unpackf(m, TP_ALL_PIC, &v.i, &v.u, &v.q,
			    &v.uq, &v.d, &v.b, &v.s, &v.str, &v.str_len, &v.bin,
			    &v.bin_len, &v.r, &v.m);
		} else {
			msgpack_object m2;
			rv = tr_msg_unpackf(m, "mm", &v.m, &m2);
		}
		if (rv != TR_OK && rv != TR_EPROTO) {
			fail_msg("round %d: %d", round, rv);
		}
		tr_msg_free(m);
	}
}

/* Allocation failures while making a message: TR_ENOMEM, nothing
 * left behind, until there is memory enough. */
static void
test_picture_alloc_failures(void **state)
{
	int rv = TR_ENOMEM;

	(void)state;
	for (long n = 0; rv == TR_ENOMEM; n++) {
		tr_msg *m = (tr_msg *)1;
		tri_alloc_fail_after(n);
		rv = tr_msg_newf(&m, TAG, "sq",
		    "a string of some length, "
		    "longer than 64 bytes, so that "
		    "the body grows twice",
		    (int64_t)1);
		tri_alloc_fail_after(-1);
		if (rv == TR_ENOMEM) {
			assert_null(m);
		} else {
			assert_int_equal(rv, TR_OK);
			tr_msg_free(m);
		}
		assert_true(n < 100);
	}
}

/* Without a runtime: pictures still work as values; sends do not. */
static void
test_picture_not_running(void **state)
{
	tr_msg *m = NULL;
	int64_t v = 0;

	(void)state;
	assert_int_equal(tr_msg_newf(&m, TAG, "q", (int64_t)8), TR_OK);
	assert_int_equal(tr_msg_unpackf(m, "q", &v), TR_OK);
	assert_true(v == 8);
	assert_int_equal(tr_forward(m, (tr_ref){1, 0, 1, 1}), TR_ECLOSED);
	tr_msg_free(m);
	assert_int_equal(
	    tr_sendf((tr_ref){1, 0, 1, 1}, TAG, "q", (int64_t)1), TR_ECLOSED);
	assert_int_equal(tr_recvf(&m, NULL, TR_NOWAIT, ""), TR_ECLOSED);
	assert_null(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_picture_not_running),
	    cmocka_unit_test_setup_teardown(
	        test_picture_every_letter, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_other_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_int_encodings, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_int_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_floats, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_null_outputs, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_strings_outlive_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_all_or_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_hostile, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_picture_random_bodies, setup, teardown),
	    cmocka_unit_test(test_picture_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
