/*
 * fuzz_picture.c -- libFuzzer target for the picture reader
 * (tr_msg_unpackf, actors/picture.c), which reads bodies that come from
 * other processes.
 *
 * The input's first byte picks a picture, the rest is the body.  The
 * reader must answer TR_OK or TR_EPROTO (TR_ENOMEM at worst), never read
 * outside the body (ASan), and keep its promises when it accepts: the
 * body is then an array of the picture's length for msgpack-c too, s
 * strings are NUL-terminated copies of the right length, and S and b
 * point inside the body.  Any broken promise aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_picture: %s\n", what);
	abort();
}

/* Whether [p, p + len) lies in msg's body. */
static void
inside(const tr_msg *m, const void *p, size_t len)
{
	const uint8_t *b = tr_msg_data(m), *q = p;

	if (len > 0 && (q < b || q + len > b + tr_msg_size(m))) {
		fail("a pointer outside the body");
	}
}

static void
accepted(tr_msg *m, size_t n)
{
	msgpack_object o;

	if (tr_msg_size(m) == 0 && n == 0) {
		return;
	}
	if (tr_msg_body(m, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != n) {
		fail("accepted a body msgpack-c does not read as the picture");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int i;
	unsigned u;
	int64_t q;
	uint64_t uq;
	double d;
	bool b;
	const char *s, *str;
	const void *bin;
	size_t str_len, bin_len;
	tr_ref r;
	msgpack_object m1, m2;
	tr_msg *m;
	int rv;

	if (size < 1 || tr_msg_new(&m, 1) != TR_OK) {
		return 0;
	}
	if (size > 1 &&
	    msgpack_pack_bin_body(tr_msg_packer(m), data + 1, size - 1) != 0) {
		tr_msg_free(m);
		return 0;
	}
	switch (data[0] % 7) {
	case 0:
		rv = tr_msg_unpackf(m, "iuqQd?", &i, &u, &q, &uq, &d, &b);
		if (rv == TR_OK) {
			accepted(m, 6);
		}
		break;
	case 1:
		rv = tr_msg_unpackf(
		    m, "sSb", &s, &str, &str_len, &bin, &bin_len);
		if (rv == TR_OK) {
			accepted(m, 3);
			inside(m, str, str_len);
			inside(m, bin, bin_len);
			(void)strlen(s); /* ASan: terminated inside its copy */
		}
		break;
	case 2:
		rv = tr_msg_unpackf(m, "rnm", &r, &m1);
		if (rv == TR_OK) {
			accepted(m, 3);
		}
		break;
	case 3:
		rv = tr_msg_unpackf(m, "iuqQd?sSbrnm", &i, &u, &q, &uq, &d, &b,
		    &s, &str, &str_len, &bin, &bin_len, &r, &m1);
		if (rv == TR_OK) {
			accepted(m, 12);
		}
		break;
	case 4:
		rv = tr_msg_unpackf(m, "mm", &m1, &m2);
		if (rv == TR_OK) {
			accepted(m, 2);
		}
		break;
	case 5:
		rv = tr_msg_unpackf(m, "s", &s);
		if (rv == TR_OK) {
			accepted(m, 1);
			(void)strlen(s);
		}
		break;
	default:
		rv = tr_msg_unpackf(m, "");
		if (rv == TR_OK) {
			accepted(m, 0);
		}
		break;
	}
	if (rv != TR_OK && rv != TR_EPROTO && rv != TR_ENOMEM) {
		fail("an error other than TR_EPROTO");
	}
	tr_msg_free(m);
	return 0;
}
