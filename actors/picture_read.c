/*
 * picture_read.c -- reading a body into a picture's pointers, with
 * every type checked (tr_msg_unpackf).
 *
 * The reader does not unpack the body into msgpack objects: it walks
 * the bytes, checking each length against what is left, and converts
 * the values the picture asks for -- no allocation for numbers, refs,
 * bytes and unterminated strings, which is what most messages carry.
 * Only the letters that need objects or storage (m, and the
 * NUL-terminated copies of s) use the message's parsed body
 * (tr_msg_body) and its zone.  It reads in two passes: the first checks
 * everything and acquires what the second needs, the second writes the
 * caller's pointers, so that a body that does not match leaves them
 * untouched.  Bodies come from other processes: tests/fuzz/
 * fuzz_picture.c is this file's fuzz target.
 */
#include <limits.h>
#include <string.h>

#include "ctx.h"
#include "picture.h"

/* Where the reader is in a body. */
typedef struct reader {
	const uint8_t *p;
	size_t left;
} reader;

/* The head of one value: its kind and, for scalars, the value; for str,
 * bin and ext the payload (already consumed); for containers the count
 * of values that follow (not consumed). */
typedef struct value {
	enum {
		V_NIL,
		V_BOOL,
		V_INT,
		V_FLOAT,
		V_STR,
		V_BIN,
		V_EXT,
		V_ARRAY,
		V_MAP
	} kind;
	bool neg;     /* V_INT: below zero (then i holds it, else u) */
	bool b;       /* V_BOOL */
	uint64_t u;   /* V_INT >= 0 */
	int64_t i;    /* V_INT < 0 */
	double d;     /* V_FLOAT */
	int8_t ext;   /* V_EXT: its type */
	uint32_t len; /* V_STR, V_BIN, V_EXT: payload bytes */
	const uint8_t *ptr;
	uint64_t items; /* V_ARRAY, V_MAP: values that follow */
} value;

/* Big-endian, as msgpack writes them. */
static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t k = 0; k < n; k++) {
		v = (v << 8) | p[k];
	}
	return v;
}

/* Takes n bytes; false if fewer are left. */
static bool
take(reader *r, size_t n, const uint8_t **at)
{
	if (n > r->left) {
		return false;
	}
	*at = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static bool
take_uint(reader *r, size_t n, uint64_t *v)
{
	const uint8_t *at;

	if (!take(r, n, &at)) {
		return false;
	}
	*v = be(at, n);
	return true;
}

/* A signed integer of n bytes, two's complement. */
static void
set_signed(value *v, uint64_t raw, size_t n)
{
	int64_t x;

	if (n < 8 && (raw & ((uint64_t)1 << (8 * n - 1))) != 0) {
		raw |= ~(((uint64_t)1 << (8 * n)) - 1); /* sign-extend */
	}
	memcpy(&x, &raw, sizeof(x));
	v->kind = V_INT;
	v->neg = x < 0;
	if (v->neg) {
		v->i = x;
	} else {
		v->u = (uint64_t)x;
	}
}

/* A payload of len bytes (str, bin, ext data). */
static bool
take_payload(reader *r, value *v, uint64_t len)
{
	if (len > r->left) {
		return false;
	}
	v->len = (uint32_t)len;
	return take(r, (size_t)len, &v->ptr);
}

/* Reads the head of the next value; false for a truncated or invalid
 * one (0xc1 is never used). */
static bool
read_head(reader *r, value *v)
{
	const uint8_t *at;
	uint64_t x;
	uint8_t t;

	memset(v, 0, sizeof(*v));
	if (!take(r, 1, &at)) {
		return false;
	}
	t = *at;
	if (t <= 0x7f) {
		v->kind = V_INT;
		v->u = t;
		return true;
	}
	if (t >= 0xe0) {
		set_signed(v, t, 1);
		return true;
	}
	if (t <= 0x8f) {
		v->kind = V_MAP;
		v->items = 2u * (t & 0x0fu); /* keys and values */
		return true;
	}
	if (t <= 0x9f) {
		v->kind = V_ARRAY;
		v->items = t & 0x0fu;
		return true;
	}
	if (t <= 0xbf) {
		v->kind = V_STR;
		return take_payload(r, v, t & 0x1fu);
	}
	switch (t) {
	case 0xc0:
		v->kind = V_NIL;
		return true;
	case 0xc2:
	case 0xc3:
		v->kind = V_BOOL;
		v->b = t == 0xc3;
		return true;
	case 0xc4: /* bin 8, 16, 32 */
	case 0xc5:
	case 0xc6:
		v->kind = V_BIN;
		return take_uint(r, (size_t)1 << (t - 0xc4), &x) &&
		    take_payload(r, v, x);
	case 0xc7: /* ext 8, 16, 32: length, type, data */
	case 0xc8:
	case 0xc9:
		v->kind = V_EXT;
		if (!take_uint(r, (size_t)1 << (t - 0xc7), &x) ||
		    !take(r, 1, &at)) {
			return false;
		}
		v->ext = (int8_t)*at;
		return take_payload(r, v, x);
	case 0xca: {
		float f;
		uint32_t bits;
		if (!take_uint(r, 4, &x)) {
			return false;
		}
		bits = (uint32_t)x;
		memcpy(&f, &bits, sizeof(f));
		v->kind = V_FLOAT;
		v->d = f;
		return true;
	}
	case 0xcb:
		if (!take_uint(r, 8, &x)) {
			return false;
		}
		memcpy(&v->d, &x, sizeof(v->d));
		v->kind = V_FLOAT;
		return true;
	case 0xcc: /* uint 8, 16, 32, 64 */
	case 0xcd:
	case 0xce:
	case 0xcf:
		v->kind = V_INT;
		return take_uint(r, (size_t)1 << (t - 0xcc), &v->u);
	case 0xd0: /* int 8, 16, 32, 64 */
	case 0xd1:
	case 0xd2:
	case 0xd3:
		if (!take_uint(r, (size_t)1 << (t - 0xd0), &x)) {
			return false;
		}
		set_signed(v, x, (size_t)1 << (t - 0xd0));
		return true;
	case 0xd4: /* fixext 1, 2, 4, 8, 16: type, data */
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		v->kind = V_EXT;
		if (!take(r, 1, &at)) {
			return false;
		}
		v->ext = (int8_t)*at;
		return take_payload(r, v, (uint64_t)1 << (t - 0xd4));
	case 0xd9: /* str 8, 16, 32 */
	case 0xda:
	case 0xdb:
		v->kind = V_STR;
		return take_uint(r, (size_t)1 << (t - 0xd9), &x) &&
		    take_payload(r, v, x);
	case 0xdc: /* array 16, 32 */
	case 0xdd:
		v->kind = V_ARRAY;
		return take_uint(r, t == 0xdc ? 2 : 4, &v->items);
	case 0xde: /* map 16, 32 */
	case 0xdf:
		v->kind = V_MAP;
		if (!take_uint(r, t == 0xde ? 2 : 4, &v->items)) {
			return false;
		}
		v->items *= 2; /* keys and values */
		return true;
	default:
		return false; /* 0xc1 */
	}
}

/* Skips the children of a container just read: each takes at least one
 * byte, so a count larger than what is left is a lie, refused before
 * any loop runs on it. */
static bool
skip_items(reader *r, uint64_t items, int depth)
{
	if (items > r->left || depth > TRI_PIC_MAX_DEPTH) {
		return false;
	}
	for (uint64_t k = 0; k < items; k++) {
		value v;
		if (!read_head(r, &v)) {
			return false;
		}
		if ((v.kind == V_ARRAY || v.kind == V_MAP) &&
		    !skip_items(r, v.items, depth + 1)) {
			return false;
		}
	}
	return true;
}

/* Whether v fits letter c (integers: in the target's range). */
static bool
fits(char c, const value *v)
{
	switch (c) {
	case 'i':
		return v->kind == V_INT &&
		    (v->neg ? v->i >= INT_MIN : v->u <= INT_MAX);
	case 'u':
		return v->kind == V_INT && !v->neg && v->u <= UINT_MAX;
	case 'q':
		return v->kind == V_INT && (v->neg || v->u <= INT64_MAX);
	case 'Q':
		return v->kind == V_INT && !v->neg;
	case 'd':
		return v->kind == V_FLOAT;
	case '?':
		return v->kind == V_BOOL;
	case 's':
		return v->kind == V_STR &&
		    (v->len == 0 || memchr(v->ptr, 0, v->len) == NULL);
	case 'S':
		return v->kind == V_STR;
	case 'b':
		return v->kind == V_BIN;
	case 'r':
		return v->kind == V_EXT && v->ext == TR_MSGPACK_EXT_REF &&
		    v->len == 16;
	case 'n':
		return v->kind == V_NIL;
	default: /* 'm': anything */
		return true;
	}
}

/* Opens the body: the array's head, whose count must be the picture's
 * length.  An empty body is the empty picture. */
static int
open_body(tr_msg *msg, size_t n, reader *r)
{
	value v;

	r->p = tr_msg_data(msg);
	r->left = tr_msg_size(msg);
	if (r->left == 0) {
		return n == 0 ? TR_OK : TR_EPROTO;
	}
	if (!read_head(r, &v) || v.kind != V_ARRAY || v.items != n) {
		return TR_EPROTO;
	}
	return TR_OK;
}

/* The next element, checked against letter c (containers skipped). */
static bool
next_elem(reader *r, char c, value *v)
{
	if (!read_head(r, v) || !fits(c, v)) {
		return false;
	}
	return (v->kind != V_ARRAY && v->kind != V_MAP) ||
	    skip_items(r, v->items, 1);
}

/*
 * Pass one: checks every element against its letter and that nothing
 * follows the array; for m and s, gets the parsed body (*root) and one
 * block in the message's zone for the strings' copies (*strs).
 */
static int
check_body(
    tr_msg *msg, const char *pic, size_t n, msgpack_object *root, char **strs)
{
	size_t strs_len = 0;
	bool objects = false;
	reader r;
	value v;
	int rv;

	if ((rv = open_body(msg, n, &r)) != TR_OK) {
		return rv;
	}
	for (size_t k = 0; k < n; k++) {
		if (!next_elem(&r, pic[k], &v)) {
			return TR_EPROTO;
		}
		if (pic[k] == 's') {
			strs_len += (size_t)v.len + 1;
		}
		objects |= pic[k] == 'm' || pic[k] == 's';
	}
	if (r.left != 0) {
		return TR_EPROTO;
	}
	if (!objects) {
		return TR_OK;
	}
	/* The parse is kept with the message (tr_msg_body caches it), and
	 * with it the zone that the copies live in. */
	if ((rv = tr_msg_body(msg, root)) != TR_OK) {
		return rv;
	}
	if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != n) {
		return TR_EPROTO; /* cannot be, after the walk: be sure */
	}
	if (strs_len > 0 &&
	    (*strs = msgpack_zone_malloc(msg->zone, strs_len)) == NULL) {
		return TR_ENOMEM;
	}
	return TR_OK;
}

/* The copy of an s string into the block check_body() reserved. */
static const char *
copy_str(char **strs, const value *v)
{
	char *s = *strs;

	if (v->len > 0) {
		memcpy(s, v->ptr, v->len);
	}
	s[v->len] = '\0';
	*strs += (size_t)v->len + 1;
	return s;
}

/*
 * Pass two: writes each element to its pointers (NULL ones skipped).
 * Each pointer is fetched with its own type, as va_arg requires.
 */
static void
store_body(tr_msg *msg, const char *pic, size_t n, const msgpack_object *root,
    char *strs, va_list ap)
{
	reader r;
	value v;

	(void)open_body(msg, n, &r);
	for (size_t k = 0; k < n; k++) {
		(void)next_elem(&r, pic[k], &v);
		switch (pic[k]) {
		case 'i': {
			int *o = va_arg(ap, int *);
			if (o != NULL) {
				*o = v.neg ? (int)v.i : (int)v.u;
			}
			break;
		}
		case 'u': {
			unsigned *o = va_arg(ap, unsigned *);
			if (o != NULL) {
				*o = (unsigned)v.u;
			}
			break;
		}
		case 'q': {
			int64_t *o = va_arg(ap, int64_t *);
			if (o != NULL) {
				*o = v.neg ? v.i : (int64_t)v.u;
			}
			break;
		}
		case 'Q': {
			uint64_t *o = va_arg(ap, uint64_t *);
			if (o != NULL) {
				*o = v.u;
			}
			break;
		}
		case 'd': {
			double *o = va_arg(ap, double *);
			if (o != NULL) {
				*o = v.d;
			}
			break;
		}
		case '?': {
			bool *o = va_arg(ap, bool *);
			if (o != NULL) {
				*o = v.b;
			}
			break;
		}
		case 's': {
			const char **o = va_arg(ap, const char **);
			/* Copied even if not wanted: strs holds them all. */
			const char *s = copy_str(&strs, &v);
			if (o != NULL) {
				*o = s;
			}
			break;
		}
		case 'S': {
			const char **o = va_arg(ap, const char **);
			size_t *len = va_arg(ap, size_t *);
			if (o != NULL) {
				*o = (const char *)v.ptr;
			}
			if (len != NULL) {
				*len = v.len;
			}
			break;
		}
		case 'b': {
			const void **o = va_arg(ap, const void **);
			size_t *len = va_arg(ap, size_t *);
			if (o != NULL) {
				*o = v.ptr;
			}
			if (len != NULL) {
				*len = v.len;
			}
			break;
		}
		case 'r': {
			tr_ref *o = va_arg(ap, tr_ref *);
			msgpack_object e;
			e.type = MSGPACK_OBJECT_EXT;
			e.via.ext.type = v.ext;
			e.via.ext.size = v.len;
			e.via.ext.ptr = (const char *)v.ptr;
			if (o != NULL) {
				(void)tr_unpack_ref(&e, o);
			}
			break;
		}
		case 'n':
			break;
		case 'm': {
			msgpack_object *o = va_arg(ap, msgpack_object *);
			if (o != NULL) {
				*o = root->via.array.ptr[k];
			}
			break;
		}
		}
	}
}

int
tr_msg_vunpackf(tr_msg *msg, const char *pic, va_list ap)
{
	msgpack_object root;
	char *strs = NULL;
	va_list aq;
	size_t n;
	int rv;

	if (msg == NULL || tri_picture_len(pic, &n) != TR_OK) {
		return TR_EINVAL;
	}
	if ((rv = check_body(msg, pic, n, &root, &strs)) != TR_OK) {
		return rv;
	}
	va_copy(aq, ap);
	store_body(msg, pic, n, &root, strs, aq);
	va_end(aq);
	return TR_OK;
}

int
tr_msg_unpackf(tr_msg *msg, const char *pic, ...)
{
	va_list ap;
	int rv;

	va_start(ap, pic);
	rv = tr_msg_vunpackf(msg, pic, ap);
	va_end(ap);
	return rv;
}
