/*
 * fuzz_buffer.c -- libFuzzer target for buffer refs in message bodies
 * (TR_MSGPACK_EXT_BUF), as a peer or a forger might send them.
 *
 * The input is a message body.  Promises checked:
 *  - the body walk (tri_body_walk) shows exactly the ext values msgpack-c
 *    finds, in order, each inside the body (where, type, size);
 *  - tr_unpack_buf() on any ext found refuses it (TR_EPROTO, counted in
 *    tr_stats.bad_buffers; TR_EINVAL for other ext types) unless it is
 *    the one genuine ref of the run, and never reads what it names: the
 *    node's one live buffer stays untouched.  The input may start with
 *    the genuine ref's bytes spliced in (first byte 'G'), so that the
 *    fuzzer mutates around a real name, node and key included.
 * Any broken promise aborts, and so does any over-read (ASan).
 * Needs TROUPE_RUNDIR (or a default run directory) to start a runtime.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <troupe.h>

#include "frame.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EXTS 4096

static tr_buf genuine;
static uint8_t genuine_ext[32];

typedef struct seen {
	size_t n;
	size_t off[MAX_EXTS];
	int8_t type[MAX_EXTS];
	uint32_t size[MAX_EXTS];
} seen;

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_buffer: %s\n", what);
	abort();
}

static int
on_ext(void *arg, int8_t type, size_t off, uint32_t size)
{
	seen *s = arg;

	if (s->n < MAX_EXTS) {
		s->off[s->n] = off;
		s->type[s->n] = type;
		s->size[s->n] = size;
	}
	s->n++;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	tr_msg *m;
	msgpack_object o;
	void *p;

	(void)argc;
	(void)argv;
	if (tr_init(NULL) != TR_OK || tr_buf_new(&genuine, 4096) != TR_OK ||
	    tr_msg_new(&m, 1) != TR_OK ||
	    tr_pack_buf(tr_msg_packer(m), genuine, TR_BUF_SHARE) != TR_OK ||
	    tr_msg_body(m, &o) != TR_OK || o.via.ext.size != 32) {
		fail("no runtime (set TROUPE_RUNDIR)");
	}
	memcpy(genuine_ext, o.via.ext.ptr, 32);
	tr_msg_free(m);
	(void)tr_buf_data(genuine, &p, NULL);
	memset(p, 0x77, 4096);
	return 0;
}

/* Every ext in o, in order, against what the walk saw. */
static void
compare(const msgpack_object *o, const uint8_t *body, size_t len, const seen *s,
    size_t *k)
{
	tr_stats before, after;
	tr_buf b;
	int rv;

	switch (o->type) {
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			compare(&o->via.array.ptr[i], body, len, s, k);
		}
		return;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			compare(&o->via.map.ptr[i].key, body, len, s, k);
			compare(&o->via.map.ptr[i].val, body, len, s, k);
		}
		return;
	case MSGPACK_OBJECT_EXT:
		break;
	default:
		return;
	}
	if (*k >= s->n) {
		fail("msgpack-c found an ext the walk did not");
	}
	if (*k < MAX_EXTS &&
	    ((const uint8_t *)o->via.ext.ptr != body + s->off[*k] ||
	        o->via.ext.type != s->type[*k] ||
	        o->via.ext.size != s->size[*k] ||
	        s->off[*k] + s->size[*k] > len)) {
		fail("the walk's ext differs from msgpack-c's");
	}
	(*k)++;
	(void)tr_stats_get(&before);
	rv = tr_unpack_buf(o, &b);
	(void)tr_stats_get(&after);
	if (o->via.ext.type != TR_MSGPACK_EXT_BUF) {
		if (rv != TR_EINVAL) {
			fail("another ext type was not refused as such");
		}
		return;
	}
	if (rv == TR_OK) {
		if (o->via.ext.size != 32 ||
		    memcmp(o->via.ext.ptr, genuine_ext, 24) != 0 ||
		    memcmp((const uint8_t *)o->via.ext.ptr + 24,
		        genuine_ext + 24, 8) != 0) {
			/* Only the holder proc (bytes 12..15) may differ. */
			if (o->via.ext.size != 32 ||
			    memcmp(o->via.ext.ptr, genuine_ext, 12) != 0 ||
			    memcmp((const uint8_t *)o->via.ext.ptr + 16,
			        genuine_ext + 16, 16) != 0) {
				fail("a ref that is not the genuine one was "
				     "accepted");
			}
		}
		(void)tr_buf_release(b);
		return;
	}
	if (rv != TR_EPROTO || after.bad_buffers != before.bad_buffers + 1) {
		fail("a bad ref was not refused with TR_EPROTO and counted");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone z;
	msgpack_object o;
	uint8_t *mem, *body;
	size_t len = size, off = 0, k = 0;
	seen *s;
	void *p;

	if (size > 0 && data[0] == 'G' && size >= 1 + 35) {
		/* ext8 header + the genuine ref, then the rest. */
		mem = malloc(size);
		memcpy(mem, data, size);
		mem[1] = 0xc7;
		mem[2] = 32;
		mem[3] = TR_MSGPACK_EXT_BUF;
		memcpy(mem + 4, genuine_ext, 32);
		body = mem + 1;
		len = size - 1;
	} else {
		mem = malloc(size ? size : 1);
		memcpy(mem, data, size);
		body = mem;
	}
	s = calloc(1, sizeof(*s));
	if (tri_body_walk(body, len, on_ext, s) == TR_OK && len > 0) {
		if (!msgpack_zone_init(&z, 1024)) {
			abort();
		}
		if (msgpack_unpack((const char *)body, len, &off, &z, &o) !=
		        MSGPACK_UNPACK_SUCCESS ||
		    off != len) {
			fail("an accepted body does not unpack whole");
		}
		compare(&o, body, len, s, &k);
		if (k != s->n) {
			fail("the walk found an ext msgpack-c did not");
		}
		msgpack_zone_destroy(&z);
	}
	(void)tr_buf_data(genuine, &p, NULL);
	if (((uint8_t *)p)[0] != 0x77 || ((uint8_t *)p)[4095] != 0x77) {
		fail("the genuine buffer was written");
	}
	free(mem);
	free(s);
	return 0;
}
