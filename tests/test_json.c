/*
 * test_json.c -- the JSON reader and base64 (transport/json.h,
 * base64.h), and the reading of etcd's key-values from them.
 *
 * Replies of etcd come from the network: most cases are bad input --
 * truncated, nested too deep, numbers and escapes that lie, base64 that
 * is not -- each refused with its exact code.  Inputs sit at the very
 * end of a mapping (the byte after them faults), so a read past the
 * end crashes here in any build, not only under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "base64.h"
#include "etcd_impl.h"
#include "json.h"
#include "troupe.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Text placed so that its last byte is the last before a guard page. */
typedef struct fence {
	char *base;
	size_t maplen, room;
} fence;

static void
fence_init(fence *f, size_t room)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = (room + (size_t)page - 1) / (size_t)page + 1;

	f->maplen = pages * (size_t)page;
	f->room = (pages - 1) * (size_t)page;
	f->base = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->base != MAP_FAILED);
	assert_int_equal(
	    mprotect(f->base + f->room, (size_t)page, PROT_NONE), 0);
}

static const char *
fence_put(fence *f, const void *data, size_t n)
{
	assert_true(n <= f->room);
	char *at = f->base + f->room - n;
	memcpy(at, data, n);
	return at;
}

static void
fence_fini(fence *f)
{
	munmap(f->base, f->maplen);
}

/* Parses text (all of strlen) at the end of a fence. */
static int
parse_fenced(tri_json *d, const char *text, size_t n)
{
	fence f;
	int rc;

	fence_init(&f, n + 1);
	rc = tri_json_parse(d, fence_put(&f, text, n), n);
	if (rc == TR_OK) {
		tri_json_free(d);
	}
	fence_fini(&f);
	return rc;
}

/* A deterministic generator (xorshift64*): runs are repeatable. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A reply of etcd 3.4's gateway to a range, as it sends it. */
static const char range_reply[] =
    "{\"header\":{\"cluster_id\":\"324952591200643719\",\"member_id\":"
    "\"3319814642761637952\",\"revision\":\"2\",\"raft_term\":\"2\"},"
    "\"kvs\":[{\"key\":\"L2EveA==\",\"create_revision\":\"2\","
    "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"aGk=\","
    "\"lease\":\"2324035820989227272\"}],\"count\":\"1\"}";

/* ------------------------------------------------------------------ */
/* The reader on good input                                            */

static void
test_json_etcd_reply(void **state)
{
	tri_json d;
	int64_t v;
	uint32_t kvs, kv;
	char *s;
	size_t n;

	(void)state;
	assert_int_equal(
	    tri_json_parse(&d, range_reply, strlen(range_reply)), TR_OK);
	assert_int_equal(tri_json_type_of(&d, 0), TRI_JSON_OBJECT);
	assert_int_equal(tri_etcd_header_rev(&d, 0, &v), TR_OK);
	assert_int_equal(v, 2);
	kvs = tri_json_get(&d, 0, "kvs");
	assert_int_equal(tri_json_type_of(&d, kvs), TRI_JSON_ARRAY);
	assert_int_equal(d.tok[kvs].count, 1);
	kv = tri_json_first(&d, kvs);
	assert_int_equal(tri_json_next(&d, kvs, kv), TRI_JSON_NONE);
	assert_int_equal(
	    tri_json_int(&d, tri_json_get(&d, kv, "lease"), &v), TR_OK);
	assert_int_equal(v, 2324035820989227272LL);
	assert_int_equal(
	    tri_json_str(&d, tri_json_get(&d, kv, "key"), &s, &n), TR_OK);
	assert_string_equal(s, "L2EveA==");
	assert_int_equal(n, 8);
	tri_free(s);
	/* Absent members, and lookups on what is no object. */
	assert_int_equal(tri_json_get(&d, 0, "nope"), TRI_JSON_NONE);
	assert_int_equal(tri_json_get(&d, kvs, "key"), TRI_JSON_NONE);
	assert_int_equal(tri_json_get(&d, TRI_JSON_NONE, "kvs"), TRI_JSON_NONE);
	assert_int_equal(tri_json_type_of(&d, TRI_JSON_NONE), 0);
	assert_int_equal(tri_json_int(&d, TRI_JSON_NONE, &v), TR_EPROTO);
	assert_int_equal(tri_json_first(&d, TRI_JSON_NONE), TRI_JSON_NONE);
	tri_json_free(&d);
}

static void
test_json_scalars_and_iteration(void **state)
{
	static const char text[] =
	    " {\"a\":[1,-2,\"3\",true,false,null,{},[]],\"b\":{\"x\":0},"
	    "\"c\":1.5e3,\"d\":\"-9223372036854775808\"} ";
	tri_json d;
	int64_t v, want[] = {1, -2, 3};
	uint32_t a, t;
	bool b;
	int k = 0;

	(void)state;
	assert_int_equal(tri_json_parse(&d, text, strlen(text)), TR_OK);
	a = tri_json_get(&d, 0, "a");
	assert_int_equal(d.tok[a].count, 8);
	for (t = tri_json_first(&d, a); t != TRI_JSON_NONE;
	     t = tri_json_next(&d, a, t), k++) {
		if (k < 3) {
			assert_int_equal(tri_json_int(&d, t, &v), TR_OK);
			assert_int_equal(v, want[k]);
		}
	}
	assert_int_equal(k, 8);
	t = tri_json_first(&d, a);
	for (int i = 0; i < 3; i++) {
		t = tri_json_next(&d, a, t);
	}
	assert_int_equal(tri_json_bool(&d, t, &b), TR_OK);
	assert_true(b);
	t = tri_json_next(&d, a, t);
	assert_int_equal(tri_json_bool(&d, t, &b), TR_OK);
	assert_false(b);
	t = tri_json_next(&d, a, t);
	assert_int_equal(tri_json_type_of(&d, t), TRI_JSON_NULL);
	assert_int_equal(tri_json_bool(&d, t, &b), TR_EPROTO);
	/* Values of an object, in order. */
	t = tri_json_first(&d, 0);
	assert_int_equal(t, a);
	t = tri_json_next(&d, 0, t);
	assert_int_equal(tri_json_type_of(&d, t), TRI_JSON_OBJECT);
	/* Not integers: a fraction or exponent, a string that is text. */
	assert_int_equal(
	    tri_json_int(&d, tri_json_get(&d, 0, "c"), &v), TR_EPROTO);
	assert_int_equal(tri_json_int(&d, tri_json_get(&d, 0, "d"), &v), TR_OK);
	assert_true(v == INT64_MIN);
	assert_int_equal(
	    tri_json_int(&d, tri_json_get(&d, 0, "b"), &v), TR_EPROTO);
	tri_json_free(&d);
}

static void
test_json_int_limits(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int64_t v;
	} cases[] = {
	    {"9223372036854775807", TR_OK, INT64_MAX},
	    {"9223372036854775808", TR_EPROTO, 0},
	    {"-9223372036854775809", TR_EPROTO, 0},
	    {"99999999999999999999999", TR_EPROTO, 0},
	    {"\"9223372036854775807\"", TR_OK, INT64_MAX},
	    {"\"9223372036854775808\"", TR_EPROTO, 0},
	    {"\"\"", TR_EPROTO, 0},
	    {"\"-\"", TR_EPROTO, 0},
	    {"\"1 \"", TR_EPROTO, 0},
	    {"\"+1\"", TR_EPROTO, 0},
	    {"\"\\u0031\"", TR_EPROTO, 0},
	    {"-0", TR_OK, 0},
	    {"1e2", TR_EPROTO, 0},
	    {"true", TR_EPROTO, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tri_json d;
		int64_t v = 12345;
		assert_int_equal(
		    tri_json_parse(&d, cases[i].text, strlen(cases[i].text)),
		    TR_OK);
		assert_int_equal(tri_json_int(&d, 0, &v), cases[i].rc);
		if (cases[i].rc == TR_OK) {
			assert_true(v == cases[i].v);
		}
		tri_json_free(&d);
	}
}

static void
test_json_strings(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* NULL: refused */
	} cases[] = {
	    {"\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d"},
	    {"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t"},
	    {"\"\\u00e9\"", "\xc3\xa9"},
	    {"\"\\u20AC\"", "\xe2\x82\xac"},
	    {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"},
	    {"\"\\ud83d\"", NULL},        /* lone high surrogate */
	    {"\"\\ude00\"", NULL},        /* lone low surrogate */
	    {"\"\\ud83d\\u0041\"", NULL}, /* high, then no low */
	    {"\"\\ud83dx\"", NULL},
	    {"\"a\\u0000b\"", NULL}, /* a NUL would cut the C string */
	    {"\"\"", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tri_json d;
		char *s = NULL;
		size_t n;
		assert_int_equal(
		    tri_json_parse(&d, cases[i].text, strlen(cases[i].text)),
		    TR_OK);
		int rc = tri_json_str(&d, 0, &s, &n);
		if (cases[i].want == NULL) {
			assert_int_equal(rc, TR_EPROTO);
			assert_null(s);
		} else {
			assert_int_equal(rc, TR_OK);
			assert_string_equal(s, cases[i].want);
			assert_int_equal(n, strlen(cases[i].want));
		}
		tri_free(s);
		tri_json_free(&d);
	}
}

static void
test_json_escaped_keys(void **state)
{
	static const char text[] = "{\"\\u0061b\":1,\"ab\":2,\"c\\\"\":3}";
	tri_json d;
	int64_t v;

	(void)state;
	assert_int_equal(tri_json_parse(&d, text, strlen(text)), TR_OK);
	/* The first of two members that read the same wins. */
	assert_int_equal(
	    tri_json_int(&d, tri_json_get(&d, 0, "ab"), &v), TR_OK);
	assert_int_equal(v, 1);
	assert_int_equal(
	    tri_json_int(&d, tri_json_get(&d, 0, "c\""), &v), TR_OK);
	assert_int_equal(v, 3);
	assert_false(tri_json_str_eq(&d, 0, "ab"));
	tri_json_free(&d);
}

/* ------------------------------------------------------------------ */
/* The reader on bad input                                             */

static void
test_json_malformed(void **state)
{
	static const char *const bad[] = {
	    "", " ", "{", "}", "[", "[1,]", "[,1]", "{,}", "{\"a\"}",
	    "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "{'a':1}", "[1 2]",
	    "[1]]", "{}{}", "{}x", "01", "-", "-a", "1.", ".5", "1e", "1e+",
	    "+1", "0x10", "tru", "truex", "nul", "NaN", "Infinity", "\"abc",
	    "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\",
	    "\"a\tb\"", /* raw control character */
	    "\"a\nb\"", "[\"a\"\"b\"]", "{\"a\":1 \"b\":2}",
	    "\xef\xbb\xbf{}", /* a BOM is not white space */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tri_json d;
		int rc = parse_fenced(&d, bad[i], strlen(bad[i]));
		if (rc != TR_EPROTO) {
			fail_msg("accepted bad JSON #%zu: %s", i, bad[i]);
		}
	}
}

static void
test_json_nul_inside(void **state)
{
	static const char text[] = "{\"a\":\"x\0y\"}";
	tri_json d;

	(void)state;
	assert_int_equal(parse_fenced(&d, text, sizeof(text) - 1), TR_EPROTO);
	/* A NUL after the value is trailing garbage. */
	assert_int_equal(parse_fenced(&d, "{}\0", 3), TR_EPROTO);
	assert_int_equal(tri_json_parse(&d, NULL, 0), TR_EPROTO);
}

static void
test_json_depth(void **state)
{
	char text[2 * (TRI_JSON_DEPTH + 1) + 1];
	tri_json d;

	(void)state;
	for (int depth = TRI_JSON_DEPTH; depth <= TRI_JSON_DEPTH + 1; depth++) {
		memset(text, '[', (size_t)depth);
		memset(text + depth, ']', (size_t)depth);
		int rc = parse_fenced(&d, text, (size_t)depth * 2);
		assert_int_equal(
		    rc, depth <= TRI_JSON_DEPTH ? TR_OK : TR_EPROTO);
	}
	/* Deep but unclosed: refused without recursion either way. */
	size_t big = 1 << 20;
	char *deep = malloc(big);
	assert_non_null(deep);
	memset(deep, '[', big);
	assert_int_equal(parse_fenced(&d, deep, big), TR_EPROTO);
	memset(deep, '{', big);
	assert_int_equal(parse_fenced(&d, deep, big), TR_EPROTO);
	free(deep);
}

static void
test_json_too_long(void **state)
{
	tri_json d;

	(void)state;
	/* The length alone is refused: nothing past it is read. */
	assert_int_equal(tri_json_parse(&d, "{}", TRI_JSON_MAX + 1), TR_EPROTO);
}

/* Every proper prefix of a reply is refused, none read past its end. */
static void
test_json_every_prefix(void **state)
{
	size_t n = strlen(range_reply);
	tri_json d;

	(void)state;
	for (size_t len = 0; len < n; len++) {
		assert_int_equal(parse_fenced(&d, range_reply, len), TR_EPROTO);
	}
	assert_int_equal(parse_fenced(&d, range_reply, n), TR_OK);
}

/*
 * Mutations of a reply (bytes changed, dropped, doubled): whatever is
 * accepted must be walkable -- every token inside the text, subtrees
 * nested properly -- and reading its kvs must not crash.
 */
static void
test_json_mutations(void **state)
{
	static const char alphabet[] = "{}[]\",:\\0123456789-+.eEtfnul aA=";
	size_t n = strlen(range_reply);
	uint64_t seed = 0x5eed;
	char buf[512];
	fence f;
	int accepted = 0;

	(void)state;
	fence_init(&f, sizeof(buf));
	for (int round = 0; round < 20000; round++) {
		size_t len = n;
		memcpy(buf, range_reply, n);
		int edits = 1 + (int)(rng_next(&seed) % 4);
		for (int k = 0; k < edits && len > 1; k++) {
			size_t at = rng_next(&seed) % len;
			switch (rng_next(&seed) % 3) {
			case 0:
				buf[at] = alphabet[rng_next(&seed) %
				    (sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			default:
				if (len < sizeof(buf)) {
					memmove(
					    buf + at + 1, buf + at, len - at);
					len++;
				}
				break;
			}
		}
		tri_json d;
		const char *text = fence_put(&f, buf, len);
		if (tri_json_parse(&d, text, len) != TR_OK) {
			continue;
		}
		accepted++;
		for (uint32_t t = 0; t < d.ntok; t++) {
			assert_true(
			    (size_t)d.tok[t].start + d.tok[t].len <= len);
			assert_true(d.tok[t].end > t && d.tok[t].end <= d.ntok);
		}
		uint32_t arr = tri_json_get(&d, 0, "kvs");
		for (uint32_t t = tri_json_first(&d, arr); t != TRI_JSON_NONE;
		     t = tri_json_next(&d, arr, t)) {
			tri_etcd_kv kv;
			if (tri_etcd_parse_kv(&d, t, &kv) == TR_OK) {
				assert_true(kv.key_len > 0);
				assert_int_equal(kv.key[kv.key_len], '\0');
				tri_etcd_kv_clear(&kv);
			}
		}
		tri_json_free(&d);
	}
	fence_fini(&f);
	/* Some mutations keep it JSON (a digit for a digit): the walk
	 * above did run. */
	assert_true(accepted > 100);
}

static void
test_json_nomem(void **state)
{
	tri_json d;
	char *s;
	int rc = TR_ENOMEM;

	(void)state;
	/* Sweep: each allocation in turn fails, until none does. */
	for (long n = 0; rc == TR_ENOMEM; n++) {
		tri_alloc_fail_after(n);
		rc = tri_json_parse(&d, range_reply, strlen(range_reply));
		tri_alloc_fail_after(-1);
		assert_true(rc == TR_OK || rc == TR_ENOMEM);
		if (rc == TR_ENOMEM) {
			assert_null(d.tok);
		}
	}
	tri_alloc_fail_after(0);
	assert_int_equal(
	    tri_json_str(&d, tri_json_get(&d, 0, "header"), &s, NULL),
	    TR_EPROTO);
	uint32_t kv = tri_json_first(&d, tri_json_get(&d, 0, "kvs"));
	assert_int_equal(
	    tri_json_str(&d, tri_json_get(&d, kv, "key"), &s, NULL), TR_ENOMEM);
	tri_alloc_fail_after(-1);
	tri_json_free(&d);
}

static void
test_json_quote(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(tri_json_quote("tcp://a:1", out, sizeof(out)), 11);
	assert_string_equal(out, "\"tcp://a:1\"");
	assert_int_equal(tri_json_quote("a\"b\\c\n\x01", out, sizeof(out)), 21);
	assert_string_equal(out, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	/* Cut short, as snprintf: the length it needs, NUL-terminated. */
	assert_int_equal(tri_json_quote("abcdef", out, 4), 8);
	assert_string_equal(out, "\"ab");
	/* What it writes, the reader reads back. */
	tri_json d;
	char *s;
	tri_json_quote("x\"\\\t\x7f/", out, sizeof(out));
	assert_int_equal(tri_json_parse(&d, out, strlen(out)), TR_OK);
	assert_int_equal(tri_json_str(&d, 0, &s, NULL), TR_OK);
	assert_string_equal(s, "x\"\\\t\x7f/");
	tri_free(s);
	tri_json_free(&d);
}

/* ------------------------------------------------------------------ */
/* base64                                                              */

static void
test_b64_roundtrip(void **state)
{
	/* back: room for the decoder's NUL after the longest (base64.h). */
	uint8_t in[64], back[64 + 1];
	char enc[100];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++) {
		in[i] = (uint8_t)(i * 37 + 11);
	}
	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t e = tri_b64_encode(in, n, enc);
		assert_int_equal(e, tri_b64_len(n));
		assert_int_equal(strlen(enc), e);
		assert_int_equal(tri_b64_decode(enc, e, back), n);
		assert_memory_equal(in, back, n);
	}
	tri_b64_encode("/a/x", 4, enc);
	assert_string_equal(enc, "L2EveA==");
}

static void
test_b64_refused(void **state)
{
	static const char *const bad[] = {
	    "L2EveA=", /* not a multiple of 4 */
	    "L2Eve",
	    "L2EveA=a", /* data after padding */
	    "L2E=eA==", /* padding in the middle */
	    "L2EveA=\n",
	    "L2Ev eA=",
	    "L2Ev-A==", /* URL-safe alphabet */
	    "L2Ev_A==",
	    "=AAA",
	    "A===",
	    "====",
	    "L2EveB==", /* bits left over */
	    "L2EveAB=",
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tri_b64_decode(bad[i], strlen(bad[i]), out) != (size_t)-1) {
			fail_msg("accepted bad base64 #%zu: %s", i, bad[i]);
		}
	}
	assert_int_equal(tri_b64_decode("", 0, out), 0);
}

/* ------------------------------------------------------------------ */
/* etcd's key-values                                                   */

static void
test_kv_hostile(void **state)
{
	static const char *const bad[] = {
	    "{}",                             /* no key */
	    "{\"key\":\"\"}",                 /* empty key */
	    "{\"key\":\"L2Ev\\u0065A==\"}",   /* escape inside base64 */
	    "{\"key\":\"L2EveA=\"}",          /* bad base64 */
	    "{\"key\":1}",                    /* not a string */
	    "{\"key\":\"YQ==\",\"value\":7}", /* value not a string */
	    "{\"key\":\"YQ==\",\"value\":\"!\"}",
	    "{\"key\":\"YQ==\",\"lease\":\"x\"}",
	    "{\"key\":\"YQ==\",\"mod_revision\":1.5}",
	    "{\"key\":\"YQ==\",\"version\":\"99999999999999999999\"}",
	    "[\"key\",\"YQ==\"]",
	};
	tri_json d;
	tri_etcd_kv kv;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    tri_json_parse(&d, bad[i], strlen(bad[i])), TR_OK);
		if (tri_etcd_parse_kv(&d, 0, &kv) != TR_EPROTO) {
			fail_msg("accepted bad kv #%zu: %s", i, bad[i]);
		}
		assert_null(kv.key);
		tri_json_free(&d);
	}
	/* A key that holds a NUL is read (its length says so); the
	 * members layer refuses it. */
	static const char nul[] = "{\"key\":\"YQBi\",\"value\":\"\"}";
	assert_int_equal(tri_json_parse(&d, nul, strlen(nul)), TR_OK);
	assert_int_equal(tri_etcd_parse_kv(&d, 0, &kv), TR_OK);
	assert_int_equal(kv.key_len, 3);
	assert_int_equal(strlen(kv.key), 1);
	assert_int_equal(kv.value_len, 0);
	assert_string_equal(kv.value, "");
	tri_etcd_kv_clear(&kv);
	tri_json_free(&d);
}

static void
test_prefix_end(void **state)
{
	size_t n;
	char *e;

	(void)state;
	e = tri_etcd_prefix_end("/troupe/a/", &n);
	assert_string_equal(e, "/troupe/a0");
	assert_int_equal(n, 10);
	tri_free(e);
	e = tri_etcd_prefix_end("a\xff\xff", &n);
	assert_string_equal(e, "b");
	tri_free(e);
	/* Nothing to grow: every key from here on ("\0"). */
	e = tri_etcd_prefix_end("\xff", &n);
	assert_int_equal(n, 1);
	assert_int_equal(e[0], '\0');
	tri_free(e);
	e = tri_etcd_prefix_end("", &n);
	assert_int_equal(n, 1);
	tri_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_etcd_reply),
	    cmocka_unit_test(test_json_scalars_and_iteration),
	    cmocka_unit_test(test_json_int_limits),
	    cmocka_unit_test(test_json_strings),
	    cmocka_unit_test(test_json_escaped_keys),
	    cmocka_unit_test(test_json_malformed),
	    cmocka_unit_test(test_json_nul_inside),
	    cmocka_unit_test(test_json_depth),
	    cmocka_unit_test(test_json_too_long),
	    cmocka_unit_test(test_json_every_prefix),
	    cmocka_unit_test(test_json_mutations),
	    cmocka_unit_test(test_json_nomem),
	    cmocka_unit_test(test_json_quote),
	    cmocka_unit_test(test_b64_roundtrip),
	    cmocka_unit_test(test_b64_refused),
	    cmocka_unit_test(test_kv_hostile),
	    cmocka_unit_test(test_prefix_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
