/*
 * fuzz_frame.c -- libFuzzer target for the wire frame codec.
 *
 * The input is an nng message as a peer might send it: frames back to
 * back.  Every frame tri_frame_decode() accepts must hold what the
 * decoder promises: its body lies inside the input, is exactly one
 * msgpack value that msgpack-c unpacks whole (or is empty), and encoding
 * the decoded frame again gives back the very bytes it came from.  Any
 * broken promise aborts, and so does any over-read (ASan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "frame.h"

#define FUZZ_MAX_BODY (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, size_t off)
{
	fprintf(stderr, "fuzz_frame: %s (frame at offset %zu)\n", what, off);
	abort();
}

static void
check_body(const tri_frame *f, size_t at)
{
	msgpack_unpacked u;
	msgpack_unpack_return r;
	size_t off = 0;

	if (f->body_len == 0) {
		return;
	}
	msgpack_unpacked_init(&u);
	r = msgpack_unpack_next(&u, (const char *)f->body, f->body_len, &off);
	msgpack_unpacked_destroy(&u);
	if (r != MSGPACK_UNPACK_SUCCESS) {
		fail("accepted body does not unpack", at);
	}
	if (off != f->body_len) {
		fail("accepted body is not exactly one value", at);
	}
}

static void
check_reencode(const tri_frame *f, const uint8_t *orig, size_t at)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (tri_frame_encode(f, FUZZ_MAX_BODY, &buf, &len, &cap) != TR_OK) {
		fail("accepted frame does not encode", at);
	}
	if (len != TRI_FRAME_HDR + (size_t)f->body_len ||
	    memcmp(buf, orig, len) != 0) {
		fail("accepted frame does not encode to its own bytes", at);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		tri_frame f;
		size_t at = off;
		int rv = tri_frame_decode(data, size, &off, FUZZ_MAX_BODY, &f);

		if (rv != TR_OK) {
			if (off != at) {
				fail("error moved the offset", at);
			}
			if (rv != TR_EPROTO && rv != TR_EMSGSIZE) {
				fail("unexpected error code", at);
			}
			break; /* the rest cannot be trusted */
		}
		if (off != at + TRI_FRAME_HDR + f.body_len || off > size) {
			fail("offset not advanced by exactly one frame", at);
		}
		if (f.body != data + at + TRI_FRAME_HDR) {
			fail("body does not point after the header", at);
		}
		if (f.kind == 0 || f.kind >= TRI_K_MAX_ ||
		    f.body_len > FUZZ_MAX_BODY) {
			fail("accepted a bad kind or size", at);
		}
		if (tri_body_check(f.body, f.body_len) != TR_OK) {
			fail("tri_body_check disagrees with decode", at);
		}
		check_body(&f, at);
		check_reencode(&f, data + at, at);
	}
	return 0;
}
