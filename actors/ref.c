/*
 * ref.c -- refs and exit reasons as values: compare, format, pack.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "troupe.h"
#include "troupe.h"

bool
tr_ref_equal(tr_ref a, tr_ref b)
{
	return a.node == b.node && a.proc == b.proc && a.slot == b.slot &&
	    a.gen == b.gen;
}

bool
tr_ref_is_nil(tr_ref r)
{
	return r.node == 0 && r.proc == 0 && r.slot == 0 && r.gen == 0;
}

char *
tr_ref_format(tr_ref r, char *buf, size_t len)
{
	if (buf != NULL && len > 0) {
		snprintf(
		    buf, len, "<%08x.%u.%u.%u>", r.node, r.proc, r.slot, r.gen);
	}
	return buf;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

int
tr_pack_ref(msgpack_packer *pk, tr_ref r)
{
	uint8_t b[16];

	if (pk == NULL) {
		return TR_EINVAL;
	}
	put_be32(b, r.node);
	put_be32(b + 4, r.proc);
	put_be32(b + 8, r.slot);
	put_be32(b + 12, r.gen);
	if (msgpack_pack_ext(pk, sizeof(b), TR_MSGPACK_EXT_REF) != 0 ||
	    msgpack_pack_ext_body(pk, b, sizeof(b)) != 0) {
		return TR_ENOMEM;
	}
	return TR_OK;
}

int
tr_unpack_ref(const msgpack_object *o, tr_ref *out)
{
	const uint8_t *b;

	if (o == NULL || out == NULL || o->type != MSGPACK_OBJECT_EXT ||
	    o->via.ext.type != TR_MSGPACK_EXT_REF || o->via.ext.size != 16) {
		return TR_EINVAL;
	}
	b = (const uint8_t *)o->via.ext.ptr;
	out->node = get_be32(b);
	out->proc = get_be32(b + 4);
	out->slot = get_be32(b + 8);
	out->gen = get_be32(b + 12);
	return TR_OK;
}

bool
tr_reason_is_abnormal(tr_reason r)
{
	return r.kind != TR_EXIT_NORMAL && r.kind != TR_EXIT_SHUTDOWN;
}

char *
tr_reason_format(tr_reason r, char *buf, size_t len)
{
	static const char *names[] = {"normal", "shutdown", "error", "killed",
	    "status", "signal", "noproc", "custom", "noconnection"};
	const char *n = ((unsigned)r.kind < sizeof(names) / sizeof(names[0])) ?
	    names[r.kind] :
	    "unknown";

	if (buf == NULL || len == 0) {
		return buf;
	}
	switch (r.kind) {
	case TR_EXIT_NORMAL:
	case TR_EXIT_SHUTDOWN:
	case TR_EXIT_KILL:
	case TR_EXIT_NOPROC:
		snprintf(buf, len, "%s", n);
		break;
	default:
		snprintf(buf, len, "%s(%d)", n, (int)r.code);
		break;
	}
	return buf;
}
