/*
 * test_frame.c -- the wire frame codec (transport/frame.h).
 *
 * Frames come from other processes and, later, other hosts, so most of
 * these cases are bad input: truncated, oversized, lying about lengths,
 * nested too deep.  Every rejection is checked for its exact code and
 * for leaving the caller's offset where it was.  The property cases
 * hold the body checker to its promise: whatever it accepts, msgpack-c
 * unpacks completely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "alloc.h"
#include "frame.h"

#define BIG_MAX (1u << 20)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A small deterministic generator (xorshift64*): runs are repeatable. */
typedef struct rng {
	uint64_t s;
} rng;

static uint64_t
rng_next(rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static uint32_t
rng_below(rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

/*
 * Input placed so that its last byte is the last one before an
 * inaccessible page: reading one byte too far faults at once, in any
 * build, instead of reading whatever follows in the heap.
 */
typedef struct fence {
	uint8_t *base;
	size_t room; /* usable bytes below the guard page */
	size_t maplen;
} fence;

static void
fence_init(fence *g)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	void *m;

	g->room = 64 * ps;
	g->maplen = g->room + ps;
	m = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	g->base = m;
	assert_int_equal(mprotect(g->base + g->room, ps, PROT_NONE), 0);
}

static uint8_t *
fence_put(fence *g, const void *src, size_t n)
{
	uint8_t *p;

	assert_true(n <= g->room);
	p = g->base + g->room - n;
	if (n > 0) {
		memcpy(p, src, n);
	}
	return p;
}

static void
fence_fini(fence *g)
{
	assert_int_equal(munmap(g->base, g->maplen), 0);
}

/* tri_body_check on a fenced copy of body. */
static int
body_check_fenced(const uint8_t *body, size_t n)
{
	fence g;
	int rv;

	fence_init(&g);
	rv = tri_body_check(fence_put(&g, body, n), n);
	fence_fini(&g);
	return rv;
}

static tri_frame
mkframe(uint8_t kind, uint32_t tag, const void *body, uint32_t body_len)
{
	tri_frame f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.tag = tag;
	f.sender = (tr_ref){0x80000001u, 0xfffffffeu, 3u, 0xdeadbeefu};
	f.dest = (tr_ref){7u, 0x7fffffffu, 0xffffffffu, 1u};
	f.corr = 0x8000000000000001ull;
	f.body = body;
	f.body_len = body_len;
	return f;
}

static void
assert_ref_equal(tr_ref a, tr_ref b)
{
	assert_int_equal(a.node, b.node);
	assert_int_equal(a.proc, b.proc);
	assert_int_equal(a.slot, b.slot);
	assert_int_equal(a.gen, b.gen);
}

static void
assert_frame_equal(const tri_frame *want, const tri_frame *got)
{
	assert_int_equal(want->kind, got->kind);
	assert_int_equal(want->tag, got->tag);
	assert_ref_equal(want->sender, got->sender);
	assert_ref_equal(want->dest, got->dest);
	assert_true(want->corr == got->corr);
	assert_int_equal(want->body_len, got->body_len);
	if (want->body_len > 0) {
		assert_memory_equal(want->body, got->body, want->body_len);
	}
}

/* Encodes f alone into a fresh buffer the caller frees. */
static uint8_t *
encode1(const tri_frame *f, size_t *len)
{
	uint8_t *buf = NULL;
	size_t cap = 0;

	*len = 0;
	assert_int_equal(tri_frame_encode(f, BIG_MAX, &buf, len, &cap), TR_OK);
	assert_non_null(buf);
	assert_int_equal(*len, TRI_FRAME_HDR + f->body_len);
	return buf;
}

/* msgpack-c must unpack body as exactly one value. */
static void
assert_unpacks_exactly(const uint8_t *body, size_t len)
{
	msgpack_unpacked u;
	msgpack_unpack_return r;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	r = msgpack_unpack_next(&u, (const char *)body, len, &off);
	msgpack_unpacked_destroy(&u);
	assert_int_equal(r, MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, len);
}

/* A body with a bit of everything: nested arrays and maps, str, bin,
 * ext, fixext, ints of every width, floats. */
static void
pack_rich_body(msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	static const char bin[] = {0, 1, 2, (char)0xc1, (char)0xff};
	static const char ext16[16] = {1, 2, 3};

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 6);

	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "arr", 3);
	msgpack_pack_array(&pk, 10);
	msgpack_pack_nil(&pk);
	msgpack_pack_true(&pk);
	msgpack_pack_false(&pk);
	msgpack_pack_int8(&pk, -100);
	msgpack_pack_uint16(&pk, 60000);
	msgpack_pack_int32(&pk, -70000);
	msgpack_pack_uint64(&pk, 0xffffffffffffffffull);
	msgpack_pack_float(&pk, 1.5f);
	msgpack_pack_double(&pk, -2.25);
	msgpack_pack_array(&pk, 2); /* [[], {}] */
	msgpack_pack_array(&pk, 0);
	msgpack_pack_map(&pk, 0);

	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "bin", 3);
	msgpack_pack_bin(&pk, sizeof(bin));
	msgpack_pack_bin_body(&pk, bin, sizeof(bin));

	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "ext", 3);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_ext(&pk, 16, TR_MSGPACK_EXT_REF); /* fixext16 */
	msgpack_pack_ext_body(&pk, ext16, 16);
	msgpack_pack_ext(&pk, 3, -5); /* ext8 */
	msgpack_pack_ext_body(&pk, "abc", 3);
	msgpack_pack_ext(&pk, 0, 1); /* ext8, empty */

	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "long", 4);
	{
		char s[300];
		memset(s, 'x', sizeof(s));
		msgpack_pack_str(&pk, sizeof(s)); /* str16 */
		msgpack_pack_str_body(&pk, s, sizeof(s));
	}

	msgpack_pack_int(&pk, -1); /* a non-string key */
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str(&pk, 0);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_str(&pk, 1);
	msgpack_pack_str_body(&pk, "z", 1);

	msgpack_pack_str(&pk, 5);
	msgpack_pack_str_body(&pk, "empty", 5);
	msgpack_pack_str(&pk, 0);
}

/* Packs a random value of at most depth levels of non-empty containers
 * and, roughly, at most *budget values. */
static void
pack_random(msgpack_packer *pk, rng *r, int depth, int *budget)
{
	static const uint32_t sizes[] = {
	    0, 1, 2, 3, 4, 8, 15, 16, 17, 31, 32, 255, 256, 300};
	char data[300];
	uint32_t n;

	memset(data, 0xc1, sizeof(data)); /* payload bytes never matter */
	--*budget;
	switch (rng_below(r, depth > 0 && *budget > 0 ? 16 : 13)) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		(void)(rng_below(r, 2) ? msgpack_pack_true(pk) :
		                         msgpack_pack_false(pk));
		break;
	case 2:
		msgpack_pack_int64(pk, (int64_t)rng_next(r));
		break;
	case 3:
		msgpack_pack_uint64(pk, rng_next(r) >> rng_below(r, 64));
		break;
	case 4:
		msgpack_pack_int64(
		    pk, -(int64_t)(rng_next(r) >> (1 + rng_below(r, 63))));
		break;
	case 5:
		msgpack_pack_float(pk, (float)rng_below(r, 1000) / 7.0f);
		break;
	case 6:
		msgpack_pack_double(pk, (double)rng_next(r) / 3.0);
		break;
	case 7:
	case 8:
		n = sizes[rng_below(r, sizeof(sizes) / sizeof(sizes[0]))];
		msgpack_pack_str(pk, n);
		msgpack_pack_str_body(pk, data, n);
		break;
	case 9:
	case 10:
		n = sizes[rng_below(r, sizeof(sizes) / sizeof(sizes[0]))];
		msgpack_pack_bin(pk, n);
		msgpack_pack_bin_body(pk, data, n);
		break;
	case 11:
	case 12:
		n = sizes[rng_below(r, sizeof(sizes) / sizeof(sizes[0]))];
		msgpack_pack_ext(pk, n, (int8_t)rng_below(r, 256));
		msgpack_pack_ext_body(pk, data, n);
		break;
	case 13:
	case 14:
		n = rng_below(r, 8) == 0 ? 16 + rng_below(r, 8) :
		                           rng_below(r, 5);
		msgpack_pack_array(pk, n);
		for (uint32_t i = 0; i < n; i++) {
			pack_random(pk, r, depth - 1, budget);
		}
		break;
	default:
		n = rng_below(r, 8) == 0 ? 16 + rng_below(r, 4) :
		                           rng_below(r, 4);
		msgpack_pack_map(pk, n);
		for (uint32_t i = 0; i < 2 * n; i++) {
			pack_random(pk, r, depth - 1, budget);
		}
		break;
	}
}

/* A body of n nested one-element arrays around innermost. */
static size_t
nested(uint8_t *b, int n, uint8_t innermost)
{
	for (int i = 0; i < n; i++) {
		b[i] = 0x91;
	}
	b[n] = innermost;
	return (size_t)n + 1;
}

#define BODY_CHECK(want, ...)                                       \
	do {                                                        \
		static const uint8_t body_[] = {__VA_ARGS__};       \
		assert_int_equal(                                   \
		    body_check_fenced(body_, sizeof(body_)), want); \
	} while (0)

/* ------------------------------------------------------------------ */
/* Round trips and the wire layout                                     */
/* ------------------------------------------------------------------ */

/* The header layout documented in frame.h, byte for byte. */
static void
test_header_layout(void **state)
{
	static const uint8_t want[TRI_FRAME_HDR + 1] = {
	    0x01, 0x02, 0x00, 0x00, /* ver, kind, flags */
	    0x44, 0x33, 0x22, 0x11, /* tag */
	    0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, /* sender */
	    0x0c, 0x0b, 0x0a, 0x09, 0x10, 0x0f, 0x0e, 0x0d, /* */
	    0x01, 0x00, 0x00, 0x80, 0xfe, 0xff, 0xff, 0xff, /* dest */
	    0xff, 0xff, 0xff, 0x7f, 0xef, 0xbe, 0xad, 0xde, /* */
	    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* corr */
	    0x01, 0x00, 0x00, 0x00,                         /* body_len */
	    0xc0,                                           /* body: nil */
	};
	static const uint8_t nil = 0xc0;
	tri_frame f = mkframe(TRI_K_CALL, 0x11223344u, &nil, 1);
	uint8_t hdr[TRI_FRAME_HDR];
	uint8_t *buf;
	size_t len;

	(void)state;
	f.sender = (tr_ref){0x01020304u, 0x05060708u, 0x090a0b0cu, 0x0d0e0f10u};
	f.dest = (tr_ref){0x80000001u, 0xfffffffeu, 0x7fffffffu, 0xdeadbeefu};
	f.corr = 0x8877665544332211ull;

	tri_frame_put_header(&f, hdr);
	assert_memory_equal(hdr, want, TRI_FRAME_HDR);
	buf = encode1(&f, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	free(buf);
}

/* Several frames in one buffer: every kind, extreme tags and corrs,
 * empty and rich bodies; all decode back, in order, and nothing more. */
static void
test_roundtrip_many(void **state)
{
	msgpack_sbuffer sb;
	tri_frame want[2 * TRI_K_MAX_];
	int nframes = 0;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, off = 0;
	static const uint8_t one = 0x2a;

	(void)state;
	msgpack_sbuffer_init(&sb);
	pack_rich_body(&sb);
	assert_int_equal(
	    tri_body_check((const uint8_t *)sb.data, sb.size), TR_OK);

	for (int k = TRI_K_USER; k < TRI_K_MAX_; k++) {
		tri_frame a = mkframe((uint8_t)k, 0xffffffffu - (uint32_t)k,
		    sb.data, (uint32_t)sb.size);
		tri_frame b = mkframe((uint8_t)k, (uint32_t)k, NULL, 0);

		a.corr = 0xfedcba9876543210ull ^ (uint64_t)k;
		a.sender.gen = 0x80000000u | (uint32_t)k;
		b.corr = 0;
		b.tag = TR_TAG_SYSTEM | (uint32_t)k;
		b.dest = TR_REF_NIL;
		if (k % 3 == 0) {
			b.body = &one;
			b.body_len = 1;
		}
		want[nframes++] = a;
		want[nframes++] = b;
	}
	for (int i = 0; i < nframes; i++) {
		assert_int_equal(
		    tri_frame_encode(&want[i], BIG_MAX, &buf, &len, &cap),
		    TR_OK);
		assert_true(len <= cap);
	}

	for (int i = 0; i < nframes; i++) {
		tri_frame got;
		size_t before = off;

		memset(&got, 0xa5, sizeof(got));
		assert_int_equal(
		    tri_frame_decode(buf, len, &off, BIG_MAX, &got), TR_OK);
		assert_frame_equal(&want[i], &got);
		assert_int_equal(
		    off, before + TRI_FRAME_HDR + want[i].body_len);
		/* The body points into the buffer, right after its header. */
		assert_ptr_equal(got.body, buf + before + TRI_FRAME_HDR);
	}
	assert_int_equal(off, len);

	/* At the end of the buffer there is no further frame. */
	{
		tri_frame got;
		assert_int_equal(
		    tri_frame_decode(buf, len, &off, BIG_MAX, &got), TR_EPROTO);
		assert_int_equal(off, len);
	}
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

/* A body of exactly max_body bytes is fine; the cap is inclusive. */
static void
test_body_at_max(void **state)
{
	uint8_t body[1 + 15] = {0xaf}; /* fixstr of 15 */
	tri_frame f = mkframe(TRI_K_USER, 1, body, sizeof(body));
	tri_frame got;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, off = 0;

	(void)state;
	assert_int_equal(
	    tri_frame_encode(&f, sizeof(body), &buf, &len, &cap), TR_OK);
	assert_int_equal(
	    tri_frame_decode(buf, len, &off, sizeof(body), &got), TR_OK);
	assert_frame_equal(&f, &got);

	/* An empty body under a zero cap. */
	f = mkframe(TRI_K_STOP, 2, NULL, 0);
	assert_int_equal(tri_frame_encode(&f, 0, &buf, &len, &cap), TR_OK);
	assert_int_equal(tri_frame_decode(buf, len, &off, 0, &got), TR_OK);
	assert_frame_equal(&f, &got);
	assert_int_equal(off, len);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Decoding bad frames                                                 */
/* ------------------------------------------------------------------ */

/* Every proper prefix of a valid frame is truncated: TR_EPROTO, and the
 * offset stays put -- also when the frame follows a good one. */
static void
test_decode_truncated(void **state)
{
	msgpack_sbuffer sb;
	tri_frame first = mkframe(TRI_K_USER, 1, NULL, 0);
	tri_frame f, got;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, full;
	fence g;

	(void)state;
	msgpack_sbuffer_init(&sb);
	pack_rich_body(&sb);
	f = mkframe(TRI_K_REPLY, 9, sb.data, (uint32_t)sb.size);
	assert_int_equal(
	    tri_frame_encode(&f, BIG_MAX, &buf, &len, &cap), TR_OK);
	full = len;

	fence_init(&g);
	for (size_t n = 0; n < full; n++) {
		size_t off = 0;
		const uint8_t *p = fence_put(&g, buf, n);
		assert_int_equal(
		    tri_frame_decode(p, n, &off, BIG_MAX, &got), TR_EPROTO);
		assert_int_equal(off, 0);
	}
	{
		size_t off = 0;
		assert_int_equal(
		    tri_frame_decode(buf, full, &off, BIG_MAX, &got), TR_OK);
		assert_int_equal(off, full);
	}

	/* The same behind a complete frame. */
	len = 0;
	assert_int_equal(
	    tri_frame_encode(&first, BIG_MAX, &buf, &len, &cap), TR_OK);
	assert_int_equal(
	    tri_frame_encode(&f, BIG_MAX, &buf, &len, &cap), TR_OK);
	for (size_t n = TRI_FRAME_HDR; n < len; n++) {
		size_t off = 0;
		const uint8_t *p = fence_put(&g, buf, n);
		assert_int_equal(
		    tri_frame_decode(p, n, &off, BIG_MAX, &got), TR_OK);
		assert_int_equal(off, TRI_FRAME_HDR);
		assert_int_equal(
		    tri_frame_decode(p, n, &off, BIG_MAX, &got), TR_EPROTO);
		assert_int_equal(off, TRI_FRAME_HDR);
	}
	fence_fini(&g);
	free(buf);
	msgpack_sbuffer_destroy(&sb);
}

/* An offset already past the end is refused, not read from. */
static void
test_decode_offset_past_end(void **state)
{
	static const uint8_t body = 0x01;
	tri_frame f = mkframe(TRI_K_USER, 1, &body, 1);
	tri_frame got;
	uint8_t *buf;
	const uint8_t *p;
	size_t len, off;
	fence g;

	(void)state;
	buf = encode1(&f, &len);
	fence_init(&g);
	p = fence_put(&g, buf, len);
	off = len;
	assert_int_equal(
	    tri_frame_decode(p, len, &off, BIG_MAX, &got), TR_EPROTO);
	assert_int_equal(off, len);
	off = len + 1;
	assert_int_equal(
	    tri_frame_decode(p, len, &off, BIG_MAX, &got), TR_EPROTO);
	assert_int_equal(off, len + 1);
	off = SIZE_MAX;
	assert_int_equal(
	    tri_frame_decode(p, len, &off, BIG_MAX, &got), TR_EPROTO);
	assert_int_equal(off, SIZE_MAX);
	fence_fini(&g);
	free(buf);
}

/* Decodes a copy of a valid frame with byte i set to v; returns the code
 * and checks that the offset did not move on error. */
static int
decode_patched(size_t i, uint8_t v, uint32_t max_body)
{
	static const uint8_t body[] = {0x92, 0x01, 0xa1, 'x'};
	tri_frame f = mkframe(TRI_K_USER, 1, body, sizeof(body));
	tri_frame got;
	uint8_t *buf;
	size_t len, off = 0;
	int rv;
	fence g;

	buf = encode1(&f, &len);
	buf[i] = v;
	fence_init(&g);
	rv = tri_frame_decode(
	    fence_put(&g, buf, len), len, &off, max_body, &got);
	assert_int_equal(off, rv == TR_OK ? len : 0);
	fence_fini(&g);
	free(buf);
	return rv;
}

static void
test_decode_bad_version(void **state)
{
	(void)state;
	assert_int_equal(decode_patched(0, 0, BIG_MAX), TR_EPROTO);
	assert_int_equal(
	    decode_patched(0, TRI_FRAME_VERSION + 1, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(0, 0xff, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(0, TRI_FRAME_VERSION, BIG_MAX), TR_OK);
}

static void
test_decode_kind_zero(void **state)
{
	(void)state;
	assert_int_equal(decode_patched(1, 0, BIG_MAX), TR_EPROTO);
}

static void
test_decode_kind_too_big(void **state)
{
	(void)state;
	assert_int_equal(decode_patched(1, TRI_K_MAX_, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(1, TRI_K_MAX_ + 1, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(1, 0x80, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(1, 0xff, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(1, TRI_K_MAX_ - 1, BIG_MAX), TR_OK);
}

/* Only known flags pass: TRI_F_BUFS is the one there is. */
static void
test_decode_flags_nonzero(void **state)
{
	(void)state;
	assert_int_equal(decode_patched(2, TRI_F_BUFS, BIG_MAX), TR_OK);
	assert_int_equal(decode_patched(2, 0x02, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(2, 0x80, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(3, 0x01, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(3, 0x80, BIG_MAX), TR_EPROTO);
}

/* body_len over the receiver's cap: TR_EMSGSIZE, whatever follows. */
static void
test_decode_body_over_max(void **state)
{
	(void)state;
	/* body_len is 4 here: a cap of 3 refuses it, 4 takes it. */
	assert_int_equal(decode_patched(48, 4, 3), TR_EMSGSIZE);
	assert_int_equal(decode_patched(48, 4, 0), TR_EMSGSIZE);
	assert_int_equal(decode_patched(48, 4, 4), TR_OK);
	/* A huge length is refused by the cap before it is believed. */
	assert_int_equal(decode_patched(51, 0xff, TR_MSG_MAX), TR_EMSGSIZE);
	assert_int_equal(decode_patched(50, 0x01, 1u << 16), TR_EMSGSIZE);
}

/* body_len under the cap but past the end of the buffer. */
static void
test_decode_body_past_buffer(void **state)
{
	(void)state;
	assert_int_equal(decode_patched(48, 5, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(48, 0xff, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(51, 0xff, UINT32_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(51, 0x80, UINT32_MAX), TR_EPROTO);
}

/* A body_len shorter than the body leaves a value cut short (and the
 * rest would be read as the next frame). */
static void
test_decode_body_len_short(void **state)
{
	(void)state;
	assert_int_equal(decode_patched(48, 3, BIG_MAX), TR_EPROTO);
	assert_int_equal(decode_patched(48, 1, BIG_MAX), TR_EPROTO);
}

/* The body must be exactly one well-formed value. */
static void
test_decode_bad_body(void **state)
{
	static const uint8_t bodies[][3] = {
	    {0xc1, 0x00, 0x00}, /* never used */
	    {0x01, 0x02, 0x00}, /* two values (then a third) */
	    {0x92, 0x01, 0xc1}, /* bad value inside an array */
	    {0xdc, 0x00, 0x01}, /* array16 header cut short */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		tri_frame f = mkframe(TRI_K_USER, 1, bodies[i], 3);
		tri_frame got;
		uint8_t *buf;
		size_t len, off = 0;

		buf = encode1(&f, &len);
		assert_int_equal(
		    tri_frame_decode(buf, len, &off, BIG_MAX, &got), TR_EPROTO);
		assert_int_equal(off, 0);
		free(buf);
	}
}

/* ------------------------------------------------------------------ */
/* tri_body_check                                                      */
/* ------------------------------------------------------------------ */

static void
test_body_empty_ok(void **state)
{
	(void)state;
	assert_int_equal(tri_body_check(NULL, 0), TR_OK);
	BODY_CHECK(TR_OK, 0x00);
	BODY_CHECK(TR_OK, 0xc0);
	BODY_CHECK(TR_OK, 0x90);
	BODY_CHECK(TR_OK, 0x80);
	BODY_CHECK(TR_OK, 0xa0);
	BODY_CHECK(TR_OK, 0xc4, 0x00);
}

static void
test_body_trailing_bytes(void **state)
{
	(void)state;
	BODY_CHECK(TR_EPROTO, 0x91, 0x01, 0x02);
	BODY_CHECK(TR_EPROTO, 0xa1, 'a', 'b');
	BODY_CHECK(TR_EPROTO, 0xc0, 0x00);
	BODY_CHECK(TR_EPROTO, 0x80, 0x80);
	BODY_CHECK(TR_EPROTO, 0xcc, 0x01, 0xc1); /* even a bad byte */
}

static void
test_body_two_values(void **state)
{
	(void)state;
	BODY_CHECK(TR_EPROTO, 0x01, 0x02);
	BODY_CHECK(TR_EPROTO, 0xc0, 0xc0);
	BODY_CHECK(TR_EPROTO, 0x91, 0x01, 0x91, 0x01);
	BODY_CHECK(TR_EPROTO, 0x81, 0x01, 0x02, 0x03);
}

static void
test_body_c1(void **state)
{
	(void)state;
	BODY_CHECK(TR_EPROTO, 0xc1);
	BODY_CHECK(TR_EPROTO, 0x91, 0xc1);
	BODY_CHECK(TR_EPROTO, 0x81, 0xc1, 0x01); /* as a key */
	BODY_CHECK(TR_EPROTO, 0x81, 0x01, 0xc1); /* as a value */
	BODY_CHECK(TR_OK, 0xa1, 0xc1);           /* inside a str it's data */
	BODY_CHECK(TR_OK, 0xc4, 0x01, 0xc1);     /* and inside a bin */
}

static void
test_body_truncated_headers(void **state)
{
	(void)state;
	/* str8, str16, str32: length bytes missing, then payload short. */
	BODY_CHECK(TR_EPROTO, 0xd9);
	BODY_CHECK(TR_EPROTO, 0xd9, 0x02, 'a');
	BODY_CHECK(TR_EPROTO, 0xda, 0x00);
	BODY_CHECK(TR_EPROTO, 0xda, 0x00, 0x02, 'a');
	BODY_CHECK(TR_EPROTO, 0xdb);
	BODY_CHECK(TR_EPROTO, 0xdb, 0x00, 0x00, 0x00);
	BODY_CHECK(TR_EPROTO, 0xdb, 0x00, 0x00, 0x00, 0x02, 'a');
	BODY_CHECK(TR_EPROTO, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a');
	BODY_CHECK(TR_OK, 0xdb, 0x00, 0x00, 0x00, 0x01, 'a');
	/* bin8, bin16, bin32 */
	BODY_CHECK(TR_EPROTO, 0xc4);
	BODY_CHECK(TR_EPROTO, 0xc4, 0x01);
	BODY_CHECK(TR_EPROTO, 0xc5, 0x00);
	BODY_CHECK(TR_EPROTO, 0xc6, 0x00, 0x00, 0x00);
	BODY_CHECK(TR_EPROTO, 0xc6, 0x00, 0x00, 0x01, 0x00, 0x00);
	/* ext8/16/32: length, then the type byte, then data. */
	BODY_CHECK(TR_EPROTO, 0xc7);
	BODY_CHECK(TR_EPROTO, 0xc7, 0x00);       /* type missing */
	BODY_CHECK(TR_OK, 0xc7, 0x00, 0x05);     /* empty ext */
	BODY_CHECK(TR_EPROTO, 0xc7, 0x01, 0x05); /* data missing */
	BODY_CHECK(TR_EPROTO, 0xc8, 0x00);
	BODY_CHECK(TR_EPROTO, 0xc8, 0x00, 0x01, 0x05);
	BODY_CHECK(TR_EPROTO, 0xc9, 0x00, 0x00, 0x00);
	BODY_CHECK(TR_EPROTO, 0xc9, 0x00, 0x00, 0x00, 0x00);
	BODY_CHECK(TR_OK, 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00);
	/* fixext 1/2/4/8/16: type plus data */
	BODY_CHECK(TR_EPROTO, 0xd4, 0x05);
	BODY_CHECK(TR_EPROTO, 0xd5, 0x05, 0x00);
	BODY_CHECK(TR_EPROTO, 0xd6, 0x05, 0x00, 0x00, 0x00);
	BODY_CHECK(
	    TR_EPROTO, 0xd8, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	BODY_CHECK(
	    TR_OK, 0xd8, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	/* array16/32, map16/32 headers, and their items */
	BODY_CHECK(TR_EPROTO, 0xdc);
	BODY_CHECK(TR_EPROTO, 0xdc, 0x00);
	BODY_CHECK(TR_OK, 0xdc, 0x00, 0x00);
	BODY_CHECK(TR_EPROTO, 0xdc, 0x00, 0x02, 0x01);
	BODY_CHECK(TR_EPROTO, 0xdd, 0x00, 0x00, 0x00);
	BODY_CHECK(TR_EPROTO, 0xde, 0x00);
	BODY_CHECK(TR_EPROTO, 0xdf);
	BODY_CHECK(TR_EPROTO, 0xdf, 0x00, 0x00, 0x00);
	BODY_CHECK(
	    TR_EPROTO, 0xdf, 0x00, 0x00, 0x00, 0x01, 0x01); /* no value */
	BODY_CHECK(TR_OK, 0xdf, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02);
	BODY_CHECK(TR_EPROTO, 0x92, 0x01);
	BODY_CHECK(TR_EPROTO, 0x82, 0x01, 0x02, 0x03);
	/* fixed-size scalars */
	BODY_CHECK(TR_EPROTO, 0xcc);
	BODY_CHECK(TR_EPROTO, 0xd1, 0x00);
	BODY_CHECK(TR_EPROTO, 0xca, 0x00, 0x00, 0x00);
	BODY_CHECK(TR_EPROTO, 0xcb, 0, 0, 0, 0, 0, 0, 0);
	BODY_CHECK(TR_EPROTO, 0xcf, 0, 0, 0, 0, 0, 0, 0);
	BODY_CHECK(TR_EPROTO, 0xa3, 'a', 'b');
}

/* Every proper non-empty prefix of a valid value is refused (msgpack is
 * prefix-free), for a body that uses every kind of header. */
static void
test_body_every_prefix(void **state)
{
	msgpack_sbuffer sb;
	fence g;

	(void)state;
	msgpack_sbuffer_init(&sb);
	pack_rich_body(&sb);
	fence_init(&g);
	for (size_t n = 1; n < sb.size; n++) {
		assert_int_equal(
		    tri_body_check(fence_put(&g, sb.data, n), n), TR_EPROTO);
	}
	fence_fini(&g);
	assert_int_equal(
	    tri_body_check((const uint8_t *)sb.data, sb.size), TR_OK);
	msgpack_sbuffer_destroy(&sb);
}

/* Counts far beyond what the body holds are refused on sight: msgpack-c
 * would otherwise allocate for them.  The check itself allocates
 * nothing, so it gives the same answer with allocation failing. */
static void
test_body_lying_counts(void **state)
{
	(void)state;
	tri_alloc_fail_after(0);
	BODY_CHECK(TR_EPROTO, 0xdd, 0xff, 0xff, 0xff, 0xff);
	BODY_CHECK(TR_EPROTO, 0xdf, 0xff, 0xff, 0xff, 0xff);
	BODY_CHECK(TR_EPROTO, 0xdd, 0x80, 0x00, 0x00, 0x00, 0x01);
	BODY_CHECK(TR_EPROTO, 0xdc, 0xff, 0xff, 0x01);
	BODY_CHECK(TR_EPROTO, 0xde, 0x00, 0x02, 0x01, 0x01, 0x01);
	BODY_CHECK(TR_EPROTO, 0x9f, 0x01);
	/* A count that fits is fine. */
	BODY_CHECK(TR_OK, 0xdd, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02);
	BODY_CHECK(TR_OK, 0xdf, 0x00, 0x00, 0x00, 0x01, 0xc0, 0xc0);
	/* Lying str/bin/ext lengths likewise. */
	BODY_CHECK(TR_EPROTO, 0xdb, 0xff, 0xff, 0xff, 0xff);
	BODY_CHECK(TR_EPROTO, 0xc6, 0xff, 0xff, 0xff, 0xff);
	BODY_CHECK(TR_EPROTO, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01);
	tri_alloc_fail_after(-1);
}

/* BODY_MAX_DEPTH in frame.c: 31 levels of non-empty containers pass
 * (msgpack-c's unpack stack holds 32), 32 are refused. */
static void
test_body_nesting_limit(void **state)
{
	uint8_t b[64];
	size_t n;

	(void)state;
	n = nested(b, 31, 0x01);
	assert_int_equal(tri_body_check(b, n), TR_OK);
	assert_unpacks_exactly(b, n);

	n = nested(b, 32, 0x01);
	assert_int_equal(tri_body_check(b, n), TR_EPROTO);
	n = nested(b, 40, 0x01);
	assert_int_equal(tri_body_check(b, n), TR_EPROTO);

	/* An empty container at the bottom takes no level. */
	n = nested(b, 31, 0x90);
	assert_int_equal(tri_body_check(b, n), TR_OK);
	assert_unpacks_exactly(b, n);
	n = nested(b, 31, 0x80);
	assert_int_equal(tri_body_check(b, n), TR_OK);
	assert_unpacks_exactly(b, n);
	n = nested(b, 32, 0x90);
	assert_int_equal(tri_body_check(b, n), TR_EPROTO);

	/* Maps count as levels too: 31 nested {0: ...}. */
	for (int i = 0; i < 31; i++) {
		b[2 * i] = 0x81;
		b[2 * i + 1] = 0x00;
	}
	b[62] = 0xc0;
	assert_int_equal(tri_body_check(b, 63), TR_OK);
	assert_unpacks_exactly(b, 63);
	b[62] = 0x91; /* the innermost value becomes [nil]: 32 levels */
	b[63] = 0xc0;
	assert_int_equal(tri_body_check(b, 64), TR_EPROTO);

	/* Depth comes back: deep, then a sibling, then deep again. */
	{
		uint8_t w[2 + 31 + 31];
		size_t k = 0;
		w[k++] = 0x92;
		for (int i = 0; i < 30; i++) {
			w[k++] = 0x91;
		}
		w[k++] = 0x01;
		for (int i = 0; i < 30; i++) {
			w[k++] = 0x91;
		}
		w[k++] = 0x02;
		assert_int_equal(tri_body_check(w, k), TR_OK);
		assert_unpacks_exactly(w, k);
	}
}

/* Whatever tri_body_check accepts, msgpack-c unpacks as one value and
 * consumes it whole: random valid bodies, and random corruptions of
 * them (most rejected, the accepted ones checked the same way). */
static void
test_body_property_msgpack_agrees(void **state)
{
	rng r = {0x9e3779b97f4a7c15ull};
	unsigned accepted = 0, mutants_accepted = 0;
	fence g;

	(void)state;
	fence_init(&g);
	for (int i = 0; i < 3000; i++) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		uint8_t *b;
		size_t n;
		int budget;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		budget = 200;
		pack_random(&pk, &r, 1 + (int)rng_below(&r, 31), &budget);
		b = (uint8_t *)sb.data;
		n = sb.size;

		assert_int_equal(tri_body_check(b, n), TR_OK);
		assert_unpacks_exactly(b, n);
		accepted++;

		for (int m = 0; m < 20; m++) {
			uint8_t *c = malloc(n + 1);
			size_t cn = n;

			assert_non_null(c);
			memcpy(c, b, n);
			switch (rng_below(&r, 4)) {
			case 0: /* overwrite one byte */
				c[rng_below(&r, (uint32_t)n)] =
				    (uint8_t)rng_next(&r);
				break;
			case 1: /* flip one bit */
				c[rng_below(&r, (uint32_t)n)] ^=
				    (uint8_t)(1u << rng_below(&r, 8));
				break;
			case 2: /* cut the tail */
				cn = rng_below(&r, (uint32_t)n);
				break;
			default: { /* insert one byte */
				size_t at = rng_below(&r, (uint32_t)n + 1);
				memmove(c + at + 1, c + at, n - at);
				c[at] = (uint8_t)rng_next(&r);
				cn = n + 1;
				break;
			}
			}
			if (cn > 0 &&
			    tri_body_check(fence_put(&g, c, cn), cn) == TR_OK) {
				assert_unpacks_exactly(c, cn);
				mutants_accepted++;
			}
			free(c);
		}
		msgpack_sbuffer_destroy(&sb);
	}
	fence_fini(&g);
	assert_int_equal(accepted, 3000);
	/* Many corruptions stay valid (a changed int, a changed str byte):
	 * make sure the second half of the property was exercised. */
	assert_true(mutants_accepted > 1000);
}

/* ------------------------------------------------------------------ */
/* tri_frame_encode                                                    */
/* ------------------------------------------------------------------ */

static void
test_encode_over_max(void **state)
{
	static const uint8_t body[] = {0xa2, 'h', 'i'};
	tri_frame f = mkframe(TRI_K_USER, 1, body, sizeof(body));
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	(void)state;
	assert_int_equal(
	    tri_frame_encode(&f, sizeof(body) - 1, &buf, &len, &cap),
	    TR_EMSGSIZE);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(cap, 0);
	assert_int_equal(
	    tri_frame_encode(&f, 0, &buf, &len, &cap), TR_EMSGSIZE);
	assert_null(buf);

	/* Into a buffer that already holds a frame: it stays as it was. */
	assert_int_equal(
	    tri_frame_encode(&f, sizeof(body), &buf, &len, &cap), TR_OK);
	{
		uint8_t *was = buf;
		size_t wlen = len, wcap = cap;
		uint8_t copy[TRI_FRAME_HDR + sizeof(body)];

		memcpy(copy, buf, len);
		assert_int_equal(
		    tri_frame_encode(&f, 2, &buf, &len, &cap), TR_EMSGSIZE);
		assert_ptr_equal(buf, was);
		assert_int_equal(len, wlen);
		assert_int_equal(cap, wcap);
		assert_memory_equal(buf, copy, len);
	}
	free(buf);
}

static void
test_encode_nomem(void **state)
{
	uint8_t big[1000] = {0};
	static const uint8_t small[] = {0x01};
	tri_frame fb, fs = mkframe(TRI_K_USER, 1, small, sizeof(small));
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	(void)state;
	big[0] = 0xc5; /* bin16 of 997 bytes */
	big[1] = 0x03;
	big[2] = 0xe5;
	fb = mkframe(TRI_K_USER, 2, big, sizeof(big));
	assert_int_equal(tri_body_check(big, sizeof(big)), TR_OK);

	/* Empty buffer: nothing allocated, nothing changed. */
	tri_alloc_fail_after(0);
	assert_int_equal(
	    tri_frame_encode(&fs, BIG_MAX, &buf, &len, &cap), TR_ENOMEM);
	tri_alloc_fail_after(-1);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(cap, 0);

	/* A buffer with room: no allocation needed, so it succeeds. */
	assert_int_equal(
	    tri_frame_encode(&fs, BIG_MAX, &buf, &len, &cap), TR_OK);
	tri_alloc_fail_after(0);
	assert_int_equal(
	    tri_frame_encode(&fs, BIG_MAX, &buf, &len, &cap), TR_OK);
	tri_alloc_fail_after(-1);

	/* A buffer that must grow: TR_ENOMEM, and it is left as it was. */
	{
		uint8_t *was = buf;
		size_t wlen = len, wcap = cap, off = 0;
		uint8_t copy[2 * (TRI_FRAME_HDR + 1)];
		tri_frame got;

		assert_int_equal(wlen, sizeof(copy));
		memcpy(copy, buf, len);
		tri_alloc_fail_after(0);
		assert_int_equal(
		    tri_frame_encode(&fb, BIG_MAX, &buf, &len, &cap),
		    TR_ENOMEM);
		tri_alloc_fail_after(-1);
		assert_ptr_equal(buf, was);
		assert_int_equal(len, wlen);
		assert_int_equal(cap, wcap);
		assert_memory_equal(buf, copy, len);

		/* Still two good frames, and room to grow once allowed. */
		for (int i = 0; i < 2; i++) {
			assert_int_equal(
			    tri_frame_decode(buf, len, &off, BIG_MAX, &got),
			    TR_OK);
			assert_frame_equal(&fs, &got);
		}
		assert_int_equal(off, len);
		assert_int_equal(
		    tri_frame_encode(&fb, BIG_MAX, &buf, &len, &cap), TR_OK);
		assert_int_equal(
		    tri_frame_decode(buf, len, &off, BIG_MAX, &got), TR_OK);
		assert_frame_equal(&fb, &got);
		assert_int_equal(off, len);
	}
	free(buf);
}

/* The buffer grows as frames are appended; all of them survive it. */
static void
test_encode_grows(void **state)
{
	uint8_t body[300];
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, off = 0;

	(void)state;
	body[0] = 0xc5; /* bin16 of 297 bytes */
	body[1] = 0x01;
	body[2] = 0x29;
	for (size_t i = 3; i < sizeof(body); i++) {
		body[i] = (uint8_t)i;
	}
	/* About 18 KiB in 100 appends: growth is geometric, so a handful
	 * of allocations must do. */
	tri_alloc_fail_after(10);
	for (uint32_t i = 0; i < 100; i++) {
		tri_frame f = mkframe(
		    TRI_K_USER, i, body, i % 2 ? (uint32_t)sizeof(body) : 0);
		assert_int_equal(
		    tri_frame_encode(&f, BIG_MAX, &buf, &len, &cap), TR_OK);
		assert_true(len <= cap);
	}
	tri_alloc_fail_after(-1);
	for (uint32_t i = 0; i < 100; i++) {
		tri_frame got;
		assert_int_equal(
		    tri_frame_decode(buf, len, &off, BIG_MAX, &got), TR_OK);
		assert_int_equal(got.tag, i);
		assert_int_equal(got.body_len, i % 2 ? sizeof(body) : 0);
	}
	assert_int_equal(off, len);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_layout),
	    cmocka_unit_test(test_roundtrip_many),
	    cmocka_unit_test(test_body_at_max),
	    cmocka_unit_test(test_decode_truncated),
	    cmocka_unit_test(test_decode_offset_past_end),
	    cmocka_unit_test(test_decode_bad_version),
	    cmocka_unit_test(test_decode_kind_zero),
	    cmocka_unit_test(test_decode_kind_too_big),
	    cmocka_unit_test(test_decode_flags_nonzero),
	    cmocka_unit_test(test_decode_body_over_max),
	    cmocka_unit_test(test_decode_body_past_buffer),
	    cmocka_unit_test(test_decode_body_len_short),
	    cmocka_unit_test(test_decode_bad_body),
	    cmocka_unit_test(test_body_empty_ok),
	    cmocka_unit_test(test_body_trailing_bytes),
	    cmocka_unit_test(test_body_two_values),
	    cmocka_unit_test(test_body_c1),
	    cmocka_unit_test(test_body_truncated_headers),
	    cmocka_unit_test(test_body_every_prefix),
	    cmocka_unit_test(test_body_lying_counts),
	    cmocka_unit_test(test_body_nesting_limit),
	    cmocka_unit_test(test_body_property_msgpack_agrees),
	    cmocka_unit_test(test_encode_over_max),
	    cmocka_unit_test(test_encode_nomem),
	    cmocka_unit_test(test_encode_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
